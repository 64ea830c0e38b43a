/*
 * channel.c - the control pipe: how the rest of weft hands work to the
 * control thread without calling up into it.
 *
 * Anything may write a request (struct weft_channel_request) into the
 * pipe, from any context, a signal handler included: weft's signal handler
 * (start, stop, toggle), a thread that ends, a thread whose full buffer is
 * queued for writing, a thread dying of a fatal signal.  The control
 * thread (control.c) polls the read end and performs the requests in
 * order.  Whether it is there to listen is a flag here: when it is not,
 * a request that needs it cannot be made, and the caller does the work
 * itself.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "weft.h"

static int ctl_pipe[2] = { -1, -1 };
static _Atomic int listening; /* the control thread runs */

/* Opens the pipe, both ends parked; 0, or -1 with errno set. */
int weft_channel_open(void)
{
	int fds[2];
	if (syscall(SYS_pipe2, fds, O_CLOEXEC | O_NONBLOCK) != 0)
		return -1;
	ctl_pipe[0] = weft_park_fd(fds[0]);
	ctl_pipe[1] = weft_park_fd(fds[1]);
	return 0;
}

/* In a fork child, which has no control thread and shares its parent's
 * pipe: closes both ends. */
void weft_channel_close(void)
{
	if (ctl_pipe[0] >= 0)
		syscall(SYS_close, ctl_pipe[0]);
	if (ctl_pipe[1] >= 0)
		syscall(SYS_close, ctl_pipe[1]);
	ctl_pipe[0] = ctl_pipe[1] = -1;
	atomic_store(&listening, 0);
}

int weft_channel_read_end(void)
{
	return ctl_pipe[0];
}

void weft_channel_send(int op, pid_t sender)
{
	struct weft_channel_request r = { op, sender };
	if (ctl_pipe[1] >= 0)
		syscall(SYS_write, ctl_pipe[1], &r, sizeof r);
}

void weft_channel_set_listening(int on)
{
	atomic_store(&listening, on);
}

int weft_channel_listening(void)
{
	return atomic_load(&listening);
}

/* A buffer was queued for writing: 1 when the control thread will write
 * it (woken if the queue was empty, as it may be asleep), 0 when the
 * caller must write it itself. */
int weft_channel_wake_writer(int queue_was_empty)
{
	if (!atomic_load(&listening))
		return 0;
	if (queue_was_empty)
		weft_channel_send(WEFT_CHANNEL_DRAIN, 0);
	return 1;
}

/* A traced thread has ended: the control thread checks whether it was the
 * program's last. */
void weft_channel_thread_exited(void)
{
	if (atomic_load(&listening))
		weft_channel_send(WEFT_CHANNEL_THREAD_EXITED, 0);
}

int weft_channel_fd_is_ours(int fd)
{
	return fd >= 0 && (fd == ctl_pipe[0] || fd == ctl_pipe[1]);
}

void weft_channel_fds(int *read_end, int *write_end)
{
	*read_end = ctl_pipe[0];
	*write_end = ctl_pipe[1];
}

/* The program is about to reuse fd (dup2 onto it): if it is one end of the
 * pipe, that end moves to another number first.  (The old number stays
 * open until the program's call replaces it, so a request written
 * meanwhile still reaches the pipe.) */
void weft_channel_move_fd(int fd)
{
	for (int i = 0; i < 2; i++) {
		if (fd < 0 || ctl_pipe[i] != fd)
			continue;
		int moved = weft_park_fd_copy(fd);
		if (moved >= 0)
			ctl_pipe[i] = moved;
	}
}
