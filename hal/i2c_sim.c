/*
 * i2c_sim.c - simulated I2C devices: generic register maps, and a TMP102
 * temperature sensor with the real chip's register layout, so a driver
 * written against the chip's datasheet runs unchanged on the simulator.
 *
 * Transactions behave as on the wire: each message addresses a device
 * (no device: no ACK, HAL_ERR_NACK, and the transaction stops), a write's
 * first byte is the register pointer, and the pointer persists across
 * transactions, so a write of the pointer followed by a separate read
 * works as well as a combined write-then-read.  A bus exists when at
 * least one device is declared on it.
 */
#include "hal/internal.h"

#include <stdlib.h>
#include <string.h>

/* TMP102 registers and reset values (datasheet SBOS397). */
enum {
    TMP102_TEMP = 0x00, TMP102_CONFIG = 0x01, TMP102_TLOW = 0x02, TMP102_THIGH = 0x03,
    TMP102_NREGS = 4,
    TMP102_CONFIG_RESET = 0x60A0,  /* 12-bit resolution (R1 R0 = 11), 4 Hz, AL = 1 */
    TMP102_TLOW_RESET   = 0x4B00,  /* 75 C */
    TMP102_THIGH_RESET  = 0x5000,  /* 80 C */
    TMP102_CONFIG_EM    = 0x0010,  /* extended mode: 13-bit temperatures */
    TMP102_CONFIG_RO    = 0x6020,  /* R1 R0 and AL are read-only */
    TMP102_CONFIG_RW    = 0x1FD0,  /* F1 F0 POL TM SD, CR1 CR0 EM (OS reads back 0) */
};

typedef struct sim_dev {
    unsigned          bus;
    uint8_t           addr;
    hal_i2c_sim_model model;
    unsigned          nregs;
    unsigned          width;
    unsigned          pointer;
    int32_t           millicelsius;    /* TMP102 only */
    uint16_t          regs[HAL_I2C_SIM_MAX_REGS];
} sim_dev;

typedef struct sim_i2c {
    hal_i2c  base;
    size_t   ndevs;
    sim_dev  devs[];
} sim_i2c;

typedef struct sim_bus {
    hal_i2c_bus base;
} sim_bus;

static const hal_i2c_ops sim_ops;

static sim_dev *sim_find(sim_i2c *b, unsigned bus, uint16_t addr) {
    for (size_t i = 0; i < b->ndevs; i++)
        if (b->devs[i].bus == bus && b->devs[i].addr == addr)
            return &b->devs[i];
    return NULL;
}

/* floor(x / d) for a positive d, also for negative x. */
static int64_t floor_div(int64_t x, int64_t d) {
    int64_t q = x / d;
    return (x % d < 0) ? q - 1 : q;
}

/* The temperature register as the chip would present it now. */
static uint16_t tmp102_temp_reg(const sim_dev *d) {
    int64_t counts = floor_div((int64_t)d->millicelsius * 16, 1000);   /* 0.0625 C steps */
    if (d->regs[TMP102_CONFIG] & TMP102_CONFIG_EM) {
        if (counts > 0x0FFF) counts = 0x0FFF;
        if (counts < -0x1000) counts = -0x1000;
        return (uint16_t)(((uint16_t)counts & 0x1FFF) << 3 | 1);  /* bit 0 flags 13-bit mode */
    }
    if (counts > 0x07FF) counts = 0x07FF;
    if (counts < -0x0800) counts = -0x0800;
    return (uint16_t)(((uint16_t)counts & 0x0FFF) << 4);
}

static uint16_t sim_reg_value(const sim_dev *d, unsigned reg) {
    if (d->model == HAL_I2C_SIM_TMP102 && reg == TMP102_TEMP)
        return tmp102_temp_reg(d);
    return d->regs[reg];
}

static void sim_reg_store(sim_dev *d, unsigned reg, uint16_t v) {
    if (d->model != HAL_I2C_SIM_TMP102) {
        d->regs[reg] = d->width == 1 ? (uint8_t)v : v;
        return;
    }
    switch (reg) {
    case TMP102_TEMP:
        break;      /* read-only: the chip ignores the write */
    case TMP102_CONFIG:
        d->regs[reg] = (uint16_t)((v & TMP102_CONFIG_RW) | (d->regs[reg] & TMP102_CONFIG_RO));
        break;
    default:
        d->regs[reg] = (uint16_t)(v & 0xFFF0);
        break;
    }
}

static void sim_write(sim_dev *d, const uint8_t *buf, unsigned len) {
    /* The TMP102 uses the low two bits of the pointer byte. */
    d->pointer = d->model == HAL_I2C_SIM_TMP102 ? (unsigned)(buf[0] & 0x03) : buf[0] % d->nregs;
    unsigned partial = 0, have = 0;
    for (unsigned i = 1; i < len; i++) {
        partial = partial << 8 | buf[i];
        if (++have < d->width)
            continue;
        sim_reg_store(d, d->pointer, (uint16_t)partial);
        partial = have = 0;
        if (d->model != HAL_I2C_SIM_TMP102)
            d->pointer = (d->pointer + 1) % d->nregs;
    }
}

static void sim_read(sim_dev *d, uint8_t *buf, unsigned len) {
    for (unsigned i = 0; i < len; ) {
        uint16_t v = sim_reg_value(d, d->pointer);
        for (unsigned k = d->width; k-- > 0 && i < len; )
            buf[i++] = (uint8_t)(v >> (8 * k));
        if (d->model != HAL_I2C_SIM_TMP102)
            d->pointer = (d->pointer + 1) % d->nregs;
    }
}

static void sim_close(hal_i2c *b) {
    free(b);
}

static hal_status sim_open_bus(hal_i2c *base, unsigned bus, hal_i2c_bus **ret) {
    sim_i2c *b = (sim_i2c *)base;
    size_t i;
    for (i = 0; i < b->ndevs && b->devs[i].bus != bus; i++)
        ;
    if (i == b->ndevs)
        return HAL_ERR_NO_DEVICE;
    sim_bus *o = calloc(1, sizeof *o);
    if (!o)
        return HAL_ERR_NOMEM;
    *ret = &o->base;
    return HAL_OK;
}

static hal_status sim_funcs(hal_i2c_bus *bus, uint32_t *ret) {
    *ret = HAL_I2C_FUNC_I2C | HAL_I2C_FUNC_SMBUS_BYTE_DATA | HAL_I2C_FUNC_SMBUS_WORD_DATA;
    return HAL_OK;
}

static hal_status sim_transfer(hal_i2c_bus *bus, hal_i2c_msg *msgs, unsigned n) {
    sim_i2c *b = (sim_i2c *)bus->backend;
    for (unsigned i = 0; i < n; i++) {
        sim_dev *d = sim_find(b, bus->number, msgs[i].addr);
        if (!d)
            return HAL_ERR_NACK;
        if (msgs[i].flags & HAL_I2C_M_RD)
            sim_read(d, msgs[i].buf, msgs[i].len);
        else
            sim_write(d, msgs[i].buf, msgs[i].len);
    }
    return HAL_OK;
}

static void sim_close_bus(hal_i2c_bus *bus) {
    free(bus);
}

static const hal_i2c_ops sim_ops = {
    .name      = "sim",
    .close     = sim_close,
    .open_bus  = sim_open_bus,
    .funcs     = sim_funcs,
    .transfer  = sim_transfer,
    .close_bus = sim_close_bus,
};

hal_status hal_i2c_open_sim(const hal_i2c_sim_device *devs, size_t n, hal_i2c **ret) {
    if (!ret || (!devs && n) || n > HAL_I2C_SIM_MAX_DEVICES)
        return HAL_ERR_INVALID;
    sim_i2c *b = calloc(1, sizeof *b + n * sizeof b->devs[0]);
    if (!b)
        return HAL_ERR_NOMEM;
    b->base.ops = &sim_ops;
    for (size_t i = 0; i < n; i++) {
        const hal_i2c_sim_device *s = &devs[i];
        sim_dev *d = &b->devs[i];
        if (s->bus > HAL_I2C_MAX_BUS || s->addr < 0x03 || s->addr > 0x77 || sim_find(b, s->bus, s->addr))
            goto out_invalid;
        d->bus = s->bus;
        d->addr = s->addr;
        d->model = s->model;
        if (s->model == HAL_I2C_SIM_TMP102) {
            d->nregs = TMP102_NREGS;
            d->width = 2;
            d->millicelsius = 25000;
            d->regs[TMP102_CONFIG] = TMP102_CONFIG_RESET;
            d->regs[TMP102_TLOW] = TMP102_TLOW_RESET;
            d->regs[TMP102_THIGH] = TMP102_THIGH_RESET;
        } else if (s->model == HAL_I2C_SIM_REGMAP) {
            if (s->nregs < 1 || s->nregs > HAL_I2C_SIM_MAX_REGS || s->width < 1 || s->width > 2)
                goto out_invalid;
            d->nregs = s->nregs;
            d->width = s->width;
            for (unsigned r = 0; s->values && r < s->nregs; r++) {
                if (s->width == 1 && s->values[r] > 0xff)
                    goto out_invalid;
                d->regs[r] = s->values[r];
            }
        } else {
            goto out_invalid;
        }
        b->ndevs = i + 1;
    }
    *ret = &b->base;
    return HAL_OK;

out_invalid:
    free(b);
    return HAL_ERR_INVALID;
}

static hal_status sim_control(hal_i2c *base, unsigned bus, uint8_t addr, sim_dev **ret) {
    if (!base)
        return HAL_ERR_INVALID;
    if (base->ops != &sim_ops)
        return HAL_ERR_NOT_SUPPORTED;
    sim_dev *d = sim_find((sim_i2c *)base, bus, addr);
    if (!d)
        return HAL_ERR_NO_DEVICE;
    *ret = d;
    return HAL_OK;
}

hal_status hal_i2c_sim_set_temperature(hal_i2c *b, unsigned bus, uint8_t addr, int32_t millicelsius) {
    sim_dev *d;
    hal_status st = sim_control(b, bus, addr, &d);
    if (st != HAL_OK)
        return st;
    if (d->model != HAL_I2C_SIM_TMP102)
        return HAL_ERR_NOT_SUPPORTED;
    if (millicelsius < -55000 || millicelsius > 150000)
        return HAL_ERR_INVALID;
    d->millicelsius = millicelsius;
    return HAL_OK;
}

hal_status hal_i2c_sim_set_register(hal_i2c *b, unsigned bus, uint8_t addr, unsigned reg, uint16_t value) {
    sim_dev *d;
    hal_status st = sim_control(b, bus, addr, &d);
    if (st != HAL_OK)
        return st;
    if (reg >= d->nregs || (d->width == 1 && value > 0xff))
        return HAL_ERR_INVALID;
    /* The TMP102's temperature follows hal_i2c_sim_set_temperature only. */
    if (d->model == HAL_I2C_SIM_TMP102 && reg == TMP102_TEMP)
        return HAL_ERR_NOT_SUPPORTED;
    d->regs[reg] = value;
    return HAL_OK;
}

hal_status hal_i2c_sim_get_register(hal_i2c *b, unsigned bus, uint8_t addr, unsigned reg, uint16_t *ret) {
    sim_dev *d;
    hal_status st = sim_control(b, bus, addr, &d);
    if (st != HAL_OK)
        return st;
    if (reg >= d->nregs || !ret)
        return HAL_ERR_INVALID;
    *ret = sim_reg_value(d, reg);
    return HAL_OK;
}
