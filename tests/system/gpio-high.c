/*
 * gpio-high.c - the module of the system test (tests/system/run.sh): a
 * reactor that requests its output `out` and drives it high, then keeps
 * it there until it is stopped.  The test reads the line back from outside
 * the daemon (the kernel's debugfs view of a real GPIO chip) and checks
 * that it returns to the manifest's safe value (0) after `wasmctl stop`.
 *
 * Manifest: tests/system/gpio-high.yaml (gpiochip0 line 5, safe value 0).
 */

#include "../../sdk/wasmd.h"

static uint32_t out;

WASMD_EXPORT(WASMD_EXPORT_INIT)
int32_t wasmd_init(void) {
    int32_t e = wasmd_gpio_request("out", 3, WASMD_GPIO_OUTPUT, &out);
    if (e != WASMD_OK) {
        wasmd_logf(WASMD_LOG_ERROR, "cannot open out: %s", wasmd_strerror(e));
        return 1;
    }
    e = wasmd_gpio_set(out, 1);
    if (e != WASMD_OK) {
        wasmd_logf(WASMD_LOG_ERROR, "cannot drive out high: %s", wasmd_strerror(e));
        return 1;
    }
    wasmd_logf(WASMD_LOG_INFO, "out driven high");
    return 0;
}
