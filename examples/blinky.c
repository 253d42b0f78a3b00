/*
 * blinky.c - the "hello world" of GPIO: a reactor that toggles an LED
 * every 500 ms.  It demonstrates requesting an output line by its label
 * (wasmd_gpio_request), driving it (wasmd_gpio_set) and a repeating timer.
 *
 * Manifest: examples/modules.d/blinky.yaml grants the output `led`
 * (gpiochip0 line 17, safe value 0).  The module never names the chip or
 * the line itself: only the manifest does.
 *
 * Build (see sdk/GUIDE.md):
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 blinky.c -o blinky.wasm
 */

#include "../sdk/wasmd.h"

#define BLINK_TIMER 1
#define BLINK_MS 500

static uint32_t led;  /* the handle of the `led` line */
static int led_on;    /* what we last drove it to */

WASMD_EXPORT(WASMD_EXPORT_INIT)
int32_t wasmd_init(void) {
    /* The label must match the manifest; the direction must be the granted one. */
    int32_t e = wasmd_gpio_request("led", 3, WASMD_GPIO_OUTPUT, &led);
    if (e != WASMD_OK) {
        wasmd_logf(WASMD_LOG_ERROR, "cannot open the led: %s", wasmd_strerror(e));
        return 1; /* the daemon marks the module failed */
    }
    e = wasmd_timer_start(BLINK_TIMER, BLINK_MS, 1);
    if (e != WASMD_OK) {
        wasmd_logf(WASMD_LOG_ERROR, "cannot start the timer: %s", wasmd_strerror(e));
        return 1;
    }
    wasmd_logf(WASMD_LOG_INFO, "blinking every %d ms", BLINK_MS);
    return 0;
}

WASMD_EXPORT(WASMD_EXPORT_ON_TIMER)
void wasmd_on_timer(uint32_t id) {
    if (id != BLINK_TIMER)
        return;
    int32_t e = wasmd_gpio_set(led, !led_on);
    if (e != WASMD_OK) {
        wasmd_logf(WASMD_LOG_WARN, "cannot set the led: %s", wasmd_strerror(e));
        return; /* try again on the next tick */
    }
    led_on = !led_on;
    wasmd_logf(WASMD_LOG_INFO, "led %s", led_on ? "on" : "off");
}

/*
 * Not strictly needed: when the module stops, the daemon releases its lines
 * and outputs go back to their safe value.  Releasing here says so in code.
 */
WASMD_EXPORT(WASMD_EXPORT_SHUTDOWN)
void wasmd_shutdown(void) {
    int32_t e = wasmd_gpio_release(led);
    if (e != WASMD_OK)
        wasmd_logf(WASMD_LOG_WARN, "cannot release the led: %s", wasmd_strerror(e));
    wasmd_logf(WASMD_LOG_INFO, "stopped, led back to its safe value");
}
