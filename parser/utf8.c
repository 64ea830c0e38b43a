/*
 * utf8.c - well-formed UTF-8 (see utf8.h).
 */
#include "utf8.h"

#include <string.h>

size_t weft_utf8_sequence(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	unsigned char c = u[0];
	if (c < 0x80)
		return 1;
	size_t n;
	unsigned char lo = 0x80, hi = 0xbf; /* bounds of the second byte */
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		if (c == 0xe0)
			lo = 0xa0;      /* overlong */
		else if (c == 0xed)
			hi = 0x9f;      /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		if (c == 0xf0)
			lo = 0x90;      /* overlong */
		else if (c == 0xf4)
			hi = 0x8f;      /* above U+10FFFF */
	} else {
		return 0;
	}
	if (u[1] < lo || u[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (u[i] < 0x80 || u[i] > 0xbf)
			return 0;
	return n;
}

size_t weft_utf8_copy(char *dst, size_t cap, const char *src)
{
	static const char replacement[] = "\xef\xbf\xbd";
	size_t n = 0;
	while (*src) {
		size_t len = weft_utf8_sequence(src);
		const char *from = len ? src : replacement;
		size_t put = len ? len : 3;
		if (n + put + 1 > cap)
			break;
		memcpy(dst + n, from, put);
		n += put;
		src += len ? len : 1;
	}
	dst[n] = 0;
	return n;
}
