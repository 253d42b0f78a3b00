/*
 * gpio_sim.c - simulated GPIO chips: lines in memory, inputs driven by
 * hal_gpio_sim_set_input (for wasmctl and the tests), outputs read back
 * with hal_gpio_sim_get_level.
 *
 * Edges travel through a non-blocking pipe per requested line, one record
 * per edge, so the daemon polls simulated lines exactly as it polls the
 * kernel's line-event descriptors.  When the pipe is full, further edges
 * are dropped, as the kernel drops them when its queue is full.
 */
#include "hal/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct sim_line sim_line;

typedef struct sim_chip {
    char       name[32];
    char       label[32];
    unsigned   num_lines;
    uint8_t   *levels;      /* physical level of each line's wire */
    uint64_t  *changed_ns;  /* when each level last changed (CLOCK_MONOTONIC), 0: never */
    uint8_t   *driven;      /* set_input has driven the wire (a switch is attached) */
    sim_line **held;        /* the request holding each line, or NULL */
} sim_chip;

typedef struct sim_gpio {
    hal_gpio  base;
    size_t    nchips;
    sim_chip  chips[];
} sim_gpio;

struct sim_line {
    hal_gpio_line base;
    sim_chip     *chip;
    int           pipe[2];  /* [0] read end (the event fd), [1] write end; -1 without edges */
};

static const hal_gpio_ops sim_ops;

/* Sets the physical level of a wire, noting when it changed. */
static void sim_drive(sim_chip *c, unsigned offset, int level) {
    if (c->levels[offset] != level) {
        c->levels[offset] = (uint8_t)level;
        c->changed_ns[offset] = hal__now_ns();
    }
}

static sim_chip *sim_find_chip(sim_gpio *g, const char *name) {
    for (size_t i = 0; i < g->nchips; i++)
        if (strcmp(g->chips[i].name, name) == 0)
            return &g->chips[i];
    /* A decimal index, as gpiod accepts "0" for gpiochip0. */
    char *end;
    errno = 0;
    unsigned long idx = strtoul(name, &end, 10);
    if (*name >= '0' && *name <= '9' && *end == '\0' && errno == 0 && idx < g->nchips)
        return &g->chips[idx];
    return NULL;
}

static void sim_close(hal_gpio *base) {
    sim_gpio *g = (sim_gpio *)base;
    for (size_t i = 0; i < g->nchips; i++) {
        free(g->chips[i].levels);
        free(g->chips[i].changed_ns);
        free(g->chips[i].driven);
        free(g->chips[i].held);
    }
    free(g);
}

static hal_status sim_chip_info(hal_gpio *base, const char *chip, hal_gpio_chip_info *ret) {
    sim_chip *c = sim_find_chip((sim_gpio *)base, chip);
    if (!c)
        return HAL_ERR_NO_DEVICE;
    memset(ret, 0, sizeof *ret);
    memcpy(ret->name, c->name, sizeof ret->name);
    memcpy(ret->label, c->label, sizeof ret->label);
    ret->num_lines = c->num_lines;
    return HAL_OK;
}

static hal_status sim_request(hal_gpio *base, const char *chip, unsigned offset,
                              const hal_gpio_config *cfg, hal_gpio_line **ret) {
    sim_chip *c = sim_find_chip((sim_gpio *)base, chip);
    if (!c)
        return HAL_ERR_NO_DEVICE;
    if (offset >= c->num_lines)
        return HAL_ERR_NO_LINE;
    /* Like the kernel's character device, a line has one holder at a time. */
    if (c->held[offset])
        return HAL_ERR_BUSY;
    sim_line *l = calloc(1, sizeof *l);
    if (!l)
        return HAL_ERR_NOMEM;
    l->chip = c;
    l->pipe[0] = l->pipe[1] = -1;
    if (cfg->edge != HAL_GPIO_EDGE_NONE && pipe2(l->pipe, O_NONBLOCK | O_CLOEXEC) < 0) {
        hal_status st = hal__from_errno(errno);
        free(l);
        return st;
    }
    if (cfg->direction == HAL_GPIO_OUTPUT)
        sim_drive(c, offset, cfg->initial_value ^ cfg->active_low);
    /* A wire nothing drives follows the input's pull-up or pull-down, as on a real board. */
    else if (!c->driven[offset] && (cfg->bias == HAL_GPIO_BIAS_PULL_UP || cfg->bias == HAL_GPIO_BIAS_PULL_DOWN))
        sim_drive(c, offset, cfg->bias == HAL_GPIO_BIAS_PULL_UP);
    c->held[offset] = l;
    *ret = &l->base;
    return HAL_OK;
}

static hal_status sim_set(hal_gpio_line *base, int value) {
    sim_line *l = (sim_line *)base;
    sim_drive(l->chip, base->offset, value ^ base->cfg.active_low);
    return HAL_OK;
}

static hal_status sim_get(hal_gpio_line *base, int *ret) {
    sim_line *l = (sim_line *)base;
    *ret = l->chip->levels[base->offset] ^ base->cfg.active_low;
    return HAL_OK;
}

static int sim_event_fd(hal_gpio_line *base) {
    return ((sim_line *)base)->pipe[0];
}

static hal_status sim_read_event(hal_gpio_line *base, hal_gpio_event *ret) {
    sim_line *l = (sim_line *)base;
    hal_gpio_event ev;
    ssize_t n = read(l->pipe[0], &ev, sizeof ev);
    if (n < 0)
        return errno == EAGAIN ? HAL_ERR_AGAIN : hal__from_errno(errno);
    /* Records are written whole (smaller than PIPE_BUF), so they are read whole. */
    if (n != (ssize_t)sizeof ev)
        return HAL_ERR_IO;
    *ret = ev;
    return HAL_OK;
}

static void sim_release(hal_gpio_line *base) {
    sim_line *l = (sim_line *)base;
    l->chip->held[base->offset] = NULL;
    if (l->pipe[0] >= 0) {
        close(l->pipe[0]);
        close(l->pipe[1]);
    }
    free(l);
}

static const hal_gpio_ops sim_ops = {
    .name       = "sim",
    .close      = sim_close,
    .chip_info  = sim_chip_info,
    .request    = sim_request,
    .set        = sim_set,
    .get        = sim_get,
    .event_fd   = sim_event_fd,
    .read_event = sim_read_event,
    .release    = sim_release,
};

hal_status hal_gpio_open_sim(const hal_gpio_sim_chip *chips, size_t n, hal_gpio **ret) {
    if (!ret || (!chips && n) || n > HAL_GPIO_SIM_MAX_CHIPS)
        return HAL_ERR_INVALID;
    for (size_t i = 0; i < n; i++)
        if (!chips[i].name || !*chips[i].name || strlen(chips[i].name) >= sizeof ((sim_chip *)0)->name ||
            (chips[i].label && strlen(chips[i].label) >= sizeof ((sim_chip *)0)->label) ||
            chips[i].num_lines < 1 || chips[i].num_lines > HAL_GPIO_SIM_MAX_LINES)
            return HAL_ERR_INVALID;
    sim_gpio *g = calloc(1, sizeof *g + n * sizeof g->chips[0]);
    if (!g)
        return HAL_ERR_NOMEM;
    g->base.ops = &sim_ops;
    for (size_t i = 0; i < n; i++) {
        sim_chip *c = &g->chips[i];
        strcpy(c->name, chips[i].name);
        strcpy(c->label, chips[i].label ? chips[i].label : "sim");
        c->num_lines = chips[i].num_lines;
        c->levels = calloc(c->num_lines, sizeof c->levels[0]);
        c->changed_ns = calloc(c->num_lines, sizeof c->changed_ns[0]);
        c->driven = calloc(c->num_lines, sizeof c->driven[0]);
        c->held = calloc(c->num_lines, sizeof c->held[0]);
        g->nchips = i + 1;
        if (!c->levels || !c->changed_ns || !c->driven || !c->held) {
            sim_close(&g->base);
            return HAL_ERR_NOMEM;
        }
    }
    *ret = &g->base;
    return HAL_OK;
}

static hal_status sim_find_line(hal_gpio *base, const char *chip, unsigned offset, sim_chip **ret) {
    if (!base || !chip)
        return HAL_ERR_INVALID;
    if (base->ops != &sim_ops)
        return HAL_ERR_NOT_SUPPORTED;
    sim_chip *c = sim_find_chip((sim_gpio *)base, chip);
    if (!c)
        return HAL_ERR_NO_DEVICE;
    if (offset >= c->num_lines)
        return HAL_ERR_NO_LINE;
    *ret = c;
    return HAL_OK;
}

hal_status hal_gpio_sim_set_input(hal_gpio *base, const char *chip, unsigned offset, int level) {
    sim_chip *c;
    hal_status st = sim_find_line(base, chip, offset, &c);
    if (st != HAL_OK)
        return st;
    if ((unsigned)level > 1)
        return HAL_ERR_INVALID;
    sim_line *l = c->held[offset];
    if (l && l->base.cfg.direction == HAL_GPIO_OUTPUT)
        return HAL_ERR_DIRECTION;
    int old = c->levels[offset];
    c->driven[offset] = 1;
    sim_drive(c, offset, level);
    if (!l || old == level || l->pipe[1] < 0)
        return HAL_OK;

    /* Edges are reported in logical terms, as the kernel does for active-low lines. */
    int value = level ^ l->base.cfg.active_low;
    hal_gpio_edge want = l->base.cfg.edge;
    if ((value && want == HAL_GPIO_EDGE_FALLING) || (!value && want == HAL_GPIO_EDGE_RISING))
        return HAL_OK;
    hal_gpio_event ev;
    memset(&ev, 0, sizeof ev);   /* no uninitialised padding goes into the pipe */
    ev.timestamp_ns = c->changed_ns[offset];
    ev.type = value ? HAL_GPIO_RISING_EDGE : HAL_GPIO_FALLING_EDGE;
    if (write(l->pipe[1], &ev, sizeof ev) < 0 && errno != EAGAIN)
        return hal__from_errno(errno);
    return HAL_OK;
}

hal_status hal_gpio_sim_get_level(hal_gpio *base, const char *chip, unsigned offset, int *ret) {
    sim_chip *c;
    hal_status st = sim_find_line(base, chip, offset, &c);
    if (st != HAL_OK)
        return st;
    if (!ret)
        return HAL_ERR_INVALID;
    *ret = c->levels[offset];
    return HAL_OK;
}

hal_status hal_gpio_sim_get_line(hal_gpio *base, const char *chip, unsigned offset, hal_gpio_sim_line *ret) {
    sim_chip *c;
    hal_status st = sim_find_line(base, chip, offset, &c);
    if (st != HAL_OK)
        return st;
    if (!ret)
        return HAL_ERR_INVALID;
    memset(ret, 0, sizeof *ret);
    ret->level = c->levels[offset];
    ret->changed_ns = c->changed_ns[offset];
    sim_line *l = c->held[offset];
    ret->held = l != NULL;
    if (l)
        ret->direction = l->base.cfg.direction;
    return HAL_OK;
}
