/*
 * boundary.c - threads blocked at the moment tracing starts or stops.
 *
 * Twice over, five threads block: one in read() on an empty pipe, one on a
 * mutex main holds, one in a condition wait, one joining a thread that
 * waits on a semaphore, one at a barrier main will complete.  Once /proc
 * shows each of them asleep in its call, main prints "ready" (then
 * "ready2"), waits for a line on stdin, and releases them all.
 * A test starts tracing at the first pause and stops it at the second: the
 * blocked threads' STATUS records must say where each one is, and the
 * events that end their waits must be accepted.  stdout:
 * "ready\nready2\ndone\n".
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "blocked.h"

static int fds[2];
static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t cond_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int signalled;
static sem_t sem;
static pthread_barrier_t barrier;
/* Each blocked thread's id (the sem waiter is the thread the joiner joins). */
static blocked_slot reader_tid, locker_tid, waiter_tid, joiner_tid, sem_waiter_tid,
	barrier_waiter_tid;

static void *reader(void *arg)
{
	char c;
	blocked_publish(&reader_tid);
	if (read(fds[0], &c, 1) != 1)
		perror("read");
	return arg;
}

static void *locker(void *arg)
{
	blocked_publish(&locker_tid);
	pthread_mutex_lock(&held);
	pthread_mutex_unlock(&held);
	return arg;
}

static void *waiter(void *arg)
{
	blocked_publish(&waiter_tid);
	pthread_mutex_lock(&cond_lock);
	while (!signalled)
		pthread_cond_wait(&cond, &cond_lock);
	pthread_mutex_unlock(&cond_lock);
	return arg;
}

static void *sem_waiter(void *arg)
{
	blocked_publish(&sem_waiter_tid);
	sem_wait(&sem);
	return arg;
}

static void *joiner(void *arg)
{
	pthread_t target;
	pthread_create(&target, NULL, sem_waiter, NULL);
	blocked_publish(&joiner_tid);
	pthread_join(target, NULL);
	return arg;
}

static void *barrier_waiter(void *arg)
{
	blocked_publish(&barrier_waiter_tid);
	pthread_barrier_wait(&barrier);
	return arg;
}

static void round_trip(const char *ready)
{
	pthread_t t[5];
	blocked_slot *slots[] = { &reader_tid, &locker_tid, &waiter_tid, &joiner_tid,
				  &sem_waiter_tid, &barrier_waiter_tid };
	for (size_t i = 0; i < sizeof slots / sizeof slots[0]; i++)
		atomic_store(slots[i], 0);
	signalled = 0;
	pthread_mutex_lock(&held);
	pthread_create(&t[0], NULL, reader, NULL);
	pthread_create(&t[1], NULL, locker, NULL);
	pthread_create(&t[2], NULL, waiter, NULL);
	pthread_create(&t[3], NULL, joiner, NULL);
	pthread_create(&t[4], NULL, barrier_waiter, NULL);
	wait_blocked(&reader_tid, BLOCKED_READING(fds[0]));
	wait_blocked(&locker_tid, BLOCKED_FUTEX_ON(held));
	wait_blocked(&waiter_tid, BLOCKED_FUTEX_ON(cond));
	wait_blocked(&sem_waiter_tid, BLOCKED_FUTEX_ON(sem));
	wait_blocked(&joiner_tid, BLOCKED_JOINING(atomic_load(&sem_waiter_tid)));
	wait_blocked(&barrier_waiter_tid, BLOCKED_FUTEX_ON(barrier));
	printf("%s\n", ready);
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return;
	if (write(fds[1], "x", 1) != 1)
		perror("write");
	pthread_mutex_unlock(&held);
	pthread_mutex_lock(&cond_lock);
	signalled = 1;
	pthread_cond_signal(&cond);
	pthread_mutex_unlock(&cond_lock);
	sem_post(&sem);
	pthread_barrier_wait(&barrier);
	for (int i = 0; i < 5; i++)
		pthread_join(t[i], NULL);
}

int main(void)
{
	if (pipe(fds) != 0)
		return 1;
	sem_init(&sem, 0, 0);
	pthread_barrier_init(&barrier, NULL, 2);
	round_trip("ready");
	round_trip("ready2");
	printf("done\n");
	return 0;
}
