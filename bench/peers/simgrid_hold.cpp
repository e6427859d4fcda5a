/*
 * bench/peers/simgrid_hold.cpp - the hold model of bench/engine_hold.c on
 * SimGrid (Debian libsimgrid-dev): PENDING events, each fired one is
 * rescheduled 1 + uniform[0, 10^6) time units later, until EVENTS have fired.
 *
 *   simgrid_hold timer|actor PENDING EVENTS
 *
 * timer: the kernel's own future-event set (simgrid::kernel::timer::Timer,
 *        a Boost Fibonacci heap of dated callbacks, run by maestro): the
 *        like-for-like peer of our engine, which also fires a callback per
 *        event with no process switch.
 * actor: one s4u actor per pending event looping on this_actor::sleep_for(),
 *        the way SimGrid models are written: it adds a context switch and the
 *        sleep activity to every event.
 *
 * Both draw the increment from std::mt19937 (the Mersenne Twister GRand uses
 * in engine_hold) inside the timed loop: the RNG's cost is included, as in
 * engine_hold.  The initial PENDING events (uniform [0, 10^6)) are scheduled
 * before the clock starts (actors: once every actor has started and gone to
 * sleep, in the first scheduling round at time 0); the clock stops when the
 * EVENTS-th event fires.
 * Prints one CSV line: engine,pending,events,seconds,events_per_s,ns_per_event
 */
#include <simgrid/kernel/Timer.hpp>
#include <simgrid/s4u.hpp>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>

namespace sg4 = simgrid::s4u;
using Clock = std::chrono::steady_clock;

static std::mt19937 rng(42);
static std::uniform_int_distribution<int> incr(0, 999999);
static unsigned long long fired, target, started, pending;
static Clock::time_point t0, t1;

static void count()
{
	if (++fired == target)
		t1 = Clock::now();
}

static void timer_fire()
{
	count();
	if (fired < target)
		simgrid::kernel::timer::Timer::set(sg4::Engine::get_clock() + 1 + incr(rng), timer_fire);
}

static void actor_loop(double first)
{
	/* every actor starts at time 0, in the first round: start the clock after */
	if (++started == pending)
		t0 = Clock::now();
	sg4::this_actor::sleep_for(first);
	for (;;) {
		count();
		if (fired >= target)
			return;
		sg4::this_actor::sleep_for(1 + incr(rng));
	}
}

int main(int argc, char **argv)
{
	if (argc < 4 || (strcmp(argv[1], "timer") && strcmp(argv[1], "actor"))) {
		fprintf(stderr, "usage: simgrid_hold timer|actor PENDING EVENTS [--cfg=...]\n");
		return 2;
	}
	bool timers = !strcmp(argv[1], "timer");
	pending = strtoull(argv[2], nullptr, 10);
	target = strtoull(argv[3], nullptr, 10);
	int sg_argc = argc - 3;
	argv[3] = argv[0];
	sg4::Engine e(&sg_argc, argv + 3);
	sg4::NetZone *zone = sg4::create_full_zone("zone");
	sg4::Host *host = zone->create_host("host", 1e9);

	zone->seal();
	for (unsigned long i = 0; i < pending; i++) {
		double at = incr(rng);

		if (timers)
			simgrid::kernel::timer::Timer::set(at, timer_fire);
		else
			sg4::Actor::create("hold", host, actor_loop, at);
	}
	/* timers alone do not keep the engine running: one actor that outlives them */
	if (timers)
		sg4::Actor::create("keeper", host, [] { sg4::this_actor::sleep_for(1e300); });
	if (timers)
		t0 = Clock::now();
	e.run();
	if (fired < target) {
		fprintf(stderr, "simgrid_hold: only %llu of %llu events fired\n", fired, target);
		return 1;
	}
	double secs = std::chrono::duration<double>(t1 - t0).count();
	printf("simgrid-%s,%llu,%llu,%.3f,%.0f,%.1f\n", argv[1], pending, target, secs,
	       target / secs, secs * 1e9 / target);
	return 0;
}
