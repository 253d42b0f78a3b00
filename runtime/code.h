/*
 * code.h - the internal operations that compile.c emits and interp.c runs.
 *
 * Operation numbers:
 *   [0, WR__OPCODE_LIMIT)         the WebAssembly opcode of the same number, on frame slots
 *   WR__IOP_IMM(op)               a binary integer operation whose right operand is an immediate
 *   WR__IOP_EXTRA + WR__X_*       operations with no WebAssembly counterpart
 *   WR__IOP_ADDR(op)              a load or store whose address is (slot + addend) mod 2^32
 *
 * Operand layouts (each operand one cell; "s" = frame slot index, "t" = branch target):
 *   unary      op s_dst s_src
 *   binary     op s_dst s_a s_b            (IMM variant: op s_dst s_a imm)
 *   load       op s_dst s_addr offset
 *   store      op s_addr s_value offset
 *   load ADDR  op s_dst s_base addend offset
 *   store ADDR op s_base addend s_value offset
 *   see interp.c for the others; each handler's comment gives its layout.
 */
#ifndef WR_CODE_H
#define WR_CODE_H

#include "internal.h"

#define WR__IOP_IMM(op) (WR__OPCODE_LIMIT + (op))
#define WR__IOP_EXTRA (2 * WR__OPCODE_LIMIT)

/* Operations with no WebAssembly counterpart. */
#define WR__EXTRA_OPS(X)                                                          \
    X(COPY)            /* s_dst s_src */                                          \
    X(COPY2)           /* s_dst s_src s_dst2 s_src2: two copies, in that order */ \
    X(I32_ADD_IMM2)    /* s_dst2 s_a2 imm2 s_dst s_a imm: two i32.add IMM, the second's operands first */ \
    X(CONST)           /* s_dst value */                                          \
    X(BR)              /* t */                                                    \
    X(BR_IF)           /* s_cond t: jump if cond != 0 */                          \
    X(BR_IFZ)          /* s_cond t: jump if cond == 0 */                          \
    X(BR_TABLE)        /* s_index n t_0 ... t_n-1 t_default */                    \
    X(BR_TABLE_R)      /* the same, the index the i32 accumulator (a switch on \
                        * what was just loaded or computed) */                 \
    X(LOOP)            /* cost: spends that much fuel (1 + body cells / WR_FUEL_CODE_CELLS) */ \
    /* LOOP, then straight into the instruction after it (a direct jump, not \
     * a dispatch), for the commonest first instructions of a loop body. */    \
    X(LOOP_I32_ADD_IMM) X(LOOP_I32_ADD_IMM2) X(LOOP_I64_ADD_IMM) X(LOOP_I32_ADD) \
    X(LOOP_I32_AND_IMM) X(LOOP_I32_SHL_IMM) X(LOOP_I32_LOAD) X(LOOP_I32_LOAD8_U_ADDR) \
    X(LOOP_F64_LOAD) X(LOOP_COPY) X(LOOP_COPY2) X(LOOP_I32_ADD_SHL)             \
    X(LOOP_I32_LOAD16_U) X(LOOP_I32_LOAD8_U_IX) X(LOOP_I32_SUB)                 \
    X(CALL)            /* func_index frame_offset */                              \
    X(CALL_INDIRECT)   /* type_index table_index s_elem frame_offset */           \
    X(RETURN)          /* (none): results are in slots 0..n-1 */                 \
    X(SELECT)          /* s_dst s_a s_b s_cond */                                 \
    X(GLOBAL_GET)      /* s_dst global_index */                                   \
    X(GLOBAL_SET)      /* s_src global_index */                                   \
    X(REF_FUNC)        /* s_dst func_index */                                     \
    X(REF_IS_NULL)     /* s_dst s_src */                                          \
    /* Compare and branch, fused: jump to t if (a OP b). */                       \
    X(BR_I32_EQ) X(BR_I32_NE) X(BR_I32_LT_S) X(BR_I32_LT_U) X(BR_I32_GT_S)        \
    X(BR_I32_GT_U) X(BR_I32_LE_S) X(BR_I32_LE_U) X(BR_I32_GE_S) X(BR_I32_GE_U)    \
    /* ... and with an immediate b: s_a imm t. */                                 \
    X(BR_I32_EQ_IMM) X(BR_I32_NE_IMM) X(BR_I32_LT_S_IMM) X(BR_I32_LT_U_IMM)       \
    X(BR_I32_GT_S_IMM) X(BR_I32_GT_U_IMM) X(BR_I32_LE_S_IMM) X(BR_I32_LE_U_IMM)   \
    X(BR_I32_GE_S_IMM) X(BR_I32_GE_U_IMM)                                          \
    X(BR_I64_EQ) X(BR_I64_NE) X(BR_I64_LT_S) X(BR_I64_LT_U) X(BR_I64_GT_S)        \
    X(BR_I64_GT_U) X(BR_I64_LE_S) X(BR_I64_LE_U) X(BR_I64_GE_S) X(BR_I64_GE_U)    \
    /* f64 operations taking one operand from the accumulator, the result of  \
     * the instruction just before (see "The f64 accumulator" in interp.c);   \
     * the layout is the plain operation's, the cell of that operand unread.  \
     * RA: a is the accumulator; RB: b is. */                                   \
    X(F64_ADD_RA) X(F64_SUB_RA) X(F64_MUL_RA) X(F64_DIV_RA)                     \
    X(F64_ADD_RB) X(F64_SUB_RB) X(F64_MUL_RB) X(F64_DIV_RB)                     \
    X(F64_SQRT_R) X(F64_STORE_R) X(F64_STORE_ADDR_R)                            \
    /* The same for i32 (the accumulator iacc): stores of it, conditional    \
     * branches on it, and compare-and-branch with it as a. */                 \
    X(I32_STORE_R) X(I32_STORE8_R) X(I32_STORE16_R)                             \
    X(I32_STORE_ADDR_R) X(I32_STORE8_ADDR_R) X(I32_STORE16_ADDR_R)              \
    X(BR_IF_R) X(BR_IFZ_R)                                                      \
    X(BR_I32_EQ_RA) X(BR_I32_NE_RA) X(BR_I32_LT_S_RA) X(BR_I32_LT_U_RA)         \
    X(BR_I32_GT_S_RA) X(BR_I32_GT_U_RA) X(BR_I32_LE_S_RA) X(BR_I32_LE_U_RA)     \
    X(BR_I32_GE_S_RA) X(BR_I32_GE_U_RA)                                         \
    X(BR_I32_EQ_IMM_R) X(BR_I32_NE_IMM_R) X(BR_I32_LT_S_IMM_R) X(BR_I32_LT_U_IMM_R) \
    X(BR_I32_GT_S_IMM_R) X(BR_I32_GT_U_IMM_R) X(BR_I32_LE_S_IMM_R) X(BR_I32_LE_U_IMM_R) \
    X(BR_I32_GE_S_IMM_R) X(BR_I32_GE_U_IMM_R)                                   \
    /* f64 add/sub/mul with b loaded from memory, the load folded in:        \
     * LD: s_dst s_a s_addr offset; LDA: s_dst s_a s_base addend offset       \
     * (address as in the ADDR loads); RA: a is the f64 accumulator. */        \
    X(F64_ADD_LD) X(F64_SUB_LD) X(F64_MUL_LD)                                   \
    X(F64_ADD_LD_RA) X(F64_SUB_LD_RA) X(F64_MUL_LD_RA)                          \
    X(F64_ADD_LDA) X(F64_SUB_LDA) X(F64_MUL_LDA)                                \
    X(F64_ADD_LDA_RA) X(F64_SUB_LDA_RA) X(F64_MUL_LDA_RA)                       \
    /* s_addr offset: the f64 at the address += the f64 accumulator (an       \
     * F64_ADD_LD_RA and the store of its sum back to the same place). */      \
    X(F64_ADD_TO_RA)                                                            \
    /* i32.xor with b rotated left or shifted right by a constant, i32.add   \
     * with b shifted left (array indexing), the shift folded in:             \
     * s_dst s_a s_x k (b = x rotl k, x >> k, x << k); RA: a is iacc. */        \
    X(I32_XOR_ROTL) X(I32_XOR_ROTL_RA) X(I32_XOR_SHR_U) X(I32_XOR_SHR_U_RA)     \
    X(I32_ADD_SHL) X(I32_ADD_SHL_RA)                                           \
    /* i32.add of a product just computed: s_dst s_c s_a s_b (c + a * b; RA:  \
     * a is iacc; IMM: b is an immediate). */                                   \
    X(I32_MAD) X(I32_MAD_RA) X(I32_MAD_IMM)                                     \
    /* f64 compare-and-branch, s_a s_b t: jump if a OP b; N: if not (NaN makes \
     * !(a < b) differ from a >= b); RA: a is the f64 accumulator. */          \
    X(BR_F64_EQ) X(BR_F64_NE) X(BR_F64_LT) X(BR_F64_GT) X(BR_F64_LE) X(BR_F64_GE) \
    X(BR_F64_NLT) X(BR_F64_NGT) X(BR_F64_NLE) X(BR_F64_NGE)                     \
    X(BR_F64_LT_RA) X(BR_F64_GT_RA) X(BR_F64_LE_RA) X(BR_F64_GE_RA)             \
    /* A conditional branch on the i32 just computed, the instruction that    \
     * computed it folded in: its layout, then t; jump if the result is      \
     * non-zero (IF) or zero (IFZ).  The result still goes to its slot. */   \
    X(BR_IF_LD) X(BR_IFZ_LD) X(BR_IF_LD8U) X(BR_IFZ_LD8U)                       \
    X(BR_IF_ADD_IMM) X(BR_IFZ_ADD_IMM) X(BR_IF_AND_IMM) X(BR_IFZ_AND_IMM)      \
    /* (a >> k) & m, (a + k) & m: s_dst s_a k m; R: a is iacc. */              \
    X(I32_SHR_U_AND) X(I32_SHR_U_AND_R) X(I32_ADD_AND) X(I32_ADD_AND_R)         \
    /* s_dst value s_dst2 s_src2: a CONST, then a COPY, in that order. */      \
    X(CONST_COPY)                                                               \
    /* s_addr k offset: the i32 at the address += k (a load, an add and a     \
     * store of the sum back to the same place). */                           \
    X(I32_ADD_TO_IMM)                                                           \
    /* A COPY, then BR, BR_IF or BR_IFZ: s_dst s_src, then the branch's own    \
     * operands (t; s_cond t). */                                             \
    X(COPY_BR) X(COPY_BR_IF) X(COPY_BR_IFZ)                                    \
    /* i32 loads from a sum just computed (an array's element, a byte of a    \
     * buffer), the i32.add folded in: IX: s_dst s_a s_b offset, from a + b;  \
     * IX_R: the same, a being iacc; K_R: s_dst - k offset, from iacc + k;    \
     * SHL: s_dst s_a s_x k offset, from a + (x << k); SHL_R: a being iacc.   \
     * (A slot plus a constant is the ADDR form of every load.) */            \
    X(I32_LOAD_IX) X(I32_LOAD8_U_IX) X(I32_LOAD16_U_IX)                         \
    X(I32_LOAD_IX_R) X(I32_LOAD8_U_IX_R) X(I32_LOAD16_U_IX_R)                   \
    X(I32_LOAD_K_R) X(I32_LOAD8_U_K_R) X(I32_LOAD16_U_K_R)                      \
    X(I32_LOAD_SHL) X(I32_LOAD16_U_SHL) X(I32_LOAD_SHL_R) X(I32_LOAD16_U_SHL_R) \
    /* s_addr s_a k offset: i32.store of a + k just computed (a count, a      \
     * pointer moved on), the i32.add folded in; R: a is iacc. */             \
    X(I32_STORE_ADD_IMM) X(I32_STORE_ADD_IMM_R)                                \
    /* A loop's latch, i += k; if (i OP m) goto t: s_dst s_a k m t, the sum    \
     * going to dst (and iacc) as I32_ADD IMM's does; R: a is iacc.  For the  \
     * commonest OPs but >u (see fold_add_branch in compile.c). */            \
    X(ADD_BR_NE) X(ADD_BR_LT_U) X(ADD_BR_GT_S)                                 \
    X(ADD_BR_NE_R) X(ADD_BR_LT_U_R) X(ADD_BR_GT_S_R)                           \
    /* The same with m a slot, not a constant: s_dst s_a k s_m t. */            \
    X(ADD_BR_NE_S) X(ADD_BR_LT_U_S)

enum wr__extra_op {
#define WR__EXTRA_ENUM(name) WR__X_##name,
    WR__EXTRA_OPS(WR__EXTRA_ENUM)
#undef WR__EXTRA_ENUM
    WR__X_COUNT
};

#define WR__IOP_ADDR(op) (WR__IOP_EXTRA + WR__X_COUNT + (op) - WR__OP_I32_LOAD)
/*
 * i32 operations i32.add .. i32.rotr (not the divisions: their entries are
 * unused) reading the i32 accumulator (interp.c)
 * as a (RA), as b (RB), or as a with an immediate b (IMM_R); loads whose
 * address is the accumulator (LOAD_R, all loads).  Layouts as the plain
 * operation's, the accumulator's cell unread.
 */
#define WR__ACC_BINOPS (WR__OP_I32_ROTR + 1 - WR__OP_I32_ADD)
#define WR__IOP_RA(op) (WR__IOP_ADDR(WR__OP_I64_STORE32 + 1) + (op) - WR__OP_I32_ADD)
#define WR__IOP_RB(op) (WR__IOP_RA(op) + WR__ACC_BINOPS)
#define WR__IOP_IMM_R(op) (WR__IOP_RB(op) + WR__ACC_BINOPS)
#define WR__IOP_LOAD_R(op) (WR__IOP_IMM_R(WR__OP_I32_ROTR + 1) + (op) - WR__OP_I32_LOAD)
#define WR__IOP_LIMIT WR__IOP_LOAD_R(WR__OP_I64_LOAD32_U + 1)

#endif /* WR_CODE_H */
