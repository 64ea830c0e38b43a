/*
 * test_format.c - unit tests of the trace format: varints, the encoder and
 * decoder for every event kind in the table, and the reader's handling of
 * file headers and batch framing, including damaged input.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
