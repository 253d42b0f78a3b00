/*
 * test_memory.c - linear memories as reserved mappings (runtime/instance.c)
 * and WASI stdio sinks (wasi/, wasi_config.stdio_sink).
 *
 * Memories: growing keeps the contents, new pages read as zero, every
 * access is checked against the current size exactly (the reservation
 * behind it is not a guard), and growing stops at the maximum; within the
 * reservation (64-bit hosts) the data does not move; past it (a
 * reservation as small as the memory, as on 32-bit hosts, or a memory of
 * 0 pages) the mapping is extended without losing anything.
 *
 * Sinks: guest fds 1 and 2 write to the embedder's function (which stream
 * follows the descriptor through fd_renumber), and answer fdstat, filestat,
 * seek and poll as the write end of a pipe would.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"
#include "wasi/wasi.h"
#include "test_util.h"

/* ---- Helpers ------------------------------------------------------------ */

static wr_func *export_fn(wr_instance *inst, const char *name) {
    wr_extern e;
    assert_true(wr_instance_export(inst, name, &e));
    assert_int_equal(e.kind, WR_EXTERN_FUNC);
    return e.of.func;
}

/* Calls an export with up to two i32 arguments; returns its status, the i32 result in *ret (if any). */
static wr_status call2(wr_exec *e, wr_instance *inst, const char *name, size_t nargs, int32_t a, int32_t b,
                       int32_t *ret) {
    wr_func *f = export_fn(inst, name);
    wr_val args[2] = { wr_val_i32(a), wr_val_i32(b) };
    wr_val r[1];
    size_t nres = wr_func_type(f)->nresults;
    wr_status s = wr_call(e, f, args, nargs, r, nres);
    if (s == WR_OK && nres && ret)
        *ret = r[0].of.i32;
    return s;
}

static int32_t call_ok(wr_exec *e, wr_instance *inst, const char *name, size_t nargs, int32_t a, int32_t b) {
    int32_t r = 0;
    assert_int_equal(call2(e, inst, name, nargs, a, b, &r), WR_OK);
    return r;
}

/* ---- Memories ----------------------------------------------------------- */

static void grow_keeps_contents_and_traps_at_max(void **state) {
    wr_module *m = test_load_wasm("grow.wasm");
    wr_store *s = wr_store_new(NULL);
    wr_instance *inst;
    wr_error err;
    assert_int_equal(wr_instantiate(s, m, NULL, 0, &inst, &err), WR_OK);
    wr_exec *e = wr_exec_new(s);
    wr_memory *mem = wr_instance_memory(inst);
    const uint8_t *first = wr_memory_data(mem);
    const int32_t page = (int32_t)WR_PAGE_SIZE;

    assert_int_equal(call_ok(e, inst, "load32", 1, 0, 0), 'g' | 'r' << 8 | 'o' << 16 | 'w' << 24);
    call_ok(e, inst, "store8", 2, page - 1, 0x5a);
    assert_int_equal(call2(e, inst, "load8", 1, page, 0, NULL), WR_TRAP_MEMORY_OOB);

    assert_int_equal(call_ok(e, inst, "grow", 1, 1, 0), 1);
    assert_int_equal(call_ok(e, inst, "load8", 1, page - 1, 0), 0x5a);
    assert_int_equal(call_ok(e, inst, "load8", 1, page, 0), 0);
    call_ok(e, inst, "store8", 2, 2 * page - 1, 0x33);

    assert_int_equal(call_ok(e, inst, "grow", 1, 2, 0), 2);
    assert_int_equal(call_ok(e, inst, "size", 0, 0, 0), 4);
    /* Contents kept, new pages zero, the last byte in bounds and the next one not. */
    assert_int_equal(call_ok(e, inst, "load32", 1, 0, 0), 'g' | 'r' << 8 | 'o' << 16 | 'w' << 24);
    assert_int_equal(call_ok(e, inst, "load8", 1, page - 1, 0), 0x5a);
    assert_int_equal(call_ok(e, inst, "load8", 1, 2 * page - 1, 0), 0x33);
    for (int32_t a = 2 * page; a < 4 * page; a += 4093)
        assert_int_equal(call_ok(e, inst, "load8", 1, a, 0), 0);
    assert_int_equal(call_ok(e, inst, "load8", 1, 4 * page - 1, 0), 0);
    assert_int_equal(call2(e, inst, "load8", 1, 4 * page, 0, NULL), WR_TRAP_MEMORY_OOB);
    assert_int_equal(call2(e, inst, "load32", 1, 4 * page - 3, 0, NULL), WR_TRAP_MEMORY_OOB);

    /* At the declared maximum: -1, and nothing changes. */
    assert_int_equal(call_ok(e, inst, "grow", 1, 1, 0), -1);
    assert_int_equal(call_ok(e, inst, "size", 0, 0, 0), 4);
    assert_int_equal(call2(e, inst, "load8", 1, 4 * page, 0, NULL), WR_TRAP_MEMORY_OOB);
    assert_int_equal(call_ok(e, inst, "load8", 1, 2 * page - 1, 0), 0x33);

    /* Where the whole maximum is reserved up front, the data never moved. */
    if (WR_MEMORY_RESERVE_MAX >= 4ull * WR_PAGE_SIZE)
        assert_ptr_equal(wr_memory_data(mem), first);
    assert_true(mem->reserved >= mem->size);

    wr_exec_free(e);
    wr_store_free(s);
    wr_module_free(m);
}

/* Fills pages [from, to) with a pattern that differs per page and per byte. */
static void pattern_fill(uint8_t *d, uint32_t from, uint32_t to) {
    for (size_t i = (size_t)from * WR_PAGE_SIZE; i < (size_t)to * WR_PAGE_SIZE; i++)
        d[i] = (uint8_t)(i / WR_PAGE_SIZE * 31 + i);
}

static void pattern_check(const uint8_t *d, uint32_t from, uint32_t to) {
    for (size_t i = (size_t)from * WR_PAGE_SIZE; i < (size_t)to * WR_PAGE_SIZE; i++)
        if (d[i] != (uint8_t)(i / WR_PAGE_SIZE * 31 + i))
            fail_msg("byte %zu is %u after growing", i, d[i]);
}

static void zero_check(const uint8_t *d, uint32_t from, uint32_t to) {
    for (size_t i = (size_t)from * WR_PAGE_SIZE; i < (size_t)to * WR_PAGE_SIZE; i++)
        if (d[i])
            fail_msg("byte %zu of a new page is %u", i, d[i]);
}

/*
 * A reservation no larger than the memory (as on 32-bit hosts, where only
 * the current size is mapped): growing extends the mapping (mremap) and
 * keeps every byte.  The maximum is raised by hand past what was reserved.
 */
static void grow_past_reservation(void **state) {
    wr_store *s = wr_store_new(NULL);
    wr_memory *mem = wr_memory_new(s, 2, 2, true);
    assert_non_null(mem);
    assert_int_equal(mem->reserved, 2 * WR_PAGE_SIZE);
    pattern_fill(wr_memory_data(mem), 0, 2);
    mem->max_pages = 16;

    assert_int_equal(wr_memory_grow(mem, 3), 2);
    assert_true(mem->reserved >= 5 * WR_PAGE_SIZE);
    pattern_check(wr_memory_data(mem), 0, 2);
    zero_check(wr_memory_data(mem), 2, 5);
    pattern_fill(wr_memory_data(mem), 2, 5);

    assert_int_equal(wr_memory_grow(mem, 11), 5);
    assert_int_equal(wr_memory_size(mem), 16 * WR_PAGE_SIZE);
    pattern_check(wr_memory_data(mem), 0, 5);
    zero_check(wr_memory_data(mem), 5, 16);
    wr_memory_data(mem)[16 * WR_PAGE_SIZE - 1] = 1;
    assert_int_equal(wr_memory_grow(mem, 1), -1);
    assert_int_equal(wr_store_bytes(s), 16 * WR_PAGE_SIZE);
    wr_store_free(s);
}

/* A memory of 0 pages with nothing reserved beyond its placeholder page. */
static void grow_from_zero_past_reservation(void **state) {
    wr_store *s = wr_store_new(NULL);
    wr_memory *mem = wr_memory_new(s, 0, 0, true);
    assert_non_null(mem);
    assert_non_null(wr_memory_data(mem));
    assert_int_equal(wr_memory_size(mem), 0);
    assert_int_equal(wr_memory_grow(mem, 1), -1);
    mem->max_pages = 3;
    assert_int_equal(wr_memory_grow(mem, 3), 0);
    zero_check(wr_memory_data(mem), 0, 3);
    pattern_fill(wr_memory_data(mem), 0, 3);
    pattern_check(wr_memory_data(mem), 0, 3);
    wr_store_free(s);
}

/* Many memories with a large maximum: the reservations cost address space only. */
static void many_memories_reserve_lazily(void **state) {
    wr_store *s = wr_store_new(NULL);
    for (int i = 0; i < 64; i++) {
        wr_memory *mem = wr_memory_new(s, 1, 65536, true);
        assert_non_null(mem);
        wr_memory_data(mem)[0] = (uint8_t)i;
    }
    assert_int_equal(wr_store_bytes(s), 64 * WR_PAGE_SIZE);
    wr_store_free(s);
}

/* ---- Stdio sinks -------------------------------------------------------- */

typedef struct sink_log {
    char out[256], err[256];   /* the first bytes of each stream */
    size_t nout, nerr;         /* bytes of each stream */
    unsigned calls;
} sink_log;

static void sink(void *ud, int stream, const uint8_t *bytes, size_t len) {
    sink_log *l = ud;
    char *dst = stream == 1 ? l->out : l->err;
    size_t *n = stream == 1 ? &l->nout : &l->nerr;
    assert_true(stream == 1 || stream == 2);
    for (size_t i = 0; i < len; i++, ++*n)
        if (*n < sizeof l->out)
            dst[*n] = (char)bytes[i];
    l->calls++;
}

typedef struct sink_fx {
    wr_module *m;
    wr_store *s;
    wasi_ctx *ctx;
    wr_instance *inst;
    wr_exec *e;
    uint8_t *mem;
    sink_log log;
} sink_fx;

static int sink_setup(void **state) {
    sink_fx *fx = calloc(1, sizeof *fx);
    fx->m = test_load_wasm("sink.wasm");
    fx->s = wr_store_new(NULL);
    const char *argv[] = { "sink" };
    wasi_config cfg = { .argv = argv, .argc = 1, .stdin_fd = -1, .stdout_fd = 1, .stderr_fd = 2,
                        .stdio_sink = sink, .stdio_sink_ud = &fx->log };
    wr_error err;
    assert_int_equal(wasi_ctx_new(&cfg, &fx->ctx, &err), WR_OK);
    wr_extern imports[16];
    assert_true(wr_module_import_count(fx->m) <= 16);
    assert_int_equal(wasi_ctx_link(fx->ctx, fx->s, fx->m, imports, &err), WR_OK);
    assert_int_equal(wr_instantiate(fx->s, fx->m, imports, wr_module_import_count(fx->m), &fx->inst, &err), WR_OK);
    fx->e = wr_exec_new(fx->s);
    fx->mem = wr_memory_data(wr_instance_memory(fx->inst));
    *state = fx;
    return 0;
}

static int sink_teardown(void **state) {
    sink_fx *fx = *state;
    wr_exec_free(fx->e);
    wr_store_free(fx->s);
    wasi_ctx_free(fx->ctx);
    wr_module_free(fx->m);
    free(fx);
    return 0;
}

static uint32_t load32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void sink_write_goes_to_its_stream(void **state) {
    sink_fx *fx = *state;
    memcpy(fx->mem + 1024, "hello\nworld\n", 12);
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 1, 12), 0);
    assert_int_equal(load32(fx->mem + 64), 12);
    memcpy(fx->mem + 1024, "oops\n", 5);
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 2, 5), 0);
    assert_int_equal(fx->log.nout, 12);
    assert_memory_equal(fx->log.out, "hello\nworld\n", 12);
    assert_int_equal(fx->log.nerr, 5);
    assert_memory_equal(fx->log.err, "oops\n", 5);
    /* fd 0 is not open, fd 3 neither. */
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 0, 1), 8 /* EBADF */);
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 3, 1), 8);
}

/* One call hands the sink at most 64 KiB, as a pipe takes a part of a large write. */
static void sink_write_is_bounded(void **state) {
    sink_fx *fx = *state;
    memset(fx->mem + 1024, 'x', 100000);
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 1, 100000), 0);
    assert_int_equal(load32(fx->mem + 64), 65536);
    assert_int_equal(fx->log.nout, 65536);
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 1, 1000), 0);
    assert_int_equal(load32(fx->mem + 64), 1000);
    assert_int_equal(fx->log.nout, 66536);
}

static void sink_looks_like_a_pipe(void **state) {
    sink_fx *fx = *state;
    assert_int_equal(call_ok(fx->e, fx->inst, "fdstat", 1, 1, 0), 0);
    assert_int_equal(fx->mem[128], 0);            /* filetype unknown, as a pipe: not a terminal */
    assert_int_equal(fx->mem[130] | fx->mem[131] << 8, 0); /* no flags */
    assert_true(fx->mem[136] & (1u << 6));        /* FD_WRITE */
    assert_false(fx->mem[136] & (1u << 1));       /* no FD_READ */
    memset(fx->mem + 256, 0xff, 64);
    assert_int_equal(call_ok(fx->e, fx->inst, "filestat", 1, 2, 0), 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal(fx->mem[256 + i], 0);
    assert_int_equal(call_ok(fx->e, fx->inst, "seek", 1, 1, 0), 70 /* ESPIPE */);
    /* Always writable; never readable. */
    assert_int_equal(call_ok(fx->e, fx->inst, "poll", 2, 1, 2), 0);
    assert_int_equal(load32(fx->mem + 64), 1);
    assert_int_equal(fx->mem[512], 7);            /* userdata */
    assert_int_equal(fx->mem[520] | fx->mem[521] << 8, 0);
    assert_int_equal(call_ok(fx->e, fx->inst, "poll", 2, 2, 1), 0);
    assert_int_equal(load32(fx->mem + 64), 1);
    assert_int_equal(fx->mem[520] | fx->mem[521] << 8, 8 /* EBADF */);
}

static void sink_follows_renumber_and_close(void **state) {
    sink_fx *fx = *state;
    /* stderr's sink moved onto fd 1: fd 1 now writes stream 2, fd 2 is closed. */
    assert_int_equal(call_ok(fx->e, fx->inst, "renumber", 2, 2, 1), 0);
    memcpy(fx->mem + 1024, "moved", 5);
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 1, 5), 0);
    assert_int_equal(fx->log.nout, 0);
    assert_int_equal(fx->log.nerr, 5);
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 2, 5), 8);
    assert_int_equal(call_ok(fx->e, fx->inst, "close", 1, 1, 0), 0);
    assert_int_equal(call_ok(fx->e, fx->inst, "write", 2, 1, 5), 8);
    assert_int_equal(fx->log.nerr, 5);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(grow_keeps_contents_and_traps_at_max),
        cmocka_unit_test(grow_past_reservation),
        cmocka_unit_test(grow_from_zero_past_reservation),
        cmocka_unit_test(many_memories_reserve_lazily),
        cmocka_unit_test_setup_teardown(sink_write_goes_to_its_stream, sink_setup, sink_teardown),
        cmocka_unit_test_setup_teardown(sink_write_is_bounded, sink_setup, sink_teardown),
        cmocka_unit_test_setup_teardown(sink_looks_like_a_pipe, sink_setup, sink_teardown),
        cmocka_unit_test_setup_teardown(sink_follows_renumber_and_close, sink_setup, sink_teardown),
    };
    return cmocka_run_group_tests_name("memory", tests, NULL, NULL);
}
