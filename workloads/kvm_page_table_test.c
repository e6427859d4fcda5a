/*
 * workloads/kvm_page_table_test.c - the stages of the kernel selftest
 * tools/testing/selftests/kvm/kvm_page_table_test.c (Yanan Wang, 2021),
 * as of the v6.0/v6.1 version that still calls ucall_init(vm, NULL).
 *
 * Every vCPU walks the *same* test region (test_args is one shared struct;
 * guest_code() starts each stage at p->guest_test_virt_mem), and the host
 * waits for all vCPUs between stages (vcpus_complete_new_stage() posts
 * test_stage_updated once per vCPU, then waits test_stage_completed once
 * per vCPU): a barrier per stage, which is what a phase record is.
 *
 * Only the 4 KiB-granule, 40-bit-IPA guest mode is produced (the selftest's
 * for_each_guest_mode() repeats the whole run for each mode the host offers).
 */
#include <inttypes.h>
#include <string.h>

#include "wl.h"

/* kvm_page_table_test.c: #define TEST_MEM_SLOT_INDEX 1; slot 0 is the VM's own */
#define TEST_MEM_SLOT_INDEX	1

/* The guest loop body between two accesses: a store or load, an add, a branch. */
#define LOOP_MIN_CYCLES		8
#define LOOP_MAX_CYCLES		16
/*
 * vcpus_complete_new_stage() wakes the vCPU threads one sem_post() at a
 * time; each then returns to KVM_RUN: a few microseconds of skew.
 */
#define WAKE_MAX_CYCLES		4000

static uint64_t phys_offset;

/*
 * test_util.c, vm_mem_backing_src_alias(): the -s names.  "anonymous" is
 * madvise(MADV_NOHUGEPAGE) memory (kvm_util.c, vm_userspace_mem_region_add),
 * "anonymous_hugetlb" takes the host's default huge page size (2 MiB on a
 * 4 KiB-page arm64 host).
 */
static const struct {
	const char *name;
	enum s2_backing backing;
} src_types[] = {
	{ "anonymous", S2_BACKING_4K },
	{ "anonymous_thp", S2_BACKING_THP },
	{ "anonymous_hugetlb", S2_BACKING_HUGETLB_2M },
	{ "anonymous_hugetlb_2mb", S2_BACKING_HUGETLB_2M },
	{ "anonymous_hugetlb_1gb", S2_BACKING_HUGETLB_1G },
};

static enum s2_backing src_backing = S2_BACKING_NR;

static gboolean parse_src_type(const char *name, const char *val, gpointer data,
			       GError **err)
{
	for (size_t i = 0; i < G_N_ELEMENTS(src_types); i++) {
		if (!strcmp(val, src_types[i].name)) {
			src_backing = src_types[i].backing;
			return TRUE;
		}
	}
	return wl_option_error(err, "%s: unknown memory type '%s' (anonymous, anonymous_thp, "
			       "anonymous_hugetlb_2mb, anonymous_hugetlb_1gb)", name, val);
}

static gboolean parse_phys_offset(const char *name, const char *val, gpointer data,
				  GError **err)
{
	if (!s2_parse_size(val, &phys_offset) || !phys_offset)
		return wl_option_error(err, "%s: '%s' is not a guest physical address", name, val);
	return TRUE;
}

static GOptionEntry kptt_entries[] = {
	{ "src-type", 's', 0, G_OPTION_ARG_CALLBACK, parse_src_type,
	  "Backing like the selftest's -s: anonymous, anonymous_thp, anonymous_hugetlb_2mb, "
	  "anonymous_hugetlb_1gb (sets --backing)", "TYPE" },
	{ "phys-offset", 'p', 0, G_OPTION_ARG_CALLBACK, parse_phys_offset,
	  "Guest physical base of the test memory, like the selftest's -p "
	  "(default: top of the IPA space)", "GPA" },
	{ NULL }
};

enum test_stage {
	KVM_BEFORE_MAPPINGS,
	KVM_CREATE_MAPPINGS,
	KVM_UPDATE_MAPPINGS,
	KVM_ADJUST_MAPPINGS,
	NUM_TEST_STAGES,
};

static const char *const stage_phase[NUM_TEST_STAGES] = {
	[KVM_BEFORE_MAPPINGS] = "BEFORE",
	[KVM_CREATE_MAPPINGS] = "CREATE",
	[KVM_UPDATE_MAPPINGS] = "UPDATE",
	[KVM_ADJUST_MAPPINGS] = "ADJUST",
};

/* The selftest's struct test_args, as pre_init_before_test() fills it. */
struct kptt {
	uint64_t test_phys_mem;
	uint64_t test_mem_size;
	uint64_t host_page_size;
	uint64_t host_num_pages;
	uint64_t large_page_size;
	uint64_t large_num_pages;
	uint64_t host_pages_per_lpage;
	bool anonymous;
	uint64_t ucall_gpa;
	uint64_t slot0_size;
	struct wl_s1_tables s1;
};

/*
 * pre_init_before_test():
 *	alignment = max(large_page_size, guest_page_size);
 *	test_mem_size = (test_mem_size + alignment - 1) & ~(alignment - 1);
 *	guest_num_pages = test_mem_size / guest_page_size;
 *	if (!p->phys_offset)
 *		guest_test_phys_mem = (vm->max_gfn - guest_num_pages) * guest_page_size;
 *	guest_test_phys_mem = align_down(guest_test_phys_mem, alignment);
 * with vm->max_gfn = ((1ULL << vm->pa_bits) >> vm->page_shift) - 1
 * (kvm_util.c, vm_compute_max_gfn(), the weak default arm64 uses).
 */
static void test_region(struct kptt *k, const struct s2_trace_header *hdr,
			const struct wl_params *p, enum s2_backing backing)
{
	uint64_t alignment, max_gfn;

	k->host_page_size = SZ_4K;
	k->large_page_size = s2_backing_host_page(backing);
	k->anonymous = backing == S2_BACKING_4K;
	alignment = MAX(k->large_page_size, SZ_4K);
	k->test_mem_size = wl_round_up(p->mem, alignment);
	max_gfn = ((1ULL << hdr->ipa_bits) >> 12) - 1;
	k->test_phys_mem = phys_offset ? phys_offset :
		(max_gfn - k->test_mem_size / SZ_4K) * SZ_4K;
	k->test_phys_mem = wl_round_down(k->test_phys_mem, alignment);
	k->host_num_pages = k->test_mem_size / k->host_page_size;
	k->large_num_pages = k->test_mem_size / k->large_page_size;
	k->host_pages_per_lpage = k->large_page_size / k->host_page_size;
}

static bool in_test_region(const struct kptt *k, uint64_t gpa)
{
	return gpa >= k->test_phys_mem && gpa - k->test_phys_mem < k->test_mem_size;
}

static bool in_any_slot(const struct kptt *k, uint64_t gpa)
{
	return gpa < k->slot0_size || in_test_region(k, gpa);
}

/*
 * lib/aarch64/ucall.c (v6.1), ucall_init(vm, NULL): GUEST_SYNC() is a guest
 * write to an identity-mapped address outside every memslot, so KVM exits
 * with KVM_EXIT_MMIO.  It searches from 5/8 of the allowed space, down and
 * up in 1/16 steps, for an address no memslot covers.  Its table pages
 * (mapped after the test region's) fault in BEFORE, which is not timed.
 */
static bool pick_ucall_gpa(struct kptt *k, uint32_t ipa_bits, GError **err)
{
	uint64_t end = 1ULL << MIN(ipa_bits, 48 - 1);	/* va_bits - 1, 48-bit VA */
	uint64_t start = end * 5 / 8, step = end / 16;

	for (uint64_t off = 0; off < end - start; off += step) {
		if (!in_any_slot(k, start - off)) {
			k->ucall_gpa = start - off;
			return true;
		}
		if (!in_any_slot(k, start + off)) {
			k->ucall_gpa = start + off;
			return true;
		}
	}
	return wl_option_error(err, "--mem: the test region leaves no room for the ucall MMIO page");
}

static void guest_sync(struct wl_trace *t, const struct kptt *k, uint32_t vcpu)
{
	wl_touch(t, vcpu, S2_REC_WRITE, k->ucall_gpa, LOOP_MIN_CYCLES, LOOP_MAX_CYCLES);
}

static void guest_access(struct wl_trace *t, struct kptt *k, uint32_t vcpu,
			 enum s2_rec_kind kind, uint64_t gpa)
{
	wl_s1_walk(t, &k->s1, vcpu, gpa);
	wl_touch(t, vcpu, kind, gpa, LOOP_MIN_CYCLES, LOOP_MAX_CYCLES);
}

/*
 * guest_code(), case KVM_CREATE_MAPPINGS: "vCPUs concurrently access the
 * first 8 bytes of each page (host page/large page) within the same memory
 * region with different accessing types (read/write)":
 *	for (i = 0; i < p->large_num_pages; i++) {
 *		if (do_write) *(uint64_t *)addr = 0x0123456789ABCDEF;
 *		else READ_ONCE(*(uint64_t *)addr);
 *		addr += p->large_page_size;
 *	}
 * with vcpu_worker(): do_write = !(vcpu->id % 2).
 */
static void stage_create(struct wl_trace *t, struct kptt *k, uint32_t vcpu)
{
	enum s2_rec_kind kind = vcpu % 2 ? S2_REC_READ : S2_REC_WRITE;

	for (uint64_t i = 0; i < k->large_num_pages; i++)
		guest_access(t, k, vcpu, kind, k->test_phys_mem + i * k->large_page_size);
}

/*
 * case KVM_UPDATE_MAPPINGS (dirty logging on): anonymous memory writes
 * every host page; otherwise, per large page, write its first host page
 * ("triger break of large pages") then read the host pages of its second
 * half:
 *	addr += p->large_page_size / 2;
 *	for (j = 0; j < p->host_pages_per_lpage / 2; j++) {
 *		READ_ONCE(*(uint64_t *)addr);
 *		addr += p->host_page_size;
 *	}
 */
static void stage_update(struct wl_trace *t, struct kptt *k, uint32_t vcpu)
{
	uint64_t addr = k->test_phys_mem;

	if (k->anonymous) {
		for (uint64_t i = 0; i < k->host_num_pages; i++)
			guest_access(t, k, vcpu, S2_REC_WRITE, addr + i * k->host_page_size);
		return;
	}
	for (uint64_t i = 0; i < k->large_num_pages; i++) {
		guest_access(t, k, vcpu, S2_REC_WRITE, addr);
		addr += k->large_page_size / 2;
		for (uint64_t j = 0; j < k->host_pages_per_lpage / 2; j++) {
			guest_access(t, k, vcpu, S2_REC_READ, addr);
			addr += k->host_page_size;
		}
	}
}

/*
 * case KVM_ADJUST_MAPPINGS (dirty logging off): "vCPUs concurrently read
 * from every single host page.  Then KVM will coalesce the split page
 * mappings back to block mappings."
 */
static void stage_adjust(struct wl_trace *t, struct kptt *k, uint32_t vcpu)
{
	for (uint64_t i = 0; i < k->host_num_pages; i++)
		guest_access(t, k, vcpu, S2_REC_READ, k->test_phys_mem + i * k->host_page_size);
}

/* One stage: every vCPU runs guest_code() once, then GUEST_SYNC(1). */
static bool run_stage(struct wl_trace *t, struct kptt *k, enum test_stage stage,
		      GError **err)
{
	if (!wl_vmm_phase(t, stage_phase[stage], err))
		return false;
	for (uint32_t vcpu = 0; vcpu < t->p->nr_vcpus; vcpu++) {
		wl_compute(t, vcpu, wl_rand(t, 0, WAKE_MAX_CYCLES));
		if (stage == KVM_CREATE_MAPPINGS)
			stage_create(t, k, vcpu);
		else if (stage == KVM_UPDATE_MAPPINGS)
			stage_update(t, k, vcpu);
		else if (stage == KVM_ADJUST_MAPPINGS)
			stage_adjust(t, k, vcpu);
		guest_sync(t, k, vcpu);
	}
	return true;
}

/*
 * run_test(): BEFORE (vCPUs only enter and sync), CREATE, then
 *	vm_mem_region_set_flags(vm, TEST_MEM_SLOT_INDEX, KVM_MEM_LOG_DIRTY_PAGES);
 * UPDATE, then
 *	vm_mem_region_set_flags(vm, TEST_MEM_SLOT_INDEX, 0);
 * ADJUST.  The flag changes come before the stage's phase record because
 * the selftest starts each stage's clock after them.
 */
static bool kptt_generate(struct wl_trace *t, GError **err)
{
	const struct wl_params *p = t->p;
	enum s2_backing backing = src_backing != S2_BACKING_NR ? src_backing :
				 (enum s2_backing)p->backing;
	struct kptt k = { 0 };
	bool ok;

	test_region(&k, &t->hdr, p, backing);
	if (k.test_phys_mem + k.test_mem_size > 1ULL << t->hdr.ipa_bits)
		return wl_option_error(err, "--phys-offset: 0x%" PRIx64 " + --mem 0x%" PRIx64
				       " ends above the %u-bit IPA space",
				       k.test_phys_mem, k.test_mem_size, t->hdr.ipa_bits);
	k.slot0_size = wl_selftest_slot0_size(p->nr_vcpus, k.test_mem_size / SZ_4K);
	if (k.test_phys_mem < k.slot0_size)
		return wl_option_error(err, "--phys-offset: the test memory overlaps slot 0 "
				       "[0, 0x%" PRIx64 ")", k.slot0_size);
	wl_add_slot(&t->hdr, 0, 0, k.slot0_size, S2_BACKING_4K, true);
	/* vm_userspace_mem_region_add() only mmap()s and madvise()s: nothing resident */
	wl_add_slot(&t->hdr, TEST_MEM_SLOT_INDEX, k.test_phys_mem, k.test_mem_size, backing,
		    false);
	if (!wl_s1_tables_init(&k.s1, k.test_phys_mem, k.test_mem_size, k.slot0_size,
			       p->nr_vcpus, err))
		return false;
	ok = pick_ucall_gpa(&k, t->hdr.ipa_bits, err) && wl_trace_open(t, err) &&
	     run_stage(t, &k, KVM_BEFORE_MAPPINGS, err) &&
	     run_stage(t, &k, KVM_CREATE_MAPPINGS, err) &&
	     wl_vmm_dirty_log(t, TEST_MEM_SLOT_INDEX, true, err) &&
	     run_stage(t, &k, KVM_UPDATE_MAPPINGS, err) &&
	     wl_vmm_dirty_log(t, TEST_MEM_SLOT_INDEX, false, err) &&
	     run_stage(t, &k, KVM_ADJUST_MAPPINGS, err);
	wl_s1_tables_free(&k.s1);
	return ok;
}

const struct wl_scenario wl_kvm_page_table_test = {
	.name = "kvm-page-table-test",
	.summary = "the stages of the selftest kvm_page_table_test (CREATE, UPDATE, ADJUST)",
	.entries = kptt_entries,
	/* main(): nr_vcpus = 1, DEFAULT_TEST_MEM_SIZE (1 << 30), DEFAULT_VM_MEM_SRC */
	.default_vcpus = 1,
	.default_mem = SZ_1G,
	.default_backing = S2_BACKING_4K,
	.generate = kptt_generate,
};
