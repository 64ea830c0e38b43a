/*
 * put.h - appending records to a thread's buffer: the code, the timestamp
 * as a delta from the batch's latest one, then each argument encoded as
 * events.def gives its kind, or in a compact form of compact.def: the
 * bytes format/record.c's encoder writes.  The caller has made room
 * (WEFT_EVENT_ROOM); opening and closing the section around a record is
 * emit.h's.
 */
#ifndef WEFT_PUT_H
#define WEFT_PUT_H

#include "../format/wire.h"
#include "weft.h"

/* Room one event may take (the longest is an EXEC path, written through the
 * slow path with its own check). */
#define WEFT_EVENT_ROOM 96

/* Appends the record's code and timestamp delta.  A timestamp taken before
 * the buffer's latest one (a release stamped before its real call) is
 * clamped, so deltas never go negative. */
static inline uint8_t *weft_put_head(struct weft_thread *t, uint32_t gen,
				     uint8_t code, uint64_t ts)
{
	unsigned s = gen & 1;
	uint8_t *p = t->buf[s] + t->pos[s];
	*p++ = code;
	uint64_t last = t->last_ts[s];
	uint64_t delta = ts > last ? ts - last : 0;
	if (ts > last)
		t->last_ts[s] = ts;
	return weft_put_uleb(p, delta);
}

static inline void weft_put_done(struct weft_thread *t, uint32_t gen,
				 uint8_t *end)
{
	unsigned s = gen & 1;
	t->pos[s] = (uint32_t)(end - t->buf[s]);
}

/* Each event's argument kinds, for the emitter (folded at compile time). */
#define WEFT_EVENT(name, code, timed, kinds, names) \
	__attribute__((unused)) static const char weft_kinds_##name[] = kinds;
#include "../format/events.def"
#undef WEFT_EVENT

#define WEFT_INLINE static inline __attribute__((always_inline))

/* An argument that is neither an object nor a sequence number, as a full
 * record codes it (a byte string is not one of these). */
WEFT_INLINE uint8_t *weft_put_value(uint8_t *p, char kind, uint64_t v)
{
	if (kind == 'i' || kind == 'r')
		v = weft_zigzag((int64_t)v);
	return weft_put_uleb(p, v);
}

/* An object argument of a full record: its index when the batch's table
 * has it in its place, else its difference from the previous object, and
 * it takes that place.  *cur is its entry, for the sequence number after
 * it. */
WEFT_INLINE uint8_t *weft_put_object(struct weft_thread *t, unsigned s,
				     uint8_t *p, uint64_t v,
				     struct weft_object_entry **cur)
{
	unsigned slot = weft_object_slot(v);
	struct weft_object_entry *e = &t->objects[s][slot];
	uint64_t last = t->last_obj[s];
	*cur = e;
	t->last_obj[s] = v;
	if (likely(e->addr == v)) {
		*p = (uint8_t)slot;
		return p + 1;
	}
	uint64_t zz = weft_zigzag((int64_t)(v - last));
	uint64_t miss = weft_object_miss(zz);
	p = weft_put_uleb(p, miss);
	if (unlikely(miss == WEFT_OBJECT_ESCAPE))
		p = weft_put_uleb(p, zz);
	*e = (struct weft_object_entry){ v, 0 };
	return p;
}

/* Whether args match a compact pattern (format/compact.def) of n
 * characters, their object's entry holding last as its last number.  (The
 * length is the literal's, so that the loops unroll and fold.) */
WEFT_INLINE int weft_put_fits(const char *pattern, unsigned n,
			      const uint64_t *args, uint64_t last)
{
	_Pragma("GCC unroll 8")
	for (unsigned i = 0; i < n; i++) {
		char c = pattern[i];
		if (c == 's' && args[i] != last + 1)
			return 0;
		if (c >= '0' && c <= '9' && args[i] != (uint64_t)(c - '0'))
			return 0;
	}
	return 1;
}

/* The record in compact form, its object in table entry slot. */
WEFT_INLINE uint8_t *weft_put_compact(struct weft_thread *t, uint32_t gen,
				      unsigned form, unsigned slot,
				      const char *pattern, unsigned n,
				      const char *kinds, uint64_t ts,
				      const uint64_t *args)
{
	struct weft_object_entry *e = &t->objects[gen & 1][slot];
	uint8_t *p = weft_put_head(t, gen, weft_compact_code(form, slot), ts);
	_Pragma("GCC unroll 8")
	for (unsigned i = 0; i < n; i++) {
		if (pattern[i] == 's')
			e->seq = args[i];
		else if (pattern[i] == '.')
			p = weft_put_value(p, kinds[i], args[i]);
	}
	t->last_obj[gen & 1] = args[0];
	return p;
}

/* The record in the first compact form that fits it, or NULL (its object
 * is not in the table, or no form fits).  With a constant code, only that
 * event's forms are compiled in. */
WEFT_INLINE uint8_t *weft_put_try_compact(struct weft_thread *t, uint32_t gen,
					  uint8_t code, const char *kinds,
					  uint64_t ts, const uint64_t *args,
					  unsigned nargs)
{
	if (nargs == 0 || kinds[0] != 'o')
		return NULL;
	unsigned slot = weft_object_slot(args[0]);
	const struct weft_object_entry *e = &t->objects[gen & 1][slot];
	if (e->addr != args[0])
		return NULL;
#define WEFT_COMPACT(form, EVENT, pattern)                                    \
	if (code == WEFT_EV_##EVENT &&                                        \
	    weft_put_fits(pattern, sizeof(pattern) - 1, args, e->seq))        \
		return weft_put_compact(t, gen, form, slot, pattern,          \
					sizeof(pattern) - 1, kinds, ts, args);
#include "../format/compact.def"
#undef WEFT_COMPACT
	return NULL;
}

/* Appends one record of code with its arguments (format/SPEC.md, section
 * 4): in a compact form when one fits, else in full, each argument coded
 * as the table gives its kind (the kinds are constants, so the choice is
 * made at compile time): object addresses come as they are and are
 * written as their index in the batch's object table, or their
 * difference from the batch's previous object; a sequence number as its
 * difference from its object's last; signed values ('i', 'r') come as
 * they are, converted to uint64_t, and are written zigzagged; a byte
 * string ('b') comes as its length, and its bytes are at bytes. */
#define WEFT_PUT(t, gen, code, kinds, ts, args, nargs, bytes)                 \
	do {                                                                  \
		uint8_t *weft_p_ = weft_put_try_compact(t, gen, code, kinds,  \
							ts, args, nargs);     \
		if (!weft_p_) {                                               \
			struct weft_object_entry *weft_cur_ = NULL;           \
			weft_p_ = weft_put_head(t, gen, code, ts);            \
			_Pragma("GCC unroll 8")                               \
			for (unsigned weft_i_ = 0; weft_i_ < (nargs); weft_i_++) { \
				uint64_t weft_v_ = (args)[weft_i_];           \
				char weft_kind_ = (kinds)[weft_i_];           \
				if (weft_kind_ == 'o') {                      \
					weft_p_ = weft_put_object(t, (gen) & 1, weft_p_, \
								  weft_v_, &weft_cur_); \
				} else if (weft_kind_ == 's' && weft_cur_) {  \
					weft_p_ = weft_put_uleb(weft_p_, weft_zigzag( \
						(int64_t)(weft_v_ - weft_cur_->seq - 1))); \
					weft_cur_->seq = weft_v_;             \
				} else if (weft_kind_ == 'b') {               \
					weft_p_ = weft_put_bytes(weft_p_, bytes, weft_v_); \
				} else {                                      \
					weft_p_ = weft_put_value(weft_p_, weft_kind_, weft_v_); \
				}                                             \
			}                                                     \
		}                                                             \
		weft_put_done(t, gen, weft_p_);                               \
	} while (0)

#define WEFT_NARGS_OF(args) (sizeof(args) / sizeof((args)[0]))

/* WEFT_EMIT_RAW(t, gen, NAME, ts, args...): appends one record of NAME,
 * its argument count checked against events.def at compile time.  For the
 * records that open a batch (STATUS, LOST); events go through WEFT_EMIT
 * (emit.h). */
#define WEFT_EMIT_RAW(t, gen, NAME, ts, ...)                                  \
	do {                                                                  \
		const uint64_t weft_args_[] = { __VA_ARGS__ };                \
		_Static_assert(WEFT_NARGS_OF(weft_args_) == WEFT_NARGS_##NAME, \
			       "argument count of " #NAME);                   \
		WEFT_PUT(t, gen, WEFT_EV_##NAME, weft_kinds_##NAME, ts,       \
			 weft_args_, WEFT_NARGS_OF(weft_args_), "");        \
	} while (0)

static inline uint64_t weft_obj(const void *p)
{
	return (uint64_t)(uintptr_t)p;
}

static inline uint64_t weft_err(int r)
{
	return r < 0 ? 0 : (uint64_t)r;
}

#endif
