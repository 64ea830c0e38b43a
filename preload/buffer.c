/*
 * buffer.c - per-thread trace buffers: the pool they come from, starting a
 * batch, and writing full batches to the trace file, whose descriptor it
 * owns.
 *
 * A thread's buffer is started by writing its batch header before any
 * record, whatever record comes first, then the thread's STATUS (if no
 * STATUS has been written for it in this generation) and a LOST record (if
 * events were dropped).  Buffers come from a pool capped by WEFT_MEMORY_MB;
 * when the pool is exhausted events are dropped and counted, and the thread
 * never waits.
 *
 * A full buffer is handed to the writer: pushed on a lock-free queue that
 * the control thread (woken through the control pipe, channel.c) drains,
 * one write(2) per batch (through syscall(2), never a wrapper), so an
 * application thread never waits on the trace file, however slow it is:
 * when the writer falls behind, the pool runs dry and events are dropped
 * and counted instead.  When there is no control
 * thread (it could not be started, or it has ended with the program's last
 * thread) the flushing thread drains the queue itself.  Draining holds
 * weft_output_lock, so batches are written in the order they were queued
 * and never interleave, even on a pipe.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "put.h"
#include "state.h"
#include "weft.h"

int weft_out_fd = -1;
static weft_lock_t weft_output_lock = WEFT_LOCK_INIT;
static weft_lock_t weft_pool_lock = WEFT_LOCK_INIT;
static uint8_t *pool_free;      /* free list, linked through each buffer */
static uint64_t pool_allocated; /* bytes mapped so far */
/* The pool had no buffer and no room for one at the last look: while the
 * writer falls behind, every event is dropped, and it is dropped without
 * taking the pool lock (two threads taking it for each event, and one of
 * them preempted while holding it, slowed the program down many times). */
static _Atomic int pool_dry;
static _Atomic int output_failed;
static _Atomic uint32_t batches_written[2]; /* by generation parity */
static _Atomic uint64_t bytes_written;

/* Each pool buffer ends with a trailer the buffer's events never reach
 * (weft_config.buffer_size stops short of it): its link and length while
 * it waits in the write queue. */
struct queued_batch {
	uint8_t *next;
	uint32_t length;
};
#define BUFFER_ALLOCATION(cfg) ((cfg).buffer_size + WEFT_BUFFER_TRAILER)
_Static_assert(sizeof(struct queued_batch) <= WEFT_BUFFER_TRAILER,
	       "the queue trailer fits in the room kept for it");

static _Atomic(uint8_t *) write_queue; /* newest first */

static struct queued_batch *trailer(uint8_t *b)
{
	return (struct queued_batch *)(void *)(b + weft_config.buffer_size);
}

uint64_t weft_output_bytes(void)
{
	return atomic_load(&bytes_written);
}

uint8_t *weft_pool_get(void)
{
	if (atomic_load_explicit(&pool_dry, memory_order_relaxed))
		return NULL;
	uint8_t *b = NULL;
	weft_lock(&weft_pool_lock);
	if (pool_free) {
		b = pool_free;
		pool_free = *(uint8_t **)b;
	} else if (pool_allocated + BUFFER_ALLOCATION(weft_config) <=
		   weft_config.memory_cap) {
		void *p = mmap(NULL, BUFFER_ALLOCATION(weft_config),
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED) {
			b = p;
			pool_allocated += BUFFER_ALLOCATION(weft_config);
		}
	}
	if (!b)
		atomic_store_explicit(&pool_dry, 1, memory_order_relaxed);
	weft_unlock(&weft_pool_lock);
	return b;
}

void weft_pool_put(uint8_t *b)
{
	weft_lock(&weft_pool_lock);
	*(uint8_t **)b = pool_free;
	pool_free = b;
	atomic_store_explicit(&pool_dry, 0, memory_order_relaxed);
	weft_unlock(&weft_pool_lock);
}

/* In a fork child: the queued batches are the parent's to write. */
void weft_pool_reset_after_fork(void)
{
	weft_pool_lock = (weft_lock_t)WEFT_LOCK_INIT;
	weft_output_lock = (weft_lock_t)WEFT_LOCK_INIT;
	uint8_t *b = atomic_exchange(&write_queue, NULL);
	while (b) {
		uint8_t *next = trailer(b)->next;
		weft_pool_put(b);
		b = next;
	}
}

void weft_output_lock_all(void)
{
	weft_lock(&weft_output_lock);
	weft_lock(&weft_pool_lock);
}

void weft_output_unlock_all(void)
{
	weft_unlock(&weft_pool_lock);
	weft_unlock(&weft_output_lock);
}

/* Writes n bytes to the trace file, the output lock held.  Returns 0, or
 * -1 when the file cannot be written (reported once; later batches are
 * dropped). */
static int write_locked(const uint8_t *p, size_t n)
{
	if (atomic_load(&output_failed) || weft_out_fd < 0)
		return -1;
	int saved = errno;
	int rc = 0;
	while (n > 0) {
		long w = syscall(SYS_write, weft_out_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = -1;
			if (!atomic_exchange(&output_failed, 1))
				weft_warn("cannot write the trace file (%s); "
					  "tracing goes on, but events are lost",
					  strerrorname_np(errno) ? strerrorname_np(errno) : "error");
			break;
		}
		p += w;
		n -= (size_t)w;
		atomic_fetch_add(&bytes_written, (uint64_t)w);
	}
	errno = saved;
	return rc;
}

/* The program is about to reuse the trace file's descriptor number (dup2
 * onto it): the trace moves to another number first. */
void weft_output_move_fd(void)
{
	weft_lock(&weft_output_lock);
	int moved = weft_park_fd_copy(weft_out_fd);
	if (moved >= 0)
		weft_out_fd = moved; /* the old number is the program's now */
	weft_unlock(&weft_output_lock);
}

/* Writes n bytes to the trace file as one unit. */
int weft_output_write(const uint8_t *p, size_t n)
{
	weft_lock(&weft_output_lock);
	int rc = write_locked(p, n);
	weft_unlock(&weft_output_lock);
	return rc;
}

/* Writes every queued batch, oldest first, and gives the buffers back.
 * Holding the output lock across the whole drain keeps two drainers from
 * writing one thread's batches out of order. */
void weft_output_drain(void)
{
	if (!atomic_load(&write_queue))
		return;
	weft_lock(&weft_output_lock);
	uint8_t *newest = atomic_exchange(&write_queue, NULL);
	uint8_t *oldest = NULL;
	while (newest) { /* reverse the LIFO */
		uint8_t *next = trailer(newest)->next;
		trailer(newest)->next = oldest;
		oldest = newest;
		newest = next;
	}
	while (oldest) {
		uint8_t *next = trailer(oldest)->next;
		write_locked(oldest, trailer(oldest)->length);
		weft_pool_put(oldest);
		oldest = next;
	}
	weft_unlock(&weft_output_lock);
}

/* Completes the batch in slot and hands it to the writer; the slot is left
 * without a buffer. */
void weft_buffer_flush(struct weft_thread *t, unsigned slot)
{
	uint8_t *b = t->buf[slot];
	if (!b || t->buf_gen[slot] == 0)
		return;
	uint32_t len = t->pos[slot] - WEFT_BATCH_HEADER_SIZE;
	weft_put_le32(b + 12, len);
	atomic_fetch_add(&batches_written[slot], 1);
	t->pos[slot] = 0;
	t->buf_gen[slot] = 0;
	t->buf[slot] = NULL;

	trailer(b)->length = len + WEFT_BATCH_HEADER_SIZE;
	uint8_t *head = atomic_load(&write_queue);
	do
		trailer(b)->next = head;
	while (!atomic_compare_exchange_weak(&write_queue, &head, b));
	if (!weft_channel_wake_writer(head == NULL))
		weft_output_drain();
}

void weft_buffer_release(struct weft_thread *t, unsigned slot)
{
	if (t->buf[slot]) {
		weft_pool_put(t->buf[slot]);
		t->buf[slot] = NULL;
	}
}

static void start_batch(struct weft_thread *t, unsigned slot, uint32_t gen)
{
	uint64_t base = weft_now();
	struct weft_batch_header h = {
		.serial = t->serial, .generation = gen, .length = 0,
		.base_ts = base,
	};
	weft_put_batch_header(t->buf[slot], &h);
	t->pos[slot] = WEFT_BATCH_HEADER_SIZE;
	t->buf_gen[slot] = gen;
	t->last_ts[slot] = base;
	t->last_obj[slot] = 0;
	memset(t->objects[slot], 0, sizeof t->objects[slot]);
}

/* A thread's STATUS for gen, at the head of its buffer: one record per
 * state it is in, outermost first (format/SPEC.md, section 7.4).  When
 * its waits nest deeper than its record keeps, its state is not known:
 * the STATUS is counted as lost instead. */
static void put_status(struct weft_thread *t, uint32_t gen)
{
	struct weft_state st[WEFT_STATE_LEVELS];
	unsigned n = weft_state_snapshot(t, st);
	if (n == 0)
		atomic_fetch_add(&t->lost[gen & 1], 1);
	for (unsigned i = 0; i < n; i++) {
		/* since is the clock value the state began at. */
		if (i == 0)
			WEFT_EMIT_RAW(t, gen, STATUS, t->last_ts[gen & 1], st[i].state,
				      st[i].syscall, st[i].object, st[i].since);
		else
			WEFT_EMIT_RAW(t, gen, STATUS_NESTED, t->last_ts[gen & 1],
				      st[i].state, st[i].syscall, st[i].object,
				      st[i].since);
	}
}

/* The slow path of weft_ev_begin(): start or renew the buffer for gen, and
 * report events dropped since the thread's last record.  Returns gen when
 * the caller may write one event, 0 when it is dropped. */
uint32_t weft_buffer_prepare(struct weft_thread *t, uint32_t gen)
{
	int saved = errno;
	unsigned slot = gen & 1;
	if (t->buf[slot] && t->buf_gen[slot] == gen &&
	    t->pos[slot] + WEFT_EVENT_ROOM > weft_config.buffer_size)
		weft_buffer_flush(t, slot); /* full */
	if (!t->buf[slot] || t->buf_gen[slot] != gen) {
		if (!t->buf[slot])
			t->buf[slot] = weft_pool_get();
		if (!t->buf[slot]) {
			atomic_fetch_add(&t->lost[slot], 1);
			errno = saved;
			return 0;
		}
		start_batch(t, slot, gen);
		/* The thread's STATUS, unless the advancer wrote it already
		 * (the CAS decides) or the thread has not started
		 * (THREAD_START comes first). */
		uint32_t seen = atomic_load(&t->status_gen);
		if (seen != gen && atomic_load(&t->started) &&
		    atomic_compare_exchange_strong(&t->status_gen, &seen, gen))
			put_status(t, gen);
	}
	uint64_t lost = atomic_load(&t->lost[slot]);
	if (lost) {
		WEFT_EMIT_RAW(t, gen, LOST, t->last_ts[slot], lost);
		atomic_fetch_sub(&t->lost[slot], lost);
	}
	errno = saved;
	return gen;
}

void weft_batches_add(uint32_t gen)
{
	atomic_fetch_add(&batches_written[gen & 1], 1);
}

/* Thread batches flushed for gen (the count GEN_END carries). */
uint32_t weft_batches_take(uint32_t gen)
{
	return atomic_exchange(&batches_written[gen & 1], 0);
}
