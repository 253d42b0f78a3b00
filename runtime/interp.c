/*
 * interp.c - the interpreter and the execution API (wr_exec_*, wr_call, wr_resume).
 *
 * Internal code (see code.h and compile.c) is run with threaded dispatch:
 * every instruction begins with the address of its handler, and each handler
 * ends by jumping straight to the next instruction's handler.  Operands are
 * frame slots, so `local.get a; local.get b; i32.add; local.set c` runs as
 * a single `i32.add c, a, b`.
 *
 * WebAssembly calls do not recurse in C: a call pushes a wr__frame on the
 * exec's own call stack and jumps to the callee's code.  This is what lets a
 * call chain stop (a host function suspends, fuel runs out) and resume later
 * from the saved pc/fp, and what turns deep recursion into a clean
 * "call stack exhausted" trap at a configured depth.
 *
 * Registers kept in C locals while running: pc, fp, the current instance,
 * the base and size of its first memory, the fuel counter and the call
 * depth.  They are written back to the wr_exec whenever execution leaves
 * this function.  Two more, the i32 and f64 accumulators (see facc below),
 * only ever carry a value from one instruction to the next, so they are not.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "code.h"

#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the interpreter assumes a little-endian host (memory is accessed in place)"
#endif

/* ---- Float helpers with WebAssembly's NaN and signed-zero rules -------- */

static inline float f32_of(uint64_t v) { float f; uint32_t b = (uint32_t)v; memcpy(&f, &b, 4); return f; }
static inline double f64_of(uint64_t v) { double d; memcpy(&d, &v, 8); return d; }
static inline uint64_t bits_f32(float f) { uint32_t b; memcpy(&b, &f, 4); return b; }
static inline uint64_t bits_f64(double d) { uint64_t b; memcpy(&b, &d, 8); return b; }

/* x + x turns a signalling NaN into a quiet one, as the spec requires of arithmetic. */
static inline float f32_min(float a, float b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline float f32_max(float a, float b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline double f64_min(double a, double b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? a : b;
    return a < b ? a : b;
}
static inline double f64_max(double a, double b) {
    if (isnan(a) || isnan(b)) return a + b;
    if (a == 0 && b == 0) return signbit(a) ? b : a;
    return a > b ? a : b;
}
static inline float f32_round(float x, int mode) {
    if (isnan(x)) return x + x;
    switch (mode) {
    case 0: return ceilf(x);
    case 1: return floorf(x);
    case 2: return truncf(x);
    default: return rintf(x); /* round to nearest, ties to even (the default mode) */
    }
}
static inline double f64_round(double x, int mode) {
    if (isnan(x)) return x + x;
    switch (mode) {
    case 0: return ceil(x);
    case 1: return floor(x);
    case 2: return trunc(x);
    default: return rint(x);
    }
}

/* Saturating truncations (the trapping ones check range first and share these). */
static inline uint32_t sat_i32(double x) {
    if (isnan(x)) return 0;
    if (x <= -2147483649.0) return 0x80000000u;
    if (x >= 2147483648.0) return 0x7fffffffu;
    return (uint32_t)(int32_t)x;
}
static inline uint32_t sat_u32(double x) {
    if (isnan(x) || x <= -1.0) return 0;
    if (x >= 4294967296.0) return 0xffffffffu;
    return (uint32_t)x;
}
static inline uint64_t sat_i64(double x) {
    if (isnan(x)) return 0;
    if (x < -9223372036854775808.0) return 0x8000000000000000ull;
    if (x >= 9223372036854775808.0) return 0x7fffffffffffffffull;
    return (uint64_t)(int64_t)x;
}
static inline uint64_t sat_u64(double x) {
    if (isnan(x) || x <= -1.0) return 0;
    if (x >= 18446744073709551616.0) return 0xffffffffffffffffull;
    return (uint64_t)x;
}

/* 0 if x converts to the integer type without trapping, else the trap. */
static inline wr_status trunc_check(double x, double lo_excl, double hi_excl) {
    if (isnan(x)) return WR_TRAP_INVALID_CONVERSION;
    if (!(x > lo_excl && x < hi_excl)) return WR_TRAP_INT_OVERFLOW;
    return WR_OK;
}

static inline uint32_t rotl32(uint32_t x, uint32_t k) { k &= 31; return (x << k) | (x >> ((32 - k) & 31)); }
static inline uint32_t rotr32(uint32_t x, uint32_t k) { k &= 31; return (x >> k) | (x << ((32 - k) & 31)); }
static inline uint64_t rotl64(uint64_t x, uint64_t k) { k &= 63; return (x << k) | (x >> ((64 - k) & 63)); }
static inline uint64_t rotr64(uint64_t x, uint64_t k) { k &= 63; return (x >> k) | (x << ((64 - k) & 63)); }

#ifdef WR_OPSTATS
/*
 * A development aid (make opstats): counts every dispatched operation and
 * every pair of consecutive ones, keyed by handler address, and prints the
 * commonest to the file named by $WR_OPSTATS at exit.  Not in normal builds.
 */
#include <stdio.h>
#define OPSTAT_SLOTS 65536u
static struct { const void *a, *b; uint64_t n; } opstat_pairs[OPSTAT_SLOTS];
static struct { const void *a; uint64_t n; } opstat_ops[4096];
static const void *opstat_prev;
static const void *const *opstat_table(void);
static void opstat_hit(const void *op) {
    uintptr_t h = (uintptr_t)op >> 2;
    for (uint32_t i = (uint32_t)h & 4095u;; i = (i + 1) & 4095u)
        if (opstat_ops[i].a == op || !opstat_ops[i].a) { opstat_ops[i].a = op; opstat_ops[i].n++; break; }
    h = h * 31 + ((uintptr_t)opstat_prev >> 2);
    for (uint32_t i = (uint32_t)(h * 2654435761u) % OPSTAT_SLOTS;; i = (i + 1) % OPSTAT_SLOTS)
        if ((opstat_pairs[i].a == opstat_prev && opstat_pairs[i].b == op) || !opstat_pairs[i].b) {
            opstat_pairs[i].a = opstat_prev; opstat_pairs[i].b = op; opstat_pairs[i].n++; break;
        }
    opstat_prev = op;
}
static const char *const opstat_extra[] = {
#define WR__EXTRA_NAME(name) #name,
    WR__EXTRA_OPS(WR__EXTRA_NAME)
#undef WR__EXTRA_NAME
};
static const char *opstat_name(const void *op, char *buf, size_t len) {
    const void *const *t = opstat_table();
    for (uint32_t i = 0; i < WR__IOP_LIMIT; i++) {
        if (t[i] != op) continue;
        const char *n = "?", *suffix = "";
        uint32_t base = i;
        if (i < WR__OPCODE_LIMIT) base = i;
        else if (i < WR__IOP_EXTRA) base = i - WR__OPCODE_LIMIT, suffix = "_IMM";
        else if (i < WR__IOP_EXTRA + WR__X_COUNT) { snprintf(buf, len, "%s", opstat_extra[i - WR__IOP_EXTRA]); return buf; }
        else if (i < WR__IOP_RA(WR__OP_I32_ADD)) base = i - WR__IOP_ADDR(0) , suffix = "_ADDR";
        else if (i < WR__IOP_RB(WR__OP_I32_ADD)) base = i - WR__IOP_RA(0), suffix = "_RA";
        else if (i < WR__IOP_IMM_R(WR__OP_I32_ADD)) base = i - WR__IOP_RB(0), suffix = "_RB";
        else if (i < WR__IOP_LOAD_R(WR__OP_I32_LOAD)) base = i - WR__IOP_IMM_R(0), suffix = "_IMM_R";
        else base = i - WR__IOP_LOAD_R(0), suffix = "_R";
        if (base < WR__OPCODE_LIMIT && wr__opinfo[base].name) n = wr__opinfo[base].name;
        snprintf(buf, len, "%s%s", n, suffix);
        return buf;
    }
    snprintf(buf, len, "%s", op ? "?" : "(start)");
    return buf;
}
static int opstat_cmp(const void *x, const void *y) {
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? 1 : a > b ? -1 : 0;
}
static void opstat_dump(void) {
    const char *path = getenv("WR_OPSTATS");
    FILE *f = path ? fopen(path, "w") : NULL;
    if (!f) return;
    static uint64_t idx[OPSTAT_SLOTS][2];
    uint64_t total = 0;
    size_t n = 0;
    for (uint32_t i = 0; i < 4096; i++)
        if (opstat_ops[i].n) { idx[n][0] = opstat_ops[i].n; idx[n][1] = i; n++; total += opstat_ops[i].n; }
    qsort(idx, n, sizeof idx[0], opstat_cmp);
    char b1[64], b2[64];
    fprintf(f, "# %llu operations dispatched\n", (unsigned long long)total);
    for (size_t k = 0; k < n && k < 80; k++)
        fprintf(f, "%6.2f%% %12llu %s\n", 100.0 * (double)idx[k][0] / (double)total, (unsigned long long)idx[k][0],
                opstat_name(opstat_ops[idx[k][1]].a, b1, sizeof b1));
    n = 0;
    for (uint32_t i = 0; i < OPSTAT_SLOTS; i++)
        if (opstat_pairs[i].n) { idx[n][0] = opstat_pairs[i].n; idx[n][1] = i; n++; }
    qsort(idx, n, sizeof idx[0], opstat_cmp);
    fprintf(f, "# pairs\n");
    for (size_t k = 0; k < n && k < 80; k++)
        fprintf(f, "%6.2f%% %12llu %s -> %s\n", 100.0 * (double)idx[k][0] / (double)total, (unsigned long long)idx[k][0],
                opstat_name(opstat_pairs[idx[k][1]].a, b1, sizeof b1), opstat_name(opstat_pairs[idx[k][1]].b, b2, sizeof b2));
    fclose(f);
}
__attribute__((constructor)) static void opstat_init(void) { atexit(opstat_dump); }
#endif

/* ---- The interpreter -------------------------------------------------- */

static wr_memory *first_memory(const wr_instance *inst) {
    return inst && inst->module->nmemories ? inst->memories[0] : NULL;
}

static uint64_t monotonic_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * Bulk operations of `n` units of work (bytes or elements), `per_unit` to a
 * unit of fuel.  BULK_BEGIN sets `done` (what a previous slice did already)
 * and `step` (what to do now: the rest, or as much as the fuel left pays
 * for); BULK_END pays for `step` and either moves on, or, when work is left,
 * records it and stops for fuel with pc still at the operation.  The
 * caller has checked the bounds of all `n` first, so a trap never follows
 * partial work.
 */
#define BULK_BEGIN(n, per_unit)                                                 \
    const uint64_t per_ = (per_unit);                                           \
    uint64_t done = e->bulk_done, step = (n) - done;                            \
    if (step > 0 && (fuel <= 0 || (uint64_t)fuel < (step + per_ - 1) / per_)) { \
        if (fuel <= 0) goto out_of_fuel;                                        \
        step = (uint64_t)fuel * per_; /* fuel < step / per_ + 1: no overflow */ \
    }
#define BULK_END(n, len)                                                        \
    fuel -= (int64_t)((step + per_ - 1) / per_);                                \
    if (done + step < (n)) {                                                    \
        e->bulk_done = done + step;                                             \
        goto out_of_fuel;                                                       \
    }                                                                           \
    e->bulk_done = 0;                                                           \
    SKIP(len);

static wr_status interp(wr_exec *e, const void *const **ret_table) {
    static const void *const table[WR__IOP_LIMIT] = {
#define WR_OP(NAME, CODE, IMM, P, R, A) [WR__OP_##NAME] = &&L_##NAME,
#define WR_OP_FC(NAME, CODE, IMM, P, R, A) [WR__OP_##NAME] = &&L_##NAME,
#include "opcodes.def"
#define IMMV(NAME) [WR__IOP_IMM(WR__OP_##NAME)] = &&L_##NAME##_IMM,
        IMMV(I32_EQ) IMMV(I32_NE) IMMV(I32_LT_S) IMMV(I32_LT_U) IMMV(I32_GT_S) IMMV(I32_GT_U)
        IMMV(I32_LE_S) IMMV(I32_LE_U) IMMV(I32_GE_S) IMMV(I32_GE_U)
        IMMV(I32_ADD) IMMV(I32_SUB) IMMV(I32_MUL) IMMV(I32_DIV_S) IMMV(I32_DIV_U) IMMV(I32_REM_S)
        IMMV(I32_REM_U) IMMV(I32_AND) IMMV(I32_OR) IMMV(I32_XOR) IMMV(I32_SHL) IMMV(I32_SHR_S)
        IMMV(I32_SHR_U) IMMV(I32_ROTL) IMMV(I32_ROTR)
        IMMV(I64_EQ) IMMV(I64_NE) IMMV(I64_LT_S) IMMV(I64_LT_U) IMMV(I64_GT_S) IMMV(I64_GT_U)
        IMMV(I64_LE_S) IMMV(I64_LE_U) IMMV(I64_GE_S) IMMV(I64_GE_U)
        IMMV(I64_ADD) IMMV(I64_SUB) IMMV(I64_MUL) IMMV(I64_DIV_S) IMMV(I64_DIV_U) IMMV(I64_REM_S)
        IMMV(I64_REM_U) IMMV(I64_AND) IMMV(I64_OR) IMMV(I64_XOR) IMMV(I64_SHL) IMMV(I64_SHR_S)
        IMMV(I64_SHR_U) IMMV(I64_ROTL) IMMV(I64_ROTR)
#undef IMMV
#define WR__EXTRA_LABEL(name) [WR__IOP_EXTRA + WR__X_##name] = &&X_##name,
        WR__EXTRA_OPS(WR__EXTRA_LABEL)
#undef WR__EXTRA_LABEL
#define ADDRV(NAME) [WR__IOP_ADDR(WR__OP_##NAME)] = &&L_##NAME##_ADDR,
        ADDRV(I32_LOAD) ADDRV(I64_LOAD) ADDRV(F32_LOAD) ADDRV(F64_LOAD) ADDRV(I32_LOAD8_S)
        ADDRV(I32_LOAD8_U) ADDRV(I32_LOAD16_S) ADDRV(I32_LOAD16_U) ADDRV(I64_LOAD8_S)
        ADDRV(I64_LOAD8_U) ADDRV(I64_LOAD16_S) ADDRV(I64_LOAD16_U) ADDRV(I64_LOAD32_S)
        ADDRV(I64_LOAD32_U) ADDRV(I32_STORE) ADDRV(I64_STORE) ADDRV(F32_STORE) ADDRV(F64_STORE)
        ADDRV(I32_STORE8) ADDRV(I32_STORE16) ADDRV(I64_STORE8) ADDRV(I64_STORE16) ADDRV(I64_STORE32)
#undef ADDRV
#define ACCV(NAME) [WR__IOP_RA(WR__OP_##NAME)] = &&L_##NAME##_RA, [WR__IOP_RB(WR__OP_##NAME)] = &&L_##NAME##_RB, \
                   [WR__IOP_IMM_R(WR__OP_##NAME)] = &&L_##NAME##_IMM_R,
        ACCV(I32_ADD) ACCV(I32_SUB) ACCV(I32_MUL) ACCV(I32_AND) ACCV(I32_OR) ACCV(I32_XOR) ACCV(I32_SHL) ACCV(I32_SHR_S)
        ACCV(I32_SHR_U) ACCV(I32_ROTL) ACCV(I32_ROTR)
#undef ACCV
#define LOADRV(NAME) [WR__IOP_LOAD_R(WR__OP_##NAME)] = &&L_##NAME##_R,
        LOADRV(I32_LOAD) LOADRV(I64_LOAD) LOADRV(F32_LOAD) LOADRV(F64_LOAD) LOADRV(I32_LOAD8_S)
        LOADRV(I32_LOAD8_U) LOADRV(I32_LOAD16_S) LOADRV(I32_LOAD16_U) LOADRV(I64_LOAD8_S)
        LOADRV(I64_LOAD8_U) LOADRV(I64_LOAD16_S) LOADRV(I64_LOAD16_U) LOADRV(I64_LOAD32_S)
        LOADRV(I64_LOAD32_U)
#undef LOADRV
    };
    if (ret_table) {
        *ret_table = table;
        return WR_OK;
    }

    const wr__cell *pc = e->pc;
    uint64_t *fp = e->fp;
    wr__frame *const frames = e->frames;
    uint32_t depth = e->depth;
    const uint32_t max_frames = e->max_frames;
    uint64_t *const stack_end = e->stack + e->stack_slots;
    /*
     * With a deadline, the interpreter holds at most WR_FUEL_CHECK_INTERVAL
     * units in `fuel` and the rest in `reserve`: running out of `fuel`
     * reads the clock before taking more (out_of_fuel below).  Without one,
     * `reserve` stays 0 and nothing changes.
     */
    int64_t fuel = e->fuel, reserve = 0;
#define SPLIT_FUEL(total)                                                       \
    do {                                                                        \
        fuel = (total);                                                         \
        reserve = 0;                                                            \
        if (e->deadline_ns && fuel > (int64_t)WR_FUEL_CHECK_INTERVAL) {         \
            reserve = fuel - (int64_t)WR_FUEL_CHECK_INTERVAL;                   \
            fuel = WR_FUEL_CHECK_INTERVAL;                                      \
        }                                                                       \
    } while (0)
    SPLIT_FUEL(e->fuel);
    wr_instance *inst = frames[depth - 1].func->inst;
    uint8_t *mbase = NULL;
    uint64_t msize = 0;
    /*
     * The f64 accumulator: every f64 load, add, sub, mul, div and sqrt
     * leaves its result here as well as in its slot, and the _R variants of
     * the next instruction read it from here.  A chain of f64 operations then
     * passes its values in a register: no reload of what was just stored,
     * which on its own costs a store-to-load forwarding delay per link.  The
     * translator uses a variant only right after the producer, with no
     * branch target between, so the value is always that instruction's; and
     * nothing pauses between the two (fuel and host calls stop only at
     * loops and calls), so the accumulator need not survive a resume.
     */
    double facc = 0;
    /* The same for i32: results of i32 loads and binary operations. */
    uint64_t iacc = 0; /* zero-extended, as in a slot */
    wr_status status = WR_OK;

    /* Used by the call handlers. */
    wr_func *callee;
    uint64_t *nfp;
    const wr__cell *ret;

#define LOAD_MEM()                                  \
    do {                                            \
        wr_memory *m_ = first_memory(inst);         \
        mbase = m_ ? m_->data : NULL;               \
        msize = m_ ? m_->size : 0;                  \
    } while (0)
#ifdef WR_OPSTATS
#define NEXT() do { opstat_hit(pc->op); goto *pc->op; } while (0)
#else
#define NEXT() goto *pc->op
#endif
#define SKIP(n) do { pc += (n); NEXT(); } while (0)
#define TRAP(code) do { status = WR_TRAP_##code; goto trap; } while (0)
#define SLOT(i) fp[pc[i].u32]
#define U32(i) ((uint32_t)fp[pc[i].u32])
#define I32(i) ((int32_t)(uint32_t)fp[pc[i].u32])
#define U64(i) (fp[pc[i].u32])
#define I64(i) ((int64_t)fp[pc[i].u32])
#define F32(i) f32_of(fp[pc[i].u32])
#define F64(i) f64_of(fp[pc[i].u32])

    LOAD_MEM();
    NEXT();

    /* ---- Integer binary operations: op dst a b, and op dst a imm ---- */
/* i32 ones leave their result in the accumulator too; ACC32 adds the variants reading it. */
#define BIN32(NAME, STMT)                                                             \
    L_##NAME: { uint32_t a = U32(2), b = U32(3), r; STMT; SLOT(1) = iacc = (uint64_t)r; SKIP(4); }    \
    L_##NAME##_IMM: { uint32_t a = U32(2), b = pc[3].u32, r; STMT; SLOT(1) = iacc = (uint64_t)r; SKIP(4); }
#define ACC32(NAME, STMT)                                                                 \
    BIN32(NAME, STMT)                                                                     \
    L_##NAME##_RA: { uint32_t a = (uint32_t)iacc, b = U32(3), r; STMT; SLOT(1) = iacc = (uint64_t)r; SKIP(4); }    \
    L_##NAME##_RB: { uint32_t a = U32(2), b = (uint32_t)iacc, r; STMT; SLOT(1) = iacc = (uint64_t)r; SKIP(4); }    \
    L_##NAME##_IMM_R: { uint32_t a = (uint32_t)iacc, b = pc[3].u32, r; STMT; SLOT(1) = iacc = (uint64_t)r; SKIP(4); }
#define BIN64(NAME, STMT)                                                             \
    L_##NAME: { uint64_t a = U64(2), b = U64(3), r; STMT; SLOT(1) = r; SKIP(4); }    \
    L_##NAME##_IMM: { uint64_t a = U64(2), b = pc[3].u64, r; STMT; SLOT(1) = r; SKIP(4); }

    BIN32(I32_EQ, r = a == b)
    BIN32(I32_NE, r = a != b)
    BIN32(I32_LT_S, r = (int32_t)a < (int32_t)b)
    BIN32(I32_LT_U, r = a < b)
    BIN32(I32_GT_S, r = (int32_t)a > (int32_t)b)
    BIN32(I32_GT_U, r = a > b)
    BIN32(I32_LE_S, r = (int32_t)a <= (int32_t)b)
    BIN32(I32_LE_U, r = a <= b)
    BIN32(I32_GE_S, r = (int32_t)a >= (int32_t)b)
    BIN32(I32_GE_U, r = a >= b)
    ACC32(I32_ADD, r = a + b)
    ACC32(I32_SUB, r = a - b)
    ACC32(I32_MUL, r = a * b)
    BIN32(I32_DIV_S, if (b == 0) TRAP(DIV_ZERO);
          if (a == 0x80000000u && b == 0xffffffffu) TRAP(INT_OVERFLOW);
          r = (uint32_t)((int32_t)a / (int32_t)b))
    BIN32(I32_DIV_U, if (b == 0) TRAP(DIV_ZERO); r = a / b)
    BIN32(I32_REM_S, if (b == 0) TRAP(DIV_ZERO);
          r = b == 0xffffffffu ? 0 : (uint32_t)((int32_t)a % (int32_t)b))
    BIN32(I32_REM_U, if (b == 0) TRAP(DIV_ZERO); r = a % b)
    ACC32(I32_AND, r = a & b)
    ACC32(I32_OR, r = a | b)
    ACC32(I32_XOR, r = a ^ b)
    ACC32(I32_SHL, r = a << (b & 31))
    ACC32(I32_SHR_S, r = (uint32_t)((int32_t)a >> (b & 31)))
    ACC32(I32_SHR_U, r = a >> (b & 31))
    ACC32(I32_ROTL, r = rotl32(a, b))
    X_I32_XOR_ROTL: { SLOT(1) = iacc = (uint64_t)(U32(2) ^ rotl32(U32(3), pc[4].u32)); SKIP(5); }
    X_I32_XOR_ROTL_RA: { SLOT(1) = iacc = (uint64_t)((uint32_t)iacc ^ rotl32(U32(3), pc[4].u32)); SKIP(5); }
    X_I32_XOR_SHR_U: { SLOT(1) = iacc = (uint64_t)(U32(2) ^ (U32(3) >> (pc[4].u32 & 31))); SKIP(5); }
    X_I32_XOR_SHR_U_RA: { SLOT(1) = iacc = (uint64_t)((uint32_t)iacc ^ (U32(3) >> (pc[4].u32 & 31))); SKIP(5); }
    X_I32_MAD: { SLOT(1) = iacc = (uint32_t)(U32(2) + U32(3) * U32(4)); SKIP(5); }
    X_I32_MAD_RA: { SLOT(1) = iacc = (uint32_t)(U32(2) + (uint32_t)iacc * U32(4)); SKIP(5); }
    X_I32_MAD_IMM: { SLOT(1) = iacc = (uint32_t)(U32(2) + U32(3) * pc[4].u32); SKIP(5); }
    X_I32_ADD_SHL: { SLOT(1) = iacc = (uint32_t)(U32(2) + (U32(3) << (pc[4].u32 & 31))); SKIP(5); }
    X_I32_SHR_U_AND: { SLOT(1) = iacc = (U32(2) >> (pc[3].u32 & 31)) & pc[4].u32; SKIP(5); }
    X_I32_SHR_U_AND_R: { SLOT(1) = iacc = ((uint32_t)iacc >> (pc[3].u32 & 31)) & pc[4].u32; SKIP(5); }
    X_I32_ADD_AND: { SLOT(1) = iacc = (U32(2) + pc[3].u32) & pc[4].u32; SKIP(5); }
    X_I32_ADD_AND_R: { SLOT(1) = iacc = ((uint32_t)iacc + pc[3].u32) & pc[4].u32; SKIP(5); }
    X_I32_ADD_SHL_RA: { SLOT(1) = iacc = (uint32_t)((uint32_t)iacc + (U32(3) << (pc[4].u32 & 31))); SKIP(5); }
    ACC32(I32_ROTR, r = rotr32(a, b))

    BIN64(I64_EQ, r = a == b)
    BIN64(I64_NE, r = a != b)
    BIN64(I64_LT_S, r = (int64_t)a < (int64_t)b)
    BIN64(I64_LT_U, r = a < b)
    BIN64(I64_GT_S, r = (int64_t)a > (int64_t)b)
    BIN64(I64_GT_U, r = a > b)
    BIN64(I64_LE_S, r = (int64_t)a <= (int64_t)b)
    BIN64(I64_LE_U, r = a <= b)
    BIN64(I64_GE_S, r = (int64_t)a >= (int64_t)b)
    BIN64(I64_GE_U, r = a >= b)
    BIN64(I64_ADD, r = a + b)
    BIN64(I64_SUB, r = a - b)
    BIN64(I64_MUL, r = a * b)
    BIN64(I64_DIV_S, if (b == 0) TRAP(DIV_ZERO);
          if (a == 0x8000000000000000ull && b == ~0ull) TRAP(INT_OVERFLOW);
          r = (uint64_t)((int64_t)a / (int64_t)b))
    BIN64(I64_DIV_U, if (b == 0) TRAP(DIV_ZERO); r = a / b)
    BIN64(I64_REM_S, if (b == 0) TRAP(DIV_ZERO);
          r = b == ~0ull ? 0 : (uint64_t)((int64_t)a % (int64_t)b))
    BIN64(I64_REM_U, if (b == 0) TRAP(DIV_ZERO); r = a % b)
    BIN64(I64_AND, r = a & b)
    BIN64(I64_OR, r = a | b)
    BIN64(I64_XOR, r = a ^ b)
    BIN64(I64_SHL, r = a << (b & 63))
    BIN64(I64_SHR_S, r = (uint64_t)((int64_t)a >> (b & 63)))
    BIN64(I64_SHR_U, r = a >> (b & 63))
    BIN64(I64_ROTL, r = rotl64(a, b))
    BIN64(I64_ROTR, r = rotr64(a, b))

    /* ---- Unary operations: op dst src ---- */
#define UN(NAME, EXPR) L_##NAME: { uint64_t x = SLOT(2); SLOT(1) = (EXPR); SKIP(3); }

    UN(I32_EQZ, (uint32_t)x == 0)
    UN(I64_EQZ, x == 0)
    UN(I32_CLZ, (uint32_t)x ? (uint64_t)__builtin_clz((uint32_t)x) : 32)
    UN(I32_CTZ, (uint32_t)x ? (uint64_t)__builtin_ctz((uint32_t)x) : 32)
    UN(I32_POPCNT, (uint64_t)__builtin_popcount((uint32_t)x))
    UN(I64_CLZ, x ? (uint64_t)__builtin_clzll(x) : 64)
    UN(I64_CTZ, x ? (uint64_t)__builtin_ctzll(x) : 64)
    UN(I64_POPCNT, (uint64_t)__builtin_popcountll(x))
    UN(I32_WRAP_I64, (uint32_t)x)
    UN(I64_EXTEND_I32_S, (uint64_t)(int64_t)(int32_t)(uint32_t)x)
    UN(I64_EXTEND_I32_U, (uint32_t)x)
    UN(I32_EXTEND8_S, (uint32_t)(int32_t)(int8_t)x)
    UN(I32_EXTEND16_S, (uint32_t)(int32_t)(int16_t)x)
    UN(I64_EXTEND8_S, (uint64_t)(int64_t)(int8_t)x)
    UN(I64_EXTEND16_S, (uint64_t)(int64_t)(int16_t)x)
    UN(I64_EXTEND32_S, (uint64_t)(int64_t)(int32_t)x)
    UN(I32_REINTERPRET_F32, (uint32_t)x)
    UN(I64_REINTERPRET_F64, x)
    UN(F32_REINTERPRET_I32, (uint32_t)x)
    UN(F64_REINTERPRET_I64, x)

    /* Sign operations act on the bits only: no NaN is touched. */
    UN(F32_ABS, (uint32_t)x & 0x7fffffffu)
    UN(F32_NEG, (uint32_t)x ^ 0x80000000u)
    UN(F64_ABS, x & 0x7fffffffffffffffull)
    UN(F64_NEG, x ^ 0x8000000000000000ull)
    UN(F32_CEIL, bits_f32(f32_round(f32_of(x), 0)))
    UN(F32_FLOOR, bits_f32(f32_round(f32_of(x), 1)))
    UN(F32_TRUNC, bits_f32(f32_round(f32_of(x), 2)))
    UN(F32_NEAREST, bits_f32(f32_round(f32_of(x), 3)))
    UN(F32_SQRT, bits_f32(sqrtf(f32_of(x))))
    UN(F64_CEIL, bits_f64(f64_round(f64_of(x), 0)))
    UN(F64_FLOOR, bits_f64(f64_round(f64_of(x), 1)))
    UN(F64_TRUNC, bits_f64(f64_round(f64_of(x), 2)))
    UN(F64_NEAREST, bits_f64(f64_round(f64_of(x), 3)))
    L_F64_SQRT: { facc = sqrt(F64(2)); SLOT(1) = bits_f64(facc); SKIP(3); }
    X_F64_SQRT_R: { facc = sqrt(facc); SLOT(1) = bits_f64(facc); SKIP(3); }

    UN(F32_CONVERT_I32_S, bits_f32((float)(int32_t)(uint32_t)x))
    UN(F32_CONVERT_I32_U, bits_f32((float)(uint32_t)x))
    UN(F32_CONVERT_I64_S, bits_f32((float)(int64_t)x))
    UN(F32_CONVERT_I64_U, bits_f32((float)x))
    UN(F32_DEMOTE_F64, bits_f32((float)f64_of(x)))
    UN(F64_CONVERT_I32_S, bits_f64((double)(int32_t)(uint32_t)x))
    UN(F64_CONVERT_I32_U, bits_f64((double)(uint32_t)x))
    UN(F64_CONVERT_I64_S, bits_f64((double)(int64_t)x))
    UN(F64_CONVERT_I64_U, bits_f64((double)x))
    UN(F64_PROMOTE_F32, bits_f64((double)f32_of(x)))

    UN(I32_TRUNC_SAT_F32_S, sat_i32(f32_of(x)))
    UN(I32_TRUNC_SAT_F32_U, sat_u32(f32_of(x)))
    UN(I32_TRUNC_SAT_F64_S, sat_i32(f64_of(x)))
    UN(I32_TRUNC_SAT_F64_U, sat_u32(f64_of(x)))
    UN(I64_TRUNC_SAT_F32_S, sat_i64(f32_of(x)))
    UN(I64_TRUNC_SAT_F32_U, sat_u64(f32_of(x)))
    UN(I64_TRUNC_SAT_F64_S, sat_i64(f64_of(x)))
    UN(I64_TRUNC_SAT_F64_U, sat_u64(f64_of(x)))

    /* Trapping truncations: the bounds are the exclusive limits of exact conversion. */
#define TRUNC(NAME, OF, LO, HI, SAT)                                        \
    L_##NAME: {                                                             \
        double x = OF(SLOT(2));                                             \
        if ((status = trunc_check(x, LO, HI)) != WR_OK) goto trap;          \
        SLOT(1) = SAT(x);                                                   \
        SKIP(3);                                                            \
    }
    TRUNC(I32_TRUNC_F32_S, f32_of, -2147483649.0, 2147483648.0, sat_i32)
    TRUNC(I32_TRUNC_F32_U, f32_of, -1.0, 4294967296.0, sat_u32)
    TRUNC(I32_TRUNC_F64_S, f64_of, -2147483649.0, 2147483648.0, sat_i32)
    TRUNC(I32_TRUNC_F64_U, f64_of, -1.0, 4294967296.0, sat_u32)
    TRUNC(I64_TRUNC_F32_S, f32_of, -9223372036854777856.0, 9223372036854775808.0, sat_i64)
    TRUNC(I64_TRUNC_F32_U, f32_of, -1.0, 18446744073709551616.0, sat_u64)
    TRUNC(I64_TRUNC_F64_S, f64_of, -9223372036854777856.0, 9223372036854775808.0, sat_i64)
    TRUNC(I64_TRUNC_F64_U, f64_of, -1.0, 18446744073709551616.0, sat_u64)

    /* ---- Float binary operations: op dst a b ---- */
#define FBIN32(NAME, EXPR) L_##NAME: { float a = F32(2), b = F32(3); SLOT(1) = (EXPR); SKIP(4); }
#define FBIN64(NAME, EXPR) L_##NAME: { double a = F64(2), b = F64(3); SLOT(1) = (EXPR); SKIP(4); }
    FBIN32(F32_EQ, a == b)
    FBIN32(F32_NE, a != b)
    FBIN32(F32_LT, a < b)
    FBIN32(F32_GT, a > b)
    FBIN32(F32_LE, a <= b)
    FBIN32(F32_GE, a >= b)
    FBIN32(F32_ADD, bits_f32(a + b))
    FBIN32(F32_SUB, bits_f32(a - b))
    FBIN32(F32_MUL, bits_f32(a * b))
    FBIN32(F32_DIV, bits_f32(a / b))
    FBIN32(F32_MIN, bits_f32(f32_min(a, b)))
    FBIN32(F32_MAX, bits_f32(f32_max(a, b)))
    FBIN64(F64_EQ, a == b)
    FBIN64(F64_NE, a != b)
    FBIN64(F64_LT, a < b)
    FBIN64(F64_GT, a > b)
    FBIN64(F64_LE, a <= b)
    FBIN64(F64_GE, a >= b)
    /* ... and those that feed the accumulator, with their variants reading it. */
#define FACC64(NAME, OP)                                                                  \
    L_##NAME: { facc = F64(2) OP F64(3); SLOT(1) = bits_f64(facc); SKIP(4); }             \
    X_##NAME##_RA: { facc = facc OP F64(3); SLOT(1) = bits_f64(facc); SKIP(4); }          \
    X_##NAME##_RB: { facc = F64(2) OP facc; SLOT(1) = bits_f64(facc); SKIP(4); }
    FACC64(F64_ADD, +)
    FACC64(F64_SUB, -)
    FACC64(F64_MUL, *)
    FACC64(F64_DIV, /)
    /* ... and with b loaded from memory (the load folded in: see code.h). */
#define FMEM64(NAME, OP)                                                                          \
    X_##NAME##_LD: {                                                                              \
        uint64_t ea = (uint64_t)U32(3) + pc[4].u64;                                               \
        if (ea + 8 > msize) TRAP(MEMORY_OOB);                                                     \
        double b; memcpy(&b, mbase + ea, 8); facc = F64(2) OP b; SLOT(1) = bits_f64(facc); SKIP(5); \
    }                                                                                             \
    X_##NAME##_LD_RA: {                                                                           \
        uint64_t ea = (uint64_t)U32(3) + pc[4].u64;                                               \
        if (ea + 8 > msize) TRAP(MEMORY_OOB);                                                     \
        double b; memcpy(&b, mbase + ea, 8); facc = facc OP b; SLOT(1) = bits_f64(facc); SKIP(5); \
    }                                                                                             \
    X_##NAME##_LDA: {                                                                             \
        uint64_t ea = (uint64_t)(uint32_t)(U32(3) + pc[4].u32) + pc[5].u64;                       \
        if (ea + 8 > msize) TRAP(MEMORY_OOB);                                                     \
        double b; memcpy(&b, mbase + ea, 8); facc = F64(2) OP b; SLOT(1) = bits_f64(facc); SKIP(6); \
    }                                                                                             \
    X_##NAME##_LDA_RA: {                                                                          \
        uint64_t ea = (uint64_t)(uint32_t)(U32(3) + pc[4].u32) + pc[5].u64;                       \
        if (ea + 8 > msize) TRAP(MEMORY_OOB);                                                     \
        double b; memcpy(&b, mbase + ea, 8); facc = facc OP b; SLOT(1) = bits_f64(facc); SKIP(6); \
    }
    X_F64_ADD_TO_RA: {
        uint64_t ea = (uint64_t)U32(1) + pc[2].u64;
        if (ea + 8 > msize) TRAP(MEMORY_OOB);
        double b;
        memcpy(&b, mbase + ea, 8);
        facc = facc + b;
        memcpy(mbase + ea, &facc, 8);
        SKIP(3);
    }
    FMEM64(F64_ADD, +)
    FMEM64(F64_SUB, -)
    FMEM64(F64_MUL, *)
    FBIN64(F64_MIN, bits_f64(f64_min(a, b)))
    FBIN64(F64_MAX, bits_f64(f64_max(a, b)))
    L_F32_COPYSIGN: { SLOT(1) = (U32(2) & 0x7fffffffu) | (U32(3) & 0x80000000u); SKIP(4); }
    L_F64_COPYSIGN: { SLOT(1) = (U64(2) & 0x7fffffffffffffffull) | (U64(3) & 0x8000000000000000ull); SKIP(4); }

    /* ---- Memory: load dst addr offset / store addr value offset ---- */
    /* The effective address is computed in 64 bits, so it cannot wrap on any host. */
#define EA(N)                                                     \
    uint64_t ea = (uint64_t)U32(2) + pc[3].u64;                   \
    if (ea + (N) > msize) TRAP(MEMORY_OOB);
/* The ADDR form: the address is (base + addend) mod 2^32, as i32.add computes it. */
#define EA_ADDR(N)                                                \
    uint64_t ea = (uint64_t)(uint32_t)(U32(2) + pc[3].u32) + pc[4].u64; \
    if (ea + (N) > msize) TRAP(MEMORY_OOB);
/* The R form: the address is the i32 accumulator. */
#define EA_R(N)                                                   \
    uint64_t ea = (uint64_t)(uint32_t)iacc + pc[3].u64;                   \
    if (ea + (N) > msize) TRAP(MEMORY_OOB);
#define LOAD(NAME, CT, N, CONV) \
    L_##NAME: { EA(N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = (CONV); SKIP(4); } \
    L_##NAME##_ADDR: { EA_ADDR(N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = (CONV); SKIP(5); } \
    L_##NAME##_R: { EA_R(N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = (CONV); SKIP(4); }
/* i32 loads feed the i32 accumulator. */
#define LOAD32(NAME, CT, N, CONV) \
    L_##NAME: { EA(N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = iacc = (uint32_t)(CONV); SKIP(4); } \
    L_##NAME##_ADDR: { EA_ADDR(N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = iacc = (uint32_t)(CONV); SKIP(5); } \
    L_##NAME##_R: { EA_R(N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = iacc = (uint32_t)(CONV); SKIP(4); }
    LOAD32(I32_LOAD, uint32_t, 4, v)
    LOAD(I64_LOAD, uint64_t, 8, v)
    LOAD(F32_LOAD, uint32_t, 4, v)
    /* The slot gets the bits as loaded: through a double they could lose a
     * signalling NaN's bit on an x87 FPU.  (So the translator never stores
     * the accumulator straight after a load.) */
    L_F64_LOAD: { EA(8) uint64_t v; memcpy(&v, mbase + ea, 8); SLOT(1) = v; facc = f64_of(v); SKIP(4); }
    L_F64_LOAD_ADDR: { EA_ADDR(8) uint64_t v; memcpy(&v, mbase + ea, 8); SLOT(1) = v; facc = f64_of(v); SKIP(5); }
    L_F64_LOAD_R: { EA_R(8) uint64_t v; memcpy(&v, mbase + ea, 8); SLOT(1) = v; facc = f64_of(v); SKIP(4); }
    LOAD32(I32_LOAD8_S, int8_t, 1, (uint32_t)(int32_t)v)
    LOAD32(I32_LOAD8_U, uint8_t, 1, v)
    LOAD32(I32_LOAD16_S, int16_t, 2, (uint32_t)(int32_t)v)
    LOAD32(I32_LOAD16_U, uint16_t, 2, v)
    LOAD(I64_LOAD8_S, int8_t, 1, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD8_U, uint8_t, 1, v)
    LOAD(I64_LOAD16_S, int16_t, 2, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD16_U, uint16_t, 2, v)
    LOAD(I64_LOAD32_S, int32_t, 4, (uint64_t)(int64_t)v)
    LOAD(I64_LOAD32_U, uint32_t, 4, v)
    /* Loads with a branch on what they loaded (a list's next pointer, a
     * string's next byte): the target in cell 4. */
#define BR_LOAD(NAME, CT, N)                                                                              \
    X_BR_IF_##NAME: { EA(N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = v; if (v) { pc = pc[4].target; NEXT(); } SKIP(5); } \
    X_BR_IFZ_##NAME: { EA(N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = v; if (!v) { pc = pc[4].target; NEXT(); } SKIP(5); }
    BR_LOAD(LD, uint32_t, 4)
    BR_LOAD(LD8U, uint8_t, 1)
    /* Loads from a sum, the i32.add (and shift) folded in (code.h). */
#define EA_SUM(A, B, OFF, N)                                                    \
    uint64_t ea = (uint64_t)(uint32_t)((A) + (B)) + pc[OFF].u64;                \
    if (ea + (N) > msize) TRAP(MEMORY_OOB);
#define LOAD_SUM(NAME, CT, N)                                                   \
    X_##NAME##_IX: { EA_SUM(U32(2), U32(3), 4, N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = iacc = v; SKIP(5); } \
    X_##NAME##_IX_R: { EA_SUM((uint32_t)iacc, U32(3), 4, N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = iacc = v; SKIP(5); } \
    X_##NAME##_K_R: { EA_SUM((uint32_t)iacc, pc[3].u32, 4, N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = iacc = v; SKIP(5); }
#define LOAD_SHL(NAME, CT, N)                                                   \
    X_##NAME##_SHL: { EA_SUM(U32(2), U32(3) << (pc[4].u32 & 31), 5, N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = iacc = v; SKIP(6); } \
    X_##NAME##_SHL_R: { EA_SUM((uint32_t)iacc, U32(3) << (pc[4].u32 & 31), 5, N) CT v; memcpy(&v, mbase + ea, N); SLOT(1) = iacc = v; SKIP(6); }
    LOAD_SUM(I32_LOAD, uint32_t, 4)
    LOAD_SUM(I32_LOAD8_U, uint8_t, 1)
    LOAD_SUM(I32_LOAD16_U, uint16_t, 2)
    LOAD_SHL(I32_LOAD, uint32_t, 4)
    LOAD_SHL(I32_LOAD16_U, uint16_t, 2)
#undef LOAD_SHL
#undef LOAD_SUM
#undef EA_SUM
#undef EA_R
#undef EA
#define EA(N)                                                     \
    uint64_t ea = (uint64_t)U32(1) + pc[3].u64;                   \
    if (ea + (N) > msize) TRAP(MEMORY_OOB);
#undef EA_ADDR
#define EA_ADDR(N)                                                \
    uint64_t ea = (uint64_t)(uint32_t)(U32(1) + pc[2].u32) + pc[4].u64; \
    if (ea + (N) > msize) TRAP(MEMORY_OOB);
#define STORE(NAME, CT, N) \
    L_##NAME: { EA(N) CT v = (CT)SLOT(2); memcpy(mbase + ea, &v, N); SKIP(4); } \
    L_##NAME##_ADDR: { EA_ADDR(N) CT v = (CT)SLOT(3); memcpy(mbase + ea, &v, N); SKIP(5); }
/* ... and those storing the i32 accumulator. */
#define STORE32(NAME, CT, N) \
    STORE(NAME, CT, N) \
    X_##NAME##_R: { EA(N) CT v = (CT)iacc; memcpy(mbase + ea, &v, N); SKIP(4); } \
    X_##NAME##_ADDR_R: { EA_ADDR(N) CT v = (CT)iacc; memcpy(mbase + ea, &v, N); SKIP(5); }
    STORE32(I32_STORE, uint32_t, 4)
    X_I32_ADD_TO_IMM: {
        EA(4)
        uint32_t v;
        memcpy(&v, mbase + ea, 4);
        v += pc[2].u32;
        memcpy(mbase + ea, &v, 4);
        SKIP(4);
    }
    X_I32_STORE_ADD_IMM: {
        uint64_t ea = (uint64_t)U32(1) + pc[4].u64;
        if (ea + 4 > msize) TRAP(MEMORY_OOB);
        uint32_t v = U32(2) + pc[3].u32;
        memcpy(mbase + ea, &v, 4);
        SKIP(5);
    }
    X_I32_STORE_ADD_IMM_R: {
        uint64_t ea = (uint64_t)U32(1) + pc[4].u64;
        if (ea + 4 > msize) TRAP(MEMORY_OOB);
        uint32_t v = (uint32_t)iacc + pc[3].u32;
        memcpy(mbase + ea, &v, 4);
        SKIP(5);
    }
    STORE(I64_STORE, uint64_t, 8)
    STORE(F32_STORE, uint32_t, 4)
    STORE(F64_STORE, uint64_t, 8)
    X_F64_STORE_R: { EA(8) memcpy(mbase + ea, &facc, 8); SKIP(4); }
    X_F64_STORE_ADDR_R: { EA_ADDR(8) memcpy(mbase + ea, &facc, 8); SKIP(5); }
    STORE32(I32_STORE8, uint8_t, 1)
    STORE32(I32_STORE16, uint16_t, 2)
    STORE(I64_STORE8, uint8_t, 1)
    STORE(I64_STORE16, uint16_t, 2)
    STORE(I64_STORE32, uint32_t, 4)
#undef EA
#undef EA_ADDR

    /* op dst */
    L_MEMORY_SIZE: { SLOT(1) = (uint32_t)(msize / WR_PAGE_SIZE); SKIP(2); }
    /* op dst delta */
    L_MEMORY_GROW: {
        uint32_t delta = U32(2);
        int64_t old = wr__memory_grow(first_memory(inst), delta);
        SLOT(1) = (uint32_t)old;
        if (old >= 0)
            fuel -= (int64_t)delta * WR_FUEL_GROW_PAGE; /* the new pages were zeroed */
        LOAD_MEM();
        SKIP(3);
    }
    /* op data_index s_d s_s s_n */
    L_MEMORY_INIT: {
        const wr__data *seg = &inst->module->datas[pc[1].u32];
        uint64_t seglen = inst->data_dropped[pc[1].u32] ? 0 : seg->size;
        uint64_t d = U32(2), s = U32(3), n = U32(4);
        if (s + n > seglen || d + n > msize) TRAP(MEMORY_OOB);
        BULK_BEGIN(n, WR_FUEL_BULK_BYTES)
        if (step) memcpy(mbase + d + done, inst->module->bytes + seg->data_offset + s + done, step);
        BULK_END(n, 5)
    }
    /* op data_index */
    L_DATA_DROP: { inst->data_dropped[pc[1].u32] = true; SKIP(2); }
    /* op s_d s_s s_n */
    L_MEMORY_COPY: {
        uint64_t d = U32(1), s = U32(2), n = U32(3);
        if (s + n > msize || d + n > msize) TRAP(MEMORY_OOB);
        BULK_BEGIN(n, WR_FUEL_BULK_BYTES)
        /* In parts, in the order that reads every byte before it is overwritten. */
        if (step && d <= s)
            memmove(mbase + d + done, mbase + s + done, step);
        else if (step)
            memmove(mbase + d + (n - done - step), mbase + s + (n - done - step), step);
        BULK_END(n, 4)
    }
    /* op s_d s_val s_n */
    L_MEMORY_FILL: {
        uint64_t d = U32(1), n = U32(3);
        if (d + n > msize) TRAP(MEMORY_OOB);
        BULK_BEGIN(n, WR_FUEL_BULK_BYTES)
        if (step) memset(mbase + d + done, (int)(uint8_t)SLOT(2), step);
        BULK_END(n, 4)
    }

    /* ---- Tables ---- */
    /* op table s_dst s_i */
    L_TABLE_GET: {
        wr_table *t = inst->tables[pc[1].u32];
        uint32_t i = U32(3);
        if (i >= t->size) TRAP(TABLE_OOB);
        SLOT(2) = (uint64_t)(uintptr_t)t->elems[i];
        SKIP(4);
    }
    /* op table s_i s_val */
    L_TABLE_SET: {
        wr_table *t = inst->tables[pc[1].u32];
        uint32_t i = U32(2);
        if (i >= t->size) TRAP(TABLE_OOB);
        t->elems[i] = (void *)(uintptr_t)SLOT(3);
        SKIP(4);
    }
    /* op table s_dst */
    L_TABLE_SIZE: { SLOT(2) = inst->tables[pc[1].u32]->size; SKIP(3); }
    /* op table s_dst s_init s_n */
    L_TABLE_GROW: {
        wr_table *t = inst->tables[pc[1].u32];
        uint32_t delta = U32(4);
        int64_t old = wr__table_grow(t, delta, (void *)(uintptr_t)SLOT(3), inst->store->limits.max_table_elems);
        SLOT(2) = (uint32_t)old;
        if (old >= 0)
            fuel -= (int64_t)(delta / WR_FUEL_BULK_ELEMS);
        SKIP(5);
    }
    /* op table s_i s_val s_n */
    L_TABLE_FILL: {
        wr_table *t = inst->tables[pc[1].u32];
        uint64_t i = U32(2), n = U32(4);
        void *v = (void *)(uintptr_t)SLOT(3);
        if (i + n > t->size) TRAP(TABLE_OOB);
        BULK_BEGIN(n, WR_FUEL_BULK_ELEMS)
        for (uint64_t k = done; k < done + step; k++) t->elems[i + k] = v;
        BULK_END(n, 5)
    }
    /* op elem_index table s_d s_s s_n */
    L_TABLE_INIT: {
        const wr__elem *seg = &inst->module->elems[pc[1].u32];
        wr_table *t = inst->tables[pc[2].u32];
        uint64_t seglen = inst->elem_dropped[pc[1].u32] ? 0 : seg->count;
        uint64_t d = U32(3), s = U32(4), n = U32(5);
        if (s + n > seglen || d + n > t->size) TRAP(TABLE_OOB);
        BULK_BEGIN(n, WR_FUEL_BULK_ELEMS)
        for (uint64_t k = done; k < done + step; k++)
            t->elems[d + k] = (void *)(uintptr_t)wr__constexpr_eval(inst, &seg->items[s + k]);
        BULK_END(n, 6)
    }
    /* op elem_index */
    L_ELEM_DROP: { inst->elem_dropped[pc[1].u32] = true; SKIP(2); }
    /* op dst_table src_table s_d s_s s_n */
    L_TABLE_COPY: {
        wr_table *td = inst->tables[pc[1].u32], *ts = inst->tables[pc[2].u32];
        uint64_t d = U32(3), s = U32(4), n = U32(5);
        if (s + n > ts->size || d + n > td->size) TRAP(TABLE_OOB);
        BULK_BEGIN(n, WR_FUEL_BULK_ELEMS)
        /* As memory.copy: in parts, in the order that is safe when the ranges overlap. */
        if (step && (td != ts || d <= s))
            memmove(td->elems + d + done, ts->elems + s + done, step * sizeof *td->elems);
        else if (step)
            memmove(td->elems + d + (n - done - step), ts->elems + s + (n - done - step), step * sizeof *td->elems);
        BULK_END(n, 6)
    }

    /* ---- Operations of our own ---- */
    X_COPY: { SLOT(1) = SLOT(2); SKIP(3); }
    X_COPY2: { SLOT(1) = SLOT(2); SLOT(3) = SLOT(4); SKIP(5); }
    /* The first addition (cells 4-6) runs first; the second's result is the one in the accumulator. */
    X_I32_ADD_IMM2: {
        SLOT(4) = (uint32_t)(U32(5) + pc[6].u32);
        SLOT(1) = iacc = (uint32_t)(U32(2) + pc[3].u32);
        SKIP(7);
    }
    X_CONST: { SLOT(1) = pc[2].u64; SKIP(3); }
    X_CONST_COPY: { SLOT(1) = pc[2].u64; SLOT(3) = SLOT(4); SKIP(5); }
    /* A loop's variables moved round just before it branches back. */
    X_COPY_BR: { SLOT(1) = SLOT(2); pc = pc[3].target; NEXT(); }
    X_COPY_BR_IF: { SLOT(1) = SLOT(2); if (SLOT(3)) { pc = pc[4].target; NEXT(); } SKIP(5); }
    X_COPY_BR_IFZ: { SLOT(1) = SLOT(2); if (!SLOT(3)) { pc = pc[4].target; NEXT(); } SKIP(5); }
    X_BR: { pc = pc[1].target; NEXT(); }
    X_BR_IF: { if (SLOT(1)) { pc = pc[2].target; NEXT(); } SKIP(3); }
    X_BR_IFZ: { if (!SLOT(1)) { pc = pc[2].target; NEXT(); } SKIP(3); }
    X_BR_IF_R: { if (iacc) { pc = pc[2].target; NEXT(); } SKIP(3); }
    X_BR_IFZ_R: { if (!iacc) { pc = pc[2].target; NEXT(); } SKIP(3); }
    /* A counter stepped and tested (`--n != 0`), the target in cell 4. */
    X_BR_IF_ADD_IMM: { uint32_t v = U32(2) + pc[3].u32; SLOT(1) = v; if (v) { pc = pc[4].target; NEXT(); } SKIP(5); }
    X_BR_IFZ_ADD_IMM: { uint32_t v = U32(2) + pc[3].u32; SLOT(1) = v; if (!v) { pc = pc[4].target; NEXT(); } SKIP(5); }
    X_BR_IF_AND_IMM: { uint32_t v = U32(2) & pc[3].u32; SLOT(1) = v; if (v) { pc = pc[4].target; NEXT(); } SKIP(5); }
    X_BR_IFZ_AND_IMM: { uint32_t v = U32(2) & pc[3].u32; SLOT(1) = v; if (!v) { pc = pc[4].target; NEXT(); } SKIP(5); }
    X_BR_TABLE: {
        uint32_t i = U32(1), n = pc[2].u32;
        pc = pc[3 + (i < n ? i : n)].target;
        NEXT();
    }
    X_BR_TABLE_R: {
        uint32_t i = (uint32_t)iacc, n = pc[2].u32;
        pc = pc[3 + (i < n ? i : n)].target;
        NEXT();
    }
    X_SELECT: { SLOT(1) = SLOT(4) ? SLOT(2) : SLOT(3); SKIP(5); }
    X_GLOBAL_GET: { SLOT(1) = inst->globals[pc[2].u32]->value; SKIP(3); }
    X_GLOBAL_SET: { inst->globals[pc[2].u32]->value = SLOT(1); SKIP(3); }
    X_REF_FUNC: { SLOT(1) = (uint64_t)(uintptr_t)inst->funcs[pc[2].u32]; SKIP(3); }
    X_REF_IS_NULL: { SLOT(1) = SLOT(2) == 0; SKIP(3); }

#define BRCMP(NAME, T, OP)                                                              \
    X_BR_##NAME: { if ((T)SLOT(1) OP (T)SLOT(2)) { pc = pc[3].target; NEXT(); } SKIP(4); }
#define BRCMP_IMM(NAME, T, OP)                                                          \
    X_BR_##NAME##_IMM: { if ((T)SLOT(1) OP (T)pc[2].u64) { pc = pc[3].target; NEXT(); } SKIP(4); }
/* i32 ones also with a from the accumulator. */
#define BRCMPS(NAME, T, OP) BRCMP(NAME, T, OP) BRCMP_IMM(NAME, T, OP)                      \
    X_BR_##NAME##_RA: { if ((T)iacc OP (T)SLOT(2)) { pc = pc[3].target; NEXT(); } SKIP(4); } \
    X_BR_##NAME##_IMM_R: { if ((T)iacc OP (T)pc[2].u64) { pc = pc[3].target; NEXT(); } SKIP(4); }
    BRCMPS(I32_EQ, uint32_t, ==)
    BRCMPS(I32_NE, uint32_t, !=)
    BRCMPS(I32_LT_S, int32_t, <)
    BRCMPS(I32_LT_U, uint32_t, <)
    BRCMPS(I32_GT_S, int32_t, >)
    BRCMPS(I32_GT_U, uint32_t, >)
    BRCMPS(I32_LE_S, int32_t, <=)
    BRCMPS(I32_LE_U, uint32_t, <=)
    BRCMPS(I32_GE_S, int32_t, >=)
    BRCMPS(I32_GE_U, uint32_t, >=)
#define ADD_BR(NAME, T, OP)                                                                        \
    X_ADD_BR_##NAME: {                                                                             \
        uint32_t v = U32(2) + pc[3].u32;                                                           \
        SLOT(1) = iacc = v;                                                                        \
        if ((T)v OP (T)pc[4].u32) { pc = pc[5].target; NEXT(); }                                   \
        SKIP(6);                                                                                   \
    }                                                                                              \
    X_ADD_BR_##NAME##_R: {                                                                         \
        uint32_t v = (uint32_t)iacc + pc[3].u32;                                                   \
        SLOT(1) = iacc = v;                                                                        \
        if ((T)v OP (T)pc[4].u32) { pc = pc[5].target; NEXT(); }                                   \
        SKIP(6);                                                                                   \
    }
    ADD_BR(NE, uint32_t, !=)
    ADD_BR(LT_U, uint32_t, <)
    ADD_BR(GT_S, int32_t, >)
#undef ADD_BR
    X_ADD_BR_NE_S: {
        uint32_t v = U32(2) + pc[3].u32;
        SLOT(1) = iacc = v;
        if (v != U32(4)) { pc = pc[5].target; NEXT(); }
        SKIP(6);
    }
    X_ADD_BR_LT_U_S: {
        uint32_t v = U32(2) + pc[3].u32;
        SLOT(1) = iacc = v;
        if (v < U32(4)) { pc = pc[5].target; NEXT(); }
        SKIP(6);
    }
    BRCMP(I64_EQ, uint64_t, ==)
    BRCMP(I64_NE, uint64_t, !=)
    BRCMP(I64_LT_S, int64_t, <)
    BRCMP(I64_LT_U, uint64_t, <)
    BRCMP(I64_GT_S, int64_t, >)
    BRCMP(I64_GT_U, uint64_t, >)
    BRCMP(I64_LE_S, int64_t, <=)
    BRCMP(I64_LE_U, uint64_t, <=)
    BRCMP(I64_GE_S, int64_t, >=)
    BRCMP(I64_GE_U, uint64_t, >=)

#define BRF64(NAME, COND) \
    X_BR_F64_##NAME: { double a = F64(1), b = F64(2); if (COND) { pc = pc[3].target; NEXT(); } SKIP(4); }
#define BRF64_RA(NAME, COND) \
    X_BR_F64_##NAME##_RA: { double a = facc, b = F64(2); if (COND) { pc = pc[3].target; NEXT(); } SKIP(4); }
    BRF64(EQ, a == b)
    BRF64(NE, a != b)
    BRF64(LT, a < b)
    BRF64(GT, a > b)
    BRF64(LE, a <= b)
    BRF64(GE, a >= b)
    BRF64(NLT, !(a < b))
    BRF64(NGT, !(a > b))
    BRF64(NLE, !(a <= b))
    BRF64(NGE, !(a >= b))
    BRF64_RA(LT, a < b)
    BRF64_RA(GT, a > b)
    BRF64_RA(LE, a <= b)
    BRF64_RA(GE, a >= b)

    /* A loop header spends fuel, so that no loop runs without paying: more for a longer body. */
    X_LOOP: {
        if (fuel <= 0) goto out_of_fuel;
        fuel -= pc[1].i64;
        SKIP(2);
    }
    /* The same, going on into the next instruction's handler: out of fuel, it stops at the LOOP as above. */
#define LOOP_INTO(NAME, LABEL)                \
    X_LOOP_##NAME: {                          \
        if (fuel <= 0) goto out_of_fuel;      \
        fuel -= pc[1].i64;                    \
        pc += 2;                              \
        goto LABEL;                           \
    }
    LOOP_INTO(I32_ADD_IMM, L_I32_ADD_IMM)
    LOOP_INTO(I32_ADD_IMM2, X_I32_ADD_IMM2)
    LOOP_INTO(I64_ADD_IMM, L_I64_ADD_IMM)
    LOOP_INTO(I32_ADD, L_I32_ADD)
    LOOP_INTO(I32_AND_IMM, L_I32_AND_IMM)
    LOOP_INTO(I32_SHL_IMM, L_I32_SHL_IMM)
    LOOP_INTO(I32_LOAD, L_I32_LOAD)
    LOOP_INTO(I32_LOAD8_U_ADDR, L_I32_LOAD8_U_ADDR)
    LOOP_INTO(F64_LOAD, L_F64_LOAD)
    LOOP_INTO(COPY, X_COPY)
    LOOP_INTO(COPY2, X_COPY2)
    LOOP_INTO(I32_ADD_SHL, X_I32_ADD_SHL)
    LOOP_INTO(I32_LOAD16_U, L_I32_LOAD16_U)
    LOOP_INTO(I32_LOAD8_U_IX, X_I32_LOAD8_U_IX)
    LOOP_INTO(I32_SUB, L_I32_SUB)

    /* op func_index frame_offset */
    X_CALL: {
        callee = inst->funcs[pc[1].u32];
        nfp = fp + pc[2].u32;
        ret = pc + 3;
        goto do_call;
    }
    /* op type_index table_index s_elem frame_offset */
    X_CALL_INDIRECT: {
        wr_table *t = inst->tables[pc[2].u32];
        uint32_t i = U32(3);
        if (i >= t->size) TRAP(UNDEFINED_ELEMENT);
        callee = t->elems[i];
        if (!callee) TRAP(UNINITIALIZED_ELEMENT);
        if (callee->type_id != inst->type_ids[pc[1].u32]) TRAP(INDIRECT_CALL_TYPE);
        nfp = fp + pc[4].u32;
        ret = pc + 5;
        goto do_call;
    }

do_call:
    if (callee->code) {
        const wr__code *c = callee->code;
        /* pc still points at the call: running out of fuel here repeats the call on resume. */
        if (fuel <= 0) goto out_of_fuel;
        if (depth >= max_frames || nfp + c->frame_slots > stack_end) TRAP(CALL_STACK_EXHAUSTED);
        fuel -= c->entry_fuel;
        frames[depth].ret_pc = ret;
        frames[depth].fp = fp;
        frames[depth].func = callee;
        depth++;
        /* Mostly a few slots, for which a call of memcpy costs more than the
         * copy (a fifth of fib's time); a loop gcc would turn into that call. */
        {
            uint64_t *d = nfp + c->nparams;
            const uint64_t *src = c->frame_init;
            switch (c->ninit) {
            case 4: d[3] = src[3]; /* fall through */
            case 3: d[2] = src[2]; /* fall through */
            case 2: d[1] = src[1]; /* fall through */
            case 1: d[0] = src[0]; /* fall through */
            case 0: break;
            default: memcpy(d, src, (size_t)c->ninit * sizeof *d);
            }
        }
        fp = nfp;
        pc = c->cells;
        if (callee->inst != inst) {
            inst = callee->inst;
            LOAD_MEM();
        }
        NEXT();
    } else {
        /* A host function: arguments and results share the slots at nfp. */
        e->caller = inst;
        e->depth = depth;
        e->fuel = fuel - WR_FUEL_HOST_CALL + reserve;
        wr_status hs = callee->host(e, callee->env, nfp, nfp);
        /* What the call cost comes out of the chunk under way, so the clock is read as often as before. */
        if (e->fuel >= reserve)
            fuel = e->fuel - reserve;
        else
            SPLIT_FUEL(e->fuel);
        if (hs == WR_OK) {
            LOAD_MEM(); /* the host may have grown the memory */
            pc = ret;
            NEXT();
        }
        if (hs == WR_SUSPEND) {
            e->pc = ret;
            e->fp = fp;
            e->host_results = nfp;
            e->host_nresults = callee->type.nresults;
            e->state = WR__EXEC_SUSPENDED;
            status = WR_SUSPENDED;
            goto out;
        }
        status = wr_status_is_trap(hs) ? hs : WR_TRAP_HOST;
        goto trap;
    }

    X_RETURN: {
        depth--;
        pc = frames[depth].ret_pc;
        fp = frames[depth].fp;
        if (depth == 0)
            goto done;
        wr_instance *ci = frames[depth - 1].func->inst;
        if (ci != inst) {
            inst = ci;
            LOAD_MEM();
        }
        NEXT();
    }

    /* Opcodes the translator never emits as themselves. */
    L_UNREACHABLE: TRAP(UNREACHABLE);
    L_NOP: L_BLOCK: L_LOOP: L_IF: L_ELSE: L_END: L_BR: L_BR_IF: L_BR_TABLE: L_RETURN:
    L_CALL: L_CALL_INDIRECT: L_REF_NULL: L_REF_IS_NULL: L_REF_FUNC: L_DROP: L_SELECT:
    L_SELECT_T: L_LOCAL_GET: L_LOCAL_SET: L_LOCAL_TEE: L_GLOBAL_GET: L_GLOBAL_SET:
    L_I32_CONST: L_I64_CONST: L_F32_CONST: L_F64_CONST:
        abort(); /* a translator bug, never guest input */

done:
    e->depth = 0;
    e->fuel = fuel + reserve;
    e->state = WR__EXEC_IDLE;
    return WR_OK;

out_of_fuel:
    /* More fuel in reserve, and the deadline not passed yet: take it and retry the instruction at pc. */
    if (reserve > 0 && monotonic_ns() < e->deadline_ns) {
        int64_t take = reserve < (int64_t)WR_FUEL_CHECK_INTERVAL ? reserve : (int64_t)WR_FUEL_CHECK_INTERVAL;
        fuel += take;
        reserve -= take;
        NEXT();
    }
    e->pc = pc;
    e->fp = fp;
    e->state = WR__EXEC_OUT_OF_FUEL;
    status = WR_OUT_OF_FUEL;
    goto out;

trap:
    e->nbacktrace = 0;
    for (uint32_t i = depth; i > 0 && e->nbacktrace < WR_MAX_BACKTRACE; i--) {
        const wr_func *f = frames[i - 1].func;
        wr_frame_info *bt = &e->backtrace[e->nbacktrace++];
        bt->func_index = f->index;
        bt->name = f->inst ? f->inst->module->funcs[f->index].name : NULL;
    }
    depth = 0;
    e->state = WR__EXEC_IDLE;
    e->bulk_done = 0;

out:
    e->depth = depth;
    e->fuel = fuel + reserve;
    return status;
}

const void *const *wr__interp_handlers(void) {
    const void *const *t;
    interp(NULL, &t);
    return t;
}

#ifdef WR_OPSTATS
static const void *const *opstat_table(void) { return wr__interp_handlers(); }
#endif

wr_status wr__interp_run(wr_exec *e) {
    return interp(e, NULL);
}

/* ---- The execution API ------------------------------------------------ */

/*
 * The value stack and the call stack of an exec share one anonymous
 * mapping, the frames after the slots (at a WR_PAGE_SIZE boundary, which
 * is a multiple of the host's page size): pages never touched cost no RAM,
 * so a deep limit is reserved rather than paid for, and a shallow run
 * touches a page or two of each.  0 when the limits do not fit in a size_t.
 */
static size_t exec_mapping_size(const wr_exec *e, size_t *ret_frames_offset) {
    uint64_t stack = (uint64_t)e->stack_slots * sizeof *e->stack;
    stack = (stack + WR_PAGE_SIZE - 1) / WR_PAGE_SIZE * WR_PAGE_SIZE;
    uint64_t total = stack + (uint64_t)e->max_frames * sizeof *e->frames;
    if (total > SIZE_MAX || total == 0)
        return 0;
    *ret_frames_offset = (size_t)stack;
    return (size_t)total;
}

wr_exec *wr_exec_new(wr_store *s) {
    wr_exec *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->store = s;
    e->stack_slots = s->limits.value_stack_slots;
    e->max_frames = s->limits.max_call_depth;
    size_t frames_offset;
    size_t size = exec_mapping_size(e, &frames_offset);
    void *p = size ? mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
                   : MAP_FAILED;
    if (p == MAP_FAILED) {
        free(e);
        return NULL;
    }
    e->stack = p;
    e->frames = (wr__frame *)((uint8_t *)p + frames_offset);
    e->fuel = WR_FUEL_UNLIMITED;
    return e;
}

void wr_exec_free(wr_exec *e) {
    if (!e)
        return;
    size_t frames_offset;
    munmap(e->stack, exec_mapping_size(e, &frames_offset));
    free(e);
}

static void val_to_slot(const wr_val *v, uint64_t *slot) {
    switch (v->type) {
    case WR_I32: *slot = (uint32_t)v->of.i32; break;
    case WR_F32: *slot = v->of.f32_bits; break;
    case WR_I64: *slot = (uint64_t)v->of.i64; break;
    case WR_F64: *slot = v->of.f64_bits; break;
    default: *slot = (uint64_t)(uintptr_t)v->of.ref; break;
    }
}

static void slot_to_val(uint64_t slot, wr_valtype t, wr_val *v) {
    v->type = t;
    v->of.i64 = 0;
    switch (t) {
    case WR_I32: v->of.i32 = (int32_t)(uint32_t)slot; break;
    case WR_F32: v->of.f32_bits = (uint32_t)slot; break;
    case WR_I64: v->of.i64 = (int64_t)slot; break;
    case WR_F64: v->of.f64_bits = slot; break;
    default: v->of.ref = (void *)(uintptr_t)slot; break;
    }
}

/* Copies the entry function's results out of slots 0..n-1. */
static wr_status finish(wr_exec *e, wr_status s, wr_val *results, size_t nresults) {
    if (s == WR_OK) {
        const wr_functype *t = &e->entry->type;
        for (uint32_t i = 0; i < t->nresults && i < nresults; i++)
            slot_to_val(e->stack[i], t->types[t->nparams + i], &results[i]);
        e->entry = NULL;
    } else if (wr_status_is_trap(s)) {
        e->entry = NULL;
    }
    return s;
}

/*
 * Pushes the entry frame for e->entry, whose arguments are already in slots
 * 0..nparams-1, and runs it.  With no fuel left it stops before the entry,
 * so that wr_resume() can start it later.
 */
static wr_status enter_and_run(wr_exec *e, wr_val *results, size_t nresults) {
    const wr__code *c = e->entry->code;
    if (e->fuel <= 0) {
        e->state = WR__EXEC_OUT_OF_FUEL;
        e->pc = NULL;
        return WR_OUT_OF_FUEL;
    }
    if (c->frame_slots > e->stack_slots || e->max_frames == 0) {
        e->state = WR__EXEC_IDLE;
        return finish(e, WR_TRAP_CALL_STACK_EXHAUSTED, results, nresults);
    }
    e->fuel -= c->entry_fuel;
    e->frames[0].ret_pc = NULL;
    e->frames[0].fp = NULL;
    e->frames[0].func = e->entry;
    e->depth = 1;
    if (c->ninit)
        memcpy(e->stack + c->nparams, c->frame_init, (size_t)c->ninit * sizeof *e->stack);
    e->pc = c->cells;
    e->fp = e->stack;
    e->state = WR__EXEC_RUNNING;
    return finish(e, wr__interp_run(e), results, nresults);
}

wr_status wr_call(wr_exec *e, wr_func *f, const wr_val *args, size_t nargs, wr_val *results, size_t nresults) {
    if (e->state != WR__EXEC_IDLE)
        return WR_ERR_STATE;
    const wr_functype *t = &f->type;
    if (nargs != t->nparams || nresults != t->nresults)
        return WR_ERR_ARGS;
    for (uint32_t i = 0; i < t->nparams; i++)
        if (args[i].type != t->types[i])
            return WR_ERR_ARGS;
    uint32_t need = t->nparams > t->nresults ? t->nparams : t->nresults;
    if (need > e->stack_slots)
        return WR_TRAP_CALL_STACK_EXHAUSTED;
    for (uint32_t i = 0; i < t->nparams; i++)
        val_to_slot(&args[i], &e->stack[i]);
    e->entry = f;
    e->nbacktrace = 0;
    e->caller = f->inst;

    if (f->code)
        return enter_and_run(e, results, nresults);

    /* Calling a host function directly: no WebAssembly frame is involved. */
    wr_status hs = f->host(e, f->env, e->stack, e->stack);
    if (hs == WR_SUSPEND) {
        e->state = WR__EXEC_SUSPENDED;
        e->pc = NULL;
        e->host_results = e->stack;
        e->host_nresults = t->nresults;
        return WR_SUSPENDED;
    }
    return finish(e, hs == WR_OK || wr_status_is_trap(hs) ? hs : WR_TRAP_HOST, results, nresults);
}

wr_status wr_resume(wr_exec *e, const uint64_t *host_results, wr_val *results, size_t nresults) {
    if (e->state != WR__EXEC_SUSPENDED && e->state != WR__EXEC_OUT_OF_FUEL)
        return WR_ERR_STATE;
    if (nresults != e->entry->type.nresults)
        return WR_ERR_ARGS;
    if (e->state == WR__EXEC_SUSPENDED) {
        if (e->host_nresults && !host_results)
            return WR_ERR_ARGS;
        for (uint32_t i = 0; i < e->host_nresults; i++)
            e->host_results[i] = host_results[i];
        if (!e->pc) {
            /* The entry itself was the host function: its results are the call's. */
            e->state = WR__EXEC_IDLE;
            return finish(e, WR_OK, results, nresults);
        }
    } else if (!e->pc) {
        /* Ran out of fuel before the entry function started. */
        return enter_and_run(e, results, nresults);
    }
    e->state = WR__EXEC_RUNNING;
    return finish(e, wr__interp_run(e), results, nresults);
}

void wr_exec_reset(wr_exec *e) {
    e->state = WR__EXEC_IDLE;
    e->bulk_done = 0;
    e->depth = 0;
    e->entry = NULL;
    e->pc = NULL;
}

void wr_exec_set_fuel(wr_exec *e, int64_t fuel) { e->fuel = fuel; }
void wr_exec_set_deadline(wr_exec *e, uint64_t deadline_ns) { e->deadline_ns = deadline_ns; }

void wr_exec_charge(wr_exec *e, uint64_t units) {
    /* Saturating: a charge can only bring fuel down to INT64_MIN / 2, which no refill overflows. */
    const int64_t floor = INT64_MIN / 2;
    /* fuel - floor in unsigned arithmetic: exact, where the signed difference could overflow. */
    if (e->fuel <= floor || units >= (uint64_t)e->fuel - (uint64_t)floor)
        e->fuel = floor;
    else
        e->fuel -= (int64_t)units;
}
int64_t wr_exec_fuel(const wr_exec *e) { return e->fuel; }
wr_memory *wr_exec_memory(wr_exec *e) { return first_memory(e->caller); }
wr_instance *wr_exec_instance(wr_exec *e) { return e->caller; }
void wr_exec_set_userdata(wr_exec *e, void *ud) { e->userdata = ud; }
void *wr_exec_userdata(const wr_exec *e) { return e->userdata; }

size_t wr_exec_backtrace(const wr_exec *e, wr_frame_info *out, size_t max) {
    size_t n = e->nbacktrace < max ? e->nbacktrace : max;
    memcpy(out, e->backtrace, n * sizeof *out);
    return e->nbacktrace;
}
