/*
 * control.c - `weft start PID` and `weft stop PID`: ask a process
 * running with libweft.so to switch tracing, and wait for its answer.
 *
 * The request goes to the process's control thread only (so none of the
 * program's own threads is interrupted by it), with the signal the process
 * was told to use (its WEFT_SIGNAL, read from /proc/PID/environ).  The
 * answer comes back with the same signal.  A process that ends before it
 * answers is noticed at once (through a pidfd, or by looking at /proc
 * every few milliseconds where pidfd_open(2) is missing), and its trace
 * file, opened before the request was sent, tells whether the trace was
 * completed at exit.
 */
#include "common.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "reader.h"

static const char control_usage[] =
	"usage: weft start|stop [--timeout SECONDS] PID\n"
	"\n"
	"Switch tracing on or off in a running process that was started with\n"
	"libweft.so preloaded (for example with WEFT_START=0), and wait until it\n"
	"has done so.  After 'weft stop' returns, the trace file holds a\n"
	"complete, checkable trace while the process runs on; a later 'weft\n"
	"start' appends a new session to the same file.\n"
	"\n"
	"  -t, --timeout SECONDS  how long to wait for the answer (default 10)\n"
	"  -h, --help             show this help\n"
	"  -V, --version          show weft's version\n"
	"\n"
	"If the process exits before it answers, weft says so at once, and\n"
	"whether its trace was completed at exit or is cut short (the process\n"
	"was killed).\n"
	"\n"
	"Exit status: 0 done (or already so); 1 no answer in time, or the\n"
	"process could not do it; 2 bad arguments, no such process, or a\n"
	"process without libweft.so; 3 the process exited before it answered.\n";

/* The process exited before it answered. */
#define WEFT_EXIT_EXITED 3

/* PID's control signal: its WEFT_SIGNAL, or the default.  Read through
 * the control thread tid, which is alive even when the main thread has
 * left (pthread_exit) and /proc/PID shows nothing of the process's memory
 * or descriptors. */
static int target_signal(pid_t pid, pid_t tid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task/%d/environ", (int)pid, (int)tid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int sig = -1;
	if (fd >= 0) {
		static char env[1 << 20];
		ssize_t n = read(fd, env, sizeof env - 1);
		close(fd);
		for (ssize_t i = 0; n > 0 && i < n; i += (ssize_t)strlen(env + i) + 1) {
			env[n] = 0;
			if (!strncmp(env + i, "WEFT_SIGNAL=", 12))
				sig = weft_parse_signal(env + i + 12);
		}
	}
	return sig > 0 ? sig : weft_parse_signal(WEFT_DEFAULT_SIGNAL);
}

/* ---- the process and its trace ---- */

/* The process a request goes to, and its trace file when it is known. */
struct target {
	pid_t pid;
	pid_t tid;                /* its control thread */
	int pidfd;                /* -1 where pidfd_open(2) is missing */
	int trace_fd;             /* the trace, open for reading, or -1 */
	char trace_path[4096];
};

static int open_pidfd(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Whether the thread whose /proc/PID/task/TID/stat is path has ended. */
static int thread_ended(const char *path)
{
	char stat[512];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	ssize_t n = read(fd, stat, sizeof stat - 1);
	close(fd);
	if (n <= 0)
		return 1;
	stat[n] = 0;
	const char *paren = strrchr(stat, ')');
	return paren && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

/* Without a pidfd: the process is gone from /proc, or every thread of it
 * has ended (a main thread that called pthread_exit is a zombie while
 * the others run on). */
static int proc_says_ended(pid_t pid)
{
	char dir_path[64];
	snprintf(dir_path, sizeof dir_path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(dir_path);
	if (!d)
		return errno == ENOENT || errno == ESRCH;
	int ended = 1;
	struct dirent *e;
	while (ended && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char path[128];
		snprintf(path, sizeof path, "%s/%d/stat", dir_path, atoi(e->d_name));
		ended = thread_ended(path);
	}
	closedir(d);
	return ended;
}

/* Whether every thread of the process has ended. */
static int has_exited(const struct target *t)
{
	if (t->pidfd < 0)
		return proc_says_ended(t->pid);
	struct pollfd p = { t->pidfd, POLLIN, 0 };
	return poll(&p, 1, 0) > 0 && (p.revents & (POLLIN | POLLHUP));
}

/* The open file flags of the process's descriptor fd, or -1. */
static long fd_flags(const struct target *t, int fd)
{
	char path[128], line[128];
	snprintf(path, sizeof path, "/proc/%d/task/%d/fdinfo/%d", (int)t->pid,
		 (int)t->tid, fd);
	FILE *f = fopen(path, "re");
	long flags = -1;
	while (f && flags < 0 && fgets(line, sizeof line, f))
		if (!strncmp(line, "flags:", 6))
			flags = strtol(line + 6, NULL, 8);
	if (f)
		fclose(f);
	return flags;
}

/* Whether our descriptor fd reads a weft trace written by process pid. */
static int is_trace_of(int fd, pid_t pid)
{
	char magic[WEFT_MAGIC_LEN];
	if (pread(fd, magic, sizeof magic, 0) != (ssize_t)sizeof magic ||
	    memcmp(magic, WEFT_MAGIC, WEFT_MAGIC_LEN) != 0)
		return 0;
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	struct weft_reader r;
	int ok = weft_reader_open(&r, self) == WEFT_READ_OK && r.header.pid == (uint64_t)pid;
	weft_reader_close(&r);
	return ok;
}

/* Opens the trace file the process writes (a regular file it holds open
 * for appending, with a weft header naming it), so that it can still be
 * read once the process is gone.  Leaves trace_fd -1 when there is none
 * to be read: the trace goes into a FIFO, or /proc does not show it. */
static void find_trace(struct target *t)
{
	char dir_path[64];
	snprintf(dir_path, sizeof dir_path, "/proc/%d/task/%d/fd", (int)t->pid,
		 (int)t->tid);
	DIR *d = opendir(dir_path);
	struct dirent *e;
	while (d && t->trace_fd < 0 && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		int their_fd = atoi(e->d_name);
		long flags = fd_flags(t, their_fd);
		if (flags < 0 || (flags & O_ACCMODE) != O_WRONLY || !(flags & O_APPEND))
			continue;
		char link[128];
		struct stat st;
		snprintf(link, sizeof link, "%s/%d", dir_path, their_fd);
		if (stat(link, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		int fd = open(link, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
		if (fd < 0)
			continue;
		ssize_t n = readlink(link, t->trace_path, sizeof t->trace_path - 1);
		if (n > 0 && is_trace_of(fd, t->pid)) {
			t->trace_path[n] = 0;
			t->trace_fd = fd;
		} else {
			close(fd);
		}
	}
	if (d)
		closedir(d);
}

/* Says in one line that the process exited (before the request was sent,
 * or after), and how its trace ended. */
static int report_exit(const char *what, const struct target *t, int sent)
{
	const char *when = sent ? "exited before answering" : "has exited";
	if (t->trace_fd < 0)
		fprintf(stderr, "weft %s: process %d %s; its trace is completed at "
			"exit unless it was killed\n", what, (int)t->pid, when);
	else if (weft_trace_is_complete(t->trace_fd))
		fprintf(stderr, "weft %s: process %d %s; its trace %s was completed "
			"at exit\n", what, (int)t->pid, when, t->trace_path);
	else
		fprintf(stderr, "weft %s: process %d %s; its trace %s is not "
			"complete (the process was killed)\n", what, (int)t->pid,
			when, t->trace_path);
	return WEFT_EXIT_EXITED;
}

/* ---- the request and its answer ---- */

/* The outcome of an acknowledgement from pid waiting on sigfd, or -1. */
static int read_ack(int sigfd, pid_t pid)
{
	struct signalfd_siginfo got;
	while (read(sigfd, &got, sizeof got) == (ssize_t)sizeof got) {
		int v = got.ssi_int;
		if (got.ssi_code == SI_QUEUE && (pid_t)got.ssi_pid == pid &&
		    (v & (int)WEFT_MAGIC_MASK) == (int)WEFT_ACK_MAGIC)
			return v & 0xff;
	}
	return -1;
}

static double monotonic_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* How waiting for the answer ended. */
enum wait_end { ANSWERED, EXITED, TIMED_OUT };

/* Waits for the answer (in *outcome), the end of the process, or the
 * timeout, whichever comes first.  With a pidfd the wait ends the moment
 * the process does; without, /proc is looked at every 5 ms. */
static enum wait_end wait_for_answer(const struct target *t, int sigfd, double timeout,
				     int *outcome)
{
	double deadline = monotonic_s() + timeout;
	for (;;) {
		/* An answer sent before the process ended is read first. */
		int exited = has_exited(t);
		if ((*outcome = read_ack(sigfd, t->pid)) >= 0)
			return ANSWERED;
		if (exited)
			return EXITED;
		double left = deadline - monotonic_s();
		if (left <= 0)
			return TIMED_OUT;
		int ms = (int)(left * 1000) + 1;
		if (t->pidfd < 0 && ms > 5)
			ms = 5;
		struct pollfd p[2] = { { sigfd, POLLIN, 0 }, { t->pidfd, POLLIN, 0 } };
		if (poll(p, t->pidfd < 0 ? 1 : 2, ms) < 0 && errno != EINTR)
			return TIMED_OUT;
	}
}

static int print_answer(const char *what, pid_t pid, int outcome)
{
	switch (outcome) {
	case WEFT_ACK_STARTED:
		printf("weft: tracing started in process %d\n", (int)pid);
		return 0;
	case WEFT_ACK_STOPPED:
		printf("weft: tracing stopped in process %d; its trace is complete\n",
		       (int)pid);
		return 0;
	case WEFT_ACK_ALREADY_STARTED:
		printf("weft: tracing was already on in process %d\n", (int)pid);
		return 0;
	case WEFT_ACK_ALREADY_STOPPED:
		printf("weft: tracing was already off in process %d\n", (int)pid);
		return 0;
	default:
		fprintf(stderr, "weft %s: process %d could not switch tracing "
			"(its trace file cannot be written)\n", what, (int)pid);
		return WEFT_EXIT_BAD;
	}
}

/* A signalfd for sig, which is blocked so that it arrives there. */
static int open_sigfd(int sig)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

static int request(const char *what, int op, struct target *t, double timeout)
{
	if (has_exited(t))
		return report_exit(what, t, 0);
	t->tid = weft_control_thread(t->pid);
	if (!t->tid) {
		if (has_exited(t))
			return report_exit(what, t, 0);
		fprintf(stderr, "weft %s: process %d is not running with libweft.so "
			"(it has no %s thread)\n", what, (int)t->pid,
			WEFT_CONTROL_THREAD_NAME);
		return WEFT_EXIT_USAGE;
	}
	int sig = target_signal(t->pid, t->tid);
	find_trace(t);
	int sigfd = open_sigfd(sig);
	if (sigfd < 0) {
		fprintf(stderr, "weft %s: cannot wait for the answer: %s\n", what,
			strerror(errno));
		return WEFT_EXIT_BAD;
	}
	if (weft_send_request(t->pid, t->tid, sig, op) != 0) {
		int e = errno;
		close(sigfd);
		if (e == ESRCH && has_exited(t))
			return report_exit(what, t, 0);
		fprintf(stderr, "weft %s: cannot signal process %d: %s\n", what,
			(int)t->pid, strerror(e));
		return e == ESRCH ? WEFT_EXIT_USAGE : WEFT_EXIT_BAD;
	}
	int outcome;
	enum wait_end end = wait_for_answer(t, sigfd, timeout, &outcome);
	close(sigfd);
	if (end == ANSWERED)
		return print_answer(what, t->pid, outcome);
	if (end == EXITED)
		return report_exit(what, t, 1);
	fprintf(stderr, "weft %s: no answer from process %d within %g s\n", what,
		(int)t->pid, timeout);
	return WEFT_EXIT_BAD;
}

static int run(const char *what, int op, pid_t pid, double timeout)
{
	struct target t = { .pid = pid, .pidfd = -1, .trace_fd = -1 };
	if (kill(pid, 0) != 0 && errno == ESRCH) {
		fprintf(stderr, "weft %s: no process %d\n", what, (int)pid);
		return WEFT_EXIT_USAGE;
	}
	/* From here on, pid is this process even if it ends and the number
	 * is given to another. */
	t.pidfd = open_pidfd(pid);
	if (t.pidfd < 0 && errno == ESRCH) {
		fprintf(stderr, "weft %s: no process %d\n", what, (int)pid);
		return WEFT_EXIT_USAGE;
	}
	int status = request(what, op, &t, timeout);
	if (t.pidfd >= 0)
		close(t.pidfd);
	if (t.trace_fd >= 0)
		close(t.trace_fd);
	return status;
}

int weft_cmd_control(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *what = argv[0];
	double timeout = 10;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+t:hV", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 't':
			timeout = strtod(optarg, &end);
			if (*end || !(timeout > 0 && timeout <= 3600)) {
				fprintf(stderr, "weft %s: --timeout wants seconds, from "
					"0 to 3600\n", what);
				return WEFT_EXIT_USAGE;
			}
			break;
		case 'h': fputs(control_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(control_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	char *end = NULL;
	long pid = optind + 1 == argc ? strtol(argv[optind], &end, 10) : 0;
	if (optind + 1 != argc || *end || pid <= 0 || pid > 4194304) {
		fprintf(stderr, "weft %s: give one process id\n", what);
		fputs(control_usage, stderr);
		return WEFT_EXIT_USAGE;
	}
	return run(what, !strcmp(what, "start") ? WEFT_REQ_START : WEFT_REQ_STOP,
		   (pid_t)pid, timeout);
}
