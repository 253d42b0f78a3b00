/*
 * validate.h - checks of a module against what wasmd provides, shared by
 * the daemon (deploy refuses a module that would not link) and by wasmctl
 * (validate and inspect, offline).  Depends on the engine and WASI only,
 * so that wasmctl can link daemon/validate.o without the rest of the daemon.
 */
#ifndef WASMD_VALIDATE_H
#define WASMD_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "sdk/wasmd.h"
#include "wr.h"

/* The capability every WASI import needs (granted to every module). */
#define WD_CAP_WASI "wasi"
/* Capabilities a manifest grants under `capabilities:` (deny by default). */
#define WD_CAP_GPIO "gpio"
#define WD_CAP_I2C  "i2c"
#define WD_CAP_MIC  "microphone"

/*
 * The daemon's own host functions, imported from module WASMD_IMPORT_MODULE
 * (sdk/wasmd.h), one row per import: name,
 * parameter and result types (one letter per value: i I f F for i32 i64 f32
 * f64), and the capability that grants it.  This is the only table:
 * daemon/host.c links row NAME to its function host_NAME, and validate,
 * inspect and deploy check modules against the same rows.
 */
#define WD_HOST_IMPORT_MAP(X)                                   \
    X(timer_start,         "iii",    "i", "wasmd timers")       \
    X(timer_stop,          "i",      "i", "wasmd timers")       \
    X(log,                 "iii",    "i", "wasmd log")          \
    X(gpio_request,        "iiii",   "i", WD_CAP_GPIO)          \
    X(gpio_set,            "ii",     "i", WD_CAP_GPIO)          \
    X(gpio_get,            "ii",     "i", WD_CAP_GPIO)          \
    X(gpio_wait_edge,      "iii",    "i", WD_CAP_GPIO)          \
    X(gpio_release,        "i",      "i", WD_CAP_GPIO)          \
    X(i2c_open,            "ii",     "i", WD_CAP_I2C)           \
    X(i2c_write,           "iiii",   "i", WD_CAP_I2C)           \
    X(i2c_read,            "iiii",   "i", WD_CAP_I2C)           \
    X(i2c_write_read,      "iiiiii", "i", WD_CAP_I2C)           \
    X(i2c_read_byte_data,  "iiii",   "i", WD_CAP_I2C)           \
    X(i2c_write_byte_data, "iiii",   "i", WD_CAP_I2C)           \
    X(i2c_read_word_data,  "iiii",   "i", WD_CAP_I2C)           \
    X(i2c_write_word_data, "iiii",   "i", WD_CAP_I2C)           \
    X(i2c_close,           "i",      "i", WD_CAP_I2C)           \
    X(mic_open,            "ii",     "i", WD_CAP_MIC)           \
    X(mic_read,            "iiii",   "i", WD_CAP_MIC)           \
    X(mic_close,           "i",      "i", WD_CAP_MIC)

/* Whether function type `t` has exactly these parameter and result letters. */
bool wd_functype_matches(const wr_functype *t, const char *params, const char *results);

/* A problem found; `msg` is one line without a newline. */
typedef void (*wd_report_fn)(void *ud, const char *msg);

/*
 * Checks that every import of `m` is provided: WASI functions with their
 * exact signatures, and the rows of WD_HOST_IMPORT_MAP.  Calls `report`
 * once per problem.  Returns the number of problems (0: it links), or a
 * negative errno when the check itself could not be made.
 */
int wd_validate_imports(const wr_module *m, wd_report_fn report, void *ud);

/*
 * Checks that the manifest grants every hardware capability the module's
 * imports need (deny by default); reports each import that needs one it
 * does not.  Returns the number of problems.
 */
int wd_validate_capabilities(const wr_module *m, const cfg_manifest *mf, wd_report_fn report, void *ud);

/* The capability import `i` of `m` needs, or NULL when wasmd provides nothing of that name. */
const char *wd_import_capability(const wr_module *m, uint32_t i);

#endif /* WASMD_VALIDATE_H */
