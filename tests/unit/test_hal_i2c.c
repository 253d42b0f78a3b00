/*
 * test_hal_i2c.c - I2C through the simulated backend (hal/i2c_sim.c), the
 * transaction and SMBus helpers (hal/hal.c), and the i2c-dev backend
 * (hal/i2c_dev.c) failing cleanly where there is no such bus.
 *
 * The TMP102 is read the way a driver written from its datasheet reads
 * it: a pointer write and a two-byte read in one combined transaction,
 * MSB first, 12-bit left-justified two's complement in 0.0625 C steps.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "hal/hal.h"

#define BUS    1u
#define TMP102 0x48
#define EEPROM 0x50     /* an 8-bit register map */
#define CODEC  0x1a     /* a 16-bit register map */

static const uint16_t eeprom_values[16] = { 0x10, 0x11, 0x12, 0x13, 0x14, 0x15, 0x16, 0x17,
                                            0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f };
static const uint16_t codec_values[4] = { 0x0097, 0x1234, 0xbeef, 0x0000 };

typedef struct fixture {
    hal_i2c     *sim;
    hal_i2c_bus *bus;
} fixture;

static int setup(void **state) {
    fixture *f = calloc(1, sizeof *f);
    assert_non_null(f);
    const hal_i2c_sim_device devs[] = {
        { .bus = BUS, .addr = TMP102, .model = HAL_I2C_SIM_TMP102 },
        { .bus = BUS, .addr = EEPROM, .model = HAL_I2C_SIM_REGMAP, .nregs = 16, .width = 1, .values = eeprom_values },
        { .bus = BUS, .addr = CODEC, .model = HAL_I2C_SIM_REGMAP, .nregs = 4, .width = 2, .values = codec_values },
        { .bus = 3, .addr = TMP102, .model = HAL_I2C_SIM_TMP102 },
    };
    assert_int_equal(hal_i2c_open_sim(devs, sizeof devs / sizeof devs[0], &f->sim), HAL_OK);
    assert_int_equal(hal_i2c_open_bus(f->sim, BUS, &f->bus), HAL_OK);
    *state = f;
    return 0;
}

static int teardown(void **state) {
    fixture *f = *state;
    hal_i2c_close_bus(f->bus);
    hal_i2c_close(f->sim);
    free(f);
    return 0;
}

/* The TMP102 driver: millidegrees from the temperature register's two bytes. */
static int32_t tmp102_decode(const uint8_t b[2]) {
    uint16_t raw = (uint16_t)(b[0] << 8 | b[1]);
    if (raw & 1) {                                  /* extended mode, 13 bits */
        int32_t v = raw >> 3;
        if (v & 0x1000) v -= 0x2000;
        return v * 1000 / 16;
    }
    int32_t v = raw >> 4;
    if (v & 0x800) v -= 0x1000;
    return v * 1000 / 16;
}

static int32_t tmp102_read(hal_i2c_bus *bus) {
    uint8_t reg = 0x00, b[2];
    assert_int_equal(hal_i2c_write_read(bus, TMP102, &reg, 1, b, 2), HAL_OK);
    return tmp102_decode(b);
}

static void test_tmp102_temperature(void **state) {
    fixture *f = *state;
    assert_int_equal(tmp102_read(f->bus), 25000);   /* power-on default of the simulator */

    const int32_t temps[] = { 21500, -10500, 0, -55000, 100000, 127938, 128000, 21530 };
    const int32_t read[]  = { 21500, -10500, 0, -55000, 100000, 127937, 127937, 21500 };  /* 12 bits: 127.9375 at most, 0.0625 steps */
    for (size_t i = 0; i < sizeof temps / sizeof temps[0]; i++) {
        assert_int_equal(hal_i2c_sim_set_temperature(f->sim, BUS, TMP102, temps[i]), HAL_OK);
        assert_int_equal(tmp102_read(f->bus), read[i]);
    }
    /* The raw register: 21.5 C is 344 steps of 0.0625, left-justified. */
    assert_int_equal(hal_i2c_sim_set_temperature(f->sim, BUS, TMP102, 21500), HAL_OK);
    uint16_t raw;
    assert_int_equal(hal_i2c_sim_get_register(f->sim, BUS, TMP102, 0, &raw), HAL_OK);
    assert_int_equal(raw, 344 << 4);
    /* The other bus's sensor is another device. */
    hal_i2c_bus *bus3 = NULL;
    assert_int_equal(hal_i2c_open_bus(f->sim, 3, &bus3), HAL_OK);
    assert_int_equal(tmp102_read(bus3), 25000);
    hal_i2c_close_bus(bus3);
}

static void test_tmp102_registers(void **state) {
    fixture *f = *state;
    /* Pointer written in one transaction, read in the next: the pointer persists. */
    uint8_t ptr = 0x01, b[4];
    assert_int_equal(hal_i2c_write(f->bus, TMP102, &ptr, 1), HAL_OK);
    assert_int_equal(hal_i2c_read(f->bus, TMP102, b, 4), HAL_OK);
    assert_int_equal(b[0], 0x60);
    assert_int_equal(b[1], 0xA0);
    assert_int_equal(b[2], 0x60);    /* the TMP102 pointer does not advance */
    assert_int_equal(b[3], 0xA0);

    /* T_LOW and T_HIGH reset to 75 C and 80 C. */
    uint8_t reg = 0x02;
    assert_int_equal(hal_i2c_write_read(f->bus, TMP102, &reg, 1, b, 2), HAL_OK);
    assert_int_equal(tmp102_decode(b), 75000);
    reg = 0x03;
    assert_int_equal(hal_i2c_write_read(f->bus, TMP102, &reg, 1, b, 2), HAL_OK);
    assert_int_equal(tmp102_decode(b), 80000);

    /* The SMBus word helpers are least significant byte first; the TMP102 is not. */
    uint16_t w;
    assert_int_equal(hal_i2c_smbus_write_word_data(f->bus, TMP102, 0x02, 0x0019), HAL_OK);   /* 0x1900: 25 C */
    assert_int_equal(hal_i2c_smbus_read_word_data(f->bus, TMP102, 0x02, &w), HAL_OK);
    assert_int_equal(w, 0x0019);
    assert_int_equal(hal_i2c_smbus_read_word_data(f->bus, TMP102, 0x00, &w), HAL_OK);
    assert_int_equal((uint16_t)(w << 8 | w >> 8), 400 << 4);
    uint8_t byte;
    assert_int_equal(hal_i2c_smbus_read_byte_data(f->bus, TMP102, 0x01, &byte), HAL_OK);
    assert_int_equal(byte, 0x60);

    /* The temperature register is read-only; R1 R0 and AL of the config too. */
    const uint8_t wr_temp[3] = { 0x00, 0x12, 0x34 };
    assert_int_equal(hal_i2c_write(f->bus, TMP102, wr_temp, 3), HAL_OK);
    assert_int_equal(tmp102_read(f->bus), 25000);
    const uint8_t wr_conf[3] = { 0x01, 0x00, 0x10 };   /* EM: extended (13-bit) mode */
    assert_int_equal(hal_i2c_write(f->bus, TMP102, wr_conf, 3), HAL_OK);
    reg = 0x01;
    assert_int_equal(hal_i2c_write_read(f->bus, TMP102, &reg, 1, b, 2), HAL_OK);
    assert_int_equal(b[0], 0x60);
    assert_int_equal(b[1], 0x30);

    /* In extended mode 150 C fits, and bit 0 says so. */
    assert_int_equal(hal_i2c_sim_set_temperature(f->sim, BUS, TMP102, 150000), HAL_OK);
    reg = 0x00;
    assert_int_equal(hal_i2c_write_read(f->bus, TMP102, &reg, 1, b, 2), HAL_OK);
    assert_int_equal(b[1] & 1, 1);
    assert_int_equal(tmp102_decode(b), 150000);
}

static void test_regmap_pointer_semantics(void **state) {
    fixture *f = *state;
    uint8_t v;
    assert_int_equal(hal_i2c_smbus_read_byte_data(f->bus, EEPROM, 3, &v), HAL_OK);
    assert_int_equal(v, 0x13);
    assert_int_equal(hal_i2c_smbus_write_byte_data(f->bus, EEPROM, 3, 0xaa), HAL_OK);
    assert_int_equal(hal_i2c_smbus_read_byte_data(f->bus, EEPROM, 3, &v), HAL_OK);
    assert_int_equal(v, 0xaa);

    /* Multi-byte reads and writes advance the pointer and wrap at the end of the map. */
    const uint8_t wr[4] = { 14, 0xe0, 0xf0, 0x00 };
    assert_int_equal(hal_i2c_write(f->bus, EEPROM, wr, 4), HAL_OK);
    uint8_t reg = 13, rd[5];
    assert_int_equal(hal_i2c_write_read(f->bus, EEPROM, &reg, 1, rd, 5), HAL_OK);
    const uint8_t want[5] = { 0x1d, 0xe0, 0xf0, 0x00, 0x11 };
    assert_memory_equal(rd, want, 5);
    /* The pointer kept moving: a bare read continues from register 2. */
    assert_int_equal(hal_i2c_read(f->bus, EEPROM, rd, 1), HAL_OK);
    assert_int_equal(rd[0], 0x12);

    /* 16-bit registers, MSB first on the wire. */
    reg = 1;
    uint8_t w[4];
    assert_int_equal(hal_i2c_write_read(f->bus, CODEC, &reg, 1, w, 4), HAL_OK);
    const uint8_t want16[4] = { 0x12, 0x34, 0xbe, 0xef };
    assert_memory_equal(w, want16, 4);
    const uint8_t wr16[3] = { 3, 0xca, 0xfe };
    assert_int_equal(hal_i2c_write(f->bus, CODEC, wr16, 3), HAL_OK);
    uint16_t r16;
    assert_int_equal(hal_i2c_sim_get_register(f->sim, BUS, CODEC, 3, &r16), HAL_OK);
    assert_int_equal(r16, 0xcafe);
    assert_int_equal(hal_i2c_sim_set_register(f->sim, BUS, CODEC, 0, 0x4242), HAL_OK);
    uint16_t word;
    assert_int_equal(hal_i2c_smbus_read_word_data(f->bus, CODEC, 0, &word), HAL_OK);
    assert_int_equal(word, 0x4242);
}

static void test_absent_address_nacks(void **state) {
    fixture *f = *state;
    uint8_t reg = 0, b[2] = { 0xee, 0xee };
    assert_int_equal(hal_i2c_write_read(f->bus, 0x49, &reg, 1, b, 2), HAL_ERR_NACK);
    assert_int_equal(b[0], 0xee);
    assert_int_equal(hal_i2c_read(f->bus, 0x77, b, 1), HAL_ERR_NACK);
    uint8_t v;
    assert_int_equal(hal_i2c_smbus_read_byte_data(f->bus, 0x21, 0, &v), HAL_ERR_NACK);
    assert_int_equal(hal_i2c_smbus_write_word_data(f->bus, 0x21, 0, 1), HAL_ERR_NACK);
    /* A TMP102 on bus 3 does not answer on bus 1 at another address. */
    assert_int_equal(hal_i2c_sim_set_temperature(f->sim, BUS, 0x49, 1000), HAL_ERR_NO_DEVICE);
    assert_string_equal(hal_status_name(HAL_ERR_NACK), "HAL_ERR_NACK");
}

static void test_bad_arguments(void **state) {
    fixture *f = *state;
    uint8_t b[2] = { 0 };
    assert_int_equal(hal_i2c_read(f->bus, 0x80, b, 1), HAL_ERR_INVALID);     /* not 7-bit */
    assert_int_equal(hal_i2c_read(f->bus, 0x00, b, 1), HAL_ERR_INVALID);     /* general call */
    assert_int_equal(hal_i2c_read(f->bus, TMP102, b, 0), HAL_ERR_INVALID);
    assert_int_equal(hal_i2c_write(f->bus, TMP102, b, HAL_I2C_MAX_MSG_LEN + 1), HAL_ERR_INVALID);
    hal_i2c_msg msgs[3] = {
        { TMP102, 0, 1, b }, { TMP102, HAL_I2C_M_RD, 1, b }, { TMP102, HAL_I2C_M_RD, 1, b },
    };
    assert_int_equal(hal_i2c_transfer(f->bus, msgs, 3), HAL_ERR_INVALID);
    msgs[0].flags = 0x4000;
    assert_int_equal(hal_i2c_transfer(f->bus, msgs, 1), HAL_ERR_INVALID);

    hal_i2c_bus *bus = NULL;
    assert_int_equal(hal_i2c_open_bus(f->sim, 2, &bus), HAL_ERR_NO_DEVICE);
    assert_int_equal(hal_i2c_open_bus(f->sim, HAL_I2C_MAX_BUS + 1, &bus), HAL_ERR_INVALID);
    assert_null(bus);

    assert_int_equal(hal_i2c_sim_set_temperature(f->sim, BUS, TMP102, 200000), HAL_ERR_INVALID);
    assert_int_equal(hal_i2c_sim_set_temperature(f->sim, BUS, EEPROM, 20000), HAL_ERR_NOT_SUPPORTED);
    assert_int_equal(hal_i2c_sim_set_register(f->sim, BUS, TMP102, 0, 1), HAL_ERR_NOT_SUPPORTED);
    assert_int_equal(hal_i2c_sim_set_register(f->sim, BUS, EEPROM, 16, 1), HAL_ERR_INVALID);
    assert_int_equal(hal_i2c_sim_set_register(f->sim, BUS, EEPROM, 0, 0x100), HAL_ERR_INVALID);

    const hal_i2c_sim_device dup[2] = {
        { .bus = 0, .addr = 0x48, .model = HAL_I2C_SIM_TMP102 },
        { .bus = 0, .addr = 0x48, .model = HAL_I2C_SIM_TMP102 },
    };
    hal_i2c *b2 = NULL;
    assert_int_equal(hal_i2c_open_sim(dup, 2, &b2), HAL_ERR_INVALID);
    const hal_i2c_sim_device wide = { .bus = 0, .addr = 0x20, .model = HAL_I2C_SIM_REGMAP, .nregs = 4, .width = 3 };
    assert_int_equal(hal_i2c_open_sim(&wide, 1, &b2), HAL_ERR_INVALID);
    assert_null(b2);
}

static void test_funcs_and_models(void **state) {
    fixture *f = *state;
    uint32_t funcs = 0;
    assert_int_equal(hal_i2c_funcs(f->bus, &funcs), HAL_OK);
    assert_true(funcs & HAL_I2C_FUNC_I2C);
    assert_true((funcs & HAL_I2C_FUNC_SMBUS_WORD_DATA) == HAL_I2C_FUNC_SMBUS_WORD_DATA);
    assert_string_equal(hal_i2c_sim_model_string(HAL_I2C_SIM_TMP102), "tmp102");
    assert_int_equal(hal_i2c_sim_model_from_string("regmap"), HAL_I2C_SIM_REGMAP);
    assert_int_equal(hal_i2c_sim_model_from_string("bme280"), -1);
}

/* The i2c-dev backend where there is no such bus: a named status, nothing left open. */
static void test_dev_missing_bus(void **state) {
    hal_i2c *dev = NULL;
    assert_int_equal(hal_i2c_open_dev(&dev), HAL_OK);
    hal_i2c_bus *bus = NULL;
    assert_int_equal(hal_i2c_open_bus(dev, 99, &bus), HAL_ERR_NO_DEVICE);
    assert_null(bus);
    assert_int_equal(hal_i2c_sim_set_temperature(dev, 1, TMP102, 20000), HAL_ERR_NOT_SUPPORTED);
    hal_i2c_close(dev);
    hal_i2c_close(NULL);
    hal_i2c_close_bus(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_tmp102_temperature, setup, teardown),
        cmocka_unit_test_setup_teardown(test_tmp102_registers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_regmap_pointer_semantics, setup, teardown),
        cmocka_unit_test_setup_teardown(test_absent_address_nacks, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_funcs_and_models, setup, teardown),
        cmocka_unit_test(test_dev_missing_bus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
