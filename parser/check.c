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
 *     each object, and each thread's batches in order;
 *  2. merge the threads (order.c, judging each event by rules.c): repeatedly take the thread whose next event has
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

#include <inttypes.h>
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

/* Checks the gathered generation; 0 when it is consistent.  A generation
 * cut short (no GEN_END: the process was killed) may lack any of its
 * batches, so causes that are missing are not held against it. */
static int check_generation(struct checker *c, int cut_short)
{
	c->relaxed = c->cut_short = cut_short;
	c->relief = c->guessed = c->light = 0;
	c->gen_lost = 0;
	u64map_free(&c->strings);
	u64map_free(&c->stacks);
	u64map_free(&c->stack_uses);
	if (prepass(c) < 0)
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
	u64map_free(&c->object_index);
}

enum weft_verdict weft_check(struct weft_reader *r, weft_check_fn fn, void *ctx,
			     struct weft_check_result *res)
{
	struct checker c = { .r = r, .res = res, .fn = fn, .ctx = ctx,
			     .numbers_restart = r->header.version >= 2 };
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
			check_fail(&c, "offset %zu: batch of thread %u belongs to generation %u, "
			     "which already ended", b.offset, b.header.serial, g);
			break;
		}
		if (!c.gen)
			c.gen = g;
		if (g != c.gen) {
			if (g != c.gen + 1) {
				check_fail(&c, "offset %zu: batch of generation %u while generation "
				     "%u is still open (generations out of order)",
				     b.offset, g, c.gen);
				break;
			}
			add_batch(&c.later, &c.nlater, &c.later_cap, &b);
			continue;
		}
		if (c.last_checked && g != c.last_checked + 1 && c.nbatches == 0) {
			check_fail(&c, "offset %zu: generation %u follows generation %u "
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
			check_fail(&c, "%s", c.r->error);
			break;
		}
		if (!found)
			continue;
		if (ended != g) {
			check_fail(&c, "offset %zu: GEN_END names generation %" PRIu64 " in a "
			     "batch of generation %u", b.offset, ended, g);
			break;
		}
		if (claimed != thread_batches) {
			check_fail(&c, "offset %zu: generation %u: GEN_END counts %" PRIu64
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
		check_note(&c, "%s", r->error);
		res->verdict = WEFT_CHECK_TRUNCATED;
	} else if (!c.failed && rc != WEFT_READ_END) {
		check_fail(&c, "%s", r->error);
	}
	if (!c.failed && c.nbatches) {
		/* The last generation never ended: check what there is. */
		if (check_generation(&c, 1) == 0)
			check_note(&c, "generation %u has no end marker (checked as far "
				 "as its batches go)", c.gen);
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
