/*
 * tracegen.h - builds traces in memory through the format library, for
 * tests that need exact traces: valid ones, and ones broken in one precise
 * way.  Records are written with weft_encode_record(), batches with
 * weft_put_batch_header(), so the bytes are what a writer would produce.
 */
#ifndef WEFT_TRACEGEN_H
#define WEFT_TRACEGEN_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "record.h"

struct tg {
	uint8_t *data;
	size_t len, cap;
	size_t batch_start;     /* offset of the open batch's header */
	int in_batch;
	uint32_t serial, gen;
	struct weft_batch_state state;
	uint32_t thread_batches[64]; /* per generation (modulo 64: a
					generation ends before the one 64
					later starts), for GEN_END */
};

void tg_init(struct tg *t);
void tg_free(struct tg *t);
/* Sets the header's format version (tg_init writes the current one);
 * the batches opened after it are coded as that version codes them. */
void tg_version(struct tg *t, uint32_t version);
/* Opens a batch (closing any open one). */
void tg_batch(struct tg *t, uint32_t serial, uint32_t gen, uint64_t base_ts);
void tg_close(struct tg *t);
/* Appends a record; timed records take ts (absolute), args as in the
 * table (signed kinds as int64_t cast to uint64_t). */
void tg_ev(struct tg *t, uint8_t code, uint64_t ts, const uint64_t *args, int nargs);
#define TG(t, NAME, ts, ...) \
	tg_ev(t, WEFT_EV_##NAME, ts, (const uint64_t[]){ __VA_ARGS__ }, \
	      (int)(sizeof((const uint64_t[]){ __VA_ARGS__ }) / sizeof(uint64_t)))
#define TG0(t, NAME, ts) tg_ev(t, WEFT_EV_##NAME, ts, NULL, 0)
/* Appends n raw bytes (to damage a trace on purpose). */
void tg_bytes(struct tg *t, const void *p, size_t n);
/* A process batch with CLOCK for gen. */
void tg_clock(struct tg *t, uint32_t gen);
/* A process batch with GEN_END (counting gen's thread batches), and
 * TRACE_END when last. */
void tg_gen_end(struct tg *t, uint32_t gen, int last);

/* Checks the bytes; returns the verdict with the result in *res.  The
 * check is made on one thread and on four, and the test fails unless both
 * give the same. */
enum weft_verdict tg_check(struct tg *t, struct weft_check_result *res);

#endif
