/*
 * hostile_name.c - a thread whose name is not UTF-8 (bytes 0xff, 0xc0 and
 * a cut sequence), for the commands that must write valid JSON and
 * protobuf strings whatever the trace holds.
 */
#include <pthread.h>
#include <stdio.h>

static void *worker(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "bad\xff\xc0name\xe2\x82");
	return NULL;
}

int main(void)
{
	pthread_t t;
	if (pthread_create(&t, NULL, worker, NULL) || pthread_join(t, NULL))
		return 1;
	puts("done");
	return 0;
}
