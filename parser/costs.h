/*
 * costs.h - where the time of a trace went, added up from the timeline's
 * items: each lock's acquisitions, contention, waits and holds (mutrace's
 * numbers, from a trace), which thread's holding made others wait
 * longest, the site it was most often waited for at, and the sites its
 * holders took it at, with the time held there; the other
 * objects threads waited on (condvars, semaphores, barriers); system
 * calls by kind and by descriptor with latency percentiles; and time
 * blocked per kind of state.  `weft stats` prints them; nothing here
 * prints.
 */
#ifndef WEFT_COSTS_H
#define WEFT_COSTS_H

#include <stdint.h>

#include "names.h"
#include "timeline.h"

/* Who held a lock while others waited for it, and for how long they
 * waited, summed. */
struct costs_blame {
	uint32_t serial;
	int64_t ns;
};

/* Where an object was waited for (told apart by program counters, not by
 * stack ids, which are per generation). */
struct costs_site {
	uint64_t count;
	struct tl_site site;
};

/* Where holders took a lock: the site of the acquisitions that began its
 * holds (told apart by program counters), and what those holds cost.
 * Known only for traces recorded with stacks. */
struct costs_hold_site {
	struct tl_site site;
	uint64_t pc;               /* its innermost frame */
	uint64_t holds;
	int64_t held_ns;           /* summed; a hold in progress counts up to
				      where the trace (or tracing) ended */
	int64_t caused_wait_ns;    /* other threads' waits for the lock
				      while it was held from here */
	uint64_t in_progress;      /* holds whose release the trace does not
				      hold (still in progress at its end) */
	int64_t in_progress_ns;    /* of held_ns, theirs */
};

/* A lock, or another object threads wait on (cond, sem, barrier). */
struct costs_object {
	uint64_t addr;
	const char *kind;          /* "mutex", "rwlock", "spin", "cond", ... */
	int is_lock;
	uint64_t acquisitions, contended, waits;
	int64_t wait_total, wait_max, hold_total, hold_max;
	int holds_unseen;          /* some of its holds were not recorded
				      (contention mode): hold times unknown */
	const struct costs_blame *worst_blame;   /* NULL when nobody waited */
	const struct costs_site *top_site;       /* NULL without stacks */
	/* Where its holders took it, by the wait they caused, then by time
	 * held (none without stacks). */
	const struct costs_hold_site *const *hold_sites;
	uint32_t nhold_sites;
	char symbol[160];          /* of top_site's frame ("" when none) */
	char name[WEFT_NAME_MAX];  /* weft_object_name()'s */
};

/* One system call, in all or on one descriptor. */
struct costs_syscall {
	int64_t call;              /* syscall id */
	int64_t fd;                /* INT64_MIN: every call of the kind */
	uint64_t calls, errors;
	int64_t total, max;
	uint64_t p50, p99;         /* latency of calls whose end was seen */
};

struct costs_entries;

struct costs {
	const struct timeline *tl;
	const char *thread_filter; /* only this thread's items (serial, "T3",
				      or name); NULL for all */
	/* After costs_finish(): by time waited, longest first. */
	const struct costs_object **objects;
	uint32_t nobjects;
	/* After costs_finish(): by total time blocked, longest first. */
	const struct costs_syscall **syscalls;
	uint32_t nsyscalls;
	int64_t blocked_in_kind[TL_NKINDS];
	struct costs_entries *entries;
};

/* A thread and its time off CPU (alive but not running). */
struct costs_thread {
	const struct tl_thread *t;
	int64_t off_cpu;
	int cpu_known;             /* the trace gives its CPU time (THREAD_CPU) */
	int64_t cpu;               /* its time on a CPU while traced */
	int64_t unseen;            /* running time not on a CPU, when more than
				      COSTS_UNSEEN_MIN_NS and COSTS_UNSEEN_SHARE
				      percent of running: time weft shows as
				      running that went to waits it cannot see
				      (raw futex, io_uring, direct syscall(),
				      page faults, preemption); else 0 */
};

#define COSTS_UNSEEN_MIN_NS 5000000
#define COSTS_UNSEEN_SHARE 20

/* Starts adding up for tl; thread_filter as in struct costs. */
struct costs *costs_new(const struct timeline *tl, const char *thread_filter);
/* A tl_fn: adds one item (give it to tl_run() with the costs as ctx). */
void costs_add(void *costs, const struct tl_item *item);
/* Once tl_run() has returned: sorts, and resolves the sites. */
void costs_finish(struct costs *c);
void costs_free(struct costs *c);

/* Whether thread t passes the thread filter. */
int costs_thread_matches(const struct costs *c, const struct tl_thread *t);
/* Whether o passes a lock filter: a hex address, its name (or the start
 * of its name up to a member, an index, an offset or a word, as
 * weft_object_named()), or a text in the symbol of its most frequent
 * blocking site; NULL passes everything. */
int costs_object_matches(const struct costs_object *o, const char *lock_filter);
/* The threads that pass the filter, by time off CPU, most first;
 * the caller frees the array. */
struct costs_thread *costs_threads(const struct costs *c, uint32_t *n);
/* Traced time alive of the threads that pass the filter, summed. */
int64_t costs_total_alive(const struct costs *c);
/* The lock threads waited for longest that passes lock_filter, or NULL
 * when no thread waited for a lock. */
const struct costs_object *costs_costliest_lock(const struct costs *c,
						const char *lock_filter);

#endif
