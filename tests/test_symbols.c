/*
 * test_symbols.c - the names readers give code and objects, with
 * tests/programs/sym_sites.c built three ways (with debug information,
 * without, stripped): each blocking site's function and file:line,
 * inlined frames included, as addr2line gives them for the same offset;
 * symbol table names without debug information; module+offset when
 * stripped; no names at all from a binary rebuilt since the trace; weft's
 * own frames nowhere; locks named by variable, member or creating site,
 * and selected by those names.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define MAX_BLOCKS 8

/* What a trace of sym_sites says about its code. */
struct seen {
	const char *program;          /* the path of the traced program */
	uint64_t bias, start, end;    /* its MODULE */
	uint64_t weft_start, weft_end; /* libweft.so's MODULE */
	char paths[64][512];          /* STRING ids of generation 1 */
	uint64_t block_stack[MAX_BLOCKS];
	uint64_t init_stack;          /* the MUTEX_INIT in queue_init */
	int nblocks, ninits;
	struct stack_rec {
		uint64_t id;
		uint32_t depth;
		uint64_t pcs[64];
	} stacks[256];
	int nstacks;
	uint64_t *all_pcs;            /* of every stack */
	int npcs;
};

static void see(const struct weft_batch *b, const struct weft_record *rec, void *ctx)
{
	(void)b;
	struct seen *s = ctx;
	switch (rec->code) {
	case WEFT_EV_STRING:
		if (rec->args[0] < 64)
			snprintf(s->paths[rec->args[0]], sizeof s->paths[0], "%.*s",
				 (int)rec->nbytes, (const char *)rec->bytes);
		break;
	case WEFT_EV_MODULE: {
		const char *path = rec->args[3] < 64 ? s->paths[rec->args[3]] : "";
		if (strcmp(path, s->program) == 0) {
			s->bias = rec->args[0];
			s->start = rec->args[1];
			s->end = rec->args[2];
		}
		if (strstr(path, "libweft.so")) {
			s->weft_start = rec->args[1];
			s->weft_end = rec->args[2];
		}
		break;
	}
	case WEFT_EV_MUTEX_BLOCK:
		if (s->nblocks < MAX_BLOCKS)
			s->block_stack[s->nblocks++] = rec->args[1];
		break;
	case WEFT_EV_MUTEX_INIT:
		/* main's stack lock first, then queue_init's */
		if (++s->ninits == 2)
			s->init_stack = rec->args[2];
		break;
	case WEFT_EV_STACK:
		if (s->nstacks < 256) {
			struct stack_rec *k = &s->stacks[s->nstacks++];
			k->id = rec->args[0];
			k->depth = rec->npcs;
			memcpy(k->pcs, rec->pcs, rec->npcs * sizeof rec->pcs[0]);
		}
		s->all_pcs = realloc(s->all_pcs, (s->npcs + rec->npcs) * sizeof *s->all_pcs);
		memcpy(s->all_pcs + s->npcs, rec->pcs, rec->npcs * sizeof rec->pcs[0]);
		s->npcs += (int)rec->npcs;
		break;
	}
}

/* The innermost pc of stack id (the trace has one generation). */
static uint64_t innermost(const struct seen *s, uint64_t id)
{
	for (int i = 0; i < s->nstacks; i++)
		if (s->stacks[i].id == id && s->stacks[i].depth)
			return s->stacks[i].pcs[0];
	cr_assert_fail("stack %lu is not defined", (unsigned long)id);
	return 0;
}

/* Runs program (a path) with stacks on into trace, and reads the trace. */
static void record(const char *program, const char *trace, struct seen *s)
{
	char preload[4200], output[4200];
	snprintf(preload, sizeof preload, "LD_PRELOAD=%s", h_preload());
	snprintf(output, sizeof output, "WEFT_OUTPUT=%s", trace);
	char *env[] = { preload, output, "WEFT_STACKS=1", NULL };
	char *argv[] = { (char *)program, NULL };
	struct run_result r;
	h_run(argv, env, &r);
	cr_assert_eq(r.status, 0, "%s: exit %d: %s", program, r.status, r.err);
	h_free(&r);
	h_assert_checks(trace);
	memset(s, 0, sizeof *s);
	s->program = program;
	char err[512];
	cr_assert_eq(h_walk(trace, see, s, err, sizeof err), WEFT_READ_OK, "%s", err);
	cr_assert_neq(s->end, 0, "no MODULE for %s", program);
	cr_assert_eq(s->nblocks, 4, "%d waits", s->nblocks);
	for (int i = 0; i < s->nblocks; i++) {
		uint64_t pc = innermost(s, s->block_stack[i]);
		cr_assert(pc >= s->start && pc < s->end,
			  "wait %d: innermost frame 0x%lx is not the program's", i,
			  (unsigned long)pc);
	}
}

/* Runs `weft ARGS... trace`; returns its stdout (to be freed), its stderr
 * in *err when err is not NULL. */
static char *weft(const char *a, const char *b, const char *c, const char *trace,
		  char **err)
{
	char *argv[8] = { (char *)h_weft() };
	int n = 1;
	if (a) argv[n++] = (char *)a;
	if (b) argv[n++] = (char *)b;
	if (c) argv[n++] = (char *)c;
	argv[n++] = (char *)trace;
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "weft %s: exit %d: %s", a, r.status, r.err);
	if (err)
		*err = strdup(r.err);
	else
		cr_assert_str_eq(r.err, "", "weft %s: %s", a, r.err);
	char *out = strdup(r.out);
	h_free(&r);
	return out;
}

/* addr2line's frames for the code at return address pc of s's program:
 * "function (file:line)" (or "function" without a line) joined by " < ",
 * innermost first; *nframes gets how many. */
static void addr2line_frames(const struct seen *s, uint64_t pc, char *buf, size_t cap,
			     int *nframes)
{
	char addr[32];
	snprintf(addr, sizeof addr, "0x%lx", (unsigned long)(pc - 1 - s->bias));
	char *argv[] = { "addr2line", "-f", "-i", "-C", "-e", (char *)s->program, addr,
			 NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "addr2line: %s", r.err);
	buf[0] = 0;
	*nframes = 0;
	char *save = NULL;
	for (char *fn = strtok_r(r.out, "\n", &save); fn; fn = strtok_r(NULL, "\n", &save)) {
		char *loc = strtok_r(NULL, "\n", &save);
		cr_assert(loc, "addr2line: %s", r.out);
		char *disc = strstr(loc, " (discriminator");
		if (disc)
			*disc = 0;
		const char *file = strrchr(loc, '/') ? strrchr(loc, '/') + 1 : loc;
		size_t len = strlen(buf);
		if (strncmp(file, "??", 2) == 0 || strstr(file, ":0") || strstr(file, ":?"))
			snprintf(buf + len, cap - len, "%s%s", len ? " < " : "", fn);
		else
			snprintf(buf + len, cap - len, "%s%s (%s)", len ? " < " : "", fn, file);
		(*nframes)++;
	}
	h_free(&r);
}

static void assert_no_weft_frame(const struct seen *s, const char *dump)
{
	cr_assert_neq(s->weft_end, 0, "no MODULE for libweft.so");
	for (int i = 0; i < s->npcs; i++)
		cr_assert(s->all_pcs[i] < s->weft_start || s->all_pcs[i] >= s->weft_end,
			  "a stack holds weft's own pc 0x%lx", (unsigned long)s->all_pcs[i]);
	/* frames are the dump's lines that start with "#N" */
	for (const char *line = dump; line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		const char *end = strchr(line, '\n');
		size_t len = end ? (size_t)(end - line) : strlen(line);
		if (strncmp(line, "        #", 9) == 0)
			cr_assert(!memmem(line, len, "libweft", 7), "dump shows weft's frame %.*s",
				  (int)len, line);
	}
}

Test(symbols, debug_information_names_function_line_and_inlined_frames, .timeout = 120)
{
	const char *prog = h_program("sym_sites_g");
	char *trace = h_trace_path("g");
	struct seen s;
	record(prog, trace, &s);
	char *dump = weft("dump", NULL, NULL, trace, NULL);
	char *stats = weft("stats", "--json", NULL, trace, NULL);
	char *order = weft("lockorder", NULL, NULL, trace, NULL);
	char all[8192] = "";
	for (int i = 0; i < s.nblocks; i++) {
		char expected[2048];
		int n;
		addr2line_frames(&s, innermost(&s, s.block_stack[i]), expected,
				 sizeof expected, &n);
		size_t at = strlen(all);
		snprintf(all + at, sizeof all - at, "%s\n", expected);
		cr_assert(strstr(expected, "sym_sites.c:") || strstr(expected, "sym_template.cc:"),
			  "addr2line gives no line: %s", expected);
		/* The frames of this address, in stats' and lockorder's form. */
		cr_assert(strstr(stats, expected), "stats lacks \"%s\":\n%s", expected, stats);
		if (strstr(expected, "block_static") || strstr(expected, "block_inline"))
			cr_assert(strstr(order, expected), "lockorder lacks \"%s\":\n%s",
				  expected, order);
		/* dump: one line per frame, the inlined one marked */
		char *save = NULL;
		for (char *f = strtok_r(expected, "<", &save); f; f = strtok_r(NULL, "<", &save)) {
			while (*f == ' ')
				f++;
			size_t len = strlen(f);
			while (len && f[len - 1] == ' ')
				f[--len] = 0;
			cr_assert(strstr(dump, f), "dump lacks \"%s\"", f);
		}
		cr_assert(n >= 1);
	}
	/* The program is what the test means it to be: addr2line sees each
	 * kind of code at one wait. */
	const char *shapes[] = { "\nblock_static (sym_sites.c:",
				 " (sym_sites.c:" , "block_inline (sym_sites.c:",
				 " < inline_caller (sym_sites.c:", "\nblock_plain (sym_sites.c:",
				 "\nvoid block_in<int>(pthread_mutex_t*, int) (sym_template.cc:" };
	char framed[8200];
	snprintf(framed, sizeof framed, "\n%s", all);
	for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++)
		cr_assert(strstr(framed, shapes[k]), "addr2line: no %s in\n%s", shapes[k], all);
	cr_assert(strstr(dump, "block_inline (sym_sites.c:") &&
		  strstr(strstr(dump, "block_inline (sym_sites.c:"), "(inlined)\n"),
		  "the inlined frame is not marked:\n%s", dump);
	assert_no_weft_frame(&s, dump);
	free(dump);
	free(stats);
	free(order);
	free(s.all_pcs);
}

Test(symbols, without_debug_information_names_come_from_the_symbol_table,
     .timeout = 120)
{
	const char *prog = h_program("sym_sites_nodebug");
	char *trace = h_trace_path("nodebug");
	struct seen s;
	record(prog, trace, &s);
	char *dump = weft("dump", NULL, NULL, trace, NULL);
	char *stats = weft("stats", NULL, NULL, trace, NULL);
	for (int i = 0; i < s.nblocks; i++) {
		char expected[2048], want[2100];
		int n;
		addr2line_frames(&s, innermost(&s, s.block_stack[i]), expected,
				 sizeof expected, &n);
		cr_assert_eq(n, 1, "addr2line sees inlining without debug information");
		snprintf(want, sizeof want, "%s+0x", expected);
		cr_assert(strstr(dump, want), "dump lacks \"%s\":\n%s", want, dump);
	}
	cr_assert(strstr(dump, "block_static+0x") && strstr(dump, "(sym_sites_nodebug)"));
	cr_assert_null(strstr(dump, "sym_sites.c:"), "a line without debug information");
	cr_assert_null(strstr(dump, "(inlined)"), "inlined frames without debug information");
	cr_assert(strstr(stats, "\nqm "), "%s", stats);
	cr_assert(strstr(stats, "\npool+0x40 "), "%s", stats);
	cr_assert(strstr(stats, "\nfrom queue_init+0x"), "%s", stats);
	assert_no_weft_frame(&s, dump);
	free(dump);
	free(stats);
	free(s.all_pcs);
}

Test(symbols, a_stripped_program_shows_module_and_offset, .timeout = 120)
{
	const char *prog = h_program("sym_sites_stripped");
	char *trace = h_trace_path("stripped");
	struct seen s;
	record(prog, trace, &s);
	char *dump = weft("dump", NULL, NULL, trace, NULL);
	for (int i = 0; i < s.nblocks; i++) {
		char want[128];
		uint64_t pc = innermost(&s, s.block_stack[i]);
		snprintf(want, sizeof want, "0x%lx sym_sites_stripped+0x%lx\n",
			 (unsigned long)pc, (unsigned long)(pc - s.bias));
		cr_assert(strstr(dump, want), "dump lacks \"%s\"", want);
	}
	const char *names[] = { "block_static", "inline_caller", "block_plain",
				"block_in", "worker", "queue_init", "(qm)", "pool" };
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		cr_assert_null(strstr(dump, names[i]), "a stripped program names %s", names[i]);
	assert_no_weft_frame(&s, dump);
	free(dump);
	free(s.all_pcs);
}

static void copy_file(const char *from, const char *to)
{
	char *argv[] = { "cp", (char *)from, (char *)to, NULL };
	struct run_result r;
	h_run(argv, NULL, &r);
	cr_assert_eq(r.status, 0, "cp: %s", r.err);
	h_free(&r);
}

Test(symbols, a_program_rebuilt_since_the_trace_is_not_named, .timeout = 120)
{
	char prog[4200];
	snprintf(prog, sizeof prog, "%s/rebuilt_prog", h_tmpdir());
	copy_file(h_program("sym_sites_g"), prog);
	char *trace = h_trace_path("rebuilt");
	struct seen s;
	record(prog, trace, &s);
	/* The same path, another build (another build-id). */
	unlink(prog);
	copy_file(h_program("sym_sites_nodebug"), prog);
	char *err;
	char *stats = weft("stats", NULL, NULL, trace, &err);
	const char *warning = "rebuilt since the trace (build-id differs)";
	char *first = strstr(err, warning);
	cr_assert(first, "no warning: %s", err);
	cr_assert_null(strstr(first + 1, warning), "warned twice: %s", err);
	cr_assert(strstr(err, prog), "the warning does not name the file: %s", err);
	cr_assert_null(strstr(stats, "block_"), "names from the rebuilt binary:\n%s", stats);
	cr_assert_null(strstr(stats, "pool"), "names from the rebuilt binary:\n%s", stats);
	cr_assert(strstr(stats, "rebuilt_prog+0x"), "%s", stats);
	free(err);
	free(stats);
	free(s.all_pcs);
}

/* The line of the code at return address pc of s's program (innermost
 * frame), from addr2line. */
static void code_line(const struct seen *s, uint64_t pc, char *buf, size_t cap)
{
	int n;
	addr2line_frames(s, pc, buf, cap, &n);
	char *cut = strstr(buf, " < ");
	if (cut)
		*cut = 0;
}

Test(symbols, locks_are_named_by_variable_member_or_creating_site, .timeout = 120)
{
	const char *prog = h_program("sym_sites_g");
	char *trace = h_trace_path("names");
	struct seen s;
	record(prog, trace, &s);
	cr_assert(s.init_stack, "no MUTEX_INIT in queue_init");
	char *json = weft("stats", "--json", NULL, trace, NULL);
	char *text = weft("stats", NULL, NULL, trace, NULL);
	char *order = weft("lockorder", NULL, NULL, trace, NULL);
	/* global, member of a global struct */
	cr_assert(strstr(json, "\"name\":\"qm\""), "%s", json);
	cr_assert(strstr(json, "\"name\":\"pool.lock\""), "%s", json);
	cr_assert(strstr(json, "\"address\":\"0x"), "%s", json);
	/* on the heap: where queue_init created it */
	char site[512], want[600];
	code_line(&s, innermost(&s, s.init_stack), site, sizeof site);
	cr_assert(strncmp(site, "queue_init (sym_sites.c:", 24) == 0, "%s", site);
	snprintf(want, sizeof want, "\"name\":\"from %s\"", site);
	cr_assert(strstr(json, want), "no %s in\n%s", want, json);
	/* on main's stack: where main created it */
	cr_assert(strstr(json, "\"name\":\"from main (sym_sites.c:"), "%s", json);
	cr_assert(strstr(text, "Costliest lock: mutex "), "%s", text);
	cr_assert(strstr(text, "\nqm "), "%s", text);
	cr_assert(strstr(order, "mutex qm -> mutex pool.lock") ||
		  strstr(order, "mutex pool.lock -> mutex qm"), "%s", order);
	free(json);
	free(text);
	free(order);
	free(s.all_pcs);
}

Test(symbols, lock_option_takes_names, .timeout = 120)
{
	char *trace = h_trace_path("option");
	struct seen s;
	record(h_program("sym_sites_g"), trace, &s);
	char *qm = weft("stats", "--lock", "qm", trace, NULL);
	cr_assert(strstr(qm, "\nqm "), "%s", qm);
	cr_assert_null(strstr(qm, "pool.lock"), "%s", qm);
	cr_assert_null(strstr(qm, "from "), "%s", qm);
	char *pool = weft("stats", "--lock", "pool", trace, NULL);
	cr_assert(strstr(pool, "\npool.lock "), "%s", pool);
	cr_assert_null(strstr(pool, "\nqm "), "%s", pool);
	char *queue = weft("stats", "--lock", "queue_init", trace, NULL);
	cr_assert(strstr(queue, "\nfrom queue_init (sym_sites.c:"), "%s", queue);
	cr_assert_null(strstr(queue, "\nqm "), "%s", queue);
	free(qm);
	free(pool);
	free(queue);
	free(s.all_pcs);
}
