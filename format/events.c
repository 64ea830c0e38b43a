/*
 * events.c - the event descriptor table, expanded from events.def, what
 * each event does to its thread's state (effects.def), and the names of
 * syscall ids and thread states.
 */
#include "wire.h"

#include "event_args.h"

const struct weft_event_desc weft_events[256] = {
#define WEFT_EVENT(name_, code, timed_, kinds_, names_)                \
	[code] = { .name = #name_, .kinds = kinds_, .names = names_,    \
		   .timed = timed_, .nargs = sizeof(kinds_) - 1,         \
		   .seq_arg = WEFT_SEQ_ARG_##name_,                      \
		   .seq_object_arg = WEFT_SEQ_OBJECT_ARG_##name_,        \
		   .stack_arg = WEFT_STACK_ARG_##name_,                  \
		   .flags_arg = WEFT_FLAGS_ARG_##name_,                  \
		   .result_arg = WEFT_RESULT_ARG_##name_ },
#include "events.def"
#undef WEFT_EVENT
};

/* (A begin names no begin event.) */
#define WEFT_EV_NONE 0
const struct weft_event_effect weft_effects[256] = {
#define WEFT_EFFECT(event, effect_, state_, arg_, begin_)                \
	[WEFT_EV_##event] = { .effect = WEFT_EFFECT_##effect_,           \
			      .state = WEFT_STATE_##state_,              \
			      .arg = WEFT_ARG_##event##_##arg_,          \
			      .begin = WEFT_EV_##begin_ },
#include "effects.def"
#undef WEFT_EFFECT
};
#undef WEFT_EV_NONE

/* A kind string longer than WEFT_MAX_ARGS would overflow decoders. */
#define WEFT_EVENT(name, code, timed, kinds, names) \
	_Static_assert(sizeof(kinds) - 1 <= WEFT_MAX_ARGS, #name " has too many arguments");
#include "events.def"
#undef WEFT_EVENT

/* A compact pattern has one character per argument of its event. */
#define WEFT_COMPACT(form, EVENT, pattern)                                   \
	_Static_assert(sizeof(pattern) - 1 == WEFT_NARGS_##EVENT,            \
		       "compact form " #form " of " #EVENT ": pattern length");
#include "compact.def"
#undef WEFT_COMPACT

const char *weft_syscall_name(uint64_t id)
{
	switch (id) {
#define WEFT_SYSCALL(name, id_, arg, class) case id_: return #name;
#include "syscalls.def"
#undef WEFT_SYSCALL
	}
	return NULL;
}

enum weft_syscall_arg weft_syscall_arg(uint64_t id)
{
	switch (id) {
#define WEFT_SYSCALL(name, id_, arg, class) case id_: return WEFT_SYSARG_##arg;
#include "syscalls.def"
#undef WEFT_SYSCALL
	}
	return WEFT_SYSARG_NONE;
}

enum weft_syscall_class weft_syscall_class(uint64_t id)
{
	switch (id) {
#define WEFT_SYSCALL(name, id_, arg, class) case id_: return WEFT_SYSCLASS_##class;
#include "syscalls.def"
#undef WEFT_SYSCALL
	}
	return WEFT_SYSCLASS_UNKNOWN;
}

const char *weft_state_name(uint64_t id)
{
	switch (id) {
#define WEFT_STATE(name, id_) case id_: return #name;
#include "states.def"
#undef WEFT_STATE
	}
	return NULL;
}
