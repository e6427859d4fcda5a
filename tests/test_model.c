/*
 * tests/test_model.c - the kernel rules of the fault pipeline, each pinned by
 * a tiny trace whose counts and cycles are worked out by hand from the rules
 * in ../shared/design/kernel-fault-path.md and the profile's values.
 */
#include <glib/gstdio.h>
#include <string.h>

#include "harness.h"

/*
 * Two vCPUs touch one unmapped, resident 2 MiB THP block at cycle 0.
 * abort: both clean 2 MiB in user_mem_abort (the second before its walk
 * returns -EAGAIN); handler: only the walker that installs the block cleans.
 */
static void test_same_block_two_vcpus(void)
{
	static const char trace[] = HEADER(2, "backing=thp populated=yes")
		"0 0 R 0x40000000\n1 0 R 0x40001000\n";
	struct run a, h;

	run_trace(&a, "abort", NULL, trace);
	run_trace(&h, "handler", NULL, trace);
	g_assert_cmpuint(a.c->faults[S2_FAULT_TRANSLATION], ==, 2);
	g_assert_cmpuint(a.c->outcome[S2_OUT_MAPPED], ==, 1);
	g_assert_cmpuint(a.c->outcome[S2_OUT_EAGAIN], ==, 1);
	g_assert_cmpuint(a.c->dclean_calls, ==, 2);
	g_assert_cmpuint(a.c->dclean_bytes, ==, 2 * MB2);
	g_assert_cmpuint(h.c->outcome[S2_OUT_EAGAIN], ==, 1);
	g_assert_cmpuint(h.c->dclean_calls, ==, 1);
	g_assert_cmpuint(h.c->dclean_bytes, ==, MB2);
	g_assert_cmpuint(h.c->maps_by_level[2], ==, 1);
	/* the abort run is longer by exactly one cold 2 MiB clean */
	g_assert_cmpuint(a.sim->makespan - h.sim->makespan, ==,
			 s2_profile_dclean_cycles(a.prof, MB2, 0));
	run_free(&a);
	run_free(&h);
}

/*
 * A read maps the 4 KiB page non-executable (no DIC); the fetch that follows
 * takes a permission fault at level 3, vma_pagesize == fault_granule, so
 * relax_perms grants X: one I-cache invalidation of 4 KiB (walker under
 * handler, user_mem_abort under abort) and one broadcast TLBI by IPA.
 */
static void test_exec_after_read_relaxes(void)
{
	static const char trace[] = HEADER(1, "backing=4k populated=yes")
		"0 0 R 0x40000000\n0 10 X 0x40000000\n";
	const char *policies[] = { "abort", "handler" };

	for (int i = 0; i < 2; i++) {
		struct run r;

		run_trace(&r, policies[i], NULL, trace);
		g_assert_cmpuint(r.c->faults[S2_FAULT_TRANSLATION], ==, 1);
		g_assert_cmpuint(r.c->faults[S2_FAULT_PERMISSION], ==, 1);
		g_assert_cmpuint(r.c->outcome[S2_OUT_RELAXED], ==, 1);
		g_assert_cmpuint(r.c->iinval_calls, ==, 1);
		g_assert_cmpuint(r.c->iinval_bytes, ==, 4096);
		g_assert_cmpuint(r.c->tlbi[S2_TLBI_RELAX], ==, 1);
		/* the D-cache is cleaned once, for the read's translation fault */
		g_assert_cmpuint(r.c->dclean_calls, ==, 1);
		g_assert_cmpuint(r.c->dclean_bytes, ==, 4096);
		run_free(&r);
	}
}

/* With DIC every normal mapping is executable up front: no permission fault. */
static void test_dic_maps_executable(void)
{
	static const char trace[] = HEADER(1, "backing=4k populated=yes")
		"0 0 R 0x40000000\n0 10 X 0x40000000\n";
	const char *dic[] = { "dic = true", NULL };
	struct run r;

	run_trace(&r, "handler", dic, trace);
	g_assert_cmpuint(r.c->faults[S2_FAULT_PERMISSION], ==, 0);
	/* v5.14 still calls the I-cache callback for the new executable leaf */
	g_assert_cmpuint(r.c->iinval_calls, ==, 1);
	g_assert_cmpuint(r.c->iinval_elided_dic, ==, 1);
	g_assert_cmpuint(r.c->iinval_bytes, ==, 0);
	run_free(&r);
}

/* FWB: __clean_dcache_guest_page returns at once; no bytes, no cycles. */
static void test_fwb_removes_dcache_cleans(void)
{
	static const char trace[] = HEADER(2, "backing=thp populated=yes")
		"0 0 R 0x40000000\n1 0 R 0x40001000\n";
	const char *fwb[] = { "fwb = true", NULL };
	struct run a;

	run_trace(&a, "abort", fwb, trace);
	g_assert_cmpuint(a.c->dclean_calls, ==, 2);
	g_assert_cmpuint(a.c->dclean_elided_fwb, ==, 2);
	g_assert_cmpuint(a.c->dclean_bytes, ==, 0);
	g_assert_cmpuint(a.c->cost[S2_COST_DCACHE], ==, 0);
	run_free(&a);
}

/*
 * Dirty logging: a write to a write-protected 2 MiB block maps 4 KiB
 * (force_pte) through the map path, so the block is split (clear + TLBI by
 * IPA, new table) and only the faulting page is mapped; a read elsewhere
 * in the block later maps 4 KiB read-only.
 */
static void test_dirty_log_forces_4k(void)
{
	static const char trace[] = HEADER(1, "backing=thp populated=yes")
		"0 0 W 0x40000000\n"
		"vmm 0 dirty-log on 0\n"
		"0 0 W 0x40003000\n"
		"0 0 R 0x40005000\n"
		"0 0 W 0x40005000\n";
	struct run h, a;

	run_trace(&h, "handler", NULL, trace);
	g_assert_cmpuint(h.c->maps_by_level[2], ==, 1);
	g_assert_cmpuint(h.c->maps_by_level[3], ==, 2);
	g_assert_cmpuint(h.c->block_splits, ==, 1);
	g_assert_cmpuint(h.c->wp_leaves, ==, 1);
	g_assert_cmpuint(h.c->tlbi[S2_TLBI_WP], ==, 1);
	/* split + the 4K write relaxing W after the read-only map */
	g_assert_cmpuint(h.c->tlbi[S2_TLBI_BBM_LEAF], ==, 1);
	g_assert_cmpuint(h.c->tlbi[S2_TLBI_RELAX], ==, 1);
	g_assert_cmpuint(h.c->faults[S2_FAULT_PERMISSION], ==, 2);
	/* handler cleans each new leaf: the block, and both 4K pages */
	g_assert_cmpuint(h.c->dclean_bytes, ==, MB2 + 2 * 4096);
	run_trace(&a, "abort", NULL, trace);
	/* abort cleans only on translation faults: the block and the read */
	g_assert_cmpuint(a.c->dclean_bytes, ==, MB2 + 4096);
	g_assert_cmpuint(a.c->maps_by_level[3], ==, 2);
	run_free(&h);
	run_free(&a);
}

/*
 * Two vCPUs fault on different resident 2 MiB blocks at cycle 0: the second
 * handler waits for mmu_lock.  By hand, per fault: exit half, prepare plus
 * a two-page memcache top-up, lock, a cold 2 MiB clean and a 2-level walk
 * (either order: the clean moves, not its length), unlock, entry half.
 */
static void test_lock_serialises_handlers(void)
{
	static const char trace[] = HEADER(2, "backing=thp populated=yes")
		"0 0 R 0x40000000\n1 0 R 0x40200000\n";
	const char *policies[] = { "abort", "handler" };

	for (int i = 0; i < 2; i++) {
		struct run r;
		const struct s2_profile *p;
		uint64_t exit_half, pre, crit, want;

		run_trace(&r, policies[i], NULL, trace);
		p = r.prof;
		exit_half = p->exit_entry / 2;
		pre = exit_half + p->fault_prepare + 2 * p->pt_page_alloc;
		crit = s2_profile_dclean_cycles(p, MB2, 0) + 2 * p->walk_level;
		want = pre + p->lock_acquire + crit + p->spin_handoff + crit +
		       (p->exit_entry - exit_half);
		g_assert_cmpuint(r.sim->makespan, ==, want);
		g_assert_cmpuint(r.sim->vcpus[0].finished, ==,
				 pre + p->lock_acquire + crit + (p->exit_entry - exit_half));
		g_assert_cmpuint(r.c->lock_wait.count, ==, 2);
		g_assert_cmpuint(r.c->lock_wait.max, ==,
				 p->lock_acquire + crit + p->spin_handoff);
		run_free(&r);
	}
}

/*
 * Dirty logging off, then a read in a block whose first page was mapped
 * 4 KiB: the fault maps 2 MiB over the table (clear + whole-VMID TLBI, old
 * table freed, block installed).  vCPU 1 touches the mapped page inside
 * that window, faults, waits for the lock and finds the block: -EAGAIN.
 */
static void test_table_to_block_window(void)
{
	static const char trace[] = HEADER(2, "backing=thp populated=yes")
		"vmm 0 dirty-log on 0\n"
		"0 0 W 0x40000000\n"
		"vmm 0 dirty-log off 0\n"
		"0 0 R 0x40100000\n"
		"1 10000 R 0x40000000\n";
	struct run r;

	run_trace(&r, "handler", NULL, trace);
	g_assert_cmpuint(r.c->table_collapses, ==, 1);
	g_assert_cmpuint(r.c->tlbi[S2_TLBI_BBM_TABLE], ==, 1);
	g_assert_cmpuint(r.c->pt_entries_freed, ==, 1);
	g_assert_cmpuint(r.c->bbm_window_faults, ==, 1);
	g_assert_cmpuint(r.c->outcome[S2_OUT_EAGAIN], ==, 1);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 1);
	g_assert_cmpuint(r.c->maps_by_level[3], ==, 1);
	run_free(&r);
}

/*
 * First touch of a host page that is not resident: anonymous memory lets
 * racing first touches each zero a page (mm/memory.c do_anonymous_page);
 * hugetlbfs makes the second wait for the first (hugetlb_fault_mutex).
 */
static void test_first_touch_zeroing(void)
{
	static const char anon[] = HEADER(2, "backing=4k")
		"0 0 W 0x40000000\n1 0 W 0x40000000\n";
	static const char huge[] = HEADER(2, "backing=hugetlb-2m")
		"0 0 W 0x40000000\n1 0 W 0x40001000\n";
	struct run r;

	run_trace(&r, "handler", NULL, anon);
	g_assert_cmpuint(r.c->host_pages_zeroed, ==, 2);
	g_assert_cmpuint(r.c->zero_duplicate, ==, 1);
	g_assert_cmpuint(r.c->zero_bytes, ==, 2 * 4096);
	run_free(&r);
	run_trace(&r, "handler", NULL, huge);
	g_assert_cmpuint(r.c->host_pages_zeroed, ==, 1);
	g_assert_cmpuint(r.c->zero_bytes, ==, MB2);
	g_assert_cmpuint(r.c->maps_by_level[2], ==, 1);
	/* both vCPUs spent the zeroing time: one zeroed, one waited */
	g_assert_cmpuint(r.c->cost[S2_COST_ZERO], ==, 2 * s2_profile_zero_cycles(r.prof, MB2));
	run_free(&r);
}

/* 1 GiB hugetlb: the abort policy cleans 1 GiB per vCPU, the walker once. */
static void test_hugetlb_1g_cleans(void)
{
	static const char trace[] = HEADER(3, "backing=hugetlb-1g populated=yes")
		"0 0 W 0x40000000\n1 0 W 0x40000000\n2 0 W 0x40000000\n";
	struct run a, h;

	run_trace(&a, "abort", NULL, trace);
	run_trace(&h, "handler", NULL, trace);
	g_assert_cmpuint(a.c->maps_by_level[1], ==, 1);
	g_assert_cmpuint(a.c->dclean_bytes, ==, 3ULL << 30);
	g_assert_cmpuint(h.c->dclean_bytes, ==, 1ULL << 30);
	g_assert_cmpuint(h.c->outcome[S2_OUT_EAGAIN], ==, 2);
	/* serialised under the lock: the abort run is two 1 GiB cleans longer */
	g_assert_cmpuint(a.sim->makespan - h.sim->makespan, ==,
			 2 * s2_profile_dclean_cycles(a.prof, 1ULL << 30, 0));
	run_free(&a);
	run_free(&h);
}

/* No memslot: MMIO exit every time, nothing mapped, no lock. */
static void test_mmio_never_mapped(void)
{
	static const char trace[] = HEADER(1, "backing=4k populated=yes")
		"0 0 R 0x9000000\n0 0 R 0x9000000\n";
	struct run r;

	run_trace(&r, "abort", NULL, trace);
	g_assert_cmpuint(r.c->faults[S2_FAULT_MMIO], ==, 2);
	g_assert_cmpuint(r.c->lock_wait.count, ==, 0);
	g_assert_cmpuint(r.sim->makespan, ==, 2 * r.prof->exit_to_user);
	run_free(&r);
}

/* A broken profile names the file, the line and the key. */
static void test_broken_profile(void)
{
	char *path = write_tmp("[machine]\nfreq_mhz = -5\n");
	GError *err = NULL;
	char *want = g_strdup_printf("%s:2: [machine] freq_mhz:", path);

	g_assert_null(s2_profile_load(path, &err));
	g_assert_nonnull(err);
	g_assert_true(g_str_has_prefix(err->message, want));
	g_clear_error(&err);
	g_unlink(path);
	g_free(path);
	g_free(want);
}

/*
 * Issue 4, point 1: every value of a shipped profile names its source.  The
 * comment above a key starts with its tag - M measured, D derived, A
 * assumed (calibration.md §0), or "kernel" for a value the kernel's code
 * fixes; a key without a comment of its own shares the one above it.
 */
static gboolean has_source_tag(const char *comment)
{
	static const char *const tags[] = { "M", "D", "A", "kernel" };
	const char *c = comment + strspn(comment, "# \t\n");
	size_t len = strcspn(c, " :,\t\n");

	for (size_t i = 0; i < G_N_ELEMENTS(tags); i++)
		if (len == strlen(tags[i]) && !strncmp(c, tags[i], len))
			return TRUE;
	return FALSE;
}

static void check_profile_tags(const char *path)
{
	GKeyFile *kf = g_key_file_new();
	char **groups;

	g_assert_true(g_key_file_load_from_file(kf, path, G_KEY_FILE_KEEP_COMMENTS, NULL));
	groups = g_key_file_get_groups(kf, NULL);
	for (char **g = groups; *g; g++) {
		char **keys = g_key_file_get_keys(kf, *g, NULL, NULL);
		gboolean tagged = FALSE;

		for (char **k = keys; *k; k++) {
			char *comment = g_key_file_get_comment(kf, *g, *k, NULL);

			if (comment && *comment)
				tagged = has_source_tag(comment);
			if (!tagged)
				g_test_message("%s: [%s] %s has no M/D/A/kernel tag", path, *g, *k);
			g_assert_true(tagged);
			g_free(comment);
		}
		g_strfreev(keys);
	}
	g_strfreev(groups);
	g_key_file_free(kf);
}

static void test_shipped_profiles_name_sources(void)
{
	char *dir = s2_data_path("model/profiles");
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;
	guint n = 0;

	g_assert_nonnull(d);
	while ((name = g_dir_read_name(d))) {
		char *path;

		if (!g_str_has_suffix(name, ".ini"))
			continue;
		path = g_build_filename(dir, name, NULL);
		check_profile_tags(path);
		g_free(path);
		n++;
	}
	g_assert_cmpuint(n, >=, 3);	/* kunpeng920, neoverse-n1, graviton3 */
	g_assert_false(has_source_tag("# assumed, no tag"));
	g_dir_close(d);
	g_free(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/model/abort-vs-handler/same-2m-block-two-vcpus", test_same_block_two_vcpus);
	g_test_add_func("/model/relax/exec-after-read-invalidates-icache-once", test_exec_after_read_relaxes);
	g_test_add_func("/model/dic/maps-executable-up-front", test_dic_maps_executable);
	g_test_add_func("/model/fwb/removes-dcache-cleans", test_fwb_removes_dcache_cleans);
	g_test_add_func("/model/dirty-log/forces-4k-and-splits-blocks", test_dirty_log_forces_4k);
	g_test_add_func("/model/lock/serialises-handlers", test_lock_serialises_handlers);
	g_test_add_func("/model/bbm/table-to-block-window-refault", test_table_to_block_window);
	g_test_add_func("/model/host/first-touch-zeroing", test_first_touch_zeroing);
	g_test_add_func("/model/abort-vs-handler/hugetlb-1g", test_hugetlb_1g_cleans);
	g_test_add_func("/model/mmio/never-mapped", test_mmio_never_mapped);
	g_test_add_func("/model/profile/broken-value-names-file-line-key", test_broken_profile);
	g_test_add_func("/model/profile/shipped-values-name-their-source", test_shipped_profiles_name_sources);
	return g_test_run();
}
