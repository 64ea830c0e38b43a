/*
 * stress_toggle.c - switches tracing on and off in a running process, as
 * fast as scripts/stress wants it: `weft start` and `weft stop` in a loop,
 * without starting a process for each request.
 *
 * `stress_toggle PID SECONDS [MAX_MS]` (MAX_MS default 20): waits until
 * PID's weft control thread exists, then for SECONDS sends it start and
 * stop requests in turn (beginning with start), each after a random pause
 * of 0 to MAX_MS milliseconds, and waits for each one's answer, exactly
 * as `weft start|stop` do (format/control.h).  It ends early, quietly,
 * when the process ends.  stdout: one line, "stress_toggle: N requests
 * answered (S started, T stopped, A changed nothing), slowest answer M ms".
 * Exit status: 0; 1 a request got no answer within 5 s while the process
 * was still there, or was refused by a process that did not end within
 * 2 s (a refusal means the trace cannot be written, or the process is
 * exiting); 2 bad arguments, or no control thread within 5 s.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "control.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void pause_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* pid's control signal: its WEFT_SIGNAL, or the default. */
static int target_signal(pid_t pid)
{
	static char env[1 << 20];
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/environ", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int sig = -1;
	if (fd >= 0) {
		ssize_t n = read(fd, env, sizeof env - 1);
		close(fd);
		if (n > 0) {
			env[n] = 0;
			for (ssize_t i = 0; i < n; i += (ssize_t)strlen(env + i) + 1)
				if (!strncmp(env + i, "WEFT_SIGNAL=", 12))
					sig = weft_parse_signal(env + i + 12);
		}
	}
	return sig > 0 ? sig : weft_parse_signal(WEFT_DEFAULT_SIGNAL);
}

/* Whether thread tid of pid is still there. */
static int alive(pid_t pid, pid_t tid)
{
	return syscall(SYS_tgkill, pid, tid, 0) == 0 || errno != ESRCH;
}

int main(int argc, char **argv)
{
	char *end1 = NULL, *end2 = NULL, *end3 = NULL;
	long pid = argc > 2 ? strtol(argv[1], &end1, 10) : 0;
	double seconds = argc > 2 ? strtod(argv[2], &end2) : 0;
	long max_ms = argc > 3 ? strtol(argv[3], &end3, 10) : 20;
	if (argc < 3 || argc > 4 || *end1 || *end2 || (end3 && *end3) || pid <= 0 ||
	    !(seconds > 0 && seconds <= 86400) || max_ms < 0 || max_ms > 10000) {
		fprintf(stderr, "usage: stress_toggle PID SECONDS [MAX_MS]\n");
		return 2;
	}
	double began = now_s();
	pid_t tid = 0;
	while (!(tid = weft_control_thread((pid_t)pid))) {
		if (now_s() - began > 5 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
			fprintf(stderr, "stress_toggle: process %ld has no %s thread\n",
				pid, WEFT_CONTROL_THREAD_NAME);
			return 2;
		}
		pause_us(1000);
	}
	int sig = target_signal((pid_t)pid);
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_BLOCK, &set, NULL);
	unsigned seed = (unsigned)getpid() ^ (unsigned)(began * 1e6);

	long answered = 0, started = 0, stopped = 0, unchanged = 0;
	double slowest = 0;
	int op = WEFT_REQ_START, status = 0;
	while (now_s() - began < seconds) {
		pause_us(rand_r(&seed) % (max_ms * 1000 + 1));
		double sent = now_s();
		if (weft_send_request((pid_t)pid, tid, sig, op) != 0)
			break; /* the process has ended */
		int outcome = 0;
		while (!outcome) {
			struct timespec slice = { 0, 50 * 1000000L };
			siginfo_t got;
			if (sigtimedwait(&set, &got, &slice) < 0) {
				if (errno == EINTR)
					continue;
				if (!alive((pid_t)pid, tid))
					break;
				if (now_s() - sent > 5) {
					fprintf(stderr, "stress_toggle: no answer from process "
						"%ld within 5 s to a %s request\n", pid,
						op == WEFT_REQ_START ? "start" : "stop");
					status = 1;
					break;
				}
				continue;
			}
			int v = got.si_value.sival_int;
			if (got.si_code == SI_QUEUE && got.si_pid == (pid_t)pid &&
			    (v & (int)WEFT_MAGIC_MASK) == (int)WEFT_ACK_MAGIC)
				outcome = v & 0xff;
		}
		if (!outcome)
			break;
		answered++;
		if (now_s() - sent > slowest)
			slowest = now_s() - sent;
		if (outcome == WEFT_ACK_STARTED)
			started++;
		else if (outcome == WEFT_ACK_STOPPED)
			stopped++;
		else if (outcome == WEFT_ACK_ALREADY_STARTED ||
			 outcome == WEFT_ACK_ALREADY_STOPPED)
			unchanged++;
		else {
			/* A start refused while the process exits is its end
			 * (weft starts nothing once the trace is ending). */
			double refused = now_s();
			while (alive((pid_t)pid, tid) && now_s() - refused < 2)
				pause_us(10000);
			if (!alive((pid_t)pid, tid))
				break;
			fprintf(stderr, "stress_toggle: process %ld could not switch "
				"tracing (its trace file cannot be written)\n", pid);
			status = 1;
			break;
		}
		op = op == WEFT_REQ_START ? WEFT_REQ_STOP : WEFT_REQ_START;
	}
	printf("stress_toggle: %ld requests answered (%ld started, %ld stopped, "
	       "%ld changed nothing), slowest answer %.1f ms\n",
	       answered, started, stopped, unchanged, slowest * 1e3);
	return status;
}
