/*
 * errno_check.c - checks that calls return the documented errors, and that
 * a successful call leaves errno alone (a tracing wrapper must neither lose
 * an error nor clobber errno on success).
 *
 *   read_ebadf            read(-1, buf, 1)          -> -1, errno EBADF
 *   close_ebadf           close(-1)                 -> -1, errno EBADF
 *   mutex_trylock_ebusy   trylock of a mutex main holds, from another thread
 *                                                   -> EBUSY
 *   mutex_timedlock_etimedout  timedlock, deadline already passed, of a mutex
 *                          main holds, from another thread -> ETIMEDOUT
 *   join_self_edeadlk     pthread_join(pthread_self()) -> EDEADLK
 *   sem_trywait_eagain    sem_trywait on a zero semaphore -> -1, errno EAGAIN
 *   cond_timedwait_etimedout  pthread_cond_timedwait, passed deadline
 *                                                   -> ETIMEDOUT
 *   errno_kept_getpid     errno = 12345; getpid()   -> errno still 12345
 *   errno_kept_write      errno = 12345; write(/dev/null, 1 byte) == 1
 *                                                   -> errno still 12345
 *
 * A trace must show these same results: the read and close SYSCALL_END with
 * return -1 / errno EBADF, a MUTEX_FAIL with EBUSY (trylock) and one with
 * ETIMEDOUT (timed), JOIN_END with EDEADLK, SEM_WAIT_END with EAGAIN,
 * COND_WAIT_END with ETIMEDOUT, and a successful write of 1 byte to the
 * /dev/null descriptor.
 *
 * stdout: one "ok NAME" line per check, in the order above; exit 0.
 * Any failure prints "FAIL NAME" instead and the exit status is 1.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAXCHECKS 16

static const char *names[MAXCHECKS];
static int passed[MAXCHECKS];
static int nchecks;

static void check(const char *name, int ok)
{
	if (nchecks < MAXCHECKS) {
		names[nchecks] = name;
		passed[nchecks] = ok;
		nchecks++;
	}
}

static pthread_mutex_t held = PTHREAD_MUTEX_INITIALIZER;
static int trylock_rc = -1, timedlock_rc = -1;

static struct timespec past_deadline(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec -= 1;
	return ts;
}

static void *contender(void *arg)
{
	struct timespec ts = past_deadline();

	(void)arg;
	trylock_rc = pthread_mutex_trylock(&held);
	if (trylock_rc == 0)
		pthread_mutex_unlock(&held);
	timedlock_rc = pthread_mutex_timedlock(&held, &ts);
	if (timedlock_rc == 0)
		pthread_mutex_unlock(&held);
	return NULL;
}

int main(void)
{
	char buf[1];
	int rc, e;

	/* read(-1) */
	errno = 0;
	rc = (int)read(-1, buf, 1);
	e = errno;
	check("read_ebadf", rc == -1 && e == EBADF);

	/* close(-1) */
	errno = 0;
	rc = close(-1);
	e = errno;
	check("close_ebadf", rc == -1 && e == EBADF);

	/* trylock / timedlock on a mutex held by main, from another thread */
	{
		pthread_t t;

		pthread_mutex_lock(&held);
		if (pthread_create(&t, NULL, contender, NULL) == 0) {
			pthread_join(t, NULL);
		}
		pthread_mutex_unlock(&held);
		check("mutex_trylock_ebusy", trylock_rc == EBUSY);
		check("mutex_timedlock_etimedout", timedlock_rc == ETIMEDOUT);
	}

	/* join self */
	rc = pthread_join(pthread_self(), NULL);
	check("join_self_edeadlk", rc == EDEADLK);

	/* sem_trywait on a zero semaphore */
	{
		sem_t s;

		sem_init(&s, 0, 0);
		errno = 0;
		rc = sem_trywait(&s);
		e = errno;
		check("sem_trywait_eagain", rc == -1 && e == EAGAIN);
		sem_destroy(&s);
	}

	/* cond_timedwait with a passed deadline */
	{
		pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
		pthread_cond_t c = PTHREAD_COND_INITIALIZER;
		struct timespec ts = past_deadline();

		pthread_mutex_lock(&m);
		rc = pthread_cond_timedwait(&c, &m, &ts);
		pthread_mutex_unlock(&m);
		check("cond_timedwait_etimedout", rc == ETIMEDOUT);
		pthread_cond_destroy(&c);
		pthread_mutex_destroy(&m);
	}

	/* errno untouched by successful calls */
	errno = 12345;
	(void)getpid();
	e = errno;
	check("errno_kept_getpid", e == 12345);

	{
		int fd = open("/dev/null", O_WRONLY);
		ssize_t n = -1;

		if (fd >= 0) {
			errno = 12345;
			n = write(fd, "x", 1);
			e = errno;
			close(fd);
		}
		check("errno_kept_write", fd >= 0 && n == 1 && e == 12345);
	}

	int failed = 0;
	for (int i = 0; i < nchecks; i++) {
		printf("%s %s\n", passed[i] ? "ok" : "FAIL", names[i]);
		if (!passed[i])
			failed = 1;
	}
	return failed;
}
