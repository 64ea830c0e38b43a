/*
 * check.c - the validator's entry point (see check.h): reads the trace
 * batch by batch, gathers each generation (generation.c) and checks it
 * once it is complete, and gives the verdict.
 *
 * A generation is processed once all of its batches have been read (its
 * GEN_END, or the end of the file).  Two passes over its batches:
 *
 *  1. decode every record once (generation.c): structure, tables (ids
 *     defined once, ids used are defined), the lowest sequence number of
 *     each object, and the thread records kept in a compact form for the
 *     merge (reccache.h).  This needs nothing but the generation, so with
 *     jobs > 1 later generations are decoded on other threads while an
 *     earlier one is merged; then, in file order, each thread's batches
 *     are linked and the decoding's findings applied to the checker;
 *  2. merge the threads (order.c, judging each event by rules.c): repeatedly take the thread whose next event has
 *     the earliest timestamp and whose event can apply now (its sequence
 *     number is the next one for its object, the lock is free, its thread
 *     was created, its join target exited...).  When the earliest cannot
 *     apply, later ones are tried; when none can, the trace has no
 *     consistent order and every thread's pending event is reported with
 *     the reason it waits.
 *
 * A problem is reported where the file order puts it: one in a generation
 * comes before anything met while reading later batches, however far
 * ahead reading and decoding have gone, and the counts in the result are
 * those when that generation was read.
 *
 * Thread and object state outlive a generation so that STATUS records can
 * be checked against how the previous generation left each thread.  The
 * state is declared in check_state.h; what the program did that POSIX
 * leaves undefined (an unlock by a thread that does not hold the lock, a
 * destroy of a held lock...) does not make the trace inconsistent: it is
 * handed to findings.c, which keeps it in the result as a finding.
 */
#include "check.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check_state.h"
#include "generation.h"
#include "order.h"

void check_fail(struct checker *c, const char *fmt, ...)
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

void check_note(struct checker *c, const char *fmt, ...)
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

/* Checks generation g, decoded; 0 when it is consistent.  A generation
 * cut short (no GEN_END: the process was killed) may lack any of its
 * batches, so causes that are missing are not held against it. */
static int check_generation(struct checker *c, struct gen *g)
{
	c->g = g;
	c->batches = g->batches;
	c->gen = g->gen;
	c->relaxed = c->cut_short = g->cut_short;
	c->relief = c->guessed = 0;
	c->light = g->light;
	c->gen_lost = 0;
	if (link_generation(c) < 0)
		return -1;
	c->res->contention_generations += c->light != 0;
	if (start_sequences(c) < 0)
		return -1;
	if (merge_generation(c) < 0)
		return -1;
	emit_process_records(c);
	c->res->generations++;
	c->res->lost += c->gen_lost;
	if (c->gen_lost) {
		check_note(c, "generation %u lost %" PRIu64 " events: ordering of the "
			 "objects they touched was checked loosely", c->gen, c->gen_lost);
		forget_objects(c);
	}
	return 0;
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
	c->last_addr = 0;
	u64map_free(&c->object_index);
}

/*
 * The generations gathered and not yet checked, oldest first, in a ring
 * of jobs slots.  Each is decoded by whichever thread comes first (the
 * workers, or the checker when it needs the oldest), then checked by the
 * checker in file order: so at most jobs generations are held at once,
 * besides the one being gathered.
 */
enum { SLOT_QUEUED, SLOT_DECODING, SLOT_DECODED };

struct pipeline {
	struct gen *slots;
	int *state;
	uint32_t cap, head, count;
	/* The caches of generations checked, kept for the next ones: their
	 * pages are touched once, not once per generation. */
	struct reccache *spare;
	uint32_t nspare;
	pthread_mutex_t lock;
	pthread_cond_t work, decoded;
	int closing;
	pthread_t *workers;
	unsigned nworkers;
};

/* Takes the oldest queued generation to decode (the lock held); NULL
 * when there is none. */
static struct gen *take_queued(struct pipeline *p, uint32_t *slot)
{
	for (uint32_t k = 0; k < p->count; k++) {
		uint32_t i = (p->head + k) % p->cap;
		if (p->state[i] == SLOT_QUEUED) {
			p->state[i] = SLOT_DECODING;
			*slot = i;
			return &p->slots[i];
		}
	}
	return NULL;
}

/* Decodes g outside the lock and says it is done. */
static void decode_slot(struct pipeline *p, struct gen *g, uint32_t slot)
{
	pthread_mutex_unlock(&p->lock);
	decode_generation(g);
	pthread_mutex_lock(&p->lock);
	p->state[slot] = SLOT_DECODED;
	pthread_cond_broadcast(&p->decoded);
}

static void *worker(void *arg)
{
	struct pipeline *p = arg;
	pthread_mutex_lock(&p->lock);
	for (;;) {
		uint32_t slot;
		struct gen *g = take_queued(p, &slot);
		if (g) {
			decode_slot(p, g, slot);
			continue;
		}
		if (p->closing)
			break;
		pthread_cond_wait(&p->work, &p->lock);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* The record decoder (format/record.c) fills its tables the first time
 * it meets each event code: decoding one record of every code here, on
 * one thread, fills them before other threads decode. */
static void prepare_decoder(void)
{
	for (unsigned code = 0; code < 256; code++) {
		if (!weft_events[code].name)
			continue;
		/* The code, then zeros: a timestamp and every argument 0 (an
		 * empty byte string, an empty stack). */
		uint8_t rec[2 + WEFT_MAX_ARGS] = { (uint8_t)code };
		const uint8_t *q = rec;
		struct weft_batch_state st;
		weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 0);
		struct weft_record out;
		const char *why;
		weft_decode_record(&q, rec + sizeof rec, &st, &out, &why);
	}
}

static void pipeline_open(struct pipeline *p, unsigned jobs)
{
	memset(p, 0, sizeof *p);
	p->cap = jobs < 1 ? 1 : jobs > WEFT_MAX_JOBS ? WEFT_MAX_JOBS : jobs;
	p->slots = calloc(p->cap, sizeof *p->slots);
	p->state = calloc(p->cap, sizeof *p->state);
	p->spare = calloc(p->cap, sizeof *p->spare);
	if (!p->slots || !p->state || !p->spare)
		abort();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->decoded, NULL);
	if (p->cap > 1) {
		static pthread_once_t decoder_ready = PTHREAD_ONCE_INIT;
		pthread_once(&decoder_ready, prepare_decoder);
		p->workers = calloc(p->cap - 1, sizeof *p->workers);
		if (!p->workers)
			abort();
		/* Fewer workers than asked for (a thread that cannot be
		 * made) only makes the checker decode more itself. */
		while (p->nworkers < p->cap - 1 &&
		       pthread_create(&p->workers[p->nworkers], NULL, worker, p) == 0)
			p->nworkers++;
	}
}

static void pipeline_close(struct pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	p->closing = 1;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (unsigned i = 0; i < p->nworkers; i++)
		pthread_join(p->workers[i], NULL);
	for (uint32_t k = 0; k < p->count; k++)
		gen_free(&p->slots[(p->head + k) % p->cap]);
	for (uint32_t i = 0; i < p->nspare; i++)
		reccache_free(&p->spare[i]);
	free(p->spare);
	free(p->workers);
	free(p->slots);
	free(p->state);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->decoded);
}

/* Queues the gathered generation *g (which is left empty) for decoding. */
static void pipeline_push(struct pipeline *p, struct gen *g)
{
	pthread_mutex_lock(&p->lock);
	if (p->nspare)
		g->cache = p->spare[--p->nspare];
	uint32_t i = (p->head + p->count) % p->cap;
	p->slots[i] = *g;
	p->state[i] = SLOT_QUEUED;
	p->count++;
	pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
	memset(g, 0, sizeof *g);
}

/* The oldest generation held, decoded (by this thread if no worker has
 * taken it yet). */
static struct gen *pipeline_oldest(struct pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	uint32_t i = p->head;
	if (p->state[i] == SLOT_QUEUED) {
		p->state[i] = SLOT_DECODING;
		decode_slot(p, &p->slots[i], i);
	}
	while (p->state[i] != SLOT_DECODED)
		pthread_cond_wait(&p->decoded, &p->lock);
	pthread_mutex_unlock(&p->lock);
	return &p->slots[i];
}

static void pipeline_pop(struct pipeline *p)
{
	pthread_mutex_lock(&p->lock);
	struct gen *g = &p->slots[p->head];
	reccache_clear(&g->cache);
	p->spare[p->nspare++] = g->cache;
	g->cache = (struct reccache){ 0 };
	gen_free(g);
	p->head = (p->head + 1) % p->cap;
	p->count--;
	pthread_mutex_unlock(&p->lock);
}

/* The generation being gathered: its batches, and those of the next one
 * that arrived before its GEN_END. */
struct gathering {
	struct gen cur, later;
	uint32_t last_ended;          /* the latest generation gathered whole */
	uint64_t thread_batches;      /* of cur */
};

/* Checks the oldest generation held and lets it go; 0, or -1 once the
 * trace has failed, with the counts as they were when it was gathered. */
static int check_oldest(struct checker *c, struct pipeline *p)
{
	struct gen *g = pipeline_oldest(p);
	int rc = check_generation(c, g);
	if (rc < 0) {
		c->res->batches = g->batches_read;
		c->res->bytes = g->bytes_read;
		c->res->complete = g->complete_read;
	} else if (g->stopped) {
		forget_session(c);
	}
	if (rc == 0)
		c->res->image_ended = g->stopped == WEFT_GEN_END_IMAGE_ENDED;
	c->g = NULL;
	c->batches = NULL;
	pipeline_pop(p);
	return rc;
}

/* Everything before the earliest batch still held is done with. */
static void release_done(struct weft_reader *r, struct pipeline *p,
			 const struct gathering *gt)
{
	size_t keep = r->pos;
	if (p->count && p->slots[p->head].nbatches)
		keep = p->slots[p->head].batches[0].b.offset;
	else if (gt->cur.nbatches)
		keep = gt->cur.batches[0].b.offset;
	weft_reader_release(r, keep);
}

/* The gathered generation is whole (ended, or cut short by the end of
 * the file): it is queued, and the oldest are checked while more than
 * the pipeline holds are waiting; 0, or -1 once the trace has failed. */
static int gathered(struct checker *c, struct pipeline *p, struct gathering *gt,
		    int cut_short, int stopped)
{
	struct weft_check_result *res = c->res;
	struct gen *g = &gt->cur;
	g->cut_short = cut_short;
	g->stopped = stopped;
	g->batches_read = res->batches;
	g->bytes_read = res->bytes;
	g->complete_read = res->complete;
	g->r = *c->r;
	gt->last_ended = g->gen;
	pipeline_push(p, g);
	/* Batches of the next generation that arrived early. */
	*g = gt->later;
	memset(&gt->later, 0, sizeof gt->later);
	gt->thread_batches = 0;
	for (uint32_t i = 0; i < g->nbatches; i++)
		gt->thread_batches += g->batches[i].b.header.serial != 0;
	if (g->nbatches)
		g->gen = g->batches[0].b.header.generation;
	while (p->count == p->cap)
		if (check_oldest(c, p) < 0)
			return -1;
	return 0;
}

/* Checks what is still held, oldest first; 0, or -1 once the trace has
 * failed. */
static int drain(struct checker *c, struct pipeline *p)
{
	while (p->count)
		if (check_oldest(c, p) < 0)
			return -1;
	return 0;
}

enum weft_verdict weft_check(struct weft_reader *r, weft_check_fn fn, void *ctx,
			     struct weft_check_result *res)
{
	return weft_check_jobs(r, fn, ctx, res, 1);
}

enum weft_verdict weft_check_jobs(struct weft_reader *r, weft_check_fn fn,
				  void *ctx, struct weft_check_result *res,
				  unsigned jobs)
{
	struct checker c = { .r = r, .res = res, .fn = fn, .ctx = ctx,
			     .numbers_restart = r->header.version >= 2 };
	memset(res, 0, sizeof *res);
	res->first_ts = UINT64_MAX;
	res->frequency = r->header.frequency;
	struct pipeline p;
	pipeline_open(&p, jobs);
	struct gathering gt = { 0 };
	struct weft_batch b;
	int rc;
	while (!c.failed && (rc = weft_reader_next_batch(r, &b)) == WEFT_READ_OK) {
		uint32_t g = b.header.generation;
		res->batches++;
		res->bytes += WEFT_BATCH_HEADER_SIZE + b.header.length;
		if (g == gt.last_ended && b.header.serial == 0 && gt.cur.nbatches == 0 &&
		    only_trace_end(r, &b)) {
			/* The end marker of a process whose tracing was off. */
			res->complete = 1;
			continue;
		}
		/* A problem found while reading comes after every problem in
		 * the generations gathered before it. */
		const char *order_problem = NULL;
		uint32_t open = gt.cur.gen ? gt.cur.gen : g;
		if (g <= gt.last_ended)
			order_problem = "ended";
		else if (g != open && g != open + 1)
			order_problem = "open";
		else if (g == open && gt.last_ended && g != gt.last_ended + 1 &&
			 gt.cur.nbatches == 0)
			order_problem = "follows";
		if (order_problem && drain(&c, &p) == 0) {
			if (*order_problem == 'e')
				check_fail(&c, "offset %zu: batch of thread %u belongs to "
					   "generation %u, which already ended", b.offset,
					   b.header.serial, g);
			else if (*order_problem == 'o')
				check_fail(&c, "offset %zu: batch of generation %u while "
					   "generation %u is still open (generations out of "
					   "order)", b.offset, g, open);
			else
				check_fail(&c, "offset %zu: generation %u follows generation "
					   "%u (generations out of order)", b.offset, g,
					   gt.last_ended);
		}
		if (order_problem)
			break;
		if (!gt.cur.gen)
			gt.cur.gen = g;
		if (g != gt.cur.gen) {
			gen_add_batch(&gt.later, &b);
			continue;
		}
		gen_add_batch(&gt.cur, &b);
		if (b.header.serial) {
			gt.thread_batches++;
			continue;
		}
		uint64_t ended = 0, claimed = 0, stopped = 0;
		int found = gen_end_in(r, &b, &ended, &claimed, &stopped);
		if (found < 0) {
			if (drain(&c, &p) == 0)
				check_fail(&c, "%s", r->error);
			break;
		}
		if (!found)
			continue;
		if (ended != g) {
			if (drain(&c, &p) == 0)
				check_fail(&c, "offset %zu: GEN_END names generation %" PRIu64
					   " in a batch of generation %u", b.offset, ended, g);
			break;
		}
		if (claimed != gt.thread_batches) {
			if (drain(&c, &p) == 0)
				check_fail(&c, "offset %zu: generation %u: GEN_END counts %"
					   PRIu64 " thread batches but %" PRIu64 " were read "
					   "(batches are missing)", b.offset, g, claimed,
					   gt.thread_batches);
			break;
		}
		if (gathered(&c, &p, &gt, 0, (int)stopped) < 0)
			break;
		release_done(r, &p, &gt);
	}
	if (!c.failed)
		drain(&c, &p);
	/* A batch cut at the very end of the file is a process stopped
	 * mid-write; anything else is damage. */
	if (!c.failed && rc == WEFT_READ_TRUNCATED) {
		check_note(&c, "%s", r->error);
		res->verdict = WEFT_CHECK_TRUNCATED;
	} else if (!c.failed && rc != WEFT_READ_END) {
		check_fail(&c, "%s", r->error);
	}
	if (!c.failed && gt.cur.nbatches) {
		/* The last generation never ended: check what there is. */
		uint32_t last = gt.cur.gen;
		if (gathered(&c, &p, &gt, 1, 0) == 0 && drain(&c, &p) == 0)
			check_note(&c, "generation %u has no end marker (checked as far "
				 "as its batches go)", last);
		res->verdict = c.failed ? WEFT_CHECK_INCONSISTENT : WEFT_CHECK_TRUNCATED;
	}
	if (!c.failed)
		findings_report_relocks(&c);
	if (!c.failed && res->verdict == WEFT_CHECK_OK && !res->complete) {
		check_note(&c, "no end-of-trace record: the process stopped before "
			 "finishing its trace");
		res->verdict = WEFT_CHECK_TRUNCATED;
	}
	if (res->first_ts == UINT64_MAX)
		res->first_ts = res->last_ts = 0;
	pipeline_close(&p);
	gen_free(&gt.cur);
	gen_free(&gt.later);
	for (uint32_t s = 0; s < c.nall; s++)
		free(c.all[s]);
	free(c.all);
	free(c.active);
	free(c.gen_objects);
	free(c.threads);
	free(c.objects);
	free(c.heap);
	free(c.aside);
	u64map_free(&c.object_index);
	u64map_free(&c.waiting_for);
	free(c.waiters);
	return res->verdict;
}
