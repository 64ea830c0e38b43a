/*
 * quick_exit.c - ends with _exit(5) while two threads still lock and
 * unlock: no destructor runs, yet the trace must be complete, with main's
 * 100 lock/unlock pairs in it.  stdout: "bye", exit status 5.
 */
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static pthread_mutex_t busy = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t mine = PTHREAD_MUTEX_INITIALIZER;

static void *spin(void *arg)
{
	for (;;) {
		pthread_mutex_lock(&busy);
		pthread_mutex_unlock(&busy);
	}
	return arg;
}

int main(void)
{
	pthread_t a, b;
	pthread_create(&a, NULL, spin, NULL);
	pthread_create(&b, NULL, spin, NULL);
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&mine);
		pthread_mutex_unlock(&mine);
	}
	usleep(20000);
	printf("bye\n");
	fflush(stdout);
	_exit(5);
}
