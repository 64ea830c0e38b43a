/*
 * check.h - the validator: reads a trace generation by generation, puts
 * each generation's events in one global order consistent with every
 * thread's own order and every cross-thread cause (object sequence numbers,
 * lock ownership, create before start, exit before join), and checks every
 * event against the state machines of its thread and its object.
 *
 * Every consumer that needs events in order (weft check, weft dump) goes
 * through weft_check(): one decoding path, one ordering.
 */
#ifndef WEFT_CHECK_H
#define WEFT_CHECK_H

#include "reader.h"

enum weft_verdict {
	WEFT_CHECK_OK = 0,           /* complete and consistent */
	WEFT_CHECK_INCONSISTENT = 1, /* damaged, or no consistent order */
	WEFT_CHECK_UNREADABLE = 2,   /* the file cannot be read */
	WEFT_CHECK_TRUNCATED = 3,    /* consistent as far as it goes, but the
					process stopped writing mid-way */
};

/*
 * Findings: things the program did that POSIX leaves undefined but glibc
 * lets it do, seen in a trace that is otherwise a faithful record (see
 * findings.c).  They never make a trace inconsistent.
 */
enum weft_finding_kind {
	WEFT_FINDING_UNLOCK_FOREIGN = 1, /* unlocks a lock another thread holds */
	WEFT_FINDING_UNLOCK_UNHELD,      /* unlocks a lock nobody holds */
	WEFT_FINDING_RELOCK,             /* blocks for ever on a mutex it holds */
	WEFT_FINDING_DESTROY_HELD,       /* destroys a lock a thread holds */
	WEFT_FINDING_DESTROY_WAITED,     /* destroys an object a thread waits on */
	WEFT_FINDING_INIT_HELD,          /* initialises a lock a live thread holds */
	WEFT_FINDING_WAIT_UNHELD,        /* waits on a condvar without holding
					    its mutex */
};

struct weft_finding {
	enum weft_finding_kind kind;
	uint8_t code;                 /* the event code of the misuse */
	uint32_t generation;          /* of the misuse */
	uint32_t thread;              /* the thread that did it */
	uint64_t object;              /* the object's address */
	size_t offset;                /* of the misuse's record */
	uint64_t stack;               /* its stack id in generation, 0 none */
	/* The other side: the holder (its acquisition) or the waiter (its
	 * blocking record); other is 0 when there is none. */
	uint32_t other;
	uint32_t other_generation;
	size_t other_offset;          /* 0 when unknown */
	uint64_t other_stack;         /* stack id in other_generation, 0 none */
};

#define WEFT_MAX_FINDINGS 64

/* The finding kind's short name ("unlock-foreign", ...). */
const char *weft_finding_name(enum weft_finding_kind kind);
/* One line saying what happened, without stacks. */
void weft_finding_describe(char *buf, size_t cap, const struct weft_finding *f);

/*
 * What an applied thread event changed, as the validator followed it, so
 * that a consumer need not work ownership and waits out again:
 *
 *  - hold: the thread's hold on a lock.  ACQUIRED by an acquisition, and
 *    by the end of a condition wait that holds its mutex again (restored
 *    when the wait failed before giving the mutex up, so that the thread
 *    holds it as it did before the wait began); RELEASED
 *    by a successful unlock (of one level of a recursive hold, when depth
 *    is still above 0) and by the start of a condition wait, which gives
 *    its mutex up.  object is the lock (a condition wait's mutex), mode
 *    WEFT_RW_READ or WEFT_RW_WRITE for a reader-writer lock (0 for a mutex
 *    or spin lock), depth the levels the thread holds afterwards, flags
 *    an acquisition's WEFT_FLAG_* as the event gives them (try,
 *    contended, owner dead; 0 for the end of a condition wait).
 *  - began, ended: the thread state (WEFT_STATE_*, format/states.def) the
 *    event began or ended, as format/effects.def says, and also the state
 *    a STATUS or STATUS_NESTED record states; about is what the state is
 *    about (the object or thread waited on, or a SYSCALL's call id).
 *    THREAD_START and THREAD_EXIT leave every state without saying so.
 *
 * A change follows what the validator knows: in a generation that lost
 * events, or for an object other processes share, it is the event's own
 * word, not a checked fact.
 */
enum weft_hold_change {
	WEFT_HOLD_NONE = 0,
	WEFT_HOLD_ACQUIRED,
	WEFT_HOLD_RELEASED,
};

struct weft_state_change {
	uint32_t serial;              /* the thread */
	enum weft_hold_change hold;
	uint64_t object;              /* the lock held or released */
	uint8_t mode;                 /* of an rwlock hold; 0 otherwise */
	uint32_t depth;               /* levels held afterwards */
	uint8_t flags;                /* of an acquisition (WEFT_FLAG_*) */
	uint8_t restored;             /* the acquisition is a failed condition
					 wait's end: its mutex is as before */
	uint8_t unheld;               /* the acquisition starts no hold to
					 follow: in contention mode no
					 release of the lock is recorded */
	uint8_t began, ended;         /* WEFT_STATE_*, 0 for none */
	uint64_t about;               /* of the state begun or ended */
};

struct weft_check_event {
	uint32_t generation;
	uint32_t serial;              /* 0 for process records */
	size_t offset;                /* of the record in the file */
	const struct weft_record *rec;
	/* What the thread event changed; NULL for process records and for
	 * events given unchecked (see weft_check_result.note). */
	const struct weft_state_change *change;
};

/* Called for every record, in the validated global order (process
 * records of a generation come after its thread records). */
typedef void (*weft_check_fn)(void *ctx, const struct weft_check_event *ev);

struct weft_check_result {
	enum weft_verdict verdict;
	char error[8192];             /* the first problem found */
	char note[2048];              /* relaxed validation, truncation */
	uint32_t generations;         /* generations checked */
	uint32_t threads;             /* distinct thread serials */
	uint64_t events, batches, bytes, lost;
	uint64_t first_ts, last_ts, frequency;
	uint32_t contention_generations; /* of them, recorded in contention
					    mode (format/SPEC.md, 7.7) */
	int complete;                 /* ends with TRACE_END */
	int image_ended;              /* the last generation checked ended
					 with its process image (exit, exec):
					 threads left blocked were not stuck */
	/* The first WEFT_MAX_FINDINGS findings, in the validated order, and
	 * how many there were in all. */
	struct weft_finding findings[WEFT_MAX_FINDINGS];
	uint32_t nfindings;
	uint64_t findings_total;
};

/* Checks the trace r holds (opened, header read).  fn may be NULL. */
enum weft_verdict weft_check(struct weft_reader *r, weft_check_fn fn, void *ctx,
			     struct weft_check_result *res);
/* The most threads weft_check_jobs() uses. */
#define WEFT_MAX_JOBS 256

/* The same, with jobs threads (1 or more): generations are decoded by
 * jobs - 1 helper threads and by the caller, ahead of their turn, and
 * checked in file order by the caller, which makes every call of fn.
 * The result and the calls of fn are those of weft_check() for any jobs;
 * up to jobs generations are held at once.  jobs is taken as 1 to
 * WEFT_MAX_JOBS. */
enum weft_verdict weft_check_jobs(struct weft_reader *r, weft_check_fn fn,
				  void *ctx, struct weft_check_result *res,
				  unsigned jobs);

#endif
