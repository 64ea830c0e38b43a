/*
 * daemonize.c - processes that outlive their parent.
 *
 * `daemonize daemon`: daemon(1, 0); the daemon (its stdio now /dev/null)
 * takes a mutex LOCKS times from two threads and exits 0.  The original
 * process prints "parent" before the call and ends inside daemon().
 * `daemonize double-fork`: fork; the child forks again and exits 0 at
 * once; the grandchild (reparented) takes a mutex LOCKS times from two
 * threads and exits 0.  The original process waits for the child and
 * prints "child exited 0".
 *
 * Exit 0 from every process.  A test that wants the orphan's status
 * becomes a subreaper and reaps it.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOCKS 100

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int counter;

static void *locker(void *arg)
{
	(void)arg;
	for (int i = 0; i < LOCKS; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

/* The orphan's work: two threads, LOCKS acquisitions each. */
static int orphan_work(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, locker, NULL) != 0)
		return 1;
	locker(NULL);
	pthread_join(t, NULL);
	return counter == 2 * LOCKS ? 0 : 1;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "daemon")) {
		printf("parent\n");
		fflush(stdout);
		if (daemon(1, 0) != 0)
			return 2;
		exit(orphan_work());
	}
	if (argc > 1 && !strcmp(argv[1], "double-fork")) {
		fflush(stdout);
		pid_t pid = fork();
		if (pid < 0)
			return 2;
		if (pid == 0) {
			pid_t grandchild = fork();
			if (grandchild < 0)
				exit(2);
			if (grandchild == 0)
				exit(orphan_work());
			exit(0);
		}
		int status;
		if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
			return 3;
		printf("child exited %d\n", WEXITSTATUS(status));
		return 0;
	}
	fprintf(stderr, "usage: daemonize daemon|double-fork\n");
	return 2;
}
