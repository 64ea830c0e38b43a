/*
 * test_signals.c - signal handlers that call traced functions while their
 * thread is inside weft, forced with the test build's hooks
 * (tests/programs/sig_in_section.c and sig_nested_wait.c).
 *
 * A handler's event made while its thread was writing another event, or
 * capturing a stack, is recorded in order and numbered in the right
 * generation: no event is lost, the semaphore's posts all appear, and the
 * trace checks.  A handler that blocks while its thread was blocked in
 * another wait leaves both waits in the STATUS of a generation that begins
 * meanwhile.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

struct sig_case {
	char name[16];
};

static void run_hooked(const char *program, const char *arg, int stacks,
		       const char *trace, struct run_result *res)
{
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s",
		 getenv("WEFT_TEST_HOOKED_PRELOAD"));
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, stacks ? "WEFT_STACKS=1" : NULL, NULL };
	char *argv[] = { (char *)h_program(program), (char *)arg, NULL };
	h_run(argv, env, res);
}

static const struct sig_case in_section[] = {
	{ "seq" }, { "call" }, { "close" }, { "rotate" }, { "late" }, { "unwind" },
};

ParameterizedTestParameters(signals, post_in_section)
{
	return cr_make_param_array(struct sig_case, (void *)in_section,
				   sizeof in_section / sizeof in_section[0]);
}

/* Every sem_post the program made is in the trace, none is lost, and the
 * semaphore's value adds up (the checker follows it across
 * generations). */
ParameterizedTest(const struct sig_case *c, signals, post_in_section, .timeout = 60)
{
	char *trace = h_trace_path(c->name);
	struct run_result res;
	run_hooked("sig_in_section", c->name, !strcmp(c->name, "unwind"), trace, &res);
	cr_assert_eq(res.status, 0, "%s: exit %d: %s%s", c->name, res.status, res.out,
		     res.err);
	cr_assert_str_eq(res.err, "", "%s: stderr: %s", c->name, res.err);
	int posts = -1;
	const char *line = strstr(res.out, "posts ");
	cr_assert(line && sscanf(line, "posts %d", &posts) == 1, "%s: %s", c->name,
		  res.out);
	h_free(&res);

	struct h_counts counts;
	h_count(trace, &counts);
	cr_assert_eq(counts.lost, 0, "%s: %llu events lost", c->name,
		     (unsigned long long)counts.lost);
	cr_assert_eq(counts.per_code[WEFT_EV_SEM_POST], (uint64_t)posts,
		     "%s: %llu SEM_POST records for %d posts", c->name,
		     (unsigned long long)counts.per_code[WEFT_EV_SEM_POST], posts);
	struct weft_check_result check;
	enum weft_verdict v = h_check(trace, &check);
	cr_assert_eq(v, WEFT_CHECK_OK, "%s: %s %s", c->name, check.error, check.note);
}

/* Thread 2's LOST and THREAD_EXIT records, in file order. */
struct exit_order {
	int lost_seen, lost_after_exit, exit_seen;
	uint64_t lost;
};

static void note_exit_order(const struct weft_batch *b, const struct weft_record *rec,
			    void *ctx)
{
	struct exit_order *o = ctx;
	if (b->header.serial != 2)
		return;
	if (rec->code == WEFT_EV_THREAD_EXIT)
		o->exit_seen = 1;
	if (rec->code == WEFT_EV_LOST) {
		o->lost_seen = 1;
		o->lost += rec->args[0];
		o->lost_after_exit |= o->exit_seen;
	}
}

/* A handler makes more events inside one section than its thread keeps:
 * those left over are lost, and reported in the generation, before the
 * thread's THREAD_EXIT; every other post is in the trace. */
Test(signals, overflow_reported_before_thread_exit, .timeout = 60)
{
	char *trace = h_trace_path("flood");
	struct run_result res;
	run_hooked("sig_in_section", "flood", 0, trace, &res);
	cr_assert_eq(res.status, 0, "exit %d: %s%s", res.status, res.out, res.err);
	int posts = -1;
	const char *line = strstr(res.out, "posts ");
	cr_assert(line && sscanf(line, "posts %d", &posts) == 1, "%s", res.out);
	h_free(&res);

	struct exit_order order = { 0 };
	char err[512];
	cr_assert_eq(h_walk(trace, note_exit_order, &order, err, sizeof err),
		     WEFT_READ_OK, "%s", err);
	cr_assert(order.lost_seen && order.exit_seen, "lost %d, exit %d", order.lost_seen,
		  order.exit_seen);
	cr_assert(!order.lost_after_exit, "LOST after THREAD_EXIT");
	struct h_counts counts;
	h_count(trace, &counts);
	cr_assert_eq(counts.per_code[WEFT_EV_SEM_POST] + order.lost, (uint64_t)posts,
		     "%llu SEM_POST records and %llu lost for %d posts",
		     (unsigned long long)counts.per_code[WEFT_EV_SEM_POST],
		     (unsigned long long)order.lost, posts);
	struct weft_check_result check;
	cr_assert_eq(h_check(trace, &check), WEFT_CHECK_OK, "%s %s", check.error, check.note);
}

static const struct sig_case nested_waits[] = {
	{ "barrier" }, { "rdlock" }, { "wrlock" },
};

ParameterizedTestParameters(signals, wait_in_handler_across_rotation)
{
	return cr_make_param_array(struct sig_case, (void *)nested_waits,
				   sizeof nested_waits / sizeof nested_waits[0]);
}

ParameterizedTest(const struct sig_case *c, signals, wait_in_handler_across_rotation,
		  .timeout = 60)
{
	char *trace = h_trace_path(c->name);
	struct run_result res;
	run_hooked("sig_nested_wait", c->name, 0, trace, &res);
	cr_assert_eq(res.status, 0, "%s: exit %d: %s%s", c->name, res.status, res.out,
		     res.err);
	cr_assert_str_eq(res.err, "", "%s: stderr: %s", c->name, res.err);
	h_free(&res);

	struct weft_check_result check;
	enum weft_verdict v = h_check(trace, &check);
	cr_assert_eq(v, WEFT_CHECK_OK, "%s: %s %s", c->name, check.error, check.note);
	cr_assert_geq(check.generations, 2, "%s: %u generations", c->name,
		      check.generations);
	cr_assert_eq(check.lost, 0, "%s: events lost", c->name);
}
