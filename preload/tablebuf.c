/*
 * tablebuf.c - process batches built in a growable buffer.
 *
 * Every batch starts in a buffer that is part of the library's own image,
 * mapped when it was loaded, so a trace can be completed in a process that
 * can map nothing more (one that lowered RLIMIT_AS below what it uses, or
 * ran out of memory): only a batch larger than that (large stack tables)
 * needs a mapping of its own.  One batch is built at a time: every caller
 * holds weft_control_lock (or is a fork child's only thread).  When a
 * batch cannot be built, it is not written, and the trace reads as
 * truncated; nothing is said on the program's stderr.
 */
#include <string.h>
#include <sys/mman.h>

#include "tablebuf.h"
#include "weft.h"

#define RESERVE_SIZE 65536
static uint8_t reserve[RESERVE_SIZE] __attribute__((aligned(64)));

static void tb_reserve(struct weft_tablebuf *tb, size_t more)
{
	if (tb->failed || tb->len + more <= tb->cap)
		return;
	size_t cap = tb->cap;
	while (cap < tb->len + more)
		cap *= 2;
	void *p;
	if (tb->p == reserve) {
		p = mmap(NULL, cap, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			memcpy(p, reserve, tb->len);
	} else {
		p = mremap(tb->p, tb->cap, cap, MREMAP_MAYMOVE);
	}
	if (p == MAP_FAILED) {
		tb->failed = 1;
		return;
	}
	tb->p = p;
	tb->cap = cap;
}

static void tb_release(struct weft_tablebuf *tb)
{
	if (tb->p != reserve)
		munmap(tb->p, tb->cap);
	*tb = (struct weft_tablebuf){ 0 };
}

void weft_tb_begin(struct weft_tablebuf *tb, uint32_t serial, uint32_t gen,
		   uint64_t base_ts)
{
	*tb = (struct weft_tablebuf){ .p = reserve, .cap = RESERVE_SIZE };
	struct weft_batch_header h = { .serial = serial, .generation = gen,
				       .length = 0, .base_ts = base_ts };
	weft_put_batch_header(tb->p, &h);
	tb->len = WEFT_BATCH_HEADER_SIZE;
	weft_batch_state_init(&tb->state, WEFT_FORMAT_VERSION, base_ts);
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
	}
	tb_release(tb);
}
