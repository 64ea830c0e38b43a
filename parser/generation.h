/*
 * generation.h - gathering one generation of the trace, decoding it once
 * (on any thread) and linking what decoding found into the checker's
 * state (in file order): generation.c.  Private to the reader library.
 */
#ifndef WEFT_GENERATION_H
#define WEFT_GENERATION_H

#include "check_state.h"

/* Appends batch b to g's batches. */
void gen_add_batch(struct gen *g, const struct weft_batch *b);
/* Frees what g holds and empties it. */
void gen_free(struct gen *g);
/* Finds the GEN_END in a process batch: 1 with its arguments, 0 when the
 * batch has none, or -1 (the reason in r->error) when the batch does not
 * decode. */
int gen_end_in(struct weft_reader *r, const struct weft_batch *b,
	       uint64_t *generation, uint64_t *batches, uint64_t *stopped);
/* Whether a process batch holds nothing but TRACE_END. */
int only_trace_end(struct weft_reader *r, const struct weft_batch *b);

/* Decodes every batch of g once, touching nothing but g (g->r is a copy
 * of the checker's reader, for error texts): structure, tables (ids
 * defined once, ids used are defined), each object's lowest sequence
 * number, and its thread records into g->cache.  The first problem is
 * left in g (fail_batch, stack_undefined, error). */
void decode_generation(struct gen *g);
/* Links c->g's batches into each thread's, in file order, and applies
 * what decoding found (its first problem, in the place the file order
 * gives it); 0, or -1 once it has failed the trace. */
int link_generation(struct checker *c);
/* Each object's sequence at the start of the generation; 0 or -1. */
int start_sequences(struct checker *c);
/* Emits the generation's process records (tables, markers) in file order,
 * noting the clock's frequency and the end of the trace. */
int emit_process_records(struct checker *c);
/* No object's state carries over (the generation lost events). */
void forget_objects(struct checker *c);

#endif
