/*
 * test_cli.c - the `weft` command as a user runs it: record (exit status,
 * traces of forked and exec'd processes, static binaries, stacks), dump
 * (good and damaged traces), help and version; the preload's handling of
 * bad environment values; and a real program from Debian traced whole.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* The trace paths `weft record` reported on stderr, in order. */
static int reported_traces(const char *err, char paths[][4096], int max)
{
	int n = 0;
	const char *p = err;
	while (n < max && (p = strstr(p, " written to "))) {
		p += strlen(" written to ");
		size_t len = strcspn(p, "\n");
		snprintf(paths[n++], 4096, "%.*s", (int)len, p);
		p += len;
	}
	return n;
}

static void record(char *const cmd[], const char *output, struct run_result *r)
{
	char *argv[32] = { (char *)h_weft(), "record", "-o", (char *)output, "--" };
	int i = 5;
	for (int j = 0; cmd[j] && i < 31; j++)
		argv[i++] = cmd[j];
	argv[i] = NULL;
	h_run(argv, NULL, r);
}

Test(cli, record_passes_exit_status_and_reports_trace, .timeout = 60)
{
	char *out = h_trace_path("status");
	struct run_result r;
	record((char *[]){ "sh", "-c", "exit 3", NULL }, out, &r);
	cr_assert_eq(r.status, 3);
	char paths[4][4096];
	cr_assert_geq(reported_traces(r.err, paths, 4), 1, "%s", r.err);
	cr_assert_str_eq(paths[0], out);
	h_free(&r);

	record((char *[]){ "sh", "-c", "kill -TERM $$", NULL }, out, &r);
	cr_assert_eq(r.status, 128 + 15, "killed by SIGTERM gives 143, got %d", r.status);
	h_free(&r);
}

Test(cli, record_traces_fork_children, .timeout = 60)
{
	char pattern[4096];
	snprintf(pattern, sizeof pattern, "%s/fork-%%p.trace", h_tmpdir());
	struct run_result r;
	record((char *[]){ (char *)h_program("fork_child"), NULL }, pattern, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "child exited 0\n");
	char paths[4][4096];
	int n = reported_traces(r.err, paths, 4);
	cr_assert_eq(n, 2, "parent and child traces: %s", r.err);
	cr_assert_str_neq(paths[0], paths[1]);
	int fork_children = 0;
	for (int i = 0; i < n; i++) {
		struct h_counts c;
		h_count(paths[i], &c);
		cr_assert_eq(c.status, WEFT_READ_OK, "%s: %s", paths[i], c.error);
		cr_assert(c.complete, "%s is complete", paths[i]);
		h_assert_checks(paths[i]);
		cr_assert_eq(c.per_code[WEFT_EV_FORK], 1);
		if (c.per_code[WEFT_EV_MUTEX_ACQUIRE] && c.threads == 1)
			fork_children++;
	}
	cr_assert_geq(fork_children, 1, "the child's trace holds its own mutex work");
	h_free(&r);
}

Test(cli, record_traces_exec_chains, .timeout = 60)
{
	char pattern[4096];
	snprintf(pattern, sizeof pattern, "%s/exec-%%p.trace", h_tmpdir());
	struct run_result r;
	/* The shell forks for `true`, then replaces itself with echo. */
	record((char *[]){ "/bin/sh", "-c", "/bin/true; exec /bin/echo hi", NULL }, pattern, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "hi\n");
	char paths[8][4096];
	int n = reported_traces(r.err, paths, 8);
	cr_assert_geq(n, 3, "sh, its child and the exec'd echo: %s", r.err);
	int execs = 0;
	for (int i = 0; i < n; i++) {
		struct h_counts c;
		h_count(paths[i], &c);
		cr_assert_eq(c.status, WEFT_READ_OK, "%s: %s", paths[i], c.error);
		cr_assert(c.complete, "%s is complete", paths[i]);
		h_assert_checks(paths[i]);
		execs += (int)c.per_code[WEFT_EV_EXEC];
	}
	/* The shell's own exec; dash runs /bin/true through vfork, whose
	 * child's exec is the new image's business, not the parent's trace. */
	cr_assert_geq(execs, 1, "the shell's exec is recorded");
	h_free(&r);
}

Test(cli, record_refuses_static_binary, .timeout = 30)
{
	struct run_result r;
	record((char *[]){ (char *)h_program("static_hello"), NULL }, h_trace_path("static"), &r);
	cr_assert_eq(r.status, 125);
	cr_assert(strstr(r.err, "is statically linked"), "%s", r.err);
	cr_assert_str_eq(r.out, "", "the static program was not run");
	h_free(&r);
}

Test(cli, record_missing_command, .timeout = 30)
{
	struct run_result r;
	record((char *[]){ "no-such-command-weft", NULL }, h_trace_path("missing"), &r);
	cr_assert_eq(r.status, 127);
	cr_assert(strstr(r.err, "command not found"), "%s", r.err);
	h_free(&r);
}

Test(cli, record_keeps_files_that_are_not_traces, .timeout = 30)
{
	char *out = h_trace_path("precious");
	FILE *f = fopen(out, "w");
	fputs("precious data\n", f);
	fclose(f);
	struct run_result r;
	record((char *[]){ "true", NULL }, out, &r);
	cr_assert_eq(r.status, 125);
	cr_assert(strstr(r.err, "is not a weft trace; not replacing it"), "%s", r.err);
	char buf[64] = { 0 };
	f = fopen(out, "r");
	cr_assert(fgets(buf, sizeof buf, f));
	fclose(f);
	cr_assert_str_eq(buf, "precious data\n");
	h_free(&r);
}

Test(cli, record_with_stacks_symbolizes, .timeout = 60)
{
	char *out = h_trace_path("stacks");
	char *argv[] = { (char *)h_weft(), "record", "--stacks", "-o", out, "--",
			 (char *)h_program("mutex_count"), NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	struct h_counts c;
	h_count(out, &c);
	cr_assert_eq(c.status, WEFT_READ_OK, "%s", c.error);
	cr_assert_gt(c.per_code[WEFT_EV_STACK], 0, "stacks were recorded");
	cr_assert_gt(c.per_code[WEFT_EV_SYMBOL], 0, "program counters were named");
	h_assert_checks(out);
	h_free(&r);

	char *dump[] = { (char *)h_weft(), "dump", out, NULL };
	h_run(dump, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "__libc_start_main+0x"), "a frame in libc is named");
	h_free(&r);
}

Test(cli, bad_environment_values_warn_and_fall_back, .timeout = 60)
{
	static const char *bad[] = {
		"WEFT_BUFFER_KB=abc", "WEFT_BUFFER_KB=-5", "WEFT_BUFFER_KB=",
		"WEFT_BUFFER_KB=99999999999999999999999", "WEFT_MEMORY_MB=0",
		"WEFT_START=yes", "WEFT_STACKS=2",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		char preload[4200], output[4200];
		snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
		char *trace = h_trace_path("badenv");
		unlink(trace);
		snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
		char *env[] = { preload, output, (char *)bad[i], NULL };
		char *argv[] = { (char *)h_program("mutex_count"), NULL };
		struct run_result r;
		h_run(argv, env, &r);
		cr_assert_eq(r.status, 0, "%s", bad[i]);
		cr_assert_str_eq(r.out, "counter=10000\n", "%s", bad[i]);
		char name[64];
		snprintf(name, sizeof name, "%.*s", (int)strcspn(bad[i], "="), bad[i]);
		cr_assert(strstr(r.err, name), "%s: a warning names the variable: %s", bad[i], r.err);
		cr_assert_eq(strchr(r.err, '\n') - r.err + 1, (long)r.err_len,
			     "%s: exactly one line: %s", bad[i], r.err);
		struct h_counts c;
		h_count(trace, &c);
		cr_assert_eq(c.status, WEFT_READ_OK, "%s: %s", bad[i], c.error);
		cr_assert_eq(c.per_code[WEFT_EV_MUTEX_ACQUIRE], 10000, "%s: traced with the default",
			     bad[i]);
		h_assert_checks(trace);
		h_free(&r);
	}
}

Test(cli, dump_reads_a_trace_and_summarizes, .timeout = 60)
{
	char *out = h_trace_path("dumped");
	struct run_result r;
	record((char *[]){ (char *)h_program("mutex_count"), NULL }, out, &r);
	h_free(&r);
	char *dump[] = { (char *)h_weft(), "dump", out, NULL };
	h_run(dump, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	size_t acquires = 0;
	for (const char *p = r.out; (p = strstr(p, " MUTEX_ACQUIRE ")); p++)
		acquires++;
	cr_assert_eq(acquires, 10000);
	cr_assert(strstr(r.out, "TRACE_END"));
	h_free(&r);

	char *sum[] = { (char *)h_weft(), "dump", "--summary", out, NULL };
	h_run(sum, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "5 threads"), "%s", r.out);
	cr_assert(strstr(r.out, ", complete"), "%s", r.out);
	cr_assert(strstr(r.out, "MUTEX_ACQUIRE           10000"), "%s", r.out);
	h_free(&r);
}

/* Copies the first n bytes of src to a new file; returns its path. */
static char *truncated_copy(const char *src, const char *name, off_t n)
{
	char *dst = h_trace_path(name);
	int in = open(src, O_RDONLY), out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert(in >= 0 && out >= 0);
	char buf[65536];
	while (n > 0) {
		ssize_t got = read(in, buf, n < (off_t)sizeof buf ? (size_t)n : sizeof buf);
		cr_assert_gt(got, 0);
		cr_assert_eq(write(out, buf, (size_t)got), got);
		n -= got;
	}
	close(in);
	close(out);
	return dst;
}

Test(cli, dump_reports_damage_with_offsets, .timeout = 60)
{
	char *good = h_trace_path("whole");
	struct run_result r;
	record((char *[]){ (char *)h_program("mutex_count"), NULL }, good, &r);
	h_free(&r);
	struct stat st;
	cr_assert_eq(stat(good, &st), 0);

	/* Cut in the middle of a batch. */
	char *cut = truncated_copy(good, "cut", st.st_size / 2);
	char *dump[] = { (char *)h_weft(), "dump", "--file-order", cut, NULL };
	h_run(dump, NULL, &r);
	cr_assert_eq(r.status, 3, "%s", r.err);
	cr_assert(strstr(r.err, "offset "), "%s", r.err);
	cr_assert(strstr(r.err, "truncated trace"), "%s", r.err);
	cr_assert_eq(strchr(r.err, '\n') - r.err + 1, (long)r.err_len, "one line: %s", r.err);
	h_free(&r);
	/* In global order, everything before the cut is printed and the
	 * trace is reported truncated. */
	char *ordered[] = { (char *)h_weft(), "dump", cut, NULL };
	h_run(ordered, NULL, &r);
	cr_assert_eq(r.status, 3, "%s", r.err);
	cr_assert(strstr(r.err, "truncated"), "%s", r.err);
	cr_assert(strstr(r.out, "MUTEX_ACQUIRE"), "the part before the cut is printed");
	h_free(&r);

	/* Not a trace at all. */
	char *notrace[] = { (char *)h_weft(), "dump", "/etc/passwd", NULL };
	h_run(notrace, NULL, &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "not a weft trace"), "%s", r.err);
	h_free(&r);

	/* Missing file, directory, empty file. */
	char *missing[] = { (char *)h_weft(), "dump", "/nonexistent/t.trace", NULL };
	h_run(missing, NULL, &r);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "No such file"), "%s", r.err);
	h_free(&r);
	char *dir[] = { (char *)h_weft(), "dump", (char *)h_tmpdir(), NULL };
	h_run(dir, NULL, &r);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "is a directory"), "%s", r.err);
	h_free(&r);
	char *empty = truncated_copy(good, "empty", 0);
	char *emptyv[] = { (char *)h_weft(), "dump", empty, NULL };
	h_run(emptyv, NULL, &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "empty file"), "%s", r.err);
	h_free(&r);
}

Test(cli, help_and_version_everywhere, .timeout = 30)
{
	static const char *sub[] = { NULL, "record", "dump", "check" };
	for (size_t i = 0; i < sizeof sub / sizeof sub[0]; i++) {
		for (int v = 0; v < 2; v++) {
			char *argv[4] = { (char *)h_weft() };
			int n = 1;
			if (sub[i])
				argv[n++] = (char *)sub[i];
			argv[n++] = v ? "--version" : "--help";
			argv[n] = NULL;
			struct run_result r;
			h_run(argv, NULL, &r);
			cr_assert_eq(r.status, 0, "%s %s", sub[i] ? sub[i] : "", argv[n - 1]);
			cr_assert(strstr(r.out, v ? "weft 0." : "usage: weft"), "%s", r.out);
			h_free(&r);
		}
	}
	char *bad[] = { (char *)h_weft(), "frobnicate", NULL };
	struct run_result r;
	h_run(bad, NULL, &r);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "unknown command"), "%s", r.err);
	h_free(&r);
}

Test(cli, real_debian_sort_traced, .timeout = 120)
{
	/* GNU sort sorts with several threads on large input. */
	char input[4096], plain_out[4096], traced_out[4096];
	snprintf(input, sizeof input, "%s/sort-in.txt", h_tmpdir());
	snprintf(plain_out, sizeof plain_out, "%s/sort-plain.txt", h_tmpdir());
	snprintf(traced_out, sizeof traced_out, "%s/sort-traced.txt", h_tmpdir());
	FILE *f = fopen(input, "w");
	unsigned x = 12345;
	for (int i = 0; i < 400000; i++) {
		x = x * 1103515245u + 12345u;
		fprintf(f, "%08x line %d\n", x, i);
	}
	fclose(f);
	struct run_result r;
	char *plain[] = { "sort", "--parallel=2", "-S", "64M", "-o", plain_out, input, NULL };
	h_run(plain, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	char *trace = h_trace_path("sort");
	record((char *[]){ "sort", "--parallel=2", "-S", "64M", "-o", traced_out, input, NULL },
	       trace, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	char *cmp[] = { "cmp", plain_out, traced_out, NULL };
	h_run(cmp, NULL, &r);
	cr_assert_eq(r.status, 0, "sorted output is identical: %s", r.out);
	h_free(&r);
	struct h_counts c;
	h_count(trace, &c);
	cr_assert_eq(c.status, WEFT_READ_OK, "%s", c.error);
	cr_assert(c.complete);
	h_assert_checks(trace);
	cr_assert_geq(c.threads, 2, "sort ran threads");
	cr_assert_gt(c.per_code[WEFT_EV_SYSCALL_BEGIN], 0);
	cr_assert_gt(c.per_code[WEFT_EV_MUTEX_ACQUIRE], 0);
}

Test(cli, check_reports_each_file, .timeout = 60)
{
	char *good = h_trace_path("checked");
	struct run_result r;
	record((char *[]){ (char *)h_program("mutex_count"), NULL }, good, &r);
	h_free(&r);

	char *ok[] = { (char *)h_weft(), "check", good, NULL };
	h_run(ok, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, ": ok: 1 generations, 5 threads,"), "%s", r.out);
	h_free(&r);

	char *json[] = { (char *)h_weft(), "check", "--json", good, NULL };
	h_run(json, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"verdict\":\"ok\""), "%s", r.out);
	cr_assert(strstr(r.out, "\"complete\":true"), "%s", r.out);
	h_free(&r);

	char *quiet[] = { (char *)h_weft(), "check", "--quiet", good, NULL };
	h_run(quiet, NULL, &r);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "");
	h_free(&r);

	/* The worst verdict wins: a missing file is 2. */
	char *mixed[] = { (char *)h_weft(), "check", good, "/nonexistent.trace", NULL };
	h_run(mixed, NULL, &r);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "No such file"), "%s", r.err);
	h_free(&r);

	char *notrace[] = { (char *)h_weft(), "check", "/etc/hostname", NULL };
	h_run(notrace, NULL, &r);
	cr_assert_eq(r.status, 1);
	cr_assert(strstr(r.err, "not a weft trace"), "%s", r.err);
	h_free(&r);
}

Test(cli, record_check_fails_on_a_truncated_trace, .timeout = 60)
{
	/* A program killed by SIGKILL leaves a trace without its end: with
	 * --check, weft record reports it. */
	char *out = h_trace_path("killed");
	struct run_result r;
	record((char *[]){ "sh", "-c", "kill -KILL $$", NULL }, out, &r);
	cr_assert_eq(r.status, 128 + 9);
	h_free(&r);
	char *check[] = { (char *)h_weft(), "check", out, NULL };
	h_run(check, NULL, &r);
	cr_assert_eq(r.status, 3, "a killed process's trace is truncated: %s", r.err);
	cr_assert(strstr(r.err, "truncated"), "%s", r.err);
	h_free(&r);

	char *argv[] = { (char *)h_weft(), "record", "--check", "-o", out, "--",
			 (char *)h_program("mutex_count"), NULL };
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, ": ok: "), "%s", r.out);
	h_free(&r);
}
