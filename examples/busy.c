/*
 * busy.c - an example of a module that computes without ever calling the
 * host: the daemon preempts it at the end of each fuel slice, so the other
 * modules keep running on time.
 */
#include <stdint.h>
#include <stdio.h>

int main(void) {
    uint64_t x = 1;
    for (uint64_t i = 1;; i++) {
        x = x * 6364136223846793005ull + i;
        if ((i & 0x3ffffff) == 0) {
            printf("busy: %llu rounds\n", (unsigned long long)i);
            fflush(stdout);
        }
    }
}
