/*
 * signal_waits.c - one thread after another waits for a signal, in
 * pause, sigsuspend, sigwait, sigwaitinfo and sigtimedwait; the main
 * thread waits until the waiter is blocked in the kernel, lets 50 ms
 * pass, and sends it the signal.  So each call blocks at least 50 ms.
 * Each waiter is named after its call.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void on_usr1(int sig)
{
	(void)sig;
}

static sigset_t usr2_only(void)
{
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR2);
	return s;
}

static void *in_pause(void *arg)
{
	(void)arg;
	sigset_t s;
	sigemptyset(&s);
	sigaddset(&s, SIGUSR1);
	pthread_sigmask(SIG_UNBLOCK, &s, NULL);
	pause();
	return NULL;
}

static void *in_sigsuspend(void *arg)
{
	(void)arg;
	sigset_t none;
	sigemptyset(&none);
	sigsuspend(&none);
	return NULL;
}

static void *in_sigwait(void *arg)
{
	(void)arg;
	sigset_t s = usr2_only();
	int sig;
	sigwait(&s, &sig);
	return NULL;
}

static void *in_sigwaitinfo(void *arg)
{
	(void)arg;
	sigset_t s = usr2_only();
	sigwaitinfo(&s, NULL);
	return NULL;
}

static void *in_sigtimedwait(void *arg)
{
	(void)arg;
	sigset_t s = usr2_only();
	struct timespec limit = { 30, 0 };
	sigtimedwait(&s, NULL, &limit);
	return NULL;
}

/* Whether thread tid is in system call nr.  Raw system calls only: the
 * trace shows none of this. */
static int blocked_in(int tid, long nr)
{
	char path[64], now[64] = { 0 }, want[32];
	snprintf(want, sizeof want, "%ld ", nr);
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	int f = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	long n = syscall(SYS_read, f, now, sizeof now - 1);
	syscall(SYS_close, f);
	return n > 0 && strncmp(now, want, strlen(want)) == 0;
}

static int waiter_tid;

static void *named(void *(*fn)(void *), const char *name)
{
	pthread_setname_np(pthread_self(), name);
	__atomic_store_n(&waiter_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	return fn(NULL);
}

struct waiter {
	const char *name;
	void *(*fn)(void *);
	int sig;
	long nr;      /* the system call it blocks in */
};

/* glibc's pause is ppoll where the kernel has no pause. */
#ifdef SYS_pause
#define PAUSE_NR SYS_pause
#else
#define PAUSE_NR SYS_ppoll
#endif

static const struct waiter *current;

static void *start(void *arg)
{
	(void)arg;
	return named(current->fn, current->name);
}

/* Waits until the thread has been in the kernel for a while, with
 * nanosleep's raw system call (not traced). */
static void pause_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	syscall(SYS_nanosleep, &ts, NULL);
}

int main(void)
{
	static const struct waiter waiters[] = {
		{ "pause", in_pause, SIGUSR1, PAUSE_NR },
		{ "sigsuspend", in_sigsuspend, SIGUSR1, SYS_rt_sigsuspend },
		{ "sigwait", in_sigwait, SIGUSR2, SYS_rt_sigtimedwait },
		{ "sigwaitinfo", in_sigwaitinfo, SIGUSR2, SYS_rt_sigtimedwait },
		{ "sigtimedwait", in_sigtimedwait, SIGUSR2, SYS_rt_sigtimedwait },
	};
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sigset_t both;
	sigemptyset(&both);
	sigaddset(&both, SIGUSR1);
	sigaddset(&both, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &both, NULL);
	for (size_t i = 0; i < sizeof waiters / sizeof waiters[0]; i++) {
		current = &waiters[i];
		__atomic_store_n(&waiter_tid, 0, __ATOMIC_RELEASE);
		pthread_t th;
		pthread_create(&th, NULL, start, NULL);
		int tid;
		while (!(tid = __atomic_load_n(&waiter_tid, __ATOMIC_ACQUIRE)))
			pause_ms(1);
		while (!blocked_in(tid, waiters[i].nr))
			pause_ms(1);
		pause_ms(50);
		pthread_kill(th, waiters[i].sig);
		pthread_join(th, NULL);
	}
	return 0;
}
