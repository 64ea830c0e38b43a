/*
 * straddle.c - one event section straddling a generation boundary, forced.
 *
 * Run under the test build of libweft.so (libweft-test.so), whose hooks
 * park a thread at a chosen point of its event section:
 *
 *   straddle KIND POINT [stop]
 *
 * Thread A starts an operation of KIND and is parked at POINT (seq: the
 * generation is read but the object's sequence number not yet taken;
 * call: a release's event is written but its real call not made; close:
 * the section is about to close).  The generation then advances (a
 * rotation, or with "stop" a stop followed later by a start) while A is
 * parked, and other threads act on the same object in the new generation
 * as far as they can without A.  Then A goes on, and everyone finishes.
 * The trace must check whatever the interleaving.
 *
 * stdout: "KIND POINT: generation G -> H while parked" and "ok"; exit 2
 * when the hooks are missing or the arguments are wrong.
 */
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

enum { POINT_SEQ = 1, POINT_CALL = 2, POINT_CLOSE = 3 };

static void (*hook_arm)(int point, const void *object, int tid);
static int (*hook_parked)(void);
static void (*hook_release)(void);
static unsigned (*hook_generation)(void);
static void (*hook_rotate)(void), (*hook_stop)(void), (*hook_start)(void);

static int point;
static int stopping;
static const char *kind;

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static pthread_barrier_t barrier;
static sem_t sem;
static int flag;

/* Progress flags, waited for by spinning on sched_yield (no wrapper). */
static _Atomic int a_ready, a_go, b_stage;
static _Atomic int a_tid;

static void wait_for(_Atomic int *v, int value)
{
	while (atomic_load(v) < value)
		sched_yield();
}

static pthread_t spawn(void *(*fn)(void *))
{
	pthread_t t;
	if (pthread_create(&t, NULL, fn, NULL) != 0) {
		perror("pthread_create");
		exit(1);
	}
	return t;
}

static void join(pthread_t t)
{
	pthread_join(t, NULL);
}

/* ---- A: the thread that is parked ---- */

/* A publishes its id, waits for main to arm the hook, then does op. */
static void a_prologue(void)
{
	atomic_store(&a_tid, (int)syscall(SYS_gettid));
	atomic_store(&a_ready, 1);
	wait_for(&a_go, 1);
}

static void *a_rwlock_unlock(void *arg)
{
	pthread_rwlock_rdlock(&rw);
	a_prologue();
	pthread_rwlock_unlock(&rw);
	return arg;
}

static void *a_rwlock_acquire(void *arg)
{
	a_prologue();
	pthread_rwlock_rdlock(&rw);
	pthread_rwlock_unlock(&rw);
	return arg;
}

static void *a_sem_post(void *arg)
{
	a_prologue();
	sem_post(&sem);
	return arg;
}

static void *a_sem_wait(void *arg)
{
	a_prologue();
	sem_wait(&sem);
	return arg;
}

/* The condvar already has a number in the generation A is parked in. */
static void *a_cond_signal(void *arg)
{
	pthread_cond_signal(&cv);
	a_prologue();
	pthread_cond_signal(&cv);
	return arg;
}

static void *a_cond_broadcast(void *arg)
{
	pthread_cond_broadcast(&cv);
	a_prologue();
	pthread_cond_broadcast(&cv);
	return arg;
}

static void *a_barrier(void *arg)
{
	a_prologue();
	pthread_barrier_wait(&barrier);
	return arg;
}

static void *a_mutex_unlock(void *arg)
{
	pthread_mutex_lock(&m);
	a_prologue();
	pthread_mutex_unlock(&m);
	return arg;
}

static void *a_mutex_acquire(void *arg)
{
	a_prologue();
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	return arg;
}

static void *a_spin_unlock(void *arg)
{
	pthread_spin_lock(&spin);
	a_prologue();
	pthread_spin_unlock(&spin);
	return arg;
}

static void *a_spin_acquire(void *arg)
{
	a_prologue();
	pthread_spin_lock(&spin);
	pthread_spin_unlock(&spin);
	return arg;
}

/* Parked in the wait's beginning (the mutex's number) or its end. */
static void *a_cond_wait(void *arg)
{
	pthread_mutex_lock(&m);
	a_prologue();
	while (!flag)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);
	return arg;
}

static void *child(void *arg)
{
	return arg;
}

static pthread_t created;

static void *a_create(void *arg)
{
	a_prologue();
	created = spawn(child);
	return arg;
}

static void *a_exit(void *arg)
{
	a_prologue();
	return arg;
}

/* ---- B: the others, acting in the new generation ---- */

static void stage_done(void)
{
	atomic_store(&b_stage, 1);
}

static void *b_rwlock(void *arg)
{
	pthread_rwlock_rdlock(&rw);
	pthread_rwlock_unlock(&rw);
	if (pthread_rwlock_trywrlock(&rw) == 0)
		pthread_rwlock_unlock(&rw);
	stage_done();
	pthread_rwlock_wrlock(&rw); /* waits for A's read lock to go */
	pthread_rwlock_unlock(&rw);
	return arg;
}

static void *b_sem(void *arg)
{
	sem_post(&sem);
	sem_wait(&sem);
	stage_done();
	sem_post(&sem);
	return arg;
}

static void *b_cond(void *arg)
{
	pthread_cond_signal(&cv);
	pthread_mutex_lock(&m);
	flag = 1;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&m);
	stage_done();
	return arg;
}

static _Atomic int waiting;

/* Waits on cv; main knows it waits once it can take the mutex after
 * `waiting` is set (the wait releases the mutex). */
static void *waiter(void *arg)
{
	pthread_mutex_lock(&m);
	atomic_store(&waiting, 1);
	while (!flag)
		pthread_cond_wait(&cv, &m);
	pthread_mutex_unlock(&m);
	return arg;
}

static void *arrive(void *arg)
{
	pthread_barrier_wait(&barrier);
	return arg;
}

/* Two arrivals that make a round of their own while A is parked. */
static void *b_barrier(void *arg)
{
	pthread_t other = spawn(arrive);
	arrive(NULL);
	join(other);
	stage_done();
	return arg;
}

/* One arrival, which completes the round of the thread already waiting
 * (A's arrival is numbered but not made); then a lock the last arrival
 * takes after it. */
static void *b_barrier_order(void *arg)
{
	arrive(NULL);
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	stage_done();
	return arg;
}

/* The arrival that makes A's round, numbered after a lock B released. */
static void *last_arrival(void *arg)
{
	pthread_mutex_lock(&m);
	pthread_mutex_unlock(&m);
	arrive(NULL);
	return arg;
}

static void *b_mutex(void *arg)
{
	if (pthread_mutex_trylock(&m) == 0)
		pthread_mutex_unlock(&m);
	stage_done();
	pthread_mutex_lock(&m); /* waits for A */
	pthread_mutex_unlock(&m);
	return arg;
}

static void *b_spin(void *arg)
{
	if (pthread_spin_trylock(&spin) == 0)
		pthread_spin_unlock(&spin);
	stage_done();
	pthread_spin_lock(&spin);
	pthread_spin_unlock(&spin);
	return arg;
}

/* The waiter's mutex: A still holds it (seq point of the wait's
 * beginning) or holds it again (its end). */
static void *b_cond_mutex(void *arg)
{
	if (pthread_mutex_trylock(&m) == 0)
		pthread_mutex_unlock(&m);
	stage_done();
	pthread_mutex_lock(&m);
	flag = 1;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&m);
	return arg;
}

static void *b_nothing(void *arg)
{
	stage_done();
	return arg;
}

static pthread_t thread_a;

static void *b_join_a(void *arg)
{
	stage_done();
	join(thread_a);
	return arg;
}

/* ---- the boundary ---- */

static void *advance_op(void *arg)
{
	(void)arg;
	if (stopping)
		hook_stop();
	else
		hook_rotate();
	return NULL;
}

/* Setups that need a thread in place before A is parked. */
static pthread_t no_setup(void)
{
	return 0;
}

static pthread_t cond_waiter(void)
{
	pthread_t t = spawn(waiter);
	wait_for(&waiting, 1);
	pthread_mutex_lock(&m); /* the waiter is in its wait */
	pthread_mutex_unlock(&m);
	return t;
}

static pthread_t first_arrival(void)
{
	return spawn(arrive);
}

/* What completes a scenario once A went on. */
static void no_finish(void)
{
}

static void take_one(void)
{
	sem_wait(&sem);
}

static void arrive_with_a(void)
{
	arrive(NULL);
}

static void last_arrival_with_a(void)
{
	join(spawn(last_arrival));
}

struct scenario {
	const char *kind;
	void *(*a)(void *);         /* the parked thread */
	void *(*b)(void *);         /* the others, in the new generation */
	pthread_t (*setup)(void);   /* a thread in place before: joined last */
	void (*finish)(void);
	const void *object;  /* the object A is parked on; NULL: any */
	unsigned points;     /* 1 << POINT_*: where A may be parked */
	int arm_after_wait;  /* arm once A waits (to park its wait's end) */
};

#define SEQ (1u << POINT_SEQ)
#define CALL (1u << POINT_CALL)
#define CLOSE (1u << POINT_CLOSE)

static const struct scenario scenarios[] = {
	{ "rwlock-unlock", a_rwlock_unlock, b_rwlock, no_setup, no_finish, &rw,
	  SEQ | CALL | CLOSE, 0 },
	{ "rwlock-acquire", a_rwlock_acquire, b_rwlock, no_setup, no_finish, &rw,
	  SEQ | CLOSE, 0 },
	{ "sem-post", a_sem_post, b_sem, no_setup, take_one, &sem,
	  SEQ | CALL | CLOSE, 0 },
	{ "sem-wait", a_sem_wait, b_sem, no_setup, take_one, &sem, SEQ | CLOSE, 0 },
	{ "cond-signal", a_cond_signal, b_cond, cond_waiter, no_finish, &cv,
	  SEQ | CALL | CLOSE, 0 },
	{ "cond-broadcast", a_cond_broadcast, b_cond, cond_waiter, no_finish, &cv,
	  SEQ | CALL | CLOSE, 0 },
	{ "barrier", a_barrier, b_barrier, no_setup, arrive_with_a, &barrier,
	  SEQ | CLOSE, 0 },
	{ "barrier-order", a_barrier, b_barrier_order, first_arrival,
	  last_arrival_with_a, &barrier, SEQ | CLOSE, 0 },
	{ "mutex-unlock", a_mutex_unlock, b_mutex, no_setup, no_finish, &m,
	  SEQ | CALL | CLOSE, 0 },
	{ "mutex-acquire", a_mutex_acquire, b_mutex, no_setup, no_finish, &m,
	  SEQ | CLOSE, 0 },
	{ "spin-unlock", a_spin_unlock, b_spin, no_setup, no_finish, (const void *)&spin,
	  SEQ | CALL | CLOSE, 0 },
	{ "spin-acquire", a_spin_acquire, b_spin, no_setup, no_finish, (const void *)&spin,
	  SEQ | CLOSE, 0 },
	{ "cond-wait-begin", a_cond_wait, b_cond_mutex, no_setup, no_finish, &m,
	  SEQ | CLOSE, 0 },
	{ "cond-wait-end", a_cond_wait, b_cond_mutex, no_setup, no_finish, &m,
	  SEQ | CLOSE, 1 },
	{ "thread-create", a_create, b_nothing, no_setup, no_finish, NULL, CLOSE, 0 },
	{ "thread-exit", a_exit, b_join_a, no_setup, no_finish, NULL, CLOSE, 0 },
};

static int resolve_hooks(void)
{
	hook_arm = (void (*)(int, const void *, int))dlsym(RTLD_DEFAULT, "weft_test_arm");
	hook_parked = (int (*)(void))dlsym(RTLD_DEFAULT, "weft_test_parked");
	hook_release = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_release");
	hook_generation = (unsigned (*)(void))dlsym(RTLD_DEFAULT, "weft_test_generation");
	hook_rotate = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_rotate");
	hook_stop = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_stop");
	hook_start = (void (*)(void))dlsym(RTLD_DEFAULT, "weft_test_start");
	return hook_arm && hook_parked && hook_release && hook_generation &&
	       hook_rotate && hook_stop && hook_start;
}

static int parse_point(const char *s)
{
	if (!strcmp(s, "seq"))
		return POINT_SEQ;
	if (!strcmp(s, "call"))
		return POINT_CALL;
	if (!strcmp(s, "close"))
		return POINT_CLOSE;
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 3 || !(point = parse_point(argv[2]))) {
		fprintf(stderr, "usage: straddle KIND seq|call|close [stop]\n");
		return 2;
	}
	stopping = argc > 3 && !strcmp(argv[3], "stop");
	kind = argv[1];
	const struct scenario *s = NULL;
	for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
		if (!strcmp(scenarios[i].kind, kind))
			s = &scenarios[i];
	if (!s || !(s->points & (1u << point))) {
		fprintf(stderr, "straddle: no scenario %s at %s\n", kind, argv[2]);
		return 2;
	}
	if (!resolve_hooks()) {
		fprintf(stderr, "straddle: run me under libweft-test.so\n");
		return 2;
	}
	pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
	pthread_barrier_init(&barrier, NULL, 2);
	sem_init(&sem, 0, s->a == a_sem_wait);
	pthread_t extra = s->setup();

	thread_a = spawn(s->a);
	wait_for(&a_ready, 1);
	int tid = atomic_load(&a_tid);
	if (s->arm_after_wait) {
		/* A's wait began (it released the mutex): take the mutex, so
		 * that A's end of wait comes after the arming. */
		atomic_store(&a_go, 1);
		pthread_mutex_lock(&m);
		hook_arm(point, s->object, tid);
		flag = 1;
		pthread_cond_signal(&cv);
		pthread_mutex_unlock(&m);
	} else {
		hook_arm(point, s->object, tid);
		atomic_store(&a_go, 1);
	}
	while (!hook_parked())
		sched_yield();

	unsigned before = hook_generation();
	pthread_t advancer = spawn(advance_op);
	while (hook_generation() == before)
		sched_yield();
	unsigned after = hook_generation();

	pthread_t b = spawn(s->b);
	wait_for(&b_stage, 1);
	hook_release();
	join(advancer);
	if (stopping)
		hook_start();
	s->finish();
	if (extra)
		join(extra);
	if (s->b != b_join_a)
		join(thread_a);
	join(b);
	if (s->a == a_create)
		join(created);
	printf("%s %s: generation %u -> %u while parked\nok\n", kind, argv[2],
	       before, after);
	return 0;
}
