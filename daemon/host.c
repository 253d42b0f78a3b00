/*
 * host.c - the "wasmd" imports: the host side of the module ABI in
 * sdk/wasmd.h (timers and logging here; the hardware imports in hw.c),
 * and linking a module's imports to them.
 *
 * Each import becomes a host function of the run's store whose env is the
 * instance, so the functions live exactly as long as the run.  Guest
 * pointers are checked against the calling instance's memory before use,
 * and every failure reaches the guest as a WASMD_* code: nothing a guest
 * passes can trap the daemon or the guest itself.
 *
 * Timers are uv timers, one wd_timer each, freed in their close callback.
 * An expiry does not call the guest: it queues an event for the instance
 * (wd_instance_post), which the scheduler delivers as a call of
 * wasmd_on_timer when the instance is idle.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"
#include "daemon/validate.h"
#include "sdk/wasmd.h"

/* ---- Guest memory -------------------------------------------------------- */

uint8_t *wd_guest_bytes(wr_exec *exec, uint32_t ptr, uint64_t len) {
    wr_memory *mem = exec ? wr_exec_memory(exec) : NULL;
    /* Without a sum that could wrap, whatever len is. */
    if (!mem || len > wr_memory_size(mem) || ptr > wr_memory_size(mem) - len)
        return NULL;
    wr_exec_charge(exec, len / WD_FUEL_HOST_BYTES); /* what the import moves, it pays for */
    return wr_memory_data(mem) + ptr;
}

/* ---- Timers ------------------------------------------------------------- */

static void timer_close_cb(uv_handle_t *h) {
    wd_timer *t = wd_container_of(h, wd_timer, handle);
    wd_instance *in = t->inst;
    free(t);
    wd_instance_handle_closed(in);
}

static wd_timer *timer_find(wd_instance *in, uint32_t id) {
    for (wd_timer *t = in->timers; t; t = t->next)
        if (t->id == id)
            return t;
    return NULL;
}

/* Unlinks and closes a timer. */
static void timer_remove(wd_instance *in, wd_timer *t) {
    for (wd_timer **p = &in->timers; *p; p = &(*p)->next) {
        if (*p == t) {
            *p = t->next;
            break;
        }
    }
    in->ntimers--;
    uv_close((uv_handle_t *)&t->handle, timer_close_cb);
}

static void on_timer(uv_timer_t *h) {
    wd_timer *t = wd_container_of(h, wd_timer, handle);
    wd_instance *in = t->inst;
    uint32_t id = t->id;
    if (t->repeat) {
        /*
         * The next expiry is due one interval after this one was due, not
         * after now, so that the period does not drift by the loop's
         * lateness.  A timer late by more than a whole interval skips the
         * expiries it missed instead of firing them in a burst.
         */
        uint64_t now = uv_now(in->daemon->loop);
        t->due_ms += t->interval_ms;
        if (t->due_ms <= now)
            t->due_ms = now + t->interval_ms;
        uv_timer_start(&t->handle, on_timer, t->due_ms - now, 0);
    } else {
        timer_remove(in, t);
    }
    wd_instance_post(in, &(wd_event){ .kind = WD_EVENT_TIMER, .id = id });
}

void wd_host_timers_close(wd_instance *in) {
    while (in->timers)
        timer_remove(in, in->timers);
}

/* ---- The imports -------------------------------------------------------- */

static wasmd_error timer_start(wd_instance *in, uint32_t id, uint32_t interval_ms, bool repeat) {
    if (in->stopping)
        return WASMD_ESTATE;
    if (!in->reactor || !in->on_timer)
        return WASMD_ENOTSUP;
    if (repeat && interval_ms == 0)
        return WASMD_EINVAL;
    wd_timer *t = timer_find(in, id);
    if (!t) {
        if (in->ntimers >= WASMD_MAX_TIMERS || !(t = calloc(1, sizeof *t)))
            return WASMD_ELIMIT;
        uv_timer_init(in->daemon->loop, &t->handle);
        t->inst = in;
        t->id = id;
        t->next = in->timers;
        in->timers = t;
        in->ntimers++;
        in->open_handles++;
    }
    (void)wd_instance_drop_event(in, WD_EVENT_TIMER, id);
    t->interval_ms = interval_ms;
    t->repeat = repeat;
    /* The loop's clock lags while slices run; read it afresh. */
    uv_update_time(in->daemon->loop);
    t->due_ms = uv_now(in->daemon->loop) + interval_ms;
    uv_timer_start(&t->handle, on_timer, interval_ms, 0);
    return WASMD_OK;
}

wr_status wd_host_timer_start(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    results[0] = (uint32_t)timer_start(env, (uint32_t)args[0], (uint32_t)args[1], (int32_t)args[2] != 0);
    return WR_OK;
}

wr_status wd_host_timer_stop(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    wd_instance *in = env;
    uint32_t id = (uint32_t)args[0];
    wd_timer *t = timer_find(in, id);
    bool had_event = wd_instance_drop_event(in, WD_EVENT_TIMER, id);
    if (t)
        timer_remove(in, t);
    results[0] = (uint32_t)(t || had_event ? WASMD_OK : WASMD_ENOENT);
    return WR_OK;
}

static const char *const level_tags[] = {
#define LEVEL_TAG(name, value, tag) [value] = tag,
    WASMD_LOG_LEVEL_MAP(LEVEL_TAG)
#undef LEVEL_TAG
};

static wasmd_error log_text(wd_instance *in, wr_exec *exec, int32_t level, uint32_t ptr, uint32_t len) {
    if (level < 0 || (size_t)level >= sizeof level_tags / sizeof level_tags[0] || !level_tags[level])
        return WASMD_EINVAL;
    const uint8_t *text = wd_guest_bytes(exec, ptr, len);
    if (!text)
        return WASMD_EFAULT;
    if (len > WASMD_LOG_MAX)
        len = WASMD_LOG_MAX;
    char line[WD_LOG_LINE_MAX + 1];
    size_t n = 0;
    for (uint32_t i = 0; i <= len; i++) {
        if (i == len || text[i] == '\n') {
            if (i < len || n > 0) {
                line[n] = '\0';
                wd_instance_log(in, level_tags[level], line);
                wr_exec_charge(exec, WD_FUEL_LOG_LINE);
            }
            n = 0;
            continue;
        }
        if (n == WD_LOG_LINE_MAX)
            continue; /* the rest of an overlong line is dropped */
        /* A NUL would end the C string early: show it, like other control bytes, as '?'. */
        line[n++] = text[i] < 0x20 && text[i] != '\t' ? '?' : (char)text[i];
    }
    return WASMD_OK;
}

wr_status wd_host_log(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    results[0] = (uint32_t)log_text(env, exec, (int32_t)args[0], (uint32_t)args[1], (uint32_t)args[2]);
    return WR_OK;
}

/* The imports: the rows of WD_HOST_IMPORT_MAP (daemon/validate.h), each linked to wd_host_NAME. */
typedef struct host_import {
    const char *name;
    const char *params, *results; /* type letters, as in the map */
    wr_host_fn fn;
} host_import;

static const host_import host_imports[] = {
#define WD__HOST_ROW(nm, par, res, cap) { #nm, par, res, wd_host_##nm },
    WD_HOST_IMPORT_MAP(WD__HOST_ROW)
#undef WD__HOST_ROW
};

/* ---- Linking ------------------------------------------------------------ */

const char *wd_printable(const void *bytes, uint32_t len, char *buf, size_t size) {
    const unsigned char *s = bytes;
    size_t n = 0;
    for (uint32_t i = 0; i < len && n + 1 < size; i++)
        buf[n++] = s[i] >= 0x20 && s[i] < 0x7f ? (char)s[i] : '?';
    buf[n] = '\0';
    return buf;
}

static wr_valtype letter_type(char c) {
    switch (c) {
    case 'I': return WR_I64;
    case 'f': return WR_F32;
    case 'F': return WR_F64;
    default: return WR_I32;
    }
}

/* Fills the wr_functype of a row into `t`, whose types go to `buf` (at least 8 entries). */
static void row_type(const host_import *h, wr_functype *t, wr_valtype *buf) {
    t->nparams = (uint32_t)strlen(h->params);
    t->nresults = (uint32_t)strlen(h->results);
    for (uint32_t i = 0; i < t->nparams; i++)
        buf[i] = letter_type(h->params[i]);
    for (uint32_t i = 0; i < t->nresults; i++)
        buf[t->nparams + i] = letter_type(h->results[i]);
    t->types = buf;
}

/* "(i32, i32) -> i32" */
static void format_type(const wr_functype *t, char *buf, size_t size) {
    size_t n = (size_t)snprintf(buf, size, "(");
    for (uint32_t i = 0; i < t->nparams && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", wr_valtype_name(t->types[i]));
    if (n < size)
        n += (size_t)snprintf(buf + n, size - n, ") -> ");
    if (n < size)
        snprintf(buf + n, size - n, "%s", t->nresults ? wr_valtype_name(t->types[t->nparams]) : "()");
}

bool wd_host_link(wd_instance *in, const wr_module *m, wr_extern *imports, char *why) {
    static const size_t modlen = sizeof WASMD_IMPORT_MODULE - 1;
    uint32_t n = wr_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        if (wasi_import_is_wasi(m, i))
            continue;
        wr_import_desc d;
        wr_module_import(m, i, &d);
        char mod[64], name[64];
        wd_printable(d.module, d.module_len, mod, sizeof mod);
        wd_printable(d.name, d.name_len, name, sizeof name);
        if (d.module_len != modlen || memcmp(d.module, WASMD_IMPORT_MODULE, modlen) != 0) {
            snprintf(why, WD_REASON_MAX, "unknown import %s.%s: wasmd provides only %s and %s imports", mod, name,
                     WASI_MODULE_NAME, WASMD_IMPORT_MODULE);
            return false;
        }
        const host_import *h = NULL;
        for (size_t k = 0; k < sizeof host_imports / sizeof host_imports[0] && !h; k++)
            if (strlen(host_imports[k].name) == d.name_len && memcmp(host_imports[k].name, d.name, d.name_len) == 0)
                h = &host_imports[k];
        if (!h) {
            snprintf(why, WD_REASON_MAX, "unknown import %s.%s: not in the wasmd module ABI (version %d)", mod, name,
                     WASMD_ABI_VERSION);
            return false;
        }
        wr_valtype types[8];
        wr_functype ft;
        row_type(h, &ft, types);
        if (d.kind != WR_EXTERN_FUNC || !wd_functype_matches(d.functype, h->params, h->results)) {
            char type[64];
            format_type(&ft, type, sizeof type);
            snprintf(why, WD_REASON_MAX, "incompatible import %s.%s: must be a function %s", mod, name, type);
            return false;
        }
        wr_func *f = wr_func_new_host(in->store, &ft, h->fn, in);
        if (!f) {
            snprintf(why, WD_REASON_MAX, "out of memory");
            return false;
        }
        imports[i].kind = WR_EXTERN_FUNC;
        imports[i].of.func = f;
    }
    return true;
}
