/*
 * test_fuel.c - fuel that follows the work: bulk memory and table
 * operations charged by their length and done in parts when the fuel left
 * does not cover them (with the same result as in one go, and traps before
 * any part), memory.grow charged per page, loops and calls charged for
 * the straight-line code they may run, the wall-time deadline of a slice,
 * and the memory budget shared by stores.
 *
 * The modules are tests/wat/bulk.wat and straight.wat, built by the
 * Makefile into $TEST_WASM_DIR.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "runtime/limits.h"
#include "runtime/wr.h"
#include "test_util.h"

typedef struct fixture {
    wr_module *module;
    wr_store *store;
    wr_instance *inst;
    wr_exec *exec;
    uint8_t *mem;
    uint64_t mem_size;
} fixture;

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    wr_error err;
    fx->module = test_load_wasm("bulk.wasm");
    fx->store = wr_store_new(NULL);
    assert_int_equal(wr_instantiate(fx->store, fx->module, NULL, 0, &fx->inst, &err), WR_OK);
    fx->exec = wr_exec_new(fx->store);
    wr_memory *m = wr_instance_memory(fx->inst);
    fx->mem = wr_memory_data(m);
    fx->mem_size = wr_memory_size(m);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    wr_exec_free(fx->exec);
    wr_store_free(fx->store);
    wr_module_free(fx->module);
    free(fx);
    return 0;
}

static wr_func *export(fixture *fx, const char *name) {
    wr_extern e;
    assert_true(wr_instance_export(fx->inst, name, &e));
    assert_int_equal(e.kind, WR_EXTERN_FUNC);
    return e.of.func;
}

/* Calls an export with i32 arguments and no results, `fuel` per slice; returns the slices it took. */
static int run_sliced(fixture *fx, const char *name, int64_t fuel, int32_t a, int32_t b, int32_t c, int nargs) {
    wr_val args[3] = { wr_val_i32(a), wr_val_i32(b), wr_val_i32(c) };
    wr_exec_set_fuel(fx->exec, fuel);
    wr_status s = wr_call(fx->exec, export(fx, name), args, (size_t)nargs, NULL, 0);
    int slices = 1;
    while (s == WR_OUT_OF_FUEL) {
        wr_exec_set_fuel(fx->exec, fuel);
        s = wr_resume(fx->exec, NULL, NULL, 0);
        slices++;
        assert_true(slices < 1000000);
    }
    assert_int_equal(s, WR_OK);
    return slices;
}

/* memory.fill costs one unit per WR_FUEL_BULK_BYTES bytes, on top of the call. */
static void test_fill_charged_by_length(void **state) {
    fixture *fx = *state;
    wr_val args[3] = { wr_val_i32(0), wr_val_i32(5), wr_val_i32(65536) };
    wr_exec_set_fuel(fx->exec, 1000000);
    assert_int_equal(wr_call(fx->exec, export(fx, "fill"), args, 3, NULL, 0), WR_OK);
    assert_int_equal(1000000 - wr_exec_fuel(fx->exec), 1 + 65536 / WR_FUEL_BULK_BYTES);

    /* A short fill costs less than a long one, and zero bytes cost nothing beyond the call. */
    args[2] = wr_val_i32(0);
    wr_exec_set_fuel(fx->exec, 1000);
    assert_int_equal(wr_call(fx->exec, export(fx, "fill"), args, 3, NULL, 0), WR_OK);
    assert_int_equal(1000 - wr_exec_fuel(fx->exec), 1);
}

/* A fill larger than the fuel left is done in parts, each slice doing what its fuel pays for. */
static void test_fill_in_parts(void **state) {
    fixture *fx = *state;
    const uint32_t n = 200000;
    const int64_t fuel = 100;
    wr_val args[3] = { wr_val_i32(0), wr_val_i32(9), wr_val_i32((int32_t)n) };
    wr_exec_set_fuel(fx->exec, fuel);
    assert_int_equal(wr_call(fx->exec, export(fx, "fill"), args, 3, NULL, 0), WR_OUT_OF_FUEL);
    /* The first slice paid for the call and (fuel - 1) units of bytes: those are written, the rest not yet. */
    uint32_t first = (uint32_t)(fuel - 1) * WR_FUEL_BULK_BYTES;
    assert_int_equal(fx->mem[first - 1], 9);
    assert_int_equal(fx->mem[first], 0);
    assert_int_equal(fx->mem[n - 1], 0);
    int slices = 1;
    wr_status s;
    do {
        wr_exec_set_fuel(fx->exec, fuel);
        s = wr_resume(fx->exec, NULL, NULL, 0);
        slices++;
    } while (s == WR_OUT_OF_FUEL);
    assert_int_equal(s, WR_OK);
    for (uint32_t i = 0; i < n; i++)
        if (fx->mem[i] != 9)
            fail_msg("byte %u is %u", i, fx->mem[i]);
    assert_int_equal(fx->mem[n], 0);
    int expected = (int)((n / WR_FUEL_BULK_BYTES + 1 + fuel - 1) / fuel);
    assert_true(slices >= expected && slices <= expected + 1);
}

/* An overlapping memory.copy in parts gives what memmove gives, in both directions. */
static void test_copy_in_parts_overlapping(void **state) {
    fixture *fx = *state;
    static const struct { uint32_t d, s, n; } cases[] = {
        { 1000, 3000, 100000 },   /* destination below the source */
        { 3000, 1000, 100000 },   /* destination above the source */
        { 0, 0, 50000 },
    };
    uint8_t *want = malloc(fx->mem_size);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        for (uint64_t i = 0; i < fx->mem_size; i++)
            fx->mem[i] = (uint8_t)(i * 7 + i / 251);
        memcpy(want, fx->mem, fx->mem_size);
        memmove(want + cases[c].d, want + cases[c].s, cases[c].n);
        int slices = run_sliced(fx, "copy", 10, (int32_t)cases[c].d, (int32_t)cases[c].s, (int32_t)cases[c].n, 3);
        assert_true(slices > 10);
        assert_memory_equal(fx->mem, want, fx->mem_size);
    }
    free(want);
}

/* memory.init in parts copies the segment's bytes like one memcpy. */
static void test_init_in_parts(void **state) {
    fixture *fx = *state;
    run_sliced(fx, "init", 1, 100, 3, 60, 3);
    assert_memory_equal(fx->mem + 100, "3456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", 60);
}

/* Out of bounds traps before anything is written, however little fuel there is. */
static void test_oob_traps_before_any_part(void **state) {
    fixture *fx = *state;
    wr_val args[3] = { wr_val_i32((int32_t)(fx->mem_size - 100)), wr_val_i32(3), wr_val_i32(1000) };
    wr_exec_set_fuel(fx->exec, 2);
    assert_int_equal(wr_call(fx->exec, export(fx, "fill"), args, 3, NULL, 0), WR_TRAP_MEMORY_OOB);
    for (uint64_t i = fx->mem_size - 100; i < fx->mem_size; i++)
        assert_int_equal(fx->mem[i], 0);
}

/* Table operations are charged per WR_FUEL_BULK_ELEMS elements and done in parts too. */
static void test_table_ops_in_parts(void **state) {
    fixture *fx = *state;
    wr_val args[3] = { wr_val_i32(0), wr_val_i32(4096) };
    wr_exec_set_fuel(fx->exec, 100000);
    assert_int_equal(wr_call(fx->exec, export(fx, "table_fill"), args, 2, NULL, 0), WR_OK);
    assert_int_equal(100000 - wr_exec_fuel(fx->exec), 1 + 4096 / WR_FUEL_BULK_ELEMS);

    int slices = run_sliced(fx, "table_copy", 3, 1, 0, 4095, 3);
    assert_true(slices > 100);
    run_sliced(fx, "table_init", 1, 4000, 0, 8, 3);
    wr_val r;
    for (int32_t i = 0; i < 4096; i++) {
        args[0] = wr_val_i32(i);
        wr_exec_set_fuel(fx->exec, 10);
        assert_int_equal(wr_call(fx->exec, export(fx, "table_is_null"), args, 1, &r, 1), WR_OK);
        assert_int_equal(r.of.i32, 0);
    }
}

/* memory.grow is charged for the pages it adds (they are zeroed). */
static void test_grow_charged_per_page(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i32(2), r;
    wr_exec_set_fuel(fx->exec, 1000000);
    assert_int_equal(wr_call(fx->exec, export(fx, "grow"), &arg, 1, &r, 1), WR_OK);
    assert_int_equal(r.of.i32, 4);
    assert_int_equal(1000000 - wr_exec_fuel(fx->exec), 1 + 2 * WR_FUEL_GROW_PAGE);
}

static uint64_t now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* With a deadline, even unlimited fuel ends once it has passed; resuming goes on. */
static void test_deadline_ends_the_slice(void **state) {
    fixture *fx = *state;
    static const char *const loops[] = { "spin", "fill_forever" };
    for (size_t i = 0; i < 2; i++) {
        uint64_t deadline = now_ns() + 20 * 1000000u;
        wr_exec_set_fuel(fx->exec, WR_FUEL_UNLIMITED);
        wr_exec_set_deadline(fx->exec, deadline);
        assert_int_equal(wr_call(fx->exec, export(fx, loops[i]), NULL, 0, NULL, 0), WR_OUT_OF_FUEL);
        assert_true(now_ns() >= deadline);
        assert_true(wr_exec_fuel(fx->exec) > 0); /* it was the clock, not the fuel */
        /* A later deadline: it runs again and stops again. */
        deadline = now_ns() + 5 * 1000000u;
        wr_exec_set_deadline(fx->exec, deadline);
        assert_int_equal(wr_resume(fx->exec, NULL, NULL, 0), WR_OUT_OF_FUEL);
        assert_true(now_ns() >= deadline);
        wr_exec_reset(fx->exec);
    }
    /* Without a deadline, fuel alone decides. */
    wr_exec_set_deadline(fx->exec, 0);
    wr_exec_set_fuel(fx->exec, 50000);
    assert_int_equal(wr_call(fx->exec, export(fx, "spin"), NULL, 0, NULL, 0), WR_OUT_OF_FUEL);
    assert_true(wr_exec_fuel(fx->exec) <= 0);
    wr_exec_reset(fx->exec);
}

/* A deadline already passed still lets the first WR_FUEL_CHECK_INTERVAL units run, then stops. */
static void test_deadline_passed(void **state) {
    fixture *fx = *state;
    wr_exec_set_fuel(fx->exec, 10 * (int64_t)WR_FUEL_CHECK_INTERVAL);
    wr_exec_set_deadline(fx->exec, 1);
    assert_int_equal(wr_call(fx->exec, export(fx, "spin"), NULL, 0, NULL, 0), WR_OUT_OF_FUEL);
    assert_int_equal(wr_exec_fuel(fx->exec), 9 * (int64_t)WR_FUEL_CHECK_INTERVAL - 1); /* the call cost one */
    wr_exec_reset(fx->exec);
}

/* Fuel spent by calling export `name` of straight.wasm with n (one slice, enough fuel). */
static int64_t straight_cost(wr_instance *inst, wr_exec *e, const char *name, int32_t n) {
    wr_extern f;
    assert_true(wr_instance_export(inst, name, &f));
    wr_val arg = wr_val_i32(n), r;
    wr_exec_set_fuel(e, 100000000);
    assert_int_equal(wr_call(e, f.of.func, &arg, 1, &r, 1), WR_OK);
    return 100000000 - wr_exec_fuel(e);
}

/* A loop iteration or a call pays for the straight-line code it may run: one unit buys bounded work. */
static void test_straight_line_code(void **state) {
    (void)state;
    wr_module *m = test_load_wasm("straight.wasm");
    wr_store *s = wr_store_new(NULL);
    wr_instance *inst;
    wr_error err;
    assert_int_equal(wr_instantiate(s, m, NULL, 0, &inst, &err), WR_OK);
    wr_exec *e = wr_exec_new(s);
    /* 1000 additions are at least 2000 cells of internal code: each iteration or call costs more than 7. */
    int64_t unit = 1 + 2000 / WR_FUEL_CODE_CELLS;
    assert_true(straight_cost(inst, e, "long_loop", 100) >= 100 * unit);
    assert_true(straight_cost(inst, e, "long_calls", 100) >= 100 * unit);
    /* A short body still costs one unit per iteration (and the call one). */
    assert_int_equal(straight_cost(inst, e, "short_loop", 100), 1 + 100);
    wr_exec_free(e);
    wr_store_free(s);
    wr_module_free(m);
}

/* Stores drawing on one budget: growth past it fails with -1, an instance whose minimum does not fit is refused. */
static void test_budget(void **state) {
    (void)state;
    wr_module *m = test_load_wasm("bulk.wasm");
    const uint64_t base = 4 * WR_PAGE_SIZE + 4096 * sizeof(void *); /* bulk.wat: 4 pages, 4096 elements */
    wr_budget budget = { .limit = base + WR_PAGE_SIZE + 100, .used = 0 };
    wr_limits lim = { .budget = &budget };
    wr_store *s1 = wr_store_new(&lim);
    wr_instance *inst;
    wr_error err;
    assert_int_equal(wr_instantiate(s1, m, NULL, 0, &inst, &err), WR_OK);
    assert_true(budget.used == base);
    assert_true(wr_store_bytes(s1) == base);

    wr_exec *e = wr_exec_new(s1);
    wr_extern grow;
    assert_true(wr_instance_export(inst, "grow", &grow));
    wr_val arg = wr_val_i32(1), r;
    assert_int_equal(wr_call(e, grow.of.func, &arg, 1, &r, 1), WR_OK);
    assert_int_equal(r.of.i32, 4);
    assert_int_equal(wr_call(e, grow.of.func, &arg, 1, &r, 1), WR_OK);
    assert_int_equal(r.of.i32, -1);
    assert_int_equal(wr_store_budget_refusals(s1), 1);
    assert_true(budget.used == base + WR_PAGE_SIZE);

    /* A second instance does not fit at all. */
    wr_store *s2 = wr_store_new(&lim);
    assert_int_equal(wr_instantiate(s2, m, NULL, 0, &inst, &err), WR_ERR_LIMIT);
    assert_non_null(strstr(err.detail, "memory budget"));
    assert_int_equal(wr_store_budget_refusals(s2), 1);
    wr_store_free(s2);
    assert_true(budget.used == base + WR_PAGE_SIZE);

    wr_exec_free(e);
    wr_store_free(s1);
    assert_true(budget.used == 0);
    wr_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fill_charged_by_length, setup, teardown),
        cmocka_unit_test_setup_teardown(test_fill_in_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_copy_in_parts_overlapping, setup, teardown),
        cmocka_unit_test_setup_teardown(test_init_in_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_oob_traps_before_any_part, setup, teardown),
        cmocka_unit_test_setup_teardown(test_table_ops_in_parts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_grow_charged_per_page, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_ends_the_slice, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deadline_passed, setup, teardown),
        cmocka_unit_test(test_straight_line_code),
        cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
