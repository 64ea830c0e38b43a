/*
 * lockcount.h - contention mode's hot path: an acquisition of a mutex,
 * rwlock or spin lock whose try found the lock free is counted in the
 * thread's table, by lock, instead of recorded (no clock read, no event).
 * The counts reach the trace as LOCK_COUNTS records (lockcount.c).
 */
#ifndef WEFT_LOCKCOUNT_H
#define WEFT_LOCKCOUNT_H

#include "emit.h"
#include "enter.h"

/* Whether tracing runs in contention mode (WEFT_MODE). */
static inline int weft_light(void)
{
	return weft_config.mode == WEFT_MODE_CONTENTION;
}

/* The first slot of (object, kind) in a thread's table; its second is
 * the other of the pair (slot ^ 1), so two locks used in turn that hash
 * to one slot do not write each other out. */
static inline unsigned weft_count_slot(uint64_t object, uint64_t kind)
{
	return (unsigned)(((object >> 3) + kind) * 0x9e3779b97f4a7c15ull >> 60) %
	       WEFT_COUNT_SLOTS;
}

/*
 * Counts an uncontended acquisition of object (kind: a WEFT_COUNT_*) by
 * the calling thread, in a section of its own, so the generation the count
 * belongs to cannot be retired while the count changes.  Returns 1 when it
 * is done with (counted, or not traced at all), 0 when the caller must
 * record it as an event instead: a signal handler that interrupted one of
 * its thread's sections (which may be changing the same table).  The
 * common case, a lock already in the table, looks at no buffer: the
 * thread's first count in a generation and an eviction do (lockcount.c).
 */
static inline __attribute__((always_inline)) int
weft_count_acquired(const volatile void *object, uint64_t kind)
{
	if (unlikely(weft_busy))
		return 0;
	struct weft_thread *t = weft_enter();
	if (unlikely(!t))
		return 1;
	uint32_t g = weft_section_open(t);
	uint64_t key = weft_obj((const void *)object);
	unsigned i = weft_count_slot(key, kind);
	struct weft_lock_count *c = &t->counts[g & 1][i];
	struct weft_lock_count *other = &t->counts[g & 1][i ^ 1];
	int current = g && t->counts_gen[g & 1] == g;
	if (likely(current && c->object == key && c->kind == kind && c->acquisitions))
		c->acquisitions++;
	else if (current && other->object == key && other->kind == kind &&
		 other->acquisitions)
		other->acquisitions++;
	else if (g)
		weft_counts_miss(t, g, c, other, key, kind);
	weft_ev_end(t);
	return 1;
}

#endif
