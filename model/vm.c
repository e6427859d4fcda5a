/*
 * model/vm.c - create and tear down the VM model; names for its counters.
 */
#include "internal.h"

static const char *const cost_names[S2_COST_NR] = {
	[S2_COST_EXIT_ENTRY] = "exit_entry",
	[S2_COST_HANDLER] = "handler",
	[S2_COST_LOCK_WAIT] = "lock_wait",
	[S2_COST_DCACHE] = "dcache_clean",
	[S2_COST_ICACHE] = "icache_inval",
	[S2_COST_TLBI] = "tlbi",
	[S2_COST_ZERO] = "host_zeroing",
	[S2_COST_PGTABLE] = "pgtable_pages",
	[S2_COST_MMIO] = "mmio",
	[S2_COST_VMFLUSH] = "whole_vm_flush",
};

static const char *const fault_names[S2_FAULT_KIND_NR] = {
	[S2_FAULT_TRANSLATION] = "translation",
	[S2_FAULT_PERMISSION] = "permission",
	[S2_FAULT_MMIO] = "mmio",
};

static const char *const outcome_names[S2_OUT_NR] = {
	[S2_OUT_MAPPED] = "mapped",
	[S2_OUT_RELAXED] = "relaxed",
	[S2_OUT_RELAX_NOOP] = "relax_noop",
	[S2_OUT_EAGAIN] = "eagain",
	[S2_OUT_MMIO] = "mmio",
};

static const char *const tlbi_names[S2_TLBI_CAUSE_NR] = {
	[S2_TLBI_RELAX] = "relax_perms",
	[S2_TLBI_BBM_LEAF] = "bbm_leaf",
	[S2_TLBI_BBM_TABLE] = "bbm_table_vmid",
	[S2_TLBI_WP] = "write_protect_vmid",
	[S2_TLBI_UNMAP] = "unmap",
	[S2_TLBI_SPLIT] = "eager_split",
};

static const char *const eagain_names[S2_EAGAIN_CAUSE_NR] = {
	[S2_EAGAIN_IDENTICAL] = "identical_pte",
	[S2_EAGAIN_LOCKED] = "locked_pte",
	[S2_EAGAIN_LOST_RACE] = "lost_cmpxchg",
	[S2_EAGAIN_INVALID] = "relax_no_leaf",
	[S2_EAGAIN_NOTIFIER] = "notifier_retry",
};

const char *s2_cost_kind_name(enum s2_cost_kind k) { return cost_names[k]; }
const char *s2_fault_kind_name(enum s2_fault_kind k) { return fault_names[k]; }
const char *s2_outcome_name(enum s2_outcome o) { return outcome_names[o]; }
const char *s2_tlbi_cause_name(enum s2_tlbi_cause c) { return tlbi_names[c]; }
const char *s2_eagain_cause_name(enum s2_eagain_cause c) { return eagain_names[c]; }

struct s2_vm *s2_vm_new(const struct s2_trace_header *hdr, const struct s2_profile *prof,
			const struct s2_policy *pol)
{
	struct s2_vm *vm = g_new0(struct s2_vm, 1);

	vm->hdr = *hdr;
	vm->hdr.nr_phases = 0;	/* names stay with the caller's header */
	vm->prof = prof;
	vm->pol = pol;
	s2pt_init(&vm->pgt, hdr->ipa_bits);
	/* one more actor than vCPUs: the host thread that runs MMU notifiers */
	s2_lock_init(&vm->lock, hdr->nr_vcpus + 1);
	vm->vcpus = g_new0(struct s2_vcpu_model, hdr->nr_vcpus + 1);
	for (uint32_t i = 0; i < hdr->nr_vcpus; i++)
		vm->vcpus[i].tvm = !prof->fwb;	/* vcpu_reset_hcr() */
	return vm;
}

void s2_vm_free(struct s2_vm *vm)
{
	if (!vm)
		return;
	for (uint32_t i = 0; i < vm->hdr.nr_slots; i++)
		s2_host_pages_free(&vm->host[i]);
	s2pt_destroy(&vm->pgt);
	s2_lock_destroy(&vm->lock);
	g_free(vm->check_failure);
	g_free(vm->vcpus);
	g_free(vm);
}

void s2_vm_set_waker(struct s2_vm *vm, s2_wake_fn fn, void *opaque)
{
	vm->wake = fn;
	vm->wake_opaque = opaque;
}

void s2_vm_set_tracer(struct s2_vm *vm, s2_span_fn fn, void *opaque)
{
	vm->span = fn;
	vm->span_opaque = opaque;
}

const struct s2_counters *s2_vm_counters(const struct s2_vm *vm)
{
	return &vm->c;
}

uint64_t s2_vm_vcpu_fault_cycles(const struct s2_vm *vm, uint32_t vcpu)
{
	return vm->vcpus[vcpu].fault_cycles;
}

uint64_t s2_vm_vcpu_faults(const struct s2_vm *vm, uint32_t vcpu)
{
	return vm->vcpus[vcpu].faults;
}

const struct s2_pgt *s2_vm_pgt(const struct s2_vm *vm)
{
	return &vm->pgt;
}
