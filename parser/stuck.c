/*
 * stuck.c - deadlocks and stuck threads at the end of a trace (see
 * stuck.h).  The end of a trace cuts every live thread's waits and holds
 * short in one run of items at one time, after everything else (but the
 * acquisitions it gives out on the way): that run is the state the trace
 * leaves.  A wait for a lock points at the lock's
 * holders (a writer at every holder, a reader at a writer), a join at the
 * joined thread; a cycle of such pointers between blocked threads is a
 * deadlock.
 */
#include "stuck.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

struct stuck_entries {
	/* The run of cut waits and holds that ends the items so far. */
	struct stuck_wait *waits;
	uint32_t nwaits, waits_cap;
	struct stuck_hold *holds;
	uint32_t nholds, holds_cap;
	int64_t tail_ns;
	int64_t latest_ns;         /* of the items before the run */
	int64_t gen_begin_ns;      /* the last generation's */
	/* stuck_finish()'s search: per wait, 0 unseen, 1 on the path,
	 * 2 done; and the path. */
	uint8_t *mark;
	uint32_t *path;
	uint32_t *in_cycle;        /* per wait: its cycle's index + 1, or 0 */
};

struct stuck *stuck_new(const struct timeline *tl)
{
	struct stuck *s = calloc(1, sizeof *s);
	if (!s)
		abort();
	s->tl = tl;
	s->entries = calloc(1, sizeof *s->entries);
	if (!s->entries)
		abort();
	s->entries->latest_ns = INT64_MIN;
	return s;
}

static void clear_tail(struct stuck_entries *e)
{
	e->nwaits = 0;
	e->nholds = 0;
}

static int waits_already(const struct stuck_entries *e, uint32_t serial)
{
	for (uint32_t i = 0; i < e->nwaits; i++)
		if (e->waits[i].serial == serial)
			return 1;
	return 0;
}

/* What w waits for, in words. */
static void describe(const struct timeline *tl, struct stuck_wait *w)
{
	if (w->kind == TL_JOIN) {
		tl_thread_label(tl, (uint32_t)w->object, w->what, sizeof w->what);
		return;
	}
	if (w->kind == TL_SYSCALL) {
		const char *name = weft_syscall_name(w->syscall);
		if (w->arg >= 0)
			snprintf(w->what, sizeof w->what, "%s fd %lld", name ? name : "?",
				 (long long)w->arg);
		else
			snprintf(w->what, sizeof w->what, "%s", name ? name : "?");
		return;
	}
	weft_object_name(tl_tables(tl), w->object, w->what, sizeof w->what);
}

/* A wait the end cut short.  cut_states() gives a thread's states
 * innermost first: the first is the one it is in. */
static void add_wait(struct stuck *s, const struct tl_item *it)
{
	struct stuck_entries *e = s->entries;
	const struct tl_interval *iv = &it->iv;
	if (iv->kind == TL_RUNNING || iv->kind == TL_SLEEP ||
	    iv->kind == TL_UNKNOWN || waits_already(e, it->serial))
		return;
	WEFT_GROW(e->waits, e->nwaits, e->waits_cap, 16);
	struct stuck_wait *w = &e->waits[e->nwaits++];
	*w = (struct stuck_wait){
		.serial = it->serial, .kind = iv->kind, .rw_mode = iv->rw_mode,
		.syscall = iv->syscall, .object = iv->object, .arg = iv->arg,
		.since_ns = iv->begin_ns, .site = iv->site,
	};
}

static void add_hold(struct stuck *s, const struct tl_item *it)
{
	struct stuck_entries *e = s->entries;
	WEFT_GROW(e->holds, e->nholds, e->holds_cap, 16);
	e->holds[e->nholds++] = (struct stuck_hold){
		.serial = it->serial, .lock = it->hold.lock, .kind = it->hold.kind,
		.shared = it->hold.shared, .since_ns = it->hold.begin_ns,
		.site = it->hold.site,
	};
}

void stuck_add(void *ctx, const struct tl_item *it)
{
	struct stuck *s = ctx;
	struct stuck_entries *e = s->entries;
	int cut = (it->type == TL_INTERVAL && it->iv.cut) ||
		  (it->type == TL_HOLD && it->hold.cut);
	/* The end gives out acquisitions still pending (a thread's last
	 * record, without stacks) between the threads it cuts short. */
	if (it->type == TL_BLOCKED || (it->type == TL_ACQUIRE && (e->nwaits || e->nholds)))
		return;
	if (cut && (e->nwaits || e->nholds) && it->ns != e->tail_ns) {
		if (e->tail_ns > e->latest_ns)
			e->latest_ns = e->tail_ns;
		clear_tail(e);
	}
	if (!cut) {
		if (it->ns > e->latest_ns)
			e->latest_ns = it->ns;
		if (it->type == TL_GENERATION)
			e->gen_begin_ns = it->ns;
		clear_tail(e);
		return;
	}
	e->tail_ns = it->ns;
	if (it->type == TL_INTERVAL)
		add_wait(s, it);
	else
		add_hold(s, it);
}

/* ---- the search ---- */

static int32_t wait_of(const struct stuck_entries *e, uint32_t serial)
{
	for (uint32_t i = 0; i < e->nwaits; i++)
		if (e->waits[i].serial == serial)
			return (int32_t)i;
	return -1;
}

/* Whether hold h blocks wait w. */
static int blocks(const struct stuck_wait *w, const struct stuck_hold *h)
{
	if (h->lock != w->object)
		return 0;
	if (w->kind == TL_MUTEX)
		return 1;
	/* A writer waits for every holder; a reader for a writer. */
	return w->kind == TL_RWLOCK && (w->rw_mode != 1 || !h->shared);
}

/* The i-th thread wait w waits for (its hold in *hold, NULL for a
 * join); 0 when there is none. */
static uint32_t waited_for(const struct stuck_entries *e, const struct stuck_wait *w,
			   uint32_t i, const struct stuck_hold **hold)
{
	*hold = NULL;
	if (w->kind == TL_JOIN)
		return i == 0 && w->object <= UINT32_MAX ? (uint32_t)w->object : 0;
	for (uint32_t k = 0; k < e->nholds; k++)
		if (blocks(w, &e->holds[k]) && i-- == 0) {
			*hold = &e->holds[k];
			return e->holds[k].serial;
		}
	return 0;
}

static void add_cycle(struct stuck *s, const uint32_t *path, uint32_t n)
{
	struct stuck_entries *e = s->entries;
	struct stuck_cycle c = { .links = calloc(n, sizeof *c.links), .n = n };
	if (!c.links)
		abort();
	for (uint32_t k = 0; k < n; k++) {
		const struct stuck_wait *w = &e->waits[path[k]];
		uint32_t next = e->waits[path[(k + 1) % n]].serial;
		const struct stuck_hold *h = NULL;
		for (uint32_t i = 0; waited_for(e, w, i, &h); i++)
			if (waited_for(e, w, i, &h) == next)
				break;
		c.links[k] = (struct stuck_link){ w, next, h };
		e->in_cycle[path[k]] = s->ncycles + 1;
	}
	s->cycles = realloc(s->cycles, (s->ncycles + 1) * sizeof *s->cycles);
	if (!s->cycles)
		abort();
	s->cycles[s->ncycles++] = c;
}

/* Depth-first from wait v (path holds depth waits before it): a wait met
 * again on the path closes a cycle. */
static void search(struct stuck *s, uint32_t v, uint32_t depth)
{
	struct stuck_entries *e = s->entries;
	e->mark[v] = 1;
	e->path[depth] = v;
	const struct stuck_hold *h;
	uint32_t next;
	for (uint32_t i = 0; (next = waited_for(e, &e->waits[v], i, &h)) != 0; i++) {
		int32_t u = wait_of(e, next);
		if (u < 0)
			continue;
		if (e->mark[u] == 1) {
			uint32_t from = depth;
			while (e->path[from] != (uint32_t)u)
				from--;
			int fresh = 1;
			for (uint32_t k = from; k <= depth; k++)
				fresh &= !e->in_cycle[e->path[k]];
			if (fresh)
				add_cycle(s, e->path + from, depth - from + 1);
		} else if (e->mark[u] == 0) {
			search(s, (uint32_t)u, depth + 1);
		}
	}
	e->mark[v] = 2;
}

/* The cycle (index + 1) wait v's waits lead into, following each wait's
 * first thread waited for; 0 when they lead elsewhere. */
static uint32_t leads_into(const struct stuck_entries *e, uint32_t v)
{
	const struct stuck_hold *h;
	for (uint32_t steps = 0; steps < e->nwaits; steps++) {
		if (e->in_cycle[v])
			return e->in_cycle[v];
		int32_t u = wait_of(e, waited_for(e, &e->waits[v], 0, &h));
		if (u < 0)
			return 0;
		v = (uint32_t)u;
	}
	return 0;
}

/* Each thread outside the cycles whose waits lead into one, with it. */
static void add_behind(struct stuck *s)
{
	struct stuck_entries *e = s->entries;
	for (uint32_t i = 0; i < s->ncycles; i++) {
		s->cycles[i].behind = calloc(e->nwaits, sizeof *s->cycles[i].behind);
		if (!s->cycles[i].behind)
			abort();
	}
	for (uint32_t v = 0; v < e->nwaits; v++) {
		uint32_t c = e->in_cycle[v] ? 0 : leads_into(e, v);
		if (c) {
			struct stuck_cycle *cy = &s->cycles[c - 1];
			cy->behind[cy->nbehind++] = &e->waits[v];
		}
	}
}

/* Whether anyone the trace shows holds the lock w waits for. */
static int held(const struct stuck_entries *e, const struct stuck_wait *w)
{
	for (uint32_t k = 0; k < e->nholds; k++)
		if (e->holds[k].lock == w->object)
			return 1;
	return 0;
}

/* Whether w waits for something nobody holds: only another thread's
 * action it cannot see coming (a signal, a post, an arrival, data) ends
 * it. */
static int waits_on_nobody(const struct stuck_entries *e, const struct stuck_wait *w)
{
	switch (w->kind) {
	case TL_COND:
	case TL_SEM:
	case TL_BARRIER:
	case TL_ONCE:
	case TL_SYSCALL:
		return 1;
	case TL_MUTEX:
	case TL_RWLOCK:
		return !held(e, w);
	default:
		return 0;
	}
}

static int by_since(const void *x, const void *y)
{
	const struct stuck_wait *a = *(const struct stuck_wait *const *)x;
	const struct stuck_wait *b = *(const struct stuck_wait *const *)y;
	if (a->since_ns != b->since_ns)
		return a->since_ns < b->since_ns ? -1 : 1;
	return a->serial < b->serial ? -1 : a->serial > b->serial;
}

void stuck_finish(struct stuck *s)
{
	struct stuck_entries *e = s->entries;
	/* Cut waits that are not the last thing (events lost, and nothing
	 * after) are not the trace's end; nor is the problem an inconsistent
	 * trace stops at; nor does a process image that ended (exit, exec)
	 * leave threads stuck, however they were blocked. */
	const struct weft_check_result *res = tl_result(s->tl);
	enum weft_verdict v = res->verdict;
	if ((!e->nwaits && !e->nholds) || e->tail_ns < e->latest_ns ||
	    (v != WEFT_CHECK_OK && v != WEFT_CHECK_TRUNCATED) || res->image_ended)
		return;
	s->end_ns = e->tail_ns;
	uint32_t n = e->nwaits;
	if (!n)
		return;
	e->mark = calloc(n, 1);
	e->in_cycle = calloc(n, sizeof *e->in_cycle);
	e->path = calloc(n, sizeof *e->path);
	if (!e->mark || !e->in_cycle || !e->path)
		abort();
	for (uint32_t i = 0; i < n; i++)
		describe(s->tl, &e->waits[i]);
	for (uint32_t i = 0; i < n; i++)
		if (!e->mark[i])
			search(s, i, 0);
	add_behind(s);
	/* Stuck: blocked, outside any cycle, on something nobody holds,
	 * for most of the last generation. */
	int64_t half = e->gen_begin_ns + (e->tail_ns - e->gen_begin_ns) / 2;
	s->stuck = calloc(n, sizeof *s->stuck);
	if (!s->stuck)
		abort();
	for (uint32_t i = 0; i < n; i++) {
		const struct stuck_wait *w = &e->waits[i];
		if (!e->in_cycle[i] && w->since_ns <= half && waits_on_nobody(e, w))
			s->stuck[s->nstuck++] = w;
	}
	qsort(s->stuck, s->nstuck, sizeof *s->stuck, by_since);
}

void stuck_free(struct stuck *s)
{
	if (!s)
		return;
	for (uint32_t i = 0; i < s->ncycles; i++) {
		free(s->cycles[i].links);
		free(s->cycles[i].behind);
	}
	free(s->cycles);
	free(s->stuck);
	free(s->entries->waits);
	free(s->entries->holds);
	free(s->entries->mark);
	free(s->entries->path);
	free(s->entries->in_cycle);
	free(s->entries);
	free(s);
}
