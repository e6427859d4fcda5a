/*
 * workloads/dirty_log_perf_test.c - the kernel selftest
 * tools/testing/selftests/kvm/dirty_log_perf_test.c with its library
 * lib/perf_test_util.c (renamed memstress.c in v6.2), read at the v6.1
 * version the parallel stage-2 fault series (Oliver Upton, v5, Nov 2022,
 * kernel-fault-path.md §5) was measured with:
 *
 *	dirty_log_perf_test -s anonymous_thp -m 2 -b 4G -v N
 *
 * What the selftest does (quotes from the v6.1 sources):
 *
 * - perf_test_create_vm(): one test memslot, PERF_TEST_MEM_SLOT_INDEX (1),
 *   of nr_vcpus * vcpu_memory_bytes ("-b" is the size *per vCPU*), placed
 *   at the top of the guest physical space:
 *	pta->gpa = (region_end_gfn - guest_num_pages - 1) * pta->guest_page_size;
 *	pta->gpa = align_down(pta->gpa, backing_src_pagesz);
 *   with region_end_gfn = vm->max_gfn + 1.
 * - perf_test_setup_vcpus(), partition_vcpu_memory_access (the default;
 *   "-o" turns it off): each vCPU owns its own slice,
 *	vcpu_args->gpa = pta->gpa + (i * vcpu_memory_bytes);
 *	vcpu_args->pages = vcpu_memory_bytes / pta->guest_page_size;
 *   with -o every vCPU walks the whole region.
 * - perf_test_guest_code(): "Continuously write to the first 8 bytes of
 *   each page in the specified region":
 *	for (i = 0; i < pages; i++) {
 *		if (i % pta->wr_fract == 0)
 *			*(uint64_t *)addr = 0x0123456789ABCDEF;
 *		else
 *			READ_ONCE(*(uint64_t *)addr);
 *	}
 *	GUEST_SYNC(1);
 *   one pass per host iteration; the host waits for every vCPU's sync
 *   (vcpu_last_completed_iteration[]) before the next: a barrier per pass.
 * - run_test(): iteration 0 populates ("Populate memory time"), then
 *   enable_dirty_logging() (vm_mem_region_set_flags(..., KVM_MEM_LOG_DIRTY_PAGES),
 *   timed on its own), then p->iterations passes (TEST_HOST_LOOP_N = 2,
 *   "-i"), each timed from `iteration++` to the last vCPU's sync ("Iteration
 *   %d dirty memory time"), each followed by get_dirty_log() and, with
 *   KVM_CAP_MANUAL_DIRTY_LOG_PROTECT2, clear_dirty_log(); finally
 *   disable_dirty_logging().
 *
 * How that maps to trace records (traces/FORMAT.md):
 *
 *	phase populate              pass 0: first touch, host THP allocation
 *	phase enable-dirty-logging  dirty-log on 1
 *	phase dirty-1               pass 1: every written page faults
 *	phase clear-1               dirty-log off 1, dirty-log on 1
 *	phase dirty-2               ...
 *	phase disable-dirty-logging dirty-log off 1
 *
 * The format has no KVM_CLEAR_DIRTY_LOG record.  `dirty-log off` only drops
 * logging_active and `dirty-log on` write-protects every leaf of the slot
 * (model/vmm.c), which is what clear_dirty_log() of a fully dirty bitmap
 * does (kvm_arch_mmu_enable_log_dirty_pt_masked() -> stage2_wp_range()), so
 * the pair stands for get+clear between two passes.
 *
 * Enabling: `dirty-log on` write-protects at once, as the kernel does
 * without KVM_DIRTY_LOG_INITIALLY_SET (selftest "-g").  By default the
 * selftest enables MANUAL_PROTECT|INITIALLY_SET when KVM offers them, and
 * then arm64's kvm_arch_commit_memory_region() skips the write-protection
 * (Keqian Zhu, c862626e19ef); its iteration 1 takes no stage-2 fault and
 * the first clear_dirty_log() write-protects instead.  So dirty-1 here is
 * the first pass that faults: iteration 1 with -g, iteration 2 without.
 *
 * Slot 0 and the test region's stage-1 tables in it are those of
 * selftest_vm.c.  Not reproduced: the rest of slot 0 (test code and vCPU
 * stacks: a few dozen 4 KiB faults at the start of populate), the vGIC, "-e" (vCPUs running while logging is disabled), "-x" (several
 * memslots), "-n" (nested), the other guest modes for_each_guest_mode()
 * would also run, and the spin of idle vCPU threads between passes.
 */
#include <inttypes.h>
#include <string.h>

#include "wl.h"

/* perf_test_util.h: #define PERF_TEST_MEM_SLOT_INDEX 1 */
#define PERF_TEST_MEM_SLOT_INDEX	1
/* perf_test_util.h: #define DEFAULT_PER_VCPU_MEM_SIZE (1 << 30) */
#define DEFAULT_PER_VCPU_MEM_SIZE	SZ_1G
/* dirty_log_perf_test.c: #define TEST_HOST_LOOP_N 2UL */
#define TEST_HOST_LOOP_N		2

/* The guest loop body between two accesses: a store, an add, a branch. */
#define LOOP_MIN_CYCLES		8
#define LOOP_MAX_CYCLES		16
/*
 * Between passes every vCPU thread spins on READ_ONCE(iteration) in the
 * host and re-enters KVM_RUN when it sees the increment: a few
 * microseconds of skew, as in kvm_page_table_test.
 */
#define WAKE_MAX_CYCLES		4000

static enum s2_backing dlpt_backing = S2_BACKING_NR;
static int iterations = TEST_HOST_LOOP_N;
static int wr_fract = 1;
static int guest_mode = -1;
static gboolean overlap;

/*
 * kvm_util_base.h (v6.1) enum vm_guest_mode: the arm64 modes with 4 KiB
 * guest pages and an IPA size the trace format takes (32..48 bits).
 * VM_MODE_DEFAULT is VM_MODE_P40V48_4K on arm64.
 */
static const struct {
	int mode;
	uint32_t ipa_bits;
} guest_modes[] = {
	{ 2, 48 },	/* VM_MODE_P48V48_4K */
	{ 5, 40 },	/* VM_MODE_P40V48_4K */
};
#define VM_MODE_DEFAULT		5

static gboolean parse_src(const char *name, const char *val, gpointer data, GError **err)
{
	return wl_parse_src_type(name, val, &dlpt_backing, err);
}

static GOptionEntry dlpt_entries[] = {
	{ "src-type", 's', 0, G_OPTION_ARG_CALLBACK, parse_src,
	  "Backing like the selftest's -s: anonymous, anonymous_thp, anonymous_hugetlb_2mb, "
	  "anonymous_hugetlb_1gb (sets --backing)", "TYPE" },
	{ "iterations", 'i', 0, G_OPTION_ARG_INT, &iterations,
	  "Dirty passes after enabling logging, like the selftest's -i (default 2)", "N" },
	{ "wr-fract", 'f', 0, G_OPTION_ARG_INT, &wr_fract,
	  "Write one page in N, read the others, like the selftest's -f (default 1)", "N" },
	{ "guest-mode", 'm', 0, G_OPTION_ARG_INT, &guest_mode,
	  "Guest mode like the selftest's -m: 2 (P48V48_4K) or 5 (P40V48_4K, default)", "MODE" },
	{ "overlap", 0, 0, G_OPTION_ARG_NONE, &overlap,
	  "Every vCPU walks the whole region (the selftest's -o)", NULL },
	{ NULL }
};

struct dlpt {
	uint64_t vcpu_bytes;	/* -b: per vCPU */
	uint64_t gpa;		/* pta->gpa */
	uint64_t size;		/* pta->size */
	uint64_t ucall_gpa;
	uint64_t slot0_size;
	struct wl_s1_tables s1;
};

static bool check_options(struct wl_trace *t, struct dlpt *d, enum s2_backing backing,
			  GError **err)
{
	uint64_t pagesz = s2_backing_host_page(backing), pages, end_gfn;
	size_t m;

	if (iterations < 1)
		return wl_option_error(err, "--iterations: %d is not a positive count", iterations);
	if (wr_fract < 1)
		return wl_option_error(err, "--wr-fract: %d is not a positive fraction", wr_fract);
	if (guest_mode < 0)
		guest_mode = VM_MODE_DEFAULT;
	for (m = 0; m < G_N_ELEMENTS(guest_modes) && guest_modes[m].mode != guest_mode; m++)
		;
	if (m == G_N_ELEMENTS(guest_modes))
		return wl_option_error(err, "--guest-mode: %d is not an arm64 4 KiB-page mode of "
				       "at most 48 IPA bits (2, 5)", guest_mode);
	t->hdr.ipa_bits = guest_modes[m].ipa_bits;
	d->vcpu_bytes = t->p->mem;
	pages = t->p->nr_vcpus * d->vcpu_bytes / SZ_4K;
	d->size = pages * SZ_4K;
	/* vm_userspace_mem_region_add() wants whole backing pages */
	if (d->size % pagesz)
		return wl_option_error(err, "--mem: %u vCPUs x %" PRIu64 " KiB is not a multiple "
				       "of the %" PRIu64 " KiB backing page", t->p->nr_vcpus,
				       d->vcpu_bytes >> 10, pagesz >> 10);
	end_gfn = 1ULL << (t->hdr.ipa_bits - 12);	/* region_end_gfn = max_gfn + 1 */
	if (pages + 1 >= end_gfn)
		return wl_option_error(err, "--mem: %" PRIu64 " pages do not fit a %u-bit IPA space",
				       pages, t->hdr.ipa_bits);
	d->gpa = wl_round_down((end_gfn - pages - 1) * SZ_4K, pagesz);
	/* perf_test_create_vm(): __vm_create_with_vcpus(mode, nr_vcpus, guest_num_pages, ...) */
	d->slot0_size = wl_selftest_slot0_size(t->p->nr_vcpus, pages);
	if (d->gpa < d->slot0_size)
		return wl_option_error(err, "--mem: the test region overlaps slot 0 [0, 0x%" PRIx64 ")",
				       d->slot0_size);
	/*
	 * ucall_init(vm, NULL) (lib/aarch64/ucall.c, v6.1): the first address
	 * tried is 5/8 of the space below bit va_bits - 1; the test region sits
	 * at the top, so it is free unless the region covers 3/8 of the space.
	 */
	d->ucall_gpa = (1ULL << MIN(t->hdr.ipa_bits, 48 - 1)) / 8 * 5;
	if (d->ucall_gpa >= d->gpa || d->ucall_gpa < d->slot0_size)
		return wl_option_error(err, "--mem: the test region leaves no room for the ucall "
				       "MMIO page");
	return true;
}

/*
 * One perf_test_guest_code() pass of one vCPU, then GUEST_SYNC(1); a first
 * access to a 2 MiB region walks its stage-1 tables first (selftest_vm.c).
 */
static void guest_pass(struct wl_trace *t, struct dlpt *d, uint32_t vcpu)
{
	uint64_t base = overlap ? d->gpa : d->gpa + vcpu * d->vcpu_bytes;
	uint64_t pages = (overlap ? d->size : d->vcpu_bytes) / SZ_4K;

	wl_compute(t, vcpu, wl_rand(t, 0, WAKE_MAX_CYCLES));
	for (uint64_t i = 0; i < pages; i++) {
		wl_s1_walk(t, &d->s1, vcpu, base + i * SZ_4K);
		wl_touch(t, vcpu, i % wr_fract ? S2_REC_READ : S2_REC_WRITE, base + i * SZ_4K,
			 LOOP_MIN_CYCLES, LOOP_MAX_CYCLES);
	}
	wl_touch(t, vcpu, S2_REC_WRITE, d->ucall_gpa, LOOP_MIN_CYCLES, LOOP_MAX_CYCLES);
}

static bool pass(struct wl_trace *t, struct dlpt *d, const char *phase, GError **err)
{
	if (!wl_vmm_phase(t, phase, err))
		return false;
	for (uint32_t vcpu = 0; vcpu < t->p->nr_vcpus; vcpu++)
		guest_pass(t, d, vcpu);
	return true;
}

/* run_test(): populate, enable logging, the dirty passes with a clear between, disable. */
static bool run_passes(struct wl_trace *t, struct dlpt *d, uint32_t slot, GError **err)
{
	if (!pass(t, d, "populate", err) || !wl_vmm_phase(t, "enable-dirty-logging", err) ||
	    !wl_vmm_dirty_log(t, slot, true, err))
		return false;
	for (int it = 1; it <= iterations; it++) {
		char name[32];

		if (it > 1) {
			g_snprintf(name, sizeof(name), "clear-%d", it - 1);
			if (!wl_vmm_phase(t, name, err) || !wl_vmm_dirty_log(t, slot, false, err) ||
			    !wl_vmm_dirty_log(t, slot, true, err))
				return false;
		}
		g_snprintf(name, sizeof(name), "dirty-%d", it);
		if (!pass(t, d, name, err))
			return false;
	}
	return wl_vmm_phase(t, "disable-dirty-logging", err) &&
	       wl_vmm_dirty_log(t, slot, false, err);
}

static bool dlpt_generate(struct wl_trace *t, GError **err)
{
	enum s2_backing backing = dlpt_backing != S2_BACKING_NR ? dlpt_backing :
				 (enum s2_backing)t->p->backing;
	const uint32_t slot = PERF_TEST_MEM_SLOT_INDEX;
	struct dlpt d = { 0 };
	bool ok;

	if (!check_options(t, &d, backing, err))
		return false;
	/* slot 0 (selftest_vm.c): its hva kept clear of the test slot's */
	wl_add_slot(&t->hdr, 0, 0, d.slot0_size, S2_BACKING_4K, true)->hva = 0x7e0000000000ULL;
	/*
	 * vm_userspace_mem_region_add() only mmap()s: nothing resident yet.  A
	 * 48-bit gpa would put FORMAT.md's default hva (0x7f0000000000 + gpa)
	 * above the host's 48-bit VA space; keep it there modulo 1 GiB only.
	 */
	wl_add_slot(&t->hdr, slot, d.gpa, d.size, backing, false)->hva =
		0x7f0000000000ULL + (d.gpa & (SZ_1G - 1));
	if (!wl_s1_tables_init(&d.s1, d.gpa, d.size, d.slot0_size, t->p->nr_vcpus, err))
		return false;
	ok = wl_trace_open(t, err) && run_passes(t, &d, slot, err);
	wl_s1_tables_free(&d.s1);
	return ok;
}

/*
 * test_util.c, vm_mem_backing_src_alias(): the -s names both selftests
 * take.  "anonymous" is madvise(MADV_NOHUGEPAGE) memory; "anonymous_hugetlb"
 * is the host's default huge page size (2 MiB with 4 KiB host pages).
 */
bool wl_parse_src_type(const char *name, const char *val, enum s2_backing *out, GError **err)
{
	static const struct {
		const char *name;
		enum s2_backing backing;
	} types[] = {
		{ "anonymous", S2_BACKING_4K },
		{ "anonymous_thp", S2_BACKING_THP },
		{ "anonymous_hugetlb", S2_BACKING_HUGETLB_2M },
		{ "anonymous_hugetlb_2mb", S2_BACKING_HUGETLB_2M },
		{ "anonymous_hugetlb_1gb", S2_BACKING_HUGETLB_1G },
	};

	for (size_t i = 0; i < G_N_ELEMENTS(types); i++) {
		if (!strcmp(val, types[i].name)) {
			*out = types[i].backing;
			return true;
		}
	}
	return wl_option_error(err, "%s: unknown memory type '%s' (anonymous, anonymous_thp, "
			       "anonymous_hugetlb_2mb, anonymous_hugetlb_1gb)", name, val);
}

const struct wl_scenario wl_dirty_log_perf_test = {
	.name = "dirty-log-perf-test",
	.summary = "the selftest dirty_log_perf_test: populate, then dirty every page while logging",
	.entries = dlpt_entries,
	/* main(): nr_vcpus = 1, DEFAULT_PER_VCPU_MEM_SIZE, DEFAULT_VM_MEM_SRC (anonymous) */
	.default_vcpus = 1,
	.default_mem = DEFAULT_PER_VCPU_MEM_SIZE,
	.default_backing = S2_BACKING_4K,
	.generate = dlpt_generate,
};
