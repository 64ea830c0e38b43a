/*
 * lock_flood.c - a heavy, steady event load: THREADS threads each do PAIRS
 * lock/unlock pairs on their own mutex and one write(2) to /dev/null every
 * 1,000 pairs.
 *
 * usage: lock_flood THREADS PAIRS|- [PAUSE_US]
 * With "-" for PAIRS, the threads go on until stdin ends.  With PAUSE_US,
 * each thread also sleeps that long after every 1,000 pairs (a steady
 * load rather than a flood).
 * stdout: "pairs=N" (the total), exit 0.
 * stderr: "work_ms=N", the wall time of the work alone (thread creation
 * to the last join), for tests that compare throughput.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long pairs_per_thread; /* 0: until stdin ends */
static atomic_int stdin_ended;
static long pause_us;
static int devnull;

static void *worker(void *arg)
{
	long *done = arg;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	for (long i = 0; pairs_per_thread ? i < pairs_per_thread
					   : !atomic_load_explicit(&stdin_ended, memory_order_relaxed);
	     i++) {
		pthread_mutex_lock(&m);
		(*done)++;
		pthread_mutex_unlock(&m);
		if (i % 1000 == 0) {
			write(devnull, "x", 1);
			if (pause_us)
				usleep((useconds_t)pause_us);
		}
	}
	return NULL;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	if (argc != 3 && argc != 4)
		return 2;
	pause_us = argc == 4 ? atol(argv[3]) : 0;
	int nthreads = atoi(argv[1]);
	int until_eof = !strcmp(argv[2], "-");
	pairs_per_thread = until_eof ? 0 : atol(argv[2]);
	if (nthreads < 1 || nthreads > 64 || (!until_eof && pairs_per_thread < 1))
		return 2;
	devnull = open("/dev/null", O_WRONLY);
	pthread_t t[64];
	long done[64] = { 0 };
	double start = now_ms();
	for (int i = 0; i < nthreads; i++)
		if (pthread_create(&t[i], NULL, worker, &done[i]) != 0)
			return 1;
	if (until_eof) {
		char buf[64];
		while (read(0, buf, sizeof buf) > 0)
			;
		atomic_store(&stdin_ended, 1);
	}
	long total = 0;
	for (int i = 0; i < nthreads; i++) {
		pthread_join(t[i], NULL);
		total += done[i];
	}
	fprintf(stderr, "work_ms=%.0f\n", now_ms() - start);
	printf("pairs=%ld\n", total);
	return until_eof || total == nthreads * pairs_per_thread ? 0 : 1;
}
