/*
 * deadlocks.c - a process left hung in a known way, for what `weft stats`
 * says about the end of its trace (tests/test_deadlock.c).  The argument
 * picks the way:
 *
 *   abba    T2 in take_a_then_b() holds account_lock and waits for
 *           ledger_lock; T3 in take_b_then_a() holds ledger_lock and waits
 *           for account_lock (a barrier between their first and second
 *           locks makes it certain); T4 in hold_and_pause() takes
 *           spare_lock and pauses without a traced call (its acquisition
 *           is the last record it writes); T5 in queue_for_account()
 *           waits for account_lock behind the deadlock
 *   three   T2, T3, T4 each hold one of first_lock, second_lock,
 *           third_lock and wait for the next one (take_first_second(),
 *           take_second_third(), take_third_first())
 *   rwlock  T2 in read_then_lock() holds table_rwlock for reading and
 *           waits for index_lock; T3 in lock_then_write() holds
 *           index_lock and waits to take table_rwlock for writing
 *   join    main in hold_and_join() holds state_lock and joins T2, which
 *           waits for state_lock in wait_for_state()
 *   stuck   T2 in wait_for_signal() waits on never_signalled (a condvar),
 *           T3 in wait_for_post() on never_posted (a semaphore)
 *   clean   the abba threads taking the locks in one order, to the end
 *
 * Once every thread named is asleep in its wait, it sleeps twice as long
 * as it took to get there and 50 ms more (so the waits last most of the
 * trace, however slowly the threads started), prints "hung" and main
 * waits forever (joining the threads, or in the join cycle); the
 * test stops tracing and kills it.  "clean" prints "done" and exits 0.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>

#include "blocked.h"

static pthread_mutex_t account_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t ledger_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t first_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t second_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t third_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t table_rwlock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t index_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t spare_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t signal_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t never_signalled = PTHREAD_COND_INITIALIZER;
static sem_t never_posted;
static pthread_barrier_t between;
static blocked_slot slots[4];
static _Atomic int spare_taken;
static int clean;

/* Takes first, waits at the barrier, then takes second: unless clean,
 * the threads of a cycle each hold one lock when they take the next. */
static void take_two(pthread_mutex_t *first, pthread_mutex_t *second, int slot)
{
	pthread_mutex_lock(first);
	if (!clean)
		pthread_barrier_wait(&between);
	blocked_publish(&slots[slot]);
	pthread_mutex_lock(second);
	pthread_mutex_unlock(second);
	pthread_mutex_unlock(first);
}

__attribute__((noinline)) static void *take_a_then_b(void *arg)
{
	(void)arg;
	take_two(&account_lock, &ledger_lock, 0);
	return NULL;
}

__attribute__((noinline)) static void *take_b_then_a(void *arg)
{
	(void)arg;
	if (clean)
		take_two(&account_lock, &ledger_lock, 1);
	else
		take_two(&ledger_lock, &account_lock, 1);
	return NULL;
}

__attribute__((noinline)) static void *hold_and_pause(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&spare_lock);
	atomic_store(&spare_taken, 1);
	for (;;)
		syscall(SYS_pause);
	return NULL;
}

__attribute__((noinline)) static void *queue_for_account(void *arg)
{
	(void)arg;
	blocked_publish(&slots[2]);
	pthread_mutex_lock(&account_lock);
	pthread_mutex_unlock(&account_lock);
	return NULL;
}

__attribute__((noinline)) static void *take_first_second(void *arg)
{
	(void)arg;
	take_two(&first_lock, &second_lock, 0);
	return NULL;
}

__attribute__((noinline)) static void *take_second_third(void *arg)
{
	(void)arg;
	take_two(&second_lock, &third_lock, 1);
	return NULL;
}

__attribute__((noinline)) static void *take_third_first(void *arg)
{
	(void)arg;
	take_two(&third_lock, &first_lock, 2);
	return NULL;
}

__attribute__((noinline)) static void *read_then_lock(void *arg)
{
	(void)arg;
	pthread_rwlock_rdlock(&table_rwlock);
	pthread_barrier_wait(&between);
	blocked_publish(&slots[0]);
	pthread_mutex_lock(&index_lock);
	pthread_mutex_unlock(&index_lock);
	pthread_rwlock_unlock(&table_rwlock);
	return NULL;
}

__attribute__((noinline)) static void *lock_then_write(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&index_lock);
	pthread_barrier_wait(&between);
	blocked_publish(&slots[1]);
	pthread_rwlock_wrlock(&table_rwlock);
	pthread_rwlock_unlock(&table_rwlock);
	pthread_mutex_unlock(&index_lock);
	return NULL;
}

__attribute__((noinline)) static void *wait_for_state(void *arg)
{
	(void)arg;
	blocked_publish(&slots[0]);
	pthread_mutex_lock(&state_lock);
	pthread_mutex_unlock(&state_lock);
	return NULL;
}

__attribute__((noinline)) static void *wait_for_signal(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&signal_lock);
	blocked_publish(&slots[0]);
	pthread_cond_wait(&never_signalled, &signal_lock);
	pthread_mutex_unlock(&signal_lock);
	return NULL;
}

__attribute__((noinline)) static void *wait_for_post(void *arg)
{
	(void)arg;
	blocked_publish(&slots[1]);
	sem_wait(&never_posted);
	return NULL;
}

static struct timespec began;

/* Sleeps twice the time since main began, and 50 ms more. */
static void linger(void)
{
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	long long ns = (now.tv_sec - began.tv_sec) * 1000000000LL +
		       (now.tv_nsec - began.tv_nsec);
	ns = 2 * ns + 50000000LL;
	struct timespec pause = { (time_t)(ns / 1000000000LL), (long)(ns % 1000000000LL) };
	nanosleep(&pause, NULL);
}

static pthread_t workers[4];
static int nworkers;

static void start(void *(*fn)(void *))
{
	if (pthread_create(&workers[nworkers++], NULL, fn, NULL) != 0)
		abort();
}

static void say(const char *line)
{
	fputs(line, stdout);
	fflush(stdout);
}

/* The join cycle's watcher: says "hung" once T2 waits for state_lock
 * and main joins T2. */
static void *watch_join(void *arg)
{
	(void)arg;
	wait_blocked(&slots[0], BLOCKED_FUTEX_ON(state_lock));
	wait_blocked(&slots[1], BLOCKED_JOINING(atomic_load(&slots[0])));
	linger();
	say("hung\n");
	return NULL;
}

__attribute__((noinline)) static void hold_and_join(void)
{
	pthread_t watcher;
	pthread_mutex_lock(&state_lock);
	start(wait_for_state);
	if (pthread_create(&watcher, NULL, watch_join, NULL) != 0)
		abort();
	blocked_publish(&slots[1]);
	pthread_join(workers[0], NULL);
}

int main(int argc, char **argv)
{
	const char *way = argc > 1 ? argv[1] : "";
	clock_gettime(CLOCK_MONOTONIC, &began);
	if (!strcmp(way, "join")) {
		hold_and_join();
		return 0;
	}
	clean = !strcmp(way, "clean");
	if (!strcmp(way, "abba") || clean) {
		pthread_barrier_init(&between, NULL, 2);
		start(take_a_then_b);
		start(take_b_then_a);
		if (!clean) {
			wait_blocked(&slots[0], BLOCKED_FUTEX_ON(ledger_lock));
			wait_blocked(&slots[1], BLOCKED_FUTEX_ON(account_lock));
			pthread_t pauser;
			if (pthread_create(&pauser, NULL, hold_and_pause, NULL) != 0)
				abort();
			while (!atomic_load(&spare_taken))
				blocked_pause();
			start(queue_for_account);
			wait_blocked(&slots[2], BLOCKED_FUTEX_ON(account_lock));
		}
	} else if (!strcmp(way, "rwlock")) {
		pthread_barrier_init(&between, NULL, 2);
		start(read_then_lock);
		start(lock_then_write);
		wait_blocked(&slots[0], BLOCKED_FUTEX_ON(index_lock));
		wait_blocked(&slots[1], BLOCKED_FUTEX_ON(table_rwlock));
	} else if (!strcmp(way, "three")) {
		pthread_barrier_init(&between, NULL, 3);
		start(take_first_second);
		start(take_second_third);
		start(take_third_first);
		wait_blocked(&slots[0], BLOCKED_FUTEX_ON(second_lock));
		wait_blocked(&slots[1], BLOCKED_FUTEX_ON(third_lock));
		wait_blocked(&slots[2], BLOCKED_FUTEX_ON(first_lock));
	} else if (!strcmp(way, "stuck")) {
		sem_init(&never_posted, 0, 0);
		start(wait_for_signal);
		start(wait_for_post);
		wait_blocked(&slots[0], BLOCKED_FUTEX_ON(never_signalled));
		wait_blocked(&slots[1], BLOCKED_FUTEX_ON(never_posted));
	} else {
		fprintf(stderr, "usage: deadlocks abba|three|rwlock|join|stuck|clean\n");
		return 2;
	}
	if (!clean)
		linger();
	say(clean ? "done\n" : "hung\n");
	for (int i = 0; i < nworkers; i++)
		pthread_join(workers[i], NULL);
	return 0;
}
