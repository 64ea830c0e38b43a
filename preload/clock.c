/*
 * clock.c - the trace clock.
 *
 * Timestamps come from the x86 time-stamp counter when the processor says
 * it is invariant (constant rate, running in every power state): one rdtsc
 * costs a fraction of a clock_gettime call.  Its rate is measured against
 * CLOCK_MONOTONIC for a millisecond at load, and measured again over the
 * whole run whenever a generation opens (each generation's CLOCK record
 * carries the rate).  Elsewhere, or with WEFT_CLOCK=monotonic, timestamps
 * are CLOCK_MONOTONIC nanoseconds.  Event order never depends on the
 * clock: sequence numbers decide it, timestamps only place events in time.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__)
#include <cpuid.h>
#include <x86intrin.h>
#endif

#include "../format/wire.h"
#include "weft.h"

int weft_clock_is_tsc;
static uint64_t frequency = 1000000000u;
static uint64_t calib_ticks, calib_ns; /* a (ticks, ns) pair taken at load */

static uint64_t monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int tsc_is_invariant(void)
{
#if defined(__x86_64__)
	unsigned a, b, c, d;
	if (!__get_cpuid(0x80000000, &a, &b, &c, &d) || a < 0x80000007)
		return 0;
	__get_cpuid(0x80000007, &a, &b, &c, &d);
	return (d >> 8) & 1;
#else
	return 0;
#endif
}

void weft_clock_init(void)
{
	const char *want = getenv("WEFT_CLOCK");
	if (want && strcmp(want, "tsc") && strcmp(want, "monotonic"))
		weft_warn("WEFT_CLOCK=\"%.32s\" is neither tsc nor monotonic; "
			  "choosing for this machine", want);
	if ((want && !strcmp(want, "monotonic")) || !tsc_is_invariant())
		return;
#if defined(__x86_64__)
	uint64_t ns0 = monotonic_ns(), t0 = __rdtsc(), ns1, t1;
	do {
		ns1 = monotonic_ns();
		t1 = __rdtsc();
	} while (ns1 - ns0 < 1000000);
	if (t1 <= t0)
		return;
	frequency = (uint64_t)((double)(t1 - t0) * 1e9 / (double)(ns1 - ns0));
	calib_ticks = t0;
	calib_ns = ns0;
	weft_clock_is_tsc = 1;
#endif
}

uint64_t weft_clock_source(void)
{
	return weft_clock_is_tsc ? WEFT_CLOCK_TSC : WEFT_CLOCK_MONOTONIC;
}

/* Ticks per second, measured over as long a span as the run offers. */
uint64_t weft_clock_frequency(void)
{
#if defined(__x86_64__)
	if (weft_clock_is_tsc) {
		uint64_t ns = monotonic_ns(), t = __rdtsc();
		if (ns - calib_ns > 100000000u && t > calib_ticks)
			frequency = (uint64_t)((double)(t - calib_ticks) * 1e9 /
					       (double)(ns - calib_ns));
	}
#endif
	return frequency;
}

uint64_t weft_now_slow(void)
{
	return monotonic_ns();
}
