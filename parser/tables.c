/*
 * tables.c - id tables gathered from a whole trace (see tables.h), kept in
 * uthash tables keyed by (generation, id).
 */
#include "tables.h"

#include <stdlib.h>
#include <string.h>
#include <uthash.h>

#include "event_args.h"
#include "grow.h"
#include "symbols.h"
#include "u64map.h"

struct entry {
	uint64_t key[2];       /* generation (or 0 for thread names), id */
	char *text;            /* strings, thread names */
	uint64_t value;        /* symbols: string id */
	uint32_t npcs;         /* stacks */
	uint64_t *pcs;
	uint64_t tid;          /* thread infos */
	uint32_t parent;
	uint64_t cpu[2];       /* CPU time: THREAD_CPU's at points 0 and 1 */
	uint8_t has_cpu[2];    /* (sums: cpu[0] the total, has_cpu[0] known) */
	uint8_t started;       /* its THREAD_START is in the generation */
	UT_hash_handle hh;
};


/* Object names worked out so far (names.c's), by address. */
struct name_memo {
	struct u64map index;           /* address -> texts index + 1 */
	char **texts;
	uint32_t n, cap;
	int begun;
};

struct weft_tables {
	struct entry *strings, *stacks, *symbols, *names, *infos;
	struct name_memo *memo;
	struct weft_symbols *code_names;
	struct u64map site_index;      /* object address -> sites index + 1 */
	struct weft_object_site *sites;
	uint32_t nsites, sites_cap;
	struct entry *cpus;     /* by generation and serial */
	struct entry *cpu_sums; /* by serial */
};

/* Whether the event's name ends with suffix ("_INIT", "_ACQUIRE"). */
static int named_with(uint8_t code, const char *suffix)
{
	const char *name = weft_events[code].name;
	size_t len = strlen(name), n = strlen(suffix);
	return len > n && strcmp(name + len - n, suffix) == 0;
}

/* The object a record is about (0: none). */
static uint64_t object_of(const struct weft_record *rec)
{
	const struct weft_event_desc *d = &weft_events[rec->code];
	const char *o = strchr(d->kinds, 'o');
	return o ? rec->args[o - d->kinds] : 0;
}

/* Remembers a site of the object at addr: the earliest *_INIT's, else
 * the earliest of the others (a wait on it, an acquisition of it), by
 * time and then by file order, so that a trace always gives one object
 * the same site whatever order its batches were written in. */
static void note_object_site(struct weft_tables *t, uint64_t addr, uint32_t gen,
			     uint64_t stack, uint64_t ts, int init)
{
	if (!addr || !stack)
		return;
	uint32_t i = u64map_get(&t->site_index, addr);
	if (i) {
		const struct weft_object_site *s = &t->sites[i - 1];
		if (s->init > init || (s->init == init && s->ts <= ts))
			return;
	} else {
		WEFT_GROW(t->sites, t->nsites, t->sites_cap, 64);
		i = ++t->nsites;
		u64map_put(&t->site_index, addr, i);
	}
	t->sites[i - 1] = (struct weft_object_site){ addr, gen, stack, ts, init };
}

/* The site a record about an object gives it: its own stack, or for an
 * ACQUIRE_SITE that of the acquisition just before it (`acquired`). */
static void note_record_site(struct weft_tables *t, uint32_t gen,
			     const struct weft_record *rec, uint64_t acquired)
{
	if (rec->code == WEFT_EV_ACQUIRE_SITE) {
		note_object_site(t, acquired, gen, rec->args[WEFT_ARG_ACQUIRE_SITE_STACK],
				 rec->ts, 0);
		return;
	}
	int8_t k = weft_events[rec->code].stack_arg;
	if (k >= 0)
		note_object_site(t, object_of(rec), gen, rec->args[k], rec->ts,
				 named_with(rec->code, "_INIT"));
}

static struct entry *find(struct entry *head, uint64_t gen, uint64_t id)
{
	uint64_t key[2] = { gen, id };
	struct entry *e;
	HASH_FIND(hh, head, key, sizeof key, e);
	return e;
}

static struct entry *put(struct entry **head, uint64_t gen, uint64_t id)
{
	struct entry *e = find(*head, gen, id);
	if (e)
		return e;
	e = calloc(1, sizeof *e);
	if (!e)
		abort();
	e->key[0] = gen;
	e->key[1] = id;
	HASH_ADD(hh, *head, key, sizeof e->key, e);
	return e;
}

static char *copy_text(const struct weft_record *rec)
{
	char *s = malloc(rec->nbytes + 1);
	if (!s)
		abort();
	memcpy(s, rec->bytes, rec->nbytes);
	s[rec->nbytes] = 0;
	return s;
}

/* Each thread's CPU time over the traced generations: what it used in a
 * generation is its reading at the end less the one at the start (0 when
 * it started in the generation); a generation without both is left out. */
static void sum_cpu(struct weft_tables *t)
{
	struct entry *e, *tmp;
	HASH_ITER(hh, t->cpus, e, tmp) {
		if (!e->has_cpu[1] || (!e->has_cpu[0] && !e->started))
			continue;
		uint64_t from = e->has_cpu[0] ? e->cpu[0] : 0;
		struct entry *sum = put(&t->cpu_sums, 0, e->key[1]);
		sum->cpu[0] += e->cpu[1] > from ? e->cpu[1] - from : 0;
		sum->has_cpu[0] = 1;
	}
}

struct weft_tables *weft_tables_load(struct weft_reader *r, int *status)
{
	struct weft_tables *t = calloc(1, sizeof *t);
	if (!t)
		abort();
	t->code_names = weft_symbols_new();
	t->memo = calloc(1, sizeof *t->memo);
	if (!t->memo)
		abort();
	size_t rewind = r->pos;
	struct weft_batch b;
	int rc;
	/* A pass over the whole file, before the one that maps it: one
	 * batch at a time is read into memory. */
	struct weft_batch_buffer buf = { 0 };
	while ((rc = weft_reader_next_batch_copy(r, &buf, &b)) == WEFT_READ_OK) {
		struct weft_cursor c;
		struct weft_record rec;
		uint32_t gen = b.header.generation;
		uint64_t acquired = 0; /* the lock the record before took */
		weft_cursor_init(&c, &b);
		while ((rc = weft_cursor_next(r, &c, &rec)) == WEFT_READ_OK) {
			struct entry *e;
			switch (rec.code) {
			case WEFT_EV_STRING:
				e = put(&t->strings, gen, rec.args[0]);
				free(e->text);
				e->text = copy_text(&rec);
				break;
			case WEFT_EV_SYMBOL:
				put(&t->symbols, gen, rec.args[0])->value = rec.args[1];
				break;
			case WEFT_EV_MODULE:
				weft_symbols_add_module(t->code_names, gen,
					rec.args[WEFT_ARG_MODULE_BIAS],
					rec.args[WEFT_ARG_MODULE_START],
					rec.args[WEFT_ARG_MODULE_END],
					weft_tables_string(t, gen, rec.args[WEFT_ARG_MODULE_PATH]),
					rec.bytes, rec.nbytes);
				break;
			case WEFT_EV_STACK:
				e = put(&t->stacks, gen, rec.args[0]);
				free(e->pcs);
				e->npcs = rec.npcs;
				e->pcs = malloc((rec.npcs + 1) * sizeof(uint64_t));
				if (!e->pcs)
					abort();
				memcpy(e->pcs, rec.pcs, rec.npcs * sizeof(uint64_t));
				break;
			case WEFT_EV_THREAD_NAME:
				e = put(&t->names, 0, rec.args[0]);
				free(e->text);
				e->text = copy_text(&rec);
				break;
			case WEFT_EV_THREAD_INFO:
				e = put(&t->infos, 0, rec.args[0]);
				e->parent = (uint32_t)rec.args[1];
				e->tid = rec.args[2];
				if (rec.nbytes) {
					e = put(&t->names, 0, rec.args[0]);
					free(e->text);
					e->text = copy_text(&rec);
				}
				break;
			case WEFT_EV_THREAD_CPU:
				if (rec.args[1] > 1)
					break;
				e = put(&t->cpus, gen, rec.args[0]);
				e->cpu[rec.args[1]] = rec.args[2];
				e->has_cpu[rec.args[1]] = 1;
				break;
			case WEFT_EV_THREAD_START:
				put(&t->cpus, gen, b.header.serial)->started = 1;
				break;
			default:
				if (b.header.serial)
					note_record_site(t, gen, &rec, acquired);
			}
			acquired = named_with(rec.code, "_ACQUIRE") ? object_of(&rec) : 0;
		}
		if (rc != WEFT_READ_END)
			break;
	}
	weft_batch_buffer_free(&buf);
	sum_cpu(t);
	weft_reader_rewind(r, rewind);
	*status = rc == WEFT_READ_END ? WEFT_READ_OK : rc;
	return t;
}

static void free_all(struct entry **head)
{
	struct entry *e, *tmp;
	HASH_ITER(hh, *head, e, tmp) {
		HASH_DEL(*head, e);
		free(e->text);
		free(e->pcs);
		free(e);
	}
}

void weft_tables_free(struct weft_tables *t)
{
	if (!t)
		return;
	free_all(&t->strings);
	free_all(&t->stacks);
	free_all(&t->symbols);
	free_all(&t->names);
	free_all(&t->infos);
	weft_symbols_free(t->code_names);
	u64map_free(&t->site_index);
	free(t->sites);
	for (uint32_t i = 0; i < t->memo->n; i++)
		free(t->memo->texts[i]);
	free(t->memo->texts);
	u64map_free(&t->memo->index);
	free(t->memo);
	free_all(&t->cpus);
	free_all(&t->cpu_sums);
	free(t);
}

const char *weft_tables_string(const struct weft_tables *t, uint32_t gen,
			       uint64_t id)
{
	struct entry *e = find(t->strings, gen, id);
	return e ? e->text : NULL;
}

const uint64_t *weft_tables_stack(const struct weft_tables *t, uint32_t gen,
				  uint64_t id, uint32_t *n)
{
	struct entry *e = find(t->stacks, gen, id);
	if (!e)
		return NULL;
	*n = e->npcs;
	return e->pcs;
}

int weft_tables_frames(const struct weft_tables *t, uint32_t gen, uint64_t pc,
		       const char *const **texts)
{
	struct entry *e = find(t->symbols, gen, pc);
	if (e) {
		/* A trace from before MODULE records: the name it gave. */
		struct entry *name = find(t->strings, gen, e->value);
		if (!name)
			return 0;
		*texts = (const char *const *)&name->text;
		return strstr(name->text, "libweft.so") ? -1 : 1;
	}
	return weft_symbols_code(t->code_names, gen, pc, texts);
}

const char *weft_tables_symbol(const struct weft_tables *t, uint32_t gen,
			       uint64_t pc)
{
	const char *const *texts;
	return weft_tables_frames(t, gen, pc, &texts) != 0 ? texts[0] : NULL;
}

int weft_tables_data_name(const struct weft_tables *t, uint64_t addr,
			  char *buf, size_t cap)
{
	return weft_symbols_data(t->code_names, addr, buf, cap);
}

const struct weft_object_site *weft_tables_object_sites(const struct weft_tables *t,
							uint32_t *n)
{
	*n = t->nsites;
	return t->sites;
}

const char *weft_tables_thread_name(const struct weft_tables *t,
				    uint32_t serial)
{
	struct entry *e = find(t->names, 0, serial);
	return e ? e->text : NULL;
}

int weft_tables_thread_info(const struct weft_tables *t, uint32_t serial,
			    uint64_t *tid, uint32_t *parent)
{
	struct entry *e = find(t->infos, 0, serial);
	if (!e)
		return 0;
	*tid = e->tid;
	*parent = e->parent;
	return 1;
}

const char *weft_tables_memo_get(const struct weft_tables *t, uint64_t addr)
{
	uint32_t i = addr ? u64map_get(&t->memo->index, addr) : 0;
	return i ? t->memo->texts[i - 1] : NULL;
}

int weft_tables_memo_begin(const struct weft_tables *t)
{
	int first = !t->memo->begun;
	t->memo->begun = 1;
	return first;
}

void weft_tables_memo_put(const struct weft_tables *t, uint64_t addr,
			  const char *text)
{
	struct name_memo *m = t->memo;
	if (!addr || u64map_get(&m->index, addr))
		return;
	WEFT_GROW(m->texts, m->n, m->cap, 64);
	m->texts[m->n] = strdup(text);
	if (!m->texts[m->n])
		abort();
	u64map_put(&m->index, addr, ++m->n);
}

int weft_tables_thread_cpu(const struct weft_tables *t, uint32_t serial,
			   uint64_t *ns)
{
	struct entry *e = find(t->cpu_sums, 0, serial);
	if (!e)
		return 0;
	*ns = e->cpu[0];
	return 1;
}
