/*
 * escape.c - tries every way out of the preopened directory and checks
 * that each is refused with WASI ENOTCAPABLE (76), or fails otherwise
 * without touching anything outside: links with an absolute target are
 * not made at all, and a directory is never opened for writing (EISDIR).
 * Raw __wasi_* calls are used so that
 * the exact errno is seen (wasi-libc maps some of them).
 *
 * tests/integration/test_wasi.sh prepares, with TOP a scratch directory:
 *   TOP/secret.txt                   the file that must stay out of reach
 *   TOP/sb/                          preopened as fd 3 ("/sb")
 *   TOP/sb/sub/                      a subdirectory
 *   TOP/sb/abs   -> TOP              an absolute link
 *   TOP/sb/up    -> ..               a relative link
 *   TOP/sb/mid   -> sub/../..        a relative link with ".." in the middle
 *   TOP/sb/dang  -> ../created.txt   a dangling link pointing out
 *   TOP/sb/loop  -> loop             a loop
 * and afterwards checks that TOP holds nothing new and the secret is unchanged.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

#define SB 3 /* the preopened directory */

static int failures;

static void check_errno(__wasi_errno_t got, __wasi_errno_t want, const char *what) {
    if (got == want) {
        printf("ok %s\n", what);
    } else {
        printf("FAIL %s: errno %u, expected %u\n", what, got, want);
        failures++;
    }
}

/* Opening `path` beneath the preopen, for reading or writing, must give `want`. */
static void check_open(const char *path, __wasi_lookupflags_t lookup, __wasi_oflags_t oflags, __wasi_rights_t rights,
                       __wasi_errno_t want) {
    __wasi_fd_t fd;
    char what[160];
    snprintf(what, sizeof what, "open %s (oflags %u, rights %llx)", path, oflags, (unsigned long long)rights);
    __wasi_errno_t e = __wasi_path_open(SB, lookup, path, oflags, rights, 0, 0, &fd);
    check_errno(e, want, what);
    if (e == 0)
        (void)__wasi_fd_close(fd);
}

static const char *const reads[] = {
    "../secret.txt", "sub/../../secret.txt", "./../secret.txt", "up/secret.txt", "abs/secret.txt",
    "mid/secret.txt", "sub/../up/secret.txt", "/secret.txt", "//secret.txt",
};

int main(void) {
    const __wasi_rights_t R = __WASI_RIGHTS_FD_READ, W = __WASI_RIGHTS_FD_WRITE;
    const __wasi_lookupflags_t FOLLOW = __WASI_LOOKUPFLAGS_SYMLINK_FOLLOW;
    for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
        check_open(reads[i], FOLLOW, 0, R, __WASI_ERRNO_NOTCAPABLE);
        check_open(reads[i], FOLLOW, 0, W, __WASI_ERRNO_NOTCAPABLE);
        check_open(reads[i], FOLLOW, __WASI_OFLAGS_TRUNC, W, __WASI_ERRNO_NOTCAPABLE);
    }
    check_open("..", FOLLOW, __WASI_OFLAGS_DIRECTORY, 0, __WASI_ERRNO_NOTCAPABLE);
    check_open("up", FOLLOW, __WASI_OFLAGS_DIRECTORY, 0, __WASI_ERRNO_NOTCAPABLE);
    check_open("abs", FOLLOW, __WASI_OFLAGS_DIRECTORY, 0, __WASI_ERRNO_NOTCAPABLE);
    check_open("/etc/passwd", FOLLOW, 0, R, __WASI_ERRNO_NOTCAPABLE);
    /* Creating through a dangling link would create the file outside. */
    check_open("dang", FOLLOW, __WASI_OFLAGS_CREAT, W, __WASI_ERRNO_NOTCAPABLE);
    check_open("up/created.txt", FOLLOW, __WASI_OFLAGS_CREAT, W, __WASI_ERRNO_NOTCAPABLE);
    check_open("loop", FOLLOW, 0, R, __WASI_ERRNO_LOOP);
    check_open("loop/x", FOLLOW, 0, R, __WASI_ERRNO_LOOP);
    /* Not following the final link: refused as a link, not opened through. */
    check_open("abs", 0, 0, R, __WASI_ERRNO_LOOP);

    /* Links the guest makes itself: stored as given, refused when followed. */
    check_errno(__wasi_path_symlink("../secret.txt", SB, "mine"), 0, "symlink mine -> ../secret.txt");
    /* An absolute target could only point out of the sandbox: refused, nothing made. */
    check_errno(__wasi_path_symlink("/etc/passwd", SB, "mine_abs"), __WASI_ERRNO_NOTCAPABLE,
                "symlink mine_abs -> /etc/passwd");
    check_errno(__wasi_path_symlink("/", SB, "mine_root"), __WASI_ERRNO_NOTCAPABLE, "symlink mine_root -> /");
    check_errno(__wasi_path_symlink("../../secret.txt", SB, "sub/mine_mid"), 0, "symlink in a subdirectory");
    check_open("mine", FOLLOW, 0, R, __WASI_ERRNO_NOTCAPABLE);
    check_open("mine_abs", 0, 0, R, __WASI_ERRNO_NOENT);
    check_open("mine_root", 0, 0, R, __WASI_ERRNO_NOENT);
    check_open("sub/mine_mid", FOLLOW, 0, R, __WASI_ERRNO_NOTCAPABLE);
    char target[64] = { 0 };
    __wasi_size_t used = 0;
    check_errno(__wasi_path_readlink(SB, "mine", (uint8_t *)target, sizeof target, &used), 0, "readlink mine");
    if (used == 13 && memcmp(target, "../secret.txt", 13) == 0)
        printf("ok readlink gives the raw target\n");
    else
        printf("FAIL readlink gives the raw target\n"), failures++;
    check_errno(__wasi_path_symlink("x", SB, "../outside_link"), __WASI_ERRNO_NOTCAPABLE, "symlink placed outside");
    check_errno(__wasi_path_symlink("x", SB, "up/outside_link"), __WASI_ERRNO_NOTCAPABLE, "symlink placed through a link");

    /* Stat, times, readlink of things outside. */
    __wasi_filestat_t st;
    check_errno(__wasi_path_filestat_get(SB, FOLLOW, "up/secret.txt", &st), __WASI_ERRNO_NOTCAPABLE, "stat through up");
    check_errno(__wasi_path_filestat_get(SB, FOLLOW, "mine", &st), __WASI_ERRNO_NOTCAPABLE, "stat through mine");
    check_errno(__wasi_path_filestat_set_times(SB, FOLLOW, "mine", 1, 1, __WASI_FSTFLAGS_ATIM | __WASI_FSTFLAGS_MTIM),
                __WASI_ERRNO_NOTCAPABLE, "set times through a link");
    check_errno(__wasi_path_filestat_set_times(SB, 0, "mine/", 1, 1, __WASI_FSTFLAGS_MTIM), __WASI_ERRNO_NOTCAPABLE,
                "set times through a link with a trailing slash");
    check_errno(__wasi_path_filestat_set_times(SB, 0, "../secret.txt", 1, 1, __WASI_FSTFLAGS_MTIM),
                __WASI_ERRNO_NOTCAPABLE, "set times of ../secret.txt");
    check_errno(__wasi_path_filestat_set_times(SB, 0, "..", 1, 1, __WASI_FSTFLAGS_MTIM), __WASI_ERRNO_NOTCAPABLE,
                "set times of ..");
    check_errno(__wasi_path_readlink(SB, "up/x", (uint8_t *)target, sizeof target, &used), __WASI_ERRNO_NOTCAPABLE,
                "readlink through up");

    /* Changing the tree outside. */
    check_errno(__wasi_path_unlink_file(SB, "../secret.txt"), __WASI_ERRNO_NOTCAPABLE, "unlink ../secret.txt");
    check_errno(__wasi_path_unlink_file(SB, "up/secret.txt"), __WASI_ERRNO_NOTCAPABLE, "unlink up/secret.txt");
    check_errno(__wasi_path_unlink_file(SB, "abs/secret.txt"), __WASI_ERRNO_NOTCAPABLE, "unlink abs/secret.txt");
    check_errno(__wasi_path_create_directory(SB, "../newdir"), __WASI_ERRNO_NOTCAPABLE, "mkdir ../newdir");
    check_errno(__wasi_path_create_directory(SB, "mid/newdir"), __WASI_ERRNO_NOTCAPABLE, "mkdir mid/newdir");
    check_errno(__wasi_path_remove_directory(SB, ".."), __WASI_ERRNO_NOTCAPABLE, "rmdir ..");
    check_errno(__wasi_path_remove_directory(SB, "up/sb"), __WASI_ERRNO_NOTCAPABLE, "rmdir up/sb");
    check_errno(__wasi_path_rename(SB, "../secret.txt", SB, "stolen"), __WASI_ERRNO_NOTCAPABLE, "rename secret in");
    check_errno(__wasi_path_rename(SB, "up/secret.txt", SB, "stolen"), __WASI_ERRNO_NOTCAPABLE, "rename secret in via up");
    check_errno(__wasi_path_rename(SB, "sub", SB, "../sub"), __WASI_ERRNO_NOTCAPABLE, "rename sub out");
    check_errno(__wasi_path_rename(SB, "sub", SB, "abs/sub"), __WASI_ERRNO_NOTCAPABLE, "rename sub out via abs");
    check_errno(__wasi_path_rename(SB, "..", SB, "x"), __WASI_ERRNO_NOTCAPABLE, "rename .. itself");
    check_errno(__wasi_path_link(SB, 0, "../secret.txt", SB, "hard"), __WASI_ERRNO_NOTCAPABLE, "hard link the secret in");
    check_errno(__wasi_path_link(SB, 0, "up/secret.txt", SB, "hard"), __WASI_ERRNO_NOTCAPABLE, "hard link via up");
    check_errno(__wasi_path_link(SB, FOLLOW, "mine", SB, "hard"), __WASI_ERRNO_NOTCAPABLE, "hard link following mine");
    check_errno(__wasi_path_link(SB, 0, "sub", SB, "../hard"), __WASI_ERRNO_NOTCAPABLE, "hard link out");
    /* A link to a link is only the link: harmless, and allowed. */
    check_errno(__wasi_path_link(SB, 0, "mine", SB, "mine_hard"), 0, "hard link of the link itself");
    check_open("mine_hard", FOLLOW, 0, R, __WASI_ERRNO_NOTCAPABLE);

    /* A directory cannot be opened for writing, asked as a directory or not; for reading it can. */
    check_open(".", FOLLOW, __WASI_OFLAGS_DIRECTORY, W, __WASI_ERRNO_ISDIR);
    check_open(".", FOLLOW, __WASI_OFLAGS_DIRECTORY, R | W, __WASI_ERRNO_ISDIR);
    check_open(".", FOLLOW, 0, W, __WASI_ERRNO_ISDIR);
    check_open("sub", FOLLOW, __WASI_OFLAGS_DIRECTORY, W, __WASI_ERRNO_ISDIR);
    check_open("sub", FOLLOW, __WASI_OFLAGS_DIRECTORY, R, 0);
    check_open(".", FOLLOW, __WASI_OFLAGS_DIRECTORY, 0, 0);

    /* Through wasi-libc: absolute guest paths outside every preopen. */
    printf("%s libc open /etc/passwd\n", open("/etc/passwd", O_RDONLY) < 0 ? "ok" : (failures++, "FAIL"));
    printf("%s libc open /sb/../secret.txt\n", open("/sb/../secret.txt", O_RDONLY) < 0 ? "ok" : (failures++, "FAIL"));

    printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
    return failures;
}
