/*
 * stress_all.c - every kind of object weft traces, used at once by more
 * threads than there are cores, for as long as asked; for scripts/stress,
 * which rotates generations and switches tracing while it runs.
 *
 *   mutex    four accounts: single locks, timed locks, and transfers that
 *            take a pair (in address order, or the reverse order with a
 *            trylock that backs off)
 *   rwlock   a read-mostly table (rdlock, tryrdlock, timedrdlock, some
 *            wrlocks) and a write-mostly log (wrlock, trywrlock,
 *            timedwrlock, some rdlocks)
 *   spin     lock and trylock on a shared counter
 *   sem      a bounded buffer: posters wait for a free slot and post an
 *            item, waiters take items with sem_wait, sem_trywait and
 *            sem_timedwait and post the slot back
 *   cond     a mailbox signalled with its mutex held and without it, waited
 *            for with wait and timedwait; a phase broadcast (held and not)
 *            waited for with wait and timedwait
 *   barrier  several rounds, threads arriving after random delays; the
 *            serial thread decides whether another round follows
 *   threads  churn: created and joined, ending by return or pthread_exit,
 *            and detached (by attribute or by pthread_detach)
 *   syscalls pipe write/read streams read after poll, a pipe ping-pong,
 *            nanosleep
 *
 * `stress_all [SECONDS]` (default 5; a decimal, at least 0.01).  Every
 * thread stops when the time is over; the waiters are woken by the
 * shutdown, so the program ends within a few milliseconds of it.  stdout:
 * one summary line of what was done; exit 0.  Any call that fails in a
 * way it should not, or a broken invariant, is reported on stderr and the
 * exit status is 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ---- helpers ------------------------------------------------------------- */

static void fail(const char *what, int err)
{
	fprintf(stderr, "stress_all: %s: %s\n", what, strerror(err));
	exit(1);
}

/* For pthread_* calls: 0 or an error number. */
#define OK(call)                                        \
	do {                                            \
		int r_ = (call);                        \
		if (r_ != 0)                            \
			fail(#call, r_);                \
	} while (0)

/* For calls that return -1 and set errno. */
#define OK_RET(call)                                    \
	do {                                            \
		if ((call) != 0)                        \
			fail(#call, errno);             \
	} while (0)

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0)
		if (errno != EINTR)
			fail("nanosleep", errno);
}

/* An absolute CLOCK_REALTIME deadline us microseconds from now. */
static struct timespec deadline_us(long us)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += us * 1000;
	ts.tv_sec += ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

/* A different random sequence for each thread and each run. */
static unsigned seed_for(const void *p)
{
	return (unsigned)((uintptr_t)p * 2654435761u) ^ (unsigned)getpid();
}

static atomic_int stopping;

static int running(void)
{
	return !atomic_load_explicit(&stopping, memory_order_acquire);
}

/* What each thread did; each thread owns one, main adds them up after
 * joining (the churned threads count into atomics). */
enum {
	C_MUTEX, C_MUTEX_TIMED, C_PAIR, C_PAIR_BACKOFF,
	C_RM_READ, C_RM_WRITE, C_WM_READ, C_WM_WRITE, C_RW_BUSY, C_RW_TIMEDOUT,
	C_SPIN, C_SPIN_BUSY,
	C_SEM_POST, C_SEM_WAIT, C_SEM_TRY, C_SEM_TRY_EMPTY, C_SEM_TIMED,
	C_SEM_TIMEDOUT,
	C_SIGNAL_HELD, C_SIGNAL_FREE, C_BROADCAST, C_COND_WAIT, C_COND_TIMEDOUT,
	C_BARRIER_ROUNDS,
	C_PIPE_BYTES, C_POLLS, C_PINGPONG, C_SLEEPS,
	C_COUNT
};
struct counts {
	long n[C_COUNT];
};

/* The busy threads rest now and then (one time in REST_ONE_IN, up to
 * REST_MAX_US), so that the run queue stays short enough for the other
 * threads, and weft's control thread, to be scheduled often. */
#ifndef REST_ONE_IN
#define REST_ONE_IN 2
#endif
#ifndef REST_MAX_US
#define REST_MAX_US 200
#endif
static void rest(unsigned *seed, struct counts *c)
{
	if (rand_r(seed) % REST_ONE_IN == 0) {
		sleep_us(rand_r(seed) % REST_MAX_US);
		c->n[C_SLEEPS]++;
	}
}

/* ---- mutexes: accounts and transfers -------------------------------------- */

#define ACCOUNTS 4
#define START_BALANCE 1000000L
static pthread_mutex_t account_lock[ACCOUNTS] = {
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
	PTHREAD_MUTEX_INITIALIZER, PTHREAD_MUTEX_INITIALIZER,
};
static long balance[ACCOUNTS] = { START_BALANCE, START_BALANCE, START_BALANCE,
				  START_BALANCE };
static long deposits; /* under account_lock[0] */

static void *mutex_worker(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		int a = rand_r(&seed) % ACCOUNTS, b = rand_r(&seed) % ACCOUNTS;
		switch (rand_r(&seed) % 6) {
		case 0: /* a single lock */
			OK(pthread_mutex_lock(&account_lock[0]));
			deposits++;
			OK(pthread_mutex_unlock(&account_lock[0]));
			c->n[C_MUTEX]++;
			break;
		case 1: { /* a timed lock that may time out */
			struct timespec until = deadline_us(200);
			int r = pthread_mutex_timedlock(&account_lock[a], &until);
			if (r == 0) {
				long seen = balance[a];
				(void)seen;
				OK(pthread_mutex_unlock(&account_lock[a]));
			} else if (r != ETIMEDOUT) {
				fail("pthread_mutex_timedlock", r);
			}
			c->n[C_MUTEX_TIMED]++;
			break;
		}
		case 2: case 3: /* a pair, taken in index order */
			if (a == b)
				break;
			OK(pthread_mutex_lock(&account_lock[a < b ? a : b]));
			OK(pthread_mutex_lock(&account_lock[a < b ? b : a]));
			balance[a] -= 7;
			balance[b] += 7;
			OK(pthread_mutex_unlock(&account_lock[a < b ? b : a]));
			OK(pthread_mutex_unlock(&account_lock[a < b ? a : b]));
			c->n[C_PAIR]++;
			break;
		default: { /* a pair in the reverse order: the second by trylock */
			if (a == b)
				break;
			int hi = a < b ? b : a, lo = a < b ? a : b;
			for (;;) {
				OK(pthread_mutex_lock(&account_lock[hi]));
				int r = pthread_mutex_trylock(&account_lock[lo]);
				if (r == 0)
					break;
				if (r != EBUSY)
					fail("pthread_mutex_trylock", r);
				OK(pthread_mutex_unlock(&account_lock[hi]));
				c->n[C_PAIR_BACKOFF]++;
				sched_yield();
			}
			balance[a] -= 3;
			balance[b] += 3;
			OK(pthread_mutex_unlock(&account_lock[lo]));
			OK(pthread_mutex_unlock(&account_lock[hi]));
			c->n[C_PAIR]++;
		}
		}
		rest(&seed, c);
	}
	return NULL;
}

/* ---- rwlocks: one read-mostly, one write-mostly ----------------------------- */

static pthread_rwlock_t table_lock = PTHREAD_RWLOCK_INITIALIZER; /* read-mostly */
static long table[16];
static pthread_rwlock_t log_lock = PTHREAD_RWLOCK_INITIALIZER;   /* write-mostly */
static long log_entries[64];
static long log_length;

/* Takes l for reading or writing, by the blocking, try or timed call. */
static int rw_take(pthread_rwlock_t *l, int write, unsigned *seed, struct counts *c)
{
	int how = rand_r(seed) % 4, r;
	if (how == 0) {
		r = write ? pthread_rwlock_trywrlock(l) : pthread_rwlock_tryrdlock(l);
		if (r == EBUSY) {
			c->n[C_RW_BUSY]++;
			return 0;
		}
	} else if (how == 1) {
		struct timespec until = deadline_us(300);
		r = write ? pthread_rwlock_timedwrlock(l, &until)
			  : pthread_rwlock_timedrdlock(l, &until);
		if (r == ETIMEDOUT) {
			c->n[C_RW_TIMEDOUT]++;
			return 0;
		}
	} else {
		r = write ? pthread_rwlock_wrlock(l) : pthread_rwlock_rdlock(l);
	}
	if (r != 0)
		fail("taking an rwlock", r);
	return 1;
}

static void *rwlock_worker(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		int i = rand_r(&seed) % 16;
		/* Read-mostly: one write in ten. */
		int write = rand_r(&seed) % 10 == 0;
		if (rw_take(&table_lock, write, &seed, c)) {
			if (write) {
				table[i]++;
				c->n[C_RM_WRITE]++;
			} else {
				long sum = 0;
				for (int k = 0; k < 16; k++)
					sum += table[k];
				(void)sum;
				c->n[C_RM_READ]++;
			}
			OK(pthread_rwlock_unlock(&table_lock));
		}
		/* Write-mostly: one read in five. */
		write = rand_r(&seed) % 5 != 0;
		if (rw_take(&log_lock, write, &seed, c)) {
			if (write) {
				log_entries[log_length++ % 64] = i;
				c->n[C_WM_WRITE]++;
			} else {
				(void)log_entries[log_length % 64];
				c->n[C_WM_READ]++;
			}
			OK(pthread_rwlock_unlock(&log_lock));
		}
		rest(&seed, c);
	}
	return NULL;
}

/* ---- spin lock ------------------------------------------------------------------ */

static pthread_spinlock_t spin;
static long spin_counter;

static void *spin_worker(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		if (rand_r(&seed) % 3 == 0) {
			int r = pthread_spin_trylock(&spin);
			if (r == EBUSY) {
				c->n[C_SPIN_BUSY]++;
				continue;
			}
			if (r != 0)
				fail("pthread_spin_trylock", r);
		} else {
			OK(pthread_spin_lock(&spin));
		}
		spin_counter++;
		OK(pthread_spin_unlock(&spin));
		c->n[C_SPIN]++;
		rest(&seed, c);
	}
	return NULL;
}

/* ---- semaphores: a bounded buffer ---------------------------------------------- */

#define SLOTS 4
static sem_t free_slots, items;

static void *sem_poster(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		while (sem_wait(&free_slots) != 0)
			if (errno != EINTR)
				fail("sem_wait", errno);
		c->n[C_SEM_WAIT]++;
		OK_RET(sem_post(&items));
		c->n[C_SEM_POST]++;
		rest(&seed, c);
	}
	return NULL;
}

static void *sem_waiter(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		int how = rand_r(&seed) % 3, r;
		if (how == 0) {
			r = sem_wait(&items);
			c->n[C_SEM_WAIT]++;
		} else if (how == 1) {
			r = sem_trywait(&items);
			c->n[C_SEM_TRY]++;
			if (r != 0 && errno == EAGAIN) {
				c->n[C_SEM_TRY_EMPTY]++;
				sleep_us(20);
				continue;
			}
		} else {
			struct timespec until = deadline_us(500);
			r = sem_timedwait(&items, &until);
			c->n[C_SEM_TIMED]++;
			if (r != 0 && errno == ETIMEDOUT) {
				c->n[C_SEM_TIMEDOUT]++;
				continue;
			}
		}
		if (r != 0) {
			if (errno == EINTR)
				continue;
			fail("waiting for an item", errno);
		}
		OK_RET(sem_post(&free_slots));
		c->n[C_SEM_POST]++;
	}
	return NULL;
}

/* ---- condition variables: a mailbox and a phase ------------------------------- */

static pthread_mutex_t mail_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t mail_cond = PTHREAD_COND_INITIALIZER;
static long mail; /* letters waiting, under mail_lock */

static pthread_mutex_t phase_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t phase_cond = PTHREAD_COND_INITIALIZER;
static long phase; /* under phase_lock */

static void *cond_signaller(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		OK(pthread_mutex_lock(&mail_lock));
		int full = mail >= 64;
		if (!full)
			mail++;
		if (rand_r(&seed) % 2 && !full) {
			OK(pthread_cond_signal(&mail_cond));
			c->n[C_SIGNAL_HELD]++;
			OK(pthread_mutex_unlock(&mail_lock));
		} else {
			OK(pthread_mutex_unlock(&mail_lock));
			OK(pthread_cond_signal(&mail_cond));
			c->n[C_SIGNAL_FREE]++;
		}
		sleep_us(rand_r(&seed) % 100);
		c->n[C_SLEEPS]++;
	}
	return NULL;
}

static void *cond_waiter(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		OK(pthread_mutex_lock(&mail_lock));
		while (mail == 0 && running()) {
			c->n[C_COND_WAIT]++;
			if (rand_r(&seed) % 2) {
				OK(pthread_cond_wait(&mail_cond, &mail_lock));
			} else {
				struct timespec until = deadline_us(400);
				int r = pthread_cond_timedwait(&mail_cond, &mail_lock, &until);
				if (r == ETIMEDOUT)
					c->n[C_COND_TIMEDOUT]++;
				else if (r != 0)
					fail("pthread_cond_timedwait", r);
			}
		}
		if (mail > 0)
			mail--;
		OK(pthread_mutex_unlock(&mail_lock));
	}
	return NULL;
}

static void *broadcaster(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		OK(pthread_mutex_lock(&phase_lock));
		phase++;
		if (rand_r(&seed) % 2) {
			OK(pthread_cond_broadcast(&phase_cond));
			OK(pthread_mutex_unlock(&phase_lock));
		} else {
			OK(pthread_mutex_unlock(&phase_lock));
			OK(pthread_cond_broadcast(&phase_cond));
		}
		c->n[C_BROADCAST]++;
		sleep_us(100 + rand_r(&seed) % 400);
		c->n[C_SLEEPS]++;
	}
	return NULL;
}

static void *phase_waiter(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	OK(pthread_mutex_lock(&phase_lock));
	long seen = phase;
	while (running()) {
		c->n[C_COND_WAIT]++;
		if (rand_r(&seed) % 3) {
			OK(pthread_cond_wait(&phase_cond, &phase_lock));
		} else {
			struct timespec until = deadline_us(300);
			int r = pthread_cond_timedwait(&phase_cond, &phase_lock, &until);
			if (r == ETIMEDOUT)
				c->n[C_COND_TIMEDOUT]++;
			else if (r != 0)
				fail("pthread_cond_timedwait", r);
		}
		if (phase != seen && rand_r(&seed) % 4 == 0) {
			/* Off the lock for a while: some broadcasts find this
			 * thread not waiting. */
			seen = phase;
			OK(pthread_mutex_unlock(&phase_lock));
			sleep_us(rand_r(&seed) % 300);
			c->n[C_SLEEPS]++;
			OK(pthread_mutex_lock(&phase_lock));
		}
		seen = phase;
	}
	OK(pthread_mutex_unlock(&phase_lock));
	return NULL;
}

/* ---- barrier ---------------------------------------------------------------------- */

#define BARRIER_THREADS 4
static pthread_barrier_t barrier;
static int last_round; /* written by the serial thread between two waits */

static void *barrier_worker(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	for (;;) {
		/* Arrive at different times. */
		sleep_us(rand_r(&seed) % 1000);
		c->n[C_SLEEPS]++;
		int r = pthread_barrier_wait(&barrier);
		if (r == PTHREAD_BARRIER_SERIAL_THREAD)
			last_round = !running();
		else if (r != 0)
			fail("pthread_barrier_wait", r);
		/* The decision is read by all only after everyone has
		 * passed the second wait, which orders it. */
		r = pthread_barrier_wait(&barrier);
		if (r != 0 && r != PTHREAD_BARRIER_SERIAL_THREAD)
			fail("pthread_barrier_wait", r);
		c->n[C_BARRIER_ROUNDS]++;
		if (last_round)
			break;
		/* Nobody writes last_round again before all have read it:
		 * the serial thread writes it only after the next round's
		 * first wait. */
	}
	return NULL;
}

/* ---- thread churn ------------------------------------------------------------------ */

static pthread_mutex_t churn_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t churn_cond = PTHREAD_COND_INITIALIZER;
static long churned_work;     /* under churn_lock */
static int detached_live;     /* under churn_lock */
static atomic_long created, joined, exited_early, detached;

static void churned_body(void)
{
	OK(pthread_mutex_lock(&churn_lock));
	churned_work++;
	OK(pthread_mutex_unlock(&churn_lock));
}

static void *churned_return(void *arg)
{
	churned_body();
	return arg;
}

static void *churned_exit(void *arg)
{
	churned_body();
	sleep_us(10);
	pthread_exit(arg);
}

static void *churned_detached(void *arg)
{
	(void)arg;
	churned_body();
	sleep_us(50);
	OK(pthread_mutex_lock(&churn_lock));
	detached_live--;
	OK(pthread_cond_broadcast(&churn_cond));
	OK(pthread_mutex_unlock(&churn_lock));
	return NULL;
}

static void start_detached(int by_attribute)
{
	pthread_t t;
	OK(pthread_mutex_lock(&churn_lock));
	detached_live++;
	OK(pthread_mutex_unlock(&churn_lock));
	if (by_attribute) {
		pthread_attr_t attr;
		OK(pthread_attr_init(&attr));
		OK(pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED));
		OK(pthread_create(&t, &attr, churned_detached, NULL));
		OK(pthread_attr_destroy(&attr));
	} else {
		OK(pthread_create(&t, NULL, churned_detached, NULL));
		OK(pthread_detach(t));
	}
	atomic_fetch_add(&created, 1);
	atomic_fetch_add(&detached, 1);
}

static void *churner(void *arg)
{
	struct counts *c = arg;
	unsigned seed = seed_for(arg);
	while (running()) {
		pthread_t t[3];
		OK(pthread_create(&t[0], NULL, churned_return, (void *)1));
		OK(pthread_create(&t[1], NULL, churned_exit, (void *)2));
		OK(pthread_create(&t[2], NULL, churned_return, (void *)3));
		atomic_fetch_add(&created, 3);
		start_detached(rand_r(&seed) % 2);
		for (int i = 0; i < 3; i++) {
			void *v;
			OK(pthread_join(t[i], &v));
			if (v != (void *)(uintptr_t)(i + 1)) {
				fprintf(stderr, "stress_all: thread %d returned %p\n", i, v);
				exit(1);
			}
		}
		atomic_fetch_add(&joined, 3);
		atomic_fetch_add(&exited_early, 1);
		/* Detached threads outlive this loop for a while; keep their
		 * number bounded. */
		OK(pthread_mutex_lock(&churn_lock));
		while (detached_live > 8)
			OK(pthread_cond_wait(&churn_cond, &churn_lock));
		OK(pthread_mutex_unlock(&churn_lock));
		sleep_us(rand_r(&seed) % 300);
		c->n[C_SLEEPS]++;
	}
	return NULL;
}

/* ---- pipes: a stream read after poll, and a ping-pong ----------------------------- */

struct stream {
	int fds[2];
	struct counts *c;
};

static void *stream_writer(void *arg)
{
	struct stream *s = arg;
	unsigned seed = seed_for(s->c);
	char buf[64];
	memset(buf, 'w', sizeof buf);
	while (running()) {
		size_t n = 1 + (size_t)(rand_r(&seed) % sizeof buf);
		ssize_t w = write(s->fds[1], buf, n);
		if (w < 0 && errno != EINTR)
			fail("write to a pipe", errno);
		if (rand_r(&seed) % 2) {
			sleep_us(rand_r(&seed) % 200);
			s->c->n[C_SLEEPS]++;
		}
	}
	OK_RET(close(s->fds[1])); /* the reader sees the end */
	return NULL;
}

static void *stream_reader(void *arg)
{
	struct stream *s = arg;
	char buf[256];
	for (;;) {
		struct pollfd p = { s->fds[0], POLLIN, 0 };
		int r = poll(&p, 1, 5);
		s->c->n[C_POLLS]++;
		if (r < 0 && errno != EINTR)
			fail("poll", errno);
		if (r <= 0)
			continue;
		ssize_t n = read(s->fds[0], buf, sizeof buf);
		if (n < 0 && errno != EINTR)
			fail("read from a pipe", errno);
		if (n == 0)
			break;
		if (n > 0)
			s->c->n[C_PIPE_BYTES] += n;
	}
	OK_RET(close(s->fds[0]));
	return NULL;
}

struct pingpong {
	int there[2], back[2];
	struct counts *c;
};

static void read_exactly(int fd, char *buf, size_t n, const char *what)
{
	while (n > 0) {
		ssize_t r = read(fd, buf, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			fprintf(stderr, "stress_all: %s: %s\n", what,
				r == 0 ? "end of file" : strerror(errno));
			exit(1);
		}
		buf += r;
		n -= (size_t)r;
	}
}

static void *ping(void *arg)
{
	struct pingpong *p = arg;
	char ball = 0, got;
	while (running()) {
		ball++;
		if (write(p->there[1], &ball, 1) != 1)
			fail("write to a pipe", errno);
		read_exactly(p->back[0], &got, 1, "reading the pong");
		if (got != ball) {
			fprintf(stderr, "stress_all: ping-pong out of step\n");
			exit(1);
		}
		p->c->n[C_PINGPONG]++;
	}
	/* pong sees the end, and sends nothing more. */
	OK_RET(close(p->there[1]));
	OK_RET(close(p->back[0]));
	return NULL;
}

static void *pong(void *arg)
{
	struct pingpong *p = arg;
	char ball;
	for (;;) {
		ssize_t r = read(p->there[0], &ball, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail("read from a pipe", errno);
		if (r == 0)
			break;
		if (write(p->back[1], &ball, 1) != 1)
			fail("write to a pipe", errno);
	}
	OK_RET(close(p->there[0]));
	OK_RET(close(p->back[1]));
	return NULL;
}

/* ---- main ----------------------------------------------------------------------------- */

#define MUTEX_WORKERS 4
#define RWLOCK_WORKERS 4
#define SPIN_WORKERS 2
#define SEM_POSTERS 3
#define SEM_WAITERS 3
#define COND_SIGNALLERS 2
#define COND_WAITERS 3
#define PHASE_WAITERS 3
#define STREAMS 2
#define MAX_THREADS 64

static pthread_t threads[MAX_THREADS];
static struct counts counts[MAX_THREADS];
static int nthreads;

static void start(void *(*fn)(void *), void *arg)
{
	if (nthreads == MAX_THREADS) {
		fprintf(stderr, "stress_all: more than %d threads\n", MAX_THREADS);
		exit(1);
	}
	OK(pthread_create(&threads[nthreads], NULL, fn, arg));
	nthreads++;
}

/* A counts record of its own for the next thread started. */
static struct counts *next_counts(void)
{
	return &counts[nthreads];
}

int main(int argc, char **argv)
{
	char *end = NULL;
	double seconds = argc > 1 ? strtod(argv[1], &end) : 5;
	if (argc > 2 || (end && *end) || !(seconds >= 0.01 && seconds <= 86400)) {
		fprintf(stderr, "usage: stress_all [SECONDS]   (0.01 to 86400, default 5)\n");
		return 2;
	}
	OK(pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE));
	OK_RET(sem_init(&free_slots, 0, SLOTS));
	OK_RET(sem_init(&items, 0, 0));
	OK(pthread_barrier_init(&barrier, NULL, BARRIER_THREADS));
	static struct stream streams[STREAMS];
	static struct pingpong pp;

	for (int i = 0; i < MUTEX_WORKERS; i++)
		start(mutex_worker, next_counts());
	for (int i = 0; i < RWLOCK_WORKERS; i++)
		start(rwlock_worker, next_counts());
	for (int i = 0; i < SPIN_WORKERS; i++)
		start(spin_worker, next_counts());
	for (int i = 0; i < SEM_POSTERS; i++)
		start(sem_poster, next_counts());
	for (int i = 0; i < SEM_WAITERS; i++)
		start(sem_waiter, next_counts());
	for (int i = 0; i < COND_SIGNALLERS; i++)
		start(cond_signaller, next_counts());
	for (int i = 0; i < COND_WAITERS; i++)
		start(cond_waiter, next_counts());
	start(broadcaster, next_counts());
	for (int i = 0; i < PHASE_WAITERS; i++)
		start(phase_waiter, next_counts());
	for (int i = 0; i < BARRIER_THREADS; i++)
		start(barrier_worker, next_counts());
	start(churner, next_counts());
	for (int i = 0; i < STREAMS; i++) {
		OK_RET(pipe(streams[i].fds));
		streams[i].c = next_counts();
		start(stream_writer, &streams[i]);
		start(stream_reader, &streams[i]);
	}
	OK_RET(pipe(pp.there));
	OK_RET(pipe(pp.back));
	pp.c = next_counts();
	start(ping, &pp);
	start(pong, &pp);
	int workers = nthreads;

	sleep_us((long)(seconds * 1e6));
	atomic_store_explicit(&stopping, 1, memory_order_release);

	/* Wake every waiter that may be blocked for good now: one post per
	 * thread that may wait on each semaphore (each does at most one more
	 * wait after seeing the stop), and a broadcast on each condvar under
	 * its mutex, so none can miss it between its check and its wait. */
	for (int i = 0; i < SEM_POSTERS; i++)
		OK_RET(sem_post(&free_slots));
	for (int i = 0; i < SEM_WAITERS; i++)
		OK_RET(sem_post(&items));
	OK(pthread_mutex_lock(&mail_lock));
	OK(pthread_cond_broadcast(&mail_cond));
	OK(pthread_mutex_unlock(&mail_lock));
	OK(pthread_mutex_lock(&phase_lock));
	OK(pthread_cond_broadcast(&phase_cond));
	OK(pthread_mutex_unlock(&phase_lock));

	struct counts total = { { 0 } };
	for (int i = 0; i < nthreads; i++)
		OK(pthread_join(threads[i], NULL));
	for (int i = 0; i < nthreads; i++)
		for (int k = 0; k < C_COUNT; k++)
			total.n[k] += counts[i].n[k];
	/* The detached threads say when they are done with everything but
	 * returning. */
	OK(pthread_mutex_lock(&churn_lock));
	while (detached_live > 0)
		OK(pthread_cond_wait(&churn_cond, &churn_lock));
	OK(pthread_mutex_unlock(&churn_lock));

	long sum = 0;
	for (int i = 0; i < ACCOUNTS; i++)
		sum += balance[i];
	if (sum != ACCOUNTS * START_BALANCE) {
		fprintf(stderr, "stress_all: the accounts hold %ld, not %ld\n", sum,
			ACCOUNTS * START_BALANCE);
		return 1;
	}
	long *n = total.n;
	printf("stress_all: %.2f s, %d threads + %ld churned (%ld joined, %ld of "
	       "them ended by pthread_exit; %ld detached); mutex %ld (timed %ld, pairs %ld, "
	       "backoffs %ld); rwlock read-mostly %ld r / %ld w, write-mostly "
	       "%ld r / %ld w (%ld busy, %ld timed out); spin %ld (%ld busy); "
	       "sem %ld posts, %ld waits, %ld trywaits (%ld empty), %ld timedwaits "
	       "(%ld timed out); cond %ld signals held, %ld signals unheld, %ld "
	       "broadcasts, %ld waits (%ld timed out); barrier %ld rounds; pipe "
	       "%ld bytes, %ld polls, %ld ping-pongs; %ld sleeps\n",
	       seconds, workers + 1, atomic_load(&created), atomic_load(&joined),
	       atomic_load(&exited_early), atomic_load(&detached),
	       n[C_MUTEX], n[C_MUTEX_TIMED], n[C_PAIR], n[C_PAIR_BACKOFF],
	       n[C_RM_READ], n[C_RM_WRITE], n[C_WM_READ], n[C_WM_WRITE],
	       n[C_RW_BUSY], n[C_RW_TIMEDOUT], n[C_SPIN], n[C_SPIN_BUSY],
	       n[C_SEM_POST], n[C_SEM_WAIT], n[C_SEM_TRY], n[C_SEM_TRY_EMPTY],
	       n[C_SEM_TIMED], n[C_SEM_TIMEDOUT], n[C_SIGNAL_HELD],
	       n[C_SIGNAL_FREE], n[C_BROADCAST], n[C_COND_WAIT],
	       n[C_COND_TIMEDOUT], n[C_BARRIER_ROUNDS] / BARRIER_THREADS,
	       n[C_PIPE_BYTES], n[C_POLLS], n[C_PINGPONG], n[C_SLEEPS]);
	return 0;
}
