/*
 * model/vm.h - the kernel model of one VM: its stage-2 table, memslots, host
 * memory, kvm->mmu_lock, the machine's DVM (broadcast maintenance) path, and
 * the stage-2 fault pipeline of arch/arm64/kvm/mmu.c:user_mem_abort().
 *
 * The model owns no clock.  The simulator calls it with the current cycle
 * and gets back when to call again; when a vCPU must wait for another (a
 * lock hand-off), the model calls the waker the simulator registered.
 */
#ifndef S2SIM_VM_H
#define S2SIM_VM_H

#include "policy.h"
#include "profile.h"
#include "trace.h"

/* Where a fault's cycles go: the stacked bar of the summary. */
enum s2_cost_kind {
	S2_COST_EXIT_ENTRY,
	S2_COST_HANDLER,	/* user_mem_abort bookkeeping and the walk */
	S2_COST_LOCK_WAIT,
	S2_COST_DCACHE,		/* D-cache clean to PoC */
	S2_COST_ICACHE,		/* I-cache invalidation */
	S2_COST_TLBI,
	S2_COST_ZERO,		/* host page allocation and zeroing */
	S2_COST_PGTABLE,	/* page-table pages: allocation and teardown */
	S2_COST_MMIO,
	S2_COST_VMFLUSH,	/* stage2_flush_vm: whole-VM clean, started by the guest */
	S2_COST_NR,
};

enum s2_fault_kind { S2_FAULT_TRANSLATION, S2_FAULT_PERMISSION, S2_FAULT_MMIO, S2_FAULT_KIND_NR };

/* How the walk ended. */
enum s2_outcome {
	S2_OUT_MAPPED,		/* a new or different leaf installed */
	S2_OUT_RELAXED,		/* relax_perms changed the leaf */
	S2_OUT_RELAX_NOOP,	/* relax_perms found nothing to change, still TLBIs */
	S2_OUT_EAGAIN,		/* try_leaf: same PTE or permissions only */
	S2_OUT_MMIO,
	S2_OUT_NR,
};

/* Why a walk returned -EAGAIN and sent the vCPU back to the guest. */
enum s2_eagain_cause {
	S2_EAGAIN_IDENTICAL,	/* try_leaf: same PTE, or only permissions differ */
	S2_EAGAIN_LOCKED,	/* an entry on the path was KVM_INVALID_PTE_LOCKED */
	S2_EAGAIN_LOST_RACE,	/* a cmpxchg lost to another walker */
	S2_EAGAIN_INVALID,	/* the shared attribute walker found no leaf */
	S2_EAGAIN_NOTIFIER,	/* mmu_notifier_retry(): an invalidation ran meanwhile */
	S2_EAGAIN_CAUSE_NR,
};

enum s2_tlbi_cause {
	S2_TLBI_RELAX,		/* kvm_pgtable_stage2_relax_perms */
	S2_TLBI_BBM_LEAF,	/* stage2_put_pte: leaf replaced or split */
	S2_TLBI_BBM_TABLE,	/* table replaced by a block: whole VMID */
	S2_TLBI_WP,		/* dirty-log write protect: kvm_flush_remote_tlbs */
	S2_TLBI_UNMAP,
	S2_TLBI_SPLIT,		/* eager split of a block when dirty logging starts */
	S2_TLBI_CAUSE_NR,
};

struct s2_lock_hist {
	uint64_t bucket[64 * 8];	/* log2 with 8 linear sub-buckets */
	uint64_t count, total, max;
};

struct s2_counters {
	uint64_t faults[S2_FAULT_KIND_NR];
	uint64_t outcome[S2_OUT_NR];
	uint64_t eagain[S2_EAGAIN_CAUSE_NR];
	uint64_t tlbi_local;		/* of which non-shareable */
	uint64_t eager_splits;
	uint64_t refaults;		/* faults on an access that already faulted */
	uint64_t bbm_window_faults;	/* taken because an entry was mid break-before-make */
	uint64_t maps_by_level[4];
	uint64_t block_splits;		/* block -> table */
	uint64_t table_collapses;	/* table -> block */
	uint64_t dclean_calls, dclean_bytes;	/* the fault path (and change_pte maps) */
	uint64_t vmflush_dclean_calls, vmflush_dclean_bytes;	/* stage2_flush_vm */
	uint64_t unmap_dclean_calls, unmap_dclean_bytes;	/* the unmap walker */
	uint64_t vmflushes, vmflush_by_toggle, vmflush_by_setway;
	uint64_t vmflush_lock_cycles, vmflush_lock_drops;
	uint64_t vmreg_trapped, vmreg_untrapped, setway_trapped, resets;
	uint64_t notifier_unmaps[S2_UNMAP_CAUSE_NR], change_pte_maps, change_pte_skipped;
	uint64_t cow_breaks;		/* zero page replaced on a guest write */
	uint64_t dclean_elided_fwb;	/* calls that return at once under FWB */
	uint64_t dclean_abort_site_bytes; /* what v5.13's user_mem_abort would clean */
	uint64_t iinval_calls, iinval_bytes, iinval_all;
	uint64_t iinval_elided_dic;
	uint64_t tlbi[S2_TLBI_CAUSE_NR];
	uint64_t host_pages_zeroed, zero_bytes, zero_duplicate;
	uint64_t pt_pages_allocated, pt_entries_freed;
	uint64_t wp_leaves;
	uint64_t unmapped_leaves;
	uint64_t lock_hold_cycles;
	uint64_t dvm_busy_cycles;
	uint64_t cost[S2_COST_NR];
	struct s2_lock_hist lock_wait;
};

uint64_t s2_lock_hist_percentile(const struct s2_lock_hist *h, double pct);
uint64_t s2_lock_hist_bucket_high(uint32_t bucket);

struct s2_vm;
typedef void (*s2_wake_fn)(void *opaque, uint32_t vcpu, uint64_t when);

struct s2_vm *s2_vm_new(const struct s2_trace_header *hdr, const struct s2_profile *prof,
			const struct s2_policy *pol);
void s2_vm_free(struct s2_vm *vm);
void s2_vm_set_waker(struct s2_vm *vm, s2_wake_fn fn, void *opaque);

/* Told of every stretch of a vCPU's fault time, for timelines. */
typedef void (*s2_span_fn)(void *opaque, uint32_t vcpu, enum s2_cost_kind kind,
			   uint64_t start, uint64_t cycles);
void s2_vm_set_tracer(struct s2_vm *vm, s2_span_fn fn, void *opaque);

/*
 * A guest access at @now.  True: the stage-2 table allows it.  False: the
 * vCPU took a stage-2 fault; drive it with s2_vm_fault_run().
 */
bool s2_vm_access(struct s2_vm *vm, uint32_t vcpu, enum s2_rec_kind kind,
		  uint64_t ipa, uint64_t now);

enum s2_run {
	S2_RUN_WAIT,		/* call again at *next */
	S2_RUN_BLOCKED,		/* the waker will say when */
	S2_RUN_DONE,		/* back in the guest: retry the access */
	S2_RUN_COMPLETE,	/* the record is done (MMIO emulated, guest event, host event) */
};
enum s2_run s2_vm_fault_run(struct s2_vm *vm, uint32_t vcpu, uint64_t now, uint64_t *next);

/*
 * A guest event (vmreg, setway, reset) of @vcpu at @now.  True: nothing
 * trapped, the record is done; false: drive it with s2_vm_fault_run().
 */
bool s2_vm_guest_event(struct s2_vm *vm, uint32_t vcpu, const struct s2_record *rec,
		       uint64_t now);

/*
 * A host record (notifier unmap, change_pte): the host thread is actor
 * number nr_vcpus; drive it with s2_vm_fault_run(vm, nr_vcpus, ...).
 */
void s2_vm_host_event(struct s2_vm *vm, const struct s2_record *rec, uint64_t now);

/* A VMM command while every vCPU waits at the barrier; returns its cycles. */
uint64_t s2_vm_vmm(struct s2_vm *vm, const struct s2_record *rec, uint64_t now);

/* sim --check: verify invariants as the run goes and at its end. */
void s2_vm_set_check(struct s2_vm *vm, bool on);
const char *s2_vm_check_failure(const struct s2_vm *vm);
bool s2_vm_check_final(struct s2_vm *vm, GError **err);

const struct s2_counters *s2_vm_counters(const struct s2_vm *vm);
/* Per-vCPU cycles spent in the stage-2 fault path (exit to entry). */
uint64_t s2_vm_vcpu_fault_cycles(const struct s2_vm *vm, uint32_t vcpu);
uint64_t s2_vm_vcpu_faults(const struct s2_vm *vm, uint32_t vcpu);
const struct s2_pgt *s2_vm_pgt(const struct s2_vm *vm);

const char *s2_cost_kind_name(enum s2_cost_kind k);
const char *s2_fault_kind_name(enum s2_fault_kind k);
const char *s2_outcome_name(enum s2_outcome o);
const char *s2_tlbi_cause_name(enum s2_tlbi_cause c);
const char *s2_eagain_cause_name(enum s2_eagain_cause c);

#endif
