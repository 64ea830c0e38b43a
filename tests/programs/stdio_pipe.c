/*
 * stdio_pipe.c - stdio on both ends of a pipe, where the reader really
 * blocks.  The thread "writer" waits (raw system calls, not traced) until
 * the thread "reader" is blocked in read(2) inside fgets, lets 50 ms
 * pass, then writes through a fully buffered stream and flushes; later it
 * does it again while the reader blocks in getline.  In between, the
 * reader takes everything from its buffer (fgets, getline, fread, getc,
 * fgetc), and the writer buffers (fwrite, fputc, putc, fprintf): none of
 * those can block.  Then, on the main thread, calls that fail (writing
 * to a stream opened for reading), and printf output that fits a
 * stream's buffer and output that does not.
 *
 * Prints "in=FD out=FD" and then, for every call, its thread, name,
 * return value and errno (errno is set to 1234 before each call), with
 * raw writes, so the output of a traced run can be compared with an
 * untraced one (line by line once sorted: the threads interleave).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static FILE *in, *out;
static int reader_tid;

/* One line of the report, written with the raw system call. */
static void report(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	syscall(SYS_write, 1, line, (size_t)n);
}

static void raw_sleep_ms(long ms)
{
	struct timespec ts = { 0, ms * 1000000L };
	syscall(SYS_nanosleep, &ts, NULL);
}

/* Whether thread tid is in read(2). */
static int blocked_in_read(int tid)
{
	char path[64], now[64] = { 0 }, want[32];
	snprintf(want, sizeof want, "%ld ", (long)SYS_read);
	snprintf(path, sizeof path, "/proc/self/task/%d/syscall", tid);
	int f = (int)syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC);
	if (f < 0)
		return 0;
	long n = syscall(SYS_read, f, now, sizeof now - 1);
	syscall(SYS_close, f);
	return n > 0 && strncmp(now, want, strlen(want)) == 0;
}

static void wait_for_blocked_reader(void)
{
	int tid;
	while (!(tid = __atomic_load_n(&reader_tid, __ATOMIC_ACQUIRE)))
		raw_sleep_ms(1);
	while (!blocked_in_read(tid))
		raw_sleep_ms(1);
	raw_sleep_ms(50);
}

static __thread const char *who = "main";

#define CALL(what, expr)                                                     \
	do {                                                                 \
		errno = 1234;                                                \
		long long r_ = (long long)(expr);                            \
		report("%s %s %lld %d\n", who, what, r_, errno);              \
	} while (0)

static void *reader(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "reader");
	who = "reader";
	__atomic_store_n(&reader_tid, (int)syscall(SYS_gettid), __ATOMIC_RELEASE);
	char line[64], bytes[16];
	char *got = NULL;
	size_t cap = 0;
	/* Blocks until the writer's first flush. */
	CALL("fgets", fgets(line, sizeof line, in) ? (long long)strlen(line) : -1);
	/* From the buffer: */
	CALL("fgets", fgets(line, sizeof line, in) ? (long long)strlen(line) : -1);
	CALL("getline", getline(&got, &cap, in));
	CALL("fread", fread(bytes, 1, 8, in));
	CALL("getc", getc(in));
	CALL("fgetc", fgetc(in));
	CALL("getdelim", getdelim(&got, &cap, '\n', in));
	/* Blocks until the writer's second flush. */
	CALL("getline", getline(&got, &cap, in));
	/* The end of the file: a read that finds nothing. */
	CALL("fread", fread(bytes, 1, sizeof bytes, in));
	CALL("fclose", fclose(in));
	free(got);
	return NULL;
}

static void *writer(void *arg)
{
	(void)arg;
	pthread_setname_np(pthread_self(), "writer");
	who = "writer";
	static char buf[4096];
	setvbuf(out, buf, _IOFBF, sizeof buf);
	wait_for_blocked_reader();
	/* The stream's first write: its put area is not set up yet. */
	CALL("fputs", fputs("alpha\nbeta\n", out));
	/* Buffered: */
	CALL("fwrite", fwrite("gamma\n12345678", 1, 14, out));
	CALL("fputc", fputc('x', out));
	CALL("putc", putc('y', out));
	CALL("fprintf", fprintf(out, "delta %d\n", 4));
	CALL("fflush", fflush(out));
	wait_for_blocked_reader();
	CALL("fputs", fputs("epsilon\n", out));
	CALL("fflush", fflush(out));
	CALL("fclose", fclose(out));
	return NULL;
}

int main(void)
{
	int p[2];
	if (pipe(p) != 0)
		return 1;
	in = fdopen(p[0], "r");
	out = fdopen(p[1], "w");
	report("in=%d out=%d\n", p[0], p[1]);
	pthread_t r, w;
	pthread_create(&r, NULL, reader, NULL);
	pthread_create(&w, NULL, writer, NULL);
	pthread_join(r, NULL);
	pthread_join(w, NULL);

	/* Calls that fail: writing to a stream open for reading. */
	FILE *ro = fopen("/dev/null", "r");
	CALL("fputc-ro", fputc('x', ro));
	CALL("fwrite-ro", fwrite("abc", 1, 3, ro));
	CALL("fclose-ro", fclose(ro));
	/* A new stream's first write; then printf output that fits its
	 * buffer, and more than a whole buffer at once, which reaches the
	 * descriptor. */
	FILE *null = fopen("/dev/null", "w");
	static char big[8192];
	memset(big, 'z', sizeof big - 1);
	CALL("fputc-null", fputc('a', null));
	CALL("fprintf-small", fprintf(null, "%d %s", 42, "small"));
	CALL("fprintf-big", fprintf(null, "%s", big));
	CALL("fclose-null", fclose(null));
	return 0;
}
