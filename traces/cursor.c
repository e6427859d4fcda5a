/*
 * traces/cursor.c - per-vCPU queues over one front-to-back read of a trace.
 */
#include <string.h>

#include "cursor.h"

/*
 * A parked vCPU record in 16 bytes (its queue says whose it is): how far
 * the vCPUs drift apart decides how many are parked, so their size is the
 * cursor's memory.  Host records are parked whole.
 */
struct s2_parked {
	uint64_t word;		/* delta (48 bits) | kind << 48 (4 bits) | arg << 52 (12 bits) */
	uint64_t ipa;
};

#define PARKED_DELTA	((1ULL << 48) - 1)

struct s2_queue {
	uint8_t *buf;
	uint32_t head, len, cap;	/* ring buffer of parked records, or host records */
};

struct s2_cursor {
	struct s2_source *src;
	struct s2_queue *q;
	uint32_t nr_vcpus;
	bool parked;		/* a VMM record is pending */
	bool eof;
	struct s2_record vmm;
	uint64_t nr_parked;
	void (*notify)(void *opaque);
	void *notify_opaque;
	uint64_t host_budget;
};

struct s2_cursor *s2_cursor_new(struct s2_source *src)
{
	struct s2_cursor *c = g_new0(struct s2_cursor, 1);

	c->src = src;
	c->nr_vcpus = src->hdr.nr_vcpus;
	c->q = g_new0(struct s2_queue, c->nr_vcpus + 1);	/* the last: host records */
	c->host_budget = 64ULL * (c->nr_vcpus + 1);
	return c;
}

void s2_cursor_free(struct s2_cursor *c)
{
	if (!c)
		return;
	for (uint32_t i = 0; i <= c->nr_vcpus; i++)
		g_free(c->q[i].buf);
	g_free(c->q);
	g_free(c);
}

/*
 * Ring buffers of a power-of-two size, so that wrapping is a mask.  The
 * callers pass the entry size as a constant, so each copy is inlined.
 */
static inline void queue_push(struct s2_queue *q, const void *entry, size_t esize)
{
	if (q->len == q->cap) {
		uint32_t ncap = q->cap ? q->cap * 2 : 16;

		/*
		 * The ring runs head .. cap-1 then 0 .. head-1: copying the
		 * wrapped part to cap .. cap+head-1 makes it one run from head.
		 */
		q->buf = g_realloc(q->buf, (size_t)ncap * esize);
		memcpy(q->buf + (size_t)q->cap * esize, q->buf, (size_t)q->head * esize);
		q->cap = ncap;
	}
	memcpy(q->buf + (size_t)((q->head + q->len) & (q->cap - 1)) * esize, entry, esize);
	q->len++;
}

static inline void queue_pop(struct s2_queue *q, void *entry, size_t esize)
{
	memcpy(entry, q->buf + (size_t)q->head * esize, esize);
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
}

/* Every vCPU record fits: deltas are at most 2^48, arguments small (s2_record_validate). */
static void park(struct s2_queue *q, const struct s2_record *r)
{
	struct s2_parked p = {
		.word = r->delta | (uint64_t)r->kind << 48 | (uint64_t)r->arg << 52,
		.ipa = r->ipa,
	};

	g_assert(r->delta <= PARKED_DELTA && r->kind < 16 && r->arg < 4096);
	queue_push(q, &p, sizeof(p));
}

static void unpark(struct s2_queue *q, uint32_t vcpu, struct s2_record *r)
{
	struct s2_parked p;

	queue_pop(q, &p, sizeof(p));
	*r = (struct s2_record){
		.delta = p.word & PARKED_DELTA, .ipa = p.ipa, .vcpu = vcpu,
		.kind = (p.word >> 48) & 15, .arg = p.word >> 52,
	};
}

void s2_cursor_set_host_budget(struct s2_cursor *c, uint64_t records)
{
	c->host_budget = records;
}

void s2_cursor_set_notify(struct s2_cursor *c, void (*fn)(void *opaque), void *opaque)
{
	c->notify = fn;
	c->notify_opaque = opaque;
}

static void notify(struct s2_cursor *c)
{
	if (c->notify)
		c->notify(c->notify_opaque);
}

static uint32_t queue_of(const struct s2_cursor *c, uint32_t vcpu)
{
	return vcpu == S2_VCPU_HOST ? c->nr_vcpus : vcpu;
}

/*
 * Read ahead until queue @q has a record, a VMM record parks us, or EOF.
 * A record for @q itself is handed over in *direct without being parked
 * (1); 0 when the caller must look in the queue; -1 on error.
 */
static int fill(struct s2_cursor *c, uint32_t q, struct s2_record *direct, GError **err)
{
	struct s2_record r;

	while (!c->q[q].len && !c->parked && !c->eof &&
	       (q != c->nr_vcpus || c->nr_parked < c->host_budget)) {
		int ret = s2_source_next(c->src, &r, err);

		if (ret < 0)
			return -1;
		if (ret == 0) {
			c->eof = true;
			notify(c);
			break;
		}
		if (r.vcpu == S2_VCPU_VMM) {
			c->vmm = r;
			c->parked = true;
			notify(c);
			break;
		}
		if (r.vcpu == (q == c->nr_vcpus ? S2_VCPU_HOST : q)) {
			*direct = r;
			return 1;
		}
		if (r.vcpu == S2_VCPU_HOST)
			queue_push(&c->q[c->nr_vcpus], &r, sizeof(r));
		else
			park(&c->q[r.vcpu], &r);
		c->nr_parked++;
		if (r.vcpu == S2_VCPU_HOST)
			notify(c);
	}
	return 0;
}

enum s2_cursor_status s2_cursor_next(struct s2_cursor *c, uint32_t vcpu,
				     struct s2_record *out, GError **err)
{
	uint32_t q = queue_of(c, vcpu);

	switch (fill(c, q, out, err)) {
	case -1:
		return S2_CUR_ERROR;
	case 1:
		return S2_CUR_RECORD;
	}
	if (c->q[q].len) {
		if (vcpu == S2_VCPU_HOST)
			queue_pop(&c->q[q], out, sizeof(*out));
		else
			unpark(&c->q[q], vcpu, out);
		c->nr_parked--;
		return S2_CUR_RECORD;
	}
	if (c->parked)
		return S2_CUR_BARRIER;
	return c->eof ? S2_CUR_END : S2_CUR_EMPTY;
}

bool s2_cursor_take_vmm(struct s2_cursor *c, struct s2_record *out)
{
	if (!c->parked)
		return false;
	*out = c->vmm;
	c->parked = false;
	return true;
}

uint64_t s2_cursor_parked(const struct s2_cursor *c)
{
	return c->nr_parked;
}
