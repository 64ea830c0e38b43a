/*
 * control.c - start, stop and rotation: the control signal and the control
 * thread that acts on it.
 *
 * The signal handler does nothing but async-signal-safe work: it writes a
 * request (start, stop or toggle, and who asked) into the control pipe
 * (channel.c), where the rest of weft sends its requests too.  The control
 * thread reads the pipe and performs each request in order with
 * weft_control_lock held, then acknowledges it to the sender with the same
 * signal; it also rotates generations on time and size.  It is the only
 * place tracing is switched, apart from process exit, exec and fork.
 *
 * The control thread is weft's and nobody else's: it is never traced, it
 * blocks every signal but weft's, and it ends itself when it is the last
 * thread left (so a program whose main thread calls pthread_exit still
 * ends when its last thread does).  If the program installs its own handler
 * for weft's signal (wrap_signal.c), weft keeps its handler and calls the
 * program's for every delivery that is not a weft request.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../format/control.h"
#include "real.h"
#include "weft.h"

WEFT_REAL(pthread_create)
WEFT_REAL(pthread_exit)
WEFT_REAL(pthread_setname_np)
WEFT_REAL(sigaction)

static _Atomic int handler_installed;
static pid_t ctl_tid;

/* The program's own disposition for weft's signal, as it set it. */
static struct sigaction program_action;
static _Atomic int program_has_handler;

/* Fatal signals: the dying thread asks the control thread to complete the
 * trace (in an ordinary context, where every lock weft takes can be
 * waited for) and waits, at most timeout_ms, for it to be done.  Returns 1
 * when the trace was completed. */
static _Atomic uint32_t ends_done;

int weft_control_end_and_wait(int timeout_ms)
{
	if (!weft_channel_listening() || weft_gettid() == ctl_tid)
		return 0;
	uint32_t before = atomic_load(&ends_done);
	weft_channel_send(WEFT_CHANNEL_END, 0);
	struct timespec start, now;
	clock_gettime(CLOCK_MONOTONIC, &start);
	while (atomic_load(&ends_done) == before) {
		clock_gettime(CLOCK_MONOTONIC, &now);
		int64_t left_ns = (int64_t)timeout_ms * 1000000 -
			((now.tv_sec - start.tv_sec) * 1000000000LL +
			 (now.tv_nsec - start.tv_nsec));
		if (left_ns <= 0)
			return 0;
		struct timespec left = { left_ns / 1000000000, left_ns % 1000000000 };
		syscall(SYS_futex, &ends_done, FUTEX_WAIT_PRIVATE, before, &left, NULL, 0);
	}
	return 1;
}

static void end_for_fatal_signal(void)
{
	weft_end_trace(WEFT_END_FATAL_SIGNAL);
	atomic_fetch_add(&ends_done, 1);
	syscall(SYS_futex, &ends_done, FUTEX_WAKE_PRIVATE, INT32_MAX, NULL, NULL, 0);
}

static void call_program_handler(int sig, siginfo_t *info, void *uctx)
{
	if (program_action.sa_flags & SA_SIGINFO)
		program_action.sa_sigaction(sig, info, uctx);
	else
		program_action.sa_handler(sig);
}

static void on_signal(int sig, siginfo_t *info, void *uctx)
{
	int saved = errno;
	int value = info ? info->si_value.sival_int : 0;
	if (info && info->si_code == SI_QUEUE &&
	    (value & (int)WEFT_MAGIC_MASK) == (int)WEFT_REQUEST_MAGIC) {
		weft_channel_send(value & 0xff, info->si_pid);
	} else if (atomic_load(&program_has_handler)) {
		errno = saved;
		call_program_handler(sig, info, uctx);
		return;
	} else if (!(info && info->si_code == SI_QUEUE &&
		     (value & (int)WEFT_MAGIC_MASK) == (int)WEFT_ACK_MAGIC)) {
		/* A plain delivery (kill -s SIG PID) toggles. */
		weft_channel_send(WEFT_REQ_TOGGLE, 0);
	}
	errno = saved;
}

/* ---- the control thread ---- */

static void acknowledge(pid_t to, int outcome)
{
	if (to <= 0)
		return;
	union sigval v = { .sival_int = (int)WEFT_ACK_MAGIC | outcome };
	sigqueue(to, weft_config.signal, v);
}

static void perform(const struct weft_channel_request *r)
{
	weft_lock(&weft_control_lock);
	uint32_t gen = atomic_load(&weft_generation);
	int op = r->op == WEFT_REQ_TOGGLE ? (gen ? WEFT_REQ_STOP : WEFT_REQ_START) : r->op;
	int outcome;
	if (op == WEFT_REQ_START) {
		if (gen)
			outcome = WEFT_ACK_ALREADY_STARTED;
		else
			outcome = weft_advance(WEFT_ADVANCE_START) ? WEFT_ACK_STARTED
								   : WEFT_ACK_FAILED;
	} else if (op == WEFT_REQ_STOP) {
		outcome = gen && weft_advance(WEFT_ADVANCE_STOP) ? WEFT_ACK_STOPPED
								  : WEFT_ACK_ALREADY_STOPPED;
	} else {
		weft_unlock(&weft_control_lock);
		return;
	}
	gen = atomic_load(&weft_generation);
	weft_unlock(&weft_control_lock);
	if (weft_config.verbose) {
		if (outcome == WEFT_ACK_ALREADY_STARTED)
			weft_warn("start request ignored: tracing is already on");
		else if (outcome == WEFT_ACK_ALREADY_STOPPED)
			weft_warn("stop request ignored: tracing is already off");
		else if (outcome == WEFT_ACK_STARTED)
			weft_warn("tracing started (generation %u)", gen);
		else if (outcome == WEFT_ACK_STOPPED)
			weft_warn("tracing stopped; the trace is complete");
	}
	acknowledge(r->sender, outcome);
}

/* Rotates the generation when it is old or big enough (always, with
 * WEFT_ROTATE_MS=0). */
static void rotate_if_due(void)
{
	if (!atomic_load(&weft_generation))
		return;
	uint64_t age = weft_now() - weft_generation_began(); /* clock ticks */
	uint64_t period = (uint64_t)weft_config.rotate_ms * weft_clock_frequency() / 1000;
	if (age < period &&
	    weft_output_bytes_in_generation() < weft_config.rotate_bytes)
		return;
	weft_lock(&weft_control_lock);
	weft_advance(WEFT_ADVANCE_ROTATE);
	weft_unlock(&weft_control_lock);
}

/* Threads of the process other than the control thread that have not
 * ended (zombies, such as a main thread that called pthread_exit, do not
 * count). */
static int other_live_tasks(void)
{
	int dir = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/task",
			       O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dir < 0)
		return 1;
	int live = 0;
	char buf[4096];
	for (;;) {
		long n = syscall(SYS_getdents64, dir, buf, sizeof buf);
		if (n <= 0)
			break;
		for (long off = 0; off < n;) {
			struct { uint64_t ino; int64_t off; uint16_t reclen; uint8_t type; char name[]; }
				*d = (void *)(buf + off);
			off += d->reclen;
			if (d->name[0] < '0' || d->name[0] > '9' || atoi(d->name) == ctl_tid)
				continue;
			char path[64], stat[256];
			snprintf(path, sizeof path, "%s/stat", d->name);
			int fd = (int)syscall(SYS_openat, dir, path, O_RDONLY | O_CLOEXEC);
			if (fd < 0)
				continue;
			long len = syscall(SYS_read, fd, stat, sizeof stat - 1);
			syscall(SYS_close, fd);
			if (len <= 0)
				continue;
			stat[len] = 0;
			const char *paren = strrchr(stat, ')');
			if (paren && paren[1] == ' ' && paren[2] != 'Z' && paren[2] != 'X')
				live++;
		}
	}
	syscall(SYS_close, dir);
	return live;
}

/* Registered threads that have started and not exited. */
static int registered_live(void)
{
	int live = 0;
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		if (atomic_load(&t->started) && !atomic_load(&t->exited))
			live++;
	}
	return live;
}

static void *control_main(void *arg)
{
	(void)arg;
	weft_thread_done = 1; /* never traced */
	weft_busy = 1;
	prctl(PR_SET_NAME, WEFT_CONTROL_THREAD_NAME, 0, 0, 0);
	ctl_tid = weft_gettid();
	int watching_exit = 0, watch_rounds = 0;
	for (;;) {
		/* While tracing, wake at least every 100 ms to rotate on time
		 * (WEFT_ROTATE_MS=0: never wait, and rotate on every pass). */
		int timeout_ms = -1;
		if (atomic_load(&weft_generation))
			timeout_ms = weft_config.rotate_ms < 100 ? (int)weft_config.rotate_ms : 100;
		if (watching_exit)
			timeout_ms = watch_rounds < 2000 ? 1 : 50;
		struct pollfd p = { weft_channel_read_end(), POLLIN, 0 };
		struct timespec ts = { timeout_ms / 1000, (timeout_ms % 1000) * 1000000L };
		syscall(SYS_ppoll, &p, 1, timeout_ms < 0 ? NULL : &ts, NULL, 0);

		/* One read of requests per pass, then the rotation check;
		 * requests still in the pipe make the next ppoll return at
		 * once.  (Reading until the pipe was empty never ended while
		 * the program filled buffers faster than they were written:
		 * each one queued during a drain sent another drain request,
		 * and the generation was not rotated for the rest of the
		 * run.) */
		struct weft_channel_request reqs[64];
		long n = syscall(SYS_read, weft_channel_read_end(), reqs, sizeof reqs);
		for (long i = 0; n > 0 && i < n / (long)sizeof reqs[0]; i++) {
			if (reqs[i].op == WEFT_CHANNEL_THREAD_EXITED)
				watching_exit = 1, watch_rounds = 0;
			else if (reqs[i].op == WEFT_CHANNEL_END)
				end_for_fatal_signal();
			else if (reqs[i].op != WEFT_CHANNEL_DRAIN)
				perform(&reqs[i]);
			weft_output_drain();
		}
		weft_output_drain();
		rotate_if_due();
		if (watching_exit) {
			watch_rounds++;
			if (registered_live() > 0) {
				watching_exit = 0;
			} else if (other_live_tasks() == 0) {
				/* The program's last thread has gone: so does
				 * this one, and the process ends as it would
				 * have without weft. */
				weft_channel_set_listening(0);
				weft_output_drain();
				REAL(pthread_exit)(NULL);
			}
		}
	}
	return NULL;
}

static void install_handler(void)
{
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_sigaction = on_signal;
	act.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&act.sa_mask);
	if (REAL(sigaction)(weft_config.signal, &act, &old) != 0) {
		weft_warn("cannot install a handler for signal %d; start and stop "
			  "by signal are off", weft_config.signal);
		return;
	}
	/* A handler installed before weft (by a library's constructor) is the
	 * program's: weft chains to it. */
	program_action = old;
	atomic_store(&program_has_handler,
		     !(old.sa_flags & SA_SIGINFO) && (old.sa_handler == SIG_DFL ||
						     old.sa_handler == SIG_IGN) ? 0 : 1);
	atomic_store(&handler_installed, 1);
}

static void spawn_thread(void)
{
	if (weft_channel_open() != 0) {
		weft_warn("cannot create the control pipe (%s); start and stop by "
			  "signal are off", strerror(errno));
		return;
	}
	/* The thread starts with every signal but weft's blocked, so none of
	 * the program's signals is ever delivered to it. */
	sigset_t all, old;
	sigfillset(&all);
	sigdelset(&all, weft_config.signal);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, 64 * 1024);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t th;
	int r = REAL(pthread_create)(&th, &attr, control_main, NULL);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		weft_warn("cannot start the control thread (%s); start and stop by "
			  "signal are off", strerror(r));
		return;
	}
	/* Named before the program goes on, not when the thread first runs:
	 * `weft start|stop` finds the thread by its name. */
	REAL(pthread_setname_np)(th, WEFT_CONTROL_THREAD_NAME);
	weft_channel_set_listening(1);
}

void weft_control_start(void)
{
	install_handler();
	spawn_thread();
}

/* A fork child has no control thread and shares the parent's pipe: it
 * gets its own of both. */
void weft_control_after_fork(void)
{
	weft_channel_close();
	spawn_thread();
}

/* ---- the program's view of weft's signal ---- */

int weft_control_covers(int sig)
{
	return sig == weft_config.signal && atomic_load(&handler_installed);
}

/* sigaction() for weft's signal (weft_control_covers): weft keeps its
 * handler; the program sees and sets its own action. */
void weft_control_sigaction(int sig, const struct sigaction *act,
			    struct sigaction *old)
{
	(void)sig;
	if (old)
		*old = program_action;
	if (act) {
		program_action = *act;
		atomic_store(&program_has_handler,
			     (act->sa_flags & SA_SIGINFO) ||
			     (act->sa_handler != SIG_DFL && act->sa_handler != SIG_IGN));
	}
}
