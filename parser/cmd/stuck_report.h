/*
 * stuck_report.h - the deadlocks and stuck threads of a trace (stuck.c)
 * in words and in JSON, as `weft stats` and `weft check` print them.
 */
#ifndef WEFT_STUCK_REPORT_H
#define WEFT_STUCK_REPORT_H

#include <stdio.h>

#include "stuck.h"

/* One "Deadlock: ..." line per cycle, each thread's blocking site and
 * its holder's acquisition site under it, then one "Stuck: ..." line per
 * stuck thread with its site; each line begins with prefix. */
void stuck_report_text(FILE *out, const struct timeline *tl, const struct stuck *s,
		       const char *prefix);
/* ,"deadlocks":[...],"stuck":[...] */
void stuck_report_json(FILE *out, const struct timeline *tl, const struct stuck *s);

#endif
