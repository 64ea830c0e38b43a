/*
 * fork_collide.c - a fork child numbering two mutexes whose addresses share
 * a home slot in weft's table of sequence counters (run under the test
 * build of libweft.so, which says where an address's slot is).
 *
 * The parent locks mutex x, so its thread's cache of counter slots holds
 * x's.  The child starts with an empty table but the same cache: it locks
 * x, then y (whose probe lands on the slot x had in the parent), then x
 * again.  A cached slot used without checking that it still names x would
 * give x and y one counter, and x's numbers in the child's trace a gap.
 * Prints "ok" when the child exits 0.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define REGION (64u << 20)

static void lock_unlock(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	pthread_mutex_unlock(m);
}

int main(void)
{
	unsigned (*home)(const void *) =
		(unsigned (*)(const void *))dlsym(RTLD_DEFAULT, "weft_test_objseq_home");
	if (!home) {
		fprintf(stderr, "fork_collide: needs the test build of libweft.so\n");
		return 2;
	}
	char *region = mmap(NULL, REGION, PROT_READ | PROT_WRITE,
			    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (region == MAP_FAILED)
		return 2;
	pthread_mutex_t *x = (pthread_mutex_t *)(void *)region, *y = NULL;
	for (size_t at = 64; at + sizeof *y <= REGION; at += 8)
		if (home(region + at) == home(x)) {
			y = (pthread_mutex_t *)(void *)(region + at);
			break;
		}
	if (!y) {
		fprintf(stderr, "fork_collide: no address shares x's slot\n");
		return 2;
	}
	pthread_mutex_init(x, NULL);
	pthread_mutex_init(y, NULL);
	lock_unlock(x);

	pid_t child = fork();
	if (child == 0) {
		lock_unlock(x);
		lock_unlock(y);
		lock_unlock(x);
		_exit(0);
	}
	int status;
	if (child < 0 || waitpid(child, &status, 0) != child ||
	    !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	puts("ok");
	return 0;
}
