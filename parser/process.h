/*
 * process.h - which program a trace is of: its PROCESS record (format
 * version 6), or, in a trace without one, what the file header says
 * (pid and parent pid).
 */
#ifndef WEFT_PROCESS_H
#define WEFT_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "reader.h"

#define WEFT_PROCESS_MAX_ARGS 512 /* arguments kept (more are counted) */

struct weft_process {
	int recorded;        /* the trace has a PROCESS record */
	uint64_t pid, ppid;
	uint64_t argc;       /* arguments the program was started with */
	int cut;             /* the record holds fewer, or cut the last */
	char exe[1025];      /* the executable's path ("" when not known) */
	uint32_t nargs;      /* arguments held (weft_process_arg) */
	uint16_t arg_at[WEFT_PROCESS_MAX_ARGS]; /* where each starts in text */
	char text[4097];     /* the record's strings, NUL-terminated */
};

/* Argument i (below p->nargs) of p. */
static inline const char *weft_process_arg(const struct weft_process *p, uint32_t i)
{
	return p->text + p->arg_at[i];
}

/* Reads what the trace open in r says of its program into p, from the
 * first generation's process batches; r reads on from where it was.
 * Returns 1 when a PROCESS record was found, else 0 (p then holds the
 * header's pid and parent pid). */
int weft_process_find(struct weft_reader *r, struct weft_process *p);
/* The command line, arguments separated by spaces, with anything but
 * printable ASCII escaped, and " ..." when it was cut; without a
 * PROCESS record, "(program not recorded)". */
void weft_process_command(const struct weft_process *p, char *buf, size_t cap);
/* A short name for the program: its first argument's last path
 * component, else (no argument, or a process title written over it) the
 * executable's; "?" when neither is known. */
const char *weft_process_name(const struct weft_process *p);

#endif
