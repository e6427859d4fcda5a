/*
 * traces/info.c - counts and the concurrency figure of traces/info.h, in
 * two reads of the trace: the first finds each block's first touch, the
 * second counts the other vCPUs' accesses inside its window.  Judy arrays
 * keep the page and block sets small for sparse IPA spaces.
 */
#include <Judy.h>
#include <string.h>

#include "info.h"

#define PAGE_SHIFT	12
#define BLOCK_SHIFT	21
#define BLOCK_BITS	(48 - BLOCK_SHIFT)	/* block numbers of a 48-bit IPA space */

struct first_touch {
	uint64_t t;
	uint32_t vcpu;
	uint64_t count;
};

struct walk {
	struct s2_trace_info *info;
	uint64_t *clock;	/* per vCPU, in the trace's unit */
	Pvoid_t gens;		/* block -> generation << 1 | touched in it */
	Pvoid_t first;		/* generation key -> 1 + index in touches */
	GArray *touches;	/* struct first_touch */
	Pvoid_t pages, blocks;
	void (*on_access)(struct walk *w, const struct s2_record *r, uint64_t key, uint64_t t);
};

static uint64_t ns_to_cycles(uint64_t ns, uint32_t freq_mhz)
{
	return ns / 1000 * freq_mhz + ns % 1000 * freq_mhz / 1000;
}

static uint64_t to_info_time(const struct s2_trace_info *info, uint64_t t)
{
	if (info->hdr.unit == S2_UNIT_NS && info->hdr.freq_mhz)
		return ns_to_cycles(t, info->hdr.freq_mhz);
	return t;
}

/* A block's key changes each time an unmap hits it after it was touched. */
static uint64_t touch_key(struct walk *w, uint64_t ipa)
{
	Word_t block = ipa >> BLOCK_SHIFT;
	PWord_t pv;

	JLI(pv, w->gens, block);
	*pv |= 1;
	return (uint64_t)(*pv >> 1) << BLOCK_BITS | block;
}

static void unmap_blocks(struct walk *w, uint64_t ipa, uint64_t size)
{
	Word_t block = ipa >> BLOCK_SHIFT, last = (ipa + size - 1) >> BLOCK_SHIFT;
	PWord_t pv;

	JLF(pv, w->gens, block);
	while (pv && block <= last) {
		if (*pv & 1)
			*pv = (*pv & ~1UL) + 2;
		JLN(pv, w->gens, block);
	}
}

/* Every vCPU waits for the latest, then the VMM acts for its delta. */
static void barrier(struct walk *w, uint64_t delta)
{
	uint64_t t = 0;

	for (uint32_t v = 0; v < w->info->hdr.nr_vcpus; v++)
		t = MAX(t, w->clock[v]);
	for (uint32_t v = 0; v < w->info->hdr.nr_vcpus; v++)
		w->clock[v] = t + delta;
}

static void find_first(struct walk *w, const struct s2_record *r, uint64_t key, uint64_t t)
{
	struct first_touch ft = { .t = t, .vcpu = r->vcpu };
	int new;
	PWord_t pv;

	J1S(new, w->pages, r->ipa >> PAGE_SHIFT);
	J1S(new, w->blocks, r->ipa >> BLOCK_SHIFT);
	JLI(pv, w->first, key);
	if (!*pv) {
		g_array_append_val(w->touches, ft);
		*pv = w->touches->len;
	} else if (t < g_array_index(w->touches, struct first_touch, *pv - 1).t) {
		g_array_index(w->touches, struct first_touch, *pv - 1) = ft;
	}
}

static void count_concurrent(struct walk *w, const struct s2_record *r, uint64_t key,
			     uint64_t t)
{
	struct first_touch *ft;
	PWord_t pv;

	JLG(pv, w->first, key);
	ft = &g_array_index(w->touches, struct first_touch, *pv - 1);
	if (r->vcpu != ft->vcpu && t - ft->t <= w->info->window) {
		ft->count++;
		w->info->concurrent++;
	}
}

static void count_record(struct s2_trace_info *info, const struct s2_record *r)
{
	info->records++;
	info->per_kind[r->kind]++;
	if (s2_rec_is_access(r)) {
		info->accesses++;
		info->per_vcpu[r->vcpu]++;
	} else {
		info->vmm++;
	}
}

/* One read of the trace; the first also counts records and keeps the header. */
static bool walk_trace(struct walk *w, const char *path, bool first_pass, GError **err)
{
	struct s2_trace_info *info = w->info;
	struct s2_source *src = s2_source_open(path, err);
	struct s2_record r;
	Word_t bytes;
	int ret;

	if (!src)
		return false;
	if (first_pass) {
		info->hdr = src->hdr;
		info->hdr.nr_phases = 0;
		info->encoding = src->encoding;
		info->in_cycles = src->hdr.unit == S2_UNIT_CYCLES || src->hdr.freq_mhz;
		info->per_vcpu = g_new0(uint64_t, src->hdr.nr_vcpus);
	}
	w->clock = g_new0(uint64_t, src->hdr.nr_vcpus);
	JLFA(bytes, w->gens);
	while ((ret = s2_source_next(src, &r, err)) > 0) {
		if (first_pass)
			count_record(info, &r);
		if (!s2_rec_is_access(&r)) {
			barrier(w, r.delta);
			if (r.kind == S2_REC_UNMAP)
				unmap_blocks(w, r.ipa, r.size);
			continue;
		}
		w->clock[r.vcpu] += r.delta;
		w->on_access(w, &r, touch_key(w, r.ipa), to_info_time(info, w->clock[r.vcpu]));
	}
	if (first_pass)
		for (uint32_t i = 0; i < src->hdr.nr_phases; i++)
			s2_trace_add_phase(&info->hdr, src->hdr.phases[i]);
	g_free(w->clock);
	s2_source_close(src);
	return ret == 0;
}

bool s2_trace_info_compute(const char *path, uint64_t window, struct s2_trace_info *info,
			   GError **err)
{
	struct walk w = { .info = info, .touches = g_array_new(FALSE, FALSE, sizeof(struct first_touch)) };
	Word_t bytes;
	bool ok;

	memset(info, 0, sizeof(*info));
	info->window = window;
	w.on_access = find_first;
	ok = walk_trace(&w, path, true, err);
	if (ok) {
		w.on_access = count_concurrent;
		ok = walk_trace(&w, path, false, err);
	}
	J1C(bytes, w.pages, 0, -1);
	info->pages = bytes;
	J1C(bytes, w.blocks, 0, -1);
	info->blocks = bytes;
	info->first_touches = w.touches->len;
	for (guint i = 0; i < w.touches->len; i++) {
		const struct first_touch *ft = &g_array_index(w.touches, struct first_touch, i);

		info->shared_first_touches += ft->count > 0;
		info->max_concurrent = MAX(info->max_concurrent, ft->count);
	}
	J1FA(bytes, w.pages);
	J1FA(bytes, w.blocks);
	JLFA(bytes, w.gens);
	JLFA(bytes, w.first);
	g_array_free(w.touches, TRUE);
	return ok;
}

void s2_trace_info_clear(struct s2_trace_info *info)
{
	s2_trace_header_clear(&info->hdr);
	g_free(info->per_vcpu);
	info->per_vcpu = NULL;
}
