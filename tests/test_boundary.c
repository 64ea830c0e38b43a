/*
 * test_boundary.c - generation boundaries forced into every point of an
 * event section, for every object kind (tests/programs/straddle.c under
 * the test build of libweft.so, whose hooks park a thread there).
 *
 * Each scenario parks one thread inside a section, advances the generation
 * (a rotation, or a stop followed by a start) while it is parked, lets the
 * other threads act on the same object in the new generation, then lets
 * the parked thread go on.  The program must behave as without weft, and
 * the trace must be complete and consistent.  Shared objects (rwlock
 * readers, semaphores, condvars, barriers) are the ones a wrong numbering
 * breaks; mutexes, spin locks and thread life cycle are here to show that
 * the exclusive shapes hold as well.
 */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Parameters are copied into the test's process: no pointers. */
struct straddle {
	char kind[24];
	char point[8];
	int stop;
};

static void run_straddle(const struct straddle *s)
{
	char *trace = h_trace_path(s->kind);
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s",
		 getenv("WEFT_TEST_HOOKED_PRELOAD"));
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, NULL };
	char *argv[] = { (char *)h_program("straddle"), (char *)s->kind,
			 (char *)s->point, s->stop ? "stop" : NULL, NULL };
	struct run_result res;
	h_run(argv, env, &res);
	cr_assert_eq(res.status, 0, "%s %s%s: exit %d: %s", s->kind, s->point,
		     s->stop ? " stop" : "", res.status, res.err);
	cr_assert_str_eq(res.err, "", "%s %s: stderr: %s", s->kind, s->point, res.err);
	/* The generation did move while the thread was parked. */
	unsigned before = 0, after = 0;
	const char *line = strstr(res.out, "generation ");
	cr_assert(line && sscanf(line, "generation %u -> %u", &before, &after) == 2,
		  "%s %s: %s", s->kind, s->point, res.out);
	cr_assert(s->stop ? after == 0 : after == before + 1,
		  "%s %s: generation %u -> %u", s->kind, s->point, before, after);
	cr_assert(strstr(res.out, "\nok\n"), "%s %s: %s", s->kind, s->point, res.out);
	h_free(&res);

	struct weft_check_result check;
	enum weft_verdict v = h_check(trace, &check);
	cr_assert_eq(v, WEFT_CHECK_OK, "%s %s%s: %s %s", s->kind, s->point,
		     s->stop ? " stop" : "", check.error, check.note);
	cr_assert_geq(check.generations, 2, "%s %s: %u generations", s->kind,
		      s->point, check.generations);
	cr_assert_eq(check.lost, 0, "%s %s: events lost", s->kind, s->point);
}

/* Every kind at every point of its section that exists: seq (generation
 * read, number not yet taken), call (a release's event written, its real
 * call not yet made), close (the section about to close). */
static const struct straddle scenarios[] = {
	{ "rwlock-unlock", "seq", 0 }, { "rwlock-unlock", "call", 0 },
	{ "rwlock-unlock", "close", 0 },
	{ "rwlock-acquire", "seq", 0 }, { "rwlock-acquire", "close", 0 },
	{ "sem-post", "seq", 0 }, { "sem-post", "call", 0 }, { "sem-post", "close", 0 },
	{ "sem-wait", "seq", 0 }, { "sem-wait", "close", 0 },
	{ "cond-signal", "seq", 0 }, { "cond-signal", "call", 0 },
	{ "cond-signal", "close", 0 },
	{ "cond-broadcast", "seq", 0 }, { "cond-broadcast", "call", 0 },
	{ "cond-broadcast", "close", 0 },
	{ "barrier", "seq", 0 }, { "barrier", "close", 0 },
	{ "barrier-order", "seq", 0 }, { "barrier-order", "close", 0 },
	{ "mutex-unlock", "seq", 0 }, { "mutex-unlock", "call", 0 },
	{ "mutex-unlock", "close", 0 },
	{ "mutex-acquire", "seq", 0 }, { "mutex-acquire", "close", 0 },
	{ "spin-unlock", "seq", 0 }, { "spin-unlock", "call", 0 },
	{ "spin-unlock", "close", 0 },
	{ "spin-acquire", "seq", 0 }, { "spin-acquire", "close", 0 },
	{ "cond-wait-begin", "seq", 0 }, { "cond-wait-begin", "close", 0 },
	{ "cond-wait-end", "seq", 0 }, { "cond-wait-end", "close", 0 },
	{ "thread-create", "close", 0 }, { "thread-exit", "close", 0 },
	/* The same shapes across a stop and a later start. */
	{ "rwlock-unlock", "seq", 1 }, { "rwlock-acquire", "seq", 1 },
	{ "sem-post", "call", 1 }, { "sem-wait", "seq", 1 },
	{ "cond-signal", "seq", 1 }, { "barrier", "seq", 1 },
	{ "barrier-order", "close", 1 }, { "mutex-unlock", "call", 1 },
	{ "cond-wait-end", "seq", 1 }, { "thread-exit", "close", 1 },
};

ParameterizedTestParameters(boundary, straddled_section)
{
	return cr_make_param_array(struct straddle, (void *)scenarios,
				   sizeof scenarios / sizeof scenarios[0]);
}

ParameterizedTest(const struct straddle *s, boundary, straddled_section, .timeout = 60)
{
	run_straddle(s);
}

/* Without the hooks the scenario program refuses to run (it would prove
 * nothing), and the library users get has none. */
Test(boundary, hooks_only_in_the_test_build, .timeout = 30)
{
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", h_trace_path("plain"));
	char *env[] = { preload, output, NULL };
	char *argv[] = { (char *)h_program("straddle"), "sem-post", "seq", NULL };
	struct run_result res;
	h_run(argv, env, &res);
	cr_assert_eq(res.status, 2, "exit %d", res.status);
	cr_assert(strstr(res.err, "libweft-test.so"), "%s", res.err);
	h_free(&res);
}

/* A fork child starts from an empty table of sequence counters but keeps
 * its thread's cache of counter slots: a cached slot must be checked
 * against the object before use, or two objects share a counter (see
 * tests/programs/fork_collide.c). */
Test(boundary, fork_child_counts_each_object_apart, .timeout = 60)
{
	char pattern[4096], preload[4200], output[4200];
	snprintf(pattern, sizeof pattern, "%s/collide-%%p.trace", h_tmpdir());
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s",
		 getenv("WEFT_TEST_HOOKED_PRELOAD"));
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", pattern);
	char *env[] = { preload, output, NULL };
	char *argv[] = { (char *)h_program("fork_collide"), NULL };
	struct run_result res;
	h_run(argv, env, &res);
	cr_assert_eq(res.status, 0, "exit %d: %s", res.status, res.err);
	cr_assert_str_eq(res.out, "ok\n");
	h_free(&res);

	cr_assert_eq(h_assert_each_checks("collide-"), 2,
		     "the parent's trace and the child's");
}
