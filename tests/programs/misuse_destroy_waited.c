/*
 * misuse_destroy_waited.c - main destroys a semaphore a second thread is
 * blocked on (glibc's sem_destroy does nothing and returns 0), then posts
 * to it, which wakes the waiter.
 * Expected finding: destroy-waited, T1 destroys what T2 waits on.
 */
#include <pthread.h>
#include <semaphore.h>

#include "misuse.h"

static sem_t sem;
static pid_t waiter_tid;

static void *waiter(void *arg)
{
	(void)arg;
	__atomic_store_n(&waiter_tid, (pid_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
	sem_wait(&sem);
	return NULL;
}

int main(void)
{
	sem_init(&sem, 0, 0);
	say_object(&sem);
	pthread_t t;
	pthread_create(&t, NULL, waiter, NULL);
	pid_t tid;
	while (!(tid = __atomic_load_n(&waiter_tid, __ATOMIC_ACQUIRE)))
		sched_yield();
	wait_until_blocked(tid);
	sem_destroy(&sem);
	sem_post(&sem);
	pthread_join(t, NULL);
	return 0;
}
