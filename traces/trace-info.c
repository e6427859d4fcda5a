/*
 * traces/trace-info.c - print what a trace holds: its header, records per
 * vCPU and per kind, the 4 KiB pages and 2 MiB blocks it touches, and how
 * many accesses of other vCPUs fall within --window of each first touch of
 * a block.  One "key: value" per line, so scripts can grep it.
 *
 *   trace-info [--window CYCLES] TRACE
 */
#include <inttypes.h>
#include <stdio.h>

#include "info.h"

#define DEFAULT_WINDOW	10000

static gint64 opt_window = DEFAULT_WINDOW;

static const GOptionEntry entries[] = {
	{ "window", 'w', 0, G_OPTION_ARG_INT64, &opt_window,
	  "Concurrency window after a block's first touch, in cycles (in ns for an ns trace without freq-mhz; default 10000)",
	  "CYCLES" },
	{ NULL }
};

static void print_header(const char *path, const struct s2_trace_info *in)
{
	const struct s2_trace_header *h = &in->hdr;

	printf("file: %s\nencoding: %s\nunit: %s\n", path, in->encoding,
	       h->unit == S2_UNIT_NS ? "ns" : "cycles");
	if (h->freq_mhz)
		printf("freq-mhz: %u\n", h->freq_mhz);
	printf("ipa-bits: %u\nvcpus: %u\nmemslots: %u\n", h->ipa_bits, h->nr_vcpus, h->nr_slots);
	for (uint32_t i = 0; i < h->nr_slots; i++) {
		const struct s2_memslot *s = &h->slots[i];

		printf("memslot %u: gpa 0x%" PRIx64 " size 0x%" PRIx64 " hva 0x%" PRIx64
		       " backing %s%s%s\n", s->id, s->gpa, s->size, s->hva,
		       s2_backing_name(s->backing), s->populated ? " populated" : "",
		       s->readonly ? " readonly" : "");
	}
	for (uint32_t i = 0; i < h->nr_phases; i++)
		printf("phase %u: %s\n", i, h->phases[i]);
}

static void print_counts(const struct s2_trace_info *in)
{
	printf("records: %" PRIu64 "\naccesses: %" PRIu64 "\nvmm-records: %" PRIu64 "\n",
	       in->records, in->accesses, in->vmm);
	for (int k = 0; k < S2_REC_NR; k++)
		printf("kind %s: %" PRIu64 "\n", s2_rec_kind_name(k), in->per_kind[k]);
	for (uint32_t v = 0; v < in->hdr.nr_vcpus; v++)
		printf("vcpu %u: %" PRIu64 "\n", v, in->per_vcpu[v]);
	printf("pages-4k: %" PRIu64 "\nblocks-2m: %" PRIu64 "\n", in->pages, in->blocks);
}

static void print_concurrency(const struct s2_trace_info *in)
{
	printf("window: %" PRIu64 " %s\n", in->window, in->in_cycles ? "cycles" : "ns");
	printf("first-touches: %" PRIu64 "\n", in->first_touches);
	printf("first-touches-shared: %" PRIu64 "\n", in->shared_first_touches);
	printf("concurrent-accesses: %" PRIu64 "\n", in->concurrent);
	printf("max-concurrent-per-first-touch: %" PRIu64 "\n", in->max_concurrent);
}

int main(int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("TRACE - what an s2sim trace holds");
	struct s2_trace_info info;
	GError *err = NULL;
	bool ok;

	g_option_context_add_main_entries(ctx, entries, NULL);
	ok = g_option_context_parse(ctx, &argc, &argv, &err);
	g_option_context_free(ctx);
	if (!ok) {
		fprintf(stderr, "trace-info: %s\n", err->message);
		g_error_free(err);
		return 2;
	}
	if (opt_window < 0) {
		fprintf(stderr, "trace-info: --window must be >= 0, got %" G_GINT64_FORMAT "\n",
			opt_window);
		return 2;
	}
	if (argc != 2) {
		fprintf(stderr, "trace-info: expected one TRACE (see --help)\n");
		return 2;
	}
	if (!s2_trace_info_compute(argv[1], opt_window, &info, &err)) {
		fprintf(stderr, "trace-info: %s\n", err->message);
		g_error_free(err);
		s2_trace_info_clear(&info);
		return 2;
	}
	print_header(argv[1], &info);
	print_counts(&info);
	print_concurrency(&info);
	s2_trace_info_clear(&info);
	return 0;
}
