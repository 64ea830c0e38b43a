/*
 * sig_in_section.c - a signal handler that posts a semaphore while its
 * thread is inside weft's own code, forced.
 *
 * Run under the test build of libweft.so (libweft-test.so):
 *
 *   sig_in_section CASE
 *
 * Thread A is parked inside weft (a test hook), main sends it SIGUSR1,
 * whose handler calls sem_post(&sem), and once the handler has run A is
 * let go.  CASE says where A is parked:
 *
 *   seq     A's sem_post section, before its sequence number is taken
 *   call    the same section, its event written, the real post not made
 *   close   the same section, about to close
 *   rotate  as call, and the generation rotates while A is parked
 *   late    as seq, the generation rotates while A is parked and main
 *           posts in the new one before the handler runs (the handler's
 *           post is numbered after an event of the later generation)
 *   unwind  capturing the stack of a blocking sem_wait (run it with
 *           WEFT_STACKS=1)
 *   flood   as call, and the handler posts 20 times: more events than a
 *           thread keeps for its handlers, so some are lost, and A ends
 *           right after (the loss must be reported before its end)
 *
 * Then main takes every post back.  stdout: "posts N" (the sem_post calls
 * made on all semaphores) and "ok"; exit 1 when the semaphore's count is
 * wrong, 2 when the hooks are missing or the arguments are wrong.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { POINT_SEQ = 1, POINT_CALL = 2, POINT_CLOSE = 3, POINT_UNWIND = 4 };

static void (*hook_arm)(int point, const void *object, int tid);
static int (*hook_parked)(void);
static void (*hook_release)(void);
static unsigned (*hook_generation)(void);
static void (*hook_rotate)(void);

static sem_t sem, blocker;
static _Atomic int a_tid, a_go, handled, posts;
static int handler_posts = 1;

static void wait_for(_Atomic int *v, int value)
{
	while (atomic_load(v) < value)
		sched_yield();
}

static void post(sem_t *s)
{
	sem_post(s);
	atomic_fetch_add(&posts, 1);
}

static void on_usr1(int sig)
{
	(void)sig;
	for (int i = 0; i < handler_posts; i++)
		post(&sem);
	atomic_store(&handled, 1);
}

static void *a_post(void *arg)
{
	atomic_store(&a_tid, (int)syscall(SYS_gettid));
	wait_for(&a_go, 1);
	post(&sem);
	return arg;
}

static void *a_blocking_wait(void *arg)
{
	atomic_store(&a_tid, (int)syscall(SYS_gettid));
	wait_for(&a_go, 1);
	sem_wait(&blocker);
	return arg;
}

static void *rotate(void *arg)
{
	hook_rotate();
	return arg;
}

static int resolve_hooks(void)
{
	hook_arm = (void (*)(int, const void *, int))dlsym(RTLD_DEFAULT, "weft_test_arm");
	hook_parked = (int (*)(void))dlsym(RTLD_DEFAULT, "weft_test_parked");
	hook_release = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_release");
	hook_generation = (unsigned (*)(void))dlsym(RTLD_DEFAULT, "weft_test_generation");
	hook_rotate = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_rotate");
	return hook_arm && hook_parked && hook_release && hook_generation && hook_rotate;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		int point, rotates, main_posts_first;
	} cases[] = {
		{ "seq", POINT_SEQ, 0, 0 },      { "call", POINT_CALL, 0, 0 },
		{ "close", POINT_CLOSE, 0, 0 },  { "rotate", POINT_CALL, 1, 0 },
		{ "late", POINT_SEQ, 1, 1 },     { "unwind", POINT_UNWIND, 0, 0 },
		{ "flood", POINT_CALL, 0, 0 },
	};
	int c = -1;
	for (int i = 0; argc == 2 && i < (int)(sizeof cases / sizeof cases[0]); i++)
		if (!strcmp(argv[1], cases[i].name))
			c = i;
	if (c < 0) {
		fprintf(stderr, "usage: sig_in_section "
			"seq|call|close|rotate|late|unwind|flood\n");
		return 2;
	}
	if (!resolve_hooks()) {
		fprintf(stderr, "sig_in_section: run me under libweft-test.so\n");
		return 2;
	}
	int unwind = cases[c].point == POINT_UNWIND;
	if (!strcmp(argv[1], "flood"))
		handler_posts = 20;
	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_handler = on_usr1;
	sigaction(SIGUSR1, &act, NULL);
	sem_init(&sem, 0, 0);
	sem_init(&blocker, 0, 0);

	pthread_t a;
	pthread_create(&a, NULL, unwind ? a_blocking_wait : a_post, NULL);
	wait_for(&a_tid, 1);
	hook_arm(cases[c].point, unwind ? NULL : &sem, atomic_load(&a_tid));
	atomic_store(&a_go, 1);
	while (!hook_parked())
		sched_yield();

	pthread_t advancer;
	if (cases[c].rotates) {
		unsigned before = hook_generation();
		pthread_create(&advancer, NULL, rotate, NULL);
		while (hook_generation() == before)
			sched_yield();
	}
	if (cases[c].main_posts_first)
		post(&sem);
	syscall(SYS_tgkill, getpid(), atomic_load(&a_tid), SIGUSR1);
	/* Inside the unwinder the handler may wait for the capture to end. */
	if (!unwind)
		wait_for(&handled, 1);
	hook_release();
	wait_for(&handled, 1);
	if (cases[c].rotates)
		pthread_join(advancer, NULL);
	if (unwind)
		post(&blocker);
	pthread_join(a, NULL);

	int expected = atomic_load(&posts) - unwind, value = -1;
	for (int i = 0; i < expected; i++)
		sem_wait(&sem);
	sem_getvalue(&sem, &value);
	printf("posts %d\n", atomic_load(&posts));
	if (value != 0) {
		printf("semaphore value %d after taking %d posts\n", value, expected);
		return 1;
	}
	printf("ok\n");
	return 0;
}
