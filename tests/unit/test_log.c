/*
 * test_log.c - the daemon's per-instance log ring (daemon/log.c, compiled
 * in here: it needs nothing else of the daemon): bounded, oldest lines go
 * first, each line keeps its time and stream, and the text form is the
 * one `wasmctl logs -o cat` has always shown.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "daemon/log.c"

static void test_ring_bounded(void **state) {
    wd_log log;
    assert_int_equal(wd_log_init(&log, 3), 0);
    assert_null(wd_log_get(&log, 0));
    char text[32];
    for (int i = 0; i < 5; i++) {
        snprintf(text, sizeof text, "line %d", i);
        assert_non_null(wd_log_push(&log, 1000 + i, WD_STREAM_STDOUT, text));
    }
    assert_int_equal(log.count, 3);
    for (uint32_t i = 0; i < 3; i++) {
        const wd_log_line *l = wd_log_get(&log, i);
        snprintf(text, sizeof text, "line %u", i + 2);
        assert_string_equal(l->text, text);
        assert_int_equal(l->time_us, 1002 + i);
    }
    assert_null(wd_log_get(&log, 3));
    wd_log_free(&log);

    /* A ring of no lines keeps nothing. */
    assert_int_equal(wd_log_init(&log, 0), 0);
    assert_null(wd_log_push(&log, 1, WD_STREAM_STDOUT, "x"));
    wd_log_free(&log);
}

static void test_streams(void **state) {
    static const struct {
        const char *tag, *name, *level, *shown;
    } cases[] = {
        { "stdout", "stdout", NULL, "hello" },
        { "stderr", "stderr", NULL, "[stderr] hello" },
        { "wasmd", "event", NULL, "[wasmd] hello" },
        { "debug", "log", "debug", "[debug] hello" },
        { "info", "log", "info", "[info] hello" },
        { "warn", "log", "warn", "[warn] hello" },
        { "error", "log", "error", "[error] hello" },
    };
    wd_log log;
    assert_int_equal(wd_log_init(&log, 10), 0);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        wd_stream s = wd_stream_parse(cases[i].tag);
        assert_string_equal(wd_stream_name(s), cases[i].name);
        if (cases[i].level)
            assert_string_equal(wd_stream_level(s), cases[i].level);
        else
            assert_null(wd_stream_level(s));
        const wd_log_line *l = wd_log_push(&log, 7, s, "hello");
        char buf[64];
        assert_string_equal(wd_log_format(l, buf, sizeof buf), cases[i].shown);
    }
    wd_log_free(&log);
    /* The realtime clock, in microseconds: after 2026-01-01. */
    assert_true(wd_realtime_us() > 1767225600LL * 1000000);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ring_bounded),
        cmocka_unit_test(test_streams),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
