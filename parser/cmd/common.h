/*
 * common.h - what the subcommands of `weft` share: exit statuses, the
 * version line, opening a trace with a one-line error, --jobs, the status for
 * the worst of several verdicts, making sure stdout was written, and the
 * one JSON string writer every --json output uses.
 */
#ifndef WEFT_COMMON_H
#define WEFT_COMMON_H

#include <stdio.h>

#include "check.h"
#include "reader.h"

/* Exit statuses of the reading commands (besides an enum weft_verdict's
 * value, which they exit with as it is). */
#define WEFT_EXIT_BAD   1   /* a trace is damaged or inconsistent */
#define WEFT_EXIT_USAGE 2   /* a file cannot be read, or bad arguments */
#define WEFT_EXIT_FINDINGS 4 /* weft check --strict: the program misused
				an object (a finding) */

/* Exit statuses of `weft record`'s own failures (otherwise it exits with
 * the command's status), as env(1) and timeout(1) do. */
#define WEFT_EXIT_RECORD_FAILED 125
#define WEFT_EXIT_CANNOT_RUN    126
#define WEFT_EXIT_NOT_FOUND     127

/* Prints "weft VERSION (trace format N)" on stdout; returns 0. */
int weft_print_version(void);

/* The exit status for a trace weft_reader_open() refused with rc:
 * WEFT_EXIT_USAGE when the file cannot be read (or is of a newer format
 * version than this weft reads), WEFT_EXIT_BAD when it is damaged. */
int weft_open_status(int rc, const struct weft_reader *r);
/* Opens path for `weft cmd`: 0, or (having said why on stderr, in one
 * line, and closed r) the exit status. */
int weft_open_trace(struct weft_reader *r, const char *path, const char *cmd);

/* The number of threads a reading command uses by default: the online
 * processors. */
unsigned weft_default_jobs(void);
/* Parses --jobs's argument for `weft cmd` into *jobs: 0, or -1 having
 * said why on stderr. */
int weft_parse_jobs(const char *cmd, const char *arg, unsigned *jobs);

/* The worse of two verdicts (enum weft_verdict): unreadable, then
 * inconsistent, then truncated, then ok. */
int weft_check_exit(int worst_so_far, int verdict);

/* For a command that read a trace through the timeline: says on stderr
 * what the validator held against it, as "weft CMD: PATH: ...", and
 * returns the exit status (0, 1 inconsistent, 2 unreadable, 3 truncated). */
int weft_report_partial(const char *cmd, const char *path,
			const struct weft_check_result *res);

/* status, when everything printed reached stdout; otherwise (a full
 * disk, a closed pipe) says so on stderr and returns WEFT_EXIT_USAGE. */
int weft_output_written(const char *cmd, int status);

/* s as a JSON string: quotes, '"' and '\\' escaped, a newline as \n and
 * the other control characters as \u00XX, a byte that starts no UTF-8
 * sequence as \ufffd; the rest as it is.  Every JSON string any command
 * writes goes through here, so the output is always valid UTF-8. */
void weft_json_string(FILE *out, const char *s);
/* The same, or null when s is NULL. */
void weft_json_string_or_null(FILE *out, const char *s);

#endif
