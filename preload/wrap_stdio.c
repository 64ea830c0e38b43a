/*
 * wrap_stdio.c - stdio calls that may wait on their stream's descriptor.
 *
 * glibc's stdio reads and writes its descriptors through internal calls
 * that a preloaded library cannot see, so the time a program blocks in
 * fread, fgets, fwrite, printf or fflush would show as running.  Each
 * wrapper here looks at the stream's buffer first (glibc's public struct
 * _IO_FILE: its get area, its put area, its flags) and records the call
 * as a blocking one (SYSCALL_BEGIN/SYSCALL_END with the stream's
 * descriptor) only when the buffer cannot satisfy it.  A buffered putc
 * costs a few loads and records nothing.  The guess errs one way only: a
 * call that may reach the descriptor is recorded, even when in the end it
 * did not (a stream whose buffer is not allocated yet, a read that finds
 * an ungetc'd byte).  Streams without a descriptor (fmemopen,
 * open_memstream, fopencookie) are never recorded.
 *
 * What is not seen: stdio calls glibc makes itself (printf's own output,
 * the flush of line-buffered output before a read, exit's flush of every
 * stream), and the inline getc_unlocked and putc_unlocked while their
 * buffer lasts (their refill, __uflow and __overflow, is seen).  A stream
 * used by several threads at once is read without its lock: the guess may
 * then be wrong either way (never the call's result).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "real.h"
#include "syscall.h"

/* <stdio.h> makes these macros when optimising; weft defines the
 * functions. */
#undef fread_unlocked
#undef fwrite_unlocked

/* glibc's _flags bits, beyond _IO_EOF_SEEN and _IO_ERR_SEEN that
 * <stdio.h> gives: the values of glibc's libio ABI, which inline code
 * compiled into programs relies on. */
#define STREAM_UNBUFFERED 0x0002
#define STREAM_LINE_BUF 0x0200
#define STREAM_CURRENTLY_PUTTING 0x0800

/* glibc's entry points that no public header declares (fortified forms,
 * and the refills the inline getc_unlocked and putc_unlocked call). */
size_t __fread_chk(void *p, size_t plen, size_t size, size_t n, FILE *f);
size_t __fread_unlocked_chk(void *p, size_t plen, size_t size, size_t n, FILE *f);
char *__fgets_chk(char *s, size_t slen, int n, FILE *f);
char *__fgets_unlocked_chk(char *s, size_t slen, int n, FILE *f);
ssize_t __getdelim(char **line, size_t *cap, int delim, FILE *f);
int _IO_getc(FILE *f);
int _IO_putc(int c, FILE *f);
int __uflow(FILE *f);
int __overflow(FILE *f, int c);
int __printf_chk(int flag, const char *fmt, ...);
int __fprintf_chk(FILE *f, int flag, const char *fmt, ...);
int __vprintf_chk(int flag, const char *fmt, va_list ap);
int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap);

/* The bytes a read can take from f's buffer without reaching its
 * descriptor; 0 when it may reach it at once. */
static inline size_t buffered_input(const FILE *f)
{
	if (f->_mode > 0 || (f->_flags & STREAM_CURRENTLY_PUTTING) ||
	    f->_IO_read_ptr >= f->_IO_read_end)
		return 0;
	return (size_t)(f->_IO_read_end - f->_IO_read_ptr);
}

/* Whether a read of n bytes may reach f's descriptor. */
static inline int read_may_block(const FILE *f, size_t n)
{
	return f->_fileno >= 0 && n > buffered_input(f);
}

/* Whether a read up to the byte delim (and at most max bytes) may reach
 * f's descriptor. */
static inline int read_to_may_block(const FILE *f, int delim, size_t max)
{
	if (f->_fileno < 0)
		return 0;
	size_t have = buffered_input(f);
	if (have >= max)
		return 0;
	return !have || !memchr(f->_IO_read_ptr, delim, have);
}

/* Whether writing n bytes (holding a newline or not) may reach f's
 * descriptor: unbuffered, last used for reading, no room in the put
 * area, or line buffered and a newline is written. */
static inline int write_may_block(const FILE *f, size_t n, int newline)
{
	int flags = f->_flags;
	if (f->_fileno < 0)
		return 0;
	if (f->_mode > 0 || (flags & STREAM_UNBUFFERED) ||
	    !(flags & STREAM_CURRENTLY_PUTTING))
		return 1;
	/* A line-buffered stream's put area ends where its last write did:
	 * the room is up to the end of the buffer. */
	const char *end = (flags & STREAM_LINE_BUF) ? f->_IO_buf_end : f->_IO_write_end;
	if ((flags & STREAM_LINE_BUF) && newline)
		return 1;
	return f->_IO_write_ptr > end || n > (size_t)(end - f->_IO_write_ptr);
}

/* Whether writing the bytes at p may reach f's descriptor (the newline
 * is looked for only on a line-buffered stream). */
static inline int write_bytes_may_block(const FILE *f, const void *p, size_t n)
{
	return write_may_block(f, n, (f->_flags & STREAM_LINE_BUF) && memchr(p, '\n', n));
}

/* The descriptor recorded for a call on f: -1 for every stream. */
static inline int64_t stream_fd(const FILE *f)
{
	return f ? f->_fileno : -1;
}

/* Whether the stream's error indicator is set. */
static inline int stream_failed(const FILE *f)
{
	return (f->_flags & _IO_ERR_SEEN) != 0;
}

/*
 * STDIO_BODY(type, id, f, may_block, call, as_int, failed): the body of a
 * stdio wrapper.  When may_block holds, the call is recorded under id with
 * f's descriptor; as_int (of ret_) is the recorded return value, and
 * failed (of ret_) says whether errno is recorded.  errno and the return
 * value reach the program unchanged.
 */
#define STDIO_BODY(type, id, f, may_block, call, as_int, failed)              \
	if (!(may_block))                                                     \
		return (call);                                                \
	struct weft_thread *self = weft_enter();                              \
	if (!self)                                                            \
		return (call);                                                \
	int saved = errno;                                                    \
	struct weft_state prev_ = weft_syscall_begin(self, WEFT_SYS_##id,     \
						     stream_fd(f));           \
	errno = saved;                                                        \
	type ret_ = (call);                                                   \
	int err_ = errno;                                                     \
	weft_syscall_end(self, WEFT_SYS_##id, (int64_t)(as_int),              \
			 (failed) ? err_ : 0, prev_);                         \
	errno = err_;                                                         \
	return ret_;

/* ---- reading ---- */

/* fread and its forms: fails when short with the error indicator set. */
#define WEFT_FREAD(name, params, ...)                                         \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE size_t name params                                       \
	{                                                                     \
		size_t bytes;                                                 \
		int huge = __builtin_mul_overflow(size, n, &bytes);           \
		STDIO_BODY(size_t, fread, f, huge || read_may_block(f, bytes),\
			   REAL(name)(__VA_ARGS__), ret_,                     \
			   ret_ < n && stream_failed(f))                      \
	}

WEFT_FREAD(fread, (void *p, size_t size, size_t n, FILE *f), p, size, n, f)
WEFT_FREAD(fread_unlocked, (void *p, size_t size, size_t n, FILE *f),
	   p, size, n, f)
WEFT_FREAD(__fread_chk, (void *p, size_t plen, size_t size, size_t n, FILE *f),
	   p, plen, size, n, f)
WEFT_FREAD(__fread_unlocked_chk,
	   (void *p, size_t plen, size_t size, size_t n, FILE *f),
	   p, plen, size, n, f)

/* fgets and its forms: a line of at most n - 1 bytes. */
#define WEFT_FGETS(name, params, ...)                                         \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE char *name params                                        \
	{                                                                     \
		STDIO_BODY(char *, fgets, f,                                  \
			   n > 1 && read_to_may_block(f, '\n', (size_t)n - 1),\
			   REAL(name)(__VA_ARGS__),                           \
			   ret_ ? (int64_t)strlen(ret_) : -1,                 \
			   !ret_ && stream_failed(f))                         \
	}

WEFT_FGETS(fgets, (char *s, int n, FILE *f), s, n, f)
WEFT_FGETS(fgets_unlocked, (char *s, int n, FILE *f), s, n, f)
WEFT_FGETS(__fgets_chk, (char *s, size_t slen, int n, FILE *f), s, slen, n, f)
WEFT_FGETS(__fgets_unlocked_chk, (char *s, size_t slen, int n, FILE *f),
	   s, slen, n, f)

/* getline and getdelim: up to the delimiter, however far. */
#define WEFT_GETDELIM(name, delim, params, ...)                               \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE ssize_t name params                                      \
	{                                                                     \
		STDIO_BODY(ssize_t, getdelim, f,                              \
			   read_to_may_block(f, delim, SIZE_MAX),             \
			   REAL(name)(__VA_ARGS__), ret_,                     \
			   ret_ < 0 && stream_failed(f))                      \
	}

WEFT_GETDELIM(getline, '\n', (char **line, size_t *cap, FILE *f), line, cap, f)
WEFT_GETDELIM(getdelim, d, (char **line, size_t *cap, int d, FILE *f),
	      line, cap, d, f)
WEFT_GETDELIM(__getdelim, d, (char **line, size_t *cap, int d, FILE *f),
	      line, cap, d, f)

/* One character in: fgetc's forms, getchar's (on stdin), and __uflow,
 * which is called only when the buffer is empty. */
#define WEFT_GETC(name, stream, may_block, params, ...)                       \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE int name params                                          \
	{                                                                     \
		FILE *f_ = (stream);                                          \
		STDIO_BODY(int, fgetc, f_, may_block,                         \
			   REAL(name)(__VA_ARGS__), ret_,                     \
			   ret_ == EOF && stream_failed(f_))                  \
	}

WEFT_GETC(fgetc, f, read_may_block(f_, 1), (FILE *f), f)
WEFT_GETC(getc, f, read_may_block(f_, 1), (FILE *f), f)
WEFT_GETC(_IO_getc, f, read_may_block(f_, 1), (FILE *f), f)
WEFT_GETC(fgetc_unlocked, f, read_may_block(f_, 1), (FILE *f), f)
WEFT_GETC(getc_unlocked, f, read_may_block(f_, 1), (FILE *f), f)
WEFT_GETC(getchar, stdin, read_may_block(f_, 1), (void))
WEFT_GETC(getchar_unlocked, stdin, read_may_block(f_, 1), (void))
WEFT_GETC(__uflow, f, f_->_fileno >= 0, (FILE *f), f)

/* ---- writing ---- */

/* fwrite and its unlocked form: fails when short. */
#define WEFT_FWRITE(name)                                                     \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE size_t name(const void *p, size_t size, size_t n, FILE *f) \
	{                                                                     \
		size_t bytes;                                                 \
		int huge = __builtin_mul_overflow(size, n, &bytes);           \
		STDIO_BODY(size_t, fwrite, f,                                 \
			   huge || write_bytes_may_block(f, p, bytes),        \
			   REAL(name)(p, size, n, f), ret_,                   \
			   ret_ < n && bytes)                                 \
	}

WEFT_FWRITE(fwrite)
WEFT_FWRITE(fwrite_unlocked)

/* fputs and puts (which adds a newline). */
#define WEFT_FPUTS(name, stream, newline, params, ...)                        \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE int name params                                          \
	{                                                                     \
		FILE *f_ = (stream);                                          \
		size_t len = strlen(s);                                       \
		STDIO_BODY(int, fputs, f_,                                    \
			   write_may_block(f_, len + (newline),               \
					   (newline) ||                       \
					   ((f_->_flags & STREAM_LINE_BUF) && \
					    memchr(s, '\n', len))),           \
			   REAL(name)(__VA_ARGS__), ret_, ret_ == EOF)        \
	}

WEFT_FPUTS(fputs, f, 0, (const char *s, FILE *f), s, f)
WEFT_FPUTS(fputs_unlocked, f, 0, (const char *s, FILE *f), s, f)
WEFT_FPUTS(puts, stdout, 1, (const char *s), s)

/* One character out: fputc's forms, putchar's (on stdout), and
 * __overflow, which is called when the put area is full or the stream
 * is not fully buffered. */
#define WEFT_PUTC(name, stream, params, ...)                                  \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE int name params                                          \
	{                                                                     \
		FILE *f_ = (stream);                                          \
		STDIO_BODY(int, fputc, f_,                                    \
			   write_may_block(f_, 1, (unsigned char)c == '\n'),  \
			   REAL(name)(__VA_ARGS__), ret_, ret_ == EOF)        \
	}

WEFT_PUTC(fputc, f, (int c, FILE *f), c, f)
WEFT_PUTC(putc, f, (int c, FILE *f), c, f)
WEFT_PUTC(_IO_putc, f, (int c, FILE *f), c, f)
WEFT_PUTC(fputc_unlocked, f, (int c, FILE *f), c, f)
WEFT_PUTC(putc_unlocked, f, (int c, FILE *f), c, f)
WEFT_PUTC(putchar, stdout, (int c), c)
WEFT_PUTC(putchar_unlocked, stdout, (int c), c)
WEFT_PUTC(__overflow, f, (FILE *f, int c), f, c)

/*
 * The printf family.  The output's length is not known before it is
 * formatted: on a fully buffered stream with room in its put area it is
 * measured first (vsnprintf into nothing), and the call is recorded when
 * it does not fit.  On any other stream the call is recorded.  Every
 * form calls the v-form of its kind with the same arguments, as glibc's
 * own printf does.  (Measuring runs the format once more: a handler
 * registered with register_printf_function runs twice.)
 */
static int printf_may_block(FILE *f, const char *fmt, va_list ap)
{
	if (f->_fileno < 0)
		return 0;
	if (write_may_block(f, 1, 0) || (f->_flags & STREAM_LINE_BUF))
		return 1;
	int saved = errno;
	va_list copy;
	va_copy(copy, ap);
	int len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	errno = saved;
	return len < 0 || write_may_block(f, (size_t)len, 0);
}

WEFT_REAL(vfprintf)
WEFT_REAL(__vfprintf_chk)

WEFT_VISIBLE int vfprintf(FILE *f, const char *fmt, va_list ap)
{
	STDIO_BODY(int, fprintf, f, printf_may_block(f, fmt, ap),
		   REAL(vfprintf)(f, fmt, ap), ret_, ret_ < 0)
}

WEFT_VISIBLE int __vfprintf_chk(FILE *f, int flag, const char *fmt, va_list ap)
{
	STDIO_BODY(int, fprintf, f, printf_may_block(f, fmt, ap),
		   REAL(__vfprintf_chk)(f, flag, fmt, ap), ret_, ret_ < 0)
}

WEFT_VISIBLE int vprintf(const char *fmt, va_list ap)
{
	return vfprintf(stdout, fmt, ap);
}

WEFT_VISIBLE int __vprintf_chk(int flag, const char *fmt, va_list ap)
{
	return __vfprintf_chk(stdout, flag, fmt, ap);
}

WEFT_VISIBLE int fprintf(FILE *f, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(f, fmt, ap);
	va_end(ap);
	return r;
}

WEFT_VISIBLE int printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = vfprintf(stdout, fmt, ap);
	va_end(ap);
	return r;
}

WEFT_VISIBLE int __fprintf_chk(FILE *f, int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vfprintf_chk(f, flag, fmt, ap);
	va_end(ap);
	return r;
}

WEFT_VISIBLE int __printf_chk(int flag, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = __vfprintf_chk(stdout, flag, fmt, ap);
	va_end(ap);
	return r;
}

/* ---- flushing and closing ---- */

/* Whether flushing f may write: output is waiting in its put area (or f
 * is NULL: every stream). */
static inline int flush_may_block(const FILE *f)
{
	if (!f)
		return 1;
	return f->_fileno >= 0 &&
	       (f->_mode > 0 || ((f->_flags & STREAM_CURRENTLY_PUTTING) &&
				 f->_IO_write_ptr > f->_IO_write_base));
}

#define WEFT_FFLUSH(name)                                                     \
	WEFT_REAL(name)                                                       \
	WEFT_VISIBLE int name(FILE *f)                                        \
	{                                                                     \
		STDIO_BODY(int, fflush, f, flush_may_block(f),                \
			   REAL(name)(f), ret_, ret_ == EOF)                  \
	}

WEFT_FFLUSH(fflush)
WEFT_FFLUSH(fflush_unlocked)

/* fclose flushes and closes the descriptor: recorded whenever the stream
 * has one (its descriptor is read before the call frees the stream). */
WEFT_REAL(fclose)
WEFT_VISIBLE int fclose(FILE *f)
{
	int64_t fd = stream_fd(f);
	struct weft_thread *self = fd >= 0 ? weft_enter() : NULL;
	if (!self)
		return REAL(fclose)(f);
	int saved = errno;
	struct weft_state prev = weft_syscall_begin(self, WEFT_SYS_fclose, fd);
	errno = saved;
	int r = REAL(fclose)(f);
	int e = errno;
	weft_syscall_end(self, WEFT_SYS_fclose, r, r == EOF ? e : 0, prev);
	errno = e;
	return r;
}
