/*
 * text.c - the text form of trace records (see text.h).
 */
#include "text.h"

#include <inttypes.h>
#include <string.h>

#include "names.h"

static void print_bytes(FILE *out, const struct weft_record *rec)
{
	fputc('"', out);
	for (uint32_t i = 0; i < rec->nbytes; i++) {
		uint8_t ch = rec->bytes[i];
		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch >= 0x20 && ch < 0x7f)
			fputc(ch, out);
		else
			fprintf(out, "\\x%02x", ch);
	}
	fputc('"', out);
}

/* Text from the trace (thread names, symbols), at most max bytes of it,
 * with anything but printable ASCII escaped: a hostile trace must not
 * start a new line or drive the terminal. */
void weft_safe_text(char *dst, size_t cap, const char *src, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; src[i] && i < max && n + 5 <= cap; i++) {
		unsigned char ch = (unsigned char)src[i];
		if (ch >= 0x20 && ch < 0x7f && ch != '\\')
			dst[n++] = (char)ch;
		else
			n += (size_t)snprintf(dst + n, cap - n, "\\x%02x", ch);
	}
	dst[n] = 0;
}

static void print_errno(FILE *out, uint64_t e)
{
	const char *name = e && e < 4096 ? strerrorname_np((int)e) : NULL;
	if (name)
		fputs(name, out);
	else
		fprintf(out, "%" PRIu64, e);
}

static void print_args(FILE *out, const struct weft_tables *t,
		       const struct weft_record *rec)
{
	char object[160];
	const struct weft_event_desc *d = &weft_events[rec->code];
	const char *name = d->names;
	for (unsigned i = 0; i < d->nargs; i++) {
		size_t len = strcspn(name, ",");
		fprintf(out, " %.*s=", (int)len, name);
		name += len + (name[len] == ',');
		uint64_t v = rec->args[i];
		const char *s;
		switch (d->kinds[i]) {
		case 'o':
			/* With its name, when it has one. */
			fprintf(out, "0x%" PRIx64, v);
			weft_object_name(t, v, object, sizeof object);
			if (v && strncmp(object, "0x", 2) != 0)
				fprintf(out, " (%s)", object);
			break;
		case 'x': case 'p':
			fprintf(out, "0x%" PRIx64, v);
			break;
		case 'i': case 'r':
			fprintf(out, "%" PRId64, (int64_t)v);
			break;
		case 'T':
			fprintf(out, "T%" PRIu64, v);
			break;
		case 'e':
			print_errno(out, v);
			break;
		case 'y':
			s = weft_syscall_name(v);
			if (s) fputs(s, out); else fprintf(out, "%" PRIu64, v);
			break;
		case 't':
			s = weft_state_name(v);
			if (s) fputs(s, out); else fprintf(out, "%" PRIu64, v);
			break;
		case 'b':
			print_bytes(out, rec);
			break;
		case 'P':
			fputc('[', out);
			for (uint32_t j = 0; j < rec->npcs; j++)
				fprintf(out, "%s0x%" PRIx64, j ? " " : "", rec->pcs[j]);
			fputc(']', out);
			break;
		default:
			fprintf(out, "%" PRIu64, v);
		}
	}
}

void weft_print_stack(FILE *out, const struct weft_tables *t, uint32_t gen,
			uint64_t id)
{
	uint32_t n = 0;
	const uint64_t *pcs = weft_tables_stack(t, gen, id, &n);
	if (!pcs) {
		fprintf(out, "        (stack %" PRIu64 " not defined)\n", id);
		return;
	}
	unsigned shown = 0;
	for (uint32_t i = 0; i < n; i++) {
		const char *const *texts;
		int frames = weft_tables_frames(t, gen, pcs[i], &texts);
		if (frames < 0)
			continue; /* weft's own */
		char safe[4 * WEFT_MAX_BYTES + 1];
		if (frames == 0)
			fprintf(out, "        #%-2u 0x%" PRIx64 " ?\n", shown++, pcs[i]);
		/* Calls inlined at one address are frames of their own. */
		for (int f = 0; f < frames; f++) {
			weft_safe_text(safe, sizeof safe, texts[f], WEFT_MAX_BYTES);
			fprintf(out, "        #%-2u 0x%" PRIx64 " %s%s\n", shown++, pcs[i],
				safe, f + 1 < frames ? " (inlined)" : "");
		}
	}
}

/* The stack id a record carries, or 0. */
static uint64_t stack_arg(const struct weft_record *rec)
{
	const char *k = strchr(weft_events[rec->code].kinds, 'k');
	if (!k || rec->code == WEFT_EV_STACK)
		return 0;
	return rec->args[k - weft_events[rec->code].kinds];
}

void weft_print_record(FILE *out, const struct weft_tables *t,
			 const struct weft_file_header *fh, uint32_t gen,
			 uint32_t serial, const struct weft_record *rec)
{
	const char *name = serial ? weft_tables_thread_name(t, serial) : NULL;
	char who[128];
	if (serial == 0) {
		snprintf(who, sizeof who, "process");
	} else if (name) {
		char safe[4 * 24 + 1];
		weft_safe_text(safe, sizeof safe, name, 24);
		snprintf(who, sizeof who, "T%u(%s)", serial, safe);
	} else
		snprintf(who, sizeof who, "T%u", serial);
	double secs = (double)(int64_t)(rec->ts - fh->start_ts) / (double)fh->frequency;
	fprintf(out, "g%-3u %-22s %14.9f %s", gen, who,
		weft_events[rec->code].timed ? secs : 0.0, weft_events[rec->code].name);
	print_args(out, t, rec);
	fputc('\n', out);
	uint64_t k = stack_arg(rec);
	if (k)
		weft_print_stack(out, t, gen, k);
}

int weft_print_file_order(struct weft_reader *r, const struct weft_tables *t,
			  FILE *out, struct weft_print_counts *n)
{
	const struct weft_file_header *fh = &r->header;
	struct weft_batch b;
	int rc;
	n->first_ts = UINT64_MAX;
	while ((rc = weft_reader_next_batch(r, &b)) == WEFT_READ_OK) {
		n->batches++;
		n->bytes += WEFT_BATCH_HEADER_SIZE + b.header.length;
		if (b.header.serial > n->max_serial)
			n->max_serial = b.header.serial;
		n->complete = 0;
		struct weft_cursor c;
		struct weft_record rec;
		weft_cursor_init(&c, &b);
		uint32_t gen = b.header.generation;
		while ((rc = weft_cursor_next(r, &c, &rec)) == WEFT_READ_OK) {
			n->per_code[rec.code]++;
			n->events++;
			if (rec.code == WEFT_EV_LOST)
				n->lost += rec.args[0];
			if (rec.code == WEFT_EV_GEN_END)
				n->generations++;
			if (rec.code == WEFT_EV_TRACE_END)
				n->complete = 1;
			if (weft_events[rec.code].timed && b.header.serial) {
				if (rec.ts < n->first_ts) n->first_ts = rec.ts;
				if (rec.ts > n->last_ts) n->last_ts = rec.ts;
			}
			if (out)
				weft_print_record(out, t, fh, gen, b.header.serial, &rec);
		}
		if (rc != WEFT_READ_END)
			return rc;
	}
	return rc == WEFT_READ_END ? WEFT_READ_OK : rc;
}

void weft_print_summary(FILE *out, const char *path,
			const struct weft_reader *r,
			const struct weft_print_counts *n)
{
	double secs = n->last_ts > n->first_ts && n->first_ts != UINT64_MAX
		? (double)(n->last_ts - n->first_ts) / (double)r->header.frequency : 0;
	fprintf(out, "%s: pid %" PRIu64 ", %u threads, %u generations, "
		"%" PRIu64 " events in %" PRIu64 " batches, %.3f s, %" PRIu64
		" bytes (%.1f bytes/event), %" PRIu64 " lost, %s\n",
		path, r->header.pid, n->max_serial, n->generations, n->events,
		n->batches, secs, n->bytes,
		n->events ? (double)n->bytes / (double)n->events : 0.0, n->lost,
		n->complete ? "complete" : "truncated (no end-of-trace record)");
	for (int code = 0; code < 256; code++)
		if (n->per_code[code])
			fprintf(out, "  %-16s %12" PRIu64 "\n",
				weft_events[code].name, n->per_code[code]);
}

struct ordered_ctx {
	const struct weft_tables *tables;
	const struct weft_file_header *fh;
	FILE *out;
};

static void print_ordered(void *p, const struct weft_check_event *ev)
{
	struct ordered_ctx *o = p;
	weft_print_record(o->out, o->tables, o->fh, ev->generation, ev->serial, ev->rec);
}

enum weft_verdict weft_print_ordered(struct weft_reader *r,
				     const struct weft_tables *t, FILE *out,
				     struct weft_check_result *res)
{
	struct ordered_ctx o = { t, &r->header, out };
	return weft_check(r, print_ordered, &o, res);
}
