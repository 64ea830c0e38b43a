/*
 * pshared.c - a parent and its fork child share one synchronization object
 * in MAP_SHARED memory (or, for "named", a semaphore from sem_open), each
 * doing its half of the work with it; each process's trace sees only its
 * own side.  argv[1] picks the object:
 *
 *   barrier  a PTHREAD_PROCESS_SHARED barrier of 2: both wait ROUNDS times;
 *   sem      sem_init(pshared = 1, 0): the child posts ROUNDS times, the
 *            parent waits ROUNDS times;
 *   named    the same with a semaphore from sem_open;
 *   mutex    a PTHREAD_PROCESS_SHARED mutex and condition variable: the
 *            two take turns, ROUNDS each, handing over with the condvar;
 *   spin     a process-shared spin lock taken alternately, ROUNDS each
 *            (whose turn it is lives in the shared memory too);
 *   rwlock   a PTHREAD_PROCESS_SHARED reader-writer lock: the parent
 *            takes it for reading, the child for writing, ROUNDS each.
 *
 * stdout: "object 0x<address>" (the address both processes use), then
 * "child exited 0"; exit 0.
 */
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#define ROUNDS 3

struct shared {
	pthread_barrier_t barrier;
	sem_t sem;
	pthread_mutex_t mutex;
	pthread_cond_t cond;
	pthread_spinlock_t spin;
	pthread_rwlock_t rwlock;
	volatile int turn;    /* 0: the parent's, 1: the child's */
};

static struct shared *sh;
static sem_t *named;

static void barrier_side(int child)
{
	(void)child;
	for (int i = 0; i < ROUNDS; i++)
		pthread_barrier_wait(&sh->barrier);
}

static void sem_side(int child, sem_t *s)
{
	for (int i = 0; i < ROUNDS; i++)
		if (child ? sem_post(s) : sem_wait(s))
			abort();
}

static void mutex_side(int child)
{
	for (int i = 0; i < ROUNDS; i++) {
		pthread_mutex_lock(&sh->mutex);
		while (sh->turn != child)
			pthread_cond_wait(&sh->cond, &sh->mutex);
		sh->turn = !child;
		pthread_cond_broadcast(&sh->cond);
		pthread_mutex_unlock(&sh->mutex);
	}
}

static void spin_side(int child)
{
	for (int i = 0; i < ROUNDS;) {
		pthread_spin_lock(&sh->spin);
		int mine = sh->turn == child;
		if (mine)
			sh->turn = !child;
		pthread_spin_unlock(&sh->spin);
		if (mine)
			i++;
		else
			sched_yield();
	}
}

static void rwlock_side(int child)
{
	for (int i = 0; i < ROUNDS; i++) {
		if (child)
			pthread_rwlock_wrlock(&sh->rwlock);
		else
			pthread_rwlock_rdlock(&sh->rwlock);
		pthread_rwlock_unlock(&sh->rwlock);
	}
}

int main(int argc, char **argv)
{
	const char *what = argc > 1 ? argv[1] : "";
	sh = mmap(NULL, sizeof *sh, PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED)
		return 2;
	const void *object;
	char name[64];
	if (!strcmp(what, "barrier")) {
		pthread_barrierattr_t a;
		pthread_barrierattr_init(&a);
		pthread_barrierattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_barrier_init(&sh->barrier, &a, 2);
		object = &sh->barrier;
	} else if (!strcmp(what, "sem")) {
		sem_init(&sh->sem, 1, 0);
		object = &sh->sem;
	} else if (!strcmp(what, "named")) {
		snprintf(name, sizeof name, "/weft-pshared-%d", (int)getpid());
		named = sem_open(name, O_CREAT | O_EXCL, 0600, 0);
		if (named == SEM_FAILED)
			return 2;
		sem_unlink(name);
		object = named;
	} else if (!strcmp(what, "mutex")) {
		pthread_mutexattr_t ma;
		pthread_condattr_t ca;
		pthread_mutexattr_init(&ma);
		pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
		pthread_condattr_init(&ca);
		pthread_condattr_setpshared(&ca, PTHREAD_PROCESS_SHARED);
		pthread_mutex_init(&sh->mutex, &ma);
		pthread_cond_init(&sh->cond, &ca);
		object = &sh->mutex;
	} else if (!strcmp(what, "spin")) {
		pthread_spin_init(&sh->spin, PTHREAD_PROCESS_SHARED);
		object = (const void *)&sh->spin;
	} else if (!strcmp(what, "rwlock")) {
		pthread_rwlockattr_t a;
		pthread_rwlockattr_init(&a);
		pthread_rwlockattr_setpshared(&a, PTHREAD_PROCESS_SHARED);
		pthread_rwlock_init(&sh->rwlock, &a);
		object = &sh->rwlock;
	} else {
		fprintf(stderr, "usage: pshared barrier|sem|named|mutex|spin|rwlock\n");
		return 2;
	}
	printf("object %p\n", object);
	fflush(stdout);

	pid_t pid = fork();
	if (pid < 0)
		return 2;
	int child = pid == 0;
	switch (what[0]) {
	case 'b': barrier_side(child); break;
	case 's': if (what[1] == 'e') sem_side(child, &sh->sem);
		  else spin_side(child);
		  break;
	case 'n': sem_side(child, named); break;
	case 'm': mutex_side(child); break;
	case 'r': rwlock_side(child); break;
	}
	if (child)
		exit(0);
	int status;
	if (waitpid(pid, &status, 0) != pid)
		return 2;
	printf("child exited %d\n", WIFEXITED(status) ? WEXITSTATUS(status) : -1);
	return 0;
}
