/*
 * lockloop.c - benchmark workload: THREADS threads each do PAIRS
 * lock/unlock pairs, on one shared mutex (contended) or on a mutex each
 * (uncontended).  Prints the ns per pair of the whole run on stdout.
 *
 *   lockloop THREADS PAIRS shared|private
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static long pairs;
static int use_shared;

static void *worker(void *arg)
{
	pthread_mutex_t own = PTHREAD_MUTEX_INITIALIZER;
	pthread_mutex_t *m = use_shared ? &shared : &own;
	volatile long *counter = arg;
	for (long i = 0; i < pairs; i++) {
		pthread_mutex_lock(m);
		(*counter)++;
		pthread_mutex_unlock(m);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc != 4 || (strcmp(argv[3], "shared") && strcmp(argv[3], "private"))) {
		fprintf(stderr, "usage: lockloop THREADS PAIRS shared|private\n");
		return 2;
	}
	int threads = atoi(argv[1]);
	pairs = atol(argv[2]);
	use_shared = !strcmp(argv[3], "shared");
	if (threads < 1 || threads > 256 || pairs < 1) {
		fprintf(stderr, "lockloop: bad THREADS or PAIRS\n");
		return 2;
	}
	pthread_t t[256];
	long counters[256] = { 0 };
	struct timespec a, b;
	clock_gettime(CLOCK_MONOTONIC, &a);
	for (int i = 0; i < threads; i++)
		pthread_create(&t[i], NULL, worker, &counters[i]);
	for (int i = 0; i < threads; i++)
		pthread_join(t[i], NULL);
	clock_gettime(CLOCK_MONOTONIC, &b);
	double ns = (double)(b.tv_sec - a.tv_sec) * 1e9 + (double)(b.tv_nsec - a.tv_nsec);
	printf("%.2f\n", ns / ((double)pairs * threads));
	return 0;
}
