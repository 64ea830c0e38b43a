/*
 * reader.c - the trace file reader (see reader.h).
 */
#include "reader.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* Records why reading stopped; returns status. */
static int stop(struct weft_reader *r, int status, const char *fmt, va_list ap)
{
	vsnprintf(r->error, sizeof r->error, fmt, ap);
	return status;
}

/* The bytes are not a valid trace. */
__attribute__((format(printf, 2, 3)))
static int fail(struct weft_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = stop(r, WEFT_READ_CORRUPT, fmt, ap);
	va_end(ap);
	return rc;
}

/* The file ends inside a batch. */
__attribute__((format(printf, 2, 3)))
static int cut(struct weft_reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = stop(r, WEFT_READ_TRUNCATED, fmt, ap);
	va_end(ap);
	return rc;
}

static int read_header(struct weft_reader *r)
{
	if (r->size < WEFT_FILE_HEADER_FIXED ||
	    memcmp(r->data, WEFT_MAGIC, WEFT_MAGIC_LEN) != 0) {
		if (r->size >= WEFT_MAGIC_LEN &&
		    memcmp(r->data, WEFT_MAGIC, WEFT_MAGIC_LEN) == 0)
			return fail(r, "offset 0: file header truncated (%zu bytes)",
				    r->size);
		return fail(r, "offset 0: not a weft trace (bad magic)");
	}
	struct weft_file_header *h = &r->header;
	h->version = weft_get_le32(r->data + 8);
	if (h->version == 0)
		return fail(r, "offset 8: format version 0 is not supported "
			    "(no weft writes it)");
	/* Not damage: a newer weft reads it (header.version tells callers). */
	if (h->version > WEFT_FORMAT_VERSION)
		return fail(r, "offset 8: format version %u is not supported: the "
			    "trace was written by a newer weft (this one reads "
			    "version %d)", h->version, WEFT_FORMAT_VERSION);
	uint32_t len = weft_get_le32(r->data + 12);
	if (len > r->size - WEFT_FILE_HEADER_FIXED)
		return fail(r, "offset 12: file header length %u runs past the "
			    "end of the file", len);
	const uint8_t *p = r->data + WEFT_FILE_HEADER_FIXED;
	const uint8_t *end = p + len;
	uint64_t *fields[] = { &h->clock_source, &h->frequency, &h->pid,
			       &h->ppid, &h->wallclock_ns, &h->start_ts };
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
		if (weft_get_uleb(&p, end, fields[i]))
			return fail(r, "offset %zu: file header field %zu is "
				    "truncated", (size_t)(p - r->data), i + 1);
	if (h->frequency == 0)
		return fail(r, "offset 16: clock frequency is zero");
	r->pos = WEFT_FILE_HEADER_FIXED + len;
	return WEFT_READ_OK;
}

int weft_reader_open_memory(struct weft_reader *r, const uint8_t *data,
			    size_t size)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	r->data = data;
	r->size = size;
	return read_header(r);
}

int weft_reader_open(struct weft_reader *r, const char *path)
{
	memset(r, 0, sizeof *r);
	r->fd = -1;
	/* Non-blocking: opening a FIFO for reading would otherwise wait for
	 * a writer.  Only regular files are read. */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		snprintf(r->error, sizeof r->error, "%s", strerror(errno));
		return WEFT_READ_IOERR;
	}
	struct stat st;
	if (fstat(fd, &st) < 0) {
		snprintf(r->error, sizeof r->error, "%s", strerror(errno));
		close(fd);
		return WEFT_READ_IOERR;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(r->error, sizeof r->error, "%s",
			 S_ISDIR(st.st_mode) ? "is a directory"
					     : "not a regular file");
		close(fd);
		return WEFT_READ_IOERR;
	}
	if (st.st_size == 0) {
		close(fd);
		snprintf(r->error, sizeof r->error,
			 "offset 0: empty file, not a weft trace");
		return WEFT_READ_CORRUPT;
	}
	void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (p == MAP_FAILED) {
		snprintf(r->error, sizeof r->error, "%s", strerror(errno));
		close(fd);
		return WEFT_READ_IOERR;
	}
	r->fd = fd;
	r->data = p;
	r->size = (size_t)st.st_size;
	r->mapped = 1;
	return read_header(r);
}

void weft_reader_release(struct weft_reader *r, size_t offset)
{
	if (!r->mapped)
		return;
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t end = offset / page * page;
	if (end > r->released) {
		madvise((void *)(r->data + r->released), end - r->released, MADV_DONTNEED);
		r->released = end;
	}
}

void weft_reader_rewind(struct weft_reader *r, size_t offset)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	if (r->released > offset / page * page)
		r->released = offset / page * page;
	r->pos = offset;
}

void weft_reader_close(struct weft_reader *r)
{
	if (r->mapped && r->data)
		munmap((void *)r->data, r->size);
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	r->data = NULL;
	r->mapped = 0;
}

/* Checks the batch header h, read at offset off, and fills b from it
 * (all but its payload). */
static int parse_batch_header(struct weft_reader *r, const uint8_t *h, size_t off,
			      struct weft_batch *b)
{
	if (h[0] != WEFT_BATCH_TAG)
		return fail(r, "offset %zu: missing batch header (byte 0x%02x "
			    "where a batch must start)", off, h[0]);
	if (h[1] || h[2] || h[3])
		return fail(r, "offset %zu: batch header's reserved bytes are not "
			    "zero", off);
	b->header.serial = weft_get_le32(h + 4);
	b->header.generation = weft_get_le32(h + 8);
	b->header.length = weft_get_le32(h + 12);
	b->header.base_ts = weft_get_le64(h + 16);
	b->offset = off;
	b->version = r->header.version;
	if (b->header.length > WEFT_MAX_BATCH)
		return fail(r, "offset %zu: batch of thread %u, generation %u, "
			    "claims %u bytes, which exceeds the format's limit "
			    "(%u)", off, b->header.serial, b->header.generation,
			    b->header.length, WEFT_MAX_BATCH);
	if (b->header.length > r->size - off - WEFT_BATCH_HEADER_SIZE)
		return cut(r, "offset %zu: batch of thread %u, generation %u, "
			    "claims %u bytes but the file ends after %zu "
			    "(truncated trace)", off, b->header.serial,
			    b->header.generation, b->header.length,
			    r->size - off - WEFT_BATCH_HEADER_SIZE);
	if (b->header.generation == 0 && b->header.serial != 0)
		return fail(r, "offset %zu: batch of thread %u has generation 0",
			    off, b->header.serial);
	return WEFT_READ_OK;
}

/* Whether a batch header starts at the reading position: WEFT_READ_OK,
 * WEFT_READ_END at the end of the file, or the truncation. */
static int batch_follows(struct weft_reader *r)
{
	size_t off = r->pos;
	if (off == r->size)
		return WEFT_READ_END;
	if (r->size - off < WEFT_BATCH_HEADER_SIZE)
		return cut(r, "offset %zu: batch header truncated (%zu bytes "
			    "left, a header is %d)", off, r->size - off,
			    WEFT_BATCH_HEADER_SIZE);
	return WEFT_READ_OK;
}

int weft_reader_next_batch(struct weft_reader *r, struct weft_batch *b)
{
	size_t off = r->pos;
	int follows = batch_follows(r);
	if (follows != WEFT_READ_OK)
		return follows;
	const uint8_t *h = r->data + off;
	int rc = parse_batch_header(r, h, off, b);
	if (rc != WEFT_READ_OK)
		return rc;
	b->payload = h + WEFT_BATCH_HEADER_SIZE;
	r->pos = off + WEFT_BATCH_HEADER_SIZE + b->header.length;
	return WEFT_READ_OK;
}

/* Reads len bytes at off into p: 0, or -1 with the reason in r->error. */
static int read_at(struct weft_reader *r, void *p, size_t len, size_t off)
{
	while (len) {
		ssize_t n = pread(r->fd, p, len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(r->error, sizeof r->error, "offset %zu: %s", off,
				 n < 0 ? strerror(errno) : "the file shrank");
			return -1;
		}
		p = (uint8_t *)p + n;
		len -= (size_t)n;
		off += (size_t)n;
	}
	return 0;
}

int weft_reader_next_batch_copy(struct weft_reader *r, struct weft_batch_buffer *buf,
				struct weft_batch *b)
{
	if (r->fd < 0)
		return weft_reader_next_batch(r, b);
	size_t off = r->pos;
	int follows = batch_follows(r);
	if (follows != WEFT_READ_OK)
		return follows;
	uint8_t h[WEFT_BATCH_HEADER_SIZE];
	if (read_at(r, h, sizeof h, off) < 0)
		return WEFT_READ_IOERR;
	int rc = parse_batch_header(r, h, off, b);
	if (rc != WEFT_READ_OK)
		return rc;
	b->payload = NULL;
	r->pos = off + WEFT_BATCH_HEADER_SIZE + b->header.length;
	return buf ? weft_reader_read_payload(r, buf, b) : WEFT_READ_OK;
}

int weft_reader_read_payload(struct weft_reader *r, struct weft_batch_buffer *buf,
			     struct weft_batch *b)
{
	if (b->payload)
		return WEFT_READ_OK;
	if (buf->cap < b->header.length) {
		size_t cap = buf->cap ? buf->cap : 1 << 16;
		while (cap < b->header.length)
			cap *= 2;
		free(buf->p);
		buf->p = malloc(cap);
		if (!buf->p)
			abort();
		buf->cap = cap;
	}
	if (read_at(r, buf->p, b->header.length, b->offset + WEFT_BATCH_HEADER_SIZE) < 0)
		return WEFT_READ_IOERR;
	b->payload = buf->p;
	return WEFT_READ_OK;
}

void weft_batch_buffer_free(struct weft_batch_buffer *buf)
{
	free(buf->p);
	*buf = (struct weft_batch_buffer){ 0 };
}

void weft_cursor_init(struct weft_cursor *c, const struct weft_batch *b)
{
	c->start = c->p = b->payload;
	c->end = b->payload + b->header.length;
	c->file_offset = b->offset + WEFT_BATCH_HEADER_SIZE;
	weft_batch_state_init(&c->state, b->version, b->header.base_ts);
}

size_t weft_cursor_offset(const struct weft_cursor *c)
{
	return c->file_offset + (size_t)(c->p - c->start);
}

int weft_cursor_next(struct weft_reader *r, struct weft_cursor *c,
		     struct weft_record *rec)
{
	if (c->p >= c->end)
		return WEFT_READ_END;
	size_t off = weft_cursor_offset(c);
	const char *why;
	if (weft_decode_record(&c->p, c->end, &c->state, rec, &why) != 0) {
		const char *name = weft_code_name(*c->p, &c->state);
		if (!name)
			return fail(r, "offset %zu: unknown event code 0x%02x",
				    off, *c->p);
		return fail(r, "offset %zu: %s (%s)", off, why, name);
	}
	return WEFT_READ_OK;
}

/* Whether the trace's last record is TRACE_END: the process completed
 * it (at exit, or at the last stop) and was not killed while tracing. */
int weft_trace_is_complete(int fd)
{
	char self[64];
	snprintf(self, sizeof self, "/proc/self/fd/%d", fd);
	struct weft_reader r;
	if (weft_reader_open(&r, self) != WEFT_READ_OK) {
		weft_reader_close(&r);
		return 0;
	}
	struct weft_batch b, last;
	int rc, have_last = 0;
	while ((rc = weft_reader_next_batch(&r, &b)) == WEFT_READ_OK) {
		weft_reader_release(&r, b.offset);
		last = b;
		have_last = 1;
	}
	int last_code = -1;
	if (rc == WEFT_READ_END && have_last) {
		struct weft_cursor c;
		struct weft_record rec;
		weft_cursor_init(&c, &last);
		while ((rc = weft_cursor_next(&r, &c, &rec)) == WEFT_READ_OK)
			last_code = rec.code;
		if (rc != WEFT_READ_END)
			last_code = -1;
	}
	weft_reader_close(&r);
	return last_code == WEFT_EV_TRACE_END;
}
