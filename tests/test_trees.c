/*
 * test_trees.c - process trees: `make -j2` of a small generated project
 * recorded with `weft record` (make, the shell, traced programs and the
 * compiler's processes each write a trace), then answered for at once by
 * `weft stats`, `lockorder`, `export` and `check` over the directory; a
 * damaged trace among good ones; --thread naming a process; and the
 * PROCESS record of a program started under another argv[0], or with
 * more arguments than the record holds.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"

static void put_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* How many files dir holds. */
static int files_in(const char *dir)
{
	DIR *d = opendir(dir);
	cr_assert_not_null(d, "%s", dir);
	int n = 0;
	for (struct dirent *e; (e = readdir(d));)
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

static void weft(struct run_result *r, const char *a, const char *b, const char *c,
		 const char *d)
{
	char *argv[] = { (char *)h_weft(), (char *)a, (char *)b, (char *)c,
			 (char *)d, NULL };
	/* Wide enough that no title is cut: a title holds the program's
	 * path, as long as the checkout's. */
	char *env[] = { "COLUMNS=1000", NULL };
	h_run(argv, env, r);
}

/*
 * A project of three targets, built by `make -j2` under weft record into
 * DIR/traces: two traced programs (one with a lock-order cycle) and a
 * compilation.  Returns the traces' directory.
 */
static const char *record_make(void)
{
	static __thread char traces[4096];
	char proj[4096], path[4200], makefile[16384], pattern[4200];
	snprintf(proj, sizeof proj, "%s/proj", h_tmpdir());
	snprintf(traces, sizeof traces, "%s/traces", h_tmpdir());
	cr_assert_eq(mkdir(proj, 0700), 0);
	cr_assert_eq(mkdir(traces, 0700), 0);
	snprintf(path, sizeof path, "%s/tiny.c", proj);
	put_file(path, "int tiny(int x) { return x + 1; }\n");
	char counted[4096], ordered[4096];
	snprintf(counted, sizeof counted, "%s", h_program("mutex_count"));
	snprintf(ordered, sizeof ordered, "%s", h_program("lock_orders"));
	snprintf(makefile, sizeof makefile,
		 "all: counted ordered tiny.o\n"
		 "counted:\n\t%s > counted.out\n"
		 "ordered:\n\t%s abba > ordered.out\n"
		 "tiny.o: tiny.c\n\tcc -c -o tiny.o tiny.c\n"
		 ".PHONY: all counted ordered\n",
		 counted, ordered);
	snprintf(path, sizeof path, "%s/Makefile", proj);
	put_file(path, makefile);
	snprintf(pattern, sizeof pattern, "%s/t-%%p.trace", traces);
	char *argv[] = { (char *)h_weft(), "record", "-o", pattern, "--", "make",
			 "-s", "-j2", "-C", proj, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	int n = files_in(traces);
	cr_assert_geq(n, 4, "make, two programs and the compiler: %d traces", n);
	/* One line names every trace the run wrote. */
	int lines = 0;
	for (const char *p = r.err; (p = strstr(p, "weft: ")); p++)
		lines++;
	cr_assert_eq(lines, 1, "%s", r.err);
	char paths[64][4096];
	cr_assert_eq(h_reported_traces(r.err, paths, 64), n, "%s", r.err);
	for (int i = 0; i < n; i++) {
		struct stat st;
		cr_assert_eq(stat(paths[i], &st), 0, "%s is a trace it wrote: %s",
			     paths[i], r.err);
	}
	cr_assert(strstr(r.err, " (make)"), "%s", r.err);
	h_free(&r);
	return traces;
}

/* Per process, in the order of the JSON's list: the index of its parent
 * (-1 for a root) and its first argument; checks every parent comes first
 * and make is the one root. */
static const char tree_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"ps = [p['process'] for p in d['processes']] if sys.argv[2] == 'stats' \\\n"
	"     else d['otherData']['processes'] if sys.argv[2] == 'export' \\\n"
	"     else [p['process'] for p in d['processes']]\n"
	"files = [p['file'] for p in ps]\n"
	"for i, p in enumerate(ps):\n"
	"    if p['parent_file'] is not None:\n"
	"        j = files.index(p['parent_file'])\n"
	"        assert j < i, (i, j)\n"
	"        assert ps[j]['pid'] in (p['ppid'], p['pid']), (p, ps[j])\n"
	"        assert p['depth'] == ps[j]['depth'] + 1\n"
	"roots = [p['argv'][0] for p in ps if p['parent_file'] is None]\n"
	"assert roots == ['make'], roots\n"
	"assert all(p['exe'].startswith('/') for p in ps)\n"
	"progs = [p['argv'][0].rsplit('/', 1)[-1] for p in ps]\n"
	"assert 'mutex_count' in progs and 'lock_orders' in progs and 'cc' in progs, progs\n"
	"extra = ''\n"
	"if sys.argv[2] == 'export':\n"
	"    pids = {e['pid'] for e in d['traceEvents']}\n"
	"    assert pids == {p['pid'] for p in ps}, (pids, ps)\n"
	"    names = [e for e in d['traceEvents'] if e['name'] == 'process_name']\n"
	"    extra = ' %d' % len(names)\n"
	"print(len(ps), d['headline'] if 'headline' in d else '-', extra)\n";

Test(trees, make_j2_is_one_report_with_a_section_per_process, .timeout = 120)
{
	const char *dir = record_make();
	int n = files_in(dir);
	struct run_result r;
	weft(&r, "stats", dir, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char head[64];
	snprintf(head, sizeof head, "%d processes; the costliest wait is in pid ", n);
	cr_assert(!strncmp(r.out, head, strlen(head)), "one headline first: %s", r.out);
	int sections = 0;
	const char *make = NULL, *counted = NULL, *ordered = NULL, *cc = NULL;
	for (const char *p = r.out; (p = strstr(p, "\n== ")); p++) {
		sections++;
		const char *eol = strchr(p + 1, '\n');
		cr_assert_not_null(eol);
		char title[1024];
		snprintf(title, sizeof title, "%.*s", (int)(eol - p - 1), p + 1);
		if (strstr(title, ": make -s -j2 -C "))
			make = p;
		if (strstr(title, "mutex_count") && !strstr(title, "sh -c"))
			counted = p;
		if (strstr(title, "lock_orders abba") && !strstr(title, "sh -c"))
			ordered = p;
		if (strstr(title, ": cc -c -o tiny.o tiny.c"))
			cc = p;
		cr_assert(strstr(title, ", parent "), "%s", title);
	}
	cr_assert_eq(sections, n, "a section per trace: %s", r.out);
	cr_assert(make && counted && ordered && cc, "titled with command lines: %s", r.out);
	cr_assert(make < counted && make < ordered && make < cc, "make comes first");
	cr_assert(!strncmp(make, "\n== pid ", 8), "make is a root: %.80s", make);
	cr_assert(!strncmp(cc, "\n==   pid ", 10), "cc is make's child: %.80s", cc);
	h_free(&r);

	char json[4200], line[512];
	snprintf(json, sizeof json, "%s/../stats.json", dir);
	char *argv[] = { (char *)h_weft(), "stats", "--json", (char *)dir, NULL };
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	put_file(json, r.out);
	h_free(&r);
	h_python(tree_script, json, "stats", NULL, line, sizeof line);
	char count[32];
	snprintf(count, sizeof count, "%d %d processes; ", n, n);
	cr_assert(!strncmp(line, count, strlen(count)), "%s", line);

	weft(&r, "lockorder", dir, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(head, sizeof head, "%d processes, 1 cycle (potential deadlock) in all; "
		 "most in pid ", n);
	cr_assert(!strncmp(r.out, head, strlen(head)), "%.300s", r.out);
	cr_assert(strstr(r.out, "(lock_orders): 1\n"), "%.300s", r.out);
	sections = 0;
	for (const char *p = r.out; (p = strstr(p, "\n== ")); p++) {
		/* A title is one line, however long the command (cc1's). */
		size_t title = strcspn(p + 1, "\n");
		cr_assert_leq(title, 200, "%.*s", (int)title, p + 1);
		sections++;
	}
	cr_assert_eq(sections, n, "%s", r.out);
	h_free(&r);
	weft(&r, "lockorder", "--fail", dir, NULL);
	cr_assert_eq(r.status, 1, "--fail over all processes: %s", r.err);
	h_free(&r);
	weft(&r, "lockorder", "--json", dir, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	put_file(json, r.out);
	h_free(&r);
	h_python(tree_script, json, "lockorder", NULL, line, sizeof line);

	weft(&r, "export", "-o", json, dir);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	h_python(tree_script, json, "export", NULL, line, sizeof line);
	char expect[64];
	snprintf(expect, sizeof expect, "%d -  %d", n, n);
	cr_assert_str_eq(line, expect, "one process_name per trace");

	/* The same as Perfetto protobuf: a process track per trace, each
	 * thread's track under its own process, flows whole. */
	char pftrace[4096], script[4096], protos[4096];
	snprintf(pftrace, sizeof pftrace, "%s/tree.pftrace", h_tmpdir());
	snprintf(script, sizeof script, "%s/tests/perfetto_decode.py", getenv("WEFT_TEST_SOURCE"));
	snprintf(protos, sizeof protos, "%s/format", getenv("WEFT_TEST_SOURCE"));
	weft(&r, "export", "-o", pftrace, dir);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	char *decode[] = { "python3", script, "processes", pftrace, protos, NULL };
	h_run(decode, NULL, &r);
	cr_assert_eq(r.status, 0, "perfetto_decode: %s", r.err);
	snprintf(expect, sizeof expect, "%d 1 1 1 1\n", n);
	cr_assert_str_eq(r.out, expect, "a process per trace");
	h_free(&r);

	weft(&r, "check", dir, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	int checked = 0;
	for (const char *p = r.out; (p = strstr(p, ": ok: ")); p++)
		checked++;
	cr_assert_eq(checked, n, "%s", r.out);
	h_free(&r);
}

/* Copies the file at from to to. */
static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	cr_assert(in && out);
	char buf[65536];
	size_t n;
	while ((n = fread(buf, 1, sizeof buf, in)) > 0)
		cr_assert_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	fclose(out);
}

/* Records prog (with arg) into dir/name. */
static void record_into(const char *dir, const char *name, const char *prog,
			const char *arg)
{
	char path[4200];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	char *argv[] = { (char *)h_weft(), "record", "-o", path, "--",
			 (char *)h_program(prog), (char *)arg, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
}

Test(trees, a_damaged_trace_among_good_ones, .timeout = 60)
{
	char dir[4096], path[4200];
	snprintf(dir, sizeof dir, "%s/mixed", h_tmpdir());
	cr_assert_eq(mkdir(dir, 0700), 0);
	record_into(dir, "a.trace", "mutex_count", NULL);
	record_into(dir, "b.trace", "lock_orders", "abba");
	/* A trace whose header's field area runs past the end of the file,
	 * under a name that does not say trace; and a file that is no trace. */
	char src[4200];
	snprintf(src, sizeof src, "%s/a.trace", dir);
	snprintf(path, sizeof path, "%s/zz-damaged", dir);
	copy_file(src, path);
	FILE *f = fopen(path, "r+b");
	cr_assert_not_null(f);
	cr_assert_eq(fseek(f, 12, SEEK_SET), 0);
	cr_assert_eq(fwrite("\xff\xff\xff\x7f", 1, 4, f), 4);
	fclose(f);
	snprintf(path, sizeof path, "%s/notes.txt", dir);
	put_file(path, "not a trace\n");

	const char *cmds[] = { "stats", "lockorder", "export" };
	for (int c = 0; c < 3; c++) {
		struct run_result r;
		weft(&r, cmds[c], dir, NULL, NULL);
		cr_assert_eq(r.status, 1, "%s: a damaged trace is exit 1: %d %s", cmds[c],
			     r.status, r.err);
		char prefix[4200];
		snprintf(prefix, sizeof prefix, "weft %s: %s/zz-damaged: ", cmds[c], dir);
		cr_assert(!strncmp(r.err, prefix, strlen(prefix)), "%s", r.err);
		cr_assert_eq(strchr(r.err, '\n'), r.err + r.err_len - 1, "one line: %s",
			     r.err);
		cr_assert_null(strstr(r.err, "notes.txt"), "%s", r.err);
		if (c < 2) {
			cr_assert(!strncmp(r.out, "2 processes", 11), "%s", r.out);
			cr_assert(strstr(r.out, "/a.trace: ") && strstr(r.out, "/b.trace: "),
				  "the others are still answered: %s", r.out);
		} else {
			cr_assert(strstr(r.out, "\"processes\":["), "%s", r.out);
		}
		h_free(&r);
	}
	struct run_result r;
	weft(&r, "check", dir, NULL, NULL);
	cr_assert_eq(r.status, 1, "%s", r.err);
	cr_assert(strstr(r.out, "/a.trace: ok") && strstr(r.out, "/b.trace: ok"), "%s", r.out);
	h_free(&r);
}

/* The pid in the file header of the trace at path. */
static uint64_t trace_pid(const char *path)
{
	struct weft_reader rd;
	cr_assert_eq(weft_reader_open(&rd, path), WEFT_READ_OK, "%s", rd.error);
	uint64_t pid = rd.header.pid;
	weft_reader_close(&rd);
	return pid;
}

Test(trees, thread_of_one_process_among_several, .timeout = 60)
{
	char dir[4096], a[4200], pidarg[64];
	snprintf(dir, sizeof dir, "%s/two", h_tmpdir());
	cr_assert_eq(mkdir(dir, 0700), 0);
	record_into(dir, "a.trace", "mutex_count", NULL);
	record_into(dir, "b.trace", "lock_orders", "abba");
	snprintf(a, sizeof a, "%s/a.trace", dir);
	uint64_t pid = trace_pid(a);

	struct run_result r;
	weft(&r, "stats", "--thread", "T2", dir);
	cr_assert_eq(r.status, 2, "which process's T2? %s", r.err);
	cr_assert(strstr(r.err, "--thread PID:T2"), "%s", r.err);
	cr_assert_eq(r.out_len, 0);
	h_free(&r);

	snprintf(pidarg, sizeof pidarg, "%" PRIu64 ":T2", pid);
	weft(&r, "stats", "--thread", pidarg, dir);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "/a.trace: pid "), "%s", r.out);
	cr_assert_null(strstr(r.out, "/b.trace"), "only process %" PRIu64 ": %s", pid, r.out);
	/* Only T2's row: 2500 of the 10000 acquisitions are its. */
	cr_assert(strstr(r.out, "\nT2 "), "%s", r.out);
	cr_assert_null(strstr(r.out, "\nT3 "), "%s", r.out);
	cr_assert(strstr(r.out, "    2500 "), "%s", r.out);
	h_free(&r);

	/* The same for one trace, whose pid it must be. */
	weft(&r, "stats", "--thread", pidarg, a);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "    2500 "), "%s", r.out);
	h_free(&r);
	snprintf(pidarg, sizeof pidarg, "%" PRIu64 ":T2", pid + 1000000);
	weft(&r, "stats", "--thread", pidarg, dir);
	cr_assert_eq(r.status, 2, "%s", r.err);
	cr_assert(strstr(r.err, "no trace is of pid"), "%s", r.err);
	h_free(&r);
}

/* The PROCESS records of a trace: their count, and the first's fields. */
struct process_seen {
	uint64_t count, gen_ends, pid, ppid, argc;
	char command[4200];
	uint32_t len;
};

static void on_record(const struct weft_batch *b, const struct weft_record *rec,
		      void *ctx)
{
	(void)b;
	struct process_seen *p = ctx;
	p->gen_ends += rec->code == WEFT_EV_GEN_END;
	if (rec->code != WEFT_EV_PROCESS || p->count++)
		return;
	p->pid = rec->args[0];
	p->ppid = rec->args[1];
	p->argc = rec->args[2];
	memcpy(p->command, rec->bytes, rec->nbytes);
	p->len = rec->nbytes;
}

Test(trees, process_record_names_the_real_executable_under_another_argv0,
     .timeout = 60)
{
	char *trace = h_trace_path("renamed");
	char script[8192];
	/* bash's exec -a starts the program with argv[0] "fakename". */
	snprintf(script, sizeof script, "exec -a fakename %s 'two words' ''",
		 h_program("mutex_count"));
	char *argv[] = { (char *)h_weft(), "record", "-o", trace, "--", "bash", "-c",
			 script, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "renamed.trace (bash), renamed.trace.1 (fakename)\n"),
		  "%s", r.err);
	h_free(&r);
	/* bash's own trace is at the path, the program's at .1 */
	char path[4200];
	snprintf(path, sizeof path, "%s.1", trace);
	struct process_seen p = { 0 };
	char err[512];
	cr_assert_eq(h_walk(path, on_record, &p, err, sizeof err), WEFT_READ_OK, "%s", err);
	cr_assert_eq(p.count, p.gen_ends, "one PROCESS per generation");
	cr_assert_geq(p.count, 1);
	cr_assert_eq(p.pid, trace_pid(path));
	char real[4096];
	cr_assert_not_null(realpath(h_program("mutex_count"), real));
	char expect[4200];
	int len = snprintf(expect, sizeof expect, "%s%cfakename%ctwo words%c%c", real,
			   0, 0, 0, 0);
	cr_assert_eq(p.argc, 3);
	cr_assert_eq(p.len, (uint32_t)len, "%u bytes", p.len);
	cr_assert(!memcmp(p.command, expect, (size_t)len), "exe, then argv");

	char *dump[] = { (char *)h_weft(), "dump", path, NULL };
	h_run(dump, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char line[4400];
	snprintf(line, sizeof line, " PROCESS pid=%" PRIu64 " ppid=%" PRIu64
		 " argc=3 command=\"%s\\x00fakename\\x00two words\\x00\\x00\"\n",
		 p.pid, p.ppid, real);
	cr_assert(strstr(r.out, line), "%s not in %s", line, r.out);
	h_free(&r);

	char *stats[] = { (char *)h_weft(), "stats", path, NULL };
	h_run(stats, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(line, sizeof line, "%s: pid %" PRIu64 " (fakename), ", path, p.pid);
	cr_assert(!strncmp(r.out, line, strlen(line)), "%s", r.out);
	h_free(&r);
}

Test(trees, every_generation_names_its_program, .timeout = 60)
{
	char *trace = h_trace_path("rotated");
	char *argv[] = { (char *)h_weft(), "record", "-o", trace, "--", "sleep", "0.1",
			 NULL };
	char *env[] = { "WEFT_ROTATE_MS=5", NULL };
	struct run_result r;
	h_run(argv, env, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	struct process_seen p = { 0 };
	char err[512];
	cr_assert_eq(h_walk(trace, on_record, &p, err, sizeof err), WEFT_READ_OK, "%s", err);
	cr_assert_geq(p.gen_ends, 3, "the trace rotated: %" PRIu64, p.gen_ends);
	cr_assert_eq(p.count, p.gen_ends, "one PROCESS in each generation");
	cr_assert_eq(p.argc, 2);
	cr_assert(!strcmp(p.command + strlen(p.command) + 1, "sleep"), "argv[0]");
}

Test(trees, process_record_cuts_a_long_command_line_at_an_argument, .timeout = 60)
{
	/* 1000 arguments of 20 bytes (21 with their NUL): 21000 bytes, more
	 * than the record holds, and more than a page. */
	enum { N = 1000 };
	static char args[N][21];
	char *argv[N + 8] = { (char *)h_weft(), "record", "-o", h_trace_path("long"),
			      "--", (char *)h_program("mutex_count") };
	for (int i = 0; i < N; i++) {
		snprintf(args[i], sizeof args[i], "argument-%011d", i);
		argv[6 + i] = args[i];
	}
	argv[6 + N] = NULL;
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	struct process_seen p = { 0 };
	char err[512];
	cr_assert_eq(h_walk(argv[3], on_record, &p, err, sizeof err), WEFT_READ_OK, "%s", err);
	cr_assert_eq(p.argc, N + 1, "every argument counted");
	cr_assert_eq(p.len, 4096, "the record is full");
	cr_assert_eq(p.command[p.len - 1], 0, "the last string keeps its NUL");
	/* Whole arguments, then the first that does not fit, cut. */
	size_t exe = strlen(p.command) + 1, prog = strlen(p.command + exe) + 1;
	size_t whole = (4096 - exe - prog) / 21, room = (4096 - exe - prog) % 21;
	cr_assert(!memcmp(p.command + exe + prog, "argument-00000000000", 20));
	if (room) {
		const char *last = p.command + exe + prog + whole * 21;
		char expect[32];
		snprintf(expect, sizeof expect, "argument-%011zu", whole);
		cr_assert_eq(strlen(last), room - 1, "the argument that did not fit "
			     "is cut to what fits: %s", last);
		cr_assert(!strncmp(last, expect, room - 1), "%s", last);
	}

	char *stats[] = { (char *)h_weft(), "stats", "--json", argv[3], NULL };
	h_run(stats, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\"argc\":1001,\"cut\":true,"), "%.2000s", r.out);
	h_free(&r);
}

/* A program that sets its process title (nginx, redis, postgres) writes it
 * over argv[0]; such a title is not a name: the executable's is used. */
Test(trees, a_process_title_in_argv0_does_not_name_the_process, .timeout = 60)
{
	char *trace = h_trace_path("titled");
	char script[8192];
	snprintf(script, sizeof script,
		 "exec -a 'mutex_count: master process /etc/app.conf' %s",
		 h_program("mutex_count"));
	char *argv[] = { (char *)h_weft(), "record", "-o", trace, "--", "bash", "-c",
			 script, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.err, "titled.trace (bash), titled.trace.1 (mutex_count)\n"),
		  "%s", r.err);
	h_free(&r);
}
