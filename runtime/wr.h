/*
 * wr.h - the public API of wasmd's WebAssembly engine ("wr": wasm runtime).
 *
 * The engine depends on libc only.  It decodes, validates and translates a
 * module once (wr_module_load), instantiates it any number of times into a
 * store (wr_instantiate), and runs functions on an execution context
 * (wr_exec) that keeps WebAssembly frames in its own arrays.  Because no C
 * stack is used per WebAssembly call, a call can stop and be resumed later:
 *
 *   - a host function may return WR_SUSPEND; wr_call/wr_resume then return
 *     WR_SUSPENDED and the embedder continues with wr_resume(), passing the
 *     host function's results;
 *   - when the fuel budget is used up, wr_call/wr_resume return
 *     WR_OUT_OF_FUEL; add fuel and call wr_resume() to go on exactly there.
 *
 * Ownership: a wr_module is immutable after loading and may back many
 * instances; it must outlive them.  A wr_store owns every instance, function,
 * memory, table and global created in it, and frees them all in
 * wr_store_free().  Objects of one store may be imported by instances of the
 * same store only.  A wr_exec belongs to one store.  Nothing here is
 * thread-safe: use one store from one thread at a time.
 *
 * Every destructor accepts NULL.
 */
#ifndef WR_H
#define WR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Status codes: one table gives each its name and message.  The messages of
 * decode, validation, link and trap errors are the ones the WebAssembly spec
 * tests use, so that they can be compared.
 */
#define WR_STATUS_MAP(X)                                                        \
    X(OK,                     "ok")                                             \
    /* Control flow of execution (not errors). */                               \
    X(SUSPENDED,              "suspended in a host call")                       \
    X(OUT_OF_FUEL,            "out of fuel")                                    \
    X(SUSPEND,                "host function asks to suspend")                  \
    /* Embedder errors. */                                                      \
    X(ERR_NOMEM,              "out of memory")                                  \
    X(ERR_ARGS,               "wrong number or types of arguments")             \
    X(ERR_STATE,              "operation not allowed in this state")            \
    X(ERR_LIMIT,              "limit exceeded")                                 \
    X(ERR_NOT_FOUND,          "not found")                                      \
    X(ERR_IO,                 "input/output error")                             \
    /* Malformed binary (decoder). */                                           \
    X(ERR_UNEXPECTED_END,     "unexpected end")                                 \
    X(ERR_SECTION_END,        "unexpected end of section or function")          \
    X(ERR_MAGIC,              "magic header not detected")                      \
    X(ERR_VERSION,            "unknown binary version")                         \
    X(ERR_SECTION_ID,         "malformed section id")                           \
    X(ERR_SECTION_ORDER,      "unexpected content after last section")          \
    X(ERR_SECTION_SIZE,       "section size mismatch")                          \
    X(ERR_LEB_TOO_LONG,       "integer representation too long")               \
    X(ERR_LEB_TOO_LARGE,      "integer too large")                              \
    X(ERR_TOO_MANY_LOCALS,    "too many locals")                                \
    X(ERR_FUNC_CODE_MISMATCH, "function and code section have inconsistent lengths") \
    X(ERR_DATA_COUNT_MISMATCH,"data count and data section have inconsistent lengths") \
    X(ERR_DATA_COUNT_REQUIRED,"data count section required")                    \
    X(ERR_UTF8,               "malformed UTF-8 encoding")                       \
    X(ERR_ZERO_BYTE,          "zero byte expected")                             \
    X(ERR_ILLEGAL_OPCODE,     "illegal opcode")                                 \
    X(ERR_IMPORT_KIND,        "malformed import kind")                          \
    X(ERR_EXPORT_KIND,        "malformed export kind")                          \
    X(ERR_REFTYPE,            "malformed reference type")                       \
    X(ERR_VALTYPE,            "malformed value type")                           \
    X(ERR_MUTABILITY,         "malformed mutability")                           \
    X(ERR_LIMITS_FLAGS,       "integer too large")                              \
    X(ERR_LENGTH,             "length out of bounds")                           \
    X(ERR_ELEM_KIND,          "malformed element kind")                         \
    X(ERR_SEGMENT_FLAGS,      "malformed segment flags")                        \
    X(ERR_FUNCTYPE,           "malformed function type")                        \
    X(ERR_END_EXPECTED,       "END opcode expected")                            \
    X(ERR_TOO_BIG,            "module too large")                               \
    /* Invalid module (validator). */                                           \
    X(ERR_TYPE_MISMATCH,      "type mismatch")                                  \
    X(ERR_UNKNOWN_LOCAL,      "unknown local")                                  \
    X(ERR_UNKNOWN_GLOBAL,     "unknown global")                                 \
    X(ERR_UNKNOWN_FUNC,       "unknown function")                               \
    X(ERR_UNKNOWN_TABLE,      "unknown table")                                  \
    X(ERR_UNKNOWN_MEMORY,     "unknown memory")                                 \
    X(ERR_UNKNOWN_TYPE,       "unknown type")                                   \
    X(ERR_UNKNOWN_LABEL,      "unknown label")                                  \
    X(ERR_UNKNOWN_DATA,       "unknown data segment")                           \
    X(ERR_UNKNOWN_ELEM,       "unknown elem segment")                           \
    X(ERR_ALIGNMENT,          "alignment must not be larger than natural")     \
    X(ERR_IMMUTABLE_GLOBAL,   "global is immutable")                            \
    X(ERR_CONST_EXPR,         "constant expression required")                  \
    X(ERR_DUPLICATE_EXPORT,   "duplicate export name")                          \
    X(ERR_MULTIPLE_MEMORIES,  "multiple memories")                              \
    X(ERR_MEMORY_SIZE,        "memory size must be at most 65536 pages (4GiB)") \
    X(ERR_TABLE_SIZE,         "table size must be at most 2^32-1")             \
    X(ERR_LIMITS_MIN_MAX,     "size minimum must not be greater than maximum") \
    X(ERR_UNDECLARED_FUNC_REF,"undeclared function reference")                  \
    X(ERR_START_FUNC,         "start function")                                 \
    X(ERR_INVALID_RESULT_ARITY,"invalid result arity")                          \
    /* Link errors (instantiation). */                                          \
    X(ERR_UNKNOWN_IMPORT,     "unknown import")                                 \
    X(ERR_INCOMPATIBLE_IMPORT,"incompatible import type")                       \
    /* Traps. */                                                                \
    X(TRAP_UNREACHABLE,       "unreachable")                                    \
    X(TRAP_DIV_ZERO,          "integer divide by zero")                         \
    X(TRAP_INT_OVERFLOW,      "integer overflow")                               \
    X(TRAP_INVALID_CONVERSION,"invalid conversion to integer")                  \
    X(TRAP_MEMORY_OOB,        "out of bounds memory access")                   \
    X(TRAP_TABLE_OOB,         "out of bounds table access")                    \
    X(TRAP_UNDEFINED_ELEMENT, "undefined element")                              \
    X(TRAP_UNINITIALIZED_ELEMENT, "uninitialized element")                     \
    X(TRAP_INDIRECT_CALL_TYPE,"indirect call type mismatch")                   \
    X(TRAP_CALL_STACK_EXHAUSTED, "call stack exhausted")                        \
    X(TRAP_HOST,              "host function failed")                           \
    X(TRAP_EXIT,              "module exited")

typedef enum wr_status {
#define WR__STATUS_ENUM(name, msg) WR_##name,
    WR_STATUS_MAP(WR__STATUS_ENUM)
#undef WR__STATUS_ENUM
    WR__STATUS_COUNT
} wr_status;

/* "TRAP_UNREACHABLE" style name and the spec's message for a status. */
const char *wr_status_name(wr_status s);
const char *wr_status_message(wr_status s);
bool wr_status_is_trap(wr_status s);      /* WR_TRAP_* */
bool wr_status_is_malformed(wr_status s); /* decoder errors */
bool wr_status_is_invalid(wr_status s);   /* validator errors */

/* Where and why loading or linking failed.  Filled by the functions taking it. */
typedef struct wr_error {
    wr_status status;
    uint32_t offset;      /* byte offset in the module binary, when known */
    char detail[160];     /* human-readable detail, NUL-terminated */
} wr_error;

/* Value types, with their binary encodings. */
typedef enum wr_valtype {
    WR_I32 = 0x7f,
    WR_I64 = 0x7e,
    WR_F32 = 0x7d,
    WR_F64 = 0x7c,
    WR_FUNCREF = 0x70,
    WR_EXTERNREF = 0x6f,
} wr_valtype;

const char *wr_valtype_name(wr_valtype t); /* "i32", "funcref", ... */

typedef struct wr_func wr_func;
typedef struct wr_memory wr_memory;
typedef struct wr_table wr_table;
typedef struct wr_global wr_global;
typedef struct wr_module wr_module;
typedef struct wr_store wr_store;
typedef struct wr_instance wr_instance;
typedef struct wr_exec wr_exec;

/*
 * A value.  Floats travel as their bit patterns so that NaN payloads survive.
 * References: `ref` is NULL for ref.null; a funcref holds a wr_func *, an
 * externref whatever non-NULL pointer the host chose.
 */
typedef struct wr_val {
    wr_valtype type;
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32_bits;
        uint64_t f64_bits;
        void *ref;
    } of;
} wr_val;

/* A function signature.  `types` holds the params followed by the results. */
typedef struct wr_functype {
    uint32_t nparams;
    uint32_t nresults;
    const wr_valtype *types;
} wr_functype;

typedef enum wr_externkind {
    WR_EXTERN_FUNC = 0,
    WR_EXTERN_TABLE = 1,
    WR_EXTERN_MEMORY = 2,
    WR_EXTERN_GLOBAL = 3,
} wr_externkind;

const char *wr_externkind_name(wr_externkind k); /* "func", "table", ... */

/* An imported or exported object. */
typedef struct wr_extern {
    wr_externkind kind;
    union {
        wr_func *func;
        wr_table *table;
        wr_memory *memory;
        wr_global *global;
    } of;
} wr_extern;

/*
 * Limits of one store, set by the embedder.  Zero fields take the defaults
 * from runtime/limits.h.  Exceeding one is reported with a named status:
 * memory.grow / table.grow fail (return -1) past the page and element
 * limits, instantiation fails with WR_ERR_LIMIT, and execution traps with
 * WR_TRAP_CALL_STACK_EXHAUSTED past the value-stack or call-depth limits.
 */
typedef struct wr_budget wr_budget;
typedef struct wr_limits {
    uint32_t max_memory_pages;   /* per memory, 64 KiB pages */
    uint32_t max_table_elems;    /* per table */
    uint32_t value_stack_slots;  /* per wr_exec, 8-byte slots */
    uint32_t max_call_depth;     /* per wr_exec, WebAssembly frames */
    wr_budget *budget;           /* shared with other stores, or NULL: none (not owned) */
} wr_limits;

/*
 * A budget of bytes that any number of stores draw on: every memory is
 * charged its size (pages * 64 KiB) and every table its elements
 * (sizeof(void *) each), when created and when grown, and the store gives
 * it all back in wr_store_free().  Past the budget, memory.grow and
 * table.grow fail (return -1, as the spec allows) and instantiation fails
 * with WR_ERR_LIMIT.  The embedder sets `limit` and reads `used`; it must
 * outlive the stores using it.
 */
struct wr_budget {
    uint64_t limit;              /* bytes */
    uint64_t used;               /* bytes charged by the stores drawing on it */
};

/* ---- Modules ---------------------------------------------------------- */

/*
 * Decodes, validates and translates a binary module.  The bytes are copied;
 * the caller keeps ownership of `bytes`.  On success *ret_module is the
 * caller's, freed with wr_module_free().  On failure returns the status and
 * fills `err` (if not NULL).
 */
wr_status wr_module_load(const uint8_t *bytes, size_t len, wr_module **ret_module, wr_error *err);
void wr_module_free(wr_module *m);

/* Import and export descriptions, in module order.  Strings are owned by the module. */
typedef struct wr_import_desc {
    const char *module;          /* NUL-terminated; may also contain NUL bytes, hence the lengths */
    const char *name;
    uint32_t module_len;
    uint32_t name_len;
    wr_externkind kind;
    const wr_functype *functype; /* for WR_EXTERN_FUNC */
} wr_import_desc;

typedef struct wr_export_desc {
    const char *name;            /* NUL-terminated, with its length */
    uint32_t name_len;
    wr_externkind kind;
    uint32_t index;              /* in the module's index space of that kind */
} wr_export_desc;

uint32_t wr_module_import_count(const wr_module *m);
void wr_module_import(const wr_module *m, uint32_t i, wr_import_desc *ret);
uint32_t wr_module_export_count(const wr_module *m);
void wr_module_export(const wr_module *m, uint32_t i, wr_export_desc *ret);

/* ---- Stores, instances ------------------------------------------------ */

/* A new empty store; `limits` may be NULL for the defaults.  Free with wr_store_free(). */
wr_store *wr_store_new(const wr_limits *limits);
void wr_store_free(wr_store *s);
/* Bytes of the store's memories and tables (what it charges to its budget, if any). */
uint64_t wr_store_bytes(const wr_store *s);
/* How many times a memory or table of the store could not be created or grown for want of budget. */
uint64_t wr_store_budget_refusals(const wr_store *s);

/*
 * Instantiates `m` in store `s`.  `imports` has one entry per import of the
 * module, in module order (see wr_module_import).  Runs the start function
 * on a temporary execution context; a trap there is returned as the status
 * (the instance is then not returned, but segments already written stay
 * written, as the spec requires).  The instance belongs to the store.
 */
wr_status wr_instantiate(wr_store *s, const wr_module *m, const wr_extern *imports, size_t nimports,
                         wr_instance **ret_inst, wr_error *err);

/*
 * Like wr_instantiate, but does not run the start function: the embedder
 * calls wr_instance_start_func() itself, on its own exec, with its own fuel
 * budget, and may suspend or slice it like any call.  (wr_instantiate runs
 * the start function to completion with unlimited fuel.)
 */
wr_status wr_instantiate_deferred(wr_store *s, const wr_module *m, const wr_extern *imports, size_t nimports,
                                  wr_instance **ret_inst, wr_error *err);
/* The module's start function in this instance, or NULL when it has none. */
wr_func *wr_instance_start_func(const wr_instance *inst);

/* Looks up an export by name (NUL-terminated, or with its length); false when there is none. */
bool wr_instance_export(const wr_instance *inst, const char *name, wr_extern *ret);
bool wr_instance_export_n(const wr_instance *inst, const char *name, size_t len, wr_extern *ret);
const wr_module *wr_instance_module(const wr_instance *inst);
/* The instance's first memory (imported or defined), or NULL. */
wr_memory *wr_instance_memory(const wr_instance *inst);

/* ---- Host objects ----------------------------------------------------- */

/*
 * A host function.  `args` holds the parameters and `results` receives the
 * results, one 8-byte slot each: i32 in the low 32 bits, f32 as its bits in
 * the low 32 bits, i64/f64 as their 64 bits, references as pointers.
 * Return WR_OK, a WR_TRAP_* status to trap, or WR_SUSPEND to pause the whole
 * call chain; the results are then supplied later to wr_resume().
 */
typedef wr_status (*wr_host_fn)(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results);

/* `type` is copied.  `env` is passed to `fn` unchanged and not owned. */
wr_func *wr_func_new_host(wr_store *s, const wr_functype *type, wr_host_fn fn, void *env);
const wr_functype *wr_func_type(const wr_func *f);

wr_memory *wr_memory_new(wr_store *s, uint32_t min_pages, uint32_t max_pages, bool has_max);
uint8_t *wr_memory_data(wr_memory *mem);      /* changes when the memory grows */
uint64_t wr_memory_size(const wr_memory *mem); /* in bytes */
/* Grows by `delta` pages; returns the old size in pages, or -1. */
int64_t wr_memory_grow(wr_memory *mem, uint32_t delta);

wr_table *wr_table_new(wr_store *s, wr_valtype elem, uint32_t min, uint32_t max, bool has_max);
uint32_t wr_table_size(const wr_table *t);
bool wr_table_get(const wr_table *t, uint32_t i, wr_val *ret);
bool wr_table_set(wr_table *t, uint32_t i, const wr_val *v);

wr_global *wr_global_new(wr_store *s, const wr_val *init, bool mutable_);
void wr_global_get(const wr_global *g, wr_val *ret);
bool wr_global_set(wr_global *g, const wr_val *v); /* false if immutable or wrong type */

/* ---- Execution -------------------------------------------------------- */

/* A new execution context in `s`, with the store's stack limits. */
wr_exec *wr_exec_new(wr_store *s);
void wr_exec_free(wr_exec *e);

/*
 * Calls `f` with `nargs` arguments and receives `nresults` results, which
 * must match the function's type.  Returns WR_OK, a trap, WR_SUSPENDED or
 * WR_OUT_OF_FUEL.  After the latter two the call is still under way: only
 * wr_resume() (or wr_exec_reset()) may follow.
 */
wr_status wr_call(wr_exec *e, wr_func *f, const wr_val *args, size_t nargs, wr_val *results, size_t nresults);

/*
 * Continues a call that returned WR_SUSPENDED or WR_OUT_OF_FUEL.  After
 * WR_SUSPENDED, `host_results` holds the suspended host function's results
 * (same slot layout as wr_host_fn); after WR_OUT_OF_FUEL it is ignored.
 * `results` receives the original call's results when it completes.
 */
wr_status wr_resume(wr_exec *e, const uint64_t *host_results, wr_val *results, size_t nresults);

/* Abandons a call under way (suspended or out of fuel). */
void wr_exec_reset(wr_exec *e);

/*
 * Fuel: one unit is spent per function entry and per loop iteration, so a
 * module cannot run without spending fuel, one more per WR_FUEL_CODE_CELLS
 * cells of internal code in the callee or the loop's body, so that long
 * straight-line code pays for itself; work whose size the guest
 * chooses costs in proportion to it (runtime/limits.h, WR_FUEL_*): bulk
 * memory and table operations by length, memory.grow and table.grow by
 * what they add, host calls a fixed amount plus what the host function
 * charges (wr_exec_charge).  A bulk operation larger than the fuel left
 * does part of its work, and wr_resume() goes on with the rest; traps are
 * decided before any of it is done, as the spec requires.  A new context
 * has unlimited fuel (WR_FUEL_UNLIMITED).  Fuel may end up below zero after
 * a host function charged more than there was.
 */
#define WR_FUEL_UNLIMITED INT64_MAX
void wr_exec_set_fuel(wr_exec *e, int64_t fuel);
int64_t wr_exec_fuel(const wr_exec *e);
/* Inside a host function: spends `units` of fuel for work done for the guest. */
void wr_exec_charge(wr_exec *e, uint64_t units);

/*
 * A wall-time bound besides fuel: with a deadline (nanoseconds of
 * CLOCK_MONOTONIC; 0, the default, means none), wr_call/wr_resume also
 * return WR_OUT_OF_FUEL once the deadline has passed, with fuel left.  The
 * clock is read only each time WR_FUEL_CHECK_INTERVAL units have been
 * spent, and never without a deadline, so it costs nothing per instruction.
 */
void wr_exec_set_deadline(wr_exec *e, uint64_t deadline_ns);

/* Inside a host function: the memory of the calling instance (its first), or NULL. */
wr_memory *wr_exec_memory(wr_exec *e);
/* Inside a host function: the calling instance. */
wr_instance *wr_exec_instance(wr_exec *e);

/* Per-exec user pointer, for embedders. */
void wr_exec_set_userdata(wr_exec *e, void *ud);
void *wr_exec_userdata(const wr_exec *e);

/*
 * After a trap: the WebAssembly frames that were active, innermost first.
 * `name` comes from the name section, or is NULL.
 */
typedef struct wr_frame_info {
    uint32_t func_index;
    const char *name;
} wr_frame_info;
size_t wr_exec_backtrace(const wr_exec *e, wr_frame_info *out, size_t max);

/* ---- Helpers for values ----------------------------------------------- */

static inline wr_val wr_val_i32(int32_t v) { wr_val r; r.type = WR_I32; r.of.i64 = 0; r.of.i32 = v; return r; }
static inline wr_val wr_val_i64(int64_t v) { wr_val r; r.type = WR_I64; r.of.i64 = v; return r; }
static inline wr_val wr_val_f32_bits(uint32_t b) { wr_val r; r.type = WR_F32; r.of.i64 = 0; r.of.f32_bits = b; return r; }
static inline wr_val wr_val_f64_bits(uint64_t b) { wr_val r; r.type = WR_F64; r.of.f64_bits = b; return r; }
static inline wr_val wr_val_ref(wr_valtype t, void *p) { wr_val r; r.type = t; r.of.i64 = 0; r.of.ref = p; return r; }

#endif /* WR_H */
