/*
 * names.c - names of synchronization objects (see names.h), from the
 * variables of the trace's modules and the stacks of the records about
 * each object.  Every object named by its site is named at once, the
 * first time any name is asked for, so that two objects never share a
 * name: objects whose sites are in one function (a lock wrapper's init)
 * are told apart by the next frame outside the frames all of them share,
 * then by #1, #2... in the order their sites were seen.
 */
#include "names.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

#define SITE_FRAMES 64 /* frames of a site compared */
#define NUMBER_ROOM 12 /* " #N" */

_Static_assert(WEFT_NAME_MAX <= 512, "a name is worked out in 512 bytes");

/* An object named by its site, while names are worked out. */
struct sited {
	uint64_t addr, ts;
	const char *frames[SITE_FRAMES]; /* texts, innermost first */
	uint32_t nframes;
	char name[512];
};

/* The texts of the frames of an object's site (weft's own left out). */
static uint32_t site_frames(const struct weft_tables *t,
			    const struct weft_object_site *s,
			    const char *frames[SITE_FRAMES])
{
	uint32_t n = 0, depth = 0;
	const uint64_t *pcs = weft_tables_stack(t, s->gen, s->stack, &depth);
	for (uint32_t i = 0; pcs && i < depth && n < SITE_FRAMES; i++) {
		const char *const *texts;
		int k = weft_tables_frames(t, s->gen, pcs[i], &texts);
		for (int j = 0; j < k && n < SITE_FRAMES; j++)
			frames[n++] = texts[j];
	}
	return n;
}

/* Earlier site first (then lower address, for a total order). */
static int by_time(const struct sited *x, const struct sited *y)
{
	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->addr > y->addr) - (x->addr < y->addr);
}

static int by_first_frame(const void *a, const void *b)
{
	int c = strcmp(((const struct sited *)a)->frames[0],
		       ((const struct sited *)b)->frames[0]);
	return c ? c : by_time(a, b);
}

static int by_name(const void *a, const void *b)
{
	int c = strcmp(((const struct sited *)a)->name, ((const struct sited *)b)->name);
	return c ? c : by_time(a, b);
}

/* How many innermost frames a and b share. */
static uint32_t shared_frames(const struct sited *a, const struct sited *b)
{
	uint32_t n = 0;
	while (n < a->nframes && n < b->nframes && !strcmp(a->frames[n], b->frames[n]))
		n++;
	return n;
}

/* Names objects [0, n), whose sites share their innermost frame: each by
 * it and the next frame of its own past the frames all of them share. */
static void extend_names(struct sited *o, size_t n)
{
	uint32_t shared = o[0].nframes;
	for (size_t i = 1; i < n; i++) {
		uint32_t s = shared_frames(&o[0], &o[i]);
		shared = s < shared ? s : shared;
	}
	for (size_t i = 0; i < n; i++) {
		uint32_t next = shared > 1 ? shared : 1;
		if (next < o[i].nframes)
			snprintf(o[i].name, sizeof o[i].name, "from %s < %s",
				 o[i].frames[0], o[i].frames[next]);
	}
}

/* Numbers objects [0, n) of one name (in the order of their sites). */
static void number_names(struct sited *o, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t len = strlen(o[i].name);
		snprintf(o[i].name + len, sizeof o[i].name - len, " #%zu", i + 1);
	}
}

/* Calls fn on each run of two or more adjacent objects that are the same. */
static void each_run(struct sited *o, size_t n,
		     int (*same)(const struct sited *, const struct sited *),
		     void (*fn)(struct sited *, size_t))
{
	for (size_t i = 0, j; i < n; i = j) {
		for (j = i + 1; j < n && same(&o[i], &o[j]); j++)
			;
		if (j - i > 1)
			fn(&o[i], j - i);
	}
}

static int same_first_frame(const struct sited *a, const struct sited *b)
{
	return !strcmp(a->frames[0], b->frames[0]);
}

static int same_name(const struct sited *a, const struct sited *b)
{
	return !strcmp(a->name, b->name);
}

/* Names every object that has a variable or a site. */
static void name_all(const struct weft_tables *t)
{
	uint32_t nsites;
	const struct weft_object_site *sites = weft_tables_object_sites(t, &nsites);
	struct sited *o = calloc(nsites + 1, sizeof *o);
	if (!o)
		abort();
	size_t n = 0;
	char raw[512], name[512];
	for (uint32_t i = 0; i < nsites; i++) {
		if (weft_tables_data_name(t, sites[i].addr, raw, sizeof raw)) {
			weft_safe_text(name, sizeof name, raw, sizeof name);
			weft_tables_memo_put(t, sites[i].addr, name);
			continue;
		}
		o[n].nframes = site_frames(t, &sites[i], o[n].frames);
		if (!o[n].nframes)
			continue;
		o[n].addr = sites[i].addr;
		o[n].ts = sites[i].ts;
		snprintf(o[n].name, sizeof o[n].name, "from %s", o[n].frames[0]);
		n++;
	}
	qsort(o, n, sizeof *o, by_first_frame);
	each_run(o, n, same_first_frame, extend_names);
	/* Shown as made safe, and numbered within what is shown. */
	for (size_t i = 0; i < n; i++) {
		weft_safe_text(name, WEFT_NAME_MAX - NUMBER_ROOM, o[i].name, sizeof name);
		memcpy(o[i].name, name, strlen(name) + 1);
	}
	qsort(o, n, sizeof *o, by_name);
	each_run(o, n, same_name, number_names);
	for (size_t i = 0; i < n; i++)
		weft_tables_memo_put(t, o[i].addr, o[i].name);
	free(o);
}

void weft_object_name(const struct weft_tables *t, uint64_t addr, char *buf,
		      size_t cap)
{
	if (weft_tables_memo_begin(t))
		name_all(t);
	const char *known = weft_tables_memo_get(t, addr);
	char raw[512], name[512];
	if (!known) {
		if (weft_tables_data_name(t, addr, raw, sizeof raw))
			weft_safe_text(name, sizeof name, raw, sizeof name);
		else
			snprintf(name, sizeof name, "0x%" PRIx64, addr);
		weft_tables_memo_put(t, addr, name);
		known = name;
	}
	snprintf(buf, cap, "%s", known);
}

int weft_name_selects(const char *name, uint64_t addr, const char *filter)
{
	char *end;
	unsigned long long v = strtoull(filter, &end, 16);
	if (*filter && !*end && v == addr)
		return 1;
	size_t n = strlen(filter);
	/* "from queue_init (q.c:31)" is also selected by "queue_init". */
	const char *site = strncmp(name, "from ", 5) == 0 ? name + 5 : NULL;
	return n && ((strncmp(name, filter, n) == 0 &&
		      (name[n] == 0 || strchr(".[+ ", name[n]))) ||
		     (site && strncmp(site, filter, n) == 0 &&
		      (site[n] == 0 || strchr(".[+ (", site[n]))));
}

int weft_object_named(const struct weft_tables *t, uint64_t addr,
		      const char *filter)
{
	char name[512];
	weft_object_name(t, addr, name, sizeof name);
	return weft_name_selects(name, addr, filter);
}
