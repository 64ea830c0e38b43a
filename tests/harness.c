/*
 * harness.c - integration test helpers (see harness.h).
 */
#include "harness.h"

#include "control.h"

#include <criterion/criterion.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

static const char *env_or_die(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v) {
		fprintf(stderr, "harness: %s is not set (run through meson test)\n", name);
		abort();
	}
	return v;
}

const char *h_preload(void) { return env_or_die("WEFT_TEST_PRELOAD"); }
const char *h_weft(void) { return env_or_die("WEFT_TEST_WEFT"); }

const char *h_program(const char *name)
{
	static __thread char path[4096];
	snprintf(path, sizeof path, "%s/%s", env_or_die("WEFT_TEST_PROGRAMS"), name);
	return path;
}

const char *h_tmpdir(void)
{
	static __thread char dir[256];
	if (!dir[0]) {
		const char *base = getenv("TMPDIR");
		snprintf(dir, sizeof dir, "%s/weft-test-XXXXXX", base && *base ? base : "/tmp");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

char *h_trace_path(const char *name)
{
	static __thread char ring[16][4096];
	static __thread unsigned next;
	char *p = ring[next++ % 16];
	snprintf(p, 4096, "%s/%s.trace", h_tmpdir(), name);
	return p;
}

static void append(char **buf, size_t *len, size_t *cap, const char *src, size_t n)
{
	if (*len + n + 1 > *cap) {
		*cap = (*len + n + 1) * 2;
		*buf = realloc(*buf, *cap);
	}
	memcpy(*buf + *len, src, n);
	*len += n;
	(*buf)[*len] = 0;
}

/* A wait status as h_run reports it. */
static int status_of(int st)
{
	return WIFSIGNALED(st) ? 128 + WTERMSIG(st) : WEXITSTATUS(st);
}

void h_run_start(char *const argv[], char *const env[], void (*in_child)(void),
		 struct h_bg *bg)
{
	int out[2], err[2];
	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY);
		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		for (size_t i = 0; env && env[i]; i++)
			putenv(env[i]);
		if (in_child)
			in_child();
		execvp(argv[0], argv);
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	bg->pid = pid;
	bg->out = out[0];
	bg->err = err[0];
}

void h_run_wait(struct h_bg *bg, struct run_result *res)
{
	size_t out_cap = 0, err_cap = 0;
	memset(res, 0, sizeof *res);
	append(&res->out, &res->out_len, &out_cap, "", 0);
	append(&res->err, &res->err_len, &err_cap, "", 0);
	struct pollfd fds[2] = { { bg->out, POLLIN, 0 }, { bg->err, POLLIN, 0 } };
	int open_fds = 2;
	while (open_fds) {
		if (poll(fds, 2, -1) < 0 && errno != EINTR)
			abort();
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !(fds[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char chunk[65536];
			ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
				open_fds--;
			} else if (i == 0) {
				append(&res->out, &res->out_len, &out_cap, chunk, (size_t)n);
			} else {
				append(&res->err, &res->err_len, &err_cap, chunk, (size_t)n);
			}
		}
	}
	int st;
	pid_t got;
	while ((got = waitpid(bg->pid, &st, 0)) < 0 && errno == EINTR)
		;
	cr_assert_eq(got, bg->pid, "waitpid %d: %s", bg->pid, strerror(errno));
	res->status = status_of(st);
}

void h_run(char *const argv[], char *const env[], struct run_result *res)
{
	struct h_bg bg;
	h_run_start(argv, env, NULL, &bg);
	h_run_wait(&bg, res);
}

void h_free(struct run_result *res)
{
	free(res->out);
	free(res->err);
	memset(res, 0, sizeof *res);
}

int h_walk(const char *path, h_record_fn fn, void *ctx, char *err, size_t errlen)
{
	struct weft_reader r;
	int rc = weft_reader_open(&r, path);
	if (rc == WEFT_READ_OK) {
		struct weft_batch b;
		while ((rc = weft_reader_next_batch(&r, &b)) == WEFT_READ_OK) {
			struct weft_cursor c;
			struct weft_record rec;
			weft_cursor_init(&c, &b);
			while ((rc = weft_cursor_next(&r, &c, &rec)) == WEFT_READ_OK)
				if (fn)
					fn(&b, &rec, ctx);
			if (rc != WEFT_READ_END)
				break;
		}
		if (rc == WEFT_READ_END)
			rc = WEFT_READ_OK;
	}
	if (err)
		snprintf(err, errlen, "%s", r.error);
	weft_reader_close(&r);
	return rc;
}

static void count_one(const struct weft_batch *b, const struct weft_record *rec,
		      void *ctx)
{
	struct h_counts *c = ctx;
	static __thread const struct weft_batch *last_batch;
	static __thread size_t last_offset = (size_t)-1;
	if (b->header.serial && b->header.generation < 16 &&
	    (b != last_batch || b->offset != last_offset))
		c->thread_batches[b->header.generation]++;
	last_batch = b;
	last_offset = b->offset;
	c->per_code[rec->code]++;
	c->events++;
	if (b->header.serial > c->threads)
		c->threads = b->header.serial;
	if (rec->code == WEFT_EV_TRACE_END)
		c->complete = 1;
	if (rec->code == WEFT_EV_LOST)
		c->lost += rec->args[0];
	if (rec->code == WEFT_EV_GEN_END && rec->args[0] < 16)
		c->gen_end_batches[rec->args[0]] = rec->args[1];
}

void h_count(const char *path, struct h_counts *c)
{
	memset(c, 0, sizeof *c);
	c->status = h_walk(path, count_one, c, c->error, sizeof c->error);
}

enum weft_verdict h_check(const char *path, struct weft_check_result *res)
{
	struct weft_reader r;
	memset(res, 0, sizeof *res);
	if (weft_reader_open(&r, path) != WEFT_READ_OK) {
		res->verdict = WEFT_CHECK_UNREADABLE;
		snprintf(res->error, sizeof res->error, "%s", r.error);
	} else {
		weft_check(&r, NULL, NULL, res);
	}
	weft_reader_close(&r);
	return res->verdict;
}

void h_assert_checks(const char *path)
{
	static __thread struct weft_check_result res;
	enum weft_verdict v = h_check(path, &res);
	cr_assert_eq(v, WEFT_CHECK_OK, "weft check rejects %s: %s %s", path, res.error,
		     res.note);
}

char *h_save(const char *name, const char *text, size_t len)
{
	char *path = h_trace_path(name);
	FILE *f = fopen(path, "w");
	cr_assert(f, "cannot create %s", path);
	cr_assert_eq(fwrite(text, 1, len, f), len);
	fclose(f);
	return path;
}

void h_python(const char *script, const char *a1, const char *a2,
	      const char *a3, char *line, size_t cap)
{
	char *argv[] = { "python3", "-c", (char *)script, (char *)a1, (char *)a2,
			 (char *)a3, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "python: %s", r.err);
	snprintf(line, cap, "%.*s", (int)strcspn(r.out, "\n"), r.out);
	h_free(&r);
}

int h_assert_each_checks(const char *prefix)
{
	DIR *dir = opendir(h_tmpdir());
	cr_assert(dir, "cannot list %s", h_tmpdir());
	char paths[16][4096];
	int n = 0;
	for (struct dirent *e; (e = readdir(dir)) && n < 16;)
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			snprintf(paths[n++], sizeof paths[0], "%s/%s", h_tmpdir(),
				 e->d_name);
	closedir(dir);
	for (int i = 0; i < n; i++)
		h_assert_checks(paths[i]);
	return n;
}

void h_spawn(char *const argv[], char *const env[], struct h_proc *p)
{
	int in[2], out[2];
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		abort();
	pid_t pid = fork();
	if (pid < 0)
		abort();
	if (pid == 0) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		for (size_t i = 0; env && env[i]; i++)
			putenv(env[i]);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	p->pid = pid;
	p->in = in[1];
	p->out = fdopen(out[0], "r");
	p->reaped = 0;
	p->status = -1;
}

int h_read_line(struct h_proc *p, char *buf, size_t cap)
{
	if (!fgets(buf, (int)cap, p->out))
		return 0;
	buf[strcspn(buf, "\n")] = 0;
	return 1;
}

void h_write_line(struct h_proc *p, const char *line)
{
	size_t n = strlen(line);
	if (write(p->in, line, n) != (ssize_t)n || write(p->in, "\n", 1) != 1)
		abort();
}

/* Waits for p to end (options 0) or looks (WNOHANG); records its status
 * once it has ended. */
static void reap(struct h_proc *p, int options)
{
	if (p->reaped)
		return;
	int st;
	pid_t got;
	while ((got = waitpid(p->pid, &st, options)) < 0 && errno == EINTR)
		;
	cr_assert_geq(got, 0, "waitpid %d: %s", p->pid, strerror(errno));
	if (got == p->pid) {
		p->reaped = 1;
		p->status = status_of(st);
	}
}

int h_still_running(struct h_proc *p)
{
	reap(p, WNOHANG);
	return !p->reaped;
}

int h_finish(struct h_proc *p)
{
	close(p->in);
	char buf[4096];
	while (fgets(buf, sizeof buf, p->out))
		;
	fclose(p->out);
	reap(p, 0);
	return p->status;
}

int h_control_tid(int pid)
{
	static __thread int cached_pid;
	static __thread pid_t cached_tid;
	if (cached_pid == pid && cached_tid)
		return cached_tid;
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", pid);
	DIR *d = opendir(path);
	pid_t tid = 0;
	struct dirent *e;
	while (d && !tid && (e = readdir(d))) {
		char comm_path[512], comm[64] = { 0 };
		snprintf(comm_path, sizeof comm_path, "%s/%s/comm", path, e->d_name);
		FILE *f = fopen(comm_path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof comm, f) && !strncmp(comm, WEFT_CONTROL_THREAD_NAME,
							    strlen(WEFT_CONTROL_THREAD_NAME)))
			tid = atoi(e->d_name);
		fclose(f);
	}
	if (d)
		closedir(d);
	cached_pid = pid;
	cached_tid = tid;
	return tid;
}

int h_request(int pid, int op)
{
	pid_t tid = h_control_tid(pid);
	if (!tid)
		return -1;
	int sig = weft_parse_signal(WEFT_DEFAULT_SIGNAL);
	siginfo_t info;
	memset(&info, 0, sizeof info);
	info.si_signo = sig;
	info.si_code = SI_QUEUE;
	/* No sender: the control thread acknowledges nobody. */
	info.si_pid = 0;
	info.si_uid = getuid();
	info.si_value.sival_int = (int)WEFT_REQUEST_MAGIC | op;
	return (int)syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, &info);
}

int h_reported_traces(const char *err, char paths[][4096], int max)
{
	for (const char *p = err; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *eol = p + strcspn(p, "\n");
		const char *one = strstr(p, " written to ");
		const char *many = strstr(p, " traces written");
		if (strncmp(p, "weft: ", 6))
			continue;
		if (many && many < eol) {
			char dir[4096] = "";
			const char *at = many + strlen(" traces written");
			if (!strncmp(at, " to ", 4)) {
				at += 4;
				size_t len = strcspn(at, " :");
				snprintf(dir, sizeof dir, "%.*s", (int)len, at);
			}
			const char *list = strstr(at, ": ");
			int n = 0;
			while (list && list < eol && n < max) {
				list += 2; /* ": " or ", " */
				const char *name_end = strstr(list, " (");
				if (!name_end || name_end > eol)
					break;
				snprintf(paths[n++], 4096, "%s%.*s", dir,
					 (int)(name_end - list), list);
				list = strchr(name_end, ')');
				if (list)
					list++;
			}
			return n;
		}
		if (one && one < eol && max > 0) {
			one += strlen(" written to ");
			snprintf(paths[0], 4096, "%.*s", (int)(eol - one), one);
			return 1;
		}
	}
	return 0;
}
