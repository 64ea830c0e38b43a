/*
 * stress_mix.c - a workload for start/stop tests: 16 worker threads mix
 * mutexes, condition variables, a rwlock, a semaphore, a barrier, a pipe
 * and sleeps, while a churn thread keeps creating and joining short-lived
 * threads.  Runs for about the milliseconds given (default 2000), or with
 * "-" until its stdin ends, in epochs of 20 ms, the workers meeting at a
 * barrier after each, then stops every thread cleanly and prints "done".
 *
 * Any start or stop of tracing may land anywhere in this; every session of
 * the resulting trace must check.
 */
#include <limits.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define WORKERS 16

static pthread_mutex_t locks[4] = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
				    PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER };
static pthread_cond_t conds[4] = { PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER,
				   PTHREAD_COND_INITIALIZER, PTHREAD_COND_INITIALIZER };
static long counters[4];
static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER;
static long table[16];
static sem_t slots;
static pthread_barrier_t barrier;
static int pipe_fds[2];
static atomic_int stopping;
static long epochs;             /* LONG_MAX: until stop_requested */
static atomic_int stop_requested;
static int last_epoch;          /* decided at each epoch's barrier */

static void short_sleep(long us)
{
	struct timespec ts = { 0, us * 1000 };
	nanosleep(&ts, NULL);
}

static long now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* One unit of mixed work. */
static void work(long id, unsigned *seedp)
{
	unsigned seed = *seedp;
	{
		int i = rand_r(&seed) % 4;
		(void)id;
		switch (rand_r(&seed) % 8) {
		case 0: case 1:
			pthread_mutex_lock(&locks[i]);
			counters[i]++;
			pthread_cond_signal(&conds[i]);
			pthread_mutex_unlock(&locks[i]);
			break;
		case 2: {
			struct timespec until;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_nsec += 200000;
			if (until.tv_nsec >= 1000000000) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000;
			}
			pthread_mutex_lock(&locks[i]);
			pthread_cond_timedwait(&conds[i], &locks[i], &until);
			pthread_mutex_unlock(&locks[i]);
			break;
		}
		case 3:
			pthread_rwlock_rdlock(&table_lock);
			(void)table[i];
			pthread_rwlock_unlock(&table_lock);
			break;
		case 4:
			pthread_rwlock_wrlock(&table_lock);
			table[i]++;
			pthread_rwlock_unlock(&table_lock);
			break;
		case 5:
			sem_wait(&slots);
			short_sleep(50);
			sem_post(&slots);
			break;
		case 6: {
			char byte = (char)id;
			if (write(pipe_fds[1], &byte, 1) == 1) {
				char got;
				if (read(pipe_fds[0], &got, 1) != 1)
					abort();
			}
			break;
		}
		default:
			short_sleep(100);
		}
	}
	*seedp = seed;
}

/* Whether the epoch that just ended was the last: one worker decides
 * between two barriers, so every worker runs the same number of epochs
 * and the barrier always completes. */
static int epoch_was_last(long e)
{
	if (pthread_barrier_wait(&barrier) == PTHREAD_BARRIER_SERIAL_THREAD)
		last_epoch = e + 1 >= epochs || atomic_load(&stop_requested);
	pthread_barrier_wait(&barrier);
	return last_epoch;
}

static void *worker(void *arg)
{
	long id = (long)arg;
	unsigned seed = (unsigned)id * 2654435761u;
	for (long e = 0;; e++) {
		long until = now_ms() + 20;
		while (now_ms() < until)
			work(id, &seed);
		if (epoch_was_last(e))
			break;
	}
	return NULL;
}

static void *short_lived(void *arg)
{
	pthread_mutex_lock(&locks[0]);
	counters[0]++;
	pthread_mutex_unlock(&locks[0]);
	return arg;
}

static void *churn(void *arg)
{
	(void)arg;
	while (!atomic_load(&stopping)) {
		pthread_t t[4];
		for (int i = 0; i < 4; i++)
			pthread_create(&t[i], NULL, short_lived, NULL);
		for (int i = 0; i < 4; i++)
			pthread_join(t[i], NULL);
		short_sleep(500);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	int until_eof = argc > 1 && !strcmp(argv[1], "-");
	long ms = argc > 1 ? atol(argv[1]) : 2000;
	epochs = until_eof ? LONG_MAX : ms / 20 > 0 ? ms / 20 : 1;
	sem_init(&slots, 0, 3);
	pthread_barrier_init(&barrier, NULL, WORKERS);
	if (pipe(pipe_fds) != 0)
		return 1;
	pthread_t workers[WORKERS], churner;
	for (long i = 0; i < WORKERS; i++)
		pthread_create(&workers[i], NULL, worker, (void *)i);
	pthread_create(&churner, NULL, churn, NULL);
	if (until_eof) {
		char line[64];
		while (fgets(line, sizeof line, stdin))
			;
		atomic_store(&stop_requested, 1);
	}
	for (int i = 0; i < WORKERS; i++)
		pthread_join(workers[i], NULL);
	atomic_store(&stopping, 1);
	pthread_join(churner, NULL);
	printf("done\n");
	return 0;
}
