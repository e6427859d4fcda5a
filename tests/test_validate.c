/*
 * tests/test_validate.c - CI guard of the calibration (issue 4): runs
 * `bench/validate --subset quick`, the kvm_page_table_test rows the model
 * reproduces, at a memory size with the same per-block behaviour as the
 * published runs (one 1 GiB hugetlb block instead of 20; the times are
 * multiplied back by 20), and checks
 *  - every figure of the subset within its tolerance (15 %) of the
 *    published one (calibration.md §1 M1, Kunpeng 920);
 *  - the shape: 1 GiB CREATE "before" (abort) doubles from 10 to 20 vCPUs,
 *    "after" (handler) does not move (within 15 %).
 * The full validation (every row, full memory) is the benchmark
 * bench/validate; model/CALIBRATION.md has its results.
 */
#include <glib.h>
#include <glib/gstdio.h>
#include <stdlib.h>
#include <string.h>

#define TOLERANCE 0.15

static char *tmp_dir;

static char **read_csv(const char *path, guint *n)
{
	char *text = NULL;
	char **lines;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_strchomp(text);
	lines = g_strsplit(text, "\n", -1);
	g_free(text);
	*n = g_strv_length(lines);
	return lines;
}

/* Index of column NAME in a CSV header line (no quoted commas in ours). */
static int column(const char *header, const char *name)
{
	char **cols = g_strsplit(header, ",", -1);
	int idx = -1;

	for (int i = 0; cols[i]; i++)
		if (!strcmp(g_strstrip(cols[i]), name))
			idx = i;
	g_strfreev(cols);
	g_assert_cmpint(idx, >=, 0);
	return idx;
}

static char *field(const char *line, int idx)
{
	char **cols = g_strsplit(line, ",", -1);
	char *v;

	g_assert_cmpint(idx, <, (int)g_strv_length(cols));
	v = g_strdup(cols[idx]);
	g_strfreev(cols);
	return v;
}

static double num(const char *line, int idx)
{
	char *v = field(line, idx);
	double d = g_ascii_strtod(v, NULL);

	g_free(v);
	return d;
}

static void test_quick_subset_within_tolerance_and_shape(void)
{
	const char *src = g_getenv("S2SIM_SOURCE_DIR"), *build = g_getenv("S2SIM_BUILD_DIR");
	const char *python = g_getenv("S2SIM_PYTHON3");
	char *script = g_build_filename(src, "bench", "validate", NULL);
	char *rows_csv = g_build_filename(tmp_dir, "rows.csv", NULL);
	char *shape_csv = g_build_filename(tmp_dir, "shape.csv", NULL);
	const char *argv[] = { python && *python ? python : "python3", script, "--build", build,
			       "--subset", "quick", "--csv", rows_csv, "--shape-csv", shape_csv,
			       NULL };
	char *out = NULL, *err = NULL, **lines;
	GError *gerr = NULL;
	int status, c_err, c_within, c_basis, c_ok, c_claim;
	guint n, before_vcpus = 0, after_flat = 0;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
				   &out, &err, &status, &gerr));
	g_assert_no_error(gerr);
	if (!g_spawn_check_wait_status(status, NULL))
		g_error("bench/validate --subset quick failed:\n%s\n%s", out, err);

	/* 2 rows (CREATE, ADJUST at 20 vCPUs) x 2 sides + the header */
	lines = read_csv(rows_csv, &n);
	g_assert_cmpuint(n, >=, 1 + 4);
	c_err = column(lines[0], "rel_err");
	c_within = column(lines[0], "within");
	c_basis = column(lines[0], "basis");
	for (guint i = 1; i < n; i++) {
		char *basis = field(lines[i], c_basis);

		if (!(ABS(num(lines[i], c_err)) <= TOLERANCE))
			g_error("outside %.0f %%: %s", 100 * TOLERANCE, lines[i]);
		g_assert_cmpfloat(num(lines[i], c_within), ==, 1);
		g_assert_true(!strcmp(basis, "circular") || !strcmp(basis, "independent"));
		g_free(basis);
	}
	g_strfreev(lines);

	lines = read_csv(shape_csv, &n);
	c_ok = column(lines[0], "ok");
	c_claim = column(lines[0], "claim");
	for (guint i = 1; i < n; i++) {
		char *claim = field(lines[i], c_claim);

		if (num(lines[i], c_ok) != 1)
			g_error("shape claim failed: %s", lines[i]);
		before_vcpus += strstr(claim, "before ∝ vCPUs") != NULL;
		after_flat += strstr(claim, "after flat") != NULL;
		g_free(claim);
	}
	g_assert_cmpuint(before_vcpus, ==, 1);
	g_assert_cmpuint(after_flat, ==, 1);
	g_strfreev(lines);

	g_unlink(rows_csv);
	g_unlink(shape_csv);
	g_free(rows_csv);
	g_free(shape_csv);
	g_free(script);
	g_free(out);
	g_free(err);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("s2val-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	g_test_add_func("/validate/kptt-quick-subset-within-15-percent-before-scales-after-flat",
			test_quick_subset_within_tolerance_and_shape);
	ret = g_test_run();
	g_rmdir(tmp_dir);
	g_free(tmp_dir);
	return ret;
}
