/*
 * test_util.h - shared by the unit tests that load modules built by the
 * Makefile (tests/wat/NAME.wat into $TEST_WASM_DIR, tests/wasi/ beside it).
 * Include after <cmocka.h>.
 */
#ifndef WASMD_TEST_UTIL_H
#define WASMD_TEST_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "runtime/wr.h"

/* Reads $TEST_WASM_DIR/RELPATH (default dir build/tests/wat); NULL if it can't. Free the result. */
static inline uint8_t *test_read_wasm(const char *relpath, size_t *len) {
    const char *dir = getenv("TEST_WASM_DIR");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : "build/tests/wat", relpath);
    FILE *f = fopen(path, "rb");
    if (!f) {
        fprintf(stderr, "cannot open %s (built by make)\n", path);
        return NULL;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *buf = n > 0 ? malloc((size_t)n) : NULL;
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return buf;
}

/* Reads and loads a module, failing the test if either step fails. */
static inline wr_module *test_load_wasm(const char *relpath) {
    size_t len = 0;
    uint8_t *bytes = test_read_wasm(relpath, &len);
    assert_non_null(bytes);
    wr_module *m;
    wr_error err;
    wr_status s = wr_module_load(bytes, len, &m, &err);
    free(bytes);
    if (s != WR_OK)
        fprintf(stderr, "%s: %s: %s\n", relpath, wr_status_message(s), err.detail);
    assert_int_equal(s, WR_OK);
    return m;
}

#endif /* WASMD_TEST_UTIL_H */
