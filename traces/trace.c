/*
 * traces/trace.c - the header, memslots and names shared by every encoding.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "trace.h"

G_DEFINE_QUARK(s2-trace-error-quark, s2_trace_error)

static const char *const backing_names[S2_BACKING_NR] = {
	[S2_BACKING_4K] = "4k",
	[S2_BACKING_THP] = "thp",
	[S2_BACKING_HUGETLB_2M] = "hugetlb-2m",
	[S2_BACKING_HUGETLB_1G] = "hugetlb-1g",
};

static const char *const kind_names[S2_REC_NR] = {
	[S2_REC_READ] = "R",
	[S2_REC_WRITE] = "W",
	[S2_REC_EXEC] = "X",
	[S2_REC_DIRTY_LOG_ON] = "dirty-log on",
	[S2_REC_DIRTY_LOG_OFF] = "dirty-log off",
	[S2_REC_UNMAP] = "unmap",
	[S2_REC_PHASE] = "phase",
	[S2_REC_VMREG] = "vmreg",
	[S2_REC_SETWAY] = "setway",
	[S2_REC_RESET] = "reset",
	[S2_REC_HOST_UNMAP] = "unmap",
	[S2_REC_CHANGE_PTE] = "change-pte",
};

static const char *const cause_names[S2_UNMAP_CAUSE_NR] = {
	[S2_UNMAP_OTHER] = "other",
	[S2_UNMAP_COW] = "cow",
	[S2_UNMAP_MIGRATION] = "migration",
	[S2_UNMAP_KSM] = "ksm",
	[S2_UNMAP_SWAP] = "swap",
};

const char *s2_unmap_cause_name(enum s2_unmap_cause c)
{
	return c < S2_UNMAP_CAUSE_NR ? cause_names[c] : "?";
}

bool s2_unmap_cause_parse(const char *s, enum s2_unmap_cause *out)
{
	for (int c = 0; c < S2_UNMAP_CAUSE_NR; c++) {
		if (!strcmp(s, cause_names[c])) {
			*out = c;
			return true;
		}
	}
	return false;
}

const char *s2_backing_name(enum s2_backing b)
{
	return b < S2_BACKING_NR ? backing_names[b] : "?";
}

bool s2_backing_parse(const char *s, enum s2_backing *out)
{
	for (int b = 0; b < S2_BACKING_NR; b++) {
		if (!strcmp(s, backing_names[b])) {
			*out = b;
			return true;
		}
	}
	return false;
}

/* The host page a first touch allocates and zeroes (mm/memory.c, mm/huge_memory.c, mm/hugetlb.c). */
uint64_t s2_backing_host_page(enum s2_backing b)
{
	switch (b) {
	case S2_BACKING_THP:
	case S2_BACKING_HUGETLB_2M:
		return 2ULL << 20;
	case S2_BACKING_HUGETLB_1G:
		return 1ULL << 30;
	default:
		return 4096;
	}
}

const char *s2_rec_kind_name(enum s2_rec_kind k)
{
	return k < S2_REC_NR ? kind_names[k] : "?";
}

void s2_trace_header_init(struct s2_trace_header *h)
{
	memset(h, 0, sizeof(*h));
	h->version = S2_TRACE_VERSION;
	h->unit = S2_UNIT_CYCLES;
	h->ipa_bits = 40;	/* KVM's default IPA size (kvm_init_ipa_range) */
}

void s2_trace_header_clear(struct s2_trace_header *h)
{
	for (uint32_t i = 0; i < h->nr_phases; i++)
		g_free(h->phases[i]);
	h->nr_phases = 0;
}

int s2_trace_add_phase(struct s2_trace_header *h, const char *name)
{
	for (uint32_t i = 0; i < h->nr_phases; i++)
		if (!strcmp(h->phases[i], name))
			return i;
	if (h->nr_phases == S2_TRACE_MAX_PHASES)
		return -1;
	h->phases[h->nr_phases] = g_strdup(name);
	return h->nr_phases++;
}

const struct s2_memslot *s2_trace_find_slot(const struct s2_trace_header *h,
					    uint64_t ipa)
{
	for (uint32_t i = 0; i < h->nr_slots; i++) {
		const struct s2_memslot *s = &h->slots[i];
		if (ipa >= s->gpa && ipa - s->gpa < s->size)
			return s;
	}
	return NULL;
}

int s2_trace_slot_index(const struct s2_trace_header *h, uint32_t id)
{
	for (uint32_t i = 0; i < h->nr_slots; i++)
		if (h->slots[i].id == id)
			return i;
	return -1;
}

bool s2_memslot_validate(const struct s2_trace_header *h, uint32_t i, GError **err)
{
	const struct s2_memslot *s = &h->slots[i];

	if (s->size == 0 || (s->gpa | s->size | s->hva) & 4095) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
			    "memslot %u: gpa, size and hva must be non-zero multiples of 4 KiB", s->id);
		return false;
	}
	if (s->gpa + s->size < s->gpa || s->gpa + s->size > (1ULL << h->ipa_bits)) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
			    "memslot %u: does not fit in a %u-bit IPA space", s->id, h->ipa_bits);
		return false;
	}
	for (uint32_t j = 0; j < i; j++) {
		const struct s2_memslot *o = &h->slots[j];

		if (o->id == s->id) {
			g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
				    "memslot %u: defined twice", s->id);
			return false;
		}
		if (s->gpa < o->gpa + o->size && o->gpa < s->gpa + s->size) {
			g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
				    "memslot %u overlaps memslot %u", s->id, o->id);
			return false;
		}
	}
	return true;
}

bool s2_trace_header_validate(const struct s2_trace_header *h, GError **err)
{
	if (h->ipa_bits < 32 || h->ipa_bits > 48) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
			    "ipa-bits %u outside 32..48", h->ipa_bits);
		return false;
	}
	if (h->nr_vcpus == 0 || h->nr_vcpus > S2_TRACE_MAX_VCPUS) {
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE,
			    "vcpus must be 1..%u", S2_TRACE_MAX_VCPUS);
		return false;
	}
	for (uint32_t i = 0; i < h->nr_slots; i++)
		if (!s2_memslot_validate(h, i, err))
			return false;
	return true;
}

bool s2_parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (!*s || *s == '-' || *s == '+')
		return false;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return false;
	switch (*end) {
	case 'K': case 'k': shift = 10; end++; break;
	case 'M': case 'm': shift = 20; end++; break;
	case 'G': case 'g': shift = 30; end++; break;
	case 'T': case 't': shift = 40; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		return false;
	*out = (uint64_t)v << shift;
	return true;
}

bool s2_trace_error_at(GError **err, const char *path, uint64_t line, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = g_strdup_vprintf(fmt, ap);
	va_end(ap);
	if (!path)
		g_set_error_literal(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE, msg);
	else if (line)
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE, "%s:%" G_GUINT64_FORMAT ": %s",
			    path, line, msg);
	else
		g_set_error(err, S2_TRACE_ERROR, S2_TRACE_ERROR_PARSE, "%s: %s", path, msg);
	g_free(msg);
	return false;
}

#define invalid(err, ...)	s2_trace_error_at(err, NULL, 0, __VA_ARGS__)

static bool ipa_range_ok(const struct s2_trace_header *h, uint64_t ipa, uint64_t size)
{
	uint64_t top = 1ULL << h->ipa_bits;

	return ipa < top && size <= top - ipa;
}

bool s2_record_validate(const struct s2_trace_header *h, const struct s2_record *r,
			GError **err)
{
	if (r->delta > S2_TRACE_MAX_DELTA)
		return invalid(err, "delta %" G_GUINT64_FORMAT " exceeds 2^48", r->delta);
	if (r->kind >= S2_REC_NR)
		return invalid(err, "unknown kind %u", r->kind);
	if (s2_rec_is_vcpu(r)) {
		if (r->vcpu >= h->nr_vcpus)
			return invalid(err, "vcpu %u is not 0..%u", r->vcpu, h->nr_vcpus - 1);
		if (s2_rec_is_access(r) && !ipa_range_ok(h, r->ipa, 1))
			return invalid(err, "ipa 0x%" G_GINT64_MODIFIER "x is outside the %u-bit IPA space",
				       r->ipa, h->ipa_bits);
		if (r->kind == S2_REC_VMREG && r->arg > (S2_CACHES_BEFORE | S2_CACHES_AFTER))
			return invalid(err, "vmreg: bad cache state %u", r->arg);
		return true;
	}
	if (s2_rec_is_host(r)) {
		if (r->vcpu != S2_VCPU_HOST)
			return invalid(err, "%s is a host record but names vcpu %u",
				       s2_rec_kind_name(r->kind), r->vcpu);
		if (r->kind == S2_REC_CHANGE_PTE && (r->ipa & 4095 || !ipa_range_ok(h, r->ipa, 4096)))
			return invalid(err, "change-pte: ipa must be 4 KiB aligned and inside the IPA space");
		if (r->kind == S2_REC_HOST_UNMAP &&
		    ((r->ipa | r->size) & 4095 || !r->size || !ipa_range_ok(h, r->ipa, r->size)))
			return invalid(err, "unmap: range must be 4 KiB aligned, non-empty and inside the IPA space");
		if (r->arg >= S2_UNMAP_CAUSE_NR)
			return invalid(err, "unmap: unknown cause %u", r->arg);
		return true;
	}
	if (r->vcpu != S2_VCPU_VMM)
		return invalid(err, "%s is a VMM record but names vcpu %u",
			       s2_rec_kind_name(r->kind), r->vcpu);
	switch (r->kind) {
	case S2_REC_DIRTY_LOG_ON:
	case S2_REC_DIRTY_LOG_OFF:
		if (s2_trace_slot_index(h, r->arg) < 0)
			return invalid(err, "dirty-log: no memslot %u", r->arg);
		break;
	case S2_REC_UNMAP:
		if ((r->ipa | r->size) & 4095 || !r->size || !ipa_range_ok(h, r->ipa, r->size))
			return invalid(err, "unmap: range must be 4 KiB aligned, non-empty and inside the IPA space");
		break;
	case S2_REC_PHASE:
		if (r->arg >= h->nr_phases)
			return invalid(err, "phase %u not in the header", r->arg);
		break;
	}
	return true;
}
