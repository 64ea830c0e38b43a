/*
 * testdrive.c - the test build's controls over generations, for test
 * programs (found with dlsym, as those of testhook.c):
 *
 *   weft_test_generation()        the current generation (0: off)
 *   weft_test_rotate()            closes the generation and opens the next
 *                                 (returns once the advance is complete,
 *                                 which waits for parked sections)
 *   weft_test_stop(), weft_test_start()   the same for stop and start
 */
#include "weft.h"

WEFT_VISIBLE unsigned weft_test_generation(void)
{
	return atomic_load(&weft_generation);
}

static void advance(enum weft_advance_op op)
{
	weft_busy++;
	weft_lock(&weft_control_lock);
	weft_advance(op);
	weft_unlock(&weft_control_lock);
	weft_busy--;
}

WEFT_VISIBLE void weft_test_rotate(void)
{
	advance(WEFT_ADVANCE_ROTATE);
}

WEFT_VISIBLE void weft_test_stop(void)
{
	advance(WEFT_ADVANCE_STOP);
}

WEFT_VISIBLE void weft_test_start(void)
{
	advance(WEFT_ADVANCE_START);
}
