/*
 * control.h - how `weft start|stop PID` talks to libweft.so in a running
 * process: the control signal (WEFT_SIGNAL) and the values a request and
 * its acknowledgement carry.
 *
 * A request is the control signal sent with sigqueue semantics, aimed at
 * the traced process's control thread (named WEFT_CONTROL_THREAD_NAME),
 * whose value is WEFT_REQUEST_MAGIC | op.  The control thread answers the
 * sender with the same signal, value WEFT_ACK_MAGIC | outcome.  A plain
 * delivery of the signal (kill -s SIG PID) toggles tracing.
 */
#ifndef WEFT_CONTROL_H
#define WEFT_CONTROL_H

#include <sys/types.h>

#define WEFT_CONTROL_THREAD_NAME "weft-control"

#define WEFT_REQUEST_MAGIC 0x57520000 /* "WR" */
#define WEFT_ACK_MAGIC     0x57410000 /* "WA" */
#define WEFT_MAGIC_MASK    0xffff0000

enum weft_request {
	WEFT_REQ_START = 1,
	WEFT_REQ_STOP = 2,
	WEFT_REQ_TOGGLE = 3,
};

enum weft_ack {
	WEFT_ACK_STARTED = 1,
	WEFT_ACK_STOPPED = 2,
	WEFT_ACK_ALREADY_STARTED = 3,
	WEFT_ACK_ALREADY_STOPPED = 4,
	WEFT_ACK_FAILED = 5,       /* the trace file cannot be written */
};

/* The default control signal, as WEFT_SIGNAL would name it. */
#define WEFT_DEFAULT_SIGNAL "RTMIN+7"

/* Parses a signal given as a number or a name (USR1, SIGUSR2, RTMIN,
 * RTMIN+3, SIGRTMAX-2, ...).  Only SIGUSR1, SIGUSR2 and the real-time
 * signals are accepted: the others mean something to every program.
 * Returns the signal number, or -1. */
int weft_parse_signal(const char *text);

/* The tid of process pid's weft control thread (the thread named
 * WEFT_CONTROL_THREAD_NAME), found in /proc, or 0. */
pid_t weft_control_thread(pid_t pid);

/* Sends request op to thread tid of process pid with signal sig, as
 * `weft start|stop` do: 0, or -1 with errno set. */
int weft_send_request(pid_t pid, pid_t tid, int sig, int op);

#endif
