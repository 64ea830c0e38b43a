/*
 * process.c - which program the trace is of: the PROCESS record (pid,
 * parent pid, executable and arguments) that opens every generation.
 * What it says is read when the trace file is opened (at load, and in a
 * fork child, whose pid and parent differ); an image the process executes
 * loads weft anew and reads its own.  Read with raw system calls, so no
 * wrapper of weft's sees it, into memory that is weft's from load on.
 */
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "tablebuf.h"
#include "weft.h"

#define EXE_MAX 1024 /* bytes of the executable's path kept (SPEC.md 9) */

static struct {
	uint64_t pid, ppid, argc;
	uint32_t len;                   /* bytes of command */
	uint8_t command[WEFT_MAX_BYTES];
	char args[WEFT_MAX_BYTES * 2];  /* /proc/self/cmdline, as read */
	char exe[EXE_MAX + 1];          /* /proc/self/exe, as read */
	char rest[4096];                /* the arguments past args */
} program;

/* Appends the NUL-terminated string s to the command, cut to at most max
 * bytes and to what fits (keeping its NUL); 0 when it was cut. */
static int append(const char *s, size_t len, size_t max)
{
	size_t room = sizeof program.command - program.len;
	if (room == 0)
		return 0;
	size_t take = len < max ? len : max;
	if (take + 1 > room)
		take = room - 1;
	memcpy(program.command + program.len, s, take);
	program.command[program.len + take] = 0;
	program.len += (uint32_t)take + 1;
	return take == len;
}

void weft_process_read(void)
{
	program.pid = (uint64_t)getpid();
	program.ppid = (uint64_t)getppid();
	program.argc = 0;
	program.len = 0;
	long n = syscall(SYS_readlinkat, AT_FDCWD, "/proc/self/exe", program.exe,
			 sizeof program.exe);
	append(program.exe, n < 0 ? 0 : (size_t)n, EXE_MAX);
	/* The kernel gives the arguments NUL-separated, the last one
	 * NUL-terminated.  The buffer holds more than the record can (a
	 * command that does not fit it was cut before the buffer's end); the
	 * rest is read only to count the arguments. */
	size_t got = 0;
	char last = 0;
	int fd = (int)syscall(SYS_openat, AT_FDCWD, "/proc/self/cmdline",
			      O_RDONLY | O_CLOEXEC);
	while (fd >= 0) {
		size_t room = sizeof program.args - got;
		char *into = room ? program.args + got : program.rest;
		long r = syscall(SYS_read, fd, into, room ? room : sizeof program.rest);
		if (r <= 0)
			break;
		for (long k = 0; k < r; k++)
			program.argc += into[k] == 0;
		last = into[r - 1];
		if (room)
			got += (size_t)r;
	}
	if (fd >= 0)
		syscall(SYS_close, fd);
	/* (A program that rewrote its arguments may have left no NUL.) */
	program.argc += last != 0;
	int whole = 1;
	for (size_t at = 0; at < got && whole;) {
		const char *arg = program.args + at;
		size_t len = strnlen(arg, got - at);
		whole = append(arg, len, len);
		at += len + 1;
	}
}

void weft_process_write(struct weft_tablebuf *tb)
{
	struct weft_record r = { .code = WEFT_EV_PROCESS };
	r.args[0] = program.pid;
	r.args[1] = program.ppid;
	r.args[2] = program.argc;
	r.bytes = program.command;
	r.nbytes = program.len;
	weft_tb_record(tb, &r);
}
