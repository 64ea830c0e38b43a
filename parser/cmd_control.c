/*
 * cmd_control.c - `weft start PID` and `weft stop PID`: ask a process
 * running with libweft.so to switch tracing, and wait for its answer.
 *
 * The request goes to the process's control thread only (so none of the
 * program's own threads is interrupted by it), with the signal the process
 * was told to use (its WEFT_SIGNAL, read from /proc/PID/environ).
 */
#include "cli.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

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
	"Exit status: 0 done (or already so); 1 no answer in time, or the\n"
	"process could not do it; 2 bad arguments, no such process, or a\n"
	"process without libweft.so.\n";

/* The tid of PID's weft control thread, or 0. */
static pid_t control_thread(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	pid_t found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char comm_path[512], comm[64] = { 0 };
		snprintf(comm_path, sizeof comm_path, "%s/%s/comm", path, e->d_name);
		FILE *f = fopen(comm_path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof comm, f)) {
			comm[strcspn(comm, "\n")] = 0;
			if (!strcmp(comm, WEFT_CONTROL_THREAD_NAME))
				found = (pid_t)atoi(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

/* PID's control signal: its WEFT_SIGNAL, or the default. */
static int target_signal(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
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

static int run(const char *what, int op, pid_t pid, double timeout)
{
	if (kill(pid, 0) != 0 && errno == ESRCH) {
		fprintf(stderr, "weft %s: no process %d\n", what, (int)pid);
		return WEFT_EXIT_USAGE;
	}
	pid_t tid = control_thread(pid);
	if (!tid) {
		fprintf(stderr, "weft %s: process %d is not running with libweft.so "
			"(it has no %s thread)\n", what, (int)pid, WEFT_CONTROL_THREAD_NAME);
		return WEFT_EXIT_USAGE;
	}
	int sig = target_signal(pid);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);

	siginfo_t info;
	memset(&info, 0, sizeof info);
	info.si_signo = sig;
	info.si_code = SI_QUEUE;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_int = (int)WEFT_REQUEST_MAGIC | op;
	if (syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, &info) != 0) {
		fprintf(stderr, "weft %s: cannot signal process %d: %s\n", what,
			(int)pid, strerror(errno));
		return errno == ESRCH ? WEFT_EXIT_USAGE : WEFT_EXIT_BAD;
	}

	struct timespec deadline;
	clock_gettime(CLOCK_MONOTONIC, &deadline);
	deadline.tv_sec += (time_t)timeout;
	deadline.tv_nsec += (long)((timeout - (double)(time_t)timeout) * 1e9);
	if (deadline.tv_nsec >= 1000000000L) {
		deadline.tv_sec++;
		deadline.tv_nsec -= 1000000000L;
	}
	for (;;) {
		struct timespec now, left;
		clock_gettime(CLOCK_MONOTONIC, &now);
		left.tv_sec = deadline.tv_sec - now.tv_sec;
		left.tv_nsec = deadline.tv_nsec - now.tv_nsec;
		if (left.tv_nsec < 0) {
			left.tv_sec--;
			left.tv_nsec += 1000000000L;
		}
		if (left.tv_sec < 0)
			break;
		siginfo_t got;
		if (sigtimedwait(&set, &got, &left) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		int v = got.si_value.sival_int;
		if (got.si_code != SI_QUEUE || got.si_pid != pid ||
		    (v & (int)WEFT_MAGIC_MASK) != (int)WEFT_ACK_MAGIC)
			continue;
		switch (v & 0xff) {
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
	fprintf(stderr, "weft %s: no answer from process %d within %g s\n", what,
		(int)pid, timeout);
	return WEFT_EXIT_BAD;
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
