/*
 * raw_futex_wait.c - a thread named "futex" waits 300 ms in the futex
 * system call, made directly with syscall(), which no wrapper sees: the
 * trace shows it running all along, while it was on a CPU for next to
 * nothing.  The main thread joins it.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <linux/futex.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint32_t never_changes;

static void *waiter(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "futex");
	struct timespec limit = { 0, 300000000 };
	syscall(SYS_futex, &never_changes, FUTEX_WAIT_PRIVATE, 0, &limit, NULL, 0);
	return NULL;
}

int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, waiter, NULL);
	pthread_join(t, NULL);
	return 0;
}
