/*
 * ls.c - lists the directories named on the command line, sorted by name,
 * one "TYPE NAME" line per entry (TYPE: d, f, l or ?), without "." and "..".
 * Exercises fd_readdir, including entries that do not fit the buffer.
 *
 *   wasmctl run --dir /tmp/data::/data ls.wasm /data
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Lines are "T NAME": compare the names, after the type letter and its space. */
static int by_name(const void *a, const void *b) {
    return strcmp(*(char *const *)a + 2, *(char *const *)b + 2);
}

static int list(const char *path) {
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "ls: %s: %s\n", path, strerror(errno));
        return 1;
    }
    char **lines = NULL;
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char type = e->d_type == DT_DIR ? 'd' : e->d_type == DT_REG ? 'f' : e->d_type == DT_LNK ? 'l' : '?';
        char **grown = realloc(lines, (n + 1) * sizeof *lines);
        size_t len = strlen(e->d_name) + 3;
        if (!grown || !(grown[n] = malloc(len))) {
            fprintf(stderr, "ls: out of memory\n");
            return 1;
        }
        lines = grown;
        snprintf(lines[n++], len, "%c %s", type, e->d_name);
    }
    closedir(d);
    qsort(lines, n, sizeof *lines, by_name);
    for (size_t i = 0; i < n; i++) {
        puts(lines[i]);
        free(lines[i]);
    }
    free(lines);
    return 0;
}

int main(int argc, char **argv) {
    int status = 0;
    for (int i = 1; i < argc; i++)
        status |= list(argv[i]);
    return status;
}
