/*
 * traces.c - the traces a reading command answers for together (see
 * traces.h).
 */
#include "traces.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common.h"
#include "grow.h"
#include "text.h"
#include "wire.h"

struct names {
	char **v;
	unsigned n, cap;
};

static void add_name(struct names *ns, char *path)
{
	WEFT_GROW(ns->v, ns->n, ns->cap, 16);
	ns->v[ns->n++] = path;
}

/* Whether the file at path starts with the trace magic. */
static int is_trace(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return 0;
	char magic[WEFT_MAGIC_LEN];
	struct stat st;
	int yes = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		  read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
		  !memcmp(magic, WEFT_MAGIC, WEFT_MAGIC_LEN);
	close(fd);
	return yes;
}

/* Every trace in dir, by name; 0, or -1 having said why. */
static int add_directory(struct names *ns, const char *dir, const char *cmd)
{
	struct dirent **entries;
	int n = scandir(dir, &entries, NULL, alphasort);
	if (n < 0) {
		fprintf(stderr, "weft %s: %s: %s\n", cmd, dir, strerror(errno));
		return -1;
	}
	unsigned before = ns->n;
	for (int i = 0; i < n; i++) {
		size_t len = strlen(dir) + strlen(entries[i]->d_name) + 2;
		char *path = malloc(len);
		if (!path)
			abort();
		snprintf(path, len, "%s%s%s", dir, dir[strlen(dir) - 1] == '/' ? "" : "/",
			 entries[i]->d_name);
		if (entries[i]->d_name[0] != '.' && is_trace(path))
			add_name(ns, path);
		else
			free(path);
		free(entries[i]);
	}
	free(entries);
	if (ns->n == before) {
		fprintf(stderr, "weft %s: %s: no weft trace in this directory\n", cmd, dir);
		return -1;
	}
	return 0;
}

/* The trace set->list[i] came from: the image its process ran before it
 * executed this one (same pid, began earlier), else the latest trace of
 * its parent pid begun before it; -1 when the set has neither. */
static int find_parent(const struct trace_set *set, unsigned i)
{
	const struct trace_input *me = &set->list[i];
	int best = -1, same_pid = 0;
	for (unsigned j = 0; j < set->n; j++) {
		const struct trace_input *o = &set->list[j];
		if (j == i || (o->offset_ns > me->offset_ns ||
			       (o->offset_ns == me->offset_ns && j > i)))
			continue;
		int same = o->proc.pid == me->proc.pid;
		if (!same && o->proc.pid != me->proc.ppid)
			continue;
		if (best < 0 || same > same_pid ||
		    (same == same_pid && o->offset_ns >= set->list[best].offset_ns)) {
			best = (int)j;
			same_pid = same;
		}
	}
	return best;
}

/* Appends to out, at depth, i and then its children, by when they began;
 * place[i] is where i went. */
static void visit(const struct trace_set *set, int i, unsigned depth,
		  const int *parent, struct trace_input *out, int *place, unsigned *n)
{
	place[i] = (int)*n;
	out[*n] = set->list[i];
	out[*n].depth = depth;
	(*n)++;
	for (unsigned j = 0; j < set->n; j++)
		if (parent[j] == i)
			visit(set, (int)j, depth + 1, parent, out, place, n);
}

static int by_start(const void *a, const void *b)
{
	const struct trace_input *x = a, *y = b;
	if (x->offset_ns != y->offset_ns)
		return x->offset_ns < y->offset_ns ? -1 : 1;
	return x->proc.pid < y->proc.pid ? -1 : x->proc.pid > y->proc.pid;
}

/* Sorts set->list into tree order and links each trace to its parent.
 * (A parent began before its child, so following parents ends.) */
static void order_as_tree(struct trace_set *set)
{
	qsort(set->list, set->n, sizeof *set->list, by_start);
	size_t n_or_1 = set->n ? set->n : 1;
	int *parent = malloc(sizeof *parent * n_or_1);
	int *place = malloc(sizeof *place * n_or_1);
	struct trace_input *out = malloc(sizeof *out * n_or_1);
	if (!parent || !place || !out)
		abort();
	for (unsigned i = 0; i < set->n; i++)
		parent[i] = find_parent(set, i);
	unsigned n = 0;
	for (unsigned i = 0; i < set->n; i++)
		if (parent[i] < 0)
			visit(set, (int)i, 0, parent, out, place, &n);
	for (unsigned i = 0; i < set->n; i++)
		out[place[i]].parent = parent[i] < 0 ? -1 : place[parent[i]];
	free(set->list);
	set->list = out;
	free(parent);
	free(place);
}

char **trace_paths(char **paths, int npaths, const char *cmd, unsigned *n,
		   int *status, int *dirs)
{
	struct names ns = { 0 };
	*dirs = 0;
	for (int i = 0; i < npaths; i++) {
		struct stat st;
		if (stat(paths[i], &st) == 0 && S_ISDIR(st.st_mode)) {
			*dirs = 1;
			if (add_directory(&ns, paths[i], cmd) < 0)
				*status = weft_check_exit(*status, WEFT_EXIT_USAGE);
		} else {
			char *copy = strdup(paths[i]);
			if (!copy)
				abort();
			add_name(&ns, copy);
		}
	}
	*n = ns.n;
	return ns.v;
}

int traces_open(struct trace_set *set, char **paths, int npaths, const char *cmd)
{
	memset(set, 0, sizeof *set);
	if (npaths < 1) {
		fprintf(stderr, "weft %s: no trace file given\n", cmd);
		return WEFT_EXIT_USAGE;
	}
	struct names ns = { 0 };
	int dirs;
	ns.v = trace_paths(paths, npaths, cmd, &ns.n, &set->status, &dirs);
	/* weft stats and lockorder keep every trace open until their answer
	 * is printed: a big build's thousands need more descriptors than the
	 * usual soft limit. */
	struct rlimit nofile;
	if (getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_cur < nofile.rlim_max &&
	    nofile.rlim_cur < ns.n + 64) {
		nofile.rlim_cur = nofile.rlim_max;
		setrlimit(RLIMIT_NOFILE, &nofile);
	}
	set->several = npaths > 1 || dirs;
	set->list = calloc(ns.n ? ns.n : 1, sizeof *set->list);
	if (!set->list)
		abort();
	uint64_t earliest = UINT64_MAX;
	for (unsigned i = 0; i < ns.n; i++) {
		struct trace_input *t = &set->list[set->n];
		struct weft_reader r;
		int st = weft_open_trace(&r, ns.v[i], cmd);
		if (st) {
			set->status = weft_check_exit(set->status, st);
			free(ns.v[i]);
			continue;
		}
		t->path = ns.v[i];
		t->header = r.header;
		weft_process_find(&r, &t->proc);
		weft_reader_close(&r);
		if (t->header.wallclock_ns < earliest)
			earliest = t->header.wallclock_ns;
		set->n++;
	}
	free(ns.v);
	for (unsigned i = 0; i < set->n; i++)
		set->list[i].offset_ns = (int64_t)(set->list[i].header.wallclock_ns -
						   earliest);
	order_as_tree(set);
	return 0;
}

void traces_free(struct trace_set *set)
{
	for (unsigned i = 0; i < set->n; i++)
		free(set->list[i].path);
	free(set->list);
	memset(set, 0, sizeof *set);
}

struct timeline *trace_timeline(struct trace_set *set, struct trace_input *t,
				unsigned jobs, const char *cmd)
{
	struct weft_reader r;
	int st = weft_open_trace(&r, t->path, cmd);
	if (st) {
		set->status = weft_check_exit(set->status, st);
		return NULL;
	}
	struct timeline *tl = tl_new(&r);
	tl_set_jobs(tl, jobs);
	return tl;
}

void trace_title(const struct trace_input *t, char *buf, size_t cap)
{
	/* A title is a line: a compiler's or linker's command line of
	 * several kilobytes is cut (JSON has it whole). */
	enum { TITLE_COMMAND_MAX = 120 };
	char command[2048];
	weft_process_command(&t->proc, command, sizeof command);
	int cut = strlen(command) > TITLE_COMMAND_MAX;
	snprintf(buf, cap, "pid %" PRIu64 ", parent %" PRIu64 ": %.*s%s", t->proc.pid,
		 t->proc.ppid, (int)TITLE_COMMAND_MAX, command, cut ? "..." : "");
}

void trace_json_process(FILE *out, const struct trace_set *set,
			const struct trace_input *t)
{
	const struct weft_process *p = &t->proc;
	fprintf(out, "{\"pid\":%" PRIu64 ",\"ppid\":%" PRIu64 ",\"exe\":", p->pid,
		p->ppid);
	weft_json_string_or_null(out, p->recorded ? p->exe : NULL);
	fputs(",\"argv\":[", out);
	for (uint32_t i = 0; i < p->nargs; i++) {
		fputs(i ? "," : "", out);
		weft_json_string(out, weft_process_arg(p, i));
	}
	fprintf(out, "],\"argc\":%" PRIu64 ",\"cut\":%s,\"recorded\":%s,"
		"\"depth\":%u,\"file\":", p->argc, p->cut ? "true" : "false",
		p->recorded ? "true" : "false", t->depth);
	weft_json_string(out, t->path);
	fputs(",\"parent_file\":", out);
	weft_json_string_or_null(out, t->parent < 0 ? NULL : set->list[t->parent].path);
	fputc('}', out);
}

int trace_thread_arg(const char *arg, uint64_t *pid, const char **thread)
{
	*pid = 0;
	*thread = arg;
	size_t digits = strspn(arg, "0123456789");
	if (digits == 0 || arg[digits] != ':' || !arg[digits + 1])
		return 0;
	*pid = strtoull(arg, NULL, 10);
	*thread = arg + digits + 1;
	return *pid ? 0 : -1;
}
