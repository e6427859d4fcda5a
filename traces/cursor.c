/*
 * traces/cursor.c - per-vCPU queues over one front-to-back read of a trace.
 */
#include "cursor.h"

struct s2_queue {
	struct s2_record *buf;
	uint32_t head, len, cap;	/* ring buffer */
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

/* Ring buffers of a power-of-two size, so that wrapping is a mask. */
static void queue_push(struct s2_queue *q, const struct s2_record *r)
{
	if (q->len == q->cap) {
		uint32_t ncap = q->cap ? q->cap * 2 : 16;
		struct s2_record *nb = g_new(struct s2_record, ncap);

		for (uint32_t i = 0; i < q->len; i++)
			nb[i] = q->buf[(q->head + i) & (q->cap - 1)];
		g_free(q->buf);
		q->buf = nb;
		q->cap = ncap;
		q->head = 0;
	}
	q->buf[(q->head + q->len) & (q->cap - 1)] = *r;
	q->len++;
}

static void queue_pop(struct s2_queue *q, struct s2_record *out)
{
	*out = q->buf[q->head];
	q->head = (q->head + 1) & (q->cap - 1);
	q->len--;
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

/* Read ahead until queue @q has a record, a VMM record parks us, or EOF. */
static bool fill(struct s2_cursor *c, uint32_t q, GError **err)
{
	struct s2_record r;

	while (!c->q[q].len && !c->parked && !c->eof &&
	       (q != c->nr_vcpus || c->nr_parked < c->host_budget)) {
		int ret = s2_source_next(c->src, &r, err);

		if (ret < 0)
			return false;
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
		queue_push(&c->q[queue_of(c, r.vcpu)], &r);
		c->nr_parked++;
		if (r.vcpu == S2_VCPU_HOST)
			notify(c);
	}
	return true;
}

enum s2_cursor_status s2_cursor_next(struct s2_cursor *c, uint32_t vcpu,
				     struct s2_record *out, GError **err)
{
	uint32_t q = queue_of(c, vcpu);

	if (!fill(c, q, err))
		return S2_CUR_ERROR;
	if (c->q[q].len) {
		queue_pop(&c->q[q], out);
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
