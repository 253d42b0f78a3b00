/*
 * wasmctl.h - what the files of wasmctl share (internal to cli/).
 *
 * wasmctl.c holds main, the table of verbs (name, handler, usage, exit
 * codes) and the parsing of options; each cmd_*.c holds one group of verbs;
 * ctl.c talks to the daemon; output.c is the output contract:
 *
 *   - human form: results on stdout, every problem on stderr as
 *     "wasmctl: ..." (or "FILE:LINE:COLUMN: ..." for a manifest's);
 *   - with --json: exactly one JSON document on stdout (one per line for
 *     the streams of `logs -f` and `top`), errors included, carrying the
 *     same text as the human form and the exit status in "exit".  The human
 *     text still goes to stderr, for a person watching a script.
 */
#ifndef WASMD_CLI_WASMCTL_H
#define WASMD_CLI_WASMCTL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#ifndef WASMD_VERSION
#define WASMD_VERSION "unknown"
#endif

/*
 * Exit statuses, with their names in --json output ("status" of a
 * document wasmctl makes itself).  One number has one meaning per verb
 * group: 1 is "load" for run, validate and inspect, "failed" for the daemon
 * verbs.  wasmctl(1) has the same table.
 */
#define CLI_EXIT_MAP(X)                                                       \
    X(OK,          0,   "ok",          "done")                                \
    X(FAILED,      1,   "failed",      "the request failed (run: the module could not be loaded)") \
    X(USAGE,       2,   "usage",       "wrong command line")                  \
    X(UNREACHABLE, 3,   "unreachable", "the daemon cannot be reached")        \
    X(NOT_FOUND,   4,   "not-found",   "no module of that name")              \
    X(CONFLICT,    5,   "conflict",    "not possible in the module's state")  \
    X(DENIED,      6,   "denied",      "the daemon refused this user")        \
    X(PROTOCOL,    7,   "protocol",    "protocol error")                      \
    X(INVALID,     8,   "invalid",     "invalid manifest or module")          \
    X(TIMEOUT,     9,   "timeout",     "the operation did not finish in time (--timeout)") \
    X(OUT_OF_FUEL, 124, "out-of-fuel", "run: the module ran out of fuel")     \
    X(TRAP,        134, "trap",        "run: the module trapped")

enum {
#define CLI__EXIT_ENUM(id, code, name, msg) EXIT_##id = code,
    CLI_EXIT_MAP(CLI__EXIT_ENUM)
#undef CLI__EXIT_ENUM
    EXIT_LOAD = EXIT_FAILED,   /* run, validate, inspect: a file cannot be read or loaded */
};

/* The name of an exit status for --json ("exit-N" for a module's own code). */
const char *cli_exit_name(int status);

/* The most arguments a verb takes after its options (sim i2c set BUS ADDR REG VALUE). */
#define CLI_MAX_ARGS 6

/* Flags of the options a verb accepts (cli_verb.options). */
enum {
    CLI_OPT_LINES   = 1u << 0, /* -n N, --lines N */
    CLI_OPT_FOLLOW  = 1u << 1, /* -f, --follow */
    CLI_OPT_WAIT    = 1u << 2, /* --wait, --no-wait, --timeout SECONDS */
    CLI_OPT_SINCE   = 1u << 3, /* --since TIME, --until TIME */
    CLI_OPT_ALL     = 1u << 4, /* -a, --all */
    CLI_OPT_OUTPUT  = 1u << 5, /* -o, --output FORMAT */
    CLI_OPT_INTERVAL = 1u << 6, /* -d, --interval SECONDS */
    CLI_OPT_RETRY   = 1u << 7, /* --retry */
    CLI_OPT_SHA256  = 1u << 8, /* --sha256 HEX (deploy) */
    CLI_OPT_DOWNGRADE = 1u << 9, /* --allow-downgrade (deploy) */
    CLI_OPT_TO      = 1u << 10, /* --to VERSION (rollback) */
};

/*
 * The command line, once the global options (--json, --socket) and the
 * verb's own are parsed.  Strings point into argv.
 */
typedef struct cli {
    const char *socket;
    bool json;
    const struct cli_verb *verb;
    const char *args[CLI_MAX_ARGS]; /* the verb's arguments, in order */
    int nargs;
    int argc;                  /* the verb's unparsed arguments (for verbs that parse their own) */
    char **argv;
    /* Verb options (each only where the verb's row allows it). */
    int64_t lines;             /* -n: -1 = all kept */
    bool follow;               /* -f */
    bool wait;                 /* stop/restart: wait until done (default) */
    double timeout_s;          /* --timeout; 0 = the verb's default */
    const char *since, *until; /* logs: as given (parsed in cmd_observe.c) */
    const char *output;        /* logs: -o short | cat */
    double interval_s;         /* top: seconds between refreshes; 0 = the default */
    bool retry;                /* logs -f: reconnect when the daemon goes away */
    bool all;
    const char *sha256;        /* deploy --sha256 */
    bool allow_downgrade;      /* deploy --allow-downgrade */
    const char *to;            /* rollback --to */
    bool bad_usage;            /* an option lacked its value (reported) */
    /* Output state (output.c). */
    char *error;               /* the first error, for --json */
    cJSON *errors;             /* further problems, for --json */
    bool printed;              /* a JSON document went to stdout */
} cli;

typedef int cli_handler(cli *c);

/* One row of the verb table (wasmctl.c). */
typedef struct cli_verb {
    const char *name;
    cli_handler *handler;
    int min_args, max_args;    /* max_args < 0: the handler parses argc/argv itself */
    unsigned options;          /* CLI_OPT_* the verb accepts */
    bool offline;              /* needs no daemon */
    const char *usage;         /* "logs [-n N] [-f] [NAME]" */
    const char *help;          /* what it does; may span lines */
    const char *exits;         /* the exit statuses it can give, e.g. "0 2 3 4 6 7" */
} cli_verb;

/* ---- output.c ------------------------------------------------------------ */

/* An error: "wasmctl: MSG" on stderr; with --json also the document's "error" (or one of its "errors"). */
void cli_error(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A problem that names its own place ("FILE:LINE:COLUMN: ..."): printed as is, "errors" in --json. */
void cli_problem(cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/*
 * With --json, prints `doc` as the command's one document, adding "exit"
 * (and "error"/"errors" when recorded and `doc` has none); takes ownership.
 * Without --json it only frees `doc`.
 */
void cli_print_doc(cli *c, cJSON *doc, int status);
/* Prints one line of a stream (logs -f, top) as JSON; does not take ownership. */
void cli_print_line(const cJSON *doc);
/* The end of every command: with --json and nothing printed yet, prints {"status","exit","error","errors"}. */
int cli_finish(cli *c, int status);

/* Color and emphasis only on a terminal and without NO_COLOR. */
bool cli_color(void);
/* The escape sequence that colours a module state ("running", "failed"...), or ""; callers ask cli_color() first. */
const char *cli_state_colour(const char *state);

const char *cli_json_str(const cJSON *o, const char *key);
/* A number field, or -1. */
double cli_json_num(const cJSON *o, const char *key);
/* "1h02m", "3.2s"; "-" for a negative value. */
void cli_format_ms(double ms, char *buf, size_t size);
/* "0 B", "512 KiB", "16.0 MiB", "1.50 GiB" */
void cli_format_bytes(double n, char *buf, size_t size);
/* Unix seconds as local "2026-12-02 16:30:05"; buf is left as it is for t <= 0. */
void cli_format_time(double t, char *buf, size_t size);
/* Reads a whole file; on failure returns false with errno set.  The caller frees *ret_bytes. */
bool cli_read_file(const char *path, uint8_t **ret_bytes, size_t *ret_len);

/* ---- ctl.c: the daemon's socket ------------------------------------------ */

typedef struct cli_conn {
    int fd;
    char *buf;                 /* received bytes not yet returned */
    size_t len, cap;
} cli_conn;

/* A new request object {"v": WD_PROTO_VERSION, "verb": verb}. */
cJSON *cli_request_new(const char *verb);
/*
 * Connects, sends `req` (and `body`, when body_len > 0) and reads the
 * first response into *ret.  Returns EXIT_OK or the exit status of the
 * failure (after cli_error).  With `stream` no receive timeout is set, and
 * the connection stays open in *conn for cli_receive; otherwise it is closed.
 * Ownership: `req` stays the caller's (free it after the call); *ret is
 * the caller's to free.
 */
int cli_call(cli *c, cJSON *req, const void *body, size_t body_len, bool stream, cli_conn *conn, cJSON **ret);
/*
 * The next response of a stream; NULL at its end, with the exit status in
 * *ret_status (EXIT_UNREACHABLE when the daemon closed the connection:
 * a stream ends only when wasmctl is interrupted).
 */
cJSON *cli_receive(cli *c, cli_conn *conn, int *ret_status);
void cli_conn_close(cli_conn *conn);
/*
 * After a response: its exit status (the response's status mapped, or
 * EXIT_INVALID when an ok response lists problems); prints the error and
 * the problems.  Does not print the response itself.
 */
int cli_response_status(cli *c, const cJSON *r);
/*
 * Sends a simple request (verb, name, fields) and prints the result with
 * print_human (NULL: prints nothing).  Takes ownership of `req`.
 */
int cli_simple(cli *c, cJSON *req, void (*print_human)(const cli *c, const cJSON *r));

/* ---- the verb groups --------------------------------------------------------- */

/* cmd_run.c */
int cmd_run(cli *c);
/* cmd_offline.c */
int cmd_validate(cli *c);
int cmd_inspect(cli *c);
/* cmd_modules.c */
int cmd_list(cli *c);
int cmd_status(cli *c);
int cmd_start(cli *c);
int cmd_stop(cli *c);
int cmd_restart(cli *c);
int cmd_reload(cli *c);
int cmd_remove(cli *c);
int cmd_deploy(cli *c);
int cmd_version(cli *c);
/* cmd_observe.c */
int cmd_logs(cli *c);
int cmd_top(cli *c);
int cmd_metrics(cli *c);
/* cmd_sim.c */
int cmd_sim(cli *c);
/* cmd_remote.c */
int cmd_history(cli *c);
int cmd_rollback(cli *c);
int cmd_fleet(cli *c);
/* wasmctl.c */
int cmd_help(cli *c);
/*
 * "--name VALUE" or "--name=VALUE" at argv[*i]: the value (and *i moved
 * past it), or NULL when argv[*i] is another option.  An option without
 * its value is reported, sets c->bad_usage and gives NULL.
 */
const char *cli_option_value(cli *c, const char *name, int argc, char **argv, int *i);
/* --json or --socket PATH at argv[*i]: 1 taken, 0 not a global option, -1 wrong (reported). */
int cli_global_option(cli *c, int argc, char **argv, int *i);

#endif /* WASMD_CLI_WASMCTL_H */
