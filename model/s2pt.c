/*
 * model/s2pt.c - the stage-2 table: Judy arrays per level above the last,
 * table pages of 512 entries at the last.
 *
 * Levels 0-2 hold few entries (one per 2 MiB at most) and are sparse, so each
 * is a JudyL keyed by ipa >> level shift.  Level 3 holds one entry per 4 KiB
 * page, and there a JudyL costs 8.3 bytes and a descent of several nodes per
 * entry; instead, like the hardware's, its entries live in 4 KiB table pages
 * of PTRS_PER_PTE, found through a JudyL keyed by ipa >> 21.  A page exists
 * while its level-2 table entry counts entries below it.  A mapped 4 KiB page
 * costs its 8 bytes, and a walk one lookup in a JudyL 512 times smaller.
 */
#include <Judy.h>
#include <glib.h>

#include "s2pt.h"

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

#define PTRS_PER_PTE	512
#define LEAF_LEVEL	(S2_LEVELS - 1)
#define TABLE_SHIFT	s2_level_shift(LEAF_LEVEL - 1)

static inline uint32_t pte_index(uint64_t ipa)
{
	return (ipa >> s2_level_shift(LEAF_LEVEL)) & (PTRS_PER_PTE - 1);
}

/*
 * The table page holding @ipa's last-level entry, NULL if there is none.
 * Lookups go through the pagemap's cache, which is no part of the table's
 * state: a const table may refresh it.
 */
static kvm_pte_t *leaf_table(const struct s2_pgt *pgt, uint64_t ipa)
{
	return s2_pagemap_get((struct s2_pagemap *)&pgt->leaf_tables, ipa >> TABLE_SHIFT);
}

static kvm_pte_t *leaf_table_alloc(struct s2_pgt *pgt, uint64_t ipa)
{
	return s2_pagemap_get_or_alloc(&pgt->leaf_tables, ipa >> TABLE_SHIFT,
				       PTRS_PER_PTE * sizeof(kvm_pte_t));
}

static void leaf_table_free(struct s2_pgt *pgt, uint64_t ipa)
{
	s2_pagemap_drop(&pgt->leaf_tables, ipa >> TABLE_SHIFT);
}

void s2pt_destroy(struct s2_pgt *pgt)
{
	Word_t bytes;

	for (int l = 0; l < LEAF_LEVEL; l++)
		JLFA(bytes, pgt->level[l]);
	(void)bytes;
	s2_pagemap_destroy(&pgt->leaf_tables);
}

kvm_pte_t s2pt_get(const struct s2_pgt *pgt, uint32_t level, uint64_t ipa)
{
	const kvm_pte_t *table;
	PWord_t pv;

	if (level >= LEAF_LEVEL) {
		table = leaf_table(pgt, ipa);
		return table ? table[pte_index(ipa)] : 0;
	}
	JLG(pv, pgt->level[level], ipa >> s2_level_shift(level));
	return pv ? *pv : 0;
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

/* The parent's count moves like the kernel's get_page()/put_page() on the table page. */
static uint64_t count_in_parent(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, int delta)
{
	PWord_t pv;
	uint64_t count;

	if (level == pgt->start_level)
		return 1;
	JLG(pv, pgt->level[level - 1], ipa >> s2_level_shift(level - 1));
	g_assert(pv && kvm_pte_table(*pv, level - 1));
	count = s2_table_count(*pv) + delta;
	*pv = s2_make_table(count);
	return count;
}

/* A last-level store: the table page comes with the first entry and goes with the last. */
static void set_leaf_level(struct s2_pgt *pgt, uint64_t ipa, kvm_pte_t pte)
{
	kvm_pte_t *table = pte ? leaf_table_alloc(pgt, ipa) : leaf_table(pgt, ipa);
	kvm_pte_t *ptep, old;

	if (!table)
		return;
	ptep = &table[pte_index(ipa)];
	old = *ptep;
	if (!old && !pte)
		return;
	pgt->gen++;
	account(pgt, LEAF_LEVEL, old, -1);
	account(pgt, LEAF_LEVEL, pte, +1);
	*ptep = pte;
	if (!old != !pte && !count_in_parent(pgt, LEAF_LEVEL, ipa, pte ? +1 : -1))
		leaf_table_free(pgt, ipa);
}

void s2pt_set(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte)
{
	uint64_t idx = ipa >> s2_level_shift(level);
	PWord_t pv;
	kvm_pte_t old;
	int rc;

	if (level >= LEAF_LEVEL) {
		set_leaf_level(pgt, ipa, pte);
		return;
	}
	if (pte) {
		JLI(pv, pgt->level[level], idx);	/* a new slot reads 0 */
	} else {
		JLG(pv, pgt->level[level], idx);
		if (!pv)
			return;
	}
	old = *pv;
	pgt->gen++;
	account(pgt, level, old, -1);
	account(pgt, level, pte, +1);
	if (!old != !pte)
		count_in_parent(pgt, level, ipa, pte ? +1 : -1);
	if (pte) {
		*pv = pte;
	} else {
		JLD(rc, pgt->level[level], idx);
		(void)rc;
	}
}

/* A detached last-level table page: its entries go with it. */
static uint64_t free_leaf_table(struct s2_pgt *pgt, uint64_t ipa)
{
	kvm_pte_t *table = leaf_table(pgt, ipa);
	uint64_t freed = 0;

	if (!table)
		return 0;
	for (uint32_t i = 0; i < PTRS_PER_PTE; i++) {
		if (!table[i])
			continue;
		pgt->gen++;
		account(pgt, LEAF_LEVEL, table[i], -1);
		freed++;
	}
	leaf_table_free(pgt, ipa);
	return freed;
}

uint64_t s2pt_free_subtree(struct s2_pgt *pgt, uint32_t level, uint64_t ipa)
{
	uint32_t child = level + 1;
	uint64_t base = ipa & ~(s2_granule(level) - 1);
	Word_t idx = base >> s2_level_shift(child);
	Word_t last = (base + s2_granule(level) - 1) >> s2_level_shift(child);
	uint64_t freed = 0;
	PWord_t pv;
	int rc;

	if (child >= LEAF_LEVEL)
		return free_leaf_table(pgt, base);
	JLF(pv, pgt->level[child], idx);
	while (pv && idx <= last) {
		kvm_pte_t pte = *pv;

		if (kvm_pte_table(pte, child))
			freed += s2pt_free_subtree(pgt, child, (uint64_t)idx << s2_level_shift(child));
		pgt->gen++;
		account(pgt, child, pte, -1);
		JLD(rc, pgt->level[child], idx);
		freed++;
		JLN(pv, pgt->level[child], idx);
	}
	(void)rc;
	return freed;
}

/*
 * What the hardware walker finds, looked up from the bottom: a non-zero
 * entry below the root exists only under valid tables (a broken table's
 * subtree is dropped when it is broken), so the deepest non-zero entry on
 * the path is where the walk ends - one Judy lookup for a mapped page
 * instead of one per level.  Likewise a last-level table page exists only
 * under a valid table entry, so once it is found the walk ends in it.
 */
void s2pt_lookup(const struct s2_pgt *pgt, uint64_t ipa, struct s2_walk_result *res)
{
	const kvm_pte_t *table = leaf_table(pgt, ipa);

	if (table) {
		res->level = LEAF_LEVEL;
		res->pte = table[pte_index(ipa)];
		return;
	}
	for (uint32_t level = LEAF_LEVEL - 1;; level--) {
		kvm_pte_t pte = s2pt_get(pgt, level, ipa);

		if (kvm_pte_table(pte, level)) {
			res->level = level + 1;	/* the entry below it was empty */
			res->pte = 0;
			return;
		}
		if (pte || level == pgt->start_level) {
			res->level = level;	/* a leaf, LOCKED, or an empty root entry */
			res->pte = pte;
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
 * The last level, page by page.  @fn may clear entries, and the last one
 * cleared frees its page: the page is looked up again for every entry.
 */
static void walk_leaf_level(struct s2_pgt *pgt, uint64_t start, uint64_t end, s2_leaf_fn fn,
			    void *opaque)
{
	uint64_t key = start >> TABLE_SHIFT;

	while (s2_pagemap_next(&pgt->leaf_tables, &key) && key <= (end - 1) >> TABLE_SHIFT) {
		uint64_t base = key << TABLE_SHIFT;
		uint64_t from = MAX(start, base), to = MIN(end, base + s2_granule(LEAF_LEVEL - 1));
		const kvm_pte_t *table;

		for (uint64_t addr = from & ~(s2_granule(LEAF_LEVEL) - 1);
		     addr < to && (table = leaf_table(pgt, addr)); addr += s2_granule(LEAF_LEVEL)) {
			kvm_pte_t pte = table[pte_index(addr)];

			if (kvm_pte_valid(pte))
				fn(pgt, LEAF_LEVEL, addr, pte, opaque);
		}
		key++;
	}
}

static void walk_leaves(struct s2_pgt *pgt, uint32_t level, uint64_t start, uint64_t end,
			s2_leaf_fn fn, void *opaque)
{
	uint32_t shift = s2_level_shift(level);
	Word_t idx = start >> shift;
	Word_t last = (end - 1) >> shift;
	PWord_t pv;

	if (level >= LEAF_LEVEL) {
		walk_leaf_level(pgt, start, end, fn, opaque);
		return;
	}
	JLF(pv, pgt->level[level], idx);
	while (pv && idx <= last) {
		kvm_pte_t pte = *pv;
		uint64_t addr = (uint64_t)idx << shift;

		if (kvm_pte_table(pte, level))
			walk_leaves(pgt, level + 1, MAX(start, addr),
				    MIN(end, addr + s2_granule(level)), fn, opaque);
		else if (kvm_pte_valid(pte))
			fn(pgt, level, addr, pte, opaque);
		JLN(pv, pgt->level[level], idx);
	}
}

void s2pt_for_each_leaf(struct s2_pgt *pgt, uint64_t start, uint64_t end,
			s2_leaf_fn fn, void *opaque)
{
	if (start < end)
		walk_leaves(pgt, pgt->start_level, start, end, fn, opaque);
}
