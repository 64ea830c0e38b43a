/*
 * test_spec.c - format/SPEC.md against the tables the code is built from:
 * its event table (code, name, timed, each argument's name and kind) says
 * what events.def says, and its syscall and thread state tables what
 * syscalls.def and states.def say, entry for entry.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "wire.h"

#define MAX_SPEC (256 * 1024)

/* SPEC.md, found beside this file's directory (the build compiles it by
 * a path relative to where it runs the tests). */
static char *read_spec(void)
{
	char path[4096];
	const char *slash = strrchr(__FILE__, '/');
	snprintf(path, sizeof path, "%.*s/../format/SPEC.md",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	char *text = calloc(1, MAX_SPEC + 1);
	cr_assert(text);
	size_t n = fread(text, 1, MAX_SPEC, f);
	fclose(f);
	cr_assert_lt(n, MAX_SPEC, "SPEC.md is larger than the test expects");
	return text;
}

/* The text of the section whose heading line starts with heading, up to
 * the next heading (terminated in place). */
static char *section(char *text, const char *heading)
{
	char *s = strstr(text, heading);
	cr_assert(s, "SPEC.md has no \"%s\"", heading);
	char *end = strstr(s + strlen(heading), "\n#");
	if (end)
		*end = 0;
	return s;
}

/* Splits a table row "| a | b | c |" into its cells (trimmed, backquotes
 * removed, in place); returns how many, 0 for a line that is no row. */
static int cells(char *line, char **cell, int max)
{
	if (line[0] != '|')
		return 0;
	int n = 0;
	for (char *p = line + 1; *p && n < max;) {
		char *bar = strchr(p, '|');
		if (!bar)
			break;
		*bar = 0;
		char *w = p, *out = p;
		for (; *w; w++)
			if (*w != '`')
				*out++ = *w;
		*out = 0;
		while (*p == ' ')
			p++;
		for (out = p + strlen(p); out > p && out[-1] == ' ';)
			*--out = 0;
		cell[n++] = p;
		p = bar + 1;
	}
	return n;
}

/* Calls row(cells, n) for each row of the table in text, past its header
 * and its |---| line. */
static void each_row(char *text, void (*row)(char **cell, int n))
{
	char *save = NULL;
	int past_rule = 0;
	for (char *line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *cell[16];
		int n = cells(line, cell, 16);
		if (n && !strncmp(cell[0], "---", 3))
			past_rule = 1;
		else if (n && past_rule)
			row(cell, n);
	}
}

static int events_seen[256];

/* "state t, syscall y, object o, since i" -> names "state,syscall,..."
 * and kinds "tyoi". */
static void split_arguments(const char *spec, char *names, char *kinds)
{
	*names = *kinds = 0;
	if (!strcmp(spec, "(none)"))
		return;
	char copy[512];
	snprintf(copy, sizeof copy, "%s", spec);
	char *save = NULL;
	for (char *arg = strtok_r(copy, ",", &save); arg; arg = strtok_r(NULL, ",", &save)) {
		char name[64], kind[8];
		cr_assert_eq(sscanf(arg, " %63s %7s", name, kind), 2, "argument \"%s\"", arg);
		cr_assert_eq(strlen(kind), 1, "argument \"%s\"", arg);
		if (*names)
			strcat(names, ",");
		strcat(names, name);
		strcat(kinds, kind);
	}
}

static void event_row(char **cell, int n)
{
	cr_assert_eq(n, 4, "event table row with %d cells", n);
	unsigned code;
	cr_assert_eq(sscanf(cell[0], "0x%x", &code), 1, "event code \"%s\"", cell[0]);
	cr_assert_lt(code, 256);
	const struct weft_event_desc *d = &weft_events[code];
	cr_assert(d->name, "SPEC.md has code 0x%02x, events.def does not", code);
	cr_assert_str_eq(cell[1], d->name, "the name of 0x%02x", code);
	cr_assert_str_eq(cell[2], d->timed ? "yes" : "no", "whether %s is timed", d->name);
	char names[512], kinds[64];
	split_arguments(cell[3], names, kinds);
	cr_assert_str_eq(names, d->names, "the argument names of %s", d->name);
	cr_assert_str_eq(kinds, d->kinds, "the argument kinds of %s", d->name);
	cr_assert_not(events_seen[code], "0x%02x twice in SPEC.md", code);
	events_seen[code] = 1;
}

Test(spec, event_table_matches_events_def)
{
	char *text = read_spec();
	each_row(section(text, "## 6. Event table"), event_row);
	for (int code = 0; code < 256; code++)
		cr_assert(!weft_events[code].name || events_seen[code],
			  "%s (0x%02x) is missing from SPEC.md", weft_events[code].name, code);
	free(text);
}

static int syscalls_seen[256];

/* What SPEC.md calls each ARG and CLASS of syscalls.def. */
#define WEFT_SYSCALL(name, id, arg, class)
static const char *const arg_words[] = {
#define WEFT_SYSCALL_ARG(arg, words) [WEFT_SYSARG_##arg] = words,
#include "syscalls.def"
#undef WEFT_SYSCALL_ARG
};
static const char *const class_words[] = {
#define WEFT_SYSCALL_CLASS(class, word) [WEFT_SYSCLASS_##class] = word,
#include "syscalls.def"
#undef WEFT_SYSCALL_CLASS
};
#undef WEFT_SYSCALL

/* A row: id, name, what the argument holds, class. */
static void syscall_row(char **cell, int n)
{
	cr_assert_eq(n, 4, "syscall table row with %d cells", n);
	unsigned id = (unsigned)atoi(cell[0]);
	cr_assert(id > 0 && id < 256, "syscall id \"%s\"", cell[0]);
	const char *name = weft_syscall_name(id);
	cr_assert(name, "SPEC.md has syscall id %u, syscalls.def does not", id);
	cr_assert_str_eq(cell[1], name, "the name of syscall id %u", id);
	cr_assert_str_eq(cell[2], arg_words[weft_syscall_arg(id)], "the argument of %s", name);
	cr_assert(weft_syscall_class(id) != WEFT_SYSCLASS_UNKNOWN, "the class of %s", name);
	cr_assert_str_eq(cell[3], class_words[weft_syscall_class(id)], "the class of %s", name);
	cr_assert_not(syscalls_seen[id], "syscall id %u twice in SPEC.md", id);
	syscalls_seen[id] = 1;
}

Test(spec, syscall_table_matches_syscalls_def)
{
	char *text = read_spec();
	each_row(section(text, "### 8.1 Syscall ids"), syscall_row);
	for (unsigned id = 0; id < 256; id++)
		cr_assert(!weft_syscall_name(id) || syscalls_seen[id],
			  "syscall %s (%u) is missing from SPEC.md", weft_syscall_name(id), id);
	free(text);
}

static int states_seen[256];

static void state_row(char **cell, int n)
{
	cr_assert_eq(n, 3, "state table row with %d cells", n);
	unsigned id = (unsigned)atoi(cell[0]);
	cr_assert(id > 0 && id < 256, "state id \"%s\"", cell[0]);
	const char *name = weft_state_name(id);
	cr_assert(name, "SPEC.md has state id %u, states.def does not", id);
	cr_assert_str_eq(cell[1], name, "the name of state id %u", id);
	states_seen[id] = 1;
}

Test(spec, state_table_matches_states_def)
{
	char *text = read_spec();
	each_row(section(text, "### 8.2 Thread state ids"), state_row);
	for (unsigned id = 0; id < 256; id++)
		cr_assert(!weft_state_name(id) || states_seen[id],
			  "state %s (%u) is missing from SPEC.md", weft_state_name(id), id);
	free(text);
}

/* The fuzzer's dictionary (tests/fuzz/trace.dict) offers every event code
 * under its name, and the current format version. */
Test(spec, fuzz_dictionary_has_every_event_code)
{
	char path[4096], line[256];
	const char *slash = strrchr(__FILE__, '/');
	snprintf(path, sizeof path, "%.*s/fuzz/trace.dict",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	int seen[256] = { 0 }, version = 0;
	while (fgets(line, sizeof line, f)) {
		char name[64];
		unsigned code;
		if (sscanf(line, "version=\"\\x%x\\x00\\x00\\x00\"", &code) == 1)
			version = (int)code;
		else if (sscanf(line, "%63[a-z_]=\"\\x%x\"", name, &code) == 2 && code < 256 &&
			 weft_events[code].name && strcasecmp(name, weft_events[code].name) == 0)
			seen[code] = 1;
	}
	fclose(f);
	cr_assert_eq(version, WEFT_FORMAT_VERSION, "the dictionary's format version");
	for (int code = 0; code < 256; code++)
		cr_assert(!weft_events[code].name || seen[code],
			  "%s (0x%02x) is missing from trace.dict", weft_events[code].name, code);
}
