/*
 * wire.h - the byte-level encoding of a weft trace, shared by the writer and
 * the reader: file header and batch header layouts, ULEB128 and zigzag
 * varints, and the event descriptor table expanded from events.def.
 * format/SPEC.md is the normative description; this file must agree with it.
 */
#ifndef WEFT_WIRE_H
#define WEFT_WIRE_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define WEFT_MAGIC          "WEFTRACE"
#define WEFT_MAGIC_LEN      8
#define WEFT_FORMAT_VERSION 6

/* File header: magic, u32 version, u32 length of the varint fields that
 * follow (so newer writers may add fields an older reader skips). */
#define WEFT_FILE_HEADER_FIXED 16

enum weft_clock_source {
	WEFT_CLOCK_MONOTONIC = 1, /* clock_gettime(CLOCK_MONOTONIC), ns */
	WEFT_CLOCK_TSC = 2,       /* x86 time-stamp counter */
};

/* Batch header: fixed size, little-endian, so a writer can reserve it when a
 * buffer is started and fill in the length when the buffer is flushed. */
#define WEFT_BATCH_TAG         0xBA
#define WEFT_BATCH_HEADER_SIZE 24
/*  off size field
 *    0    1 tag (0xBA)
 *    1    3 reserved, zero
 *    4    4 thread serial (0 = the process: tables and markers)
 *    8    4 generation
 *   12    4 payload length in bytes (records after this header)
 *   16    8 base timestamp (clock ticks)
 */

/* No batch is longer than this; a header claiming more is corrupt. */
#define WEFT_MAX_BATCH (256u << 20)

struct weft_batch_header {
	uint32_t serial;
	uint32_t generation;
	uint32_t length;
	uint64_t base_ts;
};

/* Longest encoding of one ULEB128 u64. */
#define WEFT_ULEB_MAX 10

static inline uint8_t *weft_put_uleb(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* A byte string ('b' kind): its length, then the bytes. */
static inline uint8_t *weft_put_bytes(uint8_t *p, const void *bytes, uint64_t len)
{
	p = weft_put_uleb(p, len);
	if (len)
		memcpy(p, bytes, len);
	return p + len;
}

static inline uint64_t weft_zigzag(int64_t v)
{
	return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static inline int64_t weft_unzigzag(uint64_t v)
{
	return (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
}

/* Decodes one ULEB128 from [*pp, end).  Returns 0 and advances *pp, or -1
 * when the value is truncated or longer than 64 bits. */
static inline int weft_get_uleb(const uint8_t **pp, const uint8_t *end,
				uint64_t *out)
{
	const uint8_t *p = *pp;
	uint64_t v = 0;
	for (unsigned shift = 0; shift < 64; shift += 7) {
		if (p == end)
			return -1;
		uint8_t b = *p++;
		v |= (uint64_t)(b & 0x7f) << shift;
		if (b < 0x80) {
			/* The tenth byte may carry only bit 63. */
			if (shift == 63 && b > 1)
				return -1;
			*pp = p;
			*out = v;
			return 0;
		}
	}
	return -1;
}

static inline void weft_put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline void weft_put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static inline uint32_t weft_get_le32(const uint8_t *p)
{
	uint32_t v = 0;
	for (int i = 0; i < 4; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static inline uint64_t weft_get_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static inline void weft_put_batch_header(uint8_t *p,
					 const struct weft_batch_header *h)
{
	memset(p, 0, WEFT_BATCH_HEADER_SIZE);
	p[0] = WEFT_BATCH_TAG;
	weft_put_le32(p + 4, h->serial);
	weft_put_le32(p + 8, h->generation);
	weft_put_le32(p + 12, h->length);
	weft_put_le64(p + 16, h->base_ts);
}

/* The event codes, from events.def. */
enum weft_event_code {
#define WEFT_EVENT(name, code, timed, kinds, names) WEFT_EV_##name = code,
#include "events.def"
#undef WEFT_EVENT
};

/* Argument counts as compile-time constants, for the writer's checks. */
enum {
#define WEFT_EVENT(name, code, timed, kinds, names) \
	WEFT_NARGS_##name = sizeof(kinds) - 1,
#include "events.def"
#undef WEFT_EVENT
};

enum weft_syscall_id {
#define WEFT_SYSCALL(name, id, arg, class) WEFT_SYS_##name = id,
#include "syscalls.def"
#undef WEFT_SYSCALL
	WEFT_SYS_COUNT_
};

/* What a syscall record's argument holds, and what the call waits for
 * (the ARG and CLASS columns of syscalls.def). */
#define WEFT_SYSCALL(name, id, arg, class)
enum weft_syscall_arg {
#define WEFT_SYSCALL_ARG(arg, words) WEFT_SYSARG_##arg,
#include "syscalls.def"
#undef WEFT_SYSCALL_ARG
	WEFT_SYSARG_COUNT_
};
enum weft_syscall_class {
	WEFT_SYSCLASS_UNKNOWN,
#define WEFT_SYSCALL_CLASS(class, word) WEFT_SYSCLASS_##class,
#include "syscalls.def"
#undef WEFT_SYSCALL_CLASS
	WEFT_SYSCLASS_COUNT_
};
#undef WEFT_SYSCALL

enum weft_thread_state {
#define WEFT_STATE(name, id) WEFT_STATE_##name = id,
#include "states.def"
#undef WEFT_STATE
};

/*
 * Object coding (format version 5, SPEC.md section 4.2).  Each batch keeps
 * a table of WEFT_OBJECT_TABLE entries, the same on both sides: an object
 * address and the last sequence number coded for it.  An address has one
 * place in it, weft_object_slot(); every entry starts as address 0, number
 * 0, when a batch starts.  An 'o' argument is one ULEB128 v: v below
 * WEFT_OBJECT_TABLE names the entry at v; otherwise the object is not in
 * its place and v - WEFT_OBJECT_TABLE is the zigzag difference from the
 * batch's previous object (WEFT_OBJECT_ESCAPE then a ULEB128 zigzag
 * difference, for the few differences too large for that), and the object
 * takes its place with number 0.  An 's' argument is the zigzag difference
 * from one more than the last number of its object's entry.
 */
#define WEFT_OBJECT_TABLE  8
#define WEFT_OBJECT_ESCAPE UINT64_MAX

struct weft_object_entry {
	uint64_t addr;
	uint64_t seq;
};

static inline unsigned weft_object_slot(uint64_t addr)
{
	return (unsigned)((addr * 0x9e3779b97f4a7c15ull) >> 61);
}

/* The ULEB128 value of an object that is not in the table, from its
 * zigzag difference; WEFT_OBJECT_ESCAPE when the difference follows. */
static inline uint64_t weft_object_miss(uint64_t zigzag)
{
	return zigzag < WEFT_OBJECT_ESCAPE - WEFT_OBJECT_TABLE
		       ? zigzag + WEFT_OBJECT_TABLE
		       : WEFT_OBJECT_ESCAPE;
}

/*
 * Compact records (format version 5, SPEC.md section 4.3): a code byte
 * with bit 7 set is 1fff fiii: form f of compact.def, about the object in
 * table entry i, followed by the timestamp delta and the arguments its
 * pattern marks '.', nothing else.
 */
#define WEFT_COMPACT_BIT 0x80
#define WEFT_COMPACT_FORMS 16

static inline uint8_t weft_compact_code(unsigned form, unsigned entry)
{
	return (uint8_t)(WEFT_COMPACT_BIT | form << 3 | entry);
}

/* MUTEX_ACQUIRE / RWLOCK / SPIN / SEM flags. */
#define WEFT_FLAG_CONTENDED  0x1
#define WEFT_FLAG_TRY        0x2
#define WEFT_FLAG_TIMED      0x4
#define WEFT_FLAG_OWNERDEAD  0x8
#define WEFT_RW_READ  1
#define WEFT_RW_WRITE 2
/* MODE.mode: how a generation was recorded (format/SPEC.md, section 7.7). */
#define WEFT_MODE_FULL       0
#define WEFT_MODE_CONTENTION 1
/* LOCK_COUNTS.kind: the acquisitions it counts. */
#define WEFT_COUNT_MUTEX    1
#define WEFT_COUNT_RW_READ  2
#define WEFT_COUNT_RW_WRITE 3
#define WEFT_COUNT_SPIN     4
/* GEN_END.stopped: how tracing went on after the generation (SPEC.md,
 * section 10). */
#define WEFT_GEN_END_ROTATED     0
#define WEFT_GEN_END_STOPPED     1
#define WEFT_GEN_END_IMAGE_ENDED 2

/* The descriptor table: one entry per code, NULL name for unused codes. */
#define WEFT_MAX_ARGS 8
struct weft_event_desc {
	const char *name;   /* e.g. "MUTEX_ACQUIRE" */
	const char *kinds;  /* argument kind letters, see events.def */
	const char *names;  /* comma-separated argument names */
	uint8_t timed;
	uint8_t nargs;
	/* Where the arguments some code looks up by role are, -1 when the
	 * event has none: its sequence number, the object that number
	 * sequences, its stack id, its flags, its result (event_args.h). */
	int8_t seq_arg, seq_object_arg, stack_arg, flags_arg, result_arg;
};

extern const struct weft_event_desc weft_events[256];

/* What an event does to its thread's state, from effects.def. */
enum weft_effect_kind {
	WEFT_EFFECT_NONE = 0,
	WEFT_EFFECT_BEGINS,
	WEFT_EFFECT_ENDS,
	WEFT_EFFECT_ENDS_IF_CONTENDED,
};

struct weft_event_effect {
	uint8_t effect;     /* enum weft_effect_kind */
	uint8_t state;      /* the WEFT_STATE_* it begins or ends */
	uint8_t arg;        /* the argument the state is about */
	uint8_t begin;      /* for an end, the code of the event beginning it */
};

extern const struct weft_event_effect weft_effects[256];

const char *weft_syscall_name(uint64_t id);
enum weft_syscall_arg weft_syscall_arg(uint64_t id);
enum weft_syscall_class weft_syscall_class(uint64_t id);
const char *weft_state_name(uint64_t id);

#endif
