/*
 * instance.c - stores, host objects (functions, memories, tables, globals),
 * and instantiation: linking imports, creating the module's own objects,
 * running element and data segments, then the start function.
 *
 * Every object is owned by its store through the store's `owned` list and
 * freed only in wr_store_free(), so that an object stays valid for as long
 * as anything in the store may refer to it, including the objects that a
 * failed instantiation created (the spec requires that segments it already
 * wrote into imported tables and memories stay written).
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "internal.h"

/* ---- Helpers ------------------------------------------------------------ */

/*
 * calloc for an array that may be empty.  It never returns NULL on success,
 * so that a NULL result always means out-of-memory, and so that data
 * pointers handed to memcpy/memset (even with a zero length) are never NULL.
 */
static void *alloc_array(size_t n, size_t size) {
    return calloc(n ? n : 1, size);
}

static uint32_t min_u32(uint32_t a, uint32_t b) {
    return a < b ? a : b;
}

/* A wr_val as an 8-byte slot (the layout of wr_host_fn). */
static uint64_t val_to_slot(const wr_val *v) {
    switch (v->type) {
    case WR_I32: return (uint32_t)v->of.i32;
    case WR_F32: return v->of.f32_bits;
    case WR_I64: return (uint64_t)v->of.i64;
    case WR_F64: return v->of.f64_bits;
    case WR_FUNCREF:
    case WR_EXTERNREF: return (uint64_t)(uintptr_t)v->of.ref;
    }
    return 0;
}

static void slot_to_val(wr_valtype type, uint64_t slot, wr_val *ret) {
    switch (type) {
    case WR_I32: *ret = wr_val_i32((int32_t)(uint32_t)slot); return;
    case WR_F32: *ret = wr_val_f32_bits((uint32_t)slot); return;
    case WR_I64: *ret = wr_val_i64((int64_t)slot); return;
    case WR_F64: *ret = wr_val_f64_bits(slot); return;
    case WR_FUNCREF:
    case WR_EXTERNREF: *ret = wr_val_ref(type, (void *)(uintptr_t)slot); return;
    }
}

static bool valtype_known(wr_valtype t) {
    switch (t) {
    case WR_I32: case WR_I64: case WR_F32: case WR_F64: case WR_FUNCREF: case WR_EXTERNREF:
        return true;
    }
    return false;
}

static bool reftype_known(wr_valtype t) {
    return t == WR_FUNCREF || t == WR_EXTERNREF;
}

/* ---- Ownership ---------------------------------------------------------- */

static void instance_free(wr_instance *inst) {
    free(inst->funcs);
    free(inst->tables);
    free(inst->memories);
    free(inst->globals);
    free(inst->type_ids);
    free(inst->elem_dropped);
    free(inst->data_dropped);
    free(inst->defined_funcs);
    free(inst);
}

/* Frees one store object of the given kind (WR_EXTERN_* or -1 for an instance). */
static void object_free(int kind, void *obj) {
    switch (kind) {
    case WR_EXTERN_FUNC: {
        wr_func *f = obj;
        free(f->owned_types);
        free(f);
        break;
    }
    case WR_EXTERN_TABLE: {
        wr_table *t = obj;
        free(t->elems);
        free(t);
        break;
    }
    case WR_EXTERN_MEMORY: {
        wr_memory *mem = obj;
        if (mem->data)
            munmap(mem->data, mem->reserved);
        free(mem);
        break;
    }
    case WR_EXTERN_GLOBAL:
        free(obj);
        break;
    default:
        instance_free(obj);
        break;
    }
}

/*
 * Hands `obj` to the store.  Returns obj, or NULL when the list node cannot
 * be allocated; `obj` is then freed here, so that callers need only one
 * cleanup path and nothing leaks half-owned.
 */
static void *store_adopt(wr_store *s, int kind, void *obj) {
    wr__owned *node = malloc(sizeof *node);
    if (!node) {
        object_free(kind, obj);
        return NULL;
    }
    node->kind = kind;
    node->obj = obj;
    node->next = s->owned;
    s->owned = node;
    return obj;
}

/* ---- Stores ------------------------------------------------------------- */

wr_store *wr_store_new(const wr_limits *limits) {
    wr_store *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (limits)
        s->limits = *limits;
    if (!s->limits.max_memory_pages)
        s->limits.max_memory_pages = WR_DEFAULT_MAX_MEMORY_PAGES;
    if (!s->limits.max_table_elems)
        s->limits.max_table_elems = WR_DEFAULT_MAX_TABLE_ELEMS;
    if (!s->limits.value_stack_slots)
        s->limits.value_stack_slots = WR_DEFAULT_VALUE_STACK_SLOTS;
    if (!s->limits.max_call_depth)
        s->limits.max_call_depth = WR_DEFAULT_MAX_CALL_DEPTH;
    return s;
}

void wr_store_free(wr_store *s) {
    if (!s)
        return;
    wr__budget_give(s, s->bytes);
    wr__owned *node = s->owned;
    while (node) {
        wr__owned *next = node->next;
        object_free(node->kind, node->obj);
        free(node);
        node = next;
    }
    for (uint32_t i = 0; i < s->ntype_ids; i++)
        free((void *)s->type_ids[i].types);
    free(s->type_ids);
    free(s->type_buckets);
    free(s);
}

uint64_t wr_store_bytes(const wr_store *s) {
    return s->bytes;
}

uint64_t wr_store_budget_refusals(const wr_store *s) {
    return s->budget_refusals;
}

bool wr__budget_take(wr_store *s, uint64_t bytes) {
    wr_budget *b = s->limits.budget;
    if (b) {
        if (b->used > b->limit || bytes > b->limit - b->used) {
            s->budget_refusals++;
            return false;
        }
        b->used += bytes;
    }
    s->bytes += bytes;
    return true;
}

void wr__budget_give(wr_store *s, uint64_t bytes) {
    wr_budget *b = s->limits.budget;
    if (b)
        b->used -= bytes < b->used ? bytes : b->used;
    s->bytes -= bytes < s->bytes ? bytes : s->bytes;
}

/* ---- Interned function types ------------------------------------------- */

/*
 * Type ids are looked up through a hash index (open addressing, linear
 * probing) rather than a linear search: a module may declare up to
 * WR_MAX_TYPES types, and interning them one by one against a list would be
 * quadratic, which a hostile module could use to stall the daemon.
 */
static uint32_t functype_hash(const wr_functype *t) {
    uint32_t h = 2166136261u; /* FNV-1a */
    h = (h ^ t->nparams) * 16777619u;
    h = (h ^ t->nresults) * 16777619u;
    for (uint32_t i = 0; i < t->nparams + t->nresults; i++)
        h = (h ^ (uint32_t)t->types[i]) * 16777619u;
    return h;
}

/* Puts id into the bucket array (which has room, and does not hold it yet). */
static void bucket_insert(uint32_t *buckets, uint32_t nbuckets, uint32_t hash, uint32_t id) {
    uint32_t mask = nbuckets - 1;
    uint32_t b = hash & mask;
    while (buckets[b])
        b = (b + 1) & mask;
    buckets[b] = id + 1;
}

/* Keeps the index at most half full, so that probe sequences stay short. */
static bool buckets_reserve(wr_store *s) {
    if ((uint64_t)(s->ntype_ids + 1) * 2 <= s->nbuckets)
        return true;
    uint32_t n = s->nbuckets ? s->nbuckets * 2 : 64;
    if (n <= s->nbuckets) /* wrapped: more types than an index can hold */
        return false;
    uint32_t *b = calloc(n, sizeof *b);
    if (!b)
        return false;
    for (uint32_t id = 0; id < s->ntype_ids; id++)
        bucket_insert(b, n, functype_hash(&s->type_ids[id]), id);
    free(s->type_buckets);
    s->type_buckets = b;
    s->nbuckets = n;
    return true;
}

uint32_t wr__store_type_id(wr_store *s, const wr_functype *t) {
    uint32_t hash = functype_hash(t);
    if (s->nbuckets) {
        uint32_t mask = s->nbuckets - 1;
        for (uint32_t b = hash & mask; s->type_buckets[b]; b = (b + 1) & mask) {
            uint32_t id = s->type_buckets[b] - 1;
            if (wr__functype_equal(&s->type_ids[id], t))
                return id;
        }
    }

    if (s->ntype_ids == UINT32_MAX - 1 || !buckets_reserve(s))
        return UINT32_MAX;
    if (s->ntype_ids == s->cap_type_ids) {
        uint64_t cap = s->cap_type_ids ? (uint64_t)s->cap_type_ids * 2 : 16;
        if (cap > UINT32_MAX || cap * sizeof(wr_functype) > SIZE_MAX)
            return UINT32_MAX;
        wr_functype *grown = realloc(s->type_ids, (size_t)cap * sizeof *grown);
        if (!grown)
            return UINT32_MAX;
        s->type_ids = grown;
        s->cap_type_ids = (uint32_t)cap;
    }

    /* The store keeps its own copy: the module the type came from may be freed first. */
    size_t n = (size_t)t->nparams + t->nresults;
    wr_valtype *types = alloc_array(n, sizeof *types);
    if (!types)
        return UINT32_MAX;
    if (n)
        memcpy(types, t->types, n * sizeof *types);

    uint32_t id = s->ntype_ids++;
    s->type_ids[id] = (wr_functype){ .nparams = t->nparams, .nresults = t->nresults, .types = types };
    bucket_insert(s->type_buckets, s->nbuckets, hash, id);
    return id;
}

/* ---- Host functions ----------------------------------------------------- */

wr_func *wr_func_new_host(wr_store *s, const wr_functype *type, wr_host_fn fn, void *env) {
    if (!fn)
        return NULL;
    wr_func *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    size_t n = (size_t)type->nparams + type->nresults;
    f->owned_types = alloc_array(n, sizeof *f->owned_types);
    if (!f->owned_types)
        goto out_free_func;
    if (n)
        memcpy(f->owned_types, type->types, n * sizeof *f->owned_types);
    f->type = (wr_functype){ .nparams = type->nparams, .nresults = type->nresults, .types = f->owned_types };
    f->type_id = wr__store_type_id(s, &f->type);
    if (f->type_id == UINT32_MAX)
        goto out_free_types;
    f->host = fn;
    f->env = env;
    return store_adopt(s, WR_EXTERN_FUNC, f);

out_free_types:
    free(f->owned_types);
out_free_func:
    free(f);
    return NULL;
}

const wr_functype *wr_func_type(const wr_func *f) {
    return &f->type;
}

/* ---- Memories ----------------------------------------------------------- */

/*
 * Maps `reserve` bytes of address space (at least one page), of which the
 * first `size` readable and writable; NULL when the host refuses either.
 * Anonymous pages read as zero until written, and count in the RSS only
 * once touched.
 */
static uint8_t *mapping_new(size_t reserve, size_t size) {
    void *p = mmap(NULL, reserve, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (size && mprotect(p, size, PROT_READ | PROT_WRITE) < 0) {
        munmap(p, reserve);
        return NULL;
    }
    return p;
}

/* Bytes of address space to reserve for a memory of `size` bytes that may grow to `cap_pages`. */
static size_t reserve_for(uint64_t size, uint32_t cap_pages) {
    uint64_t r = (uint64_t)cap_pages * WR_PAGE_SIZE;
    if (r > WR_MEMORY_RESERVE_MAX)
        r = WR_MEMORY_RESERVE_MAX;
    if (r < size)
        r = size;
    if (r < WR_PAGE_SIZE) /* a memory of 0 pages still has an address */
        r = WR_PAGE_SIZE;
    return r > SIZE_MAX ? (size_t)size : (size_t)r;
}

/*
 * Creates a memory of `min` pages.  The effective maximum (declared maximum,
 * store limit and the spec's 65536 pages for 32-bit memories, whichever is
 * lowest) is kept in max_pages, so that growing needs no store.  Address
 * space up to that maximum is reserved where the platform allows
 * (WR_MEMORY_RESERVE_MAX), falling back to the minimum when the host
 * refuses the larger reservation.  NULL when `min` is above the maximum or
 * memory runs out.
 */
static wr_memory *memory_create(wr_store *s, uint32_t min, uint32_t max, bool has_max) {
    uint32_t cap = min_u32(s->limits.max_memory_pages, WR_MAX_MEMORY_DECL);
    if (has_max)
        cap = min_u32(cap, max);
    if (min > cap)
        return NULL;
    uint64_t size = (uint64_t)min * WR_PAGE_SIZE;
    if (size > SIZE_MAX) /* 32-bit hosts cannot address 4 GiB */
        return NULL;

    if (!wr__budget_take(s, size))
        return NULL;
    wr_memory *mem = calloc(1, sizeof *mem);
    if (mem) {
        mem->reserved = reserve_for(size, cap);
        mem->data = mapping_new(mem->reserved, (size_t)size);
        if (!mem->data && mem->reserved > reserve_for(size, min)) {
            mem->reserved = reserve_for(size, min);
            mem->data = mapping_new(mem->reserved, (size_t)size);
        }
    }
    if (!mem || !mem->data) {
        free(mem);
        wr__budget_give(s, size);
        return NULL;
    }
    mem->store = s;
    mem->size = size;
    mem->pages = min;
    mem->max_pages = cap;
    mem->has_max = has_max;
    return store_adopt(s, WR_EXTERN_MEMORY, mem);
}

wr_memory *wr_memory_new(wr_store *s, uint32_t min_pages, uint32_t max_pages, bool has_max) {
    if (has_max && min_pages > max_pages)
        return NULL;
    return memory_create(s, min_pages, max_pages, has_max);
}

uint8_t *wr_memory_data(wr_memory *mem) {
    return mem->data;
}

uint64_t wr_memory_size(const wr_memory *mem) {
    return mem->size;
}

int64_t wr_memory_grow(wr_memory *mem, uint32_t delta) {
    return wr__memory_grow(mem, delta);
}

/*
 * Makes `size` bytes of the memory accessible (size > mem->size).  Within
 * the reservation the new pages are committed in place; past it (32-bit
 * hosts, or a reservation the host refused) the readable part is extended
 * with mremap, which may move it but copies no bytes; a memory of 0 pages
 * gets a new mapping.  New pages read as zero.  False, with the memory as
 * it was, when the host refuses.
 */
static bool memory_commit(wr_memory *mem, size_t size) {
    size_t old = (size_t)mem->size;
    if (size <= mem->reserved)
        return mprotect(mem->data + old, size - old, PROT_READ | PROT_WRITE) == 0;
    if (old == 0) {
        uint8_t *p = mapping_new(size, size);
        if (!p)
            return false;
        munmap(mem->data, mem->reserved);
        mem->data = p;
        mem->reserved = size;
        return true;
    }
    /* Drop the inaccessible tail, then grow the accessible part (one mapping). */
    if (mem->reserved > old && munmap(mem->data + old, mem->reserved - old) < 0)
        return false;
    mem->reserved = old;
    void *p = mremap(mem->data, old, size, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
        return false;
    mem->data = p;
    mem->reserved = size;
    return true;
}

int64_t wr__memory_grow(wr_memory *mem, uint32_t delta) {
    uint32_t old = mem->pages;
    if (delta == 0)
        return old;
    if (delta > mem->max_pages - old)
        return -1;
    uint32_t pages = old + delta;
    /* Checked before converting: on a 32-bit host 65536 pages do not fit in a size_t. */
    uint64_t size = (uint64_t)pages * WR_PAGE_SIZE;
    if (size > SIZE_MAX)
        return -1;
    if (!wr__budget_take(mem->store, size - mem->size))
        return -1;
    if (!memory_commit(mem, (size_t)size)) {
        wr__budget_give(mem->store, size - mem->size);
        return -1;
    }
    mem->size = size;
    mem->pages = pages;
    return old;
}

/* ---- Tables ------------------------------------------------------------- */

/* Like memory_create: the effective maximum is kept in t->max. Elements start as `init`. */
static wr_table *table_create(wr_store *s, wr_valtype elem, uint32_t min, uint32_t max, bool has_max,
                              void *init) {
    uint32_t cap = s->limits.max_table_elems;
    if (has_max)
        cap = min_u32(cap, max);
    if (min > cap || (uint64_t)min * sizeof(void *) > SIZE_MAX)
        return NULL;

    if (!wr__budget_take(s, (uint64_t)min * sizeof(void *)))
        return NULL;
    wr_table *t = calloc(1, sizeof *t);
    if (t)
        t->elems = alloc_array(min, sizeof *t->elems);
    if (!t || !t->elems) {
        free(t);
        wr__budget_give(s, (uint64_t)min * sizeof(void *));
        return NULL;
    }
    t->store = s;
    for (uint32_t i = 0; i < min; i++)
        t->elems[i] = init;
    t->size = min;
    t->max = cap;
    t->has_max = has_max;
    t->type = elem;
    return store_adopt(s, WR_EXTERN_TABLE, t);
}

wr_table *wr_table_new(wr_store *s, wr_valtype elem, uint32_t min, uint32_t max, bool has_max) {
    if (!reftype_known(elem) || (has_max && min > max))
        return NULL;
    return table_create(s, elem, min, max, has_max, NULL);
}

uint32_t wr_table_size(const wr_table *t) {
    return t->size;
}

bool wr_table_get(const wr_table *t, uint32_t i, wr_val *ret) {
    if (i >= t->size)
        return false;
    *ret = wr_val_ref(t->type, t->elems[i]);
    return true;
}

bool wr_table_set(wr_table *t, uint32_t i, const wr_val *v) {
    if (i >= t->size || v->type != t->type)
        return false;
    t->elems[i] = v->of.ref;
    return true;
}

int64_t wr__table_grow(wr_table *t, uint32_t delta, void *init, uint32_t store_limit) {
    uint32_t old = t->size;
    if (delta == 0)
        return old;
    uint32_t cap = min_u32(t->max, store_limit);
    if (old > cap || delta > cap - old)
        return -1;
    uint32_t size = old + delta;
    if ((uint64_t)size * sizeof(void *) > SIZE_MAX) /* 32-bit hosts */
        return -1;
    if (!wr__budget_take(t->store, (uint64_t)delta * sizeof(void *)))
        return -1;
    void **elems = realloc(t->elems, (size_t)size * sizeof *elems);
    if (!elems) {
        wr__budget_give(t->store, (uint64_t)delta * sizeof(void *));
        return -1;
    }
    for (uint32_t i = old; i < size; i++)
        elems[i] = init;
    t->elems = elems;
    t->size = size;
    return old;
}

/* ---- Globals ------------------------------------------------------------ */

static wr_global *global_create(wr_store *s, wr_valtype type, bool mut, uint64_t value) {
    wr_global *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->type = type;
    g->mut = mut;
    g->value = value;
    return store_adopt(s, WR_EXTERN_GLOBAL, g);
}

wr_global *wr_global_new(wr_store *s, const wr_val *init, bool mutable_) {
    if (!valtype_known(init->type))
        return NULL;
    return global_create(s, init->type, mutable_, val_to_slot(init));
}

void wr_global_get(const wr_global *g, wr_val *ret) {
    slot_to_val(g->type, g->value, ret);
}

bool wr_global_set(wr_global *g, const wr_val *v) {
    if (!g->mut || v->type != g->type)
        return false;
    g->value = val_to_slot(v);
    return true;
}

/* ---- Constant expressions ---------------------------------------------- */

uint64_t wr__constexpr_eval(const wr_instance *inst, const wr__constexpr *ce) {
    switch (ce->kind) {
    case WR__CE_I32:
    case WR__CE_F32:
        return (uint32_t)ce->value;
    case WR__CE_I64:
    case WR__CE_F64:
        return ce->value;
    case WR__CE_REF_NULL:
        return 0;
    case WR__CE_REF_FUNC:
        return (uint64_t)(uintptr_t)inst->funcs[ce->value];
    case WR__CE_GLOBAL_GET:
        return inst->globals[ce->value]->value;
    }
    return 0; /* the decoder produces no other kind */
}

/* ---- Linking ------------------------------------------------------------ */

/* "module" "name" of an import, for error details (names may hold NUL bytes; %.*s stops there). */
#define IMPORT_FMT "import \"%.*s\" \"%.*s\""
#define IMPORT_ARGS(imp) (int)(imp)->module_len, (imp)->module, (int)(imp)->name_len, (imp)->name

/*
 * Limits subtyping (spec: "import matching"): the provided object's current
 * size must reach the declared minimum, and when the module declares a
 * maximum, the object must have one that is no larger.
 */
static bool limits_match(uint32_t size, uint32_t max, bool has_max, const wr__range *want) {
    if (size < want->min)
        return false;
    return !want->has_max || (has_max && max <= want->max);
}

/*
 * Checks one provided extern against the module's import.  A NULL object
 * is an embedder error (WR_ERR_ARGS); everything else that does not match
 * is WR_ERR_INCOMPATIBLE_IMPORT, the status the spec tests expect.
 *
 * Note on limits: a table's or memory's max is the effective one (capped by
 * its store's limit), so an object whose declared maximum is above the store
 * limit is matched with the lower, capped value.  With the default limits
 * this never differs from the spec.
 */
static wr_status import_check(const wr_module *m, const wr__import *imp, const wr_extern *ext, wr_error *err) {
    if (ext->kind != imp->kind)
        return wr__error(err, WR_ERR_INCOMPATIBLE_IMPORT, 0, IMPORT_FMT ": expected a %s, got a %s",
                         IMPORT_ARGS(imp), wr_externkind_name(imp->kind), wr_externkind_name(ext->kind));

    const void *obj = NULL;
    switch (ext->kind) {
    case WR_EXTERN_FUNC: obj = ext->of.func; break;
    case WR_EXTERN_TABLE: obj = ext->of.table; break;
    case WR_EXTERN_MEMORY: obj = ext->of.memory; break;
    case WR_EXTERN_GLOBAL: obj = ext->of.global; break;
    }
    if (!obj)
        return wr__error(err, WR_ERR_ARGS, 0, IMPORT_FMT ": no object given", IMPORT_ARGS(imp));

    bool ok = false;
    switch (imp->kind) {
    case WR_EXTERN_FUNC:
        ok = wr__functype_equal(&ext->of.func->type, &m->types[m->funcs[imp->index].type_index]);
        break;
    case WR_EXTERN_TABLE: {
        const wr__tabletype *want = &m->tables[imp->index];
        const wr_table *t = ext->of.table;
        ok = t->type == want->elem && limits_match(t->size, t->max, t->has_max, &want->lim);
        break;
    }
    case WR_EXTERN_MEMORY: {
        const wr_memory *mem = ext->of.memory;
        ok = limits_match(mem->pages, mem->max_pages, mem->has_max, &m->memories[imp->index]);
        break;
    }
    case WR_EXTERN_GLOBAL: {
        const wr__globaltype *want = &m->globals[imp->index].type;
        const wr_global *g = ext->of.global;
        ok = g->type == want->type && g->mut == want->mut;
        break;
    }
    }
    if (!ok)
        return wr__error(err, WR_ERR_INCOMPATIBLE_IMPORT, 0, IMPORT_FMT ": incompatible %s type",
                         IMPORT_ARGS(imp), wr_externkind_name(imp->kind));
    return WR_OK;
}

/* ---- Instantiation ------------------------------------------------------ */

/*
 * Allocates an instance and its index-space arrays, owned by the store
 * from the start so that every exit path can simply return.
 */
static wr_instance *instance_alloc(wr_store *s, const wr_module *m) {
    wr_instance *inst = calloc(1, sizeof *inst);
    if (!inst)
        return NULL;
    inst->module = m;
    inst->store = s;
    inst->funcs = alloc_array(m->nfuncs, sizeof *inst->funcs);
    inst->tables = alloc_array(m->ntables, sizeof *inst->tables);
    inst->memories = alloc_array(m->nmemories, sizeof *inst->memories);
    inst->globals = alloc_array(m->nglobals, sizeof *inst->globals);
    inst->type_ids = alloc_array(m->ntypes, sizeof *inst->type_ids);
    inst->elem_dropped = alloc_array(m->nelems, sizeof *inst->elem_dropped);
    inst->data_dropped = alloc_array(m->ndatas, sizeof *inst->data_dropped);
    inst->defined_funcs = alloc_array(m->nfuncs - m->nfunc_imports, sizeof *inst->defined_funcs);
    if (!inst->funcs || !inst->tables || !inst->memories || !inst->globals || !inst->type_ids ||
        !inst->elem_dropped || !inst->data_dropped || !inst->defined_funcs) {
        instance_free(inst);
        return NULL;
    }
    return store_adopt(s, -1, inst);
}

/* Puts each import into the index space of its kind, in module order. */
static void imports_resolve(wr_instance *inst, const wr_extern *imports) {
    const wr_module *m = inst->module;
    for (uint32_t i = 0; i < m->nimports; i++) {
        const wr__import *imp = &m->imports[i];
        switch (imp->kind) {
        case WR_EXTERN_FUNC: inst->funcs[imp->index] = imports[i].of.func; break;
        case WR_EXTERN_TABLE: inst->tables[imp->index] = imports[i].of.table; break;
        case WR_EXTERN_MEMORY: inst->memories[imp->index] = imports[i].of.memory; break;
        case WR_EXTERN_GLOBAL: inst->globals[imp->index] = imports[i].of.global; break;
        }
    }
}

/* Creates the module's own functions, tables, memories and globals. */
/* Whether `bytes` more fit in the store's budget (always, without one). */
static bool budget_fits(const wr_store *s, uint64_t bytes) {
    const wr_budget *b = s->limits.budget;
    return !b || (b->used <= b->limit && bytes <= b->limit - b->used);
}

/* Instantiation refused: a memory or table whose minimum does not fit in the budget. */
static wr_status budget_error(wr_store *s, wr_error *err, const char *what, uint32_t i, uint64_t bytes) {
    const wr_budget *b = s->limits.budget;
    s->budget_refusals++;
    return wr__error(err, WR_ERR_LIMIT, 0,
                     "%s %u: its minimum of %" PRIu64 " KiB does not fit in the memory budget "
                     "(%" PRIu64 " KiB of %" PRIu64 " KiB free)",
                     what, i, bytes / 1024, (b->used < b->limit ? b->limit - b->used : 0) / 1024, b->limit / 1024);
}

static wr_status definitions_create(wr_store *s, wr_instance *inst, wr_error *err) {
    const wr_module *m = inst->module;

    for (uint32_t i = 0; i < m->ntypes; i++) {
        inst->type_ids[i] = wr__store_type_id(s, &m->types[i]);
        if (inst->type_ids[i] == UINT32_MAX)
            return wr__error(err, WR_ERR_NOMEM, 0, "interning type %u", i);
    }

    for (uint32_t i = m->nfunc_imports; i < m->nfuncs; i++) {
        const wr__funcdef *fd = &m->funcs[i];
        wr_func *f = &inst->defined_funcs[i - m->nfunc_imports];
        f->type = m->types[fd->type_index];
        f->type_id = inst->type_ids[fd->type_index];
        f->inst = inst;
        f->index = i;
        f->code = fd->code;
        inst->funcs[i] = f;
    }

    for (uint32_t i = m->ntable_imports; i < m->ntables; i++) {
        const wr__tabletype *tt = &m->tables[i];
        if (tt->lim.min > s->limits.max_table_elems)
            return wr__error(err, WR_ERR_LIMIT, 0, "table %u: %u elements, the store allows %u", i,
                             tt->lim.min, s->limits.max_table_elems);
        if (!budget_fits(s, (uint64_t)tt->lim.min * sizeof(void *)))
            return budget_error(s, err, "table", i, (uint64_t)tt->lim.min * sizeof(void *));
        inst->tables[i] = table_create(s, tt->elem, tt->lim.min, tt->lim.max, tt->lim.has_max, NULL);
        if (!inst->tables[i])
            return wr__error(err, WR_ERR_NOMEM, 0, "table %u", i);
    }

    for (uint32_t i = m->nmemory_imports; i < m->nmemories; i++) {
        const wr__range *r = &m->memories[i];
        if (r->min > s->limits.max_memory_pages)
            return wr__error(err, WR_ERR_LIMIT, 0, "memory %u: %u pages, the store allows %u", i, r->min,
                             s->limits.max_memory_pages);
        if (!budget_fits(s, (uint64_t)r->min * WR_PAGE_SIZE))
            return budget_error(s, err, "memory", i, (uint64_t)r->min * WR_PAGE_SIZE);
        inst->memories[i] = memory_create(s, r->min, r->max, r->has_max);
        if (!inst->memories[i])
            return wr__error(err, WR_ERR_NOMEM, 0, "memory %u", i);
    }

    /* In order: an initializer may read imported globals (and, with
     * extended constant expressions, earlier ones). */
    for (uint32_t i = m->nglobal_imports; i < m->nglobals; i++) {
        const wr__globaldef *gd = &m->globals[i];
        uint64_t value = wr__constexpr_eval(inst, &gd->init);
        inst->globals[i] = global_create(s, gd->type.type, gd->type.mut, value);
        if (!inst->globals[i])
            return wr__error(err, WR_ERR_NOMEM, 0, "global %u", i);
    }
    return WR_OK;
}

/*
 * Active element segments are written as `table.init` then `elem.drop`;
 * declarative ones are only dropped.  A segment out of bounds traps before
 * writing anything, but the segments before it stay written.
 */
static wr_status elems_init(wr_instance *inst, wr_error *err) {
    const wr_module *m = inst->module;
    for (uint32_t i = 0; i < m->nelems; i++) {
        const wr__elem *e = &m->elems[i];
        if (e->mode == WR__SEG_ACTIVE) {
            wr_table *t = inst->tables[e->table];
            uint32_t offset = (uint32_t)wr__constexpr_eval(inst, &e->offset);
            if ((uint64_t)offset + e->count > t->size)
                return wr__error(err, WR_TRAP_TABLE_OOB, e->offset.offset,
                                 "element segment %u: %u elements at %u, table %u has %u", i, e->count,
                                 offset, e->table, t->size);
            for (uint32_t j = 0; j < e->count; j++)
                t->elems[offset + j] = (void *)(uintptr_t)wr__constexpr_eval(inst, &e->items[j]);
        }
        if (e->mode != WR__SEG_PASSIVE)
            inst->elem_dropped[i] = true;
    }
    return WR_OK;
}

/* Active data segments: `memory.init` then `data.drop`, with the same trap rule. */
static wr_status datas_init(wr_instance *inst, wr_error *err) {
    const wr_module *m = inst->module;
    for (uint32_t i = 0; i < m->ndatas; i++) {
        const wr__data *d = &m->datas[i];
        if (d->mode != WR__SEG_ACTIVE)
            continue;
        wr_memory *mem = inst->memories[d->memory];
        uint32_t offset = (uint32_t)wr__constexpr_eval(inst, &d->offset);
        if ((uint64_t)offset + d->size > mem->size)
            return wr__error(err, WR_TRAP_MEMORY_OOB, d->offset.offset,
                             "data segment %u: %u bytes at %u, memory %u has %llu", i, d->size, offset,
                             d->memory, (unsigned long long)mem->size);
        if (d->size)
            memcpy(mem->data + offset, m->bytes + d->data_offset, d->size);
        inst->data_dropped[i] = true;
    }
    return WR_OK;
}

/* Runs the start function on a temporary execution context. */
static wr_status start_run(wr_store *s, wr_instance *inst, wr_error *err) {
    const wr_module *m = inst->module;
    wr_exec *e = wr_exec_new(s);
    if (!e)
        return wr__error(err, WR_ERR_NOMEM, 0, "execution context for the start function");
    wr_status st = wr_call(e, inst->funcs[m->start], NULL, 0, NULL, 0);
    wr_exec_free(e);
    if (st == WR_OK)
        return WR_OK;
    /* The temporary context is gone, so a paused start function cannot be resumed. */
    if (st == WR_SUSPENDED || st == WR_OUT_OF_FUEL)
        return wr__error(err, WR_ERR_STATE, 0, "start function %u: %s", m->start, wr_status_message(st));
    return wr__error(err, st, 0, "start function %u", m->start);
}

static wr_status instantiate(wr_store *s, const wr_module *m, const wr_extern *imports, size_t nimports,
                             bool run_start, wr_instance **ret_inst, wr_error *err) {
    wr__error(err, WR_OK, 0, NULL);
    if (nimports != m->nimports || (nimports && !imports))
        return wr__error(err, WR_ERR_ARGS, 0, "%zu imports given, the module has %u", nimports, m->nimports);
    for (uint32_t i = 0; i < m->nimports; i++) {
        wr_status st = import_check(m, &m->imports[i], &imports[i], err);
        if (st != WR_OK)
            return st;
    }

    /*
     * From here on, everything created belongs to the store even when a
     * later step fails: a trapping segment or start function leaves its
     * earlier writes into imported objects visible, as the spec requires.
     */
    wr_instance *inst = instance_alloc(s, m);
    if (!inst)
        return wr__error(err, WR_ERR_NOMEM, 0, "instance");
    imports_resolve(inst, imports);

    wr_status st = definitions_create(s, inst, err);
    if (st == WR_OK)
        st = elems_init(inst, err);
    if (st == WR_OK)
        st = datas_init(inst, err);
    if (st == WR_OK && m->has_start && run_start)
        st = start_run(s, inst, err);
    if (st != WR_OK)
        return st;
    *ret_inst = inst;
    return WR_OK;
}

wr_status wr_instantiate(wr_store *s, const wr_module *m, const wr_extern *imports, size_t nimports,
                         wr_instance **ret_inst, wr_error *err) {
    return instantiate(s, m, imports, nimports, true, ret_inst, err);
}

wr_status wr_instantiate_deferred(wr_store *s, const wr_module *m, const wr_extern *imports, size_t nimports,
                                  wr_instance **ret_inst, wr_error *err) {
    return instantiate(s, m, imports, nimports, false, ret_inst, err);
}

wr_func *wr_instance_start_func(const wr_instance *inst) {
    return inst->module->has_start ? inst->funcs[inst->module->start] : NULL;
}

/* ---- Instance accessors ------------------------------------------------- */

bool wr_instance_export_n(const wr_instance *inst, const char *name, size_t len, wr_extern *ret) {
    const wr_module *m = inst->module;
    for (uint32_t i = 0; i < m->nexports; i++) {
        const wr__export *ex = &m->exports[i];
        if (ex->name_len != len || memcmp(ex->name, name, len) != 0)
            continue;
        ret->kind = ex->kind;
        switch (ex->kind) {
        case WR_EXTERN_FUNC: ret->of.func = inst->funcs[ex->index]; break;
        case WR_EXTERN_TABLE: ret->of.table = inst->tables[ex->index]; break;
        case WR_EXTERN_MEMORY: ret->of.memory = inst->memories[ex->index]; break;
        case WR_EXTERN_GLOBAL: ret->of.global = inst->globals[ex->index]; break;
        }
        return true;
    }
    return false;
}

bool wr_instance_export(const wr_instance *inst, const char *name, wr_extern *ret) {
    return wr_instance_export_n(inst, name, strlen(name), ret);
}

const wr_module *wr_instance_module(const wr_instance *inst) {
    return inst->module;
}

wr_memory *wr_instance_memory(const wr_instance *inst) {
    return inst->module->nmemories ? inst->memories[0] : NULL;
}
