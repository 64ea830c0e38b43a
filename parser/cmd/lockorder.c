/*
 * lockorder.c - `weft lockorder`: prints the lock-order graph's cycles
 * (lockgraph.c, in the library, builds the graph and finds them), each a
 * potential deadlock, with the threads and sites that made it, in text
 * or JSON; a guarded cycle is listed and does not count for --fail.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "commands.h"
#include "common.h"
#include "lockgraph.h"
#include "names.h"
#include "text.h"
#include "traces.h"

struct lockorder {
	struct timeline *tl;
	int json;
	uint64_t max_cycles;
	const struct trace_set *set;
};

/* One trace's lock-order graph. */
struct graph_of {
	struct trace_input *in;
	struct timeline *tl;
	struct lockgraph *g;
	struct lock_search found;
};

static const char *mode_word(enum tl_lock_kind kind, unsigned shared)
{
	return kind != TL_LOCK_RWLOCK ? "" : shared ? " (read)" : " (write)";
}

/* Prints one cycle as the search finds it. */
static void print_cycle(void *p, const struct lock_cycle *c)
{
	const struct lockorder *o = p;
	const struct lock_edge *const *cyc = c->edges;
	uint32_t k = c->n;
	const uint8_t *pick = c->pick;
	uint64_t gate = c->gate;
	char held[1024], taken[1024], who[96], name[WEFT_NAME_MAX],
	     other[WEFT_NAME_MAX];
	const struct weft_tables *t = tl_tables(o->tl);
	if (o->json) {
		printf("%s\n{\"locks\":[", c->listed > 1 ? "," : "");
		for (uint32_t i = 0; i < k; i++)
			printf("%s\"0x%" PRIx64 "\"", i ? "," : "", cyc[i]->from);
		printf("],\"names\":[");
		for (uint32_t i = 0; i < k; i++) {
			weft_object_name(t, cyc[i]->from, name, sizeof name);
			printf("%s", i ? "," : "");
			weft_json_string(stdout, name);
		}
		if (gate)
			printf("],\"guarded_by\":\"0x%" PRIx64 "\",\"edges\":[", gate);
		else
			printf("],\"guarded_by\":null,\"edges\":[");
	} else {
		printf("\n%s %" PRIu64 ": ", gate ? "guarded cycle" : "cycle", c->number);
		for (uint32_t i = 0; i < k; i++) {
			weft_object_name(t, cyc[i]->from, name, sizeof name);
			printf("%s %s -> ", tl_lock_names[cyc[i]->from_kind], name);
		}
		weft_object_name(t, cyc[0]->from, name, sizeof name);
		printf("%s %s%s\n", tl_lock_names[cyc[0]->from_kind], name,
		       gate ? "" : " (potential deadlock)");
		if (gate) {
			weft_object_name(t, gate, name, sizeof name);
			printf("  not a deadlock: every edge was made holding %s\n", name);
		}
	}
	for (uint32_t i = 0; i < k; i++) {
		const struct lock_edge *e = cyc[i];
		const struct lock_witness *w = &e->w[pick[i]];
		tl_site_text(o->tl, &w->held_site, 6, held, sizeof held);
		tl_site_text(o->tl, &w->taken_site, 6, taken, sizeof taken);
		if (o->json) {
			printf("%s{\"from\":\"0x%" PRIx64 "\",\"to\":\"0x%" PRIx64
			       "\",\"thread\":%u,\"count\":%" PRIu64 ",\"threads\":[",
			       i ? "," : "", e->from, e->to, w->serial, e->count);
			for (uint32_t t = 0; t < e->nthreads; t++)
				printf("%s%u", t ? "," : "", e->threads[t]);
			printf("],\"held_shared\":%s,\"taken_shared\":%s,\"held_at\":",
			       pick[i] >> 1 ? "true" : "false", pick[i] & 1 ? "true" : "false");
			weft_json_string(stdout, held);
			printf(",\"taken_at\":");
			weft_json_string(stdout, taken);
			printf("}");
			continue;
		}
		tl_thread_label(o->tl, w->serial, who, sizeof who);
		weft_object_name(t, e->to, name, sizeof name);
		weft_object_name(t, e->from, other, sizeof other);
		printf("  %s took %s %s%s while holding %s %s%s"
		       " (%" PRIu64 " time%s", who, tl_lock_names[e->to_kind], name,
		       mode_word(e->to_kind, pick[i] & 1), tl_lock_names[e->from_kind],
		       other, mode_word(e->from_kind, pick[i] >> 1), e->count,
		       e->count == 1 ? "" : "s");
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

static void count_cycle(void *p, const struct lock_cycle *c)
{
	(void)p;
	(void)c;
}

/* One trace's graph and cycles, as text or as one JSON object. */
static void print_graph(struct lockorder *o, struct graph_of *gr)
{
	const char *path = gr->in->path;
	struct lockgraph *g = gr->g;
	o->tl = gr->tl;
	if (o->json) {
		printf("{\"file\":");
		weft_json_string(stdout, path);
		printf(",\"process\":");
		trace_json_process(stdout, o->set, gr->in);
		printf(",\"locks\":%u,\"edges\":%u,\"cycles\":[", lockgraph_locks(g),
		       lockgraph_edges(g));
	} else {
		printf("%s: %u locks, %u lock-order edges\n", path, lockgraph_locks(g),
		       lockgraph_edges(g));
		/* (No lock is held in the timeline of such a generation.) */
		const struct weft_check_result *res = tl_result(o->tl);
		if (res->contention_generations)
			printf("%s: %u of %u generations recorded in contention mode: "
			       "no lock orders there\n", path,
			       res->contention_generations, res->generations);
	}
	struct lock_search found;
	lockgraph_find_cycles(g, o->max_cycles, print_cycle, o, &found);
	if (o->json) {
		printf("],\"deadlock_cycles\":%" PRIu64 ",\"guarded_cycles\":%" PRIu64
		       ",\"read_only_cycles\":%" PRIu64 ",\"search_stopped\":%s}",
		       found.reported, found.guarded, found.read_only,
		       found.stopped ? "true" : "false");
	} else {
		printf("\n%" PRIu64 " cycle%s (potential deadlock%s)", found.reported,
		       found.reported == 1 ? "" : "s", found.reported == 1 ? "" : "s");
		if (found.guarded)
			printf(", %" PRIu64 " guarded by a gate lock", found.guarded);
		if (found.read_only)
			printf(", %" PRIu64 " left out (readers only)", found.read_only);
		printf("\n");
		if (found.stopped)
			printf("the search stopped early (--max-cycles %" PRIu64 "): there "
			       "may be more\n", o->max_cycles);
	}
}

/* One trace as it is; several as one headline (the potential deadlocks
 * of every process, and the process with the most), then a section per
 * process in tree order, titled with its pid, parent and command line. */
static void print_report(struct lockorder *o, struct graph_of *graphs, unsigned n,
			 int several)
{
	if (!several) {
		print_graph(o, &graphs[0]);
		if (o->json)
			printf("\n");
		return;
	}
	uint64_t total = 0;
	unsigned most = 0;
	for (unsigned i = 0; i < n; i++) {
		total += graphs[i].found.reported;
		if (graphs[i].found.reported > graphs[most].found.reported)
			most = i;
	}
	char head[512], name[64], title[2048];
	const struct trace_input *m = graphs[most].in;
	weft_safe_text(name, sizeof name, weft_process_name(&m->proc), 32);
	if (total)
		snprintf(head, sizeof head, "%u process%s, %" PRIu64 " cycle%s (potential "
			 "deadlock%s) in all; most in pid %" PRIu64 " (%s): %" PRIu64, n,
			 n == 1 ? "" : "es", total, total == 1 ? "" : "s",
			 total == 1 ? "" : "s", m->proc.pid, name,
			 graphs[most].found.reported);
	else
		snprintf(head, sizeof head, "%u process%s, no cycle (potential deadlock) "
			 "in any", n, n == 1 ? "" : "es");
	if (o->json) {
		printf("{\"headline\":");
		weft_json_string(stdout, head);
		printf(",\"deadlock_cycles\":%" PRIu64 ",\"processes\":[\n", total);
	} else {
		printf("%s\n", head);
	}
	for (unsigned i = 0; i < n; i++) {
		if (o->json) {
			if (i)
				printf(",\n");
		} else {
			trace_title(graphs[i].in, title, sizeof title);
			printf("\n== %*s%s\n", 2 * (int)graphs[i].in->depth, "", title);
		}
		print_graph(o, &graphs[i]);
	}
	if (o->json)
		printf("]}\n");
}

static const char lockorder_usage[] =
	"usage: weft lockorder [--fail] [--json] [--max-cycles N] [--jobs N]\n"
	"                      FILE|DIR...\n"
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
	"Several traces (files, or a directory: every weft trace in it) get a\n"
	"graph each (locks are not shared between processes): one headline, the\n"
	"cycles of all and the process with the most, then a section per\n"
	"process, parent before children, titled with its pid, parent and\n"
	"command line.  JSON: {\"headline\", \"deadlock_cycles\", \"processes\":\n"
	"[one trace's object each]}, each with its \"process\".\n"
	"\n"
	"  -f, --fail           exit 1 when there is a cycle that is not guarded\n"
	"                       (in any of the traces)\n"
	"  -j, --json           one JSON object instead of text\n"
	"  -m, --max-cycles N   stop after N cycles (default 100)\n"
	"      --jobs N         check the trace on N threads, as weft check\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show weft's version\n"
	"\n"
	"Exit status: 1 with --fail when a cycle was found; otherwise as weft\n"
	"check: 0, 1 inconsistent, 2 cannot be read or bad arguments, 3\n"
	"truncated (the part that was written is analysed); of several traces,\n"
	"the worst, the others still analysed.\n";

int weft_cmd_lockorder(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "fail", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "max-cycles", required_argument, NULL, 'm' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct lockorder o = { 0 };
	uint64_t max_cycles = 100;
	int fail = 0, c;
	unsigned jobs = weft_default_jobs();
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "fjm:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f': fail = 1; break;
		case 'j': o.json = 1; break;
		case 'm':
			max_cycles = strtoull(optarg, &end, 10);
			if (!*optarg || *end || max_cycles == 0) {
				fprintf(stderr, "weft lockorder: --max-cycles wants a positive "
					"number, not '%s'\n", optarg);
				return WEFT_EXIT_USAGE;
			}
			break;
		case 'J':
			if (weft_parse_jobs("lockorder", optarg, &jobs) < 0)
				return WEFT_EXIT_USAGE;
			break;
		case 'h': fputs(lockorder_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(lockorder_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	struct trace_set set;
	int status = traces_open(&set, argv + optind, argc - optind, "lockorder");
	if (status) {
		fputs(lockorder_usage, stderr);
		return status;
	}
	struct graph_of *graphs = calloc(set.n ? set.n : 1, sizeof *graphs);
	if (!graphs)
		abort();
	unsigned n = 0;
	for (unsigned i = 0; i < set.n; i++) {
		struct timeline *tl = trace_timeline(&set, &set.list[i], jobs, "lockorder");
		if (!tl)
			continue;
		struct graph_of *gr = &graphs[n++];
		gr->in = &set.list[i];
		gr->tl = tl;
		gr->g = lockgraph_new();
		tl_run(gr->tl, lockgraph_add, gr->g);
		/* Counted first, for the headline over every process. */
		lockgraph_find_cycles(gr->g, max_cycles, count_cycle, NULL, &gr->found);
	}
	o.max_cycles = max_cycles;
	o.set = &set;
	if (n)
		print_report(&o, graphs, n, set.several);
	fflush(stdout);
	status = set.status;
	for (unsigned i = 0; i < n; i++) {
		status = weft_check_exit(status, weft_report_partial(
			"lockorder", graphs[i].in->path, tl_result(graphs[i].tl)));
		if (fail && graphs[i].found.reported)
			status = weft_check_exit(status, WEFT_EXIT_BAD);
		lockgraph_free(graphs[i].g);
		tl_close(graphs[i].tl);
	}
	free(graphs);
	traces_free(&set);
	return status;
}
