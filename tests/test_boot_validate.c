/*
 * tests/test_boot_validate.c - `bench/validate --boot` (issue 10.7) on the
 * shipped example, tests/data/import-ftrace-boot.txt: a short two-vCPU boot
 * recorded by ftrace with the function tracer filtered to the functions of
 * traces/import_calls.c (layout import-ftrace-boot-layout.txt), replayed
 * under handler with kunpeng920 (no FWB, no DIC), the host it stands for.
 *
 * Both sides are worked out by hand.  Recorded, by counting the excerpt's
 * lines: 5 kvm_pgtable_stage2_map <-kvm_handle_guest_abort, 1
 * kvm_pgtable_stage2_relax_perms, 16 clean_dcache_guest_page (5 from
 * stage2_map_walker, 3 + 4 + 3 from stage2_flush_walker, 1 from
 * stage2_unmap_walker), 1 invalidate_icache_guest_page, TLBIs 1 <-relax and
 * 1 <-stage2_unmap_walker; whole-VM flushes from the tracepoints: two
 * kvm_toggle_cache off -> on and one kvm_set_way_flush.  Modelled: the
 * derivation in tests/test_import.c (boot_counts): 5 maps, 1 relax, 5 + 10
 * + 1 cleans, 3 flushes, 1 I-cache invalidation, the same two TLBIs.
 * A copy with one map line fewer records 4 maps against 5 modelled, 25 %
 * off: validate fails on that count, and --report does not.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

static char *tmp_dir;

static char *data_path(const char *name)
{
	return g_build_filename(g_getenv("S2SIM_SOURCE_DIR"), "tests", "data", name, NULL);
}

/* bench/validate --boot RAW ...; its exit status, stdout in *out. */
static int validate(const char *raw, const char *csv, bool report, char **out)
{
	const char *python = g_getenv("S2SIM_PYTHON3");
	char *script = g_build_filename(g_getenv("S2SIM_SOURCE_DIR"), "bench", "validate", NULL);
	char *layout = data_path("import-ftrace-boot-layout.txt");
	const char *argv[] = { python && *python ? python : "python3", script,
			       "--build", g_getenv("S2SIM_BUILD_DIR"), "--boot", raw,
			       "--layout", layout, "--from", "ftrace", "--policy", "handler",
			       "--profile", "kunpeng920", "--boot-csv", csv,
			       report ? "--report" : NULL, NULL };
	char *err = NULL;
	GError *gerr = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
				   out, &err, &status, &gerr));
	g_assert_no_error(gerr);
	if (!WIFEXITED(status))
		g_error("bench/validate --boot died:\n%s\n%s", *out, err);
	g_free(err);
	g_free(script);
	g_free(layout);
	return WEXITSTATUS(status);
}

/* "modelled,recorded" of the CSV row whose first column is @count. */
static char *row(const char *csv, const char *count)
{
	char *text = NULL, **lines, *found = NULL;

	g_assert_true(g_file_get_contents(csv, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	g_assert_true(g_str_has_prefix(lines[0], "count,modelled,recorded,rel_diff,"));
	for (char **l = lines; *l && !found; l++) {
		char **cols = g_strsplit(*l, ",", 4);

		if (g_strv_length(cols) >= 3 && !strcmp(cols[0], count))
			found = g_strdup_printf("%s,%s", cols[1], cols[2]);
		g_strfreev(cols);
	}
	g_strfreev(lines);
	g_free(text);
	if (!found)
		g_error("no row '%s' in %s", count, csv);
	return found;
}

static void check_row(const char *csv, const char *count, const char *want)
{
	char *got = row(csv, count);

	if (strcmp(got, want))
		g_error("%s: modelled,recorded %s, expected %s", count, got, want);
	g_free(got);
}

static void test_boot_excerpt_side_by_side(void)
{
	char *raw = data_path("import-ftrace-boot.txt");
	char *csv = g_build_filename(tmp_dir, "boot.csv", NULL);
	char *out = NULL;

	if (validate(raw, csv, false, &out) != 0)
		g_error("bench/validate --boot failed on the example:\n%s", out);
	check_row(csv, "maps (fault path)", "5,5");
	check_row(csv, "maps (change_pte)", "0,0");
	check_row(csv, "relax_perms", "1,1");
	check_row(csv, "D-cache clean calls (map walker)", "5,5");
	check_row(csv, "D-cache clean calls (whole-VM flush)", "10,10");
	check_row(csv, "D-cache clean calls (unmap)", "1,1");
	check_row(csv, "D-cache clean calls (all)", "16,16");
	/* bytes: modelled only (no kprobe in the example), 16 leaves of 4 KiB */
	check_row(csv, "D-cache clean bytes (all)", "65536,");
	check_row(csv, "I-cache invalidations", "1,1");
	check_row(csv, "whole-VM flushes", "3,3");
	check_row(csv, "whole-VM flushes (cache toggle)", "2,2");
	check_row(csv, "whole-VM flushes (set/way)", "1,1");
	check_row(csv, "trapped VM-register writes", "4,4");
	check_row(csv, "notifier unmaps", "1,1");
	check_row(csv, "TLBI: relax_perms", "1,1");
	check_row(csv, "TLBI: unmap", "1,1");
	check_row(csv, "TLBI: bbm_leaf", "0,0");
	check_row(csv, "faults: translation", "5,5");
	check_row(csv, "faults: permission", "1,1");
	/* the printed table says the same */
	g_assert_nonnull(strstr(out, "policy handler, profile kunpeng920 (FWB no, DIC no)"));
	g_assert_true(g_regex_match_simple("\nmaps \\(fault path\\) +5 +5 +\\+0\\.0% +yes ", out, 0, 0));
	g_assert_true(g_regex_match_simple("\nwhole-VM flushes +3 +3 +\\+0\\.0% +yes ", out, 0, 0));
	g_assert_nonnull(strstr(out, "19 of 19 compared counts within 10 %"));
	g_free(out);
	g_unlink(csv);
	g_free(csv);
	g_free(raw);
}

static void test_recorded_count_off_fails_unless_report(void)
{
	char *orig = data_path("import-ftrace-boot.txt"), *text = NULL;
	char *raw = g_build_filename(tmp_dir, "boot-one-map-fewer.txt", NULL);
	char *csv = g_build_filename(tmp_dir, "off.csv", NULL);
	char *out = NULL, *cut;

	g_assert_true(g_file_get_contents(orig, &text, NULL, NULL));
	/* drop the last map line: 4 recorded against 5 modelled */
	cut = g_strrstr(text, "kvm_pgtable_stage2_map <-");
	g_assert_nonnull(cut);
	while (cut > text && cut[-1] != '\n')
		cut--;
	memmove(cut, strchr(cut, '\n') + 1, strlen(strchr(cut, '\n') + 1) + 1);
	g_assert_true(g_file_set_contents(raw, text, -1, NULL));

	g_assert_cmpint(validate(raw, csv, false, &out), ==, 1);
	check_row(csv, "maps (fault path)", "5,4");
	g_assert_true(g_regex_match_simple("\nmaps \\(fault path\\) +5 +4 +\\+25\\.0% +NO ", out, 0, 0));
	g_assert_nonnull(strstr(out, "FAILED: maps (fault path)\n"));
	g_free(out);
	g_assert_cmpint(validate(raw, csv, true, &out), ==, 0);
	g_assert_nonnull(strstr(out, "18 of 19 compared counts within 10 % (--report: not failing)"));
	g_free(out);
	g_unlink(csv);
	g_unlink(raw);
	g_free(csv);
	g_free(raw);
	g_free(text);
	g_free(orig);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("s2bootval-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	g_test_add_func("/bench/validate/boot-excerpt-modelled-beside-recorded",
			test_boot_excerpt_side_by_side);
	g_test_add_func("/bench/validate/boot-recorded-count-off-fails-unless-report",
			test_recorded_count_off_fails_unless_report);
	ret = g_test_run();
	g_rmdir(tmp_dir);
	g_free(tmp_dir);
	return ret;
}
