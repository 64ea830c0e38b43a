/*
 * text.h - the text form of a trace, as `weft dump` prints it: one line
 * per record with ids resolved (thread names, syscalls, stacks and their
 * symbols), in file order or in the validated global order, and the
 * per-kind summary.  Everything works on an open reader, so a trace held
 * in memory prints the same as a file, and writes only to the stream it is
 * given.
 */
#ifndef WEFT_TEXT_H
#define WEFT_TEXT_H

#include <stdio.h>

#include "check.h"
#include "reader.h"
#include "tables.h"

/* Totals of a walk in file order. */
struct weft_print_counts {
	uint64_t per_code[256];
	uint64_t events, batches, bytes, lost;
	uint32_t max_serial, generations;
	uint64_t first_ts, last_ts;
	int complete;
};

/* Text from the trace (thread names, symbols), at most max bytes of it,
 * with anything but printable ASCII escaped as \xNN, into dst (cap >= 5). */
void weft_safe_text(char *dst, size_t cap, const char *src, size_t max);

void weft_print_record(FILE *out, const struct weft_tables *t,
		       const struct weft_file_header *fh, uint32_t gen,
		       uint32_t serial, const struct weft_record *rec);

/* Prints stack id of generation gen, one frame a line with its symbol,
 * or says it is not defined. */
void weft_print_stack(FILE *out, const struct weft_tables *t, uint32_t gen,
		      uint64_t id);

/* Reads r's batches from where it stands, printing each record to out
 * (when not NULL) and counting into n.  Returns WEFT_READ_OK, or
 * WEFT_READ_CORRUPT with the reason in r->error. */
int weft_print_file_order(struct weft_reader *r, const struct weft_tables *t,
			  FILE *out, struct weft_print_counts *n);
void weft_print_summary(FILE *out, const char *path,
			const struct weft_reader *r,
			const struct weft_print_counts *n);

/* Prints every record in the order weft_check() validates, up to the
 * first problem; returns the verdict, with its reason in res. */
enum weft_verdict weft_print_ordered(struct weft_reader *r,
				     const struct weft_tables *t, FILE *out,
				     struct weft_check_result *res);

#endif
