/*
 * tests/test_s2pt.c - how the stage-2 table and the host's page sets are
 * stored: pagemaps with a hashed cache, bitmaps, table pages, the in-flight
 * map.
 * Expected values follow from the kernel's table geometry (512 entries per
 * table, 4 KiB granule) and are worked out in the comments.
 */
#include <glib.h>

#include "bitset.h"
#include "pagemap.h"
#include "s2pt.h"
#include "u64map.h"

#define SZ_4K	0x1000ULL
#define SZ_2M	0x200000ULL
#define SZ_1G	0x40000000ULL

/* Two keys that share a cache slot: the later one must not be served the earlier's page. */
static void test_pagemap_cache_collisions(void)
{
	struct s2_pagemap m = { 0 };
	uint64_t a = 5, b = 6;
	uint64_t *pa, *pb;

	/* find b > a in a's slot: 2^10 slots, so within a few thousand keys */
	while (&m.cache[(b * 0x9e3779b97f4a7c15ULL) >> (64 - S2_PAGEMAP_CACHE_BITS)] !=
	       &m.cache[(a * 0x9e3779b97f4a7c15ULL) >> (64 - S2_PAGEMAP_CACHE_BITS)])
		b++;
	g_assert_null(s2_pagemap_get(&m, a));
	pa = s2_pagemap_get_or_alloc(&m, a, 64);
	g_assert_cmpuint(pa[7], ==, 0);		/* new pages are zeroes */
	pa[0] = 0xa;
	pb = s2_pagemap_get_or_alloc(&m, b, 64);
	g_assert_true(pb != pa);
	pb[0] = 0xb;
	g_assert_cmpuint(((uint64_t *)s2_pagemap_get(&m, a))[0], ==, 0xa);
	g_assert_cmpuint(((uint64_t *)s2_pagemap_get(&m, b))[0], ==, 0xb);
	g_assert_true(s2_pagemap_get_or_alloc(&m, a, 64) == pa);
	s2_pagemap_drop(&m, a);
	g_assert_null(s2_pagemap_get(&m, a));
	g_assert_cmpuint(((uint64_t *)s2_pagemap_get(&m, b))[0], ==, 0xb);
	s2_pagemap_drop(&m, b);
	g_assert_null(s2_pagemap_get(&m, b));
	s2_pagemap_destroy(&m);
}

static void test_pagemap_next_in_key_order(void)
{
	struct s2_pagemap m = { 0 };
	static const uint64_t keys[] = { 900, 3, 70000, 4 };
	static const uint64_t want[] = { 3, 4, 900, 70000 };
	uint64_t key = 0;
	int n = 0;

	for (int i = 0; i < 4; i++)
		*(uint64_t *)s2_pagemap_get_or_alloc(&m, keys[i], 8) = keys[i];
	while (s2_pagemap_next(&m, &key)) {
		g_assert_cmpint(n, <, 4);
		g_assert_cmpuint(key, ==, want[n]);
		g_assert_cmpuint(*(uint64_t *)s2_pagemap_get(&m, key), ==, want[n]);
		n++;
		key++;
	}
	g_assert_cmpint(n, ==, 4);
	s2_pagemap_destroy(&m);
	key = 0;
	g_assert_null(s2_pagemap_next(&m, &key));
	g_assert_null(s2_pagemap_get(&m, 3));	/* destroy emptied the cache too */
}

/* Bits 511 and 512 sit in two bitmaps; the last bit cleared frees its bitmap. */
static void test_bitset(void)
{
	struct s2_bitset set = { 0 };

	g_assert_false(s2_bitset_test(&set, 511));
	s2_bitset_set(&set, 511);
	s2_bitset_set(&set, 512);
	s2_bitset_set(&set, 64);
	g_assert_true(s2_bitset_test(&set, 511));
	g_assert_true(s2_bitset_test(&set, 512));
	g_assert_true(s2_bitset_test(&set, 64));
	g_assert_false(s2_bitset_test(&set, 63));
	g_assert_false(s2_bitset_test(&set, 65));
	g_assert_false(s2_bitset_test(&set, 513));
	s2_bitset_clear(&set, 511);
	g_assert_false(s2_bitset_test(&set, 511));
	g_assert_nonnull(s2_pagemap_get(&set.bitmaps, 0));	/* bit 64 keeps bitmap 0 */
	s2_bitset_clear(&set, 64);
	g_assert_null(s2_pagemap_get(&set.bitmaps, 0));
	s2_bitset_clear(&set, 512);
	g_assert_null(s2_pagemap_get(&set.bitmaps, 1));
	s2_bitset_clear(&set, 7);	/* absent: nothing to do */
	s2_bitset_free(&set);
}

/* A 40-bit IPA space starts at level 1; install level-1 and level-2 tables over @ipa. */
static void install_tables(struct s2_pgt *pgt, uint64_t ipa)
{
	s2pt_init(pgt, 40);
	g_assert_cmpuint(pgt->start_level, ==, 1);
	s2pt_set(pgt, 1, ipa, s2_make_table(0));
	s2pt_set(pgt, 2, ipa, s2_make_table(0));
}

/*
 * 3 leaves in one 2 MiB table: the level-2 entry counts 3, lookups end at
 * level 3; when all three go, so does the table page, and a lookup ends at
 * the empty level-3 slot below the still-valid level-2 table.
 */
static void test_leaf_table_page_lifetime(void)
{
	struct s2_pgt pgt;
	uint64_t base = 5 * SZ_1G + 7 * SZ_2M;
	kvm_pte_t leaf = s2_make_leaf(0x80000000ULL, 3, KVM_PGTABLE_PROT_R, false);
	struct s2_walk_result res;

	install_tables(&pgt, base);
	for (int i = 0; i < 3; i++)
		s2pt_set(&pgt, 3, base + i * 100 * SZ_4K, leaf + i * SZ_4K);
	g_assert_cmpuint(s2_table_count(s2pt_get(&pgt, 2, base)), ==, 3);
	g_assert_cmpuint(pgt.nr_leaves[3], ==, 3);
	s2pt_lookup(&pgt, base + 200 * SZ_4K, &res);
	g_assert_cmpuint(res.level, ==, 3);
	g_assert_cmphex(res.pte, ==, leaf + 2 * SZ_4K);
	s2pt_lookup(&pgt, base + 1 * SZ_4K, &res);	/* same page, empty slot */
	g_assert_cmpuint(res.level, ==, 3);
	g_assert_cmphex(res.pte, ==, 0);
	for (int i = 0; i < 3; i++)
		s2pt_set(&pgt, 3, base + i * 100 * SZ_4K, 0);
	g_assert_cmpuint(s2_table_count(s2pt_get(&pgt, 2, base)), ==, 0);
	g_assert_null(s2_pagemap_get(&pgt.tables[3], base >> 21));
	s2pt_lookup(&pgt, base, &res);
	g_assert_cmpuint(res.level, ==, 3);
	g_assert_cmphex(res.pte, ==, 0);
	s2pt_destroy(&pgt);
}

/* Freeing the level-2 table's subtree drops its 512 leaves and its page. */
static void test_free_subtree_drops_page(void)
{
	struct s2_pgt pgt;
	uint64_t base = 3 * SZ_2M;
	kvm_pte_t leaf = s2_make_leaf(0, 3, KVM_PGTABLE_PROT_R | KVM_PGTABLE_PROT_W, true);

	install_tables(&pgt, base);
	for (uint64_t off = 0; off < SZ_2M; off += SZ_4K)
		s2pt_set(&pgt, 3, base + off, leaf + off);
	g_assert_cmpuint(s2_table_count(s2pt_get(&pgt, 2, base)), ==, 512);
	g_assert_cmpuint(s2pt_free_subtree(&pgt, 2, base + 12345), ==, 512);
	g_assert_cmpuint(pgt.nr_leaves[3], ==, 0);
	g_assert_null(s2_pagemap_get(&pgt.tables[3], base >> 21));
	s2pt_destroy(&pgt);
}

struct unmap_walk {
	uint64_t seen, sum;
};

static void unmap_leaf(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte,
		       void *opaque)
{
	struct unmap_walk *w = opaque;

	g_assert_cmpuint(level, ==, 3);
	g_assert_cmphex(pte & KVM_PTE_ADDR_MASK, ==, ipa);	/* identity-mapped below */
	w->seen++;
	w->sum += ipa;
	s2pt_set(pgt, 3, ipa, 0);
}

/*
 * A walk over [2M + 4K, 6M) whose callback unmaps what it visits - the last
 * leaf of each table page frees the page mid-walk - visits every leaf in the
 * range once: 511 in the first table, 512 in the second, none beyond.
 */
static void test_walk_survives_unmapping_callback(void)
{
	struct s2_pgt pgt;
	struct unmap_walk w = { 0 };
	uint64_t want_sum = 0;

	s2pt_init(&pgt, 40);
	s2pt_set(&pgt, 1, 0, s2_make_table(0));
	for (uint64_t t = SZ_2M; t < 4 * SZ_2M; t += SZ_2M) {
		s2pt_set(&pgt, 2, t, s2_make_table(0));
		for (uint64_t off = 0; off < SZ_2M; off += SZ_4K)
			s2pt_set(&pgt, 3, t + off, s2_make_leaf(t + off, 3, KVM_PGTABLE_PROT_R, false));
	}
	for (uint64_t a = SZ_2M + SZ_4K; a < 3 * SZ_2M; a += SZ_4K)
		want_sum += a;
	s2pt_for_each_leaf(&pgt, SZ_2M + SZ_4K, 3 * SZ_2M, unmap_leaf, &w);
	g_assert_cmpuint(w.seen, ==, 511 + 512);
	g_assert_cmpuint(w.sum, ==, want_sum);
	g_assert_cmpuint(pgt.nr_leaves[3], ==, 1 + 512);	/* [2M, 2M+4K) and the third table */
	g_assert_null(s2_pagemap_get(&pgt.tables[3], 2));
	g_assert_nonnull(s2_pagemap_get(&pgt.tables[3], 1));
	s2pt_destroy(&pgt);
}

/*
 * 20000 seeded puts, overwrites and removes over 300 keys (so the table
 * grows, wraps and shifts entries back into holes) against a GHashTable.
 */
static void test_u64map_against_ghashtable(void)
{
	struct s2_u64map m = { 0 };
	GHashTable *ref = g_hash_table_new_full(g_int64_hash, g_int64_equal, g_free, g_free);
	GRand *rng = g_rand_new_with_seed(3);

	g_assert_cmpuint(s2_u64map_get(&m, 42), ==, 0);
	s2_u64map_remove(&m, 42);
	for (int step = 0; step < 20000; step++) {
		uint64_t key = (uint64_t)g_rand_int_range(rng, 0, 300) << 21;	/* aligned, like page indices */
		uint64_t val = 1 + g_rand_int(rng);

		if (g_rand_int_range(rng, 0, 3)) {
			s2_u64map_put(&m, key, val);
			g_hash_table_insert(ref, g_memdup2(&key, 8), g_memdup2(&val, 8));
		} else {
			s2_u64map_remove(&m, key);
			g_hash_table_remove(ref, &key);
		}
		g_assert_cmpuint(m.len, ==, g_hash_table_size(ref));
		for (uint64_t k = 0; k < 300; k += 7) {
			uint64_t kk = k << 21;
			uint64_t *want = g_hash_table_lookup(ref, &kk);

			g_assert_cmpuint(s2_u64map_get(&m, kk), ==, want ? *want : 0);
		}
	}
	g_rand_free(rng);
	g_hash_table_destroy(ref);
	s2_u64map_free(&m);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/s2pt/pagemap/cache-collisions", test_pagemap_cache_collisions);
	g_test_add_func("/s2pt/pagemap/next-in-key-order", test_pagemap_next_in_key_order);
	g_test_add_func("/s2pt/bitset/bits-and-bitmap-lifetime", test_bitset);
	g_test_add_func("/s2pt/leaf-table-page-lifetime", test_leaf_table_page_lifetime);
	g_test_add_func("/s2pt/free-subtree-drops-page", test_free_subtree_drops_page);
	g_test_add_func("/s2pt/walk-survives-unmapping-callback", test_walk_survives_unmapping_callback);
	g_test_add_func("/s2pt/u64map/against-ghashtable", test_u64map_against_ghashtable);
	return g_test_run();
}
