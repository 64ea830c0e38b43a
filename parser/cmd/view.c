/*
 * view.c - `weft view`: one self-contained HTML page showing traces on a
 * timeline (the page's code is cmd/view/, built into weft; the data,
 * gathered by view_data.c, goes into it as JSON), written to a file or
 * to a temporary one opened in a local browser.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "commands.h"
#include "common.h"
#include "traces.h"
#include "view_data.h"
#include "view_page.h"

extern char **environ;

/* The data sits in a <script> element: a "<" (only ever inside a JSON
 * string) is written as \u003c, so no name can close the element. */
static ssize_t write_script_safe(void *cookie, const char *buf, size_t size)
{
	FILE *out = cookie;
	size_t done = 0;
	while (done < size) {
		const char *lt = memchr(buf + done, '<', size - done);
		size_t run = lt ? (size_t)(lt - buf) - done : size - done;
		if (fwrite(buf + done, 1, run, out) != run)
			return -1;
		done += run;
		if (lt) {
			if (fputs("\\u003c", out) < 0)
				return -1;
			done++;
		}
	}
	return (ssize_t)size;
}

static int write_page(struct view_data *v, FILE *out)
{
	fwrite(weft_view_page_head, 1, weft_view_page_head_len, out);
	FILE *data = fopencookie(out, "w", (cookie_io_functions_t){
		.write = write_script_safe });
	if (!data)
		return -1;
	setvbuf(data, NULL, _IOFBF, 1 << 16);
	view_data_write(v, data);
	int err = fclose(data) != 0;
	fwrite(weft_view_page_tail, 1, weft_view_page_tail_len, out);
	return err;
}

/* $BROWSER, else xdg-open, when stdout is a terminal: 0 when one was
 * started. */
static int open_browser(const char *path)
{
	if (!isatty(STDOUT_FILENO))
		return -1;
	const char *browser = getenv("BROWSER");
	if (!browser || !*browser)
		browser = "xdg-open";
	char *argv[] = { (char *)browser, (char *)path, NULL };
	pid_t pid;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
	int rc = posix_spawnp(&pid, browser, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (rc)
		return -1;
	int st;
	/* xdg-open returns once the browser has the file; a browser itself
	 * may run on, and is left to. */
	if (!strcmp(browser, "xdg-open") &&
	    (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)))
		return -1;
	return 0;
}

/* A new file for the page in $TMPDIR (else /tmp): its stream, path in buf. */
static FILE *temp_page(char *buf, size_t cap)
{
	const char *dir = getenv("TMPDIR");
	snprintf(buf, cap, "%s/weft-view-XXXXXX.html", dir && *dir ? dir : "/tmp");
	int fd = mkstemps(buf, 5);
	return fd < 0 ? NULL : fdopen(fd, "w");
}

static const char view_usage[] =
	"usage: weft view [-o REPORT.html] [--max-slices N] [--jobs N] FILE|DIR...\n"
	"\n"
	"Write one self-contained HTML page (no network, works from file://)\n"
	"showing the traces on a timeline: a lane per thread, its waits and\n"
	"blocking calls coloured by state, wake-up arrows from each release to\n"
	"the wait it ended, details of a slice on click (object, duration,\n"
	"sites of both sides); the tables of weft stats, sortable, each row\n"
	"leading to its slices; the lock-order graph with its cycles.\n"
	"\n"
	"Slices shown in detail are capped (the longest are kept); time per\n"
	"state, summed into buckets, shows every interval at every zoom.\n"
	"Several traces (files, or a directory of them) share one time line.\n"
	"\n"
	"  -o, --output=OUT    write the page to OUT; without it, to a temporary\n"
	"                      file opened in $BROWSER or by xdg-open when\n"
	"                      standard output is a terminal\n"
	"      --max-slices N  slices shown in detail, over all traces (200000)\n"
	"      --jobs N        check the traces on N threads, as weft check\n"
	"  -h, --help          show this help\n"
	"  -V, --version       show weft's version\n"
	"\n"
	"Exit status: as weft check (0, 1 inconsistent, 2 cannot read or write,\n"
	"3 truncated; of several traces, the worst); the page holds every trace\n"
	"that could be read.\n";

static int parse_max_slices(const char *arg, uint64_t *n)
{
	char *end;
	errno = 0;
	unsigned long long v = strtoull(arg, &end, 10);
	if (!*arg || *end || errno || *arg == '-' || v < 1) {
		fprintf(stderr, "weft view: --max-slices wants a positive number, not "
			"\"%s\"\n", arg);
		return -1;
	}
	*n = v;
	return 0;
}

int weft_cmd_view(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "max-slices", required_argument, NULL, 'M' },
		{ "jobs", required_argument, NULL, 'J' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *output = NULL;
	uint64_t max_slices = VIEW_DEFAULT_MAX_SLICES;
	unsigned jobs = weft_default_jobs();
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'M':
			if (parse_max_slices(optarg, &max_slices) < 0)
				return WEFT_EXIT_USAGE;
			break;
		case 'J':
			if (weft_parse_jobs("view", optarg, &jobs) < 0)
				return WEFT_EXIT_USAGE;
			break;
		case 'h': fputs(view_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default: fputs(view_usage, stderr); return WEFT_EXIT_USAGE;
		}
	}
	struct trace_set set;
	int status = traces_open(&set, argv + optind, argc - optind, "view");
	if (status) {
		fputs(view_usage, stderr);
		return status;
	}
	if (!set.n) {
		status = set.status;
		traces_free(&set);
		return status;
	}
	char temp[4096];
	FILE *out = output ? fopen(output, "w") : temp_page(temp, sizeof temp);
	const char *path = output ? output : temp;
	if (!out) {
		fprintf(stderr, "weft view: %s: %s\n", path, strerror(errno));
		traces_free(&set);
		return WEFT_EXIT_USAGE;
	}
	struct view_data *v = view_data_new(max_slices, set.n);
	status = set.status;
	for (unsigned i = 0; i < set.n; i++)
		status = weft_check_exit(status, view_data_add(v, &set, &set.list[i], jobs));
	int werr = write_page(v, out) != 0;
	werr |= fflush(out) != 0 || ferror(out);
	werr |= fclose(out) != 0;
	view_data_free(v);
	traces_free(&set);
	if (werr) {
		fprintf(stderr, "weft view: %s: %s\n", path, strerror(errno));
		return WEFT_EXIT_USAGE;
	}
	if (!output)
		printf(open_browser(path) == 0 ? "weft view: opened %s in a browser\n"
		       : "weft view: the page is %s (open it in a browser)\n", path);
	return weft_output_written("view", status);
}
