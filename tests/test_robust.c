/*
 * test_robust.c - weft inside programs that end badly or treat their
 * process roughly: fatal signals and SIGKILL, a trace writer that cannot
 * keep up, programs that close or reuse every descriptor, planted output
 * paths, secure execution, programs that restore a fatal signal's default
 * and raise it again, a process under an address-space limit, and every
 * environment variable set wrong.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

/* Runs a test program with the preload, its trace at trace (extra: more
 * NAME=VALUE entries, or NULL). */
static void run_traced(char *const argv[], const char *trace,
		       const char *extra, struct run_result *r)
{
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, (char *)extra, NULL };
	h_run(argv, env, r);
}

static int run_weft(const char *cmd, const char *trace, struct run_result *r)
{
	char *argv[] = { (char *)h_weft(), (char *)cmd, (char *)trace, NULL };
	h_run(argv, NULL, r);
	return r->status;
}

/* ---- fatal signals ---- */

Test(robust, fatal_signals_complete_the_trace, .timeout = 120)
{
	static const struct { const char *how; int sig; } cases[] = {
		{ "segv", SIGSEGV }, { "abort", SIGABRT }, { "bus", SIGBUS },
		{ "term", SIGTERM },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *argv[] = { (char *)h_program("crash"), (char *)cases[i].how, NULL };
		struct run_result plain, traced;
		h_run(argv, NULL, &plain);
		char *trace = h_trace_path(cases[i].how);
		run_traced(argv, trace, NULL, &traced);
		cr_assert_eq(plain.status, 128 + cases[i].sig, "%s untraced", cases[i].how);
		cr_assert_eq(traced.status, plain.status,
			     "%s: dies of the same signal traced (%d) as untraced (%d)",
			     cases[i].how, traced.status, plain.status);
		cr_assert_str_eq(traced.out, "ready\n");
		cr_assert_str_eq(traced.err, "", "%s: weft says nothing", cases[i].how);
		struct h_counts c;
		h_count(trace, &c);
		cr_assert_eq(c.status, WEFT_READ_OK, "%s: %s", cases[i].how, c.error);
		cr_assert(c.complete, "%s: the trace was completed before death", cases[i].how);
		/* 2 x 1,000 pairs, the main thread's hold, the blocked one. */
		cr_assert_eq(c.per_code[WEFT_EV_MUTEX_ACQUIRE], 2001, "%s", cases[i].how);
		cr_assert_eq(c.per_code[WEFT_EV_THREAD_CREATE], 3, "%s", cases[i].how);
		cr_assert_geq(c.per_code[WEFT_EV_MUTEX_BLOCK], 1,
			      "%s: the thread left blocked is in the trace", cases[i].how);
		h_assert_checks(trace);
		h_free(&plain);
		h_free(&traced);
	}
}

Test(robust, program_handler_for_a_fatal_signal_still_runs, .timeout = 60)
{
	char *argv[] = { (char *)h_program("crash"), "handled", NULL };
	char *trace = h_trace_path("handled");
	struct run_result r;
	run_traced(argv, trace, NULL, &r);
	cr_assert_eq(r.status, 42, "the program's own handler exited 42, got %d", r.status);
	cr_assert_str_eq(r.out, "ready\nhandled\n");
	h_assert_checks(trace);
	h_free(&r);
}

Test(robust, program_sees_the_dispositions_it_would_without_weft, .timeout = 60)
{
	char *argv[] = { (char *)h_program("sig_view"), NULL };
	struct run_result plain, traced;
	h_run(argv, NULL, &plain);
	run_traced(argv, h_trace_path("sigview"), NULL, &traced);
	cr_assert_eq(plain.status, 0);
	cr_assert_eq(traced.status, 0);
	cr_assert(strstr(plain.out, "Segmentation fault: default\n"), "%s", plain.out);
	cr_assert(strstr(plain.out, "survived SIGTERM; now ignore\n"), "%s", plain.out);
	cr_assert(strstr(plain.out, "caught SIGINT; now handler\n"), "%s", plain.out);
	cr_assert_str_eq(traced.out, plain.out);
	h_assert_checks(h_trace_path("sigview"));
	h_free(&plain);
	h_free(&traced);

	/* A signal ignored when weft loads (nohup) stays ignored. */
	char cmd[4200];
	snprintf(cmd, sizeof cmd, "trap '' HUP; exec %s", h_program("sig_view"));
	char *sh[] = { "/bin/sh", "-c", cmd, NULL };
	h_run(sh, NULL, &plain);
	char pattern[4200];
	snprintf(pattern, sizeof pattern, "%s/nohup-%%p.trace", h_tmpdir());
	run_traced(sh, pattern, NULL, &traced);
	cr_assert(strstr(plain.out, "Hangup: ignore\n"), "%s", plain.out);
	cr_assert_str_eq(traced.out, plain.out);
	h_free(&plain);
	h_free(&traced);
}

/* Runs reraise MODE (traced into trace, or not when trace is NULL), sends
 * it sig once it is ready, and collects its status and stdout. */
static int run_reraise(const char *mode, int sig, const char *trace, char *out,
		       size_t cap)
{
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace ? trace : "");
	char *env[] = { preload, output, NULL };
	char *argv[] = { (char *)h_program("reraise"), (char *)mode, NULL };
	struct h_proc p;
	h_spawn(argv, trace ? env : NULL, &p);
	char line[64];
	cr_assert(h_read_line(&p, line, sizeof line));
	cr_assert_str_eq(line, "ready");
	cr_assert_eq(kill(p.pid, sig), 0);
	out[0] = 0;
	while (h_read_line(&p, line, sizeof line))
		snprintf(out + strlen(out), cap - strlen(out), "%s\n", line);
	return h_finish(&p);
}

Test(robust, program_that_restores_the_default_and_reraises, .timeout = 120)
{
	/* xz and python3 restore the default from the main thread, GNU sort
	 * from its handler; either way the process dies of the signal, and
	 * weft completes the trace first. */
	static const char *modes[] = { "main", "handler" };
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t i = 0; i < 2; i++) {
		for (size_t j = 0; j < 3; j++) {
			char plain_out[256], traced_out[256], name[64];
			int plain = run_reraise(modes[i], sigs[j], NULL, plain_out,
						sizeof plain_out);
			snprintf(name, sizeof name, "reraise-%s-%d", modes[i], sigs[j]);
			char *trace = h_trace_path(name);
			int traced = run_reraise(modes[i], sigs[j], trace, traced_out,
						 sizeof traced_out);
			cr_assert_eq(plain, 128 + sigs[j], "%s %d untraced: %d", modes[i],
				     sigs[j], plain);
			cr_assert_eq(traced, plain, "%s %d: traced %d, untraced %d",
				     modes[i], sigs[j], traced, plain);
			cr_assert_str_eq(plain_out, "default\n");
			cr_assert_str_eq(traced_out, plain_out, "the program sees the default");
			struct h_counts c;
			h_count(trace, &c);
			cr_assert_eq(c.status, WEFT_READ_OK, "%s: %s", name, c.error);
			cr_assert(c.complete, "%s: the trace was completed before death", name);
			h_assert_checks(trace);
		}
	}
}

/* ---- memory limits ---- */

Test(robust, program_under_an_address_space_limit_still_ends_its_trace, .timeout = 60)
{
	char *argv[] = { (char *)h_program("rlimit_exit"), NULL };
	char *trace = h_trace_path("rlimit");
	struct run_result r;
	run_traced(argv, trace, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "limited\n");
	cr_assert_str_eq(r.err, "", "weft writes nothing on the program's stderr");
	struct h_counts c;
	h_count(trace, &c);
	cr_assert_eq(c.status, WEFT_READ_OK, "%s", c.error);
	cr_assert(c.complete, "the trace has its end");
	cr_assert_eq(c.per_code[WEFT_EV_MUTEX_ACQUIRE], 1000);
	h_assert_checks(trace);
	h_free(&r);
}

/* ---- SIGKILL ---- */

Test(robust, sigkill_leaves_a_truncated_trace_that_still_reads, .timeout = 120)
{
	char *trace = h_trace_path("killed");
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	/* Everything the child needs is made before fork: between fork and
	 * exec it may call only async-signal-safe functions (the test process
	 * has other threads). */
	char *env[] = { preload, output, "WEFT_ROTATE_MS=20", "WEFT_BUFFER_KB=16", NULL };
	char *argv[] = { (char *)h_program("lock_flood"), "2", "1000000000", "2000", NULL };
	pid_t pid = fork();
	if (pid == 0) { /* no assertion here: it would report from the child */
		int null = open("/dev/null", O_RDWR);
		dup2(null, 1);
		dup2(null, 2);
		execve(argv[0], argv, env);
		_exit(127);
	}
	cr_assert_gt(pid, 0);
	/* Killed once the file, read as it grows, checks two generations
	 * and more than 1000 events, however long the program takes to get
	 * there (on a loaded machine a generation may hold few events).
	 * After the kill, the checker must find at least that much: a
	 * trace cut short loses nothing that was whole. */
	struct weft_check_result res;
	uint64_t before = 0;
	for (int i = 0; i < 6000; i++) {
		if (h_check(trace, &res) == WEFT_CHECK_TRUNCATED &&
		    res.generations >= 2 && res.events > 1000) {
			before = res.events;
			break;
		}
		struct timespec t = { 0, 10 * 1000000L };
		nanosleep(&t, NULL);
	}
	kill(pid, SIGKILL);
	int status;
	waitpid(pid, &status, 0);
	cr_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	cr_assert_gt(before, 0, "the trace never held two whole generations "
		     "and 1000 events");

	cr_assert_eq(h_check(trace, &res), WEFT_CHECK_TRUNCATED, "%s", res.error);
	cr_assert_geq(res.generations, 2, "the generations before the kill are checked");
	cr_assert_geq(res.events, before);
	struct run_result r;
	cr_assert_eq(run_weft("check", trace, &r), 3, "weft check exits 3: %s", r.err);
	cr_assert(strstr(r.err, "truncated"), "%s", r.err);
	h_free(&r);
	/* The readers show what is there and exit as check does. */
	char *dump[] = { (char *)h_weft(), "dump", "--summary", trace, NULL };
	h_run(dump, NULL, &r);
	cr_assert_eq(r.status, 3, "weft dump reads what is there: %s", r.err);
	cr_assert(strstr(r.out, "truncated (no end-of-trace record)"), "%s", r.out);
	cr_assert(strstr(r.out, "MUTEX_ACQUIRE"), "%s", r.out);
	h_free(&r);
	cr_assert_eq(run_weft("stats", trace, &r), 3, "weft stats too: %s", r.err);
	cr_assert(strstr(r.out, "lock"), "%s", r.out);
	h_free(&r);
}

/* ---- a writer that cannot keep up ---- */

static int work_ms(const char *err)
{
	const char *p = strstr(err, "work_ms=");
	return p ? atoi(p + 8) : -1;
}

/* Reads the pipe at about 256 KB/s into a file, until end of file. */
static pid_t slow_reader(const char *fifo, const char *out)
{
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	int in = open(fifo, O_RDONLY);
	int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	char buf[4096];
	ssize_t n;
	struct timespec pause = { 0, 16 * 1000000L };
	while ((n = read(in, buf, sizeof buf)) > 0) {
		if (write(fd, buf, (size_t)n) != n)
			_exit(1);
		nanosleep(&pause, NULL);
	}
	_exit(0);
}

Test(robust, slow_trace_writer_drops_events_not_the_programs_speed, .timeout = 300)
{
	char *argv[] = { (char *)h_program("lock_flood"), "2", "2000000", NULL };
	/* The same load traced to a file, for the program's own speed. */
	struct run_result fast;
	run_traced(argv, h_trace_path("fast"), NULL, &fast);
	cr_assert_eq(fast.status, 0);

	char fifo[4200], copy[4200];
	snprintf(fifo, sizeof fifo, "%s/slow.fifo", h_tmpdir());
	snprintf(copy, sizeof copy, "%s/slow.trace", h_tmpdir());
	cr_assert_eq(mkfifo(fifo, 0600), 0);
	pid_t reader = slow_reader(fifo, copy);
	struct run_result slow;
	run_traced(argv, fifo, "WEFT_MEMORY_MB=1", &slow);
	int rstatus;
	waitpid(reader, &rstatus, 0);
	cr_assert_eq(slow.status, 0, "%s", slow.err);
	cr_assert_str_eq(slow.out, fast.out, "the same output");
	int fast_ms = work_ms(fast.err), slow_ms = work_ms(slow.err);
	cr_assert_gt(fast_ms, 0, "%s", fast.err);
	cr_assert_gt(slow_ms, 0, "%s", slow.err);

	struct weft_check_result res;
	enum weft_verdict v = h_check(copy, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "%s", res.error);
	cr_assert_gt(res.lost, 0, "events were dropped and counted");
	cr_assert(strstr(res.note, "lost"), "the gap is reported: %s", res.note);
	/* 8 M events at ~7 bytes would take ~220 s through the pipe; the
	 * program must not be held to that pace. */
	cr_assert_lt(slow_ms, 3 * fast_ms + 2000,
		     "throughput unaffected: %d ms with a slow trace, %d ms with a fast one",
		     slow_ms, fast_ms);
	h_free(&fast);
	h_free(&slow);
}

/* ---- the program's descriptors ---- */

Test(robust, programs_that_close_or_reuse_every_descriptor, .timeout = 120)
{
	static const char *modes[] = { "loop", "dup2", "closefrom", "close_range", "cloexec" };
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
		char *argv[] = { (char *)h_program("fd_closer"), (char *)modes[i], NULL };
		struct run_result plain, traced;
		h_run(argv, NULL, &plain);
		char *trace = h_trace_path(modes[i]);
		run_traced(argv, trace, NULL, &traced);
		cr_assert_eq(plain.status, 0, "%s: %s", modes[i], plain.err);
		cr_assert_eq(traced.status, 0, "%s: %s", modes[i], traced.err);
		cr_assert_str_eq(traced.out, plain.out, "%s: the program sees what it "
				 "would see without weft", modes[i]);
		cr_assert_str_eq(traced.err, "", "%s", modes[i]);
		struct h_counts c;
		h_count(trace, &c);
		cr_assert_eq(c.status, WEFT_READ_OK, "%s: %s", modes[i], c.error);
		cr_assert(c.complete, "%s: the trace is complete", modes[i]);
		cr_assert_eq(c.per_code[WEFT_EV_MUTEX_ACQUIRE], 2000, "%s", modes[i]);
		h_assert_checks(trace);
		h_free(&plain);
		h_free(&traced);
	}
}

/* ---- output files ---- */

static int is_trace(const char *path)
{
	struct h_counts c;
	h_count(path, &c);
	return c.status == WEFT_READ_OK && c.complete;
}

Test(robust, output_paths_are_never_followed_or_clobbered, .timeout = 60)
{
	char *argv[] = { (char *)h_program("mutex_count"), NULL };
	char path[4200], next[4300], victim[4200];
	snprintf(path, sizeof path, "%s/planted.trace", h_tmpdir());
	snprintf(next, sizeof next, "%s.1", path);
	snprintf(victim, sizeof victim, "%s/victim", h_tmpdir());

	/* A symbolic link planted at the path, to a file that does not exist
	 * yet: it is not created through the link. */
	cr_assert_eq(symlink(victim, path), 0);
	struct run_result r;
	run_traced(argv, path, NULL, &r);
	cr_assert_eq(r.status, 0);
	cr_assert_eq(access(victim, F_OK), -1, "nothing was created through the link");
	char target[4200] = { 0 };
	cr_assert_eq(readlink(path, target, sizeof target - 1), (ssize_t)strlen(victim));
	cr_assert(is_trace(next), "the trace went to %s", next);
	h_free(&r);
	unlink(path);
	unlink(next);

	/* An existing file that is not a trace is left as it was. */
	FILE *f = fopen(path, "w");
	fputs("precious\n", f);
	fclose(f);
	run_traced(argv, path, NULL, &r);
	char buf[32] = { 0 };
	f = fopen(path, "r");
	cr_assert_not_null(fgets(buf, sizeof buf, f));
	fclose(f);
	cr_assert_str_eq(buf, "precious\n");
	cr_assert(is_trace(next));
	struct stat st;
	cr_assert_eq(stat(next, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600, "traces are private by default: %o",
		     st.st_mode & 07777);
	h_free(&r);
	unlink(next);

	/* The user may ask for another mode. */
	mode_t old = umask(022);
	run_traced(argv, next, "WEFT_OUTPUT_MODE=644", &r);
	umask(old);
	cr_assert_eq(stat(next, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0644, "%o", st.st_mode & 07777);
	cr_assert(is_trace(next));
	h_free(&r);
}

/* ---- secure execution ---- */

Test(robust, secure_execution_turns_weft_off, .timeout = 60)
{
	if (geteuid() != 0)
		cr_skip_test("needs root, to make a set-user-ID copy owned by nobody");
	struct passwd *nobody = getpwnam("nobody");
	cr_assert_not_null(nobody);
	char dir[4200], copy[4300], trace[4300];
	snprintf(dir, sizeof dir, "%s/secure", h_tmpdir());
	cr_assert_eq(mkdir(dir, 0777), 0);
	cr_assert_eq(chmod(dir, 0777), 0); /* nobody could write a trace here */
	snprintf(copy, sizeof copy, "%s/secure_hello", dir);
	snprintf(trace, sizeof trace, "%s/secure.trace", dir);
	char cmd[9000];
	snprintf(cmd, sizeof cmd, "cp %s %s", h_program("secure_hello"), copy);
	cr_assert_eq(system(cmd), 0);

	/* Control: linked with libweft.so, the program is traced. */
	char output[4400];
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { output, NULL };
	char *argv[] = { copy, NULL };
	struct run_result r;
	h_run(argv, env, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "hello\n");
	cr_assert(is_trace(trace), "the control run is traced");
	unlink(trace);
	h_free(&r);

	/* Set-user-ID to nobody and run by root: AT_SECURE.  weft must not
	 * write a file, start a thread or say anything. */
	cr_assert_eq(chown(copy, nobody->pw_uid, nobody->pw_gid), 0);
	cr_assert_eq(chmod(copy, 04755), 0);
	h_run(argv, env, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert_str_eq(r.out, "hello\n");
	cr_assert_str_eq(r.err, "");
	cr_assert_eq(access(trace, F_OK), -1, "no trace in secure execution");
	h_free(&r);
}

/* ---- environment variables ---- */

Test(robust, every_environment_variable_with_bad_values, .timeout = 300)
{
	static const char *vars[] = {
		"WEFT_START", "WEFT_STACKS", "WEFT_VERBOSE", "WEFT_BUFFER_KB",
		"WEFT_MEMORY_MB", "WEFT_ROTATE_MS", "WEFT_ROTATE_MB", "WEFT_SIGNAL",
		"WEFT_CLOCK", "WEFT_OUTPUT_MODE", "WEFT_MANIFEST", "WEFT_OUTPUT",
	};
	static char huge[6000];
	memset(huge, '9', sizeof huge - 1);
	const char *values[] = { "", "99999999999999999999999", "-1", "garbage!", huge };
	/* Relative output paths land in the test's own directory. */
	cr_assert_eq(chdir(h_tmpdir()), 0);
	for (size_t v = 0; v < sizeof vars / sizeof vars[0]; v++) {
		for (size_t k = 0; k < sizeof values / sizeof values[0]; k++) {
			static char setting[6100];
			snprintf(setting, sizeof setting, "%s=%s", vars[v], values[k]);
			const char *what = k == 4 ? "a 5999-character value" : values[k];
			char *trace = h_trace_path("env");
			unlink(trace);
			char preload[4200], output[4200];
			snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
			snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
			int sets_output = !strcmp(vars[v], "WEFT_OUTPUT");
			char *env[] = { preload, sets_output ? setting : output,
					sets_output ? NULL : setting, NULL };
			char *argv[] = { (char *)h_program("mutex_count"), NULL };
			struct run_result r;
			h_run(argv, env, &r);
			cr_assert_eq(r.status, 0, "%s=%s: %s", vars[v], what, r.err);
			cr_assert_str_eq(r.out, "counter=10000\n", "%s=%s", vars[v], what);
			int lines = 0;
			for (const char *p = r.err; *p; p++)
				lines += *p == '\n';
			cr_assert_leq(lines, 1, "%s=%s: at most one line: %s", vars[v], what, r.err);
			if (lines)
				cr_assert(strstr(r.err, vars[v]), "%s=%s: the warning names it: %s",
					  vars[v], what, r.err);
			if (!sets_output) {
				cr_assert(is_trace(trace), "%s=%s: traced all the same",
					  vars[v], what);
				h_assert_checks(trace);
			}
			h_free(&r);
		}
	}
}
