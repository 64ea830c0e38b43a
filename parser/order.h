/*
 * order.h - the merge that puts a generation's thread records in one
 * global order (order.c).  Private to the reader library.
 */
#ifndef WEFT_ORDER_H
#define WEFT_ORDER_H

#include "check_state.h"

/* Orders, checks and emits the gathered generation's thread records;
 * 0, or -1 once it has failed the trace. */
int merge_generation(struct checker *c);
/* Hands one record, and what it changed (or NULL), to the caller's
 * callback. */
void emit_record(struct checker *c, uint32_t serial, size_t off,
		 const struct weft_record *rec, const struct weft_state_change *change);

#endif
