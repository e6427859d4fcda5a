/*
 * sim/sim.h - one simulation run: a trace replayed by its vCPUs against the
 * kernel model, on the event engine.  Tests drive runs through this too.
 */
#ifndef S2SIM_SIM_H
#define S2SIM_SIM_H

#include "cursor.h"
#include "engine.h"
#include "timeline.h"
#include "vm.h"

enum s2_vcpu_state {
	S2_VCPU_GUEST,		/* computing; its event performs the next access */
	S2_VCPU_FAULT,		/* in the stage-2 fault path */
	S2_VCPU_BARRIER,	/* waiting for the other vCPUs and the VMM */
	S2_VCPU_DONE,
	S2_VCPU_IDLE,		/* the host actor: no host record read yet */
};

struct s2_vcpu {
	uint32_t id;
	struct s2_sim *sim;
	struct s2_event ev;
	enum s2_vcpu_state state;
	struct s2_record rec;		/* the record in flight */
	uint64_t guest_cycles;
	uint64_t barrier_cycles, barrier_since;
	uint64_t finished;
	uint64_t accesses;
	uint64_t host_clock;		/* the host actor: start of its previous record */
};

struct s2_phase {
	char *name;
	uint64_t start, end;
	struct s2_counters at_start, at_end;
};

struct s2_sim {
	struct s2_engine eng;
	struct s2_source *src;
	struct s2_cursor *cur;
	const struct s2_profile *prof;
	const struct s2_policy *pol;
	struct s2_vm *vm;
	struct s2_vcpu *vcpus;		/* nr_vcpus + 1: the last replays the host records */
	uint32_t nr_vcpus, nr_actors, nr_waiting, nr_done;
	uint64_t freq_mhz;		/* of the deltas when the trace is in ns */
	struct s2_event vmm_ev;
	uint64_t vmm_cycles, vmm_commands;
	GArray *phases;			/* struct s2_phase */
	uint64_t records;
	uint64_t makespan;
	GError *error;
	struct s2_timeline *timeline;	/* optional, owned by the caller */
	bool progress;			/* a progress line on stderr */
	bool check;			/* verify invariants (sim --check) */
	gint64 progress_at;
};

/* Takes ownership of @src. */
struct s2_sim *s2_sim_new(struct s2_source *src, const struct s2_profile *prof,
			  const struct s2_policy *pol);
void s2_sim_set_timeline(struct s2_sim *sim, struct s2_timeline *tl);
bool s2_sim_run(struct s2_sim *sim, GError **err);
void s2_sim_free(struct s2_sim *sim);

#endif
