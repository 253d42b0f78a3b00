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
 * gets one "denied" response and is disconnected.  The socket itself is
 * left connectable by all (0666) so that the refusal can say why.
 */
#include <errno.h>
#include <grp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <systemd/sd-daemon.h>

#include "daemon/internal.h"

#define MAX_PEER_GROUPS 256

struct wd_client {
    uv_pipe_t pipe;
    wd_daemon *daemon;
    wd_client *prev, *next;
    wd_instance *follow;         /* streaming this instance's log lines, or NULL */
    bool closing;
    /* A deploy request waiting for its module bytes: the parsed request, and the bytes so far. */
    cJSON *pending;
    uint8_t *body;
    size_t body_len, body_want;
    /* The deploy under way in the thread pool (the client reads nothing more meanwhile). */
    wd_deploy *deploy;
    cJSON *deploy_errors;
    size_t len;                  /* bytes in buf */
    char buf[WD_PROTO_MAX_REQUEST];
};

typedef struct write_req {
    uv_write_t req;
    size_t len;
    char data[];
} write_req;

/* ---- Writing and closing ------------------------------------------------ */

static void client_close_cb(uv_handle_t *h) {
    wd_client *c = wd_container_of(h, wd_client, pipe);
    if (c->deploy)
        wd_deploy_detach(c->deploy);
    cJSON_Delete(c->deploy_errors);
    cJSON_Delete(c->pending);
    free(c->body);
    free(c);
}

static void client_close(wd_client *c) {
    if (c->closing)
        return;
    c->closing = true;
    wd_daemon *d = c->daemon;
    if (c->prev)
        c->prev->next = c->next;
    else
        d->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    d->nclients--;
    uv_close((uv_handle_t *)&c->pipe, client_close_cb);
}

static void write_cb(uv_write_t *req, int status) {
    write_req *w = wd_container_of(req, write_req, req);
    free(w);
}

static void shutdown_cb(uv_shutdown_t *req, int status) {
    wd_client *c = req->data;
    free(req);
    client_close(c);
}

/* Sends one JSON object as a line; takes ownership of `msg`. */
static void send_json(wd_client *c, cJSON *msg) {
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

/* Closes after the queued responses are written. */
static void client_finish(wd_client *c) {
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

typedef wd_proto_status (*instance_action)(wd_instance *in, char *why);

static void do_action(wd_client *c, const cJSON *req, instance_action action) {
    wd_instance *in = named_instance(c, req);
    if (!in)
        return;
    char why[WD_REASON_MAX];
    wd_proto_status s = action(in, why);
    if (s != WD_PROTO_OK)
        send_error(c, s, "%s", why);
    else
        reply_instance(c, in);
}

static void verb_start(wd_client *c, const cJSON *req) {
    do_action(c, req, wd_instance_start);
}

static void verb_stop(wd_client *c, const cJSON *req) {
    do_action(c, req, wd_instance_stop);
}

static void verb_restart(wd_client *c, const cJSON *req) {
    do_action(c, req, wd_instance_restart);
}

static void verb_logs(wd_client *c, const cJSON *req) {
    wd_instance *in = named_instance(c, req);
    if (!in)
        return;
    const cJSON *lines = cJSON_GetObjectItemCaseSensitive(req, WD_F_LINES);
    const cJSON *follow = cJSON_GetObjectItemCaseSensitive(req, WD_F_FOLLOW);
    uint32_t want = in->log.count;
    if (lines) {
        if (!cJSON_IsNumber(lines) || lines->valuedouble < 0) {
            send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" must be a number of lines >= 0", WD_F_LINES);
            return;
        }
        if (lines->valuedouble < want)
            want = (uint32_t)lines->valuedouble;
    }
    if (follow && !cJSON_IsBool(follow)) {
        send_error(c, WD_PROTO_BAD_REQUEST, "\"%s\" must be true or false", WD_F_FOLLOW);
        return;
    }
    cJSON *r = reply_new(WD_PROTO_OK);
    cJSON *arr = r ? cJSON_AddArrayToObject(r, WD_F_LINES) : NULL;
    if (!arr) {
        cJSON_Delete(r);
        send_error(c, WD_PROTO_INTERNAL, "out of memory");
        return;
    }
    for (uint32_t i = in->log.count - want; i < in->log.count; i++)
        cJSON_AddItemToArray(arr, cJSON_CreateString(wd_log_get(&in->log, i)));
    send_json(c, r);
    if (cJSON_IsTrue(follow))
        c->follow = in;
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
    static const char *const lists[] = { WD_F_ADDED, WD_F_REMOVED, WD_F_RESTARTED, WD_F_UNCHANGED, WD_F_ERRORS };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++)
        cJSON_AddArrayToObject(r, lists[i]);
    int e = wd_daemon_reload(c->daemon, note_into, r);
    if (e < 0) {
        cJSON_Delete(r);
        send_error(c, WD_PROTO_INTERNAL, "cannot reload %s: %s", c->daemon->cfg->modules_dir, strerror(-e));
        return;
    }
    send_json(c, r);
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

/* The deploy request line: checks it, then waits for the module's bytes (deploy_body). */
static void verb_deploy(wd_client *c, const cJSON *req) {
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

/* The module's bytes of a deploy have all arrived: the deploy goes on in the thread pool. */
static void deploy_body(wd_client *c) {
    cJSON *req = c->pending;
    const char *file = cJSON_GetObjectItemCaseSensitive(req, WD_F_FILE)->valuestring;
    const char *manifest = cJSON_GetObjectItemCaseSensitive(req, WD_F_MANIFEST)->valuestring;
    char why[WD_REASON_MAX];
    uv_read_stop((uv_stream_t *)&c->pipe);
    c->deploy_errors = cJSON_CreateObject();
    c->deploy = c->deploy_errors ? wd_daemon_deploy(c->daemon, file, manifest, c->body, c->body_len, deploy_note,
                                                    deploy_done, c, why)
                                 : NULL;
    if (c->deploy) {
        c->body = NULL; /* the deploy's now */
    } else {
        send_error(c, c->deploy_errors ? WD_PROTO_INVALID : WD_PROTO_INTERNAL, "%s",
                   c->deploy_errors ? why : "out of memory");
        client_finish(c);
    }
    cJSON_Delete(c->pending);
    free(c->body);
    c->pending = NULL;
    c->body = NULL;
    c->body_len = c->body_want = 0;
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
    c->len += (size_t)n;
    size_t start = 0, scan = c->len - (size_t)n; /* bytes before `scan` hold no newline */
    while (!c->closing) {
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
        if (c->follow) {
            /* A following client only listens; anything more it sends ends the stream. */
            client_finish(c);
            return;
        }
        handle_request(c, c->buf + start, i - start);
        start = scan = i + 1;
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

/* True for root and members (primary or supplementary) of the configured group. */
static bool peer_allowed(wd_daemon *d, int fd, struct ucred *ret_cred) {
    struct ucred cred;
    socklen_t len = sizeof cred;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
        return false;
    *ret_cred = cred;
    if (cred.uid == 0)
        return true;
    if (!d->has_group)
        return false;
    if (cred.gid == d->group)
        return true;
    gid_t groups[MAX_PEER_GROUPS];
    len = sizeof groups;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups, &len) < 0)
        return false;
    for (size_t i = 0; i < len / sizeof groups[0]; i++)
        if (groups[i] == d->group)
            return true;
    return false;
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
    uv_pipe_init(d->loop, &c->pipe, 0);
    c->next = d->clients;
    if (d->clients)
        d->clients->prev = c;
    d->clients = c;
    d->nclients++;
    if (uv_accept(server, (uv_stream_t *)&c->pipe) < 0) {
        client_close(c);
        return;
    }
    if (d->nclients > WD_MAX_CLIENTS) {
        send_error(c, WD_PROTO_DENIED, "too many clients (at most %u)", WD_MAX_CLIENTS);
        client_finish(c);
        return;
    }
    uv_os_fd_t fd;
    struct ucred cred = { 0 };
    if (uv_fileno((uv_handle_t *)&c->pipe, &fd) < 0 || !peer_allowed(d, fd, &cred)) {
        if (d->has_group)
            send_error(c, WD_PROTO_DENIED, "uid %u is neither root nor in group %s", (unsigned)cred.uid,
                       d->cfg->socket_group);
        else
            send_error(c, WD_PROTO_DENIED, "uid %u is not root (no socket_group is configured)",
                       (unsigned)cred.uid);
        client_finish(c);
        return;
    }
    if (uv_read_start((uv_stream_t *)&c->pipe, client_alloc, client_read) < 0)
        client_close(c);
}

/* ---- Listening --------------------------------------------------------- */

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
    if (strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
        fprintf(stderr, "wasmd: socket path too long: %s\n", path);
        return -ENAMETOOLONG;
    }
    if (socket_in_use(path)) {
        fprintf(stderr, "wasmd: %s: another daemon is listening there\n", path);
        return -EADDRINUSE;
    }
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

void wd_control_log_line(wd_daemon *d, wd_instance *in, const char *line) {
    for (wd_client *c = d->clients, *next; c; c = next) {
        next = c->next;
        if (c->follow != in)
            continue;
        if (uv_stream_get_write_queue_size((uv_stream_t *)&c->pipe) > WD_FOLLOW_MAX_QUEUE) {
            client_close(c); /* too far behind: drop it rather than buffer without bound */
            continue;
        }
        cJSON *r = reply_new(WD_PROTO_OK);
        if (r)
            cJSON_AddStringToObject(r, WD_F_LINE, line);
        send_json(c, r);
    }
}

void wd_control_forget(wd_daemon *d, wd_instance *in) {
    for (wd_client *c = d->clients; c; c = c->next)
        if (c->follow == in)
            c->follow = NULL;
}
