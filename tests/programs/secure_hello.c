/*
 * secure_hello.c - linked with libweft.so itself (not preloaded), so that
 * weft loads even in secure execution, where LD_PRELOAD is ignored: one
 * thread locks a mutex, and the program prints "hello".
 */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return NULL;
}

int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);
	pthread_join(t, NULL);
	printf("hello\n");
	return 0;
}
