/*
 * test_decode.c - unit tests of runtime/decode.c: the readers, the opcode
 * table and wr__decode on hand-built binaries.
 *
 * Modules are written byte by byte.  SEC(id, bytes...) and VEC-like sizes
 * are computed by the compiler, so the sizes in the tests cannot drift from
 * their contents; they only work for contents under 128 bytes (one-byte
 * LEB128 sizes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

#define HEADER 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
/* The size of its arguments as one byte, then the arguments. */
#define SIZED(...) (uint8_t)sizeof((uint8_t[]){ __VA_ARGS__ }), __VA_ARGS__
/* A section: its id, its size, its contents. */
#define SEC(id, ...) (id), SIZED(__VA_ARGS__)

/* Common pieces: one type () -> (), one function of that type, its empty body. */
#define TYPE_VOID SEC(1, 0x01, 0x60, 0x00, 0x00)
#define ONE_FUNC SEC(3, 0x01, 0x00)
#define EMPTY_BODY SEC(10, 0x01, 0x02, 0x00, 0x0b)

/* Decodes a copy of `bytes` into *m, as wr_module_load would. */
static wr_status decode_bytes(const uint8_t *bytes, size_t len, wr_module *m, wr_error *err) {
    memset(m, 0, sizeof *m);
    memset(err, 0, sizeof *err);
    m->bytes = malloc(len ? len : 1);
    assert_non_null(m->bytes);
    if (len)
        memcpy(m->bytes, bytes, len);
    m->len = len;
    return wr__decode(m, err);
}

static void expect_status(const uint8_t *bytes, size_t len, wr_status want) {
    wr_module m;
    wr_error err;
    wr_status s = decode_bytes(bytes, len, &m, &err);
    if (s != want)
        print_message("  expected %s, got %s at %u: %s\n", wr_status_name(want), wr_status_name(s), err.offset,
                      err.detail);
    assert_int_equal(s, want);
    assert_int_equal(err.status, want);
    wr__module_clear(&m);
}

/* EXPECT(status, bytes...): the module made of `bytes` decodes with `status`. */
#define EXPECT(want, ...)                                                   \
    do {                                                                    \
        static const uint8_t bytes_[] = { __VA_ARGS__ };                    \
        expect_status(bytes_, sizeof bytes_, (want));                       \
    } while (0)

/* DECODE(m, err, bytes...): decodes into m (the caller clears it) and returns the status. */
#define DECODE(m, err, ...)                                                 \
    ({                                                                      \
        static const uint8_t bytes_[] = { __VA_ARGS__ };                    \
        decode_bytes(bytes_, sizeof bytes_, (m), (err));                    \
    })

static wr__reader reader(const uint8_t *p, size_t n) {
    wr__reader r = { p, p, p + n };
    return r;
}

/* ---- Readers ---------------------------------------------------------- */

static void test_read_u32(void **state) {
    (void)state;
    uint32_t v;
    static const uint8_t two_long[] = { 0x82, 0x00 };
    static const uint8_t max[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    static const uint8_t too_long[] = { 0x82, 0x80, 0x80, 0x80, 0x80, 0x00 };
    static const uint8_t too_large[] = { 0x82, 0x80, 0x80, 0x80, 0x70 };
    static const uint8_t both[] = { 0x80, 0x80, 0x80, 0x80, 0x90, 0x00 }; /* bad bits win over length */
    static const uint8_t cut[] = { 0x80, 0x80 };

    wr__reader r = reader(two_long, sizeof two_long);
    assert_int_equal(wr__read_u32(&r, &v), WR_OK);
    assert_int_equal(v, 2);
    assert_ptr_equal(r.p, r.end);
    r = reader(max, sizeof max);
    assert_int_equal(wr__read_u32(&r, &v), WR_OK);
    assert_int_equal(v, UINT32_MAX);
    r = reader(too_long, sizeof too_long);
    assert_int_equal(wr__read_u32(&r, &v), WR_ERR_LEB_TOO_LONG);
    r = reader(too_large, sizeof too_large);
    assert_int_equal(wr__read_u32(&r, &v), WR_ERR_LEB_TOO_LARGE);
    r = reader(both, sizeof both);
    assert_int_equal(wr__read_u32(&r, &v), WR_ERR_LEB_TOO_LARGE);
    r = reader(cut, sizeof cut);
    assert_int_equal(wr__read_u32(&r, &v), WR_ERR_UNEXPECTED_END);
    r = reader(cut, 0);
    assert_int_equal(wr__read_u32(&r, &v), WR_ERR_UNEXPECTED_END);
}

static void test_read_signed(void **state) {
    (void)state;
    int32_t v32;
    int64_t v64;
    static const uint8_t minus_one[] = { 0x7f };
    static const uint8_t minus_one_long[] = { 0xff, 0xff, 0xff, 0xff, 0x7f };
    static const uint8_t i32_min[] = { 0x80, 0x80, 0x80, 0x80, 0x78 };
    static const uint8_t unused_unset[] = { 0xff, 0xff, 0xff, 0xff, 0x0f };
    static const uint8_t unused_set[] = { 0x80, 0x80, 0x80, 0x80, 0x70 };
    static const uint8_t s32_too_long[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    static const uint8_t i64_min[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x7f };
    static const uint8_t s64_bad[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    static const uint8_t s64_too_long[] = { 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    static const uint8_t empty_block[] = { 0x40 };

    wr__reader r = reader(minus_one, sizeof minus_one);
    assert_int_equal(wr__read_s32(&r, &v32), WR_OK);
    assert_int_equal(v32, -1);
    r = reader(minus_one_long, sizeof minus_one_long);
    assert_int_equal(wr__read_s32(&r, &v32), WR_OK);
    assert_int_equal(v32, -1);
    r = reader(i32_min, sizeof i32_min);
    assert_int_equal(wr__read_s32(&r, &v32), WR_OK);
    assert_int_equal(v32, INT32_MIN);
    r = reader(unused_unset, sizeof unused_unset);
    assert_int_equal(wr__read_s32(&r, &v32), WR_ERR_LEB_TOO_LARGE);
    r = reader(unused_set, sizeof unused_set);
    assert_int_equal(wr__read_s32(&r, &v32), WR_ERR_LEB_TOO_LARGE);
    r = reader(s32_too_long, sizeof s32_too_long);
    assert_int_equal(wr__read_s32(&r, &v32), WR_ERR_LEB_TOO_LONG);

    /* s33 has room for every u32 type index, and for the negative block types. */
    r = reader(unused_unset, sizeof unused_unset);
    assert_int_equal(wr__read_s33(&r, &v64), WR_OK);
    assert_int_equal(v64, 0xffffffffll);
    r = reader(empty_block, sizeof empty_block);
    assert_int_equal(wr__read_s33(&r, &v64), WR_OK);
    assert_int_equal(v64, -64);

    r = reader(i64_min, sizeof i64_min);
    assert_int_equal(wr__read_s64(&r, &v64), WR_OK);
    assert_true(v64 == INT64_MIN);
    r = reader(s64_bad, sizeof s64_bad);
    assert_int_equal(wr__read_s64(&r, &v64), WR_ERR_LEB_TOO_LARGE);
    r = reader(s64_too_long, sizeof s64_too_long);
    assert_int_equal(wr__read_s64(&r, &v64), WR_ERR_LEB_TOO_LONG);
}

static void test_read_u64_bytes_u8(void **state) {
    (void)state;
    uint64_t v;
    uint8_t b;
    const uint8_t *p;
    static const uint8_t max[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01 };
    static const uint8_t too_large[] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02 };
    static const uint8_t two[] = { 0xab, 0xcd };

    wr__reader r = reader(max, sizeof max);
    assert_int_equal(wr__read_u64(&r, &v), WR_OK);
    assert_true(v == UINT64_MAX);
    r = reader(too_large, sizeof too_large);
    assert_int_equal(wr__read_u64(&r, &v), WR_ERR_LEB_TOO_LARGE);

    r = reader(two, sizeof two);
    assert_int_equal(wr__read_bytes(&r, 3, &p), WR_ERR_UNEXPECTED_END);
    assert_ptr_equal(r.p, two); /* a failed read does not move */
    assert_int_equal(wr__read_u8(&r, &b), WR_OK);
    assert_int_equal(b, 0xab);
    assert_int_equal(wr__read_bytes(&r, 1, &p), WR_OK);
    assert_ptr_equal(p, two + 1);
    assert_int_equal(wr__read_u8(&r, &b), WR_ERR_UNEXPECTED_END);
    assert_int_equal(wr__read_bytes(&r, 0, &p), WR_OK);
}

static void test_read_opcode(void **state) {
    (void)state;
    uint32_t op;
    static const uint8_t add[] = { 0x6a };
    static const uint8_t init[] = { 0xfc, 0x08 };
    static const uint8_t sat_long[] = { 0xfc, 0x80, 0x00 }; /* the sub-opcode is a LEB128 */
    static const uint8_t fc_unknown[] = { 0xfc, 0x12 };
    static const uint8_t fc_cut[] = { 0xfc };
    static const uint8_t gap[] = { 0x27 };
    static const uint8_t simd[] = { 0xfd, 0x00 };
    static const uint8_t try_[] = { 0x06 };

    wr__reader r = reader(add, sizeof add);
    assert_int_equal(wr__read_opcode(&r, &op), WR_OK);
    assert_int_equal(op, WR__OP_I32_ADD);
    r = reader(init, sizeof init);
    assert_int_equal(wr__read_opcode(&r, &op), WR_OK);
    assert_int_equal(op, WR__OP_MEMORY_INIT);
    assert_int_equal(op, WR__FC_BASE + 8);
    r = reader(sat_long, sizeof sat_long);
    assert_int_equal(wr__read_opcode(&r, &op), WR_OK);
    assert_int_equal(op, WR__OP_I32_TRUNC_SAT_F32_S);
    r = reader(fc_unknown, sizeof fc_unknown);
    assert_int_equal(wr__read_opcode(&r, &op), WR_ERR_ILLEGAL_OPCODE);
    r = reader(fc_cut, sizeof fc_cut);
    assert_int_equal(wr__read_opcode(&r, &op), WR_ERR_UNEXPECTED_END);
    r = reader(gap, sizeof gap);
    assert_int_equal(wr__read_opcode(&r, &op), WR_ERR_ILLEGAL_OPCODE);
    r = reader(simd, sizeof simd);
    assert_int_equal(wr__read_opcode(&r, &op), WR_ERR_ILLEGAL_OPCODE);
    r = reader(try_, sizeof try_);
    assert_int_equal(wr__read_opcode(&r, &op), WR_ERR_ILLEGAL_OPCODE);
}

static void test_opinfo_table(void **state) {
    (void)state;
    assert_string_equal(wr__opinfo[0x6a].name, "I32_ADD");
    assert_string_equal(wr__opinfo[WR__OP_I32_ADD].params, "ii");
    assert_string_equal(wr__opinfo[WR__OP_I32_ADD].results, "i");
    assert_int_equal(wr__opinfo[WR__OP_I32_ADD].imm, WR_IMM_NONE);
    assert_int_equal(wr__opinfo[WR__OP_I32_ADD].align, -1);
    assert_int_equal(wr__opinfo[WR__OP_I64_LOAD].imm, WR_IMM_MEMARG);
    assert_int_equal(wr__opinfo[WR__OP_I64_LOAD].align, 3);
    assert_int_equal(wr__opinfo[WR__OP_BR_TABLE].imm, WR_IMM_BR_TABLE);
    assert_string_equal(wr__opinfo[WR__FC_BASE + 17].name, "TABLE_FILL");
    assert_null(wr__opinfo[0x27].name);
    assert_null(wr__opinfo[0xfc].name);
    assert_null(wr__opinfo[0xff].name);
    assert_null(wr__opinfo[0x12].name);
}

/* ---- Header, sections ------------------------------------------------- */

static void test_empty_module(void **state) {
    (void)state;
    wr_module m;
    wr_error err;
    assert_int_equal(DECODE(&m, &err, HEADER), WR_OK);
    assert_int_equal(err.status, WR_OK);
    assert_int_equal(m.ntypes, 0);
    assert_int_equal(m.nimports, 0);
    assert_int_equal(m.nfuncs, 0);
    assert_int_equal(m.ntables, 0);
    assert_int_equal(m.nmemories, 0);
    assert_int_equal(m.nglobals, 0);
    assert_int_equal(m.nexports, 0);
    assert_int_equal(m.nelems, 0);
    assert_int_equal(m.ndatas, 0);
    assert_false(m.has_start);
    assert_false(m.has_datacount);
    wr__module_clear(&m);

    /* Empty sections of every kind, in order, are fine too. */
    EXPECT(WR_OK, HEADER, SEC(1, 0x00), SEC(2, 0x00), SEC(3, 0x00), SEC(4, 0x00), SEC(5, 0x00), SEC(6, 0x00),
           SEC(7, 0x00), SEC(9, 0x00), SEC(12, 0x00), SEC(10, 0x00), SEC(11, 0x00));
}

static void test_bad_header(void **state) {
    (void)state;
    expect_status(NULL, 0, WR_ERR_UNEXPECTED_END);
    /* Without any buffer at all. */
    wr_module m;
    wr_error err;
    memset(&m, 0, sizeof m);
    assert_int_equal(wr__decode(&m, &err), WR_ERR_UNEXPECTED_END);
    assert_int_equal(err.status, WR_ERR_UNEXPECTED_END);
    wr__module_clear(&m);
    EXPECT(WR_ERR_UNEXPECTED_END, 0x00, 0x61, 0x73);
    EXPECT(WR_ERR_MAGIC, 0x61, 0x73, 0x6d, 0x00);
    EXPECT(WR_ERR_MAGIC, 0x00, 0x41, 0x53, 0x4d, 0x01, 0x00, 0x00, 0x00);
    EXPECT(WR_ERR_MAGIC, 0xef, 0xbb, 0xbf, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00);
    EXPECT(WR_ERR_UNEXPECTED_END, 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00);
    EXPECT(WR_ERR_VERSION, 0x00, 0x61, 0x73, 0x6d, 0x02, 0x00, 0x00, 0x00);
    EXPECT(WR_ERR_VERSION, 0x00, 0x61, 0x73, 0x6d, 0x00, 0x00, 0x00, 0x01);
}

static void test_truncated_sections(void **state) {
    (void)state;
    /* A section id and nothing more. */
    EXPECT(WR_ERR_SECTION_END, HEADER, 0x01);
    /* A section larger than what is left of the module. */
    EXPECT(WR_ERR_LENGTH, HEADER, 0x01, 0x07, 0x02, 0x60, 0x00, 0x00);
    /* Two types declared, one present. */
    EXPECT(WR_ERR_SECTION_END, HEADER, SEC(1, 0x02, 0x60, 0x00, 0x00));
    /* One table declared, none present. */
    EXPECT(WR_ERR_SECTION_END, HEADER, SEC(4, 0x01));
    /* A global without its `end`. */
    EXPECT(WR_ERR_SECTION_END, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x41, 0x00));
    /* A function body without its `end`. */
    EXPECT(WR_ERR_SECTION_END, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, 0x04, 0x00, 0x41, 0x01, 0x1a));
    /* A name longer than the module. */
    EXPECT(WR_ERR_LENGTH, HEADER, SEC(0, 0x05, 'n', 'a'));
}

static void test_leb_in_module(void **state) {
    (void)state;
    /* Non-minimal encodings are allowed. */
    EXPECT(WR_OK, HEADER, SEC(5, 0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x00));
    EXPECT(WR_ERR_LEB_TOO_LONG, HEADER, SEC(5, 0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x80, 0x00));
    EXPECT(WR_ERR_LEB_TOO_LARGE, HEADER, SEC(5, 0x01, 0x00, 0x82, 0x80, 0x80, 0x80, 0x70));
    /* i32.const in a global initializer with unused bits unset. */
    EXPECT(WR_ERR_LEB_TOO_LARGE, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x41, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x0b));
    /* A memarg offset in a body. */
    EXPECT(WR_ERR_LEB_TOO_LONG, HEADER, TYPE_VOID, ONE_FUNC, SEC(5, 0x01, 0x00, 0x01),
           SEC(10, 0x01, SIZED(0x00, 0x41, 0x00, 0x28, 0x02, 0x82, 0x80, 0x80, 0x80, 0x80, 0x00, 0x1a, 0x0b)));
    /* The function type marker is read as a one-byte signed LEB128. */
    EXPECT(WR_ERR_LEB_TOO_LONG, HEADER, SEC(1, 0x01, 0xe0, 0x7f, 0x00, 0x00));
    /* A limits flag is a one-bit LEB128. */
    EXPECT(WR_ERR_LEB_TOO_LONG, HEADER, SEC(5, 0x01, 0x81, 0x00, 0x00, 0x00));
    EXPECT(WR_ERR_LIMITS_FLAGS, HEADER, SEC(5, 0x01, 0x02, 0x00));
}

static void test_section_size_mismatch(void **state) {
    (void)state;
    /* One type declared, the section holds another byte. */
    EXPECT(WR_ERR_SECTION_SIZE, HEADER, SEC(1, 0x01, 0x60, 0x00, 0x00, 0x60));
    /* The section says 2 bytes, its memory entry takes 3 (read past its end, as the spec does). */
    EXPECT(WR_ERR_SECTION_SIZE, HEADER, 0x05, 0x02, 0x01, 0x00, 0x01, SEC(0, 0x00));
    /* A body whose `end` comes before its declared size. */
    EXPECT(WR_ERR_SECTION_SIZE, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, 0x03, 0x00, 0x0b, 0x01));
    /* A body without `end` whose next byte (the data section's id) reads as one. */
    EXPECT(WR_ERR_SECTION_SIZE, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, 0x04, 0x00, 0x41, 0x01, 0x1a),
           SEC(11, 0x01, 0x01, 0x00));
    /* A custom section whose name runs past the section's end. */
    EXPECT(WR_ERR_SECTION_END, HEADER, 0x00, 0x00, 0x00, SEC(5, 0x01, 0x00, 0x07));
}

static void test_section_order(void **state) {
    (void)state;
    /* Out of order. */
    EXPECT(WR_ERR_SECTION_ORDER, HEADER, ONE_FUNC, TYPE_VOID, EMPTY_BODY);
    /* Twice. */
    EXPECT(WR_ERR_SECTION_ORDER, HEADER, TYPE_VOID, TYPE_VOID);
    /* The data count section comes before the code section... */
    EXPECT(WR_OK, HEADER, TYPE_VOID, ONE_FUNC, SEC(12, 0x00), EMPTY_BODY);
    /* ...not after it, */
    EXPECT(WR_ERR_SECTION_ORDER, HEADER, TYPE_VOID, ONE_FUNC, EMPTY_BODY, SEC(12, 0x00));
    /* and after the element section. */
    EXPECT(WR_ERR_SECTION_ORDER, HEADER, SEC(12, 0x00), SEC(9, 0x00));
    /* Custom sections go anywhere, any number of times. */
    EXPECT(WR_OK, HEADER, SEC(0, 0x01, 'a'), TYPE_VOID, SEC(0, 0x01, 'a'), ONE_FUNC, SEC(0, 0x00, 0x01),
           EMPTY_BODY, SEC(0, 0x01, 'b', 0x00));
    /* Unknown ids. */
    EXPECT(WR_ERR_SECTION_ID, HEADER, 0x0d, 0x00);
    EXPECT(WR_ERR_SECTION_ID, HEADER, 0x80, 0x00, 0x01, 0x00);
}

static void test_func_code_mismatch(void **state) {
    (void)state;
    EXPECT(WR_ERR_FUNC_CODE_MISMATCH, HEADER, TYPE_VOID, SEC(3, 0x02, 0x00, 0x00));
    EXPECT(WR_ERR_FUNC_CODE_MISMATCH, HEADER, SEC(10, 0x01, 0x02, 0x00, 0x0b));
    EXPECT(WR_ERR_FUNC_CODE_MISMATCH, HEADER, TYPE_VOID, SEC(3, 0x02, 0x00, 0x00), EMPTY_BODY);
    EXPECT(WR_ERR_FUNC_CODE_MISMATCH, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b));
    /* A malformed extra body is reported as such, as the spec's decoder reads it first. */
    EXPECT(WR_ERR_ILLEGAL_OPCODE, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x02, 0x02, 0x00, 0x0b, 0x03, 0x00, 0x27, 0x0b));
    /* Zero functions and no code section, or the reverse, match. */
    EXPECT(WR_OK, HEADER, SEC(3, 0x00));
    EXPECT(WR_OK, HEADER, SEC(10, 0x00));
}

/* Builds HEADER, a section `id` holding only `count`, then a custom section of `pad` bytes. */
static size_t count_then_padding(uint8_t *buf, uint8_t id, const uint8_t *count, size_t count_len, size_t pad) {
    static const uint8_t header[] = { HEADER };
    size_t n = 0;
    memcpy(buf, header, sizeof header);
    n += sizeof header;
    buf[n++] = id;
    buf[n++] = (uint8_t)count_len;
    memcpy(buf + n, count, count_len);
    n += count_len;
    buf[n++] = 0x00;             /* custom section */
    buf[n++] = (uint8_t)(0x80 | (pad & 0x7f));
    buf[n++] = (uint8_t)(pad >> 7);
    buf[n++] = 0x00;             /* empty name */
    memset(buf + n, 0, pad - 1);
    return n + pad - 1;
}

static void test_huge_counts(void **state) {
    (void)state;
    wr_module m;
    wr_error err;

    /* 4 billion functions in a 5-byte section: rejected before anything is allocated. */
    assert_int_equal(DECODE(&m, &err, HEADER, SEC(3, 0xff, 0xff, 0xff, 0xff, 0x0f)), WR_ERR_LENGTH);
    assert_null(m.funcs);
    assert_int_equal(m.nfuncs, 0);
    wr__module_clear(&m);
    assert_int_equal(DECODE(&m, &err, HEADER, SEC(1, 0xff, 0xff, 0xff, 0xff, 0x0f)), WR_ERR_LENGTH);
    assert_null(m.types);
    wr__module_clear(&m);
    assert_int_equal(DECODE(&m, &err, HEADER, SEC(2, 0xfe, 0xff, 0xff, 0xff, 0x0f)), WR_ERR_LENGTH);
    assert_null(m.imports);
    wr__module_clear(&m);

    /*
     * A count the module has room for, but not the section: 1000 functions
     * declared in a 2-byte section followed by 2000 bytes of custom section.
     */
    uint8_t buf[2100];
    static const uint8_t thousand[] = { 0xe8, 0x07 };
    size_t n = count_then_padding(buf, 3, thousand, sizeof thousand, 2000);
    assert_int_equal(decode_bytes(buf, n, &m, &err), WR_ERR_SECTION_END);
    assert_null(m.funcs);
    wr__module_clear(&m);
    n = count_then_padding(buf, 11, thousand, sizeof thousand, 2000);
    assert_int_equal(decode_bytes(buf, n, &m, &err), WR_ERR_SECTION_END);
    assert_null(m.datas);
    wr__module_clear(&m);

    /* Past the engine's limit: more types than WR_MAX_TYPES in a big enough section is TOO_BIG. */
    uint8_t *big = calloc(1, WR_MAX_TYPES + 64);
    assert_non_null(big);
    static const uint8_t header[] = { HEADER };
    memcpy(big, header, sizeof header);
    size_t k = sizeof header;
    uint32_t count = WR_MAX_TYPES + 1;
    uint32_t size = WR_MAX_TYPES + 16;
    big[k++] = 0x01;
    for (int i = 0; i < 4; i++, size >>= 7)
        big[k++] = (uint8_t)(0x80 | (size & 0x7f));
    big[k++] = (uint8_t)size;
    for (int i = 0; i < 4; i++, count >>= 7)
        big[k++] = (uint8_t)(0x80 | (count & 0x7f));
    big[k++] = (uint8_t)count;
    assert_int_equal(decode_bytes(big, WR_MAX_TYPES + 64, &m, &err), WR_ERR_TOO_BIG);
    assert_null(m.types);
    wr__module_clear(&m);
    free(big);
}

/* ---- Names ------------------------------------------------------------ */

static void test_utf8_names(void **state) {
    (void)state;
    /* Import module name: a lone continuation byte. */
    EXPECT(WR_ERR_UTF8, HEADER, TYPE_VOID, SEC(2, 0x01, 0x01, 0x80, 0x01, 'f', 0x00, 0x00));
    /* Import field name: an overlong NUL. */
    EXPECT(WR_ERR_UTF8, HEADER, TYPE_VOID, SEC(2, 0x01, 0x01, 'm', 0x02, 0xc0, 0x80, 0x00, 0x00));
    /* Export name: a surrogate. */
    EXPECT(WR_ERR_UTF8, HEADER, TYPE_VOID, ONE_FUNC, SEC(7, 0x01, 0x03, 0xed, 0xa0, 0x80, 0x00, 0x00), EMPTY_BODY);
    /* Custom section names: above U+10FFFF, truncated, 0xff. */
    EXPECT(WR_ERR_UTF8, HEADER, SEC(0, 0x04, 0xf4, 0x90, 0x80, 0x80));
    EXPECT(WR_ERR_UTF8, HEADER, SEC(0, 0x02, 0xe2, 0x82));
    EXPECT(WR_ERR_UTF8, HEADER, SEC(0, 0x01, 0xff));
    EXPECT(WR_ERR_UTF8, HEADER, SEC(0, 0x03, 0xe0, 0x80, 0x80)); /* overlong 3-byte */

    /* Valid: "é€𝄞" and a NUL byte, which names may hold. */
    wr_module m;
    wr_error err;
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID,
                            SEC(2, 0x01, 0x01, 0x00, 0x09, 0xc3, 0xa9, 0xe2, 0x82, 0xac, 0xf0, 0x9d, 0x84, 0x9e,
                                0x00, 0x00)),
                     WR_OK);
    assert_int_equal(m.imports[0].module_len, 1);
    assert_int_equal(m.imports[0].module[0], '\0');
    assert_int_equal(m.imports[0].name_len, 9);
    assert_memory_equal(m.imports[0].name, "\xc3\xa9\xe2\x82\xac\xf0\x9d\x84\x9e", 10);
    wr__module_clear(&m);
}

/* Two functions named "main" and "helper", and a module name before them. */
#define NAME_SECTION                                                                     \
    SEC(0, 0x04, 'n', 'a', 'm', 'e',                                                     \
        0x00, SIZED(0x03, 'm', 'o', 'd'),                                                \
        0x01, SIZED(0x02, 0x00, 0x04, 'm', 'a', 'i', 'n', 0x01, 0x06, 'h', 'e', 'l', 'p', 'e', 'r'))

static void test_name_section(void **state) {
    (void)state;
    wr_module m;
    wr_error err;
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID, SEC(3, 0x02, 0x00, 0x00),
                            SEC(10, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b), NAME_SECTION),
                     WR_OK);
    assert_int_equal(m.nfuncs, 2);
    assert_string_equal(m.funcs[0].name, "main");
    assert_string_equal(m.funcs[1].name, "helper");
    wr__module_clear(&m);

    /* An imported function can be named too; names of unknown functions are ignored. */
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID, SEC(2, 0x01, 0x01, 'm', 0x01, 'f', 0x00, 0x00),
                            NAME_SECTION),
                     WR_OK);
    assert_int_equal(m.nfuncs, 1);
    assert_true(m.funcs[0].imported);
    assert_string_equal(m.funcs[0].name, "main");
    wr__module_clear(&m);
}

static void test_malformed_name_section_ignored(void **state) {
    (void)state;
    wr_module m;
    wr_error err;

    /* The function names subsection claims 3 names and holds 2. */
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID, SEC(3, 0x02, 0x00, 0x00),
                            SEC(10, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b),
                            SEC(0, 0x04, 'n', 'a', 'm', 'e',
                                0x01, SIZED(0x03, 0x00, 0x01, 'a', 0x01, 0x01, 'b'))),
                     WR_OK);
    assert_null(m.funcs[0].name);
    assert_null(m.funcs[1].name);
    wr__module_clear(&m);

    /* A name that is not UTF-8. */
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID, ONE_FUNC, EMPTY_BODY,
                            SEC(0, 0x04, 'n', 'a', 'm', 'e', 0x01, SIZED(0x01, 0x00, 0x01, 0xff))),
                     WR_OK);
    assert_null(m.funcs[0].name);
    wr__module_clear(&m);

    /* A subsection longer than the section; and trailing bytes in the function subsection. */
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID, ONE_FUNC, EMPTY_BODY,
                            SEC(0, 0x04, 'n', 'a', 'm', 'e', 0x01, 0x7f, 0x01)),
                     WR_OK);
    assert_null(m.funcs[0].name);
    wr__module_clear(&m);
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID, ONE_FUNC, EMPTY_BODY,
                            SEC(0, 0x04, 'n', 'a', 'm', 'e', 0x01, SIZED(0x01, 0x00, 0x01, 'a', 0x00))),
                     WR_OK);
    assert_null(m.funcs[0].name);
    wr__module_clear(&m);
}

/* ---- Types, imports, exports, functions -------------------------------- */

static void test_types_imports_exports(void **state) {
    (void)state;
    wr_module m;
    wr_error err;
    assert_int_equal(DECODE(&m, &err, HEADER,
                            /* (i32 i64) -> (f64), () -> () */
                            SEC(1, 0x02, 0x60, 0x02, 0x7f, 0x7e, 0x01, 0x7c, 0x60, 0x00, 0x00),
                            SEC(2, 0x05,
                                0x01, 'm', 0x01, 'f', 0x00, 0x01,                   /* func, type 1 */
                                0x01, 'm', 0x01, 't', 0x01, 0x6f, 0x01, 0x02, 0x09, /* table externref 2..9 */
                                0x01, 'm', 0x01, 'M', 0x02, 0x00, 0x03,             /* memory 3.. */
                                0x01, 'm', 0x01, 'g', 0x03, 0x7d, 0x01,             /* global (mut f32) */
                                0x01, 'm', 0x01, 'h', 0x00, 0x00),                  /* func, type 0 */
                            SEC(3, 0x01, 0x00),
                            SEC(4, 0x01, 0x70, 0x00, 0x01),
                            SEC(6, 0x01, 0x7f, 0x00, 0x41, 0x07, 0x0b),
                            SEC(7, 0x02, 0x01, 'x', 0x00, 0x02, 0x01, 'y', 0x03, 0x01),
                            SEC(8, 0x02),
                            SEC(10, 0x01, SIZED(0x00, 0x44, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f, 0x0b))),
                     WR_OK);
    assert_int_equal(m.ntypes, 2);
    assert_int_equal(m.types[0].nparams, 2);
    assert_int_equal(m.types[0].nresults, 1);
    assert_int_equal(m.types[0].types[0], WR_I32);
    assert_int_equal(m.types[0].types[1], WR_I64);
    assert_int_equal(m.types[0].types[2], WR_F64);
    assert_int_equal(m.types[1].nparams + m.types[1].nresults, 0);

    assert_int_equal(m.nimports, 5);
    assert_int_equal(m.nfunc_imports, 2);
    assert_int_equal(m.ntable_imports, 1);
    assert_int_equal(m.nmemory_imports, 1);
    assert_int_equal(m.nglobal_imports, 1);
    assert_string_equal(m.imports[0].module, "m");
    assert_string_equal(m.imports[4].name, "h");
    assert_int_equal(m.imports[0].kind, WR_EXTERN_FUNC);
    assert_int_equal(m.imports[0].index, 0);
    assert_int_equal(m.imports[4].kind, WR_EXTERN_FUNC);
    assert_int_equal(m.imports[4].index, 1);
    assert_int_equal(m.imports[1].kind, WR_EXTERN_TABLE);
    assert_int_equal(m.imports[3].kind, WR_EXTERN_GLOBAL);

    /* Index spaces: imports first. */
    assert_int_equal(m.nfuncs, 3);
    assert_true(m.funcs[0].imported);
    assert_int_equal(m.funcs[0].type_index, 1);
    assert_true(m.funcs[1].imported);
    assert_int_equal(m.funcs[1].type_index, 0);
    assert_false(m.funcs[2].imported);
    assert_int_equal(m.funcs[2].type_index, 0);
    assert_int_equal(m.ntables, 2);
    assert_int_equal(m.tables[0].elem, WR_EXTERNREF);
    assert_int_equal(m.tables[0].lim.min, 2);
    assert_int_equal(m.tables[0].lim.max, 9);
    assert_true(m.tables[0].lim.has_max);
    assert_int_equal(m.tables[1].elem, WR_FUNCREF);
    assert_int_equal(m.tables[1].lim.min, 1);
    assert_false(m.tables[1].lim.has_max);
    assert_int_equal(m.nmemories, 1);
    assert_int_equal(m.memories[0].min, 3);
    assert_false(m.memories[0].has_max);
    assert_int_equal(m.nglobals, 2);
    assert_true(m.globals[0].imported);
    assert_int_equal(m.globals[0].type.type, WR_F32);
    assert_true(m.globals[0].type.mut);
    assert_false(m.globals[1].imported);
    assert_false(m.globals[1].type.mut);
    assert_int_equal(m.globals[1].init.kind, WR__CE_I32);
    assert_int_equal(m.globals[1].init.value, 7);

    assert_int_equal(m.nexports, 2);
    assert_string_equal(m.exports[0].name, "x");
    assert_int_equal(m.exports[0].kind, WR_EXTERN_FUNC);
    assert_int_equal(m.exports[0].index, 2);
    assert_int_equal(m.exports[1].kind, WR_EXTERN_GLOBAL);
    assert_int_equal(m.exports[1].index, 1);
    assert_true(m.has_start);
    assert_int_equal(m.start, 2);
    wr__module_clear(&m);
}

static void test_bad_kinds_and_types(void **state) {
    (void)state;
    EXPECT(WR_ERR_IMPORT_KIND, HEADER, SEC(2, 0x01, 0x00, 0x00, 0x04));
    EXPECT(WR_ERR_IMPORT_KIND, HEADER, SEC(2, 0x01, 0x00, 0x00, 0x80, 0x00));
    EXPECT(WR_ERR_EXPORT_KIND, HEADER, SEC(7, 0x01, 0x00, 0x04, 0x00));
    EXPECT(WR_ERR_MUTABILITY, HEADER, SEC(6, 0x01, 0x7f, 0x02, 0x41, 0x00, 0x0b));
    EXPECT(WR_ERR_FUNCTYPE, HEADER, SEC(1, 0x01, 0x61, 0x00, 0x00));
    EXPECT(WR_ERR_VALTYPE, HEADER, SEC(1, 0x01, 0x60, 0x01, 0x7b, 0x00)); /* v128: no SIMD */
    EXPECT(WR_ERR_VALTYPE, HEADER, SEC(1, 0x01, 0x60, 0x00, 0x01, 0x40));
    EXPECT(WR_ERR_LEB_TOO_LONG, HEADER, SEC(1, 0x01, 0x60, 0x01, 0xff, 0x7f, 0x00));
    EXPECT(WR_ERR_REFTYPE, HEADER, SEC(4, 0x01, 0x7f, 0x00, 0x00));
    EXPECT(WR_ERR_VALTYPE, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, 0x04, 0x01, 0x01, 0x7a, 0x0b));
    /* An out-of-range type index is invalid, not malformed, and reported after decoding. */
    EXPECT(WR_ERR_UNKNOWN_TYPE, HEADER, TYPE_VOID, SEC(3, 0x01, 0x05), EMPTY_BODY);
    EXPECT(WR_ERR_UNKNOWN_TYPE, HEADER, SEC(2, 0x01, 0x00, 0x00, 0x00, 0x00));
    EXPECT(WR_ERR_EXPORT_KIND, HEADER, TYPE_VOID, SEC(3, 0x01, 0x05), SEC(7, 0x01, 0x00, 0x09, 0x00), EMPTY_BODY);
}

/* ---- Code --------------------------------------------------------------- */

static void test_code_entries(void **state) {
    (void)state;
    wr_module m;
    wr_error err;
    assert_int_equal(DECODE(&m, &err, HEADER, SEC(1, 0x01, 0x60, 0x01, 0x7f, 0x00), SEC(3, 0x02, 0x00, 0x00),
                            SEC(10, 0x02,
                                0x02, 0x00, 0x0b,
                                0x09, 0x02, 0x02, 0x7f, 0x01, 0x7c, 0x20, 0x00, 0x1a, 0x0b)),
                     WR_OK);
    assert_int_equal(m.nfuncs, 2);
    /* HEADER 8 + type section 7 + function section 5 + code header 3 = 23: the first body. */
    assert_int_equal(m.funcs[0].body_offset, 24);
    assert_int_equal(m.funcs[0].body_size, 2);
    assert_int_equal(m.funcs[0].code_offset, 25);
    assert_int_equal(m.funcs[0].nlocals, 0);
    assert_null(m.funcs[0].local_types);
    assert_int_equal(m.funcs[1].body_offset, 27);
    assert_int_equal(m.funcs[1].body_size, 9);
    assert_int_equal(m.funcs[1].code_offset, 32);
    assert_int_equal(m.bytes[m.funcs[1].code_offset], 0x20); /* local.get */
    assert_int_equal(m.funcs[1].nlocals, 3);
    assert_int_equal(m.funcs[1].local_types[0], WR_I32);
    assert_int_equal(m.funcs[1].local_types[1], WR_I32);
    assert_int_equal(m.funcs[1].local_types[2], WR_F64);
    wr__module_clear(&m);

    /* Local counts can be zero. */
    EXPECT(WR_OK, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, 0x08, 0x03, 0x00, 0x7f, 0x00, 0x7e, 0x02, 0x7d, 0x0b));
}

static void test_too_many_locals(void **state) {
    (void)state;
    wr_module m;
    wr_error err;
    /* 2^32 - 1 locals and then 2 more. */
    EXPECT(WR_ERR_TOO_MANY_LOCALS, HEADER, TYPE_VOID, ONE_FUNC,
           SEC(10, 0x01, SIZED(0x02, 0xff, 0xff, 0xff, 0xff, 0x0f, 0x7f, 0x02, 0x7e, 0x0b)));
    /* A local count that does not fit in 32 bits. */
    EXPECT(WR_ERR_LEB_TOO_LARGE, HEADER, TYPE_VOID, ONE_FUNC,
           SEC(10, 0x01, SIZED(0x02, 0x80, 0x80, 0x80, 0x80, 0x10, 0x7f, 0x02, 0x7e, 0x0b)));
    /* One param and 49999 locals: exactly WR_MAX_LOCALS. */
    assert_int_equal(WR_MAX_LOCALS, 50000);
    assert_int_equal(DECODE(&m, &err, HEADER, SEC(1, 0x01, 0x60, 0x01, 0x7f, 0x00), ONE_FUNC,
                            SEC(10, 0x01, SIZED(0x01, 0xcf, 0x86, 0x03, 0x7e, 0x0b))),
                     WR_OK);
    assert_int_equal(m.funcs[0].nlocals, 49999);
    assert_int_equal(m.funcs[0].local_types[49998], WR_I64);
    wr__module_clear(&m);
    /* One param and 50000 locals: one too many. */
    EXPECT(WR_ERR_TOO_MANY_LOCALS, HEADER, SEC(1, 0x01, 0x60, 0x01, 0x7f, 0x00), ONE_FUNC,
           SEC(10, 0x01, SIZED(0x01, 0xd0, 0x86, 0x03, 0x7e, 0x0b)));
}

static void test_body_errors(void **state) {
    (void)state;
    /* memory.size / memory.grow take a zero byte, not a LEB128 zero. */
    EXPECT(WR_ERR_ZERO_BYTE, HEADER, TYPE_VOID, ONE_FUNC, SEC(5, 0x01, 0x00, 0x00),
           SEC(10, 0x01, SIZED(0x00, 0x3f, 0x01, 0x1a, 0x0b)));
    EXPECT(WR_ERR_ZERO_BYTE, HEADER, TYPE_VOID, ONE_FUNC, SEC(5, 0x01, 0x00, 0x00),
           SEC(10, 0x01, SIZED(0x00, 0x41, 0x00, 0x40, 0x80, 0x00, 0x1a, 0x0b)));
    /* Illegal opcodes, one byte and 0xfc-prefixed. */
    EXPECT(WR_ERR_ILLEGAL_OPCODE, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, SIZED(0x00, 0x27, 0x0b)));
    EXPECT(WR_ERR_ILLEGAL_OPCODE, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, SIZED(0x00, 0xfc, 0x20, 0x0b)));
    /* `else` outside an `if`, and a second `else`. */
    EXPECT(WR_ERR_END_EXPECTED, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, SIZED(0x00, 0x05, 0x0b)));
    EXPECT(WR_ERR_END_EXPECTED, HEADER, TYPE_VOID, ONE_FUNC,
           SEC(10, 0x01, SIZED(0x00, 0x02, 0x40, 0x05, 0x0b, 0x0b)));
    EXPECT(WR_ERR_END_EXPECTED, HEADER, TYPE_VOID, ONE_FUNC,
           SEC(10, 0x01, SIZED(0x00, 0x41, 0x00, 0x04, 0x40, 0x05, 0x05, 0x0b, 0x0b)));
    /* A body that lacks its `end` and runs into the next body's `else`-like size byte. */
    EXPECT(WR_ERR_END_EXPECTED, HEADER, TYPE_VOID, SEC(3, 0x02, 0x00, 0x00),
           SEC(10, 0x02, 0x04, 0x00, 0x41, 0x01, 0x1a, 0x05, 0x00, 0x41, 0x01, 0x1a, 0x0b));
    /* Nested blocks, if/else, br_table, select with types, block types: all well formed. */
    EXPECT(WR_OK, HEADER, TYPE_VOID, ONE_FUNC,
           SEC(10, 0x01, SIZED(0x00,
                               0x02, 0x40, 0x03, 0x7f, 0x41, 0x01, 0x0b, 0x1a, 0x0b,             /* block, loop */
                               0x41, 0x01, 0x04, 0x40, 0x01, 0x05, 0x01, 0x0b,                   /* if else */
                               0x02, 0x40, 0x41, 0x00, 0x0e, 0x02, 0x00, 0x00, 0x00, 0x0b,       /* br_table */
                               0x41, 0x01, 0x41, 0x02, 0x41, 0x00, 0x1c, 0x01, 0x7f, 0x1a,       /* select t */
                               0x02, 0x00, 0x0b,                                                 /* type 0 */
                               0xd0, 0x6f, 0x1a, 0xfc, 0x00, 0x0b)));
    /* A block type that is neither 0x40, a value type nor an index. */
    EXPECT(WR_ERR_VALTYPE, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, SIZED(0x00, 0x02, 0x7b, 0x0b, 0x0b)));
    /* i32's code as a two-byte s33 (-1) is not a value type, and not a type index either. */
    EXPECT(WR_ERR_VALTYPE, HEADER, TYPE_VOID, ONE_FUNC,
           SEC(10, 0x01, SIZED(0x00, 0x02, 0xff, 0x7f, 0x41, 0x00, 0x0b, 0x1a, 0x0b)));
    /* A type index as a non-minimal s33 is fine. */
    EXPECT(WR_OK, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, SIZED(0x00, 0x02, 0x80, 0x00, 0x0b, 0x0b)));
    /* ref.null of a non-reference type. */
    EXPECT(WR_ERR_REFTYPE, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, SIZED(0x00, 0xd0, 0x7f, 0x1a, 0x0b)));
}

static void test_data_count(void **state) {
    (void)state;
    /* memory.init and data.drop need a data count section. */
    EXPECT(WR_ERR_DATA_COUNT_REQUIRED, HEADER, TYPE_VOID, ONE_FUNC, SEC(5, 0x01, 0x00, 0x00),
           SEC(10, 0x01, SIZED(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x08, 0x00, 0x00, 0x0b)),
           SEC(11, 0x01, 0x01, 0x00));
    EXPECT(WR_ERR_DATA_COUNT_REQUIRED, HEADER, TYPE_VOID, ONE_FUNC, SEC(5, 0x01, 0x00, 0x00),
           SEC(10, 0x01, SIZED(0x00, 0xfc, 0x09, 0x00, 0x0b)), SEC(11, 0x01, 0x01, 0x00));
    EXPECT(WR_OK, HEADER, TYPE_VOID, ONE_FUNC, SEC(5, 0x01, 0x00, 0x00), SEC(12, 0x01),
           SEC(10, 0x01, SIZED(0x00, 0xfc, 0x09, 0x00, 0x0b)), SEC(11, 0x01, 0x01, 0x00));
    /* Naming a segment that does not exist is left to the validator ("unknown data segment"). */
    EXPECT(WR_OK, HEADER, TYPE_VOID, ONE_FUNC, SEC(10, 0x01, SIZED(0x00, 0xfc, 0x09, 0x00, 0x0b)));
    /* The count must match the data section, also when that is absent. */
    EXPECT(WR_ERR_DATA_COUNT_MISMATCH, HEADER, SEC(12, 0x03), SEC(11, 0x02, 0x01, 0x00, 0x01, 0x00));
    EXPECT(WR_ERR_DATA_COUNT_MISMATCH, HEADER, SEC(12, 0x01), SEC(11, 0x02, 0x01, 0x00, 0x01, 0x00));
    EXPECT(WR_ERR_DATA_COUNT_MISMATCH, HEADER, SEC(12, 0x01));
    EXPECT(WR_OK, HEADER, SEC(12, 0x00));
    /* The memory.init zero byte. */
    EXPECT(WR_ERR_ZERO_BYTE, HEADER, TYPE_VOID, ONE_FUNC, SEC(5, 0x01, 0x00, 0x00), SEC(12, 0x01),
           SEC(10, 0x01, SIZED(0x00, 0x41, 0x00, 0x41, 0x00, 0x41, 0x00, 0xfc, 0x08, 0x00, 0x01, 0x0b)),
           SEC(11, 0x01, 0x01, 0x00));
}

/* ---- Segments ---------------------------------------------------------- */

static void test_elem_encodings(void **state) {
    (void)state;
    wr_module m;
    wr_error err;
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID, SEC(3, 0x02, 0x00, 0x00),
                            SEC(4, 0x02, 0x70, 0x00, 0x04, 0x6f, 0x00, 0x04),
                            SEC(9, 0x08,
                                /* 0: active, table 0, offset, function indices */
                                0x00, 0x41, 0x01, 0x0b, 0x02, 0x00, 0x01,
                                /* 1: passive, element kind, function indices */
                                0x01, 0x00, 0x01, 0x01,
                                /* 2: active, table index, offset, element kind, function indices */
                                0x02, 0x00, 0x41, 0x02, 0x0b, 0x00, 0x01, 0x00,
                                /* 3: declarative, element kind, function indices */
                                0x03, 0x00, 0x02, 0x01, 0x00,
                                /* 4: active, table 0, offset, expressions */
                                0x04, 0x41, 0x03, 0x0b, 0x02, 0xd2, 0x01, 0x0b, 0xd0, 0x70, 0x0b,
                                /* 5: passive, reference type, expressions */
                                0x05, 0x6f, 0x01, 0xd0, 0x6f, 0x0b,
                                /* 6: active, table index, offset, reference type, expressions */
                                0x06, 0x01, 0x41, 0x00, 0x0b, 0x6f, 0x01, 0xd0, 0x6f, 0x0b,
                                /* 7: declarative, reference type, expressions */
                                0x07, 0x70, 0x01, 0xd2, 0x00, 0x0b),
                            SEC(10, 0x02, 0x02, 0x00, 0x0b, 0x02, 0x00, 0x0b)),
                     WR_OK);
    assert_int_equal(m.nelems, 8);
    const wr__elem *e = m.elems;

    assert_int_equal(e[0].mode, WR__SEG_ACTIVE);
    assert_int_equal(e[0].table, 0);
    assert_int_equal(e[0].offset.kind, WR__CE_I32);
    assert_int_equal(e[0].offset.value, 1);
    assert_int_equal(e[0].type, WR_FUNCREF);
    assert_int_equal(e[0].count, 2);
    assert_int_equal(e[0].items[0].kind, WR__CE_REF_FUNC);
    assert_int_equal(e[0].items[0].value, 0);
    assert_int_equal(e[0].items[1].kind, WR__CE_REF_FUNC);
    assert_int_equal(e[0].items[1].value, 1);

    assert_int_equal(e[1].mode, WR__SEG_PASSIVE);
    assert_int_equal(e[1].type, WR_FUNCREF);
    assert_int_equal(e[1].count, 1);
    assert_int_equal(e[1].items[0].kind, WR__CE_REF_FUNC);
    assert_int_equal(e[1].items[0].value, 1);

    assert_int_equal(e[2].mode, WR__SEG_ACTIVE);
    assert_int_equal(e[2].table, 0);
    assert_int_equal(e[2].offset.value, 2);
    assert_int_equal(e[2].count, 1);
    assert_int_equal(e[2].items[0].value, 0);

    assert_int_equal(e[3].mode, WR__SEG_DECLARATIVE);
    assert_int_equal(e[3].count, 2);
    assert_int_equal(e[3].items[0].value, 1);
    assert_int_equal(e[3].items[1].value, 0);

    assert_int_equal(e[4].mode, WR__SEG_ACTIVE);
    assert_int_equal(e[4].table, 0);
    assert_int_equal(e[4].offset.value, 3);
    assert_int_equal(e[4].type, WR_FUNCREF);
    assert_int_equal(e[4].count, 2);
    assert_int_equal(e[4].items[0].kind, WR__CE_REF_FUNC);
    assert_int_equal(e[4].items[0].value, 1);
    assert_int_equal(e[4].items[1].kind, WR__CE_REF_NULL);
    assert_int_equal(e[4].items[1].reftype, WR_FUNCREF);

    assert_int_equal(e[5].mode, WR__SEG_PASSIVE);
    assert_int_equal(e[5].type, WR_EXTERNREF);
    assert_int_equal(e[5].count, 1);
    assert_int_equal(e[5].items[0].kind, WR__CE_REF_NULL);
    assert_int_equal(e[5].items[0].reftype, WR_EXTERNREF);

    assert_int_equal(e[6].mode, WR__SEG_ACTIVE);
    assert_int_equal(e[6].table, 1);
    assert_int_equal(e[6].offset.value, 0);
    assert_int_equal(e[6].type, WR_EXTERNREF);
    assert_int_equal(e[6].count, 1);

    assert_int_equal(e[7].mode, WR__SEG_DECLARATIVE);
    assert_int_equal(e[7].type, WR_FUNCREF);
    assert_int_equal(e[7].count, 1);
    assert_int_equal(e[7].items[0].kind, WR__CE_REF_FUNC);
    assert_int_equal(e[7].items[0].value, 0);
    wr__module_clear(&m);

    /* Flags as a non-minimal LEB128 are fine; unknown flags, kinds and types are not. */
    EXPECT(WR_OK, HEADER, SEC(4, 0x01, 0x70, 0x00, 0x00), SEC(9, 0x01, 0x80, 0x00, 0x41, 0x00, 0x0b, 0x00));
    EXPECT(WR_ERR_SEGMENT_FLAGS, HEADER, SEC(9, 0x01, 0x08, 0x00));
    EXPECT(WR_ERR_ELEM_KIND, HEADER, SEC(9, 0x01, 0x01, 0x01, 0x00));
    EXPECT(WR_ERR_REFTYPE, HEADER, SEC(9, 0x01, 0x05, 0x7f, 0x00));
    EXPECT(WR_ERR_ILLEGAL_OPCODE, HEADER, SEC(9, 0x01, 0x05, 0x70, 0x01, 0xf3, 0x00, 0x0b));
    /* Two segments declared, one present: the spec's "unexpected end". */
    EXPECT(WR_ERR_SECTION_END, HEADER, SEC(4, 0x01, 0x70, 0x00, 0x01), SEC(9, 0x02, 0x00, 0x41, 0x00, 0x0b, 0x01, 0x00));
}

static void test_data_encodings(void **state) {
    (void)state;
    wr_module m;
    wr_error err;
    assert_int_equal(DECODE(&m, &err, HEADER, SEC(5, 0x01, 0x00, 0x01), SEC(12, 0x03),
                            SEC(11, 0x03,
                                0x00, 0x41, 0x10, 0x0b, 0x02, 'a', 'b',         /* active, memory 0 */
                                0x01, 0x03, 'x', 'y', 'z',                      /* passive */
                                0x02, 0x80, 0x00, 0x41, 0x05, 0x0b, 0x00)),     /* active, memory index */
                     WR_OK);
    assert_true(m.has_datacount);
    assert_int_equal(m.datacount, 3);
    assert_int_equal(m.ndatas, 3);
    assert_int_equal(m.datas[0].mode, WR__SEG_ACTIVE);
    assert_int_equal(m.datas[0].memory, 0);
    assert_int_equal(m.datas[0].offset.kind, WR__CE_I32);
    assert_int_equal(m.datas[0].offset.value, 16);
    assert_int_equal(m.datas[0].size, 2);
    assert_memory_equal(m.bytes + m.datas[0].data_offset, "ab", 2);
    assert_int_equal(m.datas[1].mode, WR__SEG_PASSIVE);
    assert_int_equal(m.datas[1].size, 3);
    assert_memory_equal(m.bytes + m.datas[1].data_offset, "xyz", 3);
    assert_int_equal(m.datas[2].mode, WR__SEG_ACTIVE);
    assert_int_equal(m.datas[2].memory, 0);
    assert_int_equal(m.datas[2].offset.value, 5);
    assert_int_equal(m.datas[2].size, 0);
    wr__module_clear(&m);

    EXPECT(WR_ERR_SEGMENT_FLAGS, HEADER, SEC(11, 0x01, 0x03, 0x00));
    /* Data longer than the module. */
    EXPECT(WR_ERR_LENGTH, HEADER, SEC(11, 0x01, 0x01, 0x09, 'a'));
}

/* ---- Constant expressions ---------------------------------------------- */

static void test_constexpr(void **state) {
    (void)state;
    wr_module m;
    wr_error err;
    assert_int_equal(DECODE(&m, &err, HEADER, TYPE_VOID,
                            SEC(2, 0x01, 0x01, 'm', 0x01, 'g', 0x03, 0x7f, 0x00),
                            ONE_FUNC,
                            SEC(6, 0x07,
                                0x7f, 0x00, 0x41, 0x7f, 0x0b,                                   /* i32 -1 */
                                0x7e, 0x00, 0x42, 0x80, 0x7f, 0x0b,                             /* i64 -128 */
                                0x7d, 0x00, 0x43, 0x00, 0x00, 0xc0, 0x7f, 0x0b,                 /* f32 nan */
                                0x7c, 0x01, 0x44, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0b,
                                0x6f, 0x00, 0xd0, 0x6f, 0x0b,                                   /* ref.null */
                                0x70, 0x00, 0xd2, 0x00, 0x0b,                                   /* ref.func 0 */
                                0x7f, 0x00, 0x23, 0x00, 0x0b),                                  /* global.get 0 */
                            EMPTY_BODY),
                     WR_OK);
    assert_int_equal(m.nglobals, 8);
    const wr__globaldef *g = m.globals + 1;
    assert_int_equal(g[0].init.kind, WR__CE_I32);
    assert_int_equal(g[0].init.value, 0xffffffffu); /* the 32 bits, zero-extended */
    assert_int_equal(g[1].init.kind, WR__CE_I64);
    assert_true(g[1].init.value == (uint64_t)-128);
    assert_int_equal(g[2].init.kind, WR__CE_F32);
    assert_int_equal(g[2].init.value, 0x7fc00000u);
    assert_int_equal(g[3].init.kind, WR__CE_F64);
    assert_true(g[3].init.value == 0x0807060504030201ull);
    assert_true(g[3].type.mut);
    assert_int_equal(g[4].init.kind, WR__CE_REF_NULL);
    assert_int_equal(g[4].init.reftype, WR_EXTERNREF);
    assert_int_equal(g[5].init.kind, WR__CE_REF_FUNC);
    assert_int_equal(g[5].init.value, 0);
    assert_int_equal(g[6].init.kind, WR__CE_GLOBAL_GET);
    assert_int_equal(g[6].init.value, 0);
    /* The offset of the expression in the binary. */
    assert_int_equal(m.bytes[g[6].init.offset], 0x23);
    wr__module_clear(&m);

    /* Not constant: nop; i32.add after two constants. */
    EXPECT(WR_ERR_CONST_EXPR, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x01, 0x0b));
    EXPECT(WR_ERR_CONST_EXPR, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x41, 0x00, 0x6a, 0x0b));
    EXPECT(WR_ERR_CONST_EXPR, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x01, 0x0b));
    EXPECT(WR_ERR_CONST_EXPR, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x02, 0x40, 0x0b, 0x0b));
    /* Not exactly one instruction. */
    EXPECT(WR_ERR_TYPE_MISMATCH, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x0b));
    EXPECT(WR_ERR_TYPE_MISMATCH, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x41, 0x00, 0x0b));
    EXPECT(WR_ERR_TYPE_MISMATCH, HEADER, SEC(4, 0x01, 0x70, 0x00, 0x01), SEC(9, 0x01, 0x00, 0x0b, 0x00));
    /* Malformed ones stay malformed. */
    EXPECT(WR_ERR_ILLEGAL_OPCODE, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x27, 0x0b));
    EXPECT(WR_ERR_SECTION_END, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x41, 0x00));
    EXPECT(WR_ERR_END_EXPECTED, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x41, 0x00, 0x05, 0x0b));
    /* A malformed section after an invalid expression: malformed wins. */
    EXPECT(WR_ERR_EXPORT_KIND, HEADER, SEC(6, 0x01, 0x7f, 0x00, 0x01, 0x0b), SEC(7, 0x01, 0x00, 0x07, 0x00));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_read_u32),
        cmocka_unit_test(test_read_signed),
        cmocka_unit_test(test_read_u64_bytes_u8),
        cmocka_unit_test(test_read_opcode),
        cmocka_unit_test(test_opinfo_table),
        cmocka_unit_test(test_empty_module),
        cmocka_unit_test(test_bad_header),
        cmocka_unit_test(test_truncated_sections),
        cmocka_unit_test(test_leb_in_module),
        cmocka_unit_test(test_section_size_mismatch),
        cmocka_unit_test(test_section_order),
        cmocka_unit_test(test_func_code_mismatch),
        cmocka_unit_test(test_huge_counts),
        cmocka_unit_test(test_utf8_names),
        cmocka_unit_test(test_name_section),
        cmocka_unit_test(test_malformed_name_section_ignored),
        cmocka_unit_test(test_types_imports_exports),
        cmocka_unit_test(test_bad_kinds_and_types),
        cmocka_unit_test(test_code_entries),
        cmocka_unit_test(test_too_many_locals),
        cmocka_unit_test(test_body_errors),
        cmocka_unit_test(test_data_count),
        cmocka_unit_test(test_elem_encodings),
        cmocka_unit_test(test_data_encodings),
        cmocka_unit_test(test_constexpr),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
