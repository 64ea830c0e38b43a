/*
 * protobuf.c - the protocol buffers encoder (see protobuf.h).
 */
#include "protobuf.h"

#include <stdlib.h>
#include <string.h>

#include "wire.h"

enum { PB_VARINT = 0, PB_FIXED64 = 1, PB_LEN = 2 };

static void reserve(struct pb *b, size_t more)
{
	if (b->len + more <= b->cap)
		return;
	size_t cap = b->cap ? b->cap * 2 : 4096;
	while (cap < b->len + more)
		cap *= 2;
	b->buf = realloc(b->buf, cap);
	if (!b->buf)
		abort();
	b->cap = cap;
}

void pb_free(struct pb *b)
{
	free(b->buf);
	*b = (struct pb){ 0 };
}

static void tag(struct pb *b, uint32_t field, unsigned wire)
{
	reserve(b, 10);
	b->len = (size_t)(weft_put_uleb(b->buf + b->len, (uint64_t)field << 3 | wire) - b->buf);
}

void pb_varint(struct pb *b, uint32_t field, uint64_t v)
{
	tag(b, field, PB_VARINT);
	reserve(b, 10);
	b->len = (size_t)(weft_put_uleb(b->buf + b->len, v) - b->buf);
}

void pb_fixed64(struct pb *b, uint32_t field, uint64_t v)
{
	tag(b, field, PB_FIXED64);
	reserve(b, 8);
	weft_put_le64(b->buf + b->len, v);
	b->len += 8;
}

void pb_bytes(struct pb *b, uint32_t field, const void *p, size_t n)
{
	tag(b, field, PB_LEN);
	reserve(b, 10 + n);
	b->len = (size_t)(weft_put_uleb(b->buf + b->len, n) - b->buf);
	memcpy(b->buf + b->len, p, n);
	b->len += n;
}

void pb_string(struct pb *b, uint32_t field, const char *s)
{
	pb_bytes(b, field, s, strlen(s));
}

/* A message's length is not known until it ends: one byte is kept for
 * it, and the message moves up when its length needs more. */
void pb_begin(struct pb *b, uint32_t field)
{
	if (b->depth == PB_DEPTH)
		abort();
	tag(b, field, PB_LEN);
	reserve(b, 1);
	b->open[b->depth++] = b->len++;
}

void pb_end(struct pb *b)
{
	size_t at = b->open[--b->depth];
	size_t body = b->len - at - 1;
	uint8_t len[10];
	size_t n = (size_t)(weft_put_uleb(len, body) - len);
	if (n > 1) {
		reserve(b, n - 1);
		memmove(b->buf + at + n, b->buf + at + 1, body);
		b->len += n - 1;
	}
	memcpy(b->buf + at, len, n);
}
