/*
 * trace.c - the life of a trace: loading weft, the trace file and its
 * header, the end of the process's run (weft's destructor) and fork (the
 * child's own trace).  Generations are opened and closed, and the trace
 * completed, by generation.c; start and stop requests are performed by
 * control.c.
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

#include "../format/wire.h"
#include "weft.h"

static pid_t traced_pid;

/* Room for the trace file's name and the manifest line that names it, off
 * the stack: a fork child opens its trace in a fork handler, on whatever
 * stack the forking thread has (PTHREAD_STACK_MIN is 16 KB).  One thread
 * at a time opens a trace: the loading thread, or a fork child's only
 * thread. */
static struct {
	char base[4096];
	char path[4200];
	char cwd[4096];
	char line[8400];
} naming;

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

/* A FIFO (not a link to one) at path is a reader waiting for the trace:
 * it is opened for writing, waiting for the reader if there is none yet.
 * Returns the descriptor, or -1 when path is not a FIFO. */
static int open_fifo(const char *path)
{
	struct stat st;
	if (lstat(path, &st) != 0 || !S_ISFIFO(st.st_mode))
		return -1;
	return (int)syscall(SYS_openat, AT_FDCWD, path,
			    O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
}

/* Creates the trace file without following a link planted at its path or
 * replacing an existing file: when the name is taken (an exec'd image with
 * the same pid, a reused pid), .1, .2, ... are tried.  The first process
 * may also write into a FIFO at the path; a fork child never shares it
 * (two processes' batches would interleave) and gets a file of its own. */
static int open_output(char *path, size_t cap, int forked)
{
	char *base = naming.base;
	if (expand_output(base, sizeof naming.base, getpid()) < 0) {
		weft_warn("WEFT_OUTPUT is too long once expanded; not tracing");
		return -1;
	}
	for (int attempt = 0; attempt < 1000; attempt++) {
		if (attempt == 0)
			snprintf(path, cap, "%s", base);
		else
			snprintf(path, cap, "%s.%d", base, attempt);
		int fd = attempt == 0 && !forked ? open_fifo(path) : -1;
		if (fd >= 0)
			return weft_park_fd(fd);
		fd = (int)syscall(SYS_openat, AT_FDCWD, path,
				      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
				      O_CLOEXEC | O_APPEND, weft_config.output_mode);
		if (fd >= 0)
			return weft_park_fd(fd);
		if (errno != EEXIST) {
			weft_warn("cannot create trace file %s: %s; not tracing",
				  path, strerror(errno));
			return -1;
		}
	}
	weft_warn("cannot find a free name for trace file %s; not tracing", base);
	return -1;
}

/* Names the trace this process writes in weft record's manifest ("PID
 * PATH"), or with lost, the trace it could not create ("PID !PATH"). */
static void note_in_manifest(const char *path, int lost)
{
	if (!weft_config.manifest[0])
		return;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, weft_config.manifest,
			      O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return;
	char *line = naming.line;
	if (path[0] != '/' && getcwd(naming.cwd, sizeof naming.cwd))
		snprintf(line, sizeof naming.line, "%d %s%s/%s\n", (int)getpid(),
			 lost ? "!" : "", naming.cwd, path);
	else
		snprintf(line, sizeof naming.line, "%d %s%s\n", (int)getpid(),
			 lost ? "!" : "", path);
	syscall(SYS_write, fd, line, strlen(line));
	syscall(SYS_close, fd);
}

static void write_file_header(void)
{
	uint8_t h[WEFT_FILE_HEADER_FIXED + 6 * WEFT_ULEB_MAX];
	memcpy(h, WEFT_MAGIC, WEFT_MAGIC_LEN);
	weft_put_le32(h + 8, WEFT_FORMAT_VERSION);
	uint8_t *p = h + WEFT_FILE_HEADER_FIXED;
	p = weft_put_uleb(p, weft_clock_source());
	p = weft_put_uleb(p, weft_clock_frequency());
	p = weft_put_uleb(p, (uint64_t)getpid());
	p = weft_put_uleb(p, (uint64_t)getppid());
	p = weft_put_uleb(p, wallclock_ns());
	p = weft_put_uleb(p, weft_now());
	weft_put_le32(h + 12, (uint32_t)(p - h - WEFT_FILE_HEADER_FIXED));
	weft_output_write(h, (size_t)(p - h));
}

/* Opens the trace file and writes its header; 0 on success. */
static int open_trace(int forked)
{
	weft_out_fd = open_output(naming.path, sizeof naming.path, forked);
	if (weft_out_fd < 0) {
		note_in_manifest(naming.path, 1);
		return -1;
	}
	traced_pid = getpid();
	weft_process_read();
	note_in_manifest(naming.path, 0);
	write_file_header();
	weft_generations_reset();
	return 0;
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
	weft_clock_init();
	weft_membarrier_register();
	weft_objseq_init();
	weft_stacks_init();
	weft_modules_init();
	if (open_trace(0) == 0) {
		weft_lock(&weft_control_lock);
		if (weft_config.start)
			weft_advance(WEFT_ADVANCE_START);
		weft_unlock(&weft_control_lock);
		weft_initialized = 1;
		weft_control_start();
		weft_crash_install();
	}
	weft_busy--;
	/* The loading thread's record (serial 1) and its THREAD_START. */
	if (weft_initialized && !weft_self_tls)
		weft_thread_attach();
	errno = saved;
}

__attribute__((destructor(101))) static void weft_fini(void)
{
	/* A vfork child shares our memory: it must not touch the parent's
	 * trace (it can only get here through _exit's siblings, but be sure). */
	if (weft_initialized && getpid() == traced_pid)
		weft_end_trace(WEFT_END_EXIT);
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
	weft_membarrier_register(); /* registration is not inherited */
	/* Tracing goes on in the child if it was on in the parent. */
	uint32_t was_tracing = atomic_load(&weft_generation);
	atomic_store(&weft_generation, 0);
	weft_thread_reset_after_fork(weft_self_tls);
	weft_objseq_reset_after_fork();
	if (weft_out_fd >= 0)
		syscall(SYS_close, weft_out_fd);
	weft_out_fd = -1;
	if (open_trace(1) == 0) {
		if (was_tracing)
			weft_advance(WEFT_ADVANCE_START);
		weft_control_after_fork();
	} else {
		weft_initialized = 0;
	}
	weft_busy--;
}
