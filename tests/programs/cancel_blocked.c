/*
 * cancel_blocked.c - pthread_cancel of a thread blocked in a call.
 *
 * `cancel_blocked MODE`: a thread is cancelled while it waits in
 *   cond    pthread_cond_wait (its cleanup handler unlocks the mutex,
 *           which the wait re-held before the handler ran)
 *   read    read(2) on a pipe nobody writes
 *   sem     sem_wait on a semaphore nobody posts
 *   join    pthread_join of a thread blocked in read(2), which main
 *           releases afterwards by writing to the pipe and then joins
 *   sleep   nanosleep of an hour
 *   async   a compute loop with asynchronous cancellation enabled,
 *           holding the mutex (its cleanup handler unlocks it)
 *   toggle  a loop that enables asynchronous cancellation around a
 *           compute step and disables it around a mutex lock and unlock
 * In the deferred modes main waits until /proc shows the thread asleep in
 * its blocking call, then cancels and joins.  In async, main cancels once
 * the thread is counting in its loop; toggle posts a semaphore after its
 * first lock and unlock, and main cancels once it is posted.
 *
 * stdout: "MODE cancelled cleanup=1", and for cond and async "mutex free"
 * once main has locked the mutex the cancelled thread's handler released;
 * exit 0.
 */
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "blocked.h"

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static sem_t ready, never;
static int pipe_fds[2];
static int cleanup_ran;
static pthread_t blocked_reader;
static blocked_slot cancelled_tid, reader_tid;
static _Atomic unsigned long spin;

static void unlock_mutex(void *arg)
{
	(void)arg;
	cleanup_ran = 1;
	pthread_mutex_unlock(&m);
}

static void note_cleanup(void *arg)
{
	(void)arg;
	cleanup_ran = 1;
}

static void *in_cond(void *arg)
{
	(void)arg;
	blocked_publish(&cancelled_tid);
	pthread_mutex_lock(&m);
	pthread_cleanup_push(unlock_mutex, NULL);
	for (;;)
		pthread_cond_wait(&c, &m);
	pthread_cleanup_pop(1);
	return NULL;
}

static void *in_read(void *arg)
{
	char byte;
	pthread_cleanup_push(note_cleanup, NULL);
	blocked_publish(arg ? &cancelled_tid : &reader_tid);
	read(pipe_fds[0], &byte, 1);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_sem(void *arg)
{
	(void)arg;
	pthread_cleanup_push(note_cleanup, NULL);
	blocked_publish(&cancelled_tid);
	sem_wait(&never);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_join(void *arg)
{
	(void)arg;
	pthread_cleanup_push(note_cleanup, NULL);
	blocked_publish(&cancelled_tid);
	pthread_join(blocked_reader, NULL);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_sleep(void *arg)
{
	(void)arg;
	struct timespec hour = { 3600, 0 };
	pthread_cleanup_push(note_cleanup, NULL);
	blocked_publish(&cancelled_tid);
	nanosleep(&hour, NULL);
	pthread_cleanup_pop(0);
	return NULL;
}

static void *in_compute(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	pthread_cleanup_push(unlock_mutex, NULL);
	pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
	for (;;)
		atomic_fetch_add_explicit(&spin, 1, memory_order_relaxed);
	pthread_cleanup_pop(1);
	return NULL;
}

static void *in_toggle(void *arg)
{
	(void)arg;
	static pthread_mutex_t own = PTHREAD_MUTEX_INITIALIZER;
	pthread_cleanup_push(note_cleanup, NULL);
	for (int posted = 0;; posted = 1) {
		pthread_setcanceltype(PTHREAD_CANCEL_ASYNCHRONOUS, NULL);
		for (int i = 0; i < 1000; i++)
			atomic_fetch_add_explicit(&spin, 1, memory_order_relaxed);
		pthread_setcanceltype(PTHREAD_CANCEL_DEFERRED, NULL);
		pthread_mutex_lock(&own);
		pthread_mutex_unlock(&own);
		if (!posted)
			sem_post(&ready);
	}
	pthread_cleanup_pop(0);
	return NULL;
}

int main(int argc, char **argv)
{
	static const struct { const char *name; void *(*fn)(void *); } modes[] = {
		{ "cond", in_cond }, { "read", in_read }, { "sem", in_sem },
		{ "join", in_join }, { "sleep", in_sleep }, { "async", in_compute },
		{ "toggle", in_toggle },
	};
	const char *mode = argc > 1 ? argv[1] : "";
	void *(*fn)(void *) = NULL;
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (!strcmp(mode, modes[i].name))
			fn = modes[i].fn;
	if (!fn) {
		fprintf(stderr, "usage: cancel_blocked cond|read|sem|join|sleep|async|toggle\n");
		return 2;
	}
	sem_init(&ready, 0, 0);
	sem_init(&never, 0, 0);
	if (pipe(pipe_fds) != 0)
		return 1;
	if (fn == in_join && pthread_create(&blocked_reader, NULL, in_read, NULL) != 0)
		return 1;
	if (fn == in_join)
		wait_blocked(&reader_tid, BLOCKED_READING(pipe_fds[0]));

	pthread_t t;
	void *ret;
	if (pthread_create(&t, NULL, fn, (void *)1) != 0)
		return 1;
	if (fn == in_cond)
		wait_blocked(&cancelled_tid, BLOCKED_FUTEX_ON(c));
	else if (fn == in_read)
		wait_blocked(&cancelled_tid, BLOCKED_READING(pipe_fds[0]));
	else if (fn == in_sem)
		wait_blocked(&cancelled_tid, BLOCKED_FUTEX_ON(never));
	else if (fn == in_join)
		wait_blocked(&cancelled_tid, BLOCKED_JOINING(atomic_load(&reader_tid)));
	else if (fn == in_sleep)
		wait_blocked(&cancelled_tid, BLOCKED_SLEEPING);
	else if (fn == in_compute)
		while (atomic_load(&spin) == 0) /* counting, cancellable at any instant */
			blocked_pause();
	else
		sem_wait(&ready);
	if (pthread_cancel(t) != 0 || pthread_join(t, &ret) != 0)
		return 1;
	printf("%s %s cleanup=%d\n", mode, ret == PTHREAD_CANCELED ? "cancelled" : "returned",
	       cleanup_ran);
	if (fn == in_cond || fn == in_compute) {
		pthread_mutex_lock(&m);
		printf("mutex free\n");
		pthread_mutex_unlock(&m);
	}
	if (fn == in_join) {
		if (write(pipe_fds[1], "x", 1) != 1 || pthread_join(blocked_reader, NULL) != 0)
			return 1;
	}
	return ret == PTHREAD_CANCELED && cleanup_ran ? 0 : 1;
}
