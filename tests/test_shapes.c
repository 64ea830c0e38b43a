/*
 * test_shapes.c - process and thread shapes under the preload: vfork and
 * posix_spawn, daemon(), double fork, exec chains, 10,000 threads, threads
 * never joined, detached threads still running at exit, cancellation of
 * blocked threads, and destructors that run after a thread's start
 * routine.  Each program must behave as it does untraced, every trace it
 * leaves must be complete and check, and each trace must hold what the
 * program did, in the process that did it.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

#define MAX_TRACES 8

/* ---- running ---- */

/* Runs program `name` with args, traced with WEFT_OUTPUT=DIR/NAME-%p.trace
 * (one file per process) and, when untraced_too, untraced first: both
 * runs must agree on stdout and exit status, and the traced one print
 * nothing on stderr. */
static void run_shape(const char *name, char *const args[], int untraced_too,
		      struct run_result *traced)
{
	char *argv[8] = { (char *)h_program(name) };
	for (int i = 0; args && args[i] && i < 6; i++)
		argv[i + 1] = args[i];
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s/%s-%%p.trace", h_tmpdir(), name);
	char *env[] = { preload, output, NULL };
	h_run(argv, env, traced);
	cr_assert_str_eq(traced->err, "", "%s: stderr under the preload: %s", name, traced->err);
	if (!untraced_too)
		return;
	struct run_result plain;
	h_run(argv, NULL, &plain);
	cr_assert_eq(traced->status, plain.status, "%s: exit status %d traced, %d untraced",
		     name, traced->status, plain.status);
	cr_assert_str_eq(traced->out, plain.out, "%s: stdout differs under the preload", name);
	h_free(&plain);
}

/* The test becomes the reaper of orphans (the processes that outlive
 * their parent), so it can wait for them and see their status. */
static void adopt_orphans(void)
{
	cr_assert_eq(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
}

/* Waits for one adopted orphan; returns its pid and puts its exit status
 * in *status. */
static pid_t reap_orphan(int *status)
{
	int st;
	pid_t pid;
	while ((pid = waitpid(-1, &st, 0)) < 0 && errno == EINTR)
		;
	cr_assert_gt(pid, 0, "an orphan to reap: %s", strerror(errno));
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return pid;
}

/* ---- traces ---- */

struct trace {
	char path[4096];
	uint64_t pid, ppid;
	struct h_counts counts;
};

static int by_path(const void *a, const void *b)
{
	return strcmp(((const struct trace *)a)->path, ((const struct trace *)b)->path);
}

/* Every trace file NAME-*.trace* in this test's directory, sorted by path,
 * each complete, decoded in full and checked. */
static int traces_of(const char *name, struct trace *out, int max)
{
	char prefix[256];
	snprintf(prefix, sizeof prefix, "%s-", name);
	DIR *d = opendir(h_tmpdir());
	cr_assert(d);
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (strncmp(e->d_name, prefix, strlen(prefix)) || !strstr(e->d_name, ".trace"))
			continue;
		cr_assert_lt(n, max, "more than %d traces of %s", max, name);
		snprintf(out[n].path, sizeof out[n].path, "%s/%s", h_tmpdir(), e->d_name);
		n++;
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof out[0], by_path);
	for (int i = 0; i < n; i++) {
		struct weft_reader r;
		cr_assert_eq(weft_reader_open(&r, out[i].path), WEFT_READ_OK, "%s: %s",
			     out[i].path, r.error);
		out[i].pid = r.header.pid;
		out[i].ppid = r.header.ppid;
		weft_reader_close(&r);
		h_count(out[i].path, &out[i].counts);
		cr_assert_eq(out[i].counts.status, WEFT_READ_OK, "%s: %s", out[i].path,
			     out[i].counts.error);
		cr_assert(out[i].counts.complete, "%s ends with TRACE_END", out[i].path);
		h_assert_checks(out[i].path);
	}
	return n;
}

static struct trace *trace_of_pid(struct trace *t, int n, uint64_t pid)
{
	for (int i = 0; i < n; i++)
		if (t[i].pid == pid)
			return &t[i];
	cr_assert_fail("no trace of pid %" PRIu64, pid);
	return NULL;
}

/* One thread's records, in its own order. */
#define MAX_RECORDS 64
struct thread_records {
	uint32_t serial;
	int n;
	struct weft_record recs[MAX_RECORDS];
};

static void keep_thread_record(const struct weft_batch *b, const struct weft_record *rec,
			       void *ctx)
{
	struct thread_records *tr = ctx;
	if (b->header.serial == tr->serial && tr->n < MAX_RECORDS)
		tr->recs[tr->n++] = *rec;
}

static void thread_records(const char *path, uint32_t serial, struct thread_records *tr)
{
	memset(tr, 0, sizeof *tr);
	tr->serial = serial;
	char err[512];
	cr_assert_eq(h_walk(path, keep_thread_record, tr, err, sizeof err), WEFT_READ_OK,
		     "%s", err);
}

/* The thread's records, from the first of code first on, must hold the
 * codes of want in this order (other records may come between). */
static void assert_in_order(const struct thread_records *tr, const uint8_t *want, int n,
			    const char *what)
{
	int next = 0;
	for (int i = 0; i < tr->n && next < n; i++)
		if (tr->recs[i].code == want[next])
			next++;
	cr_assert_eq(next, n, "%s: T%u's records lack event %d of the expected order "
		     "(code 0x%02x)", what, tr->serial, next, next < n ? want[next] : 0);
	cr_assert_eq(tr->recs[tr->n - 1].code, want[n - 1], "%s: T%u's last record", what,
		     tr->serial);
}

static const struct weft_record *first_of(const struct thread_records *tr, uint8_t code)
{
	for (int i = 0; i < tr->n; i++)
		if (tr->recs[i].code == code)
			return &tr->recs[i];
	return NULL;
}

/* Whether any thread of the trace began a syscall on descriptor fd. */
struct fd_search {
	int64_t fd;
	int found;
};

static void find_fd(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	(void)b;
	struct fd_search *s = ctx;
	if (rec->code == WEFT_EV_SYSCALL_BEGIN && (int64_t)rec->args[1] == s->fd)
		s->found = 1;
}

static int uses_fd(const char *path, int fd)
{
	struct fd_search s = { fd, 0 };
	cr_assert_eq(h_walk(path, find_fd, &s, NULL, 0), WEFT_READ_OK);
	return s.found;
}

/* The pid of the child the trace's process forked (its FORK record in
 * the parent), or 0. */
static void note_fork(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	(void)b;
	if (rec->code == WEFT_EV_FORK && (int64_t)rec->args[0] > 0)
		*(int64_t *)ctx = (int64_t)rec->args[0];
}

static uint64_t forked_pid(const char *path)
{
	int64_t pid = 0;
	cr_assert_eq(h_walk(path, note_fork, &pid, NULL, 0), WEFT_READ_OK);
	return (uint64_t)pid;
}

/* ---- new processes ---- */

Test(shapes, vfork_and_posix_spawn, .timeout = 60)
{
	struct run_result r;
	run_shape("spawn_shapes", NULL, 1, &r);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "vfork exec: 0\nvfork _exit: 7 shared 42\n"
				"posix_spawn: 0\nposix_spawnp: 0\n");
	h_free(&r);

	/* The parent, and the three children that exec'd: the child that
	 * left through _exit ran no image of its own. */
	struct trace t[MAX_TRACES];
	int n = traces_of("spawn_shapes", t, MAX_TRACES);
	cr_assert_eq(n, 4, "4 traces, got %d", n);
	struct trace *parent = NULL;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			if (t[j].ppid == t[i].pid)
				parent = &t[i];
	cr_assert(parent, "one trace is the others' parent's");
	for (int i = 0; i < n; i++) {
		cr_assert_eq(t[i].counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 50, "%s", t[i].path);
		cr_assert_eq(t[i].counts.threads, 1, "%s", t[i].path);
		if (&t[i] != parent)
			cr_assert_eq(t[i].ppid, parent->pid, "%s is a child's", t[i].path);
	}
	/* The vfork child wrote to descriptor 77 before its exec: that is
	 * not the parent's doing. */
	cr_assert_not(uses_fd(parent->path, 77), "the vfork child's write is not in "
		      "the parent's trace");
	cr_assert_eq(parent->counts.per_code[WEFT_EV_FORK], 0);
	cr_assert_eq(parent->counts.per_code[WEFT_EV_SYSCALL_BEGIN] -
		     parent->counts.per_code[WEFT_EV_SYSCALL_END], 0);
}

Test(shapes, daemon_gets_its_own_trace, .timeout = 60)
{
	adopt_orphans();
	struct run_result r;
	run_shape("daemonize", (char *[]){ "daemon", NULL }, 0, &r);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "parent\n");
	h_free(&r);
	int status;
	pid_t daemon_pid = reap_orphan(&status);
	cr_assert_eq(status, 0, "the daemon's work is unchanged");

	struct trace t[MAX_TRACES];
	int n = traces_of("daemonize", t, MAX_TRACES);
	cr_assert_eq(n, 2, "the original process's trace and the daemon's, got %d", n);
	struct trace *d = trace_of_pid(t, n, (uint64_t)daemon_pid);
	struct trace *parent = d == &t[0] ? &t[1] : &t[0];
	cr_assert_eq(d->counts.per_code[WEFT_EV_FORK], 1, "FORK with pid 0 opens a fork "
		     "child's trace");
	cr_assert_eq(d->counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 200);
	/* The forking thread goes on in the daemon (a STATUS opens it there)
	 * and starts one more. */
	cr_assert_eq(d->counts.per_code[WEFT_EV_THREAD_START], 1);
	cr_assert_eq(d->counts.threads, 2);
	/* Nothing of the daemon's lands in the original process's trace. */
	cr_assert_eq(parent->counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 0);
	cr_assert_eq(parent->counts.per_code[WEFT_EV_THREAD_START], 1);
}

Test(shapes, double_fork, .timeout = 60)
{
	adopt_orphans();
	struct run_result r;
	run_shape("daemonize", (char *[]){ "double-fork", NULL }, 0, &r);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "child exited 0\n");
	h_free(&r);
	int status;
	pid_t grandchild = reap_orphan(&status);
	cr_assert_eq(status, 0);

	struct trace t[MAX_TRACES];
	int n = traces_of("daemonize", t, MAX_TRACES);
	cr_assert_eq(n, 3, "one trace per process, got %d", n);
	/* Each FORK names the next process down (a header's ppid may already
	 * be the reaper's, when the parent ended first). */
	struct trace *g = trace_of_pid(t, n, (uint64_t)grandchild);
	struct trace *original = NULL;
	for (int i = 0; i < n; i++)
		if (t[i].counts.per_code[WEFT_EV_FORK] == 1 && &t[i] != g)
			original = &t[i];
	cr_assert(original, "the original process's trace has one FORK");
	struct trace *child = trace_of_pid(t, n, forked_pid(original->path));
	cr_assert_eq(forked_pid(child->path), (uint64_t)grandchild);
	cr_assert_eq(original->counts.per_code[WEFT_EV_FORK], 1);
	cr_assert_eq(child->counts.per_code[WEFT_EV_FORK], 2, "its own start and its fork");
	cr_assert_eq(g->counts.per_code[WEFT_EV_FORK], 1);
	cr_assert_eq(g->counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 200);
	cr_assert_eq(child->counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 0);
	cr_assert_eq(original->counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 0);
}

Test(shapes, exec_chain_one_trace_per_image, .timeout = 60)
{
	struct run_result r;
	run_shape("exec_chain", (char *[]){ "3", NULL }, 0, &r);
	cr_assert_eq(r.status, 0);
	int pid = 0;
	cr_assert_eq(sscanf(r.out, "chain done %d", &pid), 1, "%s", r.out);
	h_free(&r);

	struct trace t[MAX_TRACES];
	int n = traces_of("exec_chain", t, MAX_TRACES);
	cr_assert_eq(n, 4, "one trace per image, got %d", n);
	char base[4200];
	snprintf(base, sizeof base, "%s/exec_chain-%d.trace", h_tmpdir(), pid);
	for (int i = 0; i < n; i++) {
		char want[4300];
		if (i == 0)
			snprintf(want, sizeof want, "%s", base);
		else
			snprintf(want, sizeof want, "%s.%d", base, i);
		cr_assert_str_eq(t[i].path, want, "named by the pid, in exec order");
		cr_assert_eq(t[i].pid, (uint64_t)pid);
		cr_assert_eq(t[i].counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 20);
		int last = i == n - 1;
		cr_assert_eq(t[i].counts.per_code[WEFT_EV_EXEC], last ? 0 : 2, "%s", t[i].path);
		cr_assert_eq(t[i].counts.per_code[WEFT_EV_EXEC_FAILED], last ? 0 : 1,
			     "%s", t[i].path);
	}
}

/* ---- many threads, and threads nobody waits for ---- */

Test(shapes, ten_thousand_threads, .timeout = 300)
{
	struct run_result r;
	run_shape("thread_churn", NULL, 0, &r);
	cr_assert_eq(r.status, 0, "%s", r.out);
	cr_assert_str_eq(r.out, "threads=10000 counter=10000\n");
	h_free(&r);

	struct trace t[MAX_TRACES];
	int n = traces_of("thread_churn", t, MAX_TRACES);
	cr_assert_eq(n, 1);
	const struct h_counts *c = &t[0].counts;
	cr_assert_eq(c->lost, 0, "no events lost");
	cr_assert_eq(c->per_code[WEFT_EV_THREAD_CREATE], 10000);
	cr_assert_eq(c->per_code[WEFT_EV_THREAD_START], 10001, "10,000 and main");
	cr_assert_eq(c->per_code[WEFT_EV_THREAD_EXIT], 10000);
	cr_assert_eq(c->per_code[WEFT_EV_JOIN_END], 10000);
	cr_assert_eq(c->per_code[WEFT_EV_MUTEX_ACQUIRE], 10000);
	cr_assert_eq(c->per_code[WEFT_EV_BARRIER_END], 1001, "1,000 alive at once, and main");
	cr_assert_eq(c->threads, 10001);
}

Test(shapes, threads_never_joined, .timeout = 60)
{
	struct run_result r;
	run_shape("unjoined", (char *[]){ "finished", NULL }, 1, &r);
	cr_assert_eq(r.status, 0);
	h_free(&r);
	struct trace t[MAX_TRACES];
	int n = traces_of("unjoined", t, MAX_TRACES);
	cr_assert_eq(n, 1);
	const struct h_counts *c = &t[0].counts;
	cr_assert_eq(c->per_code[WEFT_EV_THREAD_START], 9);
	cr_assert_eq(c->per_code[WEFT_EV_THREAD_EXIT], 8);
	cr_assert_eq(c->per_code[WEFT_EV_JOIN_BEGIN] + c->per_code[WEFT_EV_DETACH], 0);
	cr_assert_eq(c->per_code[WEFT_EV_MUTEX_ACQUIRE], 8);
}

Test(shapes, detached_threads_running_at_exit, .timeout = 60)
{
	struct run_result r;
	run_shape("unjoined", (char *[]){ "running", NULL }, 1, &r);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "running=3\n");
	h_free(&r);
	struct trace t[MAX_TRACES];
	int n = traces_of("unjoined", t, MAX_TRACES);
	cr_assert_eq(n, 1);
	const struct h_counts *c = &t[0].counts;
	cr_assert_eq(c->per_code[WEFT_EV_THREAD_START], 4);
	cr_assert_eq(c->per_code[WEFT_EV_THREAD_EXIT], 0, "the three were still running");
	/* T2 was in read(2), T3 in nanosleep when the process ended. */
	struct thread_records tr;
	thread_records(t[0].path, 2, &tr);
	const struct weft_record *b = first_of(&tr, WEFT_EV_SYSCALL_BEGIN);
	cr_assert(b && tr.recs[tr.n - 1].code == WEFT_EV_SYSCALL_BEGIN, "T2 ends in a syscall");
	thread_records(t[0].path, 3, &tr);
	cr_assert(tr.n && tr.recs[tr.n - 1].code == WEFT_EV_SYSCALL_BEGIN, "T3 ends asleep");
	cr_assert_gt(c->per_code[WEFT_EV_MUTEX_ACQUIRE], 0);
}

/* ---- cancellation ---- */

/* Runs cancel_blocked MODE; the trace must check, and the cancelled
 * thread's records end with want. */
static void cancel_case(const char *mode, uint32_t serial, const uint8_t *want, int n,
			const char *out)
{
	struct run_result r;
	run_shape("cancel_blocked", (char *[]){ (char *)mode, NULL }, 1, &r);
	cr_assert_eq(r.status, 0, "%s: %s", mode, r.out);
	cr_assert_str_eq(r.out, out);
	h_free(&r);
	struct trace t[MAX_TRACES];
	cr_assert_eq(traces_of("cancel_blocked", t, MAX_TRACES), 1);
	struct thread_records tr;
	thread_records(t[0].path, serial, &tr);
	assert_in_order(&tr, want, n, mode);
}

Test(shapes, cancel_in_cond_wait, .timeout = 60)
{
	static const uint8_t want[] = { WEFT_EV_MUTEX_ACQUIRE, WEFT_EV_COND_WAIT_BEGIN,
					WEFT_EV_COND_WAIT_END, WEFT_EV_MUTEX_UNLOCK,
					WEFT_EV_THREAD_EXIT };
	cancel_case("cond", 2, want, 5, "cond cancelled cleanup=1\nmutex free\n");
	/* The wait ended as cancelled, with the mutex held again for the
	 * cleanup handler that unlocks it. */
	struct trace t[MAX_TRACES];
	traces_of("cancel_blocked", t, MAX_TRACES);
	struct thread_records tr;
	thread_records(t[0].path, 2, &tr);
	const struct weft_record *end = first_of(&tr, WEFT_EV_COND_WAIT_END);
	cr_assert_eq(end->args[3], ECANCELED);
	cr_assert_neq(end->args[2], 0, "the mutex is re-held (a sequence number)");
}

Test(shapes, cancel_in_read, .timeout = 60)
{
	static const uint8_t want[] = { WEFT_EV_SYSCALL_BEGIN, WEFT_EV_THREAD_EXIT };
	cancel_case("read", 2, want, 2, "read cancelled cleanup=1\n");
}

Test(shapes, cancel_in_sem_wait, .timeout = 60)
{
	static const uint8_t want[] = { WEFT_EV_SEM_WAIT_BEGIN, WEFT_EV_THREAD_EXIT };
	cancel_case("sem", 2, want, 2, "sem cancelled cleanup=1\n");
}

Test(shapes, cancel_in_join, .timeout = 60)
{
	/* T2 is the thread being joined, T3 the joiner that is cancelled. */
	static const uint8_t want[] = { WEFT_EV_JOIN_BEGIN, WEFT_EV_THREAD_EXIT };
	cancel_case("join", 3, want, 2, "join cancelled cleanup=1\n");
}

Test(shapes, cancel_in_nanosleep, .timeout = 60)
{
	static const uint8_t want[] = { WEFT_EV_SYSCALL_BEGIN, WEFT_EV_THREAD_EXIT };
	cancel_case("sleep", 2, want, 2, "sleep cancelled cleanup=1\n");
}

Test(shapes, asynchronous_cancel_in_compute_loop, .timeout = 60)
{
	/* The mutex taken before the loop is released by the cleanup
	 * handler, traced, before the exit. */
	static const uint8_t want[] = { WEFT_EV_MUTEX_ACQUIRE, WEFT_EV_MUTEX_UNLOCK,
					WEFT_EV_THREAD_EXIT };
	cancel_case("async", 2, want, 3, "async cancelled cleanup=1\nmutex free\n");
}

Test(shapes, asynchronous_cancel_between_traced_calls, .timeout = 60)
{
	struct run_result r;
	run_shape("cancel_blocked", (char *[]){ "toggle", NULL }, 1, &r);
	cr_assert_eq(r.status, 0);
	h_free(&r);
	struct trace t[MAX_TRACES];
	cr_assert_eq(traces_of("cancel_blocked", t, MAX_TRACES), 1);
	cr_assert_gt(t[0].counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 0);
	cr_assert_eq(t[0].counts.per_code[WEFT_EV_THREAD_EXIT], 1);
}

/* ---- destructors ---- */

Test(shapes, destructors_after_the_start_routine_are_traced, .timeout = 60)
{
	struct run_result r;
	run_shape("tls_dtor", NULL, 1, &r);
	cr_assert_eq(r.status, 0);
	cr_assert_str_eq(r.out, "log=tktktktk dtors=8\n");
	h_free(&r);
	struct trace t[MAX_TRACES];
	cr_assert_eq(traces_of("tls_dtor", t, MAX_TRACES), 1);
	cr_assert_eq(t[0].counts.per_code[WEFT_EV_MUTEX_ACQUIRE], 8);
	/* Each worker: the thread_local destructor's lock, then the key
	 * destructor's, then its exit. */
	static const uint8_t want[] = { WEFT_EV_MUTEX_ACQUIRE, WEFT_EV_MUTEX_UNLOCK,
					WEFT_EV_MUTEX_ACQUIRE, WEFT_EV_MUTEX_UNLOCK,
					WEFT_EV_THREAD_EXIT };
	for (uint32_t serial = 2; serial <= 5; serial++) {
		struct thread_records tr;
		thread_records(t[0].path, serial, &tr);
		assert_in_order(&tr, want, 5, "destructors");
	}
}
