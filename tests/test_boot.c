/*
 * tests/test_boot.c - what a real boot adds (kernel-fault-path.md §8-§9):
 * guest-initiated whole-VM flushes, the zero-page copy-on-write and its MMU
 * notifiers, host notifier records; counts and cycles worked out by hand.
 */
#include <string.h>

#include "harness.h"

/* Ten 4 KiB pages written by vCPU 0 (one 2 MiB region, 4 KiB backing). */
#define TEN_PAGES \
	"0 0 W 0x40000000\n0 0 W 0x40001000\n0 0 W 0x40002000\n0 0 W 0x40003000\n" \
	"0 0 W 0x40004000\n0 0 W 0x40005000\n0 0 W 0x40006000\n0 0 W 0x40007000\n" \
	"0 0 W 0x40008000\n0 0 W 0x40009000\n"

/*
 * Ten pages mapped; vCPU 1 turns its caches on: its trapped SCTLR write
 * makes stage2_flush_vm() clean the ten 4 KiB leaves under the exclusive
 * lock.  vCPU 0's fault issued meanwhile waits for the whole flush.
 */
static void test_cache_toggle_flushes_mapped_pages(void)
{
	static const char trace[] = HEADER(2, "backing=4k populated=yes")
		TEN_PAGES
		"vmm 0 phase boot\n"
		"1 0 vmreg off on\n"
		"0 1000 W 0x4000a000\n";
	struct run r;
	const struct s2_profile *p;
	uint64_t flush, vcpu1_lock_at, vcpu0_lock_req;

	run_trace(&r, "handler", NULL, trace);
	p = r.prof;
	g_assert_cmpuint(r.c->vmreg_trapped, ==, 1);
	g_assert_cmpuint(r.c->vmflushes, ==, 1);
	g_assert_cmpuint(r.c->vmflush_by_toggle, ==, 1);
	g_assert_cmpuint(r.c->vmflush_dclean_calls, ==, 10);
	g_assert_cmpuint(r.c->vmflush_dclean_bytes, ==, 10 * 4096);
	/* cold 4 KiB cleans, each behind a walk step, all in one 1 GiB chunk */
	flush = 10 * (p->wp_per_pte + s2_profile_dclean_cycles(p, 4096, 0));
	g_assert_cmpuint(r.c->vmflush_lock_cycles, ==, flush);
	g_assert_cmpuint(r.c->vmflush_lock_drops, ==, 0);
	/*
	 * vCPU 1 traps at the barrier (exit half) and takes the lock; vCPU 0
	 * asks for it 1000 + exit half + prepare + top-up later and gets it
	 * one hand-off after the flush ends: that is its wait.
	 */
	vcpu1_lock_at = p->exit_entry / 2 + p->lock_acquire;
	vcpu0_lock_req = 1000 + p->exit_entry / 2 + p->fault_prepare;
	g_assert_cmpuint(vcpu0_lock_req, <, vcpu1_lock_at + flush);
	g_assert_cmpuint(r.c->lock_wait.max, ==,
			 vcpu1_lock_at + flush + p->spin_handoff - vcpu0_lock_req);
	/* the caches are on: TVM is clear, a later write would not trap */
	run_free(&r);
}

/* With FWB nothing traps (TVM is never set) and nothing is flushed. */
static void test_fwb_no_trap_no_flush(void)
{
	static const char trace[] = HEADER(2, "backing=4k populated=yes")
		TEN_PAGES
		"vmm 0 phase boot\n"
		"1 0 vmreg off on\n1 0 setway\n";
	const char *fwb[] = { "fwb = true", NULL };
	struct run r;

	run_trace(&r, "handler", fwb, trace);
	g_assert_cmpuint(r.c->vmreg_trapped, ==, 0);
	g_assert_cmpuint(r.c->vmreg_untrapped, ==, 1);
	g_assert_cmpuint(r.c->setway_trapped, ==, 1);	/* HCR_EL2.TSW still traps */
	g_assert_cmpuint(r.c->vmflushes, ==, 0);
	g_assert_cmpuint(r.c->vmflush_dclean_calls, ==, 0);
	/* the set/way trap costs one exit and entry, nothing else */
	g_assert_cmpuint(r.sim->vcpus[1].finished - r.sim->vcpus[1].barrier_cycles, ==,
			 r.prof->exit_entry);
	run_free(&r);
}

/*
 * Set/way: with TVM set (from reset) a set/way op does nothing; once the
 * caches are on (TVM clear) the first one flushes and sets TVM again, and
 * a second one before any toggle does nothing.
 */
static void test_setway_flushes_once(void)
{
	static const char trace[] = HEADER(1, "backing=4k populated=yes")
		"0 0 W 0x40000000\n"
		"0 0 setway\n"		/* TVM set since reset: nothing */
		"0 0 vmreg off on\n"	/* flush 1, TVM cleared */
		"0 0 vmreg on on\n"	/* not trapped */
		"0 0 setway\n"		/* flush 2, TVM set */
		"0 0 setway\n"		/* nothing */
		"0 0 vmreg on on\n";	/* trapped again, no change: no flush */
	struct run r;

	run_trace(&r, "abort", NULL, trace);
	g_assert_cmpuint(r.c->setway_trapped, ==, 3);
	g_assert_cmpuint(r.c->vmreg_trapped, ==, 2);
	g_assert_cmpuint(r.c->vmreg_untrapped, ==, 1);
	g_assert_cmpuint(r.c->vmflushes, ==, 2);
	g_assert_cmpuint(r.c->vmflush_by_toggle, ==, 1);
	g_assert_cmpuint(r.c->vmflush_by_setway, ==, 1);
	g_assert_cmpuint(r.c->vmflush_dclean_calls, ==, 2);
	run_free(&r);
}

/*
 * A reset (PSCI CPU_ON) sets TVM again: the vCPU's next VM-register write
 * traps, and turning the caches on flushes again.
 */
static void test_reset_rearms_tvm(void)
{
	static const char trace[] = HEADER(1, "backing=4k populated=yes")
		"0 0 W 0x40000000\n0 0 vmreg off on\n0 0 reset\n0 0 vmreg off on\n";
	struct run r;

	run_trace(&r, "handler", NULL, trace);
	g_assert_cmpuint(r.c->resets, ==, 1);
	g_assert_cmpuint(r.c->vmreg_trapped, ==, 2);
	g_assert_cmpuint(r.c->vmflushes, ==, 2);
	run_free(&r);
}

/*
 * Read then write of one never-touched anonymous page (its neighbour is
 * mapped, so the last-level table survives the unmap): the read maps the
 * zero page read-only (translation fault); the write takes a permission
 * fault whose GUP breaks the copy-on-write: notifier unmap (clean + TLBI),
 * change_pte maps the new page read-only, the handler sees the sequence
 * move and retries without a walk; the write faults again (permission)
 * and relax_perms grants W with its TLBI.
 */
static void test_zero_page_cow(void)
{
	static const char trace[] = HEADER(1, "backing=4k")
		"0 0 W 0x40001000\n"
		"0 0 R 0x40000000\n"
		"0 0 W 0x40000000\n";
	struct run r;

	run_trace(&r, "handler", NULL, trace);
	g_assert_cmpuint(r.c->faults[S2_FAULT_TRANSLATION], ==, 2);	/* neighbour + read */
	g_assert_cmpuint(r.c->faults[S2_FAULT_PERMISSION], ==, 2);
	g_assert_cmpuint(r.c->notifier_unmaps[S2_UNMAP_COW], ==, 1);
	g_assert_cmpuint(r.c->change_pte_maps, ==, 1);
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_NOTIFIER], ==, 1);
	g_assert_cmpuint(r.c->outcome[S2_OUT_RELAXED], ==, 1);
	g_assert_cmpuint(r.c->tlbi[S2_TLBI_UNMAP], ==, 1);
	g_assert_cmpuint(r.c->tlbi[S2_TLBI_RELAX], ==, 1);
	g_assert_cmpuint(r.c->tlbi[S2_TLBI_UNMAP] + r.c->tlbi[S2_TLBI_RELAX] +
			 r.c->tlbi[S2_TLBI_BBM_LEAF], ==, 2);
	/* zeroed: the neighbour and the copy; the zero page itself costs nothing */
	g_assert_cmpuint(r.c->host_pages_zeroed, ==, 2);
	g_assert_cmpuint(r.c->cow_breaks, ==, 1);
	/* cleaned: neighbour, zero page (walker), new page (change_pte map) */
	g_assert_cmpuint(r.c->dclean_bytes, ==, 3 * 4096);
	/* and the unmap walker cleaned the zero page on its way out */
	g_assert_cmpuint(r.c->unmap_dclean_bytes, ==, 4096);
	/*
	 * mmu_lock holds: neighbour map, zero-page map, then the CoW's three
	 * (invalidate_range_start with its unmap, change_pte, and
	 * invalidate_range_end, which counts under the lock too: v6.1
	 * __kvm_handle_hva_range() .on_lock), the write fault's own hold that
	 * finds the sequence moved, and the relax.
	 */
	g_assert_cmpuint(r.c->lock_wait.count, ==, 7);
	run_free(&r);
}

/*
 * THP memory read before it is written (mm/huge_memory.c @ v6.1): the read
 * maps the huge zero page, and stage-2 a read-only 2 MiB block of it (one
 * 2 MiB clean in the walker).  The write takes a permission fault at level
 * 2; its GUP splits the huge zero PMD - a 2 MiB invalidation that unmaps
 * the block (the unmap walker cleans 2 MiB, one TLBI) and frees the table
 * it leaves empty (stage2_unmap_walker: page_count 1, another TLBI) - and copies one
 * small page (a 4 KiB invalidation with nothing mapped, and a change_pte
 * that finds no last-level table and gives up, having no memcache).  The
 * handler sees the sequence move and retries; the write faults again
 * (translation, the block is gone) and maps 4 KiB read-write: the host
 * now maps that page with a PTE.
 */
static void test_thp_huge_zero_page(void)
{
	static const char trace[] = HEADER(1, "backing=thp")
		"0 0 R 0x40000000\n"
		"0 0 W 0x40000000\n";
	struct run r;

	run_trace(&r, "handler", NULL, trace);
	g_assert_cmpuint(r.c->faults[S2_FAULT_TRANSLATION], ==, 2);
	g_assert_cmpuint(r.c->faults[S2_FAULT_PERMISSION], ==, 1);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 1);
	g_assert_cmpuint(r.c->maps_by_level[3], ==, 1);
	g_assert_cmpuint(r.c->notifier_unmaps[S2_UNMAP_COW], ==, 2);
	g_assert_cmpuint(r.c->change_pte_maps, ==, 0);
	g_assert_cmpuint(r.c->change_pte_skipped, ==, 1);
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_NOTIFIER], ==, 1);
	g_assert_cmpuint(r.c->tlbi[S2_TLBI_UNMAP], ==, 2);
	g_assert_cmpuint(r.c->unmap_dclean_bytes, ==, MB2);
	g_assert_cmpuint(r.c->dclean_bytes, ==, MB2 + 4096);
	/* nothing zeroed the 2 MiB: the huge zero page is shared; one 4 KiB copy */
	g_assert_cmpuint(r.c->zero_bytes, ==, 4096);
	run_free(&r);
}

/* THP written first is allocated whole: one 2 MiB zeroing, one read-write block. */
static void test_thp_write_first(void)
{
	static const char trace[] = HEADER(1, "backing=thp")
		"0 0 W 0x40000000\n"
		"0 0 R 0x40001000\n";
	struct run r;

	run_trace(&r, "handler", NULL, trace);
	g_assert_cmpuint(r.c->faults[S2_FAULT_TRANSLATION], ==, 1);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 1);
	g_assert_cmpuint(r.c->zero_bytes, ==, MB2);
	g_assert_cmpuint(r.c->notifier_unmaps[S2_UNMAP_COW], ==, 0);
	run_free(&r);
}

/*
 * A read that reaches the host while a first touch is still clearing its
 * page installs the zero page: the writer's set_pte_at()/set_pmd_at() then
 * finds the entry taken, frees its page and faults again in GUP - on the
 * zero page, so a copy-on-write (4 KiB) or a split and a copy (THP)
 * (mm/memory.c do_anonymous_page(), mm/huge_memory.c
 * __do_huge_pmd_anonymous_page() @ v6.1).  Both vCPUs spend the same time
 * before GUP, so the reader's delay is its lead on the writer's clear:
 * inside the clear (546 cycles for 4 KiB, ~280k for 2 MiB at 19.5 GB/s)
 * the reader wins; well after it, the writer's page is simply there.
 */
static void run_read_during_clear(struct run *r, const char *backing, uint64_t read_delay)
{
	char *trace = g_strdup_printf(HEADER(2, "backing=%s")
				      "0 0 W 0x40000000\n1 %" G_GUINT64_FORMAT " R 0x40000000\n",
				      backing, read_delay);

	run_trace(r, "handler", NULL, trace);
	g_free(trace);
}

static void test_read_during_clear_4k(void)
{
	struct run r;

	run_read_during_clear(&r, "4k", 100);
	g_assert_cmpuint(s2_profile_zero_cycles(r.prof, 4096), >, 100);
	g_assert_cmpuint(r.c->zero_duplicate, ==, 1);	/* the writer's first page, freed */
	g_assert_cmpuint(r.c->host_pages_zeroed, ==, 2);
	g_assert_cmpuint(r.c->zero_bytes, ==, 2 * 4096);
	g_assert_cmpuint(r.c->cow_breaks, ==, 1);
	g_assert_cmpuint(r.c->notifier_unmaps[S2_UNMAP_COW], ==, 1);
	run_free(&r);

	run_read_during_clear(&r, "4k", 100000);
	g_assert_cmpuint(r.c->zero_duplicate, ==, 0);
	g_assert_cmpuint(r.c->host_pages_zeroed, ==, 1);
	g_assert_cmpuint(r.c->cow_breaks, ==, 0);
	g_assert_cmpuint(r.c->faults[S2_FAULT_TRANSLATION], ==, 1);	/* the read found it mapped */
	run_free(&r);
}

static void test_read_during_clear_thp(void)
{
	struct run r;

	run_read_during_clear(&r, "thp", 10000);
	g_assert_cmpuint(s2_profile_zero_cycles(r.prof, MB2), >, 10000);
	g_assert_cmpuint(r.c->zero_duplicate, ==, 1);
	g_assert_cmpuint(r.c->zero_bytes, ==, MB2 + 4096);
	g_assert_cmpuint(r.c->cow_breaks, ==, 1);
	/* the huge zero PMD split (2 MiB) and the small page's copy (4 KiB) */
	g_assert_cmpuint(r.c->notifier_unmaps[S2_UNMAP_COW], ==, 2);
	/* the reader's read-only zero block, then the writer's 4 KiB page */
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 1);
	g_assert_cmpuint(r.c->maps_by_level[3], ==, 1);
	/*
	 * The writer retries: its own split moved the sequence.  So does the
	 * reader: its cold 2 MiB clean under the lock ends after the split's
	 * invalidation began, and the split unmaps the block before the read
	 * replays.
	 */
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_NOTIFIER], ==, 2);
	run_free(&r);

	run_read_during_clear(&r, "thp", 2000000);
	g_assert_cmpuint(r.c->zero_duplicate, ==, 0);
	g_assert_cmpuint(r.c->zero_bytes, ==, MB2);
	g_assert_cmpuint(r.c->cow_breaks, ==, 0);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 1);
	g_assert_cmpuint(r.c->faults[S2_FAULT_TRANSLATION], ==, 1);
	run_free(&r);
}

/* Write then execute of one page without DIC: one map, one relax, 4 KiB I-cache. */
static void test_exec_after_write(void)
{
	static const char trace[] = HEADER(1, "backing=4k populated=yes")
		"0 0 W 0x40000000\n0 0 X 0x40000000\n";
	struct run r;

	run_trace(&r, "handler", NULL, trace);
	g_assert_cmpuint(r.c->outcome[S2_OUT_MAPPED], ==, 1);
	g_assert_cmpuint(r.c->outcome[S2_OUT_RELAXED], ==, 1);
	g_assert_cmpuint(r.c->iinval_calls, ==, 1);
	g_assert_cmpuint(r.c->iinval_bytes, ==, 4096);
	run_free(&r);
}

/*
 * Both vCPUs sample mmu_notifier_seq right before GUP (after the memcache
 * top-up, as user_mem_abort() does) and then spend ~280k cycles zeroing a
 * fresh 2 MiB THP.  A host notifier unmap of an unrelated page runs at cycle
 * 10000, lock free, and ends: the sequence moves.  mmu_notifier_retry() is
 * VM-wide, so both handlers retry without a walk when they get the lock,
 * refault once, and map their (now resident) blocks.
 */
static void test_host_unmap_makes_fault_retry(void)
{
	static const char trace[] = HEADER(2, "backing=thp")
		"0 0 W 0x40000000\n"
		"1 1000 W 0x40200000\n"
		"host 10000 unmap 0x40400000 4K migration\n";
	struct run r;

	run_trace(&r, "handler", NULL, trace);
	g_assert_cmpuint(r.c->notifier_unmaps[S2_UNMAP_MIGRATION], ==, 1);
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_NOTIFIER], ==, 2);
	g_assert_cmpuint(r.c->refaults, ==, 2);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 2);
	/* the retries skipped their walks: two 2 MiB cleans in all */
	g_assert_cmpuint(r.c->dclean_calls, ==, 2);
	run_free(&r);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/boot/toggle/flushes-every-mapped-page-under-the-lock",
			test_cache_toggle_flushes_mapped_pages);
	g_test_add_func("/boot/fwb/no-trap-no-flush", test_fwb_no_trap_no_flush);
	g_test_add_func("/boot/setway/flushes-once-after-caches-on", test_setway_flushes_once);
	g_test_add_func("/boot/reset/rearms-tvm", test_reset_rearms_tvm);
	g_test_add_func("/boot/zero-page/read-then-write-cow", test_zero_page_cow);
	g_test_add_func("/boot/exec-after-write/relax-and-icache", test_exec_after_write);
	g_test_add_func("/boot/thp/read-first-maps-huge-zero-page-then-splits", test_thp_huge_zero_page);
	g_test_add_func("/boot/thp/write-first-allocates-the-huge-page", test_thp_write_first);
	g_test_add_func("/boot/notifier/host-unmap-makes-fault-retry", test_host_unmap_makes_fault_retry);
	g_test_add_func("/boot/zero-page/read-during-a-4k-clear-wins", test_read_during_clear_4k);
	g_test_add_func("/boot/thp/read-during-a-2m-clear-wins", test_read_during_clear_thp);
	return g_test_run();
}
