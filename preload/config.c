/*
 * config.c - reading weft's environment variables once, at load.
 *
 * A bad value never stops the traced program: weft prints one line on
 * stderr naming the variable, the value and the default it uses instead.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../format/control.h"
#include "../format/wire.h"
#include "weft.h"

struct weft_config weft_config;

void weft_warn(const char *fmt, ...)
{
	char line[512];
	int saved = errno;
	int n = snprintf(line, sizeof line, "weft: ");
	va_list ap;
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof line - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof line - 2)
		n = (int)sizeof line - 2;
	line[n++] = '\n';
	syscall(SYS_write, 2, line, (size_t)n);
	errno = saved;
}

/* Parses an unsigned decimal in [lo, hi]; returns 0 on success. */
static int parse_range(const char *s, unsigned long lo, unsigned long hi,
		       unsigned long *out)
{
	if (!s || !*s || *s == '-' || *s == '+')
		return -1;
	char *end;
	errno = 0;
	unsigned long v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static unsigned long env_number(const char *name, unsigned long lo,
				unsigned long hi, unsigned long dflt)
{
	const char *s = getenv(name);
	unsigned long v;
	if (!s)
		return dflt;
	if (parse_range(s, lo, hi, &v) == 0)
		return v;
	weft_warn("%s=\"%.64s\" is not a whole number from %lu to %lu; using %lu",
		  name, s, lo, hi, dflt);
	return dflt;
}

/* A file mode in octal (0 to 0777, no special bits). */
static unsigned env_mode(const char *name, unsigned dflt)
{
	const char *s = getenv(name);
	if (!s)
		return dflt;
	char *end;
	errno = 0;
	unsigned long v = *s && *s != '-' && *s != '+' ? strtoul(s, &end, 8) : 01000;
	if (!errno && *s && !*end && v <= 0777)
		return (unsigned)v;
	weft_warn("%s=\"%.64s\" is not an octal file mode from 0 to 777; using %03o",
		  name, s, dflt);
	return dflt;
}

static void env_path(const char *name, char *dst, size_t cap, const char *dflt)
{
	const char *s = getenv(name);
	if (s && *s && strlen(s) < cap) {
		strcpy(dst, s);
		return;
	}
	if (s && dflt)
		weft_warn("%s is %s; using \"%s\"", name,
			  *s ? "longer than 4095 bytes" : "empty", dflt);
	else if (s && *s)
		weft_warn("%s is longer than 4095 bytes; ignoring it", name);
	if (dflt)
		strcpy(dst, dflt);
	else
		dst[0] = 0;
}

/* WEFT_MODE: how much of the locking is recorded. */
static int env_trace_mode(void)
{
	const char *s = getenv("WEFT_MODE");
	if (!s || strcmp(s, "full") == 0)
		return WEFT_MODE_FULL;
	if (strcmp(s, "contention") == 0)
		return WEFT_MODE_CONTENTION;
	weft_warn("WEFT_MODE=\"%.64s\" is not full or contention; using full", s);
	return WEFT_MODE_FULL;
}

void weft_config_load(void)
{
	struct weft_config *c = &weft_config;
	env_path("WEFT_OUTPUT", c->output, sizeof c->output, "weft-%p.trace");
	env_path("WEFT_MANIFEST", c->manifest, sizeof c->manifest, NULL);
	c->output_mode = env_mode("WEFT_OUTPUT_MODE", 0600);
	c->start = (int)env_number("WEFT_START", 0, 1, 1);
	c->verbose = (int)env_number("WEFT_VERBOSE", 0, 1, 0);
	/* 0 rotates on every pass of the control thread's loop, as fast as
	 * it can go: a setting for testing the generation boundaries, not
	 * for use (the control thread never sleeps while tracing). */
	c->rotate_ms = (uint32_t)env_number("WEFT_ROTATE_MS", 0, 3600000, 1000);
	c->rotate_bytes = (uint64_t)env_number("WEFT_ROTATE_MB", 1, 65536, 8) << 20;
	const char *sig = getenv("WEFT_SIGNAL");
	c->signal = weft_parse_signal(sig ? sig : WEFT_DEFAULT_SIGNAL);
	if (c->signal < 0) {
		weft_warn("WEFT_SIGNAL=\"%.32s\" is not USR1, USR2 or a real-time "
			  "signal (a number, or a name like RTMIN+3); using %s",
			  sig, WEFT_DEFAULT_SIGNAL);
		c->signal = weft_parse_signal(WEFT_DEFAULT_SIGNAL);
	}
	c->stacks = (int)env_number("WEFT_STACKS", 0, 1, 0);
	c->mode = env_trace_mode();
	uint32_t buffer_kb = (uint32_t)env_number("WEFT_BUFFER_KB", 4, 65536, 64);
	c->buffer_size = buffer_kb * 1024 - WEFT_BUFFER_TRAILER;
	unsigned long mb = env_number("WEFT_MEMORY_MB", 1, 1048576, 256);
	c->memory_cap = (uint64_t)mb << 20;
	if (c->memory_cap < buffer_kb * 1024) {
		weft_warn("WEFT_MEMORY_MB=%lu is smaller than one buffer "
			  "(WEFT_BUFFER_KB=%u); using one buffer",
			  mb, buffer_kb);
		c->memory_cap = buffer_kb * 1024;
	}
}
