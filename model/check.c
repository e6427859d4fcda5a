/*
 * model/check.c - invariants the model verifies about itself under
 * `sim --check`.  A violation is a bug in s2sim, not in the input: the
 * first one is kept and the run stops with it.
 */
#include <stdarg.h>

#include "internal.h"

void s2_vm_set_check(struct s2_vm *vm, bool on)
{
	vm->check = on;
}

const char *s2_vm_check_failure(const struct s2_vm *vm)
{
	return vm->check_failure;
}

void s2_check_fail(struct s2_vm *vm, const char *fmt, ...)
{
	va_list ap;

	if (vm->check_failure)
		return;
	va_start(ap, fmt);
	vm->check_failure = g_strdup_vprintf(fmt, ap);
	va_end(ap);
}

/* At most one holder of the write side, and never alongside readers. */
void s2_check_lock(struct s2_vm *vm, uint32_t vcpu, bool write)
{
	if (!vm->check)
		return;
	if (write && (vm->lock.writer || vm->lock.readers))
		s2_check_fail(vm, "actor %u got mmu_lock for write while %s held it", vcpu,
			      vm->lock.writer ? "a writer" : "readers");
	else if (!write && vm->lock.writer)
		s2_check_fail(vm, "actor %u got mmu_lock for read while a writer held it", vcpu);
}

/*
 * A PTE is never made valid below a broken entry: every ancestor of the
 * entry being stored must be a valid table.
 */
void s2_check_path(struct s2_vm *vm, uint32_t level, uint64_t ipa)
{
	if (!vm->check)
		return;
	for (uint32_t l = vm->pgt.start_level; l < level; l++) {
		kvm_pte_t pte = s2pt_get(&vm->pgt, l, ipa);

		if (!kvm_pte_table(pte, l)) {
			s2_check_fail(vm, "store at level %u for ipa 0x%" G_GINT64_MODIFIER
				      "x below a level-%u entry that is not a table (0x%"
				      G_GINT64_MODIFIER "x)", level, ipa, l, pte);
			return;
		}
	}
}

static uint64_t sum(const uint64_t *v, int n)
{
	uint64_t s = 0;

	for (int i = 0; i < n; i++)
		s += v[i];
	return s;
}

/* Once every actor is done: nothing held, nothing broken, CMOs accounted for. */
bool s2_vm_check_final(struct s2_vm *vm, GError **err)
{
	const struct s2_counters *c = &vm->c;
	uint64_t cost = sum(c->cost, S2_COST_NR), stalled = 0, faults = 0;

	if (vm->lock.writer || vm->lock.readers || vm->lock.len)
		s2_check_fail(vm, "mmu_lock still held or waited for at the end");
	if (vm->nr_breaks)
		s2_check_fail(vm, "%u entries still broken at the end", vm->nr_breaks);
	if (vm->mmu_inval_count)
		s2_check_fail(vm, "an MMU-notifier invalidation never ended");
	/* v5.14: a CMO only when a leaf is installed */
	if (vm->pol->cmo_site == S2_CMO_IN_WALKER &&
	    c->dclean_calls > sum(c->maps_by_level, 4) + c->change_pte_maps)
		s2_check_fail(vm, "walker policy cleaned %" G_GUINT64_FORMAT " times for %"
			      G_GUINT64_FORMAT " leaves installed", c->dclean_calls,
			      sum(c->maps_by_level, 4) + c->change_pte_maps);
	for (uint32_t v = 0; v < vm->hdr.nr_vcpus; v++) {
		stalled += vm->vcpus[v].fault_cycles;
		faults += vm->vcpus[v].faults;
	}
	if (faults != sum(c->faults, S2_FAULT_KIND_NR))
		s2_check_fail(vm, "per-vCPU faults add up to %" G_GUINT64_FORMAT ", totals say %"
			      G_GUINT64_FORMAT, faults, sum(c->faults, S2_FAULT_KIND_NR));
	if (stalled != cost)
		s2_check_fail(vm, "per-vCPU fault cycles add up to %" G_GUINT64_FORMAT
			      ", the cost breakdown to %" G_GUINT64_FORMAT, stalled, cost);
	if (vm->check_failure) {
		g_set_error(err, S2_MODEL_ERROR, 1, "check failed: %s", vm->check_failure);
		return false;
	}
	return true;
}
