/*
 * test_stacks.c - call stacks captured on blocking events (WEFT_STACKS=1),
 * with tests/programs/stack_shapes.c: what a capture costs in system
 * calls (none), and stacks an unwinder may trip on (deep recursion, code
 * without unwind information and a garbage frame pointer, a signal
 * handler's frame, a capture interrupted by a handler that captures)
 * captured without a crash and as far as they can be.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Runs stack_shapes ARGS with stacks on; the trace (at *trace) must
 * check.  Returns the run (to be freed). */
static void run_shape(char *const args[], const char *name, char **trace,
		      struct run_result *r)
{
	char *argv[8] = { (char *)h_program("stack_shapes") };
	for (int i = 0; args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	char preload[4200], output[4200];
	*trace = h_trace_path(name);
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", *trace);
	char *env[] = { preload, output, "WEFT_STACKS=1", NULL };
	h_run(argv, env, r);
	cr_assert_eq(r->status, 0, "%s: exit %d: %s", name, r->status, r->err);
	cr_assert_str_eq(r->err, "", "%s: stderr: %s", name, r->err);
	h_assert_checks(*trace);
}

/* The STACK records of a trace, and a code range to look for in them. */
struct stacks_seen {
	uint64_t lo, hi;
	int stacks, deepest;
	int in_range;      /* stacks with a pc in [lo, hi) */
	int range_last;    /* ...where it is the outermost pc */
	uint64_t outermost; /* the outermost pc of the first stack... */
	int other_end;      /* ...and how many stacks end elsewhere */
};

static void see_stack(const struct weft_batch *b, const struct weft_record *rec,
		      void *ctx)
{
	(void)b;
	struct stacks_seen *s = ctx;
	if (rec->code != WEFT_EV_STACK)
		return;
	if (s->stacks++ == 0)
		s->outermost = rec->pcs[rec->npcs - 1];
	else
		s->other_end += rec->pcs[rec->npcs - 1] != s->outermost;
	if ((int)rec->npcs > s->deepest)
		s->deepest = (int)rec->npcs;
	for (uint32_t i = 0; i < rec->npcs; i++) {
		if (rec->pcs[i] >= s->lo && rec->pcs[i] < s->hi) {
			s->in_range++;
			s->range_last += i + 1 == rec->npcs;
			break;
		}
	}
}

static void walk_stacks(const char *trace, struct stacks_seen *s)
{
	char err[512];
	cr_assert_eq(h_walk(trace, see_stack, s, err, sizeof err), WEFT_READ_OK, "%s", err);
}

/* The range printed by stack_shapes as "WORD 0xSTART 0xEND". */
static void read_range(const char *out, const char *word, struct stacks_seen *s)
{
	const char *line = strstr(out, word);
	cr_assert(line, "no \"%s\" line in: %s", word, out);
	char fmt[32];
	snprintf(fmt, sizeof fmt, "%s %%lx %%lx", word);
	unsigned long lo, hi;
	cr_assert_eq(sscanf(line, fmt, &lo, &hi), 2, "%s", line);
	s->lo = lo;
	s->hi = hi;
}

Test(stacks, deep_recursion_is_cut_at_the_stack_depth, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_shape((char *[]){ "deep", "20000", NULL }, "deep", &trace, &r);
	h_free(&r);
	struct stacks_seen s = { 0 };
	walk_stacks(trace, &s);
	cr_assert_gt(s.stacks, 0, "no stack recorded");
	cr_assert_eq(s.deepest, 32, "the deepest stack has %d frames", s.deepest);
}

Test(stacks, code_without_unwind_information_ends_the_stack, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_shape((char *[]){ "nocfi", NULL }, "nocfi", &trace, &r);
	struct stacks_seen s = { 0 };
	read_range(r.out, "code", &s);
	h_free(&r);
	walk_stacks(trace, &s);
	/* The write's stack reaches the generated code, whose caller cannot
	 * be known: it is the last frame. */
	cr_assert_eq(s.in_range, 1, "%d stacks pass through the generated code", s.in_range);
	cr_assert_eq(s.range_last, 1, "the generated code is not the outermost frame");
}

Test(stacks, a_handler_stack_goes_on_into_the_interrupted_code, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_shape((char *[]){ "signal", NULL }, "signal", &trace, &r);
	struct stacks_seen s = { 0 };
	read_range(r.out, "spin", &s);
	h_free(&r);
	walk_stacks(trace, &s);
	cr_assert_eq(s.in_range, 1, "%d stacks pass through spin()", s.in_range);
	cr_assert_eq(s.range_last, 0, "the stack ends in spin(), not in main");
}

/* Signals every 100 us, whose handler captures, interrupting the program
 * anywhere, in a capture and in PLT entries too: every stack, the
 * handler's through the signal frame included, goes on to the program's
 * entry point. */
Test(stacks, captures_interrupted_by_capturing_handlers, .timeout = 120)
{
	char *trace;
	struct run_result r;
	run_shape((char *[]){ "storm", "200000", NULL }, "storm", &trace, &r);
	h_free(&r);
	struct stacks_seen s = { 0 };
	walk_stacks(trace, &s);
	cr_assert_gt(s.stacks, 8, "%d stacks", s.stacks);
	cr_assert_eq(s.other_end, 0, "%d of %d stacks end short of the entry point",
		     s.other_end, s.stacks);
}

/* The system calls stack_shapes `calls N` makes under strace -f -c,
 * traced, with stacks on or off. */
static long syscalls_made(int stacks, long n)
{
	char out[4200], preload[4300], nstr[32];
	snprintf(out, sizeof out, "%s", h_trace_path(stacks ? "strace-on" : "strace-off"));
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	char output[4300];
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s.trace", out);
	snprintf(nstr, sizeof nstr, "%ld", n);
	char *argv[] = { "strace", "-f", "-c", "-U", "calls,name", "-o", out,
			 "-E", preload, "-E", output, "-E",
			 stacks ? "WEFT_STACKS=1" : "WEFT_STACKS=0",
			 (char *)h_program("stack_shapes"), "calls", nstr, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "strace: exit %d: %s", r.status, r.err);
	h_free(&r);
	FILE *f = fopen(out, "r");
	cr_assert(f, "%s", out);
	char line[256];
	long total = -1;
	while (fgets(line, sizeof line, f)) {
		long calls;
		char name[64];
		if (sscanf(line, "%ld %63s", &calls, name) == 2 && !strcmp(name, "total"))
			total = calls;
	}
	fclose(f);
	cr_assert_geq(total, n, "no total in strace's summary %s", out);
	return total;
}

Test(stacks, a_capture_makes_no_system_call, .timeout = 120)
{
	if (system("strace -V >/dev/null 2>&1") != 0)
		cr_skip_test("strace is not installed (scripts/setup installs it)");
	const long n = 2000;
	long off = syscalls_made(0, n), on = syscalls_made(1, n);
	/* Writing the stack table at the end costs a few calls of its own;
	 * one per capture would be n. */
	cr_assert_lt(on - off, n / 20,
		     "%ld system calls with stacks, %ld without, for %ld captures", on, off, n);
}

/* A fork that lands while another thread is adding a stack to the table:
 * the child, capturing the same stack, must not use an id its tables will
 * not define (tests/programs/fork_mid_stack.c forces the interleaving). */
Test(stacks, a_fork_mid_capture_leaves_the_child_no_undefined_stack,
     .timeout = 60)
{
	char pattern[4096], preload[4200], output[4200];
	snprintf(pattern, sizeof pattern, "%s/midstack-%%p.trace", h_tmpdir());
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s",
		 getenv("WEFT_TEST_HOOKED_PRELOAD"));
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", pattern);
	char *env[] = { preload, output, "WEFT_STACKS=1", NULL };
	char *argv[] = { (char *)h_program("fork_mid_stack"), NULL };
	struct run_result res;
	h_run(argv, env, &res);
	cr_assert_eq(res.status, 0, "exit %d: %s", res.status, res.err);
	cr_assert_str_eq(res.out, "ok\n");
	h_free(&res);

	cr_assert_eq(h_assert_each_checks("midstack-"), 2,
		     "the parent's trace and the child's");
}
