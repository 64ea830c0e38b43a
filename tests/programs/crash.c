/*
 * crash.c - dies by a signal after recording some work: 2 threads do 1,000
 * lock/unlock pairs each and are joined; a third thread is left blocked on
 * a mutex the main thread holds; once it is asleep in that wait, the main
 * thread dies.
 *
 * usage: crash segv|abort|bus|kill|term|handled
 *   segv   dereferences a null pointer      abort  calls abort()
 *   bus    raises SIGBUS                    kill   raises SIGKILL
 *   term   raises SIGTERM (default action)
 *   handled  installs its own SIGSEGV handler that prints "handled" and
 *            exits 42, then dereferences a null pointer
 * stdout: "ready" before dying.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocked.h"

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static blocked_slot blocked_tid;

static void *worker(void *arg)
{
	pthread_mutex_t *m = arg;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(m);
		pthread_mutex_unlock(m);
	}
	return NULL;
}

static void *blocked(void *arg)
{
	(void)arg;
	blocked_publish(&blocked_tid);
	pthread_mutex_lock(&held);
	return NULL;
}

static void on_segv(int sig)
{
	(void)sig;
	static const char msg[] = "handled\n";
	write(1, msg, sizeof msg - 1);
	_exit(42);
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_t a, b, c;
	pthread_create(&a, NULL, worker, &m);
	pthread_create(&b, NULL, worker, &m);
	pthread_join(a, NULL);
	pthread_join(b, NULL);
	pthread_mutex_lock(&held);
	pthread_create(&c, NULL, blocked, NULL);
	wait_blocked(&blocked_tid, BLOCKED_FUTEX_ON(held));
	printf("ready\n");
	fflush(stdout);

	const char *how = argv[1];
	if (!strcmp(how, "segv")) {
		volatile int *volatile nowhere = NULL;
		return *nowhere;
	}
	if (!strcmp(how, "abort"))
		abort();
	if (!strcmp(how, "bus"))
		raise(SIGBUS);
	if (!strcmp(how, "kill"))
		raise(SIGKILL);
	if (!strcmp(how, "term"))
		raise(SIGTERM);
	if (!strcmp(how, "handled")) {
		signal(SIGSEGV, on_segv);
		volatile int *volatile nowhere = NULL;
		return *nowhere;
	}
	return 2;
}
