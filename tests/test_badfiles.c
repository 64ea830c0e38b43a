/*
 * test_badfiles.c - `weft check` and `weft dump` (in order, in file order,
 * and as a summary) given files that are not good traces: missing, a
 * directory, a FIFO, unreadable, empty, text, a newer format version, a
 * header cut short, a trace cut mid-batch.  Each must say so in exactly
 * one line on stderr naming the file and the problem, exit with the
 * documented status, and never crash or hang.  Also output that cannot
 * be written (a full disk), `weft record -o` at a directory, and hostile
 * traces the validator once mishandled (kept as fuzz regressions too).
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "tracegen.h"

/* The reading commands: each exits as weft check does on the same file. */
static const struct {
	const char *argv[3];
} commands[] = {
	{ { "check" } },
	{ { "dump" } },
	{ { "dump", "--file-order" } },
	{ { "dump", "--summary" } },
};
#define NCOMMANDS (sizeof commands / sizeof commands[0])

/* Builds argv: [prefix...] weft COMMAND... path. */
static void command_argv(char **argv, char *const *prefix, size_t which,
			 const char *path)
{
	int n = 0;
	for (size_t i = 0; prefix && prefix[i]; i++)
		argv[n++] = prefix[i];
	argv[n++] = (char *)h_weft();
	for (int i = 0; i < 3 && commands[which].argv[i]; i++)
		argv[n++] = (char *)commands[which].argv[i];
	argv[n++] = (char *)path;
	argv[n] = NULL;
}

static void assert_one_line(const struct run_result *r, const char *what)
{
	cr_assert_gt(r->err_len, 0, "%s: nothing on stderr", what);
	cr_assert_eq(r->err[r->err_len - 1], '\n', "%s: stderr does not end a line: %s",
		     what, r->err);
	cr_assert_eq(strchr(r->err, '\n') - r->err + 1, (long)r->err_len,
		     "%s: more than one line on stderr:\n%s", what, r->err);
}

/* Runs every reading command on path (optionally behind prefix, e.g. to
 * drop privileges) and checks what it says and how it exits. */
static void expect_all(const char *path, char *const *prefix, int status,
		       const char *problem)
{
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char *argv[12];
		command_argv(argv, prefix, i, path);
		char what[256];
		snprintf(what, sizeof what, "weft %s %s %s", commands[i].argv[0],
			 commands[i].argv[1] ? commands[i].argv[1] : "", path);
		struct run_result r;
		h_run(argv, NULL, &r);
		cr_assert_lt(r.status, 128, "%s: killed by signal %d\n%s", what,
			     r.status - 128, r.err);
		cr_assert_eq(r.status, status, "%s: exit %d, not %d:\n%s", what,
			     r.status, status, r.err);
		assert_one_line(&r, what);
		cr_assert(strstr(r.err, path), "%s: the message does not name the "
			  "file: %s", what, r.err);
		cr_assert(strstr(r.err, problem), "%s: the message does not say "
			  "\"%s\": %s", what, problem, r.err);
		h_free(&r);
	}
}

static void write_file(const char *path, const void *data, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, data, n), (ssize_t)n);
	close(fd);
}

/* A real trace, read into memory: *size bytes. */
static unsigned char *good_trace(const char *name, size_t *size)
{
	char *path = h_trace_path(name);
	char *argv[] = { (char *)h_weft(), "record", "-o", path, "--",
			 (char *)h_program("sync_zoo"), NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	h_assert_checks(path);
	FILE *f = fopen(path, "rb");
	cr_assert(f);
	static unsigned char buf[1 << 22];
	*size = fread(buf, 1, sizeof buf, f);
	cr_assert(*size > 100 && *size < sizeof buf);
	fclose(f);
	return buf;
}

Test(badfiles, missing_file, .timeout = 30)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/no-such.trace", h_tmpdir());
	expect_all(path, NULL, 2, "No such file or directory");
}

/* A directory stands for the traces in it: one with none is a file that
 * cannot be read. */
Test(badfiles, directory_without_traces, .timeout = 30)
{
	expect_all(h_tmpdir(), NULL, 2, "no weft trace in this directory");
}

/* Opening a FIFO for reading waits for a writer: the commands must not. */
Test(badfiles, fifo_does_not_hang, .timeout = 30)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/pipe.trace", h_tmpdir());
	cr_assert_eq(mkfifo(path, 0600), 0);
	expect_all(path, NULL, 2, "not a regular file");
}

/* Permissions do not stop root, so as root the commands run as nobody
 * (setpriv), for whom a mode-000 file is unreadable. */
Test(badfiles, unreadable_file, .timeout = 30)
{
	char dir[2048], path[4096];
	snprintf(dir, sizeof dir, "%s/unreadable", h_tmpdir());
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof path, "%s/secret.trace", dir);
	write_file(path, "WEFTRACE", 8);
	cr_assert_eq(chmod(path, 0), 0);
	if (geteuid() != 0) {
		expect_all(path, NULL, 2, "Permission denied");
		return;
	}
	if (access("/usr/bin/setpriv", X_OK) != 0)
		cr_skip("running as root without setpriv: root reads any file, so "
			"there is no unreadable file to test with");
	/* nobody must reach the file: open the directories above it. */
	cr_assert_eq(chmod(h_tmpdir(), 0711), 0);
	char *as_nobody[] = { "/usr/bin/setpriv", "--reuid=65534", "--regid=65534",
			      "--clear-groups", NULL };
	expect_all(path, as_nobody, 2, "Permission denied");
}

Test(badfiles, empty_file, .timeout = 30)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/empty.trace", h_tmpdir());
	write_file(path, "", 0);
	expect_all(path, NULL, 1, "empty file");
}

Test(badfiles, text_file, .timeout = 30)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/notes.txt", h_tmpdir());
	const char text[] = "these are not the bytes of a weft trace\n";
	write_file(path, text, sizeof text - 1);
	expect_all(path, NULL, 1, "not a weft trace");
}

/* A newer weft's trace cannot be read by this one (status 2, as an
 * unreadable file); version 0 was never written, so it is damage. */
Test(badfiles, format_versions, .timeout = 60)
{
	size_t size;
	unsigned char *trace = good_trace("versions", &size);
	char path[4096];
	snprintf(path, sizeof path, "%s/future.trace", h_tmpdir());
	trace[8] = WEFT_FORMAT_VERSION + 1;
	write_file(path, trace, size);
	char newer[64];
	snprintf(newer, sizeof newer, "format version %d", WEFT_FORMAT_VERSION + 1);
	expect_all(path, NULL, 2, newer);
	expect_all(path, NULL, 2, "newer weft");
	snprintf(path, sizeof path, "%s/far-future.trace", h_tmpdir());
	trace[8] = 0xff;
	trace[11] = 0xff;
	write_file(path, trace, size);
	expect_all(path, NULL, 2, "format version 4278190335");
	snprintf(path, sizeof path, "%s/zero.trace", h_tmpdir());
	trace[8] = 0;
	trace[11] = 0;
	write_file(path, trace, size);
	expect_all(path, NULL, 1, "format version 0");
}

Test(badfiles, header_cut_short, .timeout = 60)
{
	size_t size;
	unsigned char *trace = good_trace("header", &size);
	size_t cuts[] = { 3, 8, 12, 15 };
	for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/cut%zu.trace", h_tmpdir(), cuts[i]);
		write_file(path, trace, cuts[i]);
		expect_all(path, NULL, 1, cuts[i] < 8 ? "not a weft trace"
						      : "file header truncated");
	}
	/* The fixed part is whole but the fields it announces are not. */
	char path[4096];
	snprintf(path, sizeof path, "%s/cut20.trace", h_tmpdir());
	write_file(path, trace, 20);
	expect_all(path, NULL, 1, "runs past the end of the file");
}

/* Cut inside a batch: every command validates what is there and reports
 * the trace truncated (3). */
Test(badfiles, trace_cut_mid_batch, .timeout = 60)
{
	size_t size;
	unsigned char *trace = good_trace("whole", &size);
	char path[4096];
	snprintf(path, sizeof path, "%s/cut.trace", h_tmpdir());
	write_file(path, trace, size * 2 / 3);
	expect_all(path, NULL, 3, "truncated");
	/* Cut inside the very first batch header. */
	uint32_t header_len = (uint32_t)trace[12] | (uint32_t)trace[13] << 8;
	write_file(path, trace, 16 + header_len + 10);
	expect_all(path, NULL, 3, "batch header truncated");
}

/* Several files: each bad one gets its line, the good ones are still
 * checked, and the worst status wins. */
Test(badfiles, bad_files_among_good, .timeout = 60)
{
	size_t size;
	unsigned char *trace = good_trace("among", &size);
	char good[4096], missing[4096], text[4096];
	snprintf(good, sizeof good, "%s/good.trace", h_tmpdir());
	snprintf(missing, sizeof missing, "%s/missing.trace", h_tmpdir());
	snprintf(text, sizeof text, "%s/text.trace", h_tmpdir());
	write_file(good, trace, size);
	write_file(text, "hello\n", 6);
	char *argv[] = { (char *)h_weft(), "check", text, good, missing, good, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, text) && strstr(r.err, missing), "%s", r.err);
	int lines = 0;
	for (char *p = r.err; (p = strchr(p, '\n')); p++)
		lines++;
	cr_assert_eq(lines, 2, "one line per bad file:\n%s", r.err);
	char *second = strstr(r.out, good);
	cr_assert(second && strstr(second + 1, good), "both good files are "
		  "checked: %s", r.out);
	h_free(&r);
}

Test(badfiles, record_output_is_a_directory, .timeout = 30)
{
	char *argv[] = { (char *)h_weft(), "record", "-o", (char *)h_tmpdir(), "--",
			 "true", NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 125, "%s", r.err);
	assert_one_line(&r, "weft record -o DIR");
	cr_assert(strstr(r.err, h_tmpdir()), "%s", r.err);
	h_free(&r);
	struct stat st;
	cr_assert_eq(stat(h_tmpdir(), &st), 0);
	cr_assert(S_ISDIR(st.st_mode), "the directory is left alone");
}

/* A full disk under the output: an error, not a silently short dump. */
Test(badfiles, output_cannot_be_written, .timeout = 60)
{
	size_t size;
	unsigned char *trace = good_trace("full", &size);
	char path[4096];
	snprintf(path, sizeof path, "%s/good.trace", h_tmpdir());
	write_file(path, trace, size);
	char *to_full[] = { "/bin/sh", "-c", "exec \"$0\" \"$@\" >/dev/full", NULL };
	for (size_t i = 0; i < NCOMMANDS; i++) {
		char *argv[12];
		command_argv(argv, to_full, i, path);
		struct run_result r;
		h_run(argv, NULL, &r);
		cr_assert_eq(r.status, 2, "weft %s: exit %d: %s", commands[i].argv[0],
			     r.status, r.err);
		assert_one_line(&r, commands[i].argv[0]);
		cr_assert(strstr(r.err, "cannot write the output"), "%s", r.err);
		h_free(&r);
	}
}

/* ---- hostile traces, checked in-process ---- */

/* One thread whose records are given; a complete trace of generation 1. */
static void one_thread(struct tg *t)
{
	tg_init(t);
	tg_clock(t, 1);
	tg_batch(t, 1, 1, 1000);
	TG(t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 1000);
}

static void end_one_thread(struct tg *t)
{
	TG0(t, THREAD_EXIT, 1100);
	tg_close(t);
	tg_gen_end(t, 1, 1);
}

/* sem_init cannot succeed above SEM_VALUE_MAX; a trace saying it did once
 * overflowed the validator's count of the value. */
Test(badfiles, sem_init_above_sem_value_max, .timeout = 30)
{
	const uint64_t sem = 0x5000;
	uint64_t values[] = { SEM_VALUE_MAX, (uint64_t)SEM_VALUE_MAX + 1, INT64_MAX };
	for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
		struct tg t;
		one_thread(&t);
		TG(&t, SEM_INIT, 1010, sem, values[i], 0);
		TG(&t, SEM_POST, 1020, sem, 1, 0);
		end_one_thread(&t);
		struct weft_check_result res;
		enum weft_verdict v = tg_check(&t, &res);
		if (values[i] <= SEM_VALUE_MAX) {
			cr_assert_eq(v, WEFT_CHECK_OK, "%s", res.error);
		} else {
			cr_assert_eq(v, WEFT_CHECK_INCONSISTENT);
			cr_assert(strstr(res.error, "SEM_VALUE_MAX"), "%s", res.error);
		}
		tg_free(&t);
	}
}

/* GEN_END's generation is a 64-bit field: neither 0 nor a value that is
 * the batch's generation modulo 2^32 ends the generation. */
Test(badfiles, gen_end_names_another_generation, .timeout = 30)
{
	uint64_t named[] = { 0, (1ull << 32) + 1 };
	for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
		struct tg t;
		one_thread(&t);
		TG0(&t, THREAD_EXIT, 1100);
		tg_close(&t);
		tg_batch(&t, 0, 1, 1000);
		TG(&t, GEN_END, 0, named[i], 1, 1);
		TG(&t, TRACE_END, 0, 1);
		struct weft_check_result res;
		cr_assert_eq(tg_check(&t, &res), WEFT_CHECK_INCONSISTENT, "%s", res.note);
		cr_assert(strstr(res.error, "GEN_END names generation"), "%s", res.error);
		tg_free(&t);
	}
}

/* The CPU time of the calling thread, in seconds: the checks below are
 * timed by the work they do, which a loaded machine does not change (their
 * wall-clock time on one can be several times as long). */
static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Work per generation must follow what the generation holds: one thread
 * with a serial near the reader's limit and 3000 empty generations used
 * to cost a scan of every serial per generation (minutes). */
Test(badfiles, many_generations_and_a_high_serial, .timeout = 60)
{
	enum { GENERATIONS = 3000, SERIAL = 4000000 };
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	tg_batch(&t, SERIAL, 1, 1000);
	TG(&t, STATUS, 1000, WEFT_STATE_RUNNING, 0, 0, 1000);
	tg_close(&t);
	tg_batch(&t, 0, 1, 1000);
	TG(&t, GEN_END, 0, 1, 1, 0);
	for (uint64_t g = 2; g <= GENERATIONS; g++) {
		tg_batch(&t, 0, (uint32_t)g, 1000);
		TG(&t, GEN_END, 0, g, 0, 0);
	}
	TG(&t, TRACE_END, 0, GENERATIONS);
	double start = cpu_seconds();
	struct weft_check_result res;
	cr_assert_eq(tg_check(&t, &res), WEFT_CHECK_OK, "%s %s", res.error, res.note);
	double secs = cpu_seconds() - start;
	cr_assert_eq(res.generations, GENERATIONS);
	cr_assert_lt(secs, 5.0, "checking took %.1f s of CPU time", secs);
	tg_free(&t);
}

/* A thread name is the traced program's text: dump prints it escaped, so
 * a hostile trace cannot forge lines or send the terminal escapes. */
Test(badfiles, dump_escapes_thread_names, .timeout = 30)
{
	static const char name[] = "\x1b[2J\nforged line\\";
	struct tg t;
	one_thread(&t);
	struct weft_record rec = { .code = WEFT_EV_THREAD_NAME, .ts = 1005 };
	rec.args[0] = 1;
	rec.bytes = (const uint8_t *)name;
	rec.nbytes = sizeof name - 1;
	cr_assert_geq(t.cap - t.len, (size_t)WEFT_RECORD_MAX);
	t.len = (size_t)(weft_encode_record(t.data + t.len, &rec, &t.state) - t.data);
	end_one_thread(&t);
	tg_close(&t);
	char path[4096];
	snprintf(path, sizeof path, "%s/named.trace", h_tmpdir());
	write_file(path, t.data, t.len);
	tg_free(&t);

	char *argv[] = { (char *)h_weft(), "dump", path, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_null(memchr(r.out, 0x1b, r.out_len), "an escape reached the output:\n%s", r.out);
	cr_assert(strstr(r.out, "T1(\\x1b[2J\\x0aforged line\\x5c)"), "%s", r.out);
	for (char *line = r.out; *line; line = strchr(line, '\n') + 1)
		cr_assert_eq(line[0], 'g', "a line that is not a record:\n%s", r.out);
	h_free(&r);
}

/* Threads whose clocks contradict the order the sequence numbers give:
 * each event waits until the one before it in the mutex's sequence has
 * applied.  Waking every waiting thread after every event made this
 * quadratic (seconds for a few thousand threads). */
Test(badfiles, many_threads_waiting_on_one_sequence, .timeout = 60)
{
	enum { THREADS = 3000, ROUNDS = 2 };
	const uint64_t mutex = 0x9000;
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	for (uint64_t i = 0; i < THREADS; i++) {
		/* The last thread's clock is the earliest. */
		uint64_t ts = 1000 + (THREADS - i) * 10;
		tg_batch(&t, (uint32_t)i + 1, 1, ts);
		TG(&t, STATUS, ts, WEFT_STATE_RUNNING, 0, 0, ts);
		for (uint64_t k = 0; k < ROUNDS; k++) {
			uint64_t seq = (k * THREADS + i) * 2 + 1;
			TG(&t, MUTEX_ACQUIRE, ts + 1, mutex, seq, 0);
			TG(&t, MUTEX_UNLOCK, ts + 2, mutex, seq + 1, 0);
		}
	}
	tg_gen_end(&t, 1, 1);
	double start = cpu_seconds();
	struct weft_check_result res;
	cr_assert_eq(tg_check(&t, &res), WEFT_CHECK_OK, "%s %s", res.error, res.note);
	double secs = cpu_seconds() - start;
	cr_assert_eq(res.events, THREADS * (1 + 2 * ROUNDS) + 3);
	cr_assert_lt(secs, 2.0, "checking took %.1f s of CPU time", secs);
	tg_free(&t);
}

/* Every prefix of a real trace is a trace cut short: a process killed
 * mid-write leaves one.  Recorded with stacks (a generation's stack table
 * is written at its end, after events that name its ids), several
 * generations and small buffers, and cut at every batch boundary and in
 * the middle of batches, each prefix must be "truncated" (3), never
 * "inconsistent" (1): what is missing can explain any cause the checker
 * cannot find.  The commands agree with the library on a sample of cuts. */
Test(badfiles, every_cut_is_truncated, .timeout = 300)
{
	char *path = h_trace_path("sweep");
	char *argv[] = { (char *)h_weft(), "record", "--stacks", "-o", path, "--",
			 (char *)h_program("stress_all"), "0.3", NULL };
	char *env[] = { "WEFT_ROTATE_MS=15", "WEFT_BUFFER_KB=4", NULL };
	struct run_result rec;
	h_run(argv, env, &rec);
	cr_assert_eq(rec.status, 0, "%s", rec.err);
	h_free(&rec);
	h_assert_checks(path);
	FILE *f = fopen(path, "rb");
	cr_assert(f);
	static unsigned char trace[64 << 20];
	size_t size = fread(trace, 1, sizeof trace, f);
	fclose(f);
	cr_assert(size > 1000 && size < sizeof trace);

	/* Where the batches begin. */
	static size_t starts[1 << 20];
	size_t nstarts = 0;
	struct weft_reader r;
	struct weft_batch b;
	cr_assert_eq(weft_reader_open_memory(&r, trace, size), WEFT_READ_OK);
	while (weft_reader_next_batch(&r, &b) == WEFT_READ_OK && nstarts < 1 << 20)
		starts[nstarts++] = b.offset;
	weft_reader_close(&r);
	cr_assert_gt(nstarts, 50, "%zu batches", nstarts);

	/* About 300 cuts, spread over the whole file: at a batch's start,
	 * inside its header, and inside its payload. */
	size_t step = nstarts / 100 + 1, cuts = 0, sampled = 0, unordered = 0;
	for (size_t i = 1; i < nstarts; i += step) {
		size_t next = i + 1 < nstarts ? starts[i + 1] : size;
		size_t at[] = { starts[i], starts[i] + 5, (starts[i] + next) / 2 };
		for (size_t k = 0; k < 3; k++) {
			if (at[k] >= size)
				continue;
			struct weft_check_result res;
			memset(&res, 0, sizeof res);
			cr_assert_eq(weft_reader_open_memory(&r, trace, at[k]), WEFT_READ_OK);
			enum weft_verdict v = weft_check(&r, NULL, NULL, &res);
			weft_reader_close(&r);
			cr_assert_eq(v, WEFT_CHECK_TRUNCATED, "cut at %zu of %zu: "
				     "verdict %d: %s%s", at[k], size, v, res.error, res.note);
			cuts++;
			unordered += strstr(res.note, "unchecked") != NULL;
			if (cuts % 47 != 1)
				continue;
			char cut[4096];
			snprintf(cut, sizeof cut, "%s/sweep-cut.trace", h_tmpdir());
			write_file(cut, trace, at[k]);
			expect_all(cut, NULL, 3, "truncated");
			sampled++;
		}
	}
	cr_assert_gt(sampled, 2);
	cr_log_info("%zu cuts, %zu with events left unordered", cuts, unordered);
}
