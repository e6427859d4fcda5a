/*
 * model/s2pt.c - the stage-2 table: table pages of 512 entries per level,
 * as the hardware walks them.
 *
 * Each level's pages are found through a pagemap (model/pagemap.h) keyed by
 * the IPA above what one page covers, so a mapped 4 KiB page costs the 8
 * bytes of its PTE and an entry costs a cached lookup and an index, where a
 * JudyL per level cost 8.3 bytes and a ~200-instruction descent per entry.
 * A page below the root exists exactly while the table entry above it
 * counts entries in it (the kernel's page refcount on a table page): the
 * last entry cleared frees it, and a subtree freed with its table entry
 * takes its pages along.
 */
#include <glib.h>

#include "s2pt.h"

#define PTRS_PER_TABLE	512
#define LEAF_LEVEL	(S2_LEVELS - 1)

/* kvm_init_ipa_range()/stage2_pgtable_levels(): 4 KiB pages, up to 16 concatenated roots. */
static uint32_t stage2_levels(uint32_t ipa_bits)
{
	return (ipa_bits - 8) / 9;
}

void s2pt_init(struct s2_pgt *pgt, uint32_t ipa_bits)
{
	*pgt = (struct s2_pgt){ .ipa_bits = ipa_bits };
	pgt->start_level = S2_LEVELS - stage2_levels(ipa_bits);
}

void s2pt_destroy(struct s2_pgt *pgt)
{
	for (int l = 0; l < S2_LEVELS; l++)
		s2_pagemap_destroy(&pgt->tables[l]);
}

/* The key of the table page holding @level's entry for @ipa. */
static inline uint64_t table_key(uint32_t level, uint64_t ipa)
{
	return ipa >> s2_level_shift(level) >> 9;
}

static inline uint32_t pte_index(uint32_t level, uint64_t ipa)
{
	return (ipa >> s2_level_shift(level)) & (PTRS_PER_TABLE - 1);
}

/*
 * The table page holding @level's entry for @ipa, NULL if there is none.
 * Lookups go through the pagemap's cache, which is no part of the table's
 * state: a const table may refresh it.
 */
static kvm_pte_t *table_of(const struct s2_pgt *pgt, uint32_t level, uint64_t ipa)
{
	return s2_pagemap_get((struct s2_pagemap *)&pgt->tables[level], table_key(level, ipa));
}

kvm_pte_t s2pt_get(const struct s2_pgt *pgt, uint32_t level, uint64_t ipa)
{
	const kvm_pte_t *table = table_of(pgt, level, ipa);

	return table ? table[pte_index(level, ipa)] : 0;
}

kvm_pte_t s2_make_table(uint64_t count)
{
	return KVM_PTE_VALID | KVM_PTE_TYPE | (count << 12);
}

uint64_t s2_table_count(kvm_pte_t pte)
{
	return (pte & KVM_PTE_ADDR_MASK) >> 12;
}

static void account(struct s2_pgt *pgt, uint32_t level, kvm_pte_t pte, int64_t delta)
{
	if (kvm_pte_table(pte, level))
		pgt->nr_tables += delta;
	else if (kvm_pte_valid(pte))
		pgt->nr_leaves[level] += delta;
}

/*
 * The parent's count moves like the kernel's get_page()/put_page() on the
 * table page; returns it (the root, which nothing counts, reads as 1).
 */
static uint64_t count_in_parent(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, int delta)
{
	kvm_pte_t *parent;
	uint64_t count;

	if (level == pgt->start_level)
		return 1;
	parent = table_of(pgt, level - 1, ipa);
	g_assert(parent);
	parent += pte_index(level - 1, ipa);
	g_assert(kvm_pte_table(*parent, level - 1));
	count = s2_table_count(*parent) + delta;
	*parent = s2_make_table(count);
	return count;
}

void s2pt_set(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte)
{
	kvm_pte_t *table, *ptep, old;

	g_assert(level <= LEAF_LEVEL);
	table = pte ? s2_pagemap_get_or_alloc(&pgt->tables[level], table_key(level, ipa),
					      PTRS_PER_TABLE * sizeof(kvm_pte_t))
		    : table_of(pgt, level, ipa);
	if (!table)
		return;
	ptep = &table[pte_index(level, ipa)];
	old = *ptep;
	if (!old && !pte)
		return;
	pgt->gen++;
	account(pgt, level, old, -1);
	account(pgt, level, pte, +1);
	*ptep = pte;
	if (!old != !pte && !count_in_parent(pgt, level, ipa, pte ? +1 : -1))
		s2_pagemap_drop(&pgt->tables[level], table_key(level, ipa));
}

/* The table entry at @level over @ipa was detached: its page, and the pages below, go. */
uint64_t s2pt_free_subtree(struct s2_pgt *pgt, uint32_t level, uint64_t ipa)
{
	uint32_t child = level + 1;
	uint64_t base = ipa & ~(s2_granule(level) - 1);
	const kvm_pte_t *table;
	uint64_t freed = 0;

	if (child > LEAF_LEVEL || !(table = table_of(pgt, child, base)))
		return 0;
	for (uint32_t i = 0; i < PTRS_PER_TABLE; i++) {
		kvm_pte_t pte = table[i];

		if (!pte)
			continue;
		if (kvm_pte_table(pte, child))
			freed += s2pt_free_subtree(pgt, child, base + i * s2_granule(child));
		pgt->gen++;
		account(pgt, child, pte, -1);
		freed++;
	}
	s2_pagemap_drop(&pgt->tables[child], table_key(child, base));
	return freed;
}

/*
 * What the hardware walker finds, looked up from the bottom: a table page
 * below the root exists only under a valid table entry (a broken table's
 * subtree is dropped when it is broken), so the deepest page on the path is
 * where the walk ends - one cached lookup for a mapped page instead of one
 * per level.
 */
void s2pt_lookup(const struct s2_pgt *pgt, uint64_t ipa, struct s2_walk_result *res)
{
	for (uint32_t level = LEAF_LEVEL;; level--) {
		const kvm_pte_t *table = table_of(pgt, level, ipa);

		if (table) {
			kvm_pte_t pte = table[pte_index(level, ipa)];

			if (kvm_pte_table(pte, level)) {
				res->level = level + 1;	/* its page is gone: the entry below is empty */
				res->pte = 0;
			} else {
				res->level = level;	/* a leaf, LOCKED, or an empty entry */
				res->pte = pte;
			}
			return;
		}
		if (level == pgt->start_level) {
			res->level = level;		/* an empty root entry */
			res->pte = 0;
			return;
		}
	}
}

/* kvm_init_valid_leaf_pte() with the attributes stage2_set_prot_attr() derives from @prot. */
kvm_pte_t s2_make_leaf(uint64_t phys, uint32_t level, int prot, bool fwb)
{
	kvm_pte_t pte = (phys & KVM_PTE_ADDR_MASK) | KVM_PTE_VALID;

	if (level == 3)
		pte |= KVM_PTE_TYPE;
	pte |= (fwb ? S2_MEMATTR_FWB_NORMAL : S2_MEMATTR_NORMAL) << 2;
	pte |= KVM_PTE_LEAF_ATTR_LO_S2_SH_IS | KVM_PTE_LEAF_ATTR_LO_S2_AF;
	if (prot & KVM_PGTABLE_PROT_R)
		pte |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
	if (prot & KVM_PGTABLE_PROT_W)
		pte |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
	if (!(prot & KVM_PGTABLE_PROT_X))
		pte |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
	return pte;
}

/*
 * Entries of @level in [start, end), page by page and in order.  @fn may
 * clear entries, and the last one cleared in a page frees it: the page is
 * looked up again for every entry.
 */
static void walk_leaves(struct s2_pgt *pgt, uint32_t level, uint64_t start, uint64_t end,
			s2_leaf_fn fn, void *opaque)
{
	uint64_t gran = s2_granule(level);
	uint64_t key = table_key(level, start);

	while (s2_pagemap_next(&pgt->tables[level], &key) && key <= table_key(level, end - 1)) {
		uint64_t base = key << 9 << s2_level_shift(level);
		uint64_t to = MIN(end, base + PTRS_PER_TABLE * gran);
		const kvm_pte_t *table;

		for (uint64_t addr = MAX(start, base) & ~(gran - 1);
		     addr < to && (table = table_of(pgt, level, addr)); addr += gran) {
			kvm_pte_t pte = table[pte_index(level, addr)];

			if (kvm_pte_table(pte, level))
				walk_leaves(pgt, level + 1, MAX(start, addr), MIN(end, addr + gran),
					    fn, opaque);
			else if (kvm_pte_valid(pte))
				fn(pgt, level, addr, pte, opaque);
		}
		key++;
	}
}

void s2pt_for_each_leaf(struct s2_pgt *pgt, uint64_t start, uint64_t end,
			s2_leaf_fn fn, void *opaque)
{
	if (start < end)
		walk_leaves(pgt, pgt->start_level, start, end, fn, opaque);
}
