/*
 * slices.c - the timeline as slices on tracks, arrows tied to slices at
 * both ends, and their labels (see slices.h).
 */
#include "slices.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "u64map.h"

/* A lock's last hold that ended in a release. */
struct kept_hold {
	struct tl_item item;
	uint8_t given;                /* as an SL_HOLD already */
};

struct slicer {
	struct timeline *tl;
	sl_fn fn;
	tl_fn each;
	void *ctx;
	uint64_t flows;               /* ids given so far */
	struct u64map hold_of;        /* lock -> index + 1 in holds */
	struct kept_hold *holds;
	uint32_t nholds, holds_cap;
	struct tl_item held_back;     /* a wait interval, until the next item */
	int holding;
};

int sl_on_object(const struct tl_interval *iv)
{
	return iv->kind != TL_SYSCALL && iv->kind != TL_SLEEP && iv->kind != TL_JOIN &&
	       iv->kind != TL_UNKNOWN && iv->kind != TL_RUNNING;
}

void sl_wait_name(const struct timeline *tl, const struct tl_interval *iv,
		  char *buf, size_t cap)
{
	const char *sys = weft_syscall_name(iv->syscall);
	char obj[160];
	switch (iv->kind) {
	case TL_SYSCALL:
	case TL_SLEEP:
		/* The argument names the slice when it says what was waited
		 * for: a descriptor, a process, a message queue. */
		switch (iv->arg < 0 ? WEFT_SYSARG_NONE : weft_syscall_arg(iv->syscall)) {
		case WEFT_SYSARG_FD:
			snprintf(buf, cap, "%s fd %" PRId64, sys ? sys : "?", iv->arg);
			break;
		case WEFT_SYSARG_PID:
			snprintf(buf, cap, "%s pid %" PRId64, sys ? sys : "?", iv->arg);
			break;
		case WEFT_SYSARG_QUEUE:
			snprintf(buf, cap, "%s queue %" PRId64, sys ? sys : "?", iv->arg);
			break;
		default:
			snprintf(buf, cap, "%s", sys ? sys : "?");
		}
		break;
	case TL_JOIN:
		snprintf(buf, cap, "join T%" PRIu64, iv->object);
		break;
	case TL_RWLOCK:
		weft_object_name(tl_tables(tl), iv->object, obj, sizeof obj);
		snprintf(buf, cap, "rwlock %s %s",
			 iv->rw_mode == 1 ? "read" : "write", obj);
		break;
	default:
		weft_object_name(tl_tables(tl), iv->object, obj, sizeof obj);
		snprintf(buf, cap, "%s %s", tl_kind_names[iv->kind], obj);
	}
}

void sl_release_name(const struct timeline *tl, const struct tl_flow *f,
		     char *buf, size_t cap)
{
	char obj[160];
	if (!strcmp(f->what, "exit")) {
		snprintf(buf, cap, "exit");
		return;
	}
	weft_object_name(tl_tables(tl), f->object, obj, sizeof obj);
	/* A cond wait gives its mutex back as it begins. */
	if (!strcmp(f->what, "wait"))
		snprintf(buf, cap, "unlock %s (cond wait)", obj);
	else
		snprintf(buf, cap, "%s %s", f->what, obj);
}

void sl_hold_name(const struct timeline *tl, const struct tl_item *hold,
		  char *buf, size_t cap)
{
	char who[96];
	tl_thread_label(tl, hold->serial, who, sizeof who);
	snprintf(buf, cap, "held by %s", who);
}

static void give(struct slicer *run, enum sl_type type, const struct tl_item *it,
		 const struct tl_flow *flow, uint64_t id, const struct tl_site *site)
{
	struct sl_event ev = { type, it, flow, id, site };
	run->fn(run->ctx, &ev);
}

/* The last hold of a lock, for the flows from the release that ended it
 * (until the next hold of the lock replaces it: a flow is always from
 * the lock's latest release). */
static void keep_hold(struct slicer *run, const struct tl_item *it)
{
	uint32_t i = u64map_get(&run->hold_of, it->hold.lock);
	if (!i) {
		if (run->nholds == run->holds_cap) {
			run->holds_cap = run->holds_cap ? run->holds_cap * 2 : 64;
			run->holds = realloc(run->holds, run->holds_cap * sizeof *run->holds);
			if (!run->holds)
				abort();
		}
		i = ++run->nholds;
		u64map_put(&run->hold_of, it->hold.lock, i);
	}
	run->holds[i - 1] = (struct kept_hold){ *it, 0 };
}

/* The hold the flow's release ended, if it is the lock's last one. */
static struct kept_hold *released_hold(struct slicer *run, const struct tl_flow *f)
{
	uint32_t i = u64map_get(&run->hold_of, f->object);
	if (!i)
		return NULL;
	struct kept_hold *h = &run->holds[i - 1];
	if (h->item.serial != f->from || h->item.hold.end_ns != f->from_ns)
		return NULL;
	return h;
}

/* The exclusive hold an unlock ended, once. */
static void give_hold(struct slicer *run, const struct tl_flow *f, struct kept_hold *h)
{
	if (!h || h->given || h->item.hold.shared || strcmp(f->what, "unlock"))
		return;
	give(run, SL_HOLD, &h->item, NULL, 0, NULL);
	h->given = 1;
}

/* Gives the held-back wait, with the flow that ended it when the next
 * item is that flow. */
static void flush(struct slicer *run, const struct tl_item *next)
{
	if (!run->holding)
		return;
	run->holding = 0;
	const struct tl_item *w = &run->held_back;
	if (next && next->type == TL_FLOW && next->flow.to == w->serial &&
	    next->flow.to_ns == w->ns && !w->iv.cut) {
		uint64_t id = ++run->flows;
		struct kept_hold *h = released_hold(run, &next->flow);
		const struct tl_site *site = h ? &h->item.hold.site : NULL;
		give_hold(run, &next->flow, h);
		give(run, SL_RELEASE, next, &next->flow, id, site);
		give(run, SL_WAIT, w, &next->flow, id, site);
	} else {
		give(run, SL_WAIT, w, NULL, 0, NULL);
	}
}

static void on_item(void *p, const struct tl_item *it)
{
	struct slicer *run = p;
	if (run->each)
		run->each(run->ctx, it);
	flush(run, it);
	switch (it->type) {
	case TL_THREAD_BEGIN:
		give(run, SL_THREAD_BEGIN, it, NULL, 0, NULL);
		break;
	case TL_THREAD_END:
		give(run, SL_THREAD_END, it, NULL, 0, NULL);
		break;
	case TL_INTERVAL:
		run->held_back = *it;
		run->holding = 1;
		break;
	case TL_HOLD:
		if (!it->hold.cut)
			keep_hold(run, it);
		break;
	case TL_INSTANT:
		give(run, SL_INSTANT, it, NULL, 0, NULL);
		break;
	case TL_BLOCKED:
		give(run, SL_BLOCKED, it, NULL, 0, NULL);
		break;
	case TL_GENERATION:
		give(run, SL_GENERATION, it, NULL, 0, NULL);
		break;
	default:
		/* A flow not right after the wait it ended was already
		 * joined or has no slice to end in. */
		break;
	}
}

enum weft_verdict sl_run(struct timeline *tl, uint64_t *flows, sl_fn fn, tl_fn each,
			 void *ctx)
{
	struct slicer run = { .tl = tl, .fn = fn, .each = each, .ctx = ctx,
			      .flows = *flows };
	enum weft_verdict v = tl_run(tl, on_item, &run);
	flush(&run, NULL);
	u64map_free(&run.hold_of);
	free(run.holds);
	*flows = run.flows;
	return v;
}
