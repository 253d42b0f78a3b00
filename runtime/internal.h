/*
 * internal.h - the engine's private data structures, shared by its files.
 * Nothing outside runtime/ includes this (unit tests of the runtime may).
 *
 *   decode.c    binary -> struct wr_module (malformed modules rejected)
 *   validate.c  the spec's validation algorithm (invalid modules rejected)
 *   compile.c   each function body -> internal code (wr__code), once, at load
 *   interp.c    runs internal code: threaded dispatch, no C recursion
 *   instance.c  stores, instances, host objects, linking, segments, start
 *   module.c    wr_module_load and the module accessors; status tables
 */
#ifndef WR_INTERNAL_H
#define WR_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "limits.h"
#include "wr.h"

/* ---- The opcode table ------------------------------------------------- */

enum wr__imm {
    WR_IMM_NONE,
    WR_IMM_BLOCKTYPE,     /* s33: 0x40 empty, a value type, or a type index */
    WR_IMM_LABEL,         /* u32 label depth */
    WR_IMM_BR_TABLE,      /* vec(u32) + u32 default */
    WR_IMM_FUNC,          /* u32 function index */
    WR_IMM_CALL_INDIRECT, /* u32 type index, u32 table index */
    WR_IMM_REFTYPE,       /* one byte: 0x70 or 0x6f */
    WR_IMM_SELECT_T,      /* vec(valtype), length must be 1 */
    WR_IMM_LOCAL,         /* u32 */
    WR_IMM_GLOBAL,        /* u32 */
    WR_IMM_TABLE,         /* u32 */
    WR_IMM_MEMARG,        /* u32 align (log2), u32 offset */
    WR_IMM_MEMIDX,        /* one zero byte */
    WR_IMM_I32,           /* s32 LEB128 */
    WR_IMM_I64,           /* s64 LEB128 */
    WR_IMM_F32,           /* 4 bytes little-endian */
    WR_IMM_F64,           /* 8 bytes little-endian */
    WR_IMM_MEMORY_INIT,   /* u32 data index, zero byte */
    WR_IMM_DATA,          /* u32 data index */
    WR_IMM_MEMORY_COPY,   /* two zero bytes */
    WR_IMM_TABLE_INIT,    /* u32 elem index, u32 table index */
    WR_IMM_ELEM,          /* u32 elem index */
    WR_IMM_TABLE_COPY,    /* u32 dst table, u32 src table */
};

/* Opcode numbers: single-byte opcodes as themselves, 0xFC-prefixed ones at 0x100 + sub-opcode. */
#define WR__FC_BASE 0x100
enum wr__opcode {
#define WR_OP(NAME, CODE, IMM, P, R, A) WR__OP_##NAME = (CODE),
#define WR_OP_FC(NAME, CODE, IMM, P, R, A) WR__OP_##NAME = WR__FC_BASE + (CODE),
#include "opcodes.def"
    WR__OPCODE_LIMIT = WR__FC_BASE + 18
};

struct wr__opinfo {
    const char *name;    /* "I32_ADD"; NULL for an unassigned opcode */
    uint8_t imm;         /* enum wr__imm */
    int8_t align;        /* natural alignment (log2) of loads/stores, else -1 */
    const char *params;  /* "ii", or "*" when typed by hand */
    const char *results;
};
/* Indexed by opcode number (enum wr__opcode). */
extern const struct wr__opinfo wr__opinfo[WR__OPCODE_LIMIT];

/* ---- Reading the binary ----------------------------------------------- */

/* A bounded cursor.  Every read checks `end`; none reads past it. */
typedef struct wr__reader {
    const uint8_t *start; /* of the module, for error offsets */
    const uint8_t *p;
    const uint8_t *end;
} wr__reader;

wr_status wr__read_u32_long(wr__reader *r, uint32_t *ret);
wr_status wr__read_s32_long(wr__reader *r, int32_t *ret);
wr_status wr__read_opcode_long(wr__reader *r, uint32_t *ret);

/* Almost every LEB128 and opcode in a module is one byte: those are read
 * here, inline; the others by the _long functions in decode.c. */
static inline wr_status wr__read_u8(wr__reader *r, uint8_t *ret) {
    if (r->p >= r->end)
        return WR_ERR_UNEXPECTED_END;
    *ret = *r->p++;
    return WR_OK;
}
/* Unsigned LEB128, at most 5 bytes. */
static inline wr_status wr__read_u32(wr__reader *r, uint32_t *ret) {
    if (r->p < r->end && *r->p < 0x80) {
        *ret = *r->p++;
        return WR_OK;
    }
    return wr__read_u32_long(r, ret);
}
/* Signed LEB128. */
static inline wr_status wr__read_s32(wr__reader *r, int32_t *ret) {
    if (r->p < r->end && *r->p < 0x80) {
        uint8_t b = *r->p++;
        *ret = (int32_t)(b & 0x40 ? b | ~0x7fu : b);
        return WR_OK;
    }
    return wr__read_s32_long(r, ret);
}
wr_status wr__read_s33(wr__reader *r, int64_t *ret);      /* block types */
wr_status wr__read_s64(wr__reader *r, int64_t *ret);
wr_status wr__read_u64(wr__reader *r, uint64_t *ret);     /* unsigned LEB128, at most 10 bytes */
wr_status wr__read_bytes(wr__reader *r, size_t n, const uint8_t **ret);
/* An opcode: one byte, or 0xFC followed by a u32 sub-opcode.  Unknown ones -> WR_ERR_ILLEGAL_OPCODE. */
static inline wr_status wr__read_opcode(wr__reader *r, uint32_t *ret) {
    if (r->p < r->end && *r->p != 0xfc && wr__opinfo[*r->p].name) {
        *ret = *r->p++;
        return WR_OK;
    }
    return wr__read_opcode_long(r, ret);
}

/* ---- The decoded module ----------------------------------------------- */

typedef struct wr__range {  /* "limits" in the spec */
    uint32_t min;
    uint32_t max;
    bool has_max;
} wr__range;

typedef struct wr__tabletype {
    wr_valtype elem;        /* WR_FUNCREF or WR_EXTERNREF */
    wr__range lim;
} wr__tabletype;

typedef struct wr__globaltype {
    wr_valtype type;
    bool mut;
} wr__globaltype;

/* A constant expression: in WebAssembly 2.0 exactly one instruction. */
enum wr__constexpr_kind {
    WR__CE_I32,        /* value: the bits */
    WR__CE_I64,
    WR__CE_F32,
    WR__CE_F64,
    WR__CE_REF_NULL,   /* reftype: the type */
    WR__CE_REF_FUNC,   /* value: function index */
    WR__CE_GLOBAL_GET, /* value: global index */
};
typedef struct wr__constexpr {
    uint8_t kind;          /* enum wr__constexpr_kind */
    wr_valtype reftype;    /* for WR__CE_REF_NULL */
    uint64_t value;
    uint32_t offset;       /* in the binary, for error messages */
} wr__constexpr;

typedef struct wr__import {
    char *module;          /* owned, NUL-terminated */
    char *name;            /* owned, NUL-terminated */
    uint32_t module_len;
    uint32_t name_len;
    wr_externkind kind;
    uint32_t index;        /* index in the index space of its kind */
} wr__import;

typedef struct wr__export {
    char *name;            /* owned, NUL-terminated */
    uint32_t name_len;
    wr_externkind kind;
    uint32_t index;
} wr__export;

struct wr__code;

/* A function of the module's index space: imported ones first. */
typedef struct wr__funcdef {
    uint32_t type_index;
    bool imported;
    /* Defined functions only: */
    uint32_t body_offset;      /* first byte of the body (the locals vector) in module->bytes */
    uint32_t body_size;
    uint32_t code_offset;      /* first instruction, after the locals */
    uint32_t nlocals;          /* declared locals, params not counted */
    wr_valtype *local_types;   /* owned, nlocals entries */
    char *name;                /* owned, from the name section, or NULL */
    struct wr__code *code;     /* owned, the translation (compile.c) */
} wr__funcdef;

typedef struct wr__globaldef {
    wr__globaltype type;
    bool imported;
    wr__constexpr init;        /* defined globals only */
} wr__globaldef;

enum wr__segmode { WR__SEG_ACTIVE, WR__SEG_PASSIVE, WR__SEG_DECLARATIVE };

typedef struct wr__elem {
    uint8_t mode;              /* enum wr__segmode */
    uint32_t table;            /* active only */
    wr__constexpr offset;      /* active only */
    wr_valtype type;           /* WR_FUNCREF or WR_EXTERNREF */
    uint32_t count;
    wr__constexpr *items;      /* owned; ref.func, ref.null or global.get */
} wr__elem;

typedef struct wr__data {
    uint8_t mode;              /* WR__SEG_ACTIVE or WR__SEG_PASSIVE */
    uint32_t memory;
    wr__constexpr offset;
    uint32_t data_offset;      /* of the bytes, in module->bytes */
    uint32_t size;
} wr__data;

struct wr_module {
    uint8_t *bytes;            /* owned copy of the binary */
    size_t len;

    wr_functype *types;        /* owned; each types[i].types is owned too */
    uint32_t ntypes;

    wr__import *imports;       /* owned */
    uint32_t nimports;
    uint32_t nfunc_imports, ntable_imports, nmemory_imports, nglobal_imports;

    wr__funcdef *funcs;        /* index space: imports, then defined */
    uint32_t nfuncs;
    wr__tabletype *tables;
    uint32_t ntables;
    wr__range *memories;
    uint32_t nmemories;
    wr__globaldef *globals;
    uint32_t nglobals;

    wr__export *exports;
    uint32_t nexports;

    bool has_start;
    uint32_t start;

    wr__elem *elems;
    uint32_t nelems;
    wr__data *datas;
    uint32_t ndatas;
    bool has_datacount;
    uint32_t datacount;

    /* Set by the validator: functions that may be named by ref.func in code
     * (those in element segments, exports, or global initializers). */
    uint8_t *func_declared;    /* owned, nfuncs entries, 0 or 1 */
};

/* decode.c: fills a zeroed *m from the binary (copied into m->bytes by the caller). */
wr_status wr__decode(wr_module *m, wr_error *err);
/* validate.c: module-level checks and every function body. */
wr_status wr__validate(wr_module *m, wr_error *err);
/* compile.c: translates every defined function. */
wr_status wr__compile(wr_module *m, wr_error *err);
/* module.c: frees everything a module owns (also a partly decoded one). */
void wr__module_clear(wr_module *m);

/* Sets err (if not NULL) and returns s.  `fmt` is printf-style detail. */
wr_status wr__error(wr_error *err, wr_status s, uint32_t offset, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Structural equality of function types. */
bool wr__functype_equal(const wr_functype *a, const wr_functype *b);

/* ---- Internal code ---------------------------------------------------- */

/*
 * A translated function is an array of cells.  Each instruction starts with
 * the address of its handler in the interpreter (computed goto) followed by
 * its operands: frame slot indices, immediates, branch targets.  Every value
 * lives in an 8-byte slot of the frame: params, then locals, then the
 * operand stack; an operand is named by its slot index, so most instructions
 * read and write frame slots directly instead of pushing and popping.
 */
typedef union wr__cell {
    const void *op;
    uint64_t u64;
    int64_t i64;
    uint32_t u32;
    int32_t i32;
    union wr__cell *target;
    void *ptr;
} wr__cell;

typedef struct wr__code {
    wr__cell *cells;           /* owned */
    uint32_t ncells;
    uint32_t nparams;
    uint32_t nresults;
    uint32_t nlocals;          /* params + declared locals */
    uint32_t frame_slots;      /* locals + constants + the deepest operand stack */
    int64_t entry_fuel;        /* what a call costs: 1 + ncells / WR_FUEL_CODE_CELLS */
    /* What a new frame holds after the params: zeroed locals, then the
     * function's pooled constants.  Copied in on every call. */
    uint64_t *frame_init;      /* owned, ninit entries */
    uint32_t ninit;
} wr__code;

/* ---- Runtime objects (instance.c) ------------------------------------- */

struct wr_func {
    wr_functype type;          /* points into the module's types, or owned (host) */
    uint32_t type_id;          /* equal ids <=> equal types, within one store */
    wr_instance *inst;         /* owning instance; NULL for host functions */
    uint32_t index;            /* in the owning module */
    const wr__code *code;      /* NULL for host functions */
    wr_host_fn host;
    void *env;
    wr_valtype *owned_types;   /* host functions: the copy of the signature */
};

/*
 * A linear memory is an anonymous mapping: `reserved` bytes of address
 * space (PROT_NONE), of which the first `size` are readable and writable.
 * Pages never touched cost no RAM; growing within the reservation commits
 * pages in place (instance.c, memory_create and wr__memory_grow).  The
 * interpreter still checks every access against `size`: the reservation
 * is not a guard region.
 */
struct wr_memory {
    wr_store *store;           /* charged for its size */
    uint8_t *data;             /* owned mapping of `reserved` bytes (munmap) */
    size_t reserved;           /* bytes of address space mapped at data, >= size, > 0 */
    uint64_t size;             /* bytes; always pages * WR_PAGE_SIZE */
    uint32_t pages;
    uint32_t max_pages;        /* declared maximum, capped by the store's limit */
    bool has_max;
};

struct wr_table {
    wr_store *store;           /* charged for its elements */
    void **elems;              /* wr_func * for funcref, host pointers for externref */
    uint32_t size;
    uint32_t max;              /* declared maximum, capped by the store's limit */
    bool has_max;
    wr_valtype type;
};

struct wr_global {
    wr_valtype type;
    bool mut;
    uint64_t value;            /* slot layout as in wr_host_fn */
};

struct wr_instance {
    const wr_module *module;
    wr_store *store;
    wr_func **funcs;           /* index spaces, imports resolved */
    wr_table **tables;
    wr_memory **memories;
    wr_global **globals;
    uint32_t *type_ids;        /* store type id of each module type */
    bool *elem_dropped;
    bool *data_dropped;
    wr_func *defined_funcs;    /* owned array of the module's own functions */
};

/* An object the store owns, kept in a list so that the store frees it. */
typedef struct wr__owned {
    struct wr__owned *next;
    int kind;                  /* WR_EXTERN_* or -1 for an instance */
    void *obj;
} wr__owned;

struct wr_store {
    wr_limits limits;          /* defaults applied */
    wr__owned *owned;          /* every object of the store */
    wr_functype *type_ids;     /* interned function types; index = type id */
    uint32_t ntype_ids, cap_type_ids;
    uint32_t *type_buckets;    /* hash index over type_ids: id + 1, 0 = empty */
    uint32_t nbuckets;         /* a power of two, at least twice ntype_ids */
    uint64_t bytes;            /* of its memories and tables, charged to limits.budget */
    uint64_t budget_refusals;  /* creations and growths refused for want of budget */
};

/* Interns a function type in the store; returns its id, or UINT32_MAX on out-of-memory. */
uint32_t wr__store_type_id(wr_store *s, const wr_functype *t);
/* Charges `bytes` to the store's budget; false (counted as a refusal) when they do not fit. */
bool wr__budget_take(wr_store *s, uint64_t bytes);
void wr__budget_give(wr_store *s, uint64_t bytes);
/* Grows a memory by delta pages within its and the store's limits and budget; -1 on failure. */
int64_t wr__memory_grow(wr_memory *mem, uint32_t delta);
/* Grows a table, filling new elements with `init`; returns old size or -1. */
int64_t wr__table_grow(wr_table *t, uint32_t delta, void *init, uint32_t store_limit);
/* Evaluates a constant expression in an instance. */
uint64_t wr__constexpr_eval(const wr_instance *inst, const wr__constexpr *ce);

/* ---- Execution (interp.c) --------------------------------------------- */

/* A call-stack record: where to go back to when the callee returns. */
typedef struct wr__frame {
    const wr__cell *ret_pc;    /* caller's next instruction */
    uint64_t *fp;              /* caller's frame base */
    wr_func *func;             /* the callee */
} wr__frame;

enum wr__exec_state {
    WR__EXEC_IDLE,
    WR__EXEC_RUNNING,
    WR__EXEC_SUSPENDED,        /* in a host function that returned WR_SUSPEND */
    WR__EXEC_OUT_OF_FUEL,
};

struct wr_exec {
    wr_store *store;
    uint64_t *stack;           /* owned, value stack */
    uint32_t stack_slots;
    wr__frame *frames;         /* owned, call stack */
    uint32_t max_frames;
    uint32_t depth;            /* frames in use */
    int64_t fuel;
    uint64_t deadline_ns;      /* CLOCK_MONOTONIC, 0: none (wr_exec_set_deadline) */
    uint64_t bulk_done;        /* units of work the bulk operation at pc has done, when out of fuel in it */
    uint8_t state;             /* enum wr__exec_state */

    /* Saved registers while suspended or out of fuel. */
    const wr__cell *pc;
    uint64_t *fp;
    wr_func *func;             /* function running at pc */
    uint64_t *host_results;    /* where a suspended host function's results go */
    uint32_t host_nresults;
    wr_func *entry;            /* the function wr_call called */

    wr_instance *caller;       /* for wr_exec_memory/instance inside host calls */

    wr_frame_info backtrace[WR_MAX_BACKTRACE];
    size_t nbacktrace;
    void *userdata;
};

/* The handler addresses of the interpreter, indexed by internal operation (compile.c uses them). */
const void *const *wr__interp_handlers(void);
/* Runs from e->pc/e->fp until the entry function returns, traps, suspends or runs out of fuel. */
wr_status wr__interp_run(wr_exec *e);

#endif /* WR_INTERNAL_H */
