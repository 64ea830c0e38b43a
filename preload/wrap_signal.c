/*
 * wrap_signal.c - the program's view of the signals weft handles itself:
 * weft's control signal (control.c) and the fatal signals whose default
 * action weft stands in for (crash.c).  For those, sigaction() and
 * signal() show and set the program's own action while weft's handler
 * stays; every other signal passes straight through.
 */
#include <signal.h>
#include <string.h>

#include "real.h"
#include "weft.h"

WEFT_REAL(sigaction)
WEFT_REAL(signal)

WEFT_VISIBLE int sigaction(int sig, const struct sigaction *act,
			   struct sigaction *old)
{
	int rc;
	if (weft_crash_sigaction(sig, act, old, &rc))
		return rc;
	if (!weft_control_covers(sig))
		return REAL(sigaction)(sig, act, old);
	weft_control_sigaction(sig, act, old);
	return 0;
}

WEFT_VISIBLE sighandler_t signal(int sig, sighandler_t handler)
{
	if (!weft_control_covers(sig) && !weft_crash_covers(sig))
		return REAL(signal)(sig, handler);
	/* As glibc's signal(): BSD semantics. */
	struct sigaction act, old;
	memset(&act, 0, sizeof act);
	act.sa_handler = handler;
	act.sa_flags = SA_RESTART;
	sigaddset(&act.sa_mask, sig);
	if (sigaction(sig, &act, &old) != 0)
		return SIG_ERR;
	return (old.sa_flags & SA_SIGINFO) ? (sighandler_t)(void *)old.sa_sigaction
					   : old.sa_handler;
}
