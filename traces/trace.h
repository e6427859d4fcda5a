/*
 * traces/trace.h - what an s2sim trace holds, independent of its encoding.
 *
 * A trace is a header (units, IPA size, vCPU count, memslots) followed by a
 * stream of records.  Access records belong to one vCPU and carry the guest
 * compute time since that vCPU's previous record.  VMM records (dirty-log
 * switches, unmaps, phase marks) are barriers: every vCPU finishes the
 * records before them, then the VMM acts, then the vCPUs go on.
 *
 * This module knows formats only: nothing here knows a policy or a cost.
 * The text form is specified in traces/FORMAT.md.
 */
#ifndef S2SIM_TRACE_H
#define S2SIM_TRACE_H

#include <glib.h>
#include <stdint.h>
#include <stdbool.h>

#define S2_TRACE_VERSION	2	/* 2 adds guest cache/set-way/reset and host records */
#define S2_TRACE_MIN_VERSION	1
#define S2_TRACE_MAX_VCPUS	4096
#define S2_TRACE_MAX_SLOTS	64
#define S2_TRACE_MAX_PHASES	256
#define S2_VCPU_VMM		UINT32_MAX
#define S2_VCPU_HOST		(UINT32_MAX - 1)

enum s2_time_unit {
	S2_UNIT_CYCLES,
	S2_UNIT_NS,
};

/* Host memory behind a memslot: decides vma_pagesize (kernel-fault-path §1.2). */
enum s2_backing {
	S2_BACKING_4K,
	S2_BACKING_THP,
	S2_BACKING_HUGETLB_2M,
	S2_BACKING_HUGETLB_1G,
	S2_BACKING_NR,
};

struct s2_memslot {
	uint32_t id;
	uint64_t gpa;		/* guest physical base, bytes */
	uint64_t size;		/* bytes, multiple of 4 KiB */
	uint64_t hva;		/* host virtual base; alignment decides huge mappings */
	enum s2_backing backing;
	bool populated;		/* host pages resident before the run (post-migration) */
	bool readonly;		/* KVM_MEM_READONLY: writes are MMIO exits */
};

struct s2_trace_header {
	uint32_t version;
	enum s2_time_unit unit;
	uint32_t freq_mhz;	/* 0: take the profile's frequency */
	uint32_t ipa_bits;
	uint32_t nr_vcpus;
	uint32_t nr_slots;
	struct s2_memslot slots[S2_TRACE_MAX_SLOTS];
	uint32_t nr_phases;
	char *phases[S2_TRACE_MAX_PHASES];	/* phase names, owned */
};

enum s2_rec_kind {
	S2_REC_READ,
	S2_REC_WRITE,
	S2_REC_EXEC,
	/* VMM records: barriers */
	S2_REC_DIRTY_LOG_ON,	/* arg = slot id */
	S2_REC_DIRTY_LOG_OFF,	/* arg = slot id */
	S2_REC_UNMAP,		/* ipa, size: host invalidation of an IPA range */
	S2_REC_PHASE,		/* arg = phase index in the header */
	/* guest events of one vCPU (version 2) */
	S2_REC_VMREG,		/* trapped-if-TVM write to SCTLR/TTBR/TCR/MAIR...: arg = S2_CACHES_* */
	S2_REC_SETWAY,		/* DC ISW/CSW/CISW */
	S2_REC_RESET,		/* PSCI CPU_ON or system reset: the vCPU starts afresh */
	/* host events, on their own clock, not barriers (version 2) */
	S2_REC_HOST_UNMAP,	/* MMU-notifier invalidation of [ipa, ipa+size): arg = enum s2_unmap_cause */
	S2_REC_CHANGE_PTE,	/* change_pte notifier: ipa remapped to a new host page, read-only */
	S2_REC_NR,
};

/* S2_REC_VMREG: was SCTLR_EL1.{M,C} on before the write, and after it. */
#define S2_CACHES_AFTER		1
#define S2_CACHES_BEFORE	2

enum s2_unmap_cause {
	S2_UNMAP_OTHER,
	S2_UNMAP_COW,
	S2_UNMAP_MIGRATION,
	S2_UNMAP_KSM,
	S2_UNMAP_SWAP,
	S2_UNMAP_CAUSE_NR,
};

struct s2_record {
	uint64_t delta;		/* time since this vCPU's (or the VMM's) previous record */
	uint64_t ipa;
	uint64_t size;
	uint32_t vcpu;		/* S2_VCPU_VMM for VMM records, S2_VCPU_HOST for host ones */
	uint16_t kind;		/* enum s2_rec_kind */
	uint16_t arg;
};

static inline bool s2_rec_is_access(const struct s2_record *r)
{
	return r->kind <= S2_REC_EXEC;
}

/* Records that belong to one vCPU: accesses and guest events. */
static inline bool s2_rec_is_vcpu(const struct s2_record *r)
{
	return s2_rec_is_access(r) || (r->kind >= S2_REC_VMREG && r->kind <= S2_REC_RESET);
}

static inline bool s2_rec_is_host(const struct s2_record *r)
{
	return r->kind == S2_REC_HOST_UNMAP || r->kind == S2_REC_CHANGE_PTE;
}

const char *s2_backing_name(enum s2_backing b);
bool s2_backing_parse(const char *s, enum s2_backing *out);
uint64_t s2_backing_host_page(enum s2_backing b);
const char *s2_rec_kind_name(enum s2_rec_kind k);
const char *s2_unmap_cause_name(enum s2_unmap_cause c);
bool s2_unmap_cause_parse(const char *s, enum s2_unmap_cause *out);

void s2_trace_header_init(struct s2_trace_header *h);
void s2_trace_header_clear(struct s2_trace_header *h);
/* Checks slots for alignment, overlap and fit in the IPA space. */
bool s2_memslot_validate(const struct s2_trace_header *h, uint32_t i, GError **err);
bool s2_trace_header_validate(const struct s2_trace_header *h, GError **err);
const struct s2_memslot *s2_trace_find_slot(const struct s2_trace_header *h,
					    uint64_t ipa);
int s2_trace_slot_index(const struct s2_trace_header *h, uint32_t id);
int s2_trace_add_phase(struct s2_trace_header *h, const char *name);
/*
 * What every encoding checks of a record against its header: vCPU, kind,
 * IPA, delta and VMM arguments in range.  The message carries no location;
 * the reader prefixes it with "FILE:LINE: " or "FILE: record N: ".
 */
#define S2_TRACE_MAX_DELTA	(1ULL << 48)
bool s2_record_validate(const struct s2_trace_header *h, const struct s2_record *r,
			GError **err);

/* Size suffixes K, M, G, T (powers of 1024); plain numbers may be hex (0x). */
bool s2_parse_size(const char *s, uint64_t *out);

/*
 * Set a parse error "PATH:LINE: message" ("PATH: message" for line 0, the
 * bare message for a NULL path); returns false for "return s2_trace_error_at(...)".
 */
bool s2_trace_error_at(GError **err, const char *path, uint64_t line, const char *fmt, ...)
	G_GNUC_PRINTF(4, 5);

#define S2_TRACE_ERROR (s2_trace_error_quark())
GQuark s2_trace_error_quark(void);
enum { S2_TRACE_ERROR_PARSE, S2_TRACE_ERROR_IO };

#endif
