/*
 * stack_shapes.c - blocking calls made from stacks an unwinder may trip
 * on, for the stacks suite (run with WEFT_STACKS=1).
 *
 *   stack_shapes deep N    write(2) to /dev/null from N nested calls
 *   stack_shapes nocfi     write(2) called from code generated at run time
 *                          (no unwind information anywhere for it), with
 *                          a frame pointer holding garbage; prints
 *                          "code 0xSTART 0xEND", where the code lies
 *   stack_shapes calls N   N writes to /dev/null from one call site
 *   stack_shapes signal    a write from a SIGALRM handler that interrupted
 *                          spin(); prints "spin 0xSTART 0xEND", where
 *                          spin's code lies
 *   stack_shapes storm N   N writes from calls nested 1 to 8 deep, while a
 *                          timer's SIGALRM handler writes every 100 us,
 *                          interrupting them anywhere (in a capture too)
 *
 * Exit 0, or 1 when a call fails; 2 on bad arguments.
 */
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>

static int devnull;
static volatile int sink;
static volatile sig_atomic_t fired;

__attribute__((noinline)) static int one_write(void)
{
	return write(devnull, "x", 1) == 1 ? 0 : 1;
}

/* Not a loop: every level keeps a frame (its return adds to sink). */
__attribute__((noinline)) static int recurse(int n)
{
	if (n == 0)
		return one_write();
	int r = recurse(n - 1);
	sink += n;
	return r;
}

static int nocfi(void)
{
	/* push %rbp; movabs $garbage, %rbp; call *%rdi; pop %rbp; ret */
	static const unsigned char code[] = {
		0x55, 0x48, 0xbd, 0xef, 0xbe, 0xad, 0xde, 0xef, 0xbe, 0xad, 0xde,
		0xff, 0xd7, 0x5d, 0xc3,
	};
	long page = sysconf(_SC_PAGESIZE);
	unsigned char *p = mmap(NULL, (size_t)page, PROT_READ | PROT_WRITE,
				MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		return 1;
	memcpy(p, code, sizeof code);
	if (mprotect(p, (size_t)page, PROT_READ | PROT_EXEC) != 0)
		return 1;
	printf("code %p %p\n", (void *)p, (void *)(p + sizeof code));
	fflush(stdout);
	int (*run)(int (*)(void)) = (int (*)(int (*)(void)))(uintptr_t)p;
	return run(one_write);
}

static void on_alarm(int sig)
{
	(void)sig;
	one_write();
	fired = 1;
}

__attribute__((noinline)) static void spin(void)
{
	while (!fired)
		sink++;
}

/* spin is a few instructions: its code is taken to end 64 bytes after
 * its start. */
static int signal_shape(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm;
	if (sigaction(SIGALRM, &sa, NULL) != 0)
		return 1;
	uintptr_t start = (uintptr_t)spin;
	printf("spin %p %p\n", (void *)start, (void *)(start + 64));
	fflush(stdout);
	alarm(1);
	spin();
	return 0;
}

static void on_storm(int sig)
{
	(void)sig;
	one_write();
}

static int storm(long n)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_storm;
	sa.sa_flags = SA_RESTART;
	struct itimerval every = { { 0, 100 }, { 0, 100 } }, off = { { 0, 0 }, { 0, 0 } };
	/* A first write binds write's PLT entry before the timer starts: the
	 * dynamic linker's resolver keeps its CFA in a register no unwinder
	 * following the stack and frame pointers can step from. */
	if (one_write() || sigaction(SIGALRM, &sa, NULL) != 0 ||
	    setitimer(ITIMER_REAL, &every, NULL) != 0)
		return 1;
	int r = 0;
	for (long i = 0; i < n && !r; i++)
		r = recurse((int)(i % 8));
	setitimer(ITIMER_REAL, &off, NULL);
	return r;
}

int main(int argc, char **argv)
{
	devnull = open("/dev/null", O_WRONLY);
	if (devnull < 0)
		return 1;
	if (argc == 3 && !strcmp(argv[1], "deep"))
		return recurse(atoi(argv[2]));
	if (argc == 2 && !strcmp(argv[1], "nocfi"))
		return nocfi();
	if (argc == 3 && !strcmp(argv[1], "calls")) {
		for (long i = atol(argv[2]); i > 0; i--)
			if (one_write())
				return 1;
		return 0;
	}
	if (argc == 2 && !strcmp(argv[1], "signal"))
		return signal_shape();
	if (argc == 3 && !strcmp(argv[1], "storm"))
		return storm(atol(argv[2]));
	fprintf(stderr, "usage: stack_shapes deep N | nocfi | calls N | signal | storm N\n");
	return 2;
}
