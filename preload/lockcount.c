/*
 * lockcount.c - contention mode (WEFT_MODE=contention): writing out the
 * counts of uncontended lock acquisitions that lockcount.h keeps per
 * thread, and marking each generation as recorded in this mode.
 *
 * A count belongs to the generation its section read: the thread keeps one
 * table per generation parity, as it keeps one buffer per parity.  A
 * count leaves the table as a LOCK_COUNTS record of its thread and
 * generation: written by the thread when another lock takes its slot
 * (evict) and when the thread exits (flush), and by the advancer, in a
 * batch of the thread's own, for what is left once the generation is
 * retired (no section of it is open then, and the thread touches only the
 * other parity's table until the advancer is done).  The advancer only
 * reads the table: the thread empties it when it next finds it holding a
 * generation other than its section's.
 */
#include "lockcount.h"
#include "tablebuf.h"

/*
 * In the thread's open section of gen, which has not looked at its buffer:
 * counts an acquisition of (object, kind) that is in neither of its slots,
 * c and other.  The thread's first count in gen makes sure its buffer for
 * gen is started (so the thread's records of gen open with its STATUS
 * before the advancer writes any count for it) and empties what an
 * earlier generation left in the table.  The count takes an empty slot of
 * the two, else c, whose count for another lock is written out.  When the
 * buffer cannot be had, the acquisition is counted as lost.
 */
void weft_counts_miss(struct weft_thread *t, uint32_t gen,
		      struct weft_lock_count *c, struct weft_lock_count *other,
		      uint64_t object, uint64_t kind)
{
	unsigned s = gen & 1;
	int first = t->counts_gen[s] != gen;
	if (!first && c->acquisitions && !other->acquisitions)
		c = other;
	if ((first || c->acquisitions) && !weft_buffer_ready(t, gen) &&
	    weft_buffer_prepare(t, gen) == 0)
		return;
	if (first) {
		for (unsigned i = 0; i < WEFT_COUNT_SLOTS; i++)
			t->counts[s][i].acquisitions = 0;
		t->counts_gen[s] = gen;
	} else if (c->acquisitions && !(c->object == object && c->kind == kind)) {
		uint64_t ts = weft_now();
		WEFT_EMIT(t, gen, LOCK_COUNTS, ts, c->object, c->kind,
			  c->acquisitions);
		c->acquisitions = 0;
	}
	if (c->acquisitions == 0) {
		c->object = object;
		c->kind = kind;
	}
	c->acquisitions++;
}

/* The calling thread is exiting: its counts of the current generation
 * go out now, before its THREAD_EXIT, one record per section (a section
 * has room for one).  A count left behind by a rotation meanwhile is the
 * advancer's to write. */
void weft_counts_flush(struct weft_thread *t)
{
	for (unsigned i = 0; i < WEFT_COUNT_SLOTS; i++) {
		uint32_t g = weft_ev_begin(t);
		struct weft_lock_count *c = &t->counts[g & 1][i];
		if (g && t->counts_gen[g & 1] == g && c->acquisitions) {
			uint64_t ts = weft_now();
			WEFT_EMIT(t, g, LOCK_COUNTS, ts, c->object, c->kind,
				  c->acquisitions);
			c->acquisitions = 0;
		}
		weft_ev_end(t);
	}
}

/* Advancer, with every section of gen closed and the thread batches of
 * gen written: each thread's counts of gen that are still in its table,
 * in a batch of the thread's, after all of its own. */
void weft_counts_retire(uint32_t gen)
{
	if (weft_config.mode != WEFT_MODE_CONTENTION)
		return;
	unsigned s = gen & 1;
	for (uint32_t serial = 1; serial <= weft_thread_count(); serial++) {
		struct weft_thread *t = weft_thread_by_serial(serial);
		if (t->counts_gen[s] != gen)
			continue;
		struct weft_tablebuf tb;
		int any = 0;
		uint64_t now = weft_now();
		for (unsigned i = 0; i < WEFT_COUNT_SLOTS; i++) {
			const struct weft_lock_count *c = &t->counts[s][i];
			if (!c->acquisitions)
				continue;
			if (!any)
				weft_tb_begin(&tb, serial, gen, now);
			any = 1;
			struct weft_record r = { .code = WEFT_EV_LOCK_COUNTS, .ts = now };
			r.args[0] = c->object;
			r.args[1] = c->kind;
			r.args[2] = c->acquisitions;
			weft_tb_record(&tb, &r);
		}
		if (any) {
			weft_tb_write(&tb);
			weft_batches_add(gen);
		}
	}
}

/* After a generation's CLOCK: the mode it is recorded in, when not the
 * full one (a reader takes a generation without MODE to be full). */
void weft_counts_write_mode(struct weft_tablebuf *tb)
{
	if (weft_config.mode == WEFT_MODE_FULL)
		return;
	struct weft_record r = { .code = WEFT_EV_MODE };
	r.args[0] = (uint64_t)weft_config.mode;
	weft_tb_record(tb, &r);
}

#ifdef WEFT_TEST_HOOKS
/* The test build says which slot a lock's counts take first, so a test
 * can make two locks compete for one. */
WEFT_VISIBLE unsigned weft_test_count_slot(const void *object, unsigned kind)
{
	return weft_count_slot(weft_obj(object), kind);
}
#endif
