/*
 * generation.c - one generation for the validator: its batches and its
 * GEN_END, and the structural pass over its records before they are
 * ordered, in two steps.  Decoding reads each record once and needs
 * nothing but the generation: string and stack tables (ids defined once,
 * ids used are defined), records in the right kind of batch, each
 * object's lowest sequence number, and the thread records kept for the
 * merge in a compact form (reccache.h).  Linking then, in file order,
 * links each thread's batches, applies that to the checker's threads and
 * objects, and reports decoding's first problem where the file order puts
 * it.  Last come the clock and end markers.
 */
#include "generation.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_args.h"
#include "grow.h"
#include "order.h"

void gen_add_batch(struct gen *g, const struct weft_batch *b)
{
	WEFT_GROW(g->batches, g->nbatches, g->batches_cap, 256);
	g->batches[g->nbatches].b = *b;
	g->batches[g->nbatches].next = -1;
	g->nbatches++;
}

void gen_free(struct gen *g)
{
	free(g->batches);
	reccache_free(&g->cache);
	free(g->seqs);
	free(g->shared);
	u64map_free(&g->seq_index);
	u64map_free(&g->strings);
	u64map_free(&g->stacks);
	u64map_free(&g->stack_uses);
	memset(g, 0, sizeof *g);
}

/* Decoding met a problem in batch i: it is the generation's first. */
__attribute__((format(printf, 3, 4)))
static int gen_fail(struct gen *g, uint32_t i, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(g->error, sizeof g->error, fmt, ap);
	va_end(ap);
	g->fail_batch = i;
	return -1;
}

static int decode_record(struct gen *g, uint32_t i, const struct weft_record *rec,
			 size_t off)
{
	const struct weft_batch *b = &g->batches[i].b;
	const struct weft_event_desc *d = &weft_events[rec->code];
	uint32_t gn = b->header.generation;
	if (b->header.serial == 0) {
		if (d->timed)
			return gen_fail(g, i, "offset %zu: generation %u: %s in a process "
					"batch (thread records belong in thread batches)",
					off, gn, d->name);
		switch (rec->code) {
		case WEFT_EV_STRING:
			if (rec->args[0] == 0 || u64map_get(&g->strings, rec->args[0]))
				return gen_fail(g, i, "offset %zu: generation %u: string id %"
						PRIu64 " defined twice", off, gn, rec->args[0]);
			u64map_put(&g->strings, rec->args[0], 1);
			break;
		case WEFT_EV_STACK:
			if (rec->args[0] == 0 || u64map_get(&g->stacks, rec->args[0]))
				return gen_fail(g, i, "offset %zu: generation %u: stack id %"
						PRIu64 " defined twice", off, gn, rec->args[0]);
			u64map_put(&g->stacks, rec->args[0], 1);
			break;
		case WEFT_EV_OBJECT_SHARED:
			/* Other processes hold, post and arrive unseen: its
			 * events here are ordered by their numbers, but no
			 * verdict or finding rests on its state (this
			 * process's numbers are its own). */
			WEFT_GROW(g->shared, g->nshared, g->shared_cap, 16);
			g->shared[g->nshared++] = rec->args[0];
			break;
		case WEFT_EV_MODE:
			if (rec->args[0] != WEFT_MODE_FULL &&
			    rec->args[0] != WEFT_MODE_CONTENTION)
				return gen_fail(g, i, "offset %zu: generation %u: unknown "
						"mode %" PRIu64, off, gn, rec->args[0]);
			g->light = rec->args[0] == WEFT_MODE_CONTENTION;
			break;
		case WEFT_EV_MODULE:
			if (rec->args[WEFT_ARG_MODULE_PATH] &&
			    !u64map_get(&g->strings, rec->args[WEFT_ARG_MODULE_PATH]))
				return gen_fail(g, i, "offset %zu: generation %u: MODULE names "
						"string id %" PRIu64 ", which is not defined "
						"before it", off, gn, rec->args[WEFT_ARG_MODULE_PATH]);
			break;
		case WEFT_EV_SYMBOL:
			if (!u64map_get(&g->strings, rec->args[1]))
				return gen_fail(g, i, "offset %zu: generation %u: SYMBOL names "
						"string id %" PRIu64 ", which is not defined "
						"before it", off, gn, rec->args[1]);
			break;
		}
		return 0;
	}
	if (!d->timed)
		return gen_fail(g, i, "offset %zu: generation %u, thread %u: %s in a "
				"thread batch (tables belong in process batches)", off,
				gn, b->header.serial, d->name);
	int k = d->stack_arg;
	if (k >= 0 && rec->args[k] && !u64map_get(&g->stack_uses, rec->args[k]))
		u64map_put(&g->stack_uses, rec->args[k],
			   (uint32_t)(off > UINT32_MAX ? UINT32_MAX : off));
	if (rec->code == WEFT_EV_LOST) {
		g->lost_records = 1;
		g->lost += rec->args[0];
	}
	int si = d->seq_arg, oi = d->seq_object_arg;
	if (si >= 0 && rec->args[si] && rec->args[oi]) {
		uint32_t j = u64map_get(&g->seq_index, rec->args[oi]);
		if (!j) {
			WEFT_GROW(g->seqs, g->nseqs, g->seqs_cap, 256);
			g->seqs[g->nseqs++] = (struct seq_start){ rec->args[oi],
								  rec->args[si] };
			u64map_put(&g->seq_index, rec->args[oi], g->nseqs);
		} else if (rec->args[si] < g->seqs[j - 1].min_seq) {
			g->seqs[j - 1].min_seq = rec->args[si];
		}
	}
	return 0;
}

/* Decodes every batch of g once: the structural checks that need nothing
 * but g, and its thread records into g's cache. */
void decode_generation(struct gen *g)
{
	const struct reccache_kinds *kinds = reccache_kinds();
	g->fail_batch = g->nbatches;
	for (uint32_t i = 0; i < g->nbatches; i++) {
		struct gbatch *gb = &g->batches[i];
		const struct weft_batch *b = &gb->b;
		int thread = b->header.serial != 0;
		struct weft_cursor cur;
		struct weft_record rec;
		int rc;
		weft_cursor_init(&cur, b);
		size_t off = weft_cursor_offset(&cur);
		struct reccache_state st = { b->header.base_ts, 0 };
		gb->has_timed = gb->starts_with_status = 0;
		gb->events = 0;
		gb->cache_begin = g->cache.len;
		while ((rc = weft_cursor_next(&g->r, &cur, &rec)) == WEFT_READ_OK) {
			if (decode_record(g, i, &rec, off) < 0)
				break;
			size_t next = weft_cursor_offset(&cur);
			if (thread) {
				reccache_put(&g->cache, kinds, &st, &rec, next - off);
			}
			if (!gb->events)
				gb->starts_with_status = rec.code == WEFT_EV_STATUS;
			gb->events++;
			if (weft_events[rec.code].timed) {
				if (!gb->has_timed)
					gb->first_ts = rec.ts;
				gb->last_ts = rec.ts;
				gb->has_timed = 1;
			}
			off = next;
		}
		gb->cache_end = g->cache.len;
		if (g->fail_batch < g->nbatches)
			return;
		if (rc != WEFT_READ_END) {
			gen_fail(g, i, "%s", g->r.error);
			return;
		}
	}
	/* Every stack an event names is defined in the generation's tables
	 * (which a generation cut short may not have reached). */
	for (uint32_t i = 0; i < g->stack_uses.cap && !g->cut_short; i++) {
		uint64_t id = g->stack_uses.keys[i];
		if (id && !u64map_get(&g->stacks, id)) {
			snprintf(g->error, sizeof g->error, "offset %u: generation %u: "
				 "stack id %" PRIu64 " is used but never defined",
				 g->stack_uses.vals[i], g->gen, id);
			g->stack_undefined = 1;
			return;
		}
	}
}

static int by_serial(const void *a, const void *b)
{
	uint32_t x = (*(struct thread *const *)a)->serial;
	uint32_t y = (*(struct thread *const *)b)->serial;
	return (x > y) - (x < y);
}

/* What decoding found, applied to the checker's threads and objects. */
int link_generation(struct checker *c)
{
	struct gen *g = c->g;
	c->nactive = 0;
	c->ngen_objects = 0;
	for (uint32_t i = 0; i < g->nbatches; i++) {
		struct gbatch *gb = &g->batches[i];
		const struct weft_batch *b = &gb->b;
		c->res->events += gb->events;
		if (gb->has_timed) {
			if (gb->first_ts < c->res->first_ts)
				c->res->first_ts = gb->first_ts;
			if (gb->last_ts > c->res->last_ts)
				c->res->last_ts = gb->last_ts;
		}
		if (i == g->fail_batch) {
			check_fail(c, "%s", g->error);
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
			if (g->batches[t->first_batch].starts_with_status) {
				check_fail(c, "offset %zu: generation %u, thread %u: a second "
				     "STATUS", b->offset, c->gen, t->serial);
				return -1;
			}
			gb->next = t->first_batch;
			t->first_batch = (int32_t)i;
			continue;
		}
		if (t->last_batch >= 0)
			g->batches[t->last_batch].next = (int32_t)i;
		else
			t->first_batch = (int32_t)i;
		t->last_batch = (int32_t)i;
	}
	for (uint32_t i = 0; i < g->nshared; i++) {
		struct object *o = object_get(c, g->shared[i]);
		o->shared = 1;
		forget_state(o);
	}
	for (uint32_t i = 0; i < g->nseqs; i++) {
		struct object *o = object_get(c, g->seqs[i].addr);
		WEFT_GROW(c->gen_objects, c->ngen_objects, c->gen_objects_cap, 256);
		c->gen_objects[c->ngen_objects++] = (uint32_t)(o - c->objects);
		o->min_seq = g->seqs[i].min_seq;
		o->min_gen = c->gen;
	}
	if (g->lost_records)
		c->relaxed = 1;
	c->gen_lost = g->lost;
	if (c->nactive > 1)
		qsort(c->active, c->nactive, sizeof *c->active, by_serial);
	/* A thread's batches follow one another in time. */
	for (uint32_t s = 0; s < c->nactive; s++) {
		struct thread *t = c->active[s];
		uint64_t last = 0;
		for (int32_t i = t->first_batch; i >= 0; i = g->batches[i].next) {
			struct gbatch *gb = &g->batches[i];
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
	if (g->stack_undefined) {
		check_fail(c, "%s", g->error);
		return -1;
	}
	return 0;
}

/* Emits the generation's process records (tables, markers) in file order. */
int emit_process_records(struct checker *c)
{
	for (uint32_t i = 0; i < c->g->nbatches; i++) {
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
int gen_end_in(struct weft_reader *r, const struct weft_batch *b,
	       uint64_t *generation, uint64_t *batches, uint64_t *stopped)
{
	struct weft_cursor cur;
	struct weft_record rec;
	int rc;
	weft_cursor_init(&cur, b);
	while ((rc = weft_cursor_next(r, &cur, &rec)) == WEFT_READ_OK)
		if (rec.code == WEFT_EV_GEN_END) {
			*generation = rec.args[0];
			*batches = rec.args[1];
			*stopped = rec.args[2];
			return 1;
		}
	return rc == WEFT_READ_END ? 0 : -1;
}

/* Whether a process batch holds nothing but TRACE_END. */
int only_trace_end(struct weft_reader *r, const struct weft_batch *b)
{
	struct weft_cursor cur;
	struct weft_record rec;
	int n = 0, ends = 0;
	weft_cursor_init(&cur, b);
	while (weft_cursor_next(r, &cur, &rec) == WEFT_READ_OK) {
		n++;
		ends += rec.code == WEFT_EV_TRACE_END;
	}
	return n == 1 && ends == 1;
}
