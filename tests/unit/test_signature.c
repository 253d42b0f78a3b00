/*
 * test_signature.c - minisign parsing and verification (daemon/signature.c)
 * against files made by Debian's minisign 0.11 (key 1DDEF66DDB6D739D,
 * file "hello\n"): a prehashed signature, a legacy one, and broken,
 * tampered and foreign ones; trusted-comment fields and version order.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>
#include <sodium.h>

#include "daemon/signature.h"

static const char PUB[] = "untrusted comment: minisign public key 1DDEF66DDB6D739D\n"
                          "RWSdc23bbfbeHQxuE9Lfhzt7nROL2eq/5PYWb8kRFipyQSEklwkONagy\n";
static const char SIG_PREHASHED[] =
    "untrusted comment: signature from minisign secret key\n"
    "RUSdc23bbfbeHQFEKwBN+ZLO4xtF5Pf8AHxMrAJKK2kTZs/YJJUYX19YnMco2ZG3Yax7Hi0SL2MFu4EvyjsWvvnA3WXqGHrpywI=\n"
    "trusted comment: module:dep version:3\n"
    "lpwSQsL9xTSwnyvTi5gSNKUThsi1Fb28qC0tvlocDgcrFM3IrbO7b4DQiR3gRuHsm6hkr4Sftvd/ctDe7/awBw==\n";
static const char SIG_LEGACY[] =
    "untrusted comment: signature from minisign secret key\r\n"     /* CRLF is read too */
    "RWSdc23bbfbeHa78Yq2luy9Vb4i3zUnVRWqQebkufqEwlMLX2D1zlo+AXN8e+2GTJTstLamD/Re5YhG7icwKue7stNsYffQNcQ8=\r\n"
    "trusted comment: timestamp:1796218780\tfile:f\r\n"
    "WQcSz+XYTq9Q+PfNfGJxkrJZu+yXYdxoLaiy8T6KS5JnlzERUi6sQC4ZK6xn3kRRDsLGx4k8lgr2dCmBcXQICA==\r\n";
static const uint8_t HELLO[] = "hello\n";

static void test_pubkey(void **state) {
    wd_pubkey k;
    char why[WD_SIG_WHY_MAX];
    assert_true(wd_sig_parse_pubkey(PUB, &k, why));
    assert_int_equal(k.id[0], 0x9d);     /* 1DDEF66DDB6D739D, little-endian */
    assert_int_equal(k.id[7], 0x1d);
    assert_false(wd_sig_parse_pubkey("RWSdc23bbfbeHQxu\n", &k, why));
    assert_non_null(strstr(why, "untrusted comment"));
    assert_false(wd_sig_parse_pubkey("untrusted comment: x\nnot base64!\n", &k, why));
    assert_false(wd_sig_parse_pubkey("untrusted comment: x\nRWSdc23bbfbe\n", &k, why)); /* too short */
}

static void test_verify(void **state) {
    wd_pubkey k;
    wd_minisig s;
    char why[WD_SIG_WHY_MAX];
    assert_true(wd_sig_parse_pubkey(PUB, &k, why));
    snprintf(k.name, sizeof k.name, "ops.pub");
    assert_true(wd_sig_parse(SIG_PREHASHED, &s, why));
    assert_true(s.prehashed);
    assert_string_equal(s.trusted, "module:dep version:3");
    assert_ptr_equal(wd_sig_verify(&s, &k, 1, HELLO, 6, why), &k);
    assert_true(wd_sig_parse(SIG_LEGACY, &s, why));
    assert_false(s.prehashed);
    assert_ptr_equal(wd_sig_verify(&s, &k, 1, HELLO, 6, why), &k);

    /* A changed file, a changed trusted comment, an unknown key. */
    assert_true(wd_sig_parse(SIG_PREHASHED, &s, why));
    assert_null(wd_sig_verify(&s, &k, 1, (const uint8_t *)"hellO\n", 6, why));
    assert_non_null(strstr(why, "does not match"));
    snprintf(s.trusted, sizeof s.trusted, "module:dep version:4");
    assert_null(wd_sig_verify(&s, &k, 1, HELLO, 6, why));
    assert_non_null(strstr(why, "trusted comment"));
    assert_true(wd_sig_parse(SIG_PREHASHED, &s, why));
    k.id[0] ^= 1;
    assert_null(wd_sig_verify(&s, &k, 1, HELLO, 6, why));
    assert_non_null(strstr(why, "1DDEF66DDB6D739D"));

    /* Broken files. */
    assert_false(wd_sig_parse("untrusted comment: x\n", &s, why));
    char broken[sizeof SIG_PREHASHED];
    memcpy(broken, SIG_PREHASHED, sizeof broken);
    *strstr(broken, "trusted comment: module") = 'X';
    assert_false(wd_sig_parse(broken, &s, why));
    assert_non_null(strstr(why, "third line"));
}

static void test_comment_and_versions(void **state) {
    char v[64];
    assert_true(wd_sig_comment_field("module:dep\tversion:1.2", "version", v, sizeof v));
    assert_string_equal(v, "1.2");
    assert_true(wd_sig_comment_field("module:dep version:1.2", "module", v, sizeof v));
    assert_string_equal(v, "dep");
    assert_false(wd_sig_comment_field("mymodule:dep", "module", v, sizeof v));
    assert_false(wd_sig_comment_field("timestamp:1 file:f", "version", v, sizeof v));
    assert_true(wd_sig_version_valid("3"));
    assert_true(wd_sig_version_valid("1.10.2"));
    assert_false(wd_sig_version_valid("1..2"));
    assert_false(wd_sig_version_valid("v1"));
    assert_false(wd_sig_version_valid(""));
    assert_true(wd_sig_version_compare("1.10", "1.9") > 0);
    assert_true(wd_sig_version_compare("2", "10") < 0);
    assert_int_equal(wd_sig_version_compare("1.0", "1"), 0);
    assert_true(wd_sig_version_compare("1.0.1", "1") > 0);
}

int main(void) {
    if (sodium_init() < 0)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pubkey),
        cmocka_unit_test(test_verify),
        cmocka_unit_test(test_comment_and_versions),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
