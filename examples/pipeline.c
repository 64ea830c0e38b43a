/*
 * pipeline.c - weft's bundled demo: a small multi-threaded pipeline that
 * touches most of what weft records, in about 1-2 seconds.
 *
 * Phase 1: 2 producer threads push numbered items into a bounded ring queue
 * (one pthread mutex + two condvars, not_full / not_empty).  3 consumer
 * threads pop them and "process" each one (a short usleep plus some
 * arithmetic); a counting semaphore lets only 2 consumers process at a
 * time.  Consumers add their results to a stats table guarded by a
 * pthread_rwlock, which a monitor thread (named "monitor" with
 * pthread_setname_np) read-locks periodically, sleeping with nanosleep /
 * usleep in between.
 * Barrier: all 5 workers meet at a pthread_barrier once the queue is
 * drained.
 * Phase 2: producer 0 becomes a pipe writer and consumer 0 a pipe reader;
 * the writer sends fixed-size records (write()) with short sleeps in
 * between, the reader read()s them until EOF and checksums the stream.
 * Finally main writes the summary to a temp file (open / write / fsync /
 * close) and unlinks it.
 *
 * A trace of it must show: 6 threads besides main (one named "monitor"),
 * contention and cond waits/signals on the queue mutex and its two
 * condvars, rwlock read and write acquires on the stats lock, sem waits
 * (some blocking) and posts, one barrier with 5 arrivals and exactly one
 * serial thread, write/read syscalls on the two ends of one pipe ending in
 * a read returning 0, nanosleep and usleep calls, and open/write/fsync/
 * close on the temp file.
 *
 * usage: pipeline [SCALE]   (default 1; work grows linearly with SCALE)
 * stdout is the same on every run for a given SCALE; exit status 0.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define NPRODUCERS 2
#define NCONSUMERS 3
#define NWORKERS (NPRODUCERS + NCONSUMERS)
#define QCAP 8
#define ITEMS_PER_PRODUCER 250    /* times SCALE */
#define PROCESS_US 3000           /* per item, at most 2 at once */
#define PROCESS_SLOTS 2
#define RECORDS 64                /* phase-2 pipe records, times SCALE */
#define RECORD_SIZE 64
#define RECORD_GAP_US 5000
#define MONITOR_MS 20

static long scale = 1;

/* ---- bounded queue ------------------------------------------------------- */

static struct {
	pthread_mutex_t lock;
	pthread_cond_t not_full, not_empty;
	long buf[QCAP];
	int head, count;
	int producers_done;
} q = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.not_full = PTHREAD_COND_INITIALIZER,
	.not_empty = PTHREAD_COND_INITIALIZER,
};

static void queue_push(long item)
{
	pthread_mutex_lock(&q.lock);
	while (q.count == QCAP)
		pthread_cond_wait(&q.not_full, &q.lock);
	q.buf[(q.head + q.count) % QCAP] = item;
	q.count++;
	pthread_cond_signal(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
}

/* The last producer to finish closes the queue. */
static void queue_producer_done(void)
{
	pthread_mutex_lock(&q.lock);
	if (++q.producers_done == NPRODUCERS)
		pthread_cond_broadcast(&q.not_empty);
	pthread_mutex_unlock(&q.lock);
}

/* Returns 0 once the queue is empty and closed. */
static int queue_pop(long *item)
{
	int got = 0;

	pthread_mutex_lock(&q.lock);
	while (q.count == 0 && q.producers_done < NPRODUCERS)
		pthread_cond_wait(&q.not_empty, &q.lock);
	if (q.count > 0) {
		*item = q.buf[q.head];
		q.head = (q.head + 1) % QCAP;
		q.count--;
		pthread_cond_signal(&q.not_full);
		got = 1;
	}
	pthread_mutex_unlock(&q.lock);
	return got;
}

/* ---- shared state -------------------------------------------------------- */

static pthread_rwlock_t stats_lock = PTHREAD_RWLOCK_INITIALIZER;
static struct {
	long items[NCONSUMERS];
	uint64_t sum[NCONSUMERS];
} stats;

static sem_t process_slots;
static pthread_barrier_t phase_barrier;
static int pipefd[2];
static atomic_int monitor_stop;

/* Phase-2 results, written by their threads and read by main after join. */
static long pipe_bytes;
static uint64_t pipe_hash;
static int pipe_error;
static int serial_count;   /* guarded by stats_lock (write) */
static int monitor_error;

static uint64_t process(long item)
{
	uint64_t x = (uint64_t)item * 0x9E3779B97F4A7C15ull;

	x ^= x >> 29;
	return x % 1000003u;
}

static uint64_t fnv1a(uint64_t h, const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		h ^= p[i];
		h *= 0x100000001b3ull;
	}
	return h;
}

static void stats_totals(long *items, uint64_t *sum)
{
	pthread_rwlock_rdlock(&stats_lock);
	*items = 0;
	*sum = 0;
	for (int i = 0; i < NCONSUMERS; i++) {
		*items += stats.items[i];
		*sum += stats.sum[i];
	}
	pthread_rwlock_unlock(&stats_lock);
}

static void between_phases(void)
{
	int rc = pthread_barrier_wait(&phase_barrier);

	if (rc == PTHREAD_BARRIER_SERIAL_THREAD) {
		pthread_rwlock_wrlock(&stats_lock);
		serial_count++;
		pthread_rwlock_unlock(&stats_lock);
	}
}

/* ---- phase 2: the pipe --------------------------------------------------- */

static void pipe_writer(void)
{
	long items;
	uint64_t sum;
	unsigned char rec[RECORD_SIZE];

	stats_totals(&items, &sum);   /* complete: everyone passed the barrier */
	for (long r = 0; r < RECORDS * scale; r++) {
		int n = snprintf((char *)rec, sizeof rec, "record %ld of %ld: items=%ld sum=%llu",
				 r, RECORDS * scale, items, (unsigned long long)sum);
		if (n < 0 || n > (int)sizeof rec - 1)
			n = (int)sizeof rec - 1;
		memset(rec + n, '.', sizeof rec - (size_t)n - 1);
		rec[sizeof rec - 1] = '\n';

		size_t off = 0;
		while (off < sizeof rec) {
			ssize_t w = write(pipefd[1], rec + off, sizeof rec - off);
			if (w < 0) {
				if (errno == EINTR)
					continue;
				pipe_error = 1;
				break;
			}
			off += (size_t)w;
		}
		usleep(RECORD_GAP_US);
	}
	close(pipefd[1]);
}

static void pipe_reader(void)
{
	unsigned char buf[100];
	uint64_t h = 0xcbf29ce484222325ull;
	long total = 0;

	for (;;) {
		ssize_t n = read(pipefd[0], buf, sizeof buf);
		if (n == 0)
			break;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			pipe_error = 1;
			break;
		}
		h = fnv1a(h, buf, (size_t)n);
		total += n;
	}
	close(pipefd[0]);
	pipe_bytes = total;
	pipe_hash = h;
}

/* ---- threads ------------------------------------------------------------- */

static void *producer(void *arg)
{
	long id = (long)arg;
	long n = ITEMS_PER_PRODUCER * scale;

	for (long i = 0; i < n; i++)
		queue_push(id * n + i + 1);   /* items 1 .. NPRODUCERS*n */
	queue_producer_done();

	between_phases();
	if (id == 0)
		pipe_writer();
	return NULL;
}

static void *consumer(void *arg)
{
	long id = (long)arg;
	long item;

	while (queue_pop(&item)) {
		uint64_t v;

		while (sem_wait(&process_slots) != 0)
			;
		usleep(PROCESS_US);
		v = process(item);
		sem_post(&process_slots);

		pthread_rwlock_wrlock(&stats_lock);
		stats.items[id]++;
		stats.sum[id] += v;
		pthread_rwlock_unlock(&stats_lock);
	}

	between_phases();
	if (id == 0)
		pipe_reader();
	return NULL;
}

static void *monitor(void *arg)
{
	long last_items = 0, items;
	uint64_t sum;
	int round = 0;

	(void)arg;
	pthread_setname_np(pthread_self(), "monitor");
	while (!atomic_load(&monitor_stop)) {
		stats_totals(&items, &sum);
		if (items < last_items)
			monitor_error = 1;   /* the table only grows */
		last_items = items;
		if (round++ % 2 == 0) {
			struct timespec ts = { 0, MONITOR_MS * 1000000L };
			nanosleep(&ts, NULL);
		} else {
			usleep(MONITOR_MS * 1000);
		}
	}
	return NULL;
}

/* ---- main ---------------------------------------------------------------- */

static int write_temp_summary(const char *text)
{
	char path[64];
	size_t len = strlen(text), off = 0;
	int fd, ok = 1;

	snprintf(path, sizeof path, "/tmp/weft-pipeline-%d.tmp", (int)getpid());
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600);
	if (fd < 0)
		return 0;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			ok = 0;
			break;
		}
		off += (size_t)w;
	}
	if (fsync(fd) != 0)
		ok = 0;
	if (close(fd) != 0)
		ok = 0;
	if (unlink(path) != 0)
		ok = 0;
	return ok;
}

int main(int argc, char **argv)
{
	pthread_t prod[NPRODUCERS], cons[NCONSUMERS], mon;
	long items, expect_items;
	uint64_t sum, expect_sum = 0;
	char summary[256];
	int ok = 1;

	if (argc > 2) {
		fprintf(stderr, "usage: %s [SCALE]\n", argv[0]);
		return 2;
	}
	if (argc == 2) {
		char *end;
		scale = strtol(argv[1], &end, 10);
		if (*argv[1] == '\0' || *end != '\0' || scale < 1 || scale > 10000) {
			fprintf(stderr, "pipeline: SCALE must be an integer from 1 to 10000\n");
			return 2;
		}
	}

	if (pipe(pipefd) != 0 || sem_init(&process_slots, 0, PROCESS_SLOTS) != 0 ||
	    pthread_barrier_init(&phase_barrier, NULL, NWORKERS) != 0) {
		perror("pipeline: setup");
		return 1;
	}

	if (pthread_create(&mon, NULL, monitor, NULL) != 0)
		return 1;
	for (long i = 0; i < NCONSUMERS; i++)
		if (pthread_create(&cons[i], NULL, consumer, (void *)i) != 0)
			return 1;
	for (long i = 0; i < NPRODUCERS; i++)
		if (pthread_create(&prod[i], NULL, producer, (void *)i) != 0)
			return 1;

	for (int i = 0; i < NPRODUCERS; i++)
		pthread_join(prod[i], NULL);
	for (int i = 0; i < NCONSUMERS; i++)
		pthread_join(cons[i], NULL);
	atomic_store(&monitor_stop, 1);
	pthread_join(mon, NULL);

	/* Check against a sequential recomputation. */
	expect_items = NPRODUCERS * ITEMS_PER_PRODUCER * scale;
	for (long i = 1; i <= expect_items; i++)
		expect_sum += process(i);
	stats_totals(&items, &sum);
	if (items != expect_items || sum != expect_sum || serial_count != 1 ||
	    pipe_error || monitor_error || pipe_bytes != RECORDS * scale * RECORD_SIZE)
		ok = 0;

	snprintf(summary, sizeof summary,
		 "phase 1: %ld items, checksum %016llx\n"
		 "phase 2: %ld bytes through the pipe, checksum %016llx\n",
		 items, (unsigned long long)sum,
		 pipe_bytes, (unsigned long long)pipe_hash);
	if (!write_temp_summary(summary))
		ok = 0;

	printf("pipeline: scale %ld, %d producers, %d consumers\n", scale,
	       NPRODUCERS, NCONSUMERS);
	fputs(summary, stdout);
	if (!ok) {
		printf("pipeline FAILED (items %ld/%ld, serial %d, pipe_error %d, monitor_error %d)\n",
		       items, expect_items, serial_count, pipe_error, monitor_error);
		return 1;
	}
	printf("pipeline ok\n");
	return 0;
}
