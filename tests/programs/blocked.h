/*
 * blocked.h - for test programs that leave a thread blocked and then do
 * something to it (a signal, exit, cancellation, a start or stop of
 * tracing): waiting until /proc shows the thread asleep inside its
 * blocking call, instead of sleeping a while and hoping it got there.
 *
 *   blocked_publish(&slot)
 *        the calling thread stores its kernel thread id in slot, before
 *        its blocking call
 *   wait_blocked(&slot, CALL)
 *        once slot is set, waits until that thread is asleep (state S)
 *        inside the system call CALL names:
 *          BLOCKED_FUTEX_ON(object)  a futex wait on a word of object (a
 *                                    mutex, condvar, semaphore, barrier)
 *          BLOCKED_JOINING(tid)      a futex wait for thread tid to end
 *                                    (pthread_join)
 *          BLOCKED_READING(fd)       read(2) of fd
 *          BLOCKED_SLEEPING          nanosleep or clock_nanosleep
 *        (/proc/self/task/TID/syscall names the call and its arguments
 *        only while the thread is not running; where that file cannot be
 *        read, the thread must be seen asleep on consecutive looks)
 *   wait_gone(&slot)
 *        once slot is set, waits until that thread has ended (its task is
 *        gone, or a zombie)
 *
 * Each wait gives up after 60 s with a message on stderr and exit status
 * 3, so a thread that never gets there fails its test instead of hanging
 * it.  Everything here is done with raw system calls: the programs run
 * under libweft.so, and waiting must add no event of its own to a trace.
 */
#ifndef WEFT_TEST_BLOCKED_H
#define WEFT_TEST_BLOCKED_H

#include <fcntl.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

typedef _Atomic int blocked_slot;

/* Which system call, and which of its arguments must lie in
 * [lo, lo + span) (arg -1: any arguments). */
struct blocked_call {
	long nr;
	int arg;
	uintptr_t lo;
	size_t span;
	const char *what;
};

#define BLOCKED_FUTEX_ON(object) \
	((struct blocked_call){ SYS_futex, 0, (uintptr_t)&(object), sizeof(object), \
				"a futex wait on " #object })
/* glibc's pthread_join waits on the joined thread's id word, with the
 * thread's id as the value it expects there. */
#define BLOCKED_JOINING(tid) \
	((struct blocked_call){ SYS_futex, 2, (uintptr_t)(tid), 1, "pthread_join" })
#define BLOCKED_READING(fd) \
	((struct blocked_call){ SYS_read, 0, (uintptr_t)(fd), 1, "read of " #fd })
#define BLOCKED_SLEEPING \
	((struct blocked_call){ SYS_clock_nanosleep, -1, 0, 0, "a sleep" })

static inline void blocked_publish(blocked_slot *slot)
{
	atomic_store(slot, (int)syscall(SYS_gettid));
}

static inline void blocked_pause(void)
{
	struct timespec ms = { 0, 1000000L };
	syscall(SYS_nanosleep, &ms, NULL);
}

static inline void blocked_give_up(int tid, const char *what)
{
	char msg[160];
	int n = snprintf(msg, sizeof msg, "blocked.h: thread %d never got to %s in 60 s\n",
			 tid, what);
	syscall(SYS_write, 2, msg, (size_t)n);
	syscall(SYS_exit_group, 3);
}

/* Reads /proc/self/task/TID/NAME into buf (NUL-terminated); the length,
 * or -1. */
static inline long blocked_read_proc(int tid, const char *name, char *buf, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/%s", tid, name);
	int fd = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	long n = syscall(SYS_read, fd, buf, cap - 1);
	syscall(SYS_close, fd);
	if (n < 0)
		return -1;
	buf[n] = 0;
	return n;
}

/* The state letter of the task's stat line ('?' when it cannot be read,
 * 0 when the task is gone). */
static inline char blocked_state(int tid)
{
	char stat[512];
	if (blocked_read_proc(tid, "stat", stat, sizeof stat) < 0) {
		char path[64];
		snprintf(path, sizeof path, "/proc/self/task/%d", tid);
		return syscall(SYS_faccessat, AT_FDCWD, path, F_OK) == 0 ? '?' : 0;
	}
	const char *paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' ? paren[2] : '?';
}

static inline int blocked_tid_of(blocked_slot *slot, const char *what)
{
	for (int i = 0; i < 60000; i++) {
		int tid = atomic_load(slot);
		if (tid)
			return tid;
		blocked_pause();
	}
	blocked_give_up(0, what);
	return 0;
}

/* 1: in the call; 0: not (yet); -1: the syscall file cannot be read. */
static inline int blocked_in_call(int tid, const struct blocked_call *call)
{
	char line[512];
	if (blocked_read_proc(tid, "syscall", line, sizeof line) < 0)
		return -1;
	/* "NR ARG1 ... ARG6 SP PC" while asleep in a call, "running" or
	 * "-1 SP PC" otherwise. */
	char *p = line;
	long nr = strtol(p, &p, 10);
	int same = nr == call->nr;
#ifdef SYS_nanosleep
	if (call->nr == SYS_clock_nanosleep && nr == SYS_nanosleep)
		same = 1;
#endif
	if (!same)
		return 0;
	if (call->arg < 0)
		return 1;
	uintptr_t arg = 0;
	for (int i = 0; i <= call->arg; i++)
		arg = (uintptr_t)strtoull(p, &p, 16);
	return arg - call->lo < call->span;
}

static inline void wait_blocked(blocked_slot *slot, struct blocked_call call)
{
	int tid = blocked_tid_of(slot, call.what);
	int asleep = 0;
	for (int i = 0; i < 60000; i++) {
		if (blocked_state(tid) == 'S') {
			int in = blocked_in_call(tid, &call);
			if (in > 0 || (in < 0 && ++asleep >= 20))
				return;
			if (in == 0)
				asleep = 0;
		} else {
			asleep = 0;
		}
		blocked_pause();
	}
	blocked_give_up(tid, call.what);
}

static inline void wait_gone(blocked_slot *slot)
{
	int tid = blocked_tid_of(slot, "its end");
	for (int i = 0; i < 60000; i++) {
		char state = blocked_state(tid);
		if (state == 0 || state == 'Z' || state == 'X')
			return;
		blocked_pause();
	}
	blocked_give_up(tid, "its end");
}

#endif
