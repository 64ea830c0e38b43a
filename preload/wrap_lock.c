/*
 * wrap_lock.c - mutexes, reader-writer locks and spin locks.
 *
 * Acquisitions and releases follow the shapes of protocol.h: try first,
 * and only when the object is busy record BLOCK, call the blocking function
 * and then ACQUIRE with the contended flag (or FAIL); a release is written
 * in a section that spans the real unlock.  Return values and errno pass
 * through unchanged; EOWNERDEAD counts as acquired.
 *
 * In contention mode (lockcount.h) an acquisition that did not block is
 * only counted, a release is not recorded, and no lock event is numbered
 * (not every event of the lock is in the trace).
 */
#include <errno.h>
#include <pthread.h>

#include "protocol.h"
#include "real.h"

WEFT_REAL(pthread_mutex_unlock)
WEFT_REAL(pthread_rwlock_unlock)
WEFT_REAL(pthread_spin_lock)
WEFT_REAL(pthread_spin_trylock)
WEFT_REAL(pthread_spin_unlock)

static int acquired(int r)
{
	return r == 0 || r == EOWNERDEAD;
}

/* The try of every lock kind: EBUSY when it is held. */
static int lock_busy(int r, int err)
{
	(void)err;
	return r == EBUSY;
}

/* Records that the thread blocks on obj: the BLOCK event (its arguments
 * after the object, then the stack) and the blocked state. */
#define LOCK_BLOCKED(BLOCK, state, self, obj, ...)                            \
	uint64_t stack = weft_stack();                                        \
	uint64_t ts = weft_now();                                             \
	uint32_t g = weft_ev_begin(self);                                     \
	if (g)                                                                \
		WEFT_EMIT(self, g, BLOCK, ts, weft_obj(obj), __VA_ARGS__);    \
	struct weft_state prev = weft_state_enter(self, state, 0,             \
						  weft_obj(obj), ts);         \
	weft_ev_end(self);                                                    \
	return prev;

/* Records the outcome of an acquisition of obj: ACQUIRE (the object, its
 * number, the kind's arguments, flags) and, with stacks on, its site
 * (caller: the wrapper's return address) when ok, else FAIL (the object,
 * the kind's arguments, flags, the error r).  hold: WEFT_HOLD_TAKEN when
 * an acquisition holds the object exclusively. */
#define LOCK_RESULT(ACQUIRE, FAIL, self, obj, ok, hold, r, flags, prev,      \
		    caller, ...)                                              \
	uint64_t ts = weft_now(), seq;                                        \
	uint64_t site = (ok) ? weft_site(caller) : 0;                         \
	uint32_t g = weft_outcome_open(self, obj, (ok) && !weft_light(), hold, \
				       &seq);                                 \
	if (g && (ok) && unlikely(site))                                      \
		WEFT_EMIT_SITED(self, g, ACQUIRE, ts, site, weft_obj(obj), seq, \
				##__VA_ARGS__, flags);                        \
	else if (g && (ok))                                                   \
		WEFT_EMIT(self, g, ACQUIRE, ts, weft_obj(obj), seq,           \
			  ##__VA_ARGS__, flags);                              \
	else if (g)                                                           \
		WEFT_EMIT(self, g, FAIL, ts, weft_obj(obj), ##__VA_ARGS__,    \
			  flags, weft_err(r));                                \
	weft_outcome_close(self, prev);

/* The unlock function name of a lock of type, recorded as NAME on obj
 * (an expression of its argument l).  In contention mode, and with
 * tracing off, it is the real call alone; the recording is a function of
 * its own, so that the real call alone pays for none of its frame. */
#define LOCK_RELEASE(name, type, NAME, l, obj)                                \
	static __attribute__((noinline)) int name##_recorded(type *l)         \
	{                                                                     \
		WEFT_RELEASE(NAME, obj, WEFT_HOLD_RELEASED, weft_returned,    \
			     REAL(name)(l))                                   \
	}                                                                     \
	WEFT_VISIBLE int name(type *l)                                        \
	{                                                                     \
		if (weft_light() || likely(weft_off()))                       \
			return REAL(name)(l);                                 \
		return name##_recorded(l);                                    \
	}

/* ---- mutexes ---- */

#define mutex_busy lock_busy
#define mutex_counted(arg) WEFT_COUNT_MUTEX

static struct weft_state mutex_blocked(struct weft_thread *self, void *m,
				       int unused)
{
	(void)unused;
	LOCK_BLOCKED(MUTEX_BLOCK, WEFT_STATE_BLOCKED_MUTEX, self, m, stack)
}

static void mutex_result(struct weft_thread *self, void *m, int unused, int r,
			 int err, uint64_t flags, const struct weft_state *prev,
			 const void *caller)
{
	(void)unused, (void)err;
	if (r == EOWNERDEAD)
		flags |= WEFT_FLAG_OWNERDEAD;
	LOCK_RESULT(MUTEX_ACQUIRE, MUTEX_FAIL, self, m, acquired(r),
		    WEFT_HOLD_TAKEN, r, flags, prev, caller)
}

WEFT_ACQUIRERS(mutex, pthread_mutex_t, 0, pthread_mutex_lock,
	       pthread_mutex_timedlock, pthread_mutex_clocklock,
	       pthread_mutex_trylock)

LOCK_RELEASE(pthread_mutex_unlock, pthread_mutex_t, MUTEX_UNLOCK, m, m)

/* ---- reader-writer locks: arg is the mode ---- */

#define rwlock_busy lock_busy
#define rwlock_counted(mode)                                                  \
	((mode) == WEFT_RW_WRITE ? WEFT_COUNT_RW_WRITE : WEFT_COUNT_RW_READ)

static struct weft_state rwlock_blocked(struct weft_thread *self, void *l,
					int mode)
{
	LOCK_BLOCKED(RWLOCK_BLOCK, WEFT_STATE_BLOCKED_RWLOCK, self, l,
		     (uint64_t)mode, stack)
}

static void rwlock_result(struct weft_thread *self, void *l, int mode, int r,
			  int err, uint64_t flags, const struct weft_state *prev,
			  const void *caller)
{
	(void)err;
	enum weft_hold hold = mode == WEFT_RW_WRITE ? WEFT_HOLD_TAKEN
						    : WEFT_HOLD_NONE;
	LOCK_RESULT(RWLOCK_ACQUIRE, RWLOCK_FAIL, self, l, r == 0, hold, r, flags,
		    prev, caller, (uint64_t)mode)
}

WEFT_ACQUIRERS(rwlock, pthread_rwlock_t, WEFT_RW_READ, pthread_rwlock_rdlock,
	       pthread_rwlock_timedrdlock, pthread_rwlock_clockrdlock,
	       pthread_rwlock_tryrdlock)

WEFT_ACQUIRERS(rwlock, pthread_rwlock_t, WEFT_RW_WRITE, pthread_rwlock_wrlock,
	       pthread_rwlock_timedwrlock, pthread_rwlock_clockwrlock,
	       pthread_rwlock_trywrlock)

LOCK_RELEASE(pthread_rwlock_unlock, pthread_rwlock_t, RWLOCK_UNLOCK, l, l)

/* ---- spin locks: they never block in the kernel, so no BLOCK record
 * and no blocked state; CONTENDED means the thread had to spin ---- */

#define spin_busy lock_busy
#define spin_counted(arg) WEFT_COUNT_SPIN

static struct weft_state spin_blocked(struct weft_thread *self,
				      volatile void *l, int unused)
{
	(void)l, (void)unused;
	return weft_state_top(self);
}

static void spin_result(struct weft_thread *self, volatile void *l, int unused,
			int r, int err, uint64_t flags,
			const struct weft_state *prev, const void *caller)
{
	(void)unused, (void)err;
	const void *obj = (const void *)l;
	LOCK_RESULT(SPIN_ACQUIRE, SPIN_FAIL, self, obj, r == 0, WEFT_HOLD_TAKEN,
		    r, flags, prev, caller)
}

WEFT_VISIBLE int pthread_spin_lock(pthread_spinlock_t *l)
{
	WEFT_ACQUIRE(spin, l, 0, 0, REAL(pthread_spin_trylock)(l),
		     REAL(pthread_spin_lock)(l))
}

WEFT_VISIBLE int pthread_spin_trylock(pthread_spinlock_t *l)
{
	WEFT_TRY(spin, l, 0, REAL(pthread_spin_trylock)(l))
}

LOCK_RELEASE(pthread_spin_unlock, pthread_spinlock_t, SPIN_UNLOCK, l,
	     (const void *)l)
