/*
 * perfetto.h - `weft export --format=perfetto`: traces as Perfetto's
 * protobuf trace format (format/perfetto_trace.proto), written as the
 * timeline produces them.
 */
#ifndef WEFT_PERFETTO_H
#define WEFT_PERFETTO_H

#include <stdint.h>
#include <stdio.h>

#include "timeline.h"
#include "traces.h"

struct perfetto;

struct perfetto *pf_new(FILE *out);
/* Writes the trace tl reads (t, the index-th of the output) as a process
 * of its own; runs the timeline (sl_run()) and returns its verdict.
 * Flow ids continue from *flows. */
enum weft_verdict pf_write_trace(struct perfetto *pf, struct timeline *tl,
				 const struct trace_input *t, unsigned index,
				 uint64_t *flows);
void pf_free(struct perfetto *pf);

#endif
