/*
 * model/bitset.h - a set of page indices: 512-bit bitmaps found through a
 * JudyL keyed by index / 512.
 *
 * The host's resident and zero-page sets hold one bit per guest page and are
 * tested on every fault.  A Judy1 stores them as compactly but descends
 * several nodes per test over hundreds of millions of keys; bitmaps in a
 * pagemap (model/pagemap.h) cost one cached lookup and one line.
 */
#ifndef S2SIM_BITSET_H
#define S2SIM_BITSET_H

#include <stdbool.h>
#include <stdint.h>

#include "pagemap.h"

struct s2_bitset {
	struct s2_pagemap bitmaps;	/* index >> 9 -> uint64_t[8] */
};

bool s2_bitset_test(struct s2_bitset *set, uint64_t index);
void s2_bitset_set(struct s2_bitset *set, uint64_t index);
void s2_bitset_clear(struct s2_bitset *set, uint64_t index);
void s2_bitset_free(struct s2_bitset *set);

#endif
