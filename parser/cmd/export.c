/*
 * export.c - `weft export`: the trace for timeline viewers, as Perfetto's
 * protobuf format (perfetto.c) or as Trace Event JSON for Perfetto UI and
 * chrome://tracing (here), written as the timeline produces it (nothing
 * is held back but the output buffer): one track per thread, a slice for
 * every wait and system call, instants for signals, broadcasts and posts,
 * and a flow arrow from each release (a short slice of its own) to the
 * wait it ended.  Output to a name ending in .gz is compressed.
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
#include "output.h"
#include "perfetto.h"
#include "slices.h"
#include "timeline.h"
#include "traces.h"

struct exporter {
	struct timeline *tl;
	FILE *out;
	uint64_t pid;
	int64_t offset_ns;  /* the trace began this long after the first one */
	uint64_t events;
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

/* A complete event ('X') on thread serial: its name and times. */
static void begin_slice(struct exporter *ex, const char *name, const char *cat,
			uint32_t serial, int64_t begin, int64_t dur)
{
	begin_event(ex, 'X', name, cat, serial);
	put_ts(ex, begin);
	fputs(",\"dur\":", ex->out);
	put_us(ex->out, dur > 0 ? dur : 0);
}

/* A wait or a call; the head of the arrow from what ended it enters it
 * one nanosecond before it ends. */
static void slice(struct exporter *ex, const struct sl_event *ev)
{
	const struct tl_item *it = ev->item;
	const struct tl_interval *iv = &it->iv;
	char name[200];
	sl_wait_name(ex->tl, iv, name, sizeof name);
	/* A wait that began before tracing did starts, on screen, with it. */
	int64_t begin = iv->begin_ns < 0 ? 0 : iv->begin_ns;
	int64_t d = iv->end_ns - begin;
	begin_slice(ex, name, iv->kind == TL_SYSCALL ? "syscall"
		    : iv->kind == TL_SLEEP ? "sleep" : "blocked", it->serial, begin, d);
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
	if (sl_on_object(iv)) {
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
	if (!ev->flow_id)
		return;
	begin_event(ex, 'f', "wakes", "flow", it->serial);
	put_ts(ex, iv->end_ns - (iv->end_ns > begin ? 1 : 0));
	fprintf(ex->out, ",\"id\":%" PRIu64 ",\"bp\":\"e\"}", ev->flow_id);
}

/* The start of an arrow: a slice of SL_RELEASE_NS for the release
 * (Perfetto drops arrows that start outside any slice; where the lock it
 * gave back was taken, if known, is its argument), the arrow's start
 * at its beginning.  A cond wait gives its mutex back as its wait begins:
 * that arrow starts just inside the wait's own slice instead. */
static void release(struct exporter *ex, const struct sl_event *ev)
{
	const struct tl_flow *f = ev->flow;
	int64_t at = f->from_ns;
	if (!strcmp(f->what, "wait")) {
		at += 1;
	} else {
		char name[200];
		sl_release_name(ex->tl, f, name, sizeof name);
		begin_slice(ex, name, "release", f->from, at, SL_RELEASE_NS);
		if (ev->release_site && ev->release_site->stack) {
			tl_site_text(ex->tl, ev->release_site, 6, ex->site, sizeof ex->site);
			fputs(",\"args\":{\"lock_taken_at\":", ex->out);
			weft_json_string(ex->out, ex->site);
			fputc('}', ex->out);
		}
		fputs("}", ex->out);
	}
	begin_event(ex, 's', "wakes", "flow", f->from);
	put_ts(ex, at);
	fprintf(ex->out, ",\"id\":%" PRIu64 "}", ev->flow_id);
}

static void on_slice(void *p, const struct sl_event *ev)
{
	struct exporter *ex = p;
	const struct tl_item *it = ev->item;
	char label[200], obj[160];
	switch (ev->type) {
	case SL_THREAD_BEGIN:
		if (it->thread->name)
			snprintf(label, sizeof label, "T%u %s", it->serial, it->thread->name);
		else
			snprintf(label, sizeof label, "T%u", it->serial);
		metadata(ex, "thread_name", it->serial, "name", label, 0);
		metadata(ex, "thread_sort_index", it->serial, "sort_index", NULL,
			 it->serial);
		break;
	case SL_THREAD_END:
		instant(ex, it->serial, it->ns, "exit");
		break;
	case SL_WAIT:
		slice(ex, ev);
		break;
	case SL_RELEASE:
		release(ex, ev);
		break;
	case SL_INSTANT:
		weft_object_name(tl_tables(ex->tl), it->inst.object, obj, sizeof obj);
		snprintf(label, sizeof label, "%s %s", it->inst.what, obj);
		instant(ex, it->serial, it->ns, label);
		break;
	default:
		/* Lock holds and the count of threads blocked are in the
		 * Perfetto format only. */
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
	"usage: weft export [--format=perfetto|chrome] [-o OUT] [--jobs N] FILE|DIR...\n"
	"\n"
	"Write the trace for a timeline viewer (Perfetto UI, ui.perfetto.dev,\n"
	"opens both formats; chrome://tracing the JSON): a track per thread\n"
	"(\"T3 name\"), a slice for every wait (labelled with its object) and\n"
	"every system call, instants for cond signals and broadcasts and\n"
	"semaphore posts, and flow arrows from each release (unlock, signal,\n"
	"broadcast, post, thread exit, barrier arrival; a short slice of its\n"
	"own, with lock_taken_at: where a lock it gave back was taken) to the\n"
	"wait it ended.\n"
	"\n"
	"  perfetto  Perfetto's protobuf trace format (the default with -o\n"
	"            *.pftrace or *.perfetto-trace): also a track per contended\n"
	"            lock with its holds, and a counter of threads blocked;\n"
	"            times in nanoseconds since the trace began.  Smaller than\n"
	"            the trace, and read by Perfetto without JSON's limits.\n"
	"  chrome    Trace Event JSON (the default otherwise); times in\n"
	"            microseconds since the trace began; otherData.processes\n"
	"            lists the processes (pid, ppid, exe, argv, file,\n"
	"            parent_file, depth).\n"
	"\n"
	"Several traces (files, or a directory: every weft trace in it) go into\n"
	"one file: each process under its own pid, named by its trace and\n"
	"command line and sorted parent before children, on one time line\n"
	"(since the first trace began).\n"
	"\n"
	"  -f, --format=FMT  perfetto or chrome\n"
	"  -o, --output=OUT  write to OUT instead of standard output; a name\n"
	"                    ending in .gz is written gzip-compressed\n"
	"      --jobs N      check the trace on N threads, as weft check\n"
	"  -h, --help        show this help\n"
	"  -V, --version     show weft's version\n"
	"\n"
	"Exit status: as weft check (0, 1 inconsistent, 2 cannot read or write,\n"
	"3 truncated; of several traces, the worst); the output is complete and\n"
	"well-formed in every case but 2, and holds every trace that could be\n"
	"read.\n";

enum export_format { FORMAT_CHROME, FORMAT_PERFETTO };

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && !strcmp(s + n - m, tail);
}

/* The format an output's name implies when none is given. */
static enum export_format format_of(const char *output)
{
	if (output && (ends_with(output, ".pftrace") || ends_with(output, ".pftrace.gz") ||
		       ends_with(output, ".perfetto-trace") ||
		       ends_with(output, ".perfetto-trace.gz")))
		return FORMAT_PERFETTO;
	return FORMAT_CHROME;
}

/* Writes the traces of set as JSON; returns the worst status. */
static int export_chrome(struct trace_set *set, FILE *out, unsigned jobs)
{
	struct exporter ex = { .out = out };
	uint64_t flows = 0, lost = 0;
	int complete = 1;
	int status = set->status;
	fputs("{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n", out);
	for (unsigned i = 0; i < set->n; i++) {
		struct trace_input *t = &set->list[i];
		ex.tl = trace_timeline(set, t, jobs, "export");
		if (!ex.tl)
			continue;
		ex.pid = tl_header(ex.tl)->pid;
		ex.offset_ns = t->offset_ns;
		export_process(&ex, t, i);
		sl_run(ex.tl, &flows, on_slice, NULL, &ex);
		const struct weft_check_result *res = tl_result(ex.tl);
		lost += res->lost;
		complete &= res->verdict == WEFT_CHECK_OK;
		status = weft_check_exit(status, weft_report_partial("export", t->path, res));
		tl_close(ex.tl);
	}
	status = weft_check_exit(status, set->status);
	fprintf(out, "\n],\"otherData\":{\"lost_events\":%" PRIu64
		",\"complete\":%s,\"processes\":[", lost,
		complete && !set->status ? "true" : "false");
	for (unsigned i = 0; i < set->n; i++) {
		fputs(i ? ",\n" : "\n", out);
		trace_json_process(out, set, &set->list[i]);
	}
	fputs("]}}\n", out);
	return status;
}

/* Writes the traces of set as Perfetto protobuf; returns the worst
 * status. */
static int export_perfetto(struct trace_set *set, FILE *out, unsigned jobs)
{
	struct perfetto *pf = pf_new(out);
	uint64_t flows = 0;
	int status = set->status;
	for (unsigned i = 0; i < set->n; i++) {
		struct trace_input *t = &set->list[i];
		struct timeline *tl = trace_timeline(set, t, jobs, "export");
		if (!tl)
			continue;
		pf_write_trace(pf, tl, t, i, &flows);
		status = weft_check_exit(status, weft_report_partial("export", t->path,
								     tl_result(tl)));
		tl_close(tl);
	}
	pf_free(pf);
	return weft_check_exit(status, set->status);
}

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
	const char *output = NULL, *format = NULL;
	int c;
	unsigned jobs = weft_default_jobs();
	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "chrome") && strcmp(optarg, "perfetto")) {
				fprintf(stderr, "weft export: unknown format '%s' (perfetto "
					"or chrome)\n", optarg);
				return WEFT_EXIT_USAGE;
			}
			format = optarg;
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
	enum export_format fmt = format ? (!strcmp(format, "perfetto") ? FORMAT_PERFETTO
								      : FORMAT_CHROME)
					: format_of(output);
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
	FILE *out = weft_output_open("export", output);
	if (!out) {
		traces_free(&set);
		return WEFT_EXIT_USAGE;
	}
	status = fmt == FORMAT_PERFETTO ? export_perfetto(&set, out, jobs)
					: export_chrome(&set, out, jobs);
	if (weft_output_close("export", output, out))
		status = WEFT_EXIT_USAGE;
	traces_free(&set);
	return status;
}
