/*
 * model/bitset.c - sets of page indices as 512-bit bitmaps in a pagemap.
 */
#include <glib.h>

#include "bitset.h"

#define BITMAP_BITS	512
#define BITMAP_WORDS	(BITMAP_BITS / 64)

static inline uint64_t word_mask(uint64_t index)
{
	return 1ULL << (index % 64);
}

static inline uint32_t word_of(uint64_t index)
{
	return index % BITMAP_BITS / 64;
}

bool s2_bitset_test(struct s2_bitset *set, uint64_t index)
{
	const uint64_t *bits = s2_pagemap_get(&set->bitmaps, index / BITMAP_BITS);

	return bits && (bits[word_of(index)] & word_mask(index));
}

void s2_bitset_set(struct s2_bitset *set, uint64_t index)
{
	uint64_t *bits = s2_pagemap_get_or_alloc(&set->bitmaps, index / BITMAP_BITS,
						 BITMAP_WORDS * sizeof(uint64_t));

	bits[word_of(index)] |= word_mask(index);
}

/* The last bit out takes its bitmap with it. */
void s2_bitset_clear(struct s2_bitset *set, uint64_t index)
{
	uint64_t *bits = s2_pagemap_get(&set->bitmaps, index / BITMAP_BITS);

	if (!bits)
		return;
	bits[word_of(index)] &= ~word_mask(index);
	for (uint32_t w = 0; w < BITMAP_WORDS; w++)
		if (bits[w])
			return;
	s2_pagemap_drop(&set->bitmaps, index / BITMAP_BITS);
}

void s2_bitset_free(struct s2_bitset *set)
{
	s2_pagemap_destroy(&set->bitmaps);
}
