/*
 * wrap_thread.c - thread life cycle: create (through a trampoline that gives
 * the new thread its serial), start, exit, join, detach and naming.
 *
 * Creation is a release (stamped before the real call), start and join end
 * are acquisitions (stamped after).  A thread's exit is recorded by a
 * cancellation cleanup handler in the trampoline, so returning from the
 * start routine, pthread_exit and cancellation all end the same way.
 *
 * A thread's destructors run after its start routine: first those of its
 * thread_local objects, then those of its pthread keys.  Their calls are
 * traced too, so THREAD_EXIT waits for them: it is written by the
 * destructor of a pthread key of weft's own, which keeps itself for the
 * last rounds (see below).
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <string.h>

#include "emit.h"
#include "enter.h"
#include "real.h"

WEFT_REAL(pthread_create)
WEFT_REAL(pthread_exit)
WEFT_REAL(pthread_join)
WEFT_REAL(pthread_tryjoin_np)
WEFT_REAL(pthread_timedjoin_np)
WEFT_REAL(pthread_detach)
WEFT_REAL(pthread_setname_np)

/* ---- the thread's end ---- */

/*
 * A thread's THREAD_EXIT is written as late as weft can manage, so that
 * the locks its destructors take are still traced: from the destructor of
 * a pthread key of weft's own.  libc runs a thread's thread_local
 * destructors first, then its keys' destructors in up to
 * PTHREAD_DESTRUCTOR_ITERATIONS rounds while destructors set values again;
 * weft's destructor sets its value again until the next-to-last round, so
 * it runs after the program's destructors of the earlier rounds, and one
 * round before a sanitizer runtime's own end-of-thread destructor (which
 * uses the last round).  A thread for which the key cannot be set ends in
 * its start routine's cleanup instead.
 */
static pthread_key_t end_key;
static int end_key_ready;
static pthread_once_t end_key_once = PTHREAD_ONCE_INIT;
static __thread int ends_by_key;

static void end_key_destructor(void *value)
{
	uintptr_t round = (uintptr_t)value;
	struct weft_thread *t = weft_self_tls;
	if (round < PTHREAD_DESTRUCTOR_ITERATIONS - 1) {
		weft_busy++;
		int again = pthread_setspecific(end_key, (void *)(round + 1)) == 0;
		weft_busy--;
		if (again)
			return;
	}
	if (t)
		weft_thread_finish(t);
}

static void make_end_key(void)
{
	end_key_ready = pthread_key_create(&end_key, end_key_destructor) == 0;
}

/* The start routine returned, or the thread is unwinding (pthread_exit,
 * cancellation). */
static void thread_cleanup(void *arg)
{
	struct weft_thread *t = arg;
	if (weft_self_tls != t)
		return;
	weft_thread_unwound(t);
	if (!ends_by_key)
		weft_thread_finish(t);
}

/* ---- creation ---- */

/*
 * The new thread's record comes first: until it is registered, any call
 * that reaches a wrapper (an allocator's lock, taken inside a libc call)
 * would register the thread a second time.  The thread began with every
 * signal blocked, so no handler can run before that either.  What weft
 * then calls for itself (libc may allocate for a key) is not the
 * program's and is not traced.
 */
static void *trampoline(void *p)
{
	struct weft_thread *t = p;
	weft_thread_start_created(t);
	weft_busy++;
	pthread_once(&end_key_once, make_end_key);
	ends_by_key = end_key_ready && pthread_setspecific(end_key, (void *)1) == 0;
	weft_busy--;
	pthread_sigmask(SIG_SETMASK, &t->start_mask, NULL);
	void *ret;
	pthread_cleanup_push(thread_cleanup, t);
	ret = t->start_routine(t->start_arg);
	pthread_cleanup_pop(1);
	return ret;
}

WEFT_VISIBLE int pthread_create(pthread_t *thread, const pthread_attr_t *attr,
				void *(*start)(void *), void *arg)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_create)(thread, attr, start, arg);
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	struct weft_thread *child = weft_thread_new(self->serial);
	if (!child)
		return REAL(pthread_create)(thread, attr, start, arg);
	int detached = 0;
	if (attr)
		pthread_attr_getdetachstate(attr, &detached);
	if (detached == PTHREAD_CREATE_DETACHED)
		atomic_store(&child->joined, 1);
	child->start_routine = start;
	child->start_arg = arg;
	/* The section spans the real call: the child's THREAD_START can
	 * never land in a generation before its THREAD_CREATE. */
	sigset_t all, old_mask;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old_mask);
	child->start_mask = old_mask;
	uint8_t *result_at = NULL;
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT_PENDING(self, g, THREAD_CREATE, ts, result_at,
				  child->serial, stack);
	/* The child names its parent only when the trace holds the
	 * creation: one made while tracing was off is not there to wait for. */
	child->parent = g ? self->serial : 0;
	int r = REAL(pthread_create)(thread, attr, trampoline, child);
	int e = errno;
	weft_settle(result_at, r);
	weft_ev_end(self);
	pthread_sigmask(SIG_SETMASK, &old_mask, NULL);
	if (r != 0) {
		atomic_store(&child->exited, 1);
		atomic_store(&child->joined, 1);
	} else {
		/* For join lookups made before the child ran. */
		pthread_t none = 0;
		__atomic_compare_exchange_n(&child->pthread, &none, *thread, 0,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	errno = e;
	return r;
}

WEFT_VISIBLE void pthread_exit(void *retval)
{
	struct weft_thread *t = weft_self_tls;
	/* A thread weft started ends in its trampoline's cleanup handler; one
	 * it did not (main) ends here. */
	if (t && !t->via_trampoline && !weft_busy)
		weft_thread_finish(t);
	REAL(pthread_exit)(retval);
	__builtin_unreachable();
}

/* Serial of the thread a join targets (0 when weft does not know it). */
static uint32_t target_serial(pthread_t th)
{
	struct weft_thread *t = weft_thread_find(th);
	return t ? t->serial : 0;
}

static struct weft_state join_begin(struct weft_thread *self, uint32_t target)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, JOIN_BEGIN, ts, target, stack);
	struct weft_state prev = weft_state_enter(self, WEFT_STATE_BLOCKED_JOIN, 0,
						  target, ts);
	weft_ev_end(self);
	return prev;
}

static void join_end(struct weft_thread *self, uint32_t target, int r,
		     struct weft_state prev)
{
	uint64_t ts = weft_now();
	if (r == 0) {
		struct weft_thread *t = weft_thread_by_serial(target);
		if (t)
			atomic_store(&t->joined, 1);
	}
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, JOIN_END, ts, target, weft_err(r));
	weft_state_leave(self, prev);
	weft_ev_end(self);
}

/* A join of any kind: JOIN_BEGIN, the call, JOIN_END. */
#define JOIN_BODY(call, ...)                                                 \
	struct weft_thread *self = weft_enter();                             \
	if (!self)                                                           \
		return REAL(call)(th, __VA_ARGS__);                          \
	uint32_t target = target_serial(th);                                 \
	struct weft_state prev = join_begin(self, target);                   \
	int r = REAL(call)(th, __VA_ARGS__);                                 \
	int e = errno;                                                       \
	join_end(self, target, r, prev);                                     \
	errno = e;                                                           \
	return r;

WEFT_VISIBLE int pthread_join(pthread_t th, void **retval)
{
	JOIN_BODY(pthread_join, retval)
}

WEFT_VISIBLE int pthread_tryjoin_np(pthread_t th, void **retval)
{
	JOIN_BODY(pthread_tryjoin_np, retval)
}

WEFT_VISIBLE int pthread_timedjoin_np(pthread_t th, void **retval,
				      const struct timespec *abstime)
{
	JOIN_BODY(pthread_timedjoin_np, retval, abstime)
}

WEFT_VISIBLE int pthread_detach(pthread_t th)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_detach)(th);
	struct weft_thread *t = weft_thread_find(th);
	uint64_t ts = weft_now();
	int r = REAL(pthread_detach)(th);
	int e = errno;
	if (r == 0 && t)
		atomic_store(&t->joined, 1);
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, DETACH, ts, t ? t->serial : 0, weft_err(r));
	weft_ev_end(self);
	errno = e;
	return r;
}

WEFT_VISIBLE int pthread_setname_np(pthread_t th, const char *name)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(pthread_setname_np)(th, name);
	int r = REAL(pthread_setname_np)(th, name);
	int e = errno;
	struct weft_thread *t = pthread_equal(th, pthread_self()) ? self
								  : weft_thread_find(th);
	if (r == 0 && t) {
		uint64_t ts = weft_now();
		size_t len = strnlen(name, 15);
		weft_thread_set_name(t, name, len);
		uint32_t g = weft_ev_begin(self);
		if (g)
			WEFT_EMIT_BYTES(self, g, THREAD_NAME, ts, name, t->serial, len);
		weft_ev_end(self);
	}
	errno = e;
	return r;
}
