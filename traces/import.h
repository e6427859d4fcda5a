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
	/*
	 * A function-tracer line, with the named groups func and parent
	 * (traces/import_calls.c counts them); may be NULL.
	 */
	const char *call;
};

extern const struct s2_import_format s2_import_perf_script;
extern const struct s2_import_format s2_import_trace_cmd;
extern const struct s2_import_format s2_import_ftrace;
/* NULL-terminated, in the order --from auto tries them on an event line. */
extern const struct s2_import_format *const s2_import_formats[];

/*
 * Calls of v6.1 functions counted from function-tracer lines ("FUNC
 * <-PARENT"), split by caller where the caller tells the source (the
 * rules and why each function is traceable: traces/import_calls.c).
 */
enum s2_import_call {
	S2_CALL_MAP_FAULT,	/* kvm_pgtable_stage2_map <- user_mem_abort (inlined: kvm_handle_guest_abort) */
	S2_CALL_MAP_CHANGE_PTE,	/* kvm_pgtable_stage2_map <- kvm_set_spte_gfn */
	S2_CALL_MAP_IOREMAP,	/* kvm_pgtable_stage2_map <- kvm_phys_addr_ioremap (VMM set-up) */
	S2_CALL_RELAX,		/* kvm_pgtable_stage2_relax_perms */
	S2_CALL_DCLEAN_MAP,	/* clean_dcache_guest_page <- the map walker (faults, change_pte) */
	S2_CALL_DCLEAN_VMFLUSH,	/* clean_dcache_guest_page <- stage2_flush_walker */
	S2_CALL_DCLEAN_UNMAP,	/* clean_dcache_guest_page <- stage2_unmap_walker */
	S2_CALL_IINVAL,		/* invalidate_icache_guest_page */
	S2_CALL_TOGGLE_CACHE,	/* kvm_toggle_cache: every trapped VM-register write */
	S2_CALL_SET_WAY,	/* kvm_set_way_flush: every trapped set/way op without FWB */
	S2_CALL_UNMAP_GFN,	/* kvm_unmap_gfn_range: one per memslot a notifier overlaps */
	S2_CALL_SET_SPTE_GFN,	/* kvm_set_spte_gfn */
	S2_CALL_TLBI_RELAX,	/* __kvm_tlb_flush_vmid_ipa <- kvm_pgtable_stage2_relax_perms (VHE) */
	S2_CALL_TLBI_BBM_LEAF,	/* __kvm_tlb_flush_vmid_ipa <- the map walker */
	S2_CALL_TLBI_UNMAP,	/* __kvm_tlb_flush_vmid_ipa <- stage2_unmap_walker */
	S2_CALL_TLBI_IPA_OTHER,	/* __kvm_tlb_flush_vmid_ipa <- stage2_put_pte not inlined, or other */
	S2_CALL_TLBI_BBM_TABLE,	/* __kvm_tlb_flush_vmid <- the map walker (table -> block) */
	S2_CALL_TLBI_REMOTE,	/* __kvm_tlb_flush_vmid <- kvm_flush_remote_tlbs (write-protect, aging) */
	S2_CALL_TLBI_VMID_OTHER,	/* __kvm_tlb_flush_vmid <- other */
	S2_CALL_NR
};

/* The JSON key of each count (trace-conv --counts). */
extern const char *const s2_import_call_names[S2_CALL_NR];

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
	/* function-tracer lines and kprobes (traces/import_calls.c) */
	uint64_t function_lines;	/* every "FUNC <-PARENT" line */
	uint64_t calls[S2_CALL_NR];	/* of the functions above */
	uint64_t probe_events;	/* kprobe events on clean_dcache_guest_page / invalidate_icache_guest_page */
	uint64_t dclean_bytes, iinval_bytes;	/* their size= arguments */
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
/*
 * A function-tracer line of @fmt: true if it is one (counted in @st when
 * @st is not NULL).  traces/import_calls.c.
 */
bool s2_import_count_call(const struct s2_import_format *fmt, const char *line,
			  struct s2_import_stats *st);

/*
 * The fields of an event no handler knows: a kprobe on the CMO helpers
 * ("(clean_dcache_guest_page+0x0/0x..) size=N") adds its size.  True if
 * it was one.
 */
bool s2_import_count_probe(const char *fields, struct s2_import_stats *st);

struct s2_source *s2_import_open(const char *path, const struct s2_import_format *format,
				 const char *layout_path, struct s2_import_stats *stats,
				 GError **err);

#endif
