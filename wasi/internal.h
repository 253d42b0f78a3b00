/*
 * internal.h - the WASI layer's private declarations, shared by its files.
 * Nothing outside wasi/ includes this (unit tests of wasi/ may).
 *
 *   wasi.c   contexts, linking, the call trampoline; args, environ, clocks,
 *            random, proc, sched, poll_oneoff, sockets
 *   fd.c     the descriptor table and the fd_* functions
 *   path.c   resolving paths beneath a directory; the path_* functions
 *   errno.c  the errno table
 *
 * All values and layouts below are those of wasi_snapshot_preview1 (the
 * "witx" definitions that wasi-libc's <wasi/api.h> is generated from).
 */
#ifndef WASI_INTERNAL_H
#define WASI_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "wasi.h"

/* ---- Limits: every resource the guest controls is bounded ------------- */

#define WASI_MAX_FDS          1024u   /* open descriptors per context -> EMFILE */
#define WASI_MAX_IOVS         1024u   /* iovecs per read/write call (Linux IOV_MAX) -> EINVAL */
#define WASI_MAX_POLL_SUBS    1024u   /* subscriptions per poll_oneoff -> EINVAL */
#define WASI_MAX_PATH         4096u   /* bytes of a guest path, also after symlink expansion (PATH_MAX) */
#define WASI_MAX_SYMLINKS     40u     /* symlinks followed while resolving one path (Linux MAXSYMLINKS) */
#define WASI_MAX_NAME         255u    /* bytes of one path component (Linux NAME_MAX) */
#define WASI_MAX_ARGS_BYTES   (1024u * 1024u) /* argv, and separately environ, with their NULs */
#define WASI_FIRST_FREE_FD    3u      /* new descriptors never take 0..2, so preopens start at 3 */
#define WASI_MAX_SINK_WRITE   (64u * 1024u) /* bytes one fd_write hands a stdio sink; the rest is a short write,
                                               as a pipe's (iovecs may overlap: a call could name terabytes) */

/*
 * Fuel (wr_exec_charge): every call pays for itself and for the bytes it
 * moves, so that a guest calling the host in a loop is preempted as soon
 * as one computing, whatever the sizes it asks for.
 */
#define WASI_FUEL_CALL        64u     /* per call: about a system call's worth */
#define WASI_FUEL_IO_BYTES    64u     /* bytes read, written or listed per unit */
#define WASI_FUEL_RANDOM_BYTES 4u     /* bytes of random_get per unit (the kernel's generator is slower) */

/* ---- Constants of wasi_snapshot_preview1 ------------------------------ */

enum {
    WASI_FILETYPE_UNKNOWN = 0,
    WASI_FILETYPE_BLOCK_DEVICE = 1,
    WASI_FILETYPE_CHARACTER_DEVICE = 2,
    WASI_FILETYPE_DIRECTORY = 3,
    WASI_FILETYPE_REGULAR_FILE = 4,
    WASI_FILETYPE_SOCKET_DGRAM = 5,
    WASI_FILETYPE_SOCKET_STREAM = 6,
    WASI_FILETYPE_SYMBOLIC_LINK = 7,
};

enum {
    WASI_CLOCK_REALTIME = 0,
    WASI_CLOCK_MONOTONIC = 1,
    WASI_CLOCK_PROCESS_CPUTIME_ID = 2,
    WASI_CLOCK_THREAD_CPUTIME_ID = 3,
};

enum { WASI_WHENCE_SET = 0, WASI_WHENCE_CUR = 1, WASI_WHENCE_END = 2 };

/* fdflags */
#define WASI_FDFLAG_APPEND   (1u << 0)
#define WASI_FDFLAG_DSYNC    (1u << 1)
#define WASI_FDFLAG_NONBLOCK (1u << 2)
#define WASI_FDFLAG_RSYNC    (1u << 3)
#define WASI_FDFLAG_SYNC     (1u << 4)
#define WASI_FDFLAGS_ALL     0x1fu
#define WASI_FDFLAGS_SYNCS   (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC | WASI_FDFLAG_SYNC)

/* oflags */
#define WASI_OFLAG_CREAT     (1u << 0)
#define WASI_OFLAG_DIRECTORY (1u << 1)
#define WASI_OFLAG_EXCL      (1u << 2)
#define WASI_OFLAG_TRUNC     (1u << 3)
#define WASI_OFLAGS_ALL      0xfu

/* lookupflags */
#define WASI_LOOKUP_SYMLINK_FOLLOW (1u << 0)

/* fstflags */
#define WASI_FSTFLAG_ATIM     (1u << 0)
#define WASI_FSTFLAG_ATIM_NOW (1u << 1)
#define WASI_FSTFLAG_MTIM     (1u << 2)
#define WASI_FSTFLAG_MTIM_NOW (1u << 3)
#define WASI_FSTFLAGS_ALL     0xfu

/* advice */
enum {
    WASI_ADVICE_NORMAL = 0,
    WASI_ADVICE_SEQUENTIAL = 1,
    WASI_ADVICE_RANDOM = 2,
    WASI_ADVICE_WILLNEED = 3,
    WASI_ADVICE_DONTNEED = 4,
    WASI_ADVICE_NOREUSE = 5,
};

/* poll_oneoff */
enum { WASI_EVENTTYPE_CLOCK = 0, WASI_EVENTTYPE_FD_READ = 1, WASI_EVENTTYPE_FD_WRITE = 2 };
#define WASI_SUBCLOCK_ABSTIME       (1u << 0)
#define WASI_EVENTRW_HANGUP         (1u << 0)

/* rights */
#define WASI_RIGHT_FD_DATASYNC            (UINT64_C(1) << 0)
#define WASI_RIGHT_FD_READ                (UINT64_C(1) << 1)
#define WASI_RIGHT_FD_SEEK                (UINT64_C(1) << 2)
#define WASI_RIGHT_FD_FDSTAT_SET_FLAGS    (UINT64_C(1) << 3)
#define WASI_RIGHT_FD_SYNC                (UINT64_C(1) << 4)
#define WASI_RIGHT_FD_TELL                (UINT64_C(1) << 5)
#define WASI_RIGHT_FD_WRITE               (UINT64_C(1) << 6)
#define WASI_RIGHT_FD_ADVISE              (UINT64_C(1) << 7)
#define WASI_RIGHT_FD_ALLOCATE            (UINT64_C(1) << 8)
#define WASI_RIGHT_PATH_CREATE_DIRECTORY  (UINT64_C(1) << 9)
#define WASI_RIGHT_PATH_CREATE_FILE       (UINT64_C(1) << 10)
#define WASI_RIGHT_PATH_LINK_SOURCE       (UINT64_C(1) << 11)
#define WASI_RIGHT_PATH_LINK_TARGET       (UINT64_C(1) << 12)
#define WASI_RIGHT_PATH_OPEN              (UINT64_C(1) << 13)
#define WASI_RIGHT_FD_READDIR             (UINT64_C(1) << 14)
#define WASI_RIGHT_PATH_READLINK          (UINT64_C(1) << 15)
#define WASI_RIGHT_PATH_RENAME_SOURCE     (UINT64_C(1) << 16)
#define WASI_RIGHT_PATH_RENAME_TARGET     (UINT64_C(1) << 17)
#define WASI_RIGHT_PATH_FILESTAT_GET      (UINT64_C(1) << 18)
#define WASI_RIGHT_PATH_FILESTAT_SET_SIZE (UINT64_C(1) << 19)
#define WASI_RIGHT_PATH_FILESTAT_SET_TIMES (UINT64_C(1) << 20)
#define WASI_RIGHT_FD_FILESTAT_GET        (UINT64_C(1) << 21)
#define WASI_RIGHT_FD_FILESTAT_SET_SIZE   (UINT64_C(1) << 22)
#define WASI_RIGHT_FD_FILESTAT_SET_TIMES  (UINT64_C(1) << 23)
#define WASI_RIGHT_PATH_SYMLINK           (UINT64_C(1) << 24)
#define WASI_RIGHT_PATH_REMOVE_DIRECTORY  (UINT64_C(1) << 25)
#define WASI_RIGHT_PATH_UNLINK_FILE       (UINT64_C(1) << 26)
#define WASI_RIGHT_POLL_FD_READWRITE      (UINT64_C(1) << 27)
#define WASI_RIGHT_SOCK_SHUTDOWN          (UINT64_C(1) << 28)
#define WASI_RIGHT_SOCK_ACCEPT            (UINT64_C(1) << 29)

/* What a descriptor of each kind can do at most. */
#define WASI_RIGHTS_FILE                                                            \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK |              \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_TELL |      \
     WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ADVISE | WASI_RIGHT_FD_ALLOCATE |           \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_SIZE |                  \
     WASI_RIGHT_FD_FILESTAT_SET_TIMES | WASI_RIGHT_POLL_FD_READWRITE)
#define WASI_RIGHTS_DIR                                                             \
    (WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_SYNC | WASI_RIGHT_FD_ADVISE |    \
     WASI_RIGHT_PATH_CREATE_DIRECTORY | WASI_RIGHT_PATH_CREATE_FILE |                \
     WASI_RIGHT_PATH_LINK_SOURCE | WASI_RIGHT_PATH_LINK_TARGET | WASI_RIGHT_PATH_OPEN | \
     WASI_RIGHT_FD_READDIR | WASI_RIGHT_PATH_READLINK | WASI_RIGHT_PATH_RENAME_SOURCE | \
     WASI_RIGHT_PATH_RENAME_TARGET | WASI_RIGHT_PATH_FILESTAT_GET |                   \
     WASI_RIGHT_PATH_FILESTAT_SET_SIZE | WASI_RIGHT_PATH_FILESTAT_SET_TIMES |         \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_FD_FILESTAT_SET_TIMES |                  \
     WASI_RIGHT_PATH_SYMLINK | WASI_RIGHT_PATH_REMOVE_DIRECTORY |                     \
     WASI_RIGHT_PATH_UNLINK_FILE)
/* A terminal: no seek/tell, which is how wasi-libc's isatty() recognises one. */
#define WASI_RIGHTS_TTY                                                             \
    (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_WRITE |      \
     WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE)
/*
 * Pipes and sockets keep the seek and tell rights although they cannot
 * seek: the kernel then answers ESPIPE, which is what programs test for
 * (ENOTCAPABLE would tell them nothing).
 */
#define WASI_RIGHTS_STREAM WASI_RIGHTS_FILE
/* A stdio sink: writing, and what a pipe's write end answers without a host descriptor. */
#define WASI_RIGHTS_SINK                                                            \
    (WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SEEK | WASI_RIGHT_FD_TELL |                 \
     WASI_RIGHT_FD_FDSTAT_SET_FLAGS | WASI_RIGHT_FD_FILESTAT_GET | WASI_RIGHT_POLL_FD_READWRITE)
/* Rights that need the host descriptor opened for reading / writing. */
#define WASI_RIGHTS_NEED_READ  (WASI_RIGHT_FD_READ | WASI_RIGHT_FD_READDIR)
#define WASI_RIGHTS_NEED_WRITE                                                      \
    (WASI_RIGHT_FD_DATASYNC | WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_ALLOCATE |         \
     WASI_RIGHT_FD_FILESTAT_SET_SIZE)

/* Layouts of the structures in guest memory: sizes and field offsets. */
#define WASI_IOVEC_SIZE          8u   /* buf u32 @0, buf_len u32 @4 */
#define WASI_FDSTAT_SIZE         24u  /* filetype u8 @0, flags u16 @2, rights_base u64 @8, rights_inheriting u64 @16 */
#define WASI_FILESTAT_SIZE       64u  /* dev @0, ino @8, filetype u8 @16, nlink @24, size @32, atim @40, mtim @48, ctim @56 */
#define WASI_PRESTAT_SIZE        8u   /* tag u8 @0 (0: dir), name_len u32 @4 */
#define WASI_SUBSCRIPTION_SIZE   48u  /* userdata u64 @0, tag u8 @8, union @16 */
#define WASI_EVENT_SIZE          32u  /* userdata u64 @0, error u16 @8, type u8 @10, nbytes u64 @16, flags u16 @24 */
#define WASI_PREOPENTYPE_DIR     0u

/* ---- Guest memory ----------------------------------------------------- */

/*
 * The calling instance's memory for the duration of one host call.  Every
 * guest pointer goes through wasi__mem_ok() before it is dereferenced; a
 * module without a memory has base NULL and every access fails (EFAULT).
 */
typedef struct wasi__mem {
    uint8_t *base;
    uint64_t size;
} wasi__mem;

/* True when [ptr, ptr + len) lies inside guest memory. */
static inline bool wasi__mem_ok(const wasi__mem *m, uint32_t ptr, uint64_t len) {
    return m->base != NULL && len <= m->size && (uint64_t)ptr <= m->size - len;
}

/* Little-endian loads and stores at checked addresses (the guest is little-endian). */
static inline uint8_t *wasi__at(const wasi__mem *m, uint32_t ptr) { return m->base + ptr; }

static inline uint16_t wasi__load16(const wasi__mem *m, uint32_t ptr) {
    const uint8_t *p = wasi__at(m, ptr);
    return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t wasi__load32(const wasi__mem *m, uint32_t ptr) {
    const uint8_t *p = wasi__at(m, ptr);
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t wasi__load64(const wasi__mem *m, uint32_t ptr) {
    return (uint64_t)wasi__load32(m, ptr) | (uint64_t)wasi__load32(m, ptr + 4) << 32;
}
static inline void wasi__store8(const wasi__mem *m, uint32_t ptr, uint8_t v) {
    wasi__at(m, ptr)[0] = v;
}
static inline void wasi__store16(const wasi__mem *m, uint32_t ptr, uint16_t v) {
    uint8_t *p = wasi__at(m, ptr);
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static inline void wasi__store32(const wasi__mem *m, uint32_t ptr, uint32_t v) {
    uint8_t *p = wasi__at(m, ptr);
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void wasi__store64(const wasi__mem *m, uint32_t ptr, uint64_t v) {
    wasi__store32(m, ptr, (uint32_t)v);
    wasi__store32(m, ptr + 4, (uint32_t)(v >> 32));
}

/* Host-call arguments: i32 in the low 32 bits of a slot, i64 in all 64. */
#define WASI_ARG32(args, i) ((uint32_t)(args)[i])
#define WASI_ARG64(args, i) ((uint64_t)(args)[i])

/* ---- Contexts and descriptors ----------------------------------------- */

/*
 * One guest descriptor.  A free slot has host == WASI__HOST_FREE; a stdio
 * sink (wasi_config.stdio_sink) has WASI__HOST_SINK and no host descriptor:
 * every function that would touch one checks wasi__fd_is_sink() first.
 */
#define WASI__HOST_FREE (-1)
#define WASI__HOST_SINK (-2)
typedef struct wasi__fd {
    int host;                  /* owned host descriptor, or one of the two above */
    uint8_t sink_stream;       /* a sink's stream (1 stdout, 2 stderr): it moves with the slot */
    uint8_t filetype;          /* WASI_FILETYPE_*, fixed at open */
    bool rsync;                /* FDFLAG_RSYNC as requested (Linux folds O_RSYNC into O_SYNC) */
    uint64_t rights_base;
    uint64_t rights_inheriting;
    char *preopen;             /* owned guest name of a preopened directory, else NULL */
} wasi__fd;

/*
 * One WASI function: its name, its core type as wasi-libc imports it
 * (params and results: 'i' i32, 'I' i64) and its implementation.  An
 * implementation returns the WASI errno that becomes the i32 result;
 * proc_exit returns WASI__EXITED instead, and the trampoline then traps.
 */
typedef uint32_t wasi__impl(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args);
#define WASI__EXITED 0x10000u  /* not an errno: proc_exit was called */
#define WASI__PARKED 0x10001u  /* not an errno: the call waits, ctx->pending says for what */

/*
 * Every wasi_snapshot_preview1 function, in witx order.  The signatures are
 * the ones in wasi-libc's libc.imports (checked with wasm-objdump).
 */
#define WASI__FUNC_MAP(X)                                   \
    X(args_get,                 "ii",        "i")           \
    X(args_sizes_get,           "ii",        "i")           \
    X(environ_get,              "ii",        "i")           \
    X(environ_sizes_get,        "ii",        "i")           \
    X(clock_res_get,            "ii",        "i")           \
    X(clock_time_get,           "iIi",       "i")           \
    X(fd_advise,                "iIIi",      "i")           \
    X(fd_allocate,              "iII",       "i")           \
    X(fd_close,                 "i",         "i")           \
    X(fd_datasync,              "i",         "i")           \
    X(fd_fdstat_get,            "ii",        "i")           \
    X(fd_fdstat_set_flags,      "ii",        "i")           \
    X(fd_fdstat_set_rights,     "iII",       "i")           \
    X(fd_filestat_get,          "ii",        "i")           \
    X(fd_filestat_set_size,     "iI",        "i")           \
    X(fd_filestat_set_times,    "iIIi",      "i")           \
    X(fd_pread,                 "iiiIi",     "i")           \
    X(fd_prestat_get,           "ii",        "i")           \
    X(fd_prestat_dir_name,      "iii",       "i")           \
    X(fd_pwrite,                "iiiIi",     "i")           \
    X(fd_read,                  "iiii",      "i")           \
    X(fd_readdir,               "iiiIi",     "i")           \
    X(fd_renumber,              "ii",        "i")           \
    X(fd_seek,                  "iIii",      "i")           \
    X(fd_sync,                  "i",         "i")           \
    X(fd_tell,                  "ii",        "i")           \
    X(fd_write,                 "iiii",      "i")           \
    X(path_create_directory,    "iii",       "i")           \
    X(path_filestat_get,        "iiiii",     "i")           \
    X(path_filestat_set_times,  "iiiiIIi",   "i")           \
    X(path_link,                "iiiiiii",   "i")           \
    X(path_open,                "iiiiiIIii", "i")           \
    X(path_readlink,            "iiiiii",    "i")           \
    X(path_remove_directory,    "iii",       "i")           \
    X(path_rename,              "iiiiii",    "i")           \
    X(path_symlink,             "iiiii",     "i")           \
    X(path_unlink_file,         "iii",       "i")           \
    X(poll_oneoff,              "iiii",      "i")           \
    X(proc_exit,                "i",         "")            \
    X(proc_raise,               "i",         "i")           \
    X(sched_yield,              "",          "i")           \
    X(random_get,               "ii",        "i")           \
    X(sock_accept,              "iii",       "i")           \
    X(sock_recv,                "iiiiii",    "i")           \
    X(sock_send,                "iiiii",     "i")           \
    X(sock_shutdown,            "ii",        "i")

enum wasi__func_id {
#define WASI__FUNC_ID(name, params, results) WASI__FN_##name,
    WASI__FUNC_MAP(WASI__FUNC_ID)
#undef WASI__FUNC_ID
    WASI__NFUNCS
};

#define WASI__FUNC_DECL(name, params, results) wasi__impl wasi__##name;
WASI__FUNC_MAP(WASI__FUNC_DECL)
#undef WASI__FUNC_DECL

/* What a host function's `env` points to: the context and which function. */
typedef struct wasi__binding {
    wasi_ctx *ctx;
    uint32_t func_id;          /* enum wasi__func_id */
} wasi__binding;

/* The most parameters a WASI function has (path_open). */
#define WASI__MAX_PARAMS 9u

struct wasi__poll_state;

/*
 * A call parked in nonblocking mode.  The trampoline fills in which call it
 * was, its arguments and the guest memory; the implementation fills in the
 * wait and whatever state the retry needs (poll_oneoff's subscriptions).
 */
typedef struct wasi__pending {
    bool active;
    bool retrying;             /* set while wasi_ctx_complete runs the call again */
    uint32_t func_id;
    uint64_t args[WASI__MAX_PARAMS];
    wr_memory *memory;         /* the caller's memory, or NULL */
    uint64_t deadline;         /* CLOCK_MONOTONIC ns, or WASI_NO_DEADLINE */
    wasi_wait_fd *fds;         /* points at `one_fd` or into `poll` */
    size_t nfds;
    wasi_wait_fd one_fd;       /* fd_read's single descriptor */
    struct wasi__poll_state *poll; /* owned; poll_oneoff only */
} wasi__pending;

struct wasi_ctx {
    char **argv;               /* owned, argc strings */
    uint32_t argc;
    uint32_t argv_bytes;       /* sum of the lengths plus one NUL each */
    char **env;                /* owned, nenv "NAME=VALUE" strings */
    uint32_t nenv;
    uint32_t env_bytes;

    wasi__fd *fds;             /* owned; slots 0..nfds-1, free ones have host == WASI__HOST_FREE */
    uint32_t nfds;
    wasi_sink_fn sink;         /* wasi_config.stdio_sink, or NULL */
    void *sink_ud;

    bool nonblocking;          /* wasi_config.nonblocking */
    uint32_t stdio_line_fuel;  /* wasi_config.stdio_line_fuel */
    uint64_t fuel;             /* what the call under way charges, besides WASI_FUEL_CALL */
    wasi__pending pending;

    bool exited;               /* proc_exit was called */
    uint32_t exit_code;

    wasi__binding bindings[WASI__NFUNCS];
};

/* fd.c */
static inline bool wasi__fd_is_sink(const wasi__fd *f) {
    return f->host == WASI__HOST_SINK;
}
/* Makes slot `fd` (0..2) a stdio sink writing stream `fd`. */
uint32_t wasi__fd_set_sink(wasi_ctx *ctx, uint32_t fd);
/* Initialises slot `fd` (growing the table) for host descriptor `host`, which the context then owns. */
uint32_t wasi__fd_set(wasi_ctx *ctx, uint32_t fd, int host, uint64_t rights_base, uint64_t rights_inheriting);
/* Installs `host` in the lowest free slot from WASI_FIRST_FREE_FD; on failure `host` is left to the caller. */
uint32_t wasi__fd_insert(wasi_ctx *ctx, int host, uint64_t rights_base, uint64_t rights_inheriting,
                         uint32_t *ret_fd);
/* The open descriptor `fd` if it has every right in `rights`; NULL with *ret_err EBADF or ENOTCAPABLE. */
wasi__fd *wasi__fd_lookup(wasi_ctx *ctx, uint32_t fd, uint64_t rights, uint32_t *ret_err);
/* The WASI file type of an open host descriptor, and the most rights one of its kind can have. */
uint8_t wasi__host_filetype(int host, uint64_t *ret_max_rights);
/*
 * In nonblocking mode, whether a read from `host` would block: true (and
 * ctx->pending's wait set to that descriptor) when it has no O_NONBLOCK of
 * its own and nothing to read yet.
 */
bool wasi__would_block(wasi_ctx *ctx, int host, unsigned events);
/* Closes every descriptor and frees the table. */
void wasi__fd_table_free(wasi_ctx *ctx);
/*
 * Time on 32-bit hosts.  wasi/ is built with a 64-bit time_t (the Makefile
 * gives it _TIME_BITS=64, see wasi.c), so that clocks, file times and
 * timeouts work past 2038 on armhf too; hence no struct timespec or struct
 * stat may cross from here into code built without it (wasi.h has none).
 * Nanoseconds are always computed in uint64_t, converted before multiplying.
 */
#define WASI_NS_PER_SEC 1000000000u

/* True when `sec` seconds fit in a time_t (false past 2038 with a 32-bit one). */
static inline bool wasi__time_fits(uint64_t sec) {
    return sizeof(time_t) >= 8 ? sec <= (uint64_t)INT64_MAX : sec <= (uint64_t)INT32_MAX;
}

/*
 * The two timespecs for futimens/utimensat from WASI timestamps and
 * fstflags; WASI_EINVAL for unknown flags or a time both given and "now",
 * WASI_EOVERFLOW for a time the host's time_t cannot hold.
 */
uint32_t wasi__fst_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ret_ts[2]);
/* Fills a 64-byte filestat at guest address `ptr` (already checked) from a host stat. */
void wasi__store_filestat(const wasi__mem *mem, uint32_t ptr, const struct stat *st);

/* path.c */
/*
 * Opens `path` beneath directory `dirfd` with open(2) `flags` (O_CLOEXEC is
 * added); the final component is followed if it is a symbolic link only
 * when `follow`.  Returns a WASI errno; WASI_ENOTCAPABLE when the path would
 * leave `dirfd`.  wasi__open_beneath uses openat2(RESOLVE_BENEATH) when the
 * kernel has it and wasi__open_walk otherwise; the walk resolves one
 * component at a time in user space and is exposed for the tests.
 */
uint32_t wasi__open_beneath(int dirfd, const char *path, int flags, bool follow, int *ret_fd);
uint32_t wasi__open_walk(int dirfd, const char *path, int flags, bool follow, int *ret_fd);
/*
 * When true, wasi__open_beneath always walks (as on a kernel without
 * openat2), so that tests can run every path call through the fallback.
 * Only tests set it.
 */
extern bool wasi__force_walk;

#endif /* WASI_INTERNAL_H */
