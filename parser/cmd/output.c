/*
 * output.c - where a command's output goes (see output.h).  Compressed
 * output is a stdio stream (fopencookie) over a zlib gzFile, so the
 * writers need not know.
 */
#include "output.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common.h"

#define OUTPUT_BUFFER (1u << 20)

static ssize_t gz_write(void *cookie, const char *buf, size_t len)
{
	size_t done = 0;
	while (done < len) {
		unsigned part = len - done > (1u << 30) ? 1u << 30 : (unsigned)(len - done);
		int n = gzwrite(cookie, buf + done, part);
		if (n <= 0) {
			errno = EIO;
			return done ? (ssize_t)done : -1;
		}
		done += (size_t)n;
	}
	return (ssize_t)done;
}

static int gz_close(void *cookie)
{
	if (gzclose(cookie) != Z_OK) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), m = strlen(tail);
	return n >= m && !strcmp(s + n - m, tail);
}

FILE *weft_output_open(const char *cmd, const char *path)
{
	FILE *out;
	if (!path || !strcmp(path, "-")) {
		out = stdout;
	} else if (ends_with(path, ".gz")) {
		gzFile gz = gzopen(path, "wb6");
		if (!gz) {
			fprintf(stderr, "weft %s: %s: %s\n", cmd, path,
				errno ? strerror(errno) : "cannot open for compression");
			return NULL;
		}
		gzbuffer(gz, 256 * 1024);
		out = fopencookie(gz, "w", (cookie_io_functions_t){
					  .write = gz_write, .close = gz_close });
		if (!out) {
			gzclose(gz);
			fprintf(stderr, "weft %s: %s: %s\n", cmd, path, strerror(errno));
			return NULL;
		}
	} else if (!(out = fopen(path, "w"))) {
		fprintf(stderr, "weft %s: %s: %s\n", cmd, path, strerror(errno));
		return NULL;
	}
	setvbuf(out, NULL, _IOFBF, OUTPUT_BUFFER);
	return out;
}

int weft_output_close(const char *cmd, const char *path, FILE *out)
{
	int failed = fflush(out) != 0 || ferror(out);
	int err = errno;
	if (out != stdout && fclose(out) != 0) {
		failed = 1;
		err = errno;
	}
	if (!failed)
		return 0;
	fprintf(stderr, "weft %s: %s: %s\n", cmd, path ? path : "stdout", strerror(err));
	return WEFT_EXIT_USAGE;
}
