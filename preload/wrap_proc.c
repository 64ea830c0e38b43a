/*
 * wrap_proc.c - fork and the exec family.
 *
 * fork: the parent records FORK with the child's pid; the child starts a
 * trace file of its own (WEFT_OUTPUT's %p is its pid) whose first record is
 * FORK with pid 0.  exec: the EXEC record is written and the whole trace is
 * made complete before the real call, since a successful exec never
 * returns; when it fails, tracing resumes in a new generation.  A vfork
 * child shares the parent's memory, so its exec touches nothing of weft's.
 * _exit and _Exit end the process without running destructors: weft
 * completes the trace first (unless the call comes from inside weft's own
 * code, as from a signal handler that interrupted it).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <unistd.h>

#include "emit.h"
#include "real.h"

WEFT_REAL(fork)
WEFT_REAL(_exit)
WEFT_REAL(_Exit)
WEFT_REAL(execve)
WEFT_REAL(execv)
WEFT_REAL(execvp)
WEFT_REAL(execvpe)

int weft_is_vfork_child(void);

static void fork_marker(struct weft_thread *self, uint64_t ts, pid_t pid, int e)
{
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, FORK, ts, weft_zigzag(pid),
			  pid < 0 ? (uint64_t)e : 0);
	weft_ev_end(self);
}

WEFT_VISIBLE pid_t fork(void)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(fork)();
	uint64_t ts = weft_now();
	weft_fork_prepare();
	pid_t pid = REAL(fork)();
	int e = errno;
	if (pid == 0) {
		weft_after_fork_child();
		if (weft_self_tls)
			fork_marker(weft_self_tls, weft_now(), 0, 0);
	} else {
		weft_fork_parent();
		fork_marker(self, ts, pid, e);
	}
	errno = e;
	return pid;
}

/* Records EXEC and completes the trace; returns 1 when it did (so a failed
 * exec resumes tracing). */
static int exec_begin(const char *path)
{
	if (weft_is_vfork_child())
		return 0;
	struct weft_thread *self = weft_enter();
	if (!self)
		return 0;
	int saved = errno;
	uint64_t ts = weft_now();
	size_t len = path ? strnlen(path, 1024) : 0;
	uint32_t g = weft_ev_begin(self);
	if (g && self->pos[g & 1] + len + 2 * WEFT_ULEB_MAX + 1 >
			 weft_config.buffer_size)
		g = weft_buffer_prepare(self, g);
	if (g && self->pos[g & 1] + len + 2 * WEFT_ULEB_MAX + 1 <=
			 weft_config.buffer_size) {
		unsigned s = g & 1;
		uint8_t *p = weft_put_head(self, g, WEFT_EV_EXEC, ts);
		p = weft_put_uleb(p, len);
		memcpy(p, path, len);
		self->pos[s] = (uint32_t)(p + len - self->buf[s]);
	}
	weft_ev_end(self);
	weft_stop_and_flush("exec");
	errno = saved;
	return 1;
}

static void exec_failed(int traced, int e)
{
	if (!traced)
		return;
	weft_restart_after_exec_failure();
	struct weft_thread *self = weft_enter();
	if (self) {
		uint64_t ts = weft_now();
		uint32_t g = weft_ev_begin(self);
		if (g)
			WEFT_EMIT(self, g, EXEC_FAILED, ts, (uint64_t)e);
		weft_ev_end(self);
	}
	errno = e;
}

WEFT_VISIBLE int execve(const char *path, char *const argv[], char *const envp[])
{
	int traced = exec_begin(path);
	int r = REAL(execve)(path, argv, envp);
	exec_failed(traced, errno);
	return r;
}

WEFT_VISIBLE int execv(const char *path, char *const argv[])
{
	int traced = exec_begin(path);
	int r = REAL(execv)(path, argv);
	exec_failed(traced, errno);
	return r;
}

WEFT_VISIBLE int execvp(const char *file, char *const argv[])
{
	int traced = exec_begin(file);
	int r = REAL(execvp)(file, argv);
	exec_failed(traced, errno);
	return r;
}

WEFT_VISIBLE int execvpe(const char *file, char *const argv[],
			 char *const envp[])
{
	int traced = exec_begin(file);
	int r = REAL(execvpe)(file, argv, envp);
	exec_failed(traced, errno);
	return r;
}

/* The list forms gather their arguments into a vector on the stack (as
 * glibc does) and go through the vector forms above. */
#define GATHER_ARGS(arg0, argv, want_envp, envp_out)                              \
	size_t argc_ = 1;                                                    \
	va_list ap_;                                                         \
	va_start(ap_, arg0);                                                 \
	while (va_arg(ap_, const char *))                                    \
		argc_++;                                                     \
	va_end(ap_);                                                         \
	const char *argv[argc_ + 1];                                         \
	argv[0] = arg0;                                                      \
	va_start(ap_, arg0);                                                 \
	for (size_t i_ = 1; i_ <= argc_; i_++)                               \
		argv[i_] = va_arg(ap_, const char *);                        \
	if (want_envp)                                                       \
		*(envp_out) = va_arg(ap_, char *const *);                    \
	va_end(ap_);

WEFT_VISIBLE int execl(const char *path, const char *arg, ...)
{
	GATHER_ARGS(arg, argv, 0, (char *const **)NULL)
	return execv(path, (char *const *)argv);
}

WEFT_VISIBLE int execlp(const char *file, const char *arg, ...)
{
	GATHER_ARGS(arg, argv, 0, (char *const **)NULL)
	return execvp(file, (char *const *)argv);
}

WEFT_VISIBLE int execle(const char *path, const char *arg, ...)
{
	char *const *envp = NULL;
	GATHER_ARGS(arg, argv, 1, &envp)
	return execve(path, (char *const *)argv, envp);
}

static void complete_before_exit(void)
{
	if (!weft_busy && !weft_is_vfork_child())
		weft_stop_and_flush("_exit");
}

WEFT_VISIBLE void _exit(int status)
{
	complete_before_exit();
	REAL(_exit)(status);
	__builtin_unreachable();
}

WEFT_VISIBLE void _Exit(int status)
{
	complete_before_exit();
	REAL(_Exit)(status);
	__builtin_unreachable();
}
