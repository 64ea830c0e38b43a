/*
 * misuse_unlock_unheld.c - main unlocks a default mutex it has already
 * unlocked (glibc returns 0), then uses it normally.
 * Expected finding: unlock-unheld, T1, nobody holds it.
 */
#include <pthread.h>

#include "misuse.h"

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
	say_object(&mutex);
	pthread_mutex_lock(&mutex);
	pthread_mutex_unlock(&mutex);
	pthread_mutex_unlock(&mutex);
	pthread_mutex_lock(&mutex);
	pthread_mutex_unlock(&mutex);
	return 0;
}
