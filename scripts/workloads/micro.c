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
 *   micro putc N        putc of one byte to a fully buffered stream on
 *                       /dev/null (one write(2) per 4 KiB)
 *   micro fwrite N      fwrite of 16 bytes to the same kind of stream
 *
 * And the floor a traced event cannot go below, for the same comparison
 * (the 2 variants run the same loop in two threads, a buffer each, and
 * divide the wall time by both threads' operations, as lock2 does):
 *
 *   micro rdtsc1|rdtsc2 N     one read of the time-stamp counter
 *                             (clock_gettime where there is none)
 *   micro append1|append2 N   one 8-byte append to a thread-local buffer
 *                             the size of the tracer's (pointer plus
 *                             offset, store, advance, wrap at the end)
 *   micro clock1|clock2 N     one clock_gettime(CLOCK_MONOTONIC)
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
#endif

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

static uint64_t read_tsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __rdtsc();
#else
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
#endif
}

static void *tsc_reads(void *arg)
{
	uint64_t sum = 0;
	for (long i = 0; i < n; i++)
		sum += read_tsc();
	sink += (long)sum;
	return arg;
}

static void *clock_reads(void *arg)
{
	uint64_t sum = 0;
	struct timespec ts;
	for (long i = 0; i < n; i++) {
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sum += (uint64_t)ts.tv_nsec;
	}
	sink += (long)sum;
	return arg;
}

/* The tracer's default buffer size (WEFT_BUFFER_KB). */
#define APPEND_BUFFER (64 * 1024)

struct append_buffer {
	uint8_t *buf;
	uint32_t pos;
};

static __thread struct append_buffer append_to
	__attribute__((tls_model("initial-exec")));

static void *appends(void *arg)
{
	append_to.buf = malloc(APPEND_BUFFER);
	if (!append_to.buf)
		abort();
	for (long i = 0; i < n; i++) {
		uint64_t v = (uint64_t)i;
		if (append_to.pos + sizeof v > APPEND_BUFFER)
			append_to.pos = 0;
		memcpy(append_to.buf + append_to.pos, &v, sizeof v);
		append_to.pos += sizeof v;
		/* As between the tracer's events: the compiler may not merge
		 * or hoist appends across one. */
		atomic_signal_fence(memory_order_seq_cst);
	}
	sink += append_to.buf[append_to.pos - 1];
	free(append_to.buf);
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

/* Runs fn in one thread or two when w is name1 or name2; 0 if it is not. */
static int floor_loop(const char *w, const char *name, void *(*fn)(void *), double *ops)
{
	size_t len = strlen(name);
	if (strncmp(w, name, len) || (strcmp(w + len, "1") && strcmp(w + len, "2")))
		return 0;
	if (w[len] == '1') {
		fn(NULL);
	} else {
		two_threads(fn);
		*ops = 2.0 * (double)n;
	}
	return 1;
}

int main(int argc, char **argv)
{
	if (argc != 3 || (n = atol(argv[2])) <= 0) {
		fprintf(stderr, "usage: micro lock1|lock2|contended|condpp|devnull|pipe|create|"
				"putc|fwrite|rdtsc1|rdtsc2|append1|append2|clock1|clock2 N\n");
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
	} else if (!strcmp(w, "putc") || !strcmp(w, "fwrite")) {
		FILE *f = fopen("/dev/null", "w");
		if (!f || setvbuf(f, NULL, _IOFBF, 4096))
			return 1;
		for (long i = 0; i < n; i++)
			if (w[1] == 'u' ? putc('x', f) == EOF
					: fwrite("0123456789abcdef", 1, 16, f) != 16)
				return 1;
		fclose(f);
	} else if (!strcmp(w, "create")) {
		for (long i = 0; i < n; i++) {
			pthread_t t;
			pthread_create(&t, NULL, nothing, NULL);
			pthread_join(t, NULL);
		}
	} else if (floor_loop(w, "rdtsc", tsc_reads, &ops) ||
		   floor_loop(w, "append", appends, &ops) ||
		   floor_loop(w, "clock", clock_reads, &ops)) {
	} else {
		fprintf(stderr, "micro: unknown workload %s\n", w);
		return 2;
	}
	printf("%.2f\n", (now_ns() - t0) / ops);
	return 0;
}
