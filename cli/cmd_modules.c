/*
 * cmd_modules.c - the daemon verbs that look at and change modules: list,
 * status, start, stop, restart, reload, remove, deploy, version.
 *
 * Exit status: see the table in wasmctl.h (and wasmctl(1)).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/wasmctl.h"
#include "config/config.h"
#include "daemon/proto.h"

static void print_instance_row(const cJSON *in) {
    char up[32];
    double uptime = cli_json_num(in, WD_F_UPTIME_MS);
    cli_format_ms(uptime > 0 ? uptime : -1, up, sizeof up);
    const char *reason = cli_json_str(in, WD_F_REASON);
    if (!reason[0] && cli_json_str(in, WD_F_MANIFEST_ERROR)[0])
        reason = "manifest file bad now: runs under its last good one (see status)";
    const char *state = cli_json_str(in, WD_F_STATE), *colour = cli_color() ? cli_state_colour(state) : "";
    printf("%-20s %s%-14s%s %8s %8.0f  %s\n", cli_json_str(in, WD_F_NAME), colour, state, colour[0] ? "\033[0m" : "",
           up, cli_json_num(in, WD_F_RESTARTS), reason);
}

static void print_list(const cli *c, const cJSON *r) {
    (void)c;
    printf("%-20s %-14s %8s %8s  %s\n", "NAME", "STATE", "UPTIME", "RESTARTS", "REASON");
    const cJSON *in;
    cJSON_ArrayForEach(in, cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCES))
        print_instance_row(in);
}

static void print_status(const cli *c, const cJSON *r) {
    (void)c;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCE);
    char buf[32];
    printf("name:      %s\n", cli_json_str(in, WD_F_NAME));
    printf("state:     %s\n", cli_json_str(in, WD_F_STATE));
    if (cli_json_str(in, WD_F_REASON)[0])
        printf("reason:    %s\n", cli_json_str(in, WD_F_REASON));
    printf("module:    %s\n", cli_json_str(in, WD_F_MODULE));
    if (cli_json_str(in, WD_F_MANIFEST_ERROR)[0])
        printf("manifest:  %s\n           (the file is bad now: it runs under its last good manifest)\n",
               cli_json_str(in, WD_F_MANIFEST_ERROR));
    printf("restart:   %s\n", cli_json_str(in, WD_F_RESTART));
    printf("restarts:  %.0f\n", cli_json_num(in, WD_F_RESTARTS));
    double uptime = cli_json_num(in, WD_F_UPTIME_MS);
    cli_format_ms(uptime > 0 ? uptime : -1, buf, sizeof buf);
    printf("uptime:    %s\n", buf);
    printf("slices:    %.0f (longest %.1f ms, costliest %.1f ms of CPU)\n", cli_json_num(in, WD_F_SLICES),
           cli_json_num(in, WD_F_SLICE_MAX_US) / 1000, cli_json_num(in, WD_F_SLICE_MAX_CPU_US) / 1000);
    cli_format_ms(cli_json_num(in, WD_F_CPU_US) / 1000, buf, sizeof buf);
    printf("cpu:       %s, fuel %.0f, %.0f slices (all runs)\n", buf, cli_json_num(in, WD_F_FUEL_USED),
           cli_json_num(in, WD_F_SLICES_TOTAL));
    if (cli_json_num(in, WD_F_EVENTS_QUEUED) > 0 || cli_json_num(in, WD_F_EVENTS_DROPPED) > 0)
        printf("events:    %.0f queued, %.0f dropped (queue full)\n", cli_json_num(in, WD_F_EVENTS_QUEUED),
               cli_json_num(in, WD_F_EVENTS_DROPPED));
    char used[32], limit[32], budget[32], budget_used[32];
    cli_format_bytes(cli_json_num(in, WD_F_MEMORY), used, sizeof used);
    cli_format_bytes(cli_json_num(in, WD_F_MEMORY_LIMIT), limit, sizeof limit);
    cli_format_bytes(cli_json_num(in, WD_F_MEMORY_BUDGET), budget, sizeof budget);
    cli_format_bytes(cli_json_num(in, WD_F_MEMORY_BUDGET_USED), budget_used, sizeof budget_used);
    printf("memory:    %s (limit %s per memory; all modules %s of %s)\n", used, limit, budget_used, budget);
    if (cli_json_num(in, WD_F_EXIT_CODE) >= 0)
        printf("exit code: %.0f\n", cli_json_num(in, WD_F_EXIT_CODE));
    if (cli_json_num(in, WD_F_RESTART_IN_MS) >= 0) {
        cli_format_ms(cli_json_num(in, WD_F_RESTART_IN_MS), buf, sizeof buf);
        printf("restart in %s\n", buf);
    }
    if (cli_json_str(in, WD_F_DEPLOY_NOTE)[0])
        printf("deploy:    %s\n", cli_json_str(in, WD_F_DEPLOY_NOTE));
    const cJSON *hw = cJSON_GetObjectItemCaseSensitive(in, WD_F_HARDWARE), *item;
    bool first = true;
    cJSON_ArrayForEach(item, hw) {
        if (cJSON_IsString(item)) {
            printf("%s%s\n", first ? "hardware:  " : "           ", item->valuestring);
            first = false;
        }
    }
}

/* "ticker: running" after start, stop, restart, deploy. */
static void print_state(const cli *c, const cJSON *r) {
    (void)c;
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCE);
    printf("%s: %s\n", cli_json_str(in, WD_F_NAME), cli_json_str(in, WD_F_STATE));
}

static void print_reload(const cli *c, const cJSON *r) {
    (void)c;
    static const char *const lists[] = { WD_F_ADDED, WD_F_REMOVED, WD_F_RESTARTED, WD_F_UNCHANGED, WD_F_KEPT,
                                         WD_F_FAILED };
    for (size_t i = 0; i < sizeof lists / sizeof lists[0]; i++) {
        const cJSON *item;
        cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(r, lists[i]))
            if (cJSON_IsString(item))
                printf("%-10s %s\n", lists[i], item->valuestring);
    }
}

static void print_removed(const cli *c, const cJSON *r) {
    (void)c;
    printf("%s: removed\n", cli_json_str(r, WD_F_NAME));
}

static void print_version(const cli *c, const cJSON *r) {
    (void)c;
    printf("wasmd %s (protocol %.0f)\n", cli_json_str(r, WD_F_DAEMON), cli_json_num(r, WD_F_VERSION));
}

/* A request about the module named by the first argument. */
static cJSON *named_request(const cli *c) {
    cJSON *req = cli_request_new(c->verb->name);
    if (req && c->nargs > 0)
        cJSON_AddStringToObject(req, WD_F_NAME, c->args[0]);
    return req;
}

int cmd_list(cli *c) {
    return cli_simple(c, named_request(c), print_list);
}

int cmd_status(cli *c) {
    return cli_simple(c, named_request(c), print_status);
}

/* The default of --timeout for start, stop and restart (the daemon's own default is the same). */
#define WAIT_TIMEOUT_S 90

/*
 * start, stop and restart: by default the daemon answers once the module
 * has reached its final state (proto.h, "wait"): stopped, or for a start
 * the new run running, waiting or over; --no-wait answers at once.  A
 * start that ends failed exits 1 with the reason.
 */
static int change_state(cli *c, bool starts) {
    cJSON *req = named_request(c);
    if (req && c->wait) {
        if (c->timeout_s <= 0)
            c->timeout_s = WAIT_TIMEOUT_S; /* also the receive backstop in cli_call */
        cJSON_AddBoolToObject(req, WD_F_WAIT, true);
        cJSON_AddNumberToObject(req, WD_F_TIMEOUT_MS, c->timeout_s * 1000);
    }
    cJSON *r;
    int status = cli_call(c, req, NULL, 0, false, NULL, &r);
    cJSON_Delete(req);
    if (status != EXIT_OK)
        return status;
    status = cli_response_status(c, r);
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(r, WD_F_INSTANCE);
    const char *state = cli_json_str(in, WD_F_STATE);
    if (status == EXIT_OK && starts && c->wait &&
        (strcmp(state, wd_state_name(WD_STATE_FAILED)) == 0 ||
         strcmp(state, wd_state_name(WD_STATE_CRASH_LOOPING)) == 0)) {
        cli_error(c, "%s: %s %s: %s", c->verb->name, cli_json_str(in, WD_F_NAME), state,
                  cli_json_str(in, WD_F_REASON));
        status = EXIT_FAILED;
        cJSON_ReplaceItemInObjectCaseSensitive(r, WD_F_STATUS, cJSON_CreateString(cli_exit_name(status)));
    }
    if (!c->json && in)
        print_state(c, r);
    cli_print_doc(c, r, status);
    return status;
}

int cmd_start(cli *c) {
    return change_state(c, true);
}

int cmd_stop(cli *c) {
    return change_state(c, false);
}

int cmd_restart(cli *c) {
    return change_state(c, true);
}

int cmd_reload(cli *c) {
    return cli_simple(c, named_request(c), print_reload);
}

int cmd_remove(cli *c) {
    return cli_simple(c, named_request(c), print_removed);
}

/* version: wasmctl's own, then the daemon's (both in one document with --json). */
int cmd_version(cli *c) {
    if (!c->json)
        printf("wasmctl %s (protocol %d)\n", WASMD_VERSION, WD_PROTO_VERSION);
    cJSON *r, *req = cli_request_new(WD_VERB_VERSION);
    int status = cli_call(c, req, NULL, 0, false, NULL, &r);
    cJSON_Delete(req); /* cli_call does not take it */
    if (status != EXIT_OK) {
        cJSON *doc = cJSON_CreateObject();
        cJSON_AddStringToObject(doc, "status", cli_exit_name(status));
        cJSON_AddStringToObject(doc, "wasmctl", WASMD_VERSION);
        cli_print_doc(c, doc, status);
        return status;
    }
    status = cli_response_status(c, r);
    if (!c->json && status == EXIT_OK)
        print_version(c, r);
    cJSON_AddStringToObject(r, "wasmctl", WASMD_VERSION);
    cli_print_doc(c, r, status);
    return status;
}

/* True for an argument that is a URL rather than a file. */
static bool is_url(const char *s) {
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

/* Shows a download's progress on one line of a terminal: bytes, rate and time left. */
static void show_progress(const cJSON *p, double started_s) {
    double bytes = cli_json_num(p, WD_F_BYTES), total = cli_json_num(p, WD_F_TOTAL);
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double secs = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9 - started_s;
    double rate = secs > 0 ? bytes / secs : 0;
    char got[32], all[32], speed[32], eta[32] = "";
    cli_format_bytes(bytes, got, sizeof got);
    cli_format_bytes(total, all, sizeof all);
    cli_format_bytes(rate, speed, sizeof speed);
    if (total > 0 && rate > 0) {
        snprintf(eta, sizeof eta, ", %.0f s left", (total - bytes) / rate);
        fprintf(stderr, "\r\033[Kdownloading: %s of %s (%.0f%%), %s/s%s", got, all, 100 * bytes / total, speed, eta);
    } else {
        fprintf(stderr, "\r\033[Kdownloading: %s, %s/s", got, speed);
    }
}

/*
 * deploy FILE.wasm MANIFEST.yaml: the manifest's text in the request line,
 * the module's bytes after it.  deploy MANIFEST.yaml (its source: names a
 * URL and sha256) and deploy URL MANIFEST.yaml --sha256 HEX: the request
 * names the URL and the daemon downloads the module; its progress events
 * come before the answer.
 */
int cmd_deploy(cli *c) {
    const char *module = c->nargs == 2 ? c->args[0] : NULL, *manifest = c->args[c->nargs - 1];
    const char *url = NULL, *sha256 = c->sha256;
    uint8_t *body = NULL, *text = NULL;
    size_t body_len = 0, text_len = 0;

    /* The manifest's source: (read here only for that; the daemon checks the manifest). */
    cfg_error cerr;
    cfg_manifest *m = cfg_manifest_load(manifest, &cerr);
    if (module && is_url(module)) {
        url = module;
        if (!sha256) {
            cfg_manifest_free(m);
            cli_error(c, "deploy: --sha256 HEX is required with a URL (the module's SHA-256)");
            return EXIT_USAGE;
        }
    } else if (!module) {
        if (!m || !m->source_url) {
            cli_error(c, "deploy: %s names no source: url: give FILE.wasm or URL too (usage: wasmctl %s)", manifest,
                      c->verb->usage);
            cfg_manifest_free(m);
            return EXIT_USAGE;
        }
        url = m->source_url;
    }
    if (!sha256 && m && m->source_sha256)
        sha256 = m->source_sha256;
    if (module && !url && !cli_read_file(module, &body, &body_len)) {
        cli_error(c, "%s: %s", module, strerror(errno));
        cfg_manifest_free(m);
        return EXIT_FAILED;
    }
    if (!cli_read_file(manifest, &text, &text_len)) {
        cli_error(c, "%s: %s", manifest, strerror(errno));
        free(body);
        cfg_manifest_free(m);
        return EXIT_FAILED;
    }
    uint8_t *terminated = realloc(text, text_len + 1);
    if (terminated) {
        text = terminated;
        text[text_len] = '\0';
    }
    if (!terminated || memchr(text, '\0', text_len) || (!url && body_len == 0)) {
        cli_error(c, "%s", !terminated ? "out of memory"
                           : memchr(text, '\0', text_len) ? "the manifest contains NUL bytes"
                                                          : "the module is empty");
        free(text);
        free(body);
        cfg_manifest_free(m);
        return terminated ? EXIT_INVALID : EXIT_FAILED;
    }
    cJSON *req = cli_request_new(WD_VERB_DEPLOY);
    cJSON_AddStringToObject(req, WD_F_FILE, manifest);
    cJSON_AddStringToObject(req, WD_F_MANIFEST, (const char *)text);
    if (url) {
        cJSON_AddStringToObject(req, WD_F_URL, url);
        if (m && m->source_ca_file && m->source_url && strcmp(url, m->source_url) == 0)
            cJSON_AddStringToObject(req, WD_F_CA_FILE, m->source_ca_file);
    } else {
        cJSON_AddNumberToObject(req, WD_F_MODULE_SIZE, (double)body_len);
    }
    if (sha256)
        cJSON_AddStringToObject(req, WD_F_SHA256, sha256);
    if (c->allow_downgrade)
        cJSON_AddTrueToObject(req, WD_F_ALLOW_DOWNGRADE);
    /* A local module's signature, FILE.wasm.minisig, goes with it (a URL's, URL.minisig, the daemon fetches). */
    if (!url) {
        char sig_path[4096];
        uint8_t *sig = NULL;
        size_t sig_len = 0;
        snprintf(sig_path, sizeof sig_path, "%s.minisig", module);
        if (cli_read_file(sig_path, &sig, &sig_len)) {
            uint8_t *z = realloc(sig, sig_len + 1);
            if (z) {
                z[sig_len] = '\0';
                cJSON_AddStringToObject(req, WD_F_SIGNATURE, (const char *)z);
            }
            free(z ? z : sig);
        }
    }
    free(text);
    cfg_manifest_free(m);

    /* The answer, after any progress events of a download (its rate counted from the request). */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    double started_s = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    cli_conn conn;
    cJSON *r;
    int status = cli_call(c, req, body, body_len, url != NULL, url ? &conn : NULL, &r);
    cJSON_Delete(req);
    free(body);
    if (status != EXIT_OK)
        return status;
    bool shown = false, tty = !c->json && isatty(STDERR_FILENO);
    while (url && r && cJSON_GetObjectItemCaseSensitive(r, WD_F_PROGRESS)) {
        if (tty) {
            show_progress(cJSON_GetObjectItemCaseSensitive(r, WD_F_PROGRESS), started_s);
            shown = true;
        }
        cJSON_Delete(r);
        r = cli_receive(c, &conn, &status);
    }
    if (shown)
        fputs("\r\033[K", stderr);
    if (url)
        cli_conn_close(&conn);
    if (!r)
        return status;
    status = cli_response_status(c, r);
    if (!c->json && status == EXIT_OK)
        print_state(c, r);
    cli_print_doc(c, r, status);
    return status;
}
