/*
 * test_control.c - starting and stopping tracing in running programs: a
 * stress run toggled hundreds of times, a signal storm, threads blocked
 * at the moment of a start and of a stop, a sweep of thread counts so
 * buffer flushes land inside status emission, and a signal handler whose
 * events nest inside the wrappers it interrupts.  Every session of every
 * trace must check.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, "WEFT_ROTATE_MS=10", NULL };
	h_run(argv, env, &traced);
	cr_assert_eq(traced.status, 0);
	cr_assert_str_eq(traced.out, plain.out);
	struct h_counts c;
	h_count(trace, &c);
	cr_assert_gt(c.per_code[WEFT_EV_SYSCALL_BEGIN], 0, "handler writes were recorded");
	cr_assert_gt(c.per_code[WEFT_EV_CLOCK], 1, "the run spans several generations");
	h_assert_checks(trace);
	h_free(&plain);
	h_free(&traced);
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
	cr_assert_eq(res.generations, 1, "one session: the plain delivery did not toggle");
}
