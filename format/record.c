/*
 * record.c - table-driven record encoding and decoding (see record.h), in
 * the coding of format version 5 and in that of versions 1 to 4.
 */
#include "record.h"

const struct weft_compact_form weft_compact_forms[WEFT_COMPACT_FORMS] = {
#define WEFT_COMPACT(form, EVENT, pattern) [form] = { WEFT_EV_##EVENT, pattern },
#include "compact.def"
#undef WEFT_COMPACT
};

void weft_batch_state_init(struct weft_batch_state *st, uint32_t version,
			   uint64_t base_ts)
{
	*st = (struct weft_batch_state){ .ts = base_ts, .v4 = version < 5 };
}

static int kind_is_signed(char kind)
{
	return kind == 'i' || kind == 'r';
}

/* ---- encoding ---- */

/* One argument that is neither an object nor a sequence number. */
static uint8_t *put_value(uint8_t *p, char kind, uint64_t v,
			  const struct weft_record *r)
{
	if (kind == 'b')
		return weft_put_bytes(p, r->bytes, r->nbytes);
	if (kind == 'P') {
		p = weft_put_uleb(p, r->npcs);
		for (uint32_t j = 0; j < r->npcs; j++)
			p = weft_put_uleb(p, r->pcs[j]);
		return p;
	}
	return weft_put_uleb(p, kind_is_signed(kind) ? weft_zigzag((int64_t)v) : v);
}

static uint8_t *put_delta(uint8_t *p, const struct weft_record *r,
			  struct weft_batch_state *st)
{
	uint64_t delta = r->ts > st->ts ? r->ts - st->ts : 0;
	st->ts += delta;
	return weft_put_uleb(p, delta);
}

/* Whether r's arguments match a compact pattern, its object's entry
 * holding last as its last number. */
static int fits(const char *pattern, const struct weft_record *r, uint64_t last)
{
	for (unsigned i = 0; pattern[i]; i++) {
		char c = pattern[i];
		if (c == 's' && r->args[i] != last + 1)
			return 0;
		if (c >= '0' && c <= '9' && r->args[i] != (uint64_t)(c - '0'))
			return 0;
	}
	return 1;
}

/* r in a compact form, or NULL when none fits it. */
static uint8_t *encode_compact(uint8_t *p, const struct weft_record *r,
			       struct weft_batch_state *st)
{
	const struct weft_event_desc *d = &weft_events[r->code];
	if (!d->timed || d->kinds[0] != 'o')
		return NULL;
	unsigned slot = weft_object_slot(r->args[0]);
	struct weft_object_entry *e = &st->objects[slot];
	if (e->addr != r->args[0])
		return NULL;
	for (unsigned f = 0; f < WEFT_COMPACT_FORMS; f++) {
		const char *pattern = weft_compact_forms[f].pattern;
		if (weft_compact_forms[f].code != r->code || !fits(pattern, r, e->seq))
			continue;
		*p++ = weft_compact_code(f, slot);
		p = put_delta(p, r, st);
		for (unsigned i = 0; pattern[i]; i++) {
			if (pattern[i] == 's')
				e->seq = r->args[i];
			else if (pattern[i] == '.')
				p = put_value(p, d->kinds[i], r->args[i], r);
		}
		st->obj = r->args[0];
		return p;
	}
	return NULL;
}

static uint8_t *encode_v4(uint8_t *p, const struct weft_record *r,
			  struct weft_batch_state *st)
{
	const struct weft_event_desc *d = &weft_events[r->code];
	*p++ = r->code;
	if (d->timed)
		p = put_delta(p, r, st);
	for (unsigned i = 0; i < d->nargs; i++) {
		if (d->kinds[i] == 'o') {
			p = weft_put_uleb(p, weft_zigzag((int64_t)(r->args[i] - st->obj)));
			st->obj = r->args[i];
		} else {
			p = put_value(p, d->kinds[i], r->args[i], r);
		}
	}
	return p;
}

uint8_t *weft_encode_record(uint8_t *p, const struct weft_record *r,
			    struct weft_batch_state *st)
{
	if (st->v4)
		return encode_v4(p, r, st);
	uint8_t *end = encode_compact(p, r, st);
	if (end)
		return end;
	const struct weft_event_desc *d = &weft_events[r->code];
	struct weft_object_entry *cur = NULL;
	*p++ = r->code;
	if (d->timed)
		p = put_delta(p, r, st);
	for (unsigned i = 0; i < d->nargs; i++) {
		uint64_t v = r->args[i];
		if (d->kinds[i] == 'o') {
			unsigned slot = weft_object_slot(v);
			cur = &st->objects[slot];
			if (cur->addr == v) {
				p = weft_put_uleb(p, slot);
			} else {
				uint64_t zz = weft_zigzag((int64_t)(v - st->obj));
				uint64_t miss = weft_object_miss(zz);
				p = weft_put_uleb(p, miss);
				if (miss == WEFT_OBJECT_ESCAPE)
					p = weft_put_uleb(p, zz);
				*cur = (struct weft_object_entry){ v, 0 };
			}
			st->obj = v;
		} else if (d->kinds[i] == 's' && cur) {
			p = weft_put_uleb(p, weft_zigzag((int64_t)(v - cur->seq - 1)));
			cur->seq = v;
		} else {
			p = put_value(p, d->kinds[i], v, r);
		}
	}
	return p;
}

/* ---- decoding ---- */

const char *weft_code_name(uint8_t c, const struct weft_batch_state *st)
{
	if (c & WEFT_COMPACT_BIT && !st->v4)
		c = weft_compact_forms[(c >> 3) & 15].code;
	return weft_events[c].name;
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

static int bad(const char **err, const char *why)
{
	*err = why;
	return -1;
}

/* One argument that is neither an object nor a sequence number, from its
 * ULEB128 value v (a 'b' or 'P' then reads on from *pp). */
static int get_value(const uint8_t **pp, const uint8_t *end, char kind,
		     uint64_t v, unsigned i, struct weft_record *r,
		     const char **err)
{
	if (kind == 'b') {
		if (v > WEFT_MAX_BYTES)
			return bad(err, "byte string longer than 4096");
		if ((uint64_t)(end - *pp) < v)
			return bad(err, "truncated record");
		r->bytes = *pp;
		r->nbytes = (uint32_t)v;
		*pp += v;
	} else if (kind == 'P') {
		if (v > WEFT_MAX_STACK)
			return bad(err, "stack deeper than 64 frames");
		r->npcs = (uint32_t)v;
		for (uint32_t j = 0; j < r->npcs; j++)
			if (weft_get_uleb(pp, end, &r->pcs[j]))
				return bad(err, "truncated record");
	} else if (kind_is_signed(kind)) {
		v = (uint64_t)weft_unzigzag(v);
	}
	r->args[i] = v;
	return 0;
}

/* What each code's arguments are, worked out once from the table: bit i
 * of objects[code] (seqs[code]) says argument i is an object (a sequence
 * number); plain[code] that every argument is one ULEB128 taken as it is
 * (no signed kind, no byte string or list). */
static struct {
	uint8_t known[256], plain[256], objects[256], seqs[256];
} shape;

static void learn(uint8_t code)
{
	const char *k = weft_events[code].kinds;
	int plain = 1;
	for (unsigned i = 0; k && k[i]; i++) {
		if (k[i] == 'b' || k[i] == 'P' || kind_is_signed(k[i]))
			plain = 0;
		if (k[i] == 'o')
			shape.objects[code] |= (uint8_t)(1u << i);
		if (k[i] == 's')
			shape.seqs[code] |= (uint8_t)(1u << i);
	}
	shape.plain[code] = (uint8_t)plain;
	shape.known[code] = 1;
}

static int decode_compact(const uint8_t **pp, const uint8_t *end,
			  struct weft_batch_state *st, struct weft_record *r,
			  const char **err)
{
	const uint8_t *p = *pp;
	uint8_t c = *p++;
	const struct weft_compact_form *f = &weft_compact_forms[(c >> 3) & 15];
	if (!f->code)
		return bad(err, "unknown event code");
	const char *kinds = weft_events[f->code].kinds;
	struct weft_object_entry *e = &st->objects[c & 7];
	uint64_t delta;
	if (get_uleb(&p, end, &delta))
		return bad(err, "truncated record");
	r->code = f->code;
	r->nbytes = 0;
	r->bytes = NULL;
	r->npcs = 0;
	for (unsigned i = 0; f->pattern[i]; i++) {
		char c = f->pattern[i];
		if (c == 'o') {
			r->args[i] = e->addr;
		} else if (c == 's') {
			r->args[i] = ++e->seq;
		} else if (c == '.') {
			uint64_t v;
			if (get_uleb(&p, end, &v))
				return bad(err, "truncated record");
			if (get_value(&p, end, kinds[i], v, i, r, err))
				return -1;
		} else {
			r->args[i] = (uint64_t)(c - '0');
		}
	}
	st->ts += delta;
	st->obj = e->addr;
	r->ts = st->ts;
	*pp = p;
	return 0;
}

int weft_decode_record(const uint8_t **pp, const uint8_t *end,
		       struct weft_batch_state *st, struct weft_record *r,
		       const char **err)
{
	const uint8_t *p = *pp;
	*err = NULL;
	if (p >= end)
		return bad(err, "truncated record");
	uint8_t code = *p;
	if (code & WEFT_COMPACT_BIT && !st->v4)
		return decode_compact(pp, end, st, r, err);
	const struct weft_event_desc *d = &weft_events[code];
	if (!d->name)
		return bad(err, "unknown event code");
	if (!shape.known[code])
		learn(code);
	p++;
	r->code = code;
	r->nbytes = 0;
	r->bytes = NULL;
	r->npcs = 0;
	uint64_t delta = 0, obj = st->obj;
	if (d->timed && get_uleb(&p, end, &delta))
		return bad(err, "truncated record");
	unsigned objects = shape.objects[code], seqs = st->v4 ? 0 : shape.seqs[code];
	struct weft_object_entry *cur = NULL;
	for (unsigned i = 0; i < d->nargs; i++) {
		uint64_t v;
		if (get_uleb(&p, end, &v))
			return bad(err, "truncated record");
		if (objects & (1u << i)) {
			if (st->v4) {
				obj += (uint64_t)weft_unzigzag(v);
			} else if (v < WEFT_OBJECT_TABLE) {
				cur = &st->objects[v];
				obj = cur->addr;
			} else {
				if (v != WEFT_OBJECT_ESCAPE)
					v -= WEFT_OBJECT_TABLE;
				else if (weft_get_uleb(&p, end, &v))
					return bad(err, "truncated record");
				obj += (uint64_t)weft_unzigzag(v);
				cur = &st->objects[weft_object_slot(obj)];
				*cur = (struct weft_object_entry){ obj, 0 };
			}
			r->args[i] = obj;
		} else if ((seqs & (1u << i)) && cur) {
			cur->seq += 1 + (uint64_t)weft_unzigzag(v);
			r->args[i] = cur->seq;
		} else if (shape.plain[code]) {
			r->args[i] = v;
		} else if (get_value(&p, end, d->kinds[i], v, i, r, err)) {
			return -1;
		}
	}
	st->ts += delta;
	st->obj = obj;
	r->ts = st->ts;
	*pp = p;
	return 0;
}
