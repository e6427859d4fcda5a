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
#define DEFAULT_GUEST_TEST_MEM	0xc0000000ULL	/* the test region's guest VA */

/* kvm_util_base.h */
#define KVM_GUEST_PAGE_TABLE_MIN_PADDR	0x180000ULL
#define DEFAULT_STACK_PGS		5
#define PTES_PER_MIN_PAGE		512
/*
 * Table pages vm_alloc_page_table() hands out before virt_map() maps the
 * test region: the PGD and those of the ELF image and the vCPU stacks.
 * ASSUMED count; no cost depends on it (each table page is a distinct
 * populated 4 KiB page of slot 0 either way).
 */
#define TABLE_PAGES_BEFORE_VIRT_MAP	8

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
 * The guest's stage-1 tables of the test region, in slot 0 (lib/aarch64/
 * processor.c, _virt_pg_map(): 4 KiB entries, tables from
 * vm_alloc_page_table()).  Each vCPU's first access to a 2 MiB region walks
 * them, and a table page not yet mapped at stage 2 faults first.
 */
struct s1_tables {
	uint64_t *pte_page;	/* IPA of the last-level table, per 2 MiB region */
	uint64_t *pmd_page;	/* per 1 GiB of VA */
	uint64_t *pud_page;	/* per 512 GiB of VA; 0: it maps the ELF too, so is mapped in BEFORE */
	uint64_t *walked;	/* per vCPU, a bit per region it has walked to */
	uint64_t words;		/* of walked, per vCPU */
};

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
	struct s1_tables s1;
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
 * vm_nr_pages_required() (lib/kvm_util.c @ v6.1): slot 0 holds 512 pages
 * of code and per-VM data, each vCPU's stack, and twice the page tables
 * the extra (test) pages could need.  The VMM wrote the tables into it, so
 * it is populated; it is "anonymous" memory, 4 KiB pages.
 */
static uint64_t slot0_size(const struct kptt *k, uint32_t nr_vcpus)
{
	uint64_t nr_pages = 512 + (uint64_t)nr_vcpus * DEFAULT_STACK_PGS;

	nr_pages += (nr_pages + k->test_mem_size / SZ_4K) / PTES_PER_MIN_PAGE * 2;
	return nr_pages * SZ_4K;
}

#define S1_PUD_SHIFT	39	/* one PUD table maps 512 GiB of VA */
#define S1_PMD_SHIFT	30	/* one PMD table maps 1 GiB */
#define S1_PTE_SHIFT	21	/* one last-level table maps 2 MiB */

/*
 * virt_map() maps the test region a 4 KiB page at a time in VA order, and
 * _virt_pg_map() allocates each missing table on the way down: a PUD table
 * at each new 512 GiB (the first one also maps the ELF image, so it exists),
 * a PMD table at each new 1 GiB (the region starts at 3 GiB, pud[3] is
 * empty), a last-level table at each 2 MiB.  vm_alloc_page_table() takes
 * the lowest free page from KVM_GUEST_PAGE_TABLE_MIN_PADDR up.
 */
static bool s1_tables_init(struct kptt *k, uint32_t nr_vcpus, GError **err)
{
	struct s1_tables *s1 = &k->s1;
	uint64_t va_end = DEFAULT_GUEST_TEST_MEM + k->test_mem_size;
	uint64_t regions = (k->test_mem_size + SZ_2M - 1) / SZ_2M;
	uint64_t page = KVM_GUEST_PAGE_TABLE_MIN_PADDR + TABLE_PAGES_BEFORE_VIRT_MAP * SZ_4K;

	s1->pte_page = g_new0(uint64_t, regions);
	s1->pmd_page = g_new0(uint64_t, ((va_end - 1) >> S1_PMD_SHIFT) + 1);
	s1->pud_page = g_new0(uint64_t, ((va_end - 1) >> S1_PUD_SHIFT) + 1);
	for (uint64_t r = 0; r < regions; r++) {
		uint64_t va = DEFAULT_GUEST_TEST_MEM + (r << S1_PTE_SHIFT);

		if (va >> S1_PUD_SHIFT && !s1->pud_page[va >> S1_PUD_SHIFT]) {
			s1->pud_page[va >> S1_PUD_SHIFT] = page;
			page += SZ_4K;
		}
		if (!s1->pmd_page[va >> S1_PMD_SHIFT]) {
			s1->pmd_page[va >> S1_PMD_SHIFT] = page;
			page += SZ_4K;
		}
		s1->pte_page[r] = page;
		page += SZ_4K;
	}
	if (page > k->slot0_size)
		return wl_option_error(err, "--mem: the stage-1 tables of the test region do not fit "
				       "slot 0 (0x%" PRIx64 " bytes)", k->slot0_size);
	s1->words = (regions + 63) / 64;
	s1->walked = g_new0(uint64_t, s1->words * nr_vcpus);
	return true;
}

static void s1_tables_free(struct s1_tables *s1)
{
	g_free(s1->pte_page);
	g_free(s1->pmd_page);
	g_free(s1->pud_page);
	g_free(s1->walked);
}

/* Has @vcpu walked to any of regions [first, first + n)?  Both multiples of 64. */
static bool walked_any(const struct s1_tables *s1, uint32_t vcpu, uint64_t first, uint64_t n)
{
	const uint64_t *w = &s1->walked[vcpu * s1->words];

	for (uint64_t i = first / 64; i < MIN((first + n) / 64, s1->words); i++)
		if (w[i])
			return true;
	return false;
}

/*
 * A vCPU's first access to a 2 MiB region: its stage-1 walk reads the
 * tables top down, and takes a stage-2 fault on the first one not mapped
 * yet (the simulator decides which are; tables mapped by another vCPU do
 * not fault).  The walk reads: v5.12 took every S1PTW fault for a write
 * (kvm_vcpu_dabt_iswrite()), v6.1.y only a permission one
 * (kvm_is_write_fault(), 406504c7b040); on this populated, writable slot
 * both map the page writable, so the kind changes nothing here.  Walks
 * cost no guest time of their own.
 */
static void s1_walk(struct wl_trace *t, struct kptt *k, uint32_t vcpu, uint64_t gpa)
{
	struct s1_tables *s1 = &k->s1;
	uint64_t r = (gpa - k->test_phys_mem) >> S1_PTE_SHIFT;
	uint64_t va = DEFAULT_GUEST_TEST_MEM + (r << S1_PTE_SHIFT);
	uint64_t per_pmd = 1ULL << (S1_PMD_SHIFT - S1_PTE_SHIFT);
	uint64_t per_pud = 1ULL << (S1_PUD_SHIFT - S1_PTE_SHIFT);
	uint64_t pmd_first = (va >> S1_PMD_SHIFT << S1_PMD_SHIFT) - DEFAULT_GUEST_TEST_MEM;
	uint64_t *w = &s1->walked[vcpu * s1->words + r / 64];

	if (*w & (1ULL << (r % 64)))
		return;
	if (s1->pud_page[va >> S1_PUD_SHIFT]) {
		uint64_t pud_first = (va >> S1_PUD_SHIFT << S1_PUD_SHIFT) - DEFAULT_GUEST_TEST_MEM;

		if (!walked_any(s1, vcpu, pud_first >> S1_PTE_SHIFT, per_pud))
			wl_access(t, vcpu, S2_REC_READ, s1->pud_page[va >> S1_PUD_SHIFT]);
	}
	if (!walked_any(s1, vcpu, pmd_first >> S1_PTE_SHIFT, per_pmd))
		wl_access(t, vcpu, S2_REC_READ, s1->pmd_page[va >> S1_PMD_SHIFT]);
	wl_access(t, vcpu, S2_REC_READ, s1->pte_page[r]);
	*w |= 1ULL << (r % 64);
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
	s1_walk(t, k, vcpu, gpa);
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
	k.slot0_size = slot0_size(&k, p->nr_vcpus);
	if (k.test_phys_mem < k.slot0_size)
		return wl_option_error(err, "--phys-offset: the test memory overlaps slot 0 "
				       "[0, 0x%" PRIx64 ")", k.slot0_size);
	wl_add_slot(&t->hdr, 0, 0, k.slot0_size, S2_BACKING_4K, true);
	/* vm_userspace_mem_region_add() only mmap()s and madvise()s: nothing resident */
	wl_add_slot(&t->hdr, TEST_MEM_SLOT_INDEX, k.test_phys_mem, k.test_mem_size, backing,
		    false);
	ok = s1_tables_init(&k, p->nr_vcpus, err) && pick_ucall_gpa(&k, t->hdr.ipa_bits, err) &&
	     wl_trace_open(t, err) &&
	     run_stage(t, &k, KVM_BEFORE_MAPPINGS, err) &&
	     run_stage(t, &k, KVM_CREATE_MAPPINGS, err) &&
	     wl_vmm_dirty_log(t, TEST_MEM_SLOT_INDEX, true, err) &&
	     run_stage(t, &k, KVM_UPDATE_MAPPINGS, err) &&
	     wl_vmm_dirty_log(t, TEST_MEM_SLOT_INDEX, false, err) &&
	     run_stage(t, &k, KVM_ADJUST_MAPPINGS, err);
	s1_tables_free(&k.s1);
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
