/*
 * record_signals.c - `weft record` passes the signals that end a job on
 * to the command it runs, as a shell does for its foreground job, and
 * waits for the command to end (so it never leaves the command running
 * on its own, or its temporary files behind).
 *
 * SIGINT, SIGQUIT, SIGTERM and SIGHUP sent to weft record by a process
 * (kill, timeout, a service manager) are sent on to the command.  Those the
 * terminal sends (Ctrl-C, Ctrl-\, a hang-up: si_code SI_KERNEL) went to
 * the whole foreground process group, the command included, and are not
 * sent twice.  A signal ignored when weft record started (nohup's SIGHUP)
 * stays ignored, in weft record and in the command.
 */
#include "record_signals.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

static const int forwarded[] = { SIGINT, SIGQUIT, SIGTERM, SIGHUP };
#define N_FORWARDED (sizeof forwarded / sizeof forwarded[0])

static struct sigaction original[N_FORWARDED];
static sigset_t original_mask;
/* The command, while it runs. */
static volatile sig_atomic_t command_pid;

static void forward(int sig, siginfo_t *info, void *uctx)
{
	(void)uctx;
	if (info->si_code == SI_KERNEL || command_pid <= 0)
		return;
	int saved = errno;
	kill((pid_t)command_pid, sig);
	errno = saved;
}

static void block_forwarded(sigset_t *old)
{
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaddset(&set, forwarded[i]);
	sigprocmask(SIG_BLOCK, &set, old);
}

void weft_forward_prepare(void)
{
	block_forwarded(&original_mask);
	struct sigaction act;
	memset(&act, 0, sizeof act);
	act.sa_sigaction = forward;
	act.sa_flags = SA_SIGINFO | SA_RESTART;
	sigfillset(&act.sa_mask);
	for (size_t i = 0; i < N_FORWARDED; i++) {
		sigaction(forwarded[i], NULL, &original[i]);
		if ((original[i].sa_flags & SA_SIGINFO) ||
		    original[i].sa_handler != SIG_IGN)
			sigaction(forwarded[i], &act, NULL);
	}
}

void weft_forward_to(pid_t pid)
{
	command_pid = pid;
	sigprocmask(SIG_SETMASK, &original_mask, NULL);
}

void weft_forward_stop(void)
{
	block_forwarded(NULL);
	command_pid = 0;
}

void weft_forward_restore(void)
{
	for (size_t i = 0; i < N_FORWARDED; i++)
		sigaction(forwarded[i], &original[i], NULL);
	sigprocmask(SIG_SETMASK, &original_mask, NULL);
}
