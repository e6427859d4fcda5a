/*
 * traces/binary.c - the binary trace encoding (traces/FORMAT.md, "Binary
 * format"): a fixed little-endian header, a memslot table, a phase-name
 * table and 16-byte records.  A plain file is read with pread() into one
 * reused window, with no per-record allocation; a compressed one is the same
 * bytes in one zstd frame, read by streaming decompression.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include "source.h"

#define FIXED_LEN	80
#define SLOT_LEN	32
#define REC_LEN		S2_BINARY_RECORD
#define PHASES_MAX	(256 << 10)	/* fits the streaming reader's buffer */
#define OBUF_LEN	(512 << 10)
#define ESCAPE32	0xffffffffu	/* delta is in the preceding EXT_DELTA record */
#define ESCAPE24	0xffffffu	/* unmap size is in the preceding EXT_SIZE record */
#define FNV_PRIME	0x100000001b3ULL
#define ZSTD_LEVEL	3

/* Offsets in the fixed header. */
enum {
	OFF_MAGIC = 0,
	OFF_VERSION = 8,
	OFF_UNIT = 12,
	OFF_IPA_BITS = 13,
	OFF_NR_SLOTS = 14,
	OFF_FREQ = 16,
	OFF_NR_VCPUS = 20,
	OFF_NR_PHASES = 24,
	OFF_RESERVED = 28,
	OFF_RECORDS = 32,
	OFF_NR_RECORDS = 40,
	OFF_PHASES = 48,
	OFF_PHASES_LEN = 56,
	OFF_RECORDS_SUM = 64,
	OFF_HEADER_SUM = 72,
};

/* Record codes are the file's own numbering, so enum s2_rec_kind may grow. */
enum {
	CODE_READ,
	CODE_WRITE,
	CODE_EXEC,
	CODE_DIRTY_ON,
	CODE_DIRTY_OFF,
	CODE_UNMAP,
	CODE_PHASE,
	CODE_VMREG,		/* version 2 */
	CODE_SETWAY,
	CODE_RESET,
	CODE_HOST_UNMAP,
	CODE_CHANGE_PTE,
	CODE_NR,
	CODE_EXT = 15,
};

enum { EXT_DELTA, EXT_SIZE, EXT_NR };

static const uint16_t kind_of_code[CODE_NR] = {
	[CODE_READ] = S2_REC_READ,
	[CODE_WRITE] = S2_REC_WRITE,
	[CODE_EXEC] = S2_REC_EXEC,
	[CODE_DIRTY_ON] = S2_REC_DIRTY_LOG_ON,
	[CODE_DIRTY_OFF] = S2_REC_DIRTY_LOG_OFF,
	[CODE_UNMAP] = S2_REC_UNMAP,
	[CODE_PHASE] = S2_REC_PHASE,
	[CODE_VMREG] = S2_REC_VMREG,
	[CODE_SETWAY] = S2_REC_SETWAY,
	[CODE_RESET] = S2_REC_RESET,
	[CODE_HOST_UNMAP] = S2_REC_HOST_UNMAP,
	[CODE_CHANGE_PTE] = S2_REC_CHANGE_PTE,
};

static const uint8_t code_of_kind[S2_REC_NR] = {
	[S2_REC_READ] = CODE_READ,
	[S2_REC_WRITE] = CODE_WRITE,
	[S2_REC_EXEC] = CODE_EXEC,
	[S2_REC_DIRTY_LOG_ON] = CODE_DIRTY_ON,
	[S2_REC_DIRTY_LOG_OFF] = CODE_DIRTY_OFF,
	[S2_REC_UNMAP] = CODE_UNMAP,
	[S2_REC_PHASE] = CODE_PHASE,
	[S2_REC_VMREG] = CODE_VMREG,
	[S2_REC_SETWAY] = CODE_SETWAY,
	[S2_REC_RESET] = CODE_RESET,
	[S2_REC_HOST_UNMAP] = CODE_HOST_UNMAP,
	[S2_REC_CHANGE_PTE] = CODE_CHANGE_PTE,
};

static uint16_t get16(const uint8_t *p) { uint16_t v; memcpy(&v, p, 2); return GUINT16_FROM_LE(v); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return GUINT32_FROM_LE(v); }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return GUINT64_FROM_LE(v); }
static void put16(uint8_t *p, uint16_t v) { v = GUINT16_TO_LE(v); memcpy(p, &v, 2); }
static void put32(uint8_t *p, uint32_t v) { v = GUINT32_TO_LE(v); memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { v = GUINT64_TO_LE(v); memcpy(p, &v, 8); }

uint64_t s2_binary_checksum(uint64_t sum, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	/*
	 * Words, not bytes: eight times faster than byte-wise FNV-1a and, as
	 * each step is a bijection of the running sum, still certain to catch
	 * any change confined to one word.
	 */
	for (; len >= 8; len -= 8, p += 8) {
		sum ^= get64(p);
		sum *= FNV_PRIME;
	}
	for (; len; len--, p++) {
		sum ^= *p;
		sum *= FNV_PRIME;
	}
	return sum;
}

/* Where the parts of a file lie; the fixed header holds it. */
struct layout {
	uint64_t records_off;
	uint64_t nr_records;	/* 16-byte records, extensions included */
	uint64_t phases_off;
	uint64_t phases_len;
	uint64_t records_sum;
	uint64_t header_sum;
};

static uint64_t records_end(const struct layout *l)
{
	return l->records_off + l->nr_records * REC_LEN;
}

/* ---- header encoding, shared by the writer's two layouts ---- */

static void encode_fixed(uint8_t *p, const struct s2_trace_header *h,
			 const struct layout *l)
{
	memset(p, 0, FIXED_LEN);
	memcpy(p + OFF_MAGIC, S2_BINARY_MAGIC, 8);
	put32(p + OFF_VERSION, S2_BINARY_VERSION);
	p[OFF_UNIT] = h->unit;
	p[OFF_IPA_BITS] = h->ipa_bits;
	put16(p + OFF_NR_SLOTS, h->nr_slots);
	put32(p + OFF_FREQ, h->freq_mhz);
	put32(p + OFF_NR_VCPUS, h->nr_vcpus);
	put32(p + OFF_NR_PHASES, h->nr_phases);
	put64(p + OFF_RECORDS, l->records_off);
	put64(p + OFF_NR_RECORDS, l->nr_records);
	put64(p + OFF_PHASES, l->phases_off);
	put64(p + OFF_PHASES_LEN, l->phases_len);
	put64(p + OFF_RECORDS_SUM, l->records_sum);
	put64(p + OFF_HEADER_SUM, l->header_sum);
}

static void encode_slots(uint8_t *p, const struct s2_trace_header *h)
{
	for (uint32_t i = 0; i < h->nr_slots; i++, p += SLOT_LEN) {
		const struct s2_memslot *s = &h->slots[i];

		put32(p, s->id);
		put32(p + 4, s->backing | s->populated << 8 | s->readonly << 9);
		put64(p + 8, s->gpa);
		put64(p + 16, s->size);
		put64(p + 24, s->hva);
	}
}

/* u16 length + name per phase, zero-padded to 16 so records stay aligned. */
static GByteArray *encode_phases(const struct s2_trace_header *h)
{
	GByteArray *a = g_byte_array_new();
	static const uint8_t zero[16];

	for (uint32_t i = 0; i < h->nr_phases; i++) {
		uint8_t len[2];

		put16(len, strlen(h->phases[i]));
		g_byte_array_append(a, len, 2);
		g_byte_array_append(a, (const guint8 *)h->phases[i], strlen(h->phases[i]));
	}
	g_byte_array_append(a, zero, (16 - a->len % 16) % 16);
	return a;
}

/* The header sum covers the fixed header (its own field zeroed), slots and phases. */
static uint64_t header_sum(const uint8_t *fixed, const uint8_t *slots, size_t slots_len,
			   const uint8_t *phases, size_t phases_len)
{
	uint8_t f[FIXED_LEN];
	uint64_t sum;

	memcpy(f, fixed, FIXED_LEN);
	put64(f + OFF_HEADER_SUM, 0);
	sum = s2_binary_checksum(S2_BINARY_SUM_INIT, f, FIXED_LEN);
	sum = s2_binary_checksum(sum, slots, slots_len);
	return s2_binary_checksum(sum, phases, phases_len);
}

/* ---- reader ---- */

struct bin_source;

/* How the bytes of the file are reached: a pread() window or streaming decompression. */
struct bin_input_ops {
	bool (*start)(struct bin_source *b, GError **err);
	/*
	 * @len bytes at file offset @off, valid until the next call.  A
	 * streaming input only moves forward.  NULL with b->why set when the
	 * file ends early or the data is damaged.
	 */
	const uint8_t *(*peek)(struct bin_source *b, uint64_t off, size_t len);
	/* 1: nothing follows the records; 0: more data; -1: damaged (b->why) */
	int (*at_end)(struct bin_source *b);
	void (*close)(struct bin_source *b);
	bool streaming;		/* records are summed as they are read */
};

struct bin_source {
	struct s2_source base;
	const struct bin_input_ops *in;
	FILE *f;
	const char *why;
	/* plain: file bytes [win_off, win_off + win_len) are in win */
	uint8_t *win;
	uint64_t win_off;
	size_t win_len;
	uint64_t file_len;
	/* zstd */
	ZSTD_DCtx *dctx;
	uint8_t *ibuf, *obuf;
	size_t ilen, ipos, olen, opos;
	uint64_t ooff;		/* file offset of obuf[opos] */
	bool in_eof;
	bool frame_done;	/* zstd has seen the end of the frame and its checksum */
	/* decoding */
	struct layout l;
	uint64_t next;		/* records read so far */
	uint64_t sum;
	uint64_t ext[EXT_NR];
	bool have_ext[EXT_NR];
	bool done;
};

static int bin_err(struct bin_source *b, GError **err, uint64_t rec, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

/* "FILE: header: ..." for rec == 0, else "FILE: record N: ..." (N from 1). */
static int bin_err(struct bin_source *b, GError **err, uint64_t rec, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (rec)
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE, "%s: record %" PRIu64 ": %s",
			    b->base.path, rec, msg);
	else
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE, "%s: header: %s",
			    b->base.path, msg);
	g_free(msg);
	return -1;
}

/*
 * A plain file is read with pread() into one window, not mapped: the bytes
 * come from the page cache by one copy, at 8 GB/s on the machine in
 * bench/README.md, where reading them through a mapping ran at 2 GB/s even
 * with every page populated in advance.  The window holds the largest part
 * peeked whole (the phase table), stays in L2, and is the reader's only
 * memory however long the trace.
 */
#define WIN_LEN		PHASES_MAX

static bool window_start(struct bin_source *b, GError **err)
{
	struct stat st;

	if (fstat(fileno(b->f), &st)) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", b->base.path,
			    g_strerror(errno));
		return false;
	}
	b->file_len = st.st_size;
	b->win = g_malloc(WIN_LEN);
	return true;
}

/* Refill the window from @off: as much of the file as it holds, at least @len bytes. */
static bool window_fill(struct bin_source *b, uint64_t off, size_t len)
{
	size_t want = MIN(WIN_LEN, b->file_len - off), got = 0;

	while (got < want) {
		ssize_t n = pread(fileno(b->f), b->win + got, want - got, off + got);

		if (n <= 0) {
			b->why = n ? g_strerror(errno) : "file ends early";
			break;
		}
		got += n;
	}
	b->win_off = off;
	b->win_len = got;
	return got >= len;
}

static const uint8_t *window_peek(struct bin_source *b, uint64_t off, size_t len)
{
	g_assert(len <= WIN_LEN);
	if (off > b->file_len || len > b->file_len - off) {
		b->why = "file ends early";
		return NULL;
	}
	if ((off < b->win_off || off + len > b->win_off + b->win_len) && !window_fill(b, off, len))
		return NULL;
	return b->win + (off - b->win_off);
}

/* The file size was checked against the layout when it was opened. */
static int window_at_end(struct bin_source *b)
{
	return 1;
}

static void window_close(struct bin_source *b)
{
	g_free(b->win);
}

static const struct bin_input_ops window_input = {
	.start = window_start,
	.peek = window_peek,
	.at_end = window_at_end,
	.close = window_close,
};

static bool zstd_start(struct bin_source *b, GError **err)
{
	b->dctx = ZSTD_createDCtx();
	b->ibuf = g_malloc(ZSTD_DStreamInSize());
	b->obuf = g_malloc(OBUF_LEN);
	return true;
}

/* Decompress more into obuf[olen..]; false at the end of input or on damage. */
static bool zstd_fill(struct bin_source *b)
{
	for (;;) {
		ZSTD_inBuffer in;
		ZSTD_outBuffer out = { b->obuf, OBUF_LEN, b->olen };
		size_t ret;

		if (b->ipos == b->ilen && !b->in_eof) {
			b->ilen = fread(b->ibuf, 1, ZSTD_DStreamInSize(), b->f);
			b->ipos = 0;
			b->in_eof = !b->ilen;
			if (ferror(b->f))
				b->why = "read error";
		}
		if (b->ipos == b->ilen) {
			if (!b->why)
				b->why = "file ends early";
			return false;
		}
		in = (ZSTD_inBuffer){ b->ibuf, b->ilen, b->ipos };
		ret = ZSTD_decompressStream(b->dctx, &out, &in);
		b->ipos = in.pos;
		if (ZSTD_isError(ret)) {
			b->why = ZSTD_getErrorName(ret);
			return false;
		}
		b->frame_done = !ret;
		if (out.pos > b->olen) {
			b->olen = out.pos;
			return true;
		}
	}
}

static const uint8_t *zstd_peek(struct bin_source *b, uint64_t off, size_t len)
{
	if (off < b->ooff || len > OBUF_LEN) {
		b->why = "parts out of order for a compressed file";
		return NULL;
	}
	for (;;) {
		size_t avail = b->olen - b->opos;
		size_t drop = MIN(off - b->ooff, avail);

		b->opos += drop;
		b->ooff += drop;
		if (b->ooff == off && b->olen - b->opos >= len)
			return b->obuf + b->opos;
		memmove(b->obuf, b->obuf + b->opos, b->olen - b->opos);
		b->olen -= b->opos;
		b->opos = 0;
		if (!zstd_fill(b))
			return NULL;
	}
}

/* Draining the frame also makes zstd check its own content checksum. */
static int zstd_at_end(struct bin_source *b)
{
	b->ooff += b->olen - b->opos;
	b->opos = b->olen = 0;
	b->why = NULL;
	if (zstd_fill(b))
		return 0;
	if (b->in_eof && b->frame_done)
		return 1;
	if (b->in_eof)
		b->why = "the compressed frame is cut short";
	return -1;
}

static void zstd_close(struct bin_source *b)
{
	ZSTD_freeDCtx(b->dctx);
	g_free(b->ibuf);
	g_free(b->obuf);
}

static const struct bin_input_ops zstd_input = {
	.start = zstd_start,
	.peek = zstd_peek,
	.at_end = zstd_at_end,
	.close = zstd_close,
	.streaming = true,
};

static void decode_fixed(const uint8_t *p, struct s2_trace_header *h, struct layout *l)
{
	h->version = S2_TRACE_VERSION;
	h->unit = p[OFF_UNIT];
	h->ipa_bits = p[OFF_IPA_BITS];
	h->nr_slots = get16(p + OFF_NR_SLOTS);
	h->freq_mhz = get32(p + OFF_FREQ);
	h->nr_vcpus = get32(p + OFF_NR_VCPUS);
	l->records_off = get64(p + OFF_RECORDS);
	l->nr_records = get64(p + OFF_NR_RECORDS);
	l->phases_off = get64(p + OFF_PHASES);
	l->phases_len = get64(p + OFF_PHASES_LEN);
	l->records_sum = get64(p + OFF_RECORDS_SUM);
	l->header_sum = get64(p + OFF_HEADER_SUM);
}

/* The parts must not overlap, and a plain file must be exactly as long as they say. */
static int check_layout(struct bin_source *b, GError **err)
{
	const struct layout *l = &b->l;
	uint64_t tables = FIXED_LEN + (uint64_t)b->base.hdr.nr_slots * SLOT_LEN;
	uint64_t end;

	if (l->records_off % REC_LEN || l->records_off < tables ||
	    l->nr_records > (UINT64_MAX - l->records_off) / REC_LEN / 2)
		return bin_err(b, err, 0, "bad record area (offset %" PRIu64 ", %" PRIu64 " records)",
			       l->records_off, l->nr_records);
	if (l->phases_len > PHASES_MAX || l->phases_len % 16 || l->phases_off < tables ||
	    l->phases_off > UINT64_MAX / 2)
		return bin_err(b, err, 0, "bad phase table (offset %" PRIu64 ", %" PRIu64 " bytes)",
			       l->phases_off, l->phases_len);
	if (b->in->streaming && l->phases_off > l->records_off)
		return bin_err(b, err, 0, "the phase table follows the records, which a compressed file cannot do");
	/* the parts tile the file: no gap where a miscounted record could hide */
	if (!(l->phases_off == tables && l->records_off == tables + l->phases_len) &&
	    !(l->records_off == tables && l->phases_off == records_end(l)))
		return bin_err(b, err, 0, "record count mismatch: %" PRIu64 " records at byte %" PRIu64
			       " do not meet the phase table at byte %" PRIu64,
			       l->nr_records, l->records_off, l->phases_off);
	if (b->in->streaming)
		return 0;
	end = MAX(records_end(l), l->phases_off + l->phases_len);
	if (b->file_len < records_end(l))
		return bin_err(b, err, (b->file_len - MIN(b->file_len, l->records_off)) / REC_LEN + 1,
			       "truncated: the header promises %" PRIu64 " records", l->nr_records);
	if (b->file_len < end)
		return bin_err(b, err, 0, "truncated in the phase table");
	if (b->file_len > end)
		return bin_err(b, err, 0, "record count mismatch: %" PRIu64 " records and the phase table end at byte %"
			       PRIu64 " but the file holds %" PRIu64 " bytes", l->nr_records, end, b->file_len);
	return 0;
}

static int read_slots(struct bin_source *b, GError **err)
{
	struct s2_trace_header *h = &b->base.hdr;
	const uint8_t *p = b->in->peek(b, FIXED_LEN, h->nr_slots * SLOT_LEN);

	if (!p)
		return bin_err(b, err, 0, "truncated in the memslot table (%s)", b->why);
	b->sum = s2_binary_checksum(b->sum, p, h->nr_slots * SLOT_LEN);
	for (uint32_t i = 0; i < h->nr_slots; i++, p += SLOT_LEN) {
		struct s2_memslot *s = &h->slots[i];
		uint32_t flags = get32(p + 4);

		s->id = get32(p);
		s->backing = flags & 0xff;
		s->populated = flags & 1 << 8;
		s->readonly = flags & 1 << 9;
		s->gpa = get64(p + 8);
		s->size = get64(p + 16);
		s->hva = get64(p + 24);
		if (s->backing >= S2_BACKING_NR || flags >> 10 || s->id > UINT16_MAX)
			return bin_err(b, err, 0, "memslot %u: bad id or flags 0x%x", s->id, flags);
	}
	return 0;
}

/* Names must survive a trip through the text format: one blank-free token. */
static bool phase_name_ok(const uint8_t *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] <= ' ' || p[i] == '#' || p[i] == 0x7f)
			return false;
	return len > 0;
}

static int read_phases(struct bin_source *b, uint32_t nr, GError **err)
{
	struct s2_trace_header *h = &b->base.hdr;
	const uint8_t *p = b->in->peek(b, b->l.phases_off, b->l.phases_len);
	uint64_t pos = 0;

	if (!p)
		return bin_err(b, err, 0, "truncated in the phase table (%s)", b->why);
	b->sum = s2_binary_checksum(b->sum, p, b->l.phases_len);
	for (uint32_t i = 0; i < nr; i++) {
		uint16_t len;
		char *name;

		if (pos + 2 > b->l.phases_len || pos + 2 + get16(p + pos) > b->l.phases_len)
			return bin_err(b, err, 0, "phase %u runs past the phase table", i);
		len = get16(p + pos);
		if (!phase_name_ok(p + pos + 2, len))
			return bin_err(b, err, 0, "phase %u: name is empty or holds blanks", i);
		name = g_strndup((const char *)p + pos + 2, len);
		if (s2_trace_add_phase(h, name) != (int)i) {
			g_free(name);
			return bin_err(b, err, 0, "phase %u: duplicate name", i);
		}
		g_free(name);
		pos += 2 + len;
	}
	if (b->l.phases_len - pos >= 16)
		return bin_err(b, err, 0, "phase table longer than its %u names", nr);
	return 0;
}

static int read_header(struct bin_source *b, GError **err)
{
	struct s2_trace_header *h = &b->base.hdr;
	const uint8_t *p = b->in->peek(b, 0, FIXED_LEN);
	uint8_t fixed[FIXED_LEN];
	uint32_t version, nr_phases;
	GError *verr = NULL;

	if (!p)
		return bin_err(b, err, 0, "truncated (%s)", b->why);
	if (memcmp(p, S2_BINARY_MAGIC, 8))
		return bin_err(b, err, 0, "wrong magic: not an s2sim binary trace");
	version = get32(p + OFF_VERSION);
	if (version < 1 || version > S2_BINARY_VERSION)
		return bin_err(b, err, 0, "unknown version %u (this reader knows 1..%d)",
			       version, S2_BINARY_VERSION);
	memcpy(fixed, p, FIXED_LEN);
	decode_fixed(fixed, h, &b->l);
	nr_phases = get32(fixed + OFF_NR_PHASES);
	if (h->unit > S2_UNIT_NS || get32(fixed + OFF_RESERVED) ||
	    h->nr_slots > S2_TRACE_MAX_SLOTS || nr_phases > S2_TRACE_MAX_PHASES)
		return bin_err(b, err, 0, "bad unit, memslot or phase count");
	if (check_layout(b, err) < 0)
		return -1;
	put64(fixed + OFF_HEADER_SUM, 0);
	b->sum = s2_binary_checksum(S2_BINARY_SUM_INIT, fixed, FIXED_LEN);
	if (read_slots(b, err) < 0 || read_phases(b, nr_phases, err) < 0)
		return -1;
	if (b->sum != b->l.header_sum)
		return bin_err(b, err, 0, "checksum mismatch (stored 0x%016" PRIx64
			       ", computed 0x%016" PRIx64 ")", b->l.header_sum, b->sum);
	if (!s2_trace_header_validate(h, &verr)) {
		bin_err(b, err, 0, "%s", verr->message);
		g_error_free(verr);
		return -1;
	}
	b->sum = S2_BINARY_SUM_INIT;
	return 0;
}

/* A plain file is checked whole before its first record is handed out, a window at a time. */
static int check_records_sum(struct bin_source *b, GError **err)
{
	size_t off = b->l.records_off, end = off + b->l.nr_records * REC_LEN;

	if (b->in->streaming)
		return 0;
	b->sum = S2_BINARY_SUM_INIT;
	while (off < end) {
		size_t len = MIN(end - off, WIN_LEN);
		const uint8_t *p = window_peek(b, off, len);

		if (!p)
			return bin_err(b, err, (off - b->l.records_off) / REC_LEN + 1,
				       "truncated: %s (the header promises %" PRIu64 " records)",
				       b->why, b->l.nr_records);
		b->sum = s2_binary_checksum(b->sum, p, len);
		off += len;
	}
	if (b->sum != b->l.records_sum)
		return bin_err(b, err, b->l.nr_records, "checksum mismatch over the records (stored 0x%016"
			       PRIx64 ", computed 0x%016" PRIx64 ")", b->l.records_sum, b->sum);
	return 0;
}

static int take_ext(struct bin_source *b, int which, uint64_t *out, GError **err)
{
	if (!b->have_ext[which])
		return bin_err(b, err, b->next, "escaped %s without an extension record before it",
			       which == EXT_DELTA ? "delta" : "size");
	b->have_ext[which] = false;
	*out = b->ext[which];
	return 0;
}

static int decode_ext(struct bin_source *b, uint32_t w0, uint32_t field, uint64_t v,
		      GError **err)
{
	if (field >= EXT_NR || w0)
		return bin_err(b, err, b->next, "unknown extension %u", field);
	if (b->have_ext[field])
		return bin_err(b, err, b->next, "extension %u given twice", field);
	b->have_ext[field] = true;
	b->ext[field] = v;
	return 0;
}

/* 1: a record in *r; 0: an extension was absorbed; -1: error. */
static int decode_record(struct bin_source *b, const uint8_t *p, struct s2_record *r,
			 GError **err)
{
	uint32_t w0 = get32(p), w1 = get32(p + 4);
	uint32_t code = w1 & 0xf, field = w1 >> 8;
	uint64_t v = get64(p + 8);
	GError *verr = NULL;

	if (w1 & 0xf0)
		return bin_err(b, err, b->next, "reserved bits set (0x%08x)", w1);
	if (code == CODE_EXT)
		return decode_ext(b, w0, field, v, err);
	if (code >= CODE_NR)
		return bin_err(b, err, b->next, "unknown kind %u", code);
	memset(r, 0, sizeof(*r));
	r->kind = kind_of_code[code];
	r->delta = w0;
	if (w0 == ESCAPE32 && take_ext(b, EXT_DELTA, &r->delta, err) < 0)
		return -1;
	if (s2_rec_is_access(r)) {
		r->vcpu = field;
		r->ipa = v;
	} else if (s2_rec_is_vcpu(r)) {
		r->vcpu = field;
		r->arg = v;
		if (v > UINT16_MAX)
			return bin_err(b, err, b->next, "%s: argument out of range",
				       s2_rec_kind_name(r->kind));
	} else if (s2_rec_is_host(r)) {
		/* the IPA is page aligned: its low bits carry the cause */
		r->vcpu = S2_VCPU_HOST;
		r->ipa = v & ~4095ULL;
		r->arg = v & 4095;
		r->size = (uint64_t)field << 12;
		if (field == ESCAPE24 && take_ext(b, EXT_SIZE, &r->size, err) < 0)
			return -1;
	} else {
		r->vcpu = S2_VCPU_VMM;
		if (r->kind == S2_REC_UNMAP) {
			r->ipa = v;
			r->size = (uint64_t)field << 12;
			if (field == ESCAPE24 && take_ext(b, EXT_SIZE, &r->size, err) < 0)
				return -1;
		} else if (v || field > UINT16_MAX) {
			return bin_err(b, err, b->next, "%s: argument out of range",
				       s2_rec_kind_name(r->kind));
		} else {
			r->arg = field;
		}
	}
	if (b->have_ext[EXT_DELTA] || b->have_ext[EXT_SIZE])
		return bin_err(b, err, b->next, "an extension record this record does not use precedes it");
	if (!s2_record_validate(&b->base.hdr, r, &verr)) {
		bin_err(b, err, b->next, "%s", verr->message);
		g_error_free(verr);
		return -1;
	}
	return 1;
}

static int end_of_records(struct bin_source *b, GError **err)
{
	if (b->done)
		return 0;
	if (b->have_ext[EXT_DELTA] || b->have_ext[EXT_SIZE])
		return bin_err(b, err, b->next, "the last record is an extension with nothing to extend");
	if (b->in->streaming && b->sum != b->l.records_sum)
		return bin_err(b, err, b->next, "checksum mismatch over the records (stored 0x%016"
			       PRIx64 ", computed 0x%016" PRIx64 ")", b->l.records_sum, b->sum);
	switch (b->in->at_end(b)) {
	case 0:
		return bin_err(b, err, b->next, "record count mismatch: data follows the %" PRIu64
			       " records the header announces", b->l.nr_records);
	case -1:
		return bin_err(b, err, b->next, "damaged after the last record (%s)", b->why);
	}
	b->done = true;
	return 0;
}

static int binary_next(struct s2_source *src, struct s2_record *r, GError **err)
{
	struct bin_source *b = (struct bin_source *)src;

	for (;;) {
		const uint8_t *p;
		uint64_t off;
		int ret;

		if (b->next == b->l.nr_records)
			return end_of_records(b, err);
		off = b->l.records_off + b->next * REC_LEN;
		if (b->in == &window_input && off - b->win_off + REC_LEN <= b->win_len)
			p = b->win + (off - b->win_off);
		else
			p = b->in->peek(b, off, REC_LEN);
		if (!p)
			return bin_err(b, err, b->next + 1, "truncated: %s (the header promises %"
				       PRIu64 " records)", b->why, b->l.nr_records);
		b->next++;
		if (b->in->streaming)
			b->sum = s2_binary_checksum(b->sum, p, REC_LEN);
		ret = decode_record(b, p, r, err);
		if (ret)
			return ret;
	}
}

static void binary_close(struct s2_source *src)
{
	struct bin_source *b = (struct bin_source *)src;

	b->in->close(b);
	if (b->f)
		fclose(b->f);
}

static const struct s2_source_ops binary_source_ops = {
	.next = binary_next,
	.close = binary_close,
};

struct s2_source *s2_binary_source_open(const char *path, FILE *f, bool zstd,
					GError **err)
{
	struct bin_source *b = g_new0(struct bin_source, 1);

	b->base.ops = &binary_source_ops;
	b->base.encoding = zstd ? "binary-zstd" : "binary";
	b->base.path = g_strdup(path);
	s2_trace_header_init(&b->base.hdr);
	b->f = f;
	b->in = zstd ? &zstd_input : &window_input;
	if (!b->in->start(b, err) || read_header(b, err) < 0 || check_records_sum(b, err) < 0) {
		s2_source_close(&b->base);
		return NULL;
	}
	return &b->base;
}

/* ---- writer ---- */

struct bin_writer {
	struct s2_writer base;
	bool compress;
	FILE *rec;		/* base.f, or a scratch file compressed at the end */
	uint64_t nr_records;	/* 16-byte records written, extensions included */
	uint64_t sum;
};

static uint8_t *put_ext(uint8_t *p, uint32_t which, uint64_t v)
{
	put32(p, 0);
	put32(p + 4, CODE_EXT | which << 8);
	put64(p + 8, v);
	return p + REC_LEN;
}

/* One record, preceded by the extensions it needs; returns the bytes used. */
static size_t encode_record(const struct s2_record *r, uint8_t *out)
{
	uint8_t *p = out;
	uint32_t w0 = r->delta, field = 0;
	uint64_t v = 0;

	if (r->delta >= ESCAPE32) {
		p = put_ext(p, EXT_DELTA, r->delta);
		w0 = ESCAPE32;
	}
	switch (r->kind) {
	case S2_REC_READ:
	case S2_REC_WRITE:
	case S2_REC_EXEC:
		field = r->vcpu;
		v = r->ipa;
		break;
	case S2_REC_VMREG:
	case S2_REC_SETWAY:
	case S2_REC_RESET:
		field = r->vcpu;
		v = r->arg;
		break;
	case S2_REC_UNMAP:
	case S2_REC_HOST_UNMAP:
	case S2_REC_CHANGE_PTE:
		v = r->ipa | (r->kind == S2_REC_HOST_UNMAP ? r->arg : 0);
		field = r->size >> 12;
		if (field >= ESCAPE24 || r->size >> 12 >= ESCAPE24) {
			p = put_ext(p, EXT_SIZE, r->size);
			field = ESCAPE24;
		}
		break;
	default:
		field = r->arg;
		break;
	}
	put32(p, w0);
	put32(p + 4, code_of_kind[r->kind] | field << 8);
	put64(p + 8, v);
	return p + REC_LEN - out;
}

static bool write_err(struct s2_writer *w, GError **err)
{
	g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: write error: %s",
		    w->path, g_strerror(errno));
	return false;
}

static bool binary_put(struct s2_writer *base, const struct s2_record *r, GError **err)
{
	struct bin_writer *w = (struct bin_writer *)base;
	uint8_t buf[3 * REC_LEN];
	GError *verr = NULL;
	size_t len;

	if (!s2_record_validate(base->hdr, r, &verr)) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE, "%s: record %" PRIu64 ": %s",
			    base->path, base->nr_records + 1, verr->message);
		g_error_free(verr);
		return false;
	}
	len = encode_record(r, buf);
	if (fwrite(buf, 1, len, w->rec) != len)
		return write_err(base, err);
	w->sum = s2_binary_checksum(w->sum, buf, len);
	w->nr_records += len / REC_LEN;
	return true;
}

/* Fixed header and memslot table, summed together with the phase table. */
static GByteArray *encode_head(const struct s2_trace_header *h, struct layout *l,
			       const GByteArray *phases)
{
	GByteArray *head = g_byte_array_sized_new(FIXED_LEN + h->nr_slots * SLOT_LEN);

	g_byte_array_set_size(head, FIXED_LEN + h->nr_slots * SLOT_LEN);
	encode_slots(head->data + FIXED_LEN, h);
	encode_fixed(head->data, h, l);
	l->header_sum = header_sum(head->data, head->data + FIXED_LEN, h->nr_slots * SLOT_LEN,
				   phases->data, phases->len);
	encode_fixed(head->data, h, l);
	return head;
}

/* Plain: records were written after the head; the phase table goes last. */
static bool finish_plain(struct bin_writer *w, struct layout *l, GByteArray *phases,
			 GError **err)
{
	GByteArray *head;
	bool ok;

	l->records_off = FIXED_LEN + w->base.hdr->nr_slots * SLOT_LEN;
	l->phases_off = records_end(l);
	head = encode_head(w->base.hdr, l, phases);
	/* no phases: data is NULL, which fwrite must not get even for 0 bytes (UBSan) */
	ok = (!phases->len || fwrite(phases->data, 1, phases->len, w->base.f) == phases->len) &&
	     !fseek(w->base.f, 0, SEEK_SET) &&
	     fwrite(head->data, 1, head->len, w->base.f) == head->len;
	g_byte_array_free(head, TRUE);
	return ok || write_err(&w->base, err);
}

struct zout {
	ZSTD_CCtx *cctx;
	FILE *f;
	uint8_t *buf;
	size_t cap;
};

static bool zout_write(struct zout *z, const void *src, size_t len, ZSTD_EndDirective end)
{
	ZSTD_inBuffer in = { src, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer out = { z->buf, z->cap, 0 };

		left = ZSTD_compressStream2(z->cctx, &out, &in, end);
		if (ZSTD_isError(left) || fwrite(z->buf, 1, out.pos, z->f) != out.pos)
			return false;
	} while (end == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return true;
}

static bool copy_records(struct zout *z, FILE *rec)
{
	uint8_t buf[1 << 16];
	size_t n;

	if (fflush(rec) || fseek(rec, 0, SEEK_SET))
		return false;
	while ((n = fread(buf, 1, sizeof(buf), rec)) > 0)
		if (!zout_write(z, buf, n, ZSTD_e_continue))
			return false;
	return !ferror(rec) && zout_write(z, NULL, 0, ZSTD_e_end);
}

/*
 * Compressed: one zstd frame of the plain layout with the phase table
 * moved before the records, so a streaming reader has every name before
 * the first record.
 */
static bool finish_compressed(struct bin_writer *w, struct layout *l, GByteArray *phases,
			      GError **err)
{
	struct zout z = { ZSTD_createCCtx(), w->base.f, NULL, ZSTD_CStreamOutSize() };
	GByteArray *head;
	bool ok;

	l->phases_off = FIXED_LEN + w->base.hdr->nr_slots * SLOT_LEN;
	l->records_off = l->phases_off + phases->len;
	head = encode_head(w->base.hdr, l, phases);
	z.buf = g_malloc(z.cap);
	ZSTD_CCtx_setParameter(z.cctx, ZSTD_c_compressionLevel, ZSTD_LEVEL);
	ZSTD_CCtx_setParameter(z.cctx, ZSTD_c_checksumFlag, 1);
	ZSTD_CCtx_setPledgedSrcSize(z.cctx, records_end(l));
	ok = zout_write(&z, head->data, head->len, ZSTD_e_continue) &&
	     zout_write(&z, phases->data, phases->len, ZSTD_e_continue) &&
	     copy_records(&z, w->rec);
	g_byte_array_free(head, TRUE);
	g_free(z.buf);
	ZSTD_freeCCtx(z.cctx);
	return ok || write_err(&w->base, err);
}

static bool binary_finish(struct s2_writer *base, GError **err)
{
	struct bin_writer *w = (struct bin_writer *)base;
	struct layout l = { .nr_records = w->nr_records, .records_sum = w->sum };
	GByteArray *phases = encode_phases(base->hdr);
	bool ok;

	if (phases->len > PHASES_MAX) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
			    "%s: phase names take more than %d bytes", base->path, PHASES_MAX);
		ok = false;
	} else {
		l.phases_len = phases->len;
		ok = w->compress ? finish_compressed(w, &l, phases, err)
				 : finish_plain(w, &l, phases, err);
	}
	g_byte_array_free(phases, TRUE);
	return ok;
}

static void binary_free(struct s2_writer *base)
{
	struct bin_writer *w = (struct bin_writer *)base;

	if (w->rec && w->rec != base->f)
		fclose(w->rec);
}

static const struct s2_writer_ops binary_writer_ops = {
	.put = binary_put,
	.finish = binary_finish,
	.free = binary_free,
};

/* The scratch file lives beside the output and is unlinked at once. */
static FILE *open_scratch(const char *path, GError **err)
{
	char *tmpl = g_strdup_printf("%s.rec.XXXXXX", path);
	int fd = g_mkstemp(tmpl);
	FILE *f = NULL;

	if (fd >= 0) {
		unlink(tmpl);
		f = fdopen(fd, "w+");
		if (!f)
			close(fd);
	}
	if (!f)
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_IO, "%s: %s", path,
			    g_strerror(errno));
	g_free(tmpl);
	return f;
}

struct s2_writer *s2_binary_writer_open(const char *path,
					const struct s2_trace_header *hdr,
					bool compress, GError **err)
{
	struct bin_writer *w;
	GError *verr = NULL;
	uint8_t zero[FIXED_LEN + S2_TRACE_MAX_SLOTS * SLOT_LEN] = { 0 };

	if (!s2_trace_header_validate(hdr, &verr)) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE, "%s: header: %s", path,
			    verr->message);
		g_error_free(verr);
		return NULL;
	}
	w = g_new0(struct bin_writer, 1);
	if (!s2_writer_init(&w->base, &binary_writer_ops, path, hdr, err)) {
		g_free(w);
		return NULL;
	}
	w->compress = compress;
	w->sum = S2_BINARY_SUM_INIT;
	w->rec = compress ? open_scratch(path, err) : w->base.f;
	if (!w->rec) {
		s2_writer_abort(&w->base);
		return NULL;
	}
	/* room for the head, rewritten by finish_plain once the counts are known */
	if (!compress)
		fwrite(zero, 1, FIXED_LEN + hdr->nr_slots * SLOT_LEN, w->rec);
	return &w->base;
}
