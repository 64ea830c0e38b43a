/*
 * unjoined.c - threads nobody waits for.
 *
 * `unjoined finished`: creates FINISHED threads that each take a mutex
 * and end; none is joined or detached.  main waits until /proc shows that
 * all have ended and returns.
 * `unjoined running`: creates three detached threads that are still busy
 * when main calls exit(): one blocked in read(2) on a pipe nobody writes,
 * one sleeping in nanosleep, one taking and releasing a mutex in a loop.
 * main waits until /proc shows the first two asleep in their calls and
 * the third has taken the mutex once, then exit(0).
 *
 * stdout: "finished=8" or "running=3"; exit 0.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blocked.h"

#define FINISHED 8

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t begun;
static int pipe_fds[2];
static blocked_slot tids[FINISHED];

static void *finish(void *arg)
{
	blocked_publish(arg);
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return NULL;
}

static void *block_in_read(void *arg)
{
	char c;
	blocked_publish(arg);
	read(pipe_fds[0], &c, 1);
	return NULL;
}

static void *sleep_long(void *arg)
{
	struct timespec hour = { 3600, 0 };
	blocked_publish(arg);
	nanosleep(&hour, NULL);
	return NULL;
}

static void *lock_forever(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	sem_post(&begun);
	for (;;) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	sem_init(&begun, 0, 0);
	if (argc > 1 && !strcmp(argv[1], "finished")) {
		for (int i = 0; i < FINISHED; i++) {
			pthread_t t;
			if (pthread_create(&t, NULL, finish, &tids[i]) != 0)
				return 1;
		}
		/* Nobody can wait for them: main watches them end. */
		for (int i = 0; i < FINISHED; i++)
			wait_gone(&tids[i]);
		printf("finished=%d\n", FINISHED);
		return 0;
	}
	if (argc > 1 && !strcmp(argv[1], "running")) {
		void *(*fns[])(void *) = { block_in_read, sleep_long, lock_forever };
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pipe(pipe_fds) != 0)
			return 1;
		for (int i = 0; i < 3; i++) {
			pthread_t t;
			if (pthread_create(&t, &attr, fns[i], &tids[i]) != 0)
				return 1;
		}
		wait_blocked(&tids[0], BLOCKED_READING(pipe_fds[0]));
		wait_blocked(&tids[1], BLOCKED_SLEEPING);
		sem_wait(&begun);
		printf("running=3\n");
		fflush(stdout);
		exit(0);
	}
	fprintf(stderr, "usage: unjoined finished|running\n");
	return 2;
}
