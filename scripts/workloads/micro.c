/*
 * micro.c - benchmark workloads for scripts/bench.  Each runs one kind of
 * operation N times and prints the wall-clock nanoseconds per operation.
 *
 *   micro lock1 N       uncontended lock/unlock pairs, one thread
 *   micro lock2 N       uncontended pairs, two threads, a mutex each
 *   micro contended N   pairs by two threads on one mutex
 *   micro condpp N      signal/wait round trips between two threads
 *   micro devnull N     write(2) of one byte to /dev/null
 *   micro pipe N        one byte written to and read from a pipe
 *   micro create N      thread create + join
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long n;
static pthread_mutex_t shared = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t pp_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t pp_cond = PTHREAD_COND_INITIALIZER;
static long pp_turn;
static volatile long sink;

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void *own_mutex(void *arg)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&m);
		sink++;
		pthread_mutex_unlock(&m);
	}
	return arg;
}

static void *shared_mutex(void *arg)
{
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&shared);
		sink++;
		pthread_mutex_unlock(&shared);
	}
	return arg;
}

/* Player `me` (0 or 1) waits for its turn, then passes it on. */
static void *ping_pong(void *arg)
{
	long me = (long)arg;
	for (long i = 0; i < n; i++) {
		pthread_mutex_lock(&pp_lock);
		while (pp_turn % 2 != me)
			pthread_cond_wait(&pp_cond, &pp_lock);
		pp_turn++;
		pthread_cond_signal(&pp_cond);
		pthread_mutex_unlock(&pp_lock);
	}
	return arg;
}

static void *nothing(void *arg)
{
	return arg;
}

static void two_threads(void *(*fn)(void *))
{
	pthread_t a, b;
	pthread_create(&a, NULL, fn, (void *)0L);
	pthread_create(&b, NULL, fn, (void *)1L);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
}

int main(int argc, char **argv)
{
	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: micro lock1|lock2|contended|condpp|devnull|pipe|create N\n");
		return 2;
	}
	const char *w = argv[1];
	double ops = (double)n;
	double t0 = now_ns();
	if (!strcmp(w, "lock1")) {
		own_mutex(NULL);
	} else if (!strcmp(w, "lock2")) {
		two_threads(own_mutex);
		ops = 2.0 * (double)n;
	} else if (!strcmp(w, "contended")) {
		two_threads(shared_mutex);
		ops = 2.0 * (double)n;
	} else if (!strcmp(w, "condpp")) {
		two_threads(ping_pong);
		ops = 2.0 * (double)n;
	} else if (!strcmp(w, "devnull")) {
		int fd = open("/dev/null", O_WRONLY);
		for (long i = 0; i < n; i++)
			if (write(fd, "x", 1) != 1)
				return 1;
	} else if (!strcmp(w, "pipe")) {
		int fds[2];
		char c;
		if (pipe(fds))
			return 1;
		for (long i = 0; i < n; i++)
			if (write(fds[1], "x", 1) != 1 || read(fds[0], &c, 1) != 1)
				return 1;
	} else if (!strcmp(w, "create")) {
		for (long i = 0; i < n; i++) {
			pthread_t t;
			pthread_create(&t, NULL, nothing, NULL);
			pthread_join(t, NULL);
		}
	} else {
		fprintf(stderr, "micro: unknown workload %s\n", w);
		return 2;
	}
	printf("%.2f\n", (now_ns() - t0) / ops);
	return 0;
}
