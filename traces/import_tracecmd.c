/*
 * traces/import_tracecmd.c - the line prefix of `trace-cmd report`.
 *
 *        CPU 0/KVM-4321  [003]  1234.567892: kvm_guest_fault:      ipa 0x40a3c000, ...
 *
 * comm and thread id joined by the last '-' (comm may hold blanks and
 * dashes), the CPU in brackets, optionally the latency flags (-l, e.g.
 * "d..2."), seconds with 6 decimals (9 with -t), then the event name,
 * padded.  Before the events it prints "cpus=N" and, in newer versions,
 * "version = N" and "CPU N is empty".  An event line looks like ftrace's
 * own; the "cpus=N" line it always starts with tells them apart.  The
 * function tracer's lines are events named "function" whose fields
 * libtraceevent's function plugin prints as "func <-- parent", maybe
 * indented by call depth; they are counted (traces/import_calls.c).
 */
#include "import.h"

#define TRACECMD_PREFIX	"^\\s*(?<comm>.*)-(?<tid>\\d+)\\s+\\[\\d+\\]\\s+(?:\\S+\\s+)?" \
			"(?<sec>\\d+)\\.(?<frac>\\d+):\\s+"

const struct s2_import_format s2_import_trace_cmd = {
	.name = "trace-cmd",
	.line = TRACECMD_PREFIX "(?:\\w+:)?(?<event>\\w+):\\s*(?<fields>.*)$",
	.call = TRACECMD_PREFIX "(?:ftrace:)?function:\\s+(?<func>[\\w.]+)\\s+<--?\\s*(?<parent>[\\w.]+)\\s*$",
	.noise = "^(cpus=\\d+|version\\s*=.*|CPU\\s*\\d+ is empty.*)$",
	/* report always starts with these, which is how --from auto tells it from ftrace */
	.header = "^(cpus=\\d+|version\\s*=\\s*\\d+)$",
};
