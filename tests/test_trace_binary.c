/* tests/test_trace_binary.c - the binary trace encoding, plain and zstd. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "source.h"

/* Offsets from traces/FORMAT.md, "Binary format": the test pins the spec. */
#define FIXED_LEN	80
#define OFF_VERSION	8
#define OFF_RECORDS	32
#define OFF_NR_RECORDS	40
#define OFF_PHASES	48
#define OFF_PHASES_LEN	56
#define OFF_RECORDS_SUM	64
#define OFF_HEADER_SUM	72

/* Canonical text (as the text writer prints it), with every escape needed. */
static const char canonical[] =
	"s2sim-trace 2\n"
	"unit ns\n"
	"freq-mhz 2600\n"
	"ipa-bits 44\n"
	"vcpus 3\n"
	"memslot 0 gpa=0x40000000 size=0x40000000 hva=0x7f0040000000 backing=thp populated=yes\n"
	"memslot 7 gpa=0x9000000 size=0x10000 hva=0x7f0009000000 backing=4k populated=no readonly\n"
	"end-header\n"
	"vmm 0 phase boot\n"
	"0 10 R 0x40000000\n"
	"1 4294967294 W 0x40201000\n"		/* largest delta without escape */
	"2 4294967295 X 0x40000000\n"		/* smallest escaped delta */
	"vmm 5 dirty-log on 7\n"
	"0 281474976710656 R 0x7ffff000\n"	/* 2^48, the largest delta */
	"vmm 0 unmap 0x40000000 0x200000\n"
	"vmm 1 unmap 0x0 0x100000000000\n"	/* 16 TiB: escaped size */
	"vmm 0 dirty-log off 7\n"
	"vmm 0 phase steady\n"
	"1 0 W 0xffffffff000\n"
	"0 7 vmreg off on\n"			/* version 2: guest events */
	"1 0 vmreg on off\n"
	"2 3 setway\n"
	"1 9 reset\n"
	"host 100 unmap 0x40001000 0x1000 cow\n"	/* version 2: host records */
	"host 0 change-pte 0x40001000\n"
	"host 4294967295 unmap 0x0 0x100000000000 migration\n"
	"vmm 3 phase boot\n";

static char *tmp_path(const char *suffix)
{
	char *path = NULL;
	int fd = g_file_open_tmp("s2bin-XXXXXX", &path, NULL);
	char *full = g_strconcat(path, suffix, NULL);

	close(fd);
	g_unlink(path);
	g_free(path);
	return full;
}

static char *write_tmp(const char *text, size_t len)
{
	char *path = tmp_path(".trace");

	g_assert_true(g_file_set_contents(path, text, len, NULL));
	return path;
}

enum enc { ENC_TEXT, ENC_BIN, ENC_ZSTD };

/* Copy every record of IN into OUT in the given encoding. */
static void convert(const char *in, const char *out, enum enc to)
{
	GError *err = NULL;
	struct s2_source *src = s2_source_open(in, &err);
	struct s2_writer *w;
	struct s2_record r;
	int ret;

	g_assert_no_error(err);
	w = to == ENC_TEXT ? s2_text_writer_open(out, &src->hdr, &err)
			   : s2_binary_writer_open(out, &src->hdr, to == ENC_ZSTD, &err);
	g_assert_no_error(err);
	while ((ret = s2_source_next(src, &r, &err)) > 0)
		g_assert_true(s2_writer_put(w, &r, &err));
	g_assert_no_error(err);
	g_assert_cmpint(ret, ==, 0);
	g_assert_true(s2_writer_commit(w, &err));
	g_assert_no_error(err);
	s2_source_close(src);
}

static GArray *read_all(const char *path)
{
	GError *err = NULL;
	struct s2_source *src = s2_source_open(path, &err);
	GArray *a = g_array_new(FALSE, FALSE, sizeof(struct s2_record));
	struct s2_record r;
	int ret;

	g_assert_no_error(err);
	while ((ret = s2_source_next(src, &r, &err)) > 0)
		g_array_append_val(a, r);
	g_assert_no_error(err);
	g_assert_cmpint(ret, ==, 0);
	s2_source_close(src);
	return a;
}

static char *slurp(const char *path, gsize *len)
{
	char *buf;

	g_assert_true(g_file_get_contents(path, &buf, len, NULL));
	return buf;
}

/* TEXT (canonical) -> VIA -> text gives TEXT back, byte for byte. */
static void assert_round_trip(const char *canon, enum enc via)
{
	char *text = write_tmp(canon, -1);
	char *bin = tmp_path(".s2b");
	char *back = tmp_path(".trace");
	gsize len;
	char *got;

	convert(text, bin, via);
	convert(bin, back, ENC_TEXT);
	got = slurp(back, &len);
	g_assert_cmpstr(got, ==, canon);
	g_free(got);
	g_unlink(text);
	g_unlink(bin);
	g_unlink(back);
	g_free(text);
	g_free(bin);
	g_free(back);
}

static void test_round_trip_byte_identical(gconstpointer data)
{
	assert_round_trip(canonical, GPOINTER_TO_INT(data));
}

/*
 * 50 000 distinct records (800 KB) span several of the plain reader's
 * 256 KiB windows, at offsets that are no multiple of it; the phase table
 * after them is read first, at open, so the records start from a window
 * elsewhere in the file.
 */
static void test_longer_than_the_window(void)
{
	GString *s = g_string_new("s2sim-trace 2\nunit ns\nfreq-mhz 2600\nipa-bits 44\nvcpus 7\n"
				  "memslot 0 gpa=0x40000000 size=0x40000000 hva=0x7f0040000000 "
				  "backing=4k populated=no\nend-header\nvmm 0 phase boot\n");

	for (int i = 0; i < 50000; i++) {
		g_string_append_printf(s, "%d %d %c 0x%x\n", i % 7, i, "RWX"[i % 3],
				       0x40000000 + (i * 4096) % 0x40000000);
		if (i == 30001)
			g_string_append(s, "vmm 2 phase steady\n");
	}
	assert_round_trip(s->str, ENC_BIN);
	g_string_free(s, TRUE);
}

/* A trace of N small-delta accesses costs exactly 16 bytes per record. */
static void test_sixteen_bytes_per_record(void)
{
	GString *s = g_string_new("s2sim-trace 1\nvcpus 4\n"
				  "memslot 0 gpa=0x40000000 size=1G backing=4k\nend-header\n");
	char *text, *bin = tmp_path(".s2b");
	struct stat st;
	const int n = 10000;

	for (int i = 0; i < n; i++)
		g_string_append_printf(s, "%d %d %c 0x%x\n", i % 4, i * 7 % 100000,
				       "RWX"[i % 3], 0x40000000 + (i % 4096) * 4096);
	text = write_tmp(s->str, s->len);
	convert(text, bin, ENC_BIN);
	g_assert_cmpint(g_stat(bin, &st), ==, 0);
	/* fixed header + one 32-byte memslot + no phases + the records */
	g_assert_cmpint(st.st_size, ==, FIXED_LEN + 32 + 16 * n);
	g_string_free(s, TRUE);
	g_unlink(text);
	g_unlink(bin);
	g_free(text);
	g_free(bin);
}

static void test_zstd_decodes_to_same_records(void)
{
	char *text = write_tmp(canonical, -1);
	char *bin = tmp_path(".s2b"), *zst = tmp_path(".s2b.zst");
	GArray *a, *b;
	gsize len;
	char *raw;

	convert(text, bin, ENC_BIN);
	convert(text, zst, ENC_ZSTD);
	raw = slurp(zst, &len);
	g_assert_cmpmem(raw, 4, "\x28\xb5\x2f\xfd", 4);	/* a real zstd frame */
	g_free(raw);
	a = read_all(bin);
	b = read_all(zst);
	g_assert_cmpuint(a->len, ==, 19);	/* the records of canonical, extensions absorbed */
	g_assert_cmpmem(a->data, a->len * sizeof(struct s2_record),
			b->data, b->len * sizeof(struct s2_record));
	g_array_free(a, TRUE);
	g_array_free(b, TRUE);
	g_unlink(text);
	g_unlink(bin);
	g_unlink(zst);
	g_free(text);
	g_free(bin);
	g_free(zst);
}

static uint64_t get64(const char *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return GUINT64_FROM_LE(v);
}

static void put64(char *p, uint64_t v)
{
	v = GUINT64_TO_LE(v);
	memcpy(p, &v, 8);
}

/* Recompute both sums after an edit, so the reader's other checks are reached. */
static void reseal(char *buf)
{
	uint64_t rec_off = get64(buf + OFF_RECORDS), nr = get64(buf + OFF_NR_RECORDS);
	uint64_t ph_off = get64(buf + OFF_PHASES), ph_len = get64(buf + OFF_PHASES_LEN);
	uint64_t tables = MIN(rec_off, ph_off), sum;

	put64(buf + OFF_RECORDS_SUM, s2_binary_checksum(S2_BINARY_SUM_INIT, buf + rec_off, nr * 16));
	put64(buf + OFF_HEADER_SUM, 0);
	sum = s2_binary_checksum(S2_BINARY_SUM_INIT, buf, tables);
	sum = s2_binary_checksum(sum, buf + ph_off, ph_len);
	put64(buf + OFF_HEADER_SUM, sum);
}

/* Open PATH and read it to the end: the error, or NULL if it read cleanly. */
static GError *read_to_error(const char *path)
{
	GError *err = NULL;
	struct s2_source *src = s2_source_open(path, &err);
	struct s2_record r;

	if (src) {
		while (s2_source_next(src, &r, &err) > 0)
			;
		s2_source_close(src);
	}
	return err;
}

/* Edit a plain binary copy of the canonical trace, then read it to the end. */
static void check_corrupt(void (*edit)(char *buf, gsize *len), const char *where,
			  const char *what)
{
	char *text = write_tmp(canonical, -1), *bin = tmp_path(".s2b");
	char *buf, *want;
	GError *err;
	gsize len;

	convert(text, bin, ENC_BIN);
	buf = slurp(bin, &len);
	edit(buf, &len);
	g_assert_true(g_file_set_contents(bin, buf, len, NULL));
	err = read_to_error(bin);
	g_assert_nonnull(err);
	want = g_strdup_printf("%s: %s", bin, where);
	if (!g_str_has_prefix(err->message, want) || !strstr(err->message, what))
		g_error("expected '%s...%s', got '%s'", want, what, err->message);
	g_error_free(err);
	g_free(want);
	g_free(buf);
	g_unlink(text);
	g_unlink(bin);
	g_free(text);
	g_free(bin);
}

/* Header 80 + 2 memslots 64 = 144: record k (from 1) starts at 144 + 16 (k - 1). */
#define REC(k)	(144 + 16 * ((k) - 1))

static void flip_ipa(char *b, gsize *len) { b[REC(2) + 9] ^= 0x10; }
static void truncate_records(char *b, gsize *len) { *len = REC(5) + 3; }
static void truncate_header(char *b, gsize *len) { *len = 40; }
static void bad_magic(char *b, gsize *len) { b[0] = 'X'; }
static void bad_version(char *b, gsize *len) { b[OFF_VERSION] = 9; }
static void count_too_big(char *b, gsize *len) { put64(b + OFF_NR_RECORDS, get64(b + OFF_NR_RECORDS) + 1); }
static void flip_header(char *b, gsize *len) { b[FIXED_LEN + 8] ^= 1; }	/* memslot 0's gpa */
static void vcpu_out_of_range(char *b, gsize *len) { b[REC(2) + 5] = 3; reseal(b); }
static void unknown_kind(char *b, gsize *len) { b[REC(2) + 4] = 14; reseal(b); }
static void lone_extension(char *b, gsize *len) { b[REC(4) + 0] = 7; reseal(b); }

static void test_corruption_messages(void)
{
	/* record 1 is the phase mark, 2 the first access */
	check_corrupt(flip_ipa, "record 24: ", "checksum mismatch");	/* reported at the last of the 24 stored records */
	check_corrupt(truncate_records, "record 5: ", "truncated");
	check_corrupt(truncate_header, "header: ", "truncated");
	check_corrupt(bad_magic, "header: ", "wrong magic");
	check_corrupt(bad_version, "header: ", "unknown version 9");
	check_corrupt(count_too_big, "header: ", "record count mismatch");
	check_corrupt(flip_header, "header: ", "checksum mismatch");
	check_corrupt(vcpu_out_of_range, "record 2: ", "vcpu 3 is not 0..2");
	check_corrupt(unknown_kind, "record 2: ", "unknown kind 14");
	/* record 4 is the delta extension of the X access: its delta must be 0 */
	check_corrupt(lone_extension, "record 4: ", "unknown extension");
}

/* Every single-byte flip is an error or a clean read; never a crash. */
static void test_every_flip_is_handled(gconstpointer data)
{
	enum enc enc = GPOINTER_TO_INT(data);
	char *text = write_tmp(canonical, -1), *bin = tmp_path(".s2b");
	char *orig;
	gsize len;

	convert(text, bin, enc);
	orig = slurp(bin, &len);
	for (gsize i = 0; i < len; i++) {
		char *buf = g_memdup2(orig, len);
		GError *err;

		buf[i] ^= 0x41;
		g_assert_true(g_file_set_contents(bin, buf, len, NULL));
		err = read_to_error(bin);
		/* a plain file's sums catch every flip */
		if (enc == ENC_BIN)
			g_assert_nonnull(err);
		if (err)
			g_assert_true(g_str_has_prefix(err->message, bin));
		g_clear_error(&err);
		g_free(buf);
	}
	g_free(orig);
	g_unlink(text);
	g_unlink(bin);
	g_free(text);
	g_free(bin);
}

static void test_zstd_truncated(void)
{
	char *text = write_tmp(canonical, -1), *zst = tmp_path(".s2b.zst");
	GError *err;
	char *buf;
	gsize len;

	convert(text, zst, ENC_ZSTD);
	buf = slurp(zst, &len);
	g_assert_true(g_file_set_contents(zst, buf, len - 6, NULL));
	err = read_to_error(zst);
	g_assert_nonnull(err);
	g_assert_true(g_str_has_prefix(err->message, zst));
	g_clear_error(&err);
	g_free(buf);
	g_unlink(text);
	g_unlink(zst);
	g_free(text);
	g_free(zst);
}

/* An aborted binary writer leaves neither the output nor any scratch file. */
static void test_abort_leaves_nothing(gconstpointer data)
{
	char *dir = g_dir_make_tmp("s2b-XXXXXX", NULL);
	char *out = g_build_filename(dir, "t.s2b", NULL);
	struct s2_record r = { .delta = 1, .ipa = 0x1000, .kind = S2_REC_READ };
	struct s2_trace_header h;
	GError *err = NULL;
	struct s2_writer *w;
	GDir *d;

	s2_trace_header_init(&h);
	h.nr_vcpus = 1;
	w = s2_binary_writer_open(out, &h, GPOINTER_TO_INT(data), &err);
	g_assert_no_error(err);
	g_assert_true(s2_writer_put(w, &r, &err));
	r.vcpu = 1;	/* out of range: the writer refuses it */
	g_assert_false(s2_writer_put(w, &r, &err));
	g_assert_nonnull(strstr(err->message, "record 2: vcpu 1"));
	g_clear_error(&err);
	s2_writer_abort(w);
	d = g_dir_open(dir, 0, NULL);
	g_assert_null(g_dir_read_name(d));
	g_dir_close(d);
	g_rmdir(dir);
	g_free(out);
	g_free(dir);
}

static void test_unknown_format(void)
{
	char *path = write_tmp("\x01\x02garbage", 9);
	GError *err = NULL;

	g_assert_null(s2_source_open(path, &err));
	g_assert_nonnull(strstr(err->message, ": header: wrong magic"));
	g_clear_error(&err);
	g_unlink(path);
	g_free(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/traces/binary/text-binary-text-is-byte-identical",
			     GINT_TO_POINTER(ENC_BIN), test_round_trip_byte_identical);
	g_test_add_data_func("/traces/binary/text-zstd-text-is-byte-identical",
			     GINT_TO_POINTER(ENC_ZSTD), test_round_trip_byte_identical);
	g_test_add_func("/traces/binary/longer-than-the-reader-window", test_longer_than_the_window);
	g_test_add_func("/traces/binary/sixteen-bytes-per-record", test_sixteen_bytes_per_record);
	g_test_add_func("/traces/binary/zstd-decodes-to-same-records", test_zstd_decodes_to_same_records);
	g_test_add_func("/traces/binary/corruption-names-file-and-record", test_corruption_messages);
	g_test_add_data_func("/traces/binary/every-byte-flip-handled-plain",
			     GINT_TO_POINTER(ENC_BIN), test_every_flip_is_handled);
	g_test_add_data_func("/traces/binary/every-byte-flip-handled-zstd",
			     GINT_TO_POINTER(ENC_ZSTD), test_every_flip_is_handled);
	g_test_add_func("/traces/binary/truncated-zstd-is-an-error", test_zstd_truncated);
	g_test_add_data_func("/traces/binary/aborted-writer-leaves-nothing-plain",
			     GINT_TO_POINTER(false), test_abort_leaves_nothing);
	g_test_add_data_func("/traces/binary/aborted-writer-leaves-nothing-zstd",
			     GINT_TO_POINTER(true), test_abort_leaves_nothing);
	g_test_add_func("/traces/binary/unknown-format-is-wrong-magic", test_unknown_format);
	return g_test_run();
}
