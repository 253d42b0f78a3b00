/*
 * idle.c - the instance-scale benchmark's module (bench/scale.sh): a small
 * C command that prints one line and then sleeps in poll_oneoff forever,
 * as an idle sensor poller would between readings.  Built with clang -O2
 * for wasm32-wasi it has 2 pages (128 KiB) of linear memory: data, a
 * 64 KiB stack and the start of the heap.
 */
#include <stdio.h>
#include <unistd.h>

int main(void) {
    puts("idle");
    fflush(stdout);
    for (;;)
        sleep(3600);
}
