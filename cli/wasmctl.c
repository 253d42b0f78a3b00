/*
 * wasmctl.c - the wasmctl command: main, the table of verbs and the
 * parsing of options.
 *
 * wasmctl runs modules locally (`wasmctl run`), checks manifests and
 * modules offline (`validate`, `inspect`), and drives the daemon, wasmd,
 * over its control socket (protocol in daemon/proto.h).  Each verb is one
 * row of `verbs` below: its name, handler, arguments, options, usage, help
 * and the exit statuses it can give; `wasmctl --help` and `wasmctl help
 * VERB` print from it.  The handlers live in cmd_*.c by group.
 *
 * Global options (--json, --socket PATH) may come before or after the verb
 * (for run: before the module's path, after which everything is the
 * module's).  Exit statuses: CLI_EXIT_MAP in wasmctl.h, the same table as
 * wasmctl(1).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/wasmctl.h"
#include "config/config.h"
#include "daemon/proto.h"

#define MODULE_NAME "a module name"

static const cli_verb verbs[] = {
    { "run", cmd_run, 1, -1, 0, true,
      "run [--invoke NAME] [--dir HOST[::GUEST]]... [--env NAME=VALUE]... [--fuel N] FILE.wasm [ARGS...]",
      "run a WebAssembly module here, without the daemon: its _start with ARGS as\n"
      "its command line, or with --invoke NAME the export NAME with ARGS converted\n"
      "to its parameter types (results printed one per line).  --dir lets it use\n"
      "directory HOST, seen as GUEST; --env sets a variable (it sees no others);\n"
      "--fuel stops it after N units (one per call and loop iteration).  Options\n"
      "come before FILE.wasm: everything after it goes to the module",
      "0 N 1 2 124 134" },
    { WD_VERB_LIST, cmd_list, 0, 0, 0, false, "list",
      "list the daemon's modules and their states", "0 3 6 7" },
    { WD_VERB_STATUS, cmd_status, 1, 1, 0, false, "status NAME",
      "show one module's state in detail", "0 3 4 6 7" },
    { WD_VERB_START, cmd_start, 1, 1, CLI_OPT_WAIT, false, "start [--no-wait] [--timeout SECONDS] NAME",
      "start a stopped or failed module; waits until it is running or waiting\n"
      "(exit 1 with the reason if it failed instead), at most --timeout seconds\n"
      "(default 90; exit 9 past it); --no-wait returns at once",
      "0 1 3 4 5 6 7 9" },
    { WD_VERB_STOP, cmd_stop, 1, 1, CLI_OPT_WAIT, false, "stop [--no-wait] [--timeout SECONDS] NAME",
      "stop a module (no restart until started again); waits until it has\n"
      "stopped (a reactor's wasmd_shutdown may take its stop_timeout_ms), at most\n"
      "--timeout seconds (default 90; exit 9 past it, the stop goes on);\n"
      "--no-wait returns at once",
      "0 3 4 5 6 7 9" },
    { WD_VERB_RESTART, cmd_restart, 1, 1, CLI_OPT_WAIT, false, "restart [--no-wait] [--timeout SECONDS] NAME",
      "stop it if running, then start it; waits until the new run is running or\n"
      "waiting (exit 1 with the reason if it failed instead), at most --timeout\n"
      "seconds (default 90; exit 9 past it); --no-wait returns at once",
      "0 1 3 4 6 7 9" },
    { WD_VERB_LOGS, cmd_logs, 0, 1, CLI_OPT_LINES | CLI_OPT_FOLLOW | CLI_OPT_SINCE | CLI_OPT_OUTPUT | CLI_OPT_RETRY,
      false, "logs [-n N] [-f [--retry]] [--since TIME] [--until TIME] [-o short|cat] [NAME]",
      "print the last N lines (default: all kept) of a module's log -- its stdout,\n"
      "stderr, wasmd_log lines and the daemon's events about it (start, exit, trap\n"
      "with backtrace, restart, stop, denials) -- each with its time; without\n"
      "NAME every module's, merged by time and prefixed with the module.  -f keeps\n"
      "printing new lines until interrupted (exit 3 if the daemon stops; with\n"
      "--retry it waits for the daemon to come back and goes on after the last\n"
      "line printed).  TIME:\n"
      "\"2026-12-02 13:00:00\", ISO 8601 (\"2026-12-02T13:00:00Z\"), \"-5m\",\n"
      "\"10 min ago\", \"today\", \"yesterday\", \"@UNIXSECONDS\".  -o cat: the text\n"
      "alone, without times",
      "0 2 3 4 6 7" },
    { "top", cmd_top, 0, 0, CLI_OPT_INTERVAL, false, "top [-d SECONDS]",
      "every module's resources: state, uptime, restarts, CPU (share since the\n"
      "last refresh, and time used), fuel, slices, memory and its limit, events\n"
      "queued, hardware held.  On a terminal it refreshes every -d seconds\n"
      "(default 2) until interrupted; otherwise (or with --json) one snapshot",
      "0 3 6 7" },
    { WD_VERB_METRICS, cmd_metrics, 0, 0, 0, false, "metrics",
      "print the daemon's metrics in the Prometheus text format (the figures\n"
      "of top, and the memory budget), as the textfile collector reads them",
      "0 3 6 7" },
    { WD_VERB_RELOAD, cmd_reload, 0, 0, 0, false, "reload",
      "re-read the modules directory: start new manifests, stop removed ones,\n"
      "restart changed ones (bad manifests are reported, the good ones applied)",
      "0 3 6 7 8" },
    { WD_VERB_DEPLOY, cmd_deploy, 1, 2, CLI_OPT_SHA256 | CLI_OPT_DOWNGRADE, false,
      "deploy [--allow-downgrade] FILE.wasm MANIFEST.yaml | deploy MANIFEST.yaml\n"
      "  | deploy URL MANIFEST.yaml --sha256 HEX",
      "validate both, install them as one unit in the daemon's state\n"
      "(/var/lib/wasmd/modules), atomically, and start the module (the manifest's\n"
      "module: is a plain file name, under which the module is stored); waits until\n"
      "it has started, and if it fails to start exits 1 with the reason, the\n"
      "previous version back in place.  With a manifest whose source: names a URL\n"
      "and its sha256, or with URL and --sha256, the daemon downloads the module\n"
      "(https://; progress shown on a terminal) and installs it only if the hash\n"
      "matches; a failed download changes nothing.  A minisign signature goes\n"
      "with the module: FILE.wasm.minisig beside it, or URL.minisig; the daemon\n"
      "checks it against its trusted keys (and refuses an unsigned module under\n"
      "require_signature) and refuses a signed version older than the installed\n"
      "one unless --allow-downgrade",
      "0 1 3 5 6 7 8 9" },
    { WD_VERB_REMOVE, cmd_remove, 1, 1, 0, false, "remove NAME",
      "stop a module and forget it: a deployed one's files go; for one of the\n"
      "modules directory, its manifest (and its module file if it is in that\n"
      "directory)",
      "0 1 3 4 6 7" },
    { WD_VERB_SIM, cmd_sim, 2, CLI_MAX_ARGS, 0, false,
      "sim gpio set CHIP LINE VALUE | sim gpio get CHIP LINE\n"
      "  | sim i2c temperature BUS ADDR CELSIUS | sim i2c get BUS ADDR REG\n"
      "  | sim i2c set BUS ADDR REG VALUE",
      "drive the daemon's simulated hardware: a simulated input line's wire to 0\n"
      "or 1 (as a switch would), show a line (level, held, direction), set what a\n"
      "simulated TMP102 measures (30.5, -10...), read or write a simulated I2C\n"
      "device's register (numbers decimal or 0x-hex, ADDR 0x03..0x77)",
      "0 2 3 4 5 6 7" },
    { WD_VERB_HISTORY, cmd_history, 1, 1, 0, false, "history NAME",
      "list the versions of a deployed module: number (* the one running), signed\n"
      "version, time, deploy or rollback, whether its files are kept, signer,\n"
      "SHA-256 and outcome (started, failed to start, rolled back)",
      "0 3 4 6 7" },
    { WD_VERB_ROLLBACK, cmd_rollback, 1, 1, CLI_OPT_TO, false, "rollback [--to VERSION] NAME",
      "switch a deployed module back to a kept version, atomically: the newest\n"
      "other one, or --to the number or signed version that history lists; waits\n"
      "until it has started (exit 1, and the current version back, if it fails)",
      "0 1 3 4 5 6 7" },
    { WD_VERB_FLEET, cmd_fleet, 1, 1, 0, false, "fleet status",
      "fleet mode (the daemon config's fleet.url): the last poll of the desired-\n"
      "state document and its result, the document's version, and each module's\n"
      "convergence (converged, updating, failed: why, conflict, removed); exit 5\n"
      "when fleet mode is off",
      "0 2 3 5 6 7" },
    { WD_VERB_VERSION, cmd_version, 0, 0, 0, false, "version",
      "print the versions of wasmctl and of the daemon", "0 3 6 7" },
    { "validate", cmd_validate, 1, 2, 0, true, "validate MANIFEST.yaml [FILE.wasm]",
      "offline: check the manifest, load the module (FILE.wasm, else the\n"
      "manifest's) and check every import is provided and granted",
      "0 1 2 8" },
    { "inspect", cmd_inspect, 1, 1, 0, true, "inspect FILE.wasm",
      "offline: imports, exports with their types, memories, tables, and the\n"
      "capabilities the module needs",
      "0 1 2 8" },
    { "help", cmd_help, 0, 1, 0, true, "help [VERB]",
      "print this help, or one verb's usage and exit statuses", "0 2" },
};

#define NVERBS (sizeof verbs / sizeof verbs[0])

static const cli_verb *find_verb(const char *name) {
    for (size_t i = 0; i < NVERBS; i++)
        if (strcmp(name, verbs[i].name) == 0)
            return &verbs[i];
    return NULL;
}

/* Prints `text` with every line indented by `indent` spaces. */
static void print_indented(FILE *out, const char *text, int indent) {
    while (*text) {
        const char *nl = strchr(text, '\n');
        int len = nl ? (int)(nl - text) : (int)strlen(text);
        fprintf(out, "%*s%.*s\n", indent, "", len, text);
        text += len + (nl ? 1 : 0);
    }
}

static void usage(FILE *out) {
    fputs("Usage: wasmctl [--json] [--socket PATH] COMMAND [ARGS...]\n\nCommands:\n", out);
    for (size_t i = 0; i < NVERBS; i++) {
        print_indented(out, verbs[i].usage, 2);
        print_indented(out, verbs[i].help, 8);
    }
    fputs("\nGlobal options (before or after the command; for run, before FILE.wasm):\n"
          "  --json         one JSON document on stdout (JSON Lines for logs), errors\n"
          "                 included, with the exit status in \"exit\"\n"
          "  --socket PATH  the daemon's socket (default $WASMD_SOCKET, else\n"
          "                 " WD_PROTO_DEFAULT_SOCKET ")\n"
          "  --version      print wasmctl's version\n"
          "\n"
          "Values for run --invoke:\n"
          "  i32, i64   decimal, signed or unsigned, or 0x-hex (i32: -2147483648..4294967295)\n"
          "  f32, f64   decimal or hex-float, inf, -inf, nan, nan:0xPAYLOAD, -nan...\n"
          "  refs       null\n"
          "Results print as signed decimal integers, floats with enough digits to read\n"
          "back the same bits (or inf, -inf, -0, nan, nan:0xPAYLOAD), refs as null or ref.\n"
          "\nExit status (`wasmctl help VERB` tells which a command gives):\n",
          out);
#define CLI__EXIT_HELP(id, code, name, msg) fprintf(out, "  %-4d %-12s %s\n", code, name, msg);
    CLI_EXIT_MAP(CLI__EXIT_HELP)
#undef CLI__EXIT_HELP
    fputs("  N    exit         run: the module called proc_exit(N) (above 255: 1)\n", out);
}

int cmd_help(cli *c) {
    if (c->nargs == 0) {
        usage(stdout);
        return EXIT_OK;
    }
    const cli_verb *v = find_verb(c->args[0]);
    if (!v) {
        cli_error(c, "help: unknown command \"%s\" (wasmctl --help lists them)", c->args[0]);
        return EXIT_USAGE;
    }
    printf("Usage: wasmctl ");
    print_indented(stdout, v->usage, 0);
    putchar('\n');
    print_indented(stdout, v->help, 2);
    printf("\nExit status: %s (see wasmctl --help)\n", v->exits);
    return EXIT_OK;
}

const char *cli_option_value(cli *c, const char *name, int argc, char **argv, int *i) {
    size_t n = strlen(name);
    const char *arg = argv[*i];
    if (strncmp(arg, name, n) != 0)
        return NULL;
    if (arg[n] == '=')
        return arg + n + 1;
    if (arg[n] != '\0')
        return NULL;
    if (*i + 1 >= argc) {
        cli_error(c, "%s needs a value", name);
        c->bad_usage = true;
        return NULL;
    }
    return argv[++*i];
}

int cli_global_option(cli *c, int argc, char **argv, int *i) {
    const char *v;
    if (strcmp(argv[*i], "--json") == 0) {
        c->json = true;
        return 1;
    }
    if ((v = cli_option_value(c, "--socket", argc, argv, i))) {
        c->socket = v;
        return 1;
    }
    return c->bad_usage ? -1 : 0;
}

/* An unknown verb: says so, with the nearest one. */
static int unknown_verb(cli *c, const char *name) {
    const char *names[NVERBS];
    for (size_t i = 0; i < NVERBS; i++)
        names[i] = verbs[i].name;
    const char *near = cfg_nearest_name(name, names, NVERBS);
    if (near)
        cli_error(c, "unknown command \"%s\"; did you mean \"%s\"? (wasmctl --help lists the commands)", name,
                  near);
    else
        cli_error(c, "unknown command \"%s\" (wasmctl --help lists the commands)", name);
    return EXIT_USAGE;
}

/* The options of verbs, and which row flag allows each. */
static const struct {
    const char *name, *short_name;
    unsigned flag;
    bool has_value;
} verb_options[] = {
    { "--lines", "-n", CLI_OPT_LINES, true },
    { "--follow", "-f", CLI_OPT_FOLLOW, false },
    { "--sha256", "--sha256", CLI_OPT_SHA256, true },
    { "--allow-downgrade", "--allow-downgrade", CLI_OPT_DOWNGRADE, false },
    { "--to", "--to", CLI_OPT_TO, true },
    { "--wait", NULL, CLI_OPT_WAIT, false },
    { "--no-wait", NULL, CLI_OPT_WAIT, false },
    { "--timeout", NULL, CLI_OPT_WAIT, true },
    { "--since", "-S", CLI_OPT_SINCE, true },
    { "--until", "-U", CLI_OPT_SINCE, true },
    { "--output", "-o", CLI_OPT_OUTPUT, true },
    { "--interval", "-d", CLI_OPT_INTERVAL, true },
    { "--retry", NULL, CLI_OPT_RETRY, false },
};

/* Sets one verb option from its value; false (reported) when the value is wrong. */
static bool set_verb_option(cli *c, unsigned flag, const char *name, const char *v) {
    switch (flag) {
    case CLI_OPT_LINES: {
        char *end;
        errno = 0;
        /* Unsigned and 64-bit whatever the width of long: up to UINT32_MAX lines. */
        unsigned long long n = strtoull(v, &end, 10);
        if (*v < '0' || *v > '9' || *end || errno || n > UINT32_MAX) {
            cli_error(c, "%s %s: expected a number of lines", name, v);
            return false;
        }
        c->lines = (int64_t)n;
        return true;
    }
    case CLI_OPT_FOLLOW:
        c->follow = true;
        return true;
    case CLI_OPT_SHA256:
        if (strlen(v) != 64 || strspn(v, "0123456789abcdefABCDEF") != 64) {
            cli_error(c, "%s %s: expected a SHA-256 of 64 hex digits", name, v);
            return false;
        }
        c->sha256 = v;
        return true;
    case CLI_OPT_DOWNGRADE:
        c->allow_downgrade = true;
        return true;
    case CLI_OPT_TO:
        c->to = v;
        return true;
    case CLI_OPT_SINCE:
        if (strcmp(name, "--since") == 0 || strcmp(name, "-S") == 0 || strncmp(name, "--since=", 8) == 0)
            c->since = v;
        else
            c->until = v;
        return true;
    case CLI_OPT_RETRY:
        c->retry = true;
        return true;
    case CLI_OPT_OUTPUT:
        c->output = v;
        return true;
    case CLI_OPT_INTERVAL: {
        char *end;
        errno = 0;
        double t = strtod(v, &end);
        if (end == v || *end || errno || !(t >= 0.1) || t > 86400) {
            cli_error(c, "%s %s: expected a number of seconds from 0.1", name, v);
            return false;
        }
        c->interval_s = t;
        return true;
    }
    case CLI_OPT_WAIT:
        if (strcmp(name, "--wait") == 0) {
            c->wait = true;
        } else if (strcmp(name, "--no-wait") == 0) {
            c->wait = false;
        } else {
            char *end;
            errno = 0;
            double t = strtod(v, &end);
            if (end == v || *end || errno || !(t > 0) || t > 86400 * 7) {
                cli_error(c, "%s %s: expected a number of seconds > 0", name, v);
                return false;
            }
            c->timeout_s = t;
        }
        return true;
    }
    return false;
}

/* "MANIFEST.yaml [FILE.wasm]" of "validate MANIFEST.yaml [FILE.wasm]": the arguments, leading options skipped. */
static const char *usage_args(const cli_verb *v) {
    const char *p = strchr(v->usage, ' ');
    while (p && (*p == ' ' || *p == '[')) {
        if (*p == '[') {
            const char *close = strchr(p, ']');
            if (!close)
                break;
            p = close + 1;
            while (*p == '.')
                p++;           /* "[--dir ...]..." */
        } else {
            p++;
        }
    }
    return p && *p ? p : "arguments";
}

/*
 * Parses the verb's arguments: options anywhere (global ones and those its
 * row allows), the rest its arguments.  EXIT_OK, or EXIT_USAGE after a
 * message.
 */
static int parse_verb_args(cli *c, int argc, char **argv) {
    const cli_verb *v = c->verb;
    bool options_done = false;
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        /* sim takes negative temperatures; "--" ends the options. */
        bool number = a[0] == '-' && a[1] >= '0' && a[1] <= '9';
        if (!options_done && strcmp(a, "--") == 0) {
            options_done = true;
            continue;
        }
        if (!options_done && a[0] == '-' && a[1] && !number) {
            int global = cli_global_option(c, argc, argv, &i);
            if (global < 0)
                return EXIT_USAGE;
            if (global > 0)
                continue;
            bool known = false;
            for (size_t k = 0; k < sizeof verb_options / sizeof verb_options[0] && !known; k++) {
                const char *name = verb_options[k].name, *value = NULL;
                bool is_short = verb_options[k].short_name && strcmp(a, verb_options[k].short_name) == 0;
                if (!is_short && strcmp(a, name) != 0 && !(verb_options[k].has_value && strncmp(a, name, strlen(name)) == 0 && a[strlen(name)] == '='))
                    continue;
                known = true;
                if (!(v->options & verb_options[k].flag)) {
                    cli_error(c, "%s: %s is not an option of %s (wasmctl help %s)", v->name, a, v->name, v->name);
                    return EXIT_USAGE;
                }
                if (verb_options[k].has_value) {
                    if (is_short) {
                        if (i + 1 >= argc) {
                            cli_error(c, "%s needs a value", a);
                            return EXIT_USAGE;
                        }
                        value = argv[++i];
                    } else if (!(value = cli_option_value(c, name, argc, argv, &i))) {
                        return EXIT_USAGE;
                    }
                }
                if (!set_verb_option(c, verb_options[k].flag, a, value))
                    return EXIT_USAGE;
            }
            if (!known) {
                cli_error(c, "%s: unknown option %s (wasmctl help %s)", v->name, a, v->name);
                return EXIT_USAGE;
            }
            continue;
        }
        if (c->nargs >= v->max_args) {
            cli_error(c, "%s: unexpected argument \"%s\" (usage: wasmctl %s)", v->name, a, v->usage);
            return EXIT_USAGE;
        }
        c->args[c->nargs++] = a;
    }
    if (c->nargs < v->min_args) {
        cli_error(c, "%s needs %s (usage: wasmctl %s)", v->name, usage_args(v), v->usage);
        return EXIT_USAGE;
    }
    return EXIT_OK;
}

int main(int argc, char **argv) {
    cli c = { .lines = -1, .wait = true };
    c.socket = getenv("WASMD_SOCKET");
    if (!c.socket || !c.socket[0])
        c.socket = WD_PROTO_DEFAULT_SOCKET;

    /* Global options before the verb. */
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(argv[i], "--version") == 0) {
            printf("wasmctl %s\n", WASMD_VERSION);
            return EXIT_OK;
        }
        int global = cli_global_option(&c, argc, argv, &i);
        if (global < 0)
            return cli_finish(&c, EXIT_USAGE);
        if (global == 0) {
            cli_error(&c, "unknown option %s (wasmctl --help lists the options)", argv[i]);
            return cli_finish(&c, EXIT_USAGE);
        }
    }
    if (i >= argc) {
        usage(stderr);
        return cli_finish(&c, EXIT_USAGE);
    }
    c.verb = find_verb(argv[i]);
    if (!c.verb)
        return cli_finish(&c, unknown_verb(&c, argv[i]));
    c.argc = argc - i - 1;
    c.argv = argv + i + 1;
    if (c.verb->max_args >= 0) {
        int status = parse_verb_args(&c, c.argc, c.argv);
        if (status != EXIT_OK)
            return cli_finish(&c, status);
    }
    return cli_finish(&c, c.verb->handler(&c));
}
