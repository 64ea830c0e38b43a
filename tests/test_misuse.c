/*
 * test_misuse.c - the misuse corpus (tests/programs/misuse_*.c) traced for
 * real: each program does one thing POSIX leaves undefined and glibc
 * allows; its trace must check (exit 0) with exactly that finding (kind,
 * threads, object), and fail `weft check --strict` with status 4.  Also
 * the wrappers' recorded effects of error returns (cond_errors.c) and an
 * object re-created at a reused stack address (stack_mutex_reuse.c).
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "harness.h"

/* Runs program name (with one optional argument) under the preload into
 * a trace; returns the trace's path, with the object the program named in
 * *object (when it names one). */
static char *traced(const char *name, const char *arg, int want_status,
		    uint64_t *object, struct run_result *run)
{
	char *trace = h_trace_path(arg ? arg : name);
	static __thread char preload_env[4200], output_env[4200];
	snprintf(preload_env, sizeof preload_env, "LD_PRELOAD=%s", h_preload());
	snprintf(output_env, sizeof output_env, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload_env, output_env, "WEFT_STACKS=1", NULL };
	char *argv[] = { (char *)h_program(name), (char *)arg, NULL };
	h_run(argv, env, run);
	cr_assert_eq(run->status, want_status, "%s: status %d: %s", name, run->status,
		     run->err);
	const char *line = strstr(run->out, "object ");
	if (object) {
		cr_assert(line, "%s names no object: %s", name, run->out);
		*object = strtoull(line + 7, NULL, 16);
	}
	return trace;
}

/* weft check's exit status on trace, with --strict or not. */
static int check_status(const char *trace, int strict)
{
	char *argv[] = { (char *)h_weft(), "check", strict ? "--strict" : "--quiet",
			 (char *)trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	int status = r.status;
	h_free(&r);
	return status;
}

static void expect_finding(const char *name, const char *arg,
			   enum weft_finding_kind kind, uint32_t thread,
			   uint32_t other)
{
	struct run_result run;
	uint64_t object = 0;
	char *trace = traced(name, arg, 0, &object, &run);
	h_free(&run);
	struct weft_check_result res;
	enum weft_verdict v = h_check(trace, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "%s: verdict %d: %s %s", name, v, res.error,
		     res.note);
	cr_assert_eq(res.findings_total, 1, "%s: %" PRIu64 " findings", name,
		     res.findings_total);
	const struct weft_finding *f = &res.findings[0];
	char text[256];
	weft_finding_describe(text, sizeof text, f);
	cr_assert_eq(f->kind, kind, "%s: %s", name, text);
	cr_assert_eq(f->thread, thread, "%s: %s", name, text);
	cr_assert_eq(f->other, other, "%s: %s", name, text);
	cr_assert_eq(f->object, object, "%s: %s (object 0x%" PRIx64 ")", name, text,
		     object);
	cr_assert_eq(check_status(trace, 0), 0, "%s: weft check failed", name);
	cr_assert_eq(check_status(trace, 1), 4, "%s: weft check --strict passed", name);
}

Test(misuse, unlock_of_a_mutex_another_thread_holds, .timeout = 60)
{
	expect_finding("misuse_unlock_foreign", "mutex", WEFT_FINDING_UNLOCK_FOREIGN, 2, 1);
}

Test(misuse, unlock_of_a_spin_lock_another_thread_holds, .timeout = 60)
{
	expect_finding("misuse_unlock_foreign", "spin", WEFT_FINDING_UNLOCK_FOREIGN, 2, 1);
}

Test(misuse, unlock_of_an_unlocked_mutex, .timeout = 60)
{
	expect_finding("misuse_unlock_unheld", NULL, WEFT_FINDING_UNLOCK_UNHELD, 1, 0);
}

Test(misuse, destroy_of_a_held_mutex, .timeout = 60)
{
	expect_finding("misuse_destroy_held", NULL, WEFT_FINDING_DESTROY_HELD, 1, 2);
}

Test(misuse, destroy_of_a_semaphore_waited_on, .timeout = 60)
{
	expect_finding("misuse_destroy_waited", NULL, WEFT_FINDING_DESTROY_WAITED, 1, 2);
}

Test(misuse, init_of_a_held_mutex, .timeout = 60)
{
	expect_finding("misuse_init_held", NULL, WEFT_FINDING_INIT_HELD, 1, 2);
}

Test(misuse, relock_of_a_default_mutex_deadlocks, .timeout = 60)
{
	expect_finding("misuse_relock", NULL, WEFT_FINDING_RELOCK, 2, 2);
}

/* The findings in text name both threads and show the stacks. */
Test(misuse, findings_are_printed_with_stacks, .timeout = 60)
{
	struct run_result run;
	char *trace = traced("misuse_relock", NULL, 0, NULL, &run);
	h_free(&run);
	char *argv[] = { (char *)h_weft(), "check", trace, NULL };
	h_run(argv, NULL, &run);
	cr_assert_eq(run.status, 0, "%s", run.err);
	cr_assert(strstr(run.out, "finding: relock-deadlock: T2 locks mutex 0x"), "%s", run.out);
	cr_assert(strstr(run.out, "T2 MUTEX_BLOCK at offset "), "%s", run.out);
	cr_assert(strstr(run.out, "#0 "), "no stack: %s", run.out);
	cr_assert(strstr(run.out, "1 findings"), "%s", run.out);
	h_free(&run);
	char *json[] = { (char *)h_weft(), "check", "--json", trace, NULL };
	h_run(json, NULL, &run);
	cr_assert(strstr(run.out, "\"findings\":[{\"kind\":\"relock-deadlock\""), "%s", run.out);
	h_free(&run);
}

/* The holder's side of a finding shows where it took the lock, though
 * it took it without waiting (its ACQUIRE_SITE). */
Test(misuse, a_finding_shows_where_the_holder_took_the_lock, .timeout = 60)
{
	struct run_result run;
	char *trace = traced("misuse_unlock_foreign", "mutex", 0, NULL, &run);
	h_free(&run);
	struct weft_check_result res;
	enum weft_verdict v = h_check(trace, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "verdict %d: %s %s", v, res.error, res.note);
	cr_assert_eq(res.findings_total, 1);
	const struct weft_finding *f = &res.findings[0];
	cr_assert_eq(f->other, 1, "the holder is T1, not T%u", f->other);
	cr_assert_neq(f->other_stack, 0, "no stack where T1 took the mutex");
}

/* Error returns recorded as what they did: a cond wait that failed with
 * EINVAL or EPERM released nothing; EOWNERDEAD hands a robust mutex on. */
Test(misuse, error_returns_are_recorded_with_their_effect, .timeout = 60)
{
	struct run_result run;
	char *trace = traced("cond_errors", NULL, 0, NULL, &run);
	cr_assert_str_eq(run.out, "ok cond_timedwait_einval\nok cond_wait_eperm\n"
			 "ok robust_eownerdead\n");
	h_free(&run);
	struct weft_check_result res;
	enum weft_verdict v = h_check(trace, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "verdict %d: %s %s", v, res.error, res.note);
	cr_assert_eq(res.findings_total, 0);
}

/* A stack mutex left locked by a thread that exited, re-created at the
 * same address by later calls: a new mutex each time. */
Test(misuse, a_mutex_re_created_at_a_reused_address_is_new, .timeout = 60)
{
	struct run_result run;
	char *trace = traced("stack_mutex_reuse", NULL, 0, NULL, &run);
	cr_assert_str_eq(run.out, "same address\n");
	h_free(&run);
	struct weft_check_result res;
	enum weft_verdict v = h_check(trace, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "verdict %d: %s %s", v, res.error, res.note);
	cr_assert_eq(res.findings_total, 0);
}
