/*
 * fuzz_module.c - one fuzz entry point for the engine: load any bytes as a
 * module; if it loads, instantiate it with imports that satisfy its types
 * (host functions returning zeros, fresh memories, tables and globals) in a
 * store with small limits, and call every exported function with zero
 * arguments under a small fuel budget.  Whatever the bytes, this must not
 * crash, read out of bounds, leak or allocate without bound.
 *
 * Used by tests/fuzz/mutate.c (deterministic mutations, in `make check`)
 * and by libFuzzer (`make fuzz`).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/wr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* What the inputs reached, for mutate.c's report. */
struct fuzz_stats {
    unsigned long loaded, instantiated, calls;
} fuzz_stats;

static wr_status zero_host(wr_exec *e, void *env, const uint64_t *args, uint64_t *results) {
    const wr_functype *t = env;
    for (uint32_t i = 0; i < t->nresults; i++)
        results[i] = 0;
    return WR_OK;
}

/* A module-owned type pointer lives as long as the module, which outlives the store here. */
static bool make_import(wr_store *s, const wr_module *m, uint32_t i, wr_extern *ret) {
    wr_import_desc d;
    wr_module_import(m, i, &d);
    ret->kind = d.kind;
    switch (d.kind) {
    case WR_EXTERN_FUNC:
        ret->of.func = wr_func_new_host(s, d.functype, zero_host, (void *)d.functype);
        return ret->of.func != NULL;
    case WR_EXTERN_MEMORY:
        ret->of.memory = wr_memory_new(s, 1, 2, true);
        return ret->of.memory != NULL;
    case WR_EXTERN_TABLE:
        ret->of.table = wr_table_new(s, WR_FUNCREF, 10, 20, true);
        return ret->of.table != NULL;
    case WR_EXTERN_GLOBAL: {
        wr_val v = wr_val_i32(0);
        ret->of.global = wr_global_new(s, &v, false);
        return ret->of.global != NULL;
    }
    }
    return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    wr_module *m;
    if (wr_module_load(data, size, &m, NULL) != WR_OK)
        return 0;
    fuzz_stats.loaded++;
    wr_limits limits = {.max_memory_pages = 16, .max_table_elems = 10000,
                        .value_stack_slots = 64 * 1024, .max_call_depth = 500};
    wr_store *s = wr_store_new(&limits);
    uint32_t n = wr_module_import_count(m);
    wr_extern *imports = calloc(n ? n : 1, sizeof *imports);
    wr_instance *inst = NULL;
    bool ok = s && imports;
    for (uint32_t i = 0; ok && i < n; i++)
        ok = make_import(s, m, i, &imports[i]);
    if (ok && wr_instantiate(s, m, imports, n, &inst, NULL) == WR_OK) {
        fuzz_stats.instantiated++;
        wr_exec *e = wr_exec_new(s);
        for (uint32_t i = 0; e && i < wr_module_export_count(m); i++) {
            wr_export_desc d;
            wr_extern ex;
            wr_module_export(m, i, &d);
            if (d.kind != WR_EXTERN_FUNC || !wr_instance_export_n(inst, d.name, d.name_len, &ex))
                continue;
            const wr_functype *t = wr_func_type(ex.of.func);
            wr_val args[16], results[16];
            if (t->nparams > 16 || t->nresults > 16)
                continue;
            for (uint32_t k = 0; k < t->nparams; k++) {
                memset(&args[k], 0, sizeof args[k]);
                args[k].type = t->types[k];
            }
            wr_exec_set_fuel(e, 20000);
            fuzz_stats.calls++;
            if (wr_call(e, ex.of.func, args, t->nparams, results, t->nresults) != WR_OK)
                wr_exec_reset(e);
        }
        wr_exec_free(e);
    }
    free(imports);
    wr_store_free(s);
    wr_module_free(m);
    return 0;
}
