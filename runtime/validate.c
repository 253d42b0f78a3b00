/*
 * validate.c - WebAssembly 2.0 validation (without SIMD).
 *
 * The decoder has already checked the binary's structure and filled struct
 * wr_module; it did not look at types.  This file checks everything the
 * spec's validation rules require:
 *
 *   - module level: type indices, limits, at most one memory, constant
 *     expressions of globals and segments, exports, the start function;
 *   - every function body, with the algorithm of the spec's appendix
 *     ("Validation Algorithm"): a stack of operand types in which Unknown
 *     stands for any type (after unreachable, br, return...), and a stack of
 *     control frames, each with its label types, the operand stack height at
 *     its start and an "unreachable" flag.
 *
 * Function bodies are read again here with a wr__reader, immediates per the
 * opcode table (opcodes.def).  Instructions whose operand types are written
 * in the table are typed from it; the others (marked "*") by hand below.
 *
 * Every resource a body controls is bounded: the control stack by
 * WR_MAX_BLOCK_DEPTH, the operand stack by OPERAND_STACK_MAX, so that a
 * hostile body cannot make the validator allocate without limit.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/*
 * A type on the operand stack: a value type code (enum wr_valtype, all
 * non-zero), or VT_UNKNOWN, the spec's "Unknown" that matches any type.
 */
typedef uint8_t vtype;
#define VT_UNKNOWN 0

/* The operand stack's bound: what a frame may hold besides the locals. */
#define OPERAND_STACK_MAX (WR_MAX_FRAME_SLOTS - WR_MAX_LOCALS)

/* The input and output types of a block, a loop, an if or a function. */
typedef struct blocktype {
    const wr_valtype *params;
    const wr_valtype *results;
    uint32_t nparams;
    uint32_t nresults;
} blocktype;

/*
 * A control frame.  The function's own frame is a BLOCK whose results are
 * the function's results, so that `br` to the outermost label and `return`
 * need no special case.
 */
typedef struct ctrl {
    uint32_t opcode;      /* WR__OP_BLOCK, _LOOP, _IF or _ELSE */
    blocktype type;
    uint32_t height;      /* operand stack height at the frame's start */
    bool unreachable;     /* the rest of the frame's code cannot be reached */
    uint32_t br_table_mark; /* the last br_table that checked this label */
} ctrl;

/* Everything needed while validating one function body. */
typedef struct fvalid {
    const wr_module *m;
    wr_error *err;
    wr__reader r;

    uint32_t func;              /* index of the function (imports counted) */
    const wr_functype *type;    /* its type */
    const wr__funcdef *def;
    uint32_t nlocals;           /* params + declared locals */

    uint32_t op;                /* the instruction being validated, for errors */
    uint32_t op_offset;

    vtype *vals;                /* the operand stack */
    uint32_t nvals, cap_vals;
    ctrl *ctrls;                /* the control stack */
    uint32_t nctrls, cap_ctrls;
    vtype *scratch;             /* br_table: values popped for one label */
    uint32_t cap_scratch;
    uint32_t br_tables;         /* br_tables seen so far, to mark their labels */
} fvalid;

/* Immediates of one instruction, as read from the body. */
typedef struct imm {
    uint32_t a;         /* the first index: label, function, local, global, table, type, data, elem */
    uint32_t b;         /* the second index: table of call_indirect / table.init, source of table.copy */
    int64_t blocktype;  /* s33 block type */
    wr_valtype t;       /* ref.null's type, select's type */
    uint32_t align;     /* memarg */
} imm;

/* One value type of each kind, to point block types like [] -> [t] at. */
static const wr_valtype single_i32 = WR_I32, single_i64 = WR_I64, single_f32 = WR_F32,
                        single_f64 = WR_F64, single_funcref = WR_FUNCREF,
                        single_externref = WR_EXTERNREF;

static const wr_valtype *single(wr_valtype t) {
    switch (t) {
    case WR_I32: return &single_i32;
    case WR_I64: return &single_i64;
    case WR_F32: return &single_f32;
    case WR_F64: return &single_f64;
    case WR_FUNCREF: return &single_funcref;
    case WR_EXTERNREF: return &single_externref;
    }
    return NULL;
}

/* A function type's results.  The types of [] -> [] are NULL, and NULL + 0 is undefined. */
static const wr_valtype *results_of(const wr_functype *ft) {
    return ft->types ? ft->types + ft->nparams : NULL;
}

static bool is_valtype(uint32_t b) {
    return b == WR_I32 || b == WR_I64 || b == WR_F32 || b == WR_F64 || b == WR_FUNCREF ||
           b == WR_EXTERNREF;
}

static bool is_num(vtype t) {
    return t == WR_I32 || t == WR_I64 || t == WR_F32 || t == WR_F64 || t == VT_UNKNOWN;
}

static bool is_ref(vtype t) {
    return t == WR_FUNCREF || t == WR_EXTERNREF || t == VT_UNKNOWN;
}

static const char *vtype_name(vtype t) {
    return t == VT_UNKNOWN ? "any" : wr_valtype_name((wr_valtype)t);
}

/* The type a letter of opcodes.def's PARAMS/RESULTS strings stands for. */
static vtype letter_type(char c) {
    switch (c) {
    case 'i': return WR_I32;
    case 'l': return WR_I64;
    case 'f': return WR_F32;
    case 'd': return WR_F64;
    }
    return VT_UNKNOWN; /* not reached: the table uses only these letters */
}

/* ---- Errors ----------------------------------------------------------- */

/* Fails validation of the current instruction, naming function and instruction. */
static wr_status fail(fvalid *v, wr_status s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static wr_status fail(fvalid *v, wr_status s, const char *fmt, ...) {
    char what[120];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    const char *name = v->op < WR__OPCODE_LIMIT && wr__opinfo[v->op].name ? wr__opinfo[v->op].name : "?";
    wr__error(v->err, s, v->op_offset, "function %u, %s: %s", v->func, name, what);
    return s;
}

/*
 * A read inside a body failed.  Running out of the body's bytes is reported
 * as the reference interpreter does when a body is cut short: "unexpected
 * end of section or function" (the spec tests' "unexpected end" is a prefix
 * of it).
 */
static wr_status read_failed(fvalid *v, wr_status s) {
    if (s == WR_ERR_UNEXPECTED_END)
        s = WR_ERR_SECTION_END;
    return fail(v, s, "bad immediate");
}

#define TRY(expr)                          \
    do {                                   \
        wr_status try_s_ = (expr);         \
        if (try_s_ != WR_OK)               \
            return try_s_;                 \
    } while (0)

#define READ(expr)                         \
    do {                                   \
        wr_status read_s_ = (expr);        \
        if (read_s_ != WR_OK)              \
            return read_failed(v, read_s_); \
    } while (0)

/* ---- The operand and control stacks (the spec's push_val, pop_val...) -- */

static wr_status push_val(fvalid *v, vtype t) {
    if (v->nvals == v->cap_vals) {
        if (v->cap_vals >= OPERAND_STACK_MAX)
            return fail(v, WR_ERR_LIMIT, "operand stack deeper than %u values", OPERAND_STACK_MAX);
        uint32_t cap = v->cap_vals ? v->cap_vals * 2 : 64;
        if (cap > OPERAND_STACK_MAX)
            cap = OPERAND_STACK_MAX;
        vtype *p = realloc(v->vals, cap * sizeof *p);
        if (!p)
            return wr__error(v->err, WR_ERR_NOMEM, v->op_offset, NULL);
        v->vals = p;
        v->cap_vals = cap;
    }
    v->vals[v->nvals++] = t;
    return WR_OK;
}

/* Pops any value; in unreachable code, an empty frame yields Unknown. */
static wr_status pop_val(fvalid *v, vtype *ret) {
    ctrl *c = &v->ctrls[v->nctrls - 1];
    *ret = VT_UNKNOWN;
    if (v->nvals == c->height)
        return c->unreachable ? WR_OK : fail(v, WR_ERR_TYPE_MISMATCH, "operand missing");
    *ret = v->vals[--v->nvals];
    return WR_OK;
}

/* Pops a value of type `expect` (which may be Unknown); `ret` may be NULL. */
static wr_status pop_expect(fvalid *v, vtype expect, vtype *ret) {
    ctrl *c = &v->ctrls[v->nctrls - 1];
    vtype actual;
    if (v->nvals == c->height && !c->unreachable)
        return fail(v, WR_ERR_TYPE_MISMATCH, "expected %s, operand missing", vtype_name(expect));
    TRY(pop_val(v, &actual));
    if (actual != expect && actual != VT_UNKNOWN && expect != VT_UNKNOWN)
        return fail(v, WR_ERR_TYPE_MISMATCH, "expected %s, got %s", vtype_name(expect), vtype_name(actual));
    if (ret)
        *ret = actual;
    return WR_OK;
}

static wr_status push_vals(fvalid *v, const wr_valtype *types, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        TRY(push_val(v, (vtype)types[i]));
    return WR_OK;
}

/* Pops values of the given types, the last one first. */
static wr_status pop_vals(fvalid *v, const wr_valtype *types, uint32_t n) {
    const ctrl *c = &v->ctrls[v->nctrls - 1];
    for (uint32_t i = n; i-- > 0;) {
        /* In unreachable code the values below the frame are Unknown and
         * match anything: stop at once rather than pop them one by one. */
        if (v->nvals == c->height && c->unreachable)
            break;
        TRY(pop_expect(v, (vtype)types[i], NULL));
    }
    return WR_OK;
}

/* Opens a frame and pushes its params, which the block's code starts with. */
static wr_status push_ctrl(fvalid *v, uint32_t opcode, blocktype bt) {
    if (v->nctrls == v->cap_ctrls) {
        /* The function's own frame does not count as a nested block. */
        if (v->cap_ctrls > WR_MAX_BLOCK_DEPTH)
            return fail(v, WR_ERR_LIMIT, "blocks nested deeper than %u", WR_MAX_BLOCK_DEPTH);
        uint32_t cap = v->cap_ctrls ? v->cap_ctrls * 2 : 16;
        if (cap > WR_MAX_BLOCK_DEPTH + 1)
            cap = WR_MAX_BLOCK_DEPTH + 1;
        ctrl *p = realloc(v->ctrls, cap * sizeof *p);
        if (!p)
            return wr__error(v->err, WR_ERR_NOMEM, v->op_offset, NULL);
        v->ctrls = p;
        v->cap_ctrls = cap;
    }
    ctrl *c = &v->ctrls[v->nctrls++];
    c->opcode = opcode;
    c->type = bt;
    c->height = v->nvals;
    c->unreachable = false;
    c->br_table_mark = 0;
    return push_vals(v, bt.params, bt.nparams);
}

/* Closes the innermost frame: its results must be exactly what is left. */
static wr_status pop_ctrl(fvalid *v, ctrl *ret) {
    ctrl *c = &v->ctrls[v->nctrls - 1];
    TRY(pop_vals(v, c->type.results, c->type.nresults));
    if (v->nvals != c->height)
        return fail(v, WR_ERR_TYPE_MISMATCH, "%u values left on the stack at the end of a block",
                    v->nvals - c->height);
    *ret = *c;
    v->nctrls--;
    return WR_OK;
}

/* A branch to a loop takes the loop's params; to anything else, its results. */
static void label_types(const ctrl *c, const wr_valtype **types, uint32_t *n) {
    if (c->opcode == WR__OP_LOOP) {
        *types = c->type.params;
        *n = c->type.nparams;
    } else {
        *types = c->type.results;
        *n = c->type.nresults;
    }
}

/* The rest of the current frame cannot be reached: its operands become Unknown. */
static void set_unreachable(fvalid *v) {
    ctrl *c = &v->ctrls[v->nctrls - 1];
    v->nvals = c->height;
    c->unreachable = true;
}

/* The frame a label index names, or an "unknown label" error. */
static wr_status label(fvalid *v, uint32_t depth, ctrl **ret) {
    *ret = &v->ctrls[0];
    if (depth >= v->nctrls)
        return fail(v, WR_ERR_UNKNOWN_LABEL, "label %u, only %u enclosing blocks", depth, v->nctrls);
    *ret = &v->ctrls[v->nctrls - 1 - depth];
    return WR_OK;
}

/* ---- Immediates ------------------------------------------------------- */

static wr_status read_zero_byte(fvalid *v) {
    uint8_t b;
    READ(wr__read_u8(&v->r, &b));
    if (b != 0)
        return fail(v, WR_ERR_ZERO_BYTE, "memory index byte is 0x%02x", b);
    return WR_OK;
}

/* Reads the immediates of every kind but br_table's, which its handler reads itself. */
static wr_status read_imm(fvalid *v, uint8_t kind, imm *im) {
    wr__reader *r = &v->r;
    int32_t i32;
    int64_t i64;
    uint32_t count;
    uint8_t b;
    const uint8_t *bytes;

    switch ((enum wr__imm)kind) {
    case WR_IMM_NONE:
    case WR_IMM_BR_TABLE:
        break;
    case WR_IMM_BLOCKTYPE:
        READ(wr__read_s33(r, &im->blocktype));
        break;
    case WR_IMM_LABEL:
    case WR_IMM_FUNC:
    case WR_IMM_LOCAL:
    case WR_IMM_GLOBAL:
    case WR_IMM_TABLE:
    case WR_IMM_DATA:
    case WR_IMM_ELEM:
        READ(wr__read_u32(r, &im->a));
        break;
    case WR_IMM_CALL_INDIRECT: /* type index, then table index */
    case WR_IMM_TABLE_INIT:    /* elem index, then table index */
    case WR_IMM_TABLE_COPY:    /* destination table, then source table */
        READ(wr__read_u32(r, &im->a));
        READ(wr__read_u32(r, &im->b));
        break;
    case WR_IMM_REFTYPE:
        READ(wr__read_u8(r, &b));
        if (b != WR_FUNCREF && b != WR_EXTERNREF)
            return fail(v, WR_ERR_REFTYPE, "reference type 0x%02x", b);
        im->t = (wr_valtype)b;
        break;
    case WR_IMM_SELECT_T:
        READ(wr__read_u32(r, &count));
        if (count != 1)
            return fail(v, WR_ERR_INVALID_RESULT_ARITY, "%u types, select takes exactly one", count);
        READ(wr__read_u8(r, &b));
        if (!is_valtype(b))
            return fail(v, WR_ERR_VALTYPE, "value type 0x%02x", b);
        im->t = (wr_valtype)b;
        break;
    case WR_IMM_MEMARG:
        READ(wr__read_u32(r, &im->align));
        READ(wr__read_u32(r, &count)); /* the offset: any u32 is valid */
        break;
    case WR_IMM_MEMIDX:
        TRY(read_zero_byte(v));
        break;
    case WR_IMM_I32:
        READ(wr__read_s32(r, &i32));
        break;
    case WR_IMM_I64:
        READ(wr__read_s64(r, &i64));
        break;
    case WR_IMM_F32:
        READ(wr__read_bytes(r, 4, &bytes));
        break;
    case WR_IMM_F64:
        READ(wr__read_bytes(r, 8, &bytes));
        break;
    case WR_IMM_MEMORY_INIT:
        READ(wr__read_u32(r, &im->a));
        TRY(read_zero_byte(v));
        break;
    case WR_IMM_MEMORY_COPY:
        TRY(read_zero_byte(v));
        TRY(read_zero_byte(v));
        break;
    }
    return WR_OK;
}

static wr_status need_memory(fvalid *v) {
    if (v->m->nmemories == 0)
        return fail(v, WR_ERR_UNKNOWN_MEMORY, "memory 0 does not exist");
    return WR_OK;
}

static wr_status need_table(fvalid *v, uint32_t t) {
    if (t >= v->m->ntables)
        return fail(v, WR_ERR_UNKNOWN_TABLE, "table %u, the module has %u", t, v->m->ntables);
    return WR_OK;
}

static wr_status need_elem(fvalid *v, uint32_t e) {
    if (e >= v->m->nelems)
        return fail(v, WR_ERR_UNKNOWN_ELEM, "element segment %u, the module has %u", e, v->m->nelems);
    return WR_OK;
}

/*
 * memory.init and data.drop.  The decoder has checked that the data count
 * section, when present, matches the data section.  Without it, an index
 * naming no segment is "unknown data segment" (wat2wasm leaves the section
 * out of modules without data, and the spec tests expect that message);
 * one naming a segment needs the section, which announces the segments to
 * code that precedes them.  The decoder reports that case first; the check
 * here keeps the validator safe on its own.
 */
static wr_status need_data(fvalid *v, uint32_t d) {
    if (d >= v->m->ndatas)
        return fail(v, WR_ERR_UNKNOWN_DATA, "data segment %u, the module has %u", d, v->m->ndatas);
    if (!v->m->has_datacount)
        return fail(v, WR_ERR_DATA_COUNT_REQUIRED, "data segment %u used without a data count section", d);
    return WR_OK;
}

/*
 * Checks the indices in an instruction's immediates against the module:
 * memories, tables, segments, alignment.  Labels, functions, locals,
 * globals and types are checked where the instruction is typed.
 */
static wr_status check_imm(fvalid *v, const struct wr__opinfo *info, const imm *im) {
    const wr_module *m = v->m;

    switch ((enum wr__imm)info->imm) {
    case WR_IMM_MEMARG:
        TRY(need_memory(v));
        if (im->align > (uint32_t)info->align)
            return fail(v, WR_ERR_ALIGNMENT, "alignment 2^%u, natural is 2^%d", im->align, info->align);
        break;
    case WR_IMM_MEMIDX:
    case WR_IMM_MEMORY_COPY:
        TRY(need_memory(v));
        break;
    case WR_IMM_MEMORY_INIT:
        TRY(need_memory(v));
        TRY(need_data(v, im->a));
        break;
    case WR_IMM_DATA:
        TRY(need_data(v, im->a));
        break;
    case WR_IMM_TABLE:
        TRY(need_table(v, im->a));
        break;
    case WR_IMM_ELEM:
        TRY(need_elem(v, im->a));
        break;
    case WR_IMM_TABLE_INIT: /* table.init elem table */
        TRY(need_table(v, im->b));
        TRY(need_elem(v, im->a));
        if (m->tables[im->b].elem != m->elems[im->a].type)
            return fail(v, WR_ERR_TYPE_MISMATCH, "segment of %s into a table of %s",
                        wr_valtype_name(m->elems[im->a].type), wr_valtype_name(m->tables[im->b].elem));
        break;
    case WR_IMM_TABLE_COPY: /* table.copy dst src */
        TRY(need_table(v, im->a));
        TRY(need_table(v, im->b));
        if (m->tables[im->a].elem != m->tables[im->b].elem)
            return fail(v, WR_ERR_TYPE_MISMATCH, "copy from a table of %s to a table of %s",
                        wr_valtype_name(m->tables[im->b].elem), wr_valtype_name(m->tables[im->a].elem));
        break;
    case WR_IMM_CALL_INDIRECT:
        TRY(need_table(v, im->b));
        break;
    default:
        break;
    }
    return WR_OK;
}

/* Decodes a block type: empty, one value type, or a type index (multi-value). */
static wr_status read_blocktype(fvalid *v, int64_t bt, blocktype *ret) {
    memset(ret, 0, sizeof *ret);
    if (bt >= 0) {
        if ((uint64_t)bt >= v->m->ntypes)
            return fail(v, WR_ERR_UNKNOWN_TYPE, "block type %" PRId64 ", the module has %u types", bt, v->m->ntypes);
        const wr_functype *ft = &v->m->types[bt];
        ret->params = ft->types;
        ret->nparams = ft->nparams;
        ret->results = results_of(ft);
        ret->nresults = ft->nresults;
        return WR_OK;
    }
    if (bt == -64) /* 0x40: [] -> [] */
        return WR_OK;
    /* A single-byte negative s33 is a value type code with the sign bit dropped. */
    uint32_t code = bt >= -64 ? (uint32_t)(bt & 0x7f) : 0;
    if (!is_valtype(code))
        return fail(v, WR_ERR_VALTYPE, "block type %" PRId64, bt);
    ret->results = single((wr_valtype)code);
    ret->nresults = 1;
    return WR_OK;
}

/* ---- Instructions typed by hand ---------------------------------------- */

static wr_valtype local_type(const fvalid *v, uint32_t i) {
    if (i < v->type->nparams)
        return v->type->types[i];
    return v->def->local_types[i - v->type->nparams];
}

static wr_status need_local(fvalid *v, uint32_t i) {
    if (i >= v->nlocals)
        return fail(v, WR_ERR_UNKNOWN_LOCAL, "local %u, the function has %u", i, v->nlocals);
    return WR_OK;
}

static wr_status need_global(fvalid *v, uint32_t i) {
    if (i >= v->m->nglobals)
        return fail(v, WR_ERR_UNKNOWN_GLOBAL, "global %u, the module has %u", i, v->m->nglobals);
    return WR_OK;
}

static wr_status need_func(fvalid *v, uint32_t i) {
    if (i >= v->m->nfuncs)
        return fail(v, WR_ERR_UNKNOWN_FUNC, "function %u, the module has %u", i, v->m->nfuncs);
    return WR_OK;
}

/* Grows the br_table scratch array to hold n values. */
static wr_status scratch_reserve(fvalid *v, uint32_t n) {
    if (n <= v->cap_scratch)
        return WR_OK;
    vtype *p = realloc(v->scratch, n * sizeof *p);
    if (!p)
        return wr__error(v->err, WR_ERR_NOMEM, v->op_offset, NULL);
    v->scratch = p;
    v->cap_scratch = n;
    return WR_OK;
}

/*
 * br_table l* l_default: every label must take as many values as the
 * default one, and the operands must match each label's types.  As in the
 * spec, the values popped for one label are pushed back before the next is
 * checked, so that in unreachable code each label is checked on its own.
 * The default label comes last in the binary but is needed first: the
 * targets are read twice.
 *
 * After the first label's check the top `arity` values are all there, and
 * each further check pops and pushes back the same values; so checking a
 * label twice changes nothing, and each label is checked once.  Without
 * that, a one-byte target could cost up to WR_MAX_PARAMS steps.
 */
static wr_status op_br_table(fvalid *v) {
    uint32_t count, depth, def_depth;
    ctrl *c;
    const wr_valtype *types;
    uint32_t arity, n;

    TRY(pop_expect(v, WR_I32, NULL));

    READ(wr__read_u32(&v->r, &count));
    wr__reader targets = v->r;
    if (count > WR_MAX_BR_TABLE)
        return fail(v, WR_ERR_LIMIT, "%u targets, the limit is %u", count, WR_MAX_BR_TABLE);
    for (uint32_t i = 0; i < count; i++)
        READ(wr__read_u32(&v->r, &depth));
    READ(wr__read_u32(&v->r, &def_depth));
    wr__reader after = v->r;

    TRY(label(v, def_depth, &c));
    label_types(c, &types, &arity);
    TRY(scratch_reserve(v, arity));

    uint32_t mark = ++v->br_tables;
    v->r = targets;
    for (uint32_t i = 0; i < count; i++) {
        READ(wr__read_u32(&v->r, &depth));
        TRY(label(v, depth, &c));
        if (c->br_table_mark == mark)
            continue;
        c->br_table_mark = mark;
        label_types(c, &types, &n);
        if (n != arity)
            return fail(v, WR_ERR_TYPE_MISMATCH, "label %u takes %u values, the default label %u", depth, n, arity);
        for (uint32_t k = n; k-- > 0;)
            TRY(pop_expect(v, (vtype)types[k], &v->scratch[k]));
        for (uint32_t k = 0; k < n; k++)
            TRY(push_val(v, v->scratch[k]));
    }
    v->r = after;

    TRY(label(v, def_depth, &c));
    label_types(c, &types, &n);
    TRY(pop_vals(v, types, n));
    set_unreachable(v);
    return WR_OK;
}

static wr_status op_call(fvalid *v, const wr_functype *ft) {
    TRY(pop_vals(v, ft->types, ft->nparams));
    return push_vals(v, results_of(ft), ft->nresults);
}

/* Types the instructions opcodes.def marks "*". */
static wr_status op_special(fvalid *v, const imm *im) {
    const wr_module *m = v->m;
    blocktype bt;
    ctrl frame;
    ctrl *c;
    const wr_valtype *types;
    uint32_t n;
    vtype t1, t2;

    switch (v->op) {
    case WR__OP_UNREACHABLE:
        set_unreachable(v);
        return WR_OK;

    case WR__OP_BLOCK:
    case WR__OP_LOOP:
        TRY(read_blocktype(v, im->blocktype, &bt));
        TRY(pop_vals(v, bt.params, bt.nparams));
        return push_ctrl(v, v->op, bt);

    case WR__OP_IF:
        TRY(read_blocktype(v, im->blocktype, &bt));
        TRY(pop_expect(v, WR_I32, NULL));
        TRY(pop_vals(v, bt.params, bt.nparams));
        return push_ctrl(v, WR__OP_IF, bt);

    case WR__OP_ELSE:
        /* In the binary format an else outside an if is malformed, as the
         * block it sits in then lacks its end. */
        if (v->ctrls[v->nctrls - 1].opcode != WR__OP_IF)
            return fail(v, WR_ERR_END_EXPECTED, "else without if");
        TRY(pop_ctrl(v, &frame));
        return push_ctrl(v, WR__OP_ELSE, frame.type);

    case WR__OP_END:
        TRY(pop_ctrl(v, &frame));
        if (frame.opcode == WR__OP_IF) {
            /* An if without else has an empty else, which must turn the
             * params into the results: check it as if it were there. */
            TRY(push_ctrl(v, WR__OP_ELSE, frame.type));
            TRY(pop_ctrl(v, &frame));
        }
        return push_vals(v, frame.type.results, frame.type.nresults);

    case WR__OP_BR:
        TRY(label(v, im->a, &c));
        label_types(c, &types, &n);
        TRY(pop_vals(v, types, n));
        set_unreachable(v);
        return WR_OK;

    case WR__OP_BR_IF:
        TRY(pop_expect(v, WR_I32, NULL));
        TRY(label(v, im->a, &c));
        label_types(c, &types, &n);
        TRY(pop_vals(v, types, n));
        return push_vals(v, types, n);

    case WR__OP_BR_TABLE:
        return op_br_table(v);

    case WR__OP_RETURN:
        c = &v->ctrls[0];
        TRY(pop_vals(v, c->type.results, c->type.nresults));
        set_unreachable(v);
        return WR_OK;

    case WR__OP_CALL:
        TRY(need_func(v, im->a));
        return op_call(v, &m->types[m->funcs[im->a].type_index]);

    case WR__OP_CALL_INDIRECT: /* the table was checked in check_imm */
        if (m->tables[im->b].elem != WR_FUNCREF)
            return fail(v, WR_ERR_TYPE_MISMATCH, "table %u holds %s, not funcref", im->b,
                        wr_valtype_name(m->tables[im->b].elem));
        if (im->a >= m->ntypes)
            return fail(v, WR_ERR_UNKNOWN_TYPE, "type %u, the module has %u", im->a, m->ntypes);
        TRY(pop_expect(v, WR_I32, NULL));
        return op_call(v, &m->types[im->a]);

    case WR__OP_REF_NULL:
        return push_val(v, im->t);

    case WR__OP_REF_IS_NULL:
        TRY(pop_val(v, &t1));
        if (!is_ref(t1))
            return fail(v, WR_ERR_TYPE_MISMATCH, "expected a reference, got %s", vtype_name(t1));
        return push_val(v, WR_I32);

    case WR__OP_REF_FUNC:
        TRY(need_func(v, im->a));
        /* Code may only name functions the module declares elsewhere
         * (segments, exports, globals), so that instantiation knows which
         * functions escape as references. */
        if (!m->func_declared[im->a])
            return fail(v, WR_ERR_UNDECLARED_FUNC_REF, "function %u is not declared", im->a);
        return push_val(v, WR_FUNCREF);

    case WR__OP_DROP:
        return pop_val(v, &t1);

    case WR__OP_SELECT:
        /* Without a type, select works on numbers only, so that the type
         * of its result can be inferred. */
        TRY(pop_expect(v, WR_I32, NULL));
        TRY(pop_val(v, &t1));
        TRY(pop_val(v, &t2));
        if (!is_num(t1) || !is_num(t2))
            return fail(v, WR_ERR_TYPE_MISMATCH, "select without a type on %s and %s", vtype_name(t2),
                        vtype_name(t1));
        if (t1 != t2 && t1 != VT_UNKNOWN && t2 != VT_UNKNOWN)
            return fail(v, WR_ERR_TYPE_MISMATCH, "select on %s and %s", vtype_name(t2), vtype_name(t1));
        return push_val(v, t1 == VT_UNKNOWN ? t2 : t1);

    case WR__OP_SELECT_T:
        TRY(pop_expect(v, WR_I32, NULL));
        TRY(pop_expect(v, im->t, NULL));
        TRY(pop_expect(v, im->t, NULL));
        return push_val(v, im->t);

    case WR__OP_LOCAL_GET:
        TRY(need_local(v, im->a));
        return push_val(v, local_type(v, im->a));

    case WR__OP_LOCAL_SET:
        TRY(need_local(v, im->a));
        return pop_expect(v, local_type(v, im->a), NULL);

    case WR__OP_LOCAL_TEE:
        TRY(need_local(v, im->a));
        TRY(pop_expect(v, local_type(v, im->a), NULL));
        return push_val(v, local_type(v, im->a));

    case WR__OP_GLOBAL_GET:
        TRY(need_global(v, im->a));
        return push_val(v, m->globals[im->a].type.type);

    case WR__OP_GLOBAL_SET:
        TRY(need_global(v, im->a));
        if (!m->globals[im->a].type.mut)
            return fail(v, WR_ERR_IMMUTABLE_GLOBAL, "global %u is immutable", im->a);
        return pop_expect(v, m->globals[im->a].type.type, NULL);

    /* Table instructions: check_imm has checked the table index. */
    case WR__OP_TABLE_GET:
        TRY(pop_expect(v, WR_I32, NULL));
        return push_val(v, m->tables[im->a].elem);

    case WR__OP_TABLE_SET:
        TRY(pop_expect(v, m->tables[im->a].elem, NULL));
        return pop_expect(v, WR_I32, NULL);

    case WR__OP_TABLE_GROW:
        TRY(pop_expect(v, WR_I32, NULL));
        TRY(pop_expect(v, m->tables[im->a].elem, NULL));
        return push_val(v, WR_I32);

    case WR__OP_TABLE_FILL:
        TRY(pop_expect(v, WR_I32, NULL));
        TRY(pop_expect(v, m->tables[im->a].elem, NULL));
        return pop_expect(v, WR_I32, NULL);
    }
    return fail(v, WR_ERR_ILLEGAL_OPCODE, "no typing rule"); /* not reached: opcodes.def and this switch agree */
}

/* Types an instruction from its PARAMS and RESULTS strings in opcodes.def. */
static wr_status op_simple(fvalid *v, const struct wr__opinfo *info) {
    for (size_t i = strlen(info->params); i-- > 0;)
        TRY(pop_expect(v, letter_type(info->params[i]), NULL));
    for (const char *p = info->results; *p; p++)
        TRY(push_val(v, letter_type(*p)));
    return WR_OK;
}

/* ---- Function bodies --------------------------------------------------- */

static wr_status validate_body(fvalid *v, uint32_t func) {
    const wr_module *m = v->m;
    const wr__funcdef *def = &m->funcs[func];
    uint32_t body_end = def->body_offset + def->body_size;

    v->func = func;
    v->def = def;
    v->type = &m->types[def->type_index];
    v->nlocals = v->type->nparams + def->nlocals;
    v->nvals = 0;
    v->nctrls = 0;
    v->op = WR__OP_BLOCK;
    v->op_offset = def->code_offset;
    v->r.start = m->bytes;
    v->r.p = m->bytes + def->code_offset;
    v->r.end = m->bytes + body_end;

    blocktype bt = {
        .params = NULL,
        .nparams = 0,
        .results = results_of(v->type),
        .nresults = v->type->nresults,
    };
    TRY(push_ctrl(v, WR__OP_BLOCK, bt));

    /* The body ends with the `end` that closes the function's frame. */
    while (v->nctrls > 0) {
        imm im;
        if (v->r.p >= v->r.end) {
            /* Like the reference interpreter, which reads on into what
             * follows: the next function's bytes are no `end`, and at the
             * end of the module nothing is left at all. */
            v->op_offset = body_end;
            if (body_end >= m->len)
                return fail(v, WR_ERR_SECTION_END, "body ends before its end instruction");
            return fail(v, WR_ERR_END_EXPECTED, "body ends before its end instruction");
        }
        v->op_offset = (uint32_t)(v->r.p - m->bytes);
        v->op = WR__OP_BLOCK; /* until the opcode is known */
        READ(wr__read_opcode(&v->r, &v->op));

        const struct wr__opinfo *info = &wr__opinfo[v->op];
        memset(&im, 0, sizeof im);
        TRY(read_imm(v, info->imm, &im));
        TRY(check_imm(v, info, &im));
        if (strcmp(info->params, "*") == 0)
            TRY(op_special(v, &im));
        else
            TRY(op_simple(v, info));
    }
    if (v->r.p != v->r.end) {
        v->op_offset = (uint32_t)(v->r.p - m->bytes);
        return fail(v, WR_ERR_SECTION_SIZE, "%zu bytes after the function's end", (size_t)(v->r.end - v->r.p));
    }
    return WR_OK;
}

/* ---- Module-level checks ---------------------------------------------- */

/*
 * The type of a constant expression of a global initializer or a segment.
 * In WebAssembly 2.0 global.get may name only imported immutable globals,
 * whose values are known before any initializer runs.
 */
static wr_status constexpr_type(const wr_module *m, const wr__constexpr *ce, wr_valtype *ret, wr_error *err,
                                const char *what, uint32_t index) {
    *ret = (wr_valtype)0;
    switch ((enum wr__constexpr_kind)ce->kind) {
    case WR__CE_I32: *ret = WR_I32; return WR_OK;
    case WR__CE_I64: *ret = WR_I64; return WR_OK;
    case WR__CE_F32: *ret = WR_F32; return WR_OK;
    case WR__CE_F64: *ret = WR_F64; return WR_OK;
    case WR__CE_REF_NULL: *ret = ce->reftype; return WR_OK;
    case WR__CE_REF_FUNC:
        if (ce->value >= m->nfuncs)
            return wr__error(err, WR_ERR_UNKNOWN_FUNC, ce->offset, "%s %u: ref.func %" PRIu64 ", the module has %u functions",
                             what, index, ce->value, m->nfuncs);
        *ret = WR_FUNCREF;
        return WR_OK;
    case WR__CE_GLOBAL_GET:
        if (ce->value >= m->nglobals || !m->globals[ce->value].imported)
            return wr__error(err, WR_ERR_UNKNOWN_GLOBAL, ce->offset,
                             "%s %u: global.get %" PRIu64 ", only the %u imported globals may be read", what, index,
                             ce->value, m->nglobal_imports);
        if (m->globals[ce->value].type.mut)
            return wr__error(err, WR_ERR_CONST_EXPR, ce->offset, "%s %u: global.get of mutable global %" PRIu64,
                             what, index, ce->value);
        *ret = m->globals[ce->value].type.type;
        return WR_OK;
    }
    return wr__error(err, WR_ERR_CONST_EXPR, ce->offset, "%s %u: not a constant instruction", what, index);
}

/* Checks that a constant expression has type `want`. */
static wr_status check_constexpr(const wr_module *m, const wr__constexpr *ce, wr_valtype want, wr_error *err,
                                 const char *what, uint32_t index) {
    wr_valtype t;
    TRY(constexpr_type(m, ce, &t, err, what, index));
    if (t != want)
        return wr__error(err, WR_ERR_TYPE_MISMATCH, ce->offset, "%s %u: expected %s, got %s", what, index,
                         wr_valtype_name(want), wr_valtype_name(t));
    return WR_OK;
}

static wr_status check_types_and_limits(const wr_module *m, wr_error *err) {
    for (uint32_t i = 0; i < m->nfuncs; i++)
        if (m->funcs[i].type_index >= m->ntypes)
            return wr__error(err, WR_ERR_UNKNOWN_TYPE, m->funcs[i].imported ? 0 : m->funcs[i].body_offset,
                             "function %u: type %u, the module has %u", i, m->funcs[i].type_index, m->ntypes);

    for (uint32_t i = 0; i < m->ntables; i++) {
        const wr__range *lim = &m->tables[i].lim;
        if (lim->has_max && lim->min > lim->max)
            return wr__error(err, WR_ERR_LIMITS_MIN_MAX, 0, "table %u: minimum %u, maximum %u", i, lim->min, lim->max);
    }
    for (uint32_t i = 0; i < m->nmemories; i++) {
        const wr__range *lim = &m->memories[i];
        /* As in the spec, the range is checked before min <= max. */
        if (lim->min > WR_MAX_MEMORY_DECL || (lim->has_max && lim->max > WR_MAX_MEMORY_DECL))
            return wr__error(err, WR_ERR_MEMORY_SIZE, 0, "memory %u: %u pages", i,
                             lim->min > WR_MAX_MEMORY_DECL ? lim->min : lim->max);
        if (lim->has_max && lim->min > lim->max)
            return wr__error(err, WR_ERR_LIMITS_MIN_MAX, 0, "memory %u: minimum %u, maximum %u", i, lim->min, lim->max);
    }
    if (m->nmemories > 1)
        return wr__error(err, WR_ERR_MULTIPLE_MEMORIES, 0, "%u memories, at most one is allowed", m->nmemories);
    return WR_OK;
}

static wr_status check_globals(const wr_module *m, wr_error *err) {
    for (uint32_t i = 0; i < m->nglobals; i++) {
        const wr__globaldef *g = &m->globals[i];
        if (!g->imported)
            TRY(check_constexpr(m, &g->init, g->type.type, err, "global", i));
    }
    return WR_OK;
}

static wr_status check_elems(const wr_module *m, wr_error *err) {
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wr__elem *e = &m->elems[i];
        for (uint32_t k = 0; k < e->count; k++)
            TRY(check_constexpr(m, &e->items[k], e->type, err, "element segment", i));
        if (e->mode != WR__SEG_ACTIVE)
            continue;
        if (e->table >= m->ntables)
            return wr__error(err, WR_ERR_UNKNOWN_TABLE, e->offset.offset, "element segment %u: table %u, the module has %u",
                             i, e->table, m->ntables);
        TRY(check_constexpr(m, &e->offset, WR_I32, err, "element segment", i));
        if (m->tables[e->table].elem != e->type)
            return wr__error(err, WR_ERR_TYPE_MISMATCH, e->offset.offset,
                             "element segment %u: %s into table %u of %s", i, wr_valtype_name(e->type), e->table,
                             wr_valtype_name(m->tables[e->table].elem));
    }
    return WR_OK;
}

static wr_status check_datas(const wr_module *m, wr_error *err) {
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wr__data *d = &m->datas[i];
        if (d->mode != WR__SEG_ACTIVE)
            continue;
        if (d->memory >= m->nmemories)
            return wr__error(err, WR_ERR_UNKNOWN_MEMORY, d->offset.offset, "data segment %u: memory %u, the module has %u",
                             i, d->memory, m->nmemories);
        TRY(check_constexpr(m, &d->offset, WR_I32, err, "data segment", i));
    }
    return WR_OK;
}

static wr_status check_start(const wr_module *m, wr_error *err) {
    if (!m->has_start)
        return WR_OK;
    if (m->start >= m->nfuncs)
        return wr__error(err, WR_ERR_UNKNOWN_FUNC, 0, "start function %u, the module has %u", m->start, m->nfuncs);
    const wr_functype *ft = &m->types[m->funcs[m->start].type_index];
    if (ft->nparams != 0 || ft->nresults != 0)
        return wr__error(err, WR_ERR_START_FUNC, 0, "start function %u takes %u params and returns %u results",
                         m->start, ft->nparams, ft->nresults);
    return WR_OK;
}

static int export_name_cmp(const void *pa, const void *pb) {
    const wr__export *a = *(const wr__export *const *)pa;
    const wr__export *b = *(const wr__export *const *)pb;
    if (a->name_len != b->name_len)
        return a->name_len < b->name_len ? -1 : 1;
    return memcmp(a->name, b->name, a->name_len);
}

static wr_status check_exports(const wr_module *m, wr_error *err) {
    static const char *const unknown_what[] = {"function", "table", "memory", "global"};
    static const wr_status unknown_status[] = {WR_ERR_UNKNOWN_FUNC, WR_ERR_UNKNOWN_TABLE, WR_ERR_UNKNOWN_MEMORY,
                                               WR_ERR_UNKNOWN_GLOBAL};

    for (uint32_t i = 0; i < m->nexports; i++) {
        const wr__export *ex = &m->exports[i];
        uint32_t n = ex->kind == WR_EXTERN_FUNC     ? m->nfuncs
                     : ex->kind == WR_EXTERN_TABLE  ? m->ntables
                     : ex->kind == WR_EXTERN_MEMORY ? m->nmemories
                                                    : m->nglobals;
        if (ex->index >= n)
            return wr__error(err, unknown_status[ex->kind], 0, "export \"%s\": %s %u, the module has %u", ex->name,
                             unknown_what[ex->kind], ex->index, n);
    }
    if (m->nexports < 2)
        return WR_OK;

    /* Duplicate names: sort pointers by name, so that hostile modules with
     * many exports cost n log n, not n^2. */
    const wr__export **sorted = malloc(m->nexports * sizeof *sorted);
    if (!sorted)
        return wr__error(err, WR_ERR_NOMEM, 0, NULL);
    for (uint32_t i = 0; i < m->nexports; i++)
        sorted[i] = &m->exports[i];
    qsort(sorted, m->nexports, sizeof *sorted, export_name_cmp);
    wr_status s = WR_OK;
    for (uint32_t i = 1; i < m->nexports; i++) {
        if (export_name_cmp(&sorted[i - 1], &sorted[i]) == 0) {
            s = wr__error(err, WR_ERR_DUPLICATE_EXPORT, 0, "export \"%s\" appears twice", sorted[i]->name);
            break;
        }
    }
    free(sorted);
    return s;
}

/*
 * The functions that code may name with ref.func: the spec's C.refs, every
 * function index the module mentions outside function bodies and the start
 * section.  The indices were checked before.
 */
static wr_status compute_declared(wr_module *m, wr_error *err) {
    free(m->func_declared);
    m->func_declared = calloc(m->nfuncs ? m->nfuncs : 1, 1);
    if (!m->func_declared)
        return wr__error(err, WR_ERR_NOMEM, 0, NULL);
    for (uint32_t i = 0; i < m->nelems; i++)
        for (uint32_t k = 0; k < m->elems[i].count; k++)
            if (m->elems[i].items[k].kind == WR__CE_REF_FUNC)
                m->func_declared[m->elems[i].items[k].value] = 1;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].kind == WR_EXTERN_FUNC)
            m->func_declared[m->exports[i].index] = 1;
    for (uint32_t i = 0; i < m->nglobals; i++)
        if (!m->globals[i].imported && m->globals[i].init.kind == WR__CE_REF_FUNC)
            m->func_declared[m->globals[i].init.value] = 1;
    return WR_OK;
}

wr_status wr__validate(wr_module *m, wr_error *err) {
    TRY(check_types_and_limits(m, err));
    TRY(check_globals(m, err));
    TRY(check_elems(m, err));
    TRY(check_datas(m, err));
    TRY(check_start(m, err));
    TRY(check_exports(m, err));
    TRY(compute_declared(m, err));

    fvalid v;
    memset(&v, 0, sizeof v);
    v.m = m;
    v.err = err;
    wr_status s = WR_OK;
    for (uint32_t i = 0; i < m->nfuncs && s == WR_OK; i++)
        if (!m->funcs[i].imported)
            s = validate_body(&v, i);
    free(v.vals);
    free(v.ctrls);
    free(v.scratch);
    return s;
}
