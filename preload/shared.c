/*
 * shared.c - the process-shared objects this process knows of: those it
 * initialised as PTHREAD_PROCESS_SHARED (mutexes, reader-writer locks,
 * condition variables, barriers, spin locks), semaphores it initialised
 * with a non-zero pshared, and every semaphore it opened with sem_open.
 * Other processes use them too, so a trace of this process alone sees
 * only its side of them; the reader must know which they are.
 *
 * The marks are kept from the call on, whether tracing is on or not, and
 * written as OBJECT_SHARED records with each generation's tables (format/
 * SPEC.md, section 7.6).  The table is plain memory, so a fork child
 * inherits the marks of its parent and writes them in its own trace.  A
 * mark is never removed: an address once shared stays marked (the reader
 * then only checks less).  Past WEFT_SHARED_MAX marks, further objects go
 * unmarked.
 */
#include "tablebuf.h"
#include "weft.h"

#define WEFT_SHARED_MAX 4096

static _Atomic uint64_t marks[WEFT_SHARED_MAX];
static _Atomic uint32_t nmarks;

static void mark(uint64_t object)
{
	uint32_t n = atomic_load(&nmarks);
	for (uint32_t i = 0; i < n && i < WEFT_SHARED_MAX; i++)
		if (atomic_load(&marks[i]) == object)
			return;
	uint32_t i = atomic_fetch_add(&nmarks, 1);
	if (i < WEFT_SHARED_MAX)
		atomic_store(&marks[i], object);
}

int weft_shared_note(const void *object, int shared, int r)
{
	if (shared && r == 0 && object)
		mark((uint64_t)(uintptr_t)object);
	return r;
}

void weft_shared_write_marks(struct weft_tablebuf *tb)
{
	uint32_t n = atomic_load(&nmarks);
	struct weft_record r = { .code = WEFT_EV_OBJECT_SHARED };
	for (uint32_t i = 0; i < n && i < WEFT_SHARED_MAX; i++) {
		/* (0: a slot claimed, not yet filled.) */
		r.args[0] = atomic_load(&marks[i]);
		if (r.args[0])
			weft_tb_record(tb, &r);
	}
}
