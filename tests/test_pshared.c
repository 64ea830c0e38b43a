/*
 * test_pshared.c - objects shared between processes: a parent and its
 * fork child share a barrier, a semaphore (unnamed, and from sem_open), a
 * mutex with a condition variable, a spin lock or a reader-writer lock
 * (tests/programs/pshared.c).  `weft record` writes one trace per process, each holding
 * only its side; every one must mark the object as shared (the child
 * inherits the mark) and check, with no finding about it.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

/* Counts the OBJECT_SHARED records that mark the object at *ctx[0]. */
static void count_marks(const struct weft_batch *b, const struct weft_record *rec,
			void *ctx)
{
	(void)b;
	uint64_t *c = ctx;
	if (rec->code == WEFT_EV_OBJECT_SHARED && rec->args[0] == c[0])
		c[1]++;
}

/* Records `pshared what` and checks the parent's and the child's traces. */
static void record_and_check(const char *what)
{
	char pattern[4096];
	snprintf(pattern, sizeof pattern, "%s/%s-%%p.trace", h_tmpdir(), what);
	char *argv[] = { (char *)h_weft(), "record", "-o", pattern, "--",
			 (char *)h_program("pshared"), (char *)what, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	uint64_t object = 0;
	cr_assert_eq(sscanf(r.out, "object %" SCNx64, &object), 1, "%s", r.out);
	cr_assert(strstr(r.out, "\nchild exited 0\n"), "%s", r.out);
	char paths[4][4096];
	int n = h_reported_traces(r.err, paths, 4);
	cr_assert_eq(n, 2, "the parent's and the child's traces: %s", r.err);
	for (int i = 0; i < n; i++) {
		static struct weft_check_result res;
		enum weft_verdict v = h_check(paths[i], &res);
		cr_assert_eq(v, WEFT_CHECK_OK, "weft check rejects %s (%s): %s %s",
			     paths[i], what, res.error, res.note);
		uint64_t marks[2] = { object, 0 };
		cr_assert_eq(h_walk(paths[i], count_marks, marks, NULL, 0), WEFT_READ_OK);
		cr_assert_geq(marks[1], 1, "%s marks 0x%" PRIx64 " as shared",
			      paths[i], object);
		for (uint32_t f = 0; f < res.nfindings; f++)
			cr_assert_neq(res.findings[f].object, object, "%s: a finding "
				      "about the shared object: %s",
				      paths[i], weft_finding_name(res.findings[f].kind));
	}
	h_free(&r);
}

Test(pshared, barrier, .timeout = 60)
{
	record_and_check("barrier");
}

Test(pshared, unnamed_semaphore, .timeout = 60)
{
	record_and_check("sem");
}

Test(pshared, named_semaphore, .timeout = 60)
{
	record_and_check("named");
}

Test(pshared, mutex_and_condvar, .timeout = 60)
{
	record_and_check("mutex");
}

Test(pshared, spin_lock, .timeout = 60)
{
	record_and_check("spin");
}

Test(pshared, rwlock, .timeout = 60)
{
	record_and_check("rwlock");
}
