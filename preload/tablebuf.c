/*
 * tablebuf.c - process batches built in a growable mmap'd buffer.
 */
#include <sys/mman.h>

#include "tablebuf.h"
#include "weft.h"

static void tb_reserve(struct weft_tablebuf *tb, size_t more)
{
	if (tb->failed || tb->len + more <= tb->cap)
		return;
	size_t cap = tb->cap ? tb->cap : 65536;
	while (cap < tb->len + more)
		cap *= 2;
	void *p = tb->p ? mremap(tb->p, tb->cap, cap, MREMAP_MAYMOVE)
			: mmap(NULL, cap, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		tb->failed = 1;
		return;
	}
	tb->p = p;
	tb->cap = cap;
}

void weft_tb_begin(struct weft_tablebuf *tb, uint32_t serial, uint32_t gen,
		   uint64_t base_ts)
{
	*tb = (struct weft_tablebuf){ 0 };
	tb_reserve(tb, WEFT_BATCH_HEADER_SIZE);
	if (tb->failed)
		return;
	struct weft_batch_header h = { .serial = serial, .generation = gen,
				       .length = 0, .base_ts = base_ts };
	weft_put_batch_header(tb->p, &h);
	tb->len = WEFT_BATCH_HEADER_SIZE;
	tb->state = (struct weft_batch_state){ base_ts, 0 };
}

void weft_tb_record(struct weft_tablebuf *tb, const struct weft_record *r)
{
	tb_reserve(tb, WEFT_RECORD_MAX);
	if (tb->failed)
		return;
	tb->len = (size_t)(weft_encode_record(tb->p + tb->len, r, &tb->state) - tb->p);
}

void weft_tb_write(struct weft_tablebuf *tb)
{
	if (!tb->failed) {
		weft_put_le32(tb->p + 12, (uint32_t)(tb->len - WEFT_BATCH_HEADER_SIZE));
		weft_output_write(tb->p, tb->len);
	} else {
		weft_warn("out of memory writing the trace's tables");
	}
	if (tb->p)
		munmap(tb->p, tb->cap);
	*tb = (struct weft_tablebuf){ 0 };
}
