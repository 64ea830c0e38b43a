/*
 * real.h - how wrappers reach the functions they wrap.
 *
 * Each wrapped function has a cached pointer to the next definition in
 * symbol lookup order (libc), resolved with dlsym(RTLD_NEXT) on first use,
 * so calls that arrive before weft's constructor still work.  Functions with
 * several symbol versions (pthread_cond_*) are looked up by their current
 * version with dlvsym, as a program linked today binds to it.
 *
 * weft's own code calls these pointers, never the public names, so its I/O
 * never re-enters a wrapper.
 */
#ifndef WEFT_REAL_H
#define WEFT_REAL_H

#include <dlfcn.h>
#include <stddef.h>

void *weft_resolve(const char *name, const char *version);

/* Declares `real_NAME`, a pointer of NAME's type, resolved on first use. */
#define WEFT_REAL_V(name, version)                                          \
	static __typeof__(name) *real_##name;                               \
	static inline __typeof__(name) *get_real_##name(void)               \
	{                                                                   \
		__typeof__(name) *f = __atomic_load_n(&real_##name,         \
						      __ATOMIC_RELAXED);    \
		if (__builtin_expect(f == NULL, 0)) {                       \
			f = (__typeof__(name) *)weft_resolve(#name, version);\
			__atomic_store_n(&real_##name, f, __ATOMIC_RELAXED);\
		}                                                           \
		return f;                                                   \
	}

#define WEFT_REAL(name) WEFT_REAL_V(name, NULL)
#define REAL(name) (get_real_##name())

#endif
