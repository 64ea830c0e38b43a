/*
 * leader_exits.c - main starts one thread, prints "ready" and leaves
 * through pthread_exit(NULL); the thread waits for a line on stdin,
 * prints "done" and returns, which ends the process with status 0.
 *
 * While it waits, the process runs on with its main thread a zombie:
 * whatever watches for the process's end must not take that for it.
 */
#include <pthread.h>
#include <stdio.h>

static void *waiter(void *arg)
{
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return arg;
	printf("done\n");
	fflush(stdout);
	return arg;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, waiter, NULL) != 0)
		return 1;
	printf("ready\n");
	fflush(stdout);
	pthread_exit(NULL);
}
