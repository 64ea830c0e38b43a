/*
 * trace.c - the life of a trace: loading, the trace file and its header,
 * opening and retiring generations, and the process's end (exit, exec,
 * fork).
 *
 * Retiring a generation follows one protocol wherever it happens: under
 * weft_control_lock, publish the new generation number (0 = tracing off),
 * wait until every thread's seqlock is even or has moved (no thread is
 * still writing into the old generation), then flush the old generation's
 * buffers, and write its tables and GEN_END in a process batch.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "emit.h"
#include "tablebuf.h"
#include "weft.h"

_Atomic uint32_t weft_generation;
int weft_out_fd = -1;
int weft_initialized;
weft_lock_t weft_control_lock = WEFT_LOCK_INIT;

static uint32_t last_generation;   /* highest generation ever opened */
static uint32_t generations_ended;
static pid_t traced_pid;

void weft_output_lock_all(void);
void weft_output_unlock_all(void);
void weft_thread_start_created(struct weft_thread *t);

static uint64_t wallclock_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* WEFT_OUTPUT with %p replaced by the pid and %% by %. */
static int expand_output(char *dst, size_t cap, pid_t pid)
{
	size_t n = 0;
	for (const char *s = weft_config.output; *s; s++) {
		char piece[24];
		const char *add = piece;
		if (s[0] == '%' && s[1] == 'p') {
			snprintf(piece, sizeof piece, "%d", (int)pid);
			s++;
		} else if (s[0] == '%' && s[1] == '%') {
			piece[0] = '%', piece[1] = 0;
			s++;
		} else {
			piece[0] = *s, piece[1] = 0;
		}
		size_t len = strlen(add);
		if (n + len + 1 > cap)
			return -1;
		memcpy(dst + n, add, len);
		n += len;
	}
	dst[n] = 0;
	return 0;
}

/* Moves fd above the range programs commonly use, close-on-exec. */
static int park_fd(int fd)
{
	struct rlimit rl;
	int floor = 512;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur > 16 && (rlim_t)floor >= rl.rlim_cur - 8)
		floor = (int)(rl.rlim_cur / 2);
	int high = fcntl(fd, F_DUPFD_CLOEXEC, floor);
	if (high < 0)
		return fd;
	syscall(SYS_close, fd);
	return high;
}

/* Creates the trace file without following a link planted at its path or
 * replacing an existing file: when the name is taken (an exec'd image with
 * the same pid, a reused pid), .1, .2, ... are tried. */
static int open_output(char *path, size_t cap)
{
	char base[4096];
	if (expand_output(base, sizeof base, getpid()) < 0) {
		weft_warn("WEFT_OUTPUT is too long once expanded; not tracing");
		return -1;
	}
	for (int attempt = 0; attempt < 1000; attempt++) {
		if (attempt == 0)
			snprintf(path, cap, "%s", base);
		else
			snprintf(path, cap, "%s.%d", base, attempt);
		int fd = (int)syscall(SYS_openat, AT_FDCWD, path,
				      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_CLOEXEC | O_APPEND, 0600);
		if (fd >= 0)
			return park_fd(fd);
		if (errno != EEXIST) {
			weft_warn("cannot create trace file %s: %s; not tracing",
				  path, strerror(errno));
			return -1;
		}
	}
	weft_warn("cannot find a free name for trace file %s; not tracing", base);
	return -1;
}

static void note_in_manifest(const char *path)
{
	if (!weft_config.manifest[0])
		return;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, weft_config.manifest,
			      O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	char line[8400];
	char abs[4096];
	if (path[0] != '/' && getcwd(abs, sizeof abs))
		snprintf(line, sizeof line, "%d %s/%s\n", (int)getpid(), abs, path);
	else
		snprintf(line, sizeof line, "%d %s\n", (int)getpid(), path);
	syscall(SYS_write, fd, line, strlen(line));
	syscall(SYS_close, fd);
}

static void write_file_header(void)
{
	uint8_t h[WEFT_FILE_HEADER_FIXED + 6 * WEFT_ULEB_MAX];
	memcpy(h, WEFT_MAGIC, WEFT_MAGIC_LEN);
	weft_put_le32(h + 8, WEFT_FORMAT_VERSION);
	uint8_t *p = h + WEFT_FILE_HEADER_FIXED;
	p = weft_put_uleb(p, WEFT_CLOCK_MONOTONIC);
	p = weft_put_uleb(p, 1000000000u);
	p = weft_put_uleb(p, (uint64_t)getpid());
	p = weft_put_uleb(p, (uint64_t)getppid());
	p = weft_put_uleb(p, wallclock_ns());
	p = weft_put_uleb(p, weft_now());
	weft_put_le32(h + 12, (uint32_t)(p - h - WEFT_FILE_HEADER_FIXED));
	weft_output_write(h, (size_t)(p - h));
}

/* Opens the trace file and writes its header; 0 on success. */
static int open_trace(void)
{
	char path[4200];
	weft_out_fd = open_output(path, sizeof path);
	if (weft_out_fd < 0)
		return -1;
	traced_pid = getpid();
	note_in_manifest(path);
	write_file_header();
	last_generation = 0;
	generations_ended = 0;
	return 0;
}

/* Control lock held: opens the next generation (its CLOCK record first). */
static void generation_open(void)
{
	uint32_t gen = ++last_generation;
	weft_batches_take(gen); /* no count left from an earlier parity user */
	uint64_t now = weft_now();
	struct weft_tablebuf tb;
	weft_tb_begin(&tb, 0, gen, now);
	struct weft_record r = { .code = WEFT_EV_CLOCK };
	r.args[0] = now;
	r.args[1] = 1000000000u;
	r.args[2] = wallclock_ns();
	weft_tb_record(&tb, &r);
	weft_tb_write(&tb);
	atomic_store(&weft_generation, gen);
}

/* Waits until no thread can still be writing into a retired generation:
 * each seqlock is even, or has moved since it was first seen. */
static void wait_for_writers(void)
{
	struct weft_thread *me = weft_self_tls;
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		uint64_t v = atomic_load(&t->seqlock);
		if (!(v & 1) || t == me)
			continue;
		/* A thread stopped inside an event for over a second (a signal
		 * handler that never returned) is given up on. */
		for (int spin = 0; spin < 100000 && atomic_load(&t->seqlock) == v; spin++) {
			if (spin < 100)
				sched_yield();
			else {
				struct timespec ten_us = { 0, 10000 };
				syscall(SYS_nanosleep, &ten_us, NULL);
			}
		}
	}
}

/* Threads that dropped events and never got a buffer again to say so get
 * a batch holding just their LOST record, written here on their behalf.
 * No STATUS goes with it: the thread's state now is not its state when the
 * generation began, and a LOST record may open a thread's generation. */
static void write_unreported_losses(uint32_t gen)
{
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		uint64_t lost = atomic_exchange(&t->lost, 0);
		if (!lost)
			continue;
		struct weft_tablebuf tb;
		uint64_t now = weft_now();
		weft_tb_begin(&tb, t->serial, gen, now);
		struct weft_record r = { .code = WEFT_EV_LOST, .ts = now };
		r.args[0] = lost;
		weft_tb_record(&tb, &r);
		weft_tb_write(&tb);
		weft_batches_add(gen);
	}
}

/* Control lock held: closes the current generation.  at_end adds the
 * TRACE_END record that marks a trace as complete. */
static void generation_close(int at_end)
{
	uint32_t gen = atomic_exchange(&weft_generation, 0);
	struct weft_tablebuf tb;
	struct weft_record r;
	if (gen) {
		wait_for_writers();
		weft_buffer_retire_all(gen);
		write_unreported_losses(gen);
		weft_tb_begin(&tb, 0, gen, weft_now());
		weft_stacks_write_tables(&tb);
		r = (struct weft_record){ .code = WEFT_EV_GEN_END };
		r.args[0] = gen;
		r.args[1] = weft_batches_take(gen);
		weft_tb_record(&tb, &r);
		generations_ended++;
	} else if (at_end && weft_out_fd >= 0 && last_generation) {
		/* Tracing is off: the end marker goes in a batch of its own,
		 * under the last generation's number. */
		weft_tb_begin(&tb, 0, last_generation, weft_now());
	} else {
		return;
	}
	if (at_end) {
		r = (struct weft_record){ .code = WEFT_EV_TRACE_END };
		r.args[0] = generations_ended;
		weft_tb_record(&tb, &r);
	}
	weft_tb_write(&tb);
}

static int secure_execution(void)
{
	return getauxval(AT_SECURE) != 0;
}

__attribute__((constructor(101))) void weft_init(void)
{
	if (weft_initialized || secure_execution())
		return;
	int saved = errno;
	weft_busy++;
	weft_config_load();
	weft_objseq_init();
	weft_stacks_init();
	if (open_trace() == 0) {
		weft_lock(&weft_control_lock);
		if (weft_config.start)
			generation_open();
		weft_unlock(&weft_control_lock);
		weft_initialized = 1;
	}
	weft_busy--;
	/* The loading thread's record (serial 1) and its THREAD_START. */
	if (weft_initialized && !weft_self_tls)
		weft_thread_attach();
	errno = saved;
}

/* Stops tracing and makes the file complete: at exit, and before exec. */
void weft_stop_and_flush(const char *why)
{
	(void)why;
	if (!weft_initialized || weft_out_fd < 0)
		return;
	int saved = errno;
	weft_busy++;
	weft_lock(&weft_control_lock);
	generation_close(1);
	weft_unlock(&weft_control_lock);
	weft_busy--;
	errno = saved;
}

__attribute__((destructor(101))) static void weft_fini(void)
{
	/* A vfork child shares our memory: it must not touch the parent's
	 * trace (it can only get here through _exit's siblings, but be sure). */
	if (weft_initialized && getpid() == traced_pid)
		weft_stop_and_flush("exit");
}

/* exec failed: the process goes on, and so does its trace. */
void weft_restart_after_exec_failure(void)
{
	if (!weft_initialized || weft_out_fd < 0)
		return;
	weft_busy++;
	weft_lock(&weft_control_lock);
	if (weft_config.start && atomic_load(&weft_generation) == 0)
		generation_open();
	weft_unlock(&weft_control_lock);
	weft_busy--;
}

int weft_is_vfork_child(void)
{
	return weft_initialized && getpid() != traced_pid;
}

/* fork(): every weft lock is held across the real fork, so the child
 * inherits no lock some vanished thread was holding. */
void weft_fork_prepare(void)
{
	weft_busy++;
	weft_lock(&weft_control_lock);
	weft_output_lock_all();
}

void weft_fork_parent(void)
{
	weft_output_unlock_all();
	weft_unlock(&weft_control_lock);
	weft_busy--;
}

/* The child starts a trace file of its own; its parent's unwritten events
 * stay the parent's. */
void weft_after_fork_child(void)
{
	weft_control_lock = (weft_lock_t)WEFT_LOCK_INIT;
	weft_pool_reset_after_fork();
	atomic_store(&weft_generation, 0);
	weft_thread_reset_after_fork(weft_self_tls);
	if (weft_out_fd >= 0)
		syscall(SYS_close, weft_out_fd);
	weft_out_fd = -1;
	if (open_trace() == 0) {
		if (weft_config.start)
			generation_open();
	} else {
		weft_initialized = 0;
	}
	weft_busy--;
}
