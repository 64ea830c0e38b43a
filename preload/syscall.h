/*
 * syscall.h - recording a blocking call: SYSCALL_BEGIN (syscall id, the
 * descriptor or first argument it waits on) before the call and
 * SYSCALL_END (return value, errno when it failed) after it, with the
 * thread in state SYSCALL in between.  The wrappers of wrap_io.c,
 * wrap_ipc.c, wrap_stdio.c and fcntl's in wrap_fd.c share it.
 */
#ifndef WEFT_SYSCALL_H
#define WEFT_SYSCALL_H

#include <errno.h>

#include "emit.h"
#include "enter.h"

static inline struct weft_state weft_syscall_begin(struct weft_thread *self,
						   unsigned id, int64_t arg)
{
	uint64_t stack = weft_stack();
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, SYSCALL_BEGIN, ts, id, (uint64_t)arg, stack);
	struct weft_state prev = weft_state_enter(self, WEFT_STATE_SYSCALL, (uint8_t)id,
						  (uint64_t)arg, ts);
	weft_ev_end(self);
	return prev;
}

static inline void weft_syscall_end(struct weft_thread *self, unsigned id,
				    int64_t ret, int err, struct weft_state prev)
{
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, SYSCALL_END, ts, id, (uint64_t)ret, (uint64_t)err);
	weft_state_leave(self, prev);
	weft_ev_end(self);
}

/* The body of a wrapper for a call that returns -1 and sets errno on
 * failure: SYSCALL_BEGIN with arg, the call, SYSCALL_END. */
#define WEFT_IO_BODY(type, id, arg, call)                                     \
	struct weft_thread *self = weft_enter();                              \
	if (!self)                                                            \
		return (call);                                                \
	int saved = errno;                                                    \
	struct weft_state prev_ = weft_syscall_begin(self, WEFT_SYS_##id,     \
						     (int64_t)(arg));         \
	errno = saved;                                                        \
	type ret_ = (call);                                                   \
	int err_ = errno;                                                     \
	weft_syscall_end(self, WEFT_SYS_##id, (int64_t)ret_,                  \
			 ret_ == -1 ? err_ : 0, prev_);                       \
	errno = err_;                                                         \
	return ret_;

/* WEFT_IO(type, name, id, arg, params, args...): the wrapper of name. */
#define WEFT_IO(type, name, id, arg, params, ...)                             \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE type name params                                         \
	{                                                                     \
		WEFT_IO_BODY(type, id, arg, REAL(name)(__VA_ARGS__))          \
	}

#endif
