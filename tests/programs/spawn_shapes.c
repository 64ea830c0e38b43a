/*
 * spawn_shapes.c - new processes made without fork(): vfork followed by
 * exec, vfork followed by _exit, posix_spawn and posix_spawnp.
 *
 * `spawn_shapes` takes a mutex LEAF_LOCKS times, then:
 *   - vfork; the child writes "vfork" to descriptor 77 (/dev/null, opened
 *     by the parent) and execs `spawn_shapes leaf`;
 *   - vfork; the child stores 42 in a variable the parent then reads (the
 *     child shares its memory) and leaves with _exit(7);
 *   - posix_spawn and posix_spawnp of `spawn_shapes leaf`;
 * waits for each child and prints one line per child.  `spawn_shapes leaf`
 * takes a mutex LEAF_LOCKS times and exits 0.
 *
 * stdout: "vfork exec: 0", "vfork _exit: 7 shared 42", "posix_spawn: 0",
 * "posix_spawnp: 0"; exit 0.
 */
#include <fcntl.h>
#include <pthread.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define LEAF_LOCKS 50
#define CHILD_FD 77

extern char **environ;

static void lock_a_while(void)
{
	static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
	for (int i = 0; i < LEAF_LOCKS; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
}

static int exit_code(pid_t pid)
{
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int main(int argc, char **argv)
{
	lock_a_while();
	if (argc > 1 && !strcmp(argv[1], "leaf"))
		return 0;

	char *leaf[] = { argv[0], "leaf", NULL };
	int devnull = open("/dev/null", O_WRONLY);
	if (devnull < 0 || dup2(devnull, CHILD_FD) != CHILD_FD)
		return 1;
	close(devnull);

	pid_t pid = vfork();
	if (pid == 0) {
		if (write(CHILD_FD, "vfork", 5) != 5)
			_exit(2);
		execv("/proc/self/exe", leaf);
		_exit(127);
	}
	printf("vfork exec: %d\n", pid < 0 ? -1 : exit_code(pid));

	volatile int shared = 0;
	pid = vfork();
	if (pid == 0) {
		shared = 42;
		_exit(7);
	}
	printf("vfork _exit: %d shared %d\n", pid < 0 ? -1 : exit_code(pid), shared);

	if (posix_spawn(&pid, "/proc/self/exe", NULL, NULL, leaf, environ) != 0)
		return 1;
	printf("posix_spawn: %d\n", exit_code(pid));
	if (posix_spawnp(&pid, argv[0], NULL, NULL, leaf, environ) != 0)
		return 1;
	printf("posix_spawnp: %d\n", exit_code(pid));
	return 0;
}
