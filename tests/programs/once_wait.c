/*
 * once_wait.c - a pthread_once wait of known length:
 *
 *   "runner"  calls pthread_once first and runs the init routine, which
 *             lets "waiter" go, waits until the waiter is blocked in the
 *             kernel on the once control, then sleeps 50 ms;
 *   "waiter"  calls pthread_once on the same control meanwhile, and so
 *             waits at least 50 ms for the routine to finish.
 *
 * Then the main thread calls pthread_once on it again, which finds the
 * routine done.  stdout: "once=0x...".
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static sem_t running_init;
static atomic_int waiter_tid;
static atomic_int inits;

/* Whether thread tid is in futex(2) on the once control.  Raw system
 * calls only: the trace shows none of this. */
static int blocked_on_once(int tid)
{
	char path[64], now[128] = { 0 }, want[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	snprintf(want, sizeof want, "%d 0x%lx ", (int)SYS_futex, (unsigned long)&once);
	int f = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	long n = syscall(SYS_read, f, now, sizeof now - 1);
	syscall(SYS_close, f);
	return n > 0 && !strncmp(now, want, strlen(want));
}

static void init_routine(void)
{
	atomic_fetch_add(&inits, 1);
	sem_post(&running_init);
	int tid;
	while (!(tid = atomic_load(&waiter_tid)) || !blocked_on_once(tid)) {
		struct timespec ms = { 0, 1000000 };
		syscall(SYS_nanosleep, &ms, NULL);
	}
	struct timespec ts = { 0, 50000000 };
	nanosleep(&ts, NULL);
}

static void *runner(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "runner");
	pthread_once(&once, init_routine);
	return NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "waiter");
	sem_wait(&running_init);
	atomic_store(&waiter_tid, (int)syscall(SYS_gettid));
	pthread_once(&once, init_routine);
	return NULL;
}

int main(void)
{
	sem_init(&running_init, 0, 0);
	pthread_t r, w;
	pthread_create(&r, NULL, runner, NULL);
	pthread_create(&w, NULL, waiter, NULL);
	pthread_join(r, NULL);
	pthread_join(w, NULL);
	pthread_once(&once, init_routine);
	printf("once=%p\n", (void *)&once);
	return atomic_load(&inits) == 1 ? 0 : 1;
}
