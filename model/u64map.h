/*
 * model/u64map.h - a small open-addressing map from 64-bit keys to non-zero
 * 64-bit values: the host's pages being populated, and the cycle each is
 * ready at.
 *
 * Every first touch inserts, looks up and removes one entry while only a
 * few hundred are live; a GHashTable's indirect hash calls and node
 * bookkeeping cost ~600 instructions a fault there, linear probing ~60.
 */
#ifndef S2SIM_U64MAP_H
#define S2SIM_U64MAP_H

#include <stdint.h>

/* All zeroes is an empty map. */
struct s2_u64map {
	uint64_t *keys;		/* key + 1; 0 marks a free slot */
	uint64_t *vals;
	uint32_t mask;		/* slots - 1, a power of two minus one */
	uint32_t len;
};

/* The value at @key, 0 when there is none. */
uint64_t s2_u64map_get(const struct s2_u64map *m, uint64_t key);
/* @val must not be 0. */
void s2_u64map_put(struct s2_u64map *m, uint64_t key, uint64_t val);
void s2_u64map_remove(struct s2_u64map *m, uint64_t key);
void s2_u64map_free(struct s2_u64map *m);

#endif
