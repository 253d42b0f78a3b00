/*
 * daemon_config.c - the daemon config (/etc/wasmd/wasmd.yaml): its schema
 * table and loading it.
 *
 * The table below is the single description of the file; the man page
 * docs/wasmd.yaml.5 is written from it, and test_config checks the two
 * agree.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#include "config/internal.h"

/* The socket path must fit in sockaddr_un, with its terminating NUL. */
#define SOCKET_PATH_MAX (sizeof(((struct sockaddr_un *)0)->sun_path) - 1)

/* Linux tools accept group names of up to 32 bytes. */
#define GROUP_NAME_MAX 32u

#define UINT_KEY(field, lo, hi, dflt)                                                   \
    { .name = #field, .type = CFG__UINT, .offset = CFG__FIELD(cfg_daemon, field),        \
      .width = CFG__WIDTH(cfg_daemon, field), .min = (lo), .max = (hi), .def = (dflt) }

static const cfg__key daemon_keys[] = {
    { .name = "modules_dir", .type = CFG__PATH, .offset = CFG__FIELD(cfg_daemon, modules_dir),
      .def_str = CFG_DEFAULT_MODULES_DIR },
    { .name = "socket_path", .type = CFG__PATH, .offset = CFG__FIELD(cfg_daemon, socket_path),
      .def_str = CFG_DEFAULT_SOCKET_PATH, .max = SOCKET_PATH_MAX },
    { .name = "socket_group", .type = CFG__STRING, .offset = CFG__FIELD(cfg_daemon, socket_group),
      .nullable = true, .min = 1, .max = GROUP_NAME_MAX },
    UINT_KEY(log_lines, 10, 100000, 1000),
    UINT_KEY(fuel_per_slice, CFG__MIN_FUEL_PER_SLICE, CFG__MAX_FUEL_PER_SLICE, 100000),
    UINT_KEY(memory_pages, CFG__MIN_MEMORY_PAGES, CFG__MAX_MEMORY_PAGES, 256),
    UINT_KEY(stack_slots, CFG__MIN_STACK_SLOTS, CFG__MAX_STACK_SLOTS, 65536),
    UINT_KEY(call_depth, CFG__MIN_CALL_DEPTH, CFG__MAX_CALL_DEPTH, 2000),
};

const cfg__schema cfg__daemon_schema = { "daemon config", daemon_keys,
                                         sizeof daemon_keys / sizeof daemon_keys[0] };

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
    if (cfg__apply(&cfg__daemon_schema, root, d, &ctx) < 0)
        goto out_free_base;
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
