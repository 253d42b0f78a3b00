/*
 * fleet.c - fleet mode: the daemon follows a desired-state document (the
 * daemon config's fleet.url), a YAML list of the modules this gateway
 * should run (config.h: cfg_fleet), served by any static HTTPS server.
 *
 * Every fleet.interval_s the document is fetched with a conditional
 * request (If-None-Match / If-Modified-Since from the last answer's ETag
 * and Last-Modified).  A new document is verified (URL.minisig: required
 * with fleet.require_signature, else checked when present), parsed, and
 * the daemon converges on it, one module at a time:
 *   - a listed module that is missing, or whose deployed manifest or
 *     module hash differs, is downloaded and deployed like `wasmctl deploy
 *     URL` would (hash, signature, the wait for its start, the health gate
 *     and its rollback: deploy.c);
 *   - a module the fleet deployed before and the document no longer lists
 *     is removed;
 *   - a module of the modules directory (/etc/wasmd/modules.d) is never
 *     touched: a listed name that one of them uses is reported "conflict".
 * A poll that fails (server unreachable, bad document) changes nothing:
 * the modules keep running, and the error shows in `wasmctl fleet status`.
 * Modules that failed to converge are tried again at the next poll, even
 * when the document did not change.
 *
 * The names the fleet manages are kept in STATE_DIR/fleet.json (replaced
 * atomically), so that a removal also works after a restart.
 *
 * Ownership: d->fleet owns the document, the module states and its timer
 * (closed at shutdown, wd_fleet_close); downloads and deploys under way
 * point back to it and are cancelled or detached when it closes.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "daemon/internal.h"
#include "daemon/signature.h"

/* One module the fleet manages (listed now, or removed at the last convergence). */
typedef struct fleet_module {
    char name[CFG_MAX_NAME + 1];
    char state[WD_REASON_MAX];   /* "converged", "pending", "updating", "failed: ...", "conflict: ...", "removed" */
    bool listed;                 /* in the current document */
} fleet_module;

struct wd_fleet {
    wd_daemon *d;
    uv_timer_t timer;
    bool closing;
    /* The document. */
    cfg_fleet *doc;              /* the last good one, or NULL */
    char etag[WD_FETCH_HEADER_MAX], last_modified[WD_FETCH_HEADER_MAX]; /* of the document adopted */
    char new_etag[WD_FETCH_HEADER_MAX], new_last_modified[WD_FETCH_HEADER_MAX]; /* of the one being checked */
    uint8_t *doc_data;           /* a new document, while its signature is fetched */
    size_t doc_len;
    time_t last_poll;
    char result[WD_REASON_MAX];  /* of the last poll */
    /* The modules, and the convergence under way. */
    fleet_module *mods;
    size_t nmods;
    bool busy;                   /* a poll or a convergence is under way */
    size_t next;                 /* the document's entry to look at next */
    wd_fetch *fetch;             /* the download under way */
    wd_deploy *deploy;           /* the deploy under way */
    uint8_t *module_data;        /* a module downloaded, while its signature is fetched */
    size_t module_len;
};

static void converge_next(wd_fleet *f);
static void poll_start(wd_fleet *f);

/* ---- Module states and the managed names ---------------------------------- */

static fleet_module *module_get(wd_fleet *f, const char *name, bool create) {
    for (size_t i = 0; i < f->nmods; i++)
        if (strcmp(f->mods[i].name, name) == 0)
            return &f->mods[i];
    if (!create)
        return NULL;
    fleet_module *grown = realloc(f->mods, (f->nmods + 1) * sizeof *grown);
    if (!grown)
        return NULL;
    f->mods = grown;
    fleet_module *m = &f->mods[f->nmods++];
    memset(m, 0, sizeof *m);
    snprintf(m->name, sizeof m->name, "%s", name);
    snprintf(m->state, sizeof m->state, "pending");
    return m;
}

static void module_state(wd_fleet *f, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void module_state(wd_fleet *f, const char *name, const char *fmt, ...) {
    fleet_module *m = module_get(f, name, true);
    if (!m)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->state, sizeof m->state, fmt, ap);
    va_end(ap);
}

/* STATE_DIR/fleet.json into `path`. */
static bool state_path(wd_fleet *f, char *path, size_t size) {
    return (size_t)snprintf(path, size, "%s/fleet.json", f->d->cfg->state_dir) < size;
}

/* Saves the names the fleet manages (not the removed ones), atomically. */
static void names_save(wd_fleet *f) {
    char path[PATH_MAX], tmp[PATH_MAX + 8];
    if (!state_path(f, path, sizeof path))
        return;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    cJSON *o = cJSON_CreateObject(), *arr = o ? cJSON_AddArrayToObject(o, "names") : NULL;
    for (size_t i = 0; arr && i < f->nmods; i++)
        if (strcmp(f->mods[i].state, "removed") != 0)
            cJSON_AddItemToArray(arr, cJSON_CreateString(f->mods[i].name));
    char *text = o ? cJSON_PrintUnformatted(o) : NULL;
    cJSON_Delete(o);
    if (!text)
        return;
    (void)mkdir(f->d->cfg->state_dir, 0750);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd >= 0) {
        size_t len = strlen(text);
        bool ok = write(fd, text, len) == (ssize_t)len && fsync(fd) == 0;
        close(fd);
        if (!ok || rename(tmp, path) < 0)
            (void)unlink(tmp);
    }
    free(text);
}

/* The names saved by an earlier run: managed, state unknown until the first convergence. */
static void names_load(wd_fleet *f) {
    char path[PATH_MAX], text[64 * 1024];
    if (!state_path(f, path, sizeof path))
        return;
    FILE *fp = fopen(path, "re");
    if (!fp)
        return;
    size_t n = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    cJSON *o = cJSON_ParseWithLength(text, n);
    const cJSON *name;
    cJSON_ArrayForEach(name, cJSON_GetObjectItemCaseSensitive(o, "names"))
        if (cJSON_IsString(name) && strlen(name->valuestring) <= CFG_MAX_NAME)
            module_get(f, name->valuestring, true);
    cJSON_Delete(o);
}

/* ---- Converging ----------------------------------------------------------- */

/* The end of one module's update: its state, then the next module. */
static void update_done(void *ud, wd_proto_status s, wd_instance *in, const char *why) {
    wd_fleet *f = ud;
    f->deploy = NULL;
    const cfg_fleet_module *e = &f->doc->modules[f->next];
    if (s == WD_PROTO_OK)
        module_state(f, e->name, "converged");
    else
        module_state(f, e->name, "failed: %s", why);
    fprintf(stderr, "wasmd: fleet: %s: %s\n", e->name, module_get(f, e->name, true)->state);
    names_save(f);
    f->next++;
    converge_next(f);
}

static void no_note(void *ud, const char *what, const char *item) {
    fprintf(stderr, "wasmd: fleet: %s\n", item);
}

/* Deploys the downloaded module (owned) with its signature text (or NULL). */
static void update_deploy(wd_fleet *f, uint8_t *data, size_t len, const char *signature) {
    const cfg_fleet_module *e = &f->doc->modules[f->next];
    char file[CFG_MAX_NAME + 8], why[WD_REASON_MAX];
    snprintf(file, sizeof file, "%s.yaml", e->name);
    wd_deploy_opts opts = { .sha256 = e->sha256, .signature = signature };
    f->deploy = wd_daemon_deploy(f->d, file, e->manifest, data, len, &opts, no_note, update_done, f, why);
    if (!f->deploy) {
        free(data);
        update_done(f, WD_PROTO_INVALID, NULL, why);
    }
}

static void module_sig_done(void *ud, wd_proto_status s, const wd_fetch_result *res, const char *why, uint8_t *data,
                            size_t len) {
    wd_fleet *f = ud;
    f->fetch = NULL;
    uint8_t *module = f->module_data;
    f->module_data = NULL;
    if (s == WD_PROTO_OK && len <= WD_SIG_FILE_MAX && !memchr(data, '\0', len)) {
        char *text = malloc(len + 1);
        if (text) {
            memcpy(text, data, len);
            text[len] = '\0';
        }
        update_deploy(f, module, f->module_len, text);
        free(text);
    } else if (s != WD_PROTO_OK && res->http_status == 404) {
        update_deploy(f, module, f->module_len, NULL);
    } else {
        free(module);
        update_done(f, s == WD_PROTO_OK ? WD_PROTO_INVALID : s, NULL, s == WD_PROTO_OK ? "bad signature file" : why);
    }
    free(data);
}

static void module_done(void *ud, wd_proto_status s, const wd_fetch_result *res, const char *why, uint8_t *data,
                        size_t len) {
    wd_fleet *f = ud;
    f->fetch = NULL;
    if (s != WD_PROTO_OK) {
        update_done(f, s, NULL, why);
        return;
    }
    const cfg_fleet_module *e = &f->doc->modules[f->next];
    char url[CFG_MAX_URL + 16], err[WD_REASON_MAX];
    snprintf(url, sizeof url, "%s.minisig", e->url);
    f->module_data = data;
    f->module_len = len;
    f->fetch = wd_fetch_start(f->d, url, NULL, NULL, module_sig_done, f, err);
    if (!f->fetch) {
        free(f->module_data);
        f->module_data = NULL;
        update_done(f, WD_PROTO_FETCH, NULL, err);
    }
}

/* True when the deployed module `name` is the document's entry already (manifest text and module hash). */
static bool up_to_date(wd_fleet *f, const cfg_fleet_module *e) {
    const char *dir = f->d->deploy_dir;
    char path[PATH_MAX];
    if (!dir || (size_t)snprintf(path, sizeof path, "%s/%s/%s.yaml", dir, e->name, e->name) >= sizeof path)
        return false;
    FILE *fp = fopen(path, "re");
    if (!fp)
        return false;
    char *text = malloc(CFG_MAX_FILE_SIZE + 1);
    size_t n = text ? fread(text, 1, CFG_MAX_FILE_SIZE, fp) : 0;
    fclose(fp);
    bool same = text && n == strlen(e->manifest) && memcmp(text, e->manifest, n) == 0;
    free(text);
    if (!same)
        return false;
    cJSON *hist = wd_history_list(dir, e->name);
    const cJSON *h;
    cJSON_ArrayForEach(h, hist) {
        const cJSON *cur = cJSON_GetObjectItemCaseSensitive(h, "current");
        const cJSON *sha = cJSON_GetObjectItemCaseSensitive(h, "sha256");
        if (cJSON_IsTrue(cur) && cJSON_IsString(sha) && strcasecmp(sha->valuestring, e->sha256) == 0) {
            cJSON_Delete(hist);
            return true;
        }
    }
    cJSON_Delete(hist);
    return false;
}

/* True when a module of the modules directory (not deployed) has this name. */
static bool local_module(wd_fleet *f, const char *name) {
    wd_instance *in = wd_daemon_find(f->d, name);
    const char *dir = f->d->deploy_dir;
    size_t len = dir ? strlen(dir) : 0;
    return in && !(dir && strncmp(in->manifest->path, dir, len) == 0 && in->manifest->path[len] == '/');
}

/* Looks at the document's entries from f->next on: the first that needs an update starts it. */
static void converge_next(wd_fleet *f) {
    if (f->closing || f->d->shutting_down) {
        f->busy = false;
        return;
    }
    for (; f->doc && f->next < f->doc->nmodules; f->next++) {
        const cfg_fleet_module *e = &f->doc->modules[f->next];
        fleet_module *m = module_get(f, e->name, true);
        if (m)
            m->listed = true;
        if (local_module(f, e->name)) {
            module_state(f, e->name, "conflict: a module of the modules directory has this name");
            continue;
        }
        if (wd_daemon_find(f->d, e->name) && up_to_date(f, e)) {
            module_state(f, e->name, "converged");
            continue;
        }
        char why[WD_REASON_MAX];
        module_state(f, e->name, "updating");
        fprintf(stderr, "wasmd: fleet: updating %s from %s\n", e->name, e->url);
        f->fetch = wd_fetch_start(f->d, e->url, NULL, NULL, module_done, f, why);
        if (f->fetch)
            return;
        module_state(f, e->name, "failed: %s", why);
    }
    names_save(f);
    f->busy = false;
}

/* A new document: removes what it no longer lists, then updates what it lists, in its order. */
static void converge(wd_fleet *f) {
    for (size_t i = 0; i < f->nmods; i++) {
        fleet_module *m = &f->mods[i];
        bool listed = false;
        for (size_t k = 0; f->doc && k < f->doc->nmodules && !listed; k++)
            listed = strcmp(f->doc->modules[k].name, m->name) == 0;
        m->listed = listed;
        if (listed || strcmp(m->state, "removed") == 0)
            continue;
        char why[WD_REASON_MAX];
        if (!wd_daemon_find(f->d, m->name) || local_module(f, m->name)) {
            snprintf(m->state, sizeof m->state, "removed");
        } else if (wd_daemon_remove(f->d, m->name, why) == WD_PROTO_OK) {
            snprintf(m->state, sizeof m->state, "removed");
            fprintf(stderr, "wasmd: fleet: removed %s\n", m->name);
        } else {
            snprintf(m->state, sizeof m->state, "failed: cannot remove: %.200s", why);
        }
    }
    f->next = 0;
    converge_next(f);
}

/* ---- Polling the document ---------------------------------------------------- */

static void poll_end(wd_fleet *f, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void poll_end(wd_fleet *f, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(f->result, sizeof f->result, fmt, ap);
    va_end(ap);
    fprintf(stderr, "wasmd: fleet: %s\n", f->result);
    f->busy = false;
}

/* Verifies (text of the signature or NULL), parses and adopts the document in f->doc_data. */
static void doc_adopt(wd_fleet *f, const char *signature) {
    const cfg_daemon *cfg = f->d->cfg;
    char why[WD_SIG_WHY_MAX];
    uint8_t *data = f->doc_data;
    size_t len = f->doc_len;
    f->doc_data = NULL;
    if (!signature && (cfg->fleet_require_signature || cfg->require_signature)) {
        free(data);
        poll_end(f, "refused: the document is not signed (fleet.require_signature)");
        return;
    }
    if (signature) {
        wd_minisig sig;
        wd_pubkey *keys = calloc(WD_SIG_MAX_KEYS, sizeof *keys);
        int n = keys ? wd_sig_load_keys(cfg->trusted_keys_dir, keys, WD_SIG_MAX_KEYS) : -ENOMEM;
        const wd_pubkey *key = NULL;
        if (!wd_sig_parse(signature, &sig, why))
            ;
        else if (n <= 0)
            snprintf(why, sizeof why, "no trusted key in %.150s", cfg->trusted_keys_dir);
        else
            key = wd_sig_verify(&sig, keys, (size_t)n, data, len, why);
        free(keys);
        if (!key) {
            free(data);
            poll_end(f, "refused: the document's signature: %s", why);
            return;
        }
    }
    cfg_error err;
    cfg_fleet *doc = cfg_fleet_parse(cfg->fleet_url, (const char *)data, len, &err);
    free(data);
    if (!doc) {
        char msg[WD_REASON_MAX];
        cfg_error_format(&err, msg, sizeof msg);
        poll_end(f, "refused: %s", msg);
        return;
    }
    cfg_fleet_free(f->doc);
    f->doc = doc;
    snprintf(f->etag, sizeof f->etag, "%s", f->new_etag);
    snprintf(f->last_modified, sizeof f->last_modified, "%s", f->new_last_modified);
    snprintf(f->result, sizeof f->result, "new document, version %s%s", doc->version, signature ? " (signed)" : "");
    fprintf(stderr, "wasmd: fleet: %s\n", f->result);
    converge(f);
}

static void doc_sig_done(void *ud, wd_proto_status s, const wd_fetch_result *res, const char *why, uint8_t *data,
                         size_t len) {
    wd_fleet *f = ud;
    f->fetch = NULL;
    if (s == WD_PROTO_OK && len <= WD_SIG_FILE_MAX && !memchr(data, '\0', len)) {
        char *text = malloc(len + 1);
        if (text) {
            memcpy(text, data, len);
            text[len] = '\0';
        }
        doc_adopt(f, text);
        free(text);
    } else if (s != WD_PROTO_OK && res->http_status == 404) {
        doc_adopt(f, NULL);
    } else {
        free(f->doc_data);
        f->doc_data = NULL;
        poll_end(f, "the document's signature: %s", s == WD_PROTO_OK ? "not a signature file" : why);
    }
    free(data);
}

static void doc_done(void *ud, wd_proto_status s, const wd_fetch_result *res, const char *why, uint8_t *data,
                     size_t len) {
    wd_fleet *f = ud;
    f->fetch = NULL;
    f->last_poll = time(NULL);
    if (s != WD_PROTO_OK && res->http_status == 304) {
        snprintf(f->result, sizeof f->result, "not modified (version %s)", f->doc ? f->doc->version : "none");
        f->next = 0;
        converge_next(f);        /* modules that failed are tried again */
        return;
    }
    if (s != WD_PROTO_OK) {
        poll_end(f, "poll failed: %s", why);
        return;
    }
    /* Its validators count once it is adopted: a refused document is fetched again at the next poll. */
    snprintf(f->new_etag, sizeof f->new_etag, "%s", res->etag);
    snprintf(f->new_last_modified, sizeof f->new_last_modified, "%s", res->last_modified);
    f->doc_data = data;
    f->doc_len = len;
    char url[CFG_MAX_URL + 16], err[WD_REASON_MAX];
    snprintf(url, sizeof url, "%s.minisig", f->d->cfg->fleet_url);
    f->fetch = wd_fetch_start(f->d, url, NULL, NULL, doc_sig_done, f, err);
    if (!f->fetch) {
        free(f->doc_data);
        f->doc_data = NULL;
        poll_end(f, "the document's signature: %s", err);
    }
}

static void poll_start(wd_fleet *f) {
    if (f->busy || f->closing)
        return;
    char why[WD_REASON_MAX];
    f->busy = true;
    f->fetch = wd_fetch_start_cond(f->d, f->d->cfg->fleet_url, NULL, f->etag, f->last_modified, NULL, doc_done, f,
                                   why);
    if (!f->fetch) {
        f->last_poll = time(NULL);
        poll_end(f, "poll failed: %s", why);
    }
}

static void on_timer(uv_timer_t *t) {
    poll_start(t->data);
}

/* ---- Life ----------------------------------------------------------------- */

int wd_fleet_open(wd_daemon *d) {
    if (!d->cfg->fleet_url)
        return 0;
    wd_fleet *f = calloc(1, sizeof *f);
    if (!f)
        return -ENOMEM;
    f->d = d;
    snprintf(f->result, sizeof f->result, "not polled yet");
    uv_timer_init(d->loop, &f->timer);
    f->timer.data = f;
    names_load(f);
    d->fleet = f;
    /* The first poll at once, then every interval (a poll under way is not doubled). */
    uv_timer_start(&f->timer, on_timer, 0, (uint64_t)d->cfg->fleet_interval_s * 1000u);
    fprintf(stderr, "wasmd: fleet: following %s every %u s\n", d->cfg->fleet_url, d->cfg->fleet_interval_s);
    return 0;
}

static void fleet_closed(uv_handle_t *h) {
    wd_fleet *f = h->data;
    cfg_fleet_free(f->doc);
    free(f->mods);
    free(f->doc_data);
    free(f->module_data);
    free(f);
}

void wd_fleet_close(wd_daemon *d) {
    wd_fleet *f = d->fleet;
    if (!f)
        return;
    d->fleet = NULL;
    f->closing = true;
    if (f->fetch)
        wd_fetch_cancel(f->fetch);
    if (f->deploy)
        wd_deploy_detach(f->deploy);
    uv_timer_stop(&f->timer);
    uv_close((uv_handle_t *)&f->timer, fleet_closed);
}

void *wd_fleet_status(wd_daemon *d) {
    wd_fleet *f = d->fleet;
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "url", d->cfg->fleet_url ? d->cfg->fleet_url : "");
    if (!f)
        return o;
    cJSON_AddNumberToObject(o, "interval_s", d->cfg->fleet_interval_s);
    cJSON_AddNumberToObject(o, "last_poll", (double)f->last_poll);
    cJSON_AddStringToObject(o, "result", f->result);
    cJSON_AddStringToObject(o, "version", f->doc ? f->doc->version : "");
    cJSON_AddStringToObject(o, "etag", f->etag);
    cJSON_AddBoolToObject(o, "busy", f->busy);
    cJSON *arr = cJSON_AddArrayToObject(o, "modules");
    for (size_t i = 0; arr && i < f->nmods; i++) {
        cJSON *m = cJSON_CreateObject();
        cJSON_AddStringToObject(m, "name", f->mods[i].name);
        cJSON_AddStringToObject(m, "state", f->mods[i].state);
        cJSON_AddItemToArray(arr, m);
    }
    return o;
}
