/*
 * crash.c - completing the trace when a signal kills the process.
 *
 * For each signal whose default action ends the process (SIGSEGV, SIGABRT,
 * SIGINT, SIGTERM, ...) and that the program left at its default when weft
 * loaded, weft installs a handler that stands in for the default: it has
 * the control thread complete the trace (flush every buffer, GEN_END,
 * TRACE_END), waits for that a bounded time, puts the default action back
 * and re-raises the signal, so the process dies of the same signal with the
 * same status (and core dump) as it would have without weft.
 *
 * The program never sees the stand-in: sigaction() and signal() report the
 * default action for it, and once the program sets an action of its own,
 * that action is installed and weft's handler is gone.  When the program
 * sets the default back (as xz, GNU sort and python3 do before raising the
 * signal again to die of it), weft stands in again.  Signals that were
 * ignored or handled when weft loaded (nohup's SIGHUP, say) are left alone
 * until the program itself sets them to the default.
 * The trace cannot be completed when the process dies of SIGKILL, or of a
 * stack overflow with no alternate signal stack: `weft check` then reports
 * it as truncated.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "weft.h"

WEFT_REAL(sigaction)

static const int fatal_signals[] = {
	SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGTRAP, SIGSYS, SIGQUIT,
	SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGXCPU, SIGXFSZ,
};

/* Per signal: one of fatal_signals that weft may stand in for (not its
 * control signal). */
static _Atomic int covered[_NSIG];
/* Per signal: weft's handler is installed in place of the default. */
static _Atomic int standing_in[_NSIG];
/* The default action as the program last set or read it (its mask and
 * flags are kept so a query gives back what was set). */
static struct sigaction program_default[_NSIG];

/* Longest a dying thread waits for the trace to be completed. */
#define END_TIMEOUT_MS 2000
/* Set once the first fatal signal's trace completion is over. */
static _Atomic int completion_over;
static _Atomic int completion_claimed;

/* A second thread dying meanwhile waits for the first one's completion,
 * so the process does not die half-way through it. */
static void wait_for_completion(void)
{
	struct timespec ms = { 0, 1000000 };
	for (int i = 0; i < END_TIMEOUT_MS + 500 && !atomic_load(&completion_over); i++)
		syscall(SYS_nanosleep, &ms, NULL);
}

static void on_fatal_signal(int sig, siginfo_t *info, void *uctx)
{
	(void)info, (void)uctx;
	int saved = errno;
	struct weft_thread *self = weft_self_tls;
	/* The loader's lock may be held (by this thread or another): the
	 * trace is completed with the modules already known. */
	weft_modules_freeze();
	/* Killed inside an event section: what the section wrote so far is
	 * not counted (its position was not advanced), and the section is
	 * closed so the advancer does not wait for it. */
	if (self && (atomic_load(&self->seqlock) & 1))
		atomic_fetch_add(&self->seqlock, 1);
	if (!atomic_exchange(&completion_claimed, 1)) {
		if (!weft_control_end_and_wait(END_TIMEOUT_MS) && weft_busy == 0)
			weft_end_trace(WEFT_END_FATAL_SIGNAL); /* no control thread */
		atomic_store(&completion_over, 1);
	} else {
		wait_for_completion();
	}
	if (atomic_exchange(&standing_in[sig], 0)) {
		struct sigaction dfl;
		memset(&dfl, 0, sizeof dfl);
		dfl.sa_handler = SIG_DFL;
		REAL(sigaction)(sig, &dfl, NULL);
	}
	/* Pending until the handler returns (the signal is blocked while it
	 * runs); a fault re-executed on return raises it again anyway. */
	syscall(SYS_tgkill, getpid(), weft_gettid(), sig);
	errno = saved;
}

/* Installs weft's handler for sig, whose action the program has as the
 * default; returns 0, or -1 (errno set) when it cannot. */
static int stand_in(int sig)
{
	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_sigaction = on_fatal_signal;
	act.sa_flags = SA_SIGINFO | SA_ONSTACK;
	/* Marked first: a delivery right after the install finds the mark
	 * and puts the default back before raising again. */
	atomic_store(&standing_in[sig], 1);
	if (REAL(sigaction)(sig, &act, NULL) == 0)
		return 0;
	atomic_store(&standing_in[sig], 0);
	return -1;
}

void weft_crash_install(void)
{
	for (size_t i = 0; i < sizeof fatal_signals / sizeof fatal_signals[0]; i++) {
		int sig = fatal_signals[i];
		if (sig == weft_config.signal)
			continue;
		atomic_store(&covered[sig], 1);
		struct sigaction old;
		if (REAL(sigaction)(sig, NULL, &old) != 0 ||
		    (old.sa_flags & SA_SIGINFO) || old.sa_handler != SIG_DFL)
			continue;
		program_default[sig] = old;
		stand_in(sig);
	}
}

int weft_crash_covers(int sig)
{
	return sig > 0 && sig < _NSIG && atomic_load(&covered[sig]);
}

/* sigaction() for a signal weft may stand in for: 1 when handled here (the
 * result in *rc), 0 when the call is not about such a signal. */
int weft_crash_sigaction(int sig, const struct sigaction *act,
			 struct sigaction *old, int *rc)
{
	if (!weft_crash_covers(sig))
		return 0;
	int was_standing_in = atomic_load(&standing_in[sig]);
	int to_default = act && !(act->sa_flags & SA_SIGINFO) &&
			 act->sa_handler == SIG_DFL;
	struct sigaction before;
	if (was_standing_in) {
		before = program_default[sig];
	} else if (REAL(sigaction)(sig, NULL, &before) != 0) {
		*rc = -1;
		return 1;
	}
	*rc = 0;
	if (to_default) {
		program_default[sig] = *act;
		if (!was_standing_in && stand_in(sig) != 0)
			*rc = REAL(sigaction)(sig, act, NULL);
	} else if (act) {
		/* The program takes the signal over. */
		atomic_store(&standing_in[sig], 0);
		*rc = REAL(sigaction)(sig, act, NULL);
	}
	if (*rc == 0 && old)
		*old = before;
	return 1;
}
