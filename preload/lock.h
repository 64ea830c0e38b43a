/*
 * lock.h - weft's internal lock: a three-state futex mutex (Drepper's
 * "Futexes Are Tricky", mutex #2).  It calls no wrapped function, never
 * allocates, and is safe to reinitialise in a fork child.
 */
#ifndef WEFT_LOCK_H
#define WEFT_LOCK_H

#include <linux/futex.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

typedef struct { _Atomic int state; } weft_lock_t; /* 0 free, 1 held, 2 waiters */
#define WEFT_LOCK_INIT { 0 }

static inline void weft_lock(weft_lock_t *l)
{
	int c = 0;
	if (atomic_compare_exchange_strong(&l->state, &c, 1))
		return;
	if (c != 2)
		c = atomic_exchange(&l->state, 2);
	while (c != 0) {
		syscall(SYS_futex, &l->state, FUTEX_WAIT_PRIVATE, 2, NULL, NULL, 0);
		c = atomic_exchange(&l->state, 2);
	}
}

static inline void weft_unlock(weft_lock_t *l)
{
	if (atomic_exchange(&l->state, 0) == 2)
		syscall(SYS_futex, &l->state, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

#endif
