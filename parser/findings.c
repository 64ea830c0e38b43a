/*
 * findings.c - what the validator reports about the program rather than
 * the trace: misuses POSIX leaves undefined that glibc lets a program
 * make (a default mutex unlocked by a thread that does not hold it, a
 * lock destroyed or initialised while held, a thread that locks again a
 * default mutex it holds and waits for ever...).  A trace that records
 * them faithfully is consistent.  check.c meets them while it orders the
 * events and calls the functions here, which decide whether what it met
 * is a finding, say where both sides were (file offsets, stacks), keep
 * the finding in the result (check.h), and name and word it.
 */
#include "check_state.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

const char *weft_finding_name(enum weft_finding_kind kind)
{
	switch (kind) {
	case WEFT_FINDING_UNLOCK_FOREIGN: return "unlock-foreign";
	case WEFT_FINDING_UNLOCK_UNHELD: return "unlock-unheld";
	case WEFT_FINDING_RELOCK: return "relock-deadlock";
	case WEFT_FINDING_DESTROY_HELD: return "destroy-held";
	case WEFT_FINDING_DESTROY_WAITED: return "destroy-waited";
	case WEFT_FINDING_INIT_HELD: return "init-held";
	case WEFT_FINDING_WAIT_UNHELD: return "wait-unheld";
	}
	return "?";
}

/* The kind of object an event is about, from its name's prefix in the
 * event table (MUTEX_, SPIN_, RWLOCK_, COND_, SEM_, BARRIER_). */
static const char *object_noun(uint8_t code)
{
	static const struct { const char *prefix, *noun; } nouns[] = {
		{ "MUTEX_", "mutex" }, { "SPIN_", "spin lock" },
		{ "RWLOCK_", "rwlock" }, { "COND_", "mutex" },
		{ "SEM_", "semaphore" }, { "BARRIER_", "barrier" },
	};
	const char *name = weft_events[code].name;
	for (size_t i = 0; name && i < sizeof nouns / sizeof nouns[0]; i++)
		if (!strncmp(name, nouns[i].prefix, strlen(nouns[i].prefix)))
			return nouns[i].noun;
	return "object";
}

/* COND_INIT and COND_DESTROY are about the condvar; the waits are about
 * their mutex. */
static const char *finding_noun(const struct weft_finding *f)
{
	if (f->code == WEFT_EV_COND_INIT || f->code == WEFT_EV_COND_DESTROY)
		return "condvar";
	return object_noun(f->code);
}

void weft_finding_describe(char *buf, size_t cap, const struct weft_finding *f)
{
	const char *noun = finding_noun(f);
	char other[32] = "nobody";
	if (f->other)
		snprintf(other, sizeof other, "T%u", f->other);
	switch (f->kind) {
	case WEFT_FINDING_UNLOCK_FOREIGN:
		snprintf(buf, cap, "T%u unlocks %s 0x%" PRIx64 ", which %s holds",
			 f->thread, noun, f->object, other);
		break;
	case WEFT_FINDING_UNLOCK_UNHELD:
		snprintf(buf, cap, "T%u unlocks %s 0x%" PRIx64 ", which nobody holds",
			 f->thread, noun, f->object);
		break;
	case WEFT_FINDING_RELOCK:
		snprintf(buf, cap, "T%u locks %s 0x%" PRIx64 " again while it holds "
			 "it, and waits for ever", f->thread, noun, f->object);
		break;
	case WEFT_FINDING_DESTROY_HELD:
		snprintf(buf, cap, "T%u destroys %s 0x%" PRIx64 ", which %s holds",
			 f->thread, noun, f->object, other);
		break;
	case WEFT_FINDING_DESTROY_WAITED:
		snprintf(buf, cap, "T%u destroys %s 0x%" PRIx64 ", which %s waits on",
			 f->thread, noun, f->object, other);
		break;
	case WEFT_FINDING_INIT_HELD:
		snprintf(buf, cap, "T%u initialises %s 0x%" PRIx64 ", which %s holds",
			 f->thread, noun, f->object, other);
		break;
	case WEFT_FINDING_WAIT_UNHELD:
		snprintf(buf, cap, "T%u waits on a condvar with mutex 0x%" PRIx64
			 ", which %s holds, not T%u", f->thread, f->object, other,
			 f->thread);
		break;
	default:
		snprintf(buf, cap, "finding %d about 0x%" PRIx64, (int)f->kind, f->object);
	}
}

/* ---- finding them (called by check.c) ---- */

/* A finding about t's pending event. */
static struct weft_finding finding_at(struct checker *c, enum weft_finding_kind kind,
				      const struct thread *t, uint64_t object)
{
	const char *kinds = weft_events[t->peek.code].kinds;
	const char *k = kinds ? strchr(kinds, 'k') : NULL;
	return (struct weft_finding){
		.kind = kind, .code = t->peek.code, .generation = c->gen,
		.thread = t->serial, .object = object, .offset = t->peek_offset,
		.stack = k ? t->peek.args[k - kinds] : 0,
	};
}

/* The other side of a finding: o's holder, where it took o. */
static void against_holder(struct weft_finding *f, const struct object *o,
			   uint32_t holder)
{
	f->other = holder;
	if (holder && o->hold_gen) {
		f->other_generation = o->hold_gen;
		f->other_offset = o->hold_offset;
		f->other_stack = o->hold_stack;
	}
}

/* The other side of a finding: thread w, where it began to wait. */
static void against_waiter(struct weft_finding *f, const struct thread *w)
{
	f->other = w->serial;
	f->other_generation = w->site_gen;
	f->other_offset = w->site_offset;
	f->other_stack = w->site_stack;
}

static void add_finding(struct checker *c, const struct weft_finding *f)
{
	if (c->res->nfindings < WEFT_MAX_FINDINGS)
		c->res->findings[c->res->nfindings++] = *f;
	c->res->findings_total++;
}

/* The holder of a lock: its one writer or holder, 0 when none. */
static uint32_t holder_of(const struct object *o)
{
	return o->known ? (o->holder ? o->holder : o->writer) : 0;
}

static int alive(struct checker *c, uint32_t serial)
{
	struct thread *t = serial < c->nthreads_cap ? c->threads[serial] : NULL;
	return t && !t->exited;
}

/* A thread of this generation other than t blocked on the object at
 * addr, or NULL. */
static struct thread *waiter_on(struct checker *c, const struct thread *t,
				uint64_t addr)
{
	for (uint32_t i = 0; i < c->nactive; i++) {
		struct thread *w = c->active[i];
		const struct state *s = top(w);
		if (w != t && !w->exited && w->depth && s->object == addr &&
		    s->state >= WEFT_STATE_BLOCKED_MUTEX &&
		    s->state <= WEFT_STATE_BLOCKED_SEM)
			return w;
	}
	return NULL;
}

void finding_unlock(struct checker *c, const struct thread *t,
		    const struct object *o, uint32_t holder)
{
	struct weft_finding f = finding_at(c, holder ? WEFT_FINDING_UNLOCK_FOREIGN
					   : WEFT_FINDING_UNLOCK_UNHELD, t, o->addr);
	against_holder(&f, o, holder);
	add_finding(c, &f);
}

/* Initialising a lock a live thread holds is a finding; one whose holder
 * exited went with it (a stack or heap object whose owner left it
 * locked).  Destroying a held lock, or an object a thread waits on, is a
 * finding, whether or not the call refused (EBUSY). */
void finding_lifetime(struct checker *c, const struct thread *t,
		      const struct object *o, int init)
{
	if (c->relaxed)
		return;
	uint32_t holder = holder_of(o);
	struct thread *w = init ? NULL : waiter_on(c, t, o->addr);
	struct weft_finding f;
	if (holder && (!init || alive(c, holder))) {
		f = finding_at(c, init ? WEFT_FINDING_INIT_HELD
			       : WEFT_FINDING_DESTROY_HELD, t, o->addr);
		against_holder(&f, o, holder);
	} else if (w) {
		f = finding_at(c, WEFT_FINDING_DESTROY_WAITED, t, o->addr);
		against_waiter(&f, w);
	} else {
		return;
	}
	add_finding(c, &f);
}

void finding_wait_unheld(struct checker *c, const struct thread *t,
			 const struct object *m, uint32_t prior_holder)
{
	struct weft_finding f = finding_at(c, WEFT_FINDING_WAIT_UNHELD, t, m->addr);
	against_holder(&f, m, prior_holder);
	add_finding(c, &f);
}

/* A thread that blocked on a default mutex it held (check.c notes it as
 * relock_object) and is still blocked when the session ends (tracing
 * stopped, or the trace ended) waits for ever as far as the trace shows. */
void findings_report_relocks(struct checker *c)
{
	for (uint32_t i = 0; i < c->nall; i++) {
		struct thread *t = c->all[i];
		if (!t->relock_object || t->exited)
			continue;
		struct weft_finding f = {
			.kind = WEFT_FINDING_RELOCK, .code = WEFT_EV_MUTEX_BLOCK,
			.generation = t->relock_gen, .thread = t->serial,
			.object = t->relock_object, .offset = t->relock_offset,
			.stack = t->relock_stack,
		};
		struct object *o = object_get(c, t->relock_object);
		if (o->holder == t->serial)
			against_holder(&f, o, t->serial);
		add_finding(c, &f);
		t->relock_object = 0;
	}
}

