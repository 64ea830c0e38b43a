/*
 * misuse.h - what the misuse programs (misuse_*.c) share: waiting, without
 * sleeping, until another thread is blocked in the kernel, and saying
 * which object the misuse is about.
 */
#ifndef WEFT_MISUSE_H
#define WEFT_MISUSE_H

#include <stdio.h>
#include <stdlib.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Waits until thread tid is in a futex wait (its blocked lock, wait or
 * destroy), as /proc/self/task/TID/syscall shows. */
static inline void wait_until_blocked(pid_t tid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", (int)tid);
	for (;;) {
		FILE *f = fopen(path, "r");
		long nr = -1;
		if (f) {
			if (fscanf(f, "%ld", &nr) != 1)
				nr = -1;
			fclose(f);
		}
		if (nr == SYS_futex)
			return;
		sched_yield();
	}
}

/* The test reads the object's address from this line. */
static inline void say_object(const void *p)
{
	printf("object %p\n", p);
	fflush(stdout);
}

#endif
