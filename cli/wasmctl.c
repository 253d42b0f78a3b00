/*
 * wasmctl.c - the wasmctl command.
 *
 * wasmctl runs modules locally (`wasmctl run`) and drives the daemon, wasmd,
 * over its control socket (protocol in daemon/proto.h).
 *
 *   wasmctl run [--invoke NAME] [--dir HOST[::GUEST]]... [--env NAME=VALUE]...
 *               [--fuel N] FILE.wasm [ARGS...]
 *   wasmctl [--socket PATH] [--json] list | status NAME | start NAME | stop NAME
 *               | restart NAME | logs [-f] [-n N] NAME | reload | remove NAME
 *               | deploy FILE.wasm MANIFEST.yaml | version
 *               | sim gpio set CHIP LINE VALUE | sim gpio get CHIP LINE
 *               | sim i2c temperature BUS ADDR CELSIUS | sim i2c get BUS ADDR REG
 *               | sim i2c set BUS ADDR REG VALUE
 *   wasmctl [--json] validate MANIFEST.yaml [FILE.wasm] | inspect FILE.wasm   (offline)
 *   wasmctl --version
 *   wasmctl help | --help | -h
 *
 * Options of `run` come before the module path; everything after the path
 * is passed on untouched (so `-1` is an argument, not an option).
 *
 * Exit status (also in the --help text):
 *   0    the module finished: _start returned, or --invoke's call returned
 *   N    the module called proc_exit(N); N above 255 becomes 1
 *   1    the module could not be read, loaded, linked or instantiated
 *   2    wrong command line: unknown command or option, no such export,
 *        wrong number or kind of --invoke arguments
 *   124  the module ran out of fuel (--fuel), as timeout(1) reports a timeout
 *   134  the module trapped (128 + SIGABRT, as a crashed program would);
 *        the trap and a backtrace go to stderr
 *
 * Exit status of the daemon verbs:
 *   0    done
 *   1    the daemon failed the request (internal error, malformed request)
 *   2    wrong command line
 *   3    the daemon cannot be reached (no socket, not running)
 *   4    no module of that name (sim: no such simulated chip, line or device)
 *   5    not possible in the module's state (start a running module, stop a stopped one);
 *        sim: the daemon's hardware of that kind is not simulated
 *   6    the daemon refused this user (not root, not in its socket group)
 *   7    protocol error: unreadable response or another protocol version
 *   8    invalid: a manifest or module did not pass validation (validate,
 *        deploy), or a reload found bad manifests (the good ones applied)
 *
 * validate and inspect work offline: 0 valid, 1 a file cannot be read,
 * 2 wrong command line, 8 invalid.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli/modinfo.h"
#include "cli/value.h"
#include "config/config.h"
#include "daemon/proto.h"
#include "daemon/validate.h"
#include "wasi/wasi.h"
#include "wr.h"

#ifndef WASMD_VERSION
#define WASMD_VERSION "0.1.0-dev"
#endif

enum {
    EXIT_OK = 0,
    EXIT_LOAD = 1,
    EXIT_USAGE = 2,
    EXIT_OUT_OF_FUEL = 124,
    EXIT_TRAP = 134,
    /* Daemon verbs (EXIT_OK, EXIT_USAGE as above). */
    EXIT_FAILED = 1,
    EXIT_UNREACHABLE = 3,
    EXIT_NOT_FOUND = 4,
    EXIT_CONFLICT = 5,
    EXIT_DENIED = 6,
    EXIT_PROTOCOL = 7,
    EXIT_INVALID = 8,
};

/* The largest proc_exit code that a process exit status can carry. */
#define MAX_EXIT_STATUS 255u

/* Frames printed after a trap; the engine keeps at most WR_MAX_BACKTRACE. */
#define BACKTRACE_FRAMES 32

static const char usage_text[] =
    "Usage: wasmctl COMMAND [ARGS...]\n"
    "\n"
    "Commands:\n"
    "  run [OPTIONS] FILE.wasm [ARGS...]\n"
    "                        run a WebAssembly module here, without the daemon\n"
    "  list                  list the daemon's modules and their states\n"
    "  status NAME           show one module's state in detail\n"
    "  start NAME            start a stopped or failed module\n"
    "  stop NAME             stop a module (no restart until started again)\n"
    "  restart NAME          stop it if running, then start it\n"
    "  logs [-n N] [-f] NAME print the last N lines (default: all kept) of a\n"
    "                        module's output; -f keeps printing new lines\n"
    "  reload                re-read the modules directory: start new manifests, stop\n"
    "                        removed ones, restart changed ones\n"
    "  deploy FILE.wasm MANIFEST.yaml\n"
    "                        validate both, install them as one unit in the daemon's\n"
    "                        state (/var/lib/wasmd/modules), atomically, and start\n"
    "                        the module (the manifest's module: is a plain file name,\n"
    "                        under which FILE.wasm is stored)\n"
    "  remove NAME           stop a module and forget it: a deployed one's files go;\n"
    "                        for one of the modules directory, its manifest (and its\n"
    "                        module file if it is in that directory)\n"
    "  sim gpio set CHIP LINE VALUE\n"
    "                        drive a simulated input line's wire to 0 or 1, as a\n"
    "                        switch would\n"
    "  sim gpio get CHIP LINE\n"
    "                        show a simulated line: physical level, held or not,\n"
    "                        direction\n"
    "  sim i2c temperature BUS ADDR CELSIUS\n"
    "                        set what a simulated TMP102 measures (30.5, -10...)\n"
    "  sim i2c get BUS ADDR REG\n"
    "  sim i2c set BUS ADDR REG VALUE\n"
    "                        read or write a simulated I2C device's register\n"
    "                        (sim needs the daemon's simulated backends; numbers are\n"
    "                        decimal or 0x-hex, ADDR a 7-bit address 0x03..0x77)\n"
    "  version               print the versions of wasmctl and of the daemon\n"
    "  validate MANIFEST.yaml [FILE.wasm]\n"
    "                        offline: check the manifest, load the module (FILE.wasm,\n"
    "                        else the manifest's) and check every import is provided\n"
    "  inspect FILE.wasm     offline: imports, exports with their types, memories,\n"
    "                        tables, and the capabilities the module needs\n"
    "  help                  print this help\n"
    "\n"
    "Options of the daemon commands (anywhere before NAME):\n"
    "  --socket PATH         the daemon's socket (default $WASMD_SOCKET, else\n"
    "                        " WD_PROTO_DEFAULT_SOCKET ")\n"
    "  --json                print the daemon's JSON response as is\n"
    "\n"
    "Options of run (only before FILE.wasm: everything after it goes to the module):\n"
    "  --invoke NAME         call the exported function NAME with ARGS converted to\n"
    "                        its parameter types, and print its results one per line;\n"
    "                        without --invoke the module's _start is run, with ARGS\n"
    "                        as its command line (argv[0] is FILE.wasm)\n"
    "  --dir HOST[::GUEST]   let the module use directory HOST, which it sees as\n"
    "                        GUEST (default: the same path); may be repeated\n"
    "  --env NAME=VALUE      set an environment variable of the module; may be\n"
    "                        repeated (the module sees no other variables)\n"
    "  --fuel N              stop the module after N units of fuel (one is spent per\n"
    "                        function call and per loop iteration)\n"
    "\n"
    "Values for --invoke:\n"
    "  i32, i64   decimal, signed or unsigned, or 0x-hex (i32: -2147483648..4294967295)\n"
    "  f32, f64   decimal or hex-float, inf, -inf, nan, nan:0xPAYLOAD, -nan...\n"
    "  refs       null\n"
    "Results print as signed decimal integers, floats with enough digits to read\n"
    "back the same bits (or inf, -inf, -0, nan, nan:0xPAYLOAD), refs as null or ref.\n"
    "\n"
    "Exit status:\n"
    "  0     the module finished (_start or the invoked function returned)\n"
    "  N     the module called proc_exit(N) (N above 255 gives 1)\n"
    "  1     the module could not be read, loaded, linked or instantiated\n"
    "  2     wrong command line: unknown command or option, no such export,\n"
    "        wrong --invoke arguments\n"
    "  124   the module ran out of fuel (--fuel)\n"
    "  134   the module trapped; the trap and a backtrace go to stderr\n"
    "\n"
    "Exit status of the daemon commands:\n"
    "  0     done\n"
    "  1     the daemon failed the request\n"
    "  2     wrong command line\n"
    "  3     the daemon cannot be reached\n"
    "  4     no module of that name (sim: no such simulated chip, line or device)\n"
    "  5     not possible in the module's state (sim: not simulated hardware)\n"
    "  6     the daemon refused this user\n"
    "  7     protocol error\n"
    "  8     invalid manifest or module (validate, deploy), or a reload that\n"
    "        found bad manifests\n"
    "validate and inspect: 0 valid, 1 cannot read a file, 2 wrong command line,\n"
    "8 invalid.\n";

static void usage(FILE *out) {
    fputs(usage_text, out);
}

/* ---- Reading the module ----------------------------------------------- */

/* Reads a whole file; on failure returns false with errno set. */
static bool read_file(const char *path, uint8_t **ret_bytes, size_t *ret_len) {
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    size_t len = 0, cap = 64 * 1024;
    uint8_t *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len, f);
        if (len < cap)
            break;
        uint8_t *bigger = cap > SIZE_MAX / 2 ? NULL : realloc(buf, cap * 2);
        if (!bigger) {
            free(buf);
            buf = NULL;
            errno = ENOMEM;
            break;
        }
        buf = bigger;
        cap *= 2;
    }
    int err = ferror(f) ? errno : 0;
    fclose(f);
    if (!buf || err) {
        free(buf);
        errno = err ? err : ENOMEM;
        return false;
    }
    *ret_bytes = buf;
    *ret_len = len;
    return true;
}

/* ---- run -------------------------------------------------------------- */

typedef struct run_opts {
    const char *invoke;        /* NULL: run _start */
    wasi_preopen *dirs;
    size_t ndirs;
    const char **env;
    size_t nenv;
    int64_t fuel;              /* WR_FUEL_UNLIMITED unless --fuel */
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

static void print_load_error(const char *file, const wr_error *err) {
    if (err->detail[0])
        fprintf(stderr, "wasmctl: %s: %s: %s\n", file, wr_status_message(err->status), err->detail);
    else
        fprintf(stderr, "wasmctl: %s: %s\n", file, wr_status_message(err->status));
}

static void print_trap(wr_status s, const wr_exec *exec) {
    fprintf(stderr, "wasmctl: trap: %s (%s)\n", wr_status_message(s), wr_status_name(s));
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
static int exit_status_for(wr_status s, const run_state *st, const wr_exec *exec, const char *file,
                           const wr_error *err) {
    uint32_t code;
    if (s == WR_TRAP_EXIT && wasi_ctx_exit_code(st->wasi, &code))
        return code <= MAX_EXIT_STATUS ? (int)code : EXIT_LOAD;
    if (s == WR_OUT_OF_FUEL) {
        fprintf(stderr, "wasmctl: out of fuel\n");
        return EXIT_OUT_OF_FUEL;
    }
    if (wr_status_is_trap(s)) {
        print_trap(s, exec);
        return EXIT_TRAP;
    }
    if (err) {
        print_load_error(file, err);
    } else {
        fprintf(stderr, "wasmctl: %s: %s (%s)\n", file, wr_status_message(s), wr_status_name(s));
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
    if ((uint32_t)o->nargs != type->nparams) {
        char params[256];
        format_types(type->types, type->nparams, params, sizeof params);
        fprintf(stderr, "wasmctl: %s takes %u argument%s (%s), %d given\n", o->invoke, type->nparams,
                type->nparams == 1 ? "" : "s", params, o->nargs);
        return false;
    }
    for (uint32_t i = 0; i < type->nparams; i++) {
        if (!cli_value_parse(type->types[i], o->args[i], &ret_args[i])) {
            fprintf(stderr, "wasmctl: argument %u of %s: \"%s\" is not a valid %s\n", i + 1, o->invoke,
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
    wr_extern ex;
    if (!wr_instance_export(inst, o->invoke, &ex) || ex.kind != WR_EXTERN_FUNC) {
        fprintf(stderr, "wasmctl: %s: no exported function \"%s\"\n", o->file, o->invoke);
        return EXIT_USAGE;
    }
    const wr_functype *type = wr_func_type(ex.of.func);
    wr_val *args = calloc(type->nparams + 1, sizeof *args);
    wr_val *results = calloc(type->nresults + 1, sizeof *results);
    int status = EXIT_LOAD;
    if (!args || !results) {
        fprintf(stderr, "wasmctl: out of memory\n");
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
            status = exit_status_for(s, st, st->exec, o->file, NULL);
            goto out_free;
        }
    }
    wr_status s = wr_call(st->exec, ex.of.func, args, type->nparams, results, type->nresults);
    if (s != WR_OK) {
        status = exit_status_for(s, st, st->exec, o->file, NULL);
        goto out_free;
    }
    for (uint32_t i = 0; i < type->nresults; i++) {
        char text[CLI_VALUE_MAX];
        puts(cli_value_format(&results[i], text, sizeof text));
    }
    status = EXIT_OK;
out_free:
    free(args);
    free(results);
    return status;
}

static int run_module(const run_opts *o) {
    run_state st = { 0 };
    int status = EXIT_LOAD;
    wr_error err = { 0 };
    size_t len;

    if (!read_file(o->file, &st.bytes, &len)) {
        fprintf(stderr, "wasmctl: %s: %s\n", o->file, strerror(errno));
        goto out;
    }
    if (wr_module_load(st.bytes, len, &st.module, &err) != WR_OK) {
        print_load_error(o->file, &err);
        goto out;
    }

    /* The module's command line: its own name, then everything after it. */
    st.argv = calloc((size_t)o->nargs + 1, sizeof *st.argv);
    if (!st.argv) {
        fprintf(stderr, "wasmctl: out of memory\n");
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
        fprintf(stderr, "wasmctl: %s\n", err.detail[0] ? err.detail : wr_status_message(err.status));
        goto out;
    }

    st.store = wr_store_new(NULL);
    st.exec = st.store ? wr_exec_new(st.store) : NULL;
    uint32_t nimports = wr_module_import_count(st.module);
    st.imports = calloc(nimports + 1, sizeof *st.imports);
    if (!st.store || !st.exec || !st.imports) {
        fprintf(stderr, "wasmctl: out of memory\n");
        goto out;
    }
    if (wasi_ctx_link(st.wasi, st.store, st.module, st.imports, &err) != WR_OK) {
        print_load_error(o->file, &err);
        goto out;
    }
    wr_instance *inst;
    wr_status s = wr_instantiate(st.store, st.module, st.imports, nimports, &inst, &err);
    if (s != WR_OK) {
        /* A trap in the start function has no execution context to take a backtrace from. */
        status = exit_status_for(s, &st, NULL, o->file, wr_status_is_trap(s) ? NULL : &err);
        goto out;
    }
    wr_exec_set_fuel(st.exec, o->fuel);

    if (o->invoke) {
        status = invoke(o, &st, inst);
        goto out;
    }
    wr_extern start;
    if (!wr_instance_export(inst, "_start", &start) || !is_void_func(&start)) {
        fprintf(stderr, "wasmctl: %s: no _start function to run (use --invoke NAME to call an export)\n",
                o->file);
        status = EXIT_USAGE;
        goto out;
    }
    s = call_void(&st, start.of.func);
    status = s == WR_OK ? EXIT_OK : exit_status_for(s, &st, st.exec, o->file, NULL);

out:
    fflush(stdout);
    run_state_free(&st);
    return status;
}

/* "--name VALUE" or "--name=VALUE": the value, or NULL when `arg` is another option. */
static const char *option_value(const char *name, int argc, char **argv, int *i) {
    size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        fprintf(stderr, "wasmctl: %s needs a value\n", name);
        exit(EXIT_USAGE);
    }
    return argv[++*i];
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

static int cmd_run(int argc, char **argv) {
    run_opts o = { .fuel = WR_FUEL_UNLIMITED };
    /* Each option takes one argv slot at least, so argc bounds the lists. */
    o.dirs = calloc((size_t)argc + 1, sizeof *o.dirs);
    o.env = calloc((size_t)argc + 1, sizeof *o.env);
    int status = EXIT_USAGE;
    if (!o.dirs || !o.env) {
        fprintf(stderr, "wasmctl: out of memory\n");
        status = EXIT_LOAD;
        goto out;
    }

    int i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *v;
        if (strcmp(argv[i], "--") == 0) {
            i++;
            break;
        } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            status = EXIT_OK;
            goto out;
        } else if ((v = option_value("--invoke", argc, argv, &i))) {
            o.invoke = v;
        } else if ((v = option_value("--dir", argc, argv, &i))) {
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
                fprintf(stderr, "wasmctl: --dir %s: expected HOST or HOST::GUEST\n", v);
                goto out;
            }
        } else if ((v = option_value("--env", argc, argv, &i))) {
            if (v[0] == '=' || !strchr(v, '=')) {
                fprintf(stderr, "wasmctl: --env %s: expected NAME=VALUE\n", v);
                goto out;
            }
            o.env[o.nenv++] = v;
        } else if ((v = option_value("--fuel", argc, argv, &i))) {
            if (!parse_fuel(v, &o.fuel)) {
                fprintf(stderr, "wasmctl: --fuel %s: expected a number of fuel units\n", v);
                goto out;
            }
        } else {
            fprintf(stderr, "wasmctl: run: unknown option %s\n\n", argv[i]);
            usage(stderr);
            goto out;
        }
    }
    if (i >= argc) {
        fprintf(stderr, "wasmctl: run: no module given\n\n");
        usage(stderr);
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

/* ---- Daemon commands ---------------------------------------------------- */

/* The largest response read (a `logs` of the whole ring fits easily). */
#define MAX_RESPONSE (16u << 20)
/* How long to wait for a response before giving up (not for `logs -f`). */
#define RESPONSE_TIMEOUT_S 30
/* The most arguments a verb takes (sim i2c set BUS ADDR REG VALUE). */
#define CTL_MAX_ARGS 6

typedef struct ctl_opts {
    const char *socket;
    bool json;
    bool follow;
    int64_t lines;             /* -1: all */
    const char *verb;
    const char *name;
    const char *arg2;          /* deploy: MANIFEST.yaml; validate: FILE.wasm */
    const char *args[CTL_MAX_ARGS]; /* every argument after the verb */
    int nargs;
    cJSON *fields;             /* sim: the request's fields after the verb */
} ctl_opts;

typedef struct ctl_conn {
    int fd;
    char *buf;                 /* received bytes not yet returned */
    size_t len, cap;
} ctl_conn;

static void ctl_close(ctl_conn *c) {
    if (c->fd >= 0)
        close(c->fd);
    free(c->buf);
    c->fd = -1;
    c->buf = NULL;
}

/* Connects; prints why not and returns false. */
static bool ctl_connect(const char *path, bool timeout, ctl_conn *ret) {
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof sa.sun_path) {
        fprintf(stderr, "wasmctl: socket path too long: %s\n", path);
        return false;
    }
    memcpy(sa.sun_path, path, strlen(path) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        fprintf(stderr, "wasmctl: cannot reach wasmd at %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (timeout) {
        struct timeval tv = { .tv_sec = RESPONSE_TIMEOUT_S };
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    *ret = (ctl_conn){ .fd = fd };
    return true;
}

/*
 * Sends `len` bytes; 0, or the errno of the failure.  EPIPE and ECONNRESET
 * mean the daemon closed its end, which it does after refusing us: its
 * answer may still be waiting to be read.
 */
static int ctl_send_bytes(ctl_conn *c, const void *bytes, size_t len) {
    for (size_t off = 0; off < len;) {
        ssize_t w = send(c->fd, (const char *)bytes + off, len - off, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return errno;
        off += (size_t)w;
    }
    return 0;
}

static bool peer_closed(int err) {
    return err == EPIPE || err == ECONNRESET;
}

/* Sends a request as one line; 0, or the errno of the failure (ENOMEM printed). */
static int ctl_send(ctl_conn *c, cJSON *req) {
    char *text = cJSON_PrintUnformatted(req);
    size_t len = text ? strlen(text) : 0;
    char *line = text ? malloc(len + 1) : NULL;
    if (!line) {
        free(text);
        fprintf(stderr, "wasmctl: out of memory\n");
        return ENOMEM;
    }
    memcpy(line, text, len);
    line[len++] = '\n';
    free(text);
    int err = ctl_send_bytes(c, line, len);
    free(line);
    return err;
}

/*
 * Reads one response line and parses it; NULL (after printing why) on
 * EOF, error, timeout or malformed JSON.  The caller frees the object.
 */
static cJSON *ctl_receive(ctl_conn *c) {
    for (;;) {
        char *nl = c->len ? memchr(c->buf, '\n', c->len) : NULL;
        if (nl) {
            size_t line = (size_t)(nl - c->buf);
            cJSON *msg = cJSON_ParseWithLength(c->buf, line);
            memmove(c->buf, nl + 1, c->len - line - 1);
            c->len -= line + 1;
            if (!cJSON_IsObject(msg)) {
                cJSON_Delete(msg);
                fprintf(stderr, "wasmctl: malformed response from wasmd\n");
                return NULL;
            }
            return msg;
        }
        if (c->len == c->cap) {
            if (c->cap >= MAX_RESPONSE) {
                fprintf(stderr, "wasmctl: response from wasmd larger than %u bytes\n", MAX_RESPONSE);
                return NULL;
            }
            size_t cap = c->cap ? c->cap * 2 : 64 * 1024;
            char *bigger = realloc(c->buf, cap);
            if (!bigger) {
                fprintf(stderr, "wasmctl: out of memory\n");
                return NULL;
            }
            c->buf = bigger;
            c->cap = cap;
        }
        ssize_t n = recv(c->fd, c->buf + c->len, c->cap - c->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0)
                fprintf(stderr, "wasmctl: wasmd closed the connection\n");
            else
                fprintf(stderr, "wasmctl: reading from wasmd: %s\n",
                        errno == EAGAIN ? "timed out" : strerror(errno));
            return NULL;
        }
        c->len += (size_t)n;
    }
}

static const char *json_str(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : "";
}

static double json_num(const cJSON *o, const char *key) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* The exit status for a response's status. */
static int exit_for_status(wd_proto_status s) {
    switch (s) {
    case WD_PROTO_OK: return EXIT_OK;
    case WD_PROTO_NOT_FOUND: return EXIT_NOT_FOUND;
    case WD_PROTO_CONFLICT: return EXIT_CONFLICT;
    case WD_PROTO_DENIED: return EXIT_DENIED;
    case WD_PROTO_UNSUPPORTED_VERSION: return EXIT_PROTOCOL;
    case WD_PROTO_INVALID: return EXIT_INVALID;
    default: return EXIT_FAILED;
    }
}

/* "1h02m", "3.2s": a duration for people. */
static void format_ms(double ms, char *buf, size_t size) {
    if (ms < 0)
        snprintf(buf, size, "-");
    else if (ms < 60000)
        snprintf(buf, size, "%.1fs", ms / 1000);
    else if (ms < 3600000)
        snprintf(buf, size, "%dm%02ds", (int)(ms / 60000), (int)(ms / 1000) % 60);
    else
        snprintf(buf, size, "%dh%02dm", (int)(ms / 3600000), (int)(ms / 60000) % 60);
}

/* "0 B", "512 KiB", "16.0 MiB", "1.50 GiB" */
static void format_bytes(double n, char *buf, size_t size) {
    if (n < 1024)
        snprintf(buf, size, "%.0f B", n);
    else if (n < 1024 * 1024)
        snprintf(buf, size, "%.0f KiB", n / 1024);
    else if (n < 1024.0 * 1024 * 1024)
        snprintf(buf, size, "%.1f MiB", n / (1024 * 1024));
    else
        snprintf(buf, size, "%.2f GiB", n / (1024.0 * 1024 * 1024));
}

static void print_instance_row(const cJSON *in) {
    char up[32];
    double uptime = json_num(in, WD_F_UPTIME_MS);
    format_ms(uptime > 0 ? uptime : -1, up, sizeof up);
    printf("%-20s %-14s %8s %8.0f  %s\n", json_str(in, WD_F_NAME), json_str(in, WD_F_STATE), up,
           json_num(in, WD_F_RESTARTS), json_str(in, WD_F_REASON));
}

static void print_status(const cJSON *in) {
    char buf[32];
    printf("name:      %s\n", json_str(in, WD_F_NAME));
    printf("state:     %s\n", json_str(in, WD_F_STATE));
    if (json_str(in, WD_F_REASON)[0])
        printf("reason:    %s\n", json_str(in, WD_F_REASON));
    printf("module:    %s\n", json_str(in, WD_F_MODULE));
    printf("restart:   %s\n", json_str(in, WD_F_RESTART));
    printf("restarts:  %.0f\n", json_num(in, WD_F_RESTARTS));
    double uptime = json_num(in, WD_F_UPTIME_MS);
    format_ms(uptime > 0 ? uptime : -1, buf, sizeof buf);
    printf("uptime:    %s\n", buf);
    printf("slices:    %.0f (longest %.1f ms, costliest %.1f ms of CPU)\n", json_num(in, WD_F_SLICES),
           json_num(in, WD_F_SLICE_MAX_US) / 1000, json_num(in, WD_F_SLICE_MAX_CPU_US) / 1000);
    char used[32], limit[32], budget[32], budget_used[32];
    format_bytes(json_num(in, WD_F_MEMORY), used, sizeof used);
    format_bytes(json_num(in, WD_F_MEMORY_LIMIT), limit, sizeof limit);
    format_bytes(json_num(in, WD_F_MEMORY_BUDGET), budget, sizeof budget);
    format_bytes(json_num(in, WD_F_MEMORY_BUDGET_USED), budget_used, sizeof budget_used);
    printf("memory:    %s (limit %s per memory; all modules %s of %s)\n", used, limit, budget_used, budget);
    if (json_num(in, WD_F_EXIT_CODE) >= 0)
        printf("exit code: %.0f\n", json_num(in, WD_F_EXIT_CODE));
    if (json_num(in, WD_F_RESTART_IN_MS) >= 0) {
        format_ms(json_num(in, WD_F_RESTART_IN_MS), buf, sizeof buf);
        printf("restart in %s\n", buf);
    }
    const cJSON *hw = cJSON_GetObjectItemCaseSensitive(in, WD_F_HARDWARE), *item;
    bool first = true;
    cJSON_ArrayForEach(item, hw) {
        if (cJSON_IsString(item)) {
            printf("%s%s\n", first ? "hardware:  " : "           ", item->valuestring);
            first = false;
        }
    }
}

/*
 * A sim response: a GPIO line as "gpiochip0 27: level 1, held as input", a
 * register as "0x6010 (24592)"; nothing when it has neither (temperature).
 */
static void print_sim(const ctl_opts *o, const cJSON *r) {
    if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, WD_F_LEVEL))) {
        const char *chip = json_str(r, WD_F_CHIP)[0] ? json_str(r, WD_F_CHIP) : o->args[2];
        const char *dir = json_str(r, WD_F_DIRECTION);
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r, WD_F_HELD)))
            printf("%s %.0f: level %.0f, held%s%s\n", chip, json_num(r, WD_F_GPIO_LINE), json_num(r, WD_F_LEVEL),
                   dir[0] ? " as " : "", dir);
        else
            printf("%s %.0f: level %.0f, not held\n", chip, json_num(r, WD_F_GPIO_LINE), json_num(r, WD_F_LEVEL));
    } else if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, WD_F_VALUE))) {
        unsigned value = (unsigned)json_num(r, WD_F_VALUE);
        printf("0x%04x (%u)\n", value, value);
    }
}

static void print_json(const cJSON *msg) {
    char *text = cJSON_PrintUnformatted(msg);
    if (text) {
        puts(text);
        free(text);
    }
}

/* Prints a successful response for people. */
static void print_human(const ctl_opts *o, const cJSON *r) {
    if (strcmp(o->verb, WD_VERB_VERSION) == 0) {
        printf("wasmd %s (protocol %.0f)\n", json_str(r, WD_F_DAEMON), json_num(r, WD_F_VERSION));
    } else if (strcmp(o->verb, WD_VERB_LIST) == 0) {
        printf("%-20s %-14s %8s %8s  %s\n", "NAME", "STATE", "UPTIME", "RESTARTS", "REASON");
        const cJSON *in;
        cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCES))
            print_instance_row(in);
    } else if (strcmp(o->verb, WD_VERB_LOGS) == 0) {
        const cJSON *line;
        cJSON_ArrayForEach(line, cJSON_GetObjectItemCaseSensitive(r, WD_F_LINES))
            if (cJSON_IsString(line))
                puts(line->valuestring);
    } else if (strcmp(o->verb, WD_VERB_STATUS) == 0) {
        print_status(cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCE));
    } else if (strcmp(o->verb, WD_VERB_RELOAD) == 0) {
        static const char *const lists[] = { WD_F_ADDED, WD_F_REMOVED, WD_F_RESTARTED, WD_F_UNCHANGED };
        for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
            const cJSON *item;
            cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r, lists[i]))
                if (cJSON_IsString(item))
                    printf("%-10s %s\n", lists[i], item->valuestring);
        }
    } else if (strcmp(o->verb, WD_VERB_REMOVE) == 0) {
        printf("%s: removed\n", json_str(r, WD_F_NAME));
    } else if (strcmp(o->verb, WD_VERB_SIM) == 0) {
        print_sim(o, r);
    } else {
        const cJSON *in = cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCE);
        printf("%s: %s\n", json_str(in, WD_F_NAME), json_str(in, WD_F_STATE));
    }
}

/* Sends one request and prints its response; for logs -f, then the streamed lines. */
static int ctl_request(const ctl_opts *o) {
    ctl_conn c;
    if (!ctl_connect(o->socket, !o->follow, &c))
        return EXIT_UNREACHABLE;
    int status = EXIT_FAILED;
    cJSON *req = cJSON_CreateObject();
    if (!req)
        goto out;
    cJSON_AddNumberToObject(req, WD_F_VERSION, WD_PROTO_VERSION);
    cJSON_AddStringToObject(req, WD_F_VERB, o->verb);
    if (o->name)
        cJSON_AddStringToObject(req, WD_F_NAME, o->name);
    if (o->lines >= 0)
        cJSON_AddNumberToObject(req, WD_F_LINES, (double)o->lines);
    if (o->follow)
        cJSON_AddBoolToObject(req, WD_F_FOLLOW, true);
    const cJSON *field;
    cJSON_ArrayForEach(field, o->fields)
        cJSON_AddItemToObject(req, field->string, cJSON_Duplicate(field, true));
    uint8_t *body = NULL;
    size_t body_len = 0;
    if (strcmp(o->verb, WD_VERB_DEPLOY) == 0) {
        /* deploy FILE.wasm MANIFEST.yaml: the manifest's text in the line, the module's bytes after it. */
        cJSON_DeleteItemFromObject(req, WD_F_NAME);
        uint8_t *text = NULL;
        size_t text_len = 0;
        if (!read_file(o->name, &body, &body_len) || !read_file(o->arg2, &text, &text_len)) {
            fprintf(stderr, "wasmctl: %s: %s\n", body ? o->arg2 : o->name, strerror(errno));
            free(body);
            cJSON_Delete(req);
            status = EXIT_FAILED;
            goto out;
        }
        uint8_t *terminated = realloc(text, text_len + 1);
        if (terminated) {
            text = terminated;
            text[text_len] = '\0';
        }
        if (!terminated || memchr(text, '\0', text_len) || body_len == 0) {
            fprintf(stderr, "wasmctl: %s\n", body_len == 0 ? "the module is empty" : "the manifest contains NUL bytes");
            free(text);
            free(body);
            cJSON_Delete(req);
            status = EXIT_INVALID;
            goto out;
        }
        cJSON_AddStringToObject(req, WD_F_FILE, o->arg2);
        cJSON *mt = cJSON_CreateString("");
        if (mt) {
            free(mt->valuestring);
            mt->valuestring = (char *)text; /* cJSON frees it: text is NUL-terminated below */
            text = NULL;
        }
        cJSON_AddItemToObject(req, WD_F_MANIFEST, mt);
        free(text);
        cJSON_AddNumberToObject(req, WD_F_MODULE_SIZE, (double)body_len);
    }
    int send_err = ctl_send(&c, req);
    cJSON_Delete(req);
    if (send_err == 0 && body_len > 0)
        send_err = ctl_send_bytes(&c, body, body_len);
    free(body);
    if (send_err == ENOMEM)
        goto out;
    if (send_err != 0 && !peer_closed(send_err)) {
        fprintf(stderr, "wasmctl: sending to wasmd: %s\n", strerror(send_err));
        status = EXIT_UNREACHABLE;
        goto out;
    }
    /* The daemon may have answered and closed before taking all we sent (a refusal): read its answer. */
    cJSON *r = ctl_receive(&c);
    if (!r) {
        if (send_err != 0) {
            fprintf(stderr, "wasmctl: sending to wasmd: %s\n", strerror(send_err));
            status = EXIT_UNREACHABLE;
        } else {
            status = EXIT_PROTOCOL;
        }
        goto out;
    }
    wd_proto_status s = wd_proto_status_parse(json_str(r, WD_F_STATUS));
    status = exit_for_status(s);
    if (o->json)
        print_json(r);
    else if (s == WD_PROTO_OK)
        print_human(o, r);
    const char *error = json_str(r, WD_F_ERROR);
    if (s != WD_PROTO_OK)
        fprintf(stderr, "wasmctl: %s: %s\n", o->verb, error[0] ? error : wd_proto_status_message(s));
    /* Problems found by reload or deploy, one per line (FILE:LINE:COLUMN: message), each once. */
    const cJSON *problem;
    int nproblems = 0;
    cJSON_ArrayForEach(problem, cJSON_GetObjectItemCaseSensitive(r, WD_F_ERRORS)) {
        if (cJSON_IsString(problem)) {
            if (!o->json && !(s != WD_PROTO_OK && strcmp(problem->valuestring, error) == 0))
                fprintf(stderr, "wasmctl: %s\n", problem->valuestring);
            nproblems++;
        }
    }
    if (s == WD_PROTO_OK && nproblems > 0)
        status = EXIT_INVALID;
    cJSON_Delete(r);
    if (s != WD_PROTO_OK || !o->follow)
        goto out;
    /* Follow: one object per new line until the daemon closes or we are interrupted. */
    fflush(stdout);
    while ((r = ctl_receive(&c))) {
        if (o->json)
            print_json(r);
        else
            puts(json_str(r, WD_F_LINE));
        fflush(stdout);
        cJSON_Delete(r);
    }
out:
    fflush(stdout);
    ctl_close(&c);
    return status;
}

/* ---- Offline verbs: validate, inspect --------------------------------- */

#define VERB_VALIDATE "validate"
#define VERB_INSPECT  "inspect"

static void print_problem(void *ud, const char *msg) {
    fprintf(stderr, "%s: %s\n", (const char *)ud, msg);
}

/* Loads a module for validate/inspect; prints why not and returns the exit status. */
static int load_module_file(const char *file, uint8_t **ret_bytes, size_t *ret_len, wr_module **ret_module) {
    wr_error err = { 0 };
    if (!read_file(file, ret_bytes, ret_len)) {
        fprintf(stderr, "%s: %s\n", file, strerror(errno));
        return EXIT_LOAD;
    }
    if (wr_module_load(*ret_bytes, *ret_len, ret_module, &err) != WR_OK) {
        fprintf(stderr, "%s: offset 0x%x: %s%s%s\n", file, err.offset, wr_status_message(err.status),
                err.detail[0] ? ": " : "", err.detail);
        free(*ret_bytes);
        *ret_bytes = NULL;
        return EXIT_INVALID;
    }
    return EXIT_OK;
}

static int cmd_validate(const ctl_opts *o) {
    cfg_error err = { 0 };
    cfg_manifest *m = cfg_manifest_load(o->name, &err);
    if (!m) {
        char buf[1024];
        fprintf(stderr, "%s\n", cfg_error_format(&err, buf, sizeof buf));
        return err.status == CFG_ERR_IO ? EXIT_LOAD : EXIT_INVALID;
    }
    const char *file = o->arg2 ? o->arg2 : m->module;
    uint8_t *bytes = NULL;
    size_t len;
    wr_module *mod = NULL;
    int status = load_module_file(file, &bytes, &len, &mod);
    if (status == EXIT_OK) {
        int problems = wd_validate_imports(mod, print_problem, (void *)file);
        if (problems >= 0)
            problems += wd_validate_capabilities(mod, m, print_problem, (void *)o->name);
        if (problems != 0)
            status = problems < 0 ? EXIT_FAILED : EXIT_INVALID;
    }
    if (status == EXIT_OK) {
        if (o->json)
            printf("{\"valid\":true,\"name\":\"%s\",\"module\":\"%s\"}\n", m->name, file);
        else
            printf("%s: ok (module %s, %s: %u imports, %u exports)\n", o->name, m->name, file,
                   wr_module_import_count(mod), wr_module_export_count(mod));
    } else if (o->json) {
        printf("{\"valid\":false,\"name\":\"%s\",\"module\":\"%s\"}\n", m->name, file);
    }
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

static int cmd_inspect(const ctl_opts *o) {
    uint8_t *bytes = NULL;
    size_t len;
    wr_module *mod = NULL;
    int status = load_module_file(o->name, &bytes, &len, &mod);
    if (status != EXIT_OK)
        return status;
    cli_modinfo mi;
    if (!cli_modinfo_read(bytes, len, &mi)) {
        fprintf(stderr, "%s: cannot read the module's sections\n", o->name);
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

    if (o->json) {
        print_json(root);
    } else {
        const cJSON *e;
        printf("module:       %s (%zu bytes, %s)\n", o->name, len,
               cJSON_IsTrue(cJSON_GetObjectItem(root, "command")) ? "command: exports _start" : "no _start");
        printf("capabilities:");
        cJSON_ArrayForEach(e, caps)
            printf(" %s", e->valuestring);
        printf("%s\n", cJSON_GetArraySize(caps) ? "" : " none");
        if (cJSON_GetArraySize(missing)) {
            printf("unsatisfied: ");
            cJSON_ArrayForEach(e, missing)
                printf(" %s", e->valuestring);
            printf("\n");
        }
        cJSON_ArrayForEach(e, problems)
            printf("problem:      %s\n", e->valuestring);
        printf("\nIMPORTS (%d)\n", cJSON_GetArraySize(imports));
        cJSON_ArrayForEach(e, imports) {
            char full[300];
            snprintf(full, sizeof full, "%s.%s", json_str(e, "module"), json_str(e, "name"));
            printf("  %-44s %-36s %s\n", full, json_str(e, "type"),
                   json_str(e, "capability")[0] ? json_str(e, "capability") : "(not provided)");
        }
        printf("\nEXPORTS (%d)\n", cJSON_GetArraySize(exports));
        cJSON_ArrayForEach(e, exports)
            printf("  %-44s %s\n", json_str(e, "name"), json_str(e, "type"));
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
    status = cJSON_GetArraySize(problems) ? EXIT_INVALID : EXIT_OK;
    cJSON_Delete(root);
    cli_modinfo_free(&mi);
    wr_module_free(mod);
    free(bytes);
    return status;
}

/* ---- sim: the request of the simulated hardware ---------------------- */

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
 * verb) in o->fields; returns EXIT_USAGE (after a message naming the bad
 * argument) for a wrong command line.
 */
static int sim_parse(ctl_opts *o) {
    const char *device = o->args[0], *op = o->args[1];
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
        fprintf(stderr, "wasmctl: sim: unknown device \"%s\" (expected " SIM_GPIO " or " SIM_I2C ")\n", device);
        return EXIT_USAGE;
    }
    if (row < 0) {
        fprintf(stderr, "wasmctl: sim %s: unknown operation \"%s\" (expected %s)\n", device, op,
                strcmp(device, SIM_GPIO) == 0 ? SIM_SET " or " SIM_GET
                                              : SIM_TEMPERATURE ", " SIM_GET " or " SIM_SET);
        return EXIT_USAGE;
    }
    int nargs = o->nargs - 2;
    if (nargs < sim_ops[row].nargs) {
        fprintf(stderr, "wasmctl: sim %s %s needs %s\n", device, op, sim_ops[row].args);
        return EXIT_USAGE;
    }
    if (nargs > sim_ops[row].nargs) {
        fprintf(stderr, "wasmctl: sim %s %s: unexpected argument \"%s\"\n", device, op,
                o->args[2 + sim_ops[row].nargs]);
        return EXIT_USAGE;
    }

    /* Each argument with its field, limit and what the message says is expected. */
    const char *const *a = o->args + 2;
    cJSON *f = cJSON_CreateObject();
    if (!f) {
        fprintf(stderr, "wasmctl: out of memory\n");
        return EXIT_FAILED;
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
        fprintf(stderr, "wasmctl: sim %s %s: %s \"%s\": expected %s\n", device, op, what, bad, expected);
        cJSON_Delete(f);
        return EXIT_USAGE;
    }
    o->fields = f;
    return EXIT_OK;
}

/* The verbs after the options: how many arguments they take, and whether they need no daemon. */
static const struct {
    const char *verb;
    int min_args, max_args;
    bool offline;
    const char *args;          /* for the usage message */
} ctl_verbs[] = {
    { WD_VERB_LIST,    0, 0, false, "" },
    { WD_VERB_STATUS,  1, 1, false, "a module name" },
    { WD_VERB_START,   1, 1, false, "a module name" },
    { WD_VERB_STOP,    1, 1, false, "a module name" },
    { WD_VERB_RESTART, 1, 1, false, "a module name" },
    { WD_VERB_LOGS,    1, 1, false, "a module name" },
    { WD_VERB_VERSION, 0, 0, false, "" },
    { WD_VERB_RELOAD,  0, 0, false, "" },
    { WD_VERB_REMOVE,  1, 1, false, "a module name" },
    { WD_VERB_DEPLOY,  2, 2, false, "FILE.wasm MANIFEST.yaml" },
    { WD_VERB_SIM,     2, CTL_MAX_ARGS, false, "a device (" SIM_GPIO " or " SIM_I2C ") and an operation" },
    { VERB_VALIDATE,   1, 2, true,  "MANIFEST.yaml [FILE.wasm]" },
    { VERB_INSPECT,    1, 1, true,  "FILE.wasm" },
};

/* The row of ctl_verbs for `verb`, or -1. */
static int find_ctl_verb(const char *verb) {
    for (size_t i = 0; i < sizeof ctl_verbs / sizeof ctl_verbs[0]; i++)
        if (strcmp(verb, ctl_verbs[i].verb) == 0)
            return (int)i;
    return -1;
}

/*
 * wasmctl [--socket PATH] [--json] VERB [-n N] [-f] [NAME]: options may
 * come before or after the verb.  Returns EXIT_USAGE (after a message) for
 * a wrong command line.
 */
static int cmd_ctl(int argc, char **argv) {
    ctl_opts o = { .lines = -1 };
    o.socket = getenv("WASMD_SOCKET");
    if (!o.socket || !o.socket[0])
        o.socket = WD_PROTO_DEFAULT_SOCKET;
    int row = -1;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i], *v;
        if (strcmp(a, "--json") == 0) {
            o.json = true;
        } else if ((v = option_value("--socket", argc, argv, &i))) {
            o.socket = v;
        } else if (strcmp(a, "-f") == 0 || strcmp(a, "--follow") == 0) {
            o.follow = true;
        } else if (strcmp(a, "-n") == 0 || (v = option_value("--lines", argc, argv, &i))) {
            if (strcmp(a, "-n") == 0) {
                if (i + 1 >= argc) {
                    fprintf(stderr, "wasmctl: -n needs a number of lines\n");
                    return EXIT_USAGE;
                }
                v = argv[++i];
            }
            char *end;
            errno = 0;
            /* Unsigned and 64-bit whatever the width of long: up to UINT32_MAX lines. */
            unsigned long long n = strtoull(v, &end, 10);
            if (*v < '0' || *v > '9' || *end || errno || n > UINT32_MAX) {
                fprintf(stderr, "wasmctl: -n %s: expected a number of lines\n", v);
                return EXIT_USAGE;
            }
            o.lines = (int64_t)n;
        } else if (a[0] == '-' && a[1] && !(row >= 0 && strcmp(o.verb, WD_VERB_SIM) == 0 && a[1] >= '0' &&
                                            a[1] <= '9')) {
            /* (sim takes negative temperatures) */
            fprintf(stderr, "wasmctl: unknown option %s\n\n", a);
            usage(stderr);
            return EXIT_USAGE;
        } else if (!o.verb) {
            o.verb = a;
            if ((row = find_ctl_verb(a)) < 0) {
                const char *names[sizeof ctl_verbs / sizeof ctl_verbs[0] + 2];
                size_t n = 0;
                for (size_t vi = 0; vi < sizeof ctl_verbs / sizeof ctl_verbs[0]; vi++)
                    names[n++] = ctl_verbs[vi].verb;
                names[n++] = "run";
                names[n++] = "help";
                const char *near = cfg_nearest_name(a, names, n);
                fprintf(stderr, "wasmctl: unknown command \"%s\"", a);
                if (near)
                    fprintf(stderr, "; did you mean \"%s\"?", near);
                fprintf(stderr, "\n(wasmctl --help lists the commands)\n");
                return EXIT_USAGE;
            }
        } else if (o.nargs < ctl_verbs[row].max_args) {
            o.args[o.nargs++] = a;
        } else {
            fprintf(stderr, "wasmctl: %s: unexpected argument \"%s\"\n", o.verb, a);
            return EXIT_USAGE;
        }
    }
    if (!o.verb) {
        usage(stderr);
        return EXIT_USAGE;
    }
    if (o.nargs < ctl_verbs[row].min_args) {
        fprintf(stderr, "wasmctl: %s needs %s\n", o.verb, ctl_verbs[row].args);
        return EXIT_USAGE;
    }
    if ((o.follow || o.lines >= 0) && strcmp(o.verb, WD_VERB_LOGS) != 0) {
        fprintf(stderr, "wasmctl: -n and -f are options of logs only\n");
        return EXIT_USAGE;
    }
    if (strcmp(o.verb, WD_VERB_SIM) == 0) {
        int status = sim_parse(&o);
        if (status == EXIT_OK)
            status = ctl_request(&o);
        cJSON_Delete(o.fields);
        return status;
    }
    o.name = o.args[0];
    o.arg2 = o.args[1];
    if (strcmp(o.verb, VERB_VALIDATE) == 0)
        return cmd_validate(&o);
    if (strcmp(o.verb, VERB_INSPECT) == 0)
        return cmd_inspect(&o);
    if (strcmp(o.verb, WD_VERB_VERSION) == 0 && !o.json)
        printf("wasmctl %s (protocol %d)\n", WASMD_VERSION, WD_PROTO_VERSION);
    return ctl_request(&o);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 2, argv + 2);
    if (strcmp(cmd, "help") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("wasmctl %s\n", WASMD_VERSION);
        return EXIT_OK;
    }
    /* Everything else is a daemon command (which reports an unknown one). */
    return cmd_ctl(argc - 1, argv + 1);
}
