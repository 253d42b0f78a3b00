/*
 * hello.c - the smallest WASI command: prints one line and returns 0.
 *
 *   clang --target=wasm32-wasi -O2 hello.c -Wl,--strip-debug -o hello.wasm
 *   wasmctl run hello.wasm            -> "Hello, world!", exit status 0
 */
#include <stdio.h>

int main(void) {
    printf("Hello, world!\n");
    return 0;
}
