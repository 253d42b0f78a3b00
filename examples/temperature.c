/*
 * temperature.c - a reactor that reads a TMP102 temperature sensor over
 * I2C every 2 s.  It demonstrates wasmd_i2c_open, a register read as one
 * combined write-then-read transaction (wasmd_i2c_write_read), an SMBus
 * word read (wasmd_i2c_read_word_data) and its byte order, and decoding a
 * sensor's two's complement value with integer math only.
 *
 * Manifest: examples/modules.d/temperature.yaml grants bus 1, address
 * 0x48 only, read only: selecting a register by writing its number is
 * still allowed, since wasmd_i2c_write_read's write only picks what to read.
 *
 * Build (see sdk/GUIDE.md):
 *   clang --target=wasm32-wasi -mexec-model=reactor -O2 temperature.c -o temperature.wasm
 */

#include "../sdk/wasmd.h"

#define I2C_BUS 1
#define TMP102 0x48           /* 7-bit address with ADD0 to ground */
#define REG_TEMPERATURE 0x00  /* pointer register values */
#define REG_CONFIG 0x01
#define CONFIG_EM 0x0010      /* extended mode: 13-bit temperatures */
#define READ_TIMER 1
#define READ_MS 2000

static uint32_t bus;       /* the handle of I2C bus 1 */
static int32_t last_error; /* of the previous read, so a missing sensor is logged once */

/*
 * Reads the temperature register and logs it.  The TMP102 sends its
 * registers most significant byte first.  The temperature is left-aligned:
 * 12 bits, two's complement, 0.0625 C per step (in extended mode 13 bits,
 * flagged by bit 0 of the second byte).
 */
static void read_temperature(void) {
    uint8_t reg = REG_TEMPERATURE, b[2];
    int32_t e = wasmd_i2c_write_read(bus, TMP102, &reg, 1, b, 2);
    if (e != WASMD_OK) {
        if (e != last_error) /* not every 2 s while the sensor is missing */
            wasmd_logf(WASMD_LOG_WARN, "cannot read the TMP102: %s", wasmd_strerror(e));
        last_error = e;
        return;
    }
    if (last_error != WASMD_OK)
        wasmd_logf(WASMD_LOG_INFO, "the TMP102 answers again");
    last_error = WASMD_OK;

    int32_t raw = (b[0] << 8) | b[1];
    if (b[1] & 1) {                    /* 13-bit extended mode */
        raw >>= 3;
        if (raw & 0x1000)
            raw -= 0x2000;             /* sign-extend */
    } else {                           /* 12-bit normal mode */
        raw >>= 4;
        if (raw & 0x800)
            raw -= 0x1000;
    }
    /* 0.0625 C = 625 ten-thousandths: exact; round to hundredths to print. */
    int32_t t = raw * 625;
    int negative = t < 0;
    uint32_t centi = ((uint32_t)(negative ? -t : t) + 50) / 100;
    wasmd_logf(WASMD_LOG_INFO, "temperature %s%u.%02u C", negative && centi ? "-" : "", centi / 100,
            centi % 100);
}

WASMD_EXPORT(WASMD_EXPORT_INIT)
int32_t wasmd_init(void) {
    int32_t e = wasmd_i2c_open(I2C_BUS, &bus);
    if (e != WASMD_OK) {
        wasmd_logf(WASMD_LOG_ERROR, "cannot open I2C bus %d: %s", I2C_BUS, wasmd_strerror(e));
        return 1; /* the daemon marks the module failed */
    }

    /*
     * The configuration register, with an SMBus word read.  SMBus words come
     * least significant byte first, but the TMP102 sends the most
     * significant byte first, so the bytes arrive swapped: swap them back.
     */
    uint16_t word;
    e = wasmd_i2c_read_word_data(bus, TMP102, REG_CONFIG, &word);
    if (e == WASMD_OK) {
        uint16_t config = (uint16_t)((word >> 8) | (word << 8));
        wasmd_logf(WASMD_LOG_INFO, "TMP102 at bus %d address 0x%02x, config 0x%04x (%s mode)", I2C_BUS,
                TMP102, config, config & CONFIG_EM ? "13-bit" : "12-bit");
    } else {
        wasmd_logf(WASMD_LOG_WARN, "cannot read the TMP102 configuration: %s", wasmd_strerror(e));
    }

    e = wasmd_timer_start(READ_TIMER, READ_MS, 1);
    if (e != WASMD_OK) {
        wasmd_logf(WASMD_LOG_ERROR, "cannot start the timer: %s", wasmd_strerror(e));
        return 1;
    }
    read_temperature(); /* a first reading now, not in 2 s */
    return 0;
}

WASMD_EXPORT(WASMD_EXPORT_ON_TIMER)
void wasmd_on_timer(uint32_t id) {
    if (id == READ_TIMER)
        read_temperature();
}

WASMD_EXPORT(WASMD_EXPORT_SHUTDOWN)
void wasmd_shutdown(void) {
    int32_t e = wasmd_i2c_close(bus);
    if (e != WASMD_OK)
        wasmd_logf(WASMD_LOG_WARN, "cannot close the I2C bus: %s", wasmd_strerror(e));
}
