/*
 * wrap_proc.c - new processes and the end of a process image: fork,
 * daemon, vfork, the exec family, _exit and _Exit.
 *
 * fork: weft's fork handlers (pthread_atfork, so they also run for the
 * forks libc makes itself, as daemon() and forkpty() do) hold weft's locks
 * across the fork, and in the child start a trace file of its own
 * (WEFT_OUTPUT's %p is its pid) whose first record is FORK with pid 0; the
 * parent records FORK with the child's pid when the program called fork.
 * daemon: the original process ends inside the call with libc's own _exit,
 * so its trace is completed as its fork returns there.  vfork: the child
 * runs on the parent's memory until it execs or exits, so nothing weft does
 * in it may change weft's state: the call is wrapped (in assembly, as a
 * vfork wrapper cannot keep a stack frame) so that every wrapper in the
 * child passes straight through.  exec: the EXEC record is written and the
 * whole trace is made complete before the real call, since a successful
 * exec never returns; when it fails, tracing resumes in a new generation.
 * _exit and _Exit end the process without running destructors: weft
 * completes the trace first (unless the call comes from inside weft's own
 * code, as from a signal handler that interrupted it).
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emit.h"
#include "enter.h"
#include "real.h"

WEFT_REAL(fork)
WEFT_REAL(daemon)
WEFT_REAL(vfork)
WEFT_REAL(_exit)
WEFT_REAL(_Exit)
WEFT_REAL(execve)
WEFT_REAL(execv)
WEFT_REAL(execvp)
WEFT_REAL(execvpe)

static void fork_marker(struct weft_thread *self, uint64_t ts, pid_t pid, int e)
{
	uint32_t g = weft_ev_begin(self);
	if (g)
		WEFT_EMIT(self, g, FORK, ts, (uint64_t)pid, pid < 0 ? (uint64_t)e : 0);
	weft_ev_end(self);
}

/* ---- fork handlers ---- */

/* Whether the fork in progress on this thread holds weft's locks. */
static __thread int fork_locked;
/* Set while this thread is inside daemon(). */
static __thread int in_daemon;
/* daemon()'s fork completed the original process's trace. */
static __thread int daemon_ended_trace;

static void fork_prepare(void)
{
	/* A fork from inside weft's own code (a signal handler that
	 * interrupted it) cannot wait for weft's locks: this thread may hold
	 * them.  Its child is not traced. */
	fork_locked = weft_initialized && !weft_busy;
	if (fork_locked)
		weft_fork_prepare();
}

static void fork_parent(void)
{
	if (!fork_locked)
		return;
	fork_locked = 0;
	weft_fork_parent();
	if (in_daemon && !daemon_ended_trace) {
		/* The original process leaves through libc's _exit, which no
		 * wrapper sees: its trace ends now (and resumes if daemon()
		 * returns here after all). */
		weft_end_trace(WEFT_END_DAEMON);
		daemon_ended_trace = 1;
	}
}

/* The child of a fork weft could not prepare for shares the parent's
 * trace file and state: it lets go of both and traces nothing. */
static void forget_parent_trace(void)
{
	atomic_store(&weft_generation, 0);
	weft_initialized = 0;
	if (weft_out_fd >= 0)
		syscall(SYS_close, weft_out_fd);
	weft_out_fd = -1;
}

static void fork_child(void)
{
	if (!fork_locked) {
		if (weft_initialized)
			forget_parent_trace();
		return;
	}
	fork_locked = 0;
	weft_after_fork_child();
	if (weft_self_tls)
		fork_marker(weft_self_tls, weft_now(), 0, 0);
}

/* Registered first, so weft's prepare handler runs after the program's
 * (whose calls are then still traced) and its child and parent handlers
 * before them (so the child's are traced into the child's own file). */
__attribute__((constructor(102))) static void register_fork_handlers(void)
{
	pthread_atfork(fork_prepare, fork_parent, fork_child);
}

WEFT_VISIBLE pid_t fork(void)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(fork)();
	pid_t pid = REAL(fork)();
	int e = errno;
	if (pid != 0)
		fork_marker(self, weft_now(), pid, e);
	errno = e;
	return pid;
}

WEFT_VISIBLE int daemon(int nochdir, int noclose)
{
	pid_t original = getpid();
	in_daemon = 1;
	daemon_ended_trace = 0;
	int r = REAL(daemon)(nochdir, noclose);
	int e = errno;
	in_daemon = 0;
	/* Back in the original process: the fork failed. */
	if (daemon_ended_trace && getpid() == original)
		weft_resume_trace();
	daemon_ended_trace = 0;
	errno = e;
	return r;
}

/* ---- vfork ---- */

#if defined(__x86_64__)
/* The caller's return address while the vfork child runs on the stack
 * (both processes see this thread's slot; only the parent writes it). */
__thread void *weft_vfork_return __attribute__((tls_model("initial-exec")));

/* Before the real vfork: every wrapper passes through until the parent
 * resumes (the child never undoes this: it execs or exits).  Returns the
 * real vfork. */
WEFT_HIDDEN void *weft_vfork_enter(void)
{
	weft_busy++;
	return (void *)REAL(vfork);
}

/* In the parent once the child has exec'd or exited (or vfork failed). */
WEFT_HIDDEN void weft_vfork_parent(void)
{
	weft_busy--;
}

/*
 * vfork itself: the real vfork returns twice on one stack, the child's
 * return first, after which the child's calls overwrite the stack below
 * its frame.  So the return address is moved off the stack into
 * weft_vfork_return before the real call and put back after it, in each
 * process; the parent then lowers weft_busy again, keeping vfork's result
 * (and errno) for its caller.
 */
__asm__(
	".text\n"
	".globl vfork\n"
	".type vfork, @function\n"
	"vfork:\n"
	"	subq $8, %rsp\n"
	"	call weft_vfork_enter\n"
	"	addq $8, %rsp\n"
	"	movq %rax, %r11\n"
	"	popq %rdx\n"
	"	movq weft_vfork_return@gottpoff(%rip), %rcx\n"
	"	movq %rdx, %fs:(%rcx)\n"
	"	call *%r11\n"
	"	movq weft_vfork_return@gottpoff(%rip), %rcx\n"
	"	pushq %fs:(%rcx)\n"
	"	testl %eax, %eax\n"
	"	jz 1f\n"
	"	pushq %rax\n"
	"	call weft_vfork_parent\n"
	"	popq %rax\n"
	"1:	ret\n"
	".size vfork, .-vfork\n");
#endif

/* ---- exec ---- */

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
		WEFT_EMIT_BYTES(self, g, EXEC, ts, path, len);
	}
	weft_ev_end(self);
	weft_end_trace(WEFT_END_EXEC);
	errno = saved;
	return 1;
}

static void exec_failed(int traced, int e)
{
	if (!traced)
		return;
	weft_resume_trace();
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
		weft_end_trace(WEFT_END_QUICK_EXIT);
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
