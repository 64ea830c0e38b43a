/*
 * test_deadlock.c - what `weft stats` and `weft check` say of the end of
 * a trace whose process hung (tests/programs/deadlocks.c, recorded with
 * stacks and stopped with `weft stop` while hung, then killed, or only
 * killed): an AB/BA
 * deadlock, a cycle of three, a reader waiting for a mutex whose holder
 * waits to write, a join cycle, named first with both
 * threads, both locks and the program's own functions at both sites;
 * threads stuck on a condvar never signalled and a semaphore never
 * posted; and neither in a run that finishes.
 */
#include <criterion/criterion.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Runs deadlocks WAY traced (with stacks unless told otherwise) until it
 * says "hung", stops tracing and kills it; returns the trace, which must
 * check. */
static char *record_hung_stacks(const char *way, int stacks)
{
	char *trace = h_trace_path(way);
	static __thread char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, "WEFT_START=1",
			stacks ? "WEFT_STACKS=1" : "WEFT_STACKS=0", NULL };
	char *argv[] = { (char *)h_program("deadlocks"), (char *)way, NULL };
	struct h_proc p;
	h_spawn(argv, env, &p);
	char line[64] = "";
	cr_assert(h_read_line(&p, line, sizeof line), "deadlocks %s ended", way);
	cr_assert_str_eq(line, "hung");
	char pid[16];
	snprintf(pid, sizeof pid, "%d", p.pid);
	char *stop[] = { (char *)h_weft(), "stop", pid, NULL };
	struct run_result r;
	h_run(stop, NULL, &r);
	cr_assert_eq(r.status, 0, "weft stop: %s", r.err);
	h_free(&r);
	cr_assert(h_still_running(&p), "the hung process ended by itself");
	kill(p.pid, SIGKILL);
	cr_assert_eq(h_finish(&p), 128 + SIGKILL);
	h_assert_checks(trace);
	return trace;
}

static char *record_hung(const char *way)
{
	return record_hung_stacks(way, 1);
}

/* Runs deadlocks WAY traced with stacks, generations every 50 ms, and
 * kills it half a second after it says "hung": its trace is truncated,
 * and holds the generations that ended while it hung. */
static char *record_killed(const char *way)
{
	char *trace = h_trace_path(way);
	static __thread char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, "WEFT_START=1", "WEFT_STACKS=1",
			"WEFT_ROTATE_MS=50", NULL };
	char *argv[] = { (char *)h_program("deadlocks"), (char *)way, NULL };
	struct h_proc p;
	h_spawn(argv, env, &p);
	char line[64] = "";
	cr_assert(h_read_line(&p, line, sizeof line), "deadlocks %s ended", way);
	cr_assert_str_eq(line, "hung");
	struct timespec half = { 0, 500000000L };
	nanosleep(&half, NULL);
	kill(p.pid, SIGKILL);
	cr_assert_eq(h_finish(&p), 128 + SIGKILL);
	return trace;
}

/* Runs weft CMD [--json] TRACE; its stdout in *r, its status asserted. */
static void weft(const char *cmd, int json, const char *trace, int status,
		 struct run_result *r)
{
	char *argv[] = { (char *)h_weft(), (char *)cmd, json ? "--json" : (char *)trace,
			 (char *)trace, NULL };
	if (!json)
		argv[3] = NULL;
	h_run(argv, NULL, r);
	cr_assert_eq(r->status, status, "weft %s %s exited %d: %s", cmd, trace,
		     r->status, r->err);
}

/* The line of text that contains what (asserted to exist). */
static const char *line_with(const char *text, const char *what)
{
	const char *p = strstr(text, what);
	cr_assert(p, "no \"%s\" in:\n%s", what, text);
	while (p > text && p[-1] != '\n')
		p--;
	return p;
}

static int count(const char *text, const char *what)
{
	int n = 0;
	for (const char *p = text; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

/* Asserts that a "Deadlock:" line is the first thing after stats'
 * banner, and that it names every part given (each must be on it). */
static const char *assert_deadlock_first(const char *out, const char *const parts[])
{
	const char *second = strchr(out, '\n');
	cr_assert(second, "%s", out);
	second++;
	cr_assert(!strncmp(second, "Deadlock: ", 10), "stats does not begin with the "
		  "deadlock:\n%s", out);
	const char *end = strchr(second, '\n');
	for (int i = 0; parts[i]; i++) {
		const char *p = strstr(second, parts[i]);
		cr_assert(p && p < end, "the deadlock line does not name \"%s\":\n%s",
			  parts[i], out);
	}
	cr_assert_eq(count(out, "Deadlock: "), 1, "%s", out);
	cr_assert_eq(count(out, "Stuck: "), 0, "%s", out);
	return end + 1;
}

Test(deadlock, ab_ba_named_first_with_both_sites, .timeout = 120)
{
	char *trace = record_hung("abba");
	struct run_result r;
	weft("stats", 0, trace, 0, &r);
	const char *parts[] = { "T2 waits for ledger_lock (held by T3 since ",
				"taken at take_two (deadlocks.c:",
				" while T3 waits for account_lock (held by T2 since ", NULL };
	const char *sites = assert_deadlock_first(r.out, parts);
	/* Each waiter's blocking site and each holder's acquisition, in the
	 * program's own functions, before anything else. */
	cr_assert(!strncmp(sites, "    T2 blocked at: take_two (deadlocks.c:", 41),
		  "%s", r.out);
	cr_assert(strstr(line_with(sites, "T2 blocked at:"), "< take_a_then_b ("),
		  "%s", r.out);
	cr_assert(strstr(line_with(sites, "T3 took ledger_lock at:"), "< take_b_then_a ("),
		  "%s", r.out);
	cr_assert(strstr(line_with(sites, "T3 blocked at:"), "< take_b_then_a ("),
		  "%s", r.out);
	cr_assert(strstr(line_with(sites, "T2 took account_lock at:"), "< take_a_then_b ("),
		  "%s", r.out);
	/* T5 queues for account_lock, held by T2 (and main may have begun
	 * to join T2 when tracing stopped). */
	const char *behind = line_with(sites, "    blocked behind it: ");
	cr_assert(strstr(behind, " T5 (waits for account_lock)\n"), "%s", r.out);
	cr_assert_lt(strstr(r.out, "Deadlock: "), strstr(r.out, "Costliest lock"));
	h_free(&r);

	weft("stats", 1, trace, 0, &r);
	const char *d = strstr(r.out, "\"deadlocks\":[{\"threads\":[{\"thread\":2,");
	cr_assert(d, "%s", r.out);
	const char *stuck = strstr(d, "\"stuck\":[]");
	cr_assert(stuck, "%s", r.out);
	cr_assert_eq(count(d, "\"holder\":") - count(stuck, "\"holder\":"), 2, "%s", r.out);
	cr_assert(strstr(d, "\"what\":\"ledger_lock\""), "%s", r.out);
	cr_assert(strstr(d, "\"what\":\"account_lock\""), "%s", r.out);
	behind = strstr(d, "\"behind\":[{");
	cr_assert(behind && strstr(behind, "{\"thread\":5,\"kind\":\"mutex\","), "%s",
		  r.out);
	h_free(&r);
}

/* Without stacks, an acquisition is given out only at its thread's next
 * record: T4's, its last, only as the trace ends, after the cycle's
 * threads' waits. */
Test(deadlock, ab_ba_without_stacks, .timeout = 120)
{
	char *trace = record_hung_stacks("abba", 0);
	struct run_result r;
	weft("stats", 0, trace, 0, &r);
	const char *parts[] = { "T2 waits for ledger_lock (held by T3 since ",
				" while T3 waits for account_lock (held by T2 since ", NULL };
	const char *sites = assert_deadlock_first(r.out, parts);
	cr_assert(!strncmp(sites, "    T2 blocked at: T2 at offset ", 32), "%s", r.out);
	h_free(&r);
}

/* A process killed while hung leaves a truncated trace: its last
 * generation to end says the same. */
Test(deadlock, killed_while_hung, .timeout = 120)
{
	char *trace = record_killed("abba");
	struct run_result r;
	weft("stats", 0, trace, WEFT_CHECK_TRUNCATED, &r);
	const char *parts[] = { "T2 waits for ledger_lock (held by T3 since ",
				" while T3 waits for account_lock (held by T2 since ",
				"taken at take_two (deadlocks.c:", NULL };
	assert_deadlock_first(r.out, parts);
	h_free(&r);
	weft("check", 0, trace, WEFT_CHECK_TRUNCATED, &r);
	cr_assert(strstr(r.out, "Deadlock: T2 waits for ledger_lock"), "%s", r.out);
	h_free(&r);
}

Test(deadlock, cycle_of_three, .timeout = 120)
{
	char *trace = record_hung("three");
	struct run_result r;
	weft("stats", 0, trace, 0, &r);
	const char *parts[] = { "T2 waits for second_lock (held by T3 ",
				" while T3 waits for third_lock (held by T4 ",
				" while T4 waits for first_lock (held by T2 ", NULL };
	const char *sites = assert_deadlock_first(r.out, parts);
	cr_assert(strstr(line_with(sites, "T2 blocked at:"), "< take_first_second ("));
	cr_assert(strstr(line_with(sites, "T3 took second_lock at:"),
			 "< take_second_third ("));
	cr_assert(strstr(line_with(sites, "T4 took third_lock at:"),
			 "< take_third_first ("));
	cr_assert(strstr(line_with(sites, "T2 took first_lock at:"),
			 "< take_first_second ("));
	h_free(&r);
}

Test(deadlock, writer_waiting_for_a_reader, .timeout = 120)
{
	char *trace = record_hung("rwlock");
	struct run_result r;
	weft("stats", 0, trace, 0, &r);
	const char *parts[] = { "T2 waits for index_lock (held by T3 since ",
				" while T3 waits to write for table_rwlock (held for "
				"reading by T2 since ", "taken at read_then_lock (deadlocks.c:",
				"taken at lock_then_write (deadlocks.c:", NULL };
	assert_deadlock_first(r.out, parts);
	h_free(&r);
}

Test(deadlock, join_of_a_thread_waiting_for_the_joiner, .timeout = 120)
{
	char *trace = record_hung("join");
	struct run_result r;
	weft("stats", 0, trace, 0, &r);
	const char *parts[] = { "T1 waits to join T2 while T2 waits for state_lock "
				"(held by T1 since ", "taken at hold_and_join (deadlocks.c:",
				NULL };
	const char *sites = assert_deadlock_first(r.out, parts);
	cr_assert(strstr(line_with(sites, "T1 blocked at:"), "hold_and_join ("));
	cr_assert(strstr(line_with(sites, "T2 blocked at:"), "wait_for_state ("));
	cr_assert(strstr(line_with(sites, "T1 took state_lock at:"), "hold_and_join ("));
	h_free(&r);
}

Test(deadlock, stuck_on_a_condvar_and_a_semaphore, .timeout = 120)
{
	char *trace = record_hung("stuck");
	struct run_result r;
	weft("stats", 0, trace, 0, &r);
	const char *second = strchr(r.out, '\n') + 1;
	cr_assert(!strncmp(second, "Stuck: ", 7), "%s", r.out);
	line_with(r.out, "Stuck: T2 waits on cond never_signalled since ");
	cr_assert(strstr(line_with(r.out, "T2 blocked at:"), "wait_for_signal ("));
	line_with(r.out, "Stuck: T3 waits on sem never_posted since ");
	cr_assert(strstr(line_with(r.out, "T3 blocked at:"), "wait_for_post ("));
	/* main joins T2: a wait for a thread, not stuck on its own. */
	cr_assert_eq(count(r.out, "Stuck: "), 2, "%s", r.out);
	cr_assert_eq(count(r.out, "Deadlock: "), 0, "%s", r.out);
	h_free(&r);

	weft("stats", 1, trace, 0, &r);
	cr_assert(strstr(r.out, "\"deadlocks\":[],\"stuck\":[{\"thread\":"), "%s", r.out);
	cr_assert(strstr(r.out, "{\"thread\":2,\"kind\":\"cond\","), "%s", r.out);
	cr_assert(strstr(r.out, "{\"thread\":3,\"kind\":\"sem\","), "%s", r.out);
	h_free(&r);
}

Test(deadlock, check_notes_it_after_the_verdict, .timeout = 120)
{
	char *trace = record_hung("abba");
	struct run_result r;
	weft("check", 0, trace, 0, &r);
	const char *verdict = strstr(r.out, ": ok: ");
	cr_assert(verdict, "%s", r.out);
	const char *d = strstr(r.out, "Deadlock: T2 waits for ledger_lock");
	cr_assert(d && d > verdict, "%s", r.out);
	h_free(&r);
	weft("check", 1, trace, 0, &r);
	cr_assert(strstr(r.out, "\"deadlocks\":[{\"threads\":[{\"thread\":2,"), "%s",
		  r.out);
	cr_assert_eq(count(r.out, "\n"), 1, "one line per file: %s", r.out);
	h_free(&r);
}

Test(deadlock, a_run_that_finishes_has_neither, .timeout = 120)
{
	char *trace = h_trace_path("clean");
	char *argv[] = { (char *)h_weft(), "record", "--stacks", "-o", trace, "--",
			 (char *)h_program("deadlocks"), "clean", NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "done\n");
	h_free(&r);
	weft("stats", 0, trace, 0, &r);
	cr_assert_eq(count(r.out, "Deadlock"), 0, "%s", r.out);
	cr_assert_eq(count(r.out, "Stuck"), 0, "%s", r.out);
	h_free(&r);
	weft("stats", 1, trace, 0, &r);
	cr_assert(strstr(r.out, "\"deadlocks\":[],\"stuck\":[]"), "%s", r.out);
	h_free(&r);
}

/* Threads still blocked when the process exits are not stuck: the trace
 * says the image ended (GEN_END stopped = 2), and neither stats nor check
 * reports them (tests/programs/exit_blocked.c leaves 8 blocked). */
Test(deadlock, threads_blocked_at_exit_are_not_stuck, .timeout = 120)
{
	char *trace = h_trace_path("exited");
	char *argv[] = { (char *)h_weft(), "record", "-o", trace, "--",
			 (char *)h_program("exit_blocked"), NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	weft("stats", 0, trace, 0, &r);
	cr_assert_eq(count(r.out, "Deadlock"), 0, "%s", r.out);
	cr_assert_eq(count(r.out, "Stuck"), 0, "%s", r.out);
	h_free(&r);
	char *check[] = { (char *)h_weft(), "check", trace, NULL };
	h_run(check, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_eq(count(r.out, "Stuck"), 0, "%s", r.out);
	h_free(&r);
}
