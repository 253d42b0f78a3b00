/*
 * growhold.c - grows its memory a page at a time until memory.grow fails
 * (the manifest's limit or the daemon's memory budget), prints how many
 * pages it got, then holds them, sleeping.
 */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    unsigned long pages = __builtin_wasm_memory_size(0);
    while (__builtin_wasm_memory_grow(0, 1) != (unsigned long)-1)
        pages++;
    printf("memory.grow returned -1 at %lu pages\n", pages);
    fflush(stdout);
    for (;;)
        sleep(1);
}
