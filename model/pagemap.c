/*
 * model/pagemap.c - pages found through a JudyL, and a cache of the last
 * page seen at each of 1024 hashed slots.
 *
 * The slot is a multiplicative hash of the key: the vCPUs of a first-touch
 * or migration run walk regions a power of two apart, which would all land
 * on one slot if the key's low bits chose it.
 *
 * Pages come from slabs of 512, freed ones are reused.  For 4 KiB table
 * pages a slab is 2 MiB and asks for a transparent huge page, as the
 * kernel's own page tables come from its page allocator: a terabyte guest
 * needs half a million of them, one host page fault each from malloc, and
 * the few hundred a fault touches at a time then share a couple of TLB
 * entries instead of one each.
 */
#include <Judy.h>
#include <glib.h>
#include <errno.h>
#include <sys/mman.h>

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

#define SLAB_PAGES	512
#define HUGE_BYTES	(2UL << 20)

static void *slab_new(size_t bytes)
{
	void *slab = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (slab == MAP_FAILED)
		g_error("pagemap: mmap of a %zu-byte slab: %s", bytes, g_strerror(errno));
	if (bytes >= HUGE_BYTES)
		madvise(slab, bytes, MADV_HUGEPAGE);	/* a hint: fine if refused */
	return slab;
}

static void *page_alloc(struct s2_pagemap *m, size_t page_bytes)
{
	void *page = m->free_pages;

	g_assert(page_bytes >= sizeof(void *));	/* a free page holds the list link */
	g_assert(!m->page_bytes || m->page_bytes == page_bytes);
	m->page_bytes = page_bytes;
	if (page) {
		m->free_pages = *(void **)page;
		return memset(page, 0, page_bytes);
	}
	if (!m->nr_slabs || m->slab_used == SLAB_PAGES) {
		m->slabs = g_renew(void *, m->slabs, m->nr_slabs + 1);
		m->slabs[m->nr_slabs++] = slab_new(SLAB_PAGES * page_bytes);
		m->slab_used = 0;
	}
	return (char *)m->slabs[m->nr_slabs - 1] + (size_t)m->slab_used++ * page_bytes;
}

static void page_free(struct s2_pagemap *m, void *page)
{
	*(void **)page = m->free_pages;
	m->free_pages = page;
}

void *s2_pagemap_get_or_alloc(struct s2_pagemap *m, uint64_t key, size_t page_bytes)
{
	void *page = s2_pagemap_get(m, key);
	PWord_t pv;

	if (page)
		return page;
	page = page_alloc(m, page_bytes);
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
	page_free(m, (void *)*pv);
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
	Word_t bytes;

	JLFA(bytes, m->judy);
	(void)bytes;
	for (uint32_t i = 0; i < m->nr_slabs; i++)
		munmap(m->slabs[i], SLAB_PAGES * m->page_bytes);
	g_free(m->slabs);
	*m = (struct s2_pagemap){ 0 };
}
