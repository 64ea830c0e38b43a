/*
 * check_state.h - the validator's own state, shared by its parts: check.c
 * (the entry point and verdict), generation.c (gathering a generation),
 * order.c (the merge), rules.c (what events mean) and findings.c (the
 * program's misuses met on the way): threads, objects and the checker.
 * Private to the reader library.
 */
#ifndef WEFT_CHECK_STATE_H
#define WEFT_CHECK_STATE_H

#include "check.h"
#include "reccache.h"
#include "u64map.h"

#define MAX_SERIAL   (1u << 22)
#define STATE_DEPTH  8     /* nested blocking states (signal handlers) */

struct gbatch {
	struct weft_batch b;
	int32_t next;          /* the thread's next batch, -1 at the end */
	uint64_t first_ts, last_ts; /* of its timed records */
	uint8_t has_timed, starts_with_status;
	uint32_t events;       /* records decoded (up to a bad one) */
	size_t cache_begin, cache_end; /* its records in the generation's
					  cache (thread batches) */
};

/* An object the generation sequences, and its lowest number there. */
struct seq_start {
	uint64_t addr, min_seq;
};

/*
 * One generation, gathered, and what decoding it found.  Decoding
 * (decode_generation, generation.c) reads nothing but this and the
 * file's bytes, so generations can be decoded on other threads while
 * an earlier one is checked; all that depends on the state earlier
 * generations left is done afterwards, in file order (link_generation).
 */
struct gen {
	uint32_t gen;
	int cut_short;         /* no GEN_END: any of its batches may be missing */
	int stopped;           /* its GEN_END's stopped: tracing stopped after
				  it (1), or the process image ended (2) */
	int light;             /* its MODE says contention mode */
	struct gbatch *batches;
	uint32_t nbatches, batches_cap;
	/* The result's counts when it was gathered, which are the counts a
	 * failure in it leaves. */
	uint64_t batches_read, bytes_read;
	int complete_read;

	/* Decoding's findings. */
	struct reccache cache;         /* its thread records */
	struct seq_start *seqs;        /* in the order first met */
	uint32_t nseqs, seqs_cap;
	struct u64map seq_index;       /* addr -> index + 1 into seqs */
	uint64_t *shared;              /* OBJECT_SHARED addresses */
	uint32_t nshared, shared_cap;
	int lost_records;              /* it has LOST records */
	uint64_t lost;                 /* the events they count */
	struct u64map strings, stacks, stack_uses;
	/* The first problem decoding met: in batch fail_batch (nbatches
	 * when none), or, after every batch, an undefined stack. */
	uint32_t fail_batch;
	int stack_undefined;
	char error[1024];
	struct weft_reader r;          /* the checker's, for its error text */
};

struct state {
	uint8_t state;         /* WEFT_STATE_*; 0 = unknown (events lost) */
	uint8_t syscall;
	uint64_t object;
	/* A condition wait: its mutex as COND_WAIT_BEGIN found it (holder
	 * and depth) and the number BEGIN took, so that a wait that failed
	 * without releasing it (EINVAL, EPERM) puts it back. */
	uint32_t prior_holder, prior_depth;
	uint64_t begin_seq;
};

struct thread {
	uint32_t serial;
	uint32_t last_gen;     /* latest generation it had records in */
	uint8_t created, started, exited;
	uint8_t in_session;    /* had records since tracing last started */
	uint8_t depth;         /* entries in stack; 0 = running */
	uint8_t unknown;       /* its state is unknown (events were lost) */
	uint8_t after_acquisition; /* its latest record took a lock (an
				      ACQUIRE_SITE may follow): this one,
				      the record at acquired_offset */
	uint64_t acquired_lock;
	size_t acquired_offset;
	struct state stack[STATE_DEPTH];
	/* Its status group (STATUS and STATUS_NESTED) being read: records
	 * read so far (0: none open), and the states the previous
	 * generation left it in, when they are to be matched. */
	uint8_t status_levels, carried_depth, carried_known;
	struct state carried[STATE_DEPTH];
	/* Its latest record with a stack argument (a block, a wait, a
	 * lifetime event): where a finding about it points. */
	size_t site_offset;
	uint32_t site_gen;
	uint64_t site_stack;
	/* It blocked on a default mutex it holds (at relock_offset); unless
	 * it gets it or the lock fails, that is a self-deadlock. */
	uint64_t relock_object;
	size_t relock_offset;
	uint32_t relock_gen;
	uint64_t relock_stack;

	/* This generation. */
	uint32_t gen;          /* the generation the fields below are for */
	int32_t first_batch, last_batch, cur_batch;
	size_t cache_pos, cache_end;   /* its batch's records in the cache */
	struct reccache_state cache_state; /* of the last one read */
	size_t cache_offset;   /* the file offset of the next one */
	uint8_t saw_first, has_peek;
	size_t peek_offset;
	struct weft_record peek;
	/* While its pending event waits (set aside): what for, its place
	 * among the waiting, and the next thread waiting for the same. */
	uint64_t wait_key;
	uint32_t aside_index;
	struct thread *next_waiter;
};

struct object {
	uint64_t addr;
	uint64_t last_seq;     /* last sequence number applied */
	uint64_t min_seq;      /* lowest in the generation being checked */
	uint32_t min_gen;      /* generation min_seq belongs to */
	uint8_t known;         /* ownership below is known */
	uint32_t holder, depth;          /* mutex, spin lock */
	uint32_t writer, readers;        /* rwlock */
	uint8_t sem_known;     /* semaphore: its value is known (SEM_INIT) */
	int64_t sem_value;
	uint32_t barrier_count; /* threads a round releases; 0 unknown */
	uint64_t arrivals;      /* BARRIER_BEGINs since BARRIER_INIT */
	uint64_t departures;    /* BARRIER_ENDs since BARRIER_INIT */
	uint8_t early_readers;  /* readers from before its state was known
				   may still hold it (until a writer has) */
	uint8_t shared;         /* other processes use it too (OBJECT_SHARED):
				   its state is never known from this trace */
	/* Where its holder (mutex, spin lock, rwlock writer) took it. */
	size_t hold_offset;
	uint32_t hold_gen;
	uint64_t hold_stack;
};

struct checker {
	struct weft_reader *r;
	struct weft_check_result *res;
	weft_check_fn fn;
	void *ctx;

	struct thread **threads; /* by serial */
	uint32_t nthreads_cap;
	/* Every thread, and those with batches in the generation being
	 * checked (by serial): per-generation work is proportional to what
	 * the generation holds, not to the highest serial or to the threads
	 * and objects of the whole trace. */
	struct thread **all, **active;
	uint32_t nall, all_cap, nactive, active_cap;
	struct object *objects;
	uint32_t nobjects, objects_cap;
	struct u64map object_index;   /* addr -> index + 1 */
	uint32_t null_object;         /* index + 1 of address 0, which the
					 map cannot hold (a program that
					 passed NULL, then crashed) */
	uint64_t last_addr;           /* the object found last (0: none) */
	uint32_t last_index;          /* and its index */
	uint32_t *gen_objects;        /* indexes of the objects the
					 generation sequences */
	uint32_t ngen_objects, gen_objects_cap;

	/* The generation being checked. */
	struct gen *g;
	struct gbatch *batches;       /* g's */
	const struct reccache_kinds *kinds;
	uint32_t gen;                 /* g's number */
	int numbers_restart;          /* sequence numbers restart at 1 in
					 each generation (format version 2) */
	int cut_short;                /* this generation has no GEN_END: any
					 of its batches may be missing */
	int relaxed;                  /* this generation may lack events
					 (cut short, or it lost some) */
	int light;                    /* this generation was recorded in
					 contention mode: no lock's holders
					 are known */
	int relief;                   /* the merge is stuck: let one missing
					 cause go (relaxed generations only) */
	int guessed;                  /* a missing cause was let go */
	uint64_t gen_lost;

	struct thread **heap, **aside;
	uint32_t nheap, naside;
	/* The threads set aside, listed by what they wait for (wait_key ->
	 * index + 1 into waiters): an event wakes only the threads waiting
	 * for what it changed, not every waiting thread. */
	struct u64map waiting_for;
	struct thread **waiters;
	uint32_t nwaiters, waiters_cap;
	int failed;
};

/* A holder not known (the object's state was unknown). */
#define HOLDER_UNKNOWN UINT32_MAX

static inline const struct state *top(const struct thread *t)
{
	static const struct state running = { .state = WEFT_STATE_RUNNING };
	return t->depth ? &t->stack[t->depth - 1] : &running;
}

/* ---- check.c: the verdict ---- */

/* The trace is inconsistent: the first problem found is kept. */
__attribute__((format(printf, 2, 3)))
void check_fail(struct checker *c, const char *fmt, ...);
/* Appends to the result's note. */
__attribute__((format(printf, 2, 3)))
void check_note(struct checker *c, const char *fmt, ...);

/* ---- check_state.c: threads and objects ---- */

/* Appends t to a growing list of threads. */
void append_thread(struct thread ***v, uint32_t *n, uint32_t *cap,
		   struct thread *t);
/* The thread with serial (made when first named); NULL when serial is 0
 * or beyond MAX_SERIAL. */
struct thread *thread_get(struct checker *c, uint32_t serial);
/* The object at addr (made, in an unknown state, when first named). */
struct object *object_get(struct checker *c, uint64_t addr);
/* Nothing is known of o's state: who holds it, its value, its rounds. */
void forget_state(struct object *o);


/* ---- findings.c: each records a finding about t's pending event ---- */

/* t unlocked o, held by holder (0: by nobody), not by t. */
void finding_unlock(struct checker *c, const struct thread *t,
		    const struct object *o, uint32_t holder);
/* t initialises (init) or destroys o: a finding when a live thread holds
 * it, or (destroy) a thread waits on it. */
void finding_lifetime(struct checker *c, const struct thread *t,
		      const struct object *o, int init);
/* t's condition wait on mutex m, which prior_holder held, not t. */
void finding_wait_unheld(struct checker *c, const struct thread *t,
			 const struct object *m, uint32_t prior_holder);
/* At the end of a session: threads still blocked on a default mutex they
 * held when they blocked. */
void findings_report_relocks(struct checker *c);

#endif
