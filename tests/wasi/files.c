/*
 * files.c - exercises the file calls of the WASI layer from C: writing a
 * new file, reading it back, seeking, stat, and paths that must stay inside
 * the preopened directory.  Prints one "ok ..." or "FAIL ..." line per check
 * and exits with the number of failures.
 *
 *   mkdir -p /tmp/sandbox && wasmctl run --dir /tmp/sandbox::/sb files.wasm /sb
 *
 * The escape checks expect a symbolic link "/sb/out" -> "/" and
 * "/sb/up" -> ".." to exist when present; they are skipped otherwise.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int failures;

static void check(int ok, const char *what) {
    printf("%s %s\n", ok ? "ok" : "FAIL", what);
    if (!ok)
        failures++;
}

/* An open that must fail: the sandbox answers WASI ENOTCAPABLE, which wasi-libc keeps as its own errno. */
static void check_refused(const char *path) {
    char what[256];
    int fd = open(path, O_RDONLY);
    snprintf(what, sizeof what, "refused %s (%s)", path, fd < 0 ? strerror(errno) : "opened!");
    check(fd < 0, what);
    if (fd >= 0)
        close(fd);
}

int main(int argc, char **argv) {
    const char *dir = argc > 1 ? argv[1] : "/sb";
    char path[256];

    snprintf(path, sizeof path, "%s/files-test.txt", dir);
    FILE *f = fopen(path, "w");
    check(f != NULL, "create a file");
    if (!f)
        return 1;
    fputs("line one\nline two\n", f);
    check(fclose(f) == 0, "write and close it");

    struct stat st;
    check(stat(path, &st) == 0 && st.st_size == 18 && S_ISREG(st.st_mode), "stat gives size 18, regular file");

    int fd = open(path, O_RDONLY);
    check(fd >= 0, "open it for reading");
    char buf[64] = { 0 };
    check(lseek(fd, 5, SEEK_SET) == 5, "seek to 5");
    check(read(fd, buf, 3) == 3 && memcmp(buf, "one", 3) == 0, "read \"one\" there");
    check(lseek(fd, 0, SEEK_CUR) == 8, "tell gives 8");
    check(write(fd, "x", 1) < 0 && errno == EBADF, "no writing to a read-only descriptor");
    check(close(fd) == 0, "close it");
    check(close(fd) < 0 && errno == EBADF, "second close fails with EBADF");

    check(open(path, O_RDONLY | O_DIRECTORY) < 0 && errno == ENOTDIR, "O_DIRECTORY on a file: ENOTDIR");
    snprintf(path, sizeof path, "%s/no-such-file", dir);
    check(open(path, O_RDONLY) < 0 && errno == ENOENT, "missing file: ENOENT");
    snprintf(path, sizeof path, "%s/files-test.txt", dir);
    check(open(path, O_WRONLY | O_CREAT | O_EXCL, 0644) < 0 && errno == EEXIST, "O_EXCL on an existing file: EEXIST");

    snprintf(path, sizeof path, "%s/../etc/passwd", dir);
    check_refused(path);
    check_refused("/etc/passwd");
    snprintf(path, sizeof path, "%s/out/etc/passwd", dir);
    if (lstat(path, &st) == 0 || errno != ENOENT)
        check_refused(path);
    snprintf(path, sizeof path, "%s/up/etc/passwd", dir);
    if (lstat(path, &st) == 0 || errno != ENOENT)
        check_refused(path);

    printf("%d failure%s\n", failures, failures == 1 ? "" : "s");
    return failures;
}
