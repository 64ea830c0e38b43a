/*
 * test_cli.c - the `weft` command as a user runs it: record (exit status,
 * traces of forked and exec'd processes, static and set-user-ID binaries,
 * output paths it cannot write or that hold an earlier trace, --check of a
 * run that wrote nothing, signals sent to it, stacks), dump
 * (good and damaged traces), help and version; the preload's handling of
 * bad environment values; and a real program from Debian traced whole.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>
#include <linux/capability.h>

#include "harness.h"

static void f_put(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
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
	cr_assert_geq(h_reported_traces(r.err, paths, 4), 1, "%s", r.err);
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
	int n = h_reported_traces(r.err, paths, 4);
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
	int n = h_reported_traces(r.err, paths, 8);
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
	cr_assert_gt(c.per_code[WEFT_EV_MODULE], 0, "the modules were listed");
	cr_assert_eq(c.per_code[WEFT_EV_SYMBOL], 0, "names were guessed at record time");
	h_assert_checks(out);
	h_free(&r);

	char *dump[] = { (char *)h_weft(), "dump", out, NULL };
	h_run(dump, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* by its debug information, or its symbol table without it */
	cr_assert(strstr(r.out, "__libc_start"), "a frame in libc is named");
	cr_assert(strstr(r.out, "(mutex_count.c:"), "a frame in the program is named");
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

	/* Cut in the middle of the payload of the batch that spans the
	 * file's middle (not in its header, which is other damage). */
	struct weft_reader rd;
	cr_assert_eq(weft_reader_open(&rd, good), WEFT_READ_OK, "%s", rd.error);
	struct weft_batch b;
	off_t at = 0;
	while (!at && weft_reader_next_batch(&rd, &b) == WEFT_READ_OK)
		if (b.offset + WEFT_BATCH_HEADER_SIZE + b.header.length > (size_t)st.st_size / 2 &&
		    b.header.length > 2)
			at = (off_t)(b.offset + WEFT_BATCH_HEADER_SIZE + b.header.length / 2);
	weft_reader_close(&rd);
	cr_assert_gt(at, 0, "a batch with records spans the middle");
	char *cut = truncated_copy(good, "cut", at);
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
	/* (A directory stands for the traces in it: this one holds none.) */
	char nothing[4200];
	snprintf(nothing, sizeof nothing, "%s/nothing", h_tmpdir());
	cr_assert_eq(mkdir(nothing, 0700), 0);
	char *dir[] = { (char *)h_weft(), "dump", nothing, NULL };
	h_run(dir, NULL, &r);
	cr_assert_eq(r.status, 2);
	cr_assert(strstr(r.err, "no weft trace in this directory"), "%s", r.err);
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
	cr_assert(strstr(r.err, "is cut short (the process was killed before weft "
			 "could complete it): "), "record says so: %s", r.err);
	cr_assert_null(strstr(r.err, " written to "), "%s", r.err);
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

/* ---- what would leave a run untraced is refused before it starts ---- */

/* Runs `weft record [--check] -o output -- cmd...` (in_child as h_run_start's). */
static void record_as(char *const cmd[], const char *output, int check,
		      void (*in_child)(void), struct run_result *r)
{
	char *argv[32] = { (char *)h_weft(), "record", "-o", (char *)output };
	int i = 4;
	if (check)
		argv[i++] = "--check";
	argv[i++] = "--";
	for (int j = 0; cmd[j] && i < 31; j++)
		argv[i++] = cmd[j];
	argv[i] = NULL;
	struct h_bg bg;
	h_run_start(argv, NULL, in_child, &bg);
	h_run_wait(&bg, r);
}

static void become_nobody(void)
{
	struct passwd *nobody = getpwnam("nobody");
	if (!nobody || setgroups(0, NULL) || setgid(nobody->pw_gid) ||
	    setuid(nobody->pw_uid))
		_exit(99);
}

Test(cli, record_refuses_an_output_it_cannot_write, .timeout = 60)
{
	char *echo[] = { "sh", "-c", "echo ran", NULL };
	char missing[4200], under_file[4200];
	snprintf(missing, sizeof missing, "%s/no-such-dir/t.trace", h_tmpdir());
	snprintf(under_file, sizeof under_file, "%s/t.trace", h_program("mutex_count"));
	const char *paths[] = { missing, under_file };
	for (int i = 0; i < 2; i++) {
		struct run_result r;
		record_as(echo, paths[i], 1, NULL, &r);
		cr_assert_eq(r.status, 125, "%s: %d %s", paths[i], r.status, r.err);
		cr_assert(strstr(r.err, "cannot write a trace in"), "%s", r.err);
		cr_assert_str_eq(r.out, "", "the command was not run");
		h_free(&r);
	}
	/* A directory the user cannot write (/ for anyone but root; root
	 * runs weft record as nobody for this). */
	struct run_result r;
	record_as(echo, "/weft-unwritable.trace", 1, geteuid() == 0 ? become_nobody : NULL, &r);
	cr_assert_eq(r.status, 125, "%d %s", r.status, r.err);
	cr_assert(strstr(r.err, "cannot write a trace in /: Permission denied"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	h_free(&r);
}

Test(cli, record_refuses_set_user_id_programs, .timeout = 60)
{
	if (geteuid() != 0)
		cr_skip_test("needs root, to make set-user-ID copies owned by nobody");
	struct passwd *nobody = getpwnam("nobody");
	cr_assert_not_null(nobody);
	char copy[4200], cmd[9000];
	snprintf(copy, sizeof copy, "%s/suid_mutex_count", h_tmpdir());
	snprintf(cmd, sizeof cmd, "cp %s %s", h_program("mutex_count"), copy);
	cr_assert_eq(system(cmd), 0);
	cr_assert_eq(chown(copy, nobody->pw_uid, nobody->pw_gid), 0);
	static const struct { mode_t mode; const char *says; } cases[] = {
		{ 04755, "is set-user-ID" }, { 02755, "is set-group-ID" },
	};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(chmod(copy, cases[i].mode), 0);
		struct run_result r;
		record_as((char *[]){ copy, NULL }, h_trace_path("suid"), 1, NULL, &r);
		cr_assert_eq(r.status, 125, "%o: %d %s", cases[i].mode, r.status, r.err);
		cr_assert(strstr(r.err, cases[i].says), "%s", r.err);
		cr_assert_str_eq(r.out, "", "the program was not run");
		h_free(&r);
	}
	/* Linux ignores the bit on a script: it is traced like any other. */
	char script[4200];
	snprintf(script, sizeof script, "%s/suid-script", h_tmpdir());
	f_put(script, "#!/bin/sh\necho ran\n");
	cr_assert_eq(chown(script, nobody->pw_uid, nobody->pw_gid), 0);
	cr_assert_eq(chmod(script, 04755), 0);
	struct run_result r;
	record_as((char *[]){ script, NULL }, h_trace_path("suid-script"), 0, NULL, &r);
	cr_assert_eq(r.status, 0, "%d %s", r.status, r.err);
	cr_assert_str_eq(r.out, "ran\n");
	h_free(&r);
}

Test(cli, record_refuses_programs_given_capabilities_it_lacks, .timeout = 60)
{
	if (geteuid() != 0)
		cr_skip_test("needs root, to give a file capabilities");
	char dir[4200], copy[4300], cmd[9000];
	cr_assert_eq(chmod(h_tmpdir(), 0755), 0);
	snprintf(dir, sizeof dir, "%s/caps", h_tmpdir());
	cr_assert_eq(mkdir(dir, 0755), 0);
	snprintf(copy, sizeof copy, "%s/mutex_count", dir);
	snprintf(cmd, sizeof cmd, "cp %s %s", h_program("mutex_count"), copy);
	cr_assert_eq(system(cmd), 0);
	/* CAP_NET_RAW permitted and effective, as ping has. */
	struct vfs_cap_data caps = { .magic_etc = VFS_CAP_REVISION_2 | VFS_CAP_FLAGS_EFFECTIVE };
	caps.data[0].permitted = 1u << CAP_NET_RAW;
	cr_assert_eq(setxattr(copy, "security.capability", &caps, XATTR_CAPS_SZ_2, 0), 0,
		     "%s", strerror(errno));
	/* Root has the capability already: the program is traced. */
	struct run_result r;
	record_as((char *[]){ copy, NULL }, h_trace_path("caps"), 0, NULL, &r);
	cr_assert_eq(r.status, 0, "%d %s", r.status, r.err);
	cr_assert_str_eq(r.out, "counter=10000\n");
	h_free(&r);
	/* For nobody it would run in secure-execution mode: refused. */
	record_as((char *[]){ copy, NULL }, "/tmp/weft-caps-never.trace", 0, become_nobody, &r);
	cr_assert_eq(r.status, 125, "%d %s", r.status, r.err);
	cr_assert(strstr(r.err, "is given file capabilities"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	h_free(&r);
}

Test(cli, record_check_fails_when_no_trace_was_written, .timeout = 60)
{
	/* A script whose interpreter is statically linked: the script passes
	 * the check for static programs, and nothing is traced. */
	char script[4200];
	snprintf(script, sizeof script, "%s/static-script", h_tmpdir());
	FILE *f = fopen(script, "w");
	fprintf(f, "#!%s\n", h_program("static_hello"));
	fclose(f);
	cr_assert_eq(chmod(script, 0755), 0);
	struct run_result r;
	record_as((char *[]){ script, NULL }, h_trace_path("none"), 1, NULL, &r);
	cr_assert_neq(r.out[0], 0, "the script ran");
	cr_assert_eq(r.status, 1, "no trace is a failed check: %d %s", r.status, r.err);
	cr_assert(strstr(r.err, "no trace was written, so nothing was checked"), "%s", r.err);
	h_free(&r);
	/* Without --check, the command's status passes through. */
	record_as((char *[]){ script, NULL }, h_trace_path("none"), 0, NULL, &r);
	cr_assert_eq(r.status, 0, "%d %s", r.status, r.err);
	h_free(&r);
}

/* ---- an earlier trace at the output path ---- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s", path);
	char *buf = NULL;
	size_t cap = 0;
	*len = 0;
	char chunk[65536];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		buf = realloc(buf, cap = *len + n);
		memcpy(buf + *len, chunk, n);
		*len += n;
	}
	fclose(f);
	return buf;
}

Test(cli, record_keeps_the_earlier_trace_as_old, .timeout = 60)
{
	char *out = h_trace_path("again");
	char old[4200];
	snprintf(old, sizeof old, "%s.old", out);
	struct run_result r;
	record((char *[]){ (char *)h_program("mutex_count"), NULL }, out, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	size_t first_len, moved_len;
	char *first = slurp(out, &first_len);

	record((char *[]){ "true", NULL }, out, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char paths[4][4096];
	cr_assert_eq(h_reported_traces(r.err, paths, 4), 1, "%s", r.err);
	cr_assert_str_eq(paths[0], out, "the new trace is at the path asked for");
	h_free(&r);
	char *moved = slurp(old, &moved_len);
	cr_assert(first_len == moved_len && !memcmp(first, moved, first_len),
		  "the earlier trace is PATH.old");
	h_assert_checks(out);
	h_assert_checks(old);
	struct h_counts c;
	h_count(out, &c);
	cr_assert_eq(c.per_code[WEFT_EV_MUTEX_ACQUIRE], 0, "the new trace is true's");
	free(first);
	free(moved);

	/* PATH.old that is not a trace is not replaced. */
	unlink(old);
	f_put(old, "precious\n");
	record((char *[]){ "sh", "-c", "echo ran", NULL }, out, &r);
	cr_assert_eq(r.status, 125, "%s", r.err);
	cr_assert(strstr(r.err, ".old exists and is not a weft trace"), "%s", r.err);
	cr_assert_str_eq(r.out, "");
	h_assert_checks(out);
	h_free(&r);
	moved = slurp(old, &moved_len);
	cr_assert(moved_len == 9 && !memcmp(moved, "precious\n", 9));
	free(moved);
}

/* ---- signals to weft record ---- */

/* The pid in the one trace named PREFIX-PID.trace in dir, or 0. */
static int traced_pid(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d);
	int pid = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (!strncmp(e->d_name, prefix, strlen(prefix)))
			pid = atoi(e->d_name + strlen(prefix));
	closedir(d);
	return pid;
}

/* In weft record's process: no core files, and the signals the test
 * sends at their defaults, whatever the suite inherited (under nohup,
 * SIGHUP is ignored, and weft record rightly keeps it ignored). */
static void record_as_from_a_shell(void)
{
	struct rlimit none = { 0, 0 };
	setrlimit(RLIMIT_CORE, &none);
	static const int sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		signal(sigs[i], SIG_DFL);
}

Test(cli, signals_to_record_reach_the_command, .timeout = 120)
{
	static const int sigs[] = { SIGTERM, SIGHUP, SIGINT, SIGQUIT };
	for (int i = 0; i < 4; i++) {
		char dir[4200], tmp[4300], pattern[4300], tmpenv[4400];
		snprintf(dir, sizeof dir, "%s/sig%d", h_tmpdir(), sigs[i]);
		snprintf(tmp, sizeof tmp, "%s/tmp", dir);
		cr_assert_eq(mkdir(dir, 0700), 0);
		cr_assert_eq(mkdir(tmp, 0700), 0);
		snprintf(pattern, sizeof pattern, "%s/t-%%p.trace", dir);
		snprintf(tmpenv, sizeof tmpenv, "TMPDIR=%s", tmp);
		/* reraise handles SIGINT, SIGTERM and SIGHUP and dies of them;
		 * SIGQUIT it leaves at the default (the trace is completed by
		 * weft's stand-in either way). */
		char *argv[] = { (char *)h_weft(), "record", "-o", pattern, "--",
				 (char *)h_program("reraise"), "main", NULL };
		char *env[] = { tmpenv, NULL };
		struct h_bg bg;
		h_run_start(argv, env, record_as_from_a_shell, &bg);
		char ready[7] = { 0 };
		size_t got = 0;
		while (got < 6) {
			ssize_t n = read(bg.out, ready + got, 6 - got);
			cr_assert_gt(n, 0, "reraise says ready");
			got += (size_t)n;
		}
		cr_assert_str_eq(ready, "ready\n");
		int child = traced_pid(dir, "t-");
		cr_assert_gt(child, 0);
		cr_assert_eq(kill(bg.pid, sigs[i]), 0);
		int st;
		cr_assert_eq(waitpid(bg.pid, &st, 0), bg.pid);
		int orphan = kill(child, 0) == 0;
		if (orphan)
			kill(child, SIGKILL);
		cr_assert(!orphan, "signal %d: the command was left running", sigs[i]);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[i],
			  "signal %d: weft record reports the command's death, got %#x",
			  sigs[i], st);
		char trace[4400];
		snprintf(trace, sizeof trace, "%s/t-%d.trace", dir, child);
		h_assert_checks(trace);
		cr_assert_eq(traced_pid(tmp, "weft-"), 0, "no temporary file is left");
		cr_assert_eq(rmdir(tmp), 0, "the temporary directory is empty");
		close(bg.out);
		close(bg.err);
	}
}

/* ---- where the traces go ---- */

static void into_tmpdir(void)
{
	if (chdir(h_tmpdir()))
		_exit(98);
}

/* A relative -o is where weft record ran, for every process: one that
 * changed directory first still writes its trace there. */
Test(cli, record_output_is_relative_to_where_record_ran, .timeout = 60)
{
	char dir[4200];
	snprintf(dir, sizeof dir, "%s/rel", h_tmpdir());
	cr_assert_eq(mkdir(dir, 0755), 0);
	struct run_result r;
	record_as((char *[]){ "sh", "-c", "cd / && exec true", NULL }, "rel/w-%p.trace",
		  1, into_tmpdir, &r);
	cr_assert_eq(r.status, 0, "%d %s", r.status, r.err);
	cr_assert(strstr(r.err, "2 traces written"), "%s", r.err);
	cr_assert_null(strstr(r.err, "cannot create"), "%s", r.err);
	h_free(&r);
}

/* A process that could not create its trace is named, and fails --check. */
Test(cli, record_check_fails_when_a_process_lost_its_trace, .timeout = 60)
{
	char out[4200];
	snprintf(out, sizeof out, "%s/lost-%%p.trace", h_tmpdir());
	struct run_result r;
	record_as((char *[]){ "sh", "-c",
			      "exec env WEFT_OUTPUT=/nonexistent/x.trace true", NULL },
		  out, 1, NULL, &r);
	cr_assert_eq(r.status, 1, "a lost trace fails the check: %d %s", r.status,
		     r.err);
	cr_assert(strstr(r.err, "could not create its trace /nonexistent/x.trace"),
		  "%s", r.err);
	h_free(&r);
	/* Without --check the command's status passes through. */
	record_as((char *[]){ "sh", "-c",
			      "exec env WEFT_OUTPUT=/nonexistent/x.trace true", NULL },
		  out, 0, NULL, &r);
	cr_assert_eq(r.status, 0, "%d %s", r.status, r.err);
	cr_assert(strstr(r.err, "could not create its trace"), "%s", r.err);
	h_free(&r);
}
