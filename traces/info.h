/*
 * traces/info.h - what a trace holds, without simulating it: record counts,
 * the pages and blocks it touches, and how often vCPUs touch a 2 MiB block
 * at nearly the same time (the faults that contend for one mapping).
 */
#ifndef S2SIM_INFO_H
#define S2SIM_INFO_H

#include "source.h"

struct s2_trace_info {
	struct s2_trace_header hdr;
	const char *encoding;
	uint64_t records, accesses, vmm;
	uint64_t per_kind[S2_REC_NR];
	uint64_t *per_vcpu;		/* hdr.nr_vcpus entries */
	uint64_t pages, blocks;		/* distinct 4 KiB pages and 2 MiB blocks */
	/*
	 * Concurrency.  Each vCPU's time is the sum of its deltas; a VMM
	 * record is a barrier that starts every vCPU at the latest one's time
	 * plus its own delta.  A first touch is the earliest access to a
	 * 2 MiB block, again after any unmap overlapping the block.  Times
	 * are cycles when the trace is in cycles or gives freq-mhz, else ns.
	 */
	bool in_cycles;
	uint64_t window;
	uint64_t first_touches;
	uint64_t shared_first_touches;	/* with another vCPU inside the window */
	uint64_t concurrent;		/* accesses by other vCPUs inside a window */
	uint64_t max_concurrent;	/* the most after one first touch */
};

bool s2_trace_info_compute(const char *path, uint64_t window, struct s2_trace_info *info,
			   GError **err);
void s2_trace_info_clear(struct s2_trace_info *info);

#endif
