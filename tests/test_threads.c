/*
 * test_threads.c - weft inside threads it must not disturb: programs
 * running on other allocators (jemalloc, tcmalloc), whose locks weft's own
 * code may take, must get one serial per thread and traces that check.
 */
#include <criterion/criterion.h>
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
