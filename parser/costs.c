/*
 * costs.c - adding up where the time went (see costs.h): hash tables of
 * objects, their blocking sites and blame, and of system calls with a
 * latency histogram each, sorted and flattened into arrays at the end.
 */
#include "costs.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "names.h"

/* ---- latency histogram: 32 sub-buckets per power of two (3% error) ---- */

#define HIST_SUB_BITS 5
#define HIST_SUB (1 << HIST_SUB_BITS)
#define HIST_BUCKETS (64 * HIST_SUB)

static uint32_t hist_index(int64_t ns)
{
	uint64_t v = ns > 0 ? (uint64_t)ns : 0;
	if (v < HIST_SUB)
		return (uint32_t)v;
	uint32_t e = 63u - (uint32_t)__builtin_clzll(v);
	uint32_t sub = (uint32_t)(v >> (e - HIST_SUB_BITS)) & (HIST_SUB - 1);
	return (e - HIST_SUB_BITS + 1) * HIST_SUB + sub;
}

/* The middle of a bucket. */
static int64_t hist_value(uint32_t i)
{
	if (i < HIST_SUB)
		return i;
	uint32_t e = i / HIST_SUB + HIST_SUB_BITS - 1, sub = i % HIST_SUB;
	uint64_t width = 1ull << (e - HIST_SUB_BITS);
	return (int64_t)(((uint64_t)(HIST_SUB + sub) << (e - HIST_SUB_BITS)) + width / 2);
}

/* ---- the tables ---- */

struct site_entry {
	uint64_t hash;
	struct costs_site pub;
	UT_hash_handle hh;
};

struct hold_entry {
	uint64_t hash;
	struct costs_hold_site pub;
	UT_hash_handle hh;
};

struct obj_entry {
	struct costs_object pub;
	struct costs_blame *blame;
	uint32_t nblame;
	struct site_entry *sites;
	struct hold_entry *holds;
	const struct costs_hold_site **hold_sites;
	UT_hash_handle hh;
};

struct sys_entry {
	int64_t key[2];            /* syscall id, descriptor */
	struct costs_syscall pub;
	uint64_t sampled;
	uint64_t *hist;
	UT_hash_handle hh;
};

struct costs_entries {
	struct obj_entry *objs;
	struct sys_entry *sys;
};

int costs_thread_matches(const struct costs *c, const struct tl_thread *t)
{
	const char *f = c->thread_filter;
	if (!f)
		return 1;
	const char *num = f[0] == 'T' || f[0] == 't' ? f + 1 : f;
	char *end;
	unsigned long v = strtoul(num, &end, 10);
	if (*num && !*end)
		return v == t->serial;
	return t->name && !strcmp(t->name, f);
}

static struct costs_object *object(struct costs *c, uint64_t addr,
				   const char *kind, int is_lock)
{
	struct obj_entry *o;
	HASH_FIND(hh, c->entries->objs, &addr, sizeof addr, o);
	if (o)
		return &o->pub;
	o = calloc(1, sizeof *o);
	if (!o)
		abort();
	o->pub.addr = addr;
	o->pub.kind = kind;
	o->pub.is_lock = is_lock;
	HASH_ADD(hh, c->entries->objs, pub.addr, sizeof o->pub.addr, o);
	return &o->pub;
}

static struct obj_entry *entry_of(struct costs_object *o)
{
	return (struct obj_entry *)((char *)o - offsetof(struct obj_entry, pub));
}

static void add_blame(struct costs_object *pub, uint32_t serial, int64_t ns)
{
	struct obj_entry *o = entry_of(pub);
	for (uint32_t i = 0; i < o->nblame; i++)
		if (o->blame[i].serial == serial) {
			o->blame[i].ns += ns;
			return;
		}
	o->blame = realloc(o->blame, (o->nblame + 1) * sizeof *o->blame);
	if (!o->blame)
		abort();
	o->blame[o->nblame++] = (struct costs_blame){ serial, ns };
}

/* Sites are told apart by their program counters, not their stack ids,
 * which are per generation: the hash of a site's (0 when it has no
 * stack); *pc gets its innermost one. */
static uint64_t site_hash(const struct costs *c, const struct tl_site *s,
			  uint64_t *pc)
{
	uint32_t n = 0;
	const uint64_t *pcs = s->stack
		? weft_tables_stack(tl_tables(c->tl), s->gen, s->stack, &n) : NULL;
	if (!pcs || !n)
		return 0;
	uint64_t h = 1469598103934665603ull;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ pcs[i]) * 1099511628211ull;
	*pc = pcs[0];
	return h ? h : 1;
}

static void add_site(struct costs *c, struct costs_object *pub,
		     const struct tl_site *s)
{
	uint64_t pc, h = site_hash(c, s, &pc);
	if (!h)
		return;
	struct obj_entry *o = entry_of(pub);
	struct site_entry *r;
	HASH_FIND(hh, o->sites, &h, sizeof h, r);
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			abort();
		r->hash = h;
		r->pub.site = *s;
		HASH_ADD(hh, o->sites, hash, sizeof r->hash, r);
	}
	r->pub.count++;
}

/* A hold of a lock, at the site it was taken. */
static void add_hold_site(struct costs *c, struct costs_object *pub,
			  const struct tl_hold *hold)
{
	uint64_t pc, h = site_hash(c, &hold->site, &pc);
	if (!h)
		return;
	struct obj_entry *o = entry_of(pub);
	struct hold_entry *r;
	HASH_FIND(hh, o->holds, &h, sizeof h, r);
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			abort();
		r->hash = h;
		r->pub.site = hold->site;
		r->pub.pc = pc;
		HASH_ADD(hh, o->holds, hash, sizeof r->hash, r);
	}
	int64_t d = hold->end_ns - hold->begin_ns;
	r->pub.holds++;
	r->pub.held_ns += d;
	r->pub.caused_wait_ns += hold->caused_wait_ns;
	if (hold->cut) {
		r->pub.in_progress++;
		r->pub.in_progress_ns += d;
	}
}

static void add_sys(struct costs *c, int64_t sys, int64_t fd,
		    const struct tl_interval *iv)
{
	int64_t key[2] = { sys, fd };
	struct sys_entry *r;
	HASH_FIND(hh, c->entries->sys, key, sizeof key, r);
	if (!r) {
		r = calloc(1, sizeof *r);
		r->hist = r ? calloc(HIST_BUCKETS, sizeof *r->hist) : NULL;
		if (!r || !r->hist)
			abort();
		memcpy(r->key, key, sizeof key);
		r->pub.call = sys;
		r->pub.fd = fd;
		HASH_ADD(hh, c->entries->sys, key, sizeof r->key, r);
	}
	int64_t d = iv->end_ns - iv->begin_ns;
	r->pub.calls += !iv->continued;
	r->pub.errors += iv->err != 0;
	r->pub.total += d - iv->delivered_ns;
	if (d > r->pub.max)
		r->pub.max = d;
	/* Latencies are those of calls whose end was seen. */
	if (!iv->cut) {
		r->hist[hist_index(d)]++;
		r->sampled++;
	}
}

static void add_interval(struct costs *c, const struct tl_interval *iv)
{
	/* A wait continued across a stop counts once, in full. */
	int64_t d = iv->end_ns - iv->begin_ns, fresh = d - iv->delivered_ns;
	c->blocked_in_kind[iv->kind] += fresh;
	if (iv->kind == TL_SYSCALL || iv->kind == TL_SLEEP) {
		add_sys(c, iv->syscall, INT64_MIN, iv);
		/* Data through a descriptor gets a row per descriptor too. */
		if (weft_syscall_class(iv->syscall) == WEFT_SYSCLASS_IO && iv->arg >= 0)
			add_sys(c, iv->syscall, iv->arg, iv);
		return;
	}
	if (iv->kind == TL_JOIN)
		return;
	int is_lock = iv->kind == TL_MUTEX || iv->kind == TL_RWLOCK;
	struct costs_object *o = object(c, iv->object, tl_kind_names[iv->kind], is_lock);
	o->waits += !iv->continued;
	o->wait_total += fresh;
	if (d > o->wait_max)
		o->wait_max = d;
	add_site(c, o, &iv->site);
}

void costs_add(void *p, const struct tl_item *it)
{
	struct costs *c = p;
	if (!it->thread || !costs_thread_matches(c, it->thread))
		return;
	struct costs_object *o;
	switch (it->type) {
	case TL_INTERVAL:
		add_interval(c, &it->iv);
		break;
	case TL_ACQUIRE:
		o = object(c, it->acq.lock, tl_lock_names[it->acq.kind], 1);
		o->acquisitions++;
		o->contended += it->acq.contended;
		o->holds_unseen |= it->acq.unheld;
		break;
	case TL_COUNTS:
		o = object(c, it->counts.lock, tl_lock_names[it->counts.kind], 1);
		o->acquisitions += it->counts.acquisitions;
		o->holds_unseen = 1;
		break;
	case TL_HOLD:
		/* A hold whose release was not seen (the trace ends, tracing
		 * stopped, events were lost) counts up to where it was cut:
		 * the lock was held at least that long. */
		o = object(c, it->hold.lock, tl_lock_names[it->hold.kind], 1);
		int64_t d = it->hold.end_ns - it->hold.begin_ns;
		o->hold_total += d;
		if (d > o->hold_max)
			o->hold_max = d;
		if (it->hold.caused_wait_ns)
			add_blame(o, it->serial, it->hold.caused_wait_ns);
		add_hold_site(c, o, &it->hold);
		break;
	default:
		break;
	}
}

/* ---- the end: order, sites, percentiles ---- */

static int by_wait(struct obj_entry *a, struct obj_entry *b)
{
	if (a->pub.wait_total != b->pub.wait_total)
		return a->pub.wait_total < b->pub.wait_total ? 1 : -1;
	if (a->pub.acquisitions != b->pub.acquisitions)
		return a->pub.acquisitions < b->pub.acquisitions ? 1 : -1;
	return a->pub.addr < b->pub.addr ? -1 : a->pub.addr > b->pub.addr;
}

static int by_total(struct sys_entry *a, struct sys_entry *b)
{
	if (a->pub.total != b->pub.total)
		return a->pub.total < b->pub.total ? 1 : -1;
	return a->key[0] != b->key[0] ? (a->key[0] < b->key[0] ? -1 : 1)
				      : (a->key[1] < b->key[1] ? -1 : a->key[1] > b->key[1]);
}

static const struct costs_blame *worst_blame(const struct obj_entry *o)
{
	const struct costs_blame *w = NULL;
	for (uint32_t i = 0; i < o->nblame; i++)
		if (!w || o->blame[i].ns > w->ns)
			w = &o->blame[i];
	return w;
}

/* The most frequent blocking site, and the symbol of its frame. */
static void resolve_site(const struct costs *c, struct obj_entry *o)
{
	const struct site_entry *best = NULL;
	for (const struct site_entry *s = o->sites; s; s = s->hh.next)
		if (!best || s->pub.count > best->pub.count)
			best = s;
	o->pub.top_site = best ? &best->pub : NULL;
	if (!best || !tl_site_symbol(c->tl, &best->pub.site, o->pub.symbol,
				     sizeof o->pub.symbol))
		o->pub.symbol[0] = 0;
}

static int by_cost(struct hold_entry *a, struct hold_entry *b)
{
	const struct costs_hold_site *x = &a->pub, *y = &b->pub;
	if (x->caused_wait_ns != y->caused_wait_ns)
		return x->caused_wait_ns < y->caused_wait_ns ? 1 : -1;
	if (x->held_ns != y->held_ns)
		return x->held_ns < y->held_ns ? 1 : -1;
	return x->pc < y->pc ? -1 : x->pc > y->pc;
}

/* The sites its holders took it at, costliest first. */
static void order_hold_sites(struct obj_entry *o)
{
	HASH_SORT(o->holds, by_cost);
	o->pub.nhold_sites = HASH_COUNT(o->holds);
	o->hold_sites = calloc(o->pub.nhold_sites + 1, sizeof *o->hold_sites);
	if (!o->hold_sites)
		abort();
	uint32_t i = 0;
	for (struct hold_entry *r = o->holds; r; r = r->hh.next)
		o->hold_sites[i++] = &r->pub;
	o->pub.hold_sites = o->hold_sites;
}

static uint64_t percentile(const struct sys_entry *r, double p)
{
	uint64_t rank = (uint64_t)((double)r->sampled * p + 0.999999);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		seen += r->hist[i];
		if (seen >= rank) {
			int64_t v = hist_value(i);
			return (uint64_t)(v > r->pub.max ? r->pub.max : v);
		}
	}
	return (uint64_t)r->pub.max;
}

void costs_finish(struct costs *c)
{
	struct costs_entries *e = c->entries;
	HASH_SORT(e->objs, by_wait);
	HASH_SORT(e->sys, by_total);
	c->nobjects = HASH_COUNT(e->objs);
	c->objects = calloc(c->nobjects + 1, sizeof *c->objects);
	c->nsyscalls = HASH_COUNT(e->sys);
	c->syscalls = calloc(c->nsyscalls + 1, sizeof *c->syscalls);
	if (!c->objects || !c->syscalls)
		abort();
	uint32_t i = 0;
	for (struct obj_entry *o = e->objs; o; o = o->hh.next) {
		resolve_site(c, o);
		order_hold_sites(o);
		weft_object_name(tl_tables(c->tl), o->pub.addr, o->pub.name,
				 sizeof o->pub.name);
		o->pub.worst_blame = worst_blame(o);
		c->objects[i++] = &o->pub;
	}
	i = 0;
	for (struct sys_entry *r = e->sys; r; r = r->hh.next) {
		r->pub.p50 = percentile(r, 0.50);
		r->pub.p99 = percentile(r, 0.99);
		c->syscalls[i++] = &r->pub;
	}
}

struct costs *costs_new(const struct timeline *tl, const char *thread_filter)
{
	struct costs *c = calloc(1, sizeof *c);
	if (!c || !(c->entries = calloc(1, sizeof *c->entries)))
		abort();
	c->tl = tl;
	c->thread_filter = thread_filter;
	return c;
}

void costs_free(struct costs *c)
{
	if (!c)
		return;
	struct obj_entry *o, *otmp;
	HASH_ITER(hh, c->entries->objs, o, otmp) {
		struct site_entry *s, *stmp;
		HASH_ITER(hh, o->sites, s, stmp) {
			HASH_DEL(o->sites, s);
			free(s);
		}
		struct hold_entry *h, *htmp;
		HASH_ITER(hh, o->holds, h, htmp) {
			HASH_DEL(o->holds, h);
			free(h);
		}
		free(o->hold_sites);
		HASH_DEL(c->entries->objs, o);
		free(o->blame);
		free(o);
	}
	struct sys_entry *r, *rtmp;
	HASH_ITER(hh, c->entries->sys, r, rtmp) {
		HASH_DEL(c->entries->sys, r);
		free(r->hist);
		free(r);
	}
	free(c->entries);
	free(c->objects);
	free(c->syscalls);
	free(c);
}

/* ---- questions ---- */

int costs_object_matches(const struct costs_object *o, const char *lock_filter)
{
	const char *f = lock_filter;
	if (!f)
		return 1;
	return weft_name_selects(o->name, o->addr, f) ||
	       (o->symbol[0] && strstr(o->symbol, f));
}

static int by_off_cpu(const void *x, const void *y)
{
	const struct costs_thread *a = x, *b = y;
	if (a->off_cpu != b->off_cpu)
		return a->off_cpu < b->off_cpu ? 1 : -1;
	return a->t->serial < b->t->serial ? -1 : 1;
}

struct costs_thread *costs_threads(const struct costs *c, uint32_t *n)
{
	uint32_t max = tl_nthreads(c->tl);
	struct costs_thread *rows = calloc(max + 1, sizeof *rows);
	if (!rows)
		abort();
	*n = 0;
	for (uint32_t i = 0; i < max; i++) {
		const struct tl_thread *t = tl_thread_at(c->tl, i);
		if (!costs_thread_matches(c, t))
			continue;
		struct costs_thread *row = &rows[(*n)++];
		row->t = t;
		row->off_cpu = t->alive_ns - t->in_ns[TL_RUNNING];
		uint64_t cpu;
		row->cpu_known = weft_tables_thread_cpu(tl_tables(c->tl), t->serial, &cpu);
		if (!row->cpu_known)
			continue;
		row->cpu = (int64_t)cpu;
		int64_t running = t->in_ns[TL_RUNNING], gap = running - row->cpu;
		if (gap > COSTS_UNSEEN_MIN_NS && gap * 100 > running * COSTS_UNSEEN_SHARE)
			row->unseen = gap;
	}
	qsort(rows, *n, sizeof *rows, by_off_cpu);
	return rows;
}

int64_t costs_total_alive(const struct costs *c)
{
	int64_t sum = 0;
	for (uint32_t i = 0; i < tl_nthreads(c->tl); i++) {
		const struct tl_thread *t = tl_thread_at(c->tl, i);
		if (costs_thread_matches(c, t))
			sum += t->alive_ns;
	}
	return sum;
}

const struct costs_object *costs_costliest_lock(const struct costs *c,
						const char *lock_filter)
{
	for (uint32_t i = 0; i < c->nobjects; i++) {
		const struct costs_object *o = c->objects[i];
		if (o->is_lock && o->wait_total > 0 && costs_object_matches(o, lock_filter))
			return o;
	}
	return NULL;
}
