/*
 * test_wasi_link.c - linking WASI imports: all of a module's imports
 * (wasi_ctx_link), or only the WASI ones, leaving the rest to the embedder
 * (wasi_ctx_link_partial).  The module is tests/wat/mixed_imports.wat.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "wasi/wasi.h"
#include "test_util.h"

static void test_link_partial(void **state) {
    (void)state;
    wr_module *m = test_load_wasm("mixed_imports.wasm");
    wr_store *s = wr_store_new(NULL);
    const char *argv[] = {"mixed"};
    wasi_config cfg = {.argv = argv, .argc = 1, .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1};
    wasi_ctx *ctx;
    wr_error err;
    assert_int_equal(wasi_ctx_new(&cfg, &ctx, &err), WR_OK);

    wr_extern imports[3];
    memset(imports, 0, sizeof imports);
    /* The whole-module link refuses the foreign import and names it. */
    assert_int_equal(wasi_ctx_link(ctx, s, m, imports, &err), WR_ERR_UNKNOWN_IMPORT);
    assert_non_null(strstr(err.detail, "host_thing"));

    memset(imports, 0, sizeof imports);
    assert_int_equal(wasi_ctx_link_partial(ctx, s, m, imports, &err), WR_OK);
    assert_non_null(imports[0].of.func);
    assert_null(imports[1].of.func); /* left for the embedder */
    assert_non_null(imports[2].of.func);
    assert_true(wasi_import_is_wasi(m, 0));
    assert_false(wasi_import_is_wasi(m, 1));

    wasi_ctx_free(ctx);
    wr_store_free(s);
    wr_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_link_partial),
    };
    return cmocka_run_group_tests_name("wasi_link", tests, NULL, NULL);
}
