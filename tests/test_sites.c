/*
 * test_sites.c - where acquisitions were made (ACQUIRE_SITE, with stacks
 * on), with tests/programs/holder_sites.c and lock_orders.c: the sites
 * holders took a lock at in `weft stats`, checked against the program's
 * own functions (their addresses as it prints them, their sizes from
 * nm); two call sites of one lock told apart, and two callers of one
 * lock wrapper; with tests/programs/lock_names.c, the names of locks made
 * by one init wrapper (one each, each selecting its lock alone) and of a
 * lock only ever acquired, and the earliest site naming an object
 * whatever the order of the batches; both sites of each edge in
 * `weft lockorder`; a site first seen in one generation, or in the
 * parent before a fork, defined wherever it is used again; and `weft
 * check` on a site record out of place.
 */
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "tracegen.h"

/* Records program NAME with ARG and stacks on into a fresh trace (at
 * path, a pattern with %p when env sets WEFT_OUTPUT itself), which must
 * check when it is one file; *out gets the program's stdout. */
static char *record(const char *name, const char *arg, char *out, size_t cap)
{
	static int runs;
	char base[128];
	snprintf(base, sizeof base, "%s-%d", arg, runs++);
	char *trace = h_trace_path(base);
	char *argv[] = { (char *)h_weft(), "record", "--stacks", "-o", trace, "--",
			 (char *)h_program(name), (char *)arg, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s %s: %s", name, arg, r.err);
	snprintf(out, cap, "%s", r.out);
	h_free(&r);
	h_assert_checks(trace);
	return trace;
}

/* The address holder_sites prints for NAME ("NAME 0x..."). */
static uint64_t printed(const char *out, const char *name)
{
	char key[64];
	snprintf(key, sizeof key, "%s 0x", name);
	const char *p = strstr(out, key);
	cr_assert(p, "no \"%s\" in: %s", key, out);
	return strtoull(p + strlen(key), NULL, 16);
}

/* The size of the program's function NAME, from nm. */
static uint64_t function_size(const char *program, const char *name)
{
	char *argv[] = { "nm", "-S", "--defined-only", (char *)program, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "nm: %s", r.err);
	uint64_t size = 0;
	for (char *line = strtok(r.out, "\n"); line; line = strtok(NULL, "\n")) {
		unsigned long long value, sz;
		char type, sym[256];
		if (sscanf(line, "%llx %llx %c %255s", &value, &sz, &type, sym) == 4 &&
		    !strcmp(sym, name))
			size = sz;
	}
	h_free(&r);
	cr_assert_gt(size, 0, "nm has no size for %s", name);
	return size;
}

/* Whether return address pc is a call made from inside function NAME of
 * holder_sites (whose run printed out). */
static int called_from(uint64_t pc, const char *out, const char *name)
{
	uint64_t start = printed(out, name);
	uint64_t size = function_size(h_program("holder_sites"), name);
	return pc - 1 >= start && pc - 1 < start + size;
}

/* Runs a Python script (JSON through the standard library) on the
 * output of weft ARGS... TRACE; its stdout's first line goes in line. */
static void weft_json(const char *script, const char *cmd, const char *trace,
		      const char *arg, char *line, size_t cap)
{
	char *argv[] = { (char *)h_weft(), (char *)cmd, "--json", (char *)trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "weft %s: %s", cmd, r.err);
	char *json = h_save("answer", r.out, r.out_len);
	h_free(&r);
	h_python(script, json, arg, NULL, line, cap);
}

/* The lock's holder sites, costliest first: "pc holds held_ns
 * caused_wait_ns in_progress" each, then their count. */
static const char hold_sites_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"o = [o for o in d['objects'] if int(o['address'], 16) == int(sys.argv[2], 16)][0]\n"
	"print(' '.join('%d %d %d %d %d' % (int(h['pc'], 16), h['holds'], h['held_ns'],\n"
	"      h['caused_wait_ns'], h['in_progress']) for h in o['hold_sites']),\n"
	"      len(o['hold_sites']))\n";

Test(sites, a_holder_site_is_in_the_function_that_held_the_lock, .timeout = 60)
{
	char out[1024], lock[32], line[1024];
	char *trace = record("holder_sites", "hold", out, sizeof out);
	snprintf(lock, sizeof lock, "0x%" PRIx64, printed(out, "lock"));
	weft_json(hold_sites_script, "stats", trace, lock, line, sizeof line);
	unsigned long long pc, holds, held, caused, in_progress;
	cr_assert_eq(sscanf(line, "%llu %llu %llu %llu %llu", &pc, &holds, &held,
			    &caused, &in_progress), 5, "no holder site: %s", line);
	/* The costliest: the 100 ms hold in hold_long() that T2 waited
	 * out. */
	cr_assert(called_from(pc, out, "hold_long"), "the costliest site 0x%llx is "
		  "not in hold_long(): %s\n%s", pc, line, out);
	cr_assert_eq(holds, 1, "%s", line);
	cr_assert(held >= 90000000 && held < 2000000000ull, "held %llu ns", held);
	cr_assert(caused >= 40000000 && caused <= held, "others waited %llu ns", caused);
	cr_assert_eq(in_progress, 0, "%s", line);

	char *argv[] = { (char *)h_weft(), "stats", trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "    held ") && strstr(r.out, "(1 hold, others waited "),
		  "no holder site in the table:\n%s", r.out);
	h_free(&r);
}

Test(sites, two_call_sites_of_one_lock_are_two_sites, .timeout = 60)
{
	char out[1024], lock[32], line[1024];
	char *trace = record("holder_sites", "two", out, sizeof out);
	snprintf(lock, sizeof lock, "0x%" PRIx64, printed(out, "lock"));
	weft_json(hold_sites_script, "stats", trace, lock, line, sizeof line);
	unsigned long long pc[2], holds[2], rest[6], n;
	cr_assert_eq(sscanf(line, "%llu %llu %llu %llu %llu %llu %llu %llu %llu %llu %llu",
			    &pc[0], &holds[0], &rest[0], &rest[1], &rest[2], &pc[1],
			    &holds[1], &rest[3], &rest[4], &rest[5], &n), 11,
		     "not two sites: %s", line);
	cr_assert_eq(n, 2, "%s", line);
	int a = called_from(pc[0], out, "site_a") ? 0 : 1;
	cr_assert(called_from(pc[a], out, "site_a"), "no site in site_a(): %s", line);
	cr_assert(called_from(pc[1 - a], out, "site_b"), "no site in site_b(): %s", line);
	cr_assert(holds[0] == 3 && holds[1] == 3, "three holds each: %s", line);
}

/* Every holder site of the lock: "pc0 pc1 holds" (its two innermost
 * frames), then their count. */
static const char wrapped_sites_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"o = [o for o in d['objects'] if int(o['address'], 16) == int(sys.argv[2], 16)][0]\n"
	"print(' '.join('%d %d %d' % (int(h['pcs'][0], 16), int(h['pcs'][1], 16),\n"
	"      h['holds']) for h in o['hold_sites']), len(o['hold_sites']))\n";

Test(sites, two_callers_of_one_lock_wrapper_are_two_sites, .timeout = 60)
{
	char out[1024], lock[32], line[1024];
	char *trace = record("holder_sites", "wrapped", out, sizeof out);
	snprintf(lock, sizeof lock, "0x%" PRIx64, printed(out, "lock"));
	weft_json(wrapped_sites_script, "stats", trace, lock, line, sizeof line);
	unsigned long long pc[2][2], holds[2], n;
	cr_assert_eq(sscanf(line, "%llu %llu %llu %llu %llu %llu %llu", &pc[0][0],
			    &pc[0][1], &holds[0], &pc[1][0], &pc[1][1], &holds[1], &n),
		     7, "not two sites: %s", line);
	cr_assert_eq(n, 2, "%s", line);
	/* Both made in lock_for(), each called from its own caller: the
	 * first caller's frames are not lent to the second's holds. */
	for (int i = 0; i < 2; i++)
		cr_assert(called_from(pc[i][0], out, "lock_for"),
			  "site %d is not in lock_for(): %s", i, line);
	int a = called_from(pc[0][1], out, "caller_a") ? 0 : 1;
	cr_assert(called_from(pc[a][1], out, "caller_a"), "no site from caller_a(): %s",
		  line);
	cr_assert(called_from(pc[1 - a][1], out, "caller_b"),
		  "no site from caller_b(): %s", line);
	cr_assert(holds[0] == 3 && holds[1] == 3, "three holds each: %s", line);
}

Test(sites, lockorder_gives_both_acquisition_sites_of_each_edge, .timeout = 60)
{
	char out[256], line[4096];
	char *trace = record("lock_orders", "abba", out, sizeof out);
	weft_json("import json, sys\n"
		  "d = json.load(open(sys.argv[1]))\n"
		  "for e in d['cycles'][0]['edges']:\n"
		  "    print(e['held_at'], '|', e['taken_at'], '|', end=' ')\n"
		  "print()\n", "lockorder", trace, NULL, line, sizeof line);
	/* Two edges, each with the stacks of its two acquisitions (not
	 * "T2 at offset N"), which are two call sites in both(). */
	char *field[4];
	char *p = line;
	for (int i = 0; i < 4; i++) {
		field[i] = p;
		char *bar = strstr(p, " | ");
		cr_assert(bar, "not two edges of two sites: %s", line);
		*bar = 0;
		p = bar + 3;
	}
	for (int i = 0; i < 4; i++)
		cr_assert(!strstr(field[i], " at offset ") && strstr(field[i], " < "),
			  "site %d is not a stack: \"%s\"", i, field[i]);
	cr_assert_str_neq(field[0], field[1], "an edge's two sites are one");
	cr_assert_str_neq(field[2], field[3], "an edge's two sites are one");
}

/* ---- names from sites ---- */

/* The names stats gives the objects at the addresses (argv[2], comma
 * separated), joined by " | ". */
static const char names_script[] =
	"import json, sys\n"
	"d = json.load(open(sys.argv[1]))\n"
	"names = {int(o['address'], 16): o['name'] for o in d['objects']}\n"
	"print(' | '.join(names.get(int(a, 16), '?') for a in sys.argv[2].split(',')))\n";

/* The addresses of the objects `weft stats --json --lock filter` lists,
 * comma separated. */
static void selected(const char *trace, const char *filter, char *line, size_t cap)
{
	char *argv[] = { (char *)h_weft(), "stats", "--json", "--lock", (char *)filter,
			 (char *)trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "weft stats --lock %s: %s", filter, r.err);
	char *json = h_save("selected", r.out, r.out_len);
	h_free(&r);
	h_python("import json, sys\n"
		 "d = json.load(open(sys.argv[1]))\n"
		 "print(','.join('0x%x' % int(o['address'], 16) for o in d['objects']))\n",
		 json, NULL, NULL, line, cap);
}

/* The address lock_names printed for its lock i ("lock i 0x..."). */
static uint64_t lock_address(const char *out, int i)
{
	char key[32];
	snprintf(key, sizeof key, "lock %d 0x", i);
	const char *p = strstr(out, key);
	cr_assert(p, "no \"%s\" in: %s", key, out);
	return strtoull(p + strlen(key), NULL, 16);
}

Test(sites, locks_made_by_one_init_wrapper_have_a_name_each, .timeout = 60)
{
	char out[1024], addrs[128], line[2048];
	char *trace = record("lock_names", "wrapped", out, sizeof out);
	uint64_t lock[4];
	int len = 0;
	for (int i = 0; i < 4; i++) {
		lock[i] = lock_address(out, i);
		len += snprintf(addrs + len, sizeof addrs - (size_t)len, "%s0x%" PRIx64,
				i ? "," : "", lock[i]);
	}
	weft_json(names_script, "stats", trace, addrs, line, sizeof line);
	char *name[4], *p = line;
	for (int i = 0; i < 4; i++) {
		name[i] = p;
		p = strstr(p, " | ");
		if (i < 3) {
			cr_assert(p, "not four names: %s", line);
			*p = 0;
			p += 3;
		}
	}
	/* The wrapper's frame, then the first frame that tells them apart;
	 * the two made by one call are numbered in the order made. */
	for (int i = 0; i < 4; i++)
		cr_assert(strncmp(name[i], "from make_lock (lock_names.c:", 29) == 0,
			  "lock %d: %s", i, name[i]);
	cr_assert(strstr(name[0], " < create_a (lock_names.c:") && !strchr(name[0], '#'),
		  "%s", name[0]);
	cr_assert(strstr(name[1], " < create_b (lock_names.c:") && !strchr(name[1], '#'),
		  "%s", name[1]);
	char pair[512];
	snprintf(pair, sizeof pair, "%s", name[2]);
	cr_assert(strstr(pair, " < create_pair (lock_names.c:"), "%s", pair);
	size_t n = strlen(pair);
	cr_assert(n > 3 && !strcmp(pair + n - 3, " #1"), "%s", pair);
	pair[n - 1] = '2';
	cr_assert_str_eq(name[3], pair);
	/* Each name selects its lock and no other. */
	for (int i = 0; i < 4; i++) {
		char want[32], got[256];
		snprintf(want, sizeof want, "0x%" PRIx64, lock[i]);
		selected(trace, name[i], got, sizeof got);
		cr_assert_str_eq(got, want, "--lock \"%s\"", name[i]);
	}
}

Test(sites, a_lock_only_ever_acquired_is_named_by_its_first_site, .timeout = 60)
{
	char out[256], addr[32], line[1024];
	char *trace = record("lock_names", "heap", out, sizeof out);
	snprintf(addr, sizeof addr, "0x%" PRIx64, lock_address(out, 0));
	weft_json(names_script, "stats", trace, addr, line, sizeof line);
	/* Never initialised by a call nor waited for: the address was all
	 * a reader had. */
	cr_assert(strncmp(line, "from queue_push (lock_names.c:", 30) == 0, "%s", line);
}

/* ---- generations and fork ---- */

/* What a trace says of sites: per generation, the stacks it defines
 * and the sites its ACQUIRE_SITE records name. */
#define GENS 64
struct site_walk {
	uint64_t lo, hi;              /* site_a()'s code */
	uint64_t defined[GENS][32];   /* stack ids with their first pc in it */
	int ndefined[GENS];
	uint64_t used[GENS][32];
	int nused[GENS];
	uint64_t all_defined[GENS][256];
	int nall[GENS];
};

static void see(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	struct site_walk *w = ctx;
	uint32_t g = b->header.generation;
	if (g >= GENS)
		return;
	if (rec->code == WEFT_EV_ACQUIRE_SITE && w->nused[g] < 32)
		w->used[g][w->nused[g]++] = rec->args[0];
	if (rec->code == WEFT_EV_STACK && w->nall[g] < 256) {
		w->all_defined[g][w->nall[g]++] = rec->args[0];
		if (rec->npcs && rec->pcs[0] - 1 >= w->lo && rec->pcs[0] - 1 < w->hi &&
		    w->ndefined[g] < 32)
			w->defined[g][w->ndefined[g]++] = rec->args[0];
	}
}

static int in(const uint64_t *ids, int n, uint64_t id)
{
	for (int i = 0; i < n; i++)
		if (ids[i] == id)
			return 1;
	return 0;
}

/* Generations whose every ACQUIRE_SITE names a stack defined in them,
 * which starts in site_a(); fails on one that does not. */
static int generations_with_site_a(const char *trace, const char *out)
{
	struct site_walk *w = calloc(1, sizeof *w);
	cr_assert(w);
	w->lo = printed(out, "site_a");
	w->hi = w->lo + function_size(h_program("holder_sites"), "site_a");
	char err[512];
	cr_assert_eq(h_walk(trace, see, w, err, sizeof err), WEFT_READ_OK, "%s", err);
	int gens = 0;
	for (int g = 1; g < GENS; g++) {
		for (int i = 0; i < w->nused[g]; i++) {
			cr_assert(in(w->all_defined[g], w->nall[g], w->used[g][i]),
				  "%s: generation %d: site stack %" PRIu64 " is not defined",
				  trace, g, w->used[g][i]);
			cr_assert(in(w->defined[g], w->ndefined[g], w->used[g][i]),
				  "%s: generation %d: site stack %" PRIu64 " is not site_a()'s",
				  trace, g, w->used[g][i]);
		}
		gens += w->nused[g] > 0;
	}
	free(w);
	return gens;
}

Test(sites, a_site_is_defined_in_every_generation_and_fork_child_using_it, .timeout = 60)
{
	char pattern[4200], output[4300], preload[4300];
	snprintf(pattern, sizeof pattern, "%s/rotate-%%p.trace", h_tmpdir());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", pattern);
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	char *env[] = { preload, output, "WEFT_STACKS=1", "WEFT_ROTATE_MS=50", NULL };
	char *argv[] = { (char *)h_program("holder_sites"), "rotate", NULL };
	struct run_result r;
	h_run(argv, env, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	char out[1024];
	snprintf(out, sizeof out, "%s", r.out);
	h_free(&r);
	/* The parent's trace and the child's, by their pids. */
	char cmd[4400];
	snprintf(cmd, sizeof cmd, "ls %s/rotate-*.trace", h_tmpdir());
	FILE *ls = popen(cmd, "r");
	cr_assert(ls);
	char path[2][4300];
	int n = 0;
	while (n < 2 && fgets(path[n], sizeof path[n], ls)) {
		path[n][strcspn(path[n], "\n")] = 0;
		n++;
	}
	pclose(ls);
	cr_assert_eq(n, 2, "not a parent's and a child's trace");
	int gens[2];
	for (int i = 0; i < 2; i++) {
		h_assert_checks(path[i]);
		gens[i] = generations_with_site_a(path[i], out);
	}
	/* The parent used site_a() in two generations at least (the second
	 * time found in the cache), the child once (found in the cache it
	 * inherited). */
	int parent = gens[0] >= gens[1] ? 0 : 1;
	cr_assert_geq(gens[parent], 2, "the parent's site in %d generations", gens[parent]);
	cr_assert_eq(gens[1 - parent], 1, "the child's site in %d generations",
		     gens[1 - parent]);
}

/* ---- a damaged site ---- */

Test(sites, weft_check_rejects_a_site_that_follows_no_acquisition, .timeout = 60)
{
	/* T1 unlocks, then names a site: no acquisition comes before it. */
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	tg_batch(&t, 1, 1, 1000);
	TG(&t, THREAD_START, 1000, 0, 101, 0);
	TG(&t, MUTEX_ACQUIRE, 1010, 0x1000, 1, 0);
	TG(&t, MUTEX_UNLOCK, 1020, 0x1000, 2, 0);
	TG(&t, ACQUIRE_SITE, 1020, 5);
	tg_batch(&t, 0, 1, 1000);
	TG(&t, STACK, 0, 5, 0);
	tg_gen_end(&t, 1, 1);
	char *trace = h_trace_path("misplaced-site");
	FILE *f = fopen(trace, "w");
	cr_assert(f);
	cr_assert_eq(fwrite(t.data, 1, t.len, f), t.len);
	fclose(f);
	tg_free(&t);
	char *argv[] = { (char *)h_weft(), "check", trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 1, "exit %d: %s%s", r.status, r.out, r.err);
	cr_assert(strstr(r.err, "ACQUIRE_SITE: does not follow an acquisition of "
			 "its thread"), "%s", r.err);
	h_free(&r);
}

/* ---- a hold the trace ends in ---- */

/* T1 takes lock 0x5000 at a site (stack 7: one pc, 0x401234) and still
 * holds it when the trace ends, at 5100: its site's hold counts up to
 * there and is labelled as in progress. */
Test(sites, a_hold_the_trace_ends_in_is_labelled_in_progress, .timeout = 60)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	tg_batch(&t, 1, 1, 1000);
	TG(&t, THREAD_START, 1000, 0, 101, 7001);
	TG(&t, MUTEX_ACQUIRE, 1100, 0x5000, 1, 0);
	TG(&t, ACQUIRE_SITE, 1100, 7);
	TG(&t, SYSCALL_BEGIN, 5000, 1, 3, 0);
	TG(&t, SYSCALL_END, 5100, 1, 1, 0);
	tg_batch(&t, 0, 1, 1000);
	struct weft_record stack = { .code = WEFT_EV_STACK, .npcs = 1 };
	stack.args[0] = 7;
	stack.pcs[0] = 0x401234;
	uint8_t bytes[WEFT_RECORD_MAX];
	struct weft_batch_state state = t.state;
	tg_bytes(&t, bytes, (size_t)(weft_encode_record(bytes, &stack, &state) - bytes));
	tg_gen_end(&t, 1, 1);
	char *trace = h_trace_path("hold-at-end");
	FILE *f = fopen(trace, "w");
	cr_assert(f);
	cr_assert_eq(fwrite(t.data, 1, t.len, f), t.len);
	fclose(f);
	tg_free(&t);

	char line[256];
	weft_json(hold_sites_script, "stats", trace, "0x5000", line, sizeof line);
	cr_assert_str_eq(line, "4198964 1 4000 0 1 1");
	char *argv[] = { (char *)h_weft(), "stats", trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "held 4 us at (1 hold in progress at the end): 0x401234"),
		  "%s", r.out);
	h_free(&r);
}

/* ---- a name that does not depend on the order of batches ---- */

/* Appends a record with bytes (STRING) or pcs (STACK) to t's batch. */
static void tg_record(struct tg *t, const struct weft_record *rec)
{
	uint8_t bytes[WEFT_RECORD_MAX];
	struct weft_batch_state state = t->state;
	tg_bytes(t, bytes, (size_t)(weft_encode_record(bytes, rec, &state) - bytes));
}

/* Lock 0x5000: T2's batch, first in the file, has a wait on it at 2000
 * from late_site (stack 7); T1's, after it, one at 1500 from early_site
 * (stack 8).  The lock is named by the earlier wait, not the first in
 * the file. */
Test(sites, an_object_is_named_by_its_earliest_site_not_the_first_in_the_file,
     .timeout = 60)
{
	struct tg t;
	tg_init(&t);
	tg_clock(&t, 1);
	tg_batch(&t, 2, 1, 1000);
	TG(&t, THREAD_START, 1000, 0, 102, 0);
	TG(&t, MUTEX_BLOCK, 2000, 0x5000, 7);
	tg_batch(&t, 1, 1, 1000);
	TG(&t, THREAD_START, 1000, 0, 101, 0);
	TG(&t, MUTEX_BLOCK, 1500, 0x5000, 8);
	tg_batch(&t, 0, 1, 1000);
	const char *names[] = { "early_site", "late_site" };
	for (int i = 0; i < 2; i++) {
		struct weft_record s = { .code = WEFT_EV_STRING, .bytes = (const uint8_t *)names[i],
					 .nbytes = (uint32_t)strlen(names[i]) };
		s.args[0] = (uint64_t)i + 1;
		tg_record(&t, &s);
		TG(&t, SYMBOL, 0, 0x401000 + 0x1000 * (uint64_t)i, (uint64_t)i + 1);
		struct weft_record k = { .code = WEFT_EV_STACK, .npcs = 1 };
		k.args[0] = 8 - (uint64_t)i;
		k.pcs[0] = 0x401000 + 0x1000 * (uint64_t)i;
		tg_record(&t, &k);
	}
	tg_gen_end(&t, 1, 1);
	char *trace = h_trace_path("earliest-site");
	FILE *f = fopen(trace, "w");
	cr_assert(f);
	cr_assert_eq(fwrite(t.data, 1, t.len, f), t.len);
	fclose(f);
	tg_free(&t);
	char *argv[] = { (char *)h_weft(), "dump", trace, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "%s", r.err);
	cr_assert(strstr(r.out, "mutex=0x5000 (from early_site)"), "%s", r.out);
	cr_assert_null(strstr(r.out, "late_site)"), "%s", r.out);
	h_free(&r);
}
