/*
 * generation.c - gathering one generation for the validator: the batches
 * that belong to it (and those of the next that arrive early), its GEN_END,
 * and the structural pass over its records before they are ordered: string
 * and stack tables (ids defined once, ids used are defined), records in
 * the right kind of batch, each thread's batches linked in order, each
 * object's lowest sequence number, and the clock and end markers.
 */
#include "generation.h"

#include <inttypes.h>
#include <stdlib.h>

#include "grow.h"
#include "order.h"

void add_batch(struct gbatch **v, uint32_t *n, uint32_t *cap,
		      const struct weft_batch *b)
{
	WEFT_GROW(*v, *n, *cap, 256);
	(*v)[*n].b = *b;
	(*v)[*n].next = -1;
	(*n)++;
}

static int prepass_record(struct checker *c, const struct weft_batch *b,
			  const struct weft_record *rec, size_t off)
{
	const struct weft_event_desc *d = &weft_events[rec->code];
	uint32_t g = b->header.generation;
	if (b->header.serial == 0) {
		if (d->timed) {
			check_fail(c, "offset %zu: generation %u: %s in a process batch "
			     "(thread records belong in thread batches)", off, g, d->name);
			return -1;
		}
		switch (rec->code) {
		case WEFT_EV_STRING:
			if (rec->args[0] == 0 || u64map_get(&c->strings, rec->args[0])) {
				check_fail(c, "offset %zu: generation %u: string id %" PRIu64
				     " defined twice", off, g, rec->args[0]);
				return -1;
			}
			u64map_put(&c->strings, rec->args[0], 1);
			break;
		case WEFT_EV_STACK:
			if (rec->args[0] == 0 || u64map_get(&c->stacks, rec->args[0])) {
				check_fail(c, "offset %zu: generation %u: stack id %" PRIu64
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
		case WEFT_EV_MODE:
			if (rec->args[0] != WEFT_MODE_FULL &&
			    rec->args[0] != WEFT_MODE_CONTENTION) {
				check_fail(c, "offset %zu: generation %u: unknown mode %"
				     PRIu64, off, g, rec->args[0]);
				return -1;
			}
			c->light = rec->args[0] == WEFT_MODE_CONTENTION;
			break;
		case WEFT_EV_SYMBOL:
			if (!u64map_get(&c->strings, rec->args[1])) {
				check_fail(c, "offset %zu: generation %u: SYMBOL names string id "
				     "%" PRIu64 ", which is not defined before it",
				     off, g, rec->args[1]);
				return -1;
			}
			break;
		}
		return 0;
	}
	if (!d->timed) {
		check_fail(c, "offset %zu: generation %u, thread %u: %s in a thread batch "
		     "(tables belong in process batches)", off, g, b->header.serial,
		     d->name);
		return -1;
	}
	int k = d->stack_arg;
	if (k >= 0 && rec->args[k] && !u64map_get(&c->stack_uses, rec->args[k]))
		u64map_put(&c->stack_uses, rec->args[k],
			   (uint32_t)(off > UINT32_MAX ? UINT32_MAX : off));
	if (rec->code == WEFT_EV_LOST) {
		c->relaxed = 1;
		c->gen_lost += rec->args[0];
	}
	int si = d->seq_arg, oi = d->seq_object_arg;
	if (si >= 0 && rec->args[si] && rec->args[oi]) {
		struct object *o = object_get(c, rec->args[oi]);
		if (o->min_gen != g) {
			WEFT_GROW(c->gen_objects, c->ngen_objects, c->gen_objects_cap, 256);
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
int prepass(struct checker *c)
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
			check_fail(c, "%s", c->r->error);
			return -1;
		}
		if (b->header.serial == 0)
			continue;
		struct thread *t = thread_get(c, b->header.serial);
		if (!t) {
			check_fail(c, "offset %zu: thread serial %u is beyond this reader's "
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
				check_fail(c, "offset %zu: generation %u, thread %u: a second "
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
				check_fail(c, "offset %zu: generation %u, thread %u: timestamps "
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
			check_fail(c, "offset %u: generation %u: stack id %" PRIu64 " is used "
			     "but never defined", c->stack_uses.vals[i], c->gen, id);
			return -1;
		}
	}
	return 0;
}

/* Emits the generation's process records (tables, markers) in file order. */
int emit_process_records(struct checker *c)
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
			emit_record(c, 0, off, &rec, NULL);
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
int start_sequences(struct checker *c)
{
	for (uint32_t i = 0; i < c->ngen_objects; i++) {
		struct object *o = &c->objects[c->gen_objects[i]];
		uint64_t expected = c->numbers_restart ? 1 : o->last_seq + 1;
		if (c->numbers_restart && o->min_seq != 1 && !c->relaxed) {
			check_fail(c, "generation %u: object 0x%" PRIx64 "'s first sequence "
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
void forget_objects(struct checker *c)
{
	for (uint32_t i = 0; i < c->nobjects; i++)
		forget_state(&c->objects[i]);
}

/* Finds the GEN_END in a process batch: 1 with its arguments, 0 when the
 * batch has none, or -1 when the batch does not decode. */
int gen_end_in(struct checker *c, const struct weft_batch *b,
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

/* Whether a process batch holds nothing but TRACE_END. */
int only_trace_end(struct checker *c, const struct weft_batch *b)
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

void start_next_generation(struct checker *c)
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
