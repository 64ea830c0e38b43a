/*
 * put.h - appending records to a thread's buffer: the code, the timestamp
 * as a delta from the batch's latest one, then each argument encoded as
 * events.def gives its kind.  The caller has made room (WEFT_EVENT_ROOM);
 * opening and closing the section around a record is emit.h's.
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

/* Appends one record of code with its arguments, each encoded as the
 * table gives its kind (the kinds are constants, so the choice is made at
 * compile time): object addresses come as they are and are written as the
 * difference from the batch's previous object; signed values ('i', 'r')
 * come as they are, converted to uint64_t, and are written zigzagged; a
 * byte string ('b') comes as its length, and its bytes are at bytes. */
#define WEFT_PUT(t, gen, code, kinds, ts, args, nargs, bytes)                 \
	do {                                                                  \
		uint8_t *weft_p_ = weft_put_head(t, gen, code, ts);           \
		_Pragma("GCC unroll 8")                                       \
		for (unsigned weft_i_ = 0; weft_i_ < (nargs); weft_i_++) {    \
			uint64_t weft_v_ = (args)[weft_i_];                   \
			char weft_kind_ = (kinds)[weft_i_];                   \
			if (weft_kind_ == 'o') {                              \
				uint64_t *weft_last_ = &(t)->last_obj[(gen) & 1]; \
				weft_v_ = weft_zigzag((int64_t)(weft_v_ - *weft_last_)); \
				*weft_last_ = (args)[weft_i_];                \
			} else if (weft_kind_ == 'i' || weft_kind_ == 'r') {  \
				weft_v_ = weft_zigzag((int64_t)weft_v_);      \
			} else if (weft_kind_ == 'b') {                       \
				weft_p_ = weft_put_bytes(weft_p_, bytes, weft_v_); \
				continue;                                     \
			}                                                     \
			weft_p_ = weft_put_uleb(weft_p_, weft_v_);            \
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
