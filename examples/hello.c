/*
 * hello.c - an example WASI command for `wasmctl run`: greets, lists its
 * arguments and environment, and reads a file from its preopened directory.
 *
 *   wasmctl run --dir ./data::/data --env GREETING=hi hello.wasm Ada
 */
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv) {
    const char *greeting = getenv("GREETING");
    printf("%s from WebAssembly, %s!\n", greeting ? greeting : "Hello", argc > 1 ? argv[1] : "world");
    for (int i = 0; i < argc; i++)
        printf("  argv[%d] = %s\n", i, argv[i]);

    FILE *f = fopen("/data/motd.txt", "r");
    if (!f) {
        perror("  /data/motd.txt");
        return 0;
    }
    char line[256];
    while (fgets(line, sizeof line, f))
        printf("  motd: %s", line);
    fclose(f);

    /* Outside the preopened directory, nothing is reachable. */
    if (fopen("/etc/passwd", "r") == NULL)
        printf("  /etc/passwd is out of reach, as it should be\n");
    return 0;
}
