/*
 * sym_sites.c - threads blocking on locks from code of every shape a
 * reader must name (tests/test_symbols.c): a static function, a function
 * inlined into its caller (always_inline), a C++ template
 * (sym_template.cc), and an exported function; on a global lock (qm), a
 * lock inside a global struct (pool.lock), a heap lock created in
 * queue_init, and a lock on main's stack.  Built with -g, without it, and
 * stripped.
 *
 * Each wait is made certain: main holds the lock, starts the thread, waits
 * until /proc shows it asleep on the lock, then lets it go.  The first two
 * waits are made holding the other lock, in opposite orders, so
 * lockorder sees a cycle between qm and pool.lock.
 *
 * stdout: nothing; exit 0.
 */
#include <pthread.h>
#include <stdlib.h>

#include "blocked.h"

pthread_mutex_t qm = PTHREAD_MUTEX_INITIALIZER;

struct pool {
	long slots[8];
	pthread_mutex_t lock;
} pool = { .lock = PTHREAD_MUTEX_INITIALIZER };

struct queue {
	int items;
	pthread_mutex_t lock;
};

static blocked_slot waiter;

/* From sym_template.cc. */
void block_in_template(pthread_mutex_t *m);

static __attribute__((noipa)) void block_static(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	pthread_mutex_unlock(m);
}

static inline __attribute__((always_inline)) void block_inline(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	pthread_mutex_unlock(m);
}

__attribute__((noipa)) void inline_caller(pthread_mutex_t *m)
{
	block_inline(m);
	__asm__ volatile("" ::: "memory"); /* not a tail call */
}

__attribute__((noipa)) void block_plain(pthread_mutex_t *m)
{
	pthread_mutex_lock(m);
	pthread_mutex_unlock(m);
}

__attribute__((noipa)) struct queue *queue_init(void)
{
	struct queue *q = calloc(1, sizeof *q);
	if (!q)
		exit(1);
	pthread_mutex_init(&q->lock, NULL);
	return q;
}

struct job {
	void (*block)(pthread_mutex_t *);
	pthread_mutex_t *on, *holding;
};

static void *worker(void *p)
{
	struct job *j = p;
	if (j->holding)
		pthread_mutex_lock(j->holding);
	blocked_publish(&waiter);
	j->block(j->on);
	if (j->holding)
		pthread_mutex_unlock(j->holding);
	return NULL;
}

/* Runs block(on) on a thread of its own, which waits for on. */
static void make_wait(void (*block)(pthread_mutex_t *), pthread_mutex_t *on,
		      pthread_mutex_t *holding)
{
	struct job j = { block, on, holding };
	pthread_t t;
	atomic_store(&waiter, 0);
	pthread_mutex_lock(on);
	if (pthread_create(&t, NULL, worker, &j) != 0)
		exit(1);
	wait_blocked(&waiter, (struct blocked_call){ SYS_futex, 0, (uintptr_t)on,
						     sizeof *on, "a wait" });
	pthread_mutex_unlock(on);
	pthread_join(t, NULL);
}

int main(void)
{
	pthread_mutex_t on_stack;
	pthread_mutex_init(&on_stack, NULL);
	struct queue *q = queue_init();
	make_wait(block_static, &qm, &pool.lock);
	make_wait(inline_caller, &pool.lock, &qm);
	make_wait(block_plain, &q->lock, NULL);
	make_wait(block_in_template, &on_stack, NULL);
	pthread_mutex_destroy(&q->lock);
	free(q);
	return 0;
}
