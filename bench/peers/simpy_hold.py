"""bench/peers/simpy_hold.py - the hold model of bench/engine_hold.c on SimPy
2.3.1, the version Debian ships (python3-simpy, module `SimPy`; run with
/usr/bin/python3, which sees Debian's dist-packages): PENDING events, each
fired one is rescheduled 1 + uniform[0, 10^6) time units later, until
EVENTS have fired.

    /usr/bin/python3 simpy_hold.py PENDING EVENTS

One SimPy Process per pending event, looping on `yield hold, self, d` (SimPy
2's form of SimPy 3's `yield env.timeout(d)`), the way SimPy models are
written: each event is a heap push/pop of the event list plus resuming a
generator, which is SimPy's only way to have an event fire.

The increment comes from random.random() (Python's Mersenne Twister, the
generator GRand uses in engine_hold) inside the timed loop: RNG cost
included, as in engine_hold.  The PENDING processes are activated before the
clock starts, each at a time uniform in [0, 10^6): its activation is its
first event; it stops when the
EVENTS-th event fires.  Prints one CSV line:
engine,pending,events,seconds,events_per_s,ns_per_event
"""
import random
import sys
import time

from SimPy.Simulation import Process, Simulation, hold


def main():
    pending, target = int(sys.argv[1]), int(sys.argv[2])
    rand = random.Random(42).random
    sim = Simulation()
    state = [0, 0.0]        # events fired, time the last one fired

    class Hold(Process):
        def run(self):
            while True:
                state[0] += 1
                if state[0] >= target:
                    state[1] = time.perf_counter()
                    sim.stopSimulation()
                    return
                yield hold, self, 1 + int(rand() * 1000000)

    for _ in range(pending):
        p = Hold(sim=sim)
        sim.activate(p, p.run(), at=int(rand() * 1000000))
    t0 = time.perf_counter()
    sim.simulate(until=1e300)
    if state[0] < target:
        sys.exit("simpy_hold: only %d of %d events fired" % (state[0], target))
    secs = state[1] - t0
    print("simpy,%d,%d,%.3f,%.0f,%.1f" % (pending, target, secs, target / secs,
                                          secs * 1e9 / target))


if __name__ == "__main__":
    main()
