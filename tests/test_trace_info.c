/*
 * tests/test_trace_info.c - trace-info's counts and concurrency figure on
 * tests/data/info-tiny.trace, whose comments give each access's time.
 */
#include <string.h>

#include "info.h"

static char *data_path(const char *name)
{
	const char *src = g_getenv("S2SIM_SOURCE_DIR");

	return g_build_filename(src ? src : ".", "tests", "data", name, NULL);
}

static void test_counts(void)
{
	char *path = data_path("info-tiny.trace");
	struct s2_trace_info in;
	GError *err = NULL;

	g_assert_true(s2_trace_info_compute(path, 10000, &in, &err));
	g_assert_no_error(err);
	g_assert_cmpuint(in.records, ==, 13);
	g_assert_cmpuint(in.accesses, ==, 12);
	g_assert_cmpuint(in.vmm, ==, 1);
	g_assert_cmpuint(in.per_kind[S2_REC_READ], ==, 7);
	g_assert_cmpuint(in.per_kind[S2_REC_WRITE], ==, 4);
	g_assert_cmpuint(in.per_kind[S2_REC_EXEC], ==, 1);
	g_assert_cmpuint(in.per_kind[S2_REC_UNMAP], ==, 1);
	g_assert_cmpuint(in.per_vcpu[0], ==, 5);
	g_assert_cmpuint(in.per_vcpu[1], ==, 4);
	g_assert_cmpuint(in.per_vcpu[2], ==, 3);
	g_assert_cmpuint(in.pages, ==, 6);
	g_assert_cmpuint(in.blocks, ==, 4);
	s2_trace_info_clear(&in);
	g_free(path);
}

/*
 * Window 10000: first touches 0x200 (v0 t100: v1 counted), 0x201 (v1 t200:
 * v0 counted), 0x200 after the unmap (v2 t20015: v0), 0x202 (none), 0x203
 * (v1 t21011: v0 and v2) -> 5 first touches, 4 shared, 5 accesses, at most 2.
 */
static void test_concurrency(void)
{
	char *path = data_path("info-tiny.trace");
	struct s2_trace_info in;
	GError *err = NULL;

	g_assert_true(s2_trace_info_compute(path, 10000, &in, &err));
	g_assert_true(in.in_cycles);
	g_assert_cmpuint(in.first_touches, ==, 5);
	g_assert_cmpuint(in.shared_first_touches, ==, 4);
	g_assert_cmpuint(in.concurrent, ==, 5);
	g_assert_cmpuint(in.max_concurrent, ==, 2);
	s2_trace_info_clear(&in);
	g_free(path);
}

/* Window 100: only v1 at +50 after t100 and v0 at +95 after t20015 remain. */
static void test_program_output(void)
{
	char *path = data_path("info-tiny.trace");
	char *tool = g_build_filename(g_getenv("S2SIM_BUILD_DIR") ? g_getenv("S2SIM_BUILD_DIR") : ".",
				      "traces", "trace-info", NULL);
	char *argv[] = { tool, "--window", "100", path, NULL };
	char *out, *errout;
	GError *err = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &out, &errout,
				   &status, &err));
	g_assert_no_error(err);
	g_assert_cmpint(status, ==, 0);
	g_assert_nonnull(strstr(out, "\nencoding: text\nunit: cycles\nipa-bits: 40\nvcpus: 3\n"));
	g_assert_nonnull(strstr(out, "\nkind R: 7\nkind W: 4\nkind X: 1\n"));
	g_assert_nonnull(strstr(out, "\nvcpu 0: 5\nvcpu 1: 4\nvcpu 2: 3\npages-4k: 6\nblocks-2m: 4\n"));
	g_assert_nonnull(strstr(out, "\nwindow: 100 cycles\nfirst-touches: 5\n"
				"first-touches-shared: 2\nconcurrent-accesses: 2\n"
				"max-concurrent-per-first-touch: 1\n"));
	g_free(out);
	g_free(errout);
	g_free(tool);
	g_free(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/traces/info/counts-per-kind-vcpu-page-block", test_counts);
	g_test_add_func("/traces/info/other-vcpus-within-window-of-first-touch", test_concurrency);
	g_test_add_func("/traces/info/program-prints-key-value-lines", test_program_output);
	return g_test_run();
}
