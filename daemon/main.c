/*
 * main.c - wasmd: loads the daemon config and the module manifests, starts
 * an instance per manifest, serves the control socket, and runs the libuv
 * loop until SIGTERM or SIGINT.  SIGHUP (or `wasmctl reload`) re-reads the
 * modules directory and the deployed modules (deploy.c: wd_daemon_deploy,
 * _remove, kept under the state directory).
 *
 *   wasmd [--config FILE] [--modules-dir DIR] [--state-dir DIR] [--socket PATH]
 *
 * Under systemd: READY=1 once the manifests are loaded, STATUS= whenever
 * the counts of instances by state change (checked after each loop turn, so
 * an idle daemon does not wake up for it), WATCHDOG=1 at half the
 * watchdog interval, RELOADING=1 around a reload, STOPPING=1 on shutdown.
 * A listening socket passed by systemd (socket activation) is used instead
 * of creating one.  When stderr is the journal, module output goes to it
 * with the fields MODULE= and STREAM= and a priority (stdout info, stderr
 * warning) instead of prefixed lines.
 *
 * Exit status: 0 after a clean shutdown; 1 when the config cannot be read
 * or the socket cannot be set up; 2 for a wrong command line.  A bad
 * manifest does not stop the daemon: it is reported and skipped.
 *
 * Shutdown: the signal stops every instance, closes the socket and the
 * clients, and closes every handle; the loop then ends by itself and the
 * instances are freed in their close callbacks.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <sodium.h>
#include <systemd/sd-daemon.h>
#include <systemd/sd-journal.h>

#include "daemon/internal.h"
#include "daemon/validate.h"

enum {
    EXIT_OK = 0,
    EXIT_SETUP = 1,
    EXIT_USAGE = 2,
};

static const char usage_text[] =
    "Usage: wasmd [OPTIONS]\n"
    "\n"
    "Runs the WebAssembly modules described by the manifests in the modules\n"
    "directory, and serves wasmctl on a Unix socket.\n"
    "\n"
    "  --config FILE       daemon config (default /etc/wasmd/wasmd.yaml; a missing\n"
    "                      default file is not an error)\n"
    "  --modules-dir DIR   manifests directory (default: from the config,\n"
    "                      /etc/wasmd/modules.d)\n"
    "  --state-dir DIR     where deployed modules are kept, in DIR/modules\n"
    "                      (default: from the config, /var/lib/wasmd)\n"
    "  --socket PATH       control socket (default: from the config,\n"
    "                      " WD_PROTO_DEFAULT_SOCKET ")\n"
    "  --version           print the version\n"
    "  --help              print this help\n"
    "\n"
    "SIGHUP re-reads the modules directory (like wasmctl reload); SIGTERM and\n"
    "SIGINT stop every module and exit.  Under systemd: sd_notify readiness,\n"
    "status, watchdog; a passed listening socket replaces --socket; module output\n"
    "goes to the journal with MODULE=name.  See wasmd(8).\n";

uint64_t wd_now_ns(void) {
    return uv_hrtime();
}

wd_instance *wd_daemon_find(wd_daemon *d, const char *name) {
    for (wd_instance *in = d->instances; in; in = in->next)
        if (strcmp(in->name, name) == 0)
            return in;
    return NULL;
}

/* Inserts keeping the list sorted by name (list output is then stable). */
static void add_instance(wd_daemon *d, wd_instance *in) {
    wd_instance **p = &d->instances;
    while (*p && strcmp((*p)->name, in->name) < 0)
        p = &(*p)->next;
    in->next = *p;
    *p = in;
}

void wd_daemon_drop(wd_daemon *d, wd_instance *in) {
    for (wd_instance **p = &d->instances; *p; p = &(*p)->next) {
        if (*p == in) {
            *p = in->next;
            break;
        }
    }
    in->next = NULL;
    wd_instance_close(in);
}

wd_instance *wd_daemon_start_manifest(wd_daemon *d, cfg_manifest *m) {
    return wd_daemon_add_manifest(d, m, true);
}

wd_instance *wd_daemon_add_manifest(wd_daemon *d, cfg_manifest *m, bool start) {
    char name[CFG_MAX_NAME + 1];
    snprintf(name, sizeof name, "%s", m->name);
    wd_instance *in = wd_instance_new(d, m);
    if (!in) {
        fprintf(stderr, "wasmd: out of memory for module %s\n", name);
        return NULL;
    }
    add_instance(d, in);
    if (start)
        wd_instance_autostart(in);
    return in;
}

/* ---- systemd ----------------------------------------------------------- */

/* "3 modules: 2 running, 1 waiting" for STATUS=. */
static void format_status(wd_daemon *d, char *buf, size_t size) {
    unsigned counts[WD__STATE_COUNT] = { 0 }, total = 0;
    for (wd_instance *in = d->instances; in; in = in->next) {
        counts[in->state < WD__STATE_COUNT ? in->state : WD_STATE_FAILED]++;
        total++;
    }
    size_t used = (size_t)snprintf(buf, size, "%u module%s", total, total == 1 ? "" : "s");
    const char *sep = ": ";
    for (int s = 0; s < WD__STATE_COUNT && used < size; s++) {
        if (!counts[s])
            continue;
        used += (size_t)snprintf(buf + used, size - used, "%s%u %s", sep, counts[s], wd_state_name((wd_state)s));
        sep = ", ";
    }
}

static void on_status_check(uv_check_t *h) {
    wd_daemon *d = wd_container_of(h, wd_daemon, status_check);
    char status[sizeof d->last_status];
    format_status(d, status, sizeof status);
    if (strcmp(status, d->last_status) == 0)
        return;
    snprintf(d->last_status, sizeof d->last_status, "%s", status);
    sd_notifyf(0, "STATUS=%s", status);
}

static void on_watchdog(uv_timer_t *t) {
    sd_notify(0, "WATCHDOG=1");
}

/* True when stderr is the journal's stream (JOURNAL_STREAM names its device and inode). */
static bool stderr_is_journal(void) {
    const char *js = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;
    if (!js || sscanf(js, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st) < 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

static void systemd_init(wd_daemon *d) {
    const char *ns = getenv("NOTIFY_SOCKET");
    d->notify = ns && ns[0];
    d->journal = stderr_is_journal();
    uint64_t usec = 0;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        uint64_t ms = usec / 2000;
        uv_timer_init(d->loop, &d->watchdog);
        uv_timer_start(&d->watchdog, on_watchdog, ms ? ms : 1, ms ? ms : 1);
        d->watchdog_on = true;
    }
    if (d->notify) {
        uv_check_init(d->loop, &d->status_check);
        uv_check_start(&d->status_check, on_status_check);
    }
}

void wd_daemon_output(wd_daemon *d, const char *module, const char *stream, const char *line) {
    if (d->journal) {
        int prio = strcmp(stream, "stderr") == 0 ? LOG_WARNING : LOG_INFO;
        sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", prio, "MODULE=%s", module, "STREAM=%s", stream,
                        "SYSLOG_IDENTIFIER=wasmd", NULL);
    } else if (strcmp(stream, "stdout") == 0) {
        fprintf(stderr, "%s: %s\n", module, line);
    } else {
        fprintf(stderr, "%s: [%s] %s\n", module, stream, line);
    }
}

/* ---- Loading and reloading --------------------------------------------- */

static void report_error(wd_note_fn note, void *ud, const cfg_error *err) {
    char buf[1024];
    cfg_error_format(err, buf, sizeof buf);
    fprintf(stderr, "wasmd: %s\n", buf);
    if (note)
        note(ud, WD_F_ERRORS, buf);
}

static void note_name(wd_note_fn note, void *ud, const char *what, const char *name) {
    fprintf(stderr, "wasmd: reload: %s %s\n", what, name);
    if (note)
        note(ud, what, name);
}

/*
 * The manifests of the modules directory and the deployed ones (deploy.c),
 * in one set; `clean` deletes what an interrupted deploy left (at start).
 * 0, or negative errno when the modules directory cannot be read.
 */
static int load_all(wd_daemon *d, cfg_manifest_set *set, bool clean) {
    int r = cfg_manifest_dir_load(d->cfg->modules_dir, set);
    if (r < 0) {
        fprintf(stderr, "wasmd: %s: %s\n", d->cfg->modules_dir, strerror(-r));
        return r;
    }
    int e = wd_deploy_load(d, set, clean);
    if (e < 0)
        fprintf(stderr, "wasmd: deployed modules in %s: %s\n", d->cfg->state_dir, strerror(-e));
    return 0;
}

static void load_manifests(wd_daemon *d) {
    cfg_manifest_set set = { 0 };
    if (load_all(d, &set, true) < 0)
        return;
    for (size_t i = 0; i < set.nerrors; i++)
        report_error(NULL, NULL, &set.errors[i]);
    for (size_t i = 0; i < set.count; i++) {
        cfg_manifest *m = set.items[i];
        set.items[i] = NULL; /* ownership moves to the instance, even when it fails */
        wd_daemon_start_manifest(d, m);
    }
    cfg_manifest_set_clear(&set);
}

int wd_daemon_reload(wd_daemon *d, wd_note_fn note, void *ud) {
    if (d->shutting_down)
        return -ESHUTDOWN;
    cfg_manifest_set set = { 0 };
    int r = load_all(d, &set, false);
    if (r < 0)
        return r;
    if (d->notify)
        sd_notifyf(0, "RELOADING=1\nMONOTONIC_USEC=%llu", (unsigned long long)(uv_hrtime() / 1000));

    /* Instances to keep: listed in the new set, or from a file that is bad now. */
    size_t n = 0;
    for (wd_instance *in = d->instances; in; in = in->next)
        n++;
    wd_instance **old = calloc(n + 1, sizeof *old);
    bool *keep = calloc(n + 1, sizeof *keep);
    if (!old || !keep) {
        free(old);
        free(keep);
        cfg_manifest_set_clear(&set);
        return -ENOMEM;
    }
    n = 0;
    for (wd_instance *in = d->instances; in; in = in->next)
        old[n++] = in;

    for (size_t e = 0; e < set.nerrors; e++) {
        report_error(note, ud, &set.errors[e]);
        for (size_t k = 0; k < n; k++) {
            if (strcmp(old[k]->manifest->path, set.errors[e].file) != 0)
                continue;
            /* It keeps running under its last good manifest; list and status say why. */
            keep[k] = true;
            char buf[1024];
            char *why = strdup(cfg_error_format(&set.errors[e], buf, sizeof buf));
            if (why) {
                free(old[k]->manifest_error);
                old[k]->manifest_error = why;
            }
            note_name(note, ud, WD_F_KEPT, old[k]->name);
        }
    }
    for (size_t i = 0; i < set.count; i++) {
        cfg_manifest *m = set.items[i];
        set.items[i] = NULL;
        size_t k = 0;
        while (k < n && (!old[k] || strcmp(old[k]->name, m->name) != 0))
            k++;
        if (k == n) {
            note_name(note, ud, WD_F_ADDED, m->name);
            wd_daemon_start_manifest(d, m);
        } else if (keep[k]) {
            /* Its old file is bad now and another file claims the name: keep the running one. */
            cfg_manifest_free(m);
        } else if (cfg_manifest_equal(old[k]->manifest, m)) {
            /* Unchanged, perhaps under another file name: it keeps running; remember the file. */
            char *path = old[k]->manifest->path;
            old[k]->manifest->path = m->path;
            m->path = path;
            cfg_manifest_free(m);
            keep[k] = true;
            free(old[k]->manifest_error);
            old[k]->manifest_error = NULL;
            char why[WD_REASON_MAX];
            if (old[k]->load_failed && old[k]->state == WD_STATE_FAILED &&
                wd_instance_start(old[k], why) == WD_PROTO_OK) {
                /* Its module could not be loaded: perhaps it is fixed now (its manifest need not change). */
                note_name(note, ud, WD_F_RESTARTED, old[k]->name);
            } else {
                note_name(note, ud, WD_F_UNCHANGED, old[k]->name);
            }
        } else {
            note_name(note, ud, WD_F_RESTARTED, m->name);
            wd_daemon_drop(d, old[k]);
            old[k] = NULL;
            keep[k] = true;
            wd_daemon_start_manifest(d, m);
        }
    }
    for (size_t k = 0; k < n; k++) {
        if (keep[k] || !old[k])
            continue;
        note_name(note, ud, WD_F_REMOVED, old[k]->name);
        wd_daemon_drop(d, old[k]);
    }
    free(old);
    free(keep);
    cfg_manifest_set_clear(&set);
    if (d->notify)
        sd_notify(0, "READY=1");
    return 0;
}

static void on_sighup(uv_signal_t *h, int signum) {
    wd_daemon *d = h->data;
    fprintf(stderr, "wasmd: SIGHUP: reloading %s\n", d->cfg->modules_dir);
    (void)wd_daemon_reload(d, NULL, NULL);
}

/* ---- Shutdown ---------------------------------------------------------- */

static void shutdown_daemon(wd_daemon *d) {
    if (d->shutting_down)
        return;
    d->shutting_down = true;
    fprintf(stderr, "wasmd: shutting down\n");
    if (d->notify)
        sd_notify(0, "STOPPING=1\nSTATUS=shutting down");
    wd_control_close(d);
    wd_fleet_close(d);
    wd_fetch_close(d);
    wd_metrics_stop(d);
    while (d->instances) {
        wd_instance *in = d->instances;
        d->instances = in->next;
        wd_instance_close(in);
    }
    wd_sched_close(d);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
    uv_close((uv_handle_t *)&d->sighup, NULL);
    if (d->watchdog_on)
        uv_close((uv_handle_t *)&d->watchdog, NULL);
    if (d->notify)
        uv_close((uv_handle_t *)&d->status_check, NULL);
}

static void on_signal(uv_signal_t *h, int signum) {
    wd_daemon *d = h->data;
    shutdown_daemon(d);
}

/* Replaces an owned string with a copy of `value` (when given). */
static bool override(char **field, const char *value) {
    if (!value)
        return true;
    char *copy = strdup(value);
    if (!copy)
        return false;
    cfg_path_normalize(copy); /* as the config's own paths are */
    free(*field);
    *field = copy;
    return true;
}

int main(int argc, char **argv) {
    const char *config = NULL, *modules_dir = NULL, *state_dir = NULL, *socket_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **target = NULL;
        if (strcmp(a, "--config") == 0)
            target = &config;
        else if (strcmp(a, "--modules-dir") == 0)
            target = &modules_dir;
        else if (strcmp(a, "--state-dir") == 0)
            target = &state_dir;
        else if (strcmp(a, "--socket") == 0)
            target = &socket_path;
        else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("wasmd %s (protocol %d)\n", WASMD_VERSION, WD_PROTO_VERSION);
            return EXIT_OK;
        } else {
            fprintf(stderr, "wasmd: unknown option %s\n\n%s", a, usage_text);
            return EXIT_USAGE;
        }
        if (i + 1 >= argc) {
            fprintf(stderr, "wasmd: %s needs a value\n", a);
            return EXIT_USAGE;
        }
        *target = argv[++i];
    }

    wd_daemon d = { 0 };
    cfg_error err = { 0 };
    d.cfg = cfg_daemon_load(config, &err);
    if (!d.cfg) {
        char buf[1024];
        fprintf(stderr, "wasmd: %s\n", cfg_error_format(&err, buf, sizeof buf));
        return EXIT_SETUP;
    }
    if (!override(&d.cfg->modules_dir, modules_dir) || !override(&d.cfg->state_dir, state_dir) ||
        !override(&d.cfg->socket_path, socket_path)) {
        fprintf(stderr, "wasmd: out of memory\n");
        cfg_daemon_free(d.cfg);
        return EXIT_SETUP;
    }
    const char *sock = d.cfg->socket_path ? d.cfg->socket_path : WD_PROTO_DEFAULT_SOCKET;
    char why[WD_REASON_MAX];
    if (wd_hw_open(&d, why) < 0) {
        fprintf(stderr, "wasmd: %s\n", why);
        wd_hw_close(&d);
        cfg_daemon_free(d.cfg);
        return EXIT_SETUP;
    }

    /* A client that goes away must not kill us when we write to it. */
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t loop;
    /* libsodium (hashes, signatures) and libcurl (downloads) before any thread is started. */
    if (sodium_init() < 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "wasmd: cannot initialise libsodium or libcurl\n");
        cfg_daemon_free(d.cfg);
        return EXIT_SETUP;
    }
    uv_loop_init(&loop);
    d.loop = &loop;
    wd_sched_init(&d);
    wd_budget_init(&d);
    uv_signal_init(&loop, &d.sigterm);
    uv_signal_init(&loop, &d.sigint);
    d.sigterm.data = d.sigint.data = &d;
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);
    uv_signal_init(&loop, &d.sighup);
    d.sighup.data = &d;
    uv_signal_start(&d.sighup, on_sighup, SIGHUP);
    systemd_init(&d);
    d.modules_dir_real = realpath(d.cfg->modules_dir, NULL);

    /* A listening socket passed by systemd replaces --socket (socket activation). */
    int nfds = sd_listen_fds(1);
    int status = EXIT_OK;
    int r;
    if (nfds > 0) {
        if (nfds > 1)
            fprintf(stderr, "wasmd: %d sockets passed; using the first\n", nfds);
        r = wd_control_listen_fd(&d, SD_LISTEN_FDS_START);
        sock = "(from systemd)";
    } else {
        r = wd_control_listen(&d, sock);
    }
    if (r < 0) {
        status = EXIT_SETUP;
        shutdown_daemon(&d);
    } else {
        load_manifests(&d);
        if (wd_fleet_open(&d) < 0)
            fprintf(stderr, "wasmd: fleet mode: out of memory\n");
        wd_metrics_start(&d);
        fprintf(stderr, "wasmd: ready: %s, socket %s\n", d.cfg->modules_dir, sock);
        if (d.notify) {
            format_status(&d, d.last_status, sizeof d.last_status);
            sd_notifyf(0, "READY=1\nSTATUS=%s\nMAINPID=%lu", d.last_status, (unsigned long)getpid());
        }
    }

    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        fprintf(stderr, "wasmd: handles still open at exit\n");
    free(d.modules_dir_real);
    free(d.deploy_dir);
    wd_hw_close(&d);   /* after the loop: every instance has released its lines */
    cfg_daemon_free(d.cfg);
    curl_global_cleanup();
    return status;
}
