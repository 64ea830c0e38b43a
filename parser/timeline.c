/*
 * timeline.c - the reconstruction the costs, the lock-order graph and
 * `weft export` are built on (see timeline.h): thread state stacks, exclusive time accounting, held
 * locks, waiters and the last release of every object, and the
 * conversion of clock ticks to nanoseconds, fed by weft_check().
 */
#include "timeline.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event_args.h"
#include "grow.h"
#include "text.h"
#include "u64map.h"

const char *const tl_kind_names[TL_NKINDS] = {
	"running", "syscall", "sleep",
#define WEFT_STATE(name, id)
#define WEFT_WAIT_STATE(name, id, kind, word) word,
#include "states.def"
#undef WEFT_WAIT_STATE
#undef WEFT_STATE
	"unknown",
};

const char *const tl_lock_names[3] = { "mutex", "rwlock", "spin" };

#define FRAMES 8   /* nested blocking states (signal handlers) */

/* One generation's clock: ns(t) = offset + (t - base) * 1e9 / freq. */
struct gen_clock {
	uint64_t base, freq;
	int64_t offset;
	uint8_t known;
};

struct frame {
	enum tl_kind kind;
	uint8_t syscall, from_status, rw_mode;
	uint64_t object;
	int64_t arg;
	int64_t begin_ns;
	int64_t delivered_ns;
	uint8_t continued;
	struct tl_site site;
};

/* An acquisition, given out once the thread's next record is seen: an
 * ACQUIRE_SITE right after it says where it was made. */
struct pending_acquire {
	uint8_t set;
	uint8_t shared, cond_reacquire, unheld;
	enum tl_lock_kind kind;
	uint64_t lock, flags;
	int64_t ns, wait_ns;
	struct tl_site site;
};

struct thr {
	struct tl_thread pub;
	struct pending_acquire acquiring;
	uint8_t seen, in_session, unknown;
	uint8_t depth;
	uint8_t waits;             /* frames in stack that are waits */
	struct frame stack[FRAMES];
	int64_t acct_since;
	int64_t exit_ns;
	uint8_t status_open;       /* its STATUS began a new session: the
				      STATUS_NESTED records after it nest */
	struct frame last_cut;     /* the outermost state a stop cut short */
	int64_t last_cut_end;
	struct tl_held *held;
	uint32_t nheld, held_cap;
};

/* Threads, in the order they were added. */
struct thr_list {
	struct thr **v;
	uint32_t n, cap;
};

struct waiter {
	uint32_t serial;
	int64_t since;
};

/* What the timeline keeps per synchronization object, for the current
 * session. */
struct obj {
	uint64_t addr;
	struct waiter *waiters;
	uint32_t nwaiters, waiters_cap;
	uint32_t release_serial;   /* last release (0 none) */
	int64_t release_ns;
	const char *release_what;
};

struct timeline {
	struct weft_reader r;
	struct weft_tables *tables;
	struct weft_check_result res;
	unsigned jobs;                 /* weft_check_jobs()'s */
	tl_fn fn;
	void *ctx;

	struct gen_clock *clocks;  /* by generation */
	uint32_t nclocks;
	uint32_t gen;              /* generation being delivered */
	int64_t gen_max_ns;        /* latest event time in it */
	int64_t first_ns, last_ns;
	int any_event;
	uint32_t sessions;
	int session_pending;       /* the next generation starts a session */
	uint32_t blocked;          /* threads in a wait (TL_BLOCKED) */

	/* Threads by serial are found through thread_index (into all), so
	 * that nothing is proportional to the highest serial a trace names:
	 * work per generation follows what the generation holds. */
	struct thr_list all;       /* every thread an event named */
	struct thr_list seen;      /* those with a thread begin, as first seen */
	struct thr_list session;   /* those in the current session */
	struct u64map thread_index;
	struct obj *objs;
	uint32_t nobjs, objs_cap;
	struct u64map obj_index;
};

/* ---- clocks ---- */

static void grow_clocks(struct timeline *tl, uint32_t gen)
{
	if (gen < tl->nclocks)
		return;
	uint32_t n = tl->nclocks ? tl->nclocks : 16;
	while (n <= gen)
		n *= 2;
	tl->clocks = realloc(tl->clocks, n * sizeof *tl->clocks);
	if (!tl->clocks)
		abort();
	memset(tl->clocks + tl->nclocks, 0, (n - tl->nclocks) * sizeof *tl->clocks);
	tl->nclocks = n;
}

static int64_t ticks_to_ns(int64_t ticks, uint64_t freq)
{
	return (int64_t)((__int128)ticks * 1000000000 / (__int128)freq);
}

/* Reads every generation's CLOCK record (process batches only), then
 * chains the conversions so that time is continuous across generations
 * even when the calibrated rate changes. */
static void load_clocks(struct timeline *tl)
{
	struct weft_reader *r = &tl->r;
	size_t rewind = r->pos;
	struct weft_batch b;
	/* Only process batches are read, each into memory: the pass that
	 * maps the file comes after. */
	struct weft_batch_buffer buf = { 0 };
	while (weft_reader_next_batch_copy(r, NULL, &b) == WEFT_READ_OK) {
		if (b.header.serial != 0 || weft_reader_read_payload(r, &buf, &b))
			continue;
		struct weft_cursor c;
		struct weft_record rec;
		weft_cursor_init(&c, &b);
		while (weft_cursor_next(r, &c, &rec) == WEFT_READ_OK) {
			if (rec.code != WEFT_EV_CLOCK || rec.args[WEFT_ARG_CLOCK_FREQUENCY] == 0)
				continue;
			grow_clocks(tl, b.header.generation);
			struct gen_clock *gc = &tl->clocks[b.header.generation];
			gc->base = rec.args[WEFT_ARG_CLOCK_BASE];
			gc->freq = rec.args[WEFT_ARG_CLOCK_FREQUENCY];
			gc->known = 1;
		}
	}
	weft_batch_buffer_free(&buf);
	weft_reader_rewind(r, rewind);
	uint64_t base = r->header.start_ts, freq = r->header.frequency;
	int64_t offset = 0;
	for (uint32_t g = 0; g < tl->nclocks; g++) {
		struct gen_clock *gc = &tl->clocks[g];
		if (!gc->known)
			continue;
		gc->offset = offset + ticks_to_ns((int64_t)(gc->base - base), freq);
		base = gc->base;
		freq = gc->freq;
		offset = gc->offset;
	}
}

/* The clock of gen, or of the latest generation before it that has one. */
static const struct gen_clock *clock_of(const struct timeline *tl, uint32_t gen)
{
	for (uint32_t g = gen < tl->nclocks ? gen : tl->nclocks; g > 0 && tl->nclocks; g--)
		if (g < tl->nclocks && tl->clocks[g].known)
			return &tl->clocks[g];
	return NULL;
}

static int64_t to_ns(const struct timeline *tl, uint32_t gen, uint64_t ts)
{
	const struct gen_clock *gc = clock_of(tl, gen);
	if (!gc)
		return ticks_to_ns((int64_t)(ts - tl->r.header.start_ts),
				   tl->r.header.frequency);
	return gc->offset + ticks_to_ns((int64_t)(ts - gc->base), gc->freq);
}

/* ---- threads and objects ---- */

static void thr_list_add(struct thr_list *l, struct thr *t)
{
	WEFT_GROW(l->v, l->n, l->cap, 64);
	l->v[l->n++] = t;
}

/* Thread serial, or NULL when no event named it yet. */
static struct thr *thr_find(const struct timeline *tl, uint64_t serial)
{
	uint32_t i = serial ? u64map_get(&tl->thread_index, serial) : 0;
	return i ? tl->all.v[i - 1] : NULL;
}

static struct thr *thr_get(struct timeline *tl, uint32_t serial)
{
	if (serial == 0)
		return NULL;
	struct thr *t = thr_find(tl, serial);
	if (t)
		return t;
	t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->pub.serial = serial;
	t->pub.name = weft_tables_thread_name(tl->tables, serial);
	/* THREAD_START, when the trace holds it, says the same. */
	weft_tables_thread_info(tl->tables, serial, &t->pub.tid, &t->pub.parent);
	thr_list_add(&tl->all, t);
	u64map_put(&tl->thread_index, serial, tl->all.n);
	return t;
}

static struct obj *obj_get(struct timeline *tl, uint64_t addr)
{
	uint32_t i = addr ? u64map_get(&tl->obj_index, addr) : 0;
	if (i)
		return &tl->objs[i - 1];
	WEFT_GROW(tl->objs, tl->nobjs, tl->objs_cap, 64);
	struct obj *o = &tl->objs[tl->nobjs++];
	memset(o, 0, sizeof *o);
	o->addr = addr;
	if (addr)
		u64map_put(&tl->obj_index, addr, tl->nobjs);
	return o;
}

static void forget_objects(struct timeline *tl)
{
	for (uint32_t i = 0; i < tl->nobjs; i++)
		free(tl->objs[i].waiters);
	tl->nobjs = 0;
	u64map_free(&tl->obj_index);
}

static void add_waiter(struct timeline *tl, uint64_t addr, uint32_t serial,
		       int64_t since)
{
	struct obj *o = obj_get(tl, addr);
	WEFT_GROW(o->waiters, o->nwaiters, o->waiters_cap, 4);
	o->waiters[o->nwaiters++] = (struct waiter){ serial, since };
}

static void remove_waiter(struct timeline *tl, uint64_t addr, uint32_t serial)
{
	uint32_t i = u64map_get(&tl->obj_index, addr);
	if (!i)
		return;
	struct obj *o = &tl->objs[i - 1];
	for (uint32_t w = 0; w < o->nwaiters; w++)
		if (o->waiters[w].serial == serial) {
			o->waiters[w] = o->waiters[--o->nwaiters];
			return;
		}
}

static void set_release(struct timeline *tl, uint64_t addr, uint32_t serial,
			int64_t ns, const char *what)
{
	struct obj *o = obj_get(tl, addr);
	o->release_serial = serial;
	o->release_ns = ns;
	o->release_what = what;
}

/* ---- items ---- */

static void deliver(struct timeline *tl, struct tl_item *it, const struct thr *t)
{
	it->serial = t->pub.serial;
	it->thread = &t->pub;
	if (tl->fn)
		tl->fn(tl->ctx, it);
}

/* Gives the time since the last accounting to the thread's innermost
 * state. */
static void account(struct thr *t, int64_t now)
{
	if (!t->in_session || t->pub.exited)
		return;
	int64_t d = now - t->acct_since;
	if (d <= 0)
		return;
	enum tl_kind k = t->depth ? t->stack[t->depth - 1].kind
				  : t->unknown ? TL_UNKNOWN : TL_RUNNING;
	t->pub.in_ns[k] += d;
	t->pub.alive_ns += d;
	t->acct_since = now;
}

static void begin_thread(struct timeline *tl, struct thr *t, int64_t ns,
			 int64_t acct_from)
{
	if (!t->in_session)
		thr_list_add(&tl->session, t);
	t->in_session = 1;
	t->unknown = 0;
	t->acct_since = acct_from;
	if (t->seen)
		return;
	t->seen = 1;
	thr_list_add(&tl->seen, t);
	t->pub.first_ns = acct_from;
	struct tl_item it = { .type = TL_THREAD_BEGIN, .ns = ns };
	deliver(tl, &it, t);
}

/* An item about no thread in particular. */
static void deliver_global(struct timeline *tl, struct tl_item *it)
{
	if (tl->fn)
		tl->fn(tl->ctx, it);
}

static int is_wait(enum tl_kind k)
{
	return k != TL_RUNNING && k != TL_SYSCALL && k != TL_SLEEP && k != TL_UNKNOWN;
}

/* A frame of kind k was entered (+1) or left (-1) at now: the count of
 * blocked threads changes when the thread's first wait begins or its
 * last one ends. */
static void count_wait(struct timeline *tl, struct thr *t, enum tl_kind k,
		       int delta, int64_t now)
{
	if (!is_wait(k))
		return;
	t->waits = (uint8_t)(t->waits + delta);
	if (t->waits != (delta > 0 ? 1 : 0))
		return;
	tl->blocked = (uint32_t)((int64_t)tl->blocked + delta);
	struct tl_item it = { .type = TL_BLOCKED, .ns = now, .blocked = tl->blocked };
	deliver_global(tl, &it);
}

static void push(struct timeline *tl, struct thr *t, int64_t now,
		 const struct frame *f)
{
	account(t, now);
	if (t->depth == FRAMES) {
		t->unknown = 1;
		return;
	}
	t->stack[t->depth++] = *f;
	count_wait(tl, t, f->kind, 1, now);
}

/* Ends the innermost state if it is (kind, object); delivers the
 * interval and returns its frame (NULL when the thread was not in it). */
static const struct frame *pop(struct timeline *tl, struct thr *t, int64_t now,
			       enum tl_kind kind, uint64_t object, uint8_t ok,
			       int64_t ret, uint64_t err)
{
	if (!t->depth)
		return NULL;
	struct frame *f = &t->stack[t->depth - 1];
	if (f->kind != kind || (object && f->object && f->object != object))
		return NULL;
	account(t, now);
	t->depth--;
	count_wait(tl, t, f->kind, -1, now);
	struct tl_item it = { .type = TL_INTERVAL, .ns = now };
	it.iv = (struct tl_interval){
		.kind = f->kind, .syscall = f->syscall, .ended_ok = ok,
		.from_status = f->from_status, .rw_mode = f->rw_mode,
		.object = f->object, .arg = f->arg, .ret = ret, .err = err,
		.begin_ns = f->begin_ns, .end_ns = now, .site = f->site,
		.delivered_ns = f->delivered_ns, .continued = f->continued,
	};
	deliver(tl, &it, t);
	return f;
}

/* Ends every state of the thread at now without seeing its end. */
static void cut_states(struct timeline *tl, struct thr *t, int64_t now)
{
	account(t, now);
	while (t->depth) {
		struct frame *f = &t->stack[--t->depth];
		count_wait(tl, t, f->kind, -1, now);
		if (t->depth == 0) {
			t->last_cut = *f;
			t->last_cut_end = now;
		}
		struct tl_item it = { .type = TL_INTERVAL, .ns = now };
		it.iv = (struct tl_interval){
			.kind = f->kind, .syscall = f->syscall, .cut = 1,
			.from_status = f->from_status, .rw_mode = f->rw_mode,
			.object = f->object, .arg = f->arg,
			.begin_ns = f->begin_ns, .end_ns = now, .site = f->site,
			.delivered_ns = f->delivered_ns, .continued = f->continued,
		};
		deliver(tl, &it, t);
	}
}

static void flow(struct timeline *tl, struct thr *t, int64_t now,
		 uint64_t object, int64_t waited_since)
{
	uint32_t i = u64map_get(&tl->obj_index, object);
	if (!i)
		return;
	const struct obj *o = &tl->objs[i - 1];
	if (!o->release_serial || o->release_serial == t->pub.serial ||
	    o->release_ns < waited_since)
		return;
	struct tl_item it = { .type = TL_FLOW, .ns = now };
	it.flow = (struct tl_flow){ o->release_serial, t->pub.serial, o->release_ns,
				    now, object, o->release_what };
	deliver(tl, &it, t);
}

static struct tl_held *find_held(struct thr *t, uint64_t lock)
{
	for (uint32_t i = t->nheld; i > 0; i--)
		if (t->held[i - 1].lock == lock)
			return &t->held[i - 1];
	return NULL;
}

/* Gives out the thread's pending acquisition, if any. */
static void acquired(struct timeline *tl, struct thr *t)
{
	struct pending_acquire *p = &t->acquiring;
	if (!p->set)
		return;
	p->set = 0;
	uint64_t lock = p->lock, flags = p->flags;
	int64_t now = p->ns;
	struct tl_held *h = find_held(t, lock);
	struct tl_item it = { .type = TL_ACQUIRE, .ns = now };
	it.acq = (struct tl_acquire){
		.lock = lock, .kind = p->kind, .shared = p->shared,
		.try_ = !!(flags & WEFT_FLAG_TRY),
		.contended = !!(flags & WEFT_FLAG_CONTENDED),
		.recursive = h != NULL, .cond_reacquire = p->cond_reacquire,
		.unheld = p->unheld, .wait_ns = p->wait_ns, .site = p->site,
		.held = t->held, .nheld = t->nheld,
	};
	deliver(tl, &it, t);
	if (p->unheld)
		return;
	if (h) {
		h->depth++;
		return;
	}
	WEFT_GROW(t->held, t->nheld, t->held_cap, 8);
	t->held[t->nheld++] = (struct tl_held){
		.lock = lock, .kind = p->kind, .shared = p->shared,
		.try_ = it.acq.try_, .depth = 1, .since_ns = now, .site = it.acq.site,
	};
}

/* The thread took lock: given out by acquired() at its next record.  Its
 * site is, until an ACQUIRE_SITE says otherwise, the stack of the wait
 * before it (blocked: a BLOCK's, or a cond wait's begin for the mutex it
 * takes back), else the record alone. */
static void acquire(struct timeline *tl, struct thr *t, int64_t now,
		    uint64_t lock, enum tl_lock_kind kind, uint64_t flags,
		    int shared, const struct frame *blocked, size_t offset,
		    int cond_reacquire, int unheld)
{
	struct tl_site site = { tl->gen, t->pub.serial, 0, offset, now };
	if (blocked && blocked->site.stack) {
		site.gen = blocked->site.gen;
		site.stack = blocked->site.stack;
	}
	t->acquiring = (struct pending_acquire){
		.set = 1, .shared = (uint8_t)shared,
		.cond_reacquire = (uint8_t)cond_reacquire, .unheld = (uint8_t)unheld,
		.kind = kind, .lock = lock, .flags = flags, .ns = now,
		.wait_ns = blocked && !cond_reacquire ? now - blocked->begin_ns : 0,
		.site = site,
	};
}

/* Where the thread's pending acquisition was made (ACQUIRE_SITE). */
static void acquire_site(struct timeline *tl, struct thr *t,
			 const struct weft_record *rec)
{
	if (!t->acquiring.set)
		return;
	t->acquiring.site.gen = tl->gen;
	t->acquiring.site.stack = rec->args[WEFT_ARG_ACQUIRE_SITE_STACK];
	acquired(tl, t);
}

/* Time the waiters of lock spent waiting during [begin, end]. */
static int64_t caused_wait(struct timeline *tl, uint64_t lock, uint32_t holder,
			   int64_t begin, int64_t end)
{
	uint32_t i = u64map_get(&tl->obj_index, lock);
	if (!i)
		return 0;
	const struct obj *o = &tl->objs[i - 1];
	int64_t sum = 0;
	for (uint32_t w = 0; w < o->nwaiters; w++) {
		if (o->waiters[w].serial == holder)
			continue;
		int64_t from = o->waiters[w].since > begin ? o->waiters[w].since : begin;
		if (end > from)
			sum += end - from;
	}
	return sum;
}

static void end_hold(struct timeline *tl, struct thr *t, struct tl_held *h,
		     int64_t now, int cut)
{
	struct tl_item it = { .type = TL_HOLD, .ns = now };
	it.hold = (struct tl_hold){
		.lock = h->lock, .kind = h->kind, .shared = h->shared,
		.cut = (uint8_t)cut, .begin_ns = h->since_ns, .end_ns = now,
		.site = h->site,
		.caused_wait_ns = cut ? 0 : caused_wait(tl, h->lock, t->pub.serial,
							 h->since_ns, now),
	};
	deliver(tl, &it, t);
	*h = t->held[--t->nheld];
}

static void release(struct timeline *tl, struct thr *t, int64_t now,
		    uint64_t lock, const char *what, int whole)
{
	set_release(tl, lock, t->pub.serial, now, what);
	struct tl_held *h = find_held(t, lock);
	if (!h)
		return;
	if (h->depth > 1 && !whole) {
		h->depth--;
		return;
	}
	end_hold(tl, t, h, now, 0);
}

static void drop_holds(struct timeline *tl, struct thr *t, int64_t now)
{
	while (t->nheld)
		end_hold(tl, t, &t->held[t->nheld - 1], now, 1);
}

/* ---- events ---- */

static enum tl_kind syscall_kind(uint64_t sys)
{
	return weft_syscall_class(sys) == WEFT_SYSCLASS_SLEEP ? TL_SLEEP : TL_SYSCALL;
}

static enum tl_kind state_kind(uint64_t state, uint64_t sys)
{
	switch (state) {
	case WEFT_STATE_SYSCALL: return syscall_kind(sys);
#define WEFT_STATE(name, id)
#define WEFT_WAIT_STATE(name, id, kind, word) case id: return TL_##kind;
#include "states.def"
#undef WEFT_WAIT_STATE
#undef WEFT_STATE
	}
	return TL_RUNNING;
}

/* STATUS_NESTED states a wait as STATUS does. */
_Static_assert(WEFT_ARG_STATUS_NESTED_STATE == WEFT_ARG_STATUS_STATE &&
	       WEFT_ARG_STATUS_NESTED_SYSCALL == WEFT_ARG_STATUS_SYSCALL &&
	       WEFT_ARG_STATUS_NESTED_OBJECT == WEFT_ARG_STATUS_OBJECT &&
	       WEFT_ARG_STATUS_NESTED_SINCE == WEFT_ARG_STATUS_SINCE,
	       "STATUS_NESTED's arguments are where STATUS's are");

/* When the state a STATUS or STATUS_NESTED record states began. */
static int64_t stated_since(const struct timeline *tl, const struct weft_record *rec)
{
	return to_ns(tl, tl->gen, rec->args[WEFT_ARG_STATUS_SINCE]);
}

/* Enters the wait a STATUS or STATUS_NESTED record states, accounting
 * the thread's time until from; f is the wait's frame, or NULL when the
 * record states none. */
static void enter_stated(struct timeline *tl, struct thr *t, const struct frame *f,
			 int64_t from)
{
	push(tl, t, from, f);
	t->status_open = 1;
	if (f->kind == TL_MUTEX || f->kind == TL_RWLOCK)
		add_waiter(tl, f->object, t->pub.serial, f->begin_ns);
}

/* The frame of the wait a STATUS or STATUS_NESTED record states (kind
 * TL_RUNNING when it states none). */
static struct frame stated_frame(const struct timeline *tl, const struct thr *t,
				 const struct weft_record *rec, size_t offset)
{
	const uint64_t *a = rec->args;
	int64_t since = stated_since(tl, rec);
	return (struct frame){
		.kind = state_kind(a[WEFT_ARG_STATUS_STATE], a[WEFT_ARG_STATUS_SYSCALL]),
		.syscall = (uint8_t)a[WEFT_ARG_STATUS_SYSCALL], .from_status = 1,
		.object = a[WEFT_ARG_STATUS_OBJECT], .arg = -1, .begin_ns = since,
		.site = { tl->gen, t->pub.serial, 0, offset, since },
	};
}

static void on_status(struct timeline *tl, struct thr *t, const struct weft_record *rec,
		      int64_t now, size_t offset)
{
	/* Within a session the STATUS only repeats what the thread's own
	 * records say (the validator checked that). */
	if (t->in_session && !t->unknown)
		return;
	int64_t since = stated_since(tl, rec);
	/* A new session's accounting starts when its generation began (or
	 * when the thread entered its state, if later). */
	const struct gen_clock *gc = clock_of(tl, tl->gen);
	int64_t from = gc ? gc->offset : now;
	if (since > from)
		from = since;
	if (t->in_session) {
		cut_states(tl, t, now);
		from = now;
	}
	if (rec->args[WEFT_ARG_STATUS_STATE] == WEFT_STATE_EXITED) {
		t->pub.exited = 1;
		return;
	}
	begin_thread(tl, t, now, from);
	struct frame f = stated_frame(tl, t, rec, offset);
	if (f.kind == TL_RUNNING)
		return;
	/* The same wait, cut short when tracing stopped, goes on. */
	const struct frame *c = &t->last_cut;
	if (c->kind == f.kind && c->object == f.object && c->syscall == f.syscall &&
	    c->begin_ns == since && t->last_cut_end >= since) {
		f.delivered_ns = t->last_cut_end - since;
		f.continued = 1;
		f.arg = c->arg;
		f.site = c->site;
	}
	enter_stated(tl, t, &f, t->acct_since);
}

/* A wait nested in the one its STATUS began with (a signal handler's):
 * the outer wait's time runs until the nested one began. */
static void on_status_nested(struct timeline *tl, struct thr *t,
			     const struct weft_record *rec, size_t offset)
{
	struct frame f = stated_frame(tl, t, rec, offset);
	if (f.kind != TL_RUNNING)
		enter_stated(tl, t, &f, f.begin_ns);
}

static void on_lost(struct timeline *tl, struct thr *t, const struct weft_record *rec,
		    int64_t now)
{
	t->pub.lost += rec->args[WEFT_ARG_LOST_COUNT];
	if (!t->in_session)
		begin_thread(tl, t, now, now);
	cut_states(tl, t, now);
	drop_holds(tl, t, now);
	t->unknown = 1;
}

/* How the wait an event ends turned out: whether it succeeded, and the
 * call's return value and error. */
struct outcome {
	uint8_t ok;
	int64_t ret;
	uint64_t err;
};

/* A wait ended well when the event ending it has no result argument (an
 * acquisition, a departure) or a result of 0; a call's outcome also has
 * its return value. */
static struct outcome wait_outcome(const struct weft_record *rec)
{
	const uint64_t *a = rec->args;
	int result = weft_events[rec->code].result_arg;
	uint64_t err = result >= 0 ? a[result] : 0;
	int64_t ret = rec->code == WEFT_EV_SYSCALL_END
		      ? (int64_t)a[WEFT_ARG_SYSCALL_END_RETURN] : 0;
	return (struct outcome){ err == 0, ret, err };
}

/* The joined thread's exit enabled the join that waited since done. */
static void join_flow(struct timeline *tl, struct thr *t, int64_t now,
		      uint64_t target, const struct frame *done)
{
	const struct thr *joined = target <= UINT32_MAX ? thr_find(tl, target) : NULL;
	if (!joined || !joined->pub.exited || !joined->exit_ns ||
	    joined->exit_ns < done->begin_ns)
		return;
	struct tl_item it = { .type = TL_FLOW, .ns = now };
	it.flow = (struct tl_flow){ (uint32_t)target, t->pub.serial, joined->exit_ns,
				    now, target, "exit" };
	deliver(tl, &it, t);
}

/* The event ended the wait ch says: its interval, and the flow from what
 * woke it.  Returns the wait's frame (NULL when the thread was not in
 * it). */
static const struct frame *end_wait(struct timeline *tl, struct thr *t,
				    const struct weft_record *rec,
				    const struct weft_state_change *ch, int64_t now)
{
	struct outcome out = wait_outcome(rec);
	int call = ch->ended == WEFT_STATE_SYSCALL;
	enum tl_kind kind = state_kind(ch->ended, ch->about);
	/* (A call's frame is known by its kind alone.) */
	const struct frame *done = pop(tl, t, now, kind, call ? 0 : ch->about,
				       out.ok, out.ret, out.err);
	if (kind == TL_MUTEX || kind == TL_RWLOCK)
		remove_waiter(tl, ch->about, t->pub.serial);
	if (!done || !out.ok || call)
		return done;
	if (kind == TL_JOIN)
		join_flow(tl, t, now, ch->about, done);
	else
		flow(tl, t, now, ch->about, done->begin_ns);
	return done;
}

/* The kind of the lock an acquisition took. */
static enum tl_lock_kind lock_kind(uint8_t code, uint8_t mode)
{
	if (mode)
		return TL_LOCK_RWLOCK;
	return code == WEFT_EV_SPIN_ACQUIRE ? TL_LOCK_SPIN : TL_LOCK_MUTEX;
}

/* The thread's hold changed as ch says.  A condition wait gives up its
 * mutex whole, and takes it back when it ends; an acquisition after a
 * wait (blocked, its frame) took that long.  A failed wait that never
 * gave its mutex up starts no new hold: the hold shown ends where the
 * wait began, and the unlock after it releases nothing. */
static void change_hold(struct timeline *tl, struct thr *t, const struct weft_record *rec,
			const struct weft_state_change *ch, const struct frame *blocked,
			int64_t now, size_t offset)
{
	if (ch->hold == WEFT_HOLD_RELEASED) {
		int wait = ch->began == WEFT_STATE_BLOCKED_COND;
		release(tl, t, now, ch->object, wait ? "wait" : "unlock", wait);
	} else if (ch->hold == WEFT_HOLD_ACQUIRED && !ch->restored) {
		int reacquire = ch->ended == WEFT_STATE_BLOCKED_COND;
		acquire(tl, t, now, ch->object, lock_kind(rec->code, ch->mode), ch->flags,
			ch->mode == WEFT_RW_READ, blocked, offset, reacquire, ch->unheld);
	}
}

/* The event began the wait ch says. */
static void begin_wait(struct timeline *tl, struct thr *t, const struct weft_record *rec,
		       const struct weft_state_change *ch, int64_t now, size_t offset)
{
	const uint64_t *a = rec->args;
	int stack = weft_events[rec->code].stack_arg;
	int call = ch->began == WEFT_STATE_SYSCALL;
	struct frame f = {
		.kind = state_kind(ch->began, ch->about),
		.syscall = call ? (uint8_t)ch->about : 0,
		.rw_mode = rec->code == WEFT_EV_RWLOCK_BLOCK
			   ? (uint8_t)a[WEFT_ARG_RWLOCK_BLOCK_MODE] : 0,
		.object = call ? 0 : ch->about,
		.arg = call ? (int64_t)a[WEFT_ARG_SYSCALL_BEGIN_ARG] : -1,
		.begin_ns = now,
		.site = { tl->gen, t->pub.serial, stack >= 0 ? a[stack] : 0, offset, now },
	};
	push(tl, t, now, &f);
	if (f.kind == TL_MUTEX || f.kind == TL_RWLOCK)
		add_waiter(tl, ch->about, t->pub.serial, now);
}

/* An event given unchecked (after the validator's guess failed in a
 * generation that lost events or was cut short): what it did to the
 * thread's waits and holds is not known, so the timeline stops following
 * them, as after a LOST record, until the thread's next STATUS: its
 * states and holds are cut there and its time counts as unknown. */
static void stop_following(struct timeline *tl, struct thr *t, int64_t now)
{
	cut_states(tl, t, now);
	drop_holds(tl, t, now);
	t->unknown = 1;
}

/* What the timeline alone makes of an event: a wake-up's instant, a
 * barrier arrival as what releases its waiters. */
static void mark_wakeup(struct timeline *tl, struct thr *t,
			const struct weft_record *rec, int64_t now)
{
	const uint64_t *a = rec->args;
	const char *what;
	switch (rec->code) {
	case WEFT_EV_BARRIER_BEGIN:
		set_release(tl, a[WEFT_ARG_BARRIER_BEGIN_BARRIER], t->pub.serial, now,
			    "arrive");
		return;
	case WEFT_EV_COND_SIGNAL:
		what = "signal";
		break;
	case WEFT_EV_COND_BROADCAST:
		what = "broadcast";
		break;
	case WEFT_EV_SEM_POST:
		if (a[WEFT_ARG_SEM_POST_RESULT])
			return;
		what = "post";
		break;
	default:
		return;
	}
	_Static_assert(WEFT_ARG_COND_BROADCAST_COND == WEFT_ARG_COND_SIGNAL_COND &&
		       WEFT_ARG_SEM_POST_SEM == WEFT_ARG_COND_SIGNAL_COND,
		       "signal, broadcast and post name their object in one place");
	uint64_t object = a[WEFT_ARG_COND_SIGNAL_COND];
	set_release(tl, object, t->pub.serial, now, what);
	struct tl_item it = { .type = TL_INSTANT, .ns = now };
	it.inst = (struct tl_instant){ object, what };
	deliver(tl, &it, t);
}

/* A thread's uncontended acquisitions of a lock, counted (LOCK_COUNTS). */
static void counted(struct timeline *tl, struct thr *t, const struct weft_record *rec,
		    int64_t now)
{
	const uint64_t *a = rec->args;
	uint64_t kind = a[WEFT_ARG_LOCK_COUNTS_KIND];
	struct tl_item it = { .type = TL_COUNTS, .ns = now };
	it.counts = (struct tl_counts){
		.lock = a[WEFT_ARG_LOCK_COUNTS_LOCK],
		.kind = kind == WEFT_COUNT_MUTEX ? TL_LOCK_MUTEX
			: kind == WEFT_COUNT_SPIN ? TL_LOCK_SPIN : TL_LOCK_RWLOCK,
		.shared = kind == WEFT_COUNT_RW_READ,
		.acquisitions = a[WEFT_ARG_LOCK_COUNTS_ACQUISITIONS],
	};
	deliver(tl, &it, t);
}

static void thread_record(struct timeline *tl, struct thr *t,
			  const struct weft_record *rec, size_t offset,
			  const struct weft_state_change *ch)
{
	int64_t now = to_ns(tl, tl->gen, rec->ts);
	if (now > tl->gen_max_ns)
		tl->gen_max_ns = now;
	if (!tl->any_event || now < tl->first_ns)
		tl->first_ns = now;
	if (!tl->any_event || now > tl->last_ns)
		tl->last_ns = now;
	tl->any_event = 1;
	int status_open = t->status_open;
	t->status_open = 0;
	if (rec->code == WEFT_EV_ACQUIRE_SITE) {
		acquire_site(tl, t, rec);
		return;
	}
	acquired(tl, t);
	switch (rec->code) {
	case WEFT_EV_STATUS:
		on_status(tl, t, rec, now, offset);
		return;
	case WEFT_EV_STATUS_NESTED:
		if (status_open)
			on_status_nested(tl, t, rec, offset);
		return;
	case WEFT_EV_LOST:
		on_lost(tl, t, rec, now);
		return;
	case WEFT_EV_THREAD_START:
		t->pub.parent = (uint32_t)rec->args[WEFT_ARG_THREAD_START_PARENT];
		t->pub.tid = rec->args[WEFT_ARG_THREAD_START_TID];
		begin_thread(tl, t, now, now);
		return;
	case WEFT_EV_LOCK_COUNTS:
		counted(tl, t, rec, now);
		return;
	case WEFT_EV_THREAD_EXIT: {
		cut_states(tl, t, now);
		drop_holds(tl, t, now);
		t->pub.exited = 1;
		t->exit_ns = now;
		struct tl_item it = { .type = TL_THREAD_END, .ns = now };
		deliver(tl, &it, t);
		return;
	}
	default:
		break;
	}
	if (!t->in_session)
		begin_thread(tl, t, now, now);
	if (ch) {
		const struct frame *done = ch->ended ? end_wait(tl, t, rec, ch, now) : NULL;
		change_hold(tl, t, rec, ch, done, now, offset);
		if (ch->began)
			begin_wait(tl, t, rec, ch, now, offset);
	} else {
		stop_following(tl, t, now);
	}
	mark_wakeup(tl, t, rec, now);
}

static int by_serial(const void *x, const void *y)
{
	const struct thr *a = *(const struct thr *const *)x;
	const struct thr *b = *(const struct thr *const *)y;
	return a->pub.serial < b->pub.serial ? -1 : a->pub.serial > b->pub.serial;
}

/* Tracing stopped (or the trace ends): every thread's states and holds
 * end, unseen, at the last event of the generation, thread by thread in
 * the order of their serials. */
static void end_session(struct timeline *tl)
{
	int64_t end = tl->gen_max_ns == INT64_MIN ? tl->last_ns : tl->gen_max_ns;
	if (tl->session.n)
		qsort(tl->session.v, tl->session.n, sizeof *tl->session.v, by_serial);
	for (uint32_t i = 0; i < tl->session.n; i++) {
		struct thr *t = tl->session.v[i];
		acquired(tl, t);
		if (!t->pub.exited) {
			cut_states(tl, t, end);
			drop_holds(tl, t, end);
		}
		t->in_session = 0;
		t->depth = 0;
		t->waits = 0;
	}
	tl->session.n = 0;
	if (tl->blocked) {
		tl->blocked = 0;
		struct tl_item it = { .type = TL_BLOCKED, .ns = end, .blocked = 0 };
		deliver_global(tl, &it);
	}
	forget_objects(tl);
}

static void on_event(void *p, const struct weft_check_event *ev)
{
	struct timeline *tl = p;
	if (ev->generation != tl->gen) {
		tl->sessions += tl->session_pending;
		tl->session_pending = 0;
		tl->gen = ev->generation;
		tl->gen_max_ns = INT64_MIN;
		struct tl_item it = { .type = TL_GENERATION, .ns = tl->last_ns,
				      .generation = ev->generation };
		deliver_global(tl, &it);
	}
	if (ev->serial) {
		struct thr *t = thr_get(tl, ev->serial);
		if (t)
			thread_record(tl, t, ev->rec, ev->offset, ev->change);
		return;
	}
	if (ev->rec->code == WEFT_EV_GEN_END && ev->rec->args[WEFT_ARG_GEN_END_STOPPED]) {
		end_session(tl);
		tl->session_pending = 1;
	}
}

/* ---- the public side ---- */

struct timeline *tl_new(const struct weft_reader *r)
{
	struct timeline *tl = calloc(1, sizeof *tl);
	if (!tl)
		abort();
	tl->r = *r;
	tl->jobs = 1;
	int st;
	tl->tables = weft_tables_load(&tl->r, &st);
	load_clocks(tl);
	return tl;
}

enum weft_verdict tl_run(struct timeline *tl, tl_fn fn, void *ctx)
{
	tl->fn = fn;
	tl->ctx = ctx;
	tl->session_pending = 1;
	tl->gen_max_ns = INT64_MIN;
	enum weft_verdict v = weft_check_jobs(&tl->r, on_event, tl, &tl->res,
					      tl->jobs);
	/* Whatever is still open ends with the trace (a truncated one, or
	 * one whose last generation says tracing went on). */
	end_session(tl);
	return v;
}

void tl_close(struct timeline *tl)
{
	if (!tl)
		return;
	for (uint32_t i = 0; i < tl->all.n; i++) {
		free(tl->all.v[i]->held);
		free(tl->all.v[i]);
	}
	free(tl->all.v);
	free(tl->seen.v);
	free(tl->session.v);
	u64map_free(&tl->thread_index);
	forget_objects(tl);
	free(tl->objs);
	free(tl->clocks);
	weft_tables_free(tl->tables);
	weft_reader_close(&tl->r);
	free(tl);
}

void tl_set_jobs(struct timeline *tl, unsigned jobs)
{
	tl->jobs = jobs;
}

const struct weft_check_result *tl_result(const struct timeline *tl) { return &tl->res; }
const struct weft_tables *tl_tables(const struct timeline *tl) { return tl->tables; }
const struct weft_file_header *tl_header(const struct timeline *tl) { return &tl->r.header; }
uint32_t tl_nthreads(const struct timeline *tl) { return tl->seen.n; }
uint32_t tl_sessions(const struct timeline *tl) { return tl->sessions; }

const struct tl_thread *tl_thread_at(const struct timeline *tl, uint32_t i)
{
	return i < tl->seen.n ? &tl->seen.v[i]->pub : NULL;
}

int64_t tl_span_ns(const struct timeline *tl)
{
	return tl->any_event ? tl->last_ns - tl->first_ns : 0;
}

/* Calls fn with the text of each frame of a site's stack, innermost
 * first (calls inlined at one address are frames of their own; weft's
 * own frames are left out; an address nothing names is shown raw), until
 * fn returns 0.  Returns 0 when the site has no stack. */
static int each_frame(const struct timeline *tl, const struct tl_site *s,
		      int (*fn)(void *ctx, const char *text), void *ctx)
{
	uint32_t n = 0;
	const uint64_t *pcs = s->stack ? weft_tables_stack(tl->tables, s->gen,
							   s->stack, &n) : NULL;
	int any = 0;
	for (uint32_t i = 0; pcs && i < n; i++) {
		const char *const *texts;
		int frames = weft_tables_frames(tl->tables, s->gen, pcs[i], &texts);
		char raw[32];
		const char *one = raw;
		if (frames == 0) {
			snprintf(raw, sizeof raw, "0x%" PRIx64, pcs[i]);
			texts = &one;
			frames = 1;
		}
		for (int f = 0; f < frames; f++) {
			any = 1;
			if (!fn(ctx, texts[f]))
				return 1;
		}
	}
	return any;
}

struct frame_out {
	char *buf;
	size_t cap, len;
	int left;
};

static int first_frame(void *ctx, const char *text)
{
	struct frame_out *o = ctx;
	weft_safe_text(o->buf, o->cap, text, o->cap);
	return 0;
}

static int join_frame(void *ctx, const char *text)
{
	struct frame_out *o = ctx;
	char one[256];
	weft_safe_text(one, sizeof one, text, sizeof one);
	int w = snprintf(o->buf + o->len, o->cap - o->len, "%s%s",
			 o->len ? " < " : "", one);
	if (w < 0 || o->len + (size_t)w >= o->cap) {
		o->len = o->cap - 1;
		return 0;
	}
	o->len += (size_t)w;
	return --o->left > 0;
}

const char *tl_site_symbol(const struct timeline *tl, const struct tl_site *s,
			   char *buf, size_t cap)
{
	struct frame_out o = { buf, cap, 0, 1 };
	return each_frame(tl, s, first_frame, &o) ? buf : NULL;
}

void tl_site_text(const struct timeline *tl, const struct tl_site *s,
		  int frames, char *buf, size_t cap)
{
	struct frame_out o = { buf, cap, 0, frames };
	buf[0] = 0;
	if (frames <= 0 || !each_frame(tl, s, join_frame, &o))
		snprintf(buf, cap, "T%u at offset %zu (%.6f s)", s->serial, s->offset,
			 (double)s->ns / 1e9);
}

void tl_format_ns(int64_t ns, char *buf, size_t cap)
{
	double v = (double)ns;
	double a = v < 0 ? -v : v;
	if (a >= 1e12)
		snprintf(buf, cap, "%.0f s", v / 1e9);
	else if (a >= 1e9)
		snprintf(buf, cap, "%.3g s", v / 1e9);
	else if (a >= 1e6)
		snprintf(buf, cap, "%.3g ms", v / 1e6);
	else if (a >= 1e3)
		snprintf(buf, cap, "%.3g us", v / 1e3);
	else
		snprintf(buf, cap, "%" PRId64 " ns", ns);
}

void tl_thread_label(const struct timeline *tl, uint32_t serial, char *buf,
		     size_t cap)
{
	const char *name = weft_tables_thread_name(tl->tables, serial);
	char safe[64];
	if (name) {
		weft_safe_text(safe, sizeof safe, name, 15);
		snprintf(buf, cap, "T%u (%s)", serial, safe);
	}
	else
		snprintf(buf, cap, "T%u", serial);
}
