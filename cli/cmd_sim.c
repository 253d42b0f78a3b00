/*
 * cmd_sim.c - `wasmctl sim`: drive the daemon's simulated hardware (a
 * switch on an input line, what a TMP102 measures, an I2C register), for
 * tests and demonstrations without hardware.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/wasmctl.h"
#include "daemon/proto.h"


/* Devices and operations of sim (the values of WD_F_DEVICE and WD_F_OP). */
#define SIM_GPIO        "gpio"
#define SIM_I2C         "i2c"
#define SIM_SET         "set"
#define SIM_GET         "get"
#define SIM_TEMPERATURE "temperature"

/* 7-bit I2C addresses outside the reserved ones. */
#define I2C_ADDR_MIN 0x03
#define I2C_ADDR_MAX 0x77
/* What a TMP102 can measure, in thousandths of a degree Celsius (as hal/i2c_sim.c checks). */
#define TMP102_MIN_MC (-55000)
#define TMP102_MAX_MC 150000

/* The operations of sim, and the arguments after DEVICE OP that each takes. */
static const struct {
    const char *device, *op;
    int nargs;
    const char *args;          /* for the usage message */
} sim_ops[] = {
    { SIM_GPIO, SIM_SET,         3, "CHIP LINE VALUE" },
    { SIM_GPIO, SIM_GET,         2, "CHIP LINE" },
    { SIM_I2C,  SIM_TEMPERATURE, 3, "BUS ADDR CELSIUS" },
    { SIM_I2C,  SIM_GET,         3, "BUS ADDR REG" },
    { SIM_I2C,  SIM_SET,         4, "BUS ADDR REG VALUE" },
};

/* A number of the command line, decimal or 0x-hex, at most max. */
static bool parse_uint(const char *text, unsigned long long max, unsigned long long *ret) {
    int base = 10;
    if (text[0] == '0' && (text[1] == 'x' || text[1] == 'X')) {
        base = 16;
        text += 2;
    }
    /* strtoull would take a sign or spaces: the first character must be a digit. */
    bool digit = base == 16 ? (text[0] >= '0' && text[0] <= '9') || (text[0] >= 'a' && text[0] <= 'f') ||
                                  (text[0] >= 'A' && text[0] <= 'F')
                            : text[0] >= '0' && text[0] <= '9';
    if (!digit)
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(text, &end, base);
    if (*end != '\0' || errno == ERANGE || v > max)
        return false;
    *ret = v;
    return true;
}

/*
 * Degrees Celsius ("30.5", "-10", "25.0625") to thousandths, rounded to the
 * nearest (halves away from zero); false if not a decimal number or beyond
 * a million degrees.
 */
static bool parse_celsius(const char *text, long *ret) {
    const char *p = text;
    bool negative = *p == '-';
    if (negative)
        p++;
    if (*p < '0' || *p > '9')
        return false;
    long mc = 0;
    for (; *p >= '0' && *p <= '9'; p++) {
        mc = mc * 10 + (*p - '0');
        if (mc > 1000000)
            return false;
    }
    mc *= 1000;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return false;
        static const long scale[] = { 100, 10, 1 };
        for (size_t place = 0; *p >= '0' && *p <= '9'; p++, place++) {
            if (place < 3)
                mc += scale[place] * (*p - '0');
            else if (place == 3 && *p >= '5')
                mc++;                  /* the fourth decimal rounds the third; later ones cannot matter */
        }
    }
    if (*p != '\0')
        return false;
    *ret = negative ? -mc : mc;
    return true;
}

/*
 * Checks `sim DEVICE OP ARGS...` and makes the request's fields (after the
 * verb); returns NULL and EXIT_USAGE (after a message naming the bad
 * argument) for a wrong command line.
 */
static cJSON *sim_parse(cli *c, int *ret_status) {
    const char *device = c->args[0], *op = c->args[1];
    int row = -1;
    bool known_device = false;
    for (size_t i = 0; i < sizeof sim_ops / sizeof sim_ops[0]; i++) {
        if (strcmp(device, sim_ops[i].device) != 0)
            continue;
        known_device = true;
        if (strcmp(op, sim_ops[i].op) == 0)
            row = (int)i;
    }
    if (!known_device) {
        cli_error(c, "sim: unknown device \"%s\" (expected " SIM_GPIO " or " SIM_I2C ")", device);
        return *ret_status = EXIT_USAGE, NULL;
    }
    if (row < 0) {
        cli_error(c, "sim %s: unknown operation \"%s\" (expected %s)", device, op,
                strcmp(device, SIM_GPIO) == 0 ? SIM_SET " or " SIM_GET
                                              : SIM_TEMPERATURE ", " SIM_GET " or " SIM_SET);
        return *ret_status = EXIT_USAGE, NULL;
    }
    int nargs = c->nargs - 2;
    if (nargs < sim_ops[row].nargs) {
        cli_error(c, "sim %s %s needs %s", device, op, sim_ops[row].args);
        return *ret_status = EXIT_USAGE, NULL;
    }
    if (nargs > sim_ops[row].nargs) {
        cli_error(c, "sim %s %s: unexpected argument \"%s\"", device, op,
                c->args[2 + sim_ops[row].nargs]);
        return *ret_status = EXIT_USAGE, NULL;
    }

    /* Each argument with its field, limit and what the message says is expected. */
    const char *const *a = c->args + 2;
    cJSON *f = cJSON_CreateObject();
    if (!f) {
        cli_error(c, "out of memory");
        return *ret_status = EXIT_FAILED, NULL;
    }
    cJSON_AddStringToObject(f, WD_F_DEVICE, device);
    cJSON_AddStringToObject(f, WD_F_OP, op);
    const char *bad = NULL, *what = NULL, *expected = NULL;
    unsigned long long n;
    if (strcmp(device, SIM_GPIO) == 0) {
        if (!a[0][0]) {
            bad = a[0], what = "CHIP", expected = "a chip's name or index";
        } else if (!parse_uint(a[1], UINT32_MAX, &n)) {
            bad = a[1], what = "LINE", expected = "a line offset (decimal or 0x-hex)";
        } else {
            cJSON_AddStringToObject(f, WD_F_CHIP, a[0]);
            cJSON_AddNumberToObject(f, WD_F_GPIO_LINE, (double)n);
            if (strcmp(op, SIM_SET) == 0) {
                if (!parse_uint(a[2], 1, &n))
                    bad = a[2], what = "VALUE", expected = "0 or 1";
                else
                    cJSON_AddNumberToObject(f, WD_F_VALUE, (double)n);
            }
        }
    } else {
        unsigned long long bus, addr;
        if (!parse_uint(a[0], UINT32_MAX, &bus)) {
            bad = a[0], what = "BUS", expected = "a bus number (decimal or 0x-hex)";
        } else if (!parse_uint(a[1], I2C_ADDR_MAX, &addr) || addr < I2C_ADDR_MIN) {
            bad = a[1], what = "ADDR", expected = "a 7-bit address from 0x03 to 0x77";
        } else {
            cJSON_AddNumberToObject(f, WD_F_BUS, (double)bus);
            cJSON_AddNumberToObject(f, WD_F_ADDRESS, (double)addr);
            long mc;
            if (strcmp(op, SIM_TEMPERATURE) == 0) {
                if (!parse_celsius(a[2], &mc) || mc < TMP102_MIN_MC || mc > TMP102_MAX_MC)
                    bad = a[2], what = "CELSIUS", expected = "degrees Celsius from -55 to 150 (30.5, -10...)";
                else
                    cJSON_AddNumberToObject(f, WD_F_MILLICELSIUS, (double)mc);
            } else if (!parse_uint(a[2], 0xff, &n)) {
                bad = a[2], what = "REG", expected = "a register from 0 to 0xff";
            } else {
                cJSON_AddNumberToObject(f, WD_F_REGISTER, (double)n);
                if (strcmp(op, SIM_SET) == 0) {
                    if (!parse_uint(a[3], 0xffff, &n))
                        bad = a[3], what = "VALUE", expected = "a value from 0 to 0xffff";
                    else
                        cJSON_AddNumberToObject(f, WD_F_VALUE, (double)n);
                }
            }
        }
    }
    if (bad) {
        cli_error(c, "sim %s %s: %s \"%s\": expected %s", device, op, what, bad, expected);
        cJSON_Delete(f);
        return *ret_status = EXIT_USAGE, NULL;
    }
    return f;
}


/*
 * A sim response: a GPIO line as "gpiochip0 27: level 1, held as input", a
 * register as "0x6010 (24592)"; nothing when it has neither (temperature).
 */
static void print_sim(const cli *c, const cJSON *r) {
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, WD_F_LEVEL))) {
        const char *chip = cli_json_str(r, WD_F_CHIP)[0] ? cli_json_str(r, WD_F_CHIP) : c->args[2];
        const char *dir = cli_json_str(r, WD_F_DIRECTION);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, WD_F_HELD)))
            printf("%s %.0f: level %.0f, held%s%s\n", chip, cli_json_num(r, WD_F_GPIO_LINE),
                   cli_json_num(r, WD_F_LEVEL), dir[0] ? " as " : "", dir);
        else
            printf("%s %.0f: level %.0f, not held\n", chip, cli_json_num(r, WD_F_GPIO_LINE),
                   cli_json_num(r, WD_F_LEVEL));
    } else if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, WD_F_VALUE))) {
        unsigned value = (unsigned)cli_json_num(r, WD_F_VALUE);
        printf("0x%04x (%u)\n", value, value);
    }
}

int cmd_sim(cli *c) {
    int status = EXIT_OK;
    cJSON *fields = sim_parse(c, &status);
    if (!fields)
        return status;
    cJSON *req = cli_request_new(WD_VERB_SIM);
    const cJSON *field;
    cJSON_ArrayForEach(field, fields)
        cJSON_AddItemToObject(req, field->string, cJSON_Duplicate(field, true));
    cJSON_Delete(fields);
    return cli_simple(c, req, print_sim);
}
