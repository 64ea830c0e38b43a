/*
 * record.c - `weft record`: run a command with libweft.so preloaded, pass
 * its exit status through, and say which traces it wrote.
 *
 * Every traced process (the command, its fork children, the images it
 * execs) appends its trace's path to a manifest file named in
 * WEFT_MANIFEST, so the list is exact whatever the processes are called.
 *
 * What would leave the run untraced is refused before the command starts:
 * a statically linked or set-user-ID command, an output path in a
 * directory that is missing or cannot be written.  An earlier weft trace
 * at the output path is kept as PATH.old, as perf record does.
 */
#include "commands.h"
#include "common.h"
#include "grow.h"
#include "process.h"
#include "record_signals.h"
#include "text.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/wait.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#ifndef WEFT_INSTALLED_PRELOAD
#define WEFT_INSTALLED_PRELOAD ""
#endif

static const char record_usage[] =
	"usage: weft record [-o PATH] [--stacks] [--mode=MODE] [--check] -- COMMAND\n"
	"                   [ARGS...]\n"
	"\n"
	"Run COMMAND with weft's tracer preloaded and write a trace for every\n"
	"process it starts.\n"
	"\n"
	"  -o, --output PATH  trace path; %p is replaced by the process id\n"
	"                     (default weft-%p.trace).  An existing weft trace\n"
	"                     at PATH is renamed PATH.old; any other file there\n"
	"                     is kept and the command is not run.\n"
	"      --stacks       record a call stack on every blocking event, and\n"
	"                     where each lock acquisition was made\n"
	"      --mode=MODE    full (the default) records every event; contention\n"
	"                     records a mutex, rwlock or spin lock acquisition\n"
	"                     only when it has to wait, counts the others per\n"
	"                     thread and lock, and records no release of those\n"
	"                     locks: cheaper for programs that lock a lot, with\n"
	"                     no hold times and no lock order (WEFT_MODE)\n"
	"      --check        check every trace the run wrote (as weft check)\n"
	"  -h, --help         show this help\n"
	"  -V, --version      show weft's version\n"
	"\n"
	"SIGINT, SIGQUIT, SIGTERM and SIGHUP sent to weft record are passed on\n"
	"to COMMAND, and weft record waits for it to end.\n"
	"\n"
	"Exit status: COMMAND's own (128+N if signal N killed it), except that\n"
	"with --check a run that wrote no trace, a process that could not create\n"
	"its trace, or a trace that is not complete and consistent, turns a status\n"
	"of 0 into 1; 125 when weft itself fails or refuses (bad option,\n"
	"statically linked or set-user-ID COMMAND, an output directory that is\n"
	"missing or not writable, no libweft.so); 126 when COMMAND cannot be run;\n"
	"127 when it is not found.\n";

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

/* 0 when path can be read and is not an ELF file (a script, whose
 * set-user-ID bit Linux ignores), 1 otherwise. */
static int may_be_elf(const char *path)
{
	char magic[SELFMAG];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 1;
	int elf = read(fd, magic, SELFMAG) != SELFMAG || memcmp(magic, ELFMAG, SELFMAG) == 0;
	close(fd);
	return elf;
}

/* 1 when running path gives capabilities weft record does not have (as
 * root, it has them all already). */
static int gains_capabilities(const char *path)
{
	struct vfs_cap_data file;
	ssize_t n = getxattr(path, "security.capability", &file, sizeof file);
	if (n < (ssize_t)XATTR_CAPS_SZ_1)
		return 0;
	struct __user_cap_header_struct hdr = { _LINUX_CAPABILITY_VERSION_3, 0 };
	struct __user_cap_data_struct mine[2];
	if (syscall(SYS_capget, &hdr, mine) != 0)
		return 1;
	int words = n >= (ssize_t)XATTR_CAPS_SZ_2 ? 2 : 1;
	for (int i = 0; i < words; i++)
		if (file.data[i].permitted & ~mine[i].permitted)
			return 1;
	return 0;
}

/* Why the dynamic loader would run path in secure-execution mode, where
 * it ignores LD_PRELOAD (and the preload stays off): NULL when it would
 * not.  Set-user-ID and set-group-ID bits change nothing on a file system
 * mounted nosuid, on a script, or when they name who runs it already. */
static const char *secure_execution_reason(const char *path)
{
	struct stat st;
	struct statvfs fs;
	if (stat(path, &st) != 0 || (statvfs(path, &fs) == 0 && (fs.f_flag & ST_NOSUID)) ||
	    !may_be_elf(path))
		return NULL;
	if ((st.st_mode & S_ISUID) && st.st_uid != geteuid())
		return "set-user-ID";
	if ((st.st_mode & S_ISGID) && (st.st_mode & S_IXGRP) && st.st_gid != getegid())
		return "set-group-ID";
	if (gains_capabilities(path))
		return "given file capabilities";
	return NULL;
}

/* 1 when path is a regular file that starts like a weft trace. */
static int is_weft_trace(const char *path)
{
	char magic[8] = { 0 };
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	if (fd < 0)
		return 0;
	struct stat st;
	int is_trace = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
		       read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
		       memcmp(magic, "WEFTRACE", 8) == 0;
	close(fd);
	return is_trace;
}

/* The directory the trace goes in must exist and be writable (a pattern
 * whose directory part holds a % is left for the preload to expand). */
static int check_output_directory(const char *path)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	if (!slash)
		snprintf(dir, sizeof dir, ".");
	else if (slash == path)
		snprintf(dir, sizeof dir, "/");
	else
		snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
	if (strchr(dir, '%'))
		return 0;
	struct stat st;
	const char *problem = NULL;
	if (stat(dir, &st) != 0)
		problem = strerror(errno);
	else if (!S_ISDIR(st.st_mode))
		problem = strerror(ENOTDIR);
	else if (access(dir, W_OK | X_OK) != 0)
		problem = strerror(errno);
	if (!problem)
		return 0;
	fprintf(stderr, "weft record: cannot write a trace in %s: %s\n", dir, problem);
	return -1;
}

/* Clears the way for the trace at path: an earlier weft trace there is
 * renamed PATH.old (replacing an older weft trace of that name), any other
 * file is refused.  Patterns with %p are left alone (each process picks a
 * fresh name). */
static int prepare_output(const char *path)
{
	if (check_output_directory(path) < 0)
		return -1;
	if (strstr(path, "%p"))
		return 0;
	struct stat st;
	if (lstat(path, &st) != 0)
		return 0;
	if (!is_weft_trace(path)) {
		fprintf(stderr, "weft record: %s exists and is not a weft trace; "
			"not replacing it\n", path);
		return -1;
	}
	char old[PATH_MAX + 8];
	snprintf(old, sizeof old, "%s.old", path);
	if (lstat(old, &st) == 0 && !is_weft_trace(old)) {
		fprintf(stderr, "weft record: %s exists and is not a weft trace; "
			"not replacing it with the earlier trace %s\n", old, path);
		return -1;
	}
	if (rename(path, old) != 0) {
		fprintf(stderr, "weft record: cannot rename %s to %s: %s\n", path,
			old, strerror(errno));
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

/* The manifest's contents (NUL-terminated, malloc'd; NULL when it cannot
 * be read). */
static char *read_manifest(const char *manifest)
{
	FILE *f = fopen(manifest, "r");
	if (!f)
		return NULL;
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	char chunk[4096];
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
		if (len + n + 1 > cap) {
			cap = (len + n + 1) * 2;
			char *more = realloc(text, cap);
			if (!more)
				break;
			text = more;
		}
		memcpy(text + len, chunk, n);
		len += n;
	}
	fclose(f);
	if (!text)
		text = calloc(1, 1);
	else
		text[len] = 0;
	return text;
}

/* A trace the run wrote: its manifest line ("PID PATH"), the program's
 * name, and whether its process completed it. */
struct written {
	const char *pid, *path;
	char name[64];
	int cut_short;
};

/* Reads what w's trace says (a trace written into a FIFO is the reader's
 * at the other end: it is left alone). */
static void look_at(struct written *w)
{
	snprintf(w->name, sizeof w->name, "?");
	int fd = open(w->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	int regular = fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode);
	if (regular)
		w->cut_short = !weft_trace_is_complete(fd);
	if (fd >= 0)
		close(fd);
	if (!regular)
		return;
	struct weft_reader r;
	if (weft_reader_open(&r, w->path) == WEFT_READ_OK) {
		struct weft_process p;
		weft_process_find(&r, &p);
		weft_safe_text(w->name, sizeof w->name, weft_process_name(&p), 32);
	}
	weft_reader_close(&r);
}

/* The directory all of the traces are in, with its '/', in dir; 0 when
 * they are not all in one. */
static int one_directory(const struct written *ws, unsigned n, char *dir, size_t cap)
{
	const char *slash = strrchr(ws[0].path, '/');
	size_t len = slash ? (size_t)(slash - ws[0].path) + 1 : 0;
	for (unsigned i = 1; i < n; i++) {
		const char *s = strrchr(ws[i].path, '/');
		size_t l = s ? (size_t)(s - ws[i].path) + 1 : 0;
		if (l != len || strncmp(ws[i].path, ws[0].path, len))
			return 0;
	}
	snprintf(dir, cap, "%.*s", (int)len, ws[0].path);
	return len > 0;
}

/* Says which traces the run wrote, in one line: one trace by its path;
 * several by their count and directory, then each by its file name and
 * program, in the order the processes began.  A trace cut short (its
 * process killed before weft could complete it) says so. */
static void print_written(struct written *ws, unsigned n)
{
	if (n == 1) {
		if (ws[0].cut_short)
			fprintf(stderr, "weft: trace of pid %s (%s) is cut short (the process "
				"was killed before weft could complete it): %s\n",
				ws[0].pid, ws[0].name, ws[0].path);
		else
			fprintf(stderr, "weft: trace of pid %s (%s) written to %s\n",
				ws[0].pid, ws[0].name, ws[0].path);
		return;
	}
	char dir[PATH_MAX];
	int same = one_directory(ws, n, dir, sizeof dir);
	unsigned cut = 0;
	for (unsigned i = 0; i < n; i++)
		cut += ws[i].cut_short;
	fprintf(stderr, "weft: %u traces written%s%s", n, same ? " to " : "",
		same ? dir : "");
	if (cut)
		fprintf(stderr, " (%u cut short, killed before weft could complete "
			"them)", cut);
	fputs(":", stderr);
	size_t skip = same ? strlen(dir) : 0;
	for (unsigned i = 0; i < n; i++)
		fprintf(stderr, "%s %s (%s%s)", i ? "," : "", ws[i].path + skip,
			ws[i].name, ws[i].cut_short ? ", cut short" : "");
	fputs("\n", stderr);
}

/* Prints the traces the run wrote (the manifest's lines: "PID PATH", or
 * "PID !PATH" for a process that could not create its trace at PATH);
 * with check, checks each.  Returns the worst verdict; with check, a run
 * that wrote no trace, or in which a process lost its trace, is a
 * failure. */
static int report_traces(char *manifest, int check)
{
	struct written *ws = NULL;
	unsigned n = 0, cap = 0, lost = 0;
	for (char *line = manifest, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = 0;
		char *path = strchr(line, ' ');
		if (!path)
			continue;
		*path++ = 0;
		if (*path == '!') {
			fprintf(stderr, "weft: pid %s could not create its trace %s, so "
				"it was not traced\n", line, path + 1);
			lost++;
			continue;
		}
		WEFT_GROW(ws, n, cap, 16);
		ws[n] = (struct written){ .pid = line, .path = path };
		look_at(&ws[n++]);
	}
	if (n)
		print_written(ws, n);
	int worst = 0;
	for (unsigned i = 0; i < n && check; i++) {
		fflush(stdout);
		uint64_t findings = 0;
		worst = weft_check_exit(worst, weft_check_file(ws[i].path, 0, 0,
							       weft_default_jobs(),
							       &findings));
	}
	free(ws);
	if (!n && check) {
		fprintf(stderr, "weft record: no trace was written, so nothing was "
			"checked (a process that is statically linked or set-user-ID "
			"is not traced)\n");
		worst = WEFT_EXIT_BAD;
	} else if (!n && !lost) {
		fprintf(stderr, "weft: no trace was written (the command may be "
			"statically linked or setuid)\n");
	}
	if (lost && check)
		worst = weft_check_exit(worst, WEFT_EXIT_BAD);
	return worst;
}

int weft_cmd_record(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "stacks", no_argument, NULL, 'S' },
		{ "mode", required_argument, NULL, 'M' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	const char *output = "weft-%p.trace";
	const char *mode = NULL;
	int stacks = 0, check = 0, c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+o:hV", opts, NULL)) != -1) {
		switch (c) {
		case 'o': output = optarg; break;
		case 'S': stacks = 1; break;
		case 'M':
			if (strcmp(optarg, "full") && strcmp(optarg, "contention")) {
				fprintf(stderr, "weft record: --mode=%s: the mode is full "
					"or contention\n", optarg);
				return WEFT_EXIT_RECORD_FAILED;
			}
			mode = optarg;
			break;
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
	/* Every process finds its trace's place from here, whatever
	 * directory it has moved to. */
	char absolute[PATH_MAX];
	if (output[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd) ||
		    snprintf(absolute, sizeof absolute, "%s/%s", cwd, output) >=
			    (int)sizeof absolute) {
			fprintf(stderr, "weft record: cannot make %s an absolute path\n",
				output);
			return WEFT_EXIT_RECORD_FAILED;
		}
		output = absolute;
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
	const char *secure = secure_execution_reason(exe);
	if (secure) {
		fprintf(stderr, "weft record: %s is %s; the dynamic loader does not "
			"preload libraries into it, so weft cannot trace it\n", exe,
			secure);
		return WEFT_EXIT_RECORD_FAILED;
	}
	if (prepare_output(output) < 0)
		return WEFT_EXIT_RECORD_FAILED;

	/* From here on a signal to weft record is held until the command runs,
	 * then passed on to it. */
	weft_forward_prepare();
	const char *tmpdir = getenv("TMPDIR");
	char manifest[PATH_MAX];
	snprintf(manifest, sizeof manifest, "%s/weft-manifest-XXXXXX",
		 tmpdir && *tmpdir ? tmpdir : "/tmp");
	int mfd = mkstemp(manifest);
	if (mfd < 0) {
		fprintf(stderr, "weft record: cannot create a temporary file: %s\n",
			strerror(errno));
		weft_forward_restore();
		return WEFT_EXIT_RECORD_FAILED;
	}
	close(mfd);

	pid_t pid = -1;
	if (prepend_env("LD_PRELOAD", preload) || setenv("WEFT_OUTPUT", output, 1) ||
	    setenv("WEFT_MANIFEST", manifest, 1) ||
	    (stacks && setenv("WEFT_STACKS", "1", 1)) ||
	    (mode && setenv("WEFT_MODE", mode, 1)))
		fprintf(stderr, "weft record: cannot set the environment\n");
	else if ((pid = fork()) < 0)
		fprintf(stderr, "weft record: fork: %s\n", strerror(errno));
	if (pid < 0) {
		unlink(manifest);
		weft_forward_restore();
		return WEFT_EXIT_RECORD_FAILED;
	}
	if (pid == 0) {
		weft_forward_restore();
		execv(exe, cmd);
		int e = errno;
		fprintf(stderr, "weft record: %s: %s\n", cmd[0], strerror(e));
		_exit(e == ENOENT ? WEFT_EXIT_NOT_FOUND : WEFT_EXIT_CANNOT_RUN);
	}
	weft_forward_to(pid);
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	weft_forward_stop();
	char *traces = read_manifest(manifest);
	unlink(manifest);
	weft_forward_restore();
	int verdict = report_traces(traces, check);
	free(traces);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	if (WEXITSTATUS(status) == 0 && verdict != 0)
		return 1;
	return WEXITSTATUS(status);
}
