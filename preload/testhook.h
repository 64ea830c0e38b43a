/*
 * testhook.h - points inside an event section where a test build of
 * libweft.so (built with WEFT_TEST_HOOKS, never installed) can park a
 * thread, so that tests can force the interleavings a generation boundary
 * may fall into instead of waiting for them to happen by chance.  In the
 * library users get, every point compiles to nothing.
 */
#ifndef WEFT_TESTHOOK_H
#define WEFT_TESTHOOK_H

enum weft_test_point {
	WEFT_POINT_SEQ = 1,  /* generation read, sequence number not taken */
	WEFT_POINT_CALL = 2, /* a release's event written, real call not made */
	WEFT_POINT_CLOSE = 3, /* about to close the section */
	WEFT_POINT_UNWIND = 4, /* capturing a stack, outside any section */
	WEFT_POINT_STACK_PUBLISH = 5, /* a stack's slot filled, between its two
					 publications (stacks.c) */
};

#ifdef WEFT_TEST_HOOKS
void weft_test_point(enum weft_test_point point, const void *object);
#define WEFT_TEST_POINT(point, object) weft_test_point(point, object)
#else
#define WEFT_TEST_POINT(point, object) ((void)0)
#endif

#endif
