/*
 * record.c - table-driven record encoding and decoding (see record.h).
 */
#include "record.h"

static int kind_is_signed(char kind)
{
	return kind == 'i' || kind == 'r';
}

uint8_t *weft_encode_record(uint8_t *p, const struct weft_record *r,
			    uint64_t delta)
{
	const struct weft_event_desc *d = &weft_events[r->code];
	*p++ = r->code;
	if (d->timed)
		p = weft_put_uleb(p, delta);
	for (unsigned i = 0; i < d->nargs; i++) {
		char kind = d->kinds[i];
		if (kind == 'b') {
			p = weft_put_uleb(p, r->nbytes);
			if (r->nbytes)
				memcpy(p, r->bytes, r->nbytes);
			p += r->nbytes;
		} else if (kind == 'P') {
			p = weft_put_uleb(p, r->npcs);
			for (uint32_t j = 0; j < r->npcs; j++)
				p = weft_put_uleb(p, r->pcs[j]);
		} else if (kind_is_signed(kind)) {
			p = weft_put_uleb(p, weft_zigzag((int64_t)r->args[i]));
		} else {
			p = weft_put_uleb(p, r->args[i]);
		}
	}
	return p;
}

int weft_decode_record(const uint8_t **pp, const uint8_t *end, uint64_t *ts,
		       struct weft_record *r, const char **err)
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
	if (d->timed) {
		uint64_t delta;
		if (weft_get_uleb(&p, end, &delta)) {
			*err = "truncated record";
			return -1;
		}
		*ts += delta;
	}
	r->ts = *ts;
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
		} else if (kind_is_signed(kind)) {
			r->args[i] = (uint64_t)weft_unzigzag(v);
		} else {
			r->args[i] = v;
		}
	}
	*pp = p;
	return 0;
}
