/*
 * unwind.h - the calling thread's call stack, from the compiler's call
 * frame information (unwind.c says how and why).
 */
#ifndef WEFT_UNWIND_H
#define WEFT_UNWIND_H

#include <stdint.h>

/* Stores the return addresses of the calling thread's frames, innermost
 * first and starting with weft_unwind's caller's own, into pcs (at most
 * max); returns how many.  No system call, lock or allocation;
 * async-signal-safe and reentrant. */
int weft_unwind(uintptr_t *pcs, int max);

/* The same, starting with the frame whose return address is `from` (the
 * program's call into weft, a few frames up): 0 when it is not among the
 * first 8. */
int weft_unwind_from(uintptr_t from, uintptr_t *pcs, int max);

#endif
