/*
 * ctl.c - wasmctl's side of the control protocol (daemon/proto.h): one
 * connection per command, a request as one JSON line, responses read one
 * line at a time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli/wasmctl.h"
#include "daemon/proto.h"

/* The largest response read (a `logs` of the whole ring fits easily). */
#define MAX_RESPONSE (16u << 20)
/* How long to wait for a response before giving up (not for streams). */
#define RESPONSE_TIMEOUT_S 30

void cli_conn_close(cli_conn *conn) {
    if (conn->fd >= 0)
        close(conn->fd);
    free(conn->buf);
    conn->fd = -1;
    conn->buf = NULL;
}

/* Connects; reports why not and returns false. */
static bool connect_to(cli *c, double timeout_s, cli_conn *ret) {
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    *ret = (cli_conn){ .fd = -1 };
    if (strlen(c->socket) >= sizeof sa.sun_path) {
        cli_error(c, "socket path too long: %s", c->socket);
        return false;
    }
    memcpy(sa.sun_path, c->socket, strlen(c->socket) + 1);
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
        cli_error(c, "cannot reach wasmd at %s: %s", c->socket, strerror(errno));
        if (fd >= 0)
            close(fd);
        return false;
    }
    if (timeout_s > 0) {
        struct timeval tv = { .tv_sec = (time_t)timeout_s,
                              .tv_usec = (suseconds_t)((timeout_s - (double)(time_t)timeout_s) * 1e6) };
        (void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    }
    ret->fd = fd;
    return true;
}

/*
 * Sends `len` bytes; 0, or the errno of the failure.  EPIPE and ECONNRESET
 * mean the daemon closed its end, which it does after refusing us: its
 * answer may still be waiting to be read.
 */
static int send_bytes(cli_conn *conn, const void *bytes, size_t len) {
    for (size_t off = 0; off < len;) {
        ssize_t w = send(conn->fd, (const char *)bytes + off, len - off, MSG_NOSIGNAL);
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

/* Sends a request as one line; 0, or the errno of the failure. */
static int send_request(cli_conn *conn, const cJSON *req) {
    char *text = cJSON_PrintUnformatted(req);
    size_t len = text ? strlen(text) : 0;
    char *line = text ? malloc(len + 1) : NULL;
    if (!line) {
        free(text);
        return ENOMEM;
    }
    memcpy(line, text, len);
    line[len++] = '\n';
    free(text);
    int err = send_bytes(conn, line, len);
    free(line);
    return err;
}

cJSON *cli_receive(cli *c, cli_conn *conn, int *ret_status) {
    for (;;) {
        char *nl = conn->len ? memchr(conn->buf, '\n', conn->len) : NULL;
        if (nl) {
            size_t line = (size_t)(nl - conn->buf);
            cJSON *msg = cJSON_ParseWithLength(conn->buf, line);
            memmove(conn->buf, nl + 1, conn->len - line - 1);
            conn->len -= line + 1;
            if (!cJSON_IsObject(msg)) {
                cJSON_Delete(msg);
                cli_error(c, "malformed response from wasmd");
                *ret_status = EXIT_PROTOCOL;
                return NULL;
            }
            return msg;
        }
        if (conn->len == conn->cap) {
            if (conn->cap >= MAX_RESPONSE) {
                cli_error(c, "response from wasmd larger than %u bytes", MAX_RESPONSE);
                *ret_status = EXIT_PROTOCOL;
                return NULL;
            }
            size_t cap = conn->cap ? conn->cap * 2 : 64 * 1024;
            char *bigger = realloc(conn->buf, cap);
            if (!bigger) {
                cli_error(c, "out of memory");
                *ret_status = EXIT_FAILED;
                return NULL;
            }
            conn->buf = bigger;
            conn->cap = cap;
        }
        ssize_t n = recv(conn->fd, conn->buf + conn->len, conn->cap - conn->len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            if (n == 0) {
                cli_error(c, "wasmd closed the connection");
                *ret_status = EXIT_UNREACHABLE;
            } else if (errno == EAGAIN || errno == EWOULDBLOCK) {
                cli_error(c, "no answer from wasmd: timed out");
                *ret_status = EXIT_TIMEOUT;
            } else {
                cli_error(c, "reading from wasmd: %s", strerror(errno));
                *ret_status = EXIT_UNREACHABLE;
            }
            return NULL;
        }
        conn->len += (size_t)n;
    }
}

cJSON *cli_request_new(const char *verb) {
    cJSON *req = cJSON_CreateObject();
    if (req) {
        cJSON_AddNumberToObject(req, WD_F_VERSION, WD_PROTO_VERSION);
        cJSON_AddStringToObject(req, WD_F_VERB, verb);
    }
    return req;
}

int cli_call(cli *c, cJSON *req, const void *body, size_t body_len, bool stream, cli_conn *conn, cJSON **ret) {
    cli_conn local;
    cli_conn *cn = conn ? conn : &local;
    *ret = NULL;
    if (!req) {
        cli_error(c, "out of memory");
        return EXIT_FAILED;
    }
    double timeout = stream ? 0 : RESPONSE_TIMEOUT_S;
    if (c->timeout_s > 0 && !stream)
        timeout = c->timeout_s + RESPONSE_TIMEOUT_S; /* the daemon enforces --timeout; this is a backstop */
    if (!connect_to(c, timeout, cn))
        return EXIT_UNREACHABLE;
    int status = EXIT_OK;
    int err = send_request(cn, req);
    if (err == 0 && body_len > 0)
        err = send_bytes(cn, body, body_len);
    if (err == ENOMEM) {
        cli_error(c, "out of memory");
        status = EXIT_FAILED;
        goto out;
    }
    if (err != 0 && !peer_closed(err)) {
        cli_error(c, "sending to wasmd: %s", strerror(err));
        status = EXIT_UNREACHABLE;
        goto out;
    }
    /* The daemon may have answered and closed before taking all we sent (a refusal): read its answer. */
    *ret = cli_receive(c, cn, &status);
    if (!*ret && err != 0) {
        cli_error(c, "sending to wasmd: %s", strerror(err));
        status = EXIT_UNREACHABLE;
    }
out:
    if (!*ret || !conn)
        cli_conn_close(cn);
    return *ret ? EXIT_OK : status;
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
    case WD_PROTO_TIMEOUT: return EXIT_TIMEOUT;
    default: return EXIT_FAILED;
    }
}

int cli_response_status(cli *c, const cJSON *r) {
    wd_proto_status s = wd_proto_status_parse(cli_json_str(r, WD_F_STATUS));
    int status = exit_for_status(s);
    const char *error = cli_json_str(r, WD_F_ERROR);
    if (s != WD_PROTO_OK)
        cli_error(c, "%s: %s", c->verb->name, error[0] ? error : wd_proto_status_message(s));
    /* Problems found by reload or deploy, one per line (FILE:LINE:COLUMN: message), each once. */
    const cJSON *problem;
    int nproblems = 0;
    cJSON_ArrayForEach(problem, cJSON_GetObjectItemCaseSensitive(r, WD_F_ERRORS)) {
        if (!cJSON_IsString(problem))
            continue;
        nproblems++;
        if (!(s != WD_PROTO_OK && strcmp(problem->valuestring, error) == 0))
            cli_error(c, "%s", problem->valuestring);
    }
    if (s == WD_PROTO_OK && nproblems > 0)
        status = EXIT_INVALID;
    return status;
}

int cli_simple(cli *c, cJSON *req, void (*print_human)(const cli *c, const cJSON *r)) {
    cJSON *r;
    int status = cli_call(c, req, NULL, 0, false, NULL, &r);
    cJSON_Delete(req);
    if (status != EXIT_OK)
        return status;
    status = cli_response_status(c, r);
    /* An ok response is shown even when it lists problems (reload): they went to stderr. */
    bool ok = strcmp(cli_json_str(r, WD_F_STATUS), wd_proto_status_name(WD_PROTO_OK)) == 0;
    if (!c->json && ok && print_human)
        print_human(c, r);
    if (c->json && status != EXIT_OK && ok) {
        /* An ok request that found problems (reload): the document's status says what the exit status says. */
        cJSON_ReplaceItemInObjectCaseSensitive(r, WD_F_STATUS, cJSON_CreateString(cli_exit_name(status)));
    }
    cli_print_doc(c, r, status);
    return status;
}
