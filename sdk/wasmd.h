/*
 * wasmd.h - the module ABI of wasmd, for authors of WebAssembly modules
 * (C or C++ built with clang --target=wasm32-wasi) and for the daemon,
 * which takes its error codes and names from here.  See sdk/GUIDE.md.
 *
 * A module is either
 *   - a command: it exports _start (a WASI main); the daemon runs it once,
 *     in time slices, and its blocking WASI calls (sleeps, reads) park only
 *     that module; or
 *   - a reactor: it exports no _start.  The daemon calls the WASI
 *     _initialize export if there is one (clang's -mexec-model=reactor
 *     makes it: it runs the C constructors), then wasmd_init, then one
 *     handler per event (wasmd_on_timer) until the module is stopped, when
 *     it calls wasmd_shutdown if the module exports it.
 *
 * Handlers are called one at a time per module, never re-entered; events
 * that happen while a handler runs are queued (one pending expiry per
 * timer: a repeating timer whose previous expiry has not been handled yet
 * skips this one).  Between events a reactor costs nothing.
 *
 * The daemon's functions are imported from the module "wasmd".  A module
 * importing a "wasmd" function this ABI does not define is refused at
 * start, with the import's name in the reason.
 */
#ifndef WASMD_SDK_WASMD_H
#define WASMD_SDK_WASMD_H

#include <stddef.h>
#include <stdint.h>

#define WASMD_ABI_VERSION 1
#define WASMD_IMPORT_MODULE "wasmd"

/* Export names of the handlers. */
#define WASMD_EXPORT_INIT     "wasmd_init"      /* int32_t (void), or void (void); required in a reactor */
#define WASMD_EXPORT_ON_TIMER "wasmd_on_timer"  /* void (uint32_t id) */
#define WASMD_EXPORT_SHUTDOWN "wasmd_shutdown"  /* void (void); optional */
#define WASMD_EXPORT_ON_GPIO_EDGE  "wasmd_on_gpio_edge"   /* void (uint32_t handle, uint32_t edge, uint64_t timestamp_ns) */
#define WASMD_EXPORT_ON_MIC_PERIOD "wasmd_on_mic_period"  /* void (uint32_t handle, uint32_t frames) */

/* Limits the daemon enforces. */
#define WASMD_MAX_TIMERS 64u     /* timers armed at once per module */
#define WASMD_LOG_MAX    4096u   /* bytes of one wasmd_log call; the rest is dropped */
#define WASMD_I2C_MAX_LEN 8192u  /* bytes of one I2C message */
#define WASMD_MIC_QUEUE_PERIODS 16u /* captured periods the daemon keeps for a module; older ones are dropped */

/*
 * Error codes returned by the imports: name, value, message.  0 is
 * success; the values never change meaning in later ABI versions.
 */
#define WASMD_ERROR_MAP(X)                                                        \
    X(OK,      0, "success")                                                      \
    X(EINVAL,  1, "invalid argument")                                             \
    X(EFAULT,  2, "pointer or length outside the module's memory")                \
    X(ENOENT,  3, "no such timer or open handle")                                 \
    X(ELIMIT,  4, "too many timers")                                              \
    X(ENOTSUP, 5, "not supported here (a handler it needs is not exported)")      \
    X(ESTATE,  6, "not allowed in this state")                                    \
    X(EPERM,   7, "not granted by the module's manifest")                         \
    X(EBUSY,   8, "already in use")                                               \
    X(EIO,     9, "the device failed")                                            \
    X(ENODEV, 10, "no device answered at this address")                           \
    X(ETIMEDOUT, 11, "timed out")

typedef enum wasmd_error {
#define WASMD__ERROR_ENUM(name, value, msg) WASMD_##name = value,
    WASMD_ERROR_MAP(WASMD__ERROR_ENUM)
#undef WASMD__ERROR_ENUM
} wasmd_error;

/* The message for an error code ("unknown error" for a value not in the table). */
static inline const char *wasmd_strerror(int32_t e) {
    switch (e) {
#define WASMD__ERROR_MSG(name, value, msg) case value: return msg;
        WASMD_ERROR_MAP(WASMD__ERROR_MSG)
#undef WASMD__ERROR_MSG
    }
    return "unknown error";
}

/* Log levels of wasmd_log: name, value, how the line is tagged in the module's log. */
#define WASMD_LOG_LEVEL_MAP(X) \
    X(DEBUG, 0, "debug")       \
    X(INFO,  1, "info")        \
    X(WARN,  2, "warn")        \
    X(ERROR, 3, "error")

typedef enum wasmd_log_level {
#define WASMD__LEVEL_ENUM(name, value, tag) WASMD_LOG_##name = value,
    WASMD_LOG_LEVEL_MAP(WASMD__LEVEL_ENUM)
#undef WASMD__LEVEL_ENUM
} wasmd_log_level;

/* GPIO directions (wasmd_gpio_request) and edge kinds (events). */
#define WASMD_GPIO_INPUT  0
#define WASMD_GPIO_OUTPUT 1
#define WASMD_GPIO_RISING  1   /* edge kinds of an event */
#define WASMD_GPIO_FALLING 2

/* One edge, as the kernel time-stamped it (CLOCK_MONOTONIC). */
typedef struct wasmd_gpio_event {
    uint64_t timestamp_ns;
    uint32_t edge;             /* WASMD_GPIO_RISING or WASMD_GPIO_FALLING */
    uint32_t reserved;
} wasmd_gpio_event;

/* The granted microphone's format (wasmd_mic_open). */
typedef struct wasmd_mic_info {
    uint32_t rate;             /* frames per second */
    uint32_t channels;
    uint32_t period_frames;    /* frames per period */
} wasmd_mic_info;

#ifdef __wasm__

#include <stdarg.h>
#include <stdio.h>

#define WASMD__IMPORT(name) __attribute__((import_module(WASMD_IMPORT_MODULE), import_name(name)))
/* Marks a handler for export: WASMD_EXPORT(WASMD_EXPORT_ON_TIMER) void wasmd_on_timer(uint32_t id) {...} */
#define WASMD_EXPORT(name) __attribute__((export_name(name)))

/*
 * Arms timer `id` (any number the module chooses): wasmd_on_timer(id) is
 * called after interval_ms, and then every interval_ms when `repeat` is
 * non-zero.  Arming an armed id re-arms it (and drops its pending expiry).
 * Periods do not drift: each expiry is due one interval after the previous
 * one was due.  Needs a reactor that exports wasmd_on_timer (WASMD_ENOTSUP
 * otherwise).  WASMD_EINVAL for a repeating timer of 0 ms, WASMD_ELIMIT past
 * WASMD_MAX_TIMERS, WASMD_ESTATE in wasmd_shutdown.
 */
WASMD__IMPORT("timer_start") int32_t wasmd_timer_start(uint32_t id, uint32_t interval_ms, int32_t repeat);

/* Disarms timer `id` and drops its pending expiry; WASMD_ENOENT when it has neither. */
WASMD__IMPORT("timer_stop") int32_t wasmd_timer_stop(uint32_t id);

/*
 * Writes `len` bytes of text to the module's log, tagged with the level
 * ("[info] ..."); each '\n' starts a new line.  WASMD_EINVAL for an unknown
 * level, WASMD_EFAULT when the text is outside the module's memory.
 */
WASMD__IMPORT("log") int32_t wasmd_log(int32_t level, const char *text, size_t len);

/* wasmd_log of a NUL-terminated string. */
static inline int32_t wasmd_log_str(int32_t level, const char *text) {
    return wasmd_log(level, text, __builtin_strlen(text));
}

/* wasmd_log with printf formatting; a line longer than WASMD_LOGF_MAX bytes is cut. */
#define WASMD_LOGF_MAX 256
static inline int32_t wasmd_logf(int32_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int32_t wasmd_logf(int32_t level, const char *fmt, ...) {
    char text[WASMD_LOGF_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (n < 0)
        return WASMD_EINVAL;
    return wasmd_log(level, text, (size_t)n < sizeof text ? (size_t)n : sizeof text - 1);
}

/* ---- GPIO -------------------------------------------------------------
 *
 * A module names lines by the labels its manifest grants (`led`, `button`),
 * never by chip and offset.  The daemon requests every granted line when
 * the module starts (outputs at their safe value), so values are logical:
 * with active_low, 1 means the wire is low.
 */

/*
 * Opens the line granted under `label` in `direction` (which must be the
 * granted one) and stores its handle in *handle.  WASMD_EPERM (logged) for
 * a label or direction the manifest does not grant, WASMD_EBUSY when the
 * label is already open.
 */
WASMD__IMPORT("gpio_request") int32_t wasmd_gpio_request(const char *label, size_t len, int32_t direction,
                                                         uint32_t *handle);
/* Drives an output to 0 or 1 (WASMD_EPERM on an input, logged). */
WASMD__IMPORT("gpio_set") int32_t wasmd_gpio_set(uint32_t handle, int32_t value);
/* Reads the line's value into *value (0 or 1). */
WASMD__IMPORT("gpio_get") int32_t wasmd_gpio_get(uint32_t handle, int32_t *value);
/*
 * Waits for the next edge of an input granted with edge detection and
 * stores it in *event; edges are queued from the start of the module, so
 * none is lost between calls.  Only this module waits: the others go on
 * running.  timeout_ms < 0 waits for ever; WASMD_ETIMEDOUT when no edge
 * came in time.  WASMD_ESTATE in a reactor that exports
 * wasmd_on_gpio_edge (its edges go to the handler).
 */
WASMD__IMPORT("gpio_wait_edge") int32_t wasmd_gpio_wait_edge(uint32_t handle, int32_t timeout_ms,
                                                             wasmd_gpio_event *event);
/* Closes a handle; an output goes back to its safe value. */
WASMD__IMPORT("gpio_release") int32_t wasmd_gpio_release(uint32_t handle);

/* ---- I2C --------------------------------------------------------------
 *
 * A handle stands for one granted bus; every transfer names a 7-bit
 * address, checked against the grant on every call (WASMD_EPERM, logged).
 * On a read_only grant, wasmd_i2c_write and the write_*_data helpers are
 * refused; reads and wasmd_i2c_write_read (whose write selects a register)
 * are allowed.  WASMD_ENODEV when no device acknowledges the address.
 */
WASMD__IMPORT("i2c_open") int32_t wasmd_i2c_open(uint32_t bus, uint32_t *handle);
WASMD__IMPORT("i2c_write") int32_t wasmd_i2c_write(uint32_t handle, uint32_t addr, const void *buf, size_t len);
WASMD__IMPORT("i2c_read") int32_t wasmd_i2c_read(uint32_t handle, uint32_t addr, void *buf, size_t len);
/* A write then a read with a repeated start between them: one combined transaction (I2C_RDWR). */
WASMD__IMPORT("i2c_write_read") int32_t wasmd_i2c_write_read(uint32_t handle, uint32_t addr, const void *wbuf,
                                                             size_t wlen, void *rbuf, size_t rlen);
/* SMBus helpers; words are least significant byte first, as SMBus says. */
WASMD__IMPORT("i2c_read_byte_data") int32_t wasmd_i2c_read_byte_data(uint32_t handle, uint32_t addr, uint32_t reg,
                                                                     uint8_t *value);
WASMD__IMPORT("i2c_write_byte_data") int32_t wasmd_i2c_write_byte_data(uint32_t handle, uint32_t addr,
                                                                       uint32_t reg, uint32_t value);
WASMD__IMPORT("i2c_read_word_data") int32_t wasmd_i2c_read_word_data(uint32_t handle, uint32_t addr, uint32_t reg,
                                                                     uint16_t *value);
WASMD__IMPORT("i2c_write_word_data") int32_t wasmd_i2c_write_word_data(uint32_t handle, uint32_t addr,
                                                                       uint32_t reg, uint32_t value);
WASMD__IMPORT("i2c_close") int32_t wasmd_i2c_close(uint32_t handle);

/* ---- Microphone -------------------------------------------------------
 *
 * The manifest grants one capture device with its rate, channels and
 * period size; samples are interleaved signed 16-bit (S16_LE).  The
 * handle is always 0.
 */

/* Opens and starts the granted device; *info (may be NULL) gets its format. */
WASMD__IMPORT("mic_open") int32_t wasmd_mic_open(uint32_t *handle, wasmd_mic_info *info);
/*
 * Reads whole periods (at most max_frames frames into buf, which holds
 * max_frames * channels samples; at least one period) and stores the
 * number of frames in *frames.  Waits until a period is captured (only
 * this module waits); in wasmd_on_mic_period it returns at once.
 */
WASMD__IMPORT("mic_read") int32_t wasmd_mic_read(uint32_t handle, int16_t *buf, uint32_t max_frames,
                                                 uint32_t *frames);
WASMD__IMPORT("mic_close") int32_t wasmd_mic_close(uint32_t handle);

/* The handlers a reactor defines (mark each with WASMD_EXPORT). */
int32_t wasmd_init(void);          /* non-zero: the module failed to start */
void wasmd_on_timer(uint32_t id);
void wasmd_shutdown(void);
/* An edge of an input line this module opened (if exported, edges come here). */
void wasmd_on_gpio_edge(uint32_t handle, uint32_t edge, uint64_t timestamp_ns);
/* Captured audio is waiting: wasmd_mic_read(handle, ...) returns it at once. */
void wasmd_on_mic_period(uint32_t handle, uint32_t frames);

#endif /* __wasm__ */

#endif /* WASMD_SDK_WASMD_H */
