/*
 * state.h - what a thread is doing, as its record keeps it for STATUS: a
 * stack of states (running at level 0, each wait one level above the one
 * it interrupted), changed only by the thread inside its event sections
 * and read by the advancer between two reads of its seqlock.
 */
#ifndef WEFT_STATE_H
#define WEFT_STATE_H

#include "weft.h"

/* A thread's states are read by the advancer between two seqlock reads:
 * every field is stored and loaded as a relaxed atomic (the seqlock gives
 * the ordering).  Storing a state at its level makes it the innermost. */
static inline void weft_state_store(struct weft_thread *t, struct weft_state v)
{
	if (v.level < WEFT_STATE_LEVELS) {
		struct weft_state *s = &t->states[v.level];
		__atomic_store_n(&s->state, v.state, __ATOMIC_RELAXED);
		__atomic_store_n(&s->syscall, v.syscall, __ATOMIC_RELAXED);
		__atomic_store_n(&s->object, v.object, __ATOMIC_RELAXED);
		__atomic_store_n(&s->since, v.since, __ATOMIC_RELAXED);
		__atomic_store_n(&s->level, v.level, __ATOMIC_RELAXED);
	}
	__atomic_store_n(&t->levels, (uint8_t)(v.level + 1), __ATOMIC_RELAXED);
}

static inline struct weft_state weft_state_load(struct weft_thread *t, unsigned level)
{
	const struct weft_state *s = &t->states[level];
	return (struct weft_state){
		__atomic_load_n(&s->state, __ATOMIC_RELAXED),
		__atomic_load_n(&s->syscall, __ATOMIC_RELAXED),
		__atomic_load_n(&s->object, __ATOMIC_RELAXED),
		__atomic_load_n(&s->since, __ATOMIC_RELAXED), (uint8_t)level };
}

/* The innermost state (only its level is known when it is deeper than
 * the record keeps). */
static inline struct weft_state weft_state_top(struct weft_thread *t)
{
	unsigned level = __atomic_load_n(&t->levels, __ATOMIC_RELAXED) - 1u;
	if (level >= WEFT_STATE_LEVELS)
		return (struct weft_state){ .level = (uint8_t)level };
	return weft_state_load(t, level);
}

/* The thread is running (or has exited) with no wait open. */
static inline void weft_state_reset(struct weft_thread *t, uint8_t state, uint64_t since)
{
	weft_state_store(t, (struct weft_state){ state, 0, 0, since, 0 });
}

/* The states a STATUS reports, outermost first: the waits above level 0,
 * or level 0 alone when there are none.  Returns how many, or 0 when the
 * waits nest deeper than the record keeps (the state is not known). */
static inline unsigned weft_state_snapshot(struct weft_thread *t,
					   struct weft_state out[WEFT_STATE_LEVELS])
{
	unsigned levels = __atomic_load_n(&t->levels, __ATOMIC_RELAXED);
	if (levels > WEFT_STATE_LEVELS)
		return 0;
	unsigned first = levels > 1;
	for (unsigned i = first; i < levels; i++)
		out[i - first] = weft_state_load(t, i);
	return levels - first;
}

/* Enters a blocking state (inside a section), one level above the
 * current one; returns the state it covers, which weft_state_leave()
 * makes current again: a signal handler's waits nest inside the wait
 * they interrupted. */
static inline struct weft_state weft_state_enter(struct weft_thread *t,
						 uint8_t state, uint8_t syscall,
						 uint64_t object, uint64_t ts)
{
	struct weft_state prev = weft_state_top(t);
	weft_state_store(t, (struct weft_state){ state, syscall, object, ts,
						 (uint8_t)(prev.level + 1) });
	return prev;
}

static inline void weft_state_leave(struct weft_thread *t, struct weft_state prev)
{
	weft_state_store(t, prev);
}

#endif
