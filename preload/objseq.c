/*
 * objseq.c - per-object sequence numbers, counted per generation.
 *
 * Every synchronization object gets a counter, found by its address in a
 * fixed, lock-free open-addressing table (claimed with one CAS, never
 * freed).  Events on the object carry the counter's next value, which is
 * how the reader orders events across threads without trusting clocks.
 *
 * A counter is one 64-bit word: the generation of the last number it gave
 * (high half) and that number (low half).  Numbers restart at 1 in each
 * generation, and a number is given only to an event of the generation the
 * counter is in or a later one.  An event whose section read generation G
 * finds the counter already in G+1 (another thread numbered an event of
 * the object after the boundary) gets WEFT_SEQ_LATE instead: it must be
 * written into the later generation (see weft_seq_take() in emit.h).  So
 * in the order numbers are given, an object's events of G all come before
 * its events of G+1, and its events of one generation are numbered 1..n.
 * (format/SPEC.md, section 7.2, has the whole argument.)
 *
 * The table is mapped once and touched lazily; when it is full, objects
 * that find no slot get sequence 0 ("unsequenced"), as do events past 2^32
 * - 1 numbers in one generation.
 */
#include <sys/mman.h>

#include "weft.h"

#define OBJSEQ_BITS  20
#define OBJSEQ_SLOTS (1u << OBJSEQ_BITS)
#define OBJSEQ_PROBE 64

struct objseq_slot {
	_Atomic uint64_t key;
	_Atomic uint64_t counter; /* generation << 32 | last number */
};

static struct objseq_slot *objseq_table;

static void *map_table(void *at, int flags)
{
	return mmap(at, OBJSEQ_SLOTS * sizeof(struct objseq_slot),
		    PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | flags, -1, 0);
}

void weft_objseq_init(void)
{
	void *p = map_table(NULL, 0);
	if (p != MAP_FAILED)
		objseq_table = p;
}

/* In a fork child, whose generations start again from 1: counters tagged
 * with the parent's generations would make every event late.  (The child
 * is one thread here.) */
void weft_objseq_reset_after_fork(void)
{
	if (objseq_table && map_table(objseq_table, MAP_FIXED) == MAP_FAILED)
		objseq_table = NULL;
}

static struct objseq_slot *slot_of(uint64_t key)
{
	struct objseq_slot *table = objseq_table;
	if (unlikely(!table || !key))
		return NULL;
	uint32_t i = (uint32_t)((key >> 3) * 0x9e3779b97f4a7c15ull >>
				(64 - OBJSEQ_BITS));
	for (unsigned probe = 0; probe < OBJSEQ_PROBE; probe++) {
		struct objseq_slot *s = &table[(i + probe) & (OBJSEQ_SLOTS - 1)];
		uint64_t k = atomic_load_explicit(&s->key, memory_order_acquire);
		if (k == 0) {
			uint64_t expected = 0;
			if (atomic_compare_exchange_strong(&s->key, &expected, key))
				k = key;
			else
				k = expected;
		}
		if (k == key)
			return s;
	}
	return NULL;
}

uint64_t weft_objseq_next(const void *object, uint32_t gen)
{
	struct objseq_slot *s = slot_of((uint64_t)(uintptr_t)object);
	if (unlikely(!s))
		return 0;
	uint64_t old = atomic_load_explicit(&s->counter, memory_order_acquire);
	uint64_t next;
	do {
		uint32_t counted_in = (uint32_t)(old >> 32);
		uint32_t last = (uint32_t)old;
		if (unlikely(counted_in > gen))
			return WEFT_SEQ_LATE;
		if (counted_in < gen)
			next = (uint64_t)gen << 32 | 1;
		else if (unlikely(last == UINT32_MAX))
			return 0;
		else
			next = old + 1;
		/* Acquire and release: a thread that finds the counter in a
		 * later generation then reads that generation (or a later
		 * one) from weft_generation. */
	} while (!atomic_compare_exchange_weak_explicit(&s->counter, &old, next,
							memory_order_acq_rel,
							memory_order_acquire));
	return (uint32_t)next;
}
