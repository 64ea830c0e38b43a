/*
 * harness.h - helpers for the integration tests: run a program with or
 * without the preload and capture what it does, and walk a trace's
 * records through the reader library.
 */
#ifndef WEFT_TEST_HARNESS_H
#define WEFT_TEST_HARNESS_H

#include <stddef.h>
#include <stdint.h>

#include "check.h"
#include "reader.h"

struct run_result {
	int status;        /* exit status, or 128 + signal */
	char *out;         /* stdout, NUL-terminated */
	size_t out_len;
	char *err;         /* stderr, NUL-terminated */
	size_t err_len;
};

/* Paths from the environment meson test sets. */
const char *h_preload(void);
const char *h_weft(void);
/* The path of test program NAME. */
const char *h_program(const char *name);
/* A fresh temporary directory for this test's traces. */
const char *h_tmpdir(void);

/* Runs argv; env is a NULL-terminated list of extra NAME=VALUE entries
 * (may be NULL); stdin is /dev/null. */
void h_run(char *const argv[], char *const env[], struct run_result *res);
/* The same in two steps: h_run_start starts argv (in_child, if not NULL,
 * runs in the child just before the exec, and may call only
 * async-signal-safe functions) and h_run_wait collects what it wrote and
 * its status. */
struct h_bg {
	int pid;
	int out, err;    /* read ends of its stdout and stderr */
};
void h_run_start(char *const argv[], char *const env[], void (*in_child)(void),
		 struct h_bg *bg);
void h_run_wait(struct h_bg *bg, struct run_result *res);
void h_free(struct run_result *res);

/* Calls fn for every record of every batch; returns the reader's final
 * status (WEFT_READ_OK when the whole file decoded). */
typedef void (*h_record_fn)(const struct weft_batch *b,
			    const struct weft_record *rec, void *ctx);
int h_walk(const char *path, h_record_fn fn, void *ctx, char *err, size_t errlen);

/* Counts of a decoded trace. */
struct h_counts {
	uint64_t per_code[256];
	uint64_t events;
	uint32_t threads;     /* highest thread serial seen */
	int complete;         /* a TRACE_END record was read */
	uint64_t lost;        /* sum of LOST counts */
	/* Per generation (1..15): thread batches in the file, and the count
	 * its GEN_END claims. */
	uint64_t thread_batches[16];
	uint64_t gen_end_batches[16];
	int status;           /* h_walk's result */
	char error[512];
};

void h_count(const char *path, struct h_counts *c);

/* A program running in the background with its stdin and stdout piped. */
struct h_proc {
	int pid;
	int in;          /* write end of its stdin */
	void *out;       /* FILE * reading its stdout */
	int reaped;      /* it has ended and been waited for... */
	int status;      /* ...with this status (as h_run's) */
};

/* Starts argv with the preload and the extra environment. */
void h_spawn(char *const argv[], char *const env[], struct h_proc *p);
/* Reads one line of its stdout (without the newline) into buf; 0 at EOF. */
int h_read_line(struct h_proc *p, char *buf, size_t cap);
void h_write_line(struct h_proc *p, const char *line);
/* Closes its stdin, reads the rest of its stdout, and returns its status
 * (as h_run does). */
int h_finish(struct h_proc *p);
/* 1 while it runs; once it has ended, reaps it (keeping its status for
 * h_finish) and returns 0. */
int h_still_running(struct h_proc *p);

/* The thread id of pid's weft control thread (looked up once per pid),
 * or 0. */
int h_control_tid(int pid);
/* Sends a start or stop request to pid's control thread, asking for no
 * answer (for storms); returns 0 when it was delivered. */
int h_request(int pid, int op);

/* Writes len bytes of text to a new file name in the test's directory;
 * returns its path. */
char *h_save(const char *name, const char *text, size_t len);
/* Runs a Python script with up to three arguments (a NULL ends them; JSON
 * is read with the standard library); returns its stdout's first line in
 * line. */
void h_python(const char *script, const char *a1, const char *a2,
	      const char *a3, char *line, size_t cap);

/* Runs the validator on a trace file; the result's error/note say why. */
enum weft_verdict h_check(const char *path, struct weft_check_result *res);
/* Asserts that the trace is complete and consistent. */
void h_assert_checks(const char *path);
/* Asserts h_assert_checks() of every file in h_tmpdir() whose name starts
 * with prefix; returns how many there were. */
int h_assert_each_checks(const char *prefix);

/* The trace paths `weft record` reported on stderr, in order: one trace
 * as "written to PATH", several as "N traces written to DIR/: NAME
 * (program), ..." (or "written: PATH (program), ..." when they are not
 * in one directory).  Returns how many. */
int h_reported_traces(const char *err, char paths[][4096], int max);

/* DIR/NAME.trace in this test's temporary directory (thread-local storage,
 * reused after 16 calls). */
char *h_trace_path(const char *name);

#endif
