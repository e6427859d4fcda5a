/*
 * traces/text.c - the text trace format (traces/FORMAT.md): a streaming
 * reader that never holds more than one line, and an atomic writer.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"

#define TEXT_MAGIC	"s2sim-trace"
#define MAX_LINE	4096
#define MAX_FIELDS	16

#define READ_CHUNK	(1 << 20)

struct text_source {
	struct s2_source base;
	FILE *f;
	uint64_t lineno;
	char *line;		/* the current line, inside buf, NUL-terminated */
	char *buf;		/* READ_CHUNK + MAX_LINE + 2 bytes */
	size_t pos, len;	/* unread bytes: buf[pos .. len) */
	bool eof;
};

#define parse_err(t, err, ...) \
	s2_trace_error_at(err, (t)->base.path, (t)->lineno, __VA_ARGS__)

/* Move the unread tail to the front and read more after it: false at end of file. */
static bool refill(struct text_source *t, GError **err)
{
	size_t got;

	if (t->eof)
		return false;
	memmove(t->buf, t->buf + t->pos, t->len - t->pos);
	t->len -= t->pos;
	t->pos = 0;
	got = fread(t->buf + t->len, 1, READ_CHUNK, t->f);
	t->len += got;
	if (got < READ_CHUNK) {
		t->eof = true;
		if (ferror(t->f)) {
			g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO,
				    "%s: read error: %s", t->base.path, g_strerror(errno));
			return false;
		}
	}
	return got > 0;
}

/*
 * One line into t->line, without its newline: 1, or 0 at the end of the
 * file, -1 on error.  Read in large chunks and split with memchr; a NUL
 * byte is an error rather than an end of line (fgets cannot tell them
 * apart: text after a NUL would be dropped silently).
 */
static int read_line(struct text_source *t, GError **err)
{
	char *start, *nl;
	size_t len;
	unsigned char high = 0;

	t->lineno++;
	for (;;) {
		start = t->buf + t->pos;
		nl = memchr(start, '\n', t->len - t->pos);
		if (nl || t->len - t->pos > MAX_LINE)
			break;
		if (!refill(t, err)) {
			if (err && *err)
				return -1;
			break;
		}
	}
	start = t->buf + t->pos;
	len = nl ? (size_t)(nl - start) : t->len - t->pos;
	if (len > MAX_LINE)
		return parse_err(t, err, "line longer than %d characters", MAX_LINE), -1;
	if (!nl && !len) {
		t->lineno--;	/* there was no line */
		return 0;
	}
	t->pos += len + (nl != NULL);
	if (memchr(start, '\0', len))
		return parse_err(t, err, "NUL byte at column %zu: not a text trace",
				 (size_t)((char *)memchr(start, '\0', len) - start) + 1), -1;
	start[len] = '\0';
	for (size_t i = 0; i < len; i++)
		high |= start[i];
	t->line = start;
	/* phase names reach the JSON output, which must be UTF-8 */
	if (high & 0x80 && !g_utf8_validate(start, len, NULL))
		return parse_err(t, err, "not UTF-8 text"), -1;
	return 1;
}

/*
 * Next meaningful line split into fields; comments and blank lines skipped.
 * Returns the field count, 0 at end of file, -1 on error.
 */
static int next_line(struct text_source *t, char **field, GError **err)
{
	for (;;) {
		int n = 0, ret = read_line(t, err);
		char *p;

		if (ret <= 0)
			return ret;
		for (p = t->line; *p && *p != '#';) {
			if (*p == ' ' || *p == '\t' || *p == '\r') {
				*p++ = '\0';
				continue;
			}
			if (n == MAX_FIELDS) {
				parse_err(t, err, "too many fields");
				return -1;
			}
			field[n++] = p;
			while (*p && *p != ' ' && *p != '\t' && *p != '\r' && *p != '#')
				p++;
		}
		*p = '\0';	/* a comment runs to the end of the line */
		if (n)
			return n;
	}
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if ((c | 0x20) >= 'a' && (c | 0x20) <= 'f')
		return (c | 0x20) - 'a' + 10;
	return -1;
}

/* Decimal, or hexadecimal after 0x (FORMAT.md): no sign, no octal, no overflow. */
static bool parse_u64(const char *s, uint64_t *out)
{
	uint64_t v = 0;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		s += 2;
		if (!*s)
			return false;
		for (; *s; s++) {
			int d = hex_digit(*s);

			if (d < 0 || v >> 60)
				return false;
			v = v << 4 | d;
		}
	} else {
		if (!*s)
			return false;
		for (; *s; s++) {
			unsigned d = (unsigned)(*s - '0');

			if (d > 9 || v > UINT64_MAX / 10 ||
			    (v == UINT64_MAX / 10 && d > UINT64_MAX % 10))
				return false;
			v = v * 10 + d;
		}
	}
	*out = v;
	return true;
}

static bool parse_u32(const char *s, uint32_t max, uint32_t *out)
{
	uint64_t v;

	if (!parse_u64(s, &v) || v > max)
		return false;
	*out = v;
	return true;
}

/* memslot ID gpa=.. size=.. backing=.. [hva=..] [populated=yes|no] [readonly] */
static bool parse_memslot(struct text_source *t, char **f, int n, GError **err)
{
	struct s2_trace_header *h = &t->base.hdr;
	struct s2_memslot *s;
	bool have_gpa = false, have_size = false, have_backing = false, have_hva = false;
	GError *verr = NULL;

	if (h->nr_slots == S2_TRACE_MAX_SLOTS)
		return parse_err(t, err, "more than %d memslots", S2_TRACE_MAX_SLOTS);
	s = &h->slots[h->nr_slots];
	memset(s, 0, sizeof(*s));
	if (n < 2 || !parse_u32(f[1], UINT16_MAX, &s->id))
		return parse_err(t, err, "memslot: expected an id (0..65535)");
	for (int i = 2; i < n; i++) {
		char *eq = strchr(f[i], '=');
		const char *val = eq ? eq + 1 : NULL;

		if (eq)
			*eq = '\0';
		if (!strcmp(f[i], "readonly") && !val) {
			s->readonly = true;
		} else if (!val) {
			return parse_err(t, err, "memslot: expected key=value, got '%s'", f[i]);
		} else if (!strcmp(f[i], "gpa")) {
			have_gpa = s2_parse_size(val, &s->gpa);
			if (!have_gpa)
				return parse_err(t, err, "memslot: bad gpa '%s'", val);
		} else if (!strcmp(f[i], "size")) {
			have_size = s2_parse_size(val, &s->size);
			if (!have_size)
				return parse_err(t, err, "memslot: bad size '%s'", val);
		} else if (!strcmp(f[i], "hva")) {
			have_hva = s2_parse_size(val, &s->hva);
			if (!have_hva)
				return parse_err(t, err, "memslot: bad hva '%s'", val);
		} else if (!strcmp(f[i], "backing")) {
			have_backing = s2_backing_parse(val, &s->backing);
			if (!have_backing)
				return parse_err(t, err, "memslot: unknown backing '%s' (4k, thp, hugetlb-2m, hugetlb-1g)", val);
		} else if (!strcmp(f[i], "populated")) {
			if (strcmp(val, "yes") && strcmp(val, "no"))
				return parse_err(t, err, "memslot: populated must be yes or no");
			s->populated = !strcmp(val, "yes");
		} else {
			return parse_err(t, err, "memslot: unknown key '%s'", f[i]);
		}
	}
	if (!have_gpa || !have_size || !have_backing)
		return parse_err(t, err, "memslot: gpa=, size= and backing= are required");
	/*
	 * Without an explicit hva, place the slot at a host address with the
	 * same offset modulo 1 GiB as its gpa, as QEMU's aligned RAM blocks
	 * do, so fault_supports_stage2_huge_mapping() holds.
	 */
	if (!have_hva)
		s->hva = 0x7f0000000000ULL + s->gpa;
	if (!s2_memslot_validate(h, h->nr_slots, &verr)) {
		parse_err(t, err, "%s", verr->message);
		g_error_free(verr);
		return false;
	}
	h->nr_slots++;
	return true;
}

/*
 * A layout file (trace-conv --layout) is the body of a text header without
 * the magic line: the importer takes ipa-bits, freq-mhz and the memslots
 * from it, and the vCPU count and time unit from the kernel trace.
 */
enum header_mode {
	HEADER_TRACE,
	HEADER_LAYOUT,
};

static bool parse_magic(struct text_source *t, GError **err)
{
	struct s2_trace_header *h = &t->base.hdr;
	char *f[MAX_FIELDS];
	int n = next_line(t, f, err);

	if (n < 0)
		return false;
	if (n != 2 || strcmp(f[0], TEXT_MAGIC))
		return parse_err(t, err, "not an s2sim trace: expected '%s VERSION'", TEXT_MAGIC);
	if (!parse_u32(f[1], UINT32_MAX, &h->version) || h->version < S2_TRACE_MIN_VERSION ||
	    h->version > S2_TRACE_VERSION)
		return parse_err(t, err, "unsupported trace version '%s' (this reader knows %d..%d)",
				 f[1], S2_TRACE_MIN_VERSION, S2_TRACE_VERSION);
	return true;
}

static bool parse_header_key(struct text_source *t, char **f, int n,
			     enum header_mode mode, GError **err)
{
	struct s2_trace_header *h = &t->base.hdr;

	if (n != 2)
		return parse_err(t, err, "header: expected 'KEY VALUE'");
	if (mode == HEADER_LAYOUT && (!strcmp(f[0], "unit") || !strcmp(f[0], "vcpus")))
		return parse_err(t, err, "'%s' comes from the imported trace, not from a layout file",
				 f[0]);
	if (!strcmp(f[0], "unit")) {
		if (!strcmp(f[1], "cycles"))
			h->unit = S2_UNIT_CYCLES;
		else if (!strcmp(f[1], "ns"))
			h->unit = S2_UNIT_NS;
		else
			return parse_err(t, err, "unit must be cycles or ns");
	} else if (!strcmp(f[0], "freq-mhz")) {
		if (!parse_u32(f[1], 100000, &h->freq_mhz) || !h->freq_mhz)
			return parse_err(t, err, "freq-mhz must be 1..100000");
	} else if (!strcmp(f[0], "ipa-bits")) {
		/*
		 * Checked here, not only with the whole header: a memslot line
		 * after it is checked against 1 << ipa-bits at once, which is
		 * undefined from 64 on.
		 */
		if (!parse_u32(f[1], 48, &h->ipa_bits) || h->ipa_bits < 32)
			return parse_err(t, err, "ipa-bits must be 32..48, got '%s'", f[1]);
	} else if (!strcmp(f[0], "vcpus")) {
		if (!parse_u32(f[1], S2_TRACE_MAX_VCPUS, &h->nr_vcpus) || !h->nr_vcpus)
			return parse_err(t, err, "vcpus must be 1..%d", S2_TRACE_MAX_VCPUS);
	} else {
		return parse_err(t, err, "unknown header key '%s'", f[0]);
	}
	return true;
}

static bool parse_header_body(struct text_source *t, enum header_mode mode, GError **err)
{
	struct s2_trace_header *h = &t->base.hdr;
	char *f[MAX_FIELDS];
	GError *verr = NULL;
	bool ok;

	for (;;) {
		int n = next_line(t, f, err);

		if (n < 0)
			return false;
		if (n == 0 && mode == HEADER_LAYOUT)
			break;
		if (n == 0)
			return parse_err(t, err, "end of file inside the header (no 'end-header')");
		if (!strcmp(f[0], "end-header") && n == 1)
			break;
		ok = !strcmp(f[0], "memslot") ? parse_memslot(t, f, n, err)
					      : parse_header_key(t, f, n, mode, err);
		if (!ok)
			return false;
	}
	if (mode == HEADER_TRACE && !h->nr_vcpus)
		return parse_err(t, err, "header: 'vcpus N' is required");
	if (mode == HEADER_LAYOUT)
		h->nr_vcpus = 1;	/* only to pass the check below */
	ok = s2_trace_header_validate(h, &verr);
	if (mode == HEADER_LAYOUT)
		h->nr_vcpus = 0;
	if (!ok) {
		parse_err(t, err, "%s", verr->message);
		g_error_free(verr);
	}
	return ok;
}

static int parse_vmm(struct text_source *t, char **f, int n, struct s2_record *r,
		     GError **err)
{
	struct s2_trace_header *h = &t->base.hdr;
	uint32_t slot;

	if (n >= 3 && !strcmp(f[2], "dirty-log")) {
		if (n != 5 || (strcmp(f[3], "on") && strcmp(f[3], "off")))
			return parse_err(t, err, "expected 'vmm DELTA dirty-log on|off SLOT'"), -1;
		if (!parse_u32(f[4], UINT16_MAX, &slot) || s2_trace_slot_index(h, slot) < 0)
			return parse_err(t, err, "dirty-log: no memslot '%s'", f[4]), -1;
		r->kind = strcmp(f[3], "on") ? S2_REC_DIRTY_LOG_OFF : S2_REC_DIRTY_LOG_ON;
		r->arg = slot;
	} else if (n >= 3 && !strcmp(f[2], "unmap")) {
		if (n != 5 || !parse_u64(f[3], &r->ipa) || !s2_parse_size(f[4], &r->size))
			return parse_err(t, err, "expected 'vmm DELTA unmap IPA SIZE'"), -1;
		if ((r->ipa | r->size) & 4095 || !r->size ||
		    r->ipa + r->size > (1ULL << h->ipa_bits) || r->ipa + r->size < r->ipa)
			return parse_err(t, err, "unmap: range must be 4 KiB aligned, non-empty and inside the IPA space"), -1;
		r->kind = S2_REC_UNMAP;
	} else if (n >= 3 && !strcmp(f[2], "phase")) {
		int idx;

		if (n != 4)
			return parse_err(t, err, "expected 'vmm DELTA phase NAME'"), -1;
		idx = s2_trace_add_phase(h, f[3]);
		if (idx < 0)
			return parse_err(t, err, "more than %d phases", S2_TRACE_MAX_PHASES), -1;
		r->kind = S2_REC_PHASE;
		r->arg = idx;
	} else {
		return parse_err(t, err, "unknown VMM command '%s'", n >= 3 ? f[2] : ""), -1;
	}
	return 1;
}

static bool parse_caches(const char *s, bool *on)
{
	*on = !strcmp(s, "on");
	return *on || !strcmp(s, "off");
}

/* VCPU DELTA vmreg on|off on|off, VCPU DELTA setway, VCPU DELTA reset */
static int parse_guest_event(struct text_source *t, char **f, int n, struct s2_record *r,
			     GError **err)
{
	bool before, after;

	if (!strcmp(f[2], "vmreg")) {
		if (n != 5 || !parse_caches(f[3], &before) || !parse_caches(f[4], &after))
			return parse_err(t, err, "expected 'VCPU DELTA vmreg on|off on|off' (caches before, after)"), -1;
		r->kind = S2_REC_VMREG;
		r->arg = (before ? S2_CACHES_BEFORE : 0) | (after ? S2_CACHES_AFTER : 0);
	} else if (!strcmp(f[2], "setway") || !strcmp(f[2], "reset")) {
		if (n != 3)
			return parse_err(t, err, "expected 'VCPU DELTA %s'", f[2]), -1;
		r->kind = strcmp(f[2], "reset") ? S2_REC_SETWAY : S2_REC_RESET;
	} else {
		return parse_err(t, err, "access must be R, W or X (or vmreg, setway, reset), got '%s'",
				 f[2]), -1;
	}
	return 1;
}

/* host DELTA unmap IPA SIZE [CAUSE], host DELTA change-pte IPA */
static int parse_host(struct text_source *t, char **f, int n, struct s2_record *r, GError **err)
{
	enum s2_unmap_cause cause = S2_UNMAP_OTHER;

	r->vcpu = S2_VCPU_HOST;
	if (n >= 3 && !strcmp(f[2], "unmap")) {
		if ((n != 5 && n != 6) || !parse_u64(f[3], &r->ipa) || !s2_parse_size(f[4], &r->size))
			return parse_err(t, err, "expected 'host DELTA unmap IPA SIZE [CAUSE]'"), -1;
		if (n == 6 && !s2_unmap_cause_parse(f[5], &cause))
			return parse_err(t, err, "unmap: unknown cause '%s' (other, cow, migration, ksm, swap)",
					 f[5]), -1;
		r->kind = S2_REC_HOST_UNMAP;
		r->arg = cause;
	} else if (n == 4 && !strcmp(f[2], "change-pte")) {
		if (!parse_u64(f[3], &r->ipa))
			return parse_err(t, err, "change-pte: bad ipa '%s'", f[3]), -1;
		r->kind = S2_REC_CHANGE_PTE;
	} else {
		return parse_err(t, err, "unknown host command '%s'", n >= 3 ? f[2] : ""), -1;
	}
	return 1;
}

/* VCPU DELTA R|W|X IPA */
static int parse_access(struct text_source *t, char **f, int n, struct s2_record *r, GError **err)
{
	const struct s2_trace_header *h = &t->base.hdr;

	if (n != 4)
		return parse_err(t, err, "expected 'VCPU DELTA R|W|X IPA'"), -1;
	switch (f[2][0]) {
	case 'R': r->kind = S2_REC_READ; break;
	case 'W': r->kind = S2_REC_WRITE; break;
	case 'X': r->kind = S2_REC_EXEC; break;
	default:
		return parse_err(t, err, "access must be R, W or X, got '%s'", f[2]), -1;
	}
	if (!parse_u64(f[3], &r->ipa))
		return parse_err(t, err, "bad ipa '%s' (a decimal or 0x number)", f[3]), -1;
	if (r->ipa >= (1ULL << h->ipa_bits))
		return parse_err(t, err, "ipa '%s' is outside the %u-bit IPA space",
				 f[3], h->ipa_bits), -1;
	return 1;
}

static int text_next(struct s2_source *src, struct s2_record *r, GError **err)
{
	struct text_source *t = (struct text_source *)src;
	char *f[MAX_FIELDS];
	int n = next_line(t, f, err), ret;
	GError *verr = NULL;

	if (n <= 0)
		return n;
	memset(r, 0, sizeof(*r));
	if (n < 3)
		return parse_err(t, err, "expected 'VCPU DELTA R|W|X IPA' or 'vmm DELTA COMMAND ...'"), -1;
	if (!parse_u64(f[1], &r->delta) || r->delta > (1ULL << 48))
		return parse_err(t, err, "bad delta '%s' (0..2^48)", f[1]), -1;
	if (g_ascii_isdigit(f[0][0])) {
		/* the common case first: a vCPU's record */
		if (!parse_u32(f[0], src->hdr.nr_vcpus - 1, &r->vcpu))
			return parse_err(t, err, "vcpu '%s' is not 0..%u", f[0], src->hdr.nr_vcpus - 1), -1;
		ret = f[2][1] ? parse_guest_event(t, f, n, r, err) : parse_access(t, f, n, r, err);
	} else if (!strcmp(f[0], "vmm")) {
		r->vcpu = S2_VCPU_VMM;
		ret = parse_vmm(t, f, n, r, err);
	} else if (!strcmp(f[0], "host")) {
		ret = parse_host(t, f, n, r, err);
	} else if (!parse_u32(f[0], src->hdr.nr_vcpus - 1, &r->vcpu)) {
		return parse_err(t, err, "vcpu '%s' is not 0..%u", f[0], src->hdr.nr_vcpus - 1), -1;
	} else if (f[2][1]) {
		ret = parse_guest_event(t, f, n, r, err);
	} else {
		ret = parse_access(t, f, n, r, err);
	}
	if (ret > 0 && !s2_record_validate(&src->hdr, r, &verr)) {
		parse_err(t, err, "%s", verr->message);
		g_error_free(verr);
		return -1;
	}
	return ret;
}

static void text_close(struct s2_source *src)
{
	struct text_source *t = (struct text_source *)src;

	if (t->f)
		fclose(t->f);
	g_free(t->buf);
}

static const struct s2_source_ops text_source_ops = {
	.next = text_next,
	.close = text_close,
};

struct s2_source *s2_text_source_open(const char *path, FILE *f, GError **err)
{
	struct text_source *t = g_new0(struct text_source, 1);

	t->base.ops = &text_source_ops;
	t->base.encoding = "text";
	t->base.path = g_strdup(path);
	s2_trace_header_init(&t->base.hdr);
	t->f = f;
	t->buf = g_malloc(READ_CHUNK + MAX_LINE + 2);
	if (!parse_magic(t, err) || !parse_header_body(t, HEADER_TRACE, err)) {
		s2_source_close(&t->base);
		return NULL;
	}
	return &t->base;
}

bool s2_layout_load(const char *path, struct s2_trace_header *h, GError **err)
{
	struct text_source t = { .base.path = (char *)path };
	bool ok;

	s2_trace_header_init(&t.base.hdr);
	t.f = fopen(path, "r");
	if (!t.f) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
		return false;
	}
	t.buf = g_malloc(READ_CHUNK + MAX_LINE + 2);
	ok = parse_header_body(&t, HEADER_LAYOUT, err);
	fclose(t.f);
	g_free(t.buf);
	if (ok)
		*h = t.base.hdr;
	return ok;
}

/* ---- writer ---- */

static bool text_put(struct s2_writer *w, const struct s2_record *r, GError **err)
{
	const struct s2_trace_header *h = w->hdr;

	switch (r->kind) {
	case S2_REC_READ:
	case S2_REC_WRITE:
	case S2_REC_EXEC:
		fprintf(w->f, "%u %" PRIu64 " %s 0x%" PRIx64 "\n", r->vcpu, r->delta,
			s2_rec_kind_name(r->kind), r->ipa);
		break;
	case S2_REC_DIRTY_LOG_ON:
	case S2_REC_DIRTY_LOG_OFF:
		fprintf(w->f, "vmm %" PRIu64 " %s %u\n", r->delta,
			s2_rec_kind_name(r->kind), r->arg);
		break;
	case S2_REC_UNMAP:
		fprintf(w->f, "vmm %" PRIu64 " unmap 0x%" PRIx64 " 0x%" PRIx64 "\n",
			r->delta, r->ipa, r->size);
		break;
	case S2_REC_VMREG:
		fprintf(w->f, "%u %" PRIu64 " vmreg %s %s\n", r->vcpu, r->delta,
			r->arg & S2_CACHES_BEFORE ? "on" : "off",
			r->arg & S2_CACHES_AFTER ? "on" : "off");
		break;
	case S2_REC_SETWAY:
	case S2_REC_RESET:
		fprintf(w->f, "%u %" PRIu64 " %s\n", r->vcpu, r->delta, s2_rec_kind_name(r->kind));
		break;
	case S2_REC_HOST_UNMAP:
		fprintf(w->f, "host %" PRIu64 " unmap 0x%" PRIx64 " 0x%" PRIx64 " %s\n", r->delta,
			r->ipa, r->size, s2_unmap_cause_name(r->arg));
		break;
	case S2_REC_CHANGE_PTE:
		fprintf(w->f, "host %" PRIu64 " change-pte 0x%" PRIx64 "\n", r->delta, r->ipa);
		break;
	case S2_REC_PHASE:
		if (r->arg >= h->nr_phases) {
			g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
				    "%s: phase %u not in the header", w->path, r->arg);
			return false;
		}
		fprintf(w->f, "vmm %" PRIu64 " phase %s\n", r->delta, h->phases[r->arg]);
		break;
	default:
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
			    "%s: unknown record kind %u", w->path, r->kind);
		return false;
	}
	return true;
}

static void write_text_header(FILE *f, const struct s2_trace_header *h)
{
	fprintf(f, "%s %u\n", TEXT_MAGIC, S2_TRACE_VERSION);
	fprintf(f, "unit %s\n", h->unit == S2_UNIT_NS ? "ns" : "cycles");
	if (h->freq_mhz)
		fprintf(f, "freq-mhz %u\n", h->freq_mhz);
	fprintf(f, "ipa-bits %u\nvcpus %u\n", h->ipa_bits, h->nr_vcpus);
	for (uint32_t i = 0; i < h->nr_slots; i++) {
		const struct s2_memslot *s = &h->slots[i];

		fprintf(f, "memslot %u gpa=0x%" PRIx64 " size=0x%" PRIx64 " hva=0x%" PRIx64
			" backing=%s populated=%s%s\n", s->id, s->gpa, s->size, s->hva,
			s2_backing_name(s->backing), s->populated ? "yes" : "no",
			s->readonly ? " readonly" : "");
	}
	fprintf(f, "end-header\n");
}

static const struct s2_writer_ops text_writer_ops = {
	.put = text_put,
};

struct s2_writer *s2_text_writer_open(const char *path,
				      const struct s2_trace_header *hdr,
				      GError **err)
{
	struct s2_writer *w = g_new0(struct s2_writer, 1);

	if (!s2_writer_init(w, &text_writer_ops, path, hdr, err)) {
		g_free(w);
		return NULL;
	}
	write_text_header(w->f, hdr);
	return w;
}

