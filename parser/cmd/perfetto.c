/*
 * perfetto.c - traces as Perfetto's protobuf trace format (see
 * perfetto.h; the messages and field numbers are those of
 * format/perfetto_trace.proto).
 *
 * Each trace is a process track; each thread a thread track under it,
 * and a packet sequence of its own (trusted_packet_sequence_id) that
 * carries its events with interned event and annotation names.  Waits
 * and calls are slices (begin and end); a release is an instant, which
 * Perfetto keeps as a slice without duration, carrying the id of the
 * flow that ends on the wait it ended (terminating_flow_ids on the wait's
 * begin) and, as its argument, where the lock it gave back was taken.  A
 * lock that was contended gets a track with its holds as slices, and
 * each process a counter of its threads blocked.
 *
 * Every sequence's incremental state (its interned names, and its
 * default track: the thread's, so its events need not name it) is cleared at
 * the start of every generation, so what is kept while writing is
 * bounded by one generation's names.
 */
#include "perfetto.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "names.h"
#include "protobuf.h"
#include "slices.h"
#include "u64map.h"
#include "utf8.h"

/* Field numbers (format/perfetto_trace.proto). */
enum {
	TRACE_PACKET = 1,
	PACKET_TIMESTAMP = 8, PACKET_SEQUENCE_ID = 10, PACKET_TRACK_EVENT = 11,
	PACKET_INTERNED_DATA = 12, PACKET_SEQUENCE_FLAGS = 13,
	PACKET_TRACK_DESCRIPTOR = 60, PACKET_DEFAULTS = 59, DEFAULTS_TRACK_EVENT = 11,
	DEFAULT_TRACK_UUID = 11,
	INTERNED_EVENT_NAMES = 2, INTERNED_ANNOTATION_NAMES = 3,
	INTERNED_IID = 1, INTERNED_NAME = 2,
	EVENT_TYPE = 9, EVENT_TRACK_UUID = 11, EVENT_NAME_IID = 10,
	EVENT_ANNOTATIONS = 4, EVENT_COUNTER_VALUE = 30, EVENT_FLOW_IDS = 47,
	EVENT_TERMINATING_FLOW_IDS = 48,
	ANNOTATION_NAME_IID = 1, ANNOTATION_BOOL = 2, ANNOTATION_INT = 4,
	ANNOTATION_STRING = 6, ANNOTATION_POINTER = 7,
	TRACK_UUID = 1, TRACK_NAME = 2, TRACK_PROCESS = 3, TRACK_THREAD = 4,
	TRACK_PARENT = 5, TRACK_COUNTER = 8,
	PROCESS_PID = 1, PROCESS_NAME = 6,
	THREAD_PID = 1, THREAD_TID = 2, THREAD_NAME = 5,
	COUNTER_UNIT = 3, UNIT_COUNT = 2,
};

enum { TYPE_SLICE_BEGIN = 1, TYPE_SLICE_END = 2, TYPE_INSTANT = 3, TYPE_COUNTER = 4 };
enum { SEQ_INCREMENTAL_STATE_CLEARED = 1, SEQ_NEEDS_INCREMENTAL_STATE = 2 };

/* Track uuids: the track's id, what it is, and the trace's number, the
 * small parts first so that the varints stay short. */
enum { UUID_PROCESS = 1, UUID_THREAD = 2, UUID_LOCK = 3, UUID_BLOCKED = 4 };

enum intern_kind { INTERN_EVENT_NAME, INTERN_ANNOTATION_NAME, INTERN_KINDS };

/* A thread's packet sequence. */
struct sequence {
	uint32_t id;
	uint32_t generation;         /* pf->generation its state belongs to */
	uint64_t next_iid[INTERN_KINDS];
};

struct interned {
	uint64_t hash;               /* 0: free */
	uint32_t seq, off, len;
	uint64_t iid;
};

struct pf_arg {
	const char *key;
	enum { ARG_INT, ARG_STRING, ARG_POINTER, ARG_BOOL } kind;
	int64_t value;
	const char *text;
};

#define MAX_ARGS 6

struct perfetto {
	FILE *out;
	struct pb pkt;
	uint32_t generation;         /* bumped at each generation of each trace */
	uint32_t next_seq;

	/* The trace being written. */
	struct timeline *tl;
	unsigned index;
	uint64_t pid;
	int64_t offset_ns;
	uint32_t process_seq;
	struct u64map seq_of;        /* serial -> index + 1 in seqs */
	struct sequence *seqs;
	uint32_t nseqs, seqs_cap;
	struct u64map lock_of;       /* lock -> its track's number */
	uint32_t nlocks;
	int blocked_track;

	/* Names interned on the sequences in this generation. */
	struct interned *table;
	uint32_t table_cap, table_len;
	char *strings;
	size_t strings_len, strings_cap;

	char text[2048], site[1024];
};

static uint64_t uuid(const struct perfetto *pf, unsigned what, uint64_t id)
{
	return (id << 3 | what) << 20 | (pf->index + 1);
}

static int64_t stamp(const struct perfetto *pf, int64_t ns)
{
	int64_t t = ns + pf->offset_ns;
	return t < 0 ? 0 : t;
}

/* A string field from the trace's text, made valid UTF-8. */
static void put_text(struct perfetto *pf, uint32_t field, const char *s)
{
	weft_utf8_copy(pf->text, sizeof pf->text, s);
	pb_string(&pf->pkt, field, pf->text);
}

/* ---- interning ---- */

static uint64_t hash_name(uint32_t seq, unsigned kind, const char *s, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull ^ ((uint64_t)seq << 2 | kind);
	for (size_t i = 0; i < len; i++)
		h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
	return h ? h : 1;
}

static void table_grow(struct perfetto *pf)
{
	uint32_t cap = pf->table_cap ? pf->table_cap * 2 : 1024;
	struct interned *t = calloc(cap, sizeof *t);
	if (!t)
		abort();
	for (uint32_t i = 0; i < pf->table_cap; i++) {
		struct interned *e = &pf->table[i];
		if (!e->hash)
			continue;
		uint32_t j = (uint32_t)e->hash & (cap - 1);
		while (t[j].hash)
			j = (j + 1) & (cap - 1);
		t[j] = *e;
	}
	free(pf->table);
	pf->table = t;
	pf->table_cap = cap;
}

/* A new generation: every sequence starts again with no names. */
static void forget_interned(struct perfetto *pf)
{
	if (pf->table_len)
		memset(pf->table, 0, pf->table_cap * sizeof *pf->table);
	pf->table_len = 0;
	pf->strings_len = 0;
	pf->generation++;
}

/* The iid of name (valid UTF-8) on seq; *fresh says it was just given
 * (the packet must then define it). */
static uint64_t intern(struct perfetto *pf, struct sequence *seq, unsigned kind,
		       const char *name, int *fresh)
{
	size_t len = strlen(name);
	uint64_t h = hash_name(seq->id, kind, name, len);
	if ((pf->table_len + 1) * 2 > pf->table_cap)
		table_grow(pf);
	uint32_t i = (uint32_t)h & (pf->table_cap - 1);
	for (; pf->table[i].hash; i = (i + 1) & (pf->table_cap - 1)) {
		struct interned *e = &pf->table[i];
		if (e->hash == h && e->seq == seq->id && e->len == len &&
		    !memcmp(pf->strings + e->off, name, len) &&
		    (e->iid & 1) == kind) {
			*fresh = 0;
			return e->iid >> 1;
		}
	}
	if (pf->strings_len + len > pf->strings_cap) {
		pf->strings_cap = (pf->strings_cap + len) * 2;
		pf->strings = realloc(pf->strings, pf->strings_cap);
		if (!pf->strings)
			abort();
	}
	memcpy(pf->strings + pf->strings_len, name, len);
	uint64_t iid = seq->next_iid[kind]++;
	pf->table[i] = (struct interned){ h, seq->id, (uint32_t)pf->strings_len,
					  (uint32_t)len, iid << 1 | kind };
	pf->strings_len += len;
	pf->table_len++;
	*fresh = 1;
	return iid;
}

/* ---- packets ---- */

static void packet_begin(struct perfetto *pf, int64_t ns, uint32_t seq)
{
	pb_reset(&pf->pkt);
	pb_begin(&pf->pkt, TRACE_PACKET);
	pb_varint(&pf->pkt, PACKET_TIMESTAMP, (uint64_t)stamp(pf, ns));
	pb_varint(&pf->pkt, PACKET_SEQUENCE_ID, seq);
}

static void packet_end(struct perfetto *pf)
{
	pb_end(&pf->pkt);
	fwrite(pf->pkt.buf, 1, pf->pkt.len, pf->out);
}

static struct sequence *sequence_of(struct perfetto *pf, uint32_t serial)
{
	uint32_t i = u64map_get(&pf->seq_of, serial);
	if (i)
		return &pf->seqs[i - 1];
	if (pf->nseqs == pf->seqs_cap) {
		pf->seqs_cap = pf->seqs_cap ? pf->seqs_cap * 2 : 64;
		pf->seqs = realloc(pf->seqs, pf->seqs_cap * sizeof *pf->seqs);
		if (!pf->seqs)
			abort();
	}
	struct sequence *s = &pf->seqs[pf->nseqs++];
	*s = (struct sequence){ .id = ++pf->next_seq, .generation = pf->generation - 1 };
	u64map_put(&pf->seq_of, serial, pf->nseqs);
	return s;
}

/* One track event on thread serial's sequence: interned names defined
 * as they are first used in the generation. */
static void event(struct perfetto *pf, uint32_t serial, int64_t ns, unsigned type,
		  uint64_t track, const char *name, const struct pf_arg *args,
		  unsigned nargs, uint64_t flow_out, uint64_t flow_in)
{
	struct sequence *seq = sequence_of(pf, serial);
	unsigned flags = SEQ_NEEDS_INCREMENTAL_STATE;
	uint64_t own_track = uuid(pf, UUID_THREAD, serial);
	if (seq->generation != pf->generation) {
		seq->generation = pf->generation;
		seq->next_iid[INTERN_EVENT_NAME] = seq->next_iid[INTERN_ANNOTATION_NAME] = 1;
		flags |= SEQ_INCREMENTAL_STATE_CLEARED;
	}
	char clean[256];
	uint64_t name_iid = 0, arg_iid[MAX_ARGS];
	int name_fresh = 0, arg_fresh[MAX_ARGS], any_fresh = 0;
	if (name) {
		weft_utf8_copy(clean, sizeof clean, name);
		name_iid = intern(pf, seq, INTERN_EVENT_NAME, clean, &name_fresh);
		any_fresh |= name_fresh;
	}
	for (unsigned i = 0; i < nargs; i++) {
		arg_iid[i] = intern(pf, seq, INTERN_ANNOTATION_NAME, args[i].key, &arg_fresh[i]);
		any_fresh |= arg_fresh[i];
	}
	struct pb *b = &pf->pkt;
	packet_begin(pf, ns, seq->id);
	/* A slice's end names nothing interned: it needs no flags (which
	 * would be a tenth of its size). */
	if (name || nargs || (flags & SEQ_INCREMENTAL_STATE_CLEARED))
		pb_varint(b, PACKET_SEQUENCE_FLAGS, flags);
	if (flags & SEQ_INCREMENTAL_STATE_CLEARED) {
		/* Events name no track when they are on the thread's own. */
		pb_begin(b, PACKET_DEFAULTS);
		pb_begin(b, DEFAULTS_TRACK_EVENT);
		pb_varint(b, DEFAULT_TRACK_UUID, own_track);
		pb_end(b);
		pb_end(b);
	}
	if (any_fresh) {
		pb_begin(b, PACKET_INTERNED_DATA);
		if (name_fresh) {
			pb_begin(b, INTERNED_EVENT_NAMES);
			pb_varint(b, INTERNED_IID, name_iid);
			pb_string(b, INTERNED_NAME, clean);
			pb_end(b);
		}
		for (unsigned i = 0; i < nargs; i++) {
			if (!arg_fresh[i])
				continue;
			pb_begin(b, INTERNED_ANNOTATION_NAMES);
			pb_varint(b, INTERNED_IID, arg_iid[i]);
			pb_string(b, INTERNED_NAME, args[i].key);
			pb_end(b);
		}
		pb_end(b);
	}
	pb_begin(b, PACKET_TRACK_EVENT);
	pb_varint(b, EVENT_TYPE, type);
	if (track != own_track)
		pb_varint(b, EVENT_TRACK_UUID, track);
	if (name)
		pb_varint(b, EVENT_NAME_IID, name_iid);
	for (unsigned i = 0; i < nargs; i++) {
		pb_begin(b, EVENT_ANNOTATIONS);
		pb_varint(b, ANNOTATION_NAME_IID, arg_iid[i]);
		switch (args[i].kind) {
		case ARG_INT: pb_int(b, ANNOTATION_INT, args[i].value); break;
		case ARG_BOOL: pb_varint(b, ANNOTATION_BOOL, (uint64_t)args[i].value); break;
		case ARG_POINTER: pb_varint(b, ANNOTATION_POINTER, (uint64_t)args[i].value); break;
		case ARG_STRING: put_text(pf, ANNOTATION_STRING, args[i].text); break;
		}
		pb_end(b);
	}
	if (flow_out)
		pb_fixed64(b, EVENT_FLOW_IDS, flow_out);
	if (flow_in)
		pb_fixed64(b, EVENT_TERMINATING_FLOW_IDS, flow_in);
	pb_end(b);
	packet_end(pf);
}

/* A track's descriptor, on the trace's own sequence. */
static void track_begin(struct perfetto *pf, uint64_t id, uint64_t parent)
{
	packet_begin(pf, 0, pf->process_seq);
	pb_begin(&pf->pkt, PACKET_TRACK_DESCRIPTOR);
	pb_varint(&pf->pkt, TRACK_UUID, id);
	if (parent)
		pb_varint(&pf->pkt, TRACK_PARENT, parent);
}

static void track_end(struct perfetto *pf)
{
	pb_end(&pf->pkt);
	packet_end(pf);
}

static void process_track(struct perfetto *pf, const struct trace_input *t)
{
	char name[2400], command[2048];
	const char *base = strrchr(t->path, '/');
	weft_process_command(&t->proc, command, sizeof command);
	snprintf(name, sizeof name, "%s (pid %" PRIu64 "): %s", base ? base + 1 : t->path,
		 pf->pid, command);
	track_begin(pf, uuid(pf, UUID_PROCESS, 0), 0);
	pb_begin(&pf->pkt, TRACK_PROCESS);
	pb_int(&pf->pkt, PROCESS_PID, (int64_t)pf->pid);
	put_text(pf, PROCESS_NAME, name);
	pb_end(&pf->pkt);
	track_end(pf);
}

static void thread_track(struct perfetto *pf, const struct tl_item *it)
{
	char label[300];
	if (it->thread->name)
		snprintf(label, sizeof label, "T%u %s", it->serial, it->thread->name);
	else
		snprintf(label, sizeof label, "T%u", it->serial);
	track_begin(pf, uuid(pf, UUID_THREAD, it->serial), uuid(pf, UUID_PROCESS, 0));
	pb_begin(&pf->pkt, TRACK_THREAD);
	pb_int(&pf->pkt, THREAD_PID, (int64_t)pf->pid);
	pb_int(&pf->pkt, THREAD_TID, (int64_t)it->thread->tid);
	put_text(pf, THREAD_NAME, label);
	pb_end(&pf->pkt);
	track_end(pf);
}

/* The track of a contended lock, described when first used. */
static uint64_t lock_track(struct perfetto *pf, uint64_t lock)
{
	uint32_t n = u64map_get(&pf->lock_of, lock);
	if (n)
		return uuid(pf, UUID_LOCK, n);
	n = ++pf->nlocks;
	u64map_put(&pf->lock_of, lock, n);
	char obj[160], name[200];
	weft_object_name(tl_tables(pf->tl), lock, obj, sizeof obj);
	snprintf(name, sizeof name, "lock %s", obj);
	track_begin(pf, uuid(pf, UUID_LOCK, n), uuid(pf, UUID_PROCESS, 0));
	put_text(pf, TRACK_NAME, name);
	track_end(pf);
	return uuid(pf, UUID_LOCK, n);
}

/* ---- what the slices become ---- */

static void wait_slice(struct perfetto *pf, const struct sl_event *ev)
{
	const struct tl_interval *iv = &ev->item->iv;
	uint32_t serial = ev->item->serial;
	struct pf_arg args[MAX_ARGS];
	unsigned n = 0;
	char name[200];
	sl_wait_name(pf->tl, iv, name, sizeof name);
	if (iv->kind == TL_SYSCALL || iv->kind == TL_SLEEP)
		args[n++] = (struct pf_arg){ "return", ARG_INT, iv->ret, NULL };
	if (iv->err) {
		const char *e = iv->err < 4096 ? strerrorname_np((int)iv->err) : NULL;
		args[n++] = e ? (struct pf_arg){ "error", ARG_STRING, 0, e }
			      : (struct pf_arg){ "error", ARG_INT, (int64_t)iv->err, NULL };
	}
	if (sl_on_object(iv))
		args[n++] = (struct pf_arg){ "address", ARG_POINTER, (int64_t)iv->object, NULL };
	if (iv->site.stack) {
		tl_site_text(pf->tl, &iv->site, 6, pf->site, sizeof pf->site);
		args[n++] = (struct pf_arg){ "site", ARG_STRING, 0, pf->site };
	}
	if (iv->from_status)
		args[n++] = (struct pf_arg){ "began_ns", ARG_INT, iv->begin_ns, NULL };
	if (iv->cut)
		args[n++] = (struct pf_arg){ "end_unseen", ARG_BOOL, 1, NULL };
	uint64_t track = uuid(pf, UUID_THREAD, serial);
	event(pf, serial, iv->begin_ns, TYPE_SLICE_BEGIN, track, name, args, n, 0,
	      ev->flow_id);
	event(pf, serial, iv->end_ns, TYPE_SLICE_END, track, NULL, NULL, 0, 0, 0);
}

static void hold_slice(struct perfetto *pf, const struct tl_item *it)
{
	const struct tl_hold *h = &it->hold;
	uint64_t track = lock_track(pf, h->lock);
	char name[200];
	sl_hold_name(pf->tl, it, name, sizeof name);
	struct pf_arg args[2];
	unsigned n = 0;
	args[n++] = (struct pf_arg){ "others_waited_ns", ARG_INT, h->caused_wait_ns, NULL };
	if (h->site.stack) {
		tl_site_text(pf->tl, &h->site, 6, pf->site, sizeof pf->site);
		args[n++] = (struct pf_arg){ "site", ARG_STRING, 0, pf->site };
	}
	event(pf, it->serial, h->begin_ns, TYPE_SLICE_BEGIN, track, name, args, n, 0, 0);
	event(pf, it->serial, h->end_ns, TYPE_SLICE_END, track, NULL, NULL, 0, 0, 0);
}

/* A release, where the arrow to the wait it ended starts; where the lock
 * it gave back was taken, if known, is its argument. */
static void release_instant(struct perfetto *pf, const struct sl_event *ev)
{
	const struct tl_flow *f = ev->flow;
	char name[200];
	sl_release_name(pf->tl, f, name, sizeof name);
	struct pf_arg args[1];
	unsigned n = 0;
	if (ev->release_site && ev->release_site->stack) {
		tl_site_text(pf->tl, ev->release_site, 6, pf->site, sizeof pf->site);
		args[n++] = (struct pf_arg){ "lock_taken_at", ARG_STRING, 0, pf->site };
	}
	event(pf, f->from, f->from_ns, TYPE_INSTANT, uuid(pf, UUID_THREAD, f->from), name,
	      args, n, ev->flow_id, 0);
}

static void blocked_count(struct perfetto *pf, const struct tl_item *it)
{
	uint64_t track = uuid(pf, UUID_BLOCKED, 0);
	if (!pf->blocked_track) {
		pf->blocked_track = 1;
		track_begin(pf, track, uuid(pf, UUID_PROCESS, 0));
		pb_string(&pf->pkt, TRACK_NAME, "threads blocked");
		pb_begin(&pf->pkt, TRACK_COUNTER);
		pb_varint(&pf->pkt, COUNTER_UNIT, UNIT_COUNT);
		pb_end(&pf->pkt);
		track_end(pf);
	}
	packet_begin(pf, it->ns, pf->process_seq);
	pb_begin(&pf->pkt, PACKET_TRACK_EVENT);
	pb_varint(&pf->pkt, EVENT_TYPE, TYPE_COUNTER);
	pb_varint(&pf->pkt, EVENT_TRACK_UUID, track);
	pb_int(&pf->pkt, EVENT_COUNTER_VALUE, it->blocked);
	pb_end(&pf->pkt);
	packet_end(pf);
}

static void on_slice(void *p, const struct sl_event *ev)
{
	struct perfetto *pf = p;
	const struct tl_item *it = ev->item;
	char name[200], obj[160];
	switch (ev->type) {
	case SL_GENERATION:
		forget_interned(pf);
		break;
	case SL_THREAD_BEGIN:
		thread_track(pf, it);
		break;
	case SL_THREAD_END:
		event(pf, it->serial, it->ns, TYPE_INSTANT, uuid(pf, UUID_THREAD, it->serial),
		      "thread exit", NULL, 0, 0, 0);
		break;
	case SL_WAIT:
		wait_slice(pf, ev);
		break;
	case SL_RELEASE:
		release_instant(pf, ev);
		break;
	case SL_HOLD:
		hold_slice(pf, it);
		break;
	case SL_INSTANT:
		weft_object_name(tl_tables(pf->tl), it->inst.object, obj, sizeof obj);
		snprintf(name, sizeof name, "%s %s", it->inst.what, obj);
		event(pf, it->serial, it->ns, TYPE_INSTANT, uuid(pf, UUID_THREAD, it->serial),
		      name, NULL, 0, 0, 0);
		break;
	case SL_BLOCKED:
		blocked_count(pf, it);
		break;
	}
}

struct perfetto *pf_new(FILE *out)
{
	struct perfetto *pf = calloc(1, sizeof *pf);
	if (!pf)
		abort();
	pf->out = out;
	pf->generation = 1;
	return pf;
}

enum weft_verdict pf_write_trace(struct perfetto *pf, struct timeline *tl,
				 const struct trace_input *t, unsigned index,
				 uint64_t *flows)
{
	pf->tl = tl;
	pf->index = index;
	pf->pid = tl_header(tl)->pid;
	pf->offset_ns = t->offset_ns;
	pf->process_seq = ++pf->next_seq;
	pf->nseqs = pf->nlocks = 0;
	pf->blocked_track = 0;
	u64map_free(&pf->seq_of);
	u64map_free(&pf->lock_of);
	pf->seq_of = (struct u64map){ 0 };
	pf->lock_of = (struct u64map){ 0 };
	forget_interned(pf);
	process_track(pf, t);
	return sl_run(tl, flows, on_slice, NULL, pf);
}

void pf_free(struct perfetto *pf)
{
	pb_free(&pf->pkt);
	u64map_free(&pf->seq_of);
	u64map_free(&pf->lock_of);
	free(pf->seqs);
	free(pf->table);
	free(pf->strings);
	free(pf);
}
