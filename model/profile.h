/*
 * model/profile.h - a machine's cost profile: every cycle the model charges
 * comes from here, and every value in a profile file names its source in
 * ../shared/design/calibration.md (measured, derived or assumed).
 *
 * Profiles are GKeyFile files (model/profiles/NAME.ini).  The field table in
 * profile.c is the single list of keys: the loader, the JSON dump and the
 * docs all walk it.
 */
#ifndef S2SIM_PROFILE_H
#define S2SIM_PROFILE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

enum s2_icache_type {
	S2_ICACHE_PIPT,
	S2_ICACHE_VIPT,		/* aliasing: every invalidation is IC IALLUIS */
};

struct s2_profile {
	char *name;
	char *path;

	/* [machine] */
	uint64_t freq_mhz;
	bool fwb;		/* ARM64_HAS_STAGE2_FWB: no D-cache clean to PoC */
	bool dic;		/* ARM64_HAS_CACHE_DIC: no I-cache invalidation, X up front */
	enum s2_icache_type icache;
	uint64_t dline;		/* D-cache line, bytes (CTR_EL0.DminLine) */
	uint64_t iline;		/* I-cache line, bytes (CTR_EL0.IminLine) */
	uint64_t llc_bytes;	/* last-level cache: lines just zeroed stay hot up to this */
	bool tlbirange;		/* FEAT_TLBIRANGE: TLBI RIPAS2E1IS over a range */

	/* [costs], cycles */
	uint64_t exit_entry;		/* guest exit + re-entry round trip */
	uint64_t exit_to_user;		/* MMIO exit to the VMM and back */
	uint64_t fault_prepare;		/* user_mem_abort before the lock: memslot, vma, GUP of a resident page */
	uint64_t walk_level;		/* one level of the stage-2 walk under the lock */
	uint64_t pt_page_alloc;		/* memcache top-up: one zeroed page-table page */
	uint64_t dc_civac_cold;		/* DC CIVAC per line absent from the caches */
	uint64_t dc_civac_hot;		/* DC CIVAC per line present in the caches */
	uint64_t dsb_sy;		/* barrier closing a D-cache clean */
	uint64_t ic_ivau_line;		/* IC IVAU per line, issuer side */
	uint64_t ic_iallu_is;		/* IC IALLUIS + DSB ISH + ISB */
	uint64_t tlbi_bcast_sync;	/* one TLBI ...IS + DSB ISH, idle machine */
	uint64_t dvm_sync_service;	/* machine-wide DVM server time per broadcast sync */
	uint64_t dvm_op_service;	/* machine-wide DVM server time per IC IVAU */
	uint64_t tlbi_local_nsh;	/* TLBI IPAS2E1 + DSB NSH: this CPU only */
	uint64_t wp_per_pte;		/* stage2_wp_range, per leaf visited */
	uint64_t teardown_per_pte;	/* freeing a table's entries on table->block */
	uint64_t lock_acquire;		/* uncontended spin_lock: pull the lock line */
	uint64_t spin_handoff;		/* contended hand-off to the next waiter */
	double zero_gbps;		/* clear_page bandwidth, one core, GB/s */
	uint64_t flush_chunk_bytes;	/* stage2_flush_vm walks this much per lock hold */
};

struct s2_profile *s2_profile_load(const char *name_or_path, GError **err);
void s2_profile_free(struct s2_profile *p);

/* Each field: its group, key and current value as text (for JSON and docs). */
typedef void (*s2_profile_field_fn)(const char *group, const char *key,
				    const char *value, void *opaque);
void s2_profile_foreach(const struct s2_profile *p, s2_profile_field_fn fn, void *opaque);

/* Derived costs, in cycles. */
uint64_t s2_profile_zero_cycles(const struct s2_profile *p, uint64_t bytes);
uint64_t s2_profile_dclean_cycles(const struct s2_profile *p, uint64_t bytes, uint64_t hot_bytes);

/* Where profiles and policies are searched: $S2SIM_SOURCE_DIR, else the source tree. */
char *s2_data_path(const char *relative);

#define S2_MODEL_ERROR (s2_model_error_quark())
GQuark s2_model_error_quark(void);

#endif
