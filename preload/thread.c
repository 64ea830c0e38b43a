/*
 * thread.c - the registry of traced threads.
 *
 * Records live in chunks mapped on demand and are never freed, so a serial
 * stays valid for the life of the process (the advancer and the exit path
 * walk them without locks).  A serial is the record's index plus one; 1 is
 * the thread that loaded weft (normally main).
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "emit.h"
#include "weft.h"

#define CHUNK_RECORDS 1024
#define MAX_CHUNKS    4096 /* 4 Mi threads in one process's life */

static struct weft_thread *chunks[MAX_CHUNKS];
static _Atomic uint32_t thread_count;
static weft_lock_t weft_registry_lock = WEFT_LOCK_INIT;

__thread int weft_busy __attribute__((tls_model("initial-exec")));
__thread struct weft_thread *weft_self_tls __attribute__((tls_model("initial-exec")));
__thread int weft_thread_done __attribute__((tls_model("initial-exec")));

pid_t weft_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

uint32_t weft_thread_count(void)
{
	return atomic_load(&thread_count);
}

struct weft_thread *weft_thread_by_serial(uint32_t serial)
{
	if (serial == 0 || serial > atomic_load(&thread_count))
		return NULL;
	uint32_t i = serial - 1;
	return &chunks[i / CHUNK_RECORDS][i % CHUNK_RECORDS];
}

/* A new record, or NULL when the registry cannot grow. */
struct weft_thread *weft_thread_new(uint32_t parent)
{
	int saved = errno;
	struct weft_thread *t = NULL;
	weft_lock(&weft_registry_lock);
	uint32_t i = atomic_load(&thread_count);
	uint32_t c = i / CHUNK_RECORDS;
	if (c < MAX_CHUNKS && !chunks[c]) {
		void *p = mmap(NULL, CHUNK_RECORDS * sizeof(struct weft_thread),
			       PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p != MAP_FAILED)
			chunks[c] = p;
	}
	if (c < MAX_CHUNKS && chunks[c]) {
		t = &chunks[c][i % CHUNK_RECORDS];
		memset(t, 0, sizeof *t);
		t->serial = i + 1;
		t->parent = parent;
		t->levels = 1;
		t->states[0].state = WEFT_STATE_RUNNING;
		atomic_store(&thread_count, i + 1);
	}
	weft_unlock(&weft_registry_lock);
	errno = saved;
	return t;
}

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

/* Keeps t's name for THREAD_INFO.  Any thread may name any other: the
 * writers take name_seq from even to odd with a CAS, so one writes at a
 * time, and a reader retries while it is odd or moved. */
void weft_thread_set_name(struct weft_thread *t, const char *name, size_t len)
{
	uint64_t words[2] = { 0, 0 };
	memcpy(words, name, len < 15 ? len : 15);
	uint32_t seq;
	do {
		seq = atomic_load(&t->name_seq) & ~1u;
	} while (!atomic_compare_exchange_weak(&t->name_seq, &seq, seq + 1));
	atomic_store_explicit(&t->name[0], words[0], memory_order_relaxed);
	atomic_store_explicit(&t->name[1], words[1], memory_order_relaxed);
	atomic_store_explicit(&t->name_seq, seq + 2, memory_order_release);
}

/* t's name into out (not terminated); returns its length, 0 when unnamed. */
size_t weft_thread_get_name(struct weft_thread *t, char out[16])
{
	uint64_t words[2];
	for (;;) {
		uint32_t before = atomic_load_explicit(&t->name_seq, memory_order_acquire);
		words[0] = atomic_load_explicit(&t->name[0], memory_order_relaxed);
		words[1] = atomic_load_explicit(&t->name[1], memory_order_relaxed);
		atomic_thread_fence(memory_order_acquire);
		if (!(before & 1) && atomic_load(&t->name_seq) == before)
			break;
		sched_yield();
	}
	memcpy(out, words, 16);
	return strnlen(out, 16);
}

/* The most recent record for pthread that has not been joined or
 * detached (pthread_t values are reused after join). */
struct weft_thread *weft_thread_find(pthread_t pthread)
{
	for (uint32_t s = atomic_load(&thread_count); s > 0; s--) {
		struct weft_thread *t = weft_thread_by_serial(s);
		if (__atomic_load_n(&t->pthread, __ATOMIC_RELAXED) == pthread &&
		    !atomic_load(&t->joined))
			return t;
	}
	return NULL;
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
	uint64_t ts = weft_now();
	uint32_t g = weft_ev_begin(t);
	if (g) {
		WEFT_EMIT0(t, g, THREAD_EXIT, ts);
		weft_buffer_flush(t, g & 1);
		weft_buffer_release(t, g & 1);
	}
	weft_state_reset(t, WEFT_STATE_EXITED, ts);
	atomic_store(&t->exited, 1);
	weft_ev_end(t);
	weft_control_thread_exited();
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

/* In a fork child only the forking thread survives: every other record is
 * retired with its buffers (their contents are the parent's to write). */
void weft_thread_reset_after_fork(struct weft_thread *survivor)
{
	weft_registry_lock = (weft_lock_t)WEFT_LOCK_INIT;
	for (uint32_t s = 1; s <= atomic_load(&thread_count); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		for (unsigned slot = 0; slot < 2; slot++) {
			t->pos[slot] = 0;
			t->buf_gen[slot] = 0;
			if (t != survivor && t->buf[slot]) {
				weft_pool_put(t->buf[slot]);
				t->buf[slot] = NULL;
			}
		}
		atomic_store(&t->seqlock, 0);
		atomic_store(&t->lost[0], 0);
		atomic_store(&t->lost[1], 0);
		atomic_store(&t->nested_count, 0);
		if (t != survivor) {
			atomic_store(&t->exited, 1);
			atomic_store(&t->joined, 1);
			t->levels = 1;
			t->states[0].state = WEFT_STATE_EXITED;
		}
	}
	if (survivor) {
		survivor->tid = weft_gettid();
		atomic_store(&survivor->status_gen, 0);
	}
}
