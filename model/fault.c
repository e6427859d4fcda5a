/*
 * model/fault.c - the stage-2 fault pipeline: kvm_handle_guest_abort() and
 * user_mem_abort() of arch/arm64/kvm/mmu.c (v5.13, and v5.14 with the CMOs
 * moved into the walker), as a short program of timed steps per fault.
 *
 * The pipeline is written once.  The policy is asked in one place for the
 * abort-site CMOs (locked_prep) and in one place for the walker-site CMOs
 * (walker.c: emit_walker_cmos).
 */
#include <stddef.h>
#include <string.h>

#include "internal.h"

#define PAGE_SIZE	4096ULL
#define PMD_SIZE	(2ULL << 20)
#define PUD_SIZE	(1ULL << 30)

static void push(struct s2_fault *f, enum s2_op_kind kind)
{
	g_assert(f->nr_ops < S2_MAX_OPS);
	f->ops[f->nr_ops++] = (struct s2_op){ .kind = kind };
}

void s2_break_add(struct s2_vm *vm, uint64_t start, uint64_t size)
{
	g_assert(vm->nr_breaks < S2_MAX_BREAKS);
	vm->breaks[vm->nr_breaks++] = (struct s2_break){ start, start + size };
}

bool s2_break_del(struct s2_vm *vm, uint64_t start)
{
	for (uint32_t i = 0; i < vm->nr_breaks; i++) {
		if (vm->breaks[i].start == start) {
			vm->breaks[i] = vm->breaks[--vm->nr_breaks];
			return true;
		}
	}
	return false;
}

static bool in_break_window(const struct s2_vm *vm, uint64_t ipa)
{
	for (uint32_t i = 0; i < vm->nr_breaks; i++)
		if (ipa >= vm->breaks[i].start && ipa < vm->breaks[i].end)
			return true;
	return false;
}

static const struct s2_memslot *fault_slot(const struct s2_vm *vm, const struct s2_fault *f)
{
	return f->slot < 0 ? NULL : &vm->hdr.slots[f->slot];
}

/*
 * kvm_handle_guest_abort(): no memslot, or a write to a read-only one, is
 * MMIO: io_mem_abort() emulates it, nothing is mapped, the next access
 * faults again.  Otherwise the ESR's fault type (translation or
 * permission) and level come from what the hardware walk found.
 */
static void classify(struct s2_vm *vm, struct s2_fault *f, enum s2_rec_kind kind,
		     uint64_t ipa, const struct s2_walk_result *res)
{
	const struct s2_memslot *slot = s2_trace_find_slot(&vm->hdr, ipa);

	f->ipa = ipa & ~(PAGE_SIZE - 1);
	f->write_fault = kind == S2_REC_WRITE;
	f->exec_fault = kind == S2_REC_EXEC;
	f->slot = slot ? (int)(slot - vm->hdr.slots) : -1;
	f->fault_level = res->level;
	f->kind = kvm_pte_valid(res->pte) ? S2_FAULT_PERMISSION : S2_FAULT_TRANSLATION;
	if (!slot || (f->write_fault && slot->readonly)) {
		f->kind = S2_FAULT_MMIO;
		f->completes = true;
	}
}

/*
 * The CMOs of user_mem_abort() in v5.13, before the walk, whether or not it
 * will change anything (size 0: decided when they run, see op_site_*):
 *   if (fault_status != FSC_PERM && !device) clean_dcache_guest_page(pfn, vma_pagesize);
 *   if (exec_fault) invalidate_icache_guest_page(pfn, vma_pagesize);
 * The prelock what-if runs the same two before taking the lock.
 */
static void push_site_cmos(struct s2_fault *f)
{
	push(f, OP_DCLEAN);
	push(f, OP_IINVAL);
}

static void build_pipeline(const struct s2_policy *pol, struct s2_fault *f)
{
	f->nr_ops = f->pc = 0;
	if (f->kind == S2_FAULT_MMIO) {
		push(f, OP_MMIO);
		return;
	}
	push(f, OP_EXIT);
	push(f, OP_PREPARE);
	push(f, OP_TOPUP);
	push(f, OP_GUP);
	if (pol->cmo_site == S2_CMO_PRELOCK)
		push_site_cmos(f);
	push(f, OP_LOCK);
	push(f, OP_LOCKED_PREP);
	if (pol->cmo_site == S2_CMO_AT_ABORT)
		push_site_cmos(f);
	push(f, OP_WALK);
	push(f, OP_UNLOCK);
	push(f, OP_ENTRY);
}

static bool access_allowed(kvm_pte_t leaf, enum s2_rec_kind kind)
{
	switch (kind) {
	case S2_REC_WRITE:
		return leaf & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
	case S2_REC_EXEC:
		return stage2_pte_executable(leaf);
	default:
		return leaf & KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
	}
}

/*
 * A model convenience, not the hardware's TLB: the last leaf this vCPU's
 * accesses found, reused while no entry of the table has changed since.
 */
static bool leaf_cache_hit(const struct s2_vm *vm, const struct s2_leaf_cache *c, uint64_t ipa)
{
	return c->gen == vm->pgt.gen && ipa - c->base < c->size;
}

bool s2_vm_access(struct s2_vm *vm, uint32_t vcpu, enum s2_rec_kind kind,
		  uint64_t ipa, uint64_t now)
{
	struct s2_vcpu_model *v = &vm->vcpus[vcpu];
	struct s2_fault *f = &v->fault;
	struct s2_walk_result res;

	if (leaf_cache_hit(vm, &v->tlb, ipa)) {
		res = (struct s2_walk_result){ .level = 0, .pte = v->tlb.pte };
	} else {
		s2pt_lookup(&vm->pgt, ipa, &res);
		if (kvm_pte_valid(res.pte))
			v->tlb = (struct s2_leaf_cache){ vm->pgt.gen, ipa & ~(s2_granule(res.level) - 1),
							 s2_granule(res.level), res.pte };
	}
	if (kvm_pte_valid(res.pte) && access_allowed(res.pte, kind)) {
		v->pending = false;
		return true;
	}
	if (leaf_cache_hit(vm, &v->tlb, ipa))
		s2pt_lookup(&vm->pgt, ipa, &res);	/* the fault needs the level */
	memset(f, 0, offsetof(struct s2_fault, ops));
	classify(vm, f, kind, ipa, &res);
	f->started = now;
	vm->c.faults[f->kind]++;
	vm->c.refaults += v->pending;
	/* a cleared entry under the exclusive lock, or one a shared walker LOCKED */
	vm->c.bbm_window_faults += in_break_window(vm, ipa) || stage2_pte_is_locked(res.pte);
	v->pending = true;
	v->faults++;
	build_pipeline(vm->pol, f);
	return false;
}

/*
 * fault_supports_stage2_huge_mapping(): the memslot's gpa and hva must be
 * congruent modulo the block, and the whole block must lie in the memslot.
 */
static bool supports_huge_mapping(const struct s2_memslot *slot, uint64_t hva, uint64_t size)
{
	uint64_t block = hva & ~(size - 1);

	if ((slot->gpa & (size - 1)) != (slot->hva & (size - 1)))
		return false;
	return block >= slot->hva && block + size <= slot->hva + slot->size;
}

static uint64_t fault_hva(const struct s2_memslot *slot, uint64_t ipa)
{
	return slot->hva + (ipa - slot->gpa);
}

/* The v5.13 vma_shift cascade for hugetlbfs; anonymous memory starts at PAGE_SIZE. */
static uint64_t pick_vma_pagesize(const struct s2_vm *vm, const struct s2_memslot *slot,
				  uint64_t hva, bool *force_pte)
{
	uint64_t size = PAGE_SIZE;

	if (slot->backing == S2_BACKING_HUGETLB_1G)
		size = PUD_SIZE;
	else if (slot->backing == S2_BACKING_HUGETLB_2M)
		size = PMD_SIZE;
	/* a 2-level stage-2 (32-bit IPA) has no level-1 blocks */
	if (size == PUD_SIZE && (!supports_huge_mapping(slot, hva, PUD_SIZE) ||
				 !s2_level_allows_block(&vm->pgt, 1)))
		size = PMD_SIZE;
	if (size == PMD_SIZE && !supports_huge_mapping(slot, hva, PMD_SIZE))
		size = PAGE_SIZE;
	*force_pte = size == PAGE_SIZE && slot->backing != S2_BACKING_THP &&
		     slot->backing != S2_BACKING_4K;
	return size;
}

/*
 * user_mem_abort() up to the lock: vma_pagesize from the backing (PAGE_SIZE
 * while dirty logging), then the memcache top-up, which only translation
 * faults and dirty-logging write faults need.
 */
static uint64_t op_prepare(struct s2_vm *vm, struct s2_fault *f)
{
	const struct s2_memslot *slot = fault_slot(vm, f);
	uint64_t hva = fault_hva(slot, f->ipa);

	f->logging = vm->logging[f->slot] && !slot->readonly;
	if (f->logging) {
		f->force_pte = true;
		f->vma_pagesize = PAGE_SIZE;
	} else {
		f->vma_pagesize = pick_vma_pagesize(vm, slot, hva, &f->force_pte);
	}
	f->ipa &= ~(f->vma_pagesize - 1);
	f->phys = fault_hva(slot, f->ipa) & KVM_PTE_ADDR_MASK;
	return vm->prof->fault_prepare;
}

/* kvm_mmu_topup_memory_cache() to kvm_mmu_cache_min_pages(): levels - 1 pages. */
static uint64_t op_topup(struct s2_vm *vm, struct s2_vcpu_model *v, struct s2_fault *f)
{
	uint32_t min_pages = S2_LEVELS - vm->pgt.start_level - 1;
	uint32_t need = min_pages > v->memcache ? min_pages - v->memcache : 0;

	if (f->kind == S2_FAULT_PERMISSION && !(f->logging && f->write_fault))
		return 0;
	v->memcache += need;
	return need * vm->prof->pt_page_alloc;
}

/* All read faults on never-written anonymous memory map this one page... */
#define S2_ZERO_PAGE_PHYS	0x0000fffffffff000ULL
/* ... or, with THP, this 2 MiB one (mm_get_huge_zero_page()). */
#define S2_HUGE_ZERO_PHYS	0x0000ffffffc00000ULL

/* Never touched, or a first touch still clearing its page: a read installs the zero page. */
static bool entry_still_none(enum s2_host_state state)
{
	return state == S2_HOST_UNTOUCHED || state == S2_HOST_POPULATING;
}

/* A write to a zero page: the copy-on-write gives it a new, zeroed small page. */
static uint64_t cow_copy(struct s2_vm *vm, struct s2_fault *f)
{
	vm->c.host_pages_zeroed++;
	vm->c.zero_bytes += PAGE_SIZE;
	f->zeroed_bytes = PAGE_SIZE;
	return s2_profile_zero_cycles(vm->prof, PAGE_SIZE);
}

/*
 * A read of never-written anonymous small-page memory: GUP without
 * FOLL_WRITE maps the shared zero page (mm/memory.c do_anonymous_page(),
 * "Use the zero-page for reads"), which stage-2 maps read-only - also
 * while a first touch is still clearing its page (it then loses, see
 * s2_host_zero_wins()) or a copy is being made (the entry still maps the
 * zero page).  A write to it breaks the copy-on-write: a new zeroed page,
 * and the MMU-notifier sequence (unmap, change_pte, end) run from this
 * vCPU's GUP.
 */
static uint64_t gup_zero_page(struct s2_vm *vm, struct s2_fault *f, enum s2_host_state state,
			      uint64_t key, uint64_t now)
{
	struct s2_host_pages *h = &vm->host[f->slot];
	uint64_t cycles;

	if (!f->write_fault) {
		if (entry_still_none(state))
			s2_host_zero_wins(h, key, state);
		f->writable = false;
		f->phys = S2_ZERO_PAGE_PHYS;
		return 0;
	}
	cycles = cow_copy(vm, f);
	s2_host_set_copying(h, key, now, now + cycles);
	if (state == S2_HOST_COPYING) {	/* a racing writer's copy: one of the two is freed */
		vm->c.zero_duplicate++;
		return cycles;
	}
	vm->c.cow_breaks++;
	s2_push_notifier_cow(vm, f, f->ipa);
	return cycles;
}

/*
 * THP memory that is read before it is written (mm/huge_memory.c @ v6.1):
 * do_huge_pmd_anonymous_page() maps the huge zero page for a read (also
 * while a first touch is still clearing its 2 MiB: s2_host_zero_wins()), and
 * KVM maps it as a read-only block (transparent_hugepage_adjust() only asks
 * get_user_mapping_size() for a PMD); a write splits it and copies one
 * small page, after which the unit is small pages - zero pages until each
 * is written.  Returns true when it handled the fault (*cycles set).
 */
static bool gup_thp_zero(struct s2_vm *vm, struct s2_fault *f, uint64_t hva, uint64_t now,
			 uint64_t *cycles)
{
	struct s2_host_pages *h = &vm->host[f->slot];
	uint64_t unit = hva / PMD_SIZE, page = hva / PAGE_SIZE, ready;
	enum s2_host_state state;
	bool split_now = false;

	*cycles = 0;
	if (s2_bitset_test(&h->split, unit)) {
		f->host_small = true;
		if (s2_bitset_test(&h->small, page))
			return true;
		if (!f->write_fault) {
			f->writable = false;
			f->phys = S2_ZERO_PAGE_PHYS;
			return true;
		}
	} else if (s2_bitset_test(&h->zero, unit)) {
		if (!f->write_fault) {
			f->writable = false;
			f->phys = S2_HUGE_ZERO_PHYS + (f->ipa & (PMD_SIZE - 1));
			return true;
		}
		s2_bitset_clear(&h->zero, unit);
		s2_bitset_set(&h->split, unit);
		f->host_small = true;
		split_now = true;
	} else if (!f->write_fault &&
		   entry_still_none(state = s2_host_page(h, unit, now, &ready))) {
		s2_host_zero_wins(h, unit, state);
		f->writable = false;
		f->phys = S2_HUGE_ZERO_PHYS + (f->ipa & (PMD_SIZE - 1));
		return true;
	} else {
		return false;
	}
	/* a write to a small zero page in a split unit: copy it */
	*cycles = cow_copy(vm, f);
	vm->c.cow_breaks++;
	s2_bitset_set(&h->small, page);
	if (split_now)
		s2_push_notifier_thp_split_cow(vm, f, f->ipa);
	else
		s2_push_notifier_cow(vm, f, f->ipa);
	return true;
}

/*
 * The host side of gfn_to_pfn_prot(): a resident page costs nothing beyond
 * fault_prepare; a first touch allocates and zeroes the host page.
 * Anonymous memory does so before taking the page-table lock
 * (mm/memory.c do_anonymous_page(), mm/huge_memory.c
 * __do_huge_pmd_anonymous_page()), so racing first touches each zero a
 * page and the losers free theirs (entry_lost() decides); hugetlbfs
 * serialises on hugetlb_fault_mutex (mm/hugetlb.c hugetlb_fault()), so a
 * racer waits.
 */
static uint64_t host_fault(struct s2_vm *vm, struct s2_fault *f, uint64_t now)
{
	const struct s2_memslot *slot = fault_slot(vm, f);
	uint64_t host_page = s2_backing_host_page(slot->backing);
	uint64_t key = fault_hva(slot, f->ipa) / host_page;
	bool hugetlb = slot->backing == S2_BACKING_HUGETLB_2M ||
		       slot->backing == S2_BACKING_HUGETLB_1G;
	enum s2_host_state state;
	uint64_t cycles, ready = 0;

	if (slot->backing == S2_BACKING_THP &&
	    gup_thp_zero(vm, f, fault_hva(slot, f->ipa), now, &cycles))
		return cycles;
	state = s2_host_page(&vm->host[f->slot], key, now, &ready);
	if (state == S2_HOST_RESIDENT)
		return 0;
	if (slot->backing == S2_BACKING_4K &&
	    (!f->write_fault || state == S2_HOST_ZERO || state == S2_HOST_COPYING))
		return gup_zero_page(vm, f, state, key, now);
	if (state == S2_HOST_POPULATING && hugetlb)
		return ready - now;
	cycles = s2_profile_zero_cycles(vm->prof, host_page);
	vm->c.zero_duplicate += state == S2_HOST_POPULATING;
	vm->c.host_pages_zeroed++;
	vm->c.zero_bytes += host_page;
	f->zeroed_bytes = host_page;
	s2_host_set_populating(&vm->host[f->slot], key, now, now + cycles);
	f->entry_pending = !hugetlb;
	return cycles;
}

/*
 * gfn_to_pfn_prot() after "mmu_seq = kvm->mmu_notifier_seq; smp_rmb();",
 * then writable: read faults while dirty logging map read-only.
 */
static uint64_t op_gup(struct s2_vm *vm, struct s2_fault *f, uint64_t now)
{
	const struct s2_memslot *slot = fault_slot(vm, f);

	f->mmu_seq = vm->mmu_seq;
	f->writable = !slot->readonly && !(f->logging && !f->write_fault);
	if (slot->populated)
		return 0;
	return host_fault(vm, f, now);
}

/*
 * The first touch's page is clear; under the page-table lock its entry
 * goes in, unless a reader's zero page got there first
 * (s2_host_zero_wins()) - and perhaps another writer's copy of it is
 * already under way.  Checked at the fault's next shared step, the
 * mmu_lock, which is when the clear ends (the prelock what-if cleans
 * first), so that a first touch costs no extra event.
 */
static bool entry_lost(struct s2_vm *vm, struct s2_fault *f, uint64_t now)
{
	const struct s2_memslot *slot = fault_slot(vm, f);
	uint64_t key = fault_hva(slot, f->ipa) / s2_backing_host_page(slot->backing);
	enum s2_host_state state;
	uint64_t ready;

	f->entry_pending = false;
	state = s2_host_page(&vm->host[f->slot], key, now, &ready);
	return state == S2_HOST_ZERO || state == S2_HOST_COPYING;
}

/*
 * The lost first touch frees its page and GUP faults again, on the zero
 * page this time - a copy-on-write, or for THP a split.  This step becomes
 * that second pass of GUP (and is charged as one); its notifier steps go
 * in front of the lock, taken again after them.  The sequence sampled
 * before GUP stays, as in the kernel.
 */
static uint64_t refault_on_zero_page(struct s2_vm *vm, struct s2_fault *f, struct s2_op *lock,
				     uint64_t now)
{
	struct s2_op again = *lock;

	vm->c.zero_duplicate++;
	lock->kind = OP_GUP;
	s2_fault_splice(f, &again, 1);
	return host_fault(vm, f, now);
}

/* transparent_hugepage_adjust(): only PMD-sized THP, only if the block fits the memslot. */
static void thp_adjust(struct s2_vm *vm, struct s2_fault *f)
{
	const struct s2_memslot *slot = fault_slot(vm, f);

	if (f->vma_pagesize == PAGE_SIZE && !f->force_pte && slot->backing == S2_BACKING_THP &&
	    !f->host_small && supports_huge_mapping(slot, fault_hva(slot, f->ipa), PMD_SIZE)) {
		f->vma_pagesize = PMD_SIZE;
		f->ipa &= ~(PMD_SIZE - 1);
		f->phys &= ~(PMD_SIZE - 1);
	}
}

/* The abort-site (or prelock) D-cache clean: translation faults, over vma_pagesize. */
static uint64_t op_site_dclean(struct s2_vm *vm, struct s2_fault *f)
{
	thp_adjust(vm, f);	/* done already under the lock; the what-if does it here */
	if (f->kind == S2_FAULT_PERMISSION)
		return 0;
	return s2_dclean(vm, f->vma_pagesize, f->zeroed_bytes, S2_CMO_FAULT);
}

static uint64_t op_site_iinval(struct s2_vm *vm, struct s2_fault *f, uint64_t now)
{
	return f->exec_fault ? s2_iinval(vm, now, f->vma_pagesize) : 0;
}

/*
 * Under the lock, before the walk: "if (mmu_notifier_retry(kvm, mmu_seq))
 * goto out_unlock;" - an invalidation in progress or finished since the
 * sequence was sampled sends the vCPU back without a walk (and, in v5.13,
 * before the CMOs).  Then THP adjust and prot.
 */
static uint64_t op_locked_prep(struct s2_vm *vm, struct s2_fault *f)
{
	if (vm->mmu_inval_count || vm->mmu_seq != f->mmu_seq) {
		f->aborted = true;
		f->outcome = S2_OUT_EAGAIN;
		f->eagain = S2_EAGAIN_NOTIFIER;
		return 0;
	}
	thp_adjust(vm, f);
	f->prot = KVM_PGTABLE_PROT_R;
	if (f->writable)
		f->prot |= KVM_PGTABLE_PROT_W;
	if (f->exec_fault || vm->prof->dic)
		f->prot |= KVM_PGTABLE_PROT_X;
	if (f->kind != S2_FAULT_PERMISSION)
		vm->c.dclean_abort_site_bytes += f->vma_pagesize;
	return 0;
}

/*
 * Which side of mmu_lock: v5.18's fast path takes the read side only for a
 * dirty-logging write fault on a PAGE_SIZE leaf (it can only relax); v6.2
 * takes it for every fault.
 */
static bool fault_takes_write_lock(const struct s2_vm *vm, const struct s2_fault *f)
{
	switch (vm->pol->lock) {
	case S2_LOCK_RW_READ:
		return false;
	case S2_LOCK_RW_FASTPATH:
		return !(f->logging && f->kind == S2_FAULT_PERMISSION && f->write_fault &&
			 s2_granule(f->fault_level) == PAGE_SIZE);
	default:
		return true;
	}
}

static uint64_t op_lock(struct s2_vm *vm, uint32_t vcpu, struct s2_fault *f,
		       const struct s2_op *op, uint64_t now)
{
	uint64_t cycles;

	f->lock_write = op->size || f->exclusive || fault_takes_write_lock(vm, f);
	return s2_lock_try(vm, vcpu, now, f->lock_write, &cycles) ? cycles : UINT64_MAX;
}

/* "if (fault_status == FSC_PERM && vma_pagesize == fault_granule)" relax, else map. */
static uint64_t op_walk(struct s2_vm *vm, struct s2_fault *f)
{
	struct s2_op plan[S2_MAX_OPS];
	uint32_t nr = 0;

	if (f->kind == S2_FAULT_PERMISSION && f->vma_pagesize == s2_granule(f->fault_level))
		s2_plan_relax(vm, f, plan, &nr);
	else
		s2_plan_map(vm, f, plan, &nr);
	s2_fault_splice(f, plan, nr);
	return 0;
}

/* Tables compare by kind: the model keeps a child count where the kernel keeps an address. */
static bool pte_same(kvm_pte_t a, kvm_pte_t b, uint32_t level)
{
	if (kvm_pte_table(a, level) || kvm_pte_table(b, level))
		return kvm_pte_table(a, level) && kvm_pte_table(b, level);
	return a == b;
}

/*
 * A shared walker's cmpxchg: the entry must still hold what the walker
 * read.  Under the exclusive lock nobody else can have changed it.
 */
static bool entry_unchanged(struct s2_vm *vm, struct s2_fault *f, const struct s2_op *op)
{
	kvm_pte_t cur = s2pt_get(&vm->pgt, op->level, op->ipa);

	if (pte_same(cur, op->old, op->level))
		return true;
	g_assert(vm->pol->brk == S2_BREAK_CMPXCHG);
	f->aborted = true;
	f->outcome = S2_OUT_EAGAIN;
	f->eagain = stage2_pte_is_locked(cur) ? S2_EAGAIN_LOCKED : S2_EAGAIN_LOST_RACE;
	return false;
}

/*
 * The walker reads an entry when it reaches it.  A table that another
 * walker installed since the plan was made is simply descended into: skip
 * our break and our table for that level.
 */
static bool table_appeared(struct s2_vm *vm, struct s2_fault *f, struct s2_op *op)
{
	struct s2_op *table = op;

	if (op->kind == OP_BREAK)
		table = &f->ops[f->pc + 1];
	if (table->kind != OP_TABLE || table->level != op->level ||
	    !kvm_pte_table(s2pt_get(&vm->pgt, op->level, op->ipa), op->level))
		return false;
	table->kind = OP_STEP;
	table->size = 0;
	return true;
}

static uint64_t entry_base(const struct s2_op *op)
{
	return op->ipa & ~(s2_granule(op->level) - 1);
}

static uint64_t op_break(struct s2_vm *vm, struct s2_fault *f, struct s2_op *op)
{
	bool shared = vm->pol->brk == S2_BREAK_CMPXCHG;

	if (shared && table_appeared(vm, f, op))
		return 0;
	if (!entry_unchanged(vm, f, op))
		return 0;
	/*
	 * A table being replaced is unreachable from here on: drop its
	 * subtree now (its teardown is charged where the kernel does it).
	 */
	if (kvm_pte_table(op->old, op->level))
		f->freed = s2pt_free_subtree(&vm->pgt, op->level, op->ipa);
	s2pt_set(&vm->pgt, op->level, entry_base(op), shared ? KVM_INVALID_PTE_LOCKED : 0);
	if (!shared)	/* a LOCKED entry shows itself in the table */
		s2_break_add(vm, entry_base(op), s2_granule(op->level));
	return 0;
}

/* stage2_make_pte(): a leaf where our break left the entry ours, or an invalid one. */
static bool shared_walk(const struct s2_vm *vm)
{
	return vm->pol->brk == S2_BREAK_CMPXCHG;
}

static uint64_t op_make(struct s2_vm *vm, struct s2_fault *f, const struct s2_op *op)
{
	if (!op->after_break && shared_walk(vm) && !entry_unchanged(vm, f, op))
		return 0;
	s2_check_path(vm, op->level, op->ipa);
	s2pt_set(&vm->pgt, op->level, entry_base(op), op->pte);
	s2_break_del(vm, entry_base(op));
	vm->c.maps_by_level[op->level]++;
	vm->c.table_collapses += kvm_pte_table(op->old, op->level);
	return 0;
}

/*
 * The relax walker's store.  Shared (v6.2) it is a cmpxchg that may lose;
 * v5.18's read-locked fast path does a plain WRITE_ONCE that other
 * read-side relaxers of the same PTE may already have done: the same bits,
 * so storing again is harmless.
 */
static uint64_t op_set_attr(struct s2_vm *vm, struct s2_fault *f, const struct s2_op *op)
{
	if (vm->pol->brk == S2_BREAK_CMPXCHG && !entry_unchanged(vm, f, op))
		return 0;
	s2pt_set(&vm->pgt, op->level, entry_base(op), op->pte);
	return 0;
}

/* kvm_set_table_pte() with a page from the vCPU's memcache, topped up before the lock. */
static uint64_t op_table(struct s2_vm *vm, struct s2_vcpu_model *v, struct s2_fault *f,
			 const struct s2_op *op)
{
	if (!op->after_break && shared_walk(vm) && !entry_unchanged(vm, f, op))
		return 0;
	g_assert(v->memcache > 0);
	v->memcache--;
	vm->c.pt_pages_allocated++;
	vm->c.block_splits += kvm_pte_valid(op->old);
	s2_check_path(vm, op->level, op->ipa);
	s2pt_set(&vm->pgt, op->level, entry_base(op), s2_make_table(0));
	s2_break_del(vm, entry_base(op));
	return 0;
}

/*
 * The old table under a new block: v5.13..v6.1 drop its leaves inside the
 * break window (teardown per entry); v6.2 frees it after an RCU grace
 * period, off the faulting vCPU's path (op->size marks that).
 */
static uint64_t op_free_subtree(struct s2_vm *vm, struct s2_fault *f, const struct s2_op *op)
{
	uint64_t freed = f->freed;

	if (f->aborted)
		return 0;
	f->freed = 0;
	vm->c.pt_entries_freed += freed;
	if (op->size)
		return 0;
	return freed * vm->prof->teardown_per_pte;
}

/*
 * __kvm_tlb_flush_vmid_ipa: TLBI IPAS2E1IS + DSB ISH + TLBI VMALLE1IS + DSB ISH;
 * __kvm_tlb_flush_vmid: TLBI VMALLS12E1IS + DSB ISH;
 * __kvm_tlb_flush_vmid_range (v6.6): TLBI RIPAS2E1IS + DSB ISH + TLBI VMALLE1IS + DSB ISH;
 * __kvm_tlb_flush_vmid_ipa_nsh (v6.5): the non-shareable forms, no DVM broadcast.
 */
static uint64_t op_tlbi(struct s2_vm *vm, const struct s2_op *op, uint64_t now)
{
	vm->c.tlbi[op->cause]++;
	switch (op->kind) {
	case OP_TLBI_LOCAL:
		vm->c.tlbi_local++;
		return vm->prof->tlbi_local_nsh;
	case OP_TLBI_VMID:
		return s2_tlbi_cycles(vm, now, 1);
	default:
		return s2_tlbi_cycles(vm, now, 2);
	}
}

/*
 * The end of the fault's critical section: one place counts how the walk
 * ended.  Other holds (a notifier's, a flush's: size 1) count nothing.
 */
static uint64_t op_unlock(struct s2_vm *vm, struct s2_fault *f, const struct s2_op *op,
			  uint64_t now)
{
	if (!op->size) {
		vm->c.outcome[f->outcome]++;
		if (f->outcome == S2_OUT_EAGAIN)
			vm->c.eagain[f->eagain]++;
	}
	s2_lock_release(vm, now, f->lock_write);
	return 0;
}

/* Where each step's cycles go: the summary's breakdown and the timeline. */
static const uint8_t op_cost_kind[] = {
	[OP_EXIT] = S2_COST_EXIT_ENTRY,
	[OP_ENTRY] = S2_COST_EXIT_ENTRY,
	[OP_PREPARE] = S2_COST_HANDLER,
	[OP_STEP] = S2_COST_HANDLER,
	[OP_TOPUP] = S2_COST_PGTABLE,
	[OP_FREE_SUBTREE] = S2_COST_PGTABLE,
	[OP_GUP] = S2_COST_ZERO,
	[OP_LOCK] = S2_COST_LOCK_WAIT,
	[OP_DCLEAN] = S2_COST_DCACHE,
	[OP_IINVAL] = S2_COST_ICACHE,
	[OP_TLBI_IPA] = S2_COST_TLBI,
	[OP_TLBI_LOCAL] = S2_COST_TLBI,
	[OP_TLBI_VMID] = S2_COST_TLBI,
	[OP_TLBI_RANGE] = S2_COST_TLBI,
	[OP_MMIO] = S2_COST_MMIO,
	[OP_LOCKED_PREP] = S2_COST_HANDLER,
	[OP_WALK] = S2_COST_HANDLER,
	[OP_BREAK] = S2_COST_HANDLER,
	[OP_MAKE] = S2_COST_HANDLER,
	[OP_SET_ATTR] = S2_COST_HANDLER,
	[OP_TABLE] = S2_COST_HANDLER,
	[OP_UNLOCK] = S2_COST_HANDLER,
	[OP_TRAP] = S2_COST_HANDLER,
	[OP_FLUSH_CHUNK] = S2_COST_VMFLUSH,
	[OP_NOTIFIER_START] = S2_COST_HANDLER,
	[OP_NOTIFIER_END] = S2_COST_HANDLER,
	[OP_UNMAP] = S2_COST_TLBI,
	[OP_CHANGE_PTE] = S2_COST_HANDLER,
};

/* One step; returns its cycles, or UINT64_MAX when the vCPU blocks on the lock. */
static uint64_t run_op(struct s2_vm *vm, uint32_t vcpu, struct s2_op *op, uint64_t now)
{
	struct s2_vcpu_model *v = &vm->vcpus[vcpu];
	struct s2_fault *f = &v->fault;
	const struct s2_profile *p = vm->prof;

	switch (op->kind) {
	case OP_EXIT:
		return p->exit_entry / 2;
	case OP_ENTRY:
		return p->exit_entry - p->exit_entry / 2;
	case OP_MMIO:
		f->outcome = S2_OUT_MMIO;
		vm->c.outcome[S2_OUT_MMIO]++;
		return p->exit_to_user;
	case OP_PREPARE:
		return op_prepare(vm, f);
	case OP_TOPUP:
		return op_topup(vm, v, f);
	case OP_GUP:
		return op_gup(vm, f, now);
	case OP_LOCK:
		if (f->entry_pending && entry_lost(vm, f, now))
			return refault_on_zero_page(vm, f, op, now);
		return op_lock(vm, vcpu, f, op, now);
	case OP_LOCKED_PREP:
		return op_locked_prep(vm, f);
	case OP_WALK:
		return op_walk(vm, f);
	case OP_STEP:
		return op->size;
	case OP_BREAK:
		return op_break(vm, f, op);
	case OP_MAKE:
		return op_make(vm, f, op);
	case OP_SET_ATTR:
		return op_set_attr(vm, f, op);
	case OP_TABLE:
		return op_table(vm, v, f, op);
	case OP_FREE_SUBTREE:
		return op_free_subtree(vm, f, op);
	case OP_TLBI_IPA:
	case OP_TLBI_LOCAL:
	case OP_TLBI_VMID:
	case OP_TLBI_RANGE:
		return op_tlbi(vm, op, now);
	case OP_DCLEAN:
		if (!op->size)
			return op_site_dclean(vm, f);
		return s2_dclean(vm, op->size, f->zeroed_bytes, S2_CMO_FAULT);
	case OP_IINVAL:
		if (!op->size)
			return op_site_iinval(vm, f, now);
		return s2_iinval(vm, now, op->size);
	case OP_UNLOCK:
		return op_unlock(vm, f, op, now);
	case OP_TRAP:
		return s2_op_trap(vm, vcpu, f, op);
	case OP_FLUSH_CHUNK:
		return s2_op_flush_chunk(vm, f, op);
	case OP_NOTIFIER_START:
		vm->mmu_inval_count++;
		return 0;
	case OP_NOTIFIER_END:
		vm->mmu_inval_count--;
		vm->mmu_seq++;
		return 0;
	case OP_UNMAP:
		return s2_unmap_range(vm, op->ipa, op->size, now);
	case OP_CHANGE_PTE:
		return s2_op_change_pte(vm, f, op);
	}
	g_assert_not_reached();
}

void s2_vm_span(struct s2_vm *vm, uint32_t vcpu, enum s2_cost_kind kind, uint64_t start,
		uint64_t cycles)
{
	if (vcpu < vm->hdr.nr_vcpus)	/* the host thread's time is not a vCPU's */
		vm->c.cost[kind] += cycles;
	if (vm->span)
		vm->span(vm->span_opaque, vcpu, kind, start, cycles);
}

/* After a lost cmpxchg the walker returns at once: only unlock and entry remain. */
static bool skipped(const struct s2_fault *f, const struct s2_op *op)
{
	return f->aborted && !op->on_eagain && op->kind != OP_UNLOCK && op->kind != OP_ENTRY;
}

/*
 * Steps whose effects no other actor can see (private time, this vCPU's
 * memcache and trap state, counters).  A run of them is computed in one go
 * at its start; only a step that touches shared state - the table, the
 * lock, the DVM path, host pages, the notifier sequence - or the end of the
 * fault waits for its own cycle.  The result is the same as one event per
 * step, with fewer events.
 */
/*
 * Sized like op_cost_kind, which names every kind: sized by its highest
 * initialiser (OP_TRAP), this table was read past its end for the kinds
 * after it (OP_FLUSH_CHUNK..., found by UBSan in test_boot).
 */
static const bool op_private[G_N_ELEMENTS(op_cost_kind)] = {
	[OP_EXIT] = true,
	[OP_ENTRY] = true,
	[OP_PREPARE] = true,
	[OP_TOPUP] = true,
	[OP_STEP] = true,
	[OP_DCLEAN] = true,
	[OP_FREE_SUBTREE] = true,
	[OP_TRAP] = true,
	[OP_MMIO] = true,
};

/*
 * Run steps up to the next one that must wait for its cycle, or until the
 * vCPU blocks.  A vCPU that blocked on the lock is woken past its OP_LOCK
 * step: the hand-off made it owner.
 */
enum s2_run s2_vm_fault_run(struct s2_vm *vm, uint32_t vcpu, uint64_t now, uint64_t *next)
{
	struct s2_vcpu_model *v = &vm->vcpus[vcpu];
	struct s2_fault *f = &v->fault;
	uint64_t t = now;	/* the cycle the next step starts at */

	while (f->pc < f->nr_ops) {
		struct s2_op *op = &f->ops[f->pc];
		uint64_t cycles;

		if (t > now && !op_private[op->kind]) {
			*next = t;
			return S2_RUN_WAIT;
		}
		cycles = skipped(f, op) ? 0 : run_op(vm, vcpu, op, t);
		if (cycles == UINT64_MAX)
			return S2_RUN_BLOCKED;
		f->pc++;
		if (cycles) {
			s2_vm_span(vm, vcpu, op_cost_kind[op->kind], t, cycles);
			t += cycles;
		}
	}
	if (t > now) {
		*next = t;
		return S2_RUN_WAIT;
	}
	v->fault_cycles += now - f->started;
	if (f->completes) {
		v->pending = false;
		return S2_RUN_COMPLETE;
	}
	return S2_RUN_DONE;
}
