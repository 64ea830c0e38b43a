/*
 * commands.h - the subcommands of `weft` (one file each), as main.c
 * dispatches to them, and the one a subcommand lends another.
 */
#ifndef WEFT_COMMANDS_H
#define WEFT_COMMANDS_H

#include <stdint.h>

int weft_cmd_record(int argc, char **argv);
int weft_cmd_control(int argc, char **argv);
int weft_cmd_check(int argc, char **argv);
int weft_cmd_dump(int argc, char **argv);
int weft_cmd_stats(int argc, char **argv);
int weft_cmd_export(int argc, char **argv);
int weft_cmd_lockorder(int argc, char **argv);
int weft_cmd_view(int argc, char **argv);

/* Checks and reports one file as `weft check` does (weft record --check
 * uses it), on jobs threads; returns its enum weft_verdict and adds the
 * number of its findings to *findings. */
int weft_check_file(const char *path, int json, int quiet, unsigned jobs,
		    uint64_t *findings);

#endif
