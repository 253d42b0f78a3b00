/*
 * modinfo.c - a reader of the sections of a module that describe its index
 * spaces (type, import, function, table, memory, global), for inspect.
 */
#include <stdlib.h>
#include <string.h>

#include "cli/modinfo.h"

typedef struct reader {
    const uint8_t *p, *end;
    bool bad;
} reader;

static uint8_t byte(reader *r) {
    if (r->p >= r->end) {
        r->bad = true;
        return 0;
    }
    return *r->p++;
}

static uint64_t leb(reader *r) {
    uint64_t v = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        uint8_t b = byte(r);
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return v;
    }
    r->bad = true;
    return 0;
}

static void skip(reader *r, uint64_t n) {
    if (n > (uint64_t)(r->end - r->p)) {
        r->bad = true;
        r->p = r->end;
        return;
    }
    r->p += n;
}

static cli_limits limits(reader *r) {
    cli_limits l = { 0 };
    uint8_t flags = byte(r);
    l.min = leb(r);
    if (flags & 1) {
        l.has_max = true;
        l.max = leb(r);
    }
    return l;
}

/* Grows an array by one element; NULL when out of memory or past a sane count. */
static void *push(void *arr, uint32_t *n, size_t size) {
    if (*n >= 1000000)
        return NULL;
    void *grown = realloc(arr, (*n + 1) * size);
    if (grown)
        (*n)++;
    return grown;
}

#define PUSH(arr, n) ((tmp = push((arr), &(n), sizeof *(arr))) ? ((arr) = tmp, true) : false)

static bool read_types(reader *r, cli_modinfo *mi) {
    void *tmp;
    uint64_t n = leb(r);
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        if (byte(r) != 0x60 || !PUSH(mi->types, mi->ntypes))
            return false;
        cli_functype *t = &mi->types[mi->ntypes - 1];
        t->nparams = (uint32_t)leb(r);
        t->params = r->p;
        skip(r, t->nparams);
        t->nresults = (uint32_t)leb(r);
        t->results = r->p;
        skip(r, t->nresults);
    }
    return !r->bad;
}

static bool read_imports(reader *r, cli_modinfo *mi) {
    void *tmp;
    uint64_t n = leb(r);
    for (uint64_t i = 0; i < n && !r->bad; i++) {
        skip(r, leb(r)); /* module */
        skip(r, leb(r)); /* name */
        switch (byte(r)) {
        case 0:
            if (!PUSH(mi->funcs, mi->nfuncs))
                return false;
            mi->funcs[mi->nfuncs - 1] = (uint32_t)leb(r);
            break;
        case 1:
            if (!PUSH(mi->tables, mi->ntables))
                return false;
            mi->tables[mi->ntables - 1].elem = byte(r);
            mi->tables[mi->ntables - 1].limits = limits(r);
            break;
        case 2:
            if (!PUSH(mi->memories, mi->nmemories))
                return false;
            mi->memories[mi->nmemories - 1] = limits(r);
            break;
        case 3:
            if (!PUSH(mi->globals, mi->nglobals))
                return false;
            mi->globals[mi->nglobals - 1].type = byte(r);
            mi->globals[mi->nglobals - 1].mutable_ = byte(r) != 0;
            break;
        default:
            return false;
        }
    }
    return !r->bad;
}

/* Skips a constant expression (ends with 0x0b; its immediates never contain an unescaped 0x0b that matters here). */
static void skip_const_expr(reader *r) {
    for (;;) {
        uint8_t op = byte(r);
        if (r->bad || op == 0x0b)
            return;
        switch (op) {
        case 0x41: case 0x42: case 0x23: case 0xd2: (void)leb(r); break; /* i32/i64.const, global.get, ref.func */
        case 0x43: skip(r, 4); break;
        case 0x44: skip(r, 8); break;
        case 0xd0: (void)byte(r); break;                                 /* ref.null t */
        default: break;                                                  /* extended-const arithmetic */
        }
    }
}

static bool read_section(uint8_t id, reader *r, cli_modinfo *mi) {
    void *tmp;
    uint64_t n;
    switch (id) {
    case 1:
        return read_types(r, mi);
    case 2:
        return read_imports(r, mi);
    case 3:
        n = leb(r);
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            if (!PUSH(mi->funcs, mi->nfuncs))
                return false;
            mi->funcs[mi->nfuncs - 1] = (uint32_t)leb(r);
        }
        return !r->bad;
    case 4:
        n = leb(r);
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            if (!PUSH(mi->tables, mi->ntables))
                return false;
            mi->tables[mi->ntables - 1].elem = byte(r);
            mi->tables[mi->ntables - 1].limits = limits(r);
        }
        return !r->bad;
    case 5:
        n = leb(r);
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            if (!PUSH(mi->memories, mi->nmemories))
                return false;
            mi->memories[mi->nmemories - 1] = limits(r);
        }
        return !r->bad;
    case 6:
        n = leb(r);
        for (uint64_t i = 0; i < n && !r->bad; i++) {
            if (!PUSH(mi->globals, mi->nglobals))
                return false;
            mi->globals[mi->nglobals - 1].type = byte(r);
            mi->globals[mi->nglobals - 1].mutable_ = byte(r) != 0;
            skip_const_expr(r);
        }
        return !r->bad;
    default:
        return true;
    }
}

bool cli_modinfo_read(const uint8_t *bytes, size_t len, cli_modinfo *ret) {
    cli_modinfo mi = { 0 };
    reader r = { bytes, bytes + len, false };
    skip(&r, 8); /* magic and version, checked by the engine */
    while (!r.bad && r.p < r.end) {
        uint8_t id = byte(&r);
        uint64_t size = leb(&r);
        if (r.bad || size > (uint64_t)(r.end - r.p))
            break;
        reader sec = { r.p, r.p + size, false };
        if (!read_section(id, &sec, &mi) || sec.bad) {
            r.bad = true;
            break;
        }
        r.p += size;
    }
    if (r.bad) {
        cli_modinfo_free(&mi);
        return false;
    }
    *ret = mi;
    return true;
}

void cli_modinfo_free(cli_modinfo *mi) {
    if (!mi)
        return;
    free(mi->types);
    free(mi->funcs);
    free(mi->tables);
    free(mi->memories);
    free(mi->globals);
    memset(mi, 0, sizeof *mi);
}

const char *cli_modinfo_valtype(uint8_t t) {
    switch (t) {
    case 0x7f: return "i32";
    case 0x7e: return "i64";
    case 0x7d: return "f32";
    case 0x7c: return "f64";
    case 0x7b: return "v128";
    case 0x70: return "funcref";
    case 0x6f: return "externref";
    default: return "?";
    }
}
