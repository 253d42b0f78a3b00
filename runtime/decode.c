/*
 * decode.c - the WebAssembly 2.0 binary format (without SIMD) -> struct wr_module.
 *
 * The decoder rejects malformed binaries: everything the spec's binary
 * grammar does not describe.  It does not type-check function bodies
 * (validate.c does), but it reads every instruction of every body once, so
 * that illegal opcodes, bad immediates and misplaced `else`/`end` are
 * reported as malformed, with the messages the spec tests expect.
 *
 * Where the spec tests pin down which error a broken binary gives, we follow
 * the spec's reference decoder:
 *
 *   - The entries of a section are read with a cursor that ends at the end
 *     of the module, not of the section; a section whose entries end
 *     anywhere but at its declared end is "section size mismatch".  So a
 *     section that declares two entries but holds one may report an error
 *     found in the bytes of the next section, as the reference does.
 *   - A length or count (the reference's len32) larger than the bytes left
 *     in the module, counted from the start of the length itself, is
 *     "length out of bounds".
 *   - Value types, reference types and the function type marker are read
 *     as one-byte signed LEB128 (s7), so a set continuation bit there is
 *     "integer representation too long"; the limits flag is read as a
 *     one-bit unsigned LEB128 (u1).
 *
 * Memory use is bounded by the module: before an array is allocated for a
 * declared count, the count is checked against the bytes left in its
 * section (every entry takes at least one byte) and against the WR_MAX_*
 * limits.  Every read goes through a wr__reader, which never reads past
 * the end of the module.
 *
 * Some errors found here belong to validation (a constant expression that
 * is not constant or not one instruction, a function type index out of
 * range).  They are recorded and reported only after the whole binary has
 * been decoded, so that a module that is both malformed and invalid is
 * reported as malformed, as in the spec.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

/* ---- The opcode table ------------------------------------------------- */

const struct wr__opinfo wr__opinfo[WR__OPCODE_LIMIT] = {
#define WR_OP(NAME, CODE, IMM, P, R, A) \
    [(CODE)] = { .name = #NAME, .imm = (IMM), .align = (A), .params = (P), .results = (R) },
#define WR_OP_FC(NAME, CODE, IMM, P, R, A) \
    [WR__FC_BASE + (CODE)] = { .name = #NAME, .imm = (IMM), .align = (A), .params = (P), .results = (R) },
#include "opcodes.def"
};

/* ---- Readers ---------------------------------------------------------- */

/*
 * LEB128 of at most `bits` bits, by the spec's rules: at most ceil(bits/7)
 * bytes, and in the last byte the bits beyond `bits` must be zero
 * (unsigned) or copies of the sign bit (signed).  The unused-bits check
 * comes before the length check, as in the reference decoder, so that an
 * over-long encoding whose last allowed byte also carries bad high bits
 * reports "integer too large".
 */
static wr_status read_leb(wr__reader *r, unsigned bits, bool is_signed, uint64_t *ret) {
    /* Almost every LEB128 in a module is one byte: take it without the loop.
     * (For 7 bits or more, a single byte is always within the limits.) */
    if (bits >= 7 && r->p < r->end && *r->p < 0x80) {
        uint8_t b = *r->p++;
        *ret = is_signed && (b & 0x40) ? (uint64_t)b | ~(uint64_t)0x7f : b;
        return WR_OK;
    }
    unsigned max_bytes = (bits + 6) / 7;
    unsigned shift = 0;
    uint64_t result = 0;

    for (unsigned i = 0;; i++) {
        if (r->p >= r->end)
            return WR_ERR_UNEXPECTED_END;
        uint8_t b = *r->p++;
        if (i == max_bytes - 1) {
            unsigned left = bits - shift; /* value bits in this byte, 1..7 */
            if (is_signed) {
                uint8_t mask = (uint8_t)((0x7fu << (left - 1)) & 0x7fu);
                if ((b & mask) != 0 && (b & mask) != mask)
                    return WR_ERR_LEB_TOO_LARGE;
            } else if (((b & 0x7fu) >> left) != 0) {
                return WR_ERR_LEB_TOO_LARGE;
            }
            if (b & 0x80)
                return WR_ERR_LEB_TOO_LONG;
        }
        result |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80)) {
            if (is_signed && shift < 64 && (b & 0x40))
                result |= ~(uint64_t)0 << shift;
            break;
        }
    }
    *ret = result;
    return WR_OK;
}

wr_status wr__read_u32_long(wr__reader *r, uint32_t *ret) {
    uint64_t v;
    wr_status s = read_leb(r, 32, false, &v);
    if (s == WR_OK)
        *ret = (uint32_t)v;
    return s;
}

wr_status wr__read_s32_long(wr__reader *r, int32_t *ret) {
    uint64_t v;
    wr_status s = read_leb(r, 32, true, &v);
    if (s == WR_OK)
        *ret = (int32_t)(uint32_t)v;
    return s;
}

wr_status wr__read_s33(wr__reader *r, int64_t *ret) {
    uint64_t v;
    wr_status s = read_leb(r, 33, true, &v);
    if (s == WR_OK)
        *ret = (int64_t)v;
    return s;
}

wr_status wr__read_s64(wr__reader *r, int64_t *ret) {
    uint64_t v;
    wr_status s = read_leb(r, 64, true, &v);
    if (s == WR_OK)
        *ret = (int64_t)v;
    return s;
}

wr_status wr__read_u64(wr__reader *r, uint64_t *ret) {
    return read_leb(r, 64, false, ret);
}

wr_status wr__read_bytes(wr__reader *r, size_t n, const uint8_t **ret) {
    if (n > (size_t)(r->end - r->p))
        return WR_ERR_UNEXPECTED_END;
    *ret = r->p;
    r->p += n;
    return WR_OK;
}

wr_status wr__read_opcode_long(wr__reader *r, uint32_t *ret) {
    uint8_t b;
    wr_status s = wr__read_u8(r, &b);
    if (s != WR_OK)
        return s;
    uint32_t op = b;
    if (b == 0xfc) {
        uint32_t sub;
        s = wr__read_u32(r, &sub);
        if (s != WR_OK)
            return s;
        if (sub >= WR__OPCODE_LIMIT - WR__FC_BASE)
            return WR_ERR_ILLEGAL_OPCODE;
        op = WR__FC_BASE + sub;
    }
    if (!wr__opinfo[op].name)
        return WR_ERR_ILLEGAL_OPCODE;
    *ret = op;
    return WR_OK;
}

/* ---- UTF-8 ------------------------------------------------------------ */

/*
 * Strict UTF-8 (Unicode, table 3-7): no overlong forms, no surrogates,
 * nothing above U+10FFFF, no truncated sequences.
 */
static bool utf8_valid(const uint8_t *s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        uint8_t lo = 0x80, hi = 0xbf; /* allowed range of the second byte */
        size_t more;
        if (b < 0x80) {
            i++;
            continue;
        } else if (b >= 0xc2 && b <= 0xdf) {
            more = 1;
        } else if (b >= 0xe0 && b <= 0xef) {
            more = 2;
            if (b == 0xe0)
                lo = 0xa0;      /* overlong */
            else if (b == 0xed)
                hi = 0x9f;      /* surrogates */
        } else if (b >= 0xf0 && b <= 0xf4) {
            more = 3;
            if (b == 0xf0)
                lo = 0x90;      /* overlong */
            else if (b == 0xf4)
                hi = 0x8f;      /* above U+10FFFF */
        } else {
            return false;
        }
        if (more > n - i - 1)
            return false;
        if (s[i + 1] < lo || s[i + 1] > hi)
            return false;
        for (size_t k = 2; k <= more; k++)
            if ((s[i + k] & 0xc0) != 0x80)
                return false;
        i += more + 1;
    }
    return true;
}

/* ---- Decoder state and errors ----------------------------------------- */

/* Kinds of open blocks while reading an expression, to place `else` and `end`. */
enum { BLK_PLAIN, BLK_IF, BLK_ELSE };

typedef struct decoder {
    wr_module *m;
    wr_error *err;
    /* Over the whole module; see the comment at the top about sections. */
    wr__reader r;
    size_t len;
    bool in_sections;         /* past the header: running out is "unexpected end of section" */
    size_t sec_end;           /* offset just past the current section (may lie beyond len) */

    /* Open blocks of the expression being read. */
    uint8_t *blocks;
    uint32_t nblocks, cap_blocks;
    bool in_body;             /* reading a function body, not a constant expression */

    /* Checks the reference decoder makes after the last section. */
    uint32_t nfunc_decls;     /* entries of the function section */
    uint32_t ncode;           /* entries of the code section */
    bool uses_data_index;     /* memory.init or data.drop seen in a body */
    uint32_t min_data_index;  /* the smallest data index they name */
    uint32_t data_instr_offset; /* of the instruction naming it */

    /* The first validation error found while decoding, reported at the end. */
    wr_error deferred;

    /* The payload of the first "name" custom section, parsed at the end. */
    bool has_names;
    size_t names_offset, names_len;
} decoder;

/* An instruction as read by read_instr; the values are for constant expressions. */
typedef struct instr {
    uint32_t op;
    uint32_t offset;
    uint64_t value;           /* constants' bits, or the function/global index */
    wr_valtype reftype;       /* ref.null */
} instr;

static uint32_t pos(const decoder *d) {
    return (uint32_t)(d->r.p - d->r.start);
}

static wr_status vfail(decoder *d, wr_status s, uint32_t offset, const char *fmt, va_list ap) {
    char detail[sizeof d->err->detail];
    /* Past the header, running out of bytes always means a section or body was cut short. */
    if (s == WR_ERR_UNEXPECTED_END && d->in_sections)
        s = WR_ERR_SECTION_END;
    vsnprintf(detail, sizeof detail, fmt, ap);
    return wr__error(d->err, s, offset, "%s", detail);
}

/* Reports status s at byte offset `offset` and returns it. */
__attribute__((format(printf, 4, 5)))
static wr_status fail(decoder *d, wr_status s, uint32_t offset, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    s = vfail(d, s, offset, fmt, ap);
    va_end(ap);
    return s;
}

/* Records a validation error to report once the binary is known to be well formed. */
__attribute__((format(printf, 4, 5)))
static void defer(decoder *d, wr_status s, uint32_t offset, const char *fmt, ...) {
    if (d->deferred.status != WR_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    d->deferred.status = s;
    d->deferred.offset = offset;
    vsnprintf(d->deferred.detail, sizeof d->deferred.detail, fmt, ap);
    va_end(ap);
}

/* ---- Reading values with error reports --------------------------------- */

/* These set *ret to 0 on failure, so that no caller ever sees an unset value. */
static wr_status read_byte(decoder *d, uint8_t *ret, const char *what) {
    uint32_t at = pos(d);
    *ret = 0;
    wr_status s = wr__read_u8(&d->r, ret);
    return s == WR_OK ? s : fail(d, s, at, "reading %s", what);
}

static wr_status read_u32(decoder *d, uint32_t *ret, const char *what) {
    uint32_t at = pos(d);
    *ret = 0;
    wr_status s = wr__read_u32(&d->r, ret);
    return s == WR_OK ? s : fail(d, s, at, "reading %s", what);
}

/*
 * A length or count (the reference's len32).  It must not exceed the bytes
 * left in the module counted from where the length starts ("length out of
 * bounds"), nor those left before `bound` (the end of the section or body),
 * since each entry takes at least one byte: that is what keeps a declared
 * count from making us allocate more than the module could describe.
 */
static wr_status read_len(decoder *d, uint32_t *ret, size_t bound, const char *what) {
    uint32_t at = pos(d);
    uint32_t n;
    *ret = 0;
    wr_status s = read_u32(d, &n, what);
    if (s != WR_OK)
        return s;
    if (n > d->len - at)
        return fail(d, WR_ERR_LENGTH, at, "%s %u, only %zu bytes left in the module", what, n, d->len - at);
    if (n > (bound > at ? bound - at : 0))
        return fail(d, WR_ERR_SECTION_END, at, "%s %u, only %zu bytes left in the section",
                    what, n, bound > at ? bound - at : 0);
    *ret = n;
    return WR_OK;
}

/* The number of entries of a section, at most `max`. */
static wr_status read_count(decoder *d, uint32_t *ret, uint32_t max, const char *what) {
    uint32_t at = pos(d);
    wr_status s = read_len(d, ret, d->sec_end, what);
    if (s == WR_OK && *ret > max)
        s = fail(d, WR_ERR_TOO_BIG, at, "%s %u, the limit is %u", what, *ret, max);
    return s;
}

/* A name: UTF-8 bytes with their length, copied NUL-terminated into *ret. */
static wr_status read_name(decoder *d, char **ret, uint32_t *ret_len, const char *what) {
    uint32_t at = pos(d);
    uint32_t n;
    const uint8_t *bytes;
    wr_status s = read_len(d, &n, d->len, what);
    if (s != WR_OK)
        return s;
    if (n > WR_MAX_NAME_LEN)
        return fail(d, WR_ERR_TOO_BIG, at, "%s of %u bytes, the limit is %u", what, n, WR_MAX_NAME_LEN);
    s = wr__read_bytes(&d->r, n, &bytes);
    if (s != WR_OK)
        return fail(d, s, at, "%s of %u bytes", what, n);
    if (!utf8_valid(bytes, n))
        return fail(d, WR_ERR_UTF8, at, "%s", what);
    char *copy = malloc((size_t)n + 1);
    if (!copy)
        return fail(d, WR_ERR_NOMEM, at, "%s", what);
    memcpy(copy, bytes, n);
    copy[n] = '\0';
    *ret = copy;
    *ret_len = n;
    return WR_OK;
}

/*
 * One byte read as the reference's s7: a set continuation bit makes a
 * longer LEB128 than 7 bits allow.
 */
static wr_status read_s7_byte(decoder *d, uint8_t *ret, const char *what) {
    uint32_t at = pos(d);
    wr_status s = read_byte(d, ret, what);
    if (s == WR_OK && (*ret & 0x80))
        s = fail(d, WR_ERR_LEB_TOO_LONG, at, "%s 0x%02x", what, *ret);
    return s;
}

static bool is_valtype(uint8_t b) {
    return b == WR_I32 || b == WR_I64 || b == WR_F32 || b == WR_F64 || b == WR_FUNCREF || b == WR_EXTERNREF;
}

static wr_status read_valtype(decoder *d, wr_valtype *ret) {
    uint32_t at = pos(d);
    uint8_t b;
    wr_status s = read_s7_byte(d, &b, "value type");
    if (s != WR_OK)
        return s;
    if (!is_valtype(b))
        return fail(d, WR_ERR_VALTYPE, at, "value type 0x%02x", b);
    *ret = (wr_valtype)b;
    return WR_OK;
}

static wr_status read_reftype(decoder *d, wr_valtype *ret) {
    uint32_t at = pos(d);
    uint8_t b;
    wr_status s = read_s7_byte(d, &b, "reference type");
    if (s != WR_OK)
        return s;
    if (b != WR_FUNCREF && b != WR_EXTERNREF)
        return fail(d, WR_ERR_REFTYPE, at, "reference type 0x%02x", b);
    *ret = (wr_valtype)b;
    return WR_OK;
}

/* Limits: a flag (0: min only, 1: min and max) read as a one-bit LEB128, then u32s. */
static wr_status read_limits(decoder *d, wr__range *ret) {
    uint32_t at = pos(d);
    uint64_t flag;
    wr_status s = read_leb(&d->r, 1, false, &flag);
    if (s == WR_ERR_LEB_TOO_LARGE)
        return fail(d, WR_ERR_LIMITS_FLAGS, at, "limits flag 0x%02x", d->r.start[at]);
    if (s != WR_OK)
        return fail(d, s, at, "reading limits flag");
    ret->has_max = flag == 1;
    s = read_u32(d, &ret->min, "limits minimum");
    if (s == WR_OK && ret->has_max)
        s = read_u32(d, &ret->max, "limits maximum");
    return s;
}

static wr_status read_tabletype(decoder *d, wr__tabletype *ret) {
    wr_status s = read_reftype(d, &ret->elem);
    return s == WR_OK ? read_limits(d, &ret->lim) : s;
}

static wr_status read_globaltype(decoder *d, wr__globaltype *ret) {
    wr_status s = read_valtype(d, &ret->type);
    if (s != WR_OK)
        return s;
    uint32_t at = pos(d);
    uint8_t b;
    s = read_byte(d, &b, "global mutability");
    if (s != WR_OK)
        return s;
    if (b > 1)
        return fail(d, WR_ERR_MUTABILITY, at, "mutability 0x%02x", b);
    ret->mut = b == 1;
    return WR_OK;
}

/* ---- Instructions ----------------------------------------------------- */

static wr_status push_block(decoder *d, uint8_t kind, uint32_t at) {
    if (d->nblocks == d->cap_blocks) {
        /* The depth is bounded by the body's length: each block takes two bytes at least. */
        uint32_t cap = d->cap_blocks ? d->cap_blocks * 2 : 64;
        uint8_t *p = realloc(d->blocks, cap);
        if (!p)
            return fail(d, WR_ERR_NOMEM, at, "block nesting");
        d->blocks = p;
        d->cap_blocks = cap;
    }
    d->blocks[d->nblocks++] = kind;
    return WR_OK;
}

/*
 * A block type: 0x40 (empty), a value type (one byte, a negative s7), or a
 * type index as a non-negative s33.  A negative s33 of more than one byte
 * is none of these, so it is malformed; the validator may then take any
 * negative block type for the one-byte form.
 */
static wr_status read_blocktype(decoder *d) {
    uint32_t at = pos(d);
    if (d->r.p < d->r.end && (*d->r.p & 0xc0) == 0x40) {
        uint8_t b = *d->r.p++;
        if (b != 0x40 && !is_valtype(b))
            return fail(d, WR_ERR_VALTYPE, at, "block type 0x%02x", b);
        return WR_OK;
    }
    int64_t x;
    wr_status s = wr__read_s33(&d->r, &x);
    if (s != WR_OK)
        return fail(d, s, at, "reading block type");
    if (x < 0)
        return fail(d, WR_ERR_VALTYPE, at, "block type %lld in %u bytes", (long long)x, pos(d) - at);
    return WR_OK;
}

/* A reserved byte that must be zero (memory index of 2.0's memory instructions). */
static wr_status read_zero_byte(decoder *d, const char *what) {
    uint32_t at = pos(d);
    uint8_t b;
    wr_status s = read_byte(d, &b, what);
    if (s == WR_OK && b != 0)
        s = fail(d, WR_ERR_ZERO_BYTE, at, "%s is 0x%02x", what, b);
    return s;
}

/* memory.init and data.drop in a body need a data count section; see decode_module. */
static void note_data_index(decoder *d, uint32_t index, uint32_t offset) {
    if (!d->in_body)
        return;
    if (!d->uses_data_index || index < d->min_data_index) {
        d->uses_data_index = true;
        d->min_data_index = index;
        d->data_instr_offset = offset;
    }
}

/* The immediates of an instruction that is neither a block nor else/end. */
static wr_status read_immediates(decoder *d, instr *in) {
    wr_status s = WR_OK;
    uint32_t a, b;
    const uint8_t *bytes;
    uint32_t at = pos(d);

    switch ((enum wr__imm)wr__opinfo[in->op].imm) {
    case WR_IMM_NONE:
        break;
    case WR_IMM_BLOCKTYPE:
        s = read_blocktype(d);
        break;
    case WR_IMM_LABEL:
    case WR_IMM_LOCAL:
    case WR_IMM_TABLE:
    case WR_IMM_ELEM:
        s = read_u32(d, &a, "index");
        break;
    case WR_IMM_FUNC:
    case WR_IMM_GLOBAL:
        s = read_u32(d, &a, "index");
        in->value = a;
        break;
    case WR_IMM_DATA:
        s = read_u32(d, &a, "data index");
        if (s == WR_OK)
            note_data_index(d, a, in->offset);
        break;
    case WR_IMM_BR_TABLE:
        s = read_len(d, &a, d->len, "br_table target count");
        for (uint32_t i = 0; s == WR_OK && i <= a; i++) /* the targets and the default */
            s = read_u32(d, &b, "br_table target");
        break;
    case WR_IMM_CALL_INDIRECT:
    case WR_IMM_TABLE_INIT:
    case WR_IMM_TABLE_COPY:
        s = read_u32(d, &a, "index");
        if (s == WR_OK)
            s = read_u32(d, &b, "index");
        break;
    case WR_IMM_REFTYPE:
        s = read_reftype(d, &in->reftype);
        break;
    case WR_IMM_SELECT_T:
        s = read_len(d, &a, d->len, "select type count");
        for (uint32_t i = 0; s == WR_OK && i < a; i++) {
            wr_valtype t;
            s = read_valtype(d, &t);
        }
        break;
    case WR_IMM_MEMARG:
        s = read_u32(d, &a, "alignment");
        if (s == WR_OK)
            s = read_u32(d, &b, "offset");
        break;
    case WR_IMM_MEMIDX:
        s = read_zero_byte(d, "memory index");
        break;
    case WR_IMM_I32: {
        int32_t v;
        s = wr__read_s32(&d->r, &v);
        if (s != WR_OK)
            return fail(d, s, at, "reading i32 constant");
        in->value = (uint32_t)v;
        break;
    }
    case WR_IMM_I64: {
        int64_t v;
        s = wr__read_s64(&d->r, &v);
        if (s != WR_OK)
            return fail(d, s, at, "reading i64 constant");
        in->value = (uint64_t)v;
        break;
    }
    case WR_IMM_F32:
        s = wr__read_bytes(&d->r, 4, &bytes);
        if (s != WR_OK)
            return fail(d, s, at, "reading f32 constant");
        in->value = (uint32_t)bytes[0] | (uint32_t)bytes[1] << 8 | (uint32_t)bytes[2] << 16 |
                    (uint32_t)bytes[3] << 24;
        break;
    case WR_IMM_F64:
        s = wr__read_bytes(&d->r, 8, &bytes);
        if (s != WR_OK)
            return fail(d, s, at, "reading f64 constant");
        in->value = 0;
        for (int i = 7; i >= 0; i--)
            in->value = in->value << 8 | bytes[i];
        break;
    case WR_IMM_MEMORY_INIT:
        s = read_u32(d, &a, "data index");
        if (s == WR_OK)
            s = read_zero_byte(d, "memory index");
        if (s == WR_OK)
            note_data_index(d, a, in->offset);
        break;
    case WR_IMM_MEMORY_COPY:
        s = read_zero_byte(d, "memory index");
        if (s == WR_OK)
            s = read_zero_byte(d, "memory index");
        break;
    }
    return s;
}

/*
 * Reads one instruction with its immediates and keeps track of the open
 * blocks.  *ret_done is set when the instruction is the `end` that closes
 * the expression.  As in the reference decoder, an `else` that does not
 * belong to an `if` (or a second one) is "END opcode expected".
 */
static wr_status read_instr(decoder *d, instr *in, bool *ret_done) {
    in->offset = pos(d);
    in->value = 0;
    in->reftype = WR_FUNCREF;
    *ret_done = false;

    wr_status s = wr__read_opcode(&d->r, &in->op);
    if (s == WR_ERR_ILLEGAL_OPCODE) {
        const uint8_t *p = d->r.start + in->offset;
        if (p[0] == 0xfc) {
            wr__reader sub = { d->r.start, p + 1, d->r.end };
            uint32_t n = 0;
            wr__read_u32(&sub, &n);
            return fail(d, s, in->offset, "illegal opcode 0xfc %u", n);
        }
        return fail(d, s, in->offset, "illegal opcode 0x%02x", p[0]);
    }
    if (s != WR_OK)
        return fail(d, s, in->offset, "reading opcode");

    switch (in->op) {
    case WR__OP_BLOCK:
    case WR__OP_LOOP:
    case WR__OP_IF:
        s = read_blocktype(d);
        if (s == WR_OK)
            s = push_block(d, in->op == WR__OP_IF ? BLK_IF : BLK_PLAIN, in->offset);
        return s;
    case WR__OP_ELSE:
        if (d->nblocks == 0 || d->blocks[d->nblocks - 1] != BLK_IF)
            return fail(d, WR_ERR_END_EXPECTED, in->offset, "else without a matching if");
        d->blocks[d->nblocks - 1] = BLK_ELSE;
        return WR_OK;
    case WR__OP_END:
        if (d->nblocks == 0)
            *ret_done = true;
        else
            d->nblocks--;
        return WR_OK;
    default:
        return read_immediates(d, in);
    }
}

/*
 * A constant expression.  The reference decoder reads any instruction
 * sequence up to `end`; the validator then requires every instruction to
 * be constant ("constant expression required") and the sequence to yield
 * one value ("type mismatch").  In WebAssembly 2.0 that means exactly one
 * constant instruction, which is what *ce records.
 */
static wr_status read_constexpr(decoder *d, wr__constexpr *ce) {
    uint32_t count = 0;
    bool non_const = false;
    bool done;
    instr in;

    memset(ce, 0, sizeof *ce);
    ce->offset = pos(d);
    d->nblocks = 0;
    d->in_body = false;
    for (;;) {
        wr_status s = read_instr(d, &in, &done);
        if (s != WR_OK)
            return s;
        if (done)
            break;
        if (non_const)
            continue;
        uint8_t kind;
        switch (in.op) {
        case WR__OP_I32_CONST:  kind = WR__CE_I32; break;
        case WR__OP_I64_CONST:  kind = WR__CE_I64; break;
        case WR__OP_F32_CONST:  kind = WR__CE_F32; break;
        case WR__OP_F64_CONST:  kind = WR__CE_F64; break;
        case WR__OP_REF_NULL:   kind = WR__CE_REF_NULL; break;
        case WR__OP_REF_FUNC:   kind = WR__CE_REF_FUNC; break;
        case WR__OP_GLOBAL_GET: kind = WR__CE_GLOBAL_GET; break;
        default:
            non_const = true;
            defer(d, WR_ERR_CONST_EXPR, in.offset, "%s in a constant expression", wr__opinfo[in.op].name);
            continue;
        }
        if (count++ == 0) {
            ce->kind = kind;
            ce->value = in.value;
            ce->reftype = kind == WR__CE_REF_NULL ? in.reftype : (wr_valtype)0;
        }
    }
    if (!non_const && count != 1)
        defer(d, WR_ERR_TYPE_MISMATCH, ce->offset, "constant expression of %u instructions, expected 1", count);
    return WR_OK;
}

/* ---- Sections ---------------------------------------------------------- */

/* Grows an array of `old` entries by `add` zeroed ones; NULL if out of memory. */
static void *grow_zeroed(void *p, size_t old, size_t add, size_t size) {
    if (old + add == 0)
        return p;
    char *q = realloc(p, (old + add) * size);
    if (q)
        memset(q + old * size, 0, add * size);
    return q;
}

static wr_status decode_types(decoder *d) {
    wr_module *m = d->m;
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_TYPES, "type count");
    if (s != WR_OK)
        return s;
    m->types = calloc(n ? n : 1, sizeof *m->types);
    if (!m->types)
        return fail(d, WR_ERR_NOMEM, pos(d), "types");
    m->ntypes = n;

    for (uint32_t i = 0; i < n; i++) {
        wr_functype *ft = &m->types[i];
        uint32_t at = pos(d);
        uint8_t b;
        if ((s = read_s7_byte(d, &b, "function type marker")) != WR_OK)
            return s;
        if (b != 0x60)
            return fail(d, WR_ERR_FUNCTYPE, at, "type %u starts with 0x%02x, not 0x60", i, b);

        /* Params and results are read in two passes: counts first, then one allocation. */
        uint32_t np, nr;
        at = pos(d);
        if ((s = read_len(d, &np, d->sec_end, "parameter count")) != WR_OK)
            return s;
        if (np > WR_MAX_PARAMS)
            return fail(d, WR_ERR_TOO_BIG, at, "type %u has %u parameters, the limit is %u", i, np, WR_MAX_PARAMS);
        wr__reader params = d->r;
        for (uint32_t k = 0; k < np; k++) {
            wr_valtype t;
            if ((s = read_valtype(d, &t)) != WR_OK)
                return s;
        }
        at = pos(d);
        if ((s = read_len(d, &nr, d->sec_end, "result count")) != WR_OK)
            return s;
        if (nr > WR_MAX_PARAMS)
            return fail(d, WR_ERR_TOO_BIG, at, "type %u has %u results, the limit is %u", i, nr, WR_MAX_PARAMS);
        wr__reader results = d->r;
        for (uint32_t k = 0; k < nr; k++) {
            wr_valtype t;
            if ((s = read_valtype(d, &t)) != WR_OK)
                return s;
        }

        ft->nparams = np;
        ft->nresults = nr;
        if (np + nr == 0)
            continue;
        wr_valtype *types = malloc((size_t)(np + nr) * sizeof *types);
        if (!types)
            return fail(d, WR_ERR_NOMEM, at, "type %u", i);
        /* The bytes were checked above; they are single-byte value types. */
        for (uint32_t k = 0; k < np; k++)
            types[k] = (wr_valtype)params.p[k];
        for (uint32_t k = 0; k < nr; k++)
            types[np + k] = (wr_valtype)results.p[k];
        ft->types = types;
    }
    return WR_OK;
}

/* What an import describes, kept until the index spaces can be sized. */
typedef struct import_desc {
    uint32_t type_index;
    wr__tabletype table;
    wr__range memory;
    wr__globaltype global;
} import_desc;

static wr_status decode_imports(decoder *d) {
    wr_module *m = d->m;
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_IMPORTS, "import count");
    if (s != WR_OK)
        return s;
    m->imports = calloc(n ? n : 1, sizeof *m->imports);
    import_desc *descs = calloc(n ? n : 1, sizeof *descs);
    if (!m->imports || !descs) {
        s = fail(d, WR_ERR_NOMEM, pos(d), "imports");
        goto out_free_descs;
    }
    m->nimports = n;

    uint32_t counts[4] = { 0, 0, 0, 0 };
    for (uint32_t i = 0; i < n; i++) {
        wr__import *imp = &m->imports[i];
        import_desc *desc = &descs[i];
        if ((s = read_name(d, &imp->module, &imp->module_len, "import module name")) != WR_OK)
            goto out_free_descs;
        if ((s = read_name(d, &imp->name, &imp->name_len, "import name")) != WR_OK)
            goto out_free_descs;
        uint32_t at = pos(d);
        uint8_t kind;
        if ((s = read_byte(d, &kind, "import kind")) != WR_OK)
            goto out_free_descs;
        switch (kind) {
        case WR_EXTERN_FUNC:
            s = read_u32(d, &desc->type_index, "import type index");
            if (s == WR_OK && desc->type_index >= m->ntypes)
                defer(d, WR_ERR_UNKNOWN_TYPE, at + 1, "import %u: type %u of %u", i, desc->type_index, m->ntypes);
            break;
        case WR_EXTERN_TABLE:
            s = read_tabletype(d, &desc->table);
            break;
        case WR_EXTERN_MEMORY:
            s = read_limits(d, &desc->memory);
            break;
        case WR_EXTERN_GLOBAL:
            s = read_globaltype(d, &desc->global);
            break;
        default:
            s = fail(d, WR_ERR_IMPORT_KIND, at, "import kind 0x%02x", kind);
            break;
        }
        if (s != WR_OK)
            goto out_free_descs;
        imp->kind = (wr_externkind)kind;
        imp->index = counts[kind]++;
    }

    /* The import section is the first to add to the index spaces, so they start here. */
    m->funcs = calloc(counts[WR_EXTERN_FUNC] ? counts[WR_EXTERN_FUNC] : 1, sizeof *m->funcs);
    m->tables = calloc(counts[WR_EXTERN_TABLE] ? counts[WR_EXTERN_TABLE] : 1, sizeof *m->tables);
    m->memories = calloc(counts[WR_EXTERN_MEMORY] ? counts[WR_EXTERN_MEMORY] : 1, sizeof *m->memories);
    m->globals = calloc(counts[WR_EXTERN_GLOBAL] ? counts[WR_EXTERN_GLOBAL] : 1, sizeof *m->globals);
    if (!m->funcs || !m->tables || !m->memories || !m->globals) {
        s = fail(d, WR_ERR_NOMEM, pos(d), "imports");
        goto out_free_descs;
    }
    m->nfuncs = m->nfunc_imports = counts[WR_EXTERN_FUNC];
    m->ntables = m->ntable_imports = counts[WR_EXTERN_TABLE];
    m->nmemories = m->nmemory_imports = counts[WR_EXTERN_MEMORY];
    m->nglobals = m->nglobal_imports = counts[WR_EXTERN_GLOBAL];
    for (uint32_t i = 0; i < n; i++) {
        const wr__import *imp = &m->imports[i];
        switch (imp->kind) {
        case WR_EXTERN_FUNC:
            m->funcs[imp->index].type_index = descs[i].type_index;
            m->funcs[imp->index].imported = true;
            break;
        case WR_EXTERN_TABLE:
            m->tables[imp->index] = descs[i].table;
            break;
        case WR_EXTERN_MEMORY:
            m->memories[imp->index] = descs[i].memory;
            break;
        case WR_EXTERN_GLOBAL:
            m->globals[imp->index].type = descs[i].global;
            m->globals[imp->index].imported = true;
            break;
        }
    }
    s = WR_OK;

out_free_descs:
    free(descs);
    return s;
}

static wr_status decode_functions(decoder *d) {
    wr_module *m = d->m;
    uint32_t at = pos(d);
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_FUNCS, "function count");
    if (s != WR_OK)
        return s;
    if (n > WR_MAX_FUNCS - m->nfuncs)
        return fail(d, WR_ERR_TOO_BIG, at, "%u imported and %u defined functions, the limit is %u",
                    m->nfuncs, n, WR_MAX_FUNCS);
    wr__funcdef *funcs = grow_zeroed(m->funcs, m->nfuncs, n, sizeof *funcs);
    if (!funcs && m->nfuncs + n)
        return fail(d, WR_ERR_NOMEM, at, "functions");
    m->funcs = funcs;
    d->nfunc_decls = n;
    for (uint32_t i = 0; i < n; i++) {
        wr__funcdef *f = &m->funcs[m->nfuncs];
        at = pos(d);
        if ((s = read_u32(d, &f->type_index, "function type index")) != WR_OK)
            return s;
        if (f->type_index >= m->ntypes)
            defer(d, WR_ERR_UNKNOWN_TYPE, at, "function %u: type %u of %u", m->nfuncs, f->type_index, m->ntypes);
        m->nfuncs++;
    }
    return WR_OK;
}

static wr_status decode_tables(decoder *d) {
    wr_module *m = d->m;
    uint32_t at = pos(d);
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_TABLES, "table count");
    if (s != WR_OK)
        return s;
    if (n > WR_MAX_TABLES - m->ntables)
        return fail(d, WR_ERR_TOO_BIG, at, "%u imported and %u defined tables, the limit is %u",
                    m->ntables, n, WR_MAX_TABLES);
    wr__tabletype *tables = grow_zeroed(m->tables, m->ntables, n, sizeof *tables);
    if (!tables && m->ntables + n)
        return fail(d, WR_ERR_NOMEM, at, "tables");
    m->tables = tables;
    for (uint32_t i = 0; i < n; i++) {
        if ((s = read_tabletype(d, &m->tables[m->ntables])) != WR_OK)
            return s;
        m->ntables++;
    }
    return WR_OK;
}

static wr_status decode_memories(decoder *d) {
    wr_module *m = d->m;
    uint32_t at = pos(d);
    uint32_t n;
    /* More than one memory is invalid (the validator says so); the section length bounds n. */
    wr_status s = read_count(d, &n, UINT32_MAX, "memory count");
    if (s != WR_OK)
        return s;
    wr__range *memories = grow_zeroed(m->memories, m->nmemories, n, sizeof *memories);
    if (!memories && m->nmemories + n)
        return fail(d, WR_ERR_NOMEM, at, "memories");
    m->memories = memories;
    for (uint32_t i = 0; i < n; i++) {
        if ((s = read_limits(d, &m->memories[m->nmemories])) != WR_OK)
            return s;
        m->nmemories++;
    }
    return WR_OK;
}

static wr_status decode_globals(decoder *d) {
    wr_module *m = d->m;
    uint32_t at = pos(d);
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_GLOBALS, "global count");
    if (s != WR_OK)
        return s;
    if (n > WR_MAX_GLOBALS - m->nglobals)
        return fail(d, WR_ERR_TOO_BIG, at, "%u imported and %u defined globals, the limit is %u",
                    m->nglobals, n, WR_MAX_GLOBALS);
    wr__globaldef *globals = grow_zeroed(m->globals, m->nglobals, n, sizeof *globals);
    if (!globals && m->nglobals + n)
        return fail(d, WR_ERR_NOMEM, at, "globals");
    m->globals = globals;
    for (uint32_t i = 0; i < n; i++) {
        wr__globaldef *g = &m->globals[m->nglobals];
        if ((s = read_globaltype(d, &g->type)) != WR_OK)
            return s;
        if ((s = read_constexpr(d, &g->init)) != WR_OK)
            return s;
        m->nglobals++;
    }
    return WR_OK;
}

static wr_status decode_exports(decoder *d) {
    wr_module *m = d->m;
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_EXPORTS, "export count");
    if (s != WR_OK)
        return s;
    m->exports = calloc(n ? n : 1, sizeof *m->exports);
    if (!m->exports)
        return fail(d, WR_ERR_NOMEM, pos(d), "exports");
    m->nexports = n;
    for (uint32_t i = 0; i < n; i++) {
        wr__export *ex = &m->exports[i];
        if ((s = read_name(d, &ex->name, &ex->name_len, "export name")) != WR_OK)
            return s;
        uint32_t at = pos(d);
        uint8_t kind;
        if ((s = read_byte(d, &kind, "export kind")) != WR_OK)
            return s;
        if (kind > WR_EXTERN_GLOBAL)
            return fail(d, WR_ERR_EXPORT_KIND, at, "export kind 0x%02x", kind);
        ex->kind = (wr_externkind)kind;
        if ((s = read_u32(d, &ex->index, "export index")) != WR_OK)
            return s;
    }
    return WR_OK;
}

static wr_status decode_start(decoder *d) {
    wr_status s = read_u32(d, &d->m->start, "start function index");
    if (s == WR_OK)
        d->m->has_start = true;
    return s;
}

/*
 * An element segment.  The flags select one of eight encodings:
 *   bit 0: passive or declarative (else active)
 *   bit 1: active with an explicit table index, or declarative
 *   bit 2: the items are constant expressions (else function indices)
 * Encodings other than 0 and 4 carry an element kind (function indices:
 * 0x00, funcref) or a reference type (expressions).
 */
static wr_status decode_elem(decoder *d, wr__elem *e) {
    uint32_t at = pos(d);
    uint32_t flags;
    wr_status s = read_u32(d, &flags, "element segment flags");
    if (s != WR_OK)
        return s;
    if (flags > 7)
        return fail(d, WR_ERR_SEGMENT_FLAGS, at, "element segment flags %u", flags);

    if (flags & 1) {
        e->mode = (flags & 2) ? WR__SEG_DECLARATIVE : WR__SEG_PASSIVE;
    } else {
        e->mode = WR__SEG_ACTIVE;
        if ((flags & 2) && (s = read_u32(d, &e->table, "element segment table index")) != WR_OK)
            return s;
        if ((s = read_constexpr(d, &e->offset)) != WR_OK)
            return s;
    }

    bool exprs = flags & 4;
    e->type = WR_FUNCREF;
    if (flags & 3) {
        if (exprs) {
            s = read_reftype(d, &e->type);
        } else {
            uint8_t kind;
            at = pos(d);
            s = read_byte(d, &kind, "element kind");
            if (s == WR_OK && kind != 0x00)
                s = fail(d, WR_ERR_ELEM_KIND, at, "element kind 0x%02x", kind);
        }
        if (s != WR_OK)
            return s;
    }

    uint32_t n;
    if ((s = read_len(d, &n, d->sec_end, "element count")) != WR_OK)
        return s;
    if (n) {
        e->items = calloc(n, sizeof *e->items);
        if (!e->items)
            return fail(d, WR_ERR_NOMEM, pos(d), "element segment of %u items", n);
    }
    e->count = n;
    for (uint32_t i = 0; i < n; i++) {
        wr__constexpr *ce = &e->items[i];
        if (exprs) {
            s = read_constexpr(d, ce);
        } else {
            /* A function index is the same as (ref.func index). */
            ce->kind = WR__CE_REF_FUNC;
            ce->offset = pos(d);
            uint32_t x;
            s = read_u32(d, &x, "element function index");
            ce->value = x;
        }
        if (s != WR_OK)
            return s;
    }
    return WR_OK;
}

static wr_status decode_elems(decoder *d) {
    wr_module *m = d->m;
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_ELEM_SEGMENTS, "element segment count");
    if (s != WR_OK)
        return s;
    m->elems = calloc(n ? n : 1, sizeof *m->elems);
    if (!m->elems)
        return fail(d, WR_ERR_NOMEM, pos(d), "element segments");
    m->nelems = n;
    for (uint32_t i = 0; i < n; i++)
        if ((s = decode_elem(d, &m->elems[i])) != WR_OK)
            return s;
    return WR_OK;
}

static wr_status decode_datacount(decoder *d) {
    wr_status s = read_u32(d, &d->m->datacount, "data count");
    if (s == WR_OK)
        d->m->has_datacount = true;
    return s;
}

/*
 * One entry of the code section: size, locals, instructions.  `f` is the
 * function it defines, or a scratch entry when the code section has more
 * entries than the function section (reported after the last section).
 */
static wr_status decode_body(decoder *d, wr__funcdef *f, uint32_t func_index) {
    wr_module *m = d->m;
    uint32_t size;
    wr_status s = read_len(d, &size, d->len, "function body size");
    if (s != WR_OK)
        return s;
    uint32_t start = pos(d);
    size_t body_end = (size_t)start + size; /* may lie past the module's end; then reading fails */
    f->body_offset = start;
    f->body_size = size;

    /* The params count against the locals limit; an unknown type was deferred as invalid. */
    uint64_t nparams = 0;
    if (!f->imported && f->type_index < m->ntypes)
        nparams = m->types[f->type_index].nparams;

    uint32_t nentries;
    if ((s = read_len(d, &nentries, body_end, "local declaration count")) != WR_OK)
        return s;
    wr__reader locals = d->r;
    uint64_t total = 0;
    for (uint32_t i = 0; i < nentries; i++) {
        uint32_t n;
        wr_valtype t;
        if ((s = read_u32(d, &n, "local count")) != WR_OK)
            return s;
        if ((s = read_valtype(d, &t)) != WR_OK)
            return s;
        total += n;
    }
    if (nparams + total > WR_MAX_LOCALS)
        return fail(d, WR_ERR_TOO_MANY_LOCALS, start, "function %u: %llu params and locals, the limit is %u",
                    func_index, (unsigned long long)(nparams + total), WR_MAX_LOCALS);

    /* Second pass over the declarations, already checked, to expand them. */
    f->nlocals = (uint32_t)total;
    if (total) {
        f->local_types = malloc(total * sizeof *f->local_types);
        if (!f->local_types)
            return fail(d, WR_ERR_NOMEM, start, "function %u: locals", func_index);
        uint32_t k = 0;
        for (uint32_t i = 0; i < nentries; i++) {
            uint32_t n;
            uint8_t t;
            if (wr__read_u32(&locals, &n) != WR_OK || wr__read_u8(&locals, &t) != WR_OK)
                return fail(d, WR_ERR_STATE, start, "function %u: locals changed between passes", func_index);
            while (n--)
                f->local_types[k++] = (wr_valtype)t;
        }
    }
    f->code_offset = pos(d);

    d->nblocks = 0;
    d->in_body = true;
    for (;;) {
        instr in;
        bool done;
        if ((s = read_instr(d, &in, &done)) != WR_OK)
            return s;
        if (done)
            break;
    }
    d->in_body = false;
    if (pos(d) != body_end)
        return fail(d, WR_ERR_SECTION_SIZE, start, "function %u: body of %u bytes ends after %u",
                    func_index, size, pos(d) - start);
    return WR_OK;
}

static wr_status decode_code(decoder *d) {
    wr_module *m = d->m;
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_FUNCS, "code entry count");
    if (s != WR_OK)
        return s;
    d->ncode = n;
    for (uint32_t i = 0; i < n; i++) {
        if (i < d->nfunc_decls) {
            uint32_t index = m->nfunc_imports + i;
            if ((s = decode_body(d, &m->funcs[index], index)) != WR_OK)
                return s;
        } else {
            wr__funcdef scratch = { .type_index = UINT32_MAX };
            s = decode_body(d, &scratch, m->nfunc_imports + i);
            free(scratch.local_types);
            if (s != WR_OK)
                return s;
        }
    }
    return WR_OK;
}

static wr_status decode_datas(decoder *d) {
    wr_module *m = d->m;
    uint32_t n;
    wr_status s = read_count(d, &n, WR_MAX_DATA_SEGMENTS, "data segment count");
    if (s != WR_OK)
        return s;
    m->datas = calloc(n ? n : 1, sizeof *m->datas);
    if (!m->datas)
        return fail(d, WR_ERR_NOMEM, pos(d), "data segments");
    m->ndatas = n;
    for (uint32_t i = 0; i < n; i++) {
        wr__data *seg = &m->datas[i];
        uint32_t at = pos(d);
        uint32_t flags;
        if ((s = read_u32(d, &flags, "data segment flags")) != WR_OK)
            return s;
        switch (flags) {
        case 0:
        case 2:
            seg->mode = WR__SEG_ACTIVE;
            if (flags == 2 && (s = read_u32(d, &seg->memory, "data segment memory index")) != WR_OK)
                return s;
            if ((s = read_constexpr(d, &seg->offset)) != WR_OK)
                return s;
            break;
        case 1:
            seg->mode = WR__SEG_PASSIVE;
            break;
        default:
            return fail(d, WR_ERR_SEGMENT_FLAGS, at, "data segment flags %u", flags);
        }
        at = pos(d);
        uint32_t size;
        const uint8_t *bytes;
        if ((s = read_len(d, &size, d->len, "data segment size")) != WR_OK)
            return s;
        if ((s = wr__read_bytes(&d->r, size, &bytes)) != WR_OK)
            return fail(d, s, at, "data segment %u of %u bytes", i, size);
        seg->data_offset = (uint32_t)(bytes - d->r.start);
        seg->size = size;
    }
    return WR_OK;
}

/* A custom section: a name, then bytes we skip.  The first "name" section is kept for later. */
static wr_status decode_custom(decoder *d) {
    char *name;
    uint32_t name_len;
    wr_status s = read_name(d, &name, &name_len, "custom section name");
    if (s != WR_OK)
        return s;
    bool is_name_section = name_len == 4 && memcmp(name, "name", 4) == 0;
    free(name);

    uint32_t at = pos(d);
    if (at > d->sec_end)
        return fail(d, WR_ERR_SECTION_END, at, "custom section name runs past the section's end");
    const uint8_t *payload;
    if ((s = wr__read_bytes(&d->r, d->sec_end - at, &payload)) != WR_OK)
        return fail(d, s, at, "custom section of %zu bytes", d->sec_end - at);
    if (is_name_section && !d->has_names) {
        d->has_names = true;
        d->names_offset = at;
        d->names_len = d->sec_end - at;
    }
    return WR_OK;
}

/* ---- The name section ------------------------------------------------- */

/*
 * Function names (subsection 1) from the "name" custom section.  The name
 * section is only debugging information: if it is malformed in any way we
 * drop every name it gave and accept the module, as the spec asks.  Names
 * of unknown functions, and later names of an already named function, are
 * ignored.
 */
static bool parse_function_names(wr_module *m, wr__reader *r) {
    uint32_t n;
    if (wr__read_u32(r, &n) != WR_OK)
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t index, len;
        const uint8_t *bytes;
        if (wr__read_u32(r, &index) != WR_OK || wr__read_u32(r, &len) != WR_OK)
            return false;
        if (len > WR_MAX_NAME_LEN || wr__read_bytes(r, len, &bytes) != WR_OK || !utf8_valid(bytes, len))
            return false;
        if (index >= m->nfuncs || m->funcs[index].name)
            continue;
        char *name = malloc((size_t)len + 1);
        if (!name)
            return false;
        memcpy(name, bytes, len);
        name[len] = '\0';
        m->funcs[index].name = name;
    }
    return r->p == r->end;
}

static void parse_names(decoder *d) {
    wr_module *m = d->m;
    wr__reader r = { d->r.start, d->r.start + d->names_offset, d->r.start + d->names_offset + d->names_len };
    bool ok = true;
    bool seen_functions = false;

    while (ok && r.p < r.end) {
        uint8_t id;
        uint32_t size;
        const uint8_t *body;
        if (wr__read_u8(&r, &id) != WR_OK || wr__read_u32(&r, &size) != WR_OK ||
            wr__read_bytes(&r, size, &body) != WR_OK) {
            ok = false;
            break;
        }
        if (id == 1 && !seen_functions) {
            wr__reader sub = { r.start, body, body + size };
            seen_functions = true;
            ok = parse_function_names(m, &sub);
        }
    }
    if (!ok) {
        for (uint32_t i = 0; i < m->nfuncs; i++) {
            free(m->funcs[i].name);
            m->funcs[i].name = NULL;
        }
    }
}

/* ---- The module ------------------------------------------------------- */

/*
 * The position of each section id in the required order; custom sections
 * (0) may appear anywhere.  The data count section (12) comes between the
 * element (9) and code (10) sections.
 */
static int section_rank(uint8_t id) {
    static const int8_t rank[13] = {
        [1] = 1, [2] = 2, [3] = 3, [4] = 4, [5] = 5, [6] = 6, [7] = 7,
        [8] = 8, [9] = 9, [12] = 10, [10] = 11, [11] = 12,
    };
    return rank[id];
}

static const char *const section_names[13] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "data count",
};

static wr_status decode_section(decoder *d, uint8_t id) {
    switch (id) {
    case 0:  return decode_custom(d);
    case 1:  return decode_types(d);
    case 2:  return decode_imports(d);
    case 3:  return decode_functions(d);
    case 4:  return decode_tables(d);
    case 5:  return decode_memories(d);
    case 6:  return decode_globals(d);
    case 7:  return decode_exports(d);
    case 8:  return decode_start(d);
    case 9:  return decode_elems(d);
    case 10: return decode_code(d);
    case 11: return decode_datas(d);
    case 12: return decode_datacount(d);
    }
    return fail(d, WR_ERR_SECTION_ID, pos(d), "section id %u", id);
}

static wr_status decode_module(decoder *d) {
    static const uint8_t magic[4] = { 0x00, 'a', 's', 'm' };
    static const uint8_t version[4] = { 0x01, 0x00, 0x00, 0x00 };
    wr_module *m = d->m;
    const uint8_t *bytes;
    wr_status s;

    if ((s = wr__read_bytes(&d->r, 4, &bytes)) != WR_OK)
        return fail(d, s, 0, "%zu bytes, no room for the magic number", d->len);
    if (memcmp(bytes, magic, 4) != 0)
        return fail(d, WR_ERR_MAGIC, 0, "the module does not start with \\0asm");
    if ((s = wr__read_bytes(&d->r, 4, &bytes)) != WR_OK)
        return fail(d, s, 4, "%zu bytes, no room for the version", d->len);
    if (memcmp(bytes, version, 4) != 0)
        return fail(d, WR_ERR_VERSION, 4, "version %02x %02x %02x %02x, expected 01 00 00 00",
                    bytes[0], bytes[1], bytes[2], bytes[3]);

    d->in_sections = true;
    int last_rank = 0;
    while (d->r.p < d->r.end) {
        uint32_t at = pos(d);
        uint8_t id = *d->r.p++;
        if (id > 12)
            return fail(d, WR_ERR_SECTION_ID, at, "section id %u", id);
        if (id != 0) {
            if (section_rank(id) <= last_rank)
                return fail(d, WR_ERR_SECTION_ORDER, at, "%s section out of order or repeated", section_names[id]);
            last_rank = section_rank(id);
        }
        uint32_t size;
        if ((s = read_len(d, &size, d->len, "section size")) != WR_OK)
            return s;
        uint32_t start = pos(d);
        d->sec_end = (size_t)start + size;
        if ((s = decode_section(d, id)) != WR_OK)
            return s;
        if (pos(d) != d->sec_end)
            return fail(d, WR_ERR_SECTION_SIZE, at, "%s section of %u bytes ends after %u",
                        section_names[id], size, pos(d) - start);
    }

    /* The checks that need the whole module, in the reference decoder's order. */
    if (d->nfunc_decls != d->ncode)
        return fail(d, WR_ERR_FUNC_CODE_MISMATCH, pos(d), "%u functions declared, %u bodies",
                    d->nfunc_decls, d->ncode);
    if (m->has_datacount && m->datacount != m->ndatas)
        return fail(d, WR_ERR_DATA_COUNT_MISMATCH, pos(d), "data count %u, %u data segments",
                    m->datacount, m->ndatas);
    /*
     * memory.init and data.drop need a data count section.  We report its
     * absence only when the segment they name exists: tools that translate
     * the text format (wabt's wat2wasm, hence the spec tests' binaries) leave
     * the data count section out of a module without data segments, and
     * such a module is invalid with a more precise reason ("unknown data
     * segment") that the validator gives.
     */
    if (!m->has_datacount && d->uses_data_index && d->min_data_index < m->ndatas)
        return fail(d, WR_ERR_DATA_COUNT_REQUIRED, d->data_instr_offset,
                    "memory.init or data.drop without a data count section");
    if (d->deferred.status != WR_OK) {
        if (d->err)
            *d->err = d->deferred;
        return d->deferred.status;
    }

    if (d->has_names)
        parse_names(d);
    return WR_OK;
}

wr_status wr__decode(wr_module *m, wr_error *err) {
    if (m->len > WR_MAX_MODULE_SIZE)
        return wr__error(err, WR_ERR_TOO_BIG, 0, "%zu bytes, the limit is %u", m->len, WR_MAX_MODULE_SIZE);

    /* An empty module may come without a buffer; give the reader a real pointer. */
    static const uint8_t empty[1];
    const uint8_t *bytes = m->bytes ? m->bytes : empty;
    size_t len = m->bytes ? m->len : 0;

    decoder d;
    memset(&d, 0, sizeof d);
    d.m = m;
    d.err = err;
    d.len = len;
    d.r.start = bytes;
    d.r.p = bytes;
    d.r.end = bytes + len;

    wr_status s = decode_module(&d);
    free(d.blocks);
    if (s == WR_OK)
        wr__error(err, WR_OK, 0, NULL);
    return s;
}
