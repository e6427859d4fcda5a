/*
 * model/pagemap.c - pages found through a JudyL, and a cache of the last
 * page seen at each of 1024 hashed slots.
 *
 * The slot is a multiplicative hash of the key: the vCPUs of a first-touch
 * or migration run walk regions a power of two apart, which would all land
 * on one slot if the key's low bits chose it.
 */
#include <Judy.h>
#include <glib.h>

#include "pagemap.h"

static inline struct s2_pagemap_cached *slot_of(struct s2_pagemap *m, uint64_t key)
{
	return &m->cache[(key * 0x9e3779b97f4a7c15ULL) >> (64 - S2_PAGEMAP_CACHE_BITS)];
}

void *s2_pagemap_get(struct s2_pagemap *m, uint64_t key)
{
	struct s2_pagemap_cached *c = slot_of(m, key);
	PWord_t pv;

	if (c->page && c->key == key)
		return c->page;
	JLG(pv, m->judy, key);
	if (!pv)
		return NULL;
	*c = (struct s2_pagemap_cached){ key, (void *)*pv };
	return c->page;
}

void *s2_pagemap_get_or_alloc(struct s2_pagemap *m, uint64_t key, size_t page_bytes)
{
	void *page = s2_pagemap_get(m, key);
	PWord_t pv;

	if (page)
		return page;
	page = g_malloc0(page_bytes);
	JLI(pv, m->judy, key);
	*pv = (Word_t)page;
	*slot_of(m, key) = (struct s2_pagemap_cached){ key, page };
	return page;
}

void s2_pagemap_drop(struct s2_pagemap *m, uint64_t key)
{
	struct s2_pagemap_cached *c = slot_of(m, key);
	PWord_t pv;
	int rc;

	if (c->key == key)
		c->page = NULL;
	JLG(pv, m->judy, key);
	if (!pv)
		return;
	g_free((void *)*pv);
	JLD(rc, m->judy, key);
	(void)rc;
}

void *s2_pagemap_next(const struct s2_pagemap *m, uint64_t *key)
{
	Word_t idx = *key;
	PWord_t pv;

	JLF(pv, m->judy, idx);
	if (!pv)
		return NULL;
	*key = idx;
	return (void *)*pv;
}

void s2_pagemap_destroy(struct s2_pagemap *m)
{
	Word_t idx = 0, bytes;
	PWord_t pv;

	JLF(pv, m->judy, idx);
	while (pv) {
		g_free((void *)*pv);
		JLN(pv, m->judy, idx);
	}
	JLFA(bytes, m->judy);
	(void)bytes;
	memset(m->cache, 0, sizeof(m->cache));
}
