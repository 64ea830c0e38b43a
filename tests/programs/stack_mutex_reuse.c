/*
 * stack_mutex_reuse.c - one function puts a mutex on its stack, inits and
 * locks it.  A first thread calls it and exits with the mutex locked; a
 * second thread, which gets the first one's stack back from glibc's
 * cache, calls it again: the same address, initialised again, is a new
 * mutex, which a third thread then uses the same way, unlocking and
 * destroying it.  Prints "same address" when the addresses matched.
 */
#include <pthread.h>
#include <stdio.h>

static void *addresses[3];

static void *call(void *arg)
{
	long i = (long)arg;
	pthread_mutex_t m;
	pthread_mutex_init(&m, NULL);
	pthread_mutex_lock(&m);
	addresses[i] = &m;
	if (i > 0) {
		pthread_mutex_unlock(&m);
		pthread_mutex_destroy(&m);
	}
	return NULL;
}

int main(void)
{
	for (long i = 0; i < 3; i++) {
		pthread_t t;
		pthread_create(&t, NULL, call, (void *)i);
		pthread_join(t, NULL);
	}
	printf("%s\n", addresses[0] == addresses[1] && addresses[1] == addresses[2]
	       ? "same address" : "other addresses");
	return 0;
}
