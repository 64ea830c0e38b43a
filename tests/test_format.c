/*
 * test_format.c - unit tests of the trace format: varints, the encoder and
 * decoder for every event kind in the table, and the reader's handling of
 * file headers and batch framing, including damaged input.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "reader.h"
#include "record.h"

static const uint64_t edge_values[] = {
	0, 1, 63, 64, 127, 128, 255, 16383, 16384, 2097151, 2097152,
	UINT32_MAX, (uint64_t)UINT32_MAX + 1, INT64_MAX, (uint64_t)INT64_MAX + 1,
	UINT64_MAX - 1, UINT64_MAX,
};

Test(varint, uleb_round_trip_edge_values)
{
	for (size_t i = 0; i < sizeof edge_values / sizeof edge_values[0]; i++) {
		uint8_t buf[WEFT_ULEB_MAX];
		uint8_t *end = weft_put_uleb(buf, edge_values[i]);
		size_t len = (size_t)(end - buf);
		/* ceil(bits / 7) bytes, at least one. */
		unsigned bits = edge_values[i] ? 64 - (unsigned)__builtin_clzll(edge_values[i]) : 1;
		cr_assert_eq(len, (bits + 6) / 7, "length of %llu",
			     (unsigned long long)edge_values[i]);
		const uint8_t *p = buf;
		uint64_t v;
		cr_assert_eq(weft_get_uleb(&p, end, &v), 0);
		cr_assert_eq(v, edge_values[i]);
		cr_assert_eq(p, end);
		/* Every proper prefix is truncated. */
		for (size_t cut = 0; cut < len; cut++) {
			p = buf;
			cr_assert_eq(weft_get_uleb(&p, buf + cut, &v), -1);
			cr_assert_eq(p, buf, "a failed decode must not advance");
		}
	}
}

Test(varint, uleb_rejects_overlong)
{
	/* Ten bytes whose last carries more than the 64th bit. */
	uint8_t over[10] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
	const uint8_t *p = over;
	uint64_t v;
	cr_assert_eq(weft_get_uleb(&p, over + 10, &v), -1);
	/* Eleven bytes. */
	uint8_t eleven[11] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
	p = eleven;
	cr_assert_eq(weft_get_uleb(&p, eleven + 11, &v), -1);
}

Test(varint, zigzag_round_trip)
{
	const int64_t vals[] = { INT64_MIN, INT64_MIN + 1, -65, -64, -1, 0, 1, 63, 64, INT64_MAX };
	for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++)
		cr_assert_eq(weft_unzigzag(weft_zigzag(vals[i])), vals[i]);
	cr_assert_eq(weft_zigzag(0), 0);
	cr_assert_eq(weft_zigzag(-1), 1);
	cr_assert_eq(weft_zigzag(1), 2);
}

/* A record of `code` with a distinct, kind-appropriate value per argument. */
static void sample_record(uint8_t code, uint64_t seed, struct weft_record *r,
			  uint8_t *bytes)
{
	const struct weft_event_desc *d = &weft_events[code];
	memset(r, 0, sizeof *r);
	r->code = code;
	for (unsigned i = 0; i < d->nargs; i++) {
		uint64_t v = edge_values[(seed + i) % (sizeof edge_values / sizeof edge_values[0])];
		switch (d->kinds[i]) {
		case 'b':
			r->nbytes = (uint32_t)(seed % 300);
			for (uint32_t j = 0; j < r->nbytes; j++)
				bytes[j] = (uint8_t)(j * 7 + seed);
			r->bytes = bytes;
			r->args[i] = r->nbytes;
			break;
		case 'P':
			r->npcs = (uint32_t)(seed % (WEFT_MAX_STACK + 1));
			for (uint32_t j = 0; j < r->npcs; j++)
				r->pcs[j] = 0x400000 + j * 0x1234567 + seed;
			r->args[i] = r->npcs;
			break;
		case 'i': case 'r':
			r->args[i] = (uint64_t)((seed & 1) ? -(int64_t)(v >> 1) : (int64_t)(v >> 1));
			break;
		default:
			r->args[i] = v;
		}
	}
}

Test(records, every_event_kind_round_trips)
{
	int kinds = 0;
	for (int code = 0; code < 256; code++) {
		if (!weft_events[code].name)
			continue;
		kinds++;
		for (uint64_t seed = 0; seed < 80; seed++) {
			static uint8_t bytes[WEFT_MAX_BYTES], buf[WEFT_RECORD_MAX];
			struct weft_record in, out;
			sample_record((uint8_t)code, seed, &in, bytes);
			/* (Kept below 2^62 so the absolute time cannot wrap.) */
			uint64_t delta = edge_values[seed % 17] & 0x3fffffffffffffffull;
			/* Both sides start from the same batch state, of
			 * version 5 (even seeds) or 4 (odd ones), with one
			 * object in the table. */
			struct weft_batch_state wst;
			weft_batch_state_init(&wst, seed & 1 ? 4 : 5, 1000);
			wst.obj = 0x7f0000001000 + seed;
			wst.objects[weft_object_slot(wst.obj)].addr = wst.obj;
			struct weft_batch_state rst = wst, start = wst;
			in.ts = 1000 + delta;
			uint8_t *end = weft_encode_record(buf, &in, &wst);
			const uint8_t *p = buf;
			const char *err = NULL;
			cr_assert_eq(weft_decode_record(&p, end, &rst, &out, &err), 0,
				     "%s seed %llu: %s", weft_events[code].name,
				     (unsigned long long)seed, err);
			cr_assert_eq(p, end, "%s consumed all bytes", weft_events[code].name);
			cr_assert_eq(out.code, code);
			if (weft_events[code].timed)
				cr_assert_eq(rst.ts, 1000 + delta);
			else
				cr_assert_eq(rst.ts, 1000, "untimed records carry no delta");
			cr_assert_eq(rst.ts, wst.ts, "reader and writer agree on time");
			cr_assert_eq(rst.obj, wst.obj, "and on the last object (%s seed %llu)", weft_events[code].name, (unsigned long long)seed);
			cr_assert_arr_eq(rst.objects, wst.objects, sizeof rst.objects,
					 "and on the object table");
			for (unsigned i = 0; i < weft_events[code].nargs; i++)
				cr_assert_eq(out.args[i], in.args[i], "%s arg %u",
					     weft_events[code].name, i);
			cr_assert_eq(out.nbytes, in.nbytes);
			if (in.nbytes)
				cr_assert_arr_eq(out.bytes, in.bytes, in.nbytes);
			cr_assert_eq(out.npcs, in.npcs);
			for (uint32_t j = 0; j < in.npcs; j++)
				cr_assert_eq(out.pcs[j], in.pcs[j]);
			/* Every proper prefix is reported truncated, never read past. */
			for (const uint8_t *cut = buf; cut < end; cut++) {
				const uint8_t *q = buf;
				struct weft_batch_state st2 = start;
				cr_assert_eq(weft_decode_record(&q, cut, &st2, &out, &err), -1);
				cr_assert(err && *err);
			}
		}
	}
	cr_assert_geq(kinds, 40, "the table lists every event of format v1");
}

Test(records, unknown_code_is_an_error)
{
	for (int code = 0; code < 256; code++) {
		if (weft_events[code].name)
			continue;
		uint8_t buf[4] = { (uint8_t)code, 0, 0, 0 };
		const uint8_t *p = buf;
		struct weft_batch_state st;
		weft_batch_state_init(&st, code & WEFT_COMPACT_BIT ? 4 : 5, 0);
		struct weft_record r;
		const char *err = NULL;
		cr_assert_eq(weft_decode_record(&p, buf + 4, &st, &r, &err), -1);
		cr_assert_str_eq(err, "unknown event code");
	}
}

Test(records, limits_are_enforced)
{
	uint8_t buf[32] = { 0 }, *p = buf;
	*p++ = WEFT_EV_STRING;
	p = weft_put_uleb(p, 1);
	p = weft_put_uleb(p, WEFT_MAX_BYTES + 1);
	const uint8_t *q = buf;
	struct weft_batch_state st;
	weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 0);
	struct weft_record r;
	const char *err = NULL;
	cr_assert_eq(weft_decode_record(&q, p, &st, &r, &err), -1);
	cr_assert_str_eq(err, "byte string longer than 4096");

	p = buf;
	*p++ = WEFT_EV_STACK;
	p = weft_put_uleb(p, 1);
	p = weft_put_uleb(p, WEFT_MAX_STACK + 1);
	q = buf;
	cr_assert_eq(weft_decode_record(&q, p, &st, &r, &err), -1);
	cr_assert_str_eq(err, "stack deeper than 64 frames");
}

Test(records, table_matches_spec_codes)
{
	/* Codes are part of the format: renumbering one breaks old traces. */
	cr_assert_eq(WEFT_EV_STATUS, 0x01);
	cr_assert_eq(WEFT_EV_TRACE_END, 0x08);
	cr_assert_eq(WEFT_EV_THREAD_CREATE, 0x10);
	cr_assert_eq(WEFT_EV_MUTEX_ACQUIRE, 0x20);
	cr_assert_eq(WEFT_EV_COND_WAIT_BEGIN, 0x30);
	cr_assert_eq(WEFT_EV_SEM_POST, 0x42);
	cr_assert_eq(WEFT_EV_SYSCALL_BEGIN, 0x50);
	cr_assert_str_eq(weft_events[0x20].kinds, "osx");
	cr_assert_str_eq(weft_syscall_name(WEFT_SYS_read), "read");
	cr_assert_str_eq(weft_syscall_name(WEFT_SYS_waitpid), "waitpid");
	cr_assert_null(weft_syscall_name(0));
	cr_assert_str_eq(weft_state_name(WEFT_STATE_BLOCKED_MUTEX), "BLOCKED_MUTEX");
}

/* ---- the reader, on traces built in memory ---- */

struct tbuf {
	uint8_t data[8192];
	size_t len;
};

static void t_header(struct tbuf *t, uint32_t version)
{
	memcpy(t->data, WEFT_MAGIC, 8);
	weft_put_le32(t->data + 8, version);
	uint8_t *p = t->data + 16;
	uint64_t fields[] = { WEFT_CLOCK_MONOTONIC, 1000000000, 42, 1, 5, 1000 };
	for (int i = 0; i < 6; i++)
		p = weft_put_uleb(p, fields[i]);
	weft_put_le32(t->data + 12, (uint32_t)(p - t->data - 16));
	t->len = (size_t)(p - t->data);
}

/* Appends a batch holding the given records; returns its offset. */
static size_t t_batch(struct tbuf *t, uint32_t serial, uint32_t gen,
		      const struct weft_record *recs, int n)
{
	size_t off = t->len;
	uint8_t *p = t->data + off + WEFT_BATCH_HEADER_SIZE;
	struct weft_batch_state st;
	weft_batch_state_init(&st, weft_get_le32(t->data + 8), 1000);
	for (int i = 0; i < n; i++) {
		struct weft_record r = recs[i];
		r.ts = st.ts + 10;
		p = weft_encode_record(p, &r, &st);
	}
	struct weft_batch_header h = { serial, gen,
		(uint32_t)(p - t->data - off - WEFT_BATCH_HEADER_SIZE), 1000 };
	weft_put_batch_header(t->data + off, &h);
	t->len = (size_t)(p - t->data);
	return off;
}

static int read_all(struct tbuf *t, struct weft_reader *r, int *records)
{
	int rc = weft_reader_open_memory(r, t->data, t->len);
	*records = 0;
	if (rc != WEFT_READ_OK)
		return rc;
	struct weft_batch b;
	while ((rc = weft_reader_next_batch(r, &b)) == WEFT_READ_OK) {
		struct weft_cursor c;
		struct weft_record rec;
		weft_cursor_init(&c, &b);
		while ((rc = weft_cursor_next(r, &c, &rec)) == WEFT_READ_OK)
			(*records)++;
		if (rc != WEFT_READ_END)
			return rc;
	}
	return rc;
}

static const struct weft_record two_mutex_events[] = {
	{ .code = WEFT_EV_MUTEX_ACQUIRE, .args = { 0x1000, 1, 0 } },
	{ .code = WEFT_EV_MUTEX_UNLOCK, .args = { 0x1000, 2, 0 } },
};

Test(reader, valid_trace_reads_in_full)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	t_batch(&t, 1, 1, two_mutex_events, 2);
	t_batch(&t, 2, 1, two_mutex_events, 2);
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_END, "%s", r.error);
	cr_assert_eq(n, 4);
	cr_assert_eq(r.header.pid, 42);
	cr_assert_eq(r.header.frequency, 1000000000);
}

Test(reader, timestamps_accumulate_from_batch_base)
{
	struct tbuf t;
	struct weft_reader r;
	t_header(&t, 1);
	t_batch(&t, 1, 1, two_mutex_events, 2);
	cr_assert_eq(weft_reader_open_memory(&r, t.data, t.len), WEFT_READ_OK);
	struct weft_batch b;
	cr_assert_eq(weft_reader_next_batch(&r, &b), WEFT_READ_OK);
	struct weft_cursor c;
	struct weft_record rec;
	weft_cursor_init(&c, &b);
	cr_assert_eq(weft_cursor_next(&r, &c, &rec), WEFT_READ_OK);
	cr_assert_eq(rec.ts, 1010);
	cr_assert_eq(weft_cursor_next(&r, &c, &rec), WEFT_READ_OK);
	cr_assert_eq(rec.ts, 1020);
}

Test(reader, bad_magic)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	t.data[0] = 'X';
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_CORRUPT);
	cr_assert_str_eq(r.error, "offset 0: not a weft trace (bad magic)");
}

Test(reader, newer_version_is_refused)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, WEFT_FORMAT_VERSION + 1);
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_CORRUPT);
	char want[64];
	snprintf(want, sizeof want, "format version %d is not supported",
		 WEFT_FORMAT_VERSION + 1);
	cr_assert(strstr(r.error, want), "%s", r.error);
}

/* Version 1 traces (numbers running on across generations) still read. */
Test(reader, version_1_is_read)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_END, "%s", r.error);
	cr_assert_eq(r.header.version, 1);
}

/* Version 2 traces (no THREAD_INFO) still read. */
Test(reader, version_2_is_read)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 2);
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_END, "%s", r.error);
	cr_assert_eq(r.header.version, 2);
}

Test(reader, truncated_header)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	t.len = 20;
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_CORRUPT);
	cr_assert(strstr(r.error, "file header"), "%s", r.error);
}

Test(reader, batch_length_past_end_of_file)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	size_t off = t_batch(&t, 1, 1, two_mutex_events, 2);
	t.len -= 3; /* the file was cut inside the batch */
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_TRUNCATED);
	char want[128];
	snprintf(want, sizeof want, "offset %zu: batch of thread 1, generation 1, claims", off);
	cr_assert(strstr(r.error, want), "%s", r.error);
	cr_assert(strstr(r.error, "truncated trace"), "%s", r.error);
}

/* The file ends inside the next batch's header: the batches before it are
 * whole, and the reader says the file was cut, not damaged. */
Test(reader, batch_header_cut_short)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	t_batch(&t, 1, 1, two_mutex_events, 2);
	size_t whole = t.len;
	t_batch(&t, 1, 1, two_mutex_events, 2);
	t.len = whole + 5;
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_TRUNCATED);
	cr_assert_eq(n, 2, "the whole batch before the cut is read");
	cr_assert(strstr(r.error, "batch header truncated"), "%s", r.error);
}

Test(reader, missing_batch_header)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	t_batch(&t, 1, 1, two_mutex_events, 2);
	size_t off = t.len;
	/* Records with no batch header before them. */
	struct weft_batch_state st;
	weft_batch_state_init(&st, 1, 0);
	uint8_t *p = weft_encode_record(t.data + t.len, &two_mutex_events[0], &st);
	memset(p, 0, 24);
	t.len = (size_t)(p - t.data) + 24;
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_CORRUPT);
	char want[128];
	snprintf(want, sizeof want, "offset %zu: missing batch header", off);
	cr_assert(strstr(r.error, want), "%s", r.error);
	cr_assert_eq(n, 2, "the batch before the damage was read");
}

Test(reader, unknown_event_code_names_its_offset)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	size_t off = t_batch(&t, 1, 1, two_mutex_events, 2);
	size_t bad = off + WEFT_BATCH_HEADER_SIZE;
	t.data[bad] = 0xEE;
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_CORRUPT);
	char want[128];
	snprintf(want, sizeof want, "offset %zu: unknown event code 0xee", bad);
	cr_assert_str_eq(r.error, want);
}

Test(reader, record_cut_by_batch_end)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	size_t off = t_batch(&t, 1, 1, two_mutex_events, 2);
	/* Shorten the batch's declared length by one: its last record is cut. */
	uint32_t len = weft_get_le32(t.data + off + 12);
	weft_put_le32(t.data + off + 12, len - 1);
	t.len--;
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_CORRUPT);
	cr_assert(strstr(r.error, "truncated record (MUTEX_UNLOCK)"), "%s", r.error);
	cr_assert_eq(n, 1);
}

Test(reader, reserved_bytes_and_generation_zero)
{
	struct tbuf t;
	struct weft_reader r;
	int n;
	t_header(&t, 1);
	size_t off = t_batch(&t, 1, 1, two_mutex_events, 2);
	t.data[off + 2] = 1;
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_CORRUPT);
	cr_assert(strstr(r.error, "reserved bytes"), "%s", r.error);

	t_header(&t, 1);
	t_batch(&t, 1, 0, two_mutex_events, 2);
	cr_assert_eq(read_all(&t, &r, &n), WEFT_READ_CORRUPT);
	cr_assert(strstr(r.error, "generation 0"), "%s", r.error);
}

/* ---- format version 5: the object table and compact records ---- */

/* Encodes r with st, decodes it with a copy of st as it was, and checks
 * that both sides agree on the record and on the batch state; returns
 * the encoded length, the first byte in *first. */
static size_t round_trip(struct weft_batch_state *st, const struct weft_record *r,
			 uint8_t *first)
{
	uint8_t buf[WEFT_RECORD_MAX];
	struct weft_batch_state rst = *st;
	uint8_t *end = weft_encode_record(buf, r, st);
	const uint8_t *p = buf;
	const char *err = NULL;
	struct weft_record out;
	cr_assert_eq(weft_decode_record(&p, end, &rst, &out, &err), 0, "%s: %s",
		     weft_events[r->code].name, err);
	cr_assert_eq(p, end, "the whole record is read");
	cr_assert_eq(out.code, r->code);
	for (unsigned i = 0; i < weft_events[r->code].nargs; i++)
		cr_assert_eq(out.args[i], r->args[i], "%s argument %u",
			     weft_events[r->code].name, i);
	cr_assert_eq(rst.ts, st->ts);
	cr_assert_eq(rst.obj, st->obj);
	cr_assert_arr_eq(rst.objects, st->objects, sizeof rst.objects,
			 "both sides keep the same table");
	*first = buf[0];
	return (size_t)(end - buf);
}

/* Two addresses with one place in the table, and one with another. */
static void colliding(uint64_t *a, uint64_t *b, uint64_t *c)
{
	*a = 0x7f1234560040ull;
	for (*b = *a + 64; weft_object_slot(*b) != weft_object_slot(*a); *b += 64)
		;
	for (*c = *a + 64; weft_object_slot(*c) == weft_object_slot(*a); *c += 64)
		;
}

static struct weft_record rec3(uint8_t code, uint64_t ts, uint64_t a0,
			       uint64_t a1, uint64_t a2)
{
	return (struct weft_record){ .code = code, .ts = ts, .args = { a0, a1, a2 } };
}

Test(table, every_compact_form_round_trips_in_its_form)
{
	int forms = 0;
	for (unsigned f = 0; f < WEFT_COMPACT_FORMS; f++) {
		const struct weft_compact_form *form = &weft_compact_forms[f];
		if (!form->code)
			continue;
		forms++;
		const uint64_t obj = 0x55d0c0a04040ull;
		struct weft_batch_state st;
		weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 1000);
		st.objects[weft_object_slot(obj)] = (struct weft_object_entry){ obj, 41 };
		struct weft_record r = { .code = form->code, .ts = 1100 };
		size_t kept = 0;
		for (unsigned i = 0; form->pattern[i]; i++) {
			char c = form->pattern[i];
			r.args[i] = c == 'o' ? obj : c == 's' ? 42 : c == '.' ? 11 : (uint64_t)(c - '0');
			kept += c == '.';
		}
		uint8_t first;
		size_t len = round_trip(&st, &r, &first);
		cr_assert_eq(first, weft_compact_code(f, weft_object_slot(obj)),
			     "form %u is written as itself", f);
		cr_assert_eq(len, 1 + 1 + kept, "form %u: code, delta, kept arguments", f);
		if (strchr(form->pattern, 's'))
			cr_assert_eq(st.objects[weft_object_slot(obj)].seq, 42);
		/* A number that does not follow on is written in full. */
		for (unsigned i = 0; form->pattern[i]; i++)
			if (form->pattern[i] == 's') {
				r.args[i] = 44;
				round_trip(&st, &r, &first);
				cr_assert_eq(first, form->code, "form %u: seq 44 after 42", f);
			}
	}
	cr_assert_eq(forms, 15);
}

Test(table, objects_are_indices_once_in_the_table)
{
	uint64_t a, b, c;
	colliding(&a, &b, &c);
	struct weft_batch_state st;
	weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 1000);
	uint8_t first;
	/* Object 0 is in entry 0 from the start. */
	struct weft_record status = { .code = WEFT_EV_STATUS, .ts = 1000,
				      .args = { WEFT_STATE_RUNNING, 0, 0, 0 } };
	cr_assert_eq(round_trip(&st, &status, &first), 6, "STATUS of object 0: 6 bytes");
	/* First use: in full, the address as a difference; then its index. */
	struct weft_record block = { .code = WEFT_EV_COND_WAIT_BEGIN, .ts = 1001,
				     .args = { c, a, 1, 0 } };
	size_t full = round_trip(&st, &block, &first);
	cr_assert_eq(first, WEFT_EV_COND_WAIT_BEGIN);
	cr_assert_gt(full, 10, "two new objects cost their addresses");
	block.args[2] = 5;
	cr_assert_eq(round_trip(&st, &block, &first), 6,
		     "code, delta, two indices, seq, stack");
	cr_assert_eq(st.objects[weft_object_slot(a)].seq, 5, "the number is the mutex's");
	cr_assert_eq(st.objects[weft_object_slot(c)].seq, 0, "not the condvar's");
}

Test(table, an_evicted_object_comes_back_in_full_and_numbers_from_zero)
{
	uint64_t a, b, c;
	colliding(&a, &b, &c);
	struct weft_batch_state st;
	weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 1000);
	unsigned slot = weft_object_slot(a);
	uint8_t first;
	struct weft_record seq[] = {
		rec3(WEFT_EV_MUTEX_ACQUIRE, 1001, a, 7, 0),  /* new: full */
		rec3(WEFT_EV_MUTEX_UNLOCK, 1002, a, 8, 0),   /* compact */
		rec3(WEFT_EV_MUTEX_ACQUIRE, 1003, c, 1, 0),  /* new, other place */
		rec3(WEFT_EV_MUTEX_ACQUIRE, 1004, a, 9, 0),  /* still there */
		rec3(WEFT_EV_MUTEX_ACQUIRE, 1005, b, 1, 0),  /* takes a's place */
		rec3(WEFT_EV_MUTEX_UNLOCK, 1006, b, 2, 0),   /* compact */
		rec3(WEFT_EV_MUTEX_UNLOCK, 1007, a, 10, 0),  /* back: full */
		rec3(WEFT_EV_MUTEX_UNLOCK, 1008, c, 2, 0),   /* untouched */
		rec3(WEFT_EV_MUTEX_ACQUIRE, 1009, a, 11, 0), /* compact again */
	};
	const uint8_t want[] = {
		WEFT_EV_MUTEX_ACQUIRE, weft_compact_code(1, slot),
		WEFT_EV_MUTEX_ACQUIRE, weft_compact_code(0, slot),
		WEFT_EV_MUTEX_ACQUIRE, weft_compact_code(1, slot),
		WEFT_EV_MUTEX_UNLOCK, weft_compact_code(1, weft_object_slot(c)),
		weft_compact_code(0, slot),
	};
	for (size_t i = 0; i < sizeof seq / sizeof seq[0]; i++) {
		round_trip(&st, &seq[i], &first);
		cr_assert_eq(first, want[i], "record %zu: 0x%02x, not 0x%02x", i, first, want[i]);
		if (i == 4)
			cr_assert_eq(st.objects[slot].addr, b);
	}
	/* a's number 10 after it came back was coded from 0. */
	struct weft_batch_state again;
	weft_batch_state_init(&again, WEFT_FORMAT_VERSION, 1000);
	again.objects[slot] = (struct weft_object_entry){ b, 2 };
	again.obj = b;
	uint8_t buf[WEFT_RECORD_MAX];
	uint8_t *end = weft_encode_record(buf, &seq[6], &again);
	cr_assert_eq(end[-2], weft_zigzag(10 - 1), "seq 10 coded from 0");
}

/* Addresses whose difference from the running object is near 2^63 take
 * the escape, and only those. */
Test(table, the_largest_differences_are_escaped)
{
	const struct {
		uint64_t addr;
		int escaped;
	} cases[] = {
		{ 1ull << 63, 1 },                       /* zigzag 2^64 - 1 */
		{ (1ull << 63) - 4, 1 },                 /* zigzag 2^64 - 8 */
		{ (1ull << 63) + 4, 1 },                 /* zigzag 2^64 - 9 */
		{ (1ull << 63) - 5, 0 },                 /* zigzag 2^64 - 10 */
		{ (1ull << 63) + 5, 0 },                 /* zigzag 2^64 - 11 */
		{ UINT64_MAX, 0 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct weft_batch_state st;
		weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 1000);
		struct weft_record r = rec3(WEFT_EV_MUTEX_BLOCK, 1000, cases[i].addr, 3, 0);
		uint8_t buf[WEFT_RECORD_MAX];
		uint8_t *end = weft_encode_record(buf, &r, &st);
		const uint8_t *p = buf + 2;
		uint64_t v;
		cr_assert_eq(weft_get_uleb(&p, end, &v), 0);
		cr_assert_eq(v == WEFT_OBJECT_ESCAPE, cases[i].escaped, "case %zu", i);
		weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 1000);
		uint8_t first;
		round_trip(&st, &r, &first);
	}
}

/* A trace's records cut into batches anywhere, each batch coded from a
 * fresh state, decode batch by batch, each alone, to the same records:
 * objects sharing places, numbers that follow on or not, every form. */
Test(table, every_batch_decodes_alone)
{
	enum { N = 20000, OBJECTS = 24 };
	static struct weft_record recs[N], out[N];
	static uint8_t buf[N * 32];
	uint64_t objs[OBJECTS], seqs[OBJECTS] = { 0 };
	for (int i = 0; i < OBJECTS; i++)
		objs[i] = 0x7f0000000000ull + (uint64_t)i * 40 * (i % 3 ? 1 : 977);
	uint64_t rnd = 12345, ts = 1000;
	for (int i = 0; i < N; i++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		int o = (int)((rnd >> 33) % (rnd >> 62 ? 3 : OBJECTS));
		uint64_t kind = (rnd >> 20) % 6;
		ts += (rnd >> 40) % 300;
		seqs[o] += (rnd >> 50) % 5 ? 1 : 2 + (rnd >> 52) % 100;
		if (kind == 0)
			recs[i] = rec3(WEFT_EV_MUTEX_ACQUIRE, ts, objs[o], seqs[o], (rnd >> 8) % 3);
		else if (kind == 1)
			recs[i] = rec3(WEFT_EV_MUTEX_UNLOCK, ts, objs[o], seqs[o], (rnd >> 8) % 4 ? 0 : 1);
		else if (kind == 2)
			recs[i] = rec3(WEFT_EV_RWLOCK_ACQUIRE, ts, objs[o], seqs[o], 1 + (rnd >> 8) % 2),
			recs[i].args[3] = (rnd >> 9) % 2;
		else if (kind == 3)
			recs[i] = rec3(WEFT_EV_SEM_WAIT_END, ts, objs[o], seqs[o], 0),
			recs[i].args[3] = (rnd >> 9) % 4 ? 0 : 11;
		else if (kind == 4)
			recs[i] = (struct weft_record){ .code = WEFT_EV_COND_WAIT_END, .ts = ts,
				.args = { objs[(o + 1) % OBJECTS], objs[o], seqs[o], 0 } };
		else
			recs[i] = rec3(WEFT_EV_SYSCALL_END, ts, 3, (uint64_t)-1, 4);
	}
	size_t starts[N + 1], nb = 0, len = 0;
	int compact = 0;
	struct weft_batch_state st;
	for (int i = 0; i < N; i++) {
		rnd = rnd * 6364136223846793005ull + 1442695040888963407ull;
		if (i == 0 || (rnd >> 40) % 64 == 0) {
			starts[nb++] = len;
			weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 1000);
		}
		uint8_t *end = weft_encode_record(buf + len, &recs[i], &st);
		compact += buf[len] >= WEFT_COMPACT_BIT;
		len = (size_t)(end - buf);
	}
	starts[nb] = len;
	cr_assert_gt(compact, N / 4, "many records are compact (%d)", compact);
	cr_assert_gt(nb, 100);
	/* Decode the batches in reverse order, each from a fresh state. */
	size_t next = N;
	for (size_t b = nb; b-- > 0;) {
		size_t count = 0;
		weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 1000);
		const uint8_t *p = buf + starts[b];
		while (p < buf + starts[b + 1]) {
			const char *err;
			cr_assert_eq(weft_decode_record(&p, buf + starts[b + 1], &st,
							&out[count], &err), 0, "%s", err);
			count++;
		}
		cr_assert_leq(count, next);
		next -= count;
		for (size_t i = 0; i < count; i++) {
			const struct weft_record *in = &recs[next + i];
			cr_assert_eq(out[i].code, in->code, "record %zu", next + i);
			cr_assert_eq(out[i].ts, in->ts, "record %zu", next + i);
			for (unsigned k = 0; k < weft_events[in->code].nargs; k++)
				cr_assert_eq(out[i].args[k], in->args[k], "record %zu arg %u",
					     next + i, k);
		}
	}
	cr_assert_eq(next, 0);
}

Test(table, compact_records_are_checked_like_full_ones)
{
	struct weft_batch_state st;
	const char *err;
	struct weft_record r;
	/* Form 15 is unassigned. */
	for (unsigned e = 0; e < WEFT_OBJECT_TABLE; e++) {
		uint8_t buf[2] = { weft_compact_code(15, e), 0 };
		const uint8_t *p = buf;
		weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 0);
		cr_assert_eq(weft_decode_record(&p, buf + 2, &st, &r, &err), -1);
		cr_assert_str_eq(err, "unknown event code");
		cr_assert_null(weft_code_name(buf[0], &st));
	}
	/* Cut after the code byte, or before a kept argument. */
	uint8_t unlock[3] = { weft_compact_code(1, 3), 5, 0 };
	for (int cut = 1; cut < 3; cut++) {
		const uint8_t *p = unlock;
		weft_batch_state_init(&st, WEFT_FORMAT_VERSION, 0);
		cr_assert_eq(weft_decode_record(&p, unlock + cut, &st, &r, &err), -1);
		cr_assert_str_eq(err, "truncated record");
		cr_assert_eq(p, unlock, "left at the bad record");
	}
	cr_assert_str_eq(weft_code_name(unlock[0], &st), "MUTEX_UNLOCK");
	/* In a version 4 batch, a byte of 0x80 or more is no code. */
	weft_batch_state_init(&st, 4, 0);
	cr_assert_null(weft_code_name(unlock[0], &st));
	const uint8_t *p = unlock;
	cr_assert_eq(weft_decode_record(&p, unlock + 3, &st, &r, &err), -1);
	cr_assert_str_eq(err, "unknown event code");
}

/* A trace weft wrote in format version 4 (tests/traces/v4-sync-zoo.trace:
 * tests/programs/sync_zoo, every kind of object) is still read and
 * checked, and coded again in version 5 it is the same trace, smaller. */
Test(reader, version_4_trace_is_read_and_recodes_to_version_5)
{
	char path[4096];
	const char *slash = strrchr(__FILE__, '/');
	snprintf(path, sizeof path, "%.*s/traces/v4-sync-zoo.trace",
		 slash ? (int)(slash - __FILE__) : 1, slash ? __FILE__ : ".");
	struct weft_reader r;
	cr_assert_eq(weft_reader_open(&r, path), WEFT_READ_OK, "%s: %s", path, r.error);
	cr_assert_eq(r.header.version, 4);
	struct weft_check_result old_res;
	cr_assert_eq(weft_check(&r, NULL, NULL, &old_res), WEFT_CHECK_OK, "%s", old_res.error);
	weft_reader_close(&r);
	cr_assert_eq(old_res.events, 369);

	/* The same batches, their records coded in version 5. */
	cr_assert_eq(weft_reader_open(&r, path), WEFT_READ_OK);
	size_t cap = r.size * 2 + WEFT_RECORD_MAX, len = r.pos;
	uint8_t *v5 = malloc(cap);
	cr_assert(v5);
	memcpy(v5, r.data, len);
	weft_put_le32(v5 + 8, 5);
	struct weft_batch b;
	int rc, records = 0;
	while ((rc = weft_reader_next_batch(&r, &b)) == WEFT_READ_OK) {
		size_t start = len;
		len += WEFT_BATCH_HEADER_SIZE;
		struct weft_cursor c;
		struct weft_record rec;
		struct weft_batch_state st;
		weft_batch_state_init(&st, 5, b.header.base_ts);
		weft_cursor_init(&c, &b);
		while ((rc = weft_cursor_next(&r, &c, &rec)) == WEFT_READ_OK) {
			cr_assert_leq(len + WEFT_RECORD_MAX, cap);
			len = (size_t)(weft_encode_record(v5 + len, &rec, &st) - v5);
			records++;
		}
		cr_assert_eq(rc, WEFT_READ_END, "%s", r.error);
		struct weft_batch_header h = b.header;
		h.length = (uint32_t)(len - start - WEFT_BATCH_HEADER_SIZE);
		weft_put_batch_header(v5 + start, &h);
	}
	cr_assert_eq(rc, WEFT_READ_END, "%s", r.error);
	size_t old_size = r.size;

	/* Both decode to the same records. */
	struct weft_reader r5;
	cr_assert_eq(weft_reader_open_memory(&r5, v5, len), WEFT_READ_OK, "%s", r5.error);
	cr_assert_eq(weft_reader_open(&r, path), WEFT_READ_OK);
	struct weft_batch b5;
	int same = 0;
	while (weft_reader_next_batch(&r, &b) == WEFT_READ_OK) {
		cr_assert_eq(weft_reader_next_batch(&r5, &b5), WEFT_READ_OK, "%s", r5.error);
		struct weft_cursor c, c5;
		struct weft_record rec, rec5;
		weft_cursor_init(&c, &b);
		weft_cursor_init(&c5, &b5);
		while (weft_cursor_next(&r, &c, &rec) == WEFT_READ_OK) {
			cr_assert_eq(weft_cursor_next(&r5, &c5, &rec5), WEFT_READ_OK, "%s",
				     r5.error);
			cr_assert_eq(rec5.code, rec.code);
			cr_assert_eq(rec5.ts, rec.ts);
			for (unsigned i = 0; i < weft_events[rec.code].nargs; i++)
				cr_assert_eq(rec5.args[i], rec.args[i], "%s argument %u",
					     weft_events[rec.code].name, i);
			cr_assert_eq(rec5.nbytes, rec.nbytes);
			cr_assert_eq(rec5.npcs, rec.npcs);
			same++;
		}
		cr_assert_eq(weft_cursor_next(&r5, &c5, &rec5), WEFT_READ_END);
	}
	weft_reader_close(&r);
	cr_assert_eq(same, records);
	cr_assert_lt(len, old_size, "version 5 is smaller (%zu bytes, was %zu)", len,
		     old_size);
	struct weft_check_result res;
	cr_assert_eq(weft_reader_open_memory(&r5, v5, len), WEFT_READ_OK);
	cr_assert_eq(weft_check(&r5, NULL, NULL, &res), WEFT_CHECK_OK, "%s", res.error);
	cr_assert_eq(res.events, old_res.events);
	free(v5);
}
