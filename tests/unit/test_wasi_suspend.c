/*
 * test_wasi_suspend.c - the WASI layer's nonblocking mode: poll_oneoff with
 * a clock, poll_oneoff on a descriptor and fd_read on an empty pipe park
 * the call (WR_SUSPENDED); the test then waits for what wasi_ctx_pending()
 * names, finishes the call with wasi_ctx_complete() and wr_resume(), and
 * checks that the guest sees what a blocking call would have given it.
 *
 * The module is tests/wasi/suspend.wat, built by the Makefile into
 * $TEST_WASM_DIR/../wasi/suspend.wasm.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "wasi/wasi.h"
#include "test_util.h"

/* Addresses in the module's memory (see suspend.wat). */
#define EVENTS_AT   100u
#define NEVENTS_AT  200u
#define READ_BUF_AT 400u
#define NREAD_AT    500u
/* Event fields (wasi_snapshot_preview1 "event"). */
#define EV_USERDATA 0u
#define EV_ERROR    8u
#define EV_TYPE     10u
#define EV_NBYTES   16u
#define EVENTTYPE_CLOCK   0u
#define EVENTTYPE_FD_READ 1u

#define SLEEP_NS    (20u * 1000u * 1000u) /* the 20 ms of the clock test */
#define NS_PER_SEC  1000000000u

typedef struct fixture {
    int pipe_rd, pipe_wr;      /* the guest's stdin */
    wasi_ctx *ctx;
    wr_module *module;
    wr_store *store;
    wr_instance *inst;
    wr_exec *exec;
    uint8_t *mem;              /* the instance's memory, valid while it does not grow */
} fixture;

static uint64_t mono_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * NS_PER_SEC + (uint64_t)ts.tv_nsec;
}

static uint32_t load32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t load64(const uint8_t *p) {
    return (uint64_t)load32(p) | (uint64_t)load32(p + 4) << 32;
}

static int setup_mode(void **state, bool nonblocking) {
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    int p[2];
    assert_int_equal(pipe(p), 0);
    fx->pipe_rd = p[0];
    fx->pipe_wr = p[1];

    static const char *const argv[] = { "suspend.wasm" };
    wasi_config cfg = {
        .argv = argv, .argc = 1,
        .stdin_fd = fx->pipe_rd, .stdout_fd = -1, .stderr_fd = -1,
        .nonblocking = nonblocking,
    };
    wr_error err;
    assert_int_equal(wasi_ctx_new(&cfg, &fx->ctx, &err), WR_OK);

    fx->module = test_load_wasm("../wasi/suspend.wasm");
    fx->store = wr_store_new(NULL);
    assert_non_null(fx->store);
    uint32_t nimports = wr_module_import_count(fx->module);
    wr_extern *imports = calloc(nimports, sizeof *imports);
    assert_int_equal(wasi_ctx_link(fx->ctx, fx->store, fx->module, imports, &err), WR_OK);
    assert_int_equal(wr_instantiate(fx->store, fx->module, imports, nimports, &fx->inst, &err), WR_OK);
    free(imports);
    fx->exec = wr_exec_new(fx->store);
    assert_non_null(fx->exec);
    fx->mem = wr_memory_data(wr_instance_memory(fx->inst));
    *state = fx;
    return 0;
}

static int setup_nonblocking(void **state) { return setup_mode(state, true); }
static int setup_blocking(void **state) { return setup_mode(state, false); }

static int teardown(void **state) {
    fixture *fx = *state;
    wr_exec_free(fx->exec);
    wr_store_free(fx->store);
    wr_module_free(fx->module);
    wasi_ctx_free(fx->ctx);
    close(fx->pipe_rd);
    if (fx->pipe_wr >= 0)
        close(fx->pipe_wr);
    free(fx);
    return 0;
}

static wr_func *export_func(fixture *fx, const char *name) {
    wr_extern ex;
    assert_true(wr_instance_export(fx->inst, name, &ex));
    assert_int_equal(ex.kind, WR_EXTERN_FUNC);
    return ex.of.func;
}

/* Waits as an embedder would: until the deadline or until a descriptor is ready. */
static void wait_for(const wasi_wait *w) {
    struct pollfd pfds[8];
    assert_true(w->nfds <= 8);
    for (size_t i = 0; i < w->nfds; i++) {
        pfds[i].fd = w->fds[i].fd;
        pfds[i].events = (short)(((w->fds[i].events & WASI_WAIT_READABLE) ? POLLIN : 0) |
                                 ((w->fds[i].events & WASI_WAIT_WRITABLE) ? POLLOUT : 0));
    }
    int timeout_ms = -1;
    if (w->deadline != WASI_NO_DEADLINE) {
        uint64_t now = mono_ns();
        /* Rounded up: waking early would only mean another round. */
        timeout_ms = w->deadline > now ? (int)((w->deadline - now + 999999u) / 1000000u) : 0;
    }
    assert_true(poll(pfds, w->nfds, timeout_ms) >= 0);
}

/* Finishes a parked call: wait, complete (again after a spurious wake-up), resume. */
static wr_status finish_parked(fixture *fx, wr_val *result) {
    uint64_t host_results[1];
    wasi_wait w;
    for (;;) {
        assert_true(wasi_ctx_pending(fx->ctx, &w));
        wait_for(&w);
        wr_status s = wasi_ctx_complete(fx->ctx, host_results);
        if (s == WR_OK)
            break;
        assert_int_equal(s, WR_SUSPENDED);
    }
    assert_false(wasi_ctx_pending(fx->ctx, &w));
    return wr_resume(fx->exec, host_results, result, 1);
}

static void check_clock_event(const fixture *fx) {
    assert_int_equal(load32(fx->mem + NEVENTS_AT), 1);
    assert_int_equal(load64(fx->mem + EVENTS_AT + EV_USERDATA), 0x1234);
    assert_int_equal(fx->mem[EVENTS_AT + EV_ERROR] | fx->mem[EVENTS_AT + EV_ERROR + 1] << 8, 0);
    assert_int_equal(fx->mem[EVENTS_AT + EV_TYPE], EVENTTYPE_CLOCK);
}

/* poll_oneoff on a 20 ms clock parks, names its deadline, and ends with the clock's event. */
static void test_clock_parks_and_resumes(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i64(SLEEP_NS), result;
    uint64_t start = mono_ns();
    assert_int_equal(wr_call(fx->exec, export_func(fx, "sleep"), &arg, 1, &result, 1), WR_SUSPENDED);
    /* The thread did not sleep: the call came back parked, naming its deadline
     * (no bound on how fast it came back: a slow or busy machine may take
     * longer than the 20 ms themselves). */

    wasi_wait w;
    assert_true(wasi_ctx_pending(fx->ctx, &w));
    assert_int_equal(w.nfds, 0);
    assert_true(w.deadline >= start + SLEEP_NS);
    assert_true(w.deadline <= mono_ns() + SLEEP_NS);

    /* Too early: the call stays parked and the guest sees nothing yet.  On a
     * machine slow enough (qemu, heavy load) for the deadline to have passed
     * already, completing may finish it: only never before the deadline. */
    uint64_t host_results[1];
    wr_status early = wasi_ctx_complete(fx->ctx, host_results);
    if (early == WR_SUSPENDED) {
        assert_true(wasi_ctx_pending(fx->ctx, &w));
        assert_int_equal(finish_parked(fx, &result), WR_OK);
    } else {
        assert_int_equal(early, WR_OK);
        assert_true(mono_ns() >= w.deadline);
        assert_false(wasi_ctx_pending(fx->ctx, &w));
        assert_int_equal(wr_resume(fx->exec, host_results, &result, 1), WR_OK);
    }
    assert_int_equal(result.of.i32, 0);
    assert_true(mono_ns() - start >= SLEEP_NS);
    check_clock_event(fx);
}

/* The same call in blocking mode: the same results, reached without WR_SUSPENDED. */
static void test_clock_blocking_same_results(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i64(SLEEP_NS), result;
    uint64_t start = mono_ns();
    assert_int_equal(wr_call(fx->exec, export_func(fx, "sleep"), &arg, 1, &result, 1), WR_OK);
    assert_true(mono_ns() - start >= SLEEP_NS);
    assert_int_equal(result.of.i32, 0);
    check_clock_event(fx);
}

/* A clock already due does not park. */
static void test_zero_clock_does_not_park(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i64(0), result;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "sleep"), &arg, 1, &result, 1), WR_OK);
    assert_int_equal(result.of.i32, 0);
    check_clock_event(fx);
    wasi_wait w;
    assert_false(wasi_ctx_pending(fx->ctx, &w));
}

/* fd_read on an empty pipe parks on that pipe; data written later is what the guest reads. */
static void test_read_parks_until_data(void **state) {
    fixture *fx = *state;
    wr_val result;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "read"), NULL, 0, &result, 1), WR_SUSPENDED);
    wasi_wait w;
    assert_true(wasi_ctx_pending(fx->ctx, &w));
    assert_int_equal(w.deadline, WASI_NO_DEADLINE);
    assert_int_equal(w.nfds, 1);
    assert_true(w.fds[0].events & WASI_WAIT_READABLE);

    /* Nothing written yet: still parked. */
    uint64_t host_results[1];
    assert_int_equal(wasi_ctx_complete(fx->ctx, host_results), WR_SUSPENDED);

    assert_int_equal(write(fx->pipe_wr, "hello", 5), 5);
    assert_int_equal(finish_parked(fx, &result), WR_OK);
    assert_int_equal(result.of.i32, 0);
    assert_int_equal(load32(fx->mem + NREAD_AT), 5);
    assert_memory_equal(fx->mem + READ_BUF_AT, "hello", 5);
}

/* Data already there: the read does not park. */
static void test_read_with_data_does_not_park(void **state) {
    fixture *fx = *state;
    wr_val result;
    assert_int_equal(write(fx->pipe_wr, "abc", 3), 3);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "read"), NULL, 0, &result, 1), WR_OK);
    assert_int_equal(result.of.i32, 0);
    assert_int_equal(load32(fx->mem + NREAD_AT), 3);
}

/* End of file wakes a parked read, which then reads 0 bytes, as a blocking read would. */
static void test_read_parked_sees_eof(void **state) {
    fixture *fx = *state;
    wr_val result;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "read"), NULL, 0, &result, 1), WR_SUSPENDED);
    close(fx->pipe_wr);
    fx->pipe_wr = -1;
    assert_int_equal(finish_parked(fx, &result), WR_OK);
    assert_int_equal(result.of.i32, 0);
    assert_int_equal(load32(fx->mem + NREAD_AT), 0);
}

/* poll_oneoff on fd 0 parks on it and reports the bytes available once written. */
static void test_poll_fd_parks(void **state) {
    fixture *fx = *state;
    wr_val result;
    assert_int_equal(wr_call(fx->exec, export_func(fx, "poll_stdin"), NULL, 0, &result, 1), WR_SUSPENDED);
    wasi_wait w;
    assert_true(wasi_ctx_pending(fx->ctx, &w));
    assert_int_equal(w.deadline, WASI_NO_DEADLINE);
    assert_int_equal(w.nfds, 1);
    assert_int_equal(write(fx->pipe_wr, "xyz", 3), 3);
    assert_int_equal(finish_parked(fx, &result), WR_OK);
    assert_int_equal(result.of.i32, 0);
    assert_int_equal(load32(fx->mem + NEVENTS_AT), 1);
    assert_int_equal(load64(fx->mem + EVENTS_AT + EV_USERDATA), 0x5678);
    assert_int_equal(fx->mem[EVENTS_AT + EV_TYPE], EVENTTYPE_FD_READ);
    assert_int_equal(load64(fx->mem + EVENTS_AT + EV_NBYTES), 3);
}

/* An abandoned call is forgotten: by wasi_ctx_cancel, and by the next call. */
static void test_cancel(void **state) {
    fixture *fx = *state;
    wr_val arg = wr_val_i64(SLEEP_NS * 100), result;
    wasi_wait w;
    uint64_t host_results[1];
    assert_int_equal(wr_call(fx->exec, export_func(fx, "sleep"), &arg, 1, &result, 1), WR_SUSPENDED);
    wr_exec_reset(fx->exec);
    wasi_ctx_cancel(fx->ctx);
    assert_false(wasi_ctx_pending(fx->ctx, &w));
    assert_int_equal(wasi_ctx_complete(fx->ctx, host_results), WR_ERR_STATE);

    assert_int_equal(wr_call(fx->exec, export_func(fx, "sleep"), &arg, 1, &result, 1), WR_SUSPENDED);
    wr_exec_reset(fx->exec);
    arg = wr_val_i64(0);
    assert_int_equal(wr_call(fx->exec, export_func(fx, "sleep"), &arg, 1, &result, 1), WR_OK);
    assert_false(wasi_ctx_pending(fx->ctx, &w));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_clock_parks_and_resumes, setup_nonblocking, teardown),
        cmocka_unit_test_setup_teardown(test_clock_blocking_same_results, setup_blocking, teardown),
        cmocka_unit_test_setup_teardown(test_zero_clock_does_not_park, setup_nonblocking, teardown),
        cmocka_unit_test_setup_teardown(test_read_parks_until_data, setup_nonblocking, teardown),
        cmocka_unit_test_setup_teardown(test_read_with_data_does_not_park, setup_nonblocking, teardown),
        cmocka_unit_test_setup_teardown(test_read_parked_sees_eof, setup_nonblocking, teardown),
        cmocka_unit_test_setup_teardown(test_poll_fd_parks, setup_nonblocking, teardown),
        cmocka_unit_test_setup_teardown(test_cancel, setup_nonblocking, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
