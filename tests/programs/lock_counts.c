/*
 * lock_counts.c - locking whose counts are known exactly, for contention
 * mode (WEFT_MODE=contention).
 *
 * The main thread (T1), after creating T2:
 *   - locks and unlocks mutex A 1000 times, none of them contended;
 *   - takes mutex C with pthread_mutex_trylock 10 times;
 *   - read-locks rwlock R 100 times and write-locks it 50 times;
 *   - locks spin lock S 200 times;
 * then meets T2 at a barrier, after which T2 holds mutex B and T1 blocks on
 * it (T2 lets it go 50 ms later): one contended acquisition of B by T1.
 * T2 locks B only that once.
 *
 * With "rotate" as argument (under the test build of libweft), the main
 * thread closes the generation (weft_test_rotate) after every 100 of its
 * pairs on A, so each of the generations 1 to 10 holds exactly 100 of
 * them.
 *
 * With "pair" as argument (under the test build), the program instead
 * finds two mutexes X and Y whose counts take the same first slot in the
 * thread's table (weft_test_count_slot), locks and unlocks them in turn
 * 1000 times each, and prints "X 0x... Y 0x...".
 *
 * stdout: the addresses, "A 0x... B 0x... C 0x... R 0x... S 0x...".
 */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static pthread_mutex_t a = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t b = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t c = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static pthread_barrier_t meet;
static pthread_mutex_t pool[64];

/* X and Y of "pair". */
static int pair(void)
{
	unsigned (*slot)(const void *, unsigned) =
		(unsigned (*)(const void *, unsigned))dlsym(RTLD_DEFAULT,
							     "weft_test_count_slot");
	if (!slot) {
		fprintf(stderr, "no weft_test_count_slot: not the test build\n");
		return 2;
	}
	for (int i = 0; i < 64; i++)
		pthread_mutex_init(&pool[i], NULL);
	pthread_mutex_t *x = &pool[0], *y = NULL;
	for (int i = 1; i < 64 && !y; i++)
		if (slot(&pool[i], 1) == slot(x, 1))
			y = &pool[i];
	if (!y) {
		fprintf(stderr, "no two mutexes share a slot\n");
		return 2;
	}
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(x);
		pthread_mutex_unlock(x);
		pthread_mutex_lock(y);
		pthread_mutex_unlock(y);
	}
	printf("X %p Y %p\n", (void *)x, (void *)y);
	return 0;
}

static void *holder(void *arg)
{
	(void)arg;
	pthread_barrier_wait(&meet);    /* T1 is done counting */
	pthread_mutex_lock(&b);
	pthread_barrier_wait(&meet);    /* B is held */
	struct timespec ms50 = { 0, 50 * 1000 * 1000 };
	nanosleep(&ms50, NULL);
	pthread_mutex_unlock(&b);
	return NULL;
}

int main(int argc, char **argv)
{
	void (*rotate)(void) = NULL;
	if (argc > 1 && strcmp(argv[1], "pair") == 0)
		return pair();
	if (argc > 1 && strcmp(argv[1], "rotate") == 0) {
		rotate = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_rotate");
		if (!rotate) {
			fprintf(stderr, "no weft_test_rotate: not the test build\n");
			return 2;
		}
	}
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	pthread_barrier_init(&meet, NULL, 2);
	pthread_t t;
	if (pthread_create(&t, NULL, holder, NULL) != 0)
		return 1;
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&a);
		pthread_mutex_unlock(&a);
		if (rotate && i % 100 == 99)
			rotate();
	}
	for (int i = 0; i < 10; i++) {
		if (pthread_mutex_trylock(&c) != 0)
			return 1;
		pthread_mutex_unlock(&c);
	}
	for (int i = 0; i < 100; i++) {
		pthread_rwlock_rdlock(&rw);
		pthread_rwlock_unlock(&rw);
	}
	for (int i = 0; i < 50; i++) {
		pthread_rwlock_wrlock(&rw);
		pthread_rwlock_unlock(&rw);
	}
	for (int i = 0; i < 200; i++) {
		pthread_spin_lock(&spin);
		pthread_spin_unlock(&spin);
	}
	pthread_barrier_wait(&meet);
	pthread_barrier_wait(&meet);    /* T2 holds B */
	pthread_mutex_lock(&b);
	pthread_mutex_unlock(&b);
	pthread_join(t, NULL);
	printf("A %p B %p C %p R %p S %p\n", (void *)&a, (void *)&b, (void *)&c,
	       (void *)&rw, (void *)&spin);
	return 0;
}
