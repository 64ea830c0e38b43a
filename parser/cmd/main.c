/*
 * main.c - the `weft` command: the table of its subcommands, the
 * overview --help prints from it, and the dispatch.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "common.h"
#include "symbols.h"

struct subcommand {
	const char *name;
	int (*run)(int argc, char **argv);
	/* How the overview lists it (NULL: on the line of the one before),
	 * and what it does, one line or a few joined by newlines. */
	const char *synopsis;
	const char *help;
};

static const struct subcommand subcommands[] = {
	{ "record", weft_cmd_record,
	  "record [-o PATH] [--stacks] [--check] -- CMD [ARGS...]",
	  "trace a program" },
	{ "start", weft_cmd_control, "start|stop [--timeout SECONDS] PID",
	  "switch tracing in a running process" },
	{ "stop", weft_cmd_control, NULL, NULL },
	{ "check", weft_cmd_check, "check [--json] [--quiet] FILE...",
	  "prove traces are consistently ordered" },
	{ "dump", weft_cmd_dump, "dump [--summary] [--file-order] FILE...",
	  "print a trace" },
	{ "stats", weft_cmd_stats,
	  "stats [--json] [--top N] [--thread T] [--lock L] FILE",
	  "where the time went: threads, locks,\nwaits, system calls" },
	{ "export", weft_cmd_export, "export [--format=perfetto|chrome] [-o OUT] FILE",
	  "a timeline for Perfetto UI: its protobuf\nformat or Trace Event JSON" },
	{ "lockorder", weft_cmd_lockorder, "lockorder [--fail] FILE",
	  "lock-order cycles (potential deadlocks)" },
	{ "view", weft_cmd_view, "view [-o REPORT.html] FILE...",
	  "the traces on a timeline, in one HTML\npage that works offline" },
};

#define HELP_COLUMN 32

static void usage(FILE *out)
{
	fputs("usage: weft COMMAND [ARGS...]\n"
	      "\n"
	      "weft records what every thread of a pthread program does (locks,\n"
	      "waits, blocking system calls, thread life cycle) and reads the traces.\n"
	      "\n"
	      "commands:\n", out);
	for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++) {
		const struct subcommand *c = &subcommands[i];
		if (!c->synopsis)
			continue;
		int width = fprintf(out, "  %s", c->synopsis);
		if (width >= HELP_COLUMN) {
			fputc('\n', out);
			width = 0;
		}
		for (const char *line = c->help; *line;) {
			size_t len = strcspn(line, "\n");
			fprintf(out, "%*s%.*s\n", HELP_COLUMN - width, "", (int)len, line);
			width = 0;
			line += len + (line[len] == '\n');
		}
	}
	fputs("\n"
	      "Run 'weft COMMAND --help' for a command's options.\n"
	      "  -h, --help     show this help\n"
	      "  -V, --version  show weft's version\n", out);
}

static void say_notice(const char *message)
{
	fprintf(stderr, "weft: %s\n", message);
}

int main(int argc, char **argv)
{
	weft_symbols_set_notice(say_notice);
	if (argc < 2) {
		usage(stderr);
		return WEFT_EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "-h") || !strcmp(cmd, "--help") || !strcmp(cmd, "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(cmd, "-V") || !strcmp(cmd, "--version"))
		return weft_print_version();
	for (size_t i = 0; i < sizeof subcommands / sizeof *subcommands; i++)
		if (!strcmp(cmd, subcommands[i].name))
			return subcommands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "weft: unknown command '%s' (try 'weft --help')\n", cmd);
	return WEFT_EXIT_USAGE;
}
