/*
 * hw_out.c - GPIO outputs and inputs step by step, paced by edges of the
 * `step` input that test_hw.sh drives with `wasmctl sim gpio set`:
 *   at start: prints the logical values of led, led2 (safe_value 1),
 *             inv (active_low) and pu (a pull-up input nobody drives);
 *   step 1:   drives led=1, led2=0, inv=1, prints the values read back and
 *             the active-low input sw;
 *   step 2:   traps, holding led=1, led2=0 and inv=1, so that the test can
 *             check that the daemon puts every output back to its safe value.
 */
#include <stdio.h>

#include "../../sdk/wasmd.h"

static uint32_t open_line(const char *label, int32_t dir) {
    uint32_t h = 0;
    int32_t rc = wasmd_gpio_request(label, __builtin_strlen(label), dir, &h);
    if (rc != WASMD_OK) {
        printf("request %s: %d\n", label, (int)rc);
        fflush(stdout);
        __builtin_trap();
    }
    return h;
}

static int get(uint32_t h) {
    int32_t v = -1;
    int32_t rc = wasmd_gpio_get(h, &v);
    return rc == WASMD_OK ? (int)v : -100 - (int)rc;
}

static void wait_step(uint32_t step, int n) {
    wasmd_gpio_event ev;
    int32_t rc = wasmd_gpio_wait_edge(step, -1, &ev);
    printf("step %d: rc=%d edge=%u\n", n, (int)rc, (unsigned)ev.edge);
    fflush(stdout);
}

int main(void) {
    uint32_t led = open_line("led", WASMD_GPIO_OUTPUT);
    uint32_t led2 = open_line("led2", WASMD_GPIO_OUTPUT);
    uint32_t inv = open_line("inv", WASMD_GPIO_OUTPUT);
    uint32_t sw = open_line("sw", WASMD_GPIO_INPUT);
    uint32_t pu = open_line("pu", WASMD_GPIO_INPUT);
    uint32_t step = open_line("step", WASMD_GPIO_INPUT);
    printf("start: led=%d led2=%d inv=%d pu=%d\n", get(led), get(led2), get(inv), get(pu));
    fflush(stdout);

    wait_step(step, 1);
    int a = wasmd_gpio_set(led, 1), b = wasmd_gpio_set(led2, 0), c = wasmd_gpio_set(inv, 1);
    printf("set: %d %d %d\n", a, b, c);
    printf("after set: led=%d led2=%d inv=%d sw=%d\n", get(led), get(led2), get(inv), get(sw));
    fflush(stdout);

    wait_step(step, 2);
    printf("trapping\n");
    fflush(stdout);
    __builtin_trap();
}
