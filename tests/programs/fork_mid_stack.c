/*
 * fork_mid_stack.c - a fork while another thread is adding a stack to
 * weft's stack table (run under the test build of libweft.so, which parks
 * that thread between claiming the stack's slot and publishing it).
 *
 * Thread A arms the park point for itself and makes a call that records a
 * stack; while it is parked, main forks.  The child starts a thread that
 * makes the same call from the same place, so it captures the very stack
 * A was adding.  The child's trace must define every stack id it uses:
 * a slot the child finds finished must be one the child will also write
 * out with its tables.  Prints "ok" when the child exits 0.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { POINT_STACK_PUBLISH = 5 }; /* testhook.h */

static void (*arm)(int, const void *, int);
static int (*parked)(void);
static void (*release)(void);

static void *same_call(void *park)
{
	if (park)
		arm(POINT_STACK_PUBLISH, NULL, (int)syscall(SYS_gettid));
	usleep(1000); /* a blocking call: its SYSCALL_BEGIN has a stack */
	return NULL;
}

int main(void)
{
	arm = (void (*)(int, const void *, int))dlsym(RTLD_DEFAULT, "weft_test_arm");
	parked = (int (*)(void))dlsym(RTLD_DEFAULT, "weft_test_parked");
	release = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_release");
	if (!arm || !parked || !release) {
		fprintf(stderr, "fork_mid_stack: needs the test build of libweft.so\n");
		return 2;
	}
	pthread_t a;
	if (pthread_create(&a, NULL, same_call, (void *)1) != 0)
		return 1;
	while (!parked()) {
		struct timespec ms = { 0, 1000000 };
		syscall(SYS_nanosleep, &ms, NULL);
	}
	pid_t pid = fork();
	if (pid == 0) {
		pthread_t b;
		if (pthread_create(&b, NULL, same_call, NULL) != 0)
			_exit(1);
		pthread_join(b, NULL);
		exit(0);
	}
	release();
	pthread_join(a, NULL);
	int status;
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return 1;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	puts("ok");
	return 0;
}
