/*
 * holder_sites.c - acquisitions whose sites are known, for the holder
 * sites of `weft stats` and their stacks across generations and fork:
 *
 *   hold     T1 takes the lock in hold_long() and holds it 100 ms while
 *            T2 waits for it in wait_short()
 *   two      T1 takes the lock three times in site_a(), three in site_b()
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
	printf("lock %p\nhold_long %p\nwait_short %p\nsite_a %p\nsite_b %p\n",
	       (void *)&lock, (void *)hold_long, (void *)wait_short, (void *)site_a,
	       (void *)site_b);
	fflush(stdout);
	if (!strcmp(mode, "hold")) {
		pthread_t t;
		pthread_create(&t, NULL, waiter, NULL);
		hold_long();
		pthread_join(t, NULL);
	} else if (!strcmp(mode, "two")) {
		for (int i = 0; i < 3; i++)
			site_a();
		for (int i = 0; i < 3; i++)
			site_b();
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
		fprintf(stderr, "usage: holder_sites hold|two|rotate\n");
		return 2;
	}
	return 0;
}
