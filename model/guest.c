/*
 * model/guest.c - what a real boot adds to the faults (kernel-fault-path.md
 * §8-§9): guest-initiated whole-VM flushes, host MMU notifiers (the host
 * thread's unmaps and change_pte, and the zero-page copy-on-write that a
 * vCPU's own fault triggers).  Written once for every policy: they all
 * take kvm->mmu_lock exclusively (spin_lock, or write_lock from v5.18).
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"

void s2_fault_splice(struct s2_fault *f, const struct s2_op *ops, uint32_t nr)
{
	uint32_t rest = f->nr_ops - f->pc - 1;

	g_assert(f->nr_ops + nr <= S2_MAX_OPS);
	memmove(&f->ops[f->pc + 1 + nr], &f->ops[f->pc + 1], rest * sizeof(struct s2_op));
	memcpy(&f->ops[f->pc + 1], ops, nr * sizeof(struct s2_op));
	f->nr_ops += nr;
}

static void begin(struct s2_vm *vm, struct s2_fault *f, uint64_t now)
{
	memset(f, 0, offsetof(struct s2_fault, ops));
	f->slot = -1;
	f->started = now;
	f->completes = true;
	f->exclusive = true;
	f->nr_ops = f->pc = 0;
}

static void push(struct s2_fault *f, struct s2_op op)
{
	g_assert(f->nr_ops < S2_MAX_OPS);
	f->ops[f->nr_ops++] = op;
}

/*
 * HCR_EL2.TVM traps writes to SCTLR/TTBRx/TCR/MAIR/... only while set:
 * vcpu_reset_hcr() sets it unless the CPU has FWB, kvm_toggle_cache()
 * clears it once the caches are on.  Set/way operations always trap
 * (HCR_EL2.TSW); access_dcsw() only tracks them without FWB.
 */
bool s2_vm_guest_event(struct s2_vm *vm, uint32_t vcpu, const struct s2_record *rec,
		       uint64_t now)
{
	struct s2_vcpu_model *v = &vm->vcpus[vcpu];
	struct s2_fault *f = &v->fault;

	switch (rec->kind) {
	case S2_REC_RESET:
		vm->c.resets++;
		v->tvm = !vm->prof->fwb;
		return true;
	case S2_REC_VMREG:
		if (!v->tvm) {
			vm->c.vmreg_untrapped++;
			return true;
		}
		vm->c.vmreg_trapped++;
		break;
	case S2_REC_SETWAY:
		vm->c.setway_trapped++;
		break;
	default:
		g_assert_not_reached();
	}
	begin(vm, f, now);
	push(f, (struct s2_op){ .kind = OP_EXIT });
	push(f, (struct s2_op){ .kind = OP_TRAP, .cause = rec->kind, .size = rec->arg });
	push(f, (struct s2_op){ .kind = OP_ENTRY });
	return false;
}

/* The first chunk of stage2_flush_vm() at or after memslot @slot. */
static bool first_chunk(const struct s2_vm *vm, uint32_t slot, struct s2_op *op)
{
	if (slot >= vm->hdr.nr_slots)
		return false;
	*op = (struct s2_op){ .kind = OP_FLUSH_CHUNK, .level = slot, .ipa = vm->hdr.slots[slot].gpa };
	return true;
}

/*
 * access_vm_reg() -> kvm_toggle_cache(): "if (now_enabled != was_enabled)
 * stage2_flush_vm(vcpu->kvm);" then "Caches are now on, stop trapping VM
 * ops (until a S/W op)".  access_dcsw() -> kvm_set_way_flush(): the first
 * set/way op since TVM was cleared flushes and sets TVM again.
 */
uint64_t s2_op_trap(struct s2_vm *vm, uint32_t vcpu, struct s2_fault *f, struct s2_op *op)
{
	struct s2_vcpu_model *v = &vm->vcpus[vcpu];
	bool flush = false;
	struct s2_op ops[3];

	if (op->cause == S2_REC_VMREG) {
		bool before = op->size & S2_CACHES_BEFORE, after = op->size & S2_CACHES_AFTER;

		flush = before != after;
		vm->c.vmflush_by_toggle += flush;
		if (after)
			v->tvm = false;
	} else if (!vm->prof->fwb && !v->tvm) {
		flush = true;
		vm->c.vmflush_by_setway++;
		v->tvm = true;
	}
	if (!flush || !first_chunk(vm, 0, &ops[1]))
		return 0;
	vm->c.vmflushes++;
	ops[0] = (struct s2_op){ .kind = OP_LOCK };
	ops[2] = (struct s2_op){ .kind = OP_UNLOCK, .size = 1 };
	s2_fault_splice(f, ops, 3);
	return 0;
}

struct flush_walk {
	struct s2_vm *vm;
	uint64_t cycles;
};

/* stage2_flush_walker(): every valid leaf, cleaned over its granule. */
static void flush_leaf(struct s2_pgt *pgt, uint32_t level, uint64_t ipa, kvm_pte_t pte,
		       void *opaque)
{
	struct flush_walk *w = opaque;

	w->cycles += w->vm->prof->wp_per_pte;
	w->cycles += s2_dclean(w->vm, s2_granule(level), 0, S2_CMO_VMFLUSH);
}

/*
 * One chunk of stage2_flush_memslot() -> stage2_apply_range_resched():
 * between chunks cond_resched_rwlock_write() lets waiting faults take the
 * lock (modelled when someone waits; a scheduler tick alone is not).
 * Nothing at all with FWB: kvm_pgtable_stage2_flush() returns at once.
 */
uint64_t s2_op_flush_chunk(struct s2_vm *vm, struct s2_fault *f, struct s2_op *op)
{
	const struct s2_memslot *slot = &vm->hdr.slots[op->level];
	uint64_t chunk = vm->prof->flush_chunk_bytes;
	uint64_t end = MIN((op->ipa / chunk + 1) * chunk, slot->gpa + slot->size);
	struct flush_walk w = { vm, 0 };
	struct s2_op next, ops[3];

	if (!vm->prof->fwb)
		s2pt_for_each_leaf(&vm->pgt, op->ipa, end, flush_leaf, &w);
	vm->c.vmflush_lock_cycles += w.cycles;
	if (end < slot->gpa + slot->size)
		next = (struct s2_op){ .kind = OP_FLUSH_CHUNK, .level = op->level, .ipa = end };
	else if (!first_chunk(vm, op->level + 1, &next))
		return w.cycles;
	if (vm->lock.len) {
		vm->c.vmflush_lock_drops++;
		ops[0] = (struct s2_op){ .kind = OP_UNLOCK, .size = 1 };
		ops[1] = (struct s2_op){ .kind = OP_LOCK };
		ops[2] = next;
		s2_fault_splice(f, ops, 3);
	} else {
		s2_fault_splice(f, &next, 1);
	}
	return w.cycles;
}

/*
 * kvm_set_spte_gfn() (change_pte, inside an invalidation): "the map
 * handler will clean the cache to the PoC" (v5.14+; v5.13 cleaned here
 * itself) - a 4 KiB read-only map with no memcache, so it gives up where a
 * table would be needed.  The notifiers unmapped any block first.
 */
uint64_t s2_op_change_pte(struct s2_vm *vm, struct s2_fault *f, const struct s2_op *op)
{
	const struct s2_memslot *slot = s2_trace_find_slot(&vm->hdr, op->ipa);
	struct s2_walk_result res;
	kvm_pte_t new;
	uint64_t cycles = (S2_LEVELS - vm->pgt.start_level) * vm->prof->walk_level;

	s2pt_lookup(&vm->pgt, op->ipa, &res);
	if (!slot || res.level != 3 || kvm_pte_valid(res.pte)) {
		vm->c.change_pte_skipped++;
		return cycles;
	}
	new = s2_make_leaf(slot->hva + (op->ipa - slot->gpa), 3, KVM_PGTABLE_PROT_R, vm->prof->fwb);
	cycles += s2_dclean(vm, 4096, 0, S2_CMO_FAULT);
	s2pt_set(&vm->pgt, 3, op->ipa, new);
	vm->c.change_pte_maps++;
	vm->c.maps_by_level[3]++;
	return cycles;
}

/*
 * The MMU-notifier sequence around a host page change (mm/memory.c
 * wp_page_copy() @ v6.1): invalidate_range_start unmaps the IPA under the
 * exclusive lock, set_pte_at_notify() -> change_pte maps the new page
 * read-only, invalidate_range_end moves mmu_notifier_seq on, so a fault
 * that sampled the sequence before (its own CoW included) retries.
 *
 * Both ends count under kvm->mmu_lock, taken for write: in v6.1
 * (virt/kvm/kvm_main.c, __kvm_handle_hva_range()) as the .on_lock hook of
 * the same hold as the unmap (kvm_mmu_invalidate_begin()) and of a hold of
 * their own at the end (kvm_mmu_invalidate_end()); in v5.12, inline in
 * kvm_mmu_notifier_invalidate_range_start()/_end() between KVM_MMU_LOCK
 * and KVM_MMU_UNLOCK.  So a fault that holds the lock never sees the count
 * move, and the end pays a lock round trip.
 */
#define NOTIFIER_OPS_MAX	10	/* notifier_ops() with change_pte */

static uint32_t notifier_ops(struct s2_op *ops, uint64_t ipa, uint64_t size, bool change_pte)
{
	uint32_t n = 0;

	ops[n++] = (struct s2_op){ .kind = OP_LOCK, .size = 1 };
	ops[n++] = (struct s2_op){ .kind = OP_NOTIFIER_START };
	ops[n++] = (struct s2_op){ .kind = OP_UNMAP, .ipa = ipa, .size = size };
	ops[n++] = (struct s2_op){ .kind = OP_UNLOCK, .size = 1 };
	if (change_pte) {
		ops[n++] = (struct s2_op){ .kind = OP_LOCK, .size = 1 };
		ops[n++] = (struct s2_op){ .kind = OP_CHANGE_PTE, .ipa = ipa };
		ops[n++] = (struct s2_op){ .kind = OP_UNLOCK, .size = 1 };
	}
	ops[n++] = (struct s2_op){ .kind = OP_LOCK, .size = 1 };
	ops[n++] = (struct s2_op){ .kind = OP_NOTIFIER_END };
	ops[n++] = (struct s2_op){ .kind = OP_UNLOCK, .size = 1 };
	g_assert(n <= NOTIFIER_OPS_MAX);
	return n;
}

/* A guest write to the zero page: GUP breaks the copy-on-write from this vCPU. */
void s2_push_notifier_cow(struct s2_vm *vm, struct s2_fault *f, uint64_t ipa)
{
	struct s2_op ops[NOTIFIER_OPS_MAX];

	vm->c.notifier_unmaps[S2_UNMAP_COW]++;
	s2_fault_splice(f, ops, notifier_ops(ops, ipa & ~4095ULL, 4096, true));
}

/*
 * A write to a huge zero page (mm/huge_memory.c do_huge_pmd_wp_page() @
 * v6.1: "if (is_huge_zero_pmd(orig_pmd)) goto fallback;"): the PMD is split
 * (__split_huge_pmd(), an invalidation of the whole 2 MiB), then the 4 KiB
 * page is copied like any zero-page write (wp_page_copy(): invalidation
 * and change_pte).  Both run from this vCPU's GUP, in that order.
 */
void s2_push_notifier_thp_split_cow(struct s2_vm *vm, struct s2_fault *f, uint64_t ipa)
{
	struct s2_op ops[2 * NOTIFIER_OPS_MAX];
	uint32_t n;

	vm->c.notifier_unmaps[S2_UNMAP_COW] += 2;
	n = notifier_ops(ops, ipa & ~((2ULL << 20) - 1), 2ULL << 20, false);
	n += notifier_ops(ops + n, ipa & ~4095ULL, 4096, true);
	s2_fault_splice(f, ops, n);
}

/* The host thread's records: an invalidation, or a change_pte on its own. */
void s2_vm_host_event(struct s2_vm *vm, const struct s2_record *rec, uint64_t now)
{
	struct s2_fault *f = &vm->vcpus[vm->hdr.nr_vcpus].fault;

	begin(vm, f, now);
	if (rec->kind == S2_REC_HOST_UNMAP) {
		struct s2_op ops[NOTIFIER_OPS_MAX];
		uint32_t n = notifier_ops(ops, rec->ipa, rec->size, false);

		vm->c.notifier_unmaps[rec->arg]++;
		for (uint32_t i = 0; i < n; i++)
			push(f, ops[i]);
		return;
	}
	push(f, (struct s2_op){ .kind = OP_LOCK, .size = 1 });
	push(f, (struct s2_op){ .kind = OP_CHANGE_PTE, .ipa = rec->ipa });
	push(f, (struct s2_op){ .kind = OP_UNLOCK, .size = 1 });
}
