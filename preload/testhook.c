/*
 * testhook.c - the test build's side of testhook.h: a thread can be parked
 * at a point of its event section, and a test program arms and releases
 * the points through the functions below (found with dlsym, so the
 * program also runs without them; testdrive.c has the test build's
 * controls over generations).
 *
 *   weft_test_arm(point, object, tid)
 *                                 park the next thread that reaches point
 *                                 for object (NULL: any object; at
 *                                 WEFT_POINT_CLOSE, the object whose
 *                                 number the section took), when its
 *                                 kernel thread id is tid (0: any thread)
 *   weft_test_parked()            1 once a thread is parked
 *   weft_test_release()           lets it go on
 *
 * Parking spins with raw system calls: a parked thread is inside weft's
 * own code, and nothing it does may reach a wrapper.
 */
#include <sched.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "testhook.h"
#include "weft.h"

static _Atomic int armed_point;
static const void *_Atomic armed_object;
static _Atomic int armed_tid;
static _Atomic int parked, released;
static __thread const void *section_object
	__attribute__((tls_model("initial-exec")));

void weft_test_point(enum weft_test_point point, const void *object)
{
	if (point == WEFT_POINT_SEQ)
		section_object = object;
	if (point == WEFT_POINT_CLOSE) {
		object = section_object;
		section_object = NULL;
	}
	if (atomic_load(&armed_point) != (int)point)
		return;
	const void *want = atomic_load(&armed_object);
	if (want && want != object)
		return;
	int tid = atomic_load(&armed_tid);
	if (tid && tid != weft_gettid())
		return;
	int expected = (int)point;
	if (!atomic_compare_exchange_strong(&armed_point, &expected, 0))
		return;
	atomic_store(&parked, 1);
	while (!atomic_load(&released)) {
		struct timespec ms = { 0, 1000000 };
		syscall(SYS_nanosleep, &ms, NULL);
	}
	atomic_store(&released, 0);
	atomic_store(&parked, 0);
}

WEFT_VISIBLE void weft_test_arm(int point, const void *object, int tid)
{
	atomic_store(&armed_object, object);
	atomic_store(&armed_tid, tid);
	atomic_store(&armed_point, point);
}

WEFT_VISIBLE int weft_test_parked(void)
{
	return atomic_load(&parked);
}

WEFT_VISIBLE void weft_test_release(void)
{
	atomic_store(&released, 1);
}
