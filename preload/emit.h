/*
 * emit.h - the hot path: writing one event into the calling thread's buffer
 * inside its seqlock.
 *
 * Every event is written between weft_ev_begin() and weft_ev_end().  Begin
 * makes the seqlock odd, reads the generation and makes sure the thread's
 * buffer for that generation is started (batch header first, then STATUS and
 * LOST as needed) and has room for one more record.  A state change that
 * another thread may observe (STATUS written by the advancer) is made inside
 * the same begin/end pair as its event, so no generation boundary falls
 * between the two.  A signal handler that calls a wrapper while its thread
 * is inside a section opens a nested section, whose events the
 * interrupted one writes for it (nested.c).
 */
#ifndef WEFT_EMIT_H
#define WEFT_EMIT_H

#include "put.h"
#include "state.h"
#include "testhook.h"
#include "weft.h"

/* Opens the thread's outermost section (weft_busy is 0): the seqlock is
 * odd; returns the generation it read, 0 when tracing is off.  Nothing is
 * known of the thread's buffer yet (see weft_ev_begin()). */
static inline uint32_t weft_section_open(struct weft_thread *t)
{
	__atomic_store_n(&t->section_gen, WEFT_GEN_UNREAD, __ATOMIC_RELAXED);
	atomic_signal_fence(memory_order_seq_cst);
	weft_busy++;
	atomic_signal_fence(memory_order_seq_cst);
	/* Only the thread writes its seqlock.  The odd value must be visible
	 * before the generation is read: with membarrier registered, the
	 * advancer forces that on every thread after publishing a generation,
	 * so a compiler barrier is enough here; otherwise a full fence. */
#ifdef __SANITIZE_THREAD__
	/* ThreadSanitizer models neither membarrier nor fences: give it the
	 * read-modify-write it understands. */
	atomic_fetch_add(&t->seqlock, 1);
#else
	uint64_t seq = atomic_load_explicit(&t->seqlock, memory_order_relaxed);
	atomic_store_explicit(&t->seqlock, seq + 1, memory_order_relaxed);
	if (likely(weft_membarrier))
		atomic_signal_fence(memory_order_seq_cst);
	else
		atomic_thread_fence(memory_order_seq_cst);
#endif
	/* Acquire: the advancer's retiring of this slot's last generation
	 * happens before the thread writes into it again. */
	uint32_t gen = atomic_load_explicit(&weft_generation, memory_order_acquire);
	__atomic_store_n(&t->section_gen, gen, __ATOMIC_RELAXED);
	return gen;
}

/* Whether the thread's buffer for gen is started and has room for one
 * more record, with no dropped events left to report first (those are
 * reported before its next record). */
static inline int weft_buffer_ready(const struct weft_thread *t, uint32_t gen)
{
	unsigned s = gen & 1;
	return t->buf_gen[s] == gen && t->buf[s] != NULL &&
	       t->pos[s] + WEFT_EVENT_ROOM <= weft_config.buffer_size &&
	       !atomic_load_explicit(&t->lost[s], memory_order_relaxed);
}

/* Opens an event; returns the generation to write in, or 0 when the event
 * is not recorded (tracing off, or no buffer: then it is counted as lost). */
static inline uint32_t weft_ev_begin(struct weft_thread *t)
{
	/* A signal handler inside the thread's open section: see nested.c. */
	if (unlikely(weft_busy))
		return weft_nested_begin(t);
	uint32_t gen = weft_section_open(t);
	if (unlikely(gen == 0))
		return 0;
	if (unlikely(!weft_buffer_ready(t, gen)))
		return weft_buffer_prepare(t, gen);
	return gen;
}

/* Closes the outermost section: the seqlock is even again. */
static inline void weft_section_close(struct weft_thread *t)
{
	uint64_t seq = atomic_load_explicit(&t->seqlock, memory_order_relaxed);
	atomic_store_explicit(&t->seqlock, seq + 1, memory_order_release);
	weft_busy--;
}

static inline void weft_ev_end(struct weft_thread *t)
{
	if (unlikely(weft_nesting)) {
		weft_nesting--;
		weft_busy--;
		return;
	}
	WEFT_TEST_POINT(WEFT_POINT_CLOSE, NULL);
	if (unlikely(atomic_load_explicit(&t->nested_count, memory_order_relaxed)))
		weft_nested_close(t); /* writes handlers' events, then closes */
	else
		weft_section_close(t);
}

/*
 * WEFT_EMIT(t, gen, NAME, ts, args...): one timed event, its arguments as
 * WEFT_PUT takes them.  The argument count is checked against events.def
 * at compile time.  In a signal handler that interrupted a section, the event waits in the
 * thread's nested slots; otherwise such waiting events are written first
 * (nested.c says which go before this one).
 */
/* The common part of WEFT_EMIT and WEFT_EMIT_PENDING: 1 when the event
 * goes into the buffer now.  The slow path gets a copy of the arguments,
 * so that on the fast path they stay in registers. */
#define WEFT_EMIT_NOW(t, gen, NAME, ts, args, result_at)                      \
	(likely(!weft_nesting && !atomic_load_explicit(&(t)->nested_count,    \
						       memory_order_relaxed)) \
		 ? 1                                                          \
		 : ({                                                         \
			   uint64_t weft_copy_[WEFT_NARGS_OF(args)];          \
			   for (unsigned weft_k_ = 0; weft_k_ < WEFT_NARGS_OF(args); \
				weft_k_++)                                    \
				   weft_copy_[weft_k_] = (args)[weft_k_];     \
			   weft_nested_emit(t, gen, WEFT_EV_##NAME, ts, weft_copy_, \
					    WEFT_NARGS_OF(args), result_at);  \
		   }))

#define WEFT_EMIT(t, gen, NAME, ts, ...)                                      \
	do {                                                                  \
		const uint64_t weft_args_[] = { __VA_ARGS__ };                \
		_Static_assert(WEFT_NARGS_OF(weft_args_) == WEFT_NARGS_##NAME, \
			       "argument count of " #NAME);                   \
		if (WEFT_EMIT_NOW(t, gen, NAME, ts, weft_args_, NULL))        \
			WEFT_PUT(t, gen, WEFT_EV_##NAME, weft_kinds_##NAME, ts, \
				 weft_args_, WEFT_NARGS_OF(weft_args_), ""); \
	} while (0)

#define WEFT_EMIT0(t, gen, NAME, ts)                                          \
	do {                                                                  \
		_Static_assert(WEFT_NARGS_##NAME == 0, "argument count");     \
		if ((likely(!weft_nesting &&                                  \
			    !atomic_load_explicit(&(t)->nested_count,         \
						  memory_order_relaxed)) ||   \
		     weft_nested_emit(t, gen, WEFT_EV_##NAME, ts, NULL, 0, NULL))) \
			weft_put_done(t, gen, weft_put_head(t, gen, WEFT_EV_##NAME, ts)); \
	} while (0)

/*
 * WEFT_EMIT_SITED(t, gen, NAME, ts, site, args...): an acquisition and,
 * when site is not 0, the ACQUIRE_SITE record saying where it was made,
 * with the same time.  Nothing comes between the two in the buffer: the
 * second is appended at once, in the room made for the first (the
 * longest acquisition, RWLOCK_ACQUIRE, takes at most 1 + 10 + 20 + 10 +
 * 10 + 10 bytes, an ACQUIRE_SITE at most 1 + 1 + 10: both fit in
 * WEFT_EVENT_ROOM), and a signal handler that interrupts the section
 * keeps its events until the section writes them.  An acquisition made
 * in such a handler is kept, and gets no site.
 */
#define WEFT_EMIT_SITED(t, gen, NAME, ts, site, ...)                          \
	do {                                                                  \
		const uint64_t weft_args_[] = { __VA_ARGS__ };                \
		_Static_assert(WEFT_NARGS_OF(weft_args_) == WEFT_NARGS_##NAME, \
			       "argument count of " #NAME);                   \
		if (WEFT_EMIT_NOW(t, gen, NAME, ts, weft_args_, NULL)) {      \
			WEFT_PUT(t, gen, WEFT_EV_##NAME, weft_kinds_##NAME, ts, \
				 weft_args_, WEFT_NARGS_OF(weft_args_), ""); \
			if (site) {                                           \
				const uint64_t weft_site_[] = { site };       \
				WEFT_PUT(t, gen, WEFT_EV_ACQUIRE_SITE,        \
					 weft_kinds_ACQUIRE_SITE, ts, weft_site_, \
					 1, "");                              \
			}                                                     \
		}                                                             \
	} while (0)

/*
 * WEFT_EMIT_BYTES(t, gen, NAME, ts, bytes, args...): an event whose last
 * argument is a byte string, given as its length, its bytes at bytes.  A
 * string longer than a thread name may not fit in WEFT_EVENT_ROOM: the
 * caller checks the room for it.  The event is written at once, never
 * kept for a signal handler's section.
 */
#define WEFT_EMIT_BYTES(t, gen, NAME, ts, bytes, ...)                         \
	do {                                                                  \
		const uint64_t weft_args_[] = { __VA_ARGS__ };                \
		_Static_assert(WEFT_NARGS_OF(weft_args_) == WEFT_NARGS_##NAME, \
			       "argument count of " #NAME);                   \
		WEFT_PUT(t, gen, WEFT_EV_##NAME, weft_kinds_##NAME, ts,       \
			 weft_args_, WEFT_NARGS_OF(weft_args_), bytes);       \
	} while (0)

/*
 * WEFT_EMIT_PENDING(t, gen, NAME, ts, result_at, args...): a release event
 * written before its real call, in the same section: its last argument, the
 * call's result, is written as 0 and *result_at points at that byte, which
 * weft_settle() overwrites once the call returns (result_at stays NULL when
 * nothing was written).  The section stays open across the real call, so
 * no generation boundary falls between the event and the state change it
 * records.
 */
#define WEFT_EMIT_PENDING(t, gen, NAME, ts, result_at, ...)                   \
	do {                                                                  \
		const uint64_t weft_args_[] = { __VA_ARGS__, 0 };             \
		_Static_assert(WEFT_NARGS_OF(weft_args_) == WEFT_NARGS_##NAME, \
			       "argument count of " #NAME);                   \
		if (WEFT_EMIT_NOW(t, gen, NAME, ts, weft_args_, &(result_at))) { \
			WEFT_PUT(t, gen, WEFT_EV_##NAME, weft_kinds_##NAME, ts, \
				 weft_args_, WEFT_NARGS_OF(weft_args_), ""); \
			(result_at) = (t)->buf[(gen) & 1] + (t)->pos[(gen) & 1] - 1; \
		}                                                             \
	} while (0)

/* Stores a release call's result in its pending event.  The calls that
 * use this (unlock, post, create) fail only with errno values below 128,
 * which fit the one byte reserved. */
static inline void weft_settle(uint8_t *result_at, int r)
{
	if (result_at && r > 0)
		*result_at = r < 128 ? (uint8_t)r : 127;
}

/*
 * The next number of object's sequence, for an event about to be written
 * in generation *gen inside the open section (nothing of the event written
 * yet); hold says whether the thread has just taken the object
 * exclusively or is releasing it (objseq.c).  When the object's counter
 * is already in a later generation (another thread numbered an event of
 * the object after a boundary that this section straddles), the event
 * belongs in that generation too: the section is closed and opened again,
 * and *gen becomes the generation it now writes in, or 0 when tracing
 * stopped meanwhile (the event is then not recorded).  Returns 0 when nothing is recorded or the object has no
 * counter.  See objseq.c and format/SPEC.md, section 7.2.
 */
static inline uint64_t weft_seq_take(struct weft_thread *t, uint32_t *gen,
				     const void *object, enum weft_hold hold)
{
	while (*gen) {
		WEFT_TEST_POINT(WEFT_POINT_SEQ, object);
		uint64_t seq = weft_objseq_next(t, object, *gen, hold);
		if (likely(seq != WEFT_SEQ_LATE))
			return seq;
		if (unlikely(weft_nesting))
			return weft_nested_seq_late(t, gen, object, hold);
		uint32_t late = *gen;
		weft_ev_end(t);
		*gen = weft_ev_begin(t);
		/* A counter is only ever ahead of a published generation:
		 * never loop on one that did not move. */
		if (unlikely(*gen == late))
			return 0;
	}
	return 0;
}

/* A stack id when stacks are on, else 0.  Called outside begin/end: the
 * unwinder may call wrapped functions, which then pass through. */
static inline uint64_t weft_stack(void)
{
	if (likely(!weft_config.stacks))
		return 0;
	return weft_stack_capture();
}

/* The stack id of the call site of an acquisition whose wrapper returns
 * to caller, when stacks are on, else 0 (sites.c).  Called outside
 * begin/end, as weft_stack(). */
static inline uint64_t weft_site(const void *caller)
{
	if (likely(!weft_config.stacks))
		return 0;
	return weft_site_stack((uintptr_t)caller);
}

#endif
