/*
 * traces.h - the traces a reading command answers for together: the
 * files and directories it was given (a directory stands for every weft
 * trace in it, known by its magic, not its name), each opened with the
 * program it is of, in the order of the process tree (a parent before
 * its children, an image before the one it executed).
 */
#ifndef WEFT_TRACES_H
#define WEFT_TRACES_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "process.h"
#include "reader.h"
#include "timeline.h"

struct trace_input {
	char *path;
	struct weft_file_header header;
	struct weft_process proc;
	int parent;                /* index in the set's list, or -1 */
	unsigned depth;            /* in the tree: 0 for a root */
	int64_t offset_ns;         /* when it began, after the earliest */
};

struct trace_set {
	struct trace_input *list;  /* in tree order */
	unsigned n;
	int several;               /* more than one file, or a directory:
				      the answer is per process */
	int status;                /* worst exit status of those not opened */
};

/* The files paths name, a directory standing for every weft trace in it
 * (by name; hidden files left out): a malloc'd list of n malloc'd paths.
 * A directory that cannot be read or holds no trace is left out, having
 * said why on stderr in one line and made *status (an exit status) at
 * least WEFT_EXIT_USAGE; *dirs says whether any path was a directory. */
char **trace_paths(char **paths, int npaths, const char *cmd, unsigned *n,
		   int *status, int *dirs);
/* Reads the header and the program of every trace that paths name for
 * `weft cmd` (and closes it again: a big build leaves more traces than a
 * process may hold open): one that cannot be read is left out, having
 * said why on stderr in one line (its status kept in set->status); a
 * directory with no trace in it is one too.
 * Returns 0, or WEFT_EXIT_USAGE (having said why) when no trace was given
 * at all. */
int traces_open(struct trace_set *set, char **paths, int npaths, const char *cmd);
void traces_free(struct trace_set *set);
/* A timeline of t's trace, checked on jobs threads (tl_close() closes
 * the trace); NULL when it cannot be opened again, having said why as
 * traces_open() does. */
struct timeline *trace_timeline(struct trace_set *set, struct trace_input *t,
				unsigned jobs, const char *cmd);

/* A section's title: pid, parent and command line. */
void trace_title(const struct trace_input *t, char *buf, size_t cap);

/* t's process as a JSON object: pid, ppid, exe, argv, argc, cut (the
 * command was cut short), recorded (false: a trace without a PROCESS
 * record, known by its header's pid and parent only), depth in the tree,
 * file and parent_file (null for a root). */
void trace_json_process(FILE *out, const struct trace_set *set,
			const struct trace_input *t);

/* --thread's argument: "PID:T" names thread T of process PID, else the
 * whole argument is T and *pid is 0.  Returns 0, or -1 for a PID:T whose
 * PID is 0. */
int trace_thread_arg(const char *arg, uint64_t *pid, const char **thread);

#endif
