/*
 * config.h - the public API of wasmd's configuration layer: the daemon
 * config (/etc/wasmd/wasmd.yaml) and one manifest per module
 * (/etc/wasmd/modules.d/NAME.yaml), read with libyaml and checked against a
 * schema table.  Every error names file, line and column.
 *
 * Depends on libyaml and libc only (not on the runtime or the daemon).
 * Ownership: the parse functions return objects the caller frees with the
 * matching *_free function (which accepts NULL).  Library code does not log:
 * every problem comes back in a cfg_error.
 */
#ifndef WASMD_CONFIG_H
#define WASMD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- Default paths ----------------------------------------------------- */

#define CFG_DEFAULT_DAEMON_CONFIG "/etc/wasmd/wasmd.yaml"
#define CFG_DEFAULT_MODULES_DIR   "/etc/wasmd/modules.d"
#define CFG_DEFAULT_SOCKET_PATH   "/run/wasmd/wasmd.sock"
#define CFG_DEFAULT_STATE_DIR     "/var/lib/wasmd"
#define CFG_DEFAULT_TRUSTED_DIR   "/etc/wasmd/trusted.d"
#define CFG_DEFAULT_METRICS_DIR   "/var/lib/prometheus/node-exporter" /* Debian's textfile collector */

/*
 * ---- Limits -------------------------------------------------------------
 * A manifest may come from anyone allowed to deploy, so every size the file
 * controls is bounded before anything is allocated for it.
 */
#define CFG_MAX_FILE_SIZE    (1024u * 1024u) /* bytes of one YAML file */
#define CFG_MAX_NODES        20000u  /* scalars, lists and mappings in one file */
#define CFG_MAX_DEPTH        32u     /* nesting of lists and mappings */
#define CFG_MAX_ITEMS        1024u   /* entries of any one list or mapping */
#define CFG_MAX_STRING       4096u   /* bytes of any one scalar */
#define CFG_MAX_PATH         4095u   /* bytes of a path, after resolution */
#define CFG_MAX_NAME         64u     /* bytes of a module name */
#define CFG_MAX_ARGS         256u    /* entries of args */
#define CFG_MAX_ENV          256u    /* entries of env */
#define CFG_MAX_DIRS         64u     /* entries of dirs */
#define CFG_MAX_MANIFESTS    16384u  /* *.yaml files in the modules directory (10,000 instances and room) */
#define CFG_MAX_GPIO_GRANTS  64u     /* entries of capabilities.gpio */
#define CFG_MAX_I2C_GRANTS   16u     /* entries of capabilities.i2c */
#define CFG_MAX_I2C_ADDRS    112u    /* addresses of one i2c entry (all of 0x03..0x77 and more) */
#define CFG_MAX_LABEL        32u     /* bytes of a GPIO label */
#define CFG_MAX_SIM_CHIPS    16u     /* hardware.gpio.chips */
#define CFG_MAX_SIM_DEVICES  128u    /* hardware.i2c.devices */
#define CFG_MAX_MIC_ALIASES  32u     /* hardware.microphones */
#define CFG_MAX_URL          2048u   /* bytes of a URL (source.url, fetch.proxy) */

/* ---- Errors ------------------------------------------------------------ */

/* Status codes: one table gives each its name and message. */
#define CFG_STATUS_MAP(X)                                                       \
    X(OK,             "ok")                                                     \
    X(ERR_NOMEM,      "out of memory")                                          \
    X(ERR_IO,         "cannot read the file")                                   \
    X(ERR_TOO_BIG,    "file too large")                                         \
    X(ERR_SYNTAX,     "YAML syntax error")                                      \
    X(ERR_EMPTY,      "empty file")                                             \
    X(ERR_MULTI_DOC,  "more than one document")                                 \
    X(ERR_UNSUPPORTED,"unsupported YAML feature")                               \
    X(ERR_LIMIT,      "limit exceeded")                                         \
    X(ERR_UNKNOWN_KEY,"unknown key")                                            \
    X(ERR_DUP_KEY,    "duplicate key")                                          \
    X(ERR_MISSING_KEY,"missing required key")                                   \
    X(ERR_TYPE,       "wrong type")                                             \
    X(ERR_RANGE,      "value out of range")                                     \
    X(ERR_ENUM,       "unknown value")                                          \
    X(ERR_VALUE,      "invalid value")                                          \
    X(ERR_DUP_NAME,   "duplicate module name")

typedef enum cfg_status {
#define CFG__STATUS_ENUM(name, msg) CFG_##name,
    CFG_STATUS_MAP(CFG__STATUS_ENUM)
#undef CFG__STATUS_ENUM
} cfg_status;

/* "CFG_ERR_TYPE" and "wrong type" for CFG_ERR_TYPE; "?" for values not in the table. */
const char *cfg_status_name(cfg_status s);
const char *cfg_status_message(cfg_status s);

/*
 * One error: "FILE:LINE:COLUMN: MESSAGE".  Lines and columns count from 1;
 * line 0 means the error concerns the whole file (it could not be opened,
 * for instance) and is formatted "FILE: MESSAGE".
 */
typedef struct cfg_error {
    char file[256];
    unsigned line;
    unsigned column;
    char message[256];
    cfg_status status;   /* the kind of error, for callers and tests */
} cfg_error;

/* Formats an error as "file:line:column: message" into buf; returns buf. */
const char *cfg_error_format(const cfg_error *err, char *buf, size_t size);

/*
 * Fills err (which may be NULL) and returns -1, so that a parser for a
 * layer built on this one (the hardware capabilities) reports its errors in
 * the same shape: `return cfg_error_set(err, CFG_ERR_VALUE, ...);`.
 */
int cfg_error_set(cfg_error *err, cfg_status status, const char *file, unsigned line,
                  unsigned column, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/*
 * The name of `names` (n of them) nearest to `word` by edit distance
 * (insertions, deletions, substitutions, swaps of neighbours), when it is
 * near enough to be a likely misspelling (at most 1 edit for words of up to
 * 4 letters, else 2); NULL otherwise.  For "did you mean ...?" hints.
 */
const char *cfg_nearest_name(const char *word, const char *const *names, size_t n);

/*
 * Normalises an absolute or relative path in place, lexically, the way
 * `realpath --no-symlinks --canonicalize-missing` does: repeated '/'
 * become one, "." components go, ".." removes the component before it
 * (at the root it stays the root), and a trailing '/' goes.  Symbolic links
 * are not followed and the path need not exist (a deployed module's
 * directory is a symbolic link that must stay as written).  "" becomes ".".
 * Returns `path`.
 */
char *cfg_path_normalize(char *path);

/* ---- Raw YAML nodes ---------------------------------------------------- */

/*
 * A YAML node as written, with where it was written: what the config
 * layer reads a file into before checking it against its schema.
 * Aliases are refused when parsing, so this is always a tree.
 */
typedef enum cfg_node_kind {
    CFG_NODE_SCALAR,
    CFG_NODE_LIST,
    CFG_NODE_MAP,
} cfg_node_kind;

typedef struct cfg_node {
    cfg_node_kind kind;
    unsigned line, column;       /* where the value starts, from 1 */
    char *key;                   /* a member of a mapping: its key; otherwise NULL */
    unsigned key_line, key_column;
    char *value;                 /* SCALAR: the text (no NUL bytes inside) */
    bool plain;                  /* SCALAR written without quotes: may be a number or null */
    struct cfg_node *items;      /* LIST: the elements; MAP: the members, key set */
    size_t count;
} cfg_node;

/* The member of a mapping with that key, or NULL (also when map is not a mapping). */
const cfg_node *cfg_node_get(const cfg_node *map, const char *key);
/* True for an unquoted empty, "~" or "null" scalar. */
bool cfg_node_is_null(const cfg_node *n);
/* "a string", "a list", "a mapping" or "null", for error messages. */
const char *cfg_node_kind_name(const cfg_node *n);

/* ---- Enumerations ------------------------------------------------------ */

/* Restart policies, with their manifest spellings ("never", "on-failure", "always"). */
typedef enum cfg_restart {
    CFG_RESTART_NEVER,
    CFG_RESTART_ON_FAILURE,
    CFG_RESTART_ALWAYS,
} cfg_restart;
const char *cfg_restart_name(cfg_restart r);     /* "?" for a value not in the table */
bool cfg_restart_parse(const char *s, cfg_restart *ret);

/* ---- Module manifests -------------------------------------------------- */

typedef struct cfg_env {
    char *name;
    char *value;
} cfg_env;

/* Where something was written in its file (line and column from 1), for later messages. */
typedef struct cfg_pos {
    unsigned line, column;
} cfg_pos;

/*
 * Hardware capabilities a manifest grants (deny by default).  Enum fields
 * hold the hardware layer's values (hal_gpio_direction, hal_gpio_bias,
 * hal_gpio_edge in hal/hal.h), whose spellings come from the same tables.
 */
typedef struct cfg_gpio_grant {
    char *label;               /* what the module asks for: [a-z0-9_-]{1,32}, unique in the manifest */
    char *chip;                /* "gpiochip0", "0", a device path or a simulated chip's name */
    uint32_t line;             /* offset on the chip */
    int direction;             /* input | output (required) */
    int bias;                  /* as-is (default) | disable | pull-up | pull-down */
    int edge;                  /* none (default) | rising | falling | both; inputs only */
    bool active_low;           /* default false */
    uint32_t safe_value;       /* outputs: 0 (default) or 1, driven at start and on release */
    cfg_pos pos;               /* of the list entry */
} cfg_gpio_grant;

typedef struct cfg_i2c_grant {
    uint32_t bus;              /* N of /dev/i2c-N, 0..255; one entry per bus */
    uint32_t *addresses;       /* 7-bit addresses 0x03..0x77, decimal or 0x hex; at least one */
    size_t naddresses;
    bool read_only;            /* default false */
    cfg_pos pos;
} cfg_i2c_grant;

/* The microphone grant; granted when device is not NULL. */
typedef struct cfg_mic_grant {
    char *device;              /* an alias from the daemon config's hardware.microphones, or an ALSA PCM name */
    uint32_t rate;             /* 8000..192000, default 16000 */
    uint32_t channels;         /* 1..8, default 1 */
    int format;                /* CFG_SAMPLE_S16_LE, the only one (default) */
    uint32_t period_frames;    /* 16..65536, default 320 */
    cfg_pos pos;
} cfg_mic_grant;

typedef enum cfg_sample_format {
    CFG_SAMPLE_S16_LE,
} cfg_sample_format;

typedef struct cfg_dir {
    char *host;   /* host path, made absolute against the manifest's directory */
    char *guest;  /* guest path; defaults to host (the absolute path) */
    bool readonly;
} cfg_dir;

/*
 * A module manifest.  Keys (see the schema table in config/manifest.c and
 * the man page wasmd.yaml(5)):
 *   name: string (default: the file name without .yaml); [a-z0-9_-]{1,64}
 *   module: path to the .wasm (relative to the manifest's directory); required
 *   args: [string]         env: {NAME: value}
 *   dirs: [{host, guest, readonly}]
 *   limits: {memory_pages, fuel_per_slice, stack_slots, call_depth}
 *   restart: never | on-failure | always   (default on-failure)
 *   restart_backoff_ms: initial backoff (default 100), doubling, capped at 30000
 *   crash_loop_limit: failures within crash_loop_window_s that mark it crash-looping (default 5 in 60 s)
 *   stop_timeout_ms: graceful-stop timeout (default 2000)
 *   capabilities: {gpio: [{label, chip, line, direction, bias, edge,
 *                  active_low, safe_value}], i2c: [{bus, addresses, read_only}],
 *                  microphone: {device, rate, channels, format, period_frames}}
 */
typedef struct cfg_manifest {
    char *path;           /* the manifest file, as given */
    char *name;
    char *module;         /* resolved against the manifest's directory: absolute */
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
    cfg_gpio_grant *gpio;      /* capabilities.gpio */
    size_t ngpio;
    cfg_i2c_grant *i2c;        /* capabilities.i2c */
    size_t ni2c;
    cfg_mic_grant mic;         /* capabilities.microphone: granted when mic.device != NULL */
    /* source: {url, sha256, ca_file}: where `wasmctl deploy` has the daemon download the module */
    char *source_url;          /* https:// (or http:// on loopback or when allowed); NULL: none */
    char *source_sha256;       /* 64 hex digits, required with url */
    char *source_ca_file;      /* a CA bundle (PEM) for this URL's server, or NULL: the daemon's */
    bool require_signature;    /* deploy refuses the module unless signed by a trusted key; default false */
} cfg_manifest;

/* Parses one manifest file.  Returns NULL and fills err on any error. */
cfg_manifest *cfg_manifest_load(const char *path, cfg_error *err);
void cfg_manifest_free(cfg_manifest *m);

/*
 * True if two manifests ask for the same thing (every field except path;
 * the cfg_pos positions are ignored): what reload uses to
 * leave an unchanged module running.
 */
bool cfg_manifest_equal(const cfg_manifest *a, const cfg_manifest *b);

/*
 * Loads every *.yaml of a directory, sorted by file name (byte order).
 * Names starting with '.' are skipped, so that a file being written under a
 * temporary name and then renamed into place is never read half-written.
 * Good manifests are returned in ret->items; each bad one (parse error, or a
 * name already used by an earlier file) is reported in ret->errors and
 * skipped.  ret is filled only on success; clear it with
 * cfg_manifest_set_clear().  The caller may take manifests out of items
 * (setting their slot to NULL) before clearing: clear frees what is left.
 */
typedef struct cfg_manifest_set {
    cfg_manifest **items;
    size_t count;
    cfg_error *errors;
    size_t nerrors;
} cfg_manifest_set;
int cfg_manifest_dir_load(const char *dir, cfg_manifest_set *ret); /* 0, or -errno if the dir can't be read */
void cfg_manifest_set_clear(cfg_manifest_set *set);

/* ---- The daemon config ------------------------------------------------- */

/* Hardware backends: real devices, or simulated ones declared in the config. */
typedef enum cfg_gpio_backend { CFG_GPIO_GPIOD, CFG_GPIO_SIM } cfg_gpio_backend;   /* "gpiod", "sim" */
typedef enum cfg_i2c_backend { CFG_I2C_DEV, CFG_I2C_SIM } cfg_i2c_backend;         /* "dev", "sim" */

/* hardware.gpio.chips: a simulated chip. */
typedef struct cfg_sim_chip {
    char *name;                /* "gpiochip0" (required) */
    char *label;               /* default "sim" */
    uint32_t lines;            /* 1..512, default 32 */
} cfg_sim_chip;

/* hardware.i2c.devices: a simulated device (a hal_i2c_sim_device). */
typedef struct cfg_sim_i2c_device {
    uint32_t bus;              /* 0..255 */
    uint32_t address;          /* 0x03..0x77 */
    int model;                 /* hal_i2c_sim_model: regmap | tmp102 (required) */
    uint32_t registers;        /* regmap: 1..256, default 256 */
    uint32_t width;            /* regmap: 1 or 2 bytes, default 1 */
    uint32_t *values;          /* regmap: initial values, at most `registers`; the rest are 0 */
    size_t nvalues;
    cfg_pos pos;
} cfg_sim_i2c_device;

/* hardware.microphones: a name manifests use for a capture device. */
typedef struct cfg_mic_alias {
    char *name;                /* [a-z0-9_-]{1,64} */
    char *pcm;                 /* the ALSA PCM it stands for (required) */
    char *alsa_conf;           /* a file of ALSA configuration defining pcm, or NULL: the system's */
    bool realtime;             /* default false; true: delivered no faster than the sample rate, for a
                                  device that produces samples as fast as they are read (a file) */
    cfg_pos pos;
} cfg_mic_alias;

typedef struct cfg_daemon {
    char *path;                /* the file read, or NULL when only defaults apply */
    char *modules_dir;         /* default /etc/wasmd/modules.d */
    char *state_dir;           /* default /var/lib/wasmd: deployed modules in state_dir/modules */
    char *socket_path;         /* default /run/wasmd/wasmd.sock */
    char *socket_group;        /* group allowed on the socket besides root; NULL: root only */
    uint32_t log_lines;        /* per-instance ring buffer, default 1000 */
    uint32_t client_idle_timeout_ms; /* a control connection with no traffic this long is closed, default 60000 */
    uint64_t fuel_per_slice;   /* default 100000 */
    uint32_t memory_pages;     /* default per-module memory limit, default 256 (16 MiB) */
    uint32_t stack_slots;      /* default 65536 */
    uint32_t call_depth;       /* default 2000 */
    uint32_t memory_budget_mib; /* linear memories and tables of all modules together; 0 (default):
                                   half of the machine's RAM (the daemon decides) */
    /* hardware: {gpio: {backend, chips}, i2c: {backend, devices}, microphones: [...]} */
    cfg_gpio_backend gpio_backend;   /* default gpiod */
    cfg_sim_chip *sim_chips;   /* sim: default one chip, gpiochip0 with 32 lines */
    size_t nsim_chips;
    cfg_i2c_backend i2c_backend;     /* default dev */
    cfg_sim_i2c_device *sim_i2c;
    size_t nsim_i2c;
    cfg_mic_alias *mics;
    size_t nmics;
    /* fetch: downloads of modules named by URL (daemon/fetch.c) */
    char *fetch_ca_file;       /* CA bundle (PEM) trusted for HTTPS; NULL: the system's */
    bool fetch_allow_http;     /* plain http:// to other hosts than loopback; default false */
    uint32_t fetch_max_module_mib; /* largest download, default 64 */
    uint32_t fetch_connect_timeout_s; /* default 15 */
    uint32_t fetch_timeout_s;  /* a whole download, default 600 */
    uint32_t fetch_max_redirects; /* default 5 */
    char *fetch_proxy;         /* proxy URL; NULL: the environment's (https_proxy, no_proxy...) */
    /* signatures of deployed modules (daemon/signature.c) */
    char *trusted_keys_dir;    /* minisign public keys (*.pub), default /etc/wasmd/trusted.d */
    bool require_signature;    /* every deploy must be signed by one of them; default false */
    uint32_t history_keep;     /* previous versions kept of each deployed module, default 2 */
    uint32_t health_window_s;  /* a deployed version failing within this many seconds is rolled back, default 30 */
    /* fleet: {url, interval_s, require_signature}: follow a desired-state document (daemon/fleet.c) */
    char *fleet_url;           /* NULL: no fleet mode */
    uint32_t fleet_interval_s; /* between polls, default 60 */
    bool fleet_require_signature; /* the document must be signed (URL.minisig), default false */
    /* metrics: {textfile_dir, interval_ms}: Prometheus text written there; off without the key */
    bool metrics;              /* the key is present */
    char *metrics_textfile_dir; /* default /var/lib/prometheus/node-exporter */
    uint32_t metrics_interval_ms; /* default 15000 */
} cfg_daemon;

/*
 * A desired-state document (fleet mode, daemon/fleet.c): the modules a
 * gateway should run.
 *
 *   version: "2026-12-02.1"      # the document's own version (string, for status)
 *   modules:
 *     - name: ticker
 *       url: https://updates.example/ticker-3.wasm
 *       sha256: 64 hex digits
 *       manifest: |               # the manifest, as a deploy sends it
 *         module: ticker.wasm
 *         args: [1000]
 *
 * A module's signature, if any, is fetched from URL.minisig.
 */
typedef struct cfg_fleet_module {
    char *name;
    char *url;
    char *sha256;
    char *manifest;            /* the manifest's YAML text */
    cfg_pos pos;
} cfg_fleet_module;

typedef struct cfg_fleet {
    char *version;
    cfg_fleet_module *modules;
    size_t nmodules;
} cfg_fleet;

#define CFG_MAX_FLEET_MODULES 256u

/* Parses a document held in memory (`file` names it in errors); NULL with err filled. */
cfg_fleet *cfg_fleet_parse(const char *file, const char *text, size_t len, cfg_error *err);
void cfg_fleet_free(cfg_fleet *f);

/*
 * path may be NULL: defaults only.  A missing file at the default path
 * (CFG_DEFAULT_DAEMON_CONFIG) is not an error; a missing file named
 * explicitly is.  Relative paths in the file are resolved against the
 * file's directory.
 */
cfg_daemon *cfg_daemon_load(const char *path, cfg_error *err);
void cfg_daemon_free(cfg_daemon *d);

#endif /* WASMD_CONFIG_H */
