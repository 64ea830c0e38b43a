/*
 * wrap_fd.c - keeping weft's descriptors out of the program's way.
 *
 * weft holds three descriptors for the life of the process (the trace file
 * and the control pipe's two ends), parked high and close-on-exec.  A
 * program that closes every descriptor it did not open (daemons looping
 * close(3..1023), closefrom(3), close_range(3, ~0U, 0)) or duplicates onto
 * a number weft happens to hold must see exactly what it would see without
 * weft, and weft must keep its trace:
 *   - close() of a weft descriptor fails with EBADF (wrap_io.c), as it would
 *     on a number that is not open;
 *   - closefrom() and close_range() close the requested range around
 *     weft's descriptors;
 *   - dup2() and dup3() onto a weft descriptor first move weft's
 *     descriptor to another number, then let the call proceed;
 *   - fcntl(), dup2() and dup3() on a weft descriptor fail with EBADF, so
 *     a program probing which descriptors are open does not find weft's.
 * fcntl() is also where a wait for a record lock (F_SETLKW, F_OFD_SETLKW)
 * is recorded as a blocking call; its other commands return at once.
 * Programs that make the raw system calls themselves, or list
 * /proc/self/fd, still see weft's descriptors.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "real.h"
#include "syscall.h"
#include "weft.h"

WEFT_REAL(fcntl)
WEFT_REAL(fcntl64)
WEFT_REAL(dup2)
WEFT_REAL(dup3)

/* weft's descriptors in increasing order; returns how many. */
static int weft_fds(int out[3])
{
	int fds[3] = { weft_out_fd, -1, -1 };
	weft_channel_fds(&fds[1], &fds[2]);
	int n = 0;
	for (int i = 0; i < 3; i++)
		if (fds[i] >= 0)
			out[n++] = fds[i];
	for (int i = 1; i < n; i++) /* insertion sort of at most 3 */
		for (int j = i; j > 0 && out[j - 1] > out[j]; j--) {
			int tmp = out[j];
			out[j] = out[j - 1];
			out[j - 1] = tmp;
		}
	return n;
}

/* close_range(2) over [first, last] less weft's descriptors. */
static int close_range_around_weft(unsigned first, unsigned last, unsigned flags)
{
	int ours[3];
	int n = weft_fds(ours);
	unsigned from = first;
	for (int i = 0; i < n; i++) {
		unsigned fd = (unsigned)ours[i]; /* < INT_MAX: fd + 1 cannot wrap */
		if (fd < from || fd > last)
			continue;
		if (fd > from && syscall(SYS_close_range, from, fd - 1, flags) != 0)
			return -1;
		from = fd + 1;
	}
	if (from <= last && syscall(SYS_close_range, from, last, flags) != 0)
		return -1;
	return 0;
}

WEFT_VISIBLE int close_range(unsigned first, unsigned last, int flags)
{
	if (first > last) { /* the kernel's answer, unchanged */
		errno = EINVAL;
		return -1;
	}
	return close_range_around_weft(first, last, (unsigned)flags);
}

WEFT_VISIBLE void closefrom(int lowfd)
{
	if (lowfd < 0)
		lowfd = 0;
	close_range_around_weft((unsigned)lowfd, ~0U, 0);
}

static int is_ours(int fd)
{
	return fd >= 0 && (fd == weft_out_fd || weft_channel_fd_is_ours(fd));
}

/* Before newfd is replaced: if weft holds it, weft moves. */
static void vacate(int newfd)
{
	if (newfd < 0)
		return;
	if (newfd == weft_out_fd)
		weft_output_move_fd();
	else
		weft_channel_move_fd(newfd);
}

/* Every fcntl argument is an int or a pointer: passed on as a long.  The
 * commands that wait for a lock are recorded as blocking calls. */
#define WEFT_FCNTL(name)                                                  \
	WEFT_VISIBLE int name(int fd, int cmd, ...)                       \
	{                                                                 \
		va_list ap;                                               \
		va_start(ap, cmd);                                        \
		unsigned long arg = va_arg(ap, unsigned long);            \
		va_end(ap);                                               \
		if (is_ours(fd)) {                                        \
			errno = EBADF;                                    \
			return -1;                                        \
		}                                                         \
		if (cmd == F_SETLKW || cmd == F_OFD_SETLKW) {             \
			WEFT_IO_BODY(int, fcntl, fd, REAL(name)(fd, cmd, arg)) \
		}                                                         \
		return REAL(name)(fd, cmd, arg);                          \
	}

WEFT_FCNTL(fcntl)
WEFT_FCNTL(fcntl64)

WEFT_VISIBLE int dup2(int oldfd, int newfd)
{
	if (is_ours(oldfd)) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd)
		vacate(newfd);
	return REAL(dup2)(oldfd, newfd);
}

WEFT_VISIBLE int dup3(int oldfd, int newfd, int flags)
{
	if (is_ours(oldfd)) {
		errno = EBADF;
		return -1;
	}
	if (oldfd != newfd)
		vacate(newfd);
	return REAL(dup3)(oldfd, newfd, flags);
}
