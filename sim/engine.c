/*
 * sim/engine.c - a 4-ary min-heap of intrusive events.
 *
 * A 4-ary heap halves the depth of a binary heap and keeps the four children
 * of a node in one or two cache lines; each slot holds the ordering keys next
 * to the event pointer, so comparisons never leave the heap array.  The event
 * being fired stays at the top while its handler runs, so an event that
 * schedules itself again (a vCPU's next step, the hold model) costs one
 * sift-down instead of a pop and a push.  bench/engine_hold measures it.
 */
#include <glib.h>

#include "engine.h"

#define ARITY		4
#define SEQ_BITS	44	/* 1.7e13 schedules per run; priorities below 2^20 */

static inline bool before(const struct s2_heap_slot *a, const struct s2_heap_slot *b)
{
	return a->when < b->when || (a->when == b->when && a->order < b->order);
}

static inline void place(struct s2_engine *eng, uint32_t i, struct s2_heap_slot s)
{
	eng->heap[i] = s;
	s.ev->slot = i;
}

static void sift_up(struct s2_engine *eng, uint32_t i, struct s2_heap_slot s)
{
	while (i) {
		uint32_t parent = (i - 1) / ARITY;

		if (!before(&s, &eng->heap[parent]))
			break;
		place(eng, i, eng->heap[parent]);
		i = parent;
	}
	place(eng, i, s);
}

static void sift_down(struct s2_engine *eng, uint32_t i, struct s2_heap_slot s)
{
	for (;;) {
		uint32_t first = i * ARITY + 1, best = 0, end;
		const struct s2_heap_slot *min = &s;

		if (first >= eng->len)
			break;
		end = MIN(first + ARITY, eng->len);
		for (uint32_t c = first; c < end; c++) {
			if (before(&eng->heap[c], min)) {
				min = &eng->heap[c];
				best = c;
			}
		}
		if (!best)
			break;
		place(eng, i, *min);
		i = best;
	}
	place(eng, i, s);
}

void s2_engine_init(struct s2_engine *eng)
{
	*eng = (struct s2_engine){ 0 };
}

void s2_engine_destroy(struct s2_engine *eng)
{
	g_free(eng->heap);
	eng->heap = NULL;
	eng->len = eng->cap = 0;
}

void s2_event_init(struct s2_event *ev, s2_event_fn fn)
{
	*ev = (struct s2_event){ .fn = fn, .slot = S2_EVENT_IDLE };
}

static struct s2_heap_slot slot_for(struct s2_engine *eng, struct s2_event *ev, uint64_t when)
{
	ev->when = when;
	ev->seq = eng->next_seq++;
	return (struct s2_heap_slot){ when, (uint64_t)ev->prio << SEQ_BITS | ev->seq, ev };
}

/* Take slot @i out: the last slot fills the hole and moves whichever way it must. */
static void heap_remove(struct s2_engine *eng, uint32_t i)
{
	struct s2_heap_slot last = eng->heap[--eng->len];

	eng->heap[i].ev->slot = S2_EVENT_IDLE;
	if (i == eng->len)
		return;
	if (i && before(&last, &eng->heap[(i - 1) / ARITY]))
		sift_up(eng, i, last);
	else
		sift_down(eng, i, last);
}

void s2_engine_schedule(struct s2_engine *eng, struct s2_event *ev, uint64_t when)
{
	g_assert(when >= eng->now);
	g_assert(ev->prio < (1U << (64 - SEQ_BITS)));
	if (ev == eng->firing) {
		eng->firing = NULL;
		if (ev->slot == 0) {
			sift_down(eng, 0, slot_for(eng, ev, when));
			return;
		}
	}
	if (s2_event_armed(ev))
		heap_remove(eng, ev->slot);
	if (eng->len == eng->cap) {
		eng->cap = eng->cap ? eng->cap * 2 : 64;
		eng->heap = g_renew(struct s2_heap_slot, eng->heap, eng->cap);
	}
	sift_up(eng, eng->len++, slot_for(eng, ev, when));
}

void s2_engine_cancel(struct s2_engine *eng, struct s2_event *ev)
{
	if (ev == eng->firing)
		eng->firing = NULL;
	if (s2_event_armed(ev))
		heap_remove(eng, ev->slot);
}

/* The earliest event fires; unless its handler scheduled it again, it leaves the heap. */
bool s2_engine_step(struct s2_engine *eng)
{
	struct s2_event *ev;

	if (!eng->len)
		return false;
	ev = eng->heap[0].ev;
	eng->now = ev->when;
	eng->nr_fired++;
	eng->firing = ev;
	ev->fn(eng, ev);
	if (eng->firing == ev) {
		eng->firing = NULL;
		heap_remove(eng, ev->slot);
	}
	return true;
}

void s2_engine_run(struct s2_engine *eng)
{
	eng->stop = false;
	while (!eng->stop && s2_engine_step(eng))
		;
}
