/*
 * sync_zoo.c - calls every pthread / blocking-call entry point weft wraps,
 * once or a few times each, checking every return value:
 *
 *   mutex    lock, trylock (ok and EBUSY), timedlock (ok and ETIMEDOUT),
 *            clocklock, a lock that (almost surely) blocks, unlock
 *   rwlock   rdlock, wrlock, tryrdlock, trywrlock (ok and EBUSY),
 *            timedrdlock (ok and ETIMEDOUT), timedwrlock, clockrdlock,
 *            clockwrlock, an rdlock that (almost surely) blocks, unlock
 *   cond     wait (woken by signal), timedwait and clockwait (ETIMEDOUT),
 *            signal, broadcast (waking 2 waiters)
 *   barrier  3 threads, exactly one PTHREAD_BARRIER_SERIAL_THREAD
 *   spin     lock, trylock (EBUSY and ok), unlock
 *   sem      post, wait (also one woken by another thread), trywait (ok and
 *            EAGAIN), timedwait and clockwait (ok and ETIMEDOUT)
 *   threads  create, join, tryjoin_np (EBUSY then ok), timedjoin_np
 *            (ETIMEDOUT then ok), detach, setname_np, pthread_exit(value)
 *   file     open, openat, read, write, pread, pwrite, readv, writev, fsync,
 *            fdatasync, close (on a temp file in /tmp, unlinked at the end)
 *   sockets  send/recv, sendto/recvfrom, sendmsg/recvmsg over a datagram
 *            socketpair; connect + accept, connect + accept4 on an abstract
 *            unix stream socket
 *   polling  poll (timeout and ready), ppoll, select, pselect, epoll_wait,
 *            epoll_pwait, each with a 5 ms timeout
 *   sleeping nanosleep, clock_nanosleep (relative and absolute), usleep,
 *            sleep(0)
 *   procs    fork + wait (child exits 7), fork + waitpid (child exits 9),
 *            fork + waitid (child exits 11)
 *   signals  pause (woken by a handled signal), sigsuspend, sigwait,
 *            sigwaitinfo and sigtimedwait (each on a signal already
 *            pending)
 *   locks    flock, lockf F_LOCK, fcntl F_SETLKW on a temp file (none
 *            contended), each unlocked again
 *   queues   msgsnd/msgrcv on a System V queue; mq_send, mq_receive,
 *            mq_timedsend, mq_timedreceive on a POSIX one
 *   stdio    on an unbuffered stream (so every call reaches the file):
 *            fputc, fputs, fwrite, fprintf, then fgetc, fgets, getline,
 *            fread, fflush(NULL), fclose
 *
 * A trace must hold at least one record of every kind those calls produce,
 * with the results listed above (the EBUSY / ETIMEDOUT / EAGAIN failures
 * included), thread names "zoo-main" and "zoo-named", and two FORK records
 * whose children are waited for.
 *
 * stdout: "sync_zoo ok", exit 0.  On any misbehaving call a message goes to
 * stderr and the exit status is 1.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <poll.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/file.h>
#include <sys/msg.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- checking helpers ---------------------------------------------------- */

static void die(const char *what, long got, long want, int err)
{
	fprintf(stderr, "sync_zoo: %s: got %ld, want %ld (errno %d: %s)\n",
		what, got, want, err, strerror(err));
	exit(1);
}

/* For calls returning 0 or an error number (pthread_*). */
#define EXPECT(call, want)                                              \
	do {                                                            \
		long got_ = (long)(call);                               \
		if (got_ != (long)(want))                               \
			die(#call, got_, (long)(want), (int)got_);      \
	} while (0)

/* For calls returning a value >= 0, or -1 with errno. */
#define EXPECT_RET(call, want)                                          \
	do {                                                            \
		errno = 0;                                              \
		long got_ = (long)(call);                               \
		if (got_ != (long)(want))                               \
			die(#call, got_, (long)(want), errno);          \
	} while (0)

#define EXPECT_ERRNO(call, want_errno)                                  \
	do {                                                            \
		errno = 0;                                              \
		long got_ = (long)(call);                               \
		int e_ = errno;                                         \
		if (got_ != -1 || e_ != (want_errno))                   \
			die(#call " (errno)", e_, (want_errno), e_);    \
	} while (0)

static int check_fd(int fd, const char *what)
{
	if (fd < 0)
		die(what, fd, 0, errno);
	return fd;
}

static struct timespec after_ms(clockid_t clk, long ms)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	ts.tv_nsec += (ms % 1000) * 1000000L;
	ts.tv_sec += ms / 1000 + ts.tv_nsec / 1000000000L;
	ts.tv_nsec %= 1000000000L;
	return ts;
}

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

/* ---- mutexes ------------------------------------------------------------- */

static pthread_mutex_t zm = PTHREAD_MUTEX_INITIALIZER;
static sem_t holder_has_it, holder_may_go;

static void *mutex_holder(void *arg)
{
	(void)arg;
	EXPECT(pthread_mutex_lock(&zm), 0);
	EXPECT_RET(sem_post(&holder_has_it), 0);
	EXPECT_RET(sem_wait(&holder_may_go), 0);
	sleep_ms(20);   /* main is most likely blocked in lock by now */
	EXPECT(pthread_mutex_unlock(&zm), 0);
	return NULL;
}

static void zoo_mutex(void)
{
	pthread_t t;
	struct timespec ts;

	EXPECT(pthread_mutex_lock(&zm), 0);
	EXPECT(pthread_mutex_trylock(&zm), EBUSY);    /* held by us */
	EXPECT(pthread_mutex_unlock(&zm), 0);

	EXPECT(pthread_mutex_trylock(&zm), 0);
	EXPECT(pthread_mutex_unlock(&zm), 0);

	ts = after_ms(CLOCK_REALTIME, 1000);
	EXPECT(pthread_mutex_timedlock(&zm, &ts), 0);
	EXPECT(pthread_mutex_unlock(&zm), 0);

	ts = after_ms(CLOCK_MONOTONIC, 1000);
	EXPECT(pthread_mutex_clocklock(&zm, CLOCK_MONOTONIC, &ts), 0);
	EXPECT(pthread_mutex_unlock(&zm), 0);

	/* Another thread holds it until main lets it go. */
	EXPECT_RET(sem_init(&holder_has_it, 0, 0), 0);
	EXPECT_RET(sem_init(&holder_may_go, 0, 0), 0);
	EXPECT(pthread_create(&t, NULL, mutex_holder, NULL), 0);
	EXPECT_RET(sem_wait(&holder_has_it), 0);
	EXPECT(pthread_mutex_trylock(&zm), EBUSY);
	ts = after_ms(CLOCK_REALTIME, 5);
	EXPECT(pthread_mutex_timedlock(&zm, &ts), ETIMEDOUT);
	EXPECT_RET(sem_post(&holder_may_go), 0);
	EXPECT(pthread_mutex_lock(&zm), 0);            /* blocks until the holder lets go */
	EXPECT(pthread_mutex_unlock(&zm), 0);
	EXPECT(pthread_join(t, NULL), 0);
	EXPECT_RET(sem_destroy(&holder_has_it), 0);
	EXPECT_RET(sem_destroy(&holder_may_go), 0);
}

/* ---- rwlocks ------------------------------------------------------------- */

static pthread_rwlock_t zrw = PTHREAD_RWLOCK_INITIALIZER;

static void *rw_writer(void *arg)
{
	(void)arg;
	EXPECT(pthread_rwlock_wrlock(&zrw), 0);
	EXPECT_RET(sem_post(&holder_has_it), 0);
	EXPECT_RET(sem_wait(&holder_may_go), 0);
	sleep_ms(20);   /* main is most likely blocked in rdlock by now */
	EXPECT(pthread_rwlock_unlock(&zrw), 0);
	return NULL;
}

static void zoo_rwlock(void)
{
	pthread_t t;
	struct timespec ts;

	EXPECT(pthread_rwlock_rdlock(&zrw), 0);
	EXPECT(pthread_rwlock_rdlock(&zrw), 0);        /* recursive read */
	EXPECT(pthread_rwlock_trywrlock(&zrw), EBUSY);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);

	EXPECT(pthread_rwlock_wrlock(&zrw), 0);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);

	EXPECT(pthread_rwlock_tryrdlock(&zrw), 0);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);
	EXPECT(pthread_rwlock_trywrlock(&zrw), 0);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);

	ts = after_ms(CLOCK_REALTIME, 1000);
	EXPECT(pthread_rwlock_timedrdlock(&zrw, &ts), 0);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);
	EXPECT(pthread_rwlock_timedwrlock(&zrw, &ts), 0);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);

	ts = after_ms(CLOCK_MONOTONIC, 1000);
	EXPECT(pthread_rwlock_clockrdlock(&zrw, CLOCK_MONOTONIC, &ts), 0);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);
	EXPECT(pthread_rwlock_clockwrlock(&zrw, CLOCK_MONOTONIC, &ts), 0);
	EXPECT(pthread_rwlock_unlock(&zrw), 0);

	/* Another thread write-holds it until main lets it go. */
	EXPECT_RET(sem_init(&holder_has_it, 0, 0), 0);
	EXPECT_RET(sem_init(&holder_may_go, 0, 0), 0);
	EXPECT(pthread_create(&t, NULL, rw_writer, NULL), 0);
	EXPECT_RET(sem_wait(&holder_has_it), 0);
	EXPECT(pthread_rwlock_tryrdlock(&zrw), EBUSY);
	ts = after_ms(CLOCK_REALTIME, 5);
	EXPECT(pthread_rwlock_timedrdlock(&zrw, &ts), ETIMEDOUT);
	EXPECT_RET(sem_post(&holder_may_go), 0);
	EXPECT(pthread_rwlock_rdlock(&zrw), 0);        /* blocks until the holder lets go */
	EXPECT(pthread_rwlock_unlock(&zrw), 0);
	EXPECT(pthread_join(t, NULL), 0);
	EXPECT_RET(sem_destroy(&holder_has_it), 0);
	EXPECT_RET(sem_destroy(&holder_may_go), 0);
}

/* ---- condition variables ------------------------------------------------- */

static pthread_mutex_t cm = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static pthread_cond_t cv_here = PTHREAD_COND_INITIALIZER;   /* waiter -> main */
static int cv_flag, cv_waiting, cv_go;

static void *cv_signaller(void *arg)
{
	(void)arg;
	sleep_ms(10);
	EXPECT(pthread_mutex_lock(&cm), 0);
	cv_flag = 1;
	EXPECT(pthread_cond_signal(&cv), 0);
	EXPECT(pthread_mutex_unlock(&cm), 0);
	return NULL;
}

static void *cv_waiter(void *arg)
{
	(void)arg;
	EXPECT(pthread_mutex_lock(&cm), 0);
	cv_waiting++;
	EXPECT(pthread_cond_signal(&cv_here), 0);      /* tell main we're here */
	while (!cv_go)
		EXPECT(pthread_cond_wait(&cv, &cm), 0);
	EXPECT(pthread_mutex_unlock(&cm), 0);
	return NULL;
}

static void zoo_cond(void)
{
	pthread_t t, w[2];
	struct timespec ts;

	/* Nobody waiting yet. */
	EXPECT(pthread_cond_signal(&cv), 0);
	EXPECT(pthread_cond_broadcast(&cv), 0);

	EXPECT(pthread_mutex_lock(&cm), 0);
	ts = after_ms(CLOCK_REALTIME, 5);
	EXPECT(pthread_cond_timedwait(&cv, &cm, &ts), ETIMEDOUT);
	ts = after_ms(CLOCK_MONOTONIC, 5);
	EXPECT(pthread_cond_clockwait(&cv, &cm, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
	EXPECT(pthread_mutex_unlock(&cm), 0);

	/* wait, woken by a signal from another thread */
	EXPECT(pthread_create(&t, NULL, cv_signaller, NULL), 0);
	EXPECT(pthread_mutex_lock(&cm), 0);
	while (!cv_flag)
		EXPECT(pthread_cond_wait(&cv, &cm), 0);
	EXPECT(pthread_mutex_unlock(&cm), 0);
	EXPECT(pthread_join(t, NULL), 0);

	/* broadcast waking two waiters */
	for (int i = 0; i < 2; i++)
		EXPECT(pthread_create(&w[i], NULL, cv_waiter, NULL), 0);
	EXPECT(pthread_mutex_lock(&cm), 0);
	while (cv_waiting < 2)
		EXPECT(pthread_cond_wait(&cv_here, &cm), 0);
	cv_go = 1;
	EXPECT(pthread_cond_broadcast(&cv), 0);
	EXPECT(pthread_mutex_unlock(&cm), 0);
	for (int i = 0; i < 2; i++)
		EXPECT(pthread_join(w[i], NULL), 0);
}

/* ---- barrier ------------------------------------------------------------- */

static pthread_barrier_t zb;
static atomic_int serial_count;

static void *barrier_member(void *arg)
{
	(void)arg;
	int rc = pthread_barrier_wait(&zb);
	if (rc == PTHREAD_BARRIER_SERIAL_THREAD)
		atomic_fetch_add(&serial_count, 1);
	else if (rc != 0)
		die("pthread_barrier_wait", rc, 0, rc);
	return NULL;
}

static void zoo_barrier(void)
{
	pthread_t t[2];

	EXPECT(pthread_barrier_init(&zb, NULL, 3), 0);
	for (int i = 0; i < 2; i++)
		EXPECT(pthread_create(&t[i], NULL, barrier_member, NULL), 0);
	barrier_member(NULL);
	for (int i = 0; i < 2; i++)
		EXPECT(pthread_join(t[i], NULL), 0);
	if (atomic_load(&serial_count) != 1)
		die("barrier serial count", atomic_load(&serial_count), 1, 0);
	EXPECT(pthread_barrier_destroy(&zb), 0);
}

/* ---- spin locks ---------------------------------------------------------- */

static void zoo_spin(void)
{
	pthread_spinlock_t s;

	EXPECT(pthread_spin_init(&s, PTHREAD_PROCESS_PRIVATE), 0);
	EXPECT(pthread_spin_lock(&s), 0);
	EXPECT(pthread_spin_trylock(&s), EBUSY);
	EXPECT(pthread_spin_unlock(&s), 0);
	EXPECT(pthread_spin_trylock(&s), 0);
	EXPECT(pthread_spin_unlock(&s), 0);
	EXPECT(pthread_spin_destroy(&s), 0);
}

/* ---- semaphores ---------------------------------------------------------- */

static sem_t zs;

static void *sem_poster(void *arg)
{
	(void)arg;
	sleep_ms(10);
	EXPECT_RET(sem_post(&zs), 0);
	return NULL;
}

static void zoo_sem(void)
{
	pthread_t t;
	struct timespec ts;

	EXPECT_RET(sem_init(&zs, 0, 0), 0);
	EXPECT_RET(sem_post(&zs), 0);
	EXPECT_RET(sem_wait(&zs), 0);
	EXPECT_ERRNO(sem_trywait(&zs), EAGAIN);
	EXPECT_RET(sem_post(&zs), 0);
	EXPECT_RET(sem_trywait(&zs), 0);

	ts = after_ms(CLOCK_REALTIME, 5);
	EXPECT_ERRNO(sem_timedwait(&zs, &ts), ETIMEDOUT);
	EXPECT_RET(sem_post(&zs), 0);
	ts = after_ms(CLOCK_REALTIME, 1000);
	EXPECT_RET(sem_timedwait(&zs, &ts), 0);

	ts = after_ms(CLOCK_MONOTONIC, 5);
	EXPECT_ERRNO(sem_clockwait(&zs, CLOCK_MONOTONIC, &ts), ETIMEDOUT);
	EXPECT_RET(sem_post(&zs), 0);
	ts = after_ms(CLOCK_MONOTONIC, 1000);
	EXPECT_RET(sem_clockwait(&zs, CLOCK_MONOTONIC, &ts), 0);

	/* a wait that blocks until another thread posts */
	EXPECT(pthread_create(&t, NULL, sem_poster, NULL), 0);
	EXPECT_RET(sem_wait(&zs), 0);
	EXPECT(pthread_join(t, NULL), 0);
	EXPECT_RET(sem_destroy(&zs), 0);
}

/* ---- thread lifecycle ---------------------------------------------------- */

static sem_t release, detached_done;

static void *wait_release(void *arg)
{
	while (sem_wait(&release) != 0)
		;
	return arg;
}

static void *exits_early(void *arg)
{
	pthread_exit(arg);   /* never returns */
}

static void *detached_fn(void *arg)
{
	(void)arg;
	EXPECT_RET(sem_post(&detached_done), 0);
	return NULL;
}

static void zoo_threads(void)
{
	pthread_t t;
	void *ret;
	struct timespec ts;
	char name[16];
	int rc, tries;

	EXPECT(pthread_setname_np(pthread_self(), "zoo-main"), 0);
	EXPECT_RET(sem_init(&release, 0, 0), 0);
	EXPECT_RET(sem_init(&detached_done, 0, 0), 0);

	/* create + join, thread named from outside */
	EXPECT(pthread_create(&t, NULL, wait_release, (void *)0x11), 0);
	EXPECT(pthread_setname_np(t, "zoo-named"), 0);
	EXPECT(pthread_getname_np(t, name, sizeof name), 0);
	if (strcmp(name, "zoo-named") != 0)
		die("pthread_getname_np", 0, 1, 0);
	EXPECT_RET(sem_post(&release), 0);
	EXPECT(pthread_join(t, &ret), 0);
	if (ret != (void *)0x11)
		die("join value", (long)ret, 0x11, 0);

	/* tryjoin_np: EBUSY while running, then 0 */
	EXPECT(pthread_create(&t, NULL, wait_release, (void *)0x22), 0);
	EXPECT(pthread_tryjoin_np(t, &ret), EBUSY);
	EXPECT_RET(sem_post(&release), 0);
	for (tries = 0; tries < 2000; tries++) {
		rc = pthread_tryjoin_np(t, &ret);
		if (rc != EBUSY)
			break;
		sleep_ms(1);
	}
	if (rc != 0 || ret != (void *)0x22)
		die("pthread_tryjoin_np (finished)", rc, 0, rc);

	/* timedjoin_np: ETIMEDOUT while running, then 0 */
	EXPECT(pthread_create(&t, NULL, wait_release, (void *)0x33), 0);
	ts = after_ms(CLOCK_REALTIME, 5);
	EXPECT(pthread_timedjoin_np(t, &ret, &ts), ETIMEDOUT);
	EXPECT_RET(sem_post(&release), 0);
	ts = after_ms(CLOCK_REALTIME, 5000);
	EXPECT(pthread_timedjoin_np(t, &ret, &ts), 0);
	if (ret != (void *)0x33)
		die("timedjoin value", (long)ret, 0x33, 0);

	/* pthread_exit from a thread, value seen by join */
	EXPECT(pthread_create(&t, NULL, exits_early, (void *)0x44), 0);
	EXPECT(pthread_join(t, &ret), 0);
	if (ret != (void *)0x44)
		die("pthread_exit value", (long)ret, 0x44, 0);

	/* detach */
	EXPECT(pthread_create(&t, NULL, detached_fn, NULL), 0);
	EXPECT(pthread_detach(t), 0);
	EXPECT_RET(sem_wait(&detached_done), 0);

	EXPECT_RET(sem_destroy(&release), 0);
	/* detached_done is left alone: the detached thread may still be
	 * returning from sem_post. */
}

/* ---- file I/O ------------------------------------------------------------ */

static void zoo_file(void)
{
	char path[64], name[48], buf[32], a[8], b[8];
	struct iovec iov[2];
	int fd, dfd;

	snprintf(name, sizeof name, "weft-sync-zoo-%d.tmp", (int)getpid());
	snprintf(path, sizeof path, "/tmp/%s", name);

	fd = check_fd(open(path, O_RDWR | O_CREAT | O_TRUNC, 0600), "open");
	EXPECT_RET(write(fd, "AAAAAAAA", 8), 8);
	EXPECT_RET(pwrite(fd, "BBBBBBBB", 8, 8), 8);
	EXPECT_RET(lseek(fd, 16, SEEK_SET), 16);
	iov[0].iov_base = "CCCCCCCC";
	iov[0].iov_len = 8;
	iov[1].iov_base = "DDDDDDDD";
	iov[1].iov_len = 8;
	EXPECT_RET(writev(fd, iov, 2), 16);
	EXPECT_RET(fsync(fd), 0);
	EXPECT_RET(fdatasync(fd), 0);

	EXPECT_RET(lseek(fd, 0, SEEK_SET), 0);
	EXPECT_RET(read(fd, buf, 8), 8);
	if (memcmp(buf, "AAAAAAAA", 8) != 0)
		die("read content", 0, 1, 0);
	EXPECT_RET(pread(fd, buf, 8, 24), 8);
	if (memcmp(buf, "DDDDDDDD", 8) != 0)
		die("pread content", 0, 1, 0);
	iov[0].iov_base = a;
	iov[0].iov_len = sizeof a;
	iov[1].iov_base = b;
	iov[1].iov_len = sizeof b;
	EXPECT_RET(readv(fd, iov, 2), 16);   /* offset 8: B..., C... */
	if (memcmp(a, "BBBBBBBB", 8) != 0 || memcmp(b, "CCCCCCCC", 8) != 0)
		die("readv content", 0, 1, 0);
	EXPECT_RET(read(fd, buf, sizeof buf), 8);
	EXPECT_RET(read(fd, buf, sizeof buf), 0);   /* EOF */
	EXPECT_RET(close(fd), 0);

	fd = check_fd(openat(AT_FDCWD, path, O_RDONLY), "openat AT_FDCWD");
	EXPECT_RET(close(fd), 0);
	dfd = check_fd(open("/tmp", O_RDONLY | O_DIRECTORY), "open /tmp");
	fd = check_fd(openat(dfd, name, O_RDONLY), "openat dirfd");
	EXPECT_RET(read(fd, buf, 4), 4);
	EXPECT_RET(close(fd), 0);
	EXPECT_RET(close(dfd), 0);
	EXPECT_RET(unlink(path), 0);
	EXPECT_ERRNO(open(path, O_RDONLY), ENOENT);
}

/* ---- sockets ------------------------------------------------------------- */

static void zoo_sockets(void)
{
	int sv[2], lfd, c1, c2, a1, a2;
	char buf[32];
	struct iovec iov[2];
	struct msghdr msg;
	struct sockaddr_un addr;
	socklen_t alen;
	char hdr[4], body[8];

	EXPECT_RET(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);

	EXPECT_RET(send(sv[0], "send", 4, 0), 4);
	EXPECT_RET(recv(sv[1], buf, sizeof buf, 0), 4);
	if (memcmp(buf, "send", 4) != 0)
		die("recv content", 0, 1, 0);

	EXPECT_RET(sendto(sv[1], "sendto", 6, 0, NULL, 0), 6);
	EXPECT_RET(recvfrom(sv[0], buf, sizeof buf, 0, NULL, NULL), 6);
	if (memcmp(buf, "sendto", 6) != 0)
		die("recvfrom content", 0, 1, 0);

	memset(&msg, 0, sizeof msg);
	iov[0].iov_base = "hdr:";
	iov[0].iov_len = 4;
	iov[1].iov_base = "sendmsg!";
	iov[1].iov_len = 8;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	EXPECT_RET(sendmsg(sv[0], &msg, 0), 12);
	memset(&msg, 0, sizeof msg);
	iov[0].iov_base = hdr;
	iov[0].iov_len = sizeof hdr;
	iov[1].iov_base = body;
	iov[1].iov_len = sizeof body;
	msg.msg_iov = iov;
	msg.msg_iovlen = 2;
	EXPECT_RET(recvmsg(sv[1], &msg, 0), 12);
	if (memcmp(hdr, "hdr:", 4) != 0 || memcmp(body, "sendmsg!", 8) != 0)
		die("recvmsg content", 0, 1, 0);
	EXPECT_RET(close(sv[0]), 0);
	EXPECT_RET(close(sv[1]), 0);

	/* listening unix socket in the abstract namespace */
	memset(&addr, 0, sizeof addr);
	addr.sun_family = AF_UNIX;
	snprintf(addr.sun_path + 1, sizeof addr.sun_path - 1,
		 "weft-sync-zoo-%d", (int)getpid());
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
			   strlen(addr.sun_path + 1));

	lfd = check_fd(socket(AF_UNIX, SOCK_STREAM, 0), "socket");
	EXPECT_RET(bind(lfd, (struct sockaddr *)&addr, alen), 0);
	EXPECT_RET(listen(lfd, 4), 0);

	c1 = check_fd(socket(AF_UNIX, SOCK_STREAM, 0), "socket c1");
	EXPECT_RET(connect(c1, (struct sockaddr *)&addr, alen), 0);
	a1 = check_fd(accept(lfd, NULL, NULL), "accept");

	c2 = check_fd(socket(AF_UNIX, SOCK_STREAM, 0), "socket c2");
	EXPECT_RET(connect(c2, (struct sockaddr *)&addr, alen), 0);
	a2 = check_fd(accept4(lfd, NULL, NULL, SOCK_CLOEXEC), "accept4");

	EXPECT_RET(write(c1, "ping", 4), 4);
	EXPECT_RET(read(a1, buf, 4), 4);
	EXPECT_RET(write(a2, "pong", 4), 4);
	EXPECT_RET(read(c2, buf, 4), 4);
	if (memcmp(buf, "pong", 4) != 0)
		die("accept4 stream content", 0, 1, 0);

	EXPECT_RET(close(a2), 0);
	EXPECT_RET(close(c2), 0);
	EXPECT_RET(close(a1), 0);
	EXPECT_RET(close(c1), 0);
	EXPECT_RET(close(lfd), 0);
}

/* ---- polling ------------------------------------------------------------- */

static void zoo_poll(void)
{
	int p[2], ep;
	struct pollfd pfd;
	struct timespec ts = { 0, 5 * 1000000L };
	struct timeval tv;
	fd_set rfds;
	struct epoll_event ev, out;
	sigset_t none;
	char c;

	EXPECT_RET(pipe(p), 0);
	sigemptyset(&none);

	pfd.fd = p[0];
	pfd.events = POLLIN;
	pfd.revents = 0;
	EXPECT_RET(poll(&pfd, 1, 5), 0);
	EXPECT_RET(ppoll(&pfd, 1, &ts, NULL), 0);

	FD_ZERO(&rfds);
	FD_SET(p[0], &rfds);
	tv.tv_sec = 0;
	tv.tv_usec = 5000;
	EXPECT_RET(select(p[0] + 1, &rfds, NULL, NULL, &tv), 0);
	FD_ZERO(&rfds);
	FD_SET(p[0], &rfds);
	EXPECT_RET(pselect(p[0] + 1, &rfds, NULL, NULL, &ts, &none), 0);

	ep = check_fd(epoll_create1(EPOLL_CLOEXEC), "epoll_create1");
	memset(&ev, 0, sizeof ev);
	ev.events = EPOLLIN;
	ev.data.fd = p[0];
	EXPECT_RET(epoll_ctl(ep, EPOLL_CTL_ADD, p[0], &ev), 0);
	EXPECT_RET(epoll_wait(ep, &out, 1, 5), 0);
	EXPECT_RET(epoll_pwait(ep, &out, 1, 5, &none), 0);
	EXPECT_RET(epoll_pwait2(ep, &out, 1, &ts, &none), 0);

	/* now make it ready */
	EXPECT_RET(write(p[1], "r", 1), 1);
	EXPECT_RET(poll(&pfd, 1, 1000), 1);
	if (!(pfd.revents & POLLIN))
		die("poll revents", pfd.revents, POLLIN, 0);
	EXPECT_RET(epoll_wait(ep, &out, 1, 1000), 1);
	EXPECT_RET(read(p[0], &c, 1), 1);

	EXPECT_RET(close(ep), 0);
	EXPECT_RET(close(p[0]), 0);
	EXPECT_RET(close(p[1]), 0);
}

/* ---- sleeping ------------------------------------------------------------ */

static void zoo_sleep(void)
{
	struct timespec ts = { 0, 1000000L };
	struct timespec abs_ts;

	EXPECT_RET(nanosleep(&ts, NULL), 0);
	EXPECT(clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL), 0);
	abs_ts = after_ms(CLOCK_MONOTONIC, 1);
	EXPECT(clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &abs_ts, NULL), 0);
	EXPECT_RET(usleep(1000), 0);
	EXPECT_RET(sleep(0), 0);
}

/* ---- signals ------------------------------------------------------------- */

static atomic_int paused_done;

static void on_usr1(int sig)
{
	(void)sig;
}

/* Signals the main thread until its pause has returned (a signal sent
 * before it paused is handled and missed; the next one wakes it). */
static void *pause_waker(void *arg)
{
	pthread_t main_thread = *(pthread_t *)arg;
	while (!atomic_load(&paused_done)) {
		pthread_kill(main_thread, SIGUSR1);
		sleep_ms(1);
	}
	return NULL;
}

static void zoo_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	EXPECT_RET(sigaction(SIGUSR1, &sa, NULL), 0);
	pthread_t self = pthread_self(), waker;
	EXPECT(pthread_create(&waker, NULL, pause_waker, &self), 0);
	EXPECT_ERRNO(pause(), EINTR);
	atomic_store(&paused_done, 1);
	EXPECT(pthread_join(waker, NULL), 0);

	sigset_t usr, none, old;
	sigemptyset(&usr);
	sigaddset(&usr, SIGUSR1);
	sigaddset(&usr, SIGUSR2);
	sigemptyset(&none);
	EXPECT(pthread_sigmask(SIG_BLOCK, &usr, &old), 0);
	EXPECT(raise(SIGUSR1), 0);
	EXPECT_ERRNO(sigsuspend(&none), EINTR);
	sigdelset(&usr, SIGUSR1);
	int sig = 0;
	EXPECT(raise(SIGUSR2), 0);
	EXPECT(sigwait(&usr, &sig), 0);
	EXPECT(raise(SIGUSR2), 0);
	EXPECT_RET(sigwaitinfo(&usr, NULL), SIGUSR2);
	struct timespec limit = { 5, 0 };
	EXPECT(raise(SIGUSR2), 0);
	EXPECT_RET(sigtimedwait(&usr, NULL, &limit), SIGUSR2);
	EXPECT(pthread_sigmask(SIG_SETMASK, &old, NULL), 0);
}

/* ---- processes ----------------------------------------------------------- */

static void zoo_fork(void)
{
	pid_t pid;
	int status;

	fflush(stdout);
	fflush(stderr);

	pid = fork();
	if (pid < 0)
		die("fork", pid, 0, errno);
	if (pid == 0)
		exit(7);
	status = 0;
	EXPECT_RET(wait(&status), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 7)
		die("wait status", status, 7 << 8, 0);

	pid = fork();
	if (pid < 0)
		die("fork", pid, 0, errno);
	if (pid == 0)
		exit(9);
	status = 0;
	EXPECT_RET(waitpid(pid, &status, 0), pid);
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 9)
		die("waitpid status", status, 9 << 8, 0);

	pid = fork();
	if (pid < 0)
		die("fork", pid, 0, errno);
	if (pid == 0)
		exit(11);
	siginfo_t info;
	memset(&info, 0, sizeof info);
	EXPECT_RET(waitid(P_PID, (id_t)pid, &info, WEXITED), 0);
	if (info.si_pid != pid || info.si_status != 11)
		die("waitid status", info.si_status, 11, 0);
}

/* ---- file locks ---------------------------------------------------------- */

static void zoo_file_locks(void)
{
	char path[] = "/tmp/weft-sync-zoo-lock-XXXXXX";
	int fd = check_fd(mkstemp(path), "mkstemp");
	EXPECT_RET(flock(fd, LOCK_EX), 0);
	EXPECT_RET(flock(fd, LOCK_UN), 0);
	EXPECT_RET(lockf(fd, F_LOCK, 0), 0);
	EXPECT_RET(lockf(fd, F_ULOCK, 0), 0);
	struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	EXPECT_RET(fcntl(fd, F_SETLKW, &fl), 0);
	fl.l_type = F_UNLCK;
	EXPECT_RET(fcntl(fd, F_SETLK, &fl), 0);
	EXPECT_RET(close(fd), 0);
	EXPECT_RET(unlink(path), 0);
}

/* ---- message queues ------------------------------------------------------ */

static void zoo_queues(void)
{
	struct { long type; char text[8]; } m = { 1, "zoo" };
	int q = msgget(IPC_PRIVATE, IPC_CREAT | 0600);
	if (q < 0)
		die("msgget", q, 0, errno);
	EXPECT_RET(msgsnd(q, &m, sizeof m.text, 0), 0);
	EXPECT_RET(msgrcv(q, &m, sizeof m.text, 0, 0), (long)sizeof m.text);
	EXPECT_RET(msgctl(q, IPC_RMID, NULL), 0);

	char name[64], buf[16];
	snprintf(name, sizeof name, "/weft-sync-zoo-%d", (int)getpid());
	struct mq_attr attr = { .mq_maxmsg = 2, .mq_msgsize = sizeof buf };
	mqd_t mq = mq_open(name, O_CREAT | O_RDWR, 0600, &attr);
	if (mq == (mqd_t)-1)
		die("mq_open", -1, 0, errno);
	struct timespec limit = after_ms(CLOCK_REALTIME, 5000);
	EXPECT_RET(mq_send(mq, "one", 3, 0), 0);
	EXPECT_RET(mq_timedsend(mq, "two", 3, 0, &limit), 0);
	EXPECT_RET(mq_receive(mq, buf, sizeof buf, NULL), 3);
	EXPECT_RET(mq_timedreceive(mq, buf, sizeof buf, NULL, &limit), 3);
	EXPECT_RET(mq_close(mq), 0);
	EXPECT_RET(mq_unlink(name), 0);
}

/* ---- stdio --------------------------------------------------------------- */

static void zoo_stdio(void)
{
	char path[] = "/tmp/weft-sync-zoo-stdio-XXXXXX";
	int fd = check_fd(mkstemp(path), "mkstemp");
	FILE *f = fdopen(fd, "w+");
	if (!f)
		die("fdopen", 0, 1, errno);
	EXPECT(setvbuf(f, NULL, _IONBF, 0), 0);
	EXPECT_RET(fputc('a', f), 'a');
	EXPECT_RET(fputs("b\n", f), 1);
	EXPECT_RET(fwrite("cd\n", 1, 3, f), 3);
	EXPECT_RET(fprintf(f, "%s", "efgh"), 4);
	rewind(f);
	char line[16], *got = NULL;
	size_t cap = 0;
	EXPECT_RET(fgetc(f), 'a');
	if (!fgets(line, sizeof line, f) || strcmp(line, "b\n") != 0)
		die("fgets", 0, 1, errno);
	EXPECT_RET(getline(&got, &cap, f), 3);
	EXPECT_RET(fread(line, 1, 4, f), 4);
	free(got);
	EXPECT_RET(fflush(NULL), 0);
	EXPECT_RET(fclose(f), 0);
	EXPECT_RET(unlink(path), 0);
}

int main(void)
{
	zoo_threads();
	zoo_mutex();
	zoo_rwlock();
	zoo_cond();
	zoo_barrier();
	zoo_spin();
	zoo_sem();
	zoo_file();
	zoo_sockets();
	zoo_poll();
	zoo_sleep();
	zoo_signals();
	zoo_fork();
	zoo_file_locks();
	zoo_queues();
	zoo_stdio();
	printf("sync_zoo ok\n");
	return 0;
}
