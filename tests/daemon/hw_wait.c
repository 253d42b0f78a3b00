/*
 * hw_wait.c - gpio_wait_edge in a command: waits (for ever) for an edge of
 * `btn` and prints it with the time it returned, then waits 300 ms for an
 * edge that does not come, then waits (for ever) for an edge of `go`; the
 * test makes two edges of `btn` before that one, which must have been
 * queued: two waits with a timeout of 0 return them, a third times out at
 * once.  Times are CLOCK_MONOTONIC, as the daemon's edge time stamps.  Every
 * step waits for the test, never for a time, so it holds on a slow machine.
 */
#include <stdio.h>
#include <time.h>

#include "../../sdk/wasmd.h"

static unsigned long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(void) {
    uint32_t btn = 0, go = 0;
    int32_t rc = wasmd_gpio_request("btn", 3, WASMD_GPIO_INPUT, &btn);
    if (rc == WASMD_OK)
        rc = wasmd_gpio_request("go", 2, WASMD_GPIO_INPUT, &go);
    if (rc != WASMD_OK) {
        printf("request btn, go: %d\n", (int)rc);
        return 1;
    }
    printf("waiting\n");
    fflush(stdout);
    wasmd_gpio_event ev = { 0, 0, 0 };
    rc = wasmd_gpio_wait_edge(btn, -1, &ev);
    unsigned long long now = now_ns();
    printf("edge: rc=%d edge=%u ts=%llu now=%llu\n", (int)rc, (unsigned)ev.edge,
           (unsigned long long)ev.timestamp_ns, now);
    fflush(stdout);

    unsigned long long t0 = now_ns();
    rc = wasmd_gpio_wait_edge(btn, 300, &ev);
    unsigned long long t1 = now_ns();
    printf("timeout: rc=%d after %llu ms\n", (int)rc, (t1 - t0) / 1000000ull);
    printf("waiting for go\n");
    fflush(stdout);
    rc = wasmd_gpio_wait_edge(go, -1, &ev);
    printf("go: rc=%d\n", (int)rc);

    wasmd_gpio_event e1 = { 0, 0, 0 }, e2 = { 0, 0, 0 }, e3 = { 0, 0, 0 };
    int32_t r1 = wasmd_gpio_wait_edge(btn, 0, &e1);
    int32_t r2 = wasmd_gpio_wait_edge(btn, 0, &e2);
    t0 = now_ns();
    int32_t r3 = wasmd_gpio_wait_edge(btn, 0, &e3);
    t1 = now_ns();
    printf("queued: %d %u, %d %u, %d in %llu ms\n", (int)r1, (unsigned)e1.edge, (int)r2, (unsigned)e2.edge,
           (int)r3, (t1 - t0) / 1000000ull);
    return 0;
}
