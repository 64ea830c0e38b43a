/*
 * rules.h - judging a thread's pending event against the state of its
 * thread and its objects (rules.c), and the keys of what an event that
 * cannot apply yet waits for.  Private to the reader library.
 */
#ifndef WEFT_RULES_H
#define WEFT_RULES_H

#include "check_state.h"

enum verdict { APPLY, WAIT, BAD };

/* In a generation that may lack some of its events, a cause that is not
 * there yet is waited for like any other, as long as some thread can go
 * on; only when none can is it taken as lost (one event at a time).  So
 * the events that are there keep their order. */
#define lenient(c) ((c)->relaxed && (c)->relief)

struct judgement {
	enum verdict v;
	uint64_t key;      /* WAIT: what must change first (wait keys) */
	char why[256];
	struct weft_state_change change;  /* applied: what it changed */
};

/* Wait keys: a waiting event waits for a thread or an object to change,
 * or for an object's sequence to reach the number before its own.  The
 * low two bits tell which; no key is 0 (the map's empty key).  Keys that
 * collide only cost a needless wake. */
static inline uint64_t thread_key(uint32_t serial)
{
	return (uint64_t)serial << 2;
}

static inline uint64_t object_key(uint64_t addr)
{
	return addr << 2 | 1;
}

static inline uint64_t seq_key(uint64_t addr, uint64_t seq)
{
	return (addr ^ seq * 0x9e3779b97f4a7c15ull) << 2 | 2;
}

/* Decides whether t's pending event can apply now, and (apply) applies
 * it. */
enum verdict judge(struct checker *c, struct thread *t, struct judgement *j,
		   int apply);

#endif
