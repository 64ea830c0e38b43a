/*
 * record.c - `weft record`: run a command with libweft.so preloaded, pass
 * its exit status through, and say which traces it wrote.
 *
 * Every traced process (the command, its fork children, the images it
 * execs) appends its trace's path to a manifest file named in
 * WEFT_MANIFEST, so the list is exact whatever the processes are called.
 */
#include "cli.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef WEFT_INSTALLED_PRELOAD
#define WEFT_INSTALLED_PRELOAD ""
#endif

static const char record_usage[] =
	"usage: weft record [-o PATH] [--stacks] [--check] -- COMMAND [ARGS...]\n"
	"\n"
	"Run COMMAND with weft's tracer preloaded and write a trace for every\n"
	"process it starts.\n"
	"\n"
	"  -o, --output PATH  trace path; %p is replaced by the process id\n"
	"                     (default weft-%p.trace).  An existing weft trace\n"
	"                     at PATH is replaced; any other file is kept.\n"
	"      --stacks       record a call stack on every blocking event\n"
	"      --check        check every trace the run wrote (as weft check)\n"
	"  -h, --help         show this help\n"
	"  -V, --version      show weft's version\n"
	"\n"
	"Exit status: COMMAND's own (128+N if signal N killed it), except that\n"
	"with --check a trace that is not complete and consistent turns a\n"
	"status of 0 into 1; 125 when\n"
	"weft itself fails (bad option, statically linked COMMAND, no\n"
	"libweft.so); 126 when COMMAND cannot be run; 127 when it is not found.\n";

static int file_exists(const char *p)
{
	return access(p, R_OK) == 0;
}

/* libweft.so: $WEFT_PRELOAD, then beside the build tree's weft, then the
 * installed copy. */
static int find_preload(char *out, size_t cap)
{
	const char *env = getenv("WEFT_PRELOAD");
	if (env && *env) {
		if (!file_exists(env)) {
			fprintf(stderr, "weft record: WEFT_PRELOAD=%s: no such file\n", env);
			return -1;
		}
		snprintf(out, cap, "%s", env);
		return 0;
	}
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = 0;
		char *slash = strrchr(exe, '/');
		if (slash) {
			*slash = 0;
			char guess[PATH_MAX + 32], real[PATH_MAX];
			snprintf(guess, sizeof guess, "%s/../preload/libweft.so", exe);
			if (file_exists(guess) && realpath(guess, real)) {
				snprintf(out, cap, "%s", real);
				return 0;
			}
		}
	}
	if (WEFT_INSTALLED_PRELOAD[0] && file_exists(WEFT_INSTALLED_PRELOAD)) {
		snprintf(out, cap, "%s", WEFT_INSTALLED_PRELOAD);
		return 0;
	}
	fprintf(stderr, "weft record: cannot find libweft.so (set WEFT_PRELOAD "
		"to its path)\n");
	return -1;
}

/* COMMAND resolved through PATH as execvp would; returns 0, or the exit
 * status to give up with. */
static int resolve_command(const char *cmd, char *out, size_t cap)
{
	if (strchr(cmd, '/')) {
		snprintf(out, cap, "%s", cmd);
		if (access(out, F_OK) != 0) {
			fprintf(stderr, "weft record: %s: %s\n", cmd, strerror(errno));
			return WEFT_EXIT_NOT_FOUND;
		}
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t len = strcspn(path, ":");
		snprintf(out, cap, "%.*s%s%s", (int)len, path, len ? "/" : "", cmd);
		struct stat st;
		if (stat(out, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(out, X_OK) == 0)
			return 0;
		path += len + (path[len] == ':');
	}
	fprintf(stderr, "weft record: %s: command not found\n", cmd);
	return WEFT_EXIT_NOT_FOUND;
}

/* 1 when path is an ELF executable with no program interpreter (static),
 * 0 otherwise (dynamic, a script, or unreadable: exec will tell). */
static int is_static_elf(const char *path)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	Elf64_Ehdr eh;
	int is_static = 0;
	if (pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
	    memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 &&
	    eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_phentsize == sizeof(Elf64_Phdr)) {
		int has_interp = 0;
		for (unsigned i = 0; i < eh.e_phnum; i++) {
			Elf64_Phdr ph;
			if (pread(fd, &ph, sizeof ph, (off_t)(eh.e_phoff + i * sizeof ph)) !=
			    (ssize_t)sizeof ph)
				break;
			if (ph.p_type == PT_INTERP)
				has_interp = 1;
		}
		is_static = !has_interp && eh.e_type == ET_EXEC;
		/* A static-pie has type ET_DYN but no interpreter either. */
		if (!has_interp && eh.e_type == ET_DYN) {
			is_static = 1;
			for (unsigned i = 0; i < eh.e_phnum; i++) {
				Elf64_Phdr ph;
				if (pread(fd, &ph, sizeof ph,
					  (off_t)(eh.e_phoff + i * sizeof ph)) != (ssize_t)sizeof ph)
					break;
				/* A shared library run directly (ld.so itself) is fine. */
				if (ph.p_type == PT_DYNAMIC && eh.e_entry == 0)
					is_static = 0;
			}
		}
	}
	close(fd);
	return is_static;
}

/* Clears the way for the trace at path: an old weft trace is replaced, any
 * other file is refused.  Patterns with %p are left alone (each process
 * picks a fresh name). */
static int prepare_output(const char *path)
{
	if (strstr(path, "%p"))
		return 0;
	struct stat st;
	if (lstat(path, &st) != 0)
		return 0;
	char magic[8] = { 0 };
	int fd = S_ISREG(st.st_mode) ? open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW) : -1;
	ssize_t n = fd >= 0 ? read(fd, magic, sizeof magic) : -1;
	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof magic || memcmp(magic, "WEFTRACE", 8) != 0) {
		fprintf(stderr, "weft record: %s exists and is not a weft trace; "
			"not replacing it\n", path);
		return -1;
	}
	if (unlink(path) != 0) {
		fprintf(stderr, "weft record: cannot replace %s: %s\n", path,
			strerror(errno));
		return -1;
	}
	return 0;
}

static int prepend_env(const char *name, const char *value)
{
	const char *old = getenv(name);
	if (!old || !*old)
		return setenv(name, value, 1);
	size_t len = strlen(value) + strlen(old) + 2;
	char *both = malloc(len);
	if (!both)
		return -1;
	snprintf(both, len, "%s:%s", value, old);
	int rc = setenv(name, both, 1);
	free(both);
	return rc;
}

/* Prints the traces the run wrote; with check, checks each.  Returns the
 * worst verdict. */
static int report_traces(const char *manifest, int check)
{
	int worst = 0;
	FILE *f = fopen(manifest, "r");
	if (!f)
		return 0;
	char line[PATH_MAX + 32];
	int any = 0;
	while (fgets(line, sizeof line, f)) {
		line[strcspn(line, "\n")] = 0;
		char *path = strchr(line, ' ');
		if (!path)
			continue;
		any = 1;
		fprintf(stderr, "weft: trace of pid %.*s written to %s\n",
			(int)(path - line), line, path + 1);
		if (check) {
			fflush(stdout);
			uint64_t findings = 0;
			worst = weft_check_exit(worst, weft_check_file(path + 1, 0, 0,
								       &findings));
		}
	}
	if (!any)
		fprintf(stderr, "weft: no trace was written (the command may be "
			"statically linked or setuid)\n");
	fclose(f);
	return worst;
}

int weft_cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "stacks", no_argument, NULL, 'S' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *output = "weft-%p.trace";
	int stacks = 0, check = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'S': stacks = 1; break;
		case 'C': check = 1; break;
		case 'h': fputs(record_usage, stdout); return 0;
		case 'V': return weft_print_version();
		default:
			fputs(record_usage, stderr);
			return WEFT_EXIT_RECORD_FAILED;
		}
	}
	if (optind >= argc) {
		fprintf(stderr, "weft record: no command given\n");
		fputs(record_usage, stderr);
		return WEFT_EXIT_RECORD_FAILED;
	}
	if (!*output) {
		fprintf(stderr, "weft record: the output path is empty\n");
		return WEFT_EXIT_RECORD_FAILED;
	}
	char **cmd = argv + optind;
	char preload[PATH_MAX], exe[PATH_MAX];
	if (find_preload(preload, sizeof preload) < 0)
		return WEFT_EXIT_RECORD_FAILED;
	int rc = resolve_command(cmd[0], exe, sizeof exe);
	if (rc)
		return rc;
	if (is_static_elf(exe)) {
		fprintf(stderr, "weft record: %s is statically linked; weft traces "
			"only dynamically linked programs\n", exe);
		return WEFT_EXIT_RECORD_FAILED;
	}
	if (prepare_output(output) < 0)
		return WEFT_EXIT_RECORD_FAILED;

	char manifest[] = "/tmp/weft-manifest-XXXXXX";
	const char *tmpdir = getenv("TMPDIR");
	char manifest_buf[PATH_MAX];
	if (tmpdir && *tmpdir)
		snprintf(manifest_buf, sizeof manifest_buf, "%s/weft-manifest-XXXXXX", tmpdir);
	else
		snprintf(manifest_buf, sizeof manifest_buf, "%s", manifest);
	int mfd = mkstemp(manifest_buf);
	if (mfd < 0) {
		fprintf(stderr, "weft record: cannot create a temporary file: %s\n",
			strerror(errno));
		return WEFT_EXIT_RECORD_FAILED;
	}
	close(mfd);

	if (prepend_env("LD_PRELOAD", preload) || setenv("WEFT_OUTPUT", output, 1) ||
	    setenv("WEFT_MANIFEST", manifest_buf, 1) ||
	    (stacks && setenv("WEFT_STACKS", "1", 1))) {
		fprintf(stderr, "weft record: cannot set the environment\n");
		unlink(manifest_buf);
		return WEFT_EXIT_RECORD_FAILED;
	}

	/* Like a shell running a foreground job: the terminal's SIGINT and
	 * SIGQUIT go to the command, which decides; weft waits. */
	struct sigaction ign = { .sa_handler = SIG_IGN }, old_int, old_quit;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid_t pid = fork();
	if (pid < 0) {
		fprintf(stderr, "weft record: fork: %s\n", strerror(errno));
		unlink(manifest_buf);
		return WEFT_EXIT_RECORD_FAILED;
	}
	if (pid == 0) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGQUIT, &old_quit, NULL);
		execv(exe, cmd);
		int e = errno;
		fprintf(stderr, "weft record: %s: %s\n", cmd[0], strerror(e));
		_exit(e == ENOENT ? WEFT_EXIT_NOT_FOUND : WEFT_EXIT_CANNOT_RUN);
	}
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGQUIT, &old_quit, NULL);
	int verdict = report_traces(manifest_buf, check);
	unlink(manifest_buf);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	if (WEXITSTATUS(status) == 0 && verdict != 0)
		return 1;
	return WEXITSTATUS(status);
}
