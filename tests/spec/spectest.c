/*
 * spectest.c - runs the official WebAssembly spec tests against the engine.
 *
 * Input: the JSON files that `wast2json FILE.wast -o DIR/FILE.json` writes,
 * with the .wasm files beside them.  Each JSON holds the commands of one .wast
 * file in order; they are executed against runtime/wr.h only, one wr_store
 * and one wr_exec per file, as the spec's script semantics expect (modules of
 * one file may import from each other through `register`).
 *
 *   spectest [-v] [-s SKIPPED.json]... FILE.json...
 *
 *   -v       print every failure (the .wast line, the command, what was
 *            expected and what happened) and every message that differs
 *   -s FILE  count FILE's tests as skipped without running them (run.sh uses
 *            this for the simd_* files: the engine has no v128)
 *
 * What counts: every command except `register` is one test, the convention
 * of wabt's spectest-interp, so that the per-file totals can be compared with
 * MANIFEST.txt's spectest-interp column.  Plain `module` commands are tests
 * too: many files (const.wast, binary.wast) consist of modules that must load.
 * assert_malformed/assert_invalid on a text module ("module_type": "text")
 * test the text parser, which the engine does not have: they are skipped.
 *
 * Messages: for assert_trap, assert_exhaustion, assert_invalid,
 * assert_malformed, assert_unlinkable and assert_uninstantiable the KIND of
 * failure decides (a trap, a load error, a link error...).  The spec's text
 * is compared too, but only reported: it matches when one of the two texts
 * is a prefix of the other (wabt adds details such as "unknown global 1"),
 * and a mismatch is listed with -v and counted in a closing note.
 *
 * The last line of the output is always `N passed, N failed, N skipped`,
 * which CI reads.  Exit status: 0 when nothing failed, 1 otherwise, 2 on a
 * usage error.
 */
#include <assert.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "wr.h"

/*
 * Fuel for one invoke.  The spec tests finish in far less; the budget only
 * turns an engine bug that loops forever into a failed test instead of a
 * hung CI run.
 */
#define ACTION_FUEL 200000000

/* Byte that stands for NUL inside names while cJSON holds them (see hide_nul_escapes). */
#define NUL_STANDIN 0xff

static bool verbose;

typedef struct tally {
    long passed;
    long failed;
    long skipped;
    long msg_mismatches; /* passed tests whose message text differed */
    /* The assert_* commands among them (the unit the spec issue's goal counts). */
    long assert_passed;
    long assert_failed;
    long assert_skipped;
} tally;

/* A name bound to an instance: `(module $M ...)` or `(register "as" $M)`. */
typedef struct binding {
    char *name;         /* bytes, NUL-terminated too */
    size_t len;
    wr_instance *inst;  /* NULL: the module failed to load or instantiate */
} binding;

typedef struct binding_list {
    binding *items;
    size_t count;
    size_t cap;
} binding_list;

/* One export of the "spectest" host module. */
typedef struct host_export {
    const char *name;
    wr_extern ext;
} host_export;

/* 7 print functions, 4 globals, the table and the memory. */
#define SPECTEST_EXPORTS 13

/* Everything that lives for one .wast file. */
typedef struct spec_file {
    const char *json_path;
    char *dir;                /* of the json: module file names are relative to it */
    char wast_name[128];      /* for messages: "i32.wast" */

    wr_store *store;
    wr_exec *exec;
    host_export spectest[SPECTEST_EXPORTS];
    size_t nspectest;

    /*
     * Every module that loaded, kept until the store is freed: an instance,
     * even one whose instantiation failed half-way, may refer to its module.
     */
    wr_module **modules;
    size_t nmodules;
    size_t capmodules;

    binding_list named;       /* modules by their $name */
    binding_list registered;  /* instances by their registered module name */
    wr_instance *current;     /* the last module's instance; NULL if it failed */
    bool have_module;         /* whether any module command was seen */

    /* The command being executed, for messages. */
    int line;
    const char *cmd;

    tally t;
} spec_file;

/* ---- Small helpers ------------------------------------------------------ */

static void *xrealloc(void *p, size_t n) {
    void *q = realloc(p, n ? n : 1);
    if (!q) {
        fprintf(stderr, "spectest: out of memory\n");
        exit(2);
    }
    return q;
}

static char *xstrndup(const char *s, size_t n) {
    char *p = xrealloc(NULL, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

/* A failed test: counted, and described with -v. */
static void fail(spec_file *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(spec_file *f, const char *fmt, ...) {
    f->t.failed++;
    if (!verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    printf("    FAIL %s:%d %s: ", f->wast_name, f->line, f->cmd);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
}

static void pass(spec_file *f) {
    f->t.passed++;
}

/*
 * Compares the spec's expected message with ours.  Either may be the longer
 * one: the engine reports "uninitialized element" where wabt wrote
 * "uninitialized element 2", and a detailed engine message may extend the
 * spec's.  Only reported, never a failure by itself (see the file comment).
 */
static void check_message(spec_file *f, const char *expected, const char *actual) {
    if (!expected)
        return;
    size_t le = strlen(expected), la = strlen(actual);
    size_t n = le < la ? le : la;
    if (memcmp(expected, actual, n) == 0 && (n > 0 || le == 0))
        return;
    f->t.msg_mismatches++;
    if (verbose)
        printf("    note %s:%d %s: expected message \"%s\", got \"%s\" (counted as passed)\n",
               f->wast_name, f->line, f->cmd, expected, actual);
}

/* Reads a whole file; NULL with errno set on failure.  The buffer is NUL-terminated. */
static char *read_file(const char *path, size_t *ret_len) {
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (cap - len < 65536) {
            cap = cap ? cap * 2 : 65536;
            buf = xrealloc(buf, cap + 1);
        }
        size_t n = fread(buf + len, 1, cap - len, fp);
        len += n;
        if (n == 0)
            break;
    }
    int bad = ferror(fp);
    fclose(fp);
    if (bad) {
        free(buf);
        errno = EIO;
        return NULL;
    }
    buf[len] = '\0';
    *ret_len = len;
    return buf;
}

/*
 * cJSON turns the escape \u0000 into a NUL byte inside a NUL-terminated
 * string, which cuts the name short; names.wast exports a function whose
 * name starts with NUL.  So before parsing, each \u0000 escape inside a
 * string is replaced by the byte 0xFF, which never occurs in the UTF-8 that
 * wast2json writes, and json_bytes() turns it back into NUL.  Rewrites
 * `text` in place (it only shrinks).
 */
static void hide_nul_escapes(char *text) {
    char *w = text;
    bool in_string = false;
    for (const char *r = text; *r;) {
        if (!in_string) {
            if (*r == '"')
                in_string = true;
            *w++ = *r++;
        } else if (*r == '\\' && r[1]) {
            if (strncmp(r, "\\u0000", 6) == 0) {
                *w++ = (char)NUL_STANDIN;
                r += 6;
            } else {
                *w++ = *r++;
                *w++ = *r++;
            }
        } else {
            if (*r == '"')
                in_string = false;
            *w++ = *r++;
        }
    }
    *w = '\0';
}

/* The bytes of a JSON string, NULs restored: a malloc'd copy and its length. */
static char *json_bytes(const char *s, size_t *ret_len) {
    size_t n = strlen(s);
    char *p = xstrndup(s, n);
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)p[i] == NUL_STANDIN)
            p[i] = '\0';
    *ret_len = n;
    return p;
}

static const char *json_str(const cJSON *obj, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool parse_u64(const char *s, uint64_t *ret) {
    if (!s || *s < '0' || *s > '9')
        return false;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *ret = v;
    return true;
}

/* ---- Values ------------------------------------------------------------- */

static bool valtype_from_name(const char *s, wr_valtype *ret) {
    static const struct { const char *name; wr_valtype type; } types[] = {
        {"i32", WR_I32}, {"i64", WR_I64}, {"f32", WR_F32}, {"f64", WR_F64},
        {"funcref", WR_FUNCREF}, {"externref", WR_EXTERNREF},
    };
    for (size_t i = 0; s && i < sizeof types / sizeof types[0]; i++) {
        if (strcmp(s, types[i].name) == 0) {
            *ret = types[i].type;
            return true;
        }
    }
    return false;
}

/*
 * `ref.extern N` of the script is the host pointer N + 1, so that
 * `ref.extern 0` is not the null reference.
 */
static void *extern_from_number(uint64_t n) {
    return (void *)(uintptr_t)(n + 1);
}

/* "i32:4294967295 (-1)": the bits in the JSON's unit, then the value as people read it. */
static void format_val(char *buf, size_t size, const wr_val *v) {
    switch (v->type) {
    case WR_I32:
        snprintf(buf, size, "i32:%" PRIu32 " (%" PRId32 ")", (uint32_t)v->of.i32, v->of.i32);
        return;
    case WR_I64:
        snprintf(buf, size, "i64:%" PRIu64 " (%" PRId64 ")", (uint64_t)v->of.i64, v->of.i64);
        return;
    case WR_F32: {
        float x;
        memcpy(&x, &v->of.f32_bits, sizeof x);
        snprintf(buf, size, "f32:%" PRIu32 " (%.9g)", v->of.f32_bits, (double)x);
        return;
    }
    case WR_F64: {
        double x;
        memcpy(&x, &v->of.f64_bits, sizeof x);
        snprintf(buf, size, "f64:%" PRIu64 " (%.17g)", v->of.f64_bits, x);
        return;
    }
    case WR_FUNCREF:
        if (v->of.ref)
            snprintf(buf, size, "funcref:%p", v->of.ref);
        else
            snprintf(buf, size, "funcref:null");
        return;
    case WR_EXTERNREF:
        if (v->of.ref)
            snprintf(buf, size, "externref:%" PRIuPTR, (uintptr_t)v->of.ref - 1);
        else
            snprintf(buf, size, "externref:null");
        return;
    }
    snprintf(buf, size, "type 0x%x", (unsigned)v->type);
}

/* The JSON form of an expected value, for messages: "i32:5", "f32:nan:canonical". */
static void format_expected(char *buf, size_t size, const cJSON *v) {
    const char *type = json_str(v, "type"), *value = json_str(v, "value");
    snprintf(buf, size, "%s:%s", type ? type : "?", value ? value : "(non-null)");
}

/* A list of values for messages: "(i32:1 (1), f32:...)". */
static void format_vals(char *buf, size_t size, const wr_val *vals, size_t n) {
    size_t used = (size_t)snprintf(buf, size, "(");
    for (size_t i = 0; i < n && used < size; i++) {
        char one[96];
        format_val(one, sizeof one, &vals[i]);
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? ", " : "", one);
    }
    if (used < size)
        snprintf(buf + used, size - used, ")");
}

static void format_expected_list(char *buf, size_t size, const cJSON *list) {
    size_t used = (size_t)snprintf(buf, size, "(");
    const cJSON *v;
    bool first = true;
    cJSON_ArrayForEach(v, list) {
        if (used >= size)
            break;
        char one[96];
        format_expected(one, sizeof one, v);
        used += (size_t)snprintf(buf + used, size - used, "%s%s", first ? "" : ", ", one);
        first = false;
    }
    if (used < size)
        snprintf(buf + used, size - used, ")");
}

/* An argument of an action: a concrete value. */
static bool parse_arg(const cJSON *j, wr_val *ret, char *why, size_t whylen) {
    const char *type = json_str(j, "type"), *value = json_str(j, "value");
    wr_valtype t;
    uint64_t n = 0;
    if (!valtype_from_name(type, &t)) {
        snprintf(why, whylen, "unsupported argument type %s", type ? type : "(none)");
        return false;
    }
    bool is_null = value && strcmp(value, "null") == 0;
    if (!(t == WR_FUNCREF || t == WR_EXTERNREF) || !is_null) {
        if (!parse_u64(value, &n)) {
            snprintf(why, whylen, "bad %s argument \"%s\"", type, value ? value : "(none)");
            return false;
        }
    }
    switch (t) {
    case WR_I32: *ret = wr_val_i32((int32_t)(uint32_t)n); break;
    case WR_I64: *ret = wr_val_i64((int64_t)n); break;
    case WR_F32: *ret = wr_val_f32_bits((uint32_t)n); break;
    case WR_F64: *ret = wr_val_f64_bits(n); break;
    case WR_EXTERNREF: *ret = wr_val_ref(t, is_null ? NULL : extern_from_number(n)); break;
    case WR_FUNCREF:
        /* The script has no way to name a function by number. */
        if (!is_null) {
            snprintf(why, whylen, "funcref argument %s cannot be built", value);
            return false;
        }
        *ret = wr_val_ref(t, NULL);
        break;
    }
    return true;
}

/* Whether a result matches one expected value of assert_return. */
static bool val_matches(const cJSON *exp, const wr_val *got) {
    const char *type = json_str(exp, "type"), *value = json_str(exp, "value");
    wr_valtype t;
    uint64_t n = 0;
    if (!valtype_from_name(type, &t) || t != got->type)
        return false;
    if (t == WR_FUNCREF || t == WR_EXTERNREF) {
        if (!value) /* `(ref.func)` / `(ref.extern)`: any non-null reference */
            return got->of.ref != NULL;
        if (strcmp(value, "null") == 0)
            return got->of.ref == NULL;
        if (!parse_u64(value, &n))
            return false;
        /* A function cannot be named by number: any non-null one matches. */
        return t == WR_FUNCREF ? got->of.ref != NULL : got->of.ref == extern_from_number(n);
    }
    if (!value)
        return false;
    /*
     * A canonical NaN has only the quiet bit set in its payload; an
     * arithmetic NaN has the quiet bit set and any other payload.  The sign
     * is free in both.
     */
    if (t == WR_F32 && strcmp(value, "nan:canonical") == 0)
        return (got->of.f32_bits & 0x7fffffffu) == 0x7fc00000u;
    if (t == WR_F32 && strcmp(value, "nan:arithmetic") == 0)
        return (got->of.f32_bits & 0x7fc00000u) == 0x7fc00000u;
    if (t == WR_F64 && strcmp(value, "nan:canonical") == 0)
        return (got->of.f64_bits & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
    if (t == WR_F64 && strcmp(value, "nan:arithmetic") == 0)
        return (got->of.f64_bits & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
    if (!parse_u64(value, &n))
        return false;
    switch (t) {
    case WR_I32: return (uint32_t)got->of.i32 == (uint32_t)n;
    case WR_I64: return (uint64_t)got->of.i64 == n;
    case WR_F32: return got->of.f32_bits == (uint32_t)n;
    case WR_F64: return got->of.f64_bits == n;
    default: return false;
    }
}

/* ---- The "spectest" host module ----------------------------------------- */

static void add_spectest_export(spec_file *f, const char *name, wr_extern ext) {
    assert(f->nspectest < SPECTEST_EXPORTS);
    f->spectest[f->nspectest++] = (host_export){ name, ext };
}

/* The print functions do nothing: their output would only clutter the report. */
static wr_status spectest_print(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    return WR_OK;
}

static bool add_spectest_func(spec_file *f, const char *name, const wr_valtype *params, uint32_t nparams) {
    wr_functype type = { .nparams = nparams, .nresults = 0, .types = params };
    wr_func *fn = wr_func_new_host(f->store, &type, spectest_print, NULL);
    if (!fn)
        return false;
    add_spectest_export(f, name, (wr_extern){ .kind = WR_EXTERN_FUNC, .of.func = fn });
    return true;
}

static bool add_spectest_global(spec_file *f, const char *name, wr_val init) {
    wr_global *g = wr_global_new(f->store, &init, false);
    if (!g)
        return false;
    add_spectest_export(f, name, (wr_extern){ .kind = WR_EXTERN_GLOBAL, .of.global = g });
    return true;
}

/* The objects of the spec interpreter's "spectest" module, as its tests expect them. */
static bool make_spectest(spec_file *f) {
    static const wr_valtype i32[] = {WR_I32}, i64[] = {WR_I64}, f32[] = {WR_F32}, f64[] = {WR_F64};
    static const wr_valtype i32_f32[] = {WR_I32, WR_F32}, f64_f64[] = {WR_F64, WR_F64};
    float f32_666 = 666.6f;
    double f64_666 = 666.6;
    uint32_t f32_bits;
    uint64_t f64_bits;
    memcpy(&f32_bits, &f32_666, sizeof f32_bits);
    memcpy(&f64_bits, &f64_666, sizeof f64_bits);

    if (!add_spectest_func(f, "print", NULL, 0) ||
        !add_spectest_func(f, "print_i32", i32, 1) ||
        !add_spectest_func(f, "print_i64", i64, 1) ||
        !add_spectest_func(f, "print_f32", f32, 1) ||
        !add_spectest_func(f, "print_f64", f64, 1) ||
        !add_spectest_func(f, "print_i32_f32", i32_f32, 2) ||
        !add_spectest_func(f, "print_f64_f64", f64_f64, 2) ||
        !add_spectest_global(f, "global_i32", wr_val_i32(666)) ||
        !add_spectest_global(f, "global_i64", wr_val_i64(666)) ||
        !add_spectest_global(f, "global_f32", wr_val_f32_bits(f32_bits)) ||
        !add_spectest_global(f, "global_f64", wr_val_f64_bits(f64_bits)))
        return false;

    wr_table *table = wr_table_new(f->store, WR_FUNCREF, 10, 20, true);
    wr_memory *memory = wr_memory_new(f->store, 1, 2, true);
    if (!table || !memory)
        return false;
    add_spectest_export(f, "table", (wr_extern){ .kind = WR_EXTERN_TABLE, .of.table = table });
    add_spectest_export(f, "memory", (wr_extern){ .kind = WR_EXTERN_MEMORY, .of.memory = memory });
    return true;
}

/* ---- Modules, names, linking --------------------------------------------- */

static void bind(binding_list *l, const char *name, size_t len, wr_instance *inst) {
    if (l->count == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 16;
        l->items = xrealloc(l->items, l->cap * sizeof *l->items);
    }
    l->items[l->count++] = (binding){ xstrndup(name, len), len, inst };
}

/* The newest binding of a name: a later module or registration hides an earlier one. */
static const binding *lookup(const binding_list *l, const char *name, size_t len) {
    for (size_t i = l->count; i-- > 0;)
        if (l->items[i].len == len && memcmp(l->items[i].name, name, len) == 0)
            return &l->items[i];
    return NULL;
}

static void free_bindings(binding_list *l) {
    for (size_t i = 0; i < l->count; i++)
        free(l->items[i].name);
    free(l->items);
    memset(l, 0, sizeof *l);
}

static void keep_module(spec_file *f, wr_module *m) {
    if (f->nmodules == f->capmodules) {
        f->capmodules = f->capmodules ? 2 * f->capmodules : 64;
        f->modules = xrealloc(f->modules, f->capmodules * sizeof *f->modules);
    }
    f->modules[f->nmodules++] = m;
}

/*
 * Loads a module file named by a command.  A file that cannot be read is
 * reported as WR_ERR_IO, which no assertion accepts as the expected failure.
 */
static wr_status load_module(spec_file *f, const cJSON *cmd, wr_module **ret, wr_error *err) {
    const char *filename = json_str(cmd, "filename");
    memset(err, 0, sizeof *err);
    *ret = NULL;
    if (!filename) {
        snprintf(err->detail, sizeof err->detail, "command has no filename");
        return err->status = WR_ERR_IO;
    }
    size_t plen = strlen(f->dir) + 1 + strlen(filename) + 1;
    char *path = xrealloc(NULL, plen);
    snprintf(path, plen, "%s/%s", f->dir, filename);
    size_t len;
    uint8_t *bytes = (uint8_t *)read_file(path, &len);
    if (!bytes) {
        snprintf(err->detail, sizeof err->detail, "cannot read %s: %s", path, strerror(errno));
        free(path);
        return err->status = WR_ERR_IO;
    }
    free(path);
    wr_status s = wr_module_load(bytes, len, ret, err);
    free(bytes);
    if (s != WR_OK)
        *ret = NULL;
    return s;
}

/* Finds the object that one import names, among registered instances and "spectest". */
static bool resolve_import(spec_file *f, const wr_import_desc *imp, wr_extern *ret, char *why, size_t whylen) {
    const binding *b = lookup(&f->registered, imp->module, imp->module_len);
    if (b) {
        if (!b->inst) {
            snprintf(why, whylen, "module \"%s\" failed earlier", b->name);
            return false;
        }
        if (wr_instance_export_n(b->inst, imp->name, imp->name_len, ret))
            return true;
        snprintf(why, whylen, "\"%s\" has no export \"%s\"", b->name, imp->name);
        return false;
    }
    if (imp->module_len == 8 && memcmp(imp->module, "spectest", 8) == 0) {
        for (size_t i = 0; i < f->nspectest; i++) {
            if (strlen(f->spectest[i].name) == imp->name_len &&
                memcmp(f->spectest[i].name, imp->name, imp->name_len) == 0) {
                *ret = f->spectest[i].ext;
                return true;
            }
        }
        snprintf(why, whylen, "\"spectest\" has no export \"%s\"", imp->name);
        return false;
    }
    snprintf(why, whylen, "no module \"%s\" is registered", imp->module);
    return false;
}

/*
 * Resolves a module's imports and instantiates it.  A missing import is
 * the spec's "unknown import" link error, decided here without calling
 * wr_instantiate; whether a found object fits the import (kind and type) is
 * the engine's to check.
 */
static wr_status link_module(spec_file *f, const wr_module *m, wr_instance **ret, wr_error *err) {
    uint32_t n = wr_module_import_count(m);
    wr_extern *imports = xrealloc(NULL, (n ? n : 1) * sizeof *imports);
    wr_status s = WR_OK;
    memset(err, 0, sizeof *err);
    *ret = NULL;
    for (uint32_t i = 0; i < n; i++) {
        wr_import_desc d;
        char why[128];
        wr_module_import(m, i, &d);
        if (!resolve_import(f, &d, &imports[i], why, sizeof why)) {
            err->status = s = WR_ERR_UNKNOWN_IMPORT;
            snprintf(err->detail, sizeof err->detail, "import %u \"%s\" \"%s\": %s", i, d.module, d.name, why);
            goto out_free_imports;
        }
    }
    s = wr_instantiate(f->store, m, imports, n, ret, err);
    if (s != WR_OK)
        *ret = NULL;
out_free_imports:
    free(imports);
    return s;
}

/* "type mismatch (detail)" for messages. */
static const char *describe(const wr_error *err, wr_status s, char *buf, size_t size) {
    if (err->detail[0])
        snprintf(buf, size, "%s: %s (%s)", wr_status_name(s), wr_status_message(s), err->detail);
    else
        snprintf(buf, size, "%s: %s", wr_status_name(s), wr_status_message(s));
    return buf;
}

/* ---- Actions -------------------------------------------------------------- */

/* What an invoke or get did. */
typedef struct action_result {
    bool ran;          /* false: the runner could not make the call (see why) */
    wr_status status;  /* when it ran */
    wr_val *results;   /* nresults of them, malloc'd */
    size_t nresults;
    char what[160];    /* `invoke "add"`, for messages */
    char why[256];
} action_result;

/* The instance an action or register names: by $name, or the last module's. */
static wr_instance *find_instance(spec_file *f, const char *name, char *why, size_t whylen) {
    if (name) {
        const binding *b = lookup(&f->named, name, strlen(name));
        if (!b)
            snprintf(why, whylen, "no module named %s", name);
        else if (!b->inst)
            snprintf(why, whylen, "module %s failed earlier", name);
        return b ? b->inst : NULL;
    }
    if (!f->current)
        snprintf(why, whylen, f->have_module ? "the last module failed" : "no module yet");
    return f->current;
}

static void run_action(spec_file *f, const cJSON *action, action_result *r) {
    const char *type = json_str(action, "type");
    const char *field = json_str(action, "field");
    memset(r, 0, sizeof *r);
    snprintf(r->what, sizeof r->what, "%s \"%s\"", type ? type : "?", field ? field : "?");
    if (!type || !field) {
        snprintf(r->why, sizeof r->why, "malformed action");
        return;
    }
    wr_instance *inst = find_instance(f, json_str(action, "module"), r->why, sizeof r->why);
    if (!inst)
        return;

    size_t flen;
    char *fname = json_bytes(field, &flen);
    wr_extern ext;
    bool found = wr_instance_export_n(inst, fname, flen, &ext);
    free(fname);
    if (!found) {
        snprintf(r->why, sizeof r->why, "no export \"%s\"", field);
        return;
    }

    if (strcmp(type, "get") == 0) {
        if (ext.kind != WR_EXTERN_GLOBAL) {
            snprintf(r->why, sizeof r->why, "export \"%s\" is a %s, not a global", field, wr_externkind_name(ext.kind));
            return;
        }
        r->results = xrealloc(NULL, sizeof *r->results);
        r->nresults = 1;
        wr_global_get(ext.of.global, &r->results[0]);
        r->ran = true;
        r->status = WR_OK;
        return;
    }
    if (strcmp(type, "invoke") != 0) {
        snprintf(r->why, sizeof r->why, "unknown action type \"%s\"", type);
        return;
    }
    if (ext.kind != WR_EXTERN_FUNC) {
        snprintf(r->why, sizeof r->why, "export \"%s\" is a %s, not a function", field, wr_externkind_name(ext.kind));
        return;
    }

    /* Arguments must fit the function's type: wr_call would refuse them anyway. */
    const wr_functype *ft = wr_func_type(ext.of.func);
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(action, "args");
    size_t nargs = (size_t)cJSON_GetArraySize(args);
    if (nargs != ft->nparams) {
        snprintf(r->why, sizeof r->why, "%zu arguments given, the function takes %" PRIu32, nargs, ft->nparams);
        return;
    }
    wr_val *argv = xrealloc(NULL, (nargs ? nargs : 1) * sizeof *argv);
    size_t i = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, args) {
        if (!parse_arg(a, &argv[i], r->why, sizeof r->why))
            goto out_free_args;
        if (argv[i].type != ft->types[i]) {
            snprintf(r->why, sizeof r->why, "argument %zu is %s, the function takes %s", i,
                     wr_valtype_name(argv[i].type), wr_valtype_name(ft->types[i]));
            goto out_free_args;
        }
        i++;
    }

    r->nresults = ft->nresults;
    r->results = xrealloc(NULL, (r->nresults ? r->nresults : 1) * sizeof *r->results);
    memset(r->results, 0, (r->nresults ? r->nresults : 1) * sizeof *r->results);
    wr_exec_set_fuel(f->exec, ACTION_FUEL);
    r->status = wr_call(f->exec, ext.of.func, argv, nargs, r->results, r->nresults);
    r->ran = true;
    if (r->status == WR_SUSPENDED || r->status == WR_OUT_OF_FUEL) {
        /* Our host functions never suspend; out of fuel means a runaway loop.  Either way, abandon the call. */
        wr_exec_reset(f->exec);
    }
out_free_args:
    free(argv);
}

static void free_action(action_result *r) {
    free(r->results);
    r->results = NULL;
}

/* ---- Commands --------------------------------------------------------------- */

static void cmd_module(spec_file *f, const cJSON *cmd) {
    const char *name = json_str(cmd, "name");
    wr_module *m;
    wr_instance *inst = NULL;
    wr_error err;
    char buf[320];
    wr_status s;

    f->have_module = true;
    f->current = NULL;
    s = load_module(f, cmd, &m, &err);
    if (s != WR_OK) {
        fail(f, "module did not load: %s", describe(&err, s, buf, sizeof buf));
    } else {
        keep_module(f, m);
        s = link_module(f, m, &inst, &err);
        if (s != WR_OK)
            fail(f, "module did not instantiate: %s", describe(&err, s, buf, sizeof buf));
        else
            pass(f);
    }
    /* A failed module is still bound, as NULL, so that later commands naming it fail clearly. */
    f->current = inst;
    if (name)
        bind(&f->named, name, strlen(name), inst);
}

/* Not a test: a registration that cannot be done shows up as failing imports later. */
static void cmd_register(spec_file *f, const cJSON *cmd) {
    const char *as = json_str(cmd, "as");
    char why[160];
    wr_instance *inst = find_instance(f, json_str(cmd, "name"), why, sizeof why);
    if (!as)
        return;
    if (!inst && verbose)
        printf("    note %s:%d register \"%s\": %s\n", f->wast_name, f->line, as, why);
    size_t len;
    char *bytes = json_bytes(as, &len);
    bind(&f->registered, bytes, len, inst);
    free(bytes);
}

/* A bare action: passes when it runs without trapping. */
static void cmd_action(spec_file *f, const cJSON *cmd) {
    action_result r;
    run_action(f, cJSON_GetObjectItemCaseSensitive(cmd, "action"), &r);
    if (!r.ran)
        fail(f, "%s: %s", r.what, r.why);
    else if (r.status != WR_OK)
        fail(f, "%s: %s: %s", r.what, wr_status_name(r.status), wr_status_message(r.status));
    else
        pass(f);
    free_action(&r);
}

static void cmd_assert_return(spec_file *f, const cJSON *cmd) {
    const cJSON *expected = cJSON_GetObjectItemCaseSensitive(cmd, "expected");
    action_result r;
    char exp[512], got[512];

    run_action(f, cJSON_GetObjectItemCaseSensitive(cmd, "action"), &r);
    format_expected_list(exp, sizeof exp, expected);
    if (!r.ran) {
        fail(f, "%s: %s", r.what, r.why);
        goto out;
    }
    if (r.status != WR_OK) {
        fail(f, "%s: expected %s, got %s: %s", r.what, exp, wr_status_name(r.status), wr_status_message(r.status));
        goto out;
    }
    format_vals(got, sizeof got, r.results, r.nresults);
    if ((size_t)cJSON_GetArraySize(expected) != r.nresults) {
        fail(f, "%s: expected %s, got %s", r.what, exp, got);
        goto out;
    }
    size_t i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, expected) {
        if (!val_matches(e, &r.results[i])) {
            fail(f, "%s: expected %s, got %s (result %zu differs)", r.what, exp, got, i);
            goto out;
        }
        i++;
    }
    pass(f);
out:
    free_action(&r);
}

/* assert_trap and assert_exhaustion: the call must trap (exhaustion: with that very trap). */
static void cmd_assert_trap(spec_file *f, const cJSON *cmd) {
    const char *text = json_str(cmd, "text");
    bool exhaustion = strcmp(f->cmd, "assert_exhaustion") == 0;
    action_result r;
    char got[512];

    run_action(f, cJSON_GetObjectItemCaseSensitive(cmd, "action"), &r);
    if (!r.ran) {
        fail(f, "%s: %s", r.what, r.why);
    } else if (r.status == WR_OK) {
        format_vals(got, sizeof got, r.results, r.nresults);
        fail(f, "%s: expected trap \"%s\", returned %s", r.what, text ? text : "", got);
    } else if (exhaustion ? r.status != WR_TRAP_CALL_STACK_EXHAUSTED : !wr_status_is_trap(r.status)) {
        fail(f, "%s: expected trap \"%s\", got %s: %s", r.what, text ? text : "",
             wr_status_name(r.status), wr_status_message(r.status));
    } else {
        pass(f);
        check_message(f, text, wr_status_message(r.status));
    }
    free_action(&r);
}

static bool is_text_module(const cJSON *cmd) {
    const char *type = json_str(cmd, "module_type");
    return type && strcmp(type, "text") == 0;
}

/* assert_malformed and assert_invalid: loading must fail with a decode or validation error. */
static void cmd_assert_bad_module(spec_file *f, const cJSON *cmd) {
    const char *text = json_str(cmd, "text");
    wr_module *m;
    wr_error err;
    char buf[320];

    if (is_text_module(cmd)) {
        /* A test of the text format's parser; the engine reads binaries only. */
        f->t.skipped++;
        return;
    }
    wr_status s = load_module(f, cmd, &m, &err);
    if (s == WR_OK) {
        wr_module_free(m);
        fail(f, "module loaded, expected \"%s\"", text ? text : "");
    } else if (!wr_status_is_malformed(s) && !wr_status_is_invalid(s)) {
        fail(f, "expected \"%s\", got %s", text ? text : "", describe(&err, s, buf, sizeof buf));
    } else {
        pass(f);
        check_message(f, text, wr_status_message(s));
    }
}

/* assert_unlinkable and assert_uninstantiable: the module loads, its instantiation fails. */
static void cmd_assert_bad_instance(spec_file *f, const cJSON *cmd) {
    const char *text = json_str(cmd, "text");
    bool unlinkable = strcmp(f->cmd, "assert_unlinkable") == 0;
    wr_module *m;
    wr_instance *inst;
    wr_error err;
    char buf[320];

    if (is_text_module(cmd)) {
        f->t.skipped++;
        return;
    }
    wr_status s = load_module(f, cmd, &m, &err);
    if (s != WR_OK) {
        fail(f, "module did not load: %s", describe(&err, s, buf, sizeof buf));
        return;
    }
    keep_module(f, m);
    s = link_module(f, m, &inst, &err);
    bool right_kind = unlinkable ? (s == WR_ERR_UNKNOWN_IMPORT || s == WR_ERR_INCOMPATIBLE_IMPORT)
                                 : wr_status_is_trap(s);
    if (s == WR_OK) {
        fail(f, "module instantiated, expected \"%s\"", text ? text : "");
    } else if (!right_kind) {
        fail(f, "expected %s \"%s\", got %s", unlinkable ? "link error" : "trap", text ? text : "",
             describe(&err, s, buf, sizeof buf));
    } else {
        pass(f);
        check_message(f, text, wr_status_message(s));
    }
}

typedef struct command_kind {
    const char *type;
    void (*run)(spec_file *f, const cJSON *cmd);
    bool is_test;  /* counted; `register` is not */
} command_kind;

static const command_kind command_kinds[] = {
    {"module",                cmd_module,              true},
    {"register",              cmd_register,            false},
    {"action",                cmd_action,              true},
    {"assert_return",         cmd_assert_return,       true},
    {"assert_trap",           cmd_assert_trap,         true},
    {"assert_exhaustion",     cmd_assert_trap,         true},
    {"assert_malformed",      cmd_assert_bad_module,   true},
    {"assert_invalid",        cmd_assert_bad_module,   true},
    {"assert_unlinkable",     cmd_assert_bad_instance, true},
    {"assert_uninstantiable", cmd_assert_bad_instance, true},
};

static const command_kind *find_command(const char *type) {
    for (size_t i = 0; type && i < sizeof command_kinds / sizeof command_kinds[0]; i++)
        if (strcmp(type, command_kinds[i].type) == 0)
            return &command_kinds[i];
    return NULL;
}

/* ---- Files -------------------------------------------------------------------- */

static void print_file_line(const char *name, const tally *t) {
    printf("  %-40s passed %ld / total %ld  (failed %ld, skipped %ld)\n", name, t->passed,
           t->passed + t->failed + t->skipped, t->failed, t->skipped);
}

/* Sets the directory and the .wast name (from the json, or guessed from its path). */
static void name_file(spec_file *f, const cJSON *root) {
    const char *slash = strrchr(f->json_path, '/');
    f->dir = slash ? xstrndup(f->json_path, (size_t)(slash - f->json_path)) : xstrndup(".", 1);
    /* wast2json records the path it was given; the name alone is what people look for. */
    const char *src = root ? json_str(root, "source_filename") : NULL;
    if (src) {
        const char *src_slash = strrchr(src, '/');
        snprintf(f->wast_name, sizeof f->wast_name, "%s", src_slash ? src_slash + 1 : src);
    } else {
        const char *base = slash ? slash + 1 : f->json_path;
        size_t n = strlen(base);
        if (n > 5 && strcmp(base + n - 5, ".json") == 0)
            n -= 5;
        snprintf(f->wast_name, sizeof f->wast_name, "%.*s.wast", (int)n, base);
    }
}

/* Reads and parses a json file; on failure prints why and returns NULL. */
static cJSON *load_json(const char *path) {
    size_t len;
    char *text = read_file(path, &len);
    if (!text) {
        printf("  %s: cannot read: %s\n", path, strerror(errno));
        return NULL;
    }
    hide_nul_escapes(text);
    cJSON *root = cJSON_Parse(text);
    free(text);
    const cJSON *commands = root ? cJSON_GetObjectItemCaseSensitive(root, "commands") : NULL;
    if (!cJSON_IsArray(commands)) {
        printf("  %s: not a wast2json file\n", path);
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* A file given with -s: every test in it is counted as skipped, none is run. */
static void skip_file(const char *path, tally *total) {
    spec_file f = { .json_path = path };
    cJSON *root = load_json(path);
    const cJSON *c;
    name_file(&f, root);
    if (root) {
        cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "commands")) {
            const command_kind *k = find_command(json_str(c, "type"));
            if (!k || k->is_test)
                f.t.skipped++;
        }
    }
    print_file_line(f.wast_name, &f.t);
    total->skipped += f.t.skipped;
    cJSON_Delete(root);
    free(f.dir);
}

static void run_file(const char *path, tally *total) {
    spec_file f = { .json_path = path };
    cJSON *root = load_json(path);
    const cJSON *c;

    name_file(&f, root);
    if (!root) {
        f.t.failed++;
        goto out;
    }
    f.store = wr_store_new(NULL);
    f.exec = f.store ? wr_exec_new(f.store) : NULL;
    if (!f.exec || !make_spectest(&f)) {
        printf("  %s: cannot set up a store\n", f.wast_name);
        f.t.failed++;
        goto out;
    }

    cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(root, "commands")) {
        const cJSON *line = cJSON_GetObjectItemCaseSensitive(c, "line");
        const char *type = json_str(c, "type");
        const command_kind *k = find_command(type);
        f.line = cJSON_IsNumber(line) ? line->valueint : 0;
        f.cmd = type ? type : "(no type)";
        if (!k) {
            fail(&f, "unknown command");
            continue;
        }
        tally before = f.t;
        k->run(&f, c);
        if (strncmp(f.cmd, "assert_", 7) == 0) {
            f.t.assert_passed += f.t.passed - before.passed;
            f.t.assert_failed += f.t.failed - before.failed;
            f.t.assert_skipped += f.t.skipped - before.skipped;
        }
    }

out:
    print_file_line(f.wast_name, &f.t);
    total->passed += f.t.passed;
    total->failed += f.t.failed;
    total->skipped += f.t.skipped;
    total->msg_mismatches += f.t.msg_mismatches;
    total->assert_passed += f.t.assert_passed;
    total->assert_failed += f.t.assert_failed;
    total->assert_skipped += f.t.assert_skipped;

    /* The exec and every instance belong to the store; modules must outlive their instances. */
    wr_exec_free(f.exec);
    wr_store_free(f.store);
    for (size_t i = 0; i < f.nmodules; i++)
        wr_module_free(f.modules[i]);
    free(f.modules);
    free_bindings(&f.named);
    free_bindings(&f.registered);
    cJSON_Delete(root);
    free(f.dir);
}

static void usage(void) {
    fprintf(stderr, "usage: spectest [-v] [-s SKIPPED.json]... FILE.json...\n");
    exit(2);
}

int main(int argc, char **argv) {
    tally total = {0};
    int nfiles = 0;

    /* Line-buffered so that the report interleaves sensibly with a crash's message. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-v") == 0) {
            verbose = true;
        } else if (strcmp(argv[i], "-s") == 0) {
            if (++i == argc)
                usage();
            skip_file(argv[i], &total);
            nfiles++;
        } else if (argv[i][0] == '-') {
            usage();
        } else {
            run_file(argv[i], &total);
            nfiles++;
        }
    }
    if (nfiles == 0)
        usage();

    if (total.msg_mismatches)
        printf("note: %ld passed test%s had a message other than the expected text%s\n",
               total.msg_mismatches, total.msg_mismatches == 1 ? "" : "s", verbose ? "" : " (-v lists them)");
    printf("assertions in the files run: %ld passed, %ld failed, %ld skipped (text format)\n",
           total.assert_passed, total.assert_failed, total.assert_skipped);
    printf("%ld passed, %ld failed, %ld skipped\n", total.passed, total.failed, total.skipped);
    return total.failed ? 1 : 0;
}
