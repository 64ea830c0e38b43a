/* tests/corpus/pshared_probe.c - a preload library for scripts/corpus
 * --pshared: notes every request for a process-shared synchronization
 * object (an attribute set to PTHREAD_PROCESS_SHARED, sem_init with a
 * non-zero pshared, sem_open) by appending one line per call to the file
 * named by PSHARED_PROBE_LOG, then does what was asked.  weft traces each
 * process on its own, so such an object used by a parent and its fork
 * child is seen from one side in each trace. */
#include <dlfcn.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void note(const char *what)
{
	const char *path = getenv("PSHARED_PROBE_LOG");
	if (!path)
		return;
	char line[256];
	char exe[128] = "?";
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0)
		exe[n] = '\0';
	int len = snprintf(line, sizeof line, "%d %s %s\n", (int)getpid(), exe, what);
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (write(fd, line, (size_t)len) < 0) {
		/* Nothing to do: the probe must not change the program. */
	}
	close(fd);
}

#define REAL(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

#define SETPSHARED(attr_type, name)                          \
	int name(attr_type *a, int pshared)                  \
	{                                                    \
		if (pshared == PTHREAD_PROCESS_SHARED)       \
			note(#name);                         \
		return REAL(name)(a, pshared);               \
	}

SETPSHARED(pthread_mutexattr_t, pthread_mutexattr_setpshared)
SETPSHARED(pthread_condattr_t, pthread_condattr_setpshared)
SETPSHARED(pthread_rwlockattr_t, pthread_rwlockattr_setpshared)
SETPSHARED(pthread_barrierattr_t, pthread_barrierattr_setpshared)

int pthread_spin_init(pthread_spinlock_t *lock, int pshared)
{
	if (pshared == PTHREAD_PROCESS_SHARED)
		note("pthread_spin_init");
	return REAL(pthread_spin_init)(lock, pshared);
}

int sem_init(sem_t *s, int pshared, unsigned value)
{
	if (pshared)
		note("sem_init");
	return REAL(sem_init)(s, pshared, value);
}

sem_t *sem_open(const char *name, int oflag, ...)
{
	va_list ap;
	va_start(ap, oflag);
	mode_t mode = 0;
	unsigned value = 0;
	if (oflag & O_CREAT) {
		mode = va_arg(ap, mode_t);
		value = va_arg(ap, unsigned);
	}
	va_end(ap);
	note("sem_open");
	return REAL(sem_open)(name, oflag, mode, value);
}
