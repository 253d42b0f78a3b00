/*
 * manifest.c - module manifests: the schema table of a manifest, loading
 * one file, and loading a whole modules directory.
 *
 * The table below is the single description of the manifest format; the
 * man page docs/wasmd.yaml.5 is written from it, and test_config checks
 * the two agree.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/internal.h"
/* For the GPIO enums' values and spellings only: config does not link the hal library. */
#include "hal/hal.h"

/* ---- The restart policy enum ------------------------------------------- */

/* The schema stores enums through an int. */
_Static_assert(sizeof(cfg_restart) == sizeof(int), "cfg_restart must be int-sized");

const cfg__enum_name cfg__restart_names[] = {
    { "never", CFG_RESTART_NEVER },
    { "on-failure", CFG_RESTART_ON_FAILURE },
    { "always", CFG_RESTART_ALWAYS },
    { NULL, 0 },
};

const char *cfg_restart_name(cfg_restart r) {
    for (const cfg__enum_name *e = cfg__restart_names; e->name; e++)
        if (e->value == (int)r)
            return e->name;
    return "?";
}

bool cfg_restart_parse(const char *s, cfg_restart *ret) {
    for (const cfg__enum_name *e = cfg__restart_names; e->name; e++) {
        if (strcmp(e->name, s) == 0) {
            *ret = (cfg_restart)e->value;
            return true;
        }
    }
    return false;
}

/* ---- The hardware enums ------------------------------------------------ */

/* The spellings are the hardware layer's, from its X-macro tables. */
#define ENUM_ROW_DIR(name, str) { str, HAL_GPIO_##name },
#define ENUM_ROW_BIAS(name, str) { str, HAL_GPIO_BIAS_##name },
#define ENUM_ROW_EDGE(name, str) { str, HAL_GPIO_EDGE_##name },

const cfg__enum_name cfg__gpio_direction_names[] = {
    HAL_GPIO_DIRECTION_MAP(ENUM_ROW_DIR)
    { NULL, 0 },
};
const cfg__enum_name cfg__gpio_bias_names[] = {
    HAL_GPIO_BIAS_MAP(ENUM_ROW_BIAS)
    { NULL, 0 },
};
const cfg__enum_name cfg__gpio_edge_names[] = {
    HAL_GPIO_EDGE_MAP(ENUM_ROW_EDGE)
    { NULL, 0 },
};

static const cfg__enum_name sample_format_names[] = {
    { "S16_LE", CFG_SAMPLE_S16_LE },
    { NULL, 0 },
};

/* ---- The schema -------------------------------------------------------- */

static const cfg__key dir_keys[] = {
    { .name = "host", .type = CFG__PATH, .offset = CFG__FIELD(cfg_dir, host), .required = true },
    { .name = "guest", .type = CFG__STRING, .offset = CFG__FIELD(cfg_dir, guest),
      .min = 1, .max = CFG_MAX_PATH },
    { .name = "readonly", .type = CFG__BOOL, .offset = CFG__FIELD(cfg_dir, readonly), .def = 0 },
};
static const cfg__schema dir_schema = CFG__SCHEMA("a dirs entry", dir_keys);

/* Absent limits stay 0, which tells the daemon to use its own default. */
#define LIMIT_KEY(field, lo, hi)                                                        \
    { .name = #field, .type = CFG__UINT, .offset = CFG__FIELD(cfg_manifest, field),      \
      .width = CFG__WIDTH(cfg_manifest, field), .min = (lo), .max = (hi), .def = 0 }

static const cfg__key limit_keys[] = {
    LIMIT_KEY(memory_pages, CFG__MIN_MEMORY_PAGES, CFG__MAX_MEMORY_PAGES),
    LIMIT_KEY(fuel_per_slice, CFG__MIN_FUEL_PER_SLICE, CFG__MAX_FUEL_PER_SLICE),
    LIMIT_KEY(stack_slots, CFG__MIN_STACK_SLOTS, CFG__MAX_STACK_SLOTS),
    LIMIT_KEY(call_depth, CFG__MIN_CALL_DEPTH, CFG__MAX_CALL_DEPTH),
};
static const cfg__schema limit_schema = CFG__SCHEMA("limits", limit_keys);

/* A GPIO label: what the module names the line by. */
static const char *check_label(const char *s) {
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
            return "a valid label (a-z, 0-9, '_' and '-' only)";
    return NULL;
}

/* capabilities.gpio entries. */
static const cfg__key gpio_keys[] = {
    { .name = "label", .type = CFG__STRING, .offset = CFG__FIELD(cfg_gpio_grant, label),
      .required = true, .min = 1, .max = CFG_MAX_LABEL, .check = check_label },
    { .name = "chip", .type = CFG__STRING, .offset = CFG__FIELD(cfg_gpio_grant, chip),
      .required = true, .min = 1, .max = CFG_MAX_PATH },
    { .name = "line", .type = CFG__UINT, .offset = CFG__FIELD(cfg_gpio_grant, line),
      .width = CFG__WIDTH(cfg_gpio_grant, line), .required = true, .min = 0,
      .max = HAL_GPIO_SIM_MAX_LINES - 1 },
    { .name = "direction", .type = CFG__ENUM, .offset = CFG__FIELD(cfg_gpio_grant, direction),
      .enums = cfg__gpio_direction_names, .required = true },
    { .name = "bias", .type = CFG__ENUM, .offset = CFG__FIELD(cfg_gpio_grant, bias),
      .enums = cfg__gpio_bias_names, .def = HAL_GPIO_BIAS_AS_IS },
    { .name = "edge", .type = CFG__ENUM, .offset = CFG__FIELD(cfg_gpio_grant, edge),
      .enums = cfg__gpio_edge_names, .def = HAL_GPIO_EDGE_NONE },
    { .name = "active_low", .type = CFG__BOOL, .offset = CFG__FIELD(cfg_gpio_grant, active_low),
      .def = 0 },
    { .name = "safe_value", .type = CFG__UINT, .offset = CFG__FIELD(cfg_gpio_grant, safe_value),
      .width = CFG__WIDTH(cfg_gpio_grant, safe_value), .min = 0, .max = 1, .def = 0 },
};
static const cfg__schema gpio_schema =
    CFG__SCHEMA_POS("a capabilities.gpio entry", gpio_keys, cfg_gpio_grant, pos);

/* capabilities.i2c entries. */
#define I2C_ADDR_MIN 0x03u
#define I2C_ADDR_MAX 0x77u
static const cfg__key i2c_keys[] = {
    { .name = "bus", .type = CFG__UINT, .offset = CFG__FIELD(cfg_i2c_grant, bus),
      .width = CFG__WIDTH(cfg_i2c_grant, bus), .required = true, .min = 0,
      .max = HAL_I2C_MAX_BUS },
    { .name = "addresses", .type = CFG__UINT_LIST, .offset = CFG__FIELD(cfg_i2c_grant, addresses),
      .count_offset = CFG__FIELD(cfg_i2c_grant, naddresses), .required = true,
      .min = I2C_ADDR_MIN, .max = I2C_ADDR_MAX, .min_items = 1, .max_items = CFG_MAX_I2C_ADDRS },
    { .name = "read_only", .type = CFG__BOOL, .offset = CFG__FIELD(cfg_i2c_grant, read_only),
      .def = 0 },
};
static const cfg__schema i2c_schema =
    CFG__SCHEMA_POS("a capabilities.i2c entry", i2c_keys, cfg_i2c_grant, pos);

/* capabilities.microphone: fills cfg_manifest.mic. */
#define MIC_UINT_KEY(field, lo, hi, dflt)                                               \
    { .name = #field, .type = CFG__UINT, .offset = CFG__FIELD(cfg_manifest, mic.field),  \
      .width = CFG__WIDTH(cfg_manifest, mic.field), .min = (lo), .max = (hi), .def = (dflt) }
static const cfg__key mic_keys[] = {
    { .name = "device", .type = CFG__STRING, .offset = CFG__FIELD(cfg_manifest, mic.device),
      .required = true, .min = 1, .max = 255 },
    MIC_UINT_KEY(rate, HAL_MIC_MIN_RATE, HAL_MIC_MAX_RATE, 16000),
    MIC_UINT_KEY(channels, 1, HAL_MIC_MAX_CHANNELS, 1),
    { .name = "format", .type = CFG__ENUM, .offset = CFG__FIELD(cfg_manifest, mic.format),
      .enums = sample_format_names, .def = CFG_SAMPLE_S16_LE },
    MIC_UINT_KEY(period_frames, 16, HAL_MIC_MAX_PERIOD, 320),
};
static const cfg__schema mic_schema =
    CFG__SCHEMA_POS("capabilities.microphone", mic_keys, cfg_manifest, mic.pos);

static const cfg__key capability_keys[] = {
    { .name = "gpio", .type = CFG__OBJECT_LIST, .offset = CFG__FIELD(cfg_manifest, gpio),
      .count_offset = CFG__FIELD(cfg_manifest, ngpio), .max_items = CFG_MAX_GPIO_GRANTS,
      .sub = &gpio_schema, .elem_size = sizeof(cfg_gpio_grant) },
    { .name = "i2c", .type = CFG__OBJECT_LIST, .offset = CFG__FIELD(cfg_manifest, i2c),
      .count_offset = CFG__FIELD(cfg_manifest, ni2c), .max_items = CFG_MAX_I2C_GRANTS,
      .sub = &i2c_schema, .elem_size = sizeof(cfg_i2c_grant) },
    { .name = "microphone", .type = CFG__OBJECT, .sub = &mic_schema },
};
static const cfg__schema capability_schema = CFG__SCHEMA("capabilities", capability_keys);

/* source.url: where deploy downloads the module. */
static const char *check_url(const char *s) {
    if (strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0)
        return NULL;
    return "an https:// (or http://) URL";
}

/* source.sha256: the module's SHA-256, 64 hex digits. */
static const char *check_sha256(const char *s) {
    if (strlen(s) != 64 || strspn(s, "0123456789abcdefABCDEF") != 64)
        return "a SHA-256 of 64 hex digits";
    return NULL;
}

static const cfg__key source_keys[] = {
    { .name = "url", .type = CFG__STRING, .offset = CFG__FIELD(cfg_manifest, source_url),
      .required = true, .min = 8, .max = CFG_MAX_URL, .check = check_url },
    { .name = "sha256", .type = CFG__STRING, .offset = CFG__FIELD(cfg_manifest, source_sha256),
      .required = true, .min = 64, .max = 64, .check = check_sha256 },
    { .name = "ca_file", .type = CFG__PATH, .offset = CFG__FIELD(cfg_manifest, source_ca_file) },
};
static const cfg__schema source_schema = CFG__SCHEMA("source", source_keys);

#define UINT_KEY(field, lo, hi, dflt)                                                   \
    { .name = #field, .type = CFG__UINT, .offset = CFG__FIELD(cfg_manifest, field),      \
      .width = CFG__WIDTH(cfg_manifest, field), .min = (lo), .max = (hi), .def = (dflt) }

static const cfg__key manifest_keys[] = {
    /* No default here: the file name gives it (see manifest_load). */
    { .name = "name", .type = CFG__NAME, .offset = CFG__FIELD(cfg_manifest, name) },
    { .name = "module", .type = CFG__PATH, .offset = CFG__FIELD(cfg_manifest, module),
      .required = true },
    { .name = "args", .type = CFG__STRING_LIST, .offset = CFG__FIELD(cfg_manifest, args),
      .count_offset = CFG__FIELD(cfg_manifest, nargs), .max_items = CFG_MAX_ARGS },
    { .name = "env", .type = CFG__STRING_MAP, .offset = CFG__FIELD(cfg_manifest, env),
      .count_offset = CFG__FIELD(cfg_manifest, nenv), .max_items = CFG_MAX_ENV },
    { .name = "dirs", .type = CFG__OBJECT_LIST, .offset = CFG__FIELD(cfg_manifest, dirs),
      .count_offset = CFG__FIELD(cfg_manifest, ndirs), .max_items = CFG_MAX_DIRS,
      .sub = &dir_schema, .elem_size = sizeof(cfg_dir) },
    { .name = "limits", .type = CFG__OBJECT, .sub = &limit_schema },
    { .name = "restart", .type = CFG__ENUM, .offset = CFG__FIELD(cfg_manifest, restart),
      .enums = cfg__restart_names, .def = CFG_RESTART_ON_FAILURE },
    UINT_KEY(restart_backoff_ms, 10, 30000, 100),
    UINT_KEY(crash_loop_limit, 1, 1000, 5),
    UINT_KEY(crash_loop_window_s, 1, 86400, 60),
    UINT_KEY(stop_timeout_ms, 0, 300000, 2000),
    { .name = "capabilities", .type = CFG__OBJECT, .sub = &capability_schema },
    { .name = "source", .type = CFG__OBJECT, .sub = &source_schema },
    { .name = "require_signature", .type = CFG__BOOL, .offset = CFG__FIELD(cfg_manifest, require_signature),
      .def = 0 },
};

const cfg__schema cfg__manifest_schema = CFG__SCHEMA("manifest", manifest_keys);

/* ---- Checks across entries --------------------------------------------- */

/*
 * The chip a GPIO grant names, for comparing grants: "0", "gpiochip0" and
 * "/dev/gpiochip0" are the same chip.  Writes into buf (or returns chip).
 */
static const char *chip_key(const char *chip, char *buf, size_t size) {
    if (strncmp(chip, "/dev/", 5) == 0)
        chip += 5;
    if (chip[0] && strspn(chip, "0123456789") == strlen(chip)) {
        snprintf(buf, size, "gpiochip%s", chip);
        return buf;
    }
    return chip;
}

/* What the schema cannot say: uniqueness across entries, and edges on outputs. */
static int check_capabilities(const cfg_manifest *m, const cfg_node *root, const cfg__ctx *ctx) {
    for (size_t i = 0; i < m->ngpio; i++) {
        const cfg_gpio_grant *g = &m->gpio[i];
        char bi[CFG_MAX_PATH + 16], bj[CFG_MAX_PATH + 16];
        for (size_t j = 0; j < i; j++) {
            const cfg_gpio_grant *h = &m->gpio[j];
            if (strcmp(g->label, h->label) == 0)
                return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file, g->pos.line,
                                     g->pos.column,
                                     "capabilities.gpio[%zu].label: '%s' is already granted at "
                                     "line %u",
                                     i, g->label, h->pos.line);
            if (g->line == h->line && strcmp(chip_key(g->chip, bi, sizeof bi),
                                             chip_key(h->chip, bj, sizeof bj)) == 0)
                return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file, g->pos.line,
                                     g->pos.column,
                                     "capabilities.gpio[%zu]: line %" PRIu32 " of chip '%s' is "
                                     "already granted at line %u (label '%s')",
                                     i, g->line, g->chip, h->pos.line, h->label);
        }
        if (g->direction == HAL_GPIO_OUTPUT && g->edge != HAL_GPIO_EDGE_NONE)
            return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file, g->pos.line, g->pos.column,
                                 "capabilities.gpio[%zu].edge: edge detection is for inputs "
                                 "only, and '%s' is an output",
                                 i, g->label);
        if (g->direction == HAL_GPIO_INPUT && g->safe_value != 0)
            return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file, g->pos.line, g->pos.column,
                                 "capabilities.gpio[%zu].safe_value: a safe value is for outputs "
                                 "only, and '%s' is an input",
                                 i, g->label);
    }
    for (size_t i = 0; i < m->ni2c; i++) {
        const cfg_i2c_grant *g = &m->i2c[i];
        for (size_t j = 0; j < i; j++)
            if (m->i2c[j].bus == g->bus)
                return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file, g->pos.line,
                                     g->pos.column,
                                     "capabilities.i2c[%zu].bus: bus %" PRIu32 " is already "
                                     "listed at line %u (one entry per bus)",
                                     i, g->bus, m->i2c[j].pos.line);
        for (size_t a = 0; a < g->naddresses; a++) {
            for (size_t b = 0; b < a; b++) {
                if (g->addresses[a] != g->addresses[b])
                    continue;
                /* At the repeated address itself when the tree has it. */
                const cfg_node *entry = cfg__node_find(root, "capabilities.i2c", i);
                const cfg_node *n = cfg__node_find(entry, "addresses", a);
                return cfg_error_set(ctx->err, CFG_ERR_VALUE, ctx->file,
                                     n ? n->line : g->pos.line, n ? n->column : g->pos.column,
                                     "capabilities.i2c[%zu].addresses[%zu]: address 0x%02" PRIx32
                                     " is listed twice",
                                     i, a, g->addresses[a]);
            }
        }
    }
    return 0;
}

/* ---- One manifest ------------------------------------------------------ */

void cfg_manifest_free(cfg_manifest *m) {
    if (!m)
        return;
    cfg__release(&cfg__manifest_schema, m);
    free(m->path);
    free(m);
}

bool cfg_manifest_equal(const cfg_manifest *a, const cfg_manifest *b) {
    return cfg__equal(&cfg__manifest_schema, a, b);
}

static const char MANIFEST_SUFFIX[] = ".yaml";

/* The module name a file name gives: its last component without ".yaml". */
static char *name_from_path(const char *path) {
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t len = strlen(base), slen = strlen(MANIFEST_SUFFIX);
    if (len > slen && strcmp(base + len - slen, MANIFEST_SUFFIX) == 0)
        len -= slen;
    return strndup(base, len);
}

/*
 * Loads one manifest; *ret_name_line and *ret_name_column tell where its
 * name comes from (the name key, or 1:1 when the file name gives it), for
 * the duplicate-name error of the directory loader.
 */
static cfg_manifest *manifest_load(const char *path, cfg_error *err, unsigned *ret_name_line,
                                   unsigned *ret_name_column) {
    cfg_node *root = NULL;
    cfg_manifest *m = NULL;

    if (cfg__parse_file(path, &root, NULL, err) < 0)
        return NULL;

    cfg__ctx ctx = { .file = path, .err = err };
    char *base = cfg__base_dir(path);
    if (!base) {
        cfg_error_set(err, CFG_ERR_IO, path, 0, 0, "cannot find the manifest's directory: %s",
                      strerror(errno));
        goto out_free_root;
    }
    ctx.base_dir = base;
    m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        cfg_error_set(err, CFG_ERR_NOMEM, path, 0, 0, "out of memory");
        goto out_free_manifest;
    }
    if (cfg__set_defaults(&cfg__manifest_schema, m, &ctx) < 0 ||
        cfg__apply(&cfg__manifest_schema, root, m, &ctx) < 0)
        goto out_free_manifest;

    const cfg_node *name = cfg_node_get(root, "name");
    unsigned name_line = name ? name->line : 1, name_column = name ? name->column : 1;
    if (!m->name) {
        if (!(m->name = name_from_path(path))) {
            cfg_error_set(err, CFG_ERR_NOMEM, path, 0, 0, "out of memory");
            goto out_free_manifest;
        }
        if (!cfg__valid_name(m->name)) {
            cfg_error_set(err, CFG_ERR_VALUE, path, 1, 1,
                          "the file name gives the module name '%.64s', which is not valid "
                          "(1 to %u of a-z, 0-9, '_', '-'); set name: explicitly",
                          m->name, CFG_MAX_NAME);
            goto out_free_manifest;
        }
    }

    /* A dirs entry without guest is seen by the module at its host path. */
    for (size_t i = 0; i < m->ndirs; i++) {
        if (!m->dirs[i].guest && !(m->dirs[i].guest = strdup(m->dirs[i].host))) {
            cfg_error_set(err, CFG_ERR_NOMEM, path, 0, 0, "out of memory");
            goto out_free_manifest;
        }
    }
    if (check_capabilities(m, root, &ctx) < 0)
        goto out_free_manifest;

    if (ret_name_line)
        *ret_name_line = name_line;
    if (ret_name_column)
        *ret_name_column = name_column;
    free(base);
    cfg__node_free(root);
    return m;

out_free_manifest:
    cfg_manifest_free(m);
    free(base);
out_free_root:
    cfg__node_free(root);
    return NULL;
}

cfg_manifest *cfg_manifest_load(const char *path, cfg_error *err) {
    return manifest_load(path, err, NULL, NULL);
}

/* ---- A directory of manifests ------------------------------------------ */

void cfg_manifest_set_clear(cfg_manifest_set *set) {
    if (!set)
        return;
    for (size_t i = 0; i < set->count; i++)
        cfg_manifest_free(set->items[i]);
    free(set->items);
    free(set->errors);
    memset(set, 0, sizeof *set);
}

static bool is_manifest_name(const char *name) {
    size_t len = strlen(name), slen = strlen(MANIFEST_SUFFIX);
    /* Hidden files are skipped: deploy writes a temporary .NAME.yaml and renames it. */
    return name[0] != '.' && len > slen && strcmp(name + len - slen, MANIFEST_SUFFIX) == 0;
}

static int compare_names(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int push_error(cfg_manifest_set *set, const cfg_error *err) {
    cfg_error *errors = realloc(set->errors, (set->nerrors + 1) * sizeof *errors);
    if (!errors)
        return -ENOMEM;
    set->errors = errors;
    set->errors[set->nerrors++] = *err;
    return 0;
}

/* The sorted names of the manifest files in dir; -errno on failure. */
static int list_manifests(const char *dir, char ***ret_names, size_t *ret_count, bool *truncated) {
    DIR *d = opendir(dir);
    if (!d)
        return -errno;
    char **names = NULL;
    size_t n = 0, cap = 0;
    int r = 0;
    struct dirent *de;

    *truncated = false;
    for (;;) {
        errno = 0;
        if (!(de = readdir(d))) {
            r = -errno;
            break;
        }
        if (!is_manifest_name(de->d_name))
            continue;
        if (n == CFG_MAX_MANIFESTS) {
            *truncated = true;
            continue;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            char **grown = realloc(names, cap * sizeof *grown);
            if (!grown) {
                r = -ENOMEM;
                break;
            }
            names = grown;
        }
        if (!(names[n] = strdup(de->d_name))) {
            r = -ENOMEM;
            break;
        }
        n++;
    }
    closedir(d);
    if (r < 0) {
        for (size_t i = 0; i < n; i++)
            free(names[i]);
        free(names);
        return r;
    }
    /* Sorted so that which of two same-named manifests wins does not depend on readdir. */
    if (n)
        qsort(names, n, sizeof *names, compare_names);
    *ret_names = names;
    *ret_count = n;
    return 0;
}

int cfg_manifest_dir_load(const char *dir, cfg_manifest_set *ret) {
    cfg_manifest_set set = { 0 };
    char **names = NULL;
    size_t n = 0, i = 0;
    bool truncated = false;
    int r = list_manifests(dir, &names, &n, &truncated);
    if (r < 0)
        return r;

    /* Where each kept manifest's name was written, for duplicate-name errors. */
    unsigned *name_lines = calloc(n ? n : 1, 2 * sizeof *name_lines);
    if (!name_lines || !(set.items = calloc(n ? n : 1, sizeof *set.items))) {
        r = -ENOMEM;
        goto out;
    }
    if (truncated) {
        cfg_error e;
        cfg_error_set(&e, CFG_ERR_LIMIT, dir, 0, 0,
                      "more than %u manifests; the rest were not read", CFG_MAX_MANIFESTS);
        if ((r = push_error(&set, &e)) < 0)
            goto out;
    }
    for (i = 0; i < n; i++) {
        cfg_error e;
        char *path;
        unsigned line = 1, column = 1;
        if (asprintf(&path, "%s/%s", dir, names[i]) < 0) {
            r = -ENOMEM;
            goto out;
        }
        cfg_manifest *m = manifest_load(path, &e, &line, &column);
        for (size_t j = 0; m && j < set.count; j++) {
            if (strcmp(set.items[j]->name, m->name) == 0) {
                cfg_error_set(&e, CFG_ERR_DUP_NAME, path, line, column,
                              "duplicate module name '%s' (already used by %s:%u:%u)", m->name,
                              set.items[j]->path, name_lines[2 * j], name_lines[2 * j + 1]);
                cfg_manifest_free(m);
                m = NULL;
            }
        }
        free(path);
        if (m) {
            name_lines[2 * set.count] = line;
            name_lines[2 * set.count + 1] = column;
            set.items[set.count++] = m;
        } else if ((r = push_error(&set, &e)) < 0) {
            goto out;
        }
    }
    *ret = set;
    r = 0;

out:
    if (r < 0)
        cfg_manifest_set_clear(&set);
    for (i = 0; i < n; i++)
        free(names[i]);
    free(names);
    free(name_lines);
    return r;
}
