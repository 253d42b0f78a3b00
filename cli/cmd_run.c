/*
 * cmd_run.c - `wasmctl run`: a module run here, without the daemon, as a
 * command (its _start) or one exported function (--invoke).
 *
 * Options of run come before the module path; everything after the path
 * is passed on untouched (so `-1` is an argument, not an option).  The
 * global options (--json, --socket) may stand among them.
 *
 * Exit status: 0 the module finished; N it called proc_exit(N) (above 255
 * gives 1); 1 it could not be read, loaded, linked or instantiated; 2 wrong
 * command line, no such export, wrong --invoke arguments; 124 out of fuel;
 * 134 it trapped (the trap and a backtrace go to stderr).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/value.h"
#include "cli/wasmctl.h"
#include "wasi/wasi.h"
#include "wr.h"

/* The largest proc_exit code that a process exit status can carry. */
#define MAX_EXIT_STATUS 255u

/* Frames printed after a trap; the engine keeps at most WR_MAX_BACKTRACE. */
#define BACKTRACE_FRAMES 32

/* ---- run -------------------------------------------------------------- */

typedef struct run_opts {
    const char *invoke;        /* NULL: run _start */
    wasi_preopen *dirs;
    size_t ndirs;
    const char **env;
    size_t nenv;
    int64_t fuel;              /* WR_FUEL_UNLIMITED unless --fuel */
    cli *c;                    /* where messages go */
    const char *file;
    char **args;               /* after the file */
    int nargs;
} run_opts;

/* Everything a run holds, released in one place. */
typedef struct run_state {
    uint8_t *bytes;
    wr_module *module;
    wr_store *store;
    wasi_ctx *wasi;
    wr_extern *imports;
    wr_exec *exec;
    const char **argv;
} run_state;

static void run_state_free(run_state *st) {
    wr_exec_free(st->exec);
    wr_store_free(st->store);   /* before the context: its host functions point to it */
    wasi_ctx_free(st->wasi);
    wr_module_free(st->module); /* after the store, whose instances use it */
    free(st->imports);
    free(st->bytes);
    free(st->argv);
}

static void print_load_error(cli *c, const char *file, const wr_error *err) {
    if (err->detail[0])
        cli_error(c, "%s: %s: %s", file, wr_status_message(err->status), err->detail);
    else
        cli_error(c, "%s: %s", file, wr_status_message(err->status));
}

static void print_trap(cli *c, wr_status s, const wr_exec *exec) {
    cli_error(c, "trap: %s (%s)", wr_status_message(s), wr_status_name(s));
    if (!exec)
        return;
    wr_frame_info frames[BACKTRACE_FRAMES];
    size_t n = wr_exec_backtrace(exec, frames, BACKTRACE_FRAMES);
    if (n > BACKTRACE_FRAMES)
        n = BACKTRACE_FRAMES;
    for (size_t i = 0; i < n; i++) {
        if (frames[i].name)
            fprintf(stderr, "  #%zu func[%u] %s\n", i, frames[i].func_index, frames[i].name);
        else
            fprintf(stderr, "  #%zu func[%u]\n", i, frames[i].func_index);
    }
}

/*
 * The exit status for a call (or instantiation) that did not return WR_OK.
 * A proc_exit ends the run with its code; anything else is reported.
 */
static int exit_status_for(cli *c, wr_status s, const run_state *st, const wr_exec *exec, const char *file,
                           const wr_error *err) {
    uint32_t code;
    if (s == WR_TRAP_EXIT && wasi_ctx_exit_code(st->wasi, &code))
        return code <= MAX_EXIT_STATUS ? (int)code : EXIT_LOAD;
    if (s == WR_OUT_OF_FUEL) {
        cli_error(c, "out of fuel");
        return EXIT_OUT_OF_FUEL;
    }
    if (wr_status_is_trap(s)) {
        print_trap(c, s, exec);
        return EXIT_TRAP;
    }
    if (err) {
        print_load_error(c, file, err);
    } else {
        cli_error(c, "%s: %s (%s)", file, wr_status_message(s), wr_status_name(s));
    }
    return EXIT_LOAD;
}

/* "i32 i64 f32" for messages. */
static void format_types(const wr_valtype *types, uint32_t n, char *buf, size_t size) {
    size_t used = 0;
    buf[0] = '\0';
    for (uint32_t i = 0; i < n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " " : "", wr_valtype_name(types[i]));
}

/* Converts the command-line arguments to the function's parameters; prints why not and returns false. */
static bool parse_args(const run_opts *o, const wr_functype *type, wr_val *ret_args) {
    cli *c = o->c;
    if ((uint32_t)o->nargs != type->nparams) {
        char params[256];
        format_types(type->types, type->nparams, params, sizeof params);
        cli_error(c, "%s takes %u argument%s (%s), %d given", o->invoke, type->nparams,
                type->nparams == 1 ? "" : "s", params, o->nargs);
        return false;
    }
    for (uint32_t i = 0; i < type->nparams; i++) {
        if (!cli_value_parse(type->types[i], o->args[i], &ret_args[i])) {
            cli_error(c, "argument %u of %s: \"%s\" is not a valid %s", i + 1, o->invoke,
                    o->args[i], wr_valtype_name(type->types[i]));
            return false;
        }
    }
    return true;
}

/* Calls a function taking and returning nothing (_start, _initialize). */
static wr_status call_void(run_state *st, wr_func *f) {
    return wr_call(st->exec, f, NULL, 0, NULL, 0);
}

static bool is_void_func(const wr_extern *e) {
    if (e->kind != WR_EXTERN_FUNC)
        return false;
    const wr_functype *t = wr_func_type(e->of.func);
    return t->nparams == 0 && t->nresults == 0;
}

/* Calls --invoke's function and prints its results; returns the exit status. */
static int invoke(const run_opts *o, run_state *st, wr_instance *inst) {
    cli *c = o->c;
    wr_extern ex;
    if (!wr_instance_export(inst, o->invoke, &ex) || ex.kind != WR_EXTERN_FUNC) {
        cli_error(c, "%s: no exported function \"%s\"", o->file, o->invoke);
        return EXIT_USAGE;
    }
    const wr_functype *type = wr_func_type(ex.of.func);
    wr_val *args = calloc(type->nparams + 1, sizeof *args);
    wr_val *results = calloc(type->nresults + 1, sizeof *results);
    int status = EXIT_LOAD;
    if (!args || !results) {
        cli_error(c, "out of memory");
        goto out_free;
    }
    if (!parse_args(o, type, args)) {
        status = EXIT_USAGE;
        goto out_free;
    }
    /* A WASI reactor wants _initialize called once before any other export. */
    wr_extern init;
    if (strcmp(o->invoke, "_initialize") != 0 && wr_instance_export(inst, "_initialize", &init) &&
        is_void_func(&init)) {
        wr_status s = call_void(st, init.of.func);
        if (s != WR_OK) {
            status = exit_status_for(c, s, st, st->exec, o->file, NULL);
            goto out_free;
        }
    }
    wr_status s = wr_call(st->exec, ex.of.func, args, type->nparams, results, type->nresults);
    if (s != WR_OK) {
        status = exit_status_for(c, s, st, st->exec, o->file, NULL);
        goto out_free;
    }
    /* One per line, or in the --json document as strings (which keeps nan payloads and 64-bit integers exact). */
    cJSON *doc = c->json ? cJSON_CreateObject() : NULL;
    cJSON *list = doc ? (cJSON_AddStringToObject(doc, "status", cli_exit_name(EXIT_OK)),
                         cJSON_AddArrayToObject(doc, "results"))
                      : NULL;
    for (uint32_t i = 0; i < type->nresults; i++) {
        char text[CLI_VALUE_MAX];
        cli_value_format(&results[i], text, sizeof text);
        if (c->json)
            cJSON_AddItemToArray(list, cJSON_CreateString(text));
        else
            puts(text);
    }
    status = EXIT_OK;
    cli_print_doc(c, doc, status);
out_free:
    free(args);
    free(results);
    return status;
}

static int run_module(const run_opts *o) {
    cli *c = o->c;
    run_state st = { 0 };
    int status = EXIT_LOAD;
    wr_error err = { 0 };
    size_t len;

    if (!cli_read_file(o->file, &st.bytes, &len)) {
        cli_error(c, "%s: %s", o->file, strerror(errno));
        goto out;
    }
    if (wr_module_load(st.bytes, len, &st.module, &err) != WR_OK) {
        print_load_error(c, o->file, &err);
        goto out;
    }

    /* The module's command line: its own name, then everything after it. */
    st.argv = calloc((size_t)o->nargs + 1, sizeof *st.argv);
    if (!st.argv) {
        cli_error(c, "out of memory");
        goto out;
    }
    st.argv[0] = o->file;
    for (int i = 0; i < o->nargs; i++)
        st.argv[i + 1] = o->args[i];
    wasi_config cfg = {
        .argv = st.argv,
        .argc = (size_t)o->nargs + 1,
        .env = o->env,
        .nenv = o->nenv,
        .stdin_fd = STDIN_FILENO,
        .stdout_fd = STDOUT_FILENO,
        .stderr_fd = STDERR_FILENO,
        .preopens = o->dirs,
        .npreopens = o->ndirs,
    };
    if (wasi_ctx_new(&cfg, &st.wasi, &err) != WR_OK) {
        /* The detail names the directory or descriptor and says what went wrong. */
        cli_error(c, "%s", err.detail[0] ? err.detail : wr_status_message(err.status));
        goto out;
    }

    st.store = wr_store_new(NULL);
    st.exec = st.store ? wr_exec_new(st.store) : NULL;
    uint32_t nimports = wr_module_import_count(st.module);
    st.imports = calloc(nimports + 1, sizeof *st.imports);
    if (!st.store || !st.exec || !st.imports) {
        cli_error(c, "out of memory");
        goto out;
    }
    if (wasi_ctx_link(st.wasi, st.store, st.module, st.imports, &err) != WR_OK) {
        print_load_error(c, o->file, &err);
        goto out;
    }
    wr_instance *inst;
    wr_status s = wr_instantiate(st.store, st.module, st.imports, nimports, &inst, &err);
    if (s != WR_OK) {
        /* A trap in the start function has no execution context to take a backtrace from. */
        status = exit_status_for(c, s, &st, NULL, o->file, wr_status_is_trap(s) ? NULL : &err);
        goto out;
    }
    wr_exec_set_fuel(st.exec, o->fuel);

    if (o->invoke) {
        status = invoke(o, &st, inst);
        goto out;
    }
    wr_extern start;
    if (!wr_instance_export(inst, "_start", &start) || !is_void_func(&start)) {
        cli_error(c, "%s: no _start function to run (use --invoke NAME to call an export)",
                o->file);
        status = EXIT_USAGE;
        goto out;
    }
    s = call_void(&st, start.of.func);
    status = s == WR_OK ? EXIT_OK : exit_status_for(c, s, &st, st.exec, o->file, NULL);

out:
    fflush(stdout);
    run_state_free(&st);
    return status;
}

static bool parse_fuel(const char *text, int64_t *ret) {
    char *end;
    if (*text < '0' || *text > '9')
        return false;
    errno = 0;
    unsigned long long v = strtoull(text, &end, 10);
    if (*end != '\0' || errno == ERANGE || v > INT64_MAX)
        return false;
    *ret = (int64_t)v;
    return true;
}

int cmd_run(cli *c) {
    int argc = c->argc;
    char **argv = c->argv;
    run_opts o = { .fuel = WR_FUEL_UNLIMITED, .c = c };
    /* Each option takes one argv slot at least, so argc bounds the lists. */
    o.dirs = calloc((size_t)argc + 1, sizeof *o.dirs);
    o.env = calloc((size_t)argc + 1, sizeof *o.env);
    int status = EXIT_USAGE;
    if (!o.dirs || !o.env) {
        cli_error(c, "out of memory");
        status = EXIT_LOAD;
        goto out;
    }

    int i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *v;
        int global;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if ((global = cli_global_option(c, argc, argv, &i)) != 0) {
            if (global < 0)
                goto out;
        } else if ((v = cli_option_value(c, "--invoke", argc, argv, &i))) {
            o.invoke = v;
        } else if ((v = cli_option_value(c, "--dir", argc, argv, &i))) {
            /* HOST::GUEST; a host path containing "::" needs an explicit GUEST after it. */
            const char *sep = strstr(v, "::");
            wasi_preopen *d = &o.dirs[o.ndirs++];
            if (sep) {
                d->host_path = strndup(v, (size_t)(sep - v));
                d->guest_path = sep + 2;
            } else {
                d->host_path = strdup(v);
                d->guest_path = v;
            }
            if (!d->host_path || !d->host_path[0] || !d->guest_path[0]) {
                cli_error(c, "--dir %s: expected HOST or HOST::GUEST", v);
                goto out;
            }
        } else if ((v = cli_option_value(c, "--env", argc, argv, &i))) {
            if (v[0] == '=' || !strchr(v, '=')) {
                cli_error(c, "--env %s: expected NAME=VALUE", v);
                goto out;
            }
            o.env[o.nenv++] = v;
        } else if ((v = cli_option_value(c, "--fuel", argc, argv, &i))) {
            if (!parse_fuel(v, &o.fuel)) {
                cli_error(c, "--fuel %s: expected a number of fuel units", v);
                goto out;
            }
        } else if (c->bad_usage) {
            goto out;          /* an option without its value: already reported */
        } else {
            cli_error(c, "run: unknown option %s (wasmctl help run lists them)", argv[i]);
            goto out;
        }
    }
    if (i >= argc) {
        cli_error(c, "run needs FILE.wasm (usage: wasmctl %s)", c->verb->usage);
        goto out;
    }
    o.file = argv[i];
    o.args = argv + i + 1;
    o.nargs = argc - i - 1;
    status = run_module(&o);

out:
    for (size_t k = 0; k < o.ndirs; k++)
        free((char *)o.dirs[k].host_path);
    free(o.dirs);
    free(o.env);
    return status;
}
