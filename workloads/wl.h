/*
 * workloads/wl.h - what a workload generator scenario needs: the common
 * parameters, a guest-time ordered record emitter and the scenario table.
 *
 * A scenario describes guest behaviour only (which vCPU touches which IPA,
 * how, after how much compute).  It builds the header's memslots, then
 * emits accesses per vCPU against a per-vCPU guest clock; the emitter merges
 * the vCPUs into guest-time order at each barrier (a VMM record), because
 * traces/FORMAT.md asks writers for roughly time-ordered files so that
 * readers stream with little read-ahead.
 */
#ifndef S2SIM_WL_H
#define S2SIM_WL_H

#include <glib.h>
#include <stdint.h>
#include <stdbool.h>

#include "source.h"

#define SZ_4K		0x1000ULL
#define SZ_64K		0x10000ULL
#define SZ_1M		0x100000ULL
#define SZ_2M		0x200000ULL
#define SZ_1G		0x40000000ULL

/* arm64 "virt" machine: RAM starts at 1 GiB (QEMU hw/arm/virt.c, VIRT_MEM). */
#define VIRT_RAM_BASE	0x40000000ULL

#define WL_ERROR	(wl_error_quark())
GQuark wl_error_quark(void);
enum { WL_ERROR_OPTION };

/* Options every scenario takes; 0 / -1 mean "not given, use the scenario's default". */
struct wl_params {
	uint32_t nr_vcpus;
	uint64_t mem;
	int backing;		/* enum s2_backing, or -1 */
	uint64_t seed;
	const char *output;
};

struct wl_trace;

struct wl_scenario {
	const char *name;
	const char *summary;
	GOptionEntry *entries;		/* scenario options, NULL-terminated */
	uint32_t default_vcpus;
	uint64_t default_mem;
	enum s2_backing default_backing;
	/*
	 * Check the options, add the memslots to t->hdr, wl_trace_open(),
	 * then emit.  Option errors must come before the open so that no
	 * file is started.
	 */
	bool (*generate)(struct wl_trace *t, GError **err);
};

extern const struct wl_scenario wl_startup;
extern const struct wl_scenario wl_migrate;
extern const struct wl_scenario wl_dirty_log;
extern const struct wl_scenario wl_kvm_page_table_test;
extern const struct wl_scenario wl_dirty_log_perf_test;

/* The selftests' -s memory types (dirty_log_perf_test.c). */
bool wl_parse_src_type(const char *name, const char *val, enum s2_backing *out, GError **err);

/* ---- emitter (emit.c) ---- */

struct wl_trace {
	struct s2_trace_header hdr;
	const struct wl_params *p;
	GRand *rng;
	struct s2_writer *writer;
	GArray **pending;	/* per clock (below): its records of the current barrier interval */
	/* per vCPU, then the host's clock at [nr_vcpus]: time since the last barrier */
	uint64_t *clock;
	uint64_t *last;		/* the same clocks' time of their last written record */
	uint32_t seq;
};

struct wl_trace *wl_trace_new(const struct wl_params *p);
bool wl_trace_open(struct wl_trace *t, GError **err);
bool wl_trace_commit(struct wl_trace *t, GError **err);
void wl_trace_free(struct wl_trace *t);	/* aborts an uncommitted writer */

/* Guest compute on one vCPU: advances its clock, emits nothing. */
void wl_compute(struct wl_trace *t, uint32_t vcpu, uint64_t cycles);
/* An access at the vCPU's current time. */
void wl_access(struct wl_trace *t, uint32_t vcpu, enum s2_rec_kind kind, uint64_t ipa);
/*
 * Access, then compute for a random [lo, hi] cycles before the next access:
 * a vCPU's first delta after a barrier is only what it computed explicitly.
 */
void wl_touch(struct wl_trace *t, uint32_t vcpu, enum s2_rec_kind kind, uint64_t ipa,
	      uint64_t lo, uint64_t hi);
/*
 * A guest event (S2_REC_VMREG with arg S2_CACHES_*, S2_REC_SETWAY,
 * S2_REC_RESET) at the vCPU's current time, in program order with its accesses.
 */
void wl_event(struct wl_trace *t, uint32_t vcpu, enum s2_rec_kind kind, uint16_t arg);
/* vmreg BEFORE AFTER: caches (SCTLR_EL1.M and .C) on before and after the write. */
void wl_vmreg(struct wl_trace *t, uint32_t vcpu, bool before, bool after);
/*
 * An asynchronous host MMU-notifier unmap at host time @at since the last
 * barrier (host records have their own clock; not a barrier).
 */
void wl_host_unmap(struct wl_trace *t, uint64_t at, uint64_t ipa, uint64_t size,
		   enum s2_unmap_cause cause);
/* The latest vCPU clock: how long the current barrier interval lasts so far. */
uint64_t wl_interval_end(const struct wl_trace *t);
/* wl_touch() on each 4 KiB page of [ipa, ipa + size), in order. */
void wl_sweep(struct wl_trace *t, uint32_t vcpu, enum s2_rec_kind kind, uint64_t ipa,
	      uint64_t size, uint64_t lo, uint64_t hi);

/* VMM records: each first writes out every access emitted so far (a barrier). */
bool wl_vmm_phase(struct wl_trace *t, const char *name, GError **err);
bool wl_vmm_dirty_log(struct wl_trace *t, uint32_t slot, bool on, GError **err);
bool wl_flush(struct wl_trace *t, GError **err);

/* ---- seeded helpers (emit.c): all randomness goes through t->rng ---- */

uint64_t wl_rand(struct wl_trace *t, uint64_t lo, uint64_t hi);	/* [lo, hi] */
bool wl_chance(struct wl_trace *t, uint32_t num, uint32_t den);
void wl_shuffle(struct wl_trace *t, uint64_t *v, size_t n);

/*
 * A run of consecutive 4 KiB pages: the locality of real working sets
 * (a function's text, an array, a stack) without replaying every access.
 */
struct wl_run {
	uint64_t ipa;
	uint32_t pages;
	uint8_t kind;		/* enum s2_rec_kind */
};

/*
 * Cut [base, base + size) into runs of 1..max_run pages, keep each run with
 * probability num/den, and append them to runs with the given kind.
 */
void wl_runs_cut(struct wl_trace *t, GArray *runs, uint64_t base, uint64_t size,
		 uint32_t max_run, uint32_t num, uint32_t den, enum s2_rec_kind kind);
void wl_runs_shuffle(struct wl_trace *t, GArray *runs);
/* wl_touch() every page of every run, in order. */
void wl_runs_touch(struct wl_trace *t, uint32_t vcpu, const GArray *runs,
		   uint64_t lo, uint64_t hi);

/* ---- the KVM selftests' VM around a test region (selftest_vm.c) ---- */

/* DEFAULT_GUEST_TEST_MEM: the test region's guest VA in both selftests */
#define WL_SELFTEST_TEST_GVA	0xc0000000ULL

/* The guest's stage-1 tables of the test region, in slot 0, and who walked where. */
struct wl_s1_tables {
	uint64_t test_gpa;
	uint64_t *pte_page;	/* IPA of the last-level table, per 2 MiB region */
	uint64_t *pmd_page;	/* per 1 GiB of VA */
	uint64_t *pud_page;	/* per 512 GiB of VA; 0: it maps the ELF too, so is mapped in BEFORE */
	uint64_t *walked;	/* per vCPU, a bit per region it has walked to */
	uint64_t words;		/* of walked, per vCPU */
};

/* Slot 0's size for a VM of @nr_vcpus created for @extra_pages test pages. */
uint64_t wl_selftest_slot0_size(uint32_t nr_vcpus, uint64_t extra_pages);
bool wl_s1_tables_init(struct wl_s1_tables *s1, uint64_t test_gpa, uint64_t test_size,
		       uint64_t slot0_size, uint32_t nr_vcpus, GError **err);
void wl_s1_tables_free(struct wl_s1_tables *s1);
/* Before @vcpu's access to @gpa in the test region: the table reads of its first walk there. */
void wl_s1_walk(struct wl_trace *t, struct wl_s1_tables *s1, uint32_t vcpu, uint64_t gpa);

/* ---- layout helpers (emit.c) ---- */

struct s2_memslot *wl_add_slot(struct s2_trace_header *hdr, uint32_t id, uint64_t gpa,
			       uint64_t size, enum s2_backing backing, bool populated);
bool wl_option_error(GError **err, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* A size option: K/M/G/T suffixes, a multiple of 4 KiB, at least min. */
bool wl_parse_size_option(const char *name, const char *val, uint64_t min, uint64_t *out,
			  GError **err);

static inline uint64_t wl_round_up(uint64_t x, uint64_t align)
{
	return (x + align - 1) & ~(align - 1);
}

static inline uint64_t wl_round_down(uint64_t x, uint64_t align)
{
	return x & ~(align - 1);
}

#endif
