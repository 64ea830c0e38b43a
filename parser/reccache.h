/*
 * reccache.h - a generation's thread records as the structural pass
 * decoded them, kept in a compact form the merge reads back without
 * decoding the file again.  Private to the reader library.
 *
 * One entry per record, in the batch's order:
 *
 *   u32   code | wide << 8 | encoded length << 17
 *   ts    the timestamp's increase over the previous record of the batch
 *         (over the batch's base timestamp for its first)
 *   args  each argument as the decoder gave it
 *   bytes a 'b' argument's address in the file (the file stays mapped
 *         while its generation is held), when the event has one
 *   pcs   a 'P' argument's program counters
 *
 * The timestamp and each argument take 4 bytes, or 8 when bit 8 (the
 * timestamp) or bit i (argument i) of wide says so.  The encoded length
 * gives each record's file offset from the batch's.  A mutex event takes
 * about 24 bytes this way, against 40 to 48 at full width.
 */
#ifndef WEFT_RECCACHE_H
#define WEFT_RECCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "record.h"

_Static_assert(WEFT_RECORD_MAX < (1u << 15), "a record's length fits in 15 bits");
_Static_assert(WEFT_MAX_ARGS <= 8, "the argument widths fit in 8 bits");

struct reccache {
	uint8_t *p;
	size_t len, cap;
};

#define RECCACHE_MAX (4 + 8 + 8 * WEFT_MAX_ARGS + 8 + 8 * WEFT_MAX_STACK)

/* Makes room for at least RECCACHE_MAX more bytes. */
void reccache_grow(struct reccache *c);
/* Empties c, keeping its memory for the next generation. */
static inline void reccache_clear(struct reccache *c)
{
	c->len = 0;
}
void reccache_free(struct reccache *c);

/* Appends rec, whose encoding took enclen bytes and whose batch's
 * previous record (or base) was at timestamp prev_ts. */
static inline void reccache_put(struct reccache *c, const struct weft_record *rec,
				size_t enclen, uint64_t prev_ts)
{
	if (c->cap - c->len < RECCACHE_MAX)
		reccache_grow(c);
	const struct weft_event_desc *d = &weft_events[rec->code];
	uint8_t *q = c->p + c->len + 4;
	uint32_t wide = 0;
	uint64_t dts = rec->ts - prev_ts;
	if (dts > UINT32_MAX) {
		wide |= 1u << 8;
		memcpy(q, &dts, 8);
		q += 8;
	} else {
		uint32_t v = (uint32_t)dts;
		memcpy(q, &v, 4);
		q += 4;
	}
	for (unsigned i = 0; i < d->nargs; i++) {
		if (rec->args[i] > UINT32_MAX) {
			wide |= 1u << i;
			memcpy(q, &rec->args[i], 8);
			q += 8;
		} else {
			uint32_t v = (uint32_t)rec->args[i];
			memcpy(q, &v, 4);
			q += 4;
		}
	}
	if (strchr(d->kinds, 'b')) {
		memcpy(q, &rec->bytes, sizeof rec->bytes);
		q += sizeof rec->bytes;
	}
	memcpy(q, rec->pcs, rec->npcs * sizeof rec->pcs[0]);
	q += rec->npcs * sizeof rec->pcs[0];
	uint32_t head = rec->code | wide << 8 | (uint32_t)enclen << 17;
	memcpy(c->p + c->len, &head, 4);
	c->len = (size_t)(q - c->p);
}

/* Reads the entry at *pos into rec (its timestamp from *ts, which it
 * advances) and advances *pos; returns the record's encoded length. */
static inline size_t reccache_get(const uint8_t *base, size_t *pos, uint64_t *ts,
				  struct weft_record *rec)
{
	const uint8_t *q = base + *pos;
	uint32_t head;
	memcpy(&head, q, 4);
	q += 4;
	rec->code = (uint8_t)head;
	const struct weft_event_desc *d = &weft_events[rec->code];
	uint32_t wide = head >> 8 & 0x1ff;
	if (wide & 1u << 8) {
		uint64_t v;
		memcpy(&v, q, 8);
		*ts += v;
		q += 8;
	} else {
		uint32_t v;
		memcpy(&v, q, 4);
		*ts += v;
		q += 4;
	}
	rec->ts = *ts;
	rec->bytes = NULL;
	rec->nbytes = rec->npcs = 0;
	int has_bytes = 0;
	for (unsigned i = 0; i < d->nargs; i++) {
		if (wide & 1u << i) {
			memcpy(&rec->args[i], q, 8);
			q += 8;
		} else {
			uint32_t v;
			memcpy(&v, q, 4);
			rec->args[i] = v;
			q += 4;
		}
		if (d->kinds[i] == 'b') {
			rec->nbytes = (uint32_t)rec->args[i];
			has_bytes = 1;
		} else if (d->kinds[i] == 'P') {
			rec->npcs = (uint32_t)rec->args[i];
		}
	}
	if (has_bytes) {
		memcpy(&rec->bytes, q, sizeof rec->bytes);
		q += sizeof rec->bytes;
	}
	memcpy(rec->pcs, q, rec->npcs * sizeof rec->pcs[0]);
	q += rec->npcs * sizeof rec->pcs[0];
	*pos = (size_t)(q - base);
	return head >> 17;
}

#endif
