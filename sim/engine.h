/*
 * sim/engine.h - the discrete-event core: a 64-bit cycle clock and a
 * pending-event set ordered by (cycle, priority, sequence).
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
	uint32_t prio;		/* lower first among events of one cycle */
	bool armed;		/* its slot with sequence @seq is live */
};

/* A radix heap on 64-bit cycles, one level per 8-bit digit of 256 buckets each. */
#define S2_RADIX_BITS	8
#define S2_ENGINE_LEVELS	((64 + S2_RADIX_BITS - 1) / S2_RADIX_BITS)
#define S2_BUCKETS	(S2_ENGINE_LEVELS << S2_RADIX_BITS)

/*
 * A bucket slot carries the event's cycle, so bucket moves never touch the
 * event.  A cancelled or moved event leaves its old slot behind, stale,
 * dropped when it reaches @top: the event is then no longer armed for that
 * cycle, or its sequence is no longer the one @top recorded for it.
 */
struct s2_heap_slot {
	uint64_t when;
	struct s2_event *ev;
};

/* An event in @top, with the order it was pushed with: prio << 44 | seq. */
struct s2_top_slot {
	uint64_t order;
	struct s2_event *ev;
};

/*
 * Later buckets are chains of fixed chunks from a pool: no copying, no
 * regrowth.  99 slots make a 1600-byte malloc block, 25 cache lines, an odd
 * number: the first slots of consecutive chunks then fall in all 64 L1
 * sets.  With a 24-line block every chunk's first line went to one of only
 * 8 sets (cachegrind, hold model at 10^3 pending: 24 % more L1 misses).
 */
#define S2_CHUNK_SLOTS	99

struct s2_chunk {
	struct s2_chunk *next;	/* older, full chunks */
	struct s2_heap_slot slot[S2_CHUNK_SLOTS];
};

/*
 * While few events are pending they sit in @near, sorted by (cycle, order)
 * with the earliest last, and the radix heap below is empty: S2_NEAR_MAX
 * pending events move the set to the heap, S2_NEAR_LOW bring it back.
 */
#define S2_NEAR_MAX	32
#define S2_NEAR_LOW	8

struct s2_near_slot {
	uint64_t when;
	uint64_t order;		/* prio << 44 | seq */
	struct s2_event *ev;
};

/*
 * @top holds the events at cycle @base, as a 4-ary min-heap on order;
 * bucket[256 * level + digit] holds, unsorted, those whose cycle first
 * differs from @base in 8-bit digit @level and has @digit there; @run,
 * from @run_pos on, holds more of level 0, sorted by cycle.
 * Bit b of @nonempty is set while bucket b holds slots; bit w of @summary
 * while word w of @nonempty is not zero.  Buckets are numbered by level,
 * then digit, so the lowest set bit is the bucket to split next.
 */
struct s2_engine {
	uint64_t now;
	uint64_t next_seq;
	uint64_t nr_fired;
	uint64_t base;
	uint32_t summary;
	uint64_t nonempty[S2_BUCKETS / 64];
	uint64_t pending;		/* armed events, not counting stale slots */
	bool radix;			/* the events are in the radix heap, not in @near */
	uint32_t near_len;
	struct s2_near_slot near[S2_NEAR_MAX];
	struct s2_top_slot *top;
	uint32_t top_len, top_cap;
	struct s2_chunk *bucket[S2_BUCKETS];	/* the chunk being filled first */
	uint8_t fill[S2_BUCKETS];		/* slots used in that chunk; the rest are full */
	uint64_t earliest[S2_BUCKETS];		/* the least cycle in each bucket, or ~0 */
	struct s2_chunk *spare;			/* emptied chunks */
	struct s2_heap_slot *run, *run_tmp;	/* level 0 of the last level-1 split, by cycle */
	uint32_t run_pos, run_len, run_cap;
	bool stop;
};

void s2_engine_init(struct s2_engine *eng);
void s2_engine_destroy(struct s2_engine *eng);
void s2_event_init(struct s2_event *ev, s2_event_fn fn);
/*
 * Schedule @ev at absolute cycle @when (>= now); an armed event is moved.
 * Moving and cancelling are lazy (sim/engine.c): an event's memory must
 * stay valid until the engine is destroyed, even once it is cancelled.
 */
void s2_engine_schedule(struct s2_engine *eng, struct s2_event *ev, uint64_t when);
void s2_engine_cancel(struct s2_engine *eng, struct s2_event *ev);
/* The event that fires next, or NULL when none is pending. */
struct s2_event *s2_engine_peek(struct s2_engine *eng);
/* Fire events in order until none is left or s2_engine_stop() is called. */
void s2_engine_run(struct s2_engine *eng);
/* Pop and fire the earliest event; false when the set is empty. */
bool s2_engine_step(struct s2_engine *eng);

static inline bool s2_event_armed(const struct s2_event *ev)
{
	return ev->armed;
}

#endif
