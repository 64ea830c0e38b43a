/*
 * u64map.h - an open-addressing hash map from a non-zero 64-bit key to a
 * small integer index (0 = absent).  The validator looks up an object on
 * almost every event, so this is a flat linear-probe table, not uthash.
 */
#ifndef WEFT_U64MAP_H
#define WEFT_U64MAP_H

#include <stdint.h>
#include <stdlib.h>

struct u64map {
	uint64_t *keys;
	uint32_t *vals;
	uint32_t cap, len; /* cap is a power of two */
};

static inline uint32_t u64map_slot(uint64_t key, uint32_t cap)
{
	return (uint32_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

static inline uint32_t u64map_get(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return 0;
	for (uint32_t i = u64map_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key)
			return m->vals[i];
		if (m->keys[i] == 0)
			return 0;
	}
}

static inline void u64map_put(struct u64map *m, uint64_t key, uint32_t val);

static inline void u64map_grow(struct u64map *m)
{
	struct u64map bigger = { 0 };
	bigger.cap = m->cap ? m->cap * 2 : 64;
	bigger.keys = calloc(bigger.cap, sizeof *bigger.keys);
	bigger.vals = calloc(bigger.cap, sizeof *bigger.vals);
	if (!bigger.keys || !bigger.vals)
		abort();
	for (uint32_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			u64map_put(&bigger, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	*m = bigger;
}

/* Inserts or replaces; key must not be 0. */
static inline void u64map_put(struct u64map *m, uint64_t key, uint32_t val)
{
	if ((m->len + 1) * 2 > m->cap)
		u64map_grow(m);
	for (uint32_t i = u64map_slot(key, m->cap);; i = (i + 1) & (m->cap - 1)) {
		if (m->keys[i] == key) {
			m->vals[i] = val;
			return;
		}
		if (m->keys[i] == 0) {
			m->keys[i] = key;
			m->vals[i] = val;
			m->len++;
			return;
		}
	}
}

static inline void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	*m = (struct u64map){ 0 };
}

#endif
