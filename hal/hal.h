/*
 * hal.h - the public API of wasmd's hardware layer: GPIO lines, I2C buses
 * and microphone capture, each behind a small struct of function pointers
 * (a backend) chosen once at start-up.
 *
 *   GPIO        hal_gpio_open_gpiod()  libgpiod 1.6 (gpio_gpiod.c)
 *               hal_gpio_open_sim()    chips and lines in memory (gpio_sim.c)
 *   I2C         hal_i2c_open_dev()     /dev/i2c-N, I2C_RDWR (i2c_dev.c)
 *               hal_i2c_open_sim()     register maps, TMP102 (i2c_sim.c)
 *   microphone  hal_mic_open_alsa()    ALSA capture, non-blocking (mic_alsa.c)
 *
 * The rest of wasmd calls the hal_* functions below, which check their
 * arguments once and dispatch through the backend's ops table, so the
 * daemon never knows which backend it drives.
 *
 * Depends on libc, libgpiod 1.6 and alsa-lib only (not on the runtime, the
 * daemon or libuv).  Nothing here blocks or starts a thread: every source of
 * events (GPIO edges, captured periods) is a file descriptor the caller's
 * event loop polls, after which it calls the matching read function.
 *
 * Ownership: every open/request function hands the caller a new object,
 * released with the matching close/release function, which accepts NULL.
 * A backend must outlive every handle opened from it.  Library code does
 * not log: every failure comes back as a hal_status.
 */
#ifndef WASMD_HAL_H
#define WASMD_HAL_H

#include <poll.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Limits ------------------------------------------------------------ */

#define HAL_GPIO_SIM_MAX_CHIPS   16u    /* simulated chips per backend */
#define HAL_GPIO_SIM_MAX_LINES   512u   /* lines per simulated chip */
#define HAL_I2C_MAX_BUS          255u   /* highest bus number accepted */
#define HAL_I2C_MAX_MSG_LEN      8192u  /* bytes of one message (the kernel's limit) */
#define HAL_I2C_SIM_MAX_DEVICES  128u   /* simulated devices per backend */
#define HAL_I2C_SIM_MAX_REGS     256u   /* registers of one simulated device */
#define HAL_MIC_MAX_CHANNELS     8u
#define HAL_MIC_MIN_RATE         8000u
#define HAL_MIC_MAX_RATE         192000u
#define HAL_MIC_MAX_PERIOD       65536u /* frames of one period */
#define HAL_MIC_MAX_PERIODS      64u    /* periods in the ALSA buffer */
#define HAL_MIC_MAX_CONF         65536u /* bytes of an inline ALSA config */

/* ---- Status codes ------------------------------------------------------ */

/* One table gives each status its name and message. */
#define HAL_STATUS_MAP(X)                                                       \
    X(OK,                "ok")                                                  \
    X(ERR_NOMEM,         "out of memory")                                       \
    X(ERR_INVALID,       "invalid argument")                                    \
    X(ERR_NO_DEVICE,     "no such device")                                      \
    X(ERR_NO_LINE,       "no such line on this GPIO chip")                      \
    X(ERR_PERM,          "permission denied")                                   \
    X(ERR_BUSY,          "already in use")                                      \
    X(ERR_AGAIN,         "nothing available yet")                               \
    X(ERR_DIRECTION,     "operation not allowed in this line direction")       \
    X(ERR_NO_EDGES,      "edge detection not requested on this line")           \
    X(ERR_NACK,          "no acknowledgement from the I2C address")             \
    X(ERR_TIMEOUT,       "the device timed out")                                \
    X(ERR_NOT_SUPPORTED, "not supported by this device or backend")             \
    X(ERR_FORMAT,        "sample format, rate or channels not supported")       \
    X(ERR_CONFIG,        "malformed ALSA configuration")                        \
    X(ERR_IO,            "input/output error")

typedef enum hal_status {
#define HAL__STATUS_ENUM(name, msg) HAL_##name,
    HAL_STATUS_MAP(HAL__STATUS_ENUM)
#undef HAL__STATUS_ENUM
} hal_status;

/* "HAL_ERR_BUSY" and "already in use" for HAL_ERR_BUSY; "?" for values not in the table. */
const char *hal_status_name(hal_status s);
const char *hal_status_message(hal_status s);

/* ========================================================================
 * GPIO
 * ===================================================================== */

/*
 * User-visible enums map to and from strings through one table each (used
 * by the manifest parser, wasmctl and the logs alike).  The _from_string
 * functions return -1 for an unknown string.
 */
#define HAL_GPIO_DIRECTION_MAP(X) X(INPUT, "input") X(OUTPUT, "output")
#define HAL_GPIO_BIAS_MAP(X)                                                    \
    X(AS_IS, "as-is") X(DISABLE, "disable") X(PULL_UP, "pull-up") X(PULL_DOWN, "pull-down")
#define HAL_GPIO_EDGE_MAP(X)                                                    \
    X(NONE, "none") X(RISING, "rising") X(FALLING, "falling") X(BOTH, "both")

typedef enum hal_gpio_direction {
#define HAL__GPIO_DIR_ENUM(name, str) HAL_GPIO_##name,
    HAL_GPIO_DIRECTION_MAP(HAL__GPIO_DIR_ENUM)
#undef HAL__GPIO_DIR_ENUM
} hal_gpio_direction;

typedef enum hal_gpio_bias {
#define HAL__GPIO_BIAS_ENUM(name, str) HAL_GPIO_BIAS_##name,
    HAL_GPIO_BIAS_MAP(HAL__GPIO_BIAS_ENUM)
#undef HAL__GPIO_BIAS_ENUM
} hal_gpio_bias;

typedef enum hal_gpio_edge {
#define HAL__GPIO_EDGE_ENUM(name, str) HAL_GPIO_EDGE_##name,
    HAL_GPIO_EDGE_MAP(HAL__GPIO_EDGE_ENUM)
#undef HAL__GPIO_EDGE_ENUM
} hal_gpio_edge;

const char *hal_gpio_direction_string(hal_gpio_direction d);
const char *hal_gpio_bias_string(hal_gpio_bias b);
const char *hal_gpio_edge_string(hal_gpio_edge e);
int hal_gpio_direction_from_string(const char *s);
int hal_gpio_bias_from_string(const char *s);
int hal_gpio_edge_from_string(const char *s);

/*
 * How a line is requested.  Values are logical: with active_low, 1 means
 * the wire is low.  Edge detection is for inputs only; initial_value and
 * safe_value for outputs only (safe_value is what the line is driven to
 * when it is released, whoever releases it).
 */
typedef struct hal_gpio_config {
    hal_gpio_direction direction;
    hal_gpio_bias      bias;
    hal_gpio_edge      edge;
    bool               active_low;
    int                initial_value;   /* 0 or 1 */
    int                safe_value;      /* 0 or 1 */
    const char        *consumer;        /* shown by gpioinfo; NULL: "wasmd" */
} hal_gpio_config;

/* One edge, as the kernel (or the simulator) time-stamped it. */
typedef enum hal_gpio_edge_type { HAL_GPIO_RISING_EDGE = 1, HAL_GPIO_FALLING_EDGE = 2 } hal_gpio_edge_type;
typedef struct hal_gpio_event {
    uint64_t           timestamp_ns;    /* CLOCK_MONOTONIC on current kernels and the simulator */
    hal_gpio_edge_type type;
} hal_gpio_event;

typedef struct hal_gpio_chip_info {
    char     name[32];                  /* "gpiochip0" */
    char     label[32];                 /* "pinctrl-bcm2711", "sim" */
    unsigned num_lines;
} hal_gpio_chip_info;

typedef struct hal_gpio hal_gpio;            /* a backend */
typedef struct hal_gpio_line hal_gpio_line;  /* a requested line */

/*
 * A GPIO backend.  Chips are named by a string: "gpiochip0", "0" or a
 * device path (the simulator accepts its chip names and their indexes).
 * The hal_gpio_* wrappers check every argument first, so a backend may
 * trust what it is given.  Each backend embeds struct hal_gpio first and
 * each of its lines embeds struct hal_gpio_line first.
 */
typedef struct hal_gpio_ops {
    const char *name;                                   /* "gpiod", "sim" */
    void       (*close)(hal_gpio *g);
    hal_status (*chip_info)(hal_gpio *g, const char *chip, hal_gpio_chip_info *ret);
    hal_status (*request)(hal_gpio *g, const char *chip, unsigned offset,
                          const hal_gpio_config *cfg, hal_gpio_line **ret);
    hal_status (*set)(hal_gpio_line *l, int value);
    hal_status (*get)(hal_gpio_line *l, int *ret);
    int        (*event_fd)(hal_gpio_line *l);
    hal_status (*read_event)(hal_gpio_line *l, hal_gpio_event *ret);
    void       (*release)(hal_gpio_line *l);         /* after the safe value is set */
} hal_gpio_ops;

struct hal_gpio {
    const hal_gpio_ops *ops;
};

struct hal_gpio_line {
    hal_gpio       *backend;
    hal_gpio_config cfg;         /* consumer is not kept (NULL) */
    unsigned        offset;
};

/* The libgpiod backend (no state: chips are opened per request). Caller owns *ret. */
hal_status hal_gpio_open_gpiod(hal_gpio **ret);

/* A simulated chip: its name ("gpiochip0"), label and number of lines. */
typedef struct hal_gpio_sim_chip {
    const char *name;
    const char *label;
    unsigned    num_lines;
} hal_gpio_sim_chip;

/*
 * The simulated backend: n chips, copied (the caller keeps chips).  Every
 * line starts low.  Caller owns *ret.
 */
hal_status hal_gpio_open_sim(const hal_gpio_sim_chip *chips, size_t n, hal_gpio **ret);

/*
 * Simulator controls (HAL_ERR_NOT_SUPPORTED on another backend).
 * Until set_input first drives it, an input requested with pull-up or
 * pull-down bias reads as the bias pulls it (1 or 0).
 * set_input drives the wire of a line to a physical level, as a switch
 * would; if the line is requested as an input with edge detection, the
 * edges it causes (in logical terms, after active-low) are queued on the
 * line's event fd with a CLOCK_MONOTONIC timestamp.  Driving a line
 * requested as an output is HAL_ERR_DIRECTION.  get_level reads the
 * physical level of any line (what an LED on an output would show).
 */
hal_status hal_gpio_sim_set_input(hal_gpio *g, const char *chip, unsigned offset, int level);
hal_status hal_gpio_sim_get_level(hal_gpio *g, const char *chip, unsigned offset, int *ret);

/* Everything about one simulated line (for wasmctl sim gpio get and the latency benchmark). */
typedef struct hal_gpio_sim_line {
    int                level;       /* physical level of the wire */
    uint64_t           changed_ns;  /* when it last changed (CLOCK_MONOTONIC), 0: never */
    bool               held;        /* requested by someone */
    hal_gpio_direction direction;   /* when held */
} hal_gpio_sim_line;
hal_status hal_gpio_sim_get_line(hal_gpio *g, const char *chip, unsigned offset, hal_gpio_sim_line *ret);

/* Closes the backend; every line must have been released.  Accepts NULL. */
void hal_gpio_close(hal_gpio *g);

hal_status hal_gpio_get_chip_info(hal_gpio *g, const char *chip, hal_gpio_chip_info *ret);

/*
 * Requests one line.  A line is held by one requester at a time: a second
 * request is HAL_ERR_BUSY.  Caller owns *ret (release it with
 * hal_gpio_release).
 */
hal_status hal_gpio_request(hal_gpio *g, const char *chip, unsigned offset,
                            const hal_gpio_config *cfg, hal_gpio_line **ret);

/* Logical values, 0 or 1.  set on an input is HAL_ERR_DIRECTION. */
hal_status hal_gpio_set(hal_gpio_line *l, int value);
hal_status hal_gpio_get(hal_gpio_line *l, int *ret);

/*
 * The descriptor that becomes readable (POLLIN) when edges are queued, or
 * -1 when the line was requested without edge detection.  It belongs to
 * the line: do not close it.
 */
int hal_gpio_event_fd(hal_gpio_line *l);

/* Reads one queued edge without blocking: HAL_ERR_AGAIN when none is queued. */
hal_status hal_gpio_read_event(hal_gpio_line *l, hal_gpio_event *ret);

/* Drives an output to its safe value, then releases the line.  Accepts NULL. */
void hal_gpio_release(hal_gpio_line *l);

/* ========================================================================
 * I2C
 * ===================================================================== */

/* Functionality bits of hal_i2c_funcs: the kernel's I2C_FUNC_* values. */
#define HAL_I2C_FUNC_I2C             0x00000001u
#define HAL_I2C_FUNC_10BIT_ADDR      0x00000002u
#define HAL_I2C_FUNC_SMBUS_BYTE_DATA 0x00180000u
#define HAL_I2C_FUNC_SMBUS_WORD_DATA 0x00600000u

#define HAL_I2C_M_RD 0x0001u   /* a read message (the kernel's I2C_M_RD) */

/* One message of a combined transaction; addresses are 7-bit (0x03..0x77). */
typedef struct hal_i2c_msg {
    uint16_t addr;
    uint16_t flags;      /* 0 or HAL_I2C_M_RD */
    uint16_t len;        /* 1..HAL_I2C_MAX_MSG_LEN */
    uint8_t *buf;
} hal_i2c_msg;

typedef struct hal_i2c hal_i2c;          /* a backend */
typedef struct hal_i2c_bus hal_i2c_bus;  /* an open bus */

/*
 * An I2C backend.  transfer runs 1 or 2 messages as one combined
 * transaction (repeated start between them, one stop at the end).
 */
typedef struct hal_i2c_ops {
    const char *name;                                   /* "dev", "sim" */
    void       (*close)(hal_i2c *b);
    hal_status (*open_bus)(hal_i2c *b, unsigned bus, hal_i2c_bus **ret);
    hal_status (*funcs)(hal_i2c_bus *bus, uint32_t *ret);
    hal_status (*transfer)(hal_i2c_bus *bus, hal_i2c_msg *msgs, unsigned n);
    void       (*close_bus)(hal_i2c_bus *bus);
} hal_i2c_ops;

struct hal_i2c {
    const hal_i2c_ops *ops;
};

struct hal_i2c_bus {
    hal_i2c *backend;
    unsigned number;
};

/* The /dev/i2c-N backend.  Caller owns *ret. */
hal_status hal_i2c_open_dev(hal_i2c **ret);

/*
 * Simulated devices.  A REGMAP device has nregs registers of width bytes
 * (1 or 2, most significant byte first on the wire) and a register
 * pointer: a write's first byte sets the pointer, following bytes are
 * written from there, and reads return bytes from the pointer, which
 * advances by one register per register read or written.
 *
 * A TMP102 device has the real chip's layout, so a driver written for the
 * chip runs unchanged: pointer 0x00 temperature (read-only, 12-bit, or
 * 13-bit with the EM bit), 0x01 configuration (reset 0x60A0), 0x02 T_LOW
 * (reset 75 C), 0x03 T_HIGH (reset 80 C); 16-bit registers, MSB first;
 * the pointer does not advance (successive reads return the same
 * register).  Its temperature starts at 25 C.
 */
#define HAL_I2C_SIM_MODEL_MAP(X) X(REGMAP, "regmap") X(TMP102, "tmp102")

typedef enum hal_i2c_sim_model {
#define HAL__I2C_MODEL_ENUM(name, str) HAL_I2C_SIM_##name,
    HAL_I2C_SIM_MODEL_MAP(HAL__I2C_MODEL_ENUM)
#undef HAL__I2C_MODEL_ENUM
} hal_i2c_sim_model;

const char *hal_i2c_sim_model_string(hal_i2c_sim_model m);
int hal_i2c_sim_model_from_string(const char *s);   /* -1 if unknown */

typedef struct hal_i2c_sim_device {
    unsigned          bus;
    uint8_t           addr;
    hal_i2c_sim_model model;
    /* REGMAP only */
    unsigned          nregs;     /* 1..HAL_I2C_SIM_MAX_REGS */
    unsigned          width;     /* 1 or 2 */
    const uint16_t   *values;    /* nregs initial values, or NULL for zeros */
} hal_i2c_sim_device;

/* The simulated backend: n devices, copied (the caller keeps devs).  Caller owns *ret. */
hal_status hal_i2c_open_sim(const hal_i2c_sim_device *devs, size_t n, hal_i2c **ret);

/*
 * Simulator controls (HAL_ERR_NOT_SUPPORTED on another backend,
 * HAL_ERR_NO_DEVICE if no such device is declared): the temperature a
 * TMP102 measures, in thousandths of a degree Celsius (-55000..150000),
 * and the raw value of any register.
 */
hal_status hal_i2c_sim_set_temperature(hal_i2c *b, unsigned bus, uint8_t addr, int32_t millicelsius);
hal_status hal_i2c_sim_set_register(hal_i2c *b, unsigned bus, uint8_t addr, unsigned reg, uint16_t value);
hal_status hal_i2c_sim_get_register(hal_i2c *b, unsigned bus, uint8_t addr, unsigned reg, uint16_t *ret);

/* Closes the backend; every bus must have been closed.  Accepts NULL. */
void hal_i2c_close(hal_i2c *b);

/* Opens bus N (0..HAL_I2C_MAX_BUS).  Caller owns *ret. */
hal_status hal_i2c_open_bus(hal_i2c *b, unsigned bus, hal_i2c_bus **ret);
void hal_i2c_close_bus(hal_i2c_bus *bus);            /* accepts NULL */

/* What the adapter can do: HAL_I2C_FUNC_* bits (I2C_FUNCS). */
hal_status hal_i2c_funcs(hal_i2c_bus *bus, uint32_t *ret);

/* Raw transactions.  HAL_ERR_NACK when nothing answers at addr. */
hal_status hal_i2c_transfer(hal_i2c_bus *bus, hal_i2c_msg *msgs, unsigned n);
hal_status hal_i2c_write(hal_i2c_bus *bus, uint16_t addr, const void *buf, size_t len);
hal_status hal_i2c_read(hal_i2c_bus *bus, uint16_t addr, void *buf, size_t len);
/* A write then a read with a repeated start between them (one I2C_RDWR, two messages). */
hal_status hal_i2c_write_read(hal_i2c_bus *bus, uint16_t addr, const void *wbuf, size_t wlen,
                              void *rbuf, size_t rlen);

/* SMBus helpers built on the above; words are least significant byte first, as SMBus says. */
hal_status hal_i2c_smbus_read_byte_data(hal_i2c_bus *bus, uint16_t addr, uint8_t reg, uint8_t *ret);
hal_status hal_i2c_smbus_write_byte_data(hal_i2c_bus *bus, uint16_t addr, uint8_t reg, uint8_t value);
hal_status hal_i2c_smbus_read_word_data(hal_i2c_bus *bus, uint16_t addr, uint8_t reg, uint16_t *ret);
hal_status hal_i2c_smbus_write_word_data(hal_i2c_bus *bus, uint16_t addr, uint8_t reg, uint16_t value);

/* ========================================================================
 * Microphone capture
 * ===================================================================== */

/*
 * A capture stream: interleaved signed 16-bit little-endian samples
 * (S16_LE).  pcm is an ALSA PCM name ("default", "hw:1,0",
 * "plughw:1,0"), looked up in alsa_conf when that is given (ALSA config
 * text defining it, e.g. an alias from the daemon config or a `type file`
 * PCM reading a raw file), in the system's ALSA config otherwise.
 */
typedef struct hal_mic_config {
    const char *pcm;
    const char *alsa_conf;       /* NULL: the system configuration */
    unsigned    rate;            /* frames per second */
    unsigned    channels;
    unsigned    period_frames;   /* frames per period */
    unsigned    periods;         /* periods in the buffer; 0: 4 */
} hal_mic_config;

typedef struct hal_mic_stats {
    uint64_t frames;     /* frames delivered by hal_mic_read */
    uint64_t overruns;   /* overruns recovered (each loses some audio) */
} hal_mic_stats;

typedef struct hal_mic hal_mic;                /* a backend */
typedef struct hal_mic_stream hal_mic_stream;  /* an open capture stream */

typedef struct hal_mic_ops {
    const char *name;                                   /* "alsa" */
    void       (*close)(hal_mic *m);
    hal_status (*open)(hal_mic *m, const hal_mic_config *cfg, hal_mic_stream **ret);
    int        (*poll_count)(hal_mic_stream *s);
    int        (*poll_descriptors)(hal_mic_stream *s, struct pollfd *pfds, unsigned n);
    hal_status (*poll_revents)(hal_mic_stream *s, struct pollfd *pfds, unsigned n, unsigned short *ret);
    hal_status (*read)(hal_mic_stream *s, int16_t *buf, size_t max_frames, size_t *ret_frames);
    void       (*close_stream)(hal_mic_stream *s);
} hal_mic_ops;

struct hal_mic {
    const hal_mic_ops *ops;
};

struct hal_mic_stream {
    hal_mic       *backend;
    unsigned       rate, channels, period_frames, periods;  /* as negotiated */
    hal_mic_stats  stats;
};

/*
 * The ALSA backend.  It installs an error handler that discards alsa-lib's
 * messages (library code does not log; failures come back as statuses).
 * Caller owns *ret.
 */
hal_status hal_mic_open_alsa(hal_mic **ret);
void hal_mic_close(hal_mic *m);                      /* accepts NULL */

/*
 * Opens and starts a non-blocking capture stream; the device must accept
 * the exact rate, channels and period size (HAL_ERR_FORMAT otherwise), a
 * second open of a device that cannot be shared is HAL_ERR_BUSY.  Caller
 * owns *ret.
 */
hal_status hal_mic_open(hal_mic *m, const hal_mic_config *cfg, hal_mic_stream **ret);

/*
 * The descriptors to poll: poll_count says how many, poll_descriptors
 * fills up to n and returns how many it filled (negative on failure).
 * After poll, poll_revents folds the returned events into one POLLIN (a
 * period may be ready), POLLERR or 0 - ALSA plugins may use descriptors in
 * unexpected ways, so their raw revents mean nothing on their own.
 */
int hal_mic_poll_count(hal_mic_stream *s);
int hal_mic_poll_descriptors(hal_mic_stream *s, struct pollfd *pfds, unsigned n);
hal_status hal_mic_poll_revents(hal_mic_stream *s, struct pollfd *pfds, unsigned n, unsigned short *ret);

/*
 * Call when the descriptors are ready: reads, without blocking, the whole
 * periods that are available and fit in max_frames frames of buf
 * (max_frames * channels samples).  *ret_frames may be 0.  An overrun is
 * recovered (the stream restarts and stats.overruns counts it), never
 * returned as an error.
 */
hal_status hal_mic_read(hal_mic_stream *s, int16_t *buf, size_t max_frames, size_t *ret_frames);

hal_mic_stats hal_mic_get_stats(const hal_mic_stream *s);
void hal_mic_close_stream(hal_mic_stream *s);        /* accepts NULL */

#endif /* WASMD_HAL_H */
