/*
 * lock_orders.c - lock orders with known answers for `weft lockorder`.
 * Threads run one after the other (each is joined before the next
 * starts), so no run ever deadlocks:
 *
 *   abba     T2: A then B; T3: B then A            -> one cycle A <-> B
 *   ordered  T2, T3 (at the same time): A, B, C    -> no cycle
 *   trylock  T2: A then B; T3: B then trylock A    -> no cycle
 *   gated    T2: G, A, B; T3: G, B, A              -> cycle guarded by G
 *   rdrd     rwlocks, T2: read A, read B; T3: read B, read A -> none
 *   rdwr     rwlocks, T2: read A, write B; T3: read B, write A -> cycle
 *
 * stdout: "A=0x... B=0x..." (the addresses of the two locks).
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static pthread_mutex_t ma = PTHREAD_MUTEX_INITIALIZER, mb = PTHREAD_MUTEX_INITIALIZER,
	mc = PTHREAD_MUTEX_INITIALIZER, gate = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t ra = PTHREAD_RWLOCK_INITIALIZER, rb = PTHREAD_RWLOCK_INITIALIZER;
static const char *mode;

static void both(pthread_mutex_t *first, pthread_mutex_t *second, int try_second)
{
	pthread_mutex_lock(first);
	if (try_second) {
		if (pthread_mutex_trylock(second) == 0)
			pthread_mutex_unlock(second);
	} else {
		pthread_mutex_lock(second);
		pthread_mutex_unlock(second);
	}
	pthread_mutex_unlock(first);
}

static void both_rw(pthread_rwlock_t *first, pthread_rwlock_t *second, int write_second)
{
	pthread_rwlock_rdlock(first);
	if (write_second)
		pthread_rwlock_wrlock(second);
	else
		pthread_rwlock_rdlock(second);
	pthread_rwlock_unlock(second);
	pthread_rwlock_unlock(first);
}

static void *first_thread(void *arg)
{
	(void)arg;
	if (!strcmp(mode, "ordered")) {
		pthread_mutex_lock(&ma);
		both(&mb, &mc, 0);
		pthread_mutex_unlock(&ma);
	} else if (!strcmp(mode, "gated")) {
		pthread_mutex_lock(&gate);
		both(&ma, &mb, 0);
		pthread_mutex_unlock(&gate);
	} else if (!strcmp(mode, "rdrd") || !strcmp(mode, "rdwr")) {
		both_rw(&ra, &rb, !strcmp(mode, "rdwr"));
	} else {
		both(&ma, &mb, 0);
	}
	return NULL;
}

static void *second_thread(void *arg)
{
	(void)arg;
	if (!strcmp(mode, "ordered")) {
		return first_thread(arg);
	} else if (!strcmp(mode, "gated")) {
		pthread_mutex_lock(&gate);
		both(&mb, &ma, 0);
		pthread_mutex_unlock(&gate);
	} else if (!strcmp(mode, "rdrd") || !strcmp(mode, "rdwr")) {
		both_rw(&rb, &ra, !strcmp(mode, "rdwr"));
	} else {
		both(&mb, &ma, !strcmp(mode, "trylock"));
	}
	return NULL;
}

int main(int argc, char **argv)
{
	mode = argc > 1 ? argv[1] : "abba";
	pthread_t t1, t2;
	int together = !strcmp(mode, "ordered");
	pthread_create(&t1, NULL, first_thread, NULL);
	if (!together)
		pthread_join(t1, NULL);
	pthread_create(&t2, NULL, second_thread, NULL);
	if (together)
		pthread_join(t1, NULL);
	pthread_join(t2, NULL);
	int rw = !strcmp(mode, "rdrd") || !strcmp(mode, "rdwr");
	printf("A=%p B=%p\n", rw ? (void *)&ra : (void *)&ma, rw ? (void *)&rb : (void *)&mb);
	return 0;
}
