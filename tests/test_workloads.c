/*
 * tests/test_workloads.c - workloads/gen: determinism, the shipped traces,
 * and the shape of each scenario, checked against numbers worked out by hand.
 *
 * gen is run as a program (from S2SIM_BUILD_DIR) because its contract is
 * the command line: exit status, messages, and the file it leaves behind.
 */
#include <glib/gstdio.h>
#include <string.h>
#include <sys/wait.h>

#include "source.h"

struct dump {
	struct s2_trace_header hdr;
	GArray *recs;		/* struct s2_record, file order */
};

static char *gen_path(void)
{
	const char *build = g_getenv("S2SIM_BUILD_DIR");

	g_assert_nonnull(build);
	return g_build_filename(build, "workloads", "gen", NULL);
}

static char *source_path(const char *rel)
{
	const char *src = g_getenv("S2SIM_SOURCE_DIR");

	g_assert_nonnull(src);
	return g_build_filename(src, rel, NULL);
}

/* Run argv (NULL-terminated, argv[0] the program); returns the exit status. */
static int run(const char *const *argv, char **err_out)
{
	GError *err = NULL;
	int status;

	g_assert_true(g_spawn_sync(NULL, (char **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   NULL, err_out, &status, &err));
	g_assert_no_error(err);
	g_assert_true(WIFEXITED(status));
	return WEXITSTATUS(status);
}

/* gen ARGS... -o DIR/out.trace; returns the file's path. */
static char *gen(const char *dir, const char *args)
{
	char *out = g_build_filename(dir, "out.trace", NULL);
	char *bin = gen_path();
	char *cmd = g_strdup_printf("%s %s -o %s", bin, args, out);
	char **argv, *errs = NULL;
	GError *err = NULL;

	g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, &err));
	if (run((const char *const *)argv, &errs) != 0)
		g_error("'%s' failed: %s", cmd, errs);
	g_strfreev(argv);
	g_free(errs);
	g_free(cmd);
	g_free(bin);
	return out;
}

static char *read_bytes(const char *path, gsize *len)
{
	char *buf;
	GError *err = NULL;

	g_assert_true(g_file_get_contents(path, &buf, len, &err));
	g_assert_no_error(err);
	return buf;
}

static struct dump *load(const char *path)
{
	GError *err = NULL;
	struct s2_source *src = s2_source_open(path, &err);
	struct dump *d = g_new0(struct dump, 1);
	struct s2_record r;
	int ret;

	g_assert_no_error(err);
	d->recs = g_array_new(FALSE, FALSE, sizeof(struct s2_record));
	while ((ret = s2_source_next(src, &r, &err)) > 0)
		g_array_append_val(d->recs, r);
	g_assert_no_error(err);
	g_assert_cmpint(ret, ==, 0);
	/* keep the header, phase names included */
	d->hdr = src->hdr;
	for (uint32_t i = 0; i < d->hdr.nr_phases; i++)
		d->hdr.phases[i] = g_strdup(src->hdr.phases[i]);
	s2_source_close(src);
	return d;
}

static void dump_free(struct dump *d)
{
	s2_trace_header_clear(&d->hdr);
	g_array_free(d->recs, TRUE);
	g_free(d);
}

static const struct s2_record *rec(const struct dump *d, guint i)
{
	return &g_array_index(d->recs, struct s2_record, i);
}

static char *tmp_dir(void)
{
	GError *err = NULL;
	char *dir = g_dir_make_tmp("s2wl-XXXXXX", &err);

	g_assert_no_error(err);
	return dir;
}

static void rm_dir(char *dir)
{
	GDir *d = g_dir_open(dir, 0, NULL);
	const char *name;

	while ((name = g_dir_read_name(d))) {
		char *p = g_build_filename(dir, name, NULL);

		g_unlink(p);
		g_free(p);
	}
	g_dir_close(d);
	g_rmdir(dir);
	g_free(dir);
}

/* gen ARGS into a scratch directory and read the trace back, leaving nothing on disk. */
static struct dump *gen_dump(const char *args)
{
	char *dir = tmp_dir();
	char *path = gen(dir, args);
	struct dump *d = load(path);

	g_unlink(path);
	g_free(path);
	rm_dir(dir);
	return d;
}

static const char *const small_runs[] = {
	"startup --vcpus 4 --mem 256M --kernel-size 8M --image-size 4M",
	"migrate --vcpus 4 --mem 512M --shared 2M --private 1M",
	"dirty-log --vcpus 2 --mem 64M --wss 8M --dirty-pages 64",
	"kvm-page-table-test -v 3 -b 8M -s anonymous_thp",
	"first-touch --vcpus 3 --mem 1M",
};

/* Generate with a seed; the bytes. */
static char *bytes_for(const char *dir, const char *args, uint64_t seed, gsize *len)
{
	char *a = g_strdup_printf("%s --seed %" G_GUINT64_FORMAT, args, seed);
	char *path = gen(dir, a);
	char *buf = read_bytes(path, len);

	g_unlink(path);
	g_free(path);
	g_free(a);
	return buf;
}

static void test_same_seed_same_bytes(void)
{
	char *dir = tmp_dir();

	for (size_t i = 0; i < G_N_ELEMENTS(small_runs); i++) {
		gsize la, lb, lc;
		char *a = bytes_for(dir, small_runs[i], 7, &la);
		char *b = bytes_for(dir, small_runs[i], 7, &lb);
		char *c = bytes_for(dir, small_runs[i], 8, &lc);

		if (la != lb || memcmp(a, b, la))
			g_error("%s: the same seed gave different traces", small_runs[i]);
		if (la == lc && !memcmp(a, c, la))
			g_error("%s: seeds 7 and 8 gave the same trace", small_runs[i]);
		g_free(a);
		g_free(b);
		g_free(c);
	}
	rm_dir(dir);
}

/*
 * regen.sh holds the commands; README.md must quote each of them as
 * "gen ARGS -o workloads/NAME.trace" and the shipped file must be exactly
 * what the command writes now.
 */
static void test_shipped_traces_match_their_commands(void)
{
	char *script = source_path("workloads/regen.sh");
	char *readme = source_path("workloads/README.md");
	char *gen_bin = gen_path();
	char *dir = tmp_dir();
	const char *argv[] = { "/bin/sh", script, gen_bin, dir, NULL };
	char *text = read_bytes(script, NULL), *doc = read_bytes(readme, NULL), *errs = NULL;
	char **lines = g_strsplit(text, "\n", -1);
	int nr = 0;

	if (run(argv, &errs) != 0)
		g_error("regen.sh failed: %s", errs);
	for (char **l = lines; *l; l++) {
		char *quoted, *name, *shipped, *fresh, *a, *b;
		const char *o;
		gsize la, lb;

		if (!g_str_has_prefix(*l, "\"$gen\" "))
			continue;
		o = strstr(*l, " -o \"$out/");
		g_assert_nonnull(o);
		name = g_strndup(o + strlen(" -o \"$out/"), strlen(o) - strlen(" -o \"$out/") - 1);
		quoted = g_strdup_printf("gen %.*s -o workloads/%s",
					 (int)(o - *l - strlen("\"$gen\" ")),
					 *l + strlen("\"$gen\" "), name);
		if (!strstr(doc, quoted))
			g_error("README.md does not quote '%s'", quoted);
		shipped = g_build_filename(g_getenv("S2SIM_SOURCE_DIR"), "workloads", name, NULL);
		fresh = g_build_filename(dir, name, NULL);
		a = read_bytes(shipped, &la);
		b = read_bytes(fresh, &lb);
		if (la != lb || memcmp(a, b, la))
			g_error("workloads/%s differs from what '%s' writes now: run "
				"workloads/regen.sh", name, quoted);
		g_assert_cmpuint(la, <=, 2 << 20);
		nr++;
		g_free(a);
		g_free(b);
		g_free(fresh);
		g_free(shipped);
		g_free(quoted);
		g_free(name);
	}
	g_assert_cmpint(nr, ==, 2);
	g_strfreev(lines);
	g_free(text);
	g_free(doc);
	g_free(errs);
	g_free(script);
	g_free(readme);
	g_free(gen_bin);
	rm_dir(dir);
}

/* Records of one vCPU between the phase record named PHASE and the next phase. */
static GArray *stage_records(const struct dump *d, const char *phase, uint32_t vcpu)
{
	GArray *out = g_array_new(FALSE, FALSE, sizeof(struct s2_record));
	bool in = false;

	for (guint i = 0; i < d->recs->len; i++) {
		const struct s2_record *r = rec(d, i);

		if (r->kind == S2_REC_PHASE)
			in = !strcmp(d->hdr.phases[r->arg], phase);
		else if (in && r->vcpu == vcpu)
			g_array_append_val(out, *r);
	}
	return out;
}

static void assert_vmm_order(const struct dump *d, const char *const *want, size_t n)
{
	size_t k = 0;

	for (guint i = 0; i < d->recs->len; i++) {
		const struct s2_record *r = rec(d, i);
		char *got;

		if (s2_rec_is_vcpu(r))
			continue;
		g_assert_cmpuint(k, <, n);
		if (r->kind == S2_REC_PHASE)
			got = g_strdup_printf("phase %s", d->hdr.phases[r->arg]);
		else
			got = g_strdup_printf("%s %u", s2_rec_kind_name(r->kind), r->arg);
		g_assert_cmpstr(got, ==, want[k]);
		g_free(got);
		k++;
	}
	g_assert_cmpuint(k, ==, n);
}

#define KPTT_UCALL	0xa000000000ULL	/* 5/8 of the 40-bit IPA space */

static void assert_access(const GArray *a, guint i, enum s2_rec_kind kind, uint64_t ipa)
{
	const struct s2_record *r = &g_array_index(a, struct s2_record, i);

	g_assert_cmpuint(r->kind, ==, kind);
	g_assert_cmphex(r->ipa, ==, ipa);
}

/*
 * -v 2 -b 4M -s anonymous_thp: large_page_size 2M, large_num_pages 2,
 * host_num_pages 1024, host_pages_per_lpage 512.  Test memory at
 * align_down((2^28 - 1 - 1024) * 4K, 2M) = 0xffffa00000.  Slot 0:
 * 512 + 2 x 5 stack pages = 522, plus (522 + 1024) / 512 x 2 = 6 for
 * tables: 528 pages, 0x210000 bytes.  The test region's stage-1 tables
 * from 0x180000 + 8 pages: the PMD table 0x188000, the last-level tables
 * of its two 2 MiB regions 0x189000 and 0x18a000.
 *   BEFORE: GUEST_SYNC only                          1 record per vCPU
 *   CREATE: PMD, PTE, block 0, PTE, block 1, sync    6 (vCPU 0 writes, 1 reads)
 *   UPDATE: 2 x (1 write + 256 reads) + sync       515 (tables walked in CREATE)
 *   ADJUST: 1024 reads + sync                     1025
 */
static void test_kptt_thp_stages(void)
{
	static const char *const vmm[] = {
		"phase BEFORE", "phase CREATE", "dirty-log on 1", "phase UPDATE",
		"dirty-log off 1", "phase ADJUST",
	};
	static const struct {
		const char *phase;
		guint n;
	} stages[] = { { "BEFORE", 1 }, { "CREATE", 6 }, { "UPDATE", 515 }, { "ADJUST", 1025 } };
	const uint64_t base = 0xffffa00000ULL;
	struct dump *d = gen_dump("kvm-page-table-test -v 2 -b 4M -s anonymous_thp");

	g_assert_cmpuint(d->hdr.nr_vcpus, ==, 2);
	g_assert_cmpuint(d->hdr.nr_slots, ==, 2);
	g_assert_cmpuint(d->hdr.slots[0].id, ==, 0);
	g_assert_cmphex(d->hdr.slots[0].gpa, ==, 0);
	g_assert_cmphex(d->hdr.slots[0].size, ==, 0x210000);
	g_assert_cmpuint(d->hdr.slots[0].backing, ==, S2_BACKING_4K);
	g_assert_true(d->hdr.slots[0].populated);
	g_assert_cmpuint(d->hdr.slots[1].id, ==, 1);
	g_assert_cmphex(d->hdr.slots[1].gpa, ==, base);
	g_assert_cmphex(d->hdr.slots[1].size, ==, 4 << 20);
	g_assert_cmpuint(d->hdr.slots[1].backing, ==, S2_BACKING_THP);
	g_assert_false(d->hdr.slots[1].populated);
	assert_vmm_order(d, vmm, G_N_ELEMENTS(vmm));
	g_assert_cmpuint(d->recs->len, ==, 6 + 2 * (1 + 6 + 515 + 1025));

	for (uint32_t v = 0; v < 2; v++) {
		enum s2_rec_kind create = v ? S2_REC_READ : S2_REC_WRITE;

		for (size_t s = 0; s < G_N_ELEMENTS(stages); s++) {
			GArray *a = stage_records(d, stages[s].phase, v);

			g_assert_cmpuint(a->len, ==, stages[s].n);
			assert_access(a, a->len - 1, S2_REC_WRITE, KPTT_UCALL);
			if (!strcmp(stages[s].phase, "CREATE")) {
				assert_access(a, 0, S2_REC_READ, 0x188000);
				assert_access(a, 1, S2_REC_READ, 0x189000);
				assert_access(a, 2, create, base);
				assert_access(a, 3, S2_REC_READ, 0x18a000);
				assert_access(a, 4, create, base + (2 << 20));
			} else if (!strcmp(stages[s].phase, "UPDATE")) {
				assert_access(a, 0, S2_REC_WRITE, base);
				assert_access(a, 1, S2_REC_READ, base + (1 << 20));
				assert_access(a, 256, S2_REC_READ, base + (2 << 20) - 4096);
				assert_access(a, 257, S2_REC_WRITE, base + (2 << 20));
				assert_access(a, 258, S2_REC_READ, base + (3 << 20));
				assert_access(a, 513, S2_REC_READ, base + (4 << 20) - 4096);
			} else if (!strcmp(stages[s].phase, "ADJUST")) {
				for (guint i = 0; i < 1024; i++)
					assert_access(a, i, S2_REC_READ, base + i * 4096ULL);
			}
			g_array_free(a, TRUE);
		}
	}
	dump_free(d);
}

/*
 * -s anonymous: large pages are host pages, so CREATE touches every page
 * (after walking to the one 2 MiB region: PMD and last-level table) and
 * UPDATE writes every page; the region is only 4 KiB aligned:
 * (2^28 - 1 - 16) * 4K = 0xfffffef000.
 */
static void test_kptt_anonymous_touches_every_page(void)
{
	const uint64_t base = 0xfffffef000ULL;
	struct dump *d = gen_dump("kvm-page-table-test -v 1 -b 64K -s anonymous");
	GArray *create = stage_records(d, "CREATE", 0);
	GArray *update = stage_records(d, "UPDATE", 0);

	g_assert_cmphex(d->hdr.slots[1].gpa, ==, base);
	g_assert_cmpuint(d->hdr.slots[1].backing, ==, S2_BACKING_4K);
	g_assert_cmpuint(create->len, ==, 19);
	g_assert_cmpuint(update->len, ==, 17);
	assert_access(create, 0, S2_REC_READ, 0x188000);
	assert_access(create, 1, S2_REC_READ, 0x189000);
	for (guint i = 0; i < 16; i++) {
		assert_access(create, 2 + i, S2_REC_WRITE, base + i * 4096ULL);
		assert_access(update, i, S2_REC_WRITE, base + i * 4096ULL);
	}
	g_array_free(create, TRUE);
	g_array_free(update, TRUE);
	dump_free(d);
}

/*
 * -v 1 -b 2G -s anonymous_hugetlb_1gb: two 1 GiB blocks at
 * align_down((2^28 - 1 - 2^19) * 4K, 1G) = 0xff40000000.  virt_map() takes
 * table pages from 0x180000 + 8 pages in VA order: PMD of GiB 0 (0x188000),
 * the 512 last-level tables of GiB 0 (region r at 0x189000 + r pages), PMD
 * of GiB 1 (page 513: 0x389000), then GiB 1's (region 512 at 0x38a000).
 * Slot 0: 512 + 5 = 517 pages, plus (517 + 2^19) / 512 x 2 = 2050: 0xa07000.
 * CREATE walks to region 0 and region 512 (each through a new PMD); UPDATE
 * writes block 0 (walked), then reads its second half from region 256,
 * whose last-level table (0x289000) is the only new one on the way.
 */
static void test_kptt_stage1_tables_per_gib(void)
{
	const uint64_t base = 0xff40000000ULL;
	struct dump *d = gen_dump("kvm-page-table-test -v 1 -b 2G -s anonymous_hugetlb_1gb");
	GArray *create = stage_records(d, "CREATE", 0);
	GArray *update = stage_records(d, "UPDATE", 0);

	g_assert_cmphex(d->hdr.slots[0].size, ==, 0xa07000);
	g_assert_cmpuint(create->len, ==, 7);
	assert_access(create, 0, S2_REC_READ, 0x188000);
	assert_access(create, 1, S2_REC_READ, 0x189000);
	assert_access(create, 2, S2_REC_WRITE, base);
	assert_access(create, 3, S2_REC_READ, 0x389000);
	assert_access(create, 4, S2_REC_READ, 0x38a000);
	assert_access(create, 5, S2_REC_WRITE, base + (1ULL << 30));
	assert_access(update, 0, S2_REC_WRITE, base);
	assert_access(update, 1, S2_REC_READ, 0x289000);
	assert_access(update, 2, S2_REC_READ, base + (512ULL << 20));
	assert_access(update, 3, S2_REC_READ, base + (512ULL << 20) + 4096);
	g_array_free(create, TRUE);
	g_array_free(update, TRUE);
	dump_free(d);
}

static struct dump *load_shipped(const char *name)
{
	char *path = g_build_filename(g_getenv("S2SIM_SOURCE_DIR"), "workloads", name, NULL);
	struct dump *d = load(path);

	g_free(path);
	return d;
}

static void assert_inside_memslots(const struct dump *d)
{
	for (guint i = 0; i < d->recs->len; i++)
		if (s2_rec_is_access(rec(d, i)) && !s2_trace_find_slot(&d->hdr, rec(d, i)->ipa))
			g_error("record %u: ipa 0x%" G_GINT64_MODIFIER "x is outside every memslot",
				i, rec(d, i)->ipa);
}

/*
 * Shipped migrate.trace: populated RAM, one barrier at the start, every
 * vCPU's first delta at most the 200-cycle resume jitter, and a shared hot
 * set: many pages are touched by at least half of the vCPUs.
 */
static void test_migrate_resume_together(void)
{
	struct dump *d = load_shipped("migrate.trace");
	GHashTable *touchers = g_hash_table_new(g_int64_hash, g_int64_equal);
	bool *seen = g_new0(bool, d->hdr.nr_vcpus);
	guint shared = 0, vmm = 0;
	GHashTableIter it;
	gpointer key, val;

	g_assert_cmpuint(d->hdr.nr_vcpus, ==, 8);
	g_assert_true(d->hdr.slots[0].populated);
	assert_inside_memslots(d);
	for (guint i = 0; i < d->recs->len; i++) {
		const struct s2_record *r = rec(d, i);
		uint64_t mask;

		if (!s2_rec_is_access(r)) {
			vmm++;
			continue;
		}
		if (!seen[r->vcpu])
			g_assert_cmpuint(r->delta, <=, 200);
		seen[r->vcpu] = true;
		mask = GPOINTER_TO_SIZE(g_hash_table_lookup(touchers, &rec(d, i)->ipa));
		g_hash_table_insert(touchers, (gpointer)&rec(d, i)->ipa,
				    GSIZE_TO_POINTER(mask | 1ULL << r->vcpu));
	}
	g_assert_cmpuint(vmm, ==, 1);
	for (uint32_t v = 0; v < d->hdr.nr_vcpus; v++)
		g_assert_true(seen[v]);
	g_hash_table_iter_init(&it, touchers);
	while (g_hash_table_iter_next(&it, &key, &val))
		shared += __builtin_popcountll(GPOINTER_TO_SIZE(val)) >= 4;
	g_assert_cmpuint(shared, >=, 500);
	g_hash_table_destroy(touchers);
	g_free(seen);
	dump_free(d);
}

/*
 * Shipped startup.trace: the Image slot is populated and the rest is not;
 * vCPU 0 executes before any secondary appears; secondaries start later,
 * in order; many pages are written and later executed (§9).
 */
static void test_startup_boot_order(void)
{
	static const char *const vmm[] = {
		"phase decompress", "phase early-boot", "phase mm-init", "phase smp",
	};
	struct dump *d = load_shipped("startup.trace");
	GHashTable *written = g_hash_table_new(g_int64_hash, g_int64_equal);
	GHashTable *exec_after_write = g_hash_table_new(g_int64_hash, g_int64_equal);
	uint64_t last_first_delta = 0;
	guint boot_x = 0;
	uint32_t next_secondary = 1;

	g_assert_cmpuint(d->hdr.nr_slots, ==, 2);
	g_assert_true(d->hdr.slots[0].populated);
	g_assert_false(d->hdr.slots[1].populated);
	assert_inside_memslots(d);
	assert_vmm_order(d, vmm, G_N_ELEMENTS(vmm));
	for (guint i = 0; i < d->recs->len; i++) {
		const struct s2_record *r = rec(d, i);

		if (!s2_rec_is_vcpu(r))
			continue;
		if (r->vcpu == 0 && r->kind == S2_REC_EXEC)
			boot_x++;
		if (r->vcpu >= next_secondary) {
			/* first record of a secondary: after vCPU 0 ran, later than the previous one */
			g_assert_cmpuint(r->vcpu, ==, next_secondary);
			g_assert_cmpuint(boot_x, >, 100);
			g_assert_cmpuint(r->delta, >, last_first_delta + 100000);
			last_first_delta = r->delta;
			next_secondary++;
		}
		if (!s2_rec_is_access(r))
			continue;
		if (r->kind == S2_REC_WRITE)
			g_hash_table_add(written, (gpointer)&r->ipa);
		else if (r->kind == S2_REC_EXEC && g_hash_table_contains(written, &r->ipa))
			g_hash_table_add(exec_after_write, (gpointer)&r->ipa);
	}
	g_assert_cmpuint(next_secondary, ==, d->hdr.nr_vcpus);
	g_assert_cmpuint(g_hash_table_size(exec_after_write), >=, 500);
	g_hash_table_destroy(written);
	g_hash_table_destroy(exec_after_write);
	dump_free(d);
}

/*
 * Shipped startup.trace, guest events (kernel-fault-path.md §8): vCPU 0's
 * first record is the firmware's set/way op, the only one; no vmreg comes
 * before vCPU 0's first instruction fetch; each secondary's first record is
 * its PSCI CPU_ON reset and vCPU 0 has none; every vCPU writes its MMU
 * registers with the caches off four times (MAIR, TCR, TTBR0, TTBR1), then
 * exactly once turns them on, and afterwards only writes with them on
 * (untrapped); nobody turns them off.
 */
static void test_startup_guest_cache_events(void)
{
	struct dump *d = load_shipped("startup.trace");
	uint32_t n = d->hdr.nr_vcpus;
	guint *records = g_new0(guint, n), *off_off = g_new0(guint, n);
	guint *off_on = g_new0(guint, n), *on_on = g_new0(guint, n);
	guint setway = 0, resets = 0;
	bool boot_x = false;

	for (guint i = 0; i < d->recs->len; i++) {
		const struct s2_record *r = rec(d, i);
		uint32_t v = r->vcpu;

		if (!s2_rec_is_vcpu(r))
			continue;
		if (v == 0 && r->kind == S2_REC_EXEC)
			boot_x = true;
		if (records[v]++ == 0) {
			if (v)
				g_assert_cmpuint(r->kind, ==, S2_REC_RESET);
			else
				g_assert_cmpuint(r->kind, ==, S2_REC_SETWAY);
		}
		switch (r->kind) {
		case S2_REC_SETWAY:
			setway++;
			break;
		case S2_REC_RESET:
			g_assert_cmpuint(v, !=, 0);
			resets++;
			break;
		case S2_REC_VMREG:
			if (v == 0)
				g_assert_true(boot_x);
			if (r->arg == 0) {		/* off off: before the enable only */
				g_assert_cmpuint(off_on[v], ==, 0);
				off_off[v]++;
			} else if (r->arg == S2_CACHES_AFTER) {
				g_assert_cmpuint(off_off[v], ==, 4);
				off_on[v]++;
			} else {
				g_assert_cmpuint(r->arg, ==, S2_CACHES_BEFORE | S2_CACHES_AFTER);
				g_assert_cmpuint(off_on[v], ==, 1);
				on_on[v]++;
			}
			break;
		}
	}
	g_assert_cmpuint(setway, ==, 1);
	g_assert_cmpuint(resets, ==, n - 1);
	for (uint32_t v = 0; v < n; v++) {
		g_assert_cmpuint(off_off[v], ==, 4);
		g_assert_cmpuint(off_on[v], ==, 1);
		g_assert_cmpuint(on_on[v], >=, 2);
	}
	g_free(records);
	g_free(off_off);
	g_free(off_on);
	g_free(on_on);
	dump_free(d);
}

/*
 * Shipped startup.trace: some never-touched pages (memslot 1, not populated)
 * are first read and then written by the same vCPU, the read immediately
 * followed in its program order by the write (§9: zero page, then CoW).
 * About 1/4 of the initcalls' 1/2 of 992 fresh slab pages: well over 50.
 */
static void test_startup_reads_fresh_pages_before_writing(void)
{
	struct dump *d = load_shipped("startup.trace");
	GHashTable *touched = g_hash_table_new(g_int64_hash, g_int64_equal);
	const struct s2_record **prev = g_new0(const struct s2_record *, d->hdr.nr_vcpus);
	const struct s2_memslot *fresh = &d->hdr.slots[1];
	guint read_then_write = 0;

	g_assert_false(fresh->populated);
	for (guint i = 0; i < d->recs->len; i++) {
		const struct s2_record *r = rec(d, i), *p;

		if (!s2_rec_is_vcpu(r))
			continue;
		p = prev[r->vcpu];
		prev[r->vcpu] = r;
		if (!s2_rec_is_access(r))
			continue;
		if (r->kind == S2_REC_WRITE && p && p->kind == S2_REC_READ && p->ipa == r->ipa &&
		    r->ipa >= fresh->gpa && r->ipa < fresh->gpa + fresh->size &&
		    GPOINTER_TO_UINT(g_hash_table_lookup(touched, &r->ipa)) == 1)
			read_then_write++;
		g_hash_table_insert(touched, (gpointer)&r->ipa,
				    GUINT_TO_POINTER(GPOINTER_TO_UINT(g_hash_table_lookup(touched,
							&r->ipa)) + 1));
	}
	g_assert_cmpuint(read_then_write, >=, 50);
	g_hash_table_destroy(touched);
	g_free(prev);
	dump_free(d);
}

/*
 * migrate: no guest events (caches already on); --host-unmaps 6 adds exactly
 * six host unmaps, caused by migration or KSM, each one 2 MiB THP of the hot
 * set (kernel text and data, page cache) aligned, placed at or before the
 * end of the run on the host clock, and nothing else changes kind; without
 * the option (the shipped trace) there is no host record.  The host's
 * records sit among the vCPUs' in time order (emit.c merges the clocks).
 */
static void test_migrate_host_unmaps_only_on_request(void)
{
	struct dump *shipped = load_shipped("migrate.trace");
	struct dump *d = gen_dump("migrate --vcpus 4 --mem 512M --shared 2M --private 1M "
				  "--host-unmaps 6");
	uint64_t host_time = 0, *vcpu_time = g_new0(uint64_t, d->hdr.nr_vcpus), end = 0;
	uint64_t prev = 0;
	guint host = 0, vmm = 0;

	for (guint i = 0; i < shipped->recs->len; i++) {
		g_assert_false(s2_rec_is_host(rec(shipped, i)));
		g_assert_true(rec(shipped, i)->vcpu == S2_VCPU_VMM ||
			      s2_rec_is_access(rec(shipped, i)));
	}
	for (guint i = 0; i < d->recs->len; i++) {
		const struct s2_record *r = rec(d, i);

		g_assert_true(r->vcpu == S2_VCPU_VMM || s2_rec_is_access(r) || s2_rec_is_host(r));
		vmm += r->vcpu == S2_VCPU_VMM;
		if (s2_rec_is_access(r)) {
			vcpu_time[r->vcpu] += r->delta;
			end = MAX(end, vcpu_time[r->vcpu]);
			g_assert_cmpuint(vcpu_time[r->vcpu], >=, prev);
			prev = vcpu_time[r->vcpu];
		}
		if (!s2_rec_is_host(r))
			continue;
		host++;
		host_time += r->delta;
		g_assert_cmpuint(host_time, >=, prev);	/* merged in time order */
		prev = host_time;
		g_assert_cmpuint(r->kind, ==, S2_REC_HOST_UNMAP);
		g_assert_true(r->arg == S2_UNMAP_MIGRATION || r->arg == S2_UNMAP_KSM);
		g_assert_cmphex(r->size, ==, 2 << 20);
		g_assert_cmphex(r->ipa % (2 << 20), ==, 0);
		/* text and data from 0x40200000 (32M), page cache in the second quarter */
		g_assert_true((r->ipa >= 0x40200000 && r->ipa < 0x42200000) ||
			      (r->ipa >= 0x48000000 && r->ipa < 0x50000000));
	}
	g_assert_cmpuint(host, ==, 6);
	g_assert_cmpuint(vmm, ==, 1);	/* one barrier: the clocks never restart */
	g_assert_cmpuint(host_time, <=, end);
	g_free(vcpu_time);
	dump_free(d);
	dump_free(shipped);
}

/*
 * 2 vCPUs, 8M working set: 4M (1024 pages) each to populate, 10 accesses
 * each while logging, one per 2M chunk (2 each) to rebuild.
 */
static void test_dirty_log_phases(void)
{
	static const char *const vmm[] = {
		"phase populate", "phase dirty-log", "dirty-log on 0",
		"phase rebuild", "dirty-log off 0",
	};
	struct dump *d = gen_dump("dirty-log --vcpus 2 --mem 64M --wss 8M --dirty-pages 10");

	assert_vmm_order(d, vmm, G_N_ELEMENTS(vmm));
	assert_inside_memslots(d);
	g_assert_false(d->hdr.slots[0].populated);
	for (uint32_t v = 0; v < 2; v++) {
		GArray *pop = stage_records(d, "populate", v);
		GArray *log = stage_records(d, "dirty-log", v);
		GArray *reb = stage_records(d, "rebuild", v);

		g_assert_cmpuint(pop->len, ==, 1024);
		for (guint i = 0; i < pop->len; i++)
			assert_access(pop, i, S2_REC_WRITE, 0x40000000 + v * (4 << 20) + i * 4096ULL);
		g_assert_cmpuint(log->len, ==, 10);
		g_assert_cmpuint(reb->len, ==, 2);
		g_array_free(pop, TRUE);
		g_array_free(log, TRUE);
		g_array_free(reb, TRUE);
	}
	dump_free(d);
}

/*
 * 3 vCPUs, 1M: 256 pages split 85 / 85 / 86, each written once in ascending
 * order by its owner, the file in guest-time order; -o *.s2b writes the same
 * header and records in the binary encoding.
 */
static void test_first_touch_every_page_once(void)
{
	static const uint64_t start[] = { 0, 85, 170, 256 };
	char *dir = tmp_dir();
	char *path = gen(dir, "first-touch --vcpus 3 --mem 1M --seed 5");
	char *bin = g_build_filename(dir, "out.s2b", NULL);
	char *gen_bin = gen_path();
	const char *argv[] = { gen_bin, "first-touch", "--vcpus", "3", "--mem", "1M",
			       "--seed", "5", "-o", bin, NULL };
	struct dump *d = load(path), *b;
	uint64_t next[3], clock[3] = { 0 }, prev = 0;

	g_assert_cmpint(run(argv, NULL), ==, 0);
	b = load(bin);
	g_assert_cmpuint(d->hdr.ipa_bits, ==, 40);
	g_assert_cmpuint(d->hdr.nr_slots, ==, 1);
	g_assert_false(d->hdr.slots[0].populated);
	g_assert_cmpint(d->hdr.slots[0].backing, ==, S2_BACKING_4K);
	g_assert_cmpuint(d->recs->len, ==, 256);
	for (uint32_t v = 0; v < 3; v++)
		next[v] = start[v];
	for (guint i = 0; i < d->recs->len; i++) {
		const struct s2_record *r = rec(d, i);

		g_assert_cmpuint(r->vcpu, <, 3);
		g_assert_cmpuint(r->kind, ==, S2_REC_WRITE);
		g_assert_cmphex(r->ipa, ==, 0x40000000 + next[r->vcpu]++ * 4096);
		clock[r->vcpu] += r->delta;
		g_assert_cmpuint(clock[r->vcpu], >=, prev);	/* guest-time order */
		prev = clock[r->vcpu];
	}
	for (uint32_t v = 0; v < 3; v++)
		g_assert_cmpuint(next[v], ==, start[v + 1]);
	g_assert_cmpuint(b->recs->len, ==, d->recs->len);
	g_assert_cmpuint(b->hdr.ipa_bits, ==, d->hdr.ipa_bits);
	for (guint i = 0; i < d->recs->len; i++) {
		g_assert_cmpuint(rec(b, i)->delta, ==, rec(d, i)->delta);
		g_assert_cmphex(rec(b, i)->ipa, ==, rec(d, i)->ipa);
		g_assert_cmpuint(rec(b, i)->vcpu, ==, rec(d, i)->vcpu);
		g_assert_cmpuint(rec(b, i)->kind, ==, rec(d, i)->kind);
	}
	dump_free(d);
	dump_free(b);
	g_free(gen_bin);
	g_free(bin);
	g_unlink(path);
	g_free(path);
	rm_dir(dir);
}

/*
 * dirty_log_perf_test -s anonymous_thp -m 2 -b 4M -v 2: mode 2 is
 * VM_MODE_P48V48_4K (48-bit IPA); slot 1 of 2 x 4M at
 * align_down((2^36 - 2048 - 1) * 4K, 2M) = 0xffffff600000; vCPU v owns
 * [gpa + v * 4M, + 4M) and writes every page of it once per pass, then
 * GUEST_SYNC at 5/8 of 2^47; two dirty passes (TEST_HOST_LOOP_N), the
 * clear between them as dirty-log off + on.  Slot 0: 512 + 2 x 5 = 522
 * pages, plus (522 + 2048) / 512 x 2 = 10: 0x214000.  In populate each
 * vCPU first walks its regions' stage-1 tables (selftest_vm.c): the PMD
 * table 0x188000, then the last-level table of region r, 0x189000 + r
 * pages, before the region's first page; vCPU v's regions are 2v, 2v + 1.
 */
static void test_dlpt_thp_slices_and_passes(void)
{
	static const char *const vmm[] = {
		"phase populate", "phase enable-dirty-logging", "dirty-log on 1", "phase dirty-1",
		"phase clear-1", "dirty-log off 1", "dirty-log on 1", "phase dirty-2",
		"phase disable-dirty-logging", "dirty-log off 1",
	};
	static const char *const passes[] = { "populate", "dirty-1", "dirty-2" };
	const uint64_t base = 0xffffff600000ULL, ucall = 0x500000000000ULL;
	struct dump *d = gen_dump("dirty-log-perf-test -s anonymous_thp -m 2 -b 4M -v 2");

	g_assert_cmpuint(d->hdr.ipa_bits, ==, 48);
	g_assert_cmpuint(d->hdr.nr_slots, ==, 2);
	g_assert_cmpuint(d->hdr.slots[0].id, ==, 0);
	g_assert_cmphex(d->hdr.slots[0].size, ==, 0x214000);
	g_assert_true(d->hdr.slots[0].populated);
	g_assert_cmpuint(d->hdr.slots[1].id, ==, 1);
	g_assert_cmphex(d->hdr.slots[1].gpa, ==, base);
	g_assert_cmphex(d->hdr.slots[1].size, ==, 8 << 20);
	g_assert_cmphex(d->hdr.slots[1].hva % (1 << 30), ==, base % (1 << 30));
	g_assert_cmpuint(d->hdr.slots[1].backing, ==, S2_BACKING_THP);
	g_assert_false(d->hdr.slots[1].populated);
	assert_vmm_order(d, vmm, G_N_ELEMENTS(vmm));
	g_assert_cmpuint(d->recs->len, ==, G_N_ELEMENTS(vmm) + 2 * (3 + 3 * (1024 + 1)));
	for (uint32_t v = 0; v < 2; v++) {
		for (size_t p = 0; p < G_N_ELEMENTS(passes); p++) {
			GArray *a = stage_records(d, passes[p], v);
			guint walk = p ? 0 : 1;	/* the tables are walked in populate only */

			g_assert_cmpuint(a->len, ==, 1025 + 3 * walk);
			if (walk) {
				assert_access(a, 0, S2_REC_READ, 0x188000);
				assert_access(a, 1, S2_REC_READ, 0x189000 + 2 * v * 4096ULL);
				assert_access(a, 514, S2_REC_READ, 0x18a000 + 2 * v * 4096ULL);
			}
			for (guint i = 0; i < 1024; i++)
				assert_access(a, i + walk * (i < 512 ? 2 : 3), S2_REC_WRITE,
					      base + v * (4 << 20) + i * 4096ULL);
			assert_access(a, a->len - 1, S2_REC_WRITE, ucall);
			g_array_free(a, TRUE);
		}
	}
	dump_free(d);
}

/*
 * -o (here --overlap) and -f 2, default mode (P40V48_4K) and backing
 * (anonymous): both vCPUs walk the whole 2 x 64K region, writing even
 * pages and reading odd ones; gpa (2^28 - 32 - 1) * 4K = 0xfffffdf000.
 */
static void test_dlpt_overlap_wr_fract(void)
{
	const uint64_t base = 0xfffffdf000ULL;
	struct dump *d = gen_dump("dirty-log-perf-test -v 2 -b 64K -f 2 --overlap -i 3");

	g_assert_cmpuint(d->hdr.ipa_bits, ==, 40);
	g_assert_cmphex(d->hdr.slots[1].gpa, ==, base);
	g_assert_cmpuint(d->hdr.slots[1].backing, ==, S2_BACKING_4K);
	for (uint32_t v = 0; v < 2; v++) {
		GArray *a = stage_records(d, "dirty-3", v);

		g_assert_cmpuint(a->len, ==, 33);
		for (guint i = 0; i < 32; i++)
			assert_access(a, i, i % 2 ? S2_REC_READ : S2_REC_WRITE, base + i * 4096ULL);
		assert_access(a, 32, S2_REC_WRITE, KPTT_UCALL);
		g_array_free(a, TRUE);
	}
	dump_free(d);
}

/* A bad option: exit 2, one message naming it, and nothing left in the directory. */
static void test_bad_option_exit_2_no_file(void)
{
	static const struct {
		const char *args;
		const char *names;
	} bad[] = {
		{ "startup --vcpus 0", "--vcpus" },
		{ "startup --vcpus many", "--vcpus" },
		{ "migrate --mem 12Q", "--mem" },
		{ "migrate --backing 3k", "--backing" },
		{ "migrate --seed -1", "--seed" },
		{ "migrate --run-max 0", "--run-max" },
		{ "migrate --host-unmaps -1", "--host-unmaps" },
		{ "migrate --bogus", "--bogus" },
		{ "startup --mem 16M", "--mem" },
		{ "dirty-log --wss 2G", "--wss" },
		{ "kvm-page-table-test -s anonymous_hugetlb_3mb", "-s" },
		{ "kvm-page-table-test -p 0xfffff00000 -b 1G", "--phys-offset" },
		{ "dirty-log-perf-test -m 3", "--guest-mode" },
		{ "dirty-log-perf-test -i 0", "--iterations" },
		{ "dirty-log-perf-test -f 0", "--wr-fract" },
		{ "dirty-log-perf-test -s anonymous_hugetlb_1gb -b 4M", "--mem" },
		{ "reboot", "scenario 'reboot'" },
	};
	char *dir = tmp_dir();
	char *gen_bin = gen_path();
	char *out = g_build_filename(dir, "out.trace", NULL);

	for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
		char *cmd = g_strdup_printf("%s %s -o %s", gen_bin, bad[i].args, out);
		char **argv, *errs = NULL;
		GDir *d;

		g_assert_true(g_shell_parse_argv(cmd, NULL, &argv, NULL));
		g_assert_cmpint(run((const char *const *)argv, &errs), ==, 2);
		if (!strstr(errs, bad[i].names) || strchr(errs, '\n') != errs + strlen(errs) - 1)
			g_error("'%s': expected one line naming %s, got '%s'", bad[i].args,
				bad[i].names, errs);
		d = g_dir_open(dir, 0, NULL);
		g_assert_null(g_dir_read_name(d));
		g_dir_close(d);
		g_strfreev(argv);
		g_free(errs);
		g_free(cmd);
	}
	{
		const char *argv[] = { gen_bin, "migrate", NULL };
		char *errs = NULL;

		g_assert_cmpint(run(argv, &errs), ==, 2);
		g_assert_nonnull(strstr(errs, "-o"));
		g_free(errs);
	}
	g_free(out);
	g_free(gen_bin);
	rm_dir(dir);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/workloads/gen/same-seed-same-bytes-other-seed-other-bytes",
			test_same_seed_same_bytes);
	g_test_add_func("/workloads/gen/shipped-traces-match-their-documented-commands",
			test_shipped_traces_match_their_commands);
	g_test_add_func("/workloads/gen/bad-option-exits-2-and-leaves-no-file",
			test_bad_option_exit_2_no_file);
	g_test_add_func("/workloads/kvm-page-table-test/thp-2-vcpus-4M-records-per-stage",
			test_kptt_thp_stages);
	g_test_add_func("/workloads/kvm-page-table-test/anonymous-touches-every-page",
			test_kptt_anonymous_touches_every_page);
	g_test_add_func("/workloads/kvm-page-table-test/stage-1-tables-per-gib",
			test_kptt_stage1_tables_per_gib);
	g_test_add_func("/workloads/migrate/vcpus-resume-together-on-a-shared-hot-set",
			test_migrate_resume_together);
	g_test_add_func("/workloads/startup/boot-vcpu-runs-first-and-executes-what-it-wrote",
			test_startup_boot_order);
	g_test_add_func("/workloads/startup/each-vcpu-turns-caches-on-once-secondaries-reset-first",
			test_startup_guest_cache_events);
	g_test_add_func("/workloads/startup/some-fresh-pages-read-then-written",
			test_startup_reads_fresh_pages_before_writing);
	g_test_add_func("/workloads/migrate/host-unmaps-only-with-the-option",
			test_migrate_host_unmaps_only_on_request);
	g_test_add_func("/workloads/dirty-log/populate-log-rebuild-in-order",
			test_dirty_log_phases);
	g_test_add_func("/workloads/dirty-log-perf-test/thp-per-vcpu-slices-populate-then-dirty-passes",
			test_dlpt_thp_slices_and_passes);
	g_test_add_func("/workloads/dirty-log-perf-test/overlap-and-write-fraction",
			test_dlpt_overlap_wr_fract);
	g_test_add_func("/workloads/first-touch/every-page-once-by-its-owner-binary-too",
			test_first_touch_every_page_once);
	return g_test_run();
}
