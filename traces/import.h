/*
 * traces/import.h - turn the text that `perf script` or `trace-cmd report`
 * prints for the arm64 KVM tracepoints (kvm_guest_fault, kvm_access_fault,
 * kvm_exit, kvm_entry, kvm_mmio, kvm_userspace_exit) into an s2sim trace.
 *
 * The two tools differ only in the prefix of each line (comm, thread id,
 * CPU, timestamp, event name); each describes its own in one
 * struct s2_import_format, and the event decoding is shared.  What the
 * conversion keeps and loses is in traces/FORMAT.md, "Importing kernel
 * traces".
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
};

extern const struct s2_import_format s2_import_perf_script;
extern const struct s2_import_format s2_import_trace_cmd;

struct s2_import_stats {
	const char *tool;	/* the format used (detected with --from auto) */
	uint64_t lines;
	uint64_t faults;	/* kvm_guest_fault events */
	uint64_t translation, access_flag, permission;	/* by FSC type */
	uint64_t access_fault_events;	/* kvm_access_fault, follows an AF fault */
	uint64_t records;	/* RAM accesses written */
	uint64_t mmio;		/* faults outside RAM, kept apart */
	uint64_t unsupported;	/* FSC the kernel rejects: not written */
	uint64_t repeats;	/* same IPA and kind as the thread's previous fault */
	uint64_t ignored;	/* events of other names */
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
