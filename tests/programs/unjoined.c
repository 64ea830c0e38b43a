/*
 * unjoined.c - threads nobody waits for.
 *
 * `unjoined finished`: creates FINISHED threads that each take a mutex
 * and end; none is joined or detached.  main waits (on a semaphore) until
 * all have taken the mutex and returns.
 * `unjoined running`: creates three detached threads that are still busy
 * when main calls exit(): one blocked in read(2) on a pipe nobody writes,
 * one sleeping in nanosleep, one taking and releasing a mutex in a loop.
 * main waits until each has begun, then exit(0).
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

#define FINISHED 8

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static sem_t begun;
static int pipe_fds[2];

static void *finish(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	sem_post(&begun);
	return NULL;
}

static void *block_in_read(void *arg)
{
	(void)arg;
	char c;
	sem_post(&begun);
	read(pipe_fds[0], &c, 1);
	return NULL;
}

static void *sleep_long(void *arg)
{
	(void)arg;
	struct timespec hour = { 3600, 0 };
	sem_post(&begun);
	nanosleep(&hour, NULL);
	return NULL;
}

static void *lock_forever(void *arg)
{
	(void)arg;
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
			if (pthread_create(&t, NULL, finish, NULL) != 0)
				return 1;
		}
		for (int i = 0; i < FINISHED; i++)
			sem_wait(&begun);
		/* Nobody can wait for them: give them time to end (they
		 * have nothing left to do but their destructors). */
		struct timespec settle = { 0, 200 * 1000000L };
		nanosleep(&settle, NULL);
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
			if (pthread_create(&t, &attr, fns[i], NULL) != 0)
				return 1;
		}
		for (int i = 0; i < 3; i++)
			sem_wait(&begun);
		usleep(20000); /* let them reach their calls */
		printf("running=3\n");
		fflush(stdout);
		exit(0);
	}
	fprintf(stderr, "usage: unjoined finished|running\n");
	return 2;
}
