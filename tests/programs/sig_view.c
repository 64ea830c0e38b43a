/*
 * sig_view.c - what a program sees of the dispositions of the signals
 * that kill by default, and that what it sets is what it gets.
 *
 * usage: sig_view
 * stdout: for each signal, its disposition as sigaction() reports it
 * ("default", "ignore" or "handler"); then what signal() returned when the
 * program ignored SIGTERM, and "survived SIGTERM" after raising it; then
 * "caught SIGINT" from the program's own handler.  The output is the same
 * whether or not the program is traced.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

static volatile sig_atomic_t caught;

static void on_int(int sig)
{
	(void)sig;
	caught = 1;
}

static const char *disposition(int sig)
{
	struct sigaction sa;
	if (sigaction(sig, NULL, &sa) != 0)
		return "error";
	if (sa.sa_flags & SA_SIGINFO)
		return "handler";
	if (sa.sa_handler == SIG_DFL)
		return "default";
	if (sa.sa_handler == SIG_IGN)
		return "ignore";
	return "handler";
}

int main(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT,
				    SIGINT, SIGTERM, SIGHUP, SIGPIPE, SIGQUIT };
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
		printf("%s: %s\n", strsignal(sigs[i]), disposition(sigs[i]));
	void (*prev)(int) = signal(SIGTERM, SIG_IGN);
	printf("signal(SIGTERM) returned %s\n", prev == SIG_DFL ? "SIG_DFL" :
	       prev == SIG_IGN ? "SIG_IGN" : "a handler");
	raise(SIGTERM);
	printf("survived SIGTERM; now %s\n", disposition(SIGTERM));
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_int;
	sigaction(SIGINT, &sa, NULL);
	raise(SIGINT);
	printf("%s SIGINT; now %s\n", caught ? "caught" : "missed", disposition(SIGINT));
	return 0;
}
