/*
 * own_handler.c - a program that uses weft's control signal (RTMIN+7) for
 * itself: it installs a handler, counts what it receives, prints "ready",
 * waits for a line on stdin and prints "handled=N".  Under weft, its
 * handler must still get every plain delivery, and weft start/stop must
 * still work.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static atomic_int handled;

static void on_signal(int sig)
{
	(void)sig;
	atomic_fetch_add(&handled, 1);
}

int main(void)
{
	struct sigaction sa, old;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	if (sigaction(SIGRTMIN + 7, &sa, &old) != 0)
		return 1;
	/* Asking again returns what the program itself installed. */
	struct sigaction now;
	if (sigaction(SIGRTMIN + 7, NULL, &now) != 0 || now.sa_handler != on_signal)
		return 2;
	printf("ready\n");
	fflush(stdout);
	char line[16];
	if (!fgets(line, sizeof line, stdin))
		return 1;
	printf("handled=%d\n", atomic_load(&handled));
	return 0;
}
