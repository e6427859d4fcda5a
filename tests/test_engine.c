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
	g_assert_cmpuint(log->len, ==, 5);
	for (int i = 0; i < 5; i++)
		g_assert_cmpint(g_array_index(log, int, i), ==, want[i]);
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
		struct s2_event *e = eng.heap[0].ev;

		g_assert_true(e->when > last_when || (e->when == last_when && e->seq > last_seq) || s == 0);
		last_when = e->when;
		last_seq = e->seq;
		s2_engine_cancel(&eng, e);
		eng.now = e->when;
		s2_engine_schedule(&eng, e, e->when + g_rand_int_range(rng, 0, 1000));
		g_assert_cmpuint(eng.len, ==, N);
	}
	g_rand_free(rng);
	g_free(ev);
	s2_engine_destroy(&eng);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	g_test_add_func("/engine/order-by-cycle-then-schedule-order", test_order_and_ties);
	g_test_add_func("/engine/hold-model-pops-in-order", test_hold_model_against_sort);
	g_test_add_func("/engine/priority-breaks-ties-before-sequence", test_priority_breaks_ties);
	return g_test_run();
}
