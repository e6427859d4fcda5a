/*
 * model/host.c - the host's side of guest memory: which host pages are
 * resident, which are still being populated (and until when), and which
 * guest pages still read the shared zero page.
 *
 * Residency and zero-page use are bit sets (model/bitset.c), so that a
 * resident page costs about a bit.  Only the few pages being zeroed right
 * now carry a ready cycle: a map (model/u64map.h) for lookup and a FIFO for
 * expiry.  Within a memslot every population takes the same time, so
 * ready cycles come in the order populations start and the FIFO front is
 * always the first to expire.
 */
#include "internal.h"

struct inflight {
	uint64_t key, ready;
};

static void expire(struct s2_host_pages *h, uint64_t now)
{
	while (h->fifo_len) {
		struct inflight *e = &h->fifo[h->fifo_head];

		if (e->ready > now)
			break;
		if (s2_u64map_get(&h->inflight, e->key) == e->ready)
			s2_u64map_remove(&h->inflight, e->key);
		h->fifo_head = (h->fifo_head + 1) & (h->fifo_cap - 1);
		h->fifo_len--;
	}
}

static void fifo_push(struct s2_host_pages *h, uint64_t key, uint64_t ready)
{
	if (h->fifo_len == h->fifo_cap) {
		uint32_t ncap = h->fifo_cap ? h->fifo_cap * 2 : 64;
		struct inflight *n = g_new(struct inflight, ncap);

		for (uint32_t i = 0; i < h->fifo_len; i++)
			n[i] = h->fifo[(h->fifo_head + i) & (h->fifo_cap - 1)];
		g_free(h->fifo);
		h->fifo = n;
		h->fifo_cap = ncap;
		h->fifo_head = 0;
	}
	h->fifo[(h->fifo_head + h->fifo_len++) & (h->fifo_cap - 1)] =
		(struct inflight){ key, ready };
}

enum s2_host_state s2_host_page(struct s2_host_pages *h, uint64_t key, uint64_t now,
				uint64_t *ready)
{
	if (s2_bitset_test(&h->resident, key)) {
		uint64_t r = s2_u64map_get(&h->inflight, key);

		if (r > now) {
			*ready = r;
			return s2_bitset_test(&h->cow, key) ? S2_HOST_COPYING : S2_HOST_POPULATING;
		}
		return S2_HOST_RESIDENT;
	}
	return s2_bitset_test(&h->zero, key) ? S2_HOST_ZERO : S2_HOST_UNTOUCHED;
}

/* Resident from @ready on; a racing populator that finishes first wins. */
static bool populate(struct s2_host_pages *h, uint64_t key, uint64_t now, uint64_t ready)
{
	uint64_t old;

	expire(h, now);
	s2_bitset_clear(&h->zero, key);
	s2_bitset_set(&h->resident, key);
	old = s2_u64map_get(&h->inflight, key);
	if (old && old <= ready)
		return false;
	s2_u64map_put(&h->inflight, key, ready);
	fifo_push(h, key, ready);
	return true;
}

/*
 * A first touch.  Only never-touched keys get here, and a key that was
 * once copied stays resident, so no stale copy mark can be on it.
 */
void s2_host_set_populating(struct s2_host_pages *h, uint64_t key, uint64_t now, uint64_t ready)
{
	populate(h, key, now, ready);
}

/* A copy of the zero page: until @ready the entry still maps the zero page. */
void s2_host_set_copying(struct s2_host_pages *h, uint64_t key, uint64_t now, uint64_t ready)
{
	if (populate(h, key, now, ready))
		s2_bitset_set(&h->cow, key);
}

/*
 * A read fault that finds the host entry still none installs the zero page,
 * even while a first touch is clearing its new page: that writer's
 * set_pte_at() then finds the entry taken and frees its page
 * (mm/memory.c do_anonymous_page(), mm/huge_memory.c
 * __do_huge_pmd_anonymous_page() @ v6.1: "if (!pte_none(*vmf->pte))" /
 * "if (unlikely(!pmd_none(*vmf->pmd)))", goto release).
 */
void s2_host_zero_wins(struct s2_host_pages *h, uint64_t key, enum s2_host_state state)
{
	if (state == S2_HOST_POPULATING) {	/* only then is there a writer to undo */
		s2_bitset_clear(&h->resident, key);
		s2_u64map_remove(&h->inflight, key);
	}
	s2_bitset_set(&h->zero, key);
}

void s2_host_pages_free(struct s2_host_pages *h)
{
	s2_bitset_free(&h->resident);
	s2_bitset_free(&h->zero);
	s2_bitset_free(&h->split);
	s2_bitset_free(&h->small);
	s2_bitset_free(&h->cow);
	s2_u64map_free(&h->inflight);
	g_free(h->fifo);
}
