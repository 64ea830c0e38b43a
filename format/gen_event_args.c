/*
 * gen_event_args.c - writes event_args.h, at build time, from the
 * "arg names" and "kinds" columns of events.def: for every event, the
 * index of each of its arguments by name (WEFT_ARG_<EVENT>_<NAME>), and of
 * the arguments generic code looks up by role (its sequence number, the
 * object that number sequences, its stack, its flags, its result).  So code says which
 * argument it reads, and no one works the places out again at run time.
 */
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name, *kinds, *names;
} events[] = {
#define WEFT_EVENT(name, code, timed, kinds, names) { #name, kinds, names },
#include "events.def"
#undef WEFT_EVENT
};

/* The index of the last argument of kind k, or -1. */
static int last_of(const char *kinds, char k)
{
	const char *p = strrchr(kinds, k);
	return p ? (int)(p - kinds) : -1;
}

/* The object a sequence number at seq sequences: the nearest 'o' before
 * it, or -1. */
static int sequenced_object(const char *kinds, int seq)
{
	int o = seq - 1;
	while (o >= 0 && kinds[o] != 'o')
		o--;
	return o;
}

/* Prints one WEFT_ARG_ constant per name; -1 when the names do not match
 * the kinds one for one. */
static int print_names(const char *event, const char *kinds, const char *names)
{
	int i = 0;
	for (const char *p = names; *p; i++) {
		size_t len = strcspn(p, ",");
		printf("#define WEFT_ARG_%s_", event);
		for (size_t j = 0; j < len; j++)
			putchar(p[j] >= 'a' && p[j] <= 'z' ? p[j] - 'a' + 'A' : p[j]);
		printf(" %d\n", i);
		p += len + (p[len] == ',');
	}
	if (i != (int)strlen(kinds)) {
		fprintf(stderr, "events.def: %s has %d argument names for %zu kinds\n",
			event, i, strlen(kinds));
		return -1;
	}
	return 0;
}

int main(void)
{
	printf("/* event_args.h - generated from events.def by gen_event_args.c:"
	       " do not edit. */\n#ifndef WEFT_EVENT_ARGS_H\n#define WEFT_EVENT_ARGS_H\n");
	for (size_t e = 0; e < sizeof events / sizeof events[0]; e++) {
		const char *ev = events[e].name, *k = events[e].kinds;
		printf("\n/* %s */\n", ev);
		if (print_names(ev, k, events[e].names) < 0)
			return 1;
		int seq = last_of(k, 's');
		int object = seq >= 0 ? sequenced_object(k, seq) : -1;
		if (object < 0)
			seq = -1;
		printf("#define WEFT_SEQ_ARG_%s %d\n", ev, seq);
		printf("#define WEFT_SEQ_OBJECT_ARG_%s %d\n", ev, object);
		printf("#define WEFT_STACK_ARG_%s %d\n", ev, last_of(k, 'k'));
		printf("#define WEFT_FLAGS_ARG_%s %d\n", ev, last_of(k, 'x'));
		printf("#define WEFT_RESULT_ARG_%s %d\n", ev, last_of(k, 'e'));
	}
	printf("\n#endif\n");
	return ferror(stdout) ? 1 : 0;
}
