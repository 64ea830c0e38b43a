/*
 * test_spec.c - format/SPEC.md against the tables the code is built from:
 * its event table (code, name, timed, each argument's name and kind) says
 * what events.def says, its compact forms what compact.def says, and its
 * syscall and thread state tables what syscalls.def and states.def say,
 * entry for entry; its worked example is the bytes the encoder writes and
 * a valid trace.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "check.h"
#include "reader.h"
#include "record.h"

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
 * under its name, a code byte of every compact form, and the current
 * format version. */
Test(spec, fuzz_dictionary_has_every_event_code)
{
	char path[4096], line[256];
	const char *slash = strrchr(__FILE__, '/');
	snprintf(path, sizeof path, "%.*s/fuzz/trace.dict",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	FILE *f = fopen(path, "r");
	cr_assert(f, "cannot open %s", path);
	int seen[256] = { 0 }, forms_seen[WEFT_COMPACT_FORMS] = { 0 }, version = 0;
	while (fgets(line, sizeof line, f)) {
		char name[64];
		unsigned code;
		unsigned form;
		if (sscanf(line, "version=\"\\x%x\\x00\\x00\\x00\"", &code) == 1)
			version = (int)code;
		else if (sscanf(line, "form_%u_%63[a-z_]=\"\\x%x\"", &form, name, &code) == 3 &&
			 form < WEFT_COMPACT_FORMS && code >= WEFT_COMPACT_BIT &&
			 ((code >> 3) & 15) == form && weft_compact_forms[form].code &&
			 !strcasecmp(name, weft_events[weft_compact_forms[form].code].name))
			forms_seen[form] = 1;
		else if (sscanf(line, "%63[a-z_]=\"\\x%x\"", name, &code) == 2 && code < 256 &&
			 weft_events[code].name && strcasecmp(name, weft_events[code].name) == 0)
			seen[code] = 1;
	}
	fclose(f);
	cr_assert_eq(version, WEFT_FORMAT_VERSION, "the dictionary's format version");
	for (int code = 0; code < 256; code++)
		cr_assert(!weft_events[code].name || seen[code],
			  "%s (0x%02x) is missing from trace.dict", weft_events[code].name, code);
	for (int form = 0; form < WEFT_COMPACT_FORMS; form++)
		cr_assert(!weft_compact_forms[form].code || forms_seen[form],
			  "compact form %d is missing from trace.dict", form);
}

static int forms_seen[WEFT_COMPACT_FORMS];

/* A row: form, its code bytes, its event, its pattern. */
static void form_row(char **cell, int n)
{
	cr_assert_eq(n, 4, "compact form row with %d cells", n);
	unsigned form = (unsigned)atoi(cell[0]), first, last;
	cr_assert_lt(form, WEFT_COMPACT_FORMS, "form \"%s\"", cell[0]);
	const struct weft_compact_form *f = &weft_compact_forms[form];
	cr_assert(f->code, "SPEC.md has compact form %u, compact.def does not", form);
	cr_assert_eq(sscanf(cell[1], "0x%x%*[^0]0x%x", &first, &last), 2,
		     "the code bytes of form %u", form);
	cr_assert_eq(first, weft_compact_code(form, 0), "the first code of form %u", form);
	cr_assert_eq(last, weft_compact_code(form, WEFT_OBJECT_TABLE - 1),
		     "the last code of form %u", form);
	cr_assert_str_eq(cell[2], weft_events[f->code].name, "the event of form %u", form);
	cr_assert_str_eq(cell[3], f->pattern, "the pattern of form %u", form);
	cr_assert_not(forms_seen[form], "form %u twice in SPEC.md", form);
	forms_seen[form] = 1;
}

Test(spec, compact_forms_match_compact_def)
{
	char *text = read_spec();
	each_row(section(text, "The forms (`format/compact.def`):"), form_row);
	for (unsigned form = 0; form < WEFT_COMPACT_FORMS; form++)
		cr_assert(!weft_compact_forms[form].code || forms_seen[form],
			  "compact form %u is missing from SPEC.md", form);
	free(text);
}

/* What the forms may say: an 'o' first, on the event's object, and only
 * there; an 's' only on its sequence number; values on any other
 * argument but a byte string or a list; kept arguments coded as values. */
Test(spec, compact_forms_are_well_formed)
{
	for (unsigned form = 0; form < WEFT_COMPACT_FORMS; form++) {
		const struct weft_compact_form *f = &weft_compact_forms[form];
		if (!f->code)
			continue;
		const struct weft_event_desc *d = &weft_events[f->code];
		cr_assert(d->timed, "form %u: %s is timed", form, d->name);
		cr_assert_eq(strlen(f->pattern), d->nargs, "form %u: pattern length", form);
		for (unsigned i = 0; i < d->nargs; i++) {
			char c = f->pattern[i], k = d->kinds[i];
			if (i == 0)
				cr_assert(c == 'o' && k == 'o', "form %u: object first", form);
			else if (c == 's')
				cr_assert(k == 's' && (int)i == d->seq_arg &&
					  d->seq_object_arg == 0,
					  "form %u: s on the object's number", form);
			else
				cr_assert(((c >= '0' && c <= '9') || c == '.') &&
					  k != 'o' && k != 's' && k != 'b' && k != 'P',
					  "form %u: argument %u", form, i);
		}
		/* A form is not shadowed by an earlier one of its event. */
		for (unsigned g = 0; g < form; g++)
			cr_assert(weft_compact_forms[g].code != f->code ||
				  strcmp(weft_compact_forms[g].pattern, f->pattern),
				  "form %u repeats form %u", form, g);
	}
}

/* The bytes of the code blocks of SPEC.md's worked example, in order,
 * each block's bytes those at the start of its lines (up to two spaces);
 * a line that starts with something else holds none, and the thread
 * batch's placeholder is replaced by that batch. */
static size_t example_bytes(char *text, uint8_t *out, size_t cap)
{
	char *s = section(text, "## 13. Worked example");
	uint8_t blocks[3][256];
	size_t len[3] = { 0 }, nblocks = 0, n = 0;
	int in_block = 0;
	char *save = NULL;
	for (char *line = strtok_r(s, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "```", 3)) {
			if (in_block)
				nblocks++;
			in_block = !in_block;
			cr_assert_leq(nblocks, 3, "the example has three blocks");
			continue;
		}
		if (!in_block)
			continue;
		cr_assert_lt(nblocks, 3, "the example has three blocks");
		if (strstr(line, "thread batch above")) {
			cr_assert_eq(nblocks, 2);
			memcpy(blocks[2] + len[2], blocks[1], len[1]);
			len[2] += len[1];
			continue;
		}
		const char *p = line + strspn(line, " ");
		uint8_t bytes[64];
		size_t k = 0;
		unsigned v;
		int used;
		while (k < sizeof bytes && sscanf(p, "%2x%n", &v, &used) == 1 && used == 2 &&
		       (p[2] == ' ' || p[2] == 0)) {
			bytes[k++] = (uint8_t)v;
			p += 2;
			if (*p == ' ' && p[1] != ' ')
				p++;
			else
				break;
		}
		if (*p && *p != ' ')
			k = 0; /* a comment line */
		memcpy(blocks[nblocks] + len[nblocks], bytes, k);
		len[nblocks] += k;
	}
	cr_assert_eq(nblocks, 3, "the example has three blocks");
	for (size_t b = 0; b < 3; b++) {
		if (b == 1)
			continue; /* the thread batch, inside block 2 */
		cr_assert_leq(n + len[b], cap);
		memcpy(out + n, blocks[b], len[b]);
		n += len[b];
	}
	return n;
}

Test(spec, worked_example_is_what_the_encoder_writes)
{
	char *text = read_spec();
	uint8_t file[1024];
	size_t size = example_bytes(text, file, sizeof file);
	free(text);
	cr_assert_eq(size, 169, "the example's file is 169 bytes");

	/* The thread batch, written by the encoder. */
	const uint64_t mutex = 0x55d0c0a04040ull;
	const struct weft_record recs[] = {
		{ .code = WEFT_EV_STATUS, .ts = 5000001000ull,
		  .args = { WEFT_STATE_RUNNING, 0, 0, 5000000000ull } },
		{ .code = WEFT_EV_MUTEX_ACQUIRE, .ts = 5000001250ull, .args = { mutex, 1, 0 } },
		{ .code = WEFT_EV_MUTEX_UNLOCK, .ts = 5000002450ull, .args = { mutex, 2, 0 } },
		{ .code = WEFT_EV_MUTEX_ACQUIRE, .ts = 5000002500ull, .args = { mutex, 3, 0 } },
		{ .code = WEFT_EV_MUTEX_UNLOCK, .ts = 5000002600ull, .args = { mutex, 4, 0 } },
	};
	uint8_t batch[256], *p = batch + WEFT_BATCH_HEADER_SIZE;
	struct weft_batch_state st;
	weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 5000001000ull);
	for (size_t i = 0; i < sizeof recs / sizeof recs[0]; i++)
		p = weft_encode_record(p, &recs[i], &st);
	struct weft_batch_header h = { 1, 1, (uint32_t)(p - batch - WEFT_BATCH_HEADER_SIZE),
				       5000001000ull };
	weft_put_batch_header(batch, &h);
	size_t blen = (size_t)(p - batch);
	cr_assert_eq(blen, 55);
	cr_assert_eq(weft_get_le32(file + 8), WEFT_FORMAT_VERSION, "the example's version");
	cr_assert_arr_eq(file + 40 + 44, batch, blen, "the thread batch's bytes");

	/* The reader reads it back, and the checker finds it complete and
	 * consistent. */
	struct weft_reader r;
	cr_assert_eq(weft_reader_open_memory(&r, file, size), WEFT_READ_OK, "%s", r.error);
	struct weft_batch b;
	size_t got = 0;
	while (weft_reader_next_batch(&r, &b) == WEFT_READ_OK) {
		if (b.header.serial != 1)
			continue;
		struct weft_cursor c;
		struct weft_record rec;
		weft_cursor_init(&c, &b);
		while (weft_cursor_next(&r, &c, &rec) == WEFT_READ_OK) {
			cr_assert_lt(got, sizeof recs / sizeof recs[0]);
			cr_assert_eq(rec.code, recs[got].code);
			cr_assert_eq(rec.ts, recs[got].ts);
			for (unsigned i = 0; i < weft_events[rec.code].nargs; i++)
				cr_assert_eq(rec.args[i], recs[got].args[i]);
			got++;
		}
	}
	cr_assert_eq(got, sizeof recs / sizeof recs[0]);
	struct weft_check_result res;
	cr_assert_eq(weft_reader_open_memory(&r, file, size), WEFT_READ_OK);
	cr_assert_eq(weft_check(&r, NULL, NULL, &res), WEFT_CHECK_OK, "%s", res.error);
}
