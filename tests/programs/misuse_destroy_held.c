/*
 * misuse_destroy_held.c - main destroys a mutex a second thread holds
 * (glibc refuses with EBUSY and the mutex stays as it was), then the
 * holder unlocks it.
 * Expected finding: destroy-held, T1 destroys what T2 holds.
 */
#include <pthread.h>
#include <semaphore.h>

#include "misuse.h"

static pthread_mutex_t mutex;
static sem_t locked, destroyed;

static void *holder(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mutex);
	sem_post(&locked);
	sem_wait(&destroyed);
	pthread_mutex_unlock(&mutex);
	return NULL;
}

int main(void)
{
	pthread_mutex_init(&mutex, NULL);
	sem_init(&locked, 0, 0);
	sem_init(&destroyed, 0, 0);
	say_object(&mutex);
	pthread_t t;
	pthread_create(&t, NULL, holder, NULL);
	sem_wait(&locked);
	int r = pthread_mutex_destroy(&mutex);
	printf("destroy %d\n", r);
	sem_post(&destroyed);
	pthread_join(t, NULL);
	return 0;
}
