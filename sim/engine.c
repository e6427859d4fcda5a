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
 * slots drops to a lower level; a level-1 bucket of many slots is instead
 * sorted by cycle into @run, which stands for level 0 until it is used up
 * (sort_into_run()).  A slot moves at most 8 times in its life,
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
 *
 * While few events are pending, none of this is used: they sit in @near, a
 * small sorted array (see "The small set" below).  bench/engine_hold
 * measures the heap, sim the small set.
 */
#include <glib.h>
#include <string.h>

#include "engine.h"

#define ARITY		4
#define SEQ_BITS	44	/* 1.7e13 schedules per run; priorities below 2^20 */
#define SEQ_MASK	((1ULL << SEQ_BITS) - 1)
#define DIGIT_MASK	((1U << S2_RADIX_BITS) - 1)
#define PREFETCH_CYCLES	4	/* how far ahead prefetch_ahead() looks */
#define RUN_AHEAD	32	/* how far ahead in @run events are prefetched */
#define RUN_MIN		32	/* level-1 buckets of fewer slots are split, not sorted */
/* the words of @nonempty, and bits of @summary, that hold level 0 */
#define LEVEL0_WORDS	((1U << ((1U << S2_RADIX_BITS) / 64)) - 1)

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
	g_free(eng->run);
	g_free(eng->run_tmp);
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

static inline void prefetch_event(const struct s2_event *ev)
{
	/* the event's first and last fields: it may straddle two lines */
	__builtin_prefetch(ev);
	__builtin_prefetch(&ev->armed);
}

/*
 * Level-0 buckets are split one cycle at a time, in order: the events four
 * non-empty cycles on are the ones whose cache lines to ask for while these
 * fire (the event is the one line every pop must touch).  They hold the
 * events scheduled a few cycles ahead, as most of the simulator's are;
 * @run prefetches its own.
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
			for (uint32_t i = 0; i < MIN(eng->fill[b], 8u); i++)
				prefetch_event(eng->bucket[b]->slot[i].ev);
			return;
		}
	}
}

/* Bucket @b leaves the set of non-empty buckets; its chain is returned, to be emptied. */
static struct s2_chunk *take_bucket(struct s2_engine *eng, unsigned int b)
{
	unsigned int w = b / 64;

	eng->nonempty[w] &= ~(1ULL << (b % 64));
	if (!eng->nonempty[w])
		eng->summary &= ~(1U << w);
	eng->earliest[b] = UINT64_MAX;
	return eng->bucket[b];
}

/*
 * Hand the older, full chunks of a taken bucket to the pool, each right
 * after @body has read its slots: the next chunk a lower bucket takes is one
 * still in the cache.  The bucket keeps its first chunk, empty, so that a
 * sparse bucket refills without a trip to the pool.
 */
#define for_each_taken_slot(eng, b, chain, s, body)				\
	do {									\
		struct s2_chunk *c_, *next_;					\
										\
		for (c_ = (chain)->next; c_; c_ = next_) {			\
			next_ = c_->next;					\
			if (next_)						\
				__builtin_prefetch(next_);			\
			for (uint32_t i_ = 0; i_ < S2_CHUNK_SLOTS; i_++) {	\
				struct s2_heap_slot s = c_->slot[i_];		\
				body;						\
			}							\
			c_->next = (eng)->spare;				\
			(eng)->spare = c_;					\
		}								\
		(chain)->next = NULL;						\
		for (uint32_t i_ = 0; i_ < (eng)->fill[b]; i_++) {		\
			struct s2_heap_slot s = (chain)->slot[i_];		\
			body;							\
		}								\
		(eng)->fill[b] = 0;						\
	} while (0)

/*
 * Bucket @b's earliest cycle becomes the base, and its slots spread over
 * the levels below it.  The earliest cycle is kept as slots arrive, so a
 * split reads its bucket once, not twice: at 10^6 pending a bucket is
 * megabytes, beyond the L2 cache.  The order slots are added in does not
 * matter: keys alone order pops.
 */
static inline G_ALWAYS_INLINE void split_bucket(struct s2_engine *eng, unsigned int b)
{
	uint64_t earliest = eng->earliest[b];
	struct s2_chunk *chain = take_bucket(eng, b);

	if (b >> S2_RADIX_BITS == 0)
		prefetch_ahead(eng);
	eng->base = earliest;
	for_each_taken_slot(eng, b, chain, s, bucket_add(eng, s));
}

static void run_reserve(struct s2_engine *eng, uint32_t n)
{
	if (n <= eng->run_cap)
		return;
	eng->run_cap = MAX(n, 2 * eng->run_cap);
	eng->run = g_renew(struct s2_heap_slot, eng->run, eng->run_cap);
	eng->run_tmp = g_renew(struct s2_heap_slot, eng->run_tmp, eng->run_cap);
}

/*
 * A level-1 bucket holds the slots of the next 256 cycles at most.  When
 * it holds many, rather than spread them over the level-0 buckets, a cache
 * line or more apiece, they are sorted by cycle into @run by counting on
 * the cycle's lowest digit, and @run then fires front to back: the cycles
 * to come are known in order, and the events to prefetch are simply those
 * RUN_AHEAD places on.  A bucket of few slots is split as the others are:
 * most of its slots go to @top on the way, without a trip through memory.
 */
static inline bool wants_run(const struct s2_engine *eng, unsigned int b)
{
	return b >> S2_RADIX_BITS == 1 && (eng->bucket[b]->next || eng->fill[b] >= RUN_MIN);
}

static void sort_into_run(struct s2_engine *eng, unsigned int b)
{
	struct s2_chunk *chain = eng->bucket[b];
	uint32_t n = eng->fill[b], count[1U << S2_RADIX_BITS], at = 0, sum = 0;
	struct s2_heap_slot *v;

	memset(count, 0, sizeof(count));
	for (struct s2_chunk *c = chain->next; c; c = c->next)
		n += S2_CHUNK_SLOTS;
	run_reserve(eng, n);
	take_bucket(eng, b);
	v = eng->run_tmp;
	for_each_taken_slot(eng, b, chain, s, (count[s.when & DIGIT_MASK]++, v[at++] = s));
	for (uint32_t d = 0; d <= DIGIT_MASK; d++) {
		uint32_t k = count[d];

		count[d] = sum;
		sum += k;
	}
	for (uint32_t i = 0; i < n; i++)
		eng->run[count[v[i].when & DIGIT_MASK]++] = v[i];
	eng->run_pos = 0;
	eng->run_len = n;
	for (uint32_t i = 0; i < MIN(n, RUN_AHEAD); i++)
		prefetch_event(eng->run[i].ev);
}

/*
 * The next cycle of level 0: the head of @run or the first level-0 bucket
 * (events scheduled into the current 256 cycles since the run was sorted),
 * whichever is earlier; its slots from both go to @top.
 */
static void advance_level0(struct s2_engine *eng)
{
	uint64_t cycle = eng->run_pos < eng->run_len ? eng->run[eng->run_pos].when : UINT64_MAX;

	if (eng->summary & LEVEL0_WORDS) {
		unsigned int w = __builtin_ctz(eng->summary);
		unsigned int b = w * 64 + __builtin_ctzll(eng->nonempty[w]);

		if (eng->earliest[b] <= cycle) {
			cycle = eng->earliest[b];
			split_bucket(eng, b);
		}
	}
	eng->base = cycle;
	while (eng->run_pos < eng->run_len && eng->run[eng->run_pos].when == cycle) {
		if (eng->run_pos + RUN_AHEAD < eng->run_len)
			prefetch_event(eng->run[eng->run_pos + RUN_AHEAD].ev);
		top_push(eng, eng->run[eng->run_pos++]);
	}
	if (eng->run_pos == eng->run_len)
		eng->run_pos = eng->run_len = 0;
}

/*
 * @top is empty: the next cycle comes from level 0 while it holds slots;
 * otherwise the lowest non-empty bucket is split, a level-1 bucket into
 * a sorted @run.
 */
static bool advance_base(struct s2_engine *eng)
{
	if (eng->run_pos == eng->run_len && !(eng->summary & LEVEL0_WORDS)) {
		unsigned int w, b;

		if (!eng->summary)
			return false;
		w = __builtin_ctz(eng->summary);
		b = w * 64 + __builtin_ctzll(eng->nonempty[w]);
		if (!wants_run(eng, b)) {
			split_bucket(eng, b);
			return true;
		}
		sort_into_run(eng, b);
	}
	advance_level0(eng);
	return true;
}

static inline bool slot_live(const struct s2_top_slot *s)
{
	return s->ev->armed && s->ev->seq == (s->order & SEQ_MASK);
}

/*
 * The small set.  A discrete-event run whose vCPUs mostly wait for a lock
 * has a handful of events pending (a 512-vCPU first touch: 2 to 7), and
 * for those the radix heap's moves from level to level cost more than
 * keeping them sorted: an insertion touches a few slots, a pop none.
 * Entries are exact (a move or cancel removes the old one), so nothing in
 * @near is ever stale.
 */
static inline G_ALWAYS_INLINE void near_insert(struct s2_engine *eng, struct s2_event *ev)
{
	uint64_t when = ev->when, order = (uint64_t)ev->prio << SEQ_BITS | ev->seq;
	uint32_t j = eng->near_len++;

	/* descending: the earliest is last, so a pop moves nothing */
	for (; j; j--) {
		const struct s2_near_slot *p = &eng->near[j - 1];

		if (p->when > when || (p->when == when && p->order > order))
			break;
		eng->near[j] = *p;
	}
	eng->near[j] = (struct s2_near_slot){ when, order, ev };
}

static void near_remove(struct s2_engine *eng, const struct s2_event *ev)
{
	uint32_t i = 0;

	while (eng->near[i].ev != ev)
		i++;
	memmove(&eng->near[i], &eng->near[i + 1], (--eng->near_len - i) * sizeof(eng->near[0]));
}

/* @near is full: its events go to the radix heap, based at the present cycle. */
static void near_to_radix(struct s2_engine *eng)
{
	eng->base = eng->now;
	eng->radix = true;
	for (uint32_t i = 0; i < eng->near_len; i++)
		bucket_add(eng, (struct s2_heap_slot){ eng->near[i].when, eng->near[i].ev });
	eng->near_len = 0;
}

/* A slot of the radix heap for @near, unless it is stale or its event is already there. */
static void near_adopt(struct s2_engine *eng, struct s2_event *ev, uint64_t when)
{
	if (!ev->armed || ev->when != when)
		return;
	for (uint32_t i = 0; i < eng->near_len; i++)
		if (eng->near[i].ev == ev)
			return;
	near_insert(eng, ev);
}

/*
 * Few events are left: every slot of @top, @run and the buckets is read
 * once, the live ones go to @near, and the heap is left empty.
 */
static void radix_to_near(struct s2_engine *eng)
{
	for (uint32_t i = 0; i < eng->top_len; i++)
		near_adopt(eng, eng->top[i].ev, eng->base);
	eng->top_len = 0;
	for (uint32_t i = eng->run_pos; i < eng->run_len; i++)
		near_adopt(eng, eng->run[i].ev, eng->run[i].when);
	eng->run_pos = eng->run_len = 0;
	while (eng->summary) {
		unsigned int w = __builtin_ctz(eng->summary);
		unsigned int b = w * 64 + __builtin_ctzll(eng->nonempty[w]);
		struct s2_chunk *chain = take_bucket(eng, b);

		for_each_taken_slot(eng, b, chain, s, near_adopt(eng, s.ev, s.when));
	}
	eng->radix = false;
}

void s2_engine_schedule(struct s2_engine *eng, struct s2_event *ev, uint64_t when)
{
	g_assert(when >= eng->now);
	g_assert(ev->prio < (1U << (64 - SEQ_BITS)));
	if (!eng->radix && ev->armed)
		near_remove(eng, ev);
	eng->pending += !ev->armed;
	ev->armed = true;
	ev->when = when;
	ev->seq = eng->next_seq++;
	if (!eng->radix) {
		if (eng->near_len < S2_NEAR_MAX) {
			near_insert(eng, ev);
			return;
		}
		near_to_radix(eng);
	}
	bucket_add(eng, (struct s2_heap_slot){ when, ev });
}

void s2_engine_cancel(struct s2_engine *eng, struct s2_event *ev)
{
	if (!eng->radix && ev->armed)
		near_remove(eng, ev);
	eng->pending -= ev->armed;
	ev->armed = false;
}

/* The live event that fires next, or NULL; stale slots on the way are dropped. */
struct s2_event *s2_engine_peek(struct s2_engine *eng)
{
	if (!eng->radix)
		return eng->near_len ? eng->near[eng->near_len - 1].ev : NULL;
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
	if (eng->radix)
		top_pop(eng);
	else
		eng->near_len--;
	ev->armed = false;
	eng->pending--;
	if (eng->radix && eng->pending <= S2_NEAR_LOW)
		radix_to_near(eng);	/* after the disarm: no twin of @ev may come back */
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
