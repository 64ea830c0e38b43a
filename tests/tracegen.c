/*
 * tracegen.c - in-memory trace builder (see tracegen.h), and the check of
 * what it builds, which must come out the same on any number of threads.
 */
#include "tracegen.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "reader.h"

static void reserve(struct tg *t, size_t more)
{
	if (t->len + more <= t->cap)
		return;
	while (t->cap < t->len + more)
		t->cap = t->cap ? t->cap * 2 : 65536;
	t->data = realloc(t->data, t->cap);
	if (!t->data)
		abort();
}

void tg_init(struct tg *t)
{
	memset(t, 0, sizeof *t);
	reserve(t, 64);
	memcpy(t->data, WEFT_MAGIC, WEFT_MAGIC_LEN);
	weft_put_le32(t->data + 8, WEFT_FORMAT_VERSION);
	uint8_t *p = t->data + WEFT_FILE_HEADER_FIXED;
	const uint64_t fields[] = { WEFT_CLOCK_MONOTONIC, 1000000000, 100, 1, 0, 1000 };
	for (int i = 0; i < 6; i++)
		p = weft_put_uleb(p, fields[i]);
	weft_put_le32(t->data + 12, (uint32_t)(p - t->data - WEFT_FILE_HEADER_FIXED));
	t->len = (size_t)(p - t->data);
}

void tg_version(struct tg *t, uint32_t version)
{
	weft_put_le32(t->data + 8, version);
}

void tg_free(struct tg *t)
{
	free(t->data);
	memset(t, 0, sizeof *t);
}

void tg_close(struct tg *t)
{
	if (!t->in_batch)
		return;
	weft_put_le32(t->data + t->batch_start + 12,
		      (uint32_t)(t->len - t->batch_start - WEFT_BATCH_HEADER_SIZE));
	t->in_batch = 0;
}

void tg_batch(struct tg *t, uint32_t serial, uint32_t gen, uint64_t base_ts)
{
	tg_close(t);
	reserve(t, WEFT_BATCH_HEADER_SIZE);
	struct weft_batch_header h = { serial, gen, 0, base_ts };
	weft_put_batch_header(t->data + t->len, &h);
	t->batch_start = t->len;
	t->len += WEFT_BATCH_HEADER_SIZE;
	t->in_batch = 1;
	t->serial = serial;
	t->gen = gen;
	weft_batch_state_init(&t->state, weft_get_le32(t->data + 8), base_ts);
	if (serial)
		t->thread_batches[gen % 64]++;
}

void tg_ev(struct tg *t, uint8_t code, uint64_t ts, const uint64_t *args, int nargs)
{
	struct weft_record r;
	memset(&r, 0, sizeof r);
	r.code = code;
	for (int i = 0; i < nargs && i < WEFT_MAX_ARGS; i++)
		r.args[i] = args[i];
	reserve(t, WEFT_RECORD_MAX);
	r.ts = ts;
	t->len = (size_t)(weft_encode_record(t->data + t->len, &r, &t->state) - t->data);
}

void tg_bytes(struct tg *t, const void *p, size_t n)
{
	reserve(t, n);
	memcpy(t->data + t->len, p, n);
	t->len += n;
}

void tg_clock(struct tg *t, uint32_t gen)
{
	tg_batch(t, 0, gen, 1000);
	TG(t, CLOCK, 0, 1000, 1000000000, 0);
	tg_close(t);
}

void tg_gen_end(struct tg *t, uint32_t gen, int last)
{
	tg_batch(t, 0, gen, 1000);
	TG(t, GEN_END, 0, gen, t->thread_batches[gen % 64]);
	t->thread_batches[gen % 64] = 0;
	if (last)
		TG(t, TRACE_END, 0, gen);
	tg_close(t);
}

/* Folds v into the hash *h (FNV-1a, a byte at a time). */
static void fold(uint64_t *h, uint64_t v)
{
	for (int i = 0; i < 8; i++, v >>= 8) {
		*h ^= v & 0xff;
		*h *= 0x100000001b3ull;
	}
}

/* Every event weft_check() gives, and what it changed, into a hash. */
static void hash_event(void *ctx, const struct weft_check_event *ev)
{
	uint64_t *h = ctx;
	const struct weft_record *rec = ev->rec;
	fold(h, ev->generation);
	fold(h, ev->serial);
	fold(h, ev->offset);
	fold(h, rec->code);
	fold(h, rec->ts);
	for (unsigned i = 0; i < weft_events[rec->code].nargs; i++)
		fold(h, rec->args[i]);
	fold(h, rec->nbytes);
	for (uint32_t i = 0; i < rec->nbytes; i++)
		fold(h, rec->bytes[i]);
	fold(h, rec->npcs);
	for (uint32_t i = 0; i < rec->npcs; i++)
		fold(h, rec->pcs[i]);
	const struct weft_state_change *ch = ev->change;
	fold(h, ch != NULL);
	if (ch) {
		fold(h, ch->serial);
		fold(h, ch->hold);
		fold(h, ch->object);
		fold(h, ch->mode);
		fold(h, ch->depth);
		fold(h, ch->flags);
		fold(h, ch->restored);
		fold(h, ch->began);
		fold(h, ch->ended);
		fold(h, ch->about);
	}
}

/* Checks t's bytes on jobs threads; the events given are hashed into *h. */
static enum weft_verdict check_jobs(struct tg *t, struct weft_check_result *res,
				    unsigned jobs, uint64_t *h)
{
	struct weft_reader r;
	memset(res, 0, sizeof *res);
	int rc = weft_reader_open_memory(&r, t->data, t->len);
	if (rc != WEFT_READ_OK) {
		res->verdict = WEFT_CHECK_INCONSISTENT;
		memcpy(res->error, r.error, sizeof r.error);
		return res->verdict;
	}
	*h = 0xcbf29ce484222325ull;
	return weft_check_jobs(&r, hash_event, h, res, jobs);
}

/* Every trace a test checks is checked on one thread and on four: the
 * verdict, the counts, the messages, the findings and every event given
 * must be the same. */
enum weft_verdict tg_check(struct tg *t, struct weft_check_result *res)
{
	tg_close(t);
	static struct weft_check_result other;
	uint64_t h1, h4;
	enum weft_verdict v = check_jobs(t, res, 1, &h1);
	check_jobs(t, &other, 4, &h4);
	cr_assert(memcmp(res, &other, sizeof other) == 0,
		  "checked on 4 threads, the result differs from one thread's:\n"
		  "  1: verdict %d, %s %s\n  4: verdict %d, %s %s", res->verdict,
		  res->error, res->note, other.verdict, other.error, other.note);
	cr_assert_eq(h1, h4, "checked on 4 threads, the events given differ "
		     "from one thread's");
	return v;
}
