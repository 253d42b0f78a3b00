/*
 * test_path.c - resolving guest paths beneath a directory (wasi/path.c),
 * with openat2(RESOLVE_BENEATH) and again with the user-space walk forced
 * (wasi__force_walk), so that both ways give the same answers.
 *
 * A scratch tree is made in a temporary directory:
 *
 *   top/secret              a file outside the sandbox
 *   top/sb/                 the directory paths are resolved beneath
 *   top/sb/file, sub/inner  files inside
 *   top/sb/<links>          symbolic links of every kind (see make_tree)
 *
 * Every escape must fail with WASI_ENOTCAPABLE (or a plain error such as
 * ELOOP for a loop), and nothing may open top/secret.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "wasi/internal.h"

typedef struct fixture {
    char top[64];
    int sb;                    /* O_RDONLY | O_DIRECTORY descriptor of top/sb */
    struct stat secret;        /* to recognise the secret file if it were ever opened */
} fixture;

typedef struct link_def {
    const char *name;
    const char *target;        /* "%s" is replaced by the absolute path of top */
} link_def;

static const link_def links[] = {
    { "abs_root", "/" },
    { "abs_top", "%s" },
    { "abs_secret", "%s/secret" },
    { "abs_inside", "%s/sb/file" },      /* absolute, although it points inside: still refused */
    { "up", ".." },
    { "up_secret", "../secret" },
    { "deep_up", "sub/../../secret" },
    { "sub_up", "sub/.." },              /* fine: stays at sb */
    { "good", "sub/inner" },
    { "dangling", "nothere" },
    { "loop_a", "loop_b" },
    { "loop_b", "loop_a" },
    { "self", "self" },
    { "to_sub", "sub" },
    { "chain", "to_sub/up2" },           /* sub/up2 -> ../.. : escapes two levels through a chain */
};

static int setup(void **state) {
    fixture *fx = calloc(1, sizeof *fx);
    assert_non_null(fx);
    strcpy(fx->top, "/tmp/test_path.XXXXXX");
    assert_non_null(mkdtemp(fx->top));
    char p[256], t[256];
    snprintf(p, sizeof p, "%s/secret", fx->top);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("secret\n", f);
    fclose(f);
    assert_int_equal(stat(p, &fx->secret), 0);
    snprintf(p, sizeof p, "%s/sb", fx->top);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/sb/sub", fx->top);
    assert_int_equal(mkdir(p, 0755), 0);
    snprintf(p, sizeof p, "%s/sb/file", fx->top);
    assert_non_null(f = fopen(p, "w"));
    fclose(f);
    snprintf(p, sizeof p, "%s/sb/sub/inner", fx->top);
    assert_non_null(f = fopen(p, "w"));
    fclose(f);
    snprintf(p, sizeof p, "%s/sb/sub/up2", fx->top);
    assert_int_equal(symlink("../..", p), 0);
    for (size_t i = 0; i < sizeof links / sizeof links[0]; i++) {
        snprintf(t, sizeof t, links[i].target, fx->top);
        snprintf(p, sizeof p, "%s/sb/%s", fx->top, links[i].name);
        assert_int_equal(symlink(t, p), 0);
    }
    snprintf(p, sizeof p, "%s/sb", fx->top);
    fx->sb = open(p, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(fx->sb >= 0);
    *state = fx;
    return 0;
}

static int teardown(void **state) {
    fixture *fx = *state;
    char cmd[128];
    close(fx->sb);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fx->top);
    assert_int_equal(system(cmd), 0);
    wasi__force_walk = false;
    free(fx);
    return 0;
}

/* One resolution and what it must give: WASI_ESUCCESS, or the errno. */
typedef struct path_case {
    const char *path;
    int flags;
    bool follow;
    uint32_t want;
} path_case;

static const path_case cases[] = {
    /* Plain names inside. */
    { "file", O_RDONLY, true, WASI_ESUCCESS },
    { "sub/inner", O_RDONLY, true, WASI_ESUCCESS },
    { "./sub/./inner", O_RDONLY, true, WASI_ESUCCESS },
    { "sub/../file", O_RDONLY, true, WASI_ESUCCESS },
    { "sub//inner", O_RDONLY, true, WASI_ESUCCESS },
    { ".", O_RDONLY | O_DIRECTORY, true, WASI_ESUCCESS },
    { "sub/", O_RDONLY | O_DIRECTORY, true, WASI_ESUCCESS },
    { "", O_RDONLY, true, WASI_ENOENT },
    { "missing", O_RDONLY, true, WASI_ENOENT },
    { "file/x", O_RDONLY, true, WASI_ENOTDIR },
    { "file", O_RDONLY | O_DIRECTORY, true, WASI_ENOTDIR },
    /* "..": never past the start. */
    { "..", O_RDONLY | O_DIRECTORY, true, WASI_ENOTCAPABLE },
    { "../secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "sub/../../secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "sub/../../sb/file", O_RDONLY, true, WASI_ENOTCAPABLE },
    /* Absolute paths. */
    { "/etc/passwd", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "/", O_RDONLY | O_DIRECTORY, true, WASI_ENOTCAPABLE },
    /* Absolute links, whatever they point to. */
    { "abs_root/etc/passwd", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "abs_top/secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "abs_secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "abs_inside", O_RDONLY, true, WASI_ENOTCAPABLE },
    /* Relative links leaving, directly, in the middle of a path, or through a chain. */
    { "up/secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "up_secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "deep_up", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "sub/up2/secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "chain/secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    { "to_sub/../up_secret", O_RDONLY, true, WASI_ENOTCAPABLE },
    /* Relative links that stay inside. */
    { "good", O_RDONLY, true, WASI_ESUCCESS },
    { "sub_up/file", O_RDONLY, true, WASI_ESUCCESS },
    { "to_sub/inner", O_RDONLY, true, WASI_ESUCCESS },
    { "to_sub/../file", O_RDONLY, true, WASI_ESUCCESS },
    /* Not following the final link: the link is not opened through. */
    { "good", O_RDONLY, false, WASI_ELOOP },
    { "abs_secret", O_RDONLY, false, WASI_ELOOP },
    { "abs_secret", O_PATH, false, WASI_ESUCCESS }, /* the link itself, as path_filestat_get uses */
    /* Dangling and looping links. */
    { "dangling", O_RDONLY, true, WASI_ENOENT },
    { "loop_a", O_RDONLY, true, WASI_ELOOP },
    { "self/x", O_RDONLY, true, WASI_ELOOP },
    /* Creating through links: never outside. */
    { "up/new", O_WRONLY | O_CREAT, true, WASI_ENOTCAPABLE },
    { "abs_top/new", O_WRONLY | O_CREAT, true, WASI_ENOTCAPABLE },
};

static void run_cases(fixture *fx) {
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const path_case *c = &cases[i];
        int fd = -1;
        uint32_t e = wasi__open_beneath(fx->sb, c->path, c->flags, c->follow, &fd);
        if (e != c->want)
            fail_msg("%s \"%s\" (follow %d): %s, expected %s", wasi__force_walk ? "walk" : "openat2", c->path,
                     c->follow, wasi_errno_name((uint16_t)e), wasi_errno_name((uint16_t)c->want));
        if (e == WASI_ESUCCESS) {
            struct stat st;
            assert_int_equal(fstat(fd, &st), 0);
            /* Whatever was opened, it is not the secret. */
            assert_false(st.st_dev == fx->secret.st_dev && st.st_ino == fx->secret.st_ino);
            close(fd);
        }
    }
    /* Nothing was created outside. */
    char p[256];
    struct stat st;
    snprintf(p, sizeof p, "%s/new", fx->top);
    assert_int_not_equal(lstat(p, &st), 0);
}

static void test_openat2(void **state) {
    wasi__force_walk = false;
    run_cases(*state);
}

static void test_walk(void **state) {
    wasi__force_walk = true;
    run_cases(*state);
}

/* The walk by itself, called directly, agrees on a few representative cases. */
static void test_walk_direct(void **state) {
    fixture *fx = *state;
    int fd;
    assert_int_equal(wasi__open_walk(fx->sb, "up_secret", O_RDONLY, true, &fd), WASI_ENOTCAPABLE);
    assert_int_equal(wasi__open_walk(fx->sb, "good", O_RDONLY, true, &fd), WASI_ESUCCESS);
    close(fd);
    assert_int_equal(wasi__open_walk(fx->sb, "loop_b/x", O_RDONLY, true, &fd), WASI_ELOOP);
}

/* A path of WASI_MAX_PATH bytes is the limit; a longer one is refused before any lookup. */
static void test_long_paths(void **state) {
    fixture *fx = *state;
    char *p = malloc(WASI_MAX_PATH + 2);
    assert_non_null(p);
    memset(p, 'a', WASI_MAX_PATH + 1);
    p[WASI_MAX_PATH + 1] = '\0';
    int fd;
    for (int walk = 0; walk <= 1; walk++) {
        wasi__force_walk = walk;
        assert_int_equal(wasi__open_beneath(fx->sb, p, O_RDONLY, true, &fd), WASI_ENAMETOOLONG);
    }
    free(p);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_openat2, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk, setup, teardown),
        cmocka_unit_test_setup_teardown(test_walk_direct, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_paths, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
