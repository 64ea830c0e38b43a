/* tests/corpus/make/main.c - prints what the parts add up to. */
#include <stdio.h>

long part0(void), part1(void), part2(void), part3(void), part4(void),
	part5(void), part6(void), part7(void);

int main(void)
{
	long (*parts[])(void) = { part0, part1, part2, part3, part4, part5, part6, part7 };
	for (int i = 0; i < 8; i++)
		printf("part %d: %ld\n", i, parts[i]());
	return 0;
}
