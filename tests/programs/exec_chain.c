/*
 * exec_chain.c - a process that replaces its image again and again.
 *
 * `exec_chain N`: takes a mutex LOCKS times; when N > 0, tries to exec a
 * file that does not exist (the exec fails with ENOENT and the process
 * goes on), then execs `exec_chain N-1` through /proc/self/exe.  At N = 0
 * it prints "chain done <pid>" and exits 0.  Every image runs in the same
 * process, so a tracer writes N + 1 traces for one pid.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LOCKS 20

int main(int argc, char **argv)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	int n = argc > 1 ? atoi(argv[1]) : 0;
	for (int i = 0; i < LOCKS; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	if (n <= 0) {
		printf("chain done %d\n", (int)getpid());
		return 0;
	}
	char next[16];
	snprintf(next, sizeof next, "%d", n - 1);
	char *args[] = { argv[0], next, NULL };
	if (execv("/nonexistent/exec_chain", args) == 0 || errno != ENOENT)
		return 2;
	execv("/proc/self/exe", args);
	return 3;
}
