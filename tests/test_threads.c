/*
 * test_threads.c - weft inside threads it must not disturb: programs
 * running on other allocators (jemalloc, tcmalloc), whose locks weft's own
 * code may take, must get one serial per thread and traces that check.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define MAX_THREADS 16

/* What the trace says about each thread: its THREAD_START's tid and the
 * name its last THREAD_NAME gave it. */
struct threads_seen {
	int starts;
	uint64_t serial[MAX_THREADS], tid[MAX_THREADS];
	char name[MAX_THREADS][16];
};

static int slot_of(struct threads_seen *s, uint64_t serial)
{
	for (int i = 0; i < s->starts; i++)
		if (s->serial[i] == serial)
			return i;
	return -1;
}

static void note_thread(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	struct threads_seen *s = ctx;
	if (rec->code == WEFT_EV_THREAD_START && s->starts < MAX_THREADS) {
		s->serial[s->starts] = b->header.serial;
		s->tid[s->starts++] = rec->args[1];
	} else if (rec->code == WEFT_EV_THREAD_NAME) {
		int i = slot_of(s, rec->args[0]);
		if (i >= 0)
			snprintf(s->name[i], sizeof s->name[i], "%.*s", (int)rec->nbytes,
				 (const char *)rec->bytes);
	}
}

/*
 * Runs named_workers with allocator (a library name for LD_PRELOAD, or
 * NULL for libc's malloc) loaded before weft, as `weft record` does with
 * a preload of the program's own.  Each of the four threads must have
 * exactly one serial, with its own tid, and each worker its name; the
 * trace must check.
 */
static void one_serial_per_thread(const char *allocator, const char *package)
{
	char preload[4400], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s%s%s", allocator ? allocator : "",
		 allocator ? " " : "", h_preload());
	const char *trace = h_trace_path("workers");
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, NULL };
	char *argv[] = { (char *)h_program("named_workers"), NULL };
	struct run_result r;
	h_run(argv, env, &r);
	if (allocator && strstr(r.err, "cannot be preloaded"))
		cr_skip_test("%s is not installed (Debian package %s)", allocator, package);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.err, "", "stderr: %s", r.err);
	h_assert_checks(trace);

	struct threads_seen seen = { 0 };
	char err[512];
	cr_assert_eq(h_walk(trace, note_thread, &seen, err, sizeof err), WEFT_READ_OK, "%s", err);
	cr_assert_eq(seen.starts, 4, "main and three workers, one THREAD_START each (got %d)",
		     seen.starts);
	for (int i = 0; i < seen.starts; i++)
		for (int j = i + 1; j < seen.starts; j++)
			cr_assert_neq(seen.tid[i], seen.tid[j], "T%lu and T%lu share tid %lu",
				      (unsigned long)seen.serial[i],
				      (unsigned long)seen.serial[j], (unsigned long)seen.tid[i]);
	const char *line = r.out;
	for (int w = 1; w <= 3; w++) {
		char name[16];
		long tid;
		cr_assert_eq(sscanf(line, "%15s %ld", name, &tid), 2, "output: %s", r.out);
		int found = 0;
		for (int i = 0; i < seen.starts; i++)
			if (seen.tid[i] == (uint64_t)tid) {
				found = 1;
				cr_assert_str_eq(seen.name[i], name, "T%lu's name",
						 (unsigned long)seen.serial[i]);
			}
		cr_assert(found, "%s (tid %ld) has a THREAD_START", name, tid);
		line = strchr(line, '\n') + 1;
	}
	h_free(&r);
}

Test(threads, libc_malloc_one_serial_per_thread, .timeout = 60)
{
	one_serial_per_thread(NULL, NULL);
}

Test(threads, jemalloc_one_serial_per_thread, .timeout = 60)
{
	one_serial_per_thread("libjemalloc.so.2", "libjemalloc2");
}

Test(threads, tcmalloc_one_serial_per_thread, .timeout = 60)
{
	one_serial_per_thread("libtcmalloc.so.4", "libgoogle-perftools4");
}

/* ---- small stacks ---- */

/* What weft may add to a path's stack use, beyond the program's own: a
 * wrapper, a fork handler, a thread's start and end, with stacks off or
 * on (a capture's unwinding fits in the same budget). */
#define WEFT_STACK_BUDGET 2048

/* The "WHAT used N" lines of small_stack's output, summed per line in
 * order into used[] (at most 4). */
static int stack_uses(const char *out, size_t *used)
{
	int n = 0;
	for (const char *line = out; *line && n < 4; n++) {
		const char *u = strstr(line, " used ");
		if (!u)
			break;
		used[n] = strtoul(u + 6, NULL, 10);
		const char *nl = strchr(line, '\n');
		line = nl ? nl + 1 : line + strlen(line);
	}
	return n;
}

/* Every trace DIR/ss-NAME-*.trace* is complete and checks; returns how
 * many there are. */
static int traces_check(const char *prefix)
{
	DIR *d = opendir(h_tmpdir());
	cr_assert(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)))
			continue;
		char path[4400];
		snprintf(path, sizeof path, "%s/%s", h_tmpdir(), e->d_name);
		struct h_counts c;
		h_count(path, &c);
		cr_assert_eq(c.status, WEFT_READ_OK, "%s: %s", path, c.error);
		cr_assert(c.complete, "%s ends with TRACE_END", path);
		h_assert_checks(path);
		n++;
	}
	closedir(d);
	return n;
}

/* Runs small_stack PATH untraced and traced (stacks on or off): the
 * program must end the same way, the traced run's stack use stay within
 * weft's budget of the untraced one's, and every trace check. */
static void small_stack_path(const char *path, int stacks, int traces)
{
	char *argv[] = { (char *)h_program("small_stack"), (char *)path, NULL };
	struct run_result plain, traced;
	h_run(argv, NULL, &plain);
	char preload[4200], output[4200], prefix[64];
	snprintf(prefix, sizeof prefix, "ss-%s-%d-", path, stacks);
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s/%s%%p.trace", h_tmpdir(), prefix);
	char *env[] = { preload, output, stacks ? "WEFT_STACKS=1" : "WEFT_STACKS=0", NULL };
	h_run(argv, env, &traced);
	cr_assert_eq(traced.status, plain.status, "%s: exit %d traced, %d untraced: %s",
		     path, traced.status, plain.status, traced.err);
	size_t plain_used[4], traced_used[4];
	int n = stack_uses(plain.out, plain_used);
	cr_assert_eq(stack_uses(traced.out, traced_used), n, "%s: output %s against %s",
		     path, traced.out, plain.out);
	for (int i = 0; i < n; i++)
		cr_assert_leq(traced_used[i], plain_used[i] + WEFT_STACK_BUDGET,
			      "%s (stacks %d): %zu bytes of stack traced, %zu untraced:\n%s",
			      path, stacks, traced_used[i], plain_used[i], traced.out);
	cr_assert_eq(traces_check(prefix), traces, "%s: traces written", path);
	h_free(&plain);
	h_free(&traced);
}

Test(threads, fork_on_the_smallest_stack, .timeout = 60)
{
	small_stack_path("fork", 0, 2);
	small_stack_path("fork", 1, 2);
}

Test(threads, exec_on_the_smallest_stack, .timeout = 60)
{
	small_stack_path("exec", 0, 2);
	small_stack_path("exec", 1, 2);
}

Test(threads, wrappers_and_thread_end_on_the_smallest_stack, .timeout = 60)
{
	small_stack_path("calls", 0, 1);
	small_stack_path("calls", 1, 1);
}

Test(threads, exit_on_the_smallest_stack, .timeout = 60)
{
	small_stack_path("exit", 0, 1);
	small_stack_path("exit", 1, 1);
}

Test(threads, fatal_signal_on_the_smallest_stack, .timeout = 60)
{
	small_stack_path("crash", 0, 1);
	small_stack_path("crash", 1, 1);
}

/* ---- cancellation ---- */

Test(threads, capturing_a_stack_adds_no_cancellation_point, .timeout = 60)
{
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	const char *trace = h_trace_path("cancel_pending");
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, "WEFT_STACKS=1", NULL };
	char *argv[] = { (char *)h_program("cancel_pending"), NULL };
	struct run_result r;
	h_run(argv, env, &r);
	cr_assert_eq(r.status, 0, "exit %d: %s", r.status, r.err);
	cr_assert_str_eq(r.out, "cancelled at testcancel\n",
			 "pthread_mutex_lock is not a cancellation point");
	h_free(&r);
	h_assert_checks(trace);
}

/* ---- threads named before tracing starts ---- */

Test(threads, started_later_still_names_every_thread, .timeout = 60)
{
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	const char *trace = h_trace_path("named_late");
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, "WEFT_START=0", NULL };
	char *argv[] = { (char *)h_program("named_workers"), "wait", NULL };
	struct h_proc p;
	h_spawn(argv, env, &p);
	char line[256];
	cr_assert(h_read_line(&p, line, sizeof line) && !strcmp(line, "ready"));
	char pid[16];
	snprintf(pid, sizeof pid, "%d", p.pid);
	struct run_result r;
	h_run((char *[]){ (char *)h_weft(), "start", pid, NULL }, NULL, &r);
	cr_assert_eq(r.status, 0, "weft start: %s", r.err);
	h_free(&r);
	h_write_line(&p, "go");
	char names[3][16];
	long tids[3];
	for (int w = 0; w < 3; w++) {
		cr_assert(h_read_line(&p, line, sizeof line));
		cr_assert_eq(sscanf(line, "%15s %ld", names[w], &tids[w]), 2, "%s", line);
	}
	cr_assert_eq(h_finish(&p), 0);
	h_assert_checks(trace);

	h_run((char *[]){ (char *)h_weft(), "stats", "--json", (char *)trace, NULL }, NULL, &r);
	cr_assert_eq(r.status, 0, "weft stats: %s", r.err);
	for (int w = 0; w < 3; w++) {
		char name[64], tid[64];
		snprintf(name, sizeof name, "\"name\":\"%s\"", names[w]);
		snprintf(tid, sizeof tid, "\"tid\":%ld,", tids[w]);
		const char *row = strstr(r.out, name);
		cr_assert(row, "no thread row named %s in:\n%s", names[w], r.out);
		const char *end = strchr(row, '\n');
		const char *at = strstr(row, tid);
		cr_assert(at && (!end || at < end), "%s's row lacks %s:\n%s", names[w], tid,
			  r.out);
	}
	h_free(&r);
}
