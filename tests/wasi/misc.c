/*
 * misc.c - the calls that touch no files: clocks (all four), random,
 * poll_oneoff on clocks and descriptors, sched_yield, proc_raise, the
 * socket calls' errors, and proc_exit.  Prints "ok ..." / "FAIL ..." lines
 * and exits with the number of failures.
 *
 *   wasmctl run misc.wasm              the checks (stdin should be readable: pipe data in)
 *   wasmctl run misc.wasm exit N       proc_exit(N) at once
 *   wasmctl run misc.wasm trap         an unreachable instruction
 *   wasmctl run misc.wasm copy         stdin to stdout, and "to stderr" on stderr
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <wasi/api.h>

/* proc_raise is deprecated and this wasi-libc no longer declares it: import it directly. */
#define SIGNAL_TERM 15
int32_t raw_proc_raise(int32_t sig) __attribute__((import_module("wasi_snapshot_preview1"), import_name("proc_raise")));

static int failures;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failures++;
}

static void check_errno(__wasi_errno_t got, __wasi_errno_t want, const char *what) {
    if (got == want) {
        printf("ok %s\n", what);
    } else {
        printf("FAIL %s: errno %u, expected %u\n", what, got, want);
        failures++;
    }
}

#define MS 1000000ull

static void test_clocks(void) {
    static const __wasi_clockid_t ids[] = { __WASI_CLOCKID_REALTIME, __WASI_CLOCKID_MONOTONIC,
                                           __WASI_CLOCKID_PROCESS_CPUTIME_ID, __WASI_CLOCKID_THREAD_CPUTIME_ID };
    for (int i = 0; i < 4; i++) {
        __wasi_timestamp_t res = 0, t1 = 0, t2 = 0;
        char what[64];
        snprintf(what, sizeof what, "clock %d: resolution", i);
        check(__wasi_clock_res_get(ids[i], &res) == 0 && res > 0, what);
        /* Burn a little CPU so that the CPU-time clocks move too. */
        volatile unsigned x = 0;
        check(__wasi_clock_time_get(ids[i], 1, &t1) == 0, "clock_time_get");
        for (unsigned k = 0; k < 3000000; k++)
            x = x + k;
        (void)x;
        check(__wasi_clock_time_get(ids[i], 1, &t2) == 0 && t2 >= t1, "clock does not go back");
        snprintf(what, sizeof what, "clock %d: advances", i);
        check(t2 > t1, what);
    }
    __wasi_timestamp_t t;
    check(__wasi_clock_time_get(__WASI_CLOCKID_REALTIME, 1, &t) == 0 && t > 1600000000ull * 1000 * MS,
          "realtime is after 2020");
    check_errno(__wasi_clock_time_get(7, 1, &t), __WASI_ERRNO_INVAL, "unknown clock: EINVAL");
    check_errno(__wasi_clock_res_get(7, &t), __WASI_ERRNO_INVAL, "unknown clock res: EINVAL");
}

static void test_random(void) {
    uint8_t a[64] = { 0 }, b[64] = { 0 };
    check(__wasi_random_get(a, sizeof a) == 0 && __wasi_random_get(b, sizeof b) == 0, "random_get");
    check(memcmp(a, b, sizeof a) != 0, "two draws differ");
    check(__wasi_random_get(a, 0) == 0, "random_get of 0 bytes");
}

static __wasi_subscription_t clock_sub(uint64_t userdata, __wasi_timestamp_t timeout, bool abs) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = __WASI_EVENTTYPE_CLOCK;
    s.u.u.clock.id = __WASI_CLOCKID_MONOTONIC;
    s.u.u.clock.timeout = timeout;
    s.u.u.clock.flags = abs ? __WASI_SUBCLOCKFLAGS_SUBSCRIPTION_CLOCK_ABSTIME : 0;
    return s;
}

static __wasi_subscription_t fd_sub(uint64_t userdata, __wasi_eventtype_t type, __wasi_fd_t fd) {
    __wasi_subscription_t s;
    memset(&s, 0, sizeof s);
    s.userdata = userdata;
    s.u.tag = type;
    if (type == __WASI_EVENTTYPE_FD_READ)
        s.u.u.fd_read.file_descriptor = fd;
    else
        s.u.u.fd_write.file_descriptor = fd;
    return s;
}

static void test_poll(void) {
    __wasi_timestamp_t t1, t2;
    __wasi_event_t ev[4];
    __wasi_size_t n = 0;
    __wasi_subscription_t subs[4];

    subs[0] = clock_sub(42, 20 * MS, false);
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1);
    check_errno(__wasi_poll_oneoff(subs, ev, 1, &n), 0, "poll on a 20 ms clock");
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t2);
    check(n == 1 && ev[0].userdata == 42 && ev[0].type == __WASI_EVENTTYPE_CLOCK && ev[0].error == 0,
          "one clock event with its userdata");
    check(t2 - t1 >= 20 * MS, "slept at least 20 ms");

    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t1);
    subs[0] = clock_sub(1, t1 + 10 * MS, true);
    check_errno(__wasi_poll_oneoff(subs, ev, 1, &n), 0, "poll on an absolute clock");
    (void)__wasi_clock_time_get(__WASI_CLOCKID_MONOTONIC, 1, &t2);
    check(n == 1 && t2 >= t1 + 10 * MS, "woke at the absolute time");

    /* Two clocks: only the earlier fires. */
    subs[0] = clock_sub(1, 5 * MS, false);
    subs[1] = clock_sub(2, 10000 * MS, false);
    check_errno(__wasi_poll_oneoff(subs, ev, 2, &n), 0, "poll on two clocks");
    check(n == 1 && ev[0].userdata == 1, "only the earlier clock fired");

    /* stdout is writable at once, before any clock. */
    subs[0] = clock_sub(1, 10000 * MS, false);
    subs[1] = fd_sub(7, __WASI_EVENTTYPE_FD_WRITE, 1);
    check_errno(__wasi_poll_oneoff(subs, ev, 2, &n), 0, "poll stdout for writing");
    check(n == 1 && ev[0].userdata == 7 && ev[0].type == __WASI_EVENTTYPE_FD_WRITE && ev[0].error == 0,
          "stdout is writable");

    /* stdin has data (the test pipes some in): readable, with a byte count. */
    subs[1] = fd_sub(8, __WASI_EVENTTYPE_FD_READ, 0);
    check_errno(__wasi_poll_oneoff(subs, ev, 2, &n), 0, "poll stdin for reading");
    check(n == 1 && ev[0].userdata == 8 && ev[0].type == __WASI_EVENTTYPE_FD_READ && ev[0].fd_readwrite.nbytes > 0,
          "stdin is readable with bytes available");

    /* Bad subscriptions give error events, not a failed call. */
    subs[0] = fd_sub(9, __WASI_EVENTTYPE_FD_READ, 99);
    check_errno(__wasi_poll_oneoff(subs, ev, 1, &n), 0, "poll on a closed fd");
    check(n == 1 && ev[0].error == __WASI_ERRNO_BADF, "its event carries EBADF");
    subs[0] = clock_sub(10, 0, false);
    subs[0].u.u.clock.id = 9;
    check_errno(__wasi_poll_oneoff(subs, ev, 1, &n), 0, "poll on an unknown clock");
    check(n == 1 && ev[0].error == __WASI_ERRNO_INVAL, "its event carries EINVAL");
    check_errno(__wasi_poll_oneoff(subs, ev, 0, &n), __WASI_ERRNO_INVAL, "poll with no subscriptions: EINVAL");
}

static void test_misc(void) {
    check_errno(__wasi_sched_yield(), 0, "sched_yield");
    check_errno((__wasi_errno_t)raw_proc_raise(SIGNAL_TERM), __WASI_ERRNO_NOSYS, "proc_raise: ENOSYS");
    __wasi_fd_t fd;
    check_errno(__wasi_sock_accept(1, 0, &fd), __WASI_ERRNO_NOTSOCK, "sock_accept on stdout: ENOTSOCK");
    check_errno(__wasi_sock_accept(99, 0, &fd), __WASI_ERRNO_BADF, "sock_accept on a closed fd: EBADF");
    uint8_t buf[4];
    __wasi_iovec_t iov = { buf, sizeof buf };
    __wasi_ciovec_t ciov = { buf, sizeof buf };
    __wasi_size_t n;
    __wasi_roflags_t ro;
    check_errno(__wasi_sock_recv(0, &iov, 1, 0, &n, &ro), __WASI_ERRNO_NOTSOCK, "sock_recv on stdin: ENOTSOCK");
    check_errno(__wasi_sock_recv(99, &iov, 1, 0, &n, &ro), __WASI_ERRNO_BADF, "sock_recv on a closed fd: EBADF");
    check_errno(__wasi_sock_send(1, &ciov, 1, 0, &n), __WASI_ERRNO_NOTSOCK, "sock_send on stdout: ENOTSOCK");
    check_errno(__wasi_sock_send(99, &ciov, 1, 0, &n), __WASI_ERRNO_BADF, "sock_send on a closed fd: EBADF");
    check_errno(__wasi_sock_shutdown(1, __WASI_SDFLAGS_WR), __WASI_ERRNO_NOTSOCK, "sock_shutdown on stdout: ENOTSOCK");
    check_errno(__wasi_sock_shutdown(99, __WASI_SDFLAGS_WR), __WASI_ERRNO_BADF, "sock_shutdown on a closed fd: EBADF");

    /* Arguments and environment through the raw calls. */
    __wasi_size_t argc, argv_size, envc, env_size;
    check_errno(__wasi_args_sizes_get(&argc, &argv_size), 0, "args_sizes_get");
    check_errno(__wasi_environ_sizes_get(&envc, &env_size), 0, "environ_sizes_get");
    char *argbuf = malloc(argv_size), **argv = malloc(argc * sizeof *argv);
    check(argbuf && argv && __wasi_args_get((uint8_t **)argv, (uint8_t *)argbuf) == 0 && argc >= 1 &&
              strstr(argv[0], "misc.wasm"), "args_get: argv[0] is the module");
    free(argbuf);
    free(argv);
}

int main(int argc, char **argv) {
    if (argc > 2 && strcmp(argv[1], "exit") == 0)
        __wasi_proc_exit((__wasi_exitcode_t)atoi(argv[2]));
    if (argc > 1 && strcmp(argv[1], "trap") == 0)
        __builtin_trap();
    if (argc > 1 && strcmp(argv[1], "copy") == 0) {
        int c;
        while ((c = getchar()) != EOF)
            putchar(c);
        fputs("to stderr\n", stderr);
        return 0;
    }
    test_clocks();
    test_random();
    test_poll();
    test_misc();
    printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
    return failures;
}
