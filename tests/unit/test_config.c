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
    { "memory_pages above the maximum", "module: a\nlimits:\n  memory_pages: 70000\n",
      CFG_ERR_RANGE, 3, 17, "limits.memory_pages: 70000 is out of range (expected an integer from 1 to 65536)" },
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

    /* A list longer than any list may be, inside the raw capabilities. */
    yaml = repeat("module: a\ncapabilities:\n  pins: [", "1,", CFG_MAX_ITEMS + 1, "1]\n");
    expect_error_text(f, "list too long", yaml, CFG_ERR_LIMIT, 3, 10 + 2 * CFG_MAX_ITEMS,
                      "more than 1024 entries in one list");
    free(yaml);

    /* Nesting deeper than CFG_MAX_DEPTH: the top mapping is level 1, capabilities 2,
     * so the 31st '[' (column 6 + 30) would be level 33. */
    yaml = repeat("module: a\ncapabilities:\n  x: ", "[", CFG_MAX_DEPTH + 1, "\n");
    expect_error_text(f, "too deep", yaml, CFG_ERR_LIMIT, 3, 6 + CFG_MAX_DEPTH - 2,
                      "nested deeper than 32 levels");
    free(yaml);

    /* A scalar longer than CFG_MAX_STRING. */
    yaml = repeat("module: ", "x", CFG_MAX_STRING + 1, "\n");
    expect_error_text(f, "long string", yaml, CFG_ERR_LIMIT, 1, 9, "string longer than 4096 bytes");
    free(yaml);

    /* More values than CFG_MAX_NODES, in lists each short enough. */
    yaml = repeat("module: a\ncapabilities:\n  x:\n", "  - [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1]\n",
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
    assert_false(m->has_capabilities);
    assert_null(m->capabilities);
    cfg_manifest_free(m);

    /* Null values for collections mean empty: keys left with everything commented out. */
    path = write_file(f, "nulls.yaml", "module: /abs/x.wasm\nargs:\nenv: ~\ndirs:\nlimits:\ncapabilities:\n");
    m = cfg_manifest_load(path, &err);
    assert_non_null(m);
    assert_string_equal(m->module, "/abs/x.wasm");
    assert_int_equal(m->nargs + m->nenv + m->ndirs, 0);
    assert_false(m->has_capabilities);
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
    "  memory_pages: 65536\n"
    "  fuel_per_slice: 1000000000000\n"
    "  stack_slots: 1024\n"
    "  call_depth: 16\n"
    "restart: always\n"
    "restart_backoff_ms: 250\n"
    "crash_loop_limit: 3\n"
    "crash_loop_window_s: 10\n"
    "stop_timeout_ms: 0\n"
    "capabilities:\n"
    "  gpio:\n"
    "    - {chip: gpiochip0, line: 17, direction: out}\n"
    "  i2c: {bus: 1, addresses: [0x40]}\n";

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
    snprintf(expect, sizeof expect, "%s/../mods/blinky.wasm", f->dir);
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
    assert_int_equal(m->memory_pages, 65536);
    assert_true(m->fuel_per_slice == UINT64_C(1000000000000));
    assert_int_equal(m->stack_slots, 1024);
    assert_int_equal(m->call_depth, 16);
    assert_int_equal(m->restart, CFG_RESTART_ALWAYS);
    assert_int_equal(m->restart_backoff_ms, 250);
    assert_int_equal(m->crash_loop_limit, 3);
    assert_int_equal(m->crash_loop_window_s, 10);
    assert_int_equal(m->stop_timeout_ms, 0);

    /* capabilities stay a tree, with positions for the hardware layer's errors. */
    assert_true(m->has_capabilities);
    const cfg_node *caps = m->capabilities;
    assert_int_equal(caps->kind, CFG_NODE_MAP);
    assert_int_equal(caps->count, 2);
    const cfg_node *gpio = cfg_node_get(caps, "gpio");
    assert_non_null(gpio);
    assert_int_equal(gpio->kind, CFG_NODE_LIST);
    assert_int_equal(gpio->key_line, 25);
    assert_int_equal(gpio->key_column, 3);
    const cfg_node *line = cfg_node_get(&gpio->items[0], "line");
    assert_non_null(line);
    assert_string_equal(line->value, "17");
    assert_true(line->plain);
    assert_int_equal(line->line, 26);
    assert_int_equal(line->column, 31);
    const cfg_node *addr = cfg_node_get(cfg_node_get(caps, "i2c"), "addresses");
    assert_string_equal(addr->items[0].value, "0x40");
    assert_null(cfg_node_get(caps, "spi"));
    assert_null(cfg_node_get(line, "x"));
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
        { "readonly: true", "readonly: false" },
        { "PORT: 8080", "PORT: 8081" },
        { "restart: always", "restart: never" },
        { "fuel_per_slice: 1000000000000", "fuel_per_slice: 999999999999" },
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
    assert_int_equal(d->fuel_per_slice, 100000);
    assert_int_equal(d->memory_pages, 256);
    assert_int_equal(d->stack_slots, 65536);
    assert_int_equal(d->call_depth, 2000);
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
                                  "call_depth: 100\n");
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
    cfg_daemon_free(d);

    /* socket_group: ~ means root only. */
    path = write_file(f, "wasmd.yaml", "socket_group: ~\n");
    d = cfg_daemon_load(path, &err);
    assert_non_null(d);
    assert_null(d->socket_group);
    cfg_daemon_free(d);

    static const error_case daemon_errors[] = {
        { "unknown key", "log_lines: 10\nmodule_dir: /x\n",
          CFG_ERR_UNKNOWN_KEY, 2, 1, "unknown key 'module_dir' in daemon config" },
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
 * paragraph must give the bounds and the default the table has, so that
 * the page cannot drift from the code.
 */
static void check_keys(const char *section, const cfg__schema *schema) {
    for (size_t i = 0; i < schema->nkeys; i++) {
        const cfg__key *k = &schema->keys[i];
        char tag[80], want[96];
        snprintf(tag, sizeof tag, "\n.TP\n.B %s\n", k->name);
        const char *at = strstr(section, tag);
        if (!at)
            fail_msg("%s: key %s not documented", schema->what, k->name);
        at += strlen(tag);
        const char *end = strstr(at, "\n.TP");
        const char *ss = strstr(at, "\n.S");
        if (!end || (ss && ss < end))
            end = ss;
        size_t len = end ? (size_t)(end - at) : strlen(at);
        char para[2048];
        snprintf(para, sizeof para, "%.*s", (int)len, at);

        const char *wants[4] = { NULL };
        char want2[96];
        if (k->type == CFG__UINT) {
            snprintf(want, sizeof want, "%" PRIu64 " to %" PRIu64, k->min, k->max);
            wants[0] = want;
            if (k->def) {
                snprintf(want2, sizeof want2, "Default: %" PRIu64 ".", k->def);
                wants[1] = want2;
            }
        } else if (k->type == CFG__ENUM) {
            for (const cfg__enum_name *e = k->enums; e->name; e++)
                if (e->value == (int)k->def)
                    snprintf(want, sizeof want, "Default: %s.", e->name);
            wants[0] = want;
        } else if (k->def_str) {
            snprintf(want, sizeof want, "Default: %s.", k->def_str);
            wants[0] = want;
        } else if (k->required) {
            wants[0] = "Required.";
        }
        for (int j = 0; wants[j]; j++)
            if (!strstr(para, wants[j]))
                fail_msg("%s: key %s: man page paragraph lacks \"%s\":\n%s", schema->what,
                         k->name, wants[j], para);
        if (k->sub)
            check_keys(section, k->sub);
    }
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
    /* Cut the text into the two sections, each from its .SH line to the next. */
    manifest++;
    daemon++;
    char *manifest_end = strstr(manifest, "\n.SH ");
    char *daemon_end = strstr(daemon, "\n.SH ");
    if (manifest_end)
        *manifest_end = '\0';
    if (daemon_end)
        *daemon_end = '\0';
    check_keys(manifest, &cfg__manifest_schema);
    check_keys(daemon, &cfg__daemon_schema);
    free(text);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_manifest_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_limits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_full, setup, teardown),
        cmocka_unit_test_setup_teardown(test_manifest_equal, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_load, setup, teardown),
        cmocka_unit_test_setup_teardown(test_dir_empty, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_defaults, setup, teardown),
        cmocka_unit_test_setup_teardown(test_daemon_overrides, setup, teardown),
        cmocka_unit_test(test_enums_and_errors),
        cmocka_unit_test(test_man_page),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
