/*
 * workloads/first_touch.c - every vCPU writes its own slice of guest RAM
 * page by page, once: the largest stage-2 build a guest can ask for, and the
 * scale case of issue 6 (1 TiB, 512 vCPUs, 4 KiB backing: 2^28 first-touch
 * faults in one trace).
 *
 * RAM is one memslot at VIRT_RAM_BASE, populated=no, so each first touch
 * allocates and zeroes a host page.  vCPU v owns pages
 * [v * P / N, (v + 1) * P / N) of the P = mem / 4 KiB pages (every page is
 * touched exactly once, so the trace has exactly P records) and writes them
 * in ascending order, START_JITTER cycles after the start and TOUCH_CYCLES
 * between two pages.  The IPA size grows past KVM's default 40 bits when
 * RAM does not fit (1 TiB above the 1 GiB base needs 41).
 *
 * The trace is too large for the emitter, which holds a barrier interval in
 * memory to sort it (40 bytes a record: 10 GiB here), so this scenario
 * streams: each vCPU's next touch sits in a min-heap on (guest time, vCPU),
 * which is the emitter's order (time, then emission order, and emission is
 * vCPU-major), and the random draws are taken in that merged order.  An
 * output ending in ".s2b" is written in the binary encoding directly
 * (16 bytes a record instead of about 24 of text); anything else as text.
 */
#include <inttypes.h>
#include <string.h>

#include "wl.h"

#define RAM_SLOT		0
#define START_JITTER		0, 1000
#define TOUCH_CYCLES		200, 500	/* the guest zeroes (or writes) 4 KiB */

struct ft_vcpu {
	uint64_t next_page;	/* next page to touch, absolute page number */
	uint64_t end_page;
	uint64_t at;		/* guest time of that touch */
	uint64_t last;		/* guest time of its previous record */
};

struct ft_heap {
	uint32_t *v;		/* vCPU ids, min-heap on (vcpu[id].at, id) */
	uint32_t len;
	struct ft_vcpu *vcpu;
};

static bool ft_less(const struct ft_heap *h, uint32_t a, uint32_t b)
{
	const struct ft_vcpu *x = &h->vcpu[a], *y = &h->vcpu[b];

	return x->at != y->at ? x->at < y->at : a < b;
}

static void ft_sift_down(struct ft_heap *h, uint32_t i)
{
	uint32_t id = h->v[i];

	for (;;) {
		uint32_t c = 2 * i + 1;

		if (c >= h->len)
			break;
		if (c + 1 < h->len && ft_less(h, h->v[c + 1], h->v[c]))
			c++;
		if (!ft_less(h, h->v[c], id))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	h->v[i] = id;
}

static uint32_t ipa_bits_for(uint64_t top)
{
	uint32_t bits = 40;	/* KVM's default (kvm_init_ipa_range) */

	while (bits < 48 && top > (1ULL << bits))
		bits++;
	return bits;
}

static bool open_writer(struct wl_trace *t, GError **err)
{
	if (!g_str_has_suffix(t->p->output, ".s2b"))
		return wl_trace_open(t, err);
	if (!s2_trace_header_validate(&t->hdr, err))
		return false;
	t->writer = s2_binary_writer_open(t->p->output, &t->hdr, false, err);
	return t->writer != NULL;
}

static bool stream(struct wl_trace *t, struct ft_heap *h, GError **err)
{
	while (h->len) {
		uint32_t id = h->v[0];
		struct ft_vcpu *c = &h->vcpu[id];
		struct s2_record r = {
			.delta = c->at - c->last,
			.ipa = VIRT_RAM_BASE + c->next_page * SZ_4K,
			.vcpu = id,
			.kind = S2_REC_WRITE,
		};

		if (!s2_writer_put(t->writer, &r, err))
			return false;
		c->last = c->at;
		if (++c->next_page == c->end_page)
			h->v[0] = h->v[--h->len];
		else
			c->at += wl_rand(t, TOUCH_CYCLES);
		ft_sift_down(h, 0);
	}
	return true;
}

static bool first_touch_generate(struct wl_trace *t, GError **err)
{
	uint32_t n = t->p->nr_vcpus;
	uint64_t pages = t->p->mem / SZ_4K;
	struct ft_heap h = { .v = g_new(uint32_t, n), .vcpu = g_new0(struct ft_vcpu, n) };
	bool ok;

	t->hdr.ipa_bits = ipa_bits_for(VIRT_RAM_BASE + t->p->mem);
	wl_add_slot(&t->hdr, RAM_SLOT, VIRT_RAM_BASE, t->p->mem, t->p->backing, false);
	ok = open_writer(t, err);
	for (uint32_t v = 0; ok && v < n; v++) {
		struct ft_vcpu *c = &h.vcpu[v];

		c->next_page = v * pages / n;
		c->end_page = (v + 1) * pages / n;
		c->at = wl_rand(t, START_JITTER);
		if (c->next_page < c->end_page)
			h.v[h.len++] = v;
	}
	for (uint32_t i = h.len / 2; ok && i-- > 0;)
		ft_sift_down(&h, i);
	ok = ok && stream(t, &h, err);
	g_free(h.v);
	g_free(h.vcpu);
	return ok;
}

const struct wl_scenario wl_first_touch = {
	.name = "first-touch",
	.summary = "every vCPU writes each page of its own slice of RAM once (scale test)",
	.entries = NULL,
	.default_vcpus = 8,
	.default_mem = SZ_1G,
	.default_backing = S2_BACKING_4K,
	.generate = first_touch_generate,
};
