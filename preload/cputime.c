/*
 * cputime.c - THREAD_CPU records: how much CPU time each thread has used,
 * read as a generation begins and as it ends (or as the thread exits in
 * it), so a reader can tell a thread's time on a CPU from the time weft
 * shows it running, and see waits weft cannot see (raw futex calls,
 * io_uring, page faults, preemption).
 */
#include <time.h>

#include "tablebuf.h"
#include "weft.h"

/* The kernel's CPU-time clock of thread tid (the id glibc's
 * pthread_getcpuclockid makes: per thread, scheduler time). */
static clockid_t thread_cpu_clock(pid_t tid)
{
	return (clockid_t)((~(unsigned)tid << 3) | 6);
}

static int read_ns(clockid_t clock, uint64_t *ns)
{
	struct timespec ts;
	if (clock_gettime(clock, &ts) != 0)
		return 0;
	*ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	return 1;
}

void weft_cpu_note_exit(struct weft_thread *t, uint32_t gen)
{
	uint64_t ns = 0;
	t->cpu_exit_gen = read_ns(CLOCK_THREAD_CPUTIME_ID, &ns) ? gen : 0;
	t->cpu_at_exit = ns;
}

static void record(struct weft_tablebuf *tb, const struct weft_thread *t,
		   unsigned point, uint64_t ns)
{
	struct weft_record r = { .code = WEFT_EV_THREAD_CPU };
	r.args[0] = t->serial;
	r.args[1] = point;
	r.args[2] = ns;
	weft_tb_record(tb, &r);
}

void weft_cpu_record_begin(struct weft_tablebuf *tb, const struct weft_thread *t)
{
	uint64_t ns;
	if (!atomic_load(&t->exited) && read_ns(thread_cpu_clock(t->tid), &ns))
		record(tb, t, 0, ns);
}

void weft_cpu_record_ends(struct weft_tablebuf *tb, uint32_t gen)
{
	for (uint32_t s = 1; s <= weft_thread_count(); s++) {
		struct weft_thread *t = weft_thread_by_serial(s);
		if (!atomic_load(&t->started))
			continue;
		uint64_t ns;
		/* A thread that exits meanwhile has its clock gone: then its
		 * reading at exit counts, if it exited in gen. */
		if (!atomic_load(&t->exited) && read_ns(thread_cpu_clock(t->tid), &ns))
			record(tb, t, 1, ns);
		else if (atomic_load(&t->exited) && t->cpu_exit_gen == gen)
			record(tb, t, 1, t->cpu_at_exit);
	}
}
