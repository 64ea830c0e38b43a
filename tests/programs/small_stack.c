/*
 * small_stack.c PATH - runs one path through weft on a thread whose stack
 * is PTHREAD_STACK_MIN bytes (with a guard page below it), and prints how
 * many bytes of that stack the path used below the thread's start
 * routine, found from the deepest byte no longer holding the fill
 * pattern.  PATH is one of:
 *   fork   fork; the child reports its own use and exits
 *   exec   exec this program again, which prints "exec'd"
 *   calls  a mutex, a timed condvar wait, a pipe write and read, a sleep,
 *          and a thread created and joined from the small thread, which
 *          then ends (its end is recorded on it)
 *   exit   exit(0) from the small thread (the trace is completed there)
 *   crash  SIGSEGV on the small thread
 * Each path prints "PATH used N" (N in bytes, rounded up to 256) unless it
 * ends the process first.
 */
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define FILL 0xa5

static unsigned char *stack_lo, *thread_top;
static size_t stack_size;
static const char *path;
static const char *self_exe;

static size_t used(void)
{
	size_t i = 0;
	while (i < stack_size && stack_lo[i] == FILL)
		i++;
	return ((size_t)(thread_top - (stack_lo + i)) + 255) / 256 * 256;
}

static void report(const char *what)
{
	printf("%s used %zu\n", what, used());
	fflush(stdout);
}

static void *nothing(void *arg)
{
	return arg;
}

static void calls(void)
{
	pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	pthread_cond_t c = PTHREAD_COND_INITIALIZER;
	pthread_mutex_lock(&m);
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	pthread_cond_timedwait(&c, &m, &until);
	pthread_mutex_unlock(&m);
	int fds[2];
	char byte = 'x';
	if (pipe(fds) != 0 || write(fds[1], &byte, 1) != 1 || read(fds[0], &byte, 1) != 1)
		exit(3);
	close(fds[0]);
	close(fds[1]);
	struct timespec tick = { 0, 1000 };
	nanosleep(&tick, NULL);
	pthread_t t;
	if (pthread_create(&t, NULL, nothing, NULL) != 0 || pthread_join(t, NULL) != 0)
		exit(4);
}

static void *small(void *arg)
{
	(void)arg;
	thread_top = __builtin_frame_address(0);
	if (!strcmp(path, "fork")) {
		pid_t pid = fork();
		if (pid == 0) {
			report("fork child");
			_exit(0);
		}
		int st;
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != 0)
			exit(5);
		report("fork parent");
	} else if (!strcmp(path, "exec")) {
		execl(self_exe, self_exe, "exec'd", (char *)NULL);
		exit(6);
	} else if (!strcmp(path, "calls")) {
		calls();
		report("calls");
	} else if (!strcmp(path, "exit")) {
		exit(0);
	} else if (!strcmp(path, "crash")) {
		raise(SIGSEGV);
	}
	return NULL;
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "exec'd")) {
		printf("exec'd\n");
		return 0;
	}
	if (argc < 2)
		return 2;
	path = argv[1];
	self_exe = argv[0];
	long page = sysconf(_SC_PAGESIZE);
	stack_size = PTHREAD_STACK_MIN;
	unsigned char *map = mmap(NULL, stack_size + (size_t)page, PROT_READ | PROT_WRITE,
				  MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (map == MAP_FAILED || mprotect(map, (size_t)page, PROT_NONE) != 0)
		return 2;
	stack_lo = map + page;
	memset(stack_lo, FILL, stack_size);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstack(&attr, stack_lo, stack_size);
	pthread_t t;
	if (pthread_create(&t, &attr, small, NULL) != 0)
		return 1;
	pthread_join(t, NULL);
	return 0;
}
