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
/* What code address pc of gen stands for (symbols.h): one text per frame,
 * innermost first, in *texts (several when calls were inlined there);
 * returns how many, 0 when nothing names pc, -1 when pc is weft's own
 * code (which no stack shows).  Names come from the trace's modules, or
 * in a trace from before MODULE records from its SYMBOL records. */
int weft_tables_frames(const struct weft_tables *t, uint32_t gen, uint64_t pc,
		       const char *const **texts);
/* The innermost frame's text for pc in gen (weft's own too), or NULL. */
const char *weft_tables_symbol(const struct weft_tables *t, uint32_t gen,
			       uint64_t pc);
/* The variable at data address addr ("qm", "pool.lock", "table+0x40");
 * 0 when none holds it. */
int weft_tables_data_name(const struct weft_tables *t, uint64_t addr,
			  char *buf, size_t cap);
/* Where an object was seen with a stack: its earliest *_INIT's when
 * one was recorded with a stack, else its earliest record with one (a
 * wait on it) or acquisition with a site (ACQUIRE_SITE), by time. */
struct weft_object_site {
	uint64_t addr;
	uint32_t gen;
	uint64_t stack;
	uint64_t ts;
	int init;
};
/* Every object seen with a stack, in the order first seen: *n of them. */
const struct weft_object_site *weft_tables_object_sites(const struct weft_tables *t,
							uint32_t *n);
/* The name names.c worked out for the object at addr, kept for the life of
 * the tables (NULL when not yet), and keeping one.  memo_begin is 1 the
 * first time it is called on t, 0 after. */
const char *weft_tables_memo_get(const struct weft_tables *t, uint64_t addr);
void weft_tables_memo_put(const struct weft_tables *t, uint64_t addr,
			  const char *text);
int weft_tables_memo_begin(const struct weft_tables *t);
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
