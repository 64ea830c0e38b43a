/*
 * lockgraph.h - the lock-order graph of a trace, built from the
 * timeline's acquisitions over all threads and sessions (an edge A -> B
 * when a thread takes B while holding A), and the search for its
 * elementary cycles (Johnson's algorithm), each a potential deadlock.
 * `weft lockorder` prints what it finds; nothing here prints.
 *
 * Trylocks add no edge into the lock they take (they cannot block), but a
 * lock held through a trylock orders what is taken after it.  A cond
 * wait gives its mutex back and takes it again: that re-acquisition is an
 * acquisition like any other.  Rwlocks: an edge remembers whether its
 * first lock was held for reading and its second taken for reading; a
 * cycle is reported only if, at every lock on it, the acquisition
 * arriving there and the hold leaving from there are not both reads
 * (readers do not block readers).  Re-taking a lock already held (a
 * recursive mutex, a second read lock) adds no edge.  A cycle all of
 * whose edges were made while holding one same other lock (a gate lock)
 * cannot deadlock; it is reported as guarded.
 */
#ifndef WEFT_LOCKGRAPH_H
#define WEFT_LOCKGRAPH_H

#include <stdint.h>

#include "timeline.h"

#define LOCK_EDGE_THREADS 4   /* threads remembered per edge */

/* The first time an edge was made in one combination of modes. */
struct lock_witness {
	uint32_t serial;
	struct tl_site held_site, taken_site;
};

struct lock_edge {
	uint64_t from, to;             /* lock addresses */
	enum tl_lock_kind from_kind, to_kind;
	uint64_t count;
	uint8_t modes;                 /* bit (held_shared * 2 + taken_shared) */
	struct lock_witness w[4];      /* by that same index */
	uint32_t threads[LOCK_EDGE_THREADS];
	uint32_t nthreads;
};

/* A cycle the search reports (not one that needs a reader to wait for a
 * reader). */
struct lock_cycle {
	const struct lock_edge *const *edges;  /* edges[i]->to == edges[i+1]->from */
	uint32_t n;
	const uint8_t *pick;    /* per edge, the witness (mode combination)
				   that makes the cycle possible */
	uint64_t gate;          /* the lock every edge was made holding (the
				   cycle cannot deadlock), or 0 */
	uint64_t number;        /* 1, 2, ... among the guarded cycles, or
				   among the others */
	uint64_t listed;        /* cycles reported so far, this one too */
};

/* What a search found. */
struct lock_search {
	uint64_t found;         /* elementary cycles seen */
	uint64_t reported;      /* potential deadlocks */
	uint64_t guarded;       /* cycles guarded by a gate lock */
	uint64_t read_only;     /* left out: readers only */
	int stopped;            /* the search stopped at max_cycles (or at
				   its step limit): there may be more */
};

typedef void (*lock_cycle_fn)(void *ctx, const struct lock_cycle *c);

struct lockgraph;

struct lockgraph *lockgraph_new(void);
/* A tl_fn: adds the edges of an acquisition (give it to tl_run() with the
 * graph as ctx). */
void lockgraph_add(void *graph, const struct tl_item *item);
uint32_t lockgraph_locks(const struct lockgraph *g);
uint32_t lockgraph_edges(const struct lockgraph *g);
/* Calls fn for every edge, in the order the edges were first made. */
void lockgraph_each_edge(const struct lockgraph *g,
			 void (*fn)(void *ctx, const struct lock_edge *e), void *ctx);
/* Finds every elementary cycle, each once, calling fn for every one it
 * reports, until max_cycles (counting those left out) have been found. */
void lockgraph_find_cycles(struct lockgraph *g, uint64_t max_cycles,
			   lock_cycle_fn fn, void *ctx, struct lock_search *out);
void lockgraph_free(struct lockgraph *g);

#endif
