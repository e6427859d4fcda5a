/*
 * traces/trace-conv.c - convert a trace between the text and binary
 * encodings, or import the text of `perf script`, `trace-cmd report` or
 * ftrace (tracefs trace / trace_pipe).
 *
 *   trace-conv [--to text|binary|binary-zstd]
 *              [--from s2sim|perf-script|trace-cmd|ftrace|auto] [--layout FILE]
 *              [--counts FILE] IN OUT
 *
 * --counts writes, as JSON, what the imported recording itself counted:
 * faults by type, guest and host events from the tracepoints, and the
 * calls the function tracer (and kprobes) recorded (traces/import_calls.c),
 * for bench/validate --boot to set beside the simulator's replay.
 *
 * Exit status 0 on success, 2 on a bad option or bad input; OUT is written
 * whole or not at all.
 */
#include <json-glib/json-glib.h>
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

static char *opt_to, *opt_from, *opt_layout, *opt_counts;

static const GOptionEntry entries[] = {
	{ "to", 't', 0, G_OPTION_ARG_STRING, &opt_to,
	  "Output encoding: text, binary or binary-zstd (default: binary, or text for a binary input)", "ENC" },
	{ "from", 'f', 0, G_OPTION_ARG_STRING, &opt_from,
	  "Input: s2sim (a trace in any encoding, the default), perf-script, trace-cmd, ftrace "
	  "or auto", "FMT" },
	{ "layout", 'l', 0, G_OPTION_ARG_FILENAME, &opt_layout,
	  "Memslot layout for an import: text header lines (ipa-bits, freq-mhz, memslot)", "FILE" },
	{ "counts", 'c', 0, G_OPTION_ARG_FILENAME, &opt_counts,
	  "Write the counts the imported recording holds (tracepoints, function tracer, kprobes) "
	  "as JSON", "FILE" },
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
	if (st->function_lines)
		fprintf(stderr, "  function tracer: %" G_GUINT64_FORMAT " lines; kvm_pgtable_stage2_map %"
			G_GUINT64_FORMAT " (faults) + %" G_GUINT64_FORMAT " (change_pte) + %" G_GUINT64_FORMAT
			" (ioremap), relax_perms %" G_GUINT64_FORMAT ", clean_dcache_guest_page %"
			G_GUINT64_FORMAT " + %" G_GUINT64_FORMAT " (whole-VM flush) + %" G_GUINT64_FORMAT
			" (unmap), invalidate_icache_guest_page %" G_GUINT64_FORMAT "\n",
			st->function_lines, st->calls[S2_CALL_MAP_FAULT], st->calls[S2_CALL_MAP_CHANGE_PTE],
			st->calls[S2_CALL_MAP_IOREMAP], st->calls[S2_CALL_RELAX],
			st->calls[S2_CALL_DCLEAN_MAP], st->calls[S2_CALL_DCLEAN_VMFLUSH],
			st->calls[S2_CALL_DCLEAN_UNMAP], st->calls[S2_CALL_IINVAL]);
	if (st->probe_events)
		fprintf(stderr, "  kprobes: %" G_GUINT64_FORMAT " events, D-cache %" G_GUINT64_FORMAT
			" bytes, I-cache %" G_GUINT64_FORMAT " bytes\n", st->probe_events,
			st->dclean_bytes, st->iinval_bytes);
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

/* Counted from the records on their way out: a toggle that changed the state flushed. */
struct rec_counts {
	uint64_t toggle_flushes;
};

static bool copy_records(struct s2_source *src, struct s2_writer *w, struct rec_counts *rc,
			 GError **err)
{
	struct s2_record r;
	int ret;

	while ((ret = s2_source_next(src, &r, err)) > 0) {
		if (r.kind == S2_REC_VMREG &&
		    !(r.arg & S2_CACHES_BEFORE) != !(r.arg & S2_CACHES_AFTER))
			rc->toggle_flushes++;
		if (!s2_writer_put(w, &r, err))
			return false;
	}
	return ret == 0;
}

static void add_count(JsonBuilder *b, const char *key, uint64_t v)
{
	json_builder_set_member_name(b, key);
	json_builder_add_int_value(b, (gint64)v);
}

/*
 * What the recording counted, for bench/validate --boot.  "tracepoints":
 * always; whole-VM flushes are the toggles that changed the cache state
 * (kvm_toggle_cache flushes exactly then) plus every kvm_set_way_flush
 * event (emitted only when it flushes).  "functions" and "kprobes": null
 * unless the recording had such lines.
 */
static char *counts_json(const char *in, const struct s2_import_stats *st,
			 const struct rec_counts *rc)
{
	JsonBuilder *b = json_builder_new();
	JsonGenerator *g = json_generator_new();
	JsonNode *root;
	char *text;

	json_builder_begin_object(b);
	json_builder_set_member_name(b, "input");
	json_builder_add_string_value(b, in);
	json_builder_set_member_name(b, "tool");
	json_builder_add_string_value(b, st->tool);
	json_builder_set_member_name(b, "tracepoints");
	json_builder_begin_object(b);
	add_count(b, "guest_faults", st->faults);
	add_count(b, "translation", st->translation);
	add_count(b, "access_flag", st->access_flag);
	add_count(b, "permission", st->permission);
	add_count(b, "mmio", st->mmio);
	add_count(b, "unsupported", st->unsupported);
	add_count(b, "accesses_written", st->accesses);
	add_count(b, "repeats", st->repeats);
	add_count(b, "toggles", st->toggles);
	add_count(b, "vmreg_inferred", st->vmreg_inferred);
	add_count(b, "set_way_flushes", st->set_way);
	add_count(b, "vmflush_by_toggle", rc->toggle_flushes);
	add_count(b, "vmflushes", rc->toggle_flushes + st->set_way);
	add_count(b, "resets", st->resets);
	add_count(b, "host_unmaps", st->host_unmaps);
	add_count(b, "change_ptes", st->change_ptes);
	add_count(b, "notifier_in_own_fault", st->host_in_fault);
	add_count(b, "notifier_outside_memslots", st->host_no_slot);
	add_count(b, "lost_events", st->lost_events);
	json_builder_end_object(b);
	json_builder_set_member_name(b, "functions");
	if (st->function_lines) {
		json_builder_begin_object(b);
		add_count(b, "lines", st->function_lines);
		for (int i = 0; i < S2_CALL_NR; i++)
			add_count(b, s2_import_call_names[i], st->calls[i]);
		json_builder_end_object(b);
	} else {
		json_builder_add_null_value(b);
	}
	json_builder_set_member_name(b, "kprobes");
	if (st->probe_events) {
		json_builder_begin_object(b);
		add_count(b, "events", st->probe_events);
		add_count(b, "dclean_bytes", st->dclean_bytes);
		add_count(b, "iinval_bytes", st->iinval_bytes);
		json_builder_end_object(b);
	} else {
		json_builder_add_null_value(b);
	}
	json_builder_end_object(b);
	root = json_builder_get_root(b);
	json_generator_set_root(g, root);
	json_generator_set_pretty(g, TRUE);
	text = json_generator_to_data(g, NULL);
	json_node_unref(root);
	g_object_unref(g);
	g_object_unref(b);
	return text;
}

/* Atomically: a reader never sees half a file. */
static bool write_counts(const char *path, const char *in, const struct s2_import_stats *st,
			 const struct rec_counts *rc, GError **err)
{
	char *text = counts_json(in, st, rc);
	bool ok = g_file_set_contents(path, text, -1, err);

	g_free(text);
	return ok;
}

int main(int argc, char **argv)
{
	GOptionContext *ctx = g_option_context_new("IN OUT - convert or import an s2sim trace");
	const struct s2_import_format *fmt = NULL;
	struct s2_import_stats st;
	struct rec_counts rc = { 0 };
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
	if (opt_counts && !import)
		return fail("--counts: only for an import (--from perf-script, trace-cmd, ftrace or auto)");
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
	if (w && copy_records(src, w, &rc, &err))
		s2_writer_commit(w, &err);
	else if (w)
		s2_writer_abort(w);
	if (!err && opt_counts && !import)	/* --from auto found an s2sim trace */
		g_set_error(&err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO,
			    "--counts: %s is an s2sim trace, not a recording", argv[1]);
	else if (!err && opt_counts)
		write_counts(opt_counts, argv[1], &st, &rc, &err);
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
