/*
 * model/walker.c - the stage-2 walkers of arch/arm64/kvm/hyp/pgtable.c:
 * kvm_pgtable_stage2_map() and kvm_pgtable_stage2_relax_perms(), planned as
 * steps for the fault pipeline.
 *
 * Two ways of breaking an entry, as the policy says:
 *  - locked (v5.13..v6.1): under the exclusive lock, kvm_clear_pte() + TLBI
 *    for a valid entry, nothing for an invalid one; nobody can race.
 *  - cmpxchg (v6.2+, shared walks): stage2_try_break_pte() swaps whatever it
 *    read for KVM_INVALID_PTE_LOCKED (TLBI if it was valid),
 *    stage2_make_pte() stores the new value.  A walker that reads LOCKED, or
 *    whose cmpxchg fails when the step runs, gives up with -EAGAIN.
 * Each mutating step carries the value the walker read (op.old) so that the
 * executor can do the cmpxchg when the step runs.  The v5.14+ cache
 * maintenance is emitted only when the policy puts the CMOs in the walker.
 */
#include "internal.h"

#define MAX_DVM_OPS	512	/* PTRS_PER_PTE with 4 KiB pages (asm/tlbflush.h, v6.7) */

static void emit(struct s2_op *ops, uint32_t *nr, struct s2_op op)
{
	g_assert(*nr < S2_MAX_OPS);
	ops[(*nr)++] = op;
}

/* Reaching @level costs one step: the walker reads each entry when it gets there. */
static void emit_step(struct s2_vm *vm, struct s2_op *ops, uint32_t *nr)
{
	emit(ops, nr, (struct s2_op){ .kind = OP_STEP, .size = vm->prof->walk_level });
}

static uint32_t target_level(uint64_t size)
{
	return size == s2_granule(1) ? 1 : size == s2_granule(2) ? 2 : 3;
}

uint32_t s2_walk_depth(const struct s2_vm *vm, uint64_t size)
{
	return target_level(size) - vm->pgt.start_level + 1;
}

static bool shared_walk(const struct s2_vm *vm)
{
	return vm->pol->brk == S2_BREAK_CMPXCHG;
}

/*
 * v5.14 stage2_map_walker_try_leaf(): "Perform CMOs before installation of
 * the guest stage-2 PTE" - D-cache for a cacheable leaf, I-cache for an
 * executable one, over the leaf granule.
 */
static void emit_walker_cmos(struct s2_vm *vm, kvm_pte_t new, uint32_t level,
			     struct s2_op *ops, uint32_t *nr)
{
	if (vm->pol->cmo_site != S2_CMO_IN_WALKER)
		return;
	emit(ops, nr, (struct s2_op){ .kind = OP_DCLEAN, .size = s2_granule(level) });
	if (stage2_pte_executable(new))
		emit(ops, nr, (struct s2_op){ .kind = OP_IINVAL, .size = s2_granule(level) });
}

/*
 * The TLBI that goes with breaking @old: a table takes the whole VMID
 * (v6.6: a range when the CPU has FEAT_TLBIRANGE), a leaf its IPA.
 */
static bool emit_break(struct s2_vm *vm, uint64_t ipa, uint32_t level, kvm_pte_t old,
		       uint8_t cause, struct s2_op *ops, uint32_t *nr)
{
	uint8_t tlbi = OP_TLBI_IPA;

	if (!kvm_pte_valid(old) && !shared_walk(vm))
		return false;
	emit(ops, nr, (struct s2_op){ .kind = OP_BREAK, .level = level, .ipa = ipa, .old = old });
	if (!kvm_pte_valid(old))
		return true;
	if (kvm_pte_table(old, level))
		tlbi = vm->pol->range_tlbi && vm->prof->tlbirange ? OP_TLBI_RANGE : OP_TLBI_VMID;
	emit(ops, nr, (struct s2_op){ .kind = tlbi, .level = level, .ipa = ipa, .cause = cause,
				      .size = s2_granule(level) });
	return true;
}

static bool give_up(struct s2_fault *f, enum s2_eagain_cause why)
{
	f->outcome = S2_OUT_EAGAIN;
	f->eagain = why;
	return false;
}

/*
 * The entry at the mapping's own level.  A table there is replaced by the
 * block: v5.13..v6.1 stage2_map_walk_table_pre() clears it with a TLBI of
 * the whole VMID, drops the leaves below (the teardown, inside the window)
 * and installs the block in table_post; v6.2 breaks it, installs the block
 * and frees the old table after an RCU grace period (off this vCPU's path).
 * A leaf is replaced only if more than its permissions differ.
 */
static void plan_leaf(struct s2_vm *vm, struct s2_fault *f, uint32_t level, kvm_pte_t old,
		      struct s2_op *ops, uint32_t *nr)
{
	kvm_pte_t new = s2_make_leaf(f->phys, level, f->prot, vm->prof->fwb);
	bool table = kvm_pte_table(old, level), broke;

	if (stage2_pte_is_locked(old)) {
		give_up(f, S2_EAGAIN_LOCKED);
		return;
	}
	if (kvm_pte_valid(old) && !table && !stage2_pte_needs_update(old, new)) {
		give_up(f, S2_EAGAIN_IDENTICAL);
		return;
	}
	broke = emit_break(vm, f->ipa, level, old, table ? S2_TLBI_BBM_TABLE : S2_TLBI_BBM_LEAF,
			   ops, nr);
	if (table && !shared_walk(vm))
		emit(ops, nr, (struct s2_op){ .kind = OP_FREE_SUBTREE, .level = level, .ipa = f->ipa });
	emit_walker_cmos(vm, new, level, ops, nr);
	emit(ops, nr, (struct s2_op){ .kind = OP_MAKE, .level = level, .ipa = f->ipa, .pte = new,
				      .old = old, .after_break = broke });
	if (table && shared_walk(vm))
		emit(ops, nr, (struct s2_op){ .kind = OP_FREE_SUBTREE, .level = level, .ipa = f->ipa,
					      .size = 1 /* RCU-deferred: no cost here */ });
	f->outcome = S2_OUT_MAPPED;
}

/*
 * The entry the walker reads at @level: the lookup found where the path
 * ends (every entry above it is a table, none below it exists), so only an
 * entry deeper than that end - a table - needs reading.
 */
static kvm_pte_t entry_at(const struct s2_vm *vm, const struct s2_walk_result *end,
			  uint32_t level, uint64_t ipa)
{
	if (level > end->level)
		return 0;
	if (level == end->level)
		return end->pte;
	return s2pt_get(&vm->pgt, level, ipa);	/* a table above the path's end */
}

void s2_plan_map(struct s2_vm *vm, struct s2_fault *f, struct s2_op *ops, uint32_t *nr)
{
	uint32_t target = target_level(f->vma_pagesize);
	bool below_new_table = false;
	struct s2_walk_result end;

	s2pt_lookup(&vm->pgt, f->ipa, &end);
	for (uint32_t level = vm->pgt.start_level; level < target; level++) {
		kvm_pte_t pte;

		emit_step(vm, ops, nr);
		if (level < end.level)	/* a table, by the lookup */
			continue;
		pte = below_new_table ? 0 : entry_at(vm, &end, level, f->ipa);
		if (stage2_pte_is_locked(pte)) {
			give_up(f, S2_EAGAIN_LOCKED);
			return;
		}
		/*
		 * Invalid, or a block where a smaller mapping is wanted: try_leaf
		 * gives -E2BIG and stage2_map_walk_leaf() installs a table (for a
		 * block, stage2_put_pte: clear + TLBI by IPA).  "Accesses beyond
		 * 'end' that fall within the new table will be mapped lazily."
		 */
		bool broke = emit_break(vm, f->ipa, level, pte, S2_TLBI_BBM_LEAF, ops, nr);

		emit(ops, nr, (struct s2_op){ .kind = OP_TABLE, .level = level, .ipa = f->ipa,
					      .old = pte, .after_break = broke });
		below_new_table = true;
	}
	emit_step(vm, ops, nr);
	plan_leaf(vm, f, target, below_new_table ? 0 : entry_at(vm, &end, target, f->ipa), ops, nr);
}

/*
 * kvm_pgtable_stage2_relax_perms() -> stage2_attr_walker(): set the new
 * permissions on the leaf if they change it (v5.14+: invalidate the I-cache
 * first when X is newly granted), then
 *   "if (!ret) kvm_call_hyp(__kvm_tlb_flush_vmid_ipa, ...)"
 * The exclusive walker returns 0 even for an invalid entry; the shared one
 * (v6.2) returns -EAGAIN for it, and its cmpxchg may lose (the I-cache
 * work already done is then wasted).  v6.5 flushes locally, and after the
 * -EAGAIN fix also when the walk gave up: "if (!ret || ret == -EAGAIN)".
 */
void s2_plan_relax(struct s2_vm *vm, struct s2_fault *f, struct s2_op *ops, uint32_t *nr)
{
	bool local = vm->pol->relax_tlbi == S2_RELAX_TLBI_LOCAL;
	struct s2_walk_result res;
	kvm_pte_t set = 0, clr = 0, new;

	s2pt_lookup(&vm->pgt, f->ipa, &res);
	for (uint32_t level = vm->pgt.start_level; level <= res.level; level++)
		emit_step(vm, ops, nr);
	f->outcome = S2_OUT_RELAX_NOOP;
	if (f->prot & KVM_PGTABLE_PROT_R)
		set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
	if (f->prot & KVM_PGTABLE_PROT_W)
		set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
	if (f->prot & KVM_PGTABLE_PROT_X)
		clr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
	new = (res.pte & ~clr) | set;
	if (!kvm_pte_valid(res.pte) && shared_walk(vm)) {
		give_up(f, S2_EAGAIN_INVALID);
	} else if (kvm_pte_valid(res.pte) && new != res.pte) {
		uint64_t base = f->ipa & ~(s2_granule(res.level) - 1);

		if (vm->pol->cmo_site == S2_CMO_IN_WALKER && stage2_pte_executable(new) &&
		    !stage2_pte_executable(res.pte))
			emit(ops, nr, (struct s2_op){ .kind = OP_IINVAL, .size = s2_granule(res.level) });
		emit(ops, nr, (struct s2_op){ .kind = OP_SET_ATTR, .level = res.level, .ipa = base,
					      .pte = new, .old = res.pte });
		f->outcome = S2_OUT_RELAXED;
	}
	if (f->outcome == S2_OUT_EAGAIN && !local)
		return;
	emit(ops, nr, (struct s2_op){ .kind = local ? OP_TLBI_LOCAL : OP_TLBI_IPA,
				      .level = res.level, .ipa = f->ipa, .cause = S2_TLBI_RELAX,
				      .on_eagain = local });
}

/*
 * icache_inval_pou over @bytes; v6.7 __invalidate_icache_guest_page():
 * "if (icache_is_aliasing() || size > __invalidate_icache_max_range())
 * icache_inval_all_pou()", the range being MAX_DVM_OPS I-cache lines.
 */
bool s2_icache_whole(const struct s2_vm *vm, uint64_t bytes)
{
	if (vm->prof->icache == S2_ICACHE_VIPT)
		return true;
	return vm->pol->icache == S2_ICACHE_IALLU_ABOVE_MAX &&
	       bytes > MAX_DVM_OPS * vm->prof->iline;
}
