/*
 * alarm_writer.c - a SIGALRM handler that calls write(2) every
 * millisecond, landing in the middle of the wrappers of 4 threads that
 * lock and unlock at a high rate (a million pairs each).  Its output must be
 * the same traced or not, and its trace must check.  stdout:
 * "counter=N" with N the exact number of increments, then "done".
 *
 * Under the test build of libweft.so (weft_test_generation found), the
 * threads stop half-way until main has seen the generation change, so
 * that the run spans a rotation (WEFT_ROTATE_MS) however the machine
 * schedules it.
 */
#include <dlfcn.h>
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
static unsigned (*generation)(void);
static pthread_mutex_t gate_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t gate_opened = PTHREAD_COND_INITIALIZER;
static int gate_open;

static void pass_gate(void)
{
	pthread_mutex_lock(&gate_lock);
	while (!gate_open)
		pthread_cond_wait(&gate_opened, &gate_lock);
	pthread_mutex_unlock(&gate_lock);
}

static void on_alarm(int sig)
{
	(void)sig;
	if (write(devnull, "a", 1) == 1)
		atomic_fetch_add(&alarms, 1);
}

static void *hammer(void *arg)
{
	for (int i = 0; i < PAIRS; i++) {
		if (i == PAIRS / 2)
			pass_gate();
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
	generation = (unsigned (*)(void))dlsym(RTLD_DEFAULT, "weft_test_generation");
	unsigned first = generation ? generation() : 0;
	pthread_t t[THREADS];
	for (int i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, hammer, NULL);
	int rotated = 1;
	struct timespec now, give_up;
	clock_gettime(CLOCK_MONOTONIC, &give_up);
	give_up.tv_sec += 30;
	while (first && generation() == first) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec > give_up.tv_sec ||
		    (now.tv_sec == give_up.tv_sec && now.tv_nsec > give_up.tv_nsec)) {
			fprintf(stderr, "alarm_writer: generation %u did not end in 30 s\n", first);
			rotated = 0;
			break;
		}
		struct timespec ms = { 0, 1000000L };
		nanosleep(&ms, NULL); /* an alarm may cut it short */
	}
	pthread_mutex_lock(&gate_lock);
	gate_open = 1;
	pthread_cond_broadcast(&gate_opened);
	pthread_mutex_unlock(&gate_lock);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	struct itimerval off = { { 0, 0 }, { 0, 0 } };
	setitimer(ITIMER_REAL, &off, NULL);
	printf("counter=%ld\n", counter);
	printf("done\n");
	return atomic_load(&alarms) > 0 && rotated ? 0 : 1;
}
