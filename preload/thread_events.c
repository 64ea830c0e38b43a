/*
 * thread_events.c - a traced thread's first and last records: its
 * THREAD_START, written when weft starts the thread or when a thread weft
 * did not start (main, or one created before weft was loaded) first calls
 * a wrapper; its THREAD_EXIT, after which nothing of it is traced; and,
 * when it is unwound out of weft's own code, closing what it left open.
 */
#include "emit.h"
#include "lockcount.h"
#include "weft.h"

/* Writes THREAD_START for the calling thread, whose record is t. */
static void thread_started(struct weft_thread *t)
{
	t->tid = weft_gettid();
	pthread_t me = pthread_self();
	__atomic_store_n(&t->pthread, me, __ATOMIC_RELAXED);
	weft_self_tls = t;
	uint64_t ts = weft_now();
	/* THREAD_START is the thread's first record, in whatever generation
	 * it lands: neither the thread nor the advancer writes a STATUS for
	 * it there, and the advancer writes one in every later generation. */
	uint32_t g = weft_ev_begin(t);
	if (g) {
		atomic_store(&t->status_gen, g);
		WEFT_EMIT(t, g, THREAD_START, ts, t->parent, (uint64_t)t->tid,
			  (uint64_t)me);
	}
	weft_state_reset(t, WEFT_STATE_RUNNING, ts);
	atomic_store(&t->started, 1);
	weft_ev_end(t);
}

/* Registers a thread weft did not start (main, or one created before weft
 * was loaded) on its first traced call. */
struct weft_thread *weft_thread_attach(void)
{
	if (weft_thread_done || !weft_initialized)
		return NULL;
	weft_busy++;
	struct weft_thread *t = weft_thread_new(0);
	weft_busy--;
	if (t)
		thread_started(t);
	return t;
}

void weft_thread_start_created(struct weft_thread *t)
{
	t->via_trampoline = 1;
	thread_started(t);
}

/* The calling thread is ending: record it, flush its buffer and stop
 * tracing it (destructors that run later pass through untraced). */
void weft_thread_finish(struct weft_thread *t)
{
	/* A signal handler that runs from here on is not traced: nothing
	 * of the thread may follow its THREAD_EXIT. */
	weft_self_tls = NULL;
	weft_thread_done = 1;
	atomic_signal_fence(memory_order_seq_cst);
	if (weft_light())
		weft_counts_flush(t);
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(t);
	if (g) {
		WEFT_EMIT0(t, g, THREAD_EXIT, ts);
		weft_buffer_flush(t, g & 1);
		weft_buffer_release(t, g & 1);
	}
	weft_state_reset(t, WEFT_STATE_EXITED, ts);
	weft_cpu_note_exit(t, g);
	atomic_store(&t->exited, 1);
	weft_ev_end(t);
	weft_channel_thread_exited();
}

/*
 * The calling thread is being unwound (cancelled, or pthread_exit) and may
 * have left weft's own code half-way: asynchronous cancellation landing
 * in a wrapper, which POSIX leaves undefined, or pthread_exit from a
 * signal handler that interrupted one.  weft's code is left for good; an
 * event section left open is closed: its record was never committed, but
 * the object sequence number it took, and the object its successor would
 * be coded against, may be, so its batch is written out as it stands and
 * the record is counted as lost (the thread's next batch says so).
 */
void weft_thread_unwound(struct weft_thread *t)
{
	if (!weft_busy)
		return;
	weft_busy = 0;
	weft_nested_drop(t);
	uint64_t seq = atomic_load(&t->seqlock);
	if (!(seq & 1))
		return;
	for (unsigned slot = 0; slot < 2; slot++)
		weft_buffer_flush(t, slot);
	uint32_t gen = atomic_load(&weft_generation);
	if (gen)
		atomic_fetch_add(&t->lost[gen & 1], 1);
	atomic_store_explicit(&t->seqlock, seq + 1, memory_order_release);
}
