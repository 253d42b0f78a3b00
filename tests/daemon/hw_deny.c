/*
 * hw_deny.c - asks for what its manifest does not grant, one call at a
 * time, and prints the code each call returned ("WHAT: CODE"), so that
 * test_hw.sh can check both the code and the "denied:" line the daemon
 * logs.  Denials are errors, not traps: afterwards it uses what it was
 * granted (drives `led` to 1) and keeps printing "alive N" every 100 ms.
 *
 * Manifest (test_hw.sh): gpio `led` (output) and `sw` (input, no edge
 * detection); i2c bus 1, address 0x48 only, read_only.
 */
#include <stdio.h>
#include <time.h>

#include "../../sdk/wasmd.h"

static void report(const char *what, int32_t rc) {
    printf("%s: %d\n", what, (int)rc);
    fflush(stdout);
}

int main(void) {
    uint32_t h = 99, sw = 99, led = 99, bus = 99;
    wasmd_gpio_event ev;

    report("gpio unknown label", wasmd_gpio_request("nope", 4, WASMD_GPIO_OUTPUT, &h));
    report("gpio wrong direction", wasmd_gpio_request("led", 3, WASMD_GPIO_INPUT, &h));
    report("gpio request sw", wasmd_gpio_request("sw", 2, WASMD_GPIO_INPUT, &sw));
    report("gpio set input", wasmd_gpio_set(sw, 1));
    report("gpio wait_edge without edge detection", wasmd_gpio_wait_edge(sw, 100, &ev));

    report("i2c open ungranted bus", wasmd_i2c_open(2, &bus));
    report("i2c open bus 1", wasmd_i2c_open(1, &bus));
    uint8_t v = 0;
    report("i2c ungranted address", wasmd_i2c_read_byte_data(bus, 0x50, 0, &v));
    uint8_t cfg[3] = { 0x01, 0x60, 0xa0 };
    report("i2c write on read_only", wasmd_i2c_write(bus, 0x48, cfg, sizeof cfg));
    report("i2c write_byte_data on read_only", wasmd_i2c_write_byte_data(bus, 0x48, 0x01, 0x60));
    uint8_t reg = 0x00, t[2] = { 0, 0 };
    int32_t rc = wasmd_i2c_write_read(bus, 0x48, &reg, 1, t, 2);
    printf("i2c write_read on read_only: %d 0x%02x%02x\n", (int)rc, t[0], t[1]);

    /* Still alive, and what is granted still works. */
    report("gpio request led", wasmd_gpio_request("led", 3, WASMD_GPIO_OUTPUT, &led));
    report("gpio set led", wasmd_gpio_set(led, 1));
    struct timespec req = { 0, 100 * 1000000L };
    for (int n = 1;; n++) {
        nanosleep(&req, NULL);
        printf("alive %d\n", n);
        fflush(stdout);
    }
}
