/*
 * path.c - resolving guest paths beneath a directory, and the path_* functions.
 *
 * A guest path is always relative to a directory descriptor the guest holds
 * (wasi-libc maps absolute paths onto the preopens itself).  The result of
 * resolving it must stay beneath that directory, whatever the path holds:
 * "..", symbolic links (relative or absolute, in any component), or races
 * with something renaming directories meanwhile.
 *
 * Two ways get there:
 *
 *   - openat2(2) with RESOLVE_BENEATH (Linux 5.6+): the kernel refuses any
 *     step that leaves the directory, atomically.  Preferred.
 *   - Otherwise a walk in user space: one component at a time with openat()
 *     and O_NOFOLLOW, so the kernel never resolves more than a single name
 *     and never follows a link by itself.  ".." pops our own stack of opened
 *     directories (never the kernel's ".."), and a symbolic link is read and
 *     spliced into the rest of the path.  A ".." past the start or an
 *     absolute link target is refused.
 *
 * Either way an escape fails with WASI_ENOTCAPABLE.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifdef SYS_openat2
#include <linux/openat2.h>
#endif

#include "internal.h"

/* Mode of files that path_open creates; the process umask applies. */
#define CREATE_MODE 0666

/* ---- Resolution by the kernel: openat2 --------------------------------- */

/* openat2 may fail with EAGAIN when a rename raced with the lookup: try again a few times. */
#define OPENAT2_RETRIES 8

/* Set once openat2 turned out to be missing (ENOSYS: old kernel or a seccomp filter). */
static bool openat2_missing;

#ifdef SYS_openat2
/* Returns a WASI errno, or UINT32_MAX when openat2 is not available. */
static uint32_t open_openat2(int dirfd, const char *path, int flags, bool follow, int *ret_fd) {
    struct open_how how = {
        .flags = (uint64_t)(flags | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW)),
        .mode = (flags & O_CREAT) ? CREATE_MODE : 0,
        /* Magic links (/proc/self/fd/N) cannot be reached beneath a directory
         * anyway; refusing them costs nothing and closes that door twice. */
        .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    };
    for (int i = 0; i < OPENAT2_RETRIES; i++) {
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0) {
            *ret_fd = (int)fd;
            return WASI_ESUCCESS;
        }
        if (errno == EINTR || errno == EAGAIN)
            continue;
        if (errno == ENOSYS)
            return UINT32_MAX;
        /* RESOLVE_BENEATH reports every escape, and only escapes, as EXDEV. */
        if (errno == EXDEV)
            return WASI_ENOTCAPABLE;
        return wasi_errno_from_host(errno);
    }
    return WASI_EAGAIN;
}
#endif

/* ---- Resolution in user space: the walk -------------------------------- */

/* The directories entered so far.  fds[0] is the starting directory, not ours to close. */
typedef struct dir_stack {
    int *fds;
    size_t n, cap;
} dir_stack;

static int stack_top(const dir_stack *st) {
    return st->fds[st->n - 1];
}

static bool stack_push(dir_stack *st, int fd) {
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 16;
        int *fds = realloc(st->fds, cap * sizeof *fds);
        if (!fds)
            return false;
        st->fds = fds;
        st->cap = cap;
    }
    st->fds[st->n++] = fd;
    return true;
}

static void stack_free(dir_stack *st) {
    for (size_t i = 1; i < st->n; i++)
        close(st->fds[i]);
    free(st->fds);
}

/*
 * Replaces the component that is a symbolic link, at `*path` up to `rest`,
 * by the link's target: the new remaining path is target + rest.  `rest`
 * begins at the '/' after the link's name, or is empty.
 */
static uint32_t splice_link(int dirfd, const char *name, const char *rest, char **path, unsigned *nlinks) {
    if (++*nlinks > WASI_MAX_SYMLINKS)
        return WASI_ELOOP;
    char target[WASI_MAX_PATH + 1];
    ssize_t n = readlinkat(dirfd, name, target, sizeof target);
    if (n < 0)
        return wasi_errno_from_host(errno);
    if ((size_t)n > WASI_MAX_PATH)
        return WASI_ENAMETOOLONG;
    if (n == 0)
        return WASI_ENOENT;
    /* An absolute target names the host's root, which the guest has no access to. */
    if (target[0] == '/')
        return WASI_ENOTCAPABLE;
    size_t rest_len = strlen(rest);
    if ((size_t)n + rest_len > WASI_MAX_PATH)
        return WASI_ENAMETOOLONG;
    char *joined = malloc((size_t)n + rest_len + 1);
    if (!joined)
        return WASI_ENOMEM;
    memcpy(joined, target, (size_t)n);
    memcpy(joined + n, rest, rest_len + 1);
    free(*path);
    *path = joined;
    return WASI_ESUCCESS;
}

/* Copies one component (at most WASI_MAX_NAME bytes) out of the path. */
static uint32_t copy_name(const char *start, size_t len, char name[WASI_MAX_NAME + 1]) {
    if (len > WASI_MAX_NAME)
        return WASI_ENAMETOOLONG;
    memcpy(name, start, len);
    name[len] = '\0';
    return WASI_ESUCCESS;
}

uint32_t wasi__open_walk(int dirfd, const char *path, int flags, bool follow, int *ret_fd) {
    if (path[0] == '\0')
        return WASI_ENOENT;
    if (path[0] == '/')
        return WASI_ENOTCAPABLE;
    if (strlen(path) > WASI_MAX_PATH)
        return WASI_ENAMETOOLONG;

    char *buf = strdup(path); /* the path still to resolve; replaced when a link is spliced in */
    dir_stack st = { 0 };
    unsigned nlinks = 0;
    uint32_t e = WASI_ENOMEM;
    if (!buf || !stack_push(&st, dirfd))
        goto out;

    const char *p = buf;
    for (;;) {
        while (*p == '/')
            p++;
        if (*p == '\0') {
            /* The path ended in "/", ".", or "..": what is left to open is the
             * directory we are in, which a trailing slash requires anyway. */
            if (flags & O_CREAT) {
                e = WASI_EISDIR;
                goto out;
            }
            int fd = openat(stack_top(&st), ".", flags | O_CLOEXEC);
            e = fd < 0 ? wasi_errno_from_host(errno) : WASI_ESUCCESS;
            if (fd >= 0)
                *ret_fd = fd;
            goto out;
        }

        const char *end = strchrnul(p, '/');
        char name[WASI_MAX_NAME + 1];
        e = copy_name(p, (size_t)(end - p), name);
        if (e != WASI_ESUCCESS)
            goto out;
        const char *rest = end;      /* "" or "/..." */
        bool last = *rest == '\0';

        if (strcmp(name, ".") == 0) {
            p = rest;
            continue;
        }
        if (strcmp(name, "..") == 0) {
            if (st.n == 1) {
                e = WASI_ENOTCAPABLE;
                goto out;
            }
            close(st.fds[--st.n]);
            p = rest;
            continue;
        }

        int fd;
        if (!last) {
            /* An intermediate directory.  With O_NOFOLLOW a symbolic link here
             * fails (ELOOP or ENOTDIR) instead of being followed by the kernel. */
            fd = openat(stack_top(&st), name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        } else {
            fd = openat(stack_top(&st), name, flags | O_NOFOLLOW | O_CLOEXEC, CREATE_MODE);
            /* O_PATH | O_NOFOLLOW opens a link itself rather than failing. */
            if (fd >= 0 && follow && (flags & O_PATH)) {
                struct stat sb;
                if (fstat(fd, &sb) == 0 && S_ISLNK(sb.st_mode)) {
                    close(fd);
                    fd = -1;
                    errno = ELOOP;
                }
            }
        }
        if (fd < 0) {
            int err = errno;
            bool maybe_link = err == ELOOP || err == ENOTDIR;
            if (maybe_link && (!last || follow)) {
                /* Was it a link?  If readlink says no, report the original error. */
                e = splice_link(stack_top(&st), name, rest, &buf, &nlinks);
                if (e == WASI_EINVAL)
                    e = wasi_errno_from_host(err);
                if (e != WASI_ESUCCESS)
                    goto out;
                /* Go on from the same directory with the link's target in front of the rest. */
                p = buf;
                continue;
            }
            e = wasi_errno_from_host(err);
            goto out;
        }
        if (last) {
            *ret_fd = fd;
            e = WASI_ESUCCESS;
            goto out;
        }
        if (!stack_push(&st, fd)) {
            close(fd);
            e = WASI_ENOMEM;
            goto out;
        }
        p = rest;
    }

out:
    stack_free(&st);
    free(buf);
    return e;
}

uint32_t wasi__open_beneath(int dirfd, const char *path, int flags, bool follow, int *ret_fd) {
    if (path[0] == '\0')
        return WASI_ENOENT;
    if (path[0] == '/')
        return WASI_ENOTCAPABLE;
#ifdef SYS_openat2
    if (!openat2_missing) {
        uint32_t e = open_openat2(dirfd, path, flags, follow, ret_fd);
        if (e != UINT32_MAX)
            return e;
        openat2_missing = true;
    }
#endif
    return wasi__open_walk(dirfd, path, flags, follow, ret_fd);
}

/* ---- path_* ----------------------------------------------------------- */

/*
 * Copies a guest path into `out` as a C string.  A NUL byte inside would
 * silently cut the path short, so it is refused.
 */
static uint32_t path_from_guest(const wasi__mem *mem, uint32_t ptr, uint32_t len, char out[WASI_MAX_PATH + 1]) {
    if (!wasi__mem_ok(mem, ptr, len))
        return WASI_EFAULT;
    if (len > WASI_MAX_PATH)
        return WASI_ENAMETOOLONG;
    memcpy(out, wasi__at(mem, ptr), len);
    out[len] = '\0';
    if (strlen(out) != len)
        return WASI_EINVAL;
    return WASI_ESUCCESS;
}

/*
 * The directory a path_* call starts from: an open directory descriptor
 * with the rights the call needs.
 */
static wasi__fd *dir_lookup(wasi_ctx *ctx, uint32_t fd, uint64_t rights, uint32_t *ret_err) {
    wasi__fd *d = wasi__fd_lookup(ctx, fd, rights, ret_err);
    if (d && d->filetype != WASI_FILETYPE_DIRECTORY) {
        *ret_err = WASI_ENOTDIR;
        return NULL;
    }
    return d;
}

uint32_t wasi__path_open(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t dirfd = WASI_ARG32(args, 0);
    uint32_t lookup = WASI_ARG32(args, 1);
    uint32_t path = WASI_ARG32(args, 2), path_len = WASI_ARG32(args, 3);
    uint32_t oflags = WASI_ARG32(args, 4) & 0xffff;
    uint64_t rights_base = WASI_ARG64(args, 5), rights_inheriting = WASI_ARG64(args, 6);
    uint32_t fdflags = WASI_ARG32(args, 7) & 0xffff;
    uint32_t ret_fd = WASI_ARG32(args, 8);

    uint64_t needed = WASI_RIGHT_PATH_OPEN;
    if (oflags & WASI_OFLAG_CREAT)
        needed |= WASI_RIGHT_PATH_CREATE_FILE;
    if (oflags & WASI_OFLAG_TRUNC)
        needed |= WASI_RIGHT_PATH_FILESTAT_SET_SIZE;
    uint32_t e;
    wasi__fd *dir = dir_lookup(ctx, dirfd, needed, &e);
    if (!dir)
        return e;
    if ((oflags & ~WASI_OFLAGS_ALL) || (fdflags & ~WASI_FDFLAGS_ALL))
        return WASI_EINVAL;
    char name[WASI_MAX_PATH + 1];
    e = path_from_guest(mem, path, path_len, name);
    if (e != WASI_ESUCCESS)
        return e;
    if (!wasi__mem_ok(mem, ret_fd, 4))
        return WASI_EFAULT;

    /* A new descriptor gets what it asks for, within what the directory passes on. */
    rights_base &= dir->rights_inheriting;
    rights_inheriting &= dir->rights_inheriting;

    int flags = O_NOCTTY;
    bool rd = rights_base & WASI_RIGHTS_NEED_READ, wr = rights_base & WASI_RIGHTS_NEED_WRITE;
    if (wr && !(oflags & WASI_OFLAG_DIRECTORY))
        flags |= rd ? O_RDWR : O_WRONLY;
    else
        flags |= O_RDONLY; /* also for a descriptor asking neither: it may still stat */
    if (oflags & WASI_OFLAG_CREAT)
        flags |= O_CREAT;
    if (oflags & WASI_OFLAG_DIRECTORY)
        flags |= O_DIRECTORY;
    if (oflags & WASI_OFLAG_EXCL)
        flags |= O_EXCL;
    if (oflags & WASI_OFLAG_TRUNC)
        flags |= O_TRUNC;
    if (fdflags & WASI_FDFLAG_APPEND)
        flags |= O_APPEND;
    if (fdflags & WASI_FDFLAG_NONBLOCK)
        flags |= O_NONBLOCK;
    if (fdflags & WASI_FDFLAG_SYNC)
        flags |= O_SYNC;
    else if (fdflags & (WASI_FDFLAG_DSYNC | WASI_FDFLAG_RSYNC))
        flags |= (fdflags & WASI_FDFLAG_RSYNC) ? O_RSYNC : O_DSYNC;

    int host;
    e = wasi__open_beneath(dir->host, name, flags, lookup & WASI_LOOKUP_SYMLINK_FOLLOW, &host);
    if (e != WASI_ESUCCESS)
        return e;
    uint32_t fd;
    e = wasi__fd_insert(ctx, host, rights_base, rights_inheriting, &fd);
    if (e != WASI_ESUCCESS) {
        close(host);
        return e;
    }
    ctx->fds[fd].rsync = fdflags & WASI_FDFLAG_RSYNC;
    wasi__store32(mem, ret_fd, fd);
    return WASI_ESUCCESS;
}

uint32_t wasi__path_filestat_get(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t dirfd = WASI_ARG32(args, 0);
    uint32_t lookup = WASI_ARG32(args, 1);
    uint32_t path = WASI_ARG32(args, 2), path_len = WASI_ARG32(args, 3);
    uint32_t ret = WASI_ARG32(args, 4);

    uint32_t e;
    wasi__fd *dir = dir_lookup(ctx, dirfd, WASI_RIGHT_PATH_FILESTAT_GET, &e);
    if (!dir)
        return e;
    char name[WASI_MAX_PATH + 1];
    e = path_from_guest(mem, path, path_len, name);
    if (e != WASI_ESUCCESS)
        return e;
    if (!wasi__mem_ok(mem, ret, WASI_FILESTAT_SIZE))
        return WASI_EFAULT;

    /* O_PATH opens anything, even without read permission, and with
     * O_NOFOLLOW a symbolic link itself, so fstat gives lstat's answer. */
    int host;
    e = wasi__open_beneath(dir->host, name, O_PATH, lookup & WASI_LOOKUP_SYMLINK_FOLLOW, &host);
    if (e != WASI_ESUCCESS)
        return e;
    struct stat st;
    int r = fstat(host, &st);
    int err = errno;
    close(host);
    if (r < 0)
        return wasi_errno_from_host(err);
    wasi__store_filestat(mem, ret, &st);
    return WASI_ESUCCESS;
}

/* ---- Not implemented yet: a later issue completes these --------------- */

/*
 * These change the tree (or read links), so each needs the parent of its
 * final component resolved beneath the directory and the final name
 * checked; they come with the escape tests.
 */
uint32_t wasi__path_create_directory(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}

uint32_t wasi__path_filestat_set_times(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}

uint32_t wasi__path_link(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}

uint32_t wasi__path_readlink(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}

uint32_t wasi__path_remove_directory(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}

uint32_t wasi__path_rename(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}

uint32_t wasi__path_symlink(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}

uint32_t wasi__path_unlink_file(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    return WASI_ENOSYS;
}
