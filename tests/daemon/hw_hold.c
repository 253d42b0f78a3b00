/*
 * hw_hold.c - drives its output `out` to 1, prints "holding", and keeps
 * holding it (a 50 ms sleep loop) until it is stopped.
 */
#include <stdio.h>
#include <time.h>

#include "../../sdk/wasmd.h"

int main(void) {
    uint32_t out = 0;
    int32_t rc = wasmd_gpio_request("out", 3, WASMD_GPIO_OUTPUT, &out);
    if (rc == WASMD_OK)
        rc = wasmd_gpio_set(out, 1);
    printf(rc == WASMD_OK ? "holding\n" : "cannot hold: %d\n", (int)rc);
    fflush(stdout);
    struct timespec req = { 0, 50 * 1000000L };
    for (;;)
        nanosleep(&req, NULL);
}
