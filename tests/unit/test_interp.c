/*
 * test_interp.c - the interpreter's resumable execution: host functions that
 * suspend, fuel that runs out and is refilled, recursion that ends in a clean
 * exhaustion trap, traps with backtraces, and the translator's copies.
 *
 * The module is tests/wat/exec.wat, built by the Makefile into
 * $TEST_WASM_DIR/exec.wasm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/wr.h"
#include "test_util.h"

typedef struct fixture {
    wr_module *module;
    wr_store *store;
    wr_instance *inst;
    wr_exec *exec;
    int asks;         /* calls of the host function */
    bool suspend;     /* whether the host function suspends */
} fixture;

/* env.ask(n) answers n * 2, either at once or by suspending. */
static wr_status host_ask(wr_exec *e, void *env, const uint64_t *args, uint64_t *results) {
    fixture *fx = env;
    fx->asks++;
    if (fx->suspend)
        return WR_SUSPEND;
    results[0] = (uint32_t)args[0] * 2;
    return WR_OK;
}

static int setup_with(void **state, const wr_limits *limits) {
    fixture *fx = calloc(1, sizeof *fx);
    wr_error err;
    fx->module = test_load_wasm("exec.wasm");
    fx->store = wr_store_new(limits);
    assert_non_null(fx->store);

    static const wr_valtype ask_types[] = {WR_I32, WR_I32};
    wr_functype ask_type = {1, 1, ask_types};
    wr_extern imp = {.kind = WR_EXTERN_FUNC};
    imp.of.func = wr_func_new_host(fx->store, &ask_type, host_ask, fx);
    assert_int_equal(wr_instantiate(fx->store, fx->module, &imp, 1, &fx->inst, &err), WR_OK);
    fx->exec = wr_exec_new(fx->store);
    assert_non_null(fx->exec);
    *state = fx;
    return 0;
}

static int setup(void **state) {
    return setup_with(state, NULL);
}

static int setup_small_stack(void **state) {
    wr_limits limits = {0};
    limits.max_call_depth = 200;
    return setup_with(state, &limits);
}

static int teardown(void **state) {
    fixture *fx = *state;
    wr_exec_free(fx->exec);
    wr_store_free(fx->store);
    wr_module_free(fx->module);
    free(fx);
    return 0;
}

static wr_func *export_func(fixture *fx, const char *name) {
    wr_extern ex;
    assert_true(wr_instance_export(fx->inst, name, &ex));
    assert_int_equal(ex.kind, WR_EXTERN_FUNC);
    return ex.of.func;
}

static void test_host_call_without_suspend(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i32(10), res;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "sum_asks"), &arg, 1, &res, 1), WR_OK);
    assert_int_equal(res.of.i32, 2 * (10 * 11 / 2));
    assert_int_equal(fx->asks, 10);
}

/* Each host call suspends; the embedder answers later, any number of times in one chain. */
static void test_suspend_and_resume_many_times(void **state) {
    fixture *fx = *state;
    fx->suspend = true;
    wr_val arg = wr_val_i32(25), res;
    wr_status s = wr_call(fx->exec, export_func(fx, "nested_asks"), &arg, 1, &res, 1);
    int resumes = 0;
    uint32_t expect_arg = 25;
    while (s == WR_SUSPENDED) {
        /* While suspended, nothing else may be started on this exec. */
        assert_int_equal(wr_call(fx->exec, export_func(fx, "fib"), &arg, 1, &res, 1), WR_ERR_STATE);
        uint64_t answer = (uint64_t)expect_arg * 3; /* a different answer than the non-suspending host */
        expect_arg--;
        resumes++;
        s = wr_resume(fx->exec, &answer, &res, 1);
    }
    assert_int_equal(s, WR_OK);
    assert_int_equal(resumes, 25);
    assert_int_equal(res.of.i32, 3 * (25 * 26 / 2) + 1000);
}

/* Running on a small fuel budget, refuelled each time, gives the same result as one run. */
static void test_fuel_resume_same_result(void **state) {
    fixture *fx = *state;
    wr_func *f = export_func(fx, "collatz_total");
    wr_val arg = wr_val_i32(3000), whole, sliced;
    assert_int_equal(wr_call(fx->exec, f, &arg, 1, &whole, 1), WR_OK);

    wr_exec_set_fuel(fx->exec, 1000);
    wr_status s = wr_call(fx->exec, f, &arg, 1, &sliced, 1);
    int slices = 1;
    while (s == WR_OUT_OF_FUEL) {
        assert_true(wr_exec_fuel(fx->exec) <= 0);
        wr_exec_set_fuel(fx->exec, 1000);
        s = wr_resume(fx->exec, NULL, &sliced, 1);
        slices++;
    }
    assert_int_equal(s, WR_OK);
    assert_true(slices > 100);
    assert_int_equal(sliced.of.i64, whole.of.i64);
    assert_int_equal(whole.of.i64, 215063); /* total Collatz steps for 1..3000 */
}

/* Fuel also stops recursion (every call spends fuel), and resumes inside it. */
static void test_fuel_in_recursion(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i32(20), res;
    wr_exec_set_fuel(fx->exec, 7);
    wr_status s = wr_call(fx->exec, export_func(fx, "fib"), &arg, 1, &res, 1);
    while (s == WR_OUT_OF_FUEL) {
        wr_exec_set_fuel(fx->exec, 7);
        s = wr_resume(fx->exec, NULL, &res, 1);
    }
    assert_int_equal(s, WR_OK);
    assert_int_equal(res.of.i32, 6765);
}

static void test_no_fuel_at_all(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i32(5), res;
    wr_exec_set_fuel(fx->exec, 0);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "fib"), &arg, 1, &res, 1), WR_OUT_OF_FUEL);
    wr_exec_set_fuel(fx->exec, WR_FUEL_UNLIMITED);
    assert_int_equal(wr_resume(fx->exec, NULL, &res, 1), WR_OK);
    assert_int_equal(res.of.i32, 5);
}

/* Deep recursion stops at the configured depth with a trap, not a crash. */
static void test_recursion_depth_limit(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i32(150), res;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "depth"), &arg, 1, &res, 1), WR_OK);
    assert_int_equal(res.of.i32, 150);
    arg = wr_val_i32(250);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "depth"), &arg, 1, &res, 1), WR_TRAP_CALL_STACK_EXHAUSTED);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "runaway"), NULL, 0, NULL, 0), WR_TRAP_CALL_STACK_EXHAUSTED);
    /* The exec is usable again after a trap. */
    arg = wr_val_i32(10);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "depth"), &arg, 1, &res, 1), WR_OK);
    assert_int_equal(res.of.i32, 10);
}

static void test_unbounded_recursion_default_limits(void **state) {
    fixture *fx = *state;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "runaway"), NULL, 0, NULL, 0), WR_TRAP_CALL_STACK_EXHAUSTED);
}

static void test_trap_backtrace_names(void **state) {
    fixture *fx = *state;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "trap_deep"), NULL, 0, NULL, 0), WR_TRAP_MEMORY_OOB);
    wr_frame_info bt[8];
    size_t n = wr_exec_backtrace(fx->exec, bt, 8);
    assert_int_equal(n, 3);
    assert_non_null(bt[0].name);
    assert_string_equal(bt[0].name, "inner_trap");
    assert_string_equal(bt[1].name, "middle");
    assert_null(bt[2].name); /* the exported entry has no name in the name section */
    assert_string_equal(wr_status_message(WR_TRAP_MEMORY_OOB), "out of bounds memory access");
}

static void test_translator_copies(void **state) {
    fixture *fx = *state;
    wr_val args[3] = {wr_val_i32(7), wr_val_i32(9), wr_val_i32(0)}, res[2];
    assert_int_equal(wr_call(fx->exec, export_func(fx, "swap"), args, 2, res, 2), WR_OK);
    assert_int_equal(res[0].of.i32, 9);
    assert_int_equal(res[1].of.i32, 7);
    args[0] = wr_val_i32(1);
    args[1] = wr_val_i32(2);
    args[2] = wr_val_i32(3);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "rotate3"), args, 3, res, 1), WR_OK);
    assert_int_equal(res[0].of.i32, 231001);
}

static uint64_t f64_bits(double d) {
    uint64_t b;
    memcpy(&b, &d, sizeof b);
    return b;
}

static void test_accumulator_at_join(void **state) {
    fixture *fx = *state;
    wr_val args[2] = {wr_val_i32(1), wr_val_f64_bits(f64_bits(2.0))}, res[1];
    assert_int_equal(wr_call(fx->exec, export_func(fx, "acc_join"), args, 2, res, 1), WR_OK);
    assert_true(res[0].of.f64_bits == f64_bits(6.0));
    args[0] = wr_val_i32(0);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "acc_join"), args, 2, res, 1), WR_OK);
    assert_true(res[0].of.f64_bits == f64_bits(9.0));
}

static void test_i32_accumulator_at_join(void **state) {
    fixture *fx = *state;
    wr_val args[2] = {wr_val_i32(1), wr_val_i32(2)}, res[1];
    assert_int_equal(wr_call(fx->exec, export_func(fx, "iacc_join"), args, 2, res, 1), WR_OK);
    assert_int_equal(res[0].of.i32, 1);
    args[0] = wr_val_i32(0);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "iacc_join"), args, 2, res, 1), WR_OK);
    assert_int_equal(res[0].of.i32, 1);
    /* The fallthrough value computed at the block's end, right before the label. */
    args[0] = wr_val_i32(1);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "iacc_join_end"), args, 2, res, 1), WR_OK);
    assert_int_equal(res[0].of.i32, 1);
    args[0] = wr_val_i32(0);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "iacc_join_end"), args, 2, res, 1), WR_OK);
    assert_int_equal(res[0].of.i32, 0);
}

static uint32_t rotl(uint32_t x, unsigned k) {
    return (x << k) | (x >> (32 - k));
}

static void test_xor_shifts(void **state) {
    fixture *fx = *state;
    static const uint32_t xs[] = {0, 1, 0x80000000u, 0xdeadbeefu, 0x12345678u};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        uint32_t x = xs[i], y = xs[(i + 2) % 5] ^ 0x5a5a5a5au;
        wr_val args[2] = {wr_val_i32((int32_t)x), wr_val_i32((int32_t)y)}, res[1];
        assert_int_equal(wr_call(fx->exec, export_func(fx, "xor_shifts"), args, 2, res, 1), WR_OK);
        uint32_t want = (rotl(x, 7) ^ rotl(x, 13) ^ (x >> 3)) + ((y >> 10) ^ x) + (y + (x << 2)) + (y + x * 31) +
                        (x * y + y);
        assert_int_equal((uint32_t)res[0].of.i32, want);
    }
}

static void test_f64_compare_branches(void **state) {
    fixture *fx = *state;
    const double nan = __builtin_nan("");
    static const double pairs[][2] = {{1, 2}, {2, 1}, {1, 1}, {-0.0, 0.0}};
    for (size_t i = 0; i < 6; i++) {
        double a = i < 4 ? pairs[i][0] : (i == 4 ? nan : 1), b = i < 4 ? pairs[i][1] : (i == 4 ? 1 : nan);
        wr_val args[2] = {wr_val_f64_bits(f64_bits(a)), wr_val_f64_bits(f64_bits(b))}, res[1];
        assert_int_equal(wr_call(fx->exec, export_func(fx, "fcmp_branches"), args, 2, res, 1), WR_OK);
        int want = (a < b) | (a >= b) << 1 | (a == b) << 2 | !(a + 0 <= b) << 3 | (a == b) << 4;
        assert_int_equal(res[0].of.i32, want);
    }
}

static void test_f64_add_to_memory(void **state) {
    fixture *fx = *state;
    wr_val args[4] = {wr_val_i32(64), wr_val_i32(128), wr_val_f64_bits(f64_bits(3.0)), wr_val_f64_bits(f64_bits(0.5))},
           res[1];
    for (int i = 1; i <= 3; i++) { /* *p goes 1.5, 3, 4.5 */
        assert_int_equal(wr_call(fx->exec, export_func(fx, "f64_add_to"), args, 4, res, 1), WR_OK);
        assert_true(res[0].of.f64_bits == f64_bits(1.5 * i + 1));
    }
    args[0] = wr_val_i32(65536 - 8); /* offset 8: the f64 lies just past the end */
    assert_int_equal(wr_call(fx->exec, export_func(fx, "f64_add_to"), args, 4, res, 1), WR_TRAP_MEMORY_OOB);
}

static uint8_t *exec_memory(fixture *fx) {
    wr_extern ex;
    assert_true(wr_instance_export(fx->inst, "memory", &ex));
    assert_int_equal(ex.kind, WR_EXTERN_MEMORY);
    return wr_memory_data(ex.of.memory);
}

static int32_t call_i32(fixture *fx, const char *name, int32_t a, int32_t b, wr_status want) {
    wr_val args[2] = {wr_val_i32(a), wr_val_i32(b)}, res[1] = {{0}};
    wr_func *f = export_func(fx, name);
    assert_int_equal(wr_call(fx->exec, f, args, wr_func_type(f)->nparams, res, 1), want);
    return res[0].of.i32;
}

static void put32(uint8_t *mem, uint32_t at, uint32_t v) {
    memcpy(mem + at, &v, 4);
}

/* Branches folded into the load or addition computing their operand. */
static void test_branch_folds(void **state) {
    fixture *fx = *state;
    uint8_t *mem = exec_memory(fx);
    /* A list of three nodes at 1000 -> 2000 -> 3000 -> 0. */
    put32(mem, 1000, 2000);
    put32(mem, 2000, 3000);
    put32(mem, 3000, 0);
    assert_int_equal(call_i32(fx, "list_len", 1000, 0, WR_OK), 3);
    assert_int_equal(call_i32(fx, "list_len", 3000, 0, WR_OK), 1);
    assert_int_equal(call_i32(fx, "list_len", 0, 0, WR_OK), 0);
    put32(mem, 3000, 65534); /* the next pointer leads out of bounds: the fused load traps */
    call_i32(fx, "list_len", 1000, 0, WR_TRAP_MEMORY_OOB);

    memcpy(mem + 4000, "hello\0", 6);
    assert_int_equal(call_i32(fx, "str_len", 4000, 0, WR_OK), 5);
    assert_int_equal(call_i32(fx, "str_len", 4005, 0, WR_OK), 0);
    mem[65535] = 'x'; /* no zero before the end */
    call_i32(fx, "str_len", 65535, 0, WR_TRAP_MEMORY_OOB);
    call_i32(fx, "str_len", 65536, 0, WR_TRAP_MEMORY_OOB);
    mem[65535] = 0;
    assert_int_equal(call_i32(fx, "str_len", 65535, 0, WR_OK), 0);

    assert_int_equal(call_i32(fx, "countdown", 10, 0, WR_OK), 55);
    assert_int_equal(call_i32(fx, "countdown", 1, 0, WR_OK), 1);

    static const uint32_t words[][2] = {{0, 0}, {1, 0}, {0x100, 7}, {0x10000, 0}, {0xff000000u, 1}};
    static const int32_t xs[] = {-2, -1, 0, 1, 2, 0x7fffffff};
    for (size_t i = 0; i < sizeof words / sizeof *words; i++) {
        for (size_t j = 0; j < sizeof xs / sizeof *xs; j++) {
            uint32_t w0 = words[i][0], w1 = words[i][1], x = (uint32_t)xs[j];
            put32(mem, 5000, w0);
            put32(mem, 5004, w1);
            uint32_t want = (w0 != 0) | ((w0 & 0xff) != 0) << 1 | (((w0 >> 8) & 0xff) == 0) << 2 | (w1 == 0) << 3 |
                            (x - 1 != 0) << 4 | (x + 1 != 0) << 5 | (x + 2 == 0) << 6 |
                            (((w0 >> 16) & 0xff) == 0) << 7 | (w1 != 0) << 8;
            assert_int_equal((uint32_t)call_i32(fx, "branch_folds", 5000, (int32_t)x, WR_OK), want);
        }
    }
    /* Each fused load checks its own bounds: the first reads 4 bytes at 65533. */
    call_i32(fx, "branch_folds", 65533, 0, WR_TRAP_MEMORY_OOB);
    call_i32(fx, "branch_folds", -1, 0, WR_TRAP_MEMORY_OOB);
}

static void test_bitfields_and_const_copy(void **state) {
    fixture *fx = *state;
    static const uint32_t xs[] = {0, 1, 0x80000000u, 0xdeadbeefu, 0x12345678u, 0xffffffffu};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        uint32_t x = xs[i], y = xs[(i + 3) % 6] ^ 0x5a5a5a5au;
        uint32_t want = ((x >> 5) & 127) ^ ((((x * y) >> 2) & 15) << 8) ^ ((y >> 1) << 1);
        assert_int_equal((uint32_t)call_i32(fx, "bitfields", (int32_t)x, (int32_t)y, WR_OK), want);
        assert_int_equal((uint32_t)call_i32(fx, "mad_rb", (int32_t)x, (int32_t)y, WR_OK), y + x * (y ^ x));
        want = ((((x * x) + 3) & 0xf0) << 8) ^ ((x - 58) & 255) ^ ((x * 3 + 5) & 0xff00) ^ ((((x == 0) + 7) & 6) << 24);
        assert_int_equal((uint32_t)call_i32(fx, "add_ands", (int32_t)x, 0, WR_OK), want);
    }
    uint8_t *mem = exec_memory(fx);
    put32(mem, 604, 0xfffffffeu);
    assert_int_equal(call_i32(fx, "add_to", 600, 0, WR_OK), 1); /* wraps */
    assert_int_equal(call_i32(fx, "add_to", 600, 0, WR_OK), 4);
    put32(mem, 65532, 10);
    assert_int_equal(call_i32(fx, "add_to", 65528, 0, WR_OK), 13);
    call_i32(fx, "add_to", 65529, 0, WR_TRAP_MEMORY_OOB); /* one byte past the end */
    assert_int_equal(mem[65532], 13);                       /* nothing written */
    put32(mem, 700, 5);
    assert_int_equal(call_i32(fx, "add_to_tee", 700, 0, WR_OK), 8);
    call_i32(fx, "add_to_tee", 65533, 0, WR_TRAP_MEMORY_OOB);
    static const uint16_t u16s[] = {1, 0xffff, 0x8000, 7};
    memcpy(mem + 800, u16s, sizeof u16s);
    assert_int_equal(call_i32(fx, "sum_u16", 800, 4, WR_OK), 1 + 0xffff + 0x8000 + 7);
    assert_int_equal(call_i32(fx, "sum_u16", 802, 1, WR_OK), 0xffff);
    call_i32(fx, "sum_u16", 65534, 2, WR_TRAP_MEMORY_OOB); /* the second load is past the end */
    assert_int_equal(call_i32(fx, "copy_branches", 1, 0, WR_OK), 1);
    assert_int_equal(call_i32(fx, "copy_branches", 10, 0, WR_OK), 55);
    assert_int_equal(call_i32(fx, "copy_branches", 10, -1, WR_OK), 1055);
    assert_int_equal(call_i32(fx, "copy_branches", 47, 1, WR_OK), (int32_t)(2971215073u + 1000));
    assert_int_equal(call_i32(fx, "const_copy", 7, 0, WR_OK), 907);
    assert_int_equal(call_i32(fx, "const_copy", -900, 0, WR_OK), 0);
}

/* Loads from a sum, the addition folded in (ld_* in exec.wat): each form
 * against C, at addresses that wrap in 32 bits and at the end of memory. */
static void test_load_sums(void **state) {
    fixture *fx = *state;
    uint8_t *mem = exec_memory(fx);
    for (uint32_t i = 0; i < 65536; i++)
        mem[i] = (uint8_t)(i * 7 + (i >> 8) + 3);
    static const struct {
        const char *name;
        uint32_t size;
    } forms[] = {{"ld_ix", 1}, {"ld_ix_r", 2}, {"ld_k_r", 4}, {"ld_addr", 1}, {"ld_shl", 2}, {"ld_shl_r", 4}};
    static const uint32_t pairs[][2] = {{100, 20}, {0xfffffff0u, 0x20}, {65000, 7}, {40000, 12765}, {0, 0},
                                        {65531, 0}, {65532, 0}, {65533, 0}, {16383, 1}, {5, 0xc0000000u}};
    for (size_t f = 0; f < sizeof forms / sizeof *forms; f++) {
        for (size_t i = 0; i < sizeof pairs / sizeof *pairs; i++) {
            uint32_t a = pairs[i][0], b = pairs[i][1];
            uint64_t ea;
            switch (f) {
            case 0: ea = (uint64_t)(uint32_t)(a + b) + 1; break;
            case 1: ea = (uint64_t)(uint32_t)(a + (b ^ 16)) + 2; break;
            case 2: ea = (uint64_t)(uint32_t)((a ^ b) + 12); break;
            case 3: ea = (uint64_t)(uint32_t)((a ? a : b) + 3) + 4; break;
            case 4: ea = (uint64_t)(uint32_t)(a + (b << 1)); break;
            default: ea = (uint64_t)(uint32_t)(a * 3 + (b << 2)) + 8; break;
            }
            bool oob = ea + forms[f].size > 65536;
            int32_t got = call_i32(fx, forms[f].name, (int32_t)a, (int32_t)b, oob ? WR_TRAP_MEMORY_OOB : WR_OK);
            if (oob)
                continue;
            uint32_t want = 0;
            memcpy(&want, mem + ea, forms[f].size);
            assert_int_equal((uint32_t)got, want);
        }
    }
}

/* Stores of a sum, the addition folded in (st_add* in exec.wat): the value
 * against C, and at the end of memory a trap that writes nothing. */
static void test_store_sums(void **state) {
    fixture *fx = *state;
    uint8_t *mem = exec_memory(fx);
    static const uint32_t ps[] = {0, 100, 65524, 65528, 65529, 65532};
    static const uint32_t xs[] = {0, 1, 0xfffffffbu, 0x80000000u};
    for (size_t i = 0; i < sizeof ps / sizeof *ps; i++) {
        for (size_t j = 0; j < sizeof xs / sizeof *xs; j++) {
            uint32_t p = ps[i], x = xs[j];
            for (int r = 0; r < 2; r++) {
                uint32_t off = r ? 8 : 4, want = r ? (x ^ p) - 5 : (x ? x : p) + 7;
                bool oob = (uint64_t)p + off + 4 > 65536;
                uint8_t before[16];
                memcpy(before, mem + 65520, 16);
                int32_t got = call_i32(fx, r ? "st_add_r" : "st_add", (int32_t)p, (int32_t)x,
                                       oob ? WR_TRAP_MEMORY_OOB : WR_OK);
                if (oob)
                    assert_memory_equal(before, mem + 65520, 16);
                else
                    assert_int_equal((uint32_t)got, want);
            }
        }
    }
}

/* Loop latches, the addition folded into the compare-and-branch ("latches"
 * in exec.wat): the iteration counts against C. */
static void test_add_branches(void **state) {
    fixture *fx = *state;
    static const int32_t starts[] = {0, 2, 30, 34, 38}; /* even, below 40 */
    for (size_t k = 0; k < sizeof starts / sizeof *starts; k++) {
        int32_t s = starts[k];
        uint32_t i, c, want;
        for (i = (uint32_t)s, c = 0;;) { c++; i += 1; if (i == 40) break; }
        want = c & 0xff;
        for (i = (uint32_t)s, c = 0;;) { c++; i += 3; if (!(i < 50)) break; }
        want |= (c & 0xff) << 8;
        int32_t si = s;
        for (c = 0;;) { c++; si -= 7; if (!(si > -20)) break; }
        want |= (c & 0xff) << 16;
        for (i = (uint32_t)s, c = 0;;) { c++; i += 2; if (i == 40) break; }
        want |= c << 24;
        wr_val args[1] = {wr_val_i32(s)}, res[1];
        assert_int_equal(wr_call(fx->exec, export_func(fx, "latches"), args, 1, res, 1), WR_OK);
        assert_int_equal((uint32_t)res[0].of.i32, want);
    }
    /* The same against a slot, and loops starting with a sub or a load. */
    uint8_t *mem = exec_memory(fx);
    for (uint32_t i = 0; i < 64; i++)
        mem[500 + i] = (uint8_t)(i * 37 + 5);
    static const uint32_t ns[] = {1, 2, 7, 40};
    for (size_t k = 0; k < sizeof ns / sizeof *ns; k++) {
        uint32_t n = ns[k], c1 = 0, c2 = 0, bytes = 0, i;
        int32_t d = (int32_t)n;
        for (i = 0;;) { c1++; if (++i == n) break; }
        for (i = 0;;) { c2++; i += 2; if (!(i < n)) break; }
        for (i = 0; i < n; i++) bytes += mem[500 + i];
        do d -= 3; while (d > 0);
        uint32_t want = c1 + c2 * 1000 + bytes * 1000000 + (uint32_t)d * 100000000u;
        assert_int_equal((uint32_t)call_i32(fx, "slot_latches", (int32_t)n, 500, WR_OK), want);
    }
}

/* Bit tests, the i32.and folded into the branch ("bit_tests" in exec.wat). */
static void test_bit_tests(void **state) {
    fixture *fx = *state;
    static const uint32_t xs[] = {0, 4, 0x10, 0x34, 0x80000000u, 0xffffffffu, 0x7fffffcbu};
    for (size_t i = 0; i < sizeof xs / sizeof *xs; i++) {
        uint32_t x = xs[i];
        uint32_t want = (uint32_t)((x & 4) == 0) | (uint32_t)((x & 0x30) == 0) << 1 | (uint32_t)((x & 0x80000000u) != 0) << 2;
        assert_int_equal((uint32_t)call_i32(fx, "bit_tests", (int32_t)x, 0, WR_OK), want);
    }
}

/* Two-dimensional indexing ("index2d") and a switch on a loaded byte
 * ("switch_byte", BR_TABLE_R), against C. */
static void test_index_and_switch(void **state) {
    fixture *fx = *state;
    static const uint32_t vs[] = {0, 1, 7, 0x80000001u, 0xfffffffdu, 0x40000000u};
    for (size_t i = 0; i < sizeof vs / sizeof *vs; i++)
        for (size_t j = 0; j < sizeof vs / sizeof *vs; j++) {
            uint32_t a = vs[i], b = vs[j];
            assert_int_equal((uint32_t)call_i32(fx, "index2d", (int32_t)a, (int32_t)b, WR_OK), a * 12 + (b << 2) + 1);
        }
    uint8_t *mem = exec_memory(fx);
    static const uint8_t bytes[] = {0, 1, 2, 3, 4, 200, 255};
    for (size_t i = 0; i < sizeof bytes / sizeof *bytes; i++) {
        mem[300] = bytes[i];
        int32_t want = bytes[i] < 4 ? 10 + bytes[i] : 99;
        assert_int_equal(call_i32(fx, "switch_byte", 300, 0, WR_OK), want);
    }
    call_i32(fx, "switch_byte", 65536, 0, WR_TRAP_MEMORY_OOB);
}

static void test_wrong_arguments(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i64(1), res;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "fib"), &arg, 1, &res, 1), WR_ERR_ARGS);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "fib"), NULL, 0, &res, 1), WR_ERR_ARGS);
    assert_int_equal(wr_resume(fx->exec, NULL, &res, 1), WR_ERR_STATE);
}

/* A start function run by the embedder in fuel slices, instead of inside instantiation. */
static void test_deferred_start_in_slices(void **state) {
    (void)state;
    wr_module *m = test_load_wasm("start.wasm");
    wr_store *s = wr_store_new(NULL);
    wr_instance *inst;
    assert_int_equal(wr_instantiate_deferred(s, m, NULL, 0, &inst, NULL), WR_OK);
    wr_extern g;
    assert_true(wr_instance_export(inst, "done", &g));
    wr_val v;
    wr_global_get(g.of.global, &v);
    assert_int_equal(v.of.i32, 0); /* not run yet */

    wr_exec *e = wr_exec_new(s);
    wr_exec_set_fuel(e, 5000);
    wr_status st = wr_call(e, wr_instance_start_func(inst), NULL, 0, NULL, 0);
    int slices = 1;
    while (st == WR_OUT_OF_FUEL) {
        wr_exec_set_fuel(e, 5000);
        st = wr_resume(e, NULL, NULL, 0);
        slices++;
    }
    assert_int_equal(st, WR_OK);
    assert_true(slices >= 20);
    wr_global_get(g.of.global, &v);
    assert_int_equal(v.of.i32, 100000);
    wr_exec_free(e);
    wr_store_free(s);
    wr_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_host_call_without_suspend, setup, teardown),
        cmocka_unit_test_setup_teardown(test_suspend_and_resume_many_times, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuel_resume_same_result, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fuel_in_recursion, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_fuel_at_all, setup, teardown),
        cmocka_unit_test_setup_teardown(test_recursion_depth_limit, setup_small_stack, teardown),
        cmocka_unit_test_setup_teardown(test_unbounded_recursion_default_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_trap_backtrace_names, setup, teardown),
        cmocka_unit_test_setup_teardown(test_translator_copies, setup, teardown),
        cmocka_unit_test_setup_teardown(test_accumulator_at_join, setup, teardown),
        cmocka_unit_test_setup_teardown(test_i32_accumulator_at_join, setup, teardown),
        cmocka_unit_test_setup_teardown(test_xor_shifts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_f64_compare_branches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_f64_add_to_memory, setup, teardown),
        cmocka_unit_test_setup_teardown(test_branch_folds, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bitfields_and_const_copy, setup, teardown),
        cmocka_unit_test_setup_teardown(test_load_sums, setup, teardown),
        cmocka_unit_test_setup_teardown(test_store_sums, setup, teardown),
        cmocka_unit_test_setup_teardown(test_add_branches, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bit_tests, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_and_switch, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wrong_arguments, setup, teardown),
        cmocka_unit_test(test_deferred_start_in_slices),
    };
    return cmocka_run_group_tests_name("interp", tests, NULL, NULL);
}
