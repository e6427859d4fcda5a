/*
 * sim/timeline.h - a run's per-vCPU activity as Chrome trace-event JSON
 * (complete "X" events, one thread per vCPU and one, numbered nr_vcpus, for
 * the host thread that runs MMU notifiers), which Perfetto and
 * chrome://tracing open.  Written as the run goes, atomically on commit.
 */
#ifndef S2SIM_TIMELINE_H
#define S2SIM_TIMELINE_H

#include <glib.h>
#include <stdbool.h>
#include <stdint.h>

struct s2_timeline;

/* Only spans overlapping [win_start, win_end) are written, clipped to it. */
struct s2_timeline *s2_timeline_open(const char *path, uint64_t freq_mhz, uint64_t win_start,
				     uint64_t win_end, GError **err);
void s2_timeline_span(struct s2_timeline *tl, uint32_t vcpu, const char *name,
		      uint64_t start, uint64_t cycles);
bool s2_timeline_commit(struct s2_timeline *tl, uint32_t nr_vcpus, GError **err);
void s2_timeline_abort(struct s2_timeline *tl);

#endif
