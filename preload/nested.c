/*
 * nested.c - events of signal handlers that interrupt an event section.
 *
 * A handler that calls a traced function while its thread is inside an
 * event section (between weft_ev_begin() and weft_ev_end()) cannot write
 * into the thread's buffer: the section may be half-way through a record,
 * a batch start or a flush.  Its event is made all the same: it is
 * stamped, and numbered on its object inside the interrupted section,
 * which holds the section's generation open (format/SPEC.md, section 7.2,
 * holds for it as for the section's own event); it is then kept, decoded,
 * in one of the thread's nested slots.  The section writes the kept
 * events into its buffer, in the order they were made:
 *
 *   - when it writes its own event, those made before it (all of them,
 *     except ones that numbered the same object after it: those were made
 *     after the section took its number, and follow its event);
 *   - when it closes, all the rest.
 *
 * A handler's event whose object was already numbered in a later
 * generation (the section straddles a boundary it cannot move past) takes
 * its number in that generation and is kept for it: once the section has
 * closed, the thread opens a section in that generation and writes it
 * there (any event the thread makes first writes it first).
 *
 * Handlers nest (a handler can be interrupted by another), so a slot is
 * reserved by one atomic increment of the thread's count, filled, then
 * marked ready; the section runs only once every handler that interrupted
 * it has returned.  An event that finds every slot taken is dropped and
 * counted in its generation; the thread's next record says so.
 */
#include "emit.h"
#include "weft.h"

_Static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
	       "a kept event's pending result is its last argument's low byte");
_Static_assert(WEFT_MAX_ARGS <= 8, "a kept event holds every argument");

__thread int weft_nesting __attribute__((tls_model("initial-exec")));

enum { SLOT_FILLING, SLOT_READY, SLOT_DONE };

/* Each event's argument kinds, by code. */
static const char *const kinds_of[256] = {
#define WEFT_EVENT(name, code, timed, kinds, names) [code] = kinds,
#include "../format/events.def"
#undef WEFT_EVENT
};

/* The wrapper entered while weft's own code runs on this thread may be
 * traced: a signal handler interrupted the thread's open section, or a
 * section in its first instructions, before it opened (it has read no
 * generation).  Calls made by weft itself (none inside a section) and
 * calls made while the thread is ending pass through untraced. */
struct weft_thread *weft_nested_enter(void)
{
	struct weft_thread *t = weft_self_tls;
	if (!t || weft_thread_done)
		return NULL;
	if ((atomic_load_explicit(&t->seqlock, memory_order_relaxed) & 1) ||
	    __atomic_load_n(&t->section_gen, __ATOMIC_RELAXED) == WEFT_GEN_UNREAD)
		return t;
	return NULL;
}

/* A section opened by a handler inside the thread's open section: it
 * writes in the section's generation, or, when the section has not read
 * it yet, in the one it reads now (the section's odd seqlock already
 * holds it open).  A section interrupted before it opened has written
 * nothing yet: the handler's section runs as an outermost one, and the
 * interrupted section opens once it is over. */
uint32_t weft_nested_begin(struct weft_thread *t)
{
	if (!(atomic_load_explicit(&t->seqlock, memory_order_relaxed) & 1)) {
		int interrupted = weft_busy;
		weft_busy = 0;
		uint32_t gen = weft_ev_begin(t);
		weft_busy += interrupted; /* weft_ev_end() takes off its own */
		return gen;
	}
	weft_busy++;
	weft_nesting++;
	uint32_t gen = __atomic_load_n(&t->section_gen, __ATOMIC_RELAXED);
	if (gen == WEFT_GEN_UNREAD) {
		atomic_thread_fence(memory_order_seq_cst);
		gen = atomic_load_explicit(&weft_generation, memory_order_acquire);
	}
	return gen;
}

static void keep(struct weft_thread *t, uint32_t gen, uint8_t code,
		 uint64_t ts, const uint64_t *args, unsigned nargs,
		 uint8_t **result_at)
{
	if (!gen)
		return;
	uint32_t i = atomic_fetch_add_explicit(&t->nested_count, 1,
					       memory_order_relaxed);
	if (i >= WEFT_NESTED_EVENTS) {
		atomic_fetch_sub_explicit(&t->nested_count, 1, memory_order_relaxed);
		atomic_fetch_add(&t->lost[gen & 1], 1);
		return;
	}
	struct weft_nested_event *e = &t->nested[i];
	atomic_store_explicit(&e->ready, SLOT_FILLING, memory_order_relaxed);
	e->code = code;
	e->nargs = (uint8_t)nargs;
	e->gen = gen;
	e->ts = ts;
	for (unsigned k = 0; k < nargs; k++)
		e->args[k] = args[k];
	if (result_at && nargs)
		*result_at = (uint8_t *)&e->args[nargs - 1];
	atomic_signal_fence(memory_order_release);
	atomic_store_explicit(&e->ready, SLOT_READY, memory_order_relaxed);
}

/* The object an event numbers and its number (0 when it has none). */
static uint64_t sequenced(uint8_t code, const uint64_t *args, uint64_t *object)
{
	const char *k = kinds_of[code];
	*object = 0;
	for (unsigned i = 0; args && k && k[i]; i++) {
		if (k[i] == 'o')
			*object = args[i];
		if (k[i] == 's')
			return args[i];
	}
	return 0;
}

/* There is room for one more record of gen (a batch is started or renewed
 * as needed); 0 when there is no buffer (the record is counted lost). */
static int room(struct weft_thread *t, uint32_t gen)
{
	unsigned s = gen & 1;
	if (t->buf_gen[s] == gen && t->buf[s] &&
	    t->pos[s] + WEFT_EVENT_ROOM <= weft_config.buffer_size)
		return 1;
	return weft_buffer_prepare(t, gen) != 0;
}

static void put_kept(struct weft_thread *t, uint32_t gen,
		     const struct weft_nested_event *e)
{
	if (room(t, gen))
		WEFT_PUT(t, gen, e->code, kinds_of[e->code], e->ts, e->args, e->nargs,
			 "");
}

/* Frees the slots once every one is written (a handler may take one
 * meanwhile: then they stay until the next pass). */
static void compact(struct weft_thread *t)
{
	uint32_t n = atomic_load(&t->nested_count);
	for (uint32_t i = 0; i < n && i < WEFT_NESTED_EVENTS; i++)
		if (atomic_load(&t->nested[i].ready) != SLOT_DONE)
			return;
	atomic_compare_exchange_strong(&t->nested_count, &n, 0);
}

/* Writes the kept events of gen, in order; with an event about to be
 * written (code, args), not those numbered after it on its object. */
static void write_kept(struct weft_thread *t, uint32_t gen, int before,
		       uint8_t code, const uint64_t *args)
{
	uint64_t object = 0, seq = before ? sequenced(code, args, &object) : 0;
	for (uint32_t i = 0; i < atomic_load(&t->nested_count) && i < WEFT_NESTED_EVENTS; i++) {
		struct weft_nested_event *e = &t->nested[i];
		if (atomic_load(&e->ready) != SLOT_READY || e->gen != gen)
			continue;
		uint64_t kept_object, kept_seq = sequenced(e->code, e->args, &kept_object);
		if (seq && kept_seq > seq && kept_object == object)
			continue;
		put_kept(t, gen, e);
		atomic_store(&e->ready, SLOT_DONE);
	}
	compact(t);
}

/* An event about to be written while events are kept, or made in a
 * handler inside a section (then it is kept): 1 when it is to be written
 * into the buffer now. */
int weft_nested_emit(struct weft_thread *t, uint32_t gen, uint8_t code,
		     uint64_t ts, const uint64_t *args, unsigned nargs,
		     uint8_t **result_at)
{
	if (weft_nesting) {
		keep(t, gen, code, ts, args, nargs, result_at);
		return 0;
	}
	write_kept(t, gen, 1, code, args);
	return room(t, gen);
}

/* Kept events of a generation other than gen cannot be written in it:
 * counted as lost in their own, while tracing is on (with it off, their
 * generation has ended and there is none to count them in). */
static void drop_other(struct weft_thread *t, uint32_t gen)
{
	int on = atomic_load(&weft_generation) != 0;
	for (uint32_t i = 0; i < atomic_load(&t->nested_count) && i < WEFT_NESTED_EVENTS; i++) {
		struct weft_nested_event *e = &t->nested[i];
		if (atomic_load(&e->ready) == SLOT_READY && e->gen != gen) {
			if (on)
				atomic_fetch_add(&t->lost[e->gen & 1], 1);
			atomic_store(&e->ready, SLOT_DONE);
		}
	}
	compact(t);
}

void weft_nested_close(struct weft_thread *t)
{
	write_kept(t, t->section_gen, 0, 0, NULL);
	weft_section_close(t);
	/* Events numbered in the generation that follows, or kept by a
	 * handler that ran after the writing above: written in the
	 * generation a new section reads (the same one, for the latter,
	 * unless a boundary fell just there). */
	while (atomic_load(&t->nested_count)) {
		uint32_t gen = weft_ev_begin(t);
		if (gen)
			write_kept(t, gen, 0, 0, NULL);
		drop_other(t, gen);
		weft_section_close(t);
	}
}

uint64_t weft_nested_seq_late(struct weft_thread *t, uint32_t *gen,
			      const void *object, enum weft_hold hold)
{
	uint32_t now = atomic_load_explicit(&weft_generation, memory_order_acquire);
	uint64_t seq = now > *gen ? weft_objseq_next(t, object, now, hold)
				  : WEFT_SEQ_LATE;
	if (seq == WEFT_SEQ_LATE) {
		*gen = 0;
		return 0;
	}
	*gen = now;
	return seq;
}

/* The thread leaves weft's code for good (unwound): kept events are
 * counted as lost. */
void weft_nested_drop(struct weft_thread *t)
{
	weft_nesting = 0;
	drop_other(t, 0);
	atomic_store(&t->nested_count, 0);
}
