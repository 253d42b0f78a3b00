/*
 * cat.c - copies each file named on the command line to stdout, as cat(1).
 * Paths are the guest's, so they must lie under a --dir preopen.
 *
 *   wasmctl run --dir /tmp/data::/data cat.wasm /data/input.txt
 *
 * Errors go to stderr as "cat: PATH: strerror" and give exit status 1.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    int status = 0;
    for (int i = 1; i < argc; i++) {
        FILE *f = fopen(argv[i], "r");
        if (!f) {
            fprintf(stderr, "cat: %s: %s\n", argv[i], strerror(errno));
            status = 1;
            continue;
        }
        char buf[4096];
        size_t n;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            fwrite(buf, 1, n, stdout);
        if (ferror(f)) {
            fprintf(stderr, "cat: %s: %s\n", argv[i], strerror(errno));
            status = 1;
        }
        fclose(f);
    }
    return status;
}
