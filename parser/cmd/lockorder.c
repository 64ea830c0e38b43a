/*
 * lockorder.c - `weft lockorder`: the lock-order graph of a trace (an
 * edge A -> B when a thread takes B while holding A) over all threads
 * and sessions, and every elementary cycle in it (Johnson's algorithm),
 * each a potential deadlock, with the threads and sites that made it.
 *
 * Trylocks add no edge into the lock they take (they cannot block), but a
 * lock held through a trylock orders what is taken after it.  A cond
 * wait gives its mutex back and takes it again: that re-acquisition is an
 * acquisition like any other.  Rwlocks: an edge remembers whether its
 * first lock was held for reading and its second taken for reading; a
 * cycle is reported only if, at every lock on it, the acquisition
 * arriving there and the hold leaving from there are not both reads
 * (readers do not block readers).  Re-taking a lock already held (a
 * recursive mutex, a second read lock) adds no edge.  A cycle all of
 * whose edges were made while holding one same other lock (a gate lock)
 * cannot deadlock; it is listed as guarded and does not count for --fail.
 */
#include "common.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "timeline.h"
#include "u64map.h"

#define GATES 4        /* other locks remembered as held with every use */
#define EDGE_THREADS 4 /* threads remembered per edge */

/* The first time an edge was made in one combination of modes. */
struct witness {
	uint32_t serial;
	struct tl_site held_site, taken_site;
};

struct edge {
	uint64_t key[2];               /* from, to */
	uint32_t from, to;             /* node indices */
	uint64_t count;
	uint8_t modes;                 /* bit (held_shared * 2 + taken_shared) */
	struct witness w[4];
	uint32_t threads[EDGE_THREADS];
	uint32_t nthreads;
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

struct order {
	struct timeline *tl;
	struct node *nodes;
	uint32_t nnodes, nodes_cap;
	struct u64map node_index;
	struct edge *edges;
	uint32_t nedges;

	/* Cycle search. */
	uint32_t *path, npath;
	uint32_t start;
	uint64_t max_cycles, found, reported, guarded, read_only;
	uint64_t steps, max_steps;
	int json, stopped;
};

static uint32_t node_of(struct order *o, uint64_t addr, enum tl_lock_kind kind)
{
	uint32_t i = u64map_get(&o->node_index, addr);
	if (i)
		return i - 1;
	if (o->nnodes == o->nodes_cap) {
		o->nodes_cap = o->nodes_cap ? o->nodes_cap * 2 : 64;
		o->nodes = realloc(o->nodes, o->nodes_cap * sizeof *o->nodes);
		if (!o->nodes)
			abort();
	}
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

static void add_edge(struct order *o, const struct tl_item *it, const struct tl_held *h)
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
		struct node *n = &o->nodes[e->from];
		if (n->nout == n->out_cap) {
			n->out_cap = n->out_cap ? n->out_cap * 2 : 4;
			n->out = realloc(n->out, n->out_cap * sizeof *n->out);
			if (!n->out)
				abort();
		}
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
	e->count++;
	unsigned mode = (unsigned)(h->shared * 2 + a->shared);
	if (!(e->modes & (1u << mode))) {
		e->modes |= (uint8_t)(1u << mode);
		e->w[mode] = (struct witness){ it->serial, h->site, a->site };
	}
	for (uint32_t i = 0; i < e->nthreads; i++)
		if (e->threads[i] == it->serial)
			return;
	if (e->nthreads < EDGE_THREADS)
		e->threads[e->nthreads++] = it->serial;
}

static void on_item(void *p, const struct tl_item *it)
{
	struct order *o = p;
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
	struct order *o;
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

static void components(struct order *o)
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
				if (!(cyc[i]->modes & (1u << m)))
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
static uint64_t gate_of(struct order *o, struct edge **cyc, uint32_t k)
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

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if (ch == '"' || ch == '\\')
			printf("\\%c", ch);
		else if (ch < 0x20)
			printf("\\u%04x", ch);
		else
			putchar(ch);
	}
	putchar('"');
}

static const char *mode_word(const struct node *n, unsigned shared)
{
	return n->kind != TL_LOCK_RWLOCK ? "" : shared ? " (read)" : " (write)";
}

static void print_cycle(struct order *o, struct edge **cyc, uint32_t k,
			const uint8_t *pick, uint64_t gate)
{
	char held[1024], taken[1024], who[96];
	if (o->json) {
		printf("%s\n{\"locks\":[", o->reported + o->guarded > 1 ? "," : "");
		for (uint32_t i = 0; i < k; i++)
			printf("%s\"0x%" PRIx64 "\"", i ? "," : "", o->nodes[cyc[i]->from].addr);
		if (gate)
			printf("],\"guarded_by\":\"0x%" PRIx64 "\",\"edges\":[", gate);
		else
			printf("],\"guarded_by\":null,\"edges\":[");
	} else {
		printf("\n%s %" PRIu64 ": ", gate ? "guarded cycle" : "cycle",
		       gate ? o->guarded : o->reported);
		for (uint32_t i = 0; i < k; i++) {
			const struct node *n = &o->nodes[cyc[i]->from];
			printf("%s 0x%" PRIx64 " -> ", tl_lock_names[n->kind], n->addr);
		}
		printf("%s 0x%" PRIx64 "%s\n", tl_lock_names[o->nodes[cyc[0]->from].kind],
		       o->nodes[cyc[0]->from].addr,
		       gate ? "" : " (potential deadlock)");
		if (gate)
			printf("  not a deadlock: every edge was made holding 0x%" PRIx64 "\n",
			       gate);
	}
	for (uint32_t i = 0; i < k; i++) {
		const struct edge *e = cyc[i];
		const struct witness *w = &e->w[pick[i]];
		const struct node *from = &o->nodes[e->from], *to = &o->nodes[e->to];
		tl_site_text(o->tl, &w->held_site, 6, held, sizeof held);
		tl_site_text(o->tl, &w->taken_site, 6, taken, sizeof taken);
		if (o->json) {
			printf("%s{\"from\":\"0x%" PRIx64 "\",\"to\":\"0x%" PRIx64
			       "\",\"thread\":%u,\"count\":%" PRIu64 ",\"threads\":[",
			       i ? "," : "", from->addr, to->addr, w->serial, e->count);
			for (uint32_t t = 0; t < e->nthreads; t++)
				printf("%s%u", t ? "," : "", e->threads[t]);
			printf("],\"held_shared\":%s,\"taken_shared\":%s,\"held_at\":",
			       pick[i] >> 1 ? "true" : "false", pick[i] & 1 ? "true" : "false");
			json_str(held);
			printf(",\"taken_at\":");
			json_str(taken);
			printf("}");
			continue;
		}
		tl_thread_label(o->tl, w->serial, who, sizeof who);
		printf("  %s took %s 0x%" PRIx64 "%s while holding %s 0x%" PRIx64 "%s"
		       " (%" PRIu64 " time%s", who, tl_lock_names[to->kind], to->addr,
		       mode_word(to, pick[i] & 1), tl_lock_names[from->kind], from->addr,
		       mode_word(from, pick[i] >> 1), e->count, e->count == 1 ? "" : "s");
		if (e->nthreads > 1) {
			printf(", by threads");
			for (uint32_t t = 0; t < e->nthreads; t++)
				printf(" T%u", e->threads[t]);
		}
		printf(")\n      holding since: %s\n      taken at:      %s\n", held, taken);
	}
	if (o->json)
		printf("]}");
}

static void found_cycle(struct order *o)
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
	o->found++;
	if (!feasible_modes(cyc, k, pick)) {
		o->read_only++;
	} else {
		uint64_t gate = gate_of(o, cyc, k);
		if (gate)
			o->guarded++;
		else
			o->reported++;
		print_cycle(o, cyc, k, pick, gate);
	}
	free(cyc);
	free(pick);
	if (o->found >= o->max_cycles)
		o->stopped = 1;
}

/* ---- Johnson's elementary circuits ---- */

static void unblock(struct order *o, uint32_t u)
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
	if (n->nb == n->b_cap) {
		n->b_cap = n->b_cap ? n->b_cap * 2 : 4;
		n->b = realloc(n->b, n->b_cap * sizeof *n->b);
		if (!n->b)
			abort();
	}
	n->b[n->nb++] = v;
}

static int circuit(struct order *o, uint32_t v)
{
	int found = 0;
	struct node *n = &o->nodes[v];
	o->path[o->npath++] = v;
	n->blocked = 1;
	for (uint32_t i = 0; i < n->nout && !o->stopped; i++) {
		uint32_t w = n->out[i]->to;
		if (!o->nodes[w].allowed)
			continue;
		if (++o->steps > o->max_steps)
			o->stopped = 1;
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
static void find_cycles(struct order *o)
{
	components(o);
	o->path = malloc((o->nnodes + 1) * sizeof *o->path);
	if (!o->path)
		abort();
	for (uint32_t s = 0; s < o->nnodes && !o->stopped; s++) {
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

static void free_order(struct order *o)
{
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
}

static const char lockorder_usage[] =
	"usage: weft lockorder [--fail] [--json] [--max-cycles N] FILE\n"
	"\n"
	"Build the lock-order graph of a trace, over all its threads and\n"
	"sessions: an edge A -> B each time a thread takes lock B (mutex, spin\n"
	"lock, rwlock for reading or writing, or a cond wait taking its mutex\n"
	"back) while it holds lock A.  Every cycle is a potential deadlock,\n"
	"even if this run did not deadlock: each is listed with the thread,\n"
	"count and sites (stacks when recorded, else file offsets) of its edges.\n"
	"A trylock adds no edge into the lock it takes; a cycle that needs a\n"
	"reader to wait for a reader is left out; a cycle whose every edge was\n"
	"made holding one same other lock is listed as guarded.\n"
	"\n"
	"  -f, --fail           exit 1 when there is a cycle that is not guarded\n"
	"  -j, --json           one JSON object instead of text\n"
	"  -m, --max-cycles N   stop after N cycles (default 100)\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show weft's version\n"
	"\n"
	"Exit status: 1 with --fail when a cycle was found; otherwise as weft\n"
	"check: 0, 1 inconsistent, 2 cannot be read or bad arguments, 3\n"
	"truncated (the part that was written is analysed).\n";

int weft_cmd_lockorder(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fail", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-cycles", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct order o = { .max_cycles = 100, .max_steps = 50000000 };
	int fail = 0, c;
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "fjm:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fail = 1; break;
		case 'j': o.json = 1; break;
		case 'm':
			o.max_cycles = strtoull(optarg, &end, 10);
			if (!*optarg || *end || o.max_cycles == 0) {
				fprintf(stderr, "weft lockorder: --max-cycles wants a positive "
					"number, not '%s'\n", optarg);
				return WEFT_EXIT_USAGE;
			}
			break;
		case 'h': fputs(lockorder_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(lockorder_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "weft lockorder: %s\n", optind >= argc
			? "no trace file given" : "one trace file at a time");
		fputs(lockorder_usage, stderr);
		return WEFT_EXIT_USAGE;
	}
	int status;
	o.tl = tl_open(argv[optind], "lockorder", &status);
	if (!o.tl)
		return status;
	tl_run(o.tl, on_item, &o);
	if (o.json) {
		printf("{\"file\":");
		json_str(argv[optind]);
		printf(",\"locks\":%u,\"edges\":%u,\"cycles\":[", o.nnodes, o.nedges);
	} else {
		printf("%s: %u locks, %u lock-order edges\n", argv[optind], o.nnodes,
		       o.nedges);
	}
	find_cycles(&o);
	if (o.json) {
		printf("],\"deadlock_cycles\":%" PRIu64 ",\"guarded_cycles\":%" PRIu64
		       ",\"read_only_cycles\":%" PRIu64 ",\"search_stopped\":%s}\n",
		       o.reported, o.guarded, o.read_only, o.stopped ? "true" : "false");
	} else {
		printf("\n%" PRIu64 " cycle%s (potential deadlock%s)", o.reported,
		       o.reported == 1 ? "" : "s", o.reported == 1 ? "" : "s");
		if (o.guarded)
			printf(", %" PRIu64 " guarded by a gate lock", o.guarded);
		if (o.read_only)
			printf(", %" PRIu64 " left out (readers only)", o.read_only);
		printf("\n");
		if (o.stopped)
			printf("the search stopped early (--max-cycles %" PRIu64 "): there "
			       "may be more\n", o.max_cycles);
	}
	fflush(stdout);
	status = tl_report(o.tl);
	if (fail && o.reported)
		status = WEFT_EXIT_BAD;
	free_order(&o);
	tl_close(o.tl);
	return status;
}
