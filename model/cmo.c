/*
 * model/cmo.c - the guest cache maintenance helpers of
 * arch/arm64/include/asm/kvm_mmu.h (__clean_dcache_guest_page,
 * __invalidate_icache_guest_page @ v5.13/v5.14), with their costs.
 * Both policies call these; they differ only in where and how often.
 */
#include "internal.h"

/* FWB returns at once: "FWB implies IDC, so cleaning to PoU is not required". */
uint64_t s2_dclean(struct s2_vm *vm, uint64_t bytes, uint64_t hot_bytes, enum s2_cmo_source src)
{
	uint64_t *calls[] = { &vm->c.dclean_calls, &vm->c.vmflush_dclean_calls,
			      &vm->c.unmap_dclean_calls };
	uint64_t *done[] = { &vm->c.dclean_bytes, &vm->c.vmflush_dclean_bytes,
			     &vm->c.unmap_dclean_bytes };

	/*
	 * With FWB the unmap and flush walkers do not call the helper at all
	 * (stage2_has_fwb()); the fault path calls it and it returns at once.
	 */
	if (vm->prof->fwb && src != S2_CMO_FAULT)
		return 0;
	(*calls[src])++;
	if (vm->prof->fwb) {
		vm->c.dclean_elided_fwb++;
		return 0;
	}
	*done[src] += bytes;
	return s2_profile_dclean_cycles(vm->prof, bytes, hot_bytes);
}

/*
 * DIC: the range helper is patched down to barriers.  An aliasing (VIPT)
 * I-cache, or since v6.7 a range above MAX_DVM_OPS lines, is invalidated
 * whole (IC IALLUIS).  Otherwise one IC IVAU per line, each a DVM operation
 * on the machine-wide path (calibration.md §2 D1), closed by one DSB ISH.
 */
uint64_t s2_iinval(struct s2_vm *vm, uint64_t now, uint64_t bytes)
{
	const struct s2_profile *p = vm->prof;
	uint64_t lines = bytes / p->iline;

	vm->c.iinval_calls++;
	if (p->dic) {
		vm->c.iinval_elided_dic++;
		return 0;
	}
	if (s2_icache_whole(vm, bytes)) {
		vm->c.iinval_all++;
		return s2_dvm_request(vm, now, p->dvm_op_service + p->dvm_sync_service,
				      p->ic_iallu_is);
	}
	vm->c.iinval_bytes += bytes;
	return s2_dvm_request(vm, now, lines * p->dvm_op_service + p->dvm_sync_service,
			      lines * p->ic_ivau_line + p->tlbi_bcast_sync);
}
