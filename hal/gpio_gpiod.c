/*
 * gpio_gpiod.c - GPIO through libgpiod 1.6 (the kernel's GPIO character
 * device).  Each request opens its own chip handle, so a line and the chip
 * it came from are released together.  The kernel enforces one holder per
 * line (EBUSY), which gives the exclusive-use check for free.
 *
 * Edge events: the request's event descriptor is made non-blocking, so
 * reading it after the caller's poll never stalls the event loop.
 */
#include "hal/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <gpiod.h>
#include <stdlib.h>
#include <string.h>

typedef struct gpiod_backend {
    hal_gpio base;
} gpiod_backend;

typedef struct gpiod_hal_line {
    hal_gpio_line      base;
    struct gpiod_chip *chip;
    struct gpiod_line *line;
} gpiod_hal_line;

/* gpiod_chip_open_lookup takes a name, a number or a path; errno says why it failed. */
static hal_status gpiod_open_chip(const char *name, struct gpiod_chip **ret) {
    errno = 0;
    struct gpiod_chip *c = gpiod_chip_open_lookup(name);
    if (!c)
        return errno ? hal__from_errno(errno) : HAL_ERR_NO_DEVICE;
    *ret = c;
    return HAL_OK;
}

static void gpiod_backend_close(hal_gpio *base) {
    free(base);
}

static hal_status gpiod_backend_chip_info(hal_gpio *base, const char *chip, hal_gpio_chip_info *ret) {
    struct gpiod_chip *c = NULL;
    hal_status st = gpiod_open_chip(chip, &c);
    if (st != HAL_OK)
        return st;
    memset(ret, 0, sizeof *ret);
    strncpy(ret->name, gpiod_chip_name(c), sizeof ret->name - 1);
    strncpy(ret->label, gpiod_chip_label(c), sizeof ret->label - 1);
    ret->num_lines = gpiod_chip_num_lines(c);
    gpiod_chip_close(c);
    return HAL_OK;
}

static int gpiod_request_type(const hal_gpio_config *cfg) {
    if (cfg->direction == HAL_GPIO_OUTPUT)
        return GPIOD_LINE_REQUEST_DIRECTION_OUTPUT;
    switch (cfg->edge) {
    case HAL_GPIO_EDGE_RISING:  return GPIOD_LINE_REQUEST_EVENT_RISING_EDGE;
    case HAL_GPIO_EDGE_FALLING: return GPIOD_LINE_REQUEST_EVENT_FALLING_EDGE;
    case HAL_GPIO_EDGE_BOTH:    return GPIOD_LINE_REQUEST_EVENT_BOTH_EDGES;
    case HAL_GPIO_EDGE_NONE:    break;
    }
    return GPIOD_LINE_REQUEST_DIRECTION_INPUT;
}

static int gpiod_request_flags(const hal_gpio_config *cfg) {
    int flags = cfg->active_low ? GPIOD_LINE_REQUEST_FLAG_ACTIVE_LOW : 0;
    switch (cfg->bias) {
    case HAL_GPIO_BIAS_DISABLE:   flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_DISABLE; break;
    case HAL_GPIO_BIAS_PULL_UP:   flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_UP; break;
    case HAL_GPIO_BIAS_PULL_DOWN: flags |= GPIOD_LINE_REQUEST_FLAG_BIAS_PULL_DOWN; break;
    case HAL_GPIO_BIAS_AS_IS:     break;
    }
    return flags;
}

static hal_status gpiod_backend_request(hal_gpio *base, const char *chip, unsigned offset,
                                        const hal_gpio_config *cfg, hal_gpio_line **ret) {
    gpiod_hal_line *l = calloc(1, sizeof *l);
    if (!l)
        return HAL_ERR_NOMEM;
    hal_status st = gpiod_open_chip(chip, &l->chip);
    if (st != HAL_OK)
        goto out_free;
    if (offset >= gpiod_chip_num_lines(l->chip)) {
        st = HAL_ERR_NO_LINE;
        goto out_close_chip;
    }
    l->line = gpiod_chip_get_line(l->chip, offset);
    if (!l->line) {
        st = hal__from_errno(errno);
        goto out_close_chip;
    }
    struct gpiod_line_request_config rc = {
        .consumer     = cfg->consumer ? cfg->consumer : "wasmd",
        .request_type = gpiod_request_type(cfg),
        .flags        = gpiod_request_flags(cfg),
    };
    if (gpiod_line_request(l->line, &rc, cfg->initial_value) < 0) {
        st = hal__from_errno(errno);
        goto out_close_chip;
    }
    if (cfg->edge != HAL_GPIO_EDGE_NONE) {
        int fd = gpiod_line_event_get_fd(l->line);
        int fl = fd >= 0 ? fcntl(fd, F_GETFL) : -1;
        if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
            st = HAL_ERR_IO;
            goto out_release;
        }
    }
    *ret = &l->base;
    return HAL_OK;

out_release:
    gpiod_line_release(l->line);
out_close_chip:
    gpiod_chip_close(l->chip);
out_free:
    free(l);
    return st;
}

static hal_status gpiod_backend_set(hal_gpio_line *base, int value) {
    gpiod_hal_line *l = (gpiod_hal_line *)base;
    return gpiod_line_set_value(l->line, value) < 0 ? hal__from_errno(errno) : HAL_OK;
}

static hal_status gpiod_backend_get(hal_gpio_line *base, int *ret) {
    gpiod_hal_line *l = (gpiod_hal_line *)base;
    int v = gpiod_line_get_value(l->line);
    if (v < 0)
        return hal__from_errno(errno);
    *ret = v;
    return HAL_OK;
}

static int gpiod_backend_event_fd(hal_gpio_line *base) {
    return gpiod_line_event_get_fd(((gpiod_hal_line *)base)->line);
}

static hal_status gpiod_backend_read_event(hal_gpio_line *base, hal_gpio_event *ret) {
    gpiod_hal_line *l = (gpiod_hal_line *)base;
    struct gpiod_line_event ev;
    if (gpiod_line_event_read(l->line, &ev) < 0)
        return errno == EAGAIN ? HAL_ERR_AGAIN : hal__from_errno(errno);
    ret->timestamp_ns = (uint64_t)ev.ts.tv_sec * 1000000000u + (uint64_t)ev.ts.tv_nsec;
    ret->type = ev.event_type == GPIOD_LINE_EVENT_RISING_EDGE ? HAL_GPIO_RISING_EDGE : HAL_GPIO_FALLING_EDGE;
    return HAL_OK;
}

static void gpiod_backend_release(hal_gpio_line *base) {
    gpiod_hal_line *l = (gpiod_hal_line *)base;
    gpiod_line_release(l->line);
    gpiod_chip_close(l->chip);
    free(l);
}

static const hal_gpio_ops gpiod_ops = {
    .name       = "gpiod",
    .close      = gpiod_backend_close,
    .chip_info  = gpiod_backend_chip_info,
    .request    = gpiod_backend_request,
    .set        = gpiod_backend_set,
    .get        = gpiod_backend_get,
    .event_fd   = gpiod_backend_event_fd,
    .read_event = gpiod_backend_read_event,
    .release    = gpiod_backend_release,
};

hal_status hal_gpio_open_gpiod(hal_gpio **ret) {
    if (!ret)
        return HAL_ERR_INVALID;
    gpiod_backend *g = calloc(1, sizeof *g);
    if (!g)
        return HAL_ERR_NOMEM;
    g->base.ops = &gpiod_ops;
    *ret = &g->base;
    return HAL_OK;
}
