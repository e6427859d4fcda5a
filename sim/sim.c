/*
 * sim/sim.c - vCPU replay: each vCPU alternates guest compute (the trace's
 * deltas) and stage-2 faults (the model's steps); VMM records are barriers.
 */
#include "sim.h"

static void vcpu_fetch(struct s2_vcpu *v, uint64_t now);
static void host_poll(struct s2_sim *sim);
static void fail(struct s2_sim *sim, GError *err);
static void vcpu_fault(struct s2_vcpu *v, uint64_t now);

static uint64_t to_cycles(const struct s2_sim *sim, uint64_t delta)
{
	if (sim->src->hdr.unit == S2_UNIT_CYCLES)
		return delta;
	return (delta * sim->freq_mhz + 500) / 1000;
}

static void phase_close(struct s2_sim *sim, uint64_t now)
{
	struct s2_phase *ph;

	if (!sim->phases->len)
		return;
	ph = &g_array_index(sim->phases, struct s2_phase, sim->phases->len - 1);
	ph->end = now;
	ph->at_end = *s2_vm_counters(sim->vm);
}

static void phase_open(struct s2_sim *sim, const char *name, uint64_t now)
{
	struct s2_phase ph = { .name = g_strdup(name), .start = now };

	phase_close(sim, now);
	ph.at_start = *s2_vm_counters(sim->vm);
	g_array_append_val(sim->phases, ph);
}

/* Every vCPU is at the barrier or finished: the VMM acts, then all go on. */
static void barrier_check(struct s2_sim *sim, uint64_t now)
{
	struct s2_record rec;
	uint64_t at, cycles;

	if (!sim->nr_waiting || sim->nr_waiting + sim->nr_done < sim->nr_actors)
		return;
	if (sim->check) {
		uint32_t waiting = 0;

		for (uint32_t i = 0; i < sim->nr_actors; i++)
			waiting += sim->vcpus[i].state == S2_VCPU_BARRIER;
		if (waiting != sim->nr_waiting) {
			fail(sim, g_error_new(S2_MODEL_ERROR, 1, "check failed at cycle %" G_GUINT64_FORMAT
					      ": %u actors at the barrier, %u counted", now, waiting,
					      sim->nr_waiting));
			return;
		}
	}
	if (!s2_cursor_take_vmm(sim->cur, &rec))
		g_assert_not_reached();
	at = now + to_cycles(sim, rec.delta);
	if (rec.kind == S2_REC_PHASE)
		phase_open(sim, sim->src->hdr.phases[rec.arg], at);
	cycles = s2_vm_vmm(sim->vm, &rec, at);
	sim->vmm_cycles += cycles;
	sim->vmm_commands++;
	s2_engine_schedule(&sim->eng, &sim->vmm_ev, at + cycles);
}

static void barrier_release(struct s2_engine *eng, struct s2_event *ev)
{
	struct s2_sim *sim = container_of(ev, struct s2_sim, vmm_ev);
	uint32_t waiting = sim->nr_waiting;

	sim->nr_waiting = 0;
	for (uint32_t i = 0; i < sim->nr_actors && waiting; i++) {
		struct s2_vcpu *v = &sim->vcpus[i];

		if (v->state != S2_VCPU_BARRIER)
			continue;
		waiting--;
		v->barrier_cycles += eng->now - v->barrier_since;
		v->host_clock = eng->now;
		if (sim->timeline)
			s2_timeline_span(sim->timeline, v->id, "barrier", v->barrier_since,
					 eng->now - v->barrier_since);
		v->state = S2_VCPU_GUEST;
		vcpu_fetch(v, eng->now);
	}
}

static void fail(struct s2_sim *sim, GError *err)
{
	if (!sim->error)
		sim->error = err;
	else
		g_error_free(err);
	sim->eng.stop = true;
}

/*
 * An idle host actor looks a little further ahead each time a vCPU takes a
 * record (the cursor bounds how far), so that a host record is found about
 * when the vCPUs get there, not only when one of them needs a record after it.
 */
static void host_poll(struct s2_sim *sim)
{
	struct s2_vcpu *host = &sim->vcpus[sim->nr_vcpus];

	if (host->state == S2_VCPU_IDLE)
		vcpu_fetch(host, sim->eng.now);
}

/* On a terminal only: how far the run is, at most four times a second. */
static void progress(struct s2_sim *sim, uint64_t now)
{
	gint64 t = g_get_monotonic_time();

	if (t - sim->progress_at < 250000)
		return;
	sim->progress_at = t;
	fprintf(stderr, "\rsim: %" G_GUINT64_FORMAT " records, %.3f ms simulated ",
		sim->records, (double)now / sim->prof->freq_mhz / 1000.0);
}

/* Take the vCPU's next record: guest compute until its access, or a barrier. */
static void vcpu_fetch(struct s2_vcpu *v, uint64_t now)
{
	struct s2_sim *sim = v->sim;
	GError *err = NULL;
	uint64_t delta;

	/*
	 * Not idle while it reads: the cursor's notifier (a host record read,
	 * a barrier, the end) must not start the host's fetch inside its own.
	 */
	v->state = S2_VCPU_GUEST;
	switch (s2_cursor_next(sim->cur, v->id == sim->nr_vcpus ? S2_VCPU_HOST : v->id, &v->rec,
			       &err)) {
	case S2_CUR_EMPTY:
		v->state = S2_VCPU_IDLE;
		return;
	case S2_CUR_RECORD:
		if (sim->progress && !(++sim->records & 0xffff))
			progress(sim, now);
		else if (!sim->progress)
			sim->records++;
		delta = to_cycles(sim, v->rec.delta);
		if (v->id == sim->nr_vcpus) {
			/* host time runs from the previous host record's start */
			v->host_clock = MAX(now, v->host_clock + delta);
			s2_engine_schedule(&sim->eng, &v->ev, v->host_clock);
			return;
		}
		host_poll(sim);
		if (sim->timeline && v->id < sim->nr_vcpus)
			s2_timeline_span(sim->timeline, v->id, "guest", now, delta);
		v->guest_cycles += delta;
		s2_engine_schedule(&sim->eng, &v->ev, now + delta);
		return;
	case S2_CUR_BARRIER:
		v->state = S2_VCPU_BARRIER;
		v->barrier_since = now;
		sim->nr_waiting++;
		break;
	case S2_CUR_END:
		v->state = S2_VCPU_DONE;
		v->finished = now;
		if (v->id < sim->nr_vcpus)
			sim->makespan = MAX(sim->makespan, now);
		sim->nr_done++;
		break;
	case S2_CUR_ERROR:
		fail(sim, err);
		return;
	}
	barrier_check(sim, now);
}

/* The record's moment has come: an access, a guest event or a host event. */
static void vcpu_perform(struct s2_vcpu *v, uint64_t now)
{
	struct s2_vm *vm = v->sim->vm;
	bool done;

	if (s2_rec_is_host(&v->rec)) {
		s2_vm_host_event(vm, &v->rec, now);
		done = false;
	} else if (s2_rec_is_access(&v->rec)) {
		done = s2_vm_access(vm, v->id, v->rec.kind, v->rec.ipa, now);
		v->accesses += done;
	} else {
		done = s2_vm_guest_event(vm, v->id, &v->rec, now);
	}
	if (done) {
		vcpu_fetch(v, now);
		return;
	}
	v->state = S2_VCPU_FAULT;
	vcpu_fault(v, now);
}

static void vcpu_fault(struct s2_vcpu *v, uint64_t now)
{
	uint64_t next;

	switch (s2_vm_fault_run(v->sim->vm, v->id, now, &next)) {
	case S2_RUN_WAIT:
		s2_engine_schedule(&v->sim->eng, &v->ev, next);
		break;
	case S2_RUN_BLOCKED:
		break;
	case S2_RUN_DONE:
		vcpu_perform(v, now);	/* back in the guest: the access runs again */
		break;
	case S2_RUN_COMPLETE:
		v->accesses += s2_rec_is_access(&v->rec);
		vcpu_fetch(v, now);
		break;
	}
}

static void vcpu_event(struct s2_engine *eng, struct s2_event *ev)
{
	struct s2_vcpu *v = container_of(ev, struct s2_vcpu, ev);

	if (v->sim->check && s2_vm_check_failure(v->sim->vm)) {
		fail(v->sim, g_error_new(S2_MODEL_ERROR, 1, "check failed at cycle %" G_GUINT64_FORMAT
					 ": %s", eng->now, s2_vm_check_failure(v->sim->vm)));
		return;
	}
	if (v->state == S2_VCPU_GUEST)
		vcpu_perform(v, eng->now);
	else
		vcpu_fault(v, eng->now);
}

static void trace_span(void *opaque, uint32_t vcpu, enum s2_cost_kind kind, uint64_t start,
		       uint64_t cycles)
{
	struct s2_sim *sim = opaque;

	s2_timeline_span(sim->timeline, vcpu, s2_cost_kind_name(kind), start, cycles);
}

/* The cursor read a host record, parked at a VMM record or hit the end. */
static void host_notify(void *opaque)
{
	host_poll(opaque);
}

void s2_sim_set_timeline(struct s2_sim *sim, struct s2_timeline *tl)
{
	sim->timeline = tl;
	s2_vm_set_tracer(sim->vm, tl ? trace_span : NULL, sim);
}

static void wake_vcpu(void *opaque, uint32_t vcpu, uint64_t when)
{
	struct s2_sim *sim = opaque;

	s2_engine_schedule(&sim->eng, &sim->vcpus[vcpu].ev, when);
}

struct s2_sim *s2_sim_new(struct s2_source *src, const struct s2_profile *prof,
			  const struct s2_policy *pol)
{
	struct s2_sim *sim = g_new0(struct s2_sim, 1);

	s2_engine_init(&sim->eng);
	sim->src = src;
	sim->cur = s2_cursor_new(src);
	s2_cursor_set_notify(sim->cur, host_notify, sim);
	sim->prof = prof;
	sim->pol = pol;
	sim->freq_mhz = src->hdr.freq_mhz ? src->hdr.freq_mhz : prof->freq_mhz;
	sim->vm = s2_vm_new(&src->hdr, prof, pol);
	s2_vm_set_waker(sim->vm, wake_vcpu, sim);
	sim->nr_vcpus = src->hdr.nr_vcpus;
	sim->nr_actors = sim->nr_vcpus + 1;
	sim->vcpus = g_new0(struct s2_vcpu, sim->nr_actors);
	for (uint32_t i = 0; i < sim->nr_actors; i++) {
		sim->vcpus[i].id = i;
		sim->vcpus[i].sim = sim;
		s2_event_init(&sim->vcpus[i].ev, vcpu_event);
		sim->vcpus[i].ev.prio = i;
	}
	s2_event_init(&sim->vmm_ev, barrier_release);
	sim->vmm_ev.prio = sim->nr_actors;
	sim->phases = g_array_new(FALSE, TRUE, sizeof(struct s2_phase));
	return sim;
}

/*
 * sim --check at the end: every actor finished its trace, every vCPU's
 * cycles are guest, fault or barrier time and nothing else, and the model's
 * own invariants hold.
 */
static bool check_final(struct s2_sim *sim, GError **err)
{
	for (uint32_t i = 0; i < sim->nr_actors; i++) {
		const struct s2_vcpu *v = &sim->vcpus[i];

		if (v->state != S2_VCPU_DONE) {
			g_set_error(err, S2_MODEL_ERROR, 1, "check failed: actor %u never finished", i);
			return false;
		}
		if (i < sim->nr_vcpus && v->guest_cycles + s2_vm_vcpu_fault_cycles(sim->vm, i) +
					 v->barrier_cycles != v->finished) {
			g_set_error(err, S2_MODEL_ERROR, 1, "check failed: vCPU %u: guest %"
				    G_GUINT64_FORMAT " + fault %" G_GUINT64_FORMAT " + barrier %"
				    G_GUINT64_FORMAT " != finished %" G_GUINT64_FORMAT, i,
				    v->guest_cycles, s2_vm_vcpu_fault_cycles(sim->vm, i),
				    v->barrier_cycles, v->finished);
			return false;
		}
	}
	return s2_vm_check_final(sim->vm, err);
}

bool s2_sim_run(struct s2_sim *sim, GError **err)
{
	s2_vm_set_check(sim->vm, sim->check);
	for (uint32_t i = 0; i < sim->nr_actors && !sim->error; i++)
		vcpu_fetch(&sim->vcpus[i], 0);
	s2_engine_run(&sim->eng);
	if (sim->progress && sim->progress_at)
		fprintf(stderr, "\r\033[K");
	if (sim->error) {
		g_propagate_error(err, sim->error);
		sim->error = NULL;
		return false;
	}
	phase_close(sim, sim->makespan);
	return !sim->check || check_final(sim, err);
}

void s2_sim_free(struct s2_sim *sim)
{
	if (!sim)
		return;
	for (guint i = 0; i < sim->phases->len; i++)
		g_free(g_array_index(sim->phases, struct s2_phase, i).name);
	g_array_free(sim->phases, TRUE);
	s2_vm_free(sim->vm);
	s2_cursor_free(sim->cur);
	s2_source_close(sim->src);
	g_free(sim->vcpus);
	s2_engine_destroy(&sim->eng);
	if (sim->error)
		g_error_free(sim->error);
	g_free(sim);
}
