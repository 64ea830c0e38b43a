/*
 * misuse_init_held.c - main initialises again a mutex a second thread
 * holds (glibc overwrites it: the mutex is free and new); the second
 * thread then ends without unlocking it, and main uses the new mutex.
 * Expected finding: init-held, T1 initialises what T2 holds.
 */
#include <pthread.h>
#include <semaphore.h>

#include "misuse.h"

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static sem_t locked, reinitialised;

static void *holder(void *arg)
{
	(void)arg;
	pthread_mutex_lock(&mutex);
	sem_post(&locked);
	sem_wait(&reinitialised);
	return NULL;
}

int main(void)
{
	sem_init(&locked, 0, 0);
	sem_init(&reinitialised, 0, 0);
	say_object(&mutex);
	pthread_t t;
	pthread_create(&t, NULL, holder, NULL);
	sem_wait(&locked);
	pthread_mutex_init(&mutex, NULL);
	sem_post(&reinitialised);
	pthread_join(t, NULL);
	pthread_mutex_lock(&mutex);
	pthread_mutex_unlock(&mutex);
	return 0;
}
