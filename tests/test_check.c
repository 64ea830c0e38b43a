/*
 * test_check.c - the validator against a corpus of traces built through the
 * format library: one broken trace per failure class, each rejected with
 * its own message, and a valid twin of each that must be accepted.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "tracegen.h"

#define M1 0x1000u  /* a mutex */
#define C1 0x2000u  /* a condvar */
#define READ WEFT_SYS_read
#define S1_CUT 0x3800u  /* a semaphore */
#define SEM1 0x4800u    /* another semaphore */

/* Thread serial's batch opening with THREAD_START (parent 0 for T1). */
static void start_thread(struct tg *t, uint32_t serial, uint32_t parent, uint64_t ts)
{
	tg_batch(t, serial, 1, ts);
	TG(t, THREAD_START, ts, parent, 100 + serial, 0);
}

static void expect_ok(struct tg *t)
{
	struct weft_check_result res;
	enum weft_verdict v = tg_check(t, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "valid twin rejected: %s %s", res.error, res.note);
	tg_free(t);
}

static void expect_bad(struct tg *t, enum weft_verdict want, const char *message)
{
	struct weft_check_result res;
	enum weft_verdict v = tg_check(t, &res);
	cr_assert_eq(v, want, "verdict %d, want %d: %s %s", v, want, res.error, res.note);
	const char *text = v == WEFT_CHECK_TRUNCATED ? res.note : res.error;
	cr_assert(strstr(text, message), "message \"%s\" lacks \"%s\"", text, message);
	tg_free(t);
}

/* ---- structure ---- */

static void build_missing_header(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	tg_close(t);
	if (broken)
		TG(t, MUTEX_UNLOCK, 1020, M1, 2, 0); /* outside any batch */
	else {
		tg_batch(t, 1, 1, 1015);
		TG(t, MUTEX_UNLOCK, 1020, M1, 2, 0);
	}
	tg_gen_end(t, 1, 1);
}

Test(check, missing_batch_header)
{
	struct tg t;
	build_missing_header(&t, 0);
	expect_ok(&t);
	build_missing_header(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "missing batch header");
}

static void build_strings(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	tg_batch(t, 0, 1, 1000);
	TG(t, STRING, 0, 1, 0);
	TG(t, STRING, 0, broken ? 1 : 2, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, string_id_defined_twice)
{
	struct tg t;
	build_strings(&t, 0);
	expect_ok(&t);
	build_strings(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "string id 1 defined twice");
}

static void build_stack_use(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, SYSCALL_BEGIN, 1010, READ, 0, 5);
	TG(t, SYSCALL_END, 1020, READ, 0, 0);
	tg_batch(t, 0, 1, 1000);
	if (!broken)
		TG(t, STACK, 0, 5, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, stack_id_used_but_never_defined)
{
	struct tg t;
	build_stack_use(&t, 0);
	expect_ok(&t);
	build_stack_use(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "stack id 5 is used but never defined");
}

/* T1 takes M1 (after a wait, when contended) and says where: the site
 * record right after the acquisition, naming stack 5, defined; or a site
 * record damaged as damage says. */
enum site_damage { SITE_OK, SITE_UNDEFINED, SITE_AFTER_UNLOCK, SITE_NO_STACK };

static void build_site(struct tg *t, enum site_damage damage, int contended)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	if (contended)
		TG(t, MUTEX_BLOCK, 1005, M1, 0);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, contended ? WEFT_FLAG_CONTENDED : 0);
	if (damage != SITE_AFTER_UNLOCK)
		TG(t, ACQUIRE_SITE, 1010, damage == SITE_NO_STACK ? 0 : 5);
	TG(t, MUTEX_UNLOCK, 1020, M1, 2, 0);
	if (damage == SITE_AFTER_UNLOCK)
		TG(t, ACQUIRE_SITE, 1020, 5);
	tg_batch(t, 0, 1, 1000);
	if (damage != SITE_UNDEFINED)
		TG(t, STACK, 0, 5, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, acquire_site_names_an_undefined_stack)
{
	struct tg t;
	build_site(&t, SITE_OK, 0);
	expect_ok(&t);
	build_site(&t, SITE_OK, 1);
	expect_ok(&t);
	build_site(&t, SITE_UNDEFINED, 0);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "stack id 5 is used but never defined");
}

Test(check, acquire_site_not_after_an_acquisition)
{
	struct tg t;
	build_site(&t, SITE_AFTER_UNLOCK, 0);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT,
		   "ACQUIRE_SITE: does not follow an acquisition of its thread");
	build_site(&t, SITE_NO_STACK, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "ACQUIRE_SITE: names no stack");
}

static void build_unknown_code(struct tg *t, int broken)
{
	build_missing_header(t, 0);
	if (broken) {
		/* The first record of the first thread batch. */
		size_t off = t->len;
		struct weft_reader r;
		cr_assert_eq(weft_reader_open_memory(&r, t->data, t->len), WEFT_READ_OK);
		struct weft_batch b;
		while (weft_reader_next_batch(&r, &b) == WEFT_READ_OK)
			if (b.header.serial == 1) {
				off = b.offset + WEFT_BATCH_HEADER_SIZE;
				break;
			}
		t->data[off] = 0x7f;
	}
}

Test(check, unknown_event_code)
{
	struct tg t;
	build_unknown_code(&t, 0);
	expect_ok(&t);
	build_unknown_code(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "unknown event code 0x7f");
}

static void build_backwards(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1500, M1, 1, 0);
	tg_batch(t, 1, 1, broken ? 1300 : 1600);
	TG(t, MUTEX_UNLOCK, broken ? 1300 : 1600, M1, 2, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, timestamps_backwards_between_batches)
{
	struct tg t;
	build_backwards(&t, 0);
	expect_ok(&t);
	build_backwards(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "timestamps go backwards between batches");
}

Test(check, truncated_mid_batch)
{
	struct tg t;
	build_missing_header(&t, 0);
	expect_ok(&t);
	build_missing_header(&t, 0);
	tg_close(&t);
	/* Cut the file inside the second thread batch. */
	struct weft_reader r;
	cr_assert_eq(weft_reader_open_memory(&r, t.data, t.len), WEFT_READ_OK);
	struct weft_batch b;
	size_t cut = 0;
	int seen = 0;
	while (weft_reader_next_batch(&r, &b) == WEFT_READ_OK)
		if (b.header.serial == 1 && ++seen == 2)
			cut = b.offset + WEFT_BATCH_HEADER_SIZE + 1;
	cr_assert_gt(cut, 0);
	t.len = cut;
	expect_bad(&t, WEFT_CHECK_TRUNCATED, "but the file ends after 1 (truncated trace)");
}

Test(check, batch_length_past_end_of_file)
{
	struct tg t;
	build_missing_header(&t, 0);
	tg_close(&t);
	/* Corrupt the first thread batch's length to something absurd. */
	struct weft_reader r;
	cr_assert_eq(weft_reader_open_memory(&r, t.data, t.len), WEFT_READ_OK);
	struct weft_batch b;
	while (weft_reader_next_batch(&r, &b) == WEFT_READ_OK && b.header.serial != 1)
		;
	weft_put_le32(t.data + b.offset + 12, 0x7ffffff0);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "exceeds the format's limit");
}

static void build_generations(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	tg_gen_end(t, 1, 0);
	uint32_t g = broken ? 3 : 2;
	tg_clock(t, g);
	tg_batch(t, 1, g, 2000);
	TG(t, STATUS, 2000, WEFT_STATE_RUNNING, 0, 0, 1000);
	TG(t, MUTEX_UNLOCK, 2010, M1, 1, 0);
	tg_gen_end(t, g, 1);
}

Test(check, generations_out_of_order)
{
	struct tg t;
	build_generations(&t, 0);
	expect_ok(&t);
	build_generations(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "generation 3 follows generation 1");
}

Test(check, gen_end_counts_missing_batches)
{
	struct tg t;
	build_missing_header(&t, 0);
	expect_ok(&t);
	build_missing_header(&t, 0);
	t.thread_batches[1] = 0; /* overwritten below: rebuild the end */
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	TG(&t, MUTEX_UNLOCK, 1020, M1, 2, 0);
	t.thread_batches[1] = 2; /* claims one more than was written */
	tg_gen_end(&t, 1, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "GEN_END counts 2 thread batches but 1 were read");
}

/* ---- threads ---- */

static void build_status_first(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	tg_batch(t, 1, 1, 1000);
	if (!broken)
		TG(t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 900);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, event_before_status)
{
	struct tg t;
	build_status_first(&t, 0);
	expect_ok(&t);
	build_status_first(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "is not STATUS or THREAD_START");
}

static void build_after_exit(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, THREAD_CREATE, 1010, 2, 0, 0);
	start_thread(t, 2, 1, 1020);
	TG(t, MUTEX_ACQUIRE, 1030, M1, 1, 0);
	TG(t, MUTEX_UNLOCK, 1040, M1, 2, 0);
	if (!broken)
		TG0(t, THREAD_EXIT, 1050);
	TG(t, MUTEX_ACQUIRE, 1060, M1, 3, 0);
	TG(t, MUTEX_UNLOCK, 1070, M1, 4, 0);
	if (broken)
		TG0(t, THREAD_EXIT, 1050);
	if (broken)
		TG(t, MUTEX_ACQUIRE, 1080, M1, 5, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, event_after_exit)
{
	struct tg t;
	build_after_exit(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "event after the thread's THREAD_EXIT");
	/* The twin: the thread's last record is its exit. */
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, THREAD_CREATE, 1010, 2, 0, 0);
	start_thread(&t, 2, 1, 1020);
	TG(&t, MUTEX_ACQUIRE, 1030, M1, 1, 0);
	TG(&t, MUTEX_UNLOCK, 1040, M1, 2, 0);
	TG0(&t, THREAD_EXIT, 1050);
	tg_gen_end(&t, 1, 1);
	expect_ok(&t);
}

static void build_join(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, THREAD_CREATE, 1010, 2, 0, 0);
	TG(t, JOIN_BEGIN, 1020, 2, 0);
	/* Stamped before T2's exit: clocks may disagree; causality decides. */
	TG(t, JOIN_END, 1030, 2, 0);
	start_thread(t, 2, 1, 1015);
	TG(t, MUTEX_ACQUIRE, 1025, M1, 1, 0);
	if (!broken)
		TG0(t, THREAD_EXIT, 1040);
	tg_gen_end(t, 1, 1);
}

Test(check, join_end_before_target_exit)
{
	struct tg t;
	build_join(&t, 0);
	expect_ok(&t);
	build_join(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "no consistent ordering of events possible");
	build_join(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "JOIN_END thread=T2 result=0: joins T2, which has not exited");
}

static void build_start(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	if (!broken)
		TG(t, THREAD_CREATE, 1030, 2, 0, 0); /* after the child's start in time */
	start_thread(t, 2, 1, 1020);
	tg_gen_end(t, 1, 1);
}

Test(check, start_before_create)
{
	struct tg t;
	build_start(&t, 0);
	expect_ok(&t);
	build_start(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "waits for T1's THREAD_CREATE");
}

/* ---- syscalls and waits ---- */

static void build_syscall(struct tg *t, int variant)
{
	tg_init(t);
	tg_clock(t, 1);
	tg_batch(t, 1, 1, 1000);
	if (variant == 0) {
		TG(t, THREAD_START, 1000, 0, 101, 0);
		TG(t, SYSCALL_BEGIN, 1010, READ, 3, 0);
	} else if (variant == 1) {
		/* Tracing began while the thread was inside read (seed 000). */
		TG(t, STATUS, 1000, WEFT_STATE_SYSCALL, READ, 0, 500);
	} else {
		TG(t, THREAD_START, 1000, 0, 101, 0);
	}
	TG(t, SYSCALL_END, 1020, READ, 5, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, syscall_end_without_begin_or_status)
{
	struct tg t;
	build_syscall(&t, 0);
	expect_ok(&t);
	build_syscall(&t, 1);
	expect_ok(&t);
	build_syscall(&t, 2);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "SYSCALL_END read without its SYSCALL_BEGIN or a STATUS");
}

#define O1 0x5000u  /* a once control */

/* A pthread_once wait: begun by its ONCE_BEGIN (variant 0) or by a
 * STATUS in BLOCKED_ONCE (1), or an ONCE_END with neither (2); or an
 * ONCE_END on another control than the one waited on (3). */
static void build_once(struct tg *t, int variant)
{
	tg_init(t);
	tg_clock(t, 1);
	tg_batch(t, 1, 1, 1000);
	if (variant == 1) {
		TG(t, STATUS, 1000, WEFT_STATE_BLOCKED_ONCE, 0, O1, 500);
	} else {
		TG(t, THREAD_START, 1000, 0, 101, 0);
		if (variant != 2)
			TG(t, ONCE_BEGIN, 1010, variant == 3 ? O1 + 8 : O1, 0);
	}
	TG(t, ONCE_END, 1020, O1, 0, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, once_end_without_begin_or_status)
{
	struct tg t;
	build_once(&t, 0);
	expect_ok(&t);
	build_once(&t, 1);
	expect_ok(&t);
	build_once(&t, 2);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "no ONCE_BEGIN before it (the thread is RUNNING)");
	build_once(&t, 3);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "no ONCE_BEGIN before it (the thread is BLOCKED_ONCE)");
}

static void build_status_continuity(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, SYSCALL_BEGIN, 1010, READ, 3, 0);
	tg_gen_end(t, 1, 0);
	tg_clock(t, 2);
	tg_batch(t, 1, 2, 2000);
	if (broken)
		TG(t, STATUS, 2000, WEFT_STATE_RUNNING, 0, 0, 1000);
	else
		TG(t, STATUS, 2000, WEFT_STATE_SYSCALL, READ, 0, 1010);
	TG(t, SYSCALL_END, 2010, READ, 1, 0);
	tg_gen_end(t, 2, 1);
}

Test(check, status_inconsistent_with_previous_generation)
{
	struct tg t;
	build_status_continuity(&t, 0);
	expect_ok(&t);
	build_status_continuity(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "STATUS says RUNNING but the thread ended generation 1 SYSCALL");
}

/* A thread in a read whose signal handler blocks on a semaphore: the
 * next generation's status group states both, outermost first. */
enum nested_shape { NESTED_OK, NESTED_MISSING, NESTED_WRONG, NESTED_ALONE };

static void build_nested_status(struct tg *t, enum nested_shape shape)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, SEM_INIT, 1005, SEM1, 0, 0);
	TG(t, SYSCALL_BEGIN, 1010, READ, 3, 0);
	TG(t, SEM_WAIT_BEGIN, 1020, SEM1, 0);
	tg_gen_end(t, 1, 0);
	tg_clock(t, 2);
	tg_batch(t, 1, 2, 2000);
	if (shape == NESTED_ALONE)
		TG(t, STATUS_NESTED, 2000, WEFT_STATE_BLOCKED_SEM, 0, SEM1, 1020);
	TG(t, STATUS, 2000, WEFT_STATE_SYSCALL, READ, 0, 1010);
	if (shape == NESTED_OK)
		TG(t, STATUS_NESTED, 2000, WEFT_STATE_BLOCKED_SEM, 0, SEM1, 1020);
	if (shape == NESTED_WRONG)
		TG(t, STATUS_NESTED, 2000, WEFT_STATE_BLOCKED_MUTEX, 0, M1, 1020);
	TG(t, SEM_POST, 2005, SEM1, 1, 0);
	TG(t, SEM_WAIT_END, 2010, SEM1, 2, WEFT_FLAG_CONTENDED, 0);
	TG(t, SYSCALL_END, 2020, READ, 1, 0);
	tg_gen_end(t, 2, 1);
}

Test(check, status_states_nested_waits)
{
	struct tg t;
	build_nested_status(&t, NESTED_OK);
	expect_ok(&t);
	build_nested_status(&t, NESTED_MISSING);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "the thread's STATUS states 1 level "
		   "of waits but it ended generation 1 in 2");
	build_nested_status(&t, NESTED_WRONG);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "STATUS_NESTED says BLOCKED_MUTEX at "
		   "level 2 but the thread ended generation 1 BLOCKED_SEM there");
	build_nested_status(&t, NESTED_ALONE);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "STATUS_NESTED that does not follow");
}

/* A post dropped for want of a buffer takes no number: the generation
 * that lost it says so (LOST), and the semaphore's value the next
 * generation starts from is not known. */
static void build_lost_post(struct tg *t, int lost)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, SEM_INIT, 1005, SEM1, 0, 0);
	if (lost)
		TG(t, LOST, 1010, 1);
	TG(t, SEM_POST, 1020, SEM1, 1, 0);
	tg_gen_end(t, 1, 0);
	tg_clock(t, 2);
	tg_batch(t, 1, 2, 2000);
	TG(t, STATUS, 2000, WEFT_STATE_RUNNING, 0, 0, 1000);
	TG(t, SEM_WAIT_END, 2010, SEM1, 1, 0, 0);
	TG(t, SEM_WAIT_END, 2020, SEM1, 2, 0, 0);
	tg_gen_end(t, 2, 1);
}

Test(check, lost_events_leave_objects_unknown_after_their_generation)
{
	struct tg t;
	build_lost_post(&t, 1);
	expect_ok(&t);
	build_lost_post(&t, 0);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "has value 0: no post to take");
}

/* ---- mutexes and condition variables ---- */

static void build_two_holders(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	TG(t, MUTEX_UNLOCK, 1030, M1, broken ? 3 : 2, 0);
	tg_batch(t, 2, 1, 1000);
	TG(t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 0);
	TG(t, MUTEX_ACQUIRE, 1040, M1, broken ? 2 : 3, 0);
	TG(t, MUTEX_UNLOCK, 1050, M1, 4, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, mutex_acquired_while_held)
{
	struct tg t;
	build_two_holders(&t, 0);
	expect_ok(&t);
	build_two_holders(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "0x1000 is held by T1");
}

static void build_non_holder(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	if (!broken)
		TG(t, MUTEX_UNLOCK, 1020, M1, 2, 0);
	tg_batch(t, 2, 1, 1000);
	TG(t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 0);
	if (broken)
		TG(t, MUTEX_UNLOCK, 1020, M1, 2, 0);
	tg_gen_end(t, 1, 1);
}

/* An unlock by a thread that does not hold the mutex is the program's
 * misuse (a finding, test_findings.c), not a damaged trace: the trace is
 * consistent. */
Test(check, unlock_by_non_holder)
{
	struct tg t;
	build_non_holder(&t, 0);
	expect_ok(&t);
	build_non_holder(&t, 1);
	expect_ok(&t);
}

static void build_cond(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	if (!broken)
		TG(t, COND_WAIT_BEGIN, 1020, C1, M1, 2, 0);
	TG(t, COND_WAIT_END, 1060, C1, M1, broken ? 2 : 5, 0);
	TG(t, MUTEX_UNLOCK, 1070, M1, broken ? 3 : 6, 0);
	if (!broken) {
		tg_batch(t, 2, 1, 1000);
		TG(t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 0);
		TG(t, MUTEX_ACQUIRE, 1030, M1, 3, 0);
		TG(t, COND_SIGNAL, 1040, C1, 1);
		TG(t, MUTEX_UNLOCK, 1050, M1, 4, 0);
	}
	tg_gen_end(t, 1, 1);
}

Test(check, cond_wait_end_without_begin)
{
	struct tg t;
	build_cond(&t, 0);
	expect_ok(&t);
	build_cond(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "no COND_WAIT_BEGIN before it");
}

/* ---- objects shared between processes ---- */

#define SHARED_BARRIER 0x5000u
#define SHARED_SEM     0x5800u

/* One process's side of objects it shares with another (format/SPEC.md,
 * section 7.6): the other process posts the semaphore, arrives at the
 * barrier, and unlocks the mutex T1 locked (a mutex used as a binary
 * semaphore across processes), none of it in this trace.  marked: the
 * generation's tables say the objects are shared.  misnumbered: T2's
 * acquisition repeats T1's number, which no other process explains. */
static void build_shared(struct tg *t, int marked, int misnumbered)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, SEM_INIT, 1001, SHARED_SEM, 0, 0);
	TG(t, BARRIER_INIT, 1002, SHARED_BARRIER, 2, 0);
	TG(t, MUTEX_ACQUIRE, 1003, M1, 1, 0);
	TG(t, THREAD_CREATE, 1004, 2, 0, 0);
	TG(t, SEM_WAIT_BEGIN, 1010, SHARED_SEM, 0);
	TG(t, SEM_WAIT_END, 1020, SHARED_SEM, 1, WEFT_FLAG_CONTENDED, 0);
	TG(t, BARRIER_BEGIN, 1030, SHARED_BARRIER, 1, 0);
	TG(t, BARRIER_END, 1040, SHARED_BARRIER, 1);
	start_thread(t, 2, 1, 1005);
	TG(t, MUTEX_ACQUIRE, 1050, M1, misnumbered ? 1 : 2, 0);
	TG(t, MUTEX_UNLOCK, 1060, M1, 3, 0);
	if (marked) {
		tg_batch(t, 0, 1, 1000);
		TG(t, OBJECT_SHARED, 0, SHARED_SEM);
		TG(t, OBJECT_SHARED, 0, SHARED_BARRIER);
		TG(t, OBJECT_SHARED, 0, M1);
	}
	tg_gen_end(t, 1, 1);
}

Test(check, shared_objects_state_is_not_inferred)
{
	struct tg t;
	build_shared(&t, 1, 0);
	struct weft_check_result res;
	cr_assert_eq(tg_check(&t, &res), WEFT_CHECK_OK, "%s %s", res.error, res.note);
	cr_assert_eq(res.findings_total, 0, "no finding rests on a shared object's state");
	tg_free(&t);
	build_shared(&t, 0, 0);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "no consistent ordering");
}

Test(check, shared_objects_numbers_still_checked)
{
	struct tg t;
	build_shared(&t, 1, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "sequence number 1 of object 0x1000 "
		   "comes after 1");
}

/* ---- ordering by sequence, not clocks ---- */

Test(check, clock_ties_and_skew_are_ordered_by_sequence)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1100, M1, 1, 0);
	TG(&t, MUTEX_UNLOCK, 1100, M1, 2, 0);
	TG(&t, MUTEX_ACQUIRE, 1300, M1, 5, 0);
	TG(&t, MUTEX_UNLOCK, 1300, M1, 6, 0);
	tg_batch(&t, 2, 1, 1000);
	TG(&t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 0);
	/* Same timestamp as T1's unlock (a tie), then a skewed clock that
	 * puts T2's unlock before the acquire it follows. */
	TG(&t, MUTEX_ACQUIRE, 1100, M1, 3, 0);
	TG(&t, MUTEX_UNLOCK, 1100, M1, 4, 0);
	TG(&t, MUTEX_ACQUIRE, 1200, M1, 7, 0);
	TG(&t, MUTEX_UNLOCK, 1250, M1, 8, 0);
	tg_gen_end(&t, 1, 1);
	expect_ok(&t);
}

Test(check, lost_events_relax_and_say_so)
{
	/* A sequence gap is an error without LOST, accepted with it. */
	for (int lost = 0; lost < 2; lost++) {
		struct tg t;
		tg_init(&t);
		tg_clock(&t, 1);
		start_thread(&t, 1, 0, 1000);
		TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
		TG(&t, MUTEX_UNLOCK, 1020, M1, 2, 0);
		if (lost)
			TG(&t, LOST, 1025, 2);
		TG(&t, MUTEX_ACQUIRE, 1030, M1, 5, 0);
		TG(&t, MUTEX_UNLOCK, 1040, M1, 6, 0);
		tg_gen_end(&t, 1, 1);
		struct weft_check_result res;
		enum weft_verdict v = tg_check(&t, &res);
		if (lost) {
			cr_assert_eq(v, WEFT_CHECK_OK, "%s", res.error);
			cr_assert_eq(res.lost, 2);
			cr_assert(strstr(res.note, "generation 1 lost 2 events"), "%s", res.note);
		} else {
			cr_assert_eq(v, WEFT_CHECK_INCONSISTENT);
			cr_assert(strstr(res.error, "waits for sequence number 3 of object 0x1000"),
				  "%s", res.error);
		}
		tg_free(&t);
	}
}

Test(check, no_trace_end_is_truncated)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	tg_gen_end(&t, 1, 0);
	expect_bad(&t, WEFT_CHECK_TRUNCATED, "no end-of-trace record");
}

/* A generation cut short (the process killed before it ended) may lack
 * any of its batches, its tables among them: an id used and not defined
 * is what the cut left out, not damage. */
Test(check, cut_generation_without_its_tables_is_truncated)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	start_thread(&t, 1, 0, 1000);
	TG(&t, SYSCALL_BEGIN, 1010, READ, 0, 5);
	tg_close(&t);
	expect_bad(&t, WEFT_CHECK_TRUNCATED, "generation 1 has no end marker");
}

/*
 * Threads whose causes lie in batches that were never written: T3 took
 * M1 (number 1) and its unlock (2) is missing; T2 waits for it, then posts
 * S1 number 2; T1 posted 1 and 3.  Nothing can go on, so the checker lets
 * a missing cause go, the earliest first: T1's number 3, a wrong guess
 * that makes T2's number 2 come after 3.  In a generation cut short that
 * is the guess's fault, and the trace is truncated, with the events left
 * given unchecked; in a complete generation the same events are an
 * inconsistency (the gap was never explained).
 */
static void build_wrong_guess(struct tg *t, int complete)
{
	tg_init(t);
	tg_clock(t, 1);
	tg_batch(t, 3, 1, 1000);
	TG(t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 0);
	TG(t, MUTEX_ACQUIRE, 1001, M1, 1, 0);
	tg_batch(t, 1, 1, 1000);
	TG(t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 0);
	TG(t, SEM_POST, 1002, S1_CUT, 1, 0);
	TG(t, SEM_POST, 1004, S1_CUT, 3, 0);
	tg_batch(t, 2, 1, 1000);
	TG(t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 0);
	TG(t, MUTEX_ACQUIRE, 1005, M1, 3, 0);
	TG(t, SEM_POST, 1020, S1_CUT, 2, 0);
	if (complete)
		tg_gen_end(t, 1, 1);
	else
		tg_close(t);
}

Test(check, a_wrong_guess_in_a_cut_generation_is_truncated)
{
	struct tg t;
	build_wrong_guess(&t, 0);
	struct weft_check_result res;
	enum weft_verdict v = tg_check(&t, &res);
	cr_assert_eq(v, WEFT_CHECK_TRUNCATED, "verdict %d: %s %s", v, res.error, res.note);
	cr_assert(strstr(res.note, "generation 1 is cut short: its events from offset"),
		  "%s", res.note);
	cr_assert(strstr(res.note, "unchecked"), "%s", res.note);
	tg_free(&t);
	build_wrong_guess(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "waits for sequence number 2 of object 0x1000");
}

/* ---- semaphores and barriers ---- */

#define S1 0x3000u  /* a semaphore */
#define B1 0x4000u  /* a barrier */

static void build_semaphore(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, SEM_INIT, 1005, S1, 0, 0);
	if (!broken)
		TG(t, SEM_POST, 1010, S1, 1, 0);
	TG(t, SEM_WAIT_END, 1020, S1, broken ? 1 : 2, 0, 0);
	tg_gen_end(t, 1, 1);
}

Test(check, semaphore_taken_without_a_post)
{
	struct tg t;
	build_semaphore(&t, 0);
	expect_ok(&t);
	build_semaphore(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "semaphore 0x3000 has value 0: no post to take");
}

static void build_barrier(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, BARRIER_INIT, 1001, B1, 2, 0);
	TG(t, THREAD_CREATE, 1002, 2, 0, 0);
	TG(t, BARRIER_BEGIN, 1010, B1, 1, 0);
	/* Released before the second thread arrived, in the broken twin. */
	TG(t, BARRIER_END, 1020, B1, 1);
	start_thread(t, 2, 1, 1005);
	TG(t, BARRIER_BEGIN, broken ? 1030 : 1015, B1, 2, 0);
	TG(t, BARRIER_END, 1040, B1, 0);
	if (broken) {
		/* A third arrival the first round could not have waited for. */
		tg_batch(t, 1, 1, 1050);
		TG(t, BARRIER_BEGIN, 1050, B1, 3, 0);
		TG(t, BARRIER_END, 1060, B1, 1);
	}
	tg_gen_end(t, 1, 1);
}

Test(check, barrier_releases_a_round_together)
{
	struct tg t;
	build_barrier(&t, 0);
	expect_ok(&t);
	build_barrier(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "barrier 0x4000 has had 3 arrivals: "
		   "a departure needs 4");
}

/*
 * An arrival is numbered before the real call, so arrivals can be made in
 * another order than their numbers: T2 numbered its arrival (2) but was
 * held up before making it; T3 arrived (3) and completed T1's round, left,
 * and released a mutex T4 then took before arriving (4) with T2.  Rounds
 * read from the numbers ({1,2}, {3,4}) would have T3 leave before T4's
 * arrival, which comes after T3's unlock: no order.  In the broken twin
 * the barrier releases three threads a round: four arrivals cannot let
 * four threads go.
 */
static void build_barrier_order(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, BARRIER_INIT, 1001, B1, broken ? 3 : 2, 0);
	TG(t, THREAD_CREATE, 1002, 2, 0, 0);
	TG(t, THREAD_CREATE, 1003, 3, 0, 0);
	TG(t, THREAD_CREATE, 1004, 4, 0, 0);
	TG(t, BARRIER_BEGIN, 1010, B1, 1, 0);
	TG(t, BARRIER_END, 1040, B1, 1);
	start_thread(t, 2, 1, 1005);
	TG(t, BARRIER_BEGIN, 1020, B1, 2, 0);
	TG(t, BARRIER_END, 1090, B1, 0);
	start_thread(t, 3, 1, 1006);
	TG(t, BARRIER_BEGIN, 1030, B1, 3, 0);
	TG(t, BARRIER_END, 1040, B1, 0);
	TG(t, MUTEX_ACQUIRE, 1050, M1, 1, 0);
	TG(t, MUTEX_UNLOCK, 1060, M1, 2, 0);
	start_thread(t, 4, 1, 1007);
	TG(t, MUTEX_ACQUIRE, 1070, M1, 3, 0);
	TG(t, MUTEX_UNLOCK, 1075, M1, 4, 0);
	TG(t, BARRIER_BEGIN, 1080, B1, 4, 0);
	TG(t, BARRIER_END, 1090, B1, 1);
	tg_gen_end(t, 1, 1);
}

Test(check, barrier_arrivals_out_of_number_order)
{
	struct tg t;
	build_barrier_order(&t, 0);
	expect_ok(&t);
	build_barrier_order(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "needs 6 (2 rounds of 3)");
}

/* ---- sequence numbers across generations ---- */

/*
 * Numbers restart at 1 in each generation, and the object's state carries
 * over a rotation: T1 takes M1 in generation 1 and lets it go in 2, where
 * T2 then takes it.  In the broken twin T2's acquisition is numbered
 * before T1's unlock: T2 would take a mutex T1 still holds.
 */
static void build_carry(struct tg *t, int broken)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, THREAD_CREATE, 1001, 2, 0, 0);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	start_thread(t, 2, 1, 1005);
	tg_gen_end(t, 1, 0);
	tg_clock(t, 2);
	tg_batch(t, 1, 2, 2000);
	TG(t, STATUS, 2000, WEFT_STATE_RUNNING, 0, 0, 1000);
	TG(t, MUTEX_UNLOCK, 2010, M1, broken ? 2 : 1, 0);
	tg_batch(t, 2, 2, 2000);
	TG(t, STATUS, 2000, WEFT_STATE_RUNNING, 0, 0, 1005);
	TG(t, MUTEX_ACQUIRE, 2020, M1, broken ? 1 : 2, 0);
	tg_gen_end(t, 2, 1);
}

Test(check, sequence_restarts_and_state_carries_over_rotation)
{
	struct tg t;
	build_carry(&t, 0);
	expect_ok(&t);
	build_carry(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "held by T1");
}

/* A generation whose numbers for an object do not start at 1 lost events,
 * and says so, or it is not a faithful record. */
static void build_first_number(struct tg *t, int lost)
{
	tg_init(t);
	tg_clock(t, 1);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_ACQUIRE, 1010, M1, 1, 0);
	tg_gen_end(t, 1, 0);
	tg_clock(t, 2);
	tg_batch(t, 1, 2, 2000);
	if (lost)
		TG(t, LOST, 2000, 1);
	else
		TG(t, STATUS, 2000, WEFT_STATE_RUNNING, 0, 0, 1000);
	TG(t, MUTEX_UNLOCK, 2010, M1, 2, 0);
	tg_gen_end(t, 2, 1);
}

Test(check, first_number_of_a_generation_is_1)
{
	struct tg t;
	build_first_number(&t, 1);
	expect_ok(&t);
	build_first_number(&t, 0);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "object 0x1000's first sequence "
		   "number is 2, not 1");
}

/* Format version 1 numbered on across generations: such traces still
 * check by the rule they were written with, and the same numbers in
 * version 2 are rejected. */
Test(check, version_1_numbers_run_on_across_generations)
{
	struct tg t;
	build_first_number(&t, 0);
	tg_version(&t, 1);
	expect_ok(&t);
	build_first_number(&t, 0);
	tg_version(&t, 2);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "not 1");
}

/* ---- contention mode (format/SPEC.md, section 7.7) ---- */

/* A generation's CLOCK, then its MODE when mode is not full. */
static void clock_and_mode(struct tg *t, uint64_t mode)
{
	tg_clock(t, 1);
	if (mode != WEFT_MODE_FULL) {
		tg_batch(t, 0, 1, 1000);
		TG(t, MODE, 0, mode);
	}
}

/* T1 takes M1 after blocking, T2 takes it at once while T1, having
 * released it unrecorded, seems to hold it; T2's count of M1. */
static void build_unseen_holder(struct tg *t, uint64_t mode)
{
	tg_init(t);
	clock_and_mode(t, mode);
	start_thread(t, 1, 0, 1000);
	TG(t, MUTEX_BLOCK, 1010, M1, 0);
	TG(t, MUTEX_ACQUIRE, 1020, M1, 0, WEFT_FLAG_CONTENDED);
	start_thread(t, 2, 0, 1030);
	TG(t, MUTEX_ACQUIRE, 1040, M1, 0, 0);
	if (mode == WEFT_MODE_CONTENTION)
		TG(t, LOCK_COUNTS, 1050, M1, WEFT_COUNT_MUTEX, 3);
	tg_gen_end(t, 1, 1);
}

Test(check, contention_mode_knows_no_lock_holder)
{
	struct tg t;
	build_unseen_holder(&t, WEFT_MODE_CONTENTION);
	struct weft_check_result res;
	cr_assert_eq(tg_check(&t, &res), WEFT_CHECK_OK, "%s", res.error);
	cr_assert_eq(res.contention_generations, 1);
	tg_free(&t);
	build_unseen_holder(&t, WEFT_MODE_FULL);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "0x1000 is held by T1");
}

static void build_counts_in_full(struct tg *t, int broken)
{
	tg_init(t);
	clock_and_mode(t, broken ? WEFT_MODE_FULL : WEFT_MODE_CONTENTION);
	start_thread(t, 1, 0, 1000);
	TG(t, LOCK_COUNTS, 1010, M1, WEFT_COUNT_RW_WRITE, 7);
	tg_gen_end(t, 1, 1);
}

Test(check, lock_counts_only_in_contention_mode)
{
	struct tg t;
	build_counts_in_full(&t, 0);
	expect_ok(&t);
	build_counts_in_full(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT,
		   "LOCK_COUNTS in a generation not recorded in contention mode");
}

static void build_counts_kind(struct tg *t, int broken)
{
	tg_init(t);
	clock_and_mode(t, WEFT_MODE_CONTENTION);
	start_thread(t, 1, 0, 1000);
	TG(t, LOCK_COUNTS, 1010, M1, broken ? 5 : WEFT_COUNT_SPIN, 7);
	tg_gen_end(t, 1, 1);
}

Test(check, lock_counts_of_unknown_kind)
{
	struct tg t;
	build_counts_kind(&t, 0);
	expect_ok(&t);
	build_counts_kind(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "LOCK_COUNTS of unknown kind 5");
}

static void build_bad_mode(struct tg *t, int broken)
{
	tg_init(t);
	clock_and_mode(t, broken ? 7 : WEFT_MODE_CONTENTION);
	start_thread(t, 1, 0, 1000);
	tg_gen_end(t, 1, 1);
}

Test(check, unknown_mode)
{
	struct tg t;
	build_bad_mode(&t, 0);
	expect_ok(&t);
	build_bad_mode(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "unknown mode 7");
}

/* What contention mode keeps: a contended acquisition follows its
 * thread's BLOCK of the same lock. */
static void build_contended_without_block(struct tg *t, int broken)
{
	tg_init(t);
	clock_and_mode(t, WEFT_MODE_CONTENTION);
	start_thread(t, 1, 0, 1000);
	if (!broken)
		TG(t, MUTEX_BLOCK, 1010, M1, 0);
	TG(t, MUTEX_ACQUIRE, 1020, M1, 0, WEFT_FLAG_CONTENDED);
	tg_gen_end(t, 1, 1);
}

Test(check, contention_mode_keeps_block_before_contended_acquire)
{
	struct tg t;
	build_contended_without_block(&t, 0);
	expect_ok(&t);
	build_contended_without_block(&t, 1);
	expect_bad(&t, WEFT_CHECK_INCONSISTENT, "no MUTEX_BLOCK before it");
}
