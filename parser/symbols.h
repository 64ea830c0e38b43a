/*
 * symbols.h - names for the addresses of a trace: code addresses (stack
 * frames) as function, file:line and inlined frames, data addresses as
 * variables (and their members), read from the modules the trace lists
 * (MODULE records) with libdw.  Nothing is named from a file whose
 * build-id differs from the one recorded.
 */
#ifndef WEFT_SYMBOLS_H
#define WEFT_SYMBOLS_H

#include <stddef.h>
#include <stdint.h>

struct weft_symbols;

/* With the environment variable WEFT_SYMBOLS=0, nothing is read from the
 * modules: every address is shown as module+offset. */
struct weft_symbols *weft_symbols_new(void);
void weft_symbols_free(struct weft_symbols *sy);

/* A MODULE record of generation gen (path NULL when the trace gives
 * none). */
void weft_symbols_add_module(struct weft_symbols *sy, uint32_t gen,
			     uint64_t bias, uint64_t start, uint64_t end,
			     const char *path, const uint8_t *build_id,
			     uint32_t build_id_len);

/* What code address pc (a return address) of generation gen stands for:
 * *texts gets one text per frame, innermost first (several when calls
 * were inlined there): "function (file.c:31)" with debug information,
 * "function+0x1a (module)" from a symbol table, else "module+0x1234".
 * Returns how many, 0 when no module of the trace holds pc, and -1 when
 * pc is in weft's own library.  The texts live as long as sy. */
int weft_symbols_code(struct weft_symbols *sy, uint32_t gen, uint64_t pc,
		      const char *const **texts);

/* The variable at data address addr: "qm", "pool.lock" (the member, from
 * debug information), "table+0x40" (from a symbol table).  Returns 0
 * (buf untouched) when no variable holds addr. */
int weft_symbols_data(struct weft_symbols *sy, uint64_t addr, char *buf,
		      size_t cap);

/* Called once for each thing a person should know about the names shown
 * (a module rebuilt since the trace); NULL (the default) says nothing.
 * The library itself never prints. */
void weft_symbols_set_notice(void (*fn)(const char *message));

#endif
