/*
 * wrap_life.c - the lifetimes of synchronization objects: init and destroy
 * of mutexes, reader-writer locks, condition variables and spin locks,
 * and destroy of barriers and semaphores (their init, which carries a
 * count or a value, is in wrap_wait.c).  Each is an *_INIT or *_DESTROY
 * record (the WEFT_LIFETIME shape of protocol.h): an object re-created at
 * a reused address is a new object to the reader.  An init whose
 * attributes say PTHREAD_PROCESS_SHARED also marks the object as shared
 * with other processes (shared.c), whether tracing is on or not.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>

#include "protocol.h"
#include "real.h"

WEFT_REAL(pthread_mutex_init)
WEFT_REAL(pthread_mutex_destroy)
WEFT_REAL(pthread_rwlock_init)
WEFT_REAL(pthread_rwlock_destroy)
WEFT_REAL_V(pthread_cond_init, "GLIBC_2.3.2")
WEFT_REAL_V(pthread_cond_destroy, "GLIBC_2.3.2")
WEFT_REAL(pthread_spin_init)
WEFT_REAL(pthread_spin_destroy)
WEFT_REAL(pthread_barrier_destroy)
WEFT_REAL(sem_destroy)

/* Whether attributes (NULL: the defaults, process-private) say
 * PTHREAD_PROCESS_SHARED, read with the kind's getpshared function. */
#define PSHARED(getpshared, attr)                                             \
	({                                                                    \
		int pshared_ = PTHREAD_PROCESS_PRIVATE;                       \
		if (attr)                                                     \
			getpshared(attr, &pshared_);                          \
		pshared_ == PTHREAD_PROCESS_SHARED;                           \
	})

/* The init and destroy of pthread_KIND_t objects, whose attributes say
 * whether they are process-shared. */
#define LIFETIMES(kind, KIND)                                                 \
	WEFT_VISIBLE int pthread_##kind##_init(pthread_##kind##_t *o,         \
					       const pthread_##kind##attr_t *attr) \
	{                                                                     \
		WEFT_LIFETIME(KIND##_INIT, o, weft_returned,                  \
			      weft_shared_note(o, PSHARED(pthread_##kind##attr_getpshared, attr), \
					       REAL(pthread_##kind##_init)(o, attr))) \
	}                                                                     \
	WEFT_VISIBLE int pthread_##kind##_destroy(pthread_##kind##_t *o)      \
	{                                                                     \
		WEFT_LIFETIME(KIND##_DESTROY, o, weft_returned,               \
			      REAL(pthread_##kind##_destroy)(o))              \
	}

LIFETIMES(mutex, MUTEX)
LIFETIMES(rwlock, RWLOCK)
LIFETIMES(cond, COND)

WEFT_VISIBLE int pthread_spin_init(pthread_spinlock_t *l, int pshared)
{
	const void *obj = (const void *)l;
	WEFT_LIFETIME(SPIN_INIT, obj, weft_returned,
		      weft_shared_note(obj, pshared == PTHREAD_PROCESS_SHARED,
				       REAL(pthread_spin_init)(l, pshared)))
}

WEFT_VISIBLE int pthread_spin_destroy(pthread_spinlock_t *l)
{
	const void *obj = (const void *)l;
	WEFT_LIFETIME(SPIN_DESTROY, obj, weft_returned, REAL(pthread_spin_destroy)(l))
}

WEFT_VISIBLE int pthread_barrier_destroy(pthread_barrier_t *b)
{
	WEFT_LIFETIME(BARRIER_DESTROY, b, weft_returned, REAL(pthread_barrier_destroy)(b))
}

WEFT_VISIBLE int sem_destroy(sem_t *s)
{
	WEFT_LIFETIME(SEM_DESTROY, s, weft_errno_result, REAL(sem_destroy)(s))
}
