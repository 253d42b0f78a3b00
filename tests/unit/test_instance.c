/*
 * test_instance.c - unit tests of runtime/instance.c: stores, host objects,
 * type interning, linking, segments, the start function and exports.
 *
 * Most modules are built by hand as zeroed struct wr_module values with only
 * the arrays a test needs, so that those tests do not depend on the decoder;
 * they are never passed to wr_module_free (their arrays are not heap), and
 * the only functions they run are host functions (as start functions).
 * The last tests load small binaries through wr_module_load, to check the
 * start function and segments with the real decoder and interpreter.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "internal.h"

/* ---- Helpers ------------------------------------------------------------ */

static const wr_valtype t_i32_i32[] = { WR_I32, WR_I32 };
static const wr_valtype t_i64[] = { WR_I64 };

static wr__constexpr ce_i32(int32_t v) {
    /* As a decoder might store it: sign-extended to 64 bits. */
    return (wr__constexpr){ .kind = WR__CE_I32, .value = (uint64_t)(int64_t)v };
}

static wr__constexpr ce_of(uint8_t kind, uint64_t value) {
    return (wr__constexpr){ .kind = kind, .value = value };
}

static wr__import import_of(const char *name, wr_externkind kind, uint32_t index) {
    return (wr__import){ .module = (char *)"env", .name = (char *)name, .module_len = 3,
                         .name_len = (uint32_t)strlen(name), .kind = kind, .index = index };
}

static wr_extern ext_func(wr_func *f) { wr_extern e = { .kind = WR_EXTERN_FUNC }; e.of.func = f; return e; }
static wr_extern ext_table(wr_table *t) { wr_extern e = { .kind = WR_EXTERN_TABLE }; e.of.table = t; return e; }
static wr_extern ext_memory(wr_memory *m) { wr_extern e = { .kind = WR_EXTERN_MEMORY }; e.of.memory = m; return e; }
static wr_extern ext_global(wr_global *g) { wr_extern e = { .kind = WR_EXTERN_GLOBAL }; e.of.global = g; return e; }

static wr_status host_nop(wr_exec *e, void *env, const uint64_t *args, uint64_t *results) {
    return WR_OK;
}

/* Counts its calls in *(int *)env. */
static wr_status host_count(wr_exec *e, void *env, const uint64_t *args, uint64_t *results) {
    ++*(int *)env;
    return WR_OK;
}

static wr_status host_trap(wr_exec *e, void *env, const uint64_t *args, uint64_t *results) {
    return WR_TRAP_UNREACHABLE;
}

/* ---- Stores ------------------------------------------------------------- */

static void store_defaults(void **state) {
    wr_store *s = wr_store_new(NULL);
    assert_non_null(s);
    assert_int_equal(s->limits.max_memory_pages, WR_DEFAULT_MAX_MEMORY_PAGES);
    assert_int_equal(s->limits.max_table_elems, WR_DEFAULT_MAX_TABLE_ELEMS);
    assert_int_equal(s->limits.value_stack_slots, WR_DEFAULT_VALUE_STACK_SLOTS);
    assert_int_equal(s->limits.max_call_depth, WR_DEFAULT_MAX_CALL_DEPTH);
    wr_store_free(s);

    /* Only the zero fields take defaults. */
    wr_limits lim = { .max_memory_pages = 7, .max_call_depth = 9 };
    s = wr_store_new(&lim);
    assert_non_null(s);
    assert_int_equal(s->limits.max_memory_pages, 7);
    assert_int_equal(s->limits.max_table_elems, WR_DEFAULT_MAX_TABLE_ELEMS);
    assert_int_equal(s->limits.value_stack_slots, WR_DEFAULT_VALUE_STACK_SLOTS);
    assert_int_equal(s->limits.max_call_depth, 9);
    wr_store_free(s);

    wr_store_free(NULL);
}

/* ---- Memories ----------------------------------------------------------- */

static void memory_grow_within_declared_max(void **state) {
    wr_store *s = wr_store_new(NULL);
    wr_memory *mem = wr_memory_new(s, 1, 3, true);
    assert_non_null(mem);
    assert_int_equal(wr_memory_size(mem), WR_PAGE_SIZE);
    assert_non_null(wr_memory_data(mem));
    assert_int_equal(wr_memory_data(mem)[WR_PAGE_SIZE - 1], 0);
    memset(wr_memory_data(mem), 0xab, WR_PAGE_SIZE);

    assert_int_equal(wr_memory_grow(mem, 0), 1);
    assert_int_equal(wr_memory_grow(mem, 1), 1);
    assert_int_equal(wr_memory_size(mem), 2 * WR_PAGE_SIZE);
    /* Old bytes kept, new ones zero. */
    uint8_t *d = wr_memory_data(mem);
    assert_int_equal(d[0], 0xab);
    assert_int_equal(d[WR_PAGE_SIZE - 1], 0xab);
    for (size_t i = WR_PAGE_SIZE; i < 2 * WR_PAGE_SIZE; i++)
        if (d[i] != 0)
            fail_msg("byte %zu of the new page is %u", i, d[i]);

    assert_int_equal(wr_memory_grow(mem, 2), -1);          /* 4 > 3 */
    assert_int_equal(wr_memory_grow(mem, UINT32_MAX), -1); /* must not wrap */
    assert_int_equal(wr_memory_size(mem), 2 * WR_PAGE_SIZE);
    assert_int_equal(wr__memory_grow(mem, 1), 2);
    assert_int_equal(wr_memory_grow(mem, 1), -1);
    assert_int_equal(wr_memory_grow(mem, 0), 3);
    wr_store_free(s);
}

static void memory_grow_capped_by_store_limit(void **state) {
    wr_limits lim = { .max_memory_pages = 4 };
    wr_store *s = wr_store_new(&lim);

    /* No declared maximum: the store's limit applies. */
    wr_memory *mem = wr_memory_new(s, 0, 0, false);
    assert_non_null(mem);
    assert_int_equal(wr_memory_size(mem), 0);
    assert_non_null(wr_memory_data(mem));
    assert_int_equal(wr_memory_grow(mem, 5), -1);
    assert_int_equal(wr_memory_grow(mem, 4), 0);
    assert_int_equal(wr_memory_grow(mem, 1), -1);
    assert_int_equal(wr_memory_size(mem), 4 * WR_PAGE_SIZE);

    /* A declared maximum above the store's limit is capped by it. */
    mem = wr_memory_new(s, 1, 100, true);
    assert_non_null(mem);
    assert_int_equal(wr_memory_grow(mem, 3), 1);
    assert_int_equal(wr_memory_grow(mem, 1), -1);

    /* Creation past the limits, or with min > max, fails. */
    assert_null(wr_memory_new(s, 5, 0, false));
    assert_null(wr_memory_new(s, 3, 2, true));
    wr_store_free(s);
}

/* Without a declared maximum, a memory stops at the spec's 65536 pages even
 * when the store would allow more; checked without allocating 4 GiB. */
static void memory_max_capped_at_spec_limit(void **state) {
    wr_limits lim = { .max_memory_pages = UINT32_MAX };
    wr_store *s = wr_store_new(&lim);
    wr_memory *mem = wr_memory_new(s, 0, 0, false);
    assert_non_null(mem);
    assert_int_equal(mem->max_pages, WR_MAX_MEMORY_DECL);
    assert_int_equal(wr_memory_grow(mem, WR_MAX_MEMORY_DECL + 1), -1);
    wr_store_free(s);
}

/* ---- Tables ------------------------------------------------------------- */

static void table_grow_and_access(void **state) {
    wr_store *s = wr_store_new(NULL);
    assert_null(wr_table_new(s, WR_I32, 1, 0, false));
    assert_null(wr_table_new(s, WR_FUNCREF, 3, 2, true));

    wr_table *t = wr_table_new(s, WR_FUNCREF, 2, 4, true);
    assert_non_null(t);
    assert_int_equal(wr_table_size(t), 2);
    wr_val v;
    assert_true(wr_table_get(t, 1, &v));
    assert_int_equal(v.type, WR_FUNCREF);
    assert_null(v.of.ref);
    assert_false(wr_table_get(t, 2, &v));

    int marker;
    assert_int_equal(wr__table_grow(t, 1, &marker, s->limits.max_table_elems), 2);
    assert_int_equal(wr_table_size(t), 3);
    assert_true(wr_table_get(t, 2, &v));
    assert_ptr_equal(v.of.ref, &marker);
    assert_int_equal(wr__table_grow(t, 2, NULL, s->limits.max_table_elems), -1); /* 5 > 4 */
    assert_int_equal(wr__table_grow(t, UINT32_MAX, NULL, UINT32_MAX), -1);
    assert_int_equal(wr__table_grow(t, 1, NULL, 3), -1);                       /* store limit */
    assert_int_equal(wr__table_grow(t, 0, NULL, s->limits.max_table_elems), 3);
    assert_int_equal(wr__table_grow(t, 1, NULL, s->limits.max_table_elems), 3);
    assert_int_equal(wr_table_size(t), 4);

    /* Set: bounds and element type. */
    wr_val ref = wr_val_ref(WR_FUNCREF, &marker);
    assert_true(wr_table_set(t, 3, &ref));
    assert_true(wr_table_get(t, 3, &v));
    assert_ptr_equal(v.of.ref, &marker);
    assert_false(wr_table_set(t, 4, &ref));
    wr_val ext = wr_val_ref(WR_EXTERNREF, &marker);
    assert_false(wr_table_set(t, 0, &ext));
    wr_store_free(s);
}

static void table_capped_by_store_limit(void **state) {
    wr_limits lim = { .max_table_elems = 5 };
    wr_store *s = wr_store_new(&lim);
    assert_null(wr_table_new(s, WR_EXTERNREF, 6, 0, false));
    wr_table *t = wr_table_new(s, WR_EXTERNREF, 1, 0, false);
    assert_non_null(t);
    assert_int_equal(wr__table_grow(t, 5, NULL, s->limits.max_table_elems), -1);
    assert_int_equal(wr__table_grow(t, 4, NULL, s->limits.max_table_elems), 1);
    assert_int_equal(wr__table_grow(t, 1, NULL, s->limits.max_table_elems), -1);
    wr_store_free(s);
}

/* ---- Globals ------------------------------------------------------------ */

static void global_set_respects_mutability_and_type(void **state) {
    wr_store *s = wr_store_new(NULL);
    wr_val init = wr_val_i32(-5);
    wr_global *imm = wr_global_new(s, &init, false);
    wr_global *mut = wr_global_new(s, &init, true);
    assert_non_null(imm);
    assert_non_null(mut);

    wr_val v = wr_val_i32(42);
    assert_false(wr_global_set(imm, &v));
    wr_val got;
    wr_global_get(imm, &got);
    assert_int_equal(got.type, WR_I32);
    assert_int_equal(got.of.i32, -5);
    /* i32 is zero-extended in its slot. */
    assert_int_equal(imm->value, 0xfffffffbu);

    assert_true(wr_global_set(mut, &v));
    wr_global_get(mut, &got);
    assert_int_equal(got.of.i32, 42);
    wr_val wrong = wr_val_i64(42);
    assert_false(wr_global_set(mut, &wrong));

    /* Other types round-trip through the slot. */
    wr_val vals[] = { wr_val_i64(INT64_MIN), wr_val_f32_bits(0x7fc00001u),
                      wr_val_f64_bits(0x7ff8000000000001ull), wr_val_ref(WR_EXTERNREF, s) };
    for (size_t i = 0; i < sizeof vals / sizeof vals[0]; i++) {
        wr_global *g = wr_global_new(s, &vals[i], true);
        assert_non_null(g);
        wr_global_get(g, &got);
        assert_int_equal(got.type, vals[i].type);
        assert_memory_equal(&got.of, &vals[i].of, sizeof got.of);
    }

    wr_val bad = { .type = (wr_valtype)0x42 };
    assert_null(wr_global_new(s, &bad, false));
    wr_store_free(s);
}

/* ---- Type interning ----------------------------------------------------- */

static void type_ids_are_interned(void **state) {
    wr_store *s = wr_store_new(NULL);
    wr_valtype buf[] = { WR_I32, WR_I32 };
    wr_functype a = { 1, 1, buf };                    /* i32 -> i32 */
    wr_functype b = { 2, 0, t_i32_i32 };              /* i32 i32 -> */
    wr_functype c = { 0, 0, NULL };                   /* -> */
    uint32_t ia = wr__store_type_id(s, &a);
    uint32_t ib = wr__store_type_id(s, &b);
    uint32_t ic = wr__store_type_id(s, &c);
    assert_int_not_equal(ia, ib);
    assert_int_not_equal(ia, ic);
    assert_int_not_equal(ib, ic);
    assert_int_equal(s->ntype_ids, 3);

    /* The store keeps its own copy: changing the caller's array changes nothing. */
    buf[1] = WR_I64;
    wr_functype a2 = { 1, 1, t_i32_i32 };
    assert_int_equal(wr__store_type_id(s, &a2), ia);
    assert_int_not_equal(wr__store_type_id(s, &a), ia); /* now i32 -> i64 */

    /* Many distinct types (forcing the index to grow); each keeps its id. */
    enum { N = 2000 };
    static wr_valtype many[N][3];
    uint32_t ids[N];
    for (uint32_t i = 0; i < N; i++) {
        many[i][0] = (wr_valtype[]){ WR_I32, WR_I64, WR_F32, WR_F64 }[i % 4];
        many[i][1] = (wr_valtype[]){ WR_I32, WR_I64, WR_F32, WR_F64 }[(i / 4) % 4];
        many[i][2] = (wr_valtype[]){ WR_I32, WR_I64, WR_F32, WR_F64 }[(i / 16) % 4];
        /* 64 combinations of three types, each split four ways into params and results. */
        wr_functype t = { (i / 64) % 4, 3 - (i / 64) % 4, many[i] };
        ids[i] = wr__store_type_id(s, &t);
        assert_int_not_equal(ids[i], UINT32_MAX);
    }
    for (uint32_t i = 0; i < N; i++) {
        wr_functype t = { (i / 64) % 4, 3 - (i / 64) % 4, many[i] };
        assert_int_equal(wr__store_type_id(s, &t), ids[i]);
    }
    /* 64 combinations of types times 4 splits: 256 distinct, plus the 4 earlier ones. */
    assert_int_equal(s->ntype_ids, 256 + 4);

    /* A host function's type id is the interned one. */
    wr_func *f = wr_func_new_host(s, &b, host_nop, NULL);
    assert_non_null(f);
    assert_int_equal(f->type_id, ib);
    assert_null(f->inst);
    assert_null(f->code);
    const wr_functype *ft = wr_func_type(f);
    assert_true(wr__functype_equal(ft, &b));
    assert_ptr_not_equal(ft->types, b.types); /* copied */
    wr_store_free(s);
}

/* ---- Linking ------------------------------------------------------------ */

/*
 * A module importing one object of each kind:
 *   func "f" (i32 i32 ->), table "t" (funcref 2..10), memory "m" (1..5), global "g" (const i32)
 */
typedef struct linkmod {
    wr_module m;
    wr_functype types[1];
    wr__import imports[4];
    wr__funcdef funcs[1];
    wr__tabletype tables[1];
    wr__range memories[1];
    wr__globaldef globals[1];
} linkmod;

static void linkmod_init(linkmod *lm) {
    memset(lm, 0, sizeof *lm);
    lm->types[0] = (wr_functype){ 2, 0, t_i32_i32 };
    lm->imports[0] = import_of("f", WR_EXTERN_FUNC, 0);
    lm->imports[1] = import_of("t", WR_EXTERN_TABLE, 0);
    lm->imports[2] = import_of("m", WR_EXTERN_MEMORY, 0);
    lm->imports[3] = import_of("g", WR_EXTERN_GLOBAL, 0);
    lm->funcs[0] = (wr__funcdef){ .type_index = 0, .imported = true };
    lm->tables[0] = (wr__tabletype){ WR_FUNCREF, { 2, 10, true } };
    lm->memories[0] = (wr__range){ 1, 5, true };
    lm->globals[0] = (wr__globaldef){ .type = { WR_I32, false }, .imported = true };
    wr_module *m = &lm->m;
    m->types = lm->types;
    m->ntypes = 1;
    m->imports = lm->imports;
    m->nimports = 4;
    m->nfunc_imports = m->ntable_imports = m->nmemory_imports = m->nglobal_imports = 1;
    m->funcs = lm->funcs;
    m->nfuncs = 1;
    m->tables = lm->tables;
    m->ntables = 1;
    m->memories = lm->memories;
    m->nmemories = 1;
    m->globals = lm->globals;
    m->nglobals = 1;
}

typedef struct linkobjs {
    wr_extern ext[4];
} linkobjs;

/* Objects that match linkmod's imports exactly. */
static void linkobjs_init(wr_store *s, linkobjs *o) {
    wr_functype ft = { 2, 0, t_i32_i32 };
    wr_val g = wr_val_i32(7);
    o->ext[0] = ext_func(wr_func_new_host(s, &ft, host_nop, NULL));
    o->ext[1] = ext_table(wr_table_new(s, WR_FUNCREF, 2, 10, true));
    o->ext[2] = ext_memory(wr_memory_new(s, 1, 5, true));
    o->ext[3] = ext_global(wr_global_new(s, &g, false));
}

static void link_matching_imports(void **state) {
    wr_store *s = wr_store_new(NULL);
    linkmod lm;
    linkmod_init(&lm);
    linkobjs o;
    linkobjs_init(s, &o);
    wr_instance *inst = NULL;
    wr_error err;
    assert_int_equal(wr_instantiate(s, &lm.m, o.ext, 4, &inst, &err), WR_OK);
    assert_int_equal(err.status, WR_OK);
    assert_non_null(inst);
    assert_ptr_equal(inst->funcs[0], o.ext[0].of.func);
    assert_ptr_equal(inst->tables[0], o.ext[1].of.table);
    assert_ptr_equal(inst->memories[0], o.ext[2].of.memory);
    assert_ptr_equal(inst->globals[0], o.ext[3].of.global);
    assert_ptr_equal(wr_instance_memory(inst), o.ext[2].of.memory);
    assert_ptr_equal(wr_instance_module(inst), &lm.m);
    assert_int_equal(inst->type_ids[0], o.ext[0].of.func->type_id);
    wr_store_free(s);
}

static void link_wrong_import_count(void **state) {
    wr_store *s = wr_store_new(NULL);
    linkmod lm;
    linkmod_init(&lm);
    linkobjs o;
    linkobjs_init(s, &o);
    wr_instance *inst = NULL;
    wr_error err;
    assert_int_equal(wr_instantiate(s, &lm.m, o.ext, 3, &inst, &err), WR_ERR_ARGS);
    assert_int_equal(err.status, WR_ERR_ARGS);
    assert_null(inst);
    o.ext[0].of.func = NULL;
    assert_int_equal(wr_instantiate(s, &lm.m, o.ext, 4, &inst, &err), WR_ERR_ARGS);
    assert_null(inst);
    wr_store_free(s);
}

/* Instantiates linkmod with import `which` replaced; returns the status. */
static wr_status link_with(wr_store *s, linkmod *lm, int which, wr_extern replacement, wr_error *err) {
    linkobjs o;
    linkobjs_init(s, &o);
    o.ext[which] = replacement;
    wr_instance *inst = NULL;
    wr_status st = wr_instantiate(s, &lm->m, o.ext, 4, &inst, err);
    if (st != WR_OK)
        assert_null(inst);
    return st;
}

static void link_kind_mismatch(void **state) {
    wr_store *s = wr_store_new(NULL);
    linkmod lm;
    linkmod_init(&lm);
    wr_val v = wr_val_i32(0);
    wr_error err;
    /* A global where the function is expected, and so on around. */
    assert_int_equal(link_with(s, &lm, 0, ext_global(wr_global_new(s, &v, false)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);
    assert_string_equal(wr_status_message(err.status), "incompatible import type");
    assert_non_null(strstr(err.detail, "\"env\" \"f\""));
    assert_int_equal(link_with(s, &lm, 1, ext_memory(wr_memory_new(s, 2, 10, true)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);
    assert_int_equal(link_with(s, &lm, 2, ext_table(wr_table_new(s, WR_FUNCREF, 1, 5, true)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);
    wr_functype ft = { 2, 0, t_i32_i32 };
    assert_int_equal(link_with(s, &lm, 3, ext_func(wr_func_new_host(s, &ft, host_nop, NULL)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);
    assert_non_null(strstr(err.detail, "\"env\" \"g\""));
    wr_store_free(s);
}

static void link_type_mismatch(void **state) {
    wr_store *s = wr_store_new(NULL);
    linkmod lm;
    linkmod_init(&lm);
    wr_error err;

    /* Functions: structural equality of types. */
    wr_functype other = { 1, 0, t_i64 };
    wr_functype swapped = { 0, 2, t_i32_i32 };
    assert_int_equal(link_with(s, &lm, 0, ext_func(wr_func_new_host(s, &other, host_nop, NULL)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);
    assert_int_equal(link_with(s, &lm, 0, ext_func(wr_func_new_host(s, &swapped, host_nop, NULL)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);

    /* Tables: element type. */
    assert_int_equal(link_with(s, &lm, 1, ext_table(wr_table_new(s, WR_EXTERNREF, 2, 10, true)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);

    /* Globals: value type and mutability. */
    wr_val i64 = wr_val_i64(7), i32 = wr_val_i32(7);
    assert_int_equal(link_with(s, &lm, 3, ext_global(wr_global_new(s, &i64, false)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);
    assert_int_equal(link_with(s, &lm, 3, ext_global(wr_global_new(s, &i32, true)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);
    lm.globals[0].type.mut = true;
    assert_int_equal(link_with(s, &lm, 3, ext_global(wr_global_new(s, &i32, false)), &err),
                     WR_ERR_INCOMPATIBLE_IMPORT);
    assert_int_equal(link_with(s, &lm, 3, ext_global(wr_global_new(s, &i32, true)), &err), WR_OK);
    wr_store_free(s);
}

/* Memory and table limits subtyping, against an import declaring {1, max 5} / {2, max 10}. */
static void link_limits_subtyping(void **state) {
    static const struct { uint32_t min, max; bool has_max; wr_status want; } mems[] = {
        { 1, 5, true, WR_OK },
        { 2, 5, true, WR_OK },                        /* larger current size */
        { 1, 3, true, WR_OK },                        /* smaller maximum */
        { 5, 5, true, WR_OK },
        { 0, 5, true, WR_ERR_INCOMPATIBLE_IMPORT },   /* too small */
        { 1, 6, true, WR_ERR_INCOMPATIBLE_IMPORT },   /* larger maximum */
        { 1, 0, false, WR_ERR_INCOMPATIBLE_IMPORT },  /* no maximum */
    };
    static const struct { uint32_t min, max; bool has_max; wr_status want; } tabs[] = {
        { 2, 10, true, WR_OK },
        { 3, 4, true, WR_OK },
        { 1, 10, true, WR_ERR_INCOMPATIBLE_IMPORT },
        { 2, 11, true, WR_ERR_INCOMPATIBLE_IMPORT },
        { 2, 0, false, WR_ERR_INCOMPATIBLE_IMPORT },
    };
    wr_store *s = wr_store_new(NULL);
    linkmod lm;
    linkmod_init(&lm);
    wr_error err;
    for (size_t i = 0; i < sizeof mems / sizeof mems[0]; i++) {
        wr_memory *mem = wr_memory_new(s, mems[i].min, mems[i].max, mems[i].has_max);
        assert_non_null(mem);
        if (link_with(s, &lm, 2, ext_memory(mem), &err) != mems[i].want)
            fail_msg("memory case %zu: %s", i, err.detail);
    }
    for (size_t i = 0; i < sizeof tabs / sizeof tabs[0]; i++) {
        wr_table *t = wr_table_new(s, WR_FUNCREF, tabs[i].min, tabs[i].max, tabs[i].has_max);
        assert_non_null(t);
        if (link_with(s, &lm, 1, ext_table(t), &err) != tabs[i].want)
            fail_msg("table case %zu: %s", i, err.detail);
    }

    /* A memory that grew since creation is matched with its current size. */
    wr_memory *mem = wr_memory_new(s, 0, 5, true);
    assert_int_equal(link_with(s, &lm, 2, ext_memory(mem), &err), WR_ERR_INCOMPATIBLE_IMPORT);
    assert_int_equal(wr_memory_grow(mem, 1), 0);
    assert_int_equal(link_with(s, &lm, 2, ext_memory(mem), &err), WR_OK);

    /* Without a declared maximum in the module, any maximum (or none) will do. */
    lm.memories[0].has_max = false;
    assert_int_equal(link_with(s, &lm, 2, ext_memory(wr_memory_new(s, 1, 0, false)), &err), WR_OK);
    wr_store_free(s);
}

/* ---- Constant expressions ----------------------------------------------- */

static void constexpr_evaluation(void **state) {
    wr_store *s = wr_store_new(NULL);
    wr_val gv = wr_val_i64(-2);
    wr_global *g = wr_global_new(s, &gv, false);
    wr_func fn = { 0 };
    wr_func *funcs[] = { NULL, &fn };
    wr_global *globals[] = { g };
    wr_instance inst = { .funcs = funcs, .globals = globals };

    assert_int_equal(wr__constexpr_eval(&inst, &(wr__constexpr){ .kind = WR__CE_I32, .value = 0xffffffff80000000ull }),
                     0x80000000u);
    wr__constexpr neg = ce_i32(-1);
    assert_int_equal(wr__constexpr_eval(&inst, &neg), 0xffffffffu);
    wr__constexpr ce = ce_of(WR__CE_I64, 0x8000000000000001ull);
    assert_int_equal(wr__constexpr_eval(&inst, &ce), 0x8000000000000001ull);
    ce = ce_of(WR__CE_F32, 0x7fc00001u);
    assert_int_equal(wr__constexpr_eval(&inst, &ce), 0x7fc00001u);
    ce = ce_of(WR__CE_F64, 0xfff0000000000001ull);
    assert_int_equal(wr__constexpr_eval(&inst, &ce), 0xfff0000000000001ull);
    ce = (wr__constexpr){ .kind = WR__CE_REF_NULL, .reftype = WR_FUNCREF };
    assert_int_equal(wr__constexpr_eval(&inst, &ce), 0);
    ce = ce_of(WR__CE_REF_FUNC, 1);
    assert_int_equal(wr__constexpr_eval(&inst, &ce), (uint64_t)(uintptr_t)&fn);
    ce = ce_of(WR__CE_GLOBAL_GET, 0);
    assert_int_equal(wr__constexpr_eval(&inst, &ce), (uint64_t)-2);
    wr_store_free(s);
}

/* ---- Defined objects, segments, start ----------------------------------- */

/*
 * A module with:
 *   imports: global "g" (const i32), table "t" (funcref, min 4), memory "m" (min 1),
 *            func "start" (->)
 *   types:   0 (->), 1 (i32 i32 ->)
 *   funcs:   0 imported start, 1 and 2 defined (types 1 and 0)
 *   tables:  0 imported, 1 defined (externref 3..8)
 *   memory:  0 imported
 *   globals: 0 imported, 1 = global.get 0 (mut), 2 = ref.func 2, 3 = i64 const
 *   elems:   per test
 *   datas:   per test
 *   exports: "f1" func 1, "t" table 1, "mem" memory 0, "g\0x" global 3, "g" global 1
 */
typedef struct segmod {
    wr_module m;
    wr_functype types[2];
    wr__import imports[4];
    wr__funcdef funcs[3];
    wr__tabletype tables[2];
    wr__range memories[1];
    wr__globaldef globals[4];
    wr__export exports[5];
    wr__elem elems[4];
    wr__constexpr items[8];
    wr__data datas[3];
} segmod;

static const uint8_t seg_bytes[] = "0123456789abcdef";

static void segmod_init(segmod *sm) {
    memset(sm, 0, sizeof *sm);
    wr_module *m = &sm->m;
    sm->types[0] = (wr_functype){ 0, 0, NULL };
    sm->types[1] = (wr_functype){ 2, 0, t_i32_i32 };
    m->types = sm->types;
    m->ntypes = 2;

    sm->imports[0] = import_of("g", WR_EXTERN_GLOBAL, 0);
    sm->imports[1] = import_of("t", WR_EXTERN_TABLE, 0);
    sm->imports[2] = import_of("m", WR_EXTERN_MEMORY, 0);
    sm->imports[3] = import_of("start", WR_EXTERN_FUNC, 0);
    m->imports = sm->imports;
    m->nimports = 4;
    m->nfunc_imports = m->ntable_imports = m->nmemory_imports = m->nglobal_imports = 1;

    sm->funcs[0] = (wr__funcdef){ .type_index = 0, .imported = true };
    sm->funcs[1] = (wr__funcdef){ .type_index = 1 };
    sm->funcs[2] = (wr__funcdef){ .type_index = 0 };
    m->funcs = sm->funcs;
    m->nfuncs = 3;

    sm->tables[0] = (wr__tabletype){ WR_FUNCREF, { 4, 0, false } };
    sm->tables[1] = (wr__tabletype){ WR_EXTERNREF, { 3, 8, true } };
    m->tables = sm->tables;
    m->ntables = 2;

    sm->memories[0] = (wr__range){ 1, 0, false };
    m->memories = sm->memories;
    m->nmemories = 1;

    sm->globals[0] = (wr__globaldef){ .type = { WR_I32, false }, .imported = true };
    sm->globals[1] = (wr__globaldef){ .type = { WR_I32, true }, .init = ce_of(WR__CE_GLOBAL_GET, 0) };
    sm->globals[2] = (wr__globaldef){ .type = { WR_FUNCREF, false }, .init = ce_of(WR__CE_REF_FUNC, 2) };
    sm->globals[3] = (wr__globaldef){ .type = { WR_I64, false }, .init = ce_of(WR__CE_I64, 99) };
    m->globals = sm->globals;
    m->nglobals = 4;

    sm->exports[0] = (wr__export){ (char *)"f1", 2, WR_EXTERN_FUNC, 1 };
    sm->exports[1] = (wr__export){ (char *)"t", 1, WR_EXTERN_TABLE, 1 };
    sm->exports[2] = (wr__export){ (char *)"mem", 3, WR_EXTERN_MEMORY, 0 };
    sm->exports[3] = (wr__export){ (char *)"g\0x", 3, WR_EXTERN_GLOBAL, 3 };
    sm->exports[4] = (wr__export){ (char *)"g", 1, WR_EXTERN_GLOBAL, 1 };
    m->exports = sm->exports;
    m->nexports = 5;

    m->elems = sm->elems;
    m->datas = sm->datas;
    m->bytes = (uint8_t *)seg_bytes;
    m->len = sizeof seg_bytes - 1;
}

typedef struct segenv {
    wr_store *s;
    wr_global *g;
    wr_table *t;
    wr_memory *mem;
    wr_func *start;
    int start_calls;
    wr_extern ext[4];
} segenv;

static void segenv_init(segenv *env, wr_host_fn start_fn) {
    memset(env, 0, sizeof *env);
    env->s = wr_store_new(NULL);
    wr_val v = wr_val_i32(1234);
    env->g = wr_global_new(env->s, &v, false);
    env->t = wr_table_new(env->s, WR_FUNCREF, 4, 0, false);
    env->mem = wr_memory_new(env->s, 1, 0, false);
    wr_functype none = { 0, 0, NULL };
    env->start = wr_func_new_host(env->s, &none, start_fn, &env->start_calls);
    env->ext[0] = ext_global(env->g);
    env->ext[1] = ext_table(env->t);
    env->ext[2] = ext_memory(env->mem);
    env->ext[3] = ext_func(env->start);
}

static void instantiate_defines_objects(void **state) {
    segmod sm;
    segmod_init(&sm);
    segenv env;
    segenv_init(&env, host_nop);
    wr_instance *inst = NULL;
    wr_error err;
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, &err), WR_OK);
    assert_non_null(inst);

    /* Defined functions point into the module and back to the instance. */
    for (uint32_t i = 1; i < 3; i++) {
        wr_func *f = inst->funcs[i];
        assert_ptr_equal(f, &inst->defined_funcs[i - 1]);
        assert_ptr_equal(f->inst, inst);
        assert_int_equal(f->index, i);
        assert_ptr_equal(f->type.types, sm.types[sm.funcs[i].type_index].types);
        assert_int_equal(f->type_id, inst->type_ids[sm.funcs[i].type_index]);
        assert_null(f->host);
    }
    assert_int_equal(inst->funcs[2]->type_id, env.start->type_id); /* both (->) */
    assert_int_not_equal(inst->funcs[1]->type_id, env.start->type_id);

    /* The defined table starts empty at its minimum. */
    wr_table *t1 = inst->tables[1];
    assert_int_equal(wr_table_size(t1), 3);
    assert_int_equal(t1->type, WR_EXTERNREF);
    assert_true(t1->has_max);
    assert_int_equal(t1->max, 8);
    for (uint32_t i = 0; i < 3; i++)
        assert_null(t1->elems[i]);

    /* Globals, initialized in order from the imported one and function references. */
    assert_int_equal(inst->globals[1]->value, 1234);
    assert_true(inst->globals[1]->mut);
    assert_ptr_equal((void *)(uintptr_t)inst->globals[2]->value, inst->funcs[2]);
    assert_int_equal(inst->globals[3]->value, 99);
    wr_store_free(env.s);
}

static void instantiate_runs_segments(void **state) {
    segmod sm;
    segmod_init(&sm);
    /* elem 0: active, table 0 at 1: func 1, null, func 2 (via global 2) */
    sm.items[0] = ce_of(WR__CE_REF_FUNC, 1);
    sm.items[1] = (wr__constexpr){ .kind = WR__CE_REF_NULL, .reftype = WR_FUNCREF };
    sm.items[2] = ce_of(WR__CE_GLOBAL_GET, 2);
    sm.elems[0] = (wr__elem){ .mode = WR__SEG_ACTIVE, .table = 0, .offset = ce_i32(1), .type = WR_FUNCREF,
                              .count = 3, .items = &sm.items[0] };
    /* elem 1: passive; elem 2: declarative */
    sm.elems[1] = (wr__elem){ .mode = WR__SEG_PASSIVE, .type = WR_FUNCREF, .count = 1, .items = &sm.items[0] };
    sm.elems[2] = (wr__elem){ .mode = WR__SEG_DECLARATIVE, .type = WR_FUNCREF, .count = 1, .items = &sm.items[0] };
    sm.m.nelems = 3;
    /* data 0: active "0123" at 10; data 1: passive; data 2: active "cdef" at the very end */
    sm.datas[0] = (wr__data){ .mode = WR__SEG_ACTIVE, .offset = ce_i32(10), .data_offset = 0, .size = 4 };
    sm.datas[1] = (wr__data){ .mode = WR__SEG_PASSIVE, .data_offset = 4, .size = 2 };
    sm.datas[2] = (wr__data){ .mode = WR__SEG_ACTIVE, .offset = ce_i32(WR_PAGE_SIZE - 4), .data_offset = 12,
                              .size = 4 };
    sm.m.ndatas = 3;
    sm.m.has_start = true;
    sm.m.start = 0;

    segenv env;
    segenv_init(&env, host_count);
    wr_instance *inst = NULL;
    wr_error err;
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, &err), WR_OK);
    assert_non_null(inst);

    assert_null(env.t->elems[0]);
    assert_ptr_equal(env.t->elems[1], inst->funcs[1]);
    assert_null(env.t->elems[2]);
    assert_ptr_equal(env.t->elems[3], inst->funcs[2]);
    assert_true(inst->elem_dropped[0]);
    assert_false(inst->elem_dropped[1]);
    assert_true(inst->elem_dropped[2]);

    uint8_t *d = wr_memory_data(env.mem);
    assert_memory_equal(d + 10, "0123", 4);
    assert_int_equal(d[9], 0);
    assert_int_equal(d[14], 0);
    assert_memory_equal(d + WR_PAGE_SIZE - 4, "cdef", 4);
    assert_true(inst->data_dropped[0]);
    assert_false(inst->data_dropped[1]);
    assert_true(inst->data_dropped[2]);

    assert_int_equal(env.start_calls, 1);
    wr_store_free(env.s);
}

/* A segment out of bounds traps; the segments before it stay written into the imported objects. */
static void instantiate_elem_oob_keeps_earlier_writes(void **state) {
    segmod sm;
    segmod_init(&sm);
    sm.items[0] = ce_of(WR__CE_REF_FUNC, 1);
    sm.items[1] = ce_of(WR__CE_REF_FUNC, 2);
    sm.elems[0] = (wr__elem){ .mode = WR__SEG_ACTIVE, .offset = ce_i32(0), .type = WR_FUNCREF, .count = 1,
                              .items = &sm.items[0] };
    /* 2 elements at 3 in a table of 4: out of bounds, and nothing of it is written. */
    sm.elems[1] = (wr__elem){ .mode = WR__SEG_ACTIVE, .offset = ce_i32(3), .type = WR_FUNCREF, .count = 2,
                              .items = &sm.items[0] };
    sm.m.nelems = 2;
    sm.datas[0] = (wr__data){ .mode = WR__SEG_ACTIVE, .offset = ce_i32(0), .size = 4 };
    sm.m.ndatas = 1;
    sm.m.has_start = true;

    segenv env;
    segenv_init(&env, host_count);
    wr_instance *inst = NULL;
    wr_error err;
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, &err), WR_TRAP_TABLE_OOB);
    assert_int_equal(err.status, WR_TRAP_TABLE_OOB);
    assert_non_null(strstr(err.detail, "segment 1"));
    assert_null(inst);
    assert_non_null(env.t->elems[0]);
    assert_null(env.t->elems[3]);
    /* Later steps did not run. */
    assert_int_equal(wr_memory_data(env.mem)[0], 0);
    assert_int_equal(env.start_calls, 0);

    /* The function written by the failed instantiation is still alive (owned by the store). */
    wr_func *f = env.t->elems[0];
    assert_int_equal(f->index, 1);

    /* An offset near 2^32 must not wrap around. */
    sm.elems[1].offset = ce_i32(-1);
    sm.elems[1].count = 1;
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, &err), WR_TRAP_TABLE_OOB);
    /* Offset == size with no elements is allowed. */
    sm.elems[1].offset = ce_i32(4);
    sm.elems[1].count = 0;
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, &err), WR_OK);
    wr_store_free(env.s);
}

static void instantiate_data_oob_keeps_earlier_writes(void **state) {
    segmod sm;
    segmod_init(&sm);
    sm.datas[0] = (wr__data){ .mode = WR__SEG_ACTIVE, .offset = ce_i32(100), .data_offset = 0, .size = 3 };
    sm.datas[1] = (wr__data){ .mode = WR__SEG_ACTIVE, .offset = ce_i32(WR_PAGE_SIZE - 1), .data_offset = 3,
                              .size = 2 };
    sm.m.ndatas = 2;
    sm.m.has_start = true;

    segenv env;
    segenv_init(&env, host_count);
    wr_instance *inst = NULL;
    wr_error err;
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, &err), WR_TRAP_MEMORY_OOB);
    assert_non_null(strstr(err.detail, "segment 1"));
    assert_null(inst);
    uint8_t *d = wr_memory_data(env.mem);
    assert_memory_equal(d + 100, "012", 3);
    assert_int_equal(d[WR_PAGE_SIZE - 1], 0);
    assert_int_equal(env.start_calls, 0);

    /* An offset near 2^32 must not wrap around. */
    sm.datas[1].offset = ce_i32(-1);
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, &err), WR_TRAP_MEMORY_OOB);
    wr_store_free(env.s);
}

static void instantiate_start_trap(void **state) {
    segmod sm;
    segmod_init(&sm);
    sm.datas[0] = (wr__data){ .mode = WR__SEG_ACTIVE, .offset = ce_i32(0), .data_offset = 0, .size = 2 };
    sm.m.ndatas = 1;
    sm.m.has_start = true;

    segenv env;
    segenv_init(&env, host_trap);
    wr_instance *inst = NULL;
    wr_error err;
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, &err), WR_TRAP_UNREACHABLE);
    assert_int_equal(err.status, WR_TRAP_UNREACHABLE);
    assert_null(inst);
    assert_memory_equal(wr_memory_data(env.mem), "01", 2); /* written before the start function */
    wr_store_free(env.s);
}

static void instantiate_memory_above_store_limit(void **state) {
    wr_limits lim = { .max_memory_pages = 2, .max_table_elems = 5 };
    wr_store *s = wr_store_new(&lim);
    wr__range mem = { 3, 0, false };
    wr_module m = { .memories = &mem, .nmemories = 1 };
    wr_instance *inst = NULL;
    wr_error err;
    assert_int_equal(wr_instantiate(s, &m, NULL, 0, &inst, &err), WR_ERR_LIMIT);
    assert_null(inst);

    /* At the limit it works, and a declared maximum above it is capped. */
    mem = (wr__range){ 2, 100, true };
    assert_int_equal(wr_instantiate(s, &m, NULL, 0, &inst, &err), WR_OK);
    assert_int_equal(inst->memories[0]->max_pages, 2);
    assert_int_equal(wr_memory_grow(inst->memories[0], 1), -1);

    wr__tabletype tab = { WR_FUNCREF, { 6, 0, false } };
    wr_module mt = { .tables = &tab, .ntables = 1 };
    assert_int_equal(wr_instantiate(s, &mt, NULL, 0, &inst, &err), WR_ERR_LIMIT);
    wr_store_free(s);
}

/* An empty module instantiates, and has no memory. */
static void instantiate_empty_module(void **state) {
    wr_store *s = wr_store_new(NULL);
    wr_module m = { 0 };
    wr_instance *inst = NULL;
    assert_int_equal(wr_instantiate(s, &m, NULL, 0, &inst, NULL), WR_OK);
    assert_non_null(inst);
    assert_null(wr_instance_memory(inst));
    wr_extern ext;
    assert_false(wr_instance_export(inst, "x", &ext));
    wr_store_free(s);
}

/* ---- Exports ------------------------------------------------------------ */

static void export_lookup(void **state) {
    segmod sm;
    segmod_init(&sm);
    segenv env;
    segenv_init(&env, host_nop);
    wr_instance *inst = NULL;
    assert_int_equal(wr_instantiate(env.s, &sm.m, env.ext, 4, &inst, NULL), WR_OK);

    wr_extern ext;
    assert_true(wr_instance_export(inst, "f1", &ext));
    assert_int_equal(ext.kind, WR_EXTERN_FUNC);
    assert_ptr_equal(ext.of.func, inst->funcs[1]);
    assert_true(wr_instance_export(inst, "t", &ext));
    assert_int_equal(ext.kind, WR_EXTERN_TABLE);
    assert_ptr_equal(ext.of.table, inst->tables[1]);
    assert_true(wr_instance_export(inst, "mem", &ext));
    assert_int_equal(ext.kind, WR_EXTERN_MEMORY);
    assert_ptr_equal(ext.of.memory, env.mem);
    assert_ptr_equal(wr_instance_memory(inst), env.mem);

    /* "g" and "g\0x" are different names: lengths count. */
    assert_true(wr_instance_export(inst, "g", &ext));
    assert_int_equal(ext.kind, WR_EXTERN_GLOBAL);
    assert_ptr_equal(ext.of.global, inst->globals[1]);
    assert_true(wr_instance_export_n(inst, "g\0x", 3, &ext));
    assert_ptr_equal(ext.of.global, inst->globals[3]);
    assert_false(wr_instance_export_n(inst, "g\0y", 3, &ext));

    assert_false(wr_instance_export(inst, "f", &ext));
    assert_false(wr_instance_export(inst, "f12", &ext));
    assert_false(wr_instance_export(inst, "", &ext));
    wr_store_free(env.s);
}

/* ---- Real modules, through wr_module_load -------------------------------- */

/*
 * (module
 *   (memory (export "mem") 1)
 *   (func $start (i32.store (i32.const 0) (i32.const 42)))
 *   (data (i32.const 4) "hi")
 *   (start $start))
 */
static const uint8_t mod_start_stores[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,                         /* type: () -> () */
    0x03, 0x02, 0x01, 0x00,                                     /* func: type 0 */
    0x05, 0x03, 0x01, 0x00, 0x01,                               /* memory: min 1 */
    0x07, 0x07, 0x01, 0x03, 'm', 'e', 'm', 0x02, 0x00,          /* export "mem" memory 0 */
    0x08, 0x01, 0x00,                                           /* start: func 0 */
    0x0a, 0x0b, 0x01, 0x09, 0x00,                               /* code: one body, no locals */
    0x41, 0x00, 0x41, 0x2a, 0x36, 0x02, 0x00, 0x0b,             /* i32.const 0 i32.const 42 i32.store end */
    0x0b, 0x08, 0x01, 0x00, 0x41, 0x04, 0x0b, 0x02, 'h', 'i',   /* data: active at 4, "hi" */
};

/*
 * (module
 *   (import "env" "mem" (memory 1))
 *   (func $start unreachable)
 *   (data (i32.const 0) "hi")
 *   (start $start))
 */
static const uint8_t mod_start_traps[] = {
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00,
    0x02, 0x0c, 0x01, 0x03, 'e', 'n', 'v', 0x03, 'm', 'e', 'm', 0x02, 0x00, 0x01,
    0x03, 0x02, 0x01, 0x00,
    0x08, 0x01, 0x00,
    0x0a, 0x05, 0x01, 0x03, 0x00, 0x00, 0x0b,                   /* unreachable end */
    0x0b, 0x08, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x02, 'h', 'i',
};

static void loaded_module_start_runs(void **state) {
    wr_module *m = NULL;
    wr_error err;
    assert_int_equal(wr_module_load(mod_start_stores, sizeof mod_start_stores, &m, &err), WR_OK);
    wr_store *s = wr_store_new(NULL);
    wr_instance *inst = NULL;
    assert_int_equal(wr_instantiate(s, m, NULL, 0, &inst, &err), WR_OK);
    wr_extern ext;
    assert_true(wr_instance_export(inst, "mem", &ext));
    assert_int_equal(ext.kind, WR_EXTERN_MEMORY);
    assert_ptr_equal(ext.of.memory, wr_instance_memory(inst));
    const uint8_t *d = wr_memory_data(ext.of.memory);
    assert_memory_equal(d, "\x2a\0\0\0hi", 6); /* data segment first, then the start function */
    wr_store_free(s);
    wr_module_free(m);
}

/* The spec keeps a failed instantiation's data writes into an imported memory. */
static void loaded_module_start_trap_keeps_data(void **state) {
    wr_module *m = NULL;
    wr_error err;
    assert_int_equal(wr_module_load(mod_start_traps, sizeof mod_start_traps, &m, &err), WR_OK);
    wr_store *s = wr_store_new(NULL);
    wr_memory *mem = wr_memory_new(s, 1, 0, false);
    wr_extern imports[] = { ext_memory(mem) };
    wr_instance *inst = NULL;
    assert_int_equal(wr_instantiate(s, m, imports, 1, &inst, &err), WR_TRAP_UNREACHABLE);
    assert_null(inst);
    assert_memory_equal(wr_memory_data(mem), "hi", 2);

    /* A memory too small for the import is refused before anything is written. */
    wr_memory *empty = wr_memory_new(s, 0, 0, false);
    imports[0] = ext_memory(empty);
    assert_int_equal(wr_instantiate(s, m, imports, 1, &inst, &err), WR_ERR_INCOMPATIBLE_IMPORT);
    assert_non_null(strstr(err.detail, "\"env\" \"mem\""));
    wr_store_free(s);
    wr_module_free(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_defaults),
        cmocka_unit_test(memory_grow_within_declared_max),
        cmocka_unit_test(memory_grow_capped_by_store_limit),
        cmocka_unit_test(memory_max_capped_at_spec_limit),
        cmocka_unit_test(table_grow_and_access),
        cmocka_unit_test(table_capped_by_store_limit),
        cmocka_unit_test(global_set_respects_mutability_and_type),
        cmocka_unit_test(type_ids_are_interned),
        cmocka_unit_test(link_matching_imports),
        cmocka_unit_test(link_wrong_import_count),
        cmocka_unit_test(link_kind_mismatch),
        cmocka_unit_test(link_type_mismatch),
        cmocka_unit_test(link_limits_subtyping),
        cmocka_unit_test(constexpr_evaluation),
        cmocka_unit_test(instantiate_defines_objects),
        cmocka_unit_test(instantiate_runs_segments),
        cmocka_unit_test(instantiate_elem_oob_keeps_earlier_writes),
        cmocka_unit_test(instantiate_data_oob_keeps_earlier_writes),
        cmocka_unit_test(instantiate_start_trap),
        cmocka_unit_test(instantiate_memory_above_store_limit),
        cmocka_unit_test(instantiate_empty_module),
        cmocka_unit_test(export_lookup),
        cmocka_unit_test(loaded_module_start_runs),
        cmocka_unit_test(loaded_module_start_trap_keeps_data),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
