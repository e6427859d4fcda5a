/*
 * tests/test_bad_input.c - every malformed or hostile input of
 * tests/bad-input/ through the built tools, as a user would meet it.
 *
 * Each case is NAME.expect beside its input NAME.EXT (or an input made here:
 * huge ones are generated, not committed):
 *
 *   # what is wrong
 *   args: sim --policy=handler @IN      the tool (sim, trace-conv, trace-info) and its
 *                                       arguments; @IN the input, @DIR an empty
 *                                       directory for outputs, @SRC the source tree
 *   generate: long-line                 optional: make @IN here (see generate())
 *   outputs: given                      optional: sim gets no --json/--timeline from us
 *   status: 0                           optional, default 2 (0: a fuzzing regression
 *                                       that is valid input and must just not crash)
 *   stderr: @IN:7: vcpu '8' is not 0..7 a fragment of the expected message
 *
 * What a bad input must give: exit status 2 (no signal), exactly one line
 * on stderr holding the fragment, which names the file (and line) or the
 * option, nothing on stdout, and no file left in @DIR, into which sim also
 * writes --json and --timeline.
 */
#include <glib/gstdio.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#define MIN_CASES	50
#define HUGE_LINE	10000000	/* 10^7 characters */

struct bad_case {
	char *name;
	char *args;
	char *generate;
	char *stderr_frag;
	int status;
	bool outputs_given;
	char *input;		/* the committed input file, or NULL */
};

static char *src_dir(void)
{
	return g_strdup(g_getenv("S2SIM_SOURCE_DIR"));
}

static char *tool_path(const char *tool)
{
	const char *build = g_getenv("S2SIM_BUILD_DIR");

	if (!strcmp(tool, "sim"))
		return g_build_filename(build, "sim", "sim", NULL);
	if (!strcmp(tool, "trace-conv") || !strcmp(tool, "trace-info"))
		return g_build_filename(build, "traces", tool, NULL);
	g_error("unknown tool '%s' in a .expect file", tool);
}

static void bad_case_free(gpointer data)
{
	struct bad_case *c = data;

	g_free(c->name);
	g_free(c->args);
	g_free(c->generate);
	g_free(c->stderr_frag);
	g_free(c->input);
	g_free(c);
}

/* The input of NAME: the one file NAME.* that is not NAME.expect. */
static char *find_input(const char *dir, const char *name)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	char *prefix = g_strconcat(name, ".", NULL), *found = NULL;
	const char *e;

	while ((e = g_dir_read_name(d))) {
		if (!g_str_has_prefix(e, prefix) || g_str_has_suffix(e, ".expect"))
			continue;
		g_assert_null(found);	/* one input per case */
		found = g_build_filename(dir, e, NULL);
	}
	g_dir_close(d);
	g_free(prefix);
	return found;
}

static struct bad_case *load_case(const char *dir, const char *file)
{
	struct bad_case *c = g_new0(struct bad_case, 1);
	char *path = g_build_filename(dir, file, NULL), *text, **lines;

	c->name = g_strndup(file, strlen(file) - strlen(".expect"));
	c->status = 2;
	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	lines = g_strsplit(text, "\n", -1);
	for (int i = 0; lines[i]; i++) {
		const char *l = lines[i];

		if (!*l || *l == '#')
			continue;
		if (g_str_has_prefix(l, "args: "))
			c->args = g_strdup(l + 6);
		else if (g_str_has_prefix(l, "generate: "))
			c->generate = g_strdup(l + 10);
		else if (g_str_has_prefix(l, "stderr: "))
			c->stderr_frag = g_strdup(l + 8);
		else if (g_str_has_prefix(l, "status: "))
			c->status = atoi(l + 8);
		else if (!strcmp(l, "outputs: given"))
			c->outputs_given = true;
		else
			g_error("%s: unknown line '%s'", path, l);
	}
	if (!c->args || !c->stderr_frag)
		g_error("%s: needs args: and stderr:", path);
	/* the message must name the input, the option or the output path */
	if (c->status == 2 && !strchr(c->stderr_frag, '@') && !strstr(c->stderr_frag, "--") &&
	    !strchr(c->stderr_frag, '/'))
		g_error("%s: the expected message names neither a file nor an option", path);
	if (!c->generate)
		c->input = find_input(dir, c->name);
	g_strfreev(lines);
	g_free(text);
	g_free(path);
	return c;
}

static void append_repeated(GString *s, char c, gsize n)
{
	gsize at = s->len;

	g_string_set_size(s, at + n);
	memset(s->str + at, c, n);
}

/* Inputs too big to commit, or that the run may damage, made in @dir. */
static char *generate(const char *what, const char *dir)
{
	char *path = g_build_filename(dir, "input", NULL);
	GString *s = g_string_new(NULL);

	if (!strcmp(what, "long-line")) {
		/* one comment line of 10^7 characters: the text reader's limit is 4096 */
		g_string_append(s, "s2sim-trace 2\nvcpus 1\nend-header\n# ");
		append_repeated(s, 'x', HUGE_LINE);
		g_string_append_c(s, '\n');
	} else if (!strcmp(what, "long-line-import")) {
		/* 10^7 blanks after a comm: minutes of regex backtracking before the limit */
		g_string_append(s, "       CPU 0/KVM  4321 [003]  1000.000000:          "
			       "kvm:kvm_entry: PC: 0xffff800010001000\n       CPU 0/KVM");
		append_repeated(s, ' ', HUGE_LINE);
		g_string_append(s, "x\n");
	} else if (!strcmp(what, "good-trace")) {
		/* a copy, so that a regression overwrites this, not the source tree */
		char *good = g_build_filename(g_getenv("S2SIM_SOURCE_DIR"), "tests", "data",
					      "info-tiny.trace", NULL), *text;
		gsize len;

		g_assert_true(g_file_get_contents(good, &text, &len, NULL));
		g_string_append_len(s, text, len);
		g_free(text);
		g_free(good);
	} else {
		g_error("unknown generate: '%s'", what);
	}
	g_assert_true(g_file_set_contents(path, s->str, s->len, NULL));
	g_string_free(s, TRUE);
	return path;
}

static char *substitute(const char *s, const char *in, const char *out_dir)
{
	char *src = src_dir();
	GString *r = g_string_new(s);

	g_string_replace(r, "@IN", in ? in : "@IN", 0);
	g_string_replace(r, "@DIR", out_dir, 0);
	g_string_replace(r, "@SRC", src, 0);
	g_free(src);
	return g_string_free(r, FALSE);
}

static bool has_arg(char **argv, const char *opt)
{
	for (; *argv; argv++)
		if (!strcmp(*argv, opt) || (g_str_has_prefix(*argv, opt) && (*argv)[strlen(opt)] == '='))
			return true;
	return false;
}

static GPtrArray *build_argv(const struct bad_case *c, const char *in, const char *out_dir)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	char **words = NULL;
	GError *err = NULL;

	g_assert_true(g_shell_parse_argv(c->args, NULL, &words, &err));
	g_assert_no_error(err);
	g_ptr_array_add(argv, tool_path(words[0]));
	/* sim writes both outputs into @DIR, which must stay empty */
	if (!strcmp(words[0], "sim") && !c->outputs_given) {
		if (!has_arg(words, "--json")) {
			g_ptr_array_add(argv, g_strdup("--json"));
			g_ptr_array_add(argv, g_build_filename(out_dir, "out.json", NULL));
		}
		if (!has_arg(words, "--timeline")) {
			g_ptr_array_add(argv, g_strdup("--timeline"));
			g_ptr_array_add(argv, g_build_filename(out_dir, "timeline.json", NULL));
		}
	}
	for (int i = 1; words[i]; i++)
		g_ptr_array_add(argv, substitute(words[i], in, out_dir));
	g_ptr_array_add(argv, NULL);
	g_strfreev(words);
	return argv;
}

/* Entries of @dir, removed; their names, for a failure message. */
static GString *empty_dir(const char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	GString *left = g_string_new(NULL);
	const char *e;

	while ((e = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, e, NULL);

		g_string_append_printf(left, "%s ", e);
		g_assert_cmpint(g_remove(p), ==, 0);
		g_free(p);
	}
	g_dir_close(d);
	return left;
}

static void test_case(gconstpointer data)
{
	const struct bad_case *c = data;
	char *out_dir = g_dir_make_tmp("s2bad-out-XXXXXX", NULL);
	char *gen_dir = g_dir_make_tmp("s2bad-in-XXXXXX", NULL);
	char *in = c->generate ? generate(c->generate, gen_dir) : g_strdup(c->input);
	GPtrArray *argv = build_argv(c, in, out_dir);
	char *out = NULL, *err = NULL, *want = substitute(c->stderr_frag, in, out_dir);
	char *cmd = g_strjoinv(" ", (char **)argv->pdata);
	GError *gerr = NULL;
	GString *left;
	int status;

	g_test_message("%s", cmd);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   &out, &err, &status, &gerr));
	g_assert_no_error(gerr);
	if (!WIFEXITED(status))
		g_error("%s: killed by signal %d\n%s", c->name, WTERMSIG(status), err);
	if (WEXITSTATUS(status) != c->status)
		g_error("%s: exit status %d, not %d\n%s", c->name, WEXITSTATUS(status), c->status, err);
	if (!strstr(err, want))
		g_error("%s: stderr\n  %s\ndoes not hold\n  %s", c->name, err, want);
	left = empty_dir(out_dir);
	if (c->status == 2) {
		const char *nl = strchr(err, '\n');

		if (!nl || nl[1])
			g_error("%s: not one line on stderr:\n%s", c->name, err);
		g_assert_cmpstr(out, ==, "");
		if (left->len)
			g_error("%s: left behind in the output directory: %s", c->name, left->str);
	}
	g_string_free(left, TRUE);
	if (c->generate)
		g_assert_cmpint(g_remove(in), ==, 0);
	g_assert_cmpint(g_rmdir(out_dir), ==, 0);
	g_assert_cmpint(g_rmdir(gen_dir), ==, 0);
	g_free(cmd);
	g_free(want);
	g_free(out);
	g_free(err);
	g_ptr_array_free(argv, TRUE);
	g_free(in);
	g_free(gen_dir);
	g_free(out_dir);
}

static guint nr_cases;

static void test_count(void)
{
	g_assert_cmpuint(nr_cases, >=, MIN_CASES);
}

static gint by_name(gconstpointer a, gconstpointer b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
	char *src = src_dir();
	char *dir = g_build_filename(src, "tests", "bad-input", NULL);
	GPtrArray *files = g_ptr_array_new_with_free_func(g_free);
	GPtrArray *cases = g_ptr_array_new_with_free_func(bad_case_free);
	GDir *d;
	const char *e;
	int ret;

	g_test_init(&argc, &argv, NULL);
	d = g_dir_open(dir, 0, NULL);
	g_assert_nonnull(d);
	while ((e = g_dir_read_name(d)))
		if (g_str_has_suffix(e, ".expect"))
			g_ptr_array_add(files, g_strdup(e));
	g_dir_close(d);
	g_ptr_array_sort(files, by_name);
	for (guint i = 0; i < files->len; i++) {
		struct bad_case *c = load_case(dir, files->pdata[i]);
		char *path = g_strconcat("/bad-input/", c->name, NULL);

		if (!c->generate && !c->input && strstr(c->args, "@IN"))
			g_error("%s: no input file %s.*", c->name, c->name);
		g_ptr_array_add(cases, c);
		g_test_add_data_func(path, c, test_case);
		g_free(path);
	}
	nr_cases = cases->len;
	g_test_add_func("/bad-input/count", test_count);
	ret = g_test_run();
	g_ptr_array_free(cases, TRUE);
	g_ptr_array_free(files, TRUE);
	g_free(dir);
	g_free(src);
	return ret;
}
