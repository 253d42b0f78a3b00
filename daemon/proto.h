/*
 * proto.h - the control protocol between wasmd and its clients (wasmctl).
 *
 * This header is shared: the daemon and cli/wasmctl.c include it, and
 * nothing else of the daemon.  It holds definitions only (no functions to
 * link), so a client needs no daemon object.
 *
 * Transport: a Unix stream socket (default WD_PROTO_DEFAULT_SOCKET).  Each
 * request is one JSON object on one line (terminated by '\n', at most
 * WD_PROTO_MAX_REQUEST bytes); each response is one JSON object on one
 * line.  A client may send several requests on one connection; responses
 * come in order.  `logs` with "follow": true answers with a first response
 * and then streams one event object per new log line until the client
 * closes the connection.
 *
 *   request:  {"v": 1, "verb": "status", "name": "ticker"}
 *   response: {"v": 1, "status": "ok", ...verb-specific fields...}
 *   error:    {"v": 1, "status": "not-found", "error": "no module named \"x\""}
 *
 * A request whose "v" differs from WD_PROTO_VERSION is answered with
 * status "unsupported-version" (and the daemon's version in "v").
 *
 * `deploy` is the one request with a body: its JSON line carries the
 * manifest's text and the module's size in "module_size", and exactly that
 * many raw bytes of the .wasm follow the newline (at most
 * WD_PROTO_MAX_MODULE).  The daemon answers once it has them all and the
 * module is installed (or refused), then closes the connection: nothing
 * sent after a deploy's bytes is read.
 *
 *   reload:  {"v":1,"verb":"reload"}
 *            -> {"status":"ok","added":[..],"removed":[..],"restarted":[..],
 *                "unchanged":[..],"errors":["FILE:LINE:COL: message",..]}
 *            (a bad manifest is an entry of "errors", not a failed request:
 *            the good ones are applied all the same)
 *   deploy:  {"v":1,"verb":"deploy","name":"ticker","file":"ticker.yaml",
 *             "manifest":"module: ticker.wasm\n...","module_size":1234} + bytes
 *            -> {"status":"ok","instance":{..}} once the module has started
 *               (a command entered _start or exited 0; a reactor's wasmd_init
 *               returned), or {"status":"invalid","error":"..","errors":[..]}
 *               (nothing written), or {"status":"failed","error":".."}: it
 *               failed to start (trap, non-zero exit, hardware held by
 *               another module, ...) and the previous version is back
 *   deploy by URL: {"v":1,"verb":"deploy","file":"ticker.yaml","manifest":"..",
 *             "url":"https://..","sha256":"64 hex digits","ca_file":"/path"} (no body)
 *            -> any number of {"status":"ok","progress":{"bytes":N,"total":N}}
 *               (at most every WD_FETCH_PROGRESS_MS), then the deploy's answer
 *               as above, or {"status":"fetch-failed"|"too-large"|"timeout",
 *               "error":".."} when the download fails (nothing written)
 *   remove:  {"v":1,"verb":"remove","name":"ticker"} -> {"status":"ok","name":"ticker"}
 *   history: {"v":1,"verb":"history","name":"ticker"} -> {"status":"ok","name":"ticker","history":[..]}
 *   fleet:   {"v":1,"verb":"fleet","op":"status"} -> {"status":"ok","fleet":{..}}
 *            (status "conflict" when the daemon config names no fleet.url)
 *   rollback: {"v":1,"verb":"rollback","name":"ticker","to":"3"}
 *            -> as deploy: {"status":"ok","instance":{..}} once the kept version has
 *               started, or {"status":"failed","error":".."} (switched back again);
 *               the connection is closed after the answer
 *
 * `sim` drives the simulated hardware (status "conflict" when the daemon
 * config does not choose the simulated backend of that kind):
 *   {"v":1,"verb":"sim","device":"gpio","op":"set","chip":"gpiochip0","line":27,"value":1}
 *   {"v":1,"verb":"sim","device":"gpio","op":"get","chip":"gpiochip0","line":27}
 *            -> {"status":"ok","chip":"gpiochip0","line":27,"level":1,"held":true,
 *                "direction":"input","changed_ns":123456789}
 *            (set drives an input's wire to a physical level, as a switch
 *            would; level is the wire's physical level; changed_ns is when
 *            it last changed, on CLOCK_MONOTONIC, 0 if never)
 *   {"v":1,"verb":"sim","device":"i2c","op":"temperature","bus":1,"address":72,"millicelsius":30500}
 *   {"v":1,"verb":"sim","device":"i2c","op":"get","bus":1,"address":72,"register":1}
 *   {"v":1,"verb":"sim","device":"i2c","op":"set","bus":1,"address":72,"register":1,"value":24736}
 *            -> {"status":"ok","bus":1,"address":72,"register":1,"value":24736}
 *            (temperature sets what a TMP102 measures; it answers without register or value)
 */
#ifndef WASMD_PROTO_H
#define WASMD_PROTO_H

#include <stdbool.h>
#include <string.h>

#define WD_PROTO_VERSION 1
#define WD_PROTO_DEFAULT_SOCKET "/run/wasmd/wasmd.sock"
#define WD_PROTO_MAX_REQUEST (64 * 1024)
#define WD_PROTO_MAX_MODULE  (256u << 20) /* bytes of a deployed .wasm */
#define WD_PROTO_MAX_URL     2048         /* bytes of a deploy's "url" */

/* Verbs: the request's "verb" value. */
#define WD_VERB_VERSION "version"
#define WD_VERB_LIST    "list"
#define WD_VERB_STATUS  "status"
#define WD_VERB_START   "start"
#define WD_VERB_STOP    "stop"
#define WD_VERB_RESTART "restart"
#define WD_VERB_LOGS    "logs"
#define WD_VERB_RELOAD  "reload"
#define WD_VERB_DEPLOY  "deploy"
#define WD_VERB_REMOVE  "remove"
#define WD_VERB_SIM     "sim"
#define WD_VERB_HISTORY "history"
#define WD_VERB_ROLLBACK "rollback"
#define WD_VERB_FLEET   "fleet"
#define WD_VERB_METRICS "metrics"

/* Field names of requests and responses. */
#define WD_F_VERSION   "v"         /* number: protocol version, in every message */
#define WD_F_VERB      "verb"      /* string: request */
#define WD_F_NAME      "name"      /* string: request (status/start/stop/restart/logs), instance objects */
#define WD_F_LINES     "lines"     /* request (logs): number of lines wanted; response (logs): array of strings */
#define WD_F_FOLLOW    "follow"    /* bool: request (logs) */
#define WD_F_STATUS    "status"    /* string: response status (see WD_PROTO_STATUS_MAP) */
#define WD_F_ERROR     "error"     /* string: human-readable message of a failed request */
#define WD_F_DAEMON    "daemon"    /* string: response (version): the daemon's version */
#define WD_F_INSTANCES "instances" /* array: response (list): instance objects */
#define WD_F_INSTANCE  "instance"  /* object: response (status/start/stop/restart) */
#define WD_F_LINE      "line"      /* string: a streamed log line (logs, follow) */
#define WD_F_ERRORS    "errors"    /* array of strings: response (reload, deploy): FILE:LINE:COL: message */
#define WD_F_ADDED     "added"     /* array of names: response (reload) */
#define WD_F_REMOVED   "removed"   /* array of names: response (reload) */
#define WD_F_RESTARTED "restarted" /* array of names: response (reload) */
#define WD_F_UNCHANGED "unchanged" /* array of names: response (reload) */
#define WD_F_FILE      "file"      /* string: request (deploy): the manifest's file name, for messages */
#define WD_F_MANIFEST  "manifest"  /* string: request (deploy): the manifest's YAML text */
#define WD_F_MODULE_SIZE "module_size" /* number: request (deploy): bytes of .wasm after the line */
#define WD_F_URL       "url"       /* string: request (deploy by URL): where the daemon downloads the module */
#define WD_F_SHA256    "sha256"    /* string: request (deploy): the module's SHA-256, 64 hex digits;
                                      required with "url", optional with a body (checked when given) */
#define WD_F_CA_FILE   "ca_file"   /* string: request (deploy by URL): a CA bundle for the server (optional) */
#define WD_F_SIGNATURE "signature" /* string: request (deploy): a minisign signature file's text (optional;
                                      for a deploy by URL, the daemon fetches URL.minisig when absent) */
#define WD_F_ALLOW_DOWNGRADE "allow_downgrade" /* bool: request (deploy): accept a signed version older than
                                      the installed one */
#define WD_F_PROGRESS  "progress"  /* object: event (deploy by URL): {"bytes": N, "total": N} */
#define WD_F_BYTES     "bytes"     /* number: progress: bytes downloaded so far */
#define WD_F_TOTAL     "total"     /* number: progress: the size the server announced, 0 when unknown */

/*
 * Waiting (start, stop, restart with "wait": true): the answer comes once
 * the instance has reached its final state -- stopped; for start and
 * restart running or waiting in its new run, or failed with its reason --
 * or status "timeout" (with the instance as it is) after "timeout_ms"
 * (default WD_PROTO_WAIT_MS); the operation goes on regardless.  Without "wait" the answer comes
 * at once, as before.  Requests sent after it on the same connection are
 * answered after it.
 *
 * reload answers once the modules it started have loaded (at most 20 s: one
 * still loading then is listed as added): a manifest whose
 * module cannot be loaded (missing, not WebAssembly, truncated, an import
 * not provided or a capability not granted) is listed in "failed", not in
 * "added" or "restarted", with "FILE: reason" in "errors"; it is not
 * retried.  A module whose manifest file turned bad keeps running under its
 * last good manifest: listed in "kept", the error in "errors" and in the
 * instance's "manifest_error".
 */
#define WD_F_WAIT       "wait"       /* bool: request (start, stop, restart) */
#define WD_F_TIMEOUT_MS "timeout_ms" /* number: request (start, stop, restart with wait) */
#define WD_F_FAILED     "failed"     /* array of names: response (reload) */
#define WD_F_KEPT       "kept"       /* array of names: response (reload) */
#define WD_PROTO_WAIT_MS 90000       /* a wait's default time limit */

/*
 * logs: with "entries": true the answer carries "entries" (objects with
 * time_us, module, stream, level for stream "log", message) instead of
 * "lines", and streamed lines come as {"entry": {..}}.  Without "name",
 * every module's lines, merged by time.  "since_us" and "until_us" (Unix
 * time in microseconds) keep the lines logged within them; "lines" then
 * counts the last of those.
 */
#define WD_F_ENTRIES  "entries"  /* bool: request (logs); array: response */
#define WD_F_ENTRY    "entry"    /* object: one streamed entry (logs, follow, entries) */
#define WD_F_SINCE_US "since_us" /* number: request (logs) */
#define WD_F_UNTIL_US "until_us" /* number: request (logs) */
#define WD_F_TIME_US  "time_us"  /* number: an entry's Unix time in microseconds (the daemon's realtime clock) */
#define WD_F_STREAM   "stream"   /* string: stdout | stderr | log | event */
#define WD_F_LEVEL    "level"    /* string: debug | info | warn | error (stream log) */
#define WD_F_MESSAGE  "message"  /* string: an entry's text */

/* metrics: {"v":1,"verb":"metrics"} -> {"status":"ok","text":"# HELP ..."} (the Prometheus text format). */
#define WD_F_TEXT     "text"

/* Fields of sim requests and responses. */
#define WD_F_DEVICE    "device"    /* string: "gpio" or "i2c" */
#define WD_F_OP        "op"        /* string: gpio: set | get; i2c: temperature | get | set */
#define WD_F_CHIP      "chip"      /* string: a simulated chip's name or index */
#define WD_F_GPIO_LINE "line"      /* number: line offset (same name as WD_F_LINE, in other messages) */
#define WD_F_VALUE     "value"     /* number: gpio set: 0 or 1; i2c: a register's value */
#define WD_F_LEVEL     "level"     /* number: a line's physical level */
#define WD_F_HELD      "held"      /* bool: a module holds the line */
#define WD_F_DIRECTION "direction" /* string: input | output (when held) */
#define WD_F_CHANGED_NS "changed_ns" /* number: when the level last changed (CLOCK_MONOTONIC ns) */
#define WD_F_BUS       "bus"       /* number: I2C bus */
#define WD_F_ADDRESS   "address"   /* number: 7-bit I2C address */
#define WD_F_REGISTER  "register"  /* number: register of a simulated I2C device */
#define WD_F_MILLICELSIUS "millicelsius" /* number: a TMP102's temperature */

/* Fields of an instance object. */
#define WD_F_STATE     "state"     /* string: see WD_STATE_MAP */
#define WD_F_REASON    "reason"    /* string: why it stopped or failed ("" while running) */
#define WD_F_MODULE    "module"    /* string: the .wasm path */
#define WD_F_RESTART   "restart"   /* string: never | on-failure | always */
#define WD_F_RESTARTS  "restarts"  /* number: restarts since the daemon started it or a user did */
#define WD_F_EXIT_CODE "exit_code" /* number: the last proc_exit code, or -1 */
#define WD_F_UPTIME_MS "uptime_ms" /* number: since the current run started; 0 when not running */
#define WD_F_SLICES    "slices"    /* number: time slices run in the current run */
#define WD_F_SLICE_MAX_US "slice_max_us" /* number: wall time of the longest slice of the current run, in µs */
#define WD_F_SLICE_MAX_CPU_US "slice_max_cpu_us" /* number: CPU time of its costliest slice, in µs */
#define WD_F_MEMORY    "memory_bytes" /* number: linear memory and tables the current run holds (0 when not running) */
#define WD_F_MEMORY_LIMIT "memory_limit_bytes" /* number: the most one linear memory may grow to (limits.memory_pages) */
#define WD_F_MEMORY_BUDGET "memory_budget_bytes" /* number: the daemon's budget for all modules together */
#define WD_F_MEMORY_BUDGET_USED "memory_budget_used_bytes" /* number: what all modules hold of it */
#define WD_F_RESTART_IN_MS "restart_in_ms" /* number: a restart is scheduled in that many ms, or -1 */
#define WD_F_HARDWARE  "hardware"  /* array of strings: what the current run holds, one line each */
#define WD_F_DEPLOY_NOTE "deploy"  /* string: why this version runs when an automatic rollback put it back
                                      (absent otherwise) */

/* Fields of history and rollback. */
#define WD_F_HISTORY   "history"   /* array: response (history): entries, oldest first, each {"deploy": N,
                                      "unit", "version", "sha256", "signer", "time" (s since the epoch),
                                      "source" (deploy | rollback), "outcome", "current" (bool)} */
#define WD_F_FLEET     "fleet"     /* object: response (fleet status): {"url", "interval_s", "last_poll" (s since
                                      the epoch, 0: never), "result" (of the last poll), "version" (of the
                                      document followed), "etag", "busy", "modules": [{"name", "state"}]}; state:
                                      converged | pending | updating | failed: .. | conflict: .. | removed */
#define WD_F_TO        "to"        /* string: request (rollback): the entry's number or version (optional:
                                      the newest other kept version) */
#define WD_F_MANIFEST_ERROR "manifest_error" /* string: why its manifest file is bad now (it runs under the last good one), or "" */
#define WD_F_CPU_US    "cpu_us"    /* number: CPU time its slices used, all runs, in µs */
#define WD_F_FUEL_USED "fuel_used" /* number: fuel its slices used, all runs */
#define WD_F_SLICES_TOTAL "slices_total" /* number: slices of all runs */
#define WD_F_EVENTS_QUEUED "events_queued" /* number: events waiting for its handlers */
#define WD_F_EVENTS_DROPPED "events_dropped" /* number: events dropped in this run (queue full) */

/*
 * Response statuses: the wire name and a message.  wasmctl maps them to its
 * exit codes.
 */
#define WD_PROTO_STATUS_MAP(X)                                            \
    X(OK,              "ok",                  "ok")                       \
    X(BAD_REQUEST,     "bad-request",         "malformed request")        \
    X(UNSUPPORTED_VERSION, "unsupported-version", "unsupported protocol version") \
    X(UNKNOWN_VERB,    "unknown-verb",        "unknown verb")             \
    X(NOT_FOUND,       "not-found",           "no such module")           \
    X(CONFLICT,        "conflict",            "not possible in this state") \
    X(DENIED,          "denied",              "permission denied")        \
    X(TOO_LARGE,       "too-large",           "request too large")        \
    X(INVALID,         "invalid",             "invalid manifest or module") \
    X(TIMEOUT,         "timeout",             "timed out")                \
    X(FAILED,          "failed",              "the module failed to start") \
    X(FETCH,           "fetch-failed",        "the module could not be downloaded") \
    X(INTERNAL,        "internal",            "internal error")

typedef enum wd_proto_status {
#define WD__PROTO_STATUS_ENUM(id, wire, msg) WD_PROTO_##id,
    WD_PROTO_STATUS_MAP(WD__PROTO_STATUS_ENUM)
#undef WD__PROTO_STATUS_ENUM
    WD__PROTO_STATUS_COUNT
} wd_proto_status;

/*
 * Instance states, with their wire names.
 *   starting       being loaded and instantiated
 *   running        runnable: in the run queue or running a slice
 *   waiting        parked in a host call (sleep, read) or, for a reactor, between events
 *   stopped        not running, by request or after a clean exit
 *   failed         trapped, exited non-zero, or could not be loaded
 *   crash-looping  failed too often within the window; not restarted until started by hand
 *   stopping       a reactor's wasmd_shutdown runs (bounded by the manifest's stop_timeout_ms)
 */
#define WD_STATE_MAP(X)                       \
    X(STARTING,      "starting")              \
    X(RUNNING,       "running")               \
    X(WAITING,       "waiting")               \
    X(STOPPED,       "stopped")               \
    X(FAILED,        "failed")                \
    X(CRASH_LOOPING, "crash-looping")        \
    X(STOPPING,      "stopping")

typedef enum wd_state {
#define WD__STATE_ENUM(id, wire) WD_STATE_##id,
    WD_STATE_MAP(WD__STATE_ENUM)
#undef WD__STATE_ENUM
    WD__STATE_COUNT
} wd_state;

/* The tables above, as functions (inline, so that clients link nothing). */
static inline const char *wd_proto_status_name(wd_proto_status s) {
    static const char *const names[] = {
#define WD__PROTO_STATUS_NAME(id, wire, msg) wire,
        WD_PROTO_STATUS_MAP(WD__PROTO_STATUS_NAME)
#undef WD__PROTO_STATUS_NAME
    };
    return (unsigned)s < WD__PROTO_STATUS_COUNT ? names[s] : "internal";
}

static inline const char *wd_proto_status_message(wd_proto_status s) {
    static const char *const msgs[] = {
#define WD__PROTO_STATUS_MSG(id, wire, msg) msg,
        WD_PROTO_STATUS_MAP(WD__PROTO_STATUS_MSG)
#undef WD__PROTO_STATUS_MSG
    };
    return (unsigned)s < WD__PROTO_STATUS_COUNT ? msgs[s] : "internal error";
}

/* WD_PROTO_INTERNAL for a name this version does not know. */
static inline wd_proto_status wd_proto_status_parse(const char *name) {
    for (int s = 0; s < WD__PROTO_STATUS_COUNT; s++)
        if (name && strcmp(name, wd_proto_status_name((wd_proto_status)s)) == 0)
            return (wd_proto_status)s;
    return WD_PROTO_INTERNAL;
}

static inline const char *wd_state_name(wd_state s) {
    static const char *const names[] = {
#define WD__STATE_NAME(id, wire) wire,
        WD_STATE_MAP(WD__STATE_NAME)
#undef WD__STATE_NAME
    };
    return (unsigned)s < WD__STATE_COUNT ? names[s] : "unknown";
}

/* False for a name this version does not know. */
static inline bool wd_state_parse(const char *name, wd_state *ret) {
    for (int s = 0; s < WD__STATE_COUNT; s++) {
        if (name && strcmp(name, wd_state_name((wd_state)s)) == 0) {
            *ret = (wd_state)s;
            return true;
        }
    }
    return false;
}

#endif /* WASMD_PROTO_H */
