/*
 * cond_errors.c - error returns whose effect a tracer must record as it
 * is, each followed by ordinary use of the same objects by another
 * thread:
 *   cond_timedwait_einval   an invalid time (tv_nsec < 0): EINVAL, and
 *                           the mutex is never released;
 *   cond_wait_eperm         an error-checking mutex the caller does not
 *                           hold: EPERM, nothing released;
 *   robust_eownerdead       a robust mutex whose holder exited: the next
 *                           lock gets EOWNERDEAD and holds it.
 * stdout: "ok NAME" per check (or "FAIL NAME"); exit 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <time.h>

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t checked, robust;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;

static void *use_mutex(void *arg)
{
	pthread_mutex_t *m = arg;
	pthread_mutex_lock(m);
	pthread_mutex_unlock(m);
	return NULL;
}

static void *lock_and_exit(void *arg)
{
	pthread_mutex_lock(arg);
	return NULL;
}

static void in_thread(void *(*fn)(void *), void *arg)
{
	pthread_t t;
	pthread_create(&t, NULL, fn, arg);
	pthread_join(t, NULL);
}

static void report(const char *name, int ok)
{
	printf("%s %s\n", ok ? "ok" : "FAIL", name);
}

int main(void)
{
	pthread_mutexattr_t attr;
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK);
	pthread_mutex_init(&checked, &attr);
	pthread_mutexattr_destroy(&attr);
	pthread_mutexattr_init(&attr);
	pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST);
	pthread_mutex_init(&robust, &attr);
	pthread_mutexattr_destroy(&attr);

	struct timespec bad = { .tv_sec = 0, .tv_nsec = -1 };
	pthread_mutex_lock(&mutex);
	int r = pthread_cond_timedwait(&cond, &mutex, &bad);
	pthread_mutex_unlock(&mutex);
	in_thread(use_mutex, &mutex);
	report("cond_timedwait_einval", r == EINVAL);

	r = pthread_cond_wait(&cond, &checked);
	in_thread(use_mutex, &checked);
	report("cond_wait_eperm", r == EPERM);

	in_thread(lock_and_exit, &robust);
	r = pthread_mutex_lock(&robust);
	if (r == EOWNERDEAD)
		pthread_mutex_consistent(&robust);
	pthread_mutex_unlock(&robust);
	in_thread(use_mutex, &robust);
	report("robust_eownerdead", r == EOWNERDEAD);
	return 0;
}
