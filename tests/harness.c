/* tests/harness.c - see harness.h. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

char *write_tmp(const char *text)
{
	char *path = NULL;
	int fd = g_file_open_tmp("s2model-XXXXXX", &path, NULL);

	close(fd);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

struct s2_profile *profile_with(const char *const *edits)
{
	char *path = s2_data_path("model/profiles/kunpeng920.ini"), *text, *tmp;
	GError *err = NULL;
	struct s2_profile *p;

	g_assert_true(g_file_get_contents(path, &text, NULL, NULL));
	for (; edits && *edits; edits++) {
		char *key = g_strndup(*edits, strcspn(*edits, " ="));
		char *pattern = g_strdup_printf("(?m)^%s\\s*=.*$", key);
		GRegex *re = g_regex_new(pattern, 0, 0, NULL);
		char *next = g_regex_replace_literal(re, text, -1, 0, *edits, 0, NULL);

		g_assert_cmpstr(next, !=, text);
		g_free(text);
		text = next;
		g_regex_unref(re);
		g_free(pattern);
		g_free(key);
	}
	tmp = write_tmp(text);
	p = s2_profile_load(tmp, &err);
	g_assert_no_error(err);
	g_unlink(tmp);
	g_free(tmp);
	g_free(text);
	g_free(path);
	return p;
}

void run_trace(struct run *r, const char *policy, const char *const *edits, const char *trace)
{
	char *path = write_tmp(trace);
	GError *err = NULL;
	struct s2_source *src;

	r->prof = profile_with(edits);
	r->pol = s2_policy_load(policy, NULL, &err);
	g_assert_no_error(err);
	src = s2_source_open(path, &err);
	g_assert_no_error(err);
	r->sim = s2_sim_new(src, r->prof, r->pol);
	r->sim->check = true;	/* every test run verifies the model's invariants */
	g_assert_true(s2_sim_run(r->sim, &err));
	g_assert_no_error(err);
	r->c = s2_vm_counters(r->sim->vm);
	g_unlink(path);
	g_free(path);
}

void run_free(struct run *r)
{
	s2_sim_free(r->sim);
	s2_policy_free(r->pol);
	s2_profile_free(r->prof);
}
