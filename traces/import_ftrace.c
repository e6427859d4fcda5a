/*
 * traces/import_ftrace.c - the line prefix of ftrace's own text output:
 * the `trace` and `trace_pipe` files of tracefs (/sys/kernel/tracing).
 *
 * kernel/trace/trace_output.c prints each event as
 *
 *        CPU 0/KVM-4321    [003] d..1.  1234.567890: kvm_guest_fault: ipa 0x40a3c000, ...
 *
 * comm right-aligned in 16 columns (it may hold blanks and dashes; "<...>"
 * when the comm was not recorded), '-', the pid left-aligned in 7, with the
 * print-tgid option a "(   TGID)" column, the CPU in brackets, with the
 * irq-info option (on by default) the latency flags (irqs-off, need-resched,
 * hardirq/softirq, preempt-depth, from 5.15 migrate-disable: "d..1."), the
 * timestamp as seconds with 6 decimals, then the event name without its
 * system and a single blank.  The `trace` file starts with '#' lines
 * ("# tracer: nop", "# entries-in-buffer/entries-written: ...", the column
 * legend); `trace_pipe` has none.  The function tracer's lines
 * ("...: funcname <-caller", with the sym-offset option "func+0x0/0x40
 * <-caller+0x1a4/0x3c0") are counted (traces/import_calls.c); stack traces
 * ("<stack trace>", " => func") and "CPU:N [LOST M EVENTS]" carry no event.
 */
#include "import.h"

#define SYM_OFFSET	"(?:\\+0x[0-9a-f]+/0x[0-9a-f]+)?"
#define FTRACE_PREFIX	"^\\s*(?<comm>.*)-(?<tid>\\d+)\\s+(?:\\(\\s*(?:\\d+|-+)\\)\\s+)?\\[\\d+\\]\\s+" \
			"(?:[^\\s\\d]\\S*\\s+)?(?<sec>\\d+)\\.(?<frac>\\d+):\\s+"

const struct s2_import_format s2_import_ftrace = {
	.name = "ftrace",
	.line = FTRACE_PREFIX "(?<event>\\w+):\\s*(?<fields>.*)$",
	.noise = FTRACE_PREFIX "(?:\\S+ <-\\S+|<(?:user )?stack trace>)\\s*$"
		 "|^ => |^CPU:\\d+ \\[LOST \\d+ EVENTS\\]$",
	.header = "^# (?:tracer: |entries-in-buffer/entries-written: |\\s*TASK-PID)",
	.call = FTRACE_PREFIX "(?<func>[\\w.]+)" SYM_OFFSET "\\s+<-(?<parent>[\\w.]+)" SYM_OFFSET "\\s*$",
};
