/*
 * wrap_io.c - system calls that can block: each becomes SYSCALL_BEGIN
 * (syscall id, the descriptor or first argument it waits on) and
 * SYSCALL_END (return value, errno when it failed).  The fortified and
 * 64-bit aliases glibc programs bind to (__read_chk, open64, ...) are
 * wrapped under the id of the call they stand for.
 */
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "real.h"
#include "syscall.h"

/* glibc's fortify entry points, declared by no public header. */
ssize_t __read_chk(int fd, void *buf, size_t n, size_t buflen);
ssize_t __pread_chk(int fd, void *buf, size_t n, off_t off, size_t buflen);
ssize_t __pread64_chk(int fd, void *buf, size_t n, off64_t off, size_t buflen);
ssize_t __recv_chk(int fd, void *buf, size_t n, size_t buflen, int flags);
ssize_t __recvfrom_chk(int fd, void *buf, size_t n, size_t buflen, int flags,
		       struct sockaddr *addr, socklen_t *addrlen);
int __poll_chk(struct pollfd *fds, nfds_t nfds, int timeout, size_t fdslen);
int __ppoll_chk(struct pollfd *fds, nfds_t nfds, const struct timespec *t,
		const sigset_t *mask, size_t fdslen);
int __open_2(const char *path, int flags);
int __open64_2(const char *path, int flags);
int __openat_2(int dirfd, const char *path, int flags);
int __openat64_2(int dirfd, const char *path, int flags);

WEFT_IO(ssize_t, read, read, fd, (int fd, void *b, size_t n), fd, b, n)
WEFT_IO(ssize_t, __read_chk, read, fd, (int fd, void *b, size_t n, size_t bl),
	fd, b, n, bl)
WEFT_IO(ssize_t, write, write, fd, (int fd, const void *b, size_t n), fd, b, n)
WEFT_IO(ssize_t, pread, pread, fd, (int fd, void *b, size_t n, off_t o),
	fd, b, n, o)
WEFT_IO(ssize_t, pread64, pread, fd, (int fd, void *b, size_t n, off64_t o),
	fd, b, n, o)
WEFT_IO(ssize_t, __pread_chk, pread, fd,
	(int fd, void *b, size_t n, off_t o, size_t bl), fd, b, n, o, bl)
WEFT_IO(ssize_t, __pread64_chk, pread, fd,
	(int fd, void *b, size_t n, off64_t o, size_t bl), fd, b, n, o, bl)
WEFT_IO(ssize_t, pwrite, pwrite, fd, (int fd, const void *b, size_t n, off_t o),
	fd, b, n, o)
WEFT_IO(ssize_t, pwrite64, pwrite, fd,
	(int fd, const void *b, size_t n, off64_t o), fd, b, n, o)
WEFT_IO(ssize_t, readv, readv, fd, (int fd, const struct iovec *v, int n),
	fd, v, n)
WEFT_IO(ssize_t, writev, writev, fd, (int fd, const struct iovec *v, int n),
	fd, v, n)
WEFT_IO(ssize_t, recv, recv, fd, (int fd, void *b, size_t n, int f), fd, b, n, f)
WEFT_IO(ssize_t, __recv_chk, recv, fd,
	(int fd, void *b, size_t n, size_t bl, int f), fd, b, n, bl, f)
WEFT_IO(ssize_t, recvfrom, recvfrom, fd,
	(int fd, void *b, size_t n, int f, struct sockaddr *a, socklen_t *al),
	fd, b, n, f, a, al)
WEFT_IO(ssize_t, __recvfrom_chk, recvfrom, fd,
	(int fd, void *b, size_t n, size_t bl, int f, struct sockaddr *a,
	 socklen_t *al), fd, b, n, bl, f, a, al)
WEFT_IO(ssize_t, recvmsg, recvmsg, fd, (int fd, struct msghdr *m, int f),
	fd, m, f)
WEFT_IO(ssize_t, send, send, fd, (int fd, const void *b, size_t n, int f),
	fd, b, n, f)
WEFT_IO(ssize_t, sendto, sendto, fd,
	(int fd, const void *b, size_t n, int f, const struct sockaddr *a,
	 socklen_t al), fd, b, n, f, a, al)
WEFT_IO(ssize_t, sendmsg, sendmsg, fd, (int fd, const struct msghdr *m, int f),
	fd, m, f)
WEFT_IO(int, accept, accept, fd, (int fd, struct sockaddr *a, socklen_t *al),
	fd, a, al)
WEFT_IO(int, accept4, accept4, fd,
	(int fd, struct sockaddr *a, socklen_t *al, int f), fd, a, al, f)
WEFT_IO(int, connect, connect, fd,
	(int fd, const struct sockaddr *a, socklen_t al), fd, a, al)
WEFT_IO(int, poll, poll, n, (struct pollfd *p, nfds_t n, int t), p, n, t)
WEFT_IO(int, __poll_chk, poll, n, (struct pollfd *p, nfds_t n, int t, size_t l),
	p, n, t, l)
WEFT_IO(int, ppoll, ppoll, n,
	(struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *m),
	p, n, t, m)
WEFT_IO(int, __ppoll_chk, ppoll, n,
	(struct pollfd *p, nfds_t n, const struct timespec *t, const sigset_t *m,
	 size_t l), p, n, t, m, l)
WEFT_IO(int, select, select, n,
	(int n, fd_set *r, fd_set *w, fd_set *x, struct timeval *t),
	n, r, w, x, t)
WEFT_IO(int, pselect, pselect, n,
	(int n, fd_set *r, fd_set *w, fd_set *x, const struct timespec *t,
	 const sigset_t *m), n, r, w, x, t, m)
WEFT_IO(int, epoll_wait, epoll_wait, fd,
	(int fd, struct epoll_event *e, int n, int t), fd, e, n, t)
WEFT_IO(int, epoll_pwait, epoll_pwait, fd,
	(int fd, struct epoll_event *e, int n, int t, const sigset_t *m),
	fd, e, n, t, m)
WEFT_IO(int, nanosleep, nanosleep, -1,
	(const struct timespec *req, struct timespec *rem), req, rem)
WEFT_IO(int, usleep, usleep, (int64_t)usec, (useconds_t usec), usec)
WEFT_IO(int, fsync, fsync, fd, (int fd), fd)
WEFT_IO(int, fdatasync, fdatasync, fd, (int fd), fd)
WEFT_IO(pid_t, wait, wait, -1, (int *status), status)
WEFT_IO(pid_t, waitpid, waitpid, pid, (pid_t pid, int *status, int options),
	pid, status, options)
WEFT_IO(int, __open_2, open, -1, (const char *p, int f), p, f)
WEFT_IO(int, __open64_2, open, -1, (const char *p, int f), p, f)
WEFT_IO(int, __openat_2, openat, d, (int d, const char *p, int f), d, p, f)
WEFT_IO(int, __openat64_2, openat, d, (int d, const char *p, int f), d, p, f)

/* Calls that wait for a signal; pause and sigsuspend return only when a
 * handler has run (-1, EINTR). */
WEFT_IO(int, pause, pause, -1, (void))
WEFT_IO(int, sigsuspend, sigsuspend, -1, (const sigset_t *m), m)
WEFT_IO(int, sigwaitinfo, sigwaitinfo, -1, (const sigset_t *s, siginfo_t *i),
	s, i)
WEFT_IO(int, sigtimedwait, sigtimedwait, -1,
	(const sigset_t *s, siginfo_t *i, const struct timespec *t), s, i, t)

/* Waits for a message: System V queues (arg: the queue's id) and POSIX
 * queues (a descriptor); each call is recorded, as read() is, whether or
 * not it was asked not to wait. */
WEFT_IO(ssize_t, msgrcv, msgrcv, q,
	(int q, void *m, size_t n, long type, int f), q, m, n, type, f)
WEFT_IO(int, msgsnd, msgsnd, q, (int q, const void *m, size_t n, int f),
	q, m, n, f)
WEFT_IO(ssize_t, mq_receive, mq_receive, q,
	(mqd_t q, char *m, size_t n, unsigned *prio), q, m, n, prio)
WEFT_IO(int, mq_send, mq_send, q,
	(mqd_t q, const char *m, size_t n, unsigned prio), q, m, n, prio)
WEFT_IO(ssize_t, mq_timedreceive, mq_timedreceive, q,
	(mqd_t q, char *restrict m, size_t n, unsigned *restrict prio,
	 const struct timespec *restrict t), q, m, n, prio, t)
WEFT_IO(int, mq_timedsend, mq_timedsend, q,
	(mqd_t q, const char *m, size_t n, unsigned prio,
	 const struct timespec *t), q, m, n, prio, t)

/* waitid: arg is the awaited process or group id, -1 for any child. */
WEFT_IO(int, waitid, waitid, type == P_ALL ? -1 : (int64_t)id,
	(idtype_t type, id_t id, siginfo_t *info, int options),
	type, id, info, options)

/* epoll_pwait2 is in glibc from 2.35: the wrapper is there when the
 * headers declare it, and passes on to the library's symbol. */
#if __GLIBC_PREREQ(2, 35)
WEFT_IO(int, epoll_pwait2, epoll_pwait2, fd,
	(int fd, struct epoll_event *e, int n, const struct timespec *t,
	 const sigset_t *m), fd, e, n, t, m)
#endif

/* File locks: only the forms that can wait are recorded (flock without
 * LOCK_NB, lockf's F_LOCK); an unlock, a test or a try returns at once
 * and passes straight through.  fcntl's F_SETLKW is in wrap_fd.c. */
WEFT_REAL(flock)
WEFT_VISIBLE int flock(int fd, int op)
{
	if (op & (LOCK_NB | LOCK_UN))
		return REAL(flock)(fd, op);
	WEFT_IO_BODY(int, flock, fd, REAL(flock)(fd, op))
}

#define WEFT_LOCKF(name, off_type)                                            \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE int name(int fd, int cmd, off_type len)                  \
	{                                                                     \
		if (cmd != F_LOCK)                                            \
			return REAL(name)(fd, cmd, len);                      \
		WEFT_IO_BODY(int, lockf, fd, REAL(name)(fd, cmd, len))        \
	}

WEFT_LOCKF(lockf, off_t)
WEFT_LOCKF(lockf64, off64_t)

/* WEFT_IO_RETURNING_ERROR(name, id, arg, params, args...): the wrapper of
 * a call that returns its error number (0 on success) instead of setting
 * errno. */
#define WEFT_IO_RETURNING_ERROR(name, id, arg, params, ...)                   \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE int name params                                          \
	{                                                                     \
		struct weft_thread *self = weft_enter();                      \
		if (!self)                                                    \
			return REAL(name)(__VA_ARGS__);                       \
		int saved = errno;                                            \
		struct weft_state prev = weft_syscall_begin(self, WEFT_SYS_##id,   \
						       (int64_t)(arg));       \
		errno = saved;                                                \
		int r = REAL(name)(__VA_ARGS__);                              \
		int e = errno;                                                \
		weft_syscall_end(self, WEFT_SYS_##id, r, r, prev);                 \
		errno = e;                                                    \
		return r;                                                     \
	}

WEFT_IO_RETURNING_ERROR(clock_nanosleep, clock_nanosleep, clock,
			(clockid_t clock, int flags, const struct timespec *req,
			 struct timespec *rem), clock, flags, req, rem)
WEFT_IO_RETURNING_ERROR(sigwait, sigwait, -1, (const sigset_t *s, int *sig),
			s, sig)

/* sleep cannot fail; it returns the seconds left. */
WEFT_REAL(sleep)
WEFT_VISIBLE unsigned int sleep(unsigned int seconds)
{
	struct weft_thread *self = weft_enter();
	if (!self)
		return REAL(sleep)(seconds);
	int saved = errno;
	struct weft_state prev = weft_syscall_begin(self, WEFT_SYS_sleep, seconds);
	errno = saved;
	unsigned int r = REAL(sleep)(seconds);
	int e = errno;
	weft_syscall_end(self, WEFT_SYS_sleep, r, 0, prev);
	errno = e;
	return r;
}

/* open and openat take a mode only when they may create a file. */
static int takes_mode(int flags)
{
	return (flags & O_CREAT) || (flags & O_TMPFILE) == O_TMPFILE;
}

#define WEFT_UNPAREN(...) __VA_ARGS__

/* WEFT_OPEN(name, id, arg, (leading params), (leading args)): open and
 * openat, whose mode argument is there only when they may create a
 * file. */
#define WEFT_OPEN(name, id, arg, lead_params, lead_args)                      \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE int name(WEFT_UNPAREN lead_params const char *path,      \
			      int flags, ...)                                 \
	{                                                                     \
		mode_t mode = 0;                                              \
		if (takes_mode(flags)) {                                      \
			va_list ap;                                           \
			va_start(ap, flags);                                  \
			mode = va_arg(ap, mode_t);                            \
			va_end(ap);                                           \
		}                                                             \
		WEFT_IO_BODY(int, id, arg,                                    \
			     REAL(name)(WEFT_UNPAREN lead_args path, flags, mode)) \
	}

WEFT_OPEN(open, open, -1, (), ())
WEFT_OPEN(open64, open, -1, (), ())
WEFT_OPEN(openat, openat, dirfd, (int dirfd,), (dirfd,))
WEFT_OPEN(openat64, openat, dirfd, (int dirfd,), (dirfd,))
/* close: the trace file's descriptor is not the program's to close; the
 * program sees EBADF, as it would if weft were not loaded. */
WEFT_REAL(close)
WEFT_VISIBLE int close(int fd)
{
	if ((weft_out_fd >= 0 && fd == weft_out_fd) || weft_channel_fd_is_ours(fd)) {
		errno = EBADF;
		return -1;
	}
	WEFT_IO_BODY(int, close, fd, REAL(close)(fd))
}
