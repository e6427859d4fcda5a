/*
 * workloads/emit.c - per-vCPU guest clocks merged into one guest-time
 * ordered trace, and the seeded helpers every scenario draws from.
 *
 * Scenarios emit each vCPU's accesses in program order, one vCPU after the
 * other; here they wait until the next barrier and are then written in
 * (guest time, emission order).  Ties keep emission order, so the file is a
 * pure function of the arguments and the seed.  Host records (MMU-notifier
 * unmaps) run on one more clock of their own, merged the same way.
 *
 * A vCPU's clock only moves forward, so each vCPU's records are already in
 * that order: the barrier's records are a merge of one sorted run per
 * clock, with no sort and no copy of the whole interval (a stage of a
 * full-size kvm-page-table-test holds 210 M records).  Only the host's
 * unmaps, placed at times the scenario draws, are sorted first.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>

#include "wl.h"

G_DEFINE_QUARK(s2-workload-error-quark, wl_error)

/* One record of a vCPU's clock: which vCPU is the run it sits in. */
struct wl_pending {
	uint64_t t;		/* guest (or host) time since the last barrier */
	uint64_t ipa;
	uint32_t seq;		/* emission order: the tie break */
	uint16_t arg;
	uint8_t kind;
};

/* The host's clock also carries each unmap's size. */
struct wl_host_pending {
	struct wl_pending r;
	uint64_t size;
};

bool wl_option_error(GError **err, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	g_set_error_literal(err, WL_ERROR, WL_ERROR_OPTION, msg);
	g_free(msg);
	return false;
}

bool wl_parse_size_option(const char *name, const char *val, uint64_t min, uint64_t *out,
			  GError **err)
{
	uint64_t v;

	if (!s2_parse_size(val, &v) || v < MAX(min, 1) || v % SZ_4K)
		return wl_option_error(err, "%s: '%s' is not a size of at least %" PRIu64
				       "K in 4 KiB multiples", name, val, (uint64_t)MAX(min, SZ_4K) >> 10);
	*out = v;
	return true;
}

struct wl_trace *wl_trace_new(const struct wl_params *p)
{
	struct wl_trace *t = g_new0(struct wl_trace, 1);
	guint32 seed[2] = { (guint32)p->seed, (guint32)(p->seed >> 32) };

	s2_trace_header_init(&t->hdr);
	t->hdr.nr_vcpus = p->nr_vcpus;
	t->p = p;
	t->rng = g_rand_new_with_seed_array(seed, 2);
	t->pending = g_new(GArray *, p->nr_vcpus + 1);
	for (uint32_t c = 0; c < p->nr_vcpus; c++)
		t->pending[c] = g_array_new(FALSE, FALSE, sizeof(struct wl_pending));
	t->pending[p->nr_vcpus] = g_array_new(FALSE, FALSE, sizeof(struct wl_host_pending));
	t->clock = g_new0(uint64_t, p->nr_vcpus + 1);
	t->last = g_new0(uint64_t, p->nr_vcpus + 1);
	return t;
}

void wl_trace_free(struct wl_trace *t)
{
	if (!t)
		return;
	s2_writer_abort(t->writer);
	s2_trace_header_clear(&t->hdr);
	g_rand_free(t->rng);
	for (uint32_t c = 0; c <= t->p->nr_vcpus; c++)
		g_array_free(t->pending[c], TRUE);
	g_free(t->pending);
	g_free(t->clock);
	g_free(t->last);
	g_free(t);
}

bool wl_trace_open(struct wl_trace *t, GError **err)
{
	if (!s2_trace_header_validate(&t->hdr, err))
		return false;
	t->writer = s2_text_writer_open(t->p->output, &t->hdr, err);
	return t->writer != NULL;
}

bool wl_trace_commit(struct wl_trace *t, GError **err)
{
	bool ok = wl_flush(t, err);

	if (!ok)
		return false;
	ok = s2_writer_commit(t->writer, err);
	t->writer = NULL;	/* commit frees it, even on failure */
	return ok;
}

void wl_compute(struct wl_trace *t, uint32_t vcpu, uint64_t cycles)
{
	t->clock[vcpu] += cycles;
}

static void add_pending(struct wl_trace *t, uint32_t clock, uint64_t at,
			enum s2_rec_kind kind, uint64_t ipa, uint16_t arg)
{
	struct wl_pending r = {
		.t = at,
		.ipa = ipa,
		.seq = t->seq++,
		.arg = arg,
		.kind = kind,
	};

	g_array_append_val(t->pending[clock], r);
}

void wl_access(struct wl_trace *t, uint32_t vcpu, enum s2_rec_kind kind, uint64_t ipa)
{
	add_pending(t, vcpu, t->clock[vcpu], kind, ipa, 0);
}

void wl_event(struct wl_trace *t, uint32_t vcpu, enum s2_rec_kind kind, uint16_t arg)
{
	add_pending(t, vcpu, t->clock[vcpu], kind, 0, arg);
}

void wl_vmreg(struct wl_trace *t, uint32_t vcpu, bool before, bool after)
{
	wl_event(t, vcpu, S2_REC_VMREG,
		 (before ? S2_CACHES_BEFORE : 0) | (after ? S2_CACHES_AFTER : 0));
}

void wl_host_unmap(struct wl_trace *t, uint64_t at, uint64_t ipa, uint64_t size,
		   enum s2_unmap_cause cause)
{
	struct wl_host_pending h = {
		.r = { .t = at, .ipa = ipa, .seq = t->seq++, .arg = cause,
		       .kind = S2_REC_HOST_UNMAP },
		.size = size,
	};

	g_array_append_val(t->pending[t->p->nr_vcpus], h);
}

uint64_t wl_interval_end(const struct wl_trace *t)
{
	uint64_t end = 0;

	for (uint32_t v = 0; v < t->p->nr_vcpus; v++)
		end = MAX(end, t->clock[v]);
	return end;
}

uint64_t wl_rand(struct wl_trace *t, uint64_t lo, uint64_t hi)
{
	uint64_t span = hi - lo + 1;

	if (hi <= lo)
		return lo;
	/* two draws: GRand's range helpers stop at 32 bits (span 0: all 64) */
	if (span > G_MAXINT32 || !span) {
		uint64_t r = (uint64_t)g_rand_int(t->rng) << 32;

		r |= g_rand_int(t->rng);
		return span ? lo + r % span : r;
	}
	return lo + (uint64_t)g_rand_int_range(t->rng, 0, (gint32)span);
}

bool wl_chance(struct wl_trace *t, uint32_t num, uint32_t den)
{
	return wl_rand(t, 0, den - 1) < num;
}

void wl_shuffle(struct wl_trace *t, uint64_t *v, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = wl_rand(t, 0, i - 1);
		uint64_t tmp = v[i - 1];

		v[i - 1] = v[j];
		v[j] = tmp;
	}
}

void wl_touch(struct wl_trace *t, uint32_t vcpu, enum s2_rec_kind kind, uint64_t ipa,
	      uint64_t lo, uint64_t hi)
{
	wl_access(t, vcpu, kind, ipa);
	wl_compute(t, vcpu, wl_rand(t, lo, hi));
}

void wl_sweep(struct wl_trace *t, uint32_t vcpu, enum s2_rec_kind kind, uint64_t ipa,
	      uint64_t size, uint64_t lo, uint64_t hi)
{
	for (uint64_t off = 0; off < size; off += SZ_4K)
		wl_touch(t, vcpu, kind, ipa + off, lo, hi);
}

void wl_runs_cut(struct wl_trace *t, GArray *runs, uint64_t base, uint64_t size,
		 uint32_t max_run, uint32_t num, uint32_t den, enum s2_rec_kind kind)
{
	uint64_t pages = size / SZ_4K;

	for (uint64_t pg = 0; pg < pages;) {
		struct wl_run r = {
			.ipa = base + pg * SZ_4K,
			.pages = MIN(wl_rand(t, 1, max_run), pages - pg),
			.kind = kind,
		};

		pg += r.pages;
		if (wl_chance(t, num, den))
			g_array_append_val(runs, r);
	}
}

void wl_runs_shuffle(struct wl_trace *t, GArray *runs)
{
	for (guint i = runs->len; i > 1; i--) {
		guint j = wl_rand(t, 0, i - 1);
		struct wl_run tmp = g_array_index(runs, struct wl_run, i - 1);

		g_array_index(runs, struct wl_run, i - 1) = g_array_index(runs, struct wl_run, j);
		g_array_index(runs, struct wl_run, j) = tmp;
	}
}

void wl_runs_touch(struct wl_trace *t, uint32_t vcpu, const GArray *runs,
		   uint64_t lo, uint64_t hi)
{
	for (guint i = 0; i < runs->len; i++) {
		const struct wl_run *r = &g_array_index(runs, struct wl_run, i);

		wl_sweep(t, vcpu, r->kind, r->ipa, (uint64_t)r->pages * SZ_4K, lo, hi);
	}
}

struct s2_memslot *wl_add_slot(struct s2_trace_header *hdr, uint32_t id, uint64_t gpa,
			       uint64_t size, enum s2_backing backing, bool populated)
{
	struct s2_memslot *s = &hdr->slots[hdr->nr_slots++];

	memset(s, 0, sizeof(*s));
	s->id = id;
	s->gpa = gpa;
	s->size = size;
	/* FORMAT.md's default: congruent with gpa modulo 1 GiB, blocks allowed */
	s->hva = 0x7f0000000000ULL + gpa;
	s->backing = backing;
	s->populated = populated;
	return s;
}

static bool earlier(const struct wl_pending *x, const struct wl_pending *y)
{
	return x->t != y->t ? x->t < y->t : x->seq < y->seq;
}

static gint host_cmp(gconstpointer a, gconstpointer b)
{
	const struct wl_pending *x = a, *y = b;

	return earlier(x, y) ? -1 : earlier(y, x);
}

/* The merge: a binary heap of clocks, keyed by the record each writes next. */
struct merge {
	const struct wl_trace *t;
	uint32_t *heap, len;
	guint *next;		/* per clock, its next record */
};

static const struct wl_pending *head(const struct merge *m, uint32_t clock)
{
	GArray *a = m->t->pending[clock];

	if (clock == m->t->p->nr_vcpus)
		return &g_array_index(a, struct wl_host_pending, m->next[clock]).r;
	return &g_array_index(a, struct wl_pending, m->next[clock]);
}

static bool clock_done(const struct merge *m, uint32_t clock)
{
	return m->next[clock] == m->t->pending[clock]->len;
}

static void sift_down(struct merge *m, uint32_t i)
{
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, min = i, tmp;

		if (l < m->len && earlier(head(m, m->heap[l]), head(m, m->heap[min])))
			min = l;
		if (r < m->len && earlier(head(m, m->heap[r]), head(m, m->heap[min])))
			min = r;
		if (min == i)
			return;
		tmp = m->heap[i];
		m->heap[i] = m->heap[min];
		m->heap[min] = tmp;
		i = min;
	}
}

static bool write_record(struct wl_trace *t, const struct merge *m, uint32_t clock,
			 GError **err)
{
	const struct wl_pending *p = head(m, clock);
	struct s2_record r = {
		.delta = p->t - t->last[clock],
		.ipa = p->ipa,
		.vcpu = clock == t->p->nr_vcpus ? S2_VCPU_HOST : clock,
		.kind = p->kind,
		.arg = p->arg,
	};

	if (clock == t->p->nr_vcpus)
		r.size = ((const struct wl_host_pending *)p)->size;
	t->last[clock] = p->t;
	return s2_writer_put(t->writer, &r, err);
}

static bool merge_clocks(struct wl_trace *t, GError **err)
{
	uint32_t nr = t->p->nr_vcpus + 1;
	struct merge m = { t, g_new(uint32_t, nr), 0, g_new0(guint, nr) };
	bool ok = true;

	g_array_sort(t->pending[t->p->nr_vcpus], host_cmp);
	for (uint32_t c = 0; c < nr; c++)
		if (!clock_done(&m, c))
			m.heap[m.len++] = c;
	for (uint32_t i = m.len; i-- > 0;)
		sift_down(&m, i);
	while (ok && m.len) {
		uint32_t c = m.heap[0];

		ok = write_record(t, &m, c, err);
		m.next[c]++;
		if (clock_done(&m, c))
			m.heap[0] = m.heap[--m.len];
		sift_down(&m, 0);
	}
	g_free(m.heap);
	g_free(m.next);
	return ok;
}

/*
 * Write the pending records in guest-time order.  A vCPU's clock restarts
 * at each barrier: its first delta after one counts from the moment every
 * vCPU was released.
 */
bool wl_flush(struct wl_trace *t, GError **err)
{
	if (!merge_clocks(t, err))
		return false;
	for (uint32_t c = 0; c <= t->p->nr_vcpus; c++)
		g_array_set_size(t->pending[c], 0);
	t->seq = 0;
	memset(t->clock, 0, (t->p->nr_vcpus + 1) * sizeof(*t->clock));
	memset(t->last, 0, (t->p->nr_vcpus + 1) * sizeof(*t->last));
	return true;
}

/* The VMM acts at once when the last vCPU reaches the barrier: delta 0. */
static bool put_vmm(struct wl_trace *t, struct s2_record *r, GError **err)
{
	if (!wl_flush(t, err))
		return false;
	r->vcpu = S2_VCPU_VMM;
	return s2_writer_put(t->writer, r, err);
}

bool wl_vmm_phase(struct wl_trace *t, const char *name, GError **err)
{
	int idx = s2_trace_add_phase(&t->hdr, name);
	struct s2_record r = { .kind = S2_REC_PHASE };

	if (idx < 0)
		return wl_option_error(err, "too many phases (at most %d)", S2_TRACE_MAX_PHASES);
	r.arg = idx;
	return put_vmm(t, &r, err);
}

bool wl_vmm_dirty_log(struct wl_trace *t, uint32_t slot, bool on, GError **err)
{
	struct s2_record r = {
		.kind = on ? S2_REC_DIRTY_LOG_ON : S2_REC_DIRTY_LOG_OFF,
		.arg = slot,
	};

	return put_vmm(t, &r, err);
}
