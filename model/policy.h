/*
 * model/policy.h - a fault policy as data (model/policies.ini): the fault
 * pipeline is written once and asks the policy at each hook.
 */
#ifndef S2SIM_POLICY_H
#define S2SIM_POLICY_H

#include <glib.h>
#include <stdbool.h>

enum s2_cmo_site {
	S2_CMO_AT_ABORT,	/* user_mem_abort() under the lock, v5.13 */
	S2_CMO_IN_WALKER,	/* stage2_map_walker_try_leaf(), v5.14+ */
	S2_CMO_PRELOCK,		/* what-if: before the lock, result discarded on -EAGAIN */
};

enum s2_lock_mode {
	S2_LOCK_SPIN,		/* every fault takes mmu_lock exclusively (<= v5.17) */
	S2_LOCK_RW_FASTPATH,	/* rwlock: write side, read side for dirty-log 4K write relax (v5.18) */
	S2_LOCK_RW_READ,	/* rwlock: read side for every fault (v6.2) */
};

enum s2_break_mode {
	S2_BREAK_LOCKED,	/* BBM under the exclusive lock: clear, TLBI, store */
	S2_BREAK_CMPXCHG,	/* cmpxchg to KVM_INVALID_PTE_LOCKED; losers -EAGAIN (v6.2) */
};

enum s2_relax_tlbi {
	S2_RELAX_TLBI_BROADCAST,	/* __kvm_tlb_flush_vmid_ipa when the walk returns 0 */
	S2_RELAX_TLBI_LOCAL,		/* __kvm_tlb_flush_vmid_ipa_nsh, also on -EAGAIN (v6.5 + fix) */
};

enum s2_icache_mode {
	S2_ICACHE_BY_VA,		/* IC IVAU per line, any size */
	S2_ICACHE_IALLU_ABOVE_MAX,	/* IC IALLUIS above MAX_DVM_OPS lines (v6.7) */
};

struct s2_policy {
	char *name;
	char *kernel;
	char *source;
	enum s2_cmo_site cmo_site;
	enum s2_lock_mode lock;
	enum s2_break_mode brk;
	enum s2_relax_tlbi relax_tlbi;
	enum s2_icache_mode icache;
	bool range_tlbi;	/* table breaks and unmaps by range when FEAT_TLBIRANGE (v6.6) */
	bool eager_split;	/* split blocks when dirty logging starts (v6.5, cap set) */
};

struct s2_policy *s2_policy_load(const char *name, const char *path, GError **err);
void s2_policy_free(struct s2_policy *p);
/* All section names of a policies file, for --list-policies. */
char **s2_policy_names(const char *path, GError **err);

/* The words of policies.ini, for JSON and listings. */
const char *s2_cmo_site_name(enum s2_cmo_site s);
const char *s2_lock_mode_name(enum s2_lock_mode m);
const char *s2_break_mode_name(enum s2_break_mode m);
const char *s2_relax_tlbi_name(enum s2_relax_tlbi m);
const char *s2_icache_mode_name(enum s2_icache_mode m);

#endif
