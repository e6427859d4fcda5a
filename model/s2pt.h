/*
 * model/s2pt.h - the stage-2 page table of one VM, 4 KiB granule.
 *
 * Entries are kept in 512-entry table pages per level (model/s2pt.c),
 * each a PTE encoded as the kernel encodes it (arch/arm64/kvm/hyp/pgtable.c
 * @ v5.13/v5.14: valid bit, type bit, S2AP R/W, AF, XN, MemAttr), so that the
 * walker's rules (stage2_pte_needs_update() etc.) read like the kernel's.
 * A table entry points at no table page: its address field holds the number
 * of non-zero entries below it, which is what the kernel's page refcount on
 * the table page tracks (stage2_pte_is_counted, get_page/put_page).
 */
#ifndef S2SIM_S2PT_H
#define S2SIM_S2PT_H

#include <stdbool.h>
#include <stdint.h>

#include "pagemap.h"

typedef uint64_t kvm_pte_t;

#define S2_LEVELS		4
#define KVM_PTE_VALID		(1ULL << 0)
#define KVM_PTE_TYPE		(1ULL << 1)	/* table at level < 3, page at level 3 */
#define KVM_PTE_ADDR_MASK	0x0000fffffffff000ULL
#define KVM_PTE_LEAF_ATTR_LO_S2_MEMATTR	(0xfULL << 2)
#define KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R	(1ULL << 6)
#define KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W	(1ULL << 7)
#define KVM_PTE_LEAF_ATTR_LO_S2_SH_IS	(3ULL << 8)
#define KVM_PTE_LEAF_ATTR_LO_S2_AF	(1ULL << 10)
#define KVM_PTE_LEAF_ATTR_HI_S2_XN	(1ULL << 54)
#define KVM_PTE_LEAF_ATTR_S2_PERMS	(KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R | \
					 KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W | \
					 KVM_PTE_LEAF_ATTR_HI_S2_XN)
/* MemAttr encodings, arch/arm64/include/asm/memory.h: MT_S2_{FWB_,}NORMAL */
#define S2_MEMATTR_NORMAL	0xfULL
#define S2_MEMATTR_FWB_NORMAL	0x6ULL

enum kvm_pgtable_prot {
	KVM_PGTABLE_PROT_X = 1 << 0,
	KVM_PGTABLE_PROT_W = 1 << 1,
	KVM_PGTABLE_PROT_R = 1 << 2,
};

struct s2_pgt {
	struct s2_pagemap tables[S2_LEVELS];	/* ipa >> (level shift + 9) -> kvm_pte_t[512] */
	uint32_t ipa_bits;
	uint32_t start_level;
	uint64_t nr_tables;
	uint64_t nr_leaves[S2_LEVELS];
	uint64_t gen;			/* moves on every store: cached lookups check it */
};

void s2pt_init(struct s2_pgt *pgt, uint32_t ipa_bits);
void s2pt_destroy(struct s2_pgt *pgt);

static inline uint32_t s2_level_shift(uint32_t level)
{
	return 12 + 9 * (3 - level);
}

static inline uint64_t s2_granule(uint32_t level)
{
	return 1ULL << s2_level_shift(level);
}

static inline bool kvm_pte_valid(kvm_pte_t pte)
{
	return pte & KVM_PTE_VALID;
}

static inline bool kvm_pte_table(kvm_pte_t pte, uint32_t level)
{
	return level < 3 && kvm_pte_valid(pte) && (pte & KVM_PTE_TYPE);
}

static inline bool kvm_pte_leaf(kvm_pte_t pte, uint32_t level)
{
	return kvm_pte_valid(pte) && !kvm_pte_table(pte, level);
}

/* 1 GiB blocks at level 1, 2 MiB at level 2 (kvm_level_supports_block_mapping). */
static inline bool s2_level_allows_block(const struct s2_pgt *pgt, uint32_t level)
{
	return level >= 1 && level >= pgt->start_level;
}

kvm_pte_t s2pt_get(const struct s2_pgt *pgt, uint32_t level, uint64_t ipa);
/* Store @pte, keeping the parent table's count of non-zero entries. */
void s2pt_set(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte);
/* Entries below a detached table at @level covering @ipa: drop them, return how many. */
uint64_t s2pt_free_subtree(struct s2_pgt *pgt, uint32_t level, uint64_t ipa);

/* What the hardware walker finds for @ipa. */
struct s2_walk_result {
	uint32_t level;		/* of the leaf, or of the first invalid entry */
	kvm_pte_t pte;		/* the leaf, or the invalid entry found (0 or LOCKED) */
};
void s2pt_lookup(const struct s2_pgt *pgt, uint64_t ipa, struct s2_walk_result *res);

kvm_pte_t s2_make_leaf(uint64_t phys, uint32_t level, int prot, bool fwb);
kvm_pte_t s2_make_table(uint64_t count);
uint64_t s2_table_count(kvm_pte_t pte);

static inline bool stage2_pte_needs_update(kvm_pte_t old, kvm_pte_t new)
{
	if (!kvm_pte_valid(old) || !kvm_pte_valid(new))
		return true;
	return (old ^ new) & ~KVM_PTE_LEAF_ATTR_S2_PERMS;
}

static inline bool stage2_pte_executable(kvm_pte_t pte)
{
	return !(pte & KVM_PTE_LEAF_ATTR_HI_S2_XN);
}

/* Call @fn for every valid leaf overlapping [start, end). */
typedef void (*s2_leaf_fn)(struct s2_pgt *pgt, uint32_t level, uint64_t ipa,
			   kvm_pte_t pte, void *opaque);
void s2pt_for_each_leaf(struct s2_pgt *pgt, uint64_t start, uint64_t end,
			s2_leaf_fn fn, void *opaque);

#endif
