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

#include "wr.h"

/* The capability every WASI import needs (granted to every module). */
#define WD_CAP_WASI "wasi"

/*
 * The daemon's own host functions, one row per import: import module,
 * name, parameter and result types (one letter per value: i I f F for i32
 * i64 f32 f64), and the capability that grants it.  daemon/host.c provides
 * these functions; a row must be added here for each one it links, so that
 * validate, inspect and deploy agree with what the daemon really links.
 */
#define WD_HOST_IMPORT_MAP(X)                                    \
    X("wasmd", "timer_start", "iii", "i", "wasmd timers")          \
    X("wasmd", "timer_stop",  "i",   "i", "wasmd timers")          \
    X("wasmd", "log",         "iii", "i", "wasmd log")

/* A problem found; `msg` is one line without a newline. */
typedef void (*wd_report_fn)(void *ud, const char *msg);

/*
 * Checks that every import of `m` is provided: WASI functions with their
 * exact signatures, and the rows of WD_HOST_IMPORT_MAP.  Calls `report`
 * once per problem.  Returns the number of problems (0: it links), or a
 * negative errno when the check itself could not be made.
 */
int wd_validate_imports(const wr_module *m, wd_report_fn report, void *ud);

/* The capability import `i` of `m` needs, or NULL when wasmd provides nothing of that name. */
const char *wd_import_capability(const wr_module *m, uint32_t i);

#endif /* WASMD_VALIDATE_H */
