/*
 * rules.c - what each event means for the state of its thread and its
 * objects: whether it can apply now (judge), and what applying it changes.
 * A thread's states nest (a signal handler may wait inside a wait); an
 * object is a lock with holders, a semaphore with a value, a barrier with
 * rounds, each with a sequence of numbered events.  What the program did
 * that POSIX leaves undefined is handed to findings.c.
 */
#include "rules.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *state_name(uint8_t s)
{
	const char *n = weft_state_name(s);
	return n ? n : "UNKNOWN";
}

__attribute__((format(printf, 3, 4)))
static enum verdict say(struct judgement *j, enum verdict v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->why, sizeof j->why, fmt, ap);
	va_end(ap);
	return j->v = v;
}

/* The pending event cannot apply before what key names changes. */
__attribute__((format(printf, 3, 4)))
static enum verdict wait_for(struct judgement *j, uint64_t key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->why, sizeof j->why, fmt, ap);
	va_end(ap);
	j->key = key;
	return j->v = WAIT;
}

/* Whether seq is the next sequence number of o. */
static enum verdict seq_ready(struct checker *c, struct judgement *j,
			      struct object *o, uint64_t seq)
{
	if (seq == 0)
		return j->v = APPLY;
	if (seq == o->last_seq + 1 || (lenient(c) && seq > o->last_seq))
		return j->v = APPLY;
	if (seq <= o->last_seq)
		return say(j, BAD, "sequence number %" PRIu64 " of object 0x%" PRIx64
			   " comes after %" PRIu64, seq, o->addr, o->last_seq);
	return wait_for(j, seq_key(o->addr, seq), "waits for sequence number %"
			PRIu64 " of object 0x%" PRIx64, o->last_seq + 1, o->addr);
}

/* The thread must be in state (state, object) before an ending event. */
static enum verdict expect_top(struct checker *c, struct judgement *j,
			       struct thread *t, uint8_t state, uint64_t object,
			       const char *begin)
{
	const struct state *s = top(t);
	if (t->unknown || c->relaxed)
		return j->v = APPLY;
	if (s->state == state && s->object == object)
		return j->v = APPLY;
	return say(j, BAD, "no %s before it (the thread is %s)", begin,
		   state_name(s->state));
}

/* An acquisition or failure with the contended flag ends the blocked
 * state its BLOCK record began: the thread must be in it. */
static enum verdict ends_block(struct checker *c, struct judgement *j,
			       struct thread *t, uint64_t flags, uint8_t state,
			       uint64_t object, const char *begin)
{
	if (!(flags & WEFT_FLAG_CONTENDED))
		return j->v = APPLY;
	return expect_top(c, j, t, state, object, begin);
}

/* Pushes a state; returns it, or NULL when the stack is full. */
static struct state *push_state(struct thread *t, uint8_t state, uint8_t syscall,
				uint64_t object)
{
	if (t->depth == STATE_DEPTH) {
		t->unknown = 1;
		return NULL;
	}
	t->stack[t->depth] = (struct state){ state, syscall, object, 0, 0, 0 };
	return &t->stack[t->depth++];
}

/* An object's state at the start of an identity: free, no readers, no
 * value or round known. */
static void begin_identity(struct object *o)
{
	o->known = 1;
	o->holder = o->depth = o->writer = o->readers = 0;
	o->early_readers = 0;
	o->sem_known = 0;
	o->barrier_count = 0;
	o->arrivals = o->departures = 0;
	o->hold_gen = 0;
}

/* A lock's hold by t begins with its pending event. */
static void note_hold(struct checker *c, struct object *o, const struct thread *t,
		      int contended)
{
	o->hold_offset = t->peek_offset;
	o->hold_gen = c->gen;
	o->hold_stack = contended && t->site_gen == c->gen ? t->site_stack : 0;
}

/* *_INIT: a new identity, whatever the address held before. */
static void apply_init(struct checker *c, struct thread *t, struct object *o,
		       uint64_t result)
{
	if (result)
		return;
	finding_lifetime(c, t, o, 1);
	begin_identity(o);
}

/* *_DESTROY: ends the identity (the next use is a new one, as with a
 * static initializer); a refused destroy (EBUSY) changes nothing. */
static void apply_destroy(struct checker *c, struct thread *t, struct object *o,
			  uint64_t result)
{
	finding_lifetime(c, t, o, 0);
	if (result == 0)
		begin_identity(o);
}

static void pop_state(struct thread *t)
{
	if (t->depth)
		t->depth--;
}

/* A STATUS or STATUS_NESTED record states s (a syscall's object is not
 * compared). */
static int same_state(const struct state *s, const uint64_t *a)
{
	return s->state == a[0] && s->syscall == a[1] &&
	       (s->state == WEFT_STATE_SYSCALL || s->object == a[2]);
}

/* One more level of the thread's status group (format/SPEC.md, 7.4). */
static enum verdict status_nested(struct checker *c, struct thread *t,
				  struct judgement *j, int apply)
{
	const uint64_t *a = t->peek.args;
	unsigned level = t->status_levels;
	if (!level || !t->depth)
		return say(j, BAD, "STATUS_NESTED that does not follow the thread's "
			   "STATUS of a wait");
	if (!weft_state_name(a[0]) || a[0] == WEFT_STATE_RUNNING ||
	    a[0] == WEFT_STATE_EXITED)
		return say(j, BAD, "STATUS_NESTED with state %s", state_name((uint8_t)a[0]));
	if (t->carried_known && (level >= t->carried_depth ||
				 !same_state(&t->carried[level], a)))
		return say(j, BAD, "STATUS_NESTED says %s at level %u but the thread "
			   "ended generation %u %s there", state_name((uint8_t)a[0]),
			   level + 1, c->gen - 1,
			   level < t->carried_depth ?
				   state_name(t->carried[level].state) : "with no such level");
	if (apply) {
		push_state(t, (uint8_t)a[0], (uint8_t)a[1], a[2]);
		t->status_levels++;
	}
	return j->v = APPLY;
}

/* The thread's status group ended before its next record: it must have
 * stated every level the previous generation left it in. */
static enum verdict status_group_end(struct checker *c, struct thread *t,
				     struct judgement *j, int apply)
{
	unsigned expected = t->carried_depth > 1 ? t->carried_depth : 1;
	if (t->carried_known && t->status_levels != expected)
		return say(j, BAD, "the thread's STATUS states %u level%s of waits but "
			   "it ended generation %u in %u", t->status_levels,
			   t->status_levels == 1 ? "" : "s", c->gen - 1, expected);
	if (apply)
		t->status_levels = 0;
	return j->v = APPLY;
}

/* Whether a condition wait that ended with result holds its mutex again:
 * woken, timed out, its owner died, or the thread was cancelled in it.
 * Other errors (EINVAL, EPERM) fail before the mutex is released, and
 * ENOTRECOVERABLE after it was, without taking it back. */
static int holds_mutex_again(uint64_t result)
{
	return result == 0 || result == ETIMEDOUT || result == EOWNERDEAD ||
	       result == ECANCELED;
}

/* The end of t's condition wait (COND_WAIT_END args a) on mutex m, whose
 * number is the one after the wait's begin when nothing came between. */
static void apply_cond_wait_end(struct checker *c, struct thread *t,
				struct object *m, const uint64_t *a)
{
	const struct state *w = top(t);
	int ours = t->depth && w->state == WEFT_STATE_BLOCKED_COND && w->object == a[0];
	uint64_t result = a[3];
	/* A wait without holding its mutex: EPERM from an error-checking
	 * mutex is the defined outcome; anything else is the program's
	 * misuse. */
	if (ours && result != EPERM && w->prior_holder != HOLDER_UNKNOWN &&
	    w->prior_holder != t->serial && !c->relaxed)
		finding_wait_unheld(c, t, m, w->prior_holder);
	if (holds_mutex_again(result)) {
		/* (Unsequenced, it says nothing about the mutex.) */
		if (a[2]) {
			m->holder = t->serial;
			m->depth = 1;
			m->known = 1;
			note_hold(c, m, t, 0);
		}
	} else if (ours && result != ENOTRECOVERABLE && w->begin_seq &&
		   m->last_seq == w->begin_seq) {
		m->known = w->prior_holder != HOLDER_UNKNOWN;
		m->holder = m->known ? w->prior_holder : 0;
		m->depth = m->known ? w->prior_depth : 0;
	}
}

/* Decides whether t's pending event can apply now, and applies it. */
enum verdict judge(struct checker *c, struct thread *t, struct judgement *j,
			  int apply)
{
	const struct weft_record *e = &t->peek;
	const uint64_t *a = e->args;
	struct object *o = NULL, *m = NULL;
	struct thread *other;

	if (t->exited) {
		/* An exited thread nobody has joined yet is reported in later
		 * generations by a STATUS that says so, and nothing else. */
		if (!t->saw_first && e->code == WEFT_EV_STATUS && a[0] == WEFT_STATE_EXITED) {
			if (apply)
				t->saw_first = 1;
			return j->v = APPLY;
		}
		return say(j, BAD, "event after the thread's THREAD_EXIT");
	}
	if (e->code == WEFT_EV_STATUS_NESTED)
		return status_nested(c, t, j, apply);
	if (t->status_levels && status_group_end(c, t, j, apply) != APPLY)
		return j->v;
	if (!t->saw_first) {
		if (e->code == WEFT_EV_STATUS) {
			/* (When events were lost, a dropped event may have
			 * changed the state the STATUS reports.) */
			int carried = t->last_gen + 1 == c->gen && t->last_gen &&
				      !t->unknown && !c->relaxed;
			const struct state *s = t->depth ? &t->stack[0] : top(t);
			if (carried && !same_state(s, a))
				return say(j, BAD, "STATUS says %s but the thread ended "
					   "generation %u %s", state_name((uint8_t)a[0]),
					   t->last_gen, state_name(s->state));
			if (!weft_state_name(a[0]))
				return say(j, BAD, "STATUS with unknown state %" PRIu64, a[0]);
			if (apply) {
				t->carried_known = (uint8_t)carried;
				t->carried_depth = t->depth;
				memcpy(t->carried, t->stack, sizeof t->stack);
				t->status_levels = 1;
				t->depth = 0;
				t->unknown = 0;
				if (a[0] == WEFT_STATE_EXITED)
					t->exited = 1;
				else if (a[0] != WEFT_STATE_RUNNING)
					push_state(t, (uint8_t)a[0], (uint8_t)a[1], a[2]);
				t->started = 1;
				t->saw_first = 1;
			}
			return j->v = APPLY;
		}
		if (e->code == WEFT_EV_LOST) {
			if (apply) {
				t->unknown = 1;
				t->saw_first = 1;
				t->started = 1;
			}
			return j->v = APPLY;
		}
		if (e->code != WEFT_EV_THREAD_START)
			return say(j, BAD, "the thread's first record in generation %u "
				   "is not STATUS or THREAD_START", c->gen);
	} else if (e->code == WEFT_EV_STATUS) {
		return say(j, BAD, "STATUS after the thread's first record");
	}

	int oi = weft_events[e->code].seq_object_arg, si = weft_events[e->code].seq_arg;
	if (si >= 0 && a[oi]) {
		o = object_get(c, a[oi]);
		if (seq_ready(c, j, o, a[si]) != APPLY)
			return j->v;
	}
	uint64_t flags;
	switch (e->code) {
	case WEFT_EV_LOST:
		if (apply)
			t->unknown = 1;
		break;
	case WEFT_EV_THREAD_START:
		if (t->started)
			return say(j, BAD, "THREAD_START of a thread already started");
		if (a[0]) {
			other = thread_get(c, (uint32_t)a[0]);
			if (!t->created && !lenient(c))
				return wait_for(j, thread_key(t->serial), "waits for T%"
						PRIu64 "'s THREAD_CREATE", a[0]);
			(void)other;
		}
		if (apply) {
			t->started = 1;
			t->saw_first = 1;
			t->depth = 0;
		}
		break;
	case WEFT_EV_THREAD_CREATE:
		if (a[2] == 0) {
			other = thread_get(c, (uint32_t)a[0]);
			if (!other)
				return say(j, BAD, "THREAD_CREATE of serial %" PRIu64
					   " beyond this reader's limit", a[0]);
			if (other->created || other->started)
				return say(j, BAD, "THREAD_CREATE of T%" PRIu64
					   ", which already exists", a[0]);
			if (apply)
				other->created = 1;
		}
		break;
	case WEFT_EV_THREAD_EXIT:
		if (apply) {
			t->exited = 1;
			t->depth = 0;
		}
		break;
	case WEFT_EV_JOIN_BEGIN:
		if (apply)
			push_state(t, WEFT_STATE_BLOCKED_JOIN, 0, a[0]);
		break;
	case WEFT_EV_JOIN_END:
		if (expect_top(c, j, t, WEFT_STATE_BLOCKED_JOIN, a[0], "JOIN_BEGIN") != APPLY)
			return j->v;
		/* The target must have exited first, if this session saw it
		 * at all: a thread that ended while tracing was off, and was
		 * joined before the advancer could report it, left nothing;
		 * one that lost events may have lost its THREAD_EXIT. */
		if (a[1] == 0 && a[0]) {
			other = thread_get(c, (uint32_t)a[0]);
			if (other && !other->exited && other->in_session && !other->unknown &&
			    !lenient(c))
				return wait_for(j, thread_key(other->serial), "joins T%"
						PRIu64 ", which has not exited", a[0]);
		}
		if (apply)
			pop_state(t);
		break;
	case WEFT_EV_MUTEX_BLOCK:
		if (apply) {
			o = object_get(c, a[0]);
			/* Blocking on a mutex it holds: a default mutex
			 * deadlocks (unless another thread unlocks it); an
			 * error-checking one fails at once (EDEADLK). */
			if (o->known && o->holder == t->serial && !c->relaxed) {
				t->relock_object = a[0];
				t->relock_offset = t->peek_offset;
				t->relock_gen = c->gen;
				t->relock_stack = a[1];
			}
			push_state(t, WEFT_STATE_BLOCKED_MUTEX, 0, a[0]);
		}
		break;
	case WEFT_EV_MUTEX_ACQUIRE:
	case WEFT_EV_SPIN_ACQUIRE:
		flags = a[2];
		if (e->code == WEFT_EV_MUTEX_ACQUIRE &&
		    ends_block(c, j, t, flags, WEFT_STATE_BLOCKED_MUTEX, a[0], "MUTEX_BLOCK") != APPLY)
			return j->v;
		if (!o)
			o = object_get(c, a[0]);
		/* (With OWNERDEAD, the holder died holding it: a robust
		 * mutex passes to the next thread.) */
		if (o->known && o->holder && o->holder != t->serial &&
		    !(flags & WEFT_FLAG_OWNERDEAD) && !lenient(c))
			return wait_for(j, object_key(o->addr), "0x%" PRIx64 " is held "
					"by T%u", o->addr, o->holder);
		if (apply) {
			o->depth = o->holder == t->serial ? o->depth + 1 : 1;
			if (o->depth == 1)
				note_hold(c, o, t, (flags & WEFT_FLAG_CONTENDED) != 0);
			o->holder = t->serial;
			o->known = 1;
			if (t->relock_object == o->addr)
				t->relock_object = 0;
			if (e->code == WEFT_EV_MUTEX_ACQUIRE && (flags & WEFT_FLAG_CONTENDED))
				pop_state(t);
		}
		break;
	case WEFT_EV_MUTEX_UNLOCK:
	case WEFT_EV_SPIN_UNLOCK:
		if (!o)
			o = object_get(c, a[0]);
		if (a[2] == 0 && o->known && o->holder != t->serial) {
			/* Unsequenced: the holder's own unlock may come first. */
			if (a[1] == 0 && !lenient(c))
				return wait_for(j, object_key(o->addr), "0x%" PRIx64 " is "
						"held by T%u, not this thread", o->addr,
						o->holder);
			/* Sequenced, it is next: the program unlocked a lock
			 * it does not hold (glibc lets it, for a default
			 * mutex or a spin lock), or, in a generation that
			 * lost events, the acquisition was lost. */
			if (a[1] && !c->relaxed && apply)
				finding_unlock(c, t, o, o->holder);
		}
		if (apply && a[2] == 0) {
			if (o->depth > 1 && o->holder == t->serial)
				o->depth--;
			else
				o->holder = o->depth = 0;
			o->known = 1;
		}
		break;
	case WEFT_EV_MUTEX_FAIL:
		if (ends_block(c, j, t, a[1], WEFT_STATE_BLOCKED_MUTEX, a[0], "MUTEX_BLOCK") != APPLY)
			return j->v;
		if (apply && (a[1] & WEFT_FLAG_CONTENDED))
			pop_state(t);
		if (apply && t->relock_object == a[0])
			t->relock_object = 0;
		break;
	case WEFT_EV_RWLOCK_BLOCK:
		if (apply)
			push_state(t, WEFT_STATE_BLOCKED_RWLOCK, 0, a[0]);
		break;
	case WEFT_EV_RWLOCK_ACQUIRE:
		if (ends_block(c, j, t, a[3], WEFT_STATE_BLOCKED_RWLOCK, a[0], "RWLOCK_BLOCK") != APPLY)
			return j->v;
		if (a[2] != WEFT_RW_READ && a[2] != WEFT_RW_WRITE)
			return say(j, BAD, "rwlock mode %" PRIu64 " is neither read nor write", a[2]);
		if (!o)
			o = object_get(c, a[0]);
		if (o->known && !lenient(c)) {
			if (o->writer)
				return wait_for(j, object_key(o->addr), "0x%" PRIx64 " is "
						"held for writing by T%u", o->addr, o->writer);
			if (a[2] == WEFT_RW_WRITE && o->readers)
				return wait_for(j, object_key(o->addr), "0x%" PRIx64 " is "
						"held by %u reader(s)", o->addr, o->readers);
		}
		if (apply) {
			if (!o->known)
				o->early_readers = 1;
			if (a[2] == WEFT_RW_WRITE) {
				o->writer = t->serial;
				o->early_readers = 0;
				note_hold(c, o, t, (a[3] & WEFT_FLAG_CONTENDED) != 0);
			} else {
				o->readers++;
			}
			o->known = 1;
			if (a[3] & WEFT_FLAG_CONTENDED)
				pop_state(t);
		}
		break;
	case WEFT_EV_RWLOCK_UNLOCK:
		if (!o)
			o = object_get(c, a[0]);
		if (apply && a[2] == 0 && o->known && o->writer != t->serial &&
		    !o->readers && !o->early_readers && !c->relaxed) {
			/* Not held: what glibc made of it is unknown. */
			finding_unlock(c, t, o, o->writer);
			o->known = 0;
			o->writer = 0;
			break;
		}
		if (apply && a[2] == 0) {
			if (!o->known)
				o->early_readers = 1;
			if (o->writer == t->serial)
				o->writer = 0;
			else if (o->readers)
				o->readers--;
			o->known = 1;
		}
		break;
	case WEFT_EV_RWLOCK_FAIL:
		if (ends_block(c, j, t, a[2], WEFT_STATE_BLOCKED_RWLOCK, a[0], "RWLOCK_BLOCK") != APPLY)
			return j->v;
		if (apply && (a[2] & WEFT_FLAG_CONTENDED))
			pop_state(t);
		break;
	case WEFT_EV_COND_WAIT_BEGIN:
		/* A wait gives its mutex up (glibc unlocks a default mutex
		 * even when another thread holds it); how the mutex was is
		 * kept for the end of the wait. */
		if (apply) {
			m = o ? o : object_get(c, a[1]);
			uint32_t prior = m->known ? m->holder : HOLDER_UNKNOWN;
			uint32_t prior_depth = m->depth;
			m->holder = m->depth = 0;
			m->known = 1;
			struct state *w = push_state(t, WEFT_STATE_BLOCKED_COND, 0, a[0]);
			if (w) {
				w->prior_holder = c->relaxed ? HOLDER_UNKNOWN : prior;
				w->prior_depth = prior_depth;
				w->begin_seq = a[2];
			}
		}
		break;
	case WEFT_EV_COND_WAIT_END:
		if (expect_top(c, j, t, WEFT_STATE_BLOCKED_COND, a[0], "COND_WAIT_BEGIN") != APPLY)
			return j->v;
		if (holds_mutex_again(a[3]) && a[2]) {
			m = o ? o : object_get(c, a[1]);
			if (m->known && m->holder && m->holder != t->serial && !lenient(c))
				return wait_for(j, object_key(m->addr), "mutex 0x%" PRIx64
						" is held by T%u", m->addr, m->holder);
		}
		if (apply) {
			apply_cond_wait_end(c, t, m = o ? o : object_get(c, a[1]), a);
			pop_state(t);
		}
		break;
	case WEFT_EV_MUTEX_INIT:
	case WEFT_EV_SPIN_INIT:
	case WEFT_EV_RWLOCK_INIT:
	case WEFT_EV_COND_INIT:
		if (apply)
			apply_init(c, t, o = o ? o : object_get(c, a[0]), a[3]);
		break;
	case WEFT_EV_MUTEX_DESTROY:
	case WEFT_EV_SPIN_DESTROY:
	case WEFT_EV_RWLOCK_DESTROY:
	case WEFT_EV_COND_DESTROY:
	case WEFT_EV_BARRIER_DESTROY:
	case WEFT_EV_SEM_DESTROY:
		if (apply)
			apply_destroy(c, t, o = o ? o : object_get(c, a[0]), a[3]);
		break;
	case WEFT_EV_BARRIER_INIT:
		if (apply && a[2] == 0) {
			o = object_get(c, a[0]);
			o->barrier_count = (uint32_t)a[1];
			o->arrivals = o->departures = 0;
		}
		break;
	case WEFT_EV_BARRIER_BEGIN:
		if (apply) {
			if (!o)
				o = object_get(c, a[0]);
			o->arrivals++;
			push_state(t, WEFT_STATE_BLOCKED_BARRIER, 0, a[0]);
		}
		break;
	case WEFT_EV_BARRIER_END:
		if (expect_top(c, j, t, WEFT_STATE_BLOCKED_BARRIER, a[0], "BARRIER_BEGIN") != APPLY)
			return j->v;
		/* Threads leave in rounds of barrier_count, each once its
		 * round is complete: with this departure, at least
		 * ceil(departures / count) rounds are, so as many times count
		 * threads have arrived.  (Which round a thread belongs to is
		 * not known: an arrival is numbered before the real call, and
		 * arrivals made in another order than their numbers form
		 * other rounds than the numbers would say.) */
		o = object_get(c, a[0]);
		if (o->barrier_count && !t->unknown && !lenient(c)) {
			uint64_t rounds = (o->departures + o->barrier_count) / o->barrier_count;
			if (o->arrivals < rounds * o->barrier_count)
				return wait_for(j, object_key(o->addr), "barrier 0x%" PRIx64
						" has had %" PRIu64 " arrivals: a departure "
						"needs %" PRIu64 " (%" PRIu64 " rounds of %u)",
						o->addr, o->arrivals,
						rounds * o->barrier_count, rounds,
						o->barrier_count);
		}
		if (apply) {
			o->departures++;
			pop_state(t);
		}
		break;
	case WEFT_EV_SEM_INIT:
		/* sem_init fails (EINVAL) above SEM_VALUE_MAX; the bound also
		 * keeps the value's arithmetic from overflowing. */
		if (a[2] == 0 && a[1] > SEM_VALUE_MAX)
			return say(j, BAD, "sem_init succeeded with value %" PRIu64
				   ", over SEM_VALUE_MAX (%d)", a[1], SEM_VALUE_MAX);
		if (apply && a[2] == 0) {
			o = object_get(c, a[0]);
			o->sem_known = 1;
			o->sem_value = (int64_t)a[1];
		}
		break;
	case WEFT_EV_SEM_POST:
		if (apply && a[2] == 0 && o && o->sem_known)
			o->sem_value++;
		break;
	case WEFT_EV_SEM_WAIT_BEGIN:
		if (apply)
			push_state(t, WEFT_STATE_BLOCKED_SEM, 0, a[0]);
		break;
	case WEFT_EV_SEM_WAIT_END:
		if (ends_block(c, j, t, a[2], WEFT_STATE_BLOCKED_SEM, a[0], "SEM_WAIT_BEGIN") != APPLY)
			return j->v;
		/* A successful wait takes one from the semaphore's value. */
		if (a[3] == 0 && o && o->sem_known && o->sem_value <= 0 && !lenient(c))
			return wait_for(j, object_key(o->addr), "semaphore 0x%" PRIx64
					" has value %" PRId64 ": no post to take", o->addr,
					o->sem_value);
		if (apply) {
			if (a[3] == 0 && o && o->sem_known)
				o->sem_value--;
			if (a[2] & WEFT_FLAG_CONTENDED)
				pop_state(t);
		}
		break;
	case WEFT_EV_SYSCALL_BEGIN:
		if (!weft_syscall_name(a[0]))
			return say(j, BAD, "unknown syscall id %" PRIu64, a[0]);
		if (apply)
			push_state(t, WEFT_STATE_SYSCALL, (uint8_t)a[0], 0);
		break;
	case WEFT_EV_SYSCALL_END:
		if (!t->unknown && !c->relaxed &&
		    (top(t)->state != WEFT_STATE_SYSCALL || top(t)->syscall != a[0]))
			return say(j, BAD, "SYSCALL_END %s without its SYSCALL_BEGIN or a "
				   "STATUS in it (the thread is %s)",
				   weft_syscall_name(a[0]) ? weft_syscall_name(a[0]) : "?",
				   state_name(top(t)->state));
		if (apply)
			pop_state(t);
		break;
	default:
		break;
	}
	if (apply && o && si >= 0 && a[si])
		o->last_seq = a[si];
	if (apply && o && o->shared)
		forget_state(o);
	if (apply && m && m->shared)
		forget_state(m);
	if (apply && weft_events[e->code].stack_arg >= 0) {
		t->site_offset = t->peek_offset;
		t->site_gen = c->gen;
		t->site_stack = a[weft_events[e->code].stack_arg];
	}
	return j->v = APPLY;
}
