/*
 * alarm_writer.c - a SIGALRM handler that calls write(2) every
 * millisecond, landing in the middle of the wrappers of 4 threads that
 * lock and unlock at a high rate (a million pairs each).  Its output must be
 * the same traced or not, and its trace must check.  stdout:
 * "counter=N" with N the exact number of increments, then "done".
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define THREADS 4
#define PAIRS 1000000

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long counter;
static int devnull;
static atomic_long alarms;

static void on_alarm(int sig)
{
	(void)sig;
	if (write(devnull, "a", 1) == 1)
		atomic_fetch_add(&alarms, 1);
}

static void *hammer(void *arg)
{
	for (int i = 0; i < PAIRS; i++) {
		pthread_mutex_lock(&lock);
		counter++;
		pthread_mutex_unlock(&lock);
	}
	return arg;
}

int main(void)
{
	devnull = open("/dev/null", O_WRONLY);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sa.sa_flags = SA_RESTART;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval every_ms = { { 0, 1000 }, { 0, 1000 } };
	setitimer(ITIMER_REAL, &every_ms, NULL);
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("counter=%ld\n", counter);
	printf("done\n");
	return atomic_load(&alarms) > 0 ? 0 : 1;
}
