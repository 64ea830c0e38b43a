/*
 * reader.h - reading a weft trace: the file header, batches in file order,
 * and the records inside a batch.  Every structural error is reported with
 * the byte offset where it was found; nothing here trusts a length or a
 * count it has not checked against the file.
 */
#ifndef WEFT_READER_H
#define WEFT_READER_H

#include <stddef.h>
#include <stdint.h>

#include "record.h"

struct weft_file_header {
	uint32_t version;
	uint64_t clock_source;
	uint64_t frequency;
	uint64_t pid;
	uint64_t ppid;
	uint64_t wallclock_ns;
	uint64_t start_ts;
};

struct weft_reader {
	const uint8_t *data;
	size_t size;
	size_t pos;       /* offset of the next batch */
	int mapped;
	int fd;           /* the file, -1 for memory */
	size_t released;  /* bytes before this are given back (page-aligned) */
	struct weft_file_header header;
	char error[512];  /* the last error, with its byte offset */
};

struct weft_batch {
	struct weft_batch_header header;
	uint32_t version;        /* the file's format version: how its
				    records are coded */
	size_t offset;           /* of the batch header in the file */
	const uint8_t *payload;  /* header.length bytes */
};

/* Outcome of the reader's calls. */
enum {
	WEFT_READ_OK = 0,
	WEFT_READ_END = 1,      /* no more batches */
	WEFT_READ_IOERR = -1,   /* the file cannot be read */
	WEFT_READ_CORRUPT = -2, /* the bytes are not a valid trace */
	WEFT_READ_TRUNCATED = -3, /* the file ends inside a batch: what
				     precedes it is whole, the writer was
				     stopped mid-write */
};

/* Opens path and reads its file header. */
int weft_reader_open(struct weft_reader *r, const char *path);
/* Reads from memory the caller keeps alive (tests, fuzzing). */
int weft_reader_open_memory(struct weft_reader *r, const uint8_t *data,
			    size_t size);
void weft_reader_close(struct weft_reader *r);
/* The caller is done with every byte before offset: the pages holding them
 * are given back, so reading a trace takes memory for what is still in use
 * (one or two generations), not for the file. */
void weft_reader_release(struct weft_reader *r, size_t offset);
/* Reads again from offset (a batch's, or r->pos as it was): pages given
 * back before it are read back in as they are needed, and released again
 * as reading passes them. */
void weft_reader_rewind(struct weft_reader *r, size_t offset);

/* The next batch in file order: WEFT_READ_OK, WEFT_READ_END,
 * WEFT_READ_TRUNCATED (the file ends inside it) or WEFT_READ_CORRUPT, the
 * last two with the reason in r->error. */
int weft_reader_next_batch(struct weft_reader *r, struct weft_batch *b);

/* The same, but the batch is read into buf (pread), not used where the
 * file is mapped: for a pass over the whole file before the pass that
 * reads it through the mapping, which then finds the file's pages not
 * yet mapped and maps each once.  With buf NULL only the header is read
 * (b->payload is NULL), and weft_reader_read_payload() reads the payload
 * of the batch when it is wanted.  A reader of memory reads in place. */
struct weft_batch_buffer {
	uint8_t *p;
	size_t cap;
};
int weft_reader_next_batch_copy(struct weft_reader *r,
				struct weft_batch_buffer *buf,
				struct weft_batch *b);
int weft_reader_read_payload(struct weft_reader *r, struct weft_batch_buffer *buf,
			     struct weft_batch *b);
void weft_batch_buffer_free(struct weft_batch_buffer *buf);

/* Walks the records of one batch. */
struct weft_cursor {
	const uint8_t *start, *p, *end;
	size_t file_offset;  /* of start */
	struct weft_batch_state state;
};

void weft_cursor_init(struct weft_cursor *c, const struct weft_batch *b);
/* WEFT_READ_OK with the record in *rec, WEFT_READ_END at the end of the
 * batch, or WEFT_READ_CORRUPT with the reason in r->error. */
int weft_cursor_next(struct weft_reader *r, struct weft_cursor *c,
		     struct weft_record *rec);
/* File offset of the record the cursor will read next. */
size_t weft_cursor_offset(const struct weft_cursor *c);

/* Whether the trace open at fd ends with TRACE_END (its process completed
 * it, at exit or at the last stop, and was not killed while tracing); 0
 * for one cut short or unreadable. */
int weft_trace_is_complete(int fd);

#endif
