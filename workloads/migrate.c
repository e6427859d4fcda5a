/*
 * workloads/migrate.c - the destination of a live migration resumes.
 *
 * Every page of guest RAM is resident on the destination host (the VMM
 * wrote it while receiving), but stage 2 is empty, so every vCPU takes a
 * translation fault on the first touch of each page of its working set, and
 * they all resume at the same instant.  The shared part of the working sets
 * (kernel text, kernel data, hot page cache) is touched by most vCPUs within
 * microseconds of each other: concurrent faults on the same IPA, where the
 * abort/handler/parallel policies differ most (kernel-fault-path.md §3,
 * "what a concurrent vCPU sees").  The private part (per-CPU data, kernel
 * stack, user heap) faults without contention on the page but still
 * contends for mmu_lock.
 *
 * The guest's caches are on throughout (the source ran them on and the
 * destination does not re-run the reset path), so there are no guest cache
 * events.  --host-unmaps N adds N asynchronous MMU-notifier unmaps of hot
 * pages by the destination host (page migration, KSM merges) while the vCPUs
 * fault, on the host's own clock (traces/FORMAT.md).
 */
#include <inttypes.h>
#include <string.h>

#include "wl.h"

#define KERNEL_TEXT_OFFSET	SZ_2M
#define KERNEL_TEXT_SIZE	(16 * SZ_1M)
#define KERNEL_DATA_SIZE	(16 * SZ_1M)
#define PCPU_SIZE		SZ_64K
#define STACK_SIZE		(16 * 1024ULL)
#define PRIVATE_SKIP		SZ_2M	/* per-CPU, stack and heap in different blocks */

#define RESUME_JITTER		0, 200		/* cycles: all vCPUs resume together */
#define TOUCH_CYCLES		200, 2000
/* each vCPU touches a given shared run with probability 3/4 */
#define SHARED_NUM		3
#define SHARED_DEN		4

static uint64_t shared_size = 8 * SZ_1M;
static uint64_t private_size = 4 * SZ_1M;
static int max_run = 8;
static int host_unmaps;

static gboolean parse_ws_size(const char *name, const char *val, gpointer data, GError **err)
{
	uint64_t *out = !strcmp(name, "--shared") ? &shared_size : &private_size;

	return wl_parse_size_option(name, val, SZ_64K, out, err);
}

static GOptionEntry migrate_entries[] = {
	{ "shared", 0, 0, G_OPTION_ARG_CALLBACK, parse_ws_size,
	  "Hot shared working set: 1/2 kernel text, 1/4 kernel data, 1/4 page cache "
	  "(default 8M, at most 32M)", "SIZE" },
	{ "private", 0, 0, G_OPTION_ARG_CALLBACK, parse_ws_size,
	  "Private working set per vCPU: per-CPU data, stack, user heap (default 4M)", "SIZE" },
	{ "run-max", 0, 0, G_OPTION_ARG_INT, &max_run,
	  "Longest run of consecutive pages touched in order (default 8)", "N" },
	{ "host-unmaps", 0, 0, G_OPTION_ARG_INT, &host_unmaps,
	  "Host MMU-notifier unmaps of hot pages during the run, half page migration, "
	  "half KSM (default 0)", "N" },
	{ NULL }
};

struct migrate_layout {
	uint64_t text, data;		/* kernel text and data, shared */
	uint64_t cache, cache_size;	/* page cache, shared */
	uint64_t user, slice;		/* per-vCPU private slices */
};

static bool plan_layout(struct migrate_layout *l, const struct wl_params *p, GError **err)
{
	uint64_t heap = private_size - PCPU_SIZE - STACK_SIZE;

	if (max_run < 1 || max_run > 512)
		return wl_option_error(err, "--run-max: %d is not 1..512", max_run);
	if (host_unmaps < 0 || host_unmaps > 1000000)
		return wl_option_error(err, "--host-unmaps: %d is not 0..1000000", host_unmaps);
	if (shared_size / 2 > KERNEL_TEXT_SIZE)
		return wl_option_error(err, "--shared: at most %llu MiB",
				       2 * KERNEL_TEXT_SIZE >> 20);
	if (private_size < PCPU_SIZE + STACK_SIZE + SZ_4K)
		return wl_option_error(err, "--private: at least %llu KiB",
				       (PCPU_SIZE + STACK_SIZE + SZ_4K) >> 10);
	l->text = VIRT_RAM_BASE + KERNEL_TEXT_OFFSET;
	l->data = l->text + KERNEL_TEXT_SIZE;
	l->cache = VIRT_RAM_BASE + p->mem / 4;
	l->cache_size = p->mem / 4;
	l->user = VIRT_RAM_BASE + p->mem / 2;
	l->slice = wl_round_down(p->mem / 2 / p->nr_vcpus, SZ_4K);
	if (l->data + KERNEL_DATA_SIZE > l->cache || l->cache_size < shared_size / 4 ||
	    l->slice < 2 * PRIVATE_SKIP + heap)
		return wl_option_error(err, "--mem: %" PRIu64 " MiB is too small for the "
				       "kernel, --shared and %u x --private", p->mem >> 20,
				       p->nr_vcpus);
	return true;
}

/* Cut [base, base + size) into runs that cover about hot bytes of it. */
static void hot_runs(struct wl_trace *t, GArray *runs, uint64_t base, uint64_t size,
		     uint64_t hot, enum s2_rec_kind kind)
{
	wl_runs_cut(t, runs, base, size, max_run, hot / SZ_4K, size / SZ_4K, kind);
}

/* The shared hot set, chosen once: every vCPU draws from the same pages. */
static GArray *shared_runs(struct wl_trace *t, const struct migrate_layout *l)
{
	GArray *runs = g_array_new(FALSE, FALSE, sizeof(struct wl_run));

	hot_runs(t, runs, l->text, KERNEL_TEXT_SIZE, shared_size / 2, S2_REC_EXEC);
	hot_runs(t, runs, l->data, KERNEL_DATA_SIZE, shared_size / 8, S2_REC_READ);
	hot_runs(t, runs, l->data, KERNEL_DATA_SIZE, shared_size / 8, S2_REC_WRITE);
	hot_runs(t, runs, l->cache, l->cache_size, shared_size / 4, S2_REC_READ);
	return runs;
}

/* Per-CPU data and kernel stack (written), user heap (2/3 written, 1/3 read). */
static GArray *private_runs(struct wl_trace *t, const struct migrate_layout *l, uint32_t vcpu)
{
	GArray *runs = g_array_new(FALSE, FALSE, sizeof(struct wl_run));
	uint64_t base = l->user + vcpu * l->slice;
	uint64_t heap = private_size - PCPU_SIZE - STACK_SIZE;

	wl_runs_cut(t, runs, base, PCPU_SIZE, max_run, 1, 1, S2_REC_WRITE);
	wl_runs_cut(t, runs, base + PRIVATE_SKIP, STACK_SIZE, max_run, 1, 1, S2_REC_WRITE);
	for (uint64_t off = 0; off < heap; off += SZ_1M) {
		enum s2_rec_kind kind = wl_chance(t, 2, 3) ? S2_REC_WRITE : S2_REC_READ;

		wl_runs_cut(t, runs, base + 2 * PRIVATE_SKIP + off, MIN(SZ_1M, heap - off),
			    max_run, 1, 1, kind);
	}
	wl_runs_shuffle(t, runs);
	return runs;
}

/*
 * One vCPU's order: its share of the hot set, shuffled, interleaved with its
 * private runs, hot runs first three times out of four, so that the hot set
 * is mostly touched early, when every vCPU is touching it.
 */
static GArray *vcpu_order(struct wl_trace *t, const struct migrate_layout *l,
			  const GArray *shared, uint32_t vcpu)
{
	GArray *hot = g_array_new(FALSE, FALSE, sizeof(struct wl_run));
	GArray *priv = private_runs(t, l, vcpu);
	GArray *order = g_array_new(FALSE, FALSE, sizeof(struct wl_run));
	guint h = 0, q = 0;

	for (guint i = 0; i < shared->len; i++)
		if (wl_chance(t, SHARED_NUM, SHARED_DEN))
			g_array_append_val(hot, g_array_index(shared, struct wl_run, i));
	wl_runs_shuffle(t, hot);
	while (h < hot->len || q < priv->len) {
		bool take_hot = q == priv->len ||
				(h < hot->len && wl_chance(t, SHARED_NUM, SHARED_DEN));

		if (take_hot)
			g_array_append_val(order, g_array_index(hot, struct wl_run, h++));
		else
			g_array_append_val(order, g_array_index(priv, struct wl_run, q++));
	}
	g_array_free(hot, TRUE);
	g_array_free(priv, TRUE);
	return order;
}

/*
 * Host invalidations of hot pages at random host times within the run.
 * Migration (compaction, NUMA balancing) moves one host page: 4 KiB, a
 * whole THP or hugetlb page.  KSM merges 4 KiB pages; inside a THP it splits
 * the huge page first, which invalidates the whole 2 MiB range; it never
 * merges hugetlb pages, so those only migrate.
 */
static void emit_host_unmaps(struct wl_trace *t, const GArray *shared)
{
	uint64_t end = wl_interval_end(t);
	enum s2_backing b = t->p->backing;
	uint64_t host_page = s2_backing_host_page(b);

	for (int i = 0; i < host_unmaps && shared->len; i++) {
		const struct wl_run *r = &g_array_index(shared, struct wl_run,
							wl_rand(t, 0, shared->len - 1));
		uint64_t ipa = r->ipa + wl_rand(t, 0, r->pages - 1) * SZ_4K;
		bool ksm = b != S2_BACKING_HUGETLB_2M && b != S2_BACKING_HUGETLB_1G &&
			   wl_chance(t, 1, 2);
		uint64_t size = ksm && b == S2_BACKING_4K ? SZ_4K : host_page;

		wl_host_unmap(t, wl_rand(t, 0, end), wl_round_down(ipa, size), size,
			      ksm ? S2_UNMAP_KSM : S2_UNMAP_MIGRATION);
	}
}

static bool migrate_generate(struct wl_trace *t, GError **err)
{
	struct migrate_layout l = { 0 };
	GArray *shared;

	if (!plan_layout(&l, t->p, err))
		return false;
	/* the destination VMM wrote every page: all resident, stage 2 empty */
	wl_add_slot(&t->hdr, 0, VIRT_RAM_BASE, t->p->mem, t->p->backing, true);
	if (!wl_trace_open(t, err) || !wl_vmm_phase(t, "resume", err))
		return false;
	shared = shared_runs(t, &l);
	for (uint32_t vcpu = 0; vcpu < t->p->nr_vcpus; vcpu++) {
		GArray *order = vcpu_order(t, &l, shared, vcpu);

		wl_compute(t, vcpu, wl_rand(t, RESUME_JITTER));
		wl_runs_touch(t, vcpu, order, TOUCH_CYCLES);
		g_array_free(order, TRUE);
	}
	emit_host_unmaps(t, shared);
	g_array_free(shared, TRUE);
	return true;
}

const struct wl_scenario wl_migrate = {
	.name = "migrate",
	.summary = "every vCPU resumes at once after live migration: populated RAM, empty stage 2",
	.entries = migrate_entries,
	.default_vcpus = 8,
	.default_mem = 2 * SZ_1G,
	.default_backing = S2_BACKING_THP,
	.generate = migrate_generate,
};
