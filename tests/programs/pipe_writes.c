/*
 * pipe_writes.c - main makes exactly 1000 write() calls of 8 bytes each to
 * the write end of a pipe; a reader thread read()s the other end into a
 * 64-byte buffer until EOF, counting bytes.
 *
 * A trace must show exactly 1000 write begin/end pairs on the pipe's write
 * descriptor, all from the main thread, each returning 8, and a stream of
 * reads on the read descriptor from the reader thread ending in one that
 * returns 0 (EOF).  Main writes nothing else before the join; its only
 * other output is one printf after it.
 *
 * stdout: "bytes=8000", exit 0.
 */
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define NWRITES 1000
#define CHUNK 8

static int fds[2];
static long total_read;
static int read_error;

static void *reader(void *arg)
{
	char buf[64];

	(void)arg;
	for (;;) {
		ssize_t n = read(fds[0], buf, sizeof buf);
		if (n == 0)
			break;
		if (n < 0) {
			read_error = 1;
			break;
		}
		total_read += n;
	}
	close(fds[0]);
	return NULL;
}

int main(void)
{
	pthread_t t;
	char chunk[CHUNK];
	int write_error = 0;

	if (pipe(fds) != 0)
		return 1;
	if (pthread_create(&t, NULL, reader, NULL) != 0)
		return 1;

	memcpy(chunk, "weft-pw\n", CHUNK);
	for (int i = 0; i < NWRITES; i++)
		if (write(fds[1], chunk, CHUNK) != CHUNK)
			write_error = 1;   /* reported after the join */
	close(fds[1]);
	pthread_join(t, NULL);

	printf("bytes=%ld\n", total_read);
	if (write_error || read_error) {
		printf("error: write_error=%d read_error=%d\n", write_error, read_error);
		return 1;
	}
	return total_read == (long)NWRITES * CHUNK ? 0 : 1;
}
