/*
 * fuzz_trace.c - the libFuzzer target over everything that reads a trace:
 * the file header, the id tables `weft dump` loads, the file-order walk and
 * summary, the validator with a callback that reads every field of every
 * record it delivers and prints it as `weft dump` does, and the
 * reconstruction the other commands are built on: the timeline, the costs
 * `weft stats` prints, the deadlocks and stuck threads it ends in, and
 * the lock-order graph with its cycle search.
 * Besides the sanitizers, it holds the library to promises a caller relies
 * on (records lie inside the input, limits are kept, verdicts come with a
 * reason, every item names its thread, a thread's time adds up) and aborts
 * when one is broken, and runs every input twice: the verdict and every
 * number reconstructed must not depend on anything but the bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "costs.h"
#include "lockgraph.h"
#include "stuck.h"
#include "text.h"
#include "timeline.h"
#include "reader.h"
#include "tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PROMISE(cond)                                                        \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_trace: broken promise: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                  \
			abort();                                             \
		}                                                            \
	} while (0)

/* Where printed text goes: formatted in full, then thrown away. */
static FILE *sink(void)
{
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	PROMISE(null != NULL);
	return null;
}

struct walk {
	const uint8_t *data;
	size_t size;
	const struct weft_tables *tables;
	const struct weft_file_header *fh;
	uint32_t last_generation;
	uint64_t digest;   /* depends on every field, so none is skipped */
};

static void mix(struct walk *w, uint64_t v)
{
	w->digest = (w->digest ^ v) * 0x100000001b3ull;
}

static void touch_tables(struct walk *w, uint32_t gen,
			 const struct weft_record *rec)
{
	const struct weft_event_desc *d = &weft_events[rec->code];
	for (unsigned i = 0; i < d->nargs; i++) {
		uint64_t v = rec->args[i];
		uint32_t n = 0;
		const uint64_t *pcs;
		const char *s;
		switch (d->kinds[i]) {
		case 'S':
			s = weft_tables_string(w->tables, gen, v);
			if (s)
				mix(w, strlen(s));
			break;
		case 'k':
			pcs = weft_tables_stack(w->tables, gen, v, &n);
			PROMISE(n <= WEFT_MAX_STACK);
			for (uint32_t j = 0; pcs && j < n; j++) {
				s = weft_tables_symbol(w->tables, gen, pcs[j]);
				mix(w, pcs[j] + (s ? strlen(s) : 0));
			}
			break;
		case 'T':
			s = weft_tables_thread_name(w->tables, (uint32_t)v);
			if (s)
				mix(w, strlen(s));
			break;
		}
	}
}

static void on_event(void *ctx, const struct weft_check_event *ev)
{
	struct walk *w = ctx;
	const struct weft_record *rec = ev->rec;
	const struct weft_event_desc *d = &weft_events[rec->code];
	PROMISE(d->name != NULL);
	PROMISE(ev->offset >= WEFT_FILE_HEADER_FIXED && ev->offset < w->size);
	/* The record's code byte, or a compact one that stands for it. */
	uint8_t c = w->data[ev->offset];
	PROMISE(c == rec->code ||
		(c >= WEFT_COMPACT_BIT && weft_compact_forms[(c >> 3) & 15].code == rec->code));
	PROMISE(ev->generation >= w->last_generation);
	PROMISE(d->timed ? ev->serial != 0 : ev->serial == 0);
	PROMISE(rec->nbytes <= WEFT_MAX_BYTES && rec->npcs <= WEFT_MAX_STACK);
	if (rec->nbytes)
		PROMISE(rec->bytes >= w->data &&
			rec->bytes + rec->nbytes <= w->data + w->size);
	w->last_generation = ev->generation;
	mix(w, ev->generation);
	mix(w, ev->serial);
	mix(w, ev->offset);
	mix(w, rec->code);
	mix(w, rec->ts);
	for (unsigned i = 0; i < d->nargs; i++)
		mix(w, rec->args[i]);
	for (uint32_t i = 0; i < rec->nbytes; i++)
		mix(w, rec->bytes[i]);
	for (uint32_t i = 0; i < rec->npcs; i++)
		mix(w, rec->pcs[i]);
	touch_tables(w, ev->generation, rec);
	weft_print_record(sink(), w->tables, w->fh, ev->generation, ev->serial, rec);
}

/* The walk weft dump --file-order and --summary make. */
static void file_order(const uint8_t *data, size_t size,
		       const struct weft_tables *t)
{
	struct weft_reader r;
	PROMISE(weft_reader_open_memory(&r, data, size) == WEFT_READ_OK);
	struct weft_print_counts n;
	memset(&n, 0, sizeof n);
	int rc = weft_print_file_order(&r, t, sink(), &n);
	PROMISE(rc == WEFT_READ_OK || ((rc == WEFT_READ_CORRUPT || rc == WEFT_READ_TRUNCATED) && r.error[0]));
	PROMISE(n.bytes <= size);
	weft_print_summary(sink(), "input", &r, &n);
	weft_reader_close(&r);
}

/* ---- the reconstruction ---- */

/* What one run of the reconstruction made of the input. */
struct answer {
	enum weft_verdict verdict;
	uint64_t items;
	uint64_t digest;
};

static void mix_answer(struct answer *a, uint64_t v)
{
	a->digest = (a->digest ^ v) * 0x100000001b3ull;
}

struct reconstruction {
	struct timeline *tl;
	struct costs *costs;
	struct lockgraph *graph;
	struct stuck *stuck;
	struct answer *answer;
	char text[1024];
};

/* Every item: its promises, into the answer, then to the costs and the
 * lock-order graph as weft stats and weft lockorder give it. */
static void on_item(void *ctx, const struct tl_item *it)
{
	struct reconstruction *rc = ctx;
	struct answer *a = rc->answer;
	if (it->type == TL_GENERATION || it->type == TL_BLOCKED)
		PROMISE(it->thread == NULL && it->serial == 0);
	else
		PROMISE(it->thread != NULL && it->serial != 0 &&
			it->thread->serial == it->serial);
	a->items++;
	mix_answer(a, it->type);
	mix_answer(a, it->serial);
	mix_answer(a, (uint64_t)it->ns);
	switch (it->type) {
	case TL_INTERVAL:
		PROMISE(it->iv.kind < TL_NKINDS && it->iv.kind != TL_RUNNING);
		PROMISE(it->iv.delivered_ns == 0 || it->iv.continued);
		mix_answer(a, it->iv.kind);
		mix_answer(a, (uint64_t)it->iv.begin_ns);
		mix_answer(a, it->iv.object);
		/* As weft export labels a slice. */
		tl_site_text(rc->tl, &it->iv.site, 6, rc->text, sizeof rc->text);
		PROMISE(strlen(rc->text) < sizeof rc->text);
		mix_answer(a, strlen(rc->text));
		break;
	case TL_ACQUIRE:
		PROMISE(it->acq.nheld == 0 || it->acq.held != NULL);
		PROMISE(it->acq.kind <= TL_LOCK_SPIN);
		mix_answer(a, it->acq.lock);
		mix_answer(a, it->acq.nheld);
		break;
	case TL_HOLD:
		PROMISE(it->hold.caused_wait_ns >= 0);
		mix_answer(a, it->hold.lock);
		mix_answer(a, (uint64_t)it->hold.begin_ns);
		break;
	case TL_FLOW:
		PROMISE(it->flow.what != NULL && it->flow.to == it->serial);
		mix_answer(a, it->flow.from);
		mix_answer(a, it->flow.object);
		break;
	case TL_INSTANT:
		PROMISE(it->inst.what != NULL);
		mix_answer(a, it->inst.object);
		break;
	case TL_BLOCKED:
		/* No more threads blocked than seen (a count that went below
		 * zero would be huge). */
		PROMISE(it->blocked <= tl_nthreads(rc->tl));
		mix_answer(a, it->blocked);
		break;
	default:
		break;
	}
	costs_add(rc->costs, it);
	stuck_add(rc->stuck, it);
	lockgraph_add(rc->graph, it);
}

static void check_threads(struct reconstruction *rc)
{
	char buf[128];
	for (uint32_t i = 0; i < tl_nthreads(rc->tl); i++) {
		const struct tl_thread *t = tl_thread_at(rc->tl, i);
		PROMISE(t != NULL && t->serial != 0);
		int64_t sum = 0;
		for (int k = 0; k < TL_NKINDS; k++)
			sum += t->in_ns[k];
		PROMISE(sum == t->alive_ns);
		tl_thread_label(rc->tl, t->serial, buf, sizeof buf);
		tl_format_ns(t->alive_ns, buf, 16);
		PROMISE(strlen(buf) < 16);
		mix_answer(rc->answer, (uint64_t)t->alive_ns);
	}
}

static void check_costs(struct reconstruction *rc)
{
	const struct costs *c = rc->costs;
	struct answer *a = rc->answer;
	for (uint32_t i = 0; i < c->nobjects; i++) {
		const struct costs_object *o = c->objects[i];
		PROMISE(i == 0 || c->objects[i - 1]->wait_total >= o->wait_total);
		PROMISE(memchr(o->symbol, 0, sizeof o->symbol));
		PROMISE(!o->top_site || o->top_site->count > 0);
		mix_answer(a, o->addr);
		mix_answer(a, o->acquisitions + o->contended + o->waits);
		mix_answer(a, (uint64_t)(o->wait_total + o->hold_total + o->hold_max));
		mix_answer(a, o->worst_blame ? o->worst_blame->serial : 0);
		costs_object_matches(o, "main");
	}
	for (uint32_t i = 0; i < c->nsyscalls; i++) {
		const struct costs_syscall *r = c->syscalls[i];
		PROMISE(r->p50 <= r->p99 || r->max < 0);
		mix_answer(a, (uint64_t)r->call ^ (uint64_t)r->fd);
		mix_answer(a, r->calls + r->errors + r->p50 + r->p99);
		mix_answer(a, (uint64_t)(r->total + r->max));
	}
	uint32_t n;
	struct costs_thread *rows = costs_threads(c, &n);
	PROMISE(n <= tl_nthreads(rc->tl));
	free(rows);
	mix_answer(a, (uint64_t)costs_total_alive(c));
	const struct costs_object *costliest = costs_costliest_lock(c, NULL);
	mix_answer(a, costliest ? costliest->addr : 0);
}

/* Each deadlock a ring of threads, each link blocked by a hold of the
 * next thread on the lock it waits for (or joining it). */
static void check_stuck(struct reconstruction *rc)
{
	const struct stuck *s = rc->stuck;
	for (uint32_t i = 0; i < s->ncycles; i++) {
		const struct stuck_cycle *c = &s->cycles[i];
		PROMISE(c->n >= 1);
		for (uint32_t k = 0; k < c->n; k++) {
			const struct stuck_link *l = &c->links[k];
			PROMISE(l->holder == c->links[(k + 1) % c->n].wait->serial);
			PROMISE(l->hold ? l->hold->serial == l->holder &&
				l->hold->lock == l->wait->object
				: l->wait->kind == TL_JOIN);
			PROMISE(memchr(l->wait->what, 0, sizeof l->wait->what));
			mix_answer(rc->answer, l->holder);
		}
		for (uint32_t k = 0; k < c->nbehind; k++) {
			for (uint32_t j = 0; j < c->n; j++)
				PROMISE(c->behind[k] != c->links[j].wait);
			mix_answer(rc->answer, c->behind[k]->serial);
		}
	}
	for (uint32_t i = 0; i < s->nstuck; i++) {
		PROMISE(i == 0 || s->stuck[i - 1]->since_ns <= s->stuck[i]->since_ns);
		mix_answer(rc->answer, s->stuck[i]->serial);
	}
}

static void on_cycle(void *ctx, const struct lock_cycle *cy)
{
	struct reconstruction *rc = ctx;
	PROMISE(cy->n >= 2 && cy->number >= 1 && cy->listed >= cy->number);
	for (uint32_t i = 0; i < cy->n; i++) {
		const struct lock_edge *e = cy->edges[i];
		PROMISE(e->to == cy->edges[(i + 1) % cy->n]->from);
		PROMISE(e->modes & (1u << cy->pick[i]));
		tl_site_text(rc->tl, &e->w[cy->pick[i]].taken_site, 6, rc->text,
			     sizeof rc->text);
		mix_answer(rc->answer, e->from);
		mix_answer(rc->answer, e->count);
	}
	mix_answer(rc->answer, cy->gate);
}

/* The timeline, the costs and the lock-order graph of the input, as
 * weft stats, weft export and weft lockorder make them. */
static void reconstruct(const uint8_t *data, size_t size, struct answer *a)
{
	struct weft_reader r;
	PROMISE(weft_reader_open_memory(&r, data, size) == WEFT_READ_OK);
	struct reconstruction rc = { .answer = a };
	rc.tl = tl_new(&r);
	rc.costs = costs_new(rc.tl, NULL);
	rc.graph = lockgraph_new();
	rc.stuck = stuck_new(rc.tl);
	a->verdict = tl_run(rc.tl, on_item, &rc);
	PROMISE(a->verdict == tl_result(rc.tl)->verdict);
	check_threads(&rc);
	costs_finish(rc.costs);
	check_costs(&rc);
	stuck_finish(rc.stuck);
	check_stuck(&rc);
	struct lock_search found;
	lockgraph_find_cycles(rc.graph, 100, on_cycle, &rc, &found);
	PROMISE(found.found == found.reported + found.guarded + found.read_only);
	PROMISE(found.found <= 100);
	mix_answer(a, lockgraph_locks(rc.graph));
	mix_answer(a, lockgraph_edges(rc.graph));
	mix_answer(a, found.found);
	mix_answer(a, (uint64_t)tl_span_ns(rc.tl));
	mix_answer(a, tl_sessions(rc.tl));
	lockgraph_free(rc.graph);
	stuck_free(rc.stuck);
	costs_free(rc.costs);
	tl_close(rc.tl);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct weft_reader r;
	int rc = weft_reader_open_memory(&r, data, size);
	if (rc != WEFT_READ_OK) {
		PROMISE(rc == WEFT_READ_CORRUPT && r.error[0]);
		weft_reader_close(&r);
		return 0;
	}
	int status;
	struct weft_tables *t = weft_tables_load(&r, &status);
	PROMISE(t != NULL && r.pos == WEFT_FILE_HEADER_FIXED + (size_t)weft_get_le32(data + 12));
	file_order(data, size, t);

	struct walk w = { data, size, t, &r.header, 0, 0 };
	struct weft_check_result res;
	enum weft_verdict v = weft_check(&r, on_event, &w, &res);
	PROMISE(v == res.verdict);
	PROMISE(v == WEFT_CHECK_OK || v == WEFT_CHECK_INCONSISTENT ||
		v == WEFT_CHECK_TRUNCATED);
	PROMISE(v != WEFT_CHECK_INCONSISTENT || res.error[0]);
	PROMISE(v != WEFT_CHECK_TRUNCATED || res.note[0]);
	PROMISE(v != WEFT_CHECK_OK || res.complete);
	PROMISE(memchr(res.error, 0, sizeof res.error) && memchr(res.note, 0, sizeof res.note));
	PROMISE(res.bytes <= size);
	weft_tables_free(t);

	/* The same bytes give the same verdict and reason: nothing depends on
	 * memory left over from before, or on the callback. */
	struct weft_check_result again;
	PROMISE(weft_reader_open_memory(&r, data, size) == WEFT_READ_OK);
	PROMISE(weft_check(&r, NULL, NULL, &again) == v);
	PROMISE(strcmp(again.error, res.error) == 0 && strcmp(again.note, res.note) == 0);
	PROMISE(again.events == res.events && again.generations == res.generations &&
		again.threads == res.threads && again.lost == res.lost);
	weft_reader_close(&r);

	/* The reconstruction agrees with the validator, and makes the same
	 * of the same bytes twice. */
	struct answer first = { 0 }, second = { 0 };
	reconstruct(data, size, &first);
	PROMISE(first.verdict == v);
	reconstruct(data, size, &second);
	PROMISE(first.verdict == second.verdict && first.items == second.items &&
		first.digest == second.digest);
	return 0;
}
