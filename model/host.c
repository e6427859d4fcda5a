/*
 * model/host.c - the host's side of guest memory: which host pages are
 * resident, which are being populated (and until when), and which guest
 * pages still read the shared zero page.  Three Judy arrays per memslot,
 * so that a resident page costs about a bit, not a word.
 */
#include <Judy.h>

#include "internal.h"

enum s2_host_state s2_host_page(struct s2_host_pages *h, uint64_t key, uint64_t now,
				uint64_t *ready)
{
	PWord_t pv;
	int rc;

	J1T(rc, h->resident, key);
	if (rc)
		return S2_HOST_RESIDENT;
	JLG(pv, h->populating, key);
	if (pv) {
		if (*pv > now) {
			*ready = *pv;
			return S2_HOST_POPULATING;
		}
		/* done populating: keep only the bit */
		JLD(rc, h->populating, key);
		J1S(rc, h->resident, key);
		h->nr_populating--;
		return S2_HOST_RESIDENT;
	}
	J1T(rc, h->zero, key);
	return rc ? S2_HOST_ZERO : S2_HOST_UNTOUCHED;
}

void s2_host_set_zero(struct s2_host_pages *h, uint64_t key)
{
	int rc;

	J1S(rc, h->zero, key);
	(void)rc;
}

/*
 * Pages whose population finished before @now become resident bits.  Run
 * when the in-flight map has doubled since the last sweep, so each page is
 * swept about once and the map stays as small as the pages in flight.
 */
static void sweep_populated(struct s2_host_pages *h, uint64_t now)
{
	Word_t key = 0;
	PWord_t pv;
	int rc;

	JLF(pv, h->populating, key);
	while (pv) {
		if (*pv <= now) {
			J1S(rc, h->resident, key);
			JLD(rc, h->populating, key);
			h->nr_populating--;
		}
		JLN(pv, h->populating, key);
	}
	h->sweep_at = MAX(2 * h->nr_populating, 1024);
}

/* Resident from @ready on; a racing populator that finishes first wins. */
void s2_host_set_populating(struct s2_host_pages *h, uint64_t key, uint64_t now, uint64_t ready)
{
	PWord_t pv;
	int rc;

	J1U(rc, h->zero, key);
	JLI(pv, h->populating, key);
	if (!*pv)
		h->nr_populating++;
	*pv = *pv ? MIN(*pv, ready) : ready;
	if (h->nr_populating >= h->sweep_at)
		sweep_populated(h, now);
	(void)rc;
}

void s2_host_pages_free(struct s2_host_pages *h)
{
	Word_t bytes;

	J1FA(bytes, h->resident);
	J1FA(bytes, h->zero);
	JLFA(bytes, h->populating);
	(void)bytes;
}
