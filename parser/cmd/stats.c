/*
 * stats.c - `weft stats`: where each thread's time went, which locks
 * cost most (mutrace's numbers, from a trace), what the other waits and
 * the system calls cost, as tables sized to the terminal or as JSON.
 * The numbers are added up by costs.c, in the library; this prints them.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "commands.h"
#include "common.h"
#include "costs.h"
#include "stuck_report.h"
#include "text.h"
#include "traces.h"

/* What a run of weft stats prints from, for one trace. */
struct stats {
	const char *path;
	const struct trace_set *set;
	const struct trace_input *in;
	struct timeline *tl;
	struct costs *c;
	struct stuck *stuck;
	const char *lock_filter;
};

/* A tl_fn giving each item to the costs and to the deadlock search. */
static void add_item(void *ctx, const struct tl_item *item)
{
	struct stats *st = ctx;
	costs_add(st->c, item);
	stuck_add(st->stuck, item);
}

/* ---- text ---- */

static int terminal_width(void)
{
	const char *c = getenv("COLUMNS");
	if (c) {
		char *end;
		long v = strtol(c, &end, 10);
		if (*c && !*end && v >= 40 && v <= 1000)
			return (int)v;
	}
	struct winsize ws;
	if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 &&
	    ws.ws_col >= 40)
		return ws.ws_col;
	return 80;
}

static const char *dur(int64_t ns, char *buf)
{
	tl_format_ns(ns, buf, 16);
	return buf;
}

/* Prints s cut to width columns. */
static void print_cut(const char *s, int width)
{
	int len = (int)strlen(s);
	if (len <= width)
		printf("%s\n", s);
	else if (width > 3)
		printf("%.*s...\n", width - 3, s);
	else
		putchar('\n');
}

/* Prints s folded at spaces to lines of at most width columns. */
static void print_wrapped(const char *s, int width)
{
	while ((int)strlen(s) > width) {
		int cut = width;
		while (cut > 0 && s[cut] != ' ')
			cut--;
		if (cut == 0)
			cut = width;
		printf("%.*s\n", cut, s);
		s += cut;
		while (*s == ' ')
			s++;
	}
	if (*s)
		printf("%s\n", s);
}

/* The kind of time off CPU threads spent most in, TL_RUNNING when none. */
static enum tl_kind most_off_cpu(const struct costs *c)
{
	enum tl_kind most = TL_RUNNING;
	for (int k = TL_SYSCALL; k < TL_NKINDS; k++)
		if (c->blocked_in_kind[k] > c->blocked_in_kind[most])
			most = (enum tl_kind)k;
	return most;
}

static void headline(struct stats *st, char *buf, size_t cap)
{
	char a[16], b[16], who[64];
	int64_t alive = costs_total_alive(st->c);
	const struct costs_object *o = costs_costliest_lock(st->c, st->lock_filter);
	if (o) {
		const struct costs_blame *w = o->worst_blame;
		double pct = alive ? 100.0 * (double)o->wait_total / (double)alive : 0.0;
		char share[32];
		if (pct < 0.1)
			snprintf(share, sizeof share, "under 0.1%%");
		else
			snprintf(share, sizeof share, "%.1f%%", pct);
		int n = snprintf(buf, cap, "Costliest lock: %s %s%s%s: threads "
				 "waited %s for it (%s of thread time), %" PRIu64 " of %"
				 PRIu64 " acquisitions contended", o->kind, o->name,
				 o->symbol[0] ? " at " : "", o->symbol, dur(o->wait_total, a),
				 share, o->contended, o->acquisitions);
		if (w && n > 0 && (size_t)n < cap) {
			tl_thread_label(st->tl, w->serial, who, sizeof who);
			snprintf(buf + n, cap - (size_t)n, "; %s held it for %s of that wait",
				 who, dur(w->ns, b));
		}
		return;
	}
	enum tl_kind most = most_off_cpu(st->c);
	if (most == TL_RUNNING)
		snprintf(buf, cap, "No thread waited for a lock, and none blocked.");
	else
		snprintf(buf, cap, "No thread waited for a lock; the most time off CPU "
			 "went to %s (%s in all).", most == TL_SYSCALL ? "system calls"
			 : most == TL_SLEEP ? "sleeping" : tl_kind_names[most],
			 dur(st->c->blocked_in_kind[most], a));
}

/* Under the threads table: each thread whose running time hides time it
 * was not on a CPU, said plainly. */
static void print_unseen(struct stats *st, const struct costs_thread *rows,
			 uint32_t n, int top, int width)
{
	char a[16], b[16], c[16], label[96], line[512];
	for (uint32_t i = 0; i < n && (int)i < top; i++) {
		if (!rows[i].unseen)
			continue;
		tl_thread_label(st->tl, rows[i].t->serial, label, sizeof label);
		snprintf(line, sizeof line, "%s: running %s but on a CPU %s: %s of its "
			 "running time was not on a CPU, in waits weft cannot see (raw "
			 "futex, io_uring, direct syscall(), page faults, preemption).",
			 label, dur(rows[i].t->in_ns[TL_RUNNING], a), dur(rows[i].cpu, b),
			 dur(rows[i].unseen, c));
		print_wrapped(line, width);
	}
}

static void print_threads(struct stats *st, int width, int top)
{
	uint32_t n;
	struct costs_thread *rows = costs_threads(st->c, &n);
	/* One column per state any thread was in; the smallest merge into
	 * "other" until the table fits.  The CPU time comes after running
	 * when the trace gives it. */
	int64_t sum[TL_NKINDS] = { 0 };
	int cpu = 0;
	for (uint32_t i = 0; i < n; i++) {
		for (int k = 0; k < TL_NKINDS; k++)
			sum[k] += rows[i].t->in_ns[k];
		cpu |= rows[i].cpu_known;
	}
	int shown[TL_NKINDS], nshown = 0, other = 0;
	for (int k = 0; k < TL_NKINDS; k++) {
		shown[k] = k == TL_RUNNING || sum[k] > 0;
		nshown += shown[k];
	}
	while (24 + 9 * (nshown + cpu + other + 1) > width && nshown > 1) {
		int smallest = -1;
		for (int k = 1; k < TL_NKINDS; k++)
			if (shown[k] && (smallest < 0 || sum[k] < sum[smallest]))
				smallest = k;
		if (smallest < 0)
			break;
		shown[smallest] = 0;
		nshown--;
		other = 1;
	}
	int name_w = width - 9 * (nshown + cpu + other + 1) - 1;
	if (name_w > 32)
		name_w = 32;
	printf("\nThreads, by time off CPU (traced time alive, split by state)\n");
	printf("%-*s %8s", name_w, "thread", "alive");
	for (int k = 0; k < TL_NKINDS; k++) {
		if (shown[k])
			printf(" %8s", tl_kind_names[k]);
		if (k == TL_RUNNING && cpu)
			printf(" %8s", "on-cpu");
	}
	if (other)
		printf(" %8s", "other");
	putchar('\n');
	char buf[16], label[96];
	for (uint32_t i = 0; i < n && (int)i < top; i++) {
		const struct tl_thread *t = rows[i].t;
		tl_thread_label(st->tl, t->serial, label, sizeof label);
		printf("%-*.*s %8s", name_w, name_w, label, dur(t->alive_ns, buf));
		int64_t rest = 0;
		for (int k = 0; k < TL_NKINDS; k++) {
			if (shown[k])
				printf(" %8s", t->in_ns[k] ? dur(t->in_ns[k], buf) : "-");
			else
				rest += t->in_ns[k];
			if (k == TL_RUNNING && cpu)
				printf(" %8s", rows[i].cpu_known ? dur(rows[i].cpu, buf) : "?");
		}
		if (other)
			printf(" %8s", rest ? dur(rest, buf) : "-");
		putchar('\n');
	}
	if (n > (uint32_t)top)
		printf("(%u more; --top N shows more)\n", n - (uint32_t)top);
	print_unseen(st, rows, n, top, width);
	free(rows);
}

/* The most frequent site a lock or object was waited for at, under its
 * row. */
static void print_top_site(struct stats *st, const struct costs_object *o,
			   const char *verb, int width)
{
	if (!o->top_site)
		return;
	char site[768], line[1024];
	tl_site_text(st->tl, &o->top_site->site, 4, site, sizeof site);
	snprintf(line, sizeof line, "    %s most at (%" PRIu64 " of %" PRIu64 "): %s",
		 verb, o->top_site->count, o->waits, site);
	print_cut(line, width);
}

/* Sites a lock's holders took it at, under its row. */
#define HOLD_SITES_SHOWN 3

/* "1 hold", "12 holds, 1 in progress at the end", then what others
 * waited while it was held there. */
static void hold_site_counts(const struct costs_hold_site *h, char *buf,
			     size_t cap)
{
	char w[16];
	int n = snprintf(buf, cap, "%" PRIu64 " hold%s", h->holds,
			 h->holds == 1 ? "" : "s");
	if (h->in_progress && n > 0 && (size_t)n < cap)
		n += snprintf(buf + n, cap - (size_t)n, "%s in progress at the end",
			      h->holds == 1 ? "" : h->in_progress == 1 ? ", 1"
			      : ", some");
	if (h->caused_wait_ns && n > 0 && (size_t)n < cap)
		snprintf(buf + n, cap - (size_t)n, ", others waited %s",
			 dur(h->caused_wait_ns, w));
}

static void print_hold_sites(struct stats *st, const struct costs_object *o,
			     int width)
{
	char site[768], counts[128], held[16], line[1024];
	for (uint32_t i = 0; i < o->nhold_sites && i < HOLD_SITES_SHOWN; i++) {
		const struct costs_hold_site *h = o->hold_sites[i];
		tl_site_text(st->tl, &h->site, 4, site, sizeof site);
		hold_site_counts(h, counts, sizeof counts);
		snprintf(line, sizeof line, "    held %s at (%s): %s",
			 dur(h->held_ns, held), counts, site);
		print_cut(line, width);
	}
	if (o->nhold_sites > HOLD_SITES_SHOWN) {
		snprintf(line, sizeof line, "    (held at %u more sites; --json lists "
			 "them)", o->nhold_sites - HOLD_SITES_SHOWN);
		print_cut(line, width);
	}
}

/* After a table's rows: that it had none, or how many --top left out. */
static void print_table_end(int shown, int more)
{
	if (!shown)
		printf("(none)\n");
	if (more)
		printf("(%d more; --top N shows more)\n", more);
}

/* The width of the name column: the longest name of the objects the
 * table shows (locks, or the others), from 14 to 48. */
static int name_width(struct stats *st, int locks)
{
	int w = 14;
	for (uint32_t i = 0; i < st->c->nobjects; i++) {
		const struct costs_object *o = st->c->objects[i];
		if ((o->is_lock != 0) != locks || !costs_object_matches(o, st->lock_filter))
			continue;
		int n = (int)strlen(o->name);
		if (n > w)
			w = n < 48 ? n : 48;
	}
	return w;
}

static void print_locks(struct stats *st, int width, int top)
{
	char b[6][16], line[1024], who[64];
	int shown = 0, more = 0;
	/* Narrow terminals lose the maximum columns. */
	int maxima = width >= 80;
	int name_w = name_width(st, 1);
	printf("\nLocks, by time threads waited for them\n");
	printf("%-*s %-6s %8s %9s %9s", name_w, "lock", "kind", "acquired", "contended", "wait");
	if (maxima)
		printf(" %9s", "max wait");
	printf(" %9s", "held");
	if (maxima)
		printf(" %9s", "max held");
	putchar('\n');
	for (uint32_t i = 0; i < st->c->nobjects; i++) {
		const struct costs_object *o = st->c->objects[i];
		if (!o->is_lock || !costs_object_matches(o, st->lock_filter))
			continue;
		if (shown == top) {
			more++;
			continue;
		}
		shown++;
		printf("%-*s %-6s %8" PRIu64 " %9" PRIu64 " %9s", name_w, o->name,
		       o->kind, o->acquisitions, o->contended, dur(o->wait_total, b[0]));
		if (maxima)
			printf(" %9s", dur(o->wait_max, b[1]));
		/* (Contention mode records no releases: no hold times.) */
		printf(" %9s", o->holds_unseen ? "-" : dur(o->hold_total, b[2]));
		if (maxima)
			printf(" %9s", o->holds_unseen ? "-" : dur(o->hold_max, b[3]));
		putchar('\n');
		const struct costs_blame *w = o->worst_blame;
		if (w) {
			tl_thread_label(st->tl, w->serial, who, sizeof who);
			snprintf(line, sizeof line, "    made others wait longest: %s, %s",
				 who, dur(w->ns, b[4]));
			print_cut(line, width);
		}
		print_top_site(st, o, "blocked", width);
		print_hold_sites(st, o, width);
	}
	print_table_end(shown, more);
}

static void print_waits(struct stats *st, int width, int top)
{
	char b[3][16];
	int shown = 0, more = 0;
	int name_w = name_width(st, 0);
	printf("\nOther waits (condvars, semaphores, barriers), by total\n");
	printf("%-*s %-8s %8s %9s %9s\n", name_w, "object", "kind", "waits", "total", "max");
	for (uint32_t i = 0; i < st->c->nobjects; i++) {
		const struct costs_object *o = st->c->objects[i];
		if (o->is_lock || !costs_object_matches(o, st->lock_filter))
			continue;
		if (shown == top) {
			more++;
			continue;
		}
		shown++;
		printf("%-*s %-8s %8" PRIu64 " %9s %9s\n", name_w, o->name, o->kind,
		       o->waits, dur(o->wait_total, b[0]), dur(o->wait_max, b[1]));
		print_top_site(st, o, "waited", width);
	}
	print_table_end(shown, more);
}

static void sys_label(const struct costs_syscall *r, char *buf, size_t cap)
{
	const char *name = weft_syscall_name((uint64_t)r->call);
	if (r->fd == INT64_MIN)
		snprintf(buf, cap, "%s", name ? name : "?");
	else
		snprintf(buf, cap, "  %s fd %" PRId64, name ? name : "?", r->fd);
}

static void print_syscalls(struct stats *st, int width, int top)
{
	char b[5][16], label[64];
	int shown = 0, more = 0;
	/* Narrow terminals lose the error count and the median. */
	int full = width >= 76;
	printf("\nSystem calls, by total time blocked (then per descriptor)\n");
	printf("%-20s %8s", "call", "calls");
	if (full)
		printf(" %6s", "errors");
	printf(" %9s", "total");
	if (full)
		printf(" %9s", "p50");
	printf(" %9s %9s\n", "p99", "max");
	for (int pass = 0; pass < 2; pass++)
		for (uint32_t i = 0; i < st->c->nsyscalls; i++) {
			const struct costs_syscall *r = st->c->syscalls[i];
			if ((r->fd == INT64_MIN) != (pass == 0))
				continue;
			if (shown == top) {
				more++;
				continue;
			}
			shown++;
			sys_label(r, label, sizeof label);
			printf("%-20s %8" PRIu64, label, r->calls);
			if (full)
				printf(" %6" PRIu64, r->errors);
			printf(" %9s", dur(r->total, b[0]));
			if (full)
				printf(" %9s", dur((int64_t)r->p50, b[1]));
			printf(" %9s %9s\n", dur((int64_t)r->p99, b[2]),
			       dur(r->max, b[3]));
		}
	print_table_end(shown, more);
}

static void print_banner(struct stats *st, int width)
{
	const struct weft_check_result *res = tl_result(st->tl);
	char span[16], line[1024];
	char name[64];
	weft_safe_text(name, sizeof name, weft_process_name(&st->in->proc), 32);
	snprintf(line, sizeof line, "%s: pid %" PRIu64 " (%s), %u threads, %s, %u "
	       "generation%s, %u session%s%s", st->path, tl_header(st->tl)->pid, name,
	       res->threads,
	       dur(tl_span_ns(st->tl), span), res->generations,
	       res->generations == 1 ? "" : "s", tl_sessions(st->tl),
	       tl_sessions(st->tl) == 1 ? "" : "s",
	       res->verdict == WEFT_CHECK_TRUNCATED ? ", truncated" : "");
	print_cut(line, width);
	if (res->lost) {
		snprintf(line, sizeof line, "%" PRIu64 " events were lost: every count "
			 "and time below is a lower bound", res->lost);
		print_wrapped(line, width);
	}
}

/* ---- JSON ---- */

static void print_json_hold_sites(struct stats *st, const struct costs_object *o)
{
	if (!o->is_lock)
		return;
	printf(",\"hold_sites\":[");
	for (uint32_t i = 0; i < o->nhold_sites; i++) {
		const struct costs_hold_site *h = o->hold_sites[i];
		char site[1024], symbol[512];
		tl_site_text(st->tl, &h->site, 8, site, sizeof site);
		printf("%s{\"pc\":\"0x%" PRIx64 "\",\"symbol\":", i ? "," : "", h->pc);
		weft_json_string_or_null(stdout, tl_site_symbol(st->tl, &h->site, symbol,
								 sizeof symbol));
		printf(",\"stack\":");
		weft_json_string(stdout, site);
		uint32_t npcs = 0;
		const uint64_t *pcs = h->site.stack
			? weft_tables_stack(tl_tables(st->tl), h->site.gen, h->site.stack,
					    &npcs) : NULL;
		printf(",\"pcs\":[");
		for (uint32_t k = 0; pcs && k < npcs; k++)
			printf("%s\"0x%" PRIx64 "\"", k ? "," : "", pcs[k]);
		printf("],\"holds\":%" PRIu64 ",\"held_ns\":%" PRId64 ",\"caused_wait_ns\":%"
		       PRId64 ",\"in_progress\":%" PRIu64 ",\"in_progress_ns\":%" PRId64 "}",
		       h->holds, h->held_ns, h->caused_wait_ns, h->in_progress,
		       h->in_progress_ns);
	}
	printf("]");
}

static void print_json(struct stats *st, const char *head, int top)
{
	const struct weft_check_result *res = tl_result(st->tl);
	printf("{\"file\":");
	weft_json_string(stdout, st->path);
	printf(",\"process\":");
	trace_json_process(stdout, st->set, st->in);
	printf(",\"pid\":%" PRIu64 ",\"span_ns\":%" PRId64 ",\"generations\":%u,"
	       "\"sessions\":%u,\"lost\":%" PRIu64 ",\"lower_bounds\":%s,"
	       "\"complete\":%s,\"headline\":", tl_header(st->tl)->pid,
	       tl_span_ns(st->tl), res->generations, tl_sessions(st->tl), res->lost,
	       res->lost ? "true" : "false",
	       res->verdict == WEFT_CHECK_OK ? "true" : "false");
	weft_json_string(stdout, head);
	stuck_report_json(stdout, st->tl, st->stuck);
	printf(",\n\"threads\":[");
	uint32_t n;
	struct costs_thread *rows = costs_threads(st->c, &n);
	for (uint32_t i = 0; i < n && (int)i < top; i++) {
		const struct tl_thread *t = rows[i].t;
		printf("%s\n{\"serial\":%u,\"name\":", i ? "," : "", t->serial);
		weft_json_string_or_null(stdout, t->name);
		printf(",\"parent\":%u,\"tid\":%" PRIu64 ",\"alive_ns\":%" PRId64
		       ",\"lost\":%" PRIu64, t->parent, t->tid, t->alive_ns, t->lost);
		for (int k = 0; k < TL_NKINDS; k++)
			printf(",\"%s_ns\":%" PRId64, tl_kind_names[k], t->in_ns[k]);
		if (rows[i].cpu_known)
			printf(",\"on_cpu_ns\":%" PRId64 ",\"unseen_off_cpu_ns\":%" PRId64,
			       rows[i].cpu, rows[i].unseen);
		else
			printf(",\"on_cpu_ns\":null,\"unseen_off_cpu_ns\":null");
		printf("}");
	}
	free(rows);
	printf("],\n\"objects\":[");
	int i = 0;
	for (uint32_t j = 0; j < st->c->nobjects; j++) {
		const struct costs_object *o = st->c->objects[j];
		if (!costs_object_matches(o, st->lock_filter) || i >= top)
			continue;
		printf("%s\n{\"address\":\"0x%" PRIx64 "\",\"kind\":\"%s\",\"lock\":%s,"
		       "\"acquisitions\":%" PRIu64 ",\"contended\":%" PRIu64 ",\"waits\":%"
		       PRIu64 ",\"wait_ns\":%" PRId64 ",\"max_wait_ns\":%" PRId64
		       ",\"hold_ns\":%" PRId64 ",\"max_hold_ns\":%" PRId64
		       ",\"holds_known\":%s",
		       i++ ? "," : "", o->addr, o->kind, o->is_lock ? "true" : "false",
		       o->acquisitions, o->contended, o->waits, o->wait_total, o->wait_max,
		       o->hold_total, o->hold_max, o->holds_unseen ? "false" : "true");
		printf(",\"name\":");
		weft_json_string(stdout, o->name);
		const struct costs_blame *w = o->worst_blame;
		if (w)
			printf(",\"longest_holder\":{\"serial\":%u,\"caused_wait_ns\":%"
			       PRId64 "}", w->serial, w->ns);
		if (o->top_site) {
			char site[1024];
			tl_site_text(st->tl, &o->top_site->site, 8, site, sizeof site);
			printf(",\"top_site\":{\"count\":%" PRIu64 ",\"symbol\":",
			       o->top_site->count);
			weft_json_string(stdout, o->symbol);
			printf(",\"stack\":");
			weft_json_string(stdout, site);
			printf("}");
		}
		print_json_hold_sites(st, o);
		printf("}");
	}
	printf("],\n\"syscalls\":[");
	i = 0;
	for (uint32_t j = 0; j < st->c->nsyscalls; j++) {
		const struct costs_syscall *r = st->c->syscalls[j];
		if (i >= top)
			break;
		printf("%s\n{\"call\":\"%s\"", i++ ? "," : "",
		       weft_syscall_name((uint64_t)r->call));
		if (r->fd != INT64_MIN)
			printf(",\"fd\":%" PRId64, r->fd);
		printf(",\"calls\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"total_ns\":%" PRId64
		       ",\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 ",\"max_ns\":%" PRId64
		       "}", r->calls, r->errors, r->total, r->p50, r->p99,
		       r->max);
	}
	printf("]}\n");
}

/* ---- several processes ---- */

/* What the headline of st is about: the wait on its costliest lock
 * (*lock set), else its largest kind of time off CPU. */
static int64_t headline_cost(const struct stats *st, int *lock)
{
	const struct costs_object *o = costs_costliest_lock(st->c, st->lock_filter);
	*lock = o != NULL;
	if (o)
		return o->wait_total;
	enum tl_kind most = most_off_cpu(st->c);
	return most == TL_RUNNING ? 0 : st->c->blocked_in_kind[most];
}

/* The trace whose headline is the costliest: a lock wait before any other
 * time off CPU. */
static unsigned costliest(struct stats *sts, unsigned n)
{
	unsigned best = 0;
	int best_lock = 0;
	int64_t best_cost = -1;
	for (unsigned i = 0; i < n; i++) {
		int lock;
		int64_t cost = headline_cost(&sts[i], &lock);
		if (lock > best_lock || (lock == best_lock && cost > best_cost)) {
			best = i;
			best_lock = lock;
			best_cost = cost;
		}
	}
	return best;
}

static void print_tables(struct stats *st, int width, int top)
{
	print_threads(st, width, top);
	print_locks(st, width, top);
	print_waits(st, width, top);
	print_syscalls(st, width, top);
}

/* The processes, one a line, in tree order (a child indented under its
 * parent): pid, threads, traced time, time off CPU, command line. */
static void print_process_tree(struct stats *sts, unsigned n, int width)
{
	char line[2400], command[2048], span[16], off[16];
	printf("\nProcesses, parent before children (then a section each)\n");
	printf("%-16s %7s %8s %8s  %s\n", "pid", "threads", "traced", "off CPU",
	       "command");
	for (unsigned i = 0; i < n; i++) {
		const struct stats *st = &sts[i];
		int64_t blocked = 0;
		for (int k = TL_SYSCALL; k < TL_NKINDS; k++)
			blocked += st->c->blocked_in_kind[k];
		char pid[40];
		snprintf(pid, sizeof pid, "%*s%" PRIu64, 2 * (int)st->in->depth, "",
			 st->in->proc.pid);
		weft_process_command(&st->in->proc, command, sizeof command);
		snprintf(line, sizeof line, "%-16s %7u %8s %8s  %s", pid,
			 tl_result(st->tl)->threads, dur(tl_span_ns(st->tl), span),
			 blocked ? dur(blocked, off) : "-", command);
		print_cut(line, width);
	}
}

/* The answer for n traces: one trace as it is; several as the deadlocks
 * and stuck threads of each, one headline (the costliest across them),
 * then a section per process, in tree order, titled with its pid, parent
 * and command line. */
static void print_report(struct stats *sts, unsigned n, int several, int json,
			 int top)
{
	char head[1024], line[2400], title[2048];
	if (!several) {
		headline(&sts[0], head, sizeof head);
		if (json) {
			print_json(&sts[0], head, top);
			return;
		}
		int width = terminal_width();
		print_banner(&sts[0], width);
		stuck_report_text(stdout, sts[0].tl, sts[0].stuck, "");
		print_wrapped(head, width);
		print_tables(&sts[0], width, top);
		return;
	}
	struct stats *worst = &sts[costliest(sts, n)];
	headline(worst, head, sizeof head);
	char name[64];
	weft_safe_text(name, sizeof name, weft_process_name(&worst->in->proc), 32);
	snprintf(line, sizeof line, "%u process%s; the costliest wait is in pid %"
		 PRIu64 " (%s): %s", n, n == 1 ? "" : "es", worst->in->proc.pid, name,
		 head);
	if (json) {
		printf("{\"headline\":");
		weft_json_string(stdout, line);
		printf(",\"processes\":[\n");
		for (unsigned i = 0; i < n; i++) {
			headline(&sts[i], head, sizeof head);
			if (i)
				printf(",\n");
			print_json(&sts[i], head, top);
		}
		printf("]}\n");
		return;
	}
	int width = terminal_width();
	/* What any process ends deadlocked or stuck in comes first. */
	for (unsigned i = 0; i < n; i++) {
		char prefix[48];
		snprintf(prefix, sizeof prefix, "pid %" PRIu64 ": ", sts[i].in->proc.pid);
		stuck_report_text(stdout, sts[i].tl, sts[i].stuck, prefix);
	}
	print_wrapped(line, width);
	print_process_tree(sts, n, width);
	for (unsigned i = 0; i < n; i++) {
		struct stats *st = &sts[i];
		trace_title(st->in, title, sizeof title);
		snprintf(line, sizeof line, "\n== %*s%s", 2 * (int)st->in->depth, "",
			 title);
		print_cut(line, width);
		print_banner(st, width);
		stuck_report_text(stdout, st->tl, st->stuck, "");
		headline(st, head, sizeof head);
		print_wrapped(head, width);
		print_tables(st, width, top);
	}
}

static const char stats_usage[] =
	"usage: weft stats [--json] [--top N] [--thread [PID:]SERIAL|NAME]\n"
	"                  [--lock NAME|ADDRESS] [--jobs N] FILE|DIR...\n"
	"\n"
	"Where the time of a trace went.  First, the threads the trace ends\n"
	"in a deadlock (each blocked on a lock, or a join, the next holds),\n"
	"with where each waits and where each holder took its lock, and the\n"
	"threads stuck to the end on what nobody holds (a condvar, semaphore,\n"
	"barrier, a call that never returns).  A headline names the lock threads\n"
	"waited for longest; then tables, sorted by cost and sized to the\n"
	"terminal: threads (time alive, running, on a CPU, in system calls,\n"
	"asleep, and blocked on each kind of object, with a note for a thread\n"
	"whose running time was largely not on a CPU: waits weft cannot see),\n"
	"locks (acquisitions, contended ones, total and longest wait and hold,\n"
	"the thread whose holding made others wait longest, the most frequent\n"
	"blocking site when stacks were recorded, and the sites holders took\n"
	"it at, with the time held and the wait caused there, a hold the trace\n"
	"ends in marked as in progress), other waits (condvars, semaphores,\n"
	"barriers), and system calls by kind and by descriptor (calls, time\n"
	"blocked, p50/p99/max).\n"
	"\n"
	"Several traces (files, or a directory: every weft trace in it, as\n"
	"`weft record` leaves one per process) are answered together: one\n"
	"headline, the costliest wait across the processes; the processes as a\n"
	"tree; then a section per process, parent before children, titled with\n"
	"its pid, parent and command line.  JSON: {\"headline\", \"processes\":\n"
	"[one trace's object each]}, each with its \"process\".\n"
	"\n"
	"  -j, --json           one JSON object instead of tables (times in ns)\n"
	"  -n, --top N          rows per table (default 10, JSON all; 0 for all)\n"
	"  -t, --thread T       only the events of thread T (serial or name);\n"
	"                       PID:T for thread T of process PID, which several\n"
	"                       traces need (only that process is reported)\n"
	"  -l, --lock L         only lock or object L: its name as shown (qm,\n"
	"                       pool.lock; \"pool\" selects pool's members), its\n"
	"                       hex address, or a text in the symbol of its\n"
	"                       blocking site\n"
	"      --jobs N         check the trace on N threads, as weft check\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show weft's version\n"
	"\n"
	"Exit status: as weft check: 0 complete and consistent, 1 damaged or\n"
	"inconsistent (what precedes the problem is reported), 2 cannot be read\n"
	"or bad arguments, 3 truncated (what was written is reported); of\n"
	"several traces, the worst (1 before 3), the others still reported.\n";

int weft_cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 'n' },
		{ "thread", required_argument, NULL, 't' },
		{ "lock", required_argument, NULL, 'l' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *thread_filter = NULL, *lock_filter = NULL;
	int json = 0, top = -1, c;
	unsigned jobs = weft_default_jobs();
	char *end;
	optind = 1;
	while ((c = getopt_long(argc, argv, "jn:t:l:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'n':
			top = (int)strtol(optarg, &end, 10);
			if (!*optarg || *end || top < 0) {
				fprintf(stderr, "weft stats: --top wants a number, not '%s'\n",
					optarg);
				return WEFT_EXIT_USAGE;
			}
			if (top == 0)
				top = 1 << 30;
			break;
		case 't': thread_filter = optarg; break;
		case 'l': lock_filter = optarg; break;
		case 'J':
			if (weft_parse_jobs("stats", optarg, &jobs) < 0)
				return WEFT_EXIT_USAGE;
			break;
		case 'h': fputs(stats_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(stats_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	if (top < 0)
		top = json ? 1 << 30 : 10;
	uint64_t pid = 0;
	if (thread_filter && trace_thread_arg(thread_filter, &pid, &thread_filter) < 0) {
		fprintf(stderr, "weft stats: --thread %s: no process has pid 0\n",
			thread_filter);
		return WEFT_EXIT_USAGE;
	}
	struct trace_set set;
	int status = traces_open(&set, argv + optind, argc - optind, "stats");
	if (status) {
		fputs(stats_usage, stderr);
		return status;
	}
	if (set.several && thread_filter && !pid) {
		fprintf(stderr, "weft stats: --thread %s: there are several processes; "
			"say which, as --thread PID:%s\n", thread_filter, thread_filter);
		traces_free(&set);
		return WEFT_EXIT_USAGE;
	}
	struct stats *sts = calloc(set.n ? set.n : 1, sizeof *sts);
	if (!sts)
		abort();
	unsigned n = 0;
	for (unsigned i = 0; i < set.n; i++) {
		struct trace_input *t = &set.list[i];
		if (pid && t->proc.pid != pid)
			continue;
		struct timeline *tl = trace_timeline(&set, t, jobs, "stats");
		if (!tl)
			continue;
		struct stats *st = &sts[n++];
		*st = (struct stats){ .path = t->path, .set = &set, .in = t,
				      .lock_filter = lock_filter, .tl = tl };
		st->c = costs_new(st->tl, thread_filter);
		st->stuck = stuck_new(st->tl);
		tl_run(st->tl, add_item, st);
		costs_finish(st->c);
		stuck_finish(st->stuck);
	}
	if (pid && !n && !set.status) {
		fprintf(stderr, "weft stats: --thread %" PRIu64 ":%s: no trace is of "
			"pid %" PRIu64 "\n", pid, thread_filter, pid);
		status = WEFT_EXIT_USAGE;
	}
	if (n)
		print_report(sts, n, set.several, json, top);
	fflush(stdout);
	status = weft_check_exit(status, set.status);
	for (unsigned i = 0; i < n; i++) {
		status = weft_check_exit(status, weft_report_partial(
			"stats", sts[i].path, tl_result(sts[i].tl)));
		costs_free(sts[i].c);
		stuck_free(sts[i].stuck);
		tl_close(sts[i].tl);
	}
	free(sts);
	traces_free(&set);
	return status;
}
