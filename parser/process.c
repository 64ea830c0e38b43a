/*
 * process.c - which program a trace is of (see process.h).
 */
#include "process.h"

#include <stdio.h>
#include <string.h>

#include "text.h"

/* Splits the PROCESS record's command (executable, then arguments, each
 * NUL-terminated) into p. */
static void take_record(struct weft_process *p, const struct weft_record *rec)
{
	p->recorded = 1;
	p->pid = rec->args[0];
	p->ppid = rec->args[1];
	p->argc = rec->args[2];
	memcpy(p->text, rec->bytes, rec->nbytes);
	p->text[rec->nbytes] = 0; /* a last string missing its NUL ends here */
	size_t at = 0;
	int first = 1;
	while (at < rec->nbytes) {
		const char *s = p->text + at;
		size_t len = strlen(s);
		if (first) {
			size_t keep = len < sizeof p->exe - 1 ? len : sizeof p->exe - 1;
			memcpy(p->exe, s, keep);
			p->exe[keep] = 0;
		}
		else if (p->nargs < WEFT_PROCESS_MAX_ARGS)
			p->arg_at[p->nargs++] = (uint16_t)at;
		first = 0;
		at += len + 1;
	}
	p->cut = p->nargs < p->argc || rec->nbytes >= WEFT_MAX_BYTES;
}

int weft_process_find(struct weft_reader *r, struct weft_process *p)
{
	memset(p, 0, sizeof *p);
	p->pid = r->header.pid;
	p->ppid = r->header.ppid;
	size_t from = r->pos;
	struct weft_batch b;
	int found = 0, done = 0;
	while (!done && weft_reader_next_batch(r, &b) == WEFT_READ_OK) {
		if (b.header.serial != 0)
			continue;
		struct weft_cursor cur;
		struct weft_record rec;
		weft_cursor_init(&cur, &b);
		while (!done && weft_cursor_next(r, &cur, &rec) == WEFT_READ_OK) {
			if (rec.code == WEFT_EV_PROCESS) {
				take_record(p, &rec);
				found = done = 1;
			}
			/* Every generation has one in its first process batch:
			 * past the first generation's end, there is none. */
			done |= rec.code == WEFT_EV_GEN_END;
		}
	}
	r->error[0] = 0;
	weft_reader_rewind(r, from);
	return found;
}

void weft_process_command(const struct weft_process *p, char *buf, size_t cap)
{
	if (cap == 0)
		return;
	buf[0] = 0;
	if (!p->recorded) {
		snprintf(buf, cap, "(program not recorded)");
		return;
	}
	size_t n = 0;
	char safe[1024];
	for (uint32_t i = 0; i < p->nargs && n + 1 < cap; i++) {
		weft_safe_text(safe, sizeof safe, weft_process_arg(p, i), sizeof safe);
		n += (size_t)snprintf(buf + n, cap - n, "%s%s", i ? " " : "", safe);
	}
	if (p->nargs == 0 && n + 1 < cap) {
		weft_safe_text(safe, sizeof safe, p->exe, sizeof safe);
		n += (size_t)snprintf(buf + n, cap - n, "%s", safe);
	}
	if (p->cut && n + 1 < cap)
		snprintf(buf + n, cap - n, " ...");
}

const char *weft_process_name(const struct weft_process *p)
{
	/* argv[0] names the process as ps does (a shell's "sh", a program
	 * started as another name), unless it holds a process title written
	 * over it ("nginx: worker process"): then the executable does. */
	const char *arg0 = p->nargs ? weft_process_arg(p, 0) : "";
	int title = strpbrk(arg0, " :") != NULL;
	const char *s = arg0[0] && !title ? arg0 : p->exe;
	if (!s[0])
		return "?";
	const char *slash = strrchr(s, '/');
	return slash && slash[1] ? slash + 1 : s;
}
