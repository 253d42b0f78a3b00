/*
 * control.c - the control socket: newline-delimited JSON requests and
 * responses (protocol in proto.h) over a Unix stream socket.
 *
 * Each client is a wd_client owning its uv_pipe_t; it is freed in the
 * pipe's close callback.  A request line is bounded by WD_PROTO_MAX_REQUEST;
 * a client that sends more gets a "too-large" answer and is disconnected.
 * Each response is written with its own write request, which owns its
 * bytes and frees them in the write callback (also when the write is
 * cancelled because the client went away), so a client that disconnects
 * mid-request leaves nothing behind.
 *
 * Peers are checked once, on accept, with SO_PEERCRED: root and members of
 * the configured group (cfg_daemon.socket_group) are served; anyone else
 * gets one "denied" response.  The socket itself is left connectable by all
 * (0666) so that the refusal can say why.
 *
 * Bounds, so that no client can exhaust the daemon (limits in internal.h):
 *   - at most WD_MAX_CLIENTS connections are served at once, the last
 *     WD_ROOT_RESERVED_CLIENTS of them for root only, so root always gets in;
 *   - a refused peer (not allowed, or no slot left) never holds a slot: it
 *     goes to a separate list of at most WD_MAX_REFUSED connections, where
 *     the daemon keeps reading and discarding what it sends until it closes
 *     or WD_REFUSED_LINGER_MS pass, so that its request never meets a closed
 *     socket and it always reads the refusal; past WD_MAX_REFUSED the
 *     refusal is written and the connection closed at once;
 *   - a served connection with no traffic either way for
 *     client_idle_timeout_ms (daemon config) is closed, unless it follows a
 *     log (it only listens, and is bounded by the next rule);
 *   - a client that leaves more than WD_CLIENT_MAX_QUEUE bytes of replies
 *     unread is dropped instead of buffered.
 * Each refusal, drop and idle close is logged with the peer's uid and pid.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <systemd/sd-daemon.h>

#include "daemon/internal.h"
#include "daemon/signature.h"

#define MAX_PEER_GROUPS 256

struct wd_client {
    uv_pipe_t pipe;
    uv_timer_t timer;            /* idle timeout (served) or linger (refused) */
    unsigned open_handles;       /* pipe and timer: the client is freed when both have closed */
    wd_daemon *daemon;
    wd_client *prev, *next;      /* in d->clients, or d->refused when refused */
    bool refused;                /* only kept to deliver its refusal */
    bool lingering;              /* refused, and read (and dropped) from until it closes */
    bool closing;
    unsigned uid;                /* the peer, from SO_PEERCRED (uid -1, pid 0 when unknown) */
    int pid;
    wd_instance *follow;         /* streaming this instance's log lines, or NULL */
    bool follow_all;             /* streaming every instance's log lines */
    bool follow_entries;         /* streamed lines as entries (time, stream...), not text */
    struct wd_wait *wait;        /* a request waiting for instances to settle; nothing more is read meanwhile */
    /* A deploy request waiting for its module bytes: the parsed request, and the bytes so far. */
    cJSON *pending;
    uint8_t *body;
    size_t body_len, body_want;
    /* The deploy under way in the thread pool (the client reads nothing more meanwhile). */
    wd_deploy *deploy;
    /* The download of a deploy by URL (fetch.c), before the deploy itself. */
    wd_fetch *fetch;
    cJSON *deploy_errors;
    size_t len;                  /* bytes in buf */
    char buf[WD_PROTO_MAX_REQUEST];
};

typedef struct write_req {
    uv_write_t req;
    wd_client *client;
    size_t len;
    char data[];
} write_req;

/* ---- Lists, writing and closing ---------------------------------------- */

static void client_link(wd_client *c) {
    wd_daemon *d = c->daemon;
    wd_client **head = c->refused ? &d->refused : &d->clients;
    c->prev = NULL;
    c->next = *head;
    if (*head)
        (*head)->prev = c;
    *head = c;
    if (c->refused)
        d->nrefused++;
    else
        d->nclients++;
}

static void client_unlink(wd_client *c) {
    wd_daemon *d = c->daemon;
    if (c->prev)
        c->prev->next = c->next;
    else if (c->refused)
        d->refused = c->next;
    else
        d->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    if (c->refused)
        d->nrefused--;
    else
        d->nclients--;
}

static void client_handle_closed(uv_handle_t *h) {
    wd_client *c = h->data;
    if (--c->open_handles > 0)
        return;
    if (c->deploy)
        wd_deploy_detach(c->deploy);
    if (c->fetch)
        wd_fetch_cancel(c->fetch);
    cJSON_Delete(c->deploy_errors);
    cJSON_Delete(c->pending);
    free(c->body);
    free(c);
}

static void wait_free(wd_client *c);

static void client_close(wd_client *c) {
    if (c->closing)
        return;
    wait_free(c);
    c->closing = true;
    client_unlink(c);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, client_handle_closed);
    uv_close((uv_handle_t *)&c->pipe, client_handle_closed);
}

static void client_log(const wd_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void client_log(const wd_client *c, const char *fmt, ...) {
    char msg[WD_REASON_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fprintf(stderr, "wasmd: client uid %d pid %d: %s\n", (int)c->uid, c->pid, msg);
}

static void idle_cb(uv_timer_t *t) {
    wd_client *c = t->data;
    client_log(c, "closed after %u ms without traffic", c->daemon->cfg->client_idle_timeout_ms);
    client_close(c);
}

static void linger_cb(uv_timer_t *t) {
    client_close(t->data); /* a refused peer that neither closed nor read in time */
}

/* Traffic on a served connection: its idle timeout starts again (not while it follows a log or deploys). */
static void client_touch(wd_client *c) {
    if (c->closing || c->refused || c->wait)
        return; /* a waiting request's timer is its time limit */
    if (c->follow || c->follow_all || c->deploy || c->fetch)
        uv_timer_stop(&c->timer);
    else
        uv_timer_start(&c->timer, idle_cb, c->daemon->cfg->client_idle_timeout_ms, 0);
}

static void write_cb(uv_write_t *req, int status) {
    write_req *w = wd_container_of(req, write_req, req);
    if (status == 0)
        client_touch(w->client); /* still open: a closing client's writes are cancelled (status < 0) */
    free(w);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
    wd_client *c = req->data;
    free(req);
    if (!c->lingering || status < 0)
        client_close(c);
    /* A lingering refused peer is closed on its EOF or by the linger timer. */
}

/* Sends one JSON object as a line; takes ownership of `msg`.  Drops a client too far behind. */
static void send_json(wd_client *c, cJSON *msg) {
    if (c->closing) {
        cJSON_Delete(msg);
        return;
    }
    size_t queued = uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe);
    if (queued > WD_CLIENT_MAX_QUEUE) {
        cJSON_Delete(msg);
        client_log(c, "dropped: %zu bytes of replies unread (at most %u)", queued, WD_CLIENT_MAX_QUEUE);
        client_close(c);
        return;
    }
    char *text = msg ? cJSON_PrintUnformatted(msg) : NULL;
    cJSON_Delete(msg);
    if (!text) {
        client_close(c);
        return;
    }
    size_t len = strlen(text);
    write_req *w = malloc(sizeof *w + len + 1);
    if (!w) {
        free(text);
        client_close(c);
        return;
    }
    w->client = c;
    memcpy(w->data, text, len);
    w->data[len] = '\n';
    w->len = len + 1;
    free(text);
    uv_buf_t buf = uv_buf_init(w->data, (unsigned)w->len);
    if (uv_write(&w->req, (uv_stream_t *)&c->pipe, &buf, 1, write_cb) < 0) {
        free(w);
        client_close(c);
    }
}

/* Shuts the sending side down after the queued responses, then closes (a lingering peer: on its EOF). */
static void client_finish(wd_client *c) {
    if (c->closing)
        return;
    if (!c->lingering)
        uv_read_stop((uv_stream_t *)&c->pipe);
    uv_shutdown_t *req = malloc(sizeof *req);
    if (!req) {
        client_close(c);
        return;
    }
    req->data = c;
    if (uv_shutdown(req, (uv_stream_t *)&c->pipe, shutdown_cb) < 0) {
        free(req);
        client_close(c);
    }
}

static cJSON *reply_new(wd_proto_status status) {
    cJSON *r = cJSON_CreateObject();
    if (!r)
        return NULL;
    cJSON_AddNumberToObject(r, WD_F_VERSION, WD_PROTO_VERSION);
    cJSON_AddStringToObject(r, WD_F_STATUS, wd_proto_status_name(status));
    return r;
}

static void send_error(wd_client *c, wd_proto_status status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void send_error(wd_client *c, wd_proto_status status, const char *fmt, ...) {
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    cJSON *r = reply_new(status);
    if (r)
        cJSON_AddStringToObject(r, WD_F_ERROR, msg);
    send_json(c, r);
}

/* ---- Verbs ------------------------------------------------------------- */

static cJSON *instance_json(const wd_instance *in) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    uint64_t now = wd_now_ns();
    bool active = in->state == WD_STATE_STARTING || in->state == WD_STATE_RUNNING || in->state == WD_STATE_WAITING ||
                  in->state == WD_STATE_STOPPING;
    cJSON_AddStringToObject(o, WD_F_NAME, in->name);
    cJSON_AddStringToObject(o, WD_F_STATE, wd_state_name(in->state));
    cJSON_AddStringToObject(o, WD_F_REASON, active ? "" : in->reason);
    cJSON_AddStringToObject(o, WD_F_MODULE, in->manifest->module);
    cJSON_AddStringToObject(o, WD_F_RESTART, cfg_restart_name(in->manifest->restart));
    cJSON_AddNumberToObject(o, WD_F_RESTARTS, in->restarts);
    cJSON_AddNumberToObject(o, WD_F_EXIT_CODE, in->exit_code);
    cJSON_AddNumberToObject(o, WD_F_UPTIME_MS, active ? (double)((now - in->run_started_ns) / 1000000) : 0);
    cJSON_AddNumberToObject(o, WD_F_SLICES, (double)in->slices);
    cJSON_AddNumberToObject(o, WD_F_SLICE_MAX_US, (double)(in->slice_max_ns / 1000));
    cJSON_AddNumberToObject(o, WD_F_SLICE_MAX_CPU_US, (double)(in->slice_max_cpu_ns / 1000));
    cJSON_AddNumberToObject(o, WD_F_MEMORY, (double)wd_instance_memory_bytes(in));
    cJSON_AddNumberToObject(o, WD_F_MEMORY_LIMIT, (double)wd_instance_memory_limit(in));
    cJSON_AddNumberToObject(o, WD_F_MEMORY_BUDGET, (double)in->daemon->budget.limit);
    cJSON_AddNumberToObject(o, WD_F_MEMORY_BUDGET_USED, (double)in->daemon->budget.used);
    double restart_in = -1;
    if (in->restart_pending)
        restart_in = in->restart_at_ns > now ? (double)((in->restart_at_ns - now) / 1000000) : 0;
    cJSON_AddNumberToObject(o, WD_F_RESTART_IN_MS, restart_in);
    cJSON *hw = cJSON_AddArrayToObject(o, WD_F_HARDWARE);
    if (hw)
        wd_hw_describe(in, hw);
    if (in->deploy_note[0])
        cJSON_AddStringToObject(o, WD_F_DEPLOY_NOTE, in->deploy_note);
    cJSON_AddStringToObject(o, WD_F_MANIFEST_ERROR, in->manifest_error ? in->manifest_error : "");
    cJSON_AddNumberToObject(o, WD_F_CPU_US, (double)(in->cpu_ns_total / 1000));
    cJSON_AddNumberToObject(o, WD_F_FUEL_USED, (double)in->fuel_total);
    cJSON_AddNumberToObject(o, WD_F_SLICES_TOTAL, (double)in->slices_total);
    cJSON_AddNumberToObject(o, WD_F_EVENTS_QUEUED, in->ev_count);
    cJSON_AddNumberToObject(o, WD_F_EVENTS_DROPPED, (double)in->ev_dropped);
    return o;
}

static void verb_version(wd_client *c, const cJSON *req) {
    cJSON *r = reply_new(WD_PROTO_OK);
    if (r)
        cJSON_AddStringToObject(r, WD_F_DAEMON, WASMD_VERSION);
    send_json(c, r);
}

static void verb_list(wd_client *c, const cJSON *req) {
    cJSON *r = reply_new(WD_PROTO_OK);
    cJSON *arr = r ? cJSON_AddArrayToObject(r, WD_F_INSTANCES) : NULL;
    if (!arr) {
        cJSON_Delete(r);
        send_error(c, WD_PROTO_INTERNAL, "out of memory");
        return;
    }
    for (wd_instance *in = c->daemon->instances; in; in = in->next)
        cJSON_AddItemToArray(arr, instance_json(in));
    send_json(c, r);
}

/* The instance a request names; NULL after answering with the error. */
static wd_instance *named_instance(wd_client *c, const cJSON *req) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, WD_F_NAME);
    if (!cJSON_IsString(name)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" (a string) is required", WD_F_NAME);
        return NULL;
    }
    wd_instance *in = wd_daemon_find(c->daemon, name->valuestring);
    if (!in)
        send_error(c, WD_PROTO_NOT_FOUND, "no module named \"%.200s\"", name->valuestring);
    return in;
}

static void reply_instance(wd_client *c, const wd_instance *in) {
    cJSON *r = reply_new(WD_PROTO_OK);
    if (r)
        cJSON_AddItemToObject(r, WD_F_INSTANCE, instance_json(in));
    send_json(c, r);
}

static void verb_status(wd_client *c, const cJSON *req) {
    wd_instance *in = named_instance(c, req);
    if (in)
        reply_instance(c, in);
}

/* ---- Waiting for instances to settle (proto.h: "wait"; reload) ---------- */

typedef enum wait_kind {
    WAIT_STOP,                   /* until it is stopped (or failed) */
    WAIT_RESTART,                /* until a later run than seqs[0] is running, waiting, or over */
    WAIT_RELOAD,                 /* until the loads of the runs the reload began are done */
} wait_kind;

typedef struct wd_wait {
    wait_kind kind;
    size_t n;
    wd_instance **insts;         /* owned array; an entry is NULL once its instance went away */
    uint64_t *seqs;              /* owned: each one's run_seq when asked */
    cJSON *reply;                /* owned: reload's answer under construction, or NULL */
    char name[CFG_MAX_NAME + 1]; /* stop/restart: the module's name, for messages */
    uint32_t timeout_ms;
} wd_wait;

static void client_process(wd_client *c);
static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf);

static bool instance_active(const wd_instance *in) {
    return in->state == WD_STATE_STARTING || in->state == WD_STATE_RUNNING || in->state == WD_STATE_WAITING ||
           in->state == WD_STATE_STOPPING;
}

static bool settled(wait_kind kind, const wd_instance *in, uint64_t seq) {
    if (!in)
        return true;
    switch (kind) {
    case WAIT_STOP:
        return !instance_active(in) && !in->stopping;
    case WAIT_RESTART:
        return in->run_seq > seq && in->state != WD_STATE_STARTING && !in->stopping;
    case WAIT_RELOAD:
        return in->state != WD_STATE_STARTING;
    }
    return true;
}

static bool wait_settled(const wd_wait *w) {
    for (size_t i = 0; i < w->n; i++)
        if (!settled(w->kind, w->insts[i], w->seqs[i]))
            return false;
    return true;
}

static void wait_free(wd_client *c) {
    wd_wait *w = c->wait;
    if (!w)
        return;
    c->wait = NULL;
    wd_daemon *d = c->daemon;
    if (--d->nwaits == 0 && d->wait_check_open)
        uv_check_stop(&d->wait_check);
    uv_timer_stop(&c->timer);
    free(w->insts);
    free(w->seqs);
    cJSON_Delete(w->reply);
    free(w);
}

/* Removes `name` from the array `what` of a reload's answer; true when it was there. */
static bool take_name(cJSON *r, const char *what, const char *name) {
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(r, what), *item;
    int i = 0;
    cJSON_ArrayForEach(item, arr) {
        if (cJSON_IsString(item) && strcmp(item->valuestring, name) == 0) {
            cJSON_DeleteItemFromArray(arr, i);
            return true;
        }
        i++;
    }
    return false;
}

static void note_into(void *ud, const char *what, const char *item);

/* The reload's answer: runs that could not load their module move from added/restarted to failed. */
static void reload_answer(wd_client *c, cJSON *r, wd_instance **insts, size_t n) {
    for (size_t i = 0; i < n; i++) {
        wd_instance *in = insts[i];
        if (!in || !in->load_failed || in->state != WD_STATE_FAILED)
            continue;
        if (!take_name(r, WD_F_ADDED, in->name))
            take_name(r, WD_F_RESTARTED, in->name);
        note_into(r, WD_F_FAILED, in->name);
        char msg[WD_REASON_MAX + 512];
        snprintf(msg, sizeof msg, "%s: %s", in->manifest->path, in->reason);
        note_into(r, WD_F_ERRORS, msg);
    }
    send_json(c, r);
}

/* The answer to a request that waited (or needed not): takes `reply` (reload's). */
static void wait_answer(wd_client *c, const wd_wait *w, cJSON *reply, bool timed_out) {
    if (w->kind == WAIT_RELOAD) {
        reload_answer(c, reply, w->insts, w->n);
    } else if (!w->insts[0]) {
        send_error(c, WD_PROTO_NOT_FOUND, "%s was removed meanwhile", w->name);
    } else if (timed_out) {
        wd_instance *in = w->insts[0];
        cJSON *r = reply_new(WD_PROTO_TIMEOUT);
        if (r) {
            char msg[WD_REASON_MAX];
            snprintf(msg, sizeof msg, "%s did not %s within %u ms (it is %s; the %s goes on)", in->name,
                     w->kind == WAIT_STOP ? "stop" : "restart", w->timeout_ms, wd_state_name(in->state),
                     w->kind == WAIT_STOP ? "stop" : "restart");
            cJSON_AddStringToObject(r, WD_F_ERROR, msg);
            cJSON_AddItemToObject(r, WD_F_INSTANCE, instance_json(in));
        }
        send_json(c, r);
    } else {
        reply_instance(c, w->insts[0]);
    }
}

/* A wait has ended (settled, or its time is up): the answer, then the client's next requests. */
static void wait_finish(wd_client *c, bool timed_out) {
    wd_wait *w = c->wait;
    cJSON *reply = w->reply;
    w->reply = NULL;
    wait_answer(c, w, reply, timed_out);
    wait_free(c);
    if (c->closing)
        return;
    client_touch(c);
    int r = uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read);
    if (r < 0 && r != UV_EALREADY) {
        client_close(c);
        return;
    }
    client_process(c); /* requests that came while it waited */
}

static void wait_check_cb(uv_check_t *h) {
    wd_daemon *d = wd_container_of(h, wd_daemon, wait_check);
    for (wd_client *c = d->clients, *next; c; c = next) {
        next = c->next;
        if (c->wait && wait_settled(c->wait))
            wait_finish(c, false);
    }
}

static void wait_timeout_cb(uv_timer_t *t) {
    wd_client *c = t->data;
    if (c->wait)
        wait_finish(c, true);
}

/*
 * Answers once the instances have settled: at once when they have, else
 * after the loop turn in which they do, or after timeout_ms.  Takes
 * ownership of `reply` (reload's answer); the arrays are copied.
 */
static void wait_begin(wd_client *c, wait_kind kind, wd_instance **insts, const uint64_t *seqs, size_t n,
                       cJSON *reply, uint32_t timeout_ms) {
    wd_daemon *d = c->daemon;
    wd_wait *w = calloc(1, sizeof *w);
    if (w) {
        w->insts = calloc(n + 1, sizeof *w->insts);
        w->seqs = calloc(n + 1, sizeof *w->seqs);
    }
    if (!w || !w->insts || !w->seqs) {
        if (w) {
            free(w->insts);
            free(w->seqs);
        }
        free(w);
        cJSON_Delete(reply);
        send_error(c, WD_PROTO_INTERNAL, "out of memory");
        return;
    }
    w->kind = kind;
    w->n = n;
    memcpy(w->insts, insts, n * sizeof *insts);
    memcpy(w->seqs, seqs, n * sizeof *seqs);
    w->reply = reply;
    w->timeout_ms = timeout_ms ? timeout_ms : WD_PROTO_WAIT_MS;
    if (n > 0 && insts[0])
        snprintf(w->name, sizeof w->name, "%s", insts[0]->name);
    if (wait_settled(w)) {
        /* Nothing to wait for: the answer now, and the requests after it as usual. */
        w->reply = NULL;
        wait_answer(c, w, reply, false);
        free(w->insts);
        free(w->seqs);
        free(w);
        return;
    }
    c->wait = w;
    d->nwaits++;
    if (!d->wait_check_open) {
        uv_check_init(d->loop, &d->wait_check);
        d->wait_check_open = true;
    }
    uv_check_start(&d->wait_check, wait_check_cb);
    uv_read_stop((uv_stream_t *)&c->pipe); /* the rest of its requests wait for this answer */
    uv_timer_start(&c->timer, wait_timeout_cb, w->timeout_ms, 0);
}

/* The "wait" and "timeout_ms" of a request; false after answering a malformed one. */
static bool wait_options(wd_client *c, const cJSON *req, bool *ret_wait, uint32_t *ret_timeout_ms) {
    const cJSON *wait = cJSON_GetObjectItemCaseSensitive(req, WD_F_WAIT);
    const cJSON *timeout = cJSON_GetObjectItemCaseSensitive(req, WD_F_TIMEOUT_MS);
    if (wait && !cJSON_IsBool(wait)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" must be true or false", WD_F_WAIT);
        return false;
    }
    if (timeout && (!cJSON_IsNumber(timeout) || !(timeout->valuedouble >= 0) || timeout->valuedouble > UINT32_MAX)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" must be a number of milliseconds >= 0", WD_F_TIMEOUT_MS);
        return false;
    }
    *ret_wait = cJSON_IsTrue(wait);
    *ret_timeout_ms = timeout ? (uint32_t)timeout->valuedouble : 0;
    return true;
}

typedef wd_proto_status (*instance_action)(wd_instance *in, char *why);

static void do_action(wd_client *c, const cJSON *req, instance_action action, wait_kind kind, bool can_wait) {
    wd_instance *in = named_instance(c, req);
    if (!in)
        return;
    bool wait = false;
    uint32_t timeout_ms = 0;
    if (can_wait && !wait_options(c, req, &wait, &timeout_ms))
        return;
    char why[WD_REASON_MAX];
    uint64_t seq = in->run_seq;
    wd_proto_status s = action(in, why);
    if (s != WD_PROTO_OK)
        send_error(c, s, "%s", why);
    else if (wait)
        wait_begin(c, kind, &in, &seq, 1, NULL, timeout_ms);
    else
        reply_instance(c, in);
}

static void verb_start(wd_client *c, const cJSON *req) {
    do_action(c, req, wd_instance_start, WAIT_RESTART, true);
}

static void verb_stop(wd_client *c, const cJSON *req) {
    do_action(c, req, wd_instance_stop, WAIT_STOP, true);
}

static void verb_restart(wd_client *c, const cJSON *req) {
    do_action(c, req, wd_instance_restart, WAIT_RESTART, true);
}

/* A line as sent: an entry object {time_us, module, stream, level, message}. */
static cJSON *entry_json(const wd_instance *in, const wd_log_line *l) {
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    const char *level = wd_stream_level((wd_stream)l->stream);
    cJSON_AddNumberToObject(o, WD_F_TIME_US, (double)l->time_us);
    cJSON_AddStringToObject(o, WD_F_MODULE, in->name);
    cJSON_AddStringToObject(o, WD_F_STREAM, wd_stream_name((wd_stream)l->stream));
    if (level)
        cJSON_AddStringToObject(o, WD_F_LEVEL, level);
    cJSON_AddStringToObject(o, WD_F_MESSAGE, l->text);
    return o;
}

/* One kept line of one instance, for merging the logs of all. */
typedef struct log_ref {
    const wd_instance *in;
    const wd_log_line *line;
    size_t order;                /* position in the walk: equal times keep it */
} log_ref;

static int log_ref_cmp(const void *a, const void *b) {
    const log_ref *x = a, *y = b;
    if (x->line->time_us != y->line->time_us)
        return x->line->time_us < y->line->time_us ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* A number field of the request, or `dflt` when absent; false after answering a malformed one. */
static bool time_field(wd_client *c, const cJSON *req, const char *key, double dflt, double *ret) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, key);
    if (!v) {
        *ret = dflt;
        return true;
    }
    if (!cJSON_IsNumber(v)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" must be a Unix time in microseconds", key);
        return false;
    }
    *ret = v->valuedouble;
    return true;
}

/*
 * logs: the last lines of one instance's ring, or of every instance's
 * merged by time (no "name"), within since_us..until_us; then, with
 * follow, each new line as it comes (proto.h).
 */
static void verb_logs(wd_client *c, const cJSON *req) {
    wd_instance *one = NULL;
    if (cJSON_GetObjectItemCaseSensitive(req, WD_F_NAME) && !(one = named_instance(c, req)))
        return;
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(req, WD_F_LINES);
    const cJSON *follow = cJSON_GetObjectItemCaseSensitive(req, WD_F_FOLLOW);
    const cJSON *entries = cJSON_GetObjectItemCaseSensitive(req, WD_F_ENTRIES);
    double since, until;
    if (!time_field(c, req, WD_F_SINCE_US, -1e300, &since) || !time_field(c, req, WD_F_UNTIL_US, 1e300, &until))
        return;
    if (lines && (!cJSON_IsNumber(lines) || lines->valuedouble < 0)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" must be a number of lines >= 0", WD_F_LINES);
        return;
    }
    if ((follow && !cJSON_IsBool(follow)) || (entries && !cJSON_IsBool(entries))) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" and \"%s\" must be true or false", WD_F_FOLLOW, WD_F_ENTRIES);
        return;
    }
    if (!one && !cJSON_IsTrue(entries)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "the logs of every module come as \"%s\" only", WD_F_ENTRIES);
        return;
    }
    /* The lines within the times, oldest first. */
    size_t total = 0;
    for (wd_instance *in = one ? one : c->daemon->instances; in; in = one ? NULL : in->next)
        total += in->log.count;
    log_ref *refs = calloc(total + 1, sizeof *refs);
    cJSON *r = refs ? reply_new(WD_PROTO_OK) : NULL;
    cJSON *arr = r ? cJSON_AddArrayToObject(r, cJSON_IsTrue(entries) ? WD_F_ENTRIES : WD_F_LINES) : NULL;
    if (!arr) {
        free(refs);
        cJSON_Delete(r);
        send_error(c, WD_PROTO_INTERNAL, "out of memory");
        return;
    }
    size_t n = 0;
    for (wd_instance *in = one ? one : c->daemon->instances; in; in = one ? NULL : in->next) {
        for (uint32_t i = 0; i < in->log.count; i++) {
            const wd_log_line *l = wd_log_get(&in->log, i);
            if ((double)l->time_us >= since && (double)l->time_us <= until) {
                refs[n] = (log_ref){ in, l, n };
                n++;
            }
        }
    }
    if (!one)
        qsort(refs, n, sizeof *refs, log_ref_cmp);
    size_t first = lines && lines->valuedouble < (double)n ? n - (size_t)lines->valuedouble : 0;
    for (size_t i = first; i < n; i++) {
        if (cJSON_IsTrue(entries)) {
            cJSON_AddItemToArray(arr, entry_json(refs[i].in, refs[i].line));
        } else {
            char text[WD_LOG_LINE_MAX + 32];
            cJSON_AddItemToArray(arr, cJSON_CreateString(wd_log_format(refs[i].line, text, sizeof text)));
        }
    }
    free(refs);
    send_json(c, r);
    if (cJSON_IsTrue(follow) && !c->closing) {
        c->follow = one;
        c->follow_all = !one;
        c->follow_entries = cJSON_IsTrue(entries);
        client_touch(c); /* a follower only listens: no idle timeout */
    }
}

/* Appends to the array `what` of the response under construction (ud). */
static void note_into(void *ud, const char *what, const char *item) {
    cJSON *r = ud;
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(r, what);
    if (!arr)
        arr = cJSON_AddArrayToObject(r, what);
    if (arr)
        cJSON_AddItemToArray(arr, cJSON_CreateString(item));
}

static void verb_reload(wd_client *c, const cJSON *req) {
    cJSON *r = reply_new(WD_PROTO_OK);
    if (!r) {
        send_error(c, WD_PROTO_INTERNAL, "out of memory");
        return;
    }
    static const char *const lists[] = { WD_F_ADDED, WD_F_REMOVED, WD_F_RESTARTED, WD_F_UNCHANGED, WD_F_KEPT,
                                         WD_F_FAILED, WD_F_ERRORS };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        cJSON_AddArrayToObject(r, lists[i]);
    int e = wd_daemon_reload(c->daemon, note_into, r);
    if (e < 0) {
        cJSON_Delete(r);
        send_error(c, WD_PROTO_INTERNAL, "cannot reload %s: %s", c->daemon->cfg->modules_dir, strerror(-e));
        return;
    }
    /* The answer waits for the loads of the runs it began: a module that cannot load is "failed", not "added". */
    size_t n = (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, WD_F_ADDED)) +
               (size_t)cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(r, WD_F_RESTARTED));
    wd_instance **insts = calloc(n + 1, sizeof *insts);
    uint64_t *seqs = calloc(n + 1, sizeof *seqs);
    if (!insts || !seqs) {
        free(insts);
        free(seqs);
        send_json(c, r);
        return;
    }
    size_t k = 0;
    static const char *const started[] = { WD_F_ADDED, WD_F_RESTARTED };
    for (size_t i = 0; i < 2; i++) {
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r, started[i])) {
            wd_instance *in = cJSON_IsString(item) ? wd_daemon_find(c->daemon, item->valuestring) : NULL;
            if (in && k < n) {
                seqs[k] = in->run_seq;
                insts[k++] = in;
            }
        }
    }
    wait_begin(c, WAIT_RELOAD, insts, seqs, k, r, WD_RELOAD_WAIT_MS);
    free(insts);
    free(seqs);
}

static void verb_remove(wd_client *c, const cJSON *req) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, WD_F_NAME);
    if (!cJSON_IsString(name)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" (a string) is required", WD_F_NAME);
        return;
    }
    char why[WD_REASON_MAX];
    wd_proto_status s = wd_daemon_remove(c->daemon, name->valuestring, why);
    if (s != WD_PROTO_OK) {
        send_error(c, s, "%s", why);
        return;
    }
    cJSON *r = reply_new(WD_PROTO_OK);
    if (r)
        cJSON_AddStringToObject(r, WD_F_NAME, name->valuestring);
    send_json(c, r);
}

static void verb_sim(wd_client *c, const cJSON *req) {
    char why[WD_REASON_MAX];
    cJSON *r = reply_new(WD_PROTO_OK);
    if (!r) {
        send_error(c, WD_PROTO_INTERNAL, "out of memory");
        return;
    }
    wd_proto_status s = wd_hw_sim(c->daemon, req, r, why);
    if (s != WD_PROTO_OK) {
        cJSON_Delete(r);
        send_error(c, s, "%s", why);
        return;
    }
    send_json(c, r);
}

static void deploy_url(wd_client *c, const cJSON *req);

/* The deploy request line: checks it, then waits for the module's bytes (deploy_body), or fetches them (deploy_url). */
static void verb_deploy(wd_client *c, const cJSON *req) {
    if (cJSON_GetObjectItemCaseSensitive(req, WD_F_URL)) {
        deploy_url(c, req);
        return;
    }
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(req, WD_F_FILE);
    const cJSON *manifest = cJSON_GetObjectItemCaseSensitive(req, WD_F_MANIFEST);
    const cJSON *size = cJSON_GetObjectItemCaseSensitive(req, WD_F_MODULE_SIZE);
    /* Converted to size_t only within the limit: a larger double (above 4 GiB on 32-bit hosts) is undefined. */
    if (!cJSON_IsString(file) || !cJSON_IsString(manifest) || !cJSON_IsNumber(size) || !(size->valuedouble >= 1) ||
        (size->valuedouble <= WD_PROTO_MAX_MODULE && size->valuedouble != (double)(size_t)size->valuedouble)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "deploy needs \"%s\", \"%s\" (strings) and \"%s\" (a size > 0)",
                   WD_F_FILE, WD_F_MANIFEST, WD_F_MODULE_SIZE);
        client_finish(c); /* the body that follows cannot be told from requests */
        return;
    }
    if (size->valuedouble > WD_PROTO_MAX_MODULE) {
        send_error(c, WD_PROTO_TOO_LARGE, "a module is limited to %u bytes", WD_PROTO_MAX_MODULE);
        client_finish(c);
        return;
    }
    c->body_want = (size_t)size->valuedouble;
    c->body_len = 0;
    c->body = malloc(c->body_want);
    c->pending = cJSON_Duplicate(req, true);
    if (!c->body || !c->pending) {
        send_error(c, WD_PROTO_INTERNAL, "out of memory");
        client_finish(c);
    }
}

/* A problem a deploy found, for its answer. */
static void deploy_note(void *ud, const char *what, const char *item) {
    wd_client *c = ud;
    note_into(c->deploy_errors, what, item);
}

/* A deploy has ended: its answer, then the connection is closed (nothing after a deploy is read). */
static void deploy_done(void *ud, wd_proto_status s, wd_instance *in, const char *why) {
    wd_client *c = ud;
    c->deploy = NULL;
    if (c->closing) { /* gone while the deploy ran: its close callback frees the rest */
        return;
    }
    if (s == WD_PROTO_OK) {
        reply_instance(c, in);
    } else {
        cJSON *r = reply_new(s);
        if (r) {
            cJSON_AddStringToObject(r, WD_F_ERROR, why);
            cJSON *arr = cJSON_DetachItemFromObjectCaseSensitive(c->deploy_errors, WD_F_ERRORS);
            cJSON_AddItemToObject(r, WD_F_ERRORS, arr ? arr : cJSON_CreateArray());
        }
        send_json(c, r);
    }
    cJSON_Delete(c->deploy_errors);
    c->deploy_errors = NULL;
    client_finish(c);
}

/* The optional "sha256" of a deploy request: NULL when absent. */
static const char *request_sha256(const cJSON *req) {
    const cJSON *sha = cJSON_GetObjectItemCaseSensitive(req, WD_F_SHA256);
    return cJSON_IsString(sha) ? sha->valuestring : NULL;
}

/* Hands a deploy's manifest and module (owned by the deploy from here on) to the thread pool; answers when it cannot. */
static void deploy_start(wd_client *c, const cJSON *req, uint8_t *module, size_t len) {
    const char *file = cJSON_GetObjectItemCaseSensitive(req, WD_F_FILE)->valuestring;
    const char *manifest = cJSON_GetObjectItemCaseSensitive(req, WD_F_MANIFEST)->valuestring;
    const cJSON *sig = cJSON_GetObjectItemCaseSensitive(req, WD_F_SIGNATURE);
    wd_deploy_opts opts = {
        .sha256 = request_sha256(req),
        .signature = cJSON_IsString(sig) ? sig->valuestring : NULL,
        .allow_downgrade = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(req, WD_F_ALLOW_DOWNGRADE)),
    };
    char why[WD_REASON_MAX];
    c->deploy_errors = cJSON_CreateObject();
    c->deploy = c->deploy_errors ? wd_daemon_deploy(c->daemon, file, manifest, module, len, &opts, deploy_note,
                                                    deploy_done, c, why)
                                 : NULL;
    if (c->deploy) {
        client_touch(c); /* no idle timeout while it runs: its answer ends the connection */
    } else {
        free(module);
        send_error(c, c->deploy_errors ? WD_PROTO_INVALID : WD_PROTO_INTERNAL, "%s",
                   c->deploy_errors ? why : "out of memory");
        client_finish(c);
    }
}

/* The module's bytes of a deploy have all arrived: the deploy goes on in the thread pool. */
static void deploy_body(wd_client *c) {
    uv_read_stop((uv_stream_t *)&c->pipe);
    uint8_t *body = c->body;
    c->body = NULL;
    deploy_start(c, c->pending, body, c->body_len);
    cJSON_Delete(c->pending);
    c->pending = NULL;
    c->body_len = c->body_want = 0;
}

/* A download's progress, as an event line before the deploy's answer. */
static void fetch_progress(void *ud, uint64_t bytes, uint64_t total) {
    wd_client *c = ud;
    cJSON *r = reply_new(WD_PROTO_OK);
    cJSON *p = r ? cJSON_AddObjectToObject(r, WD_F_PROGRESS) : NULL;
    if (p) {
        cJSON_AddNumberToObject(p, WD_F_BYTES, (double)bytes);
        cJSON_AddNumberToObject(p, WD_F_TOTAL, (double)total);
    }
    send_json(c, r);
}

/* The download of URL.minisig has ended: its text goes with the module (a 404: unsigned). */
static void fetch_sig_done(void *ud, wd_proto_status s, const wd_fetch_result *res, const char *why, uint8_t *data,
                           size_t len) {
    wd_client *c = ud;
    c->fetch = NULL;
    uint8_t *module = c->body;
    c->body = NULL;
    if (s == WD_PROTO_OK && (len > WD_SIG_FILE_MAX || memchr(data, '\0', len))) {
        send_error(c, WD_PROTO_INVALID, "the signature file is not a minisign signature (%zu bytes)", len);
        client_finish(c);
        free(module);
    } else if (s == WD_PROTO_OK || (s == WD_PROTO_FETCH && res->http_status == 404)) {
        if (s == WD_PROTO_OK) {
            char *text = malloc(len + 1);
            if (text) {
                memcpy(text, data, len);
                text[len] = '\0';
                cJSON_AddStringToObject(c->pending, WD_F_SIGNATURE, text);
                free(text);
            }
        }
        deploy_start(c, c->pending, module, c->body_len);
    } else {
        send_error(c, s, "signature: %s", why);
        client_finish(c);
        free(module);
    }
    free(data);
    c->body_len = 0;
    cJSON_Delete(c->pending);
    c->pending = NULL;
}

/* The download has ended: then its signature (URL.minisig) unless the request has one; then the deploy. */
static void fetch_done(void *ud, wd_proto_status s, const wd_fetch_result *res, const char *why, uint8_t *data,
                       size_t len) {
    wd_client *c = ud;
    c->fetch = NULL;
    if (s != WD_PROTO_OK) {
        send_error(c, s, "%s", why);
        client_finish(c);
    } else if (!cJSON_GetObjectItemCaseSensitive(c->pending, WD_F_SIGNATURE)) {
        const cJSON *url = cJSON_GetObjectItemCaseSensitive(c->pending, WD_F_URL);
        const cJSON *ca = cJSON_GetObjectItemCaseSensitive(c->pending, WD_F_CA_FILE);
        char sig_url[WD_PROTO_MAX_URL + 16], err[WD_REASON_MAX];
        snprintf(sig_url, sizeof sig_url, "%s.minisig", url->valuestring);
        c->body = data;
        c->body_len = len;
        c->fetch = wd_fetch_start(c->daemon, sig_url, cJSON_IsString(ca) ? ca->valuestring : NULL, NULL,
                                  fetch_sig_done, c, err);
        if (c->fetch)
            return; /* c->pending and c->body wait for fetch_sig_done */
        free(c->body);
        c->body = NULL;
        send_error(c, WD_PROTO_FETCH, "signature: %s", err);
        client_finish(c);
    } else {
        deploy_start(c, c->pending, data, len);
    }
    cJSON_Delete(c->pending);
    c->pending = NULL;
}

/* A deploy naming its module by URL: no body follows; the daemon downloads it (fetch.c). */
static void deploy_url(wd_client *c, const cJSON *req) {
    const cJSON *file = cJSON_GetObjectItemCaseSensitive(req, WD_F_FILE);
    const cJSON *manifest = cJSON_GetObjectItemCaseSensitive(req, WD_F_MANIFEST);
    const cJSON *url = cJSON_GetObjectItemCaseSensitive(req, WD_F_URL);
    const cJSON *ca = cJSON_GetObjectItemCaseSensitive(req, WD_F_CA_FILE);
    char why[WD_REASON_MAX];
    uv_read_stop((uv_stream_t *)&c->pipe); /* a deploy's answer ends the connection: nothing after it is read */
    if (!cJSON_IsString(file) || !cJSON_IsString(manifest) || !cJSON_IsString(url) || !request_sha256(req) ||
        (ca && !cJSON_IsString(ca)) || strlen(url->valuestring) > WD_PROTO_MAX_URL) {
        send_error(c, WD_PROTO_BAD_REQUEST, "a deploy by URL needs \"%s\", \"%s\", \"%s\" and \"%s\" (strings)",
                   WD_F_FILE, WD_F_MANIFEST, WD_F_URL, WD_F_SHA256);
        client_finish(c);
        return;
    }
    c->pending = cJSON_Duplicate(req, true);
    c->fetch = c->pending ? wd_fetch_start(c->daemon, url->valuestring, ca ? ca->valuestring : NULL, fetch_progress,
                                           fetch_done, c, why)
                          : NULL;
    if (!c->fetch) {
        send_error(c, c->pending ? WD_PROTO_FETCH : WD_PROTO_INTERNAL, "%s", c->pending ? why : "out of memory");
        cJSON_Delete(c->pending);
        c->pending = NULL;
        client_finish(c);
        return;
    }
    client_touch(c);
}

/* history NAME: the versions kept of a deployed module (history.c). */
static void verb_history(wd_client *c, const cJSON *req) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, WD_F_NAME);
    wd_instance *in = cJSON_IsString(name) ? wd_daemon_find(c->daemon, name->valuestring) : NULL;
    if (!cJSON_IsString(name)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" (a string) is required", WD_F_NAME);
        return;
    }
    if (!in || !c->daemon->deploy_dir) {
        send_error(c, WD_PROTO_NOT_FOUND, "no deployed module named \"%.200s\"", name->valuestring);
        return;
    }
    cJSON *r = reply_new(WD_PROTO_OK);
    if (r) {
        cJSON_AddStringToObject(r, WD_F_NAME, name->valuestring);
        cJSON_AddItemToObject(r, WD_F_HISTORY, wd_history_list(c->daemon->deploy_dir, name->valuestring));
    }
    send_json(c, r);
}

/* rollback NAME [to]: answered like a deploy, once the kept version has started (deploy.c). */
static void verb_rollback(wd_client *c, const cJSON *req) {
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(req, WD_F_NAME);
    const cJSON *to = cJSON_GetObjectItemCaseSensitive(req, WD_F_TO);
    if (!cJSON_IsString(name) || (to && !cJSON_IsString(to))) {
        send_error(c, WD_PROTO_BAD_REQUEST, "rollback needs \"%s\" (and optionally \"%s\"), strings", WD_F_NAME,
                   WD_F_TO);
        return;
    }
    char why[WD_REASON_MAX];
    wd_proto_status s;
    uv_read_stop((uv_stream_t *)&c->pipe); /* its answer ends the connection */
    c->deploy = wd_daemon_rollback(c->daemon, name->valuestring, to ? to->valuestring : NULL, deploy_done, c, &s, why);
    if (!c->deploy) {
        send_error(c, s, "%s", why);
        client_finish(c);
        return;
    }
    client_touch(c);
}

/* fleet status: the desired-state document followed and each module's convergence (fleet.c). */
static void verb_fleet(wd_client *c, const cJSON *req) {
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, WD_F_OP);
    if (!cJSON_IsString(op) || strcmp(op->valuestring, "status") != 0) {
        send_error(c, WD_PROTO_BAD_REQUEST, "fleet: \"%s\" must be \"status\"", WD_F_OP);
        return;
    }
    if (!c->daemon->fleet) {
        send_error(c, WD_PROTO_CONFLICT, "fleet mode is off: the daemon config names no fleet.url");
        return;
    }
    cJSON *r = reply_new(WD_PROTO_OK);
    if (r)
        cJSON_AddItemToObject(r, WD_F_FLEET, wd_fleet_status(c->daemon));
    send_json(c, r);
}

static void verb_metrics(wd_client *c, const cJSON *req) {
    char *body = wd_metrics_text(c->daemon);
    cJSON *r = body ? reply_new(WD_PROTO_OK) : NULL;
    if (!r) {
        free(body);
        send_error(c, WD_PROTO_INTERNAL, "out of memory");
        return;
    }
    cJSON_AddStringToObject(r, WD_F_TEXT, body);
    free(body);
    send_json(c, r);
}

/* One table of verbs: name and handler. */
static const struct {
    const char *name;
    void (*fn)(wd_client *c, const cJSON *req);
} verbs[] = {
    { WD_VERB_VERSION, verb_version },
    { WD_VERB_LIST,    verb_list },
    { WD_VERB_STATUS,  verb_status },
    { WD_VERB_START,   verb_start },
    { WD_VERB_STOP,    verb_stop },
    { WD_VERB_RESTART, verb_restart },
    { WD_VERB_LOGS,    verb_logs },
    { WD_VERB_RELOAD,  verb_reload },
    { WD_VERB_DEPLOY,  verb_deploy },
    { WD_VERB_REMOVE,  verb_remove },
    { WD_VERB_SIM,     verb_sim },
    { WD_VERB_HISTORY, verb_history },
    { WD_VERB_ROLLBACK, verb_rollback },
    { WD_VERB_FLEET,   verb_fleet },
    { WD_VERB_METRICS, verb_metrics },
};

static void handle_request(wd_client *c, const char *line, size_t len) {
    cJSON *req = cJSON_ParseWithLength(line, len);
    if (!cJSON_IsObject(req)) {
        cJSON_Delete(req);
        send_error(c, WD_PROTO_BAD_REQUEST, "a request is one JSON object per line");
        return;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, WD_F_VERSION);
    const cJSON *verb = cJSON_GetObjectItemCaseSensitive(req, WD_F_VERB);
    if (!cJSON_IsNumber(v) || v->valuedouble != WD_PROTO_VERSION) {
        send_error(c, WD_PROTO_UNSUPPORTED_VERSION, "this daemon speaks protocol version %d", WD_PROTO_VERSION);
    } else if (!cJSON_IsString(verb)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" (a string) is required", WD_F_VERB);
    } else {
        size_t i = 0;
        while (i < sizeof verbs / sizeof verbs[0] && strcmp(verbs[i].name, verb->valuestring) != 0)
            i++;
        if (i < sizeof verbs / sizeof verbs[0])
            verbs[i].fn(c, req);
        else
            send_error(c, WD_PROTO_UNKNOWN_VERB, "unknown verb \"%.100s\"", verb->valuestring);
    }
    cJSON_Delete(req);
}

/* ---- Reading ----------------------------------------------------------- */

static void client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf) {
    wd_client *c = wd_container_of(h, wd_client, pipe);
    buf->base = c->buf + c->len;
    buf->len = sizeof c->buf - c->len;
}

static void client_read(uv_stream_t *s, ssize_t n, const uv_buf_t *buf) {
    wd_client *c = wd_container_of(s, wd_client, pipe);
    if (n < 0) {
        client_close(c); /* EOF or error: pending writes are cancelled and freed (and a partial deploy) */
        return;
    }
    if (c->refused) {
        c->len = 0; /* a refused peer's request is read only so that it can be sent, and dropped */
        return;
    }
    if (n > 0)
        client_touch(c);
    c->len += (size_t)n;
    client_process(c);
}

/* Handles the complete requests in the client's buffer, in order, until one has to wait (wait_begin). */
static void client_process(wd_client *c) {
    if (c->wait)
        return;
    size_t start = 0, scan = 0;
    while (!c->closing && !c->wait) {
        if (c->body) {
            /* A deploy's module bytes: raw, not lines. */
            size_t take = c->body_want - c->body_len;
            if (take > c->len - start)
                take = c->len - start;
            memcpy(c->body + c->body_len, c->buf + start, take);
            c->body_len += take;
            start += take;
            scan = start;
            if (c->body_len < c->body_want)
                break;
            deploy_body(c);
            break; /* a deploy's answer ends the connection: nothing after it is read */
        }
        char *nl = memchr(c->buf + scan, '\n', c->len - scan);
        if (!nl)
            break;
        size_t i = (size_t)(nl - c->buf);
        if (c->follow || c->follow_all) {
            /* A following client only listens; anything more it sends ends the stream. */
            client_finish(c);
            return;
        }
        handle_request(c, c->buf + start, i - start);
        start = scan = i + 1;
        if (c->fetch || c->deploy)
            break; /* a deploy by URL: its answer ends the connection, nothing after it is read */
    }
    if (c->closing)
        return;
    memmove(c->buf, c->buf + start, c->len - start);
    c->len -= start;
    if (c->len == sizeof c->buf) {
        send_error(c, WD_PROTO_TOO_LARGE, "a request line is limited to %d bytes", WD_PROTO_MAX_REQUEST);
        client_finish(c);
    }
}

/* ---- Peer check -------------------------------------------------------- */

/* The peer's credentials; false when the kernel cannot tell. */
static bool peer_cred(int fd, struct ucred *ret) {
    socklen_t len = sizeof *ret;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, ret, &len) == 0;
}

/* True for root and members (primary or supplementary) of the configured group. */
static bool peer_allowed(wd_daemon *d, int fd, const struct ucred *cred) {
    if (cred->uid == 0)
        return true;
    if (!d->has_group)
        return false;
    if (cred->gid == d->group)
        return true;
    gid_t groups[MAX_PEER_GROUPS];
    socklen_t len = sizeof groups;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
        return false;
    for (size_t i = 0; i < len / sizeof groups[0]; i++)
        if (groups[i] == d->group)
            return true;
    return false;
}

/*
 * Refuses a peer with a "denied" response and logs it.  The connection
 * holds no slot; it lingers (reading and dropping) so that the peer's
 * request is taken and the refusal read, unless too many already linger.
 */
static void client_refuse(wd_client *c, const char *why) {
    wd_daemon *d = c->daemon;
    bool room = d->nrefused < WD_MAX_REFUSED;
    c->refused = true;
    client_link(c);
    client_log(c, "refused: %s", why);
    send_error(c, WD_PROTO_DENIED, "%s", why);
    if (room && uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read) == 0) {
        c->lingering = true;
        uv_timer_start(&c->timer, linger_cb, WD_REFUSED_LINGER_MS, 0);
    }
    client_finish(c);
}

static void on_connection(uv_stream_t *server, int status) {
    wd_daemon *d = wd_container_of(server, wd_daemon, server);
    if (status < 0)
        return;
    wd_client *c = calloc(1, sizeof *c);
    if (!c) {
        /* Out of memory: libuv pauses the listener until a connection is accepted, the next time one arrives. */
        return;
    }
    c->daemon = d;
    c->uid = (unsigned)-1;
    uv_pipe_init(d->loop, &c->pipe, 0);
    uv_timer_init(d->loop, &c->timer);
    c->pipe.data = c->timer.data = c;
    c->open_handles = 2;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
        client_link(c);
        client_close(c);
        return;
    }
    uv_os_fd_t fd;
    struct ucred cred = { .pid = 0, .uid = (uid_t)-1, .gid = (gid_t)-1 };
    bool known = uv_fileno((uv_handle_t *)&c->pipe, &fd) == 0 && peer_cred(fd, &cred);
    c->uid = (unsigned)cred.uid;
    c->pid = (int)cred.pid;
    char why[WD_REASON_MAX];
    if (!known || !peer_allowed(d, fd, &cred)) {
        if (d->has_group)
            snprintf(why, sizeof why, "uid %d is neither root nor in group %s", (int)cred.uid, d->cfg->socket_group);
        else
            snprintf(why, sizeof why, "uid %d is not root (no socket_group is configured)", (int)cred.uid);
        client_refuse(c, why);
        return;
    }
    unsigned slots = cred.uid == 0 ? WD_MAX_CLIENTS : WD_MAX_CLIENTS - WD_ROOT_RESERVED_CLIENTS;
    if (d->nclients >= slots) {
        snprintf(why, sizeof why, "too many clients (%u connections served%s)", d->nclients,
                 cred.uid == 0 ? "" : "; the rest are kept for root");
        client_refuse(c, why);
        return;
    }
    client_link(c);
    client_touch(c);
    if (uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read) < 0)
        client_close(c);
}

/* ---- Listening --------------------------------------------------------- */

/*
 * Asks for descriptors enough for every connection the daemon may hold
 * besides its instances' (the usual soft limit, 1024, is not); warns when
 * the hard limit is lower.
 */
static void raise_fd_limit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= WD_NOFILE_MIN)
        return;
    rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < WD_NOFILE_MIN ? rl.rlim_max : WD_NOFILE_MIN;
    if (setrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur < WD_NOFILE_MIN)
        fprintf(stderr, "wasmd: warning: %lu file descriptors (RLIMIT_NOFILE) are fewer than the %u wanted for clients\n",
                (unsigned long)rl.rlim_cur, WD_NOFILE_MIN);
}

/* True when a daemon already answers on `path`. */
static bool socket_in_use(const char *path) {
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return false;
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    bool used = connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0;
    close(fd);
    return used;
}

int wd_control_listen(wd_daemon *d, const char *path) {
    const char *group = d->cfg->socket_group;
    if (group && group[0]) {
        struct group *g = getgrnam(group);
        if (!g) {
            fprintf(stderr, "wasmd: socket_group %s: no such group\n", group);
            return -ENOENT;
        }
        d->has_group = true;
        d->group = g->gr_gid;
    }
    raise_fd_limit();
    if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "wasmd: socket path too long: %s\n", path);
        return -ENAMETOOLONG;
    }
    if (socket_in_use(path)) {
        fprintf(stderr, "wasmd: %s: another daemon is listening there\n", path);
        return -EADDRINUSE;
    }
    /*
     * The socket's directory (/run/wasmd is made by systemd's RuntimeDirectory=,
     * but not when wasmd is started by hand): made if missing, one level, and
     * named with the real cause if that fails (libuv reports a missing
     * directory as "permission denied").
     */
    char *dir = strdup(path);
    if (!dir)
        return -ENOMEM;
    char *slash = strrchr(dir, '/');
    if (slash && slash != dir) {
        *slash = '\0';
        struct stat st;
        if (stat(dir, &st) < 0 && errno == ENOENT && mkdir(dir, 0755) < 0) {
            int e = errno;
            fprintf(stderr, "wasmd: %s: cannot create the socket's directory %s: %s\n", path, dir, strerror(e));
            free(dir);
            return -e;
        }
        if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode)) {
            fprintf(stderr, "wasmd: %s: %s is not a directory\n", path, dir);
            free(dir);
            return -ENOTDIR;
        }
    }
    free(dir);
    (void)unlink(path); /* a stale socket of a daemon that died */
    d->socket_path = strdup(path);
    if (!d->socket_path)
        return -ENOMEM;
    uv_pipe_init(d->loop, &d->server, 0);
    d->listening = true;
    int r = uv_pipe_bind(&d->server, path);
    if (r == 0) {
        /* Everyone may connect; the peer check decides who is served (see the top). */
        if (chmod(path, 0666) < 0)
            r = -errno;
    }
    if (r == 0)
        r = uv_listen((uv_stream_t *)&d->server, 128, on_connection);
    if (r < 0) {
        fprintf(stderr, "wasmd: %s: %s\n", path, uv_strerror(r));
        return r;
    }
    return 0;
}

/*
 * Socket activation: systemd made, bound and owns the socket (and its
 * permissions: see systemd/wasmd.socket), so we neither create nor unlink it.
 */
int wd_control_listen_fd(wd_daemon *d, int fd) {
    const char *group = d->cfg->socket_group;
    if (group && group[0]) {
        struct group *g = getgrnam(group);
        if (!g) {
            fprintf(stderr, "wasmd: socket_group %s: no such group\n", group);
            return -ENOENT;
        }
        d->has_group = true;
        d->group = g->gr_gid;
    }
    raise_fd_limit();
    if (sd_is_socket_unix(fd, SOCK_STREAM, 1, NULL, 0) <= 0) {
        fprintf(stderr, "wasmd: the socket passed by systemd is not a listening Unix stream socket\n");
        return -EINVAL;
    }
    uv_pipe_init(d->loop, &d->server, 0);
    d->listening = true;
    d->socket_activated = true;
    int r = uv_pipe_open(&d->server, fd);
    if (r == 0)
        r = uv_listen((uv_stream_t *)&d->server, 128, on_connection);
    if (r < 0) {
        fprintf(stderr, "wasmd: the socket passed by systemd: %s\n", uv_strerror(r));
        return r;
    }
    return 0;
}

void wd_control_close(wd_daemon *d) {
    while (d->clients)
        client_close(d->clients);
    while (d->refused)
        client_close(d->refused);
    if (d->wait_check_open) {
        d->wait_check_open = false;
        uv_close((uv_handle_t *)&d->wait_check, NULL);
    }
    if (d->listening) {
        d->listening = false;
        uv_close((uv_handle_t *)&d->server, NULL);
        if (d->socket_path && !d->socket_activated)
            (void)unlink(d->socket_path);
    }
    free(d->socket_path);
    d->socket_path = NULL;
}

/* ---- Log streaming ----------------------------------------------------- */

void wd_control_log_line(wd_daemon *d, wd_instance *in, const wd_log_line *line) {
    for (wd_client *c = d->clients, *next; c; c = next) {
        next = c->next;
        if (c->follow != in && !c->follow_all)
            continue;
        cJSON *r = reply_new(WD_PROTO_OK);
        if (r && c->follow_entries) {
            cJSON_AddItemToObject(r, WD_F_ENTRY, entry_json(in, line));
        } else if (r) {
            char text[WD_LOG_LINE_MAX + 32];
            cJSON_AddStringToObject(r, WD_F_LINE, wd_log_format(line, text, sizeof text));
        }
        send_json(c, r);
    }
}

void wd_control_forget(wd_daemon *d, wd_instance *in) {
    for (wd_client *c = d->clients; c; c = c->next) {
        if (c->follow == in) {
            c->follow = NULL;
            client_touch(c); /* following nothing now: idle like any other */
        }
        /* A request waiting for it: it has settled, by going away (the next loop turn answers). */
        for (size_t i = 0; c->wait && i < c->wait->n; i++)
            if (c->wait->insts[i] == in)
                c->wait->insts[i] = NULL;
    }
}
