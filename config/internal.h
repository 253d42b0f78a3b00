/*
 * internal.h - the private side of the configuration layer: the schema
 * tables that describe each config file, and the engine (schema.c) that
 * reads a YAML file into a cfg_node tree and fills a struct from it.
 *
 * A schema is an array of cfg__key rows, one per key, each naming the key,
 * its type, its bounds, its default and where it lives in the struct.  The
 * same table sets the defaults, fills the struct, frees it and compares two
 * of them, so a key is declared exactly once.
 */
#ifndef WASMD_CONFIG_INTERNAL_H
#define WASMD_CONFIG_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

typedef enum cfg__type {
    CFG__STRING,       /* char *: any scalar, at most max bytes */
    CFG__NAME,         /* char *: a module name, [a-z0-9_-]{1,CFG_MAX_NAME} */
    CFG__PATH,         /* char *: a non-empty path, made absolute against the file's directory */
    CFG__UINT,         /* uint32_t or uint64_t (width): decimal or 0x hex, min..max */
    CFG__BOOL,         /* bool: true or false */
    CFG__ENUM,         /* int-sized enum: one of the names of enums */
    CFG__STRING_LIST,  /* char **, count at count_offset */
    CFG__UINT_LIST,    /* uint32_t *, count at count_offset: each a UINT, min..max */
    CFG__STRING_MAP,   /* cfg_env *, count at count_offset: {NAME: value} */
    CFG__OBJECT,       /* a mapping whose keys (sub) fill fields of the same struct */
    CFG__OBJECT_LIST,  /* an array of structs (sub, elem_size), count at count_offset */
} cfg__type;

/* One spelling of an enum.  Tables end with a NULL name. */
typedef struct cfg__enum_name {
    const char *name;
    int value;
} cfg__enum_name;

typedef struct cfg__schema cfg__schema;

typedef struct cfg__key {
    const char *name;
    cfg__type type;
    size_t offset;              /* of the field in the struct being filled */
    size_t width;               /* UINT: sizeof the field (4 or 8); UINT_LIST elements are 4 */
    size_t count_offset;        /* lists and maps: of the size_t count */
    bool required;
    bool nullable;              /* STRING: `~` leaves the field NULL */
    uint64_t min, max;          /* UINT, UINT_LIST elements: inclusive bounds (max at most
                                   UINT32_MAX for a list); STRING, PATH: length in bytes
                                   (max 0: CFG_MAX_STRING, or CFG_MAX_PATH for a path) */
    size_t min_items, max_items;  /* lists and maps: bounds of the number of entries; a
                                   list given as `~` has none, so min_items > 0 refuses it */
    uint64_t def;               /* UINT, BOOL, ENUM: the default */
    const char *def_str;        /* STRING, PATH: the default (NULL: none), never resolved */
    const cfg__enum_name *enums;  /* ENUM */
    /* STRING: a further check of the text, or NULL; returns NULL if s is good, else
     * what was expected, for the message "KEY: 'S' is not EXPECTED" */
    const char *(*check)(const char *s);
    const cfg__schema *sub;     /* OBJECT, OBJECT_LIST */
    size_t elem_size;           /* OBJECT_LIST */
} cfg__key;

/*
 * A table of keys.  When has_pos is set, the struct has a cfg_pos at
 * pos_offset where the engine stores where the mapping was written: for
 * the element schema of an OBJECT_LIST, the position of the list entry
 * (pos_offset in the element); for the sub-schema of an OBJECT, the
 * position of its key (pos_offset in the struct the OBJECT fills).
 * Positions are for later messages only: cfg__equal ignores them.
 */
struct cfg__schema {
    const char *what;           /* "manifest", "daemon config": for messages */
    const cfg__key *keys;
    size_t nkeys;
    bool has_pos;
    size_t pos_offset;
};

/* A schema from an array of keys: CFG__SCHEMA("a dirs entry", dir_keys). */
#define CFG__SCHEMA(what_, keys_) \
    { .what = (what_), .keys = (keys_), .nkeys = sizeof(keys_) / sizeof((keys_)[0]) }
#define CFG__SCHEMA_POS(what_, keys_, type_, field_)                                    \
    { .what = (what_), .keys = (keys_), .nkeys = sizeof(keys_) / sizeof((keys_)[0]),    \
      .has_pos = true, .pos_offset = offsetof(type_, field_) }

/* Table-building helpers: the field's offset and width come from the struct. */
#define CFG__FIELD(type, field) offsetof(type, field)
#define CFG__WIDTH(type, field) sizeof(((type *)0)->field)

/*
 * Bounds of the execution limits, shared by the manifest (limits:) and the
 * daemon config (the defaults).  They keep a typo from asking for absurd
 * amounts: the engine's own caps are in runtime/limits.h, which this layer
 * does not include.
 */
#define CFG__MIN_MEMORY_PAGES   1u
#define CFG__MAX_MEMORY_PAGES   16384u                  /* 1 GiB: a gateway has little more RAM in all */
#define CFG__MIN_FUEL_PER_SLICE 1000u                   /* smaller slices spend more time switching */
#define CFG__MAX_FUEL_PER_SLICE 10000000u               /* tens of ms of work; the daemon's wall-time
                                                           bound (WD_SLICE_MAX_NS) ends a slice sooner */
#define CFG__MAX_MEMORY_BUDGET_MIB 65536u               /* 64 GiB; 0 means: from the machine's RAM */
#define CFG__MIN_STACK_SLOTS    1024u
#define CFG__MAX_STACK_SLOTS    (16u * 1024u * 1024u)   /* 128 MiB of 8-byte slots */
#define CFG__MIN_CALL_DEPTH     16u
#define CFG__MAX_CALL_DEPTH     100000u

/* Where relative paths are resolved, and which file errors name. */
typedef struct cfg__ctx {
    const char *file;           /* for errors */
    const char *base_dir;       /* absolute directory for CFG__PATH values; NULL: keep as written */
    cfg_error *err;
} cfg__ctx;

/*
 * Reads path (at most CFG_MAX_FILE_SIZE bytes) and parses its single YAML
 * document into a tree whose top level must be a mapping.  On success
 * *ret_root owns the tree (free with cfg__node_free); on error returns -1
 * with err filled.  A missing file fails with err->status CFG_ERR_IO and
 * *ret_errno ENOENT (ret_errno may be NULL).
 */
int cfg__parse_file(const char *path, cfg_node **ret_root, int *ret_errno, cfg_error *err);
/* The same for a string in memory (the file name is used in errors only). */
int cfg__parse_string(const char *file, const char *text, size_t len, cfg_node **ret_root,
                      cfg_error *err);
/* Frees a node allocated by the parser and everything under it; accepts NULL. */
void cfg__node_free(cfg_node *n);
bool cfg__node_equal(const cfg_node *a, const cfg_node *b);

/* Sets every field of the schema to its default.  -1 with err filled on no memory. */
int cfg__set_defaults(const cfg__schema *schema, void *obj, const cfg__ctx *ctx);
/* Fills obj from the mapping map (defaults must be set first).  -1 with err filled. */
int cfg__apply(const cfg__schema *schema, const cfg_node *map, void *obj, const cfg__ctx *ctx);
/* Frees every field the schema owns and zeroes it; the struct itself stays. */
void cfg__release(const cfg__schema *schema, void *obj);
/* True if every field of the schema is equal in a and b. */
bool cfg__equal(const cfg__schema *schema, const void *a, const void *b);

/* The directory of path, made absolute (malloc'd), or NULL on no memory or getcwd failure. */
char *cfg__base_dir(const char *path);
/* True for a valid module name. */
bool cfg__valid_name(const char *s);

/*
 * The i-th entry of the list at path (keys separated by '.') below map,
 * e.g. cfg__node_find(root, "capabilities.gpio", 2); NULL if there is none.
 * i SIZE_MAX: the node at path itself.  For messages about a value the
 * schema already accepted, so the tree has the shape the schema describes.
 */
const cfg_node *cfg__node_find(const cfg_node *map, const char *path, size_t i);

/* The tables, for the unit test that checks the man page against them. */
extern const cfg__schema cfg__manifest_schema;
extern const cfg__schema cfg__daemon_schema;
extern const cfg__enum_name cfg__restart_names[];
extern const cfg__enum_name cfg__gpio_direction_names[];
extern const cfg__enum_name cfg__gpio_bias_names[];
extern const cfg__enum_name cfg__gpio_edge_names[];
extern const cfg__enum_name cfg__i2c_model_names[];

#endif /* WASMD_CONFIG_INTERNAL_H */
