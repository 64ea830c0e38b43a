/*
 * protobuf.h - a protocol buffers encoder for one message at a time, in
 * memory: varints, fixed64, strings and nested messages.  The Perfetto
 * exporter writes each TracePacket with it.
 *
 * weft writes protobuf with this small encoder rather than protobuf-c:
 * the exporter streams millions of packets, and building each through
 * generated structs would mean filling and freeing them (or allocating
 * per packet) to write a few fields; the wire format needs only the
 * varint code weft already has (format/wire.h), and no generated code
 * or extra library comes into the build.
 */
#ifndef WEFT_PROTOBUF_H
#define WEFT_PROTOBUF_H

#include <stddef.h>
#include <stdint.h>

#define PB_DEPTH 8  /* nesting of messages */

struct pb {
	uint8_t *buf;
	size_t len, cap;
	size_t open[PB_DEPTH];  /* where each open message's length goes */
	unsigned depth;
};

void pb_free(struct pb *b);
/* Empties b for the next message. */
static inline void pb_reset(struct pb *b) { b->len = 0; b->depth = 0; }

void pb_varint(struct pb *b, uint32_t field, uint64_t v);
/* int32 and int64 fields: a negative value as its 64-bit two's complement. */
static inline void pb_int(struct pb *b, uint32_t field, int64_t v)
{
	pb_varint(b, field, (uint64_t)v);
}
void pb_fixed64(struct pb *b, uint32_t field, uint64_t v);
void pb_bytes(struct pb *b, uint32_t field, const void *p, size_t n);
/* A string field; s must be valid UTF-8 (weft_utf8_copy). */
void pb_string(struct pb *b, uint32_t field, const char *s);
/* A nested message: its fields follow, until pb_end(). */
void pb_begin(struct pb *b, uint32_t field);
void pb_end(struct pb *b);

#endif
