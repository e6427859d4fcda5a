/*
 * workloads/gen.c - write a synthetic s2sim trace for one scenario.
 *
 *   gen SCENARIO [--vcpus N] [--mem SIZE] [--backing 4k|thp|hugetlb-2m|hugetlb-1g]
 *       [--seed S] [scenario options] -o FILE
 *
 * The same arguments and seed always give the same bytes.  A bad option is
 * reported once, naming the option, with exit status 2 and no output file:
 * the writer builds the file beside its destination and only renames it
 * into place on success.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wl.h"

#define EXIT_USAGE	2

/* first_touch.c: streams its records itself (workloads/README.md) */
extern const struct wl_scenario wl_first_touch;

static const struct wl_scenario *const scenarios[] = {
	&wl_startup,
	&wl_migrate,
	&wl_dirty_log,
	&wl_kvm_page_table_test,
	&wl_dirty_log_perf_test,
	&wl_first_touch,
};

static struct wl_params params = { .backing = -1 };
static char *output;

static gboolean parse_vcpus(const char *name, const char *val, gpointer data, GError **err)
{
	uint64_t n;

	if (!s2_parse_size(val, &n) || n < 1 || n > S2_TRACE_MAX_VCPUS)
		return wl_option_error(err, "%s: '%s' is not a vCPU count (1..%d)", name, val,
				       S2_TRACE_MAX_VCPUS);
	params.nr_vcpus = n;
	return TRUE;
}

static gboolean parse_mem(const char *name, const char *val, gpointer data, GError **err)
{
	return wl_parse_size_option(name, val, SZ_4K, &params.mem, err);
}

static gboolean parse_backing(const char *name, const char *val, gpointer data, GError **err)
{
	enum s2_backing b;

	if (!s2_backing_parse(val, &b))
		return wl_option_error(err, "%s: unknown backing '%s' (4k, thp, hugetlb-2m, hugetlb-1g)",
				       name, val);
	params.backing = b;
	return TRUE;
}

static gboolean parse_seed(const char *name, const char *val, gpointer data, GError **err)
{
	char *end;

	if (!*val || *val == '-' || (params.seed = g_ascii_strtoull(val, &end, 0), *end))
		return wl_option_error(err, "%s: '%s' is not an unsigned integer", name, val);
	return TRUE;
}

/* -v and -b double as kvm_page_table_test's own short options. */
static GOptionEntry common_entries[] = {
	{ "vcpus", 'v', 0, G_OPTION_ARG_CALLBACK, parse_vcpus,
	  "Number of vCPUs (scenario default)", "N" },
	{ "mem", 'b', 0, G_OPTION_ARG_CALLBACK, parse_mem,
	  "Guest memory size (scenario default)", "SIZE" },
	{ "backing", 0, 0, G_OPTION_ARG_CALLBACK, parse_backing,
	  "Host memory behind guest RAM: 4k, thp, hugetlb-2m, hugetlb-1g", "TYPE" },
	{ "seed", 0, 0, G_OPTION_ARG_CALLBACK, parse_seed,
	  "Seed of the one random generator (default 0)", "S" },
	{ "output", 'o', 0, G_OPTION_ARG_FILENAME, &output,
	  "Trace file to write", "FILE" },
	{ NULL }
};

static const struct wl_scenario *find_scenario(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++)
		if (!strcmp(scenarios[i]->name, name))
			return scenarios[i];
	return NULL;
}

static char *scenario_list(void)
{
	GString *s = g_string_new("Scenarios:\n");

	for (size_t i = 0; i < G_N_ELEMENTS(scenarios); i++)
		g_string_append_printf(s, "  %-22s %s\n", scenarios[i]->name,
				       scenarios[i]->summary);
	g_string_append(s, "\nSee workloads/README.md; 'gen SCENARIO --help' lists its options.");
	return g_string_free(s, FALSE);
}

/* --help shows the chosen scenario's defaults, not a placeholder. */
static void describe_defaults(const struct wl_scenario *sc)
{
	static char vcpus[64], mem[64], backing[96];

	g_snprintf(vcpus, sizeof(vcpus), "Number of vCPUs (default %u)", sc->default_vcpus);
	g_snprintf(mem, sizeof(mem), "Guest memory size (default %" G_GUINT64_FORMAT "M)",
		   (guint64)(sc->default_mem >> 20));
	g_snprintf(backing, sizeof(backing), "Host memory behind guest RAM: 4k, thp, "
		   "hugetlb-2m, hugetlb-1g (default %s)", s2_backing_name(sc->default_backing));
	common_entries[0].description = vcpus;
	common_entries[1].description = mem;
	common_entries[2].description = backing;
}

static GOptionContext *make_context(const struct wl_scenario *sc)
{
	GOptionContext *ctx = g_option_context_new(sc ? sc->name : "SCENARIO");
	char *desc = scenario_list();

	if (sc)
		describe_defaults(sc);
	g_option_context_add_main_entries(ctx, common_entries, NULL);
	if (sc && sc->entries)
		g_option_context_add_main_entries(ctx, sc->entries, NULL);
	g_option_context_set_summary(ctx, sc ? sc->summary : "Write a synthetic s2sim trace.");
	g_option_context_set_description(ctx, desc);
	g_free(desc);
	return ctx;
}

static int usage_error(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("gen: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_USAGE;
}

/* Fill what the command line left out with the scenario's defaults. */
static void apply_defaults(const struct wl_scenario *sc)
{
	if (!params.nr_vcpus)
		params.nr_vcpus = sc->default_vcpus;
	if (!params.mem)
		params.mem = sc->default_mem;
	if (params.backing < 0)
		params.backing = sc->default_backing;
	params.output = output;
}

static int generate(const struct wl_scenario *sc)
{
	struct wl_trace *t = wl_trace_new(&params);
	GError *err = NULL;
	bool ok = sc->generate(t, &err) && wl_trace_commit(t, &err);
	int ret = 0;

	if (!ok) {
		fprintf(stderr, "gen: %s: %s\n", sc->name, err->message);
		/* a header that does not validate came from the options too */
		ret = err->domain == WL_ERROR || (err->domain == S2_TRACE_ERROR &&
			err->code == S2_TRACE_ERROR_PARSE) ? EXIT_USAGE : EXIT_FAILURE;
		g_error_free(err);
	}
	wl_trace_free(t);	/* aborts the writer if it was not committed */
	return ret;
}

int main(int argc, char **argv)
{
	const struct wl_scenario *sc = NULL;
	GOptionContext *ctx;
	GError *err = NULL;
	int ret;

	/* The scenario comes first: it decides which options exist. */
	if (argc > 1 && argv[1][0] != '-') {
		sc = find_scenario(argv[1]);
		if (!sc)
			return usage_error("unknown scenario '%s' (try --help)", argv[1]);
		argv[1] = argv[0];
		argc--;
		argv++;
	}
	ctx = make_context(sc);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		ret = usage_error("%s", err->message);
		g_error_free(err);
		g_option_context_free(ctx);
		return ret;
	}
	g_option_context_free(ctx);
	if (!sc)
		return usage_error("no scenario given (try --help)");
	if (argc > 1)
		return usage_error("unexpected argument '%s'", argv[1]);
	if (!output)
		return usage_error("-o FILE is required");
	apply_defaults(sc);
	ret = generate(sc);
	g_free(output);
	return ret;
}
