/*
 * enter.h - entering a wrapper: whether this call is traced, and by which
 * thread record (registering the calling thread on its first call).
 */
#ifndef WEFT_ENTER_H
#define WEFT_ENTER_H

#include "weft.h"

/* The calling thread's record when this call should be traced, else NULL
 * (weft's own code is running on this thread, or the thread has exited). */
static inline struct weft_thread *weft_enter(void)
{
	if (unlikely(weft_busy))
		return weft_nested_enter();
	struct weft_thread *t = weft_self_tls;
	if (likely(t != NULL))
		return t;
	return weft_thread_attach();
}

/* Whether tracing is off, read outside any section: for the fast paths of
 * calls that change no thread state (an uncontended acquisition, a
 * release), which then record nothing and cost next to nothing. */
static inline int weft_off(void)
{
	return atomic_load_explicit(&weft_generation, memory_order_relaxed) == 0;
}

#endif
