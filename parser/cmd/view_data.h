/*
 * view_data.h - what `weft view` shows, gathered from the timeline of each
 * trace: a lane per thread, the slices of its waits and blocking calls
 * (all of them up to a cap, else the longest), the wake-up flows into
 * them with both sides' sites, time per state summed into buckets at a
 * few resolutions (which show everything, capped or not), the tables of
 * `weft stats` and the lock-order graph of `weft lockorder`; written as
 * one JSON document.
 */
#ifndef WEFT_VIEW_DATA_H
#define WEFT_VIEW_DATA_H

#include <stdint.h>
#include <stdio.h>

#include "traces.h"

/* Slices shown in detail, over all traces, unless told otherwise. */
#define VIEW_DEFAULT_MAX_SLICES 200000
/* Summary cells: the buckets at the finest resolution that some
 * interval of a lane touches, summed over the lanes. */
#define VIEW_SUMMARY_CELLS 500000

struct view_data;

struct view_data *view_data_new(uint64_t max_slices, unsigned ntraces);
/* Reads trace t of set into the view, checked on jobs threads; returns
 * its exit status as weft_report_partial() gives it (having said on
 * stderr what is wrong), or WEFT_EXIT_USAGE when it cannot be opened. */
int view_data_add(struct view_data *v, struct trace_set *set,
		  struct trace_input *t, unsigned jobs);
/* Writes the JSON document (every string through weft_json_string()). */
void view_data_write(struct view_data *v, FILE *out);
void view_data_free(struct view_data *v);

#endif
