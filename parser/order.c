/*
 * order.c - the merge that puts a generation's thread records in one
 * global order: a heap of thread cursors by timestamp; the earliest thread
 * whose pending event can apply now (rules.c judges it) goes first.  A
 * thread whose event must wait is set aside under what it waits for (a
 * thread, an object, a sequence number) and woken when an applied event
 * changes that.  When no thread can go on the trace has no consistent
 * order (report_stuck), unless the generation may lack events, when one
 * missing cause at a time is let go, or what is left goes out unchecked.
 */
#include "order.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "rules.h"

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

/* Starts reading t's records from batch i of the generation. */
static void start_batch(struct checker *c, struct thread *t, int32_t i)
{
	const struct gbatch *gb = &c->batches[i];
	t->cur_batch = i;
	t->cache_pos = gb->cache_begin;
	t->cache_end = gb->cache_end;
	t->cache_state = (struct reccache_state){ gb->b.header.base_ts, 0 };
	t->cache_offset = gb->b.offset + WEFT_BATCH_HEADER_SIZE;
}

/* Reads the thread's next record into peek, from the records decoding
 * kept; 0 when there is none. */
static int advance(struct checker *c, struct thread *t)
{
	for (;;) {
		if (t->cur_batch < 0)
			return t->has_peek = 0;
		if (t->cache_pos < t->cache_end) {
			t->peek_offset = t->cache_offset;
			t->cache_offset += reccache_get(c->g->cache.p, c->kinds,
							&t->cache_pos,
							&t->cache_state, &t->peek);
			return t->has_peek = 1;
		}
		int32_t next = c->batches[t->cur_batch].next;
		if (next < 0)
			t->cur_batch = -1;
		else
			start_batch(c, t, next);
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

void emit_record(struct checker *c, uint32_t serial, size_t off,
		 const struct weft_record *rec, const struct weft_state_change *change)
{
	if (!c->fn)
		return;
	struct weft_check_event ev = { c->gen, serial, off, rec, change };
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
		WEFT_GROW(c->waiters, c->nwaiters, c->waiters_cap, 64);
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
	int oi = d->seq_object_arg, si = d->seq_arg;
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
	check_note(c, "generation %u %s: its events from offset %zu on could not be "
		 "ordered without them and are given in timestamp order, unchecked",
		 c->gen, c->cut_short ? "is cut short" : "lost events", from);
	while (c->nheap) {
		struct thread *t = heap_pop(c);
		emit_record(c, t->serial, t->peek_offset, &t->peek, NULL);
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

int merge_generation(struct checker *c)
{
	uint32_t n = c->nactive;
	c->heap = realloc(c->heap, (n + 1) * sizeof *c->heap);
	c->aside = realloc(c->aside, (n + 1) * sizeof *c->aside);
	if (!c->heap || !c->aside)
		abort();
	c->nheap = c->naside = 0;
	c->kinds = reccache_kinds();
	u64map_free(&c->waiting_for);
	c->nwaiters = 0;
	for (uint32_t s = 0; s < c->nactive; s++) {
		struct thread *t = c->active[s];
		start_batch(c, t, t->first_batch);
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
			check_fail(c, "offset %zu: generation %u, thread %u: %s: %s",
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
			emit_record(c, t->serial, t->peek_offset, &t->peek, &j.change);
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
