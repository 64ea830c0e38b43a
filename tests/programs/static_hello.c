/*
 * static_hello.c - linked statically, so LD_PRELOAD cannot reach it; weft
 * record must refuse it rather than run it untraced.
 */
#include <stdio.h>

int main(void)
{
	puts("hello from a static binary");
	return 0;
}
