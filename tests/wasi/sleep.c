/*
 * sleep.c - sleeps for the milliseconds given as its argument (default 50)
 * through poll_oneoff, and checks with the monotonic clock that at least
 * that long passed.  Prints "slept N ms" and exits 0, or exits 1.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

int main(int argc, char **argv) {
    long ms = argc > 1 ? atol(argv[1]) : 50;
    long long start = now_ns();
    struct timespec req = { ms / 1000, (ms % 1000) * 1000000L };
    if (nanosleep(&req, NULL) != 0) {
        perror("nanosleep");
        return 1;
    }
    long long slept = (now_ns() - start) / 1000000;
    printf("slept %lld ms\n", slept);
    return slept >= ms ? 0 : 1;
}
