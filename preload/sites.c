/*
 * sites.c - where an acquisition was made (WEFT_STACKS=1): the stack id of
 * its site, found in a fixed, lock-free cache shared by all threads and
 * keyed by the site's SITE_KEY innermost return addresses (the wrapper's
 * return address and the SITE_KEY - 1 above it), read by a walk of the
 * few frames that cover them with unwind.c's cached rules.  Only the
 * first acquisition made with a key unwinds the whole stack and interns
 * it (stacks.c); every later one costs that short walk, a hash and a
 * compare.  A helper that locks on behalf of several callers (a lock
 * wrapper) therefore has one site per caller; the frames beyond the key
 * are those of the first acquisition made with it (format/SPEC.md,
 * section 7.5).  Keying by the return address alone lent the first
 * caller's frames to every later caller of such a helper (sqlite3's
 * B-tree holds of its malloc mutex were shown as sqlite3_initialize's).
 * The walk's price, measured on a 2-core machine (scripts/bench, micro,
 * against the return-address key in the same rounds): an uncontended
 * lock+unlock pair with stacks costs 47 ns over untraced instead of 31
 * (CPU 52 instead of 37), 15-20 ns more per acquisition.
 *
 * A slot's tag is claimed by one CAS (free -> being keyed), its key is
 * written, then its tag is published as the key's hash, then its stack id
 * is stored once the unwind is done.  A thread (or a signal handler) that
 * finds a slot being keyed passes it over (the key may then get a second
 * slot, with the same stack id), and one that finds its key's slot with
 * no stack id yet never waits for it: it unwinds itself, and stacks.c
 * gives it the same id for the same stack.  Nothing here allocates, locks
 * or makes a system call.  Stack ids are never freed and stacks.c writes
 * every one in each generation's tables, so an id cached in one
 * generation (or inherited by a fork child, with the stack table it
 * names) is defined in every later one.  A slot left half-done by a fork
 * (its claimer was another thread of the parent) stays so: it is passed
 * over, or its site unwinds each time and is right each time.  A library
 * unloaded and another loaded at the same address would inherit the first
 * one's sites.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>

#include "unwind.h"
#include "weft.h"

#define SITE_BITS  14                /* as many as stacks.c keeps */
#define SITE_SLOTS (1u << SITE_BITS)
#define SITE_PROBE 16
#define SITE_KEY   4                 /* return addresses a site is keyed by */
#define SITE_KEYING 1                /* a tag: claimed, key being written */

struct site_slot {
	_Atomic uint64_t tag;     /* 0: free; SITE_KEYING; else the key's hash */
	_Atomic uint32_t stack;   /* 0: being found */
	uintptr_t key[SITE_KEY];  /* written once, before the tag is published */
};

static struct site_slot site_table[SITE_SLOTS];

/* The key of the site whose innermost return address is caller: it and
 * the return addresses above it, 0 past the stack's end.  0 when caller
 * is not among the frames walked. */
static int site_key(uintptr_t caller, uintptr_t key[SITE_KEY])
{
	memset(key, 0, SITE_KEY * sizeof key[0]);
	return weft_unwind_from(caller, key, SITE_KEY) > 0;
}

/* Never 0 or SITE_KEYING. */
static uint64_t key_hash(const uintptr_t key[SITE_KEY])
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < SITE_KEY; i++)
		h = (h ^ key[i]) * 0x9e3779b97f4a7c15ull;
	return h | 2;
}

/* The id a slot published for a key gives: its stack's, or a fresh
 * unwind while its claimer is still unwinding. */
static uint64_t claimed_site(struct site_slot *s)
{
	uint32_t id = atomic_load_explicit(&s->stack, memory_order_acquire);
	return id ? id : weft_stack_capture();
}

uint64_t weft_site_stack(uintptr_t caller)
{
	uintptr_t key[SITE_KEY];
	if (!caller || !site_key(caller, key))
		return weft_stack_capture();
	uint64_t tag = key_hash(key);
	uint32_t h = (uint32_t)(tag >> (64 - SITE_BITS));
	for (unsigned probe = 0; probe < SITE_PROBE; probe++) {
		struct site_slot *s = &site_table[(h + probe) & (SITE_SLOTS - 1)];
		uint64_t seen = atomic_load_explicit(&s->tag, memory_order_acquire);
		if (seen == 0 && atomic_compare_exchange_strong(&s->tag, &seen,
								 SITE_KEYING)) {
			memcpy(s->key, key, sizeof key);
			atomic_store_explicit(&s->tag, tag, memory_order_release);
			uint64_t id = weft_stack_capture();
			atomic_store_explicit(&s->stack, (uint32_t)id,
					      memory_order_release);
			return id;
		}
		if (seen == tag && memcmp(s->key, key, sizeof key) == 0)
			return claimed_site(s);
	}
	return weft_stack_capture(); /* cache crowded: unwind every time */
}
