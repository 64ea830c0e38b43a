/*
 * unwind.c - the call stack of the calling thread, read from the call
 * frame information (CFI) the compiler leaves in every object's
 * .eh_frame, with each code address's rule learned once and kept in a
 * process-wide, lock-free cache (and the rules of a thread's last capture
 * in a few lines of its own, nearer at hand).
 *
 * A frame is stepped with one rule: where its canonical frame address
 * (CFA) is (the stack pointer or the frame pointer plus an offset), where
 * the caller's frame pointer was saved (an offset from the CFA, or not
 * saved), and that the return address sits just below the CFA.  The rule
 * for an address is the CFI program of its FDE run up to that address;
 * the FDE is found through _dl_find_object, which glibc documents as
 * async-signal-safe and which neither locks nor makes a system call.  So
 * a capture, cached or not, makes no system call, takes no lock, never
 * allocates and may be interrupted by a signal whose handler captures
 * too: the cache's only writes are a CAS claiming a slot and a store
 * publishing its rule, and a reader that finds a slot claimed but not yet
 * published works the rule out itself.
 *
 * Only what the CFI vouches for is read: stepping stops at an address with
 * no FDE (code without unwind information: generated code, some
 * hand-written assembly), at a rule this unwinder does not follow (a CFA
 * based on another register, a CFA or a register given by a DWARF
 * expression, other than the linker's for a PLT entry and the signal
 * return trampoline's, whose saved context is read instead), at the
 * outermost frame (the CFI marks its return address undefined), and when
 * a step would not move up the stack.  Frame pointers are never guessed
 * at, so code built without them (-O2 omits them) unwinds as well as
 * code built with them, and a frame pointer used as a plain register is
 * never followed.
 *
 * A cached rule is kept for the life of the process: code unloaded with
 * dlclose and other code loaded at the same address later would be
 * stepped with the old code's rules: its stacks may be wrong from there,
 * and a step may read a wrong slot of the stack.
 *
 * x86_64 only: the DWARF register numbers and the trampoline are that
 * architecture's.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/ucontext.h>

#include "unwind.h"

#if !defined(__x86_64__)
#error "unwind.c reads x86_64 call frames"
#endif

/* DWARF register numbers (x86_64 psABI). */
enum { REG_FP = 6, REG_SP = 7, REG_RA = 16 };

/* What a rule says to do with a frame. */
enum rule_kind {
	RULE_STEP = 1,   /* CFA = base + offset; return address at CFA - 8 */
	RULE_LAST,       /* the outermost frame */
	RULE_SIGNAL,     /* the signal return trampoline: a ucontext at SP */
	RULE_STOP,       /* no usable information: the stack ends here */
};

/* What becomes of the frame pointer in a step. */
enum fp_fate {
	FP_KEPT,  /* the caller's is this frame's */
	FP_SAVED, /* the caller's is saved at the CFA plus an offset */
	FP_LOST,  /* saved where this unwinder does not look: unknown */
};

/* A rule packed in 64 bits, never 0 (kind is at least 1): bits 0-2 kind,
 * bit 3 the CFA is based on the frame pointer (else the stack pointer),
 * bits 4-5 the frame pointer's fate, bits 16-31 where it is saved (a
 * signed offset from the CFA), bits 32-63 the CFA's offset. */
static uint64_t rule_pack(enum rule_kind kind, int cfa_fp, int32_t cfa_off,
			  enum fp_fate fate, int16_t fp_off)
{
	return (uint64_t)kind | (uint64_t)(cfa_fp != 0) << 3 | (uint64_t)fate << 4 |
	       (uint64_t)(uint16_t)fp_off << 16 | (uint64_t)(uint32_t)cfa_off << 32;
}

#define RULE_KIND(r)    ((enum rule_kind)((r) & 7))
#define RULE_CFA_FP(r)  (((r) >> 3) & 1)
#define RULE_FP_FATE(r) ((enum fp_fate)(((r) >> 4) & 3))
#define RULE_FP_OFF(r)  ((int16_t)(uint16_t)((r) >> 16))
#define RULE_CFA_OFF(r) ((int32_t)(uint32_t)((r) >> 32))
#define RULE_ONLY(kind) rule_pack(kind, 0, 0, FP_KEPT, 0)

/* ---- the cache: address -> rule ---- */

#define CACHE_BITS  15
#define CACHE_SLOTS (1u << CACHE_BITS)
#define CACHE_PROBE 16

struct cache_slot {
	_Atomic uintptr_t key; /* 0: free */
	_Atomic uint64_t rule; /* 0: claimed, not yet published */
};

static struct cache_slot cache[CACHE_SLOTS];

static uint32_t cache_home(uintptr_t key)
{
	return (uint32_t)(((uint64_t)key * 0x9e3779b97f4a7c15ull) >> (64 - CACHE_BITS));
}

/* ---- reading .eh_frame ---- */

/* A cursor over CFI bytes; `end` bounds every read. */
struct cur {
	const uint8_t *p, *end;
	int bad;
};

static uint8_t rd_u8(struct cur *c)
{
	if (c->p >= c->end) {
		c->bad = 1;
		return 0;
	}
	return *c->p++;
}

static uint64_t rd_fixed(struct cur *c, size_t n)
{
	if ((size_t)(c->end - c->p) < n) {
		c->bad = 1;
		c->p = c->end;
		return 0;
	}
	uint64_t v = 0;
	memcpy(&v, c->p, n); /* little-endian */
	c->p += n;
	return v;
}

static uint64_t rd_uleb(struct cur *c)
{
	uint64_t v = 0;
	for (unsigned shift = 0;; shift += 7) {
		uint8_t b = rd_u8(c);
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		if (!(b & 0x80) || c->bad)
			return v;
	}
}

static int64_t rd_sleb(struct cur *c)
{
	uint64_t v = 0;
	unsigned shift = 0;
	uint8_t b;
	do {
		b = rd_u8(c);
		if (shift < 64)
			v |= (uint64_t)(b & 0x7f) << shift;
		shift += 7;
	} while ((b & 0x80) && !c->bad);
	if (shift < 64 && (b & 0x40))
		v |= ~0ull << shift;
	return (int64_t)v;
}

/* DW_EH_PE pointer encodings. */
enum {
	PE_OMIT = 0xff, PE_ABSPTR = 0x00, PE_ULEB = 0x01, PE_UDATA2 = 0x02,
	PE_UDATA4 = 0x03, PE_UDATA8 = 0x04, PE_SLEB = 0x09, PE_SDATA2 = 0x0a,
	PE_SDATA4 = 0x0b, PE_SDATA8 = 0x0c, PE_PCREL = 0x10, PE_DATAREL = 0x30,
	PE_INDIRECT = 0x80,
};

/* A pointer in encoding enc; `datarel` is the base of DW_EH_PE_datarel.
 * Indirect pointers and other bases set c->bad. */
static uintptr_t rd_encoded(struct cur *c, uint8_t enc, uintptr_t datarel)
{
	uintptr_t at = (uintptr_t)c->p;
	uint64_t v;
	switch (enc & 0x0f) {
	case PE_ABSPTR:
	case PE_UDATA8:
	case PE_SDATA8: v = rd_fixed(c, 8); break;
	case PE_ULEB: v = rd_uleb(c); break;
	case PE_SLEB: v = (uint64_t)rd_sleb(c); break;
	case PE_UDATA2: v = rd_fixed(c, 2); break;
	case PE_SDATA2: v = (uint64_t)(int64_t)(int16_t)rd_fixed(c, 2); break;
	case PE_UDATA4: v = rd_fixed(c, 4); break;
	case PE_SDATA4: v = (uint64_t)(int64_t)(int32_t)rd_fixed(c, 4); break;
	default: c->bad = 1; return 0;
	}
	switch (enc & 0x70) {
	case 0: break;
	case PE_PCREL: v += at; break;
	case PE_DATAREL: v += datarel; break;
	default: c->bad = 1; return 0;
	}
	if (enc & PE_INDIRECT)
		c->bad = 1;
	return (uintptr_t)v;
}

/* The register rules this unwinder follows, as a CFI program leaves them. */
struct cfi_state {
	int cfa_reg;         /* REG_SP or REG_FP; anything else: unusable */
	int64_t cfa_off;
	const uint8_t *cfa_expr; /* the CFA is this DWARF expression... */
	uint64_t cfa_expr_len;   /* ...of this many bytes */
	int fp_saved;        /* the caller's frame pointer is at CFA + fp_off */
	int64_t fp_off;
	int fp_other;        /* ...or somewhere this unwinder does not follow */
	int ra_undefined;    /* the outermost frame */
	int ra_other;        /* the return address is not at CFA - 8 */
};

struct cie {
	int64_t data_align;
	uint64_t code_align;
	uint64_t ra_reg;
	uint8_t fde_enc;
	int has_aug_data, signal_frame;
	const uint8_t *insns, *end;
};

static int read_cie(const uint8_t *at, const uint8_t *limit, struct cie *cie)
{
	struct cur c = { at, limit, 0 };
	uint64_t len = rd_fixed(&c, 4);
	if (len == 0 || len == 0xffffffffu || len > (uint64_t)(limit - c.p))
		return -1;
	c.end = c.p + len;
	if (rd_fixed(&c, 4) != 0) /* a CIE's id */
		return -1;
	uint8_t version = rd_u8(&c);
	const char *aug = (const char *)c.p;
	while (rd_u8(&c) != 0 && !c.bad)
		;
	if (aug[0] == 'e' && aug[1] == 'h')
		rd_fixed(&c, 8);
	cie->code_align = rd_uleb(&c);
	cie->data_align = rd_sleb(&c);
	cie->ra_reg = version == 1 ? rd_u8(&c) : rd_uleb(&c);
	cie->fde_enc = PE_ABSPTR;
	cie->has_aug_data = 0;
	cie->signal_frame = 0;
	if (aug[0] == 'z') {
		cie->has_aug_data = 1;
		uint64_t alen = rd_uleb(&c);
		const uint8_t *after = c.p + alen;
		for (const char *a = aug + 1; *a && !c.bad; a++) {
			if (*a == 'R')
				cie->fde_enc = rd_u8(&c);
			else if (*a == 'L')
				rd_u8(&c);
			else if (*a == 'P')
				rd_encoded(&c, rd_u8(&c) & 0x7f, 0);
			else if (*a == 'S')
				cie->signal_frame = 1;
			else if (*a != 'B' && *a != 'G')
				return -1;
		}
		if (after > c.end)
			return -1;
		c.p = after;
	} else if (aug[0] != 0 && !(aug[0] == 'e' && aug[1] == 'h')) {
		return -1;
	}
	cie->insns = c.p;
	cie->end = c.end;
	return c.bad ? -1 : 0;
}

#define STATE_STACK 8

/* Runs CFI instructions [p, end) from location loc while it stays at or
 * before target; `initial` is the state after the CIE's instructions (for
 * DW_CFA_restore).  0, or -1 on an instruction it cannot read. */
static int run_cfi(const uint8_t *p, const uint8_t *end, const struct cie *cie,
		   uintptr_t loc, uintptr_t target, struct cfi_state *s,
		   const struct cfi_state *initial)
{
	struct cfi_state saved[STATE_STACK];
	int depth = 0;
	struct cur c = { p, end, 0 };
	while (c.p < c.end && !c.bad) {
		uint8_t op = rd_u8(&c);
		uint64_t reg = op & 0x3f, delta = 0;
		int64_t off = 0;
		switch (op >> 6) {
		case 1: /* advance_loc */
			delta = reg * cie->code_align;
			goto advance;
		case 2: /* offset */
			off = (int64_t)rd_uleb(&c) * cie->data_align;
			goto offset;
		case 3: /* restore */
			goto restore;
		}
		switch (op) {
		case 0x00: /* nop */
			break;
		case 0x01: /* set_loc */
			loc = rd_encoded(&c, cie->fde_enc, 0);
			if (loc > target)
				return 0;
			break;
		case 0x02: delta = rd_fixed(&c, 1) * cie->code_align; goto advance;
		case 0x03: delta = rd_fixed(&c, 2) * cie->code_align; goto advance;
		case 0x04: delta = rd_fixed(&c, 4) * cie->code_align; goto advance;
		case 0x05: /* offset_extended */
			reg = rd_uleb(&c);
			off = (int64_t)rd_uleb(&c) * cie->data_align;
			goto offset;
		case 0x11: /* offset_extended_sf */
			reg = rd_uleb(&c);
			off = rd_sleb(&c) * cie->data_align;
			goto offset;
		case 0x2f: /* GNU_negative_offset_extended */
			reg = rd_uleb(&c);
			off = -(int64_t)rd_uleb(&c) * cie->data_align;
			goto offset;
		case 0x06: /* restore_extended */
			reg = rd_uleb(&c);
			goto restore;
		case 0x07: /* undefined */
			reg = rd_uleb(&c);
			if (reg == REG_RA)
				s->ra_undefined = 1;
			else if (reg == REG_FP)
				s->fp_other = 1;
			break;
		case 0x08: /* same_value */
			reg = rd_uleb(&c);
			if (reg == REG_FP)
				s->fp_saved = s->fp_other = 0;
			break;
		case 0x09: /* register */
			reg = rd_uleb(&c);
			rd_uleb(&c);
			goto other;
		case 0x14: /* val_offset */
			reg = rd_uleb(&c);
			rd_uleb(&c);
			goto other;
		case 0x15: /* val_offset_sf */
			reg = rd_uleb(&c);
			rd_sleb(&c);
			goto other;
		case 0x10: /* expression */
		case 0x16: { /* val_expression */
			reg = rd_uleb(&c);
			uint64_t n = rd_uleb(&c);
			if (n > (uint64_t)(c.end - c.p))
				return -1;
			c.p += n;
			goto other;
		}
		case 0x0a: /* remember_state */
			if (depth == STATE_STACK)
				return -1;
			saved[depth++] = *s;
			break;
		case 0x0b: /* restore_state: every rule, the CFA's too */
			if (depth == 0)
				return -1;
			*s = saved[--depth];
			break;
		case 0x0c: /* def_cfa */
			s->cfa_reg = (int)rd_uleb(&c);
			s->cfa_off = (int64_t)rd_uleb(&c);
			s->cfa_expr = NULL;
			break;
		case 0x12: /* def_cfa_sf */
			s->cfa_reg = (int)rd_uleb(&c);
			s->cfa_off = rd_sleb(&c) * cie->data_align;
			s->cfa_expr = NULL;
			break;
		case 0x0d: /* def_cfa_register */
			s->cfa_reg = (int)rd_uleb(&c);
			s->cfa_expr = NULL;
			break;
		case 0x0e: /* def_cfa_offset */
			s->cfa_off = (int64_t)rd_uleb(&c);
			break;
		case 0x13: /* def_cfa_offset_sf */
			s->cfa_off = rd_sleb(&c) * cie->data_align;
			break;
		case 0x0f: { /* def_cfa_expression */
			uint64_t n = rd_uleb(&c);
			if (n > (uint64_t)(c.end - c.p))
				return -1;
			s->cfa_expr = c.p;
			s->cfa_expr_len = n;
			c.p += n;
			break;
		}
		case 0x2e: /* GNU_args_size */
			rd_uleb(&c);
			break;
		default:
			return -1;
		}
		continue;
	advance:
		if (loc + delta > target)
			return 0;
		loc += delta;
		continue;
	offset:
		if (reg == REG_FP) {
			s->fp_saved = 1;
			s->fp_other = 0;
			s->fp_off = off;
		} else if (reg == REG_RA) {
			s->ra_other = off != -8;
			s->ra_undefined = 0;
		}
		continue;
	restore:
		if (reg == REG_FP) {
			s->fp_saved = initial->fp_saved;
			s->fp_other = initial->fp_other;
			s->fp_off = initial->fp_off;
		} else if (reg == REG_RA) {
			s->ra_other = initial->ra_other;
			s->ra_undefined = initial->ra_undefined;
		}
		continue;
	other:
		if (reg == REG_FP)
			s->fp_other = 1;
		else if (reg == REG_RA)
			s->ra_other = 1;
		continue;
	}
	return c.bad ? -1 : 0;
}

/* The bytes of `mov $15, %rax; syscall` (rt_sigreturn), where the kernel's
 * signal frames return to. */
static int is_sigreturn(uintptr_t pc)
{
	static const uint8_t code[] = { 0x48, 0xc7, 0xc0, 0x0f, 0x00, 0x00, 0x00,
					0x0f, 0x05 };
	return memcmp((const void *)pc, code, sizeof code) == 0;
}

/* The linker's CFA expression for a PLT entry: rsp + 8, plus 8 more once
 * past the entry's push (its address's low four bits at least K):
 * breg7 8; breg16 0; lit15; and; litK; ge; lit3; shl; plus.  A frame is
 * in a PLT entry only when a signal interrupted it there, at an exact
 * address, so the rule for that address is a plain one: made so, 1. */
static int plt_cfa(struct cfi_state *s, uintptr_t at)
{
	static const uint8_t head[] = { 0x77, 0x08, 0x80, 0x00, 0x3f, 0x1a };
	static const uint8_t tail[] = { 0x2a, 0x33, 0x24, 0x22 };
	const uint8_t *e = s->cfa_expr;
	if (s->cfa_expr_len != 11 || memcmp(e, head, sizeof head) != 0 ||
	    e[6] < 0x30 || e[6] > 0x4f || memcmp(e + 7, tail, sizeof tail) != 0)
		return 0;
	s->cfa_reg = REG_SP;
	s->cfa_off = (at & 15) >= (uintptr_t)(e[6] - 0x30) ? 16 : 8;
	return 1;
}

/* The rule at code address `at` (a return address less one, or an
 * interrupted frame's exact address), worked out from its FDE. */
static uint64_t learn(uintptr_t at, uintptr_t pc)
{
	struct dl_find_object obj;
	if (_dl_find_object((void *)at, &obj) != 0 || !obj.dlfo_eh_frame)
		return RULE_ONLY(RULE_STOP);
	const uint8_t *hdr = obj.dlfo_eh_frame;
	/* .eh_frame_hdr: version, the encodings of the .eh_frame pointer,
	 * of the count and of the table, then a sorted table of (start,
	 * FDE) pairs; only the usual datarel sdata4 table is searched. */
	struct cur c = { hdr, hdr + 4, 0 };
	if (rd_u8(&c) != 1)
		return RULE_ONLY(RULE_STOP);
	uint8_t ptr_enc = rd_u8(&c), count_enc = rd_u8(&c), table_enc = rd_u8(&c);
	c.end = hdr + 20;
	rd_encoded(&c, ptr_enc, (uintptr_t)hdr);
	uintptr_t count = rd_encoded(&c, count_enc, (uintptr_t)hdr);
	if (c.bad || table_enc != (PE_DATAREL | PE_SDATA4) || count == 0)
		return RULE_ONLY(RULE_STOP);
	const int32_t *table = (const int32_t *)c.p;
	size_t lo = 0, hi = count;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;
		if ((uintptr_t)hdr + (intptr_t)table[2 * mid] <= at)
			lo = mid;
		else
			hi = mid;
	}
	if ((uintptr_t)hdr + (intptr_t)table[2 * lo] > at)
		return RULE_ONLY(RULE_STOP);
	const uint8_t *fde = hdr + table[2 * lo + 1];
	/* An FDE never spans more than a few megabytes of CFI; the bound
	 * only keeps a broken length from reading far. */
	const uint8_t *limit = fde + (1u << 24);
	struct cur f = { fde, limit, 0 };
	uint64_t len = rd_fixed(&f, 4);
	if (len == 0 || len == 0xffffffffu)
		return RULE_ONLY(RULE_STOP);
	f.end = f.p + len;
	const uint8_t *id_at = f.p;
	uint32_t cie_off = (uint32_t)rd_fixed(&f, 4);
	struct cie cie;
	if (cie_off == 0 || read_cie(id_at - cie_off, limit, &cie) != 0)
		return RULE_ONLY(RULE_STOP);
	uintptr_t start = rd_encoded(&f, cie.fde_enc, 0);
	uintptr_t range = rd_encoded(&f, cie.fde_enc & 0x0f, 0);
	if (cie.has_aug_data)
		f.p += rd_uleb(&f);
	if (f.bad || f.p > f.end || at < start || at - start >= range ||
	    cie.ra_reg != REG_RA)
		return RULE_ONLY(RULE_STOP);

	struct cfi_state s = { .cfa_reg = -1 }, initial;
	if (run_cfi(cie.insns, cie.end, &cie, start, UINTPTR_MAX, &s, &s) != 0)
		return RULE_ONLY(RULE_STOP);
	initial = s;
	if (run_cfi(f.p, f.end, &cie, start, at, &s, &initial) != 0)
		return RULE_ONLY(RULE_STOP);
	if (s.ra_undefined)
		return RULE_ONLY(RULE_LAST);
	if (s.cfa_expr && plt_cfa(&s, at))
		s.cfa_expr = NULL;
	if (s.cfa_expr)
		return cie.signal_frame && is_sigreturn(pc)
			       ? RULE_ONLY(RULE_SIGNAL)
			       : RULE_ONLY(RULE_STOP);
	if (s.ra_other || (s.cfa_reg != REG_SP && s.cfa_reg != REG_FP) ||
	    s.cfa_off <= 0 || s.cfa_off > INT32_MAX ||
	    (s.fp_saved && (s.fp_off < INT16_MIN || s.fp_off > INT16_MAX)))
		return RULE_ONLY(RULE_STOP);
	/* A frame pointer saved where this unwinder does not look leaves the
	 * caller's unknown: stepping on needs a rule not based on it. */
	enum fp_fate fate = s.fp_other ? FP_LOST : s.fp_saved ? FP_SAVED : FP_KEPT;
	return rule_pack(RULE_STEP, s.cfa_reg == REG_FP, (int32_t)s.cfa_off, fate,
			 (int16_t)s.fp_off);
}

static uint64_t rule_for(uintptr_t at, uintptr_t pc)
{
	uint32_t home = cache_home(at);
	for (unsigned probe = 0; probe < CACHE_PROBE; probe++) {
		struct cache_slot *slot = &cache[(home + probe) & (CACHE_SLOTS - 1)];
		uintptr_t key = atomic_load_explicit(&slot->key, memory_order_acquire);
		if (key == at) {
			uint64_t r = atomic_load_explicit(&slot->rule, memory_order_acquire);
			/* Claimed, not yet published (perhaps by the code
			 * this signal handler interrupted): work it out. */
			return r ? r : learn(at, pc);
		}
		if (key != 0)
			continue;
		uintptr_t expected = 0;
		if (!atomic_compare_exchange_strong(&slot->key, &expected, at)) {
			if (expected == at) {
				uint64_t r = atomic_load_explicit(&slot->rule,
								  memory_order_acquire);
				return r ? r : learn(at, pc);
			}
			continue;
		}
		uint64_t r = learn(at, pc);
		atomic_store_explicit(&slot->rule, r, memory_order_release);
		return r;
	}
	return learn(at, pc); /* the neighbourhood is full: not cached */
}

/* The rules of the calling thread's last capture, frame by frame: a
 * thread blocks again and again at the same few call sites, and these
 * few lines of its own are reached faster than the shared cache's.  A
 * capture nested in another (a signal handler's, while its thread was
 * capturing) neither reads nor writes them, so an entry is never seen
 * half-written. */
#define MEMO_FRAMES 16

struct memo_entry {
	uintptr_t at;
	uint64_t rule;
};

static __thread struct memo_entry memo[MEMO_FRAMES]
	__attribute__((tls_model("initial-exec")));
static __thread int capturing __attribute__((tls_model("initial-exec")));

/* Frames walked past looking for the one to start from: weft's own,
 * between weft_unwind_from and the program's call into weft. */
#define SKIP_MAX 8

/* Walks up from a frame (its pc, stack pointer, frame pointer), storing
 * the frames from the one whose pc is `from` on (0: from the first);
 * returns how many, 0 when `from` is not among the first SKIP_MAX. */
static int walk(uintptr_t pc, uintptr_t sp, uintptr_t fp, uintptr_t *pcs, int max,
		int use_memo, uintptr_t from)
{
	int fp_known = 1, exact = 0, n = 0;
	for (int depth = 0; n < max && pc; depth++) {
		if (from == pc)
			from = 0;
		else if (from && depth == SKIP_MAX)
			return 0;
		if (!from) {
			pcs[n++] = pc;
			if (n == max)
				return n; /* no step past the last frame asked for */
		}
		/* A return address is one past its call: the call's rule is
		 * the one at the address before it. */
		uintptr_t at = exact ? pc : pc - 1;
		uint64_t r;
		if (use_memo && depth < MEMO_FRAMES) {
			struct memo_entry *m = &memo[depth];
			if (m->at != at) {
				m->rule = rule_for(at, pc);
				m->at = at;
			}
			r = m->rule;
		} else {
			r = rule_for(at, pc);
		}
		uintptr_t cfa;
		switch (RULE_KIND(r)) {
		case RULE_STEP:
			if (RULE_CFA_FP(r) && !fp_known)
				return n;
			cfa = (RULE_CFA_FP(r) ? fp : sp) + (intptr_t)RULE_CFA_OFF(r);
			if (cfa <= sp || (cfa & 7))
				return n;
			pc = ((const uintptr_t *)cfa)[-1];
			if (RULE_FP_FATE(r) == FP_SAVED) {
				fp = *(const uintptr_t *)(cfa + RULE_FP_OFF(r));
				fp_known = 1;
			} else if (RULE_FP_FATE(r) == FP_LOST) {
				fp_known = 0;
			}
			sp = cfa;
			exact = 0;
			break;
		case RULE_SIGNAL: {
			const ucontext_t *uc = (const ucontext_t *)sp;
			pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
			sp = (uintptr_t)uc->uc_mcontext.gregs[REG_RSP];
			fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
			fp_known = 1;
			/* The interrupted frame was stopped at an instruction,
			 * not after a call. */
			exact = 1;
			break;
		}
		default:
			return n;
		}
	}
	return n;
}

/* Walks from the frame of the caller of the function whose frame is
 * `frame`: that function keeps a frame pointer (GCC keeps one in any
 * function that asks for its frame address), so its CFA is its frame
 * pointer plus 16. */
static inline __attribute__((always_inline)) int
unwind_above(const uintptr_t *frame, uintptr_t *pcs, int max, uintptr_t from)
{
	int outermost = capturing++ == 0;
	atomic_signal_fence(memory_order_seq_cst);
	int n = walk(frame[1], (uintptr_t)(frame + 2), frame[0], pcs, max, outermost,
		     from);
	atomic_signal_fence(memory_order_seq_cst);
	capturing--;
	return n;
}

__attribute__((noinline)) int weft_unwind(uintptr_t *pcs, int max)
{
	return unwind_above(__builtin_frame_address(0), pcs, max, 0);
}

__attribute__((noinline)) int weft_unwind_from(uintptr_t from, uintptr_t *pcs,
					       int max)
{
	return unwind_above(__builtin_frame_address(0), pcs, max, from);
}
