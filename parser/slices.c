/*
 * slices.c - the timeline as slices on tracks, arrows tied to slices at
 * both ends, and their labels (see slices.h).
 */
#include "slices.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "names.h"

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

static void give(struct sl_run *run, enum sl_type type, const struct tl_item *it,
		 const struct tl_flow *flow, uint64_t id)
{
	struct sl_event ev = { type, it, flow, id };
	run->fn(run->ctx, &ev);
}

/* Gives the held-back wait, with the flow that ended it when the next
 * item is that flow. */
static void flush(struct sl_run *run, const struct tl_item *next)
{
	if (!run->holding)
		return;
	run->holding = 0;
	const struct tl_item *w = &run->held_back;
	if (next && next->type == TL_FLOW && next->flow.to == w->serial &&
	    next->flow.to_ns == w->ns && !w->iv.cut) {
		uint64_t id = ++run->flows;
		give(run, SL_RELEASE, next, &next->flow, id);
		give(run, SL_WAIT, w, &next->flow, id);
	} else {
		give(run, SL_WAIT, w, NULL, 0);
	}
}

static void on_item(void *p, const struct tl_item *it)
{
	struct sl_run *run = p;
	flush(run, it);
	switch (it->type) {
	case TL_THREAD_BEGIN:
		give(run, SL_THREAD_BEGIN, it, NULL, 0);
		break;
	case TL_THREAD_END:
		give(run, SL_THREAD_END, it, NULL, 0);
		break;
	case TL_INTERVAL:
		if (it->iv.kind == TL_RUNNING || it->iv.kind == TL_UNKNOWN)
			break;
		run->held_back = *it;
		run->holding = 1;
		break;
	case TL_ACQUIRE:
		if (it->acq.contended)
			u64map_put(&run->contended, it->acq.lock, 1);
		break;
	case TL_HOLD:
		if (it->hold.caused_wait_ns > 0)
			u64map_put(&run->contended, it->hold.lock, 1);
		if (!it->hold.shared && u64map_get(&run->contended, it->hold.lock))
			give(run, SL_HOLD, it, NULL, 0);
		break;
	case TL_INSTANT:
		give(run, SL_INSTANT, it, NULL, 0);
		break;
	case TL_BLOCKED:
		give(run, SL_BLOCKED, it, NULL, 0);
		break;
	case TL_GENERATION:
		give(run, SL_GENERATION, it, NULL, 0);
		break;
	default:
		/* A flow not right after the wait it ended was already
		 * joined or has no slice to end in. */
		break;
	}
}

enum weft_verdict sl_run(struct timeline *tl, uint64_t *flows, sl_fn fn, void *ctx)
{
	struct sl_run run = { .tl = tl, .fn = fn, .ctx = ctx, .flows = *flows };
	enum weft_verdict v = tl_run(tl, on_item, &run);
	flush(&run, NULL);
	u64map_free(&run.contended);
	*flows = run.flows;
	return v;
}
