/*
 * named_workers.c - three worker threads that name themselves
 * "worker-1".."worker-3" and allocate memory as soon as they start, then
 * wait together.  With argument "wait", main prints "ready" once all three
 * are named and waiting and reads a line from stdin before it lets them go
 * (a test switches tracing on in that pause); otherwise it lets them go at
 * once.  Released, each worker takes a mutex, allocates, frees and ends.
 * main joins them and prints "NAME TID" for each, then "done".
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define WORKERS 3

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t changed = PTHREAD_COND_INITIALIZER;
static int waiting, released;
static long tids[WORKERS];

static void *worker(void *arg)
{
	int i = (int)(long)arg;
	char name[16];
	snprintf(name, sizeof name, "worker-%d", (i + 1) % 10);
	pthread_setname_np(pthread_self(), name);
	free(malloc(100 + (size_t)i));
	pthread_mutex_lock(&lock);
	tids[i] = syscall(SYS_gettid);
	waiting++;
	pthread_cond_broadcast(&changed);
	while (!released)
		pthread_cond_wait(&changed, &lock);
	char *p = malloc(4096);
	memset(p, i, 4096);
	pthread_mutex_unlock(&lock);
	free(p);
	return NULL;
}

int main(int argc, char **argv)
{
	int pause = argc > 1 && !strcmp(argv[1], "wait");
	pthread_t t[WORKERS];
	for (long i = 0; i < WORKERS; i++)
		if (pthread_create(&t[i], NULL, worker, (void *)i) != 0)
			return 1;
	pthread_mutex_lock(&lock);
	while (waiting < WORKERS)
		pthread_cond_wait(&changed, &lock);
	pthread_mutex_unlock(&lock);
	if (pause) {
		printf("ready\n");
		fflush(stdout);
		char line[64];
		if (!fgets(line, sizeof line, stdin))
			return 1;
	}
	pthread_mutex_lock(&lock);
	released = 1;
	pthread_cond_broadcast(&changed);
	pthread_mutex_unlock(&lock);
	for (int i = 0; i < WORKERS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < WORKERS; i++)
		printf("worker-%d %ld\n", i + 1, tids[i]);
	printf("done\n");
	return 0;
}
