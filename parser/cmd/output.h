/*
 * output.h - the file a command writes its output to: standard output,
 * a file, or a gzip-compressed file when the name ends in ".gz", all as a
 * stdio stream with a large buffer.
 */
#ifndef WEFT_OUTPUT_H
#define WEFT_OUTPUT_H

#include <stdio.h>

/* Opens path for writing (NULL or "-": standard output; "*.gz": through
 * zlib).  Returns NULL having said why on stderr as "weft CMD: ...". */
FILE *weft_output_open(const char *cmd, const char *path);
/* Flushes and closes it (standard output is flushed only).  Returns 0,
 * or WEFT_EXIT_USAGE having said on stderr that a write failed. */
int weft_output_close(const char *cmd, const char *path, FILE *out);

#endif
