/*
 * stacks.c - call stacks on blocking events (WEFT_STACKS=1).
 *
 * A stack is read by unwind.c from the compiler's call frame information,
 * each code address's unwind rule learned once and then found in a
 * lock-free cache shared by all threads; frames inside weft itself are
 * dropped, and the program counters are interned in a fixed, lock-free
 * table (a slot is claimed with one CAS, filled, then published).  A
 * capture makes no system call, masks no signal, takes no lock, never
 * allocates and calls no wrapped function, so a call that is not a
 * cancellation point never becomes one, and a signal handler that runs
 * in the middle of a capture (and captures itself) is traced as any
 * other.  The id of a stack is its slot index plus one.  At the end of
 * each generation the table is written as STACK records of raw program
 * counters: readers name them from the MODULE records (modules.c), so
 * nothing here guesses a name.  weft's own frames are dropped wherever
 * they are (a thread's start routine is called from weft's, under the
 * program's first frames).
 *
 * Why not libunwind, which weft used before: its unw_backtrace made two
 * rt_sigprocmask calls in every capture in its lookup of unwind
 * information, the per-thread cache of its fast path is built anew (mmap,
 * the lookup, address validation with mincore) for every new thread, and
 * it is not reentrant, so weft had to hold signals off and disable
 * cancellation around it.  Measured on a 2-core machine (CPU time,
 * interleaved runs): a write(2) to /dev/null traced with a stack cost
 * 3.2 us more than untraced with libunwind, against 0.08 us without a
 * stack; with unwind.c the two are within the noise of each other
 * (0.1 us), and stress_all's thread churn went from 0.10x of its untraced
 * rate to 0.75x (0.76x without stacks).  Unwinding by frame pointers
 * alone would be as cheap but wrong for Debian's code, built without
 * them; the cached CFI rules give the same walk for both, and the same
 * stacks libunwind gave (compared on sqlite3).
 */
#include <link.h>
#include <string.h>
#include <sys/mman.h>

#include "tablebuf.h"
#include "testhook.h"
#include "unwind.h"
#include "weft.h"

#define STACK_DEPTH  32
#define STACK_BITS   14
#define STACK_SLOTS  (1u << STACK_BITS)
#define STACK_PROBE  32

enum { SLOT_EMPTY, SLOT_FILLING, SLOT_READY };

struct stack_slot {
	_Atomic uint32_t state;
	uint32_t depth;
	uint64_t hash;
	uint64_t pcs[STACK_DEPTH];
};

static struct stack_slot *stack_table;
/* The slots claimed so far, in claiming order (index plus one; 0 until the
 * claimer has stored it), so writing the tables visits only used slots
 * instead of the whole table (which a fork child would also copy). */
static _Atomic uint32_t *claimed_slots;
static _Atomic uint32_t claimed_count;
static uintptr_t self_lo, self_hi; /* weft's own text, skipped */

static int find_self(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size;
	uintptr_t here = (uintptr_t)data;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD || !(ph->p_flags & PF_X))
			continue;
		uintptr_t lo = info->dlpi_addr + ph->p_vaddr;
		if (here >= lo && here < lo + ph->p_memsz) {
			self_lo = lo;
			self_hi = lo + ph->p_memsz;
			return 1;
		}
	}
	return 0;
}

void weft_stacks_init(void)
{
	if (!weft_config.stacks || stack_table)
		return;
	void *p = mmap(NULL, STACK_SLOTS * sizeof(struct stack_slot),
		       PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED) {
		weft_warn("cannot map the stack table; stacks are off");
		weft_config.stacks = 0;
		return;
	}
	stack_table = p;
	claimed_slots = mmap(NULL, STACK_SLOTS * sizeof *claimed_slots,
			     PROT_READ | PROT_WRITE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (claimed_slots == MAP_FAILED) {
		weft_warn("cannot map the stack table; stacks are off");
		munmap(stack_table, STACK_SLOTS * sizeof(struct stack_slot));
		stack_table = NULL;
		claimed_slots = NULL;
		weft_config.stacks = 0;
		return;
	}
	dl_iterate_phdr(find_self, (void *)(uintptr_t)weft_stacks_init);
}

static int same_stack(const struct stack_slot *s, uint64_t hash,
		      const uint64_t *pcs, uint32_t depth)
{
	return s->hash == hash && s->depth == depth &&
	       memcmp(s->pcs, pcs, depth * sizeof pcs[0]) == 0;
}

uint64_t weft_stack_capture(void)
{
	if (!stack_table)
		return 0;
	uintptr_t raw[STACK_DEPTH + 8];
	int n = weft_unwind(raw, STACK_DEPTH + 8);
	WEFT_TEST_POINT(WEFT_POINT_UNWIND, NULL);
	uint64_t pcs[STACK_DEPTH];
	uint32_t depth = 0;
	uint64_t hash = 0xcbf29ce484222325ull;
	for (int i = 0; i < n && depth < STACK_DEPTH; i++) {
		uintptr_t pc = raw[i];
		if (pc >= self_lo && pc < self_hi)
			continue; /* weft's own frames, wherever they are */
		pcs[depth++] = pc;
		hash = (hash ^ pc) * 0x100000001b3ull;
	}
	if (depth == 0)
		return 0;
	uint32_t i = (uint32_t)(hash >> (64 - STACK_BITS));
	for (unsigned probe = 0; probe < STACK_PROBE; probe++) {
		uint32_t idx = (i + probe) & (STACK_SLOTS - 1);
		struct stack_slot *s = &stack_table[idx];
		uint32_t st = atomic_load_explicit(&s->state, memory_order_acquire);
		if (st == SLOT_EMPTY) {
			uint32_t expected = SLOT_EMPTY;
			if (atomic_compare_exchange_strong(&s->state, &expected,
							   SLOT_FILLING)) {
				s->hash = hash;
				s->depth = depth;
				memcpy(s->pcs, pcs, depth * sizeof pcs[0]);
				/* Listed first, ready second: a fork
				 * between the two leaves the child a slot
				 * that is listed but never ready (passed
				 * over), not one that is ready, handed out,
				 * and never written with the tables. */
				uint32_t k = atomic_fetch_add(&claimed_count, 1);
				atomic_store(&claimed_slots[k], idx + 1);
				WEFT_TEST_POINT(WEFT_POINT_STACK_PUBLISH, NULL);
				atomic_store_explicit(&s->state, SLOT_READY,
						      memory_order_release);
				return idx + 1;
			}
			st = expected;
		}
		/* A slot being filled is passed over, never waited for: its
		 * filler may be the code this signal handler interrupted.  The
		 * same stack may then get a second slot (and id). */
		if (st == SLOT_READY && same_stack(s, hash, pcs, depth))
			return idx + 1;
	}
	return 0; /* table crowded: no stack for this event */
}

void weft_stacks_write_tables(struct weft_tablebuf *tb)
{
	if (!stack_table)
		return;
	struct weft_record r;
	uint32_t claimed = atomic_load(&claimed_count);
	for (uint32_t k = 0; k < claimed; k++) {
		uint32_t id = atomic_load(&claimed_slots[k]);
		if (id == 0)
			continue; /* its claimer is still storing it */
		uint32_t i = id - 1;
		struct stack_slot *s = &stack_table[i];
		if (atomic_load(&s->state) != SLOT_READY)
			continue;
		memset(&r, 0, sizeof r);
		r.code = WEFT_EV_STACK;
		r.args[0] = i + 1;
		r.npcs = s->depth;
		memcpy(r.pcs, s->pcs, s->depth * sizeof s->pcs[0]);
		weft_tb_record(tb, &r);
	}
}
