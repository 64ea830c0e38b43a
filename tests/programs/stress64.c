/*
 * stress64.c - 64 threads hammer 8 mutexes and 8 condvars for about one
 * second of wall-clock time.  Each iteration a thread picks a pair i
 * (pseudo-randomly), locks mutex i, bumps counter i, and then sometimes
 * signals or broadcasts condvar i, or waits on condvar i with
 * pthread_cond_timedwait and a 2 ms timeout, before unlocking.  Every wait
 * is timed, so nobody can wait forever; the clock is checked every 16
 * iterations and each thread stops once the one-second deadline passes.
 *
 * A trace must show 64 threads created, started, exited and joined, heavy
 * contention (blocked acquires) on the 8 mutexes, and cond waits, signals
 * and broadcasts on the 8 condvars whose waits each end (0 or ETIMEDOUT)
 * -- no wait still pending at the end -- and must keep every event or
 * report the losses (LOST records).  Per-mutex acquire totals must add up
 * exactly; the program checks its own counters the same way.
 *
 * stdout: "done", exit 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define NTHREADS 64
#define NPAIRS 8
#define BATCH 16
#define RUN_NS 1000000000LL
#define WAIT_NS 2000000LL

static pthread_mutex_t mutexes[NPAIRS];
static pthread_cond_t conds[NPAIRS];
static long counters[NPAIRS];
static long long deadline_ns;

struct result {
	long iterations;
	int bad;          /* an unexpected return code was seen */
};
static struct result results[NTHREADS];

static long long now_ns(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void *worker(void *arg)
{
	struct result *res = arg;
	unsigned seed = (unsigned)(res - results) * 2654435761u + 1;

	for (;;) {
		for (int b = 0; b < BATCH; b++) {
			int i = rand_r(&seed) % NPAIRS;
			int r = rand_r(&seed) % 16;
			int rc = 0;

			if (pthread_mutex_lock(&mutexes[i]) != 0) {
				res->bad = 1;
				continue;
			}
			counters[i]++;
			if (r == 0) {
				rc = pthread_cond_broadcast(&conds[i]);
			} else if (r <= 3) {
				rc = pthread_cond_signal(&conds[i]);
			} else if (r <= 5) {
				long long t = now_ns(CLOCK_REALTIME) + WAIT_NS;
				struct timespec ts = { t / 1000000000LL, t % 1000000000LL };

				rc = pthread_cond_timedwait(&conds[i], &mutexes[i], &ts);
				if (rc == ETIMEDOUT)
					rc = 0;
			}
			if (rc != 0)
				res->bad = 1;
			if (pthread_mutex_unlock(&mutexes[i]) != 0)
				res->bad = 1;
			res->iterations++;
		}
		if (now_ns(CLOCK_MONOTONIC) >= deadline_ns)
			break;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[NTHREADS];
	long total = 0, counted = 0;
	int bad = 0;

	for (int i = 0; i < NPAIRS; i++) {
		pthread_mutex_init(&mutexes[i], NULL);
		pthread_cond_init(&conds[i], NULL);
	}
	deadline_ns = now_ns(CLOCK_MONOTONIC) + RUN_NS;

	for (int i = 0; i < NTHREADS; i++)
		if (pthread_create(&t[i], NULL, worker, &results[i]) != 0) {
			fprintf(stderr, "pthread_create %d failed\n", i);
			return 1;
		}
	for (int i = 0; i < NTHREADS; i++)
		pthread_join(t[i], NULL);

	for (int i = 0; i < NTHREADS; i++) {
		total += results[i].iterations;
		bad |= results[i].bad;
	}
	for (int i = 0; i < NPAIRS; i++)
		counted += counters[i];
	if (getenv("STRESS64_VERBOSE"))
		fprintf(stderr, "stress64: %ld iterations\n", total);
	if (bad || total != counted) {
		printf("FAIL bad=%d iterations=%ld counted=%ld\n", bad, total, counted);
		return 1;
	}
	printf("done\n");
	return 0;
}
