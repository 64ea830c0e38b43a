/*
 * exit_blocked.c - the process calls exit(0) while 8 threads are blocked
 * forever:
 *   4 threads in read() on a pipe that never gets data,
 *   2 threads in pthread_cond_wait() on a condvar never signalled,
 *   2 threads in pthread_mutex_lock() on a mutex main holds until the end.
 * Meanwhile main does exactly 100 lock/unlock pairs on a separate mutex,
 * waits until /proc shows each thread asleep in its call, prints "exiting"
 * and calls exit(0).
 *
 * A trace must be complete despite the blocked threads: the 100 acquires
 * of main's mutex, and for each of the 8 threads its pending state at exit
 * (4 inside read on the pipe's read descriptor, 2 inside a cond wait, 2
 * blocked on the held mutex), with none of those calls ever ending.
 *
 * stdout: "exiting", exit 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "blocked.h"

static int fds[2];
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;    /* main holds it */
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never = PTHREAD_COND_INITIALIZER;
static int never_true;                                       /* stays 0 */
static pthread_mutex_t mains = PTHREAD_MUTEX_INITIALIZER;   /* main's 100 pairs */
static long main_count;
static blocked_slot tids[8];                                 /* in creation order */

static void *pipe_reader(void *arg)
{
	char buf[16];

	blocked_publish(arg);
	for (;;)
		if (read(fds[0], buf, sizeof buf) <= 0)
			break;   /* not reached: no data, write end stays open */
	return NULL;
}

static void *cond_waiter(void *arg)
{
	blocked_publish(arg);
	pthread_mutex_lock(&cond_lock);
	while (!never_true)
		pthread_cond_wait(&never, &cond_lock);
	pthread_mutex_unlock(&cond_lock);
	return NULL;
}

static void *mutex_blocker(void *arg)
{
	blocked_publish(arg);
	pthread_mutex_lock(&held);   /* blocks: main never unlocks */
	pthread_mutex_unlock(&held);
	return NULL;
}

int main(void)
{
	pthread_t t[8];
	int n = 0;

	if (pipe(fds) != 0)
		return 1;
	pthread_mutex_lock(&held);

	for (int i = 0; i < 4; i++, n++)
		if (pthread_create(&t[n], NULL, pipe_reader, &tids[n]) != 0)
			return 1;
	for (int i = 0; i < 2; i++, n++)
		if (pthread_create(&t[n], NULL, cond_waiter, &tids[n]) != 0)
			return 1;
	for (int i = 0; i < 2; i++, n++)
		if (pthread_create(&t[n], NULL, mutex_blocker, &tids[n]) != 0)
			return 1;

	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&mains);
		main_count++;
		pthread_mutex_unlock(&mains);
	}

	for (int i = 0; i < 4; i++)
		wait_blocked(&tids[i], BLOCKED_READING(fds[0]));
	for (int i = 4; i < 6; i++)
		wait_blocked(&tids[i], BLOCKED_FUTEX_ON(never));
	for (int i = 6; i < 8; i++)
		wait_blocked(&tids[i], BLOCKED_FUTEX_ON(held));
	printf("exiting\n");
	exit(main_count == 100 ? 0 : 1);
}
