/*
 * wrap_lock.c - mutexes, reader-writer locks and spin locks.
 *
 * A blocking acquisition tries the lock first: when that succeeds the
 * thread records one ACQUIRE; only when it is busy does it record BLOCK,
 * call the blocking function and then ACQUIRE with the contended flag (or
 * FAIL).  The object's sequence number is taken while the lock is held:
 * after acquiring, before releasing.  Return values and errno pass through
 * unchanged; EOWNERDEAD counts as acquired.
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

static void mutex_blocked(struct weft_thread *self, void *m)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, MUTEX_BLOCK, ts, weft_obj(m), stack);
	weft_set_state(self, WEFT_STATE_BLOCKED_MUTEX, 0, weft_obj(m), ts);
	weft_ev_end(self);
}

static void mutex_result(struct weft_thread *self, void *m, int r,
			 uint64_t flags)
{
	uint64_t ts = weft_now();
	if (r == EOWNERDEAD)
		flags |= WEFT_FLAG_OWNERDEAD;
	uint64_t seq = acquired(r) ? weft_objseq_next(m) : 0;
	uint32_t g = weft_ev_begin(self);
	if (g) {
		if (acquired(r))
			WEFT_EMIT(self, g, MUTEX_ACQUIRE, ts, weft_obj(m), seq, flags);
		else
			WEFT_EMIT(self, g, MUTEX_FAIL, ts, weft_obj(m), flags,
				  weft_err(r));
	}
	if (flags & WEFT_FLAG_CONTENDED)
		weft_set_state(self, WEFT_STATE_RUNNING, 0, 0, ts);
	weft_ev_end(self);
}

WEFT_VISIBLE int pthread_mutex_lock(pthread_mutex_t *m)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_mutex_lock)(m);
	uint64_t flags = 0;
	int r = REAL(pthread_mutex_trylock)(m);
	if (r == EBUSY) {
		mutex_blocked(self, m);
		r = REAL(pthread_mutex_lock)(m);
		flags = WEFT_FLAG_CONTENDED;
	}
	mutex_result(self, m, r, flags);
	return r;
}

WEFT_VISIBLE int pthread_mutex_trylock(pthread_mutex_t *m)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_mutex_trylock)(m);
	int r = REAL(pthread_mutex_trylock)(m);
	mutex_result(self, m, r, WEFT_FLAG_TRY);
	return r;
}

WEFT_VISIBLE int pthread_mutex_timedlock(pthread_mutex_t *m,
					 const struct timespec *abstime)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_mutex_timedlock)(m, abstime);
	uint64_t flags = WEFT_FLAG_TIMED;
	int r = REAL(pthread_mutex_trylock)(m);
	if (r == EBUSY) {
		mutex_blocked(self, m);
		r = REAL(pthread_mutex_timedlock)(m, abstime);
		flags |= WEFT_FLAG_CONTENDED;
	}
	mutex_result(self, m, r, flags);
	return r;
}

WEFT_VISIBLE int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock,
					 const struct timespec *abstime)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_mutex_clocklock)(m, clock, abstime);
	uint64_t flags = WEFT_FLAG_TIMED;
	int r = REAL(pthread_mutex_trylock)(m);
	if (r == EBUSY) {
		mutex_blocked(self, m);
		r = REAL(pthread_mutex_clocklock)(m, clock, abstime);
		flags |= WEFT_FLAG_CONTENDED;
	}
	mutex_result(self, m, r, flags);
	return r;
}

WEFT_VISIBLE int pthread_mutex_unlock(pthread_mutex_t *m)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_mutex_unlock)(m);
	uint64_t ts = weft_now();
	uint64_t seq = weft_objseq_next(m);
	int r = REAL(pthread_mutex_unlock)(m);
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, MUTEX_UNLOCK, ts, weft_obj(m), seq, weft_err(r));
	weft_ev_end(self);
	return r;
}

/* ---- reader-writer locks ---- */

static void rwlock_blocked(struct weft_thread *self, void *l, uint64_t mode)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, RWLOCK_BLOCK, ts, weft_obj(l), mode, stack);
	weft_set_state(self, WEFT_STATE_BLOCKED_RWLOCK, 0, weft_obj(l), ts);
	weft_ev_end(self);
}

static void rwlock_result(struct weft_thread *self, void *l, int r,
			  uint64_t mode, uint64_t flags)
{
	uint64_t ts = weft_now();
	uint64_t seq = r == 0 ? weft_objseq_next(l) : 0;
	uint32_t g = weft_ev_begin(self);
	if (g) {
		if (r == 0)
			WEFT_EMIT(self, g, RWLOCK_ACQUIRE, ts, weft_obj(l), seq,
				  mode, flags);
		else
			WEFT_EMIT(self, g, RWLOCK_FAIL, ts, weft_obj(l), mode,
				  flags, weft_err(r));
	}
	if (flags & WEFT_FLAG_CONTENDED)
		weft_set_state(self, WEFT_STATE_RUNNING, 0, 0, ts);
	weft_ev_end(self);
}

/* One body for the six acquiring rwlock calls: try first, then block. */
#define RWLOCK_ACQUIRE_BODY(mode, flags0, tryfn, call, ...)                   \
	struct weft_thread *self = weft_enter();                              \
	if (!self)                                                            \
		return REAL(call)(__VA_ARGS__);                               \
	uint64_t flags = (flags0);                                            \
	int r = REAL(tryfn)(l);                                               \
	if (r == EBUSY) {                                                     \
		rwlock_blocked(self, l, mode);                                \
		r = REAL(call)(__VA_ARGS__);                                  \
		flags |= WEFT_FLAG_CONTENDED;                                 \
	}                                                                     \
	rwlock_result(self, l, r, mode, flags);                               \
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
	rwlock_result(self, l, r, WEFT_RW_READ, WEFT_FLAG_TRY);
	return r;
}

WEFT_VISIBLE int pthread_rwlock_trywrlock(pthread_rwlock_t *l)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_rwlock_trywrlock)(l);
	int r = REAL(pthread_rwlock_trywrlock)(l);
	rwlock_result(self, l, r, WEFT_RW_WRITE, WEFT_FLAG_TRY);
	return r;
}

WEFT_VISIBLE int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_rwlock_unlock)(l);
	uint64_t ts = weft_now();
	uint64_t seq = weft_objseq_next(l);
	int r = REAL(pthread_rwlock_unlock)(l);
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, RWLOCK_UNLOCK, ts, weft_obj(l), seq, weft_err(r));
	weft_ev_end(self);
	return r;
}

/* ---- spin locks: never blocked in the kernel, so no BLOCK record ---- */

static void spin_result(struct weft_thread *self, volatile void *l, int r,
			uint64_t flags)
{
	uint64_t ts = weft_now();
	uint64_t seq = r == 0 ? weft_objseq_next((const void *)l) : 0;
	uint32_t g = weft_ev_begin(self);
	if (g) {
		if (r == 0)
			WEFT_EMIT(self, g, SPIN_ACQUIRE, ts, weft_obj((const void *)l),
				  seq, flags);
		else
			WEFT_EMIT(self, g, SPIN_FAIL, ts, weft_obj((const void *)l),
				  flags, weft_err(r));
	}
	weft_ev_end(self);
}

WEFT_VISIBLE int pthread_spin_lock(pthread_spinlock_t *l)
{
	struct weft_thread *self = weft_enter();
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
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_spin_unlock)(l);
	uint64_t ts = weft_now();
	uint64_t seq = weft_objseq_next((const void *)l);
	int r = REAL(pthread_spin_unlock)(l);
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, SPIN_UNLOCK, ts, weft_obj((const void *)l), seq,
			  weft_err(r));
	weft_ev_end(self);
	return r;
}
