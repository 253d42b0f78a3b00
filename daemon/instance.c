/*
 * instance.c - the life of one instance: load, run in slices, park in WASI
 * calls, capture output, stop, fail, restart.
 *
 * States (proto.h): a start loads the module into a fresh store
 * (starting), queues it for the scheduler (running), parks it while a WASI
 * call waits (waiting), and ends the run as stopped (clean exit or a
 * user's stop) or failed (trap, non-zero exit, load error).  The restart
 * policy then may schedule a new run after a backoff that doubles with each
 * restart; too many failures within the manifest's window make it
 * crash-looping, where it stays until a user starts it.
 *
 * A run owns its module, store, WASI context and execution context; they
 * are created together (run_create) and freed together (run_destroy).
 * Stopping happens between slices (the daemon has one thread, so a user's
 * request is handled only when no slice is running) or while parked.
 *
 * Calls.  A run is a sequence of calls, one at a time, each run in slices
 * by the scheduler and able to park in WASI: first the module's start
 * function (instantiation is deferred so that a start section that loops
 * forever is sliced like anything else), then for a command its _start,
 * which ends the run when it returns; for a reactor (no _start export) its
 * _initialize and wasmd_init, then one wasmd_on_timer call per queued
 * timer expiry (host.c queues them), the instance waiting between events.
 *
 * Graceful stop.  Stopping a reactor that exports wasmd_shutdown and whose
 * wasmd_init has returned disarms its timers, drops its queued events, lets
 * a handler under way finish, then calls wasmd_shutdown (state stopping);
 * the run ends when it returns or traps, or after the manifest's
 * stop_timeout_ms, whichever comes first.  Anything else is ended at once.
 * A restart or a close (daemon shutdown, removal) requested meanwhile
 * happens when the run has ended (after_stop).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/internal.h"
#include "sdk/wasmd.h"

#define NS_PER_MS 1000000ull

static void wait_stop(wd_instance *in);
static void finish_run(wd_instance *in, wd_state state, const char *reason);
static void dispatch(wd_instance *in);
static void run_start(wd_instance *in);
static void reset_history(wd_instance *in);
static void close_now(wd_instance *in);

/* One of the instance's handles has closed; the last one after wd_instance_close frees it. */
static void handle_released(wd_instance *in) {
    if (--in->open_handles > 0 || !in->closing)
        return;
    for (int i = 0; i < 2; i++)
        free(in->outputs[i]); /* finish_run freed them already: an ended run has none */
    wd_log_free(&in->log);
    free(in->fail_times);
    free(in->manifest_error);
    free(in->backtrace);
    cfg_manifest_free(in->manifest);
    free(in);
}

void wd_instance_handle_closed(wd_instance *in) {
    handle_released(in);
}

/* While a graceful stop is under way the instance shows as stopping, parked or not. */
static void set_state(wd_instance *in, wd_state s) {
    if (in->stopping && (s == WD_STATE_RUNNING || s == WD_STATE_WAITING))
        s = WD_STATE_STOPPING;
    in->state = s;
    if (in->watch)
        in->watch(in, in->watch_ud);
}

static bool is_active(const wd_instance *in) {
    return in->state == WD_STATE_STARTING || in->state == WD_STATE_RUNNING || in->state == WD_STATE_WAITING ||
           in->state == WD_STATE_STOPPING;
}

void wd_instance_event(wd_instance *in, const char *fmt, ...) {
    char text[WD_LOG_LINE_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    wd_instance_log(in, "wasmd", text);
}

void wd_instance_log(wd_instance *in, const char *stream, const char *line) {
    wd_stream s = wd_stream_parse(stream);
    int64_t now = wd_realtime_us();
    const wd_log_line *kept = wd_log_push(&in->log, now, s, line);
    wd_daemon_output(in->daemon, in->name, stream, line);
    if (kept) {
        wd_control_log_line(in->daemon, in, kept);
    } else {
        /* A ring of no lines (or no memory): followers still get it. */
        size_t len = strlen(line);
        wd_log_line *l = malloc(sizeof *l + len + 1);
        if (l) {
            l->time_us = now;
            l->stream = (uint8_t)s;
            memcpy(l->text, line, len + 1);
            wd_control_log_line(in->daemon, in, l);
            free(l);
        }
    }
}

/* ---- Output capture ----------------------------------------------------- */

/*
 * A run's stdout and stderr are WASI stdio sinks (wasi_config.stdio_sink):
 * what the guest writes reaches output_sink inside its fd_write, in the
 * slice, and is split into lines for the log there.  No descriptor, pipe or
 * libuv handle per instance.  The work is the guest's: WASI charges
 * WD_FUEL_LOG_LINE per newline (stdio_line_fuel) and a byte-proportional
 * share, and a line cut at WD_LOG_LINE_MAX is charged here, so a module
 * flooding its output spends its own slices on it.  Line buffers are made
 * on the first write of each stream.
 */

static void output_flush(wd_output *o) {
    if (o->len == 0)
        return;
    o->line[o->len] = '\0';
    wd_instance_log(o->inst, o->stream, o->line);
    o->len = 0;
}

static void output_split(wd_output *o, const char *data, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char c = data[i];
        if (c == '\n') {
            o->line[o->len] = '\0';
            wd_instance_log(o->inst, o->stream, o->line);
            o->len = 0;
            continue;
        }
        o->line[o->len++] = c;
        if (o->len == WD_LOG_LINE_MAX) {
            output_flush(o);
            if (o->inst->exec)
                wr_exec_charge(o->inst->exec, WD_FUEL_LOG_LINE); /* no newline paid for this line */
        }
    }
}

/* wasi_sink_fn: `stream` 1 is stdout, 2 stderr. */
static void output_sink(void *ud, int stream, const uint8_t *bytes, size_t len) {
    wd_instance *in = ud;
    int i = stream == 2 ? 1 : 0;
    wd_output *o = in->outputs[i];
    if (!o) {
        o = calloc(1, sizeof *o);
        if (!o)
            return; /* output is dropped rather than the run */
        o->inst = in;
        o->stream = i ? "stderr" : "stdout";
        in->outputs[i] = o;
    }
    output_split(o, (const char *)bytes, len);
}

/*
 * The run ended: an unfinished last line of each stream is logged now,
 * before the daemon's line saying how it ended, and the buffers go.
 */
static void output_drain(wd_instance *in) {
    for (int i = 0; i < 2; i++) {
        if (!in->outputs[i])
            continue;
        output_flush(in->outputs[i]);
        free(in->outputs[i]);
        in->outputs[i] = NULL;
    }
}

/* ---- A run: create and destroy ------------------------------------------ */

static void run_destroy(wd_instance *in) {
    if (in->loading) {
        in->loading->cancelled = true; /* load_done frees what it made */
        in->loading = NULL;
    }
    wd_sched_remove(in->daemon, in);
    wait_stop(in);
    wd_host_timers_close(in);
    wd_hw_release(in);          /* outputs to their safe values, whatever ended the run */
    in->host_parked = false;
    in->ev_head = in->ev_count = 0;
    in->ev_dropped = 0;
    in->call = WD_CALL_NONE;
    in->call_nargs = 0;
    in->nboot = in->boot_next = 0;
    in->reactor = in->initialized = in->shutdown_called = false;
    in->on_timer = in->on_shutdown = in->on_gpio_edge = in->on_mic_period = NULL;
    if (in->exec && in->in_call)
        wr_exec_reset(in->exec);
    in->in_call = false;
    in->have_host_results = false;
    if (in->wasi)
        wasi_ctx_cancel(in->wasi);
    wr_exec_free(in->exec);
    wr_store_free(in->store);   /* before the WASI context: its host functions point to it */
    wasi_ctx_free(in->wasi);
    wd_module_put(in->module);  /* after the store, whose instance used it */
    in->exec = NULL;
    in->store = NULL;
    in->wasi = NULL;
    in->module = NULL;
    in->entry = NULL;
}

/* Reads a whole file of at most WD_MODULE_MAX_BYTES; 0 or negative errno. */
static int read_file(const char *path, uint8_t **ret_bytes, size_t *ret_len) {
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    size_t len = 0, cap = 64 * 1024;
    uint8_t *buf = malloc(cap);
    int r = 0;
    while (buf) {
        if (len == cap) {
            if (cap >= WD_MODULE_MAX_BYTES) {
                r = -EFBIG;
                break;
            }
            uint8_t *bigger = realloc(buf, cap * 2);
            if (!bigger)
                break;
            buf = bigger;
            cap *= 2;
        }
        ssize_t n = read(fd, buf + len, cap - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            r = -errno;
            break;
        }
        if (n == 0) {
            close(fd);
            *ret_bytes = buf;
            *ret_len = len;
            return 0;
        }
        len += (size_t)n;
    }
    close(fd);
    free(buf);
    return r ? r : -ENOMEM;
}

/*
 * Export `name` as a function, or NULL when absent.  Its parameters must be
 * `params` and its results `results` (type letters, as in
 * WD_HOST_IMPORT_MAP) or, when given, `results_alt`; otherwise NULL with
 * *ret_bad_type set.
 */
static wr_func *export_func(wr_instance *inst, const char *name, bool *ret_bad_type, const char *params,
                            const char *results, const char *results_alt) {
    wr_extern e;
    if (!wr_instance_export(inst, name, &e))
        return NULL;
    const wr_functype *t = e.kind == WR_EXTERN_FUNC ? wr_func_type(e.of.func) : NULL;
    if (!t || !(wd_functype_matches(t, params, results) ||
                (results_alt && wd_functype_matches(t, params, results_alt)))) {
        *ret_bad_type = true;
        return NULL;
    }
    return e.of.func;
}

static void plan(wd_instance *in, wd_call kind, wr_func *f) {
    if (f && in->nboot < WD_MAX_BOOT_CALLS) {
        in->boot[in->nboot] = f;
        in->boot_kind[in->nboot++] = kind;
    }
}

/*
 * Decides from the exports whether the module is a command or a reactor,
 * checks the signatures of what it exports, and lists its start-up calls.
 */
static bool plan_calls(wd_instance *in, wr_instance *inst, char *why) {
    const char *path = in->manifest->module;
    bool bad = false;
    in->nboot = in->boot_next = 0;
    plan(in, WD_CALL_START_SECTION, wr_instance_start_func(inst));
    wr_func *main_fn = export_func(inst, "_start", &bad, "", "", NULL);
    if (bad) {
        snprintf(why, WD_REASON_MAX, "%s: _start must be a function () -> ()", path);
        return false;
    }
    if (main_fn) {
        in->reactor = false;
        plan(in, WD_CALL_MAIN, main_fn);
        return true;
    }
    static const struct {
        const char *name, *type;
        const char *params, *results, *results_alt;
    } handlers[] = {
        { "_initialize",              "() -> ()",                 "",    "", NULL },
        { WASMD_EXPORT_INIT,          "() -> () or () -> i32",    "",    "", "i" },
        { WASMD_EXPORT_ON_TIMER,      "(i32) -> ()",              "i",   "", NULL },
        { WASMD_EXPORT_SHUTDOWN,      "() -> ()",                 "",    "", NULL },
        { WASMD_EXPORT_ON_GPIO_EDGE,  "(i32, i32, i64) -> ()",    "iiI", "", NULL },
        { WASMD_EXPORT_ON_MIC_PERIOD, "(i32, i32) -> ()",         "ii",  "", NULL },
    };
    enum { NHANDLERS = sizeof handlers / sizeof handlers[0] };
    wr_func *fns[NHANDLERS];
    for (size_t i = 0; i < NHANDLERS; i++) {
        fns[i] = export_func(inst, handlers[i].name, &bad, handlers[i].params, handlers[i].results,
                             handlers[i].results_alt);
        if (bad) {
            snprintf(why, WD_REASON_MAX, "%s: %s must be a function %s", path, handlers[i].name, handlers[i].type);
            return false;
        }
    }
    if (!fns[1]) {
        snprintf(why, WD_REASON_MAX, "%s: exports neither _start (a command) nor %s (a reactor)", path,
                 WASMD_EXPORT_INIT);
        return false;
    }
    in->reactor = true;
    plan(in, WD_CALL_INITIALIZE, fns[0]);
    plan(in, WD_CALL_INIT, fns[1]);
    in->on_timer = fns[2];
    in->on_shutdown = fns[3];
    in->on_gpio_edge = fns[4];
    in->on_mic_period = fns[5];
    return true;
}

/* Keeps the first problem a check reports, as the reason (`ud` is a buffer of WD_REASON_MAX). */
static void first_problem(void *ud, const char *msg) {
    char *why = ud;
    if (!why[0])
        snprintf(why, WD_REASON_MAX, "%s", msg);
}

/*
 * Creates the run's objects around in->module (loaded by load_work); on
 * failure fills `why` and leaves none behind.
 */
static bool run_create(wd_instance *in, char *why) {
    const cfg_manifest *m = in->manifest;
    wr_error err = { 0 };
    const char **argv = NULL, **env = NULL;
    char **env_buf = NULL;
    wasi_preopen *dirs = NULL;
    wr_extern *imports = NULL;
    bool ok = false;

    argv = calloc(m->nargs + 1, sizeof *argv);
    env = calloc(m->nenv + 1, sizeof *env);
    env_buf = calloc(m->nenv + 1, sizeof *env_buf);
    dirs = calloc(m->ndirs + 1, sizeof *dirs);
    if (!argv || !env || !env_buf || !dirs)
        goto out_nomem;
    argv[0] = in->name;
    for (size_t i = 0; i < m->nargs; i++)
        argv[i + 1] = m->args[i];
    for (size_t i = 0; i < m->nenv; i++) {
        if (asprintf(&env_buf[i], "%s=%s", m->env[i].name, m->env[i].value) < 0) {
            env_buf[i] = NULL;
            goto out_nomem;
        }
        env[i] = env_buf[i];
    }
    for (size_t i = 0; i < m->ndirs; i++) {
        dirs[i].host_path = m->dirs[i].host;
        dirs[i].guest_path = m->dirs[i].guest ? m->dirs[i].guest : m->dirs[i].host;
    }
    wasi_config wc = {
        .argv = argv,
        .argc = m->nargs + 1,
        .env = env,
        .nenv = m->nenv,
        .stdin_fd = -1,
        .stdout_fd = -1,
        .stderr_fd = -1,
        .stdio_sink = output_sink,
        .stdio_sink_ud = in,
        .preopens = dirs,
        .npreopens = m->ndirs,
        .nonblocking = true,
        .stdio_line_fuel = WD_FUEL_LOG_LINE,
    };
    if (wasi_ctx_new(&wc, &in->wasi, &err) != WR_OK) {
        snprintf(why, WD_REASON_MAX, "%s", err.detail[0] ? err.detail : wr_status_message(err.status));
        goto out;
    }

    in->store = wr_store_new(&in->limits);
    in->exec = in->store ? wr_exec_new(in->store) : NULL;
    uint32_t nimports = wr_module_import_count(in->module);
    imports = calloc(nimports + 1, sizeof *imports);
    if (!in->store || !in->exec || !imports)
        goto out_nomem;
    /* From here, a failure other than the hardware's claims is the module's or the manifest's: not transient. */
    in->load_failed = true;
    if (wasi_ctx_link_partial(in->wasi, in->store, in->module, imports, &err) != WR_OK) {
        snprintf(why, WD_REASON_MAX, "%s: %s: %s", m->module, wr_status_message(err.status), err.detail);
        goto out;
    }
    if (!wd_host_link(in, in->module, imports, why))
        goto out;
    why[0] = '\0';
    if (wd_validate_capabilities(in->module, m, first_problem, why) > 0)
        goto out;
    in->load_failed = false; /* a line held by another module may be free at the next try */
    if (!wd_hw_acquire(in, in->module, why))
        goto out;
    in->load_failed = true;
    /* The start function runs later, in slices, as the run's first call. */
    wr_instance *inst;
    wr_status s = wr_instantiate_deferred(in->store, in->module, imports, nimports, &inst, &err);
    if (s != WR_OK) {
        snprintf(why, WD_REASON_MAX, "%s: %s%s%s", m->module, wr_status_message(err.status),
                 err.detail[0] ? ": " : "", err.detail);
        goto out;
    }
    if (!plan_calls(in, inst, why))
        goto out;
    wr_exec_set_userdata(in->exec, in);
    in->load_failed = false;
    ok = true;
    goto out;

out_nomem:
    snprintf(why, WD_REASON_MAX, "out of memory");
out:
    if (env_buf)
        for (size_t i = 0; i < m->nenv; i++)
            free(env_buf[i]);
    free(env_buf);
    free(env);
    free(argv);
    free(dirs);
    free(imports);
    if (!ok)
        run_destroy(in);
    return ok;
}

/* ---- Loading a module, off the loop -------------------------------------- */

/*
 * Reading, decoding, validating and translating a module take time in
 * proportion to its size (seconds for a large one on a small board), so
 * they run in libuv's thread pool: the loop goes on serving the other
 * instances and the clients meanwhile.  The result, an immutable
 * wr_module, is handed back to the loop (load_done), which links and
 * instantiates it.  A run stopped or removed meanwhile cancels the load:
 * load_done then frees the module.  The load counts as one of the
 * instance's open handles, so the instance outlives it.
 */
static void load_work(uv_work_t *req) {
    wd_load *l = wd_container_of(req, wd_load, req);
    uint8_t *bytes = NULL;
    size_t len = 0;
    int r = read_file(l->path, &bytes, &len);
    if (r < 0)
        snprintf(l->why, sizeof l->why, "cannot read %s: %s", l->path, strerror(-r));
    else if (wd_module_get(bytes, len, &l->module, &l->err) != WR_OK)
        snprintf(l->why, sizeof l->why, "%s: %s%s%s", l->path, wr_status_message(l->err.status),
                 l->err.detail[0] ? ": " : "", l->err.detail);
    free(bytes);
}

/* The loaded module becomes the run (or its failure). */
static void load_finish(wd_load *l) {
    wd_instance *in = l->inst;
    char why[WD_REASON_MAX];
    in->loading = NULL;
    in->module = l->module;
    if (!in->module) {
        in->load_failed = l->why[0] != '\0'; /* a read or decode error; not out of memory */
        finish_run(in, WD_STATE_FAILED, l->why[0] ? l->why : "cannot load the module");
    } else if (!run_create(in, why)) {
        finish_run(in, WD_STATE_FAILED, why);
    } else {
        wd_instance_event(in, "started (%s)", in->reactor ? "reactor" : "command");
        dispatch(in);
    }
}

/*
 * Loads end in any order, but runs are created in the order they were
 * started (d->loads is that queue), so that which of two modules granted
 * the same line gets it does not depend on which module loads faster.
 */
static void load_done(uv_work_t *req, int status) {
    wd_load *l = wd_container_of(req, wd_load, req);
    wd_daemon *d = l->inst->daemon;
    l->done = true;
    while (d->loads && d->loads->done) {
        wd_load *head = d->loads;
        d->loads = head->next;
        if (!d->loads)
            d->loads_tail = NULL;
        wd_instance *in = head->inst;
        if (head->cancelled)
            wd_module_put(head->module);
        else
            load_finish(head);
        free(head->path);
        free(head);
        handle_released(in);
    }
}

/* ---- Waiting for a parked WASI call ------------------------------------ */

static void poll_close_cb(uv_handle_t *h) {
    wd_poll *p = wd_container_of(h, wd_poll, handle);
    wd_instance *in = p->inst;
    free(p);
    handle_released(in);
}

static void wait_stop(wd_instance *in) {
    uv_timer_stop(&in->wait_timer);
    while (in->polls) {
        wd_poll *p = in->polls;
        in->polls = p->next;
        uv_close((uv_handle_t *)&p->handle, poll_close_cb);
    }
}

static void wait_arm(wd_instance *in);

/* Something the parked call waits for happened (or may have): try to finish it. */
static void wake(wd_instance *in) {
    wait_stop(in);
    uint64_t res[1] = { 0 };
    wr_status s = wasi_ctx_complete(in->wasi, res);
    if (s == WR_SUSPENDED) {
        wait_arm(in); /* not ready after all: wait again */
        return;
    }
    if (s != WR_OK) {
        finish_run(in, WD_STATE_FAILED, "internal error: no parked call to complete");
        return;
    }
    in->host_results[0] = res[0];
    in->have_host_results = true;
    set_state(in, WD_STATE_RUNNING);
    wd_sched_wake(in->daemon, in);
}

static void on_wait_timer(uv_timer_t *t) {
    wake(wd_container_of(t, wd_instance, wait_timer));
}

static void on_poll(uv_poll_t *h, int status, int events) {
    wd_poll *p = wd_container_of(h, wd_poll, handle);
    wake(p->inst);
}

/* Adds a poll handle for fd; false if libuv cannot poll it (then it counts as ready). */
static bool poll_add(wd_instance *in, int fd, int events) {
    wd_poll *p = calloc(1, sizeof *p);
    if (!p)
        return false;
    /*
     * uv_poll_init makes the descriptor nonblocking; WASI decides by that
     * flag whether a read parks or answers EAGAIN, so put the flags back.
     */
    int fl = fcntl(fd, F_GETFL);
    if (uv_poll_init(in->daemon->loop, &p->handle, fd) < 0) {
        free(p);
        return false;
    }
    if (fl >= 0)
        (void)fcntl(fd, F_SETFL, fl);
    p->inst = in;
    p->next = in->polls;
    in->polls = p;
    in->open_handles++;
    return uv_poll_start(&p->handle, events, on_poll) == 0;
}

/* Arms the timer and polls for what the parked call waits for. */
static void wait_arm(wd_instance *in) {
    wasi_wait w;
    if (!wasi_ctx_pending(in->wasi, &w)) {
        finish_run(in, WD_STATE_FAILED, "internal error: suspended without a parked call");
        return;
    }
    set_state(in, WD_STATE_WAITING);
    bool ready_now = false;
    size_t nfds = w.nfds < WD_MAX_WAIT_FDS ? w.nfds : WD_MAX_WAIT_FDS;
    for (size_t i = 0; i < nfds; i++) {
        int ev = 0;
        if (w.fds[i].events & WASI_WAIT_READABLE)
            ev |= UV_READABLE;
        if (w.fds[i].events & WASI_WAIT_WRITABLE)
            ev |= UV_WRITABLE;
        /* A descriptor named twice gets one handle, for the union of the events. */
        bool seen = false;
        for (size_t k = 0; k < i; k++)
            seen = seen || w.fds[k].fd == w.fds[i].fd;
        if (seen)
            continue;
        for (size_t k = i + 1; k < nfds; k++) {
            if (w.fds[k].fd != w.fds[i].fd)
                continue;
            if (w.fds[k].events & WASI_WAIT_READABLE)
                ev |= UV_READABLE;
            if (w.fds[k].events & WASI_WAIT_WRITABLE)
                ev |= UV_WRITABLE;
        }
        if (!poll_add(in, w.fds[i].fd, ev))
            ready_now = true; /* e.g. a regular file, which is always ready */
    }
    uint64_t timeout_ms = UINT64_MAX;
    if (ready_now) {
        timeout_ms = 0;
    } else if (w.deadline != WASI_NO_DEADLINE) {
        /* The loop's clock lags while slices run; read it afresh. */
        uv_update_time(in->daemon->loop);
        uint64_t now = wd_now_ns();
        timeout_ms = w.deadline <= now ? 0 : (w.deadline - now + NS_PER_MS - 1) / NS_PER_MS;
    }
    if (timeout_ms != UINT64_MAX)
        uv_timer_start(&in->wait_timer, on_wait_timer, timeout_ms, 0);
}

/* ---- Running ----------------------------------------------------------- */

static const char *call_name(wd_call c) {
    switch (c) {
    case WD_CALL_START_SECTION: return "the start function";
    case WD_CALL_MAIN:          return "_start";
    case WD_CALL_INITIALIZE:    return "_initialize";
    case WD_CALL_INIT:          return WASMD_EXPORT_INIT;
    case WD_CALL_TIMER:         return WASMD_EXPORT_ON_TIMER;
    case WD_CALL_GPIO_EDGE:     return WASMD_EXPORT_ON_GPIO_EDGE;
    case WD_CALL_MIC_PERIOD:    return WASMD_EXPORT_ON_MIC_PERIOD;
    case WD_CALL_SHUTDOWN:      return WASMD_EXPORT_SHUTDOWN;
    case WD_CALL_NONE:          break;
    }
    return "nothing";
}

/* The reason text for a trap, with the innermost named frame and the call it ended. */
static void trap_reason(wd_instance *in, wr_status s, char *buf) {
    wr_frame_info frames[8];
    size_t n = wr_exec_backtrace(in->exec, frames, 8);
    const char *where = NULL;
    for (size_t i = 0; i < n && i < 8 && !where; i++)
        where = frames[i].name;
    const char *call = in->call == WD_CALL_MAIN ? NULL : call_name(in->call);
    snprintf(buf, WD_REASON_MAX, "trap: %s%s%s%s%s%s", wr_status_message(s), where ? " (in " : "", where ? where : "",
             where ? ")" : "", call ? " during " : "", call ? call : "");
}

/*
 * The trap's call stack as an event line, "backtrace: #0 name (func 12) #1
 * func 3 ...", kept for finish_run to log after the line saying the run
 * failed (the run's objects are gone by then).
 */
static void keep_backtrace(wd_instance *in) {
    wr_frame_info frames[16];
    size_t n = wr_exec_backtrace(in->exec, frames, 16);
    char text[WD_LOG_LINE_MAX];
    size_t used = (size_t)snprintf(text, sizeof text, "backtrace:");
    for (size_t i = 0; i < n && i < 16 && used < sizeof text; i++) {
        if (frames[i].name)
            used += (size_t)snprintf(text + used, sizeof text - used, " #%zu %s (func %u)", i, frames[i].name,
                                     frames[i].func_index);
        else
            used += (size_t)snprintf(text + used, sizeof text - used, " #%zu func %u", i, frames[i].func_index);
    }
    if (n > 16 && used < sizeof text)
        snprintf(text + used, sizeof text - used, " ... (%zu frames)", n);
    free(in->backtrace);
    in->backtrace = n > 0 ? strdup(text) : NULL;
}

/* Makes `f` the call under way, with `nargs` arguments, and queues the instance for its first slice. */
static void call_begin(wd_instance *in, wd_call kind, wr_func *f, const wr_val *args, uint32_t nargs) {
    in->call = kind;
    in->entry = f;
    in->in_call = false;
    in->have_host_results = false;
    in->call_nargs = nargs;
    for (uint32_t i = 0; i < nargs; i++)
        in->call_args[i] = args[i];
    set_state(in, WD_STATE_RUNNING);
    wd_sched_wake(in->daemon, in);
}

/* Pops the oldest queued event; false when none. */
static bool event_pop(wd_instance *in, wd_event *ret) {
    if (in->ev_count == 0)
        return false;
    *ret = in->events[in->ev_head];
    in->ev_head = (in->ev_head + 1) % WD_EVENT_QUEUE_MAX;
    in->ev_count--;
    return true;
}

/* Begins the handler call for an event; false when the event no longer wants one. */
static bool event_deliver(wd_instance *in, const wd_event *ev) {
    wr_val args[WD_MAX_CALL_ARGS];
    args[0] = wr_val_i32((int32_t)ev->id);
    switch (ev->kind) {
    case WD_EVENT_TIMER:
        call_begin(in, WD_CALL_TIMER, in->on_timer, args, 1);
        return true;
    case WD_EVENT_GPIO_EDGE:
        args[1] = wr_val_i32((int32_t)ev->edge);
        args[2] = wr_val_i64((int64_t)ev->timestamp_ns);
        call_begin(in, WD_CALL_GPIO_EDGE, in->on_gpio_edge, args, 3);
        return true;
    case WD_EVENT_MIC_PERIOD: {
        uint32_t frames = wd_hw_mic_available(in);
        if (frames == 0)
            return false; /* read already, by a handler that ran since */
        args[1] = wr_val_i32((int32_t)frames);
        call_begin(in, WD_CALL_MIC_PERIOD, in->on_mic_period, args, 2);
        return true;
    }
    }
    return false;
}

/* The previous call is over: begins the next one the run owes, or waits for an event. */
static void dispatch(wd_instance *in) {
    in->entry = NULL;
    in->call = WD_CALL_NONE;
    if (in->stopping) {
        if (in->on_shutdown && !in->shutdown_called) {
            in->shutdown_called = true;
            call_begin(in, WD_CALL_SHUTDOWN, in->on_shutdown, NULL, 0);
        } else {
            finish_run(in, WD_STATE_STOPPED, in->stop_reason);
        }
        return;
    }
    if (in->boot_next < in->nboot) {
        uint32_t i = in->boot_next++;
        call_begin(in, in->boot_kind[i], in->boot[i], NULL, 0);
        return;
    }
    if (!in->reactor) {
        finish_run(in, WD_STATE_FAILED, "internal error: a command without _start");
        return;
    }
    wd_event ev;
    while (in->initialized && event_pop(in, &ev))
        if (event_deliver(in, &ev))
            return;
    set_state(in, WD_STATE_WAITING);
}

void wd_instance_post(wd_instance *in, const wd_event *ev) {
    if (!in->exec || in->stopping)
        return;
    /* One pending timer expiry or microphone notice per id: a later one while it waits is skipped. */
    if (ev->kind != WD_EVENT_GPIO_EDGE) {
        for (uint32_t i = 0; i < in->ev_count; i++) {
            const wd_event *q = &in->events[(in->ev_head + i) % WD_EVENT_QUEUE_MAX];
            if (q->kind == ev->kind && q->id == ev->id)
                return;
        }
    }
    if (in->ev_count == WD_EVENT_QUEUE_MAX) {
        if (in->ev_dropped++ == 0)
            wd_instance_event(in, "event queue full (%u events): dropping events", WD_EVENT_QUEUE_MAX);
        return;
    }
    in->events[(in->ev_head + in->ev_count) % WD_EVENT_QUEUE_MAX] = *ev;
    in->ev_count++;
    if (in->initialized && !in->entry)
        dispatch(in);
}

bool wd_instance_drop_event(wd_instance *in, wd_event_kind kind, uint32_t id) {
    uint32_t kept = 0;
    bool dropped = false;
    for (uint32_t i = 0; i < in->ev_count; i++) {
        wd_event e = in->events[(in->ev_head + i) % WD_EVENT_QUEUE_MAX];
        if (e.kind == kind && e.id == id)
            dropped = true;
        else
            in->events[(in->ev_head + kept++) % WD_EVENT_QUEUE_MAX] = e;
    }
    in->ev_count = kept;
    return dropped;
}

void wd_instance_host_complete(wd_instance *in, uint32_t result) {
    if (!in->host_parked)
        return;
    in->host_parked = false;
    in->host_results[0] = result;
    in->have_host_results = true;
    set_state(in, WD_STATE_RUNNING);
    wd_sched_wake(in->daemon, in);
}

/* The call under way returned normally. */
static void call_done(wd_instance *in, const wr_val *results, uint32_t nresults) {
    char reason[WD_REASON_MAX];
    switch (in->call) {
    case WD_CALL_MAIN:
        in->exit_code = 0;
        finish_run(in, WD_STATE_STOPPED, "exited: _start returned");
        return;
    case WD_CALL_INIT:
        if (nresults == 1 && results[0].of.i32 != 0) {
            snprintf(reason, sizeof reason, "%s returned %d", WASMD_EXPORT_INIT, results[0].of.i32);
            finish_run(in, WD_STATE_FAILED, reason);
            return;
        }
        in->initialized = true;
        break;
    case WD_CALL_SHUTDOWN:
        finish_run(in, WD_STATE_STOPPED, in->stop_reason);
        return;
    default:
        break;
    }
    dispatch(in);
}

uint64_t wd_instance_memory_bytes(const wd_instance *in) {
    return in->store ? wr_store_bytes(in->store) : 0;
}

uint64_t wd_instance_memory_limit(const wd_instance *in) {
    return (uint64_t)in->limits.max_memory_pages * WR_PAGE_SIZE;
}

/* CPU time of the daemon's thread: a slice's own cost, without the time other processes took the CPU. */
static uint64_t thread_cpu_ns(void) {
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* A memory.grow or table.grow of the slice failed for want of budget: the module's log says so. */
static void note_budget_refusals(wd_instance *in) {
    uint64_t n = wr_store_budget_refusals(in->store);
    if (n == in->budget_refusals)
        return;
    const wr_budget *b = &in->daemon->budget;
    wd_instance_event(in, "memory.grow or table.grow refused %" PRIu64 " time%s: the daemon's memory budget is used up "
                      "(%" PRIu64 " of %" PRIu64 " MiB; this module holds %" PRIu64 " KiB)",
                      n - in->budget_refusals, n - in->budget_refusals == 1 ? "" : "s", b->used >> 20,
                      b->limit >> 20, wr_store_bytes(in->store) >> 10);
    in->budget_refusals = n;
}

void wd_budget_init(wd_daemon *d) {
    uint64_t mib = d->cfg->memory_budget_mib;
    const char *how = "memory_budget_mib";
    if (mib == 0) {
        long pages = sysconf(_SC_PHYS_PAGES), page_size = sysconf(_SC_PAGESIZE);
        mib = pages > 0 && page_size > 0 ? (uint64_t)pages * (uint64_t)page_size / 2 >> 20 : 0;
        if (mib < WD_BUDGET_MIN_MIB)
            mib = WD_BUDGET_MIN_MIB;
        how = "half of the RAM";
    }
    d->budget.limit = mib << 20;
    d->budget.used = 0;
    fprintf(stderr, "wasmd: memory budget %" PRIu64 " MiB (%s)\n", mib, how);
}

void wd_instance_run_slice(wd_instance *in) {
    if (!in->exec || !in->entry || (in->state != WD_STATE_RUNNING && in->state != WD_STATE_STOPPING))
        return;
    wr_val results[1];
    uint32_t nresults = wr_func_type(in->entry)->nresults;
    wr_exec_set_fuel(in->exec, (int64_t)in->fuel_per_slice);
    uint64_t started = wd_now_ns(), cpu_started = thread_cpu_ns();
    wr_exec_set_deadline(in->exec, started + WD_SLICE_MAX_NS);
    wr_status s;
    if (!in->in_call) {
        in->in_call = true;
        s = wr_call(in->exec, in->entry, in->call_nargs ? in->call_args : NULL, in->call_nargs, results, nresults);
    } else if (in->have_host_results) {
        in->have_host_results = false;
        s = wr_resume(in->exec, in->host_results, results, nresults);
    } else {
        s = wr_resume(in->exec, NULL, results, nresults);
    }
    in->slices++;
    in->slices_total++;
    int64_t fuel_used = (int64_t)in->fuel_per_slice - wr_exec_fuel(in->exec);
    if (fuel_used > 0)
        in->fuel_total += (uint64_t)fuel_used;
    uint64_t took = wd_now_ns() - started;
    if (took > in->slice_max_ns)
        in->slice_max_ns = took;
    took = thread_cpu_ns() - cpu_started;
    in->cpu_ns_total += took;
    if (took > in->slice_max_cpu_ns)
        in->slice_max_cpu_ns = took;
    note_budget_refusals(in);

    char reason[WD_REASON_MAX];
    uint32_t code;
    switch (s) {
    case WR_OUT_OF_FUEL:
        wd_sched_enqueue(in->daemon, in);
        return;
    case WR_SUSPENDED:
        if (in->host_parked)
            set_state(in, WD_STATE_WAITING); /* hw.c completes it (wd_instance_host_complete) */
        else
            wait_arm(in);
        return;
    case WR_OK:
        in->in_call = false;
        call_done(in, results, nresults);
        return;
    default:
        in->in_call = false;
        if (s == WR_TRAP_EXIT && wasi_ctx_exit_code(in->wasi, &code)) {
            in->exit_code = (int)code;
            snprintf(reason, sizeof reason, "exited with code %u", code);
            if (in->stopping) {
                wd_instance_event(in, "%s %s", call_name(in->call), reason);
                finish_run(in, WD_STATE_STOPPED, in->stop_reason);
            } else {
                finish_run(in, code == 0 ? WD_STATE_STOPPED : WD_STATE_FAILED, reason);
            }
            return;
        }
        if (wr_status_is_trap(s)) {
            trap_reason(in, s, reason);
            keep_backtrace(in);
        } else
            snprintf(reason, sizeof reason, "engine error: %s", wr_status_message(s));
        if (in->stopping) {
            /* The user asked for a stop: a trap on the way out is worth a line, not a failure. */
            wd_instance_event(in, "%s", reason);
            finish_run(in, WD_STATE_STOPPED, in->stop_reason);
        } else {
            finish_run(in, WD_STATE_FAILED, reason);
        }
        return;
    }
}

/* ---- Starting, stopping, restarting ------------------------------------ */

static void run_start(wd_instance *in) {
    char why[WD_REASON_MAX];
    in->restart_pending = false;
    in->reason[0] = '\0';
    in->exit_code = -1;
    in->slices = 0;
    in->run_seq++;
    in->load_failed = false;
    in->run_started_ns = wd_now_ns();
    in->budget_refusals = 0;
    in->slice_max_ns = in->slice_max_cpu_ns = 0;
    set_state(in, WD_STATE_STARTING);
    wd_load *l = calloc(1, sizeof *l);
    if (!l || !(l->path = strdup(in->manifest->module))) {
        free(l);
        snprintf(why, sizeof why, "out of memory");
        finish_run(in, WD_STATE_FAILED, why);
        return;
    }
    l->inst = in;
    int r = uv_queue_work(in->daemon->loop, &l->req, load_work, load_done);
    if (r < 0) {
        free(l->path);
        free(l);
        snprintf(why, sizeof why, "cannot queue the module's load: %s", uv_strerror(r));
        finish_run(in, WD_STATE_FAILED, why);
        return;
    }
    in->loading = l;
    in->open_handles++;
    wd_daemon *d = in->daemon;
    if (d->loads_tail)
        d->loads_tail->next = l;
    else
        d->loads = l;
    d->loads_tail = l;
}

static void on_restart_timer(uv_timer_t *t) {
    wd_instance *in = wd_container_of(t, wd_instance, restart_timer);
    in->restarts++;
    wd_instance_event(in, "restarting after the backoff (restart %u)", in->restarts);
    run_start(in);
}

/* Records a failure; true when the instance now counts as crash-looping. */
static bool note_failure(wd_instance *in, uint64_t now) {
    uint32_t limit = in->manifest->crash_loop_limit;
    if (limit == 0 || !in->fail_times)
        return false;
    in->fail_times[(in->fail_head + in->nfail) % limit] = now;
    if (in->nfail < limit)
        in->nfail++;
    else
        in->fail_head = (in->fail_head + 1) % limit;
    uint64_t window = (uint64_t)in->manifest->crash_loop_window_s * 1000 * NS_PER_MS;
    uint64_t oldest = in->fail_times[in->fail_head];
    return in->nfail == limit && now - oldest <= window;
}

/* What a stop asked to happen once the run is over. */
static void after_stop(wd_instance *in, wd_after_stop what) {
    switch (what) {
    case WD_AFTER_RESTART:
        reset_history(in);
        run_start(in);
        break;
    case WD_AFTER_CLOSE:
        close_now(in);
        break;
    case WD_AFTER_NOTHING:
        break;
    }
}

/* The run ended (or never began): record why, free it, and apply the restart policy. */
static void finish_run(wd_instance *in, wd_state state, const char *reason) {
    uint64_t now = wd_now_ns();
    uint64_t ran_ms = (now - in->run_started_ns) / NS_PER_MS;
    wd_after_stop after = WD_AFTER_NOTHING;
    char text[WD_REASON_MAX];
    snprintf(text, sizeof text, "%s", reason); /* `reason` may be in->stop_reason, cleared below */
    if (in->stopping) {
        after = in->after_stop;
        in->stopping = false;
        in->after_stop = WD_AFTER_NOTHING;
        in->stop_reason[0] = '\0';
        uv_timer_stop(&in->stop_timer);
        wd_sched_drain_end(in->daemon);
    }
    run_destroy(in);
    output_drain(in);
    snprintf(in->reason, sizeof in->reason, "%s", text);
    set_state(in, state);
    wd_instance_event(in, "%s: %s", wd_state_name(state), text);
    if (in->backtrace) {
        wd_instance_event(in, "%s", in->backtrace);
        free(in->backtrace);
        in->backtrace = NULL;
    }
    if (after != WD_AFTER_NOTHING) {
        after_stop(in, after);
        return;
    }
    if (in->stop_requested || in->daemon->shutting_down)
        return;
    if (in->load_failed) {
        /* A missing, malformed or ungranted module stays so: retrying would only crash-loop. */
        wd_instance_event(in, "not restarting: the module cannot be loaded (fix it, then reload or start it)");
        return;
    }

    cfg_restart policy = in->manifest->restart;
    bool failed = state == WD_STATE_FAILED;
    if (!(policy == CFG_RESTART_ALWAYS || (policy == CFG_RESTART_ON_FAILURE && failed)))
        return;
    if (failed && note_failure(in, now)) {
        set_state(in, WD_STATE_CRASH_LOOPING);
        snprintf(in->reason, sizeof in->reason, "%u failures within %u s; last: %.180s",
                 in->manifest->crash_loop_limit, in->manifest->crash_loop_window_s, text);
        wd_instance_event(in, "crash-looping: not restarting until started by hand");
        return;
    }
    if (ran_ms >= WD_BACKOFF_RESET_MS || in->backoff_ms == 0)
        in->backoff_ms = in->manifest->restart_backoff_ms;
    uint32_t delay = in->backoff_ms;
    in->backoff_ms = in->backoff_ms > WD_BACKOFF_MAX_MS / 2 ? WD_BACKOFF_MAX_MS : in->backoff_ms * 2;
    if (in->backoff_ms == 0)
        in->backoff_ms = 1;
    in->restart_pending = true;
    in->restart_at_ns = now + (uint64_t)delay * NS_PER_MS;
    uv_timer_start(&in->restart_timer, on_restart_timer, delay, 0);
    wd_instance_event(in, "restarting in %u ms", delay);
}

static void on_stop_timer(uv_timer_t *t) {
    wd_instance *in = wd_container_of(t, wd_instance, stop_timer);
    if (!in->stopping)
        return;
    wd_instance_event(in, "%s did not return within %u ms: terminated", WASMD_EXPORT_SHUTDOWN, in->manifest->stop_timeout_ms);
    finish_run(in, WD_STATE_STOPPED, in->stop_reason);
}

/*
 * Ends the active run: at once, or for a reactor with a shutdown handler
 * gracefully (see the top of the file); then does `after`.
 */
static void stop_run(wd_instance *in, const char *reason, wd_after_stop after) {
    if (in->stopping) {
        if (after > in->after_stop)
            in->after_stop = after;
        return;
    }
    uint32_t timeout = in->manifest->stop_timeout_ms;
    if (!is_active(in) || !in->exec || !in->reactor || !in->on_shutdown || !in->initialized || timeout == 0) {
        finish_run(in, WD_STATE_STOPPED, reason);
        after_stop(in, after);
        return;
    }
    in->stopping = true;
    in->after_stop = after;
    snprintf(in->stop_reason, sizeof in->stop_reason, "%s", reason);
    snprintf(in->reason, sizeof in->reason, "%s: running %s", reason, WASMD_EXPORT_SHUTDOWN);
    wd_host_timers_close(in);
    in->ev_head = in->ev_count = 0;
    wd_sched_drain_begin(in->daemon);
    uv_timer_start(&in->stop_timer, on_stop_timer, timeout, 0);
    wd_instance_event(in, "stopping: calling %s (at most %u ms)", WASMD_EXPORT_SHUTDOWN, timeout);
    set_state(in, in->state);
    /* A handler under way finishes first (within the same time limit). */
    if (!in->entry)
        dispatch(in);
}

/* Forgets failures and backoff: a user's start begins afresh. */
static void reset_history(wd_instance *in) {
    uv_timer_stop(&in->restart_timer);
    in->restart_pending = false;
    in->nfail = in->fail_head = 0;
    in->backoff_ms = 0;
    in->restarts = 0;
    in->stop_requested = false;
}

wd_proto_status wd_instance_start(wd_instance *in, char *why) {
    if (is_active(in)) {
        snprintf(why, WD_REASON_MAX, "%s is already %s", in->name, wd_state_name(in->state));
        return WD_PROTO_CONFLICT;
    }
    reset_history(in);
    run_start(in);
    return WD_PROTO_OK;
}

void wd_instance_autostart(wd_instance *in) {
    reset_history(in);
    run_start(in);
}

wd_proto_status wd_instance_stop(wd_instance *in, char *why) {
    if (in->stopping) {
        snprintf(why, WD_REASON_MAX, "%s is already stopping", in->name);
        return WD_PROTO_CONFLICT;
    }
    if (!is_active(in) && !in->restart_pending) {
        snprintf(why, WD_REASON_MAX, "%s is not running (%s)", in->name, wd_state_name(in->state));
        return WD_PROTO_CONFLICT;
    }
    in->stop_requested = true;
    uv_timer_stop(&in->restart_timer);
    in->restart_pending = false;
    stop_run(in, "stopped by request", WD_AFTER_NOTHING);
    return WD_PROTO_OK;
}

wd_proto_status wd_instance_restart(wd_instance *in, char *why) {
    if (is_active(in) || in->restart_pending) {
        in->stop_requested = true;
        uv_timer_stop(&in->restart_timer);
        in->restart_pending = false;
        stop_run(in, "stopped for a restart", WD_AFTER_RESTART);
        return WD_PROTO_OK;
    }
    return wd_instance_start(in, why);
}

/* ---- Creation and release ---------------------------------------------- */

static void handle_close_cb(uv_handle_t *h) {
    wd_instance *in = h->data;
    handle_released(in);
}

wd_instance *wd_instance_new(wd_daemon *d, cfg_manifest *m) {
    wd_instance *in = calloc(1, sizeof *in);
    if (!in) {
        cfg_manifest_free(m);
        return NULL;
    }
    in->daemon = d;
    in->manifest = m;
    in->name = m->name;
    in->state = WD_STATE_STOPPED;
    in->exit_code = -1;
    snprintf(in->reason, sizeof in->reason, "not started");
    const cfg_daemon *dc = d->cfg;
    in->limits.max_memory_pages = m->memory_pages ? m->memory_pages : dc->memory_pages;
    in->limits.value_stack_slots = m->stack_slots ? m->stack_slots : dc->stack_slots;
    in->limits.max_call_depth = m->call_depth ? m->call_depth : dc->call_depth;
    in->limits.budget = &d->budget;
    in->fuel_per_slice = m->fuel_per_slice ? m->fuel_per_slice : dc->fuel_per_slice;
    if (in->fuel_per_slice == 0 || in->fuel_per_slice > INT64_MAX)
        in->fuel_per_slice = 100000;
    if (m->crash_loop_limit)
        in->fail_times = calloc(m->crash_loop_limit, sizeof *in->fail_times);
    if (wd_log_init(&in->log, dc->log_lines) < 0 || (m->crash_loop_limit && !in->fail_times)) {
        wd_log_free(&in->log);
        free(in->fail_times);
        cfg_manifest_free(m);
        free(in);
        return NULL;
    }
    uv_timer_init(d->loop, &in->wait_timer);
    uv_timer_init(d->loop, &in->restart_timer);
    uv_timer_init(d->loop, &in->stop_timer);
    in->wait_timer.data = in;
    in->restart_timer.data = in;
    in->stop_timer.data = in;
    in->open_handles = 3;
    return in;
}

/* Closes the instance's own handles; it is freed after the last close callback. */
static void close_now(wd_instance *in) {
    if (in->closing)
        return;
    wd_control_forget(in->daemon, in);
    in->closing = true;
    if (in->watch)
        in->watch(in, in->watch_ud); /* a deploy waiting for it: it is gone */
    uv_close((uv_handle_t *)&in->wait_timer, handle_close_cb);
    uv_close((uv_handle_t *)&in->restart_timer, handle_close_cb);
    uv_close((uv_handle_t *)&in->stop_timer, handle_close_cb);
}

void wd_instance_close(wd_instance *in) {
    if (!in || in->closing || (in->stopping && in->after_stop == WD_AFTER_CLOSE))
        return;
    uv_timer_stop(&in->restart_timer);
    in->restart_pending = false;
    in->stop_requested = true;
    if (is_active(in)) {
        stop_run(in, in->daemon->shutting_down ? "daemon shutting down" : "removed", WD_AFTER_CLOSE);
        return;
    }
    close_now(in);
}
