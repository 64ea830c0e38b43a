/*
 * view_data.c - gathers what `weft view` shows (see view_data.h) from the
 * timeline, costs and lock graph of each trace, and writes it as JSON in
 * columns (one array per field), which a browser parses fast.
 *
 * The timeline comes as slices.c gives it (each wait with the flow that
 * ended it and the site of the release), and item by item for the tables.
 * Every interval of every trace is kept in a small form (lane, kind,
 * begin, end) for the summary buckets, which need the span of all traces;
 * the slices shown in detail, with their names and sites, are chosen per
 * trace while its timeline is open.
 */
#include "view_data.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "common.h"
#include "costs.h"
#include "grow.h"
#include "lockgraph.h"
#include "names.h"
#include "slices.h"
#include "timeline.h"

#define SITE_FRAMES 8
#define MAX_CYCLES 100
#define LEVEL_STEP 8        /* buckets of one level per bucket of the next */
#define LEVELS 3
#define LEVEL_MIN_SHIFT 9   /* the finest level has at least 512 buckets */

struct istr {
	uint32_t idx;
	UT_hash_handle hh;
	char s[];
};

/* What a summary bucket needs of every interval. */
struct span {
	int64_t b, e;
	uint32_t lane;
	uint8_t kind;
};

struct slice {
	int64_t b, e, arg, ret;
	uint64_t object, err;
	struct tl_site site;
	uint32_t lane;
	int32_t flow;
	uint8_t kind, syscall, rw, cut;
};

struct flow {
	int64_t fb, tb;
	uint64_t object;
	const char *what;
	struct tl_site release_site;   /* where the released lock was taken */
	uint8_t has_site;
	uint32_t from, to;             /* lanes */
	uint32_t slice;                /* in the trace's slices */
};

struct lane {
	uint32_t trace, serial;
	uint32_t label;                /* string */
	int64_t begin, end;
};

struct object {
	uint64_t key[2];               /* trace, address */
	uint32_t idx;
	uint32_t name;                 /* string */
	const char *kind;
	UT_hash_handle hh;
};

/* A slice shown in detail, its strings resolved. */
struct shown {
	int64_t b, d, arg, ret;
	uint32_t lane;
	int32_t obj, sys, site, flow, err;
	uint8_t kind, has_arg, flags;   /* flags: 1 cut, 2 read, 4 write */
};

struct shown_flow {
	int64_t fb, tb;
	uint32_t from, to, what, slice;
	int32_t obj, site;
};

struct view_data {
	uint64_t cap_per_trace;
	struct istr *strings_by_text;
	struct istr **strings;
	uint32_t nstrings, strings_cap;
	struct object *objects_by_key;
	struct object **objects;
	uint32_t nobjects, objects_cap;
	struct lane *lanes;
	uint32_t nlanes, lanes_cap;
	struct span *spans;
	size_t nspans, spans_cap;
	int64_t t0, t1;
	int seen;
	uint64_t slices_total, omitted;
	struct shown *shown;
	size_t nshown, shown_cap;
	struct shown_flow *flows;
	size_t nflows, flows_cap;
	/* Each trace's entry of "processes", as JSON. */
	FILE *procs;
	char *procs_text;
	size_t procs_len;
	unsigned nprocs;
};

/* While one trace is read. */
struct reading {
	struct view_data *v;
	struct timeline *tl;
	uint32_t trace;
	int64_t offset;
	int64_t last;                  /* the latest time of an item */
	uint32_t *lane1;               /* by thread serial: its lane + 1
					  (0: none yet) */
	uint32_t lane1_cap;
	struct slice *slices;
	size_t nslices, slices_cap;
	struct flow *flows;
	size_t nflows, flows_cap;
	struct costs *costs;
	struct lockgraph *graph;
	char text[1024];
};

static uint32_t intern(struct view_data *v, const char *s)
{
	struct istr *e;
	HASH_FIND_STR(v->strings_by_text, s, e);
	if (e)
		return e->idx;
	size_t len = strlen(s);
	e = malloc(sizeof *e + len + 1);
	if (!e)
		abort();
	memcpy(e->s, s, len + 1);
	e->idx = v->nstrings;
	WEFT_GROW(v->strings, v->nstrings, v->strings_cap, 256);
	v->strings[v->nstrings++] = e;
	HASH_ADD_STR(v->strings_by_text, s, e);
	return e->idx;
}

/* The object at addr in the trace being read, named as every command
 * names it. */
static int32_t object_index(struct reading *rd, uint64_t addr, const char *kind)
{
	struct view_data *v = rd->v;
	uint64_t key[2] = { rd->trace, addr };
	struct object *o;
	HASH_FIND(hh, v->objects_by_key, key, sizeof key, o);
	if (o) {
		if (!o->kind)
			o->kind = kind;
		return (int32_t)o->idx;
	}
	o = calloc(1, sizeof *o);
	if (!o)
		abort();
	memcpy(o->key, key, sizeof key);
	o->idx = v->nobjects;
	o->kind = kind;
	char name[160];
	weft_object_name(tl_tables(rd->tl), addr, name, sizeof name);
	o->name = intern(v, name);
	WEFT_GROW(v->objects, v->nobjects, v->objects_cap, 64);
	v->objects[v->nobjects++] = o;
	HASH_ADD(hh, v->objects_by_key, key, sizeof o->key, o);
	return (int32_t)o->idx;
}

static int32_t site_index(struct reading *rd, const struct tl_site *s)
{
	if (!s->stack)
		return -1;
	tl_site_text(rd->tl, s, SITE_FRAMES, rd->text, sizeof rd->text);
	return (int32_t)intern(rd->v, rd->text);
}

/* ---- reading a trace ---- */

/* The lane of the thread with this serial, made when first seen (at
 * ns). */
static uint32_t lane_of(struct reading *rd, uint32_t serial, int64_t ns)
{
	struct view_data *v = rd->v;
	while (serial >= rd->lane1_cap) {
		uint32_t old = rd->lane1_cap;
		rd->lane1_cap = old ? old * 2 : 64;
		rd->lane1 = realloc(rd->lane1, rd->lane1_cap * sizeof *rd->lane1);
		if (!rd->lane1)
			abort();
		memset(rd->lane1 + old, 0, (rd->lane1_cap - old) * sizeof *rd->lane1);
	}
	if (rd->lane1[serial])
		return rd->lane1[serial] - 1;
	WEFT_GROW(v->lanes, v->nlanes, v->lanes_cap, 16);
	v->lanes[v->nlanes] = (struct lane){ .trace = rd->trace, .serial = serial,
					     .begin = ns, .end = ns };
	rd->lane1[serial] = ++v->nlanes;
	return v->nlanes - 1;
}

static void widen(struct view_data *v, int64_t b, int64_t e)
{
	if (!v->seen || b < v->t0)
		v->t0 = b;
	if (!v->seen || e > v->t1)
		v->t1 = e;
	v->seen = 1;
}

/* The flow into slice (on lane to) from the release that ended its
 * wait: returns its index. */
static int32_t add_flow(struct reading *rd, const struct sl_event *ev, uint32_t to,
			uint32_t slice)
{
	const struct tl_flow *f = ev->flow;
	WEFT_GROW(rd->flows, rd->nflows, rd->flows_cap, 1024);
	struct flow *fl = &rd->flows[rd->nflows];
	*fl = (struct flow){
		.fb = f->from_ns + rd->offset, .tb = f->to_ns + rd->offset,
		.object = f->object, .what = f->what,
		.from = lane_of(rd, f->from, f->from_ns + rd->offset), .to = to,
		.slice = slice,
	};
	if (ev->release_site) {
		fl->release_site = *ev->release_site;
		fl->has_site = 1;
	}
	return (int32_t)rd->nflows++;
}

/* A wait or a call, and the flow that ended it if any. */
static void add_wait(struct reading *rd, const struct sl_event *ev)
{
	const struct tl_item *it = ev->item;
	uint32_t lane = lane_of(rd, it->serial, it->ns + rd->offset);
	const struct tl_interval *iv = &it->iv;
	struct view_data *v = rd->v;
	/* A wait that began before tracing did starts, on screen, with it. */
	int64_t b = (iv->begin_ns < 0 ? 0 : iv->begin_ns) + rd->offset;
	int64_t e = iv->end_ns + rd->offset;
	if (e < b)
		e = b;
	WEFT_GROW(v->spans, v->nspans, v->spans_cap, 4096);
	v->spans[v->nspans++] = (struct span){ b, e, lane, (uint8_t)iv->kind };
	WEFT_GROW(rd->slices, rd->nslices, rd->slices_cap, 4096);
	uint32_t i = (uint32_t)rd->nslices++;
	rd->slices[i] = (struct slice){
		.b = b, .e = e, .arg = iv->arg, .ret = iv->ret, .object = iv->object,
		.err = iv->err, .site = iv->site, .lane = lane,
		.flow = ev->flow ? add_flow(rd, ev, lane, i) : -1,
		.kind = (uint8_t)iv->kind, .syscall = iv->syscall, .rw = iv->rw_mode,
		.cut = iv->cut,
	};
	widen(v, b, e);
}

static void on_slice(void *p, const struct sl_event *ev)
{
	if (ev->type == SL_WAIT)
		add_wait(p, ev);
}

/* Every item: the tables' sums, the threads' lanes and the trace's end. */
static void on_item(void *p, const struct tl_item *it)
{
	struct reading *rd = p;
	costs_add(rd->costs, it);
	lockgraph_add(rd->graph, it);
	struct view_data *v = rd->v;
	if (it->ns + rd->offset > rd->last)
		rd->last = it->ns + rd->offset;
	switch (it->type) {
	case TL_THREAD_BEGIN: {
		uint32_t lane = lane_of(rd, it->serial, it->ns + rd->offset);
		v->lanes[lane].begin = it->ns + rd->offset;
		if (v->lanes[lane].end < v->lanes[lane].begin)
			v->lanes[lane].end = v->lanes[lane].begin;
		break;
	}
	case TL_THREAD_END: {
		uint32_t lane = lane_of(rd, it->serial, it->ns + rd->offset);
		v->lanes[lane].end = it->ns + rd->offset;
		widen(v, it->ns + rd->offset, it->ns + rd->offset);
		break;
	}
	default:
		break;
	}
}

static int by_length_desc(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return (x < y) - (x > y);
}

/* Which slices of this trace are shown: all of them when they fit under
 * the cap, else the longest (those as long as the shortest one kept, as
 * many as fit). */
struct detail_cut {
	int64_t min;          /* shown when longer */
	uint64_t equal;       /* how many of length min are shown too */
};

static struct detail_cut detail_cut(const struct reading *rd, uint64_t cap)
{
	if (rd->nslices <= cap)
		return (struct detail_cut){ INT64_MIN, 0 };
	int64_t *len = malloc(rd->nslices * sizeof *len);
	if (!len)
		abort();
	for (size_t i = 0; i < rd->nslices; i++)
		len[i] = rd->slices[i].e - rd->slices[i].b;
	qsort(len, rd->nslices, sizeof *len, by_length_desc);
	struct detail_cut cut = { len[cap - 1], 0 };
	for (uint64_t i = cap; i > 0 && len[i - 1] == cut.min; i--)
		cut.equal++;
	free(len);
	return cut;
}

static int32_t error_name(struct view_data *v, uint64_t err)
{
	if (!err)
		return -1;
	const char *e = err < 4096 ? strerrorname_np((int)err) : NULL;
	char buf[32];
	if (!e) {
		snprintf(buf, sizeof buf, "%" PRIu64, err);
		e = buf;
	}
	return (int32_t)intern(v, e);
}

static int32_t syscall_index(struct view_data *v, uint8_t call)
{
	const char *name = weft_syscall_name(call);
	return (int32_t)intern(v, name ? name : "?");
}

/* Moves the slices (and their flows) worth showing into the view. */
static void keep_detail(struct reading *rd)
{
	struct view_data *v = rd->v;
	struct detail_cut cut = detail_cut(rd, v->cap_per_trace);
	v->slices_total += rd->nslices;
	for (size_t i = 0; i < rd->nslices; i++) {
		const struct slice *s = &rd->slices[i];
		int64_t len = s->e - s->b;
		if (len < cut.min || (len == cut.min && !cut.equal)) {
			v->omitted++;
			continue;
		}
		if (len == cut.min)
			cut.equal--;
		int call = s->kind == TL_SYSCALL || s->kind == TL_SLEEP;
		enum weft_syscall_arg argw = call && s->arg >= 0
					     ? weft_syscall_arg(s->syscall) : WEFT_SYSARG_NONE;
		int object = !call && s->kind != TL_JOIN && s->kind != TL_UNKNOWN;
		WEFT_GROW(v->shown, v->nshown, v->shown_cap, 4096);
		struct shown *d = &v->shown[v->nshown];
		*d = (struct shown){
			.b = s->b, .d = s->e - s->b,
			.arg = call ? s->arg : s->kind == TL_JOIN ? (int64_t)s->object : 0,
			.has_arg = (call && argw != WEFT_SYSARG_NONE) || s->kind == TL_JOIN,
			.ret = s->ret, .lane = s->lane,
			.obj = object ? object_index(rd, s->object, tl_kind_names[s->kind]) : -1,
			.sys = call ? syscall_index(v, s->syscall) : -1,
			.site = site_index(rd, &s->site), .flow = -1,
			.err = error_name(v, s->err), .kind = s->kind,
			.flags = (uint8_t)(s->cut | (s->rw == 1 ? 2 : s->rw == 2 ? 4 : 0)),
		};
		if (s->flow >= 0) {
			const struct flow *f = &rd->flows[s->flow];
			WEFT_GROW(v->flows, v->nflows, v->flows_cap, 1024);
			v->flows[v->nflows] = (struct shown_flow){
				.fb = f->fb, .tb = f->tb, .from = f->from, .to = f->to,
				.what = intern(v, f->what), .slice = (uint32_t)v->nshown,
				.obj = !strcmp(f->what, "exit") ? -1
				       : object_index(rd, f->object, NULL),
				.site = f->has_site ? site_index(rd, &f->release_site) : -1,
			};
			d->flow = (int32_t)v->nflows++;
		}
		v->nshown++;
	}
}

/* ---- the tables of weft stats and the lock-order graph, as JSON ---- */

static void put_string(FILE *out, struct view_data *v, uint32_t s)
{
	weft_json_string(out, v->strings[s]->s);
}

static void stats_json(struct reading *rd, FILE *out)
{
	struct costs *c = rd->costs;
	char site[1024];
	uint32_t n;
	struct costs_thread *rows = costs_threads(c, &n);
	fputs("\"threads\":[", out);
	for (uint32_t i = 0; i < n; i++) {
		const struct tl_thread *t = rows[i].t;
		fprintf(out, "%s{\"lane\":%u,\"alive\":%" PRId64 ",\"off_cpu\":%" PRId64
			",\"in\":[", i ? "," : "", lane_of(rd, t->serial, t->first_ns),
			t->alive_ns, rows[i].off_cpu);
		for (int k = 0; k < TL_NKINDS; k++)
			fprintf(out, "%s%" PRId64, k ? "," : "", t->in_ns[k]);
		fputs("],\"cpu\":", out);
		if (rows[i].cpu_known)
			fprintf(out, "%" PRId64, rows[i].cpu);
		else
			fputs("null", out);
		fputc('}', out);
	}
	free(rows);
	fputs("],\"objects\":[", out);
	for (uint32_t i = 0; i < c->nobjects; i++) {
		const struct costs_object *o = c->objects[i];
		fprintf(out, "%s{\"obj\":%d,\"kind\":", i ? "," : "",
			object_index(rd, o->addr, o->kind));
		weft_json_string(out, o->kind);
		fprintf(out, ",\"lock\":%s,\"acquisitions\":%" PRIu64 ",\"contended\":%"
			PRIu64 ",\"waits\":%" PRIu64 ",\"wait\":%" PRId64 ",\"max_wait\":%"
			PRId64, o->is_lock ? "true" : "false", o->acquisitions, o->contended,
			o->waits, o->wait_total, o->wait_max);
		if (o->holds_unseen)
			fputs(",\"held\":null,\"max_held\":null", out);
		else
			fprintf(out, ",\"held\":%" PRId64 ",\"max_held\":%" PRId64,
				o->hold_total, o->hold_max);
		fputs(",\"site\":", out);
		if (o->top_site) {
			tl_site_text(rd->tl, &o->top_site->site, SITE_FRAMES, site, sizeof site);
			weft_json_string(out, site);
		} else {
			fputs("null", out);
		}
		fputc('}', out);
	}
	fputs("],\"syscalls\":[", out);
	for (uint32_t i = 0; i < c->nsyscalls; i++) {
		const struct costs_syscall *r = c->syscalls[i];
		const char *name = weft_syscall_name((uint64_t)r->call);
		fprintf(out, "%s{\"call\":", i ? "," : "");
		weft_json_string(out, name ? name : "?");
		if (r->fd != INT64_MIN)
			fprintf(out, ",\"fd\":%" PRId64, r->fd);
		else
			fputs(",\"fd\":null", out);
		fprintf(out, ",\"calls\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"total\":%"
			PRId64 ",\"p50\":%" PRIu64 ",\"p99\":%" PRIu64 ",\"max\":%" PRId64 "}",
			r->calls, r->errors, r->total, r->p50, r->p99, r->max);
	}
	fputc(']', out);
}

struct graph_out {
	struct reading *rd;
	FILE *out;
	unsigned n;
};

static void edge_json(void *p, const struct lock_edge *e)
{
	struct graph_out *g = p;
	fprintf(g->out, "%s{\"from\":%d,\"to\":%d,\"count\":%" PRIu64 ",\"threads\":[",
		g->n++ ? "," : "", object_index(g->rd, e->from, tl_lock_names[e->from_kind]),
		object_index(g->rd, e->to, tl_lock_names[e->to_kind]), e->count);
	for (uint32_t i = 0; i < e->nthreads; i++)
		fprintf(g->out, "%s%u", i ? "," : "", e->threads[i]);
	fputs("]}", g->out);
}

static void cycle_json(void *p, const struct lock_cycle *c)
{
	struct graph_out *g = p;
	fprintf(g->out, "%s{\"guarded\":%s,\"locks\":[", g->n++ ? "," : "",
		c->gate ? "true" : "false");
	for (uint32_t i = 0; i < c->n; i++)
		fprintf(g->out, "%s%d", i ? "," : "",
			object_index(g->rd, c->edges[i]->from,
				     tl_lock_names[c->edges[i]->from_kind]));
	fputs("],\"edges\":[", g->out);
	for (uint32_t i = 0; i < c->n; i++) {
		const struct lock_witness *w = &c->edges[i]->w[c->pick[i]];
		char held[1024], taken[1024];
		tl_site_text(g->rd->tl, &w->held_site, SITE_FRAMES, held, sizeof held);
		tl_site_text(g->rd->tl, &w->taken_site, SITE_FRAMES, taken, sizeof taken);
		fprintf(g->out, "%s{\"thread\":%u,\"held_at\":", i ? "," : "", w->serial);
		weft_json_string(g->out, held);
		fputs(",\"taken_at\":", g->out);
		weft_json_string(g->out, taken);
		fputc('}', g->out);
	}
	fputs("]}", g->out);
}

static void lockorder_json(struct reading *rd, FILE *out)
{
	struct graph_out g = { rd, out, 0 };
	fputs("\"edges\":[", out);
	lockgraph_each_edge(rd->graph, edge_json, &g);
	fputs("],\"cycles\":[", out);
	struct lock_search found;
	g.n = 0;
	lockgraph_find_cycles(rd->graph, MAX_CYCLES, cycle_json, &g, &found);
	fprintf(out, "],\"cycles_stopped\":%s", found.stopped ? "true" : "false");
}

static void process_json(struct reading *rd, struct trace_input *t,
			 const struct weft_check_result *res, uint64_t slices,
			 uint64_t shown)
{
	FILE *out = rd->v->procs;
	char title[2400];
	trace_title(t, title, sizeof title);
	fprintf(out, "%s{\"title\":", rd->v->nprocs++ ? ",\n" : "");
	weft_json_string(out, title);
	fputs(",\"file\":", out);
	weft_json_string(out, t->path);
	fprintf(out, ",\"pid\":%" PRIu64 ",\"offset\":%" PRId64 ",\"span\":%" PRId64
		",\"lost\":%" PRIu64 ",\"verdict\":\"%s\",\"slices\":%" PRIu64
		",\"shown\":%" PRIu64 ",\n", tl_header(rd->tl)->pid, t->offset_ns,
		tl_span_ns(rd->tl), res->lost,
		res->verdict == WEFT_CHECK_OK ? "complete"
		: res->verdict == WEFT_CHECK_TRUNCATED ? "truncated" : "partial",
		slices, shown);
	stats_json(rd, out);
	fputs(",\n\"lockorder\":{", out);
	lockorder_json(rd, out);
	fputs("}}", out);
}

static int by_serial(const void *a, const void *b, void *lanes)
{
	const struct lane *l = lanes;
	uint32_t x = l[*(const uint32_t *)a].serial, y = l[*(const uint32_t *)b].serial;
	return (x > y) - (x < y);
}

/* Puts the lanes of the trace just read (from first on) in the order of
 * their threads' serials, as they were made in the order first seen. */
static void order_lanes(struct reading *rd, uint32_t first, size_t first_span)
{
	struct view_data *v = rd->v;
	uint32_t n = v->nlanes - first;
	uint32_t *order = malloc(n * sizeof *order), *place = malloc(n * sizeof *place);
	struct lane *was = malloc(n * sizeof *was);
	if (!order || !place || !was)
		abort();
	for (uint32_t i = 0; i < n; i++)
		order[i] = first + i;
	qsort_r(order, n, sizeof *order, by_serial, v->lanes);
	memcpy(was, v->lanes + first, n * sizeof *was);
	for (uint32_t i = 0; i < n; i++) {
		v->lanes[first + i] = was[order[i] - first];
		place[order[i] - first] = first + i;
	}
#define MOVE(lane) ((lane) = place[(lane) - first])
	for (size_t i = first_span; i < v->nspans; i++)
		MOVE(v->spans[i].lane);
	for (size_t i = 0; i < rd->nslices; i++)
		MOVE(rd->slices[i].lane);
	for (size_t i = 0; i < rd->nflows; i++) {
		MOVE(rd->flows[i].from);
		MOVE(rd->flows[i].to);
	}
	for (uint32_t s = 0; s < rd->lane1_cap; s++)
		if (rd->lane1[s])
			rd->lane1[s] = place[rd->lane1[s] - 1 - first] + 1;
#undef MOVE
	free(order);
	free(place);
	free(was);
}

int view_data_add(struct view_data *v, struct trace_set *set,
		  struct trace_input *t, unsigned jobs)
{
	struct reading rd = { .v = v, .trace = v->nprocs, .offset = t->offset_ns,
			      .last = INT64_MIN };
	rd.tl = trace_timeline(set, t, jobs, "view");
	if (!rd.tl)
		return WEFT_EXIT_USAGE;
	uint32_t first_lane = v->nlanes;
	size_t first_span = v->nspans;
	rd.costs = costs_new(rd.tl, NULL);
	rd.graph = lockgraph_new();
	uint64_t flows = 0;
	sl_run(rd.tl, &flows, on_slice, on_item, &rd);
	costs_finish(rd.costs);
	const struct weft_check_result *res = tl_result(rd.tl);
	int status = weft_report_partial("view", t->path, res);
	for (uint32_t i = 0; i < tl_nthreads(rd.tl); i++) {
		const struct tl_thread *th = tl_thread_at(rd.tl, i);
		uint32_t lane = lane_of(&rd, th->serial, th->first_ns + rd.offset);
		tl_thread_label(rd.tl, th->serial, rd.text, sizeof rd.text);
		v->lanes[lane].label = intern(v, rd.text);
		/* A thread that did not exit lived to the end of the trace. */
		if (!th->exited && v->lanes[lane].end < rd.last)
			v->lanes[lane].end = rd.last;
		widen(v, v->lanes[lane].begin, v->lanes[lane].end);
	}
	order_lanes(&rd, first_lane, first_span);
	size_t shown_before = v->nshown;
	keep_detail(&rd);
	process_json(&rd, t, res, rd.nslices, v->nshown - shown_before);
	costs_free(rd.costs);
	lockgraph_free(rd.graph);
	tl_close(rd.tl);
	free(rd.lane1);
	free(rd.slices);
	free(rd.flows);
	return status;
}

/* ---- the summary buckets ---- */

/* Time per kind in the buckets of the finest level, for each lane only
 * over the buckets its intervals touch (a short-lived thread needs one or
 * two): lane l's bucket first[l] + j, kind k, is
 * v[(base[l] + j) * TL_NKINDS + k].  Running is left out: it is the rest
 * of a lane's time alive. */
struct cells {
	uint32_t n;                /* buckets over the whole span */
	double width;              /* ns */
	uint32_t *first, *count;
	size_t *base;
	float *v;
};

static uint32_t bucket_of(const struct view_data *v, double width, int64_t t, uint32_t n)
{
	double b = (double)(t - v->t0) / width;
	return b < 0 ? 0 : b >= n ? n - 1 : (uint32_t)b;
}

/* The most buckets (a power of two, MAX_BUCKETS at most; fewer when
 * every slice is shown in detail, as the summaries then only stand in for
 * them when zoomed out) whose cells, over all lanes, fit
 * VIEW_SUMMARY_CELLS. */
static void size_cells(const struct view_data *v, struct cells *c)
{
	int64_t *lo = malloc(v->nlanes * sizeof *lo), *hi = malloc(v->nlanes * sizeof *hi);
	if (!lo || !hi)
		abort();
	for (uint32_t l = 0; l < v->nlanes; l++) {
		lo[l] = INT64_MAX;
		hi[l] = INT64_MIN;
	}
	for (size_t i = 0; i < v->nspans; i++) {
		const struct span *s = &v->spans[i];
		if (s->b < lo[s->lane])
			lo[s->lane] = s->b;
		if (s->e > hi[s->lane])
			hi[s->lane] = s->e;
	}
	int64_t span = v->t1 > v->t0 ? v->t1 - v->t0 : 1;
	for (c->n = v->omitted ? 1u << 15 : 1u << 11;; c->n >>= 1) {
		c->width = (double)span / c->n;
		if (c->width < 1)
			c->width = 1;
		size_t total = 0;
		for (uint32_t l = 0; l < v->nlanes; l++) {
			c->base[l] = total;
			if (lo[l] > hi[l]) {
				c->first[l] = c->count[l] = 0;
				continue;
			}
			c->first[l] = bucket_of(v, c->width, lo[l], c->n);
			c->count[l] = bucket_of(v, c->width, hi[l], c->n) - c->first[l] + 1;
			total += c->count[l];
		}
		if (total <= VIEW_SUMMARY_CELLS || c->n <= 1u << LEVEL_MIN_SHIFT) {
			c->v = calloc(total * TL_NKINDS, sizeof *c->v);
			if (!c->v && total)
				abort();
			break;
		}
	}
	free(lo);
	free(hi);
}

static void fill_cells(const struct view_data *v, struct cells *c)
{
	c->first = malloc(v->nlanes * sizeof *c->first);
	c->count = malloc(v->nlanes * sizeof *c->count);
	c->base = malloc(v->nlanes * sizeof *c->base);
	if (!c->first || !c->count || !c->base)
		abort();
	size_cells(v, c);
	for (size_t i = 0; i < v->nspans; i++) {
		const struct span *s = &v->spans[i];
		double b = (double)(s->b - v->t0) / c->width, e = (double)(s->e - v->t0) / c->width;
		uint32_t first = c->first[s->lane], end = first + c->count[s->lane];
		float *lane = c->v + c->base[s->lane] * TL_NKINDS;
		for (uint32_t k = b < first ? first : (uint32_t)b; k < end && k <= e; k++) {
			double from = b > k ? b : k, to = e < k + 1 ? e : k + 1;
			if (to > from)
				lane[(size_t)(k - first) * TL_NKINDS + s->kind] += (float)(to - from);
		}
	}
}

/* One level: per lane, [bucket, kind, permille of the bucket, ...]. */
static void level_json(FILE *out, const struct view_data *v, const struct cells *c,
		       uint32_t step)
{
	fprintf(out, "{\"n\":%u,\"width\":%" PRId64 ",\"lanes\":[", c->n / step,
		(int64_t)(c->width * step + 0.5));
	for (uint32_t l = 0; l < v->nlanes; l++) {
		uint32_t first = c->first[l], end = first + c->count[l];
		const float *lane = c->v + c->base[l] * TL_NKINDS;
		int none = 1;
		fputs(l ? ",[" : "[", out);
		for (uint32_t k = first / step; k * step < end; k++)
			for (int kind = TL_SYSCALL; kind < TL_NKINDS; kind++) {
				float sum = 0;
				for (uint32_t j = k * step; j < (k + 1) * step; j++)
					if (j >= first && j < end)
						sum += lane[(size_t)(j - first) * TL_NKINDS + kind];
				if (sum <= 0)
					continue;
				unsigned permille = (unsigned)(sum / (float)step * 1000.0f + 0.999f);
				fprintf(out, "%s%u,%d,%u", none ? "" : ",", k, kind,
					permille > 1000 ? 1000 : permille);
				none = 0;
			}
		fputc(']', out);
	}
	fputs("]}", out);
}

static void levels_json(FILE *out, const struct view_data *v)
{
	struct cells c;
	fill_cells(v, &c);
	fputs("\"levels\":[", out);
	uint32_t step = 1;
	for (int i = 0; i < LEVELS; i++, step *= LEVEL_STEP) {
		if (i)
			fputc(',', out);
		level_json(out, v, &c, step);
	}
	fputs("]", out);
	free(c.first);
	free(c.count);
	free(c.base);
	free(c.v);
}

/* ---- the document ---- */

#define COLUMN(out, name, arr, n, fmt, expr)                                   \
	do {                                                                   \
		fprintf(out, "\"%s\":[", name);                                \
		for (size_t i_ = 0; i_ < (n); i_++) {                          \
			__auto_type x = &(arr)[i_];                            \
			fprintf(out, i_ ? "," fmt : fmt, expr);                 \
		}                                                              \
		fputs("]", out);                                               \
	} while (0)

static void slices_json(FILE *out, const struct view_data *v)
{
	size_t n = v->nshown;
	fputs("\"slices\":{", out);
	COLUMN(out, "lane", v->shown, n, "%u", x->lane);
	fputc(',', out);
	COLUMN(out, "b", v->shown, n, "%" PRId64, x->b - v->t0);
	fputc(',', out);
	COLUMN(out, "d", v->shown, n, "%" PRId64, x->d);
	fputc(',', out);
	COLUMN(out, "k", v->shown, n, "%u", x->kind);
	fputc(',', out);
	COLUMN(out, "obj", v->shown, n, "%d", x->obj);
	fputc(',', out);
	COLUMN(out, "sys", v->shown, n, "%d", x->sys);
	fputc(',', out);
	fputs("\"arg\":[", out);
	for (size_t i = 0; i < n; i++) {
		if (i)
			fputc(',', out);
		if (v->shown[i].has_arg)
			fprintf(out, "%" PRId64, v->shown[i].arg);
		else
			fputs("null", out);
	}
	fputs("],", out);
	COLUMN(out, "ret", v->shown, n, "%" PRId64, x->ret);
	fputc(',', out);
	COLUMN(out, "err", v->shown, n, "%d", x->err);
	fputc(',', out);
	COLUMN(out, "site", v->shown, n, "%d", x->site);
	fputc(',', out);
	COLUMN(out, "flow", v->shown, n, "%d", x->flow);
	fputc(',', out);
	COLUMN(out, "flags", v->shown, n, "%u", x->flags);
	fputs("},\n\"flows\":{", out);
	n = v->nflows;
	COLUMN(out, "from", v->flows, n, "%u", x->from);
	fputc(',', out);
	COLUMN(out, "fb", v->flows, n, "%" PRId64, x->fb - v->t0);
	fputc(',', out);
	COLUMN(out, "to", v->flows, n, "%u", x->to);
	fputc(',', out);
	COLUMN(out, "tb", v->flows, n, "%" PRId64, x->tb - v->t0);
	fputc(',', out);
	COLUMN(out, "what", v->flows, n, "%u", x->what);
	fputc(',', out);
	COLUMN(out, "obj", v->flows, n, "%d", x->obj);
	fputc(',', out);
	COLUMN(out, "site", v->flows, n, "%d", x->site);
	fputc(',', out);
	COLUMN(out, "slice", v->flows, n, "%u", x->slice);
	fputs("}", out);
}

void view_data_write(struct view_data *v, FILE *out)
{
	fflush(v->procs);
	fputs("{\"version\":", out);
	weft_json_string(out, WEFT_VERSION);
	fprintf(out, ",\"t0\":%" PRId64 ",\"span\":%" PRId64
		",\"slices_total\":%" PRIu64 ",\"omitted\":%" PRIu64
		",\"cap\":%" PRIu64 ",\n\"kinds\":[", v->t0,
		v->t1 - v->t0, v->slices_total, v->omitted, v->cap_per_trace);
	for (int k = 0; k < TL_NKINDS; k++) {
		if (k)
			fputc(',', out);
		weft_json_string(out, tl_kind_names[k]);
	}
	fputs("],\n\"processes\":[", out);
	fwrite(v->procs_text, 1, v->procs_len, out);
	fputs("],\n\"lanes\":[", out);
	for (uint32_t i = 0; i < v->nlanes; i++) {
		const struct lane *l = &v->lanes[i];
		fprintf(out, "%s{\"p\":%u,\"serial\":%u,\"label\":%u,\"begin\":%" PRId64
			",\"end\":%" PRId64 "}", i ? ",\n" : "", l->trace, l->serial,
			l->label, l->begin - v->t0, l->end - v->t0);
	}
	fputs("],\n\"objects\":[", out);
	for (uint32_t i = 0; i < v->nobjects; i++) {
		const struct object *o = v->objects[i];
		fprintf(out, "%s{\"p\":%" PRIu64 ",\"addr\":\"0x%" PRIx64 "\",\"name\":",
			i ? ",\n" : "", o->key[0], o->key[1]);
		put_string(out, v, o->name);
		fputs(",\"kind\":", out);
		weft_json_string_or_null(out, o->kind);
		fputc('}', out);
	}
	fputs("],\n", out);
	slices_json(out, v);
	fputs(",\n", out);
	levels_json(out, v);
	fputs(",\n\"strings\":[", out);
	for (uint32_t i = 0; i < v->nstrings; i++) {
		if (i)
			fputs(",\n", out);
		put_string(out, v, i);
	}
	fputs("]}", out);
}

struct view_data *view_data_new(uint64_t max_slices, unsigned ntraces)
{
	struct view_data *v = calloc(1, sizeof *v);
	if (!v)
		abort();
	v->cap_per_trace = max_slices / (ntraces ? ntraces : 1);
	if (!v->cap_per_trace)
		v->cap_per_trace = 1;
	v->procs = open_memstream(&v->procs_text, &v->procs_len);
	if (!v->procs)
		abort();
	return v;
}

void view_data_free(struct view_data *v)
{
	if (!v)
		return;
	fclose(v->procs);
	free(v->procs_text);
	HASH_CLEAR(hh, v->strings_by_text);
	for (uint32_t i = 0; i < v->nstrings; i++)
		free(v->strings[i]);
	free(v->strings);
	HASH_CLEAR(hh, v->objects_by_key);
	for (uint32_t i = 0; i < v->nobjects; i++)
		free(v->objects[i]);
	free(v->objects);
	free(v->lanes);
	free(v->spans);
	free(v->shown);
	free(v->flows);
	free(v);
}
