/*
 * generation.h - gathering one generation of the trace and its structural
 * pass (generation.c).  Private to the reader library.
 */
#ifndef WEFT_GENERATION_H
#define WEFT_GENERATION_H

#include "check_state.h"

/* Appends batch b to a growing list of batches. */
void add_batch(struct gbatch **v, uint32_t *n, uint32_t *cap,
	       const struct weft_batch *b);
/* Finds the GEN_END in a process batch: 1 with its arguments, 0 when the
 * batch has none, or -1 when the batch does not decode. */
int gen_end_in(struct checker *c, const struct weft_batch *b,
	       uint64_t *generation, uint64_t *batches, uint64_t *stopped);
/* Whether a process batch holds nothing but TRACE_END. */
int only_trace_end(struct checker *c, const struct weft_batch *b);
/* Makes the batches of the next generation read early the ones being
 * gathered. */
void start_next_generation(struct checker *c);

/* Decodes every batch of the generation; links each thread's batches.
 * 0, or -1 once it has failed the trace. */
int prepass(struct checker *c);
/* Each object's sequence at the start of the generation; 0 or -1. */
int start_sequences(struct checker *c);
/* Emits the generation's process records (tables, markers) in file order,
 * noting the clock's frequency and the end of the trace. */
int emit_process_records(struct checker *c);
/* No object's state carries over (the generation lost events). */
void forget_objects(struct checker *c);

#endif
