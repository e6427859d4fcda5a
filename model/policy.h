/*
 * model/policy.h - a fault policy as data (model/policies.ini): the fault
 * pipeline is written once and asks the policy at each hook.
 */
#ifndef S2SIM_POLICY_H
#define S2SIM_POLICY_H

#include <glib.h>

enum s2_cmo_site {
	S2_CMO_AT_ABORT,	/* user_mem_abort(), v5.13 */
	S2_CMO_IN_WALKER,	/* stage2_map_walker_try_leaf(), v5.14 */
};

enum s2_lock_mode {
	S2_LOCK_SPIN,		/* spin_lock(&kvm->mmu_lock) for every fault */
};

enum s2_break_mode {
	S2_BREAK_LOCKED,	/* BBM under the exclusive lock */
};

struct s2_policy {
	char *name;
	char *kernel;
	char *source;
	enum s2_cmo_site cmo_site;
	enum s2_lock_mode lock;
	enum s2_break_mode brk;
};

struct s2_policy *s2_policy_load(const char *name, const char *path, GError **err);
void s2_policy_free(struct s2_policy *p);
/* All section names of a policies file, for --list-policies. */
char **s2_policy_names(const char *path, GError **err);
const char *s2_cmo_site_name(enum s2_cmo_site s);

#endif
