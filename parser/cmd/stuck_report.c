/*
 * stuck_report.c - deadlocks and stuck threads in words and in JSON (see
 * stuck_report.h).
 */
#include "stuck_report.h"

#include <inttypes.h>
#include <string.h>

#include "common.h"

#define SITE_FRAMES 6

/* ", WORD at FUNCTION (FILE:LINE)", or "" without a stack. */
static void at_symbol(const struct timeline *tl, const struct tl_site *site,
		      const char *word, char *buf, size_t cap)
{
	char sym[256];
	const char *s = tl_site_symbol(tl, site, sym, sizeof sym);
	if (s)
		snprintf(buf, cap, ", %s at %s", word, s);
	else
		buf[0] = 0;
}

/* "T3 waits for pool.lock (held by T5 since 2.31 s, taken at f (a.c:8))" */
static void link_text(const struct timeline *tl, const struct stuck_link *l,
		      char *buf, size_t cap)
{
	char who[96], holder[96], since[16], at[320];
	tl_thread_label(tl, l->wait->serial, who, sizeof who);
	tl_thread_label(tl, l->holder, holder, sizeof holder);
	if (!l->hold) {
		snprintf(buf, cap, "%s waits to join %s", who, holder);
		return;
	}
	tl_format_ns(l->hold->since_ns, since, sizeof since);
	at_symbol(tl, &l->hold->site, "taken", at, sizeof at);
	const char *mode = l->wait->kind == TL_RWLOCK
		? (l->wait->rw_mode == 1 ? " to read" : " to write") : "";
	const char *how = l->hold->kind == TL_LOCK_RWLOCK
		? (l->hold->shared ? " for reading" : " for writing") : "";
	if (l->holder == l->wait->serial)
		snprintf(buf, cap, "%s waits%s for %s, which it holds itself%s (since %s%s)",
			 who, mode, l->wait->what, how, since, at);
	else
		snprintf(buf, cap, "%s waits%s for %s (held%s by %s since %s%s)", who,
			 mode, l->wait->what, how, holder, since, at);
}

static void site_line(FILE *out, const struct timeline *tl, const char *prefix,
		      uint32_t serial, const char *what, const struct tl_site *site)
{
	char who[96], text[1024];
	tl_thread_label(tl, serial, who, sizeof who);
	tl_site_text(tl, site, SITE_FRAMES, text, sizeof text);
	fprintf(out, "%s    %s %s: %s\n", prefix, who, what, text);
}

/* "    blocked behind it: T1 (joins T2), T5 (waits for pool.lock)" */
static void behind_line(FILE *out, const struct timeline *tl, const char *prefix,
			const struct stuck_cycle *c)
{
	if (!c->nbehind)
		return;
	fprintf(out, "%s    blocked behind it:", prefix);
	char who[96];
	for (uint32_t i = 0; i < c->nbehind; i++) {
		const struct stuck_wait *w = c->behind[i];
		tl_thread_label(tl, w->serial, who, sizeof who);
		fprintf(out, "%s %s (%s %s)", i ? "," : "", who,
			w->kind == TL_JOIN ? "joins" : "waits for", w->what);
	}
	fputc('\n', out);
}

void stuck_report_text(FILE *out, const struct timeline *tl, const struct stuck *s,
		       const char *prefix)
{
	char line[1200], what[WEFT_NAME_MAX + 32];
	for (uint32_t i = 0; i < s->ncycles; i++) {
		const struct stuck_cycle *c = &s->cycles[i];
		fprintf(out, "%sDeadlock: ", prefix);
		for (uint32_t k = 0; k < c->n; k++) {
			link_text(tl, &c->links[k], line, sizeof line);
			fprintf(out, "%s%s", k ? " while " : "", line);
		}
		fputc('\n', out);
		for (uint32_t k = 0; k < c->n; k++) {
			const struct stuck_link *l = &c->links[k];
			site_line(out, tl, prefix, l->wait->serial, "blocked at",
				  &l->wait->site);
			if (l->hold) {
				snprintf(what, sizeof what, "took %s at", l->wait->what);
				site_line(out, tl, prefix, l->holder, what, &l->hold->site);
			}
		}
		behind_line(out, tl, prefix, c);
	}
	char who[96], since[16], waited[16];
	for (uint32_t i = 0; i < s->nstuck; i++) {
		const struct stuck_wait *w = s->stuck[i];
		tl_thread_label(tl, w->serial, who, sizeof who);
		tl_format_ns(w->since_ns, since, sizeof since);
		tl_format_ns(s->end_ns - w->since_ns, waited, sizeof waited);
		int lock = w->kind == TL_MUTEX || w->kind == TL_RWLOCK;
		int call = w->kind == TL_SYSCALL;
		fprintf(out, "%sStuck: %s waits %s %s%s%s since %s (%s, until the trace "
			"ends)%s\n", prefix, who, call ? "in" : "on",
			call ? "" : tl_kind_names[w->kind], call ? "" : " ", w->what, since,
			waited, lock ? ", held by no thread the trace shows" : "");
		site_line(out, tl, prefix, w->serial, "blocked at", &w->site);
	}
}

static void json_site(FILE *out, const struct timeline *tl, const char *key,
		      const struct tl_site *site)
{
	char sym[256], text[1024];
	fprintf(out, ",\"%s\":{\"symbol\":", key);
	weft_json_string_or_null(out, tl_site_symbol(tl, site, sym, sizeof sym));
	tl_site_text(tl, site, SITE_FRAMES, text, sizeof text);
	fprintf(out, ",\"stack\":");
	weft_json_string(out, text);
	fprintf(out, ",\"offset\":%zu}", site->offset);
}

static void json_wait(FILE *out, const struct timeline *tl, const struct stuck_wait *w)
{
	fprintf(out, "\"thread\":%u,\"kind\":\"%s\",\"object\":\"0x%" PRIx64 "\","
		"\"what\":", w->serial, tl_kind_names[w->kind], w->object);
	weft_json_string(out, w->what);
	if (w->kind == TL_RWLOCK)
		fprintf(out, ",\"mode\":\"%s\"", w->rw_mode == 1 ? "read" : "write");
	fprintf(out, ",\"since_ns\":%" PRId64, w->since_ns);
	json_site(out, tl, "blocked_at", &w->site);
}

void stuck_report_json(FILE *out, const struct timeline *tl, const struct stuck *s)
{
	fprintf(out, ",\"deadlocks\":[");
	for (uint32_t i = 0; i < s->ncycles; i++) {
		const struct stuck_cycle *c = &s->cycles[i];
		fprintf(out, "%s{\"threads\":[", i ? "," : "");
		for (uint32_t k = 0; k < c->n; k++) {
			const struct stuck_link *l = &c->links[k];
			fprintf(out, "%s{", k ? "," : "");
			json_wait(out, tl, l->wait);
			fprintf(out, ",\"holder\":%u", l->holder);
			if (l->hold) {
				fprintf(out, ",\"held_since_ns\":%" PRId64 ",\"shared\":%s",
					l->hold->since_ns, l->hold->shared ? "true" : "false");
				json_site(out, tl, "taken_at", &l->hold->site);
			}
			fputc('}', out);
		}
		fprintf(out, "],\"behind\":[");
		for (uint32_t k = 0; k < c->nbehind; k++) {
			fprintf(out, "%s{", k ? "," : "");
			json_wait(out, tl, c->behind[k]);
			fputc('}', out);
		}
		fprintf(out, "]}");
	}
	fprintf(out, "],\"stuck\":[");
	for (uint32_t i = 0; i < s->nstuck; i++) {
		fprintf(out, "%s{", i ? "," : "");
		json_wait(out, tl, s->stuck[i]);
		fputc('}', out);
	}
	fputc(']', out);
}
