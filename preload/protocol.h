/*
 * protocol.h - the shapes of every synchronization wrapper: an acquisition
 * (mutexes, reader-writer locks, spin locks, semaphores), a release
 * (unlock, post, signal, broadcast) and an object's lifetime event (init,
 * destroy), each written once so that a fix lands in all of them at once.
 *
 * A blocking acquisition ("lock"):
 *   1. tries the object without blocking;
 *   2. when the try did not find it busy and tracing is off, returns at
 *      once: nothing recorded, the thread's record not even looked up.
 *      Whether tracing is off is read after the try, so an acquisition
 *      made once a generation is published is always recorded (read
 *      before, an acquisition just after a start went unrecorded, and its
 *      release looked like an unlock of a lock nobody held);
 *   3. when the try completed (acquired, or failed for a reason other than
 *      busy), records its result: one event;
 *   4. otherwise records that the thread blocks (its state says on what,
 *      even while tracing is off, for a STATUS written meanwhile), makes
 *      the blocking call, and records the result with CONTENDED.
 * A try-only call ("trylock") is steps 1 to 3.
 * In contention mode (WEFT_MODE=contention, lockcount.h), a lock kind's
 * acquisition that succeeded at step 2 or 3 without blocking is counted
 * instead of recorded: no clock read and no event.
 *
 * Each kind K supplies four functions:
 *   int K_busy(int r, int err)              the try found the object busy
 *   uint64_t K_counted(arg)                 the WEFT_COUNT_* its uncontended
 *                                           acquisitions count as in
 *                                           contention mode, 0 for none
 *   struct weft_state K_blocked(self, obj, arg)   records the block
 *   void K_result(self, obj, arg, r, err, flags, prev, caller)
 *                                           records the result
 * where arg is a kind's extra argument (the rwlock mode), err the errno
 * after the call, prev the state to go back to (NULL when the thread
 * did not block), and caller the wrapper's return address, which finds
 * the acquisition's site (sites.c).  Sequence numbers are taken in K_result with
 * weft_seq_take(), after the real call returned.
 *
 * What each error return records (every one leaves the object as it
 * was, except where said):
 *   EBUSY (try), ETIMEDOUT, EINVAL (bad time), EDEADLK (error-checking
 *     relock, rwlock relock), EAGAIN (recursion or reader limit, sem
 *     try), EINTR, ENOTRECOVERABLE: *_FAIL or SEM_WAIT_END with the
 *     error, no number (after a BLOCK when the try found the object busy);
 *   EOWNERDEAD: an acquisition, flag OWNERDEAD (the caller holds it);
 *   EPERM from an unlock, EOVERFLOW from a post: the release's result;
 *     its number is consumed, the state is unchanged;
 *   a condition wait (wrap_wait.c): EINVAL and EPERM fail before the
 *     mutex is released, ENOTRECOVERABLE after, without taking it back;
 *     the end is numbered whatever the result, so the reader can tell;
 *   EBUSY from a destroy, EINVAL from an init: the lifetime event's
 *     result, no new identity.
 */
#ifndef WEFT_PROTOCOL_H
#define WEFT_PROTOCOL_H

#include <errno.h>

#include "emit.h"
#include "enter.h"
#include "lockcount.h"
#include "real.h"

#define WEFT_ACQUIRE(K, obj, arg, flags0, try_call, blocking_call)            \
	int saved_errno_ = errno;                                             \
	int r = (try_call);                                                   \
	int busy_ = K##_busy(r, errno);                                       \
	if (!busy_ && likely(weft_off()))                                     \
		return r;                                                     \
	if (!busy_ && r == 0 && K##_counted(arg) && weft_light() &&           \
	    weft_count_acquired(obj, K##_counted(arg)))                       \
		return r;                                                     \
	struct weft_thread *self = weft_enter();                              \
	if (!busy_) {                                                         \
		if (self)                                                     \
			K##_result(self, obj, arg, r, errno, (flags0), NULL,  \
				   __builtin_return_address(0));              \
		return r;                                                     \
	}                                                                     \
	errno = saved_errno_;                                                 \
	if (!self)                                                            \
		return (blocking_call);                                       \
	struct weft_state prev_ = K##_blocked(self, obj, arg);                \
	r = (blocking_call);                                                  \
	K##_result(self, obj, arg, r, errno, (flags0) | WEFT_FLAG_CONTENDED,  \
		   &prev_, __builtin_return_address(0));                      \
	return r;

/* Opens the section that records an event on obj (an acquisition's
 * outcome, a release, a lifetime event); *seq gets the object's next
 * sequence number when the event takes one (ok), else 0; hold says what
 * the event does to an exclusive hold (objseq.c).  Returns the generation
 * to write in, 0 for none. */
static inline uint32_t weft_outcome_open(struct weft_thread *self,
					 const void *obj, int ok,
					 enum weft_hold hold, uint64_t *seq)
{
	uint32_t g = weft_ev_begin(self);
	*seq = ok ? weft_seq_take(self, &g, obj, hold) : 0;
	return g;
}

/* Closes it, going back to the state before a block (prev, when the
 * thread blocked). */
static inline void weft_outcome_close(struct weft_thread *self,
				      const struct weft_state *prev)
{
	if (prev)
		weft_state_leave(self, *prev);
	weft_ev_end(self);
}

#define WEFT_TRY(K, obj, arg, try_call)                                       \
	int r = (try_call);                                                   \
	if (likely(weft_off()))                                               \
		return r;                                                     \
	if (r == 0 && K##_counted(arg) && weft_light() &&                     \
	    weft_count_acquired(obj, K##_counted(arg)))                       \
		return r;                                                     \
	struct weft_thread *self = weft_enter();                              \
	if (self)                                                             \
		K##_result(self, obj, arg, r, errno, WEFT_FLAG_TRY, NULL,      \
			   __builtin_return_address(0));                      \
	return r;

/*
 * WEFT_ACQUIRERS(K, type, arg, lock, timedlock, clocklock, trylock): the
 * four entry points of a kind K whose objects (of type) can be waited for,
 * without and with a time limit (on the realtime clock, or on a given
 * one), or only tried, each on the protocol above, with the real
 * functions they call.
 */
#define WEFT_ACQUIRERS(K, type, arg, lock, timedlock, clocklock, trylock)     \
	WEFT_REAL(lock)                                                       \
	WEFT_REAL(timedlock)                                                  \
	WEFT_REAL(clocklock)                                                  \
	WEFT_REAL(trylock)                                                    \
	WEFT_VISIBLE int lock(type *o)                                        \
	{                                                                     \
		WEFT_ACQUIRE(K, o, arg, 0, REAL(trylock)(o), REAL(lock)(o))   \
	}                                                                     \
	WEFT_VISIBLE int timedlock(type *o, const struct timespec *abstime)   \
	{                                                                     \
		WEFT_ACQUIRE(K, o, arg, WEFT_FLAG_TIMED, REAL(trylock)(o),    \
			     REAL(timedlock)(o, abstime))                     \
	}                                                                     \
	WEFT_VISIBLE int clocklock(type *o, clockid_t clock,                  \
				   const struct timespec *abstime)            \
	{                                                                     \
		WEFT_ACQUIRE(K, o, arg, WEFT_FLAG_TIMED, REAL(trylock)(o),    \
			     REAL(clocklock)(o, clock, abstime))              \
	}                                                                     \
	WEFT_VISIBLE int trylock(type *o)                                     \
	{                                                                     \
		WEFT_TRY(K, o, arg, REAL(trylock)(o))                         \
	}

/* The start of a wrapper that records nothing while tracing is off: the
 * thread's record as self, or the real call made at once. */
#define WEFT_ENTER_OR_CALL(call)                                              \
	struct weft_thread *self = weft_off() ? NULL : weft_enter();          \
	if (!self)                                                            \
		return (call);

/*
 * A release: stamped, numbered (hold: WEFT_HOLD_RELEASED for a lock,
 * whose holder numbers it cheaply) and written before the real call, in a
 * section that spans the call, so no generation boundary falls between the
 * event and the state change it records; the event's last argument, the
 * call's result, is settled when the call returns (result(r, err) gives
 * it: an error number, 0 for success).  With tracing off, one load.
 * WEFT_RELEASE_UNSETTLED is the same for an event with no result (signal,
 * broadcast).
 */
#define WEFT_RELEASE(NAME, obj, hold, result, call)                           \
	WEFT_RELEASE_WITH(WEFT_EMIT_PENDING, NAME, obj, hold, result, call)
#define WEFT_RELEASE_UNSETTLED(NAME, obj, call)                               \
	WEFT_RELEASE_WITH(WEFT_EMIT_UNSETTLED, NAME, obj, WEFT_HOLD_NONE,    \
			  weft_returned, call)
#define WEFT_EMIT_UNSETTLED(t, gen, NAME, ts, result_at, ...)                 \
	WEFT_EMIT(t, gen, NAME, ts, __VA_ARGS__)

#define WEFT_RELEASE_WITH(EMITTER, NAME, obj, hold, result, call)             \
	WEFT_ENTER_OR_CALL(call)                                              \
	uint64_t ts_ = weft_now(), seq_;                                      \
	uint8_t *result_at_ = NULL;                                           \
	uint32_t g_ = weft_outcome_open(self, obj, 1, hold, &seq_);           \
	if (g_)                                                               \
		EMITTER(self, g_, NAME, ts_, result_at_, weft_obj(obj), seq_); \
	WEFT_TEST_POINT(WEFT_POINT_CALL, obj);                                \
	int r = (call);                                                       \
	int err_ = errno;                                                     \
	weft_settle(result_at_, result(r, err_));                             \
	weft_ev_end(self);                                                    \
	errno = err_;                                                         \
	return r;

/*
 * An object's lifetime event (*_INIT, *_DESTROY): written after the real
 * call, which may block (a condvar or barrier destroy waits for the
 * threads still leaving it) and so must not be inside a section; it takes
 * a number on the object's counter, after every number of the identity it
 * ends or before, so the reader orders it among them (format/SPEC.md,
 * section 7.2).  With tracing off, one load.
 */
#define WEFT_LIFETIME(NAME, obj, result, call)                                \
	WEFT_ENTER_OR_CALL(call)                                              \
	uint64_t stack_ = weft_stack();                                       \
	int r = (call);                                                       \
	int err_ = errno;                                                     \
	uint64_t ts_ = weft_now(), seq_;                                      \
	uint32_t g_ = weft_outcome_open(self, obj, 1, WEFT_HOLD_NONE, &seq_); \
	if (g_)                                                               \
		WEFT_EMIT(self, g_, NAME, ts_, weft_obj(obj), seq_, stack_,   \
			  (uint64_t)result(r, err_));                         \
	weft_ev_end(self);                                                    \
	errno = err_;                                                         \
	return r;

/* The result of a call that returns its error number (pthread_*). */
static inline int weft_returned(int r, int err)
{
	(void)err;
	return r;
}

/* The result of a call that returns -1 and sets errno (sem_*). */
static inline int weft_errno_result(int r, int err)
{
	return r == 0 ? 0 : err;
}

#endif
