/*
 * model/vmm.c - what the VMM does to stage-2 between the vCPUs' records:
 * dirty logging on and off, and host invalidations of an IPA range.  Every
 * vCPU waits at the barrier, so these take mmu_lock uncontended.
 */
#include "internal.h"

struct vmm_walk {
	struct s2_vm *vm;
	uint64_t cycles;
	uint64_t now;
	bool by_range;		/* one range TLBI after the walk (v6.6, FEAT_TLBIRANGE) */
};

static void wp_leaf(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte, void *opaque)
{
	struct vmm_walk *w = opaque;

	w->cycles += w->vm->prof->wp_per_pte;
	w->vm->c.wp_leaves++;
	if (pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W)
		s2pt_set(pgt, level, ipa, pte & ~KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W);
}

static void collect_block(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte,
			  void *opaque)
{
	struct s2_op b = { .level = level, .ipa = ipa, .old = pte };

	if (level < 3)
		g_array_append_val((GArray *)opaque, b);
}

/* Page leaves for [ipa, ipa + granule(level)) carrying @block's attributes. */
static uint64_t fill_split(struct s2_vm *vm, uint32_t level, uint64_t ipa, kvm_pte_t block)
{
	uint64_t entries = 0;

	s2pt_set(&vm->pgt, level, ipa, s2_make_table(0));
	vm->c.pt_pages_allocated++;
	for (uint64_t off = 0; off < s2_granule(level); off += s2_granule(level + 1)) {
		kvm_pte_t leaf = block + off;	/* the output address moves with the IPA */

		if (level + 1 < 3) {
			entries += fill_split(vm, level + 1, ipa + off, leaf);
			continue;
		}
		s2pt_set(&vm->pgt, 3, ipa + off, leaf | KVM_PTE_TYPE);
		entries++;
	}
	return entries;
}

/*
 * v6.5 kvm_mmu_split_memory_region() -> kvm_pgtable_stage2_split(): each
 * block becomes a subtree of PAGE_SIZE leaves with the same attributes,
 * built unlinked (no CMO, no TLBI inside it), then the block is broken
 * (TLBI by IPA) and the table made in its place.
 */
static void eager_split(struct s2_vm *vm, const struct s2_memslot *slot, struct vmm_walk *w)
{
	GArray *blocks = g_array_new(FALSE, FALSE, sizeof(struct s2_op));

	s2pt_for_each_leaf(&vm->pgt, slot->gpa, slot->gpa + slot->size, collect_block, blocks);
	for (guint i = 0; i < blocks->len; i++) {
		const struct s2_op *b = &g_array_index(blocks, struct s2_op, i);
		uint64_t pages = s2_granule(b->level) / s2_granule(3);

		s2pt_set(&vm->pgt, b->level, b->ipa, 0);
		w->cycles += fill_split(vm, b->level, b->ipa, b->old) * vm->prof->wp_per_pte;
		w->cycles += (pages / 512) * vm->prof->pt_page_alloc;
		vm->c.tlbi[S2_TLBI_SPLIT]++;
		w->cycles += s2_tlbi_cycles(vm, w->now + w->cycles, 2);
		vm->c.eager_splits++;
	}
	g_array_free(blocks, TRUE);
}

/*
 * kvm_arch_commit_memory_region() -> kvm_mmu_wp_memory_region(): under the
 * lock, stage2_wp_range() clears S2AP_W on every leaf of the slot (blocks
 * stay blocks), then kvm_flush_remote_tlbs() flushes the whole VMID; with
 * eager splitting (v6.5) the write-protected blocks are then split.
 */
static uint64_t dirty_log_on(struct s2_vm *vm, uint32_t slot_id, uint64_t now)
{
	int i = s2_trace_slot_index(&vm->hdr, slot_id);
	const struct s2_memslot *slot = &vm->hdr.slots[i];
	struct vmm_walk w = { .vm = vm, .cycles = vm->prof->lock_acquire, .now = now };

	vm->logging[i] = true;
	s2pt_for_each_leaf(&vm->pgt, slot->gpa, slot->gpa + slot->size, wp_leaf, &w);
	vm->c.tlbi[S2_TLBI_WP]++;
	w.cycles += s2_tlbi_cycles(vm, now + w.cycles, 1);
	if (vm->pol->eager_split)
		eager_split(vm, slot, &w);
	return w.cycles;
}

static void unmap_leaf(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte, void *opaque)
{
	struct vmm_walk *w = opaque;
	struct s2_vm *vm = w->vm;

	s2pt_set(pgt, level, ipa, 0);
	vm->c.unmapped_leaves++;
	if (!w->by_range) {
		vm->c.tlbi[S2_TLBI_UNMAP]++;
		w->cycles += s2_tlbi_cycles(vm, w->now + w->cycles, 2);
	}
	w->cycles += s2_dclean(vm, s2_granule(level), 0, S2_CMO_UNMAP);
}

/*
 * Tables left empty are freed bottom-up, each with its own TLBI
 * (stage2_unmap_walker: a table whose page count drops to 1).
 */
static void free_empty_tables(struct vmm_walk *w, uint64_t start, uint64_t end)
{
	struct s2_vm *vm = w->vm;

	for (uint32_t level = S2_LEVELS - 2; level + 1 > vm->pgt.start_level; level--) {
		for (uint64_t a = start & ~(s2_granule(level) - 1); a < end; a += s2_granule(level)) {
			kvm_pte_t pte = s2pt_get(&vm->pgt, level, a);

			if (kvm_pte_table(pte, level) && !s2_table_count(pte)) {
				s2pt_set(&vm->pgt, level, a, 0);
				if (w->by_range)
					continue;
				vm->c.tlbi[S2_TLBI_UNMAP]++;
				w->cycles += s2_tlbi_cycles(vm, w->now + w->cycles, 2);
			}
		}
		if (level == 0)
			break;
	}
}

/*
 * kvm_unmap_gfn_range() -> kvm_pgtable_stage2_unmap(): every valid leaf
 * that overlaps the range is cleared whole (a 4 KiB invalidation inside a
 * block unmaps the block), TLBI by IPA, and without FWB the leaf's granule
 * is cleaned to PoC before the page goes back to the host.  From v6.6 with
 * FEAT_TLBIRANGE the walk skips the per-entry TLBIs and one
 * kvm_tlb_flush_vmid_range() covers the range afterwards.
 */
uint64_t s2_unmap_range(struct s2_vm *vm, uint64_t ipa, uint64_t size, uint64_t now)
{
	struct vmm_walk w = { .vm = vm, .now = now };

	w.by_range = vm->pol->range_tlbi && vm->prof->tlbirange;
	s2pt_for_each_leaf(&vm->pgt, ipa, ipa + size, unmap_leaf, &w);
	free_empty_tables(&w, ipa, ipa + size);
	if (w.by_range) {
		vm->c.tlbi[S2_TLBI_UNMAP]++;
		w.cycles += s2_tlbi_cycles(vm, now + w.cycles, 2);
	}
	return w.cycles;
}

uint64_t s2_vm_vmm(struct s2_vm *vm, const struct s2_record *rec, uint64_t now)
{
	switch (rec->kind) {
	case S2_REC_DIRTY_LOG_ON:
		return dirty_log_on(vm, rec->arg, now);
	case S2_REC_DIRTY_LOG_OFF:
		vm->logging[s2_trace_slot_index(&vm->hdr, rec->arg)] = false;
		return 0;
	case S2_REC_UNMAP:
		return vm->prof->lock_acquire + s2_unmap_range(vm, rec->ipa, rec->size, now);
	default:
		return 0;
	}
}
