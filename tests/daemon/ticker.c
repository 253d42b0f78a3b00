/*
 * ticker.c - prints "tick N MS" every INTERVAL ms (argument 1, default 10),
 * where MS is CLOCK_MONOTONIC in milliseconds, COUNT times (argument 2,
 * default 0: forever), then exits with code EXIT (argument 3, default 0).
 * The sleep goes through poll_oneoff, which the daemon parks.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static long long now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

int main(int argc, char **argv) {
    long interval = argc > 1 ? atol(argv[1]) : 10;
    long count = argc > 2 ? atol(argv[2]) : 0;
    int code = argc > 3 ? atoi(argv[3]) : 0;
    struct timespec req = { interval / 1000, (interval % 1000) * 1000000L };
    for (long n = 1; count == 0 || n <= count; n++) {
        nanosleep(&req, NULL);
        printf("tick %ld %lld\n", n, now_ms());
        fflush(stdout);
    }
    return code;
}
