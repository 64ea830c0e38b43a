/*
 * utf8.h - text from a trace (thread names, symbols, paths) made valid
 * UTF-8 for the formats that require it (JSON, protobuf strings): every
 * byte that does not start a well-formed sequence stands for U+FFFD.
 */
#ifndef WEFT_UTF8_H
#define WEFT_UTF8_H

#include <stddef.h>

/* The length of the well-formed UTF-8 sequence s starts with (1 to 4;
 * no overlong forms, surrogates or code points above U+10FFFF), or 0 when
 * s[0] starts none.  s is NUL-terminated. */
size_t weft_utf8_sequence(const char *s);

/* Copies src into dst (cap >= 4) as valid UTF-8, each byte that starts no
 * sequence replaced by U+FFFD, cut at a sequence boundary to fit; returns
 * the length written. */
size_t weft_utf8_copy(char *dst, size_t cap, const char *src);

#endif
