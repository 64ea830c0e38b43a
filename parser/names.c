/*
 * names.c - names of synchronization objects (see names.h), from the
 * variables of the trace's modules and the stacks of the records about
 * each object.
 */
#include "names.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

static void work_out_name(const struct weft_tables *t, uint64_t addr, char *buf,
			  size_t cap)
{
	char raw[512];
	if (weft_tables_data_name(t, addr, raw, sizeof raw)) {
		weft_safe_text(buf, cap, raw, cap);
		return;
	}
	uint32_t gen, n = 0;
	uint64_t stack;
	const uint64_t *pcs = weft_tables_object_site(t, addr, &gen, &stack)
		? weft_tables_stack(t, gen, stack, &n) : NULL;
	for (uint32_t i = 0; pcs && i < n; i++) {
		const char *const *texts;
		if (weft_tables_frames(t, gen, pcs[i], &texts) <= 0)
			continue;
		snprintf(raw, sizeof raw, "from %s", texts[0]);
		weft_safe_text(buf, cap, raw, cap);
		return;
	}
	snprintf(buf, cap, "0x%" PRIx64, addr);
}

void weft_object_name(const struct weft_tables *t, uint64_t addr, char *buf,
		      size_t cap)
{
	const char *known = weft_tables_memo_get(t, addr);
	if (known) {
		snprintf(buf, cap, "%s", known);
		return;
	}
	char name[512];
	work_out_name(t, addr, name, sizeof name);
	weft_tables_memo_put(t, addr, name);
	snprintf(buf, cap, "%s", name);
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
