/*
 * modinfo.h - what `wasmctl inspect` shows of a module that the engine's
 * public API does not give: the types of every function, table, memory
 * and global (imported or defined), read from the binary's sections.
 * Call it only on bytes wr_module_load accepted: the reader still checks
 * every bound, but reports only "malformed", not why.
 */
#ifndef WASMCTL_MODINFO_H
#define WASMCTL_MODINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct cli_limits {
    uint64_t min, max;
    bool has_max;
} cli_limits;

typedef struct cli_functype {
    uint32_t nparams, nresults;
    const uint8_t *params, *results; /* value type bytes, pointing into the module's bytes */
} cli_functype;

typedef struct cli_table {
    uint8_t elem;                    /* 0x70 funcref, 0x6f externref */
    cli_limits limits;
} cli_table;

typedef struct cli_global {
    uint8_t type;
    bool mutable_;
} cli_global;

/* Index spaces as the spec defines them: imports first, then definitions. */
typedef struct cli_modinfo {
    cli_functype *types;
    uint32_t ntypes;
    uint32_t *funcs;                 /* type index of each function */
    uint32_t nfuncs;
    cli_table *tables;
    uint32_t ntables;
    cli_limits *memories;            /* in 64 KiB pages */
    uint32_t nmemories;
    cli_global *globals;
    uint32_t nglobals;
} cli_modinfo;

/* Reads `bytes` (kept: the info points into them).  False on malformed input or no memory. */
bool cli_modinfo_read(const uint8_t *bytes, size_t len, cli_modinfo *ret);
void cli_modinfo_free(cli_modinfo *mi);
/* "i32", "funcref", ... for a value type byte. */
const char *cli_modinfo_valtype(uint8_t t);

#endif /* WASMCTL_MODINFO_H */
