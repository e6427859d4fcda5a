/*
 * sim/main.c - the `sim` command: replay a trace under a policy and a cost
 * profile, print the summary, optionally write JSON.
 *
 * Exit status: 0 success, 2 bad input (options, trace, profile, policy),
 * 3 a --check invariant failed (a bug in s2sim).
 * An output file is written whole or not at all.
 */
#include <errno.h>
#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "report.h"
#include "sim.h"

static char *opt_policy = NULL;
static char *opt_profile = NULL;
static char *opt_policies = NULL;
static char *opt_json = NULL;
static char *opt_timeline = NULL;
static char *opt_window = NULL;
static gboolean opt_quiet = FALSE;
static gboolean opt_list = FALSE;
static gboolean opt_check = FALSE;

static const GOptionEntry entries[] = {
	{ "policy", 'p', 0, G_OPTION_ARG_STRING, &opt_policy,
	  "Fault policy: a section of model/policies.ini (abort, handler)", "NAME" },
	{ "profile", 'P', 0, G_OPTION_ARG_STRING, &opt_profile,
	  "Cost profile: a name in model/profiles/ or a path (default kunpeng920)", "NAME|FILE" },
	{ "policies", 0, 0, G_OPTION_ARG_FILENAME, &opt_policies,
	  "Read policies from FILE instead of model/policies.ini", "FILE" },
	{ "json", 'j', 0, G_OPTION_ARG_FILENAME, &opt_json,
	  "Write the results and the resolved configuration as JSON", "FILE" },
	{ "timeline", 't', 0, G_OPTION_ARG_FILENAME, &opt_timeline,
	  "Write per-vCPU activity as trace-event JSON (Perfetto, chrome://tracing)", "FILE" },
	{ "timeline-window", 0, 0, G_OPTION_ARG_STRING, &opt_window,
	  "Only the cycles START..END in the timeline", "START:END" },
	{ "quiet", 'q', 0, G_OPTION_ARG_NONE, &opt_quiet, "Print no summary", NULL },
	{ "check", 0, 0, G_OPTION_ARG_NONE, &opt_check,
	  "Verify the model's invariants while it runs (exit 3 on a violation)", NULL },
	{ "list-policies", 0, 0, G_OPTION_ARG_NONE, &opt_list,
	  "List the policies with the kernels they model", NULL },
	{ NULL }
};

static int die(const char *what, GError *err)
{
	fprintf(stderr, "sim: %s%s%s\n", what ? what : "", what ? ": " : "", err->message);
	g_error_free(err);
	return 2;
}

static int list_policies(void)
{
	GError *err = NULL;
	char **names = s2_policy_names(opt_policies, &err);

	if (!names)
		return die(NULL, err);
	for (int i = 0; names[i]; i++) {
		struct s2_policy *p = s2_policy_load(names[i], opt_policies, &err);

		if (!p) {
			g_strfreev(names);	/* LeakSanitizer */
			return die(NULL, err);
		}
		printf("%-12s %-18s %s\n", p->name, p->kernel ? p->kernel : "", p->source ? p->source : "");
		s2_policy_free(p);
	}
	g_strfreev(names);
	return 0;
}

static bool parse_window(uint64_t *start, uint64_t *end, GError **err)
{
	char *colon, *head;
	bool ok;

	*start = 0;
	*end = UINT64_MAX;
	if (!opt_window)
		return true;
	colon = strchr(opt_window, ':');
	head = colon ? g_strndup(opt_window, colon - opt_window) : NULL;
	ok = colon && g_ascii_string_to_unsigned(head, 10, 0, UINT64_MAX, start, NULL) &&
	     g_ascii_string_to_unsigned(colon + 1, 10, 0, UINT64_MAX, end, NULL) && *end > *start;
	g_free(head);
	if (!ok) {
		g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
			    "--timeline-window: expected START:END in cycles with START < END, got '%s'",
			    opt_window);
		return false;
	}
	return true;
}

/* Two names of one file: the same path, or the same existing inode. */
static bool same_file(const char *a, const char *b)
{
	char *ca = g_canonicalize_filename(a, NULL), *cb = g_canonicalize_filename(b, NULL);
	GStatBuf sa, sb;
	bool same = !strcmp(ca, cb) || (!g_stat(a, &sa) && !g_stat(b, &sb) &&
					sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino);

	g_free(ca);
	g_free(cb);
	return same;
}

/*
 * Options that contradict each other, and output files that cannot be
 * written, are refused before the run: otherwise a long run would end
 * without its JSON, or an output would silently replace the trace or the
 * other output.
 */
static bool check_options(const char *trace, GError **err)
{
	const char *out[] = { opt_json, opt_timeline };
	const char *name[] = { "--json", "--timeline" };

	if (opt_window && !opt_timeline) {
		g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "--timeline-window needs --timeline");
		return false;
	}
	if (opt_json && opt_timeline && same_file(opt_json, opt_timeline)) {
		g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
			    "--json and --timeline name the same file '%s'", opt_json);
		return false;
	}
	for (int i = 0; i < 2; i++) {
		char *dir;
		bool ok;

		if (!out[i])
			continue;
		if (same_file(out[i], trace)) {
			g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
				    "%s %s would overwrite the trace", name[i], out[i]);
			return false;
		}
		if (g_file_test(out[i], G_FILE_TEST_IS_DIR)) {
			g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
				    "%s %s: is a directory", name[i], out[i]);
			return false;
		}
		dir = g_path_get_dirname(out[i]);
		ok = !g_access(dir, W_OK);
		if (!ok)
			g_set_error(err, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "%s %s: %s",
				    name[i], out[i], g_strerror(errno));
		g_free(dir);
		if (!ok)
			return false;
	}
	return true;
}

static int run(const char *trace)
{
	GError *err = NULL;
	struct s2_profile *prof = s2_profile_load(opt_profile ? opt_profile : "kunpeng920", &err);
	struct s2_policy *pol = NULL;
	struct s2_source *src = NULL;
	struct s2_sim *sim = NULL;
	struct s2_timeline *tl = NULL;
	uint64_t win_start, win_end;
	int ret = 2;

	if (!prof)
		return die(NULL, err);
	if (!parse_window(&win_start, &win_end, &err))
		goto out;
	pol = s2_policy_load(opt_policy, opt_policies, &err);
	if (!pol)
		goto out;
	src = s2_source_open(trace, &err);
	if (!src)
		goto out;
	sim = s2_sim_new(src, prof, pol);
	sim->progress = !opt_quiet && isatty(STDERR_FILENO);
	sim->check = opt_check;
	if (opt_timeline) {
		tl = s2_timeline_open(opt_timeline, prof->freq_mhz, win_start, win_end, &err);
		if (!tl)
			goto out;
		s2_sim_set_timeline(sim, tl);
	}
	if (!s2_sim_run(sim, &err)) {
		if (g_error_matches(err, S2_MODEL_ERROR, 1))
			ret = 3;
		goto out;
	}
	/* JSON first: if it fails, the timeline is still uncommitted and dropped */
	if (opt_json) {
		char *json = s2_report_json(sim, trace);
		bool ok = g_file_set_contents(opt_json, json, -1, &err);

		g_free(json);
		if (!ok) {
			g_prefix_error(&err, "--json: ");
			goto out;
		}
	}
	if (tl) {
		bool ok = s2_timeline_commit(tl, sim->nr_vcpus, &err);

		tl = NULL;
		if (!ok) {
			if (opt_json)
				g_unlink(opt_json);	/* all outputs or none */
			goto out;
		}
	}
	if (!opt_quiet)
		s2_report_summary(stdout, sim, trace);
	ret = 0;
out:
	s2_timeline_abort(tl);
	if (err) {
		int code = ret;

		ret = die(NULL, err);
		if (code == 3)
			ret = 3;
	}
	s2_sim_free(sim);
	s2_policy_free(pol);
	s2_profile_free(prof);
	return ret;
}

int main(int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("TRACE");
	GError *err = NULL;
	int ret;

	g_option_context_set_summary(ctx,
		"Replay a stage-2 access trace against a model of arm64 KVM's fault path\n"
		"and report what the chosen cache-maintenance policy costs, in cycles.");
	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		g_option_context_free(ctx);
		return die(NULL, err);
	}
	g_option_context_free(ctx);
	if (opt_list)
		return list_policies();
	if (argc != 2 || !opt_policy) {
		fprintf(stderr, "sim: usage: sim --policy=NAME [--profile=NAME] [--json FILE] TRACE\n");
		return 2;
	}
	if (!check_options(argv[1], &err))
		return die(NULL, err);
	ret = run(argv[1]);
	return ret;
}
