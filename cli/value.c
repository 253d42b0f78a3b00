/*
 * value.c - reading and printing WebAssembly values for wasmctl (see value.h).
 *
 * Floats travel as bit patterns (wr_val.of.f32_bits / f64_bits) so that
 * NaN payloads and the sign of zero survive both ways.  Uses only types
 * and inline helpers from wr.h, so it links without the engine.
 */
#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/value.h"

/* IEEE 754 binary32 and binary64 fields. */
#define F32_SIGN      UINT32_C(0x80000000)
#define F32_EXP       UINT32_C(0x7f800000)
#define F32_MANT      UINT32_C(0x007fffff)
#define F32_QUIET     UINT32_C(0x00400000)  /* the canonical NaN's payload */
#define F64_SIGN      UINT64_C(0x8000000000000000)
#define F64_EXP       UINT64_C(0x7ff0000000000000)
#define F64_MANT      UINT64_C(0x000fffffffffffff)
#define F64_QUIET     UINT64_C(0x0008000000000000)

/* ---- Integers --------------------------------------------------------- */

/*
 * Reads an optionally signed decimal or 0x-hex integer whose magnitude fits
 * in 64 bits.  Nothing else may follow; no spaces are allowed anywhere.
 */
static bool parse_magnitude(const char *s, bool *ret_neg, uint64_t *ret_mag) {
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    unsigned base = 10;
    if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        base = 16;
        s += 2;
    }
    if (*s == '\0')
        return false;
    uint64_t mag = 0;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && isxdigit((unsigned char)*s))
            d = (unsigned)(tolower((unsigned char)*s) - 'a' + 10);
        else
            return false;
        if (mag > (UINT64_MAX - d) / base)
            return false;
        mag = mag * base + d;
    }
    *ret_neg = neg;
    *ret_mag = mag;
    return true;
}

/*
 * An integer of `bits` bits: negative values down to -2^(bits-1), positive
 * ones up to 2^bits - 1 (the unsigned reading of the same bits).
 */
static bool parse_int(const char *s, unsigned bits, uint64_t *ret_bits) {
    bool neg;
    uint64_t mag;
    if (!parse_magnitude(s, &neg, &mag))
        return false;
    uint64_t umax = bits == 64 ? UINT64_MAX : (UINT64_C(1) << bits) - 1;
    uint64_t neg_limit = UINT64_C(1) << (bits - 1);
    if (neg ? mag > neg_limit : mag > umax)
        return false;
    /* Two's complement: -mag in unsigned arithmetic, then cut to `bits`. */
    *ret_bits = (neg ? (uint64_t)0 - mag : mag) & umax;
    return true;
}

/* ---- Floats ----------------------------------------------------------- */

/* NaN literals: "nan" or "nan:0xPAYLOAD" (the sign was already taken off). */
static bool parse_nan(const char *s, unsigned mant_bits, uint64_t quiet, uint64_t *ret_payload) {
    if (strcmp(s, "nan") == 0) {
        *ret_payload = quiet;
        return true;
    }
    if (strncmp(s, "nan:0x", 6) != 0 && strncmp(s, "nan:0X", 6) != 0)
        return false;
    bool neg;
    uint64_t payload;
    /* parse_magnitude would take another sign: the payload must start with a digit. */
    if (!isxdigit((unsigned char)s[6]) || !parse_magnitude(s + 4, &neg, &payload))
        return false;
    if (payload == 0 || payload >> mant_bits)
        return false;
    *ret_payload = payload;
    return true;
}

/*
 * Splits off the sign (*ret_rest is what follows it).  Returns 1 for an
 * "inf" or "nan..." literal, 0 for an ordinary number to hand to
 * strtof/strtod, -1 for anything else.
 */
static int classify_float(const char *s, bool *ret_neg, const char **ret_rest) {
    bool neg = false;
    if (*s == '+' || *s == '-')
        neg = *s++ == '-';
    *ret_neg = neg;
    *ret_rest = s;
    if (strcmp(s, "inf") == 0 || strncmp(s, "nan", 3) == 0)
        return 1;
    /* strtod also takes "infinity", "nan(...)", spaces and signs: only digits or '.' may start. */
    if (!(isdigit((unsigned char)*s) || (*s == '.' && isdigit((unsigned char)s[1]))))
        return -1;
    return 0;
}

static bool parse_f32(const char *text, uint32_t *ret_bits) {
    bool neg;
    const char *s;
    int kind = classify_float(text, &neg, &s);
    if (kind < 0)
        return false;
    uint32_t sign = neg ? F32_SIGN : 0;
    if (kind == 1) {
        uint64_t payload;
        if (strcmp(s, "inf") == 0) {
            *ret_bits = sign | F32_EXP;
            return true;
        }
        if (!parse_nan(s, 23, F32_QUIET, &payload))
            return false;
        *ret_bits = sign | F32_EXP | (uint32_t)payload;
        return true;
    }
    char *end;
    /* strtof rounds the literal once, straight to binary32 (no double rounding through double). */
    float f = strtof(s, &end);
    if (*end != '\0' || end == s)
        return false;
    if (isinf(f)) /* a finite literal beyond FLT_MAX */
        return false;
    uint32_t bits;
    memcpy(&bits, &f, sizeof bits);
    *ret_bits = sign | bits;
    return true;
}

static bool parse_f64(const char *text, uint64_t *ret_bits) {
    bool neg;
    const char *s;
    int kind = classify_float(text, &neg, &s);
    if (kind < 0)
        return false;
    uint64_t sign = neg ? F64_SIGN : 0;
    if (kind == 1) {
        uint64_t payload;
        if (strcmp(s, "inf") == 0) {
            *ret_bits = sign | F64_EXP;
            return true;
        }
        if (!parse_nan(s, 52, F64_QUIET, &payload))
            return false;
        *ret_bits = sign | F64_EXP | payload;
        return true;
    }
    char *end;
    double d = strtod(s, &end);
    if (*end != '\0' || end == s)
        return false;
    if (isinf(d))
        return false;
    uint64_t bits;
    memcpy(&bits, &d, sizeof bits);
    *ret_bits = sign | bits;
    return true;
}

/* ---- Public ----------------------------------------------------------- */

bool cli_value_parse(wr_valtype type, const char *text, wr_val *ret) {
    uint64_t bits;
    uint32_t bits32;
    switch (type) {
    case WR_I32:
        if (!parse_int(text, 32, &bits))
            return false;
        *ret = wr_val_i32((int32_t)(uint32_t)bits);
        return true;
    case WR_I64:
        if (!parse_int(text, 64, &bits))
            return false;
        *ret = wr_val_i64((int64_t)bits);
        return true;
    case WR_F32:
        if (!parse_f32(text, &bits32))
            return false;
        *ret = wr_val_f32_bits(bits32);
        return true;
    case WR_F64:
        if (!parse_f64(text, &bits))
            return false;
        *ret = wr_val_f64_bits(bits);
        return true;
    case WR_FUNCREF:
    case WR_EXTERNREF:
        if (strcmp(text, "null") != 0)
            return false;
        *ret = wr_val_ref(type, NULL);
        return true;
    }
    return false;
}

/* The text of a NaN or infinity, or NULL for an ordinary number. */
static const char *special_float(bool neg, bool exp_all_ones, uint64_t mant, uint64_t quiet, char *buf,
                                 size_t size) {
    if (!exp_all_ones)
        return NULL;
    if (mant == 0)
        snprintf(buf, size, "%sinf", neg ? "-" : "");
    else if (mant == quiet)
        snprintf(buf, size, "%snan", neg ? "-" : "");
    else
        snprintf(buf, size, "%snan:0x%llx", neg ? "-" : "", (unsigned long long)mant);
    return buf;
}

const char *cli_value_format(const wr_val *v, char *buf, size_t size) {
    switch (v->type) {
    case WR_I32:
        snprintf(buf, size, "%d", (int)v->of.i32);
        return buf;
    case WR_I64:
        snprintf(buf, size, "%lld", (long long)v->of.i64);
        return buf;
    case WR_F32: {
        uint32_t b = v->of.f32_bits;
        if (special_float(b & F32_SIGN, (b & F32_EXP) == F32_EXP, b & F32_MANT, F32_QUIET, buf, size))
            return buf;
        float f;
        memcpy(&f, &b, sizeof f);
        /* %g prints -0 for negative zero already; 9 digits read back to the same float. */
        snprintf(buf, size, "%.9g", (double)f);
        return buf;
    }
    case WR_F64: {
        uint64_t b = v->of.f64_bits;
        if (special_float(b & F64_SIGN, (b & F64_EXP) == F64_EXP, b & F64_MANT, F64_QUIET, buf, size))
            return buf;
        double d;
        memcpy(&d, &b, sizeof d);
        snprintf(buf, size, "%.17g", d);
        return buf;
    }
    case WR_FUNCREF:
    case WR_EXTERNREF:
        snprintf(buf, size, "%s", v->of.ref ? "ref" : "null");
        return buf;
    }
    snprintf(buf, size, "?");
    return buf;
}
