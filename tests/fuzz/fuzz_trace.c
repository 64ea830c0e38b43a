/*
 * fuzz_trace.c - the libFuzzer target over everything that reads a trace:
 * the file header, the id tables `weft dump` loads, the file-order walk and
 * summary, and the validator with a callback that reads every field of
 * every record it delivers and prints it as `weft dump` does.  Besides the
 * sanitizers, it holds the reader to promises a caller relies on (records
 * lie inside the input, limits are kept, verdicts come with a reason) and
 * aborts when one is broken, and checks every input twice: the verdict
 * must not depend on anything but the bytes.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "text.h"
#include "reader.h"
#include "tables.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PROMISE(cond)                                                        \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_trace: broken promise: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                  \
			abort();                                             \
		}                                                            \
	} while (0)

/* Where printed text goes: formatted in full, then thrown away. */
static FILE *sink(void)
{
	static FILE *null;
	if (!null)
		null = fopen("/dev/null", "w");
	PROMISE(null != NULL);
	return null;
}

struct walk {
	const uint8_t *data;
	size_t size;
	const struct weft_tables *tables;
	const struct weft_file_header *fh;
	uint32_t last_generation;
	uint64_t digest;   /* depends on every field, so none is skipped */
};

static void mix(struct walk *w, uint64_t v)
{
	w->digest = (w->digest ^ v) * 0x100000001b3ull;
}

static void touch_tables(struct walk *w, uint32_t gen,
			 const struct weft_record *rec)
{
	const struct weft_event_desc *d = &weft_events[rec->code];
	for (unsigned i = 0; i < d->nargs; i++) {
		uint64_t v = rec->args[i];
		uint32_t n = 0;
		const uint64_t *pcs;
		const char *s;
		switch (d->kinds[i]) {
		case 'S':
			s = weft_tables_string(w->tables, gen, v);
			if (s)
				mix(w, strlen(s));
			break;
		case 'k':
			pcs = weft_tables_stack(w->tables, gen, v, &n);
			PROMISE(n <= WEFT_MAX_STACK);
			for (uint32_t j = 0; pcs && j < n; j++) {
				s = weft_tables_symbol(w->tables, gen, pcs[j]);
				mix(w, pcs[j] + (s ? strlen(s) : 0));
			}
			break;
		case 'T':
			s = weft_tables_thread_name(w->tables, (uint32_t)v);
			if (s)
				mix(w, strlen(s));
			break;
		}
	}
}

static void on_event(void *ctx, const struct weft_check_event *ev)
{
	struct walk *w = ctx;
	const struct weft_record *rec = ev->rec;
	const struct weft_event_desc *d = &weft_events[rec->code];
	PROMISE(d->name != NULL);
	PROMISE(ev->offset >= WEFT_FILE_HEADER_FIXED && ev->offset < w->size);
	PROMISE(w->data[ev->offset] == rec->code);
	PROMISE(ev->generation >= w->last_generation);
	PROMISE(d->timed ? ev->serial != 0 : ev->serial == 0);
	PROMISE(rec->nbytes <= WEFT_MAX_BYTES && rec->npcs <= WEFT_MAX_STACK);
	if (rec->nbytes)
		PROMISE(rec->bytes >= w->data &&
			rec->bytes + rec->nbytes <= w->data + w->size);
	w->last_generation = ev->generation;
	mix(w, ev->generation);
	mix(w, ev->serial);
	mix(w, ev->offset);
	mix(w, rec->code);
	mix(w, rec->ts);
	for (unsigned i = 0; i < d->nargs; i++)
		mix(w, rec->args[i]);
	for (uint32_t i = 0; i < rec->nbytes; i++)
		mix(w, rec->bytes[i]);
	for (uint32_t i = 0; i < rec->npcs; i++)
		mix(w, rec->pcs[i]);
	touch_tables(w, ev->generation, rec);
	weft_print_record(sink(), w->tables, w->fh, ev->generation, ev->serial, rec);
}

/* The walk weft dump --file-order and --summary make. */
static void file_order(const uint8_t *data, size_t size,
		       const struct weft_tables *t)
{
	struct weft_reader r;
	PROMISE(weft_reader_open_memory(&r, data, size) == WEFT_READ_OK);
	struct weft_print_counts n;
	memset(&n, 0, sizeof n);
	int rc = weft_print_file_order(&r, t, sink(), &n);
	PROMISE(rc == WEFT_READ_OK || ((rc == WEFT_READ_CORRUPT || rc == WEFT_READ_TRUNCATED) && r.error[0]));
	PROMISE(n.bytes <= size);
	weft_print_summary(sink(), "input", &r, &n);
	weft_reader_close(&r);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct weft_reader r;
	int rc = weft_reader_open_memory(&r, data, size);
	if (rc != WEFT_READ_OK) {
		PROMISE(rc == WEFT_READ_CORRUPT && r.error[0]);
		weft_reader_close(&r);
		return 0;
	}
	int status;
	struct weft_tables *t = weft_tables_load(&r, &status);
	PROMISE(t != NULL && r.pos == WEFT_FILE_HEADER_FIXED + (size_t)weft_get_le32(data + 12));
	file_order(data, size, t);

	struct walk w = { data, size, t, &r.header, 0, 0 };
	struct weft_check_result res;
	enum weft_verdict v = weft_check(&r, on_event, &w, &res);
	PROMISE(v == res.verdict);
	PROMISE(v == WEFT_CHECK_OK || v == WEFT_CHECK_INCONSISTENT ||
		v == WEFT_CHECK_TRUNCATED);
	PROMISE(v != WEFT_CHECK_INCONSISTENT || res.error[0]);
	PROMISE(v != WEFT_CHECK_TRUNCATED || res.note[0]);
	PROMISE(v != WEFT_CHECK_OK || res.complete);
	PROMISE(memchr(res.error, 0, sizeof res.error) && memchr(res.note, 0, sizeof res.note));
	PROMISE(res.bytes <= size);
	weft_tables_free(t);

	/* The same bytes give the same verdict and reason: nothing depends on
	 * memory left over from before, or on the callback. */
	struct weft_check_result again;
	PROMISE(weft_reader_open_memory(&r, data, size) == WEFT_READ_OK);
	PROMISE(weft_check(&r, NULL, NULL, &again) == v);
	PROMISE(strcmp(again.error, res.error) == 0 && strcmp(again.note, res.note) == 0);
	PROMISE(again.events == res.events && again.generations == res.generations &&
		again.threads == res.threads && again.lost == res.lost);
	weft_reader_close(&r);
	return 0;
}
