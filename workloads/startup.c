/*
 * workloads/startup.c - a Linux guest booting on a fresh VM.
 *
 * Nothing of guest RAM is resident on the host except what the VMM wrote
 * before the first KVM_RUN: the device tree and the (compressed) kernel
 * Image.  A memslot has one "populated" flag, so that region is its own
 * memslot; it ends on a host page boundary (the VMM's write faulted in whole
 * THP / hugetlb pages) and on a 2 MiB boundary, so the split never stops a
 * block mapping that one real memslot would have allowed.
 *
 * vCPU 0 boots alone: firmware cleans its caches by set/way, it runs the
 * decompressor from the Image, inflates the kernel into fresh RAM (W), jumps
 * into it (X of pages it wrote: the exec-permission faults of
 * kernel-fault-path.md §9), turns its MMU and caches on (trapped register
 * writes, §8), clears .bss, parses the DTB, then zeroes the struct page array
 * and the per-CPU areas (memblock allocates both top-down).  Then smp_init()
 * starts the secondaries one by one (PSCI CPU_ON: each is reset, turns its own
 * MMU on, and is waited for), and they touch their stacks, their per-CPU data,
 * shared kernel text and shared kernel data while vCPU 0 carries on with
 * initcalls, some of which read fresh pages before writing them (§9's
 * zero-page copy-on-write).
 *
 * The guest events say what the guest did; whether a register write traps
 * (HCR_EL2.TVM, not with FWB) and flushes is the simulator's business.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

#define DTB_SIZE		SZ_64K
#define IMAGE_OFFSET		SZ_2M	/* arm64 Image: 2 MiB-aligned load address */
#define DECOMPRESSOR_SIZE	SZ_64K	/* EFI zboot stub at the head of the Image */
#define EARLY_HEAP_SIZE		(4 * SZ_1M)	/* idle stacks, slab pages of initcalls */
#define PCPU_UNIT_SIZE		(128 * 1024ULL)	/* static template + dynamic part */
#define PCPU_STATIC_SIZE	SZ_64K
#define THREAD_SIZE		(16 * 1024ULL)
#define STRUCT_PAGE_SHIFT	6	/* sizeof(struct page) == 64 */
#define INFLATE_RATIO		3	/* output pages per compressed input page */

/* Guest compute between page touches, in cycles. */
#define INFLATE_CYCLES		2000, 6000	/* inflate 4 KiB */
#define ZERO_CYCLES		200, 500	/* DC ZVA over 4 KiB */
#define INIT_CYCLES		400, 3000	/* ordinary kernel code */
#define MEMMAP_CYCLES		600, 1500	/* zero + init 64 struct pages */
/* smp_init(): PSCI CPU_ON and the wait for the secondary to come online */
#define BRINGUP_CYCLES		200000
#define BRINGUP_JITTER		20000
#define SYSREG_CYCLES		20, 60		/* msr + isb */
#define HEAD_PAGES		4		/* head.S: primary_entry, secondary_entry, __enable_mmu */
/* __cpu_setup and __enable_mmu write MAIR_EL1, TCR_EL1, TTBR0_EL1, TTBR1_EL1, then SCTLR_EL1 */
#define MMU_SETUP_WRITES	4
#define CONTEXT_SWITCHES	2	/* TTBR0 switches per CPU during the smp phase */
/* initcall slab runs whose pages are read before they are written: 1 in READ_FIRST_DEN */
#define READ_FIRST_DEN		4
#define RUN_READ_THEN_WRITE	S2_REC_NR	/* a wl_run kind of this file: R then W each page */

static uint64_t image_size = 8 * SZ_1M;
static uint64_t kernel_size = 24 * SZ_1M;

static gboolean parse_image_size(const char *name, const char *val, gpointer data,
				 GError **err)
{
	uint64_t *out = !strcmp(name, "--image-size") ? &image_size : &kernel_size;

	return wl_parse_size_option(name, val, SZ_1M, out, err);
}

static GOptionEntry startup_entries[] = {
	{ "image-size", 0, 0, G_OPTION_ARG_CALLBACK, parse_image_size,
	  "Compressed kernel Image the VMM loaded (default 8M)", "SIZE" },
	{ "kernel-size", 0, 0, G_OPTION_ARG_CALLBACK, parse_image_size,
	  "Decompressed kernel: text 1/2, rodata 1/4, data 1/8, bss 1/8 (default 24M)", "SIZE" },
	{ NULL }
};

struct range {
	uint64_t base, size;
};

struct boot_layout {
	struct range image_slot;	/* populated: DTB + Image */
	struct range dtb, image, decompressor;
	struct range text, rodata, data, bss;
	struct range heap;		/* early page allocations */
	struct range percpu;		/* nr_vcpus units */
	struct range memmap;		/* struct page array */
};

static uint64_t range_end(const struct range *r)
{
	return r->base + r->size;
}

static struct range carve(uint64_t *cursor, uint64_t size)
{
	struct range r = { *cursor, wl_round_up(size, SZ_4K) };

	*cursor += r.size;
	return r;
}

static bool plan_layout(struct boot_layout *l, const struct wl_params *p, GError **err)
{
	uint64_t host_page = s2_backing_host_page(p->backing);
	uint64_t ram_end = VIRT_RAM_BASE + p->mem;
	uint64_t cur = VIRT_RAM_BASE;

	l->dtb = carve(&cur, DTB_SIZE);
	cur = VIRT_RAM_BASE + IMAGE_OFFSET;
	l->image = carve(&cur, image_size);
	l->decompressor = (struct range){ l->image.base, DECOMPRESSOR_SIZE };
	l->image_slot.base = VIRT_RAM_BASE;
	l->image_slot.size = wl_round_up(cur, MAX(host_page, SZ_2M)) - VIRT_RAM_BASE;

	/* the decompressed kernel runs from the first 2 MiB boundary after it */
	cur = range_end(&l->image_slot);
	l->text = carve(&cur, kernel_size / 2);
	l->rodata = carve(&cur, kernel_size / 4);
	l->data = carve(&cur, kernel_size / 8);
	l->bss = carve(&cur, kernel_size - kernel_size / 2 - kernel_size / 4 - kernel_size / 8);
	l->heap = carve(&cur, EARLY_HEAP_SIZE);

	/* memblock allocates top-down: the memmap first, then the per-CPU units */
	l->memmap.size = wl_round_up(p->mem >> STRUCT_PAGE_SHIFT, SZ_4K);
	l->percpu.size = p->nr_vcpus * PCPU_UNIT_SIZE;
	if (cur + l->memmap.size + l->percpu.size > ram_end || cur >= ram_end)
		return wl_option_error(err, "--mem: %" PRIu64 " MiB cannot hold the Image, "
				       "the kernel, its heap, struct pages and %u per-CPU units",
				       p->mem >> 20, p->nr_vcpus);
	l->memmap.base = ram_end - l->memmap.size;
	l->percpu.base = l->memmap.base - l->percpu.size;
	return true;
}

/*
 * __cpu_setup and __enable_mmu (arch/arm64/kernel/head.S, proc.S): the
 * stage-1 registers are written with the MMU and caches still off, each a
 * trapped VM-register write while HCR_EL2.TVM is set, then the SCTLR_EL1 write
 * that turns M and C on: the one write that changes the cache state, on which
 * KVM flushes the whole VM (kernel-fault-path.md §8) and stops trapping.
 */
static void enable_mmu(struct wl_trace *t, uint32_t cpu)
{
	for (int i = 0; i < MMU_SETUP_WRITES; i++) {
		wl_vmreg(t, cpu, false, false);
		wl_compute(t, cpu, wl_rand(t, SYSREG_CYCLES));
	}
	wl_vmreg(t, cpu, false, true);
	wl_compute(t, cpu, wl_rand(t, SYSREG_CYCLES));
}

/*
 * A TTBR write with the caches on (cpu_replace_ttbr1, idmap removal, a
 * context switch): no longer trapped once TVM is clear, so it must cost
 * nothing; it is emitted so that the simulator's TVM state is exercised.
 */
static void switch_ttbr(struct wl_trace *t, uint32_t cpu)
{
	wl_vmreg(t, cpu, true, true);
	wl_compute(t, cpu, wl_rand(t, SYSREG_CYCLES));
}

static void add_slots(struct s2_trace_header *hdr, const struct boot_layout *l,
		      const struct wl_params *p)
{
	uint64_t rest = VIRT_RAM_BASE + p->mem - range_end(&l->image_slot);

	wl_add_slot(hdr, 0, l->image_slot.base, l->image_slot.size, p->backing, true);
	wl_add_slot(hdr, 1, range_end(&l->image_slot), rest, p->backing, false);
}

/*
 * The EFI zboot stub runs from the Image and inflates the payload that
 * follows it into the kernel's run-time location: one compressed page read
 * for every INFLATE_RATIO pages written.  .bss is not in the payload.
 */
static void boot_decompress(struct wl_trace *t, const struct boot_layout *l)
{
	uint64_t in = range_end(&l->decompressor);
	uint64_t out_end = range_end(&l->data);
	uint64_t n = 0;

	/*
	 * Firmware cleans its caches by set/way before it jumps to the Image
	 * with the MMU off: trapped (HCR_EL2.TSW); TVM is already set from the
	 * vCPU's reset, so KVM only notes it (kvm_set_way_flush()).
	 */
	wl_event(t, 0, S2_REC_SETWAY, 0);
	wl_compute(t, 0, wl_rand(t, INIT_CYCLES));
	wl_sweep(t, 0, S2_REC_EXEC, l->decompressor.base, l->decompressor.size, INIT_CYCLES);
	for (uint64_t out = l->text.base; out < out_end; out += SZ_4K, n++) {
		if (n % INFLATE_RATIO == 0 && in < range_end(&l->image)) {
			wl_touch(t, 0, S2_REC_READ, in, INIT_CYCLES);
			in += SZ_4K;
		}
		wl_touch(t, 0, S2_REC_WRITE, out, INFLATE_CYCLES);
	}
}

/*
 * primary_entry .. start_kernel: turn the MMU and caches on, clear .bss,
 * map and parse the DTB, then run a quarter of the text in short runs,
 * reading and writing .data.
 */
static void boot_early(struct wl_trace *t, const struct boot_layout *l)
{
	GArray *runs = g_array_new(FALSE, FALSE, sizeof(struct wl_run));

	wl_sweep(t, 0, S2_REC_EXEC, l->text.base, HEAD_PAGES * SZ_4K, INIT_CYCLES);	/* head.S */
	enable_mmu(t, 0);
	wl_sweep(t, 0, S2_REC_WRITE, l->bss.base, l->bss.size, ZERO_CYCLES);
	wl_sweep(t, 0, S2_REC_READ, l->dtb.base, l->dtb.size, INIT_CYCLES);
	wl_runs_cut(t, runs, l->text.base, l->text.size, 8, 1, 4, S2_REC_EXEC);
	wl_runs_cut(t, runs, l->rodata.base, l->rodata.size, 4, 1, 4, S2_REC_READ);
	wl_runs_cut(t, runs, l->data.base, l->data.size, 4, 1, 4, S2_REC_READ);
	wl_runs_cut(t, runs, l->data.base, l->data.size, 4, 1, 4, S2_REC_WRITE);
	wl_runs_shuffle(t, runs);
	wl_runs_touch(t, 0, runs, INIT_CYCLES);
	g_array_free(runs, TRUE);
}

/*
 * mm_core_init(): the memmap (free_area_init) is zeroed and initialised
 * page by page; setup_per_cpu_areas() copies the static per-CPU template
 * into every possible CPU's unit.
 */
static void boot_mm_init(struct wl_trace *t, const struct boot_layout *l)
{
	/* paging_init(): cpu_replace_ttbr1(swapper), then the idmap goes from TTBR0 */
	switch_ttbr(t, 0);
	switch_ttbr(t, 0);
	for (uint32_t cpu = 0; cpu < t->p->nr_vcpus; cpu++)
		wl_sweep(t, 0, S2_REC_WRITE, l->percpu.base + cpu * PCPU_UNIT_SIZE,
			 PCPU_STATIC_SIZE, ZERO_CYCLES);
	wl_sweep(t, 0, S2_REC_WRITE, l->memmap.base, l->memmap.size, MEMMAP_CYCLES);
}

/* The code every secondary runs to come online: one path, the same for all. */
static GArray *secondary_path(struct wl_trace *t, const struct boot_layout *l)
{
	GArray *runs = g_array_new(FALSE, FALSE, sizeof(struct wl_run));

	wl_runs_cut(t, runs, l->text.base, l->text.size, 4, 1, 64, S2_REC_EXEC);
	wl_runs_shuffle(t, runs);
	return runs;
}

/* Shared kernel data every CPU reads (masks, jiffies, ...), some it writes. */
static GArray *shared_data(struct wl_trace *t, const struct boot_layout *l)
{
	GArray *runs = g_array_new(FALSE, FALSE, sizeof(struct wl_run));

	wl_runs_cut(t, runs, l->data.base, l->data.size, 2, 1, 16, S2_REC_READ);
	wl_runs_cut(t, runs, l->data.base, l->data.size, 2, 1, 64, S2_REC_WRITE);
	return runs;
}

/*
 * wl_runs_touch(), where a RUN_READ_THEN_WRITE run reads each page and then
 * writes it: on never-touched memory the read maps the host's zero page and
 * the write breaks the copy-on-write (kernel-fault-path.md §9).
 */
static void touch_runs(struct wl_trace *t, uint32_t cpu, const GArray *runs)
{
	for (guint i = 0; i < runs->len; i++) {
		const struct wl_run *r = &g_array_index(runs, struct wl_run, i);

		if (r->kind != RUN_READ_THEN_WRITE) {
			wl_sweep(t, cpu, r->kind, r->ipa, (uint64_t)r->pages * SZ_4K, INIT_CYCLES);
			continue;
		}
		for (uint32_t pg = 0; pg < r->pages; pg++) {
			wl_touch(t, cpu, S2_REC_READ, r->ipa + pg * SZ_4K, INIT_CYCLES);
			wl_touch(t, cpu, S2_REC_WRITE, r->ipa + pg * SZ_4K, INIT_CYCLES);
		}
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Touch the runs, switching TTBR0 (a context switch) at random points between them. */
static void touch_runs_switching(struct wl_trace *t, uint32_t cpu, const GArray *runs)
{
	uint64_t at[CONTEXT_SWITCHES];
	GArray *part = g_array_new(FALSE, FALSE, sizeof(struct wl_run));
	guint from = 0;

	for (int i = 0; i < CONTEXT_SWITCHES; i++)
		at[i] = wl_rand(t, 0, runs->len);
	qsort(at, CONTEXT_SWITCHES, sizeof(at[0]), cmp_u64);
	for (int i = 0; i <= CONTEXT_SWITCHES; i++) {
		guint to = i < CONTEXT_SWITCHES ? at[i] : runs->len;

		g_array_set_size(part, 0);
		g_array_append_vals(part, &g_array_index(runs, struct wl_run, from), to - from);
		touch_runs(t, cpu, part);
		if (i < CONTEXT_SWITCHES)
			switch_ttbr(t, cpu);
		from = to;
	}
	g_array_free(part, TRUE);
}

/*
 * PSCI CPU_ON resets the vCPU, then secondary_entry .. __enable_mmu ..
 * secondary_start_kernel .. cpu_startup_entry: its own MMU and cache enable,
 * the boot path, the idle task's stack (top down), the dynamic part of its
 * per-CPU unit, then shared data in a per-CPU order.
 */
static void boot_secondary(struct wl_trace *t, const struct boot_layout *l, uint32_t cpu,
			   const GArray *path, const GArray *shared)
{
	uint64_t stack = l->heap.base + cpu * THREAD_SIZE;
	uint64_t unit = l->percpu.base + cpu * PCPU_UNIT_SIZE;
	GArray *mine = g_array_copy((GArray *)shared);

	wl_compute(t, cpu, cpu * BRINGUP_CYCLES + wl_rand(t, 0, BRINGUP_JITTER));
	wl_event(t, cpu, S2_REC_RESET, 0);
	wl_sweep(t, cpu, S2_REC_EXEC, l->text.base, HEAD_PAGES * SZ_4K, INIT_CYCLES);
	enable_mmu(t, cpu);
	switch_ttbr(t, cpu);	/* __secondary_switched: cpu_uninstall_idmap() */
	wl_runs_touch(t, cpu, path, INIT_CYCLES);
	for (uint64_t off = THREAD_SIZE; off; off -= SZ_4K)
		wl_touch(t, cpu, S2_REC_WRITE, stack + off - SZ_4K, INIT_CYCLES);
	wl_sweep(t, cpu, S2_REC_WRITE, unit + PCPU_STATIC_SIZE, PCPU_UNIT_SIZE - PCPU_STATIC_SIZE,
		 INIT_CYCLES);
	wl_runs_shuffle(t, mine);
	touch_runs_switching(t, cpu, mine);
	g_array_free(mine, TRUE);
}

/*
 * vCPU 0 waits for each secondary in turn (bringup_nonboot_cpus()), then
 * runs initcalls: more text, and fresh slab pages after the idle stacks, one
 * run in READ_FIRST_DEN read before it is written.
 */
static void boot_smp(struct wl_trace *t, const struct boot_layout *l)
{
	GArray *path = secondary_path(t, l);
	GArray *shared = shared_data(t, l);
	GArray *initcalls = g_array_new(FALSE, FALSE, sizeof(struct wl_run));
	uint64_t stacks = t->p->nr_vcpus * THREAD_SIZE;

	for (uint32_t cpu = 1; cpu < t->p->nr_vcpus; cpu++)
		boot_secondary(t, l, cpu, path, shared);
	wl_compute(t, 0, (t->p->nr_vcpus - 1) * BRINGUP_CYCLES);
	wl_runs_cut(t, initcalls, l->text.base, l->text.size, 8, 1, 8, S2_REC_EXEC);
	wl_runs_cut(t, initcalls, l->heap.base + stacks, l->heap.size - stacks, 8, 1, 2,
		    S2_REC_WRITE);
	for (guint i = 0; i < initcalls->len; i++) {
		struct wl_run *r = &g_array_index(initcalls, struct wl_run, i);

		if (r->kind == S2_REC_WRITE && wl_chance(t, 1, READ_FIRST_DEN))
			r->kind = RUN_READ_THEN_WRITE;
	}
	wl_runs_shuffle(t, initcalls);
	touch_runs_switching(t, 0, initcalls);
	g_array_free(initcalls, TRUE);
	g_array_free(shared, TRUE);
	g_array_free(path, TRUE);
}

static bool startup_generate(struct wl_trace *t, GError **err)
{
	struct boot_layout l = { 0 };

	if (!plan_layout(&l, t->p, err))
		return false;
	add_slots(&t->hdr, &l, t->p);
	if (!wl_trace_open(t, err) || !wl_vmm_phase(t, "decompress", err))
		return false;
	boot_decompress(t, &l);
	if (!wl_vmm_phase(t, "early-boot", err))
		return false;
	boot_early(t, &l);
	if (!wl_vmm_phase(t, "mm-init", err))
		return false;
	boot_mm_init(t, &l);
	if (!wl_vmm_phase(t, "smp", err))
		return false;
	boot_smp(t, &l);
	return true;
}

const struct wl_scenario wl_startup = {
	.name = "startup",
	.summary = "a Linux guest boots: vCPU 0 inflates and runs the kernel, then secondaries",
	.entries = startup_entries,
	.default_vcpus = 8,
	.default_mem = SZ_1G,
	.default_backing = S2_BACKING_THP,
	.generate = startup_generate,
};
