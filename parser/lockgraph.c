/*
 * lockgraph.c - the lock-order graph and its cycles (see lockgraph.h):
 * nodes and edges as they are first seen, Tarjan's strongly connected
 * components so the search visits only the cyclic parts, Johnson's
 * elementary circuits, and for each cycle the modes that make it possible
 * and the gate lock that makes it harmless.
 */
#include "lockgraph.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "grow.h"
#include "u64map.h"

#define GATES 4        /* other locks remembered as held with every use */
#define MAX_STEPS 50000000 /* edges the cycle search may follow */

struct edge {
	uint64_t key[2];               /* from, to */
	uint32_t from, to;             /* node indices */
	struct lock_edge pub;
	uint64_t gates[GATES];         /* held at every use of the edge */
	uint32_t ngates;
	UT_hash_handle hh;
};

struct node {
	uint64_t addr;
	enum tl_lock_kind kind;
	struct edge **out;
	uint32_t nout, out_cap;
	/* Johnson's search. */
	uint8_t blocked, allowed;
	uint32_t *b;                   /* nodes to unblock with this one */
	uint32_t nb, b_cap;
	/* Tarjan's components. */
	int32_t index, low;
	uint8_t on_stack;
	uint32_t comp;
};

struct lockgraph {
	struct node *nodes;
	uint32_t nnodes, nodes_cap;
	struct u64map node_index;
	struct edge *edges;
	uint32_t nedges;

	/* Cycle search. */
	uint32_t *path, npath;
	uint32_t start;
	uint64_t max_cycles, steps;
	struct lock_search *result;
	lock_cycle_fn fn;
	void *ctx;
};

static uint32_t node_of(struct lockgraph *o, uint64_t addr, enum tl_lock_kind kind)
{
	uint32_t i = u64map_get(&o->node_index, addr);
	if (i)
		return i - 1;
	WEFT_GROW(o->nodes, o->nnodes, o->nodes_cap, 64);
	struct node *n = &o->nodes[o->nnodes];
	memset(n, 0, sizeof *n);
	n->addr = addr;
	n->kind = kind;
	u64map_put(&o->node_index, addr, ++o->nnodes);
	return o->nnodes - 1;
}

static int holds(const struct tl_acquire *a, uint64_t lock)
{
	for (uint32_t i = 0; i < a->nheld; i++)
		if (a->held[i].lock == lock)
			return 1;
	return 0;
}

static void add_edge(struct lockgraph *o, const struct tl_item *it, const struct tl_held *h)
{
	const struct tl_acquire *a = &it->acq;
	uint64_t key[2] = { h->lock, a->lock };
	struct edge *e;
	HASH_FIND(hh, o->edges, key, sizeof key, e);
	if (!e) {
		e = calloc(1, sizeof *e);
		if (!e)
			abort();
		memcpy(e->key, key, sizeof key);
		e->from = node_of(o, h->lock, h->kind);
		e->to = node_of(o, a->lock, a->kind);
		e->pub = (struct lock_edge){
			.from = h->lock, .to = a->lock,
			.from_kind = o->nodes[e->from].kind,
			.to_kind = o->nodes[e->to].kind,
		};
		struct node *n = &o->nodes[e->from];
		WEFT_GROW(n->out, n->nout, n->out_cap, 4);
		n->out[n->nout++] = e;
		HASH_ADD(hh, o->edges, key, sizeof e->key, e);
		o->nedges++;
		/* The gates start as everything else held at the first use. */
		for (uint32_t i = 0; i < a->nheld && e->ngates < GATES; i++)
			if (a->held[i].lock != h->lock)
				e->gates[e->ngates++] = a->held[i].lock;
	} else {
		for (uint32_t i = 0; i < e->ngates;)
			if (holds(a, e->gates[i]))
				i++;
			else
				e->gates[i] = e->gates[--e->ngates];
	}
	struct lock_edge *p = &e->pub;
	p->count++;
	unsigned mode = (unsigned)(h->shared * 2 + a->shared);
	if (!(p->modes & (1u << mode))) {
		p->modes |= (uint8_t)(1u << mode);
		p->w[mode] = (struct lock_witness){ it->serial, h->site, a->site };
	}
	for (uint32_t i = 0; i < p->nthreads; i++)
		if (p->threads[i] == it->serial)
			return;
	if (p->nthreads < LOCK_EDGE_THREADS)
		p->threads[p->nthreads++] = it->serial;
}

void lockgraph_add(void *p, const struct tl_item *it)
{
	struct lockgraph *o = p;
	if (it->type != TL_ACQUIRE)
		return;
	const struct tl_acquire *a = &it->acq;
	node_of(o, a->lock, a->kind);
	if (a->recursive || a->try_)
		return;
	for (uint32_t i = 0; i < a->nheld; i++)
		if (a->held[i].lock != a->lock)
			add_edge(o, it, &a->held[i]);
}

/* ---- components (Tarjan), so the search visits only cyclic parts ---- */

struct tarjan {
	struct lockgraph *o;
	uint32_t *stack, nstack;
	int32_t next_index;
	uint32_t ncomp;
};

static void strongconnect(struct tarjan *t, uint32_t v)
{
	/* Iterative: a frame is (node, next edge to look at). */
	struct frame { uint32_t v, i; } *frames = malloc(t->o->nnodes * sizeof *frames);
	if (!frames)
		abort();
	uint32_t depth = 0;
	struct node *nodes = t->o->nodes;
	frames[depth++] = (struct frame){ v, 0 };
	nodes[v].index = nodes[v].low = t->next_index++;
	t->stack[t->nstack++] = v;
	nodes[v].on_stack = 1;
	while (depth) {
		struct frame *f = &frames[depth - 1];
		struct node *n = &nodes[f->v];
		if (f->i < n->nout) {
			uint32_t w = n->out[f->i++]->to;
			if (nodes[w].index < 0) {
				nodes[w].index = nodes[w].low = t->next_index++;
				t->stack[t->nstack++] = w;
				nodes[w].on_stack = 1;
				frames[depth++] = (struct frame){ w, 0 };
			} else if (nodes[w].on_stack && nodes[w].index < n->low) {
				n->low = nodes[w].index;
			}
			continue;
		}
		if (n->low == n->index) {
			uint32_t w;
			do {
				w = t->stack[--t->nstack];
				nodes[w].on_stack = 0;
				nodes[w].comp = t->ncomp;
			} while (w != f->v);
			t->ncomp++;
		}
		depth--;
		if (depth && n->low < nodes[frames[depth - 1].v].low)
			nodes[frames[depth - 1].v].low = n->low;
	}
	free(frames);
}

static void components(struct lockgraph *o)
{
	struct tarjan t = { o, malloc((o->nnodes + 1) * sizeof *t.stack), 0, 0, 0 };
	if (!t.stack)
		abort();
	for (uint32_t v = 0; v < o->nnodes; v++)
		o->nodes[v].index = -1;
	for (uint32_t v = 0; v < o->nnodes; v++)
		if (o->nodes[v].index < 0)
			strongconnect(&t, v);
	free(t.stack);
}

/* ---- reporting a cycle ---- */

/* Chooses one mode combination per edge so that no lock on the cycle is
 * entered for reading while held, by the next edge's thread, for reading.
 * Fills pick[] and returns 1, or returns 0 when every choice is read-read
 * somewhere. */
static int feasible_modes(struct edge **cyc, uint32_t k, uint8_t *pick)
{
	/* State i: whether lock i of the cycle is entered for reading.
	 * from[i][m] records (previous state << 2 | mode combination) of a
	 * way to reach state m at lock i, 0xff when there is none. */
	uint8_t (*from)[2] = malloc((k + 1) * sizeof *from);
	if (!from)
		abort();
	for (unsigned start = 0; start < 2; start++) {
		memset(from, 0xff, (k + 1) * sizeof *from);
		from[0][start] = 0;
		for (uint32_t i = 0; i < k; i++)
			for (unsigned m = 0; m < 4; m++) {
				unsigned held_shared = m >> 1, taken_shared = m & 1;
				if (!(cyc[i]->pub.modes & (1u << m)))
					continue;
				for (unsigned st = 0; st < 2; st++)
					if (from[i][st] != 0xff && !(st && held_shared) &&
					    from[i + 1][taken_shared] == 0xff)
						from[i + 1][taken_shared] = (uint8_t)(st << 2 | m);
			}
		if (from[k][start] == 0xff)
			continue;
		unsigned cur = start;
		for (uint32_t i = k; i > 0; i--) {
			pick[i - 1] = from[i][cur] & 3;
			cur = from[i][cur] >> 2;
		}
		free(from);
		return 1;
	}
	free(from);
	return 0;
}

/* A lock off the cycle that every edge of it was made holding, or 0. */
static uint64_t gate_of(struct lockgraph *o, struct edge **cyc, uint32_t k)
{
	for (uint32_t g = 0; g < cyc[0]->ngates; g++) {
		uint64_t lock = cyc[0]->gates[g];
		int all = 1;
		for (uint32_t i = 1; i < k && all; i++) {
			all = 0;
			for (uint32_t j = 0; j < cyc[i]->ngates; j++)
				all |= cyc[i]->gates[j] == lock;
		}
		for (uint32_t i = 0; i < k && all; i++)
			all = o->nodes[cyc[i]->from].addr != lock;
		if (all)
			return lock;
	}
	return 0;
}

static void found_cycle(struct lockgraph *o)
{
	uint32_t k = o->npath;
	struct edge **cyc = malloc(k * sizeof *cyc);
	uint8_t *pick = malloc(k);
	if (!cyc || !pick)
		abort();
	for (uint32_t i = 0; i < k; i++) {
		struct node *n = &o->nodes[o->path[i]];
		uint32_t next = o->path[(i + 1) % k];
		for (uint32_t j = 0; j < n->nout; j++)
			if (n->out[j]->to == next)
				cyc[i] = n->out[j];
	}
	struct lock_search *res = o->result;
	res->found++;
	if (!feasible_modes(cyc, k, pick)) {
		res->read_only++;
	} else {
		uint64_t gate = gate_of(o, cyc, k);
		const struct lock_edge **edges = malloc(k * sizeof *edges);
		if (!edges)
			abort();
		for (uint32_t i = 0; i < k; i++)
			edges[i] = &cyc[i]->pub;
		uint64_t number = gate ? ++res->guarded : ++res->reported;
		struct lock_cycle c = {
			.edges = edges, .n = k, .pick = pick, .gate = gate,
			.number = number, .listed = res->reported + res->guarded,
		};
		o->fn(o->ctx, &c);
		free(edges);
	}
	free(cyc);
	free(pick);
	if (res->found >= o->max_cycles)
		res->stopped = 1;
}

/* ---- Johnson's elementary circuits ---- */

static void unblock(struct lockgraph *o, uint32_t u)
{
	struct node *n = &o->nodes[u];
	n->blocked = 0;
	while (n->nb) {
		uint32_t w = n->b[--n->nb];
		if (o->nodes[w].blocked)
			unblock(o, w);
	}
}

static void add_b(struct node *n, uint32_t v)
{
	for (uint32_t i = 0; i < n->nb; i++)
		if (n->b[i] == v)
			return;
	WEFT_GROW(n->b, n->nb, n->b_cap, 4);
	n->b[n->nb++] = v;
}

static int circuit(struct lockgraph *o, uint32_t v)
{
	int found = 0;
	struct node *n = &o->nodes[v];
	o->path[o->npath++] = v;
	n->blocked = 1;
	for (uint32_t i = 0; i < n->nout && !o->result->stopped; i++) {
		uint32_t w = n->out[i]->to;
		if (!o->nodes[w].allowed)
			continue;
		if (++o->steps > MAX_STEPS)
			o->result->stopped = 1;
		if (w == o->start) {
			found_cycle(o);
			found = 1;
		} else if (!o->nodes[w].blocked && circuit(o, w)) {
			found = 1;
		}
	}
	if (found) {
		unblock(o, v);
	} else {
		for (uint32_t i = 0; i < n->nout; i++)
			if (o->nodes[n->out[i]->to].allowed)
				add_b(&o->nodes[n->out[i]->to], v);
	}
	o->npath--;
	return found;
}

/* Every elementary cycle, each found once from its lowest node: the
 * search from s may use only nodes after s in s's component. */
void lockgraph_find_cycles(struct lockgraph *o, uint64_t max_cycles,
			   lock_cycle_fn fn, void *ctx, struct lock_search *out)
{
	*out = (struct lock_search){ 0 };
	o->result = out;
	o->max_cycles = max_cycles;
	o->fn = fn;
	o->ctx = ctx;
	o->steps = 0;
	components(o);
	free(o->path);
	o->path = malloc((o->nnodes + 1) * sizeof *o->path);
	if (!o->path)
		abort();
	for (uint32_t s = 0; s < o->nnodes && !o->result->stopped; s++) {
		struct node *sn = &o->nodes[s];
		int cyclic = 0;
		for (uint32_t i = 0; i < sn->nout; i++)
			cyclic |= o->nodes[sn->out[i]->to].comp == sn->comp && sn->out[i]->to != s;
		if (!cyclic)
			continue;
		for (uint32_t v = 0; v < o->nnodes; v++) {
			struct node *n = &o->nodes[v];
			n->allowed = v >= s && n->comp == sn->comp;
			n->blocked = 0;
			n->nb = 0;
		}
		o->start = s;
		o->npath = 0;
		circuit(o, s);
	}
}

struct lockgraph *lockgraph_new(void)
{
	struct lockgraph *g = calloc(1, sizeof *g);
	if (!g)
		abort();
	return g;
}

uint32_t lockgraph_locks(const struct lockgraph *g) { return g->nnodes; }
uint32_t lockgraph_edges(const struct lockgraph *g) { return g->nedges; }

void lockgraph_each_edge(const struct lockgraph *g,
			 void (*fn)(void *ctx, const struct lock_edge *e), void *ctx)
{
	for (const struct edge *e = g->edges; e; e = e->hh.next)
		fn(ctx, &e->pub);
}

void lockgraph_free(struct lockgraph *o)
{
	if (!o)
		return;
	struct edge *e, *tmp;
	HASH_ITER(hh, o->edges, e, tmp) {
		HASH_DEL(o->edges, e);
		free(e);
	}
	for (uint32_t v = 0; v < o->nnodes; v++) {
		free(o->nodes[v].out);
		free(o->nodes[v].b);
	}
	free(o->nodes);
	free(o->path);
	u64map_free(&o->node_index);
	free(o);
}
