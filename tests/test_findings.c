/*
 * test_findings.c - the validator tells a program's misuse (a finding:
 * kind, threads, object, offsets) from a trace that cannot be a faithful
 * record, on traces built through the format library: unlocks by
 * non-holders, unlocks of free locks, a self-deadlock on a default mutex,
 * destroy and init of held objects, condition waits that fail without
 * releasing their mutex, and objects given a new identity by *_INIT at a
 * reused address.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "tracegen.h"

#define M1 0x1000u  /* a mutex */
#define L1 0x1800u  /* a spin lock */
#define C1 0x2000u  /* a condvar */

static void start_thread(struct tg *t, uint32_t serial, uint32_t parent, uint64_t ts)
{
	tg_batch(t, serial, 1, ts);
	TG(t, THREAD_START, ts, parent, 100 + serial, 0);
}

/* A second thread's batch, opening with a running STATUS. */
static void running_thread(struct tg *t, uint32_t serial, uint64_t ts)
{
	tg_batch(t, serial, 1, ts);
	TG(t, STATUS, ts, WEFT_STATE_RUNNING, 0, 0, 0);
}

/* Checks t, which must be consistent and complete, into *res. */
static void check_ok(struct tg *t, struct weft_check_result *res)
{
	enum weft_verdict v = tg_check(t, res);
	cr_assert_eq(v, WEFT_CHECK_OK, "verdict %d: %s %s", v, res->error, res->note);
	tg_free(t);
}

static void expect_one(const struct weft_check_result *res,
		       enum weft_finding_kind kind, uint32_t thread,
		       uint32_t other, uint64_t object)
{
	cr_assert_eq(res->findings_total, 1, "%" PRIu64 " findings, want 1",
		     res->findings_total);
	const struct weft_finding *f = &res->findings[0];
	char text[256];
	weft_finding_describe(text, sizeof text, f);
	cr_assert_eq(f->kind, kind, "kind %s, want %s (%s)", weft_finding_name(f->kind),
		     weft_finding_name(kind), text);
	cr_assert_eq(f->thread, thread, "%s", text);
	cr_assert_eq(f->other, other, "%s", text);
	cr_assert_eq(f->object, object, "%s", text);
	cr_assert(f->offset > 0);
}

/* T1 locks; T2 unlocks what T1 holds (a mutex used as a binary
 * semaphore); T1 locks it again. */
static void build_foreign_unlock(struct tg *t, int spin)
{
	uint64_t obj = spin ? L1 : M1;
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	if (spin)
		TG(t, SPIN_ACQUIRE, 1010, obj, 1, 0);
	else
		TG(t, MUTEX_ACQUIRE, 1010, obj, 1, 0);
	if (spin)
		TG(t, SPIN_ACQUIRE, 1040, obj, 3, 0);
	else
		TG(t, MUTEX_ACQUIRE, 1040, obj, 3, 0);
	running_thread(t, 2, 1000);
	if (spin)
		TG(t, SPIN_UNLOCK, 1020, obj, 2, 0);
	else
		TG(t, MUTEX_UNLOCK, 1020, obj, 2, 0);
	tg_gen_end(t, 1, 1);
}

Test(findings, unlock_of_a_mutex_another_thread_holds)
{
	struct tg t;
	struct weft_check_result res;
	build_foreign_unlock(&t, 0);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_UNLOCK_FOREIGN, 2, 1, M1);
	cr_assert_eq(res.findings[0].other_generation, 1);
	cr_assert(res.findings[0].other_offset > 0 &&
		  res.findings[0].other_offset < res.findings[0].offset);
	char text[256];
	weft_finding_describe(text, sizeof text, &res.findings[0]);
	cr_assert_str_eq(text, "T2 unlocks mutex 0x1000, which T1 holds");
}

Test(findings, unlock_of_a_spin_lock_another_thread_holds)
{
	struct tg t;
	struct weft_check_result res;
	build_foreign_unlock(&t, 1);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_UNLOCK_FOREIGN, 2, 1, L1);
	char text[256];
	weft_finding_describe(text, sizeof text, &res.findings[0]);
	cr_assert_str_eq(text, "T2 unlocks spin lock 0x1800, which T1 holds");
}

Test(findings, unlock_of_a_free_mutex)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	TG(&t, MUTEX_UNLOCK, 1020, M1, 2, 0);
	TG(&t, MUTEX_UNLOCK, 1030, M1, 3, 0);
	TG(&t, MUTEX_ACQUIRE, 1040, M1, 4, 0);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_UNLOCK_UNHELD, 1, 0, M1);
}

/* A failed unlock (EPERM from an error-checking mutex) is no finding. */
Test(findings, a_refused_unlock_is_no_finding)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	running_thread(&t, 2, 1000);
	TG(&t, MUTEX_UNLOCK, 1020, M1, 2, EPERM);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	cr_assert_eq(res.findings_total, 0);
}

/* T1 locks a default mutex twice and waits for ever; the process is
 * killed (no end-of-trace record): truncated, with the finding. */
Test(findings, relock_of_a_default_mutex_deadlocks)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	TG(&t, MUTEX_BLOCK, 1020, M1, 0);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_RELOCK, 1, 1, M1);
}

/* An error-checking mutex refuses the relock at once (EDEADLK). */
Test(findings, relock_refused_with_edeadlk_is_no_finding)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	TG(&t, MUTEX_BLOCK, 1020, M1, 0);
	TG(&t, MUTEX_FAIL, 1030, M1, WEFT_FLAG_CONTENDED, EDEADLK);
	TG(&t, MUTEX_UNLOCK, 1040, M1, 2, 0);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	cr_assert_eq(res.findings_total, 0);
}

/* T1 relocks and blocks; T2 unlocks it for T1 (binary semaphore): T1
 * gets it, so only the foreign unlock is a finding. */
Test(findings, relock_released_by_another_thread_is_no_deadlock)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	TG(&t, MUTEX_BLOCK, 1020, M1, 0);
	TG(&t, MUTEX_ACQUIRE, 1040, M1, 3, WEFT_FLAG_CONTENDED);
	running_thread(&t, 2, 1000);
	TG(&t, MUTEX_UNLOCK, 1030, M1, 2, 0);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_UNLOCK_FOREIGN, 2, 1, M1);
}

/* pthread_cond_timedwait with an invalid time fails (EINVAL) without
 * releasing the mutex: the thread still holds it and unlocks it. */
static void build_cond_einval(struct tg *t, int end_seq)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	TG(t, COND_WAIT_BEGIN, 1020, C1, M1, 2, 0);
	TG(t, COND_WAIT_END, 1030, C1, M1, end_seq ? 3 : 0, EINVAL);
	TG(t, MUTEX_UNLOCK, 1040, M1, end_seq ? 4 : 3, 0);
	running_thread(t, 2, 1000);
	TG(t, MUTEX_ACQUIRE, 1050, M1, end_seq ? 5 : 4, 0);
	TG(t, MUTEX_UNLOCK, 1060, M1, end_seq ? 6 : 5, 0);
	tg_gen_end(t, 1, 1);
}

Test(findings, cond_wait_einval_keeps_the_mutex)
{
	struct tg t;
	struct weft_check_result res;
	build_cond_einval(&t, 0);   /* as weft wrote it before: END unnumbered */
	check_ok(&t, &res);
	cr_assert_eq(res.findings_total, 0);
	build_cond_einval(&t, 1);   /* END numbered */
	check_ok(&t, &res);
	cr_assert_eq(res.findings_total, 0);
}

/* A wait on a default mutex another thread holds: glibc unlocks it
 * anyway. */
Test(findings, cond_wait_without_the_mutex)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	running_thread(&t, 2, 1000);
	TG(&t, COND_WAIT_BEGIN, 1020, C1, M1, 2, 0);
	TG(&t, COND_WAIT_END, 1030, C1, M1, 3, ETIMEDOUT);
	TG(&t, MUTEX_UNLOCK, 1040, M1, 4, 0);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_WAIT_UNHELD, 2, 1, M1);
}

/* A thread already in a condition wait when the generation began (its
 * STATUS says so) ends it after another thread used the mutex: how the
 * mutex was when the wait began is not in this generation, so the end is
 * no finding (pbzip2 and lbzip2 traces showed such false findings at
 * every rotation). */
Test(findings, cond_wait_begun_before_the_generation)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	tg_batch(&t, 1, 1, 1000);
	TG(&t, STATUS, 1000, WEFT_STATE_BLOCKED_COND, 0, C1, 900);
	TG(&t, COND_WAIT_END, 1030, C1, M1, 3, 0);
	TG(&t, MUTEX_UNLOCK, 1040, M1, 4, 0);
	running_thread(&t, 2, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	TG(&t, COND_SIGNAL, 1015, C1, 1);
	TG(&t, MUTEX_UNLOCK, 1020, M1, 2, 0);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	cr_assert_eq(res.findings_total, 0, "%" PRIu64 " findings", res.findings_total);
}

/* A robust mutex whose holder exited passes to the next thread with
 * EOWNERDEAD. */
Test(findings, owner_died_passes_a_robust_mutex_on)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, THREAD_CREATE, 1005, 2, 0, 0);
	TG(&t, JOIN_BEGIN, 1006, 2, 0);
	TG(&t, JOIN_END, 1040, 2, 0);
	TG(&t, MUTEX_ACQUIRE, 1050, M1, 2, WEFT_FLAG_OWNERDEAD);
	TG(&t, MUTEX_UNLOCK, 1060, M1, 3, 0);
	start_thread(&t, 2, 1, 1010);
	TG(&t, MUTEX_ACQUIRE, 1020, M1, 1, 0);
	TG0(&t, THREAD_EXIT, 1030);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	cr_assert_eq(res.findings_total, 0);
}

/* A function puts a mutex on its stack, inits, locks it, and its thread
 * exits with it locked; another thread's call gets the same address and
 * inits it again.  With MUTEX_INIT the second is a new mutex. */
static void build_reused_address(struct tg *t, int with_init)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, THREAD_CREATE, 1005, 2, 0, 0);
	TG(t, JOIN_BEGIN, 1006, 2, 0);
	TG(t, JOIN_END, 1040, 2, 0);
	TG(t, THREAD_CREATE, 1045, 3, 0, 0);
	start_thread(t, 2, 1, 1010);
	if (with_init)
		TG(t, MUTEX_INIT, 1015, M1, 1, 0, 0);
	TG(t, MUTEX_ACQUIRE, 1020, M1, with_init ? 2 : 1, 0);
	TG0(t, THREAD_EXIT, 1030);
	start_thread(t, 3, 1, 1050);
	if (with_init)
		TG(t, MUTEX_INIT, 1055, M1, 3, 0, 0);
	TG(t, MUTEX_ACQUIRE, 1060, M1, with_init ? 4 : 2, 0);
	TG(t, MUTEX_UNLOCK, 1070, M1, with_init ? 5 : 3, 0);
	TG(t, MUTEX_DESTROY, 1080, M1, with_init ? 6 : 4, 0, 0);
	tg_gen_end(t, 1, 1);
}

Test(findings, init_at_a_reused_address_is_a_new_object)
{
	struct tg t;
	struct weft_check_result res;
	build_reused_address(&t, 1);
	check_ok(&t, &res);
	cr_assert_eq(res.findings_total, 0, "%s", weft_finding_name(res.findings[0].kind));
	build_reused_address(&t, 0);
	cr_assert_eq(tg_check(&t, &res), WEFT_CHECK_INCONSISTENT);
	cr_assert(strstr(res.error, "no consistent ordering"), "%s", res.error);
	tg_free(&t);
}

/* Init or destroy of a mutex another live thread holds. */
static void build_held_lifetime(struct tg *t, int destroy, uint64_t result)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	running_thread(t, 2, 1000);
	if (destroy)
		TG(t, MUTEX_DESTROY, 1020, M1, 2, 0, result);
	else
		TG(t, MUTEX_INIT, 1020, M1, 2, 0, result);
	tg_gen_end(t, 1, 1);
}

Test(findings, destroy_or_init_of_a_held_mutex)
{
	struct tg t;
	struct weft_check_result res;
	build_held_lifetime(&t, 1, EBUSY);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_DESTROY_HELD, 2, 1, M1);
	build_held_lifetime(&t, 0, 0);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_INIT_HELD, 2, 1, M1);
}

/* T2 is blocked on the semaphore when T1 destroys it. */
Test(findings, destroy_of_a_semaphore_waited_on)
{
	struct tg t;
	struct weft_check_result res;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, SEM_DESTROY, 1030, C1, 1, 0, 0);
	running_thread(&t, 2, 1000);
	TG(&t, SEM_WAIT_BEGIN, 1020, C1, 0);
	tg_gen_end(&t, 1, 1);
	check_ok(&t, &res);
	expect_one(&res, WEFT_FINDING_DESTROY_WAITED, 1, 2, C1);
}
