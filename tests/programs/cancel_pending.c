/*
 * cancel_pending.c - a thread with a cancellation request pending (it
 * cancelled itself, deferred) blocks in pthread_mutex_lock, which is not a
 * cancellation point: it must get the mutex, and be cancelled only at the
 * pthread_testcancel after it.  main holds the mutex until the thread is
 * asleep in the lock (or gone), then lets it go.  Prints where the thread
 * was cancelled: "cancelled at testcancel" (right) or "cancelled in
 * pthread_mutex_lock".
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int locked;
static volatile pid_t worker_tid;

static void cancelled(void *arg)
{
	(void)arg;
	if (locked)
		pthread_mutex_unlock(&lock);
	printf("cancelled %s\n", locked ? "at testcancel" : "in pthread_mutex_lock");
}

static void *worker(void *arg)
{
	worker_tid = (pid_t)syscall(SYS_gettid);
	pthread_cleanup_push(cancelled, NULL);
	pthread_cancel(pthread_self());
	pthread_mutex_lock(&lock);
	locked = 1;
	pthread_testcancel();
	pthread_cleanup_pop(0);
	printf("never cancelled\n");
	return arg;
}

/* Whether thread tid is asleep (state S) or gone. */
static int asleep_or_gone(pid_t tid)
{
	char path[64], stat[512];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
	FILE *f = fopen(path, "r");
	if (!f)
		return 1;
	size_t n = fread(stat, 1, sizeof stat - 1, f);
	fclose(f);
	stat[n] = 0;
	const char *end = strrchr(stat, ')');
	return !end || end[2] == 'S' || end[2] == 'Z';
}

int main(void)
{
	pthread_mutex_lock(&lock);
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) != 0)
		return 1;
	while (!worker_tid || !asleep_or_gone(worker_tid)) {
		struct timespec ms = { 0, 1000000 };
		nanosleep(&ms, NULL);
	}
	pthread_mutex_unlock(&lock);
	void *ret;
	pthread_join(t, &ret);
	return ret == PTHREAD_CANCELED ? 0 : 1;
}
