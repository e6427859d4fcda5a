/*
 * sim/engine.c - a radix heap of intrusive events.
 *
 * A discrete-event clock never goes back, so the pending set only ever holds
 * keys at or after the last minimum: a radix heap.  Events at the current
 * cycle (@base) sit in @top, a small 4-ary heap on (priority, sequence) that
 * gives the engine its deterministic tie order; every later event sits
 * unsorted in the bucket named by the highest 8-bit digit in which its cycle
 * differs from @base, and by its value there.  When @top runs dry, the lowest
 * non-empty bucket is split: its earliest cycle becomes @base and each of its
 * slots drops to a lower level.  A slot moves at most 8 times in its life,
 * in practice three or four, always by a sequential append into a chunk from
 * a pool, and never touches its event on the way: with 10^6 events pending
 * that keeps it clear of the cache misses a heap pays on every sift, and
 * lets it prefetch the events about to fire.  A bucket slot is 16 bytes,
 * the cycle and the event; the order within a cycle is read from the event
 * only when the slot enters @top.
 *
 * So that moves need not update the event, cancelling or moving an armed
 * event leaves its old slot behind; it is dropped when it reaches @top and
 * the event is not armed for that cycle, or when it pops and the event's
 * sequence is no longer the one @top recorded (top_push()).  The
 * simulator never cancels and rarely moves an armed event, so stale slots
 * are few.  Pops come out exactly in (cycle, priority, sequence) order, as
 * from the 4-ary heap this replaced: outputs did not change.
 * bench/engine_hold measures it.
 */
#include <glib.h>

#include "engine.h"

#define ARITY		4
#define SEQ_BITS	44	/* 1.7e13 schedules per run; priorities below 2^20 */
#define SEQ_MASK	((1ULL << SEQ_BITS) - 1)
#define DIGIT_MASK	((1U << S2_RADIX_BITS) - 1)
#define PREFETCH_CYCLES	4	/* how far ahead prefetch_ahead() looks */

/* @top holds one cycle: order alone decides. */
static inline bool before(const struct s2_top_slot *a, const struct s2_top_slot *b)
{
	return a->order < b->order;
}

static void sift_up(struct s2_top_slot *heap, uint32_t i, struct s2_top_slot s)
{
	while (i) {
		uint32_t parent = (i - 1) / ARITY;

		if (!before(&s, &heap[parent]))
			break;
		heap[i] = heap[parent];
		i = parent;
	}
	heap[i] = s;
}

static void sift_down(struct s2_top_slot *heap, uint32_t len, uint32_t i, struct s2_top_slot s)
{
	for (;;) {
		uint32_t first = i * ARITY + 1, best = 0, end;
		const struct s2_top_slot *min = &s;

		if (first >= len)
			break;
		end = MIN(first + ARITY, len);
		for (uint32_t c = first; c < end; c++) {
			if (before(&heap[c], min)) {
				min = &heap[c];
				best = c;
			}
		}
		if (!best)
			break;
		heap[i] = *min;
		i = best;
	}
	heap[i] = s;
}

static void free_chain(struct s2_chunk *c)
{
	while (c) {
		struct s2_chunk *next = c->next;

		g_free(c);
		c = next;
	}
}

void s2_engine_init(struct s2_engine *eng)
{
	*eng = (struct s2_engine){ 0 };
	memset(eng->fill, S2_CHUNK_SLOTS, sizeof(eng->fill));	/* no chunk yet: as if full */
	memset(eng->earliest, 0xff, sizeof(eng->earliest));
}

void s2_engine_destroy(struct s2_engine *eng)
{
	for (int b = 0; b < S2_BUCKETS; b++)
		free_chain(eng->bucket[b]);
	free_chain(eng->spare);
	g_free(eng->top);
	s2_engine_init(eng);
}

void s2_event_init(struct s2_event *ev, s2_event_fn fn)
{
	*ev = (struct s2_event){ .fn = fn };
}

/*
 * A slot reaching @top is the first time the engine reads its event: a
 * stale slot is dropped here when the event is no longer armed for this
 * cycle, and otherwise enters with the event's order as it is now.  A slot
 * left behind by a move to the same cycle enters with that same order; the
 * first of the two to pop fires the event, and the other is then stale
 * (slot_live()).
 */
static inline G_ALWAYS_INLINE void top_push(struct s2_engine *eng, struct s2_heap_slot s)
{
	const struct s2_event *ev = s.ev;

	if (!ev->armed || ev->when != s.when)
		return;
	if (G_UNLIKELY(eng->top_len == eng->top_cap)) {
		eng->top_cap = eng->top_cap ? eng->top_cap * 2 : 64;
		eng->top = g_renew(struct s2_top_slot, eng->top, eng->top_cap);
	}
	sift_up(eng->top, eng->top_len++,
		(struct s2_top_slot){ (uint64_t)ev->prio << SEQ_BITS | ev->seq, s.ev });
}

static inline void top_pop(struct s2_engine *eng)
{
	if (--eng->top_len)
		sift_down(eng->top, eng->top_len, 0, eng->top[eng->top_len]);
}

static struct s2_chunk *chunk_get(struct s2_engine *eng, struct s2_chunk *next)
{
	struct s2_chunk *c = eng->spare;

	if (c)
		eng->spare = c->next;
	else
		c = g_new(struct s2_chunk, 1);
	c->next = next;
	return c;
}

static inline G_ALWAYS_INLINE void bucket_add(struct s2_engine *eng, struct s2_heap_slot s)
{
	uint64_t diff = s.when ^ eng->base;
	unsigned int level, digit;
	unsigned int b;

	if (!diff) {
		top_push(eng, s);
		return;
	}
	level = (63 - __builtin_clzll(diff)) / S2_RADIX_BITS;	/* a shift */
	digit = (s.when >> (level * S2_RADIX_BITS)) & DIGIT_MASK;
	b = level << S2_RADIX_BITS | digit;
	/* the fill count lives in the engine, so a sparse bucket's chunk is only written */
	if (G_UNLIKELY(eng->fill[b] == S2_CHUNK_SLOTS)) {
		eng->bucket[b] = chunk_get(eng, eng->bucket[b]);
		eng->fill[b] = 0;
	}
	eng->bucket[b]->slot[eng->fill[b]++] = s;
	eng->earliest[b] = MIN(eng->earliest[b], s.when);
	eng->nonempty[b / 64] |= 1ULL << (b % 64);
	eng->summary |= 1U << (b / 64);
}

/*
 * Level 0 is split one cycle at a time, in order: the events four non-empty
 * cycles on are the ones whose cache lines to ask for while these fire.
 * With 10^6 events pending this halves the time per event (the event is
 * the one line every pop must touch); with few pending it costs nothing.
 */
static void prefetch_ahead(struct s2_engine *eng)
{
	unsigned int skip = PREFETCH_CYCLES, b;

	/* level 0 is buckets 0 .. 2^S2_RADIX_BITS - 1: one cycle each */
	for (unsigned int w = 0; w < (1U << S2_RADIX_BITS) / 64; w++) {
		for (uint64_t bits = eng->nonempty[w]; bits; bits &= bits - 1) {
			if (--skip)
				continue;
			b = w * 64 + __builtin_ctzll(bits);
			for (uint32_t i = 0; i < MIN(eng->fill[b], 8u); i++) {
				struct s2_event *ev = eng->bucket[b]->slot[i].ev;

				/* the event's first and last fields: it may straddle two lines */
				__builtin_prefetch(ev);
				__builtin_prefetch(&ev->armed);
			}
			return;
		}
	}
}

/*
 * @top is empty: the lowest non-empty bucket's earliest cycle becomes the
 * base, and its slots spread over the levels below it.  The earliest cycle
 * is kept as slots arrive, so a split reads its bucket once, not twice: at
 * 10^6 pending a bucket is megabytes, beyond the L2 cache.
 */
static bool advance_base(struct s2_engine *eng)
{
	struct s2_chunk *chain, *c, *next;
	unsigned int w, b;

	if (!eng->summary)
		return false;
	w = __builtin_ctz(eng->summary);
	b = w * 64 + __builtin_ctzll(eng->nonempty[w]);
	chain = eng->bucket[b];
	eng->nonempty[w] &= eng->nonempty[w] - 1;
	if (!eng->nonempty[w])
		eng->summary &= ~(1U << w);
	if (b >> S2_RADIX_BITS == 0)
		prefetch_ahead(eng);
	eng->base = eng->earliest[b];
	eng->earliest[b] = UINT64_MAX;
	/*
	 * The older, full chunks first, each handed to the pool once read: the
	 * next chunk a lower bucket takes is then one still in the cache.
	 * The order slots are added in does not matter: keys alone order pops.
	 */
	for (c = chain->next; c; c = next) {
		next = c->next;
		if (next)
			__builtin_prefetch(next);
		for (uint32_t i = 0; i < S2_CHUNK_SLOTS; i++)
			bucket_add(eng, c->slot[i]);
		c->next = eng->spare;
		eng->spare = c;
	}
	/* the bucket keeps its first chunk, empty: sparse buckets refill without a trip to the pool */
	chain->next = NULL;
	for (uint32_t i = 0; i < eng->fill[b]; i++)
		bucket_add(eng, chain->slot[i]);
	eng->fill[b] = 0;
	return true;
}

static inline bool slot_live(const struct s2_top_slot *s)
{
	return s->ev->armed && s->ev->seq == (s->order & SEQ_MASK);
}

void s2_engine_schedule(struct s2_engine *eng, struct s2_event *ev, uint64_t when)
{
	g_assert(when >= eng->now);
	g_assert(ev->prio < (1U << (64 - SEQ_BITS)));
	eng->pending += !ev->armed;
	ev->armed = true;
	ev->when = when;
	ev->seq = eng->next_seq++;
	bucket_add(eng, (struct s2_heap_slot){ when, ev });
}

void s2_engine_cancel(struct s2_engine *eng, struct s2_event *ev)
{
	eng->pending -= ev->armed;
	ev->armed = false;
}

/* The live event that fires next, or NULL; stale slots on the way are dropped. */
struct s2_event *s2_engine_peek(struct s2_engine *eng)
{
	for (;;) {
		if (!eng->top_len) {
			if (!advance_base(eng))
				return NULL;
			continue;	/* every slot of that cycle may have been stale */
		}
		if (slot_live(&eng->top[0]))
			return eng->top[0].ev;
		top_pop(eng);
	}
}

/* The earliest event leaves the set and fires; its handler may schedule it again. */
bool s2_engine_step(struct s2_engine *eng)
{
	struct s2_event *ev = s2_engine_peek(eng);

	if (!ev)
		return false;
	top_pop(eng);
	ev->armed = false;
	eng->pending--;
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
