/*
 * wrap_wait.c - condition variables, barriers, semaphores and once
 * controls.
 *
 * A condition wait releases its mutex (COND_WAIT_BEGIN carries the mutex's
 * sequence number, taken while it is still held) and re-holds it
 * (COND_WAIT_END, sequence taken after the real call returned).  A
 * semaphore wait tries first, so an uncontended sem_wait is one record
 * (the acquisition protocol of protocol.h).  Signal, broadcast and post
 * are releases: stamped, sequenced and written before the real call, in a
 * section that spans it.  sem_open records nothing but marks its semaphore
 * as shared between processes (shared.c).  A pthread_once call that finds
 * its init routine done costs one load and records nothing; one that does
 * not is a wait (ONCE_BEGIN), which for the thread that runs the routine
 * ends as the routine starts, and for the others when the call returns.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>

#include "protocol.h"
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
WEFT_REAL(sem_post)
WEFT_REAL(sem_open)
WEFT_REAL(pthread_once)

/* ---- condition variables ---- */

static struct weft_state cond_begin(struct weft_thread *self, void *c, void *m)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	/* (In contention mode the mutex's events are not all recorded:
	 * none of them is numbered.) */
	uint64_t seq = weft_light() ? 0 : weft_seq_take(self, &g, m, WEFT_HOLD_RELEASED);
	if (g)
		WEFT_EMIT(self, g, COND_WAIT_BEGIN, ts, weft_obj(c), weft_obj(m),
			  seq, stack);
	struct weft_state prev = weft_state_enter(self, WEFT_STATE_BLOCKED_COND, 0,
						  weft_obj(c), ts);
	weft_ev_end(self);
	return prev;
}

static void cond_end(struct weft_thread *self, void *c, void *m, int r,
		     struct weft_state prev)
{
	uint64_t ts = weft_now(), seq;
	/* The end takes a number whatever the result: after a wake-up, a
	 * timeout or a cancellation (ECANCELED, which the real call never
	 * returns: see cond_wait_cancelled()) the mutex is held again; a
	 * wait that failed before releasing it (EINVAL, EPERM) is numbered
	 * right after its begin, while the thread still holds it, so the
	 * reader can give it back (format/SPEC.md, section 7.4). */
	int reheld = r == 0 || r == ETIMEDOUT || r == ECANCELED || r == EOWNERDEAD;
	uint32_t g = weft_outcome_open(self, m, !weft_light(),
				       reheld ? WEFT_HOLD_TAKEN : WEFT_HOLD_NONE, &seq);
	if (g)
		WEFT_EMIT(self, g, COND_WAIT_END, ts, weft_obj(c), weft_obj(m), seq,
			  weft_err(r));
	weft_outcome_close(self, &prev);
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

/* Signal and broadcast are releases without a result argument. */
WEFT_VISIBLE int pthread_cond_signal(pthread_cond_t *c)
{
	WEFT_RELEASE_UNSETTLED(COND_SIGNAL, c, REAL(pthread_cond_signal)(c))
}

WEFT_VISIBLE int pthread_cond_broadcast(pthread_cond_t *c)
{
	WEFT_RELEASE_UNSETTLED(COND_BROADCAST, c, REAL(pthread_cond_broadcast)(c))
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
	uint64_t seq = weft_seq_take(self, &g, b, WEFT_HOLD_NONE);
	if (g)
		WEFT_EMIT(self, g, BARRIER_BEGIN, ts, weft_obj(b), seq, stack);
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

/* A process-shared barrier is marked as such (shared.c), whether tracing
 * is on or not. */
static int barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *attr,
			unsigned count)
{
	int pshared = PTHREAD_PROCESS_PRIVATE;
	if (attr)
		pthread_barrierattr_getpshared(attr, &pshared);
	return weft_shared_note(b, pshared == PTHREAD_PROCESS_SHARED,
				REAL(pthread_barrier_init)(b, attr, count));
}

WEFT_VISIBLE int pthread_barrier_init(pthread_barrier_t *b,
				      const pthread_barrierattr_t *attr,
				      unsigned count)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return barrier_init(b, attr, count);
	uint64_t ts = weft_now();
	int r = barrier_init(b, attr, count);
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, BARRIER_INIT, ts, weft_obj(b), count, weft_err(r));
	weft_ev_end(self);
	return r;
}

/* ---- semaphores ---- */

/* The initial value lets the reader check that no wait succeeds without a
 * post to match it (in this process: a semaphore initialised with a
 * non-zero pshared is marked as shared, shared.c, whether tracing is on
 * or not). */
WEFT_VISIBLE int sem_init(sem_t *s, int pshared, unsigned value)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return weft_shared_note(s, pshared, REAL(sem_init)(s, pshared, value));
	uint64_t ts = weft_now();
	int r = weft_shared_note(s, pshared, REAL(sem_init)(s, pshared, value));
	int e = errno;
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, SEM_INIT, ts, weft_obj(s), value, r == 0 ? 0 : (uint64_t)e);
	weft_ev_end(self);
	errno = e;
	return r;
}

/* Semaphores have no holder: every acquisition is recorded. */
#define sem_counted(arg) 0

static int sem_busy(int r, int err)
{
	return r != 0 && err == EAGAIN;
}

static struct weft_state sem_blocked(struct weft_thread *self, sem_t *s,
				     int unused)
{
	(void)unused;
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

/* r and err are the real call's return value and errno.  (A semaphore
 * is not held: its waits have no site.) */
static void sem_result(struct weft_thread *self, sem_t *s, int unused, int r,
		       int err, uint64_t flags, const struct weft_state *prev,
		       const void *caller)
{
	(void)unused, (void)caller;
	uint64_t ts = weft_now(), seq;
	uint32_t g = weft_outcome_open(self, s, r == 0, WEFT_HOLD_NONE, &seq);
	if (g)
		WEFT_EMIT(self, g, SEM_WAIT_END, ts, weft_obj(s), seq, flags,
			  r == 0 ? 0 : (uint64_t)err);
	weft_outcome_close(self, prev);
	errno = err;
}

WEFT_ACQUIRERS(sem, sem_t, 0, sem_wait, sem_timedwait, sem_clockwait,
	       sem_trywait)

WEFT_VISIBLE int sem_post(sem_t *s)
{
	WEFT_RELEASE(SEM_POST, s, WEFT_HOLD_NONE, weft_errno_result, REAL(sem_post)(s))
}

/* Every semaphore sem_open gives is shared with whatever other process
 * opens its name; it is marked as such (shared.c).  The mode and value
 * arguments are there only with O_CREAT. */
WEFT_VISIBLE sem_t *sem_open(const char *name, int oflag, ...)
{
	mode_t mode = 0;
	unsigned value = 0;
	if (oflag & O_CREAT) {
		va_list ap;
		va_start(ap, oflag);
		mode = va_arg(ap, mode_t);
		value = va_arg(ap, unsigned);
		va_end(ap);
	}
	sem_t *s = REAL(sem_open)(name, oflag, mode, value);
	int saved = errno;
	if (s != SEM_FAILED)
		weft_shared_note(s, 1, 0);
	errno = saved;
	return s;
}

/* ---- once controls ---- */

/* glibc's once control has this bit set once the init routine has run. */
#define ONCE_DONE 2

/* A pthread_once call waiting on this thread, for the init routine the
 * real call may run here (the calls nest when an init routine calls
 * pthread_once). */
struct once_call {
	pthread_once_t *once;
	void (*init)(void);
	struct weft_thread *self;
	struct weft_state prev;
	int ran;
	struct once_call *outer;
};

static __thread struct once_call *once_current;

static void once_end(struct once_call *c, int r)
{
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(c->self);
	if (g)
		WEFT_EMIT(c->self, g, ONCE_END, ts, weft_obj(c->once), (uint64_t)r,
			  (uint64_t)c->ran);
	weft_state_leave(c->self, c->prev);
	weft_ev_end(c->self);
}

/* The init routine as the real call runs it: this thread's wait ends,
 * and the routine runs in the state the thread was in before. */
static void once_run_init(void)
{
	struct once_call *c = once_current;
	c->ran = 1;
	once_end(c, 0);
	c->init();
}

WEFT_VISIBLE int pthread_once(pthread_once_t *once, void (*init)(void))
{
	if (likely(__atomic_load_n(once, __ATOMIC_ACQUIRE) & ONCE_DONE))
		return 0;
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_once)(once, init);
	struct once_call c = { .once = once, .init = init, .self = self,
			       .outer = once_current };
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, ONCE_BEGIN, ts, weft_obj(once), stack);
	c.prev = weft_state_enter(self, WEFT_STATE_BLOCKED_ONCE, 0, weft_obj(once), ts);
	weft_ev_end(self);
	once_current = &c;
	int r = REAL(pthread_once)(once, once_run_init);
	int e = errno;
	once_current = c.outer;
	if (!c.ran)
		once_end(&c, r);
	errno = e;
	return r;
}
