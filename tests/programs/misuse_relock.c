/*
 * misuse_relock.c - a second thread locks a default mutex it already
 * holds and waits for ever.  Main waits until it is blocked, finds the
 * mutex busy with a timed lock (ETIMEDOUT after 10 ms), and returns: the
 * process ends with the thread still blocked.
 * Expected finding: relock-deadlock, T2 on the mutex it holds.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>

#include "misuse.h"

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pid_t locker_tid;

static void *locker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mutex);
	__atomic_store_n(&locker_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	pthread_mutex_lock(&mutex);
	return NULL;
}

int main(void)
{
	say_object(&mutex);
	pthread_t t;
	pthread_create(&t, NULL, locker, NULL);
	pid_t tid;
	while (!(tid = __atomic_load_n(&locker_tid, __ATOMIC_ACQUIRE)))
		sched_yield();
	wait_until_blocked(tid);
	struct timespec deadline;
	clock_gettime(CLOCK_REALTIME, &deadline);
	deadline.tv_nsec += 10 * 1000 * 1000;
	if (deadline.tv_nsec >= 1000000000) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000;
	}
	int r = pthread_mutex_timedlock(&mutex, &deadline);
	printf("timedlock %s\n", r == ETIMEDOUT ? "ETIMEDOUT" : "?");
	return 0;
}
