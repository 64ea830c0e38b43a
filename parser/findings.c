/*
 * findings.c - what the validator reports about the program rather than
 * the trace: misuses POSIX leaves undefined that glibc lets a program
 * make (a default mutex unlocked by a thread that does not hold it, a
 * lock destroyed or initialised while held, a thread that locks again a
 * default mutex it holds and waits for ever...).  A trace that records
 * them faithfully is consistent; check.c finds them while it orders the
 * events and keeps them in the result (check.h), and this file names and
 * words them.
 */
#include "check.h"

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
