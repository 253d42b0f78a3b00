/*
 * i2c_dev.c - I2C through the kernel's i2c-dev interface (/dev/i2c-N).
 * Every transaction is one I2C_RDWR ioctl, so a write-then-read keeps the
 * bus (repeated start) and no other master can move the register pointer
 * in between, which I2C_SLAVE plus read()/write() could not promise.
 */
#include "hal/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/i2c-dev.h>
#include <linux/i2c.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

_Static_assert(HAL_I2C_FUNC_I2C == I2C_FUNC_I2C, "HAL_I2C_FUNC_I2C is the kernel's value");
_Static_assert(HAL_I2C_FUNC_10BIT_ADDR == I2C_FUNC_10BIT_ADDR, "the kernel's value");
_Static_assert(HAL_I2C_FUNC_SMBUS_BYTE_DATA == I2C_FUNC_SMBUS_BYTE_DATA, "the kernel's value");
_Static_assert(HAL_I2C_FUNC_SMBUS_WORD_DATA == I2C_FUNC_SMBUS_WORD_DATA, "the kernel's value");
_Static_assert(HAL_I2C_M_RD == I2C_M_RD, "HAL_I2C_M_RD is the kernel's value");

typedef struct dev_bus {
    hal_i2c_bus base;
    int         fd;
} dev_bus;

static void dev_close(hal_i2c *b) {
    free(b);
}

static hal_status dev_open_bus(hal_i2c *b, unsigned bus, hal_i2c_bus **ret) {
    char path[32];
    snprintf(path, sizeof path, "/dev/i2c-%u", bus);
    dev_bus *o = calloc(1, sizeof *o);
    if (!o)
        return HAL_ERR_NOMEM;
    o->fd = open(path, O_RDWR | O_CLOEXEC);
    if (o->fd < 0) {
        hal_status st = hal__from_errno(errno);
        free(o);
        return st;
    }
    *ret = &o->base;
    return HAL_OK;
}

static hal_status dev_funcs(hal_i2c_bus *bus, uint32_t *ret) {
    unsigned long funcs = 0;
    if (ioctl(((dev_bus *)bus)->fd, I2C_FUNCS, &funcs) < 0)
        return hal__from_errno(errno);
    *ret = (uint32_t)funcs;
    return HAL_OK;
}

static hal_status dev_transfer(hal_i2c_bus *bus, hal_i2c_msg *msgs, unsigned n) {
    struct i2c_msg km[2];
    for (unsigned i = 0; i < n; i++) {
        km[i].addr  = msgs[i].addr;
        km[i].flags = msgs[i].flags;
        km[i].len   = msgs[i].len;
        km[i].buf   = msgs[i].buf;
    }
    struct i2c_rdwr_ioctl_data data = { .msgs = km, .nmsgs = n };
    if (ioctl(((dev_bus *)bus)->fd, I2C_RDWR, &data) < 0) {
        /* Adapters report a missing address (no ACK) as ENXIO or EREMOTEIO. */
        if (errno == ENXIO || errno == EREMOTEIO)
            return HAL_ERR_NACK;
        return hal__from_errno(errno);
    }
    return HAL_OK;
}

static void dev_close_bus(hal_i2c_bus *bus) {
    dev_bus *o = (dev_bus *)bus;
    close(o->fd);
    free(o);
}

static const hal_i2c_ops dev_ops = {
    .name      = "dev",
    .close     = dev_close,
    .open_bus  = dev_open_bus,
    .funcs     = dev_funcs,
    .transfer  = dev_transfer,
    .close_bus = dev_close_bus,
};

hal_status hal_i2c_open_dev(hal_i2c **ret) {
    if (!ret)
        return HAL_ERR_INVALID;
    hal_i2c *b = calloc(1, sizeof *b);
    if (!b)
        return HAL_ERR_NOMEM;
    b->ops = &dev_ops;
    *ret = b;
    return HAL_OK;
}
