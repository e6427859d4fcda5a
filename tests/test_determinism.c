/*
 * tests/test_determinism.c - the same inputs give byte-identical results:
 * a trace's text, binary and zstd-compressed forms (made by trace-conv),
 * and the same run repeated (issue 7, point 5).
 *
 * Each form is placed under the same file name in a directory of its own
 * and sim runs there, so config.trace.path in the JSON is the same string
 * and the whole files, the JSON, the timeline and the printed summary, can
 * be compared byte for byte.  --check is on: the model also verifies its
 * invariants on every run.
 */
#include <glib/gstdio.h>
#include <stdbool.h>
#include <string.h>
#include <sys/wait.h>

static const char *const encodings[] = { "text", "binary", "binary-zstd" };
static const char *const policies[] = { "abort", "handler" };

struct outputs {
	char *summary, *json, *timeline;
};

static char *tool(const char *dir, const char *name)
{
	return g_build_filename(g_getenv("S2SIM_BUILD_DIR"), dir, name, NULL);
}

static void spawn(const char *cwd, char **argv, char **out)
{
	char *err = NULL;
	GError *gerr = NULL;
	int status;

	g_assert_true(g_spawn_sync(cwd, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, out, &err,
				   &status, &gerr));
	g_assert_no_error(gerr);
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		g_error("%s failed (status 0x%x): %s", argv[0], status, err);
	g_free(err);
}

static char *slurp(const char *dir, const char *name)
{
	char *path = g_build_filename(dir, name, NULL), *text;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	g_assert_cmpint(g_unlink(path), ==, 0);
	g_free(path);
	return text;
}

/* @dir/trace in @encoding, converted from the source tree's @trace. */
static char *make_form(const char *root, const char *trace, const char *encoding)
{
	char *dir = g_build_filename(root, encoding, NULL);
	char *src = g_build_filename(g_getenv("S2SIM_SOURCE_DIR"), trace, NULL);
	char *dst = g_build_filename(dir, "trace", NULL);
	char *conv = tool("traces", "trace-conv");
	char *to = g_strconcat("--to=", encoding, NULL);
	char *argv[] = { conv, to, src, dst, NULL };

	g_assert_cmpint(g_mkdir(dir, 0755), ==, 0);
	spawn(NULL, argv, NULL);
	g_free(to);
	g_free(conv);
	g_free(dst);
	g_free(src);
	return dir;
}

static void run_sim(const char *dir, const char *policy, struct outputs *o)
{
	char *sim = tool("sim", "sim");
	char *pol = g_strconcat("--policy=", policy, NULL);
	char *argv[] = { sim, pol, "--check", "--json", "out.json", "--timeline", "timeline.json",
			 "trace", NULL };

	spawn(dir, argv, &o->summary);
	o->json = slurp(dir, "out.json");
	o->timeline = slurp(dir, "timeline.json");
	g_free(pol);
	g_free(sim);
}

static void outputs_clear(struct outputs *o)
{
	g_free(o->summary);
	g_free(o->json);
	g_free(o->timeline);
}

static void assert_same(const struct outputs *a, const struct outputs *b, const char *what)
{
	if (strcmp(a->json, b->json) || strcmp(a->timeline, b->timeline) ||
	    strcmp(a->summary, b->summary))
		g_error("%s: the JSON, timeline or summary differ", what);
}

static void test_trace(gconstpointer data)
{
	const char *trace = data;
	char *root = g_dir_make_tmp("s2det-XXXXXX", NULL);
	char *dirs[G_N_ELEMENTS(encodings)];

	for (size_t e = 0; e < G_N_ELEMENTS(encodings); e++)
		dirs[e] = make_form(root, trace, encodings[e]);
	for (size_t p = 0; p < G_N_ELEMENTS(policies); p++) {
		struct outputs first, again;

		run_sim(dirs[0], policies[p], &first);
		g_assert_nonnull(strstr(first.json, "\"path\" : \"trace\""));
		run_sim(dirs[0], policies[p], &again);
		assert_same(&first, &again, "a rerun of the text trace");
		outputs_clear(&again);
		for (size_t e = 1; e < G_N_ELEMENTS(encodings); e++) {
			struct outputs other;
			char *what = g_strdup_printf("%s under %s, text against %s", trace,
						     policies[p], encodings[e]);

			run_sim(dirs[e], policies[p], &other);
			assert_same(&first, &other, what);
			outputs_clear(&other);
			g_free(what);
		}
		outputs_clear(&first);
	}
	for (size_t e = 0; e < G_N_ELEMENTS(encodings); e++) {
		char *t = g_build_filename(dirs[e], "trace", NULL);

		g_assert_cmpint(g_unlink(t), ==, 0);
		g_assert_cmpint(g_rmdir(dirs[e]), ==, 0);
		g_free(t);
		g_free(dirs[e]);
	}
	g_assert_cmpint(g_rmdir(root), ==, 0);
	g_free(root);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	/* a hand-timed tiny trace, and the two shipped workloads (v2 records, phases) */
	g_test_add_data_func("/determinism/info-tiny", "tests/data/info-tiny.trace", test_trace);
	g_test_add_data_func("/determinism/startup", "workloads/startup.trace", test_trace);
	g_test_add_data_func("/determinism/migrate", "workloads/migrate.trace", test_trace);
	return g_test_run();
}
