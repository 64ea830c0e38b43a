/*
 * tables.h - what a trace defines by id, gathered in a first pass: strings,
 * stacks and symbols of each generation, and thread names, ids and CPU
 * times.  The dumper and
 * every later consumer resolve ids through it.
 */
#ifndef WEFT_TABLES_H
#define WEFT_TABLES_H

#include "reader.h"

struct weft_tables;

/* Reads every batch of r (from its first batch) and returns the tables, or
 * NULL with r->error set.  The reader is rewound afterwards. */
struct weft_tables *weft_tables_load(struct weft_reader *r, int *status);
void weft_tables_free(struct weft_tables *t);

const char *weft_tables_string(const struct weft_tables *t, uint32_t gen,
			       uint64_t id);
/* The pcs of stack id in gen (NULL when undefined); *n gets the depth. */
const uint64_t *weft_tables_stack(const struct weft_tables *t, uint32_t gen,
				  uint64_t id, uint32_t *n);
/* The symbol text for pc in gen, or NULL. */
const char *weft_tables_symbol(const struct weft_tables *t, uint32_t gen,
			       uint64_t pc);
/* The latest name given to thread serial (by THREAD_NAME, or THREAD_INFO),
 * or NULL. */
const char *weft_tables_thread_name(const struct weft_tables *t,
				    uint32_t serial);
/* Thread serial's tid and parent from its latest THREAD_INFO; 0 when the
 * trace has none (traces before format version 3). */
int weft_tables_thread_info(const struct weft_tables *t, uint32_t serial,
			    uint64_t *tid, uint32_t *parent);
/* Thread serial's CPU time over the traced time, from its THREAD_CPU
 * records; 0 when the trace does not say (traces before format version 6,
 * or no generation with both readings). */
int weft_tables_thread_cpu(const struct weft_tables *t, uint32_t serial,
			   uint64_t *ns);

#endif
