/*
 * internal.h - the private header of wasmd, the daemon (for the files of daemon/ only).
 *
 * One process, one thread, one libuv loop.  Each manifest becomes a
 * wd_instance: its own engine store (so instances share no memory), its
 * own WASI context in nonblocking mode and its own execution context.
 * Instances take turns on the loop in time slices measured in fuel
 * (sched.c); a WASI call that would block parks the instance until libuv
 * reports its deadline or descriptor (instance.c).  Clients talk to the
 * daemon over a Unix socket (control.c, protocol in proto.h).
 *
 * Lifetime: every uv handle is embedded in the object that owns it, and an
 * object holding handles is freed only after the close callbacks of all of
 * them have run (never inside one of its own callbacks).
 */
#ifndef WASMD_DAEMON_INTERNAL_H
#define WASMD_DAEMON_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "config/config.h"
#include "daemon/proto.h"
#include "daemon/validate.h"
#include "hal/hal.h"
#include "wasi/wasi.h"
#include "wr.h"

#ifndef WASMD_VERSION
#define WASMD_VERSION "0.1.0-dev"
#endif

#define wd_container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))

/* ---- Limits (named here, enforced where used) -------------------------- */

#define WD_LOG_LINE_MAX      1024u       /* longer output lines are split */
#define WD_MAX_CLIENTS       1024u       /* control connections served at once; more are refused */
#define WD_ROOT_RESERVED_CLIENTS 16u     /* of those, kept for root: others are refused past WD_MAX_CLIENTS - this */
#define WD_MAX_REFUSED       64u         /* refused connections kept open to deliver their refusal; past it, closed at once */
#define WD_REFUSED_LINGER_MS 5000u       /* a refused peer has this long to send its request and read the refusal */
#define WD_CLIENT_MAX_QUEUE  (1u << 20)  /* bytes of replies a client may leave unread; past it, it is dropped */
#define WD_NOFILE_MIN        (WD_MAX_CLIENTS + WD_MAX_REFUSED + 1024u) /* descriptors the daemon asks for (RLIMIT_NOFILE) */
#define WD_MAX_WAIT_FDS      64u         /* descriptors one parked call may wait on */
#define WD_BACKOFF_MAX_MS    30000u      /* cap of the exponential restart backoff */
#define WD_BACKOFF_RESET_MS  10000u      /* a run that lasted this long resets the backoff */
#define WD_MODULE_MAX_BYTES  (256u << 20) /* largest .wasm file read */
#define WD_REASON_MAX        256u
#define WD_EVENT_QUEUE_MAX   128u        /* events queued for a reactor's handlers; more are dropped */
#define WD_GPIO_EDGE_QUEUE   64u         /* edges kept per input line for gpio_wait_edge; older ones are dropped */
#define WD_MIC_MAX_FDS       8u          /* ALSA poll descriptors of one capture stream */
#define WD_SCHED_POLL_NS     1000000u    /* the scheduler returns to the loop for I/O at least this often */
#define WD_SLICE_MAX_NS      2000000u    /* a slice ends after this much wall time, whatever its fuel */
#define WD_FUEL_HOST_BYTES   64u         /* bytes a wasmd import reads or writes per unit of fuel */
#define WD_FUEL_LOG_LINE     512u        /* fuel per line of output (wasmd_log, stdout, stderr): what the
                                            daemon spends on it (ring, journal, followers) */
#define WD_BUDGET_MIN_MIB    64u         /* the least memory budget derived from the machine's RAM */
#define WD_DEPLOY_START_MS   20000u      /* a deployed module has this long to start; past it the deploy
                                            fails and the previous version comes back (deploy.c) */
#define WD_HISTORY_MAX       32u         /* entries listed in a module's history (history.c) */
#define WD_HISTORY_FILE_MAX  (64u << 10) /* bytes of a history file read */
#define WD_FETCH_MAX_RESUMES 3u          /* a dropped download is resumed this many times (fetch.c) */
#define WD_FETCH_HEADER_MAX  256u        /* bytes of an ETag or Last-Modified kept */
#define WD_FETCH_PROGRESS_MS 250u        /* a download's progress goes to its client at most this often */
#define WD_DEPLOY_SETTLE_MS  1000u       /* ...and, once started, must run this long (and at least one slice)
                                            without failing for the deploy to succeed */
#define WD_RELOAD_WAIT_MS    20000u      /* reload answers once its loads are done, or after this long (wasmctl
                                            gives up after 30 s): a module still loading is then "added" */

typedef struct wd_daemon wd_daemon;
typedef struct wd_instance wd_instance;
typedef struct wd_client wd_client;
typedef struct wd_hw_run wd_hw_run;

/* ---- log.c: a bounded ring of lines ------------------------------------ */

/* Where a line came from.  The log levels of wasmd_log are streams of their own, named "log" on the wire. */
typedef enum wd_stream {
    WD_STREAM_STDOUT,
    WD_STREAM_STDERR,
    WD_STREAM_EVENT,             /* the daemon's own lines about the instance: lifecycle, denials */
    WD_STREAM_DEBUG,             /* wasmd_log, by level */
    WD_STREAM_INFO,
    WD_STREAM_WARN,
    WD_STREAM_ERROR,
} wd_stream;

/* One line: one allocation, owned by the ring. */
typedef struct wd_log_line {
    int64_t time_us;             /* when it was logged: Unix time (CLOCK_REALTIME) in microseconds */
    uint8_t stream;              /* wd_stream */
    char text[];                 /* NUL-terminated */
} wd_log_line;

typedef struct wd_log {
    wd_log_line **lines; /* nslots slots, grown as lines come (up to cap); owned */
    uint32_t nslots;
    uint32_t cap;
    uint32_t head;       /* index of the oldest line */
    uint32_t count;
} wd_log;

/* 0 (nothing is allocated before the first line).  cap 0 keeps no lines. */
int wd_log_init(wd_log *log, uint32_t cap);
void wd_log_free(wd_log *log);
/* Copies `text`; the oldest line goes when the ring is full.  The line kept, or NULL (none kept). */
const wd_log_line *wd_log_push(wd_log *log, int64_t time_us, wd_stream stream, const char *text);
/* The i-th line still kept, oldest first (i < log->count). */
const wd_log_line *wd_log_get(const wd_log *log, uint32_t i);
/* The stream of a tag as wd_instance_log gets it: "stdout", "stderr", "wasmd" (event), "info"... */
wd_stream wd_stream_parse(const char *tag);
/* "stdout", "stderr", "log" or "event"; the level ("info"...) of a "log" line, else NULL. */
const char *wd_stream_name(wd_stream s);
const char *wd_stream_level(wd_stream s);
/* The line as `logs` always showed it: the text, "[stderr] text", "[wasmd] text", "[info] text". */
const char *wd_log_format(const wd_log_line *l, char *buf, size_t size);
/* Unix time in microseconds (CLOCK_REALTIME). */
int64_t wd_realtime_us(void);

/* ---- instance.c: one module's life ------------------------------------- */

/* One descriptor a parked call waits on; freed in its close callback. */
typedef struct wd_poll {
    uv_poll_t handle;
    wd_instance *inst;
    struct wd_poll *next;
} wd_poll;

/* The line buffer of a run's stdout or stderr (instance.c, output_sink); made on its first write. */
typedef struct wd_output {
    wd_instance *inst;
    const char *stream;  /* "stdout" or "stderr" */
    size_t len;          /* bytes of the unfinished line in `line` */
    char line[WD_LOG_LINE_MAX + 1];
} wd_output;

/* A timer a reactor armed with wasmd.timer_start (host.c); freed in its close callback. */
typedef struct wd_timer {
    uv_timer_t handle;
    wd_instance *inst;
    struct wd_timer *next;
    uint32_t id;                 /* the module's number for it */
    uint32_t interval_ms;
    bool repeat;
    uint64_t due_ms;             /* loop time (uv_now) of the next expiry */
} wd_timer;

/*
 * A module being loaded in libuv's thread pool for a run (instance.c):
 * load_work fills module or why from path; owned by itself, freed in its
 * completion.  `cancelled` (set on the loop when the run ends first) makes
 * the completion discard the module.
 */
typedef struct wd_load {
    uv_work_t req;
    wd_instance *inst;
    char *path;                  /* owned copy of the manifest's module path */
    wr_module *module;           /* the result, or NULL with why */
    wr_error err;
    char why[WD_REASON_MAX];
    bool cancelled;
    bool done;                   /* load_work has finished */
    struct wd_load *next;        /* the daemon's queue of loads, in start order */
} wd_load;

/* What the call under way in an instance is (instance.c). */
typedef enum wd_call {
    WD_CALL_NONE,
    WD_CALL_START_SECTION,       /* the module's start function */
    WD_CALL_MAIN,                /* a command's _start */
    WD_CALL_INITIALIZE,          /* a reactor's WASI _initialize */
    WD_CALL_INIT,                /* wasmd_init */
    WD_CALL_TIMER,               /* wasmd_on_timer */
    WD_CALL_GPIO_EDGE,           /* wasmd_on_gpio_edge */
    WD_CALL_MIC_PERIOD,          /* wasmd_on_mic_period */
    WD_CALL_SHUTDOWN,            /* wasmd_shutdown */
} wd_call;

/* What happens once a graceful stop has ended the run (ordered: a later one wins). */
typedef enum wd_after_stop {
    WD_AFTER_NOTHING,
    WD_AFTER_RESTART,
    WD_AFTER_CLOSE,
} wd_after_stop;

#define WD_MAX_BOOT_CALLS 3u     /* start section, then _start, or _initialize and wasmd_init */
#define WD_MAX_CALL_ARGS  3u     /* parameters of the handlers (wasmd_on_gpio_edge has 3) */

/* An event queued for a reactor's handler. */
typedef enum wd_event_kind {
    WD_EVENT_TIMER,              /* id: the timer; one pending per id */
    WD_EVENT_GPIO_EDGE,          /* id: the handle; edge and timestamp_ns */
    WD_EVENT_MIC_PERIOD,         /* id: the handle; frames (set on delivery); one pending per handle */
} wd_event_kind;

typedef struct wd_event {
    wd_event_kind kind;
    uint32_t id;
    uint32_t edge;
    uint64_t timestamp_ns;
} wd_event;

struct wd_instance {
    wd_daemon *daemon;
    wd_instance *next;           /* the daemon's list, sorted by name */
    cfg_manifest *manifest;      /* owned */
    const char *name;            /* manifest->name */

    wd_state state;
    char reason[WD_REASON_MAX];  /* why it stopped or failed */
    int exit_code;               /* the last proc_exit code, or -1 */
    bool stop_requested;         /* a user stopped it: no restart */

    /* Limits, the manifest's or else the daemon's. */
    wr_limits limits;
    uint64_t fuel_per_slice;

    /* One run: all NULL while not running.  Owned. */
    wd_load *loading;            /* the module's load in the thread pool, while starting */
    wr_module *module;           /* a reference (wd_module_get): shared with other runs of the same binary */
    wr_store *store;
    wasi_ctx *wasi;
    wr_exec *exec;
    wr_func *entry;              /* _start */
    bool in_call;                /* wr_call returned SUSPENDED or OUT_OF_FUEL */
    bool have_host_results;      /* the parked call completed: resume with host_results */
    uint64_t host_results[1];
    uint64_t run_started_ns;
    uint64_t slices;
    uint64_t budget_refusals;    /* the store's refusals already logged */
    uint64_t slice_max_ns;       /* wall time of the longest slice of the run */
    uint64_t slice_max_cpu_ns;   /* CPU time of the costliest slice of the run */

    /* Run queue (sched.c). */
    wd_instance *rq_next;
    bool queued;

    /* Waiting for a parked call. */
    uv_timer_t wait_timer;
    wd_poll *polls;

    /* Restarts. */
    uv_timer_t restart_timer;
    bool restart_pending;
    uint64_t restart_at_ns;
    uint32_t backoff_ms;
    uint32_t restarts;
    uint64_t *fail_times;        /* ring of the last crash_loop_limit failure times */
    uint32_t nfail, fail_head;

    wd_output *outputs[2];       /* the current run's stdout and stderr line buffers, or NULL; owned */

    wd_log log;
    unsigned open_handles;       /* handles (embedded or in wd_poll) not yet closed */
    bool closing;                /* wd_instance_close called: free after the last close callback */

    /* The calls of a run (instance.c): `entry` is the one under way, NULL when idle. */
    wd_call call;
    wr_val call_args[WD_MAX_CALL_ARGS];
    uint32_t call_nargs;
    wr_func *boot[WD_MAX_BOOT_CALLS];  /* start-up calls still to make, in order */
    wd_call boot_kind[WD_MAX_BOOT_CALLS];
    uint32_t nboot, boot_next;

    /* Reactors: handlers and their queued events. */
    bool reactor;                /* the module exports no _start */
    bool initialized;            /* wasmd_init returned: events may be delivered */
    wr_func *on_timer;           /* wasmd_on_timer, or NULL */
    wr_func *on_shutdown;        /* wasmd_shutdown, or NULL */
    wr_func *on_gpio_edge;       /* wasmd_on_gpio_edge, or NULL */
    wr_func *on_mic_period;      /* wasmd_on_mic_period, or NULL */
    wd_event events[WD_EVENT_QUEUE_MAX];
    uint32_t ev_head, ev_count;
    uint64_t ev_dropped;
    wd_timer *timers;            /* armed timers (host.c) */
    uint32_t ntimers;

    /* Hardware the run holds (hw.c), or NULL.  Owned. */
    wd_hw_run *hw;
    bool host_parked;            /* a hardware import suspended the call (not WASI) */

    /* Graceful stop: wasmd_shutdown runs within manifest->stop_timeout_ms. */
    bool stopping;
    bool shutdown_called;
    wd_after_stop after_stop;
    char stop_reason[WD_REASON_MAX];
    uv_timer_t stop_timer;

    /* deploy.c: why this version runs, when an automatic rollback put it back ("" otherwise). */
    char deploy_note[WD_REASON_MAX];
    /* deploy.c: a deploy waiting for this run's outcome is told of every state change and of the close. */
    void (*watch)(wd_instance *in, void *ud);
    void *watch_ud;
    /* Operators' view (instance.c, control.c, metrics.c). */
    uint64_t run_seq;            /* runs begun so far: a restart's waiter knows the new run by it */
    bool load_failed;            /* the last run could not load or link its module: not retried (not transient) */
    char *manifest_error;        /* owned: why the manifest file is bad now (a reload keeps the last good one), or NULL */
    uint64_t cpu_ns_total;       /* CPU time of all its slices since it was created (CLOCK_THREAD_CPUTIME_ID) */
    uint64_t fuel_total;         /* fuel its slices used since it was created */
    uint64_t slices_total;       /* slices since it was created */
    char *backtrace;             /* owned: a trap's backtrace line, logged after the failure's, or NULL */
};

/*
 * A new instance for `m` (ownership of `m` passes to it), stopped.  NULL
 * when out of memory (`m` is then freed).
 */
wd_instance *wd_instance_new(wd_daemon *d, cfg_manifest *m);
/* Stops it if needed and closes its handles; it frees itself after the last close callback. */
void wd_instance_close(wd_instance *in);

/* User requests; WD_PROTO_OK or CONFLICT with the reason in `why` (size WD_REASON_MAX). */
wd_proto_status wd_instance_start(wd_instance *in, char *why);
wd_proto_status wd_instance_stop(wd_instance *in, char *why);
wd_proto_status wd_instance_restart(wd_instance *in, char *why);
/* Starts it at daemon start-up (no conflict possible). */
void wd_instance_autostart(wd_instance *in);

/* Runs one time slice; called by the scheduler for a queued instance. */
void wd_instance_run_slice(wd_instance *in);
/* Bytes of linear memory and tables the current run holds (0 when not running), and its limit per memory. */
uint64_t wd_instance_memory_bytes(const wd_instance *in);
uint64_t wd_instance_memory_limit(const wd_instance *in);
/* Sets d->budget from the daemon config (memory_budget_mib, or half the RAM); logs it on stderr. */
void wd_budget_init(wd_daemon *d);

/* Appends a line to its log, to followers and to the daemon's stderr. */
void wd_instance_log(wd_instance *in, const char *stream, const char *line);

/* Logs a line of the daemon's own about this instance, tagged "wasmd". */
void wd_instance_event(wd_instance *in, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* A handle counted in open_handles has closed (host.c's timers, hw.c's polls). */
void wd_instance_handle_closed(wd_instance *in);
/*
 * Queues an event for its handler and runs it when the instance is idle.
 * A timer expiry or a microphone period already queued for the same id is
 * not queued twice.
 */
void wd_instance_post(wd_instance *in, const wd_event *ev);
/* Drops a queued event of that kind and id; true when there was one. */
bool wd_instance_drop_event(wd_instance *in, wd_event_kind kind, uint32_t id);
/*
 * A hardware import that returned WR_SUSPEND (with in->host_parked set)
 * has its result: the call resumes with it in the next slice.
 */
void wd_instance_host_complete(wd_instance *in, uint32_t result);

/* ---- modcache.c: one loaded module per distinct binary ------------------ */

/*
 * The module loaded from `bytes` (wr_module_load), shared with every run
 * holding one loaded from identical bytes; each successful call is one
 * reference, given back with wd_module_put().  Callable from any thread
 * (loads run in libuv's thread pool).  On failure, the load's status and `err`.
 */
wr_status wd_module_get(const uint8_t *bytes, size_t len, wr_module **ret, wr_error *err);
/* Gives back a reference; the module is freed with the last one.  Accepts NULL. */
void wd_module_put(wr_module *m);

/* ---- host.c: the "wasmd" imports (sdk/wasmd.h) ------------------------- */

/* One host function per row of WD_HOST_IMPORT_MAP: wd_host_NAME (host.c and hw.c). */
#define WD__HOST_DECL(nm, par, res, cap) \
    wr_status wd_host_##nm(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results);
WD_HOST_IMPORT_MAP(WD__HOST_DECL)
#undef WD__HOST_DECL

/*
 * Fills imports[i] for every import of `m` from the "wasmd" module with a
 * host function of in->store bound to `in`.  WASI imports are left alone;
 * any other import, an unknown wasmd function or a wrong signature fails
 * with the import named in `why` (size WD_REASON_MAX).
 */
bool wd_host_link(wd_instance *in, const wr_module *m, wr_extern *imports, char *why);
/*
 * `len` bytes of the calling module's memory at `ptr`, or NULL when they
 * are not all inside it.  Valid until the module's memory grows.
 */
uint8_t *wd_guest_bytes(wr_exec *exec, uint32_t ptr, uint64_t len);
/* Copies bytes from a module into `buf` (size > 0) for a message, '?' for unprintable ones; returns buf. */
const char *wd_printable(const void *bytes, uint32_t len, char *buf, size_t size);
/* Disarms and closes every timer of the run. */
void wd_host_timers_close(wd_instance *in);

/* ---- hw.c: hardware backends and what each run holds ------------------- */

/* Opens the backends the daemon config chooses; 0, or -1 with the reason in `why`. */
int wd_hw_open(wd_daemon *d, char *why);
void wd_hw_close(wd_daemon *d);
/*
 * At start: refuses a module importing functions of a capability its
 * manifest does not grant, then claims every granted line (outputs at
 * their safe values) and the microphone.  False with the reason in `why`
 * (size WD_REASON_MAX), holding nothing.
 */
bool wd_hw_acquire(wd_instance *in, const wr_module *m, char *why);
/* Outputs to their safe values, every handle released, a parked call dropped.  Accepts in->hw NULL. */
void wd_hw_release(wd_instance *in);
/* Frames of captured audio waiting for the run's wasmd_mic_read (0 when none or no microphone is open). */
uint32_t wd_hw_mic_available(wd_instance *in);
/* Adds one line per thing the run holds ("gpio led: gpiochip0 line 17, output, open") to a cJSON array. */
void wd_hw_describe(const wd_instance *in, void *array);
/* The `sim` control verb: `req` and `resp` are cJSON objects (void * keeps cJSON out of this header). */
wd_proto_status wd_hw_sim(wd_daemon *d, const void *req, void *resp, char *why);

/* ---- sched.c: the run queue -------------------------------------------- */

void wd_sched_init(wd_daemon *d);
void wd_sched_close(wd_daemon *d);
/* Appends to the back of the queue (no-op when already queued): an instance whose slice ran out. */
void wd_sched_enqueue(wd_daemon *d, wd_instance *in);
/* Queues an instance woken by an event ahead of those computing (no-op when already queued). */
void wd_sched_wake(wd_daemon *d, wd_instance *in);
void wd_sched_remove(wd_daemon *d, wd_instance *in);
/*
 * An instance runs its shutdown handler: wd_sched_close waits for the
 * matching drain_end of every one before closing the scheduler.
 */
void wd_sched_drain_begin(wd_daemon *d);
void wd_sched_drain_end(wd_daemon *d);

/* ---- control.c: the Unix socket --------------------------------------- */

/* 0, or negative errno (message printed). */
int wd_control_listen(wd_daemon *d, const char *path);
void wd_control_close(wd_daemon *d);
/* A line was added to `in`'s log: streams it to the clients following it. */
void wd_control_log_line(wd_daemon *d, wd_instance *in, const wd_log_line *line);
/* `in` is about to be freed: its followers stop following. */
void wd_control_forget(wd_daemon *d, wd_instance *in);

/* ---- fetch.c: downloads in the loop (libcurl multi driven by libuv) ------ */

typedef struct wd_fetch wd_fetch;
/* Progress: bytes received so far, and the total when the server said it (else 0). */
typedef void (*wd_fetch_progress_fn)(void *ud, uint64_t bytes, uint64_t total);
/*
 * The end: WD_PROTO_OK with the bytes (owned by the callee from here on),
 * or a failure (WD_PROTO_FETCH, TOO_LARGE or TIMEOUT) with its message;
 * `res` has the server's status code and validators (a 304 is a failure
 * with http_status 304).
 */
typedef struct wd_fetch_result {
    long http_status;            /* the server's last status code (0 when none came; 304: not modified) */
    const char *etag;            /* its ETag header, or "" */
    const char *last_modified;   /* its Last-Modified header, or "" */
} wd_fetch_result;
typedef void (*wd_fetch_done_fn)(void *ud, wd_proto_status status, const wd_fetch_result *res, const char *why,
                                 uint8_t *data, size_t len);
/*
 * Starts downloading `url` into memory (policy at the top of fetch.c);
 * `ca_file` (may be NULL) overrides the daemon config's CA bundle.  NULL
 * with the reason in `why` when the URL is refused or the download cannot
 * start; else `done` is called exactly once, later, unless cancelled.
 */
wd_fetch *wd_fetch_start(wd_daemon *d, const char *url, const char *ca_file, wd_fetch_progress_fn progress,
                         wd_fetch_done_fn done, void *ud, char *why);
/* The same as a conditional request: If-None-Match `etag`, If-Modified-Since `last_modified` (each may be NULL or ""). */
wd_fetch *wd_fetch_start_cond(wd_daemon *d, const char *url, const char *ca_file, const char *etag,
                              const char *last_modified, wd_fetch_progress_fn progress, wd_fetch_done_fn done,
                              void *ud, char *why);
/* The caller went away: no more calls; the transfer is aborted at libcurl's next callback. */
void wd_fetch_cancel(wd_fetch *f);
/* At shutdown: ends every download (their done functions are told) and frees libcurl's handles. */
void wd_fetch_close(wd_daemon *d);

/* ---- history.c: the versions kept of each deployed module -------------- */

/* One deploy or rollback, for wd_history_add (strings may be NULL: ""). */
typedef struct wd_history_entry {
    const char *unit;            /* ".unit-XXXXXX", or "" when there is none to switch back to */
    const char *version, *sha256, *signer;
    const char *source;          /* "deploy" or "rollback" */
    const char *outcome;         /* "started", "failed to start: ...", "rolled back: ..." */
} wd_history_entry;

/* Appends an entry to dir/.history-NAME; its number ("deploy"), or -errno. */
int wd_history_add(wd_daemon *d, const char *dir, const char *name, const wd_history_entry *h);
/* Sets the outcome of entry number `deploy` (and forgets its unit when unit_gone). */
void wd_history_set_outcome(const char *dir, const char *name, int deploy, const char *outcome, bool unit_gone);
/*
 * Keeps the units of the link's target, of `protect` (may be NULL) and of
 * the history_keep newest other entries; deletes the others' directories.
 */
void wd_history_prune(wd_daemon *d, const char *dir, const char *name, const char *protect);
/* The entries (a cJSON array, oldest first; the caller deletes it), each with "current". */
struct cJSON *wd_history_list(const char *dir, const char *name);
/* The entries as stored (an empty array when none). */
struct cJSON *wd_history_read(const char *dir, const char *name);
/* A removed module: its history file and every unit it lists are deleted. */
void wd_history_forget(const char *dir, const char *name);
/* True when some module's history lists `unit` (start-up cleaning keeps it). */
bool wd_history_keeps(const char *dir, const char *unit);

/* ---- fleet.c: following a desired-state document ------------------------ */

typedef struct wd_fleet wd_fleet;
/* Starts fleet mode when the daemon config names fleet.url (first poll at once); 0 or -ENOMEM. */
int wd_fleet_open(wd_daemon *d);
/* At shutdown: stops polling; downloads and deploys under way no longer report to it. */
void wd_fleet_close(wd_daemon *d);
/* `wasmctl fleet status`: a cJSON object (url, last_poll, result, version, modules: [{name, state}]). */
void *wd_fleet_status(wd_daemon *d);
/* ---- metrics.c: the figures in the Prometheus text format --------------- */

/* The exposition text (malloc'd), or NULL when out of memory. */
char *wd_metrics_text(wd_daemon *d);
/* Starts writing textfile_dir/wasmd.prom every interval_ms when the config has `metrics`. */
void wd_metrics_start(wd_daemon *d);
/* Stops writing and removes the file. */
void wd_metrics_stop(wd_daemon *d);

/* ---- main.c: the daemon ---------------------------------------------- */

struct wd_daemon {
    uv_loop_t *loop;
    cfg_daemon *cfg;             /* owned */
    wd_instance *instances;      /* owned list, sorted by name */

    /* sched.c */
    uv_idle_t idle;
    wd_instance *rq_head, *rq_tail;
    wd_instance *rq_woken;       /* the last of the woken instances at the front of the queue, or NULL */
    size_t turn_left;            /* slices left in the turn under way */

    /* instance.c: linear memories and tables of all runs together (memory_budget_mib) */
    wr_budget budget;

    /* control.c */
    uv_pipe_t server;
    bool listening;
    char *socket_path;           /* owned; unlinked on close */
    bool has_group;
    gid_t group;
    wd_client *clients;          /* served connections */
    unsigned nclients;
    wd_client *refused;          /* refused connections until their refusal is delivered */
    unsigned nrefused;

    uv_signal_t sigterm, sigint;
    bool shutting_down;

    /* main.c: reload, systemd */
    uv_signal_t sighup;
    char *modules_dir_real;      /* owned: realpath of cfg->modules_dir, or NULL */
    char *deploy_dir;            /* owned: deploy.c's STATE_DIR/modules, or NULL before first use */
    bool notify;                 /* NOTIFY_SOCKET is set: send STATUS= lines */
    bool journal;                /* stderr is the journal: module output goes there with fields */
    uv_timer_t watchdog;
    bool watchdog_on;
    uv_check_t status_check;     /* after each loop turn: STATUS= when the counts changed */
    char last_status[128];
    bool socket_activated;       /* control.c: the listening socket came from systemd */

    /* instance.c: modules being loaded in the thread pool, in the order their runs started */
    wd_load *loads, *loads_tail;

    /* hw.c: the backends (NULL when not opened) */
    hal_gpio *gpio;
    hal_i2c *i2c;
    hal_mic *mic;

    /* sched.c: instances still running a shutdown handler keep the scheduler open. */
    unsigned draining;
    bool sched_closing;
    bool sched_closed;

    /* deploy.c: deploys that switched and wait for their module's outcome (one per name at most). */
    struct wd_deploy *deploys;

    /* fetch.c: libcurl's multi handle (NULL before the first download), its timer, transfers, sockets. */
    void *curlm;
    uv_timer_t fetch_timer;
    struct wd_fetch *fetches;
    struct wd_fetch_sock *fetch_socks;

    /* fleet.c: fleet mode, or NULL */
    wd_fleet *fleet;
    /* control.c: requests waiting for instances to settle (stop/restart --wait, reload), checked after each loop turn. */
    uv_check_t wait_check;
    bool wait_check_open;
    unsigned nwaits;

    /* metrics.c: the textfile writer (metrics.textfile_dir), when configured. */
    uv_timer_t metrics_timer;
    bool metrics_on;
};

/* Lists for a reload's or deploy's answer: `what` is a WD_F_* array name, `item` a name or message. */
typedef void (*wd_note_fn)(void *ud, const char *what, const char *item);

/*
 * Re-reads the modules directory: starts new manifests, stops removed
 * ones, restarts changed ones, leaves unchanged ones running; a bad
 * manifest is noted under WD_F_ERRORS and an instance from the same file
 * keeps running.  0, or negative errno when the directory can't be read.
 */
int wd_daemon_reload(wd_daemon *d, wd_note_fn note, void *ud);
/* A new instance for `m` (owned by it from here on), added and started; NULL when out of memory. */
wd_instance *wd_daemon_start_manifest(wd_daemon *d, cfg_manifest *m);
/* The same, started only when `start` (else it stays stopped: "not started"). */
wd_instance *wd_daemon_add_manifest(wd_daemon *d, cfg_manifest *m, bool start);
/* Takes `in` out of the list and closes it (it frees itself later). */
void wd_daemon_drop(wd_daemon *d, wd_instance *in);
/*
 * deploy.c: adds the deployed modules' manifests to `set` (a name the set
 * has already is an error in it); with `clean`, deletes unit directories
 * left by an interrupted deploy or remove.  0, or negative errno.
 */
int wd_deploy_load(wd_daemon *d, cfg_manifest_set *set, bool clean);
/*
 * Deploys a manifest (its text, copied) and a module (its bytes, owned by
 * the deploy from here on): validated, written as one unit under the state
 * directory, published atomically and started (deploy.c).  The slow part
 * runs in libuv's thread pool: this returns at once with the deploy under
 * way, and later calls `note` for each problem found (under WD_F_ERRORS)
 * then `done` once the module has started (a command entered _start or
 * exited 0, a reactor's wasmd_init returned) with WD_PROTO_OK and the new
 * instance, or a failure status with `why`.  On failure nothing new is
 * left on disk, and a module that fails to start (WD_PROTO_FAILED, within
 * WD_DEPLOY_START_MS) is switched back to the previous version, which runs
 * again if it ran before.  NULL with `why` (size
 * WD_REASON_MAX) when it cannot begin (the module's bytes then stay the
 * caller's).  `file` is the manifest's file name as the user knows it;
 * `opts` (may be NULL; copied) has the hash and signature to check: a
 * signature must be by a key of trusted_keys_dir and name the module and a
 * version not older than the installed one's (unless allow_downgrade); with
 * require_signature (daemon config or manifest) an unsigned module is refused.
 */
typedef struct wd_deploy wd_deploy;
/* What a deploy must check besides the manifest and module (all optional). */
typedef struct wd_deploy_opts {
    const char *sha256;          /* the module's SHA-256, 64 hex digits */
    const char *signature;       /* a minisign signature file's text (signature.h) */
    bool allow_downgrade;        /* a signed version older than the installed one is accepted */
} wd_deploy_opts;
typedef void (*wd_deploy_fn)(void *ud, wd_proto_status status, wd_instance *in, const char *why);
wd_deploy *wd_daemon_deploy(wd_daemon *d, const char *file, const char *manifest, uint8_t *module, size_t module_len,
                            const wd_deploy_opts *opts, wd_note_fn note, wd_deploy_fn done, void *ud, char *why);
/* The caller of a deploy under way went away: neither `note` nor `done` will be called. */
void wd_deploy_detach(wd_deploy *dep);
/*
 * Switches a deployed module back to a unit its history keeps: the
 * entry numbered or versioned `to`, or (NULL) the newest other one with
 * a unit.  Like a deploy it waits for the module to start (`done` then,
 * with `ud`), and switches back again if it fails.  NULL with the status
 * in *ret and the reason in `why` when it cannot begin.
 */
wd_deploy *wd_daemon_rollback(wd_daemon *d, const char *name, const char *to, wd_deploy_fn done, void *ud,
                              wd_proto_status *ret, char *why);
/*
 * Stops and forgets an instance.  A deployed one's unit is deleted; for one
 * of the modules directory, its manifest file (refused with
 * WD_PROTO_CONFLICT when that cannot be deleted) and a module file kept
 * beside it.
 */
wd_proto_status wd_daemon_remove(wd_daemon *d, const char *name, char *why);
/* Writes a line of a module's output (or a daemon event about it) to the journal or stderr. */
void wd_daemon_output(wd_daemon *d, const char *module, const char *stream, const char *line);
/* Listens on a socket passed by systemd (socket activation); 0 or negative errno. */
int wd_control_listen_fd(wd_daemon *d, int fd);

wd_instance *wd_daemon_find(wd_daemon *d, const char *name);
/* Nanoseconds on CLOCK_MONOTONIC (uv_hrtime's clock). */
uint64_t wd_now_ns(void);

#endif /* WASMD_DAEMON_INTERNAL_H */
