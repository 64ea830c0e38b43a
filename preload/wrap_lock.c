/*
 * wrap_lock.c - mutexes, reader-writer locks and spin locks.
 *
 * A blocking acquisition tries the lock first: when that succeeds the
 * thread records one ACQUIRE; only when it is busy does it record BLOCK,
 * call the blocking function and then ACQUIRE with the contended flag (or
 * FAIL).  The object's sequence number is taken while the lock is held and
 * inside the event's seqlock section: after acquiring; and an unlock's
 * section spans the real unlock, so the release and its event fall in the
 * same generation.  Return values and errno pass through unchanged;
 * EOWNERDEAD counts as acquired.
 */
#include <errno.h>
#include <pthread.h>

#include "emit.h"
#include "real.h"

WEFT_REAL(pthread_mutex_lock)
WEFT_REAL(pthread_mutex_trylock)
WEFT_REAL(pthread_mutex_timedlock)
WEFT_REAL(pthread_mutex_clocklock)
WEFT_REAL(pthread_mutex_unlock)
WEFT_REAL(pthread_rwlock_rdlock)
WEFT_REAL(pthread_rwlock_wrlock)
WEFT_REAL(pthread_rwlock_tryrdlock)
WEFT_REAL(pthread_rwlock_trywrlock)
WEFT_REAL(pthread_rwlock_timedrdlock)
WEFT_REAL(pthread_rwlock_timedwrlock)
WEFT_REAL(pthread_rwlock_clockrdlock)
WEFT_REAL(pthread_rwlock_clockwrlock)
WEFT_REAL(pthread_rwlock_unlock)
WEFT_REAL(pthread_spin_lock)
WEFT_REAL(pthread_spin_trylock)
WEFT_REAL(pthread_spin_unlock)

static int acquired(int r)
{
	return r == 0 || r == EOWNERDEAD;
}

/* ---- mutexes ---- */

static struct weft_state mutex_blocked(struct weft_thread *self, void *m)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, MUTEX_BLOCK, ts, weft_obj(m), stack);
	struct weft_state prev = weft_state_enter(self, WEFT_STATE_BLOCKED_MUTEX, 0,
						  weft_obj(m), ts);
	weft_ev_end(self);
	return prev;
}

/* The outcome of an acquisition; prev is the state to go back to after a
 * blocked one (NULL when the thread did not block). */
static void mutex_result(struct weft_thread *self, void *m, int r,
			 uint64_t flags, const struct weft_state *prev)
{
	uint64_t ts = weft_now();
	if (r == EOWNERDEAD)
		flags |= WEFT_FLAG_OWNERDEAD;
	uint32_t g = weft_ev_begin(self);
	if (g) {
		if (acquired(r))
			WEFT_EMIT(self, g, MUTEX_ACQUIRE, ts, weft_obj(m),
				  weft_seq(g, m), flags);
		else
			WEFT_EMIT(self, g, MUTEX_FAIL, ts, weft_obj(m), flags,
				  weft_err(r));
	}
	if (prev)
		weft_state_leave(self, *prev);
	weft_ev_end(self);
}

/* One body for the blocking acquisitions: try first, then block.  With
 * tracing off, an acquisition that does not block costs one trylock and
 * nothing else; one that blocks still goes through the thread's record, so
 * a STATUS written meanwhile can say what it waits for.  Whether tracing is
 * off is read after the trylock: an acquisition made once a generation is
 * published is always recorded. */
#define MUTEX_LOCK_BODY(flags0, call, ...)                                    \
	int r = REAL(pthread_mutex_trylock)(m);                               \
	if (r != EBUSY && likely(weft_off()))                                 \
		return r;                                                     \
	struct weft_thread *self = weft_enter();                              \
	if (!self)                                                            \
		return r != EBUSY ? r : REAL(call)(__VA_ARGS__);              \
	uint64_t flags = (flags0);                                            \
	if (r != EBUSY) {                                                     \
		mutex_result(self, m, r, flags, NULL);                        \
		return r;                                                     \
	}                                                                     \
	struct weft_state prev = mutex_blocked(self, m);                      \
	r = REAL(call)(__VA_ARGS__);                                          \
	mutex_result(self, m, r, flags | WEFT_FLAG_CONTENDED, &prev);         \
	return r;

WEFT_VISIBLE int pthread_mutex_lock(pthread_mutex_t *m)
{
	MUTEX_LOCK_BODY(0, pthread_mutex_lock, m)
}

WEFT_VISIBLE int pthread_mutex_timedlock(pthread_mutex_t *m,
					 const struct timespec *abstime)
{
	MUTEX_LOCK_BODY(WEFT_FLAG_TIMED, pthread_mutex_timedlock, m, abstime)
}

WEFT_VISIBLE int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
					 const struct timespec *abstime)
{
	MUTEX_LOCK_BODY(WEFT_FLAG_TIMED, pthread_mutex_clocklock, m, clock, abstime)
}

WEFT_VISIBLE int pthread_mutex_trylock(pthread_mutex_t *m)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_mutex_trylock)(m);
	int r = REAL(pthread_mutex_trylock)(m);
	mutex_result(self, m, r, WEFT_FLAG_TRY, NULL);
	return r;
}

WEFT_VISIBLE int pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct weft_thread *self = weft_off() ? NULL : weft_enter();
	if (!self)
		return REAL(pthread_mutex_unlock)(m);
	uint64_t ts = weft_now();
	uint8_t *result_at = NULL;
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT_PENDING(self, g, MUTEX_UNLOCK, ts, result_at, weft_obj(m),
				  weft_seq(g, m));
	int r = REAL(pthread_mutex_unlock)(m);
	weft_settle(result_at, r);
	weft_ev_end(self);
	return r;
}

/* ---- reader-writer locks ---- */

static struct weft_state rwlock_blocked(struct weft_thread *self, void *l,
					uint64_t mode)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, RWLOCK_BLOCK, ts, weft_obj(l), mode, stack);
	struct weft_state prev = weft_state_enter(self, WEFT_STATE_BLOCKED_RWLOCK, 0,
						  weft_obj(l), ts);
	weft_ev_end(self);
	return prev;
}

static void rwlock_result(struct weft_thread *self, void *l, int r,
			  uint64_t mode, uint64_t flags,
			  const struct weft_state *prev)
{
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g) {
		if (r == 0)
			WEFT_EMIT(self, g, RWLOCK_ACQUIRE, ts, weft_obj(l),
				  weft_seq(g, l), mode, flags);
		else
			WEFT_EMIT(self, g, RWLOCK_FAIL, ts, weft_obj(l), mode,
				  flags, weft_err(r));
	}
	if (prev)
		weft_state_leave(self, *prev);
	weft_ev_end(self);
}

/* One body for the six acquiring rwlock calls: try first, then block. */
#define RWLOCK_ACQUIRE_BODY(mode, flags0, tryfn, call, ...)                   \
	struct weft_thread *self = weft_enter();                              \
	if (!self)                                                            \
		return REAL(call)(__VA_ARGS__);                               \
	uint64_t flags = (flags0);                                            \
	int r = REAL(tryfn)(l);                                               \
	if (r != EBUSY) {                                                     \
		if (!weft_off())                                              \
			rwlock_result(self, l, r, mode, flags, NULL);         \
		return r;                                                     \
	}                                                                     \
	struct weft_state prev = rwlock_blocked(self, l, mode);               \
	r = REAL(call)(__VA_ARGS__);                                          \
	rwlock_result(self, l, r, mode, flags | WEFT_FLAG_CONTENDED, &prev);  \
	return r;

WEFT_VISIBLE int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
	RWLOCK_ACQUIRE_BODY(WEFT_RW_READ, 0, pthread_rwlock_tryrdlock,
			    pthread_rwlock_rdlock, l)
}

WEFT_VISIBLE int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
	RWLOCK_ACQUIRE_BODY(WEFT_RW_WRITE, 0, pthread_rwlock_trywrlock,
			    pthread_rwlock_wrlock, l)
}

WEFT_VISIBLE int pthread_rwlock_timedrdlock(pthread_rwlock_t *l,
					    const struct timespec *t)
{
	RWLOCK_ACQUIRE_BODY(WEFT_RW_READ, WEFT_FLAG_TIMED, pthread_rwlock_tryrdlock,
			    pthread_rwlock_timedrdlock, l, t)
}

WEFT_VISIBLE int pthread_rwlock_timedwrlock(pthread_rwlock_t *l,
					    const struct timespec *t)
{
	RWLOCK_ACQUIRE_BODY(WEFT_RW_WRITE, WEFT_FLAG_TIMED, pthread_rwlock_trywrlock,
			    pthread_rwlock_timedwrlock, l, t)
}

WEFT_VISIBLE int pthread_rwlock_clockrdlock(pthread_rwlock_t *l, clockid_t c,
					    const struct timespec *t)
{
	RWLOCK_ACQUIRE_BODY(WEFT_RW_READ, WEFT_FLAG_TIMED, pthread_rwlock_tryrdlock,
			    pthread_rwlock_clockrdlock, l, c, t)
}

WEFT_VISIBLE int pthread_rwlock_clockwrlock(pthread_rwlock_t *l, clockid_t c,
					    const struct timespec *t)
{
	RWLOCK_ACQUIRE_BODY(WEFT_RW_WRITE, WEFT_FLAG_TIMED, pthread_rwlock_trywrlock,
			    pthread_rwlock_clockwrlock, l, c, t)
}

WEFT_VISIBLE int pthread_rwlock_tryrdlock(pthread_rwlock_t *l)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_rwlock_tryrdlock)(l);
	int r = REAL(pthread_rwlock_tryrdlock)(l);
	rwlock_result(self, l, r, WEFT_RW_READ, WEFT_FLAG_TRY, NULL);
	return r;
}

WEFT_VISIBLE int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_rwlock_trywrlock)(l);
	int r = REAL(pthread_rwlock_trywrlock)(l);
	rwlock_result(self, l, r, WEFT_RW_WRITE, WEFT_FLAG_TRY, NULL);
	return r;
}

WEFT_VISIBLE int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	struct weft_thread *self = weft_off() ? NULL : weft_enter();
	if (!self)
		return REAL(pthread_rwlock_unlock)(l);
	uint64_t ts = weft_now();
	uint8_t *result_at = NULL;
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT_PENDING(self, g, RWLOCK_UNLOCK, ts, result_at, weft_obj(l),
				  weft_seq(g, l));
	int r = REAL(pthread_rwlock_unlock)(l);
	weft_settle(result_at, r);
	weft_ev_end(self);
	return r;
}

/* ---- spin locks: never blocked in the kernel, so no BLOCK record ---- */

static void spin_result(struct weft_thread *self, volatile void *l, int r,
			uint64_t flags)
{
	const void *obj = (const void *)l;
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g) {
		if (r == 0)
			WEFT_EMIT(self, g, SPIN_ACQUIRE, ts, weft_obj(obj),
				  weft_seq(g, obj), flags);
		else
			WEFT_EMIT(self, g, SPIN_FAIL, ts, weft_obj(obj), flags,
				  weft_err(r));
	}
	weft_ev_end(self);
}

WEFT_VISIBLE int pthread_spin_lock(pthread_spinlock_t *l)
{
	struct weft_thread *self = weft_off() ? NULL : weft_enter();
	if (!self)
		return REAL(pthread_spin_lock)(l);
	uint64_t flags = 0;
	int r = REAL(pthread_spin_trylock)(l);
	if (r == EBUSY) {
		r = REAL(pthread_spin_lock)(l);
		flags = WEFT_FLAG_CONTENDED;
	}
	spin_result(self, l, r, flags);
	return r;
}

WEFT_VISIBLE int pthread_spin_trylock(pthread_spinlock_t *l)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_spin_trylock)(l);
	int r = REAL(pthread_spin_trylock)(l);
	spin_result(self, l, r, WEFT_FLAG_TRY);
	return r;
}

WEFT_VISIBLE int pthread_spin_unlock(pthread_spinlock_t *l)
{
	struct weft_thread *self = weft_off() ? NULL : weft_enter();
	if (!self)
		return REAL(pthread_spin_unlock)(l);
	const void *obj = (const void *)l;
	uint64_t ts = weft_now();
	uint8_t *result_at = NULL;
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT_PENDING(self, g, SPIN_UNLOCK, ts, result_at, weft_obj(obj),
				  weft_seq(g, obj));
	int r = REAL(pthread_spin_unlock)(l);
	weft_settle(result_at, r);
	weft_ev_end(self);
	return r;
}
