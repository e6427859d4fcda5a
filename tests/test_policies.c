/*
 * tests/test_policies.c - each policy's distinctive rule (model/policies.ini),
 * with counts and cycles worked out by hand from the kernel's rules and the
 * kunpeng920 profile.
 */
#include <string.h>

#include "harness.h"
#include "s2pt.h"

/* exit half + fault_prepare + a two-page memcache top-up: the path to the lock */
static uint64_t prelock_path(const struct s2_profile *p)
{
	return p->exit_entry / 2 + p->fault_prepare + 2 * p->pt_page_alloc;
}

static uint64_t entry_half(const struct s2_profile *p)
{
	return p->exit_entry - p->exit_entry / 2;
}

/*
 * parallel (v6.2): two vCPUs fault on different 2 MiB blocks at cycle 0.
 * Both take the read lock - the second one lock-word transfer later - and
 * clean at the same time: the makespan is one fault plus one transfer.
 */
static void test_parallel_different_blocks_overlap(void)
{
	static const char trace[] = HEADER(2, "backing=thp populated=yes")
		"0 0 R 0x40000000\n1 0 R 0x40200000\n";
	struct run r;
	const struct s2_profile *p;
	uint64_t crit;

	run_trace(&r, "parallel", NULL, trace);
	p = r.prof;
	crit = 2 * p->walk_level + s2_profile_dclean_cycles(p, MB2, 0);
	g_assert_cmpuint(r.sim->makespan, ==,
			 prelock_path(p) + 2 * p->lock_acquire + crit + entry_half(p));
	g_assert_cmpuint(r.c->dclean_calls, ==, 2);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 2);
	g_assert_cmpuint(r.c->outcome[S2_OUT_EAGAIN], ==, 0);
	run_free(&r);
}

/*
 * parallel: twelve vCPUs split twelve blocks at once under dirty logging,
 * each one breaking its own entry while the others break theirs: more
 * break-before-make windows open together than the eight the write-locked
 * policies' window list holds (S2_MAX_BREAKS), so a locked entry must live
 * in the table, as KVM_INVALID_PTE_LOCKED does in the kernel.
 */
static void test_parallel_more_splits_than_break_slots(void)
{
	GString *trace = g_string_new(HEADER(12, "backing=thp populated=yes"));
	struct run r;

	for (int v = 0; v < 12; v++)
		g_string_append_printf(trace, "%d 0 W 0x%x\n", v, 0x40000000 + v * 0x200000);
	g_string_append(trace, "vmm 0 dirty-log on 0\n");
	for (int v = 0; v < 12; v++)
		g_string_append_printf(trace, "%d 0 W 0x%x\n", v, 0x40001000 + v * 0x200000);
	run_trace(&r, "parallel", NULL, trace->str);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 12);
	g_assert_cmpuint(r.c->block_splits, ==, 12);
	g_assert_cmpuint(r.c->maps_by_level[3], ==, 12);
	run_free(&r);
	g_string_free(trace, TRUE);
}

/*
 * parallel: three vCPUs fault on one unmapped 2 MiB block.  The first
 * breaks the entry to KVM_INVALID_PTE_LOCKED and cleans 2 MiB while it is
 * locked; the others find it LOCKED, return -EAGAIN, re-enter and fault
 * again until the make.  One CMO; every refault is a locked-PTE -EAGAIN,
 * at most one per fault round trip of the window.
 */
static void test_parallel_locked_pte_refaults(void)
{
	static const char trace[] = HEADER(3, "backing=thp populated=yes")
		"0 0 R 0x40000000\n1 0 R 0x40001000\n2 0 R 0x40002000\n";
	struct run r;
	const struct s2_profile *p;
	uint64_t window, round_trip, bound;

	run_trace(&r, "parallel", NULL, trace);
	p = r.prof;
	g_assert_cmpuint(r.c->dclean_calls, ==, 1);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 1);
	g_assert_cmpuint(r.c->outcome[S2_OUT_MAPPED], ==, 1);
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_IDENTICAL], ==, 0);
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_LOCKED], >=, 2);
	window = s2_profile_dclean_cycles(p, MB2, 0);
	round_trip = p->exit_entry + p->fault_prepare + 2 * p->walk_level;
	bound = 2 * (window / round_trip + 2);
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_LOCKED], <=, bound);
	/*
	 * every -EAGAIN sent a vCPU back to fault again, but for the last one
	 * of each waiter: by then the block was made and the access went through
	 */
	g_assert_cmpuint(r.c->refaults, ==, r.c->eagain[S2_EAGAIN_LOCKED] - 2);
	/* and nobody waited on the lock for longer than the transfers */
	g_assert_cmpuint(r.c->lock_wait.max, <, 10 * p->lock_acquire);
	run_free(&r);
}

/*
 * parallel: two vCPUs take exec permission faults on one 2 MiB block mapped
 * read-write.  Both relax walks read the same PTE, both invalidate the
 * I-cache before their cmpxchg; the second cmpxchg loses: -EAGAIN, its
 * I-cache work wasted, and (v6.2, broadcast relax TLBI) no TLBI for it.
 */
static void test_parallel_relax_lost_cmpxchg(void)
{
	static const char trace[] = HEADER(2, "backing=thp populated=yes")
		"0 0 W 0x40000000\n"
		"vmm 0 phase exec\n"
		"0 0 X 0x40000000\n1 0 X 0x40001000\n";
	struct run r;

	run_trace(&r, "parallel", NULL, trace);
	g_assert_cmpuint(r.c->faults[S2_FAULT_PERMISSION], ==, 2);
	g_assert_cmpuint(r.c->outcome[S2_OUT_RELAXED], ==, 1);
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_LOST_RACE], ==, 1);
	g_assert_cmpuint(r.c->iinval_calls, ==, 2);
	g_assert_cmpuint(r.c->iinval_bytes, ==, 2 * MB2);
	g_assert_cmpuint(r.c->tlbi[S2_TLBI_RELAX], ==, 1);
	/* the loser re-enters and its fetch now succeeds: no third fault */
	g_assert_cmpuint(r.c->refaults, ==, 0);
	run_free(&r);
}

/*
 * handler-rw (v5.18): dirty-logging write faults on 4 KiB leaves relax under
 * the read lock, so two of them overlap; only their broadcast TLBIs meet,
 * on the DVM path.  Under handler the second waits for the first's walk and
 * TLBI plus a hand-off.  By hand, from the second vCPU's lock request:
 *   handler:    la + (walk + 2 tlbi) + handoff + (walk + 2 tlbi)
 *   handler-rw: la + walk + 2 dvm_sync + 2 dvm_sync   (DVM-bound)
 */
static void test_handler_rw_fastpath(void)
{
	static const char trace[] = HEADER(2, "backing=4k populated=yes")
		"0 0 W 0x40000000\n1 0 W 0x40001000\n"
		"vmm 0 dirty-log on 0\n"
		"0 0 W 0x40000000\n1 0 W 0x40001000\n";
	struct run h, rw;
	const struct s2_profile *p;
	uint64_t walk, tlbi, want_h, want_rw;

	run_trace(&h, "handler", NULL, trace);
	run_trace(&rw, "handler-rw", NULL, trace);
	p = h.prof;
	g_assert_cmpuint(rw.c->outcome[S2_OUT_RELAXED], ==, 2);
	g_assert_cmpuint(rw.c->tlbi[S2_TLBI_RELAX], ==, 2);
	walk = 3 * p->walk_level;
	tlbi = 2 * p->tlbi_bcast_sync;
	want_h = p->lock_acquire + walk + tlbi + p->spin_handoff + walk + tlbi;
	want_rw = p->lock_acquire + walk + 4 * p->dvm_sync_service;
	g_assert_cmpuint(want_rw, >, p->lock_acquire + walk + tlbi);	/* DVM-bound indeed */
	g_assert_cmpuint(h.sim->makespan - rw.sim->makespan, ==, want_h - want_rw);
	run_free(&h);
	run_free(&rw);
}

/*
 * parallel-eager-split (v6.5+): enabling dirty logging splits the block at
 * once (no fault-time split), and the write that follows relaxes a 4 KiB
 * leaf with a local TLBI.
 */
static void test_eager_split_and_local_tlbi(void)
{
	static const char trace[] = HEADER(1, "backing=thp populated=yes")
		"0 0 W 0x40000000\n"
		"vmm 0 dirty-log on 0\n"
		"0 0 W 0x40003000\n";
	struct run r;

	run_trace(&r, "parallel-eager-split", NULL, trace);
	g_assert_cmpuint(r.c->eager_splits, ==, 1);
	g_assert_cmpuint(r.c->tlbi[S2_TLBI_SPLIT], ==, 1);
	g_assert_cmpuint(r.c->block_splits, ==, 0);
	g_assert_cmpuint(r.c->faults[S2_FAULT_PERMISSION], ==, 1);
	g_assert_cmpuint(r.c->outcome[S2_OUT_RELAXED], ==, 1);
	g_assert_cmpuint(r.c->tlbi_local, ==, 1);
	g_assert_cmpuint(s2_vm_pgt(r.sim->vm)->nr_leaves[3], ==, 512);
	g_assert_cmpuint(s2_vm_pgt(r.sim->vm)->nr_leaves[2], ==, 0);
	run_free(&r);
}

/*
 * v6.7 I-cache rule: above MAX_DVM_OPS (512) lines the whole I-cache is
 * invalidated: a 2 MiB exec map is one IC IALLUIS, a 4 KiB one goes by VA.
 */
static void test_icache_threshold(void)
{
	static const char trace[] =
		"s2sim-trace 1\nvcpus 1\n"
		"memslot 0 gpa=0x40000000 size=1G backing=thp populated=yes\n"
		"memslot 1 gpa=0x80000000 size=1G backing=4k populated=yes\n"
		"end-header\n0 0 X 0x40000000\n0 0 X 0x80000000\n";
	struct run r;

	run_trace(&r, "parallel-eager-split", NULL, trace);
	g_assert_cmpuint(r.c->iinval_calls, ==, 2);
	g_assert_cmpuint(r.c->iinval_all, ==, 1);
	g_assert_cmpuint(r.c->iinval_bytes, ==, 4096);
	run_free(&r);
}

/*
 * The prelock what-if: two vCPUs on one 2 MiB block both clean (like abort)
 * but outside the lock, at the same time; the second's clean is wasted on
 * -EAGAIN.  By hand: path + clean + la + walk + handoff + walk + entry.
 */
static void test_prelock_whatif(void)
{
	static const char trace[] = HEADER(2, "backing=thp populated=yes")
		"0 0 R 0x40000000\n1 0 R 0x40001000\n";
	struct run r;
	const struct s2_profile *p;
	uint64_t walk;

	run_trace(&r, "prelock-cmo", NULL, trace);
	p = r.prof;
	walk = 2 * p->walk_level;
	g_assert_cmpuint(r.c->dclean_calls, ==, 2);
	g_assert_cmpuint(r.c->eagain[S2_EAGAIN_IDENTICAL], ==, 1);
	g_assert_cmpuint(r.sim->makespan, ==,
			 prelock_path(p) + s2_profile_dclean_cycles(p, MB2, 0) + p->lock_acquire +
			 walk + p->spin_handoff + walk + entry_half(p));
	run_free(&r);
}

/* A policy file's bad value names the file, section and key. */
static void test_bad_policy(void)
{
	char *path = write_tmp("[mine]\ncmo_site = walker\nlock = spin\nbreak = cmpxchg\n"
			       "relax_tlbi = local\nicache = by-va\nrange_tlbi = false\n"
			       "eager_split = false\n");
	GError *err = NULL;

	g_assert_null(s2_policy_load("mine", path, &err));
	g_assert_nonnull(strstr(err->message, "[mine] break = cmpxchg needs lock = rw-read"));
	g_clear_error(&err);
	g_assert_true(g_file_set_contents(path, "[mine]\ncmo_site = elsewhere\n", -1, NULL));
	g_assert_null(s2_policy_load("mine", path, &err));
	g_assert_nonnull(strstr(err->message, "[mine] cmo_site = elsewhere is not modelled"));
	g_clear_error(&err);
	g_free(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/policies/parallel/different-blocks-overlap", test_parallel_different_blocks_overlap);
	g_test_add_func("/policies/parallel/locked-pte-refaults", test_parallel_locked_pte_refaults);
	g_test_add_func("/policies/parallel/more-splits-than-break-slots",
			test_parallel_more_splits_than_break_slots);
	g_test_add_func("/policies/parallel/relax-lost-cmpxchg-wastes-icache", test_parallel_relax_lost_cmpxchg);
	g_test_add_func("/policies/handler-rw/dirty-log-relax-under-read-lock", test_handler_rw_fastpath);
	g_test_add_func("/policies/parallel-eager-split/split-at-enable-local-tlbi", test_eager_split_and_local_tlbi);
	g_test_add_func("/policies/parallel-eager-split/icache-iallu-above-max", test_icache_threshold);
	g_test_add_func("/policies/prelock-cmo/cleans-outside-the-lock", test_prelock_whatif);
	g_test_add_func("/policies/file/bad-value-names-section-and-key", test_bad_policy);
	return g_test_run();
}
