/* tests/test_engine.c - the event engine orders by (cycle, priority, sequence). */
#include <glib.h>

#include "engine.h"

struct probe {
	struct s2_event ev;
	int id;
	GArray *log;
};

static void record(struct s2_engine *eng, struct s2_event *ev)
{
	struct probe *p = container_of(ev, struct probe, ev);

	g_array_append_val(p->log, p->id);
}

/* The probes fired exactly in the order @want, and nothing else. */
static void assert_log(const GArray *log, const int *want, guint n)
{
	g_assert_cmpuint(log->len, ==, n);
	for (guint i = 0; i < n; i++)
		g_assert_cmpint(g_array_index(log, int, i), ==, want[i]);
}

/* Same cycle: the order of scheduling; rescheduling moves an armed event. */
static void test_order_and_ties(void)
{
	struct s2_engine eng;
	struct probe p[5];
	GArray *log = g_array_new(FALSE, FALSE, sizeof(int));
	static const uint64_t when[5] = { 30, 10, 10, 20, 10 };
	static const int want[5] = { 2, 4, 3, 1, 0 };

	s2_engine_init(&eng);
	for (int i = 0; i < 5; i++) {
		p[i] = (struct probe){ .id = i, .log = log };
		s2_event_init(&p[i].ev, record);
		s2_engine_schedule(&eng, &p[i].ev, when[i]);
	}
	s2_engine_schedule(&eng, &p[1].ev, 25);	/* moved behind 3 */
	s2_engine_cancel(&eng, &p[0].ev);
	s2_engine_schedule(&eng, &p[0].ev, 40);
	s2_engine_run(&eng);
	assert_log(log, want, G_N_ELEMENTS(want));
	g_assert_cmpuint(eng.now, ==, 40);
	g_array_free(log, TRUE);
	s2_engine_destroy(&eng);
}

/* One cycle: the lower priority first, whenever each was scheduled. */
static void test_priority_breaks_ties(void)
{
	struct s2_engine eng;
	struct probe p[3];
	GArray *log = g_array_new(FALSE, FALSE, sizeof(int));
	static const uint32_t prio[3] = { 2, 0, 1 };

	s2_engine_init(&eng);
	for (int i = 0; i < 3; i++) {
		p[i] = (struct probe){ .id = i, .log = log };
		s2_event_init(&p[i].ev, record);
		p[i].ev.prio = prio[i];
		s2_engine_schedule(&eng, &p[i].ev, 50);
	}
	s2_engine_run(&eng);
	g_assert_cmpint(g_array_index(log, int, 0), ==, 1);
	g_assert_cmpint(g_array_index(log, int, 1), ==, 2);
	g_assert_cmpint(g_array_index(log, int, 2), ==, 0);
	g_array_free(log, TRUE);
	s2_engine_destroy(&eng);
}

/* Fires once more at the same cycle, behind everything already scheduled there. */
static void record_and_repeat(struct s2_engine *eng, struct s2_event *ev)
{
	struct probe *p = container_of(ev, struct probe, ev);

	record(eng, ev);
	if (p->log->len == 1)
		s2_engine_schedule(eng, ev, eng->now);
}

/*
 * Event 0 moved in place leaves a twin slot at the same cycle, in a bucket
 * far enough ahead to be split first.  Its first firing schedules it again
 * at that cycle: the twin, now armed for that very cycle, must still be
 * dropped, or 0 fires twice in a row ahead of 1 and 2.
 */
static void test_stale_twin_of_a_rescheduled_event(void)
{
	struct s2_engine eng;
	struct probe p[3];
	GArray *log = g_array_new(FALSE, FALSE, sizeof(int));
	static const int want[4] = { 0, 1, 2, 0 };

	s2_engine_init(&eng);
	for (int i = 0; i < 3; i++) {
		p[i] = (struct probe){ .id = i, .log = log };
		s2_event_init(&p[i].ev, i ? record : record_and_repeat);
	}
	s2_engine_schedule(&eng, &p[0].ev, 300);
	s2_engine_schedule(&eng, &p[0].ev, 300);
	s2_engine_schedule(&eng, &p[1].ev, 300);
	s2_engine_schedule(&eng, &p[2].ev, 300);
	s2_engine_run(&eng);
	assert_log(log, want, G_N_ELEMENTS(want));
	g_assert_cmpuint(eng.pending, ==, 0);
	g_array_free(log, TRUE);
	s2_engine_destroy(&eng);
}

/* A hold model against a sorted reference: pops come out in (when, seq) order. */
static void test_hold_model_against_sort(void)
{
	enum { N = 2000, STEPS = 20000 };
	struct s2_engine eng;
	struct s2_event *ev = g_new(struct s2_event, N);
	GRand *rng = g_rand_new_with_seed(7);
	uint64_t last_when = 0, last_seq = 0;

	s2_engine_init(&eng);
	for (int i = 0; i < N; i++) {
		s2_event_init(&ev[i], NULL);
		s2_engine_schedule(&eng, &ev[i], g_rand_int_range(rng, 0, 1000));
	}
	for (int s = 0; s < STEPS; s++) {
		struct s2_event *e = s2_engine_peek(&eng);

		g_assert_true(e->when > last_when || (e->when == last_when && e->seq > last_seq) || s == 0);
		last_when = e->when;
		last_seq = e->seq;
		s2_engine_cancel(&eng, e);
		eng.now = e->when;
		s2_engine_schedule(&eng, e, e->when + g_rand_int_range(rng, 0, 1000));
		g_assert_cmpuint(eng.pending, ==, N);
	}
	g_rand_free(rng);
	g_free(ev);
	s2_engine_destroy(&eng);
}

struct stamp {
	struct s2_event ev;
	uint64_t when, order;	/* what it was last scheduled with */
	GArray *log;
};

static void stamp_fire(struct s2_engine *eng, struct s2_event *ev)
{
	struct stamp *st = container_of(ev, struct stamp, ev);

	g_assert_cmpuint(eng->now, ==, st->when);
	g_array_append_val(st->log, st);
}

static int by_when_then_order(gconstpointer a, gconstpointer b)
{
	const struct stamp *x = *(struct stamp *const *)a, *y = *(struct stamp *const *)b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

/*
 * Cycles spread over every radix level (up to 2^63), clustered cycles, shared
 * priorities, and armed events cancelled or moved (leaving stale slots): the
 * engine fires exactly the live events, each once, in (cycle, priority,
 * schedule order) - checked against a sort of what was scheduled.
 */
static void test_radix_levels_and_stale_slots(void)
{
	enum { N = 5000 };
	struct s2_engine eng;
	struct stamp *st = g_new0(struct stamp, N);
	GRand *rng = g_rand_new_with_seed(11);
	GArray *log = g_array_new(FALSE, FALSE, sizeof(struct stamp *));
	GPtrArray *want = g_ptr_array_new();
	uint64_t seq = 0;

	s2_engine_init(&eng);
	for (int i = 0; i < N; i++) {
		int shift = g_rand_int_range(rng, 0, 64);

		s2_event_init(&st[i].ev, stamp_fire);
		st[i].ev.prio = g_rand_int_range(rng, 0, 4);
		st[i].log = log;
		st[i].when = i % 3 ? (g_rand_int(rng) | (uint64_t)g_rand_int(rng) << 32) >> shift
				   : 1000 + (uint64_t)g_rand_int_range(rng, 0, 8);
		st[i].order = (uint64_t)st[i].ev.prio << 44 | seq++;
		s2_engine_schedule(&eng, &st[i].ev, st[i].when);
	}
	for (int i = 0; i < N; i += 7) {
		if (i % 2) {
			s2_engine_cancel(&eng, &st[i].ev);
			continue;
		}
		st[i].when = i % 4 ? st[i].when : 1003;	/* moved to a busy cycle, or in place */
		st[i].order = (uint64_t)st[i].ev.prio << 44 | seq++;
		s2_engine_schedule(&eng, &st[i].ev, st[i].when);
	}
	for (int i = 0; i < N; i++)
		if (s2_event_armed(&st[i].ev))
			g_ptr_array_add(want, &st[i]);
	g_assert_cmpuint(eng.pending, ==, want->len);
	g_ptr_array_sort(want, by_when_then_order);
	s2_engine_run(&eng);
	g_assert_cmpuint(log->len, ==, want->len);
	for (guint i = 0; i < want->len; i++)
		g_assert_true(g_array_index(log, struct stamp *, i) == want->pdata[i]);
	g_assert_cmpuint(eng.pending, ==, 0);
	g_assert_null(s2_engine_peek(&eng));
	g_ptr_array_free(want, TRUE);
	g_array_free(log, TRUE);
	g_rand_free(rng);
	g_free(st);
	s2_engine_destroy(&eng);
}

/*
 * Past S2_NEAR_MAX pending the set is a radix heap; two events moved to
 * the cycle they had leave twin slots there, one of them the first to
 * fire, and cancels bring the set down so that this very pop moves it back
 * to @near: every armed event still fires once, in order.
 */
static void test_twins_across_the_switch(void)
{
	enum { N = S2_NEAR_MAX + 1, LEFT = S2_NEAR_LOW + 1 };
	struct s2_engine eng;
	struct probe p[N];
	GArray *log = g_array_new(FALSE, FALSE, sizeof(int));

	s2_engine_init(&eng);
	for (int i = 0; i < N; i++) {
		p[i] = (struct probe){ .id = i, .log = log };
		s2_event_init(&p[i].ev, record);
		s2_engine_schedule(&eng, &p[i].ev, 100 + i);
	}
	g_assert_true(eng.radix);
	s2_engine_schedule(&eng, &p[0].ev, 100);
	s2_engine_schedule(&eng, &p[5].ev, 105);
	for (int i = LEFT; i < N; i++)
		s2_engine_cancel(&eng, &p[i].ev);
	g_assert_true(s2_engine_step(&eng));
	g_assert_false(eng.radix);
	s2_engine_run(&eng);
	g_assert_cmpuint(log->len, ==, LEFT);
	for (int i = 0; i < LEFT; i++)
		g_assert_cmpint(g_array_index(log, int, i), ==, i);
	g_array_free(log, TRUE);
	s2_engine_destroy(&eng);
}

static void nothing(struct s2_engine *eng, struct s2_event *ev)
{
}

/* A reference pending set: a GTree on (cycle, priority << 44 | sequence). */
struct ref_key {
	uint64_t when, order;
};

static gint ref_cmp(gconstpointer a, gconstpointer b, gpointer unused)
{
	const struct ref_key *x = a, *y = b;

	if (x->when != y->when)
		return x->when < y->when ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static gboolean ref_first(gpointer key, gpointer value, gpointer out)
{
	*(gpointer *)out = key;
	return TRUE;
}

/*
 * Differential: events rescheduled at the same cycle, within the next 256
 * cycles (they land beside a sorted run of level 0), and far ahead, with
 * moves, cancels and re-arms of other events at random, pop in exactly the
 * order of a reference tree, one by one.  Densities from one event per
 * thousand cycles to eight per cycle give level-1 buckets of a few slots
 * (split) and of hundreds (sorted into a run); the small rounds swing the
 * number pending between none and all, across S2_NEAR_MAX and S2_NEAR_LOW,
 * so that the events move between @near and the radix heap many times.
 */
static void test_against_reference(void)
{
	static const struct {
		uint32_t n, span;
	} rounds[] = { { 3000, 4 }, { 3000, 300 }, { 3000, 2000 }, { 3000, 100000 },
		       { 6, 300 }, { 40, 300 }, { 40, 100000 }, { 200, 2000 } };
	enum { STEPS = 60000 };

	for (guint round = 0; round < G_N_ELEMENTS(rounds); round++) {
		uint32_t n = rounds[round].n, span = rounds[round].span;
		struct s2_engine eng;
		struct s2_event *ev = g_new(struct s2_event, n);
		struct ref_key *key = g_new(struct ref_key, n);
		GTree *ref = g_tree_new_full(ref_cmp, NULL, NULL, NULL);
		GRand *rng = g_rand_new_with_seed(100 + round);
		uint64_t seq = 0;
		uint32_t flips = 0;
		bool mode = false;

		s2_engine_init(&eng);
		for (uint32_t i = 0; i < n; i++) {
			s2_event_init(&ev[i], nothing);
			ev[i].prio = g_rand_int_range(rng, 0, 3);
			key[i] = (struct ref_key){ g_rand_int_range(rng, 0, span),
						   (uint64_t)ev[i].prio << 44 | seq++ };
			s2_engine_schedule(&eng, &ev[i], key[i].when);
			g_tree_insert(ref, &key[i], &ev[i]);
		}
		for (int s = 0; s < STEPS; s++) {
			/* phases of 500 steps: mostly dropping events, then mostly re-arming them */
			gboolean draining = (s / 500) % 2;
			struct ref_key *first = NULL;
			struct s2_event *e = s2_engine_peek(&eng);
			uint32_t i, other = g_rand_int_range(rng, 0, n);

			if (!g_tree_nnodes(ref)) {
				g_assert_null(e);
				key[other] = (struct ref_key){ eng.now + g_rand_int_range(rng, 0, span),
							       (uint64_t)ev[other].prio << 44 | seq++ };
				s2_engine_schedule(&eng, &ev[other], key[other].when);
				g_tree_insert(ref, &key[other], &ev[other]);
				continue;
			}
			g_tree_foreach(ref, ref_first, &first);
			g_assert_true(e == g_tree_lookup(ref, first));
			i = e - ev;
			g_tree_remove(ref, &key[i]);
			g_assert_true(s2_engine_step(&eng));
			g_assert_cmpuint(eng.now, ==, first->when);
			if (g_rand_int_range(rng, 0, draining ? 2 : 50)) {
				uint32_t far = g_rand_int_range(rng, 0, 4);
				uint64_t d = far == 0 ? g_rand_int_range(rng, 0, 2) :
					     far == 1 ? g_rand_int_range(rng, 0, 256) :
					     g_rand_int_range(rng, 0, 2 * span);

				key[i] = (struct ref_key){ eng.now + d, (uint64_t)e->prio << 44 | seq++ };
				s2_engine_schedule(&eng, e, key[i].when);
				g_tree_insert(ref, &key[i], e);
			}
			if (other != i && g_rand_int_range(rng, 0, 10) < (draining ? 3 : 5)) {
				gboolean armed = s2_event_armed(&ev[other]);

				if (armed)
					g_tree_remove(ref, &key[other]);
				if (armed && draining) {
					s2_engine_cancel(&eng, &ev[other]);
				} else {
					key[other] = (struct ref_key){
						eng.now + g_rand_int_range(rng, 0, span),
						(uint64_t)ev[other].prio << 44 | seq++ };
					s2_engine_schedule(&eng, &ev[other], key[other].when);
					g_tree_insert(ref, &key[other], &ev[other]);
				}
			}
			g_assert_cmpuint(eng.pending, ==, g_tree_nnodes(ref));
			flips += eng.radix != mode;
			mode = eng.radix;
		}
		/* the rounds that can cross the thresholds did, many times */
		if (n > S2_NEAR_MAX && n < 1000)
			g_assert_cmpuint(flips, >=, 10);
		g_rand_free(rng);
		g_tree_destroy(ref);
		g_free(key);
		g_free(ev);
		s2_engine_destroy(&eng);
	}
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/engine/order-by-cycle-then-schedule-order", test_order_and_ties);
	g_test_add_func("/engine/hold-model-pops-in-order", test_hold_model_against_sort);
	g_test_add_func("/engine/priority-breaks-ties-before-sequence", test_priority_breaks_ties);
	g_test_add_func("/engine/radix-levels-and-stale-slots", test_radix_levels_and_stale_slots);
	g_test_add_func("/engine/stale-twin-of-a-rescheduled-event", test_stale_twin_of_a_rescheduled_event);
	g_test_add_func("/engine/against-a-reference-tree", test_against_reference);
	g_test_add_func("/engine/twins-across-the-switch-to-near", test_twins_across_the_switch);
	return g_test_run();
}
