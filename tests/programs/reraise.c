/*
 * reraise.c - dies of a signal the way xz, GNU sort and python3 do: it
 * installs its own handler for SIGINT, SIGTERM and SIGHUP, and when one
 * arrives it cleans up, sets the signal back to its default action and
 * raises it again.
 *
 * usage: reraise main|handler
 *   main     the handler only notes the signal; the main thread then does
 *            more work, restores the default with sigaction() and raises
 *            the signal (xz, python3)
 *   handler  the handler itself calls signal(sig, SIG_DFL) and raise()
 *            (GNU sort)
 * A second thread does 1,000 lock/unlock pairs and is joined before
 * "ready" is printed on stdout; the program then waits for a signal.
 * Before raising, it prints the disposition sigaction() reports
 * ("default" or "other"); it prints nothing else and exits 99 if it
 * survives its own signal.
 */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const int caught[] = { SIGINT, SIGTERM, SIGHUP };
static volatile sig_atomic_t exit_signal;
static int in_handler_mode;
static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;

static void lock_a_while(void)
{
	for (int i = 0; i < 1000; i++) {
		pthread_mutex_lock(&m);
		pthread_mutex_unlock(&m);
	}
}

static void *worker(void *arg)
{
	(void)arg;
	lock_a_while();
	return NULL;
}

static void print_disposition(int sig)
{
	struct sigaction now;
	sigaction(sig, NULL, &now);
	const char *what = !(now.sa_flags & SA_SIGINFO) && now.sa_handler == SIG_DFL
				   ? "default\n" : "other\n";
	write(1, what, strlen(what));
}

static void on_signal(int sig)
{
	exit_signal = sig;
	if (in_handler_mode) {
		signal(sig, SIG_DFL);
		print_disposition(sig);
		raise(sig);
	}
}

int main(int argc, char **argv)
{
	if (argc != 2 || (strcmp(argv[1], "main") && strcmp(argv[1], "handler")))
		return 2;
	in_handler_mode = !strcmp(argv[1], "handler");
	sigset_t block, old;
	sigemptyset(&block);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigfillset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof caught / sizeof caught[0]; i++) {
		sigaction(caught[i], &sa, NULL);
		sigaddset(&block, caught[i]);
	}
	pthread_t t;
	pthread_create(&t, NULL, worker, NULL);
	pthread_join(t, NULL);
	/* Blocked until sigsuspend, so a signal cannot slip in before it. */
	sigprocmask(SIG_BLOCK, &block, &old);
	printf("ready\n");
	fflush(stdout);
	while (!exit_signal)
		sigsuspend(&old);
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* The "handler" mode has died by now. */
	lock_a_while();
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigfillset(&sa.sa_mask);
	sigaction(exit_signal, &sa, NULL);
	print_disposition(exit_signal);
	raise(exit_signal);
	return 99;
}
