/*
 * traces/import.h - turn the text that `perf script`, `trace-cmd report` or
 * ftrace itself (tracefs `trace` / `trace_pipe`) prints for the arm64 KVM
 * tracepoints (kvm_guest_fault, kvm_access_fault, kvm_exit, kvm_entry,
 * kvm_mmio, kvm_userspace_exit; kvm_toggle_cache, kvm_set_way_flush,
 * trap_reg, kvm_hvc_arm64; kvm_unmap_hva_range, kvm_set_spte_hva) into an
 * s2sim trace.
 *
 * The tools differ only in the prefix of each line (comm, thread id, CPU,
 * timestamp, event name); each describes its own in one
 * struct s2_import_format, and the event decoding is shared.  What the
 * conversion keeps, infers and loses is in traces/FORMAT.md, "Importing
 * kernel traces".
 */
#ifndef S2SIM_IMPORT_H
#define S2SIM_IMPORT_H

#include "source.h"

struct s2_import_format {
	const char *name;	/* as given to trace-conv --from */
	/*
	 * One event line, as a GRegex with the named groups comm, tid, sec,
	 * frac (the timestamp's two halves), event and fields.
	 */
	const char *line;
	/* Lines the tool prints that carry no event (headers); may be NULL. */
	const char *noise;
	/*
	 * Lines only this tool prints before its events, which name it for
	 * --from auto ahead of the first event line; may be NULL.
	 */
	const char *header;
};

extern const struct s2_import_format s2_import_perf_script;
extern const struct s2_import_format s2_import_trace_cmd;
extern const struct s2_import_format s2_import_ftrace;
/* NULL-terminated, in the order --from auto tries them on an event line. */
extern const struct s2_import_format *const s2_import_formats[];

struct s2_import_stats {
	const char *tool;	/* the format used (detected with --from auto) */
	uint64_t lines;
	uint64_t faults;	/* kvm_guest_fault events */
	uint64_t translation, access_flag, permission;	/* by FSC type */
	uint64_t access_fault_events;	/* kvm_access_fault, follows an AF fault */
	uint64_t records;	/* records written, of every kind */
	uint64_t accesses;	/* RAM accesses written */
	uint64_t mmio;		/* faults outside RAM, kept apart */
	uint64_t unsupported;	/* FSC the kernel rejects: not written */
	uint64_t repeats;	/* same IPA and kind as the thread's previous fault */
	uint64_t ignored;	/* events of other names */
	/* guest events (version 2 records) */
	uint64_t toggles;	/* kvm_toggle_cache: vmreg BEFORE AFTER */
	uint64_t vmreg_inferred;	/* trap_reg of access_vm_reg without a toggle: vmreg S S */
	uint64_t trap_reg_other;	/* trap_reg of other (debug) registers: not written */
	uint64_t set_way;	/* kvm_set_way_flush: setway */
	uint64_t resets;	/* inferred from PSCI CPU_OFF / SYSTEM_RESET (kvm_hvc_arm64) */
	/* host MMU-notifier events */
	uint64_t host_unmaps;	/* host unmap records written (one per memslot piece) */
	uint64_t change_ptes;	/* host change-pte records written */
	uint64_t host_no_slot;	/* notifier events that hit no memslot (or no --layout) */
	uint64_t host_in_fault;	/* the faulting vCPU's own copy-on-write: the simulator derives it */
	uint64_t lost_events;	/* ftrace "[LOST N EVENTS]": the input is incomplete */
	uint32_t nr_vcpus;
	bool run_time;		/* deltas are guest run time, else gaps between faults */
	bool default_layout;	/* no --layout: memslots derived from the IPAs */
};

/*
 * Read the whole of @path (NULL @format: detect the tool from the first
 * event line) and return a source that yields its records.  @layout_path
 * (may be NULL) is a layout file (see s2_layout_load).  Errors read
 * "FILE:LINE: what is wrong".
 */
struct s2_source *s2_import_open(const char *path, const struct s2_import_format *format,
				 const char *layout_path, struct s2_import_stats *stats,
				 GError **err);

#endif
