/*
 * real.c - resolving the real definitions of wrapped functions.
 */
#include "real.h"

#include <unistd.h>
#include <sys/syscall.h>

void *weft_resolve(const char *name, const char *version)
{
	void *f = NULL;
	if (version)
		f = dlvsym(RTLD_NEXT, name, version);
	if (!f)
		f = dlsym(RTLD_NEXT, name);
	if (!f) {
		/* A wrapper with nothing to call cannot keep the program's
		 * behaviour; say so and stop, as the loader would. */
		static const char msg[] = "weft: cannot resolve a wrapped libc function: ";
		syscall(SYS_write, 2, msg, sizeof msg - 1);
		size_t n = 0;
		while (name[n])
			n++;
		syscall(SYS_write, 2, name, n);
		syscall(SYS_write, 2, "\n", 1);
		syscall(SYS_exit_group, 127);
	}
	return f;
}
