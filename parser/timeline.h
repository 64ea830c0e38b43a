/*
 * timeline.h - what the threads of a trace did, reconstructed from the
 * validated global order weft_check() delivers: per-thread state intervals
 * (running, in a system call, blocked and on what), lock acquisitions with
 * the locks held at the time, lock holds, and which release enabled which
 * acquisition or wake-up.  costs.c (`weft stats`), lockgraph.c (`weft
 * lockorder`) and `weft export` are consumers of the items it produces;
 * none of them orders events.  It reads from a reader it is handed and
 * never prints or exits: what went wrong is in tl_result().
 *
 * Times are nanoseconds since the trace began (the file header's clock
 * value), converted with each generation's CLOCK record; they may be
 * negative for a wait that began before tracing started.
 */
#ifndef WEFT_TIMELINE_H
#define WEFT_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "reader.h"
#include "tables.h"

/* Where a thread's time goes.  Time is given to the innermost state (a
 * signal handler's system call inside a wait counts as the call). */
enum tl_kind {
	TL_RUNNING,
	TL_SYSCALL,   /* a blocking call other than a sleep */
	TL_SLEEP,     /* a call of class SLEEP (syscalls.def) */
	/* A wait on an object or a thread: TL_MUTEX, TL_RWLOCK, ... (the
	 * wait states of states.def). */
#define WEFT_STATE(name, id)
#define WEFT_WAIT_STATE(name, id, kind, word) TL_##kind,
#include "states.def"
#undef WEFT_WAIT_STATE
#undef WEFT_STATE
	TL_UNKNOWN,   /* after lost events, until the next STATUS */
	TL_NKINDS
};

/* Short names: "running", "syscall", "sleep", "mutex", ... */
extern const char *const tl_kind_names[TL_NKINDS];

enum tl_lock_kind { TL_LOCK_MUTEX, TL_LOCK_RWLOCK, TL_LOCK_SPIN };
extern const char *const tl_lock_names[3];

/* Where something happened: the stack recorded with it (0 when none; ids
 * are per generation) and, always, the record's file offset and time. */
struct tl_site {
	uint32_t gen;
	uint32_t serial;
	uint64_t stack;
	size_t offset;
	int64_t ns;
};

/* A thread, with its totals (complete once tl_run() has returned). */
struct tl_thread {
	uint32_t serial;
	uint32_t parent;          /* 0 when its creation is not in the trace */
	uint64_t tid;
	const char *name;         /* NULL when never named */
	int64_t first_ns;         /* first seen */
	int64_t alive_ns;         /* traced time alive, summed over sessions */
	int64_t in_ns[TL_NKINDS]; /* alive_ns split by innermost state */
	uint64_t lost;            /* events of this thread that were dropped */
	uint8_t exited;
};

enum tl_item_type {
	TL_THREAD_BEGIN, /* first sight of a thread (start or STATUS) */
	TL_THREAD_END,   /* THREAD_EXIT */
	TL_INTERVAL,     /* a thread left a blocking state */
	TL_FLOW,         /* a release on one thread enabled a wait's end on another */
	TL_ACQUIRE,      /* a lock acquisition (also a cond wait taking its mutex back) */
	TL_HOLD,         /* a lock hold ended */
	TL_INSTANT,      /* cond signal or broadcast, sem post */
	TL_COUNTS,       /* uncontended acquisitions counted, not recorded
			    (contention mode: LOCK_COUNTS) */
	TL_GENERATION,   /* a generation's events begin (no thread: serial 0) */
	TL_BLOCKED,      /* the number of threads waiting on an object or a
			    thread changed (no thread: serial 0) */
};

struct tl_interval {
	enum tl_kind kind;
	uint8_t syscall;          /* syscall id for TL_SYSCALL and TL_SLEEP */
	uint8_t ended_ok;         /* acquired, woken, returned without error */
	uint8_t from_status;      /* began before its session: begin_ns is the
				     STATUS's "since" */
	uint8_t cut;              /* its end was not seen: tracing stopped,
				     events were lost, or the trace ends */
	uint8_t rw_mode;          /* TL_RWLOCK: 1 read, 2 write */
	uint64_t object;          /* lock, cond, barrier, sem; serial for join */
	int64_t arg;              /* syscalls: descriptor or first argument */
	int64_t ret;              /* syscalls: return value */
	uint64_t err;             /* errno or pthread result */
	int64_t begin_ns, end_ns;
	/* Of end_ns - begin_ns, the part an earlier cut interval of the same
	 * wait already covered (it was under way when tracing stopped, and
	 * the next session's STATUS continued it); else 0. */
	int64_t delivered_ns;
	uint8_t continued;        /* continues such a cut interval */
	struct tl_site site;      /* the record that began it */
};

struct tl_flow {
	uint32_t from, to;        /* thread serials */
	int64_t from_ns, to_ns;
	uint64_t object;
	const char *what;         /* "unlock", "signal", "broadcast", "post",
				     "exit", "arrive", "wait" (a cond wait
				     releasing its mutex) */
};

/* A lock a thread holds. */
struct tl_held {
	uint64_t lock;
	enum tl_lock_kind kind;
	uint8_t shared;           /* rwlock held for reading */
	uint8_t try_;             /* taken with a trylock */
	uint32_t depth;           /* recursive acquisitions */
	int64_t since_ns;
	struct tl_site site;      /* of the acquisition */
};

struct tl_acquire {
	uint64_t lock;
	enum tl_lock_kind kind;
	uint8_t shared, try_, contended, recursive;
	uint8_t cond_reacquire;   /* a cond wait taking its mutex back */
	uint8_t unheld;           /* starts no hold (contention mode: the
				     lock's releases are not recorded) */
	int64_t wait_ns;          /* blocked before it (0 when not seen) */
	/* Where it was made: its ACQUIRE_SITE's stack when recorded, else
	 * the stack of the wait before it (the BLOCK's, or for a cond wait
	 * taking its mutex back, the wait's begin), else none. */
	struct tl_site site;
	const struct tl_held *held; /* what the thread held before it */
	uint32_t nheld;
};

struct tl_hold {
	uint64_t lock;
	enum tl_lock_kind kind;
	uint8_t shared;
	uint8_t cut;              /* the release was not seen */
	int64_t begin_ns, end_ns;
	/* Time other threads spent waiting for the lock while this hold
	 * lasted, summed over the waiters. */
	int64_t caused_wait_ns;
	struct tl_site site;      /* of the acquisition that began it */
};

struct tl_counts {
	uint64_t lock;
	enum tl_lock_kind kind;
	uint8_t shared;           /* rwlock taken for reading */
	uint64_t acquisitions;
};

struct tl_instant {
	uint64_t object;
	const char *what;         /* "signal", "broadcast", "post" */
};

struct tl_item {
	enum tl_item_type type;
	uint32_t serial;          /* the thread it concerns */
	int64_t ns;               /* when it happened (an interval's end) */
	const struct tl_thread *thread;
	union {
		struct tl_interval iv;
		struct tl_flow flow;
		struct tl_acquire acq;
		struct tl_hold hold;
		struct tl_instant inst;
		struct tl_counts counts;
		uint32_t generation;  /* TL_GENERATION */
		uint32_t blocked;     /* TL_BLOCKED: threads waiting now */
	};
};

typedef void (*tl_fn)(void *ctx, const struct tl_item *item);

struct timeline;

/* Takes over r (opened, its header read: weft_reader_open() or
 * weft_reader_open_memory()), which tl_close() closes, and reads the
 * trace's tables and clocks.  Nothing here prints or exits: what the
 * validator holds against the trace is in tl_result() after tl_run(). */
struct timeline *tl_new(const struct weft_reader *r);
void tl_close(struct timeline *tl);

/* Runs the trace through the reconstruction, calling fn for every item.
 * Returns the validator's verdict; anything it held against the trace is
 * in tl_result().  What the trace holds up to a problem is still
 * delivered, so consumers work on the valid part. */
enum weft_verdict tl_run(struct timeline *tl, tl_fn fn, void *ctx);
/* tl_run() checks the trace on jobs threads (weft_check_jobs(); 1 unless
 * set), which changes nothing in what it gives. */
void tl_set_jobs(struct timeline *tl, unsigned jobs);
const struct weft_check_result *tl_result(const struct timeline *tl);
const struct weft_tables *tl_tables(const struct timeline *tl);
const struct weft_file_header *tl_header(const struct timeline *tl);
/* The threads seen (those with a TL_THREAD_BEGIN), in the order they
 * were first seen: i from 0 to tl_nthreads() - 1. */
uint32_t tl_nthreads(const struct timeline *tl);
const struct tl_thread *tl_thread_at(const struct timeline *tl, uint32_t i);
/* Time from the first to the last event, and the sessions seen. */
int64_t tl_span_ns(const struct timeline *tl);
uint32_t tl_sessions(const struct timeline *tl);

/* The text of a site's innermost frame ("function (file.c:31)", or what
 * names it without debug information, or its raw address; weft's own
 * frames are never shown), or NULL when it has no stack. */
const char *tl_site_symbol(const struct timeline *tl, const struct tl_site *s,
			   char *buf, size_t cap);
/* Writes a site for people: its first frames (calls inlined at one
 * address counting as frames of their own) joined by " < ", or
 * "T3 at offset 1234 (0.012345 s)" when it has no stack. */
void tl_site_text(const struct timeline *tl, const struct tl_site *s,
		  int frames, char *buf, size_t cap);

/* "1.23 s", "45.6 ms", "789 us", "12 ns" (at most 15 characters). */
void tl_format_ns(int64_t ns, char *buf, size_t cap);

/* A thread as "T3" or "T3 (name)". */
void tl_thread_label(const struct timeline *tl, uint32_t serial, char *buf,
		     size_t cap);

#endif
