/*
 * test_contention.c - contention mode (WEFT_MODE=contention) traced for
 * real: lock_counts.c's uncontended locking appears only as LOCK_COUNTS
 * with exactly the numbers it did, its one forced contention as BLOCK and
 * a contended ACQUIRE, no release of a lock is recorded, every generation
 * says its mode, the counts of a rotated run land in the generations they
 * were made in, two locks used in turn whose counts take the same slot of
 * the thread's table are each written once, and the traces check.  Also: full mode is unchanged, a bad
 * WEFT_MODE is one line and full mode, stats adds the counts, and a
 * misuse program runs and checks unchanged.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_args.h"
#include "harness.h"

/* The addresses lock_counts prints. */
struct locks {
	uint64_t a, b, c, rw, spin;
};

/* Runs lock_counts (with arg, may be NULL) under preload with WEFT_MODE
 * mode (NULL: unset); returns the trace's path and the program's locks. */
static char *run_lock_counts(const char *preload, const char *mode, const char *arg,
			     struct locks *l, struct run_result *run)
{
	char *trace = h_trace_path(mode ? mode : "unset");
	static __thread char preload_env[4200], output_env[4200], mode_env[256];
	snprintf(preload_env, sizeof preload_env, "LD_PRELOAD=%s", preload);
	snprintf(output_env, sizeof output_env, "WEFT_OUTPUT=%s", trace);
	snprintf(mode_env, sizeof mode_env, "WEFT_MODE=%s", mode ? mode : "");
	char *env[] = { preload_env, output_env, mode ? mode_env : NULL, NULL };
	char *argv[] = { (char *)h_program("lock_counts"), (char *)arg, NULL };
	h_run(argv, env, run);
	cr_assert_eq(run->status, 0, "lock_counts: status %d: %s", run->status, run->err);
	cr_assert_eq(sscanf(run->out, "A %" SCNx64 " B %" SCNx64 " C %" SCNx64
			    " R %" SCNx64 " S %" SCNx64, &l->a, &l->b, &l->c, &l->rw,
			    &l->spin), 5, "%s", run->out);
	return trace;
}

/* What a walk over lock_counts' trace found. */
struct seen {
	struct locks l;
	uint64_t a_by_gen[16];       /* T1's counted acquisitions of A */
	uint64_t a_count, c_count, read_count, write_count, spin_count;
	uint64_t b_count_t2, other_counts;
	uint64_t modes[16];          /* MODE records by generation */
	uint64_t b_blocks_t1, b_contended_t1, plain_acquires, releases;
	uint64_t lock_seqs;          /* lock acquisitions with a number */
	uint32_t last_gen;
};

static void on_record(const struct weft_batch *b, const struct weft_record *rec,
		      void *ctx)
{
	struct seen *s = ctx;
	const uint64_t *a = rec->args;
	uint32_t g = b->header.generation, t = b->header.serial;
	if (g > s->last_gen)
		s->last_gen = g;
	switch (rec->code) {
	case WEFT_EV_MODE:
		cr_assert_eq(a[WEFT_ARG_MODE_MODE], WEFT_MODE_CONTENTION);
		s->modes[g & 15]++;
		break;
	case WEFT_EV_LOCK_COUNTS: {
		uint64_t lock = a[WEFT_ARG_LOCK_COUNTS_LOCK];
		uint64_t kind = a[WEFT_ARG_LOCK_COUNTS_KIND];
		uint64_t n = a[WEFT_ARG_LOCK_COUNTS_ACQUISITIONS];
		if (t == 1 && lock == s->l.a && kind == WEFT_COUNT_MUTEX) {
			s->a_count += n;
			s->a_by_gen[g & 15] += n;
		} else if (t == 1 && lock == s->l.c && kind == WEFT_COUNT_MUTEX)
			s->c_count += n;
		else if (t == 1 && lock == s->l.rw && kind == WEFT_COUNT_RW_READ)
			s->read_count += n;
		else if (t == 1 && lock == s->l.rw && kind == WEFT_COUNT_RW_WRITE)
			s->write_count += n;
		else if (t == 1 && lock == s->l.spin && kind == WEFT_COUNT_SPIN)
			s->spin_count += n;
		else if (t == 2 && lock == s->l.b && kind == WEFT_COUNT_MUTEX)
			s->b_count_t2 += n;
		else
			s->other_counts += n;
		break;
	}
	case WEFT_EV_MUTEX_BLOCK:
		if (t == 1 && a[WEFT_ARG_MUTEX_BLOCK_MUTEX] == s->l.b)
			s->b_blocks_t1++;
		break;
	case WEFT_EV_MUTEX_ACQUIRE:
		if (a[WEFT_ARG_MUTEX_ACQUIRE_SEQ])
			s->lock_seqs++;
		if (t == 1 && a[WEFT_ARG_MUTEX_ACQUIRE_MUTEX] == s->l.b &&
		    (a[WEFT_ARG_MUTEX_ACQUIRE_FLAGS] & WEFT_FLAG_CONTENDED))
			s->b_contended_t1++;
		else
			s->plain_acquires++;
		break;
	case WEFT_EV_RWLOCK_ACQUIRE:
	case WEFT_EV_SPIN_ACQUIRE:
		s->plain_acquires++;
		break;
	case WEFT_EV_MUTEX_UNLOCK:
	case WEFT_EV_RWLOCK_UNLOCK:
	case WEFT_EV_SPIN_UNLOCK:
		s->releases++;
		break;
	default:
		break;
	}
}

static void walk(const char *trace, struct seen *s)
{
	char err[512];
	int rc = h_walk(trace, on_record, s, err, sizeof err);
	cr_assert_eq(rc, WEFT_READ_OK, "%s", err);
}

/* The trace checks, every generation recorded in contention mode. */
static void assert_checks_light(const char *trace)
{
	struct weft_check_result res;
	enum weft_verdict v = h_check(trace, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "verdict %d: %s %s", v, res.error, res.note);
	cr_assert_eq(res.findings_total, 0);
	cr_assert_eq(res.contention_generations, res.generations, "%u of %u",
		     res.contention_generations, res.generations);
}

Test(contention, uncontended_locks_are_counts_and_contention_is_recorded, .timeout = 60)
{
	struct run_result run;
	struct seen s = { 0 };
	char *trace = run_lock_counts(h_preload(), "contention", NULL, &s.l, &run);
	h_free(&run);
	walk(trace, &s);
	cr_assert_eq(s.a_count, 1000);
	cr_assert_eq(s.c_count, 10);
	cr_assert_eq(s.read_count, 100);
	cr_assert_eq(s.write_count, 50);
	cr_assert_eq(s.spin_count, 200);
	cr_assert_eq(s.b_count_t2, 1);
	cr_assert_eq(s.other_counts, 0);
	cr_assert_eq(s.b_blocks_t1, 1);
	cr_assert_eq(s.b_contended_t1, 1);
	cr_assert_eq(s.plain_acquires, 0, "acquisitions that did not block were recorded");
	cr_assert_eq(s.releases, 0, "releases of locks were recorded");
	cr_assert_eq(s.lock_seqs, 0, "a lock acquisition was numbered");
	for (uint32_t g = 1; g <= s.last_gen; g++)
		cr_assert_eq(s.modes[g & 15], 1, "generation %u: %" PRIu64 " MODE records",
			     g, s.modes[g & 15]);
	assert_checks_light(trace);
}

Test(contention, counts_belong_to_their_generation, .timeout = 120)
{
	struct run_result run;
	struct seen s = { 0 };
	char *trace = run_lock_counts(getenv("WEFT_TEST_HOOKED_PRELOAD"), "contention",
				      "rotate", &s.l, &run);
	h_free(&run);
	walk(trace, &s);
	cr_assert_geq(s.last_gen, 11);
	cr_assert_eq(s.a_count, 1000);
	for (uint32_t g = 1; g <= 10; g++)
		cr_assert_eq(s.a_by_gen[g], 100, "generation %u: %" PRIu64 " of A", g,
			     s.a_by_gen[g]);
	cr_assert_eq(s.b_contended_t1, 1);
	cr_assert_eq(s.releases, 0);
	for (uint32_t g = 1; g <= s.last_gen; g++)
		cr_assert_eq(s.modes[g & 15], 1, "generation %u: no MODE", g);
	assert_checks_light(trace);
}

/* The LOCK_COUNTS records of two mutexes, X and Y. */
struct pair_seen {
	uint64_t x, y;
	uint64_t x_records, y_records, x_count, y_count;
};

static void on_pair_record(const struct weft_batch *b, const struct weft_record *rec,
			   void *ctx)
{
	struct pair_seen *s = ctx;
	(void)b;
	if (rec->code != WEFT_EV_LOCK_COUNTS)
		return;
	uint64_t lock = rec->args[WEFT_ARG_LOCK_COUNTS_LOCK];
	uint64_t n = rec->args[WEFT_ARG_LOCK_COUNTS_ACQUISITIONS];
	if (lock == s->x) {
		s->x_records++;
		s->x_count += n;
	} else if (lock == s->y) {
		s->y_records++;
		s->y_count += n;
	}
}

Test(contention, two_locks_in_one_slot_do_not_evict_each_other, .timeout = 60)
{
	char *trace = h_trace_path("pair");
	char preload_env[4200], output_env[4200];
	snprintf(preload_env, sizeof preload_env, "LD_PRELOAD=%s",
		 getenv("WEFT_TEST_HOOKED_PRELOAD"));
	snprintf(output_env, sizeof output_env, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload_env, output_env, "WEFT_MODE=contention", NULL };
	char *argv[] = { (char *)h_program("lock_counts"), "pair", NULL };
	struct run_result run;
	h_run(argv, env, &run);
	cr_assert_eq(run.status, 0, "%s", run.err);
	struct pair_seen s = { 0 };
	cr_assert_eq(sscanf(run.out, "X %" SCNx64 " Y %" SCNx64, &s.x, &s.y), 2, "%s",
		     run.out);
	h_free(&run);
	char err[512];
	cr_assert_eq(h_walk(trace, on_pair_record, &s, err, sizeof err), WEFT_READ_OK,
		     "%s", err);
	cr_assert_eq(s.x_count, 1000);
	cr_assert_eq(s.y_count, 1000);
	cr_assert_eq(s.x_records, 1, "X written out %" PRIu64 " times", s.x_records);
	cr_assert_eq(s.y_records, 1, "Y written out %" PRIu64 " times", s.y_records);
	assert_checks_light(trace);
}

/* Counts of records of full mode: every acquisition, no counts. */
static void expect_full(const char *mode)
{
	struct run_result run;
	struct locks l;
	char *trace = run_lock_counts(h_preload(), mode, NULL, &l, &run);
	if (mode && strcmp(mode, "full") != 0)
		cr_assert(strstr(run.err, "weft: WEFT_MODE=\"") &&
			  strstr(run.err, "is not full or contention; using full\n"),
			  "%s", run.err);
	else
		cr_assert_eq(run.err_len, 0, "%s", run.err);
	h_free(&run);
	struct h_counts c;
	h_count(trace, &c);
	cr_assert_eq(c.status, WEFT_READ_OK, "%s", c.error);
	cr_assert_eq(c.per_code[WEFT_EV_MODE], 0);
	cr_assert_eq(c.per_code[WEFT_EV_LOCK_COUNTS], 0);
	cr_assert_geq(c.per_code[WEFT_EV_MUTEX_ACQUIRE], 1000 + 10 + 2);
	cr_assert_geq(c.per_code[WEFT_EV_MUTEX_UNLOCK], 1000 + 10 + 2);
	h_assert_checks(trace);
}

Test(contention, full_is_the_default, .timeout = 60)
{
	expect_full(NULL);
	expect_full("full");
}

Test(contention, bad_mode_is_one_line_and_full, .timeout = 60)
{
	expect_full("sometimes");
}

Test(contention, stats_adds_counts_to_acquisitions, .timeout = 60)
{
	struct run_result run;
	struct locks l;
	char *trace = run_lock_counts(h_preload(), "contention", NULL, &l, &run);
	h_free(&run);
	char *argv[] = { (char *)h_weft(), "stats", "--json", trace, NULL };
	h_run(argv, NULL, &run);
	cr_assert_eq(run.status, 0, "%s", run.err);
	char a[128], b[128];
	snprintf(a, sizeof a, "\"address\":\"0x%" PRIx64 "\",\"kind\":\"mutex\",\"lock\":"
		 "true,\"acquisitions\":1000,\"contended\":0,", l.a);
	snprintf(b, sizeof b, "\"address\":\"0x%" PRIx64 "\",\"kind\":\"mutex\",\"lock\":"
		 "true,\"acquisitions\":2,\"contended\":1,", l.b);
	cr_assert(strstr(run.out, a), "no %s in %s", a, run.out);
	cr_assert(strstr(run.out, b), "no %s in %s", b, run.out);
	cr_assert(strstr(run.out, "\"holds_known\":false"), "%s", run.out);
	h_free(&run);
}

/* A program that unlocks a mutex another thread holds runs as it does
 * untraced, and its trace checks: in contention mode no holder is known,
 * so there is no finding. */
Test(contention, misuse_runs_unchanged, .timeout = 60)
{
	char *trace = h_trace_path("misuse");
	char preload_env[4200], output_env[4200];
	snprintf(preload_env, sizeof preload_env, "LD_PRELOAD=%s", h_preload());
	snprintf(output_env, sizeof output_env, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload_env, output_env, "WEFT_MODE=contention", NULL };
	char *argv[] = { (char *)h_program("misuse_unlock_foreign"), "mutex", NULL };
	struct run_result traced, plain;
	h_run(argv, env, &traced);
	h_run(argv, NULL, &plain);
	cr_assert_eq(traced.status, plain.status, "%d vs %d: %s", traced.status,
		     plain.status, traced.err);
	cr_assert_eq(traced.status, 0);
	h_free(&traced);
	h_free(&plain);
	assert_checks_light(trace);
}
