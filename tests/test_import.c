/*
 * tests/test_import.c - the perf-script, trace-cmd and ftrace importers and
 * the trace-conv program.  The excerpts in tests/data/ are hand-written in
 * the tools' exact layouts; the expected records are worked out by hand from
 * their timestamps, ESR values and host addresses (see the comments below).
 */
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <unistd.h>

#include "import.h"

struct want {
	uint32_t vcpu;
	uint16_t kind;
	uint64_t ipa;
	uint64_t size;		/* host unmaps */
	uint16_t arg;		/* vmreg: S2_CACHES_*; host unmap: the cause */
	uint64_t delta;		/* ns */
};

#define ACCESS(vcpu, kind, ipa, delta)	{ vcpu, S2_REC_##kind, ipa, 0, 0, delta }
#define VMREG(vcpu, before, after, delta) \
	{ vcpu, S2_REC_VMREG, 0, 0, (before) * S2_CACHES_BEFORE | (after) * S2_CACHES_AFTER, delta }
#define EVENT(vcpu, kind, delta)	{ vcpu, S2_REC_##kind, 0, 0, 0, delta }
#define HOST_UNMAP(ipa, size, cause, delta) \
	{ S2_VCPU_HOST, S2_REC_HOST_UNMAP, ipa, size, S2_UNMAP_##cause, delta }
#define CHANGE_PTE(ipa, delta)		{ S2_VCPU_HOST, S2_REC_CHANGE_PTE, ipa, 0, 0, delta }

/*
 * Run-time deltas (kvm_entry to kvm_exit of the same thread):
 * - CPU 0/KVM: entry 0 us, exit 100 -> W (hsr 0x93c08047: DABT, WnR) 100 us;
 *   entry 140, exit 300 -> W (0x92000087: S1PTW, WnR clear) 160 us;
 *   entry 330, exit 500 -> MMIO at 0x9000000 (no memslot, kvm_mmio), kept
 *   apart, its 170 us carried; entry 520, exit 700 -> R (0x92000007)
 *   180 + 170 = 350 us, written at the end of the file.
 * - CPU 1/KVM: entry 10, exit 150 -> X (0x82000006: IABT) 140 us;
 *   entry 190, exit 400 -> R access flag (0x9200000b, then
 *   kvm_access_fault) 210 us.
 * - qemu-system-aar (no "CPU n/KVM" name: vCPU 2, after the named ones):
 *   in the guest from the trace's start, exit 600 -> W permission
 *   (0x9200004f) 600 us.
 * Records come out when the thread's fault is over: at its next entry.
 */
static const struct want full[] = {
	ACCESS(0, WRITE, 0x40a3c000, 100000),
	ACCESS(1, EXEC, 0x40200000, 140000),
	ACCESS(0, WRITE, 0x40a3d000, 160000),
	ACCESS(1, READ, 0x40200000, 210000),
	ACCESS(2, WRITE, 0x40400000, 600000),
	ACCESS(0, READ, 0x40a3e000, 350000),
};

/*
 * Only kvm_guest_fault recorded: deltas are the gaps between a thread's
 * faults, the first from the trace's start (102 us).  The MMIO fault at
 * 501 us is found by the layout alone; its 200 us gap goes to the next.
 * Faults still pending at the end come out in order of first appearance.
 */
static const struct want faults_only[] = {
	ACCESS(0, WRITE, 0x40a3c000, 0),
	ACCESS(1, EXEC, 0x40200000, 49000),
	ACCESS(0, WRITE, 0x40a3d000, 199000),
	ACCESS(0, READ, 0x40a3e000, 400000),
	ACCESS(1, READ, 0x40200000, 250000),
	ACCESS(2, WRITE, 0x40400000, 499000),
};

/*
 * tests/data/import-ftrace-trace.txt: the tracefs `trace` file, function
 * tracer on, with its header and the latency-flags column.  Layout
 * import-ftrace-layout.txt: slot 1 RAM at gpa 0x40000000 = hva
 * 0xffff40000000, slot 2 at gpa 0x80000000 = hva 0xffff00000000, both 1G.
 * Times in us after 2000 s; run-time deltas (kvm_entry to kvm_exit).
 * - CPU 0/KVM: entry 0, exit 100, W translation (0x93c08047) 100 us,
 *   written at its entry at 140; exit 200 (SYS64), kvm_toggle_cache off ->
 *   off: vmreg off off, 60 us; entry 210, exit 230, off -> on: vmreg off on,
 *   20 us; entry 900, exit 1000, kvm_set_way_flush: setway 100 us; entry
 *   1500, exit 1600, MMIO at 0x9000000 (no memslot; kvm_mmio), 100 us
 *   carried; entry 1620, exit 1700, R translation (0x92000007) 80 + 100.
 * - CPU 1/KVM: entry 10, exit 150 (SYS64) with a trap_reg of a debug
 *   register (counted, not written), entry 160, exit 1800, X (0x82000006)
 *   140 + 1640 us, still pending at the end of the file.
 * - host records, on the host clock from the first event (2000 s):
 *   kcompactd0 unmaps hva 0xffff40a00000..0xffff40c00000 at 500: slot 1,
 *   ipa 0x40a00000, 2M, migration, 500 us; QEMU unmaps
 *   0xffff3ffff000..0xffff40001000 at 800, split in slot order: slot 1's
 *   first page (0x40000000) 300 us, slot 2's last page (0xbffff000) 0 us,
 *   cause other; QEMU's unmap of 0xaaaab0000000 at 1100 is in no memslot
 *   (dropped, the clock does not move); ksmd unmaps 0xffff40a3e000 at 1200:
 *   0x40a3e000 ksm 400 us, its set_spte 1 us later; QEMU unmaps
 *   0xffff40b10000 at 1300 (99 us) and sets its pte 1 us later: cow.
 */
static const struct want ftrace_trace[] = {
	ACCESS(0, WRITE, 0x40a3c000, 100000),
	VMREG(0, false, false, 60000),
	VMREG(0, false, true, 20000),
	HOST_UNMAP(0x40a00000, 0x200000, MIGRATION, 500000),
	HOST_UNMAP(0x40000000, 0x1000, OTHER, 300000),
	HOST_UNMAP(0xbffff000, 0x1000, OTHER, 0),
	EVENT(0, SETWAY, 100000),
	HOST_UNMAP(0x40a3e000, 0x1000, KSM, 400000),
	CHANGE_PTE(0x40a3e000, 1000),
	HOST_UNMAP(0x40b10000, 0x1000, COW, 99000),
	CHANGE_PTE(0x40b10000, 1000),
	ACCESS(0, READ, 0x40a3d000, 180000),
	ACCESS(1, EXEC, 0x80000000, 1780000),
};

/*
 * tests/data/import-ftrace-pipe.txt: `trace_pipe`, no header, no latency
 * flags (noirq-info).  Times in us after 3000 s.
 * - CPU 1/KVM: entry 0, exit 50, toggle off -> on: vmreg off on 50 us;
 *   entry 300, exit 400, R translation of 0x40b00000 100 us; entry 440, exit
 *   500, W permission (0x9200004f) 60 us, during which its own GUP breaks
 *   the zero page's copy-on-write: unmap and set_spte of that very page on
 *   this thread (dropped: the simulator derives them from the fault); entry
 *   530, exit 531, the W refault 1 us; entry 540, exit 600, PSCI CPU_OFF
 *   (kvm_hvc_arm64 r0 0x84000002); its next entry at 2000 comes after a
 *   CPU_ON, which reset it: reset 60 us; exit 2100, toggle off -> off:
 *   vmreg off off 100 us.
 * - CPU 0/KVM: entry 10, exit 200, set/way flush: setway 190 us; entry 700,
 *   exit 800, MMIO (100 us carried); entry 820, exit 900, toggle on -> on
 *   (a VM-register write trapped again after the set/way op): vmreg on on
 *   80 + 100 us.
 * - host: ksmd unmaps 0xffff40c00000 at 300 (ksm, 300 us) and sets its pte
 *   at 301 (1 us); kcompactd0 unmaps hva 0xffff0a000000..0xffff0a200000 at
 *   1000: slot 2, ipa 0x80000000 + 0xa000000, 2M, migration, 699 us.
 */
static const struct want ftrace_pipe[] = {
	VMREG(1, false, true, 50000),
	EVENT(0, SETWAY, 190000),
	HOST_UNMAP(0x40c00000, 0x1000, KSM, 300000),
	CHANGE_PTE(0x40c00000, 1000),
	ACCESS(1, READ, 0x40b00000, 100000),
	ACCESS(1, WRITE, 0x40b00000, 60000),
	ACCESS(1, WRITE, 0x40b00000, 1000),
	VMREG(0, true, true, 180000),
	HOST_UNMAP(0x8a000000, 0x200000, MIGRATION, 699000),
	EVENT(1, RESET, 60000),
	VMREG(1, false, false, 100000),
};

static char *write_tmp(const char *text);

static char *data_path(const char *name)
{
	const char *src = g_getenv("S2SIM_SOURCE_DIR");

	return g_build_filename(src ? src : ".", "tests", "data", name, NULL);
}

static void check_records(struct s2_source *src, const struct want *w, size_t n)
{
	GError *err = NULL;
	struct s2_record r;

	for (size_t i = 0; i < n; i++) {
		g_assert_cmpint(s2_source_next(src, &r, &err), ==, 1);
		if (r.vcpu != w[i].vcpu || r.kind != w[i].kind || r.ipa != w[i].ipa ||
		    r.delta != w[i].delta || r.size != w[i].size || r.arg != w[i].arg)
			g_error("record %zu: got vcpu %u %s 0x%" G_GINT64_MODIFIER "x size 0x%"
				G_GINT64_MODIFIER "x arg %u delta %" G_GUINT64_FORMAT ", want vcpu %u %s 0x%"
				G_GINT64_MODIFIER "x size 0x%" G_GINT64_MODIFIER "x arg %u delta %"
				G_GUINT64_FORMAT, i, r.vcpu, s2_rec_kind_name(r.kind), r.ipa, r.size,
				r.arg, r.delta, w[i].vcpu, s2_rec_kind_name(w[i].kind), w[i].ipa,
				w[i].size, w[i].arg, w[i].delta);
	}
	g_assert_cmpint(s2_source_next(src, &r, &err), ==, 0);
	g_assert_no_error(err);
}

static struct s2_source *import_with(const char *name, const struct s2_import_format *fmt,
				     const char *layout, struct s2_import_stats *st)
{
	char *in = data_path(name), *lay = layout ? data_path(layout) : NULL;
	GError *err = NULL;
	struct s2_source *src = s2_import_open(in, fmt, lay, st, &err);

	g_assert_no_error(err);
	g_free(in);
	g_free(lay);
	return src;
}

static struct s2_source *import(const char *name, const struct s2_import_format *fmt,
				bool layout, struct s2_import_stats *st)
{
	char *in = data_path(name), *lay = data_path("import-layout.txt");
	GError *err = NULL;
	struct s2_source *src = s2_import_open(in, fmt, layout ? lay : NULL, st, &err);

	g_assert_no_error(err);
	g_free(in);
	g_free(lay);
	return src;
}

static void check_full_stats(const struct s2_import_stats *st)
{
	g_assert_cmpuint(st->faults, ==, 7);
	g_assert_cmpuint(st->translation, ==, 4);
	g_assert_cmpuint(st->access_flag, ==, 1);
	g_assert_cmpuint(st->access_fault_events, ==, 1);
	g_assert_cmpuint(st->permission, ==, 1);
	g_assert_cmpuint(st->mmio, ==, 1);
	g_assert_cmpuint(st->records, ==, 6);
	g_assert_cmpuint(st->ignored, ==, 1);	/* sched_switch */
	g_assert_cmpuint(st->nr_vcpus, ==, 3);
	g_assert_true(st->run_time);
}

static void test_tool_excerpt(gconstpointer data)
{
	const struct s2_import_format *fmt = data;
	char *name = g_strdup_printf("import-%s.txt", fmt->name);
	struct s2_import_stats st;
	struct s2_source *src = import(name, fmt, true, &st);

	g_assert_cmpstr(st.tool, ==, fmt->name);
	check_full_stats(&st);
	g_assert_cmpuint(src->hdr.unit, ==, S2_UNIT_NS);
	g_assert_cmpuint(src->hdr.freq_mhz, ==, 2000);	/* from the layout */
	g_assert_cmpuint(src->hdr.nr_vcpus, ==, 3);
	g_assert_cmpuint(src->hdr.nr_slots, ==, 2);
	check_records(src, full, G_N_ELEMENTS(full));
	s2_source_close(src);
	g_free(name);
}

static void test_auto_detects_tool(gconstpointer data)
{
	const struct s2_import_format *fmt = data;
	char *name = g_strdup_printf("import-%s.txt", fmt->name);
	struct s2_import_stats st;
	struct s2_source *src = import(name, NULL, true, &st);

	g_assert_cmpstr(st.tool, ==, fmt->name);
	check_records(src, full, G_N_ELEMENTS(full));
	s2_source_close(src);
	g_free(name);
}

static void test_faults_only_uses_gaps(void)
{
	struct s2_import_stats st;
	struct s2_source *src = import("import-perf-faults-only.txt", &s2_import_perf_script,
				       true, &st);

	g_assert_false(st.run_time);
	g_assert_cmpuint(st.mmio, ==, 1);
	check_records(src, faults_only, G_N_ELEMENTS(faults_only));
	s2_source_close(src);
}

/* Without --layout, memslots cover the 1 GiB regions holding RAM faults. */
static void test_default_layout(void)
{
	struct s2_import_stats st;
	struct s2_source *src = import("import-trace-cmd.txt", &s2_import_trace_cmd, false, &st);

	g_assert_true(st.default_layout);
	g_assert_cmpuint(st.mmio, ==, 1);	/* still found by kvm_mmio */
	g_assert_cmpuint(src->hdr.nr_slots, ==, 1);
	g_assert_cmpuint(src->hdr.slots[0].gpa, ==, 0x40000000);
	g_assert_cmpuint(src->hdr.slots[0].size, ==, 1ULL << 30);
	g_assert_cmpuint(src->hdr.freq_mhz, ==, 0);
	check_records(src, full, G_N_ELEMENTS(full));
	s2_source_close(src);
}

/* The `trace` file: header, latency flags, function-tracer lines. */
static void test_ftrace_trace_file(gconstpointer fmt)
{
	struct s2_import_stats st;
	struct s2_source *src = import_with("import-ftrace-trace.txt", fmt,
					    "import-ftrace-layout.txt", &st);

	g_assert_cmpstr(st.tool, ==, "ftrace");
	g_assert_cmpuint(st.faults, ==, 4);
	g_assert_cmpuint(st.translation, ==, 3);
	g_assert_cmpuint(st.mmio, ==, 1);
	g_assert_cmpuint(st.accesses, ==, 3);
	g_assert_cmpuint(st.records, ==, G_N_ELEMENTS(ftrace_trace));
	g_assert_cmpuint(st.toggles, ==, 2);
	g_assert_cmpuint(st.set_way, ==, 1);
	g_assert_cmpuint(st.trap_reg_other, ==, 1);
	g_assert_cmpuint(st.vmreg_inferred, ==, 0);
	g_assert_cmpuint(st.host_unmaps, ==, 5);
	g_assert_cmpuint(st.change_ptes, ==, 2);
	g_assert_cmpuint(st.host_no_slot, ==, 1);
	g_assert_cmpuint(st.host_in_fault, ==, 0);
	g_assert_cmpuint(st.ignored, ==, 0);	/* function lines are noise, not events */
	g_assert_cmpuint(st.nr_vcpus, ==, 2);	/* kcompactd0, ksmd and QEMU are no vCPUs */
	g_assert_true(st.run_time);
	g_assert_cmpuint(src->hdr.nr_vcpus, ==, 2);
	g_assert_cmpuint(src->hdr.nr_slots, ==, 3);
	check_records(src, ftrace_trace, G_N_ELEMENTS(ftrace_trace));
	s2_source_close(src);
}

/* `trace_pipe`: no header, no flags; a CoW inside a fault, a PSCI CPU_OFF. */
static void test_ftrace_pipe(gconstpointer fmt)
{
	struct s2_import_stats st;
	struct s2_source *src = import_with("import-ftrace-pipe.txt", fmt,
					    "import-ftrace-layout.txt", &st);

	g_assert_cmpstr(st.tool, ==, "ftrace");
	g_assert_cmpuint(st.faults, ==, 4);
	g_assert_cmpuint(st.translation, ==, 1);
	g_assert_cmpuint(st.permission, ==, 2);
	g_assert_cmpuint(st.mmio, ==, 1);
	g_assert_cmpuint(st.repeats, ==, 1);
	g_assert_cmpuint(st.accesses, ==, 3);
	g_assert_cmpuint(st.records, ==, G_N_ELEMENTS(ftrace_pipe));
	g_assert_cmpuint(st.toggles, ==, 3);
	g_assert_cmpuint(st.set_way, ==, 1);
	g_assert_cmpuint(st.resets, ==, 1);
	g_assert_cmpuint(st.host_unmaps, ==, 2);
	g_assert_cmpuint(st.change_ptes, ==, 1);
	g_assert_cmpuint(st.host_in_fault, ==, 2);
	g_assert_cmpuint(st.host_no_slot, ==, 0);
	g_assert_cmpuint(st.nr_vcpus, ==, 2);
	check_records(src, ftrace_pipe, G_N_ELEMENTS(ftrace_pipe));
	s2_source_close(src);
}

/*
 * Without --layout no host address can be translated: all five notifier
 * events of the trace_pipe excerpt are dropped (the two of the fault's own
 * copy-on-write too), and the guest records are the same.
 */
static void test_ftrace_no_layout_drops_host_events(void)
{
	struct s2_import_stats st;
	struct s2_source *src = import_with("import-ftrace-pipe.txt", NULL, NULL, &st);
	struct s2_record r;
	GError *err = NULL;
	guint n = 0;

	g_assert_cmpuint(st.host_no_slot, ==, 5);
	g_assert_cmpuint(st.host_in_fault, ==, 0);
	g_assert_cmpuint(st.host_unmaps + st.change_ptes, ==, 0);
	while (s2_source_next(src, &r, &err) > 0) {
		g_assert_false(s2_rec_is_host(&r));
		n++;
	}
	g_assert_no_error(err);
	g_assert_cmpuint(n, ==, G_N_ELEMENTS(ftrace_pipe) - 3);
	s2_source_close(src);
}

/*
 * trap_reg of access_vm_reg (the VM-register accessor; v6.1 does not emit
 * it there, a kernel that did would): a write with no kvm_toggle_cache
 * after it is vmreg S S with S the thread's last known state (on, from the
 * toggle before); one followed by a toggle is that toggle's record only.
 * Reads and other functions are counted only.  perf-script layout.
 */
#define PERF(ts, ev) "       CPU 0/KVM  4321 [003]  1000.000" ts ": kvm:" ev "\n"

static void test_trap_reg_without_toggle_is_vmreg(void)
{
	static const struct want want[] = {
		VMREG(0, false, true, 100000),
		VMREG(0, true, true, 40000),
		VMREG(0, true, false, 40000),
	};
	char *path = write_tmp(
		PERF("000", "kvm_entry: PC: 0x0")
		PERF("100", "kvm_exit: TRAP: HSR_EC: 0x0018 (SYS64), PC: 0x0")
		PERF("101", "kvm_toggle_cache: VM op at 0x0000000000000000 (cache was off, now on)")
		PERF("110", "kvm_entry: PC: 0x0")
		PERF("150", "kvm_exit: TRAP: HSR_EC: 0x0018 (SYS64), PC: 0x0")
		PERF("151", "trap_reg: access_vm_reg write to reg 5 (0x0000000040000000)")
		PERF("152", "trap_reg: trap_debug_regs read from reg 41 (0x0000000000000000)")
		PERF("160", "kvm_entry: PC: 0x0")
		PERF("200", "kvm_exit: TRAP: HSR_EC: 0x0018 (SYS64), PC: 0x0")
		PERF("201", "trap_reg: access_vm_reg write to reg 3 (0x0000000000000000)")
		PERF("202", "kvm_toggle_cache: VM op at 0x0000000000000000 (cache was on, now off)")
		PERF("210", "kvm_entry: PC: 0x0"));
	struct s2_import_stats st;
	GError *err = NULL;
	struct s2_source *src = s2_import_open(path, NULL, NULL, &st, &err);

	g_assert_no_error(err);
	g_assert_cmpstr(st.tool, ==, "perf-script");
	g_assert_cmpuint(st.toggles, ==, 2);
	g_assert_cmpuint(st.vmreg_inferred, ==, 1);
	g_assert_cmpuint(st.trap_reg_other, ==, 1);
	check_records(src, want, G_N_ELEMENTS(want));
	s2_source_close(src);
	g_unlink(path);
	g_free(path);
}

/*
 * Function-tracer lines and CMO kprobes are counted, never written:
 * ftrace's trace_pipe (detected from its first line, a function line with
 * the sym-offset option), clone suffixes, callers that lose the cause, and
 * trace-cmd report's "function: f <-- p" events.
 */
#define FT(ts, text)	"       CPU 0/KVM-4321    [003]   3000." ts ": " text "\n"
#define TC(ts, text)	"       CPU 0/KVM-4321  [003]  1234." ts ": " text "\n"

static void test_function_lines_are_counted(void)
{
	char *ft = write_tmp(
		FT("000001", "kvm_pgtable_stage2_map+0x0/0x1a0 <-kvm_handle_guest_abort+0x2c4/0x9d0")
		FT("000002", "clean_dcache_guest_page <-stage2_flush_walker.isra.0")
		FT("000003", "__kvm_tlb_flush_vmid_ipa <-stage2_put_pte")
		FT("000004", "kvm_pgtable_stage2_map <-kvm_set_spte_gfn")
		FT("000005", "__kvm_tlb_flush_vmid <-kvm_flush_remote_tlbs")
		FT("000006", "handle_mm_fault <-__get_user_pages")
		FT("000007", "dclean: (clean_dcache_guest_page+0x0/0x30) size=4096")
		FT("000008", "iinval: (invalidate_icache_guest_page+0x0/0x40) size=0x10000")
		FT("000009", "kvm_entry: PC: 0x0000000040080000"));
	char *tc = write_tmp("cpus=4\n"
		TC("567890", "function:             kvm_pgtable_stage2_relax_perms <-- kvm_handle_guest_abort")
		TC("567891", "function:                clean_dcache_guest_page <-- stage2_unmap_walker")
		TC("567931", "kvm_entry:            PC: 0xffff800010a1b2c4"));
	struct s2_import_stats st;
	GError *err = NULL;
	struct s2_source *src = s2_import_open(ft, NULL, NULL, &st, &err);

	g_assert_no_error(err);
	g_assert_cmpstr(st.tool, ==, "ftrace");
	g_assert_cmpuint(st.function_lines, ==, 6);
	g_assert_cmpuint(st.calls[S2_CALL_MAP_FAULT], ==, 1);
	g_assert_cmpuint(st.calls[S2_CALL_MAP_CHANGE_PTE], ==, 1);
	g_assert_cmpuint(st.calls[S2_CALL_DCLEAN_VMFLUSH], ==, 1);
	g_assert_cmpuint(st.calls[S2_CALL_TLBI_IPA_OTHER], ==, 1);
	g_assert_cmpuint(st.calls[S2_CALL_TLBI_REMOTE], ==, 1);
	g_assert_cmpuint(st.probe_events, ==, 2);
	g_assert_cmpuint(st.dclean_bytes, ==, 4096);
	g_assert_cmpuint(st.iinval_bytes, ==, 65536);
	g_assert_cmpuint(st.ignored, ==, 0);
	g_assert_cmpuint(st.records, ==, 0);
	s2_source_close(src);
	src = s2_import_open(tc, NULL, NULL, &st, &err);
	g_assert_no_error(err);
	g_assert_cmpstr(st.tool, ==, "trace-cmd");
	g_assert_cmpuint(st.function_lines, ==, 2);
	g_assert_cmpuint(st.calls[S2_CALL_RELAX], ==, 1);
	g_assert_cmpuint(st.calls[S2_CALL_DCLEAN_UNMAP], ==, 1);
	g_assert_cmpuint(st.ignored, ==, 0);
	s2_source_close(src);
	g_unlink(ft);
	g_unlink(tc);
	g_free(ft);
	g_free(tc);
}

static char *write_tmp(const char *text)
{
	char *path = NULL;
	int fd = g_file_open_tmp("s2imp-XXXXXX.txt", &path, NULL);

	close(fd);
	g_assert_true(g_file_set_contents(path, text, -1, NULL));
	return path;
}

#define FAULT0 "       CPU 0/KVM  4321 [003]  1000.000102: kvm:kvm_guest_fault: " \
	       "ipa 0x40a3c000, hsr 0x93c08047, hxfar 0x0, pc 0xffff800010a1b2c4\n"

static void check_bad(const char *text, const char *layout, const char *where,
		      const char *what)
{
	char *path = write_tmp(text), *lay = layout ? write_tmp(layout) : NULL;
	struct s2_import_stats st;
	GError *err = NULL;
	/* no line for what only the whole file shows */
	char *want = where ? g_strdup_printf("%s:%s: ", layout ? lay : path, where)
			   : g_strdup_printf("%s: ", path);

	g_assert_null(s2_import_open(path, &s2_import_perf_script, lay, &st, &err));
	g_assert_nonnull(err);
	if (!g_str_has_prefix(err->message, want) || !strstr(err->message, what))
		g_error("expected '%s...%s', got '%s'", want, what, err->message);
	g_error_free(err);
	g_unlink(path);
	if (lay)
		g_unlink(lay);
	g_free(path);
	g_free(lay);
	g_free(want);
}

static void test_bad_input(void)
{
	check_bad(FAULT0 "this is not an event\n", NULL, "2", "not a `perf-script` event line");
	check_bad(FAULT0 "       CPU 0/KVM  4321 [003]  1000.000200: kvm:kvm_guest_fault: ipa zz\n",
		  NULL, "2", "kvm_guest_fault: expected");
	/* EC 0x16 (HVC64) is no abort */
	check_bad("       CPU 0/KVM  4321 [003]  1000.000102: kvm:kvm_guest_fault: "
		  "ipa 0x40a3c000, hsr 0x5a000000, hxfar 0x0, pc 0x0\n", NULL, "1",
		  "not a lower-EL abort (EC 0x16)");
	check_bad(FAULT0 "       CPU 0/KVM  4321 [003]  1000.000101: kvm:kvm_entry: PC: 0x0\n",
		  NULL, "2", "time goes backwards");
	check_bad(FAULT0 "       CPU 0/KVM  5555 [003]  1000.000200: kvm:kvm_entry: PC: 0x0\n",
		  NULL, "2", "both 'CPU 0/KVM'");
	check_bad("       CPU 0/KVM  4321 [003]  1000.000102: kvm:kvm_guest_fault: "
		  "ipa 0x10000000000, hsr 0x93c08047, hxfar 0x0, pc 0x0\n", NULL, "1",
		  "outside the 40-bit IPA space");
	check_bad(FAULT0, "ipa-bits 40\nvcpus 2\n", "2", "'vcpus' comes from the imported trace");
	check_bad(FAULT0 "       CPU 0/KVM  4321 [003]  1000.000200: kvm:kvm_toggle_cache: "
		  "VM op at 0x0 (cache was maybe, now on)\n", NULL, "2", "expected 'on' or 'off', got 'maybe'");
	check_bad(FAULT0 "       CPU 0/KVM  4321 [003]  1000.000200: kvm:kvm_set_way_flush: at 0x0\n",
		  NULL, "2", "kvm_set_way_flush: expected");
	check_bad(FAULT0 "       ksmd    60 [002]  1000.000200: kvm:kvm_unmap_hva_range: "
		  "mmu notifier unmap range: 0x2000 -- 0x1000\n", NULL, "2",
		  "kvm_unmap_hva_range: expected");
	check_bad(FAULT0 "       ksmd    60 [002]  1000.000200: kvm:kvm_unmap_hva_range: "
		  "mmu notifier unmap range: 0x1000 -- 0x2000\n"
		  "       ksmd    60 [002]  1000.000100: kvm:kvm_set_spte_hva: "
		  "mmu notifier set pte hva: 0x1000\n", NULL, "3", "time goes backwards on the host");
	check_bad("", NULL, NULL, "no KVM events");
}

/* ---- the trace-conv program ---- */

static char *tool_path(const char *name)
{
	const char *build = g_getenv("S2SIM_BUILD_DIR");

	return g_build_filename(build ? build : ".", "traces", name, NULL);
}

static int run(const char *const *args, char **out, char **errout)
{
	GPtrArray *argv = g_ptr_array_new_with_free_func(g_free);
	GError *err = NULL;
	int status;

	g_ptr_array_add(argv, tool_path("trace-conv"));
	for (; *args; args++)
		g_ptr_array_add(argv, g_strdup(*args));
	g_ptr_array_add(argv, NULL);
	g_assert_true(g_spawn_sync(NULL, (char **)argv->pdata, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   out, errout, &status, &err));
	g_assert_no_error(err);
	g_ptr_array_free(argv, TRUE);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_conv_import_summary(void)
{
	char *in = data_path("import-perf-script.txt"), *lay = data_path("import-layout.txt");
	char *dir = g_dir_make_tmp("s2conv-XXXXXX", NULL);
	char *out = g_build_filename(dir, "t.trace", NULL);
	const char *args[] = { "--from", "auto", "--to", "text", "--layout", lay, in, out, NULL };
	char *so, *se, *text;

	g_assert_cmpint(run(args, &so, &se), ==, 0);
	g_assert_nonnull(strstr(se, "(perf-script)"));
	g_assert_nonnull(strstr(se, "\n  mmio 1 (kept apart"));
	g_assert_nonnull(strstr(se, "written 6 RAM accesses for 3 vCPUs"));
	g_assert_true(g_file_get_contents(out, &text, NULL, NULL));
	g_assert_nonnull(strstr(text, "unit ns\nfreq-mhz 2000\nipa-bits 40\nvcpus 3\n"));
	g_assert_nonnull(strstr(text, "end-header\n0 100000 W 0x40a3c000\n1 140000 X 0x40200000\n"));
	g_free(text);
	g_free(so);
	g_free(se);
	g_unlink(out);
	g_rmdir(dir);
	g_free(out);
	g_free(dir);
	g_free(in);
	g_free(lay);
}

/* Bad options and bad input: one line on stderr, exit 2, no OUT at all. */
static void check_conv_fails(const char *const *args, const char *out, const char *what)
{
	char *so, *se;

	g_assert_cmpint(run(args, &so, &se), ==, 2);
	if (!strstr(se, what) || strchr(se, '\n') != se + strlen(se) - 1)
		g_error("expected one line with '%s', got '%s'", what, se);
	g_assert_false(g_file_test(out, G_FILE_TEST_EXISTS));
	g_free(so);
	g_free(se);
}

static void test_conv_failures(void)
{
	char *dir = g_dir_make_tmp("s2conv-XXXXXX", NULL);
	char *out = g_build_filename(dir, "t.s2b", NULL);
	char *bad = write_tmp(FAULT0 "garbage\n");
	char *want = g_strdup_printf("%s:2: not a `perf-script` event line", bad);
	const char *unknown[] = { "--bogus", bad, out, NULL };
	const char *enc[] = { "--to", "xml", bad, out, NULL };
	const char *input[] = { "--from", "perf-script", bad, out, NULL };
	const char *s2sim[] = { bad, out, NULL };

	check_conv_fails(unknown, out, "Unknown option --bogus");
	check_conv_fails(enc, out, "--to: unknown encoding 'xml'");
	check_conv_fails(input, out, want);
	check_conv_fails(s2sim, out, "not an s2sim trace");
	/* nothing left beside OUT either */
	g_assert_cmpint(g_rmdir(dir), ==, 0);
	g_unlink(bad);
	g_free(bad);
	g_free(want);
	g_free(out);
	g_free(dir);
}

static char *sim_path(void)
{
	const char *build = g_getenv("S2SIM_BUILD_DIR");

	return g_build_filename(build ? build : ".", "sim", "sim", NULL);
}

/* A member of a JSON report by its path, "totals/tlbi/unmap". */
static int64_t json_int(JsonParser *p, const char *path)
{
	JsonNode *n = json_parser_get_root(p);
	char **parts = g_strsplit(path, "/", -1);

	for (char **k = parts; *k && n; k++) {
		g_assert_true(JSON_NODE_HOLDS_OBJECT(n));
		n = json_object_get_member(json_node_get_object(n), *k);
	}
	if (!n)
		g_error("no %s in the report", path);
	g_strfreev(parts);
	return json_node_get_int(n);
}

/* A count a replay must give, and the path to it in sim's JSON report. */
struct count_want {
	const char *path;
	int64_t value;
};

/*
 * trace-conv --from auto imports an ftrace excerpt (its summary names the
 * tool and the host and guest counts), and the built sim replays the result
 * under the handler policy: exit 0, and it read every record written; for
 * an excerpt with hand-worked counts, every one of them.
 */
struct replay_case {
	const char *file;
	size_t records;		/* written by the import */
	const char *summary;	/* a line of trace-conv's summary */
	const char *layout;	/* default import-ftrace-layout.txt */
	const struct count_want *counts;	/* NULL-terminated, may be NULL */
};

/*
 * tests/data/import-ftrace-boot.txt (layout import-ftrace-boot-layout.txt:
 * one 4 KiB memslot at 0x40000000), replayed under handler with kunpeng920
 * (no FWB, no DIC).  Import (times in us after 1200 s; run-time deltas):
 *   vCPU 0: W 0x40000000 (100), W 0x40001000 (90), W 0x40002000 (90),
 *     vmreg off on (90), X 0x40001000 (90; hsr 0x8200000f: IABT, permission
 *     L3), an HVC that is no PSCI CPU_OFF/RESET (nothing written, its guest
 *     time goes to the next record), setway (40 + 4440 = 4480), W 0x40003000
 *     (90), vmreg on on (90);
 *   vCPU 1 (runs from its first entry at 600): W 0x40100000 (1000),
 *     vmreg off off (90), vmreg off on (90);
 *   host: kcompactd0 unmaps hva 0xffff80002000 (+4K) at 3000: ipa
 *     0x40002000, migration.
 * The vCPUs' clocks are their guest time plus their faults (a few us each),
 * the host's 3000 us: vCPU 0's first five records end near 460 us, vCPU 1's
 * run from 1000 to about 1180 us, the unmap at 3000 us finds no fault in
 * flight, vCPU 0's set/way op comes near 4950 us.  By the rules (README
 * "What is modelled", kernel-fault-path.md §8-§9):
 *   - every vCPU starts reset: TVM set (no FWB).  vCPU 0's off->on is
 *     trapped, flushes the 3 pages mapped then (vCPU 1 has not faulted yet)
 *     and clears its TVM; vCPU 1's off->off is trapped and changes nothing;
 *     its off->on flushes the 4 pages mapped then and clears its TVM.
 *   - vCPU 0's set/way op finds its TVM clear: it flushes (the unmap left 3
 *     pages: 0x40000000, 0x40001000, 0x40100000) and sets TVM again, so its
 *     later on->on is trapped (and changes nothing: no flush).
 *     vmreg_trapped 4, untrapped 0, setway_trapped 1; vmflushes 3 (2 by
 *     toggle, 1 by set/way) cleaning 3 + 4 + 3 = 10 leaves, 40 KiB.
 *   - faults: 5 W translation faults, each a map of a 4 KiB leaf, R+W and
 *     not X (no DIC), cleaned in the walker (handler): 5 cleans, 20 KiB; the
 *     X fault on a page a W mapped is a permission fault at its leaf's
 *     level: relax_perms, I-cache invalidation of 4 KiB, TLBI by IPA.
 *   - the unmap: one leaf, cleaned by the unmap walker (4 KiB) and a TLBI by
 *     IPA; no change_pte.  No fault retries, nothing refaults.
 */
static const struct count_want boot_counts[] = {
	{ "totals/records", 12 },
	{ "totals/faults/translation", 5 },
	{ "totals/faults/permission", 1 },
	{ "totals/faults/mmio", 0 },
	{ "totals/refaults", 0 },
	{ "totals/outcomes/mapped", 5 },
	{ "totals/outcomes/relaxed", 1 },
	{ "totals/outcomes/eagain", 0 },
	{ "totals/leaves_4k", 5 },
	{ "totals/dclean_calls", 5 },
	{ "totals/dclean_bytes", 5 * 4096 },
	{ "totals/iinval_calls", 1 },
	{ "totals/iinval_bytes", 4096 },
	{ "totals/vmreg_trapped", 4 },
	{ "totals/vmreg_untrapped", 0 },
	{ "totals/setway_trapped", 1 },
	{ "totals/resets", 0 },
	{ "totals/vmflushes", 3 },
	{ "totals/vmflush_by_toggle", 2 },
	{ "totals/vmflush_by_setway", 1 },
	{ "totals/vmflush_dclean_calls", 10 },
	{ "totals/vmflush_dclean_bytes", 10 * 4096 },
	{ "totals/notifier_unmaps/migration", 1 },
	{ "totals/notifier_unmaps/other", 0 },
	{ "totals/notifier_unmaps/cow", 0 },
	{ "totals/notifier_unmaps/ksm", 0 },
	{ "totals/notifier_unmaps/swap", 0 },
	{ "totals/change_pte_maps", 0 },
	{ "totals/change_pte_skipped", 0 },
	{ "totals/unmap_dclean_calls", 1 },
	{ "totals/unmap_dclean_bytes", 4096 },
	{ "totals/tlbi/relax_perms", 1 },
	{ "totals/tlbi/unmap", 1 },
	{ "totals/tlbi/bbm_leaf", 0 },
	{ "totals/tlbi/bbm_table_vmid", 0 },
	{ NULL, 0 }
};

static void check_counts(const char *json, const struct count_want *w)
{
	JsonParser *p = json_parser_new();
	GError *err = NULL;

	g_assert_true(json_parser_load_from_file(p, json, &err));
	g_assert_no_error(err);
	for (; w && w->path; w++)
		if (json_int(p, w->path) != w->value)
			g_error("%s: %" G_GINT64_FORMAT ", expected %" G_GINT64_FORMAT, w->path,
				json_int(p, w->path), w->value);
	g_object_unref(p);
}

static void test_ftrace_import_replays_in_sim(gconstpointer data)
{
	const struct replay_case *c = data;
	char *in = data_path(c->file);
	char *lay = data_path(c->layout ? c->layout : "import-ftrace-layout.txt");
	char *dir = g_dir_make_tmp("s2conv-XXXXXX", NULL);
	char *trace = g_build_filename(dir, "t.trace", NULL);
	char *json = g_build_filename(dir, "t.json", NULL);
	char *sim = sim_path();
	const char *conv[] = { "--from", "auto", "--to", "text", "--layout", lay, in, trace, NULL };
	const char *replay[] = { sim, "--policy=handler", "--json", json, trace, NULL };
	char *so, *se;
	GError *err = NULL;
	int status;

	g_assert_cmpint(run(conv, &so, &se), ==, 0);
	if (!strstr(se, "(ftrace)") || !strstr(se, c->summary))
		g_error("summary lacks '(ftrace)' or '%s': %s", c->summary, se);
	g_free(so);
	g_free(se);
	g_assert_true(g_spawn_sync(NULL, (char **)replay, NULL, G_SPAWN_DEFAULT, NULL, NULL,
				   &so, &se, &status, &err));
	g_assert_no_error(err);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		g_error("sim failed on the imported %s: %s", c->file, se);
	check_counts(json, (const struct count_want[]){ { "totals/records", c->records }, { NULL, 0 } });
	check_counts(json, c->counts);
	g_free(so);
	g_free(se);
	g_unlink(trace);
	g_unlink(json);
	g_rmdir(dir);
	g_free(sim);
	g_free(json);
	g_free(trace);
	g_free(dir);
	g_free(in);
	g_free(lay);
}

/*
 * trace-conv --counts: what tests/data/import-ftrace-boot.txt itself
 * counts (lines of the excerpt, by hand): 5 kvm_pgtable_stage2_map from the
 * fault path, 10 clean_dcache_guest_page from stage2_flush_walker, 4
 * kvm_toggle_cache calls; whole-VM flushes 2 toggles that changed the state
 * + 1 kvm_set_way_flush event; no kprobe.  Not for an s2sim trace.
 */
static void test_conv_counts(void)
{
	char *in = data_path("import-ftrace-boot.txt"), *lay = data_path("import-ftrace-boot-layout.txt");
	char *dir = g_dir_make_tmp("s2conv-XXXXXX", NULL);
	char *out = g_build_filename(dir, "t.trace", NULL), *json = g_build_filename(dir, "c.json", NULL);
	const char *args[] = { "--from", "ftrace", "--to", "text", "--counts", json, "--layout", lay,
			       in, out, NULL };
	const char *again[] = { "--counts", json, out, json, NULL };
	JsonParser *p = json_parser_new();
	char *so, *se;

	g_assert_cmpint(run(args, &so, &se), ==, 0);
	g_assert_nonnull(strstr(se, "function tracer: 31 lines; kvm_pgtable_stage2_map 5 (faults)"));
	g_free(so), g_free(se);
	g_assert_true(json_parser_load_from_file(p, json, NULL));
	g_assert_cmpint(json_int(p, "tracepoints/translation"), ==, 5);
	g_assert_cmpint(json_int(p, "tracepoints/permission"), ==, 1);
	g_assert_cmpint(json_int(p, "tracepoints/vmflush_by_toggle"), ==, 2);
	g_assert_cmpint(json_int(p, "tracepoints/vmflushes"), ==, 3);
	g_assert_cmpint(json_int(p, "tracepoints/host_unmaps"), ==, 1);
	g_assert_cmpint(json_int(p, "functions/lines"), ==, 31);
	g_assert_cmpint(json_int(p, "functions/map_fault"), ==, 5);
	g_assert_cmpint(json_int(p, "functions/dclean_vmflush"), ==, 10);
	g_assert_cmpint(json_int(p, "functions/toggle_cache"), ==, 4);
	g_assert_true(JSON_NODE_HOLDS_NULL(json_object_get_member(
		json_node_get_object(json_parser_get_root(p)), "kprobes")));
	g_object_unref(p);
	g_unlink(json);
	check_conv_fails(again, json, "--counts: only for an import");
	g_unlink(out);
	g_rmdir(dir);
	g_free(out), g_free(json), g_free(dir), g_free(in), g_free(lay);
}

/* trace-conv text -> binary-zstd -> binary -> text gives back the same text. */
static void test_conv_round_trip(void)
{
	char *in = data_path("import-perf-script.txt"), *lay = data_path("import-layout.txt");
	char *dir = g_dir_make_tmp("s2conv-XXXXXX", NULL);
	char *t1 = g_build_filename(dir, "a.trace", NULL), *z = g_build_filename(dir, "a.s2b.zst", NULL);
	char *b = g_build_filename(dir, "a.s2b", NULL), *t2 = g_build_filename(dir, "b.trace", NULL);
	const char *imp[] = { "--from", "perf-script", "--to", "text", "--layout", lay, in, t1, NULL };
	const char *tz[] = { "--to", "binary-zstd", t1, z, NULL };
	const char *zb[] = { "--to", "binary", z, b, NULL };
	const char *bt[] = { b, t2, NULL };	/* binary input: text by default */
	char *so, *se, *x, *y;

	g_assert_cmpint(run(imp, &so, &se), ==, 0);
	g_free(so), g_free(se);
	g_assert_cmpint(run(tz, &so, &se), ==, 0);
	g_free(so), g_free(se);
	g_assert_cmpint(run(zb, &so, &se), ==, 0);
	g_free(so), g_free(se);
	g_assert_cmpint(run(bt, &so, &se), ==, 0);
	g_free(so), g_free(se);
	g_assert_true(g_file_get_contents(t1, &x, NULL, NULL));
	g_assert_true(g_file_get_contents(t2, &y, NULL, NULL));
	g_assert_cmpstr(x, ==, y);
	g_free(x);
	g_free(y);
	g_unlink(t1), g_unlink(t2), g_unlink(z), g_unlink(b);
	g_rmdir(dir);
	g_free(t1), g_free(t2), g_free(z), g_free(b);
	g_free(dir);
	g_free(in);
	g_free(lay);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_data_func("/traces/import/perf-script-excerpt-gives-exact-records",
			     &s2_import_perf_script, test_tool_excerpt);
	g_test_add_data_func("/traces/import/trace-cmd-excerpt-gives-exact-records",
			     &s2_import_trace_cmd, test_tool_excerpt);
	g_test_add_data_func("/traces/import/auto-detects-perf-script",
			     &s2_import_perf_script, test_auto_detects_tool);
	g_test_add_data_func("/traces/import/auto-detects-trace-cmd",
			     &s2_import_trace_cmd, test_auto_detects_tool);
	g_test_add_data_func("/traces/import/ftrace-trace-file-gives-exact-records",
			     &s2_import_ftrace, test_ftrace_trace_file);
	g_test_add_data_func("/traces/import/ftrace-trace-pipe-gives-exact-records",
			     &s2_import_ftrace, test_ftrace_pipe);
	g_test_add_data_func("/traces/import/auto-detects-ftrace-trace-file-by-its-header",
			     NULL, test_ftrace_trace_file);
	g_test_add_data_func("/traces/import/auto-detects-ftrace-trace-pipe-by-its-lines",
			     NULL, test_ftrace_pipe);
	g_test_add_func("/traces/import/ftrace-without-layout-drops-host-events",
			test_ftrace_no_layout_drops_host_events);
	g_test_add_func("/traces/import/trap-reg-without-toggle-is-vmreg-of-last-state",
			test_trap_reg_without_toggle_is_vmreg);
	g_test_add_func("/traces/import/faults-only-trace-uses-gaps-between-faults",
			test_faults_only_uses_gaps);
	g_test_add_func("/traces/import/no-layout-derives-memslots-from-ipas", test_default_layout);
	g_test_add_func("/traces/import/bad-input-names-file-and-line", test_bad_input);
	g_test_add_func("/traces/import/function-tracer-lines-and-kprobes-are-counted",
			test_function_lines_are_counted);
	g_test_add_func("/traces/conv/import-prints-summary-with-mmio-count", test_conv_import_summary);
	g_test_add_func("/traces/conv/failure-is-one-line-exit-2-no-output", test_conv_failures);
	g_test_add_func("/traces/conv/text-zstd-binary-text-round-trip", test_conv_round_trip);
	g_test_add_func("/traces/conv/counts-writes-what-the-recording-counted", test_conv_counts);
	{
		static const struct replay_case trace = { "import-ftrace-trace.txt", G_N_ELEMENTS(ftrace_trace),
			  "host: unmap 5, change-pte 2; dropped: outside every memslot 1", NULL, NULL },
		pipe = { "import-ftrace-pipe.txt", G_N_ELEMENTS(ftrace_pipe),
			 "setway 1, reset 1", NULL, NULL },
		boot = { "import-ftrace-boot.txt", 12, "host: unmap 1, change-pte 0",
			 "import-ftrace-boot-layout.txt", boot_counts };

		g_test_add_data_func("/traces/conv/ftrace-trace-file-imports-and-replays-in-sim",
				     &trace, test_ftrace_import_replays_in_sim);
		g_test_add_data_func("/traces/conv/ftrace-trace-pipe-imports-and-replays-in-sim",
				     &pipe, test_ftrace_import_replays_in_sim);
		g_test_add_data_func("/traces/conv/ftrace-boot-excerpt-replays-to-hand-worked-counts",
				     &boot, test_ftrace_import_replays_in_sim);
	}
	return g_test_run();
}
