/*
 * test_control.c - starting and stopping tracing in running programs: a
 * stress run toggled hundreds of times, a signal storm, threads blocked
 * at the moment of a start and of a stop, a sweep of thread counts so
 * buffer flushes land inside status emission, a signal handler whose
 * events nest inside the wrappers it interrupts, and requests a process
 * ends without answering.  Every session of every trace must check.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "control.h"
#include "harness.h"

static void sleep_us(long us)
{
	struct timespec ts = { us / 1000000, (us % 1000000) * 1000 };
	nanosleep(&ts, NULL);
}

/* Runs `weft start|stop PID` and asserts that it succeeded. */
static void control_ok(const char *what, int pid)
{
	char pidtext[16];
	snprintf(pidtext, sizeof pidtext, "%d", pid);
	char *argv[] = { (char *)h_weft(), (char *)what, pidtext, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "weft %s %d exited %d: %s", what, pid, r.status, r.err);
	h_free(&r);
}

static void spawn_traced(const char *program, char *const args[], const char *trace,
			 int start, struct h_proc *p, char *const extra_env[])
{
	static __thread char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[8] = { preload, output, start ? "WEFT_START=1" : "WEFT_START=0" };
	for (int i = 0; extra_env && extra_env[i] && i < 4; i++)
		env[3 + i] = extra_env[i];
	char *argv[8] = { (char *)h_program(program) };
	for (int i = 0; args && args[i] && i < 6; i++)
		argv[1 + i] = args[i];
	h_spawn(argv, env, p);
}

/* Waits (bounded) until the process has its control thread. */
static void wait_for_control(int pid)
{
	for (int i = 0; i < 500; i++) {
		if (h_request(pid, 0) == 0)
			return;
		sleep_us(2000);
	}
	cr_assert_fail("process %d never started weft's control thread", pid);
}

Test(control, stress_start_stop, .timeout = 180)
{
	char *trace = h_trace_path("stress-toggle");
	struct h_proc p;
	/* It runs until its stdin is closed: every request lands while it
	 * runs, however slowly this loop goes. */
	spawn_traced("stress_mix", (char *[]){ "-", NULL }, trace, 0, &p, NULL);
	wait_for_control(p.pid);
	unsigned seed = 12345;
	int toggles = 0, acknowledged = 0;
	while (toggles < 240) {
		cr_assert(h_still_running(&p), "stress_mix ended after %d toggles", toggles);
		sleep_us((rand_r(&seed) % 20001));
		int how = rand_r(&seed) % 8;
		if (how == 0) {
			/* Through the command line, with acknowledgements. */
			control_ok("start", p.pid);
			control_ok("stop", p.pid);
			acknowledged++;
		} else if (how == 1) {
			/* Back to back: start and stop with no gap. */
			h_request(p.pid, WEFT_REQ_START);
			h_request(p.pid, WEFT_REQ_STOP);
		} else {
			h_request(p.pid, toggles % 2 ? WEFT_REQ_STOP : WEFT_REQ_START);
		}
		toggles += how <= 1 ? 2 : 1;
	}
	int status = h_finish(&p);
	cr_assert_eq(status, 0, "stress_mix exited %d", status);
	cr_assert_gt(acknowledged, 0, "the command line's requests were made");
	struct weft_check_result res;
	enum weft_verdict v = h_check(trace, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "%s %s", res.error, res.note);
	cr_assert_geq(res.generations, 20, "many sessions: %u", res.generations);
}

Test(control, signal_storm, .timeout = 180)
{
	char *trace = h_trace_path("storm");
	struct h_proc p;
	spawn_traced("stress_mix", (char *[]){ "1500", NULL }, trace, 1, &p, NULL);
	wait_for_control(p.pid);
	int sig = weft_parse_signal(WEFT_DEFAULT_SIGNAL);
	for (int i = 0; i < 1000 && h_still_running(&p); i++) {
		if (i % 4 == 0)
			kill(p.pid, sig); /* a plain delivery toggles */
		else
			h_request(p.pid, i % 2 ? WEFT_REQ_STOP : WEFT_REQ_START);
	}
	int status = h_finish(&p);
	cr_assert_eq(status, 0, "stress_mix exited %d under the storm", status);
	h_assert_checks(trace);
}

struct status_seen {
	int syscall_read, mutex, cond, join, barrier;
	uint32_t gen_of_first_status;
};

static void find_statuses(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	struct status_seen *s = ctx;
	if (rec->code != WEFT_EV_STATUS || b->header.generation != 1)
		return;
	switch (rec->args[0]) {
	case WEFT_STATE_SYSCALL: s->syscall_read += rec->args[1] == WEFT_SYS_read; break;
	case WEFT_STATE_BLOCKED_MUTEX: s->mutex++; break;
	case WEFT_STATE_BLOCKED_COND: s->cond++; break;
	case WEFT_STATE_BLOCKED_JOIN: s->join++; break;
	case WEFT_STATE_BLOCKED_BARRIER: s->barrier++; break;
	}
}

Test(control, blocked_at_the_boundary, .timeout = 60)
{
	char *trace = h_trace_path("boundary");
	struct h_proc p;
	spawn_traced("boundary", NULL, trace, 0, &p, NULL);
	char line[64];
	cr_assert(h_read_line(&p, line, sizeof line));
	cr_assert_str_eq(line, "ready");
	control_ok("start", p.pid);
	h_write_line(&p, "go");
	cr_assert(h_read_line(&p, line, sizeof line));
	cr_assert_str_eq(line, "ready2");
	control_ok("stop", p.pid);
	/* After the stop the file is complete while the program runs on. */
	struct weft_check_result res;
	cr_assert_eq(h_check(trace, &res), WEFT_CHECK_OK, "%s %s", res.error, res.note);
	h_write_line(&p, "go");
	cr_assert(h_read_line(&p, line, sizeof line));
	cr_assert_str_eq(line, "done");
	cr_assert_eq(h_finish(&p), 0);

	h_assert_checks(trace);
	struct status_seen s = { 0 };
	char err[512];
	cr_assert_eq(h_walk(trace, find_statuses, &s, err, sizeof err), WEFT_READ_OK, "%s", err);
	cr_assert_eq(s.syscall_read, 1, "the reader's STATUS says it is in read");
	cr_assert_eq(s.mutex, 1, "the locker's STATUS says it is blocked on the mutex");
	cr_assert_geq(s.cond, 1, "the waiter's STATUS says it is in a cond wait");
	cr_assert_eq(s.join, 1, "the joiner's STATUS says it is joining");
	cr_assert_eq(s.barrier, 1, "the barrier waiter's STATUS says it is at the barrier");
}

Test(control, flush_during_start_sweep, .timeout = 300)
{
	static char *counts[] = { "1", "7", "64", "300", "1000", "2000" };
	char *env[] = { "WEFT_BUFFER_KB=4", NULL };
	for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
		char name[32];
		snprintf(name, sizeof name, "idle-%s", counts[i]);
		char *trace = h_trace_path(name);
		struct h_proc p;
		spawn_traced("idle_threads", (char *[]){ counts[i], NULL }, trace, 0, &p, env);
		char line[64];
		cr_assert(h_read_line(&p, line, sizeof line), "%s threads", counts[i]);
		cr_assert_str_eq(line, "ready");
		control_ok("start", p.pid);
		control_ok("stop", p.pid);
		control_ok("start", p.pid);
		h_write_line(&p, "go");
		cr_assert(h_read_line(&p, line, sizeof line));
		cr_assert_str_eq(line, "done");
		cr_assert_eq(h_finish(&p), 0);
		struct h_counts c;
		h_count(trace, &c);
		cr_assert_eq(c.status, WEFT_READ_OK, "%s", c.error);
		/* Every idle thread, and main, has a STATUS in each session. */
		cr_assert_geq(c.per_code[WEFT_EV_STATUS], 2 * (uint64_t)atoi(counts[i]) + 2,
			      "%s threads: %llu STATUS records", counts[i],
			      (unsigned long long)c.per_code[WEFT_EV_STATUS]);
		h_assert_checks(trace);
	}
}

Test(control, handler_events_nest_inside_wrappers, .timeout = 120)
{
	char *argv[] = { (char *)h_program("alarm_writer"), NULL };
	struct run_result plain, traced;
	h_run(argv, NULL, &plain);
	cr_assert_eq(plain.status, 0);
	char *trace = h_trace_path("alarm");
	char preload[4200], output[4200];
	/* The test build: alarm_writer waits half-way for a rotation. */
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", getenv("WEFT_TEST_HOOKED_PRELOAD"));
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, "WEFT_ROTATE_MS=10", NULL };
	h_run(argv, env, &traced);
	cr_assert_eq(traced.status, 0, "%s", traced.err);
	cr_assert_str_eq(traced.out, plain.out);
	struct h_counts c;
	h_count(trace, &c);
	cr_assert_gt(c.per_code[WEFT_EV_SYSCALL_BEGIN], 0, "handler writes were recorded");
	cr_assert_gt(c.per_code[WEFT_EV_CLOCK], 1, "the run spans several generations");
	h_assert_checks(trace);
	h_free(&plain);
	h_free(&traced);
}

/*
 * Generations rotate on time while the trace writer is behind: the trace
 * goes into a FIFO this test reads 64 KB at a time every 5 ms, so the
 * control thread's every drain waits on the pipe while the program queues
 * more buffers, each sending a drain request.  (The control thread used to
 * read requests until none was left, and did not rotate again for as
 * long as the program ran.)  The program runs until two generations have
 * ended in what was read.  A drain writes at most the 1 MB of buffers the
 * program may hold (WEFT_MEMORY_MB=1), and at this pace at most 128 KB
 * pass in 10 ms, so a generation holds at most a drain, the rotation's
 * own drain and that: about 2.2 MB.  Two must have ended by the first
 * 16 MB.
 */
Test(control, rotation_on_time_while_the_writer_is_behind, .timeout = 120)
{
	char fifo[4200], copy[4200];
	snprintf(fifo, sizeof fifo, "%s/behind.fifo", h_tmpdir());
	snprintf(copy, sizeof copy, "%s/behind.trace", h_tmpdir());
	cr_assert_eq(mkfifo(fifo, 0600), 0, "%s", strerror(errno));
	/* Open first, without waiting for the writer: the program's open of
	 * the FIFO then finds a reader. */
	int in = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	cr_assert_geq(in, 0, "%s", strerror(errno));
	int out = open(copy, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(out, 0, "%s", strerror(errno));
	struct h_proc p;
	spawn_traced("lock_flood", (char *[]){ "1", "-", NULL }, fifo, 1, &p,
		     (char *[]){ "WEFT_ROTATE_MS=10", "WEFT_MEMORY_MB=1", NULL });
	static char buf[1 << 16];
	size_t total = 0;
	int paced = 1, ended = 0;
	for (int round = 0;; round++) {
		struct pollfd pfd = { in, POLLIN, 0 };
		poll(&pfd, 1, 100);
		ssize_t n = read(in, buf, sizeof buf);
		if (n > 0) {
			cr_assert_eq(write(out, buf, (size_t)n), n);
			total += (size_t)n;
		} else if (n == 0 && total > 0) {
			break; /* the writer closed it: the program has ended */
		} else if (n < 0) {
			cr_assert_eq(errno, EAGAIN, "%s", strerror(errno));
		}
		if (!paced)
			continue;
		if (round % 10 == 9) {
			struct h_counts c;
			h_count(copy, &c);
			ended = (int)c.per_code[WEFT_EV_GEN_END];
		}
		if (ended >= 2 || total >= 16u << 20) {
			/* Let the program end, and read the rest at full speed. */
			close(p.in);
			p.in = -1;
			paced = 0;
			continue;
		}
		sleep_us(5000);
	}
	close(in);
	close(out);
	cr_assert_eq(h_finish(&p), 0);
	cr_assert_geq(ended, 2, "generations ended on time while the writer was behind "
		      "(%d in %zu bytes)", ended, total);
	struct weft_check_result res;
	cr_assert_eq(h_check(copy, &res), WEFT_CHECK_OK, "%s %s", res.error, res.note);
}

Test(control, start_stop_errors, .timeout = 30)
{
	/* A process without weft, a process that does not exist. */
	char *argv[] = { "sleep", "5", NULL };
	struct h_proc p;
	h_spawn(argv, NULL, &p);
	char pid[16];
	snprintf(pid, sizeof pid, "%d", p.pid);
	char *start[] = { (char *)h_weft(), "start", pid, NULL };
	struct run_result r;
	h_run(start, NULL, &r);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "is not running with libweft.so"), "%s", r.err);
	h_free(&r);
	cr_assert(h_still_running(&p), "the process was not signalled");
	kill(p.pid, SIGTERM);
	h_finish(&p);

	char *gone[] = { (char *)h_weft(), "stop", "4194000", NULL };
	h_run(gone, NULL, &r);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "no process 4194000"), "%s", r.err);
	h_free(&r);
}

Test(control, control_thread_is_named_before_main, .timeout = 60)
{
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", h_trace_path("named"));
	char *env[] = { preload, output, "WEFT_START=0", NULL };
	char *argv[] = { (char *)h_program("control_named"), NULL };
	struct run_result r;
	h_run(argv, env, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "named\n", "weft start|stop can find the control "
			 "thread as soon as the program runs");
	h_free(&r);
}

/* Sessions end with a GEN_END that says tracing stopped (generations
 * also end on rotation, every WEFT_ROTATE_MS). */
static void count_sessions(const struct weft_batch *b, const struct weft_record *rec,
			   void *ctx)
{
	(void)b;
	if (rec->code == WEFT_EV_GEN_END && rec->args[2])
		++*(int *)ctx;
}

Test(control, program_with_its_own_handler_for_the_signal, .timeout = 60)
{
	char *trace = h_trace_path("own-handler");
	struct h_proc p;
	spawn_traced("own_handler", NULL, trace, 0, &p, NULL);
	char line[64];
	cr_assert(h_read_line(&p, line, sizeof line));
	cr_assert_str_eq(line, "ready");
	/* weft's requests still work... */
	control_ok("start", p.pid);
	/* ...and a plain delivery is the program's. */
	kill(p.pid, weft_parse_signal(WEFT_DEFAULT_SIGNAL));
	sleep_us(50000);
	control_ok("stop", p.pid);
	h_write_line(&p, "go");
	cr_assert(h_read_line(&p, line, sizeof line));
	cr_assert_str_eq(line, "handled=1", "the program's handler got its signal");
	cr_assert_eq(h_finish(&p), 0);
	struct weft_check_result res;
	cr_assert_eq(h_check(trace, &res), WEFT_CHECK_OK, "%s %s", res.error, res.note);
	int sessions = 0;
	char err[512];
	cr_assert_eq(h_walk(trace, count_sessions, &sessions, err, sizeof err), WEFT_READ_OK,
		     "%s", err);
	cr_assert_eq(sessions, 1, "one session: the plain delivery did not toggle");
}

/* ---- a process that ends before it answers ---- */

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* `weft start|stop` run in the background, and its result once it has
 * ended. */
struct client {
	struct h_bg bg;
	int ended;
	struct run_result r;
};

/* Waits for the command (unless it has ended already) and hands over its
 * result, which the caller frees. */
static void client_result(struct client *c, struct run_result *r)
{
	if (!c->ended)
		h_run_wait(&c->bg, &c->r);
	c->ended = 1;
	*r = c->r;
}

/* Starts `weft WHAT [--timeout SECONDS] PID` in the background and makes
 * sure its request is never answered: the control thread, traced, stops
 * when the request's signal arrives and is let go with the signal
 * dropped. */
static void request_never_answered(const char *what, const char *timeout,
				   struct h_proc *p, void (*in_child)(void),
				   struct client *client)
{
	memset(client, 0, sizeof *client);
	pid_t tid = h_control_tid(p->pid);
	cr_assert_gt(tid, 0, "process %d has a control thread", p->pid);
	if (ptrace(PTRACE_SEIZE, tid, NULL, NULL) != 0)
		cr_skip_test("ptrace is not allowed here: %s", strerror(errno));
	static __thread char pidtext[16];
	snprintf(pidtext, sizeof pidtext, "%d", p->pid);
	char *argv[6] = { (char *)h_weft(), (char *)what };
	int n = 2;
	if (timeout) {
		argv[n++] = "--timeout";
		argv[n++] = (char *)timeout;
	}
	argv[n] = pidtext;
	h_run_start(argv, NULL, in_child, &client->bg);
	int st;
	pid_t got;
	while ((got = waitpid(tid, &st, __WALL | WNOHANG)) == 0) {
		/* The command may end without sending anything.  It may
		 * also end having sent it: when its --timeout runs out before
		 * the control thread, on a loaded machine, has taken the
		 * signal (and stopped); it says "no answer" then, and the stop
		 * is still to come. */
		siginfo_t info = { 0 };
		if (!client->ended)
			waitid(P_PID, (id_t)client->bg.pid, &info,
			       WEXITED | WNOHANG | WNOWAIT);
		if (info.si_pid) {
			h_run_wait(&client->bg, &client->r);
			client->ended = 1;
			cr_assert(client->r.status == 1 && strstr(client->r.err, "no answer"),
				  "weft %s exited %d before its request arrived: %s", what,
				  client->r.status, client->r.err);
		}
		sleep_us(1000);
	}
	cr_assert_eq(got, tid, "waitpid on the control thread: %s", strerror(errno));
	cr_assert(WIFSTOPPED(st) && WSTOPSIG(st) == weft_parse_signal(WEFT_DEFAULT_SIGNAL),
		  "the control thread stopped on the request (status %#x)", st);
	cr_assert_eq(ptrace(PTRACE_DETACH, tid, NULL, NULL), 0, "%s", strerror(errno));
}

/* Lets idle_threads finish normally; returns when it has. */
static void let_it_finish(struct h_proc *p)
{
	h_write_line(p, "go");
	char line[64];
	cr_assert(h_read_line(p, line, sizeof line));
	cr_assert_str_eq(line, "done");
	cr_assert_eq(h_finish(p), 0);
}

/* Waits for `weft` and asserts that it said, promptly and in one line,
 * that the process exited, and how its trace ended. */
static void assert_noticed_exit(struct client *client, double since, const char *what,
				const char *trace, const char *verdict)
{
	struct run_result r;
	client_result(client, &r);
	double took = now_s() - since;
	cr_assert_eq(r.status, 3, "weft %s exits 3 when the process exits first, not %d: %s",
		     what, r.status, r.err);
	cr_assert_lt(took, 5.0, "weft %s noticed the exit after %.1f s", what, took);
	char expected[4400];
	snprintf(expected, sizeof expected, "exited before answering; its trace %s %s",
		 trace, verdict);
	cr_assert(strstr(r.err, expected), "says '%s': %s", expected, r.err);
	cr_assert_eq(strchr(r.err, '\n'), r.err + r.err_len - 1, "one line: %s", r.err);
	cr_assert_str_empty(r.out);
	h_free(&r);
}

Test(control, stop_as_the_process_exits, .timeout = 60)
{
	char *trace = h_trace_path("exits");
	struct h_proc p;
	spawn_traced("idle_threads", (char *[]){ "2", NULL }, trace, 1, &p, NULL);
	char line[64];
	cr_assert(h_read_line(&p, line, sizeof line));
	struct client client;
	request_never_answered("stop", NULL, &p, NULL, &client);
	double since = now_s();
	let_it_finish(&p);
	assert_noticed_exit(&client, since, "stop", trace,
			    "was completed at exit");
	h_assert_checks(trace);
}

Test(control, start_as_the_process_is_killed, .timeout = 60)
{
	char *trace = h_trace_path("killed");
	struct h_proc p;
	spawn_traced("idle_threads", (char *[]){ "2", NULL }, trace, 1, &p, NULL);
	char line[64];
	cr_assert(h_read_line(&p, line, sizeof line));
	struct client client;
	request_never_answered("start", NULL, &p, NULL, &client);
	double since = now_s();
	kill(p.pid, SIGKILL);
	cr_assert_eq(h_finish(&p), 128 + SIGKILL);
	assert_noticed_exit(&client, since, "start", trace,
			    "is not complete (the process was killed)");
	struct weft_check_result res;
	cr_assert_eq(h_check(trace, &res), WEFT_CHECK_TRUNCATED, "%s", res.error);
}

/* Makes pidfd_open(2) fail with ENOSYS, as on kernels before 5.3. */
static void without_pidfd(void)
{
	struct sock_filter code[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 0, 1),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
	};
	struct sock_fprog prog = { sizeof code / sizeof code[0], code };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog) != 0)
		_exit(126);
}

Test(control, stop_as_the_process_exits_without_pidfd, .timeout = 60)
{
	char *trace = h_trace_path("exits-nopidfd");
	struct h_proc p;
	spawn_traced("idle_threads", (char *[]){ "2", NULL }, trace, 0, &p, NULL);
	char line[64];
	cr_assert(h_read_line(&p, line, sizeof line));
	struct client client;
	request_never_answered("stop", NULL, &p, without_pidfd, &client);
	double since = now_s();
	let_it_finish(&p);
	assert_noticed_exit(&client, since, "stop", trace,
			    "was completed at exit");
}

/* Waits (bounded) until process pid's main thread is a zombie. */
static void wait_for_zombie_main(int pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/stat", pid);
	for (int i = 0; i < 5000; i++) {
		char stat[512] = { 0 };
		FILE *f = fopen(path, "r");
		cr_assert(f, "%s: %s", path, strerror(errno));
		size_t n = fread(stat, 1, sizeof stat - 1, f);
		fclose(f);
		const char *paren = n ? strrchr(stat, ')') : NULL;
		if (paren && paren[1] == ' ' && paren[2] == 'Z')
			return;
		sleep_us(2000);
	}
	cr_assert_fail("the main thread of %d did not end", pid);
}

Test(control, a_main_thread_that_left_is_not_the_process_exiting, .timeout = 60)
{
	char *trace = h_trace_path("leader-exits");
	struct h_proc p;
	spawn_traced("leader_exits", NULL, trace, 1, &p, NULL);
	char line[64];
	cr_assert(h_read_line(&p, line, sizeof line));
	cr_assert_str_eq(line, "ready");
	wait_for_zombie_main(p.pid);
	void (*setups[])(void) = { NULL, without_pidfd };
	for (size_t i = 0; i < sizeof setups / sizeof setups[0]; i++) {
		struct client client;
		request_never_answered("stop", "1", &p, setups[i], &client);
		struct run_result r;
		client_result(&client, &r);
		cr_assert_eq(r.status, 1, "%s: the process runs on: %s",
			     setups[i] ? "without pidfd" : "with pidfd", r.err);
		cr_assert(strstr(r.err, "no answer"), "%s", r.err);
		h_free(&r);
	}
	h_write_line(&p, "go");
	cr_assert(h_read_line(&p, line, sizeof line));
	cr_assert_str_eq(line, "done");
	cr_assert_eq(h_finish(&p), 0);
	h_assert_checks(trace);
}

Test(control, request_to_a_process_that_has_exited, .timeout = 60)
{
	char *trace = h_trace_path("zombie");
	struct h_proc p;
	spawn_traced("idle_threads", (char *[]){ "2", NULL }, trace, 1, &p, NULL);
	char line[64];
	cr_assert(h_read_line(&p, line, sizeof line));
	h_write_line(&p, "go");
	cr_assert(h_read_line(&p, line, sizeof line));
	/* It has ended and is not reaped yet: its pid is still taken. */
	siginfo_t info;
	cr_assert_eq(waitid(P_PID, (id_t)p.pid, &info, WEXITED | WNOWAIT), 0);
	char pidtext[16];
	snprintf(pidtext, sizeof pidtext, "%d", p.pid);
	char *argv[] = { (char *)h_weft(), "stop", pidtext, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 3, "%s", r.err);
	cr_assert(strstr(r.err, "has exited"), "%s", r.err);
	cr_assert(strstr(r.err, "completed at exit unless it was killed"), "%s", r.err);
	h_free(&r);
	cr_assert_eq(h_finish(&p), 0);
}
