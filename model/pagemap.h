/*
 * model/pagemap.h - a sparse map from an index to a fixed-size page, with a
 * small direct-mapped cache in front of its JudyL.
 *
 * Both the stage-2 table's last level (512 PTEs per 2 MiB of IPA) and the
 * host's page bit sets (512 bits per 2 MiB) are dense inside a page and
 * sparse across pages.  Every fault looks pages up several times, and a
 * JudyL descent costs about 200 instructions; most lookups hit the pages of
 * the few hundred vCPUs' current regions, which the cache keeps.
 */
#ifndef S2SIM_PAGEMAP_H
#define S2SIM_PAGEMAP_H

#include <stddef.h>
#include <stdint.h>

#define S2_PAGEMAP_CACHE_BITS	10

struct s2_pagemap_cached {
	uint64_t key;
	void *page;		/* NULL: the entry is empty */
};

/* All zeroes is an empty map. */
struct s2_pagemap {
	void *judy;		/* JudyL: key -> page */
	size_t page_bytes;	/* of every page: set by the first allocation */
	struct s2_pagemap_cached cache[1 << S2_PAGEMAP_CACHE_BITS];
	/* pages come from slabs of 512, freed ones are reused */
	void **slabs;
	uint32_t nr_slabs, slab_used;	/* pages handed out from the newest slab */
	void *free_pages;		/* a list threaded through the first word */
};

/* The page at @key, or NULL. */
void *s2_pagemap_get(struct s2_pagemap *m, uint64_t key);
/* The page at @key; a new one is @page_bytes of zeroes (the same for every page). */
void *s2_pagemap_get_or_alloc(struct s2_pagemap *m, uint64_t key, size_t page_bytes);
void s2_pagemap_drop(struct s2_pagemap *m, uint64_t key);
/* The first page at a key >= *@key, or NULL; *@key is set to its key. */
void *s2_pagemap_next(const struct s2_pagemap *m, uint64_t *key);
void s2_pagemap_destroy(struct s2_pagemap *m);

#endif
