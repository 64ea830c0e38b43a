/*
 * real.c - resolving the real definitions of wrapped functions.
 */
#include "real.h"

#include <unistd.h>
#include <sys/syscall.h>

void *weft_resolve(const char *name, const char *version)
{
	void *f = dlsym(RTLD_NEXT, name);
	if (version) {
		/* dlsym may find an old compatibility version in libc (the
		 * pthread_cond_* of 2.2.5); the versioned lookup finds the
		 * current one.  But when the next definition lives in another
		 * object than libc's, it is an interposer (a sanitizer's
		 * runtime) and must be called in libc's stead. */
		void *versioned = dlvsym(RTLD_NEXT, name, version);
		Dl_info a, b;
		if (versioned && (!f || (dladdr(f, &a) && dladdr(versioned, &b) &&
					 a.dli_fbase == b.dli_fbase)))
			f = versioned;
	}
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
