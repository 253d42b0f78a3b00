/*
 * cmd_offline.c - the verbs that need no daemon: `validate` (a manifest,
 * and the module it names, against what wasmd provides) and `inspect` (a
 * module's imports, exports, memories, tables and capabilities).
 *
 * Exit status: 0 valid, 1 a file cannot be read, 2 wrong command line,
 * 8 invalid.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/modinfo.h"
#include "cli/wasmctl.h"
#include "config/config.h"
#include "daemon/validate.h"
#include "wr.h"


/* Where wd_validate_* report a problem: the command, and the file the problem is in. */
typedef struct problem_sink {
    cli *c;
    const char *file;
} problem_sink;

static void print_problem(void *ud, const char *msg) {
    const problem_sink *sink = ud;
    cli_problem(sink->c, "%s: %s", sink->file, msg);
}

/* Loads a module for validate/inspect; reports why not and returns the exit status. */
static int load_module_file(cli *c, const char *file, uint8_t **ret_bytes, size_t *ret_len, wr_module **ret_module) {
    wr_error err = { 0 };
    if (!cli_read_file(file, ret_bytes, ret_len)) {
        cli_problem(c, "%s: %s", file, strerror(errno));
        return EXIT_LOAD;
    }
    if (wr_module_load(*ret_bytes, *ret_len, ret_module, &err) != WR_OK) {
        cli_problem(c, "%s: offset 0x%x: %s%s%s", file, err.offset, wr_status_message(err.status),
                    err.detail[0] ? ": " : "", err.detail);
        free(*ret_bytes);
        *ret_bytes = NULL;
        return EXIT_INVALID;
    }
    return EXIT_OK;
}

int cmd_validate(cli *c) {
    const char *path = c->args[0];
    cfg_error err = { 0 };
    cfg_manifest *m = cfg_manifest_load(path, &err);
    cJSON *doc = cJSON_CreateObject();
    cJSON_AddStringToObject(doc, "manifest", path);
    if (!m) {
        char buf[1024];
        cli_problem(c, "%s", cfg_error_format(&err, buf, sizeof buf));
        int status = err.status == CFG_ERR_IO ? EXIT_LOAD : EXIT_INVALID;
        cJSON_AddStringToObject(doc, "status", cli_exit_name(status));
        cJSON_AddBoolToObject(doc, "valid", false);
        cli_print_doc(c, doc, status);
        return status;
    }
    const char *file = c->args[1] ? c->args[1] : m->module;
    uint8_t *bytes = NULL;
    size_t len;
    wr_module *mod = NULL;
    int status = load_module_file(c, file, &bytes, &len, &mod);
    if (status == EXIT_OK) {
        problem_sink in_module = { c, file }, in_manifest = { c, path };
        int problems = wd_validate_imports(mod, print_problem, &in_module);
        if (problems >= 0)
            problems += wd_validate_capabilities(mod, m, print_problem, &in_manifest);
        if (problems != 0)
            status = problems < 0 ? EXIT_FAILED : EXIT_INVALID;
    }
    if (status == EXIT_OK && !c->json)
        printf("%s: ok (module %s, %s: %u imports, %u exports)\n", path, m->name, file,
               wr_module_import_count(mod), wr_module_export_count(mod));
    cJSON_AddStringToObject(doc, "status", cli_exit_name(status));
    cJSON_AddBoolToObject(doc, "valid", status == EXIT_OK);
    cJSON_AddStringToObject(doc, "name", m->name);
    cJSON_AddStringToObject(doc, "module", file);
    if (mod) {
        cJSON_AddNumberToObject(doc, "imports", wr_module_import_count(mod));
        cJSON_AddNumberToObject(doc, "exports", wr_module_export_count(mod));
    }
    cli_print_doc(c, doc, status);
    wr_module_free(mod);
    free(bytes);
    cfg_manifest_free(m);
    return status;
}

/* "func (i32, i32) -> (i32)", "memory 1..16 pages", ... for an entity of `kind` at `index`. */
static void describe(const cli_modinfo *mi, wr_externkind kind, uint32_t index, char *buf, size_t size) {
    size_t used = 0;
#define ADD(...) (used += (used < size ? (size_t)snprintf(buf + used, size - used, __VA_ARGS__) : 0))
    buf[0] = '\0';
    switch (kind) {
    case WR_EXTERN_FUNC:
        if (index < mi->nfuncs && mi->funcs[index] < mi->ntypes) {
            const cli_functype *t = &mi->types[mi->funcs[index]];
            ADD("func (");
            for (uint32_t i = 0; i < t->nparams; i++)
                ADD("%s%s", i ? ", " : "", cli_modinfo_valtype(t->params[i]));
            ADD(") -> (");
            for (uint32_t i = 0; i < t->nresults; i++)
                ADD("%s%s", i ? ", " : "", cli_modinfo_valtype(t->results[i]));
            ADD(")");
        } else {
            ADD("func");
        }
        break;
    case WR_EXTERN_MEMORY:
        if (index < mi->nmemories && mi->memories[index].has_max)
            ADD("memory %llu..%llu pages", (unsigned long long)mi->memories[index].min,
                (unsigned long long)mi->memories[index].max);
        else if (index < mi->nmemories)
            ADD("memory %llu.. pages", (unsigned long long)mi->memories[index].min);
        break;
    case WR_EXTERN_TABLE:
        if (index < mi->ntables) {
            const cli_table *t = &mi->tables[index];
            ADD("table %s %llu..", cli_modinfo_valtype(t->elem), (unsigned long long)t->limits.min);
            if (t->limits.has_max)
                ADD("%llu", (unsigned long long)t->limits.max);
        }
        break;
    case WR_EXTERN_GLOBAL:
        if (index < mi->nglobals)
            ADD("global %s%s", mi->globals[index].mutable_ ? "mut " : "", cli_modinfo_valtype(mi->globals[index].type));
        break;
    }
#undef ADD
}

static void collect_problem(void *ud, const char *msg) {
    cJSON_AddItemToArray((cJSON *)ud, cJSON_CreateString(msg));
}

int cmd_inspect(cli *c) {
    const char *path = c->args[0];
    uint8_t *bytes = NULL;
    size_t len;
    wr_module *mod = NULL;
    int status = load_module_file(c, path, &bytes, &len, &mod);
    if (status != EXIT_OK)
        return status;
    cli_modinfo mi;
    if (!cli_modinfo_read(bytes, len, &mi)) {
        cli_problem(c, "%s: cannot read the module's sections", path);
        wr_module_free(mod);
        free(bytes);
        return EXIT_FAILED;
    }
    cJSON *root = cJSON_CreateObject();
    cJSON *imports = cJSON_AddArrayToObject(root, "imports");
    cJSON *exports = cJSON_AddArrayToObject(root, "exports");
    cJSON *memories = cJSON_AddArrayToObject(root, "memories");
    cJSON *tables = cJSON_AddArrayToObject(root, "tables");
    cJSON *caps = cJSON_AddArrayToObject(root, "capabilities");
    cJSON *missing = cJSON_AddArrayToObject(root, "unsatisfied");
    uint32_t counters[4] = { 0 }; /* per kind: imports seen so far = index of the next import */
    char desc[512];
    for (uint32_t i = 0; i < wr_module_import_count(mod); i++) {
        wr_import_desc d;
        wr_module_import(mod, i, &d);
        describe(&mi, d.kind, counters[d.kind]++, desc, sizeof desc);
        const char *cap = wd_import_capability(mod, i);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "module", d.module);
        cJSON_AddStringToObject(e, "name", d.name);
        cJSON_AddStringToObject(e, "kind", wr_externkind_name(d.kind));
        cJSON_AddStringToObject(e, "type", desc);
        if (cap)
            cJSON_AddStringToObject(e, "capability", cap);
        else
            cJSON_AddNullToObject(e, "capability");
        cJSON_AddItemToArray(imports, e);
        char full[300];
        snprintf(full, sizeof full, "%s.%s", d.module, d.name);
        cJSON *list = cap ? caps : missing;
        const char *item = cap ? cap : full;
        bool seen = false;
        const cJSON *x;
        cJSON_ArrayForEach(x, list)
            seen = seen || strcmp(x->valuestring, item) == 0;
        if (!seen)
            cJSON_AddItemToArray(list, cJSON_CreateString(item));
    }
    for (uint32_t i = 0; i < wr_module_export_count(mod); i++) {
        wr_export_desc d;
        wr_module_export(mod, i, &d);
        describe(&mi, d.kind, d.index, desc, sizeof desc);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "name", d.name);
        cJSON_AddStringToObject(e, "kind", wr_externkind_name(d.kind));
        cJSON_AddStringToObject(e, "type", desc);
        cJSON_AddItemToArray(exports, e);
    }
    for (uint32_t i = 0; i < mi.nmemories; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddNumberToObject(e, "min_pages", (double)mi.memories[i].min);
        if (mi.memories[i].has_max)
            cJSON_AddNumberToObject(e, "max_pages", (double)mi.memories[i].max);
        else
            cJSON_AddNullToObject(e, "max_pages");
        cJSON_AddBoolToObject(e, "imported", i < counters[WR_EXTERN_MEMORY]);
        cJSON_AddItemToArray(memories, e);
    }
    for (uint32_t i = 0; i < mi.ntables; i++) {
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "elem", cli_modinfo_valtype(mi.tables[i].elem));
        cJSON_AddNumberToObject(e, "min", (double)mi.tables[i].limits.min);
        if (mi.tables[i].limits.has_max)
            cJSON_AddNumberToObject(e, "max", (double)mi.tables[i].limits.max);
        else
            cJSON_AddNullToObject(e, "max");
        cJSON_AddBoolToObject(e, "imported", i < counters[WR_EXTERN_TABLE]);
        cJSON_AddItemToArray(tables, e);
    }
    /* Names aside, do the types match what wasmd provides? */
    cJSON *problems = cJSON_AddArrayToObject(root, "problems");
    if (wd_validate_imports(mod, collect_problem, problems) < 0)
        cJSON_AddItemToArray(problems, cJSON_CreateString("out of memory while checking the imports"));
    cJSON_AddBoolToObject(root, "command", false);
    wr_export_desc ed;
    for (uint32_t i = 0; i < wr_module_export_count(mod); i++) {
        wr_module_export(mod, i, &ed);
        if (ed.kind == WR_EXTERN_FUNC && strcmp(ed.name, "_start") == 0)
            cJSON_ReplaceItemInObject(root, "command", cJSON_CreateBool(true));
    }

    status = cJSON_GetArraySize(problems) ? EXIT_INVALID : EXIT_OK;
    if (c->json) {
        cJSON_AddStringToObject(root, "status", cli_exit_name(status));
        cJSON_AddStringToObject(root, "module", path);
        cli_print_doc(c, root, status);
        root = NULL;
    } else {
        const cJSON *e;
        printf("module:       %s (%zu bytes, %s)\n", path, len,
               cJSON_IsTrue(cJSON_GetObjectItem(root, "command")) ? "command: exports _start" : "no _start");
        /* Comma-separated: a capability's name may contain spaces ("wasmd timers"). */
        const char *sep = "";
        printf("capabilities: ");
        cJSON_ArrayForEach(e, caps) {
            printf("%s%s", sep, e->valuestring);
            sep = ", ";
        }
        printf("%s\n", cJSON_GetArraySize(caps) ? "" : "none");
        if (cJSON_GetArraySize(missing)) {
            sep = "";
            printf("unsatisfied:  ");
            cJSON_ArrayForEach(e, missing) {
                printf("%s%s", sep, e->valuestring);
                sep = ", ";
            }
            printf("\n");
        }
        cJSON_ArrayForEach(e, problems)
            printf("problem:      %s\n", e->valuestring);
        printf("\nIMPORTS (%d)\n", cJSON_GetArraySize(imports));
        cJSON_ArrayForEach(e, imports) {
            char full[300];
            snprintf(full, sizeof full, "%s.%s", cli_json_str(e, "module"), cli_json_str(e, "name"));
            printf("  %-44s %-36s %s\n", full, cli_json_str(e, "type"),
                   cli_json_str(e, "capability")[0] ? cli_json_str(e, "capability") : "(not provided)");
        }
        printf("\nEXPORTS (%d)\n", cJSON_GetArraySize(exports));
        cJSON_ArrayForEach(e, exports)
            printf("  %-44s %s\n", cli_json_str(e, "name"), cli_json_str(e, "type"));
        printf("\nMEMORIES (%d)\n", cJSON_GetArraySize(memories));
        for (uint32_t i = 0; i < mi.nmemories; i++) {
            describe(&mi, WR_EXTERN_MEMORY, i, desc, sizeof desc);
            printf("  %u  %s%s\n", i, desc, i < counters[WR_EXTERN_MEMORY] ? " (imported)" : "");
        }
        printf("\nTABLES (%d)\n", cJSON_GetArraySize(tables));
        for (uint32_t i = 0; i < mi.ntables; i++) {
            describe(&mi, WR_EXTERN_TABLE, i, desc, sizeof desc);
            printf("  %u  %s%s\n", i, desc, i < counters[WR_EXTERN_TABLE] ? " (imported)" : "");
        }
    }
    cJSON_Delete(root);
    cli_modinfo_free(&mi);
    wr_module_free(mod);
    free(bytes);
    return status;
}
