/*
 * tablebuf.h - a growable buffer for batches the tracer writes itself:
 * process batches (serial 0: the clock record, thread names, string/stack/
 * symbol tables, shared objects, end markers) and, for a thread, the STATUS
 * the advancer writes for it or a LOST record when it had no buffer.  It never
 * uses malloc's memory, because it is filled on the exit path while other
 * threads may hold malloc's locks, and it starts in memory weft has from
 * load on, so the exit path maps nothing (see tablebuf.c).
 */
#ifndef WEFT_TABLEBUF_H
#define WEFT_TABLEBUF_H

#include "../format/record.h"

struct weft_tablebuf {
	uint8_t *p;
	size_t len, cap;
	struct weft_batch_state state;
	int failed;
};

/* Starts a batch for thread serial (0: the process) in generation gen. */
void weft_tb_begin(struct weft_tablebuf *tb, uint32_t serial, uint32_t gen,
		   uint64_t base_ts);
void weft_tb_record(struct weft_tablebuf *tb, const struct weft_record *r);
/* Completes the batch and writes it to the trace file (not when it could
 * not be built); the buffer is free for the next batch. */
void weft_tb_write(struct weft_tablebuf *tb);

#endif
