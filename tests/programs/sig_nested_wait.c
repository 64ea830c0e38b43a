/*
 * sig_nested_wait.c - a signal handler that blocks in sem_wait while its
 * thread is blocked in another wait, across a generation rotation.
 *
 * Run under the test build of libweft.so (libweft-test.so):
 *
 *   sig_nested_wait barrier|rdlock|wrlock
 *
 * Thread A blocks in pthread_barrier_wait, pthread_rwlock_timedrdlock or
 * pthread_rwlock_timedwrlock (main holds the lock for writing).  Main sends
 * it SIGUSR1; the handler blocks in sem_wait.  While A is two waits deep,
 * main rotates the generation, then posts the semaphore (the handler
 * returns, A is back in its first wait) and completes that wait.  The new
 * generation's STATUS for A must say both waits.
 *
 * stdout: "ok"; exit 2 when the hooks are missing or the arguments are
 * wrong.
 */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static unsigned (*hook_generation)(void);
static void (*hook_rotate)(void);

static pthread_barrier_t barrier;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static sem_t sem;
static const char *kind;
static _Atomic int a_tid, a_waiting, in_handler;

static void wait_for(_Atomic int *v, int value)
{
	while (atomic_load(v) < value)
		sched_yield();
}

/* Waits until thread tid sleeps in the kernel (its state in
 * /proc/self/task/TID/stat is S): it is inside its blocking call. */
static void wait_until_asleep(int tid)
{
	char path[64], buf[256];
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
	for (;;) {
		int fd = open(path, O_RDONLY);
		ssize_t n = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
		if (fd >= 0)
			close(fd);
		if (n > 0) {
			buf[n] = 0;
			const char *paren = strrchr(buf, ')');
			if (paren && paren[1] == ' ' && paren[2] == 'S')
				return;
		}
		sched_yield();
	}
}

static void on_usr1(int sig)
{
	(void)sig;
	atomic_store(&in_handler, 1);
	sem_wait(&sem);
}

static void *a_wait(void *arg)
{
	struct timespec far;
	clock_gettime(CLOCK_REALTIME, &far);
	far.tv_sec += 3600;
	atomic_store(&a_tid, (int)syscall(SYS_gettid));
	atomic_store(&a_waiting, 1);
	if (!strcmp(kind, "barrier")) {
		pthread_barrier_wait(&barrier);
		return arg;
	}
	int r = !strcmp(kind, "rdlock") ? pthread_rwlock_timedrdlock(&rw, &far)
					: pthread_rwlock_timedwrlock(&rw, &far);
	if (r == 0)
		pthread_rwlock_unlock(&rw);
	else
		fprintf(stderr, "timed lock: %s\n", strerror(r));
	return arg;
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "barrier") && strcmp(argv[1], "rdlock") &&
			  strcmp(argv[1], "wrlock"))) {
		fprintf(stderr, "usage: sig_nested_wait barrier|rdlock|wrlock\n");
		return 2;
	}
	kind = argv[1];
	hook_generation = (unsigned (*)(void))dlsym(RTLD_DEFAULT, "weft_test_generation");
	hook_rotate = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_rotate");
	if (!hook_generation || !hook_rotate) {
		fprintf(stderr, "sig_nested_wait: run me under libweft-test.so\n");
		return 2;
	}
	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_handler = on_usr1;
	sigaction(SIGUSR1, &act, NULL);
	sem_init(&sem, 0, 0);
	pthread_barrier_init(&barrier, NULL, 2);
	int barrier_kind = !strcmp(kind, "barrier");
	if (!barrier_kind)
		pthread_rwlock_wrlock(&rw);

	pthread_t a;
	pthread_create(&a, NULL, a_wait, NULL);
	wait_for(&a_waiting, 1);
	int tid = atomic_load(&a_tid);
	wait_until_asleep(tid);           /* in its first wait */
	syscall(SYS_tgkill, getpid(), tid, SIGUSR1);
	wait_for(&in_handler, 1);
	wait_until_asleep(tid);           /* and in the handler's sem_wait */

	unsigned before = hook_generation();
	hook_rotate();
	if (hook_generation() != before + 1) {
		fprintf(stderr, "the generation did not rotate\n");
		return 1;
	}
	sem_post(&sem);
	if (barrier_kind)
		pthread_barrier_wait(&barrier);
	else
		pthread_rwlock_unlock(&rw);
	pthread_join(a, NULL);
	printf("ok\n");
	return 0;
}
