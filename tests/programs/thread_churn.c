/*
 * thread_churn.c - 10,000 threads: first WINDOW of them alive at once
 * (each waits at a barrier of WINDOW + 1 until all exist), then the rest
 * churning through a sliding window: the oldest is joined and a new one
 * created, so WINDOW threads stay alive.  Every thread takes a mutex once.
 *
 * `thread_churn [WINDOW]` (default 1000; fewer threads are used at once
 * when the system refuses more).  stdout: "threads=10000 counter=10000";
 * exit 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define TOTAL 10000

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_barrier_t all_alive;
static int counter;

static void count_once(void)
{
	pthread_mutex_lock(&m);
	counter++;
	pthread_mutex_unlock(&m);
}

static void *gathered(void *arg)
{
	(void)arg;
	count_once();
	pthread_barrier_wait(&all_alive);
	return NULL;
}

static void *churned(void *arg)
{
	(void)arg;
	count_once();
	return NULL;
}

static int spawn(pthread_t *t, void *(*fn)(void *), pthread_attr_t *attr)
{
	int r;
	while ((r = pthread_create(t, attr, fn, NULL)) == EAGAIN)
		;
	return r;
}

int main(int argc, char **argv)
{
	int window = argc > 1 ? atoi(argv[1]) : 1000;
	if (window < 1 || window > TOTAL)
		return 2;
	static pthread_t ring[TOTAL];
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_barrier_init(&all_alive, NULL, (unsigned)window + 1);
	int created = 0;
	for (; created < window; created++)
		if (spawn(&ring[created], gathered, &attr) != 0)
			return 3;
	pthread_barrier_wait(&all_alive);
	for (; created < TOTAL; created++) {
		if (pthread_join(ring[created - window], NULL) != 0)
			return 4;
		if (spawn(&ring[created], churned, &attr) != 0)
			return 3;
	}
	for (int i = TOTAL - window; i < TOTAL; i++)
		if (pthread_join(ring[i], NULL) != 0)
			return 4;
	pthread_barrier_destroy(&all_alive);
	printf("threads=%d counter=%d\n", created, counter);
	return counter == TOTAL ? 0 : 1;
}
