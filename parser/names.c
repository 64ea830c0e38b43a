/*
 * names.c - names of synchronization objects (see names.h), from the
 * variables of the trace's modules and the stacks of the records about
 * each object.
 */
#include "names.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "text.h"

/* "mutex" for MUTEX_INIT, "cond" for COND_WAIT_BEGIN, ... */
static void kind_word(uint8_t code, char *buf, size_t cap)
{
	const char *name = weft_events[code].name;
	size_t n = strcspn(name, "_");
	if (n >= cap)
		n = cap - 1;
	for (size_t i = 0; i < n; i++)
		buf[i] = (char)tolower((unsigned char)name[i]);
	buf[n] = 0;
}

void weft_object_name(const struct weft_tables *t, uint64_t addr, char *buf,
		      size_t cap)
{
	char raw[512];
	if (weft_tables_data_name(t, addr, raw, sizeof raw)) {
		weft_safe_text(buf, cap, raw, cap);
		return;
	}
	uint32_t gen, n = 0;
	uint64_t stack;
	uint8_t code;
	const uint64_t *pcs = weft_tables_object_site(t, addr, &gen, &stack, &code)
		? weft_tables_stack(t, gen, stack, &n) : NULL;
	for (uint32_t i = 0; pcs && i < n; i++) {
		const char *const *texts;
		if (weft_tables_frames(t, gen, pcs[i], &texts) <= 0)
			continue;
		char kind[16];
		kind_word(code, kind, sizeof kind);
		snprintf(raw, sizeof raw, "%s from %s", kind, texts[0]);
		weft_safe_text(buf, cap, raw, cap);
		return;
	}
	snprintf(buf, cap, "0x%" PRIx64, addr);
}

int weft_name_selects(const char *name, uint64_t addr, const char *filter)
{
	char *end;
	unsigned long long v = strtoull(filter, &end, 16);
	if (*filter && !*end && v == addr)
		return 1;
	size_t n = strlen(filter);
	return n && strncmp(name, filter, n) == 0 &&
	       (name[n] == 0 || strchr(".[+ ", name[n]));
}

int weft_object_named(const struct weft_tables *t, uint64_t addr,
		      const char *filter)
{
	char name[512];
	weft_object_name(t, addr, name, sizeof name);
	return weft_name_selects(name, addr, filter);
}
