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
};

static void wp_leaf(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte, void *opaque)
{
	struct vmm_walk *w = opaque;

	w->cycles += w->vm->prof->wp_per_pte;
	w->vm->c.wp_leaves++;
	if (pte & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W)
		s2pt_set(pgt, level, ipa, pte & ~KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W);
}

/*
 * kvm_arch_commit_memory_region() -> kvm_mmu_wp_memory_region(): under the
 * lock, stage2_wp_range() clears S2AP_W on every leaf of the slot (blocks
 * stay blocks), then kvm_flush_remote_tlbs() flushes the whole VMID.
 */
static uint64_t dirty_log_on(struct s2_vm *vm, uint32_t slot_id, uint64_t now)
{
	int i = s2_trace_slot_index(&vm->hdr, slot_id);
	const struct s2_memslot *slot = &vm->hdr.slots[i];
	struct vmm_walk w = { vm, vm->prof->lock_acquire, now };

	vm->logging[i] = true;
	s2pt_for_each_leaf(&vm->pgt, slot->gpa, slot->gpa + slot->size, wp_leaf, &w);
	vm->c.tlbi[S2_TLBI_WP]++;
	w.cycles += s2_tlbi_cycles(vm, now + w.cycles, 1);
	return w.cycles;
}

static void unmap_leaf(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte, void *opaque)
{
	struct vmm_walk *w = opaque;
	struct s2_vm *vm = w->vm;

	s2pt_set(pgt, level, ipa, 0);
	vm->c.unmapped_leaves++;
	vm->c.tlbi[S2_TLBI_UNMAP]++;
	w->cycles += s2_tlbi_cycles(vm, w->now + w->cycles, 2);
	w->cycles += s2_dclean(vm, s2_granule(level), 0);
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
 * is cleaned to PoC before the page goes back to the host.
 */
static uint64_t unmap_range(struct s2_vm *vm, uint64_t ipa, uint64_t size, uint64_t now)
{
	struct vmm_walk w = { vm, vm->prof->lock_acquire, now };

	s2pt_for_each_leaf(&vm->pgt, ipa, ipa + size, unmap_leaf, &w);
	free_empty_tables(&w, ipa, ipa + size);
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
		return unmap_range(vm, rec->ipa, rec->size, now);
	default:
		return 0;
	}
}
