/*
 * check.c - the validator and global orderer (see check.h).
 *
 * A generation is processed once all of its batches have been read (its
 * GEN_END, or the end of the file).  Two passes over its batches:
 *
 *  1. decode every record once: structure, tables (ids defined once, ids
 *     used are defined), the lowest sequence number of each object, and
 *     each thread's batches in order;
 *  2. merge the threads: repeatedly take the thread whose next event has
 *     the earliest timestamp and whose event can apply now (its sequence
 *     number is the next one for its object, the lock is free, its thread
 *     was created, its join target exited...).  When the earliest cannot
 *     apply, later ones are tried; when none can, the trace has no
 *     consistent order and every thread's pending event is reported with
 *     the reason it waits.
 *
 * Thread and object state outlive a generation so that STATUS records can
 * be checked against how the previous generation left each thread.  The
 * state is declared in check_state.h; what the program did that POSIX
 * leaves undefined (an unlock by a thread that does not hold the lock, a
 * destroy of a held lock...) does not make the trace inconsistent: it is
 * handed to findings.c, which keeps it in the result as a finding.
 */
#include "check.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_state.h"

__attribute__((format(printf, 2, 3)))
static void fail(struct checker *c, const char *fmt, ...)
{
	if (c->failed)
		return;
	c->failed = 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->res->error, sizeof c->res->error, fmt, ap);
	va_end(ap);
	c->res->verdict = WEFT_CHECK_INCONSISTENT;
}

/* ---- threads and objects ---- */

static void append_thread(struct thread ***v, uint32_t *n, uint32_t *cap,
			  struct thread *t)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		*v = realloc(*v, *cap * sizeof **v);
		if (!*v)
			abort();
	}
	(*v)[(*n)++] = t;
}

static struct thread *thread_get(struct checker *c, uint32_t serial)
{
	if (serial == 0 || serial >= MAX_SERIAL)
		return NULL;
	if (serial >= c->nthreads_cap) {
		uint32_t cap = c->nthreads_cap ? c->nthreads_cap : 64;
		while (cap <= serial)
			cap *= 2;
		c->threads = realloc(c->threads, cap * sizeof *c->threads);
		if (!c->threads)
			abort();
		memset(c->threads + c->nthreads_cap, 0,
		       (cap - c->nthreads_cap) * sizeof *c->threads);
		c->nthreads_cap = cap;
	}
	if (!c->threads[serial]) {
		struct thread *t = calloc(1, sizeof *t);
		if (!t)
			abort();
		t->serial = serial;
		c->threads[serial] = t;
		append_thread(&c->all, &c->nall, &c->all_cap, t);
		c->res->threads++;
	}
	return c->threads[serial];
}

struct object *object_get(struct checker *c, uint64_t addr)
{
	uint32_t i = addr ? u64map_get(&c->object_index, addr) : c->null_object;
	if (i)
		return &c->objects[i - 1];
	if (c->nobjects == c->objects_cap) {
		c->objects_cap = c->objects_cap ? c->objects_cap * 2 : 256;
		c->objects = realloc(c->objects, c->objects_cap * sizeof *c->objects);
		if (!c->objects)
			abort();
	}
	struct object *o = &c->objects[c->nobjects++];
	memset(o, 0, sizeof *o);
	o->addr = addr;
	if (addr)
		u64map_put(&c->object_index, addr, c->nobjects);
	else
		c->null_object = c->nobjects;
	return o;
}

/* Nothing is known of o's state: who holds it, its value, its rounds. */
static void forget_state(struct object *o)
{
	o->known = o->sem_known = 0;
	o->holder = o->depth = o->writer = o->readers = 0;
	o->early_readers = 0;
	o->barrier_count = 0;
}

/* Where each event kind keeps its sequence number, the object it
 * sequences (the nearest 'o' argument before it) and its stack id: -1 when
 * it has none.  Worked out once from the event table. */
struct arg_places {
	int8_t seq, obj, stack;
};
static struct arg_places places[256];

static void find_places(void)
{
	for (int code = 0; code < 256; code++) {
		struct arg_places *p = &places[code];
		p->seq = p->obj = p->stack = -1;
		const char *k = weft_events[code].kinds;
		if (!k)
			continue;
		for (int i = 0; k[i]; i++) {
			if (k[i] == 'k')
				p->stack = (int8_t)i;
			if (k[i] == 's') {
				int o = i - 1;
				while (o >= 0 && k[o] != 'o')
					o--;
				if (o >= 0) {
					p->seq = (int8_t)i;
					p->obj = (int8_t)o;
				}
			}
		}
	}
}

/* Index of a record's sequence argument, or -1; *obj_arg gets the index
 * of the object it sequences. */
static inline int seq_arg(uint8_t code, int *obj_arg)
{
	*obj_arg = places[code].obj;
	return places[code].seq;
}

static const char *state_name(uint8_t s)
{
	const char *n = weft_state_name(s);
	return n ? n : "UNKNOWN";
}

/* ---- pass 1: decode the generation ---- */

static void add_batch(struct gbatch **v, uint32_t *n, uint32_t *cap,
		      const struct weft_batch *b)
{
	if (*n == *cap) {
		*cap = *cap ? *cap * 2 : 256;
		*v = realloc(*v, *cap * sizeof **v);
		if (!*v)
			abort();
	}
	(*v)[*n].b = *b;
	(*v)[*n].next = -1;
	(*n)++;
}

static void describe(char *buf, size_t cap, const struct weft_record *rec)
{
	const struct weft_event_desc *d = &weft_events[rec->code];
	int n = snprintf(buf, cap, "%s", d->name);
	const char *name = d->names;
	for (unsigned i = 0; i < d->nargs && n > 0 && (size_t)n < cap; i++) {
		size_t len = strcspn(name, ",");
		char kind = d->kinds[i];
		if (kind == 'o' || kind == 'x')
			n += snprintf(buf + n, cap - (size_t)n, " %.*s=0x%" PRIx64,
				      (int)len, name, rec->args[i]);
		else if (kind == 'T')
			n += snprintf(buf + n, cap - (size_t)n, " %.*s=T%" PRIu64,
				      (int)len, name, rec->args[i]);
		else if (kind == 'y')
			n += snprintf(buf + n, cap - (size_t)n, " %.*s=%s", (int)len, name,
				      weft_syscall_name(rec->args[i]) ? weft_syscall_name(rec->args[i]) : "?");
		else if (kind != 'b' && kind != 'P' && kind != 'k')
			n += snprintf(buf + n, cap - (size_t)n, " %.*s=%" PRId64,
				      (int)len, name, (int64_t)rec->args[i]);
		name += len + (name[len] == ',');
	}
}

static int prepass_record(struct checker *c, const struct weft_batch *b,
			  const struct weft_record *rec, size_t off)
{
	const struct weft_event_desc *d = &weft_events[rec->code];
	uint32_t g = b->header.generation;
	if (b->header.serial == 0) {
		if (d->timed) {
			fail(c, "offset %zu: generation %u: %s in a process batch "
			     "(thread records belong in thread batches)", off, g, d->name);
			return -1;
		}
		switch (rec->code) {
		case WEFT_EV_STRING:
			if (rec->args[0] == 0 || u64map_get(&c->strings, rec->args[0])) {
				fail(c, "offset %zu: generation %u: string id %" PRIu64
				     " defined twice", off, g, rec->args[0]);
				return -1;
			}
			u64map_put(&c->strings, rec->args[0], 1);
			break;
		case WEFT_EV_STACK:
			if (rec->args[0] == 0 || u64map_get(&c->stacks, rec->args[0])) {
				fail(c, "offset %zu: generation %u: stack id %" PRIu64
				     " defined twice", off, g, rec->args[0]);
				return -1;
			}
			u64map_put(&c->stacks, rec->args[0], 1);
			break;
		case WEFT_EV_OBJECT_SHARED: {
			/* Other processes hold, post and arrive unseen: its
			 * events here are ordered by their numbers, but no
			 * verdict or finding rests on its state (this
			 * process's numbers are its own). */
			struct object *o = object_get(c, rec->args[0]);
			o->shared = 1;
			forget_state(o);
			break;
		}
		case WEFT_EV_SYMBOL:
			if (!u64map_get(&c->strings, rec->args[1])) {
				fail(c, "offset %zu: generation %u: SYMBOL names string id "
				     "%" PRIu64 ", which is not defined before it",
				     off, g, rec->args[1]);
				return -1;
			}
			break;
		}
		return 0;
	}
	if (!d->timed) {
		fail(c, "offset %zu: generation %u, thread %u: %s in a thread batch "
		     "(tables belong in process batches)", off, g, b->header.serial,
		     d->name);
		return -1;
	}
	int k = places[rec->code].stack;
	if (k >= 0 && rec->args[k] && !u64map_get(&c->stack_uses, rec->args[k]))
		u64map_put(&c->stack_uses, rec->args[k],
			   (uint32_t)(off > UINT32_MAX ? UINT32_MAX : off));
	if (rec->code == WEFT_EV_LOST) {
		c->relaxed = 1;
		c->gen_lost += rec->args[0];
	}
	int oi;
	int si = seq_arg(rec->code, &oi);
	if (si >= 0 && rec->args[si] && rec->args[oi]) {
		struct object *o = object_get(c, rec->args[oi]);
		if (o->min_gen != g) {
			if (c->ngen_objects == c->gen_objects_cap) {
				c->gen_objects_cap = c->gen_objects_cap ? c->gen_objects_cap * 2 : 256;
				c->gen_objects = realloc(c->gen_objects, c->gen_objects_cap *
							 sizeof *c->gen_objects);
				if (!c->gen_objects)
					abort();
			}
			c->gen_objects[c->ngen_objects++] = (uint32_t)(o - c->objects);
		}
		if (o->min_gen != g || rec->args[si] < o->min_seq) {
			o->min_seq = rec->args[si];
			o->min_gen = g;
		}
	}
	return 0;
}

static int by_serial(const void *a, const void *b)
{
	uint32_t x = (*(struct thread *const *)a)->serial;
	uint32_t y = (*(struct thread *const *)b)->serial;
	return (x > y) - (x < y);
}

/* Decodes every batch of the generation; links each thread's batches. */
static int prepass(struct checker *c)
{
	c->nactive = 0;
	c->ngen_objects = 0;
	for (uint32_t i = 0; i < c->nbatches; i++) {
		const struct weft_batch *b = &c->batches[i].b;
		struct weft_cursor cur;
		struct weft_record rec;
		int rc;
		weft_cursor_init(&cur, b);
		size_t off = weft_cursor_offset(&cur);
		struct gbatch *gb = &c->batches[i];
		gb->has_timed = gb->starts_with_status = 0;
		int first_record = 1;
		while ((rc = weft_cursor_next(c->r, &cur, &rec)) == WEFT_READ_OK) {
			if (prepass_record(c, b, &rec, off) < 0)
				return -1;
			if (first_record)
				gb->starts_with_status = rec.code == WEFT_EV_STATUS;
			first_record = 0;
			if (weft_events[rec.code].timed) {
				if (!gb->has_timed)
					gb->first_ts = rec.ts;
				gb->last_ts = rec.ts;
				gb->has_timed = 1;
			}
			c->res->events++;
			if (weft_events[rec.code].timed) {
				if (rec.ts < c->res->first_ts)
					c->res->first_ts = rec.ts;
				if (rec.ts > c->res->last_ts)
					c->res->last_ts = rec.ts;
			}
			off = weft_cursor_offset(&cur);
		}
		if (rc != WEFT_READ_END) {
			fail(c, "%s", c->r->error);
			return -1;
		}
		if (b->header.serial == 0)
			continue;
		struct thread *t = thread_get(c, b->header.serial);
		if (!t) {
			fail(c, "offset %zu: thread serial %u is beyond this reader's "
			     "limit", b->offset, b->header.serial);
			return -1;
		}
		if (t->gen != c->gen) {
			t->gen = c->gen;
			t->status_levels = 0;
			t->first_batch = t->last_batch = -1;
			t->saw_first = t->has_peek = 0;
			append_thread(&c->active, &c->nactive, &c->active_cap, t);
		}
		t->in_session = 1;
		/* A thread's batches are in file order, except that the one
		 * holding its STATUS comes first: the advancer may write a
		 * thread's STATUS after the thread has flushed its own first
		 * batch of the generation. */
		if (gb->starts_with_status && t->first_batch >= 0) {
			if (c->batches[t->first_batch].starts_with_status) {
				fail(c, "offset %zu: generation %u, thread %u: a second "
				     "STATUS", b->offset, c->gen, t->serial);
				return -1;
			}
			gb->next = t->first_batch;
			t->first_batch = (int32_t)i;
			continue;
		}
		if (t->last_batch >= 0)
			c->batches[t->last_batch].next = (int32_t)i;
		else
			t->first_batch = (int32_t)i;
		t->last_batch = (int32_t)i;
	}
	if (c->nactive > 1)
		qsort(c->active, c->nactive, sizeof *c->active, by_serial);
	/* A thread's batches follow one another in time. */
	for (uint32_t s = 0; s < c->nactive; s++) {
		struct thread *t = c->active[s];
		uint64_t last = 0;
		for (int32_t i = t->first_batch; i >= 0; i = c->batches[i].next) {
			struct gbatch *gb = &c->batches[i];
			if (!gb->has_timed)
				continue;
			if (gb->first_ts < last) {
				fail(c, "offset %zu: generation %u, thread %u: timestamps "
				     "go backwards between batches (%" PRIu64 " after %"
				     PRIu64 ")", gb->b.offset, c->gen, t->serial,
				     gb->first_ts, last);
				return -1;
			}
			last = gb->last_ts;
		}
	}
	/* Every stack an event names is defined in the generation's tables
	 * (which a generation cut short may not have reached). */
	for (uint32_t i = 0; i < c->stack_uses.cap && !c->cut_short; i++) {
		uint64_t id = c->stack_uses.keys[i];
		if (id && !u64map_get(&c->stacks, id)) {
			fail(c, "offset %u: generation %u: stack id %" PRIu64 " is used "
			     "but never defined", c->stack_uses.vals[i], c->gen, id);
			return -1;
		}
	}
	return 0;
}

/* ---- pass 2: merge and validate ---- */

/* Reads the thread's next record into peek; 0 when there is none. */
static int advance(struct checker *c, struct thread *t)
{
	for (;;) {
		if (t->cur_batch < 0)
			return t->has_peek = 0;
		size_t off = weft_cursor_offset(&t->cur);
		int rc = weft_cursor_next(c->r, &t->cur, &t->peek);
		if (rc == WEFT_READ_OK) {
			t->peek_offset = off;
			return t->has_peek = 1;
		}
		t->cur_batch = c->batches[t->cur_batch].next;
		if (t->cur_batch >= 0)
			weft_cursor_init(&t->cur, &c->batches[t->cur_batch].b);
	}
}

static int earlier(const struct thread *a, const struct thread *b)
{
	if (a->peek.ts != b->peek.ts)
		return a->peek.ts < b->peek.ts;
	return a->serial < b->serial;
}

static void heap_push(struct checker *c, struct thread *t)
{
	uint32_t i = c->nheap++;
	while (i > 0) {
		uint32_t parent = (i - 1) / 2;
		if (!earlier(t, c->heap[parent]))
			break;
		c->heap[i] = c->heap[parent];
		i = parent;
	}
	c->heap[i] = t;
}

static struct thread *heap_pop(struct checker *c)
{
	struct thread *min = c->heap[0];
	struct thread *last = c->heap[--c->nheap];
	uint32_t i = 0;
	for (;;) {
		uint32_t l = 2 * i + 1, r = l + 1, m = i;
		const struct thread *best = last;
		if (l < c->nheap && earlier(c->heap[l], best)) {
			m = l;
			best = c->heap[l];
		}
		if (r < c->nheap && earlier(c->heap[r], best))
			m = r;
		if (m == i)
			break;
		c->heap[i] = c->heap[m];
		i = m;
	}
	if (c->nheap)
		c->heap[i] = last;
	return min;
}

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
};

/* Wait keys: a waiting event waits for a thread or an object to change,
 * or for an object's sequence to reach the number before its own.  The
 * low two bits tell which; no key is 0 (the map's empty key).  Keys that
 * collide only cost a needless wake. */
static uint64_t thread_key(uint32_t serial)
{
	return (uint64_t)serial << 2;
}

static uint64_t object_key(uint64_t addr)
{
	return addr << 2 | 1;
}

static uint64_t seq_key(uint64_t addr, uint64_t seq)
{
	return (addr ^ seq * 0x9e3779b97f4a7c15ull) << 2 | 2;
}

__attribute__((format(printf, 3, 4)))
static enum verdict say(struct judgement *j, enum verdict v, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->why, sizeof j->why, fmt, ap);
	va_end(ap);
	return j->v = v;
}

/* The pending event cannot apply before what key names changes. */
__attribute__((format(printf, 3, 4)))
static enum verdict wait_for(struct judgement *j, uint64_t key, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(j->why, sizeof j->why, fmt, ap);
	va_end(ap);
	j->key = key;
	return j->v = WAIT;
}

/* Whether seq is the next sequence number of o. */
static enum verdict seq_ready(struct checker *c, struct judgement *j,
			      struct object *o, uint64_t seq)
{
	if (seq == 0)
		return j->v = APPLY;
	if (seq == o->last_seq + 1 || (lenient(c) && seq > o->last_seq))
		return j->v = APPLY;
	if (seq <= o->last_seq)
		return say(j, BAD, "sequence number %" PRIu64 " of object 0x%" PRIx64
			   " comes after %" PRIu64, seq, o->addr, o->last_seq);
	return wait_for(j, seq_key(o->addr, seq), "waits for sequence number %"
			PRIu64 " of object 0x%" PRIx64, o->last_seq + 1, o->addr);
}

/* The thread must be in state (state, object) before an ending event. */
static enum verdict expect_top(struct checker *c, struct judgement *j,
			       struct thread *t, uint8_t state, uint64_t object,
			       const char *begin)
{
	const struct state *s = top(t);
	if (t->unknown || c->relaxed)
		return j->v = APPLY;
	if (s->state == state && s->object == object)
		return j->v = APPLY;
	return say(j, BAD, "no %s before it (the thread is %s)", begin,
		   state_name(s->state));
}

/* An acquisition or failure with the contended flag ends the blocked
 * state its BLOCK record began: the thread must be in it. */
static enum verdict ends_block(struct checker *c, struct judgement *j,
			       struct thread *t, uint64_t flags, uint8_t state,
			       uint64_t object, const char *begin)
{
	if (!(flags & WEFT_FLAG_CONTENDED))
		return j->v = APPLY;
	return expect_top(c, j, t, state, object, begin);
}

/* Pushes a state; returns it, or NULL when the stack is full. */
static struct state *push_state(struct thread *t, uint8_t state, uint8_t syscall,
				uint64_t object)
{
	if (t->depth == STATE_DEPTH) {
		t->unknown = 1;
		return NULL;
	}
	t->stack[t->depth] = (struct state){ state, syscall, object, 0, 0, 0 };
	return &t->stack[t->depth++];
}

/* An object's state at the start of an identity: free, no readers, no
 * value or round known. */
static void begin_identity(struct object *o)
{
	o->known = 1;
	o->holder = o->depth = o->writer = o->readers = 0;
	o->early_readers = 0;
	o->sem_known = 0;
	o->barrier_count = 0;
	o->arrivals = o->departures = 0;
	o->hold_gen = 0;
}

/* A lock's hold by t begins with its pending event. */
static void note_hold(struct checker *c, struct object *o, const struct thread *t,
		      int contended)
{
	o->hold_offset = t->peek_offset;
	o->hold_gen = c->gen;
	o->hold_stack = contended && t->site_gen == c->gen ? t->site_stack : 0;
}

/* *_INIT: a new identity, whatever the address held before. */
static void apply_init(struct checker *c, struct thread *t, struct object *o,
		       uint64_t result)
{
	if (result)
		return;
	finding_lifetime(c, t, o, 1);
	begin_identity(o);
}

/* *_DESTROY: ends the identity (the next use is a new one, as with a
 * static initializer); a refused destroy (EBUSY) changes nothing. */
static void apply_destroy(struct checker *c, struct thread *t, struct object *o,
			  uint64_t result)
{
	finding_lifetime(c, t, o, 0);
	if (result == 0)
		begin_identity(o);
}

static void pop_state(struct thread *t)
{
	if (t->depth)
		t->depth--;
}

/* A STATUS or STATUS_NESTED record states s (a syscall's object is not
 * compared). */
static int same_state(const struct state *s, const uint64_t *a)
{
	return s->state == a[0] && s->syscall == a[1] &&
	       (s->state == WEFT_STATE_SYSCALL || s->object == a[2]);
}

/* One more level of the thread's status group (format/SPEC.md, 7.4). */
static enum verdict status_nested(struct checker *c, struct thread *t,
				  struct judgement *j, int apply)
{
	const uint64_t *a = t->peek.args;
	unsigned level = t->status_levels;
	if (!level || !t->depth)
		return say(j, BAD, "STATUS_NESTED that does not follow the thread's "
			   "STATUS of a wait");
	if (!weft_state_name(a[0]) || a[0] == WEFT_STATE_RUNNING ||
	    a[0] == WEFT_STATE_EXITED)
		return say(j, BAD, "STATUS_NESTED with state %s", state_name((uint8_t)a[0]));
	if (t->carried_known && (level >= t->carried_depth ||
				 !same_state(&t->carried[level], a)))
		return say(j, BAD, "STATUS_NESTED says %s at level %u but the thread "
			   "ended generation %u %s there", state_name((uint8_t)a[0]),
			   level + 1, c->gen - 1,
			   level < t->carried_depth ?
				   state_name(t->carried[level].state) : "with no such level");
	if (apply) {
		push_state(t, (uint8_t)a[0], (uint8_t)a[1], a[2]);
		t->status_levels++;
	}
	return j->v = APPLY;
}

/* The thread's status group ended before its next record: it must have
 * stated every level the previous generation left it in. */
static enum verdict status_group_end(struct checker *c, struct thread *t,
				     struct judgement *j, int apply)
{
	unsigned expected = t->carried_depth > 1 ? t->carried_depth : 1;
	if (t->carried_known && t->status_levels != expected)
		return say(j, BAD, "the thread's STATUS states %u level%s of waits but "
			   "it ended generation %u in %u", t->status_levels,
			   t->status_levels == 1 ? "" : "s", c->gen - 1, expected);
	if (apply)
		t->status_levels = 0;
	return j->v = APPLY;
}

/* Whether a condition wait that ended with result holds its mutex again:
 * woken, timed out, its owner died, or the thread was cancelled in it.
 * Other errors (EINVAL, EPERM) fail before the mutex is released, and
 * ENOTRECOVERABLE after it was, without taking it back. */
static int holds_mutex_again(uint64_t result)
{
	return result == 0 || result == ETIMEDOUT || result == EOWNERDEAD ||
	       result == ECANCELED;
}

/* The end of t's condition wait (COND_WAIT_END args a) on mutex m, whose
 * number is the one after the wait's begin when nothing came between. */
static void apply_cond_wait_end(struct checker *c, struct thread *t,
				struct object *m, const uint64_t *a)
{
	const struct state *w = top(t);
	int ours = t->depth && w->state == WEFT_STATE_BLOCKED_COND && w->object == a[0];
	uint64_t result = a[3];
	/* A wait without holding its mutex: EPERM from an error-checking
	 * mutex is the defined outcome; anything else is the program's
	 * misuse. */
	if (ours && result != EPERM && w->prior_holder != HOLDER_UNKNOWN &&
	    w->prior_holder != t->serial && !c->relaxed)
		finding_wait_unheld(c, t, m, w->prior_holder);
	if (holds_mutex_again(result)) {
		/* (Unsequenced, it says nothing about the mutex.) */
		if (a[2]) {
			m->holder = t->serial;
			m->depth = 1;
			m->known = 1;
			note_hold(c, m, t, 0);
		}
	} else if (ours && result != ENOTRECOVERABLE && w->begin_seq &&
		   m->last_seq == w->begin_seq) {
		m->known = w->prior_holder != HOLDER_UNKNOWN;
		m->holder = m->known ? w->prior_holder : 0;
		m->depth = m->known ? w->prior_depth : 0;
	}
}

/* Decides whether t's pending event can apply now, and applies it. */
static enum verdict judge(struct checker *c, struct thread *t, struct judgement *j,
			  int apply)
{
	const struct weft_record *e = &t->peek;
	const uint64_t *a = e->args;
	struct object *o = NULL, *m = NULL;
	struct thread *other;

	if (t->exited) {
		/* An exited thread nobody has joined yet is reported in later
		 * generations by a STATUS that says so, and nothing else. */
		if (!t->saw_first && e->code == WEFT_EV_STATUS && a[0] == WEFT_STATE_EXITED) {
			if (apply)
				t->saw_first = 1;
			return j->v = APPLY;
		}
		return say(j, BAD, "event after the thread's THREAD_EXIT");
	}
	if (e->code == WEFT_EV_STATUS_NESTED)
		return status_nested(c, t, j, apply);
	if (t->status_levels && status_group_end(c, t, j, apply) != APPLY)
		return j->v;
	if (!t->saw_first) {
		if (e->code == WEFT_EV_STATUS) {
			/* (When events were lost, a dropped event may have
			 * changed the state the STATUS reports.) */
			int carried = t->last_gen + 1 == c->gen && t->last_gen &&
				      !t->unknown && !c->relaxed;
			const struct state *s = t->depth ? &t->stack[0] : top(t);
			if (carried && !same_state(s, a))
				return say(j, BAD, "STATUS says %s but the thread ended "
					   "generation %u %s", state_name((uint8_t)a[0]),
					   t->last_gen, state_name(s->state));
			if (!weft_state_name(a[0]))
				return say(j, BAD, "STATUS with unknown state %" PRIu64, a[0]);
			if (apply) {
				t->carried_known = (uint8_t)carried;
				t->carried_depth = t->depth;
				memcpy(t->carried, t->stack, sizeof t->stack);
				t->status_levels = 1;
				t->depth = 0;
				t->unknown = 0;
				if (a[0] == WEFT_STATE_EXITED)
					t->exited = 1;
				else if (a[0] != WEFT_STATE_RUNNING)
					push_state(t, (uint8_t)a[0], (uint8_t)a[1], a[2]);
				t->started = 1;
				t->saw_first = 1;
			}
			return j->v = APPLY;
		}
		if (e->code == WEFT_EV_LOST) {
			if (apply) {
				t->unknown = 1;
				t->saw_first = 1;
				t->started = 1;
			}
			return j->v = APPLY;
		}
		if (e->code != WEFT_EV_THREAD_START)
			return say(j, BAD, "the thread's first record in generation %u "
				   "is not STATUS or THREAD_START", c->gen);
	} else if (e->code == WEFT_EV_STATUS) {
		return say(j, BAD, "STATUS after the thread's first record");
	}

	int oi;
	int si = seq_arg(e->code, &oi);
	if (si >= 0 && a[oi]) {
		o = object_get(c, a[oi]);
		if (seq_ready(c, j, o, a[si]) != APPLY)
			return j->v;
	}
	uint64_t flags;
	switch (e->code) {
	case WEFT_EV_LOST:
		if (apply)
			t->unknown = 1;
		break;
	case WEFT_EV_THREAD_START:
		if (t->started)
			return say(j, BAD, "THREAD_START of a thread already started");
		if (a[0]) {
			other = thread_get(c, (uint32_t)a[0]);
			if (!t->created && !lenient(c))
				return wait_for(j, thread_key(t->serial), "waits for T%"
						PRIu64 "'s THREAD_CREATE", a[0]);
			(void)other;
		}
		if (apply) {
			t->started = 1;
			t->saw_first = 1;
			t->depth = 0;
		}
		break;
	case WEFT_EV_THREAD_CREATE:
		if (a[2] == 0) {
			other = thread_get(c, (uint32_t)a[0]);
			if (!other)
				return say(j, BAD, "THREAD_CREATE of serial %" PRIu64
					   " beyond this reader's limit", a[0]);
			if (other->created || other->started)
				return say(j, BAD, "THREAD_CREATE of T%" PRIu64
					   ", which already exists", a[0]);
			if (apply)
				other->created = 1;
		}
		break;
	case WEFT_EV_THREAD_EXIT:
		if (apply) {
			t->exited = 1;
			t->depth = 0;
		}
		break;
	case WEFT_EV_JOIN_BEGIN:
		if (apply)
			push_state(t, WEFT_STATE_BLOCKED_JOIN, 0, a[0]);
		break;
	case WEFT_EV_JOIN_END:
		if (expect_top(c, j, t, WEFT_STATE_BLOCKED_JOIN, a[0], "JOIN_BEGIN") != APPLY)
			return j->v;
		/* The target must have exited first, if this session saw it
		 * at all: a thread that ended while tracing was off, and was
		 * joined before the advancer could report it, left nothing;
		 * one that lost events may have lost its THREAD_EXIT. */
		if (a[1] == 0 && a[0]) {
			other = thread_get(c, (uint32_t)a[0]);
			if (other && !other->exited && other->in_session && !other->unknown &&
			    !lenient(c))
				return wait_for(j, thread_key(other->serial), "joins T%"
						PRIu64 ", which has not exited", a[0]);
		}
		if (apply)
			pop_state(t);
		break;
	case WEFT_EV_MUTEX_BLOCK:
		if (apply) {
			o = object_get(c, a[0]);
			/* Blocking on a mutex it holds: a default mutex
			 * deadlocks (unless another thread unlocks it); an
			 * error-checking one fails at once (EDEADLK). */
			if (o->known && o->holder == t->serial && !c->relaxed) {
				t->relock_object = a[0];
				t->relock_offset = t->peek_offset;
				t->relock_gen = c->gen;
				t->relock_stack = a[1];
			}
			push_state(t, WEFT_STATE_BLOCKED_MUTEX, 0, a[0]);
		}
		break;
	case WEFT_EV_MUTEX_ACQUIRE:
	case WEFT_EV_SPIN_ACQUIRE:
		flags = a[2];
		if (e->code == WEFT_EV_MUTEX_ACQUIRE &&
		    ends_block(c, j, t, flags, WEFT_STATE_BLOCKED_MUTEX, a[0], "MUTEX_BLOCK") != APPLY)
			return j->v;
		if (!o)
			o = object_get(c, a[0]);
		/* (With OWNERDEAD, the holder died holding it: a robust
		 * mutex passes to the next thread.) */
		if (o->known && o->holder && o->holder != t->serial &&
		    !(flags & WEFT_FLAG_OWNERDEAD) && !lenient(c))
			return wait_for(j, object_key(o->addr), "0x%" PRIx64 " is held "
					"by T%u", o->addr, o->holder);
		if (apply) {
			o->depth = o->holder == t->serial ? o->depth + 1 : 1;
			if (o->depth == 1)
				note_hold(c, o, t, (flags & WEFT_FLAG_CONTENDED) != 0);
			o->holder = t->serial;
			o->known = 1;
			if (t->relock_object == o->addr)
				t->relock_object = 0;
			if (e->code == WEFT_EV_MUTEX_ACQUIRE && (flags & WEFT_FLAG_CONTENDED))
				pop_state(t);
		}
		break;
	case WEFT_EV_MUTEX_UNLOCK:
	case WEFT_EV_SPIN_UNLOCK:
		if (!o)
			o = object_get(c, a[0]);
		if (a[2] == 0 && o->known && o->holder != t->serial) {
			/* Unsequenced: the holder's own unlock may come first. */
			if (a[1] == 0 && !lenient(c))
				return wait_for(j, object_key(o->addr), "0x%" PRIx64 " is "
						"held by T%u, not this thread", o->addr,
						o->holder);
			/* Sequenced, it is next: the program unlocked a lock
			 * it does not hold (glibc lets it, for a default
			 * mutex or a spin lock), or, in a generation that
			 * lost events, the acquisition was lost. */
			if (a[1] && !c->relaxed && apply)
				finding_unlock(c, t, o, o->holder);
		}
		if (apply && a[2] == 0) {
			if (o->depth > 1 && o->holder == t->serial)
				o->depth--;
			else
				o->holder = o->depth = 0;
			o->known = 1;
		}
		break;
	case WEFT_EV_MUTEX_FAIL:
		if (ends_block(c, j, t, a[1], WEFT_STATE_BLOCKED_MUTEX, a[0], "MUTEX_BLOCK") != APPLY)
			return j->v;
		if (apply && (a[1] & WEFT_FLAG_CONTENDED))
			pop_state(t);
		if (apply && t->relock_object == a[0])
			t->relock_object = 0;
		break;
	case WEFT_EV_RWLOCK_BLOCK:
		if (apply)
			push_state(t, WEFT_STATE_BLOCKED_RWLOCK, 0, a[0]);
		break;
	case WEFT_EV_RWLOCK_ACQUIRE:
		if (ends_block(c, j, t, a[3], WEFT_STATE_BLOCKED_RWLOCK, a[0], "RWLOCK_BLOCK") != APPLY)
			return j->v;
		if (a[2] != WEFT_RW_READ && a[2] != WEFT_RW_WRITE)
			return say(j, BAD, "rwlock mode %" PRIu64 " is neither read nor write", a[2]);
		if (!o)
			o = object_get(c, a[0]);
		if (o->known && !lenient(c)) {
			if (o->writer)
				return wait_for(j, object_key(o->addr), "0x%" PRIx64 " is "
						"held for writing by T%u", o->addr, o->writer);
			if (a[2] == WEFT_RW_WRITE && o->readers)
				return wait_for(j, object_key(o->addr), "0x%" PRIx64 " is "
						"held by %u reader(s)", o->addr, o->readers);
		}
		if (apply) {
			if (!o->known)
				o->early_readers = 1;
			if (a[2] == WEFT_RW_WRITE) {
				o->writer = t->serial;
				o->early_readers = 0;
				note_hold(c, o, t, (a[3] & WEFT_FLAG_CONTENDED) != 0);
			} else {
				o->readers++;
			}
			o->known = 1;
			if (a[3] & WEFT_FLAG_CONTENDED)
				pop_state(t);
		}
		break;
	case WEFT_EV_RWLOCK_UNLOCK:
		if (!o)
			o = object_get(c, a[0]);
		if (apply && a[2] == 0 && o->known && o->writer != t->serial &&
		    !o->readers && !o->early_readers && !c->relaxed) {
			/* Not held: what glibc made of it is unknown. */
			finding_unlock(c, t, o, o->writer);
			o->known = 0;
			o->writer = 0;
			break;
		}
		if (apply && a[2] == 0) {
			if (!o->known)
				o->early_readers = 1;
			if (o->writer == t->serial)
				o->writer = 0;
			else if (o->readers)
				o->readers--;
			o->known = 1;
		}
		break;
	case WEFT_EV_RWLOCK_FAIL:
		if (ends_block(c, j, t, a[2], WEFT_STATE_BLOCKED_RWLOCK, a[0], "RWLOCK_BLOCK") != APPLY)
			return j->v;
		if (apply && (a[2] & WEFT_FLAG_CONTENDED))
			pop_state(t);
		break;
	case WEFT_EV_COND_WAIT_BEGIN:
		/* A wait gives its mutex up (glibc unlocks a default mutex
		 * even when another thread holds it); how the mutex was is
		 * kept for the end of the wait. */
		if (apply) {
			m = o ? o : object_get(c, a[1]);
			uint32_t prior = m->known ? m->holder : HOLDER_UNKNOWN;
			uint32_t prior_depth = m->depth;
			m->holder = m->depth = 0;
			m->known = 1;
			struct state *w = push_state(t, WEFT_STATE_BLOCKED_COND, 0, a[0]);
			if (w) {
				w->prior_holder = c->relaxed ? HOLDER_UNKNOWN : prior;
				w->prior_depth = prior_depth;
				w->begin_seq = a[2];
			}
		}
		break;
	case WEFT_EV_COND_WAIT_END:
		if (expect_top(c, j, t, WEFT_STATE_BLOCKED_COND, a[0], "COND_WAIT_BEGIN") != APPLY)
			return j->v;
		if (holds_mutex_again(a[3]) && a[2]) {
			m = o ? o : object_get(c, a[1]);
			if (m->known && m->holder && m->holder != t->serial && !lenient(c))
				return wait_for(j, object_key(m->addr), "mutex 0x%" PRIx64
						" is held by T%u", m->addr, m->holder);
		}
		if (apply) {
			apply_cond_wait_end(c, t, m = o ? o : object_get(c, a[1]), a);
			pop_state(t);
		}
		break;
	case WEFT_EV_MUTEX_INIT:
	case WEFT_EV_SPIN_INIT:
	case WEFT_EV_RWLOCK_INIT:
	case WEFT_EV_COND_INIT:
		if (apply)
			apply_init(c, t, o = o ? o : object_get(c, a[0]), a[3]);
		break;
	case WEFT_EV_MUTEX_DESTROY:
	case WEFT_EV_SPIN_DESTROY:
	case WEFT_EV_RWLOCK_DESTROY:
	case WEFT_EV_COND_DESTROY:
	case WEFT_EV_BARRIER_DESTROY:
	case WEFT_EV_SEM_DESTROY:
		if (apply)
			apply_destroy(c, t, o = o ? o : object_get(c, a[0]), a[3]);
		break;
	case WEFT_EV_BARRIER_INIT:
		if (apply && a[2] == 0) {
			o = object_get(c, a[0]);
			o->barrier_count = (uint32_t)a[1];
			o->arrivals = o->departures = 0;
		}
		break;
	case WEFT_EV_BARRIER_BEGIN:
		if (apply) {
			if (!o)
				o = object_get(c, a[0]);
			o->arrivals++;
			push_state(t, WEFT_STATE_BLOCKED_BARRIER, 0, a[0]);
		}
		break;
	case WEFT_EV_BARRIER_END:
		if (expect_top(c, j, t, WEFT_STATE_BLOCKED_BARRIER, a[0], "BARRIER_BEGIN") != APPLY)
			return j->v;
		/* Threads leave in rounds of barrier_count, each once its
		 * round is complete: with this departure, at least
		 * ceil(departures / count) rounds are, so as many times count
		 * threads have arrived.  (Which round a thread belongs to is
		 * not known: an arrival is numbered before the real call, and
		 * arrivals made in another order than their numbers form
		 * other rounds than the numbers would say.) */
		o = object_get(c, a[0]);
		if (o->barrier_count && !t->unknown && !lenient(c)) {
			uint64_t rounds = (o->departures + o->barrier_count) / o->barrier_count;
			if (o->arrivals < rounds * o->barrier_count)
				return wait_for(j, object_key(o->addr), "barrier 0x%" PRIx64
						" has had %" PRIu64 " arrivals: a departure "
						"needs %" PRIu64 " (%" PRIu64 " rounds of %u)",
						o->addr, o->arrivals,
						rounds * o->barrier_count, rounds,
						o->barrier_count);
		}
		if (apply) {
			o->departures++;
			pop_state(t);
		}
		break;
	case WEFT_EV_SEM_INIT:
		/* sem_init fails (EINVAL) above SEM_VALUE_MAX; the bound also
		 * keeps the value's arithmetic from overflowing. */
		if (a[2] == 0 && a[1] > SEM_VALUE_MAX)
			return say(j, BAD, "sem_init succeeded with value %" PRIu64
				   ", over SEM_VALUE_MAX (%d)", a[1], SEM_VALUE_MAX);
		if (apply && a[2] == 0) {
			o = object_get(c, a[0]);
			o->sem_known = 1;
			o->sem_value = (int64_t)a[1];
		}
		break;
	case WEFT_EV_SEM_POST:
		if (apply && a[2] == 0 && o && o->sem_known)
			o->sem_value++;
		break;
	case WEFT_EV_SEM_WAIT_BEGIN:
		if (apply)
			push_state(t, WEFT_STATE_BLOCKED_SEM, 0, a[0]);
		break;
	case WEFT_EV_SEM_WAIT_END:
		if (ends_block(c, j, t, a[2], WEFT_STATE_BLOCKED_SEM, a[0], "SEM_WAIT_BEGIN") != APPLY)
			return j->v;
		/* A successful wait takes one from the semaphore's value. */
		if (a[3] == 0 && o && o->sem_known && o->sem_value <= 0 && !lenient(c))
			return wait_for(j, object_key(o->addr), "semaphore 0x%" PRIx64
					" has value %" PRId64 ": no post to take", o->addr,
					o->sem_value);
		if (apply) {
			if (a[3] == 0 && o && o->sem_known)
				o->sem_value--;
			if (a[2] & WEFT_FLAG_CONTENDED)
				pop_state(t);
		}
		break;
	case WEFT_EV_SYSCALL_BEGIN:
		if (!weft_syscall_name(a[0]))
			return say(j, BAD, "unknown syscall id %" PRIu64, a[0]);
		if (apply)
			push_state(t, WEFT_STATE_SYSCALL, (uint8_t)a[0], 0);
		break;
	case WEFT_EV_SYSCALL_END:
		if (!t->unknown && !c->relaxed &&
		    (top(t)->state != WEFT_STATE_SYSCALL || top(t)->syscall != a[0]))
			return say(j, BAD, "SYSCALL_END %s without its SYSCALL_BEGIN or a "
				   "STATUS in it (the thread is %s)",
				   weft_syscall_name(a[0]) ? weft_syscall_name(a[0]) : "?",
				   state_name(top(t)->state));
		if (apply)
			pop_state(t);
		break;
	default:
		break;
	}
	if (apply && o && si >= 0 && a[si])
		o->last_seq = a[si];
	if (apply && o && o->shared)
		forget_state(o);
	if (apply && m && m->shared)
		forget_state(m);
	if (apply && places[e->code].stack >= 0) {
		t->site_offset = t->peek_offset;
		t->site_gen = c->gen;
		t->site_stack = a[places[e->code].stack];
	}
	return j->v = APPLY;
}

static void emit(struct checker *c, uint32_t serial, size_t off,
		 const struct weft_record *rec)
{
	if (!c->fn)
		return;
	struct weft_check_event ev = { c->gen, serial, off, rec };
	c->fn(c->ctx, &ev);
}

static void report_stuck(struct checker *c)
{
	char *p = c->res->error;
	size_t cap = sizeof c->res->error;
	int n = snprintf(p, cap, "generation %u: no consistent ordering of events "
			 "possible; each thread's next event:", c->gen);
	for (uint32_t i = 0; i < c->naside && n > 0 && (size_t)n < cap; i++) {
		struct thread *t = c->aside[i];
		struct judgement j;
		judge(c, t, &j, 0);
		char what[256];
		describe(what, sizeof what, &t->peek);
		n += snprintf(p + n, cap - (size_t)n, "\n  T%u at offset %zu: %s: %s",
			      t->serial, t->peek_offset, what, j.why);
	}
	c->failed = 1;
	c->res->verdict = WEFT_CHECK_INCONSISTENT;
}

/* Sets t aside until what its pending event waits for changes. */
static void set_aside(struct checker *c, struct thread *t, uint64_t key)
{
	uint32_t i = u64map_get(&c->waiting_for, key);
	if (!i) {
		if (c->nwaiters == c->waiters_cap) {
			c->waiters_cap = c->waiters_cap ? c->waiters_cap * 2 : 64;
			c->waiters = realloc(c->waiters, c->waiters_cap * sizeof *c->waiters);
			if (!c->waiters)
				abort();
		}
		c->waiters[c->nwaiters++] = NULL;
		i = c->nwaiters;
		u64map_put(&c->waiting_for, key, i);
	}
	t->wait_key = key;
	t->next_waiter = c->waiters[i - 1];
	c->waiters[i - 1] = t;
	t->aside_index = c->naside;
	c->aside[c->naside++] = t;
}

/* Puts the threads waiting for key back in the running. */
static void wake(struct checker *c, uint64_t key)
{
	uint32_t i = key ? u64map_get(&c->waiting_for, key) : 0;
	if (!i)
		return;
	for (struct thread *t = c->waiters[i - 1], *next; t; t = next) {
		next = t->next_waiter;
		struct thread *last = c->aside[--c->naside];
		c->aside[t->aside_index] = last;
		last->aside_index = t->aside_index;
		heap_push(c, t);
	}
	c->waiters[i - 1] = NULL;
}

/* Wakes what an applied event of t may have changed: t itself, the
 * threads and the objects it names, and the next number of the sequence
 * it took. */
static void wake_after(struct checker *c, const struct thread *t)
{
	if (!c->naside)
		return;
	const struct weft_record *e = &t->peek;
	const struct weft_event_desc *d = &weft_events[e->code];
	wake(c, thread_key(t->serial));
	for (unsigned i = 0; i < d->nargs; i++) {
		if (d->kinds[i] == 'T')
			wake(c, thread_key((uint32_t)e->args[i]));
		else if (d->kinds[i] == 'o')
			wake(c, object_key(e->args[i]));
	}
	int oi, si = seq_arg(e->code, &oi);
	if (si >= 0 && e->args[si])
		wake(c, seq_key(e->args[oi], e->args[si] + 1));
}

/* Puts every waiting thread back in the running, in the order they were
 * set aside. */
static void wake_all(struct checker *c)
{
	for (uint32_t i = 0; i < c->nwaiters; i++)
		c->waiters[i] = NULL;
	for (uint32_t i = 0; i < c->naside; i++)
		heap_push(c, c->aside[i]);
	c->naside = 0;
}

/* Appends to the result's note. */
__attribute__((format(printf, 2, 3)))
static void add_note(struct checker *c, const char *fmt, ...)
{
	char *note = c->res->note;
	size_t len = strlen(note), cap = sizeof c->res->note;
	if (len && len + 2 < cap)
		len += (size_t)snprintf(note + len, cap - len, "; ");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(note + len, cap - len, fmt, ap);
	va_end(ap);
}

/*
 * The rest of a generation that may lack events, once the checker has had
 * to guess and the guess led nowhere: a contradiction after a missing
 * cause was let go convicts the guess, not the trace, and a cut-short
 * generation that no guess can order is explained by the batches that
 * were never written.  Its remaining events go out in timestamp order,
 * unchecked, and what they touched is in an unknown state afterwards.
 * pending is a thread whose peeked event was not emitted, or NULL.
 */
static int emit_unchecked(struct checker *c, struct thread *pending)
{
	size_t from = SIZE_MAX;
	if (pending)
		heap_push(c, pending);
	wake_all(c);
	for (uint32_t i = 0; i < c->nheap; i++)
		if (c->heap[i]->peek_offset < from)
			from = c->heap[i]->peek_offset;
	add_note(c, "generation %u %s: its events from offset %zu on could not be "
		 "ordered without them and are given in timestamp order, unchecked",
		 c->gen, c->cut_short ? "is cut short" : "lost events", from);
	while (c->nheap) {
		struct thread *t = heap_pop(c);
		emit(c, t->serial, t->peek_offset, &t->peek);
		t->last_gen = c->gen;
		t->unknown = 1;
		t->saw_first = 1;
		if (advance(c, t))
			heap_push(c, t);
	}
	for (uint32_t i = 0; i < c->ngen_objects; i++) {
		struct object *o = &c->objects[c->gen_objects[i]];
		o->known = o->sem_known = 0;
		o->holder = o->depth = o->writer = o->readers = 0;
		o->barrier_count = 0;
	}
	return 0;
}

static int merge(struct checker *c)
{
	uint32_t n = c->nactive;
	c->heap = realloc(c->heap, (n + 1) * sizeof *c->heap);
	c->aside = realloc(c->aside, (n + 1) * sizeof *c->aside);
	if (!c->heap || !c->aside)
		abort();
	c->nheap = c->naside = 0;
	u64map_free(&c->waiting_for);
	c->nwaiters = 0;
	for (uint32_t s = 0; s < c->nactive; s++) {
		struct thread *t = c->active[s];
		t->cur_batch = t->first_batch;
		weft_cursor_init(&t->cur, &c->batches[t->cur_batch].b);
		if (advance(c, t))
			heap_push(c, t);
	}
	/* Waiting threads come back when what they wait for changes; once
	 * nothing else can go on, all of them are judged once more before
	 * the generation is given up (or, when it lost events, before a
	 * missing cause is let go). */
	int rejudged = 0;
	for (;;) {
		if (!c->nheap) {
			if (!c->naside)
				break;
			if (rejudged) {
				if (c->relaxed && c->relief)
					return emit_unchecked(c, NULL);
				if (!c->relaxed) {
					report_stuck(c);
					return -1;
				}
				c->relief = c->guessed = 1;
			}
			rejudged = 1;
			wake_all(c);
		}
		struct thread *t = heap_pop(c);
		struct judgement j;
		enum verdict v = judge(c, t, &j, 0);
		if (v == BAD && c->guessed)
			return emit_unchecked(c, t);
		if (v == BAD) {
			char what[256];
			describe(what, sizeof what, &t->peek);
			fail(c, "offset %zu: generation %u, thread %u: %s: %s",
			     t->peek_offset, c->gen, t->serial, what, j.why);
			return -1;
		}
		if (v == WAIT) {
			set_aside(c, t, j.key);
			continue;
		}
		rejudged = 0;
		for (;;) {
			judge(c, t, &j, 1);
			c->relief = 0;
			emit(c, t->serial, t->peek_offset, &t->peek);
			wake_after(c, t);
			t->last_gen = c->gen;
			if (!advance(c, t))
				break;
			/* The same thread goes on while it is still the earliest:
			 * no heap traffic. */
			if ((c->nheap && !earlier(t, c->heap[0])) ||
			    judge(c, t, &j, 0) != APPLY) {
				heap_push(c, t);
				break;
			}
		}
	}
	return 0;
}

/* Emits the generation's process records (tables, markers) in file order. */
static int process_records(struct checker *c)
{
	for (uint32_t i = 0; i < c->nbatches; i++) {
		const struct weft_batch *b = &c->batches[i].b;
		if (b->header.serial != 0)
			continue;
		struct weft_cursor cur;
		struct weft_record rec;
		weft_cursor_init(&cur, b);
		size_t off = weft_cursor_offset(&cur);
		while (weft_cursor_next(c->r, &cur, &rec) == WEFT_READ_OK) {
			if (rec.code == WEFT_EV_CLOCK && rec.args[1])
				c->res->frequency = rec.args[1];
			if (rec.code == WEFT_EV_TRACE_END)
				c->res->complete = 1;
			emit(c, 0, off, &rec);
			off = weft_cursor_offset(&cur);
		}
	}
	return 0;
}

/*
 * Each object's sequence at the start of the generation.  In format
 * version 2 an object's numbers restart at 1 in every generation and run
 * 1..n without a gap, and all of its events of one generation were
 * numbered before any of the next (format/SPEC.md, section 7.2): so its
 * state carries over from the previous generation as it was, and a first
 * number other than 1 means events were lost, which only a generation
 * that says so (LOST, or cut short) may have.  In version 1 numbers ran on
 * across generations, and one that did not continue from the previous
 * generation's last restarted the object's state.  An object whose
 * sequence does not start where it should is in an unknown state.
 */
static int start_sequences(struct checker *c)
{
	for (uint32_t i = 0; i < c->ngen_objects; i++) {
		struct object *o = &c->objects[c->gen_objects[i]];
		uint64_t expected = c->numbers_restart ? 1 : o->last_seq + 1;
		if (c->numbers_restart && o->min_seq != 1 && !c->relaxed) {
			fail(c, "generation %u: object 0x%" PRIx64 "'s first sequence "
			     "number is %" PRIu64 ", not 1, and the generation lost no "
			     "events", c->gen, o->addr, o->min_seq);
			return -1;
		}
		if (o->min_seq != expected)
			forget_state(o);
		o->last_seq = o->min_seq - 1;
	}
	return 0;
}

/* A generation lost events: one dropped before it took a number (no
 * buffer) leaves no gap, yet may have changed any object (a post, an
 * unlock), so no object's state carries over to the next generation. */
static void forget_objects(struct checker *c)
{
	for (uint32_t i = 0; i < c->nobjects; i++)
		forget_state(&c->objects[i]);
}

/* Checks the gathered generation; 0 when it is consistent.  A generation
 * cut short (no GEN_END: the process was killed) may lack any of its
 * batches, so causes that are missing are not held against it. */
static int check_generation(struct checker *c, int cut_short)
{
	c->relaxed = c->cut_short = cut_short;
	c->relief = c->guessed = 0;
	c->gen_lost = 0;
	u64map_free(&c->strings);
	u64map_free(&c->stacks);
	u64map_free(&c->stack_uses);
	if (prepass(c) < 0)
		return -1;
	if (start_sequences(c) < 0)
		return -1;
	if (merge(c) < 0)
		return -1;
	process_records(c);
	c->res->generations++;
	c->res->lost += c->gen_lost;
	if (c->gen_lost) {
		add_note(c, "generation %u lost %" PRIu64 " events: ordering of the "
			 "objects they touched was checked loosely", c->gen, c->gen_lost);
		forget_objects(c);
	}
	return 0;
}

/* Finds the GEN_END in a process batch: 1 with its arguments, 0 when the
 * batch has none, or -1 when the batch does not decode. */
static int gen_end_in(struct checker *c, const struct weft_batch *b,
		      uint64_t *generation, uint64_t *batches, uint64_t *stopped)
{
	struct weft_cursor cur;
	struct weft_record rec;
	int rc;
	weft_cursor_init(&cur, b);
	while ((rc = weft_cursor_next(c->r, &cur, &rec)) == WEFT_READ_OK)
		if (rec.code == WEFT_EV_GEN_END) {
			*generation = rec.args[0];
			*batches = rec.args[1];
			*stopped = rec.args[2];
			return 1;
		}
	return rc == WEFT_READ_END ? 0 : -1;
}

/* Tracing stopped after the generation just checked: what threads and
 * objects did while it was off is unknown, so the next generation starts
 * from its STATUS records alone.  Life-cycle facts (created, started,
 * exited) are kept: a join in a later session may name a thread that
 * exited in an earlier one. */
static void forget_session(struct checker *c)
{
	for (uint32_t s = 0; s < c->nall; s++) {
		struct thread *t = c->all[s];
		t->last_gen = 0;
		t->depth = 0;
		t->unknown = 0;
		t->in_session = 0;
	}
	findings_report_relocks(c);
	c->nobjects = 0;
	c->null_object = 0;
	u64map_free(&c->object_index);
}

/* Whether a process batch holds nothing but TRACE_END. */
static int only_trace_end(struct checker *c, const struct weft_batch *b)
{
	struct weft_cursor cur;
	struct weft_record rec;
	int n = 0, ends = 0;
	weft_cursor_init(&cur, b);
	while (weft_cursor_next(c->r, &cur, &rec) == WEFT_READ_OK) {
		n++;
		ends += rec.code == WEFT_EV_TRACE_END;
	}
	return n == 1 && ends == 1;
}

static void start_next_generation(struct checker *c)
{
	c->last_checked = c->gen;
	c->nbatches = 0;
	c->gen = 0;
	/* Batches of the next generation that arrived early. */
	struct gbatch *early = c->later;
	uint32_t n = c->nlater;
	c->later = NULL;
	c->nlater = c->later_cap = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!c->gen)
			c->gen = early[i].b.header.generation;
		add_batch(&c->batches, &c->nbatches, &c->batches_cap, &early[i].b);
	}
	free(early);
}

enum weft_verdict weft_check(struct weft_reader *r, weft_check_fn fn, void *ctx,
			     struct weft_check_result *res)
{
	struct checker c = { .r = r, .res = res, .fn = fn, .ctx = ctx,
			     .numbers_restart = r->header.version >= 2 };
	if (places[0].seq == 0)
		find_places();
	memset(res, 0, sizeof *res);
	res->first_ts = UINT64_MAX;
	res->frequency = r->header.frequency;
	struct weft_batch b;
	int rc;
	uint64_t thread_batches = 0;
	while (!c.failed && (rc = weft_reader_next_batch(r, &b)) == WEFT_READ_OK) {
		uint32_t g = b.header.generation;
		res->batches++;
		res->bytes += WEFT_BATCH_HEADER_SIZE + b.header.length;
		if (g == c.last_checked && b.header.serial == 0 && c.nbatches == 0 &&
		    only_trace_end(&c, &b)) {
			/* The end marker of a process whose tracing was off. */
			res->complete = 1;
			continue;
		}
		if (g <= c.last_checked) {
			fail(&c, "offset %zu: batch of thread %u belongs to generation %u, "
			     "which already ended", b.offset, b.header.serial, g);
			break;
		}
		if (!c.gen)
			c.gen = g;
		if (g != c.gen) {
			if (g != c.gen + 1) {
				fail(&c, "offset %zu: batch of generation %u while generation "
				     "%u is still open (generations out of order)",
				     b.offset, g, c.gen);
				break;
			}
			add_batch(&c.later, &c.nlater, &c.later_cap, &b);
			continue;
		}
		if (c.last_checked && g != c.last_checked + 1 && c.nbatches == 0) {
			fail(&c, "offset %zu: generation %u follows generation %u "
			     "(generations out of order)", b.offset, g, c.last_checked);
			break;
		}
		add_batch(&c.batches, &c.nbatches, &c.batches_cap, &b);
		if (b.header.serial) {
			thread_batches++;
			continue;
		}
		uint64_t ended = 0, claimed = 0, stopped = 0;
		int found = gen_end_in(&c, &b, &ended, &claimed, &stopped);
		if (found < 0) {
			fail(&c, "%s", c.r->error);
			break;
		}
		if (!found)
			continue;
		if (ended != g) {
			fail(&c, "offset %zu: GEN_END names generation %" PRIu64 " in a "
			     "batch of generation %u", b.offset, ended, g);
			break;
		}
		if (claimed != thread_batches) {
			fail(&c, "offset %zu: generation %u: GEN_END counts %" PRIu64
			     " thread batches but %" PRIu64 " were read (batches are "
			     "missing)", b.offset, g, claimed, thread_batches);
			break;
		}
		if (check_generation(&c, 0) < 0)
			break;
		if (stopped)
			forget_session(&c);
		thread_batches = 0;
		for (uint32_t i = 0; i < c.nlater; i++)
			thread_batches += c.later[i].b.header.serial != 0;
		start_next_generation(&c);
		/* Everything before the earliest batch still held is done. */
		weft_reader_release(r, c.nbatches ? c.batches[0].b.offset : r->pos);
	}
	/* A batch cut at the very end of the file is a process stopped
	 * mid-write; anything else is damage. */
	if (!c.failed && rc == WEFT_READ_TRUNCATED) {
		add_note(&c, "%s", r->error);
		res->verdict = WEFT_CHECK_TRUNCATED;
	} else if (!c.failed && rc != WEFT_READ_END) {
		fail(&c, "%s", r->error);
	}
	if (!c.failed && c.nbatches) {
		/* The last generation never ended: check what there is. */
		if (check_generation(&c, 1) == 0)
			add_note(&c, "generation %u has no end marker (checked as far "
				 "as its batches go)", c.gen);
		res->verdict = c.failed ? WEFT_CHECK_INCONSISTENT : WEFT_CHECK_TRUNCATED;
	}
	if (!c.failed)
		findings_report_relocks(&c);
	if (!c.failed && res->verdict == WEFT_CHECK_OK && !res->complete) {
		add_note(&c, "no end-of-trace record: the process stopped before "
			 "finishing its trace");
		res->verdict = WEFT_CHECK_TRUNCATED;
	}
	if (res->first_ts == UINT64_MAX)
		res->first_ts = res->last_ts = 0;
	for (uint32_t s = 0; s < c.nall; s++)
		free(c.all[s]);
	free(c.all);
	free(c.active);
	free(c.gen_objects);
	free(c.threads);
	free(c.objects);
	free(c.batches);
	free(c.later);
	free(c.heap);
	free(c.aside);
	u64map_free(&c.object_index);
	u64map_free(&c.waiting_for);
	free(c.waiters);
	u64map_free(&c.strings);
	u64map_free(&c.stacks);
	u64map_free(&c.stack_uses);
	return res->verdict;
}
