/*
 * dump.c - `weft dump`: every record of a trace, one line each, in the
 * validated global order (or in file order), or `--summary`, the counts
 * per event kind; options, files and exit statuses (the printing itself
 * is text.c, in the library).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "text.h"
#include "traces.h"

/* Says on stderr what is wrong with the trace, in one line, and returns
 * the verdict as the exit status: the same as weft check's. */
static int report(const char *path, enum weft_verdict v,
		  const struct weft_check_result *res)
{
	if (v == WEFT_CHECK_INCONSISTENT || v == WEFT_CHECK_UNREADABLE)
		fprintf(stderr, "weft dump: %s: %s\n", path, res->error);
	else if (v == WEFT_CHECK_TRUNCATED)
		fprintf(stderr, "weft dump: %s: truncated: %s\n", path, res->note);
	return (int)v;
}

/* Prints a trace in the validated global order. */
/* Opens path for dumping and loads its id tables: NULL (having said why)
 * with the exit status in *rc when it cannot be read. */
static struct weft_tables *open_with_tables(struct weft_reader *r,
					    const char *path, int *rc)
{
	*rc = weft_open_trace(r, path, "dump");
	if (*rc)
		return NULL;
	int st;
	return weft_tables_load(r, &st);
}

static int dump_ordered(const char *path)
{
	struct weft_reader r;
	int rc;
	struct weft_tables *t = open_with_tables(&r, path, &rc);
	if (rc)
		return rc;
	static struct weft_check_result res;
	enum weft_verdict v = weft_print_ordered(&r, t, stdout, &res);
	fflush(stdout);
	weft_tables_free(t);
	weft_reader_close(&r);
	return report(path, v, &res);
}

/* Reads one trace in file order; writes its records to records and its
 * summary to summary, either may be NULL.  Returns the verdict weft check
 * gives the file, having said on stderr what is wrong. */
static int summarize_file(const char *path, FILE *summary, FILE *records)
{
	struct weft_reader r;
	int rc;
	struct weft_tables *t = open_with_tables(&r, path, &rc);
	if (rc)
		return rc;
	struct weft_print_counts n;
	memset(&n, 0, sizeof n);
	weft_print_file_order(&r, t, records, &n);
	if (records)
		fflush(records);
	if (summary)
		weft_print_summary(summary, path, &r, &n);
	weft_tables_free(t);
	/* The walk in file order reads the structure only; the status is
	 * the verdict of the whole check, as weft check gives it. */
	static struct weft_check_result res;
	memset(&res, 0, sizeof res);
	weft_reader_close(&r);
	if (weft_reader_open(&r, path) != WEFT_READ_OK) {
		fprintf(stderr, "weft dump: %s: %s\n", path, r.error);
		weft_reader_close(&r);
		return WEFT_EXIT_USAGE;
	}
	enum weft_verdict v = weft_check(&r, NULL, NULL, &res);
	weft_reader_close(&r);
	return report(path, v, &res);
}

static const char dump_usage[] =
	"usage: weft dump [--summary] [--file-order] FILE|DIR...\n"
	"\n"
	"Print every record of each trace, one line each: generation, thread\n"
	"(serial and name), seconds since the trace began, event and arguments,\n"
	"with stacks and symbols resolved.  Records come in the validated\n"
	"global order weft check proves (each generation's process records\n"
	"after its thread records); a trace with no consistent order is\n"
	"printed up to the point where ordering fails, then the error.  A\n"
	"directory stands for every weft trace in it.\n"
	"\n"
	"  -f, --file-order  print records in the order they lie in the file\n"
	"  -s, --summary     print counts per event kind instead of the records\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show weft's version\n"
	"\n"
	"Exit status, the same as weft check's on the same files (with\n"
	"--file-order and --summary too): 0 all read, 1 a trace is damaged or\n"
	"inconsistent (the error names the byte offset), 2 a file cannot be\n"
	"read (or is a trace of a newer weft), the output cannot be written or\n"
	"the arguments are wrong, 3 the trace is truncated (all of it that\n"
	"exists was printed).\n";

int weft_cmd_dump(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "summary", no_argument, NULL, 's' },
		{ "file-order", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int summary = 0, file_order = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+sfhV", opts, NULL)) != -1) {
		switch (c) {
		case 's': summary = 1; break;
		case 'f': file_order = 1; break;
		case 'h': fputs(dump_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(dump_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "weft dump: no trace file given\n");
		fputs(dump_usage, stderr);
		return WEFT_EXIT_USAGE;
	}
	int worst = 0, dirs;
	unsigned n;
	char **paths = trace_paths(argv + optind, argc - optind, "dump", &n, &worst,
				   &dirs);
	for (unsigned i = 0; i < n; i++) {
		int rc = summary || file_order
			? summarize_file(paths[i], summary ? stdout : NULL,
					 summary ? NULL : stdout)
			: dump_ordered(paths[i]);
		worst = weft_check_exit(worst, rc);
		free(paths[i]);
	}
	free(paths);
	return weft_output_written("dump", worst);
}
