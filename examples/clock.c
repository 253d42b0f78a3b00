/*
 * clock.c - an example daemon module: prints the time every second.  Its
 * sleep goes through WASI poll_oneoff, which parks only this instance.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

int main(void) {
    for (int n = 1;; n++) {
        time_t t = time(NULL);
        struct tm tm;
        gmtime_r(&t, &tm);
        printf("tick %d at %02d:%02d:%02d UTC\n", n, tm.tm_hour, tm.tm_min, tm.tm_sec);
        fflush(stdout);
        sleep(1);
    }
}
