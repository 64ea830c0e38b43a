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
 * What a number costs.  An object held exclusively (a mutex, a spin lock,
 * a write-held rwlock) is numbered only by its holder: after the real
 * call acquired it, and before the real call releases it.  The lock
 * itself orders those numbers, so its holder takes them with a plain load
 * and store, not a locked read-modify-write (which was most of an
 * uncontended lock's cost).  The slot remembers which thread took the
 * object exclusively (holder); a release takes the plain path only when
 * the releasing thread is that holder, and clears it.  Everything else
 * (semaphores, condvars, barriers, read-held rwlocks, lifetime events,
 * and a release by a thread that is not the recorded holder: an unlock
 * by a non-owner) counts with a CAS.  A plain number can collide with
 * another only when the program numbers the object concurrently from a
 * second thread while it is held (two threads unlocking one mutex at
 * once, or a signal handler relocking a recursive mutex in the middle of
 * its thread's unlock), which POSIX leaves undefined.
 *
 * Each thread keeps its last few objects' slots (seq_cache in its
 * record), so a lock it takes again costs no hash probe; a cached slot is
 * used only while its key still names the object (a signal handler may
 * have rewritten the entry half-way, and a fork child starts from an
 * empty table).
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
	_Atomic uint32_t holder;  /* serial of the thread holding it
				     exclusively, 0 for none known */
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
 * is one thread here; its cached slots fail the key check.) */
void weft_objseq_reset_after_fork(void)
{
	if (objseq_table && map_table(objseq_table, MAP_FIXED) == MAP_FAILED)
		objseq_table = NULL;
}

/* The slot an object's probe starts at. */
static uint32_t home(uint64_t key)
{
	return (uint32_t)((key >> 3) * 0x9e3779b97f4a7c15ull >> (64 - OBJSEQ_BITS));
}

#ifdef WEFT_TEST_HOOKS
/* The test build says where an address's probe starts, so a test can make
 * two objects compete for one slot. */
WEFT_VISIBLE unsigned weft_test_objseq_home(const void *object)
{
	return home((uint64_t)(uintptr_t)object);
}
#endif

static struct objseq_slot *probe(uint64_t key)
{
	struct objseq_slot *table = objseq_table;
	if (unlikely(!table || !key))
		return NULL;
	uint32_t i = home(key);
	for (unsigned n = 0; n < OBJSEQ_PROBE; n++) {
		struct objseq_slot *s = &table[(i + n) & (OBJSEQ_SLOTS - 1)];
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

/* The object's slot, through the thread's cache. */
static struct objseq_slot *slot_of(struct weft_thread *t, uint64_t key)
{
	struct weft_seq_cache *c = &t->seq_cache[(key >> 4) % WEFT_SEQ_CACHE];
	struct objseq_slot *s = c->slot;
	if (likely(c->key == key && s &&
		   atomic_load_explicit(&s->key, memory_order_relaxed) == key))
		return s;
	s = probe(key);
	c->key = key;
	c->slot = s;
	return s;
}

/* The number after old for an event of generation gen, or WEFT_SEQ_LATE,
 * or 0 when the generation has used every number. */
static uint64_t successor(uint64_t old, uint32_t gen)
{
	uint32_t counted_in = (uint32_t)(old >> 32);
	if (unlikely(counted_in > gen))
		return WEFT_SEQ_LATE;
	if (counted_in < gen)
		return (uint64_t)gen << 32 | 1;
	if (unlikely((uint32_t)old == UINT32_MAX))
		return 0;
	return old + 1;
}

/* Counting by whoever may race: a CAS.  Acquire and release: a thread
 * that finds the counter in a later generation then reads that generation
 * (or a later one) from weft_generation. */
static uint64_t next_shared(struct objseq_slot *s, uint32_t gen)
{
	uint64_t old = atomic_load_explicit(&s->counter, memory_order_acquire);
	uint64_t next;
	do {
		next = successor(old, gen);
		if (unlikely(next == WEFT_SEQ_LATE || next == 0))
			return next;
	} while (!atomic_compare_exchange_weak_explicit(&s->counter, &old, next,
							memory_order_acq_rel,
							memory_order_acquire));
	return (uint32_t)next;
}

/* Counting by the holder, whom the lock protects from every other
 * counter: a load and a store (the same acquire and release). */
static uint64_t next_held(struct objseq_slot *s, uint32_t gen)
{
	uint64_t old = atomic_load_explicit(&s->counter, memory_order_acquire);
	uint64_t next = successor(old, gen);
	if (unlikely(next == WEFT_SEQ_LATE || next == 0))
		return next;
	atomic_store_explicit(&s->counter, next, memory_order_release);
	return (uint32_t)next;
}

uint64_t weft_objseq_next(struct weft_thread *t, const void *object,
			  uint32_t gen, enum weft_hold hold)
{
	struct objseq_slot *s = slot_of(t, (uint64_t)(uintptr_t)object);
	if (unlikely(!s))
		return 0;
	switch (hold) {
	case WEFT_HOLD_TAKEN:
		atomic_store_explicit(&s->holder, t->serial, memory_order_relaxed);
		return next_held(s, gen);
	case WEFT_HOLD_RELEASED:
		if (atomic_load_explicit(&s->holder, memory_order_relaxed) !=
		    t->serial)
			return next_shared(s, gen);
		uint64_t seq = next_held(s, gen);
		if (likely(seq != WEFT_SEQ_LATE))
			atomic_store_explicit(&s->holder, 0, memory_order_relaxed);
		return seq;
	case WEFT_HOLD_NONE:
		break;
	}
	return next_shared(s, gen);
}
