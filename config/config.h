/*
 * config.h - the public API of wasmd's configuration layer: the daemon
 * config (/etc/wasmd/wasmd.yaml) and one manifest per module
 * (/etc/wasmd/modules.d/NAME.yaml), read with libyaml and checked against a
 * schema table.  Every error names file, line and column.
 *
 * Depends on libyaml and libc only (not on the runtime or the daemon).
 * Ownership: the parse functions return objects the caller frees with the
 * matching *_free function (which accepts NULL).
 */
#ifndef WASMD_CONFIG_H
#define WASMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One error: "FILE:LINE:COLUMN: MESSAGE". Lines and columns count from 1. */
typedef struct cfg_error {
    char file[256];
    unsigned line;
    unsigned column;
    char message[256];
} cfg_error;

/* Formats an error as "file:line:column: message" into buf. */
const char *cfg_error_format(const cfg_error *err, char *buf, size_t size);

/* Restart policies, with their manifest spellings ("never", "on-failure", "always"). */
typedef enum cfg_restart {
    CFG_RESTART_NEVER,
    CFG_RESTART_ON_FAILURE,
    CFG_RESTART_ALWAYS,
} cfg_restart;
const char *cfg_restart_name(cfg_restart r);
bool cfg_restart_parse(const char *s, cfg_restart *ret);

typedef struct cfg_env {
    char *name;
    char *value;
} cfg_env;

typedef struct cfg_dir {
    char *host;   /* absolute host path */
    char *guest;  /* guest path; defaults to host */
    bool readonly;
} cfg_dir;

/*
 * A module manifest.  Keys (see the schema table in config/manifest.c and
 * the man page wasmd.yaml(5)):
 *   name: string (default: the file name without .yaml); [a-z0-9_-]{1,64}
 *   module: path to the .wasm (relative to the manifest's directory)
 *   args: [string]         env: {NAME: value}
 *   dirs: [{host, guest, readonly}]
 *   limits: {memory_pages, fuel_per_slice, stack_slots, call_depth}
 *   restart: never | on-failure | always   (default on-failure)
 *   restart_backoff_ms: initial backoff (default 100), doubling, capped at 30000
 *   crash_loop_limit: failures within crash_loop_window_s that mark it crash-looping (default 5 in 60 s)
 *   stop_timeout_ms: graceful-stop timeout (default 2000)
 *   capabilities: a mapping kept as a raw YAML node for the hardware layer
 */
typedef struct cfg_manifest {
    char *path;           /* the manifest file */
    char *name;
    char *module;         /* resolved against the manifest's directory */
    char **args;
    size_t nargs;
    cfg_env *env;
    size_t nenv;
    cfg_dir *dirs;
    size_t ndirs;
    uint32_t memory_pages;     /* 0: the daemon default */
    uint64_t fuel_per_slice;   /* 0: the daemon default */
    uint32_t stack_slots;      /* 0: the daemon default */
    uint32_t call_depth;       /* 0: the daemon default */
    cfg_restart restart;
    uint32_t restart_backoff_ms;
    uint32_t crash_loop_limit;
    uint32_t crash_loop_window_s;
    uint32_t stop_timeout_ms;
    bool has_capabilities;     /* capabilities are parsed by the hardware layer (later issue) */
} cfg_manifest;

/* Parses one manifest file.  Returns NULL and fills err on any error. */
cfg_manifest *cfg_manifest_load(const char *path, cfg_error *err);
void cfg_manifest_free(cfg_manifest *m);

/*
 * Loads every *.yaml of a directory, sorted by file name.  Good manifests
 * are returned in ret_list; each bad one (parse error, or a name already
 * used by an earlier file) is reported in ret_errors and skipped.
 */
typedef struct cfg_manifest_set {
    cfg_manifest **items;
    size_t count;
    cfg_error *errors;
    size_t nerrors;
} cfg_manifest_set;
int cfg_manifest_dir_load(const char *dir, cfg_manifest_set *ret); /* 0, or -errno if the dir can't be read */
void cfg_manifest_set_clear(cfg_manifest_set *set);

/* The daemon config. */
typedef struct cfg_daemon {
    char *path;
    char *modules_dir;         /* default /etc/wasmd/modules.d */
    char *socket_path;         /* default /run/wasmd/wasmd.sock */
    char *socket_group;        /* group allowed on the socket besides root; NULL: root only */
    uint32_t log_lines;        /* per-instance ring buffer, default 1000 */
    uint64_t fuel_per_slice;   /* default 100000 */
    uint32_t memory_pages;     /* default per-module memory limit, default 256 (16 MiB) */
    uint32_t stack_slots;      /* default 65536 */
    uint32_t call_depth;       /* default 2000 */
} cfg_daemon;

/* path may be NULL: defaults only.  A missing file at the default path is not an error. */
cfg_daemon *cfg_daemon_load(const char *path, cfg_error *err);
void cfg_daemon_free(cfg_daemon *d);

#endif /* WASMD_CONFIG_H */
