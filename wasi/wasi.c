/*
 * wasi.c - WASI contexts and linking, and the calls that touch no files:
 * arguments, environment, clocks, randomness, exit, yield, poll_oneoff.
 *
 * Every host function the store sees is the same trampoline; its `env` is
 * a wasi__binding naming the context and the function, and the
 * implementations (here, in fd.c and path.c) receive the guest memory
 * already looked up.  The guest gets a WASI errno as the i32 result; host
 * problems never trap, except proc_exit which ends the call on purpose.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/*
 * 64-bit time_t on 32-bit hosts too (see internal.h).  glibc gives it only
 * to code built with _TIME_BITS=64, as the Makefile builds wasi/.
 */
#if defined(__GLIBC__) && (__GLIBC__ > 2 || __GLIBC_MINOR__ >= 34)
_Static_assert(sizeof(time_t) >= 8, "wasi/ must be built with -D_TIME_BITS=64 -D_FILE_OFFSET_BITS=64 (see the Makefile)");
#endif

/* ---- The function table ----------------------------------------------- */

static const struct {
    const char *name;
    const char *params;        /* 'i' i32, 'I' i64 */
    const char *results;
    wasi__impl *impl;
} funcs[WASI__NFUNCS] = {
#define WASI__FUNC_ROW(name, params, results) { #name, params, results, wasi__##name },
    WASI__FUNC_MAP(WASI__FUNC_ROW)
#undef WASI__FUNC_ROW
};

/* Every WASI import is this host function; `env` says which one it is and for which context. */
static wr_status trampoline(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    const wasi__binding *b = env;
    wasi__mem mem = { NULL, 0 };
    wr_memory *m = wr_exec_memory(exec);
    if (m) {
        mem.base = wr_memory_data(m);
        mem.size = wr_memory_size(m);
    }
    wasi_ctx *ctx = b->ctx;
    /* A call parked earlier and never completed was abandoned by the embedder. */
    if (ctx->pending.active)
        wasi_ctx_cancel(ctx);
    ctx->fuel = 0;
    uint32_t e = funcs[b->func_id].impl(ctx, &mem, args);
    wr_exec_charge(exec, WASI_FUEL_CALL + ctx->fuel);
    if (e == WASI__EXITED)
        return WR_TRAP_EXIT;
    if (e == WASI__PARKED) {
        /* The implementation recorded the wait; keep what the retry needs. */
        wasi__pending *p = &ctx->pending;
        p->active = true;
        p->func_id = b->func_id;
        memcpy(p->args, args, strlen(funcs[b->func_id].params) * sizeof *args);
        p->memory = m;
        return WR_SUSPEND;
    }
    if (funcs[b->func_id].results[0])
        results[0] = e;
    return WR_OK;
}

/* ---- Parked calls ----------------------------------------------------- */

static void poll_state_free(struct wasi__poll_state *ps);

void wasi_ctx_cancel(wasi_ctx *ctx) {
    poll_state_free(ctx->pending.poll);
    ctx->pending = (wasi__pending){ .deadline = WASI_NO_DEADLINE };
}

bool wasi_ctx_pending(const wasi_ctx *ctx, wasi_wait *ret_wait) {
    if (!ctx->pending.active)
        return false;
    ret_wait->deadline = ctx->pending.deadline;
    ret_wait->fds = ctx->pending.fds;
    ret_wait->nfds = ctx->pending.nfds;
    return true;
}

wr_status wasi_ctx_complete(wasi_ctx *ctx, uint64_t *results) {
    wasi__pending *p = &ctx->pending;
    if (!p->active)
        return WR_ERR_STATE;
    /* The memory may have moved (never shrunk) since the call was made. */
    wasi__mem mem = { NULL, 0 };
    if (p->memory) {
        mem.base = wr_memory_data(p->memory);
        mem.size = wr_memory_size(p->memory);
    }
    p->retrying = true;
    uint32_t e = funcs[p->func_id].impl(ctx, &mem, p->args);
    p->retrying = false;
    if (e == WASI__PARKED)
        return WR_SUSPENDED;
    wasi_ctx_cancel(ctx);
    results[0] = e; /* only functions with an i32 result park */
    return WR_OK;
}

/* ---- Contexts --------------------------------------------------------- */

/* Fills `err` (if not NULL) and returns `s`; `fmt` may be NULL for no detail. */
static wr_status set_error(wr_error *err, wr_status s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static wr_status set_error(wr_error *err, wr_status s, const char *fmt, ...) {
    if (err) {
        err->status = s;
        err->offset = 0;
        err->detail[0] = '\0';
        if (fmt) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(err->detail, sizeof err->detail, fmt, ap);
            va_end(ap);
        }
    }
    return s;
}

/*
 * Copies `n` strings into *ret (with *ret_n set as soon as the array
 * exists, so that wasi_ctx_free can free a partial copy); *ret_bytes gets
 * their total size with one NUL each.
 */
static wr_status copy_strings(const char *const *src, size_t n, const char *what, char ***ret, uint32_t *ret_n,
                              uint32_t *ret_bytes, wr_error *err) {
    uint64_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        if (!src[i])
            return set_error(err, WR_ERR_ARGS, "%s[%zu] is NULL", what, i);
        bytes += strlen(src[i]) + 1;
    }
    if (bytes > WASI_MAX_ARGS_BYTES)
        return set_error(err, WR_ERR_LIMIT, "%s: %llu bytes, the limit is %u", what, (unsigned long long)bytes,
                         WASI_MAX_ARGS_BYTES);
    char **copy = calloc(n ? n : 1, sizeof *copy);
    if (!copy)
        return set_error(err, WR_ERR_NOMEM, "%s", what);
    *ret = copy;
    *ret_n = (uint32_t)n;
    for (size_t i = 0; i < n; i++)
        if (!(copy[i] = strdup(src[i])))
            return set_error(err, WR_ERR_NOMEM, "%s", what);
    *ret_bytes = (uint32_t)bytes;
    return WR_OK;
}

/* Gives the guest its own duplicate of a host stdio descriptor as `fd`. */
static wr_status add_stdio(wasi_ctx *ctx, uint32_t fd, int host, wr_error *err) {
    static const char *const names[] = { "stdin", "stdout", "stderr" };
    if (host < 0)
        return WR_OK;
    int dup_fd = fcntl(host, F_DUPFD_CLOEXEC, 0);
    if (dup_fd < 0)
        return set_error(err, WR_ERR_IO, "%s (fd %d): %s", names[fd], host, strerror(errno));
    if (wasi__fd_set(ctx, fd, dup_fd, WASI_RIGHTS_FILE, 0) != WASI_ESUCCESS) {
        close(dup_fd);
        return set_error(err, WR_ERR_NOMEM, "%s", names[fd]);
    }
    return WR_OK;
}

static wr_status add_preopen(wasi_ctx *ctx, uint32_t fd, const wasi_preopen *p, wr_error *err) {
    if (!p->host_path || !p->guest_path || !p->guest_path[0])
        return set_error(err, WR_ERR_ARGS, "preopen %u: empty path", fd - WASI_FIRST_FREE_FD);
    if (strlen(p->guest_path) > WASI_MAX_PATH)
        return set_error(err, WR_ERR_LIMIT, "preopen %s: guest path too long", p->guest_path);
    char *guest = strdup(p->guest_path);
    if (!guest)
        return set_error(err, WR_ERR_NOMEM, "preopen %s", p->guest_path);
    /* Read access is needed to list the directory later (fd_readdir). */
    int dirfd = open(p->host_path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dirfd < 0) {
        free(guest);
        return set_error(err, WR_ERR_IO, "%s: %s", p->host_path, strerror(errno));
    }
    if (wasi__fd_set(ctx, fd, dirfd, WASI_RIGHTS_DIR, WASI_RIGHTS_DIR | WASI_RIGHTS_FILE) != WASI_ESUCCESS) {
        close(dirfd);
        free(guest);
        return set_error(err, WR_ERR_NOMEM, "preopen %s", p->guest_path);
    }
    ctx->fds[fd].preopen = guest;
    return WR_OK;
}

wr_status wasi_ctx_new(const wasi_config *cfg, wasi_ctx **ret_ctx, wr_error *err) {
    set_error(err, WR_OK, NULL);
    if (cfg->npreopens > WASI_MAX_FDS - WASI_FIRST_FREE_FD)
        return set_error(err, WR_ERR_LIMIT, "%zu preopens, the limit is %u", cfg->npreopens,
                              WASI_MAX_FDS - WASI_FIRST_FREE_FD);
    wasi_ctx *ctx = calloc(1, sizeof *ctx);
    if (!ctx)
        return set_error(err, WR_ERR_NOMEM, NULL);
    for (uint32_t i = 0; i < WASI__NFUNCS; i++)
        ctx->bindings[i] = (wasi__binding){ ctx, i };
    ctx->nonblocking = cfg->nonblocking;
    ctx->stdio_line_fuel = cfg->stdio_line_fuel;
    ctx->sink = cfg->stdio_sink;
    ctx->sink_ud = cfg->stdio_sink_ud;
    ctx->pending.deadline = WASI_NO_DEADLINE;

    wr_status s = copy_strings(cfg->argv, cfg->argc, "argv", &ctx->argv, &ctx->argc, &ctx->argv_bytes, err);
    if (s == WR_OK)
        s = copy_strings(cfg->env, cfg->nenv, "env", &ctx->env, &ctx->nenv, &ctx->env_bytes, err);
    for (size_t i = 0; s == WR_OK && i < cfg->nenv; i++)
        if (!strchr(cfg->env[i], '='))
            s = set_error(err, WR_ERR_ARGS, "env: \"%s\" is not NAME=VALUE", cfg->env[i]);
    if (s == WR_OK)
        s = add_stdio(ctx, 0, cfg->stdin_fd, err);
    for (uint32_t fd = 1; fd <= 2 && s == WR_OK && ctx->sink; fd++)
        if (wasi__fd_set_sink(ctx, fd) != WASI_ESUCCESS)
            s = set_error(err, WR_ERR_NOMEM, "stdio sink");
    if (s == WR_OK && !ctx->sink)
        s = add_stdio(ctx, 1, cfg->stdout_fd, err);
    if (s == WR_OK && !ctx->sink)
        s = add_stdio(ctx, 2, cfg->stderr_fd, err);
    for (size_t i = 0; s == WR_OK && i < cfg->npreopens; i++)
        s = add_preopen(ctx, WASI_FIRST_FREE_FD + (uint32_t)i, &cfg->preopens[i], err);
    if (s != WR_OK) {
        wasi_ctx_free(ctx);
        return s;
    }
    *ret_ctx = ctx;
    return WR_OK;
}

void wasi_ctx_free(wasi_ctx *ctx) {
    if (!ctx)
        return;
    /* The arrays were calloc'ed, so entries never filled are NULL. */
    for (uint32_t i = 0; ctx->argv && i < ctx->argc; i++)
        free(ctx->argv[i]);
    free(ctx->argv);
    for (uint32_t i = 0; ctx->env && i < ctx->nenv; i++)
        free(ctx->env[i]);
    free(ctx->env);
    wasi_ctx_cancel(ctx);
    wasi__fd_table_free(ctx);
    free(ctx);
}

bool wasi_ctx_exit_code(const wasi_ctx *ctx, uint32_t *ret_code) {
    if (!ctx->exited)
        return false;
    *ret_code = ctx->exit_code;
    return true;
}

/* ---- Linking ---------------------------------------------------------- */

static wr_valtype sig_type(char c) {
    return c == 'I' ? WR_I64 : WR_I32;
}

/* Appends to a NUL-terminated string in a buffer of `size` bytes, cutting it short if need be. */
static void append(char *buf, size_t size, const char *s) {
    size_t n = strlen(buf);
    snprintf(buf + n, size - n, "%s", s);
}

/* "(i32 i64) -> (i32)" for error messages. */
static void format_functype(const wr_functype *t, char *buf, size_t size) {
    buf[0] = '\0';
    append(buf, size, "(");
    for (uint32_t i = 0; i < t->nparams; i++) {
        append(buf, size, i ? " " : "");
        append(buf, size, wr_valtype_name(t->types[i]));
    }
    append(buf, size, ") -> (");
    for (uint32_t i = 0; i < t->nresults; i++) {
        append(buf, size, i ? " " : "");
        append(buf, size, wr_valtype_name(t->types[t->nparams + i]));
    }
    append(buf, size, ")");
}

static int find_func(const char *name, size_t len) {
    for (int i = 0; i < WASI__NFUNCS; i++)
        if (strlen(funcs[i].name) == len && memcmp(funcs[i].name, name, len) == 0)
            return i;
    return -1;
}

static bool is_wasi_module(const wr_import_desc *d) {
    return d->module_len == strlen(WASI_MODULE_NAME) && memcmp(d->module, WASI_MODULE_NAME, d->module_len) == 0;
}

/*
 * Links the imports from wasi_snapshot_preview1.  With `partial`, imports
 * from other modules are left untouched for the caller (an unknown WASI
 * function is still an error); without it they are errors too.
 */
static wr_status link_imports(wasi_ctx *ctx, wr_store *s, const wr_module *m, wr_extern *imports, bool partial,
                              wr_error *err) {
    set_error(err, WR_OK, NULL);
    uint32_t n = wr_module_import_count(m);
    for (uint32_t i = 0; i < n; i++) {
        wr_import_desc d;
        wr_module_import(m, i, &d);
        bool wasi = is_wasi_module(&d);
        if (partial && !wasi)
            continue;
        int id = wasi && d.kind == WR_EXTERN_FUNC ? find_func(d.name, d.name_len) : -1;
        if (id < 0)
            return set_error(err, WR_ERR_UNKNOWN_IMPORT, "%.*s.%.*s (%s)", (int)d.module_len, d.module,
                                  (int)d.name_len, d.name, wr_externkind_name(d.kind));

        wr_valtype types[16];
        wr_functype want = {
            .nparams = (uint32_t)strlen(funcs[id].params),
            .nresults = (uint32_t)strlen(funcs[id].results),
            .types = types,
        };
        for (uint32_t k = 0; k < want.nparams; k++)
            types[k] = sig_type(funcs[id].params[k]);
        for (uint32_t k = 0; k < want.nresults; k++)
            types[want.nparams + k] = sig_type(funcs[id].results[k]);
        const wr_functype *have = d.functype;
        if (have->nparams != want.nparams || have->nresults != want.nresults ||
            memcmp(have->types, want.types, (want.nparams + want.nresults) * sizeof *types) != 0) {
            char want_s[96], have_s[96];
            format_functype(&want, want_s, sizeof want_s);
            format_functype(have, have_s, sizeof have_s);
            return set_error(err, WR_ERR_INCOMPATIBLE_IMPORT, "%s.%s: WASI has %s, the module expects %s",
                                  WASI_MODULE_NAME, funcs[id].name, want_s, have_s);
        }
        wr_func *f = wr_func_new_host(s, &want, trampoline, &ctx->bindings[id]);
        if (!f)
            return set_error(err, WR_ERR_NOMEM, "%s.%s", WASI_MODULE_NAME, funcs[id].name);
        imports[i].kind = WR_EXTERN_FUNC;
        imports[i].of.func = f;
    }
    return WR_OK;
}

wr_status wasi_ctx_link(wasi_ctx *ctx, wr_store *s, const wr_module *m, wr_extern *imports, wr_error *err) {
    return link_imports(ctx, s, m, imports, false, err);
}

wr_status wasi_ctx_link_partial(wasi_ctx *ctx, wr_store *s, const wr_module *m, wr_extern *imports, wr_error *err) {
    return link_imports(ctx, s, m, imports, true, err);
}

bool wasi_import_is_wasi(const wr_module *m, uint32_t i) {
    wr_import_desc d;
    wr_module_import(m, i, &d);
    return is_wasi_module(&d);
}

/* ---- args, environ ---------------------------------------------------- */

/* Writes `n` pointers at `ptrs` and the strings themselves at `buf`, as argv/environ. */
static uint32_t store_strings(const wasi__mem *mem, char *const *strs, uint32_t n, uint32_t bytes, uint32_t ptrs,
                              uint32_t buf) {
    if (!wasi__mem_ok(mem, ptrs, (uint64_t)n * 4) || !wasi__mem_ok(mem, buf, bytes))
        return WASI_EFAULT;
    for (uint32_t i = 0; i < n; i++) {
        size_t len = strlen(strs[i]) + 1;
        wasi__store32(mem, ptrs + 4 * i, buf);
        memcpy(wasi__at(mem, buf), strs[i], len);
        buf += (uint32_t)len;
    }
    return WASI_ESUCCESS;
}

static uint32_t store_sizes(const wasi__mem *mem, uint32_t n, uint32_t bytes, uint32_t ret_n, uint32_t ret_bytes) {
    if (!wasi__mem_ok(mem, ret_n, 4) || !wasi__mem_ok(mem, ret_bytes, 4))
        return WASI_EFAULT;
    wasi__store32(mem, ret_n, n);
    wasi__store32(mem, ret_bytes, bytes);
    return WASI_ESUCCESS;
}

uint32_t wasi__args_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    ctx->fuel += ctx->argv_bytes / WASI_FUEL_IO_BYTES;
    return store_strings(mem, ctx->argv, ctx->argc, ctx->argv_bytes, WASI_ARG32(args, 0), WASI_ARG32(args, 1));
}

uint32_t wasi__args_sizes_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return store_sizes(mem, ctx->argc, ctx->argv_bytes, WASI_ARG32(args, 0), WASI_ARG32(args, 1));
}

uint32_t wasi__environ_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    ctx->fuel += ctx->env_bytes / WASI_FUEL_IO_BYTES;
    return store_strings(mem, ctx->env, ctx->nenv, ctx->env_bytes, WASI_ARG32(args, 0), WASI_ARG32(args, 1));
}

uint32_t wasi__environ_sizes_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return store_sizes(mem, ctx->nenv, ctx->env_bytes, WASI_ARG32(args, 0), WASI_ARG32(args, 1));
}

/* ---- Clocks ----------------------------------------------------------- */

static bool host_clock(uint32_t id, clockid_t *ret) {
    switch (id) {
    case WASI_CLOCK_REALTIME: *ret = CLOCK_REALTIME; return true;
    case WASI_CLOCK_MONOTONIC: *ret = CLOCK_MONOTONIC; return true;
    case WASI_CLOCK_PROCESS_CPUTIME_ID: *ret = CLOCK_PROCESS_CPUTIME_ID; return true;
    case WASI_CLOCK_THREAD_CPUTIME_ID: *ret = CLOCK_THREAD_CPUTIME_ID; return true;
    }
    return false;
}

static uint64_t ts_to_ns(const struct timespec *ts) {
    if (ts->tv_sec < 0)
        return 0;
    return (uint64_t)ts->tv_sec * WASI_NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

/* Reads clock `id` in nanoseconds; false (with errno) if it cannot be read. */
static bool clock_now(clockid_t id, uint64_t *ret_ns) {
    struct timespec ts;
    if (clock_gettime(id, &ts) < 0)
        return false;
    *ret_ns = ts_to_ns(&ts);
    return true;
}

uint32_t wasi__clock_res_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t ret = WASI_ARG32(args, 1);
    clockid_t id;
    if (!host_clock(WASI_ARG32(args, 0), &id))
        return WASI_EINVAL;
    if (!wasi__mem_ok(mem, ret, 8))
        return WASI_EFAULT;
    struct timespec ts;
    if (clock_getres(id, &ts) < 0)
        return wasi_errno_from_host(errno);
    wasi__store64(mem, ret, ts_to_ns(&ts));
    return WASI_ESUCCESS;
}

/* The precision argument is a hint; the host clock is read at its own. */
uint32_t wasi__clock_time_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t ret = WASI_ARG32(args, 2);
    clockid_t id;
    if (!host_clock(WASI_ARG32(args, 0), &id))
        return WASI_EINVAL;
    if (!wasi__mem_ok(mem, ret, 8))
        return WASI_EFAULT;
    uint64_t ns;
    if (!clock_now(id, &ns))
        return wasi_errno_from_host(errno);
    wasi__store64(mem, ret, ns);
    return WASI_ESUCCESS;
}

/* ---- random, proc, sched ---------------------------------------------- */

uint32_t wasi__random_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t buf = WASI_ARG32(args, 0), len = WASI_ARG32(args, 1);
    if (!wasi__mem_ok(mem, buf, len))
        return WASI_EFAULT;
    uint8_t *p = wasi__at(mem, buf);
    ctx->fuel += len / WASI_FUEL_RANDOM_BYTES;
    /* getrandom returns at most 32 MiB per call, and may be interrupted. */
    while (len > 0) {
        ssize_t n = getrandom(p, len, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return wasi_errno_from_host(errno);
        }
        p += n;
        len -= (uint32_t)n;
    }
    return WASI_ESUCCESS;
}

uint32_t wasi__proc_exit(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    ctx->exited = true;
    ctx->exit_code = WASI_ARG32(args, 0);
    return WASI__EXITED;
}

uint32_t wasi__sched_yield(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    sched_yield();
    return WASI_ESUCCESS;
}

/* ---- poll_oneoff ------------------------------------------------------ */

/*
 * Waits until one of the subscriptions is ready: a clock reaching its
 * timeout, or a descriptor becoming readable/writable.  Clocks are turned
 * into one deadline on CLOCK_MONOTONIC; descriptors go to one ppoll().
 * A subscription that is wrong (bad descriptor, unknown clock) produces an
 * event with that error at once, as the WASI spec asks, rather than
 * failing the whole call.
 *
 * The call is three steps, so that a parked call (nonblocking mode) can
 * finish later with exactly the blocking call's results: poll_prepare reads
 * the subscriptions once, at the time of the call (relative timeouts count
 * from then); poll_check asks the kernel what is ready, waiting or not; and
 * poll_report writes the events.  Blocking runs them in a row; nonblocking
 * keeps the prepared state in ctx->pending and checks again on each retry.
 */

/* Subscription field offsets (see WASI_SUBSCRIPTION_SIZE). */
#define SUB_USERDATA      0u
#define SUB_TAG           8u
#define SUB_CLOCK_ID      16u
#define SUB_CLOCK_TIMEOUT 24u
#define SUB_CLOCK_FLAGS   40u
#define SUB_FD            16u
/* Event field offsets (see WASI_EVENT_SIZE). */
#define EV_USERDATA 0u
#define EV_ERROR    8u
#define EV_TYPE     10u
#define EV_NBYTES   16u
#define EV_FLAGS    24u

typedef struct poll_sub {
    uint64_t userdata;
    uint8_t type;              /* WASI_EVENTTYPE_* */
    uint16_t error;            /* set: an immediate event with this error */
    bool sink;                 /* FD_WRITE on a stdio sink: always ready */
    uint64_t deadline;         /* clocks: CLOCK_MONOTONIC ns */
    int pollfd;                /* descriptors: index in the pollfd array */
} poll_sub;

/* One poll_oneoff call between reading its subscriptions and writing its events. */
typedef struct wasi__poll_state {
    uint32_t out, ret_n;       /* where the events and their count go */
    uint32_t nsubs;
    poll_sub *subs;            /* owned, nsubs */
    struct pollfd *pfds;       /* owned, room for nsubs */
    nfds_t npfds;
    wasi_wait_fd *wait_fds;    /* owned, npfds: the same descriptors for wasi_ctx_pending */
    bool immediate;            /* some subscription failed, or is a sink's: report at once */
    bool have_clock;
    uint64_t deadline;         /* the earliest clock, CLOCK_MONOTONIC ns */
} poll_state;

static void poll_state_free(poll_state *ps) {
    if (!ps)
        return;
    free(ps->subs);
    free(ps->pfds);
    free(ps->wait_fds);
    free(ps);
}

static void store_event(const wasi__mem *mem, uint32_t out, uint32_t i, const poll_sub *s, uint16_t error,
                        uint64_t nbytes, uint16_t flags) {
    uint32_t ev = out + i * WASI_EVENT_SIZE;
    memset(wasi__at(mem, ev), 0, WASI_EVENT_SIZE);
    wasi__store64(mem, ev + EV_USERDATA, s->userdata);
    wasi__store16(mem, ev + EV_ERROR, error);
    wasi__store8(mem, ev + EV_TYPE, s->type);
    wasi__store64(mem, ev + EV_NBYTES, nbytes);
    wasi__store16(mem, ev + EV_FLAGS, flags);
}

/* Reads one subscription; clock ones get their monotonic deadline, descriptor ones a pollfd. */
static void read_subscription(wasi_ctx *ctx, const wasi__mem *mem, uint32_t in, uint64_t mono_now, poll_sub *s,
                              struct pollfd *pfds, nfds_t *npfds) {
    s->userdata = wasi__load64(mem, in + SUB_USERDATA);
    s->type = wasi__at(mem, in + SUB_TAG)[0];
    s->error = WASI_ESUCCESS;
    s->pollfd = -1;
    if (s->type == WASI_EVENTTYPE_CLOCK) {
        uint64_t timeout = wasi__load64(mem, in + SUB_CLOCK_TIMEOUT);
        uint16_t flags = wasi__load16(mem, in + SUB_CLOCK_FLAGS);
        clockid_t id;
        uint64_t now;
        if (!host_clock(wasi__load32(mem, in + SUB_CLOCK_ID), &id)) {
            s->error = WASI_EINVAL;
            return;
        }
        if (flags & WASI_SUBCLOCK_ABSTIME) {
            if (!clock_now(id, &now)) {
                s->error = wasi_errno_from_host(errno);
                return;
            }
            timeout = timeout > now ? timeout - now : 0;
        }
        s->deadline = timeout > UINT64_MAX - mono_now ? UINT64_MAX : mono_now + timeout;
    } else if (s->type == WASI_EVENTTYPE_FD_READ || s->type == WASI_EVENTTYPE_FD_WRITE) {
        uint32_t e;
        wasi__fd *f = wasi__fd_lookup(ctx, wasi__load32(mem, in + SUB_FD), WASI_RIGHT_POLL_FD_READWRITE, &e);
        if (!f) {
            s->error = (uint16_t)e;
            return;
        }
        if (wasi__fd_is_sink(f)) {
            /* Writable at once; nothing can be read from it, as from a descriptor opened write-only. */
            if (s->type == WASI_EVENTTYPE_FD_WRITE)
                s->sink = true;
            else
                s->error = WASI_EBADF;
            return;
        }
        s->pollfd = (int)*npfds;
        pfds[*npfds].fd = f->host;
        pfds[*npfds].events = s->type == WASI_EVENTTYPE_FD_READ ? POLLIN : POLLOUT;
        pfds[*npfds].revents = 0;
        ++*npfds;
    } else {
        s->error = WASI_EINVAL;
    }
}

/* Checks the arguments and reads every subscription into a new *ret_ps. */
static uint32_t poll_prepare(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args, poll_state **ret_ps) {
    uint32_t in = WASI_ARG32(args, 0), out = WASI_ARG32(args, 1);
    uint32_t nsubs = WASI_ARG32(args, 2), ret_n = WASI_ARG32(args, 3);
    if (nsubs == 0 || nsubs > WASI_MAX_POLL_SUBS)
        return WASI_EINVAL;
    if (!wasi__mem_ok(mem, in, (uint64_t)nsubs * WASI_SUBSCRIPTION_SIZE) ||
        !wasi__mem_ok(mem, out, (uint64_t)nsubs * WASI_EVENT_SIZE) || !wasi__mem_ok(mem, ret_n, 4))
        return WASI_EFAULT;
    ctx->fuel += (uint64_t)nsubs * WASI_SUBSCRIPTION_SIZE / WASI_FUEL_IO_BYTES;

    poll_state *ps = calloc(1, sizeof *ps);
    if (!ps)
        return WASI_ENOMEM;
    ps->out = out;
    ps->ret_n = ret_n;
    ps->nsubs = nsubs;
    ps->deadline = UINT64_MAX;
    ps->subs = calloc(nsubs, sizeof *ps->subs);
    ps->pfds = calloc(nsubs, sizeof *ps->pfds);
    if (!ps->subs || !ps->pfds) {
        poll_state_free(ps);
        return WASI_ENOMEM;
    }
    uint64_t now;
    if (!clock_now(CLOCK_MONOTONIC, &now)) {
        poll_state_free(ps);
        return wasi_errno_from_host(errno);
    }
    /* Every subscription is read before any event is written: `in` and `out` may overlap. */
    for (uint32_t i = 0; i < nsubs; i++) {
        poll_sub *s = &ps->subs[i];
        read_subscription(ctx, mem, in + i * WASI_SUBSCRIPTION_SIZE, now, s, ps->pfds, &ps->npfds);
        if (s->error != WASI_ESUCCESS || s->sink) {
            ps->immediate = true;
        } else if (s->type == WASI_EVENTTYPE_CLOCK) {
            ps->have_clock = true;
            if (s->deadline < ps->deadline)
                ps->deadline = s->deadline;
        }
    }
    *ret_ps = ps;
    return WASI_ESUCCESS;
}

/*
 * Asks the kernel which descriptors are ready, waiting until something is
 * when `block` (forever if there is neither clock nor error), not at all
 * otherwise.  *ret_ready says whether there is an event to report.
 */
static uint32_t poll_check(poll_state *ps, bool block, bool *ret_ready) {
    for (;;) {
        uint64_t now;
        if (!clock_now(CLOCK_MONOTONIC, &now))
            return wasi_errno_from_host(errno);
        bool clock_due = ps->have_clock && ps->deadline <= now;
        struct timespec ts = { 0, 0 }, *tsp = &ts;
        if (block && !ps->immediate && !clock_due) {
            if (!ps->have_clock || ps->deadline == UINT64_MAX) {
                tsp = NULL;
            } else {
                /* Centuries away at most: a wait that long wakes early and waits again. */
                uint64_t left = ps->deadline - now;
                if (!wasi__time_fits(left / WASI_NS_PER_SEC))
                    left = (uint64_t)INT32_MAX * WASI_NS_PER_SEC;
                ts.tv_sec = (time_t)(left / WASI_NS_PER_SEC);
                ts.tv_nsec = (long)(left % WASI_NS_PER_SEC);
            }
        }
        int r = ppoll(ps->pfds, ps->npfds, tsp, NULL);
        if (r < 0 && errno != EINTR)
            return wasi_errno_from_host(errno);
        if (r < 0)
            continue;
        if (!clock_now(CLOCK_MONOTONIC, &now))
            return wasi_errno_from_host(errno);
        /* Ready means poll_report will write at least one event. */
        bool ready = ps->immediate || r > 0 || (ps->have_clock && ps->deadline <= now);
        if (ready || !block) {
            *ret_ready = ready;
            return WASI_ESUCCESS;
        }
        /* A timeout a little early by CLOCK_MONOTONIC's reckoning: wait for the rest. */
    }
}

/* Writes the events of everything that is ready, and their number. */
static uint32_t poll_report(const wasi__mem *mem, const poll_state *ps) {
    /* Checked at the call already; memory never shrinks, but this costs nothing. */
    if (!wasi__mem_ok(mem, ps->out, (uint64_t)ps->nsubs * WASI_EVENT_SIZE) || !wasi__mem_ok(mem, ps->ret_n, 4))
        return WASI_EFAULT;
    uint64_t now;
    if (!clock_now(CLOCK_MONOTONIC, &now))
        return wasi_errno_from_host(errno);
    uint32_t nevents = 0;
    for (uint32_t i = 0; i < ps->nsubs; i++) {
        const poll_sub *s = &ps->subs[i];
        if (s->error != WASI_ESUCCESS || s->sink) {
            store_event(mem, ps->out, nevents++, s, s->error, 0, 0);
        } else if (s->type == WASI_EVENTTYPE_CLOCK) {
            if (s->deadline <= now)
                store_event(mem, ps->out, nevents++, s, WASI_ESUCCESS, 0, 0);
        } else {
            const struct pollfd *p = &ps->pfds[s->pollfd];
            if (!p->revents)
                continue;
            uint16_t error = WASI_ESUCCESS, flags = 0;
            int avail = 0;
            if (p->revents & POLLNVAL)
                error = WASI_EBADF;
            else if ((p->revents & POLLERR) && !(p->revents & (POLLIN | POLLOUT)))
                error = WASI_EIO;
            if (p->revents & POLLHUP)
                flags |= WASI_EVENTRW_HANGUP;
            /* How much can be read without blocking, where the host can tell. */
            if (s->type == WASI_EVENTTYPE_FD_READ && ioctl(p->fd, FIONREAD, &avail) < 0)
                avail = 0;
            store_event(mem, ps->out, nevents++, s, error, avail > 0 ? (uint64_t)avail : 0, flags);
        }
    }
    wasi__store32(mem, ps->ret_n, nevents);
    return WASI_ESUCCESS;
}

/* Parks a poll_oneoff whose state `ps` (now the context's) has nothing ready yet. */
static uint32_t poll_park(wasi_ctx *ctx, poll_state *ps) {
    if (ps->npfds && !ps->wait_fds) {
        ps->wait_fds = calloc(ps->npfds, sizeof *ps->wait_fds);
        if (!ps->wait_fds)
            return WASI_ENOMEM;
        for (nfds_t i = 0; i < ps->npfds; i++) {
            ps->wait_fds[i].fd = ps->pfds[i].fd;
            ps->wait_fds[i].events = ps->pfds[i].events == POLLIN ? WASI_WAIT_READABLE : WASI_WAIT_WRITABLE;
        }
    }
    ctx->pending.poll = ps;
    ctx->pending.deadline = ps->have_clock ? ps->deadline : WASI_NO_DEADLINE;
    ctx->pending.fds = ps->wait_fds;
    ctx->pending.nfds = ps->npfds;
    return WASI__PARKED;
}

uint32_t wasi__poll_oneoff(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    poll_state *ps = NULL;
    uint32_t e;
    if (ctx->pending.retrying) {
        /* The subscriptions as they were read when the call was made. */
        ps = ctx->pending.poll;
    } else {
        e = poll_prepare(ctx, mem, args, &ps);
        if (e != WASI_ESUCCESS)
            return e;
    }
    bool ready = false;
    e = poll_check(ps, !ctx->nonblocking, &ready);
    if (e == WASI_ESUCCESS && !ready) {
        e = poll_park(ctx, ps);
        if (e == WASI__PARKED)
            return e; /* ps now belongs to ctx->pending */
    }
    if (e == WASI_ESUCCESS)
        e = poll_report(mem, ps);
    /* On a retry wasi_ctx_complete frees the state with the rest of the parked call. */
    if (!ctx->pending.retrying)
        poll_state_free(ps);
    return e;
}

/*
 * fd_read's question in nonblocking mode.  A descriptor the guest made
 * nonblocking answers EAGAIN itself, as it would in blocking mode.  The
 * host descriptor's own flags are left alone: stdio descriptors are shared
 * with other processes, which must not see O_NONBLOCK appear.
 */
bool wasi__would_block(wasi_ctx *ctx, int host, unsigned events) {
    if (!ctx->nonblocking)
        return false;
    int fl = fcntl(host, F_GETFL);
    if (fl < 0 || (fl & O_NONBLOCK))
        return false;
    struct pollfd p = { .fd = host, .events = (events & WASI_WAIT_READABLE) ? POLLIN : POLLOUT };
    int r;
    do {
        r = poll(&p, 1, 0);
    } while (r < 0 && errno == EINTR);
    /* Readable, end of file, an error or a bad descriptor: the read itself will tell. */
    if (r != 0)
        return false;
    ctx->pending.one_fd = (wasi_wait_fd){ host, events };
    ctx->pending.fds = &ctx->pending.one_fd;
    ctx->pending.nfds = 1;
    ctx->pending.deadline = WASI_NO_DEADLINE;
    return true;
}

/* ---- proc_raise, sockets ---------------------------------------------- */

/* proc_raise is deprecated in WASI and wasi-libc's raise() does not need it. */
uint32_t wasi__proc_raise(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}

/*
 * No sockets are handed to guests yet (they come with the daemon's network
 * capability), so these only tell the guest why it cannot: EBADF for a
 * descriptor that is not open, ENOTSOCK for one that is not a socket, and
 * ENOTSUP for a socket the embedder passed as stdio.
 */
static uint32_t no_socket(wasi_ctx *ctx, uint32_t fd) {
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, fd, 0, &e);
    if (!f)
        return e;
    if (f->filetype != WASI_FILETYPE_SOCKET_STREAM && f->filetype != WASI_FILETYPE_SOCKET_DGRAM)
        return WASI_ENOTSOCK;
    return WASI_ENOTSUP;
}

uint32_t wasi__sock_accept(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return no_socket(ctx, WASI_ARG32(args, 0));
}

uint32_t wasi__sock_recv(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return no_socket(ctx, WASI_ARG32(args, 0));
}

uint32_t wasi__sock_send(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return no_socket(ctx, WASI_ARG32(args, 0));
}

uint32_t wasi__sock_shutdown(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return no_socket(ctx, WASI_ARG32(args, 0));
}
