/*
 * holder_sites.c - acquisitions whose sites are known, for the holder
 * sites of `weft stats` and their stacks across generations and fork:
 *
 *   hold     T1 takes the lock in hold_long() and holds it 100 ms while
 *            T2 waits for it in wait_short()
 *   two      T1 takes the lock three times in site_a(), three in site_b()
 *   wrapped  T1 takes the lock through one function, lock_for(), three
 *            times from caller_a() and three from caller_b()
 *   rotate   site_a() takes the lock, the process sleeps across
 *            generation boundaries (run it with a short WEFT_ROTATE_MS),
 *            site_a() takes it again, then a fork child takes it there
 *
 * stdout: "NAME 0xADDRESS" for every function that takes the lock, and
 * "lock 0xADDRESS".
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_int held;
/* Loops the compiler cannot unroll: each call below is one call site. */
static volatile int reps = 3;

__attribute__((noinline)) static void hold_long(void)
{
	pthread_mutex_lock(&lock);
	atomic_store(&held, 1);
	usleep(100000);
	pthread_mutex_unlock(&lock);
}

__attribute__((noinline)) static void wait_short(void)
{
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
}

__attribute__((noinline)) static void site_a(void)
{
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
}

__attribute__((noinline)) static void site_b(void)
{
	pthread_mutex_lock(&lock);
	pthread_mutex_unlock(&lock);
}

/* A lock wrapper: every acquisition's return address is in here. */
__attribute__((noinline)) static void lock_for(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
}

__attribute__((noinline)) static void caller_a(void)
{
	lock_for(&lock);
	pthread_mutex_unlock(&lock);
}

__attribute__((noinline)) static void caller_b(void)
{
	lock_for(&lock);
	pthread_mutex_unlock(&lock);
}

static void *waiter(void *arg)
{
	(void)arg;
	while (!atomic_load(&held))
		usleep(1000);
	wait_short();
	return NULL;
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	printf("lock %p\nhold_long %p\nwait_short %p\nsite_a %p\nsite_b %p\n"
	       "lock_for %p\ncaller_a %p\ncaller_b %p\n",
	       (void *)&lock, (void *)hold_long, (void *)wait_short, (void *)site_a,
	       (void *)site_b, (void *)lock_for, (void *)caller_a, (void *)caller_b);
	fflush(stdout);
	if (!strcmp(mode, "hold")) {
		pthread_t t;
		pthread_create(&t, NULL, waiter, NULL);
		hold_long();
		pthread_join(t, NULL);
	} else if (!strcmp(mode, "two")) {
		for (int i = 0; i < reps; i++)
			site_a();
		for (int i = 0; i < reps; i++)
			site_b();
	} else if (!strcmp(mode, "wrapped")) {
		for (int i = 0; i < reps; i++)
			caller_a();
		for (int i = 0; i < reps; i++)
			caller_b();
	} else if (!strcmp(mode, "rotate")) {
		site_a();
		usleep(400000);
		site_a();
		pid_t child = fork();
		if (child == 0) {
			site_a();
			_exit(0);
		}
		waitpid(child, NULL, 0);
	} else {
		fprintf(stderr, "usage: holder_sites hold|two|wrapped|rotate\n");
		return 2;
	}
	return 0;
}
