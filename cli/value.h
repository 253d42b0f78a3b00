/*
 * value.h - WebAssembly values as wasmctl reads and prints them.
 *
 * Reading (the arguments of `wasmctl run --invoke`):
 *   i32, i64  decimal, signed or unsigned, or hex with 0x (a sign may come
 *             first): i32 takes -2147483648..4294967295, i64 takes
 *             -9223372036854775808..18446744073709551615; values above the
 *             signed maximum wrap (4294967295 is the i32 -1).
 *   f32, f64  decimal or hex-float ("0x1.8p3") literals as strtod reads
 *             them, rounded once to the type; "inf", "-inf", "nan" (the
 *             canonical quiet NaN), "-nan", "nan:0xPAYLOAD" and
 *             "-nan:0xPAYLOAD" with a non-zero payload that fits the
 *             mantissa.  A finite literal too large for the type is refused.
 *   funcref, externref  only "null".
 *
 * Printing (the results), one value per call:
 *   integers as signed decimal; f32 with %.9g and f64 with %.17g (enough
 *   digits to read back the same bits), except "inf", "-inf", "-0", "nan"
 *   (canonical, positive) and "nan:0xPAYLOAD" / "-nan" / "-nan:0xPAYLOAD";
 *   references as "null" or "ref".
 */
#ifndef CLI_VALUE_H
#define CLI_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "wr.h"

/* Enough for any formatted value with its NUL ("-nan:0xfffffffffffff", 17 significant digits and exponent). */
#define CLI_VALUE_MAX 32

/* Parses `text` as a value of `type`; returns false (leaving *ret alone) when it is not one. */
bool cli_value_parse(wr_valtype type, const char *text, wr_val *ret);

/* Formats `v` into `buf` (CLI_VALUE_MAX bytes are always enough); returns buf. */
const char *cli_value_format(const wr_val *v, char *buf, size_t size);

#endif /* CLI_VALUE_H */
