/*
 * wasi.h - wasi_snapshot_preview1 for modules run by the wasmd engine (wr.h).
 *
 * A wasi_ctx is one guest process as WASI sees it: its arguments, its
 * environment, its file descriptor table (with rights) and its exit code.
 * wasi_ctx_link() turns every wasi_snapshot_preview1 import of a module into
 * a host function of the given store, bound to the context; the functions
 * find the guest's memory through wr_exec_memory() at each call, so linking
 * needs no instance and one context may serve the instance that is being
 * created from that import list.
 *
 * The guest sees only what the configuration gives it: exactly the listed
 * arguments and environment variables (nothing is taken from the host's
 * environment), its three stdio descriptors, and the preopened directories.
 * Paths are resolved beneath a preopened directory; a path that would leave
 * it (an absolute path, "..", or a symbolic link pointing outside) fails
 * with WASI_ENOTCAPABLE.
 *
 * Every wasi_snapshot_preview1 function is implemented, except proc_raise
 * (deprecated; WASI_ENOSYS) and the socket calls: no socket is handed to a
 * guest, so sock_* answer WASI_EBADF for a closed descriptor, WASI_ENOTSOCK
 * for one that is not a socket and WASI_ENOTSUP for a socket.
 *
 * Every guest pointer and length is checked against the memory size before
 * it is used (WASI_EFAULT), and host errors reach the guest as the WASI
 * errno of the same meaning (wasi_errno_from_host).
 *
 * By default host calls block the calling thread (reads, writes,
 * poll_oneoff's sleeps).  With wasi_config.nonblocking, the calls that wait
 * for time or input (poll_oneoff, and fd_read on a descriptor without
 * FDFLAG_NONBLOCK that has nothing to read) park instead: the host function
 * returns WR_SUSPEND, so wr_call/wr_resume return WR_SUSPENDED, and the
 * embedder proceeds as follows:
 *
 *     while (s == WR_SUSPENDED) {
 *         wasi_wait w;
 *         wasi_ctx_pending(ctx, &w);       // what the call waits for
 *         ... wait for w.deadline or any of w.fds (in the daemon: libuv) ...
 *         uint64_t res[1];
 *         if (wasi_ctx_complete(ctx, res) == WR_OK)  // retries the call without blocking
 *             s = wr_resume(exec, res, results, nresults);
 *     }
 *
 * wasi_ctx_complete() runs the same code as the blocking call, on the
 * state recorded when the call was made (the subscriptions and deadlines
 * of poll_oneoff are not read again), so the guest sees the same results
 * as it would have seen blocking.  When nothing is ready yet (a spurious
 * wake-up) it returns WR_SUSPENDED and the call stays parked.
 *
 * Nothing here is thread-safe: use a context from one thread at a time.
 * The library does not log and does not touch signal dispositions.
 */
#ifndef WASI_H
#define WASI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "wr.h"

/* The import module name this layer serves. */
#define WASI_MODULE_NAME "wasi_snapshot_preview1"

/*
 * WASI errno values (wasi_snapshot_preview1 "errno") as the guest sees them:
 * name, value, and the Linux errno that translates to it (0 for none:
 * NOTCAPABLE is WASI's own, for a sandbox or rights violation).
 */
#define WASI_ERRNO_MAP(X) \
    X(SUCCESS,         0, 0) \
    X(2BIG,            1, E2BIG) \
    X(ACCES,           2, EACCES) \
    X(ADDRINUSE,       3, EADDRINUSE) \
    X(ADDRNOTAVAIL,    4, EADDRNOTAVAIL) \
    X(AFNOSUPPORT,     5, EAFNOSUPPORT) \
    X(AGAIN,           6, EAGAIN) \
    X(ALREADY,         7, EALREADY) \
    X(BADF,            8, EBADF) \
    X(BADMSG,          9, EBADMSG) \
    X(BUSY,           10, EBUSY) \
    X(CANCELED,       11, ECANCELED) \
    X(CHILD,          12, ECHILD) \
    X(CONNABORTED,    13, ECONNABORTED) \
    X(CONNREFUSED,    14, ECONNREFUSED) \
    X(CONNRESET,      15, ECONNRESET) \
    X(DEADLK,         16, EDEADLK) \
    X(DESTADDRREQ,    17, EDESTADDRREQ) \
    X(DOM,            18, EDOM) \
    X(DQUOT,          19, EDQUOT) \
    X(EXIST,          20, EEXIST) \
    X(FAULT,          21, EFAULT) \
    X(FBIG,           22, EFBIG) \
    X(HOSTUNREACH,    23, EHOSTUNREACH) \
    X(IDRM,           24, EIDRM) \
    X(ILSEQ,          25, EILSEQ) \
    X(INPROGRESS,     26, EINPROGRESS) \
    X(INTR,           27, EINTR) \
    X(INVAL,          28, EINVAL) \
    X(IO,             29, EIO) \
    X(ISCONN,         30, EISCONN) \
    X(ISDIR,          31, EISDIR) \
    X(LOOP,           32, ELOOP) \
    X(MFILE,          33, EMFILE) \
    X(MLINK,          34, EMLINK) \
    X(MSGSIZE,        35, EMSGSIZE) \
    X(MULTIHOP,       36, EMULTIHOP) \
    X(NAMETOOLONG,    37, ENAMETOOLONG) \
    X(NETDOWN,        38, ENETDOWN) \
    X(NETRESET,       39, ENETRESET) \
    X(NETUNREACH,     40, ENETUNREACH) \
    X(NFILE,          41, ENFILE) \
    X(NOBUFS,         42, ENOBUFS) \
    X(NODEV,          43, ENODEV) \
    X(NOENT,          44, ENOENT) \
    X(NOEXEC,         45, ENOEXEC) \
    X(NOLCK,          46, ENOLCK) \
    X(NOLINK,         47, ENOLINK) \
    X(NOMEM,          48, ENOMEM) \
    X(NOMSG,          49, ENOMSG) \
    X(NOPROTOOPT,     50, ENOPROTOOPT) \
    X(NOSPC,          51, ENOSPC) \
    X(NOSYS,          52, ENOSYS) \
    X(NOTCONN,        53, ENOTCONN) \
    X(NOTDIR,         54, ENOTDIR) \
    X(NOTEMPTY,       55, ENOTEMPTY) \
    X(NOTRECOVERABLE, 56, ENOTRECOVERABLE) \
    X(NOTSOCK,        57, ENOTSOCK) \
    X(NOTSUP,         58, ENOTSUP) \
    X(NOTTY,          59, ENOTTY) \
    X(NXIO,           60, ENXIO) \
    X(OVERFLOW,       61, EOVERFLOW) \
    X(OWNERDEAD,      62, EOWNERDEAD) \
    X(PERM,           63, EPERM) \
    X(PIPE,           64, EPIPE) \
    X(PROTO,          65, EPROTO) \
    X(PROTONOSUPPORT, 66, EPROTONOSUPPORT) \
    X(PROTOTYPE,      67, EPROTOTYPE) \
    X(RANGE,          68, ERANGE) \
    X(ROFS,           69, EROFS) \
    X(SPIPE,          70, ESPIPE) \
    X(SRCH,           71, ESRCH) \
    X(STALE,          72, ESTALE) \
    X(TIMEDOUT,       73, ETIMEDOUT) \
    X(TXTBSY,         74, ETXTBSY) \
    X(XDEV,           75, EXDEV) \
    X(NOTCAPABLE,     76, 0)

typedef enum wasi_errno {
#define WASI__ERRNO_ENUM(name, value, host) WASI_E##name = value,
    WASI_ERRNO_MAP(WASI__ERRNO_ENUM)
#undef WASI__ERRNO_ENUM
} wasi_errno;

/* A directory the guest may use: `host_path` appears to it as `guest_path`. */
typedef struct wasi_preopen {
    const char *host_path;
    const char *guest_path;
} wasi_preopen;

/*
 * Where guest output goes instead of a host descriptor (wasi_config.stdio_sink):
 * called during fd_write with the bytes the guest wrote to the descriptor
 * that began as fd 1 (`stream` 1) or fd 2 (`stream` 2), however the guest
 * renumbered it.  A call takes at most 64 KiB (WASI_MAX_SINK_WRITE): a
 * larger write is a short one, as on a pipe, and writers loop.  `bytes`
 * points into guest memory and is valid only during the call.
 */
typedef void (*wasi_sink_fn)(void *ud, int stream, const uint8_t *bytes, size_t len);

/*
 * What a new context is made from.  Nothing here is kept: strings are
 * copied, the stdio descriptors are duplicated (so the guest closing its
 * fd 1 does not close the embedder's), and the preopened directories are
 * opened by wasi_ctx_new() itself.
 */
typedef struct wasi_config {
    const char *const *argv;     /* argv[0] is the program (module) name */
    size_t argc;
    const char *const *env;      /* "NAME=VALUE" strings: the guest's whole environment */
    size_t nenv;
    int stdin_fd;                /* host descriptors for guest fds 0, 1, 2; -1 for none */
    int stdout_fd;
    int stderr_fd;
    const wasi_preopen *preopens;/* appear as guest fds 3, 4, ... in this order */
    size_t npreopens;
    bool nonblocking;            /* park waiting calls with WR_SUSPEND instead of blocking */
    uint32_t stdio_line_fuel;    /* fuel charged per line written to fds 1 and 2 (0: none), for
                                    an embedder whose work per line of output is large */
    /*
     * With a sink, guest fds 1 and 2 are not host descriptors (stdout_fd and
     * stderr_fd are ignored): writes go to the sink, in the calling thread,
     * and the context holds no descriptor for them.  To the guest they look
     * like the write ends of pipes that never fill: fd_fdstat_get reports
     * an unknown file type with no flags, fd_filestat_get zeros, fd_seek
     * and fd_tell ESPIPE, and poll_oneoff finds them always writable.
     */
    wasi_sink_fn stdio_sink;
    void *stdio_sink_ud;
} wasi_config;

typedef struct wasi_ctx wasi_ctx;

/*
 * Creates a context from `cfg`.  On success *ret_ctx is the caller's, freed
 * with wasi_ctx_free().  On failure returns the status (WR_ERR_NOMEM,
 * WR_ERR_ARGS for a malformed configuration, WR_ERR_LIMIT, WR_ERR_IO when a
 * descriptor or directory cannot be opened) with the cause in `err` (which
 * may be NULL).  argv and env take at most 1 MiB each (WASI_MAX_ARGS_BYTES in wasi/internal.h).
 */
wr_status wasi_ctx_new(const wasi_config *cfg, wasi_ctx **ret_ctx, wr_error *err);

/*
 * Closes every descriptor the context holds and frees it.  The host
 * functions created by wasi_ctx_link() keep a pointer to the context: free
 * it only after the store holding them (or never call them again).
 */
void wasi_ctx_free(wasi_ctx *ctx);

/*
 * Resolves the imports of `m`: imports[i] (there must be
 * wr_module_import_count(m) entries) receives a host function of store `s`
 * for every import from wasi_snapshot_preview1.  The functions belong to
 * the store.  Any other import fails with WR_ERR_UNKNOWN_IMPORT, and an
 * import whose type differs from the WASI signature with
 * WR_ERR_INCOMPATIBLE_IMPORT; `err` names the import.
 */
wr_status wasi_ctx_link(wasi_ctx *ctx, wr_store *s, const wr_module *m, wr_extern *imports, wr_error *err);
/*
 * Like wasi_ctx_link, but fills only the wasi_snapshot_preview1 imports and
 * leaves the others in `imports` untouched, for the embedder to fill (for
 * example the daemon's own host functions).
 */
wr_status wasi_ctx_link_partial(wasi_ctx *ctx, wr_store *s, const wr_module *m, wr_extern *imports, wr_error *err);
/* Whether import i of the module comes from wasi_snapshot_preview1. */
bool wasi_import_is_wasi(const wr_module *m, uint32_t i);

/*
 * After a call returned WR_TRAP_EXIT: true when the guest called proc_exit,
 * with its code in *ret_code.  proc_exit makes the host function return
 * WR_TRAP_EXIT, which unwinds the whole call like a trap.
 */
bool wasi_ctx_exit_code(const wasi_ctx *ctx, uint32_t *ret_code);

/* ---- Parked calls (wasi_config.nonblocking) --------------------------- */

/* A host descriptor a parked call waits on, and for what. */
#define WASI_WAIT_READABLE 1u
#define WASI_WAIT_WRITABLE 2u
typedef struct wasi_wait_fd {
    int fd;                      /* the context's host descriptor: poll it, do not close it */
    unsigned events;             /* WASI_WAIT_READABLE and/or WASI_WAIT_WRITABLE */
} wasi_wait_fd;

/* What a parked call waits for: the deadline, or any of the descriptors, whichever comes first. */
#define WASI_NO_DEADLINE UINT64_MAX
typedef struct wasi_wait {
    uint64_t deadline;           /* CLOCK_MONOTONIC in ns (uv_hrtime()'s clock), or WASI_NO_DEADLINE */
    const wasi_wait_fd *fds;     /* owned by the context; valid until the call completes or is cancelled */
    size_t nfds;
} wasi_wait;

/*
 * True when a host call of this context is parked, with what it waits for
 * in *ret_wait.  A parked call has either a deadline or descriptors, or both.
 */
bool wasi_ctx_pending(const wasi_ctx *ctx, wasi_wait *ret_wait);

/*
 * Retries the parked call without blocking.  WR_OK: the call finished, and
 * `results` (room for one slot) holds the host function's results, to pass
 * to wr_resume().  WR_SUSPENDED: still not ready, the call stays parked
 * (ask wasi_ctx_pending() again).  WR_ERR_STATE: no call is parked.
 */
wr_status wasi_ctx_complete(wasi_ctx *ctx, uint64_t *results);

/*
 * Forgets a parked call, for an embedder that abandons it (wr_exec_reset).
 * Does nothing when none is parked.  A new host call of the context also
 * drops a parked call that was never completed.
 */
void wasi_ctx_cancel(wasi_ctx *ctx);

/* The name of a WASI errno ("NOTCAPABLE"), or "unknown". */
const char *wasi_errno_name(uint16_t e);

/* The WASI errno for a Linux errno value (positive); WASI_EIO for one WASI lacks. */
uint16_t wasi_errno_from_host(int host_errno);

#endif /* WASI_H */
