/*
 * validate.c - does a module link against what wasmd provides?  (See validate.h.)
 *
 * WASI imports are checked by linking them for real into a scratch store
 * with a context that has no descriptors: wasi_ctx_link_partial knows every
 * WASI function and its signature, so there is no second table to keep in
 * step.  The daemon's own imports are checked against WD_HOST_IMPORT_MAP.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/validate.h"
#include "wasi/wasi.h"

typedef struct host_import {
    const char *module, *name, *params, *results, *capability;
} host_import;

static const host_import host_imports[] = {
#define WD__HOST_ROW(nm, par, res, cap) { WASMD_IMPORT_MODULE, #nm, par, res, cap },
    WD_HOST_IMPORT_MAP(WD__HOST_ROW)
#undef WD__HOST_ROW
    { NULL, NULL, NULL, NULL, NULL },
};

static char type_letter(wr_valtype t) {
    switch (t) {
    case WR_I32: return 'i';
    case WR_I64: return 'I';
    case WR_F32: return 'f';
    case WR_F64: return 'F';
    default: return '?';
    }
}

static bool types_match(const wr_valtype *types, uint32_t n, const char *letters) {
    if (strlen(letters) != n)
        return false;
    for (uint32_t i = 0; i < n; i++)
        if (type_letter(types[i]) != letters[i])
            return false;
    return true;
}

bool wd_functype_matches(const wr_functype *t, const char *params, const char *results) {
    return t && types_match(t->types, t->nparams, params) && types_match(t->types + t->nparams, t->nresults, results);
}

/* The row of the host table with that module and name, or NULL. */
static const host_import *host_find(const wr_import_desc *d) {
    for (const host_import *h = host_imports; h->module; h++)
        if (strlen(h->module) == d->module_len && memcmp(h->module, d->module, d->module_len) == 0 &&
            strlen(h->name) == d->name_len && memcmp(h->name, d->name, d->name_len) == 0)
            return h;
    return NULL;
}

const char *wd_import_capability(const wr_module *m, uint32_t i) {
    if (wasi_import_is_wasi(m, i))
        return WD_CAP_WASI;
    wr_import_desc d;
    wr_module_import(m, i, &d);
    const host_import *h = host_find(&d);
    return h ? h->capability : NULL;
}

static void reportf(wd_report_fn report, void *ud, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void reportf(wd_report_fn report, void *ud, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    report(ud, msg);
}

int wd_validate_imports(const wr_module *m, wd_report_fn report, void *ud) {
    uint32_t n = wr_module_import_count(m);
    int problems = 0;
    bool any_wasi = false;

    for (uint32_t i = 0; i < n; i++) {
        wr_import_desc d;
        wr_module_import(m, i, &d);
        if (wasi_import_is_wasi(m, i)) {
            any_wasi = true;
            continue;
        }
        const host_import *h = host_find(&d);
        if (!h) {
            reportf(report, ud, "import %.*s.%.*s (%s): not provided by wasmd", (int)d.module_len, d.module,
                    (int)d.name_len, d.name, wr_externkind_name(d.kind));
            problems++;
        } else if (d.kind != WR_EXTERN_FUNC || !wd_functype_matches(d.functype, h->params, h->results)) {
            reportf(report, ud, "import %s.%s: incompatible import type (wasmd provides params \"%s\" results \"%s\")",
                    h->module, h->name, h->params, h->results);
            problems++;
        }
    }
    if (!any_wasi)
        return problems;

    /* Link the WASI imports for real into a scratch store: that checks names and signatures. */
    wasi_config wc = { .stdin_fd = -1, .stdout_fd = -1, .stderr_fd = -1, .nonblocking = true };
    wasi_ctx *ctx = NULL;
    wr_error err = { 0 };
    wr_store *store = NULL;
    wr_extern *imports = calloc(n + 1, sizeof *imports);
    int r = -ENOMEM;
    if (!imports || wasi_ctx_new(&wc, &ctx, &err) != WR_OK || !(store = wr_store_new(NULL)))
        goto out;
    if (wasi_ctx_link_partial(ctx, store, m, imports, &err) != WR_OK) {
        reportf(report, ud, "%s: %s", wr_status_message(err.status), err.detail);
        problems++;
    }
    r = problems;
out:
    wr_store_free(store); /* before the context: its host functions point to it */
    wasi_ctx_free(ctx);
    free(imports);
    return r;
}

int wd_validate_capabilities(const wr_module *m, const cfg_manifest *mf, wd_report_fn report, void *ud) {
    uint32_t n = wr_module_import_count(m);
    int problems = 0;
    for (uint32_t i = 0; i < n; i++) {
        const char *cap = wd_import_capability(m, i);
        if (!cap)
            continue;
        bool granted = strcmp(cap, WD_CAP_GPIO) == 0  ? mf->ngpio > 0
                       : strcmp(cap, WD_CAP_I2C) == 0 ? mf->ni2c > 0
                       : strcmp(cap, WD_CAP_MIC) == 0 ? mf->mic.device != NULL
                                                      : true;
        if (granted)
            continue;
        wr_import_desc d;
        wr_module_import(m, i, &d);
        reportf(report, ud, "capability %s not granted: the module imports %.*s.%.*s, and the manifest has no "
                "capabilities.%s", cap, (int)d.module_len, d.module, (int)d.name_len, d.name, cap);
        problems++;
    }
    return problems;
}
