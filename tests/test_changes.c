/*
 * test_changes.c - what the validator says each applied event changed
 * (struct weft_state_change, check.h): holds taken and given up, in which
 * mode and how deep, and the waits and calls begun and ended.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <string.h>

#include "tracegen.h"

#define M1 0x1000u  /* a mutex */
#define C1 0x2000u  /* a condvar */
#define RW 0x3000u  /* a reader-writer lock */

#define MAX_SEEN 64

struct seen {
	size_t n;
	uint8_t code[MAX_SEEN];
	int has_change[MAX_SEEN];
	struct weft_state_change change[MAX_SEEN];
};

static void on_event(void *ctx, const struct weft_check_event *ev)
{
	struct seen *s = ctx;
	if (!ev->serial || s->n == MAX_SEEN)
		return;
	s->code[s->n] = ev->rec->code;
	s->has_change[s->n] = ev->change != NULL;
	if (ev->change)
		s->change[s->n] = *ev->change;
	s->n++;
}

static void check_with_changes(struct tg *t, struct seen *s)
{
	tg_close(t);
	struct weft_reader r;
	struct weft_check_result res;
	memset(s, 0, sizeof *s);
	cr_assert_eq(weft_reader_open_memory(&r, t->data, t->len), WEFT_READ_OK);
	cr_assert_eq(weft_check(&r, on_event, s, &res), WEFT_CHECK_OK, "%s", res.error);
	weft_reader_close(&r);
	tg_free(t);
}

/* The change the i-th thread event made, which must be a code event. */
static const struct weft_state_change *change_of(const struct seen *s, size_t i,
						  uint8_t code)
{
	cr_assert_lt(i, s->n);
	cr_assert_eq(s->code[i], code, "event %zu is %s", i, weft_events[s->code[i]].name);
	cr_assert(s->has_change[i]);
	cr_assert_eq(s->change[i].serial, 1);
	return &s->change[i];
}

Test(changes, holds_and_waits)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	tg_batch(&t, 1, 1, 1000);
	TG(&t, THREAD_START, 1000, 0, 101, 0);
	TG(&t, MUTEX_BLOCK, 1010, M1, 0);
	TG(&t, MUTEX_ACQUIRE, 1020, M1, 1, WEFT_FLAG_CONTENDED);
	TG(&t, MUTEX_ACQUIRE, 1030, M1, 2, 0);
	TG(&t, MUTEX_UNLOCK, 1040, M1, 3, 0);
	TG(&t, COND_WAIT_BEGIN, 1050, C1, M1, 4, 0);
	TG(&t, COND_WAIT_END, 1060, C1, M1, 5, 0);
	TG(&t, MUTEX_UNLOCK, 1070, M1, 6, 0);
	TG(&t, RWLOCK_ACQUIRE, 1080, RW, 1, WEFT_RW_WRITE, 0);
	TG(&t, RWLOCK_UNLOCK, 1090, RW, 2, 0);
	TG(&t, SYSCALL_BEGIN, 1100, WEFT_SYS_read, 3, 0);
	TG(&t, SYSCALL_END, 1110, WEFT_SYS_read, 0, 0);
	tg_gen_end(&t, 1, 1);
	struct seen s;
	check_with_changes(&t, &s);
	cr_assert_eq(s.n, 12);

	const struct weft_state_change *c = change_of(&s, 0, WEFT_EV_THREAD_START);
	cr_assert_eq(c->hold, WEFT_HOLD_NONE);
	cr_assert_eq(c->began, 0);
	c = change_of(&s, 1, WEFT_EV_MUTEX_BLOCK);
	cr_assert_eq(c->began, WEFT_STATE_BLOCKED_MUTEX);
	cr_assert_eq(c->about, M1);
	c = change_of(&s, 2, WEFT_EV_MUTEX_ACQUIRE);
	cr_assert_eq(c->ended, WEFT_STATE_BLOCKED_MUTEX);
	cr_assert_eq(c->hold, WEFT_HOLD_ACQUIRED);
	cr_assert_eq(c->object, M1);
	cr_assert_eq(c->depth, 1);
	cr_assert_eq(c->flags, WEFT_FLAG_CONTENDED);
	c = change_of(&s, 3, WEFT_EV_MUTEX_ACQUIRE);
	cr_assert_eq(c->ended, 0, "an uncontended acquisition ends no wait");
	cr_assert_eq(c->depth, 2);
	c = change_of(&s, 4, WEFT_EV_MUTEX_UNLOCK);
	cr_assert_eq(c->hold, WEFT_HOLD_RELEASED);
	cr_assert_eq(c->depth, 1);
	c = change_of(&s, 5, WEFT_EV_COND_WAIT_BEGIN);
	cr_assert_eq(c->hold, WEFT_HOLD_RELEASED);
	cr_assert_eq(c->object, M1);
	cr_assert_eq(c->began, WEFT_STATE_BLOCKED_COND);
	cr_assert_eq(c->about, C1);
	c = change_of(&s, 6, WEFT_EV_COND_WAIT_END);
	cr_assert_eq(c->hold, WEFT_HOLD_ACQUIRED);
	cr_assert_eq(c->object, M1);
	cr_assert_eq(c->ended, WEFT_STATE_BLOCKED_COND);
	cr_assert_eq(c->restored, 0);
	c = change_of(&s, 7, WEFT_EV_MUTEX_UNLOCK);
	cr_assert_eq(c->hold, WEFT_HOLD_RELEASED);
	cr_assert_eq(c->depth, 0);
	c = change_of(&s, 8, WEFT_EV_RWLOCK_ACQUIRE);
	cr_assert_eq(c->hold, WEFT_HOLD_ACQUIRED);
	cr_assert_eq(c->mode, WEFT_RW_WRITE);
	cr_assert_eq(c->object, RW);
	c = change_of(&s, 9, WEFT_EV_RWLOCK_UNLOCK);
	cr_assert_eq(c->hold, WEFT_HOLD_RELEASED);
	cr_assert_eq(c->mode, WEFT_RW_WRITE);
	c = change_of(&s, 10, WEFT_EV_SYSCALL_BEGIN);
	cr_assert_eq(c->began, WEFT_STATE_SYSCALL);
	cr_assert_eq(c->about, WEFT_SYS_read);
	c = change_of(&s, 11, WEFT_EV_SYSCALL_END);
	cr_assert_eq(c->ended, WEFT_STATE_SYSCALL);
	cr_assert_eq(c->hold, WEFT_HOLD_NONE);
}

Test(changes, status_states_the_wait_it_begins)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	tg_batch(&t, 1, 1, 1000);
	TG(&t, STATUS, 1000, WEFT_STATE_BLOCKED_MUTEX, 0, M1, 0);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, WEFT_FLAG_CONTENDED);
	TG(&t, MUTEX_UNLOCK, 1020, M1, 2, 0);
	tg_gen_end(&t, 1, 1);
	struct seen s;
	check_with_changes(&t, &s);
	const struct weft_state_change *c = change_of(&s, 0, WEFT_EV_STATUS);
	cr_assert_eq(c->began, WEFT_STATE_BLOCKED_MUTEX);
	cr_assert_eq(c->about, M1);
	c = change_of(&s, 1, WEFT_EV_MUTEX_ACQUIRE);
	cr_assert_eq(c->ended, WEFT_STATE_BLOCKED_MUTEX);
	cr_assert_eq(c->hold, WEFT_HOLD_ACQUIRED);
}

Test(changes, failed_wait_restores_its_mutex)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	tg_batch(&t, 1, 1, 1000);
	TG(&t, THREAD_START, 1000, 0, 101, 0);
	TG(&t, MUTEX_ACQUIRE, 1010, M1, 1, WEFT_FLAG_TRY);
	TG(&t, COND_WAIT_BEGIN, 1020, C1, M1, 2, 0);
	TG(&t, COND_WAIT_END, 1030, C1, M1, 3, EINVAL);
	TG(&t, MUTEX_UNLOCK, 1040, M1, 4, 0);
	tg_gen_end(&t, 1, 1);
	struct seen s;
	check_with_changes(&t, &s);
	const struct weft_state_change *c = change_of(&s, 1, WEFT_EV_MUTEX_ACQUIRE);
	cr_assert_eq(c->flags, WEFT_FLAG_TRY);
	c = change_of(&s, 3, WEFT_EV_COND_WAIT_END);
	cr_assert_eq(c->hold, WEFT_HOLD_ACQUIRED, "the wait failed before giving it up");
	cr_assert_eq(c->restored, 1);
	cr_assert_eq(c->depth, 1);
}
