/*
 * check.c - `weft check`: validate traces, one verdict and summary per
 * file, in text or JSON, with the program's misuses the checker found
 * (findings) and, in text, their stacks.
 */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "commands.h"
#include "common.h"
#include "stuck_report.h"
#include "tables.h"
#include "text.h"
#include "traces.h"

static const char check_usage[] =
	"usage: weft check [--json] [--quiet] [--strict] [--jobs N] FILE|DIR...\n"
	"\n"
	"Prove that each trace is consistently ordered: every generation's\n"
	"events can be put in one order that respects each thread's own order,\n"
	"every object's sequence numbers, lock ownership, and the causes\n"
	"between threads (create before start, exit before join).  What the\n"
	"program did that POSIX leaves undefined (a mutex unlocked by a thread\n"
	"that does not hold it, a lock destroyed while held, ...) is reported\n"
	"as a finding, with both threads and the object.  A directory stands\n"
	"for every weft trace in it (known by its first bytes, not its name);\n"
	"one that holds none is a file that cannot be read (2).  After the\n"
	"verdict, the threads the trace ends deadlocked or stuck in, as weft\n"
	"stats names them (the exit status does not change; --quiet skips\n"
	"this search, which takes about as long as the check).\n"
	"\n"
	"  -j, --json     one JSON object per file, one per line\n"
	"  -q, --quiet    print only problems (and do not look for deadlocks)\n"
	"  -s, --strict   findings fail (exit status 4)\n"
	"      --jobs N   decode generations on N threads (default: the number\n"
	"                 of online processors); the output is the same for\n"
	"                 every N\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show weft's version\n"
	"\n"
	"Exit status: 0 every trace is complete and consistent; 1 a trace is\n"
	"damaged or inconsistent; 2 a file cannot be read (or is a trace of a\n"
	"newer weft), the output cannot be written, or bad arguments; 3 a trace\n"
	"is consistent but truncated (its process was killed or is still\n"
	"writing); 4 (with --strict) every trace is consistent but one has\n"
	"findings.  The worst status of all files is returned.\n";

static const char *verdict_word(enum weft_verdict v)
{
	switch (v) {
	case WEFT_CHECK_OK: return "ok";
	case WEFT_CHECK_INCONSISTENT: return "inconsistent";
	case WEFT_CHECK_UNREADABLE: return "unreadable";
	case WEFT_CHECK_TRUNCATED: return "truncated";
	}
	return "?";
}

static void json_findings(FILE *out, const struct weft_check_result *res)
{
	fprintf(out, ",\"findings_total\":%" PRIu64 ",\"findings\":[",
		res->findings_total);
	for (uint32_t i = 0; i < res->nfindings; i++) {
		const struct weft_finding *f = &res->findings[i];
		char text[256];
		weft_finding_describe(text, sizeof text, f);
		fprintf(out, "%s{\"kind\":\"%s\",\"event\":\"%s\",\"object\":"
			"\"0x%" PRIx64 "\",\"thread\":%u,\"generation\":%u,"
			"\"offset\":%zu,\"stack\":%" PRIu64 ",\"other\":%u,"
			"\"other_generation\":%u,\"other_offset\":%zu,"
			"\"other_stack\":%" PRIu64 ",\"message\":", i ? "," : "",
			weft_finding_name(f->kind), weft_events[f->code].name,
			f->object, f->thread, f->generation, f->offset, f->stack,
			f->other, f->other_generation, f->other_offset, f->other_stack);
		weft_json_string(out, text);
		fputc('}', out);
	}
	fputc(']', out);
}

/* One side of a finding: who, where in the file, and its stack. */
static void print_site(const char *who, uint32_t gen, size_t offset,
		       uint64_t stack, const struct weft_tables *tables)
{
	printf("    %s at offset %zu (generation %u)%s\n", who, offset, gen,
	       stack ? ":" : "");
	if (stack && tables)
		weft_print_stack(stdout, tables, gen, stack);
}

/* Each finding in text, Helgrind-like: what happened, then each side
 * with its stack when one was recorded. */
static void print_findings(const char *path, const struct weft_check_result *res)
{
	struct weft_tables *tables = NULL;
	for (uint32_t i = 0; i < res->nfindings && !tables; i++) {
		if (!res->findings[i].stack && !res->findings[i].other_stack)
			continue;
		struct weft_reader r;
		int status;
		if (weft_reader_open(&r, path) == WEFT_READ_OK)
			tables = weft_tables_load(&r, &status);
		weft_reader_close(&r);
		break;
	}
	for (uint32_t i = 0; i < res->nfindings; i++) {
		const struct weft_finding *f = &res->findings[i];
		char text[256], who[64];
		weft_finding_describe(text, sizeof text, f);
		printf("%s: finding: %s: %s\n", path, weft_finding_name(f->kind), text);
		snprintf(who, sizeof who, "T%u %s", f->thread, weft_events[f->code].name);
		print_site(who, f->generation, f->offset, f->stack, tables);
		if (f->other && f->other_generation) {
			snprintf(who, sizeof who, "T%u %s", f->other,
				 f->kind == WEFT_FINDING_DESTROY_WAITED
				 ? "began to wait" : "took it");
			print_site(who, f->other_generation, f->other_offset,
				   f->other_stack, tables);
		}
	}
	if (res->findings_total > res->nfindings)
		printf("%s: %" PRIu64 " more findings not listed\n", path,
		       res->findings_total - res->nfindings);
	weft_tables_free(tables);
}

/* One file's verdict and summary, its findings, and after them the
 * deadlocks and stuck threads it ends in (tl and stuck NULL when it
 * could not be read). */
static void report(const char *path, const struct weft_check_result *res,
		   const struct timeline *tl, const struct stuck *stuck, int json,
		   int quiet)
{
	double secs = res->frequency && res->last_ts > res->first_ts
		? (double)(res->last_ts - res->first_ts) / (double)res->frequency : 0;
	if (json) {
		printf("{\"file\":");
		weft_json_string(stdout, path);
		printf(",\"verdict\":\"%s\",\"generations\":%u,\"threads\":%u,"
		       "\"events\":%" PRIu64 ",\"batches\":%" PRIu64 ",\"bytes\":%" PRIu64
		       ",\"duration_s\":%.9f,\"lost\":%" PRIu64 ",\"complete\":%s"
		       ",\"contention_generations\":%u",
		       verdict_word(res->verdict), res->generations, res->threads,
		       res->events, res->batches, res->bytes, secs, res->lost,
		       res->complete ? "true" : "false", res->contention_generations);
		if (res->error[0]) {
			printf(",\"error\":");
			weft_json_string(stdout, res->error);
		}
		if (res->note[0]) {
			printf(",\"note\":");
			weft_json_string(stdout, res->note);
		}
		json_findings(stdout, res);
		if (stuck)
			stuck_report_json(stdout, tl, stuck);
		else if (res->verdict != WEFT_CHECK_UNREADABLE)
			printf(",\"deadlocks\":[],\"stuck\":[]");
		printf("}\n");
		return;
	}
	if (res->verdict == WEFT_CHECK_UNREADABLE) {
		fprintf(stderr, "weft check: %s: %s\n", path, res->error);
		return;
	}
	if (res->verdict == WEFT_CHECK_INCONSISTENT) {
		fprintf(stderr, "weft check: %s: %s\n", path, res->error);
		return;
	}
	if (res->verdict == WEFT_CHECK_TRUNCATED)
		fprintf(stderr, "weft check: %s: truncated: %s\n", path, res->note);
	else if (res->note[0] && !quiet)
		fprintf(stderr, "weft check: %s: note: %s\n", path, res->note);
	print_findings(path, res);
	if (!quiet && res->contention_generations)
		printf("%s: %u of %u generations recorded in contention mode: "
		       "lock holders and lock numbering not checked there\n", path,
		       res->contention_generations, res->generations);
	if (!quiet)
		printf("%s: %s: %u generations, %u threads, %" PRIu64 " events, "
		       "%.3f s, %" PRIu64 " lost, %" PRIu64 " findings\n", path,
		       verdict_word(res->verdict), res->generations, res->threads,
		       res->events, secs, res->lost, res->findings_total);
	if (stuck)
		stuck_report_text(stdout, tl, stuck, "");
}

/* Checks one file and reports it; returns its verdict, and adds its
 * findings to *findings. */
int weft_check_file(const char *path, int json, int quiet, unsigned jobs,
		    uint64_t *findings)
{
	struct weft_reader r;
	struct weft_check_result res;
	memset(&res, 0, sizeof res);
	int rc = weft_reader_open(&r, path);
	struct timeline *tl = NULL;
	struct stuck *stuck = NULL;
	if (rc == WEFT_READ_OK) {
		weft_check_jobs(&r, NULL, NULL, &res, jobs);
		weft_reader_close(&r);
		/* The deadlocks and stuck threads a trace ends in take a
		 * second pass, over its timeline, and only a trace that may
		 * end in them gets it: one that checks, and whose process
		 * was still running at its end (not one ended by exit or
		 * exec, which most traces are). */
		int may_hang = (res.verdict == WEFT_CHECK_OK ||
				res.verdict == WEFT_CHECK_TRUNCATED) && !res.image_ended;
		if (may_hang && (!quiet || json) &&
		    weft_reader_open(&r, path) == WEFT_READ_OK) {
			tl = tl_new(&r);
			tl_set_jobs(tl, jobs);
			stuck = stuck_new(tl);
			tl_run(tl, stuck_add, stuck);
			stuck_finish(stuck);
		}
	} else {
		res.verdict = weft_open_status(rc, &r) == WEFT_EXIT_USAGE
			? WEFT_CHECK_UNREADABLE : WEFT_CHECK_INCONSISTENT;
		snprintf(res.error, sizeof res.error, "%s", r.error);
		weft_reader_close(&r);
	}
	report(path, &res, tl, stuck, json, quiet);
	stuck_free(stuck);
	tl_close(tl);
	*findings += res.findings_total;
	return res.verdict;
}


int weft_cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "strict", no_argument, NULL, 's' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int json = 0, quiet = 0, strict = 0, c;
	unsigned jobs = weft_default_jobs();
	optind = 1;
	while ((c = getopt_long(argc, argv, "+jqshV", opts, NULL)) != -1) {
		switch (c) {
		case 'j': json = 1; break;
		case 'q': quiet = 1; break;
		case 's': strict = 1; break;
		case 'J':
			if (weft_parse_jobs("check", optarg, &jobs) < 0)
				return WEFT_EXIT_USAGE;
			break;
		case 'h': fputs(check_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(check_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "weft check: no trace file given\n");
		fputs(check_usage, stderr);
		return WEFT_EXIT_USAGE;
	}
	int worst = WEFT_CHECK_OK, dirs;
	uint64_t findings = 0;
	unsigned n;
	char **paths = trace_paths(argv + optind, argc - optind, "check", &n, &worst,
				   &dirs);
	for (unsigned i = 0; i < n; i++) {
		worst = weft_check_exit(worst, weft_check_file(paths[i], json, quiet,
							       jobs, &findings));
		free(paths[i]);
	}
	free(paths);
	if (strict && findings && worst == WEFT_CHECK_OK)
		worst = WEFT_EXIT_FINDINGS;
	return weft_output_written("check", worst);
}
