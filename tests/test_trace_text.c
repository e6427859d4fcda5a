/* tests/test_trace_text.c - the text trace reader, writer and cursor. */
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "cursor.h"

static char *write_tmp(const char *text)
{
	char *path = NULL;
	GError *err = NULL;
	int fd = g_file_open_tmp("s2trace-XXXXXX.trace", &path, &err);

	g_assert_no_error(err);
	close(fd);
	g_assert_true(g_file_set_contents(path, text, -1, &err));
	return path;
}

static const char good[] =
	"# a comment before the magic\n"
	"s2sim-trace 1\n"
	"unit ns\n"
	"freq-mhz 2600\n"
	"ipa-bits 40\n"
	"vcpus 2\n"
	"memslot 0 gpa=0x40000000 size=1G backing=thp populated=yes\n"
	"memslot 3 gpa=0x9000000 size=64K backing=4k readonly\n"
	"end-header\n"
	"0 10 R 0x40000000   # trailing comment\n"
	"\n"
	"1 20 W 0x40201000\n"
	"vmm 5 dirty-log on 0\n"
	"0 0 X 0x40000000\n"
	"vmm 0 phase ADJUST\n"
	"vmm 0 unmap 0x40000000 2M\n";

static void test_header_and_records(void)
{
	char *path = write_tmp(good);
	GError *err = NULL;
	struct s2_source *src = s2_source_open(path, &err);
	struct s2_record r;

	g_assert_no_error(err);
	g_assert_cmpuint(src->hdr.unit, ==, S2_UNIT_NS);
	g_assert_cmpuint(src->hdr.freq_mhz, ==, 2600);
	g_assert_cmpuint(src->hdr.nr_vcpus, ==, 2);
	g_assert_cmpuint(src->hdr.nr_slots, ==, 2);
	g_assert_cmpuint(src->hdr.slots[0].size, ==, 1ULL << 30);
	g_assert_cmpuint(src->hdr.slots[0].backing, ==, S2_BACKING_THP);
	g_assert_true(src->hdr.slots[0].populated);
	/* default hva keeps gpa and hva congruent modulo 1 GiB */
	g_assert_cmpuint(src->hdr.slots[0].hva % (1ULL << 30), ==, 0x40000000 % (1ULL << 30));
	g_assert_true(src->hdr.slots[1].readonly);
	g_assert_cmpuint(src->hdr.slots[1].id, ==, 3);

	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 1);
	g_assert_cmpuint(r.vcpu, ==, 0);
	g_assert_cmpuint(r.delta, ==, 10);
	g_assert_cmpuint(r.kind, ==, S2_REC_READ);
	g_assert_cmpuint(r.ipa, ==, 0x40000000);
	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 1);
	g_assert_cmpuint(r.kind, ==, S2_REC_WRITE);
	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 1);
	g_assert_cmpuint(r.vcpu, ==, S2_VCPU_VMM);
	g_assert_cmpuint(r.kind, ==, S2_REC_DIRTY_LOG_ON);
	g_assert_cmpuint(r.arg, ==, 0);
	g_assert_cmpuint(r.delta, ==, 5);
	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 1);
	g_assert_cmpuint(r.kind, ==, S2_REC_EXEC);
	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 1);
	g_assert_cmpuint(r.kind, ==, S2_REC_PHASE);
	g_assert_cmpstr(src->hdr.phases[r.arg], ==, "ADJUST");
	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 1);
	g_assert_cmpuint(r.kind, ==, S2_REC_UNMAP);
	g_assert_cmpuint(r.size, ==, 2 << 20);
	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 0);
	g_assert_no_error(err);
	s2_source_close(src);
	g_unlink(path);
	g_free(path);
}

/* Each bad line must be reported with the file name and its line number. */
static void check_bad(const char *body, const char *line_tag, const char *what)
{
	char *text = g_strconcat("s2sim-trace 1\nvcpus 2\n"
				 "memslot 0 gpa=0x40000000 size=1G backing=4k\n", body, NULL);
	char *path = write_tmp(text);
	GError *err = NULL;
	struct s2_source *src = s2_source_open(path, &err);
	struct s2_record r;
	char *want = g_strdup_printf("%s:%s: ", path, line_tag);

	if (src) {
		int ret;

		while ((ret = s2_source_next(src, &r, &err)) > 0)
			;
		g_assert_cmpint(ret, ==, -1);
		s2_source_close(src);
	}
	g_assert_nonnull(err);
	if (!g_str_has_prefix(err->message, want) || !strstr(err->message, what))
		g_error("for %s expected '%s...%s', got '%s'", body, want, what, err->message);
	g_error_free(err);
	g_unlink(path);
	g_free(path);
	g_free(want);
	g_free(text);
}

static void test_bad_lines(void)
{
	check_bad("end-header\n0 1 Q 0x40000000\n", "5", "R, W or X");
	check_bad("end-header\n2 1 R 0x40000000\n", "5", "vcpu '2'");
	check_bad("end-header\n0 -1 R 0x40000000\n", "5", "bad delta");
	check_bad("end-header\n0 1 R 0x10000000000\n", "5", "outside the 40-bit");
	check_bad("end-header\n0 1 R\n", "5", "expected");
	check_bad("end-header\nvmm 0 dirty-log on 7\n", "5", "no memslot '7'");
	check_bad("end-header\nvmm 0 unmap 0x40000001 4K\n", "5", "aligned");
	check_bad("end-header\nvmm 0 reboot\n", "5", "unknown VMM command");
	check_bad("end-header\n0 0 vmreg on\n", "5", "vmreg on|off on|off");
	check_bad("end-header\n0 0 hop\n", "5", "or vmreg, setway, reset");
	check_bad("end-header\nhost 0 unmap 0x40000000 4K gremlins\n", "5", "unknown cause 'gremlins'");
	check_bad("end-header\nhost 0 change-pte 0x40000800\n", "5", "4 KiB aligned");
	check_bad("end-header\nhost 0 reboot\n", "5", "unknown host command");
	check_bad("memslot 1 gpa=0x40001000 size=4K backing=4k\nend-header\n", "4", "overlaps");
	check_bad("memslot 1 gpa=0x0 size=4K backing=5k\nend-header\n", "4", "unknown backing");
	check_bad("bogus 1\nend-header\n", "4", "unknown header key");
	check_bad("", "3", "end of file inside the header");
}

static void test_long_line(void)
{
	GString *s = g_string_new("end-header\n0 1 R ");
	for (int i = 0; i < 10000; i++)
		g_string_append_c(s, '0');
	g_string_append_c(s, '\n');
	check_bad(s->str, "5", "longer than");
	g_string_free(s, TRUE);
}

static void test_wrong_magic_and_version(void)
{
	char *path = write_tmp("s2sim-trace 9\nvcpus 1\nend-header\n");
	GError *err = NULL;

	g_assert_null(s2_source_open(path, &err));
	g_assert_nonnull(strstr(err->message, ":1: unsupported trace version"));
	g_clear_error(&err);
	g_unlink(path);
	g_free(path);
}

/* Records of other vCPUs are parked; a VMM record is a barrier for everyone. */
static void test_cursor_barrier(void)
{
	char *path = write_tmp(good);
	GError *err = NULL;
	struct s2_source *src = s2_source_open(path, &err);
	struct s2_cursor *c = s2_cursor_new(src);
	struct s2_record r;

	/* vCPU 1 first: vCPU 0's record must be parked, not lost */
	g_assert_cmpint(s2_cursor_next(c, 1, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.ipa, ==, 0x40201000);
	g_assert_cmpuint(s2_cursor_parked(c), ==, 1);
	g_assert_cmpint(s2_cursor_next(c, 1, &r, &err), ==, S2_CUR_BARRIER);
	g_assert_cmpint(s2_cursor_next(c, 0, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.kind, ==, S2_REC_READ);
	g_assert_cmpint(s2_cursor_next(c, 0, &r, &err), ==, S2_CUR_BARRIER);
	g_assert_true(s2_cursor_take_vmm(c, &r));
	g_assert_cmpuint(r.kind, ==, S2_REC_DIRTY_LOG_ON);
	g_assert_false(s2_cursor_take_vmm(c, &r));
	g_assert_cmpint(s2_cursor_next(c, 1, &r, &err), ==, S2_CUR_BARRIER);
	g_assert_cmpint(s2_cursor_next(c, 0, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.kind, ==, S2_REC_EXEC);
	g_assert_true(s2_cursor_take_vmm(c, &r));
	g_assert_cmpuint(r.kind, ==, S2_REC_PHASE);
	g_assert_cmpint(s2_cursor_next(c, 0, &r, &err), ==, S2_CUR_BARRIER);
	g_assert_true(s2_cursor_take_vmm(c, &r));
	g_assert_cmpuint(r.kind, ==, S2_REC_UNMAP);
	g_assert_cmpint(s2_cursor_next(c, 0, &r, &err), ==, S2_CUR_END);
	g_assert_cmpint(s2_cursor_next(c, 1, &r, &err), ==, S2_CUR_END);
	s2_cursor_free(c);
	s2_source_close(src);
	g_unlink(path);
	g_free(path);
}

/* Writing what was read gives a file that reads back to the same records. */
static void test_writer_round_trip(void)
{
	char *in = write_tmp(good);
	char *out = g_strconcat(in, ".out", NULL);
	GError *err = NULL;
	struct s2_source *src = s2_source_open(in, &err), *back;
	struct s2_writer *w;
	struct s2_record r, r2;
	GArray *recs = g_array_new(FALSE, FALSE, sizeof(r));

	while (s2_source_next(src, &r, &err) > 0)
		g_array_append_val(recs, r);
	w = s2_text_writer_open(out, &src->hdr, &err);
	g_assert_no_error(err);
	for (guint i = 0; i < recs->len; i++)
		g_assert_true(s2_writer_put(w, &g_array_index(recs, struct s2_record, i), &err));
	g_assert_true(s2_writer_commit(w, &err));
	back = s2_source_open(out, &err);
	g_assert_no_error(err);
	g_assert_cmpmem(back->hdr.slots, sizeof(back->hdr.slots), src->hdr.slots, sizeof(src->hdr.slots));
	for (guint i = 0; i < recs->len; i++) {
		g_assert_cmpint(s2_source_next(back, &r2, &err), ==, 1);
		g_assert_cmpmem(&r2, sizeof(r2), &g_array_index(recs, struct s2_record, i), sizeof(r2));
	}
	g_assert_cmpint(s2_source_next(back, &r2, &err), ==, 0);
	s2_source_close(back);
	s2_source_close(src);
	g_array_free(recs, TRUE);
	g_unlink(in);
	g_unlink(out);
	g_free(in);
	g_free(out);
}

/* An aborted writer leaves nothing behind, not even its temporary file. */
static void test_writer_abort_leaves_nothing(void)
{
	char *dir = g_dir_make_tmp("s2w-XXXXXX", NULL);
	char *out = g_build_filename(dir, "t.trace", NULL);
	struct s2_trace_header h;
	GError *err = NULL;
	struct s2_writer *w;
	GDir *d;

	s2_trace_header_init(&h);
	h.nr_vcpus = 1;
	w = s2_text_writer_open(out, &h, &err);
	g_assert_no_error(err);
	s2_writer_abort(w);
	d = g_dir_open(dir, 0, NULL);
	g_assert_null(g_dir_read_name(d));
	g_dir_close(d);
	g_rmdir(dir);
	g_free(out);
	g_free(dir);
}

/* Version 2 records: guest events per vCPU, host records in their own queue. */
static void test_version2_records(void)
{
	char *path = write_tmp(
		"s2sim-trace 2\nvcpus 2\nmemslot 0 gpa=0x40000000 size=1G backing=4k\nend-header\n"
		"1 5 vmreg off on\n0 0 setway\nhost 50 unmap 0x40000000 8K cow\n"
		"1 1 reset\nhost 0 change-pte 0x40001000\n0 2 R 0x40000000\n");
	GError *err = NULL;
	struct s2_source *src = s2_source_open(path, &err);
	struct s2_cursor *c = s2_cursor_new(src);
	struct s2_record r;

	g_assert_no_error(err);
	g_assert_cmpint(s2_cursor_next(c, S2_VCPU_HOST, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.kind, ==, S2_REC_HOST_UNMAP);
	g_assert_cmpuint(r.size, ==, 8192);
	g_assert_cmpuint(r.arg, ==, S2_UNMAP_COW);
	g_assert_cmpuint(r.delta, ==, 50);
	g_assert_cmpint(s2_cursor_next(c, S2_VCPU_HOST, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.kind, ==, S2_REC_CHANGE_PTE);
	g_assert_cmpuint(r.ipa, ==, 0x40001000);
	g_assert_cmpint(s2_cursor_next(c, S2_VCPU_HOST, &r, &err), ==, S2_CUR_END);
	g_assert_cmpint(s2_cursor_next(c, 1, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.kind, ==, S2_REC_VMREG);
	g_assert_cmpuint(r.arg, ==, S2_CACHES_AFTER);
	g_assert_cmpint(s2_cursor_next(c, 1, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.kind, ==, S2_REC_RESET);
	g_assert_cmpint(s2_cursor_next(c, 0, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.kind, ==, S2_REC_SETWAY);
	g_assert_cmpint(s2_cursor_next(c, 0, &r, &err), ==, S2_CUR_RECORD);
	g_assert_cmpuint(r.kind, ==, S2_REC_READ);
	s2_cursor_free(c);
	s2_source_close(src);
	g_unlink(path);
	g_free(path);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/traces/text/header-and-records", test_header_and_records);
	g_test_add_func("/traces/text/bad-line-names-file-and-line", test_bad_lines);
	g_test_add_func("/traces/text/overlong-line-rejected", test_long_line);
	g_test_add_func("/traces/text/wrong-version-rejected", test_wrong_magic_and_version);
	g_test_add_func("/traces/cursor/vmm-record-is-a-barrier", test_cursor_barrier);
	g_test_add_func("/traces/text/writer-round-trip", test_writer_round_trip);
	g_test_add_func("/traces/text/version-2-guest-and-host-records", test_version2_records);
	g_test_add_func("/traces/text/aborted-writer-leaves-nothing", test_writer_abort_leaves_nothing);
	return g_test_run();
}
