/*
 * rlimit_exit.c - ends under an address-space limit it cannot live with:
 * a thread does 1,000 lock/unlock pairs and is joined, then the program
 * lowers RLIMIT_AS to 1 MiB (far below what it already has mapped, so no
 * new mapping can succeed) and returns from main.
 * stdout: "limited" once the limit is in place (0 when it could not be set,
 * 1 with nothing printed).
 */
#include <pthread.h>
#include <stdio.h>
#include <sys/resource.h>
#include <unistd.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void *worker(void *arg)
{
	(void)arg;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
	return NULL;
}

int main(void)
{
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);
	pthread_join(t, NULL);
	struct rlimit one_mib = { 1 << 20, 1 << 20 };
	if (setrlimit(RLIMIT_AS, &one_mib) != 0)
		return 1;
	static const char msg[] = "limited\n";
	write(1, msg, sizeof msg - 1);
	return 0;
}
