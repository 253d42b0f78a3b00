/*
 * hal.c - status and enum tables, and the hal_* entry points: each checks
 * its arguments once, then dispatches through the backend's ops table.
 */
#include "hal/internal.h"

#include <errno.h>
#include <string.h>
#include <time.h>

/* ---- Status codes -------------------------------------------------------- */

static const struct { const char *name, *message; } hal__statuses[] = {
#define HAL__STATUS_ROW(name, msg) { "HAL_" #name, msg },
    HAL_STATUS_MAP(HAL__STATUS_ROW)
#undef HAL__STATUS_ROW
};

#define HAL__COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *hal_status_name(hal_status s) {
    return (unsigned)s < HAL__COUNT(hal__statuses) ? hal__statuses[s].name : "?";
}

const char *hal_status_message(hal_status s) {
    return (unsigned)s < HAL__COUNT(hal__statuses) ? hal__statuses[s].message : "?";
}

hal_status hal__from_errno(int err) {
    switch (err) {
    case 0:         return HAL_OK;
    case ENOMEM:    return HAL_ERR_NOMEM;
    case EINVAL:    return HAL_ERR_INVALID;
    case ENOENT:
    case ENODEV:
    case ENXIO:     return HAL_ERR_NO_DEVICE;
    case EACCES:
    case EPERM:     return HAL_ERR_PERM;
    case EBUSY:     return HAL_ERR_BUSY;
    case EAGAIN:    return HAL_ERR_AGAIN;
    case ETIMEDOUT: return HAL_ERR_TIMEOUT;
    case EOPNOTSUPP:
    case ENOSYS:
    case ENOTTY:    return HAL_ERR_NOT_SUPPORTED;
    default:        return HAL_ERR_IO;
    }
}

uint64_t hal__now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- Enum strings -------------------------------------------------------- */

#define HAL__STRING_ROW(name, str) str,
static const char *const hal__directions[] = { HAL_GPIO_DIRECTION_MAP(HAL__STRING_ROW) };
static const char *const hal__biases[]     = { HAL_GPIO_BIAS_MAP(HAL__STRING_ROW) };
static const char *const hal__edges[]      = { HAL_GPIO_EDGE_MAP(HAL__STRING_ROW) };
static const char *const hal__models[]     = { HAL_I2C_SIM_MODEL_MAP(HAL__STRING_ROW) };
#undef HAL__STRING_ROW

static const char *hal__to_string(const char *const *table, size_t n, int v) {
    return v >= 0 && (size_t)v < n ? table[v] : "?";
}

static int hal__from_string(const char *const *table, size_t n, const char *s) {
    for (size_t i = 0; s && i < n; i++)
        if (strcmp(table[i], s) == 0)
            return (int)i;
    return -1;
}

const char *hal_gpio_direction_string(hal_gpio_direction d) { return hal__to_string(hal__directions, HAL__COUNT(hal__directions), (int)d); }
const char *hal_gpio_bias_string(hal_gpio_bias b)           { return hal__to_string(hal__biases, HAL__COUNT(hal__biases), (int)b); }
const char *hal_gpio_edge_string(hal_gpio_edge e)           { return hal__to_string(hal__edges, HAL__COUNT(hal__edges), (int)e); }
const char *hal_i2c_sim_model_string(hal_i2c_sim_model m)   { return hal__to_string(hal__models, HAL__COUNT(hal__models), (int)m); }
int hal_gpio_direction_from_string(const char *s) { return hal__from_string(hal__directions, HAL__COUNT(hal__directions), s); }
int hal_gpio_bias_from_string(const char *s)      { return hal__from_string(hal__biases, HAL__COUNT(hal__biases), s); }
int hal_gpio_edge_from_string(const char *s)      { return hal__from_string(hal__edges, HAL__COUNT(hal__edges), s); }
int hal_i2c_sim_model_from_string(const char *s)  { return hal__from_string(hal__models, HAL__COUNT(hal__models), s); }

/* ---- GPIO ---------------------------------------------------------------- */

void hal_gpio_close(hal_gpio *g) {
    if (g)
        g->ops->close(g);
}

hal_status hal_gpio_get_chip_info(hal_gpio *g, const char *chip, hal_gpio_chip_info *ret) {
    if (!g || !chip || !ret)
        return HAL_ERR_INVALID;
    return g->ops->chip_info(g, chip, ret);
}

static bool hal__gpio_config_valid(const hal_gpio_config *c) {
    if ((unsigned)c->direction > HAL_GPIO_OUTPUT || (unsigned)c->bias > HAL_GPIO_BIAS_PULL_DOWN ||
        (unsigned)c->edge > HAL_GPIO_EDGE_BOTH)
        return false;
    if (c->direction == HAL_GPIO_OUTPUT &&
        (c->edge != HAL_GPIO_EDGE_NONE || (unsigned)c->initial_value > 1 || (unsigned)c->safe_value > 1))
        return false;
    return true;
}

hal_status hal_gpio_request(hal_gpio *g, const char *chip, unsigned offset,
                            const hal_gpio_config *cfg, hal_gpio_line **ret) {
    if (!g || !chip || !cfg || !ret || !hal__gpio_config_valid(cfg))
        return HAL_ERR_INVALID;
    hal_gpio_line *l = NULL;
    hal_status st = g->ops->request(g, chip, offset, cfg, &l);
    if (st != HAL_OK)
        return st;
    l->backend = g;
    l->cfg = *cfg;
    l->cfg.consumer = NULL;
    l->offset = offset;
    *ret = l;
    return HAL_OK;
}

hal_status hal_gpio_set(hal_gpio_line *l, int value) {
    if (!l || (unsigned)value > 1)
        return HAL_ERR_INVALID;
    if (l->cfg.direction != HAL_GPIO_OUTPUT)
        return HAL_ERR_DIRECTION;
    return l->backend->ops->set(l, value);
}

hal_status hal_gpio_get(hal_gpio_line *l, int *ret) {
    if (!l || !ret)
        return HAL_ERR_INVALID;
    return l->backend->ops->get(l, ret);
}

int hal_gpio_event_fd(hal_gpio_line *l) {
    if (!l || l->cfg.edge == HAL_GPIO_EDGE_NONE)
        return -1;
    return l->backend->ops->event_fd(l);
}

hal_status hal_gpio_read_event(hal_gpio_line *l, hal_gpio_event *ret) {
    if (!l || !ret)
        return HAL_ERR_INVALID;
    if (l->cfg.edge == HAL_GPIO_EDGE_NONE)
        return HAL_ERR_NO_EDGES;
    return l->backend->ops->read_event(l, ret);
}

void hal_gpio_release(hal_gpio_line *l) {
    if (!l)
        return;
    /* The safe value is applied even if the caller left the line in another state. */
    if (l->cfg.direction == HAL_GPIO_OUTPUT)
        (void)l->backend->ops->set(l, l->cfg.safe_value);
    l->backend->ops->release(l);
}

/* ---- I2C ----------------------------------------------------------------- */

void hal_i2c_close(hal_i2c *b) {
    if (b)
        b->ops->close(b);
}

hal_status hal_i2c_open_bus(hal_i2c *b, unsigned bus, hal_i2c_bus **ret) {
    if (!b || !ret || bus > HAL_I2C_MAX_BUS)
        return HAL_ERR_INVALID;
    hal_i2c_bus *o = NULL;
    hal_status st = b->ops->open_bus(b, bus, &o);
    if (st != HAL_OK)
        return st;
    o->backend = b;
    o->number = bus;
    *ret = o;
    return HAL_OK;
}

void hal_i2c_close_bus(hal_i2c_bus *bus) {
    if (bus)
        bus->backend->ops->close_bus(bus);
}

hal_status hal_i2c_funcs(hal_i2c_bus *bus, uint32_t *ret) {
    if (!bus || !ret)
        return HAL_ERR_INVALID;
    return bus->backend->ops->funcs(bus, ret);
}

/* 7-bit addresses outside the reserved ranges (0x00-0x02 and 0x78-0x7f). */
static bool hal__i2c_addr_valid(uint16_t addr) {
    return addr >= 0x03 && addr <= 0x77;
}

hal_status hal_i2c_transfer(hal_i2c_bus *bus, hal_i2c_msg *msgs, unsigned n) {
    if (!bus || !msgs || n < 1 || n > 2)
        return HAL_ERR_INVALID;
    for (unsigned i = 0; i < n; i++)
        if (!hal__i2c_addr_valid(msgs[i].addr) || (msgs[i].flags & ~HAL_I2C_M_RD) ||
            msgs[i].len < 1 || msgs[i].len > HAL_I2C_MAX_MSG_LEN || !msgs[i].buf)
            return HAL_ERR_INVALID;
    return bus->backend->ops->transfer(bus, msgs, n);
}

hal_status hal_i2c_write(hal_i2c_bus *bus, uint16_t addr, const void *buf, size_t len) {
    if (len > HAL_I2C_MAX_MSG_LEN)
        return HAL_ERR_INVALID;
    /* The message is only read from: the cast away from const is safe. */
    hal_i2c_msg m = { addr, 0, (uint16_t)len, (uint8_t *)(uintptr_t)buf };
    return hal_i2c_transfer(bus, &m, 1);
}

hal_status hal_i2c_read(hal_i2c_bus *bus, uint16_t addr, void *buf, size_t len) {
    if (len > HAL_I2C_MAX_MSG_LEN)
        return HAL_ERR_INVALID;
    hal_i2c_msg m = { addr, HAL_I2C_M_RD, (uint16_t)len, buf };
    return hal_i2c_transfer(bus, &m, 1);
}

hal_status hal_i2c_write_read(hal_i2c_bus *bus, uint16_t addr, const void *wbuf, size_t wlen,
                              void *rbuf, size_t rlen) {
    if (wlen > HAL_I2C_MAX_MSG_LEN || rlen > HAL_I2C_MAX_MSG_LEN)
        return HAL_ERR_INVALID;
    hal_i2c_msg m[2] = {
        { addr, 0, (uint16_t)wlen, (uint8_t *)(uintptr_t)wbuf },
        { addr, HAL_I2C_M_RD, (uint16_t)rlen, rbuf },
    };
    return hal_i2c_transfer(bus, m, 2);
}

hal_status hal_i2c_smbus_read_byte_data(hal_i2c_bus *bus, uint16_t addr, uint8_t reg, uint8_t *ret) {
    if (!ret)
        return HAL_ERR_INVALID;
    uint8_t v;
    hal_status st = hal_i2c_write_read(bus, addr, &reg, 1, &v, 1);
    if (st == HAL_OK)
        *ret = v;
    return st;
}

hal_status hal_i2c_smbus_write_byte_data(hal_i2c_bus *bus, uint16_t addr, uint8_t reg, uint8_t value) {
    uint8_t b[2] = { reg, value };
    return hal_i2c_write(bus, addr, b, sizeof b);
}

hal_status hal_i2c_smbus_read_word_data(hal_i2c_bus *bus, uint16_t addr, uint8_t reg, uint16_t *ret) {
    if (!ret)
        return HAL_ERR_INVALID;
    uint8_t v[2];
    hal_status st = hal_i2c_write_read(bus, addr, &reg, 1, v, 2);
    if (st == HAL_OK)
        *ret = (uint16_t)(v[0] | v[1] << 8);
    return st;
}

hal_status hal_i2c_smbus_write_word_data(hal_i2c_bus *bus, uint16_t addr, uint8_t reg, uint16_t value) {
    uint8_t b[3] = { reg, (uint8_t)(value & 0xff), (uint8_t)(value >> 8) };
    return hal_i2c_write(bus, addr, b, sizeof b);
}

/* ---- Microphone ---------------------------------------------------------- */

void hal_mic_close(hal_mic *m) {
    if (m)
        m->ops->close(m);
}

hal_status hal_mic_open(hal_mic *m, const hal_mic_config *cfg, hal_mic_stream **ret) {
    if (!m || !cfg || !ret || !cfg->pcm || !*cfg->pcm)
        return HAL_ERR_INVALID;
    if (cfg->rate < HAL_MIC_MIN_RATE || cfg->rate > HAL_MIC_MAX_RATE ||
        cfg->channels < 1 || cfg->channels > HAL_MIC_MAX_CHANNELS ||
        cfg->period_frames < 1 || cfg->period_frames > HAL_MIC_MAX_PERIOD ||
        cfg->periods > HAL_MIC_MAX_PERIODS || cfg->periods == 1)
        return HAL_ERR_INVALID;
    if (cfg->alsa_conf && strnlen(cfg->alsa_conf, HAL_MIC_MAX_CONF + 1) > HAL_MIC_MAX_CONF)
        return HAL_ERR_INVALID;
    hal_mic_config c = *cfg;
    if (c.periods == 0)
        c.periods = 4;
    hal_mic_stream *s = NULL;
    hal_status st = m->ops->open(m, &c, &s);
    if (st != HAL_OK)
        return st;
    s->backend = m;
    *ret = s;
    return HAL_OK;
}

int hal_mic_poll_count(hal_mic_stream *s) {
    return s ? s->backend->ops->poll_count(s) : -1;
}

int hal_mic_poll_descriptors(hal_mic_stream *s, struct pollfd *pfds, unsigned n) {
    if (!s || (!pfds && n))
        return -1;
    return s->backend->ops->poll_descriptors(s, pfds, n);
}

hal_status hal_mic_poll_revents(hal_mic_stream *s, struct pollfd *pfds, unsigned n, unsigned short *ret) {
    if (!s || !pfds || !ret)
        return HAL_ERR_INVALID;
    return s->backend->ops->poll_revents(s, pfds, n, ret);
}

hal_status hal_mic_read(hal_mic_stream *s, int16_t *buf, size_t max_frames, size_t *ret_frames) {
    if (!s || !buf || !ret_frames)
        return HAL_ERR_INVALID;
    return s->backend->ops->read(s, buf, max_frames, ret_frames);
}

hal_mic_stats hal_mic_get_stats(const hal_mic_stream *s) {
    hal_mic_stats none = { 0, 0 };
    return s ? s->stats : none;
}

void hal_mic_close_stream(hal_mic_stream *s) {
    if (s)
        s->backend->ops->close_stream(s);
}
