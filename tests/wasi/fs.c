/*
 * fs.c - every file and directory call of the WASI layer, from C: through
 * wasi-libc where it passes results through unchanged, and as raw
 * __wasi_* calls where libc would hide the WASI errno or the call itself.
 * Prints one "ok ..." or "FAIL ..." line per check and exits with the
 * number of failures.
 *
 *   wasmctl run --dir EMPTY_DIR::/sb fs.wasm /sb
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failures++;
}

/* A raw WASI call must give exactly `want`. */
static void check_errno(__wasi_errno_t got, __wasi_errno_t want, const char *what) {
    if (got == want) {
        printf("ok %s\n", what);
    } else {
        printf("FAIL %s: errno %u, expected %u\n", what, got, want);
        failures++;
    }
}

static char dir[128];

static const char *at(const char *name) {
    static char buf[4][256];
    static int i;
    i = (i + 1) % 4;
    snprintf(buf[i], sizeof buf[i], "%s/%s", dir, name);
    return buf[i];
}

static void write_file(const char *name, const char *text) {
    FILE *f = fopen(at(name), "w");
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static void test_files(void) {
    int fd = open(at("a.txt"), O_RDWR | O_CREAT | O_EXCL, 0644);
    check(fd >= 0, "create a.txt");
    check(write(fd, "hello world", 11) == 11, "write 11 bytes");
    check(lseek(fd, 0, SEEK_CUR) == 11, "tell is 11");
    check(lseek(fd, 6, SEEK_SET) == 6, "seek to 6");
    char buf[32] = { 0 };
    check(read(fd, buf, 5) == 5 && memcmp(buf, "world", 5) == 0, "read \"world\"");
    check(read(fd, buf, 5) == 0, "read at end gives 0");
    check(lseek(fd, -5, SEEK_END) == 6, "seek from the end");
    check(pwrite(fd, "WORLD", 5, 6) == 5, "pwrite at 6");
    memset(buf, 0, sizeof buf);
    check(pread(fd, buf, 11, 0) == 11 && strcmp(buf, "hello WORLD") == 0, "pread sees the pwrite");
    check(lseek(fd, 0, SEEK_CUR) == 6, "pread/pwrite leave the offset alone");
    check(posix_fallocate(fd, 0, 4096) == 0, "fd_allocate to 4096");
    struct stat st;
    check(fstat(fd, &st) == 0 && st.st_size == 4096, "size is 4096 after allocate");
    /* Past 4 GiB (sparse): the host's off_t is 64-bit on 32-bit hosts too. */
    const off_t far = 5ll << 30;
    check(pwrite(fd, "!", 1, far) == 1 && fstat(fd, &st) == 0 && st.st_size == far + 1, "pwrite at 5 GiB");
    check(pread(fd, buf, 1, far) == 1 && buf[0] == '!', "pread at 5 GiB");
    check(lseek(fd, far, SEEK_SET) == far && lseek(fd, 6, SEEK_SET) == 6, "seek to 5 GiB and back");
    check(ftruncate(fd, 5) == 0, "fd_filestat_set_size to 5");
    check(fstat(fd, &st) == 0 && st.st_size == 5 && S_ISREG(st.st_mode), "fstat: 5 bytes, regular");
    check(fsync(fd) == 0, "fd_sync");
    check(fdatasync(fd) == 0, "fd_datasync");
    check(posix_fadvise(fd, 0, 5, POSIX_FADV_SEQUENTIAL) == 0, "fd_advise");
    check_errno(__wasi_fd_advise(fd, 0, 5, 99), __WASI_ERRNO_INVAL, "fd_advise unknown advice: EINVAL");

    /* Times: given, now, omitted; and the EINVAL combinations. */
    struct timespec ts[2] = { { 1000, 5 }, { 2000, 7 } };
    check(futimens(fd, ts) == 0, "futimens");
    check(fstat(fd, &st) == 0 && st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec == 2000 &&
              st.st_mtim.tv_nsec == 7, "times as set");
    check_errno(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
                __WASI_ERRNO_INVAL, "fd set_times ATIM|ATIM_NOW: EINVAL");
    check_errno(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW),
                __WASI_ERRNO_INVAL, "fd set_times MTIM|MTIM_NOW: EINVAL");
    check_errno(__wasi_fd_filestat_set_times(fd, 0, 0, __WASI_FSTFLAGS_MTIM_NOW), 0, "fd set_times MTIM_NOW");
    check(fstat(fd, &st) == 0 && st.st_atim.tv_sec == 1000 && st.st_mtim.tv_sec > 2000, "atime kept, mtime now");
    /* After 2038: the host's time_t is 64-bit on 32-bit hosts too. */
    const __wasi_timestamp_t y2100 = 4102444800ull * 1000000000u + 9;
    check_errno(__wasi_fd_filestat_set_times(fd, y2100, y2100, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM), 0,
                "fd set_times in 2100");
    check(fstat(fd, &st) == 0 && st.st_mtim.tv_sec == 4102444800 && st.st_mtim.tv_nsec == 9, "mtime in 2100 as set");

    __wasi_fdstat_t fs;
    check_errno(__wasi_fd_fdstat_get(fd, &fs), 0, "fd_fdstat_get");
    check(fs.fs_filetype == __WASI_FILETYPE_REGULAR_FILE && (fs.fs_rights_base & __WASI_RIGHTS_FD_READ),
          "fdstat: regular file, readable");
    check_errno(__wasi_fd_fdstat_set_flags(fd, __WASI_FDFLAGS_APPEND), 0, "fd_fdstat_set_flags APPEND");
    check(write(fd, "!", 1) == 1 && fstat(fd, &st) == 0 && st.st_size == 6, "append writes at the end");
    check_errno(__wasi_fd_fdstat_get(fd, &fs), 0, "fdstat again");
    check(fs.fs_flags & __WASI_FDFLAGS_APPEND, "APPEND shows in fdstat");
    check_errno(__wasi_fd_fdstat_set_flags(fd, 0x100), __WASI_ERRNO_INVAL, "unknown fdflags: EINVAL");

    /* Rights: dropped, never regained, and enforced. */
    check_errno(__wasi_fd_fdstat_set_rights(fd, fs.fs_rights_base & ~__WASI_RIGHTS_FD_WRITE, 0), 0,
                "drop the write right");
    __wasi_ciovec_t iov = { (const uint8_t *)"x", 1 };
    __wasi_size_t nw;
    /* Raw: wasi-libc's write() turns ENOTCAPABLE into EBADF. */
    check_errno(__wasi_fd_write(fd, &iov, 1, &nw), __WASI_ERRNO_NOTCAPABLE, "write without the right: ENOTCAPABLE");
    check_errno(__wasi_fd_fdstat_set_rights(fd, fs.fs_rights_base, 0), __WASI_ERRNO_NOTCAPABLE,
                "rights cannot come back");

    /* Renumber: fd moves, the old number is free. */
    int fd2 = open(at("a.txt"), O_RDONLY);
    check(fd2 >= 0, "open a.txt again");
    check_errno(__wasi_fd_renumber(fd2, fd), 0, "fd_renumber onto the first");
    check(fstat(fd2, &st) < 0 && errno == EBADF, "old number closed");
    check(pread(fd, buf, 5, 0) == 5 && memcmp(buf, "hello", 5) == 0, "new number reads the file");
    check_errno(__wasi_fd_renumber(fd, 999), __WASI_ERRNO_BADF, "renumber onto a closed fd: EBADF");
    check(close(fd) == 0, "close");
    check_errno(__wasi_fd_close(fd), __WASI_ERRNO_BADF, "close again: EBADF");
    check_errno(__wasi_fd_seek(fd, 0, __WASI_WHENCE_SET, &(__wasi_filesize_t){ 0 }), __WASI_ERRNO_BADF,
                "seek on a closed fd: EBADF");

    /* Open errors. */
    check(open(at("a.txt"), O_RDONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST, "O_EXCL: EEXIST");
    check(open(at("nope"), O_RDONLY) < 0 && errno == ENOENT, "missing: ENOENT");
    check(open(at("a.txt/x"), O_RDONLY) < 0 && errno == ENOTDIR, "file as a directory: ENOTDIR");
    check(open(at("a.txt"), O_RDONLY | O_DIRECTORY) < 0 && errno == ENOTDIR, "O_DIRECTORY on a file: ENOTDIR");
    fd = open(at("a.txt"), O_WRONLY | O_TRUNC);
    check(fd >= 0 && fstat(fd, &st) == 0 && st.st_size == 0, "O_TRUNC empties it");
    check(read(fd, buf, 1) < 0 && errno == EBADF, "read on write-only: EBADF");
    close(fd);
}

static void test_dirs(void) {
    check(mkdir(at("d"), 0755) == 0, "mkdir d");
    check(mkdir(at("d"), 0755) < 0 && errno == EEXIST, "mkdir d again: EEXIST");
    check(mkdir(at("nope/d"), 0755) < 0 && errno == ENOENT, "mkdir under a missing dir: ENOENT");
    check(mkdir(at("a.txt/d"), 0755) < 0 && errno == ENOTDIR, "mkdir under a file: ENOTDIR");
    check(mkdir(at("d/e/"), 0755) == 0, "mkdir with a trailing slash");
    write_file("d/e/f.txt", "f");
    check(rmdir(at("d")) < 0 && errno == ENOTEMPTY, "rmdir non-empty: ENOTEMPTY");
    check(rmdir(at("a.txt")) < 0 && errno == ENOTDIR, "rmdir a file: ENOTDIR");
    check(rmdir(at("nope")) < 0 && errno == ENOENT, "rmdir missing: ENOENT");
    check(unlink(at("d")) < 0 && errno == EISDIR, "unlink a directory: EISDIR");
    check(unlink(at("nope")) < 0 && errno == ENOENT, "unlink missing: ENOENT");
    check(unlink(at("a.txt/")) < 0 && errno == ENOTDIR, "unlink file/: ENOTDIR");

    /* Rename: files, directories, over existing names. */
    write_file("r1", "one");
    write_file("r2", "two");
    check(rename(at("r1"), at("d/r1")) == 0, "rename into a subdirectory");
    check(access(at("r1"), F_OK) < 0 && access(at("d/r1"), F_OK) == 0, "moved");
    check(rename(at("d/r1"), at("r2")) == 0, "rename over an existing file");
    char buf[8] = { 0 };
    FILE *f = fopen(at("r2"), "r");
    check(f && fread(buf, 1, 3, f) == 3 && strcmp(buf, "one") == 0, "the file replaced the other");
    if (f)
        fclose(f);
    check(rename(at("nope"), at("x")) < 0 && errno == ENOENT, "rename missing: ENOENT");
    check(rename(at("r2"), at("d")) < 0 && errno == EISDIR, "rename a file over a directory: EISDIR");
    check(rename(at("d"), at("r2")) < 0 && errno == ENOTDIR, "rename a directory over a file: ENOTDIR");
    check(mkdir(at("empty"), 0755) == 0 && rename(at("empty"), at("d2")) == 0, "rename a directory");
    check(rename(at("d2"), at("d")) < 0 && errno == ENOTEMPTY, "over a non-empty directory: ENOTEMPTY");
    check(rename(at("d"), at("d/e/in")) < 0 && errno == EINVAL, "a directory into itself: EINVAL");

    /* Hard links. */
    check(link(at("r2"), at("hard")) == 0, "link");
    struct stat st;
    check(stat(at("hard"), &st) == 0 && st.st_nlink == 2, "two links");
    check(link(at("r2"), at("hard")) < 0 && errno == EEXIST, "link over an existing name: EEXIST");
    check(link(at("nope"), at("h2")) < 0 && errno == ENOENT, "link a missing file: ENOENT");
    check(link(at("d"), at("h3")) < 0 && errno == EPERM, "link a directory: EPERM");
    check(unlink(at("hard")) == 0 && stat(at("r2"), &st) == 0 && st.st_nlink == 1, "unlink one link");

    /* Symbolic links: made, read raw, followed or not. */
    check(symlink("r2", at("sl")) == 0, "symlink sl -> r2");
    check(symlink("r2", at("sl")) < 0 && errno == EEXIST, "symlink over an existing name: EEXIST");
    char target[64] = { 0 };
    check(readlink(at("sl"), target, sizeof target) == 2 && memcmp(target, "r2", 2) == 0, "readlink gives r2");
    check(readlink(at("r2"), target, sizeof target) < 0 && errno == EINVAL, "readlink a file: EINVAL");
    check(readlink(at("nope"), target, sizeof target) < 0 && errno == ENOENT, "readlink missing: ENOENT");
    check(symlink("some/long/target", at("sl2")) == 0, "symlink with a longer target");
    int dfd = open(dir, O_RDONLY | O_DIRECTORY);
    __wasi_size_t used = 0;
    check_errno(__wasi_path_readlink(dfd, "sl2", (uint8_t *)target, 4, &used), 0, "readlink into 4 bytes");
    check(used == 4 && memcmp(target, "some", 4) == 0, "cut to the buffer");
    check(lstat(at("sl"), &st) == 0 && S_ISLNK(st.st_mode), "lstat sees a link");
    check(stat(at("sl"), &st) == 0 && S_ISREG(st.st_mode), "stat follows it");
    check(symlink("nothere", at("dangling")) == 0, "dangling symlink");
    check(stat(at("dangling"), &st) < 0 && errno == ENOENT, "stat dangling: ENOENT");
    check(lstat(at("dangling"), &st) == 0, "lstat dangling works");
    check(mkdir(at("dangling"), 0755) < 0 && errno == EEXIST, "mkdir over a dangling link: EEXIST");
    check(unlink(at("dangling")) == 0, "unlink the link");
    check(symlink("loop2", at("loop1")) == 0 && symlink("loop1", at("loop2")) == 0, "a loop");
    check(open(at("loop1"), O_RDONLY) < 0 && errno == ELOOP, "open a loop: ELOOP");

    /* path_link follows the source link only when asked. */
    check_errno(__wasi_path_link(dfd, 0, "sl", dfd, "sl_hard"), 0, "path_link a link itself");
    check(lstat(at("sl_hard"), &st) == 0 && S_ISLNK(st.st_mode), "the new name is a link");
    check_errno(__wasi_path_link(dfd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sl", dfd, "sl_follow"), 0,
                "path_link following the link");
    check(lstat(at("sl_follow"), &st) == 0 && S_ISREG(st.st_mode), "the new name is the file");

    /* path_filestat_set_times, following and not. */
    check_errno(__wasi_path_filestat_set_times(dfd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sl", 0,
                                               3000000000000ull, __WASI_FSTFLAGS_MTIM), 0,
                "path set_times through a link");
    check(stat(at("r2"), &st) == 0 && st.st_mtim.tv_sec == 3000, "the target's mtime changed");
    check_errno(__wasi_path_filestat_set_times(dfd, 0, "sl", 4000000000000ull, 0, __WASI_FSTFLAGS_ATIM), 0,
                "path set_times on the link itself");
    check(stat(at("r2"), &st) == 0 && st.st_atim.tv_sec != 4000, "the target's atime did not change");
    check_errno(__wasi_path_filestat_set_times(dfd, 0, "r2", 0, 0, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_ATIM_NOW),
                __WASI_ERRNO_INVAL, "path set_times ATIM|ATIM_NOW: EINVAL");
    check_errno(__wasi_path_filestat_set_times(dfd, 0, "nope", 0, 0, __WASI_FSTFLAGS_ATIM_NOW), __WASI_ERRNO_NOENT,
                "path set_times missing: ENOENT");
    __wasi_filestat_t fst;
    check_errno(__wasi_path_filestat_get(dfd, 0, "sl", &fst), 0, "path_filestat_get nofollow");
    check(fst.filetype == __WASI_FILETYPE_SYMBOLIC_LINK, "it is a symlink");
    check_errno(__wasi_path_filestat_get(dfd, __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW, "sl", &fst), 0,
                "path_filestat_get follow");
    check(fst.filetype == __WASI_FILETYPE_REGULAR_FILE && fst.size == 3, "it is the 3-byte file");

    /* Raw errors that libc would turn into something else. */
    check_errno(__wasi_path_create_directory(dfd, ""), __WASI_ERRNO_NOENT, "mkdir \"\": ENOENT");
    check_errno(__wasi_path_remove_directory(dfd, "."), __WASI_ERRNO_INVAL, "rmdir \".\": EINVAL");
    check_errno(__wasi_path_unlink_file(1, "x"), __WASI_ERRNO_NOTCAPABLE, "unlink relative to stdout: ENOTCAPABLE");
    check_errno(__wasi_path_unlink_file(99, "x"), __WASI_ERRNO_BADF, "unlink relative to a closed fd: EBADF");
    int filefd = open(at("r2"), O_RDONLY);
    check_errno(__wasi_path_create_directory(filefd, "x"), __WASI_ERRNO_NOTCAPABLE,
                "mkdir relative to a file (no path rights): ENOTCAPABLE");
    close(filefd);

    /* Rights on the directory itself. */
    int limited = open(dir, O_RDONLY | O_DIRECTORY);
    __wasi_fdstat_t fs;
    check_errno(__wasi_fd_fdstat_get(limited, &fs), 0, "fdstat of a directory");
    check(fs.fs_filetype == __WASI_FILETYPE_DIRECTORY, "it is a directory");
    check_errno(__wasi_fd_fdstat_set_rights(limited, fs.fs_rights_base & ~(__WASI_RIGHTS_PATH_CREATE_DIRECTORY |
                                                                          __WASI_RIGHTS_PATH_UNLINK_FILE |
                                                                          __WASI_RIGHTS_PATH_RENAME_SOURCE),
                                            fs.fs_rights_inheriting), 0, "drop mkdir/unlink/rename rights");
    check_errno(__wasi_path_create_directory(limited, "nomk"), __WASI_ERRNO_NOTCAPABLE, "mkdir without the right");
    check_errno(__wasi_path_unlink_file(limited, "r2"), __WASI_ERRNO_NOTCAPABLE, "unlink without the right");
    check_errno(__wasi_path_rename(limited, "r2", dfd, "r3"), __WASI_ERRNO_NOTCAPABLE, "rename without the right");
    check(access(at("r2"), F_OK) == 0 && access(at("nomk"), F_OK) < 0, "nothing changed");
    close(limited);
    close(dfd);

    /* Cleanup, which also tests unlink and rmdir. */
    check(unlink(at("d/e/f.txt")) == 0 && rmdir(at("d/e")) == 0, "rmdir after emptying");
    check(rmdir(at("d2/")) == 0, "rmdir with a trailing slash");
}

/* fd_readdir: every entry exactly once, also with a buffer too small for more than one. */
static void test_readdir(void) {
    check(mkdir(at("ls"), 0755) == 0, "mkdir ls");
    static const char *const names[] = { "alpha", "beta", "gamma", "delta", "a-much-longer-name-than-the-others" };
    const int n = sizeof names / sizeof names[0];
    for (int i = 0; i < n; i++) {
        char p[64];
        snprintf(p, sizeof p, "ls/%s", names[i]);
        write_file(p, "x");
    }
    DIR *d = opendir(at("ls"));
    int seen = 0, dots = 0;
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) {
            dots++;
            continue;
        }
        for (int i = 0; i < n; i++)
            if (strcmp(e->d_name, names[i]) == 0)
                seen |= 1 << i;
    }
    check(d && seen == (1 << n) - 1 && dots == 2, "readdir lists every entry and . ..");
    if (d)
        closedir(d);

    /* Raw: walk by cookie with a small buffer; a cut entry is fetched again from its cookie. */
    int fd = open(at("ls"), O_RDONLY | O_DIRECTORY);
    uint8_t buf[128];
    const __wasi_size_t small = 40; /* room for one short entry, not for the long name */
    __wasi_dircookie_t cookie = __WASI_DIRCOOKIE_START;
    int count = 0, rounds = 0, cut = 0;
    for (__wasi_size_t len = small; ++rounds < 100;) {
        __wasi_size_t used = 0;
        if (__wasi_fd_readdir(fd, buf, len, cookie, &used) != 0 || used < sizeof(__wasi_dirent_t))
            break;
        __wasi_dirent_t ent;
        memcpy(&ent, buf, sizeof ent);
        if (sizeof ent + ent.d_namlen > used) {
            /* Cut at the end of the buffer: ask again from the same cookie with more room. */
            cut++;
            len = sizeof buf;
            continue;
        }
        count++;
        cookie = ent.d_next;
        len = small;
    }
    check(count == n + 2 && cut == 1, "readdir by cookies with a small buffer, one entry cut");
    __wasi_size_t used = 0;
    check_errno(__wasi_fd_readdir(fd, buf, sizeof buf, cookie, &used), 0, "readdir past the end");
    check(used == 0, "past the end: nothing");
    check_errno(__wasi_fd_readdir(1, buf, sizeof buf, 0, &used), __WASI_ERRNO_NOTCAPABLE, "readdir stdout: ENOTCAPABLE");
    close(fd);
}

static void test_prestat(void) {
    __wasi_prestat_t ps;
    check_errno(__wasi_fd_prestat_get(3, &ps), 0, "prestat of fd 3");
    char name[64] = { 0 };
    check_errno(__wasi_fd_prestat_dir_name(3, (uint8_t *)name, ps.u.dir.pr_name_len), 0, "prestat_dir_name");
    check(strcmp(name, dir) == 0, "fd 3 is the first --dir");
    check_errno(__wasi_fd_prestat_dir_name(3, (uint8_t *)name, 1), __WASI_ERRNO_NAMETOOLONG,
                "prestat_dir_name too short: ENAMETOOLONG");
    check_errno(__wasi_fd_prestat_get(1, &ps), __WASI_ERRNO_BADF, "prestat of stdout: EBADF");
}

int main(int argc, char **argv) {
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : "/sb");
    test_files();
    test_dirs();
    test_readdir();
    test_prestat();
    printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
    return failures;
}
