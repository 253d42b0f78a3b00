/*
 * module.c - loading a module (decode, validate, translate), its accessors,
 * and the tables that name statuses, value types and extern kinds.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const status_names[] = {
#define WR__STATUS_NAME(name, msg) #name,
    WR_STATUS_MAP(WR__STATUS_NAME)
#undef WR__STATUS_NAME
};

static const char *const status_messages[] = {
#define WR__STATUS_MSG(name, msg) msg,
    WR_STATUS_MAP(WR__STATUS_MSG)
#undef WR__STATUS_MSG
};

const char *wr_status_name(wr_status s) {
    return (unsigned)s < WR__STATUS_COUNT ? status_names[s] : "UNKNOWN";
}

const char *wr_status_message(wr_status s) {
    return (unsigned)s < WR__STATUS_COUNT ? status_messages[s] : "unknown status";
}

bool wr_status_is_trap(wr_status s) {
    return s >= WR_TRAP_UNREACHABLE && s <= WR_TRAP_EXIT;
}

bool wr_status_is_malformed(wr_status s) {
    return s >= WR_ERR_UNEXPECTED_END && s <= WR_ERR_TOO_BIG;
}

bool wr_status_is_invalid(wr_status s) {
    return s >= WR_ERR_TYPE_MISMATCH && s <= WR_ERR_INVALID_RESULT_ARITY;
}

const char *wr_valtype_name(wr_valtype t) {
    switch (t) {
    case WR_I32: return "i32";
    case WR_I64: return "i64";
    case WR_F32: return "f32";
    case WR_F64: return "f64";
    case WR_FUNCREF: return "funcref";
    case WR_EXTERNREF: return "externref";
    }
    return "unknown";
}

const char *wr_externkind_name(wr_externkind k) {
    switch (k) {
    case WR_EXTERN_FUNC: return "func";
    case WR_EXTERN_TABLE: return "table";
    case WR_EXTERN_MEMORY: return "memory";
    case WR_EXTERN_GLOBAL: return "global";
    }
    return "unknown";
}

wr_status wr__error(wr_error *err, wr_status s, uint32_t offset, const char *fmt, ...) {
    if (err) {
        err->status = s;
        err->offset = offset;
        err->detail[0] = '\0';
        if (fmt) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err->detail, sizeof err->detail, fmt, ap);
            va_end(ap);
        }
    }
    return s;
}

bool wr__functype_equal(const wr_functype *a, const wr_functype *b) {
    if (a->nparams != b->nparams || a->nresults != b->nresults)
        return false;
    uint32_t n = a->nparams + a->nresults;
    return n == 0 || memcmp(a->types, b->types, n * sizeof *a->types) == 0;
}

void wr__module_clear(wr_module *m) {
    if (!m)
        return;
    for (uint32_t i = 0; i < m->ntypes; i++)
        free((void *)m->types[i].types);
    free(m->types);
    for (uint32_t i = 0; i < m->nimports; i++) {
        free(m->imports[i].module);
        free(m->imports[i].name);
    }
    free(m->imports);
    for (uint32_t i = 0; i < m->nfuncs; i++) {
        wr__funcdef *f = &m->funcs[i];
        free(f->local_types);
        free(f->name);
        if (f->code) {
            free(f->code->cells);
            free(f->code->frame_init);
            free(f->code);
        }
    }
    free(m->funcs);
    free(m->tables);
    free(m->memories);
    free(m->globals);
    for (uint32_t i = 0; i < m->nexports; i++)
        free(m->exports[i].name);
    free(m->exports);
    for (uint32_t i = 0; i < m->nelems; i++)
        free(m->elems[i].items);
    free(m->elems);
    free(m->datas);
    free(m->func_declared);
    free(m->bytes);
    memset(m, 0, sizeof *m);
}

wr_status wr_module_load(const uint8_t *bytes, size_t len, wr_module **ret_module, wr_error *err) {
    wr__error(err, WR_OK, 0, NULL);
    if (len > WR_MAX_MODULE_SIZE)
        return wr__error(err, WR_ERR_TOO_BIG, 0, "%zu bytes, the limit is %u", len, WR_MAX_MODULE_SIZE);

    wr_module *m = calloc(1, sizeof *m);
    if (!m)
        return wr__error(err, WR_ERR_NOMEM, 0, NULL);
    m->bytes = malloc(len ? len : 1);
    if (!m->bytes) {
        free(m);
        return wr__error(err, WR_ERR_NOMEM, 0, NULL);
    }
    if (len)
        memcpy(m->bytes, bytes, len);
    m->len = len;

    wr_status s = wr__decode(m, err);
    if (s == WR_OK)
        s = wr__validate(m, err);
    if (s == WR_OK)
        s = wr__compile(m, err);
    if (s != WR_OK) {
        wr_module_free(m);
        return s;
    }
    *ret_module = m;
    return WR_OK;
}

void wr_module_free(wr_module *m) {
    if (!m)
        return;
    wr__module_clear(m);
    free(m);
}

uint32_t wr_module_import_count(const wr_module *m) {
    return m->nimports;
}

void wr_module_import(const wr_module *m, uint32_t i, wr_import_desc *ret) {
    const wr__import *imp = &m->imports[i];
    ret->module = imp->module;
    ret->name = imp->name;
    ret->module_len = imp->module_len;
    ret->name_len = imp->name_len;
    ret->kind = imp->kind;
    ret->functype = imp->kind == WR_EXTERN_FUNC ? &m->types[m->funcs[imp->index].type_index] : NULL;
}

uint32_t wr_module_export_count(const wr_module *m) {
    return m->nexports;
}

void wr_module_export(const wr_module *m, uint32_t i, wr_export_desc *ret) {
    const wr__export *ex = &m->exports[i];
    ret->name = ex->name;
    ret->name_len = ex->name_len;
    ret->kind = ex->kind;
    ret->index = ex->index;
}
