/*
 * traces/import.c - the event decoding shared by the perf-script, trace-cmd
 * and ftrace importers, and the in-memory source that hands out the result.
 *
 * The whole input is read before the first record is handed out: the vCPU
 * numbering (by "CPU n/KVM" names), the choice of time base and a default
 * memslot layout all depend on the complete trace.  Each thread is a small
 * state machine fed by its kvm_entry/kvm_exit/kvm_guest_fault events; a
 * fault stays pending until the thread's next entry, exit or fault, so that
 * a kvm_mmio or kvm_userspace_exit after it can mark it as MMIO.  Guest
 * events (kvm_toggle_cache, kvm_set_way_flush, an inferred reset) are
 * records of the thread's vCPU with the same deltas as its faults.  MMU
 * notifier events (kvm_unmap_hva_range, kvm_set_spte_hva) may come from any
 * thread; they become host records on the host's clock, through the
 * layout's hva, and never make their thread a vCPU.
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
#define PAGE_SIZE	4096ULL
#define PAGE_MASK	(~4095ULL)
#define GIB_SHIFT	30

/* PSCI function ids (include/uapi/linux/psci.h) */
#define PSCI_0_2_FN_CPU_OFF		0x84000002UL
#define PSCI_0_2_FN_SYSTEM_RESET	0x84000009UL
#define PSCI_1_1_FN_SYSTEM_RESET2	0x84000012UL
#define PSCI_1_1_FN64_SYSTEM_RESET2	0xc4000012UL

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
	bool caches_on;		/* the last cache state a toggle or set/way op showed */
	bool vmreg_pending;	/* a trapped VM-register write (trap_reg) awaits its toggle */
	uint64_t vmreg_ts;
	bool reset_pending;	/* PSCI CPU_OFF / SYSTEM_RESET seen: reset when it next enters */
};

/*
 * A record before the vCPU numbering and the time base are chosen: t is
 * its vCPU's thread, with the two candidate deltas; NULL for a host record,
 * whose delta is final.
 */
struct pending_rec {
	struct thread *t;
	struct s2_record r;
	uint64_t run, gap;
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
	uint64_t host_ts;	/* time of the last host record (start_ts before the first) */
	uint64_t host_event_ts;	/* time of the last notifier event, written or not */
	const char *comm;	/* of the line being handled */
	uint32_t tid;
	/* the last host unmap's records, which a change-pte inside them marks as cow */
	uint32_t unmap_tid;
	guint unmap_first, unmap_end;	/* indices in recs */
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

/*
 * The thread leaves the guest at ts (if it was in it): its guest run time
 * and the gap since its previous fault or event, both since taken.
 */
static void take_deltas(struct thread *t, uint64_t ts, uint64_t *run, uint64_t *gap)
{
	if (t->in_guest)
		t->run_ns += ts - t->entry_ts;
	t->in_guest = false;
	*run = t->run_ns;
	*gap = ts - t->last_fault_ts;
	t->run_ns = 0;
	t->last_fault_ts = ts;
}

/* A record of the thread's vCPU, with the time of what was not written before it. */
static void put_vcpu_rec(struct importer *im, struct thread *t, uint16_t kind, uint64_t ipa,
			 uint16_t arg, uint64_t run, uint64_t gap)
{
	struct pending_rec pr = {
		.t = t,
		.r = { .kind = kind, .ipa = ipa, .arg = arg },
		.run = run + t->carry_run,
		.gap = gap + t->carry_gap,
	};

	t->carry_run = t->carry_gap = 0;
	g_array_append_val(im->recs, pr);
}

/* The thread's fault is over: write it as a RAM access or keep it apart. */
static void resolve_fault(struct importer *im, struct thread *t)
{
	struct fault f = t->fault;
	bool supported = f.fsc_type == FSC_FAULT || f.fsc_type == FSC_ACCESS ||
			 f.fsc_type == FSC_PERM;

	if (!t->pending)
		return;
	t->pending = false;
	if (f.mmio || !supported) {
		/* the guest time before it belongs to the next written record */
		t->carry_run += f.run;
		t->carry_gap += f.gap;
		if (f.mmio)
			im->st->mmio++;
		else
			im->st->unsupported++;
		return;
	}
	count_fsc(im, f.fsc_type);
	if (t->have_last && t->last_kind == f.kind && t->last_ipa == f.ipa)
		im->st->repeats++;
	t->have_last = true;
	t->last_kind = f.kind;
	t->last_ipa = f.ipa;
	put_vcpu_rec(im, t, f.kind, f.ipa, 0, f.run, f.gap);
	im->st->accesses++;
}

static uint16_t caches_arg(bool before, bool after)
{
	return (before ? S2_CACHES_BEFORE : 0) | (after ? S2_CACHES_AFTER : 0);
}

/*
 * A trapped VM-register write that no kvm_toggle_cache followed: the cache
 * state cannot have changed (KVM would have traced the toggle), so it is
 * the thread's last known state before and after.
 */
static void resolve_vmreg(struct importer *im, struct thread *t)
{
	uint64_t run, gap;

	if (!t->vmreg_pending)
		return;
	t->vmreg_pending = false;
	/* its time was taken when the trap was seen, as for a fault */
	run = t->run_ns;
	gap = t->vmreg_ts - t->last_fault_ts;
	t->run_ns = 0;
	t->last_fault_ts = t->vmreg_ts;
	put_vcpu_rec(im, t, S2_REC_VMREG, 0, caches_arg(t->caches_on, t->caches_on), run, gap);
	im->st->vmreg_inferred++;
}

/* Whatever the thread had pending is over: its next entry, exit or event. */
static void resolve_thread(struct importer *im, struct thread *t)
{
	resolve_fault(im, t);
	resolve_vmreg(im, t);
}

static void resolve_reset(struct importer *im, struct thread *t, uint64_t ts);

/* A guest event at ts: after whatever the thread had pending, with a fault's deltas. */
static void put_guest_event(struct importer *im, struct thread *t, uint64_t ts,
			    uint16_t kind, uint16_t arg)
{
	uint64_t run, gap;

	resolve_thread(im, t);
	resolve_reset(im, t, ts);
	take_deltas(t, ts, &run, &gap);
	put_vcpu_rec(im, t, kind, 0, arg, run, gap);
}

/* PSCI CPU_OFF or SYSTEM_RESET earlier: the vCPU was reset before it runs again. */
static void resolve_reset(struct importer *im, struct thread *t, uint64_t ts)
{
	uint64_t run, gap;

	if (!t->reset_pending)
		return;
	t->reset_pending = false;
	take_deltas(t, ts, &run, &gap);
	put_vcpu_rec(im, t, S2_REC_RESET, 0, 0, run, gap);
	t->caches_on = false;
	im->st->resets++;
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
	resolve_thread(im, t);
	resolve_reset(im, t, ts);
	im->st->faults++;
	/* without a kvm_exit before it, the fault itself ends the guest's run */
	take_deltas(t, ts, &f.run, &f.gap);
	f.mmio = outside_ram(im, &f);
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
	resolve_thread(im, t);
	resolve_reset(im, t, ts);
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
	resolve_thread(im, t);
	resolve_reset(im, t, ts);
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

static bool on_off(struct importer *im, const char *word, bool *out, GError **err)
{
	*out = !strcmp(word, "on");	/* set either way: -O3 cannot see line_err() return false */
	if (!*out && strcmp(word, "off"))
		return line_err(im, err, "expected 'on' or 'off', got '%s'", word);
	return true;
}

/*
 * kvm_toggle_cache (arch/arm64/kvm/trace_arm.h): emitted by
 * kvm_toggle_cache() on every trapped write to a VM register
 * (access_vm_reg), after the whole-VM flush if the state changed.
 */
static bool on_toggle_cache(struct importer *im, struct thread *t, uint64_t ts,
			    const char *fields, GError **err)
{
	char was[8], now[8];
	uint64_t pc;
	bool before, after;

	if (sscanf(fields, "VM op at %" SCNx64 " (cache was %7[a-z], now %7[a-z])", &pc, was,
		   now) != 3)
		return line_err(im, err, "kvm_toggle_cache: expected "
				"'VM op at 0xPC (cache was on|off, now on|off)'");
	if (!on_off(im, was, &before, err) || !on_off(im, now, &after, err))
		return false;
	/* the trap_reg it follows, if any, is this very write */
	t->vmreg_pending = false;
	put_guest_event(im, t, ts, S2_REC_VMREG, caches_arg(before, after));
	t->caches_on = after;
	im->st->toggles++;
	return true;
}

/*
 * kvm_set_way_flush: emitted only when KVM flushes, the first set/way op
 * since TVM was cleared; the ones KVM only notes are not traced.
 */
static bool on_set_way_flush(struct importer *im, struct thread *t, uint64_t ts,
			     const char *fields, GError **err)
{
	char cache[8];
	uint64_t pc;
	bool on;

	if (sscanf(fields, "S/W flush at %" SCNx64 " (cache %7[a-z])", &pc, cache) != 2)
		return line_err(im, err, "kvm_set_way_flush: expected 'S/W flush at 0xPC (cache on|off)'");
	if (!on_off(im, cache, &on, err))
		return false;
	put_guest_event(im, t, ts, S2_REC_SETWAY, 0);
	t->caches_on = on;
	im->st->set_way++;
	return true;
}

/*
 * trap_reg (trace_handle_exit.h): "FN write to|read from reg N (0xVALUE)".
 * A write by access_vm_reg (the VM-register accessor) becomes a vmreg
 * record unless kvm_toggle_cache follows for the same write; v6.1 emits
 * trap_reg only from the debug-register accessors (trap_debug_regs,
 * trap_bvr, ...), which are counted and not written.
 */
static bool on_trap_reg(struct importer *im, struct thread *t, uint64_t ts,
			const char *fields, GError **err)
{
	char fn[64], dir[8];
	int reg;
	uint64_t val;

	if (sscanf(fields, "%63s %7s %*s reg %d (%" SCNx64 ")", fn, dir, &reg, &val) != 4 ||
	    (strcmp(dir, "write") && strcmp(dir, "read")))
		return line_err(im, err, "trap_reg: expected 'FN write to|read from reg N (0xVALUE)'");
	if (strcmp(fn, "access_vm_reg") || strcmp(dir, "write")) {
		im->st->trap_reg_other++;
		return true;
	}
	resolve_thread(im, t);
	resolve_reset(im, t, ts);
	if (t->in_guest)
		t->run_ns += ts - t->entry_ts;
	t->in_guest = false;
	t->vmreg_pending = true;
	t->vmreg_ts = ts;
	return true;
}

/*
 * kvm_hvc_arm64: a PSCI call in r0.  A vCPU that calls CPU_OFF runs again
 * only after a CPU_ON, which resets it (the target of CPU_ON is in x1,
 * which is not traced); SYSTEM_RESET resets every vCPU.
 */
static bool on_hvc(struct importer *im, struct thread *t, uint64_t ts,
		   const char *fields, GError **err)
{
	uint64_t pc, r0, imm;

	if (sscanf(fields, "HVC at %" SCNx64 " (r0: %" SCNx64 ", imm: %" SCNx64 ")", &pc, &r0,
		   &imm) != 3)
		return line_err(im, err, "kvm_hvc_arm64: expected 'HVC at 0xPC (r0: 0xR0, imm: 0xIMM)'");
	if (r0 == PSCI_0_2_FN_CPU_OFF) {
		t->reset_pending = true;
	} else if (r0 == PSCI_0_2_FN_SYSTEM_RESET || r0 == PSCI_1_1_FN_SYSTEM_RESET2 ||
		   r0 == PSCI_1_1_FN64_SYSTEM_RESET2) {
		for (guint i = 0; i < im->threads->len; i++)
			((struct thread *)im->threads->pdata[i])->reset_pending = true;
	}
	return true;
}

/* ---- host MMU-notifier events ---- */

/* The notifier's cause, as far as the thread that ran it tells. */
static enum s2_unmap_cause cause_of(const char *comm)
{
	if (!strcmp(comm, "ksmd"))
		return S2_UNMAP_KSM;
	if (g_str_has_prefix(comm, "kcompactd"))
		return S2_UNMAP_MIGRATION;
	if (g_str_has_prefix(comm, "kswapd"))
		return S2_UNMAP_SWAP;
	return S2_UNMAP_OTHER;
}

static void put_host_rec(struct importer *im, uint64_t ts, uint16_t kind, uint64_t ipa,
			 uint64_t size, uint16_t arg)
{
	struct pending_rec pr = {
		.r = {
			.delta = MIN(ts - im->host_ts, S2_TRACE_MAX_DELTA),
			.ipa = ipa,
			.size = size,
			.vcpu = S2_VCPU_HOST,
			.kind = kind,
			.arg = arg,
		},
	};

	im->host_ts = ts;
	g_array_append_val(im->recs, pr);
}

/*
 * A notifier on a vCPU thread in the middle of its write fault, over the
 * faulting page: the fault's own GUP broke a copy-on-write (the zero page
 * a read mapped, kernel-fault-path.md §9).  The simulator derives that
 * unmap and change-pte from the fault itself, so they are not written.
 */
static bool in_own_fault(struct importer *im, uint64_t hva_start, uint64_t hva_end)
{
	struct thread *t = g_hash_table_lookup(im->by_tid, GUINT_TO_POINTER(im->tid));
	const struct s2_memslot *s;
	uint64_t hva;

	if (!t || !t->pending || t->fault.kind != S2_REC_WRITE || !im->have_layout)
		return false;
	s = s2_trace_find_slot(&im->layout, t->fault.ipa);
	if (!s)
		return false;
	hva = s->hva + (t->fault.ipa - s->gpa);
	return hva < hva_end && hva + PAGE_SIZE > hva_start;
}

static bool check_host_time(struct importer *im, uint64_t ts, GError **err)
{
	if (ts < im->host_event_ts)
		return line_err(im, err, "time goes backwards on the host's notifier events");
	im->host_event_ts = ts;
	return true;
}

/*
 * kvm_unmap_hva_range (include/trace/events/kvm.h), from
 * kvm_mmu_notifier_invalidate_range_start() for every invalidation of the
 * VMM's address space: [start, end) in host virtual addresses, one host
 * unmap per memslot it overlaps, none outside them.
 */
static bool on_unmap_hva_range(struct importer *im, struct thread *t, uint64_t ts,
			       const char *fields, GError **err)
{
	uint64_t start, end;
	bool any = false;

	if (sscanf(fields, "mmu notifier unmap range: %" SCNx64 " -- %" SCNx64, &start, &end) != 2 ||
	    end < start)
		return line_err(im, err, "kvm_unmap_hva_range: expected "
				"'mmu notifier unmap range: 0xSTART -- 0xEND'");
	if (!check_host_time(im, ts, err))
		return false;
	start &= PAGE_MASK;
	end = (end + PAGE_SIZE - 1) & PAGE_MASK;
	if (in_own_fault(im, start, end)) {
		im->st->host_in_fault++;
		return true;
	}
	im->unmap_tid = im->tid;
	im->unmap_first = im->unmap_end = im->recs->len;
	for (uint32_t i = 0; im->have_layout && i < im->layout.nr_slots; i++) {
		const struct s2_memslot *s = &im->layout.slots[i];
		uint64_t lo = MAX(start, s->hva), hi = MIN(end, s->hva + s->size);

		if (lo >= hi)
			continue;
		put_host_rec(im, ts, S2_REC_HOST_UNMAP, s->gpa + (lo - s->hva), hi - lo,
			     cause_of(im->comm));
		im->st->host_unmaps++;
		any = true;
	}
	im->unmap_end = im->recs->len;
	if (!any)
		im->st->host_no_slot++;
	return true;
}

/* The last unmap on this thread covered ipa and has no better cause: a copy-on-write. */
static void mark_cow(struct importer *im, uint64_t ipa)
{
	for (guint k = im->unmap_first; im->unmap_tid == im->tid && k < im->unmap_end; k++) {
		struct s2_record *u = &g_array_index(im->recs, struct pending_rec, k).r;

		if (u->arg == S2_UNMAP_OTHER && ipa >= u->ipa && ipa < u->ipa + u->size)
			u->arg = S2_UNMAP_COW;
	}
}

/*
 * kvm_set_spte_hva, from kvm_mmu_notifier_change_pte() (kernels before
 * 6.9), always inside an invalidation of the same page: a copy-on-write or
 * a KSM merge replaced the host page.  The unmap just before it on the same
 * thread, if its cause is not otherwise known, was a copy-on-write.
 */
static bool on_set_spte_hva(struct importer *im, struct thread *t, uint64_t ts,
			    const char *fields, GError **err)
{
	uint64_t hva;

	if (sscanf(fields, "mmu notifier set pte hva: %" SCNx64, &hva) != 1)
		return line_err(im, err, "kvm_set_spte_hva: expected 'mmu notifier set pte hva: 0xHVA'");
	if (!check_host_time(im, ts, err))
		return false;
	hva &= PAGE_MASK;
	if (in_own_fault(im, hva, hva + PAGE_SIZE)) {
		im->st->host_in_fault++;
		return true;
	}
	for (uint32_t i = 0; im->have_layout && i < im->layout.nr_slots; i++) {
		const struct s2_memslot *s = &im->layout.slots[i];

		if (hva >= s->hva && hva < s->hva + s->size) {
			mark_cow(im, s->gpa + (hva - s->hva));
			put_host_rec(im, ts, S2_REC_CHANGE_PTE, s->gpa + (hva - s->hva), 0, 0);
			im->st->change_ptes++;
			return true;
		}
	}
	im->st->host_no_slot++;
	return true;
}

static const struct event_handler {
	const char *name;
	bool (*handle)(struct importer *im, struct thread *t, uint64_t ts,
		       const char *fields, GError **err);
	bool host;	/* any thread: not a vCPU's, t may be NULL */
} handlers[] = {
	{ "kvm_guest_fault", on_guest_fault, false },
	{ "kvm_access_fault", on_access_fault, false },
	{ "kvm_exit", on_kvm_exit, false },
	{ "kvm_entry", on_kvm_entry, false },
	{ "kvm_mmio", on_mmio, false },
	{ "kvm_userspace_exit", on_userspace_exit, false },
	{ "kvm_toggle_cache", on_toggle_cache, false },
	{ "kvm_set_way_flush", on_set_way_flush, false },
	{ "trap_reg", on_trap_reg, false },
	{ "kvm_hvc_arm64", on_hvc, false },
	{ "kvm_unmap_hva_range", on_unmap_hva_range, true },
	{ "kvm_set_spte_hva", on_set_spte_hva, true },
};

static const struct event_handler *find_handler(const char *name)
{
	for (size_t i = 0; i < G_N_ELEMENTS(handlers); i++)
		if (!strcmp(handlers[i].name, name))
			return &handlers[i];
	return NULL;
}

/* ---- lines ---- */

/*
 * An event line of trace-cmd report also reads as ftrace's: ftrace comes
 * first, and trace-cmd is told by the "cpus=N" line report starts with.
 */
const struct s2_import_format *const s2_import_formats[] = {
	&s2_import_perf_script,
	&s2_import_ftrace,
	&s2_import_trace_cmd,
	NULL,
};

static GRegex *compile(const char *pattern)
{
	GError *err = NULL;
	/*
	 * RAW: match bytes, not UTF-8.  The tools print a thread's comm as the
	 * kernel holds it, any bytes; PCRE in UTF-8 mode reads past the end
	 * of a line that is not valid UTF-8 (a crash found by fuzzing).
	 */
	GRegex *re = g_regex_new(pattern, G_REGEX_OPTIMIZE | G_REGEX_RAW, 0, &err);

	/* the patterns are constants of this program */
	g_assert_no_error(err);
	return re;
}

static bool matches(const char *pattern, const char *line);

static bool is_noise_for(const struct s2_import_format *fmt, const char *line)
{
	return matches(fmt->noise, line);
}

static bool matches(const char *pattern, const char *line)
{
	GRegex *re;
	bool match;

	if (!pattern)
		return false;
	re = compile(pattern);
	match = g_regex_match(re, line, 0, NULL);
	g_regex_unref(re);
	return match;
}

/* "CPU:N [LOST M EVENTS]": ftrace's ring buffer overflowed. */
static void count_lost(struct importer *im, const char *line)
{
	unsigned cpu;
	uint64_t n;

	if (sscanf(line, "CPU:%u [LOST %" SCNu64 " EVENTS]", &cpu, &n) == 2)
		im->st->lost_events += n;
}

/* Blank lines, perf's '#' header and callchain lines (tab-indented) carry no event. */
static bool is_noise(struct importer *im, const char *line)
{
	count_lost(im, line);
	if (!line[strspn(line, " \r")] || line[0] == '#' || line[0] == '\t')
		return true;
	if (im->fmt)
		return im->noise_re && g_regex_match(im->noise_re, line, 0, NULL);
	for (size_t i = 0; s2_import_formats[i]; i++)
		if (is_noise_for(s2_import_formats[i], line))
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

/* --from auto: a header line only one tool prints names it. */
static void detect_header(struct importer *im, const char *line)
{
	for (size_t i = 0; !im->fmt && s2_import_formats[i]; i++)
		if (matches(s2_import_formats[i]->header, line))
			use_format(im, s2_import_formats[i]);
}

/* --from auto: else the first event line names the tool. */
static bool detect_format(struct importer *im, const char *line, GError **err)
{
	for (size_t i = 0; s2_import_formats[i]; i++) {
		if (matches(s2_import_formats[i]->line, line)) {
			use_format(im, s2_import_formats[i]);
			return true;
		}
	}
	return line_err(im, err, "not an event line of `perf script`, `trace-cmd report` "
			"or ftrace (tracefs trace, trace_pipe)");
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

/*
 * A function-tracer line is counted (traces/import_calls.c) and written as
 * nothing; with --from auto, the first one names its tool.
 */
static bool count_call(struct importer *im, const char *line)
{
	for (size_t i = 0; !im->fmt && s2_import_formats[i]; i++)
		if (s2_import_count_call(s2_import_formats[i], line, NULL))
			use_format(im, s2_import_formats[i]);
	return im->fmt && s2_import_count_call(im->fmt, line, im->st);
}

static bool handle_line(struct importer *im, char *line, GError **err)
{
	const struct event_handler *h;
	struct event_line ev;
	struct thread *t;
	uint64_t ts, tid;

	if (!im->fmt)
		detect_header(im, line);
	if (count_call(im, line) || is_noise(im, line))
		return true;
	if (!im->fmt && !detect_format(im, line, err))
		return false;
	if (!split_line(im, line, &ev))
		return line_err(im, err, "not a `%s` event line", im->fmt->name);
	ts = parse_ts(ev.sec, ev.frac);
	if (!im->started) {
		im->started = true;
		im->start_ts = im->host_ts = im->host_event_ts = ts;
	}
	h = find_handler(ev.event);
	if (!h) {
		if (!s2_import_count_probe(ev.fields, im->st))
			im->st->ignored++;
		return true;
	}
	tid = strtoull(ev.tid, NULL, 10);
	im->comm = ev.comm;
	im->tid = tid;
	if (h->host)
		return h->handle(im, NULL, ts, ev.fields, err);
	t = get_thread(im, tid, ev.comm, ts);
	if (ts < t->last_ts)
		return line_err(im, err, "time goes backwards on thread %" PRIu64, tid);
	t->last_ts = ts;
	return h->handle(im, t, ts, ev.fields, err);
}

/*
 * No event line comes near this; a longer line is not a kernel trace, and
 * GRegex's backtracking over a line of 10^6 blanks takes minutes.
 */
#define MAX_LINE	(64 << 10)

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
		if (len > MAX_LINE)
			ok = line_err(im, err, "line longer than %d characters: not a kernel trace",
				      MAX_LINE);
		else if (memchr(line, '\0', len))	/* the C strings below would end there */
			ok = line_err(im, err, "NUL byte: not the text of a kernel trace");
		else
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
		const struct s2_record *r = &g_array_index(im->recs, struct pending_rec, i).r;
		uint64_t g = r->ipa >> GIB_SHIFT;

		if (s2_rec_is_access(r))
			g_array_append_val(gib, g);
	}
	if (gib->len)	/* qsort's base must not be NULL, even for 0 elements */
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
		struct s2_record r = pr->r;

		if (pr->t) {
			r.delta = MIN(im->st->run_time ? pr->run : pr->gap, S2_TRACE_MAX_DELTA);
			r.vcpu = pr->t->vcpu;
		}
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
			resolve_thread(&im, im.threads->pdata[i]);
		if (number_vcpus(&im, err))
			src = make_source(&im, err);
	}
	fclose(f);
out:
	importer_free(&im);
	return src;
}
