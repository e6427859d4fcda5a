/*
 * sim/engine.c - a 4-ary min-heap of intrusive events.
 *
 * A 4-ary heap halves the depth of a binary heap and keeps the four children
 * of a node in one or two cache lines, which is what the hold model (pop the
 * earliest, push one later) spends its time on.  bench/ measures it.
 */
#include <glib.h>

#include "engine.h"

#define ARITY 4

static inline bool before(const struct s2_event *a, const struct s2_event *b)
{
	if (a->when != b->when)
		return a->when < b->when;
	if (a->prio != b->prio)
		return a->prio < b->prio;
	return a->seq < b->seq;
}

static inline void place(struct s2_engine *eng, uint32_t i, struct s2_event *ev)
{
	eng->heap[i] = ev;
	ev->slot = i;
}

static void sift_up(struct s2_engine *eng, uint32_t i)
{
	struct s2_event *ev = eng->heap[i];

	while (i) {
		uint32_t parent = (i - 1) / ARITY;

		if (!before(ev, eng->heap[parent]))
			break;
		place(eng, i, eng->heap[parent]);
		i = parent;
	}
	place(eng, i, ev);
}

static void sift_down(struct s2_engine *eng, uint32_t i)
{
	struct s2_event *ev = eng->heap[i];

	for (;;) {
		uint32_t first = i * ARITY + 1, best = i, end;
		struct s2_event *min = ev;

		if (first >= eng->len)
			break;
		end = MIN(first + ARITY, eng->len);
		for (uint32_t c = first; c < end; c++) {
			if (before(eng->heap[c], min)) {
				min = eng->heap[c];
				best = c;
			}
		}
		if (best == i)
			break;
		place(eng, i, min);
		i = best;
	}
	place(eng, i, ev);
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

static void heap_remove(struct s2_engine *eng, uint32_t i)
{
	struct s2_event *last = eng->heap[--eng->len];

	eng->heap[i]->slot = S2_EVENT_IDLE;
	if (i == eng->len)
		return;
	place(eng, i, last);
	sift_down(eng, i);
	sift_up(eng, last->slot);
}

void s2_engine_schedule(struct s2_engine *eng, struct s2_event *ev, uint64_t when)
{
	g_assert(when >= eng->now);
	if (s2_event_armed(ev))
		heap_remove(eng, ev->slot);
	if (eng->len == eng->cap) {
		eng->cap = eng->cap ? eng->cap * 2 : 64;
		eng->heap = g_renew(struct s2_event *, eng->heap, eng->cap);
	}
	ev->when = when;
	ev->seq = eng->next_seq++;
	place(eng, eng->len++, ev);
	sift_up(eng, ev->slot);
}

void s2_engine_cancel(struct s2_engine *eng, struct s2_event *ev)
{
	if (s2_event_armed(ev))
		heap_remove(eng, ev->slot);
}

bool s2_engine_step(struct s2_engine *eng)
{
	struct s2_event *ev;

	if (!eng->len)
		return false;
	ev = eng->heap[0];
	heap_remove(eng, 0);
	eng->now = ev->when;
	eng->nr_fired++;
	ev->fn(eng, ev);
	return true;
}

void s2_engine_run(struct s2_engine *eng)
{
	eng->stop = false;
	while (!eng->stop && s2_engine_step(eng))
		;
}
