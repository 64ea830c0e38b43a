/*
 * modules.c - the code modules loaded in the process (the main program
 * and every shared object), written as MODULE records with each
 * generation's tables, so that readers can name the program counters of
 * stacks and the addresses of objects without weft guessing names here.
 *
 * The list is read with dl_iterate_phdr when a generation ends and at
 * load, never on the hot path, and kept in memory weft owns from load on
 * (no allocation).  A fatal signal may arrive while its thread or another
 * holds the dynamic loader's lock (inside dlopen, or inside another
 * dl_iterate_phdr), so once one has arrived the list is frozen: the trace
 * completed from the signal handler gets the list of the last generation
 * end, which misses only objects loaded since.
 *
 * The main program is named by /proc/self/exe, resolved once at load:
 * never by argv[0], which a program may rewrite (its process title).
 */
#include <elf.h>
#include <link.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#include "tablebuf.h"
#include "weft.h"

#define MODULES_MAX   1024
#define PATHS_BYTES   (128u << 10)
#define BUILD_ID_MAX  64

struct module {
	uint64_t bias, start, end;
	uint32_t path_at, path_len;   /* in paths[] */
	uint8_t build_id[BUILD_ID_MAX];
	uint32_t build_id_len;
};

static struct module modules[MODULES_MAX];
static uint32_t nmodules;
static char paths[PATHS_BYTES];
static uint32_t paths_used;
static char program_path[4096];
static atomic_int frozen;

/* The GNU build-id in the notes of a loaded object, from its memory. */
static uint32_t find_build_id(const struct dl_phdr_info *info, uint8_t *out)
{
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_NOTE)
			continue;
		uint64_t align = ph->p_align == 8 ? 8 : 4;
		const uint8_t *p = (const uint8_t *)(info->dlpi_addr + ph->p_vaddr);
		const uint8_t *end = p + ph->p_memsz;
		while (p + sizeof(ElfW(Nhdr)) <= end) {
			const ElfW(Nhdr) *n = (const ElfW(Nhdr) *)p;
			const uint8_t *name = p + sizeof *n;
			uint64_t name_room = (n->n_namesz + align - 1) & ~(align - 1);
			const uint8_t *desc = name + name_room;
			uint64_t desc_room = (n->n_descsz + align - 1) & ~(align - 1);
			if (desc + n->n_descsz > end)
				break;
			if (n->n_type == NT_GNU_BUILD_ID && n->n_namesz == 4 &&
			    memcmp(name, "GNU", 4) == 0 && n->n_descsz <= BUILD_ID_MAX) {
				memcpy(out, desc, n->n_descsz);
				return n->n_descsz;
			}
			p = desc + desc_room;
		}
	}
	return 0;
}

static int add_module(struct dl_phdr_info *info, size_t size, void *data)
{
	(void)size, (void)data;
	if (nmodules == MODULES_MAX)
		return 1;
	uint64_t lo = UINT64_MAX, hi = 0;
	for (int i = 0; i < info->dlpi_phnum; i++) {
		const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
		if (ph->p_type != PT_LOAD)
			continue;
		uint64_t a = info->dlpi_addr + ph->p_vaddr;
		if (a < lo)
			lo = a;
		if (a + ph->p_memsz > hi)
			hi = a + ph->p_memsz;
	}
	if (hi == 0)
		return 0;
	/* The main program comes first, with no name of its own. */
	const char *path = info->dlpi_name && info->dlpi_name[0] ? info->dlpi_name
		: nmodules == 0 ? program_path : "";
	size_t len = strlen(path);
	if (len > PATHS_BYTES - paths_used)
		len = 0;
	struct module *m = &modules[nmodules++];
	m->bias = info->dlpi_addr;
	m->start = lo;
	m->end = hi;
	m->path_at = paths_used;
	m->path_len = (uint32_t)len;
	memcpy(paths + paths_used, path, len);
	paths_used += (uint32_t)len;
	m->build_id_len = find_build_id(info, m->build_id);
	return 0;
}

void weft_modules_refresh(void)
{
	if (atomic_load(&frozen))
		return;
	nmodules = 0;
	paths_used = 0;
	dl_iterate_phdr(add_module, NULL);
}

void weft_modules_init(void)
{
	ssize_t n = readlink("/proc/self/exe", program_path, sizeof program_path - 1);
	program_path[n > 0 ? n : 0] = 0;
	weft_modules_refresh();
}

void weft_modules_freeze(void)
{
	atomic_store(&frozen, 1);
}

void weft_modules_write(struct weft_tablebuf *tb, uint64_t *next_string)
{
	struct weft_record r;
	for (uint32_t i = 0; i < nmodules; i++) {
		const struct module *m = &modules[i];
		uint64_t path_id = 0;
		if (m->path_len) {
			path_id = (*next_string)++;
			memset(&r, 0, sizeof r);
			r.code = WEFT_EV_STRING;
			r.args[0] = path_id;
			r.bytes = (const uint8_t *)paths + m->path_at;
			r.nbytes = m->path_len < WEFT_MAX_BYTES ? m->path_len : WEFT_MAX_BYTES;
			weft_tb_record(tb, &r);
		}
		memset(&r, 0, sizeof r);
		r.code = WEFT_EV_MODULE;
		r.args[0] = m->bias;
		r.args[1] = m->start;
		r.args[2] = m->end;
		r.args[3] = path_id;
		r.bytes = m->build_id;
		r.nbytes = m->build_id_len;
		weft_tb_record(tb, &r);
	}
}
