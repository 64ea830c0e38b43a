/*
 * blocking_calls.c - one thread after another blocks ~50 ms in a call
 * that waits: flock, lockf F_LOCK, fcntl F_SETLKW, fcntl F_OFD_SETLKW,
 * msgrcv, msgsnd, mq_receive, mq_send, mq_timedreceive, mq_timedsend,
 * waitid and epoll_pwait2.  Each waiter is named after its call (fcntl's
 * OFD wait is "fcntl-ofd") and makes exactly one call that can wait,
 * then the forms of its call that never wait (an unlock, a test, a try).
 * The main thread makes every other side with raw system calls, which a
 * preload does not see: it waits until the waiter is blocked in the
 * kernel, lets 50 ms pass, and releases it.  A record lock is held by a
 * child process made with the raw clone system call, which makes only
 * raw system calls.  At the end the main thread waits in pause() for a
 * 50 ms timer.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <fcntl.h>
#include <mqueue.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/msg.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char lock_path[] = "/tmp/weft-blocking-XXXXXX";
static int lock_fd, msq, epfd, wake_pipe[2];
static mqd_t mq;
static pid_t holder;
static int holder_go[2];

struct msg {
	long type;
	char text[56];
};

/* Raw system calls: nothing the preload sees. */
static void raw_sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	syscall(SYS_nanosleep, &ts, NULL);
}

static void raw_record_lock(int fd, int cmd, short type)
{
	struct flock fl = { .l_type = type, .l_whence = SEEK_SET };
	if (syscall(SYS_fcntl, fd, cmd, &fl) != 0) {
		perror("raw fcntl");
		exit(1);
	}
}

/* A child process, made without fork's handlers, that holds a write lock
 * on lock_fd until it is told to exit (a byte on holder_go). */
static void start_holder(void)
{
	int ready[2];
	if (pipe(ready) != 0 || pipe(holder_go) != 0)
		exit(1);
	long pid = syscall(SYS_clone, SIGCHLD, 0, NULL, NULL, 0);
	if (pid == 0) {
		raw_record_lock(lock_fd, F_SETLK, F_WRLCK);
		char c = 1;
		syscall(SYS_write, ready[1], &c, 1);
		syscall(SYS_read, holder_go[0], &c, 1);
		syscall(SYS_exit_group, 0);
	}
	holder = (pid_t)pid;
	char c;
	if (syscall(SYS_read, ready[0], &c, 1) != 1)
		exit(1);
	syscall(SYS_close, ready[0]);
	syscall(SYS_close, ready[1]);
}

static void stop_holder(void)
{
	char c = 1;
	syscall(SYS_write, holder_go[1], &c, 1);
	syscall(SYS_wait4, holder, NULL, 0, NULL);
	syscall(SYS_close, holder_go[0]);
	syscall(SYS_close, holder_go[1]);
}

/* ---- the waiters ---- */

static void *in_flock(void *arg)
{
	(void)arg;
	int fd = open(lock_path, O_RDWR);
	flock(fd, LOCK_EX);
	flock(fd, LOCK_UN);
	flock(fd, LOCK_SH | LOCK_NB);
	flock(fd, LOCK_UN);
	close(fd);
	return NULL;
}

static void *in_lockf(void *arg)
{
	(void)arg;
	lockf(lock_fd, F_LOCK, 0);
	lockf(lock_fd, F_TEST, 0);
	lockf(lock_fd, F_TLOCK, 0);
	lockf(lock_fd, F_ULOCK, 0);
	return NULL;
}

static void *in_fcntl(void *arg)
{
	(void)arg;
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	fcntl(lock_fd, F_SETLKW, &fl);
	fl.l_type = F_WRLCK;
	fcntl(lock_fd, F_GETLK, &fl);
	fl.l_type = F_UNLCK;
	fcntl(lock_fd, F_SETLK, &fl);
	return NULL;
}

static void *in_fcntl_ofd(void *arg)
{
	(void)arg;
	int fd = open(lock_path, O_RDWR);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	fcntl(fd, F_OFD_SETLKW, &fl);
	fl.l_type = F_UNLCK;
	fcntl(fd, F_OFD_SETLK, &fl);
	close(fd);
	return NULL;
}

static void *in_msgrcv(void *arg)
{
	(void)arg;
	struct msg m;
	msgrcv(msq, &m, sizeof m.text, 0, 0);
	return NULL;
}

static void *in_msgsnd(void *arg)
{
	(void)arg;
	struct msg m = { .type = 1 };
	msgsnd(msq, &m, sizeof m.text, 0);
	return NULL;
}

static void *in_mq_receive(void *arg)
{
	(void)arg;
	char buf[64];
	mq_receive(mq, buf, sizeof buf, NULL);
	return NULL;
}

static void *in_mq_timedreceive(void *arg)
{
	(void)arg;
	char buf[64];
	struct timespec limit;
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 30;
	mq_timedreceive(mq, buf, sizeof buf, NULL, &limit);
	return NULL;
}

static void *in_mq_send(void *arg)
{
	(void)arg;
	mq_send(mq, "full", 4, 0);
	return NULL;
}

static void *in_mq_timedsend(void *arg)
{
	(void)arg;
	struct timespec limit;
	clock_gettime(CLOCK_REALTIME, &limit);
	limit.tv_sec += 30;
	mq_timedsend(mq, "full", 4, 0, &limit);
	return NULL;
}

static void *in_waitid(void *arg)
{
	(void)arg;
	siginfo_t info;
	waitid(P_PID, (id_t)holder, &info, WEXITED);
	return NULL;
}

static void *in_epoll_pwait2(void *arg)
{
	(void)arg;
	struct epoll_event ev;
	struct timespec limit = { 30, 0 };
	epoll_pwait2(epfd, &ev, 1, &limit, NULL);
	return NULL;
}

/* ---- the main thread's side ---- */

/* Whether thread tid is in system call nr. */
static int blocked_in(int tid, long nr)
{
	char path[64], now[64] = { 0 }, want[32];
	snprintf(want, sizeof want, "%ld ", nr);
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	int f = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	long n = syscall(SYS_read, f, now, sizeof now - 1);
	syscall(SYS_close, f);
	return n > 0 && strncmp(now, want, strlen(want)) == 0;
}

struct waiter {
	const char *name;
	void *(*fn)(void *);
	long nr;                 /* the system call it blocks in */
	void (*before)(void);    /* makes the call wait (raw calls) */
	void (*release)(void);   /* ends the wait (raw calls) */
};

static void hold_flock(void)
{
	if (syscall(SYS_flock, lock_fd, LOCK_EX) != 0)
		exit(1);
}

static void drop_flock(void)
{
	syscall(SYS_flock, lock_fd, LOCK_UN);
}

static void hold_ofd(void)
{
	raw_record_lock(lock_fd, F_OFD_SETLK, F_WRLCK);
}

static void drop_ofd(void)
{
	raw_record_lock(lock_fd, F_OFD_SETLK, F_UNLCK);
}

static void send_message(void)
{
	struct msg m = { .type = 1 };
	syscall(SYS_msgsnd, msq, &m, sizeof m.text, 0);
}

static void take_message(void)
{
	struct msg m;
	syscall(SYS_msgrcv, msq, &m, sizeof m.text, 0, 0);
}

static void mq_put(void)
{
	syscall(SYS_mq_timedsend, mq, "x", 1, 0, NULL);
}

static void mq_take(void)
{
	char buf[64];
	syscall(SYS_mq_timedreceive, mq, buf, sizeof buf, NULL, NULL);
}

static void start_exiter(void)
{
	start_holder();
}

static void end_exiter(void)
{
	char c = 1;
	syscall(SYS_write, holder_go[1], &c, 1);
}

static void wake_epoll(void)
{
	char c = 1;
	syscall(SYS_write, wake_pipe[1], &c, 1);
}

static void nothing(void)
{
}

static const struct waiter *current;
static int waiter_tid;

static void *start(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), current->name);
	__atomic_store_n(&waiter_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	return current->fn(NULL);
}

static void on_alarm(int sig)
{
	(void)sig;
}

int main(void)
{
	static const struct waiter waiters[] = {
		{ "flock", in_flock, SYS_flock, hold_flock, drop_flock },
		{ "lockf", in_lockf, SYS_fcntl, start_holder, stop_holder },
		{ "fcntl", in_fcntl, SYS_fcntl, start_holder, stop_holder },
		{ "fcntl-ofd", in_fcntl_ofd, SYS_fcntl, hold_ofd, drop_ofd },
		{ "msgrcv", in_msgrcv, SYS_msgrcv, nothing, send_message },
		{ "msgsnd", in_msgsnd, SYS_msgsnd, send_message, take_message },
		{ "mq_receive", in_mq_receive, SYS_mq_timedreceive, nothing, mq_put },
		{ "mq_timedreceive", in_mq_timedreceive, SYS_mq_timedreceive, nothing, mq_put },
		{ "mq_send", in_mq_send, SYS_mq_timedsend, mq_put, mq_take },
		/* (the queue still holds mq_send's message) */
		{ "mq_timedsend", in_mq_timedsend, SYS_mq_timedsend, nothing, mq_take },
		{ "waitid", in_waitid, SYS_waitid, start_exiter, end_exiter },
		{ "epoll_pwait2", in_epoll_pwait2, SYS_epoll_pwait2, nothing, wake_epoll },
	};
	lock_fd = mkstemp(lock_path);
	msq = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	char mq_name[64];
	snprintf(mq_name, sizeof mq_name, "/weft-blocking-%d", (int)getpid());
	struct mq_attr attr = { .mq_maxmsg = 1, .mq_msgsize = 16 };
	mq = mq_open(mq_name, O_CREAT | O_RDWR, 0600, &attr);
	epfd = epoll_create1(0);
	if (lock_fd < 0 || msq < 0 || mq == (mqd_t)-1 || epfd < 0 || pipe(wake_pipe) != 0) {
		perror("setup");
		return 1;
	}
	/* The message queue holds one message: a second send waits. */
	struct msqid_ds ds;
	msgctl(msq, IPC_STAT, &ds);
	ds.msg_qbytes = sizeof(struct msg) - sizeof(long);
	msgctl(msq, IPC_SET, &ds);
	struct epoll_event ev = { .events = EPOLLIN };
	epoll_ctl(epfd, EPOLL_CTL_ADD, wake_pipe[0], &ev);

	for (size_t i = 0; i < sizeof waiters / sizeof waiters[0]; i++) {
		current = &waiters[i];
		current->before();
		__atomic_store_n(&waiter_tid, 0, __ATOMIC_RELEASE);
		pthread_t th;
		pthread_create(&th, NULL, start, NULL);
		int tid;
		while (!(tid = __atomic_load_n(&waiter_tid, __ATOMIC_ACQUIRE)))
			raw_sleep_ms(1);
		while (!blocked_in(tid, current->nr))
			raw_sleep_ms(1);
		raw_sleep_ms(50);
		current->release();
		pthread_join(th, NULL);
	}
	/* What the waiters left behind. */
	take_message();
	mq_take();

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	struct itimerval fifty = { .it_value = { 0, 50000 } };
	setitimer(ITIMER_REAL, &fifty, NULL);
	pause();

	msgctl(msq, IPC_RMID, NULL);
	mq_unlink(mq_name);
	unlink(lock_path);
	return 0;
}
