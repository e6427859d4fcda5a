/*
 * sim/engine.h - the discrete-event core: a 64-bit cycle clock and a
 * pending-event set ordered by (cycle, sequence).
 *
 * Events are intrusive: callers embed struct s2_event in their own objects
 * (a vCPU owns its event), so scheduling never allocates.  Ties on the cycle
 * are broken by the event's priority (the simulator gives each actor its id),
 * then by the order in which events were scheduled, which makes every run
 * with the same inputs replay identically - and makes the order of two
 * actors' events at one cycle independent of when each was scheduled.
 */
#ifndef S2SIM_ENGINE_H
#define S2SIM_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

struct s2_engine;
struct s2_event;

typedef void (*s2_event_fn)(struct s2_engine *eng, struct s2_event *ev);

struct s2_event {
	uint64_t when;
	uint64_t seq;
	s2_event_fn fn;
	uint32_t slot;		/* index in the heap, or S2_EVENT_IDLE */
	uint32_t prio;		/* lower first among events of one cycle */
};

#define S2_EVENT_IDLE UINT32_MAX

/* A heap slot carries the event's ordering keys, so comparisons stay in the array. */
struct s2_heap_slot {
	uint64_t when;
	uint64_t order;		/* prio << 44 | seq */
	struct s2_event *ev;
};

struct s2_engine {
	uint64_t now;
	uint64_t next_seq;
	uint64_t nr_fired;
	struct s2_heap_slot *heap;	/* 4-ary min-heap on (when, order) */
	uint32_t len, cap;
	bool stop;
	struct s2_event *firing;	/* still in the heap while its handler runs */
};

void s2_engine_init(struct s2_engine *eng);
void s2_engine_destroy(struct s2_engine *eng);
void s2_event_init(struct s2_event *ev, s2_event_fn fn);
/* Schedule @ev at absolute cycle @when (>= now); an armed event is moved. */
void s2_engine_schedule(struct s2_engine *eng, struct s2_event *ev, uint64_t when);
void s2_engine_cancel(struct s2_engine *eng, struct s2_event *ev);
/* Fire events in order until none is left or s2_engine_stop() is called. */
void s2_engine_run(struct s2_engine *eng);
/* Pop and fire the earliest event; false when the set is empty. */
bool s2_engine_step(struct s2_engine *eng);

static inline bool s2_event_armed(const struct s2_event *ev)
{
	return ev->slot != S2_EVENT_IDLE;
}

#endif
