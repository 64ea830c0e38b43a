/*
 * test_readers.c - the reading commands on traces of many generations:
 * check, stats, lockorder and export take memory for a generation or two,
 * not for the file; and what they print, and how they exit, is the same
 * whatever --jobs says, on good traces and on traces with problems in
 * several generations (the first in file order is the one reported).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "tracegen.h"

#define M1 0x1000u  /* a mutex */

/* How a generation of build() goes wrong. */
enum flaw {
	NONE,
	SEQ_TWICE,      /* a sequence number given twice: inconsistent */
	UNKNOWN_CODE,   /* a byte that is no event code: damaged */
	UNHELD_UNLOCK,  /* an unlock of a free mutex: a finding */
};

/* ngens generations of thread T1 taking and giving back M1 pairs times
 * each, opened by THREAD_START and then by STATUS; generation g has
 * flaws[g] (flaws may be NULL). */
static void build(struct tg *t, uint32_t ngens, uint32_t pairs,
		  const enum flaw *flaws)
{
	uint64_t ts = 1000;
	tg_init(t);
	for (uint32_t g = 1; g <= ngens; g++) {
		tg_clock(t, g);
		tg_batch(t, 1, g, ts);
		if (g == 1)
			TG(t, THREAD_START, ts, 0, 101, 7001);
		else
			TG(t, STATUS, ts, WEFT_STATE_RUNNING, 0, 0, 1000);
		uint64_t seq = 1;
		for (uint32_t i = 0; i < pairs; i++) {
			if (i && i % 4000 == 0)
				tg_batch(t, 1, g, ts);
			TG(t, MUTEX_ACQUIRE, ts += 3, M1, seq++, 0);
			TG(t, MUTEX_UNLOCK, ts += 5, M1, seq++, 0);
		}
		switch (flaws ? flaws[g] : NONE) {
		case NONE:
			break;
		case SEQ_TWICE:
			TG(t, MUTEX_ACQUIRE, ts += 3, M1, seq - 1, 0);
			break;
		case UNKNOWN_CODE:
			tg_bytes(t, "\xff", 1);
			break;
		case UNHELD_UNLOCK:
			TG(t, MUTEX_UNLOCK, ts += 3, M1, seq++, 0);
			break;
		}
		tg_gen_end(t, g, g == ngens);
	}
	tg_close(t);
}

static const char *save(struct tg *t, const char *name)
{
	const char *path = h_trace_path(name);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	cr_assert_eq(fwrite(t->data, 1, t->len, f), t->len);
	cr_assert_eq(fclose(f), 0);
	return path;
}

/* Runs argv with its output thrown away; returns its peak RSS in KiB and
 * its exit status in *status.  The count is made by time(1): a process
 * forked from this one would carry this one's peak over its exec. */
static long peak_rss_kib(char *const argv[], int *status)
{
	char report[4096];
	snprintf(report, sizeof report, "%s/rss", h_tmpdir());
	char *timed[16] = { "/usr/bin/time", "-f", "%x %M", "-o", report };
	int n = 5;
	for (int i = 0; argv[i] && n < 15; i++)
		timed[n++] = argv[i];
	timed[n] = NULL;
	struct run_result r;
	h_run(timed, NULL, &r);
	h_free(&r);
	FILE *f = fopen(report, "r");
	cr_assert_not_null(f, "time(1) wrote no report (is it installed?)");
	long kib = -1;
	cr_assert_eq(fscanf(f, "%d %ld", status, &kib), 2, "time(1)'s report");
	fclose(f);
	return kib;
}

/* A 48 MB trace of 160 generations of 300 KB: each reading command stays
 * under 20 MB (the whole file mapped and touched was 48 MB and more). */
Test(readers, memory_bounded_by_a_generation, .timeout = 300)
{
	struct tg t;
	build(&t, 160, 60000, NULL);
	const char *path = save(&t, "many-generations");
	size_t size = t.len;
	tg_free(&t);
	cr_assert_gt(size, 40u << 20, "the trace is only %zu bytes", size);
	const long bound_kib = 20 << 10;
	char *const commands[][7] = {
		{ (char *)h_weft(), "check", "--jobs", "2", (char *)path, NULL },
		{ (char *)h_weft(), "stats", "--jobs", "2", (char *)path, NULL },
		{ (char *)h_weft(), "lockorder", "--jobs", "2", (char *)path, NULL },
		{ (char *)h_weft(), "export", "--jobs", "2", (char *)path, NULL },
		{ (char *)h_weft(), "export", "--format=perfetto", "--jobs", "2",
		  (char *)path, NULL },
	};
	for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		int status;
		long kib = peak_rss_kib(commands[i], &status);
		cr_assert_eq(status, 0, "weft %s exits %d", commands[i][1], status);
		cr_assert_lt(kib, bound_kib, "weft %s on a %zu-byte trace of 160 "
			     "generations: peak RSS %ld KiB, over %ld", commands[i][1],
			     size, kib, bound_kib);
	}
	unlink(path);
}

/* The reading commands, each run with --jobs 1 and with other counts. */
static const char *const readers[][3] = {
	{ "check" }, { "check", "--json" }, { "stats" }, { "stats", "--json" },
	{ "lockorder" }, { "lockorder", "--json" }, { "export" },
	{ "export", "--format=perfetto" },
};

/* Every reading command says the same on path, and exits the same, for
 * --jobs 1, 2 and 4; returns the output of `weft check --jobs 1` (to free). */
static char *same_for_any_jobs(const char *path)
{
	char *check_out = NULL;
	for (size_t i = 0; i < sizeof readers / sizeof readers[0]; i++) {
		struct run_result one;
		for (int jobs = 1; jobs <= 4; jobs *= 2) {
			char n[8];
			snprintf(n, sizeof n, "%d", jobs);
			char *argv[8] = { (char *)h_weft(), (char *)readers[i][0] };
			int k = 2;
			if (readers[i][1])
				argv[k++] = (char *)readers[i][1];
			argv[k++] = "--jobs";
			argv[k++] = n;
			argv[k++] = (char *)path;
			argv[k] = NULL;
			struct run_result r;
			h_run(argv, NULL, &r);
			cr_assert_lt(r.status, 128, "weft %s --jobs %d: killed by signal "
				     "%d", readers[i][0], jobs, r.status - 128);
			if (jobs == 1) {
				one = r;
				continue;
			}
			cr_assert_eq(r.status, one.status, "weft %s %s: exit %d with --jobs "
				     "%d, %d with --jobs 1", readers[i][0],
				     readers[i][1] ? readers[i][1] : "", r.status, jobs,
				     one.status);
			cr_assert(r.out_len == one.out_len &&
				  memcmp(r.out, one.out, r.out_len) == 0,
				  "weft %s %s: stdout with --jobs %d differs from --jobs 1:"
				  "\n%.2000s\n--- with --jobs 1:\n%.2000s", readers[i][0],
				  readers[i][1] ? readers[i][1] : "", jobs, r.out, one.out);
			cr_assert(r.err_len == one.err_len &&
				  memcmp(r.err, one.err, r.err_len) == 0,
				  "weft %s %s: stderr with --jobs %d differs from --jobs 1:"
				  "\n%s\n--- with --jobs 1:\n%s", readers[i][0],
				  readers[i][1] ? readers[i][1] : "", jobs, r.err, one.err);
			h_free(&r);
		}
		if (i == 1) {
			check_out = one.out;
			one.out = NULL;
		}
		h_free(&one);
	}
	return check_out;
}

static void expect_same(struct tg *t, const char *name, const char *verdict,
			const char *message)
{
	const char *path = save(t, name);
	tg_free(t);
	char *json = same_for_any_jobs(path);
	cr_assert(strstr(json, verdict), "%s: %s lacks %s", name, json, verdict);
	cr_assert(strstr(json, message), "%s: %s lacks %s", name, json, message);
	free(json);
	unlink(path);
}

Test(readers, same_output_for_any_jobs_good, .timeout = 300)
{
	struct tg t;
	build(&t, 24, 300, NULL);
	expect_same(&t, "good", "\"verdict\":\"ok\"", "\"generations\":24");
}

/* An inconsistent generation, and a damaged one after it: the first is
 * reported, however far ahead the other generations were decoded. */
Test(readers, same_output_for_any_jobs_first_problem_wins, .timeout = 300)
{
	struct tg t;
	enum flaw flaws[25] = { [21] = SEQ_TWICE, [23] = UNKNOWN_CODE };
	build(&t, 24, 300, flaws);
	expect_same(&t, "seq-then-code", "\"verdict\":\"inconsistent\"",
		    "generation 21, thread 1: MUTEX_ACQUIRE");
	enum flaw other[25] = { [21] = UNKNOWN_CODE, [22] = SEQ_TWICE };
	build(&t, 24, 300, other);
	expect_same(&t, "code-then-seq", "\"verdict\":\"inconsistent\"",
		    "unknown event code 0xff");
}

/* An inconsistent generation, then a batch of a generation that cannot
 * come next, which the reader meets before the inconsistent generation
 * is checked when generations are decoded ahead. */
Test(readers, same_output_for_any_jobs_check_before_read_error, .timeout = 300)
{
	struct tg t;
	enum flaw flaws[13] = { [11] = SEQ_TWICE };
	build(&t, 12, 300, flaws);
	tg_batch(&t, 1, 40, 1000);
	TG(&t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 1000);
	tg_close(&t);
	expect_same(&t, "seq-then-order", "\"verdict\":\"inconsistent\"",
		    "generation 11, thread 1: MUTEX_ACQUIRE");
	build(&t, 12, 300, NULL);
	tg_batch(&t, 1, 40, 1000);
	TG(&t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 1000);
	tg_close(&t);
	expect_same(&t, "order", "\"verdict\":\"inconsistent\"",
		    "generation 40 follows generation 12");
}

/* Findings in many generations keep their order, and the first 64 of
 * them are the ones listed. */
Test(readers, same_output_for_any_jobs_findings, .timeout = 300)
{
	struct tg t;
	enum flaw flaws[81];
	for (int g = 0; g <= 80; g++)
		flaws[g] = g % 3 ? UNHELD_UNLOCK : NONE;
	build(&t, 80, 50, flaws);
	expect_same(&t, "findings", "\"verdict\":\"ok\"", "\"findings_total\":54");
}

/* A trace cut inside a generation: truncated, with the generations before
 * it checked. */
Test(readers, same_output_for_any_jobs_truncated, .timeout = 300)
{
	struct tg t;
	build(&t, 20, 300, NULL);
	t.len -= t.len / 7;
	expect_same(&t, "cut", "\"verdict\":\"truncated\"", "\"generations\":18,");
}
