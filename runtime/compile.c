/*
 * compile.c - translates each function body, once, into internal code.
 *
 * The body has been validated, so this pass trusts it.  It walks the stack
 * code keeping a compile-time model of the operand stack; every entry is
 *
 *   TEMP   a value already in its home slot (nlocals + its stack height),
 *   LOCAL  the current value of a local, not copied anywhere yet,
 *   CONST  a constant, not materialized anywhere yet.
 *
 * An instruction reads its operands straight from wherever they are, and
 * writes its result to the home slot of the result.  So `local.get` and the
 * constants cost nothing, a constant right operand of an integer operation
 * becomes an immediate, a `local.set` right after the instruction computing
 * its value just redirects that instruction's destination, and a comparison
 * feeding `br_if`/`if` becomes one compare-and-branch.
 *
 * Invariants that keep it correct:
 *   - Before a local is written, stack entries that still name it are copied
 *     to their home slots.
 *   - At the start of a block, no LOCAL entry is left on the stack (a write
 *     inside the block would otherwise have to copy it on one path only), and
 *     the block's parameters sit in their home slots.
 *   - Values leaving a block (fallthrough or branch) are copied to the home
 *     slots of the label's results; a loop label's values to its parameters'.
 */
#include <stdlib.h>
#include <string.h>

#include "code.h"

/*
 * K_LOCAL_ADD is `local.get x; i32.const k; i32.add` not yet computed: a load
 * or store takes it as its address directly, (x + k) mod 2^32 + offset.
 */
enum { K_TEMP, K_LOCAL, K_CONST, K_LOCAL_ADD };
enum { F_FUNC, F_BLOCK, F_LOOP, F_IF, F_ELSE };

typedef struct centry {
    uint8_t kind;
    uint32_t local;   /* K_LOCAL, K_LOCAL_ADD */
    uint64_t value;   /* K_CONST: the bits; K_LOCAL_ADD: the addend */
} centry;

typedef struct cframe {
    uint8_t kind;
    uint32_t height;      /* operand stack height below the parameters */
    uint32_t nparams;
    uint32_t nresults;
    uint32_t loop_pos;    /* F_LOOP: where branches to it go */
    uint32_t patch;       /* chain of cells waiting for the end address (index + 1) */
    uint32_t else_patch;  /* F_IF: the cell to point at the else branch (index + 1) */
} cframe;

typedef struct compiler {
    const wr_module *m;
    const wr_functype *type;
    wr__reader r;
    const void *const *handlers;
    wr_status status;

    wr__cell *cells;
    uint32_t ncells, cap_cells;
    uint32_t *relocs;     /* cells that hold a target index, turned into pointers at the end */
    uint32_t nrelocs, cap_relocs;

    centry *stack;
    uint32_t height, cap_stack, max_height;
    cframe *frames;
    uint32_t nframes, cap_frames;

    uint32_t nlocals;     /* params + declared locals */
    uint64_t pool[WR_MAX_CONST_POOL]; /* constants kept in frame slots nlocals.. */
    uint32_t npool;
    uint32_t nbase;       /* nlocals + npool: the operand stack's first slot */
    uint32_t *local_refs; /* per local: LOCAL entries naming it on the stack */
    /* Per local: still holds the zero a call put there, and no branch can
     * have reached this point with another value.  Valid until the first
     * loop, if, else or end (places that other paths may reach). */
    bool *known_zero;
    bool at_entry;
    uint32_t total_refs;
    bool unreachable;     /* the rest of the current block is dead code */
    uint32_t skip_depth;  /* blocks opened inside dead code */

    /* The accumulators (interp.c): the slot whose value the instruction just
     * emitted left in its accumulator too, or NO_ACC; whether that was a
     * load; and whether the last instruction's operand a was the accumulator
     * (so that a compare fused into a branch can read it from there still).
     * Which accumulator, f64 or i32, follows from the slot's type. */
    uint32_t acc_slot;
    bool acc_loaded;
    bool last_a_acc;
    uint32_t prev_acc_slot; /* acc_slot before the last instruction emitted */
    /* The last instruction, if it is a COPY or a plain I32_ADD IMM that a
     * second one of the same kind may join (COPY2, I32_ADD_IMM2). */
    int64_t join_pos;

    /* Where the last instruction emitted and the one before it start (or
     * -1); they may be stale after a rewrite, so users check the handler. */
    int64_t op_pos, prev_op_pos;

    /* The last instruction, if it computed the top TEMP and nothing came after. */
    int64_t last_pos;
    uint32_t last_iop;
    uint32_t last_height;  /* stack height right after it */
} compiler;

/* ---- Growing arrays ---------------------------------------------------- */

static bool grow(compiler *c, void **arr, uint32_t *cap, uint32_t need, size_t elem) {
    if (need <= *cap)
        return true;
    /* In 64 bits: doubling must not wrap, nor the byte size on a 32-bit host. */
    uint64_t n = *cap ? *cap : 16;
    while (n < need)
        n *= 2;
    if (n > UINT32_MAX)
        n = UINT32_MAX;
    void *p = n * elem <= SIZE_MAX ? realloc(*arr, (size_t)(n * elem)) : NULL;
    if (!p) {
        c->status = WR_ERR_NOMEM;
        return false;
    }
    *arr = p;
    *cap = (uint32_t)n;
    return true;
}

/* ---- Emitting ---------------------------------------------------------- */

static uint32_t emit_cell(compiler *c, uint64_t v) {
    if (!grow(c, (void **)&c->cells, &c->cap_cells, c->ncells + 1, sizeof *c->cells))
        return 0;
    c->cells[c->ncells].u64 = v;
    return c->ncells++;
}

#define NO_ACC UINT32_MAX

/*
 * Not inlined, nor pop_n(): the translator calls both from a hundred places,
 * and gcc's inlining of them cost 3.8 KB of text (of the 100 KB the engine's
 * code may take) for no speed that counts: translation runs once per load.
 */
__attribute__((noinline)) static uint32_t emit_op(compiler *c, uint32_t iop) {
    c->last_pos = -1;
    c->join_pos = -1;
    c->prev_acc_slot = c->acc_slot;
    c->acc_slot = NO_ACC;
    c->last_a_acc = false;
    uint32_t pos = emit_cell(c, 0);
    c->prev_op_pos = c->op_pos;
    c->op_pos = pos;
    if (c->status == WR_OK)
        c->cells[pos].op = c->handlers[iop];
    return pos;
}

/* The current position is a branch target: what the instructions before it left
 * in the accumulators is not known there, nor may the next one join the last. */
static void at_label(compiler *c) {
    c->acc_slot = NO_ACC;
    c->join_pos = -1;
}

/*
 * Called after emitting a plain I32_ADD IMM at pos, `prev` being join_pos
 * from before it: when the instruction just before was one too, the two
 * become one I32_ADD_IMM2, laid out with the second's dst in cell 1 (where
 * a local.set may still redirect it).  Returns where the instruction starts.
 */
static uint32_t join_add_imm(compiler *c, int64_t prev, uint32_t pos) {
    if (prev < 0 || (uint64_t)prev + 4 != pos || c->status != WR_OK ||
        c->cells[prev].op != c->handlers[WR__IOP_IMM(WR__OP_I32_ADD)]) {
        c->join_pos = pos;
        return pos;
    }
    uint32_t p = (uint32_t)prev;
    wr__cell first[3] = {c->cells[p + 1], c->cells[p + 2], c->cells[p + 3]};
    c->cells[p].op = c->handlers[WR__IOP_EXTRA + WR__X_I32_ADD_IMM2];
    for (uint32_t i = 0; i < 3; i++) {
        c->cells[p + 1 + i] = c->cells[pos + 1 + i];
        c->cells[p + 4 + i] = first[i];
    }
    c->ncells = p + 7;
    c->op_pos = p;
    return p;
}

/* Remembers that the instruction at pos computed the top of the stack into its cell pos+1. */
static void mark_last(compiler *c, uint32_t pos, uint32_t iop) {
    c->last_pos = pos;
    c->last_iop = iop;
    c->last_height = c->height;
}

/* Whether the top of the stack is the result of the last instruction emitted. */
static bool top_is_last(const compiler *c) {
    return c->last_pos >= 0 && c->height == c->last_height && c->stack[c->height - 1].kind == K_TEMP;
}

static void add_reloc(compiler *c, uint32_t cell) {
    if (grow(c, (void **)&c->relocs, &c->cap_relocs, c->nrelocs + 1, sizeof *c->relocs))
        c->relocs[c->nrelocs++] = cell;
}

/* A branch target known now (a loop header). */
static void emit_target(compiler *c, uint32_t target) {
    uint32_t cell = emit_cell(c, target);
    add_reloc(c, cell);
}

/* Links the cell into a chain of forward references resolved by patch_chain(). */
static void link_forward(compiler *c, uint32_t cell, uint32_t *chain) {
    if (c->status != WR_OK)
        return;
    c->cells[cell].u64 = *chain;
    *chain = cell + 1;
    add_reloc(c, cell);
}

static void patch_chain(compiler *c, uint32_t chain, uint32_t target) {
    while (chain && c->status == WR_OK) {
        uint32_t cell = chain - 1;
        chain = (uint32_t)c->cells[cell].u64;
        c->cells[cell].u64 = target;
    }
}

/* A branch to frame f: to the loop header, or forward to the block's end. */
static void emit_branch_target(compiler *c, cframe *f) {
    if (f->kind == F_LOOP)
        emit_target(c, f->loop_pos);
    else
        link_forward(c, emit_cell(c, 0), &f->patch);
}

/* ---- The operand stack model ------------------------------------------ */

static uint32_t home(const compiler *c, uint32_t i) {
    return c->nbase + i;
}

static bool names_local(const centry *e) {
    return e->kind == K_LOCAL || e->kind == K_LOCAL_ADD;
}

static void push(compiler *c, uint8_t kind, uint32_t local, uint64_t value) {
    if (!grow(c, (void **)&c->stack, &c->cap_stack, c->height + 1, sizeof *c->stack))
        return;
    c->stack[c->height] = (centry){kind, local, value};
    if (kind == K_LOCAL || kind == K_LOCAL_ADD) {
        c->local_refs[local]++;
        c->total_refs++;
    }
    c->height++;
    if (c->height > c->max_height)
        c->max_height = c->height;
}

static uint32_t push_temp(compiler *c) {
    push(c, K_TEMP, 0, 0);
    return home(c, c->height - 1);
}

__attribute__((noinline)) static void pop_n(compiler *c, uint32_t n) {
    while (n-- && c->height) {
        centry *e = &c->stack[--c->height];
        if (names_local(e)) {
            c->local_refs[e->local]--;
            c->total_refs--;
        }
    }
}

/* Emits what puts the value of entry e (whose home is src_home) into slot dst. */
static void emit_entry_to(compiler *c, const centry *e, uint32_t src_home, uint32_t dst) {
    switch (e->kind) {
    case K_CONST: {
        uint32_t pos = emit_op(c, WR__IOP_EXTRA + WR__X_CONST);
        emit_cell(c, dst);
        emit_cell(c, e->value);
        c->join_pos = pos; /* a copy may join it (CONST_COPY) */
        return;
    }
    case K_LOCAL_ADD: {
        /* An i32.add like any other: it reads and feeds the accumulator. */
        bool a_acc = e->local == c->acc_slot;
        int64_t prev = c->join_pos;
        uint32_t pos = emit_op(c, a_acc ? WR__IOP_IMM_R(WR__OP_I32_ADD) : WR__IOP_IMM(WR__OP_I32_ADD));
        emit_cell(c, dst);
        emit_cell(c, e->local);
        emit_cell(c, e->value);
        if (!a_acc)
            join_add_imm(c, prev, pos);
        c->acc_slot = dst;
        c->acc_loaded = false;
        return;
    }
    default: {
        uint32_t s = e->kind == K_LOCAL ? e->local : src_home;
        if (s == dst)
            return;
        /* A copy leaves the accumulators alone: if they held the source's
         * value, they still do. */
        uint32_t acc = c->acc_slot == s ? s : NO_ACC;
        const void *join = c->join_pos >= 0 && c->status == WR_OK ? c->cells[c->join_pos].op : NULL;
        bool after_const = join == c->handlers[WR__IOP_EXTRA + WR__X_CONST];
        if (after_const || join == c->handlers[WR__IOP_EXTRA + WR__X_COPY]) {
            /* Right after another copy or a constant (no branch target
             * between), as in `x = 4; y = z`: one dispatch for both. */
            c->cells[c->join_pos].op = c->handlers[WR__IOP_EXTRA + (after_const ? WR__X_CONST_COPY : WR__X_COPY2)];
            c->join_pos = -1;
            emit_cell(c, dst);
            emit_cell(c, s);
        } else {
            uint32_t pos = emit_op(c, WR__IOP_EXTRA + WR__X_COPY);
            emit_cell(c, dst);
            emit_cell(c, s);
            c->join_pos = pos;
        }
        c->acc_slot = acc;
    }
    }
}

/*
 * When the last instruction is a COPY (no branch target since), turns it
 * into x, the copy and a branch whose operands the caller emits next; false
 * if it is not.  The state is what emit_op() leaves.
 */
static bool copy_then(compiler *c, uint32_t x) {
    if (c->join_pos < 0 || c->status != WR_OK || (uint64_t)c->join_pos + 3 != c->ncells ||
        c->cells[c->join_pos].op != c->handlers[WR__IOP_EXTRA + WR__X_COPY])
        return false;
    c->cells[c->join_pos].op = c->handlers[WR__IOP_EXTRA + x];
    c->last_pos = -1;
    c->join_pos = -1;
    c->acc_slot = NO_ACC;
    c->last_a_acc = false;
    return true;
}

/* Puts stack entry i into its home slot. */
static void materialize(compiler *c, uint32_t i) {
    centry *e = &c->stack[i];
    if (e->kind == K_TEMP)
        return;
    emit_entry_to(c, e, home(c, i), home(c, i));
    if (names_local(e)) {
        c->local_refs[e->local]--;
        c->total_refs--;
    }
    e->kind = K_TEMP;
}

/* The frame slot of a pooled constant, or UINT32_MAX. */
static uint32_t pool_slot(const compiler *c, uint64_t v) {
    for (uint32_t k = 0; k < c->npool; k++)
        if (c->pool[k] == v)
            return c->nlocals + k;
    return UINT32_MAX;
}

/* The slot to read stack entry i from (other constants and sums are materialized first). */
static uint32_t operand(compiler *c, uint32_t i) {
    centry *e = &c->stack[i];
    if (e->kind == K_LOCAL)
        return e->local;
    if (e->kind == K_CONST) {
        uint32_t slot = pool_slot(c, e->value);
        if (slot != UINT32_MAX)
            return slot;
    }
    materialize(c, i);
    return home(c, i);
}

/* Copies every entry naming local x to its home slot, before x is written. */
static void detach_local(compiler *c, uint32_t x) {
    for (uint32_t i = 0; c->local_refs[x] && i < c->height; i++)
        if (names_local(&c->stack[i]) && c->stack[i].local == x)
            materialize(c, i);
}

static void detach_all_locals(compiler *c, uint32_t below) {
    for (uint32_t i = 0; c->total_refs && i < below; i++)
        if (names_local(&c->stack[i]))
            materialize(c, i);
}

/* Emits a copy of stack entry `src` into slot `dst` (if it is not already there). */
static void copy_entry_to(compiler *c, uint32_t src, uint32_t dst) {
    emit_entry_to(c, &c->stack[src], home(c, src), dst);
}

/*
 * Copies the top n entries to the slots base..base+n-1, which lie at or
 * below their home slots; copying upwards from the lowest never overwrites a
 * source not yet read.
 */
static void copy_top_to(compiler *c, uint32_t n, uint32_t base) {
    for (uint32_t i = 0; i < n; i++)
        copy_entry_to(c, c->height - n + i, base + i);
}

static bool top_in_place(const compiler *c, uint32_t n, uint32_t label_height) {
    if (c->height - n != label_height)
        return false;
    for (uint32_t i = c->height - n; i < c->height; i++)
        if (c->stack[i].kind != K_TEMP)
            return false;
    return true;
}

/* ---- Control ---------------------------------------------------------- */

static uint32_t label_arity(const cframe *f) {
    return f->kind == F_LOOP ? f->nparams : f->nresults;
}

/* Results go to slots 0..n-1, where the caller expects them. */
static void emit_return(compiler *c) {
    uint32_t n = c->type->nresults;
    if (n == 1 && top_is_last(c)) {
        /* The instruction that computed the value writes it to slot 0 itself:
         * nothing runs between it and the return, so its home is not needed. */
        c->cells[c->last_pos + 1].u64 = 0;
    } else if (n == 1) {
        copy_entry_to(c, c->height - 1, 0);
    } else if (n > 1) {
        /* Locals may be both sources and destinations: go through the home slots. */
        for (uint32_t i = c->height - n; i < c->height; i++)
            materialize(c, i);
        copy_top_to(c, n, 0);
    }
    emit_op(c, WR__IOP_EXTRA + WR__X_RETURN);
}

/* An unconditional branch to label depth l, values on the stack. */
static void emit_br(compiler *c, uint32_t l) {
    cframe *f = &c->frames[c->nframes - 1 - l];
    if (f->kind == F_FUNC) {
        emit_return(c);
        return;
    }
    copy_top_to(c, label_arity(f), home(c, f->height));
    if (!copy_then(c, WR__X_COPY_BR))
        emit_op(c, WR__IOP_EXTRA + WR__X_BR);
    emit_branch_target(c, f);
}

static void read_blocktype(compiler *c, uint32_t *np, uint32_t *nr) {
    int64_t bt;
    wr__read_s33(&c->r, &bt);
    if (bt == -64) { /* 0x40: empty */
        *np = *nr = 0;
    } else if (bt < 0) { /* a single value type */
        *np = 0;
        *nr = 1;
    } else {
        const wr_functype *t = &c->m->types[bt];
        *np = t->nparams;
        *nr = t->nresults;
    }
}

static void push_frame(compiler *c, uint8_t kind, uint32_t np, uint32_t nr) {
    if (!grow(c, (void **)&c->frames, &c->cap_frames, c->nframes + 1, sizeof *c->frames))
        return;
    c->frames[c->nframes++] = (cframe){kind, c->height - np, np, nr, 0, 0, 0};
}

/* Negations of the fusable comparisons, for `if`, which branches when false. */
static int negate_cmp(uint32_t op) {
    switch (op) {
    case WR__OP_I32_EQ: return WR__OP_I32_NE;
    case WR__OP_I32_NE: return WR__OP_I32_EQ;
    case WR__OP_I32_LT_S: return WR__OP_I32_GE_S;
    case WR__OP_I32_LT_U: return WR__OP_I32_GE_U;
    case WR__OP_I32_GT_S: return WR__OP_I32_LE_S;
    case WR__OP_I32_GT_U: return WR__OP_I32_LE_U;
    case WR__OP_I32_LE_S: return WR__OP_I32_GT_S;
    case WR__OP_I32_LE_U: return WR__OP_I32_GT_U;
    case WR__OP_I32_GE_S: return WR__OP_I32_LT_S;
    case WR__OP_I32_GE_U: return WR__OP_I32_LT_U;
    case WR__OP_I64_EQ: return WR__OP_I64_NE;
    case WR__OP_I64_NE: return WR__OP_I64_EQ;
    case WR__OP_I64_LT_S: return WR__OP_I64_GE_S;
    case WR__OP_I64_LT_U: return WR__OP_I64_GE_U;
    case WR__OP_I64_GT_S: return WR__OP_I64_LE_S;
    case WR__OP_I64_GT_U: return WR__OP_I64_LE_U;
    case WR__OP_I64_LE_S: return WR__OP_I64_GT_S;
    case WR__OP_I64_LE_U: return WR__OP_I64_GT_U;
    case WR__OP_I64_GE_S: return WR__OP_I64_LT_S;
    case WR__OP_I64_GE_U: return WR__OP_I64_LT_U;
    }
    return -1;
}

/* The fused compare-and-branch operation for a comparison opcode. */
static uint32_t fused_branch(uint32_t op, bool imm) {
    if (op >= WR__OP_I32_EQ && op <= WR__OP_I32_GE_U)
        return WR__IOP_EXTRA + (imm ? WR__X_BR_I32_EQ_IMM : WR__X_BR_I32_EQ) + (op - WR__OP_I32_EQ);
    return WR__IOP_EXTRA + WR__X_BR_I64_EQ + (op - WR__OP_I64_EQ);
}

/* Instructions a conditional branch on their result folds into (X_BR_IF_* in interp.c). */
static const struct {
    uint32_t iop;
    uint16_t br_if, br_ifz;
} branch_folds[] = {
    {WR__OP_I32_LOAD, WR__X_BR_IF_LD, WR__X_BR_IFZ_LD},
    {WR__OP_I32_LOAD8_U, WR__X_BR_IF_LD8U, WR__X_BR_IFZ_LD8U},
    {WR__IOP_IMM(WR__OP_I32_ADD), WR__X_BR_IF_ADD_IMM, WR__X_BR_IFZ_ADD_IMM},
    {WR__IOP_IMM(WR__OP_I32_AND), WR__X_BR_IF_AND_IMM, WR__X_BR_IFZ_AND_IMM},
};

/*
 * A conditional branch on slot s: when the instruction at pos, the last one
 * emitted (three operand cells), computed s and is one of branch_folds[], it
 * becomes the fused one and the target cell is returned; else 0.
 */
static uint32_t fold_branch(compiler *c, int64_t pos, uint32_t s, bool when_true) {
    if (pos < 0 || c->status != WR_OK || (uint64_t)pos + 4 != c->ncells || c->cells[pos + 1].u64 != s)
        return 0;
    for (size_t i = 0; i < sizeof branch_folds / sizeof *branch_folds; i++) {
        if (c->cells[pos].op != c->handlers[branch_folds[i].iop])
            continue;
        uint64_t a = c->cells[pos + 2].u64, b = c->cells[pos + 3].u64;
        c->ncells = (uint32_t)pos;
        emit_op(c, WR__IOP_EXTRA + (when_true ? branch_folds[i].br_if : branch_folds[i].br_ifz));
        emit_cell(c, s);
        emit_cell(c, a);
        emit_cell(c, b);
        return emit_cell(c, 0);
    }
    return 0;
}

/*
 * A compare-and-branch of the accumulator with m, a constant (imm) or a
 * slot (the compare just removed from pos), right after the i32.add of a
 * constant that put the accumulator in slot a: a loop's latch.  The two
 * become one ADD_BR_* (_S: m a slot) when OP is one of those; returns the
 * target cell to fill, or 0, having changed nothing.
 */
static uint32_t fold_add_branch(compiler *c, uint32_t pos, uint32_t op, bool imm, uint64_t a, uint64_t m) {
    static const uint32_t ops[] = {WR__OP_I32_NE, WR__OP_I32_LT_U, WR__OP_I32_GT_S};
    uint32_t k = 0;
    while (k < (imm ? 3 : 2) && ops[k] != op)
        k++;
    int64_t p = c->prev_op_pos;
    if (k == (imm ? 3u : 2u) || p < 0 || (uint64_t)p + 4 != pos || c->cells[p + 1].u64 != a)
        return 0;
    uint32_t x;
    if (c->cells[p].op == c->handlers[WR__IOP_IMM(WR__OP_I32_ADD)])
        x = imm ? WR__X_ADD_BR_NE + k : WR__X_ADD_BR_NE_S + k;
    else if (imm && c->cells[p].op == c->handlers[WR__IOP_IMM_R(WR__OP_I32_ADD)])
        x = WR__X_ADD_BR_NE_R + k;
    else
        return 0;
    uint64_t src = c->cells[p + 2].u64, kk = c->cells[p + 3].u64;
    c->ncells = (uint32_t)p;
    c->op_pos = -1;
    emit_op(c, WR__IOP_EXTRA + x);
    emit_cell(c, a);
    emit_cell(c, src);
    emit_cell(c, kk);
    emit_cell(c, m);
    return emit_cell(c, 0);
}

/*
 * Emits a conditional branch on the top of the stack (popped): jump when it
 * is non-zero (when_true) or zero.  The target cell is returned for the
 * caller to fill.  A comparison just computed into the top is fused in.
 */
static uint32_t emit_cond_branch(compiler *c, bool when_true) {
    uint32_t top = c->height - 1;
    if (top_is_last(c)) {
        uint32_t pos = (uint32_t)c->last_pos;
        uint32_t iop = c->last_iop;
        bool imm = iop >= WR__IOP_IMM(0) && iop < WR__IOP_EXTRA;
        uint32_t op = imm ? iop - WR__OPCODE_LIMIT : iop;
        bool is_eqz = !imm && (op == WR__OP_I32_EQZ || op == WR__OP_I64_EQZ);
        bool is_cmp = (op >= WR__OP_I32_EQ && op <= WR__OP_I32_GE_U) ||
                      (!imm && op >= WR__OP_I64_EQ && op <= WR__OP_I64_GE_U);
        bool is_fcmp = !imm && op >= WR__OP_F64_EQ && op <= WR__OP_F64_GE;
        /* The operand a of the instruction fused away may be the accumulator still. */
        bool acc = c->last_a_acc;
        if (is_fcmp) {
            static const uint16_t when_true_ops[] = {WR__X_BR_F64_EQ, WR__X_BR_F64_NE, WR__X_BR_F64_LT,
                                                    WR__X_BR_F64_GT, WR__X_BR_F64_LE, WR__X_BR_F64_GE};
            static const uint16_t when_false_ops[] = {WR__X_BR_F64_NE, WR__X_BR_F64_EQ, WR__X_BR_F64_NLT,
                                                     WR__X_BR_F64_NGT, WR__X_BR_F64_NLE, WR__X_BR_F64_NGE};
            uint32_t k = op - WR__OP_F64_EQ;
            uint32_t x = when_true ? when_true_ops[k] : when_false_ops[k];
            if (when_true && acc && k >= 2)
                x = WR__X_BR_F64_LT_RA + (k - 2);
            uint64_t a = c->cells[pos + 2].u64, b = c->cells[pos + 3].u64;
            c->ncells = pos;
            pop_n(c, 1);
            emit_op(c, WR__IOP_EXTRA + x);
            emit_cell(c, a);
            emit_cell(c, b);
            return emit_cell(c, 0);
        }
        if (is_eqz) {
            uint64_t src = c->cells[pos + 2].u64;
            c->ncells = pos;
            pop_n(c, 1);
            uint32_t t = acc ? fold_branch(c, c->prev_op_pos, (uint32_t)src, !when_true) : 0;
            if (t)
                return t;
            if (acc)
                emit_op(c, WR__IOP_EXTRA + (when_true ? WR__X_BR_IFZ_R : WR__X_BR_IF_R));
            else
                emit_op(c, WR__IOP_EXTRA + (when_true ? WR__X_BR_IFZ : WR__X_BR_IF));
            emit_cell(c, src);
            return emit_cell(c, 0);
        }
        if (is_cmp) {
            uint64_t a = c->cells[pos + 2].u64, b = c->cells[pos + 3].u64;
            if (!when_true)
                op = (uint32_t)negate_cmp(op);
            c->ncells = pos;
            pop_n(c, 1);
            uint32_t t = acc ? fold_add_branch(c, pos, op, imm, a, b) : 0;
            if (t)
                return t;
            if (acc && op <= WR__OP_I32_GE_U)
                emit_op(c, WR__IOP_EXTRA + (imm ? WR__X_BR_I32_EQ_IMM_R : WR__X_BR_I32_EQ_RA) + (op - WR__OP_I32_EQ));
            else
                emit_op(c, fused_branch(op, imm));
            emit_cell(c, a);
            emit_cell(c, b);
            return emit_cell(c, 0);
        }
    }
    uint32_t s = operand(c, top);
    pop_n(c, 1);
    uint32_t t = s == c->acc_slot ? fold_branch(c, c->op_pos, s, when_true) : 0;
    if (t)
        return t;
    if (s == c->acc_slot)
        emit_op(c, WR__IOP_EXTRA + (when_true ? WR__X_BR_IF_R : WR__X_BR_IFZ_R));
    else if (!copy_then(c, when_true ? WR__X_COPY_BR_IF : WR__X_COPY_BR_IFZ))
        emit_op(c, WR__IOP_EXTRA + (when_true ? WR__X_BR_IF : WR__X_BR_IFZ));
    emit_cell(c, s);
    return emit_cell(c, 0);
}

static void op_block(compiler *c, uint32_t op) {
    uint32_t np, nr;
    if (op != WR__OP_BLOCK)
        c->at_entry = false;
    read_blocktype(c, &np, &nr);
    uint32_t below = c->height - (op == WR__OP_IF ? 1 : 0);
    detach_all_locals(c, below);
    for (uint32_t i = below - np; i < below; i++)
        materialize(c, i);
    if (op == WR__OP_BLOCK) {
        push_frame(c, F_BLOCK, np, nr);
    } else if (op == WR__OP_LOOP) {
        push_frame(c, F_LOOP, np, nr);
        if (c->status == WR_OK)
        {
            c->frames[c->nframes - 1].loop_pos = emit_op(c, WR__IOP_EXTRA + WR__X_LOOP);
            emit_cell(c, 1); /* its cost, set at the loop's end (op_end) */
        }
    } else {
        uint32_t cell = emit_cond_branch(c, false);
        push_frame(c, F_IF, np, nr);
        if (c->status == WR_OK)
            link_forward(c, cell, &c->frames[c->nframes - 1].else_patch);
    }
    c->last_pos = -1;
}

/* Makes the fallthrough results of frame f sit in their home slots. */
static void settle_results(compiler *c, const cframe *f) {
    for (uint32_t i = f->height; i < f->height + f->nresults && i < c->height; i++)
        materialize(c, i);
}

static void reset_stack(compiler *c, uint32_t height, uint32_t ntemps) {
    pop_n(c, c->height - height);
    for (uint32_t i = 0; i < ntemps; i++)
        push_temp(c);
}

static void op_else(compiler *c) {
    cframe *f = &c->frames[c->nframes - 1];
    c->at_entry = false;
    if (!c->unreachable) {
        settle_results(c, f);
        if (!copy_then(c, WR__X_COPY_BR))
            emit_op(c, WR__IOP_EXTRA + WR__X_BR);
        link_forward(c, emit_cell(c, 0), &f->patch);
    }
    at_label(c); /* after what settle_results() emitted */
    patch_chain(c, f->else_patch, c->ncells);
    f->else_patch = 0;
    f->kind = F_ELSE;
    reset_stack(c, f->height, f->nparams);
    c->unreachable = false;
    c->last_pos = -1;
}

/* The instructions a loop header may run straight into (X_LOOP_* in interp.c). */
static const struct {
    uint32_t iop, loop;
} loop_into[] = {
    {WR__IOP_IMM(WR__OP_I32_ADD), WR__X_LOOP_I32_ADD_IMM},
    {WR__IOP_EXTRA + WR__X_I32_ADD_IMM2, WR__X_LOOP_I32_ADD_IMM2},
    {WR__IOP_IMM(WR__OP_I64_ADD), WR__X_LOOP_I64_ADD_IMM},
    {WR__OP_I32_ADD, WR__X_LOOP_I32_ADD},
    {WR__IOP_IMM(WR__OP_I32_AND), WR__X_LOOP_I32_AND_IMM},
    {WR__IOP_IMM(WR__OP_I32_SHL), WR__X_LOOP_I32_SHL_IMM},
    {WR__OP_I32_LOAD, WR__X_LOOP_I32_LOAD},
    {WR__IOP_ADDR(WR__OP_I32_LOAD8_U), WR__X_LOOP_I32_LOAD8_U_ADDR},
    {WR__OP_F64_LOAD, WR__X_LOOP_F64_LOAD},
    {WR__IOP_EXTRA + WR__X_COPY, WR__X_LOOP_COPY},
    {WR__IOP_EXTRA + WR__X_COPY2, WR__X_LOOP_COPY2},
    {WR__IOP_EXTRA + WR__X_I32_ADD_SHL, WR__X_LOOP_I32_ADD_SHL},
    {WR__OP_I32_LOAD16_U, WR__X_LOOP_I32_LOAD16_U},
    {WR__IOP_EXTRA + WR__X_I32_LOAD8_U_IX, WR__X_LOOP_I32_LOAD8_U_IX},
    {WR__OP_I32_SUB, WR__X_LOOP_I32_SUB},
};

/*
 * At a loop's end, its body final: when the body's first instruction is one
 * of loop_into[], the header runs straight into it.  (Nothing branches to
 * that instruction itself: branches to the loop go to the header.)
 */
static void fuse_loop_header(compiler *c, uint32_t loop_pos) {
    if (c->status != WR_OK || loop_pos + 2 >= c->ncells)
        return;
    for (size_t i = 0; i < sizeof loop_into / sizeof *loop_into; i++)
        if (c->cells[loop_pos + 2].op == c->handlers[loop_into[i].iop])
            c->cells[loop_pos].op = c->handlers[WR__IOP_EXTRA + loop_into[i].loop];
}

/* Returns true at the end of the function. */
static bool op_end(compiler *c) {
    cframe *f = &c->frames[c->nframes - 1];
    c->at_entry = false;
    if (f->kind == F_FUNC) {
        if (!c->unreachable)
            emit_return(c);
        c->nframes--;
        return true;
    }
    if (!c->unreachable)
        settle_results(c, f);
    /* A loop iteration pays for the straight-line code its body may run. */
    if (f->kind == F_LOOP && c->status == WR_OK) {
        c->cells[f->loop_pos + 1].i64 = 1 + (int64_t)((c->ncells - f->loop_pos) / WR_FUEL_CODE_CELLS);
        fuse_loop_header(c, f->loop_pos);
    }
    at_label(c); /* after what settle_results() emitted */
    /* An `if` without `else`: the false path passes its parameters through as results. */
    patch_chain(c, f->else_patch, c->ncells);
    patch_chain(c, f->patch, c->ncells);
    reset_stack(c, f->height, f->nresults);
    c->nframes--;
    c->unreachable = false;
    c->last_pos = -1;
    return false;
}

static void op_br_if(compiler *c, uint32_t l) {
    cframe *f = &c->frames[c->nframes - 1 - l];
    uint32_t n = label_arity(f);
    /* The values stay on the stack when the branch is not taken. */
    uint32_t below = c->height - 1;
    /* emit_return() of several values changes the stack model, which must
     * not happen on a path taken only sometimes: settle the values first. */
    if (f->kind == F_FUNC && n > 1)
        for (uint32_t i = below - n; i < below; i++)
            materialize(c, i);
    bool in_place = f->kind != F_FUNC && below - n == f->height;
    for (uint32_t i = below - n; in_place && i < below; i++)
        in_place = c->stack[i].kind == K_TEMP;
    if (in_place) {
        uint32_t cell = emit_cond_branch(c, true);
        if (f->kind == F_LOOP) {
            c->cells[cell].u64 = f->loop_pos;
            add_reloc(c, cell);
        } else {
            link_forward(c, cell, &f->patch);
        }
        return;
    }
    /* Otherwise: skip over the copies and the branch when the condition is false. */
    uint32_t skip = emit_cond_branch(c, false);
    emit_br(c, l);
    c->cells[skip].u64 = c->ncells;
    add_reloc(c, skip);
    c->last_pos = -1;
    at_label(c);
}

static void op_br_table(compiler *c) {
    uint32_t n;
    wr__read_u32(&c->r, &n);
    /* n + 1 labels: the product may not fit in a 32-bit host's size_t. */
    uint32_t *labels = NULL;
    if (((uint64_t)n + 1) * sizeof *labels <= SIZE_MAX)
        labels = malloc(((size_t)n + 1) * sizeof *labels);
    if (!labels) {
        c->status = WR_ERR_NOMEM;
        return;
    }
    for (uint32_t i = 0; i <= n; i++)
        wr__read_u32(&c->r, &labels[i]);

    uint32_t idx = operand(c, c->height - 1);
    pop_n(c, 1);
    /* Every target takes the same number of values: settle them in their
     * home slots once, so that the stubs below only move TEMPs and none of
     * them changes the stack model the others rely on. */
    uint32_t arity = label_arity(&c->frames[c->nframes - 1 - labels[n]]);
    for (uint32_t i = c->height - arity; i < c->height; i++)
        materialize(c, i);
    emit_op(c, WR__IOP_EXTRA + (idx == c->acc_slot ? WR__X_BR_TABLE_R : WR__X_BR_TABLE));
    emit_cell(c, idx);
    emit_cell(c, n);
    uint32_t first = c->ncells;
    for (uint32_t i = 0; i <= n; i++)
        emit_cell(c, 0);
    for (uint32_t i = 0; i <= n && c->status == WR_OK; i++) {
        cframe *f = &c->frames[c->nframes - 1 - labels[i]];
        uint32_t cell = first + i;
        if (f->kind != F_FUNC && top_in_place(c, label_arity(f), f->height)) {
            if (f->kind == F_LOOP) {
                c->cells[cell].u64 = f->loop_pos;
                add_reloc(c, cell);
            } else {
                link_forward(c, cell, &f->patch);
            }
        } else {
            /* A stub that moves the values, then branches. */
            c->cells[cell].u64 = c->ncells;
            add_reloc(c, cell);
            emit_br(c, labels[i]);
        }
    }
    free(labels);
}

static void op_call(compiler *c, const wr_functype *t, uint32_t iop, uint32_t imm1, uint32_t imm2) {
    bool indirect = iop == WR__IOP_EXTRA + WR__X_CALL_INDIRECT;
    uint32_t below = c->height - (indirect ? 1 : 0);
    uint32_t base = below - t->nparams;
    for (uint32_t i = base; i < below; i++)
        materialize(c, i);
    uint32_t elem = indirect ? operand(c, c->height - 1) : 0;
    emit_op(c, iop);
    emit_cell(c, imm1);
    if (indirect) {
        emit_cell(c, imm2);
        emit_cell(c, elem);
    }
    emit_cell(c, home(c, base));
    pop_n(c, c->height - base);
    for (uint32_t i = 0; i < t->nresults; i++)
        push_temp(c);
}

static void op_local_set(compiler *c, uint32_t x, bool tee) {
    centry top = c->stack[c->height - 1];
    if (top.kind == K_LOCAL && top.local == x) {
        /* local.get x; local.set x */
        if (!tee)
            pop_n(c, 1);
        return;
    }
    if (c->at_entry && c->known_zero[x] && top.kind == K_CONST && top.value == 0) {
        /* `i32.const 0; local.set x` on a declared local at entry: it is 0 already. */
        if (!tee)
            pop_n(c, 1);
        return;
    }
    c->known_zero[x] = false;
    bool last = top_is_last(c);
    uint32_t top_home = home(c, c->height - 1);
    pop_n(c, 1);
    if (last && c->local_refs[x] == 0) {
        /* Redirect the instruction that computed the value. */
        if (c->acc_slot == c->cells[c->last_pos + 1].u64)
            c->acc_slot = x;
        c->cells[c->last_pos + 1].u64 = x;
    } else {
        /* Entries still naming x read it before the write; the value's own
         * home is above them and is not touched by that. */
        detach_local(c, x);
        emit_entry_to(c, &top, top_home, x);
    }
    if (tee)
        push(c, K_LOCAL, x, 0);
    c->last_pos = -1;
}

/* Integer binary operations that have an immediate form (IMM variants in interp.c). */
static bool has_imm_form(uint32_t op) {
    return (op >= WR__OP_I32_EQ && op <= WR__OP_I32_GE_U) || (op >= WR__OP_I64_EQ && op <= WR__OP_I64_GE_U) ||
           (op >= WR__OP_I32_ADD && op <= WR__OP_I32_ROTR) || (op >= WR__OP_I64_ADD && op <= WR__OP_I64_ROTR);
}

/* The number of types in an opcode-table signature string ("", "i", "ii" or "iii"). */
static uint32_t sig_len(const char *sig) {
    uint32_t n = 0;
    while (sig[n])
        n++;
    return n;
}

/* The accumulator variant of f64 operation `op` reading the accumulator as
 * operand k (0 or 1), or 0 if there is none. */
/* i32 operations with variants reading the accumulator (not division: rare, and large). */
static bool has_acc_form(uint32_t op) {
    return op >= WR__OP_I32_ADD && op <= WR__OP_I32_ROTR && !(op >= WR__OP_I32_DIV_S && op <= WR__OP_I32_REM_U);
}

static uint32_t acc_variant(uint32_t op, uint32_t k) {
    switch (op) {
    case WR__OP_F64_ADD: return WR__IOP_EXTRA + (k ? WR__X_F64_ADD_RB : WR__X_F64_ADD_RA);
    case WR__OP_F64_SUB: return WR__IOP_EXTRA + (k ? WR__X_F64_SUB_RB : WR__X_F64_SUB_RA);
    case WR__OP_F64_MUL: return WR__IOP_EXTRA + (k ? WR__X_F64_MUL_RB : WR__X_F64_MUL_RA);
    case WR__OP_F64_DIV: return WR__IOP_EXTRA + (k ? WR__X_F64_DIV_RB : WR__X_F64_DIV_RA);
    case WR__OP_F64_SQRT: return k ? 0 : WR__IOP_EXTRA + WR__X_F64_SQRT_R;
    }
    if (has_acc_form(op))
        return k ? WR__IOP_RB(op) : WR__IOP_RA(op);
    return 0;
}

/* Whether operation `op` leaves its result in an accumulator (interp.c). */
static bool feeds_acc(uint32_t op) {
    switch (op) {
    case WR__OP_F64_ADD: case WR__OP_F64_SUB: case WR__OP_F64_MUL: case WR__OP_F64_DIV:
    case WR__OP_F64_SQRT: case WR__OP_F64_LOAD:
    case WR__OP_I32_LOAD: case WR__OP_I32_LOAD8_S: case WR__OP_I32_LOAD8_U:
    case WR__OP_I32_LOAD16_S: case WR__OP_I32_LOAD16_U:
        return true;
    }
    return (op >= WR__OP_I32_EQ && op <= WR__OP_I32_GE_U) || (op >= WR__OP_I32_ADD && op <= WR__OP_I32_ROTR);
}

/* The store of the i32 accumulator for i32 store `op` (ADDR form if addr), or 0. */
static uint32_t store_acc_variant(uint32_t op, bool addr) {
    switch (op) {
    case WR__OP_I32_STORE: return WR__IOP_EXTRA + (addr ? WR__X_I32_STORE_ADDR_R : WR__X_I32_STORE_R);
    case WR__OP_I32_STORE8: return WR__IOP_EXTRA + (addr ? WR__X_I32_STORE8_ADDR_R : WR__X_I32_STORE8_R);
    case WR__OP_I32_STORE16: return WR__IOP_EXTRA + (addr ? WR__X_I32_STORE16_ADDR_R : WR__X_I32_STORE16_R);
    }
    return 0;
}

/*
 * Pairs folded into one instruction: when `op` is about to be emitted and
 * one of its operands is the result of the instruction just before, of
 * operation `last`, in a stack temporary (which nothing else reads), that
 * instruction is taken back and `x` emitted instead: s_dst s_other, then
 * the `ncopy` operand cells of the one taken back.  x_ra is the variant
 * reading the other operand from the accumulator, if any.  See code.h for
 * what each computes.
 */
static const struct {
    uint16_t op;
    uint16_t x, x_ra;
    uint8_t ncopy;
    bool commutes;   /* the folded result may be op's a as well as its b */
    uint32_t last;
} folds[] = {
    /* f64 arithmetic with its operand loaded just before */
    {WR__OP_F64_ADD, WR__X_F64_ADD_LD, WR__X_F64_ADD_LD_RA, 2, true, WR__OP_F64_LOAD},
    {WR__OP_F64_SUB, WR__X_F64_SUB_LD, WR__X_F64_SUB_LD_RA, 2, false, WR__OP_F64_LOAD},
    {WR__OP_F64_MUL, WR__X_F64_MUL_LD, WR__X_F64_MUL_LD_RA, 2, true, WR__OP_F64_LOAD},
    {WR__OP_F64_ADD, WR__X_F64_ADD_LDA, WR__X_F64_ADD_LDA_RA, 3, true, WR__IOP_ADDR(WR__OP_F64_LOAD)},
    {WR__OP_F64_SUB, WR__X_F64_SUB_LDA, WR__X_F64_SUB_LDA_RA, 3, false, WR__IOP_ADDR(WR__OP_F64_LOAD)},
    {WR__OP_F64_MUL, WR__X_F64_MUL_LDA, WR__X_F64_MUL_LDA_RA, 3, true, WR__IOP_ADDR(WR__OP_F64_LOAD)},
    /* hash functions: xors of rotations and shifts; array indexing: base + (i << k) */
    {WR__OP_I32_XOR, WR__X_I32_XOR_ROTL, WR__X_I32_XOR_ROTL_RA, 2, true, WR__IOP_IMM(WR__OP_I32_ROTL)},
    {WR__OP_I32_XOR, WR__X_I32_XOR_SHR_U, WR__X_I32_XOR_SHR_U_RA, 2, true, WR__IOP_IMM(WR__OP_I32_SHR_U)},
    {WR__OP_I32_ADD, WR__X_I32_ADD_SHL, WR__X_I32_ADD_SHL_RA, 2, true, WR__IOP_IMM(WR__OP_I32_SHL)},
    /* multiply-add (the product's own a may be the accumulator) */
    {WR__OP_I32_ADD, WR__X_I32_MAD, 0, 2, true, WR__OP_I32_MUL},
    {WR__OP_I32_ADD, WR__X_I32_MAD_RA, 0, 2, true, WR__IOP_RA(WR__OP_I32_MUL)},
    /* (its b the accumulator: read from b's slot, which holds the same value) */
    {WR__OP_I32_ADD, WR__X_I32_MAD, 0, 2, true, WR__IOP_RB(WR__OP_I32_MUL)},
    {WR__OP_I32_ADD, WR__X_I32_MAD_IMM, 0, 2, true, WR__IOP_IMM(WR__OP_I32_MUL)},
};

/* Folds the instruction just before into binary operation op (folds[]); false, having changed nothing, if none applies. */
static bool fold_last(compiler *c, uint32_t op) {
    if (c->last_pos < 0 || c->status != WR_OK || c->height < 2)
        return false;
    uint32_t lpos = (uint32_t)c->last_pos;
    size_t f = 0, nfolds = sizeof folds / sizeof *folds;
    while (f < nfolds && (folds[f].op != op || c->cells[lpos].op != c->handlers[folds[f].last]))
        f++;
    if (f == nfolds)
        return false;
    uint32_t ldst = (uint32_t)c->cells[lpos + 1].u64;
    uint32_t top = c->height - 1;
    uint32_t other; /* the stack entry of the operand not folded */
    if (c->height == c->last_height && c->stack[top].kind == K_TEMP && home(c, top) == ldst)
        other = top - 1;
    else if (folds[f].commutes && c->height == c->last_height + 1 && c->stack[top - 1].kind == K_TEMP &&
             home(c, top - 1) == ldst)
        other = top;
    else
        return false;
    /* It must be readable where it is: nothing may be emitted after the folded instruction. */
    const centry *e = &c->stack[other];
    uint32_t s;
    if (e->kind == K_TEMP)
        s = home(c, other);
    else if (e->kind == K_LOCAL)
        s = e->local;
    else if (e->kind != K_CONST || (s = pool_slot(c, e->value)) == UINT32_MAX)
        return false;
    uint64_t copy[3];
    for (uint32_t i = 0; i < folds[f].ncopy; i++)
        copy[i] = c->cells[lpos + 2 + i].u64;
    /* The accumulator as it was before the folded instruction. */
    bool ra = folds[f].x_ra && s == c->prev_acc_slot;
    c->ncells = lpos;
    pop_n(c, 2);
    uint32_t dst = push_temp(c);
    uint32_t pos = emit_op(c, WR__IOP_EXTRA + (ra ? folds[f].x_ra : folds[f].x));
    emit_cell(c, dst);
    emit_cell(c, s);
    for (uint32_t i = 0; i < folds[f].ncopy; i++)
        emit_cell(c, copy[i]);
    mark_last(c, pos, op);
    c->acc_slot = dst; /* every folded operation feeds its accumulator */
    c->acc_loaded = false;
    return true;
}

/* The operations with a constant that an i32.and of a constant just after folds into (I32_*_AND in interp.c). */
static const struct {
    uint32_t last;
    uint16_t x;
} and_folds[] = {
    {WR__IOP_IMM(WR__OP_I32_SHR_U), WR__X_I32_SHR_U_AND},
    {WR__IOP_IMM_R(WR__OP_I32_SHR_U), WR__X_I32_SHR_U_AND_R},
    {WR__IOP_IMM(WR__OP_I32_ADD), WR__X_I32_ADD_AND},
    {WR__IOP_IMM_R(WR__OP_I32_ADD), WR__X_I32_ADD_AND_R},
};

/*
 * (x >> k) & m, (x + k) & m (a bit field; a byte's arithmetic), the i32.and
 * of a constant on the stack's top: one instruction, the shift or sum either
 * not computed yet (a deferred local + constant) or just computed into a
 * temporary.  False, having changed nothing, when neither.
 */
static bool fold_and(compiler *c) {
    const centry *e = &c->stack[c->height - 2];
    uint32_t x = 0;
    uint64_t a = 0, k = 0;
    if (c->status != WR_OK)
        return false;
    if (e->kind == K_LOCAL_ADD) {
        x = e->local == c->acc_slot ? WR__X_I32_ADD_AND_R : WR__X_I32_ADD_AND;
        a = e->local;
        k = e->value;
    } else if (e->kind == K_TEMP && c->last_pos >= 0 && c->height == c->last_height + 1 &&
               home(c, c->height - 2) == c->cells[c->last_pos + 1].u64) {
        uint32_t lpos = (uint32_t)c->last_pos;
        for (size_t i = 0; i < sizeof and_folds / sizeof *and_folds; i++)
            if (c->cells[lpos].op == c->handlers[and_folds[i].last])
                x = and_folds[i].x;
        a = c->cells[lpos + 2].u64;
        k = c->cells[lpos + 3].u64;
        if (x)
            c->ncells = lpos;
    }
    if (!x)
        return false;
    uint64_t m = c->stack[c->height - 1].value;
    pop_n(c, 2);
    uint32_t dst = push_temp(c);
    uint32_t pos = emit_op(c, WR__IOP_EXTRA + x);
    emit_cell(c, dst);
    emit_cell(c, a);
    emit_cell(c, k);
    emit_cell(c, m);
    mark_last(c, pos, WR__IOP_IMM(WR__OP_I32_AND));
    c->acc_slot = dst;
    c->acc_loaded = false;
    return true;
}

/*
 * A load whose address is the sum the last instruction computed into the
 * top: that i32.add (with a constant, or of a shifted value) and the load
 * become one instruction.  A slot plus a constant is the load's ADDR form;
 * the others are the _IX, _K_R and _SHL loads of code.h, for i32 loads of 4
 * bytes, or 1 or 2 zero-extended (the SHL ones not of 1).  The sum went to a
 * temporary that only this load reads, so it is not stored.  False, having
 * changed nothing, when not so.
 */
static bool fold_load_sum(compiler *c, uint32_t op, uint32_t offset) {
    if (c->status != WR_OK || !top_is_last(c))
        return false;
    uint32_t k = op == WR__OP_I32_LOAD ? 0 : op == WR__OP_I32_LOAD8_U ? 1 : op == WR__OP_I32_LOAD16_U ? 2 : 3;
    uint32_t lpos = (uint32_t)c->last_pos;
    const wr__cell *l = &c->cells[lpos];
    uint64_t a = 0, b, sh = 0;
    uint32_t iop, n = 5;
    if (l->op == c->handlers[WR__IOP_IMM(WR__OP_I32_ADD)])
        iop = WR__IOP_ADDR(op), a = l[2].u64, b = l[3].u64;
    else if (k == 3)
        return false;
    else if (l->op == c->handlers[WR__OP_I32_ADD])
        iop = WR__IOP_EXTRA + WR__X_I32_LOAD_IX + k, a = l[2].u64, b = l[3].u64;
    else if (l->op == c->handlers[WR__IOP_RA(WR__OP_I32_ADD)])
        iop = WR__IOP_EXTRA + WR__X_I32_LOAD_IX_R + k, b = l[3].u64;
    else if (l->op == c->handlers[WR__IOP_RB(WR__OP_I32_ADD)])
        iop = WR__IOP_EXTRA + WR__X_I32_LOAD_IX_R + k, b = l[2].u64; /* a + iacc: the sum commutes */
    else if (l->op == c->handlers[WR__IOP_IMM_R(WR__OP_I32_ADD)])
        iop = WR__IOP_EXTRA + WR__X_I32_LOAD_K_R + k, b = l[3].u64;
    else if (k != 1 && l->op == c->handlers[WR__IOP_EXTRA + WR__X_I32_ADD_SHL])
        iop = WR__IOP_EXTRA + WR__X_I32_LOAD_SHL + k / 2, a = l[2].u64, b = l[3].u64, sh = l[4].u64, n = 6;
    else if (k != 1 && l->op == c->handlers[WR__IOP_EXTRA + WR__X_I32_ADD_SHL_RA])
        iop = WR__IOP_EXTRA + WR__X_I32_LOAD_SHL_R + k / 2, b = l[3].u64, sh = l[4].u64, n = 6;
    else
        return false;
    c->ncells = lpos;
    c->acc_slot = c->prev_acc_slot; /* what iacc holds again, the sum gone */
    c->op_pos = -1;
    pop_n(c, 1);
    uint32_t dst = push_temp(c);
    uint32_t pos = emit_op(c, iop);
    emit_cell(c, dst);
    emit_cell(c, a);
    emit_cell(c, b);
    if (n == 6)
        emit_cell(c, sh);
    emit_cell(c, offset);
    mark_last(c, pos, iop);
    if (feeds_acc(op)) {
        c->acc_slot = dst;
        c->acc_loaded = true;
    }
    return true;
}

/*
 * An i32.store of the sum of a constant that the last instruction computed
 * into the top (a count or a pointer moved on and put back): the i32.add
 * folds into the store (I32_STORE_ADD_IMM, _R when a is iacc).  The sum went
 * to a temporary that only this store reads.  False, having changed nothing
 * but perhaps put the address in a slot, when not so.
 */
static bool fold_store_sum(compiler *c, uint32_t offset) {
    if (c->status != WR_OK || !top_is_last(c))
        return false;
    uint32_t a = operand(c, c->height - 2);
    if (!top_is_last(c)) /* putting the address in a slot took an instruction */
        return false;
    uint32_t lpos = (uint32_t)c->last_pos;
    const wr__cell *l = &c->cells[lpos];
    uint32_t x;
    if (l->op == c->handlers[WR__IOP_IMM(WR__OP_I32_ADD)])
        x = WR__X_I32_STORE_ADD_IMM;
    else if (l->op == c->handlers[WR__IOP_IMM_R(WR__OP_I32_ADD)])
        x = WR__X_I32_STORE_ADD_IMM_R;
    else
        return false;
    /* `*p += k`, loaded from the same place just before: one I32_ADD_TO_IMM
     * (in op_simple) does better. */
    int64_t lp = c->prev_op_pos;
    if (x == WR__X_I32_STORE_ADD_IMM_R && lp >= 0 && (uint64_t)lp + 4 == lpos &&
        c->cells[lp].op == c->handlers[WR__OP_I32_LOAD] && c->cells[lp + 2].u64 == a && c->cells[lp + 3].u64 == offset)
        return false;
    uint64_t src = l[2].u64, k = l[3].u64;
    c->ncells = lpos;
    c->acc_slot = c->prev_acc_slot; /* what iacc holds again, the sum gone */
    c->op_pos = -1;
    pop_n(c, 2);
    emit_op(c, WR__IOP_EXTRA + x);
    emit_cell(c, a);
    emit_cell(c, src);
    emit_cell(c, k);
    emit_cell(c, offset);
    return true;
}

/* An instruction typed by the opcode table: numeric, conversions, loads and stores. */
static void op_simple(compiler *c, uint32_t op, const struct wr__opinfo *info) {
    uint32_t np = sig_len(info->params);
    uint32_t nr = sig_len(info->results);
    if (info->imm == WR_IMM_MEMARG) {
        uint32_t align, offset;
        wr__read_u32(&c->r, &align);
        wr__read_u32(&c->r, &offset);
        centry *addr = &c->stack[c->height - 1 - (nr ? 0 : 1)];
        if (addr->kind == K_LOCAL_ADD) {
            /* Fused address: load op dst base addend offset / store op base addend value offset. */
            uint32_t base = addr->local;
            uint64_t addend = addr->value;
            uint32_t v = nr ? 0 : operand(c, c->height - 1);
            pop_n(c, nr ? 1 : 2);
            uint32_t dst = nr ? push_temp(c) : 0;
            uint32_t iop = WR__IOP_ADDR(op);
            if (op == WR__OP_F64_STORE && v == c->acc_slot && !c->acc_loaded)
                iop = WR__IOP_EXTRA + WR__X_F64_STORE_ADDR_R;
            else if (!nr && v == c->acc_slot && store_acc_variant(op, true))
                iop = store_acc_variant(op, true);
            uint32_t pos = emit_op(c, iop);
            if (nr)
                emit_cell(c, dst);
            emit_cell(c, base);
            emit_cell(c, addend);
            if (!nr)
                emit_cell(c, v);
            emit_cell(c, offset);
            if (nr)
                mark_last(c, pos, WR__IOP_ADDR(op));
            if (feeds_acc(op)) {
                c->acc_slot = dst;
                c->acc_loaded = true;
            }
            return;
        }
        if (nr && fold_load_sum(c, op, offset))
            return;
        if (nr) { /* load: op dst addr offset */
            uint32_t a = operand(c, c->height - 1);
            pop_n(c, 1);
            uint32_t dst = push_temp(c);
            uint32_t pos = emit_op(c, a == c->acc_slot ? WR__IOP_LOAD_R(op) : op);
            emit_cell(c, dst);
            emit_cell(c, a);
            emit_cell(c, offset);
            mark_last(c, pos, op);
            if (feeds_acc(op)) {
                c->acc_slot = dst;
                c->acc_loaded = true;
            }
        } else { /* store: op addr value offset */
            if (op == WR__OP_I32_STORE && fold_store_sum(c, offset))
                return;
            uint32_t a = operand(c, c->height - 2);
            uint32_t v = operand(c, c->height - 1);
            pop_n(c, 2);
            /* `*p += x` on f64: the sum just computed from the same place goes back there. */
            if (op == WR__OP_F64_STORE && c->last_pos >= 0 && v == c->acc_slot && c->status == WR_OK) {
                uint32_t lpos = (uint32_t)c->last_pos;
                if (c->cells[lpos].op == c->handlers[WR__IOP_EXTRA + WR__X_F64_ADD_LD_RA] &&
                    c->cells[lpos + 1].u64 == v && c->cells[lpos + 3].u64 == a && c->cells[lpos + 4].u64 == offset) {
                    c->ncells = lpos;
                    emit_op(c, WR__IOP_EXTRA + WR__X_F64_ADD_TO_RA);
                    emit_cell(c, a);
                    emit_cell(c, offset);
                    return;
                }
            }
            /* `*p += k` on i32, a counter in memory: the load, the addition of
             * the constant and this store, their results in temporaries that
             * nothing else reads, become one I32_ADD_TO_IMM. */
            if (op == WR__OP_I32_STORE && c->prev_op_pos >= 0 && c->op_pos == c->prev_op_pos + 4 &&
                c->op_pos + 4 == c->ncells && v == c->acc_slot && c->status == WR_OK) {
                const wr__cell *ld = &c->cells[c->prev_op_pos], *add = &c->cells[c->op_pos];
                if (ld[0].op == c->handlers[WR__OP_I32_LOAD] && add[0].op == c->handlers[WR__IOP_IMM_R(WR__OP_I32_ADD)] &&
                    ld[2].u64 == a && ld[3].u64 == offset && add[1].u64 == v && add[2].u64 == ld[1].u64 &&
                    ld[1].u64 >= c->nbase && ld[1].u64 != a && v >= c->nbase) {
                    uint64_t k = add[3].u64;
                    c->ncells = (uint32_t)c->prev_op_pos;
                    emit_op(c, WR__IOP_EXTRA + WR__X_I32_ADD_TO_IMM);
                    emit_cell(c, a);
                    emit_cell(c, k);
                    emit_cell(c, offset);
                    return;
                }
            }
            /* Not straight after a load: see L_F64_LOAD in interp.c. */
            if (op == WR__OP_F64_STORE && v == c->acc_slot && !c->acc_loaded)
                emit_op(c, WR__IOP_EXTRA + WR__X_F64_STORE_R);
            else if (v == c->acc_slot && store_acc_variant(op, false))
                emit_op(c, store_acc_variant(op, false));
            else
                emit_op(c, op);
            emit_cell(c, a);
            emit_cell(c, v);
            emit_cell(c, offset);
        }
        return;
    }
    if (op == WR__OP_MEMORY_SIZE || op == WR__OP_MEMORY_GROW) {
        uint8_t zero;
        wr__read_u8(&c->r, &zero);
    }
    if ((op == WR__OP_I32_ADD || op == WR__OP_I32_SUB) && c->stack[c->height - 1].kind == K_CONST &&
        c->stack[c->height - 2].kind == K_LOCAL) {
        /* Kept uncomputed: a load or store may use it as its address. */
        uint32_t x = c->stack[c->height - 2].local;
        uint32_t k = (uint32_t)c->stack[c->height - 1].value;
        pop_n(c, 2);
        push(c, K_LOCAL_ADD, x, op == WR__OP_I32_ADD ? k : (uint32_t)-k);
        return;
    }
    if (op == WR__OP_I32_AND && c->stack[c->height - 1].kind == K_CONST && fold_and(c))
        return;
    if (np == 2 && nr == 1 && has_imm_form(op) && c->stack[c->height - 1].kind == K_CONST) {
        uint64_t imm = c->stack[c->height - 1].value;
        uint32_t a = operand(c, c->height - 2);
        pop_n(c, 2);
        uint32_t dst = push_temp(c);
        bool a_acc = a == c->acc_slot;
        bool has_r = has_acc_form(op);
        uint32_t pos = emit_op(c, a_acc && has_r ? WR__IOP_IMM_R(op) : WR__IOP_IMM(op));
        emit_cell(c, dst);
        emit_cell(c, a);
        emit_cell(c, imm);
        mark_last(c, pos, WR__IOP_IMM(op));
        c->last_a_acc = a_acc;
        if (feeds_acc(op)) {
            c->acc_slot = dst;
            c->acc_loaded = false;
        }
        return;
    }
    if (np == 2 && fold_last(c, op))
        return;
    uint32_t src[3] = {0, 0, 0};
    for (uint32_t i = 0; i < np; i++)
        src[i] = operand(c, c->height - np + i);
    pop_n(c, np);
    uint32_t dst = nr ? push_temp(c) : 0;
    uint32_t iop = op;
    for (uint32_t i = 0; i < np && iop == op && c->acc_slot != NO_ACC; i++)
        if (src[i] == c->acc_slot && acc_variant(op, i))
            iop = acc_variant(op, i);
    bool a_acc = np && src[0] == c->acc_slot;
    uint32_t pos = emit_op(c, iop);
    if (nr)
        emit_cell(c, dst);
    for (uint32_t i = 0; i < np; i++)
        emit_cell(c, src[i]);
    if (nr)
        mark_last(c, pos, op);
    c->last_a_acc = a_acc;
    if (feeds_acc(op)) {
        c->acc_slot = dst;
        c->acc_loaded = false;
    }
}

/*
 * Emits `iop`, its immediates, then n operands popped from the stack.
 * Operands are resolved first: resolving may materialize a constant, which
 * emits an instruction, and that must not land inside this one.
 */
static void emit_with_operands(compiler *c, uint32_t iop, const uint64_t *imms, uint32_t nimm, uint32_t n) {
    uint32_t src[3];
    for (uint32_t i = 0; i < n; i++)
        src[i] = operand(c, c->height - n + i);
    pop_n(c, n);
    emit_op(c, iop);
    for (uint32_t i = 0; i < nimm; i++)
        emit_cell(c, imms[i]);
    for (uint32_t i = 0; i < n; i++)
        emit_cell(c, src[i]);
}

/* Skips an instruction's immediates in dead code. */
static void skip_imm(compiler *c, uint32_t op) {
    uint32_t u;
    int64_t s;
    uint8_t b;
    switch (wr__opinfo[op].imm) {
    case WR_IMM_BLOCKTYPE: wr__read_s33(&c->r, &s); break;
    case WR_IMM_BR_TABLE:
        wr__read_u32(&c->r, &u);
        for (uint64_t i = 0; i <= u; i++) {
            uint32_t t;
            if (wr__read_u32(&c->r, &t) != WR_OK)
                break;
        }
        break;
    case WR_IMM_LABEL: case WR_IMM_FUNC: case WR_IMM_LOCAL: case WR_IMM_GLOBAL:
    case WR_IMM_TABLE: case WR_IMM_DATA: case WR_IMM_ELEM:
        wr__read_u32(&c->r, &u);
        break;
    case WR_IMM_CALL_INDIRECT: case WR_IMM_MEMARG: case WR_IMM_TABLE_INIT: case WR_IMM_TABLE_COPY:
        wr__read_u32(&c->r, &u);
        wr__read_u32(&c->r, &u);
        break;
    case WR_IMM_REFTYPE: case WR_IMM_MEMIDX: wr__read_u8(&c->r, &b); break;
    case WR_IMM_MEMORY_INIT: wr__read_u32(&c->r, &u); wr__read_u8(&c->r, &b); break;
    case WR_IMM_MEMORY_COPY: wr__read_u8(&c->r, &b); wr__read_u8(&c->r, &b); break;
    case WR_IMM_SELECT_T:
        wr__read_u32(&c->r, &u);
        for (uint32_t i = 0; i < u; i++)
            wr__read_u8(&c->r, &b);
        break;
    case WR_IMM_I32: { int32_t v; wr__read_s32(&c->r, &v); break; }
    case WR_IMM_I64: wr__read_s64(&c->r, &s); break;
    case WR_IMM_F32: { const uint8_t *p; wr__read_bytes(&c->r, 4, &p); break; }
    case WR_IMM_F64: { const uint8_t *p; wr__read_bytes(&c->r, 8, &p); break; }
    default: break;
    }
}

/* Dead code after br/return/unreachable is not translated, only walked to the matching else/end. */
static bool dead_code_step(compiler *c, uint32_t op) {
    if (op == WR__OP_BLOCK || op == WR__OP_LOOP || op == WR__OP_IF) {
        c->skip_depth++;
    } else if (op == WR__OP_END || op == WR__OP_ELSE) {
        if (c->skip_depth == 0)
            return false; /* handled by the caller */
        if (op == WR__OP_END)
            c->skip_depth--;
        return true;
    }
    skip_imm(c, op);
    return true;
}

static wr_status compile_body(compiler *c) {
    uint32_t u, v;
    for (;;) {
        if (c->status != WR_OK)
            return c->status;
        uint32_t op;
        if (wr__read_opcode(&c->r, &op) != WR_OK)
            return WR_ERR_SECTION_END;
        if (c->unreachable && dead_code_step(c, op))
            continue;
        const struct wr__opinfo *info = &wr__opinfo[op];
        switch (op) {
        case WR__OP_UNREACHABLE:
            emit_op(c, op);
            c->unreachable = true;
            break;
        case WR__OP_NOP:
            break;
        case WR__OP_BLOCK: case WR__OP_LOOP: case WR__OP_IF:
            op_block(c, op);
            break;
        case WR__OP_ELSE:
            op_else(c);
            break;
        case WR__OP_END:
            if (op_end(c))
                return c->status;
            break;
        case WR__OP_BR:
            wr__read_u32(&c->r, &u);
            emit_br(c, u);
            c->unreachable = true;
            break;
        case WR__OP_BR_IF:
            wr__read_u32(&c->r, &u);
            op_br_if(c, u);
            break;
        case WR__OP_BR_TABLE:
            op_br_table(c);
            c->unreachable = true;
            break;
        case WR__OP_RETURN:
            emit_return(c);
            c->unreachable = true;
            break;
        case WR__OP_CALL:
            wr__read_u32(&c->r, &u);
            op_call(c, &c->m->types[c->m->funcs[u].type_index], WR__IOP_EXTRA + WR__X_CALL, u, 0);
            break;
        case WR__OP_CALL_INDIRECT:
            wr__read_u32(&c->r, &u);
            wr__read_u32(&c->r, &v);
            op_call(c, &c->m->types[u], WR__IOP_EXTRA + WR__X_CALL_INDIRECT, u, v);
            break;
        case WR__OP_DROP:
            pop_n(c, 1);
            break;
        case WR__OP_SELECT: case WR__OP_SELECT_T: {
            skip_imm(c, op);
            uint32_t a = operand(c, c->height - 3);
            uint32_t b = operand(c, c->height - 2);
            uint32_t cond = operand(c, c->height - 1);
            pop_n(c, 3);
            uint32_t dst = push_temp(c);
            uint32_t pos = emit_op(c, WR__IOP_EXTRA + WR__X_SELECT);
            emit_cell(c, dst);
            emit_cell(c, a);
            emit_cell(c, b);
            emit_cell(c, cond);
            mark_last(c, pos, WR__IOP_EXTRA + WR__X_SELECT);
            break;
        }
        case WR__OP_LOCAL_GET:
            wr__read_u32(&c->r, &u);
            push(c, K_LOCAL, u, 0);
            break;
        case WR__OP_LOCAL_SET: case WR__OP_LOCAL_TEE:
            wr__read_u32(&c->r, &u);
            op_local_set(c, u, op == WR__OP_LOCAL_TEE);
            break;
        case WR__OP_GLOBAL_GET: {
            wr__read_u32(&c->r, &u);
            uint32_t dst = push_temp(c);
            uint32_t pos = emit_op(c, WR__IOP_EXTRA + WR__X_GLOBAL_GET);
            emit_cell(c, dst);
            emit_cell(c, u);
            mark_last(c, pos, WR__IOP_EXTRA + WR__X_GLOBAL_GET);
            break;
        }
        case WR__OP_GLOBAL_SET: {
            wr__read_u32(&c->r, &u);
            uint32_t s = operand(c, c->height - 1);
            pop_n(c, 1);
            emit_op(c, WR__IOP_EXTRA + WR__X_GLOBAL_SET);
            emit_cell(c, s);
            emit_cell(c, u);
            break;
        }
        case WR__OP_I32_CONST: {
            int32_t x;
            wr__read_s32(&c->r, &x);
            push(c, K_CONST, 0, (uint32_t)x);
            break;
        }
        case WR__OP_I64_CONST: {
            int64_t x;
            wr__read_s64(&c->r, &x);
            push(c, K_CONST, 0, (uint64_t)x);
            break;
        }
        case WR__OP_F32_CONST: {
            const uint8_t *p;
            uint32_t bits;
            wr__read_bytes(&c->r, 4, &p);
            memcpy(&bits, p, 4);
            push(c, K_CONST, 0, bits);
            break;
        }
        case WR__OP_F64_CONST: {
            const uint8_t *p;
            uint64_t bits;
            wr__read_bytes(&c->r, 8, &p);
            memcpy(&bits, p, 8);
            push(c, K_CONST, 0, bits);
            break;
        }
        case WR__OP_REF_NULL: {
            uint8_t t;
            wr__read_u8(&c->r, &t);
            push(c, K_CONST, 0, 0);
            break;
        }
        case WR__OP_REF_IS_NULL: {
            uint32_t s = operand(c, c->height - 1);
            pop_n(c, 1);
            uint32_t dst = push_temp(c);
            uint32_t pos = emit_op(c, WR__IOP_EXTRA + WR__X_REF_IS_NULL);
            emit_cell(c, dst);
            emit_cell(c, s);
            mark_last(c, pos, WR__IOP_EXTRA + WR__X_REF_IS_NULL);
            break;
        }
        case WR__OP_REF_FUNC: {
            wr__read_u32(&c->r, &u);
            uint32_t dst = push_temp(c);
            emit_op(c, WR__IOP_EXTRA + WR__X_REF_FUNC);
            emit_cell(c, dst);
            emit_cell(c, u);
            break;
        }
        case WR__OP_TABLE_GET: {
            wr__read_u32(&c->r, &u);
            uint32_t i = operand(c, c->height - 1);
            pop_n(c, 1);
            uint32_t dst = push_temp(c);
            emit_op(c, op);
            emit_cell(c, u);
            emit_cell(c, dst);
            emit_cell(c, i);
            break;
        }
        case WR__OP_TABLE_SET: case WR__OP_TABLE_FILL: {
            wr__read_u32(&c->r, &u);
            uint64_t imm = u;
            emit_with_operands(c, op, &imm, 1, op == WR__OP_TABLE_SET ? 2 : 3);
            break;
        }
        case WR__OP_TABLE_SIZE: {
            wr__read_u32(&c->r, &u);
            uint32_t dst = push_temp(c);
            emit_op(c, op);
            emit_cell(c, u);
            emit_cell(c, dst);
            break;
        }
        case WR__OP_TABLE_GROW: {
            wr__read_u32(&c->r, &u);
            uint32_t init = operand(c, c->height - 2);
            uint32_t n = operand(c, c->height - 1);
            pop_n(c, 2);
            uint32_t dst = push_temp(c);
            emit_op(c, op);
            emit_cell(c, u);
            emit_cell(c, dst);
            emit_cell(c, init);
            emit_cell(c, n);
            break;
        }
        case WR__OP_MEMORY_INIT: {
            uint8_t zero;
            wr__read_u32(&c->r, &u);
            wr__read_u8(&c->r, &zero);
            uint64_t imm = u;
            emit_with_operands(c, op, &imm, 1, 3);
            break;
        }
        case WR__OP_DATA_DROP: case WR__OP_ELEM_DROP:
            wr__read_u32(&c->r, &u);
            emit_op(c, op);
            emit_cell(c, u);
            break;
        case WR__OP_MEMORY_COPY: case WR__OP_MEMORY_FILL:
            skip_imm(c, op);
            emit_with_operands(c, op, NULL, 0, 3);
            break;
        case WR__OP_TABLE_INIT: case WR__OP_TABLE_COPY: {
            wr__read_u32(&c->r, &u);
            wr__read_u32(&c->r, &v);
            uint64_t imms[2] = {u, v};
            emit_with_operands(c, op, imms, 2, 3);
            break;
        }
        default:
            op_simple(c, op, info);
            break;
        }
    }
}

/*
 * Pre-pass over the body: the constants worth a frame slot.  Floats have no
 * immediate forms, and constants stored to memory need a slot too; integer
 * constants elsewhere mostly become immediates.
 */
static void collect_pool(compiler *c) {
    wr__reader saved = c->r;
    uint32_t op;
    while (c->npool < WR_MAX_CONST_POOL && c->r.p < c->r.end && wr__read_opcode(&c->r, &op) == WR_OK) {
        uint64_t v;
        bool take;
        if (op == WR__OP_F32_CONST || op == WR__OP_F64_CONST) {
            const uint8_t *p;
            uint32_t n = op == WR__OP_F32_CONST ? 4 : 8;
            if (wr__read_bytes(&c->r, n, &p) != WR_OK)
                break;
            v = 0;
            memcpy(&v, p, n);
            take = true;
        } else if (op == WR__OP_I32_CONST || op == WR__OP_I64_CONST) {
            int64_t x;
            if (op == WR__OP_I32_CONST) {
                int32_t y;
                wr__read_s32(&c->r, &y);
                v = (uint32_t)y;
            } else {
                wr__read_s64(&c->r, &x);
                v = (uint64_t)x;
            }
            take = c->r.p < c->r.end && *c->r.p >= WR__OP_I32_STORE && *c->r.p <= WR__OP_I64_STORE32;
        } else {
            skip_imm(c, op);
            continue;
        }
        if (take && pool_slot(c, v) == UINT32_MAX)
            c->pool[c->npool++] = v;
    }
    c->r = saved;
}

static wr_status compile_func(wr_module *m, uint32_t fi, const void *const *handlers, wr_error *err) {
    wr__funcdef *fd = &m->funcs[fi];
    compiler c = {0};
    c.m = m;
    c.type = &m->types[fd->type_index];
    c.handlers = handlers;
    c.status = WR_OK;
    c.last_pos = -1;
    c.acc_slot = NO_ACC;
    c.join_pos = -1;
    c.op_pos = c.prev_op_pos = -1;
    c.nlocals = c.type->nparams + fd->nlocals;
    c.r.start = m->bytes;
    c.r.p = m->bytes + fd->code_offset;
    c.r.end = m->bytes + fd->body_offset + fd->body_size;
    c.local_refs = calloc(c.nlocals ? c.nlocals : 1, sizeof *c.local_refs);
    c.known_zero = calloc(c.nlocals ? c.nlocals : 1, sizeof *c.known_zero);
    wr__code *code = calloc(1, sizeof *code);
    if (!c.local_refs || !c.known_zero || !code) {
        c.status = WR_ERR_NOMEM;
        goto out;
    }
    for (uint32_t i = c.type->nparams; i < c.nlocals; i++)
        c.known_zero[i] = true;
    c.at_entry = true;
    collect_pool(&c);
    c.nbase = c.nlocals + c.npool;
    code->ninit = c.nbase - c.type->nparams;
    code->frame_init = calloc(code->ninit ? code->ninit : 1, sizeof *code->frame_init);
    if (!code->frame_init) {
        c.status = WR_ERR_NOMEM;
        goto out;
    }
    memcpy(code->frame_init + fd->nlocals, c.pool, c.npool * sizeof *c.pool);
    push_frame(&c, F_FUNC, 0, c.type->nresults);
    wr_status s = compile_body(&c);
    if (s != WR_OK) {
        c.status = s;
        goto out;
    }
    /* Branch targets become pointers once the array has its final place. */
    wr__cell *cells = realloc(c.cells, (size_t)(c.ncells ? c.ncells : 1) * sizeof *cells);
    if (!cells) {
        c.status = WR_ERR_NOMEM;
        goto out;
    }
    c.cells = cells;
    for (uint32_t i = 0; i < c.nrelocs; i++) {
        wr__cell *cell = &cells[c.relocs[i]];
        cell->target = cells + cell->u64;
    }
    code->cells = cells;
    code->ncells = c.ncells;
    code->nparams = c.type->nparams;
    code->nresults = c.type->nresults;
    code->nlocals = c.nlocals;
    code->frame_slots = c.nbase + c.max_height;
    code->entry_fuel = 1 + (int64_t)(c.ncells / WR_FUEL_CODE_CELLS);
    if (code->frame_slots < code->nresults)
        code->frame_slots = code->nresults;
    fd->code = code;
    c.cells = NULL;
    code = NULL;
out:
    if (code)
        free(code->frame_init);
    free(code);
    free(c.cells);
    free(c.relocs);
    free(c.stack);
    free(c.frames);
    free(c.local_refs);
    free(c.known_zero);
    if (c.status != WR_OK)
        return wr__error(err, c.status, fd->code_offset, "translating function %u", fi);
    return WR_OK;
}

wr_status wr__compile(wr_module *m, wr_error *err) {
    const void *const *handlers = wr__interp_handlers();
    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        wr_status s = compile_func(m, i, handlers, err);
        if (s != WR_OK)
            return s;
    }
    return WR_OK;
}
