/*
 * cli.h - the subcommands of `weft` and what they share.
 */
#ifndef WEFT_CLI_H
#define WEFT_CLI_H

#include <stdint.h>
#include <stdio.h>

/* Exit statuses of the reading commands. */
#define WEFT_EXIT_BAD   1   /* a trace is damaged or inconsistent */
#define WEFT_EXIT_USAGE 2   /* a file cannot be read, or bad arguments */
#define WEFT_EXIT_FINDINGS 4 /* weft check --strict: the program misused
				an object (a finding) */

/* Exit statuses of `weft record`'s own failures (otherwise it exits with
 * the command's status), as env(1) and timeout(1) do. */
#define WEFT_EXIT_RECORD_FAILED 125
#define WEFT_EXIT_CANNOT_RUN    126
#define WEFT_EXIT_NOT_FOUND     127

int weft_cmd_dump(int argc, char **argv);
int weft_cmd_record(int argc, char **argv);
int weft_cmd_check(int argc, char **argv);
int weft_cmd_control(int argc, char **argv);
int weft_cmd_stats(int argc, char **argv);
int weft_cmd_export(int argc, char **argv);
int weft_cmd_lockorder(int argc, char **argv);
/* Checks and reports one file; returns its enum weft_verdict and adds the
 * number of its findings to *findings. */
int weft_check_file(const char *path, int json, int quiet, uint64_t *findings);
/* The worse of two verdicts. */
int weft_check_exit(int worst_so_far, int verdict);
/* The exit status for a trace weft_reader_open() refused with rc:
 * WEFT_EXIT_USAGE when the file cannot be read (or is of a newer format
 * version than this weft reads), WEFT_EXIT_BAD when it is damaged. */
struct weft_reader;
int weft_open_status(int rc, const struct weft_reader *r);
/* Opens path for `weft cmd`: 0, or (having said why on stderr, in one
 * line, and closed r) the exit status. */
int weft_open_trace(struct weft_reader *r, const char *path, const char *cmd);
int weft_print_version(void);
/* Whether the trace open at fd ends with TRACE_END (its process completed
 * it); 0 for one cut short or unreadable. */
int weft_trace_is_complete(int fd);

/* Reads one trace; writes its records (file order) to records and its
 * summary to summary, either may be NULL.  Returns the verdict weft check
 * gives the file (an enum weft_verdict, as its exit status), having said
 * on stderr what is wrong. */
int weft_summarize_file(const char *path, FILE *summary, FILE *records);

#endif
