/*
 * metrics.c - the daemon's figures in the Prometheus text exposition
 * format (version 0.0.4): for `wasmctl metrics` (the control verb
 * "metrics") and, when the daemon config has a `metrics` key, written to
 * textfile_dir/wasmd.prom every interval_ms for node_exporter's textfile
 * collector.
 *
 * The file is written whole under a temporary name that the collector
 * ignores (it reads *.prom only) and renamed into place, so the collector
 * never reads half a file.  It is removed at shutdown, so that a stopped
 * daemon leaves no figures that look current.  A failed write is reported
 * on stderr once, and again only when the error changes.
 *
 * The figures are counted by the instances as they run (instance.c: per
 * slice, not per instruction): reading them costs the modules nothing.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/internal.h"

#define METRICS_FILE "wasmd.prom"

/* A growing text buffer; on out of memory it stops growing and `failed` is set. */
typedef struct text {
    char *buf;
    size_t len, cap;
    bool failed;
} text;

static void put(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(text *t, const char *fmt, ...) {
    for (;;) {
        if (t->failed)
            return;
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->buf ? t->buf + t->len : NULL, t->buf ? t->cap - t->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0) {
            t->failed = true;
            return;
        }
        if (t->buf && t->len + (size_t)n < t->cap) {
            t->len += (size_t)n;
            return;
        }
        size_t cap = t->cap ? t->cap * 2 : 4096;
        while (cap < t->len + (size_t)n + 1)
            cap *= 2;
        char *bigger = realloc(t->buf, cap);
        if (!bigger) {
            t->failed = true;
            return;
        }
        t->buf = bigger;
        t->cap = cap;
    }
}

/* A label value escaped as the format wants: backslash, double quote and newline. */
static void put_label(text *t, const char *value) {
    for (const char *p = value; *p; p++) {
        switch (*p) {
        case '\\': put(t, "\\\\"); break;
        case '"':  put(t, "\\\""); break;
        case '\n': put(t, "\\n"); break;
        default:   put(t, "%c", *p); break;
        }
    }
}

static void header(text *t, const char *name, const char *type, const char *help) {
    put(t, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* One sample per instance: name{module="..."} value. */
typedef double (*figure_fn)(const wd_instance *in, uint64_t now);

static double f_up(const wd_instance *in, uint64_t now) {
    return in->state == WD_STATE_RUNNING || in->state == WD_STATE_WAITING;
}
static double f_cpu(const wd_instance *in, uint64_t now) { return (double)in->cpu_ns_total / 1e9; }
static double f_fuel(const wd_instance *in, uint64_t now) { return (double)in->fuel_total; }
static double f_slices(const wd_instance *in, uint64_t now) { return (double)in->slices_total; }
static double f_restarts(const wd_instance *in, uint64_t now) { return in->restarts; }
static double f_memory(const wd_instance *in, uint64_t now) { return (double)wd_instance_memory_bytes(in); }
static double f_limit(const wd_instance *in, uint64_t now) { return (double)wd_instance_memory_limit(in); }
static double f_events(const wd_instance *in, uint64_t now) { return in->ev_count; }
static double f_uptime(const wd_instance *in, uint64_t now) {
    bool active = in->state == WD_STATE_STARTING || in->state == WD_STATE_RUNNING ||
                  in->state == WD_STATE_WAITING || in->state == WD_STATE_STOPPING;
    return active ? (double)(now - in->run_started_ns) / 1e9 : 0;
}

static const struct {
    const char *name, *type, *help;
    figure_fn fn;
} per_module[] = {
    { "wasmd_module_up", "gauge", "1 when the module is running or waiting, else 0.", f_up },
    { "wasmd_module_cpu_seconds_total", "counter", "CPU time the module's slices used, in seconds.", f_cpu },
    { "wasmd_module_fuel_consumed_total", "counter", "Fuel the module's slices used.", f_fuel },
    { "wasmd_module_slices_total", "counter", "Time slices the module ran.", f_slices },
    { "wasmd_module_restarts_total", "counter",
      "Restarts by the restart policy since the daemon or a user started the module.", f_restarts },
    { "wasmd_module_memory_bytes", "gauge", "Linear memory and tables the module's run holds, in bytes.", f_memory },
    { "wasmd_module_memory_limit_bytes", "gauge", "The most one linear memory of the module may grow to, in bytes.",
      f_limit },
    { "wasmd_module_events_queued", "gauge", "Events waiting for the module's handlers.", f_events },
    { "wasmd_module_uptime_seconds", "gauge", "Seconds since the module's current run started; 0 when not running.",
      f_uptime },
};

char *wd_metrics_text(wd_daemon *d) {
    text t = { 0 };
    uint64_t now = wd_now_ns();
    unsigned n = 0;
    for (wd_instance *in = d->instances; in; in = in->next)
        n++;
    header(&t, "wasmd_info", "gauge", "The daemon's version, as a label; always 1.");
    put(&t, "wasmd_info{version=\"");
    put_label(&t, WASMD_VERSION);
    put(&t, "\"} 1\n");
    header(&t, "wasmd_modules", "gauge", "Modules the daemon knows, in any state.");
    put(&t, "wasmd_modules %u\n", n);
    header(&t, "wasmd_memory_budget_bytes", "gauge", "Linear memory and tables all modules may hold together.");
    put(&t, "wasmd_memory_budget_bytes %" PRIu64 "\n", d->budget.limit);
    header(&t, "wasmd_memory_budget_used_bytes", "gauge", "Linear memory and tables all modules hold.");
    put(&t, "wasmd_memory_budget_used_bytes %" PRIu64 "\n", d->budget.used);
    for (size_t k = 0; k < sizeof per_module / sizeof per_module[0]; k++) {
        header(&t, per_module[k].name, per_module[k].type, per_module[k].help);
        for (wd_instance *in = d->instances; in; in = in->next) {
            put(&t, "%s{module=\"", per_module[k].name);
            put_label(&t, in->name);
            double v = per_module[k].fn(in, now);
            /* Counts exactly, as integers; times to the nanosecond. */
            if (v == (double)(int64_t)v && v < 9007199254740992.0)
                put(&t, "\"} %.0f\n", v);
            else
                put(&t, "\"} %.9f\n", v);
        }
    }
    header(&t, "wasmd_module_state", "gauge", "1 for the state the module is in, 0 for the others.");
    for (wd_instance *in = d->instances; in; in = in->next) {
        for (int s = 0; s < WD__STATE_COUNT; s++) {
            put(&t, "wasmd_module_state{module=\"");
            put_label(&t, in->name);
            put(&t, "\",state=\"%s\"} %d\n", wd_state_name((wd_state)s), in->state == (wd_state)s);
        }
    }
    if (t.failed) {
        free(t.buf);
        return NULL;
    }
    return t.buf ? t.buf : strdup("");
}

/* ---- The textfile ------------------------------------------------------ */

static int last_error;           /* errno of the last failed write, reported once */

/* Writes the file whole and renames it into place; 0 or negative errno. */
static int write_textfile(wd_daemon *d) {
    const char *dir = d->cfg->metrics_textfile_dir;
    char path[4200], tmp[4200];
    snprintf(path, sizeof path, "%s/%s", dir, METRICS_FILE);
    snprintf(tmp, sizeof tmp, "%s/.%s.%ld", dir, METRICS_FILE, (long)getpid());
    char *body = wd_metrics_text(d);
    if (!body)
        return -ENOMEM;
    int r = 0;
    FILE *f = fopen(tmp, "we");
    if (!f) {
        r = -errno;
    } else {
        size_t len = strlen(body);
        if (fwrite(body, 1, len, f) != len)
            r = -errno;
        if (fclose(f) != 0 && r == 0)
            r = -errno;
        if (r == 0 && rename(tmp, path) < 0)
            r = -errno;
        if (r < 0)
            (void)unlink(tmp);
    }
    free(body);
    return r;
}

static void on_metrics_timer(uv_timer_t *t) {
    wd_daemon *d = wd_container_of(t, wd_daemon, metrics_timer);
    int r = write_textfile(d);
    if (r < 0 && -r != last_error)
        fprintf(stderr, "wasmd: metrics: cannot write %s/%s: %s\n", d->cfg->metrics_textfile_dir, METRICS_FILE,
                strerror(-r));
    else if (r == 0 && last_error)
        fprintf(stderr, "wasmd: metrics: writing %s/%s again\n", d->cfg->metrics_textfile_dir, METRICS_FILE);
    last_error = r < 0 ? -r : 0;
}

void wd_metrics_start(wd_daemon *d) {
    if (!d->cfg->metrics || d->metrics_on)
        return;
    uv_timer_init(d->loop, &d->metrics_timer);
    d->metrics_on = true;
    fprintf(stderr, "wasmd: metrics: %s/%s every %u ms\n", d->cfg->metrics_textfile_dir, METRICS_FILE,
            d->cfg->metrics_interval_ms);
    on_metrics_timer(&d->metrics_timer);
    uv_timer_start(&d->metrics_timer, on_metrics_timer, d->cfg->metrics_interval_ms, d->cfg->metrics_interval_ms);
}

void wd_metrics_stop(wd_daemon *d) {
    if (!d->metrics_on)
        return;
    d->metrics_on = false;
    uv_close((uv_handle_t *)&d->metrics_timer, NULL);
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", d->cfg->metrics_textfile_dir, METRICS_FILE);
    (void)unlink(path);
}
