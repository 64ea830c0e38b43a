/*
 * reccache.h - a generation's thread records as the structural pass
 * decoded them, kept in a compact form the merge reads back without
 * decoding the file again.  Private to the reader library.
 *
 * One entry per record, in the batch's order:
 *
 *   u32    code | encoded length << 8 | widths << 21
 *   u8     the widths of arguments 4 to 7, when the event has more than 4
 *   fields the timestamp's increase over the previous record of the batch
 *          (over the batch's base timestamp for its first), then each
 *          argument as the decoder gave it, except that an object address
 *          is given as its difference from the batch's previous one,
 *          zigzagged, as in the file
 *   bytes  a 'b' argument's address in the file (the file stays mapped
 *          while its generation is held), when the event has one
 *   pcs    a 'P' argument's program counters
 *
 * Each field takes 1, 2, 4 or 8 bytes, as its 2-bit width says (bits
 * 21-22 for the timestamp, then 2 bits for each of the first 4
 * arguments): fields are read with one 8-byte load and a mask, with no
 * branch on their size.  The encoded length gives each record's file
 * offset from the batch's.  A mutex event takes about 10 bytes this way
 * against about 7 in the file, and reads back several times faster than
 * it decodes.
 */
#ifndef WEFT_RECCACHE_H
#define WEFT_RECCACHE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "record.h"

_Static_assert(WEFT_RECORD_MAX < (1u << 13), "a record's length fits in 13 bits");
_Static_assert(WEFT_MAX_ARGS <= 8, "the argument widths fit in 2 bytes");

struct reccache {
	uint8_t *p;
	size_t len, cap;
};

/* The largest entry, and the 8 bytes a field's load may read past it. */
#define RECCACHE_MAX (4 + 1 + 8 + 8 * WEFT_MAX_ARGS + 8 + 8 * WEFT_MAX_STACK + 8)

/* Makes room for at least RECCACHE_MAX more bytes. */
void reccache_grow(struct reccache *c);
/* Empties c, keeping its memory for the next generation. */
static inline void reccache_clear(struct reccache *c)
{
	c->len = 0;
}
void reccache_free(struct reccache *c);
/* What an entry's layout depends on besides the widths, by event code. */
struct reccache_kinds {
	uint8_t objects[256];  /* bit i: argument i is an object address */
	uint8_t extra[256];    /* the event has a 'b' or a 'P' argument */
};
const struct reccache_kinds *reccache_kinds(void);

/* Where a batch's entries are read or written: the previous record's
 * timestamp and object address. */
struct reccache_state {
	uint64_t ts, obj;
};

/* Fields are little-endian; on a little-endian machine one load or
 * store moves one. */
static inline uint64_t reccache_load(const uint8_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
#else
	return weft_get_le64(p);
#endif
}

static inline void reccache_store(uint8_t *p, uint64_t v)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 8);
#else
	weft_put_le64(p, v);
#endif
}

static inline unsigned reccache_width(uint64_t v)
{
	return v < 1u << 8 ? 0 : v < 1u << 16 ? 1 : v <= UINT32_MAX ? 2 : 3;
}

/* Writes v in width w at *q and advances *q. */
static inline void reccache_field(uint8_t **q, uint64_t v, unsigned w)
{
	reccache_store(*q, v);
	*q += 1u << w;
}

/* Appends rec, whose encoding took enclen bytes, to the batch whose
 * entries st follows. */
static inline void reccache_put(struct reccache *c, const struct reccache_kinds *k,
				struct reccache_state *st,
				const struct weft_record *rec, size_t enclen)
{
	if (c->cap - c->len < RECCACHE_MAX)
		reccache_grow(c);
	const struct weft_event_desc *d = &weft_events[rec->code];
	uint64_t v[1 + WEFT_MAX_ARGS];
	uint32_t widths = 0;
	unsigned n = 1 + d->nargs;
	v[0] = rec->ts - st->ts;
	st->ts = rec->ts;
	for (unsigned i = 0; i < d->nargs; i++) {
		v[1 + i] = rec->args[i];
		if (k->objects[rec->code] & 1u << i) {
			v[1 + i] = weft_zigzag((int64_t)(rec->args[i] - st->obj));
			st->obj = rec->args[i];
		}
	}
	for (unsigned i = 0; i < n; i++)
		widths |= reccache_width(v[i]) << 2 * i;
	uint8_t *q = c->p + c->len;
	uint32_t head = rec->code | (uint32_t)enclen << 8 | (widths & 0x3ff) << 21;
	reccache_store(q, head);
	q += 4;
	if (n > 5)
		*q++ = (uint8_t)(widths >> 10);
	for (unsigned i = 0; i < n; i++)
		reccache_field(&q, v[i], widths >> 2 * i & 3);
	if (k->extra[rec->code]) {
		if (strchr(d->kinds, 'b')) {
			memcpy(q, &rec->bytes, sizeof rec->bytes);
			q += sizeof rec->bytes;
		}
		memcpy(q, rec->pcs, rec->npcs * sizeof rec->pcs[0]);
		q += rec->npcs * sizeof rec->pcs[0];
	}
	c->len = (size_t)(q - c->p);
}

/* Reads the entry at *pos into rec, following and advancing st, and
 * advances *pos; returns the record's encoded length. */
static inline size_t reccache_get(const uint8_t *base, const struct reccache_kinds *k,
				  size_t *pos, struct reccache_state *st,
				  struct weft_record *rec)
{
	static const uint64_t mask[4] = { 0xff, 0xffff, 0xffffffff, UINT64_MAX };
	const uint8_t *q = base + *pos;
	uint32_t head = (uint32_t)reccache_load(q);
	q += 4;
	rec->code = (uint8_t)head;
	const struct weft_event_desc *d = &weft_events[rec->code];
	uint32_t widths = head >> 21;
	if (d->nargs > 4)
		widths |= (uint32_t)*q++ << 10;
	unsigned w = widths & 3;
	st->ts += reccache_load(q) & mask[w];
	q += 1u << w;
	rec->ts = st->ts;
	rec->bytes = NULL;
	rec->nbytes = rec->npcs = 0;
	unsigned obj = k->objects[rec->code];
	for (unsigned i = 0; i < d->nargs; i++) {
		w = widths >> 2 * (i + 1) & 3;
		uint64_t v = reccache_load(q) & mask[w];
		q += 1u << w;
		if (obj & 1u << i) {
			st->obj += (uint64_t)weft_unzigzag(v);
			v = st->obj;
		}
		rec->args[i] = v;
	}
	if (k->extra[rec->code]) {
		for (unsigned i = 0; i < d->nargs; i++) {
			if (d->kinds[i] == 'b')
				rec->nbytes = (uint32_t)rec->args[i];
			else if (d->kinds[i] == 'P')
				rec->npcs = (uint32_t)rec->args[i];
		}
		if (strchr(d->kinds, 'b')) {
			memcpy(&rec->bytes, q, sizeof rec->bytes);
			q += sizeof rec->bytes;
		}
		memcpy(rec->pcs, q, rec->npcs * sizeof rec->pcs[0]);
		q += rec->npcs * sizeof rec->pcs[0];
	}
	*pos = (size_t)(q - base);
	return head >> 8 & 0x1fff;
}

#endif
