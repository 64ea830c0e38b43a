/*
 * fd_closer.c - a program that treats every descriptor it did not open as
 * its own to close or reuse, the way daemons do, then does traced work.
 *
 * usage: fd_closer loop|dup2|closefrom|close_range|cloexec
 *   loop         close(fd) for every fd from 3 to the descriptor limit - 1
 *   dup2         dup2(2, fd) onto every fd from 3 to 1023, then closes them
 *   closefrom    closefrom(3)
 *   close_range  close_range(3, ~0U, 0)
 *   cloexec      close_range(3, ~0U, CLOSE_RANGE_CLOEXEC)
 * stdout: what the program observed (how many calls succeeded, and which
 * descriptors were still open afterwards), then "pairs=2000".  The output
 * is the same whether or not the program is traced.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static void *worker(void *arg)
{
	pthread_mutex_t *m = arg;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(m);
		pthread_mutex_unlock(m);
	}
	return NULL;
}

/* Open descriptors from 3 up to limit, as seen by fcntl. */
static int count_open(int limit)
{
	int n = 0;
	for (int fd = 3; fd < limit; fd++)
		if (fcntl(fd, F_GETFD) != -1)
			n++;
	return n;
}

int main(int argc, char **argv)
{
	if (argc != 2)
		return 2;
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	int limit = rl.rlim_cur > 4096 ? 4096 : (int)rl.rlim_cur;
	const char *how = argv[1];
	int ok = 0, ebadf = 0;
	if (!strcmp(how, "loop")) {
		for (int fd = 3; fd < limit; fd++) {
			if (close(fd) == 0)
				ok++;
			else if (errno == EBADF)
				ebadf++;
		}
		printf("close: %d closed, %d EBADF\n", ok, ebadf);
	} else if (!strcmp(how, "dup2")) {
		for (int fd = 3; fd < 1024; fd++)
			if (dup2(2, fd) == fd)
				ok++;
		printf("dup2: %d of 1021 took their number, %d open\n", ok,
		       count_open(limit));
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	} else if (!strcmp(how, "closefrom")) {
		closefrom(3);
		printf("closefrom: %d open after\n", count_open(limit));
	} else if (!strcmp(how, "close_range")) {
		int r = close_range(3, ~0U, 0);
		printf("close_range: %d, %d open after\n", r, count_open(limit));
	} else if (!strcmp(how, "cloexec")) {
		int r = close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
		printf("close_range cloexec: %d\n", r);
	} else {
		return 2;
	}
	/* Descriptors the program opens now get the lowest free numbers. */
	int a = open("/dev/null", O_WRONLY), b = open("/dev/null", O_WRONLY);
	printf("reopened: %d %d\n", a, b);
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_t t1, t2;
	pthread_create(&t1, NULL, worker, &m);
	pthread_create(&t2, NULL, worker, &m);
	pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	printf("pairs=2000\n");
	return 0;
}
