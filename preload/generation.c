/*
 * generation.c - the advancer: opening, rotating and closing generations.
 *
 * Every change of generation happens here, with weft_control_lock held (the
 * control thread, process exit, exec and fork all take it), following one
 * protocol:
 *
 *   1. write the new generation's CLOCK record (with its MODE and
 *      PROCESS), then publish its number (0 when tracing stops);
 *   2. wait until every thread's seqlock is even or has moved: no thread is
 *      still inside an event section that read the old number;
 *   3. write a STATUS for every started thread that has not written its own
 *      in the new generation (a CAS on its status word decides who does),
 *      then a THREAD_INFO for each that names it and its THREAD_CPU;
 *   4. flush what is left of the old generation's buffers, report losses of
 *      threads that had no buffer, and write the old generation's tables,
 *      its threads' THREAD_CPU and GEN_END.
 *
 * Completing the trace (at exit, before exec, on a fatal signal) is the
 * same advance, END, made once the process is leaving.
 */
#include <errno.h>
#include <linux/membarrier.h>
#include <sched.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "state.h"
#include "tablebuf.h"
#include "weft.h"

_Atomic uint32_t weft_generation;
int weft_membarrier;
weft_lock_t weft_control_lock = WEFT_LOCK_INIT;
int weft_initialized;

/* Lets the advancer make every thread of the process execute a memory
 * barrier (membarrier(2), private expedited), so that event sections need
 * no fence of their own.  Registered at load and again in a fork child. */
void weft_membarrier_register(void)
{
	weft_membarrier = syscall(SYS_membarrier,
				  MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0, 0) == 0;
}

/* After a new generation is published: every thread that read the old
 * number has made its section's odd seqlock visible. */
static void fence_all_threads(void)
{
	if (weft_membarrier)
		syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0, 0);
}
static uint32_t last_generation;   /* highest generation ever opened */
static uint32_t generations_ended;
static uint64_t generation_began;  /* clock value the current one opened at */
static uint64_t bytes_at_open;     /* trace bytes written before it opened */
static int trace_end_written;      /* no generation opened since TRACE_END */
int weft_ending;                   /* the process is exiting: no restarts */

void weft_generations_reset(void)
{
	last_generation = 0;
	generations_ended = 0;
	trace_end_written = 0;
}

uint64_t weft_output_bytes_in_generation(void)
{
	return weft_output_bytes() - bytes_at_open;
}

uint64_t weft_generation_began(void)
{
	return generation_began;
}

static uint64_t wallclock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Writes the next generation's CLOCK record; returns its number. */
static uint32_t generation_prepare(void)
{
	uint32_t gen = ++last_generation;
	weft_batches_take(gen); /* no count left from an earlier parity user */
	uint64_t now = weft_now();
	generation_began = now;
	bytes_at_open = weft_output_bytes();
	trace_end_written = 0;
	struct weft_tablebuf tb;
	weft_tb_begin(&tb, 0, gen, now);
	struct weft_record r = { .code = WEFT_EV_CLOCK };
	r.args[0] = now;
	r.args[1] = weft_clock_frequency();
	r.args[2] = wallclock_ns();
	weft_tb_record(&tb, &r);
	weft_counts_write_mode(&tb);
	weft_process_write(&tb);
	weft_tb_write(&tb);
	return gen;
}

/*
 * Step 3: the STATUS of each started thread that has not written its own.
 * The thread's state is read between two reads of its seqlock that agree
 * (so no section changed it meanwhile), then the CAS on its status word
 * claims the STATUS.  A thread whose seqlock moves is inside a section
 * that read the new generation: it claims and writes its own.  Exited
 * threads no one has joined are reported EXITED, so a join in this
 * generation can be checked.
 */
static void write_statuses(uint32_t gen)
{
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		if (!atomic_load(&t->started) || atomic_load(&t->joined))
			continue;
		uint64_t before = atomic_load(&t->seqlock);
		if (before & 1)
			continue;
		struct weft_state snap[WEFT_STATE_LEVELS];
		unsigned n = weft_state_snapshot(t, snap);
		atomic_thread_fence(memory_order_acquire);
		if (atomic_load(&t->seqlock) != before)
			continue;
		/* A thread that already dropped events of gen may have changed
		 * state since it began (even ended): its state at the start is
		 * not known, and its LOST record opens its generation. */
		if (atomic_load(&t->lost[gen & 1]))
			continue;
		uint32_t seen = atomic_load(&t->status_gen);
		if (seen == gen ||
		    !atomic_compare_exchange_strong(&t->status_gen, &seen, gen))
			continue;
		struct weft_tablebuf tb;
		weft_tb_begin(&tb, t->serial, gen, generation_began);
		/* One record per state, outermost first; a thread whose
		 * waits nest deeper than its record keeps is in a state
		 * that is not known: one event (its STATUS) lost. */
		struct weft_record r = { .code = WEFT_EV_LOST, .ts = generation_began };
		r.args[0] = 1;
		if (n == 0)
			weft_tb_record(&tb, &r);
		for (unsigned i = 0; i < n; i++) {
			r.code = i == 0 ? WEFT_EV_STATUS : WEFT_EV_STATUS_NESTED;
			r.args[0] = snap[i].state;
			r.args[1] = snap[i].syscall;
			r.args[2] = snap[i].object;
			r.args[3] = snap[i].since;
			weft_tb_record(&tb, &r);
		}
		weft_tb_write(&tb);
		weft_batches_add(gen);
	}
}

/*
 * After the STATUS records: a THREAD_INFO for every thread that has one,
 * whoever wrote it, so a reader can name each thread of the generation
 * even when its THREAD_START and THREAD_NAME were written while tracing
 * was off (a session begun by `weft start`).  One process batch holds
 * them all.
 */
static void write_thread_infos(uint32_t gen)
{
	struct weft_tablebuf tb;
	int any = 0;
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		if (!atomic_load(&t->started) || atomic_load(&t->joined))
			continue;
		if (!any)
			weft_tb_begin(&tb, 0, gen, generation_began);
		any = 1;
		char name[16];
		struct weft_record r = { .code = WEFT_EV_THREAD_INFO };
		r.args[0] = t->serial;
		r.args[1] = t->parent;
		r.args[2] = (uint64_t)t->tid;
		r.args[3] = (uint64_t)__atomic_load_n(&t->pthread, __ATOMIC_RELAXED);
		r.nbytes = (uint32_t)weft_thread_get_name(t, name);
		r.bytes = (const uint8_t *)name;
		weft_tb_record(&tb, &r);
		weft_cpu_record_begin(&tb, t);
	}
	if (any)
		weft_tb_write(&tb);
}

/* Waits until no thread can still be writing into a retired generation:
 * each seqlock is even, or has moved since it was first seen. */
static void wait_for_writers(void)
{
	struct weft_thread *me = weft_self_tls;
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		uint64_t v = atomic_load(&t->seqlock);
		if (!(v & 1) || t == me)
			continue;
		/* A thread stopped inside an event for over a second (a signal
		 * handler that never returned) is given up on. */
		for (int spin = 0; spin < 100000 && atomic_load(&t->seqlock) == v; spin++) {
			if (spin < 100)
				sched_yield();
			else {
				struct timespec ten_us = { 0, 10000 };
				syscall(SYS_nanosleep, &ten_us, NULL);
			}
		}
	}
}

/* With every thread quiescent for gen: writes out what is left of gen's
 * buffers, and gives back those of threads that have exited. */
static void retire_buffers(uint32_t gen)
{
	unsigned slot = gen & 1;
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		if (t->buf_gen[slot] == gen)
			weft_buffer_flush(t, slot);
		if (atomic_load(&t->exited))
			weft_buffer_release(t, slot);
	}
}

/* Threads that dropped events and never got a buffer again to say so get
 * a batch holding just their LOST record, written here on their behalf.
 * No STATUS goes with it: the thread's state now is not its state when the
 * generation began, and a LOST record may open a thread's generation. */
static void write_unreported_losses(uint32_t gen)
{
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		uint64_t lost = atomic_exchange(&t->lost[gen & 1], 0);
		if (!lost)
			continue;
		struct weft_tablebuf tb;
		uint64_t now = weft_now();
		weft_tb_begin(&tb, t->serial, gen, now);
		struct weft_record r = { .code = WEFT_EV_LOST, .ts = now };
		r.args[0] = lost;
		weft_tb_record(&tb, &r);
		weft_tb_write(&tb);
		weft_batches_add(gen);
	}
}

/*
 * Control lock held: moves tracing on.  START opens a generation when none
 * is open; ROTATE closes the open one and opens the next in one step; STOP
 * closes it and adds TRACE_END, so the file on disk is a complete trace
 * while the program runs on (a later START appends a new session); END
 * does the same at exit and before exec, whether or not tracing is on.
 * Returns 1 when something changed.
 */
/* Set by weft_end_trace(): the END being made is the end of the process
 * image (exit, exec, daemon()'s parent), not a fatal signal's, so the
 * last GEN_END says so and a reader knows threads left blocked were not
 * stuck. */
static int image_ends;

int weft_advance(enum weft_advance_op op)
{
	uint32_t old = atomic_load(&weft_generation);
	if (weft_out_fd < 0 || (op == WEFT_ADVANCE_START && (old || weft_ending)) ||
	    ((op == WEFT_ADVANCE_STOP || op == WEFT_ADVANCE_ROTATE) && !old))
		return 0;
	int saved = errno;
	uint32_t gen = 0;
	if (op == WEFT_ADVANCE_START || op == WEFT_ADVANCE_ROTATE)
		gen = generation_prepare();
	atomic_store(&weft_generation, gen);
	fence_all_threads();
	wait_for_writers();
	if (gen) {
		write_statuses(gen);
		write_thread_infos(gen);
	}

	struct weft_tablebuf tb;
	struct weft_record r;
	int write = 0;
	if (old) {
		retire_buffers(old);
		weft_output_drain(); /* every batch of old before its GEN_END */
		weft_counts_retire(old);
		write_unreported_losses(old);
		weft_tb_begin(&tb, 0, old, weft_now());
		uint64_t next_string = 1;
		weft_modules_refresh();
		weft_modules_write(&tb, &next_string);
		weft_stacks_write_tables(&tb);
		weft_shared_write_marks(&tb);
		weft_cpu_record_ends(&tb, old);
		r = (struct weft_record){ .code = WEFT_EV_GEN_END };
		r.args[0] = old;
		r.args[1] = weft_batches_take(old);
		r.args[2] = gen != 0 ? WEFT_GEN_END_ROTATED
			  : op == WEFT_ADVANCE_END && image_ends ? WEFT_GEN_END_IMAGE_ENDED
			  : WEFT_GEN_END_STOPPED;
		weft_tb_record(&tb, &r);
		generations_ended++;
		write = 1;
	} else if (op == WEFT_ADVANCE_END && !trace_end_written) {
		/* Tracing is off: the end marker goes in a batch of its own,
		 * under the last generation's number (0 when there was none). */
		weft_tb_begin(&tb, 0, last_generation, weft_now());
		write = 1;
	}
	if (write && (op == WEFT_ADVANCE_END || op == WEFT_ADVANCE_STOP)) {
		r = (struct weft_record){ .code = WEFT_EV_TRACE_END };
		r.args[0] = generations_ended;
		weft_tb_record(&tb, &r);
		trace_end_written = 1;
	}
	if (write)
		weft_tb_write(&tb);
	errno = saved;
	return 1;
}

/* Set when the trace was completed for an end the process may come back
 * from (an exec or a daemon() that fails) while tracing was on. */
static int end_may_resume;

/* Stops tracing and makes the file complete.  After an exec or daemon()
 * (the image may go on when the call fails) a later weft_resume_trace()
 * starts tracing again; after any other end, nothing does. */
void weft_end_trace(enum weft_end_reason why)
{
	if (!weft_initialized || weft_out_fd < 0)
		return;
	int resumable = why == WEFT_END_EXEC || why == WEFT_END_DAEMON;
	end_may_resume = resumable && atomic_load(&weft_generation);
	image_ends = why != WEFT_END_FATAL_SIGNAL;
	int saved = errno;
	weft_busy++;
	weft_lock(&weft_control_lock);
	if (!resumable)
		weft_ending = 1;
	weft_advance(WEFT_ADVANCE_END);
	weft_unlock(&weft_control_lock);
	weft_busy--;
	errno = saved;
}

/* The exec or daemon() the trace was completed for failed: the process
 * goes on, and so does its trace, in a new generation if tracing was on. */
void weft_resume_trace(void)
{
	if (!weft_initialized || weft_out_fd < 0)
		return;
	weft_busy++;
	weft_lock(&weft_control_lock);
	if (end_may_resume)
		weft_advance(WEFT_ADVANCE_START);
	weft_unlock(&weft_control_lock);
	weft_busy--;
}
