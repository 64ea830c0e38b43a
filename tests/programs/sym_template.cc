// sym_template.cc - the C++ template of sym_sites.c: a function template
// instantiated for int, which blocks on the lock it is given.
#include <pthread.h>

template <typename T>
__attribute__((noipa)) void block_in(pthread_mutex_t *m, T times)
{
	for (T i = 0; i < times; i++) {
		pthread_mutex_lock(m);
		pthread_mutex_unlock(m);
	}
}

extern "C" void block_in_template(pthread_mutex_t *m)
{
	block_in<int>(m, 1);
}
