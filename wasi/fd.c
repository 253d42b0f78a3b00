/*
 * fd.c - the guest's descriptor table and the fd_* functions.
 *
 * A guest descriptor is an index into ctx->fds.  Each slot owns one host
 * descriptor and carries WASI rights: a call checks the rights it needs
 * before touching the host descriptor, and rights can only shrink.  Every
 * guest buffer is checked against the memory size before any system call,
 * so that a call either fails with EFAULT and changes nothing, or runs.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "internal.h"

/* ---- The table -------------------------------------------------------- */

/* Makes room for slot `fd`; new slots are free. */
static uint32_t fd_table_reserve(wasi_ctx *ctx, uint32_t fd) {
    if (fd < ctx->nfds)
        return WASI_ESUCCESS;
    if (fd >= WASI_MAX_FDS)
        return WASI_EMFILE;
    uint32_t n = ctx->nfds ? ctx->nfds : 8;
    while (n <= fd)
        n *= 2;
    if (n > WASI_MAX_FDS)
        n = WASI_MAX_FDS;
    wasi__fd *fds = realloc(ctx->fds, n * sizeof *fds);
    if (!fds)
        return WASI_ENOMEM;
    for (uint32_t i = ctx->nfds; i < n; i++)
        fds[i] = (wasi__fd){ .host = WASI__HOST_FREE };
    ctx->fds = fds;
    ctx->nfds = n;
    return WASI_ESUCCESS;
}

uint8_t wasi__host_filetype(int host, uint64_t *ret_max_rights) {
    struct stat st;
    if (fstat(host, &st) < 0) {
        *ret_max_rights = 0;
        return WASI_FILETYPE_UNKNOWN;
    }
    switch (st.st_mode & S_IFMT) {
    case S_IFREG:
        *ret_max_rights = WASI_RIGHTS_FILE;
        return WASI_FILETYPE_REGULAR_FILE;
    case S_IFDIR:
        *ret_max_rights = WASI_RIGHTS_DIR;
        return WASI_FILETYPE_DIRECTORY;
    case S_IFCHR:
        /* A terminal must lack seek/tell for wasi-libc's isatty(); /dev/null may seek. */
        *ret_max_rights = isatty(host) ? WASI_RIGHTS_TTY : WASI_RIGHTS_FILE;
        return WASI_FILETYPE_CHARACTER_DEVICE;
    case S_IFBLK:
        *ret_max_rights = WASI_RIGHTS_FILE;
        return WASI_FILETYPE_BLOCK_DEVICE;
    case S_IFLNK: /* an O_PATH descriptor of a symlink itself */
        *ret_max_rights = WASI_RIGHT_FD_FILESTAT_GET;
        return WASI_FILETYPE_SYMBOLIC_LINK;
    case S_IFSOCK: {
        int type = 0;
        socklen_t len = sizeof type;
        *ret_max_rights = WASI_RIGHTS_STREAM | WASI_RIGHT_SOCK_SHUTDOWN | WASI_RIGHT_SOCK_ACCEPT;
        if (getsockopt(host, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_DGRAM)
            return WASI_FILETYPE_SOCKET_DGRAM;
        return WASI_FILETYPE_SOCKET_STREAM;
    }
    default: /* pipes: WASI has no type for them */
        *ret_max_rights = WASI_RIGHTS_STREAM;
        return WASI_FILETYPE_UNKNOWN;
    }
}

uint32_t wasi__fd_set(wasi_ctx *ctx, uint32_t fd, int host, uint64_t rights_base, uint64_t rights_inheriting) {
    uint32_t e = fd_table_reserve(ctx, fd);
    if (e != WASI_ESUCCESS)
        return e;
    uint64_t max_rights;
    wasi__fd *f = &ctx->fds[fd];
    f->host = host;
    f->sink_stream = 0;
    f->filetype = wasi__host_filetype(host, &max_rights);
    f->rsync = false;
    f->rights_base = rights_base & max_rights;
    f->rights_inheriting = rights_inheriting;
    f->preopen = NULL;
    return WASI_ESUCCESS;
}

uint32_t wasi__fd_set_sink(wasi_ctx *ctx, uint32_t fd) {
    uint32_t e = fd_table_reserve(ctx, fd);
    if (e != WASI_ESUCCESS)
        return e;
    ctx->fds[fd] = (wasi__fd){
        .host = WASI__HOST_SINK,
        .sink_stream = (uint8_t)fd,
        .filetype = WASI_FILETYPE_UNKNOWN, /* as a pipe */
        .rights_base = WASI_RIGHTS_SINK,
    };
    return WASI_ESUCCESS;
}

uint32_t wasi__fd_insert(wasi_ctx *ctx, int host, uint64_t rights_base, uint64_t rights_inheriting,
                         uint32_t *ret_fd) {
    uint32_t fd = WASI_FIRST_FREE_FD;
    while (fd < ctx->nfds && ctx->fds[fd].host != WASI__HOST_FREE)
        fd++;
    uint32_t e = wasi__fd_set(ctx, fd, host, rights_base, rights_inheriting);
    if (e == WASI_ESUCCESS)
        *ret_fd = fd;
    return e;
}

wasi__fd *wasi__fd_lookup(wasi_ctx *ctx, uint32_t fd, uint64_t rights, uint32_t *ret_err) {
    if (fd >= ctx->nfds || ctx->fds[fd].host == WASI__HOST_FREE) {
        *ret_err = WASI_EBADF;
        return NULL;
    }
    wasi__fd *f = &ctx->fds[fd];
    if ((f->rights_base & rights) != rights) {
        *ret_err = WASI_ENOTCAPABLE;
        return NULL;
    }
    return f;
}

static void fd_release(wasi__fd *f) {
    if (f->host >= 0)
        close(f->host);
    free(f->preopen);
    *f = (wasi__fd){ .host = WASI__HOST_FREE };
}

void wasi__fd_table_free(wasi_ctx *ctx) {
    for (uint32_t i = 0; i < ctx->nfds; i++)
        if (ctx->fds[i].host != WASI__HOST_FREE)
            fd_release(&ctx->fds[i]);
    free(ctx->fds);
    ctx->fds = NULL;
    ctx->nfds = 0;
}

/* ---- Helpers ---------------------------------------------------------- */

static uint32_t host_error(void) {
    return wasi_errno_from_host(errno);
}

/* Nanoseconds since the epoch, as WASI timestamps are.  Times before 1970 clamp to 0. */
static uint64_t timespec_ns(const struct timespec *ts) {
    if (ts->tv_sec < 0)
        return 0;
    return (uint64_t)ts->tv_sec * WASI_NS_PER_SEC + (uint64_t)ts->tv_nsec;
}

void wasi__store_filestat(const wasi__mem *mem, uint32_t ptr, const struct stat *st) {
    uint8_t filetype;
    switch (st->st_mode & S_IFMT) {
    case S_IFREG: filetype = WASI_FILETYPE_REGULAR_FILE; break;
    case S_IFDIR: filetype = WASI_FILETYPE_DIRECTORY; break;
    case S_IFCHR: filetype = WASI_FILETYPE_CHARACTER_DEVICE; break;
    case S_IFBLK: filetype = WASI_FILETYPE_BLOCK_DEVICE; break;
    case S_IFLNK: filetype = WASI_FILETYPE_SYMBOLIC_LINK; break;
    /* No SO_TYPE from a stat: a socket met by path is reported as a stream. */
    case S_IFSOCK: filetype = WASI_FILETYPE_SOCKET_STREAM; break;
    default: filetype = WASI_FILETYPE_UNKNOWN; break;
    }
    memset(wasi__at(mem, ptr), 0, WASI_FILESTAT_SIZE);
    wasi__store64(mem, ptr + 0, (uint64_t)st->st_dev);
    wasi__store64(mem, ptr + 8, (uint64_t)st->st_ino);
    wasi__store8(mem, ptr + 16, filetype);
    wasi__store64(mem, ptr + 24, (uint64_t)st->st_nlink);
    wasi__store64(mem, ptr + 32, (uint64_t)st->st_size);
    wasi__store64(mem, ptr + 40, timespec_ns(&st->st_atim));
    wasi__store64(mem, ptr + 48, timespec_ns(&st->st_mtim));
    wasi__store64(mem, ptr + 56, timespec_ns(&st->st_ctim));
}

/*
 * Turns the guest's array of `n` iovecs at `iovs` into host iovecs that
 * point into guest memory, checking the array and every buffer.
 */
static uint32_t iovecs_from_guest(const wasi__mem *mem, uint32_t iovs, uint32_t n, struct iovec *out) {
    if (n > WASI_MAX_IOVS)
        return WASI_EINVAL;
    if (!wasi__mem_ok(mem, iovs, (uint64_t)n * WASI_IOVEC_SIZE))
        return WASI_EFAULT;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf = wasi__load32(mem, iovs + i * WASI_IOVEC_SIZE);
        uint32_t len = wasi__load32(mem, iovs + i * WASI_IOVEC_SIZE + 4);
        if (!wasi__mem_ok(mem, buf, len))
            return WASI_EFAULT;
        out[i].iov_base = wasi__at(mem, buf);
        out[i].iov_len = len;
    }
    return WASI_ESUCCESS;
}

#define IO_SMALL_IOVS 8

/* Newlines in the first `n` bytes of the buffers. */
static uint64_t count_lines(const struct iovec *iov, uint32_t niovs, size_t n) {
    uint64_t lines = 0;
    for (uint32_t i = 0; i < niovs && n > 0; i++) {
        size_t len = iov[i].iov_len < n ? iov[i].iov_len : n;
        const char *p = iov[i].iov_base, *end = p + len;
        while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
            lines++;
            p++;
        }
        n -= len;
    }
    return lines;
}

/* What a read or write call does, after the common checks. */
enum io_op { IO_READ, IO_WRITE, IO_PREAD, IO_PWRITE };

/*
 * fd_read, fd_write, fd_pread and fd_pwrite: checks rights and buffers,
 * then does one system call and stores the byte count at `ret_n`.
 */
static uint32_t do_io(wasi_ctx *ctx, const wasi__mem *mem, enum io_op op, uint32_t fd, uint32_t iovs,
                      uint32_t niovs, uint64_t offset, uint32_t ret_n) {
    static const uint64_t needed[] = {
        [IO_READ] = WASI_RIGHT_FD_READ,
        [IO_WRITE] = WASI_RIGHT_FD_WRITE,
        [IO_PREAD] = WASI_RIGHT_FD_READ | WASI_RIGHT_FD_SEEK,
        [IO_PWRITE] = WASI_RIGHT_FD_WRITE | WASI_RIGHT_FD_SEEK,
    };
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, fd, needed[op], &e);
    if (!f)
        return e;
    if (niovs > WASI_MAX_IOVS)
        return WASI_EINVAL;
    /* Most calls pass one or two buffers: those need no allocation. */
    struct iovec small[IO_SMALL_IOVS];
    struct iovec *iov = small;
    if (niovs > IO_SMALL_IOVS && !(iov = malloc(niovs * sizeof *iov)))
        return WASI_ENOMEM;
    e = iovecs_from_guest(mem, iovs, niovs, iov);
    if (e == WASI_ESUCCESS && !wasi__mem_ok(mem, ret_n, 4))
        e = WASI_EFAULT;
    if (e == WASI_ESUCCESS && (op == IO_PREAD || op == IO_PWRITE) && offset > INT64_MAX)
        e = WASI_EINVAL;
    if (e != WASI_ESUCCESS)
        goto out_free_iov;
    ssize_t n;
    if (wasi__fd_is_sink(f)) {
        /* The rights let only writes through; at an offset, as on a pipe, ESPIPE. */
        if (op != IO_WRITE) {
            e = op == IO_PWRITE ? WASI_ESPIPE : WASI_EBADF;
            goto out_free_iov;
        }
        /* At most WASI_MAX_SINK_WRITE bytes: a short write, which writers loop on, each call paid for. */
        size_t left = WASI_MAX_SINK_WRITE;
        n = 0;
        for (uint32_t i = 0; i < niovs && left > 0; i++) {
            size_t len = iov[i].iov_len < left ? iov[i].iov_len : left;
            if (len)
                ctx->sink(ctx->sink_ud, f->sink_stream, iov[i].iov_base, len);
            n += (ssize_t)len;
            left -= len;
        }
        goto done;
    }
    /* Everything the blocking read would check has been checked: a retry gives the same answers. */
    if (op == IO_READ && wasi__would_block(ctx, f->host, WASI_WAIT_READABLE)) {
        e = WASI__PARKED;
        goto out_free_iov;
    }
    do {
        switch (op) {
        case IO_READ: n = readv(f->host, iov, (int)niovs); break;
        case IO_WRITE: n = writev(f->host, iov, (int)niovs); break;
        case IO_PREAD: n = preadv(f->host, iov, (int)niovs, (off_t)offset); break;
        default: n = pwritev(f->host, iov, (int)niovs, (off_t)offset); break;
        }
    } while (n < 0 && errno == EINTR);
    if (n < 0) {
        e = host_error();
        goto out_free_iov;
    }
done:
    wasi__store32(mem, ret_n, (uint32_t)n); /* Linux moves at most 2 GiB per call, a sink WASI_MAX_SINK_WRITE */
    ctx->fuel += (uint64_t)n / WASI_FUEL_IO_BYTES;
    if (op == IO_WRITE && ctx->stdio_line_fuel && (fd == 1 || fd == 2 || wasi__fd_is_sink(f)))
        ctx->fuel += (uint64_t)ctx->stdio_line_fuel * count_lines(iov, niovs, (size_t)n);
out_free_iov:
    if (iov != small)
        free(iov);
    return e;
}

/* ---- fd_* ------------------------------------------------------------- */

uint32_t wasi__fd_read(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return do_io(ctx, mem, IO_READ, WASI_ARG32(args, 0), WASI_ARG32(args, 1), WASI_ARG32(args, 2), 0,
                 WASI_ARG32(args, 3));
}

uint32_t wasi__fd_write(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return do_io(ctx, mem, IO_WRITE, WASI_ARG32(args, 0), WASI_ARG32(args, 1), WASI_ARG32(args, 2), 0,
                 WASI_ARG32(args, 3));
}

uint32_t wasi__fd_pread(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return do_io(ctx, mem, IO_PREAD, WASI_ARG32(args, 0), WASI_ARG32(args, 1), WASI_ARG32(args, 2),
                 WASI_ARG64(args, 3), WASI_ARG32(args, 4));
}

uint32_t wasi__fd_pwrite(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return do_io(ctx, mem, IO_PWRITE, WASI_ARG32(args, 0), WASI_ARG32(args, 1), WASI_ARG32(args, 2),
                 WASI_ARG64(args, 3), WASI_ARG32(args, 4));
}

uint32_t wasi__fd_close(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), 0, &e);
    if (!f)
        return e;
    fd_release(f);
    return WASI_ESUCCESS;
}

uint32_t wasi__fd_datasync(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_DATASYNC, &e);
    if (!f)
        return e;
    return fdatasync(f->host) < 0 ? host_error() : WASI_ESUCCESS;
}

uint32_t wasi__fd_sync(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_SYNC, &e);
    if (!f)
        return e;
    return fsync(f->host) < 0 ? host_error() : WASI_ESUCCESS;
}

uint32_t wasi__fd_advise(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    static const int advice_map[] = {
        [WASI_ADVICE_NORMAL] = POSIX_FADV_NORMAL,
        [WASI_ADVICE_SEQUENTIAL] = POSIX_FADV_SEQUENTIAL,
        [WASI_ADVICE_RANDOM] = POSIX_FADV_RANDOM,
        [WASI_ADVICE_WILLNEED] = POSIX_FADV_WILLNEED,
        [WASI_ADVICE_DONTNEED] = POSIX_FADV_DONTNEED,
        [WASI_ADVICE_NOREUSE] = POSIX_FADV_NOREUSE,
    };
    uint64_t offset = WASI_ARG64(args, 1), len = WASI_ARG64(args, 2);
    uint32_t advice = WASI_ARG32(args, 3) & 0xff; /* advice is a u8 */
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_ADVISE, &e);
    if (!f)
        return e;
    if (advice >= sizeof advice_map / sizeof advice_map[0] || offset > INT64_MAX || len > INT64_MAX)
        return WASI_EINVAL;
    int r = posix_fadvise(f->host, (off_t)offset, (off_t)len, advice_map[advice]);
    /* Advice on a pipe or a directory means nothing; it is not an error worth reporting. */
    if (r == ESPIPE || r == EBADF)
        return WASI_ESUCCESS;
    return r ? wasi_errno_from_host(r) : WASI_ESUCCESS;
}

uint32_t wasi__fd_allocate(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint64_t offset = WASI_ARG64(args, 1), len = WASI_ARG64(args, 2);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_ALLOCATE, &e);
    if (!f)
        return e;
    if (offset > INT64_MAX || len > INT64_MAX - offset)
        return WASI_EFBIG;
    int r = posix_fallocate(f->host, (off_t)offset, (off_t)len);
    return r ? wasi_errno_from_host(r) : WASI_ESUCCESS;
}

/* The fdflags a descriptor has now, from the host's view of it. */
static uint16_t current_fdflags(const wasi__fd *f, int host_flags) {
    uint16_t flags = 0;
    if (host_flags & O_APPEND)
        flags |= WASI_FDFLAG_APPEND;
    if (host_flags & O_NONBLOCK)
        flags |= WASI_FDFLAG_NONBLOCK;
    /* Linux's O_SYNC includes the O_DSYNC bit. */
    if ((host_flags & O_SYNC) == O_SYNC)
        flags |= WASI_FDFLAG_SYNC;
    else if (host_flags & O_DSYNC)
        flags |= WASI_FDFLAG_DSYNC;
    if (f->rsync)
        flags |= WASI_FDFLAG_RSYNC;
    return flags;
}

uint32_t wasi__fd_fdstat_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t ret = WASI_ARG32(args, 1);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), 0, &e);
    if (!f)
        return e;
    if (!wasi__mem_ok(mem, ret, WASI_FDSTAT_SIZE))
        return WASI_EFAULT;
    int host_flags = wasi__fd_is_sink(f) ? 0 : fcntl(f->host, F_GETFL);
    if (host_flags < 0)
        return host_error();
    memset(wasi__at(mem, ret), 0, WASI_FDSTAT_SIZE);
    wasi__store8(mem, ret + 0, f->filetype);
    wasi__store16(mem, ret + 2, current_fdflags(f, host_flags));
    wasi__store64(mem, ret + 8, f->rights_base);
    wasi__store64(mem, ret + 16, f->rights_inheriting);
    return WASI_ESUCCESS;
}

/*
 * Only APPEND and NONBLOCK can change after open (Linux's F_SETFL ignores
 * the sync flags).  Passing the sync flags the descriptor already has is
 * fine, since programs do "get flags, add O_NONBLOCK, set flags".
 */
uint32_t wasi__fd_fdstat_set_flags(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t flags = WASI_ARG32(args, 1) & 0xffff; /* fdflags is a u16 */
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_FDSTAT_SET_FLAGS, &e);
    if (!f)
        return e;
    if (flags & ~WASI_FDFLAGS_ALL)
        return WASI_EINVAL;
    /* A sink never blocks and always appends: APPEND and NONBLOCK change nothing. */
    if (wasi__fd_is_sink(f))
        return (flags & WASI_FDFLAGS_SYNCS) ? WASI_ENOTSUP : WASI_ESUCCESS;
    int host_flags = fcntl(f->host, F_GETFL);
    if (host_flags < 0)
        return host_error();
    if ((flags & WASI_FDFLAGS_SYNCS) != (current_fdflags(f, host_flags) & WASI_FDFLAGS_SYNCS))
        return WASI_ENOTSUP;
    host_flags &= ~(O_APPEND | O_NONBLOCK);
    if (flags & WASI_FDFLAG_APPEND)
        host_flags |= O_APPEND;
    if (flags & WASI_FDFLAG_NONBLOCK)
        host_flags |= O_NONBLOCK;
    return fcntl(f->host, F_SETFL, host_flags) < 0 ? host_error() : WASI_ESUCCESS;
}

/* Rights can be dropped, never gained. */
uint32_t wasi__fd_fdstat_set_rights(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint64_t base = WASI_ARG64(args, 1), inheriting = WASI_ARG64(args, 2);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), 0, &e);
    if (!f)
        return e;
    if ((base & ~f->rights_base) || (inheriting & ~f->rights_inheriting))
        return WASI_ENOTCAPABLE;
    f->rights_base = base;
    f->rights_inheriting = inheriting;
    return WASI_ESUCCESS;
}

uint32_t wasi__fd_filestat_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t ret = WASI_ARG32(args, 1);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_FILESTAT_GET, &e);
    if (!f)
        return e;
    if (!wasi__mem_ok(mem, ret, WASI_FILESTAT_SIZE))
        return WASI_EFAULT;
    if (wasi__fd_is_sink(f)) {
        memset(wasi__at(mem, ret), 0, WASI_FILESTAT_SIZE); /* filetype 0: unknown, as a pipe */
        return WASI_ESUCCESS;
    }
    struct stat st;
    if (fstat(f->host, &st) < 0)
        return host_error();
    wasi__store_filestat(mem, ret, &st);
    return WASI_ESUCCESS;
}

uint32_t wasi__fd_filestat_set_size(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint64_t size = WASI_ARG64(args, 1);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_FILESTAT_SET_SIZE, &e);
    if (!f)
        return e;
    if (size > INT64_MAX)
        return WASI_EFBIG;
    return ftruncate(f->host, (off_t)size) < 0 ? host_error() : WASI_ESUCCESS;
}

/* One timespec for futimens/utimensat from a WASI timestamp and the fstflags for it. */
static bool fst_time(uint64_t ns, bool set, bool now, struct timespec *ret_ts) {
    struct timespec ts = { 0, UTIME_OMIT };
    if (now) {
        ts.tv_nsec = UTIME_NOW;
    } else if (set) {
        if (!wasi__time_fits(ns / WASI_NS_PER_SEC))
            return false;
        ts.tv_sec = (time_t)(ns / WASI_NS_PER_SEC);
        ts.tv_nsec = (long)(ns % WASI_NS_PER_SEC);
    }
    *ret_ts = ts;
    return true;
}

uint32_t wasi__fst_times(uint64_t atim, uint64_t mtim, uint32_t fst, struct timespec ret_ts[2]) {
    /* A time cannot be both given and "now". */
    if ((fst & ~WASI_FSTFLAGS_ALL) ||
        ((fst & WASI_FSTFLAG_ATIM) && (fst & WASI_FSTFLAG_ATIM_NOW)) ||
        ((fst & WASI_FSTFLAG_MTIM) && (fst & WASI_FSTFLAG_MTIM_NOW)))
        return WASI_EINVAL;
    if (!fst_time(atim, fst & WASI_FSTFLAG_ATIM, fst & WASI_FSTFLAG_ATIM_NOW, &ret_ts[0]) ||
        !fst_time(mtim, fst & WASI_FSTFLAG_MTIM, fst & WASI_FSTFLAG_MTIM_NOW, &ret_ts[1]))
        return WASI_EOVERFLOW;
    return WASI_ESUCCESS;
}

uint32_t wasi__fd_filestat_set_times(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint64_t atim = WASI_ARG64(args, 1), mtim = WASI_ARG64(args, 2);
    uint32_t fst = WASI_ARG32(args, 3) & 0xffff;
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_FILESTAT_SET_TIMES, &e);
    if (!f)
        return e;
    struct timespec ts[2];
    e = wasi__fst_times(atim, mtim, fst, ts);
    if (e != WASI_ESUCCESS)
        return e;
    return futimens(f->host, ts) < 0 ? host_error() : WASI_ESUCCESS;
}

uint32_t wasi__fd_prestat_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t ret = WASI_ARG32(args, 1);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), 0, &e);
    /* wasi-libc scans fds from 3 upwards and stops at the first EBADF. */
    if (!f || !f->preopen)
        return WASI_EBADF;
    if (!wasi__mem_ok(mem, ret, WASI_PRESTAT_SIZE))
        return WASI_EFAULT;
    memset(wasi__at(mem, ret), 0, WASI_PRESTAT_SIZE);
    wasi__store8(mem, ret + 0, WASI_PREOPENTYPE_DIR);
    wasi__store32(mem, ret + 4, (uint32_t)strlen(f->preopen));
    return WASI_ESUCCESS;
}

/* The name is written without a NUL; the guest allocated exactly its length. */
uint32_t wasi__fd_prestat_dir_name(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t path = WASI_ARG32(args, 1), path_len = WASI_ARG32(args, 2);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), 0, &e);
    if (!f || !f->preopen)
        return WASI_EBADF;
    size_t len = strlen(f->preopen);
    if (path_len < len)
        return WASI_ENAMETOOLONG;
    if (!wasi__mem_ok(mem, path, len))
        return WASI_EFAULT;
    memcpy(wasi__at(mem, path), f->preopen, len);
    return WASI_ESUCCESS;
}

/* Moves descriptor `from` onto `to`, closing what `to` was; both must be open. */
uint32_t wasi__fd_renumber(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t from = WASI_ARG32(args, 0), to = WASI_ARG32(args, 1);
    uint32_t e;
    if (!wasi__fd_lookup(ctx, from, 0, &e) || !wasi__fd_lookup(ctx, to, 0, &e))
        return e;
    if (from == to)
        return WASI_ESUCCESS;
    fd_release(&ctx->fds[to]);
    ctx->fds[to] = ctx->fds[from];
    ctx->fds[from] = (wasi__fd){ .host = WASI__HOST_FREE };
    return WASI_ESUCCESS;
}

uint32_t wasi__fd_seek(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    int64_t offset = (int64_t)WASI_ARG64(args, 1);
    uint32_t whence = WASI_ARG32(args, 2) & 0xff; /* whence is a u8 */
    uint32_t ret = WASI_ARG32(args, 3);
    /* Asking where one is, without moving, needs only the tell right. */
    uint64_t rights = (offset == 0 && whence == WASI_WHENCE_CUR) ? WASI_RIGHT_FD_TELL : WASI_RIGHT_FD_SEEK;
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), 0, &e);
    if (!f)
        return e;
    if (!(f->rights_base & (rights | WASI_RIGHT_FD_SEEK)))
        return WASI_ENOTCAPABLE;
    int host_whence;
    switch (whence) {
    case WASI_WHENCE_SET: host_whence = SEEK_SET; break;
    case WASI_WHENCE_CUR: host_whence = SEEK_CUR; break;
    case WASI_WHENCE_END: host_whence = SEEK_END; break;
    default: return WASI_EINVAL;
    }
    if (!wasi__mem_ok(mem, ret, 8))
        return WASI_EFAULT;
    if (wasi__fd_is_sink(f))
        return WASI_ESPIPE;
    off_t pos = lseek(f->host, (off_t)offset, host_whence);
    if (pos < 0)
        return host_error();
    wasi__store64(mem, ret, (uint64_t)pos);
    return WASI_ESUCCESS;
}

uint32_t wasi__fd_tell(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t ret = WASI_ARG32(args, 1);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_TELL, &e);
    if (!f)
        return e;
    if (!wasi__mem_ok(mem, ret, 8))
        return WASI_EFAULT;
    if (wasi__fd_is_sink(f))
        return WASI_ESPIPE;
    off_t pos = lseek(f->host, 0, SEEK_CUR);
    if (pos < 0)
        return host_error();
    wasi__store64(mem, ret, (uint64_t)pos);
    return WASI_ESUCCESS;
}

/* ---- fd_readdir ------------------------------------------------------- */

/* WASI dirent: d_next u64 @0, d_ino u64 @8, d_namlen u32 @16, d_type u8 @20, then the name. */
#define DIRENT_SIZE 24u

/* Bytes of getdents64 output read per system call. */
#define READDIR_CHUNK 4096u

/* Linux's struct linux_dirent64, which glibc does not declare. */
struct host_dirent64 {
    uint64_t d_ino;
    int64_t d_off;             /* cookie of the next entry */
    unsigned short d_reclen;
    unsigned char d_type;
    char d_name[];
};

static uint8_t dirent_type(unsigned char d_type) {
    switch (d_type) {
    case DT_REG: return WASI_FILETYPE_REGULAR_FILE;
    case DT_DIR: return WASI_FILETYPE_DIRECTORY;
    case DT_LNK: return WASI_FILETYPE_SYMBOLIC_LINK;
    case DT_CHR: return WASI_FILETYPE_CHARACTER_DEVICE;
    case DT_BLK: return WASI_FILETYPE_BLOCK_DEVICE;
    case DT_SOCK: return WASI_FILETYPE_SOCKET_STREAM;
    default: return WASI_FILETYPE_UNKNOWN;
    }
}

/*
 * Fills the guest buffer with entries starting at `cookie`.  Cookies are the
 * kernel's own directory offsets (d_off, usable with lseek), 0 being the
 * start.  As WASI specifies, the last entry may be cut short when the buffer
 * is full; the guest sees bufused == buf_len and asks again from that
 * entry's cookie with a larger buffer.
 */
uint32_t wasi__fd_readdir(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t buf = WASI_ARG32(args, 1), buf_len = WASI_ARG32(args, 2);
    uint64_t cookie = WASI_ARG64(args, 3);
    uint32_t ret_used = WASI_ARG32(args, 4);
    uint32_t e;
    wasi__fd *f = wasi__fd_lookup(ctx, WASI_ARG32(args, 0), WASI_RIGHT_FD_READDIR, &e);
    if (!f)
        return e;
    if (!wasi__mem_ok(mem, buf, buf_len) || !wasi__mem_ok(mem, ret_used, 4))
        return WASI_EFAULT;
    if (cookie > INT64_MAX)
        return WASI_EINVAL;
    if (lseek(f->host, (off_t)cookie, SEEK_SET) < 0)
        return host_error();

    ctx->fuel += buf_len / WASI_FUEL_IO_BYTES;
    uint8_t *chunk = malloc(READDIR_CHUNK);
    if (!chunk)
        return WASI_ENOMEM;
    uint32_t used = 0;
    e = WASI_ESUCCESS;
    while (used < buf_len) {
        long n = syscall(SYS_getdents64, f->host, chunk, READDIR_CHUNK);
        if (n < 0) {
            e = host_error();
            break;
        }
        if (n == 0)
            break; /* end of the directory */
        for (long off = 0; off < n && used < buf_len;) {
            const struct host_dirent64 *d = (const struct host_dirent64 *)(chunk + off);
            off += d->d_reclen;
            uint32_t namlen = (uint32_t)strlen(d->d_name);
            uint8_t entry[DIRENT_SIZE];
            wasi__mem tmp = { entry, sizeof entry };
            memset(entry, 0, sizeof entry);
            wasi__store64(&tmp, 0, (uint64_t)d->d_off);
            wasi__store64(&tmp, 8, d->d_ino);
            wasi__store32(&tmp, 16, namlen);
            wasi__store8(&tmp, 20, dirent_type(d->d_type));
            /* Header then name, each cut at the end of the buffer. */
            uint32_t k = buf_len - used < DIRENT_SIZE ? buf_len - used : DIRENT_SIZE;
            memcpy(wasi__at(mem, buf + used), entry, k);
            used += k;
            k = buf_len - used < namlen ? buf_len - used : namlen;
            memcpy(wasi__at(mem, buf + used), d->d_name, k);
            used += k;
        }
    }
    free(chunk);
    if (e == WASI_ESUCCESS)
        wasi__store32(mem, ret_used, used);
    return e;
}
