/*
 * traces/cursor.h - per-vCPU views of one sequential trace.
 *
 * The simulator asks for "the next record of vCPU n" in simulated-time order,
 * which is not file order.  The cursor reads the file once, front to back,
 * and parks records of other vCPUs in per-vCPU queues, so memory stays
 * proportional to how far the vCPUs drift apart, not to the trace length.
 * A VMM record stops the read-ahead: every vCPU sees S2_CUR_BARRIER until the
 * caller takes the VMM record with s2_cursor_take_vmm().
 *
 * Host records (S2_VCPU_HOST) have a queue of their own, but asking for
 * one reads ahead only while fewer than @host_budget records are parked: the
 * host may have no record for a long while, and reading the whole file to
 * find out would park every vCPU record in memory.  The host gets
 * S2_CUR_EMPTY instead, and the notifier fires when a host record is read,
 * the read-ahead parks at a VMM record, or the file ends.
 */
#ifndef S2SIM_CURSOR_H
#define S2SIM_CURSOR_H

#include "source.h"

enum s2_cursor_status {
	S2_CUR_RECORD,
	S2_CUR_BARRIER,
	S2_CUR_END,
	S2_CUR_ERROR,
	S2_CUR_EMPTY,		/* host only: nothing read yet, ask again when notified */
};

struct s2_cursor;

struct s2_cursor *s2_cursor_new(struct s2_source *src);
void s2_cursor_set_host_budget(struct s2_cursor *c, uint64_t records);
void s2_cursor_free(struct s2_cursor *c);
enum s2_cursor_status s2_cursor_next(struct s2_cursor *c, uint32_t vcpu,
				     struct s2_record *out, GError **err);
void s2_cursor_set_notify(struct s2_cursor *c, void (*fn)(void *opaque), void *opaque);
/* The VMM record every vCPU is waiting for; false if none is pending. */
bool s2_cursor_take_vmm(struct s2_cursor *c, struct s2_record *out);
/* Records parked in queues right now (a measure of read-ahead). */
uint64_t s2_cursor_parked(const struct s2_cursor *c);

#endif
