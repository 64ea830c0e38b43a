/*
 * early_ctor.c - runs after early_lib's constructor (see early_lib.c) and
 * does 100 traced lock/unlock pairs of its own.  stdout: "early_value=42".
 */
#include <pthread.h>
#include <stdio.h>

extern int early_value;
static pthread_mutex_t later_mutex = PTHREAD_MUTEX_INITIALIZER;

int main(void)
{
	for (int i = 0; i < 100; i++) {
		pthread_mutex_lock(&later_mutex);
		pthread_mutex_unlock(&later_mutex);
	}
	printf("early_value=%d\n", early_value);
	return early_value == 42 ? 0 : 1;
}
