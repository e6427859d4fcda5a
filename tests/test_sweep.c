/*
 * tests/test_sweep.c - bench/sweep and bench/plot as a user meets them: the
 * CSV's columns and values against each run's JSON, --jobs not changing a
 * byte, a sweep killed with SIGKILL resuming to the same CSV, every figure
 * drawn as non-empty PNG/SVG/PDF, and --slurm on a one-node cluster on
 * localhost (skipped, saying why, where Slurm cannot run).
 */
#include <errno.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char *tmp_dir;

/* The small sweep every test shares: 2 vCPU counts x 2 policies. */
#define SMALL "--workload", "migrate", "--mem", "256M", "--vcpus", "1,2", "--policy", "abort,handler"

static char *src_path(const char *rel)
{
	return g_build_filename(g_getenv("S2SIM_SOURCE_DIR"), rel, NULL);
}

static char *tmp_path(const char *name)
{
	return g_build_filename(tmp_dir, name, NULL);
}

static GPtrArray *argv_of(const char *tool, const char *const *args)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);

	g_ptr_array_add(argv, src_path(tool));
	for (; *args; args++)
		g_ptr_array_add(argv, g_strdup(*args));
	g_ptr_array_add(argv, NULL);
	return argv;
}

/* Run bench/TOOL ARGS...; return its exit status, stderr in *err if wanted. */
static int run_env(const char *tool, const char *const *args, char **envp, char **err)
{
	GPtrArray *argv = argv_of(tool, args);
	GError *gerr = NULL;
	char *out = NULL, *e = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, envp, G_SPAWN_DEFAULT, NULL, NULL,
				   &out, &e, &status, &gerr));
	g_assert_no_error(gerr);
	g_ptr_array_free(argv, TRUE);
	g_free(out);
	if (err)
		*err = e;
	else {
		if (!g_spawn_check_wait_status(status, NULL))
			g_printerr("%s: %s", tool, e);
		g_free(e);
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int run(const char *tool, const char *const *args, char **err)
{
	return run_env(tool, args, NULL, err);
}

static char *slurp(const char *path)
{
	char *text = NULL;
	GError *err = NULL;

	g_file_get_contents(path, &text, NULL, &err);
	g_assert_no_error(err);
	return text;
}

/* A sweep of SMALL into tmp_dir/NAME with --jobs JOBS, done once. */
static char *small_sweep(const char *name, const char *jobs)
{
	char *out = tmp_path(name);
	char *csv = g_build_filename(out, "results.csv", NULL);

	if (!g_file_test(csv, G_FILE_TEST_EXISTS)) {
		const char *args[] = { SMALL, "--jobs", jobs, "--out", out, NULL };

		g_assert_cmpint(run("bench/sweep", args, NULL), ==, 0);
	}
	g_free(csv);
	return out;
}

static char **csv_lines(const char *dir, const char *file)
{
	char *path = g_build_filename(dir, file, NULL);
	char *text = slurp(path);
	char **lines;

	g_assert_true(g_str_has_suffix(text, "\n"));
	text[strlen(text) - 1] = '\0';
	lines = g_strsplit(text, "\n", -1);
	g_free(text);
	g_free(path);
	return lines;
}

static int column(char **header, const char *name)
{
	for (int i = 0; header[i]; i++)
		if (!strcmp(header[i], name))
			return i;
	g_error("results.csv has no column %s", name);
	return -1;
}

static gint64 member_int(JsonObject *o, const char *path)
{
	char **parts = g_strsplit(path, ".", -1);
	gint64 v;
	int i;

	for (i = 0; parts[i + 1]; i++)
		o = json_object_get_object_member(o, parts[i]);
	v = json_object_get_int_member(o, parts[i]);
	g_strfreev(parts);
	return v;
}

static void test_bad_arguments(void)
{
	const char *vcpus[] = { "--workload", "migrate", "--vcpus", "1,x", "--out", "never", NULL };
	const char *policy[] = { "--workload", "migrate", "--policy", "nosuch", NULL };
	const char *nowork[] = { "--vcpus", "1", NULL };
	const char *opt[] = { "--frobnicate", NULL };
	char *err;

	g_assert_cmpint(run("bench/sweep", vcpus, &err), ==, 2);
	g_assert_cmpstr(err, ==, "sweep: --vcpus: 'x' is not a positive integer\n");
	g_assert_false(g_file_test("never", G_FILE_TEST_EXISTS));
	g_free(err);
	g_assert_cmpint(run("bench/sweep", policy, &err), ==, 2);
	g_assert_nonnull(strstr(err, "unknown policy 'nosuch'"));
	g_assert_true(strchr(err, '\n') == err + strlen(err) - 1);  /* one line */
	g_free(err);
	g_assert_cmpint(run("bench/sweep", nowork, &err), ==, 2);
	g_assert_nonnull(strstr(err, "--workload is required"));
	g_free(err);
	g_assert_cmpint(run("bench/sweep", opt, &err), ==, 2);
	g_assert_nonnull(strstr(err, "--frobnicate"));
	g_free(err);
}

/* Header, one row per point in sweep order, values equal to the JSON's. */
static void test_csv_schema_and_values(void)
{
	static const char *const want[] = {
		"workload", "vcpus", "mem", "backing", "seed", "policy", "profile", "freq_mhz",
		"makespan_cycles", "makespan_ms", "speedup_over_abort", "faults_translation",
		"outcomes_eagain", "dclean_bytes", "dclean_abort_site_bytes", "cmo_avoided_bytes",
		"lock_wait_p50_cycles", "lock_wait_p99_cycles", "lock_wait_max_cycles",
		"lock_wait_total_cycles", "lock_hold_cycles", "kind_exit_entry_cycles",
		"kind_lock_wait_cycles", "kind_dcache_clean_cycles", "kind_tlbi_cycles",
		"fault_latency_mean_cycles", NULL };
	/* JSON totals member, CSV column */
	static const char *const pairs[][2] = {
		{ "makespan_cycles", "makespan_cycles" },
		{ "faults.translation", "faults_translation" },
		{ "outcomes.eagain", "outcomes_eagain" },
		{ "dclean_bytes", "dclean_bytes" },
		{ "dclean_abort_site_bytes", "dclean_abort_site_bytes" },
		{ "dclean_calls", "dclean_calls" },
		{ "iinval_bytes", "iinval_bytes" },
		{ "tlbi.bbm_table_vmid", "tlbi_bbm_table_vmid" },
		{ "lock_wait_p99", "lock_wait_p99_cycles" },
		{ "lock_wait_total", "lock_wait_total_cycles" },
		{ "lock_hold_cycles", "lock_hold_cycles" },
		{ "cycles_by_kind.lock_wait", "kind_lock_wait_cycles" },
		{ "cycles_by_kind.dcache_clean", "kind_dcache_clean_cycles" },
	};
	static const char *const order[][2] = {
		{ "1", "abort" }, { "1", "handler" }, { "2", "abort" }, { "2", "handler" } };
	char *out = small_sweep("a", "2");
	char *runs = g_build_filename(out, "runs", NULL);
	char **lines = csv_lines(out, "results.csv");
	char **header = g_strsplit(lines[0], ",", -1);
	int ncol = g_strv_length(header);
	GDir *dir;
	const char *name;
	int njson = 0;

	g_assert_cmpstr(lines[0], !=, "");
	for (int i = 0; want[i]; i++)
		column(header, want[i]);
	g_assert_cmpint(g_strv_length(lines), ==, 1 + 4);
	for (int r = 0; r < 4; r++) {
		char **f = g_strsplit(lines[r + 1], ",", -1);

		g_assert_cmpint(g_strv_length(f), ==, ncol);
		g_assert_cmpstr(f[column(header, "workload")], ==, "migrate");
		g_assert_cmpstr(f[column(header, "vcpus")], ==, order[r][0]);
		g_assert_cmpstr(f[column(header, "policy")], ==, order[r][1]);
		g_assert_cmpstr(f[column(header, "profile")], ==, "kunpeng920");
		g_assert_cmpstr(f[column(header, "mem")], ==, "256M");
		g_strfreev(f);
	}
	/* Every run's JSON against its row. */
	dir = g_dir_open(runs, 0, NULL);
	g_assert_nonnull(dir);
	while ((name = g_dir_read_name(dir))) {
		char *path = g_build_filename(runs, name, NULL);
		JsonParser *p = json_parser_new();
		GError *err = NULL;
		JsonObject *root, *totals;
		char **f = NULL;
		char *vcpus;
		const char *policy;
		double freq, ms;

		g_assert_true(g_str_has_suffix(name, ".json"));
		json_parser_load_from_file(p, path, &err);
		g_assert_no_error(err);
		root = json_node_get_object(json_parser_get_root(p));
		totals = json_object_get_object_member(root, "totals");
		policy = json_object_get_string_member(
			json_object_get_object_member(json_object_get_object_member(root, "config"), "policy"),
			"name");
		vcpus = g_strdup_printf("%" G_GINT64_FORMAT, member_int(root, "config.trace.vcpus"));
		for (int r = 1; lines[r] && !f; r++) {
			char **g = g_strsplit(lines[r], ",", -1);

			if (!strcmp(g[column(header, "vcpus")], vcpus) &&
			    !strcmp(g[column(header, "policy")], policy))
				f = g;
			else
				g_strfreev(g);
		}
		g_assert_nonnull(f);
		for (size_t i = 0; i < G_N_ELEMENTS(pairs); i++) {
			char *v = g_strdup_printf("%" G_GINT64_FORMAT, member_int(totals, pairs[i][0]));

			g_assert_cmpstr(f[column(header, pairs[i][1])], ==, v);
			g_free(v);
		}
		g_assert_cmpint(g_ascii_strtoll(f[column(header, "cmo_avoided_bytes")], NULL, 10), ==,
				member_int(totals, "dclean_abort_site_bytes") -
					member_int(totals, "dclean_bytes"));
		freq = g_ascii_strtod(json_object_get_string_member(
			json_object_get_object_member(json_object_get_object_member(root, "config"),
						      "profile"), "freq_mhz"), NULL);
		ms = member_int(totals, "makespan_cycles") / (freq * 1e3);
		g_assert_cmpfloat_with_epsilon(g_ascii_strtod(f[column(header, "makespan_ms")], NULL),
					       ms, ms * 1e-8);
		if (!strcmp(policy, "abort"))
			g_assert_cmpstr(f[column(header, "speedup_over_abort")], ==, "1");
		g_strfreev(f);
		g_free(vcpus);
		g_object_unref(p);
		g_free(path);
		njson++;
	}
	g_dir_close(dir);
	g_assert_cmpint(njson, ==, 4);
	g_strfreev(lines);
	/* vcpus.csv: one row per vCPU of every run. */
	lines = csv_lines(out, "vcpus.csv");
	g_assert_cmpint(g_strv_length(lines), ==, 1 + 1 + 1 + 2 + 2);
	g_assert_true(g_str_has_prefix(lines[0], "workload,vcpus,mem,backing,seed,policy,profile,"));
	g_assert_nonnull(strstr(lines[0], ",fault_latency_mean_cycles"));
	g_strfreev(lines);
	g_strfreev(header);
	g_free(runs);
	g_free(out);
}

static void assert_same_file(const char *a_dir, const char *b_dir, const char *file)
{
	char *a = g_build_filename(a_dir, file, NULL), *b = g_build_filename(b_dir, file, NULL);
	char *ta = slurp(a), *tb = slurp(b);

	g_assert_cmpstr(ta, ==, tb);
	g_free(ta);
	g_free(tb);
	g_free(a);
	g_free(b);
}

static void test_jobs_do_not_change_the_csv(void)
{
	char *two = small_sweep("a", "2"), *one = small_sweep("b", "1");

	assert_same_file(one, two, "results.csv");
	assert_same_file(one, two, "vcpus.csv");
	g_free(one);
	g_free(two);
}

static GHashTable *json_mtimes(const char *runs)
{
	GHashTable *h = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
	GDir *dir = g_dir_open(runs, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		char *path = g_build_filename(runs, name, NULL);
		struct stat st;

		g_assert_cmpint(stat(path, &st), ==, 0);
		g_hash_table_insert(h, g_strdup(name),
				    g_strdup_printf("%ld.%09ld", (long)st.st_mtim.tv_sec,
						    (long)st.st_mtim.tv_nsec));
		g_free(path);
	}
	if (dir)
		g_dir_close(dir);
	return h;
}

/* SIGKILL a sweep once it has finished two points; the rerun runs only the
 * missing ones and writes the same CSV as a sweep never interrupted. */
static void test_resume_after_kill(void)
{
#define BIG "--workload", "migrate", "--mem", "256M", "--vcpus", "1,2,3,4", \
	"--policy", "abort,handler,handler-rw", "--jobs", "1"
	char *killed = tmp_path("killed"), *whole = tmp_path("whole");
	char *runs = g_build_filename(killed, "runs", NULL);
	char *csv = g_build_filename(killed, "results.csv", NULL);
	const char *args_k[] = { BIG, "--out", killed, NULL };
	const char *args_w[] = { BIG, "--out", whole, NULL };
	GPtrArray *argv = argv_of("bench/sweep", args_k);
	GError *gerr = NULL;
	GHashTable *before, *after;
	GHashTableIter it;
	gpointer k, v;
	GPid pid;
	int status, n = 0;

	g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, NULL,
				    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
				    &pid, &gerr));
	g_assert_no_error(gerr);
	for (int i = 0; i < 3000 && n < 2; i++) {
		GHashTable *h = json_mtimes(runs);

		n = g_hash_table_size(h);
		g_hash_table_unref(h);
		if (n < 2)
			g_usleep(5000);
	}
	g_assert_cmpint(kill(pid, SIGKILL), ==, 0);
	g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
	g_spawn_close_pid(pid);
	g_assert_true(WIFSIGNALED(status));
	g_assert_cmpint(n, >=, 2);
	/* Killed mid-sweep: no CSV yet, and not every point done. A point that
	 * was running when the sweep died may still land; let it. */
	g_assert_false(g_file_test(csv, G_FILE_TEST_EXISTS));
	g_usleep(500000);
	before = json_mtimes(runs);
	g_assert_cmpint(g_hash_table_size(before), <, 12);

	g_assert_cmpint(run("bench/sweep", args_k, NULL), ==, 0);
	after = json_mtimes(runs);
	g_assert_cmpint(g_hash_table_size(after), ==, 12);
	g_hash_table_iter_init(&it, before);
	while (g_hash_table_iter_next(&it, &k, &v))
		g_assert_cmpstr(g_hash_table_lookup(after, k), ==, v);  /* not rerun */
	g_assert_cmpint(run("bench/sweep", args_w, NULL), ==, 0);
	assert_same_file(killed, whole, "results.csv");
	assert_same_file(killed, whole, "vcpus.csv");
	g_hash_table_unref(before);
	g_hash_table_unref(after);
	g_ptr_array_free(argv, TRUE);
	g_free(csv);
	g_free(runs);
	g_free(whole);
	g_free(killed);
#undef BIG
}

/*
 * SIGKILL a sweep at random moments (seeded: during trace generation, a
 * point's run, the CSV's writing - wherever the dice fall), several times
 * over; the final CSVs equal an uninterrupted sweep's byte for byte.
 */
static void test_resume_after_random_kills(void)
{
#define RANDOM_KILLS_SWEEP "--workload", "migrate", "--mem", "256M", "--vcpus", "1,2,3", \
	"--policy", "abort,handler", "--jobs", "2"
	char *killed = tmp_path("rkilled"), *whole = tmp_path("rwhole");
	const char *args_k[] = { RANDOM_KILLS_SWEEP, "--out", killed, NULL };
	const char *args_w[] = { RANDOM_KILLS_SWEEP, "--out", whole, NULL };
	GPtrArray *argv = argv_of("bench/sweep", args_k);
	GRand *dice = g_rand_new_with_seed(20261126);

	for (int round = 0; round < 5; round++) {
		GError *gerr = NULL;
		GPid pid;
		int status;

		g_assert_true(g_spawn_async(NULL, (char **)argv->pdata, NULL,
					    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL |
					    G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL, &pid, &gerr));
		g_assert_no_error(gerr);
		g_usleep(g_rand_int_range(dice, 0, 1500000));
		kill(pid, SIGKILL);	/* it may have finished already: fine */
		g_assert_cmpint(waitpid(pid, &status, 0), ==, pid);
		g_spawn_close_pid(pid);
	}
	g_usleep(300000);	/* let an orphaned sim or gen finish or die */
	g_assert_cmpint(run("bench/sweep", args_k, NULL), ==, 0);
	g_assert_cmpint(run("bench/sweep", args_w, NULL), ==, 0);
	assert_same_file(killed, whole, "results.csv");
	assert_same_file(killed, whole, "vcpus.csv");
	g_rand_free(dice);
	g_ptr_array_free(argv, TRUE);
	g_free(whole);
	g_free(killed);
#undef RANDOM_KILLS_SWEEP
}

static void assert_figure(const char *dir, const char *name)
{
	static const char *const fmts[] = { "png", "svg", "pdf" };
	static const char *const magic[] = { "\x89PNG", "<?xml", "%PDF" };

	for (int i = 0; i < 3; i++) {
		char *file = g_strdup_printf("%s.%s", name, fmts[i]);
		char *path = g_build_filename(dir, file, NULL);
		char *text = NULL;
		gsize len = 0;

		g_assert_true(g_file_get_contents(path, &text, &len, NULL));
		g_assert_cmpuint(len, >, 1000);
		g_assert_true(g_str_has_prefix(text, magic[i]));
		g_free(text);
		g_free(path);
		g_free(file);
	}
}

static void test_plots(void)
{
	static const char *const figures[] = {
		"makespan", "speedup", "cmo", "lockwait", "latency_cdf", "cycles", NULL };
	char *gp = g_find_program_in_path("gnuplot");
	char *out, *csv, *plots, *trace, *timeline, *sim, *err;

	if (!gp) {
		g_test_skip("gnuplot is not installed (scripts/setup installs gnuplot-nox)");
		return;
	}
	out = small_sweep("a", "2");
	csv = g_build_filename(out, "results.csv", NULL);
	plots = g_build_filename(out, "figs", NULL);
	{
		const char *args[] = { csv, plots, NULL };

		g_assert_cmpint(run("bench/plot", args, &err), ==, 0);
		g_assert_cmpstr(err, ==, "");
		g_free(err);
	}
	for (int i = 0; figures[i]; i++)
		assert_figure(plots, figures[i]);

	/* A Gantt chart of a sim --timeline window. */
	trace = tmp_path("tl.trace");
	timeline = tmp_path("tl.json");
	sim = g_build_filename(g_getenv("S2SIM_BUILD_DIR"), "sim", "sim", NULL);
	{
		char *gen = g_build_filename(g_getenv("S2SIM_BUILD_DIR"), "workloads", "gen", NULL);
		char *cmd = g_strdup_printf("%s migrate --vcpus 3 --mem 256M -o %s && %s --policy=abort "
					    "--quiet --timeline %s %s", gen, trace, sim, timeline, trace);
		const char *args[] = { "--timeline", timeline, "--window", "0:3000000", plots, NULL };
		char *sh[] = { "/bin/sh", "-c", cmd, NULL };
		int status;

		g_assert_true(g_spawn_sync(NULL, sh, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
					   &status, NULL));
		g_assert_true(g_spawn_check_wait_status(status, NULL));
		g_assert_cmpint(run("bench/plot", args, &err), ==, 0);
		g_assert_cmpstr(err, ==, "");
		g_free(err);
		g_free(cmd);
		g_free(gen);
	}
	assert_figure(plots, "tl");
	g_free(sim);
	g_free(timeline);
	g_free(trace);
	g_free(plots);
	g_free(csv);
	g_free(out);
	g_free(gp);
}

/* bench/sweep --slurm on a one-node cluster (bench/slurm-local) gives the
 * same CSV as the local sweep. */
static void test_slurm(void)
{
	char *sbatch = g_find_program_in_path("sbatch");
	char *state = tmp_path("slurm"), *out = tmp_path("s"), *local, *err = NULL, *csv;
	const char *start[] = { "start", state, NULL }, *stop[] = { "stop", state, NULL };
	const char *args[] = { SMALL, "--slurm", "--out", out, NULL };
	char **envp = NULL, *conf;
	int rc, submit = -1;
	gboolean done = FALSE;

	if (!sbatch || !g_file_test("/usr/sbin/slurmctld", G_FILE_TEST_IS_EXECUTABLE)) {
		g_test_skip("Slurm is not installed (scripts/setup installs slurmctld slurmd "
			    "slurm-client munge)");
		goto out;
	}
	rc = run("bench/slurm-local", start, &err);
	if (rc == 77) {
		char *msg = g_strdup_printf("Slurm cannot start here: %s", g_strstrip(err));

		g_test_skip(msg);
		g_free(msg);
		goto out;
	}
	g_assert_cmpint(rc, ==, 0);
	conf = g_build_filename(state, "slurm.conf", NULL);
	envp = g_environ_setenv(g_get_environ(), "SLURM_CONF", conf, TRUE);
	g_free(conf);
	csv = g_build_filename(out, "results.csv", NULL);
	submit = run_env("bench/sweep", args, envp, NULL);
	/* The gather job writes results.csv after the array succeeded. */
	for (int i = 0; submit == 0 && i < 600 && !done; i++) {
		done = g_file_test(csv, G_FILE_TEST_EXISTS);
		if (!done)
			g_usleep(100000);
	}
	g_free(csv);
	run("bench/slurm-local", stop, NULL);
	g_assert_cmpint(submit, ==, 0);
	g_assert_true(done);
	local = small_sweep("a", "2");
	assert_same_file(local, out, "results.csv");
	assert_same_file(local, out, "vcpus.csv");
	g_free(local);
out:
	g_strfreev(envp);
	g_free(err);
	g_free(out);
	g_free(state);
	g_free(sbatch);
}

static void rm_rf(const char *path)
{
	GDir *dir = g_dir_open(path, 0, NULL);
	const char *name;

	while (dir && (name = g_dir_read_name(dir))) {
		char *p = g_build_filename(path, name, NULL);

		if (g_file_test(p, G_FILE_TEST_IS_DIR) && !g_file_test(p, G_FILE_TEST_IS_SYMLINK))
			rm_rf(p);
		else
			g_unlink(p);
		g_free(p);
	}
	if (dir)
		g_dir_close(dir);
	g_rmdir(path);
}

int main(int argc, char **argv)
{
	int rc;

	g_test_init(&argc, &argv, NULL);
	if (!g_getenv("S2SIM_SOURCE_DIR") || !g_getenv("S2SIM_BUILD_DIR"))
		g_error("run under CTest: S2SIM_SOURCE_DIR and S2SIM_BUILD_DIR must be set");
	tmp_dir = g_dir_make_tmp("s2sweep-XXXXXX", NULL);
	g_assert_nonnull(tmp_dir);
	g_assert_cmpint(g_chdir(tmp_dir), ==, 0);
	g_test_add_func("/sweep/bad-arguments", test_bad_arguments);
	g_test_add_func("/sweep/csv-schema-and-values", test_csv_schema_and_values);
	g_test_add_func("/sweep/jobs-do-not-change-the-csv", test_jobs_do_not_change_the_csv);
	g_test_add_func("/sweep/resume-after-kill", test_resume_after_kill);
	g_test_add_func("/sweep/resume-after-random-kills", test_resume_after_random_kills);
	g_test_add_func("/sweep/plots", test_plots);
	g_test_add_func("/sweep/slurm", test_slurm);
	rc = g_test_run();
	if (rc == 0)
		rm_rf(tmp_dir);
	g_free(tmp_dir);
	return rc;
}
