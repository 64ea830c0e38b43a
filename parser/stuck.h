/*
 * stuck.h - what a trace leaves its threads waiting for at its end: sets
 * of threads each blocked on a lock (or a join) held by the next, which
 * can never go on (deadlocks), and threads blocked for most of the last
 * generation on something nobody holds (a condvar never signalled, a
 * semaphore never posted, a barrier never completed, a call that never
 * returns).  It reads the timeline's items: the waits and holds its end
 * cuts short are the state the trace leaves each live thread in.
 * `weft stats` and `weft check` print what it finds; nothing here prints.
 */
#ifndef WEFT_STUCK_H
#define WEFT_STUCK_H

#include <stdint.h>

#include "names.h"
#include "timeline.h"

/* A thread blocked at the end of the trace. */
struct stuck_wait {
	uint32_t serial;
	enum tl_kind kind;         /* TL_MUTEX, TL_COND, TL_SYSCALL, ... */
	uint8_t rw_mode;           /* TL_RWLOCK: 1 read, 2 write */
	uint8_t syscall;           /* TL_SYSCALL: its id */
	uint64_t object;           /* lock, cond, sem, barrier; serial for join */
	int64_t arg;               /* TL_SYSCALL: descriptor or first argument */
	int64_t since_ns;
	struct tl_site site;       /* where it began to wait */
	/* What it waits for: the object's name, "T5" for a join, or the
	 * call ("read fd 3"). */
	char what[WEFT_NAME_MAX];
};

/* A lock a live thread holds at the end of the trace. */
struct stuck_hold {
	uint32_t serial;
	uint64_t lock;
	enum tl_lock_kind kind;
	uint8_t shared;
	int64_t since_ns;
	struct tl_site site;       /* of the acquisition */
};

/* One thread of a deadlock: its wait, and who it waits for (the hold
 * that blocks it, NULL for a join). */
struct stuck_link {
	const struct stuck_wait *wait;
	uint32_t holder;
	const struct stuck_hold *hold;
};

struct stuck_cycle {
	struct stuck_link *links;  /* each waits for the next's thread, the
				      last for the first's */
	uint32_t n;
	/* The other threads whose waits lead into it (each blocked on what
	 * a thread of it, or of this list, holds or is), by serial. */
	const struct stuck_wait **behind;
	uint32_t nbehind;
};

struct stuck_entries;

struct stuck {
	const struct timeline *tl;
	/* After stuck_finish(): */
	struct stuck_cycle *cycles;
	uint32_t ncycles;
	const struct stuck_wait **stuck;   /* by since, longest first */
	uint32_t nstuck;
	int64_t end_ns;            /* where the trace ends them */
	struct stuck_entries *entries;
};

struct stuck *stuck_new(const struct timeline *tl);
/* A tl_fn: give it every item of tl_run(), with the stuck as ctx. */
void stuck_add(void *stuck, const struct tl_item *item);
/* Once tl_run() has returned: finds the deadlocks and the stuck (none
 * in a trace that is damaged or inconsistent: it ends at the problem,
 * not where the process was). */
void stuck_finish(struct stuck *s);
void stuck_free(struct stuck *s);

#endif
