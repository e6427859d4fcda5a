/*
 * workloads/selftest_vm.c - what the KVM selftests' library sets up around
 * a test region that a trace of the test must show (tools/testing/
 * selftests/kvm/lib/kvm_util.c and lib/aarch64/processor.c, v6.1): slot 0,
 * and in it the guest's stage-1 tables of the region, which fault at
 * stage 2 until a vCPU's walk has reached each of them once.
 *
 * Both kvm_page_table_test and dirty_log_perf_test create their VM with
 * __vm_create_with_vcpus(mode, nr_vcpus, guest_num_pages, ...), add the
 * test slot, then virt_map(vm, 0xc0000000, test_gpa, guest_num_pages).
 */
#include <inttypes.h>

#include "wl.h"

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

#define S1_PUD_SHIFT	39	/* one PUD table maps 512 GiB of VA */
#define S1_PMD_SHIFT	30	/* one PMD table maps 1 GiB */
#define S1_PTE_SHIFT	21	/* one last-level table maps 2 MiB */

/*
 * vm_nr_pages_required(): slot 0 holds 512 pages of code and per-VM data,
 * each vCPU's stack, and twice the page tables the extra (test) pages
 * could need.  The VMM wrote the tables into it, so it is populated; it is
 * "anonymous" memory, 4 KiB pages.
 */
uint64_t wl_selftest_slot0_size(uint32_t nr_vcpus, uint64_t extra_pages)
{
	uint64_t nr_pages = 512 + (uint64_t)nr_vcpus * DEFAULT_STACK_PGS;

	nr_pages += (nr_pages + extra_pages) / PTES_PER_MIN_PAGE * 2;
	return nr_pages * SZ_4K;
}

/*
 * virt_map() maps the test region a 4 KiB page at a time in VA order, and
 * _virt_pg_map() allocates each missing table on the way down: a PUD table
 * at each new 512 GiB (the first one also maps the ELF image, so it exists),
 * a PMD table at each new 1 GiB (the region starts at 3 GiB, pud[3] is
 * empty), a last-level table at each 2 MiB.  vm_alloc_page_table() takes
 * the lowest free page from KVM_GUEST_PAGE_TABLE_MIN_PADDR up.
 */
bool wl_s1_tables_init(struct wl_s1_tables *s1, uint64_t test_gpa, uint64_t test_size,
		       uint64_t slot0_size, uint32_t nr_vcpus, GError **err)
{
	uint64_t va_end = WL_SELFTEST_TEST_GVA + test_size;
	uint64_t regions = (test_size + SZ_2M - 1) / SZ_2M;
	uint64_t page = KVM_GUEST_PAGE_TABLE_MIN_PADDR + TABLE_PAGES_BEFORE_VIRT_MAP * SZ_4K;

	*s1 = (struct wl_s1_tables){ .test_gpa = test_gpa };
	s1->pte_page = g_new0(uint64_t, regions);
	s1->pmd_page = g_new0(uint64_t, ((va_end - 1) >> S1_PMD_SHIFT) + 1);
	s1->pud_page = g_new0(uint64_t, ((va_end - 1) >> S1_PUD_SHIFT) + 1);
	for (uint64_t r = 0; r < regions; r++) {
		uint64_t va = WL_SELFTEST_TEST_GVA + (r << S1_PTE_SHIFT);

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
	s1->words = (regions + 63) / 64;
	s1->walked = g_new0(uint64_t, s1->words * nr_vcpus);
	if (page > slot0_size) {
		wl_s1_tables_free(s1);
		return wl_option_error(err, "--mem: the stage-1 tables of the test region do not fit "
				       "slot 0 (0x%" PRIx64 " bytes)", slot0_size);
	}
	return true;
}

void wl_s1_tables_free(struct wl_s1_tables *s1)
{
	g_free(s1->pte_page);
	g_free(s1->pmd_page);
	g_free(s1->pud_page);
	g_free(s1->walked);
	*s1 = (struct wl_s1_tables){ 0 };
}

/* Has @vcpu walked to any of regions [first, first + n)?  Both multiples of 64. */
static bool walked_any(const struct wl_s1_tables *s1, uint32_t vcpu, uint64_t first, uint64_t n)
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
 * cost no guest time of their own and draw nothing from the generator's
 * random numbers.
 */
void wl_s1_walk(struct wl_trace *t, struct wl_s1_tables *s1, uint32_t vcpu, uint64_t gpa)
{
	uint64_t r = (gpa - s1->test_gpa) >> S1_PTE_SHIFT;
	uint64_t va = WL_SELFTEST_TEST_GVA + (r << S1_PTE_SHIFT);
	uint64_t *w = &s1->walked[vcpu * s1->words + r / 64];
	uint64_t pmd_first = (va >> S1_PMD_SHIFT << S1_PMD_SHIFT) - WL_SELFTEST_TEST_GVA;

	if (*w & (1ULL << (r % 64)))
		return;
	if (s1->pud_page[va >> S1_PUD_SHIFT]) {
		uint64_t pud_first = (va >> S1_PUD_SHIFT << S1_PUD_SHIFT) - WL_SELFTEST_TEST_GVA;

		if (!walked_any(s1, vcpu, pud_first >> S1_PTE_SHIFT,
				1ULL << (S1_PUD_SHIFT - S1_PTE_SHIFT)))
			wl_access(t, vcpu, S2_REC_READ, s1->pud_page[va >> S1_PUD_SHIFT]);
	}
	if (!walked_any(s1, vcpu, pmd_first >> S1_PTE_SHIFT, 1ULL << (S1_PMD_SHIFT - S1_PTE_SHIFT)))
		wl_access(t, vcpu, S2_REC_READ, s1->pmd_page[va >> S1_PMD_SHIFT]);
	wl_access(t, vcpu, S2_REC_READ, s1->pte_page[r]);
	*w |= 1ULL << (r % 64);
}
