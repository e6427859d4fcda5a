/*
 * tests/test_import.c - the perf-script and trace-cmd importers and the
 * trace-conv program.  The excerpts in tests/data/ are hand-written in the
 * tools' exact layouts; the expected records are worked out by hand from
 * their timestamps and ESR values (see the comments below).
 */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

struct want {
	uint32_t vcpu;
	uint16_t kind;
	uint64_t ipa;
	uint64_t delta;		/* ns */
};

/*
 * Run-time deltas (kvm_entry to kvm_exit of the same thread):
 * - CPU 0/KVM: entry 0 us, exit 100 -> W (hsr 0x93c08047: DABT, WnR) 100 us;
 *   entry 140, exit 300 -> W (0x92000087: S1PTW, WnR clear) 160 us;
 *   entry 330, exit 500 -> MMIO at 0x9000000 (no memslot, kvm_mmio), kept
 *   apart, its 170 us carried; entry 520, exit 700 -> R (0x92000007)
 *   180 + 170 = 350 us, written at the end of the file.
 * - CPU 1/KVM: entry 10, exit 150 -> X (0x82000006: IABT) 140 us;
 *   entry 190, exit 400 -> R access flag (0x9200000b, then
 *   kvm_access_fault) 210 us.
 * - qemu-system-aar (no "CPU n/KVM" name: vCPU 2, after the named ones):
 *   in the guest from the trace's start, exit 600 -> W permission
 *   (0x9200004f) 600 us.
 * Records come out when the thread's fault is over: at its next entry.
 */
static const struct want full[] = {
	{ 0, S2_REC_WRITE, 0x40a3c000, 100000 },
	{ 1, S2_REC_EXEC, 0x40200000, 140000 },
	{ 0, S2_REC_WRITE, 0x40a3d000, 160000 },
	{ 1, S2_REC_READ, 0x40200000, 210000 },
	{ 2, S2_REC_WRITE, 0x40400000, 600000 },
	{ 0, S2_REC_READ, 0x40a3e000, 350000 },
};

/*
 * Only kvm_guest_fault recorded: deltas are the gaps between a thread's
 * faults, the first from the trace's start (102 us).  The MMIO fault at
 * 501 us is found by the layout alone; its 200 us gap goes to the next.
 * Faults still pending at the end come out in order of first appearance.
 */
static const struct want faults_only[] = {
	{ 0, S2_REC_WRITE, 0x40a3c000, 0 },
	{ 1, S2_REC_EXEC, 0x40200000, 49000 },
	{ 0, S2_REC_WRITE, 0x40a3d000, 199000 },
	{ 0, S2_REC_READ, 0x40a3e000, 400000 },
	{ 1, S2_REC_READ, 0x40200000, 250000 },
	{ 2, S2_REC_WRITE, 0x40400000, 499000 },
};

static char *data_path(const char *name)
{
	const char *src = g_getenv("S2SIM_SOURCE_DIR");

	return g_build_filename(src ? src : ".", "tests", "data", name, NULL);
}

static void check_records(struct s2_source *src, const struct want *w, size_t n)
{
	GError *err = NULL;
	struct s2_record r;

	for (size_t i = 0; i < n; i++) {
		g_assert_cmpint(s2_source_next(src, &r, &err), ==, 1);
		if (r.vcpu != w[i].vcpu || r.kind != w[i].kind || r.ipa != w[i].ipa ||
		    r.delta != w[i].delta)
			g_error("record %zu: got vcpu %u %s 0x%" G_GINT64_MODIFIER "x delta %"
				G_GUINT64_FORMAT ", want vcpu %u %s 0x%" G_GINT64_MODIFIER "x delta %"
				G_GUINT64_FORMAT, i, r.vcpu, s2_rec_kind_name(r.kind), r.ipa, r.delta,
				w[i].vcpu, s2_rec_kind_name(w[i].kind), w[i].ipa, w[i].delta);
	}
	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 0);
	g_assert_no_error(err);
}

static struct s2_source *import(const char *name, const struct s2_import_format *fmt,
				bool layout, struct s2_import_stats *st)
{
	char *in = data_path(name), *lay = data_path("import-layout.txt");
	GError *err = NULL;
	struct s2_source *src = s2_import_open(in, fmt, layout ? lay : NULL, st, &err);

	g_assert_no_error(err);
	g_free(in);
	g_free(lay);
	return src;
}

static void check_full_stats(const struct s2_import_stats *st)
{
	g_assert_cmpuint(st->faults, ==, 7);
	g_assert_cmpuint(st->translation, ==, 4);
	g_assert_cmpuint(st->access_flag, ==, 1);
	g_assert_cmpuint(st->access_fault_events, ==, 1);
	g_assert_cmpuint(st->permission, ==, 1);
	g_assert_cmpuint(st->mmio, ==, 1);
	g_assert_cmpuint(st->records, ==, 6);
	g_assert_cmpuint(st->ignored, ==, 1);	/* sched_switch */
	g_assert_cmpuint(st->nr_vcpus, ==, 3);
	g_assert_true(st->run_time);
}

static void test_tool_excerpt(gconstpointer data)
{
	const struct s2_import_format *fmt = data;
	char *name = g_strdup_printf("import-%s.txt", fmt->name);
	struct s2_import_stats st;
	struct s2_source *src = import(name, fmt, true, &st);

	g_assert_cmpstr(st.tool, ==, fmt->name);
	check_full_stats(&st);
	g_assert_cmpuint(src->hdr.unit, ==, S2_UNIT_NS);
	g_assert_cmpuint(src->hdr.freq_mhz, ==, 2000);	/* from the layout */
	g_assert_cmpuint(src->hdr.nr_vcpus, ==, 3);
	g_assert_cmpuint(src->hdr.nr_slots, ==, 2);
	check_records(src, full, G_N_ELEMENTS(full));
	s2_source_close(src);
	g_free(name);
}

static void test_auto_detects_tool(gconstpointer data)
{
	const struct s2_import_format *fmt = data;
	char *name = g_strdup_printf("import-%s.txt", fmt->name);
	struct s2_import_stats st;
	struct s2_source *src = import(name, NULL, true, &st);

	g_assert_cmpstr(st.tool, ==, fmt->name);
	check_records(src, full, G_N_ELEMENTS(full));
	s2_source_close(src);
	g_free(name);
}

static void test_faults_only_uses_gaps(void)
{
	struct s2_import_stats st;
	struct s2_source *src = import("import-perf-faults-only.txt", &s2_import_perf_script,
				       true, &st);

	g_assert_false(st.run_time);
	g_assert_cmpuint(st.mmio, ==, 1);
	check_records(src, faults_only, G_N_ELEMENTS(faults_only));
	s2_source_close(src);
}

/* Without --layout, memslots cover the 1 GiB regions holding RAM faults. */
static void test_default_layout(void)
{
	struct s2_import_stats st;
	struct s2_source *src = import("import-trace-cmd.txt", &s2_import_trace_cmd, false, &st);

	g_assert_true(st.default_layout);
	g_assert_cmpuint(st.mmio, ==, 1);	/* still found by kvm_mmio */
	g_assert_cmpuint(src->hdr.nr_slots, ==, 1);
	g_assert_cmpuint(src->hdr.slots[0].gpa, ==, 0x40000000);
	g_assert_cmpuint(src->hdr.slots[0].size, ==, 1ULL << 30);
	g_assert_cmpuint(src->hdr.freq_mhz, ==, 0);
	check_records(src, full, G_N_ELEMENTS(full));
	s2_source_close(src);
}

static char *write_tmp(const char *text)
{
	char *path = NULL;
	int fd = g_file_open_tmp("s2imp-XXXXXX.txt", &path, NULL);

	close(fd);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

#define FAULT0 "       CPU 0/KVM  4321 [003]  1000.000102: kvm:kvm_guest_fault: " \
	       "ipa 0x40a3c000, hsr 0x93c08047, hxfar 0x0, pc 0xffff800010a1b2c4\n"

static void check_bad(const char *text, const char *layout, const char *where,
		      const char *what)
{
	char *path = write_tmp(text), *lay = layout ? write_tmp(layout) : NULL;
	struct s2_import_stats st;
	GError *err = NULL;
	/* no line for what only the whole file shows */
	char *want = where ? g_strdup_printf("%s:%s: ", layout ? lay : path, where)
			   : g_strdup_printf("%s: ", path);

	g_assert_null(s2_import_open(path, &s2_import_perf_script, lay, &st, &err));
	g_assert_nonnull(err);
	if (!g_str_has_prefix(err->message, want) || !strstr(err->message, what))
		g_error("expected '%s...%s', got '%s'", want, what, err->message);
	g_error_free(err);
	g_unlink(path);
	if (lay)
		g_unlink(lay);
	g_free(path);
	g_free(lay);
	g_free(want);
}

static void test_bad_input(void)
{
	check_bad(FAULT0 "this is not an event\n", NULL, "2", "not a `perf-script` event line");
	check_bad(FAULT0 "       CPU 0/KVM  4321 [003]  1000.000200: kvm:kvm_guest_fault: ipa zz\n",
		  NULL, "2", "kvm_guest_fault: expected");
	/* EC 0x16 (HVC64) is no abort */
	check_bad("       CPU 0/KVM  4321 [003]  1000.000102: kvm:kvm_guest_fault: "
		  "ipa 0x40a3c000, hsr 0x5a000000, hxfar 0x0, pc 0x0\n", NULL, "1",
		  "not a lower-EL abort (EC 0x16)");
	check_bad(FAULT0 "       CPU 0/KVM  4321 [003]  1000.000101: kvm:kvm_entry: PC: 0x0\n",
		  NULL, "2", "time goes backwards");
	check_bad(FAULT0 "       CPU 0/KVM  5555 [003]  1000.000200: kvm:kvm_entry: PC: 0x0\n",
		  NULL, "2", "both 'CPU 0/KVM'");
	check_bad("       CPU 0/KVM  4321 [003]  1000.000102: kvm:kvm_guest_fault: "
		  "ipa 0x10000000000, hsr 0x93c08047, hxfar 0x0, pc 0x0\n", NULL, "1",
		  "outside the 40-bit IPA space");
	check_bad(FAULT0, "ipa-bits 40\nvcpus 2\n", "2", "'vcpus' comes from the imported trace");
	check_bad("", NULL, NULL, "no KVM events");
}

/* ---- the trace-conv program ---- */

static char *tool_path(const char *name)
{
	const char *build = g_getenv("S2SIM_BUILD_DIR");

	return g_build_filename(build ? build : ".", "traces", name, NULL);
}

static int run(const char *const *args, char **out, char **errout)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	GError *err = NULL;
	int status;

	g_ptr_array_add(argv, tool_path("trace-conv"));
	for (; *args; args++)
		g_ptr_array_add(argv, g_strdup(*args));
	g_ptr_array_add(argv, NULL);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   out, errout, &status, &err));
	g_assert_no_error(err);
	g_ptr_array_free(argv, TRUE);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_conv_import_summary(void)
{
	char *in = data_path("import-perf-script.txt"), *lay = data_path("import-layout.txt");
	char *dir = g_dir_make_tmp("s2conv-XXXXXX", NULL);
	char *out = g_build_filename(dir, "t.trace", NULL);
	const char *args[] = { "--from", "auto", "--to", "text", "--layout", lay, in, out, NULL };
	char *so, *se, *text;

	g_assert_cmpint(run(args, &so, &se), ==, 0);
	g_assert_nonnull(strstr(se, "(perf-script)"));
	g_assert_nonnull(strstr(se, "\n  mmio 1 (kept apart"));
	g_assert_nonnull(strstr(se, "written 6 RAM accesses for 3 vCPUs"));
	g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "unit ns\nfreq-mhz 2000\nipa-bits 40\nvcpus 3\n"));
	g_assert_nonnull(strstr(text, "end-header\n0 100000 W 0x40a3c000\n1 140000 X 0x40200000\n"));
	g_free(text);
	g_free(so);
	g_free(se);
	g_unlink(out);
	g_rmdir(dir);
	g_free(out);
	g_free(dir);
	g_free(in);
	g_free(lay);
}

/* Bad options and bad input: one line on stderr, exit 2, no OUT at all. */
static void check_conv_fails(const char *const *args, const char *out, const char *what)
{
	char *so, *se;

	g_assert_cmpint(run(args, &so, &se), ==, 2);
	if (!strstr(se, what) || strchr(se, '\n') != se + strlen(se) - 1)
		g_error("expected one line with '%s', got '%s'", what, se);
	g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	g_free(so);
	g_free(se);
}

static void test_conv_failures(void)
{
	char *dir = g_dir_make_tmp("s2conv-XXXXXX", NULL);
	char *out = g_build_filename(dir, "t.s2b", NULL);
	char *bad = write_tmp(FAULT0 "garbage\n");
	char *want = g_strdup_printf("%s:2: not a `perf-script` event line", bad);
	const char *unknown[] = { "--bogus", bad, out, NULL };
	const char *enc[] = { "--to", "xml", bad, out, NULL };
	const char *input[] = { "--from", "perf-script", bad, out, NULL };
	const char *s2sim[] = { bad, out, NULL };

	check_conv_fails(unknown, out, "Unknown option --bogus");
	check_conv_fails(enc, out, "--to: unknown encoding 'xml'");
	check_conv_fails(input, out, want);
	check_conv_fails(s2sim, out, "not an s2sim trace");
	/* nothing left beside OUT either */
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	g_unlink(bad);
	g_free(bad);
	g_free(want);
	g_free(out);
	g_free(dir);
}

/* trace-conv text -> binary-zstd -> binary -> text gives back the same text. */
static void test_conv_round_trip(void)
{
	char *in = data_path("import-perf-script.txt"), *lay = data_path("import-layout.txt");
	char *dir = g_dir_make_tmp("s2conv-XXXXXX", NULL);
	char *t1 = g_build_filename(dir, "a.trace", NULL), *z = g_build_filename(dir, "a.s2b.zst", NULL);
	char *b = g_build_filename(dir, "a.s2b", NULL), *t2 = g_build_filename(dir, "b.trace", NULL);
	const char *imp[] = { "--from", "perf-script", "--to", "text", "--layout", lay, in, t1, NULL };
	const char *tz[] = { "--to", "binary-zstd", t1, z, NULL };
	const char *zb[] = { "--to", "binary", z, b, NULL };
	const char *bt[] = { b, t2, NULL };	/* binary input: text by default */
	char *so, *se, *x, *y;

	g_assert_cmpint(run(imp, &so, &se), ==, 0);
	g_free(so), g_free(se);
	g_assert_cmpint(run(tz, &so, &se), ==, 0);
	g_free(so), g_free(se);
	g_assert_cmpint(run(zb, &so, &se), ==, 0);
	g_free(so), g_free(se);
	g_assert_cmpint(run(bt, &so, &se), ==, 0);
	g_free(so), g_free(se);
	g_assert_true(g_file_get_contents(t1, &x, NULL, NULL));
	g_assert_true(g_file_get_contents(t2, &y, NULL, NULL));
	g_assert_cmpstr(x, ==, y);
	g_free(x);
	g_free(y);
	g_unlink(t1), g_unlink(t2), g_unlink(z), g_unlink(b);
	g_rmdir(dir);
	g_free(t1), g_free(t2), g_free(z), g_free(b);
	g_free(dir);
	g_free(in);
	g_free(lay);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/traces/import/perf-script-excerpt-gives-exact-records",
			     &s2_import_perf_script, test_tool_excerpt);
	g_test_add_data_func("/traces/import/trace-cmd-excerpt-gives-exact-records",
			     &s2_import_trace_cmd, test_tool_excerpt);
	g_test_add_data_func("/traces/import/auto-detects-perf-script",
			     &s2_import_perf_script, test_auto_detects_tool);
	g_test_add_data_func("/traces/import/auto-detects-trace-cmd",
			     &s2_import_trace_cmd, test_auto_detects_tool);
	g_test_add_func("/traces/import/faults-only-trace-uses-gaps-between-faults",
			test_faults_only_uses_gaps);
	g_test_add_func("/traces/import/no-layout-derives-memslots-from-ipas", test_default_layout);
	g_test_add_func("/traces/import/bad-input-names-file-and-line", test_bad_input);
	g_test_add_func("/traces/conv/import-prints-summary-with-mmio-count", test_conv_import_summary);
	g_test_add_func("/traces/conv/failure-is-one-line-exit-2-no-output", test_conv_failures);
	g_test_add_func("/traces/conv/text-zstd-binary-text-round-trip", test_conv_round_trip);
	return g_test_run();
}
