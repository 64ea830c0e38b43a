/*
 * test_answers.c - the commands that answer questions from a trace:
 * `weft stats` on programs whose costs are known in advance, `weft
 * lockorder` on lock orders with known cycles (and known non-cycles),
 * `weft export` checked with a JSON parser, each on real traces written
 * by the preload and on exact traces built in memory (several sessions,
 * lost events, a truncated end); and bad input for each.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "harness.h"
#include "tracegen.h"

/* Records program NAME with ARG (may be NULL) into a fresh trace, which
 * must check; *out gets the program's stdout. */
static char *record(const char *name, const char *arg, char *out, size_t cap)
{
	static int runs;
	char base[128];
	snprintf(base, sizeof base, "%s-%d", arg ? arg : name, runs++);
	char *trace = h_trace_path(base);
	char *argv[] = { (char *)h_weft(), "record", "-o", trace, "--",
			 (char *)h_program(name), (char *)arg, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s: %s", name, r.err);
	snprintf(out, cap, "%s", r.out);
	h_free(&r);
	h_assert_checks(trace);
	return trace;
}

static void weft(struct run_result *r, const char *a, const char *b,
		 const char *c, const char *d)
{
	char *argv[] = { (char *)h_weft(), (char *)a, (char *)b, (char *)c,
			 (char *)d, NULL };
	h_run(argv, NULL, r);
}

/* The trace exported, without a complaint, to the file name: its path. */
static char *exported(const char *trace, const char *name)
{
	char *json = h_trace_path(name);
	struct run_result r;
	weft(&r, "export", trace, "-o", json);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	return json;
}

/* ---- stats ---- */

static const char stats_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"obj = [o for o in d['objects'] if o['address'] == sys.argv[2]][0]\n"
	"th = {t['name']: t for t in d['threads']}\n"
	"w = [s for s in d['syscalls'] if s['call'] == 'write' and s.get('fd') == int(sys.argv[3])]\n"
	"print(obj['contended'], obj['acquisitions'], obj['wait_ns'],\n"
	"      int(obj['longest_holder']['serial'] == th['holder']['serial']),\n"
	"      th['sleeper']['sleep_ns'], th['waiter']['mutex_ns'],\n"
	"      w[0]['calls'] if w else -1, int(d['lower_bounds']), d['sessions'])\n";

Test(answers, stats_known_contention_threads_and_syscalls, .timeout = 60)
{
	char out[256], mutex[64], fd[16], line[512];
	char *trace = record("known_costs", NULL, out, sizeof out);
	cr_assert_eq(sscanf(out, "mutex=%63s fd=%15s", mutex, fd), 2, "%s", out);
	struct run_result r;
	weft(&r, "stats", "--json", trace, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *json = h_save("stats", r.out, r.out_len);
	h_free(&r);
	h_python(stats_script, json, mutex, fd, line, sizeof line);
	long long contended, acquisitions, wait, blamed, sleep, waiter_mutex, writes,
		lower, sessions;
	cr_assert_eq(sscanf(line, "%lld %lld %lld %lld %lld %lld %lld %lld %lld",
			    &contended, &acquisitions, &wait, &blamed, &sleep,
			    &waiter_mutex, &writes, &lower, &sessions), 9, "%s", line);
	cr_assert_eq(contended, 1, "exactly one contended acquisition: %s", line);
	cr_assert_eq(acquisitions, 2, "%s", line);
	cr_assert(wait >= 40000000 && wait <= 500000000, "wait %lld ns, not ~50 ms", wait);
	cr_assert_eq(blamed, 1, "the holder made the waiter wait: %s", line);
	cr_assert(sleep >= 90000000 && sleep <= 500000000, "sleep %lld ns, not ~100 ms", sleep);
	cr_assert(waiter_mutex >= 40000000 && waiter_mutex <= 500000000,
		  "waiter blocked on the mutex %lld ns", waiter_mutex);
	cr_assert_eq(writes, 20, "20 writes on fd %s: %s", fd, line);
	cr_assert_eq(lower, 0);
	cr_assert_eq(sessions, 1);
}

Test(answers, stats_text_headline_and_filters, .timeout = 60)
{
	char out[256], mutex[64], fd[16];
	char *trace = record("known_costs", NULL, out, sizeof out);
	cr_assert_eq(sscanf(out, "mutex=%63s fd=%15s", mutex, fd), 2);
	char *wide[] = { "COLUMNS=200", NULL }, *narrow[] = { "COLUMNS=64", NULL };
	char *argv[] = { (char *)h_weft(), "stats", trace, NULL };
	struct run_result r;
	h_run(argv, wide, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	/* The headline, right after the banner, names the lock (by its
	 * variable) and the holder that made the waiter wait. */
	const char *head = strchr(r.out, '\n');
	cr_assert(head);
	char expect[128];
	snprintf(expect, sizeof expect, "Costliest lock: mutex lock:");
	cr_assert(!strncmp(head + 1, expect, strlen(expect)), "%s", r.out);
	cr_assert(strstr(head, "1 of 2 acquisitions contended"), "%s", r.out);
	cr_assert(strstr(head, "(holder) held it"), "%s", r.out);
	h_free(&r);
	/* Sized to the terminal: no line is wider than COLUMNS. */
	h_run(argv, narrow, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	for (char *l = r.out; *l; l = strchr(l, '\n') + 1) {
		cr_assert_leq((int)strcspn(l, "\n"), 64, "line wider than COLUMNS: %s", l);
		if (!strchr(l, '\n'))
			break;
	}
	cr_assert(strstr(r.out, "Costliest lock"), "%s", r.out);
	h_free(&r);

	weft(&r, "stats", "--thread", "waiter", trace);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "(waiter)"), "%s", r.out);
	cr_assert_null(strstr(r.out, "(sleeper)"), "--thread keeps one thread: %s", r.out);
	cr_assert_null(strstr(r.out, "write fd"), "the waiter wrote nothing: %s", r.out);
	h_free(&r);

	/* by its address (the table shows its name) */
	weft(&r, "stats", "--lock", mutex + 2, trace);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "\nlock "), "%s", r.out);
	h_free(&r);
	weft(&r, "stats", "--lock", "1234", trace);
	cr_assert(strstr(r.out, "No thread waited for a lock"), "%s", r.out);
	h_free(&r);

	weft(&r, "stats", "--top", "x", trace);
	cr_assert_eq(r.status, 2);
	h_free(&r);
}

/* Per call name in argv[2:]: the waiter thread of that name's time in
 * system calls and running, and that call's count in the syscall table. */
static const char signal_waits_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"th = {t['name']: t for t in d['threads'] if t['name']}\n"
	"calls = {s['call']: s['calls'] for s in d['syscalls']}\n"
	"print(' '.join('%d,%d,%d' % (th[n]['syscall_ns'], th[n]['running_ns'],\n"
	"               calls.get(n, 0)) for n in sys.argv[2].split(',')))\n";

/* Calls that wait for a signal are system calls (class signal): each
 * waiter's ~50 ms in them shows as time in a system call, not running. */
Test(answers, signal_waits_are_system_calls, .timeout = 60)
{
	static const char *const calls[] = { "pause", "sigsuspend", "sigwait",
					      "sigwaitinfo", "sigtimedwait" };
	char out[64], line[512], want[64];
	char *trace = record("signal_waits", NULL, out, sizeof out);
	struct run_result r;
	weft(&r, "dump", trace, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	for (size_t i = 0; i < 5; i++) {
		snprintf(want, sizeof want, "SYSCALL_BEGIN syscall=%s arg=-1", calls[i]);
		cr_assert(strstr(r.out, want), "no \"%s\" in the dump", want);
		snprintf(want, sizeof want, "SYSCALL_END syscall=%s ", calls[i]);
		cr_assert(strstr(r.out, want), "no \"%s\" in the dump", want);
	}
	h_free(&r);
	weft(&r, "stats", "--json", trace, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *json = h_save("signal_waits", r.out, r.out_len);
	h_free(&r);
	h_python(signal_waits_script, json, "pause,sigsuspend,sigwait,sigwaitinfo,sigtimedwait",
	       NULL, line, sizeof line);
	const char *p = line;
	for (size_t i = 0; i < 5; i++) {
		long long in_call, running, count;
		int used = 0;
		cr_assert_eq(sscanf(p, "%lld,%lld,%lld%n", &in_call, &running, &count, &used),
			     3, "%s", line);
		p += used;
		cr_assert(in_call >= 40000000, "%s: %lld ns in the call, not ~50 ms",
			  calls[i], in_call);
		cr_assert_lt(running, in_call, "%s: more time running than waiting", calls[i]);
		cr_assert_eq(count, 1, "%s: %lld calls", calls[i], count);
	}
}

/* The waiter's and the runner's time in the once wait and running, and
 * the once control's row among the objects. */
static const char once_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"th = {t['name']: t for t in d['threads'] if t['name']}\n"
	"o = [o for o in d['objects'] if o['address'] == sys.argv[2]][0]\n"
	"print(th['waiter']['once_ns'], th['waiter']['running_ns'],\n"
	"      th['runner']['once_ns'], th['runner']['sleep_ns'], o['kind'], o['waits'])\n";

static size_t count_of(const char *text, const char *what)
{
	size_t n = 0;
	for (const char *p = text; (p = strstr(p, what)); p++)
		n++;
	return n;
}

/* A thread that calls pthread_once while another runs the init routine
 * waits for it: ONCE_BEGIN and ONCE_END (ran 0) around ~50 ms shown as a
 * once wait; the runner's wait ends as the routine starts (ran 1), and
 * the routine's sleep is its own; a call that finds it done records
 * nothing. */
Test(answers, once_wait_is_a_wait, .timeout = 60)
{
	char out[64], once[32], line[512], want[96];
	char *trace = record("once_wait", NULL, out, sizeof out);
	cr_assert_eq(sscanf(out, "once=%31s", once), 1, "%s", out);
	struct run_result r;
	weft(&r, "dump", trace, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(want, sizeof want, "ONCE_BEGIN once=%s (once) ", once);
	cr_assert_eq(count_of(r.out, want), 2, "two ONCE_BEGINs, none for the done call");
	snprintf(want, sizeof want, "ONCE_END once=%s (once) result=0 ran=1", once);
	cr_assert_eq(count_of(r.out, want), 1, "the runner's end");
	snprintf(want, sizeof want, "ONCE_END once=%s (once) result=0 ran=0", once);
	cr_assert_eq(count_of(r.out, want), 1, "the waiter's end");
	h_free(&r);

	weft(&r, "stats", "--json", trace, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *json = h_save("once_wait", r.out, r.out_len);
	h_free(&r);
	h_python(once_script, json, once, NULL, line, sizeof line);
	long long waited, running, runner_once, runner_sleep, waits;
	char kind[16];
	cr_assert_eq(sscanf(line, "%lld %lld %lld %lld %15s %lld", &waited, &running,
			    &runner_once, &runner_sleep, kind, &waits), 6, "%s", line);
	cr_assert(waited >= 40000000, "the waiter waited %lld ns, not ~50 ms", waited);
	cr_assert_lt(running, waited, "%s", line);
	cr_assert_lt(runner_once, 40000000, "the runner ran the routine: %s", line);
	cr_assert(runner_sleep >= 40000000, "the routine's sleep: %s", line);
	cr_assert_str_eq(kind, "once");
	cr_assert_eq(waits, 2, "%s", line);

	weft(&r, "export", trace, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(want, sizeof want, "\"once once\"");
	cr_assert(strstr(r.out, want), "no %s slice in the export", want);
	h_free(&r);
}

/* ---- lockorder ---- */

static void lockorder(const char *mode, int fail_status, const char *expect)
{
	char out[256], a[64], b[64];
	char *trace = record("lock_orders", mode, out, sizeof out);
	cr_assert_eq(sscanf(out, "A=%63s B=%63s", a, b), 2, "%s", out);
	struct run_result r;
	weft(&r, "lockorder", "--fail", trace, NULL);
	cr_assert_eq(r.status, fail_status, "%s: status %d: %s%s", mode, r.status,
		     r.out, r.err);
	cr_assert(strstr(r.out, expect), "%s: no \"%s\" in: %s", mode, expect, r.out);
	if (fail_status) {
		/* Both locks (by their variables), both threads, and the
		 * sites of both acquisitions of each edge. */
		int rw = strstr(r.out, "rwlock ra") != NULL;
		cr_assert(strstr(r.out, rw ? "rwlock ra" : "mutex ma") &&
			  strstr(r.out, rw ? "rwlock rb" : "mutex mb"), "%s", r.out);
		cr_assert(strstr(r.out, "T2 took") && strstr(r.out, "T3 took"), "%s", r.out);
		cr_assert(strstr(r.out, "holding since: T2 at offset"), "%s", r.out);
		cr_assert(strstr(r.out, "taken at:      T3 at offset"), "%s", r.out);
	}
	h_free(&r);
	weft(&r, "lockorder", trace, NULL, NULL);
	cr_assert_eq(r.status, 0, "without --fail a cycle is not a failure");
	h_free(&r);
}

Test(answers, lockorder_abba_cycle, .timeout = 60)
{
	lockorder("abba", 1, "1 cycle (potential deadlock)");
}

Test(answers, lockorder_consistent_order, .timeout = 60)
{
	lockorder("ordered", 0, "3 locks, 3 lock-order edges");
	lockorder("ordered", 0, "0 cycles");
}

Test(answers, lockorder_trylock_inversion_not_reported, .timeout = 60)
{
	lockorder("trylock", 0, "2 locks, 1 lock-order edges");
	lockorder("trylock", 0, "0 cycles");
}

Test(answers, lockorder_gate_lock_and_rwlocks, .timeout = 60)
{
	lockorder("gated", 0, "1 guarded by a gate lock");
	lockorder("rdrd", 0, "1 left out (readers only)");
	lockorder("rdwr", 1, "(write) while holding rwlock");
}

Test(answers, lockorder_json, .timeout = 60)
{
	char out[256], a[64], b[64], line[256];
	char *trace = record("lock_orders", "abba", out, sizeof out);
	cr_assert_eq(sscanf(out, "A=%63s B=%63s", a, b), 2);
	struct run_result r;
	weft(&r, "lockorder", "--json", trace, NULL);
	cr_assert_eq(r.status, 0);
	char *json = h_save("order", r.out, r.out_len);
	h_free(&r);
	h_python("import json, sys\n"
	       "d = json.load(open(sys.argv[1]))\n"
	       "c = d['cycles'][0]\n"
	       "print(d['deadlock_cycles'], int(sorted(c['locks']) == sorted(sys.argv[2:4])),"
	       " sorted(e['thread'] for e in c['edges']))\n", json, a, b, line, sizeof line);
	cr_assert_str_eq(line, "1 1 [2, 3]");
}

/* ---- export ---- */

static const char export_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"ev = d['traceEvents']\n"
	"names = {e['tid']: e['args']['name'] for e in ev if e['ph'] == 'M' and e['name'] == 'thread_name'}\n"
	"tid = {v.split(' ', 1)[-1]: k for k, v in names.items()}\n"
	"waits = [e for e in ev if e['ph'] == 'X' and e['tid'] == tid['waiter'] and e['name'] == 'mutex lock' and e['args'].get('address') == sys.argv[2]]\n"
	"s = {e['id']: e for e in ev if e['ph'] == 's'}\n"
	"f = {e['id']: e for e in ev if e['ph'] == 'f'}\n"
	"handoff = [i for i in s if s[i]['tid'] == tid['holder'] and f.get(i, {}).get('tid') == tid['waiter']"
	" and waits and waits[0]['ts'] <= f[i]['ts'] <= waits[0]['ts'] + waits[0]['dur'] and f[i].get('bp') == 'e']\n"
	"posts = [e for e in ev if e['ph'] == 'i' and e['tid'] == tid['holder'] and e['name'].startswith('post ')]\n"
	"sleeps = [e for e in ev if e['ph'] == 'X' and e['tid'] == tid['sleeper'] and e['name'] == 'nanosleep' and e['dur'] >= 90000]\n"
	"writes = [e for e in ev if e['ph'] == 'X' and e['tid'] == tid['writer'] and e['name'] == 'write fd ' + sys.argv[3]]\n"
	"print(len(names), sorted(names.values())[1:], len(waits), int(waits[0]['dur'] >= 40000),"
	" int(set(s) == set(f) and len(s) > 0), int(len(handoff) > 0), len(posts), len(sleeps), len(writes))\n";

Test(answers, export_chrome_json, .timeout = 60)
{
	char out[256], mutex[64], fd[16], line[512];
	char *trace = record("known_costs", NULL, out, sizeof out);
	cr_assert_eq(sscanf(out, "mutex=%63s fd=%15s", mutex, fd), 2);
	char *json = h_trace_path("export");
	char *argv[] = { (char *)h_weft(), "export", "--format=chrome", trace, "-o",
			 json, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	h_python(export_script, json, mutex, fd, line, sizeof line);
	/* 5 thread tracks; one wait slice of ~50 ms for the mutex on the
	 * waiter's track; every flow start has its end; the holder's unlock
	 * flows into the end of that wait; the holder's post; the sleep and
	 * the 20 writes as slices. */
	cr_assert_str_eq(line, "5 ['T2 holder', 'T3 waiter', 'T4 sleeper', 'T5 writer'] "
			 "1 1 1 1 1 1 20");
}

/* ---- exact traces: sessions, lost events, truncation ---- */

#define M1 0x5000

static void start(struct tg *t, uint32_t serial, uint64_t ts)
{
	tg_batch(t, serial, 1, ts);
	TG(t, THREAD_START, ts, 0, 100 + serial, 7000 + serial);
}

static void gen_end(struct tg *t, uint32_t gen, int stopped, int last)
{
	tg_batch(t, 0, gen, 1000);
	TG(t, GEN_END, 0, gen, t->thread_batches[gen], (uint64_t)stopped);
	if (last)
		TG(t, TRACE_END, 0, gen);
	tg_close(t);
}

/* Session 1: T1 holds M1, T2 blocks on it; tracing stops.  Session 2
 * (1 ms later in ns ticks): the STATUS records say T2 is still blocked
 * (since its block), T1 unlocks and T2 acquires.  lost adds a LOST
 * record to T1; truncated leaves the end markers out. */
static char *build_sessions(const char *name, int lost, int truncated)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	start(&t, 1, 1000);
	TG(&t, MUTEX_ACQUIRE, 1100, M1, 1, 0);
	tg_close(&t);
	start(&t, 2, 1000);
	TG(&t, MUTEX_BLOCK, 1200, M1, 0);
	tg_close(&t);
	gen_end(&t, 1, 1, 0);
	tg_batch(&t, 0, 2, 1000000);
	TG(&t, CLOCK, 0, 1000000, 1000000000, 0);
	tg_close(&t);
	tg_batch(&t, 1, 2, 1000000);
	TG(&t, STATUS, 1000000, WEFT_STATE_RUNNING, 0, 0, 1100);
	if (lost)
		TG(&t, LOST, 1500000, 3);
	TG(&t, MUTEX_UNLOCK, 2000000, M1, 1, 0);
	tg_close(&t);
	tg_batch(&t, 2, 2, 1000000);
	TG(&t, STATUS, 1000000, WEFT_STATE_BLOCKED_MUTEX, 0, M1, 1200);
	TG(&t, MUTEX_ACQUIRE, 2000100, M1, 2, WEFT_FLAG_CONTENDED);
	TG(&t, MUTEX_UNLOCK, 2000200, M1, 3, 0);
	tg_close(&t);
	if (!truncated)
		gen_end(&t, 2, 1, 1);
	char *path = h_save(name, (const char *)t.data, t.len);
	tg_free(&t);
	return path;
}

static const char sessions_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"o = d['objects'][0]\n"
	"print(d['sessions'], o['acquisitions'], o['contended'], o['waits'], o['wait_ns'],"
	" int(d['lower_bounds']), int(d['complete']))\n";

Test(answers, stats_across_sessions_lost_and_truncated, .timeout = 60)
{
	char line[256];
	struct run_result r;
	char *trace = build_sessions("sessions", 0, 0);
	weft(&r, "stats", "--json", trace, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_python(sessions_script, h_save("s1", r.out, r.out_len), NULL, NULL, line, sizeof line);
	h_free(&r);
	/* The wait began at 200 ns and ended at 1999100 ns; it was cut at
	 * the stop and goes on in session 2, and counts once, in full. */
	cr_assert_str_eq(line, "2 2 1 1 1998900 0 1");

	trace = build_sessions("lost", 1, 0);
	weft(&r, "stats", trace, NULL, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "3 events were lost: every count and time below is a "
			 "lower bound"), "%s", r.out);
	h_free(&r);

	trace = build_sessions("truncated", 0, 1);
	weft(&r, "stats", "--json", trace, NULL);
	cr_assert_eq(r.status, 3, "truncated: status %d", r.status);
	cr_assert(strstr(r.err, "truncated"), "%s", r.err);
	cr_assert_eq(strchr(r.err, '\n'), r.err + strlen(r.err) - 1, "one line: %s", r.err);
	h_python(sessions_script, h_save("s3", r.out, r.out_len), NULL, NULL, line, sizeof line);
	h_free(&r);
	cr_assert_str_eq(line, "2 2 1 1 1998900 0 0");

	weft(&r, "lockorder", trace, NULL, NULL);
	cr_assert_eq(r.status, 3);
	h_free(&r);
	char *json = h_trace_path("truncated-export");
	weft(&r, "export", trace, "-o", json);
	cr_assert_eq(r.status, 3);
	h_free(&r);
	h_python("import json, sys\n"
	       "ev = json.load(open(sys.argv[1]))['traceEvents']\n"
	       "print([(e['name'], e['ts'], e['dur'], e['args'].get('began_ns', 0)) for e in ev if e['ph'] == 'X' and e['cat'] != 'release'])\n",
	       json, NULL, NULL, line, sizeof line);
	cr_assert_str_eq(line, "[('mutex 0x5000', 0.2, 0.0, 0), ('mutex 0x5000', 0.2, 1998.9, 200)]");
}

/* Ends the one-thread trace t (started with start()), saves it as name,
 * and runs `weft stats --json` on it; puts in line what the Python
 * expression printed prints of the JSON as d. */
static void stats_of_built(struct tg *t, const char *name, const char *printed,
			   char *line, size_t cap)
{
	struct run_result r;
	char json_name[128], script[512];
	tg_close(t);
	gen_end(t, 1, 0, 1);
	char *trace = h_save(name, (const char *)t->data, t->len);
	tg_free(t);
	weft(&r, "stats", "--json", trace, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	snprintf(json_name, sizeof json_name, "%s-json", name);
	snprintf(script, sizeof script, "import json, sys\n"
		 "d = json.load(open(sys.argv[1]))\nprint(%s)\n", printed);
	h_python(script, h_save(json_name, r.out, r.out_len), NULL, NULL, line, cap);
	h_free(&r);
}

/* A thread cancelled in a condition wait holds the mutex again before its
 * cleanup handlers run (the wait ends with ECANCELED), and its later
 * unlock releases that hold: the mutex was acquired twice. */
Test(answers, stats_counts_the_mutex_a_cancelled_wait_takes_back, .timeout = 60)
{
	char line[256];
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	start(&t, 1, 1000);
	TG(&t, MUTEX_ACQUIRE, 1100, M1, 1, 0);
	TG(&t, COND_WAIT_BEGIN, 1200, 0x6000, M1, 2, 0);
	TG(&t, COND_WAIT_END, 5200, 0x6000, M1, 3, ECANCELED);
	TG(&t, MUTEX_UNLOCK, 5300, M1, 4, 0);
	stats_of_built(&t, "cancelled-wait",
		       "[(o['kind'], o['acquisitions']) for o in d['objects']]",
		       line, sizeof line);
	cr_assert_str_eq(line, "[('cond', 0), ('mutex', 2)]");
}

/* A lock still held when the trace ends was held until then: its hold
 * counts, as a wait still in progress does (it counted 0 ns). */
Test(answers, stats_counts_a_hold_the_trace_ends_in, .timeout = 60)
{
	char line[256];
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	start(&t, 1, 1000);
	TG(&t, MUTEX_ACQUIRE, 1100, M1, 1, 0);
	TG(&t, MUTEX_ACQUIRE, 1200, 0x7000, 1, 0);
	TG(&t, MUTEX_UNLOCK, 1300, 0x7000, 2, 0);
	TG(&t, SYSCALL_BEGIN, 5000, 1, 3, 0);
	TG(&t, SYSCALL_END, 5100, 1, 1, 0);
	stats_of_built(&t, "hold-at-end",
		       "sorted((o['address'], o['hold_ns'], o['max_hold_ns']) "
		       "for o in d['objects'])", line, sizeof line);
	/* Held from 1100 to the trace's last event, at 5100. */
	cr_assert_str_eq(line, "[('0x5000', 4000, 4000), ('0x7000', 100, 100)]");
}

/* A slice is named by what its call's argument holds (syscalls.def):
 * poll's is a count of descriptors, waitpid's a process id, read's a
 * descriptor. */
Test(answers, export_names_syscalls_by_their_argument, .timeout = 60)
{
	char line[256];
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	start(&t, 1, 1000);
	TG(&t, SYSCALL_BEGIN, 1100, WEFT_SYS_poll, 2, 0);
	TG(&t, SYSCALL_END, 1200, WEFT_SYS_poll, 1, 0);
	TG(&t, SYSCALL_BEGIN, 1300, WEFT_SYS_waitpid, 77, 0);
	TG(&t, SYSCALL_END, 1400, WEFT_SYS_waitpid, 77, 0);
	TG(&t, SYSCALL_BEGIN, 1500, WEFT_SYS_read, 5, 0);
	TG(&t, SYSCALL_END, 1600, WEFT_SYS_read, 10, 0);
	tg_close(&t);
	gen_end(&t, 1, 0, 1);
	char *trace = h_save("syscall-names", (const char *)t.data, t.len);
	tg_free(&t);
	char *json = exported(trace, "syscall-names-export");
	h_python("import json, sys\n"
	       "ev = json.load(open(sys.argv[1]))['traceEvents']\n"
	       "print([e['name'] for e in ev if e['ph'] == 'X'])\n",
	       json, NULL, NULL, line, sizeof line);
	cr_assert_str_eq(line, "['poll', 'waitpid pid 77', 'read fd 5']");
}

/* ---- Perfetto and the JSON's guarantees ---- */

/* NAME itself (not NAME.trace) in the test's directory: an output whose
 * name decides its format. */
static char *out_path(const char *name)
{
	static char paths[4][4096];
	static unsigned next;
	char *p = paths[next++ % 4];
	snprintf(p, 4096, "%s/%s", h_tmpdir(), name);
	return p;
}

/* Runs tests/perfetto_decode.py (protoc --decode against
 * format/perfetto_trace.proto) in mode on pftrace; its first line in line. */
static void decode_perfetto(const char *mode, const char *pftrace, const char *arg,
			    char *line, size_t cap)
{
	const char *src = getenv("WEFT_TEST_SOURCE");
	cr_assert(src, "WEFT_TEST_SOURCE is not set");
	char script[4096], protos[4096];
	snprintf(script, sizeof script, "%s/tests/perfetto_decode.py", src);
	snprintf(protos, sizeof protos, "%s/format", src);
	char *argv[] = { "python3", script, (char *)mode, (char *)pftrace, protos,
			 (char *)arg, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "perfetto_decode: %s", r.err);
	snprintf(line, cap, "%.*s", (int)strcspn(r.out, "\n"), r.out);
	h_free(&r);
}

Test(answers, export_perfetto_tracks_wait_and_flows, .timeout = 60)
{
	char out[256], mutex[64], fd[16], line[512];
	char *trace = record("known_costs", NULL, out, sizeof out);
	cr_assert_eq(sscanf(out, "mutex=%63s fd=%15s", mutex, fd), 2);
	char *pf = h_trace_path("known.pftrace");
	struct run_result r;
	char *argv[] = { (char *)h_weft(), "export", "--format=perfetto", "-o", pf,
			 trace, NULL };
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	decode_perfetto("known", pf, mutex, line, sizeof line);
	/* The five thread tracks by name; one wait of ~50 ms for the mutex
	 * on the waiter's track; every flow with one start and one end, both
	 * on slices, the end on the wait it ended; the holder's unlock flows
	 * into that wait; one packet sequence per thread; slices nest; the
	 * holder's 50 ms hold on the mutex's track; threads blocked counted. */
	cr_assert_str_eq(line, "['T1', 'T2 holder', 'T3 waiter', 'T4 sleeper', "
			 "'T5 writer'] 1 1 1 1 1 1 1 1");
}

Test(answers, export_perfetto_sessions_and_truncation, .timeout = 60)
{
	char line[512];
	struct run_result r;
	char *trace = build_sessions("pf-sessions", 0, 0);
	char *pf = out_path("sessions.pftrace");
	weft(&r, "export", trace, "-o", pf);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	decode_perfetto("sessions", pf, NULL, line, sizeof line);
	/* T2's wait, cut at the stop and continued from its STATUS; its
	 * sequence cleared once per generation (names interned again); the
	 * unlock in session 2 flows into the continued wait. */
	cr_assert_str_eq(line, "[('mutex 0x5000', 200, 200, 0), "
			 "('mutex 0x5000', 200, 1999100, 200)] 2 1 1 1");

	trace = build_sessions("pf-truncated", 0, 1);
	pf = h_trace_path("truncated.pftrace");
	char *argv[] = { (char *)h_weft(), "export", "--format=perfetto", "-o", pf,
			 trace, NULL };
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 3, "truncated: status %d", r.status);
	h_free(&r);
	decode_perfetto("sessions", pf, NULL, line, sizeof line);
	cr_assert_str_eq(line, "[('mutex 0x5000', 200, 200, 0), "
			 "('mutex 0x5000', 200, 1999100, 200)] 2 1 1 1");
}

/* Perfetto's JSON importer drops an arrow whose start is not inside a
 * slice on its thread: every release has a slice of its own. */
Test(answers, export_chrome_flow_starts_inside_slices, .timeout = 60)
{
	char out[256], line[256];
	char *trace = record("known_costs", NULL, out, sizeof out);
	char *json = exported(trace, "flows.json");
	h_python("import json, sys\n"
	       "ev = json.load(open(sys.argv[1]))['traceEvents']\n"
	       "ns = lambda v: round(v * 1000)\n"
	       "xs = [e for e in ev if e['ph'] == 'X']\n"
	       "s = [e for e in ev if e['ph'] == 's']\n"
	       "inside = [e for e in s if any(x['tid'] == e['tid'] and x['pid'] == e['pid'] and"
	       " ns(x['ts']) <= ns(e['ts']) <= ns(x['ts']) + ns(x['dur']) for x in xs)]\n"
	       "print(int(len(s) >= 3), len(s) - len(inside))\n",
	       json, NULL, NULL, line, sizeof line);
	cr_assert_str_eq(line, "1 0", "arrows starting outside a slice: %s", line);
}

/* The holder's unlock, which ended the waiter's wait, says where the
 * holder took the mutex (the site of the hold it ended). */
Test(answers, export_release_names_where_its_lock_was_taken, .timeout = 60)
{
	char line[512];
	char *trace = h_trace_path("release-site");
	char *argv[] = { (char *)h_weft(), "record", "--stacks", "-o", trace, "--",
			 (char *)h_program("known_costs"), NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	char *json = exported(trace, "release-site.json");
	h_python("import json, sys\n"
	       "ev = json.load(open(sys.argv[1]))['traceEvents']\n"
	       "names = {e['tid']: e['args']['name'] for e in ev"
	       " if e['ph'] == 'M' and e['name'] == 'thread_name'}\n"
	       "rel = [e for e in ev if e['ph'] == 'X' and e['cat'] == 'release'"
	       " and names[e['tid']].endswith(' holder') and e['name'].startswith('unlock ')]\n"
	       "print(len(rel), rel[0].get('args', {}).get('lock_taken_at') if rel else None)\n",
	       json, NULL, NULL, line, sizeof line);
	cr_assert(!strncmp(line, "1 holder (known_costs.c:", 24),
		  "the holder's unlock, and where it took the lock: %s", line);
}

Test(answers, export_gzip_is_the_same_json, .timeout = 60)
{
	char out[256], line[256];
	char *trace = record("known_costs", NULL, out, sizeof out);
	char *json = h_trace_path("plain.json");
	char *gz = out_path("packed.json.gz");
	struct run_result r;
	weft(&r, "export", trace, "-o", json);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	weft(&r, "export", trace, "-o", gz);
	cr_assert_eq(r.status, 0, "%s", r.err);
	h_free(&r);
	h_python("import gzip, json, sys\n"
	       "a = json.load(open(sys.argv[1]))\n"
	       "b = json.load(gzip.open(sys.argv[2]))\n"
	       "print(int(a == b), len(a['traceEvents']) > 10)\n",
	       json, gz, NULL, line, sizeof line);
	cr_assert_str_eq(line, "1 True");
}

/* A thread name that is not UTF-8 makes no command's JSON invalid. */
Test(answers, json_is_utf8_for_hostile_thread_names, .timeout = 60)
{
	char out[256], line[256];
	char *trace = record("hostile_name", NULL, out, sizeof out);
	char *json = exported(trace, "hostile.json");
	struct run_result r;
	static const char strict[] =
		"import json, sys\n"
		"d = json.loads(open(sys.argv[1], 'rb').read().decode('utf-8'))\n"
		"print(json.dumps(d, ensure_ascii=True).count('bad\\\\ufffd\\\\ufffdname'))\n";
	h_python(strict, json, NULL, NULL, line, sizeof line);
	cr_assert_str_eq(line, "1", "the name, bad bytes replaced: %s", line);
	weft(&r, "stats", "--json", trace, NULL);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char *stats = h_save("hostile-stats.json", r.out, r.out_len);
	h_free(&r);
	h_python(strict, stats, NULL, NULL, line, sizeof line);
	cr_assert_str_eq(line, "1", "the name, bad bytes replaced: %s", line);
}

/* ---- bad input ---- */

Test(answers, bad_input_is_one_line_and_the_readers_status, .timeout = 60)
{
	char *empty = h_save("empty", "", 0);
	char *text = h_save("text", "hello\n", 6);
	/* (A directory stands for the traces in it: this one holds none.) */
	char *dir = h_trace_path("no-traces");
	cr_assert_eq(mkdir(dir, 0700), 0, "%s", dir);
	const char *files[] = { "/nonexistent/trace", dir, text, empty };
	const char *cmds[] = { "stats", "export", "lockorder" };
	for (size_t f = 0; f < 4; f++) {
		struct run_result r;
		weft(&r, "check", files[f], NULL, NULL);
		int expect = r.status;
		h_free(&r);
		cr_assert(expect == 1 || expect == 2);
		for (size_t c = 0; c < 3; c++) {
			weft(&r, cmds[c], files[f], NULL, NULL);
			cr_assert_eq(r.status, expect, "%s %s: %d, check says %d", cmds[c],
				     files[f], r.status, expect);
			cr_assert_eq(r.out_len, 0, "%s %s wrote: %s", cmds[c], files[f], r.out);
			cr_assert(r.err_len > 0 && strchr(r.err, '\n') == r.err + r.err_len - 1,
				  "%s %s: not one line: %s", cmds[c], files[f], r.err);
			char prefix[32];
			snprintf(prefix, sizeof prefix, "weft %s: ", cmds[c]);
			cr_assert(!strncmp(r.err, prefix, strlen(prefix)), "%s", r.err);
			h_free(&r);
		}
	}
	const char *usage[][3] = {
		{ "stats", NULL, NULL }, { "export", "--format=svg", empty },
		{ "lockorder", "--max-cycles", "0" }, { "stats", "--bogus", empty },
	};
	for (size_t u = 0; u < 4; u++) {
		struct run_result r;
		weft(&r, usage[u][0], usage[u][1], usage[u][2], NULL);
		cr_assert_eq(r.status, 2, "%s %s: %d", usage[u][0], usage[u][1], r.status);
		h_free(&r);
	}
	for (size_t c = 0; c < 3; c++) {
		struct run_result r;
		weft(&r, cmds[c], "--help", NULL, NULL);
		cr_assert_eq(r.status, 0);
		cr_assert(strstr(r.out, "usage: weft "), "%s", r.out);
		h_free(&r);
	}
}
