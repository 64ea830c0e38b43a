/*
 * test_trace.c - integration tests: real programs run with and without
 * libweft.so; the traced run must behave identically (stdout, exit status,
 * errno), and its trace must decode in full and hold exactly what the
 * program did.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

/* Runs program `name` untraced and traced (trace at *trace_out); asserts
 * identical stdout and exit status, and returns the traced run. */
static void run_both_env(const char *name, char *const extra_args[],
			 char *const extra_env[], char **trace_out,
			 struct run_result *traced)
{
	char *argv[16] = { (char *)h_program(name) };
	for (int i = 0; extra_args && extra_args[i]; i++)
		argv[i + 1] = extra_args[i];
	struct run_result plain;
	h_run(argv, NULL, &plain);

	char *trace = h_trace_path(name);
	static __thread char preload_env[4200], output_env[4200];
	snprintf(preload_env, sizeof preload_env, "LD_PRELOAD=%s", h_preload());
	snprintf(output_env, sizeof output_env, "WEFT_OUTPUT=%s", trace);
	char *env[8] = { preload_env, output_env };
	for (int i = 0; extra_env && extra_env[i] && i < 5; i++)
		env[2 + i] = extra_env[i];
	h_run(argv, env, traced);

	cr_assert_eq(traced->status, plain.status, "%s: exit status %d traced, %d untraced",
		     name, traced->status, plain.status);
	cr_assert_str_eq(traced->out, plain.out, "%s: stdout differs under the preload", name);
	cr_assert_str_eq(traced->err, "", "%s: the preload printed on stderr: %s", name,
			 traced->err);
	h_free(&plain);
	*trace_out = trace;
}

static void run_both(const char *name, char *const extra_args[],
		     char **trace_out, struct run_result *traced)
{
	run_both_env(name, extra_args, NULL, trace_out, traced);
}

/* ---- per-object bookkeeping over a trace ---- */

#define MAX_OBJECTS 256
struct object {
	uint64_t addr;
	uint64_t acquires, unlocks, blocks;
	uint64_t *seqs;
	size_t nseqs, cap;
};

struct objects {
	struct object o[MAX_OBJECTS];
	int n;
	uint64_t per_thread_code[512][256];
	uint32_t last_code[512]; /* last record code of each thread */
};

static struct object *obj(struct objects *os, uint64_t addr)
{
	for (int i = 0; i < os->n; i++)
		if (os->o[i].addr == addr)
			return &os->o[i];
	cr_assert_lt(os->n, MAX_OBJECTS);
	struct object *o = &os->o[os->n++];
	memset(o, 0, sizeof *o);
	o->addr = addr;
	return o;
}

/* Numbers restart in each generation: kept as generation << 32 | seq. */
static void add_seq(struct object *o, uint32_t gen, uint64_t seq)
{
	seq |= (uint64_t)gen << 32;
	if (o->nseqs == o->cap) {
		o->cap = o->cap ? o->cap * 2 : 64;
		o->seqs = realloc(o->seqs, o->cap * sizeof *o->seqs);
	}
	o->seqs[o->nseqs++] = seq;
}

static void collect(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	struct objects *os = ctx;
	uint32_t t = b->header.serial < 512 ? b->header.serial : 511;
	os->per_thread_code[t][rec->code]++;
	os->last_code[t] = rec->code;
	struct object *o;
	switch (rec->code) {
	case WEFT_EV_MUTEX_ACQUIRE:
		o = obj(os, rec->args[0]);
		o->acquires++;
		add_seq(o, b->header.generation, rec->args[1]);
		break;
	case WEFT_EV_MUTEX_UNLOCK:
		o = obj(os, rec->args[0]);
		o->unlocks++;
		add_seq(o, b->header.generation, rec->args[1]);
		break;
	case WEFT_EV_MUTEX_BLOCK:
		obj(os, rec->args[0])->blocks++;
		break;
	case WEFT_EV_MUTEX_INIT:
	case WEFT_EV_MUTEX_DESTROY:
		add_seq(obj(os, rec->args[0]), b->header.generation, rec->args[1]);
		break;
	case WEFT_EV_COND_WAIT_BEGIN:
		add_seq(obj(os, rec->args[1]), b->header.generation, rec->args[2]);
		break;
	case WEFT_EV_COND_WAIT_END:
		if (rec->args[2])
			add_seq(obj(os, rec->args[1]), b->header.generation, rec->args[2]);
		break;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Every sequence number of the object appears once, and in each
 * generation they run 1, 2, ... with no gap: the trace orders all of its
 * events. */
static void assert_seqs_contiguous(struct object *o)
{
	qsort(o->seqs, o->nseqs, sizeof *o->seqs, cmp_u64);
	for (size_t i = 0; i < o->nseqs; i++) {
		uint64_t gen = o->seqs[i] >> 32, seq = (uint32_t)o->seqs[i];
		uint64_t want = i && o->seqs[i - 1] >> 32 == gen ?
			(uint32_t)o->seqs[i - 1] + 1 : 1;
		cr_assert_eq(seq, want, "object 0x%llx: generation %llu: seq %llu "
			     "where %llu was due", (unsigned long long)o->addr,
			     (unsigned long long)gen, (unsigned long long)seq,
			     (unsigned long long)want);
	}
}

/* Some mutex has exactly n acquires and n unlocks, with contiguous
 * sequence numbers. */
static void assert_pairs(struct objects *os, uint64_t n, const char *what)
{
	for (int i = 0; i < os->n; i++)
		if (os->o[i].acquires == n && os->o[i].unlocks == n) {
			assert_seqs_contiguous(&os->o[i]);
			return;
		}
	cr_assert_fail("no mutex with %llu lock/unlock pairs: %s", (unsigned long long)n, what);
}

static void load_objects(const char *trace, struct objects *os)
{
	memset(os, 0, sizeof *os);
	char err[512];
	int rc = h_walk(trace, collect, os, err, sizeof err);
	cr_assert_eq(rc, WEFT_READ_OK, "%s does not decode: %s", trace, err);
}

static void free_objects(struct objects *os)
{
	for (int i = 0; i < os->n; i++)
		free(os->o[i].seqs);
}

static void assert_complete(const char *trace)
{
	struct h_counts c;
	h_count(trace, &c);
	cr_assert_eq(c.status, WEFT_READ_OK, "%s: %s", trace, c.error);
	cr_assert(c.complete, "%s has no TRACE_END record", trace);
	h_assert_checks(trace);
	cr_assert_eq(c.per_code[WEFT_EV_GEN_END], c.per_code[WEFT_EV_CLOCK],
		     "every generation opened is closed");
	for (int g = 1; g < 16; g++)
		cr_assert_eq(c.thread_batches[g], c.gen_end_batches[g],
			     "generation %d: %llu thread batches, GEN_END says %llu", g,
			     (unsigned long long)c.thread_batches[g],
			     (unsigned long long)c.gen_end_batches[g]);
}

/* ---- tests ---- */

Test(trace, mutex_count_records_every_pair, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_both("mutex_count", NULL, &trace, &r);
	cr_assert_str_eq(r.out, "counter=10000\n");
	assert_complete(trace);
	struct objects *os = calloc(1, sizeof *os);
	load_objects(trace, os);
	struct object *hot = NULL;
	for (int i = 0; i < os->n; i++)
		if (os->o[i].acquires >= 10000)
			hot = &os->o[i];
	cr_assert_not_null(hot, "no mutex with 10,000 acquires");
	cr_assert_eq(hot->acquires, 10000);
	cr_assert_eq(hot->unlocks, 10000);
	assert_seqs_contiguous(hot);
	/* Four workers started, ran and exited; main joined them. */
	uint64_t starts = 0, exits = 0;
	for (int t = 2; t < 512; t++) {
		starts += os->per_thread_code[t][WEFT_EV_THREAD_START];
		exits += os->per_thread_code[t][WEFT_EV_THREAD_EXIT];
	}
	cr_assert_eq(starts, 4);
	cr_assert_eq(exits, 4);
	cr_assert_eq(os->per_thread_code[1][WEFT_EV_THREAD_CREATE], 4);
	cr_assert_eq(os->per_thread_code[1][WEFT_EV_JOIN_END], 4);
	free_objects(os);
	free(os);
	h_free(&r);
}

struct writes {
	uint64_t begins, ends, other_fd_begins;
	int64_t fd;
	int bad_result;
};

static void count_writes(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	struct writes *w = ctx;
	if (b->header.serial != 1)
		return;
	if (rec->code == WEFT_EV_SYSCALL_BEGIN && rec->args[0] == WEFT_SYS_write) {
		int64_t fd = (int64_t)rec->args[1];
		if (fd == 1 || fd == 2) {
			w->other_fd_begins++;
			return;
		}
		if (w->fd < 0)
			w->fd = fd;
		if (fd == w->fd)
			w->begins++;
	}
	if (rec->code == WEFT_EV_SYSCALL_END && rec->args[0] == WEFT_SYS_write) {
		if ((int64_t)rec->args[1] == 8 && rec->args[2] == 0)
			w->ends++;
		else if ((int64_t)rec->args[1] != 8 && w->ends < 1000)
			w->bad_result = 1;
	}
}

Test(trace, pipe_writes_are_paired, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_both("pipe_writes", NULL, &trace, &r);
	cr_assert_str_eq(r.out, "bytes=8000\n");
	assert_complete(trace);
	struct writes w = { .fd = -1 };
	char err[512];
	cr_assert_eq(h_walk(trace, count_writes, &w, err, sizeof err), WEFT_READ_OK, "%s", err);
	cr_assert_eq(w.begins, 1000, "write begins on the pipe: %llu",
		     (unsigned long long)w.begins);
	cr_assert_eq(w.ends, 1000, "write ends returning 8: %llu", (unsigned long long)w.ends);
	cr_assert_eq(w.bad_result, 0);
	h_free(&r);
}

Test(trace, errno_and_results_are_preserved, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_both("errno_check", NULL, &trace, &r);
	cr_assert_eq(r.status, 0, "errno_check failed under the preload:\n%s", r.out);
	cr_assert_null(strstr(r.out, "FAIL"), "%s", r.out);
	cr_assert(strstr(r.out, "ok read_ebadf"), "%s", r.out);
	assert_complete(trace);
	h_free(&r);
}

Test(trace, exit_with_blocked_threads_still_completes, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_both("exit_blocked", NULL, &trace, &r);
	cr_assert_str_eq(r.out, "exiting\n");
	assert_complete(trace);
	struct objects *os = calloc(1, sizeof *os);
	load_objects(trace, os);
	assert_pairs(os, 100, "main's pairs are in the trace");
	/* Each of the 8 threads ends its trace inside its blocking call. */
	int in_read = 0, in_cond = 0, in_mutex = 0;
	for (int t = 2; t < 512; t++) {
		switch (os->last_code[t]) {
		case WEFT_EV_SYSCALL_BEGIN: in_read++; break;
		case WEFT_EV_COND_WAIT_BEGIN: in_cond++; break;
		case WEFT_EV_MUTEX_BLOCK: in_mutex++; break;
		}
	}
	cr_assert_eq(in_read, 4);
	cr_assert_eq(in_cond, 2);
	cr_assert_eq(in_mutex, 2);
	free_objects(os);
	free(os);
	h_free(&r);
}

Test(trace, stress64_orders_every_mutex, .timeout = 120)
{
	char *trace;
	struct run_result r;
	run_both("stress64", NULL, &trace, &r);
	assert_complete(trace);
	struct objects *os = calloc(1, sizeof *os);
	load_objects(trace, os);
	int hammered = 0;
	for (int i = 0; i < os->n; i++) {
		struct object *o = &os->o[i];
		if (o->acquires < 100)
			continue;
		hammered++;
		assert_seqs_contiguous(o);
	}
	cr_assert_geq(hammered, 8, "all 8 mutexes are in the trace");
	uint64_t starts = 0;
	for (int t = 2; t < 512; t++)
		starts += os->per_thread_code[t][WEFT_EV_THREAD_START];
	cr_assert_eq(starts, 64);
	free_objects(os);
	free(os);
	h_free(&r);
}

Test(trace, sync_zoo_records_every_kind, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_both("sync_zoo", NULL, &trace, &r);
	cr_assert_eq(r.status, 0, "%s", r.out);
	assert_complete(trace);
	struct h_counts c;
	h_count(trace, &c);
	static const uint8_t expected[] = {
		WEFT_EV_THREAD_CREATE, WEFT_EV_THREAD_START, WEFT_EV_THREAD_EXIT,
		WEFT_EV_THREAD_NAME, WEFT_EV_JOIN_BEGIN, WEFT_EV_JOIN_END, WEFT_EV_DETACH,
		WEFT_EV_MUTEX_ACQUIRE, WEFT_EV_MUTEX_UNLOCK, WEFT_EV_MUTEX_FAIL,
		WEFT_EV_RWLOCK_ACQUIRE, WEFT_EV_RWLOCK_UNLOCK, WEFT_EV_RWLOCK_FAIL,
		WEFT_EV_COND_WAIT_BEGIN, WEFT_EV_COND_WAIT_END, WEFT_EV_COND_SIGNAL,
		WEFT_EV_COND_BROADCAST, WEFT_EV_BARRIER_BEGIN, WEFT_EV_BARRIER_END,
		WEFT_EV_SPIN_ACQUIRE, WEFT_EV_SPIN_UNLOCK, WEFT_EV_SEM_WAIT_END,
		WEFT_EV_SEM_POST, WEFT_EV_SYSCALL_BEGIN, WEFT_EV_SYSCALL_END, WEFT_EV_FORK,
	};
	for (size_t i = 0; i < sizeof expected; i++)
		cr_expect_gt(c.per_code[expected[i]], 0, "no %s record",
			     weft_events[expected[i]].name);
	h_free(&r);
}

/* The preload's writer (preload/put.h) writes, record for record, the
 * bytes the format library's encoder writes for the same records: each
 * thread batch coded again from a fresh state is its payload. */
Test(trace, the_writer_codes_records_as_the_encoder, .timeout = 60)
{
	static const char *const programs[] = { "sync_zoo", "mutex_count" };
	for (size_t k = 0; k < sizeof programs / sizeof programs[0]; k++) {
		char *trace;
		struct run_result r;
		run_both(programs[k], NULL, &trace, &r);
		assert_complete(trace);
		struct weft_reader rd;
		cr_assert_eq(weft_reader_open(&rd, trace), WEFT_READ_OK, "%s", rd.error);
		cr_assert_eq(rd.header.version, WEFT_FORMAT_VERSION);
		struct weft_batch b;
		uint64_t compact = 0, records = 0;
		while (weft_reader_next_batch(&rd, &b) == WEFT_READ_OK) {
			static uint8_t buf[1 << 20];
			uint8_t *p = buf;
			struct weft_cursor c;
			struct weft_record rec;
			struct weft_batch_state st;
			weft_batch_state_init(&st, WEFT_FORMAT_VERSION, b.header.base_ts);
			weft_cursor_init(&c, &b);
			while (weft_cursor_next(&rd, &c, &rec) == WEFT_READ_OK) {
				cr_assert_lt(p - buf + WEFT_RECORD_MAX, (long)sizeof buf);
				compact += b.payload[p - buf] >= WEFT_COMPACT_BIT;
				p = weft_encode_record(p, &rec, &st);
				records++;
			}
			cr_assert_eq((size_t)(p - buf), b.header.length,
				     "%s: batch at %zu coded again", programs[k], b.offset);
			cr_assert_arr_eq(buf, b.payload, b.header.length,
					 "%s: batch at %zu coded again", programs[k], b.offset);
		}
		weft_reader_close(&rd);
		/* (mutex_count is made of lock pairs.) */
		cr_assert_gt(compact, k == 1 ? records / 4 : 0,
			     "%s: %llu of %llu records compact",
			     programs[k], (unsigned long long)compact,
			     (unsigned long long)records);
		h_free(&r);
	}
}

struct syscalls_seen {
	uint64_t begins[WEFT_SYS_COUNT_];
	uint64_t ends[WEFT_SYS_COUNT_];
};

static void count_syscalls(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	(void)b;
	struct syscalls_seen *s = ctx;
	if (rec->code == WEFT_EV_SYSCALL_BEGIN && rec->args[0] < WEFT_SYS_COUNT_)
		s->begins[rec->args[0]]++;
	if (rec->code == WEFT_EV_SYSCALL_END && rec->args[0] < WEFT_SYS_COUNT_)
		s->ends[rec->args[0]]++;
}

Test(trace, sync_zoo_records_every_syscall, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_both("sync_zoo", NULL, &trace, &r);
	struct syscalls_seen s;
	memset(&s, 0, sizeof s);
	char err[512];
	cr_assert_eq(h_walk(trace, count_syscalls, &s, err, sizeof err), WEFT_READ_OK, "%s", err);
	for (unsigned id = 1; id < WEFT_SYS_COUNT_; id++) {
		/* wait/waitpid run in the parent; the fork child's calls are
		 * in its own trace. */
		cr_expect_gt(s.begins[id], 0, "no %s begins", weft_syscall_name(id));
		cr_expect_eq(s.begins[id], s.ends[id], "%s: %llu begins, %llu ends",
			     weft_syscall_name(id), (unsigned long long)s.begins[id],
			     (unsigned long long)s.ends[id]);
	}
	h_free(&r);
}

Test(trace, main_calling_pthread_exit_still_ends, .timeout = 60)
{
	char *trace;
	struct run_result r;
	run_both("pthread_exit_main", NULL, &trace, &r);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "last thread done\n");
	assert_complete(trace);
	struct objects *os = calloc(1, sizeof *os);
	load_objects(trace, os);
	cr_assert_eq(os->per_thread_code[1][WEFT_EV_THREAD_EXIT], 1, "main's exit is recorded");
	free_objects(os);
	free(os);
	h_free(&r);
}

Test(trace, small_buffers_flush_often_and_lose_nothing, .timeout = 120)
{
	/* Sizes chosen so flushes land at many different points of the
	 * records' sequence: every batch must start with its header. */
	static char *sizes[] = { "WEFT_BUFFER_KB=4", "WEFT_BUFFER_KB=5",
				 "WEFT_BUFFER_KB=7", "WEFT_BUFFER_KB=13" };
	for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
		char *trace;
		struct run_result r;
		char *env[] = { sizes[i], NULL };
		run_both_env("mutex_count", NULL, env, &trace, &r);
		assert_complete(trace);
		struct h_counts c;
		h_count(trace, &c);
		/* (About 50 kB of records: a pair takes 5 bytes.) */
		cr_assert_gt(c.thread_batches[1], 12, "%s: many batches", sizes[i]);
		cr_assert_eq(c.lost, 0, "%s", sizes[i]);
		struct objects *os = calloc(1, sizeof *os);
		load_objects(trace, os);
		assert_pairs(os, 10000, sizes[i]);
		free_objects(os);
		free(os);
		h_free(&r);
	}
}

Test(trace, memory_cap_drops_and_counts, .timeout = 120)
{
	/* Two buffers for 65 threads: most events are dropped, counted, and
	 * the program neither waits nor changes. */
	char *trace;
	struct run_result r;
	char *env[] = { "WEFT_MEMORY_MB=1", "WEFT_BUFFER_KB=512", NULL };
	run_both_env("stress64", NULL, env, &trace, &r);
	cr_assert_str_eq(r.out, "done\n");
	assert_complete(trace);
	struct h_counts c;
	h_count(trace, &c);
	cr_assert_gt(c.lost, 0, "events were dropped and counted");
	cr_assert_geq(c.per_code[WEFT_EV_LOST], 32, "threads without a buffer report their losses");
	h_free(&r);
}

Test(trace, calls_before_weft_is_initialized_work, .timeout = 60)
{
	/* A library constructor that runs before weft's own calls wrapped
	 * functions: they pass through, and the program is traced after. */
	char *trace;
	struct run_result r;
	run_both("early_ctor", NULL, &trace, &r);
	cr_assert_str_eq(r.out, "early_value=42\n");
	cr_assert_eq(r.status, 0);
	assert_complete(trace);
	struct objects *os = calloc(1, sizeof *os);
	load_objects(trace, os);
	assert_pairs(os, 100, "main's pairs after initialization are traced");
	free_objects(os);
	free(os);
	h_free(&r);
}

Test(trace, underscore_exit_with_threads_running_completes, .timeout = 60)
{
	/* _exit runs no destructor: weft completes the trace in its wrapper. */
	char *trace;
	struct run_result r;
	run_both("quick_exit", NULL, &trace, &r);
	cr_assert_eq(r.status, 5);
	cr_assert_str_eq(r.out, "bye\n");
	assert_complete(trace);
	struct objects *os = calloc(1, sizeof *os);
	load_objects(trace, os);
	assert_pairs(os, 100, "main's pairs are in the trace");
	free_objects(os);
	free(os);
	h_free(&r);
}
