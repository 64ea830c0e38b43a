/*
 * common.c - what the subcommands share (see common.h).
 */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "utf8.h"
#include "wire.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

int weft_print_version(void)
{
	printf("weft %s (trace format %d)\n", WEFT_VERSION, WEFT_FORMAT_VERSION);
	return 0;
}

int weft_open_status(int rc, const struct weft_reader *r)
{
	if (rc == WEFT_READ_IOERR || r->header.version > WEFT_FORMAT_VERSION)
		return WEFT_EXIT_USAGE;
	return WEFT_EXIT_BAD;
}

int weft_open_trace(struct weft_reader *r, const char *path, const char *cmd)
{
	int rc = weft_reader_open(r, path);
	if (rc == WEFT_READ_OK)
		return 0;
	fprintf(stderr, "weft %s: %s: %s\n", cmd, path, r->error);
	weft_reader_close(r);
	return weft_open_status(rc, r);
}

unsigned weft_default_jobs(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n > WEFT_MAX_JOBS ? WEFT_MAX_JOBS : (unsigned)n;
}

int weft_parse_jobs(const char *cmd, const char *arg, unsigned *jobs)
{
	char *end;
	errno = 0;
	unsigned long n = strtoul(arg, &end, 10);
	if (!*arg || *end || errno || *arg == '-' || n < 1 || n > WEFT_MAX_JOBS) {
		fprintf(stderr, "weft %s: --jobs wants a number from 1 to %d, not "
			"\"%s\"\n", cmd, WEFT_MAX_JOBS, arg);
		return -1;
	}
	*jobs = (unsigned)n;
	return 0;
}

int weft_check_exit(int worst_so_far, int verdict)
{
	static const int rank[] = { [WEFT_CHECK_OK] = 0, [WEFT_CHECK_TRUNCATED] = 1,
				    [WEFT_CHECK_INCONSISTENT] = 2,
				    [WEFT_CHECK_UNREADABLE] = 3 };
	return rank[verdict] > rank[worst_so_far] ? verdict : worst_so_far;
}

int weft_report_partial(const char *cmd, const char *path,
			const struct weft_check_result *res)
{
	switch (res->verdict) {
	case WEFT_CHECK_OK:
		return 0;
	case WEFT_CHECK_TRUNCATED:
		fprintf(stderr, "weft %s: %s: truncated (results cover the part that "
			"was written): %s\n", cmd, path, res->note);
		return WEFT_CHECK_TRUNCATED;
	case WEFT_CHECK_UNREADABLE:
		fprintf(stderr, "weft %s: %s: %s\n", cmd, path, res->error);
		return WEFT_EXIT_USAGE;
	case WEFT_CHECK_INCONSISTENT:
		break;
	}
	fprintf(stderr, "weft %s: %s: results stop where the trace stops being "
		"consistent: %s\n", cmd, path, res->error);
	return WEFT_EXIT_BAD;
}

int weft_output_written(const char *cmd, int status)
{
	int flush_failed = fflush(stdout) != 0;
	int err = errno;
	if (!flush_failed && !ferror(stdout))
		return status;
	fprintf(stderr, "weft %s: cannot write the output: %s\n", cmd,
		flush_failed ? strerror(err) : "a write failed");
	return WEFT_EXIT_USAGE;
}

void weft_json_string(FILE *out, const char *s)
{
	fputc('"', out);
	while (*s) {
		unsigned char ch = (unsigned char)*s;
		size_t len = weft_utf8_sequence(s);
		if (ch == '"' || ch == '\\') {
			fputc('\\', out);
			fputc(ch, out);
		} else if (ch == '\n') {
			fputs("\\n", out);
		} else if (ch < 0x20) {
			fprintf(out, "\\u%04x", ch);
		} else if (!len) {
			/* Not UTF-8: JSON text must be. */
			fputs("\\ufffd", out);
			len = 1;
		} else {
			fwrite(s, 1, len, out);
		}
		s += len;
	}
	fputc('"', out);
}

void weft_json_string_or_null(FILE *out, const char *s)
{
	if (s)
		weft_json_string(out, s);
	else
		fputs("null", out);
}
