/*
 * test_value.c - cmocka tests of cli/value.c: reading --invoke arguments
 * and printing results, bit-exact.
 *
 * The CLI is not a library, so the file under test is included here: this
 * links with the Makefile's generic unit-test rule, and value.c needs
 * nothing from the engine but wr.h's inline helpers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "cli/value.c"

/* Parses `text` as `type`, asserting success. */
static wr_val parse_ok(wr_valtype type, const char *text) {
    wr_val v;
    memset(&v, 0xa5, sizeof v);
    if (!cli_value_parse(type, text, &v))
        fail_msg("\"%s\" should parse as %s", text, type == WR_I32 ? "i32" : type == WR_I64 ? "i64" :
                                                    type == WR_F32 ? "f32" : type == WR_F64 ? "f64" : "ref");
    assert_int_equal(v.type, type);
    return v;
}

static void parse_bad(wr_valtype type, const char *text) {
    wr_val v = wr_val_i64(42);
    if (cli_value_parse(type, text, &v))
        fail_msg("\"%s\" should not parse", text);
    /* A failed parse leaves the value alone. */
    assert_int_equal(v.type, WR_I64);
    assert_int_equal(v.of.i64, 42);
}

static const char *fmt(wr_val v) {
    static char buf[CLI_VALUE_MAX];
    return cli_value_format(&v, buf, sizeof buf);
}

/* ---- Integers --------------------------------------------------------- */

static void test_i32_minus_one(void **state) {
    assert_int_equal(parse_ok(WR_I32, "-1").of.i32, -1);
    assert_string_equal(fmt(parse_ok(WR_I32, "-1")), "-1");
}

static void test_i32_unsigned_max_is_minus_one(void **state) {
    assert_int_equal(parse_ok(WR_I32, "4294967295").of.i32, -1);
    assert_int_equal(parse_ok(WR_I32, "0xffffffff").of.i32, -1);
    assert_string_equal(fmt(parse_ok(WR_I32, "4294967295")), "-1");
}

static void test_i32_range(void **state) {
    assert_int_equal(parse_ok(WR_I32, "-2147483648").of.i32, INT32_MIN);
    assert_int_equal(parse_ok(WR_I32, "2147483647").of.i32, INT32_MAX);
    assert_int_equal(parse_ok(WR_I32, "0x80000000").of.i32, INT32_MIN);
    assert_int_equal(parse_ok(WR_I32, "-0x80000000").of.i32, INT32_MIN);
    assert_int_equal(parse_ok(WR_I32, "+7").of.i32, 7);
    assert_int_equal(parse_ok(WR_I32, "0XaBc").of.i32, 0xabc);
    assert_int_equal(parse_ok(WR_I32, "-0").of.i32, 0);
    assert_string_equal(fmt(parse_ok(WR_I32, "0x80000000")), "-2147483648");
    parse_bad(WR_I32, "4294967296");
    parse_bad(WR_I32, "-2147483649");
    parse_bad(WR_I32, "0x100000000");
    parse_bad(WR_I32, "-0x80000001");
}

static void test_int_malformed(void **state) {
    const char *bad[] = { "", "-", "+", "0x", "12a", " 1", "1 ", "1.0", "0x1g", "--1", "-+1", "1e3", "null", "0b1" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse_bad(WR_I32, bad[i]);
        parse_bad(WR_I64, bad[i]);
    }
}

static void test_i64_range(void **state) {
    assert_true(parse_ok(WR_I64, "-9223372036854775808").of.i64 == INT64_MIN);
    assert_true(parse_ok(WR_I64, "9223372036854775807").of.i64 == INT64_MAX);
    assert_true(parse_ok(WR_I64, "18446744073709551615").of.i64 == -1);
    assert_true(parse_ok(WR_I64, "0xffffffffffffffff").of.i64 == -1);
    assert_true(parse_ok(WR_I64, "0x8000000000000000").of.i64 == INT64_MIN);
    assert_true(parse_ok(WR_I64, "4294967295").of.i64 == 4294967295);
    parse_bad(WR_I64, "18446744073709551616");
    parse_bad(WR_I64, "-9223372036854775809");
    parse_bad(WR_I64, "0x10000000000000000");
    assert_string_equal(fmt(parse_ok(WR_I64, "18446744073709551615")), "-1");
    assert_string_equal(fmt(parse_ok(WR_I64, "-9223372036854775808")), "-9223372036854775808");
}

/* ---- Floats ----------------------------------------------------------- */

static void test_f32_signed_zero(void **state) {
    assert_int_equal(parse_ok(WR_F32, "-0").of.f32_bits, 0x80000000u);
    assert_int_equal(parse_ok(WR_F32, "0").of.f32_bits, 0);
    assert_int_equal(parse_ok(WR_F32, "-0.0").of.f32_bits, 0x80000000u);
    assert_string_equal(fmt(wr_val_f32_bits(0x80000000u)), "-0");
    assert_string_equal(fmt(wr_val_f32_bits(0)), "0");
    assert_string_equal(fmt(wr_val_f64_bits(UINT64_C(0x8000000000000000))), "-0");
}

static void test_f32_values(void **state) {
    assert_int_equal(parse_ok(WR_F32, "1.5").of.f32_bits, 0x3fc00000u);
    assert_int_equal(parse_ok(WR_F32, "0x1.8p1").of.f32_bits, 0x40400000u); /* 3.0 */
    assert_int_equal(parse_ok(WR_F32, "-2").of.f32_bits, 0xc0000000u);
    assert_int_equal(parse_ok(WR_F32, ".5").of.f32_bits, 0x3f000000u);
    /* 0.1 rounds straight to binary32, not through double. */
    assert_int_equal(parse_ok(WR_F32, "0.1").of.f32_bits, 0x3dcccccdu);
    assert_int_equal(parse_ok(WR_F32, "3.4028234663852886e38").of.f32_bits, 0x7f7fffffu);
    /* The smallest subnormal. */
    assert_int_equal(parse_ok(WR_F32, "0x1p-149").of.f32_bits, 1u);
    assert_string_equal(fmt(wr_val_f32_bits(0x3dcccccdu)), "0.100000001");
    assert_string_equal(fmt(wr_val_f32_bits(0x3fc00000u)), "1.5");
    parse_bad(WR_F32, "1e39"); /* beyond FLT_MAX */
}

static void test_float_infinities(void **state) {
    assert_int_equal(parse_ok(WR_F32, "inf").of.f32_bits, 0x7f800000u);
    assert_int_equal(parse_ok(WR_F32, "-inf").of.f32_bits, 0xff800000u);
    assert_int_equal(parse_ok(WR_F32, "+inf").of.f32_bits, 0x7f800000u);
    assert_true(parse_ok(WR_F64, "-inf").of.f64_bits == UINT64_C(0xfff0000000000000));
    assert_string_equal(fmt(wr_val_f32_bits(0x7f800000u)), "inf");
    assert_string_equal(fmt(wr_val_f32_bits(0xff800000u)), "-inf");
    assert_string_equal(fmt(wr_val_f64_bits(UINT64_C(0x7ff0000000000000))), "inf");
    assert_string_equal(fmt(wr_val_f64_bits(UINT64_C(0xfff0000000000000))), "-inf");
}

static void test_float_malformed(void **state) {
    const char *bad[] = { "", "-", "infinity", "INF", "nan(1)", "nan:", "nan:0x", "nan:0x0", "nan:1",
                          "nan:0x-1", " 1", "1 ", "1e", "0x", "abc", "--1", "1,5", "null" };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        parse_bad(WR_F32, bad[i]);
        parse_bad(WR_F64, bad[i]);
    }
    parse_bad(WR_F32, "nan:0x800000");      /* payload wider than 23 bits */
    parse_bad(WR_F64, "nan:0x10000000000000");
    parse_bad(WR_F64, "1e309");
}

static void test_nan_canonical(void **state) {
    assert_int_equal(parse_ok(WR_F32, "nan").of.f32_bits, 0x7fc00000u);
    assert_int_equal(parse_ok(WR_F32, "-nan").of.f32_bits, 0xffc00000u);
    assert_true(parse_ok(WR_F64, "nan").of.f64_bits == UINT64_C(0x7ff8000000000000));
    assert_string_equal(fmt(wr_val_f32_bits(0x7fc00000u)), "nan");
    assert_string_equal(fmt(wr_val_f32_bits(0xffc00000u)), "-nan");
    assert_string_equal(fmt(wr_val_f64_bits(UINT64_C(0x7ff8000000000000))), "nan");
    assert_string_equal(fmt(wr_val_f64_bits(UINT64_C(0xfff8000000000000))), "-nan");
}

static void test_nan_payload_round_trip(void **state) {
    static const uint32_t f32s[] = { 0x7f800001u, 0x7fa00000u, 0xff800001u, 0x7fffffffu, 0xffffffffu, 0x7fc00001u };
    for (size_t i = 0; i < sizeof f32s / sizeof f32s[0]; i++) {
        char text[CLI_VALUE_MAX];
        cli_value_format(&(wr_val){ .type = WR_F32, .of.f32_bits = f32s[i] }, text, sizeof text);
        assert_int_equal(parse_ok(WR_F32, text).of.f32_bits, f32s[i]);
    }
    static const uint64_t f64s[] = { UINT64_C(0x7ff0000000000001), UINT64_C(0xfff4000000000000),
                                     UINT64_C(0x7fffffffffffffff), UINT64_C(0x7ff8000000000001) };
    for (size_t i = 0; i < sizeof f64s / sizeof f64s[0]; i++) {
        char text[CLI_VALUE_MAX];
        cli_value_format(&(wr_val){ .type = WR_F64, .of.f64_bits = f64s[i] }, text, sizeof text);
        assert_true(parse_ok(WR_F64, text).of.f64_bits == f64s[i]);
    }
    assert_string_equal(fmt(wr_val_f32_bits(0x7f800001u)), "nan:0x1");
    assert_string_equal(fmt(wr_val_f32_bits(0xff800001u)), "-nan:0x1");
    assert_string_equal(fmt(wr_val_f64_bits(UINT64_C(0xfff4000000000000))), "-nan:0x4000000000000");
    assert_int_equal(parse_ok(WR_F32, "nan:0x200000").of.f32_bits, 0x7fa00000u);
    assert_int_equal(parse_ok(WR_F32, "-nan:0x7fffff").of.f32_bits, 0xffffffffu);
    /* "nan:0x400000" is the canonical NaN, so it prints as plain "nan". */
    assert_string_equal(fmt(parse_ok(WR_F32, "nan:0x400000")), "nan");
}

/* A cheap deterministic generator, so the sweep below is the same every run. */
static uint64_t next_random(uint64_t *s) {
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* %.9g and %.17g print enough digits to read back every float bit-exactly. */
static void test_float_print_round_trip(void **state) {
    static const uint64_t f64s[] = {
        UINT64_C(0x3fb999999999999a),   /* 0.1 */
        UINT64_C(0x7fefffffffffffff),   /* DBL_MAX */
        UINT64_C(0x0000000000000001),   /* smallest subnormal */
        UINT64_C(0x0010000000000000),   /* DBL_MIN */
        UINT64_C(0xc00921fb54442d18),   /* -pi */
        UINT64_C(0x4340000000000001),   /* 2^53 + 2: integers past 2^53 */
    };
    char text[CLI_VALUE_MAX];
    for (size_t i = 0; i < sizeof f64s / sizeof f64s[0]; i++) {
        cli_value_format(&(wr_val){ .type = WR_F64, .of.f64_bits = f64s[i] }, text, sizeof text);
        assert_true(parse_ok(WR_F64, text).of.f64_bits == f64s[i]);
    }
    assert_string_equal(fmt(wr_val_f64_bits(UINT64_C(0x3fb999999999999a))), "0.10000000000000001");

    uint64_t seed = 0x9e3779b97f4a7c15u;
    for (int i = 0; i < 20000; i++) {
        uint64_t b64 = next_random(&seed);
        uint32_t b32 = (uint32_t)(b64 >> 17);
        if ((b64 & F64_EXP) != F64_EXP) {
            cli_value_format(&(wr_val){ .type = WR_F64, .of.f64_bits = b64 }, text, sizeof text);
            if (parse_ok(WR_F64, text).of.f64_bits != b64)
                fail_msg("f64 0x%016llx printed as %s", (unsigned long long)b64, text);
        }
        if ((b32 & F32_EXP) != F32_EXP) {
            cli_value_format(&(wr_val){ .type = WR_F32, .of.f32_bits = b32 }, text, sizeof text);
            if (parse_ok(WR_F32, text).of.f32_bits != b32)
                fail_msg("f32 0x%08x printed as %s", b32, text);
        }
    }
}

/* ---- References ------------------------------------------------------- */

static void test_refs(void **state) {
    assert_null(parse_ok(WR_FUNCREF, "null").of.ref);
    assert_null(parse_ok(WR_EXTERNREF, "null").of.ref);
    parse_bad(WR_EXTERNREF, "0");
    parse_bad(WR_FUNCREF, "ref");
    int x;
    assert_string_equal(fmt(wr_val_ref(WR_EXTERNREF, &x)), "ref");
    assert_string_equal(fmt(wr_val_ref(WR_FUNCREF, NULL)), "null");
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_i32_minus_one),
        cmocka_unit_test(test_i32_unsigned_max_is_minus_one),
        cmocka_unit_test(test_i32_range),
        cmocka_unit_test(test_int_malformed),
        cmocka_unit_test(test_i64_range),
        cmocka_unit_test(test_f32_signed_zero),
        cmocka_unit_test(test_f32_values),
        cmocka_unit_test(test_float_infinities),
        cmocka_unit_test(test_float_malformed),
        cmocka_unit_test(test_nan_canonical),
        cmocka_unit_test(test_nan_payload_round_trip),
        cmocka_unit_test(test_float_print_round_trip),
        cmocka_unit_test(test_refs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
