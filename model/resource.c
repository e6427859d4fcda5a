/*
 * model/resource.c - what vCPUs queue for: kvm->mmu_lock and the machine's
 * DVM path that serialises broadcast TLBIs and I-cache invalidations.
 */
#include <glib.h>

#include "internal.h"

void s2_lock_init(struct s2_lock *lock, uint32_t nr_vcpus)
{
	*lock = (struct s2_lock){ .cap = nr_vcpus };
	lock->queue = g_new(struct s2_lock_waiter, nr_vcpus);
}

void s2_lock_destroy(struct s2_lock *lock)
{
	g_free(lock->queue);
}

static bool lock_free(const struct s2_lock *lock)
{
	return !lock->readers && !lock->writer;
}

/* One atomic on the lock word: the line moves to this CPU after the others. */
static uint64_t lock_line_op(struct s2_vm *vm, uint64_t now)
{
	struct s2_lock *lock = &vm->lock;

	lock->line_free_at = MAX(now, lock->line_free_at) + vm->prof->lock_acquire;
	return lock->line_free_at - now;
}

static void lock_grant(struct s2_vm *vm, uint32_t vcpu, bool write, uint64_t when)
{
	struct s2_lock *lock = &vm->lock;
	uint64_t wait = when - vm->vcpus[vcpu].fault.lock_requested;

	s2_check_lock(vm, vcpu, write);
	if (lock_free(lock))
		lock->busy_since = when;
	if (write)
		lock->writer = true;
	else
		lock->readers++;
	s2_lock_hist_add(&vm->c.lock_wait, wait);
}

/*
 * spin_lock()/write_lock()/read_lock(): granted at once when nobody waits
 * and the holders allow it, after pulling the lock's cache line; otherwise
 * queue behind the others.
 */
bool s2_lock_try(struct s2_vm *vm, uint32_t vcpu, uint64_t now, bool write, uint64_t *cycles)
{
	struct s2_lock *lock = &vm->lock;

	vm->vcpus[vcpu].fault.lock_requested = now;
	if (!lock->len && (write ? lock_free(lock) : !lock->writer)) {
		*cycles = lock_line_op(vm, now);
		lock_grant(vm, vcpu, write, now + *cycles);
		return true;
	}
	g_assert(lock->len < lock->cap);
	lock->queue[(lock->head + lock->len++) % lock->cap] =
		(struct s2_lock_waiter){ vcpu, write };
	return false;
}

static struct s2_lock_waiter *queue_head(struct s2_lock *lock)
{
	return lock->len ? &lock->queue[lock->head] : NULL;
}

/* The next waiters own the lock once the line reaches them. */
static void lock_hand_over(struct s2_vm *vm, uint64_t now)
{
	struct s2_lock *lock = &vm->lock;
	uint64_t when = now + vm->prof->spin_handoff;
	struct s2_lock_waiter *w;

	while ((w = queue_head(lock)) && (w->write ? lock_free(lock) : !lock->writer)) {
		struct s2_lock_waiter next = *w;

		lock->head = (lock->head + 1) % lock->cap;
		lock->len--;
		lock_grant(vm, next.vcpu, next.write, when);
		s2_vm_span(vm, next.vcpu, S2_COST_LOCK_WAIT, vm->vcpus[next.vcpu].fault.lock_requested,
			   when - vm->vcpus[next.vcpu].fault.lock_requested);
		vm->vcpus[next.vcpu].fault.pc++;	/* past its OP_LOCK */
		vm->wake(vm->wake_opaque, next.vcpu, when);
		if (next.write)
			break;
	}
}

void s2_lock_release(struct s2_vm *vm, uint64_t now, bool write)
{
	struct s2_lock *lock = &vm->lock;

	if (write) {
		g_assert(lock->writer);
		lock->writer = false;
	} else {
		g_assert(lock->readers);
		lock->readers--;
	}
	lock_line_op(vm, now);	/* the releasing store; nobody waits for it */
	if (!lock_free(lock))
		return;
	vm->c.lock_hold_cycles += now - lock->busy_since;
	lock_hand_over(vm, now);
}

/*
 * A broadcast maintenance operation: the issuer waits at least its own
 * latency, and the machine-wide DVM server is busy for @service cycles after
 * whatever it was already doing (calibration.md §3 D1: the plateau of
 * ~0.6 us per broadcast sync whatever the number of issuers).
 */
uint64_t s2_dvm_request(struct s2_vm *vm, uint64_t now, uint64_t service, uint64_t latency)
{
	uint64_t start = MAX(now, vm->dvm_free_at);
	uint64_t done;

	vm->dvm_free_at = start + service;
	vm->c.dvm_busy_cycles += service;
	done = MAX(now + latency, vm->dvm_free_at);
	return done - now;
}

/* @nr_syncs TLBI ...IS + DSB ISH pairs (2 for __kvm_tlb_flush_vmid_ipa). */
uint64_t s2_tlbi_cycles(struct s2_vm *vm, uint64_t now, int nr_syncs)
{
	const struct s2_profile *p = vm->prof;

	return s2_dvm_request(vm, now, nr_syncs * p->dvm_sync_service,
			      nr_syncs * p->tlbi_bcast_sync);
}

/* log2 buckets with 8 linear steps each: within 12.5 % at any size. */
static uint32_t hist_bucket(uint64_t v)
{
	uint32_t msb;

	if (v < 8)
		return v;
	msb = 63 - __builtin_clzll(v);
	return (msb - 2) * 8 + ((v >> (msb - 3)) & 7);
}

uint64_t s2_lock_hist_bucket_high(uint32_t b)
{
	uint32_t msb = b / 8 + 2, step = b % 8;

	if (b < 8)
		return b;
	return ((8ULL + step + 1) << (msb - 3)) - 1;
}

void s2_lock_hist_add(struct s2_lock_hist *h, uint64_t v)
{
	h->bucket[hist_bucket(v)]++;
	h->count++;
	h->total += v;
	h->max = MAX(h->max, v);
}

/* The smallest bucket bound at or above @pct percent of the samples (exact below 8). */
uint64_t s2_lock_hist_percentile(const struct s2_lock_hist *h, double pct)
{
	uint64_t rank, seen = 0;

	if (!h->count)
		return 0;
	rank = (uint64_t)((pct / 100.0) * h->count + 0.999999);
	rank = CLAMP(rank, 1, h->count);
	for (uint32_t b = 0; b < G_N_ELEMENTS(h->bucket); b++) {
		seen += h->bucket[b];
		if (seen >= rank)
			return MIN(s2_lock_hist_bucket_high(b), h->max);
	}
	return h->max;
}
