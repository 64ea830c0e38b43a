/*
 * slices.h - the timeline as a drawing wants it: slices on tracks, each
 * wake-up arrow tied to a slice at both ends, and labels.  The commands
 * that draw a trace (`weft export`, `weft view`) run the timeline through
 * sl_run() instead of tl_run().
 *
 * What it adds to the timeline's items:
 *   - a wait's interval comes with the flow that ended it, if any (the
 *     timeline gives the flow just after the interval; they are joined
 *     here, so the slice can carry the arrow's head);
 *   - every flow gets an id, unique in the run, and a release: a short
 *     slice of its own on the releasing thread (unlock, signal, post,
 *     exit...), where the arrow starts; a release that ended a lock hold
 *     comes with that hold's site (where the released lock was taken);
 *   - a lock hold is given when its release ended another thread's wait
 *     (just before that release): the holds the waiters waited out, not
 *     every hold of a busy lock, which would outweigh the trace.  Shared
 *     holds are left out: they overlap and would not nest on a track.
 * A command that needs the timeline's items too (`weft view` sums them
 * into its tables) is given each of them before the slices it makes.
 * Memory: one held-back interval, and the last hold of each lock.
 */
#ifndef WEFT_SLICES_H
#define WEFT_SLICES_H

#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

/* How long a release's slice lasts: short enough not to overlap what the
 * thread does next, long enough to enclose the arrow's start. */
#define SL_RELEASE_NS 1

enum sl_type {
	SL_THREAD_BEGIN,  /* item: TL_THREAD_BEGIN */
	SL_THREAD_END,    /* item: TL_THREAD_END */
	SL_WAIT,          /* item: TL_INTERVAL (a wait or a call); flow_id,
			     flow and release_site: the arrow that ended it
			     (0, NULL, NULL) */
	SL_RELEASE,       /* the start of flow flow_id: on flow->from, from
			     flow->from_ns for SL_RELEASE_NS; release_site */
	SL_HOLD,          /* item: TL_HOLD whose unlock ended a wait */
	SL_INSTANT,       /* item: TL_INSTANT (signal, broadcast, post) */
	SL_BLOCKED,       /* item: TL_BLOCKED */
	SL_GENERATION,    /* item: TL_GENERATION */
};

struct sl_event {
	enum sl_type type;
	const struct tl_item *item;  /* for SL_RELEASE, the TL_FLOW item */
	const struct tl_flow *flow;
	uint64_t flow_id;
	/* Where the lock the flow's release gave back was taken (the site
	 * of the hold it ended), or NULL: not a lock, or the hold unseen. */
	const struct tl_site *release_site;
};

typedef void (*sl_fn)(void *ctx, const struct sl_event *ev);


/* Runs tl (see tl_run()) and gives fn the slices; flow ids continue from
 * *flows (so several traces in one output keep them unique) and *flows
 * is left at the last one given.  each, unless NULL, is given every item
 * of the timeline, before the slices that item lets out.  Returns
 * tl_run()'s verdict. */
enum weft_verdict sl_run(struct timeline *tl, uint64_t *flows, sl_fn fn, tl_fn each,
			 void *ctx);

/* A slice's label: "mutex lock_a", "rwlock read table", "join T3",
 * "write fd 4", "nanosleep"; objects named by weft_object_name(). */
void sl_wait_name(const struct timeline *tl, const struct tl_interval *iv,
		  char *buf, size_t cap);
/* A release's label: "unlock lock_a", "signal ready", "exit". */
void sl_release_name(const struct timeline *tl, const struct tl_flow *f,
		     char *buf, size_t cap);
/* A hold's label on its lock's track: "held by T3 (name)". */
void sl_hold_name(const struct timeline *tl, const struct tl_item *hold,
		  char *buf, size_t cap);
/* Whether the interval is a wait on an object (it has an address). */
int sl_on_object(const struct tl_interval *iv);

#endif
