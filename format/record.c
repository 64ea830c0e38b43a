/*
 * record.c - table-driven record encoding and decoding (see record.h).
 */
#include "record.h"

static int kind_is_signed(char kind)
{
	return kind == 'i' || kind == 'r';
}

static int decode_general(const uint8_t **pp, const uint8_t *end,
			  struct weft_batch_state *st, struct weft_record *r,
			  const char **err);

uint8_t *weft_encode_record(uint8_t *p, const struct weft_record *r,
			    struct weft_batch_state *st)
{
	const struct weft_event_desc *d = &weft_events[r->code];
	*p++ = r->code;
	if (d->timed) {
		uint64_t delta = r->ts > st->ts ? r->ts - st->ts : 0;
		st->ts += delta;
		p = weft_put_uleb(p, delta);
	}
	for (unsigned i = 0; i < d->nargs; i++) {
		char kind = d->kinds[i];
		if (kind == 'b') {
			p = weft_put_bytes(p, r->bytes, r->nbytes);
		} else if (kind == 'P') {
			p = weft_put_uleb(p, r->npcs);
			for (uint32_t j = 0; j < r->npcs; j++)
				p = weft_put_uleb(p, r->pcs[j]);
		} else if (kind == 'o') {
			p = weft_put_uleb(p, weft_zigzag((int64_t)(r->args[i] - st->obj)));
			st->obj = r->args[i];
		} else if (kind_is_signed(kind)) {
			p = weft_put_uleb(p, weft_zigzag((int64_t)r->args[i]));
		} else {
			p = weft_put_uleb(p, r->args[i]);
		}
	}
	return p;
}

/* One ULEB128, with the one-byte case inline. */
static inline int get_uleb(const uint8_t **pp, const uint8_t *end, uint64_t *v)
{
	const uint8_t *p = *pp;
	if (p < end && *p < 0x80) {
		*v = *p;
		*pp = p + 1;
		return 0;
	}
	return weft_get_uleb(pp, end, v);
}

/* Codes whose arguments are all unsigned varints or objects decode
 * through a tight loop; the table says which, and which are objects. */
static uint8_t plain_code[256]; /* 1 plain, 2 not plain, 0 not yet known */
static uint8_t object_args[256]; /* bit i: argument i is an object */

static int is_plain(uint8_t code)
{
	if (!plain_code[code]) {
		const char *k = weft_events[code].kinds;
		int plain = 1;
		for (unsigned i = 0; k && k[i]; i++) {
			if (k[i] == 'b' || k[i] == 'P' || kind_is_signed(k[i]))
				plain = 0;
			if (k[i] == 'o')
				object_args[code] |= (uint8_t)(1u << i);
		}
		plain_code[code] = plain ? 1 : 2;
	}
	return plain_code[code] == 1;
}

int weft_decode_record(const uint8_t **pp, const uint8_t *end,
		       struct weft_batch_state *st, struct weft_record *r,
		       const char **err)
{
	if (*pp < end && weft_events[**pp].name && is_plain(**pp)) {
		const uint8_t *p = *pp;
		const struct weft_event_desc *d = &weft_events[*p];
		unsigned objects = object_args[*p];
		r->code = *p++;
		r->nbytes = 0;
		r->bytes = NULL;
		r->npcs = 0;
		uint64_t delta = 0, obj = st->obj;
		if (d->timed && get_uleb(&p, end, &delta))
			goto truncated;
		for (unsigned i = 0; i < d->nargs; i++) {
			if (get_uleb(&p, end, &r->args[i]))
				goto truncated;
			if (objects & (1u << i)) {
				obj += (uint64_t)weft_unzigzag(r->args[i]);
				r->args[i] = obj;
			}
		}
		st->ts += delta;
		st->obj = obj;
		r->ts = st->ts;
		*pp = p;
		return 0;
truncated:
		*err = "truncated record";
		return -1;
	}
	return decode_general(pp, end, st, r, err);
}

static int decode_general(const uint8_t **pp, const uint8_t *end,
			  struct weft_batch_state *st, struct weft_record *r,
			  const char **err)
{
	const uint8_t *p = *pp;
	if (p >= end) {
		*err = "truncated record";
		return -1;
	}
	r->code = *p++;
	const struct weft_event_desc *d = &weft_events[r->code];
	if (!d->name) {
		*err = "unknown event code";
		return -1;
	}
	r->nbytes = 0;
	r->bytes = NULL;
	r->npcs = 0;
	uint64_t ts = st->ts, obj = st->obj;
	if (d->timed) {
		uint64_t delta;
		if (weft_get_uleb(&p, end, &delta)) {
			*err = "truncated record";
			return -1;
		}
		ts += delta;
	}
	r->ts = ts;
	for (unsigned i = 0; i < d->nargs; i++) {
		char kind = d->kinds[i];
		uint64_t v;
		if (weft_get_uleb(&p, end, &v)) {
			*err = "truncated record";
			return -1;
		}
		if (kind == 'b') {
			if (v > WEFT_MAX_BYTES) {
				*err = "byte string longer than 4096";
				return -1;
			}
			if ((uint64_t)(end - p) < v) {
				*err = "truncated record";
				return -1;
			}
			r->bytes = p;
			r->nbytes = (uint32_t)v;
			p += v;
			r->args[i] = v;
		} else if (kind == 'P') {
			if (v > WEFT_MAX_STACK) {
				*err = "stack deeper than 64 frames";
				return -1;
			}
			r->npcs = (uint32_t)v;
			for (uint32_t j = 0; j < r->npcs; j++) {
				if (weft_get_uleb(&p, end, &r->pcs[j])) {
					*err = "truncated record";
					return -1;
				}
			}
			r->args[i] = v;
		} else if (kind == 'o') {
			obj += (uint64_t)weft_unzigzag(v);
			r->args[i] = obj;
		} else if (kind_is_signed(kind)) {
			r->args[i] = (uint64_t)weft_unzigzag(v);
		} else {
			r->args[i] = v;
		}
	}
	st->ts = ts;
	st->obj = obj;
	*pp = p;
	return 0;
}
