/*
 * deploy.c - modules installed with `wasmctl deploy`: kept as state under
 * STATE_DIR/modules (cfg_daemon.state_dir, /var/lib/wasmd by default), apart
 * from the operator's manifests in the modules directory (/etc/wasmd/modules.d).
 *
 * A deployed module is a unit: its manifest and its module file, in one
 * hidden directory, published under the module's name by a symlink:
 *
 *   STATE_DIR/modules/ticker -> .unit-Q3xk9A
 *   STATE_DIR/modules/.unit-Q3xk9A/ticker.yaml
 *   STATE_DIR/modules/.unit-Q3xk9A/ticker.wasm
 *
 * Deploy writes and syncs a new unit directory, then renames a new symlink
 * over the old one: the only step that changes what runs is that rename,
 * which is atomic, so after a crash at any point the module is either the
 * old unit or the new one, whole.  Remove unlinks the symlink first.  Unit
 * directories no symlink points to (a deploy or remove that was cut short)
 * are deleted when the daemon starts (wd_deploy_load).
 *
 * For tests, WASMD_CRASH_POINT=deploy-N or remove-N kills the daemon with
 * SIGKILL at that step (crash_point below), as a power cut would.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include <cjson/cJSON.h>

#include "daemon/internal.h"
#include "daemon/signature.h"
#include "daemon/validate.h"

#define UNIT_PREFIX ".unit-"
#define LINK_PREFIX ".link-"

/* ---- Helpers ------------------------------------------------------------ */

/* Kills the daemon at step `step` of `op` when WASMD_CRASH_POINT says so (tests only). */
static void crash_point(const char *op, int step) {
    const char *want = getenv("WASMD_CRASH_POINT");
    char here[32];
    snprintf(here, sizeof here, "%s-%d", op, step);
    if (want && strcmp(want, here) == 0) {
        fprintf(stderr, "wasmd: WASMD_CRASH_POINT=%s: killing myself\n", here);
        raise(SIGKILL);
    }
}

/* Writes a whole file and flushes it to disk; 0 or negative errno (nothing left behind on failure). */
static int write_synced(const char *path, const void *data, size_t len) {
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return -errno;
    const char *p = data;
    int r = 0;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0) {
            r = -errno;
            break;
        }
        p += w;
        len -= (size_t)w;
    }
    if (r == 0 && fsync(fd) < 0)
        r = -errno;
    if (close(fd) < 0 && r == 0)
        r = -errno;
    if (r < 0)
        (void)unlink(path);
    return r;
}

static void fsync_dir(const char *dir) {
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

/* Deletes a unit directory and the files in it (units hold plain files only). */
static void remove_unit_dir(const char *path) {
    DIR *dir = opendir(path);
    if (dir) {
        struct dirent *de;
        while ((de = readdir(dir))) {
            if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
                (void)unlinkat(dirfd(dir), de->d_name, 0);
        }
        closedir(dir);
    }
    if (rmdir(path) < 0 && errno != ENOENT)
        fprintf(stderr, "wasmd: cannot delete %s: %s\n", path, strerror(errno));
}

static bool has_prefix(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* d->deploy_dir, made on first use: STATE_DIR/modules. NULL (with errno) when it cannot be made. */
static const char *deploy_dir(wd_daemon *d, bool create) {
    /* Absolute, as the manifest loader makes the paths it resolves. */
    char cwd[PATH_MAX] = "";
    const char *state = d->cfg->state_dir;
    if (!d->deploy_dir && state[0] != '/' && !getcwd(cwd, sizeof cwd))
        return NULL;
    if (!d->deploy_dir &&
        asprintf(&d->deploy_dir, "%s%s%s/modules", cwd, cwd[0] ? "/" : "", state) < 0) {
        d->deploy_dir = NULL;
        errno = ENOMEM;
        return NULL;
    }
    if (create) {
        if (mkdir(d->cfg->state_dir, 0750) < 0 && errno != EEXIST)
            return NULL;
        if (mkdir(d->deploy_dir, 0750) < 0 && errno != EEXIST)
            return NULL;
    }
    return d->deploy_dir;
}

/* ---- Loading ----------------------------------------------------------- */

/* Appends the manifests and errors of `from` to `to` (emptying `from`); a name already in `to` is an error. */
static int merge_sets(cfg_manifest_set *to, cfg_manifest_set *from) {
    cfg_manifest **items = realloc(to->items, (to->count + from->count + 1) * sizeof *items);
    if (!items)
        return -ENOMEM;
    to->items = items;
    cfg_error *errors = realloc(to->errors, (to->nerrors + from->nerrors + from->count + 1) * sizeof *errors);
    if (!errors)
        return -ENOMEM;
    to->errors = errors;
    for (size_t i = 0; i < from->nerrors; i++)
        to->errors[to->nerrors++] = from->errors[i];
    for (size_t i = 0; i < from->count; i++) {
        cfg_manifest *m = from->items[i];
        from->items[i] = NULL;
        const cfg_manifest *other = NULL;
        for (size_t j = 0; j < to->count && !other; j++)
            if (strcmp(to->items[j]->name, m->name) == 0)
                other = to->items[j];
        if (other) {
            cfg_error_set(&to->errors[to->nerrors++], CFG_ERR_DUP_NAME, m->path, 1, 1,
                          "deployed module '%s' is not run: %s has the same name", m->name, other->path);
            cfg_manifest_free(m);
        } else {
            to->items[to->count++] = m;
        }
    }
    from->count = from->nerrors = 0;
    return 0;
}

int wd_deploy_load(wd_daemon *d, cfg_manifest_set *set, bool clean) {
    const char *dir = deploy_dir(d, false);
    if (!dir)
        return -errno;
    DIR *dp = opendir(dir);
    if (!dp)
        return errno == ENOENT ? 0 : -errno;

    /* The unit directories the symlinks point to; anything else hidden is left over from a crash. */
    char **used = NULL;
    size_t nused = 0;
    int r = 0;
    struct dirent *de;
    while ((de = readdir(dp))) {
        if (de->d_name[0] == '.')
            continue;
        char link[PATH_MAX], target[NAME_MAX + 1];
        snprintf(link, sizeof link, "%s/%s", dir, de->d_name);
        ssize_t n = readlink(link, target, sizeof target - 1);
        if (n < 0 || (target[n] = '\0', !has_prefix(target, UNIT_PREFIX)) || strchr(target, '/')) {
            fprintf(stderr, "wasmd: %s: not a deployed module (ignored)\n", link);
            continue;
        }
        char **grown = realloc(used, (nused + 1) * sizeof *grown);
        if (!grown || !(grown[nused] = strdup(target))) {
            used = grown ? grown : used;
            r = -ENOMEM;
            break;
        }
        used = grown;
        nused++;
        cfg_manifest_set unit = { 0 };
        int e = cfg_manifest_dir_load(link, &unit);
        if (e < 0) {
            fprintf(stderr, "wasmd: %s: %s\n", link, strerror(-e));
        } else if (unit.count + unit.nerrors == 0) {
            fprintf(stderr, "wasmd: %s: no manifest in the unit\n", link);
        } else if ((r = merge_sets(set, &unit)) < 0) {
            cfg_manifest_set_clear(&unit);
            break;
        }
        cfg_manifest_set_clear(&unit);
    }
    if (clean && r == 0) {
        /* The history of a module whose link is gone (a remove cut short): it and its units go. */
        rewinddir(dp);
        while ((de = readdir(dp))) {
            const char *hname = de->d_name + strlen(".history-");
            size_t len = strlen(de->d_name);
            char link[PATH_MAX];
            struct stat st;
            if (!has_prefix(de->d_name, ".history-") || (len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0) ||
                (size_t)snprintf(link, sizeof link, "%s/%s", dir, hname) >= sizeof link || lstat(link, &st) == 0)
                continue;
            fprintf(stderr, "wasmd: deleting the history of %s, left by an interrupted remove\n", hname);
            wd_history_forget(dir, hname);
        }
        rewinddir(dp);
        while ((de = readdir(dp))) {
            size_t len = strlen(de->d_name);
            bool unit = has_prefix(de->d_name, UNIT_PREFIX), leftover = has_prefix(de->d_name, LINK_PREFIX) ||
                (has_prefix(de->d_name, ".history-") && len > 4 && strcmp(de->d_name + len - 4, ".tmp") == 0);
            for (size_t i = 0; unit && i < nused; i++)
                unit = strcmp(used[i], de->d_name) != 0;
            if (unit && wd_history_keeps(dir, de->d_name))
                unit = false;    /* a previous version kept for rollback */
            if (!unit && !leftover)
                continue;
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            fprintf(stderr, "wasmd: deleting %s, left by an interrupted deploy or remove\n", path);
            if (leftover)
                (void)unlink(path);
            else
                remove_unit_dir(path);
        }
        fsync_dir(dir);
    }
    closedir(dp);
    for (size_t i = 0; i < nused; i++)
        free(used[i]);
    free(used);
    return r;
}

/* ---- Deploy ------------------------------------------------------------ */

/*
 * A deploy in two halves.  The work that takes time in proportion to the
 * module's size (decoding, validating and translating it, parsing the
 * manifest, writing and syncing both) runs in libuv's thread pool
 * (deploy_work), touching nothing of the daemon's; the loop then checks the
 * name against the running instances, switches the symlink and starts the
 * module (deploy_done).  Problems found in the pool are kept as notes and
 * handed to the caller's note function on the loop.
 */
struct wd_deploy {
    uv_work_t req;
    uv_timer_t timer;            /* the outcome: at WD_DEPLOY_START_MS, or at once when decided; the
                                    deploy is freed in its close callback */
    wd_daemon *d;
    wd_note_fn note;             /* NULL once detached: the client went away */
    wd_deploy_fn done;
    void *ud;
    /* Inputs, owned. */
    char *file, *base, *manifest, *dir;
    uint8_t *module;
    size_t manifest_len, module_len;
    char sha256[65];             /* what the module's SHA-256 must be (hex), or "" */
    char *signature;             /* a minisign signature's text, or NULL */
    wd_minisig sig;              /* deploy_work: it, parsed and verified */
    bool allow_downgrade;
    char signer[64];             /* deploy_work: the key that signed it, or "" */
    char version[64];            /* deploy_work: the signed version, or "" */
    /* Results of deploy_work. */
    wd_proto_status status;
    char why[WD_REASON_MAX];
    char **notes;
    size_t nnotes;
    cfg_manifest *m;             /* parsed where it was written, in the unit */
    char unit[PATH_MAX];         /* the new unit directory, while it exists and is not published */
    bool have_unit;
    /* After the switch, until the outcome (deploy_outcome). */
    struct wd_deploy *next;      /* in d->deploys while waiting */
    bool waiting;
    bool decided, started;       /* deploy_watch saw the module start (or fail: why says how) */
    bool settling;               /* started: now it must keep running for WD_DEPLOY_SETTLE_MS */
    uint64_t settle_slices;      /* its slices when it started: it must have run one more since */
    wd_instance *in;             /* the new run, while it exists */
    char name[CFG_MAX_NAME + 1];
    char link[PATH_MAX];         /* STATE/modules/NAME */
    char new_unit[NAME_MAX + 1]; /* what it points to now */
    char old_unit[NAME_MAX + 1]; /* what it pointed to before, when had_old */
    bool had_old;
    bool old_active;             /* the previous version was running (or due to restart) */
    /* History and the health gate (history.c). */
    char module_sha[65];         /* deploy_work: the module's SHA-256 (hex) */
    const char *source;          /* "deploy" or "rollback" */
    bool keep_new_unit;          /* a rollback's target: a kept unit, never deleted when it fails */
    bool answered;               /* started and answered: now in its health window */
    bool health_failed;          /* it failed within the window: roll back */
    int history_id;              /* its history entry */
    wd_instance *restored;       /* rollback(): the previous version, running again */
};

/* Keeps a problem for the caller's note function: `prefix` then `msg`. */
static void add_note(wd_deploy *j, const char *prefix, const char *msg) {
    char **notes = realloc(j->notes, (j->nnotes + 1) * sizeof *notes);
    if (!notes)
        return;
    j->notes = notes;
    if (asprintf(&j->notes[j->nnotes], "%s%s", prefix, msg) >= 0)
        j->nnotes++;
}

/* A problem of the module's imports (wd_validate_*'s note function). */
static void keep_note(void *ud, const char *msg) {
    add_note(ud, "module: ", msg);
}

static void deploy_free(wd_deploy *j) {
    if (j->have_unit)
        remove_unit_dir(j->unit);
    cfg_manifest_free(j->m);
    for (size_t i = 0; i < j->nnotes; i++)
        free(j->notes[i]);
    free(j->notes);
    free(j->file);
    free(j->base);
    free(j->manifest);
    free(j->dir);
    free(j->module);
    free(j->signature);
    free(j);
}

/* Appends to j->why (cut short when full: it is a message). */
static void why_append(wd_deploy *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why_append(wd_deploy *j, const char *fmt, ...) {
    size_t used = strlen(j->why);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(j->why + used, WD_REASON_MAX - used, fmt, ap);
    va_end(ap);
}

/* Sets j->why (cut short when full). */
#define why_set(j, ...) ((j)->why[0] = '\0', why_append((j), __VA_ARGS__))

#define SIGNATURE_FILE "signature.minisig" /* a unit's signature, beside its manifest and module */

/*
 * The signature's cryptography (thread pool), before the module is even
 * decoded: it must parse and verify against a trusted key (read at each
 * deploy, so adding or removing a .pub file needs no reload).  True when
 * it does; else j->why says why not.
 */
static bool verify_signature(wd_deploy *j) {
    const cfg_daemon *cfg = j->d->cfg;
    char sigwhy[WD_SIG_WHY_MAX];
    if (!wd_sig_parse(j->signature, &j->sig, sigwhy)) {
        why_set(j, "signature: %s", sigwhy);
        return false;
    }
    wd_pubkey *keys = calloc(WD_SIG_MAX_KEYS, sizeof *keys);
    int n = keys ? wd_sig_load_keys(cfg->trusted_keys_dir, keys, WD_SIG_MAX_KEYS) : -ENOMEM;
    if (n <= 0) {
        why_set(j, "signed, but there is no trusted key in %s%s", cfg->trusted_keys_dir,
                n < 0 ? " (cannot read it)" : "");
        free(keys);
        return false;
    }
    const wd_pubkey *key = wd_sig_verify(&j->sig, keys, (size_t)n, j->module, j->module_len, sigwhy);
    if (key)
        snprintf(j->signer, sizeof j->signer, "%s", key->name);
    else
        why_set(j, "signature refused: %s", sigwhy);
    free(keys);
    return key != NULL;
}

/*
 * The rules that need the manifest (thread pool): a verified signature's
 * trusted comment must name this module and a version not older than the
 * installed one's (unless allow_downgrade); no signature at all is refused
 * under require_signature.  True when the deploy may go on; else j->why
 * and j->status say why not.
 */
static bool check_signature(wd_deploy *j) {
    const cfg_daemon *cfg = j->d->cfg;
    char sigwhy[WD_SIG_WHY_MAX];
    const char *name = j->m->name;
    if (!j->signature) {
        if (cfg->require_signature || j->m->require_signature) {
            why_set(j, "%s: unsigned module refused: %s requires a signature by a trusted key", name,
                    cfg->require_signature ? "the daemon config" : "its manifest");
            return false;
        }
        return true;
    }
    char signed_name[CFG_MAX_NAME + 1];
    if (!wd_sig_comment_field(j->sig.trusted, "module", signed_name, sizeof signed_name) ||
        strcmp(signed_name, name) != 0) {
        why_set(j, "%s: signature refused: its trusted comment (%s) does not name module:%s", name, j->sig.trusted,
                name);
        return false;
    }
    if (!wd_sig_comment_field(j->sig.trusted, "version", j->version, sizeof j->version) ||
        !wd_sig_version_valid(j->version)) {
        why_set(j, "%s: signature refused: its trusted comment (%s) has no version:N[.N...]", name, j->sig.trusted);
        return false;
    }
    /* Anti-rollback: the installed unit's signed version, if any. */
    char path[PATH_MAX], text[WD_SIG_FILE_MAX + 1], old[64];
    wd_minisig installed;
    size_t got = 0;
    if ((size_t)snprintf(path, sizeof path, "%s/%s/" SIGNATURE_FILE, j->dir, name) < sizeof path) {
        FILE *fp = fopen(path, "re");
        got = fp ? fread(text, 1, sizeof text - 1, fp) : 0;
        if (fp)
            fclose(fp);
    }
    text[got] = '\0';
    if (got > 0 && wd_sig_parse(text, &installed, sigwhy) &&
        wd_sig_comment_field(installed.trusted, "version", old, sizeof old) && wd_sig_version_valid(old) &&
        wd_sig_version_compare(j->version, old) < 0) {
        if (!j->allow_downgrade) {
            why_set(j, "%s: version %s is older than the installed version %s: refused (wasmctl deploy "
                    "--allow-downgrade to install it anyway)", name, j->version, old);
            j->status = WD_PROTO_CONFLICT;
            return false;
        }
        fprintf(stderr, "wasmd: %s: downgrade from version %s to %s allowed by the operator\n", name, old, j->version);
    }
    return true;
}

/* The thread pool's half: validate, write, sync.  j->status says how it went. */
static void deploy_work(uv_work_t *req) {
    wd_deploy *j = wd_container_of(req, wd_deploy, req);
    char *why = j->why;
    char tmp_manifest[PATH_MAX];
    wr_module *mod = NULL;
    wr_error werr = { 0 };
    cfg_error cerr = { 0 };
    j->status = WD_PROTO_INVALID;

    /* Its hash, for the history, and checked when the manifest or the caller names one. */
    uint8_t digest[crypto_hash_sha256_BYTES];
    char hex[2 * crypto_hash_sha256_BYTES + 1];
    crypto_hash_sha256(digest, j->module, j->module_len);
    sodium_bin2hex(hex, sizeof hex, digest, sizeof digest);
    snprintf(j->module_sha, sizeof j->module_sha, "%s", hex);
    if (j->sha256[0]) {
        if (strcasecmp(hex, j->sha256) != 0) {
            snprintf(why, WD_REASON_MAX, "module: SHA-256 mismatch: expected %s, got %s", j->sha256, hex);
            return;
        }
    }

    /* Its signature, before its bytes are decoded. */
    if (j->signature && !verify_signature(j))
        return;

    /* The module first: nothing touches the disk for a module that would not run. */
    if (wr_module_load(j->module, j->module_len, &mod, &werr) != WR_OK) {
        snprintf(why, WD_REASON_MAX, "module: %s%s%s", wr_status_message(werr.status), werr.detail[0] ? ": " : "",
                 werr.detail);
        return;
    }
    int problems = wd_validate_imports(mod, keep_note, j);
    if (problems != 0) {
        wr_module_free(mod);
        snprintf(why, WD_REASON_MAX, problems < 0 ? "out of memory" : "module: %d import%s not satisfied", problems,
                 problems == 1 ? "" : "s");
        j->status = problems < 0 ? WD_PROTO_INTERNAL : WD_PROTO_INVALID;
        return;
    }

    /* The new unit: a hidden directory beside the symlinks (same file system, so the rename is atomic). */
    if ((size_t)snprintf(j->unit, sizeof j->unit, "%s/" UNIT_PREFIX "XXXXXX", j->dir) >= sizeof j->unit ||
        !mkdtemp(j->unit)) {
        snprintf(why, WD_REASON_MAX, "%.150s: cannot create a directory: %s", j->dir, strerror(errno));
        j->status = WD_PROTO_INTERNAL;
        goto out;
    }
    j->have_unit = true;
    int r = -ENAMETOOLONG;
    if ((size_t)snprintf(tmp_manifest, sizeof tmp_manifest, "%s/%s", j->unit, j->base) < sizeof tmp_manifest)
        r = write_synced(tmp_manifest, j->manifest, j->manifest_len);
    if (r < 0) {
        snprintf(why, WD_REASON_MAX, "cannot write %.180s: %.60s", tmp_manifest, strerror(-r));
        j->status = WD_PROTO_INTERNAL;
        goto out;
    }
    crash_point("deploy", 1);
    j->m = cfg_manifest_load(tmp_manifest, &cerr);
    if (!j->m) {
        snprintf(cerr.file, sizeof cerr.file, "%s", j->file);
        char buf[1024];
        cfg_error_format(&cerr, buf, sizeof buf);
        add_note(j, "", buf);
        snprintf(why, WD_REASON_MAX, "%.250s", buf);
        goto out;
    }
    if (wd_validate_capabilities(mod, j->m, keep_note, j) > 0) {
        snprintf(why, WD_REASON_MAX, "%.180s: the manifest does not grant a capability the module needs", j->file);
        goto out;
    }
    if (!check_signature(j))
        goto out;
    if (j->signature) {
        char sig_path[PATH_MAX];
        r = -ENAMETOOLONG;
        if ((size_t)snprintf(sig_path, sizeof sig_path, "%s/" SIGNATURE_FILE, j->unit) < sizeof sig_path)
            r = write_synced(sig_path, j->signature, strlen(j->signature));
        if (r < 0) {
            snprintf(why, WD_REASON_MAX, "cannot write %.180s: %.60s", sig_path, strerror(-r));
            j->status = WD_PROTO_INTERNAL;
            goto out;
        }
    }
    const char *slash = strrchr(j->m->module, '/');
    size_t ulen = strlen(j->unit);
    if (!slash || (size_t)(slash - j->m->module) != ulen || strncmp(j->m->module, j->unit, ulen) != 0 ||
        slash[1] == '.' || strcmp(slash + 1, j->base) == 0) {
        snprintf(why, WD_REASON_MAX,
                 "%.150s: module: must be a plain file name, not the manifest's: deploy puts the module beside the "
                 "manifest",
                 j->file);
        goto out;
    }
    /* The module file, then the unit directory itself, on disk. */
    if ((r = write_synced(j->m->module, j->module, j->module_len)) < 0) {
        snprintf(why, WD_REASON_MAX, "cannot write %.180s: %.60s", j->m->module, strerror(-r));
        j->status = WD_PROTO_INTERNAL;
        goto out;
    }
    fsync_dir(j->unit);
    crash_point("deploy", 2);
    j->status = WD_PROTO_OK;
out:
    wr_module_free(mod);
}

/* True when `in` is a deployed module (its manifest is reached through a unit's symlink). */
static bool is_deployed(wd_daemon *d, const wd_instance *in) {
    const char *dir = deploy_dir(d, false);
    size_t len = dir ? strlen(dir) : 0;
    return dir && strncmp(in->manifest->path, dir, len) == 0 && in->manifest->path[len] == '/';
}

/* True for a state in which the run exists or is due (the previous version "was running"). */
static bool was_active(const wd_instance *in) {
    return in->state == WD_STATE_STARTING || in->state == WD_STATE_RUNNING || in->state == WD_STATE_WAITING ||
           in->state == WD_STATE_STOPPING || in->restart_pending;
}

static void health_cancel(wd_deploy *j);

/* The deploy of `name` waiting for its outcome, or NULL. */
static wd_deploy *deploy_waiting(wd_daemon *d, const char *name) {
    for (wd_deploy *j = d->deploys; j; j = j->next)
        if (strcmp(j->name, name) == 0)
            return j;
    return NULL;
}

/* The loop's half: publish the unit and start it (j->status and why say how it went). */
static wd_instance *deploy_switch(wd_deploy *j) {
    wd_daemon *d = j->d;
    char *why = j->why;
    char tmp_link[PATH_MAX], final_manifest[PATH_MAX];
    const char *dir = j->dir, *name = j->m->name;
    cfg_error cerr = { 0 };

    j->status = WD_PROTO_INTERNAL;
    if (d->shutting_down) {
        snprintf(why, WD_REASON_MAX, "the daemon is shutting down");
        return NULL;
    }
    snprintf(j->name, sizeof j->name, "%s", name);
    if ((size_t)snprintf(j->link, sizeof j->link, "%s/%s", dir, name) >= sizeof j->link ||
        (size_t)snprintf(tmp_link, sizeof tmp_link, "%s/" LINK_PREFIX "%s", dir, name) >= sizeof tmp_link ||
        (size_t)snprintf(final_manifest, sizeof final_manifest, "%s/%s", j->link, j->base) >= sizeof final_manifest) {
        snprintf(why, WD_REASON_MAX, "%.150s: path too long", dir);
        j->status = WD_PROTO_INVALID;
        return NULL;
    }
    for (wd_instance *in = d->instances; in; in = in->next) {
        if (strcmp(in->name, name) == 0 && !is_deployed(d, in)) {
            snprintf(why, WD_REASON_MAX, "a module named %.64s already comes from %.150s", name, in->manifest->path);
            j->status = WD_PROTO_CONFLICT;
            return NULL;
        }
    }
    wd_deploy *waiting = deploy_waiting(d, name);
    if (waiting && waiting->answered) {
        health_cancel(waiting);  /* a new version replaces the one in its health window */
    } else if (waiting) {
        snprintf(why, WD_REASON_MAX, "another deploy of %.64s is waiting for it to start", name);
        j->status = WD_PROTO_CONFLICT;
        return NULL;
    }

    /* The switch: a new symlink renamed over the old one.  The old unit stays until the new one has started. */
    ssize_t oldn = readlink(j->link, j->old_unit, sizeof j->old_unit - 1);
    j->had_old = oldn > 0 && (j->old_unit[oldn] = '\0', has_prefix(j->old_unit, UNIT_PREFIX));
    snprintf(j->new_unit, sizeof j->new_unit, "%s", strrchr(j->unit, '/') + 1);
    (void)unlink(tmp_link);
    if (symlink(j->new_unit, tmp_link) < 0) {
        snprintf(why, WD_REASON_MAX, "cannot create %.170s: %.60s", tmp_link, strerror(errno));
        return NULL;
    }
    crash_point("deploy", 3);
    if (rename(tmp_link, j->link) < 0) {
        snprintf(why, WD_REASON_MAX, "cannot rename %.170s: %.60s", tmp_link, strerror(errno));
        (void)unlink(tmp_link);
        return NULL;
    }
    j->have_unit = false;
    fsync_dir(dir);
    crash_point("deploy", 4);

    /* Now the manifest as the daemon will read it from now on (through the symlink). */
    cfg_manifest *m = cfg_manifest_load(final_manifest, &cerr);
    if (!m) {
        cfg_error_format(&cerr, why, WD_REASON_MAX);
        return NULL;
    }
    wd_instance *old = wd_daemon_find(d, m->name);
    j->old_active = old && was_active(old);
    if (old)
        wd_daemon_drop(d, old);
    wd_instance *in = wd_daemon_start_manifest(d, m);
    if (!in) {
        snprintf(why, WD_REASON_MAX, "out of memory");
        return NULL;
    }
    fprintf(stderr, "wasmd: deployed %s (%s), waiting for it to start\n", in->name, final_manifest);
    j->status = WD_PROTO_OK;
    return in;
}

/* Calls the caller's note and done functions, unless it went away. */
static void deploy_reply(wd_deploy *j, wd_instance *in) {
    if (!j->note)
        return;
    for (size_t i = 0; i < j->nnotes; i++)
        j->note(j->ud, WD_F_ERRORS, j->notes[i]);
    j->done(j->ud, j->status, in, j->why);
}

static void deploy_closed(uv_handle_t *h) {
    deploy_free(h->data);
}

/* The end of a deploy: it is freed once its timer has closed. */
static void deploy_end(wd_deploy *j) {
    uv_close((uv_handle_t *)&j->timer, deploy_closed);
}

/*
 * Started: a command has entered _start (its start section, if any, ran);
 * a reactor's start-up calls (_initialize, wasmd_init) have returned.  The
 * deploy then waits WD_DEPLOY_SETTLE_MS more, and for one more slice, so
 * that a module failing in its first moments (a trap in _start) fails it.
 */
static bool run_started(const wd_instance *in) {
    if (!in->exec || in->boot_next < in->nboot)
        return false;
    return !in->reactor ||
           (in->call != WD_CALL_START_SECTION && in->call != WD_CALL_INITIALIZE && in->call != WD_CALL_INIT);
}

static void deploy_outcome(uv_timer_t *t);
static bool health_watch_start(wd_deploy *j);

/* The new run changed state (instance.c's watch): decides the deploy when it started, failed or went away. */
static void deploy_watch(wd_instance *in, void *ud) {
    wd_deploy *j = ud;
    bool ok;
    if (in->closing) {
        ok = false;
        snprintf(j->why, WD_REASON_MAX, "%s was %s before it started", j->name,
                 j->d->shutting_down ? "stopped: the daemon is shutting down" : "removed");
    } else if (in->state == WD_STATE_FAILED || in->state == WD_STATE_CRASH_LOOPING) {
        ok = false;
        j->why[0] = '\0';
        why_append(j, "%s failed to start: %s", j->name, in->reason);
    } else if (in->state == WD_STATE_STOPPED) {
        ok = true;               /* a command that exited 0 (a non-zero exit is a failure), or stopped by a user */
    } else if ((in->state == WD_STATE_RUNNING || in->state == WD_STATE_WAITING) && run_started(in)) {
        if (!j->settling) {
            /* Started: it has WD_DEPLOY_SETTLE_MS to fail (a trap in its first slices) before the deploy succeeds. */
            j->settling = true;
            j->settle_slices = in->slices;
            uv_timer_start(&j->timer, deploy_outcome, WD_DEPLOY_SETTLE_MS, 0);
        }
        return;
    } else {
        return;
    }
    in->watch = NULL;
    in->watch_ud = NULL;
    if (in->closing)
        j->in = NULL;
    j->decided = true;
    j->started = ok;
    uv_timer_start(&j->timer, deploy_outcome, 0, 0); /* decided on the next turn, outside the instance's code */
}

/* The new version failed: the previous one back in place (or nothing), and the new unit deleted. */
static void rollback(wd_deploy *j) {
    wd_daemon *d = j->d;
    char tmp_link[PATH_MAX], unit[PATH_MAX];
    if (j->in) {
        j->in->watch = NULL;
        wd_daemon_drop(d, j->in);
        j->in = NULL;
    }
    snprintf(tmp_link, sizeof tmp_link, "%s/" LINK_PREFIX "%s", j->dir, j->name);
    snprintf(unit, sizeof unit, "%s/%s", j->dir, j->new_unit);
    if (j->had_old) {
        (void)unlink(tmp_link);
        if (symlink(j->old_unit, tmp_link) < 0 || (crash_point("rollback", 1), rename(tmp_link, j->link) < 0)) {
            why_append(j, "; cannot restore the previous version: %s",
                     strerror(errno));
            (void)unlink(tmp_link);
            fprintf(stderr, "wasmd: %s\n", j->why);
            return;
        }
    } else if (unlink(j->link) < 0 && errno != ENOENT) {
        why_append(j, "; cannot delete %s: %s", j->link, strerror(errno));
        fprintf(stderr, "wasmd: %s\n", j->why);
        return;
    }
    fsync_dir(j->dir);
    crash_point("rollback", 2);
    if (!j->keep_new_unit) {
        remove_unit_dir(unit);
        fsync_dir(j->dir);
    }
    if (!j->had_old) {
        why_append(j, "; nothing was installed");
        return;
    }
    /* The previous version, as it was: running again if it ran. */
    cfg_manifest_set set = { 0 };
    cfg_manifest *m = NULL;
    if (cfg_manifest_dir_load(j->link, &set) == 0) {
        for (size_t i = 0; i < set.count && !m; i++) {
            if (strcmp(set.items[i]->name, j->name) == 0) {
                m = set.items[i];
                set.items[i] = NULL;
            }
        }
    }
    cfg_manifest_set_clear(&set);
    if (m && !wd_daemon_find(d, j->name) && (j->restored = wd_daemon_add_manifest(d, m, j->old_active)))
        why_append(j, "; the previous version is back%s",
                 j->old_active ? " and running" : "");
    else
        why_append(j, "; the previous version is back on disk but could not be loaded");
}

static void deploy_unlink(wd_deploy *j) {
    for (wd_deploy **p = &j->d->deploys; *p; p = &(*p)->next) {
        if (*p == j) {
            *p = j->next;
            break;
        }
    }
    j->waiting = false;
}

/* The end of a health window, or its failure: roll back, then the previous units are pruned. */
static void health_outcome(uv_timer_t *t) {
    wd_deploy *j = t->data;
    wd_daemon *d = j->d;
    deploy_unlink(j);
    if (j->in) {
        j->in->watch = NULL;
        j->in->watch_ud = NULL;
    }
    if (j->health_failed && j->in && !d->shutting_down) {
        j->why[0] = '\0';
        why_append(j, "%s version %s failed within %u s of its %s: %s", j->name, j->new_unit, d->cfg->health_window_s,
                   j->source, j->in->reason);
        char outcome[WD_REASON_MAX];
        snprintf(outcome, sizeof outcome, "rolled back: %.200s", j->in->reason);
        rollback(j);
        wd_history_set_outcome(j->dir, j->name, j->history_id, outcome, !j->keep_new_unit);
        fprintf(stderr, "wasmd: automatic rollback: %s\n", j->why);
        if (j->restored) {
            snprintf(j->restored->deploy_note, sizeof j->restored->deploy_note, "%s", j->why);
            wd_instance_event(j->restored, "automatic rollback: %s", j->why);
        }
    }
    wd_history_prune(d, j->dir, j->name, NULL);
    deploy_end(j);
}

/* The new version in its health window (instance.c's watch): a failure rolls it back. */
static void health_watch(wd_instance *in, void *ud) {
    wd_deploy *j = ud;
    if (in->closing) {
        j->in = NULL;            /* removed or replaced meanwhile: nothing to watch */
    } else if (in->state == WD_STATE_FAILED || in->state == WD_STATE_CRASH_LOOPING) {
        j->health_failed = true;
    } else {
        return;
    }
    in->watch = NULL;
    in->watch_ud = NULL;
    uv_timer_start(&j->timer, health_outcome, 0, 0);
}

/*
 * After an answered deploy or rollback that replaced a version: watch the
 * new one for health_window_s (the replaced unit is kept meanwhile).  True
 * when the window is on.
 */
static bool health_watch_start(wd_deploy *j) {
    wd_daemon *d = j->d;
    if (!j->had_old || !j->in || d->cfg->health_window_s == 0 || d->shutting_down)
        return false;
    j->answered = true;
    j->next = d->deploys;
    d->deploys = j;
    j->waiting = true;
    j->in->watch = health_watch;
    j->in->watch_ud = j;
    uv_timer_start(&j->timer, health_outcome, (uint64_t)d->cfg->health_window_s * 1000u, 0);
    return true;
}

/* Ends a health window early (the module is redeployed, rolled back or removed): no rollback. */
static void health_cancel(wd_deploy *j) {
    deploy_unlink(j);
    if (j->in) {
        j->in->watch = NULL;
        j->in->watch_ud = NULL;
    }
    uv_timer_stop(&j->timer);
    deploy_end(j);
}

/* The outcome of a switched deploy: keep the new version (the old unit goes), or roll back. */
static void deploy_outcome(uv_timer_t *t) {
    wd_deploy *j = t->data;
    wd_daemon *d = j->d;
    if (!j->decided && j->settling && j->in) {
        if (j->in->slices == j->settle_slices && !d->shutting_down) {
            uv_timer_start(&j->timer, deploy_outcome, WD_DEPLOY_SETTLE_MS, 0); /* not run yet (a busy loop) */
            return;
        }
        j->in->watch = NULL;
        j->in->watch_ud = NULL;
        j->decided = j->started = true;
    }
    deploy_unlink(j);
    if (!j->decided) {
        if (j->in) {
            j->in->watch = NULL;
            j->in->watch_ud = NULL;
        }
        snprintf(j->why, WD_REASON_MAX, "%s did not start within %u s (state %s)", j->name,
                 WD_DEPLOY_START_MS / 1000, j->in ? wd_state_name(j->in->state) : "gone");
    }
    if (j->decided && j->started && j->in) {
        wd_history_entry h = { .unit = j->new_unit, .version = j->version, .sha256 = j->module_sha,
                               .signer = j->signer, .source = j->source, .outcome = "started" };
        j->history_id = wd_history_add(d, j->dir, j->name, &h);
        crash_point("deploy", 5);
        if (j->signer[0])
            fprintf(stderr, "wasmd: deployed %s version %s signed by %s: %s\n", j->name, j->version, j->signer,
                    wd_state_name(j->in->state));
        else
            fprintf(stderr, "wasmd: deployed %s (unsigned): %s\n", j->name, wd_state_name(j->in->state));
        j->status = WD_PROTO_OK;
        deploy_reply(j, j->in);
        j->note = NULL; /* answered: nothing more goes to the caller */
        if (health_watch_start(j)) {
            wd_history_prune(d, j->dir, j->name, j->old_unit); /* the replaced unit stays for the window */
            return;
        }
        wd_history_prune(d, j->dir, j->name, NULL);
    } else {
        j->status = WD_PROTO_FAILED;
        if (!d->shutting_down)
            rollback(j);
        if (j->had_old) {
            char outcome[WD_REASON_MAX];
            snprintf(outcome, sizeof outcome, "failed to start: %.200s", j->why);
            wd_history_entry h = { .unit = "", .version = j->version, .sha256 = j->module_sha, .signer = j->signer,
                                   .source = j->source, .outcome = outcome };
            wd_history_add(d, j->dir, j->name, &h);
        }
        fprintf(stderr, "wasmd: %s of %s failed: %s\n", j->source, j->name, j->why);
        deploy_reply(j, NULL);
    }
    deploy_end(j);
}

static void deploy_done(uv_work_t *req, int status) {
    wd_deploy *j = wd_container_of(req, wd_deploy, req);
    wd_instance *in = NULL;
    if (j->status == WD_PROTO_OK)
        in = deploy_switch(j);
    if (!in) {
        deploy_reply(j, NULL);
        deploy_end(j);
        return;
    }
    /* Switched: the answer waits for the module to start (deploy_watch) or fail, within WD_DEPLOY_START_MS. */
    j->in = in;
    j->waiting = true;
    j->next = j->d->deploys;
    j->d->deploys = j;
    in->watch = deploy_watch;
    in->watch_ud = j;
    uv_timer_start(&j->timer, deploy_outcome, WD_DEPLOY_START_MS, 0);
    deploy_watch(in, j);
}

wd_deploy *wd_daemon_deploy(wd_daemon *d, const char *file, const char *manifest, uint8_t *module, size_t module_len,
                            const wd_deploy_opts *opts, wd_note_fn note, wd_deploy_fn done, void *ud, char *why) {
    const char *sha256 = opts ? opts->sha256 : NULL;
    if (sha256 && (strlen(sha256) != 64 || strspn(sha256, "0123456789abcdefABCDEF") != 64)) {
        snprintf(why, WD_REASON_MAX, "sha256: expected 64 hex digits");
        return NULL;
    }
    const char *base = strrchr(file, '/') ? strrchr(file, '/') + 1 : file;
    size_t blen = strlen(base);
    if (blen <= 5 || strcmp(base + blen - 5, ".yaml") != 0 || base[0] == '.') {
        snprintf(why, WD_REASON_MAX, "%.180s: a manifest's file name ends in .yaml and does not start with '.'", file);
        return NULL;
    }
    const char *dir = deploy_dir(d, true);
    if (!dir) {
        snprintf(why, WD_REASON_MAX, "%.150s/modules: cannot create it: %s", d->cfg->state_dir, strerror(errno));
        return NULL;
    }
    wd_deploy *j = calloc(1, sizeof *j);
    if (!j) {
        snprintf(why, WD_REASON_MAX, "out of memory");
        return NULL;
    }
    uv_timer_init(d->loop, &j->timer);
    j->timer.data = j;
    if (!(j->file = strdup(file)) || !(j->base = strdup(base)) || !(j->manifest = strdup(manifest)) ||
        !(j->dir = strdup(dir))) {
        deploy_end(j);
        snprintf(why, WD_REASON_MAX, "out of memory");
        return NULL;
    }
    j->d = d;
    j->note = note;
    j->done = done;
    j->ud = ud;
    j->source = "deploy";
    j->manifest_len = strlen(manifest);
    j->module = module;
    j->module_len = module_len;
    snprintf(j->sha256, sizeof j->sha256, "%s", sha256 ? sha256 : "");
    j->allow_downgrade = opts && opts->allow_downgrade;
    if (opts && opts->signature && !(j->signature = strdup(opts->signature))) {
        j->module = NULL;
        deploy_end(j);
        snprintf(why, WD_REASON_MAX, "out of memory");
        return NULL;
    }
    int r = uv_queue_work(d->loop, &j->req, deploy_work, deploy_done);
    if (r < 0) {
        j->module = NULL; /* the caller keeps it on failure */
        deploy_end(j);
        snprintf(why, WD_REASON_MAX, "cannot queue the deploy: %s", uv_strerror(r));
        return NULL;
    }
    return j;
}

void wd_deploy_detach(wd_deploy *j) {
    j->note = NULL;
}

/* ---- Rollback -------------------------------------------------------------- */

/* A rollback has no problems to note (its unit was validated when it was deployed). */
static void no_note(void *ud, const char *what, const char *item) {
}

/* The history entry a rollback switches to: `to` (a number or a version), or the newest other with a unit. */
static const cJSON *rollback_target(const cJSON *arr, const char *cur, const char *to) {
    bool number = to && to[0] && strspn(to, "0123456789") == strlen(to);
    for (int i = cJSON_GetArraySize(arr) - 1; i >= 0; i--) {
        const cJSON *e = cJSON_GetArrayItem(arr, i);
        const cJSON *unit = cJSON_GetObjectItemCaseSensitive(e, "unit");
        const cJSON *version = cJSON_GetObjectItemCaseSensitive(e, "version");
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(e, "deploy");
        if (!cJSON_IsString(unit) || !unit->valuestring[0] || strcmp(unit->valuestring, cur) == 0)
            continue;
        if (!to || (number && cJSON_IsNumber(id) && id->valueint == atoi(to)) ||
            (cJSON_IsString(version) && strcmp(version->valuestring, to) == 0))
            return e;
    }
    return NULL;
}

wd_deploy *wd_daemon_rollback(wd_daemon *d, const char *name, const char *to, wd_deploy_fn done, void *ud,
                              wd_proto_status *ret, char *why) {
    const char *dir = deploy_dir(d, false);
    wd_instance *old = wd_daemon_find(d, name);
    *ret = WD_PROTO_NOT_FOUND;
    if (!dir || !old || !is_deployed(d, old)) {
        snprintf(why, WD_REASON_MAX, "no deployed module named \"%.200s\"", name);
        return NULL;
    }
    wd_deploy *waiting = deploy_waiting(d, name);
    if (waiting && !waiting->answered) {
        snprintf(why, WD_REASON_MAX, "a deploy of %.64s is waiting for it to start", name);
        *ret = WD_PROTO_CONFLICT;
        return NULL;
    }
    wd_deploy *j = calloc(1, sizeof *j);
    if (!j || !(j->dir = strdup(dir))) {
        free(j);
        snprintf(why, WD_REASON_MAX, "out of memory");
        *ret = WD_PROTO_INTERNAL;
        return NULL;
    }
    uv_timer_init(d->loop, &j->timer);
    j->timer.data = j;
    j->d = d;
    j->note = no_note;
    j->done = done;
    j->ud = ud;
    j->source = "rollback";
    j->keep_new_unit = true;
    snprintf(j->name, sizeof j->name, "%s", name);
    snprintf(j->link, sizeof j->link, "%s/%s", dir, name);
    ssize_t n = readlink(j->link, j->old_unit, sizeof j->old_unit - 1);
    j->old_unit[n > 0 ? n : 0] = '\0';
    j->had_old = n > 0;
    cJSON *arr = wd_history_read(dir, name);
    const cJSON *e = rollback_target(arr, j->old_unit, to);
    struct stat st;
    char unit_path[PATH_MAX];
    if (e)
        snprintf(j->new_unit, sizeof j->new_unit, "%s", cJSON_GetObjectItemCaseSensitive(e, "unit")->valuestring);
    if (!e || (size_t)snprintf(unit_path, sizeof unit_path, "%s/%s", dir, j->new_unit) >= sizeof unit_path ||
        stat(unit_path, &st) < 0) {
        if (to)
            snprintf(why, WD_REASON_MAX, "%.64s: no kept version %.64s (wasmctl history %.64s lists them)", name, to,
                     name);
        else
            snprintf(why, WD_REASON_MAX, "%.64s: no previous version is kept (wasmctl history %.64s)", name, name);
        cJSON_Delete(arr);
        deploy_end(j);
        return NULL;
    }
    const cJSON *f;
    if (cJSON_IsString(f = cJSON_GetObjectItemCaseSensitive(e, "version")))
        snprintf(j->version, sizeof j->version, "%s", f->valuestring);
    if (cJSON_IsString(f = cJSON_GetObjectItemCaseSensitive(e, "signer")))
        snprintf(j->signer, sizeof j->signer, "%s", f->valuestring);
    if (cJSON_IsString(f = cJSON_GetObjectItemCaseSensitive(e, "sha256")))
        snprintf(j->module_sha, sizeof j->module_sha, "%s", f->valuestring);
    cJSON_Delete(arr);
    if (waiting)
        health_cancel(waiting);

    /* The switch, as a deploy's: a new link renamed over the old one. */
    char tmp_link[PATH_MAX];
    snprintf(tmp_link, sizeof tmp_link, "%s/" LINK_PREFIX "%s", dir, name);
    (void)unlink(tmp_link);
    *ret = WD_PROTO_INTERNAL;
    if (symlink(j->new_unit, tmp_link) < 0 || rename(tmp_link, j->link) < 0) {
        snprintf(why, WD_REASON_MAX, "cannot switch %.150s: %s", j->link, strerror(errno));
        (void)unlink(tmp_link);
        deploy_end(j);
        return NULL;
    }
    fsync_dir(dir);
    cfg_manifest_set set = { 0 };
    cfg_manifest *m = NULL;
    if (cfg_manifest_dir_load(j->link, &set) == 0) {
        for (size_t i = 0; i < set.count && !m; i++) {
            if (strcmp(set.items[i]->name, name) == 0) {
                m = set.items[i];
                set.items[i] = NULL;
            }
        }
    }
    cfg_manifest_set_clear(&set);
    j->old_active = was_active(old);
    wd_daemon_drop(d, old);
    wd_instance *in = m ? wd_daemon_start_manifest(d, m) : NULL;
    if (!in) {
        snprintf(j->why, WD_REASON_MAX, "%s: the kept version cannot be loaded", name);
        j->decided = true;
        j->started = false;
    } else {
        j->in = in;
        in->watch = deploy_watch;
        in->watch_ud = j;
    }
    fprintf(stderr, "wasmd: rolling %s back to %s (%s%s)\n", name, j->new_unit, j->version[0] ? "version " : "",
            j->version[0] ? j->version : "unsigned");
    j->waiting = true;
    j->next = d->deploys;
    d->deploys = j;
    uv_timer_start(&j->timer, deploy_outcome, in ? WD_DEPLOY_START_MS : 0, 0);
    if (in)
        deploy_watch(in, j);
    *ret = WD_PROTO_OK;
    return j;
}

/* ---- Remove ------------------------------------------------------------ */

/* Removes a deployed module's unit: the symlink first (the switch), then its directory. */
static wd_proto_status remove_deployed(wd_daemon *d, wd_instance *in, char *why) {
    const char *dir = deploy_dir(d, false);
    char link[PATH_MAX], target[NAME_MAX + 1], unit[PATH_MAX];
    snprintf(link, sizeof link, "%s/%s", dir, in->name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n < 0 || (target[n] = '\0', !has_prefix(target, UNIT_PREFIX))) {
        snprintf(why, WD_REASON_MAX, "%.150s: not a deployed module: %.60s", link, n < 0 ? strerror(errno) : target);
        return WD_PROTO_INTERNAL;
    }
    if (unlink(link) < 0) {
        snprintf(why, WD_REASON_MAX, "cannot delete %.200s: %s", link, strerror(errno));
        return WD_PROTO_INTERNAL;
    }
    fsync_dir(dir);
    crash_point("remove", 1);
    char name[CFG_MAX_NAME + 1];
    snprintf(name, sizeof name, "%s", in->name);
    wd_daemon_drop(d, in);
    snprintf(unit, sizeof unit, "%s/%s", dir, target);
    remove_unit_dir(unit);
    wd_history_forget(dir, name);
    fsync_dir(dir);
    return WD_PROTO_OK;
}

/* True when `path` lies directly in the modules directory (compared after resolving links). */
static bool in_modules_dir(wd_daemon *d, const char *path) {
    char *copy = strdup(path), real[PATH_MAX];
    bool in = copy && d->modules_dir_real && realpath(dirname(copy), real) && strcmp(real, d->modules_dir_real) == 0;
    free(copy);
    return in;
}

/* Removes a module of the modules directory: its manifest file (refused when it cannot be deleted). */
static wd_proto_status remove_local(wd_daemon *d, wd_instance *in, char *why) {
    char *manifest = strdup(in->manifest->path), *module = strdup(in->manifest->module);
    if (!manifest || !module) {
        free(manifest);
        free(module);
        snprintf(why, WD_REASON_MAX, "out of memory");
        return WD_PROTO_INTERNAL;
    }
    if (unlink(manifest) < 0 && errno != ENOENT) {
        snprintf(why, WD_REASON_MAX, "%.120s is the operator's manifest and cannot be deleted (%.40s): delete it "
                 "and reload", manifest, strerror(errno));
        free(manifest);
        free(module);
        return WD_PROTO_CONFLICT;
    }
    wd_daemon_drop(d, in);
    /* A module file in the modules directory belongs to its manifest. */
    bool shared = false;
    for (wd_instance *o = d->instances; o; o = o->next)
        shared = shared || strcmp(o->manifest->module, module) == 0;
    if (!shared && in_modules_dir(d, module))
        (void)unlink(module);
    fsync_dir(d->cfg->modules_dir);
    free(manifest);
    free(module);
    return WD_PROTO_OK;
}

wd_proto_status wd_daemon_remove(wd_daemon *d, const char *name, char *why) {
    wd_instance *in = wd_daemon_find(d, name);
    if (!in) {
        snprintf(why, WD_REASON_MAX, "no module named \"%.200s\"", name);
        return WD_PROTO_NOT_FOUND;
    }
    wd_deploy *waiting = deploy_waiting(d, name);
    if (waiting && !waiting->answered) {
        snprintf(why, WD_REASON_MAX, "a deploy of %.64s is waiting for it to start: remove it afterwards", name);
        return WD_PROTO_CONFLICT;
    }
    if (waiting)
        health_cancel(waiting);
    wd_proto_status s = is_deployed(d, in) ? remove_deployed(d, in, why) : remove_local(d, in, why);
    if (s == WD_PROTO_OK)
        fprintf(stderr, "wasmd: removed %s\n", name);
    return s;
}
