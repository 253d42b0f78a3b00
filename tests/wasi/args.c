/*
 * args.c - prints its command line and environment, then exits with the
 * status named by its first argument (0 without one).
 *
 *   wasmctl run --env A=1 args.wasm 3 -1 "two words"
 *     argc=4
 *     argv[0]=args.wasm
 *     argv[1]=3
 *     argv[2]=-1
 *     argv[3]=two words
 *     env A=1
 *   and exit status 3 (through proc_exit).
 */
#include <stdio.h>
#include <stdlib.h>

extern char **environ;

int main(int argc, char **argv) {
    printf("argc=%d\n", argc);
    for (int i = 0; i < argc; i++)
        printf("argv[%d]=%s\n", i, argv[i]);
    for (char **e = environ; *e; e++)
        printf("env %s\n", *e);
    /* exit() goes through proc_exit even for 0, which the runner must report as 0 too. */
    exit(argc > 1 ? atoi(argv[1]) : 0);
}
