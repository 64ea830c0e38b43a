/*
 * symbols.c - names for code and data addresses (see symbols.h), read
 * with libdwfl from the module files the trace names.
 *
 * Each module gets a Dwfl of its own, opened the first time an address in
 * it is asked for: the file at the recorded path is reported at the
 * recorded load bias, and used only when its build-id is the recorded
 * one; else the debug file with that build-id (/usr/lib/debug/.build-id)
 * stands in for it; else the module's addresses are shown as
 * module+offset.  Separate debug information is found the standard way
 * (by build-id, by debuglink, from debuginfod when DEBUGINFOD_URLS is
 * set).  Every answer is cached per module and address, so a trace with
 * millions of stacks reads each distinct address once.
 */
#include "symbols.h"

#include <dwarf.h>
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "u64map.h"

/* The C++ runtime's demangler (libstdc++). */
char *__cxa_demangle(const char *mangled, char *out, size_t *len, int *status);

enum module_state { MOD_UNOPENED, MOD_OPEN, MOD_UNAVAILABLE };

struct code_answer {
	int n;                 /* frames, or -1 for weft's own */
	char **texts;
};

struct data_var {
	uint64_t addr;         /* where the variable starts */
	Dwarf_Off die;         /* its DW_TAG_variable */
};

struct module {
	uint32_t first_gen, last_gen;
	uint64_t bias, start, end;
	char *path;            /* NULL when the trace gives none */
	const char *base;      /* the path's last part, or "?" */
	uint8_t *build_id;
	uint32_t build_id_len;
	int weft;              /* weft's own library */
	enum module_state state;
	Dwfl *dwfl;
	Dwfl_Module *mod;
	struct u64map code_index;      /* pc -> answers index + 1 */
	struct code_answer *answers;
	uint32_t nanswers, answers_cap;
	int vars_read;
	struct data_var *vars;
	uint32_t nvars, vars_cap;
};

struct weft_symbols {
	struct module *mods;
	uint32_t nmods, mods_cap;
	/* Data addresses asked for: address -> data_names index + 1; the
	 * name is NULL when no variable holds the address. */
	struct u64map data_index;
	char **data_names;
	uint32_t ndata, data_cap;
	int raw;               /* WEFT_SYMBOLS=0 */
};

static void (*notice_fn)(const char *message);

void weft_symbols_set_notice(void (*fn)(const char *message))
{
	notice_fn = fn;
}

static char *copy(const char *s)
{
	char *c = strdup(s);
	if (!c)
		abort();
	return c;
}

struct weft_symbols *weft_symbols_new(void)
{
	struct weft_symbols *sy = calloc(1, sizeof *sy);
	if (!sy)
		abort();
	const char *env = getenv("WEFT_SYMBOLS");
	sy->raw = env && strcmp(env, "0") == 0;
	return sy;
}

void weft_symbols_free(struct weft_symbols *sy)
{
	if (!sy)
		return;
	for (uint32_t i = 0; i < sy->nmods; i++) {
		struct module *m = &sy->mods[i];
		if (m->dwfl)
			dwfl_end(m->dwfl);
		for (uint32_t a = 0; a < m->nanswers; a++) {
			for (int f = 0; f < m->answers[a].n; f++)
				free(m->answers[a].texts[f]);
			free(m->answers[a].texts);
		}
		free(m->answers);
		u64map_free(&m->code_index);
		free(m->vars);
		free(m->path);
		free(m->build_id);
	}
	free(sy->mods);
	for (uint32_t i = 0; i < sy->ndata; i++)
		free(sy->data_names[i]);
	free(sy->data_names);
	u64map_free(&sy->data_index);
	free(sy);
}

static int same_module(const struct module *m, uint64_t bias, uint64_t start,
		       uint64_t end, const char *path, const uint8_t *id,
		       uint32_t id_len)
{
	return m->bias == bias && m->start == start && m->end == end &&
	       m->build_id_len == id_len && memcmp(m->build_id, id, id_len) == 0 &&
	       (m->path && path ? strcmp(m->path, path) == 0 : m->path == path);
}

void weft_symbols_add_module(struct weft_symbols *sy, uint32_t gen,
			     uint64_t bias, uint64_t start, uint64_t end,
			     const char *path, const uint8_t *build_id,
			     uint32_t build_id_len)
{
	for (uint32_t i = 0; i < sy->nmods; i++) {
		struct module *m = &sy->mods[i];
		if (same_module(m, bias, start, end, path, build_id, build_id_len)) {
			if (gen < m->first_gen)
				m->first_gen = gen;
			if (gen > m->last_gen)
				m->last_gen = gen;
			return;
		}
	}
	WEFT_GROW(sy->mods, sy->nmods, sy->mods_cap, 16);
	struct module *m = &sy->mods[sy->nmods++];
	memset(m, 0, sizeof *m);
	m->first_gen = m->last_gen = gen;
	m->bias = bias;
	m->start = start;
	m->end = end;
	m->path = path ? copy(path) : NULL;
	const char *slash = path ? strrchr(path, '/') : NULL;
	m->base = slash ? slash + 1 : path && *path ? path : "?";
	m->build_id = malloc(build_id_len + 1);
	if (!m->build_id)
		abort();
	memcpy(m->build_id, build_id, build_id_len);
	m->build_id_len = build_id_len;
	m->weft = strncmp(m->base, "libweft", 7) == 0 &&
		  strstr(m->base, ".so") != NULL;
}

/* The module that held addr in generation gen (gen 0: in any), the one
 * recorded nearest to gen when the address was reused. */
static struct module *module_at(struct weft_symbols *sy, uint32_t gen,
				uint64_t addr)
{
	struct module *best = NULL;
	uint64_t best_gap = UINT64_MAX;
	for (uint32_t i = 0; i < sy->nmods; i++) {
		struct module *m = &sy->mods[i];
		if (addr < m->start || addr >= m->end)
			continue;
		uint64_t gap = !gen || (gen >= m->first_gen && gen <= m->last_gen) ? 0
			: gen < m->first_gen ? m->first_gen - gen : gen - m->last_gen;
		if (gap < best_gap) {
			best = m;
			best_gap = gap;
		}
	}
	return best;
}

/* Reports file at the module's bias in a new Dwfl; keeps it when its
 * build-id is the recorded one.  1 when kept; 0, and *differs set when
 * the file was there with another build-id. */
static int try_file(struct module *m, const char *file,
		    int *differs)
{
	/* A trace names the file: only a regular one is read (a FIFO or a
	 * device named in a damaged trace must not block or feed us). */
	struct stat st;
	if (stat(file, &st) != 0 || !S_ISREG(st.st_mode) || access(file, R_OK) != 0)
		return 0;
	static const Dwfl_Callbacks callbacks = {
		.find_elf = dwfl_build_id_find_elf,
		.find_debuginfo = dwfl_standard_find_debuginfo,
		.section_address = dwfl_offline_section_address,
	};
	Dwfl *dwfl = dwfl_begin(&callbacks);
	if (!dwfl)
		return 0;
	dwfl_report_begin(dwfl);
	Dwfl_Module *mod = dwfl_report_elf(dwfl, m->base, file, -1, m->bias, true);
	dwfl_report_end(dwfl, NULL, NULL);
	if (!mod) {
		dwfl_end(dwfl);
		return 0;
	}
	const unsigned char *bits = NULL;
	GElf_Addr vaddr;
	int len = dwfl_module_build_id(mod, &bits, &vaddr);
	if (len < 0)
		len = 0;
	if ((uint32_t)len != m->build_id_len ||
	    (len && memcmp(bits, m->build_id, (size_t)len) != 0)) {
		*differs = 1;
		dwfl_end(dwfl);
		return 0;
	}
	m->dwfl = dwfl;
	m->mod = mod;
	return 1;
}

static void open_module(struct weft_symbols *sy, struct module *m)
{
	m->state = MOD_UNAVAILABLE;
	if (sy->raw || m->weft)
		return;
	int differs = 0;
	if (m->path && m->path[0] && try_file(m, m->path, &differs)) {
		m->state = MOD_OPEN;
		return;
	}
	if (m->build_id_len >= 2) {
		char dbg[64 + 2 * 64];
		int at = snprintf(dbg, sizeof dbg, "/usr/lib/debug/.build-id/%02x/",
				  m->build_id[0]);
		for (uint32_t i = 1; i < m->build_id_len; i++)
			at += snprintf(dbg + at, sizeof dbg - (size_t)at, "%02x",
				       m->build_id[i]);
		snprintf(dbg + at, sizeof dbg - (size_t)at, ".debug");
		int ignored = 0;
		if (try_file(m, dbg, &ignored)) {
			m->state = MOD_OPEN;
			return;
		}
	}
	if (differs && notice_fn) {
		char msg[4200];
		snprintf(msg, sizeof msg, "%s was rebuilt since the trace (build-id "
			 "differs): its code is shown as %s+offset", m->path, m->base);
		notice_fn(msg);
	}
}

/* A function's name: its linkage name demangled, else its name. */
static char *function_name(Dwarf_Die *die)
{
	Dwarf_Attribute attr;
	const char *linkage = dwarf_formstring(
		dwarf_attr_integrate(die, DW_AT_linkage_name, &attr));
	if (!linkage)
		linkage = dwarf_formstring(
			dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr));
	if (linkage) {
		int status = -1;
		char *d = __cxa_demangle(linkage, NULL, NULL, &status);
		if (d && status == 0)
			return d;
		free(d);
	}
	const char *name = dwarf_diename(die);
	return name ? copy(name) : NULL;
}

static char *symbol_name(const char *name)
{
	int status = -1;
	char *d = name[0] == '_' && name[1] == 'Z'
		? __cxa_demangle(name, NULL, NULL, &status) : NULL;
	if (d && status == 0)
		return d;
	free(d);
	return copy(name);
}

static const char *base_name(const char *file)
{
	const char *slash = file ? strrchr(file, '/') : NULL;
	return slash ? slash + 1 : file;
}

static char *frame_text(const char *function, const char *file, int line)
{
	char *s = NULL;
	int rc = file && line > 0
		? asprintf(&s, "%s (%s:%d)", function ? function : "??", base_name(file), line)
		: asprintf(&s, "%s", function ? function : "??");
	if (rc < 0)
		abort();
	return s;
}

static void add_text(struct code_answer *a, int *cap, char *text)
{
	if (a->n == *cap) {
		*cap = *cap ? *cap * 2 : 4;
		a->texts = realloc(a->texts, (size_t)*cap * sizeof *a->texts);
		if (!a->texts)
			abort();
	}
	a->texts[a->n++] = text;
}

/* The frames of addr from debug information (inlined ones first). */
static void dwarf_frames(struct module *m, uint64_t addr, struct code_answer *a,
			 int *cap)
{
	Dwarf_Addr bias;
	Dwarf_Die *cu = dwfl_module_addrdie(m->mod, addr, &bias);
	if (!cu)
		return;
	/* dwarf_getscopes goes on, past an inlined call, into the inlined
	 * function's abstract scopes: the concrete chain of callers is
	 * dwarf_getscopes_die's, from the innermost scope. */
	Dwarf_Die *scopes = NULL;
	int n = dwarf_getscopes(cu, addr - bias, &scopes);
	if (n > 0) {
		Dwarf_Die innermost = scopes[0];
		free(scopes);
		scopes = NULL;
		n = dwarf_getscopes_die(&innermost, &scopes);
	}
	const char *file = NULL;
	int line = 0;
	Dwfl_Line *l = dwfl_module_getsrc(m->mod, addr);
	if (l)
		file = dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL);
	Dwarf_Files *files = NULL;
	size_t nfiles = 0;
	for (int i = 0; i < n; i++) {
		int tag = dwarf_tag(&scopes[i]);
		if (tag != DW_TAG_inlined_subroutine && tag != DW_TAG_subprogram)
			continue;
		char *name = function_name(&scopes[i]);
		add_text(a, cap, frame_text(name, file, line));
		free(name);
		if (tag == DW_TAG_subprogram)
			break;
		/* The next frame is where this one was inlined. */
		Dwarf_Attribute attr;
		Dwarf_Word call_file = 0, call_line = 0;
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_file, &attr), &call_file);
		dwarf_formudata(dwarf_attr(&scopes[i], DW_AT_call_line, &attr), &call_line);
		if (!files && dwarf_getsrcfiles(cu, &files, &nfiles) != 0)
			files = NULL;
		file = files && call_file < nfiles
			? dwarf_filesrc(files, call_file, NULL, NULL) : NULL;
		line = (int)call_line;
	}
	free(scopes);
}

static struct code_answer answer_code(struct module *m, uint64_t pc)
{
	struct code_answer a = { 0 };
	int cap = 0;
	if (m->weft) {
		a.n = -1;
		return a;
	}
	/* A return address is just after its call. */
	uint64_t addr = pc - 1;
	if (m->state == MOD_OPEN) {
		dwarf_frames(m, addr, &a, &cap);
		if (a.n)
			return a;
		GElf_Off off = 0;
		GElf_Sym sym;
		const char *name = dwfl_module_addrinfo(m->mod, addr, &off, &sym,
							NULL, NULL, NULL);
		if (name && GELF_ST_TYPE(sym.st_info) != STT_OBJECT) {
			char *fn = symbol_name(name), *s = NULL;
			if (asprintf(&s, "%s+0x%" PRIx64 " (%s)", fn, (uint64_t)off + 1,
				     m->base) < 0)
				abort();
			free(fn);
			add_text(&a, &cap, s);
			return a;
		}
	}
	char *s = NULL;
	if (asprintf(&s, "%s+0x%" PRIx64, m->base, pc - m->bias) < 0)
		abort();
	add_text(&a, &cap, s);
	return a;
}

int weft_symbols_code(struct weft_symbols *sy, uint32_t gen, uint64_t pc,
		      const char *const **texts)
{
	struct module *m = module_at(sy, gen, pc);
	if (!m)
		return 0;
	uint32_t i = u64map_get(&m->code_index, pc);
	if (!i) {
		if (m->state == MOD_UNOPENED)
			open_module(sy, m);
		WEFT_GROW(m->answers, m->nanswers, m->answers_cap, 64);
		m->answers[m->nanswers++] = answer_code(m, pc);
		i = m->nanswers;
		u64map_put(&m->code_index, pc, i);
	}
	*texts = (const char *const *)m->answers[i - 1].texts;
	return m->answers[i - 1].n;
}

/* ---- data ---- */

/* The address a variable's location is, when it is one fixed address. */
static int variable_address(Dwarf_Die *die, uint64_t *addr)
{
	Dwarf_Attribute attr;
	Dwarf_Op *expr;
	size_t len;
	if (!dwarf_attr(die, DW_AT_location, &attr) ||
	    dwarf_getlocation(&attr, &expr, &len) != 0 || len != 1 ||
	    expr[0].atom != DW_OP_addr)
		return 0;
	*addr = expr[0].number;
	return 1;
}

static void collect_vars(struct module *m, Dwarf_Die *die, Dwarf_Addr bias,
			 int depth)
{
	Dwarf_Die child;
	if (depth > 8 || dwarf_child(die, &child) != 0)
		return;
	do {
		int tag = dwarf_tag(&child);
		uint64_t at;
		if (tag == DW_TAG_variable && variable_address(&child, &at)) {
			WEFT_GROW(m->vars, m->nvars, m->vars_cap, 64);
			m->vars[m->nvars++] = (struct data_var){ at + bias,
								 dwarf_dieoffset(&child) };
		} else if (tag == DW_TAG_subprogram || tag == DW_TAG_lexical_block ||
			   tag == DW_TAG_namespace) {
			collect_vars(m, &child, bias, depth + 1);
		}
	} while (dwarf_siblingof(&child, &child) == 0);
}

/* Every variable at a fixed address, from the module's debug information,
 * read once. */
static void read_vars(struct module *m)
{
	m->vars_read = 1;
	Dwarf_Addr bias;
	Dwarf_Die *cu = NULL;
	while ((cu = dwfl_module_nextcu(m->mod, cu, &bias)))
		collect_vars(m, cu, bias, 0);
}

static Dwarf_Die *type_of(Dwarf_Die *die, Dwarf_Die *mem)
{
	Dwarf_Attribute attr;
	return dwarf_formref_die(dwarf_attr_integrate(die, DW_AT_type, &attr), mem);
}

/* A type that is one synchronization object: the walk into members stops
 * there. */
static int is_sync_type(Dwarf_Die *t)
{
	const char *name = dwarf_diename(t);
	return name && (strncmp(name, "pthread_", 8) == 0 ||
			strncmp(name, "__gthread_", 10) == 0 ||
			strcmp(name, "sem_t") == 0);
}

/* Appends to buf the member path to offset off inside type t
 * (".lock", "[3].lock"); returns the offset left over. */
static uint64_t member_path(Dwarf_Die *t, uint64_t off, char *buf, size_t cap)
{
	Dwarf_Die mem;
	for (int depth = 0; t && depth < 16; depth++) {
		int tag = dwarf_tag(t);
		if (tag == DW_TAG_typedef || tag == DW_TAG_const_type ||
		    tag == DW_TAG_volatile_type || tag == DW_TAG_atomic_type) {
			if (off == 0 && is_sync_type(t))
				return 0;
			t = type_of(t, t);
			continue;
		}
		if (tag == DW_TAG_array_type) {
			Dwarf_Die elem_mem;
			Dwarf_Die *elem = type_of(t, &elem_mem);
			Dwarf_Word size;
			if (!elem || dwarf_aggregate_size(elem, &size) != 0 || size == 0)
				return off;
			size_t len = strlen(buf);
			snprintf(buf + len, cap - len, "[%" PRIu64 "]", off / size);
			off %= size;
			mem = *elem;
			t = &mem;
			continue;
		}
		if (tag != DW_TAG_structure_type && tag != DW_TAG_class_type &&
		    tag != DW_TAG_union_type)
			return off;
		if (off == 0 && is_sync_type(t))
			return 0;
		Dwarf_Die child, found;
		int have = 0;
		uint64_t found_at = 0;
		if (dwarf_child(t, &child) == 0) {
			do {
				int ct = dwarf_tag(&child);
				if (ct != DW_TAG_member && ct != DW_TAG_inheritance)
					continue;
				Dwarf_Attribute attr;
				Dwarf_Word at = 0;
				if (dwarf_attr(&child, DW_AT_data_member_location, &attr) &&
				    dwarf_formudata(&attr, &at) != 0)
					continue;
				Dwarf_Die ctm;
				Dwarf_Die *ctype = type_of(&child, &ctm);
				Dwarf_Word size;
				if (!ctype || dwarf_aggregate_size(ctype, &size) != 0)
					continue;
				if (off >= at && off < at + size) {
					found = child;
					found_at = at;
					have = 1;
					break;
				}
			} while (dwarf_siblingof(&child, &child) == 0);
		}
		if (!have)
			return off;
		if (dwarf_tag(&found) == DW_TAG_member && dwarf_diename(&found)) {
			size_t len = strlen(buf);
			snprintf(buf + len, cap - len, ".%s", dwarf_diename(&found));
		}
		off -= found_at;
		t = type_of(&found, &mem);
	}
	return off;
}

/* The variable name and member path from debug information. */
static int dwarf_variable(struct module *m, uint64_t addr, char *buf, size_t cap)
{
	if (!m->vars_read)
		read_vars(m);
	const struct data_var *best = NULL;
	for (uint32_t i = 0; i < m->nvars; i++)
		if (m->vars[i].addr <= addr && (!best || m->vars[i].addr > best->addr))
			best = &m->vars[i];
	if (!best)
		return 0;
	Dwarf_Addr bias;
	Dwarf *dw = dwfl_module_getdwarf(m->mod, &bias);
	Dwarf_Die var, tmem;
	if (!dw || !dwarf_offdie(dw, best->die, &var))
		return 0;
	Dwarf_Die *t = type_of(&var, &tmem);
	Dwarf_Word size;
	uint64_t off = addr - best->addr;
	if (!t || dwarf_aggregate_size(t, &size) != 0 || off >= size)
		return 0;
	const char *name = dwarf_diename(&var);
	if (!name)
		return 0;
	snprintf(buf, cap, "%s", name);
	uint64_t left = member_path(t, off, buf, cap);
	if (left) {
		size_t len = strlen(buf);
		snprintf(buf + len, cap - len, "+0x%" PRIx64, left);
	}
	return 1;
}

static int find_variable(struct weft_symbols *sy, uint64_t addr, char *buf,
			 size_t cap)
{
	struct module *m = module_at(sy, 0, addr);
	if (!m)
		return 0;
	if (m->state == MOD_UNOPENED)
		open_module(sy, m);
	if (m->state != MOD_OPEN)
		return 0;
	if (dwarf_variable(m, addr, buf, cap))
		return 1;
	GElf_Off off = 0;
	GElf_Sym sym;
	const char *name = dwfl_module_addrinfo(m->mod, addr, &off, &sym, NULL,
						NULL, NULL);
	if (!name || (GELF_ST_TYPE(sym.st_info) != STT_OBJECT &&
		      GELF_ST_TYPE(sym.st_info) != STT_TLS) ||
	    (sym.st_size ? off >= sym.st_size : off != 0))
		return 0;
	char *plain = symbol_name(name);
	if (off)
		snprintf(buf, cap, "%s+0x%" PRIx64, plain, (uint64_t)off);
	else
		snprintf(buf, cap, "%s", plain);
	free(plain);
	return 1;
}

int weft_symbols_data(struct weft_symbols *sy, uint64_t addr, char *buf,
		      size_t cap)
{
	if (!addr)
		return 0;
	uint32_t i = u64map_get(&sy->data_index, addr);
	if (!i) {
		char name[512];
		WEFT_GROW(sy->data_names, sy->ndata, sy->data_cap, 64);
		sy->data_names[sy->ndata++] = find_variable(sy, addr, name, sizeof name)
			? copy(name) : NULL;
		i = sy->ndata;
		u64map_put(&sy->data_index, addr, i);
	}
	const char *name = sy->data_names[i - 1];
	if (!name)
		return 0;
	snprintf(buf, cap, "%s", name);
	return 1;
}
