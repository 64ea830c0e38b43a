/*
 * replay.c - runs the fuzz target over every file of the directories
 * given, without libFuzzer: each input the fuzzer once found crashing,
 * hanging or leaking is kept in tests/fuzz/regressions/ and must now pass
 * under AddressSanitizer and UndefinedBehaviorSanitizer.  A crash or a
 * sanitizer report ends the process with an error; an input that takes
 * longer than the fuzzer's limit is reported and fails the run.  The time
 * is the process's CPU time: a loaded machine stretches the wall-clock
 * time of an input, not the work it takes.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOW_SECONDS 5.0

static double cpu_seconds(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t *slurp(const char *path, size_t *size)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 4096, n = 0, got;
	uint8_t *buf = malloc(cap);
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0) {
		n += got;
		if (n == cap) {
			uint8_t *bigger = realloc(buf, cap *= 2);
			if (!bigger)
				free(buf);
			buf = bigger;
		}
	}
	int bad = !buf || ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return NULL;
	}
	*size = n;
	return buf;
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* Replays every regular file of dir; returns how many failed. */
static int replay_dir(const char *dir, int *count)
{
	struct dirent **names;
	int n = scandir(dir, &names, NULL, by_name);
	if (n < 0) {
		perror(dir);
		return 1;
	}
	int failed = 0;
	for (int i = 0; i < n; i++) {
		char path[4096];
		snprintf(path, sizeof path, "%s/%s", dir, names[i]->d_name);
		if (names[i]->d_name[0] == '.' || names[i]->d_type == DT_DIR) {
			free(names[i]);
			continue;
		}
		size_t size = 0;
		uint8_t *data = slurp(path, &size);
		if (!data) {
			perror(path);
			failed++;
		} else {
			double start = cpu_seconds();
			LLVMFuzzerTestOneInput(data, size);
			double took = cpu_seconds() - start;
			printf("%-60s %8zu bytes %8.3f s CPU\n", names[i]->d_name, size, took);
			if (took > SLOW_SECONDS) {
				fprintf(stderr, "%s: took %.1f s of CPU time (a hang)\n", path,
					took);
				failed++;
			}
			(*count)++;
			free(data);
		}
		free(names[i]);
	}
	free(names);
	return failed;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fprintf(stderr, "usage: %s DIR...\n", argv[0]);
		return 2;
	}
	int failed = 0, count = 0;
	for (int i = 1; i < argc; i++)
		failed += replay_dir(argv[i], &count);
	printf("%d inputs replayed, %d failed\n", count, failed);
	if (count == 0) {
		fprintf(stderr, "no inputs to replay\n");
		return 1;
	}
	return failed ? 1 : 0;
}
