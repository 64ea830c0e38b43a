/*
 * record.h - one decoded trace record, and the table-driven encoder and
 * decoder that turn records into bytes and back.  The preload's hot path
 * writes the same bytes with its own inline encoder (preload/put.h), driven
 * by the same table in events.def and sharing wire.h's primitives; every
 * trace the test suites record is read back through the decoder here.
 */
#ifndef WEFT_RECORD_H
#define WEFT_RECORD_H

#include "wire.h"

#define WEFT_MAX_STACK  64    /* program counters in one STACK record */
#define WEFT_MAX_BYTES  4096  /* bytes in one 'b' argument */

struct weft_record {
	uint8_t code;
	uint64_t ts;                  /* absolute ticks (timed records) */
	uint64_t args[WEFT_MAX_ARGS]; /* signed kinds already un-zigzagged
					 (read them through int64_t) */
	const uint8_t *bytes;         /* the 'b' argument, not terminated */
	uint32_t nbytes;
	uint32_t npcs;                /* the 'P' argument */
	uint64_t pcs[WEFT_MAX_STACK];
};

/* What a batch's records are coded relative to: the latest timestamp,
 * the latest object address and (version 5) the object table.  A batch
 * starts (weft_batch_state_init) from its base timestamp, object 0 and
 * every entry (0, 0). */
struct weft_batch_state {
	uint64_t ts;
	uint64_t obj;
	uint8_t v4;  /* 1: coded as in versions 1 to 4 (no table, no
			compact records) */
	struct weft_object_entry objects[WEFT_OBJECT_TABLE];
};

void weft_batch_state_init(struct weft_batch_state *st, uint32_t version,
			   uint64_t base_ts);

/* The compact forms (compact.def): the event each stands for, and its
 * pattern; code 0 for a form not assigned. */
struct weft_compact_form {
	uint8_t code;
	const char *pattern;
};
extern const struct weft_compact_form weft_compact_forms[WEFT_COMPACT_FORMS];

/* Largest encoding of any record, given the limits above. */
#define WEFT_RECORD_MAX \
	(1 + WEFT_ULEB_MAX * (3 + WEFT_MAX_ARGS * 2 + WEFT_MAX_STACK) + \
	 WEFT_MAX_BYTES)

/* Encodes r at p, relative to and updating the batch state st (a timed
 * record's r->ts earlier than st->ts is written as st->ts), in st's
 * version: in version 5, in the first compact form that fits it, or
 * else in full; returns the end.  The caller provides WEFT_RECORD_MAX
 * bytes. */
uint8_t *weft_encode_record(uint8_t *p, const struct weft_record *r,
			    struct weft_batch_state *st);

/* The name of the event a record starting with code byte c stands for in
 * a batch coded as st is, NULL when it stands for none. */
const char *weft_code_name(uint8_t c, const struct weft_batch_state *st);

/* Decodes one record from [*pp, end), relative to and updating st.
 * Returns 0 and advances *pp, or -1 with a static message in *err (unknown
 * code, truncated record, argument over its limit); *pp is then left at
 * the bad record, and st is no longer the batch's (nothing after a bad
 * record can be read). */
int weft_decode_record(const uint8_t **pp, const uint8_t *end,
		       struct weft_batch_state *st, struct weft_record *r,
		       const char **err);

#endif
