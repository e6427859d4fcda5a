/*
 * tests/test_sim_cli.c - the `sim` command as a user meets it: exit codes,
 * messages naming the file and line, no partial output, identical reruns.
 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

static char *sim_path(void)
{
	return g_build_filename(g_getenv("S2SIM_BUILD_DIR"), "sim", "sim", NULL);
}

static int run_sim(const char *const *args, char **out, char **err)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	GError *gerr = NULL;
	int status;

	g_ptr_array_add(argv, sim_path());
	for (; *args; args++)
		g_ptr_array_add(argv, g_strdup(*args));
	g_ptr_array_add(argv, NULL);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL,
				   NULL, out, err, &status, &gerr));
	g_assert_no_error(gerr);
	g_ptr_array_free(argv, TRUE);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *tmp_dir;

static char *tmp_file(const char *name, const char *text)
{
	char *path = g_build_filename(tmp_dir, name, NULL);

	if (text)
		g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

static const char good[] =
	"s2sim-trace 1\nvcpus 2\nmemslot 0 gpa=0x40000000 size=64M backing=thp populated=yes\n"
	"end-header\n0 0 R 0x40000000\n1 0 W 0x40001000\n0 100 X 0x40200000\n1 5 R 0x9000000\n";

static void test_bad_line_exit_2_and_no_json(void)
{
	char *trace = tmp_file("bad.trace",
		"s2sim-trace 1\nvcpus 1\nmemslot 0 gpa=0x40000000 size=2M backing=4k\n"
		"end-header\n0 0 R 0x40000000\n0 0 Z 0x40000000\n");
	char *json = tmp_file("bad.json", NULL);
	const char *args[] = { "--policy=handler", "--json", json, trace, NULL };
	char *out, *err, *want = g_strdup_printf("%s:6: ", trace);

	g_assert_cmpint(run_sim(args, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, want));
	g_assert_cmpstr(out, ==, "");
	g_assert_false(g_file_test(json, G_FILE_TEST_EXISTS));
	g_free(out);
	g_free(err);
	g_free(want);
	g_free(json);
	g_free(trace);
}

static void test_unknown_option_and_policy(void)
{
	char *trace = tmp_file("good.trace", good);
	const char *opt[] = { "--policy=handler", "--frobnicate", trace, NULL };
	const char *pol[] = { "--policy=nosuch", trace, NULL };
	const char *prof[] = { "--policy=abort", "--profile=nosuch", trace, NULL };
	char *out, *err;

	g_assert_cmpint(run_sim(opt, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "--frobnicate"));
	g_free(out);
	g_free(err);
	g_assert_cmpint(run_sim(pol, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "unknown policy 'nosuch'"));
	g_free(out);
	g_free(err);
	g_assert_cmpint(run_sim(prof, &out, &err), ==, 2);
	g_assert_nonnull(strstr(err, "nosuch.ini"));
	g_free(out);
	g_free(err);
	g_free(trace);
}

/* The same inputs give the same bytes, summary and JSON alike. */
static void test_rerun_byte_identical(void)
{
	char *trace = tmp_file("good.trace", good);
	char *j1 = tmp_file("1.json", NULL), *j2 = tmp_file("2.json", NULL);
	const char *a1[] = { "--policy=abort", "--json", j1, trace, NULL };
	const char *a2[] = { "--policy=abort", "--json", j2, trace, NULL };
	char *o1, *o2, *e1, *e2, *t1, *t2;

	g_assert_cmpint(run_sim(a1, &o1, &e1), ==, 0);
	g_assert_cmpint(run_sim(a2, &o2, &e2), ==, 0);
	g_assert_cmpstr(o1, ==, o2);
	g_assert_true(g_file_get_contents(j1, &t1, NULL, NULL));
	g_assert_true(g_file_get_contents(j2, &t2, NULL, NULL));
	g_assert_cmpstr(t1, ==, t2);
	/* the JSON carries the resolved configuration and the results */
	g_assert_nonnull(strstr(t1, "\"cmo_site\" : \"abort\""));
	g_assert_nonnull(strstr(t1, "\"dc_civac_cold\" : \"20\""));
	g_assert_nonnull(strstr(t1, "\"mmio\" : 1"));
	g_assert_nonnull(strstr(o1, "makespan:"));
	g_free(o1); g_free(o2); g_free(e1); g_free(e2); g_free(t1); g_free(t2);
	g_free(j1); g_free(j2); g_free(trace);
}

static JsonNode *load_json(const char *path)
{
	JsonParser *p = json_parser_new();
	GError *err = NULL;
	JsonNode *root;

	g_assert_true(json_parser_load_from_file(p, path, &err));
	g_assert_no_error(err);
	root = json_node_copy(json_parser_get_root(p));
	g_object_unref(p);
	return root;
}

/*
 * Every cycle of every vCPU is in exactly one timeline span: guest compute,
 * a fault step, a lock wait or a barrier.  So each vCPU's spans add up to
 * the cycle it finished at, as the JSON reports it.
 */
static void test_timeline_accounts_every_cycle(void)
{
	char *trace = tmp_file("tl.trace",
		"s2sim-trace 1\nvcpus 3\nmemslot 0 gpa=0x40000000 size=64M backing=thp\n"
		"end-header\n0 10 W 0x40000000\n1 0 R 0x40001000\n2 5 X 0x40200000\n"
		"vmm 100 dirty-log on 0\n0 0 W 0x40002000\n1 7 W 0x40003000\n2 1 R 0x40400000\n");
	char *tl = tmp_file("tl.json", NULL), *js = tmp_file("tl-run.json", NULL);
	const char *args[] = { "--policy=abort", "-q", "--timeline", tl, "--json", js, trace, NULL };
	char *out, *err;
	JsonNode *troot, *jroot;
	JsonArray *events, *vcpus;
	uint64_t sum[3] = { 0 };

	g_assert_cmpint(run_sim(args, &out, &err), ==, 0);
	troot = load_json(tl);
	jroot = load_json(js);
	events = json_object_get_array_member(json_node_get_object(troot), "traceEvents");
	for (guint i = 0; i < json_array_get_length(events); i++) {
		JsonObject *e = json_array_get_object_element(events, i);

		/* vCPU rows only: tid 3 is the host's (MMU notifiers), which sum[] has no room for */
		if (strcmp(json_object_get_string_member(e, "ph"), "X") ||
		    json_object_get_int_member(e, "tid") >= (gint64)G_N_ELEMENTS(sum))
			continue;
		sum[json_object_get_int_member(e, "tid")] +=
			json_object_get_int_member(json_object_get_object_member(e, "args"), "cycles");
	}
	vcpus = json_object_get_array_member(json_node_get_object(jroot), "vcpus");
	for (int v = 0; v < 3; v++) {
		JsonObject *o = json_array_get_object_element(vcpus, v);

		g_assert_cmpuint(sum[v], ==, json_object_get_int_member(o, "finished"));
		g_assert_cmpuint(sum[v], >, 0);
	}
	json_node_unref(troot);
	json_node_unref(jroot);
	g_free(out); g_free(err); g_free(tl); g_free(js); g_free(trace);
}

/*
 * The model's invariants (sim --check: lock exclusion, no store below a
 * broken entry, every actor finishes, cycles conserved per vCPU, totals equal
 * per-vCPU sums, walker CMOs <= leaves installed) hold on the shipped
 * workloads under every shipped policy and profile.
 */
static void test_check_shipped_workloads(void)
{
	static const char *const traces[] = { "workloads/migrate.trace", "workloads/startup.trace" };
	static const char *const policies[] = { "abort", "handler", "handler-rw", "parallel",
						"parallel-eager-split", "prelock-cmo" };
	static const char *const profiles[] = { "kunpeng920", "graviton3" };

	for (guint t = 0; t < G_N_ELEMENTS(traces); t++) {
		char *trace = g_build_filename(g_getenv("S2SIM_SOURCE_DIR"), traces[t], NULL);

		for (guint p = 0; p < G_N_ELEMENTS(policies); p++) {
			for (guint q = 0; q < G_N_ELEMENTS(profiles); q++) {
				char *pol = g_strdup_printf("--policy=%s", policies[p]);
				char *prof = g_strdup_printf("--profile=%s", profiles[q]);
				const char *args[] = { "--check", "--quiet", pol, prof, trace, NULL };
				char *out, *err;

				if (run_sim(args, &out, &err) != 0)
					g_error("%s %s %s: %s", traces[t], pol, prof, err);
				g_free(out);
				g_free(err);
				g_free(pol);
				g_free(prof);
			}
		}
		g_free(trace);
	}
}

static void test_list_policies(void)
{
	const char *args[] = { "--list-policies", NULL };
	char *out, *err;

	g_assert_cmpint(run_sim(args, &out, &err), ==, 0);
	g_assert_nonnull(strstr(out, "abort"));
	g_assert_nonnull(strstr(out, "v5.13"));
	g_assert_nonnull(strstr(out, "handler"));
	g_assert_nonnull(strstr(out, "25aa28691bb9"));
	g_free(out);
	g_free(err);
}

int main(int argc, char **argv)
{
	int ret;

	g_test_init(&argc, &argv, NULL);
	tmp_dir = g_dir_make_tmp("s2cli-XXXXXX", NULL);
	g_test_add_func("/sim/cli/bad-line-exit-2-no-json", test_bad_line_exit_2_and_no_json);
	g_test_add_func("/sim/cli/unknown-option-policy-profile", test_unknown_option_and_policy);
	g_test_add_func("/sim/cli/rerun-byte-identical", test_rerun_byte_identical);
	g_test_add_func("/sim/cli/list-policies", test_list_policies);
	g_test_add_func("/sim/check/shipped-workloads-every-policy", test_check_shipped_workloads);
	g_test_add_func("/sim/cli/timeline-accounts-every-cycle", test_timeline_accounts_every_cycle);
	ret = g_test_run();
	g_autofree char *cmd = g_strdup_printf("rm -rf '%s'", tmp_dir);
	if (system(cmd)) {}
	return ret;
}
