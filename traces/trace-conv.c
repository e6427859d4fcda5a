/*
 * traces/trace-conv.c - convert a trace between the text and binary
 * encodings, or import the text of `perf script`, `trace-cmd report` or
 * ftrace (tracefs trace / trace_pipe).
 *
 *   trace-conv [--to text|binary|binary-zstd]
 *              [--from s2sim|perf-script|trace-cmd|ftrace|auto] [--layout FILE] IN OUT
 *
 * Exit status 0 on success, 2 on a bad option or bad input; OUT is written
 * whole or not at all.
 */
#include <stdio.h>
#include <string.h>

#include "import.h"

enum encoding {
	TO_TEXT,
	TO_BINARY,
	TO_BINARY_ZSTD,
};

static const char *const encoding_names[] = {
	[TO_TEXT] = "text",
	[TO_BINARY] = "binary",
	[TO_BINARY_ZSTD] = "binary-zstd",
};

static char *opt_to, *opt_from, *opt_layout;

static const GOptionEntry entries[] = {
	{ "to", 't', 0, G_OPTION_ARG_STRING, &opt_to,
	  "Output encoding: text, binary or binary-zstd (default: binary, or text for a binary input)", "ENC" },
	{ "from", 'f', 0, G_OPTION_ARG_STRING, &opt_from,
	  "Input: s2sim (a trace in any encoding, the default), perf-script, trace-cmd, ftrace "
	  "or auto", "FMT" },
	{ "layout", 'l', 0, G_OPTION_ARG_FILENAME, &opt_layout,
	  "Memslot layout for an import: text header lines (ipa-bits, freq-mhz, memslot)", "FILE" },
	{ NULL }
};

static int fail(const char *fmt, ...) G_GNUC_PRINTF(1, 2);

static int fail(const char *fmt, ...)
{
	va_list ap;

	fputs("trace-conv: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return 2;
}

static bool parse_encoding(const char *s, enum encoding *out)
{
	for (size_t i = 0; i < G_N_ELEMENTS(encoding_names); i++) {
		if (!strcmp(s, encoding_names[i])) {
			*out = i;
			return true;
		}
	}
	return false;
}

/* NULL *out means auto-detection; false for an unknown name. */
static bool parse_from(const char *s, bool *import, const struct s2_import_format **out)
{
	*import = strcmp(s, "s2sim") != 0;
	*out = NULL;
	if (!strcmp(s, "s2sim") || !strcmp(s, "auto"))
		return true;
	for (size_t i = 0; s2_import_formats[i]; i++)
		if (!strcmp(s, s2_import_formats[i]->name))
			*out = s2_import_formats[i];
	return *out != NULL;
}

static void print_import_summary(const char *in, const char *layout,
				 const struct s2_import_stats *st)
{
	fprintf(stderr, "trace-conv: imported %s (%s): %" G_GUINT64_FORMAT " lines, %"
		G_GUINT64_FORMAT " guest faults\n", in, st->tool, st->lines, st->faults);
	fprintf(stderr, "  translation %" G_GUINT64_FORMAT ", access-flag %" G_GUINT64_FORMAT
		" (kvm_access_fault %" G_GUINT64_FORMAT "), permission %" G_GUINT64_FORMAT "\n",
		st->translation, st->access_flag, st->access_fault_events, st->permission);
	fprintf(stderr, "  written %" G_GUINT64_FORMAT " RAM accesses for %u vCPUs\n",
		st->accesses, st->nr_vcpus);
	fprintf(stderr, "  guest: vmreg %" G_GUINT64_FORMAT " (kvm_toggle_cache) + %" G_GUINT64_FORMAT
		" (trap_reg without a toggle), setway %" G_GUINT64_FORMAT ", reset %" G_GUINT64_FORMAT
		" (inferred from PSCI CPU_OFF/SYSTEM_RESET), trap_reg of other registers %"
		G_GUINT64_FORMAT "\n", st->toggles, st->vmreg_inferred, st->set_way, st->resets,
		st->trap_reg_other);
	fprintf(stderr, "  host: unmap %" G_GUINT64_FORMAT ", change-pte %" G_GUINT64_FORMAT
		"; dropped: outside every memslot %" G_GUINT64_FORMAT ", a fault's own copy-on-write %"
		G_GUINT64_FORMAT "\n", st->host_unmaps, st->change_ptes, st->host_no_slot,
		st->host_in_fault);
	if (st->lost_events)
		fprintf(stderr, "  warning: ftrace lost %" G_GUINT64_FORMAT " events (ring buffer "
			"overrun): the trace is incomplete\n", st->lost_events);
	fprintf(stderr, "  mmio %" G_GUINT64_FORMAT " (kept apart, not written)\n", st->mmio);
	fprintf(stderr, "  unsupported-fsc %" G_GUINT64_FORMAT ", repeated %" G_GUINT64_FORMAT
		", other-events %" G_GUINT64_FORMAT "\n", st->unsupported, st->repeats, st->ignored);
	fprintf(stderr, "  deltas: %s\n", st->run_time ?
		"guest run time (kvm_entry to kvm_exit)" : "time between a thread's faults");
	if (st->default_layout)
		fprintf(stderr, "  memslots: derived from the faulting IPAs (no --layout)\n");
	else
		fprintf(stderr, "  memslots: from %s\n", layout);
}

static struct s2_writer *open_writer(const char *out, enum encoding to,
				     const struct s2_trace_header *h, GError **err)
{
	if (to == TO_TEXT)
		return s2_text_writer_open(out, h, err);
	return s2_binary_writer_open(out, h, to == TO_BINARY_ZSTD, err);
}

static bool copy_records(struct s2_source *src, struct s2_writer *w, GError **err)
{
	struct s2_record r;
	int ret;

	while ((ret = s2_source_next(src, &r, err)) > 0)
		if (!s2_writer_put(w, &r, err))
			return false;
	return ret == 0;
}

int main(int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("IN OUT - convert or import an s2sim trace");
	const struct s2_import_format *fmt = NULL;
	struct s2_import_stats st;
	struct s2_source *src;
	struct s2_writer *w;
	enum encoding to = TO_BINARY;
	GError *err = NULL;
	bool import = false;
	int ret = 0;

	g_option_context_add_main_entries(ctx, entries, NULL);
	if (!g_option_context_parse(ctx, &argc, &argv, &err)) {
		g_option_context_free(ctx);
		ret = fail("%s", err->message);
		g_error_free(err);
		return ret;
	}
	g_option_context_free(ctx);
	if (argc != 3)
		return fail("expected IN OUT (see --help)");
	if (opt_to && !parse_encoding(opt_to, &to))
		return fail("--to: unknown encoding '%s' (text, binary, binary-zstd)", opt_to);
	if (opt_from && !parse_from(opt_from, &import, &fmt))
		return fail("--from: unknown input '%s' (s2sim, perf-script, trace-cmd, ftrace, auto)",
			    opt_from);
	if (opt_layout && !import)
		return fail("--layout: only for an import (--from perf-script, trace-cmd, ftrace or auto)");
	if (import && !fmt && (src = s2_source_open(argv[1], NULL)))
		import = false;		/* --from auto found an s2sim trace */
	else if (import)
		src = s2_import_open(argv[1], fmt, opt_layout, &st, &err);
	else
		src = s2_source_open(argv[1], &err);
	if (!src)
		goto out;
	if (!opt_to && strncmp(src->encoding, "binary", 6) == 0)
		to = TO_TEXT;
	w = open_writer(argv[2], to, &src->hdr, &err);
	if (w && copy_records(src, w, &err))
		s2_writer_commit(w, &err);
	else if (w)
		s2_writer_abort(w);
	if (!err && import)
		print_import_summary(argv[1], opt_layout, &st);
	s2_source_close(src);
out:
	if (err) {
		ret = fail("%s", err->message);
		g_error_free(err);
	}
	return ret;
}
