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
#include <stdio.h>
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

bool wasi__force_walk;

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
    if (!openat2_missing && !wasi__force_walk) {
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
    if (wr && (oflags & WASI_OFLAG_DIRECTORY)) {
        /* It is a directory (O_DIRECTORY succeeded), which cannot be written: refuse, as the kernel does without it. */
        close(host);
        return WASI_EISDIR;
    }
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

/* ---- The parent of a path's final component ------------------------- */

/*
 * The calls that create, remove, rename, link or read a name act on the
 * final component itself, not on what it points to.  So the path is split
 * into its directory part, which is resolved beneath the starting directory
 * like any path_open, and its final name, which is then given to the *at()
 * system call relative to that directory.  A single name relative to a
 * directory we resolved cannot leave it: the kernel does not follow a
 * symbolic link in the final component of mkdirat, unlinkat, renameat,
 * linkat (without AT_SYMLINK_FOLLOW), symlinkat, readlinkat, or utimensat
 * with AT_SYMLINK_NOFOLLOW.
 *
 * Where a call must follow a final symbolic link (path_filestat_set_times
 * and path_link with LOOKUP_SYMLINK_FOLLOW, or a name with a trailing slash,
 * which the kernel would follow by itself), the link is read here and its
 * target spliced into the path, which is then resolved again from the top:
 * the kernel never follows it on its own.
 */

/* How the final component is treated when it is a symbolic link. */
enum last_link {
    LAST_KEEP,             /* act on the link itself; the kernel does not follow it either */
    LAST_FOLLOW_IF_SLASH,  /* act on the link, unless a trailing slash asks to follow it */
    LAST_FOLLOW,           /* act on what it points to */
};

/* The directory holding the final component, and that component. */
typedef struct parent_ref {
    int fd;                              /* owned O_PATH descriptor of the directory */
    char name[WASI_MAX_NAME + 2];        /* the final name, with one '/' kept if the path ended in slashes */
} parent_ref;

static bool is_dot_or_dotdot(const char *name, size_t len) {
    return (len == 1 && name[0] == '.') || (len == 2 && name[0] == '.' && name[1] == '.');
}

/*
 * Resolves everything but the final component of `path` beneath `dirfd`.
 * A final "." or ".." is resolved too (it names a directory, never an entry
 * that could be created or removed) and becomes "." in that directory, so
 * that "x/.." cannot reach past the starting directory and the kernel's
 * answer for "." (EEXIST, EINVAL, EBUSY...) applies.
 */
static uint32_t resolve_parent(int dirfd, const char *path, enum last_link how, parent_ref *ret) {
    if (strlen(path) > WASI_MAX_PATH)
        return WASI_ENAMETOOLONG;
    char *cur = strdup(path);
    if (!cur)
        return WASI_ENOMEM;
    unsigned nlinks = 0;
    uint32_t e;
    for (;;) {
        if (cur[0] == '\0') {
            e = WASI_ENOENT;
            break;
        }
        if (cur[0] == '/') {
            e = WASI_ENOTCAPABLE;
            break;
        }
        /* Split "dir/name//" into "dir", "name" and the trailing slash. */
        size_t len = strlen(cur);
        bool slash = false;
        while (len > 0 && cur[len - 1] == '/') {
            len--;
            slash = true;
        }
        size_t start = len;
        while (start > 0 && cur[start - 1] != '/')
            start--;
        size_t name_len = len - start;
        if (name_len > WASI_MAX_NAME) {
            e = WASI_ENAMETOOLONG;
            break;
        }
        char name[WASI_MAX_NAME + 1];
        memcpy(name, cur + start, name_len);
        name[name_len] = '\0';

        int fd;
        if (is_dot_or_dotdot(name, name_len)) {
            cur[len] = '\0';
            e = wasi__open_beneath(dirfd, cur, O_PATH | O_DIRECTORY, true, &fd);
            if (e == WASI_ESUCCESS) {
                ret->fd = fd;
                strcpy(ret->name, ".");
            }
            break;
        }
        /* The directory part keeps its own trailing slash ("a/" for "a/b"), which is harmless. */
        cur[start] = '\0';
        e = wasi__open_beneath(dirfd, start ? cur : ".", O_PATH | O_DIRECTORY, true, &fd);
        if (e != WASI_ESUCCESS)
            break;

        bool follow = how == LAST_FOLLOW || (how == LAST_FOLLOW_IF_SLASH && slash);
        char target[WASI_MAX_PATH + 1];
        ssize_t n = follow ? readlinkat(fd, name, target, sizeof target) : -1;
        if (n < 0) {
            /* Not a link (EINVAL), or missing: the call itself reports on the name. */
            ret->fd = fd;
            snprintf(ret->name, sizeof ret->name, "%s%s", name, slash ? "/" : "");
            e = WASI_ESUCCESS;
            break;
        }
        close(fd);
        /* Same rules as the walk: bounded, never empty, never absolute. */
        if (++nlinks > WASI_MAX_SYMLINKS) {
            e = WASI_ELOOP;
            break;
        }
        if ((size_t)n > WASI_MAX_PATH || start + (size_t)n + 1 > WASI_MAX_PATH) {
            e = WASI_ENAMETOOLONG;
            break;
        }
        if (n == 0) {
            e = WASI_ENOENT;
            break;
        }
        if (target[0] == '/') {
            e = WASI_ENOTCAPABLE;
            break;
        }
        /* The target is relative to the link's directory: "dir/" + target (+ "/"). */
        char *next = malloc(start + (size_t)n + 2);
        if (!next) {
            e = WASI_ENOMEM;
            break;
        }
        memcpy(next, cur, start);
        memcpy(next + start, target, (size_t)n);
        next[start + (size_t)n] = slash ? '/' : '\0';
        next[start + (size_t)n + 1] = '\0';
        free(cur);
        cur = next;
    }
    free(cur);
    return e;
}

/* ---- path_* that change the tree or read links ----------------------- */

/*
 * The common start of the one-path calls: the directory with the rights the
 * call needs, the guest path copied out, and its parent resolved.
 */
static uint32_t one_path(wasi_ctx *ctx, const wasi__mem *mem, uint32_t dirfd, uint64_t rights, uint32_t path,
                         uint32_t path_len, enum last_link how, parent_ref *ret) {
    uint32_t e;
    wasi__fd *dir = dir_lookup(ctx, dirfd, rights, &e);
    if (!dir)
        return e;
    char name[WASI_MAX_PATH + 1];
    e = path_from_guest(mem, path, path_len, name);
    if (e != WASI_ESUCCESS)
        return e;
    return resolve_parent(dir->host, name, how, ret);
}

/* The WASI result of a system call that returned `r` (0 or -1 with errno). */
static uint32_t sys_result(int r) {
    return r < 0 ? wasi_errno_from_host(errno) : WASI_ESUCCESS;
}

/* Mode of directories that path_create_directory makes; the process umask applies. */
#define CREATE_DIR_MODE 0777

uint32_t wasi__path_create_directory(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    parent_ref p;
    uint32_t e = one_path(ctx, mem, WASI_ARG32(args, 0), WASI_RIGHT_PATH_CREATE_DIRECTORY, WASI_ARG32(args, 1),
                          WASI_ARG32(args, 2), LAST_KEEP, &p);
    if (e != WASI_ESUCCESS)
        return e;
    e = sys_result(mkdirat(p.fd, p.name, CREATE_DIR_MODE));
    close(p.fd);
    return e;
}

uint32_t wasi__path_remove_directory(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    parent_ref p;
    uint32_t e = one_path(ctx, mem, WASI_ARG32(args, 0), WASI_RIGHT_PATH_REMOVE_DIRECTORY, WASI_ARG32(args, 1),
                          WASI_ARG32(args, 2), LAST_KEEP, &p);
    if (e != WASI_ESUCCESS)
        return e;
    e = sys_result(unlinkat(p.fd, p.name, AT_REMOVEDIR));
    /* POSIX allows EEXIST for a directory that is not empty; WASI programs test for ENOTEMPTY. */
    if (e == WASI_EEXIST)
        e = WASI_ENOTEMPTY;
    close(p.fd);
    return e;
}

uint32_t wasi__path_unlink_file(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    parent_ref p;
    uint32_t e = one_path(ctx, mem, WASI_ARG32(args, 0), WASI_RIGHT_PATH_UNLINK_FILE, WASI_ARG32(args, 1),
                          WASI_ARG32(args, 2), LAST_KEEP, &p);
    if (e != WASI_ESUCCESS)
        return e;
    e = sys_result(unlinkat(p.fd, p.name, 0));
    close(p.fd);
    return e;
}

uint32_t wasi__path_filestat_set_times(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t lookup = WASI_ARG32(args, 1);
    uint64_t atim = WASI_ARG64(args, 4), mtim = WASI_ARG64(args, 5);
    uint32_t fst = WASI_ARG32(args, 6) & 0xffff;
    struct timespec ts[2];
    parent_ref p;
    uint32_t e = one_path(ctx, mem, WASI_ARG32(args, 0), WASI_RIGHT_PATH_FILESTAT_SET_TIMES, WASI_ARG32(args, 2),
                          WASI_ARG32(args, 3),
                          (lookup & WASI_LOOKUP_SYMLINK_FOLLOW) ? LAST_FOLLOW : LAST_FOLLOW_IF_SLASH, &p);
    if (e != WASI_ESUCCESS)
        return e;
    e = wasi__fst_times(atim, mtim, fst, ts);
    /* Links were followed above; what is left is the object itself. */
    if (e == WASI_ESUCCESS)
        e = sys_result(utimensat(p.fd, p.name, ts, AT_SYMLINK_NOFOLLOW));
    close(p.fd);
    return e;
}

uint32_t wasi__path_readlink(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t buf = WASI_ARG32(args, 3), buf_len = WASI_ARG32(args, 4), ret_used = WASI_ARG32(args, 5);
    parent_ref p;
    uint32_t e = one_path(ctx, mem, WASI_ARG32(args, 0), WASI_RIGHT_PATH_READLINK, WASI_ARG32(args, 1),
                          WASI_ARG32(args, 2), LAST_FOLLOW_IF_SLASH, &p);
    if (e != WASI_ESUCCESS)
        return e;
    if (!wasi__mem_ok(mem, buf, buf_len) || !wasi__mem_ok(mem, ret_used, 4)) {
        close(p.fd);
        return WASI_EFAULT;
    }
    char target[WASI_MAX_PATH + 1];
    ssize_t n = readlinkat(p.fd, p.name, target, sizeof target);
    int err = errno;
    close(p.fd);
    if (n < 0)
        return wasi_errno_from_host(err);
    /* The raw target, cut to the buffer as readlink(2) does; no NUL is added. */
    uint32_t k = (size_t)n < buf_len ? (uint32_t)n : buf_len;
    memcpy(wasi__at(mem, buf), target, k);
    wasi__store32(mem, ret_used, k);
    return WASI_ESUCCESS;
}

uint32_t wasi__path_symlink(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t old_path = WASI_ARG32(args, 0), old_len = WASI_ARG32(args, 1);
    /*
     * The link's contents are stored as given: they are only a string until
     * something follows the link, and every resolution here refuses targets
     * that leave the directory (too many "..").  An absolute target is
     * refused at once: it could only point out of the sandbox, to whatever
     * follows links on the host.
     */
    char target[WASI_MAX_PATH + 1];
    uint32_t e;
    wasi__fd *dir = dir_lookup(ctx, WASI_ARG32(args, 2), WASI_RIGHT_PATH_SYMLINK, &e);
    if (!dir)
        return e;
    e = path_from_guest(mem, old_path, old_len, target);
    if (e != WASI_ESUCCESS)
        return e;
    if (target[0] == '/')
        return WASI_ENOTCAPABLE;
    parent_ref p;
    e = one_path(ctx, mem, WASI_ARG32(args, 2), WASI_RIGHT_PATH_SYMLINK, WASI_ARG32(args, 3), WASI_ARG32(args, 4),
                 LAST_KEEP, &p);
    if (e != WASI_ESUCCESS)
        return e;
    e = sys_result(symlinkat(target, p.fd, p.name));
    close(p.fd);
    return e;
}

uint32_t wasi__path_link(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t old_fd = WASI_ARG32(args, 0), old_lookup = WASI_ARG32(args, 1);
    uint32_t old_path = WASI_ARG32(args, 2), old_len = WASI_ARG32(args, 3);
    uint32_t new_fd = WASI_ARG32(args, 4), new_path = WASI_ARG32(args, 5), new_len = WASI_ARG32(args, 6);
    uint32_t e;
    /* Both directories are checked before either path is touched. */
    if (!dir_lookup(ctx, old_fd, WASI_RIGHT_PATH_LINK_SOURCE, &e) ||
        !dir_lookup(ctx, new_fd, WASI_RIGHT_PATH_LINK_TARGET, &e))
        return e;
    parent_ref from, to;
    e = one_path(ctx, mem, old_fd, WASI_RIGHT_PATH_LINK_SOURCE, old_path, old_len,
                 (old_lookup & WASI_LOOKUP_SYMLINK_FOLLOW) ? LAST_FOLLOW : LAST_FOLLOW_IF_SLASH, &from);
    if (e != WASI_ESUCCESS)
        return e;
    e = one_path(ctx, mem, new_fd, WASI_RIGHT_PATH_LINK_TARGET, new_path, new_len, LAST_KEEP, &to);
    if (e == WASI_ESUCCESS) {
        /* Flags 0: a link is linked as itself, any following was done above. */
        e = sys_result(linkat(from.fd, from.name, to.fd, to.name, 0));
        close(to.fd);
    }
    close(from.fd);
    return e;
}

uint32_t wasi__path_rename(wasi_ctx *ctx, const wasi__mem *mem, const uint64_t *args) {
    uint32_t old_fd = WASI_ARG32(args, 0), old_path = WASI_ARG32(args, 1), old_len = WASI_ARG32(args, 2);
    uint32_t new_fd = WASI_ARG32(args, 3), new_path = WASI_ARG32(args, 4), new_len = WASI_ARG32(args, 5);
    uint32_t e;
    if (!dir_lookup(ctx, old_fd, WASI_RIGHT_PATH_RENAME_SOURCE, &e) ||
        !dir_lookup(ctx, new_fd, WASI_RIGHT_PATH_RENAME_TARGET, &e))
        return e;
    parent_ref from, to;
    e = one_path(ctx, mem, old_fd, WASI_RIGHT_PATH_RENAME_SOURCE, old_path, old_len, LAST_KEEP, &from);
    if (e != WASI_ESUCCESS)
        return e;
    e = one_path(ctx, mem, new_fd, WASI_RIGHT_PATH_RENAME_TARGET, new_path, new_len, LAST_KEEP, &to);
    if (e == WASI_ESUCCESS) {
        e = sys_result(renameat(from.fd, from.name, to.fd, to.name));
        if (e == WASI_EEXIST)
            e = WASI_ENOTEMPTY; /* as for rmdir: a directory replaced only when empty */
        close(to.fd);
    }
    close(from.fd);
    return e;
}
