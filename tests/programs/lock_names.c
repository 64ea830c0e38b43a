/*
 * lock_names.c - heap locks whose names come from their sites, for the
 * names `weft stats` gives them (tests/test_sites.c):
 *
 *   wrapped  four locks initialised by one function, make_lock(): one
 *            from create_a(), one from create_b(), then two from one
 *            call in create_pair(); each is then locked once
 *   heap     a lock copied from PTHREAD_MUTEX_INITIALIZER (never
 *            initialised by a call, never waited for), locked three
 *            times in queue_push()
 *
 * stdout: "lock N 0xADDRESS" for each lock, in the order made.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Loops the compiler cannot unroll: each call below is one call site. */
static volatile int reps = 3;
static volatile int made_by_b; /* create_b() is not create_a() folded */

/* An init wrapper: every init's innermost frame is in here. */
__attribute__((noinline)) static pthread_mutex_t *make_lock(void)
{
	pthread_mutex_t *m = malloc(sizeof *m);
	if (!m || pthread_mutex_init(m, NULL) != 0)
		abort();
	return m;
}

__attribute__((noinline)) static pthread_mutex_t *create_a(void)
{
	pthread_mutex_t *m = make_lock();
	__asm__ volatile("" ::: "memory"); /* not a tail call */
	return m;
}

__attribute__((noinline)) static pthread_mutex_t *create_b(void)
{
	pthread_mutex_t *m = make_lock();
	made_by_b++;
	return m;
}

__attribute__((noinline)) static void create_pair(pthread_mutex_t **two)
{
	for (int i = 0; i < reps - 1; i++)
		two[i] = make_lock();
}

struct queue {
	int items;
	pthread_mutex_t lock;
};

__attribute__((noinline)) static void queue_push(struct queue *q)
{
	pthread_mutex_lock(&q->lock);
	q->items++;
	pthread_mutex_unlock(&q->lock);
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "";
	if (!strcmp(mode, "wrapped")) {
		pthread_mutex_t *lock[4];
		lock[0] = create_a();
		lock[1] = create_b();
		create_pair(&lock[2]);
		for (int i = 0; i < 4; i++) {
			pthread_mutex_lock(lock[i]);
			pthread_mutex_unlock(lock[i]);
			printf("lock %d %p\n", i, (void *)lock[i]);
		}
	} else if (!strcmp(mode, "heap")) {
		struct queue *q = malloc(sizeof *q);
		if (!q)
			abort();
		pthread_mutex_t init = PTHREAD_MUTEX_INITIALIZER;
		memcpy(&q->lock, &init, sizeof init);
		q->items = 0;
		for (int i = 0; i < reps; i++)
			queue_push(q);
		printf("lock 0 %p\n", (void *)&q->lock);
	} else {
		fprintf(stderr, "usage: lock_names wrapped|heap\n");
		return 2;
	}
	return 0;
}
