/*
 * test_blocking.c - calls that wait without a lock: file locks, message
 * queues, waitid, epoll_pwait2, the signal waits, and stdio on a pipe,
 * each recorded as a system call whose time is not running; real
 * programs (zstd) whose I/O goes through stdio; and the CPU time that
 * shows a wait weft cannot see.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Runs argv under `weft record -o TRACE --`; the trace must check.
 * *out gets the program's stdout (cap bytes at most). */
static char *record_argv(const char *base, char *const argv[], char *out, size_t cap)
{
	char *trace = h_trace_path(base);
	char *full[16] = { (char *)h_weft(), "record", "-o", trace, "--" };
	size_t n = 5;
	for (size_t i = 0; argv[i] && n < 15; i++)
		full[n++] = argv[i];
	full[n] = NULL;
	struct run_result r;
	h_run(full, NULL, &r);
	cr_assert_eq(r.status, 0, "%s: %s", argv[0], r.err);
	if (out)
		snprintf(out, cap, "%s", r.out);
	h_free(&r);
	h_assert_checks(trace);
	return trace;
}

static char *record(const char *name, char *out, size_t cap)
{
	char *argv[] = { (char *)h_program(name), NULL };
	return record_argv(name, argv, out, cap);
}

/* `weft stats --json TRACE` saved to a file; returns its path. */
static char *stats_json(const char *trace, const char *name)
{
	char *argv[] = { (char *)h_weft(), "stats", "--json", (char *)trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *path = h_save(name, r.out, r.out_len);
	h_free(&r);
	return path;
}

static int by_text(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* text's lines in sorted order, into out. */
static void sorted_lines(const char *text, char *out, size_t cap)
{
	char *copy = strdup(text), *lines[256], *save = NULL;
	size_t n = 0;
	for (char *l = strtok_r(copy, "\n", &save); l && n < 256; l = strtok_r(NULL, "\n", &save))
		lines[n++] = l;
	qsort(lines, n, sizeof *lines, by_text);
	size_t used = 0;
	out[0] = 0;
	for (size_t i = 0; i < n && used < cap; i++)
		used += (size_t)snprintf(out + used, cap - used, "%s\n", lines[i]);
	free(copy);
}

/* For each NAME:CALL:COUNT in argv[2]: the thread named NAME's time in
 * system calls and running, CALL's count in the syscall table, and the
 * expected count; then the total of pause. */
static const char waits_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"th = {t['name']: t for t in d['threads'] if t['name']}\n"
	"rows = {s['call']: s for s in d['syscalls'] if 'fd' not in s}\n"
	"out = []\n"
	"for item in sys.argv[2].split(','):\n"
	"    name, call, want = item.split(':')\n"
	"    r = rows.get(call, {'calls': 0})\n"
	"    out.append('%s,%d,%d,%d,%s' % (name, th[name]['syscall_ns'],\n"
	"               th[name]['running_ns'], r['calls'], want))\n"
	"p = rows.get('pause', {'calls': 0, 'total_ns': 0})\n"
	"out.append('pause,%d,0,%d,1' % (p['total_ns'], p['calls']))\n"
	"print(' '.join(out))\n";

/* Every call that can wait, made once by a thread named after it (fcntl
 * twice: F_SETLKW and F_OFD_SETLKW) and held ~50 ms: each is a system
 * call of its own id with exactly that count (the forms that cannot wait,
 * LOCK_NB, F_TEST, F_TLOCK, F_ULOCK, F_GETLK, F_SETLK, add none), and the
 * waiter's time in it is not running.  The main thread's 50 ms in pause()
 * is a system call too. */
Test(blocking, each_waiting_call_is_a_system_call, .timeout = 120)
{
	char line[2048];
	char *trace = record("blocking_calls", NULL, 0);
	char *json = stats_json(trace, "blocking_calls.json");
	h_python(waits_script, json,
	       "flock:flock:1,lockf:lockf:1,fcntl:fcntl:2,fcntl-ofd:fcntl:2,"
	       "msgrcv:msgrcv:1,msgsnd:msgsnd:1,mq_receive:mq_receive:1,"
	       "mq_send:mq_send:1,mq_timedreceive:mq_timedreceive:1,"
	       "mq_timedsend:mq_timedsend:1,waitid:waitid:1,"
	       "epoll_pwait2:epoll_pwait2:1", NULL, line, sizeof line);
	char *save = NULL;
	int items = 0;
	for (char *item = strtok_r(line, " ", &save); item;
	     item = strtok_r(NULL, " ", &save), items++) {
		char name[32];
		long long in_call, running, count, want;
		cr_assert_eq(sscanf(item, "%31[^,],%lld,%lld,%lld,%lld", name, &in_call,
				    &running, &count, &want), 5, "%s", item);
		cr_assert(in_call >= 40000000, "%s: %lld ns in the call, not ~50 ms",
			  name, in_call);
		cr_assert_lt(running, in_call, "%s: more time running than waiting", name);
		cr_assert_eq(count, want, "%s: %lld calls, not %lld", name, count, want);
	}
	cr_assert_eq(items, 13, "%s", line);
}

/* The calls' records name what they waited on: a file lock's descriptor,
 * a System V queue's id. */
Test(blocking, waiting_calls_name_their_object, .timeout = 120)
{
	char *trace = record("blocking_calls", NULL, 0);
	char *argv[] = { (char *)h_weft(), "dump", trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	static const char *const calls[] = { "flock", "lockf", "fcntl", "msgrcv",
					      "msgsnd", "mq_receive", "waitid",
					      "epoll_pwait2" };
	for (size_t i = 0; i < sizeof calls / sizeof calls[0]; i++) {
		char want[64];
		snprintf(want, sizeof want, "SYSCALL_BEGIN syscall=%s arg=", calls[i]);
		const char *at = strstr(r.out, want);
		cr_assert(at, "no \"%s\" in the dump", want);
		long long arg = atoll(at + strlen(want));
		cr_assert_geq(arg, 0, "%s waited on %lld", calls[i], arg);
		snprintf(want, sizeof want, "SYSCALL_END syscall=%s return=", calls[i]);
		at = strstr(r.out, want);
		cr_assert(at, "no \"%s\" in the dump", want);
		cr_assert_eq(strncmp(strstr(at, "errno="), "errno=0", 7), 0,
			     "%s failed: %.80s", calls[i], at);
	}
	h_free(&r);
}

/* Per stdio id in argv[2] (CALL:COUNT:ERRORS): its count and errors; then
 * the time of fgets and getdelim on the reading descriptor argv[3], and
 * the reader's time in system calls and running. */
static const char stdio_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"rows = {s['call']: s for s in d['syscalls'] if 'fd' not in s}\n"
	"fd = {(s['call'], s['fd']): s for s in d['syscalls'] if 'fd' in s}\n"
	"bad = []\n"
	"for item in sys.argv[2].split(','):\n"
	"    call, n, e = item.split(':')\n"
	"    r = rows.get(call, {'calls': 0, 'errors': 0})\n"
	"    if (r['calls'], r['errors']) != (int(n), int(e)):\n"
	"        bad.append('%s:%d:%d' % (call, r['calls'], r['errors']))\n"
	"infd = int(sys.argv[3])\n"
	"th = {t['name']: t for t in d['threads'] if t['name']}\n"
	"print(' '.join(bad) or 'ok', fd[('fgets', infd)]['total_ns'],\n"
	"      fd[('getdelim', infd)]['total_ns'], th['reader']['syscall_ns'],\n"
	"      th['reader']['running_ns'])\n";

/* stdio on a pipe: the reader's two real waits (fgets, then getline) are
 * system calls on the pipe's descriptor of ~50 ms each, not running; the
 * calls its buffer satisfies (fgets, getline, fread, getc, fgetc,
 * getdelim) and the writer's buffered ones (fwrite, fputc, putc,
 * fprintf) record nothing, so each id has exactly the calls that could
 * reach the descriptor; calls that fail record their errno; and the
 * program's output (every return value and errno) is the same as
 * without weft. */
Test(blocking, stdio_blocks_are_system_calls_and_buffered_calls_are_not, .timeout = 120)
{
	char plain[2048], traced[2048], out[2048], line[1024];
	char *argv[] = { (char *)h_program("stdio_pipe"), NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	sorted_lines(r.out, plain, sizeof plain);
	h_free(&r);
	char *trace = record("stdio_pipe", out, sizeof out);
	sorted_lines(out, traced, sizeof traced);
	cr_assert_str_eq(traced, plain, "return values or errno changed under weft:\n%s\nwithout weft:\n%s", traced, plain);
	int infd, outfd;
	cr_assert_eq(sscanf(out, "in=%d out=%d", &infd, &outfd), 2, "%s", out);
	char *json = stats_json(trace, "stdio_pipe.json");
	char fd[16];
	snprintf(fd, sizeof fd, "%d", infd);
	char *pyargv[] = { "python3", "-c", (char *)stdio_script, json,
			   "fgets:1:0,getdelim:1:0,fread:1:0,fgetc:0:0,fputs:1:0,"
			   "fwrite:1:1,fputc:2:1,fprintf:1:0,fflush:2:0,fclose:4:0",
			   fd, NULL };
	h_run(pyargv, NULL, &r);
	cr_assert_eq(r.status, 0, "python: %s", r.err);
	snprintf(line, sizeof line, "%.*s", (int)strcspn(r.out, "\n"), r.out);
	h_free(&r);
	char counts[512];
	long long fgets_ns, getdelim_ns, reader_sys, reader_running;
	cr_assert_eq(sscanf(line, "%511s %lld %lld %lld %lld", counts, &fgets_ns,
			    &getdelim_ns, &reader_sys, &reader_running), 5, "%s", line);
	cr_assert_str_eq(counts, "ok", "calls:count:errors that differ: %s", counts);
	cr_assert(fgets_ns >= 40000000, "fgets on fd %d: %lld ns", infd, fgets_ns);
	cr_assert(getdelim_ns >= 40000000, "getline on fd %d: %lld ns", infd, getdelim_ns);
	cr_assert(reader_sys >= 80000000, "the reader's system calls: %lld ns", reader_sys);
	cr_assert_lt(reader_running, reader_sys / 4, "the reader ran %lld ns", reader_running);
}

/* Writes a few megabytes of text that compresses (words from a small
 * list in a pseudo-random order). */
static void write_text(const char *path, size_t bytes)
{
	static const char *const words[] = { "thread ", "lock ", "wait ", "trace ",
					     "buffer ", "generation ", "stdio\n" };
	FILE *f = fopen(path, "w");
	cr_assert(f);
	unsigned x = 12345;
	for (size_t n = 0; n < bytes;) {
		x = x * 1103515245u + 12345u;
		const char *w = words[(x >> 16) % 7];
		fputs(w, f);
		n += strlen(w);
	}
	cr_assert_eq(fclose(f), 0);
}

static const char zstd_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"c = {}\n"
	"for s in d['syscalls']:\n"
	"    if 'fd' in s and s['call'] in ('fread', 'fwrite'):\n"
	"        c[s['call']] = c.get(s['call'], 0) + s['calls']\n"
	"print(c.get('fread', 0), c.get('fwrite', 0))\n";

static void assert_reads_and_writes(const char *trace, const char *name)
{
	char line[128];
	h_python(zstd_script, stats_json(trace, name), NULL, NULL, line, sizeof line);
	long long reads, writes;
	cr_assert_eq(sscanf(line, "%lld %lld", &reads, &writes), 2, "%s", line);
	cr_assert_gt(reads, 0, "%s: %lld freads on a descriptor", name, reads);
	cr_assert_gt(writes, 0, "%s: %lld fwrites on a descriptor", name, writes);
	cr_assert_gt(reads + writes, 20, "%s: %lld freads and %lld fwrites", name,
		     reads, writes);
}

/* zstd reads and writes its files through stdio only: compressing and
 * decompressing with two threads, its reads and writes are system calls
 * on their descriptors. */
Test(blocking, zstd_reads_and_writes_show, .timeout = 300)
{
	if (access("/usr/bin/zstd", X_OK) != 0)
		cr_skip_test("zstd is not installed (scripts/setup installs it)");
	char *text = h_trace_path("zstd-input.txt");
	char *packed = h_trace_path("zstd-input.txt.zst");
	char *back = h_trace_path("zstd-output.txt");
	write_text(text, 8u << 20);
	char *pack[] = { "/usr/bin/zstd", "-T2", "-q", "-f", text, "-o", packed, NULL };
	assert_reads_and_writes(record_argv("zstd-c", pack, NULL, 0), "zstd-c.json");
	char *unpack[] = { "/usr/bin/zstd", "-d", "-T2", "-q", "-f", packed, "-o", back, NULL };
	assert_reads_and_writes(record_argv("zstd-d", unpack, NULL, 0), "zstd-d.json");
	char *cmp[] = { "cmp", text, back, NULL };
	struct run_result r;
	h_run(cmp, NULL, &r);
	cr_assert_eq(r.status, 0, "the round trip differs: %s", r.out);
	h_free(&r);
}

static const char cpu_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"th = {t['name'] or 'main': t for t in d['threads']}\n"
	"f, m = th['futex'], th['main']\n"
	"print(f['running_ns'], f['on_cpu_ns'], f['unseen_off_cpu_ns'],\n"
	"      m['unseen_off_cpu_ns'])\n";

/* A thread waiting 300 ms in a raw futex system call looks running; its
 * CPU time (THREAD_CPU) says it was not on a CPU, and `weft stats` says
 * so, in text and in JSON; the main thread, which waited in a join, gets
 * no such note. */
Test(blocking, cpu_time_shows_waits_weft_cannot_see, .timeout = 120)
{
	char *trace = record("raw_futex_wait", NULL, 0);
	char *dump[] = { (char *)h_weft(), "dump", trace, NULL };
	struct run_result r;
	h_run(dump, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "THREAD_CPU thread=T2 point=1 cpu_ns="), "%s", r.out);
	h_free(&r);

	char line[256];
	h_python(cpu_script, stats_json(trace, "raw_futex_wait.json"), NULL, NULL,
		 line, sizeof line);
	long long running, cpu, unseen, main_unseen;
	cr_assert_eq(sscanf(line, "%lld %lld %lld %lld", &running, &cpu, &unseen,
			    &main_unseen), 4, "%s", line);
	cr_assert(running >= 250000000, "the waiter ran %lld ns by the trace", running);
	cr_assert(cpu < 50000000, "the waiter was on a CPU %lld ns", cpu);
	cr_assert_eq(unseen, running - cpu, "%s", line);
	cr_assert_eq(main_unseen, 0, "%s", line);

	char *text[] = { (char *)h_weft(), "stats", trace, NULL };
	char *wide[] = { "COLUMNS=200", NULL };
	h_run(text, wide, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "on-cpu"), "%s", r.out);
	const char *note = strstr(r.out, "T2 (futex): running ");
	cr_assert(note, "no note on the waiter: %s", r.out);
	cr_assert(strstr(note, "waits weft cannot see (raw futex, io_uring"), "%s", r.out);
	cr_assert_null(strstr(r.out, "T1: running "), "a note on the main thread: %s", r.out);
	h_free(&r);
}
