/*
 * workloads/dirty_log.c - the dirty-logging phase of a live migration, on
 * the source host.
 *
 * populate:  every vCPU writes its own slice of the working set, so with
 *            thp / hugetlb backing stage 2 ends up mapped with blocks;
 * dirty-log: the VMM sets KVM_MEM_LOG_DIRTY_PAGES on the slot, which
 *            write-protects it and forces 4 KiB mappings (logging_active,
 *            kernel-fault-path.md §1.2); vCPUs then write pages scattered
 *            over the whole working set: write-permission faults that split
 *            blocks into tables (§3, "block split to table") and, from
 *            v5.18, take the read-side fast path for 4 KiB leaves;
 * rebuild:   the VMM clears the flag; one access per 2 MiB of each slice
 *            faults a block back in (table replaced by a block, §3).
 */
#include <inttypes.h>
#include <string.h>

#include "wl.h"

#define RAM_SLOT		0
#define POPULATE_CYCLES		200, 500	/* zeroing 4 KiB */
#define DIRTY_CYCLES		1000, 5000	/* application work between stores */
#define REBUILD_CYCLES		500, 2000
#define START_JITTER		0, 1000

static uint64_t wss = 128 * SZ_1M;
static int dirty_pages = 2048;

static gboolean parse_wss(const char *name, const char *val, gpointer data, GError **err)
{
	return wl_parse_size_option(name, val, SZ_4K, &wss, err);
}

static GOptionEntry dirty_log_entries[] = {
	{ "wss", 0, 0, G_OPTION_ARG_CALLBACK, parse_wss,
	  "Working set at the base of RAM, split between the vCPUs in 2 MiB-aligned "
	  "slices (default 128M)", "SIZE" },
	{ "dirty-pages", 0, 0, G_OPTION_ARG_INT, &dirty_pages,
	  "Accesses per vCPU while logging, 3/4 of them writes (default 2048)", "N" },
	{ NULL }
};

static bool check_options(const struct wl_params *p, uint64_t *slice, GError **err)
{
	if (dirty_pages < 0)
		return wl_option_error(err, "--dirty-pages: %d is negative", dirty_pages);
	if (wss > p->mem)
		return wl_option_error(err, "--wss: %" PRIu64 " MiB is larger than --mem", wss >> 20);
	*slice = wl_round_down(wss / p->nr_vcpus, SZ_2M);
	if (!*slice)
		return wl_option_error(err, "--wss: %" PRIu64 " MiB is less than 2 MiB per vCPU",
				       wss >> 20);
	return true;
}

static void populate(struct wl_trace *t, uint64_t slice)
{
	for (uint32_t vcpu = 0; vcpu < t->p->nr_vcpus; vcpu++) {
		wl_compute(t, vcpu, wl_rand(t, START_JITTER));
		wl_sweep(t, vcpu, S2_REC_WRITE, VIRT_RAM_BASE + vcpu * slice, slice,
			 POPULATE_CYCLES);
	}
}

static void dirty(struct wl_trace *t, uint64_t slice)
{
	uint64_t pages = slice * t->p->nr_vcpus / SZ_4K;

	for (uint32_t vcpu = 0; vcpu < t->p->nr_vcpus; vcpu++) {
		wl_compute(t, vcpu, wl_rand(t, START_JITTER));
		for (int i = 0; i < dirty_pages; i++) {
			enum s2_rec_kind kind = wl_chance(t, 3, 4) ? S2_REC_WRITE : S2_REC_READ;
			uint64_t ipa = VIRT_RAM_BASE + wl_rand(t, 0, pages - 1) * SZ_4K;

			wl_touch(t, vcpu, kind, ipa, DIRTY_CYCLES);
		}
	}
}

static void rebuild(struct wl_trace *t, uint64_t slice)
{
	for (uint32_t vcpu = 0; vcpu < t->p->nr_vcpus; vcpu++) {
		uint64_t base = VIRT_RAM_BASE + vcpu * slice;

		wl_compute(t, vcpu, wl_rand(t, START_JITTER));
		for (uint64_t off = 0; off < slice; off += SZ_2M) {
			enum s2_rec_kind kind = wl_chance(t, 1, 2) ? S2_REC_WRITE : S2_REC_READ;
			uint64_t page = wl_rand(t, 0, SZ_2M / SZ_4K - 1);

			wl_touch(t, vcpu, kind, base + off + page * SZ_4K, REBUILD_CYCLES);
		}
	}
}

static bool dirty_log_generate(struct wl_trace *t, GError **err)
{
	uint64_t slice;

	if (!check_options(t->p, &slice, err))
		return false;
	wl_add_slot(&t->hdr, RAM_SLOT, VIRT_RAM_BASE, t->p->mem, t->p->backing, false);
	if (!wl_trace_open(t, err) || !wl_vmm_phase(t, "populate", err))
		return false;
	populate(t, slice);
	if (!wl_vmm_phase(t, "dirty-log", err) || !wl_vmm_dirty_log(t, RAM_SLOT, true, err))
		return false;
	dirty(t, slice);
	if (!wl_vmm_phase(t, "rebuild", err) || !wl_vmm_dirty_log(t, RAM_SLOT, false, err))
		return false;
	rebuild(t, slice);
	return true;
}

const struct wl_scenario wl_dirty_log = {
	.name = "dirty-log",
	.summary = "migration's dirty logging: populate blocks, log (split), stop (rebuild)",
	.entries = dirty_log_entries,
	.default_vcpus = 8,
	.default_mem = SZ_1G,
	.default_backing = S2_BACKING_THP,
	.generate = dirty_log_generate,
};
