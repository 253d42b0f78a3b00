/*
 * main.c - wasmd: loads the daemon config and the module manifests, starts
 * an instance per manifest, serves the control socket, and runs the libuv
 * loop until SIGTERM or SIGINT.
 *
 *   wasmd [--config FILE] [--modules-dir DIR] [--socket PATH]
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
#include <time.h>

#include "daemon/internal.h"

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
    "  --socket PATH       control socket (default: from the config,\n"
    "                      " WD_PROTO_DEFAULT_SOCKET ")\n"
    "  --version           print the version\n"
    "  --help              print this help\n";

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

static void load_manifests(wd_daemon *d) {
    cfg_manifest_set set = { 0 };
    int r = cfg_manifest_dir_load(d->cfg->modules_dir, &set);
    if (r < 0) {
        fprintf(stderr, "wasmd: %s: %s\n", d->cfg->modules_dir, strerror(-r));
        return;
    }
    for (size_t i = 0; i < set.nerrors; i++) {
        char buf[1024];
        fprintf(stderr, "wasmd: %s\n", cfg_error_format(&set.errors[i], buf, sizeof buf));
    }
    for (size_t i = 0; i < set.count; i++) {
        cfg_manifest *m = set.items[i];
        set.items[i] = NULL; /* ownership moves to the instance, even when it fails */
        char name[128];
        snprintf(name, sizeof name, "%s", m->name);
        wd_instance *in = wd_instance_new(d, m);
        if (!in) {
            fprintf(stderr, "wasmd: out of memory for module %s\n", name);
            continue;
        }
        add_instance(d, in);
    }
    cfg_manifest_set_clear(&set);
}

static void shutdown_daemon(wd_daemon *d) {
    if (d->shutting_down)
        return;
    d->shutting_down = true;
    fprintf(stderr, "wasmd: shutting down\n");
    wd_control_close(d);
    while (d->instances) {
        wd_instance *in = d->instances;
        d->instances = in->next;
        wd_instance_close(in);
    }
    wd_sched_close(d);
    uv_close((uv_handle_t *)&d->sigterm, NULL);
    uv_close((uv_handle_t *)&d->sigint, NULL);
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
    free(*field);
    *field = copy;
    return true;
}

int main(int argc, char **argv) {
    const char *config = NULL, *modules_dir = NULL, *socket_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char **target = NULL;
        if (strcmp(a, "--config") == 0)
            target = &config;
        else if (strcmp(a, "--modules-dir") == 0)
            target = &modules_dir;
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
    if (!override(&d.cfg->modules_dir, modules_dir) || !override(&d.cfg->socket_path, socket_path)) {
        fprintf(stderr, "wasmd: out of memory\n");
        cfg_daemon_free(d.cfg);
        return EXIT_SETUP;
    }
    const char *sock = d.cfg->socket_path ? d.cfg->socket_path : WD_PROTO_DEFAULT_SOCKET;

    /* A client that goes away must not kill us when we write to it. */
    signal(SIGPIPE, SIG_IGN);

    uv_loop_t loop;
    uv_loop_init(&loop);
    d.loop = &loop;
    wd_sched_init(&d);
    uv_signal_init(&loop, &d.sigterm);
    uv_signal_init(&loop, &d.sigint);
    d.sigterm.data = d.sigint.data = &d;
    uv_signal_start(&d.sigterm, on_signal, SIGTERM);
    uv_signal_start(&d.sigint, on_signal, SIGINT);

    int status = EXIT_OK;
    if (wd_control_listen(&d, sock) < 0) {
        status = EXIT_SETUP;
        shutdown_daemon(&d);
    } else {
        load_manifests(&d);
        for (wd_instance *in = d.instances; in; in = in->next)
            wd_instance_autostart(in);
        fprintf(stderr, "wasmd: ready: %s, socket %s\n", d.cfg->modules_dir, sock);
    }

    uv_run(&loop, UV_RUN_DEFAULT);
    if (uv_loop_close(&loop) != 0)
        fprintf(stderr, "wasmd: handles still open at exit\n");
    cfg_daemon_free(d.cfg);
    return status;
}
