/*
 * model/walker.c - the stage-2 walkers of arch/arm64/kvm/hyp/pgtable.c
 * (v5.13/v5.14): kvm_pgtable_stage2_map() and
 * kvm_pgtable_stage2_relax_perms(), planned as steps for the fault pipeline.
 *
 * Planning runs under the exclusive mmu_lock, so the table cannot change
 * between the plan and its steps; a level below a table the plan creates
 * is known to be empty.  The cache maintenance the v5.14 walker does is
 * emitted only when the policy puts the CMOs in the walker.
 */
#include "internal.h"

static void emit(struct s2_op *ops, uint32_t *nr, struct s2_op op)
{
	g_assert(*nr < S2_MAX_OPS);
	ops[(*nr)++] = op;
}

static uint32_t target_level(uint64_t size)
{
	return size == s2_granule(1) ? 1 : size == s2_granule(2) ? 2 : 3;
}

uint32_t s2_walk_depth(const struct s2_vm *vm, uint64_t size)
{
	return target_level(size) - vm->pgt.start_level + 1;
}

static bool cmos_in_walker(const struct s2_vm *vm)
{
	return vm->pol->cmo_site == S2_CMO_IN_WALKER;
}

/*
 * v5.14 stage2_map_walker_try_leaf(): "Perform CMOs before installation of
 * the guest stage-2 PTE" - D-cache for a cacheable leaf, I-cache for an
 * executable one, over the leaf granule.
 */
static void emit_walker_cmos(struct s2_vm *vm, kvm_pte_t new, uint32_t level,
			     struct s2_op *ops, uint32_t *nr)
{
	if (!cmos_in_walker(vm))
		return;
	emit(ops, nr, (struct s2_op){ .kind = OP_DCLEAN, .size = s2_granule(level) });
	if (stage2_pte_executable(new))
		emit(ops, nr, (struct s2_op){ .kind = OP_IINVAL, .size = s2_granule(level) });
}

static void emit_break(uint64_t ipa, uint32_t level, uint8_t tlbi, uint8_t cause,
		       struct s2_op *ops, uint32_t *nr)
{
	emit(ops, nr, (struct s2_op){ .kind = OP_BREAK, .level = level, .ipa = ipa });
	emit(ops, nr, (struct s2_op){ .kind = tlbi, .level = level, .ipa = ipa, .cause = cause });
}

/*
 * The entry at the mapping's own level.  A table there is replaced by the
 * block (stage2_map_walk_table_pre: clear, TLBI of the whole VMID, then the
 * leaves below the anchor are dropped and the block installed in
 * table_post); a leaf is replaced only if more than its permissions differ.
 */
static void plan_leaf(struct s2_vm *vm, struct s2_fault *f, uint32_t level, kvm_pte_t old,
		      struct s2_op *ops, uint32_t *nr)
{
	kvm_pte_t new = s2_make_leaf(f->phys, level, f->prot, vm->prof->fwb);

	if (kvm_pte_table(old, level)) {
		vm->c.table_collapses++;
		emit_break(f->ipa, level, OP_TLBI_VMID, S2_TLBI_BBM_TABLE, ops, nr);
		emit(ops, nr, (struct s2_op){ .kind = OP_FREE_SUBTREE, .level = level, .ipa = f->ipa });
	} else if (kvm_pte_valid(old)) {
		if (!stage2_pte_needs_update(old, new)) {
			f->outcome = S2_OUT_EAGAIN;
			return;
		}
		emit_break(f->ipa, level, OP_TLBI_IPA, S2_TLBI_BBM_LEAF, ops, nr);
	}
	emit_walker_cmos(vm, new, level, ops, nr);
	emit(ops, nr, (struct s2_op){ .kind = OP_MAKE, .level = level, .ipa = f->ipa, .pte = new });
	f->outcome = S2_OUT_MAPPED;
	vm->c.maps_by_level[level]++;
}

void s2_plan_map(struct s2_vm *vm, struct s2_fault *f, struct s2_op *ops, uint32_t *nr)
{
	uint32_t target = target_level(f->vma_pagesize);
	bool below_new_table = false;

	for (uint32_t level = vm->pgt.start_level; level < target; level++) {
		kvm_pte_t pte = below_new_table ? 0 : s2pt_get(&vm->pgt, level, f->ipa);

		if (kvm_pte_table(pte, level))
			continue;
		if (kvm_pte_valid(pte)) {
			/*
			 * A block where a smaller mapping is wanted: try_leaf gives
			 * -E2BIG and stage2_map_walk_leaf() splits it (stage2_put_pte:
			 * clear + TLBI by IPA).  "Accesses beyond 'end' that fall
			 * within the new table will be mapped lazily."
			 */
			vm->c.block_splits++;
			emit_break(f->ipa, level, OP_TLBI_IPA, S2_TLBI_BBM_LEAF, ops, nr);
		}
		emit(ops, nr, (struct s2_op){ .kind = OP_TABLE, .level = level, .ipa = f->ipa });
		below_new_table = true;
	}
	plan_leaf(vm, f, target, below_new_table ? 0 : s2pt_get(&vm->pgt, target, f->ipa),
		  ops, nr);
}

/*
 * kvm_pgtable_stage2_relax_perms() -> stage2_attr_walker(): set the new
 * permissions on the leaf if they change it (v5.14: invalidate the I-cache
 * first when X is newly granted), then - whatever the walker did -
 * "if (!ret) kvm_call_hyp(__kvm_tlb_flush_vmid_ipa, ...)".
 */
void s2_plan_relax(struct s2_vm *vm, struct s2_fault *f, struct s2_op *ops, uint32_t *nr)
{
	struct s2_walk_result res;
	kvm_pte_t set = 0, clr = 0, new;

	s2pt_lookup(&vm->pgt, f->ipa, &res);
	f->outcome = S2_OUT_RELAX_NOOP;
	if (f->prot & KVM_PGTABLE_PROT_R)
		set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_R;
	if (f->prot & KVM_PGTABLE_PROT_W)
		set |= KVM_PTE_LEAF_ATTR_LO_S2_S2AP_W;
	if (f->prot & KVM_PGTABLE_PROT_X)
		clr |= KVM_PTE_LEAF_ATTR_HI_S2_XN;
	new = (res.pte & ~clr) | set;
	if (kvm_pte_valid(res.pte) && new != res.pte) {
		uint64_t base = f->ipa & ~(s2_granule(res.level) - 1);

		if (cmos_in_walker(vm) && stage2_pte_executable(new) &&
		    !stage2_pte_executable(res.pte))
			emit(ops, nr, (struct s2_op){ .kind = OP_IINVAL, .size = s2_granule(res.level) });
		emit(ops, nr, (struct s2_op){ .kind = OP_MAKE, .level = res.level, .ipa = base, .pte = new });
		f->outcome = S2_OUT_RELAXED;
	}
	emit(ops, nr, (struct s2_op){ .kind = OP_TLBI_IPA, .level = res.level, .ipa = f->ipa,
				      .cause = S2_TLBI_RELAX });
}
