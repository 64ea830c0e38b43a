/*
 * park.c - keeping weft's own descriptors (the trace file, the control
 * pipe's ends) out of the program's way: each is moved above the range
 * programs commonly use, close-on-exec.
 */
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "weft.h"

/* A close-on-exec copy of fd above the range programs commonly use, or
 * -1. */
int weft_park_fd_copy(int fd)
{
	struct rlimit rl;
	int floor = 512;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > 16 && (rlim_t)floor >= rl.rlim_cur - 8)
		floor = (int)(rl.rlim_cur / 2);
	return (int)syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, floor);
}

/* Moves fd above the range programs commonly use, close-on-exec (weft's
 * descriptors stay out of the program's way). */
int weft_park_fd(int fd)
{
	int high = weft_park_fd_copy(fd);
	if (high < 0)
		return fd;
	syscall(SYS_close, fd);
	return high;
}
