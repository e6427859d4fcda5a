/*
 * model/internal.h - state shared by the model's own files; not a contract
 * for anyone outside model/.
 */
#ifndef S2SIM_MODEL_INTERNAL_H
#define S2SIM_MODEL_INTERNAL_H

#include "bitset.h"
#include "u64map.h"
#include "s2pt.h"
#include "vm.h"

/*
 * A fault's own steps (11 at most), a huge-zero-page split and CoW spliced
 * into its GUP (2 notifiers: 17) and the walker's plan after its walk
 * (steps, up to three new tables, a break and its TLBI, the leaf, CMOs).
 */
#define S2_MAX_OPS	40
#define S2_MAX_BREAKS	8

/*
 * One step of a fault.  The pipeline is a short program of these; OP_WALK
 * plans the page-table walk when it runs (under the lock, against the table
 * as it is then) and splices the walker's steps in after itself.  Each step
 * takes effect when it runs and returns how long it takes, so a PTE broken
 * by OP_BREAK stays invalid for exactly as long as the TLBI and CMOs that
 * follow it, as other vCPUs' hardware walkers would see it.
 */
enum s2_op_kind {
	OP_EXIT,
	OP_PREPARE,		/* vma_pagesize: before the lock */
	OP_TOPUP,		/* memcache top-up */
	OP_GUP,			/* gfn_to_pfn_prot(): populate the host page */
	OP_LOCK,
	OP_LOCKED_PREP,		/* THP adjust, prot, abort-site CMOs */
	OP_WALK,
	OP_STEP,		/* the walker reaching the next level */
	OP_BREAK,		/* kvm_clear_pte(), or cmpxchg to KVM_INVALID_PTE_LOCKED */
	OP_TLBI_IPA,		/* __kvm_tlb_flush_vmid_ipa */
	OP_TLBI_LOCAL,		/* __kvm_tlb_flush_vmid_ipa_nsh */
	OP_TLBI_VMID,		/* __kvm_tlb_flush_vmid */
	OP_TLBI_RANGE,		/* kvm_tlb_flush_vmid_range */
	OP_DCLEAN,		/* dcache_clean_inval_poc */
	OP_IINVAL,		/* icache_inval_pou */
	OP_TABLE,		/* new table page from the memcache */
	OP_FREE_SUBTREE,	/* the old table under a new block */
	OP_MAKE,		/* stage2_make_pte(): a new leaf */
	OP_SET_ATTR,		/* stage2_attr_walker's store (a cmpxchg when shared) */
	OP_UNLOCK,
	OP_ENTRY,
	OP_MMIO,
	OP_TRAP,		/* a trapped sys-reg access: kvm_toggle_cache / kvm_set_way_flush */
	OP_FLUSH_CHUNK,		/* stage2_flush_vm over one stage2_range_addr_end() chunk */
	OP_NOTIFIER_START,	/* mmu_notifier invalidate_range_start */
	OP_NOTIFIER_END,	/* ... _end: the sequence moves on */
	OP_UNMAP,		/* kvm_unmap_gfn_range() */
	OP_CHANGE_PTE,		/* kvm_set_spte_gfn() */
};

struct s2_op {
	uint8_t kind;
	uint8_t level;
	uint8_t cause;		/* enum s2_tlbi_cause for TLBIs */
	bool on_eagain;		/* still runs when the walk gave up (-EAGAIN) */
	bool after_break;	/* our own break made the entry ours: store without a check */
	uint64_t ipa;
	uint64_t size;
	kvm_pte_t pte;		/* the value to store */
	kvm_pte_t old;		/* the entry as the walker read it */
};

/* KVM_INVALID_PTE_LOCKED (v6.2 hyp/pgtable.c): invalid, software bit 10 set. */
#define KVM_INVALID_PTE_LOCKED	(1ULL << 10)

static inline bool stage2_pte_is_locked(kvm_pte_t pte)
{
	return !kvm_pte_valid(pte) && (pte & KVM_INVALID_PTE_LOCKED);
}

struct s2_fault {
	uint64_t ipa;			/* fault_ipa, aligned to vma_pagesize once known */
	uint64_t phys;
	int slot;			/* index in vm->hdr.slots, -1 for MMIO */
	enum s2_fault_kind kind;
	uint32_t fault_level;
	bool write_fault, exec_fault;
	bool writable, force_pte, logging;
	bool host_small;		/* THP backing: the host maps this page with a PTE */
	bool entry_pending;		/* a first touch's page is clear: its set_pte_at() is next */
	bool lock_write, aborted;
	bool exclusive;			/* a flush or a notifier: always the write side */
	bool completes;			/* done when the steps are: no access to retry */
	enum s2_eagain_cause eagain;
	uint64_t mmu_seq;		/* kvm->mmu_notifier_seq sampled before GUP */
	uint64_t freed;			/* entries under the table this fault broke */
	uint64_t vma_pagesize;
	uint64_t zeroed_bytes;		/* host bytes this fault zeroed: still in the cache */
	int prot;
	enum s2_outcome outcome;
	uint64_t started, lock_requested;
	uint32_t nr_ops, pc;		/* next to the header: each step reads them with it */
	struct s2_op ops[S2_MAX_OPS];
};

/* The last leaf a vCPU's access found, valid while the table is unchanged. */
struct s2_leaf_cache {
	uint64_t gen;
	uint64_t base, size;
	kvm_pte_t pte;
};

/* What every access reads comes first; the fault's steps, mostly unused, last. */
struct s2_vcpu_model {
	struct s2_leaf_cache tlb;
	bool pending;			/* the current access has faulted at least once */
	uint32_t memcache;		/* pages in kvm_mmu_memory_cache */
	bool tvm;			/* HCR_EL2.TVM: VM register writes trap */
	uint64_t fault_cycles, faults;
	struct s2_fault fault;
};

/*
 * kvm->mmu_lock: a spinlock is this lock with writers only.  Queued
 * spinlocks and queued rwlocks hand over in arrival order; consecutive
 * readers at the head of the queue enter together.
 */
struct s2_lock_waiter {
	uint32_t vcpu;
	bool write;
};

struct s2_lock {
	uint32_t readers;
	bool writer;
	uint64_t busy_since;		/* held by anyone since */
	uint64_t line_free_at;		/* the lock word's cache line, a serial resource */
	struct s2_lock_waiter *queue;
	uint32_t head, len, cap;
};

enum s2_host_state {
	S2_HOST_UNTOUCHED,
	S2_HOST_ZERO,		/* read but never written: the shared zero page */
	S2_HOST_POPULATING,	/* first touch: a page being zeroed until *ready, entry still none */
	S2_HOST_COPYING,	/* copy-on-write of the zero page until *ready, entry still zero */
	S2_HOST_RESIDENT,
};

struct s2_host_pages {
	struct s2_bitset resident;	/* host page indices (being populated included) */
	struct s2_bitset zero;		/* small pages reading the zero page; THP: huge zero PMDs */
	struct s2_bitset split;		/* THP: 2 MiB units split into small pages */
	struct s2_bitset small;		/* THP: 4 KiB pages copied in split units */
	struct s2_bitset cow;		/* in flight as a copy-on-write, not a first touch */
	struct s2_u64map inflight;	/* index -> cycle it is ready, while being populated */
	struct inflight *fifo;	/* the same, in the order they expire */
	uint32_t fifo_head, fifo_len, fifo_cap;
};

enum s2_host_state s2_host_page(struct s2_host_pages *h, uint64_t key, uint64_t now,
				uint64_t *ready);
void s2_host_set_populating(struct s2_host_pages *h, uint64_t key, uint64_t now, uint64_t ready);
void s2_host_set_copying(struct s2_host_pages *h, uint64_t key, uint64_t now, uint64_t ready);
void s2_host_zero_wins(struct s2_host_pages *h, uint64_t key, enum s2_host_state state);
void s2_host_pages_free(struct s2_host_pages *h);

struct s2_break {
	uint64_t start, end;
};

struct s2_vm {
	struct s2_trace_header hdr;
	const struct s2_profile *prof;
	const struct s2_policy *pol;
	struct s2_pgt pgt;
	bool logging[S2_TRACE_MAX_SLOTS];
	struct s2_host_pages host[S2_TRACE_MAX_SLOTS];
	struct s2_lock lock;
	uint64_t dvm_free_at;			/* the machine-wide DVM server */
	struct s2_break breaks[S2_MAX_BREAKS];
	uint32_t nr_breaks;
	struct s2_vcpu_model *vcpus;		/* nr_vcpus + 1: the last is the host */
	uint64_t mmu_seq;			/* kvm->mmu_notifier_seq */
	uint32_t mmu_inval_count;		/* kvm->mmu_notifier_count */
	struct s2_counters c;
	s2_wake_fn wake;
	void *wake_opaque;
	s2_span_fn span;
	void *span_opaque;
	bool check;				/* sim --check */
	char *check_failure;
};

/* resource.c */
void s2_lock_init(struct s2_lock *lock, uint32_t nr_vcpus);
void s2_lock_destroy(struct s2_lock *lock);
bool s2_lock_try(struct s2_vm *vm, uint32_t vcpu, uint64_t now, bool write, uint64_t *cycles);
void s2_lock_release(struct s2_vm *vm, uint64_t now, bool write);
uint64_t s2_dvm_request(struct s2_vm *vm, uint64_t now, uint64_t service, uint64_t latency);
uint64_t s2_tlbi_cycles(struct s2_vm *vm, uint64_t now, int nr_syncs);
void s2_lock_hist_add(struct s2_lock_hist *h, uint64_t v);

/* cmo.c: the cache maintenance helpers of asm/kvm_mmu.h */
enum s2_cmo_source { S2_CMO_FAULT, S2_CMO_VMFLUSH, S2_CMO_UNMAP };
uint64_t s2_dclean(struct s2_vm *vm, uint64_t bytes, uint64_t hot_bytes, enum s2_cmo_source src);
uint64_t s2_iinval(struct s2_vm *vm, uint64_t now, uint64_t bytes);

/* walker.c */
void s2_plan_map(struct s2_vm *vm, struct s2_fault *f, struct s2_op *ops, uint32_t *nr);
void s2_plan_relax(struct s2_vm *vm, struct s2_fault *f, struct s2_op *ops, uint32_t *nr);
uint32_t s2_walk_depth(const struct s2_vm *vm, uint64_t size);
bool s2_icache_whole(const struct s2_vm *vm, uint64_t bytes);

/* check.c */
void s2_check_fail(struct s2_vm *vm, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
void s2_check_lock(struct s2_vm *vm, uint32_t vcpu, bool write);
void s2_check_path(struct s2_vm *vm, uint32_t level, uint64_t ipa);

/* vmm.c */
uint64_t s2_unmap_range(struct s2_vm *vm, uint64_t ipa, uint64_t size, uint64_t now);

/* guest.c: guest-initiated flushes, notifiers, the host actor */
uint64_t s2_op_trap(struct s2_vm *vm, uint32_t vcpu, struct s2_fault *f, struct s2_op *op);
uint64_t s2_op_flush_chunk(struct s2_vm *vm, struct s2_fault *f, struct s2_op *op);
uint64_t s2_op_change_pte(struct s2_vm *vm, struct s2_fault *f, const struct s2_op *op);
void s2_push_notifier_cow(struct s2_vm *vm, struct s2_fault *f, uint64_t ipa);
void s2_push_notifier_thp_split_cow(struct s2_vm *vm, struct s2_fault *f, uint64_t ipa);
void s2_fault_splice(struct s2_fault *f, const struct s2_op *ops, uint32_t nr);

/* fault.c */
void s2_vm_span(struct s2_vm *vm, uint32_t vcpu, enum s2_cost_kind kind, uint64_t start,
		uint64_t cycles);
void s2_break_add(struct s2_vm *vm, uint64_t start, uint64_t size);
bool s2_break_del(struct s2_vm *vm, uint64_t start);

#endif
