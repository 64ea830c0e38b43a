/*
 * sites.c - where an acquisition was made (WEFT_STACKS=1): the stack id of
 * its call site, found by the wrapper's return address in a fixed,
 * lock-free cache shared by all threads, so that only the first
 * acquisition made from a call site unwinds (stacks.c) and every later
 * one costs a hash and a load or two.  The site of an acquisition is
 * therefore the stack seen the first time its call site was used: a
 * helper that locks on behalf of several callers has one site, the
 * stack of whichever caller used it first (format/SPEC.md, section 7.5).
 *
 * A slot is claimed by one CAS on its return address and gets its stack
 * id once the unwind is done; a thread (or a signal handler) that finds
 * a slot claimed but not yet filled never waits for it: it unwinds
 * itself, and stacks.c gives it the same id for the same stack.  Nothing
 * here allocates, locks or makes a system call.  Stack ids are never
 * freed and stacks.c writes every one in each generation's tables, so an
 * id cached in one generation (or inherited by a fork child, with the
 * stack table it names) is defined in every later one.  A slot left
 * half-filled by a fork (its claimer was another thread of the parent)
 * stays so: its site unwinds each time, and is right each time.  A
 * library unloaded and another loaded at the same address would inherit
 * the first one's sites.
 */
#include <stdatomic.h>
#include <stdint.h>

#include "weft.h"

#define SITE_BITS  12
#define SITE_SLOTS (1u << SITE_BITS)
#define SITE_PROBE 16

struct site_slot {
	_Atomic uintptr_t caller; /* 0: free */
	_Atomic uint32_t stack;   /* 0: being found */
};

static struct site_slot site_table[SITE_SLOTS];

/* The id a slot claimed for caller gives: its stack's, or a fresh unwind
 * while its claimer is still unwinding. */
static uint64_t claimed_site(struct site_slot *s)
{
	uint32_t id = atomic_load_explicit(&s->stack, memory_order_acquire);
	return id ? id : weft_stack_capture();
}

uint64_t weft_site_stack(uintptr_t caller)
{
	if (!caller)
		return weft_stack_capture();
	uint32_t h = (uint32_t)((caller * 0x9e3779b97f4a7c15ull) >> (64 - SITE_BITS));
	for (unsigned probe = 0; probe < SITE_PROBE; probe++) {
		struct site_slot *s = &site_table[(h + probe) & (SITE_SLOTS - 1)];
		uintptr_t seen = atomic_load_explicit(&s->caller, memory_order_acquire);
		if (seen == caller)
			return claimed_site(s);
		if (seen != 0)
			continue;
		if (atomic_compare_exchange_strong(&s->caller, &seen, caller)) {
			uint64_t id = weft_stack_capture();
			atomic_store_explicit(&s->stack, (uint32_t)id,
					      memory_order_release);
			return id;
		}
		if (seen == caller)
			return claimed_site(s);
	}
	return weft_stack_capture(); /* cache crowded: unwind every time */
}
