/*
 * mutex_count.c - 4 threads each do exactly 2500 lock/unlock pairs on ONE
 * global mutex (10,000 pairs in all), incrementing a shared counter.
 *
 * A trace must show 4 worker threads and one mutex with exactly 10,000
 * acquires and 10,000 unlocks (the main thread never touches it).  No
 * other mutex in the program is locked that often.
 *
 * stdout: "counter=10000", exit 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#define NTHREADS 4
#define PER_THREAD 2500

static pthread_mutex_t counter_lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < PER_THREAD; i++) {
		pthread_mutex_lock(&counter_lock);
		counter++;
		pthread_mutex_unlock(&counter_lock);
	}
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];

	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0) {
			fprintf(stderr, "pthread_create failed\n");
			return 1;
		}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);

	/* All workers are joined: reading counter unlocked is race-free. */
	printf("counter=%ld\n", counter);
	return counter == (long)NTHREADS * PER_THREAD ? 0 : 1;
}
