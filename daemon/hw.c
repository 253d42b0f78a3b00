/*
 * hw.c - the hardware modules touch: the backends the daemon config
 * chooses, what each run holds, and the GPIO, I2C and microphone imports
 * of sdk/wasmd.h.
 *
 * Deny by default.  At start (wd_hw_acquire) a module whose imports need a
 * capability its manifest does not grant is refused; then the run claims
 * everything its manifest grants: every GPIO line is requested from the
 * backend (outputs at their safe value, inputs with their edge detection)
 * and the microphone device is reserved, so that a second module granted
 * the same line or device is refused at its start, with the holder named.
 * The module's own calls then open handles on what it was granted, checked
 * on every call (label, direction, bus, address); each refusal returns
 * WASMD_EPERM and is logged with the capability and what was asked.  When
 * the run ends for any reason (stop, trap, exit, kill) wd_hw_release
 * releases every line, which drives outputs to their safe values.
 *
 * Nothing waits in a thread.  Edge descriptors and ALSA's poll descriptors
 * are uv_poll handles of the loop; a microphone alias marked `realtime` (a
 * file, which is always ready) is read on a timer at the sample rate
 * instead, and a device whose descriptors cannot be polled (none, or
 * refused by epoll) on a timer once per period.  I2C transfers are short ioctls made in the call.
 *
 * A call that waits (gpio_wait_edge, mic_read) returns WR_SUSPEND with
 * in->host_parked set; the edge, the audio or the timeout completes it
 * with wd_instance_host_complete.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "daemon/internal.h"

/* ---- State -------------------------------------------------------------- */

/* A uv handle of a run's hardware; freed in its close callback (it points to the instance, not the run). */
typedef struct hw_handle {
    union {
        uv_handle_t handle;
        uv_poll_t poll;
        uv_timer_t timer;
    } u;
    wd_instance *in;
    unsigned index;              /* the GPIO slot, or the microphone descriptor */
} hw_handle;

/* A granted GPIO line, requested for the whole run. */
typedef struct gpio_slot {
    const cfg_gpio_grant *grant;
    hal_gpio_line *line;
    bool open;                   /* the module holds its handle (the slot's index) */
    hw_handle *poll;             /* its edge descriptor, or NULL */
    hal_gpio_event queue[WD_GPIO_EDGE_QUEUE];  /* edges for gpio_wait_edge */
    uint32_t head, count;
    uint64_t dropped;
} gpio_slot;

/* The granted microphone. */
typedef struct mic_state {
    bool claimed;                /* granted: reserved for the run */
    char *pcm;                   /* the ALSA PCM (owned) */
    const char *conf_path;       /* an alias's ALSA configuration file, or NULL */
    bool realtime;               /* read on a timer at the sample rate */
    hal_mic_stream *stream;      /* open (handle 0), or NULL */
    hw_handle *polls[WD_MIC_MAX_FDS];
    struct pollfd pfds[WD_MIC_MAX_FDS];
    unsigned npolls;
    hw_handle *pace;             /* realtime: the timer */
    uint64_t started_ns, frames_in;
    int16_t *ring;               /* WASMD_MIC_QUEUE_PERIODS periods of captured audio */
    uint32_t ring_frames[WASMD_MIC_QUEUE_PERIODS];
    uint32_t head, count;
    uint64_t dropped;
} mic_state;

typedef enum hw_wait { WAIT_NONE, WAIT_EDGE, WAIT_MIC } hw_wait;

struct wd_hw_run {
    gpio_slot *gpio;             /* one per manifest->gpio entry, same order */
    size_t ngpio;
    hal_i2c_bus **bus;           /* one per manifest->i2c entry: open (handle = index), or NULL */
    size_t nbus;
    mic_state mic;
    hw_wait wait;                /* the parked call, if any */
    uint32_t wait_handle, wait_ptr, wait_max, wait_ret_ptr;
    hw_handle *wait_timer;
};

#define NS_PER_MS 1000000ull

/* ---- Helpers ------------------------------------------------------------ */

static void hw_handle_close_cb(uv_handle_t *h) {
    hw_handle *hh = wd_container_of(h, hw_handle, u.handle);
    wd_instance *in = hh->in;
    free(hh);
    wd_instance_handle_closed(in);
}

static void hw_handle_close(hw_handle **p) {
    if (*p) {
        uv_close(&(*p)->u.handle, hw_handle_close_cb);
        *p = NULL;
    }
}

static hw_handle *hw_poll_new(wd_instance *in, int fd, unsigned index) {
    hw_handle *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    if (uv_poll_init(in->daemon->loop, &h->u.poll, fd) < 0) {
        free(h);
        return NULL;
    }
    h->in = in;
    h->index = index;
    in->open_handles++;
    return h;
}

static hw_handle *hw_timer_new(wd_instance *in) {
    hw_handle *h = calloc(1, sizeof *h);
    if (!h)
        return NULL;
    uv_timer_init(in->daemon->loop, &h->u.timer);
    h->in = in;
    in->open_handles++;
    return h;
}

/* Logs a refusal: "denied: CAPABILITY: what was asked (why)"; returns WASMD_EPERM. */
static wasmd_error deny(wd_instance *in, const char *cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static wasmd_error deny(wd_instance *in, const char *cap, const char *fmt, ...) {
    char what[WD_LOG_LINE_MAX / 2];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    wd_instance_event(in, "denied: %s: %s", cap, what);
    return WASMD_EPERM;
}

static wasmd_error from_hal(hal_status st) {
    switch (st) {
    case HAL_OK:                return WASMD_OK;
    case HAL_ERR_INVALID:       return WASMD_EINVAL;
    case HAL_ERR_BUSY:          return WASMD_EBUSY;
    case HAL_ERR_NACK:          return WASMD_ENODEV;
    case HAL_ERR_TIMEOUT:       return WASMD_ETIMEDOUT;
    case HAL_ERR_NOT_SUPPORTED:
    case HAL_ERR_FORMAT:        return WASMD_ENOTSUP;
    case HAL_ERR_PERM:          return WASMD_EPERM;
    default:                    return WASMD_EIO;
    }
}

static void put_u32(uint8_t *p, uint32_t v) {
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static void put_u64(uint8_t *p, uint64_t v) {
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Stores a result through a guest pointer; WASMD_EFAULT when it does not fit. */
static wasmd_error store_u32(wr_exec *exec, uint32_t ptr, uint32_t v) {
    uint8_t *p = wd_guest_bytes(exec, ptr, 4);
    if (!p)
        return WASMD_EFAULT;
    put_u32(p, v);
    return WASMD_OK;
}

/* Writes an edge as a wasmd_gpio_event (timestamp_ns, edge, reserved: 16 bytes, little-endian). */
static void put_event(uint8_t *p, const hal_gpio_event *ev) {
    put_u64(p, ev->timestamp_ns);
    put_u32(p + 8, ev->type == HAL_GPIO_RISING_EDGE ? WASMD_GPIO_RISING : WASMD_GPIO_FALLING);
    put_u32(p + 12, 0);
}

#define EVENT_SIZE 16u

/* Ends a parked call with `result`. */
static void wait_finish(wd_instance *in, uint32_t result) {
    wd_hw_run *hw = in->hw;
    hw->wait = WAIT_NONE;
    hw_handle_close(&hw->wait_timer);
    wd_instance_host_complete(in, result);
}

static void on_wait_timeout(uv_timer_t *t) {
    hw_handle *h = wd_container_of(t, hw_handle, u.timer);
    if (h->in->hw && h->in->hw->wait != WAIT_NONE)
        wait_finish(h->in, WASMD_ETIMEDOUT);
}

/* Parks the call under way; WR_SUSPEND, or an error code when it cannot. */
static wr_status park(wd_instance *in, hw_wait what, uint32_t handle, int32_t timeout_ms, uint64_t *results) {
    wd_hw_run *hw = in->hw;
    if (timeout_ms >= 0) {
        if (!(hw->wait_timer = hw_timer_new(in))) {
            results[0] = WASMD_EIO;
            return WR_OK;
        }
        /* The loop's clock counts whole milliseconds: one more, so the wait is never short. */
        uv_update_time(in->daemon->loop);
        uv_timer_start(&hw->wait_timer->u.timer, on_wait_timeout, (uint64_t)timeout_ms + 1, 0);
    }
    hw->wait = what;
    hw->wait_handle = handle;
    in->host_parked = true;
    return WR_SUSPEND;
}

/* ---- Backends ----------------------------------------------------------- */

int wd_hw_open(wd_daemon *d, char *why) {
    const cfg_daemon *c = d->cfg;
    hal_status st;
    if (c->gpio_backend == CFG_GPIO_SIM) {
        hal_gpio_sim_chip chips[CFG_MAX_SIM_CHIPS];
        size_t n = c->nsim_chips < CFG_MAX_SIM_CHIPS ? c->nsim_chips : CFG_MAX_SIM_CHIPS;
        for (size_t i = 0; i < n; i++)
            chips[i] = (hal_gpio_sim_chip){ c->sim_chips[i].name, c->sim_chips[i].label, c->sim_chips[i].lines };
        st = hal_gpio_open_sim(chips, n, &d->gpio);
    } else {
        st = hal_gpio_open_gpiod(&d->gpio);
    }
    if (st != HAL_OK) {
        snprintf(why, WD_REASON_MAX, "cannot open the GPIO backend: %s", hal_status_message(st));
        return -1;
    }
    if (c->i2c_backend == CFG_I2C_SIM) {
        hal_i2c_sim_device *devs = calloc(c->nsim_i2c + 1, sizeof *devs);
        uint16_t *values = calloc(c->nsim_i2c * HAL_I2C_SIM_MAX_REGS + 1, sizeof *values);
        st = devs && values ? HAL_OK : HAL_ERR_NOMEM;
        for (size_t i = 0; i < c->nsim_i2c && st == HAL_OK; i++) {
            const cfg_sim_i2c_device *s = &c->sim_i2c[i];
            uint16_t *v = values + i * HAL_I2C_SIM_MAX_REGS;
            for (size_t k = 0; k < s->nvalues && k < HAL_I2C_SIM_MAX_REGS; k++)
                v[k] = (uint16_t)s->values[k];
            devs[i] = (hal_i2c_sim_device){ .bus = s->bus, .addr = (uint8_t)s->address,
                                            .model = (hal_i2c_sim_model)s->model, .nregs = s->registers,
                                            .width = s->width, .values = v };
        }
        if (st == HAL_OK)
            st = hal_i2c_open_sim(devs, c->nsim_i2c, &d->i2c);
        free(values);
        free(devs);
    } else {
        st = hal_i2c_open_dev(&d->i2c);
    }
    if (st != HAL_OK) {
        snprintf(why, WD_REASON_MAX, "cannot open the I2C backend: %s", hal_status_message(st));
        return -1;
    }
    if ((st = hal_mic_open_alsa(&d->mic)) != HAL_OK) {
        snprintf(why, WD_REASON_MAX, "cannot open the microphone backend: %s", hal_status_message(st));
        return -1;
    }
    return 0;
}

void wd_hw_close(wd_daemon *d) {
    hal_gpio_close(d->gpio);
    hal_i2c_close(d->i2c);
    hal_mic_close(d->mic);
    d->gpio = NULL;
    d->i2c = NULL;
    d->mic = NULL;
}

/* ---- Claiming at start, releasing at the end ---------------------------- */

static void on_edge(uv_poll_t *p, int status, int events);

/* The running instance, other than `self`, that holds GPIO line chip:line, or NULL. */
static wd_instance *gpio_holder(wd_instance *self, const char *chip, uint32_t line) {
    for (wd_instance *o = self->daemon->instances; o; o = o->next) {
        if (o == self || !o->hw)
            continue;
        for (size_t i = 0; i < o->hw->ngpio; i++) {
            const cfg_gpio_grant *g = o->hw->gpio[i].grant;
            if (o->hw->gpio[i].line && g->line == line && strcmp(g->chip, chip) == 0)
                return o;
        }
    }
    return NULL;
}

/* The first capability problem becomes the reason a start is refused. */
static void first_problem(void *ud, const char *msg) {
    char *why = ud;
    if (!why[0])
        snprintf(why, WD_REASON_MAX, "%s", msg);
}

static bool claim_gpio(wd_instance *in, char *why) {
    wd_hw_run *hw = in->hw;
    const cfg_manifest *mf = in->manifest;
    for (size_t i = 0; i < mf->ngpio; i++) {
        const cfg_gpio_grant *g = &mf->gpio[i];
        gpio_slot *s = &hw->gpio[i];
        s->grant = g;
        hal_gpio_config cfg = {
            .direction = (hal_gpio_direction)g->direction,
            .bias = (hal_gpio_bias)g->bias,
            .edge = (hal_gpio_edge)g->edge,
            .active_low = g->active_low,
            .initial_value = (int)g->safe_value,
            .safe_value = (int)g->safe_value,
            .consumer = in->name,
        };
        hal_status st = hal_gpio_request(in->daemon->gpio, g->chip, g->line, &cfg, &s->line);
        if (st != HAL_OK) {
            wd_instance *holder = st == HAL_ERR_BUSY ? gpio_holder(in, g->chip, g->line) : NULL;
            if (holder)
                snprintf(why, WD_REASON_MAX, "gpio %s (%s line %u): held by module %s", g->label, g->chip,
                         g->line, holder->name);
            else
                snprintf(why, WD_REASON_MAX, "gpio %s (%s line %u): %s", g->label, g->chip, g->line,
                         st == HAL_ERR_BUSY ? "in use by another program" : hal_status_message(st));
            return false;
        }
        int fd = hal_gpio_event_fd(s->line);
        if (fd >= 0) {
            if (!(s->poll = hw_poll_new(in, fd, (unsigned)i)) ||
                uv_poll_start(&s->poll->u.poll, UV_READABLE, on_edge) < 0) {
                snprintf(why, WD_REASON_MAX, "gpio %s: cannot watch its edges", g->label);
                return false;
            }
        }
    }
    return true;
}

static bool claim_mic(wd_instance *in, char *why) {
    const cfg_mic_grant *g = &in->manifest->mic;
    mic_state *mic = &in->hw->mic;
    const cfg_daemon *c = in->daemon->cfg;
    const char *pcm = g->device;
    for (size_t i = 0; i < c->nmics; i++) {
        if (strcmp(c->mics[i].name, g->device) == 0) {
            pcm = c->mics[i].pcm;
            mic->conf_path = c->mics[i].alsa_conf;
            mic->realtime = c->mics[i].realtime;
        }
    }
    for (wd_instance *o = in->daemon->instances; o; o = o->next) {
        if (o == in || !o->hw || !o->hw->mic.claimed)
            continue;
        const mic_state *om = &o->hw->mic;
        bool same_conf = (!om->conf_path && !mic->conf_path) ||
                         (om->conf_path && mic->conf_path && strcmp(om->conf_path, mic->conf_path) == 0);
        if (strcmp(om->pcm, pcm) == 0 && same_conf) {
            snprintf(why, WD_REASON_MAX, "microphone %s: held by module %s", g->device, o->name);
            return false;
        }
    }
    if (!(mic->pcm = strdup(pcm))) {
        snprintf(why, WD_REASON_MAX, "out of memory");
        return false;
    }
    mic->claimed = true;
    return true;
}

bool wd_hw_acquire(wd_instance *in, const wr_module *m, char *why) {
    const cfg_manifest *mf = in->manifest;
    why[0] = '\0';
    if (wd_validate_capabilities(m, mf, first_problem, why) > 0)
        return false;
    if (!mf->ngpio && !mf->ni2c && !mf->mic.device)
        return true;
    wd_hw_run *hw = calloc(1, sizeof *hw);
    if (hw) {
        hw->gpio = calloc(mf->ngpio + 1, sizeof *hw->gpio);
        hw->bus = calloc(mf->ni2c + 1, sizeof *hw->bus);
    }
    if (!hw || !hw->gpio || !hw->bus) {
        if (hw) {
            free(hw->gpio);
            free(hw->bus);
        }
        free(hw);
        snprintf(why, WD_REASON_MAX, "out of memory");
        return false;
    }
    hw->ngpio = mf->ngpio;
    hw->nbus = mf->ni2c;
    in->hw = hw;
    if (!claim_gpio(in, why) || (mf->mic.device && !claim_mic(in, why))) {
        wd_hw_release(in);
        return false;
    }
    return true;
}

static void mic_close(wd_instance *in) {
    mic_state *mic = &in->hw->mic;
    for (unsigned i = 0; i < mic->npolls; i++)
        hw_handle_close(&mic->polls[i]);
    mic->npolls = 0;
    hw_handle_close(&mic->pace);
    hal_mic_close_stream(mic->stream);
    mic->stream = NULL;
    free(mic->ring);
    mic->ring = NULL;
    mic->head = mic->count = 0;
    wd_instance_drop_event(in, WD_EVENT_MIC_PERIOD, 0);
}

void wd_hw_release(wd_instance *in) {
    wd_hw_run *hw = in->hw;
    if (!hw)
        return;
    hw->wait = WAIT_NONE;
    hw_handle_close(&hw->wait_timer);
    for (size_t i = 0; i < hw->ngpio; i++) {
        hw_handle_close(&hw->gpio[i].poll);
        hal_gpio_release(hw->gpio[i].line); /* drives an output to its safe value first */
    }
    for (size_t i = 0; i < hw->nbus; i++)
        hal_i2c_close_bus(hw->bus[i]);
    mic_close(in);
    free(hw->mic.pcm);
    free(hw->gpio);
    free(hw->bus);
    free(hw);
    in->hw = NULL;
}

/* ---- GPIO --------------------------------------------------------------- */

/* The slot of an open handle, or NULL. */
static gpio_slot *gpio_slot_of(wd_instance *in, uint32_t handle) {
    if (!in->hw || handle >= in->hw->ngpio || !in->hw->gpio[handle].open)
        return NULL;
    return &in->hw->gpio[handle];
}

static bool edges_to_handler(const wd_instance *in) {
    return in->reactor && in->on_gpio_edge;
}

static void on_edge(uv_poll_t *p, int status, int events) {
    (void)events;
    hw_handle *h = wd_container_of(p, hw_handle, u.poll);
    wd_instance *in = h->in;
    gpio_slot *s = &in->hw->gpio[h->index];
    hal_gpio_event ev;
    hal_status st = HAL_OK;
    while (status == 0 && (st = hal_gpio_read_event(s->line, &ev)) == HAL_OK) {
        wd_hw_run *hw = in->hw;
        if (hw->wait == WAIT_EDGE && hw->wait_handle == h->index) {
            uint8_t *out = wd_guest_bytes(in->exec, hw->wait_ptr, EVENT_SIZE);
            if (out)
                put_event(out, &ev);
            wait_finish(in, out ? WASMD_OK : WASMD_EFAULT);
        } else if (edges_to_handler(in)) {
            if (s->open)
                wd_instance_post(in, &(wd_event){ .kind = WD_EVENT_GPIO_EDGE, .id = h->index,
                                                  .edge = ev.type == HAL_GPIO_RISING_EDGE ? WASMD_GPIO_RISING
                                                                                          : WASMD_GPIO_FALLING,
                                                  .timestamp_ns = ev.timestamp_ns });
        } else {
            if (s->count == WD_GPIO_EDGE_QUEUE) {
                s->head = (s->head + 1) % WD_GPIO_EDGE_QUEUE;
                s->count--;
                if (s->dropped++ == 0)
                    wd_instance_event(in, "gpio %s: more than %u edges not waited for: dropping the oldest",
                                      s->grant->label, WD_GPIO_EDGE_QUEUE);
            }
            s->queue[(s->head + s->count++) % WD_GPIO_EDGE_QUEUE] = ev;
        }
    }
    if (status < 0 || (st != HAL_OK && st != HAL_ERR_AGAIN)) {
        wd_instance_event(in, "gpio %s: reading edges failed (%s): no more edges from this line", s->grant->label,
                          status < 0 ? uv_strerror(status) : hal_status_message(st));
        hw_handle_close(&s->poll);
    }
}

static wasmd_error gpio_request(wd_instance *in, wr_exec *exec, uint32_t ptr, uint32_t len, int32_t direction,
                                uint32_t handle_ptr) {
    const uint8_t *label = wd_guest_bytes(exec, ptr, len);
    if (!label || !wd_guest_bytes(exec, handle_ptr, 4))
        return WASMD_EFAULT;
    if (direction != WASMD_GPIO_INPUT && direction != WASMD_GPIO_OUTPUT)
        return WASMD_EINVAL;
    char shown[CFG_MAX_LABEL + 2];
    wd_printable(label, len, shown, sizeof shown);
    const char *dir = direction == WASMD_GPIO_OUTPUT ? "output" : "input";
    gpio_slot *s = NULL;
    for (size_t i = 0; in->hw && i < in->hw->ngpio && !s; i++)
        if (strlen(in->hw->gpio[i].grant->label) == len && memcmp(in->hw->gpio[i].grant->label, label, len) == 0)
            s = &in->hw->gpio[i];
    if (!s)
        return deny(in, WD_CAP_GPIO, "request of line '%s' as %s: no such label in the manifest", shown, dir);
    int want = direction == WASMD_GPIO_OUTPUT ? HAL_GPIO_OUTPUT : HAL_GPIO_INPUT;
    if (s->grant->direction != want)
        return deny(in, WD_CAP_GPIO, "request of line '%s' as %s: granted as %s only", shown, dir,
                    hal_gpio_direction_string((hal_gpio_direction)s->grant->direction));
    if (s->open)
        return WASMD_EBUSY;
    s->open = true;
    return store_u32(exec, handle_ptr, (uint32_t)(s - in->hw->gpio));
}

wr_status wd_host_gpio_request(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    results[0] = (uint32_t)gpio_request(env, exec, (uint32_t)args[0], (uint32_t)args[1], (int32_t)args[2],
                                        (uint32_t)args[3]);
    return WR_OK;
}

wr_status wd_host_gpio_set(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    (void)exec;
    wd_instance *in = env;
    gpio_slot *s = gpio_slot_of(in, (uint32_t)args[0]);
    int32_t value = (int32_t)args[1];
    if (!s)
        results[0] = WASMD_ENOENT;
    else if (value != 0 && value != 1)
        results[0] = WASMD_EINVAL;
    else if (s->grant->direction != HAL_GPIO_OUTPUT)
        results[0] = deny(in, WD_CAP_GPIO, "set line '%s' to %d: it is granted as an input", s->grant->label,
                          value);
    else
        results[0] = from_hal(hal_gpio_set(s->line, value));
    return WR_OK;
}

wr_status wd_host_gpio_get(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    gpio_slot *s = gpio_slot_of(env, (uint32_t)args[0]);
    int value = 0;
    if (!s) {
        results[0] = WASMD_ENOENT;
    } else if (!wd_guest_bytes(exec, (uint32_t)args[1], 4)) {
        results[0] = WASMD_EFAULT;
    } else {
        hal_status st = hal_gpio_get(s->line, &value);
        results[0] = st == HAL_OK ? store_u32(exec, (uint32_t)args[1], (uint32_t)value) : from_hal(st);
    }
    return WR_OK;
}

wr_status wd_host_gpio_wait_edge(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    wd_instance *in = env;
    uint32_t handle = (uint32_t)args[0], ptr = (uint32_t)args[2];
    int32_t timeout_ms = (int32_t)args[1];
    gpio_slot *s = gpio_slot_of(in, handle);
    uint8_t *out = wd_guest_bytes(exec, ptr, EVENT_SIZE);
    if (!s) {
        results[0] = WASMD_ENOENT;
    } else if (s->grant->edge == HAL_GPIO_EDGE_NONE) {
        results[0] = deny(in, WD_CAP_GPIO, "wait for an edge of line '%s': granted without edge detection",
                          s->grant->label);
    } else if (edges_to_handler(in)) {
        results[0] = WASMD_ESTATE;
    } else if (!out) {
        results[0] = WASMD_EFAULT;
    } else if (s->count > 0) {
        put_event(out, &s->queue[s->head]);
        s->head = (s->head + 1) % WD_GPIO_EDGE_QUEUE;
        s->count--;
        results[0] = WASMD_OK;
    } else if (timeout_ms == 0 || !s->poll) {
        results[0] = WASMD_ETIMEDOUT;
    } else {
        in->hw->wait_ptr = ptr;
        return park(in, WAIT_EDGE, handle, timeout_ms, results);
    }
    return WR_OK;
}

wr_status wd_host_gpio_release(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    (void)exec;
    wd_instance *in = env;
    gpio_slot *s = gpio_slot_of(in, (uint32_t)args[0]);
    if (!s) {
        results[0] = WASMD_ENOENT;
        return WR_OK;
    }
    s->open = false;
    /* The line stays the run's until it ends; an output goes back to its safe value now. */
    hal_status st = HAL_OK;
    if (s->grant->direction == HAL_GPIO_OUTPUT)
        st = hal_gpio_set(s->line, (int)s->grant->safe_value);
    (void)wd_instance_drop_event(in, WD_EVENT_GPIO_EDGE, (uint32_t)args[0]);
    results[0] = from_hal(st);
    return WR_OK;
}

/* ---- I2C ---------------------------------------------------------------- */

/* The grant of an open bus handle, or NULL. */
static const cfg_i2c_grant *i2c_grant_of(wd_instance *in, uint32_t handle) {
    if (!in->hw || handle >= in->hw->nbus || !in->hw->bus[handle])
        return NULL;
    return &in->manifest->i2c[handle];
}

wr_status wd_host_i2c_open(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    wd_instance *in = env;
    uint32_t bus = (uint32_t)args[0], handle_ptr = (uint32_t)args[1];
    size_t i = 0;
    while (in->hw && i < in->hw->nbus && in->manifest->i2c[i].bus != bus)
        i++;
    if (!wd_guest_bytes(exec, handle_ptr, 4)) {
        results[0] = WASMD_EFAULT;
    } else if (!in->hw || i == in->hw->nbus) {
        results[0] = deny(in, WD_CAP_I2C, "open of bus %u: not granted", bus);
    } else if (in->hw->bus[i]) {
        results[0] = WASMD_EBUSY;
    } else {
        hal_status st = hal_i2c_open_bus(in->daemon->i2c, bus, &in->hw->bus[i]);
        if (st != HAL_OK)
            wd_instance_event(in, "i2c: cannot open bus %u: %s", bus, hal_status_message(st));
        results[0] = st == HAL_OK ? store_u32(exec, handle_ptr, (uint32_t)i) : from_hal(st);
    }
    return WR_OK;
}

wr_status wd_host_i2c_close(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    (void)exec;
    wd_instance *in = env;
    uint32_t h = (uint32_t)args[0];
    if (!i2c_grant_of(in, h)) {
        results[0] = WASMD_ENOENT;
        return WR_OK;
    }
    hal_i2c_close_bus(in->hw->bus[h]);
    in->hw->bus[h] = NULL;
    results[0] = WASMD_OK;
    return WR_OK;
}

/*
 * Checks a transfer against the grant of handle `h`: WASMD_OK with *ret_bus,
 * or the error (a denial is logged with `what`, e.g. "write of 2 bytes").
 */
static wasmd_error i2c_check(wd_instance *in, uint32_t h, uint32_t addr, bool writes, const char *what,
                             hal_i2c_bus **ret_bus) {
    const cfg_i2c_grant *g = i2c_grant_of(in, h);
    if (!g)
        return WASMD_ENOENT;
    bool listed = false;
    for (size_t i = 0; i < g->naddresses && !listed; i++)
        listed = g->addresses[i] == addr;
    if (!listed)
        return deny(in, WD_CAP_I2C, "%s at address 0x%02x on bus %u: address not granted", what, addr, g->bus);
    if (writes && g->read_only)
        return deny(in, WD_CAP_I2C, "%s at address 0x%02x on bus %u: the grant is read-only", what, addr, g->bus);
    *ret_bus = in->hw->bus[h];
    return WASMD_OK;
}

static bool i2c_len_ok(uint32_t len) {
    return len >= 1 && len <= WASMD_I2C_MAX_LEN;
}

wr_status wd_host_i2c_write(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    uint32_t h = (uint32_t)args[0], addr = (uint32_t)args[1], ptr = (uint32_t)args[2], len = (uint32_t)args[3];
    hal_i2c_bus *bus;
    uint8_t *buf = wd_guest_bytes(exec, ptr, len);
    wasmd_error e = i2c_check(env, h, addr, true, "write", &bus);
    if (e == WASMD_OK)
        e = !i2c_len_ok(len) ? WASMD_EINVAL : !buf ? WASMD_EFAULT : from_hal(hal_i2c_write(bus, (uint16_t)addr, buf, len));
    results[0] = (uint32_t)e;
    return WR_OK;
}

wr_status wd_host_i2c_read(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    uint32_t h = (uint32_t)args[0], addr = (uint32_t)args[1], ptr = (uint32_t)args[2], len = (uint32_t)args[3];
    hal_i2c_bus *bus;
    uint8_t *buf = wd_guest_bytes(exec, ptr, len);
    wasmd_error e = i2c_check(env, h, addr, false, "read", &bus);
    if (e == WASMD_OK)
        e = !i2c_len_ok(len) ? WASMD_EINVAL : !buf ? WASMD_EFAULT : from_hal(hal_i2c_read(bus, (uint16_t)addr, buf, len));
    results[0] = (uint32_t)e;
    return WR_OK;
}

wr_status wd_host_i2c_write_read(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    uint32_t h = (uint32_t)args[0], addr = (uint32_t)args[1];
    uint32_t wptr = (uint32_t)args[2], wlen = (uint32_t)args[3], rptr = (uint32_t)args[4], rlen = (uint32_t)args[5];
    hal_i2c_bus *bus;
    uint8_t *wbuf = wd_guest_bytes(exec, wptr, wlen), *rbuf = wd_guest_bytes(exec, rptr, rlen);
    /* The write selects a register to read: allowed on a read-only grant. */
    wasmd_error e = i2c_check(env, h, addr, false, "write-then-read", &bus);
    if (e == WASMD_OK)
        e = !i2c_len_ok(wlen) || !i2c_len_ok(rlen) ? WASMD_EINVAL
            : !wbuf || !rbuf                        ? WASMD_EFAULT
                                                    : from_hal(hal_i2c_write_read(bus, (uint16_t)addr, wbuf, wlen, rbuf, rlen));
    results[0] = (uint32_t)e;
    return WR_OK;
}

wr_status wd_host_i2c_read_byte_data(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    uint32_t h = (uint32_t)args[0], addr = (uint32_t)args[1], reg = (uint32_t)args[2], ptr = (uint32_t)args[3];
    hal_i2c_bus *bus;
    uint8_t *out = wd_guest_bytes(exec, ptr, 1), v = 0;
    wasmd_error e = i2c_check(env, h, addr, false, "SMBus byte read", &bus);
    if (e == WASMD_OK) {
        e = reg > 0xff ? WASMD_EINVAL : !out ? WASMD_EFAULT
            : from_hal(hal_i2c_smbus_read_byte_data(bus, (uint16_t)addr, (uint8_t)reg, &v));
        if (e == WASMD_OK)
            *out = v;
    }
    results[0] = (uint32_t)e;
    return WR_OK;
}

wr_status wd_host_i2c_read_word_data(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    uint32_t h = (uint32_t)args[0], addr = (uint32_t)args[1], reg = (uint32_t)args[2], ptr = (uint32_t)args[3];
    hal_i2c_bus *bus;
    uint8_t *out = wd_guest_bytes(exec, ptr, 2);
    uint16_t v = 0;
    wasmd_error e = i2c_check(env, h, addr, false, "SMBus word read", &bus);
    if (e == WASMD_OK) {
        e = reg > 0xff ? WASMD_EINVAL : !out ? WASMD_EFAULT
            : from_hal(hal_i2c_smbus_read_word_data(bus, (uint16_t)addr, (uint8_t)reg, &v));
        if (e == WASMD_OK) {
            out[0] = (uint8_t)v;
            out[1] = (uint8_t)(v >> 8);
        }
    }
    results[0] = (uint32_t)e;
    return WR_OK;
}

wr_status wd_host_i2c_write_byte_data(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    (void)exec;
    uint32_t h = (uint32_t)args[0], addr = (uint32_t)args[1], reg = (uint32_t)args[2], value = (uint32_t)args[3];
    hal_i2c_bus *bus;
    wasmd_error e = i2c_check(env, h, addr, true, "SMBus byte write", &bus);
    if (e == WASMD_OK)
        e = reg > 0xff || value > 0xff ? WASMD_EINVAL
            : from_hal(hal_i2c_smbus_write_byte_data(bus, (uint16_t)addr, (uint8_t)reg, (uint8_t)value));
    results[0] = (uint32_t)e;
    return WR_OK;
}

wr_status wd_host_i2c_write_word_data(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    (void)exec;
    uint32_t h = (uint32_t)args[0], addr = (uint32_t)args[1], reg = (uint32_t)args[2], value = (uint32_t)args[3];
    hal_i2c_bus *bus;
    wasmd_error e = i2c_check(env, h, addr, true, "SMBus word write", &bus);
    if (e == WASMD_OK)
        e = reg > 0xff || value > 0xffff ? WASMD_EINVAL
            : from_hal(hal_i2c_smbus_write_word_data(bus, (uint16_t)addr, (uint8_t)reg, (uint16_t)value));
    results[0] = (uint32_t)e;
    return WR_OK;
}

/* ---- Microphone --------------------------------------------------------- */

uint32_t wd_hw_mic_available(wd_instance *in) {
    if (!in->hw || !in->hw->mic.stream)
        return 0;
    const mic_state *mic = &in->hw->mic;
    uint32_t frames = 0;
    for (uint32_t i = 0; i < mic->count; i++)
        frames += mic->ring_frames[(mic->head + i) % WASMD_MIC_QUEUE_PERIODS];
    return frames;
}

/* Copies whole queued periods, at most max_frames frames, to `out`; returns the frames copied. */
static uint32_t mic_take(mic_state *mic, uint8_t *out, uint32_t max_frames) {
    unsigned ch = mic->stream->channels;
    size_t period_samples = (size_t)mic->stream->period_frames * ch;
    uint32_t done = 0;
    while (mic->count > 0 && done + mic->ring_frames[mic->head] <= max_frames) {
        uint32_t f = mic->ring_frames[mic->head];
        const int16_t *src = mic->ring + (size_t)mic->head * period_samples;
        /* Guest memory is little-endian and may be unaligned: store byte by byte. */
        for (size_t k = 0; k < (size_t)f * ch; k++) {
            uint8_t *p = out + ((size_t)done * ch + k) * 2;
            p[0] = (uint8_t)src[k];
            p[1] = (uint8_t)((uint16_t)src[k] >> 8);
        }
        done += f;
        mic->head = (mic->head + 1) % WASMD_MIC_QUEUE_PERIODS;
        mic->count--;
    }
    return done;
}

/* New audio is queued: completes a parked read, or tells a reactor's handler. */
static void mic_deliver(wd_instance *in) {
    wd_hw_run *hw = in->hw;
    mic_state *mic = &hw->mic;
    if (mic->count == 0)
        return;
    if (hw->wait == WAIT_MIC) {
        size_t bytes = (size_t)hw->wait_max * mic->stream->channels * 2;
        uint8_t *out = wd_guest_bytes(in->exec, hw->wait_ptr, bytes);
        uint8_t *ret = wd_guest_bytes(in->exec, hw->wait_ret_ptr, 4);
        if (!out || !ret) {
            wait_finish(in, WASMD_EFAULT);
            return;
        }
        put_u32(ret, mic_take(mic, out, hw->wait_max));
        wait_finish(in, WASMD_OK);
    } else if (in->reactor && in->on_mic_period) {
        wd_instance_post(in, &(wd_event){ .kind = WD_EVENT_MIC_PERIOD, .id = 0 });
    }
}

/* Reads up to `max_periods` captured periods into the ring (the oldest go when it is full). */
static hal_status mic_pump(wd_instance *in, uint64_t max_periods) {
    mic_state *mic = &in->hw->mic;
    size_t period_samples = (size_t)mic->stream->period_frames * mic->stream->channels;
    uint64_t overruns = hal_mic_get_stats(mic->stream).overruns;
    hal_status st = HAL_OK;
    for (uint64_t n = 0; n < max_periods; n++) {
        if (mic->count == WASMD_MIC_QUEUE_PERIODS) {
            mic->head = (mic->head + 1) % WASMD_MIC_QUEUE_PERIODS;
            mic->count--;
            if (mic->dropped++ == 0)
                wd_instance_event(in, "microphone: audio not read in time: dropping the oldest periods");
        }
        uint32_t slot = (mic->head + mic->count) % WASMD_MIC_QUEUE_PERIODS;
        size_t got = 0;
        st = hal_mic_read(mic->stream, mic->ring + slot * period_samples, mic->stream->period_frames, &got);
        if (st != HAL_OK || got == 0)
            break;
        mic->ring_frames[slot] = (uint32_t)got;
        mic->count++;
        mic->frames_in += got;
    }
    uint64_t now_overruns = hal_mic_get_stats(mic->stream).overruns;
    if (now_overruns > overruns)
        wd_instance_event(in, "microphone: overrun, some audio lost and capture restarted (%llu so far)",
                          (unsigned long long)now_overruns);
    mic_deliver(in);
    return st;
}

static void mic_failed(wd_instance *in, hal_status st) {
    wd_instance_event(in, "microphone: capture failed (%s): closed", hal_status_message(st));
    mic_close(in);
    if (in->hw->wait == WAIT_MIC)
        wait_finish(in, WASMD_EIO);
}

static void on_mic_poll(uv_poll_t *p, int status, int events) {
    hw_handle *h = wd_container_of(p, hw_handle, u.poll);
    wd_instance *in = h->in;
    mic_state *mic = &in->hw->mic;
    for (unsigned i = 0; i < mic->npolls; i++)
        mic->pfds[i].revents = 0;
    if (status < 0)
        mic->pfds[h->index].revents = POLLERR;
    else
        mic->pfds[h->index].revents = (short)((events & UV_READABLE ? POLLIN : 0) | (events & UV_WRITABLE ? POLLOUT : 0));
    unsigned short rev = 0;
    hal_status st = hal_mic_poll_revents(mic->stream, mic->pfds, mic->npolls, &rev);
    /* At most a queue's worth per wake-up: a source that is always ready must not hold the loop. */
    if (st == HAL_OK && (rev & (POLLIN | POLLERR)))
        st = mic_pump(in, WASMD_MIC_QUEUE_PERIODS);
    if (st != HAL_OK && st != HAL_ERR_AGAIN)
        mic_failed(in, st);
}

/*
 * The timer of a stream not driven by poll descriptors, once per period:
 * realtime reads what the sample rate says has been captured since the
 * stream opened; a device without descriptors, what it has (at most a
 * queue's worth).
 */
static void on_mic_pace(uv_timer_t *t) {
    hw_handle *h = wd_container_of(t, hw_handle, u.timer);
    wd_instance *in = h->in;
    mic_state *mic = &in->hw->mic;
    if (!mic->realtime) {
        hal_status st = mic_pump(in, WASMD_MIC_QUEUE_PERIODS);
        if (st != HAL_OK && st != HAL_ERR_AGAIN)
            mic_failed(in, st);
        return;
    }
    /* Whole seconds apart: elapsed ns * rate would wrap after 4.4 days at 48 kHz. */
    uint64_t elapsed = wd_now_ns() - mic->started_ns, rate = mic->stream->rate;
    uint64_t due = elapsed / 1000000000ull * rate + elapsed % 1000000000ull * rate / 1000000000ull;
    if (due <= mic->frames_in)
        return;
    uint64_t periods = (due - mic->frames_in) / mic->stream->period_frames;
    if (periods > WASMD_MIC_QUEUE_PERIODS)
        periods = WASMD_MIC_QUEUE_PERIODS;
    hal_status st = periods ? mic_pump(in, periods) : HAL_OK;
    if (st != HAL_OK && st != HAL_ERR_AGAIN)
        mic_failed(in, st);
}

/*
 * Polls the stream's descriptors in the loop; false (nothing left behind)
 * when there are none or epoll refuses one (ALSA's null plugin offers
 * /dev/full): the stream is then read on a timer.
 */
static bool mic_watch(wd_instance *in) {
    mic_state *mic = &in->hw->mic;
    int n = hal_mic_poll_descriptors(mic->stream, mic->pfds, WD_MIC_MAX_FDS);
    bool ok = n > 0;
    for (int i = 0; ok && i < n; i++) {
        short want = mic->pfds[i].events;
        int ev = (want & POLLIN ? UV_READABLE : 0) | (want & POLLOUT ? UV_WRITABLE : 0);
        ok = (mic->polls[i] = hw_poll_new(in, mic->pfds[i].fd, (unsigned)i)) != NULL;
        if (ok) {
            mic->npolls = (unsigned)i + 1;
            ok = uv_poll_start(&mic->polls[i]->u.poll, ev ? ev : UV_READABLE, on_mic_poll) == 0;
        }
    }
    if (!ok) {
        for (unsigned i = 0; i < mic->npolls; i++)
            hw_handle_close(&mic->polls[i]);
        mic->npolls = 0;
    }
    return ok;
}

/* Reads an ALSA configuration file (at most HAL_MIC_MAX_CONF bytes); NULL with errno set. */
static char *read_conf(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char *buf = malloc(HAL_MIC_MAX_CONF + 1);
    size_t n = buf ? fread(buf, 1, HAL_MIC_MAX_CONF + 1, f) : 0;
    int bad = ferror(f) || n > HAL_MIC_MAX_CONF;
    fclose(f);
    if (!buf || bad) {
        free(buf);
        errno = buf ? EFBIG : ENOMEM;
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

static wasmd_error mic_open(wd_instance *in, wr_exec *exec, uint32_t handle_ptr, uint32_t info_ptr) {
    const cfg_mic_grant *g = &in->manifest->mic;
    if (!wd_guest_bytes(exec, handle_ptr, 4) || (info_ptr && !wd_guest_bytes(exec, info_ptr, 12)))
        return WASMD_EFAULT;
    if (!in->hw || !in->hw->mic.claimed)
        return deny(in, WD_CAP_MIC, "open: no microphone granted");
    mic_state *mic = &in->hw->mic;
    if (mic->stream)
        return WASMD_EBUSY;
    char *conf = NULL;
    if (mic->conf_path && !(conf = read_conf(mic->conf_path))) {
        wd_instance_event(in, "microphone %s: cannot read %s: %s", g->device, mic->conf_path, strerror(errno));
        return WASMD_EIO;
    }
    hal_mic_config cfg = { .pcm = mic->pcm, .alsa_conf = conf, .rate = g->rate, .channels = g->channels,
                           .period_frames = g->period_frames };
    hal_status st = hal_mic_open(in->daemon->mic, &cfg, &mic->stream);
    free(conf);
    if (st != HAL_OK) {
        wd_instance_event(in, "microphone %s: cannot open %s (%u Hz, %u channels, %u frames per period): %s",
                          g->device, mic->pcm, g->rate, g->channels, g->period_frames, hal_status_message(st));
        return from_hal(st);
    }
    size_t period_samples = (size_t)mic->stream->period_frames * mic->stream->channels;
    mic->ring = calloc(WASMD_MIC_QUEUE_PERIODS * period_samples, sizeof *mic->ring);
    mic->started_ns = wd_now_ns();
    mic->frames_in = 0;
    bool ok = mic->ring != NULL;
    bool polled = false;
    if (ok && !mic->realtime)
        polled = mic_watch(in);
    if (ok && !polled) {
        uint64_t ms = (uint64_t)mic->stream->period_frames * 1000 / mic->stream->rate;
        ok = (mic->pace = hw_timer_new(in)) != NULL;
        if (ok)
            uv_timer_start(&mic->pace->u.timer, on_mic_pace, ms ? ms : 1, ms ? ms : 1);
    }
    if (!ok) {
        wd_instance_event(in, "microphone %s: cannot watch the capture stream", g->device);
        mic_close(in);
        return WASMD_EIO;
    }
    if (info_ptr) {
        uint8_t *p = wd_guest_bytes(exec, info_ptr, 12);
        put_u32(p, mic->stream->rate);
        put_u32(p + 4, mic->stream->channels);
        put_u32(p + 8, mic->stream->period_frames);
    }
    return store_u32(exec, handle_ptr, 0);
}

wr_status wd_host_mic_open(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    results[0] = (uint32_t)mic_open(env, exec, (uint32_t)args[0], (uint32_t)args[1]);
    return WR_OK;
}

wr_status wd_host_mic_read(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    wd_instance *in = env;
    uint32_t h = (uint32_t)args[0], ptr = (uint32_t)args[1], max_frames = (uint32_t)args[2], ret_ptr = (uint32_t)args[3];
    mic_state *mic = in->hw ? &in->hw->mic : NULL;
    if (h != 0 || !mic || !mic->stream) {
        results[0] = WASMD_ENOENT;
        return WR_OK;
    }
    uint8_t *out = wd_guest_bytes(exec, ptr, (uint64_t)max_frames * mic->stream->channels * 2);
    uint8_t *ret = wd_guest_bytes(exec, ret_ptr, 4);
    if (max_frames < mic->stream->period_frames) {
        results[0] = WASMD_EINVAL;
    } else if (!out || !ret) {
        results[0] = WASMD_EFAULT;
    } else if (mic->count > 0) {
        put_u32(ret, mic_take(mic, out, max_frames));
        results[0] = WASMD_OK;
    } else {
        in->hw->wait_ptr = ptr;
        in->hw->wait_max = max_frames;
        in->hw->wait_ret_ptr = ret_ptr;
        return park(in, WAIT_MIC, h, -1, results);
    }
    return WR_OK;
}

wr_status wd_host_mic_close(wr_exec *exec, void *env, const uint64_t *args, uint64_t *results) {
    (void)exec;
    wd_instance *in = env;
    if ((uint32_t)args[0] != 0 || !in->hw || !in->hw->mic.stream) {
        results[0] = WASMD_ENOENT;
        return WR_OK;
    }
    mic_close(in);
    results[0] = WASMD_OK;
    return WR_OK;
}

/* ---- Status ------------------------------------------------------------- */

void wd_hw_describe(const wd_instance *in, void *array) {
    const wd_hw_run *hw = in->hw;
    char line[256];
    for (size_t i = 0; hw && i < hw->ngpio; i++) {
        const gpio_slot *s = &hw->gpio[i];
        const cfg_gpio_grant *g = s->grant;
        int n = snprintf(line, sizeof line, "gpio %s: %s line %u, %s", g->label, g->chip, g->line,
                         hal_gpio_direction_string((hal_gpio_direction)g->direction));
        if (g->edge != HAL_GPIO_EDGE_NONE)
            n += snprintf(line + n, sizeof line - (size_t)n, ", %s edges, %u queued, %llu dropped",
                          hal_gpio_edge_string((hal_gpio_edge)g->edge), s->count, (unsigned long long)s->dropped);
        snprintf(line + n, sizeof line - (size_t)n, ", %s", s->open ? "open" : "not opened by the module");
        cJSON_AddItemToArray(array, cJSON_CreateString(line));
    }
    for (size_t i = 0; hw && i < hw->nbus; i++) {
        const cfg_i2c_grant *g = &in->manifest->i2c[i];
        int n = snprintf(line, sizeof line, "i2c bus %u: address%s", g->bus, g->naddresses > 1 ? "es" : "");
        for (size_t k = 0; k < g->naddresses && n < (int)sizeof line - 8; k++)
            n += snprintf(line + n, sizeof line - (size_t)n, "%s0x%02x", k ? ", " : " ", g->addresses[k]);
        snprintf(line + n, sizeof line - (size_t)n, "%s, %s", g->read_only ? ", read-only" : "",
                 hw->bus[i] ? "open" : "not opened by the module");
        cJSON_AddItemToArray(array, cJSON_CreateString(line));
    }
    if (hw && hw->mic.claimed) {
        const mic_state *mic = &hw->mic;
        const cfg_mic_grant *g = &in->manifest->mic;
        if (mic->stream) {
            hal_mic_stats st = hal_mic_get_stats(mic->stream);
            snprintf(line, sizeof line,
                     "microphone %s (%s): open, %u Hz, %u channel%s, %u-frame periods; %llu frames captured, "
                     "%llu overruns, %llu periods dropped",
                     g->device, mic->pcm, mic->stream->rate, mic->stream->channels, mic->stream->channels > 1 ? "s" : "",
                     mic->stream->period_frames, (unsigned long long)st.frames, (unsigned long long)st.overruns,
                     (unsigned long long)mic->dropped);
        } else {
            snprintf(line, sizeof line, "microphone %s (%s): not opened by the module", g->device, mic->pcm);
        }
        cJSON_AddItemToArray(array, cJSON_CreateString(line));
    }
}

/* ---- The `sim` control verb --------------------------------------------- */

/* A number field of the request in lo..hi; false when missing or out of range. */
static bool num_field(const cJSON *req, const char *name, double lo, double hi, long *ret) {
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(req, name);
    if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi || v->valuedouble != (long)v->valuedouble)
        return false;
    *ret = (long)v->valuedouble;
    return true;
}

static wd_proto_status sim_status(hal_status st, char *why, const char *what) {
    snprintf(why, WD_REASON_MAX, "%s: %s", what, hal_status_message(st));
    switch (st) {
    case HAL_ERR_NO_DEVICE:
    case HAL_ERR_NO_LINE:   return WD_PROTO_NOT_FOUND;
    case HAL_ERR_DIRECTION:
    case HAL_ERR_NOT_SUPPORTED: return WD_PROTO_CONFLICT;
    case HAL_ERR_INVALID:   return WD_PROTO_BAD_REQUEST;
    default:                return WD_PROTO_INTERNAL;
    }
}

static wd_proto_status sim_gpio(wd_daemon *d, const cJSON *req, cJSON *resp, const char *op, char *why) {
    if (d->cfg->gpio_backend != CFG_GPIO_SIM) {
        snprintf(why, WD_REASON_MAX, "the daemon's GPIO backend is not simulated (hardware.gpio.backend: sim)");
        return WD_PROTO_CONFLICT;
    }
    const cJSON *chip = cJSON_GetObjectItemCaseSensitive(req, WD_F_CHIP);
    long line, value = 0;
    bool set = strcmp(op, "set") == 0;
    if (!cJSON_IsString(chip) || !num_field(req, WD_F_GPIO_LINE, 0, HAL_GPIO_SIM_MAX_LINES, &line) ||
        (set && !num_field(req, WD_F_VALUE, 0, 1, &value)) || (!set && strcmp(op, "get") != 0)) {
        snprintf(why, WD_REASON_MAX, "sim gpio needs op set or get, chip, line and (set) value 0 or 1");
        return WD_PROTO_BAD_REQUEST;
    }
    char what[96];
    snprintf(what, sizeof what, "%.40s line %ld", chip->valuestring, line);
    hal_status st = set ? hal_gpio_sim_set_input(d->gpio, chip->valuestring, (unsigned)line, (int)value) : HAL_OK;
    if (st == HAL_ERR_DIRECTION) {
        snprintf(why, WD_REASON_MAX, "%s is held as an output: only a module drives it", what);
        return WD_PROTO_CONFLICT;
    }
    hal_gpio_sim_line state;
    if (st == HAL_OK)
        st = hal_gpio_sim_get_line(d->gpio, chip->valuestring, (unsigned)line, &state);
    if (st != HAL_OK)
        return sim_status(st, why, what);
    cJSON_AddStringToObject(resp, WD_F_CHIP, chip->valuestring);
    cJSON_AddNumberToObject(resp, WD_F_GPIO_LINE, (double)line);
    cJSON_AddNumberToObject(resp, WD_F_LEVEL, state.level);
    cJSON_AddBoolToObject(resp, WD_F_HELD, state.held);
    if (state.held)
        cJSON_AddStringToObject(resp, WD_F_DIRECTION, hal_gpio_direction_string(state.direction));
    cJSON_AddNumberToObject(resp, WD_F_CHANGED_NS, (double)state.changed_ns);
    return WD_PROTO_OK;
}

static wd_proto_status sim_i2c(wd_daemon *d, const cJSON *req, cJSON *resp, const char *op, char *why) {
    if (d->cfg->i2c_backend != CFG_I2C_SIM) {
        snprintf(why, WD_REASON_MAX, "the daemon's I2C backend is not simulated (hardware.i2c.backend: sim)");
        return WD_PROTO_CONFLICT;
    }
    long bus, addr, reg = 0, value = 0;
    if (!num_field(req, WD_F_BUS, 0, HAL_I2C_MAX_BUS, &bus) || !num_field(req, WD_F_ADDRESS, 0x03, 0x77, &addr)) {
        snprintf(why, WD_REASON_MAX, "sim i2c needs bus (0..%u) and address (0x03..0x77)", HAL_I2C_MAX_BUS);
        return WD_PROTO_BAD_REQUEST;
    }
    char what[64];
    snprintf(what, sizeof what, "bus %ld address 0x%02lx", bus, addr);
    hal_status st;
    if (strcmp(op, "temperature") == 0) {
        if (!num_field(req, WD_F_MILLICELSIUS, -55000, 150000, &value)) {
            snprintf(why, WD_REASON_MAX, "sim i2c temperature needs millicelsius (-55000..150000)");
            return WD_PROTO_BAD_REQUEST;
        }
        st = hal_i2c_sim_set_temperature(d->i2c, (unsigned)bus, (uint8_t)addr, (int32_t)value);
    } else if (strcmp(op, "get") == 0 || strcmp(op, "set") == 0) {
        bool set = op[0] == 's';
        if (!num_field(req, WD_F_REGISTER, 0, HAL_I2C_SIM_MAX_REGS - 1, &reg) ||
            (set && !num_field(req, WD_F_VALUE, 0, 0xffff, &value))) {
            snprintf(why, WD_REASON_MAX, "sim i2c %s needs register (0..%u)%s", op, HAL_I2C_SIM_MAX_REGS - 1,
                     set ? " and value (0..65535)" : "");
            return WD_PROTO_BAD_REQUEST;
        }
        uint16_t v = (uint16_t)value;
        st = set ? hal_i2c_sim_set_register(d->i2c, (unsigned)bus, (uint8_t)addr, (unsigned)reg, v)
                 : hal_i2c_sim_get_register(d->i2c, (unsigned)bus, (uint8_t)addr, (unsigned)reg, &v);
        value = v;
        if (st == HAL_OK) {
            cJSON_AddNumberToObject(resp, WD_F_REGISTER, (double)reg);
            cJSON_AddNumberToObject(resp, WD_F_VALUE, (double)value);
        }
    } else {
        snprintf(why, WD_REASON_MAX, "sim i2c: unknown op \"%.32s\" (temperature, get or set)", op);
        return WD_PROTO_BAD_REQUEST;
    }
    if (st != HAL_OK)
        return sim_status(st, why, what);
    cJSON_AddNumberToObject(resp, WD_F_BUS, (double)bus);
    cJSON_AddNumberToObject(resp, WD_F_ADDRESS, (double)addr);
    return WD_PROTO_OK;
}

wd_proto_status wd_hw_sim(wd_daemon *d, const void *request, void *response, char *why) {
    const cJSON *req = request;
    const cJSON *dev = cJSON_GetObjectItemCaseSensitive(req, WD_F_DEVICE);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(req, WD_F_OP);
    if (!cJSON_IsString(dev) || !cJSON_IsString(op)) {
        snprintf(why, WD_REASON_MAX, "sim needs \"%s\" (gpio or i2c) and \"%s\"", WD_F_DEVICE, WD_F_OP);
        return WD_PROTO_BAD_REQUEST;
    }
    if (strcmp(dev->valuestring, "gpio") == 0)
        return sim_gpio(d, req, response, op->valuestring, why);
    if (strcmp(dev->valuestring, "i2c") == 0)
        return sim_i2c(d, req, response, op->valuestring, why);
    snprintf(why, WD_REASON_MAX, "sim: unknown device \"%.32s\" (gpio or i2c)", dev->valuestring);
    return WD_PROTO_BAD_REQUEST;
}
