/*
 * control.c - what a controlling process needs (see control.h): the
 * control signal parsed from its name, and the tid of a traced process's
 * control thread.
 */
#include "control.h"

#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/syscall.h>
#include <unistd.h>

static int parse_offset(const char *s, int *out)
{
	if (!*s) {
		*out = 0;
		return 0;
	}
	if (*s != '+' && *s != '-')
		return -1;
	char *end;
	long v = strtol(s + 1, &end, 10);
	if (end == s + 1 || *end || v < 0 || v > 64)
		return -1;
	*out = *s == '+' ? (int)v : -(int)v;
	return 0;
}

static int acceptable(int sig)
{
	return sig == SIGUSR1 || sig == SIGUSR2 || (sig >= SIGRTMIN && sig <= SIGRTMAX);
}

int weft_parse_signal(const char *text)
{
	if (!text || !*text)
		return -1;
	const char *s = text;
	if (!strncasecmp(s, "SIG", 3))
		s += 3;
	int sig = -1, off;
	if (*s >= '0' && *s <= '9') {
		char *end;
		long v = strtol(s, &end, 10);
		if (*end || v <= 0 || v > 64)
			return -1;
		sig = (int)v;
	} else if (!strcasecmp(s, "USR1")) {
		sig = SIGUSR1;
	} else if (!strcasecmp(s, "USR2")) {
		sig = SIGUSR2;
	} else if (!strncasecmp(s, "RTMIN", 5) && parse_offset(s + 5, &off) == 0) {
		sig = SIGRTMIN + off;
	} else if (!strncasecmp(s, "RTMAX", 5) && parse_offset(s + 5, &off) == 0) {
		sig = SIGRTMAX + off;
	}
	return acceptable(sig) ? sig : -1;
}

pid_t weft_control_thread(pid_t pid)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return 0;
	pid_t found = 0;
	struct dirent *e;
	while (!found && (e = readdir(d))) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		char comm_path[512], comm[64] = { 0 };
		snprintf(comm_path, sizeof comm_path, "%s/%s/comm", path, e->d_name);
		FILE *f = fopen(comm_path, "r");
		if (!f)
			continue;
		if (fgets(comm, sizeof comm, f)) {
			comm[strcspn(comm, "\n")] = 0;
			if (!strcmp(comm, WEFT_CONTROL_THREAD_NAME))
				found = (pid_t)atoi(e->d_name);
		}
		fclose(f);
	}
	closedir(d);
	return found;
}

int weft_send_request(pid_t pid, pid_t tid, int sig, int op)
{
	siginfo_t info;
	memset(&info, 0, sizeof info);
	info.si_signo = sig;
	info.si_code = SI_QUEUE;
	info.si_pid = getpid();
	info.si_uid = getuid();
	info.si_value.sival_int = (int)WEFT_REQUEST_MAGIC | op;
	return (int)syscall(SYS_rt_tgsigqueueinfo, pid, tid, sig, &info);
}
