/*
 * daemon_config.c - the daemon config (/etc/wasmd/wasmd.yaml): its schema
 * table and loading it.
 *
 * The table below is the single description of the file; the man page
 * docs/wasmd.yaml.5 is written from it, and test_config checks the two
 * agree.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config/internal.h"
/* For the simulated I2C models' values and spellings only: config does not link the hal library. */
#include "hal/hal.h"

/* The socket path must fit in sockaddr_un, with its terminating NUL. */
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Linux tools accept group names of up to 32 bytes. */
#define GROUP_NAME_MAX 32u

#define UINT_KEY(field, lo, hi, dflt)                                                   \
    { .name = #field, .type = CFG__UINT, .offset = CFG__FIELD(cfg_daemon, field),        \
      .width = CFG__WIDTH(cfg_daemon, field), .min = (lo), .max = (hi), .def = (dflt) }

/* ---- hardware ---------------------------------------------------------- */

static const cfg__enum_name gpio_backend_names[] = {
    { "gpiod", CFG_GPIO_GPIOD },
    { "sim", CFG_GPIO_SIM },
    { NULL, 0 },
};

static const cfg__enum_name i2c_backend_names[] = {
    { "dev", CFG_I2C_DEV },
    { "sim", CFG_I2C_SIM },
    { NULL, 0 },
};

#define ENUM_ROW_MODEL(name, str) { str, HAL_I2C_SIM_##name },
const cfg__enum_name cfg__i2c_model_names[] = {
    HAL_I2C_SIM_MODEL_MAP(ENUM_ROW_MODEL)
    { NULL, 0 },
};

/* The chip a sim backend gets when the config lists none. */
#define DEFAULT_SIM_CHIP  "gpiochip0"
#define DEFAULT_SIM_LABEL "sim"
#define DEFAULT_SIM_LINES 32u
#define SIM_NAME_MAX      31u          /* hal_gpio_chip_info's name and label hold 31 bytes */

static const cfg__key sim_chip_keys[] = {
    { .name = "name", .type = CFG__STRING, .offset = CFG__FIELD(cfg_sim_chip, name),
      .required = true, .min = 1, .max = SIM_NAME_MAX },
    { .name = "label", .type = CFG__STRING, .offset = CFG__FIELD(cfg_sim_chip, label),
      .min = 1, .max = SIM_NAME_MAX, .def_str = DEFAULT_SIM_LABEL },
    { .name = "lines", .type = CFG__UINT, .offset = CFG__FIELD(cfg_sim_chip, lines),
      .width = CFG__WIDTH(cfg_sim_chip, lines), .min = 1, .max = HAL_GPIO_SIM_MAX_LINES,
      .def = DEFAULT_SIM_LINES },
};
static const cfg__schema sim_chip_schema = CFG__SCHEMA("a hardware.gpio.chips entry", sim_chip_keys);

static const cfg__key hw_gpio_keys[] = {
    { .name = "backend", .type = CFG__ENUM, .offset = CFG__FIELD(cfg_daemon, gpio_backend),
      .enums = gpio_backend_names, .def = CFG_GPIO_GPIOD },
    { .name = "chips", .type = CFG__OBJECT_LIST, .offset = CFG__FIELD(cfg_daemon, sim_chips),
      .count_offset = CFG__FIELD(cfg_daemon, nsim_chips), .max_items = CFG_MAX_SIM_CHIPS,
      .sub = &sim_chip_schema, .elem_size = sizeof(cfg_sim_chip) },
};
static const cfg__schema hw_gpio_schema = CFG__SCHEMA("hardware.gpio", hw_gpio_keys);

#define I2C_ADDR_MIN 0x03u
#define I2C_ADDR_MAX 0x77u
#define DEV_UINT_KEY(field, lo, hi, dflt, req)                                                 \
    { .name = #field, .type = CFG__UINT, .offset = CFG__FIELD(cfg_sim_i2c_device, field),       \
      .width = CFG__WIDTH(cfg_sim_i2c_device, field), .min = (lo), .max = (hi), .def = (dflt), \
      .required = (req) }

static const cfg__key sim_i2c_keys[] = {
    DEV_UINT_KEY(bus, 0, HAL_I2C_MAX_BUS, 0, true),
    DEV_UINT_KEY(address, I2C_ADDR_MIN, I2C_ADDR_MAX, 0, true),
    { .name = "model", .type = CFG__ENUM, .offset = CFG__FIELD(cfg_sim_i2c_device, model),
      .enums = cfg__i2c_model_names, .required = true },
    DEV_UINT_KEY(registers, 1, HAL_I2C_SIM_MAX_REGS, HAL_I2C_SIM_MAX_REGS, false),
    DEV_UINT_KEY(width, 1, 2, 1, false),
    { .name = "values", .type = CFG__UINT_LIST, .offset = CFG__FIELD(cfg_sim_i2c_device, values),
      .count_offset = CFG__FIELD(cfg_sim_i2c_device, nvalues), .min = 0, .max = UINT16_MAX,
      .max_items = HAL_I2C_SIM_MAX_REGS },
};
static const cfg__schema sim_i2c_schema =
    CFG__SCHEMA_POS("a hardware.i2c.devices entry", sim_i2c_keys, cfg_sim_i2c_device, pos);

static const cfg__key hw_i2c_keys[] = {
    { .name = "backend", .type = CFG__ENUM, .offset = CFG__FIELD(cfg_daemon, i2c_backend),
      .enums = i2c_backend_names, .def = CFG_I2C_DEV },
    { .name = "devices", .type = CFG__OBJECT_LIST, .offset = CFG__FIELD(cfg_daemon, sim_i2c),
      .count_offset = CFG__FIELD(cfg_daemon, nsim_i2c), .max_items = CFG_MAX_SIM_DEVICES,
      .sub = &sim_i2c_schema, .elem_size = sizeof(cfg_sim_i2c_device) },
};
static const cfg__schema hw_i2c_schema = CFG__SCHEMA("hardware.i2c", hw_i2c_keys);

/* A microphone's name follows the rules of a module name. */
static const char *check_mic_name(const char *s) {
    return cfg__valid_name(s) ? NULL
                              : "a valid name (a-z, 0-9, '_' and '-', starting with a letter or "
                                "a digit)";
}

static const cfg__key mic_alias_keys[] = {
    { .name = "name", .type = CFG__STRING, .offset = CFG__FIELD(cfg_mic_alias, name),
      .required = true, .min = 1, .max = CFG_MAX_NAME, .check = check_mic_name },
    { .name = "pcm", .type = CFG__STRING, .offset = CFG__FIELD(cfg_mic_alias, pcm),
      .required = true, .min = 1, .max = 255 },
    { .name = "alsa_conf", .type = CFG__PATH, .offset = CFG__FIELD(cfg_mic_alias, alsa_conf) },
    { .name = "realtime", .type = CFG__BOOL, .offset = CFG__FIELD(cfg_mic_alias, realtime),
      .def = 0 },
};
static const cfg__schema mic_alias_schema =
    CFG__SCHEMA_POS("a hardware.microphones entry", mic_alias_keys, cfg_mic_alias, pos);

static const cfg__key hardware_keys[] = {
    { .name = "gpio", .type = CFG__OBJECT, .sub = &hw_gpio_schema },
    { .name = "i2c", .type = CFG__OBJECT, .sub = &hw_i2c_schema },
    { .name = "microphones", .type = CFG__OBJECT_LIST, .offset = CFG__FIELD(cfg_daemon, mics),
      .count_offset = CFG__FIELD(cfg_daemon, nmics), .max_items = CFG_MAX_MIC_ALIASES,
      .sub = &mic_alias_schema, .elem_size = sizeof(cfg_mic_alias) },
};
static const cfg__schema hardware_schema = CFG__SCHEMA("hardware", hardware_keys);

/* ---- fetch ------------------------------------------------------------- */

static const cfg__key fetch_keys[] = {
    { .name = "ca_file", .type = CFG__PATH, .offset = CFG__FIELD(cfg_daemon, fetch_ca_file) },
    { .name = "allow_http", .type = CFG__BOOL, .offset = CFG__FIELD(cfg_daemon, fetch_allow_http), .def = 0 },
    { .name = "max_module_mib", .type = CFG__UINT, .offset = CFG__FIELD(cfg_daemon, fetch_max_module_mib),
      .width = CFG__WIDTH(cfg_daemon, fetch_max_module_mib), .min = 1, .max = 256, .def = 64 },
    { .name = "connect_timeout_s", .type = CFG__UINT, .offset = CFG__FIELD(cfg_daemon, fetch_connect_timeout_s),
      .width = CFG__WIDTH(cfg_daemon, fetch_connect_timeout_s), .min = 1, .max = 300, .def = 15 },
    { .name = "timeout_s", .type = CFG__UINT, .offset = CFG__FIELD(cfg_daemon, fetch_timeout_s),
      .width = CFG__WIDTH(cfg_daemon, fetch_timeout_s), .min = 1, .max = 86400, .def = 600 },
    { .name = "max_redirects", .type = CFG__UINT, .offset = CFG__FIELD(cfg_daemon, fetch_max_redirects),
      .width = CFG__WIDTH(cfg_daemon, fetch_max_redirects), .min = 0, .max = 20, .def = 5 },
    { .name = "proxy", .type = CFG__STRING, .offset = CFG__FIELD(cfg_daemon, fetch_proxy),
      .nullable = true, .min = 1, .max = CFG_MAX_URL },
};
static const cfg__schema fetch_schema = CFG__SCHEMA("fetch", fetch_keys);

/* ---- fleet ------------------------------------------------------------- */

static const char *check_https(const char *s) {
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0 ? NULL : "an https:// (or http://) URL";
}

static const cfg__key fleet_keys[] = {
    { .name = "url", .type = CFG__STRING, .offset = CFG__FIELD(cfg_daemon, fleet_url), .nullable = true,
      .min = 8, .max = CFG_MAX_URL, .check = check_https },
    { .name = "interval_s", .type = CFG__UINT, .offset = CFG__FIELD(cfg_daemon, fleet_interval_s),
      .width = CFG__WIDTH(cfg_daemon, fleet_interval_s), .min = 1, .max = 86400, .def = 60 },
    { .name = "require_signature", .type = CFG__BOOL, .offset = CFG__FIELD(cfg_daemon, fleet_require_signature),
      .def = 0 },
};
static const cfg__schema fleet_schema = CFG__SCHEMA("fleet", fleet_keys);

/* The desired-state document (config.h: cfg_fleet). */
static const char *check_sha256_hex(const char *s) {
    return strlen(s) == 64 && strspn(s, "0123456789abcdefABCDEF") == 64 ? NULL : "a SHA-256 of 64 hex digits";
}
static const cfg__key fleet_module_keys[] = {
    { .name = "name", .type = CFG__NAME, .offset = CFG__FIELD(cfg_fleet_module, name), .required = true },
    { .name = "url", .type = CFG__STRING, .offset = CFG__FIELD(cfg_fleet_module, url), .required = true,
      .min = 8, .max = CFG_MAX_URL, .check = check_https },
    { .name = "sha256", .type = CFG__STRING, .offset = CFG__FIELD(cfg_fleet_module, sha256), .required = true,
      .min = 64, .max = 64, .check = check_sha256_hex },
    { .name = "manifest", .type = CFG__STRING, .offset = CFG__FIELD(cfg_fleet_module, manifest), .required = true,
      .min = 1 },
};
static const cfg__schema fleet_module_schema =
    CFG__SCHEMA_POS("a modules entry", fleet_module_keys, cfg_fleet_module, pos);
static const cfg__key fleet_doc_keys[] = {
    { .name = "version", .type = CFG__STRING, .offset = CFG__FIELD(cfg_fleet, version), .required = true,
      .min = 1, .max = 64 },
    { .name = "modules", .type = CFG__OBJECT_LIST, .offset = CFG__FIELD(cfg_fleet, modules),
      .count_offset = CFG__FIELD(cfg_fleet, nmodules), .max_items = CFG_MAX_FLEET_MODULES,
      .sub = &fleet_module_schema, .elem_size = sizeof(cfg_fleet_module) },
};
static const cfg__schema fleet_doc_schema = CFG__SCHEMA("desired-state document", fleet_doc_keys);

void cfg_fleet_free(cfg_fleet *f) {
    if (!f)
        return;
    cfg__release(&fleet_doc_schema, f);
    free(f);
}

cfg_fleet *cfg_fleet_parse(const char *file, const char *text, size_t len, cfg_error *err) {
    cfg_node *root = NULL;
    if (len > CFG_MAX_FILE_SIZE) {
        cfg_error_set(err, CFG_ERR_TOO_BIG, file, 0, 0, "larger than %u bytes", CFG_MAX_FILE_SIZE);
        return NULL;
    }
    if (cfg__parse_string(file, text, len, &root, err) < 0)
        return NULL;
    cfg__ctx ctx = { .file = file, .err = err };
    cfg_fleet *f = calloc(1, sizeof *f);
    if (!f) {
        cfg_error_set(err, CFG_ERR_NOMEM, file, 0, 0, "out of memory");
    } else if (cfg__set_defaults(&fleet_doc_schema, f, &ctx) < 0 || cfg__apply(&fleet_doc_schema, root, f, &ctx) < 0) {
        cfg_fleet_free(f);
        f = NULL;
    } else {
        for (size_t i = 0; i < f->nmodules && f; i++) {
            for (size_t j = 0; j < i; j++) {
                if (strcmp(f->modules[i].name, f->modules[j].name) == 0) {
                    cfg_error_set(err, CFG_ERR_DUP_NAME, file, f->modules[i].pos.line, f->modules[i].pos.column,
                                  "modules[%zu].name: '%s' is already listed at line %u", i, f->modules[i].name,
                                  f->modules[j].pos.line);
                    cfg_fleet_free(f);
                    f = NULL;
                    break;
                }
            }
        }
    }
    cfg__node_free(root);
    return f;
}
/* ---- metrics ----------------------------------------------------------- */

static const cfg__key metrics_keys[] = {
    { .name = "textfile_dir", .type = CFG__PATH, .offset = CFG__FIELD(cfg_daemon, metrics_textfile_dir),
      .def_str = CFG_DEFAULT_METRICS_DIR },
    { .name = "interval_ms", .type = CFG__UINT, .offset = CFG__FIELD(cfg_daemon, metrics_interval_ms),
      .width = CFG__WIDTH(cfg_daemon, metrics_interval_ms), .min = 100, .max = 3600000, .def = 15000 },
};
static const cfg__schema metrics_schema = CFG__SCHEMA("metrics", metrics_keys);

/* ---- The schema -------------------------------------------------------- */

static const cfg__key daemon_keys[] = {
    { .name = "modules_dir", .type = CFG__PATH, .offset = CFG__FIELD(cfg_daemon, modules_dir),
      .def_str = CFG_DEFAULT_MODULES_DIR },
    { .name = "state_dir", .type = CFG__PATH, .offset = CFG__FIELD(cfg_daemon, state_dir),
      .def_str = CFG_DEFAULT_STATE_DIR },
    { .name = "socket_path", .type = CFG__PATH, .offset = CFG__FIELD(cfg_daemon, socket_path),
      .def_str = CFG_DEFAULT_SOCKET_PATH, .max = SOCKET_PATH_MAX },
    { .name = "socket_group", .type = CFG__STRING, .offset = CFG__FIELD(cfg_daemon, socket_group),
      .nullable = true, .min = 1, .max = GROUP_NAME_MAX },
    UINT_KEY(log_lines, 10, 100000, 1000),
    UINT_KEY(client_idle_timeout_ms, 100, 86400000, 60000),
    UINT_KEY(fuel_per_slice, CFG__MIN_FUEL_PER_SLICE, CFG__MAX_FUEL_PER_SLICE, 100000),
    UINT_KEY(memory_pages, CFG__MIN_MEMORY_PAGES, CFG__MAX_MEMORY_PAGES, 256),
    UINT_KEY(stack_slots, CFG__MIN_STACK_SLOTS, CFG__MAX_STACK_SLOTS, 65536),
    UINT_KEY(call_depth, CFG__MIN_CALL_DEPTH, CFG__MAX_CALL_DEPTH, 2000),
    UINT_KEY(memory_budget_mib, 0, CFG__MAX_MEMORY_BUDGET_MIB, 0),
    { .name = "hardware", .type = CFG__OBJECT, .sub = &hardware_schema },
    { .name = "fetch", .type = CFG__OBJECT, .sub = &fetch_schema },
    { .name = "trusted_keys_dir", .type = CFG__PATH, .offset = CFG__FIELD(cfg_daemon, trusted_keys_dir),
      .def_str = CFG_DEFAULT_TRUSTED_DIR },
    { .name = "require_signature", .type = CFG__BOOL, .offset = CFG__FIELD(cfg_daemon, require_signature), .def = 0 },
    UINT_KEY(history_keep, 0, 16, 2),
    UINT_KEY(health_window_s, 0, 86400, 30),
    { .name = "fleet", .type = CFG__OBJECT, .sub = &fleet_schema },
    { .name = "metrics", .type = CFG__OBJECT, .sub = &metrics_schema },
};

const cfg__schema cfg__daemon_schema = CFG__SCHEMA("daemon config", daemon_keys);

/* ---- Checks across entries --------------------------------------------- */

/* An error at a node of the tree (found by path and index), or at fallback. */
static int err_node(const cfg__ctx *ctx, const cfg_node *root, const char *path, size_t i,
                    bool at_key, cfg_pos fallback, const char *fmt, ...)
    __attribute__((format(printf, 7, 8)));
static int err_node(const cfg__ctx *ctx, const cfg_node *root, const char *path, size_t i,
                    bool at_key, cfg_pos fallback, const char *fmt, ...) {
    const cfg_node *n = cfg__node_find(root, path, i);
    unsigned line = fallback.line, column = fallback.column;
    if (n) {
        line = at_key && n->key ? n->key_line : n->line;
        column = at_key && n->key ? n->key_column : n->column;
    }
    char msg[sizeof ctx->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file, line, column, "%s", msg);
}

static const cfg_pos no_pos = { 1, 1 };

static int check_gpio(cfg_daemon *d, const cfg_node *root, const cfg__ctx *ctx) {
    if (d->gpio_backend != CFG_GPIO_SIM) {
        if (d->nsim_chips)
            return err_node(ctx, root, "hardware.gpio.chips", SIZE_MAX, true, no_pos,
                            "hardware.gpio.chips: only for backend: sim (the backend is gpiod)");
        return 0;
    }
    for (size_t i = 0; i < d->nsim_chips; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->sim_chips[i].name, d->sim_chips[j].name) == 0) {
                const cfg_node *first = cfg__node_find(root, "hardware.gpio.chips", j);
                return err_node(ctx, root, "hardware.gpio.chips", i, false, no_pos,
                                "hardware.gpio.chips[%zu].name: chip '%s' is already declared "
                                "at line %u",
                                i, d->sim_chips[i].name, first ? first->line : 0);
            }
    if (d->nsim_chips == 0) {
        cfg_sim_chip *chip = calloc(1, sizeof *chip);
        if (!chip || !(chip->name = strdup(DEFAULT_SIM_CHIP)) ||
            !(chip->label = strdup(DEFAULT_SIM_LABEL))) {
            if (chip)
                free(chip->name);
            free(chip);
            return cfg_error_set(ctx->err, CFG_ERR_NOMEM, ctx->file, 0, 0, "out of memory");
        }
        chip->lines = DEFAULT_SIM_LINES;
        d->sim_chips = chip;
        d->nsim_chips = 1;
    }
    return 0;
}

static int check_i2c(const cfg_daemon *d, const cfg_node *root, const cfg__ctx *ctx) {
    static const char devices[] = "hardware.i2c.devices";
    if (d->i2c_backend != CFG_I2C_SIM) {
        if (d->nsim_i2c)
            return err_node(ctx, root, devices, SIZE_MAX, true, no_pos,
                            "%s: only for backend: sim (the backend is dev)", devices);
        return 0;
    }
    for (size_t i = 0; i < d->nsim_i2c; i++) {
        const cfg_sim_i2c_device *dev = &d->sim_i2c[i];
        const cfg_pos at = dev->pos;
        for (size_t j = 0; j < i; j++)
            if (d->sim_i2c[j].bus == dev->bus && d->sim_i2c[j].address == dev->address)
                return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file, at.line, at.column,
                                     "%s[%zu]: a device at bus %" PRIu32 " address 0x%02" PRIx32
                                     " is already declared at line %u",
                                     devices, i, dev->bus, dev->address, d->sim_i2c[j].pos.line);
        const cfg_node *entry = cfg__node_find(root, devices, i);
        if (dev->model != HAL_I2C_SIM_REGMAP) {
            static const char *const regmap_only[] = { "registers", "width", "values" };
            for (size_t k = 0; k < sizeof regmap_only / sizeof regmap_only[0]; k++)
                if (cfg__node_find(entry, regmap_only[k], SIZE_MAX))
                    return err_node(ctx, entry, regmap_only[k], SIZE_MAX, true, at,
                                    "%s[%zu].%s: only for model: regmap", devices, i,
                                    regmap_only[k]);
            continue;
        }
        if (dev->nvalues > dev->registers)
            return err_node(ctx, entry, "values", dev->registers, false, at,
                            "%s[%zu].values: %zu values for %" PRIu32 " registers", devices, i,
                            dev->nvalues, dev->registers);
        for (size_t k = 0; k < dev->nvalues; k++)
            if (dev->width == 1 && dev->values[k] > UINT8_MAX)
                return err_node(ctx, entry, "values", k, false, at,
                                "%s[%zu].values[%zu]: %" PRIu32 " does not fit in a 1-byte "
                                "register (width: 1)",
                                devices, i, k, dev->values[k]);
    }
    return 0;
}

static int check_mics(const cfg_daemon *d, const cfg__ctx *ctx) {
    for (size_t i = 0; i < d->nmics; i++)
        for (size_t j = 0; j < i; j++)
            if (strcmp(d->mics[i].name, d->mics[j].name) == 0)
                return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file, d->mics[i].pos.line,
                                     d->mics[i].pos.column,
                                     "hardware.microphones[%zu].name: '%s' is already declared "
                                     "at line %u",
                                     i, d->mics[i].name, d->mics[j].pos.line);
    return 0;
}

/* What the schema cannot say, and the default simulated chip. */
static int check_hardware(cfg_daemon *d, const cfg_node *root, const cfg__ctx *ctx) {
    if (check_gpio(d, root, ctx) < 0 || check_i2c(d, root, ctx) < 0 || check_mics(d, ctx) < 0)
        return -1;
    return 0;
}

void cfg_daemon_free(cfg_daemon *d) {
    if (!d)
        return;
    cfg__release(&cfg__daemon_schema, d);
    free(d->path);
    free(d);
}

cfg_daemon *cfg_daemon_load(const char *path, cfg_error *err) {
    cfg__ctx ctx = { .file = path ? path : "(defaults)", .err = err };
    cfg_node *root = NULL;
    int error;

    cfg_daemon *d = calloc(1, sizeof *d);
    if (!d) {
        cfg_error_set(err, CFG_ERR_NOMEM, ctx.file, 0, 0, "out of memory");
        return NULL;
    }
    if (cfg__set_defaults(&cfg__daemon_schema, d, &ctx) < 0)
        goto out_free_daemon;
    if (!path)
        return d;

    if (cfg__parse_file(path, &root, &error, err) < 0) {
        /* An installation without a config file simply runs on the defaults. */
        if (error == ENOENT && strcmp(path, CFG_DEFAULT_DAEMON_CONFIG) == 0)
            return d;
        goto out_free_daemon;
    }
    if (!(ctx.base_dir = cfg__base_dir(path))) {
        cfg_error_set(err, CFG_ERR_IO, path, 0, 0, "cannot find the config's directory: %s",
                      strerror(errno));
        goto out_free_root;
    }
    if (cfg__apply(&cfg__daemon_schema, root, d, &ctx) < 0 || check_hardware(d, root, &ctx) < 0)
        goto out_free_base;
    d->metrics = cfg_node_get(root, "metrics") != NULL;
    if (!(d->path = strdup(path))) {
        cfg_error_set(err, CFG_ERR_NOMEM, path, 0, 0, "out of memory");
        goto out_free_base;
    }
    free((char *)ctx.base_dir);
    cfg__node_free(root);
    return d;

out_free_base:
    free((char *)ctx.base_dir);
out_free_root:
    cfg__node_free(root);
out_free_daemon:
    cfg_daemon_free(d);
    return NULL;
}
