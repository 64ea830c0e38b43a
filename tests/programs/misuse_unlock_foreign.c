/*
 * misuse_unlock_foreign.c - a lock used as a binary semaphore: main locks
 * it, a second thread unlocks it (glibc returns 0 for a default mutex and
 * a spin lock), main locks it again.  Argument: "mutex" or "spin".
 * Expected finding: unlock-foreign, T2 unlocks what T1 holds.
 */
#include <pthread.h>
#include <string.h>

#include "misuse.h"

static pthread_mutex_t mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_spinlock_t spin;
static int use_spin;

static void *unlocker(void *arg)
{
	(void)arg;
	if (use_spin)
		pthread_spin_unlock(&spin);
	else
		pthread_mutex_unlock(&mutex);
	return NULL;
}

int main(int argc, char **argv)
{
	use_spin = argc > 1 && !strcmp(argv[1], "spin");
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	say_object(use_spin ? (void *)&spin : (void *)&mutex);
	if (use_spin)
		pthread_spin_lock(&spin);
	else
		pthread_mutex_lock(&mutex);
	pthread_t t;
	pthread_create(&t, NULL, unlocker, NULL);
	pthread_join(t, NULL);
	if (use_spin) {
		pthread_spin_lock(&spin);
		pthread_spin_unlock(&spin);
	} else {
		pthread_mutex_lock(&mutex);
		pthread_mutex_unlock(&mutex);
	}
	return 0;
}
