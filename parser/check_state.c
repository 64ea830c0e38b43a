/*
 * check_state.c - the validator's threads and objects: each made the first
 * time it is named, found again by serial or address, and forgotten when
 * nothing more is known of it (see check_state.h); and the memory of the
 * records decoding keeps (reccache.h).
 */
#include "check_state.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "grow.h"

void append_thread(struct thread ***v, uint32_t *n, uint32_t *cap,
			  struct thread *t)
{
	WEFT_GROW(*v, *n, *cap, 64);
	(*v)[(*n)++] = t;
}

struct thread *thread_get(struct checker *c, uint32_t serial)
{
	if (serial == 0 || serial >= MAX_SERIAL)
		return NULL;
	if (serial >= c->nthreads_cap) {
		uint32_t cap = c->nthreads_cap ? c->nthreads_cap : 64;
		while (cap <= serial)
			cap *= 2;
		c->threads = realloc(c->threads, cap * sizeof *c->threads);
		if (!c->threads)
			abort();
		memset(c->threads + c->nthreads_cap, 0,
		       (cap - c->nthreads_cap) * sizeof *c->threads);
		c->nthreads_cap = cap;
	}
	if (!c->threads[serial]) {
		struct thread *t = calloc(1, sizeof *t);
		if (!t)
			abort();
		t->serial = serial;
		c->threads[serial] = t;
		append_thread(&c->all, &c->nall, &c->all_cap, t);
		c->res->threads++;
	}
	return c->threads[serial];
}

struct object *object_get(struct checker *c, uint64_t addr)
{
	/* An event is judged, then judged again as it applies: the same
	 * object twice in a row. */
	if (addr && addr == c->last_addr)
		return &c->objects[c->last_index];
	uint32_t i = addr ? u64map_get(&c->object_index, addr) : c->null_object;
	if (i) {
		c->last_addr = addr;
		c->last_index = i - 1;
		return &c->objects[i - 1];
	}
	WEFT_GROW(c->objects, c->nobjects, c->objects_cap, 256);
	struct object *o = &c->objects[c->nobjects++];
	memset(o, 0, sizeof *o);
	o->addr = addr;
	if (addr)
		u64map_put(&c->object_index, addr, c->nobjects);
	else
		c->null_object = c->nobjects;
	return o;
}

void forget_state(struct object *o)
{
	o->known = o->sem_known = 0;
	o->holder = o->depth = o->writer = o->readers = 0;
	o->early_readers = 0;
	o->barrier_count = 0;
}

/* The cache is mapped, not allocated, in huge pages where the system
 * gives them: a big generation's cache is a hundred megabytes or more,
 * touched once and then kept for the next generation.  It grows by a new
 * mapping and a copy (not mremap, which thread sanitizers do not follow). */
void reccache_grow(struct reccache *c)
{
	size_t cap = c->cap ? c->cap * 2 : (size_t)4 << 20;
	uint8_t *p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	madvise(p, cap, MADV_HUGEPAGE);
	if (c->cap) {
		memcpy(p, c->p, c->len);
		munmap(c->p, c->cap);
	}
	c->p = p;
	c->cap = cap;
}

static struct reccache_kinds kinds;

static void find_kinds(void)
{
	for (unsigned code = 0; code < 256; code++) {
		const struct weft_event_desc *d = &weft_events[code];
		for (unsigned i = 0; d->name && i < d->nargs; i++) {
			if (d->kinds[i] == 'o')
				kinds.objects[code] |= (uint8_t)(1u << i);
			if (d->kinds[i] == 'b' || d->kinds[i] == 'P')
				kinds.extra[code] = 1;
		}
	}
}

const struct reccache_kinds *reccache_kinds(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, find_kinds);
	return &kinds;
}

void reccache_free(struct reccache *c)
{
	if (c->cap)
		munmap(c->p, c->cap);
	*c = (struct reccache){ 0 };
}
