/*
 * check.h - the validator: reads a trace generation by generation, puts
 * each generation's events in one global order consistent with every
 * thread's own order and every cross-thread cause (object sequence numbers,
 * lock ownership, create before start, exit before join), and checks every
 * event against the state machines of its thread and its object.
 *
 * Every consumer that needs events in order (weft check, weft dump) goes
 * through weft_check(): one decoding path, one ordering.
 */
#ifndef WEFT_CHECK_H
#define WEFT_CHECK_H

#include "reader.h"

enum weft_verdict {
	WEFT_CHECK_OK = 0,           /* complete and consistent */
	WEFT_CHECK_INCONSISTENT = 1, /* damaged, or no consistent order */
	WEFT_CHECK_UNREADABLE = 2,   /* the file cannot be read */
	WEFT_CHECK_TRUNCATED = 3,    /* consistent as far as it goes, but the
					process stopped writing mid-way */
};

struct weft_check_event {
	uint32_t generation;
	uint32_t serial;              /* 0 for process records */
	size_t offset;                /* of the record in the file */
	const struct weft_record *rec;
};

/* Called for every record, in the validated global order (process
 * records of a generation come after its thread records). */
typedef void (*weft_check_fn)(void *ctx, const struct weft_check_event *ev);

struct weft_check_result {
	enum weft_verdict verdict;
	char error[8192];             /* the first problem found */
	char note[2048];              /* relaxed validation, truncation */
	uint32_t generations;         /* generations checked */
	uint32_t threads;             /* distinct thread serials */
	uint64_t events, batches, bytes, lost;
	uint64_t first_ts, last_ts, frequency;
	int complete;                 /* ends with TRACE_END */
};

/* Checks the trace r holds (opened, header read).  fn may be NULL. */
enum weft_verdict weft_check(struct weft_reader *r, weft_check_fn fn, void *ctx,
			     struct weft_check_result *res);

#endif
