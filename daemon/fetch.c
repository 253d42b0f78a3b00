/*
 * fetch.c - downloads of modules named by URL, inside the daemon's libuv
 * loop, with libcurl's multi interface driven by the loop's sockets and
 * timers (the pattern libcurl documents for libuv, "multi-uv.c"):
 *
 *   - CURLMOPT_SOCKETFUNCTION tells us which sockets libcurl wants watched
 *     and for what: each gets a uv_poll_t (a fetch_sock), whose events go
 *     back to curl_multi_socket_action;
 *   - CURLMOPT_TIMERFUNCTION tells us when libcurl wants to be called for
 *     its timeouts: one uv_timer_t (d->fetch_timer) does that.
 *
 * So a download never blocks the loop: the modules and the clients are
 * served between its reads.  Name resolution is libcurl's threaded
 * resolver (Debian's libcurl), off the loop too.
 *
 * Policy, set on every transfer (limits in internal.h and the daemon
 * config's fetch: keys):
 *   - https:// with certificate verification (the system's CA bundle, or
 *     fetch.ca_file, or the request's ca_file); http:// only to a loopback
 *     host or when fetch.allow_http is true; redirects at most
 *     fetch.max_redirects, to https:// only (http:// too with allow_http);
 *   - at most fetch.max_module_mib: refused as soon as Content-Length says
 *     so, else when the bytes pass it;
 *   - fetch.connect_timeout_s to connect, fetch.timeout_s for the whole,
 *     resumes included;
 *   - a connection dropped mid-transfer is resumed from the bytes already
 *     received (an HTTP Range request) up to WD_FETCH_MAX_RESUMES times; a
 *     server that ignores ranges makes it start again from the beginning,
 *     once;
 *   - proxies: fetch.proxy, else the environment's (https_proxy, no_proxy...).
 *
 * The module is downloaded into memory (never to disk: a failed download
 * changes nothing there) and handed to the caller's done function, which
 * owns it from then on.  Each failure gets a message naming its kind: DNS,
 * connection refused, TLS, HTTP status, too large, timeout, redirects.
 *
 * Ownership: a wd_fetch owns its easy handle and buffer; it is freed after
 * its done function returns, or by wd_fetch_cancel's abort (then without a
 * call).  A fetch_sock is freed in its poll handle's close callback.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "daemon/internal.h"

struct wd_fetch {
    wd_daemon *d;
    CURL *easy;
    struct wd_fetch *next;       /* d->fetches */
    char *url;                   /* owned */
    uint8_t *data;               /* the bytes so far (owned until handed to done) */
    size_t len, cap;
    uint64_t max;                /* bytes allowed */
    uint64_t resume_from;        /* where the transfer under way started */
    uint64_t deadline_ns;        /* fetch.timeout_s after the start, resumes included */
    uint64_t last_progress_ns;
    unsigned resumes;
    bool restarted;              /* started again from 0 (the server ignored a Range) */
    bool too_large;
    bool cancelled;              /* the caller went away: abort at the next callback */
    wd_fetch_progress_fn progress;
    wd_fetch_done_fn done;
    void *ud;
    struct curl_slist *headers;  /* a conditional request's If-None-Match / If-Modified-Since */
    char etag[WD_FETCH_HEADER_MAX], last_modified[WD_FETCH_HEADER_MAX]; /* of the response */
    char errbuf[CURL_ERROR_SIZE];
};

/* A socket libcurl wants watched; freed in its close callback. */
typedef struct wd_fetch_sock {
    uv_poll_t poll;
    curl_socket_t fd;
    wd_daemon *d;
    struct wd_fetch_sock *prev, *next; /* d->fetch_socks, until libcurl lets it go */
} wd_fetch_sock;

static void check_done(wd_daemon *d);

/* ---- The loop's side of the multi interface ------------------------------ */

static void sock_closed(uv_handle_t *h) {
    free(h->data);
}

static void on_poll(uv_poll_t *p, int status, int events) {
    wd_fetch_sock *s = p->data;
    int flags = 0, running;
    if (status < 0)
        flags = CURL_CSELECT_ERR;
    if (events & UV_READABLE)
        flags |= CURL_CSELECT_IN;
    if (events & UV_WRITABLE)
        flags |= CURL_CSELECT_OUT;
    wd_daemon *d = s->d;
    curl_multi_socket_action(d->curlm, s->fd, flags, &running);
    check_done(d);
}

/* CURLMOPT_SOCKETFUNCTION: watch `fd` for what libcurl says, or stop. */
static int socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp) {
    wd_daemon *d = userp;
    wd_fetch_sock *s = socketp;
    if (what == CURL_POLL_REMOVE) {
        if (s) {
            if (s->prev)
                s->prev->next = s->next;
            else
                d->fetch_socks = s->next;
            if (s->next)
                s->next->prev = s->prev;
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, sock_closed);
            curl_multi_assign(d->curlm, fd, NULL);
        }
        return 0;
    }
    if (!s) {
        s = calloc(1, sizeof *s);
        if (!s)
            return -1;
        s->fd = fd;
        s->d = d;
        if (uv_poll_init_socket(d->loop, &s->poll, fd) < 0) {
            free(s);
            return -1;
        }
        s->poll.data = s;
        s->next = d->fetch_socks;
        if (s->next)
            s->next->prev = s;
        d->fetch_socks = s;
        curl_multi_assign(d->curlm, fd, s);
    }
    int events = 0;
    if (what == CURL_POLL_IN || what == CURL_POLL_INOUT)
        events |= UV_READABLE;
    if (what == CURL_POLL_OUT || what == CURL_POLL_INOUT)
        events |= UV_WRITABLE;
    uv_poll_start(&s->poll, events, on_poll);
    return 0;
}

static void on_timeout(uv_timer_t *t) {
    wd_daemon *d = t->data;
    int running;
    curl_multi_socket_action(d->curlm, CURL_SOCKET_TIMEOUT, 0, &running);
    check_done(d);
}

/* CURLMOPT_TIMERFUNCTION: call on_timeout in `ms` (-1: never).  Only arms the timer. */
static int timer_cb(CURLM *multi, long ms, void *userp) {
    wd_daemon *d = userp;
    if (ms < 0)
        uv_timer_stop(&d->fetch_timer);
    else
        uv_timer_start(&d->fetch_timer, on_timeout, (uint64_t)ms, 0);
    return 0;
}

/* The multi handle and its timer, made on the first download. */
static int multi_open(wd_daemon *d) {
    if (d->curlm)
        return 0;
    d->curlm = curl_multi_init();
    if (!d->curlm)
        return -ENOMEM;
    uv_timer_init(d->loop, &d->fetch_timer);
    d->fetch_timer.data = d;
    curl_multi_setopt(d->curlm, CURLMOPT_SOCKETFUNCTION, socket_cb);
    curl_multi_setopt(d->curlm, CURLMOPT_SOCKETDATA, d);
    curl_multi_setopt(d->curlm, CURLMOPT_TIMERFUNCTION, timer_cb);
    curl_multi_setopt(d->curlm, CURLMOPT_TIMERDATA, d);
    return 0;
}

/* ---- One transfer --------------------------------------------------------- */

static void fetch_free(wd_fetch *f) {
    wd_daemon *d = f->d;
    for (wd_fetch **p = &d->fetches; *p; p = &(*p)->next) {
        if (*p == f) {
            *p = f->next;
            break;
        }
    }
    if (f->easy) {
        curl_multi_remove_handle(d->curlm, f->easy);
        curl_easy_cleanup(f->easy);
    }
    curl_slist_free_all(f->headers);
    free(f->url);
    free(f->data);
    free(f);
}

/* CURLOPT_HEADERFUNCTION: keeps the validators of the response (ETag, Last-Modified). */
static size_t header_cb(char *buf, size_t size, size_t n, void *userp) {
    wd_fetch *f = userp;
    size_t len = size * n;
    char *into = NULL;
    size_t skip = 0;
    if (len > 5 && strncasecmp(buf, "ETag:", 5) == 0) {
        into = f->etag;
        skip = 5;
    } else if (len > 14 && strncasecmp(buf, "Last-Modified:", 14) == 0) {
        into = f->last_modified;
        skip = 14;
    }
    if (into) {
        const char *v = buf + skip;
        size_t vlen = len - skip;
        while (vlen > 0 && (*v == ' ' || *v == '\t'))
            v++, vlen--;
        while (vlen > 0 && (v[vlen - 1] == '\r' || v[vlen - 1] == '\n' || v[vlen - 1] == ' '))
            vlen--;
        if (vlen < WD_FETCH_HEADER_MAX) {
            memcpy(into, v, vlen);
            into[vlen] = '\0';
        }
    }
    return len;
}

/* CURLOPT_WRITEFUNCTION: appends to the buffer, within the limit. */
static size_t write_cb(char *ptr, size_t size, size_t n, void *userp) {
    wd_fetch *f = userp;
    size_t bytes = size * n;
    if (f->cancelled)
        return 0;
    if ((uint64_t)f->len + bytes > f->max) {
        f->too_large = true;
        return 0;
    }
    if (f->len + bytes > f->cap) {
        size_t cap = f->cap ? f->cap : 64 * 1024;
        while (cap < f->len + bytes)
            cap *= 2;
        uint8_t *grown = realloc(f->data, cap);
        if (!grown)
            return 0;
        f->data = grown;
        f->cap = cap;
    }
    memcpy(f->data + f->len, ptr, bytes);
    f->len += bytes;
    uint64_t now = wd_now_ns();
    if (f->progress && now - f->last_progress_ns >= (uint64_t)WD_FETCH_PROGRESS_MS * 1000000u) {
        f->last_progress_ns = now;
        curl_off_t cl = -1;
        curl_easy_getinfo(f->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &cl);
        f->progress(f->ud, f->len, cl >= 0 ? f->resume_from + (uint64_t)cl : 0);
    }
    return bytes;
}

/* CURLOPT_XFERINFOFUNCTION: called at least once a second, even when stalled: aborts a cancelled fetch. */
static int xferinfo_cb(void *userp, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal, curl_off_t ulnow) {
    wd_fetch *f = userp;
    return f->cancelled ? 1 : 0;
}

/* True for a host that is this machine: an IPv4 address in 127.0.0.0/8, [::1], localhost. */
static bool loopback_host(const char *host) {
    struct in_addr a4;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return strcmp(host, "localhost") == 0 || strcmp(host, "[::1]") == 0 || strcmp(host, "::1") == 0;
}

/* The URL policy: https://, or http:// to loopback or when allowed.  False with the reason in `why`. */
static bool url_allowed(const wd_daemon *d, const char *url, char *why) {
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;
    bool ok = false;
    if (!u || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK) {
        snprintf(why, WD_REASON_MAX, "%.200s: not a valid URL", url);
    } else if (strcmp(scheme, "https") == 0) {
        ok = true;
    } else if (strcmp(scheme, "http") == 0) {
        ok = d->cfg->fetch_allow_http || loopback_host(host);
        if (!ok)
            snprintf(why, WD_REASON_MAX, "%.150s: plain http:// is refused except on loopback (the daemon "
                     "config's fetch.allow_http allows it)", url);
    } else {
        snprintf(why, WD_REASON_MAX, "%.150s: only https:// (or http://) URLs are fetched", url);
    }
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* Sets the options of a transfer from byte `from` (0, or a resume). */
static void easy_setup(wd_fetch *f, uint64_t from) {
    const cfg_daemon *c = f->d->cfg;
    CURL *e = f->easy;
    bool http = c->fetch_allow_http || strncmp(f->url, "http://", 7) == 0;
    uint64_t now = wd_now_ns(), left_ms = f->deadline_ns > now ? (f->deadline_ns - now) / 1000000u : 1;
    curl_easy_setopt(e, CURLOPT_URL, f->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, http ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, c->fetch_allow_http ? "http,https" : "https");
    curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(e, CURLOPT_MAXREDIRS, (long)c->fetch_max_redirects);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)c->fetch_connect_timeout_s * 1000L);
    curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(left_ms ? left_ms : 1));
    curl_easy_setopt(e, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)(f->max - from));
    curl_easy_setopt(e, CURLOPT_RESUME_FROM_LARGE, (curl_off_t)from);
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "wasmd/" WASMD_VERSION);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, f->errbuf);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, f);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, xferinfo_cb);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, f);
    curl_easy_setopt(e, CURLOPT_PRIVATE, f);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, f);
    if (f->headers)
        curl_easy_setopt(e, CURLOPT_HTTPHEADER, f->headers);
    if (c->fetch_proxy)
        curl_easy_setopt(e, CURLOPT_PROXY, c->fetch_proxy);
    f->resume_from = from;
    f->errbuf[0] = '\0';
}

wd_fetch *wd_fetch_start(wd_daemon *d, const char *url, const char *ca_file, wd_fetch_progress_fn progress,
                         wd_fetch_done_fn done, void *ud, char *why) {
    return wd_fetch_start_cond(d, url, ca_file, NULL, NULL, progress, done, ud, why);
}

wd_fetch *wd_fetch_start_cond(wd_daemon *d, const char *url, const char *ca_file, const char *etag,
                              const char *last_modified, wd_fetch_progress_fn progress, wd_fetch_done_fn done,
                              void *ud, char *why) {
    if (!url_allowed(d, url, why))
        return NULL;
    if (multi_open(d) < 0) {
        snprintf(why, WD_REASON_MAX, "cannot set up downloads (libcurl)");
        return NULL;
    }
    wd_fetch *f = calloc(1, sizeof *f);
    if (!f || !(f->url = strdup(url)) || !(f->easy = curl_easy_init())) {
        if (f)
            free(f->url);
        free(f);
        snprintf(why, WD_REASON_MAX, "out of memory");
        return NULL;
    }
    f->d = d;
    f->max = (uint64_t)d->cfg->fetch_max_module_mib << 20;
    f->deadline_ns = wd_now_ns() + (uint64_t)d->cfg->fetch_timeout_s * 1000000000u;
    f->progress = progress;
    f->done = done;
    f->ud = ud;
    char h[WD_FETCH_HEADER_MAX + 32];
    if (etag && etag[0] && (size_t)snprintf(h, sizeof h, "If-None-Match: %s", etag) < sizeof h)
        f->headers = curl_slist_append(f->headers, h);
    if (last_modified && last_modified[0] &&
        (size_t)snprintf(h, sizeof h, "If-Modified-Since: %s", last_modified) < sizeof h)
        f->headers = curl_slist_append(f->headers, h);
    easy_setup(f, 0);
    const char *ca = ca_file && ca_file[0] ? ca_file : d->cfg->fetch_ca_file;
    if (ca)
        curl_easy_setopt(f->easy, CURLOPT_CAINFO, ca);
    f->next = d->fetches;
    d->fetches = f;
    if (curl_multi_add_handle(d->curlm, f->easy) != CURLM_OK) {
        fetch_free(f);
        snprintf(why, WD_REASON_MAX, "cannot start the download (libcurl)");
        return NULL;
    }
    fprintf(stderr, "wasmd: fetching %s\n", url);
    return f;
}

void wd_fetch_cancel(wd_fetch *f) {
    f->cancelled = true;
    f->progress = NULL;
    f->done = NULL;
}

/* A dropped connection worth resuming from where it stopped. */
static bool resumable(CURLcode r) {
    return r == CURLE_PARTIAL_FILE || r == CURLE_RECV_ERROR || r == CURLE_GOT_NOTHING || r == CURLE_SEND_ERROR;
}

/* The message and status for a failed transfer. */
static wd_proto_status describe(wd_fetch *f, CURLcode r, long code, char *why) {
    const char *detail = f->errbuf[0] ? f->errbuf : curl_easy_strerror(r);
    const cfg_daemon *c = f->d->cfg;
    if (f->too_large || r == CURLE_FILESIZE_EXCEEDED) {
        snprintf(why, WD_REASON_MAX, "%.150s: too large: more than %u MiB (fetch.max_module_mib)", f->url,
                 c->fetch_max_module_mib);
        return WD_PROTO_TOO_LARGE;
    }
    switch (r) {
    case CURLE_OK:
        snprintf(why, WD_REASON_MAX, "%.150s: HTTP status %ld", f->url, code);
        return WD_PROTO_FETCH;
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
        snprintf(why, WD_REASON_MAX, "DNS: %.200s", detail);
        return WD_PROTO_FETCH;
    case CURLE_COULDNT_CONNECT:
        snprintf(why, WD_REASON_MAX, "connection refused: %.200s", detail);
        return WD_PROTO_FETCH;
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_SSL_CIPHER:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_ENGINE_NOTFOUND:
    case CURLE_SSL_ENGINE_SETFAILED:
    case CURLE_SSL_SHUTDOWN_FAILED:
    case CURLE_SSL_CRL_BADFILE:
    case CURLE_SSL_ISSUER_ERROR:
    case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
    case CURLE_SSL_INVALIDCERTSTATUS:
    case CURLE_SSL_CLIENTCERT:
        snprintf(why, WD_REASON_MAX, "TLS: %.200s", detail);
        return WD_PROTO_FETCH;
    case CURLE_OPERATION_TIMEDOUT:
        snprintf(why, WD_REASON_MAX, "timed out (fetch.connect_timeout_s %u, fetch.timeout_s %u): %.150s",
                 c->fetch_connect_timeout_s, c->fetch_timeout_s, detail);
        return WD_PROTO_TIMEOUT;
    case CURLE_TOO_MANY_REDIRECTS:
        snprintf(why, WD_REASON_MAX, "%.150s: too many redirects (more than %u, fetch.max_redirects)", f->url,
                 c->fetch_max_redirects);
        return WD_PROTO_FETCH;
    case CURLE_UNSUPPORTED_PROTOCOL:
        snprintf(why, WD_REASON_MAX, "refused: %.150s (a redirect to http:// needs fetch.allow_http)", detail);
        return WD_PROTO_FETCH;
    default:
        if (resumable(r))
            snprintf(why, WD_REASON_MAX, "connection dropped after %zu bytes (%u resume%s): %.150s", f->len,
                     f->resumes, f->resumes == 1 ? "" : "s", detail);
        else
            snprintf(why, WD_REASON_MAX, "download failed: %.200s", detail);
        return WD_PROTO_FETCH;
    }
}

/* A transfer ended: resumed, restarted, or over (done called). */
static void fetch_ended(wd_fetch *f, CURLcode r) {
    wd_daemon *d = f->d;
    char why[WD_REASON_MAX] = "";
    long code = 0;
    curl_easy_getinfo(f->easy, CURLINFO_RESPONSE_CODE, &code);
    if (f->cancelled) {
        fetch_free(f);
        return;
    }
    bool again = false;
    if (r != CURLE_OK && resumable(r) && f->len > 0 && f->resumes < WD_FETCH_MAX_RESUMES &&
        wd_now_ns() < f->deadline_ns) {
        f->resumes++;
        fprintf(stderr, "wasmd: %s: connection dropped after %zu bytes: resuming\n", f->url, f->len);
        again = true;
    } else if (r == CURLE_RANGE_ERROR && !f->restarted) {
        f->restarted = true;     /* the server ignores Range: from the beginning, once */
        f->len = 0;
        fprintf(stderr, "wasmd: %s: the server cannot resume: starting again\n", f->url);
        again = true;
    }
    if (again) {
        f->etag[0] = f->last_modified[0] = '\0';
        curl_multi_remove_handle(d->curlm, f->easy);
        easy_setup(f, f->len);
        if (curl_multi_add_handle(d->curlm, f->easy) == CURLM_OK)
            return;
        r = CURLE_FAILED_INIT;
    }
    wd_proto_status s = WD_PROTO_OK;
    if (r != CURLE_OK || code < 200 || code > 299)
        s = describe(f, r, code, why);
    wd_fetch_done_fn done = f->done;
    void *ud = f->ud;
    uint8_t *data = NULL;
    size_t len = 0;
    char etag[WD_FETCH_HEADER_MAX], last_modified[WD_FETCH_HEADER_MAX];
    snprintf(etag, sizeof etag, "%s", f->etag);
    snprintf(last_modified, sizeof last_modified, "%s", f->last_modified);
    wd_fetch_result res = { .http_status = code, .etag = etag, .last_modified = last_modified };
    if (code == 304)
        snprintf(why, WD_REASON_MAX, "%.150s: not modified", f->url);
    if (s == WD_PROTO_OK) {
        data = f->data;
        len = f->len;
        f->data = NULL;
        fprintf(stderr, "wasmd: fetched %s: %zu bytes\n", f->url, len);
    } else if (code != 304) {
        fprintf(stderr, "wasmd: fetching failed: %s\n", why);
    }
    fetch_free(f);
    if (done)
        done(ud, s, &res, why, data, len);
    else
        free(data);
}

/* Hands every finished transfer to fetch_ended. */
static void check_done(wd_daemon *d) {
    CURLMsg *msg;
    int left;
    while ((msg = curl_multi_info_read(d->curlm, &left))) {
        if (msg->msg != CURLMSG_DONE)
            continue;
        wd_fetch *f = NULL;
        CURLcode r = msg->data.result;
        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&f);
        if (f)
            fetch_ended(f, r);
    }
}

void wd_fetch_close(wd_daemon *d) {
    while (d->fetches) {
        wd_fetch *f = d->fetches;
        wd_fetch_done_fn done = f->done;
        void *ud = f->ud;
        fetch_free(f);
        if (done)
            done(ud, WD_PROTO_FETCH, &(wd_fetch_result){ .etag = "", .last_modified = "" },
                 "the daemon is shutting down", NULL, 0);
    }
    if (d->curlm) {
        curl_multi_cleanup(d->curlm);
        d->curlm = NULL;
        while (d->fetch_socks) {  /* sockets libcurl did not hand back (cached connections) */
            wd_fetch_sock *s = d->fetch_socks;
            d->fetch_socks = s->next;
            uv_poll_stop(&s->poll);
            uv_close((uv_handle_t *)&s->poll, sock_closed);
        }
        uv_timer_stop(&d->fetch_timer);
        uv_close((uv_handle_t *)&d->fetch_timer, NULL);
    }
}
