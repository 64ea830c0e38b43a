/*
 * export.c - `weft export --format=chrome`: the trace as Trace Event
 * JSON for Perfetto UI and chrome://tracing, written as the timeline
 * produces it (nothing is held back but the output buffer): one track per
 * thread, a slice for every wait and system call, instants for signals,
 * broadcasts and posts, and a flow arrow from each release to the wake-up
 * it caused.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "names.h"
#include "timeline.h"
#include "traces.h"

struct exporter {
	struct timeline *tl;
	FILE *out;
	uint64_t pid;
	int64_t offset_ns;  /* the trace began this long after the first one */
	uint64_t events, flows;
	char site[1024];
};

/* Writes ns as microseconds with three decimals, without printf's
 * floating point (the exporter writes millions of these). */
static void put_us(FILE *out, int64_t ns)
{
	char buf[32];
	int i = sizeof buf;
	uint64_t v = ns < 0 ? (uint64_t)-ns : (uint64_t)ns;
	uint64_t frac = v % 1000;
	v /= 1000;
	buf[--i] = (char)('0' + frac % 10);
	buf[--i] = (char)('0' + frac / 10 % 10);
	buf[--i] = (char)('0' + frac / 100);
	buf[--i] = '.';
	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (ns < 0)
		buf[--i] = '-';
	fwrite(buf + i, 1, sizeof buf - (size_t)i, out);
}

/* A timestamp of the trace: on the time line of every trace exported. */
static void put_ts(struct exporter *ex, int64_t ns)
{
	put_us(ex->out, ns + ex->offset_ns);
}

/* The start of an event, up to its "ts" value. */
static void begin_event(struct exporter *ex, char ph, const char *name,
			const char *cat, uint32_t tid)
{
	FILE *out = ex->out;
	fputs(ex->events++ ? ",\n{\"ph\":\"" : "{\"ph\":\"", out);
	fputc(ph, out);
	fputs("\",\"name\":", out);
	weft_json_string(out, name);
	fprintf(out, ",\"cat\":\"%s\",\"pid\":%" PRIu64 ",\"tid\":%u,\"ts\":", cat,
		ex->pid, tid);
}

static void metadata(struct exporter *ex, const char *what, uint32_t tid,
		     const char *key, const char *value, int64_t number)
{
	fprintf(ex->out, "%s{\"ph\":\"M\",\"name\":\"%s\",\"pid\":%" PRIu64
		",\"tid\":%u,\"args\":{\"%s\":", ex->events++ ? ",\n" : "", what,
		ex->pid, tid, key);
	if (value)
		weft_json_string(ex->out, value);
	else
		fprintf(ex->out, "%" PRId64, number);
	fputs("}}", ex->out);
}

static void instant(struct exporter *ex, uint32_t tid, int64_t ns, const char *name)
{
	begin_event(ex, 'i', name, "sync", tid);
	put_ts(ex, ns);
	fputs(",\"s\":\"t\"}", ex->out);
}

static void interval_name(const struct exporter *ex, const struct tl_interval *iv,
			  char *buf, size_t cap)
{
	const char *sys = weft_syscall_name(iv->syscall);
	char obj[160];
	switch (iv->kind) {
	case TL_SYSCALL:
	case TL_SLEEP:
		/* The argument names the slice when it says what was waited
		 * for: a descriptor, a process, a message queue. */
		switch (iv->arg < 0 ? WEFT_SYSARG_NONE : weft_syscall_arg(iv->syscall)) {
		case WEFT_SYSARG_FD:
			snprintf(buf, cap, "%s fd %" PRId64, sys ? sys : "?", iv->arg);
			break;
		case WEFT_SYSARG_PID:
			snprintf(buf, cap, "%s pid %" PRId64, sys ? sys : "?", iv->arg);
			break;
		case WEFT_SYSARG_QUEUE:
			snprintf(buf, cap, "%s queue %" PRId64, sys ? sys : "?", iv->arg);
			break;
		default:
			snprintf(buf, cap, "%s", sys ? sys : "?");
		}
		break;
	case TL_JOIN:
		snprintf(buf, cap, "join T%" PRIu64, iv->object);
		break;
	case TL_RWLOCK:
		weft_object_name(tl_tables(ex->tl), iv->object, obj, sizeof obj);
		snprintf(buf, cap, "rwlock %s %s",
			 iv->rw_mode == 1 ? "read" : "write", obj);
		break;
	default:
		weft_object_name(tl_tables(ex->tl), iv->object, obj, sizeof obj);
		snprintf(buf, cap, "%s %s", tl_kind_names[iv->kind], obj);
	}
}

static void slice(struct exporter *ex, const struct tl_item *it)
{
	const struct tl_interval *iv = &it->iv;
	char name[200];
	interval_name(ex, iv, name, sizeof name);
	/* A wait that began before tracing did starts, on screen, with it. */
	int64_t begin = iv->begin_ns < 0 ? 0 : iv->begin_ns;
	int64_t d = iv->end_ns - begin;
	begin_event(ex, 'X', name, iv->kind == TL_SYSCALL ? "syscall"
		    : iv->kind == TL_SLEEP ? "sleep" : "blocked", it->serial);
	put_ts(ex, begin);
	fputs(",\"dur\":", ex->out);
	put_us(ex->out, d > 0 ? d : 0);
	fputs(",\"args\":{", ex->out);
	const char *sep = "";
	if (iv->kind == TL_SYSCALL || iv->kind == TL_SLEEP) {
		fprintf(ex->out, "\"return\":%" PRId64, iv->ret);
		sep = ",";
	}
	if (iv->err) {
		const char *e = iv->err < 4096 ? strerrorname_np((int)iv->err) : NULL;
		fprintf(ex->out, "%s\"error\":", sep);
		if (e)
			weft_json_string(ex->out, e);
		else
			fprintf(ex->out, "%" PRIu64, iv->err);
		sep = ",";
	}
	if (iv->kind != TL_SYSCALL && iv->kind != TL_SLEEP && iv->kind != TL_JOIN &&
	    iv->kind != TL_UNKNOWN && iv->kind != TL_RUNNING) {
		fprintf(ex->out, "%s\"address\":\"0x%" PRIx64 "\"", sep, iv->object);
		sep = ",";
	}
	if (iv->site.stack) {
		tl_site_text(ex->tl, &iv->site, 6, ex->site, sizeof ex->site);
		fprintf(ex->out, "%s\"site\":", sep);
		weft_json_string(ex->out, ex->site);
		sep = ",";
	}
	if (iv->from_status) {
		fprintf(ex->out, "%s\"began_ns\":%" PRId64, sep, iv->begin_ns);
		sep = ",";
	}
	if (iv->cut)
		fprintf(ex->out, "%s\"end_unseen\":true", sep);
	fputs("}}", ex->out);
}

/* An arrow from the release to the end of the wait it ended.  Each end
 * binds to the slice enclosing it: the release's instant (written here for
 * releases that have none of their own) and the wait's slice, which the
 * arrow's head enters one nanosecond before the wait ends. */
static void arrow(struct exporter *ex, const struct tl_item *it)
{
	const struct tl_flow *f = &it->flow;
	char name[200], obj[160];
	if (strcmp(f->what, "signal") && strcmp(f->what, "broadcast") &&
	    strcmp(f->what, "post") && strcmp(f->what, "exit")) {
		weft_object_name(tl_tables(ex->tl), f->object, obj, sizeof obj);
		snprintf(name, sizeof name, "%s %s", f->what, obj);
		instant(ex, f->from, f->from_ns, name);
	}
	uint64_t id = ++ex->flows;
	begin_event(ex, 's', "wakes", "flow", f->from);
	put_ts(ex, f->from_ns);
	fprintf(ex->out, ",\"id\":%" PRIu64 "}", id);
	begin_event(ex, 'f', "wakes", "flow", f->to);
	put_ts(ex, f->to_ns - (f->to_ns > f->from_ns ? 1 : 0));
	fprintf(ex->out, ",\"id\":%" PRIu64 ",\"bp\":\"e\"}", id);
}

static void on_item(void *p, const struct tl_item *it)
{
	struct exporter *ex = p;
	char label[200], obj[160];
	switch (it->type) {
	case TL_THREAD_BEGIN:
		if (it->thread->name)
			snprintf(label, sizeof label, "T%u %s", it->serial, it->thread->name);
		else
			snprintf(label, sizeof label, "T%u", it->serial);
		metadata(ex, "thread_name", it->serial, "name", label, 0);
		metadata(ex, "thread_sort_index", it->serial, "sort_index", NULL,
			 it->serial);
		break;
	case TL_THREAD_END:
		instant(ex, it->serial, it->ns, "exit");
		break;
	case TL_INTERVAL:
		slice(ex, it);
		break;
	case TL_INSTANT:
		weft_object_name(tl_tables(ex->tl), it->inst.object, obj, sizeof obj);
		snprintf(label, sizeof label, "%s %s", it->inst.what, obj);
		instant(ex, it->serial, it->ns, label);
		break;
	case TL_FLOW:
		arrow(ex, it);
		break;
	default:
		break;
	}
}

/* A process's name and place among the tracks: the trace's file and
 * pid, with its command line when there are several; processes in tree
 * order. */
static void export_process(struct exporter *ex, const struct trace_input *t,
			   unsigned order)
{
	char name[2400], command[2048];
	const char *base = strrchr(t->path, '/');
	weft_process_command(&t->proc, command, sizeof command);
	snprintf(name, sizeof name, "%s (pid %" PRIu64 "): %s", base ? base + 1 : t->path,
		 ex->pid, command);
	metadata(ex, "process_name", 0, "name", name, 0);
	metadata(ex, "process_sort_index", 0, "sort_index", NULL, order);
}

static const char export_usage[] =
	"usage: weft export [--format=chrome] [-o OUT.json] [--jobs N] FILE|DIR...\n"
	"\n"
	"Write the trace as Trace Event JSON, which Perfetto UI\n"
	"(ui.perfetto.dev) and chrome://tracing open: a track per thread\n"
	"(\"T3 name\"), a slice for every wait (labelled with its object) and\n"
	"every system call, instants for cond signals and broadcasts and\n"
	"semaphore posts, and flow arrows from each release (unlock, signal,\n"
	"broadcast, post, thread exit, barrier arrival) to the wake-up it\n"
	"caused.  Times are microseconds since the trace began.\n"
	"\n"
	"Several traces (files, or a directory: every weft trace in it) go into\n"
	"one file: each process under its own pid, named by its trace and\n"
	"command line and sorted parent before children, on one time line\n"
	"(microseconds since the first trace began).  otherData.processes\n"
	"lists them (pid, ppid, exe, argv, file, parent_file, depth).\n"
	"\n"
	"  -f, --format=FMT  chrome (the only format)\n"
	"  -o, --output=OUT  write to OUT instead of standard output\n"
	"      --jobs N      check the trace on N threads, as weft check\n"
	"  -h, --help        show this help\n"
	"  -V, --version     show weft's version\n"
	"\n"
	"Exit status: as weft check (0, 1 inconsistent, 2 cannot read or write,\n"
	"3 truncated; of several traces, the worst); the JSON is complete and\n"
	"well-formed in every case but 2, and holds every trace that could be\n"
	"read.\n";

int weft_cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "output", required_argument, NULL, 'o' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *output = NULL;
	int c;
	unsigned jobs = weft_default_jobs();
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "chrome")) {
				fprintf(stderr, "weft export: unknown format '%s' (chrome is "
					"the one there is)\n", optarg);
				return WEFT_EXIT_USAGE;
			}
			break;
		case 'o': output = optarg; break;
		case 'J':
			if (weft_parse_jobs("export", optarg, &jobs) < 0)
				return WEFT_EXIT_USAGE;
			break;
		case 'h': fputs(export_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(export_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	struct trace_set set;
	int status = traces_open(&set, argv + optind, argc - optind, "export");
	if (status) {
		fputs(export_usage, stderr);
		return status;
	}
	if (!set.n) {
		status = set.status;
		traces_free(&set);
		return status;
	}
	struct exporter ex = { 0 };
	ex.out = output && strcmp(output, "-") ? fopen(output, "w") : stdout;
	if (!ex.out) {
		fprintf(stderr, "weft export: %s: %s\n", output, strerror(errno));
		traces_free(&set);
		return WEFT_EXIT_USAGE;
	}
	static char buf[1 << 20];
	setvbuf(ex.out, buf, _IOFBF, sizeof buf);
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", ex.out);
	uint64_t lost = 0;
	int complete = 1;
	status = set.status;
	for (unsigned i = 0; i < set.n; i++) {
		struct trace_input *t = &set.list[i];
		ex.tl = trace_timeline(&set, t, jobs, "export");
		if (!ex.tl)
			continue;
		ex.pid = tl_header(ex.tl)->pid;
		ex.offset_ns = t->offset_ns;
		export_process(&ex, t, i);
		tl_run(ex.tl, on_item, &ex);
		const struct weft_check_result *res = tl_result(ex.tl);
		lost += res->lost;
		complete &= res->verdict == WEFT_CHECK_OK;
		status = weft_check_exit(status, weft_report_partial("export", t->path, res));
		tl_close(ex.tl);
	}
	status = weft_check_exit(status, set.status);
	fprintf(ex.out, "\n],\"otherData\":{\"lost_events\":%" PRIu64
		",\"complete\":%s,\"processes\":[", lost,
		complete && !set.status ? "true" : "false");
	for (unsigned i = 0; i < set.n; i++) {
		fputs(i ? ",\n" : "\n", ex.out);
		trace_json_process(ex.out, &set, &set.list[i]);
	}
	fputs("]}}\n", ex.out);
	int werr = fflush(ex.out) != 0 || ferror(ex.out);
	if (ex.out != stdout && fclose(ex.out) != 0)
		werr = 1;
	if (werr) {
		fprintf(stderr, "weft export: %s: %s\n", output ? output : "stdout",
			strerror(errno));
		status = WEFT_EXIT_USAGE;
	}
	traces_free(&set);
	return status;
}
