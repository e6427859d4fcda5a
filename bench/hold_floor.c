/*
 * bench/hold_floor.c - what the hold model of bench/engine_hold.c costs with
 * no pending-event set at all: the memory system's share of it.
 *
 * The engine fires the same N events as engine_hold, once untimed, and the
 * order they fired in is recorded.  The timed loop then fires them again in
 * that order, known in advance, as a perfect queue with no work would: it
 * reads each event's keys, draws the same increment from the same GRand
 * and writes the event back, with every event prefetched 16 ahead.  What it
 * costs per event is a floor under any pending-set structure that keeps
 * these events where the model allocated them, on this machine.
 *
 *   build/bench/hold_floor [EVENTS_PER_SIZE [PENDING,...]]
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"

#define AHEAD	16

static GRand *rng;	/* one for all events, as in engine_hold */
static uint32_t *order;	/* index of the n-th event fired */
static struct s2_event *base;
static uint64_t nr_recorded;

static void record_fire(struct s2_engine *eng, struct s2_event *ev)
{
	order[nr_recorded++] = ev - base;
	s2_engine_schedule(eng, ev, eng->now + 1 + g_rand_int_range(rng, 0, 1000000));
}

static uint64_t replay(struct s2_event *ev, uint64_t fires)
{
	uint64_t now = 0, seq = 0;

	for (uint64_t n = 0; n < fires; n++) {
		struct s2_event *e = &ev[order[n]];

		if (n + AHEAD < fires) {
			__builtin_prefetch(&ev[order[n + AHEAD]]);
			__builtin_prefetch(&ev[order[n + AHEAD]].armed);
		}
		if (!e->armed || e->seq != seq++)	/* the liveness check */
			e->seq = seq;
		now = MAX(now, e->when);
		e->when = now + 1 + g_rand_int_range(rng, 0, 1000000);
		e->armed = true;
	}
	return now;
}

int main(int argc, char **argv)
{
	uint64_t fires = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	g_auto(GStrv) sizes = g_strsplit(argc > 2 ? argv[2] : "1000,10000,100000,1000000", ",", 0);

	order = g_new(uint32_t, fires);
	printf("pending,events,seconds,events_per_s,ns_per_event\n");
	for (guint s = 0; sizes[s]; s++) {
		uint32_t pending = strtoul(sizes[s], NULL, 10);
		struct s2_engine eng;
		gint64 t0;
		double secs;

		rng = g_rand_new_with_seed(42);
		base = g_new(struct s2_event, pending);
		s2_engine_init(&eng);
		for (uint32_t i = 0; i < pending; i++) {
			s2_event_init(&base[i], record_fire);
			s2_engine_schedule(&eng, &base[i], g_rand_int_range(rng, 0, 1000000));
		}
		for (nr_recorded = 0; nr_recorded < fires;)
			s2_engine_step(&eng);
		s2_engine_destroy(&eng);
		t0 = g_get_monotonic_time();
		if (replay(base, fires) == 1)	/* keep the loop's result live */
			putchar('\n');
		secs = (g_get_monotonic_time() - t0) / 1e6;
		printf("%u,%" G_GUINT64_FORMAT ",%.3f,%.0f,%.1f\n", pending, fires, secs,
		       fires / secs, secs * 1e9 / fires);
		g_rand_free(rng);
		g_free(base);
	}
	g_free(order);
	return 0;
}
