/*
 * test_config.c - the configuration layer (config/): module manifests, the
 * modules directory and the daemon config.
 *
 * Every test writes its YAML into a fresh temporary directory and checks
 * what comes back: the filled struct, or the exact error (kind, line,
 * column and the words of the message that name the key).  A last test
 * reads the man page docs/wasmd.yaml.5 and checks that it documents every
 * key of the schema tables with its bounds and default.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/internal.h"
#include "hal/hal.h"          /* the GPIO and I2C model enums' values */

typedef struct fixture {
    char dir[64];
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    snprintf(f->dir, sizeof f->dir, "/tmp/test_config.XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", f->dir);
    free(f);
    return 0;
}

/* Writes len bytes of text to dir/name and returns the path (static buffer). */
static const char *write_bytes(const fixture *f, const char *name, const char *text, size_t len) {
    static char path[256];
    snprintf(path, sizeof path, "%s/%s", f->dir, name);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
    return path;
}

static const char *write_file(const fixture *f, const char *name, const char *text) {
    return write_bytes(f, name, text, strlen(text));
}

/* ---- One error per case ------------------------------------------------ */

typedef struct error_case {
    const char *what;
    const char *yaml;
    cfg_status status;
    unsigned line, column;
    const char *words;          /* must appear in the message */
} error_case;

static const error_case error_cases[] = {
    { "unknown key", "module: a.wasm\nfoo: 1\n",
      CFG_ERR_UNKNOWN_KEY, 2, 1, "unknown key 'foo' in manifest" },
    { "misspelled key: the nearest is suggested", "module: a.wasm\nrestrt: never\n",
      CFG_ERR_UNKNOWN_KEY, 2, 1, "unknown key 'restrt' in manifest: did you mean 'restart'?" },
    { "far from every key: the known keys are listed", "module: a.wasm\nfrobnicate: 1\n",
      CFG_ERR_UNKNOWN_KEY, 2, 1, "unknown key 'frobnicate' in manifest (known: name, module," },
    { "unknown nested key", "module: a.wasm\nlimits:\n  memory: 3\n",
      CFG_ERR_UNKNOWN_KEY, 3, 3, "unknown key 'limits.memory'" },
    { "unknown key in a dirs entry", "module: a\ndirs:\n  - host: /x\n    ro: true\n",
      CFG_ERR_UNKNOWN_KEY, 4, 5, "unknown key 'dirs[0].ro'" },
    { "list for a string", "module: [a, b]\n",
      CFG_ERR_TYPE, 1, 9, "module: expected a string, got a list" },
    { "null for a string", "module:\n",
      CFG_ERR_TYPE, 1, 8, "module: expected a string, got null" },
    { "mapping for a list", "module: a\nargs: {a: 1}\n",
      CFG_ERR_TYPE, 2, 7, "args: expected a list of strings, got a mapping" },
    { "list inside args", "module: a\nargs:\n  - x\n  - [y]\n",
      CFG_ERR_TYPE, 4, 5, "args[1]: expected a string, got a list" },
    { "string for limits", "module: a\nlimits: big\n",
      CFG_ERR_TYPE, 2, 9, "limits: expected a mapping, got 'big'" },
    { "memory_pages above the maximum", "module: a\nlimits:\n  memory_pages: 65536\n",
      CFG_ERR_RANGE, 3, 17, "limits.memory_pages: 65536 is out of range (expected an integer from 1 to 16384)" },
    { "fuel above the maximum", "module: a\nlimits:\n  fuel_per_slice: 1000000000000\n",
      CFG_ERR_RANGE, 3, 19,
      "limits.fuel_per_slice: 1000000000000 is out of range (expected an integer from 1000 to 10000000)" },
    { "fuel below the minimum", "module: a\nlimits: {fuel_per_slice: 10}\n",
      CFG_ERR_RANGE, 2, 26, "limits.fuel_per_slice: 10 is out of range" },
    { "negative number", "module: a\nstop_timeout_ms: -5\n",
      CFG_ERR_RANGE, 2, 18, "stop_timeout_ms: -5 is out of range" },
    { "number beyond 64 bits", "module: a\ncrash_loop_limit: 99999999999999999999999\n",
      CFG_ERR_RANGE, 2, 19, "crash_loop_limit: 99999999999999999999999 is out of range" },
    { "word for a number", "module: a\ncrash_loop_limit: five\n",
      CFG_ERR_TYPE, 2, 19, "crash_loop_limit: expected an integer from 1 to 1000, got 'five'" },
    { "quoted number", "module: a\ncrash_loop_limit: \"5\"\n",
      CFG_ERR_TYPE, 2, 19, "got the quoted string '5'" },
    { "bad enum spelling", "module: a\nrestart: sometimes\n",
      CFG_ERR_ENUM, 2, 10, "restart: 'sometimes' is not one of never, on-failure, always" },
    { "enum as a list", "module: a\nrestart: [never]\n",
      CFG_ERR_TYPE, 2, 10, "restart: expected one of never, on-failure, always, got a list" },
    { "bad boolean", "module: a\ndirs:\n  - {host: /x, readonly: yes}\n",
      CFG_ERR_TYPE, 3, 26, "dirs[0].readonly: expected true or false, got 'yes'" },
    { "duplicate key", "module: a\nargs: []\nmodule: b\n",
      CFG_ERR_DUP_KEY, 3, 1, "duplicate key 'module' (first at line 1, column 1)" },
    { "duplicate key inside capabilities", "module: a\ncapabilities:\n  gpio: 1\n  gpio: 2\n",
      CFG_ERR_DUP_KEY, 4, 3, "duplicate key 'gpio' (first at line 3, column 3)" },
    { "missing module", "name: x\nargs: []\n",
      CFG_ERR_MISSING_KEY, 1, 1, "missing required key 'module' in manifest" },
    { "missing host in a dirs entry", "module: a\ndirs:\n  - guest: /d\n",
      CFG_ERR_MISSING_KEY, 3, 5, "missing required key 'dirs[0].host'" },
    { "dirs entry not a mapping", "module: a\ndirs: [/x]\n",
      CFG_ERR_TYPE, 2, 8, "dirs[0]: expected a mapping, got '/x'" },
    { "empty guest", "module: a\ndirs: [{host: /x, guest: \"\"}]\n",
      CFG_ERR_RANGE, 2, 26, "dirs[0].guest: expected at least 1 byte" },
    { "empty path", "module: ''\n",
      CFG_ERR_VALUE, 1, 9, "module: expected a path, got an empty string" },
    { "invalid name", "name: Bad_Name\nmodule: a\n",
      CFG_ERR_VALUE, 1, 7, "name: 'Bad_Name' is not a valid module name" },
    { "name starting with a dash", "name: -x\nmodule: a\n",
      CFG_ERR_VALUE, 1, 7, "is not a valid module name" },
    { "env name with '='", "module: a\nenv:\n  A=B: c\n",
      CFG_ERR_VALUE, 3, 3, "env: 'A=B' is not a valid variable name" },
    { "env value a list", "module: a\nenv:\n  A: [1]\n",
      CFG_ERR_TYPE, 3, 6, "env.A: expected a string, got a list" },
    { "env as a list", "module: a\nenv: [A=1]\n",
      CFG_ERR_TYPE, 2, 6, "env: expected a mapping of names to strings, got a list" },
    { "capabilities as a list", "module: a\ncapabilities: [gpio]\n",
      CFG_ERR_TYPE, 2, 15, "capabilities: expected a mapping, got a list" },

    /* Integers: decimal or 0x hexadecimal, nothing else. */
    { "0x alone", "module: a\nstop_timeout_ms: 0x\n",
      CFG_ERR_TYPE, 2, 18, "stop_timeout_ms: expected an integer from 0 to 300000, got '0x'" },
    { "bad hex digit", "module: a\nstop_timeout_ms: 0x1g\n",
      CFG_ERR_TYPE, 2, 18, "stop_timeout_ms: expected an integer from 0 to 300000, got '0x1g'" },
    { "capital 0X", "module: a\nstop_timeout_ms: 0X10\n",
      CFG_ERR_TYPE, 2, 18, "got '0X10'" },
    { "minus one", "module: a\nstop_timeout_ms: -1\n",
      CFG_ERR_RANGE, 2, 18, "stop_timeout_ms: -1 is out of range (expected an integer from 0 to 300000)" },
    { "plus sign", "module: a\nstop_timeout_ms: +5\n",
      CFG_ERR_TYPE, 2, 18, "stop_timeout_ms: expected an integer from 0 to 300000, got '+5'" },
    { "negative hex", "module: a\nstop_timeout_ms: -0x5\n",
      CFG_ERR_TYPE, 2, 18, "got '-0x5'" },
    { "hex beyond 64 bits", "module: a\nstop_timeout_ms: 0x10000000000000000\n",
      CFG_ERR_RANGE, 2, 18, "stop_timeout_ms: 0x10000000000000000 is out of range" },
    { "hex above the maximum", "module: a\nstop_timeout_ms: 0x493E1\n",
      CFG_ERR_RANGE, 2, 18, "stop_timeout_ms: 0x493E1 is out of range" },
    { "float", "module: a\nstop_timeout_ms: 1.5\n",
      CFG_ERR_TYPE, 2, 18, "got '1.5'" },

    /* capabilities: the schema's own checks. */
    { "unknown capability", "module: a\ncapabilities:\n  spi: {}\n",
      CFG_ERR_UNKNOWN_KEY, 3, 3,
      "unknown key 'capabilities.spi' in capabilities (known: gpio, i2c, microphone)" },
    { "gpio as a mapping", "module: a\ncapabilities:\n  gpio: {label: a}\n",
      CFG_ERR_TYPE, 3, 9, "capabilities.gpio: expected a list of mappings, got a mapping" },
    { "unknown key in a gpio entry",
      "module: a\ncapabilities:\n  gpio:\n    - {label: a, chip: c, line: 1, direction: input, pull: up}\n",
      CFG_ERR_UNKNOWN_KEY, 4, 54, "unknown key 'capabilities.gpio[0].pull' in a capabilities.gpio entry" },
    { "gpio entry without direction",
      "module: a\ncapabilities:\n  gpio:\n    - label: a\n      chip: c\n      line: 1\n",
      CFG_ERR_MISSING_KEY, 4, 7, "missing required key 'capabilities.gpio[0].direction'" },
    { "gpio entry without label",
      "module: a\ncapabilities:\n  gpio:\n    - {chip: c, line: 1, direction: input}\n",
      CFG_ERR_MISSING_KEY, 4, 7, "missing required key 'capabilities.gpio[0].label'" },
    { "label with capitals",
      "module: a\ncapabilities:\n  gpio:\n    - {label: Led, chip: c, line: 1, direction: input}\n",
      CFG_ERR_VALUE, 4, 15, "capabilities.gpio[0].label: 'Led' is not a valid label (a-z, 0-9, '_' and '-' only)" },
    { "label with a space",
      "module: a\ncapabilities:\n  gpio:\n    - {label: \"a b\", chip: c, line: 1, direction: input}\n",
      CFG_ERR_VALUE, 4, 15, "'a b' is not a valid label" },
    { "label of 33 bytes",
      "module: a\ncapabilities:\n  gpio:\n    - {label: abcdefghijklmnopqrstuvwxyz0123456, chip: c, line: 1, direction: input}\n",
      CFG_ERR_RANGE, 4, 15, "capabilities.gpio[0].label: longer than 32 bytes" },
    { "empty label",
      "module: a\ncapabilities:\n  gpio:\n    - {label: '', chip: c, line: 1, direction: input}\n",
      CFG_ERR_RANGE, 4, 15, "capabilities.gpio[0].label: expected at least 1 byte" },
    { "direction out",
      "module: a\ncapabilities:\n  gpio:\n    - {label: a, chip: c, line: 1, direction: out}\n",
      CFG_ERR_ENUM, 4, 47, "capabilities.gpio[0].direction: 'out' is not one of input, output" },
    { "bad bias",
      "module: a\ncapabilities:\n  gpio:\n    - {label: a, chip: c, line: 1, direction: input, bias: pullup}\n",
      CFG_ERR_ENUM, 4, 60, "capabilities.gpio[0].bias: 'pullup' is not one of as-is, disable, pull-up, pull-down" },
    { "bad edge",
      "module: a\ncapabilities:\n  gpio:\n    - {label: a, chip: c, line: 1, direction: input, edge: up}\n",
      CFG_ERR_ENUM, 4, 60, "capabilities.gpio[0].edge: 'up' is not one of none, rising, falling, both" },
    { "line 512",
      "module: a\ncapabilities:\n  gpio:\n    - {label: a, chip: c, line: 512, direction: input}\n",
      CFG_ERR_RANGE, 4, 33, "capabilities.gpio[0].line: 512 is out of range (expected an integer from 0 to 511)" },
    { "safe_value 2",
      "module: a\ncapabilities:\n  gpio:\n    - {label: a, chip: c, line: 1, direction: output, safe_value: 2}\n",
      CFG_ERR_RANGE, 4, 67, "capabilities.gpio[0].safe_value: 2 is out of range (expected an integer from 0 to 1)" },
    { "active_low yes",
      "module: a\ncapabilities:\n  gpio:\n    - {label: a, chip: c, line: 1, direction: input, active_low: yes}\n",
      CFG_ERR_TYPE, 4, 66, "capabilities.gpio[0].active_low: expected true or false, got 'yes'" },
    { "address above 0x77",
      "module: a\ncapabilities:\n  i2c:\n    - {bus: 1, addresses: [0x40, 0x78]}\n",
      CFG_ERR_RANGE, 4, 34, "capabilities.i2c[0].addresses[1]: 0x78 is out of range (expected an integer from 3 to 119)" },
    { "address below 0x03",
      "module: a\ncapabilities:\n  i2c:\n    - {bus: 1, addresses: [2]}\n",
      CFG_ERR_RANGE, 4, 28, "capabilities.i2c[0].addresses[0]: 2 is out of range" },
    { "no addresses",
      "module: a\ncapabilities:\n  i2c:\n    - {bus: 1, addresses: []}\n",
      CFG_ERR_RANGE, 4, 27, "capabilities.i2c[0].addresses: expected at least 1 entry" },
    { "null addresses",
      "module: a\ncapabilities:\n  i2c:\n    - {bus: 1, addresses: ~}\n",
      CFG_ERR_RANGE, 4, 27, "capabilities.i2c[0].addresses: expected at least 1 entry" },
    { "address not in a list",
      "module: a\ncapabilities:\n  i2c:\n    - {bus: 1, addresses: 0x48}\n",
      CFG_ERR_TYPE, 4, 27, "capabilities.i2c[0].addresses: expected a list of integers from 3 to 119, got '0x48'" },
    { "quoted address",
      "module: a\ncapabilities:\n  i2c:\n    - {bus: 1, addresses: [\"0x48\"]}\n",
      CFG_ERR_TYPE, 4, 28, "capabilities.i2c[0].addresses[0]: expected an integer from 3 to 119, got the quoted string '0x48'" },
    { "i2c entry without addresses",
      "module: a\ncapabilities:\n  i2c:\n    - bus: 1\n",
      CFG_ERR_MISSING_KEY, 4, 7, "missing required key 'capabilities.i2c[0].addresses'" },
    { "bus 256",
      "module: a\ncapabilities:\n  i2c:\n    - {bus: 256, addresses: [3]}\n",
      CFG_ERR_RANGE, 4, 13, "capabilities.i2c[0].bus: 256 is out of range (expected an integer from 0 to 255)" },
    { "microphone without device", "module: a\ncapabilities:\n  microphone: {rate: 8000}\n",
      CFG_ERR_MISSING_KEY, 3, 15, "missing required key 'capabilities.microphone.device'" },
    { "empty microphone mapping", "module: a\ncapabilities:\n  microphone: {}\n",
      CFG_ERR_MISSING_KEY, 3, 15, "missing required key 'capabilities.microphone.device'" },
    { "microphone as a string", "module: a\ncapabilities:\n  microphone: mic\n",
      CFG_ERR_TYPE, 3, 15, "capabilities.microphone: expected a mapping, got 'mic'" },
    { "unknown microphone key", "module: a\ncapabilities:\n  microphone:\n    device: mic\n    bits: 16\n",
      CFG_ERR_UNKNOWN_KEY, 5, 5, "unknown key 'capabilities.microphone.bits' in capabilities.microphone" },
    { "sample format", "module: a\ncapabilities:\n  microphone: {device: mic, format: S24_LE}\n",
      CFG_ERR_ENUM, 3, 37, "capabilities.microphone.format: 'S24_LE' is not one of S16_LE" },
    { "rate too low", "module: a\ncapabilities:\n  microphone: {device: mic, rate: 7999}\n",
      CFG_ERR_RANGE, 3, 35, "capabilities.microphone.rate: 7999 is out of range (expected an integer from 8000 to 192000)" },
    { "nine channels", "module: a\ncapabilities:\n  microphone: {device: mic, channels: 9}\n",
      CFG_ERR_RANGE, 3, 39, "capabilities.microphone.channels: 9 is out of range (expected an integer from 1 to 8)" },
    { "period too short", "module: a\ncapabilities:\n  microphone: {device: mic, period_frames: 15}\n",
      CFG_ERR_RANGE, 3, 44, "capabilities.microphone.period_frames: 15 is out of range (expected an integer from 16 to 65536)" },
    { "empty device", "module: a\ncapabilities:\n  microphone: {device: ''}\n",
      CFG_ERR_RANGE, 3, 24, "capabilities.microphone.device: expected at least 1 byte" },

    /* capabilities: the checks across entries, at the entry that repeats. */
    { "label granted twice",
      "module: a\n"
      "capabilities:\n"
      "  gpio:\n"
      "    - {label: led, chip: gpiochip0, line: 1, direction: output}\n"
      "    - {label: btn, chip: gpiochip0, line: 2, direction: input}\n"
      "    - {label: led, chip: gpiochip1, line: 1, direction: output}\n",
      CFG_ERR_VALUE, 6, 7, "capabilities.gpio[2].label: 'led' is already granted at line 4" },
    { "line granted twice",
      "module: a\n"
      "capabilities:\n"
      "  gpio:\n"
      "    - label: a\n"
      "      chip: gpiochip0\n"
      "      line: 5\n"
      "      direction: input\n"
      "    - label: b\n"
      "      chip: \"0\"\n"
      "      line: 5\n"
      "      direction: output\n",
      CFG_ERR_VALUE, 8, 7, "capabilities.gpio[1]: line 5 of chip '0' is already granted at line 4 (label 'a')" },
    { "line granted twice through the device path",
      "module: a\n"
      "capabilities:\n"
      "  gpio:\n"
      "    - {label: a, chip: /dev/gpiochip2, line: 0, direction: input}\n"
      "    - {label: b, chip: gpiochip2, line: 0, direction: input}\n",
      CFG_ERR_VALUE, 5, 7, "capabilities.gpio[1]: line 0 of chip 'gpiochip2' is already granted at line 4 (label 'a')" },
    { "edge on an output",
      "module: a\n"
      "capabilities:\n"
      "  gpio:\n"
      "    - {label: in, chip: c, line: 1, direction: input, edge: both}\n"
      "    - label: out\n"
      "      chip: c\n"
      "      line: 2\n"
      "      direction: output\n"
      "      edge: rising\n",
      CFG_ERR_VALUE, 5, 7, "capabilities.gpio[1].edge: edge detection is for inputs only, and 'out' is an output" },
    { "safe value on an input",
      "module: a\n"
      "capabilities:\n"
      "  gpio:\n"
      "    - {label: in, chip: c, line: 1, direction: input, safe_value: 1}\n",
      CFG_ERR_VALUE, 4, 7, "capabilities.gpio[0].safe_value: a safe value is for outputs only, and 'in' is an input" },
    { "bus listed twice",
      "module: a\n"
      "capabilities:\n"
      "  i2c:\n"
      "    - {bus: 1, addresses: [0x48]}\n"
      "    - {bus: 0, addresses: [0x48]}\n"
      "    - {bus: 1, addresses: [0x49]}\n",
      CFG_ERR_VALUE, 6, 7, "capabilities.i2c[2].bus: bus 1 is already listed at line 4 (one entry per bus)" },
    { "address listed twice",
      "module: a\n"
      "capabilities:\n"
      "  i2c:\n"
      "    - bus: 1\n"
      "      addresses: [0x48, 0x49, 72]\n",
      CFG_ERR_VALUE, 5, 31, "capabilities.i2c[0].addresses[2]: address 0x48 is listed twice" },
    { "empty file", "",
      CFG_ERR_EMPTY, 1, 1, "empty file" },
    { "only comments", "# nothing here\n\n",
      CFG_ERR_EMPTY, 1, 1, "empty file" },
    { "empty document", "---\n",
      CFG_ERR_EMPTY, 2, 1, "empty document" },
    { "top level a list", "- module: a\n",
      CFG_ERR_TYPE, 1, 1, "the top level must be a mapping of keys, not a list" },
    { "top level a string", "hello\n",
      CFG_ERR_TYPE, 1, 1, "the top level must be a mapping of keys, not a string" },
    { "two documents", "module: a\n---\nmodule: b\n",
      CFG_ERR_MULTI_DOC, 2, 1, "a second YAML document" },
    { "unclosed flow list", "module: a\nargs: [a, b\n",
      CFG_ERR_SYNTAX, 3, 1, "syntax error: did not find expected ',' or ']'" },
    { "bad indentation", "module: a\n  bad: indent\n",
      CFG_ERR_SYNTAX, 2, 6, "syntax error: mapping values are not allowed in this context" },
    { "tab indentation", "limits:\n\tmemory_pages: 1\n",
      CFG_ERR_SYNTAX, 2, 1, "syntax error: found character that cannot start any token" },
    { "invalid UTF-8", "module: a\nname: \xff\n",
      CFG_ERR_SYNTAX, 2, 7, "syntax error: invalid leading UTF-8 octet" },
    { "alias", "module: &m a\nname: *m\n",
      CFG_ERR_UNSUPPORTED, 2, 7, "aliases (*m) are not supported" },
    { "NUL in a string", "module: \"a\\0b\"\n",
      CFG_ERR_VALUE, 1, 9, "string contains a NUL character" },
    { "list as a key", "? [a]\n: b\n",
      CFG_ERR_TYPE, 1, 3, "mapping keys must be strings" },
};

static bool error_matches(const cfg_error *err, const error_case *c, const char *path) {
    char buf[600];
    cfg_error_format(err, buf, sizeof buf);
    if (err->status != c->status || err->line != c->line || err->column != c->column ||
        !strstr(err->message, c->words) || strcmp(err->file, path) != 0) {
        print_error("case '%s':\n  got      %s (%s)\n  expected %u:%u: ...%s... (%s)\n", c->what,
                    buf, cfg_status_name(err->status), c->line, c->column, c->words,
                    cfg_status_name(c->status));
        return false;
    }
    return true;
}

static void check_error(const cfg_error *err, const error_case *c, const char *path) {
    if (!error_matches(err, c, path))
        fail();
}

static void test_manifest_errors(void **state) {
    fixture *f = *state;
    unsigned failed = 0;
    /* Every case is tried and reported before the test fails. */
    for (size_t i = 0; i < sizeof error_cases / sizeof error_cases[0]; i++) {
        const error_case *c = &error_cases[i];
        const char *path = write_file(f, "case.yaml", c->yaml);
        cfg_error err;
        memset(&err, 0, sizeof err);
        cfg_manifest *m = cfg_manifest_load(path, &err);
        if (m) {
            print_error("case '%s': loaded, expected an error\n", c->what);
            cfg_manifest_free(m);
            failed++;
        } else if (!error_matches(&err, c, path)) {
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* A YAML text built at run time, for the cases that need big inputs. */
static char *repeat(const char *head, const char *item, size_t n, const char *tail) {
    size_t len = strlen(head) + strlen(item) * n + strlen(tail) + 1;
    char *s = malloc(len), *p = s;
    assert_non_null(s);
    p = stpcpy(p, head);
    for (size_t i = 0; i < n; i++)
        p = stpcpy(p, item);
    stpcpy(p, tail);
    return s;
}

static void expect_error_text(fixture *f, const char *what, const char *yaml, cfg_status status,
                              unsigned line, unsigned column, const char *words) {
    error_case c = { what, yaml, status, line, column, words };
    const char *path = write_file(f, "big.yaml", yaml);
    cfg_error err;
    assert_null(cfg_manifest_load(path, &err));
    check_error(&err, &c, path);
}

static void test_manifest_limits(void **state) {
    fixture *f = *state;

    /* 257 arguments: one more than CFG_MAX_ARGS. */
    char *yaml = repeat("module: a\nargs:\n", "  - x\n", CFG_MAX_ARGS + 1, "");
    expect_error_text(f, "too many args", yaml, CFG_ERR_LIMIT, 3, 3, "args: more than 256 entries");
    free(yaml);

    /* A list longer than any list may be: the parser refuses it before the schema
     * (whose limit for args is lower) sees it. */
    yaml = repeat("module: a\nargs: [", "1,", CFG_MAX_ITEMS + 1, "1]\n");
    expect_error_text(f, "list too long", yaml, CFG_ERR_LIMIT, 2, 8 + 2 * CFG_MAX_ITEMS,
                      "more than 1024 entries in one list");
    free(yaml);

    /* The same inside capabilities, under a key the schema does not know: the
     * parser's limits apply to the whole file first. */
    yaml = repeat("module: a\ncapabilities:\n  pins: [", "1,", CFG_MAX_ITEMS + 1, "1]\n");
    expect_error_text(f, "list too long in capabilities", yaml, CFG_ERR_LIMIT, 3,
                      10 + 2 * CFG_MAX_ITEMS, "more than 1024 entries in one list");
    free(yaml);

    /* Nesting deeper than CFG_MAX_DEPTH: the top mapping is level 1, the first '['
     * of args (column 7) level 2, so the 32nd '[' (column 7 + 31) would be level 33. */
    yaml = repeat("module: a\nargs: ", "[", CFG_MAX_DEPTH + 1, "\n");
    expect_error_text(f, "too deep", yaml, CFG_ERR_LIMIT, 2, 7 + CFG_MAX_DEPTH - 1,
                      "nested deeper than 32 levels");
    free(yaml);

    /* The same through capabilities (level 2) and a gpio entry's label (level 3). */
    yaml = repeat("module: a\ncapabilities:\n  gpio:\n    - label: ", "[", CFG_MAX_DEPTH + 1, "\n");
    expect_error_text(f, "too deep in capabilities", yaml, CFG_ERR_LIMIT, 4, 14 + CFG_MAX_DEPTH - 4,
                      "nested deeper than 32 levels");
    free(yaml);

    /* More grants than the schema allows. */
    yaml = repeat("module: a\ncapabilities:\n  gpio:\n",
                  "    - {label: x, chip: c, line: 1, direction: input}\n", CFG_MAX_GPIO_GRANTS + 1, "");
    expect_error_text(f, "too many gpio grants", yaml, CFG_ERR_LIMIT, 4, 5,
                      "capabilities.gpio: more than 64 entries");
    free(yaml);
    yaml = repeat("module: a\ncapabilities:\n  i2c:\n", "    - {bus: 1, addresses: [3]}\n",
                  CFG_MAX_I2C_GRANTS + 1, "");
    expect_error_text(f, "too many i2c grants", yaml, CFG_ERR_LIMIT, 4, 5,
                      "capabilities.i2c: more than 16 entries");
    free(yaml);
    yaml = repeat("module: a\ncapabilities:\n  i2c:\n    - bus: 1\n      addresses: [", "3, ",
                  CFG_MAX_I2C_ADDRS, "3]\n");
    expect_error_text(f, "too many addresses", yaml, CFG_ERR_LIMIT, 5, 18,
                      "capabilities.i2c[0].addresses: more than 112 entries");
    free(yaml);

    /* A scalar longer than CFG_MAX_STRING. */
    yaml = repeat("module: ", "x", CFG_MAX_STRING + 1, "\n");
    expect_error_text(f, "long string", yaml, CFG_ERR_LIMIT, 1, 9, "string longer than 4096 bytes");
    free(yaml);

    /* More values than CFG_MAX_NODES, in lists each short enough. */
    yaml = repeat("module: a\nargs:\n", "  - [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]\n",
                  CFG_MAX_ITEMS, "");
    const char *path = write_file(f, "big.yaml", yaml);
    cfg_error err;
    assert_null(cfg_manifest_load(path, &err));
    assert_int_equal(err.status, CFG_ERR_LIMIT);
    assert_non_null(strstr(err.message, "more than 20000 values in one file"));
    free(yaml);

    /* A file over CFG_MAX_FILE_SIZE is refused before it is parsed. */
    size_t len = CFG_MAX_FILE_SIZE + 1;
    char *big = malloc(len);
    assert_non_null(big);
    memset(big, '#', len);
    path = write_bytes(f, "huge.yaml", big, len);
    free(big);
    assert_null(cfg_manifest_load(path, &err));
    assert_int_equal(err.status, CFG_ERR_TOO_BIG);
    assert_int_equal(err.line, 0);
    char buf[600];
    assert_non_null(strstr(cfg_error_format(&err, buf, sizeof buf), "huge.yaml: larger than 1048576 bytes"));

    /* A name that comes from an invalid file name. */
    path = write_file(f, "Hello World.yaml", "module: a\n");
    assert_null(cfg_manifest_load(path, &err));
    assert_int_equal(err.status, CFG_ERR_VALUE);
    assert_int_equal(err.line, 1);
    assert_int_equal(err.column, 1);
    assert_non_null(strstr(err.message, "the file name gives the module name 'Hello World'"));

    /* A missing file. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/nothere.yaml", f->dir);
    assert_null(cfg_manifest_load(missing, &err));
    assert_int_equal(err.status, CFG_ERR_IO);
    assert_int_equal(err.line, 0);
    assert_string_equal(err.file, missing);
    assert_non_null(strstr(err.message, "No such file"));
}

/* ---- Good manifests ---------------------------------------------------- */

static void check_no_capabilities(const cfg_manifest *m) {
    assert_int_equal(m->ngpio, 0);
    assert_null(m->gpio);
    assert_int_equal(m->ni2c, 0);
    assert_null(m->i2c);
    assert_null(m->mic.device);
    /* The microphone's other keys hold their defaults even when none is granted. */
    assert_int_equal(m->mic.rate, 16000);
    assert_int_equal(m->mic.channels, 1);
    assert_int_equal(m->mic.format, CFG_SAMPLE_S16_LE);
    assert_int_equal(m->mic.period_frames, 320);
    assert_int_equal(m->mic.pos.line, 0);
}

static void test_manifest_defaults(void **state) {
    fixture *f = *state;
    const char *path = write_file(f, "hello.yaml", "module: hello.wasm\n");
    cfg_error err;
    cfg_manifest *m = cfg_manifest_load(path, &err);
    assert_non_null(m);

    char expect[256];
    snprintf(expect, sizeof expect, "%s/hello.wasm", f->dir);
    assert_string_equal(m->path, path);
    assert_string_equal(m->name, "hello");
    assert_string_equal(m->module, expect);
    assert_int_equal(m->nargs, 0);
    assert_null(m->args);
    assert_int_equal(m->nenv, 0);
    assert_int_equal(m->ndirs, 0);
    assert_int_equal(m->memory_pages, 0);
    assert_int_equal(m->fuel_per_slice, 0);
    assert_int_equal(m->stack_slots, 0);
    assert_int_equal(m->call_depth, 0);
    assert_int_equal(m->restart, CFG_RESTART_ON_FAILURE);
    assert_int_equal(m->restart_backoff_ms, 100);
    assert_int_equal(m->crash_loop_limit, 5);
    assert_int_equal(m->crash_loop_window_s, 60);
    assert_int_equal(m->stop_timeout_ms, 2000);
    check_no_capabilities(m);
    cfg_manifest_free(m);

    /* Null values for collections mean empty: keys left with everything commented out. */
    path = write_file(f, "nulls.yaml", "module: /abs/x.wasm\nargs:\nenv: ~\ndirs:\nlimits:\ncapabilities:\n");
    m = cfg_manifest_load(path, &err);
    assert_non_null(m);
    assert_string_equal(m->module, "/abs/x.wasm");
    assert_int_equal(m->nargs + m->nenv + m->ndirs, 0);
    check_no_capabilities(m);
    cfg_manifest_free(m);

    /* So do empty collections and empty grants under capabilities. */
    static const char *const empty[] = {
        "module: a\ncapabilities: {}\n",
        "module: a\ncapabilities: ~\n",
        "module: a\ncapabilities:\n  gpio: []\n  i2c:\n  microphone: ~\n",
        "module: a\ncapabilities:\n  gpio: ~\n  i2c: []\n",
    };
    for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
        m = cfg_manifest_load(write_file(f, "empty.yaml", empty[i]), &err);
        char buf[600];
        if (!m)
            fail_msg("'%s': %s", empty[i], cfg_error_format(&err, buf, sizeof buf));
        check_no_capabilities(m);
        cfg_manifest_free(m);
    }
}

/* Integers in decimal (leading zeros included: not octal) and 0x hexadecimal. */
static void test_manifest_numbers(void **state) {
    fixture *f = *state;
    cfg_error err;
    char buf[600];
    cfg_manifest *m = cfg_manifest_load(write_file(f, "n.yaml",
                                                   "module: a\n"
                                                   "stop_timeout_ms: 0x10\n"
                                                   "crash_loop_limit: 010\n"
                                                   "restart_backoff_ms: 0xFf\n"
                                                   "crash_loop_window_s: 0x0000000000000000000001\n"
                                                   "limits:\n"
                                                   "  fuel_per_slice: 0x989680\n"
                                                   "  memory_pages: 00000000000000000000016384\n"),
                                        &err);
    if (!m)
        fail_msg("%s", cfg_error_format(&err, buf, sizeof buf));
    assert_int_equal(m->stop_timeout_ms, 16);
    assert_int_equal(m->crash_loop_limit, 10);
    assert_int_equal(m->restart_backoff_ms, 255);
    assert_int_equal(m->crash_loop_window_s, 1);
    assert_true(m->fuel_per_slice == UINT64_C(10000000));
    assert_int_equal(m->memory_pages, 16384);
    cfg_manifest_free(m);

    /* 0 and 0x0 are zero. */
    m = cfg_manifest_load(write_file(f, "n.yaml", "module: a\nstop_timeout_ms: 0x0\n"), &err);
    assert_non_null(m);
    assert_int_equal(m->stop_timeout_ms, 0);
    cfg_manifest_free(m);
    m = cfg_manifest_load(write_file(f, "n.yaml", "module: a\nstop_timeout_ms: 0\n"), &err);
    assert_non_null(m);
    assert_int_equal(m->stop_timeout_ms, 0);
    cfg_manifest_free(m);
}

static const char full_manifest[] =
    "# every key\n"
    "name: blinky-2\n"
    "module: ../mods/blinky.wasm\n"
    "args: [--fast, \"two words\", 3]\n"
    "env:\n"
    "  RUST_LOG: debug\n"
    "  PORT: 8080\n"
    "  EMPTY: \"\"\n"
    "dirs:\n"
    "  - host: data\n"
    "    guest: /data\n"
    "    readonly: true\n"
    "  - host: /var/lib/blinky\n"
    "limits:\n"
    "  memory_pages: 16384\n"
    "  fuel_per_slice: 10000000\n"
    "  stack_slots: 1024\n"
    "  call_depth: 16\n"
    "restart: always\n"
    "restart_backoff_ms: 250\n"
    "crash_loop_limit: 3\n"
    "crash_loop_window_s: 10\n"
    "stop_timeout_ms: 0\n"
    "capabilities:\n"                                    /* line 24 */
    "  gpio:\n"
    "    - label: button\n"
    "      chip: gpiochip0\n"
    "      line: 27\n"
    "      direction: input\n"
    "      bias: pull-up\n"
    "      edge: both\n"
    "      active_low: true\n"
    "    - {label: led, chip: \"0\", line: 17, direction: output, safe_value: 1}\n" /* line 33 */
    "  i2c:\n"
    "    - bus: 1\n"
    "      addresses: [0x48, 0x4A, 64]\n"
    "      read_only: true\n"
    "    - {bus: 0, addresses: [0x03, 0x77]}\n"
    "  microphone:\n"                                    /* line 39 */
    "    device: mic\n"
    "    rate: 48000\n"
    "    channels: 2\n"
    "    format: S16_LE\n"
    "    period_frames: 480\n";

static void test_manifest_full(void **state) {
    fixture *f = *state;
    const char *path = write_file(f, "blinky.yaml", full_manifest);
    cfg_error err;
    cfg_manifest *m = cfg_manifest_load(path, &err);
    char buf[600];
    if (!m)
        fail_msg("%s", cfg_error_format(&err, buf, sizeof buf));

    char expect[256];
    assert_string_equal(m->name, "blinky-2");
    snprintf(expect, sizeof expect, "/tmp/mods/blinky.wasm"); /* f->dir/../mods, normalised */
    assert_string_equal(m->module, expect);
    assert_int_equal(m->nargs, 3);
    assert_string_equal(m->args[0], "--fast");
    assert_string_equal(m->args[1], "two words");
    assert_string_equal(m->args[2], "3");
    assert_int_equal(m->nenv, 3);
    assert_string_equal(m->env[0].name, "RUST_LOG");
    assert_string_equal(m->env[0].value, "debug");
    assert_string_equal(m->env[1].name, "PORT");
    assert_string_equal(m->env[1].value, "8080");
    assert_string_equal(m->env[2].value, "");
    assert_int_equal(m->ndirs, 2);
    snprintf(expect, sizeof expect, "%s/data", f->dir);
    assert_string_equal(m->dirs[0].host, expect);
    assert_string_equal(m->dirs[0].guest, "/data");
    assert_true(m->dirs[0].readonly);
    assert_string_equal(m->dirs[1].host, "/var/lib/blinky");
    assert_string_equal(m->dirs[1].guest, "/var/lib/blinky");
    assert_false(m->dirs[1].readonly);
    assert_int_equal(m->memory_pages, 16384);
    assert_true(m->fuel_per_slice == UINT64_C(10000000));
    assert_int_equal(m->stack_slots, 1024);
    assert_int_equal(m->call_depth, 16);
    assert_int_equal(m->restart, CFG_RESTART_ALWAYS);
    assert_int_equal(m->restart_backoff_ms, 250);
    assert_int_equal(m->crash_loop_limit, 3);
    assert_int_equal(m->crash_loop_window_s, 10);
    assert_int_equal(m->stop_timeout_ms, 0);

    /* capabilities, with the position of each entry for later messages. */
    assert_int_equal(m->ngpio, 2);
    const cfg_gpio_grant *g = &m->gpio[0];
    assert_string_equal(g->label, "button");
    assert_string_equal(g->chip, "gpiochip0");
    assert_int_equal(g->line, 27);
    assert_int_equal(g->direction, HAL_GPIO_INPUT);
    assert_int_equal(g->bias, HAL_GPIO_BIAS_PULL_UP);
    assert_int_equal(g->edge, HAL_GPIO_EDGE_BOTH);
    assert_true(g->active_low);
    assert_int_equal(g->safe_value, 0);
    assert_int_equal(g->pos.line, 26);
    assert_int_equal(g->pos.column, 7);
    g = &m->gpio[1];
    assert_string_equal(g->label, "led");
    assert_string_equal(g->chip, "0");
    assert_int_equal(g->line, 17);
    assert_int_equal(g->direction, HAL_GPIO_OUTPUT);
    assert_int_equal(g->bias, HAL_GPIO_BIAS_AS_IS);
    assert_int_equal(g->edge, HAL_GPIO_EDGE_NONE);
    assert_false(g->active_low);
    assert_int_equal(g->safe_value, 1);
    assert_int_equal(g->pos.line, 33);
    assert_int_equal(g->pos.column, 7);

    assert_int_equal(m->ni2c, 2);
    const cfg_i2c_grant *i2c = &m->i2c[0];
    assert_int_equal(i2c->bus, 1);
    assert_int_equal(i2c->naddresses, 3);
    assert_int_equal(i2c->addresses[0], 0x48);
    assert_int_equal(i2c->addresses[1], 0x4a);
    assert_int_equal(i2c->addresses[2], 64);
    assert_true(i2c->read_only);
    assert_int_equal(i2c->pos.line, 35);
    assert_int_equal(i2c->pos.column, 7);
    i2c = &m->i2c[1];
    assert_int_equal(i2c->bus, 0);
    assert_int_equal(i2c->naddresses, 2);
    assert_int_equal(i2c->addresses[0], 3);
    assert_int_equal(i2c->addresses[1], 0x77);
    assert_false(i2c->read_only);
    assert_int_equal(i2c->pos.line, 38);
    assert_int_equal(i2c->pos.column, 7);

    assert_string_equal(m->mic.device, "mic");
    assert_int_equal(m->mic.rate, 48000);
    assert_int_equal(m->mic.channels, 2);
    assert_int_equal(m->mic.format, CFG_SAMPLE_S16_LE);
    assert_int_equal(m->mic.period_frames, 480);
    assert_int_equal(m->mic.pos.line, 39);
    assert_int_equal(m->mic.pos.column, 3);
    cfg_manifest_free(m);

    /* The defaults of each grant. */
    path = write_file(f, "defaults.yaml",
                      "module: a\n"
                      "capabilities:\n"
                      "  gpio: [{label: out_1, chip: /dev/gpiochip0, line: 511, direction: output}]\n"
                      "  i2c: [{bus: 255, addresses: [0x50]}]\n"
                      "  microphone: {device: \"hw:1,0\"}\n");
    m = cfg_manifest_load(path, &err);
    if (!m)
        fail_msg("%s", cfg_error_format(&err, buf, sizeof buf));
    assert_int_equal(m->ngpio, 1);
    assert_string_equal(m->gpio[0].label, "out_1");
    assert_string_equal(m->gpio[0].chip, "/dev/gpiochip0");
    assert_int_equal(m->gpio[0].line, 511);
    assert_int_equal(m->gpio[0].direction, HAL_GPIO_OUTPUT);
    assert_int_equal(m->gpio[0].bias, HAL_GPIO_BIAS_AS_IS);
    assert_int_equal(m->gpio[0].edge, HAL_GPIO_EDGE_NONE);
    assert_false(m->gpio[0].active_low);
    assert_int_equal(m->gpio[0].safe_value, 0);
    assert_int_equal(m->gpio[0].pos.line, 3);
    assert_int_equal(m->gpio[0].pos.column, 10);
    assert_int_equal(m->ni2c, 1);
    assert_int_equal(m->i2c[0].bus, 255);
    assert_int_equal(m->i2c[0].naddresses, 1);
    assert_int_equal(m->i2c[0].addresses[0], 0x50);
    assert_false(m->i2c[0].read_only);
    assert_string_equal(m->mic.device, "hw:1,0");
    assert_int_equal(m->mic.rate, 16000);
    assert_int_equal(m->mic.channels, 1);
    assert_int_equal(m->mic.format, CFG_SAMPLE_S16_LE);
    assert_int_equal(m->mic.period_frames, 320);
    assert_int_equal(m->mic.pos.line, 5);
    assert_int_equal(m->mic.pos.column, 3);
    cfg_manifest_free(m);
}

static void test_manifest_equal(void **state) {
    fixture *f = *state;
    cfg_error err;
    char *p1 = strdup(write_file(f, "one.yaml", full_manifest));
    char *p2 = strdup(write_file(f, "two.yaml", full_manifest));
    cfg_manifest *a = cfg_manifest_load(p1, &err);
    cfg_manifest *b = cfg_manifest_load(p2, &err);
    assert_non_null(a);
    assert_non_null(b);
    assert_true(cfg_manifest_equal(a, b));        /* the path differs, which does not count */
    cfg_manifest_free(b);

    /* Each kind of field makes a difference: a scalar, a list, a capability. */
    static const struct {
        const char *from, *to;
    } edits[] = {
        { "crash_loop_limit: 3", "crash_loop_limit: 4" },
        { "\"two words\"", "\"two  words\"" },
        { "line: 17", "line: 18" },
        { "label: led", "label: led2" },
        { "chip: gpiochip0", "chip: gpiochip1" },
        { "direction: output, safe_value: 1", "direction: input" },
        { "pull-up", "pull-down" },
        { "edge: both", "edge: rising" },
        { "active_low: true", "active_low: false" },
        { "safe_value: 1", "safe_value: 0" },
        { "bus: 1", "bus: 2" },
        { "0x4A", "0x4B" },
        { ", 64]", "]" },
        { "read_only: true", "read_only: false" },
        { "  microphone:\n    device: mic\n", "  microphone:\n    device: mic2\n" },
        { "rate: 48000", "rate: 44100" },
        { "channels: 2", "channels: 1" },
        { "period_frames: 480", "period_frames: 320" },
        { "readonly: true", "readonly: false" },
        { "PORT: 8080", "PORT: 8081" },
        { "restart: always", "restart: never" },
        { "fuel_per_slice: 10000000", "fuel_per_slice: 9999999" },
    };
    for (size_t i = 0; i < sizeof edits / sizeof edits[0]; i++) {
        char text[sizeof full_manifest + 16];
        const char *at = strstr(full_manifest, edits[i].from);
        assert_non_null(at);
        snprintf(text, sizeof text, "%.*s%s%s", (int)(at - full_manifest), full_manifest,
                 edits[i].to, at + strlen(edits[i].from));
        b = cfg_manifest_load(write_file(f, "two.yaml", text), &err);
        char buf[600];
        if (!b)
            fail_msg("edit '%s': %s", edits[i].to, cfg_error_format(&err, buf, sizeof buf));
        if (cfg_manifest_equal(a, b))
            fail_msg("edit '%s' not noticed", edits[i].to);
        cfg_manifest_free(b);
    }

    /* Positions do not count: the same manifest, moved down by comments. */
    char text[sizeof full_manifest + 64];
    snprintf(text, sizeof text, "# moved\n\n#down\n%s", full_manifest);
    b = cfg_manifest_load(write_file(f, "two.yaml", text), &err);
    assert_non_null(b);
    assert_int_not_equal(a->gpio[0].pos.line, b->gpio[0].pos.line);
    assert_true(cfg_manifest_equal(a, b));
    cfg_manifest_free(b);

    /* Nor does a microphone's position, nor spelling a number in hex. */
    const char *one = write_file(f, "one.yaml", "name: x\nmodule: a\ncapabilities: {microphone: {device: m, rate: 16000}}\n");
    cfg_manifest *c = cfg_manifest_load(one, &err);
    assert_non_null(c);
    b = cfg_manifest_load(write_file(f, "two.yaml", "name: x\nmodule: a\ncapabilities:\n  microphone:\n    device: m\n    rate: 0x3E80\n"), &err);
    assert_non_null(b);
    assert_true(cfg_manifest_equal(c, b));
    cfg_manifest_free(b);

    /* A microphone granted or not, with the same defaults otherwise. */
    b = cfg_manifest_load(write_file(f, "two.yaml", "name: x\nmodule: a\n"), &err);
    assert_non_null(b);
    assert_false(cfg_manifest_equal(c, b));
    cfg_manifest_free(b);
    cfg_manifest_free(c);

    cfg_manifest_free(a);
    free(p1);
    free(p2);
}

/* ---- The modules directory --------------------------------------------- */

static void test_dir_load(void **state) {
    fixture *f = *state;
    write_file(f, "a-first.yaml", "name: web\nmodule: web.wasm\n");
    write_file(f, "b-bad.yaml", "module: b.wasm\nlimits:\n  call_depth: 1\n");
    write_file(f, "c-dup.yaml", "# same name\nmodule: c.wasm\nname:  web\n");
    write_file(f, "d-good.yaml", "module: d.wasm\n");
    write_file(f, "e.yml", "not: read\n");              /* wrong suffix: ignored */
    write_file(f, ".f-tmp.yaml", "half a fi");          /* hidden: a deploy in progress */
    char sub[128];
    snprintf(sub, sizeof sub, "%s/g-dir.yaml", f->dir);
    assert_int_equal(mkdir(sub, 0700), 0);

    cfg_manifest_set set;
    assert_int_equal(cfg_manifest_dir_load(f->dir, &set), 0);
    assert_int_equal(set.count, 2);
    assert_string_equal(set.items[0]->name, "web");
    assert_string_equal(set.items[1]->name, "d-good");

    assert_int_equal(set.nerrors, 3);
    char a_path[128], b_path[128], c_path[128];
    snprintf(a_path, sizeof a_path, "%s/a-first.yaml", f->dir);
    snprintf(b_path, sizeof b_path, "%s/b-bad.yaml", f->dir);
    snprintf(c_path, sizeof c_path, "%s/c-dup.yaml", f->dir);

    const error_case bad = { "b", "", CFG_ERR_RANGE, 3, 15,
                             "limits.call_depth: 1 is out of range (expected an integer from 16 to 100000)" };
    check_error(&set.errors[0], &bad, b_path);

    char words[256];
    snprintf(words, sizeof words, "duplicate module name 'web' (already used by %s:1:7)", a_path);
    const error_case dup = { "c", "", CFG_ERR_DUP_NAME, 3, 8, words };
    check_error(&set.errors[1], &dup, c_path);

    assert_int_equal(set.errors[2].status, CFG_ERR_IO);
    assert_int_equal(set.errors[2].line, 0);
    assert_non_null(strstr(set.errors[2].message, "not a regular file"));
    cfg_manifest_set_clear(&set);
    assert_int_equal(set.count, 0);
    cfg_manifest_set_clear(NULL);

    /* A name given by the file name collides too, reported at 1:1. */
    write_file(f, "z.yaml", "module: z.wasm\n");
    write_file(f, "zz.yaml", "name: z\nmodule: zz.wasm\n");
    write_file(f, "zzz.yaml", "module: zzz.wasm\nname: zz\n");  /* free again: zz was refused */
    rmdir(sub);
    assert_int_equal(cfg_manifest_dir_load(f->dir, &set), 0);
    assert_int_equal(set.count, 4);             /* web, d-good, z, zz (from zzz.yaml) */
    assert_string_equal(set.items[3]->name, "zz");
    assert_int_equal(set.nerrors, 3);           /* b-bad, c-dup, zz */
    assert_int_equal(set.errors[2].status, CFG_ERR_DUP_NAME);
    assert_int_equal(set.errors[2].line, 1);
    assert_int_equal(set.errors[2].column, 7);
    assert_non_null(strstr(set.errors[2].message, "z.yaml:1:1)"));
    cfg_manifest_set_clear(&set);

    char missing[128];
    snprintf(missing, sizeof missing, "%s/nothere", f->dir);
    assert_int_equal(cfg_manifest_dir_load(missing, &set), -ENOENT);
}

static void test_dir_empty(void **state) {
    fixture *f = *state;
    cfg_manifest_set set;
    assert_int_equal(cfg_manifest_dir_load(f->dir, &set), 0);
    assert_int_equal(set.count, 0);
    assert_int_equal(set.nerrors, 0);
    cfg_manifest_set_clear(&set);
}

/* ---- The daemon config ------------------------------------------------- */

static void check_daemon_defaults(const cfg_daemon *d) {
    assert_string_equal(d->modules_dir, CFG_DEFAULT_MODULES_DIR);
    assert_string_equal(d->socket_path, CFG_DEFAULT_SOCKET_PATH);
    assert_null(d->socket_group);
    assert_int_equal(d->log_lines, 1000);
    assert_int_equal(d->client_idle_timeout_ms, 60000);
    assert_int_equal(d->fuel_per_slice, 100000);
    assert_int_equal(d->memory_pages, 256);
    assert_int_equal(d->memory_budget_mib, 0);
    assert_int_equal(d->stack_slots, 65536);
    assert_int_equal(d->call_depth, 2000);
    assert_int_equal(d->gpio_backend, CFG_GPIO_GPIOD);
    assert_int_equal(d->nsim_chips, 0);
    assert_null(d->sim_chips);
    assert_int_equal(d->i2c_backend, CFG_I2C_DEV);
    assert_int_equal(d->nsim_i2c, 0);
    assert_null(d->sim_i2c);
    assert_int_equal(d->nmics, 0);
    assert_null(d->mics);
}

static void test_daemon_defaults(void **state) {
    fixture *f = *state;
    cfg_error err;
    cfg_daemon *d = cfg_daemon_load(NULL, &err);
    assert_non_null(d);
    assert_null(d->path);
    check_daemon_defaults(d);
    cfg_daemon_free(d);
    cfg_daemon_free(NULL);

    /* The default file may be missing: an installation that never wrote one. */
    if (access(CFG_DEFAULT_DAEMON_CONFIG, F_OK) != 0 && errno == ENOENT) {
        d = cfg_daemon_load(CFG_DEFAULT_DAEMON_CONFIG, &err);
        assert_non_null(d);
        assert_null(d->path);
        check_daemon_defaults(d);
        cfg_daemon_free(d);
    }

    /* Any other missing file is an error. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/wasmd.yaml", f->dir);
    assert_null(cfg_daemon_load(missing, &err));
    assert_int_equal(err.status, CFG_ERR_IO);

    /* A file with comments and one key keeps the other defaults. */
    const char *path = write_file(f, "wasmd.yaml", "# site config\nlog_lines: 50\n");
    d = cfg_daemon_load(path, &err);
    assert_non_null(d);
    assert_string_equal(d->path, path);
    assert_int_equal(d->log_lines, 50);
    assert_string_equal(d->modules_dir, CFG_DEFAULT_MODULES_DIR);
    cfg_daemon_free(d);
}

static void test_daemon_overrides(void **state) {
    fixture *f = *state;
    cfg_error err;
    const char *path = write_file(f, "wasmd.yaml",
                                  "modules_dir: modules.d\n"
                                  "socket_path: /tmp/w.sock\n"
                                  "socket_group: wasmd\n"
                                  "log_lines: 100000\n"
                                  "fuel_per_slice: 5000\n"
                                  "memory_pages: 16\n"
                                  "stack_slots: 4096\n"
                                  "call_depth: 100\n"
                                  "memory_budget_mib: 300\n");
    cfg_daemon *d = cfg_daemon_load(path, &err);
    char buf[600];
    if (!d)
        fail_msg("%s", cfg_error_format(&err, buf, sizeof buf));
    char expect[256];
    snprintf(expect, sizeof expect, "%s/modules.d", f->dir);
    assert_string_equal(d->modules_dir, expect);
    assert_string_equal(d->socket_path, "/tmp/w.sock");
    assert_string_equal(d->socket_group, "wasmd");
    assert_int_equal(d->log_lines, 100000);
    assert_int_equal(d->fuel_per_slice, 5000);
    assert_int_equal(d->memory_pages, 16);
    assert_int_equal(d->stack_slots, 4096);
    assert_int_equal(d->call_depth, 100);
    assert_int_equal(d->memory_budget_mib, 300);
    cfg_daemon_free(d);

    /* socket_group: ~ means root only. */
    path = write_file(f, "wasmd.yaml", "socket_group: ~\n");
    d = cfg_daemon_load(path, &err);
    assert_non_null(d);
    assert_null(d->socket_group);
    cfg_daemon_free(d);

    static const error_case daemon_errors[] = {
        { "unknown key", "log_lines: 10\nmodule_dir: /x\n",
          CFG_ERR_UNKNOWN_KEY, 2, 1, "unknown key 'module_dir' in daemon config: did you mean 'modules_dir'?" },
        { "log_lines too small", "log_lines: 1\n",
          CFG_ERR_RANGE, 1, 12, "log_lines: 1 is out of range (expected an integer from 10 to 100000)" },
        { "socket path too long for sockaddr_un",
          "socket_path: /tmp/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.sock\n",
          CFG_ERR_RANGE, 1, 14, "socket_path: path longer than 107 bytes" },
        { "empty group", "socket_group: ''\n",
          CFG_ERR_RANGE, 1, 15, "socket_group: expected at least 1 byte" },
        { "group as a list", "socket_group: [a]\n",
          CFG_ERR_TYPE, 1, 15, "socket_group: expected a string, got a list" },
        { "two documents", "log_lines: 10\n...\n---\nlog_lines: 20\n",
          CFG_ERR_MULTI_DOC, 3, 1, "a second YAML document" },
    };
    for (size_t i = 0; i < sizeof daemon_errors / sizeof daemon_errors[0]; i++) {
        path = write_file(f, "wasmd.yaml", daemon_errors[i].yaml);
        assert_null(cfg_daemon_load(path, &err));
        check_error(&err, &daemon_errors[i], path);
    }
}

/* ---- The daemon config's hardware -------------------------------------- */

static void test_daemon_hardware(void **state) {
    fixture *f = *state;
    cfg_error err;
    char buf[600], expect[256];
    const char *path = write_file(f, "wasmd.yaml",
                                  "hardware:\n"                                   /* 1 */
                                  "  gpio:\n"
                                  "    backend: sim\n"
                                  "    chips:\n"
                                  "      - name: gpiochip0\n"                     /* 5 */
                                  "        lines: 54\n"
                                  "      - {name: expander, label: mcp23017, lines: 16}\n"
                                  "  i2c:\n"
                                  "    backend: sim\n"
                                  "    devices:\n"                                /* 10 */
                                  "      - {bus: 1, address: 0x48, model: tmp102}\n"
                                  "      - bus: 1\n"
                                  "        address: 0x50\n"
                                  "        model: regmap\n"
                                  "        registers: 4\n"                        /* 15 */
                                  "        width: 2\n"
                                  "        values: [0x1234, 0, 65535]\n"
                                  "      - {bus: 0, address: 3, model: regmap, values: [255, 0xff]}\n"
                                  "  microphones:\n"
                                  "    - name: mic\n"                             /* 20 */
                                  "      pcm: capture\n"
                                  "      alsa_conf: capture.conf\n"
                                  "      realtime: true\n"
                                  "    - {name: usb-1, pcm: \"hw:1,0\"}\n");
    cfg_daemon *d = cfg_daemon_load(path, &err);
    if (!d)
        fail_msg("%s", cfg_error_format(&err, buf, sizeof buf));

    assert_int_equal(d->gpio_backend, CFG_GPIO_SIM);
    assert_int_equal(d->nsim_chips, 2);
    assert_string_equal(d->sim_chips[0].name, "gpiochip0");
    assert_string_equal(d->sim_chips[0].label, "sim");
    assert_int_equal(d->sim_chips[0].lines, 54);
    assert_string_equal(d->sim_chips[1].name, "expander");
    assert_string_equal(d->sim_chips[1].label, "mcp23017");
    assert_int_equal(d->sim_chips[1].lines, 16);

    assert_int_equal(d->i2c_backend, CFG_I2C_SIM);
    assert_int_equal(d->nsim_i2c, 3);
    const cfg_sim_i2c_device *dev = &d->sim_i2c[0];
    assert_int_equal(dev->bus, 1);
    assert_int_equal(dev->address, 0x48);
    assert_int_equal(dev->model, HAL_I2C_SIM_TMP102);
    assert_int_equal(dev->nvalues, 0);
    assert_null(dev->values);
    assert_int_equal(dev->pos.line, 11);
    assert_int_equal(dev->pos.column, 9);
    dev = &d->sim_i2c[1];
    assert_int_equal(dev->bus, 1);
    assert_int_equal(dev->address, 0x50);
    assert_int_equal(dev->model, HAL_I2C_SIM_REGMAP);
    assert_int_equal(dev->registers, 4);
    assert_int_equal(dev->width, 2);
    assert_int_equal(dev->nvalues, 3);
    assert_int_equal(dev->values[0], 0x1234);
    assert_int_equal(dev->values[1], 0);
    assert_int_equal(dev->values[2], 65535);
    assert_int_equal(dev->pos.line, 12);
    assert_int_equal(dev->pos.column, 9);
    dev = &d->sim_i2c[2];
    assert_int_equal(dev->bus, 0);
    assert_int_equal(dev->address, 3);
    assert_int_equal(dev->model, HAL_I2C_SIM_REGMAP);
    assert_int_equal(dev->registers, 256);
    assert_int_equal(dev->width, 1);
    assert_int_equal(dev->nvalues, 2);
    assert_int_equal(dev->values[0], 255);
    assert_int_equal(dev->values[1], 255);

    assert_int_equal(d->nmics, 2);
    assert_string_equal(d->mics[0].name, "mic");
    assert_string_equal(d->mics[0].pcm, "capture");
    snprintf(expect, sizeof expect, "%s/capture.conf", f->dir);
    assert_string_equal(d->mics[0].alsa_conf, expect);
    assert_true(d->mics[0].realtime);
    assert_int_equal(d->mics[0].pos.line, 20);
    assert_int_equal(d->mics[0].pos.column, 7);
    assert_string_equal(d->mics[1].name, "usb-1");
    assert_string_equal(d->mics[1].pcm, "hw:1,0");
    assert_null(d->mics[1].alsa_conf);
    assert_false(d->mics[1].realtime);
    assert_int_equal(d->mics[1].pos.line, 24);
    assert_int_equal(d->mics[1].pos.column, 7);

    /* The other keys keep their defaults. */
    assert_int_equal(d->log_lines, 1000);
    assert_string_equal(d->modules_dir, CFG_DEFAULT_MODULES_DIR);
    cfg_daemon_free(d);

    /* The sim backend without chips gets one: gpiochip0, labelled sim, 32 lines. */
    static const char *const default_chip[] = {
        "hardware:\n  gpio:\n    backend: sim\n",
        "hardware:\n  gpio:\n    backend: sim\n    chips: []\n",
        "hardware:\n  gpio: {backend: sim, chips: ~}\n",
    };
    for (size_t i = 0; i < sizeof default_chip / sizeof default_chip[0]; i++) {
        d = cfg_daemon_load(write_file(f, "wasmd.yaml", default_chip[i]), &err);
        if (!d)
            fail_msg("%s", cfg_error_format(&err, buf, sizeof buf));
        assert_int_equal(d->gpio_backend, CFG_GPIO_SIM);
        assert_int_equal(d->nsim_chips, 1);
        assert_string_equal(d->sim_chips[0].name, "gpiochip0");
        assert_string_equal(d->sim_chips[0].label, "sim");
        assert_int_equal(d->sim_chips[0].lines, 32);
        assert_int_equal(d->i2c_backend, CFG_I2C_DEV);
        assert_int_equal(d->nsim_i2c, 0);
        cfg_daemon_free(d);
    }

    /* Real backends, spelled out, and empty hardware sections. */
    static const char *const real[] = {
        "hardware:\n  gpio: {backend: gpiod}\n  i2c: {backend: dev, devices: []}\n  microphones: []\n",
        "hardware: ~\n",
        "hardware: {}\n",
        "hardware:\n  gpio:\n  i2c: ~\n  microphones:\n",
    };
    for (size_t i = 0; i < sizeof real / sizeof real[0]; i++) {
        d = cfg_daemon_load(write_file(f, "wasmd.yaml", real[i]), &err);
        if (!d)
            fail_msg("'%s': %s", real[i], cfg_error_format(&err, buf, sizeof buf));
        check_daemon_defaults(d);
        cfg_daemon_free(d);
    }

    /* The limits of the lists. */
    char *yaml = repeat("hardware:\n  gpio:\n    backend: sim\n    chips:\n", "      - {name: c, lines: 1}\n",
                        CFG_MAX_SIM_CHIPS + 1, "");
    path = write_file(f, "wasmd.yaml", yaml);
    free(yaml);
    assert_null(cfg_daemon_load(path, &err));
    const error_case chips = { "chips", "", CFG_ERR_LIMIT, 5, 7, "hardware.gpio.chips: more than 16 entries" };
    check_error(&err, &chips, path);

    yaml = repeat("hardware:\n  i2c:\n    backend: sim\n    devices:\n",
                  "      - {bus: 1, address: 3, model: tmp102}\n", CFG_MAX_SIM_DEVICES + 1, "");
    path = write_file(f, "wasmd.yaml", yaml);
    free(yaml);
    assert_null(cfg_daemon_load(path, &err));
    const error_case devices = { "devices", "", CFG_ERR_LIMIT, 5, 7, "hardware.i2c.devices: more than 128 entries" };
    check_error(&err, &devices, path);

    yaml = repeat("hardware:\n  microphones:\n", "    - {name: m, pcm: p}\n", CFG_MAX_MIC_ALIASES + 1, "");
    path = write_file(f, "wasmd.yaml", yaml);
    free(yaml);
    assert_null(cfg_daemon_load(path, &err));
    const error_case mics = { "mics", "", CFG_ERR_LIMIT, 3, 5, "hardware.microphones: more than 32 entries" };
    check_error(&err, &mics, path);

    yaml = repeat("hardware:\n  i2c:\n    backend: sim\n    devices:\n"
                  "      - {bus: 1, address: 3, model: regmap, values: [", "1, ", HAL_I2C_SIM_MAX_REGS, "1]}\n");
    path = write_file(f, "wasmd.yaml", yaml);
    free(yaml);
    assert_null(cfg_daemon_load(path, &err));
    const error_case values = { "values", "", CFG_ERR_LIMIT, 5, 53,
                                "hardware.i2c.devices[0].values: more than 256 entries" };
    check_error(&err, &values, path);
}

static const error_case hardware_errors[] = {
    { "unknown hardware key", "hardware:\n  spi: {}\n",
      CFG_ERR_UNKNOWN_KEY, 2, 3, "unknown key 'hardware.spi' in hardware (known: gpio, i2c, microphones)" },
    { "hardware as a list", "hardware: [gpio]\n",
      CFG_ERR_TYPE, 1, 11, "hardware: expected a mapping, got a list" },
    { "bad gpio backend", "hardware:\n  gpio:\n    backend: libgpiod\n",
      CFG_ERR_ENUM, 3, 14, "hardware.gpio.backend: 'libgpiod' is not one of gpiod, sim" },
    { "bad i2c backend", "hardware:\n  i2c: {backend: sim2}\n",
      CFG_ERR_ENUM, 2, 18, "hardware.i2c.backend: 'sim2' is not one of dev, sim" },
    { "chips with gpiod",
      "hardware:\n"
      "  gpio:\n"
      "    chips:\n"
      "      - name: gpiochip0\n",
      CFG_ERR_VALUE, 3, 5, "hardware.gpio.chips: only for backend: sim (the backend is gpiod)" },
    { "chip declared twice",
      "hardware:\n"
      "  gpio:\n"
      "    backend: sim\n"
      "    chips:\n"
      "      - name: a\n"
      "      - name: b\n"
      "      - {name: a, lines: 2}\n",
      CFG_ERR_VALUE, 7, 9, "hardware.gpio.chips[2].name: chip 'a' is already declared at line 5" },
    { "chip without a name", "hardware:\n  gpio:\n    backend: sim\n    chips: [{lines: 2}]\n",
      CFG_ERR_MISSING_KEY, 4, 13, "missing required key 'hardware.gpio.chips[0].name' in a hardware.gpio.chips entry" },
    { "chip name of 32 bytes",
      "hardware:\n  gpio:\n    backend: sim\n    chips: [{name: abcdefghijklmnopqrstuvwxyz012345}]\n",
      CFG_ERR_RANGE, 4, 20, "hardware.gpio.chips[0].name: longer than 31 bytes" },
    { "empty chip label",
      "hardware:\n  gpio:\n    backend: sim\n    chips: [{name: c, label: ''}]\n",
      CFG_ERR_RANGE, 4, 30, "hardware.gpio.chips[0].label: expected at least 1 byte" },
    { "513 lines", "hardware:\n  gpio:\n    backend: sim\n    chips: [{name: c, lines: 513}]\n",
      CFG_ERR_RANGE, 4, 30, "hardware.gpio.chips[0].lines: 513 is out of range (expected an integer from 1 to 512)" },
    { "no lines", "hardware:\n  gpio:\n    backend: sim\n    chips: [{name: c, lines: 0}]\n",
      CFG_ERR_RANGE, 4, 30, "hardware.gpio.chips[0].lines: 0 is out of range" },
    { "devices with dev",
      "hardware:\n"
      "  i2c:\n"
      "    devices:\n"
      "      - {bus: 1, address: 0x48, model: tmp102}\n",
      CFG_ERR_VALUE, 3, 5, "hardware.i2c.devices: only for backend: sim (the backend is dev)" },
    { "device declared twice",
      "hardware:\n"
      "  i2c:\n"
      "    backend: sim\n"
      "    devices:\n"
      "      - {bus: 1, address: 0x48, model: tmp102}\n"
      "      - {bus: 2, address: 0x48, model: tmp102}\n"
      "      - bus: 1\n"
      "        address: 72\n"
      "        model: regmap\n",
      CFG_ERR_VALUE, 7, 9, "hardware.i2c.devices[2]: a device at bus 1 address 0x48 is already declared at line 5" },
    { "device without a model",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, address: 0x48}\n",
      CFG_ERR_MISSING_KEY, 5, 9, "missing required key 'hardware.i2c.devices[0].model'" },
    { "device without an address",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, model: tmp102}\n",
      CFG_ERR_MISSING_KEY, 5, 9, "missing required key 'hardware.i2c.devices[0].address'" },
    { "device without a bus",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {address: 3, model: tmp102}\n",
      CFG_ERR_MISSING_KEY, 5, 9, "missing required key 'hardware.i2c.devices[0].bus'" },
    { "unknown model",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, address: 0x48, model: lm75}\n",
      CFG_ERR_ENUM, 5, 40, "hardware.i2c.devices[0].model: 'lm75' is not one of regmap, tmp102" },
    { "address 0x02",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, address: 0x02, model: tmp102}\n",
      CFG_ERR_RANGE, 5, 27, "hardware.i2c.devices[0].address: 0x02 is out of range (expected an integer from 3 to 119)" },
    { "device on bus 256",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 256, address: 3, model: tmp102}\n",
      CFG_ERR_RANGE, 5, 15, "hardware.i2c.devices[0].bus: 256 is out of range (expected an integer from 0 to 255)" },
    { "257 registers",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, address: 3, model: regmap, registers: 257}\n",
      CFG_ERR_RANGE, 5, 56, "hardware.i2c.devices[0].registers: 257 is out of range (expected an integer from 1 to 256)" },
    { "width 3",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, address: 3, model: regmap, width: 3}\n",
      CFG_ERR_RANGE, 5, 52, "hardware.i2c.devices[0].width: 3 is out of range (expected an integer from 1 to 2)" },
    { "value above 16 bits",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, address: 3, model: regmap, width: 2, values: [0x10000]}\n",
      CFG_ERR_RANGE, 5, 64, "hardware.i2c.devices[0].values[0]: 0x10000 is out of range (expected an integer from 0 to 65535)" },
    { "more values than registers",
      "hardware:\n"
      "  i2c:\n"
      "    backend: sim\n"
      "    devices:\n"
      "      - bus: 1\n"
      "        address: 3\n"
      "        model: regmap\n"
      "        registers: 2\n"
      "        values: [1, 2, 3]\n",
      CFG_ERR_VALUE, 9, 24, "hardware.i2c.devices[0].values: 3 values for 2 registers" },
    { "16-bit value in a 1-byte register",
      "hardware:\n"
      "  i2c:\n"
      "    backend: sim\n"
      "    devices:\n"
      "      - bus: 1\n"
      "        address: 3\n"
      "        model: regmap\n"
      "        values: [1, 256]\n",
      CFG_ERR_VALUE, 8, 21, "hardware.i2c.devices[0].values[1]: 256 does not fit in a 1-byte register (width: 1)" },
    { "values for a tmp102",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, address: 0x48, model: tmp102, values: [1]}\n",
      CFG_ERR_VALUE, 5, 48, "hardware.i2c.devices[0].values: only for model: regmap" },
    { "registers for a tmp102",
      "hardware:\n  i2c:\n    backend: sim\n    devices:\n      - {bus: 1, address: 0x48, model: tmp102, registers: 4}\n",
      CFG_ERR_VALUE, 5, 48, "hardware.i2c.devices[0].registers: only for model: regmap" },
    { "microphone declared twice",
      "hardware:\n"
      "  microphones:\n"
      "    - {name: mic, pcm: a}\n"
      "    - name: mic\n"
      "      pcm: b\n",
      CFG_ERR_VALUE, 4, 7, "hardware.microphones[1].name: 'mic' is already declared at line 3" },
    { "microphone name with capitals", "hardware:\n  microphones:\n    - {name: Mic, pcm: a}\n",
      CFG_ERR_VALUE, 3, 14, "hardware.microphones[0].name: 'Mic' is not a valid name" },
    { "microphone name starting with a dash", "hardware:\n  microphones:\n    - {name: -m, pcm: a}\n",
      CFG_ERR_VALUE, 3, 14, "'-m' is not a valid name" },
    { "microphone without a pcm", "hardware:\n  microphones:\n    - name: mic\n",
      CFG_ERR_MISSING_KEY, 3, 7, "missing required key 'hardware.microphones[0].pcm' in a hardware.microphones entry" },
    { "microphones as a mapping", "hardware:\n  microphones: {mic: hw}\n",
      CFG_ERR_TYPE, 2, 16, "hardware.microphones: expected a list of mappings, got a mapping" },
    { "empty alsa_conf", "hardware:\n  microphones:\n    - {name: m, pcm: a, alsa_conf: ''}\n",
      CFG_ERR_VALUE, 3, 36, "hardware.microphones[0].alsa_conf: expected a path, got an empty string" },
    { "realtime yes", "hardware:\n  microphones:\n    - {name: m, pcm: a, realtime: yes}\n",
      CFG_ERR_TYPE, 3, 35, "hardware.microphones[0].realtime: expected true or false, got 'yes'" },
};

static void test_daemon_hardware_errors(void **state) {
    fixture *f = *state;
    unsigned failed = 0;
    for (size_t i = 0; i < sizeof hardware_errors / sizeof hardware_errors[0]; i++) {
        const error_case *c = &hardware_errors[i];
        const char *path = write_file(f, "wasmd.yaml", c->yaml);
        cfg_error err;
        memset(&err, 0, sizeof err);
        cfg_daemon *d = cfg_daemon_load(path, &err);
        if (d) {
            print_error("case '%s': loaded, expected an error\n", c->what);
            cfg_daemon_free(d);
            failed++;
        } else if (!error_matches(&err, c, path)) {
            failed++;
        }
    }
    assert_int_equal(failed, 0);
}

/* ---- Small API pieces -------------------------------------------------- */

static void test_enums_and_errors(void **state) {
    cfg_restart r;
    for (int i = CFG_RESTART_NEVER; i <= CFG_RESTART_ALWAYS; i++) {
        assert_true(cfg_restart_parse(cfg_restart_name((cfg_restart)i), &r));
        assert_int_equal(r, i);
    }
    assert_string_equal(cfg_restart_name(CFG_RESTART_ON_FAILURE), "on-failure");
    assert_string_equal(cfg_restart_name((cfg_restart)42), "?");
    assert_false(cfg_restart_parse("On-Failure", &r));

    assert_string_equal(cfg_status_name(CFG_ERR_DUP_NAME), "CFG_ERR_DUP_NAME");
    assert_string_equal(cfg_status_message(CFG_ERR_TYPE), "wrong type");
    assert_string_equal(cfg_status_name((cfg_status)999), "?");

    cfg_error err;
    char buf[64];
    assert_int_equal(cfg_error_set(&err, CFG_ERR_VALUE, "m.yaml", 3, 4, "bad %s", "thing"), -1);
    assert_string_equal(cfg_error_format(&err, buf, sizeof buf), "m.yaml:3:4: bad thing");
    assert_int_equal(cfg_error_set(NULL, CFG_ERR_VALUE, "x", 1, 1, "ignored"), -1);
    err.line = 0;
    assert_string_equal(cfg_error_format(&err, buf, sizeof buf), "m.yaml: bad thing");
}

/* ---- The man page against the tables ----------------------------------- */

static char *read_text(const char *path) {
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    char *text = calloc(1, 256 * 1024);
    assert_non_null(text);
    size_t n = fread(text, 1, 256 * 1024 - 1, fp);
    text[n] = '\0';
    fclose(fp);
    return text;
}

/*
 * Each key is documented as ".TP\n.B key\n" followed by a paragraph; the
 * keys of a mapping (an OBJECT or the entries of an OBJECT_LIST) follow
 * their key's paragraph in a ".RS" ... ".RE" block.  Keys are looked up
 * at their own level only, so that two keys of the same name (backend
 * under hardware.gpio and hardware.i2c) are each checked against their own
 * paragraph.  The paragraph must give the bounds and the default the table
 * has, so that the page cannot drift from the code.
 */

/* The request that starts the line at p (".TP", ".RS"...), or "" for text. */
static bool line_is(const char *p, const char *req) {
    size_t n = strlen(req);
    return strncmp(p, req, n) == 0 && (p[n] == '\n' || p[n] == ' ' || p[n] == '\0');
}

static const char *next_line(const char *p, const char *end) {
    const char *nl = memchr(p, '\n', (size_t)(end - p));
    return nl ? nl + 1 : end;
}

/* From p (the start of a line) to the start of the line of the ".RE" that closes the
 * ".RS" just before p, or end. */
static const char *block_end(const char *p, const char *end) {
    int depth = 0;
    for (; p < end; p = next_line(p, end)) {
        if (line_is(p, ".RS"))
            depth++;
        else if (line_is(p, ".RE") && depth-- == 0)
            return p;
    }
    return end;
}

/* The line after ".TP\n.B name\n" at the top level of [p, end), or NULL. */
static const char *find_key_doc(const char *p, const char *end, const char *name) {
    char tag[80];
    snprintf(tag, sizeof tag, ".TP\n.B %s\n", name);
    size_t len = strlen(tag);
    while (p < end) {
        if (line_is(p, ".RS")) {
            p = next_line(block_end(next_line(p, end), end), end);   /* past its .RE */
            continue;
        }
        if ((size_t)(end - p) >= len && strncmp(p, tag, len) == 0)
            return p + len;
        p = next_line(p, end);
    }
    return NULL;
}

/* The end of the paragraph that starts at p: the next request that starts another. */
static const char *para_end(const char *p, const char *end) {
    for (; p < end; p = next_line(p, end))
        if (line_is(p, ".TP") || line_is(p, ".RS") || line_is(p, ".RE") || line_is(p, ".PP") ||
            line_is(p, ".SH") || line_is(p, ".SS"))
            return p;
    return end;
}

static void check_keys(const char *begin, const char *end, const cfg__schema *schema) {
    for (size_t i = 0; i < schema->nkeys; i++) {
        const cfg__key *k = &schema->keys[i];
        const char *at = find_key_doc(begin, end, k->name);
        if (!at)
            fail_msg("%s: key %s not documented at its level", schema->what, k->name);
        const char *stop = para_end(at, end);
        char para[2048];
        snprintf(para, sizeof para, "%.*s", (int)(stop - at), at);

        char wants[8][128];
        size_t n = 0;
        if (k->required)
            snprintf(wants[n++], sizeof wants[0], "Required.");
        switch (k->type) {
        case CFG__UINT:
            snprintf(wants[n++], sizeof wants[0], "%" PRIu64 " to %" PRIu64, k->min, k->max);
            if (k->def)
                snprintf(wants[n++], sizeof wants[0], "Default: %" PRIu64 ".", k->def);
            break;
        case CFG__ENUM:
            for (const cfg__enum_name *e = k->enums; e->name; e++) {
                if (!k->required && e->value == (int)k->def)
                    snprintf(wants[n++], sizeof wants[0], "Default: %s.", e->name);
                /* Every spelling, as a word of its own. */
                char word[96];
                snprintf(word, sizeof word, ".B %s\n", e->name);
                char word2[96];
                snprintf(word2, sizeof word2, ".BR %s ", e->name);
                char word3[96];
                snprintf(word3, sizeof word3, ".B %s", e->name);
                if (!strstr(para, word) && !strstr(para, word2) && !strstr(para, word3))
                    fail_msg("%s: key %s: man page paragraph lacks the spelling %s:\n%s",
                             schema->what, k->name, e->name, para);
            }
            break;
        case CFG__STRING:
        case CFG__PATH:
        case CFG__NAME:
            if (k->def_str)
                snprintf(wants[n++], sizeof wants[0], "Default: %s.", k->def_str);
            if (k->max && k->min)
                snprintf(wants[n++], sizeof wants[0], "%" PRIu64 " to %" PRIu64 " bytes",
                         k->min, k->max);
            else if (k->max)
                snprintf(wants[n++], sizeof wants[0], "at most %" PRIu64 " bytes", k->max);
            break;
        case CFG__UINT_LIST:
            snprintf(wants[n++], sizeof wants[0], "%" PRIu64 " to %" PRIu64, k->min, k->max);
            /* fall through */
        case CFG__STRING_LIST:
        case CFG__STRING_MAP:
        case CFG__OBJECT_LIST:
            if (k->min_items)
                snprintf(wants[n++], sizeof wants[0], "%zu to %zu", k->min_items, k->max_items);
            else if (k->max_items)
                snprintf(wants[n++], sizeof wants[0], "at most %zu", k->max_items);
            if (!k->required)
                snprintf(wants[n++], sizeof wants[0], "Default: ");
            break;
        case CFG__BOOL:
            snprintf(wants[n++], sizeof wants[0], "Default: %s.", k->def ? "true" : "false");
            break;
        case CFG__OBJECT:
            break;
        }
        for (size_t j = 0; j < n; j++)
            if (!strstr(para, wants[j]))
                fail_msg("%s: key %s: man page paragraph lacks \"%s\":\n%s", schema->what,
                         k->name, wants[j], para);
        if (k->sub) {
            /* Its keys: the .RS block after the paragraph, before the next key. */
            const char *rs = stop;
            while (rs < end && !line_is(rs, ".RS") && !line_is(rs, ".TP") && !line_is(rs, ".RE"))
                rs = next_line(rs, end);
            if (rs >= end || !line_is(rs, ".RS"))
                fail_msg("%s: key %s: no .RS block documents its keys", schema->what, k->name);
            const char *inner = next_line(rs, end);
            check_keys(inner, block_end(inner, end), k->sub);
        }
    }
}

/* The keys of a schema and of its sub-schemas. */
static size_t count_keys(const cfg__schema *schema) {
    size_t n = schema->nkeys;
    for (size_t i = 0; i < schema->nkeys; i++)
        if (schema->keys[i].sub)
            n += count_keys(schema->keys[i].sub);
    return n;
}

/* "Did you mean" hints: near misspellings only, the nearest name wins. */
static void test_nearest_name(void **state) {
    static const char *const names[] = { "status", "start", "stop", "restart", "list", "logs" };
    const size_t n = sizeof names / sizeof names[0];
    assert_string_equal(cfg_nearest_name("stauts", names, n), "status"); /* a swap */
    assert_string_equal(cfg_nearest_name("strat", names, n), "start");
    assert_string_equal(cfg_nearest_name("lst", names, n), "list");      /* short: one edit */
    assert_string_equal(cfg_nearest_name("restrat", names, n), "restart");
    assert_null(cfg_nearest_name("lg", names, n));                       /* short: two edits is too far */
    assert_null(cfg_nearest_name("frobnicate", names, n));
    assert_null(cfg_nearest_name("x", names, 0));
}

/* Paths are normalised lexically (defect: ".../mods.d/../files/clock.wasm" was shown as written). */
static void test_path_normalize(void **state) {
    static const char *const cases[][2] = {
        { "/etc/wasmd/mods.d/../files/clock.wasm", "/etc/wasmd/files/clock.wasm" },
        { "/a//b/./c/", "/a/b/c" }, { "/..", "/" }, { "/../x", "/x" }, { "/", "/" }, { "//", "/" },
        { "a/../..", ".." }, { "../../a/b/..", "../../a" }, { "./x/./y/..", "x" }, { "", "." },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, "%s", cases[i][0]);
        assert_string_equal(cfg_path_normalize(buf), cases[i][1]);
    }
    /* A manifest's module, relative to a directory reached through "..". */
    fixture *f = *state;
    char dir[128], path[192];
    snprintf(dir, sizeof dir, "%s/mods.d", f->dir);
    assert_int_equal(mkdir(dir, 0755), 0);
    snprintf(path, sizeof path, "%s/m.yaml", dir);
    FILE *fp = fopen(path, "w");
    assert_non_null(fp);
    fputs("module: ../files/./clock.wasm\n", fp);
    fclose(fp);
    cfg_error err;
    cfg_manifest *m = cfg_manifest_load(path, &err);
    assert_non_null(m);
    char want[192];
    snprintf(want, sizeof want, "%s/files/clock.wasm", f->dir);
    assert_string_equal(m->module, want);
    cfg_manifest_free(m);
}

static void test_man_page(void **state) {
    const char *path = getenv("WASMD_MAN_YAML");
    char *text = read_text(path ? path : "docs/wasmd.yaml.5");
    if (!text)
        fail_msg("cannot read docs/wasmd.yaml.5 (run from the top directory or set WASMD_MAN_YAML)");
    char *manifest = strstr(text, "\n.SH MANIFEST KEYS\n");
    char *daemon = strstr(text, "\n.SH DAEMON CONFIG KEYS\n");
    assert_non_null(manifest);
    assert_non_null(daemon);
    /* Each section from its .SH line to the next. */
    manifest++;
    daemon++;
    const char *manifest_end = strstr(manifest, "\n.SH ");
    const char *daemon_end = strstr(daemon, "\n.SH ");
    assert_non_null(manifest_end);
    assert_non_null(daemon_end);
    check_keys(next_line(manifest, manifest_end), manifest_end + 1, &cfg__manifest_schema);
    check_keys(next_line(daemon, daemon_end), daemon_end + 1, &cfg__daemon_schema);
    /* The walk saw every key: 14 at the top of a manifest, dirs (3), limits (4),
     * capabilities (3): gpio (8), i2c (3), microphone (5); source (3); 19 at the top of
     * the daemon config, hardware (3): gpio (2): chips (3), i2c (2): devices (6),
     * microphones (4); fetch (7); fleet (3); metrics (2). */
    assert_int_equal(count_keys(&cfg__manifest_schema), 14 + 3 + 4 + 3 + 8 + 3 + 5 + 3);
    assert_int_equal(count_keys(&cfg__daemon_schema), 19 + 3 + 2 + 3 + 2 + 6 + 4 + 7 + 3 + 2);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_manifest_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_path_normalize, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_overrides, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_hardware, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_hardware_errors, setup, teardown),
        cmocka_unit_test(test_enums_and_errors),
        cmocka_unit_test(test_nearest_name),
        cmocka_unit_test(test_man_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
