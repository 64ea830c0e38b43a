/*
 * grow.h - arrays that grow by doubling, as every table of the reader
 * library does.
 *
 * WEFT_GROW(v, n, cap, first) makes room in v (n elements used, cap
 * allocated) for one more element; the first allocation holds first.
 * Running out of memory aborts: a reader cannot go on without the element,
 * and a partial answer would be a wrong one.
 */
#ifndef WEFT_GROW_H
#define WEFT_GROW_H

#include <stdlib.h>

#define WEFT_GROW(v, n, cap, first)                                           \
	do {                                                                  \
		if ((n) == (cap)) {                                           \
			(cap) = (cap) ? (cap) * 2 : (first);                  \
			(v) = realloc((v), (size_t)(cap) * sizeof *(v));      \
			if (!(v))                                             \
				abort();                                      \
		}                                                             \
	} while (0)

#endif
