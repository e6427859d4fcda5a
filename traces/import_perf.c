/*
 * traces/import_perf.c - the line prefix of `perf script` for tracepoints.
 *
 * With its default fields (comm, tid, cpu, time, event, trace) perf prints
 *
 *        CPU 0/KVM  4321 [003]  1234.567892: kvm:kvm_guest_fault: ipa 0x40a3c000, ...
 *
 * comm right-aligned in 16 columns (it may hold blanks), the thread id (or
 * pid/tid with -F +pid), the CPU in brackets, seconds with 6 decimals (9
 * with --ns), then the event as system:name right-aligned to the longest
 * name recorded.
 */
#include "import.h"

const struct s2_import_format s2_import_perf_script = {
	.name = "perf-script",
	.line = "^\\s*(?<comm>.*?)\\s+(?:-?\\d+/)?(?<tid>\\d+)\\s+\\[\\d+\\]\\s+"
		"(?<sec>\\d+)\\.(?<frac>\\d+):\\s+(?:\\w+:)?(?<event>\\w+):\\s*(?<fields>.*)$",
};
