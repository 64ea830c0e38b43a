/*
 * early_lib.c - a shared library whose constructor locks a mutex, creates
 * and joins a thread and writes to /dev/null.  Linked into early_ctor, it is
 * initialized before libweft.so, so these calls reach weft's wrappers before
 * weft's constructor has run: they must work (untraced) and the program's
 * later calls must be traced.
 */
#include <fcntl.h>
#include <pthread.h>
#include <unistd.h>

static pthread_mutex_t early_mutex = PTHREAD_MUTEX_INITIALIZER;
int early_value;

static void *early_thread(void *arg)
{
	pthread_mutex_lock(&early_mutex);
	early_value += 1;
	pthread_mutex_unlock(&early_mutex);
	return arg;
}

__attribute__((constructor)) static void early_init(void)
{
	pthread_t t;
	pthread_mutex_lock(&early_mutex);
	early_value = 41;
	pthread_mutex_unlock(&early_mutex);
	if (pthread_create(&t, NULL, early_thread, NULL) == 0)
		pthread_join(t, NULL);
	int fd = open("/dev/null", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "x", 1) != 1)
			early_value = -1;
		close(fd);
	}
}
