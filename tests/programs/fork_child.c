/*
 * fork_child.c - two threads lock a mutex a few times and are joined; then
 * the (now single-threaded) process forks.  The child locks/unlocks a mutex
 * a few times, write()s 5 bytes to /dev/null and leaves through exit(0), so
 * a tracer's exit-time flush runs in the child.  The parent waitpid()s.
 *
 * A trace of the parent must show 2 worker threads with 3 acquires each of
 * one mutex (6 in all), their joins, a FORK with the child's pid, and a
 * waitpid on that pid.  The child's own trace (if the tracer follows forks)
 * must show 3 acquires of a mutex, one write of 5 bytes to the /dev/null
 * descriptor, and a normal end.
 *
 * stdout: "child exited 0", exit 0.  The child prints nothing.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#define LOCKS_PER_THREAD 3

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static int counter;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < LOCKS_PER_THREAD; i++) {
		pthread_mutex_lock(&m);
		counter++;
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

static void child(void)
{
	pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
	int fd, ok = 1;

	for (int i = 0; i < 3; i++) {
		pthread_mutex_lock(&cm);
		counter++;
		pthread_mutex_unlock(&cm);
	}
	fd = open("/dev/null", O_WRONLY);
	if (fd < 0 || write(fd, "child", 5) != 5)
		ok = 0;
	if (fd >= 0)
		close(fd);
	exit(ok && counter == 2 * LOCKS_PER_THREAD + 3 ? 0 : 3);
}

int main(void)
{
	pthread_t t[2];
	pid_t pid;
	int status;

	for (int i = 0; i < 2; i++)
		if (pthread_create(&t[i], NULL, worker, NULL) != 0)
			return 1;
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	if (counter != 2 * LOCKS_PER_THREAD)
		return 1;

	fflush(stdout);   /* nothing buffered yet, but never let the child inherit output */
	pid = fork();
	if (pid < 0) {
		perror("fork");
		return 1;
	}
	if (pid == 0)
		child();   /* does not return */

	if (waitpid(pid, &status, 0) != pid) {
		perror("waitpid");
		return 1;
	}
	if (WIFEXITED(status)) {
		printf("child exited %d\n", WEXITSTATUS(status));
		return WEXITSTATUS(status) == 0 ? 0 : 1;
	}
	printf("child killed by signal %d\n", WIFSIGNALED(status) ? WTERMSIG(status) : -1);
	return 1;
}
