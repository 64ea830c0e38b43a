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

#include "../format/wire.h"
#include "weft.h"

#define CHUNK_RECORDS 1024
#define MAX_CHUNKS    4096 /* 4 Mi threads in one process's life */

static struct weft_thread *chunks[MAX_CHUNKS];
static _Atomic uint32_t thread_count;
static weft_lock_t weft_registry_lock = WEFT_LOCK_INIT;

__thread int weft_busy __attribute__((tls_model("initial-exec")));
__thread struct weft_thread *weft_self_tls __attribute__((tls_model("initial-exec")));
__thread int weft_thread_done __attribute__((tls_model("initial-exec")));

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
		/* Its lock counts are the parent's, of the parent's
		 * generations. */
		survivor->counts_gen[0] = survivor->counts_gen[1] = 0;
		survivor->tid = weft_gettid();
		atomic_store(&survivor->status_gen, 0);
	}
}
