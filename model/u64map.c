/*
 * model/u64map.c - linear probing with backward-shift deletion (no
 * tombstones), at most 3/4 full.
 */
#include <glib.h>

#include "u64map.h"

static inline uint32_t home(const struct s2_u64map *m, uint64_t key1)
{
	return (uint32_t)((key1 * 0x9e3779b97f4a7c15ULL) >> 32) & m->mask;
}

/* The slot holding @key, or the free slot where it would go. */
static uint32_t probe(const struct s2_u64map *m, uint64_t key)
{
	uint32_t i = home(m, key + 1);

	while (m->keys[i] && m->keys[i] != key + 1)
		i = (i + 1) & m->mask;
	return i;
}

uint64_t s2_u64map_get(const struct s2_u64map *m, uint64_t key)
{
	uint32_t i;

	if (!m->len)
		return 0;
	i = probe(m, key);
	return m->keys[i] ? m->vals[i] : 0;
}

static void grow(struct s2_u64map *m)
{
	struct s2_u64map old = *m;
	uint32_t slots = old.keys ? (old.mask + 1) * 2 : 64;

	m->keys = g_new0(uint64_t, slots);
	m->vals = g_new(uint64_t, slots);
	m->mask = slots - 1;
	m->len = 0;
	for (uint32_t i = 0; old.keys && i <= old.mask; i++)
		if (old.keys[i])
			s2_u64map_put(m, old.keys[i] - 1, old.vals[i]);
	g_free(old.keys);
	g_free(old.vals);
}

void s2_u64map_put(struct s2_u64map *m, uint64_t key, uint64_t val)
{
	uint32_t i;

	g_assert(val && key != UINT64_MAX);
	if (!m->keys || (m->len + 1) * 4 > (m->mask + 1) * 3)
		grow(m);
	i = probe(m, key);
	if (!m->keys[i]) {
		m->keys[i] = key + 1;
		m->len++;
	}
	m->vals[i] = val;
}

/*
 * Entries after the hole move back into it when the hole lies on their
 * probe path, so that every lookup still finds its key before a free slot.
 */
void s2_u64map_remove(struct s2_u64map *m, uint64_t key)
{
	uint32_t hole, j;

	if (!m->len)
		return;
	hole = probe(m, key);
	if (!m->keys[hole])
		return;
	for (j = (hole + 1) & m->mask; m->keys[j]; j = (j + 1) & m->mask) {
		uint32_t h = home(m, m->keys[j]);

		if (((j - h) & m->mask) >= ((j - hole) & m->mask)) {
			m->keys[hole] = m->keys[j];
			m->vals[hole] = m->vals[j];
			hole = j;
		}
	}
	m->keys[hole] = 0;
	m->len--;
}

void s2_u64map_free(struct s2_u64map *m)
{
	g_free(m->keys);
	g_free(m->vals);
	*m = (struct s2_u64map){ 0 };
}
