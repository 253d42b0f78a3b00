/*
 * schema.c - the engine under every config file: reading a YAML file into a
 * tree of cfg_node (with the line and column of every key and value), and
 * filling a struct from that tree as a schema table describes.
 *
 * The file is first turned into our own tree, with libyaml's event API,
 * rather than walked as a yaml_document_t: that way aliases can be refused
 * (a document API tree shares aliased nodes, and walking it can blow up
 * exponentially), every count and size is bounded while parsing, duplicate
 * keys are caught in any mapping, and every value keeps its line and
 * column for the messages of checks made after the schema's.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

#include "config/internal.h"

/* ---- Status codes and errors ------------------------------------------- */

static const struct {
    const char *name;
    const char *message;
} status_table[] = {
#define CFG__STATUS_ROW(name, msg) { "CFG_" #name, msg },
    CFG_STATUS_MAP(CFG__STATUS_ROW)
#undef CFG__STATUS_ROW
};

const char *cfg_status_name(cfg_status s) {
    if ((size_t)s >= sizeof status_table / sizeof status_table[0])
        return "?";
    return status_table[s].name;
}

const char *cfg_status_message(cfg_status s) {
    if ((size_t)s >= sizeof status_table / sizeof status_table[0])
        return "?";
    return status_table[s].message;
}

int cfg_error_set(cfg_error *err, cfg_status status, const char *file, unsigned line,
                  unsigned column, const char *fmt, ...) {
    if (!err)
        return -1;
    snprintf(err->file, sizeof err->file, "%s", file ? file : "");
    err->line = line;
    err->column = column;
    err->status = status;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return -1;
}

const char *cfg_error_format(const cfg_error *err, char *buf, size_t size) {
    if (size == 0)
        return buf;
    if (err->line == 0)
        snprintf(buf, size, "%s: %s", err->file, err->message);
    else
        snprintf(buf, size, "%s:%u:%u: %s", err->file, err->line, err->column, err->message);
    return buf;
}

/* An error at a node's value, or at its key. */
static int err_at(const cfg__ctx *ctx, const cfg_node *n, cfg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err_at(const cfg__ctx *ctx, const cfg_node *n, cfg_status st, const char *fmt, ...) {
    char msg[sizeof ctx->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cfg_error_set(ctx->err, st, ctx->file, n->line, n->column, "%s", msg);
}

static int err_at_key(const cfg__ctx *ctx, const cfg_node *n, cfg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err_at_key(const cfg__ctx *ctx, const cfg_node *n, cfg_status st, const char *fmt, ...) {
    char msg[sizeof ctx->err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cfg_error_set(ctx->err, st, ctx->file, n->key_line, n->key_column, "%s", msg);
}

/* ---- Nodes ------------------------------------------------------------- */

static void node_clear(cfg_node *n) {
    for (size_t i = 0; i < n->count; i++)
        node_clear(&n->items[i]);
    free(n->items);
    free(n->key);
    free(n->value);
    memset(n, 0, sizeof *n);
}

void cfg__node_free(cfg_node *n) {
    if (!n)
        return;
    node_clear(n);
    free(n);
}

const cfg_node *cfg_node_get(const cfg_node *map, const char *key) {
    if (!map || map->kind != CFG_NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->count; i++)
        if (strcmp(map->items[i].key, key) == 0)
            return &map->items[i];
    return NULL;
}

bool cfg_node_is_null(const cfg_node *n) {
    if (!n || n->kind != CFG_NODE_SCALAR || !n->plain)
        return false;
    const char *v = n->value;
    return v[0] == '\0' || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

const char *cfg_node_kind_name(const cfg_node *n) {
    switch (n->kind) {
    case CFG_NODE_SCALAR: return cfg_node_is_null(n) ? "null" : "a string";
    case CFG_NODE_LIST: return "a list";
    case CFG_NODE_MAP: return "a mapping";
    }
    return "?";
}

const cfg_node *cfg__node_find(const cfg_node *map, const char *path, size_t i) {
    const cfg_node *n = map;
    const char *p = path;
    while (n && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        const cfg_node *next = NULL;
        if (n->kind == CFG_NODE_MAP)
            for (size_t j = 0; j < n->count && !next; j++)
                if (strlen(n->items[j].key) == len && memcmp(n->items[j].key, p, len) == 0)
                    next = &n->items[j];
        n = next;
        p += len + (dot ? 1 : 0);
    }
    if (!n || i == SIZE_MAX)
        return n;
    return n->kind == CFG_NODE_LIST && i < n->count ? &n->items[i] : NULL;
}

static bool str_equal(const char *a, const char *b) {
    if (!a || !b)
        return a == b;
    return strcmp(a, b) == 0;
}

/* ---- YAML text to tree ------------------------------------------------- */

typedef struct parser {
    yaml_parser_t yp;
    const char *text;         /* the whole input, to place reader errors */
    size_t len;
    size_t nodes;             /* nodes made so far, against CFG_MAX_NODES */
    cfg__ctx ctx;
} parser;

/*
 * libyaml's reader errors (bad UTF-8, control characters) give a byte
 * offset rather than a mark, so the line and column are counted here, in
 * characters as libyaml counts them.
 */
static void offset_to_mark(const char *text, size_t len, size_t offset, unsigned *line,
                           unsigned *column) {
    *line = 1;
    *column = 1;
    for (size_t i = 0; i < offset && i < len; i++) {
        unsigned char c = (unsigned char)text[i];
        if (c == '\n') {
            ++*line;
            *column = 1;
        } else if ((c & 0xc0) != 0x80) {
            ++*column;
        }
    }
}

static int yaml_failed(parser *p) {
    const yaml_parser_t *yp = &p->yp;
    cfg_error *err = p->ctx.err;
    unsigned line, column;

    if (yp->error == YAML_MEMORY_ERROR)
        return cfg_error_set(err, CFG_ERR_NOMEM, p->ctx.file, 0, 0, "out of memory");
    if (yp->error == YAML_READER_ERROR) {
        offset_to_mark(p->text, p->len, yp->problem_offset, &line, &column);
    } else {
        line = (unsigned)yp->problem_mark.line + 1;
        column = (unsigned)yp->problem_mark.column + 1;
    }
    const char *problem = yp->problem ? yp->problem : "malformed YAML";
    if (yp->context)
        return cfg_error_set(err, CFG_ERR_SYNTAX, p->ctx.file, line, column,
                             "syntax error: %s %s (at %u:%u)", problem, yp->context,
                             (unsigned)yp->context_mark.line + 1,
                             (unsigned)yp->context_mark.column + 1);
    return cfg_error_set(err, CFG_ERR_SYNTAX, p->ctx.file, line, column, "syntax error: %s",
                         problem);
}

static int next_event(parser *p, yaml_event_t *ev) {
    if (!yaml_parser_parse(&p->yp, ev))
        return yaml_failed(p);
    return 0;
}

static int err_mark(parser *p, yaml_mark_t mark, cfg_status st, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err_mark(parser *p, yaml_mark_t mark, cfg_status st, const char *fmt, ...) {
    char msg[sizeof p->ctx.err->message];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return cfg_error_set(p->ctx.err, st, p->ctx.file, (unsigned)mark.line + 1,
                         (unsigned)mark.column + 1, "%s", msg);
}

/* A scalar's text, checked for size and embedded NUL bytes (a "\0" escape). */
static int scalar_text(parser *p, const yaml_event_t *ev, char **ret) {
    size_t len = ev->data.scalar.length;
    const char *v = (const char *)ev->data.scalar.value;
    if (len > CFG_MAX_STRING)
        return err_mark(p, ev->start_mark, CFG_ERR_LIMIT, "string longer than %u bytes",
                        CFG_MAX_STRING);
    if (memchr(v, '\0', len))
        return err_mark(p, ev->start_mark, CFG_ERR_VALUE, "string contains a NUL character");
    char *s = strndup(v, len);
    if (!s)
        return cfg_error_set(p->ctx.err, CFG_ERR_NOMEM, p->ctx.file, 0, 0, "out of memory");
    *ret = s;
    return 0;
}

/* Makes room for one more item; the new slot is zeroed and counted, so it is freed with n. */
static cfg_node *push_item(parser *p, cfg_node *n, size_t *cap, yaml_mark_t mark) {
    if (n->count >= CFG_MAX_ITEMS) {
        err_mark(p, mark, CFG_ERR_LIMIT, "more than %u entries in one %s", CFG_MAX_ITEMS,
                 n->kind == CFG_NODE_MAP ? "mapping" : "list");
        return NULL;
    }
    if (n->count == *cap) {
        size_t ncap = *cap ? *cap * 2 : 4;
        cfg_node *items = realloc(n->items, ncap * sizeof *items);
        if (!items) {
            cfg_error_set(p->ctx.err, CFG_ERR_NOMEM, p->ctx.file, 0, 0, "out of memory");
            return NULL;
        }
        n->items = items;
        *cap = ncap;
    }
    cfg_node *item = &n->items[n->count++];
    memset(item, 0, sizeof *item);
    return item;
}

static int parse_node(parser *p, const yaml_event_t *ev, cfg_node *n, unsigned depth);

static int parse_list(parser *p, cfg_node *n, unsigned depth) {
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(p, &ev) < 0)
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        cfg_node *item = push_item(p, n, &cap, ev.start_mark);
        int r = item ? parse_node(p, &ev, item, depth + 1) : -1;
        yaml_event_delete(&ev);
        if (r < 0)
            return -1;
    }
}

static int parse_map(parser *p, cfg_node *n, unsigned depth) {
    size_t cap = 0;
    for (;;) {
        yaml_event_t kev, vev;
        if (next_event(p, &kev) < 0)
            return -1;
        if (kev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&kev);
            return 0;
        }
        if (kev.type != YAML_SCALAR_EVENT) {
            err_mark(p, kev.start_mark, CFG_ERR_TYPE, "mapping keys must be strings");
            yaml_event_delete(&kev);
            return -1;
        }
        cfg_node *item = push_item(p, n, &cap, kev.start_mark);
        if (!item || scalar_text(p, &kev, &item->key) < 0) {
            yaml_event_delete(&kev);
            return -1;
        }
        item->key_line = (unsigned)kev.start_mark.line + 1;
        item->key_column = (unsigned)kev.start_mark.column + 1;
        yaml_event_delete(&kev);

        /* Duplicate keys are an error in any mapping: YAML forbids them and
         * silently keeping one of the two would hide a mistake. */
        for (size_t i = 0; i + 1 < n->count; i++) {
            const cfg_node *first = &n->items[i];
            if (strcmp(first->key, item->key) == 0)
                return err_at_key(&p->ctx, item, CFG_ERR_DUP_KEY,
                                  "duplicate key '%s' (first at line %u, column %u)", item->key,
                                  first->key_line, first->key_column);
        }

        if (next_event(p, &vev) < 0)
            return -1;
        int r = parse_node(p, &vev, item, depth + 1);
        yaml_event_delete(&vev);
        if (r < 0)
            return -1;
    }
}

/* Fills n from the node that starts with event ev (which the caller deletes). */
static int parse_node(parser *p, const yaml_event_t *ev, cfg_node *n, unsigned depth) {
    n->line = (unsigned)ev->start_mark.line + 1;
    n->column = (unsigned)ev->start_mark.column + 1;
    if (++p->nodes > CFG_MAX_NODES)
        return err_mark(p, ev->start_mark, CFG_ERR_LIMIT, "more than %u values in one file",
                        CFG_MAX_NODES);

    switch (ev->type) {
    case YAML_SCALAR_EVENT:
        n->kind = CFG_NODE_SCALAR;
        n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        return scalar_text(p, ev, &n->value);
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT:
        if (depth >= CFG_MAX_DEPTH)
            return err_mark(p, ev->start_mark, CFG_ERR_LIMIT, "nested deeper than %u levels",
                            CFG_MAX_DEPTH);
        if (ev->type == YAML_SEQUENCE_START_EVENT) {
            n->kind = CFG_NODE_LIST;
            return parse_list(p, n, depth);
        }
        n->kind = CFG_NODE_MAP;
        return parse_map(p, n, depth);
    case YAML_ALIAS_EVENT:
        /* Refused so that a small file cannot expand into a huge tree. */
        return err_mark(p, ev->start_mark, CFG_ERR_UNSUPPORTED,
                        "aliases (*%s) are not supported", (const char *)ev->data.alias.anchor);
    default:
        return err_mark(p, ev->start_mark, CFG_ERR_SYNTAX, "unexpected YAML event");
    }
}

/* The event after the root node: the end of the document, then of the stream. */
static int parse_stream_end(parser *p) {
    yaml_event_t ev;
    if (next_event(p, &ev) < 0)
        return -1;
    yaml_event_delete(&ev);       /* DOCUMENT_END: libyaml guarantees it here */
    if (next_event(p, &ev) < 0)
        return -1;
    int r = 0;
    if (ev.type == YAML_DOCUMENT_START_EVENT)
        r = err_mark(p, ev.start_mark, CFG_ERR_MULTI_DOC,
                     "a second YAML document: only one is allowed per file");
    yaml_event_delete(&ev);
    return r;
}

int cfg__parse_string(const char *file, const char *text, size_t len, cfg_node **ret_root,
                      cfg_error *err) {
    parser p = { .text = text, .len = len, .ctx = { .file = file, .err = err } };
    cfg_node *root = NULL;
    yaml_event_t ev;
    int r = -1;

    if (!yaml_parser_initialize(&p.yp))
        return cfg_error_set(err, CFG_ERR_NOMEM, file, 0, 0, "out of memory");
    yaml_parser_set_input_string(&p.yp, (const unsigned char *)text, len);

    if (next_event(&p, &ev) < 0)           /* STREAM_START */
        goto out_parser;
    yaml_event_delete(&ev);
    if (next_event(&p, &ev) < 0)
        goto out_parser;
    if (ev.type == YAML_STREAM_END_EVENT) {
        yaml_event_delete(&ev);
        cfg_error_set(err, CFG_ERR_EMPTY, file, 1, 1, "empty file: expected a mapping of keys");
        goto out_parser;
    }
    yaml_event_delete(&ev);                /* DOCUMENT_START */

    root = calloc(1, sizeof *root);
    if (!root) {
        cfg_error_set(err, CFG_ERR_NOMEM, file, 0, 0, "out of memory");
        goto out_parser;
    }
    if (next_event(&p, &ev) < 0)
        goto out_root;
    r = parse_node(&p, &ev, root, 0);
    yaml_event_delete(&ev);
    if (r < 0)
        goto out_root;
    r = -1;
    if (cfg_node_is_null(root)) {
        err_at(&p.ctx, root, CFG_ERR_EMPTY, "empty document: expected a mapping of keys");
        goto out_root;
    }
    if (root->kind != CFG_NODE_MAP) {
        err_at(&p.ctx, root, CFG_ERR_TYPE, "the top level must be a mapping of keys, not %s",
               cfg_node_kind_name(root));
        goto out_root;
    }
    if (parse_stream_end(&p) < 0)
        goto out_root;
    *ret_root = root;
    yaml_parser_delete(&p.yp);
    return 0;

out_root:
    cfg__node_free(root);
out_parser:
    yaml_parser_delete(&p.yp);
    return -1;
}

int cfg__parse_file(const char *path, cfg_node **ret_root, int *ret_errno, cfg_error *err) {
    char *buf = NULL;
    size_t len = 0;
    struct stat st;
    int r = -1;

    if (ret_errno)
        *ret_errno = 0;
    /* O_NONBLOCK: a FIFO dropped in the directory must not hang the daemon. */
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
        if (ret_errno)
            *ret_errno = errno;
        return cfg_error_set(err, CFG_ERR_IO, path, 0, 0, "cannot open: %s", strerror(errno));
    }
    if (fstat(fd, &st) < 0) {
        cfg_error_set(err, CFG_ERR_IO, path, 0, 0, "cannot stat: %s", strerror(errno));
        goto out_close_fd;
    }
    if (!S_ISREG(st.st_mode)) {
        cfg_error_set(err, CFG_ERR_IO, path, 0, 0, "not a regular file");
        goto out_close_fd;
    }
    if ((uint64_t)st.st_size > CFG_MAX_FILE_SIZE)
        goto too_big;
    /* One byte more than the limit, to notice a file that grew since fstat. */
    buf = malloc(CFG_MAX_FILE_SIZE + 1);
    if (!buf) {
        cfg_error_set(err, CFG_ERR_NOMEM, path, 0, 0, "out of memory");
        goto out_close_fd;
    }
    for (;;) {
        ssize_t n = read(fd, buf + len, CFG_MAX_FILE_SIZE + 1 - len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            cfg_error_set(err, CFG_ERR_IO, path, 0, 0, "cannot read: %s", strerror(errno));
            goto out_free_buf;
        }
        if (n == 0)
            break;
        len += (size_t)n;
        if (len > CFG_MAX_FILE_SIZE)
            goto too_big;
    }
    r = cfg__parse_string(path, buf, len, ret_root, err);
    goto out_free_buf;

too_big:
    cfg_error_set(err, CFG_ERR_TOO_BIG, path, 0, 0, "larger than %u bytes", CFG_MAX_FILE_SIZE);
out_free_buf:
    free(buf);
out_close_fd:
    close(fd);
    return r;
}

/* ---- Paths and names --------------------------------------------------- */

char *cfg__base_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char *dir;

    if (!slash)
        dir = strdup(".");
    else if (slash == path)
        dir = strdup("/");
    else
        dir = strndup(path, (size_t)(slash - path));
    if (!dir || dir[0] == '/')
        return dir;

    char *cwd = getcwd(NULL, 0);
    if (!cwd) {
        free(dir);
        return NULL;
    }
    char *abs = NULL;
    int r = strcmp(dir, ".") == 0 ? asprintf(&abs, "%s", cwd) : asprintf(&abs, "%s/%s", cwd, dir);
    free(cwd);
    free(dir);
    return r < 0 ? NULL : abs;
}

char *cfg_path_normalize(char *path) {
    bool absolute = path[0] == '/';
    char *out = path;      /* where the next component goes */
    char *base = path + (absolute ? 1 : 0); /* what ".." may not climb above */
    size_t kept = 0;       /* components written after base, that ".." may remove */
    const char *p = path;
    if (absolute)
        *out++ = '/';
    while (*p) {
        while (*p == '/')
            p++;
        if (!*p)
            break;
        const char *end = strchr(p, '/');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        bool last = !end;  /* writing the '/' after it may overwrite its terminating NUL */
        if (len == 1 && p[0] == '.') {
            /* nothing */
        } else if (len == 2 && p[0] == '.' && p[1] == '.') {
            if (kept > 0) {
                /* Back to the '/' before the last component (or to base). */
                out--;                     /* the '/' after it, or its last byte */
                while (out > base && out[-1] != '/')
                    out--;
                kept--;
            } else if (!absolute) {
                /* A relative path keeps its leading "..": nothing to remove. */
                memmove(out, "../", 3);
                out += 3;
                base = out;
            }
        } else {
            memmove(out, p, len);
            out += len;
            *out++ = '/';
            kept++;
        }
        if (last)
            break;
        p += len;
    }
    if (out > path + 1 && out[-1] == '/')
        out--;
    if (out == path)
        *out++ = '.';
    *out = '\0';
    return path;
}

bool cfg__valid_name(const char *s) {
    size_t len = strlen(s);
    if (len == 0 || len > CFG_MAX_NAME)
        return false;
    /* A leading '-' would read as an option on wasmctl's command line. */
    if (s[0] == '-' || s[0] == '_')
        return false;
    for (size_t i = 0; i < len; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

/* ---- Filling a struct from a schema ------------------------------------ */

#define FIELD(obj, key) ((char *)(obj) + (key)->offset)
#define COUNT(obj, key) ((size_t *)((char *)(obj) + (key)->count_offset))

static int no_memory(const cfg__ctx *ctx) {
    return cfg_error_set(ctx->err, CFG_ERR_NOMEM, ctx->file, 0, 0, "out of memory");
}

static void replace_string(char **field, char *s) {
    free(*field);
    *field = s;
}

static int type_error(const cfg__ctx *ctx, const cfg_node *v, const char *key,
                      const char *expected) {
    if (v->kind == CFG_NODE_SCALAR && !cfg_node_is_null(v))
        return err_at(ctx, v, CFG_ERR_TYPE, "%s: expected %s, got %s'%s'", key, expected,
                      v->plain ? "" : "the quoted string ", v->value);
    return err_at(ctx, v, CFG_ERR_TYPE, "%s: expected %s, got %s", key, expected,
                  cfg_node_kind_name(v));
}

/* A non-null scalar at most max bytes long (max 0: CFG_MAX_STRING). */
static int get_string(const cfg__ctx *ctx, const cfg_node *v, const char *key, uint64_t min,
                      uint64_t max, const char **ret) {
    if (v->kind != CFG_NODE_SCALAR || cfg_node_is_null(v))
        return type_error(ctx, v, key, "a string");
    size_t len = strlen(v->value);
    if (max && len > max)
        return err_at(ctx, v, CFG_ERR_RANGE, "%s: longer than %" PRIu64 " bytes", key, max);
    if (len < min)
        return err_at(ctx, v, CFG_ERR_RANGE, "%s: expected at least %" PRIu64 " byte%s", key,
                      min, min == 1 ? "" : "s");
    *ret = v->value;
    return 0;
}

/*
 * The name of a nested key for messages, such as "dirs[1].host".  It is
 * cut short if it does not fit: it only ever appears in a message.
 */
#define KEY_NAME_MAX 160
static void key_name(char *buf, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void key_name(char *buf, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, size, fmt, ap);
    va_end(ap);
}

static int set_path(const cfg__key *k, const cfg_node *v, void *obj, const cfg__ctx *ctx,
                    const char *key) {
    const char *s;
    if (get_string(ctx, v, key, 0, 0, &s) < 0)
        return -1;
    if (s[0] == '\0')
        return err_at(ctx, v, CFG_ERR_VALUE, "%s: expected a path, got an empty string", key);
    char *path;
    int r = (s[0] == '/' || !ctx->base_dir)
                ? asprintf(&path, "%s", s)
                : asprintf(&path, "%s%s%s", ctx->base_dir,
                           ctx->base_dir[strlen(ctx->base_dir) - 1] == '/' ? "" : "/", s);
    if (r < 0)
        return no_memory(ctx);
    cfg_path_normalize(path); /* "mods.d/../files/x.wasm" is shown as ".../files/x.wasm" */
    uint64_t max = k->max ? k->max : CFG_MAX_PATH;
    if (strlen(path) > max) {
        free(path);
        return err_at(ctx, v, CFG_ERR_RANGE, "%s: path longer than %" PRIu64 " bytes", key, max);
    }
    replace_string((char **)FIELD(obj, k), path);
    return 0;
}

static void store_uint(const cfg__key *k, void *obj, uint64_t value) {
    if (k->width == sizeof(uint64_t)) {
        uint64_t v = value;
        memcpy(FIELD(obj, k), &v, sizeof v);
    } else {
        uint32_t v = (uint32_t)value;
        memcpy(FIELD(obj, k), &v, sizeof v);
    }
}

static uint64_t load_uint(const cfg__key *k, const void *obj) {
    const char *p = (const char *)obj + k->offset;
    if (k->width == sizeof(uint64_t)) {
        uint64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    uint32_t v;
    memcpy(&v, p, sizeof v);
    return v;
}

/*
 * An unsigned integer: decimal digits (a leading 0 is just a digit: 010 is
 * ten, not octal) or 0x and hexadecimal digits; no sign, no spaces, no
 * separators.  A quoted "5" is a string in YAML; taking it as a number
 * would hide a typo.  A '-' before digits is reported as out of range,
 * which is what the writer needs to hear; any other text as the wrong type.
 */
static int get_uint(const cfg__ctx *ctx, const cfg_node *v, const char *key, uint64_t min,
                    uint64_t max, uint64_t *ret) {
    char expected[96];
    snprintf(expected, sizeof expected, "an integer from %" PRIu64 " to %" PRIu64, min, max);
    if (v->kind != CFG_NODE_SCALAR || !v->plain || cfg_node_is_null(v))
        return type_error(ctx, v, key, expected);

    const char *s = v->value;
    bool negative = s[0] == '-';
    unsigned base = 10;
    if (negative)
        s++;
    else if (s[0] == '0' && s[1] == 'x')
        s += 2, base = 16;
    if (*s == '\0')
        return type_error(ctx, v, key, expected);
    uint64_t value = 0;
    bool overflow = false;
    for (; *s; s++) {
        unsigned d;
        if (*s >= '0' && *s <= '9')
            d = (unsigned)(*s - '0');
        else if (base == 16 && *s >= 'a' && *s <= 'f')
            d = (unsigned)(*s - 'a' + 10);
        else if (base == 16 && *s >= 'A' && *s <= 'F')
            d = (unsigned)(*s - 'A' + 10);
        else
            return type_error(ctx, v, key, expected);
        if (value > (UINT64_MAX - d) / base)
            overflow = true;
        else
            value = value * base + d;
    }
    if (overflow || negative || value < min || value > max)
        return err_at(ctx, v, CFG_ERR_RANGE, "%s: %s is out of range (expected %s)", key,
                      v->value, expected);
    *ret = value;
    return 0;
}

static int set_uint(const cfg__key *k, const cfg_node *v, void *obj, const cfg__ctx *ctx,
                    const char *key) {
    uint64_t value;
    if (get_uint(ctx, v, key, k->min, k->max, &value) < 0)
        return -1;
    store_uint(k, obj, value);
    return 0;
}

/* The length of a list or mapping against min_items..max_items (max_items 0: no bound). */
static int check_items(const cfg__key *k, const cfg_node *v, size_t n, const cfg__ctx *ctx,
                       const char *key) {
    if (k->max_items && n > k->max_items)
        return err_at(ctx, v, CFG_ERR_LIMIT, "%s: more than %zu entries", key, k->max_items);
    if (n < k->min_items)
        return err_at(ctx, v, CFG_ERR_RANGE, "%s: expected at least %zu entr%s", key,
                      k->min_items, k->min_items == 1 ? "y" : "ies");
    return 0;
}

static int set_enum(const cfg__key *k, const cfg_node *v, void *obj, const cfg__ctx *ctx,
                    const char *key) {
    char names[160] = "";
    size_t used = 0;
    for (const cfg__enum_name *e = k->enums; e->name; e++) {
        int n = snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", e->name);
        if (n > 0 && (size_t)n < sizeof names - used)
            used += (size_t)n;
    }
    if (v->kind != CFG_NODE_SCALAR || cfg_node_is_null(v)) {
        char expected[sizeof names + 16];
        snprintf(expected, sizeof expected, "one of %s", names);
        return type_error(ctx, v, key, expected);
    }
    for (const cfg__enum_name *e = k->enums; e->name; e++) {
        if (strcmp(e->name, v->value) == 0) {
            memcpy(FIELD(obj, k), &e->value, sizeof e->value);
            return 0;
        }
    }
    return err_at(ctx, v, CFG_ERR_ENUM, "%s: '%s' is not one of %s", key, v->value, names);
}

static void free_string_list(char **list, size_t n) {
    for (size_t i = 0; i < n; i++)
        free(list[i]);
    free(list);
}

static int set_string_list(const cfg__key *k, const cfg_node *v, void *obj, const cfg__ctx *ctx,
                           const char *key) {
    char ***field = (char ***)FIELD(obj, k);
    size_t *count = COUNT(obj, k);
    char **list = NULL;
    size_t n = 0;

    if (!cfg_node_is_null(v) && v->kind != CFG_NODE_LIST)
        return type_error(ctx, v, key, "a list of strings");
    if (check_items(k, v, cfg_node_is_null(v) ? 0 : v->count, ctx, key) < 0)
        return -1;
    if (!cfg_node_is_null(v) && v->count) {
        list = calloc(v->count, sizeof *list);
        if (!list)
            return no_memory(ctx);
        for (; n < v->count; n++) {
            char item_key[KEY_NAME_MAX];
            const char *s;
            key_name(item_key, sizeof item_key, "%s[%zu]", key, n);
            if (get_string(ctx, &v->items[n], item_key, 0, 0, &s) < 0)
                goto out_free_list;
            if (!(list[n] = strdup(s))) {
                no_memory(ctx);
                goto out_free_list;
            }
        }
    }
    free_string_list(*field, *count);
    *field = list;
    *count = n;
    return 0;

out_free_list:
    free_string_list(list, n);
    return -1;
}

static void free_env(cfg_env *env, size_t n) {
    for (size_t i = 0; i < n; i++) {
        free(env[i].name);
        free(env[i].value);
    }
    free(env);
}

static int set_string_map(const cfg__key *k, const cfg_node *v, void *obj, const cfg__ctx *ctx,
                          const char *key) {
    cfg_env **field = (cfg_env **)FIELD(obj, k);
    size_t *count = COUNT(obj, k);
    cfg_env *env = NULL;
    size_t n = 0;

    if (!cfg_node_is_null(v) && v->kind != CFG_NODE_MAP)
        return type_error(ctx, v, key, "a mapping of names to strings");
    if (check_items(k, v, cfg_node_is_null(v) ? 0 : v->count, ctx, key) < 0)
        return -1;
    if (!cfg_node_is_null(v) && v->count) {
        env = calloc(v->count, sizeof *env);
        if (!env)
            return no_memory(ctx);
        for (; n < v->count; n++) {
            const cfg_node *item = &v->items[n];
            char item_key[KEY_NAME_MAX];
            const char *s;
            /* Environment names cannot hold '=': it separates name from value. */
            if (item->key[0] == '\0' || strchr(item->key, '=')) {
                err_at_key(ctx, item, CFG_ERR_VALUE,
                           "%s: '%s' is not a valid variable name (non-empty, without '=')",
                           key, item->key);
                goto out_free_env;
            }
            key_name(item_key, sizeof item_key, "%s.%s", key, item->key);
            if (get_string(ctx, item, item_key, 0, 0, &s) < 0)
                goto out_free_env;
            env[n].name = strdup(item->key);
            env[n].value = strdup(s);
            if (!env[n].name || !env[n].value) {
                n++;
                no_memory(ctx);
                goto out_free_env;
            }
        }
    }
    free_env(*field, *count);
    *field = env;
    *count = n;
    return 0;

out_free_env:
    free_env(env, n);
    return -1;
}

static int set_uint_list(const cfg__key *k, const cfg_node *v, void *obj, const cfg__ctx *ctx,
                         const char *key) {
    uint32_t **field = (uint32_t **)FIELD(obj, k);
    size_t *count = COUNT(obj, k);
    uint32_t *list = NULL;
    size_t n = 0;

    if (!cfg_node_is_null(v) && v->kind != CFG_NODE_LIST) {
        char expected[96];
        snprintf(expected, sizeof expected, "a list of integers from %" PRIu64 " to %" PRIu64,
                 k->min, k->max);
        return type_error(ctx, v, key, expected);
    }
    if (check_items(k, v, cfg_node_is_null(v) ? 0 : v->count, ctx, key) < 0)
        return -1;
    if (!cfg_node_is_null(v) && v->count) {
        list = calloc(v->count, sizeof *list);
        if (!list)
            return no_memory(ctx);
        for (; n < v->count; n++) {
            char item_key[KEY_NAME_MAX];
            uint64_t value;
            key_name(item_key, sizeof item_key, "%s[%zu]", key, n);
            if (get_uint(ctx, &v->items[n], item_key, k->min, k->max, &value) < 0) {
                free(list);
                return -1;
            }
            list[n] = (uint32_t)value;   /* max is at most UINT32_MAX for a list */
        }
    }
    free(*field);
    *field = list;
    *count = n;
    return 0;
}

static void store_pos(const cfg__schema *schema, void *obj, unsigned line, unsigned column) {
    if (schema->has_pos) {
        cfg_pos pos = { .line = line, .column = column };
        memcpy((char *)obj + schema->pos_offset, &pos, sizeof pos);
    }
}

/* Damerau-Levenshtein distance (optimal string alignment) of two short words, capped at limit + 1. */
static size_t edit_distance(const char *a, const char *b, size_t limit) {
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return limit + 1;
    size_t d[64][64];
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = a[i - 1] != b[j - 1];
            size_t best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best)
                best = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < best)
                best = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    }
    return d[la][lb] > limit ? limit + 1 : d[la][lb];
}

const char *cfg_nearest_name(const char *word, const char *const *names, size_t n) {
    size_t limit = strlen(word) <= 4 ? 1 : 2, best = limit + 1;
    const char *found = NULL;
    for (size_t i = 0; i < n; i++) {
        size_t dist = edit_distance(word, names[i], limit);
        if (dist < best) {
            best = dist;
            found = names[i];
        }
    }
    return found;
}

static int apply_map(const cfg__schema *schema, const cfg_node *map, void *obj,
                     const cfg__ctx *ctx, const char *prefix);

static int set_object_list(const cfg__key *k, const cfg_node *v, void *obj, const cfg__ctx *ctx,
                           const char *key) {
    void **field = (void **)FIELD(obj, k);
    size_t *count = COUNT(obj, k);
    char *array = NULL;
    size_t n = 0;

    if (!cfg_node_is_null(v) && v->kind != CFG_NODE_LIST)
        return type_error(ctx, v, key, "a list of mappings");
    if (check_items(k, v, cfg_node_is_null(v) ? 0 : v->count, ctx, key) < 0)
        return -1;
    if (!cfg_node_is_null(v) && v->count) {
        array = calloc(v->count, k->elem_size);
        if (!array)
            return no_memory(ctx);
        for (; n < v->count; n++) {
            const cfg_node *item = &v->items[n];
            void *elem = array + n * k->elem_size;
            char item_key[KEY_NAME_MAX];
            key_name(item_key, sizeof item_key, "%s[%zu]", key, n);
            if (item->kind != CFG_NODE_MAP) {
                type_error(ctx, item, item_key, "a mapping");
                goto out_free_array;
            }
            if (cfg__set_defaults(k->sub, elem, ctx) < 0 ||
                apply_map(k->sub, item, elem, ctx, item_key) < 0) {
                n++;             /* release what the element got so far */
                goto out_free_array;
            }
            store_pos(k->sub, elem, item->line, item->column);
        }
    }
    for (size_t i = 0; i < *count; i++)
        cfg__release(k->sub, (char *)*field + i * k->elem_size);
    free(*field);
    *field = array;
    *count = n;
    return 0;

out_free_array:
    for (size_t i = 0; i < n; i++)
        cfg__release(k->sub, array + i * k->elem_size);
    free(array);
    return -1;
}

static int apply_key(const cfg__key *k, const cfg_node *v, void *obj, const cfg__ctx *ctx,
                     const char *key) {
    const char *s;

    switch (k->type) {
    case CFG__STRING:
        if (k->nullable && cfg_node_is_null(v)) {
            replace_string((char **)FIELD(obj, k), NULL);
            return 0;
        }
        if (get_string(ctx, v, key, k->min, k->max, &s) < 0)
            return -1;
        if (k->check) {
            const char *expected = k->check(s);
            if (expected)
                return err_at(ctx, v, CFG_ERR_VALUE, "%s: '%s' is not %s", key, s, expected);
        }
        goto dup_string;
    case CFG__NAME:
        if (get_string(ctx, v, key, 0, 0, &s) < 0)
            return -1;
        if (!cfg__valid_name(s))
            return err_at(ctx, v, CFG_ERR_VALUE,
                          "%s: '%s' is not a valid module name (1 to %u of a-z, 0-9, '_', '-', "
                          "starting with a letter or digit)",
                          key, s, CFG_MAX_NAME);
        goto dup_string;
    case CFG__PATH:
        return set_path(k, v, obj, ctx, key);
    case CFG__UINT:
        return set_uint(k, v, obj, ctx, key);
    case CFG__BOOL:
        if (v->kind != CFG_NODE_SCALAR || !v->plain ||
            (strcmp(v->value, "true") != 0 && strcmp(v->value, "false") != 0))
            return type_error(ctx, v, key, "true or false");
        *(bool *)FIELD(obj, k) = v->value[0] == 't';
        return 0;
    case CFG__ENUM:
        return set_enum(k, v, obj, ctx, key);
    case CFG__STRING_LIST:
        return set_string_list(k, v, obj, ctx, key);
    case CFG__UINT_LIST:
        return set_uint_list(k, v, obj, ctx, key);
    case CFG__STRING_MAP:
        return set_string_map(k, v, obj, ctx, key);
    case CFG__OBJECT:
        if (cfg_node_is_null(v))
            return 0;
        if (v->kind != CFG_NODE_MAP)
            return type_error(ctx, v, key, "a mapping");
        if (apply_map(k->sub, v, obj, ctx, key) < 0)
            return -1;
        store_pos(k->sub, obj, v->key_line, v->key_column);
        return 0;
    case CFG__OBJECT_LIST:
        return set_object_list(k, v, obj, ctx, key);
    }
    return err_at(ctx, v, CFG_ERR_VALUE, "%s: unsupported key type", key);

dup_string:;
    char *copy = strdup(s);
    if (!copy)
        return no_memory(ctx);
    replace_string((char **)FIELD(obj, k), copy);
    return 0;
}

static const cfg__key *find_key(const cfg__schema *schema, const char *name) {
    for (size_t i = 0; i < schema->nkeys; i++)
        if (strcmp(schema->keys[i].name, name) == 0)
            return &schema->keys[i];
    return NULL;
}

static int apply_map(const cfg__schema *schema, const cfg_node *map, void *obj,
                     const cfg__ctx *ctx, const char *prefix) {
    for (size_t i = 0; i < map->count; i++) {
        const cfg_node *v = &map->items[i];
        char key[KEY_NAME_MAX];
        key_name(key, sizeof key, "%s%s%s", prefix ? prefix : "", prefix ? "." : "", v->key);
        const cfg__key *k = find_key(schema, v->key);
        if (!k) {
            char known[160] = "";
            size_t used = 0;
            for (size_t j = 0; j < schema->nkeys; j++) {
                int n = snprintf(known + used, sizeof known - used, "%s%s", j ? ", " : "",
                                 schema->keys[j].name);
                if (n > 0 && (size_t)n < sizeof known - used)
                    used += (size_t)n;
            }
            const char *names[64];
            size_t nnames = 0;
            for (size_t j = 0; j < schema->nkeys && nnames < 64; j++)
                names[nnames++] = schema->keys[j].name;
            const char *near = cfg_nearest_name(v->key, names, nnames);
            if (near)
                return err_at_key(ctx, v, CFG_ERR_UNKNOWN_KEY, "unknown key '%s' in %s: did you mean '%s'?",
                                  key, schema->what, near);
            return err_at_key(ctx, v, CFG_ERR_UNKNOWN_KEY, "unknown key '%s' in %s (known: %s)",
                              key, schema->what, known);
        }
        if (apply_key(k, v, obj, ctx, key) < 0)
            return -1;
    }
    for (size_t i = 0; i < schema->nkeys; i++) {
        const cfg__key *k = &schema->keys[i];
        if (k->required && !cfg_node_get(map, k->name))
            return err_at(ctx, map, CFG_ERR_MISSING_KEY, "missing required key '%s%s%s' in %s",
                          prefix ? prefix : "", prefix ? "." : "", k->name, schema->what);
    }
    return 0;
}

int cfg__apply(const cfg__schema *schema, const cfg_node *map, void *obj, const cfg__ctx *ctx) {
    return apply_map(schema, map, obj, ctx, NULL);
}

int cfg__set_defaults(const cfg__schema *schema, void *obj, const cfg__ctx *ctx) {
    for (size_t i = 0; i < schema->nkeys; i++) {
        const cfg__key *k = &schema->keys[i];
        switch (k->type) {
        case CFG__STRING:
        case CFG__NAME:
        case CFG__PATH: {
            char *s = NULL;
            if (k->def_str && !(s = strdup(k->def_str)))
                return no_memory(ctx);
            replace_string((char **)FIELD(obj, k), s);
            break;
        }
        case CFG__UINT:
            store_uint(k, obj, k->def);
            break;
        case CFG__BOOL:
            *(bool *)FIELD(obj, k) = k->def != 0;
            break;
        case CFG__ENUM: {
            int v = (int)k->def;
            memcpy(FIELD(obj, k), &v, sizeof v);
            break;
        }
        case CFG__OBJECT:
            if (cfg__set_defaults(k->sub, obj, ctx) < 0)
                return -1;
            break;
        case CFG__STRING_LIST:
        case CFG__UINT_LIST:
        case CFG__STRING_MAP:
        case CFG__OBJECT_LIST:
            break;              /* empty: the struct starts zeroed */
        }
    }
    return 0;
}

void cfg__release(const cfg__schema *schema, void *obj) {
    for (size_t i = 0; i < schema->nkeys; i++) {
        const cfg__key *k = &schema->keys[i];
        switch (k->type) {
        case CFG__STRING:
        case CFG__NAME:
        case CFG__PATH:
            replace_string((char **)FIELD(obj, k), NULL);
            break;
        case CFG__STRING_LIST:
            free_string_list(*(char ***)FIELD(obj, k), *COUNT(obj, k));
            *(char ***)FIELD(obj, k) = NULL;
            *COUNT(obj, k) = 0;
            break;
        case CFG__STRING_MAP:
            free_env(*(cfg_env **)FIELD(obj, k), *COUNT(obj, k));
            *(cfg_env **)FIELD(obj, k) = NULL;
            *COUNT(obj, k) = 0;
            break;
        case CFG__OBJECT:
            cfg__release(k->sub, obj);
            break;
        case CFG__OBJECT_LIST: {
            char *array = *(char **)FIELD(obj, k);
            for (size_t j = 0; j < *COUNT(obj, k); j++)
                cfg__release(k->sub, array + j * k->elem_size);
            free(array);
            *(char **)FIELD(obj, k) = NULL;
            *COUNT(obj, k) = 0;
            break;
        }
        case CFG__UINT_LIST:
            free(*(uint32_t **)FIELD(obj, k));
            *(uint32_t **)FIELD(obj, k) = NULL;
            *COUNT(obj, k) = 0;
            break;
        case CFG__UINT:
        case CFG__BOOL:
        case CFG__ENUM:
            break;
        }
    }
}

bool cfg__equal(const cfg__schema *schema, const void *a, const void *b) {
    for (size_t i = 0; i < schema->nkeys; i++) {
        const cfg__key *k = &schema->keys[i];
        const char *fa = (const char *)a + k->offset, *fb = (const char *)b + k->offset;
        switch (k->type) {
        case CFG__STRING:
        case CFG__NAME:
        case CFG__PATH:
            if (!str_equal(*(char *const *)fa, *(char *const *)fb))
                return false;
            break;
        case CFG__UINT:
            if (load_uint(k, a) != load_uint(k, b))
                return false;
            break;
        case CFG__BOOL:
            if (*(const bool *)fa != *(const bool *)fb)
                return false;
            break;
        case CFG__ENUM:
            if (memcmp(fa, fb, sizeof(int)) != 0)
                return false;
            break;
        case CFG__STRING_LIST: {
            size_t n = *(const size_t *)((const char *)a + k->count_offset);
            if (n != *(const size_t *)((const char *)b + k->count_offset))
                return false;
            for (size_t j = 0; j < n; j++)
                if (!str_equal((*(char **const *)fa)[j], (*(char **const *)fb)[j]))
                    return false;
            break;
        }
        case CFG__STRING_MAP: {
            size_t n = *(const size_t *)((const char *)a + k->count_offset);
            if (n != *(const size_t *)((const char *)b + k->count_offset))
                return false;
            const cfg_env *ea = *(cfg_env *const *)fa, *eb = *(cfg_env *const *)fb;
            for (size_t j = 0; j < n; j++)
                if (!str_equal(ea[j].name, eb[j].name) || !str_equal(ea[j].value, eb[j].value))
                    return false;
            break;
        }
        case CFG__OBJECT:
            if (!cfg__equal(k->sub, a, b))
                return false;
            break;
        case CFG__OBJECT_LIST: {
            size_t n = *(const size_t *)((const char *)a + k->count_offset);
            if (n != *(const size_t *)((const char *)b + k->count_offset))
                return false;
            const char *xa = *(char *const *)fa, *xb = *(char *const *)fb;
            for (size_t j = 0; j < n; j++)
                if (!cfg__equal(k->sub, xa + j * k->elem_size, xb + j * k->elem_size))
                    return false;
            break;
        }
        case CFG__UINT_LIST: {
            size_t n = *(const size_t *)((const char *)a + k->count_offset);
            if (n != *(const size_t *)((const char *)b + k->count_offset))
                return false;
            if (n && memcmp(*(uint32_t *const *)fa, *(uint32_t *const *)fb,
                            n * sizeof(uint32_t)) != 0)
                return false;
            break;
        }
        }
    }
    return true;
}
