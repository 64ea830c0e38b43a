/*
 * objseq.c - per-object sequence numbers.
 *
 * Every synchronization object gets a counter, found by its address in a
 * fixed, lock-free open-addressing table (claimed with one CAS, never
 * freed).  Events on the object carry the counter's new value, which is how
 * the reader orders events across threads without trusting clocks.  The
 * table is mapped once and touched lazily; when it is full, objects that
 * find no slot get sequence 0 ("unsequenced").
 */
#include <sys/mman.h>

#include "weft.h"

#define OBJSEQ_BITS  20
#define OBJSEQ_SLOTS (1u << OBJSEQ_BITS)
#define OBJSEQ_PROBE 64

struct objseq_slot {
	_Atomic uint64_t key;
	_Atomic uint64_t seq;
};

static struct objseq_slot *objseq_table;

void weft_objseq_init(void)
{
	void *p = mmap(NULL, OBJSEQ_SLOTS * sizeof(struct objseq_slot),
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p != MAP_FAILED)
		objseq_table = p;
}

uint64_t weft_objseq_next(const void *object)
{
	struct objseq_slot *table = objseq_table;
	uint64_t key = (uint64_t)(uintptr_t)object;
	if (unlikely(!table || !key))
		return 0;
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
			return atomic_fetch_add(&s->seq, 1) + 1;
	}
	return 0;
}
