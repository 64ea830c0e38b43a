/*
 * known_costs.c - threads whose costs are known in advance, for the
 * numbers `weft stats` reports:
 *
 *   "holder"  locks the mutex, lets "waiter" go, waits until the waiter
 *             is blocked in the kernel on the mutex (however late it
 *             gets there), sleeps 50 ms, unlocks;
 *   "waiter"  then locks the same mutex: exactly one contended
 *             acquisition, waiting at least 50 ms;
 *   "sleeper" sleeps 100 ms in nanosleep;
 *   "writer"  writes 1 byte to /dev/null 20 times on one descriptor.
 *
 * The mutex is locked by nobody else.  stdout: "mutex=0x... fd=N".
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

#define WRITES 20

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static sem_t holding;
static atomic_int waiter_tid;
static int fd = -1;

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	nanosleep(&ts, NULL);
}

/* Whether thread tid is in futex(2) on the mutex.  Raw system calls
 * only: the trace shows none of this. */
static int blocked_on_lock(int tid)
{
	char path[64], now[128] = { 0 }, want[64];
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	snprintf(want, sizeof want, "%d 0x%lx ", (int)SYS_futex, (unsigned long)&lock);
	int f = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	long n = syscall(SYS_read, f, now, sizeof now - 1);
	syscall(SYS_close, f);
	return n > 0 && !strncmp(now, want, strlen(want));
}

static void *holder(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "holder");
	pthread_mutex_lock(&lock);
	sem_post(&holding);
	struct timespec poll_gap = { 0, 1000000 };
	while (!blocked_on_lock(atomic_load(&waiter_tid)))
		syscall(SYS_nanosleep, &poll_gap, NULL);
	sleep_ms(50);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *waiter(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "waiter");
	atomic_store(&waiter_tid, (int)syscall(SYS_gettid));
	sem_wait(&holding);
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
	return NULL;
}

static void *sleeper(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "sleeper");
	sleep_ms(100);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "writer");
	for (int i = 0; i < WRITES; i++)
		write(fd, "x", 1);
	return NULL;
}

int main(void)
{
	void *(*fns[])(void *) = { holder, waiter, sleeper, writer };
	pthread_t t[4];
	sem_init(&holding, 0, 0);
	fd = open("/dev/null", O_WRONLY);
	if (fd < 0)
		return 1;
	for (int i = 0; i < 4; i++)
		pthread_create(&t[i], NULL, fns[i], NULL);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	printf("mutex=%p fd=%d\n", (void *)&lock, fd);
	return 0;
}
