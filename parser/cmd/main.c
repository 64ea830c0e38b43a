/*
 * main.c - the `weft` command: dispatches to its subcommands.
 */
#include "common.h"

#include <stdio.h>
#include <string.h>

#include "wire.h"

#ifndef WEFT_VERSION
#define WEFT_VERSION "unknown"
#endif

static const char usage[] =
	"usage: weft COMMAND [ARGS...]\n"
	"\n"
	"weft records what every thread of a pthread program does (locks,\n"
	"waits, blocking system calls, thread life cycle) and reads the traces.\n"
	"\n"
	"commands:\n"
	"  record [-o PATH] [--stacks] [--check] -- CMD [ARGS...]\n"
	"                                trace a program\n"
	"  start|stop [--timeout SECONDS] PID\n"
	"                                switch tracing in a running process\n"
	"  check [--json] [--quiet] FILE...\n"
	"                                prove traces are consistently ordered\n"
	"  dump [--summary] [--file-order] FILE...\n"
	"                                print a trace\n"
	"  stats [--json] [--top N] [--thread T] [--lock L] FILE\n"
	"                                where the time went: threads, locks,\n"
	"                                waits, system calls\n"
	"  export --format=chrome [-o OUT] FILE\n"
	"                                Trace Event JSON for Perfetto UI\n"
	"  lockorder [--fail] FILE       lock-order cycles (potential deadlocks)\n"
	"\n"
	"Run 'weft COMMAND --help' for a command's options.\n"
	"  -h, --help     show this help\n"
	"  -V, --version  show weft's version\n";

int weft_print_version(void)
{
	printf("weft %s (trace format %d)\n", WEFT_VERSION, WEFT_FORMAT_VERSION);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return WEFT_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		fputs(usage, stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version"))
		return weft_print_version();
	if (!strcmp(cmd, "record"))
		return weft_cmd_record(argc - 1, argv + 1);
	if (!strcmp(cmd, "start") || !strcmp(cmd, "stop"))
		return weft_cmd_control(argc - 1, argv + 1);
	if (!strcmp(cmd, "check"))
		return weft_cmd_check(argc - 1, argv + 1);
	if (!strcmp(cmd, "dump"))
		return weft_cmd_dump(argc - 1, argv + 1);
	if (!strcmp(cmd, "stats"))
		return weft_cmd_stats(argc - 1, argv + 1);
	if (!strcmp(cmd, "export"))
		return weft_cmd_export(argc - 1, argv + 1);
	if (!strcmp(cmd, "lockorder"))
		return weft_cmd_lockorder(argc - 1, argv + 1);
	fprintf(stderr, "weft: unknown command '%s' (try 'weft --help')\n", cmd);
	return WEFT_EXIT_USAGE;
}
