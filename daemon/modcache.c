/*
 * modcache.c - one loaded module per distinct binary, shared by every run
 * made from it.
 *
 * A wr_module is immutable once loaded (wr.h) and may back any number of
 * instances in any stores, so N instances of one module need its
 * translated code, types and data segments once, not N times.  Runs are
 * matched by the bytes of the file they read, not by its path: a module
 * rewritten on disk is a new entry, while two manifests naming copies of
 * one binary share.  An entry lives exactly as long as some run holds it
 * (a reference count), so nothing is cached for a module no run uses.
 *
 * Loads run in libuv's thread pool while the loop releases modules, hence
 * the mutex.  Two first loads of the same binary racing in two workers may
 * both translate it; the second to finish then takes the first's entry and
 * frees its own copy.
 */
#include <stdlib.h>
#include <string.h>

#include "daemon/internal.h"

typedef struct wd_modentry {
    struct wd_modentry *next;
    wr_module *module;           /* owned */
    uint8_t *bytes;              /* owned copy of the binary, to compare exactly */
    size_t len;
    uint64_t hash;
    uint32_t refs;               /* runs holding the module */
} wd_modentry;

static uv_once_t cache_once = UV_ONCE_INIT;
static uv_mutex_t cache_lock;
static wd_modentry *cache;       /* guarded by cache_lock */

static void cache_init(void) {
    if (uv_mutex_init(&cache_lock) != 0)
        abort(); /* cannot happen with default attributes on Linux */
}

static uint64_t bytes_hash(const uint8_t *b, size_t len) {
    uint64_t h = 14695981039346656037ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

/* The entry for these bytes, with one more reference; NULL when none.  Under the lock. */
static wr_module *cache_take(const uint8_t *bytes, size_t len, uint64_t hash) {
    for (wd_modentry *e = cache; e; e = e->next) {
        if (e->hash == hash && e->len == len && memcmp(e->bytes, bytes, len) == 0) {
            e->refs++;
            return e->module;
        }
    }
    return NULL;
}

wr_status wd_module_get(const uint8_t *bytes, size_t len, wr_module **ret, wr_error *err) {
    uv_once(&cache_once, cache_init);
    uint64_t hash = bytes_hash(bytes, len);
    uv_mutex_lock(&cache_lock);
    wr_module *m = cache_take(bytes, len, hash);
    uv_mutex_unlock(&cache_lock);
    if (m) {
        *ret = m;
        return WR_OK;
    }

    wr_status s = wr_module_load(bytes, len, &m, err);
    if (s != WR_OK)
        return s;
    wd_modentry *e = calloc(1, sizeof *e);
    if (e)
        e->bytes = malloc(len ? len : 1);
    if (!e || !e->bytes) {
        /* Not shared, but usable: wd_module_put frees a module it does not know. */
        free(e);
        *ret = m;
        return WR_OK;
    }
    memcpy(e->bytes, bytes, len);
    e->len = len;
    e->hash = hash;
    e->module = m;
    e->refs = 1;

    uv_mutex_lock(&cache_lock);
    wr_module *raced = cache_take(bytes, len, hash);
    if (!raced) {
        e->next = cache;
        cache = e;
    }
    uv_mutex_unlock(&cache_lock);
    if (raced) {
        wr_module_free(m);
        free(e->bytes);
        free(e);
        m = raced;
    }
    *ret = m;
    return WR_OK;
}

void wd_module_put(wr_module *m) {
    if (!m)
        return;
    uv_once(&cache_once, cache_init);
    uv_mutex_lock(&cache_lock);
    wd_modentry **link = &cache;
    while (*link && (*link)->module != m)
        link = &(*link)->next;
    wd_modentry *e = *link;
    if (e && --e->refs > 0) {
        uv_mutex_unlock(&cache_lock);
        return;
    }
    if (e)
        *link = e->next;
    uv_mutex_unlock(&cache_lock);
    if (e) {
        free(e->bytes);
        free(e);
    }
    wr_module_free(m);
}
