/*
 * button_led.c - a reactor that lights an LED while a button is held.  It
 * demonstrates GPIO edge events: wasmd calls wasmd_on_gpio_edge for each
 * edge of an input granted with edge detection, time-stamped by the kernel,
 * so the module needs no polling loop and costs nothing between presses.
 *
 * Manifest: examples/modules.d/button_led.yaml grants `button` (line 27,
 * input, pull-up, active_low, edge both) and `led` (line 22, output).  The
 * button shorts the line to ground; with active_low the daemon hands us
 * logical values, so pressed reads 1 and a press is a RISING edge.
 *
 * Build (see sdk/GUIDE.md):
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 button_led.c -o button_led.wasm
 */

#include "../sdk/wasmd.h"

static uint32_t button, led; /* line handles */

/* Opens the line granted under `label`; logs and returns the error code. */
static int32_t open_line(const char *label, int32_t direction, uint32_t *handle) {
    int32_t e = wasmd_gpio_request(label, __builtin_strlen(label), direction, handle);
    if (e != WASMD_OK)
        wasmd_logf(WASMD_LOG_ERROR, "cannot open %s: %s", label, wasmd_strerror(e));
    return e;
}

static void set_led(int32_t on) {
    int32_t e = wasmd_gpio_set(led, on);
    if (e != WASMD_OK)
        wasmd_logf(WASMD_LOG_WARN, "cannot set the led: %s", wasmd_strerror(e));
}

WASMD_EXPORT(WASMD_EXPORT_INIT)
int32_t wasmd_init(void) {
    if (open_line("button", WASMD_GPIO_INPUT, &button) != WASMD_OK ||
        open_line("led", WASMD_GPIO_OUTPUT, &led) != WASMD_OK)
        return 1; /* the daemon marks the module failed */

    /* Start in step with the button, in case it is already held down. */
    int32_t pressed = 0;
    int32_t e = wasmd_gpio_get(button, &pressed);
    if (e != WASMD_OK)
        wasmd_logf(WASMD_LOG_WARN, "cannot read the button: %s", wasmd_strerror(e));
    set_led(pressed);
    wasmd_logf(WASMD_LOG_INFO, "ready, button %s", pressed ? "pressed" : "released");
    return 0;
}

/*
 * One edge of the button.  The edge kind, not a fresh wasmd_gpio_get, says
 * what happened: by the time a queued event is handled the button may have
 * moved again, and that later edge has its own event.
 */
WASMD_EXPORT(WASMD_EXPORT_ON_GPIO_EDGE)
void wasmd_on_gpio_edge(uint32_t handle, uint32_t edge, uint64_t timestamp_ns) {
    if (handle != button)
        return;
    int32_t pressed = edge == WASMD_GPIO_RISING;
    set_led(pressed);
    /* The kernel's CLOCK_MONOTONIC time stamp (time since boot), in ms. */
    wasmd_logf(WASMD_LOG_INFO, "button %s at %llu ms", pressed ? "pressed" : "released",
            (unsigned long long)(timestamp_ns / 1000000));
}
