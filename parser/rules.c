/*
 * rules.c - what each event means for the state of its thread and its
 * objects: whether it can apply now (judge), and what applying it changes.
 * A thread's states nest (a signal handler may wait inside a wait); an
 * object is a lock with holders, a semaphore with a value, a barrier with
 * rounds, each with a sequence of numbered events.  What the program did
 * that POSIX leaves undefined is handed to findings.c.  In a generation
 * recorded in contention mode (format/SPEC.md, 7.7) the holders of locks
 * are never known: their rules check nothing about holding.
 */
#include "rules.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "event_args.h"

/* Argument NAME of the pending event, an EVENT (or an event whose
 * arguments are laid out like EVENT's: see the assertions by each rule). */
#define ARG(x, EVENT, NAME) ((x)->a[WEFT_ARG_##EVENT##_##NAME])
#define SAME_ARG(EVENT, LIKE, NAME) \
	_Static_assert(WEFT_ARG_##EVENT##_##NAME == WEFT_ARG_##LIKE##_##NAME, \
		       #EVENT "'s " #NAME " is where " #LIKE "'s is")

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

/* Pushes state s on t's stack; returns it, or NULL when the stack is
 * full (t's state is then unknown). */
static struct state *push_state(struct thread *t, const struct state *s)
{
	if (t->depth == STATE_DEPTH) {
		t->unknown = 1;
		return NULL;
	}
	t->stack[t->depth] = *s;
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


static void pop_state(struct thread *t)
{
	if (t->depth)
		t->depth--;
}

/* ---- status groups: the state a thread was in when its generation began ---- */

SAME_ARG(STATUS_NESTED, STATUS, STATE);
SAME_ARG(STATUS_NESTED, STATUS, SYSCALL);
SAME_ARG(STATUS_NESTED, STATUS, OBJECT);

/* The state a STATUS or STATUS_NESTED record with arguments a states.  A
 * condition wait stated so began in an earlier generation: how it found
 * its mutex is not known. */
static struct state stated(const uint64_t *a)
{
	return (struct state){ (uint8_t)a[WEFT_ARG_STATUS_STATE],
			       (uint8_t)a[WEFT_ARG_STATUS_SYSCALL],
			       a[WEFT_ARG_STATUS_OBJECT], HOLDER_UNKNOWN, 0, 0 };
}

/* A STATUS or STATUS_NESTED record (arguments a) states s (a syscall's
 * object is not compared). */
static int same_state(const struct state *s, const uint64_t *a)
{
	return s->state == a[WEFT_ARG_STATUS_STATE] &&
	       s->syscall == a[WEFT_ARG_STATUS_SYSCALL] &&
	       (s->state == WEFT_STATE_SYSCALL || s->object == a[WEFT_ARG_STATUS_OBJECT]);
}

/* One more level of the thread's status group (format/SPEC.md, 7.4). */
static enum verdict status_nested(struct checker *c, struct thread *t,
				  struct judgement *j, int apply)
{
	const uint64_t *a = t->peek.args;
	uint64_t state = a[WEFT_ARG_STATUS_NESTED_STATE];
	unsigned level = t->status_levels;
	if (!level || !t->depth)
		return say(j, BAD, "STATUS_NESTED that does not follow the thread's "
			   "STATUS of a wait");
	if (!weft_state_name(state) || state == WEFT_STATE_RUNNING ||
	    state == WEFT_STATE_EXITED)
		return say(j, BAD, "STATUS_NESTED with state %s", state_name((uint8_t)state));
	if (t->carried_known && (level >= t->carried_depth ||
				 !same_state(&t->carried[level], a)))
		return say(j, BAD, "STATUS_NESTED says %s at level %u but the thread "
			   "ended generation %u %s there", state_name((uint8_t)state),
			   level + 1, c->gen - 1,
			   level < t->carried_depth ?
				   state_name(t->carried[level].state) : "with no such level");
	if (apply) {
		struct state nested = stated(a);
		push_state(t, &nested);
		t->status_levels++;
		j->change.began = nested.state;
		j->change.about = state == WEFT_STATE_SYSCALL ? nested.syscall : nested.object;
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

/* The thread's STATUS, its first record of the generation. */
static enum verdict status(struct checker *c, struct thread *t,
			   struct judgement *j, int apply)
{
	const uint64_t *a = t->peek.args;
	uint64_t state = a[WEFT_ARG_STATUS_STATE];
	/* (When events were lost, a dropped event may have changed the
	 * state the STATUS reports.) */
	int carried = t->last_gen + 1 == c->gen && t->last_gen &&
		      !t->unknown && !c->relaxed;
	const struct state *s = t->depth ? &t->stack[0] : top(t);
	if (carried && !same_state(s, a))
		return say(j, BAD, "STATUS says %s but the thread ended "
			   "generation %u %s", state_name((uint8_t)state),
			   t->last_gen, state_name(s->state));
	if (!weft_state_name(state))
		return say(j, BAD, "STATUS with unknown state %" PRIu64, state);
	if (apply) {
		struct state first = stated(a);
		t->carried_known = (uint8_t)carried;
		t->carried_depth = t->depth;
		memcpy(t->carried, t->stack, sizeof t->stack);
		t->status_levels = 1;
		t->depth = 0;
		t->unknown = 0;
		if (state == WEFT_STATE_EXITED) {
			t->exited = 1;
		} else if (state != WEFT_STATE_RUNNING) {
			push_state(t, &first);
			j->change.began = first.state;
			j->change.about = state == WEFT_STATE_SYSCALL ? first.syscall : first.object;
		}
		t->started = 1;
		t->saw_first = 1;
	}
	return j->v = APPLY;
}

/* What a thread's records must begin with, and what may follow its
 * THREAD_EXIT: decides j->v and returns 1 for the status records, an
 * exited thread's records, a first record, and anything out of place
 * among them; returns 0 when the pending event is left to its rule. */
static int status_prelude(struct checker *c, struct thread *t,
			  struct judgement *j, int apply)
{
	uint8_t code = t->peek.code;
	if (t->exited) {
		/* An exited thread nobody has joined yet is reported in later
		 * generations by a STATUS that says so, and nothing else. */
		if (!t->saw_first && code == WEFT_EV_STATUS &&
		    t->peek.args[WEFT_ARG_STATUS_STATE] == WEFT_STATE_EXITED) {
			if (apply)
				t->saw_first = 1;
			j->v = APPLY;
			return 1;
		}
		say(j, BAD, "event after the thread's THREAD_EXIT");
		return 1;
	}
	if (code == WEFT_EV_STATUS_NESTED) {
		status_nested(c, t, j, apply);
		return 1;
	}
	if (t->status_levels && status_group_end(c, t, j, apply) != APPLY)
		return 1;
	if (t->saw_first) {
		if (code != WEFT_EV_STATUS)
			return 0;
		say(j, BAD, "STATUS after the thread's first record");
		return 1;
	}
	if (code == WEFT_EV_STATUS) {
		status(c, t, j, apply);
		return 1;
	}
	if (code == WEFT_EV_LOST) {
		if (apply) {
			t->unknown = 1;
			t->saw_first = 1;
			t->started = 1;
		}
		j->v = APPLY;
		return 1;
	}
	if (code == WEFT_EV_THREAD_START)
		return 0;
	say(j, BAD, "the thread's first record in generation %u is not STATUS "
	    "or THREAD_START", c->gen);
	return 1;
}

/* ---- the rules of each event family ---- */

/* The pending event being judged, and what its rule works with. */
struct pending {
	struct checker *c;
	struct thread *t;
	struct judgement *j;
	const uint64_t *a;                 /* its arguments */
	const struct weft_event_desc *d;
	const struct weft_event_effect *fx;
	int apply;                         /* apply it, not only judge it */
	struct object *o;                  /* the object it names, once looked up */
	struct object *m;                  /* a condition wait's mutex, likewise */
	struct state begins;               /* the state it begins (effects.def),
					      to which its rule may add */
	uint8_t unseen;                    /* its lock's holders are not
					      recorded (contention mode) */
};

typedef enum verdict (*rule_fn)(struct pending *x);

static enum verdict applies(struct pending *x)
{
	return x->j->v = APPLY;
}

/* The thread's hold on lock o changed (applied events only). */
static void hold_changed(struct pending *x, enum weft_hold_change hold,
			 const struct object *o, uint8_t mode, uint32_t depth,
			 uint64_t flags)
{
	x->j->change.hold = hold;
	x->j->change.unheld = x->unseen;
	x->j->change.object = o->addr;
	x->j->change.mode = mode;
	x->j->change.depth = depth;
	x->j->change.flags = (uint8_t)flags;
}

/* The object at addr, which the pending event names. */
static struct object *named(struct pending *x, uint64_t addr)
{
	if (!x->o)
		x->o = object_get(x->c, addr);
	return x->o;
}

/* In a generation recorded in contention mode, lock o's holders are not
 * recorded: nothing is known of them before or after the pending event. */
static struct object *unseen_holders(struct pending *x, struct object *o)
{
	if (x->c->light) {
		forget_state(o);
		x->unseen = 1;
	}
	return o;
}

/* The lock at addr, which the pending event names. */
static struct object *lock_named(struct pending *x, uint64_t addr)
{
	return unseen_holders(x, named(x, addr));
}

/* A condition wait's mutex (the object its sequence number is on). */
static struct object *wait_mutex(struct pending *x)
{
	if (!x->m)
		x->m = unseen_holders(x, x->o ? x->o :
				  object_get(x->c, ARG(x, COND_WAIT_BEGIN, MUTEX)));
	return x->m;
}

SAME_ARG(COND_WAIT_END, COND_WAIT_BEGIN, MUTEX);

static enum verdict lost(struct pending *x)
{
	if (x->apply)
		x->t->unknown = 1;
	return applies(x);
}

/* -- thread lifecycle -- */

static enum verdict thread_start(struct pending *x)
{
	struct thread *t = x->t;
	uint64_t parent = ARG(x, THREAD_START, PARENT);
	if (t->started)
		return say(x->j, BAD, "THREAD_START of a thread already started");
	if (parent) {
		thread_get(x->c, (uint32_t)parent);  /* a thread of the trace */
		if (!t->created && !lenient(x->c))
			return wait_for(x->j, thread_key(t->serial), "waits for T%"
					PRIu64 "'s THREAD_CREATE", parent);
	}
	if (x->apply) {
		t->started = 1;
		t->saw_first = 1;
		t->depth = 0;
	}
	return applies(x);
}

static enum verdict thread_create(struct pending *x)
{
	uint64_t child = ARG(x, THREAD_CREATE, CHILD);
	if (ARG(x, THREAD_CREATE, RESULT) == 0) {
		struct thread *other = thread_get(x->c, (uint32_t)child);
		if (!other)
			return say(x->j, BAD, "THREAD_CREATE of serial %" PRIu64
				   " beyond this reader's limit", child);
		if (other->created || other->started)
			return say(x->j, BAD, "THREAD_CREATE of T%" PRIu64
				   ", which already exists", child);
		if (x->apply)
			other->created = 1;
	}
	return applies(x);
}

static enum verdict thread_exit(struct pending *x)
{
	if (x->apply) {
		x->t->exited = 1;
		x->t->depth = 0;
	}
	return applies(x);
}

/* The target must have exited first, if this session saw it at all: a
 * thread that ended while tracing was off, and was joined before the
 * advancer could report it, left nothing; one that lost events may have
 * lost its THREAD_EXIT. */
static enum verdict join_end(struct pending *x)
{
	uint64_t target = ARG(x, JOIN_END, THREAD);
	if (ARG(x, JOIN_END, RESULT) == 0 && target) {
		struct thread *other = thread_get(x->c, (uint32_t)target);
		if (other && !other->exited && other->in_session && !other->unknown &&
		    !lenient(x->c))
			return wait_for(x->j, thread_key(other->serial), "joins T%"
					PRIu64 ", which has not exited", target);
	}
	return applies(x);
}

/* -- mutexes and spin locks: one holder, maybe recursively -- */

/* Blocking on a mutex it holds: a default mutex deadlocks (unless another
 * thread unlocks it); an error-checking one fails at once (EDEADLK). */
static enum verdict mutex_block(struct pending *x)
{
	struct thread *t = x->t;
	if (!x->apply)
		return applies(x);
	struct object *o = lock_named(x, ARG(x, MUTEX_BLOCK, MUTEX));
	if (o->known && o->holder == t->serial && !x->c->relaxed) {
		t->relock_object = o->addr;
		t->relock_offset = t->peek_offset;
		t->relock_gen = x->c->gen;
		t->relock_stack = ARG(x, MUTEX_BLOCK, STACK);
	}
	return applies(x);
}

static enum verdict exclusive_acquire(struct pending *x, uint64_t addr, uint64_t flags)
{
	struct thread *t = x->t;
	struct object *o = lock_named(x, addr);
	/* (With OWNERDEAD, the holder died holding it: a robust mutex
	 * passes to the next thread.) */
	if (o->known && o->holder && o->holder != t->serial &&
	    !(flags & WEFT_FLAG_OWNERDEAD) && !lenient(x->c))
		return wait_for(x->j, object_key(o->addr), "0x%" PRIx64 " is held "
				"by T%u", o->addr, o->holder);
	if (x->apply) {
		o->depth = o->holder == t->serial ? o->depth + 1 : 1;
		if (o->depth == 1)
			note_hold(x->c, o, t, (flags & WEFT_FLAG_CONTENDED) != 0);
		o->holder = t->serial;
		o->known = 1;
		if (t->relock_object == o->addr)
			t->relock_object = 0;
		hold_changed(x, WEFT_HOLD_ACQUIRED, o, 0, o->depth, flags);
	}
	return applies(x);
}

static enum verdict exclusive_unlock(struct pending *x, uint64_t addr, uint64_t seq,
				     uint64_t result)
{
	struct thread *t = x->t;
	struct object *o = lock_named(x, addr);
	if (result == 0 && o->known && o->holder != t->serial) {
		/* Unsequenced: the holder's own unlock may come first. */
		if (seq == 0 && !lenient(x->c))
			return wait_for(x->j, object_key(o->addr), "0x%" PRIx64 " is "
					"held by T%u, not this thread", o->addr, o->holder);
		/* Sequenced, it is next: the program unlocked a lock it does
		 * not hold (glibc lets it, for a default mutex or a spin
		 * lock), or, in a generation that lost events, the
		 * acquisition was lost. */
		if (seq && !x->c->relaxed && x->apply)
			finding_unlock(x->c, t, o, o->holder);
	}
	if (x->apply && result == 0) {
		if (o->depth > 1 && o->holder == t->serial)
			o->depth--;
		else
			o->holder = o->depth = 0;
		o->known = 1;
		hold_changed(x, WEFT_HOLD_RELEASED, o, 0,
			     o->holder == t->serial ? o->depth : 0, 0);
	}
	return applies(x);
}

static enum verdict mutex_acquire(struct pending *x)
{
	return exclusive_acquire(x, ARG(x, MUTEX_ACQUIRE, MUTEX),
				 ARG(x, MUTEX_ACQUIRE, FLAGS));
}

static enum verdict mutex_unlock(struct pending *x)
{
	return exclusive_unlock(x, ARG(x, MUTEX_UNLOCK, MUTEX), ARG(x, MUTEX_UNLOCK, SEQ),
				ARG(x, MUTEX_UNLOCK, RESULT));
}

static enum verdict mutex_fail(struct pending *x)
{
	if (x->apply && x->t->relock_object == ARG(x, MUTEX_FAIL, MUTEX))
		x->t->relock_object = 0;
	return applies(x);
}

static enum verdict spin_acquire(struct pending *x)
{
	return exclusive_acquire(x, ARG(x, SPIN_ACQUIRE, SPIN), ARG(x, SPIN_ACQUIRE, FLAGS));
}

static enum verdict spin_unlock(struct pending *x)
{
	return exclusive_unlock(x, ARG(x, SPIN_UNLOCK, SPIN), ARG(x, SPIN_UNLOCK, SEQ),
				ARG(x, SPIN_UNLOCK, RESULT));
}

/* -- reader-writer locks: one writer, or readers -- */

static enum verdict rwlock_acquire(struct pending *x)
{
	struct thread *t = x->t;
	uint64_t mode = ARG(x, RWLOCK_ACQUIRE, MODE);
	if (mode != WEFT_RW_READ && mode != WEFT_RW_WRITE)
		return say(x->j, BAD, "rwlock mode %" PRIu64 " is neither read nor write", mode);
	struct object *o = lock_named(x, ARG(x, RWLOCK_ACQUIRE, RWLOCK));
	if (o->known && !lenient(x->c)) {
		if (o->writer)
			return wait_for(x->j, object_key(o->addr), "0x%" PRIx64 " is "
					"held for writing by T%u", o->addr, o->writer);
		if (mode == WEFT_RW_WRITE && o->readers)
			return wait_for(x->j, object_key(o->addr), "0x%" PRIx64 " is "
					"held by %u reader(s)", o->addr, o->readers);
	}
	if (x->apply) {
		if (!o->known)
			o->early_readers = 1;
		if (mode == WEFT_RW_WRITE) {
			o->writer = t->serial;
			o->early_readers = 0;
			note_hold(x->c, o, t,
				  (ARG(x, RWLOCK_ACQUIRE, FLAGS) & WEFT_FLAG_CONTENDED) != 0);
		} else {
			o->readers++;
		}
		o->known = 1;
		hold_changed(x, WEFT_HOLD_ACQUIRED, o, (uint8_t)mode, 1,
			     ARG(x, RWLOCK_ACQUIRE, FLAGS));
	}
	return applies(x);
}

static enum verdict rwlock_unlock(struct pending *x)
{
	struct thread *t = x->t;
	struct object *o = lock_named(x, ARG(x, RWLOCK_UNLOCK, RWLOCK));
	if (!x->apply || ARG(x, RWLOCK_UNLOCK, RESULT) != 0)
		return applies(x);
	hold_changed(x, WEFT_HOLD_RELEASED, o,
		     o->writer == t->serial ? WEFT_RW_WRITE : WEFT_RW_READ, 0, 0);
	if (o->known && o->writer != t->serial && !o->readers && !o->early_readers &&
	    !x->c->relaxed) {
		/* Not held: what glibc made of it is unknown. */
		finding_unlock(x->c, t, o, o->writer);
		o->known = 0;
		o->writer = 0;
		return applies(x);
	}
	if (!o->known)
		o->early_readers = 1;
	if (o->writer == t->serial)
		o->writer = 0;
	else if (o->readers)
		o->readers--;
	o->known = 1;
	return applies(x);
}

/* -- condition variables: a wait gives its mutex up and takes it back -- */

/* A wait gives its mutex up (glibc unlocks a default mutex even when
 * another thread holds it); how the mutex was is kept in the wait's state
 * for its end. */
static enum verdict cond_wait_begin(struct pending *x)
{
	if (!x->apply)
		return applies(x);
	struct object *m = wait_mutex(x);
	uint32_t prior = m->known ? m->holder : HOLDER_UNKNOWN;
	x->begins.prior_holder = x->c->relaxed ? HOLDER_UNKNOWN : prior;
	x->begins.prior_depth = m->depth;
	x->begins.begin_seq = ARG(x, COND_WAIT_BEGIN, SEQ);
	m->holder = m->depth = 0;
	m->known = 1;
	hold_changed(x, WEFT_HOLD_RELEASED, m, 0, 0, 0);
	return applies(x);
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

/* The end of the thread's condition wait on mutex m, whose number is the
 * one after the wait's begin when nothing came between. */
static void end_cond_wait(struct pending *x, struct object *m)
{
	struct thread *t = x->t;
	const struct state *w = top(t);
	int ours = t->depth && w->state == WEFT_STATE_BLOCKED_COND &&
		   w->object == ARG(x, COND_WAIT_END, COND);
	uint64_t result = ARG(x, COND_WAIT_END, RESULT);
	/* A wait without holding its mutex: EPERM from an error-checking
	 * mutex is the defined outcome; anything else is the program's
	 * misuse. */
	if (ours && result != EPERM && w->prior_holder != HOLDER_UNKNOWN &&
	    w->prior_holder != t->serial && !x->c->relaxed)
		finding_wait_unheld(x->c, t, m, w->prior_holder);
	int again = holds_mutex_again(result);
	if (again) {
		/* (Unsequenced, it says nothing about the mutex.) */
		if (ARG(x, COND_WAIT_END, SEQ)) {
			m->holder = t->serial;
			m->depth = 1;
			m->known = 1;
			note_hold(x->c, m, t, 0);
		}
	} else if (ours && result != ENOTRECOVERABLE && w->begin_seq &&
		   m->last_seq == w->begin_seq) {
		m->known = w->prior_holder != HOLDER_UNKNOWN;
		m->holder = m->known ? w->prior_holder : 0;
		m->depth = m->known ? w->prior_depth : 0;
	}
	/* (The thread holds it again on the event's word alone when the
	 * wait is unsequenced.) */
	int holds = m->known && m->holder == t->serial;
	if (again || holds)
		hold_changed(x, WEFT_HOLD_ACQUIRED, m, 0, holds ? m->depth : 1, 0);
	x->j->change.restored = !again && holds;
}

static enum verdict cond_wait_end(struct pending *x)
{
	if (holds_mutex_again(ARG(x, COND_WAIT_END, RESULT)) && ARG(x, COND_WAIT_END, SEQ)) {
		struct object *m = wait_mutex(x);
		if (m->known && m->holder && m->holder != x->t->serial && !lenient(x->c))
			return wait_for(x->j, object_key(m->addr), "mutex 0x%" PRIx64
					" is held by T%u", m->addr, m->holder);
	}
	if (x->apply)
		end_cond_wait(x, wait_mutex(x));
	return applies(x);
}

/* -- barriers: rounds of a known number of threads -- */

static enum verdict barrier_init(struct pending *x)
{
	if (x->apply && ARG(x, BARRIER_INIT, RESULT) == 0) {
		struct object *o = named(x, ARG(x, BARRIER_INIT, BARRIER));
		o->barrier_count = (uint32_t)ARG(x, BARRIER_INIT, COUNT);
		o->arrivals = o->departures = 0;
	}
	return applies(x);
}

static enum verdict barrier_begin(struct pending *x)
{
	if (x->apply)
		named(x, ARG(x, BARRIER_BEGIN, BARRIER))->arrivals++;
	return applies(x);
}

/* Threads leave in rounds of barrier_count, each once its round is
 * complete: with this departure, at least ceil(departures / count) rounds
 * are, so as many times count threads have arrived.  (Which round a
 * thread belongs to is not known: an arrival is numbered before the real
 * call, and arrivals made in another order than their numbers form other
 * rounds than the numbers would say.) */
static enum verdict barrier_end(struct pending *x)
{
	struct object *o = named(x, ARG(x, BARRIER_END, BARRIER));
	if (o->barrier_count && !x->t->unknown && !lenient(x->c)) {
		uint64_t rounds = (o->departures + o->barrier_count) / o->barrier_count;
		if (o->arrivals < rounds * o->barrier_count)
			return wait_for(x->j, object_key(o->addr), "barrier 0x%" PRIx64
					" has had %" PRIu64 " arrivals: a departure "
					"needs %" PRIu64 " (%" PRIu64 " rounds of %u)",
					o->addr, o->arrivals, rounds * o->barrier_count,
					rounds, o->barrier_count);
	}
	if (x->apply)
		o->departures++;
	return applies(x);
}

/* -- semaphores: a value, once known from SEM_INIT -- */

/* sem_init fails (EINVAL) above SEM_VALUE_MAX; the bound also keeps the
 * value's arithmetic from overflowing. */
static enum verdict sem_init(struct pending *x)
{
	uint64_t value = ARG(x, SEM_INIT, VALUE);
	if (ARG(x, SEM_INIT, RESULT) != 0)
		return applies(x);
	if (value > SEM_VALUE_MAX)
		return say(x->j, BAD, "sem_init succeeded with value %" PRIu64
			   ", over SEM_VALUE_MAX (%d)", value, SEM_VALUE_MAX);
	if (x->apply) {
		struct object *o = named(x, ARG(x, SEM_INIT, SEM));
		o->sem_known = 1;
		o->sem_value = (int64_t)value;
	}
	return applies(x);
}

/* (An unsequenced post or wait says nothing about the value.) */
static enum verdict sem_post(struct pending *x)
{
	if (x->apply && ARG(x, SEM_POST, RESULT) == 0 && x->o && x->o->sem_known)
		x->o->sem_value++;
	return applies(x);
}

/* A successful wait takes one from the semaphore's value. */
static enum verdict sem_wait_end(struct pending *x)
{
	struct object *o = x->o;
	int took = ARG(x, SEM_WAIT_END, RESULT) == 0 && o && o->sem_known;
	if (took && o->sem_value <= 0 && !lenient(x->c))
		return wait_for(x->j, object_key(o->addr), "semaphore 0x%" PRIx64
				" has value %" PRId64 ": no post to take", o->addr,
				o->sem_value);
	if (x->apply && took)
		o->sem_value--;
	return applies(x);
}

/* -- system calls -- */

static enum verdict syscall_begin(struct pending *x)
{
	uint64_t id = ARG(x, SYSCALL_BEGIN, SYSCALL);
	if (!weft_syscall_name(id))
		return say(x->j, BAD, "unknown syscall id %" PRIu64, id);
	return applies(x);
}

/* -- object lifetimes -- */

SAME_ARG(SPIN_INIT, MUTEX_INIT, RESULT);
SAME_ARG(RWLOCK_INIT, MUTEX_INIT, RESULT);
SAME_ARG(COND_INIT, MUTEX_INIT, RESULT);
SAME_ARG(MUTEX_DESTROY, MUTEX_INIT, RESULT);
SAME_ARG(SPIN_DESTROY, MUTEX_INIT, RESULT);
SAME_ARG(RWLOCK_DESTROY, MUTEX_INIT, RESULT);
SAME_ARG(COND_DESTROY, MUTEX_INIT, RESULT);
SAME_ARG(BARRIER_DESTROY, MUTEX_INIT, RESULT);
SAME_ARG(SEM_DESTROY, MUTEX_INIT, RESULT);

/* The object whose identity a lifetime event begins or ends: the one its
 * number is on. */
static struct object *lifetime_object(struct pending *x)
{
	return named(x, x->a[x->d->seq_object_arg]);
}

/* *_INIT: a new identity, whatever the address held before. */
static enum verdict lifetime_init(struct pending *x)
{
	if (!x->apply)
		return applies(x);
	struct object *o = lifetime_object(x);
	if (ARG(x, MUTEX_INIT, RESULT) == 0) {
		finding_lifetime(x->c, x->t, o, 1);
		begin_identity(o);
	}
	return applies(x);
}

/* *_DESTROY: ends the identity (the next use is a new one, as with a
 * static initializer); a refused destroy (EBUSY) changes nothing. */
static enum verdict lifetime_destroy(struct pending *x)
{
	if (!x->apply)
		return applies(x);
	struct object *o = lifetime_object(x);
	finding_lifetime(x->c, x->t, o, 0);
	if (ARG(x, MUTEX_INIT, RESULT) == 0)
		begin_identity(o);
	return applies(x);
}

/* -- contention mode's counts -- */

static enum verdict lock_counts(struct pending *x)
{
	uint64_t kind = ARG(x, LOCK_COUNTS, KIND);
	if (!x->c->light)
		return say(x->j, BAD, "LOCK_COUNTS in a generation not recorded in "
			   "contention mode");
	if (kind < WEFT_COUNT_MUTEX || kind > WEFT_COUNT_SPIN)
		return say(x->j, BAD, "LOCK_COUNTS of unknown kind %" PRIu64, kind);
	if (ARG(x, LOCK_COUNTS, ACQUISITIONS) == 0)
		return say(x->j, BAD, "LOCK_COUNTS of no acquisitions");
	return applies(x);
}

/* What each event kind means beyond its sequence number and the state it
 * begins or ends (effects.def); events with no rule have no more. */
/* Where the acquisition just before it was made: it names a stack (that
 * the generation defines it is checked with its tables) and follows the
 * thread's record that took a lock, with nothing between.  When that
 * acquisition began a hold, a finding about the hold shows this stack. */
static enum verdict acquire_site(struct pending *x)
{
	struct thread *t = x->t;
	uint64_t stack = ARG(x, ACQUIRE_SITE, STACK);
	if (stack == 0)
		return say(x->j, BAD, "names no stack (stack id 0)");
	if (!t->after_acquisition) {
		if (t->unknown || x->c->relaxed)
			return applies(x);
		return say(x->j, BAD, "does not follow an acquisition of its "
			   "thread");
	}
	if (x->apply) {
		struct object *o = object_get(x->c, t->acquired_lock);
		if (o->hold_gen == x->c->gen && o->hold_offset == t->acquired_offset)
			o->hold_stack = stack;
	}
	return applies(x);
}

static const rule_fn rules[256] = {
	[WEFT_EV_LOST] = lost,
	[WEFT_EV_THREAD_START] = thread_start,
	[WEFT_EV_THREAD_CREATE] = thread_create,
	[WEFT_EV_THREAD_EXIT] = thread_exit,
	[WEFT_EV_JOIN_END] = join_end,
	[WEFT_EV_MUTEX_BLOCK] = mutex_block,
	[WEFT_EV_MUTEX_ACQUIRE] = mutex_acquire,
	[WEFT_EV_MUTEX_UNLOCK] = mutex_unlock,
	[WEFT_EV_MUTEX_FAIL] = mutex_fail,
	[WEFT_EV_SPIN_ACQUIRE] = spin_acquire,
	[WEFT_EV_SPIN_UNLOCK] = spin_unlock,
	[WEFT_EV_RWLOCK_ACQUIRE] = rwlock_acquire,
	[WEFT_EV_RWLOCK_UNLOCK] = rwlock_unlock,
	[WEFT_EV_COND_WAIT_BEGIN] = cond_wait_begin,
	[WEFT_EV_COND_WAIT_END] = cond_wait_end,
	[WEFT_EV_BARRIER_INIT] = barrier_init,
	[WEFT_EV_BARRIER_BEGIN] = barrier_begin,
	[WEFT_EV_BARRIER_END] = barrier_end,
	[WEFT_EV_SEM_INIT] = sem_init,
	[WEFT_EV_SEM_POST] = sem_post,
	[WEFT_EV_SEM_WAIT_END] = sem_wait_end,
	[WEFT_EV_SYSCALL_BEGIN] = syscall_begin,
	[WEFT_EV_MUTEX_INIT] = lifetime_init,
	[WEFT_EV_SPIN_INIT] = lifetime_init,
	[WEFT_EV_RWLOCK_INIT] = lifetime_init,
	[WEFT_EV_COND_INIT] = lifetime_init,
	[WEFT_EV_MUTEX_DESTROY] = lifetime_destroy,
	[WEFT_EV_SPIN_DESTROY] = lifetime_destroy,
	[WEFT_EV_RWLOCK_DESTROY] = lifetime_destroy,
	[WEFT_EV_COND_DESTROY] = lifetime_destroy,
	[WEFT_EV_BARRIER_DESTROY] = lifetime_destroy,
	[WEFT_EV_SEM_DESTROY] = lifetime_destroy,
	[WEFT_EV_LOCK_COUNTS] = lock_counts,
	[WEFT_EV_ACQUIRE_SITE] = acquire_site,
};

/* ---- states begun and ended (effects.def) ---- */

/* Whether an event (d, effect fx, arguments a) ends a state of its
 * thread. */
static int ends_state(const struct weft_event_desc *d,
		      const struct weft_event_effect *fx, const uint64_t *a)
{
	return fx->effect == WEFT_EFFECT_ENDS ||
	       (fx->effect == WEFT_EFFECT_ENDS_IF_CONTENDED &&
		(a[d->flags_arg] & WEFT_FLAG_CONTENDED));
}

/* A state as a thread's stack holds it: a call by its id, anything else
 * by the object or thread it is about. */
static struct state state_about(uint8_t state, uint64_t about)
{
	if (state == WEFT_STATE_SYSCALL)
		return (struct state){ state, (uint8_t)about, 0, 0, 0, 0 };
	return (struct state){ state, 0, about, 0, 0, 0 };
}

/* The event ends the state its thread is in: the innermost one, about the
 * same object or call (unless the thread's state is not known). */
static enum verdict in_ended_state(struct pending *x)
{
	const struct weft_event_effect *fx = x->fx;
	const struct state *s = top(x->t);
	uint64_t about = x->a[fx->arg];
	if (x->t->unknown || x->c->relaxed)
		return applies(x);
	if (s->state == fx->state && (fx->state == WEFT_STATE_SYSCALL ?
				      s->syscall == about : s->object == about))
		return applies(x);
	if (fx->state == WEFT_STATE_SYSCALL)
		return say(x->j, BAD, "%s %s without its %s or a STATUS in it (the "
			   "thread is %s)", x->d->name,
			   weft_syscall_name(about) ? weft_syscall_name(about) : "?",
			   weft_events[fx->begin].name, state_name(s->state));
	return say(x->j, BAD, "no %s before it (the thread is %s)",
		   weft_events[fx->begin].name, state_name(s->state));
}

/* ---- judging ---- */

/* (judge() reads what it needs itself through locals, not through the
 * pending event handed to the rule, which the compiler must keep in
 * memory: it runs twice for every event.) */
enum verdict judge(struct checker *c, struct thread *t, struct judgement *j,
		   int apply)
{
	const struct weft_record *e = &t->peek;
	if (apply)
		j->change = (struct weft_state_change){ .serial = t->serial };
	if (status_prelude(c, t, j, apply)) {
		if (apply)
			t->after_acquisition = 0;
		return j->v;
	}
	const uint64_t *a = e->args;
	const struct weft_event_desc *d = &weft_events[e->code];
	const struct weft_event_effect *fx = &weft_effects[e->code];
	struct object *o = NULL;
	int si = d->seq_arg, oi = d->seq_object_arg;
	if (si >= 0 && a[oi]) {
		o = object_get(c, a[oi]);
		if (seq_ready(c, j, o, a[si]) != APPLY)
			return j->v;
	}
	int ends = ends_state(d, fx, a);
	struct pending x;
	x.c = c;
	x.t = t;
	x.j = j;
	x.a = a;
	x.d = d;
	x.fx = fx;
	x.apply = apply;
	x.o = o;
	x.m = NULL;
	x.unseen = 0;
	if (ends && in_ended_state(&x) != APPLY)
		return j->v;
	/* (x.begins is set only here: zeroing it for every event shows.) */
	if (fx->effect == WEFT_EFFECT_BEGINS)
		x.begins = state_about(fx->state, a[fx->arg]);
	rule_fn rule = rules[e->code];
	if (rule && rule(&x) != APPLY)
		return j->v;
	if (!apply)
		return j->v = APPLY;
	if (ends) {
		pop_state(t);
		j->change.ended = fx->state;
		j->change.about = a[fx->arg];
	} else if (fx->effect == WEFT_EFFECT_BEGINS) {
		push_state(t, &x.begins);
		j->change.began = fx->state;
		j->change.about = a[fx->arg];
	}
	o = x.o;
	if (o && si >= 0 && a[si])
		o->last_seq = a[si];
	if (o && (o->shared || x.unseen))
		forget_state(o);
	if (x.m && (x.m->shared || x.unseen))
		forget_state(x.m);
	t->after_acquisition = j->change.hold == WEFT_HOLD_ACQUIRED &&
			       !j->change.restored;
	if (t->after_acquisition) {
		t->acquired_lock = j->change.object;
		t->acquired_offset = t->peek_offset;
	}
	if (d->stack_arg >= 0) {
		t->site_offset = t->peek_offset;
		t->site_gen = c->gen;
		t->site_stack = a[d->stack_arg];
	}
	return j->v = APPLY;
}
