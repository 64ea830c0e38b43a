/*
 * tls_dtor.c - a thread's destructors that lock a mutex after its start
 * routine has returned.
 *
 * Each of THREADS threads sets a value for a pthread key whose destructor
 * takes the mutex, and registers a thread_local destructor (through
 * __cxa_thread_atexit_impl, as C++ thread_local objects do) that takes the
 * mutex too; then it returns.  glibc runs the thread_local destructor
 * first, then the key's.  Each destructor records its turn in a log under
 * the mutex.  main joins the threads and prints the log.
 *
 * stdout: "log=" followed by "tk" per thread (t: thread_local, k: key),
 * then "dtors=2*THREADS"; exit 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define THREADS 4

int __cxa_thread_atexit_impl(void (*fn)(void *), void *obj, void *dso);
extern void *__dso_handle;

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_key_t key;
static char log_text[2 * THREADS + 1];
static int dtors;
static __thread int tls_object;

static void log_turn(char what)
{
	pthread_mutex_lock(&m);
	if (dtors < 2 * THREADS)
		log_text[dtors] = what;
	dtors++;
	pthread_mutex_unlock(&m);
}

static void key_destructor(void *value)
{
	(void)value;
	log_turn('k');
}

static void thread_local_destructor(void *obj)
{
	(void)obj;
	log_turn('t');
}

static void *worker(void *arg)
{
	(void)arg;
	pthread_setspecific(key, &tls_object);
	__cxa_thread_atexit_impl(thread_local_destructor, &tls_object, __dso_handle);
	return NULL;
}

int main(void)
{
	if (pthread_key_create(&key, key_destructor) != 0)
		return 1;
	for (int i = 0; i < THREADS; i++) {
		pthread_t t;
		if (pthread_create(&t, NULL, worker, NULL) != 0 || pthread_join(t, NULL) != 0)
			return 1;
	}
	printf("log=%s dtors=%d\n", log_text, dtors);
	return dtors == 2 * THREADS && !strcmp(log_text, "tktktktk") ? 0 : 1;
}
