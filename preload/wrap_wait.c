/*
 * wrap_wait.c - condition variables, barriers and semaphores.
 *
 * A condition wait releases its mutex (COND_WAIT_BEGIN carries the mutex's
 * sequence number, taken while it is still held) and re-holds it
 * (COND_WAIT_END, sequence taken after the real call returned).  A
 * semaphore wait tries first, so an uncontended sem_wait is one record.
 * Signal, broadcast and post are releases: stamped, sequenced and written
 * before the real call, in a section that spans it.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>

#include "emit.h"
#include "real.h"

/* The current condvar ABI; dlsym alone may find the 2.2.5 compatibility
 * versions. */
WEFT_REAL_V(pthread_cond_wait, "GLIBC_2.3.2")
WEFT_REAL_V(pthread_cond_timedwait, "GLIBC_2.3.2")
WEFT_REAL_V(pthread_cond_signal, "GLIBC_2.3.2")
WEFT_REAL_V(pthread_cond_broadcast, "GLIBC_2.3.2")
WEFT_REAL(pthread_cond_clockwait)
WEFT_REAL(pthread_barrier_wait)
WEFT_REAL(pthread_barrier_init)
WEFT_REAL(sem_init)
WEFT_REAL(sem_wait)
WEFT_REAL(sem_trywait)
WEFT_REAL(sem_timedwait)
WEFT_REAL(sem_clockwait)
WEFT_REAL(sem_post)

/* ---- condition variables ---- */

static struct weft_state cond_begin(struct weft_thread *self, void *c, void *m)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, COND_WAIT_BEGIN, ts, weft_obj(c), weft_obj(m),
			  weft_seq(g, m), stack);
	struct weft_state prev = weft_state_enter(self, WEFT_STATE_BLOCKED_COND, 0,
						  weft_obj(c), ts);
	weft_ev_end(self);
	return prev;
}

static void cond_end(struct weft_thread *self, void *c, void *m, int r,
		     struct weft_state prev)
{
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	/* The mutex is held again after a wake-up or a timeout, and when the
	 * thread is cancelled in the wait (ECANCELED, which the real call
	 * never returns: see cond_wait_cancelled()). */
	if (g) {
		int reheld = r == 0 || r == ETIMEDOUT || r == EOWNERDEAD ||
			     r == ECANCELED;
		WEFT_EMIT(self, g, COND_WAIT_END, ts, weft_obj(c), weft_obj(m),
			  reheld ? weft_seq(g, m) : 0, weft_err(r));
	}
	weft_state_leave(self, prev);
	weft_ev_end(self);
}

/* A wait in progress, for the case where the thread is cancelled in it:
 * the wait re-holds the mutex before the thread's cleanup handlers run,
 * so the end of the wait is recorded by a cleanup handler of the
 * wrapper's own, which runs before the program's. */
struct cond_wait {
	struct weft_thread *self;
	void *c, *m;
	struct weft_state prev;
};

static void cond_wait_cancelled(void *arg)
{
	struct cond_wait *w = arg;
	cond_end(w->self, w->c, w->m, ECANCELED, w->prev);
}

#define COND_WAIT_BODY(call, ...)                                            \
	struct weft_thread *self = weft_enter();                             \
	if (!self)                                                           \
		return REAL(call)(__VA_ARGS__);                              \
	struct cond_wait w = { self, c, m, cond_begin(self, c, m) };         \
	int r;                                                               \
	pthread_cleanup_push(cond_wait_cancelled, &w);                       \
	r = REAL(call)(__VA_ARGS__);                                         \
	pthread_cleanup_pop(0);                                              \
	cond_end(w.self, w.c, w.m, r, w.prev);                               \
	return r;

WEFT_VISIBLE int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
	COND_WAIT_BODY(pthread_cond_wait, c, m)
}

WEFT_VISIBLE int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
					const struct timespec *abstime)
{
	COND_WAIT_BODY(pthread_cond_timedwait, c, m, abstime)
}

WEFT_VISIBLE int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m,
					clockid_t clock,
					const struct timespec *abstime)
{
	COND_WAIT_BODY(pthread_cond_clockwait, c, m, clock, abstime)
}

WEFT_VISIBLE int pthread_cond_signal(pthread_cond_t *c)
{
	struct weft_thread *self = weft_off() ? NULL : weft_enter();
	if (!self)
		return REAL(pthread_cond_signal)(c);
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, COND_SIGNAL, ts, weft_obj(c), weft_seq(g, c));
	int r = REAL(pthread_cond_signal)(c);
	weft_ev_end(self);
	return r;
}

WEFT_VISIBLE int pthread_cond_broadcast(pthread_cond_t *c)
{
	struct weft_thread *self = weft_off() ? NULL : weft_enter();
	if (!self)
		return REAL(pthread_cond_broadcast)(c);
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, COND_BROADCAST, ts, weft_obj(c), weft_seq(g, c));
	int r = REAL(pthread_cond_broadcast)(c);
	weft_ev_end(self);
	return r;
}

/* ---- barriers ---- */

WEFT_VISIBLE int pthread_barrier_wait(pthread_barrier_t *b)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_barrier_wait)(b);
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, BARRIER_BEGIN, ts, weft_obj(b), weft_seq(g, b), stack);
	struct weft_state prev = weft_state_enter(self, WEFT_STATE_BLOCKED_BARRIER, 0,
						  weft_obj(b), ts);
	weft_ev_end(self);

	int r = REAL(pthread_barrier_wait)(b);

	ts = weft_now();
	g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, BARRIER_END, ts, weft_obj(b),
			  r == PTHREAD_BARRIER_SERIAL_THREAD);
	weft_state_leave(self, prev);
	weft_ev_end(self);
	return r;
}

WEFT_VISIBLE int pthread_barrier_init(pthread_barrier_t *b,
				      const pthread_barrierattr_t *attr,
				      unsigned count)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_barrier_init)(b, attr, count);
	uint64_t ts = weft_now();
	int r = REAL(pthread_barrier_init)(b, attr, count);
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, BARRIER_INIT, ts, weft_obj(b), count, weft_err(r));
	weft_ev_end(self);
	return r;
}

/* ---- semaphores ---- */

/* The initial value lets the reader check that no wait succeeds without a
 * post to match it. */
WEFT_VISIBLE int sem_init(sem_t *s, int pshared, unsigned value)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(sem_init)(s, pshared, value);
	uint64_t ts = weft_now();
	int r = REAL(sem_init)(s, pshared, value);
	int e = errno;
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, SEM_INIT, ts, weft_obj(s), value, r == 0 ? 0 : (uint64_t)e);
	weft_ev_end(self);
	errno = e;
	return r;
}

static struct weft_state sem_begin(struct weft_thread *self, sem_t *s)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, SEM_WAIT_BEGIN, ts, weft_obj(s), stack);
	struct weft_state prev = weft_state_enter(self, WEFT_STATE_BLOCKED_SEM, 0,
						  weft_obj(s), ts);
	weft_ev_end(self);
	return prev;
}

/* r and e are the real call's return value and errno; prev is the state to
 * go back to after a blocked wait (NULL when it did not block). */
static void sem_end(struct weft_thread *self, sem_t *s, int r, int e,
		    uint64_t flags, const struct weft_state *prev)
{
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, SEM_WAIT_END, ts, weft_obj(s),
			  r == 0 ? weft_seq(g, s) : 0, flags, r == 0 ? 0 : (uint64_t)e);
	if (prev)
		weft_state_leave(self, *prev);
	weft_ev_end(self);
	errno = e;
}

/* One body for the three blocking waits: try first, then block. */
#define SEM_WAIT_BODY(flags0, call, ...)                                     \
	struct weft_thread *self = weft_enter();                             \
	if (!self)                                                           \
		return REAL(call)(__VA_ARGS__);                              \
	int saved = errno;                                                   \
	int r = REAL(sem_trywait)(s);                                        \
	if (r == 0 || errno != EAGAIN) {                                     \
		int e = r == 0 ? saved : errno;                              \
		sem_end(self, s, r, e, (flags0), NULL);                      \
		return r;                                                    \
	}                                                                    \
	errno = saved;                                                       \
	struct weft_state prev = sem_begin(self, s);                         \
	r = REAL(call)(__VA_ARGS__);                                         \
	sem_end(self, s, r, errno, (flags0) | WEFT_FLAG_CONTENDED, &prev);   \
	return r;

WEFT_VISIBLE int sem_wait(sem_t *s)
{
	SEM_WAIT_BODY(0, sem_wait, s)
}

WEFT_VISIBLE int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
	SEM_WAIT_BODY(WEFT_FLAG_TIMED, sem_timedwait, s, abstime)
}

WEFT_VISIBLE int sem_clockwait(sem_t *s, clockid_t clock,
			       const struct timespec *abstime)
{
	SEM_WAIT_BODY(WEFT_FLAG_TIMED, sem_clockwait, s, clock, abstime)
}

WEFT_VISIBLE int sem_trywait(sem_t *s)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(sem_trywait)(s);
	int r = REAL(sem_trywait)(s);
	sem_end(self, s, r, errno, WEFT_FLAG_TRY, NULL);
	return r;
}

WEFT_VISIBLE int sem_post(sem_t *s)
{
	struct weft_thread *self = weft_off() ? NULL : weft_enter();
	if (!self)
		return REAL(sem_post)(s);
	uint64_t ts = weft_now();
	uint8_t *result_at = NULL;
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT_PENDING(self, g, SEM_POST, ts, result_at, weft_obj(s),
				  weft_seq(g, s));
	int r = REAL(sem_post)(s);
	int e = errno;
	weft_settle(result_at, r == 0 ? 0 : e);
	weft_ev_end(self);
	errno = e;
	return r;
}
