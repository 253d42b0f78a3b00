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

/* Limits the daemon enforces. */
#define WASMD_MAX_TIMERS 64u     /* timers armed at once per module */
#define WASMD_LOG_MAX    4096u   /* bytes of one wasmd_log call; the rest is dropped */

/*
 * Error codes returned by the imports: name, value, message.  0 is
 * success; the values never change meaning in later ABI versions.
 */
#define WASMD_ERROR_MAP(X)                                                        \
    X(OK,      0, "success")                                                      \
    X(EINVAL,  1, "invalid argument")                                             \
    X(EFAULT,  2, "pointer or length outside the module's memory")                \
    X(ENOENT,  3, "no such timer")                                                \
    X(ELIMIT,  4, "too many timers")                                              \
    X(ENOTSUP, 5, "the module does not export the handler this needs")           \
    X(ESTATE,  6, "not allowed while the module is stopping")

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

#ifdef __wasm__

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

/* The handlers a reactor defines (mark each with WASMD_EXPORT). */
int32_t wasmd_init(void);          /* non-zero: the module failed to start */
void wasmd_on_timer(uint32_t id);
void wasmd_shutdown(void);

#endif /* __wasm__ */

#endif /* WASMD_SDK_WASMD_H */
