/*
 * emit.h - the hot path: entering a wrapper, and writing one event into the
 * calling thread's buffer inside its seqlock.
 *
 * Every event is written between weft_ev_begin() and weft_ev_end().  Begin
 * makes the seqlock odd, reads the generation and makes sure the thread's
 * buffer for that generation is started (batch header first, then STATUS and
 * LOST as needed) and has room for one more record.  A state change that
 * another thread may observe (STATUS written by the advancer) is made inside
 * the same begin/end pair as its event, so no generation boundary falls
 * between the two.
 */
#ifndef WEFT_EMIT_H
#define WEFT_EMIT_H

#include <time.h>

#include "../format/wire.h"
#include "weft.h"

/* Room one event may take (the longest is an EXEC path, written through the
 * slow path with its own check). */
#define WEFT_EVENT_ROOM 96

static inline uint64_t weft_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void weft_nested_call(void);

/* The calling thread's record when this call should be traced, else NULL
 * (weft's own code is running on this thread, or the thread has exited). */
static inline struct weft_thread *weft_enter(void)
{
	if (unlikely(weft_busy)) {
		weft_nested_call();
		return NULL;
	}
	struct weft_thread *t = weft_self_tls;
	if (likely(t != NULL))
		return t;
	return weft_thread_attach();
}

/* Opens an event; returns the generation to write in, or 0 when the event
 * is not recorded (tracing off, or no buffer: then it is counted as lost). */
static inline uint32_t weft_ev_begin(struct weft_thread *t)
{
	weft_busy++;
	atomic_fetch_add(&t->seqlock, 1);
	uint32_t gen = atomic_load(&weft_generation);
	if (unlikely(gen == 0))
		return 0;
	unsigned s = gen & 1;
	if (unlikely(t->buf_gen[s] != gen || t->buf[s] == NULL ||
		     t->pos[s] + WEFT_EVENT_ROOM > weft_config.buffer_size))
		return weft_buffer_prepare(t, gen);
	return gen;
}

static inline void weft_ev_end(struct weft_thread *t)
{
	atomic_fetch_add(&t->seqlock, 1);
	weft_busy--;
}

/* Appends the record's code and timestamp delta.  A timestamp taken before
 * the buffer's latest one (a release stamped before its real call) is
 * clamped, so deltas never go negative. */
static inline uint8_t *weft_put_head(struct weft_thread *t, uint32_t gen,
				     uint8_t code, uint64_t ts)
{
	unsigned s = gen & 1;
	uint8_t *p = t->buf[s] + t->pos[s];
	*p++ = code;
	uint64_t last = t->last_ts[s];
	uint64_t delta = ts > last ? ts - last : 0;
	if (ts > last)
		t->last_ts[s] = ts;
	return weft_put_uleb(p, delta);
}

static inline void weft_put_done(struct weft_thread *t, uint32_t gen,
				 uint8_t *end)
{
	unsigned s = gen & 1;
	t->pos[s] = (uint32_t)(end - t->buf[s]);
}

/*
 * WEFT_EMIT(t, gen, NAME, ts, args...): one timed event with its arguments
 * already in wire form (signed kinds through weft_zigzag()).  The argument
 * count is checked against events.def at compile time.
 */
#define WEFT_EMIT(t, gen, NAME, ts, ...)                                      \
	do {                                                                  \
		const uint64_t weft_args_[] = { __VA_ARGS__ };                \
		_Static_assert(sizeof weft_args_ / sizeof weft_args_[0] ==    \
				       WEFT_NARGS_##NAME,                     \
			       "argument count of " #NAME);                   \
		uint8_t *weft_p_ = weft_put_head(t, gen, WEFT_EV_##NAME, ts); \
		for (unsigned weft_i_ = 0;                                    \
		     weft_i_ < sizeof weft_args_ / sizeof weft_args_[0];      \
		     weft_i_++)                                               \
			weft_p_ = weft_put_uleb(weft_p_, weft_args_[weft_i_]);\
		weft_put_done(t, gen, weft_p_);                               \
	} while (0)

#define WEFT_EMIT0(t, gen, NAME, ts)                                          \
	do {                                                                  \
		_Static_assert(WEFT_NARGS_##NAME == 0, "argument count");     \
		weft_put_done(t, gen, weft_put_head(t, gen, WEFT_EV_##NAME, ts)); \
	} while (0)

/* Sets the thread's state (for STATUS); call inside begin/end. */
static inline void weft_set_state(struct weft_thread *t, uint8_t state,
				  uint8_t syscall, uint64_t object, uint64_t ts)
{
	t->state = state;
	t->state_syscall = syscall;
	t->state_object = object;
	t->state_since = ts;
}

/* A stack id when stacks are on, else 0.  Called outside begin/end: the
 * unwinder may call wrapped functions, which then pass through. */
static inline uint64_t weft_stack(void)
{
	if (likely(!weft_config.stacks))
		return 0;
	return weft_stack_capture();
}

static inline uint64_t weft_obj(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline uint64_t weft_err(int r)
{
	return r < 0 ? 0 : (uint64_t)r;
}

#endif
