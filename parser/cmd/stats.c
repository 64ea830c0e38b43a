/*
 * stats.c - `weft stats`: where each thread's time went, which locks
 * cost most (mutrace's numbers, from a trace), what the other waits and
 * the system calls cost, as tables sized to the terminal or as JSON.
 */
#include "common.h"

#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <uthash.h>

#include "timeline.h"

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

/* ---- accumulated rows ---- */

struct site_row {
	uint64_t hash;
	uint64_t count;
	struct tl_site site;
	UT_hash_handle hh;
};

struct blame {
	uint32_t serial;
	int64_t ns;
};

/* A lock, or another object threads wait on (cond, sem, barrier). */
struct obj_row {
	uint64_t addr;
	const char *kind;
	int is_lock;
	uint64_t acquisitions, contended, waits;
	int64_t wait_total, wait_max, hold_total, hold_max;
	struct blame *blame;
	uint32_t nblame;
	struct site_row *sites;
	char symbol[160];        /* of the most frequent blocking site */
	const struct site_row *top_site;
	UT_hash_handle hh;
};

struct sys_row {
	int64_t key[2];          /* syscall id, descriptor (INT64_MIN: all) */
	uint64_t calls, errors, sampled;
	int64_t total, max;
	uint64_t *hist;
	UT_hash_handle hh;
};

struct stats {
	struct timeline *tl;
	const char *thread_filter, *lock_filter;
	struct obj_row *objs;
	struct sys_row *sys;
	int64_t blocked_in_kind[TL_NKINDS];
};

static int thread_matches(const struct stats *st, const struct tl_thread *t)
{
	const char *f = st->thread_filter;
	if (!f)
		return 1;
	const char *num = f[0] == 'T' || f[0] == 't' ? f + 1 : f;
	char *end;
	unsigned long v = strtoul(num, &end, 10);
	if (*num && !*end)
		return v == t->serial;
	return t->name && !strcmp(t->name, f);
}

static struct obj_row *obj_row(struct stats *st, uint64_t addr, const char *kind,
			       int is_lock)
{
	struct obj_row *o;
	HASH_FIND(hh, st->objs, &addr, sizeof addr, o);
	if (o)
		return o;
	o = calloc(1, sizeof *o);
	if (!o)
		abort();
	o->addr = addr;
	o->kind = kind;
	o->is_lock = is_lock;
	HASH_ADD(hh, st->objs, addr, sizeof o->addr, o);
	return o;
}

static void add_blame(struct obj_row *o, uint32_t serial, int64_t ns)
{
	for (uint32_t i = 0; i < o->nblame; i++)
		if (o->blame[i].serial == serial) {
			o->blame[i].ns += ns;
			return;
		}
	o->blame = realloc(o->blame, (o->nblame + 1) * sizeof *o->blame);
	if (!o->blame)
		abort();
	o->blame[o->nblame++] = (struct blame){ serial, ns };
}

/* Sites are told apart by their program counters, not their stack ids,
 * which are per generation. */
static void add_site(struct stats *st, struct obj_row *o, const struct tl_site *s)
{
	uint32_t n = 0;
	const uint64_t *pcs = s->stack
		? weft_tables_stack(tl_tables(st->tl), s->gen, s->stack, &n) : NULL;
	if (!pcs)
		return;
	uint64_t h = 1469598103934665603ull;
	for (uint32_t i = 0; i < n; i++)
		h = (h ^ pcs[i]) * 1099511628211ull;
	struct site_row *r;
	HASH_FIND(hh, o->sites, &h, sizeof h, r);
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r)
			abort();
		r->hash = h;
		r->site = *s;
		HASH_ADD(hh, o->sites, hash, sizeof r->hash, r);
	}
	r->count++;
}

static void add_sys(struct stats *st, int64_t sys, int64_t fd, const struct tl_interval *iv)
{
	int64_t key[2] = { sys, fd };
	struct sys_row *r;
	HASH_FIND(hh, st->sys, key, sizeof key, r);
	if (!r) {
		r = calloc(1, sizeof *r);
		r->hist = r ? calloc(HIST_BUCKETS, sizeof *r->hist) : NULL;
		if (!r || !r->hist)
			abort();
		memcpy(r->key, key, sizeof key);
		HASH_ADD(hh, st->sys, key, sizeof r->key, r);
	}
	int64_t d = iv->end_ns - iv->begin_ns;
	r->calls += !iv->continued;
	r->errors += iv->err != 0;
	r->total += d - iv->delivered_ns;
	if (d > r->max)
		r->max = d;
	/* Latencies are those of calls whose end was seen. */
	if (!iv->cut) {
		r->hist[hist_index(d)]++;
		r->sampled++;
	}
}

/* Calls whose first argument is a descriptor worth a row of its own. */
static int per_fd(uint8_t sys)
{
	switch (sys) {
	case WEFT_SYS_read: case WEFT_SYS_write: case WEFT_SYS_pread:
	case WEFT_SYS_pwrite: case WEFT_SYS_readv: case WEFT_SYS_writev:
	case WEFT_SYS_recv: case WEFT_SYS_recvfrom: case WEFT_SYS_recvmsg:
	case WEFT_SYS_send: case WEFT_SYS_sendto: case WEFT_SYS_sendmsg:
	case WEFT_SYS_accept: case WEFT_SYS_accept4: case WEFT_SYS_connect:
	case WEFT_SYS_fsync: case WEFT_SYS_fdatasync:
		return 1;
	}
	return 0;
}

static const char *object_kind(enum tl_kind k)
{
	return tl_kind_names[k];
}

static void on_item(void *p, const struct tl_item *it)
{
	struct stats *st = p;
	if (!thread_matches(st, it->thread))
		return;
	struct obj_row *o;
	switch (it->type) {
	case TL_INTERVAL: {
		const struct tl_interval *iv = &it->iv;
		/* A wait continued across a stop counts once, in full. */
		int64_t d = iv->end_ns - iv->begin_ns, fresh = d - iv->delivered_ns;
		st->blocked_in_kind[iv->kind] += fresh;
		if (iv->kind == TL_SYSCALL || iv->kind == TL_SLEEP) {
			add_sys(st, iv->syscall, INT64_MIN, iv);
			if (per_fd(iv->syscall) && iv->arg >= 0)
				add_sys(st, iv->syscall, iv->arg, iv);
			break;
		}
		if (iv->kind == TL_JOIN)
			break;
		int is_lock = iv->kind == TL_MUTEX || iv->kind == TL_RWLOCK;
		o = obj_row(st, iv->object, object_kind(iv->kind), is_lock);
		o->waits += !iv->continued;
		o->wait_total += fresh;
		if (d > o->wait_max)
			o->wait_max = d;
		add_site(st, o, &iv->site);
		break;
	}
	case TL_ACQUIRE:
		o = obj_row(st, it->acq.lock, tl_lock_names[it->acq.kind], 1);
		o->acquisitions++;
		o->contended += it->acq.contended;
		break;
	case TL_HOLD:
		o = obj_row(st, it->hold.lock, tl_lock_names[it->hold.kind], 1);
		if (!it->hold.cut) {
			int64_t d = it->hold.end_ns - it->hold.begin_ns;
			o->hold_total += d;
			if (d > o->hold_max)
				o->hold_max = d;
		}
		if (it->hold.caused_wait_ns)
			add_blame(o, it->serial, it->hold.caused_wait_ns);
		break;
	default:
		break;
	}
}

/* ---- ordering and selection ---- */

static int by_wait(struct obj_row *a, struct obj_row *b)
{
	if (a->wait_total != b->wait_total)
		return a->wait_total < b->wait_total ? 1 : -1;
	if (a->acquisitions != b->acquisitions)
		return a->acquisitions < b->acquisitions ? 1 : -1;
	return a->addr < b->addr ? -1 : a->addr > b->addr;
}

static int by_total(struct sys_row *a, struct sys_row *b)
{
	if (a->total != b->total)
		return a->total < b->total ? 1 : -1;
	return a->key[0] != b->key[0] ? (a->key[0] < b->key[0] ? -1 : 1)
				      : (a->key[1] < b->key[1] ? -1 : a->key[1] > b->key[1]);
}

static const struct blame *worst_blame(const struct obj_row *o)
{
	const struct blame *w = NULL;
	for (uint32_t i = 0; i < o->nblame; i++)
		if (!w || o->blame[i].ns > w->ns)
			w = &o->blame[i];
	return w;
}

static void resolve_sites(struct stats *st)
{
	for (struct obj_row *o = st->objs; o; o = o->hh.next) {
		const struct site_row *best = NULL;
		for (const struct site_row *s = o->sites; s; s = s->hh.next)
			if (!best || s->count > best->count)
				best = s;
		o->top_site = best;
		if (best && tl_site_symbol(st->tl, &best->site, o->symbol, sizeof o->symbol))
			continue;
		o->symbol[0] = 0;
	}
}

static int lock_matches(const struct stats *st, const struct obj_row *o)
{
	const char *f = st->lock_filter;
	if (!f)
		return 1;
	char *end;
	unsigned long long v = strtoull(f, &end, 16);
	if (*f && !*end)
		return v == o->addr;
	return o->symbol[0] && strstr(o->symbol, f);
}

static uint64_t percentile(const struct sys_row *r, double p)
{
	uint64_t rank = (uint64_t)((double)r->sampled * p + 0.999999);
	if (rank == 0)
		rank = 1;
	uint64_t seen = 0;
	for (uint32_t i = 0; i < HIST_BUCKETS; i++) {
		seen += r->hist[i];
		if (seen >= rank) {
			int64_t v = hist_value(i);
			return (uint64_t)(v > r->max ? r->max : v);
		}
	}
	return (uint64_t)r->max;
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

static int64_t total_alive(struct stats *st)
{
	int64_t sum = 0;
	for (uint32_t s = 1; s <= tl_max_serial(st->tl); s++) {
		const struct tl_thread *t = tl_thread(st->tl, s);
		if (t && thread_matches(st, t))
			sum += t->alive_ns;
	}
	return sum;
}

static struct obj_row *costliest_lock(struct stats *st)
{
	for (struct obj_row *o = st->objs; o; o = o->hh.next)
		if (o->is_lock && o->wait_total > 0 && lock_matches(st, o))
			return o;
	return NULL;
}

static void headline(struct stats *st, char *buf, size_t cap)
{
	char a[16], b[16], who[64];
	int64_t alive = total_alive(st);
	struct obj_row *o = costliest_lock(st);
	if (o) {
		const struct blame *w = worst_blame(o);
		double pct = alive ? 100.0 * (double)o->wait_total / (double)alive : 0.0;
		char share[32];
		if (pct < 0.1)
			snprintf(share, sizeof share, "under 0.1%%");
		else
			snprintf(share, sizeof share, "%.1f%%", pct);
		int n = snprintf(buf, cap, "Costliest lock: %s 0x%" PRIx64 "%s%s: threads "
				 "waited %s for it (%s of thread time), %" PRIu64 " of %"
				 PRIu64 " acquisitions contended", o->kind, o->addr,
				 o->symbol[0] ? " at " : "", o->symbol, dur(o->wait_total, a),
				 share, o->contended, o->acquisitions);
		if (w && n > 0 && (size_t)n < cap) {
			tl_thread_label(st->tl, w->serial, who, sizeof who);
			snprintf(buf + n, cap - (size_t)n, "; %s held it for %s of that wait",
				 who, dur(w->ns, b));
		}
		return;
	}
	enum tl_kind most = TL_RUNNING;
	for (int k = TL_SYSCALL; k < TL_NKINDS; k++)
		if (st->blocked_in_kind[k] > st->blocked_in_kind[most])
			most = (enum tl_kind)k;
	if (most == TL_RUNNING)
		snprintf(buf, cap, "No thread waited for a lock, and none blocked.");
	else
		snprintf(buf, cap, "No thread waited for a lock; the most time off CPU "
			 "went to %s (%s in all).", most == TL_SYSCALL ? "system calls"
			 : most == TL_SLEEP ? "sleeping" : tl_kind_names[most],
			 dur(st->blocked_in_kind[most], a));
}

struct thread_row {
	const struct tl_thread *t;
	int64_t off_cpu;
};

static int by_off_cpu(const void *x, const void *y)
{
	const struct thread_row *a = x, *b = y;
	if (a->off_cpu != b->off_cpu)
		return a->off_cpu < b->off_cpu ? 1 : -1;
	return a->t->serial < b->t->serial ? -1 : 1;
}

static struct thread_row *thread_rows(struct stats *st, uint32_t *n)
{
	uint32_t max = tl_max_serial(st->tl);
	struct thread_row *rows = calloc(max + 1, sizeof *rows);
	if (!rows)
		abort();
	*n = 0;
	for (uint32_t s = 1; s <= max; s++) {
		const struct tl_thread *t = tl_thread(st->tl, s);
		if (!t || !thread_matches(st, t))
			continue;
		rows[*n].t = t;
		rows[*n].off_cpu = t->alive_ns - t->in_ns[TL_RUNNING];
		(*n)++;
	}
	qsort(rows, *n, sizeof *rows, by_off_cpu);
	return rows;
}

static void print_threads(struct stats *st, int width, int top)
{
	uint32_t n;
	struct thread_row *rows = thread_rows(st, &n);
	/* One column per state any thread was in; the smallest merge into
	 * "other" until the table fits. */
	int64_t sum[TL_NKINDS] = { 0 };
	for (uint32_t i = 0; i < n; i++)
		for (int k = 0; k < TL_NKINDS; k++)
			sum[k] += rows[i].t->in_ns[k];
	int shown[TL_NKINDS], nshown = 0, other = 0;
	for (int k = 0; k < TL_NKINDS; k++) {
		shown[k] = k == TL_RUNNING || sum[k] > 0;
		nshown += shown[k];
	}
	while (24 + 9 * (nshown + other + 1) > width && nshown > 1) {
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
	int name_w = width - 9 * (nshown + other + 1) - 1;
	if (name_w > 32)
		name_w = 32;
	printf("\nThreads, by time off CPU (traced time alive, split by state)\n");
	printf("%-*s %8s", name_w, "thread", "alive");
	for (int k = 0; k < TL_NKINDS; k++)
		if (shown[k])
			printf(" %8s", tl_kind_names[k]);
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
		}
		if (other)
			printf(" %8s", rest ? dur(rest, buf) : "-");
		putchar('\n');
	}
	if (n > (uint32_t)top)
		printf("(%u more; --top N shows more)\n", n - (uint32_t)top);
	free(rows);
}

/* The most frequent site a lock or object was waited for at, under its
 * row. */
static void print_top_site(struct stats *st, const struct obj_row *o,
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

/* After a table's rows: that it had none, or how many --top left out. */
static void print_table_end(int shown, int more)
{
	if (!shown)
		printf("(none)\n");
	if (more)
		printf("(%d more; --top N shows more)\n", more);
}

static void print_locks(struct stats *st, int width, int top)
{
	char b[6][16], line[1024], who[64];
	int shown = 0, more = 0;
	/* Narrow terminals lose the maximum columns. */
	int maxima = width >= 80;
	printf("\nLocks, by time threads waited for them\n");
	printf("%-14s %-6s %8s %9s %9s", "lock", "kind", "acquired", "contended", "wait");
	if (maxima)
		printf(" %9s", "max wait");
	printf(" %9s", "held");
	if (maxima)
		printf(" %9s", "max held");
	putchar('\n');
	for (struct obj_row *o = st->objs; o; o = o->hh.next) {
		if (!o->is_lock || !lock_matches(st, o))
			continue;
		if (shown == top) {
			more++;
			continue;
		}
		shown++;
		printf("%-14" PRIx64 " %-6s %8" PRIu64 " %9" PRIu64 " %9s", o->addr,
		       o->kind, o->acquisitions, o->contended, dur(o->wait_total, b[0]));
		if (maxima)
			printf(" %9s", dur(o->wait_max, b[1]));
		printf(" %9s", dur(o->hold_total, b[2]));
		if (maxima)
			printf(" %9s", dur(o->hold_max, b[3]));
		putchar('\n');
		const struct blame *w = worst_blame(o);
		if (w) {
			tl_thread_label(st->tl, w->serial, who, sizeof who);
			snprintf(line, sizeof line, "    made others wait longest: %s, %s",
				 who, dur(w->ns, b[4]));
			print_cut(line, width);
		}
		print_top_site(st, o, "blocked", width);
	}
	print_table_end(shown, more);
}

static void print_waits(struct stats *st, int width, int top)
{
	char b[3][16];
	int shown = 0, more = 0;
	printf("\nOther waits (condvars, semaphores, barriers), by total\n");
	printf("%-14s %-8s %8s %9s %9s\n", "object", "kind", "waits", "total", "max");
	for (struct obj_row *o = st->objs; o; o = o->hh.next) {
		if (o->is_lock || !lock_matches(st, o))
			continue;
		if (shown == top) {
			more++;
			continue;
		}
		shown++;
		printf("%-14" PRIx64 " %-8s %8" PRIu64 " %9s %9s\n", o->addr, o->kind,
		       o->waits, dur(o->wait_total, b[0]), dur(o->wait_max, b[1]));
		print_top_site(st, o, "waited", width);
	}
	print_table_end(shown, more);
}

static void sys_label(const struct sys_row *r, char *buf, size_t cap)
{
	const char *name = weft_syscall_name((uint64_t)r->key[0]);
	if (r->key[1] == INT64_MIN)
		snprintf(buf, cap, "%s", name ? name : "?");
	else
		snprintf(buf, cap, "  %s fd %" PRId64, name ? name : "?", r->key[1]);
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
		for (struct sys_row *r = st->sys; r; r = r->hh.next) {
			if ((r->key[1] == INT64_MIN) != (pass == 0))
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
				printf(" %9s", dur((int64_t)percentile(r, 0.50), b[1]));
			printf(" %9s %9s\n", dur((int64_t)percentile(r, 0.99), b[2]),
			       dur(r->max, b[3]));
		}
	print_table_end(shown, more);
}

static void print_banner(struct stats *st, int width)
{
	const struct weft_check_result *res = tl_result(st->tl);
	char span[16], line[1024];
	snprintf(line, sizeof line, "%s: pid %" PRIu64 ", %u threads, %s, %u generation%s, %u "
	       "session%s%s", tl_path(st->tl), tl_header(st->tl)->pid, res->threads,
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

static void json_str(const char *s)
{
	putchar('"');
	for (; s && *s; s++) {
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

static void print_json(struct stats *st, const char *head, int top)
{
	const struct weft_check_result *res = tl_result(st->tl);
	printf("{\"file\":");
	json_str(tl_path(st->tl));
	printf(",\"pid\":%" PRIu64 ",\"span_ns\":%" PRId64 ",\"generations\":%u,"
	       "\"sessions\":%u,\"lost\":%" PRIu64 ",\"lower_bounds\":%s,"
	       "\"complete\":%s,\"headline\":", tl_header(st->tl)->pid,
	       tl_span_ns(st->tl), res->generations, tl_sessions(st->tl), res->lost,
	       res->lost ? "true" : "false",
	       res->verdict == WEFT_CHECK_OK ? "true" : "false");
	json_str(head);
	printf(",\n\"threads\":[");
	uint32_t n;
	struct thread_row *rows = thread_rows(st, &n);
	for (uint32_t i = 0; i < n && (int)i < top; i++) {
		const struct tl_thread *t = rows[i].t;
		printf("%s\n{\"serial\":%u,\"name\":", i ? "," : "", t->serial);
		if (t->name)
			json_str(t->name);
		else
			printf("null");
		printf(",\"parent\":%u,\"tid\":%" PRIu64 ",\"alive_ns\":%" PRId64
		       ",\"lost\":%" PRIu64, t->parent, t->tid, t->alive_ns, t->lost);
		for (int k = 0; k < TL_NKINDS; k++)
			printf(",\"%s_ns\":%" PRId64, tl_kind_names[k], t->in_ns[k]);
		printf("}");
	}
	free(rows);
	printf("],\n\"objects\":[");
	int i = 0;
	for (struct obj_row *o = st->objs; o; o = o->hh.next) {
		if (!lock_matches(st, o) || i >= top)
			continue;
		printf("%s\n{\"address\":\"0x%" PRIx64 "\",\"kind\":\"%s\",\"lock\":%s,"
		       "\"acquisitions\":%" PRIu64 ",\"contended\":%" PRIu64 ",\"waits\":%"
		       PRIu64 ",\"wait_ns\":%" PRId64 ",\"max_wait_ns\":%" PRId64
		       ",\"hold_ns\":%" PRId64 ",\"max_hold_ns\":%" PRId64,
		       i++ ? "," : "", o->addr, o->kind, o->is_lock ? "true" : "false",
		       o->acquisitions, o->contended, o->waits, o->wait_total, o->wait_max,
		       o->hold_total, o->hold_max);
		const struct blame *w = worst_blame(o);
		if (w)
			printf(",\"longest_holder\":{\"serial\":%u,\"caused_wait_ns\":%"
			       PRId64 "}", w->serial, w->ns);
		if (o->top_site) {
			char site[1024];
			tl_site_text(st->tl, &o->top_site->site, 8, site, sizeof site);
			printf(",\"top_site\":{\"count\":%" PRIu64 ",\"symbol\":",
			       o->top_site->count);
			json_str(o->symbol);
			printf(",\"stack\":");
			json_str(site);
			printf("}");
		}
		printf("}");
	}
	printf("],\n\"syscalls\":[");
	i = 0;
	for (struct sys_row *r = st->sys; r; r = r->hh.next) {
		if (i >= top)
			break;
		printf("%s\n{\"call\":\"%s\"", i++ ? "," : "",
		       weft_syscall_name((uint64_t)r->key[0]));
		if (r->key[1] != INT64_MIN)
			printf(",\"fd\":%" PRId64, r->key[1]);
		printf(",\"calls\":%" PRIu64 ",\"errors\":%" PRIu64 ",\"total_ns\":%" PRId64
		       ",\"p50_ns\":%" PRIu64 ",\"p99_ns\":%" PRIu64 ",\"max_ns\":%" PRId64
		       "}", r->calls, r->errors, r->total, percentile(r, 0.50),
		       percentile(r, 0.99), r->max);
	}
	printf("]}\n");
}

static void free_stats(struct stats *st)
{
	struct obj_row *o, *otmp;
	HASH_ITER(hh, st->objs, o, otmp) {
		struct site_row *s, *stmp;
		HASH_ITER(hh, o->sites, s, stmp) {
			HASH_DEL(o->sites, s);
			free(s);
		}
		HASH_DEL(st->objs, o);
		free(o->blame);
		free(o);
	}
	struct sys_row *r, *rtmp;
	HASH_ITER(hh, st->sys, r, rtmp) {
		HASH_DEL(st->sys, r);
		free(r->hist);
		free(r);
	}
}

static const char stats_usage[] =
	"usage: weft stats [--json] [--top N] [--thread SERIAL|NAME]\n"
	"                  [--lock ADDRESS|SYMBOL] FILE\n"
	"\n"
	"Where the time of a trace went.  A headline names the lock threads\n"
	"waited for longest; then tables, sorted by cost and sized to the\n"
	"terminal: threads (time alive, running, in system calls, asleep, and\n"
	"blocked on each kind of object), locks (acquisitions, contended ones,\n"
	"total and longest wait and hold, the thread whose holding made others\n"
	"wait longest, the most frequent blocking site when stacks were\n"
	"recorded), other waits (condvars, semaphores, barriers), and system\n"
	"calls by kind and by descriptor (calls, time blocked, p50/p99/max).\n"
	"\n"
	"  -j, --json           one JSON object instead of tables (times in ns)\n"
	"  -n, --top N          rows per table (default 10, JSON all; 0 for all)\n"
	"  -t, --thread T       only the events of thread T (serial or name)\n"
	"  -l, --lock L         only lock or object L (hex address, or a text in\n"
	"                       the symbol of its blocking site)\n"
	"  -h, --help           show this help\n"
	"  -V, --version        show weft's version\n"
	"\n"
	"Exit status: as weft check: 0 complete and consistent, 1 damaged or\n"
	"inconsistent (what precedes the problem is reported), 2 cannot be read\n"
	"or bad arguments, 3 truncated (what was written is reported).\n";

int weft_cmd_stats(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "top", required_argument, NULL, 'n' },
		{ "thread", required_argument, NULL, 't' },
		{ "lock", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	struct stats st = { 0 };
	int json = 0, top = -1, c;
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
		case 't': st.thread_filter = optarg; break;
		case 'l': st.lock_filter = optarg; break;
		case 'h': fputs(stats_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(stats_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	if (optind + 1 != argc) {
		fprintf(stderr, "weft stats: %s\n", optind >= argc
			? "no trace file given" : "one trace file at a time");
		fputs(stats_usage, stderr);
		return WEFT_EXIT_USAGE;
	}
	if (top < 0)
		top = json ? 1 << 30 : 10;
	int status;
	st.tl = tl_open(argv[optind], "stats", &status);
	if (!st.tl)
		return status;
	tl_run(st.tl, on_item, &st);
	HASH_SORT(st.objs, by_wait);
	HASH_SORT(st.sys, by_total);
	resolve_sites(&st);
	char head[1024];
	headline(&st, head, sizeof head);
	if (json) {
		print_json(&st, head, top);
	} else {
		int width = terminal_width();
		print_banner(&st, width);
		print_wrapped(head, width);
		print_threads(&st, width, top);
		print_locks(&st, width, top);
		print_waits(&st, width, top);
		print_syscalls(&st, width, top);
	}
	fflush(stdout);
	status = tl_report(st.tl);
	free_stats(&st);
	tl_close(st.tl);
	return status;
}
