/*
 * weft.h - the preload's internal interface: configuration, the per-thread
 * record, the global generation, and what each file offers the others.
 *
 * Layers, top first.  A file calls only into its own layer or those below
 * it; what a lower layer needs done above it (the control thread writing
 * full buffers, noticing a thread's end) it asks for through the control
 * pipe (channel.c), which the control thread polls.
 *   wrappers     wrap_*.c: the program's entry points (and the test
 *                build's testdrive.c)
 *   process      trace.c (loading, the trace file, fork), crash.c (fatal
 *                signals), control.c (the control thread, weft's signal)
 *   entry        enter.h, protocol.h: the shapes of the wrappers;
 *                thread_events.c: a thread's first and last records
 *   emit         emit.h, nested.c: event sections, the hot path
 *   advance      generation.c: opening and closing generations, ending
 *                the trace
 *   records      thread.c (registry), objseq.c, lockcount.c, stacks.c
 *                (with unwind.c), shared.c, tablebuf.c
 *   output       buffer.c: buffers, the write queue, the trace file;
 *                put.h, state.h: encoding records, a thread's states
 *   base         channel.c (which parks its descriptors with park.c),
 *                clock.c (which warns through config.c), real.c, lock.h,
 *                testhook.c
 *
 * Lock order (outermost first; never take an earlier one while holding a
 * later one):
 *   1. weft_control_lock  - generation advance (start, stop, rotation), process
 *                           exit, fork, exec: the control thread and every
 *                           other tracer-internal emitter hold it
 *   2. weft_registry_lock - adding thread records
 *   3. weft_output_lock   - one write(2) of one batch to the trace file
 *   4. weft_pool_lock     - the free list of buffers
 * Application threads take only 2 (when a thread is created) and 4 (when
 * they need a buffer), and 3 only when there is no control thread to write
 * their full buffers; never 1.
 */
#ifndef WEFT_WEFT_H
#define WEFT_WEFT_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/types.h>
#if defined(__x86_64__)
#include <x86intrin.h>
#endif

#include "../format/wire.h"
#include "lock.h"

#define WEFT_VISIBLE __attribute__((visibility("default")))
#define WEFT_HIDDEN  __attribute__((visibility("hidden")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)

struct weft_config {
	char output[4096];     /* WEFT_OUTPUT, %p not yet expanded */
	int start;             /* WEFT_START */
	int stacks;            /* WEFT_STACKS */
	uint32_t buffer_size;  /* WEFT_BUFFER_KB, in bytes, less the trailer */
	uint64_t memory_cap;   /* WEFT_MEMORY_MB, in bytes */
	char manifest[4096];   /* WEFT_MANIFEST: file listing traces written */
	unsigned output_mode;  /* WEFT_OUTPUT_MODE: the trace file's mode */
	int signal;            /* WEFT_SIGNAL */
	int verbose;           /* WEFT_VERBOSE */
	uint32_t rotate_ms;    /* WEFT_ROTATE_MS: generation length */
	uint64_t rotate_bytes; /* WEFT_ROTATE_MB: generation size */
	int mode;              /* WEFT_MODE: a WEFT_MODE_* of format/wire.h */
};

extern struct weft_config weft_config;

/* What a thread is doing, for STATUS: a WEFT_STATE_*, the syscall id or
 * the object it waits on, since when, and its level in the thread's
 * stack of states (0: running or exited; each wait above the one it
 * interrupted, as a signal handler's waits nest in the wait its thread was
 * in). */
struct weft_state {
	uint8_t state;
	uint8_t syscall;
	uint64_t object;
	uint64_t since;
	uint8_t level;
};

/* Levels of states a thread record holds: running and 8 nested waits
 * (what a reader keeps, format/SPEC.md section 7.4). */
#define WEFT_STATE_LEVELS 9

/* An event made by a signal handler while its thread was inside an event
 * section, held until the section can write it (nested.c). */
#define WEFT_NESTED_EVENTS 16
struct weft_nested_event {
	uint8_t code;
	uint8_t nargs;
	_Atomic uint8_t ready;     /* filled in; 2 once written or counted */
	uint32_t gen;
	uint64_t ts;
	uint64_t args[8];
};

/* The slots of the last objects a thread numbered (objseq.c). */
#define WEFT_SEQ_CACHE 4
struct weft_seq_cache {
	uint64_t key;
	struct objseq_slot *slot;
};

/* Contention mode's counts of a thread's uncontended acquisitions, by lock
 * (lockcount.h): a small direct-mapped table per generation parity. */
#define WEFT_COUNT_SLOTS 16
struct weft_lock_count {
	uint64_t object;
	uint64_t acquisitions;     /* 0: the slot is empty */
	uint64_t kind;             /* WEFT_COUNT_* */
};

/*
 * One traced thread.  Its buffers are written only by the thread itself,
 * inside its seqlock, while the generation they belong to is current; once
 * a generation has been retired, the advancer owns that generation's
 * buffers (buf[gen & 1]).
 */
struct weft_thread {
	_Atomic uint64_t seqlock;   /* odd while the thread writes an event */
	uint32_t serial;
	uint32_t parent;
	pid_t tid;
	pthread_t pthread;

	/* Per-generation-parity buffers (see above). */
	uint8_t *buf[2];
	uint32_t pos[2];
	uint32_t buf_gen[2];
	uint64_t last_ts[2];
	uint64_t last_obj[2];       /* objects are coded as deltas from it */
	/* The batch's object table (format/wire.h), as the reader keeps it. */
	struct weft_object_entry objects[2][WEFT_OBJECT_TABLE];
	/* Events dropped since the last LOST, by the parity of the
	 * generation they were dropped in (a LOST names its generation's
	 * losses only: one counted after a generation began is not written
	 * into the one before). */
	_Atomic uint64_t lost[2];
	struct weft_seq_cache seq_cache[WEFT_SEQ_CACHE];
	/* Lock counts, by the parity of the generation they belong to, and
	 * which generation each table holds (it holds nothing for any
	 * other).  Like buf[], the thread changes a table only inside a
	 * section that read its generation; once that generation is
	 * retired, the advancer writes out what is left (lockcount.c). */
	struct weft_lock_count counts[2][WEFT_COUNT_SLOTS];
	uint32_t counts_gen[2];

	/* Current states, kept even while tracing is off, for STATUS:
	 * states[levels - 1] is the innermost (levels may exceed
	 * WEFT_STATE_LEVELS, whose deeper states are not kept).  They
	 * change only inside the thread's seqlock sections. */
	struct weft_state states[WEFT_STATE_LEVELS];
	uint8_t levels;
	/* Events of signal handlers that interrupted a section, in the
	 * order they were made; slots are reserved by counting. */
	struct weft_nested_event nested[WEFT_NESTED_EVENTS];
	_Atomic uint32_t nested_count;
	uint32_t section_gen;       /* generation the open section read */
	_Atomic uint32_t status_gen; /* generation whose STATUS is written */

	/* A thread weft's pthread_create starts: what its trampoline runs,
	 * and its creator's signal mask.  Kept in the record, which exists
	 * before the thread does, so starting it allocates nothing. */
	void *(*start_routine)(void *);
	void *start_arg;
	sigset_t start_mask;
	/* The name pthread_setname_np last gave the thread (NUL-padded),
	 * for THREAD_INFO; name_seq is odd while it is being changed. */
	_Atomic uint32_t name_seq;
	_Atomic uint64_t name[2];
	/* Its CPU time when it exited, and the generation it exited in (0:
	 * none, or not known); written before `exited` is set. */
	uint64_t cpu_at_exit;
	uint32_t cpu_exit_gen;
	uint8_t via_trampoline;     /* started by weft's pthread_create */
	_Atomic uint8_t started;    /* its THREAD_START is written (or due) */
	_Atomic uint8_t exited;
	_Atomic uint8_t joined;     /* joined or detached: serial retired */
};

/* Tracing is on while this is non-zero; it names the current generation. */
extern _Atomic uint32_t weft_generation;
/* membarrier(2) is registered: see weft_ev_begin() and weft_advance(). */
extern int weft_membarrier;
void weft_membarrier_register(void);
extern int weft_out_fd;
extern int weft_initialized;

/* Set while a thread runs weft's own code: a wrapper entered then passes
 * straight through, unless a signal handler entered it while the thread
 * was inside an event section (weft_nesting then counts the handler's
 * sections, whose events wait in the thread's nested slots). */
extern __thread int weft_busy __attribute__((tls_model("initial-exec")));
extern __thread int weft_nesting __attribute__((tls_model("initial-exec")));
extern __thread struct weft_thread *weft_self_tls
	__attribute__((tls_model("initial-exec")));
extern __thread int weft_thread_done __attribute__((tls_model("initial-exec")));

/*
 * What each file offers the files above it, lowest layer first.
 */

/* config.c */
void weft_config_load(void);
void weft_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* clock.c */
extern int weft_clock_is_tsc;
void weft_clock_init(void);
uint64_t weft_clock_source(void);
uint64_t weft_clock_frequency(void);
uint64_t weft_now_slow(void);

/* Now, in trace clock ticks. */
static inline uint64_t weft_now(void)
{
#if defined(__x86_64__)
	if (likely(weft_clock_is_tsc))
		return __rdtsc();
#endif
	return weft_now_slow();
}

/* The calling thread's kernel id. */
static inline pid_t weft_gettid(void)
{
	return (pid_t)syscall(SYS_gettid);
}

/* park.c: weft's descriptors, moved out of the program's way */
int weft_park_fd(int fd);
int weft_park_fd_copy(int fd);

/* channel.c: the control pipe.  A request is written whole (a pipe write
 * of at most PIPE_BUF bytes is atomic); op is a WEFT_REQ_* of
 * format/control.h or one of the WEFT_CHANNEL_* below. */
struct weft_channel_request {
	int32_t op;
	int32_t sender; /* pid to acknowledge, 0 for none */
};
#define WEFT_CHANNEL_THREAD_EXITED 100 /* a traced thread has ended */
#define WEFT_CHANNEL_DRAIN 101         /* full buffers wait in the write queue */
#define WEFT_CHANNEL_END 102           /* a fatal signal: complete the trace */
int weft_channel_open(void);
void weft_channel_close(void);
int weft_channel_read_end(void);
void weft_channel_send(int op, pid_t sender);
void weft_channel_set_listening(int listening);
int weft_channel_listening(void);
int weft_channel_wake_writer(int queue_was_empty);
void weft_channel_thread_exited(void);
int weft_channel_fd_is_ours(int fd);
void weft_channel_fds(int *read_end, int *write_end);
void weft_channel_move_fd(int fd);

/* buffer.c: the buffer pool, the write queue and the trace file */
extern int weft_out_fd;
/* Bytes at the end of each pool buffer that events never use. */
#define WEFT_BUFFER_TRAILER 16
uint32_t weft_buffer_prepare(struct weft_thread *t, uint32_t gen);
void weft_buffer_flush(struct weft_thread *t, unsigned slot);
void weft_buffer_release(struct weft_thread *t, unsigned slot);
uint8_t *weft_pool_get(void);
void weft_pool_put(uint8_t *buf);
void weft_pool_reset_after_fork(void);
int weft_output_write(const uint8_t *p, size_t n);
void weft_output_drain(void);
void weft_output_move_fd(void);
void weft_output_lock_all(void);
void weft_output_unlock_all(void);
uint64_t weft_output_bytes(void);
uint32_t weft_batches_take(uint32_t gen);
void weft_batches_add(uint32_t gen);

/* thread.c: the registry of thread records */
struct weft_thread *weft_thread_new(uint32_t parent);
struct weft_thread *weft_thread_by_serial(uint32_t serial);
struct weft_thread *weft_thread_find(pthread_t pthread);
uint32_t weft_thread_count(void);
void weft_thread_reset_after_fork(struct weft_thread *survivor);
void weft_thread_set_name(struct weft_thread *t, const char *name, size_t len);
size_t weft_thread_get_name(struct weft_thread *t, char out[16]);

/* cputime.c: THREAD_CPU records, in process batches */
struct weft_tablebuf;
void weft_cpu_note_exit(struct weft_thread *t, uint32_t gen);
void weft_cpu_record_begin(struct weft_tablebuf *tb, const struct weft_thread *t);
void weft_cpu_record_ends(struct weft_tablebuf *tb, uint32_t gen);

/* objseq.c: per-object sequence numbers, restarting in each generation.
 * What the numbering thread knows about holding the object: it has just
 * acquired it exclusively, it is releasing it (exclusively held, if it
 * took it so), or neither (a shared object, or a read hold). */
enum weft_hold { WEFT_HOLD_NONE, WEFT_HOLD_TAKEN, WEFT_HOLD_RELEASED };
#define WEFT_SEQ_LATE UINT64_MAX /* the object is already in a later generation */
uint64_t weft_objseq_next(struct weft_thread *t, const void *object,
			  uint32_t gen, enum weft_hold hold);
void weft_objseq_init(void);
void weft_objseq_reset_after_fork(void);

/* lockcount.c: contention mode's lock counts */
struct weft_tablebuf;
void weft_counts_miss(struct weft_thread *t, uint32_t gen,
		      struct weft_lock_count *c, struct weft_lock_count *other,
		      uint64_t object, uint64_t kind);
void weft_counts_flush(struct weft_thread *t);
void weft_counts_retire(uint32_t gen);
void weft_counts_write_mode(struct weft_tablebuf *tb);

/* modules.c: the loaded modules, for MODULE records.  refresh re-reads
 * them (at load and when a generation ends; a no-op once frozen, which a
 * fatal signal does); write adds their records to tb, numbering the
 * STRING records of their paths from *next_string on. */
void weft_modules_init(void);
void weft_modules_refresh(void);
void weft_modules_freeze(void);
void weft_modules_write(struct weft_tablebuf *tb, uint64_t *next_string);

/* stacks.c */
uint64_t weft_stack_capture(void);
void weft_stacks_init(void);
struct weft_tablebuf;
void weft_stacks_write_tables(struct weft_tablebuf *tb);

/* sites.c: the stack id of the call site whose return address is caller
 * (0 when no stack could be had) */
uint64_t weft_site_stack(uintptr_t caller);

/* shared.c: process-shared objects.  weft_shared_note marks object when
 * shared and its init returned r == 0, and returns r. */
int weft_shared_note(const void *object, int shared, int r);
void weft_shared_write_marks(struct weft_tablebuf *tb);

/* process.c: the PROCESS record.  weft_process_read reads what it says
 * (when the trace file is opened); weft_process_write writes it. */
void weft_process_read(void);
void weft_process_write(struct weft_tablebuf *tb);

/* generation.c: the advancer, and completing the trace */
extern weft_lock_t weft_control_lock;
extern int weft_initialized; /* the trace file is open: tracing can start */
extern int weft_ending;
enum weft_advance_op {
	WEFT_ADVANCE_START,   /* open a generation if none is open */
	WEFT_ADVANCE_STOP,    /* close the open one */
	WEFT_ADVANCE_ROTATE,  /* close the open one and open the next */
	WEFT_ADVANCE_END,     /* close the open one; the trace is complete */
};
int weft_advance(enum weft_advance_op op);
void weft_generations_reset(void);
uint64_t weft_generation_began(void);
uint64_t weft_output_bytes_in_generation(void);
/* Why the trace is being completed. */
enum weft_end_reason {
	WEFT_END_EXIT,         /* exit(), or main returned: weft's destructor */
	WEFT_END_QUICK_EXIT,   /* _exit or _Exit: no destructors will run */
	WEFT_END_FATAL_SIGNAL, /* a signal is about to kill the process */
	WEFT_END_EXEC,         /* an exec is about to replace the image */
	WEFT_END_DAEMON,       /* daemon()'s original process is leaving */
};
void weft_end_trace(enum weft_end_reason why);
void weft_resume_trace(void);

/* nested.c: events of signal handlers that interrupted a section */
/* section_gen while a section has not read the generation yet */
#define WEFT_GEN_UNREAD UINT32_MAX
struct weft_thread *weft_nested_enter(void);
uint32_t weft_nested_begin(struct weft_thread *t);
int weft_nested_emit(struct weft_thread *t, uint32_t gen, uint8_t code,
		     uint64_t ts, const uint64_t *args, unsigned nargs,
		     uint8_t **result_at);
void weft_nested_close(struct weft_thread *t);
uint64_t weft_nested_seq_late(struct weft_thread *t, uint32_t *gen,
			      const void *object, enum weft_hold hold);
void weft_nested_drop(struct weft_thread *t);

/* thread_events.c: a thread's first and last records */
struct weft_thread *weft_thread_attach(void);
void weft_thread_start_created(struct weft_thread *t);
void weft_thread_finish(struct weft_thread *t);
void weft_thread_unwound(struct weft_thread *t);

/* control.c */
struct sigaction;
void weft_control_start(void);
void weft_control_after_fork(void);
int weft_control_end_and_wait(int timeout_ms);
/* 1 for weft's control signal while weft's handler for it is installed. */
int weft_control_covers(int sig);
void weft_control_sigaction(int sig, const struct sigaction *act,
			    struct sigaction *old);

/* crash.c */
void weft_crash_install(void);
/* 1 for a signal whose default action weft stands in for. */
int weft_crash_covers(int sig);
int weft_crash_sigaction(int sig, const struct sigaction *act,
			 struct sigaction *old, int *rc);

/* trace.c */
void weft_init(void);
int weft_is_vfork_child(void);
void weft_fork_prepare(void);
void weft_fork_parent(void);
void weft_after_fork_child(void);

#endif
