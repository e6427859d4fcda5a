/*
 * bench/engine_hold.c - the classic hold model on the event engine: pop the
 * earliest event, push it again at a random later cycle, with N pending.
 * Prints events per second for a ladder of N; never fails on speed.
 *
 *   build/bench/engine_hold [EVENTS_PER_SIZE [PENDING,...]]
 */
#include <glib.h>
#include <stdio.h>
#include <stdlib.h>

#include "engine.h"

/* one generator for all events, as in the peers (bench/peers) */
static GRand *rng;

static void hold_fire(struct s2_engine *eng, struct s2_event *ev)
{
	s2_engine_schedule(eng, ev, eng->now + 1 + g_rand_int_range(rng, 0, 1000000));
}

int main(int argc, char **argv)
{
	uint64_t fires = argc > 1 ? strtoull(argv[1], NULL, 10) : 10000000;
	g_auto(GStrv) sizes = g_strsplit(argc > 2 ? argv[2] : "1000,10000,100000,1000000", ",", 0);

	printf("pending,events,seconds,events_per_s,ns_per_event\n");
	for (guint s = 0; sizes[s]; s++) {
		uint32_t pending = strtoul(sizes[s], NULL, 10);
		struct s2_engine eng;
		struct s2_event *ev = g_new(struct s2_event, pending);
		gint64 t0;
		double secs;

		rng = g_rand_new_with_seed(42);
		s2_engine_init(&eng);
		for (uint32_t i = 0; i < pending; i++) {
			s2_event_init(&ev[i], hold_fire);
			s2_engine_schedule(&eng, &ev[i], g_rand_int_range(rng, 0, 1000000));
		}
		t0 = g_get_monotonic_time();
		for (uint64_t n = 0; n < fires; n++)
			s2_engine_step(&eng);
		secs = (g_get_monotonic_time() - t0) / 1e6;
		printf("%u,%" G_GUINT64_FORMAT ",%.3f,%.0f,%.1f\n", pending, fires, secs,
		       fires / secs, secs * 1e9 / fires);
		s2_engine_destroy(&eng);
		g_rand_free(rng);
		g_free(ev);
	}
	return 0;
}
