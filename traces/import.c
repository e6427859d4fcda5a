/*
 * traces/import.c - the event decoding shared by the perf-script and
 * trace-cmd importers, and the in-memory source that hands out the result.
 *
 * The whole input is read before the first record is handed out: the vCPU
 * numbering (by "CPU n/KVM" names), the choice of time base and a default
 * memslot layout all depend on the complete trace.  Each thread is a small
 * state machine fed by its kvm_entry/kvm_exit/kvm_guest_fault events; a
 * fault stays pending until the thread's next entry, exit or fault, so that
 * a kvm_mmio or kvm_userspace_exit after it can mark it as MMIO.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "import.h"

#define ESR_EC_SHIFT	26
#define ESR_EC_IABT_LOW	0x20
#define ESR_EC_DABT_LOW	0x24
#define ESR_WNR		(1u << 6)
#define ESR_S1PTW	(1u << 7)
#define FSC_TYPE_MASK	0x3c
#define FSC_FAULT	0x04
#define FSC_ACCESS	0x08
#define FSC_PERM	0x0c
#define PAGE_MASK	(~4095ULL)
#define GIB_SHIFT	30

struct fault {
	uint16_t kind;
	uint8_t fsc_type;
	bool mmio;
	uint64_t ipa;
	uint64_t run, gap;	/* the two candidate deltas, in ns */
};

struct thread {
	uint32_t tid;
	int cpu_name;		/* n of "CPU n/KVM", else -1 */
	uint32_t vcpu;
	uint64_t first_line;
	uint64_t last_ts;
	bool in_guest;		/* since entry_ts */
	uint64_t entry_ts;
	uint64_t run_ns;	/* guest run time since the previous fault */
	uint64_t last_fault_ts;
	uint64_t carry_run, carry_gap;	/* time before faults that were not written */
	bool pending;
	struct fault fault;
	bool have_last;
	uint16_t last_kind;
	uint64_t last_ipa;
};

/* A RAM access before the vCPU numbering and the time base are chosen. */
struct pending_rec {
	struct thread *t;
	struct fault f;
};

struct importer {
	const char *path;
	const struct s2_import_format *fmt;
	GRegex *line_re, *noise_re;
	struct s2_trace_header layout;
	bool have_layout;
	GHashTable *by_tid;
	GPtrArray *threads;	/* in order of first appearance */
	GArray *recs;		/* struct pending_rec */
	uint64_t lineno;
	uint64_t start_ts;
	bool started, saw_entry, saw_exit;
	struct s2_import_stats *st;
};

#define line_err(im, err, ...) \
	s2_trace_error_at(err, (im)->path, (im)->lineno, __VA_ARGS__)

/* ---- per-thread state ---- */

static int cpu_name(const char *comm)
{
	unsigned n;
	char end;

	/* QEMU names its vCPU threads "CPU n/KVM" (with -name debug-threads=on) */
	if (sscanf(comm, "CPU %u/KVM%c", &n, &end) == 1 && n < S2_TRACE_MAX_VCPUS)
		return n;
	return -1;
}

static struct thread *get_thread(struct importer *im, uint32_t tid, const char *comm,
				 uint64_t ts)
{
	struct thread *t = g_hash_table_lookup(im->by_tid, GUINT_TO_POINTER(tid));

	if (t)
		return t;
	t = g_new0(struct thread, 1);
	t->tid = tid;
	t->cpu_name = cpu_name(comm);
	t->first_line = im->lineno;
	/* until its first event, a thread counts as running its guest */
	t->in_guest = true;
	t->entry_ts = t->last_fault_ts = t->last_ts = im->start_ts;
	g_hash_table_insert(im->by_tid, GUINT_TO_POINTER(tid), t);
	g_ptr_array_add(im->threads, t);
	return t;
}

static void count_fsc(struct importer *im, uint8_t type)
{
	switch (type) {
	case FSC_FAULT: im->st->translation++; break;
	case FSC_ACCESS: im->st->access_flag++; break;
	case FSC_PERM: im->st->permission++; break;
	}
}

/* The thread's fault is over: write it as a RAM access or keep it apart. */
static void resolve_fault(struct importer *im, struct thread *t)
{
	struct pending_rec pr = { .t = t, .f = t->fault };
	bool supported = pr.f.fsc_type == FSC_FAULT || pr.f.fsc_type == FSC_ACCESS ||
			 pr.f.fsc_type == FSC_PERM;

	if (!t->pending)
		return;
	t->pending = false;
	if (pr.f.mmio || !supported) {
		/* the guest time before it belongs to the next written access */
		t->carry_run += pr.f.run;
		t->carry_gap += pr.f.gap;
		if (pr.f.mmio)
			im->st->mmio++;
		else
			im->st->unsupported++;
		return;
	}
	count_fsc(im, pr.f.fsc_type);
	if (t->have_last && t->last_kind == pr.f.kind && t->last_ipa == pr.f.ipa)
		im->st->repeats++;
	t->have_last = true;
	t->last_kind = pr.f.kind;
	t->last_ipa = pr.f.ipa;
	pr.f.run += t->carry_run;
	pr.f.gap += t->carry_gap;
	t->carry_run = t->carry_gap = 0;
	g_array_append_val(im->recs, pr);
}

/* ---- events ---- */

/*
 * ESR_EL2 to an access kind.  A stage-1 walk (S1PTW) counts as a write,
 * as kvm_is_write_fault() has it in v5.13/v5.14 (from v6.1 only a
 * permission fault on a walk does).
 */
static bool decode_esr(struct importer *im, uint64_t esr, struct fault *f, GError **err)
{
	unsigned ec = esr >> ESR_EC_SHIFT & 0x3f;

	if (ec != ESR_EC_DABT_LOW && ec != ESR_EC_IABT_LOW)
		return line_err(im, err, "kvm_guest_fault: hsr 0x%" PRIx64 " is not a lower-EL abort (EC 0x%02x)",
				esr, ec);
	if (esr & ESR_S1PTW)
		f->kind = S2_REC_WRITE;
	else if (ec == ESR_EC_IABT_LOW)
		f->kind = S2_REC_EXEC;
	else
		f->kind = esr & ESR_WNR ? S2_REC_WRITE : S2_REC_READ;
	f->fsc_type = esr & FSC_TYPE_MASK;
	return true;
}

/* MMIO by the layout: no memslot, or a write to a read-only one. */
static bool outside_ram(const struct importer *im, const struct fault *f)
{
	const struct s2_memslot *s;

	if (!im->have_layout)
		return false;
	s = s2_trace_find_slot(&im->layout, f->ipa);
	return !s || (s->readonly && f->kind == S2_REC_WRITE);
}

static bool on_guest_fault(struct importer *im, struct thread *t, uint64_t ts,
			   const char *fields, GError **err)
{
	uint64_t ipa, esr, far, pc;
	struct fault f = { 0 };

	if (sscanf(fields, "ipa %" SCNx64 ", hsr %" SCNx64 ", hxfar %" SCNx64 ", pc %" SCNx64,
		   &ipa, &esr, &far, &pc) != 4)
		return line_err(im, err, "kvm_guest_fault: expected 'ipa X, hsr X, hxfar X, pc X'");
	if (!decode_esr(im, esr, &f, err))
		return false;
	f.ipa = ipa & PAGE_MASK;
	if (f.ipa >> im->layout.ipa_bits)
		return line_err(im, err, "ipa 0x%" PRIx64 " is outside the %u-bit IPA space "
				"(set ipa-bits in the --layout file)", ipa, im->layout.ipa_bits);
	resolve_fault(im, t);
	im->st->faults++;
	/* without a kvm_exit before it, the fault itself ends the guest's run */
	if (t->in_guest)
		t->run_ns += ts - t->entry_ts;
	t->in_guest = false;
	f.run = t->run_ns;
	f.gap = ts - t->last_fault_ts;
	f.mmio = outside_ram(im, &f);
	t->run_ns = 0;
	t->last_fault_ts = ts;
	t->fault = f;
	t->pending = true;
	return true;
}

static bool on_access_fault(struct importer *im, struct thread *t, uint64_t ts,
			    const char *fields, GError **err)
{
	uint64_t ipa;

	if (sscanf(fields, "IPA: %" SCNx64, &ipa) != 1)
		return line_err(im, err, "kvm_access_fault: expected 'IPA: X'");
	im->st->access_fault_events++;
	return true;
}

static bool on_kvm_exit(struct importer *im, struct thread *t, uint64_t ts,
		    const char *fields, GError **err)
{
	unsigned ec;
	uint64_t pc;

	if (sscanf(fields, "%*[A-Z_]: HSR_EC: %x (%*[A-Z0-9_]), PC: %" SCNx64, &ec, &pc) != 2)
		return line_err(im, err, "kvm_exit: expected 'TYPE: HSR_EC: 0xEC (NAME), PC: 0xPC'");
	resolve_fault(im, t);
	if (t->in_guest)
		t->run_ns += ts - t->entry_ts;
	t->in_guest = false;
	im->saw_exit = true;
	return true;
}

static bool on_kvm_entry(struct importer *im, struct thread *t, uint64_t ts,
		     const char *fields, GError **err)
{
	uint64_t pc;

	if (sscanf(fields, "PC: %" SCNx64, &pc) != 1)
		return line_err(im, err, "kvm_entry: expected 'PC: 0xPC'");
	resolve_fault(im, t);
	t->in_guest = true;
	t->entry_ts = ts;
	im->saw_entry = true;
	return true;
}

static bool on_mmio(struct importer *im, struct thread *t, uint64_t ts,
		    const char *fields, GError **err)
{
	char type[32];
	unsigned len;
	uint64_t gpa;

	if (sscanf(fields, "mmio %31s len %u gpa %" SCNx64, type, &len, &gpa) != 3)
		return line_err(im, err, "kvm_mmio: expected 'mmio TYPE len N gpa X val X'");
	if (t->pending)
		t->fault.mmio = true;
	return true;
}

static bool on_userspace_exit(struct importer *im, struct thread *t, uint64_t ts,
			      const char *fields, GError **err)
{
	char reason[64];
	int code;

	if (sscanf(fields, "reason %63s (%d)", reason, &code) != 2)
		return line_err(im, err, "kvm_userspace_exit: expected 'reason NAME (N)'");
	/* other reasons (a signal, KVM_EXIT_INTR) may follow a fault that was resolved */
	if (t->pending && (!strcmp(reason, "KVM_EXIT_MMIO") || !strcmp(reason, "KVM_EXIT_ARM_NISV")))
		t->fault.mmio = true;
	return true;
}

static const struct event_handler {
	const char *name;
	bool (*handle)(struct importer *im, struct thread *t, uint64_t ts,
		       const char *fields, GError **err);
} handlers[] = {
	{ "kvm_guest_fault", on_guest_fault },
	{ "kvm_access_fault", on_access_fault },
	{ "kvm_exit", on_kvm_exit },
	{ "kvm_entry", on_kvm_entry },
	{ "kvm_mmio", on_mmio },
	{ "kvm_userspace_exit", on_userspace_exit },
};

static const struct event_handler *find_handler(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(handlers); i++)
		if (!strcmp(handlers[i].name, name))
			return &handlers[i];
	return NULL;
}

/* ---- lines ---- */

static const struct s2_import_format *const formats[] = {
	&s2_import_perf_script,
	&s2_import_trace_cmd,
};

static GRegex *compile(const char *pattern)
{
	GError *err = NULL;
	GRegex *re = g_regex_new(pattern, G_REGEX_OPTIMIZE, 0, &err);

	/* the patterns are constants of this program */
	g_assert_no_error(err);
	return re;
}

static bool is_noise_for(const struct s2_import_format *fmt, const char *line)
{
	bool noise = false;

	if (fmt->noise) {
		GRegex *re = compile(fmt->noise);

		noise = g_regex_match(re, line, 0, NULL);
		g_regex_unref(re);
	}
	return noise;
}

/* Blank lines, perf's '#' header and callchain lines (tab-indented) carry no event. */
static bool is_noise(struct importer *im, const char *line)
{
	if (!line[strspn(line, " \r")] || line[0] == '#' || line[0] == '\t')
		return true;
	if (im->fmt)
		return im->noise_re && g_regex_match(im->noise_re, line, 0, NULL);
	for (size_t i = 0; i < G_N_ELEMENTS(formats); i++)
		if (is_noise_for(formats[i], line))
			return true;
	return false;
}

static void use_format(struct importer *im, const struct s2_import_format *fmt)
{
	im->fmt = fmt;
	im->st->tool = fmt->name;
	im->line_re = compile(fmt->line);
	im->noise_re = fmt->noise ? compile(fmt->noise) : NULL;
}

/* --from auto: the first event line names the tool. */
static bool detect_format(struct importer *im, const char *line, GError **err)
{
	for (size_t i = 0; i < G_N_ELEMENTS(formats); i++) {
		GRegex *re = compile(formats[i]->line);
		bool match = g_regex_match(re, line, 0, NULL);

		g_regex_unref(re);
		if (match) {
			use_format(im, formats[i]);
			return true;
		}
	}
	return line_err(im, err, "neither a `perf script` nor a `trace-cmd report` event line");
}

/* The parts of an event line, NUL-terminated in place. */
struct event_line {
	char *comm, *tid, *sec, *frac, *event, *fields;
};

static bool split_line(struct importer *im, char *line, struct event_line *ev)
{
	static const char *const names[] = { "comm", "tid", "sec", "frac", "event", "fields" };
	char **out[] = { &ev->comm, &ev->tid, &ev->sec, &ev->frac, &ev->event, &ev->fields };
	int pos[G_N_ELEMENTS(names)][2];
	GMatchInfo *mi;
	bool match = g_regex_match(im->line_re, line, 0, &mi);

	/* every position is fetched before the first NUL is written */
	for (size_t i = 0; match && i < G_N_ELEMENTS(names); i++)
		g_match_info_fetch_named_pos(mi, names[i], &pos[i][0], &pos[i][1]);
	g_match_info_free(mi);
	for (size_t i = 0; match && i < G_N_ELEMENTS(names); i++) {
		line[pos[i][1]] = '\0';
		*out[i] = line + pos[i][0];
	}
	return match;
}

/* "1234.567892" (any number of decimals) to ns. */
static uint64_t parse_ts(const char *sec, const char *frac)
{
	uint64_t ns = 0;

	for (int i = 0; i < 9; i++) {
		ns = ns * 10 + (*frac ? *frac - '0' : 0);
		if (*frac)
			frac++;
	}
	return strtoull(sec, NULL, 10) * 1000000000ULL + ns;
}

static bool handle_line(struct importer *im, char *line, GError **err)
{
	const struct event_handler *h;
	struct event_line ev;
	struct thread *t;
	uint64_t ts, tid;

	if (is_noise(im, line))
		return true;
	if (!im->fmt && !detect_format(im, line, err))
		return false;
	if (!split_line(im, line, &ev))
		return line_err(im, err, "not a `%s` event line", im->fmt->name);
	ts = parse_ts(ev.sec, ev.frac);
	if (!im->started) {
		im->started = true;
		im->start_ts = ts;
	}
	h = find_handler(ev.event);
	if (!h) {
		im->st->ignored++;
		return true;
	}
	tid = strtoull(ev.tid, NULL, 10);
	t = get_thread(im, tid, ev.comm, ts);
	if (ts < t->last_ts)
		return line_err(im, err, "time goes backwards on thread %" PRIu64, tid);
	t->last_ts = ts;
	return h->handle(im, t, ts, ev.fields, err);
}

static bool read_lines(struct importer *im, FILE *f, GError **err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	bool ok = true;

	while (ok && (len = getline(&line, &cap, f)) >= 0) {
		im->lineno++;
		im->st->lines++;
		if (len && line[len - 1] == '\n')
			line[--len] = '\0';
		ok = handle_line(im, line, err);
	}
	if (ok && ferror(f)) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: read error: %s",
			    im->path, g_strerror(errno));
		ok = false;
	}
	free(line);
	return ok;
}

/* ---- after the last line ---- */

/*
 * "CPU n/KVM" threads are vCPU n; the others follow the highest such n in
 * order of first appearance.  Two threads with one name mean two VMs.
 */
static bool number_vcpus(struct importer *im, GError **err)
{
	uint32_t next = 0;
	GHashTable *named = g_hash_table_new(NULL, NULL);
	bool ok = true;

	for (guint i = 0; i < im->threads->len; i++) {
		struct thread *t = im->threads->pdata[i], *other;

		if (t->cpu_name < 0)
			continue;
		other = g_hash_table_lookup(named, GINT_TO_POINTER(t->cpu_name + 1));
		if (other) {
			im->lineno = t->first_line;
			ok = line_err(im, err, "threads %u and %u are both 'CPU %d/KVM': "
				      "record one VM at a time (perf record -p PID)",
				      other->tid, t->tid, t->cpu_name);
			break;
		}
		g_hash_table_insert(named, GINT_TO_POINTER(t->cpu_name + 1), t);
		t->vcpu = t->cpu_name;
		next = MAX(next, t->vcpu + 1);
	}
	g_hash_table_destroy(named);
	for (guint i = 0; ok && i < im->threads->len; i++) {
		struct thread *t = im->threads->pdata[i];

		if (t->cpu_name < 0)
			t->vcpu = next++;
	}
	if (ok && next > S2_TRACE_MAX_VCPUS)
		ok = line_err(im, err, "more than %d vCPU threads", S2_TRACE_MAX_VCPUS);
	if (ok && !next)
		ok = line_err(im, err, "no KVM events (kvm_guest_fault, kvm_exit, kvm_entry) found");
	im->st->nr_vcpus = next;
	return ok;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Without --layout: one 4k-backed memslot per run of 1 GiB-aligned regions
 * holding faults, so every imported access is RAM to the simulator.
 */
static bool default_layout(struct importer *im, struct s2_trace_header *h, GError **err)
{
	GArray *gib = g_array_new(FALSE, FALSE, sizeof(uint64_t));
	bool ok = true;

	for (guint i = 0; i < im->recs->len; i++) {
		uint64_t g = g_array_index(im->recs, struct pending_rec, i).f.ipa >> GIB_SHIFT;

		g_array_append_val(gib, g);
	}
	qsort(gib->data, gib->len, sizeof(uint64_t), cmp_u64);
	for (guint i = 0; ok && i < gib->len;) {
		uint64_t first = g_array_index(gib, uint64_t, i), last = first;
		struct s2_memslot *s = &h->slots[h->nr_slots];

		while (i < gib->len && g_array_index(gib, uint64_t, i) <= last + 1)
			last = g_array_index(gib, uint64_t, i++);
		if (h->nr_slots == S2_TRACE_MAX_SLOTS) {
			ok = line_err(im, err, "faults spread over more than %d memslots: give --layout",
				      S2_TRACE_MAX_SLOTS);
			break;
		}
		s->id = h->nr_slots++;
		s->gpa = first << GIB_SHIFT;
		s->size = (last - first + 1) << GIB_SHIFT;
		s->hva = 0x7f0000000000ULL + s->gpa;
		s->backing = S2_BACKING_4K;
	}
	g_array_free(gib, TRUE);
	return ok;
}

/* ---- the in-memory source ---- */

struct mem_source {
	struct s2_source base;
	GArray *recs;		/* struct s2_record */
	guint next;
};

static int mem_next(struct s2_source *src, struct s2_record *r, GError **err)
{
	struct mem_source *m = (struct mem_source *)src;

	if (m->next == m->recs->len)
		return 0;
	*r = g_array_index(m->recs, struct s2_record, m->next++);
	return 1;
}

static void mem_close(struct s2_source *src)
{
	g_array_free(((struct mem_source *)src)->recs, TRUE);
}

static const struct s2_source_ops mem_source_ops = {
	.next = mem_next,
	.close = mem_close,
};

/*
 * Deltas are guest run time (kvm_entry to kvm_exit, summed since the
 * thread's previous fault) when the trace has both events, else the gap
 * between the thread's faults.
 */
static struct s2_source *make_source(struct importer *im, GError **err)
{
	struct mem_source *m = g_new0(struct mem_source, 1);
	struct s2_trace_header *h = &m->base.hdr;

	m->base.ops = &mem_source_ops;
	m->base.encoding = "import";
	m->base.path = g_strdup(im->path);
	m->recs = g_array_sized_new(FALSE, FALSE, sizeof(struct s2_record), im->recs->len);
	*h = im->layout;
	h->unit = S2_UNIT_NS;
	h->nr_vcpus = im->st->nr_vcpus;
	im->st->run_time = im->saw_entry && im->saw_exit;
	im->st->default_layout = !im->have_layout;
	if (!im->have_layout && !default_layout(im, h, err)) {
		s2_source_close(&m->base);
		return NULL;
	}
	for (guint i = 0; i < im->recs->len; i++) {
		const struct pending_rec *pr = &g_array_index(im->recs, struct pending_rec, i);
		struct s2_record r = {
			.delta = MIN(im->st->run_time ? pr->f.run : pr->f.gap, S2_TRACE_MAX_DELTA),
			.ipa = pr->f.ipa,
			.vcpu = pr->t->vcpu,
			.kind = pr->f.kind,
		};

		g_array_append_val(m->recs, r);
	}
	im->st->records = m->recs->len;
	return &m->base;
}

static void importer_free(struct importer *im)
{
	if (im->line_re)
		g_regex_unref(im->line_re);
	if (im->noise_re)
		g_regex_unref(im->noise_re);
	g_hash_table_destroy(im->by_tid);
	g_ptr_array_free(im->threads, TRUE);
	g_array_free(im->recs, TRUE);
	s2_trace_header_clear(&im->layout);
}

struct s2_source *s2_import_open(const char *path, const struct s2_import_format *format,
				 const char *layout_path, struct s2_import_stats *stats,
				 GError **err)
{
	struct importer im = {
		.path = path,
		.by_tid = g_hash_table_new(NULL, NULL),
		.threads = g_ptr_array_new_with_free_func(g_free),
		.recs = g_array_new(FALSE, FALSE, sizeof(struct pending_rec)),
		.st = stats,
	};
	struct s2_source *src = NULL;
	FILE *f;

	memset(stats, 0, sizeof(*stats));
	s2_trace_header_init(&im.layout);
	if (format)
		use_format(&im, format);
	if (layout_path) {
		if (!s2_layout_load(layout_path, &im.layout, err))
			goto out;
		im.have_layout = true;
	}
	f = fopen(path, "r");
	if (!f) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		goto out;
	}
	if (read_lines(&im, f, err)) {
		for (guint i = 0; i < im.threads->len; i++)
			resolve_fault(&im, im.threads->pdata[i]);
		if (number_vcpus(&im, err))
			src = make_source(&im, err);
	}
	fclose(f);
out:
	importer_free(&im);
	return src;
}
