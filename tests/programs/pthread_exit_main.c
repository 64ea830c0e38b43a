/*
 * pthread_exit_main.c - main creates 3 threads and then leaves through
 * pthread_exit(NULL) without joining them.  Each thread does 10
 * lock/unlock pairs on a shared mutex and sleeps 50 ms; the last one to
 * finish (decided by an atomic counter) prints "last thread done".  The
 * process ends when that last thread returns, with status 0.
 *
 * A trace must show the main thread exiting (THREAD_EXIT) before the
 * process ends, the 3 threads still running after it (30 acquires of the
 * shared mutex, 3 sleeps), and a complete, properly ended trace even
 * though main never returned from main().
 *
 * stdout: "last thread done", exit 0.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define NTHREADS 3

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static atomic_int finished;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 10; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	usleep(50 * 1000);
	if (atomic_fetch_add(&finished, 1) == NTHREADS - 1) {
		/* Every other worker has finished its mutex work. */
		pthread_mutex_lock(&m);
		long c = counter;
		pthread_mutex_unlock(&m);
		if (c == NTHREADS * 10)
			printf("last thread done\n");
		else {
			printf("FAIL counter=%ld\n", c);
			exit(1);
		}
		fflush(stdout);
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
	pthread_exit(NULL);
}
