/*
 * hw_i2c.c - a command on I2C bus 1 (granted 0x48, 0x50 and 0x51, writes
 * allowed).  First SMBus byte and word reads and writes on the regmap
 * device at 0x50, and reads at 0x51, where no device answers (each prints
 * "WHAT: CODE [VALUE]").  Then every 50 ms it reads the TMP102 at 0x48
 * with a write-then-read of its temperature register, and register 8 of
 * 0x50, and prints each when it changes ("temperature 30.50 C", "r8 0x99").
 */
#include <stdio.h>
#include <time.h>

#include "../../sdk/wasmd.h"

int main(void) {
    uint32_t bus = 0;
    int32_t rc = wasmd_i2c_open(1, &bus);
    printf("open: %d\n", (int)rc);
    if (rc != WASMD_OK)
        return 1;
    uint8_t b = 0;
    uint16_t w = 0;
    rc = wasmd_i2c_read_byte_data(bus, 0x50, 0, &b);
    printf("read byte r0: %d 0x%02x\n", (int)rc, b);
    rc = wasmd_i2c_read_word_data(bus, 0x50, 1, &w);
    printf("read word r1: %d 0x%04x\n", (int)rc, w);
    printf("write byte r5: %d\n", (int)wasmd_i2c_write_byte_data(bus, 0x50, 5, 0xab));
    printf("write word r6: %d\n", (int)wasmd_i2c_write_word_data(bus, 0x50, 6, 0xbeef));
    b = 0;
    rc = wasmd_i2c_read_byte_data(bus, 0x50, 5, &b);
    printf("read back r5: %d 0x%02x\n", (int)rc, b);
    printf("nack byte read: %d\n", (int)wasmd_i2c_read_byte_data(bus, 0x51, 0, &b));
    uint8_t raw[2];
    printf("nack plain read: %d\n", (int)wasmd_i2c_read(bus, 0x51, raw, 2));
    fflush(stdout);

    long last_centi = -1000000, last_r8 = -1;
    int last_rc = 0;
    struct timespec req = { 0, 50 * 1000000L };
    for (;;) {
        uint8_t reg = 0, t[2];
        rc = wasmd_i2c_write_read(bus, 0x48, &reg, 1, t, 2);
        if (rc == WASMD_OK) {
            int raw12 = (int16_t)((t[0] << 8) | t[1]) >> 4; /* 12 bits, two's complement */
            long centi = raw12 * 625L / 100;                /* 0.0625 C steps, in hundredths */
            if (centi != last_centi) {
                long a = centi < 0 ? -centi : centi;
                printf("temperature %s%ld.%02ld C\n", centi < 0 ? "-" : "", a / 100, a % 100);
                last_centi = centi;
            }
        } else if (rc != last_rc) {
            printf("temperature read: %d\n", (int)rc);
        }
        last_rc = rc;
        uint8_t r8 = 0;
        if (wasmd_i2c_read_byte_data(bus, 0x50, 8, &r8) == WASMD_OK && r8 != last_r8) {
            printf("r8 0x%02x\n", r8);
            last_r8 = r8;
        }
        fflush(stdout);
        nanosleep(&req, NULL);
    }
}
