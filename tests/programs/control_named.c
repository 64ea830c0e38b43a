/*
 * control_named.c - prints "named" when, as main begins, one of the
 * process's threads is already called "weft-control" (so `weft start|stop`
 * can find it the moment the program runs), and "unnamed" otherwise.
 */
#include <dirent.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
	DIR *d = opendir("/proc/self/task");
	struct dirent *e;
	int named = 0;
	while (d && !named && (e = readdir(d))) {
		char path[300], comm[32] = { 0 };
		snprintf(path, sizeof path, "/proc/self/task/%s/comm", e->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		named = fgets(comm, sizeof comm, f) && !strcmp(comm, "weft-control\n");
		fclose(f);
	}
	if (d)
		closedir(d);
	printf("%s\n", named ? "named" : "unnamed");
	return 0;
}
