#include "ganglion/metadata.h"
#include "ganglion/error.h"
#include "ganglion/scale.h"

#include <stdio.h>
#include <string.h>
#include <xxhash.h>

/* ---- name map: (kind, a, b) -> pointer, open addressing ----------------- */

enum { K_PALLET = 1, K_STORAGE, K_CONSTANT, K_CALL, K_EVENT, K_API, K_API_METHOD };

typedef struct {
    const char *a, *b;
    const void *val;
    uint8_t kind;
} map_slot_t;

struct gn_meta_map {
    map_slot_t *slots;
    size_t cap; /* power of two */
};

static uint64_t map_hash(uint8_t kind, const char *a, const char *b)
{
    uint64_t h = XXH64(a, strlen(a), kind);
    return b ? XXH64(b, strlen(b), h) : h;
}

static int map_eq(const map_slot_t *s, uint8_t kind, const char *a, const char *b)
{
    return s->kind == kind && strcmp(s->a, a) == 0 &&
           (b ? s->b && strcmp(s->b, b) == 0 : s->b == NULL);
}

/* First insert wins (names are unique in valid metadata). */
static void map_put(gn_meta_map_t *m, uint8_t kind, const char *a, const char *b, const void *v)
{
    size_t i = (size_t)map_hash(kind, a, b) & (m->cap - 1);
    while (m->slots[i].kind) {
        if (map_eq(&m->slots[i], kind, a, b))
            return;
        i = (i + 1) & (m->cap - 1);
    }
    m->slots[i] = (map_slot_t){a, b, v, kind};
}

static const void *map_get(const gn_meta_map_t *m, uint8_t kind, const char *a, const char *b)
{
    if (!m || !a || (kind != K_PALLET && kind != K_API && !b))
        return NULL;
    size_t i = (size_t)map_hash(kind, a, b) & (m->cap - 1);
    while (m->slots[i].kind) {
        if (map_eq(&m->slots[i], kind, a, b))
            return m->slots[i].val;
        i = (i + 1) & (m->cap - 1);
    }
    return NULL;
}

/* ---- parsing ---------------------------------------------------------- */

typedef struct {
    gn_scale_reader_t r;
    gn_arena_t *ar;
    int err;
} parser_t;

#define TRY(expr)         \
    do {                  \
        int rc_ = (expr); \
        if (rc_ < 0)      \
            return rc_;   \
    } while (0)

static int rd_u8(parser_t *p, uint8_t *v)
{
    return gn_scale_read_u8(&p->r, v);
}
static int rd_u32(parser_t *p, uint32_t *v)
{
    return gn_scale_read_u32(&p->r, v);
}
static int rd_compact(parser_t *p, uint32_t *v)
{
    return gn_scale_read_compact_u32(&p->r, v);
}
static int rd_len(parser_t *p, size_t min_item, uint32_t *n)
{
    size_t x;
    TRY(gn_scale_read_len(&p->r, min_item, &x));
    *n = (uint32_t)x;
    return 0;
}

static int rd_name(parser_t *p, const char **out)
{
    const char *s;
    size_t n;
    TRY(gn_scale_read_str(&p->r, &s, &n));
    *out = gn_arena_strndup(p->ar, s, n);
    return *out ? 0 : GN_ENOMEM;
}

static int rd_opt_name(parser_t *p, const char **out)
{
    bool some;
    TRY(gn_scale_read_option(&p->r, &some));
    *out = NULL;
    return some ? rd_name(p, out) : 0;
}

/* Arrays of n items allocated in the arena (n was checked against input). */
#define ALLOC_N(p, ptr, n)                                               \
    do {                                                                 \
        (ptr) = gn_arena_calloc((p)->ar, (n) ? (n) : 1, sizeof(*(ptr))); \
        if (!(ptr))                                                      \
            return GN_ENOMEM;                                            \
    } while (0)

static int rd_docs(parser_t *p, gn_docs_t *d)
{
    TRY(rd_len(p, 1, &d->n));
    ALLOC_N(p, d->lines, d->n);
    for (uint32_t i = 0; i < d->n; i++) {
        const char *s;
        size_t n;
        TRY(gn_scale_read_str(&p->r, &s, &n));
        d->lines[i] = (gn_str_t){s, (uint32_t)n};
    }
    return 0;
}

static int rd_bytes(parser_t *p, const uint8_t **out, uint32_t *n)
{
    size_t len;
    TRY(gn_scale_read_vec_u8(&p->r, out, &len));
    *n = (uint32_t)len;
    return 0;
}

static int rd_fields(parser_t *p, gn_field_t **fields, uint32_t *n)
{
    TRY(rd_len(p, 3, n));
    ALLOC_N(p, *fields, *n);
    for (uint32_t i = 0; i < *n; i++) {
        gn_field_t *f = &(*fields)[i];
        TRY(rd_opt_name(p, &f->name));
        TRY(rd_compact(p, &f->type));
        TRY(rd_opt_name(p, &f->type_name));
        TRY(rd_docs(p, &f->docs));
    }
    return 0;
}

static int rd_type(parser_t *p, gn_type_t *t)
{
    TRY(rd_len(p, 1, &t->n_path));
    ALLOC_N(p, t->path, t->n_path);
    for (uint32_t i = 0; i < t->n_path; i++)
        TRY(rd_name(p, &t->path[i]));
    TRY(rd_len(p, 2, &t->n_params));
    ALLOC_N(p, t->params, t->n_params);
    for (uint32_t i = 0; i < t->n_params; i++) {
        TRY(rd_name(p, &t->params[i].name));
        bool some;
        TRY(gn_scale_read_option(&p->r, &some));
        t->params[i].has_type = some;
        if (some)
            TRY(rd_compact(p, &t->params[i].type));
    }
    uint8_t kind;
    TRY(gn_scale_read_variant(&p->r, 8, &kind));
    t->kind = (gn_type_kind_t)kind;
    switch (t->kind) {
    case GN_TYPE_COMPOSITE: TRY(rd_fields(p, &t->def.composite.fields, &t->def.composite.n)); break;
    case GN_TYPE_VARIANT: {
        uint32_t n;
        TRY(rd_len(p, 4, &n));
        if (n > 256)
            return GN_ERANGE;
        t->def.variant.n = n;
        ALLOC_N(p, t->def.variant.variants, n);
        t->def.variant.by_index = gn_arena_alloc(p->ar, 256 * sizeof(int16_t));
        if (!t->def.variant.by_index)
            return GN_ENOMEM;
        memset(t->def.variant.by_index, 0xff, 256 * sizeof(int16_t));
        for (uint32_t i = 0; i < n; i++) {
            gn_variant_t *v = &t->def.variant.variants[i];
            TRY(rd_name(p, &v->name));
            TRY(rd_fields(p, &v->fields, &v->n_fields));
            TRY(rd_u8(p, &v->index));
            TRY(rd_docs(p, &v->docs));
            if (t->def.variant.by_index[v->index] < 0)
                t->def.variant.by_index[v->index] = (int16_t)i;
        }
        break;
    }
    case GN_TYPE_SEQUENCE: TRY(rd_compact(p, &t->def.sequence.type)); break;
    case GN_TYPE_ARRAY:
        TRY(rd_u32(p, &t->def.array.len));
        TRY(rd_compact(p, &t->def.array.type));
        break;
    case GN_TYPE_TUPLE:
        TRY(rd_len(p, 1, &t->def.tuple.n));
        ALLOC_N(p, t->def.tuple.types, t->def.tuple.n);
        for (uint32_t i = 0; i < t->def.tuple.n; i++)
            TRY(rd_compact(p, &t->def.tuple.types[i]));
        break;
    case GN_TYPE_PRIMITIVE: {
        uint8_t prim;
        TRY(gn_scale_read_variant(&p->r, 15, &prim));
        t->def.primitive = (gn_prim_t)prim;
        break;
    }
    case GN_TYPE_COMPACT: TRY(rd_compact(p, &t->def.compact.type)); break;
    case GN_TYPE_BITSEQ:
        TRY(rd_compact(p, &t->def.bitseq.store));
        TRY(rd_compact(p, &t->def.bitseq.order));
        break;
    }
    return rd_docs(p, &t->docs);
}

static int rd_storage(parser_t *p, gn_pallet_t *pl)
{
    TRY(rd_name(p, &pl->storage_prefix));
    TRY(rd_len(p, 5, &pl->n_storage));
    ALLOC_N(p, pl->storage, pl->n_storage);
    for (uint32_t i = 0; i < pl->n_storage; i++) {
        gn_storage_entry_t *e = &pl->storage[i];
        uint8_t v;
        e->pallet = pl;
        TRY(rd_name(p, &e->name));
        TRY(gn_scale_read_variant(&p->r, 2, &v));
        e->modifier = (gn_storage_modifier_t)v;
        TRY(gn_scale_read_variant(&p->r, 2, &v));
        e->is_map = v == 1;
        if (e->is_map) {
            TRY(rd_len(p, 1, &e->n_hashers));
            ALLOC_N(p, e->hashers, e->n_hashers);
            for (uint32_t k = 0; k < e->n_hashers; k++) {
                uint8_t h;
                TRY(gn_scale_read_variant(&p->r, GN_HASHER_COUNT, &h));
                e->hashers[k] = (gn_hasher_t)h;
            }
            TRY(rd_compact(p, &e->key_type));
        }
        TRY(rd_compact(p, &e->value_type));
        TRY(rd_bytes(p, &e->default_value, &e->default_len));
        TRY(rd_docs(p, &e->docs));
    }
    return 0;
}

static int rd_opt_type(parser_t *p, bool *has, uint32_t *type)
{
    TRY(gn_scale_read_option(&p->r, has));
    return *has ? rd_compact(p, type) : 0;
}

static int rd_pallet(parser_t *p, gn_pallet_t *pl, uint8_t version)
{
    TRY(rd_name(p, &pl->name));
    TRY(gn_scale_read_option(&p->r, &pl->has_storage));
    if (pl->has_storage)
        TRY(rd_storage(p, pl));
    TRY(rd_opt_type(p, &pl->has_calls, &pl->calls_type));
    TRY(rd_opt_type(p, &pl->has_events, &pl->event_type));
    TRY(rd_len(p, 4, &pl->n_constants));
    ALLOC_N(p, pl->constants, pl->n_constants);
    for (uint32_t i = 0; i < pl->n_constants; i++) {
        gn_constant_t *c = &pl->constants[i];
        TRY(rd_name(p, &c->name));
        TRY(rd_compact(p, &c->type));
        TRY(rd_bytes(p, &c->value, &c->value_len));
        TRY(rd_docs(p, &c->docs));
    }
    TRY(rd_opt_type(p, &pl->has_errors, &pl->error_type));
    TRY(rd_u8(p, &pl->index));
    if (version >= 15)
        TRY(rd_docs(p, &pl->docs));
    return 0;
}

static int rd_signed_exts(parser_t *p, gn_metadata_t *md)
{
    TRY(rd_len(p, 3, &md->n_signed_exts));
    ALLOC_N(p, md->signed_exts, md->n_signed_exts);
    for (uint32_t i = 0; i < md->n_signed_exts; i++) {
        gn_signed_ext_t *s = &md->signed_exts[i];
        TRY(rd_name(p, &s->identifier));
        TRY(rd_compact(p, &s->type));
        TRY(rd_compact(p, &s->additional_type));
    }
    return 0;
}

static int rd_apis(parser_t *p, gn_metadata_t *md)
{
    TRY(rd_len(p, 3, &md->n_apis));
    ALLOC_N(p, md->apis, md->n_apis);
    for (uint32_t i = 0; i < md->n_apis; i++) {
        gn_runtime_api_t *a = &md->apis[i];
        TRY(rd_name(p, &a->name));
        TRY(rd_len(p, 4, &a->n_methods));
        ALLOC_N(p, a->methods, a->n_methods);
        for (uint32_t k = 0; k < a->n_methods; k++) {
            gn_api_method_t *m = &a->methods[k];
            TRY(rd_name(p, &m->name));
            TRY(rd_len(p, 2, &m->n_inputs));
            ALLOC_N(p, m->inputs, m->n_inputs);
            for (uint32_t j = 0; j < m->n_inputs; j++) {
                TRY(rd_name(p, &m->inputs[j].name));
                TRY(rd_compact(p, &m->inputs[j].type));
            }
            TRY(rd_compact(p, &m->output));
            TRY(rd_docs(p, &m->docs));
        }
        TRY(rd_docs(p, &a->docs));
    }
    return 0;
}

static int rd_custom(parser_t *p, gn_metadata_t *md)
{
    TRY(rd_len(p, 3, &md->n_custom));
    ALLOC_N(p, md->custom, md->n_custom);
    for (uint32_t i = 0; i < md->n_custom; i++) {
        TRY(rd_name(p, &md->custom[i].name));
        TRY(rd_compact(p, &md->custom[i].type));
        TRY(rd_bytes(p, &md->custom[i].value, &md->custom[i].value_len));
    }
    return 0;
}

/* Every type id the metadata mentions must be inside the registry. */
static int check_ids(const gn_metadata_t *md)
{
#define ID_OK(x)                \
    do {                        \
        if ((x) >= md->n_types) \
            return GN_ERANGE;   \
    } while (0)
    for (uint32_t i = 0; i < md->n_types; i++) {
        const gn_type_t *t = &md->types[i];
        for (uint32_t k = 0; k < t->n_params; k++)
            if (t->params[k].has_type)
                ID_OK(t->params[k].type);
        switch (t->kind) {
        case GN_TYPE_COMPOSITE:
            for (uint32_t k = 0; k < t->def.composite.n; k++)
                ID_OK(t->def.composite.fields[k].type);
            break;
        case GN_TYPE_VARIANT:
            for (uint32_t k = 0; k < t->def.variant.n; k++)
                for (uint32_t j = 0; j < t->def.variant.variants[k].n_fields; j++)
                    ID_OK(t->def.variant.variants[k].fields[j].type);
            break;
        case GN_TYPE_SEQUENCE: ID_OK(t->def.sequence.type); break;
        case GN_TYPE_ARRAY: ID_OK(t->def.array.type); break;
        case GN_TYPE_TUPLE:
            for (uint32_t k = 0; k < t->def.tuple.n; k++)
                ID_OK(t->def.tuple.types[k]);
            break;
        case GN_TYPE_PRIMITIVE: break;
        case GN_TYPE_COMPACT: ID_OK(t->def.compact.type); break;
        case GN_TYPE_BITSEQ:
            ID_OK(t->def.bitseq.store);
            ID_OK(t->def.bitseq.order);
            break;
        }
    }
    for (uint32_t i = 0; i < md->n_pallets; i++) {
        const gn_pallet_t *pl = &md->pallets[i];
        for (uint32_t k = 0; k < pl->n_storage; k++) {
            if (pl->storage[k].is_map)
                ID_OK(pl->storage[k].key_type);
            ID_OK(pl->storage[k].value_type);
        }
        for (uint32_t k = 0; k < pl->n_constants; k++)
            ID_OK(pl->constants[k].type);
        if (pl->has_calls) {
            ID_OK(pl->calls_type);
            if (md->types[pl->calls_type].kind != GN_TYPE_VARIANT)
                return GN_EINVAL;
        }
        if (pl->has_events)
            ID_OK(pl->event_type);
        if (pl->has_errors)
            ID_OK(pl->error_type);
    }
    for (uint32_t i = 0; i < md->n_signed_exts; i++) {
        ID_OK(md->signed_exts[i].type);
        ID_OK(md->signed_exts[i].additional_type);
    }
    for (uint32_t i = 0; i < md->n_apis; i++)
        for (uint32_t k = 0; k < md->apis[i].n_methods; k++) {
            const gn_api_method_t *m = &md->apis[i].methods[k];
            for (uint32_t j = 0; j < m->n_inputs; j++)
                ID_OK(m->inputs[j].type);
            ID_OK(m->output);
        }
    for (uint32_t i = 0; i < md->n_custom; i++)
        ID_OK(md->custom[i].type);
    if (md->has_extrinsic_parts) {
        ID_OK(md->address_type);
        ID_OK(md->call_type);
        ID_OK(md->signature_type);
        ID_OK(md->extra_type);
    }
    if (md->version == 14) /* V15 has no UncheckedExtrinsic type id */
        ID_OK(md->extrinsic_type);
    if (md->has_outer_enums) {
        ID_OK(md->call_enum_type);
        ID_OK(md->event_enum_type);
        ID_OK(md->error_enum_type);
    }
    ID_OK(md->runtime_type);
#undef ID_OK
    return 0;
}

static int build_map(gn_metadata_t *md)
{
    size_t entries = md->n_pallets + md->n_apis;
    for (uint32_t i = 0; i < md->n_pallets; i++) {
        const gn_pallet_t *pl = &md->pallets[i];
        entries += pl->n_storage + pl->n_constants;
        if (pl->has_calls)
            entries += md->types[pl->calls_type].def.variant.n;
        if (pl->has_events && md->types[pl->event_type].kind == GN_TYPE_VARIANT)
            entries += md->types[pl->event_type].def.variant.n;
    }
    for (uint32_t i = 0; i < md->n_apis; i++)
        entries += md->apis[i].n_methods;
    gn_meta_map_t *m = gn_arena_calloc(&md->arena, 1, sizeof(*m));
    if (!m)
        return GN_ENOMEM;
    m->cap = 16;
    while (m->cap < entries * 2)
        m->cap *= 2;
    m->slots = gn_arena_calloc(&md->arena, m->cap, sizeof(*m->slots));
    if (!m->slots)
        return GN_ENOMEM;
    for (uint32_t i = 0; i < md->n_pallets; i++) {
        gn_pallet_t *pl = &md->pallets[i];
        map_put(m, K_PALLET, pl->name, NULL, pl);
        if (!md->by_pallet_index[pl->index])
            md->by_pallet_index[pl->index] = pl;
        for (uint32_t k = 0; k < pl->n_storage; k++)
            map_put(m, K_STORAGE, pl->name, pl->storage[k].name, &pl->storage[k]);
        for (uint32_t k = 0; k < pl->n_constants; k++)
            map_put(m, K_CONSTANT, pl->name, pl->constants[k].name, &pl->constants[k]);
        if (pl->has_calls) {
            const gn_type_t *t = &md->types[pl->calls_type];
            for (uint32_t k = 0; k < t->def.variant.n; k++)
                map_put(m, K_CALL, pl->name, t->def.variant.variants[k].name,
                        &t->def.variant.variants[k]);
        }
        if (pl->has_events && md->types[pl->event_type].kind == GN_TYPE_VARIANT) {
            const gn_type_t *t = &md->types[pl->event_type];
            for (uint32_t k = 0; k < t->def.variant.n; k++)
                map_put(m, K_EVENT, pl->name, t->def.variant.variants[k].name,
                        &t->def.variant.variants[k]);
        }
    }
    for (uint32_t i = 0; i < md->n_apis; i++) {
        map_put(m, K_API, md->apis[i].name, NULL, &md->apis[i]);
        for (uint32_t k = 0; k < md->apis[i].n_methods; k++)
            map_put(m, K_API_METHOD, md->apis[i].name, md->apis[i].methods[k].name,
                    &md->apis[i].methods[k]);
    }
    md->map = m;
    return 0;
}

/* V14 names the extrinsic's parts only as type params of UncheckedExtrinsic. */
static void v14_extrinsic_parts(gn_metadata_t *md)
{
    const gn_type_t *t = gn_metadata_type(md, md->extrinsic_type);
    if (!t)
        return;
    int found = 0;
    for (uint32_t i = 0; i < t->n_params; i++) {
        const gn_type_param_t *pp = &t->params[i];
        if (!pp->has_type)
            continue;
        if (strcmp(pp->name, "Address") == 0)
            md->address_type = pp->type, found |= 1;
        else if (strcmp(pp->name, "Call") == 0)
            md->call_type = pp->type, found |= 2;
        else if (strcmp(pp->name, "Signature") == 0)
            md->signature_type = pp->type, found |= 4;
        else if (strcmp(pp->name, "Extra") == 0)
            md->extra_type = pp->type, found |= 8;
    }
    md->has_extrinsic_parts = found == 15;
}

static int parse_body(gn_metadata_t *md, parser_t *p)
{
    TRY(rd_len(p, 2, &md->n_types));
    ALLOC_N(p, md->types, md->n_types);
    for (uint32_t i = 0; i < md->n_types; i++) {
        uint32_t id;
        TRY(rd_compact(p, &id));
        if (id != i)
            return GN_EUNSUPPORTED; /* frame-metadata numbers types 0..n-1 */
        md->types[i].id = id;
        TRY(rd_type(p, &md->types[i]));
    }
    TRY(rd_len(p, 6, &md->n_pallets));
    ALLOC_N(p, md->pallets, md->n_pallets);
    for (uint32_t i = 0; i < md->n_pallets; i++)
        TRY(rd_pallet(p, &md->pallets[i], md->version));
    if (md->version == 14) {
        TRY(rd_compact(p, &md->extrinsic_type));
        TRY(rd_u8(p, &md->extrinsic_version));
        TRY(rd_signed_exts(p, md));
        TRY(rd_compact(p, &md->runtime_type));
    } else {
        TRY(rd_u8(p, &md->extrinsic_version));
        TRY(rd_compact(p, &md->address_type));
        TRY(rd_compact(p, &md->call_type));
        TRY(rd_compact(p, &md->signature_type));
        TRY(rd_compact(p, &md->extra_type));
        md->has_extrinsic_parts = true;
        TRY(rd_signed_exts(p, md));
        TRY(rd_compact(p, &md->runtime_type));
        TRY(rd_apis(p, md));
        TRY(rd_compact(p, &md->call_enum_type));
        TRY(rd_compact(p, &md->event_enum_type));
        TRY(rd_compact(p, &md->error_enum_type));
        md->has_outer_enums = true;
        TRY(rd_custom(p, md));
    }
    TRY(gn_scale_reader_finish(&p->r));
    if (md->version == 14)
        v14_extrinsic_parts(md);
    TRY(check_ids(md));
    return build_map(md);
}

int gn_metadata_parse(gn_metadata_t *md, const uint8_t *bytes, size_t len, const gn_allocator_t *a,
                      uint8_t *version_out)
{
    memset(md, 0, sizeof(*md));
    gn_arena_init(&md->arena, a, 256 * 1024);
    if (len < 5)
        return GN_ETRUNC;
    if (memcmp(bytes, "meta", 4) != 0)
        return GN_EINVAL;
    md->version = bytes[4];
    if (version_out)
        *version_out = bytes[4];
    if (md->version != 14 && md->version != 15)
        return GN_EUNSUPPORTED;
    /* keep our own copy: docs and byte fields are views into it */
    uint8_t *copy = gn_arena_alloc(&md->arena, len);
    if (!copy)
        return GN_ENOMEM;
    memcpy(copy, bytes, len);
    parser_t p = {.ar = &md->arena};
    gn_scale_reader_init(&p.r, copy + 5, len - 5);
    int rc = parse_body(md, &p);
    if (rc < 0) {
        gn_metadata_free(md);
        md->version = bytes[4];
    }
    return rc;
}

void gn_metadata_free(gn_metadata_t *md)
{
    gn_arena_free(&md->arena);
    memset(md, 0, sizeof(*md));
}

const gn_pallet_t *gn_metadata_pallet(const gn_metadata_t *md, const char *pallet)
{
    return map_get(md->map, K_PALLET, pallet, NULL);
}

const gn_storage_entry_t *gn_metadata_storage(const gn_metadata_t *md, const char *pallet,
                                              const char *item)
{
    return map_get(md->map, K_STORAGE, pallet, item);
}

const gn_constant_t *gn_metadata_constant(const gn_metadata_t *md, const char *pallet,
                                          const char *name)
{
    return map_get(md->map, K_CONSTANT, pallet, name);
}

const gn_variant_t *gn_metadata_call(const gn_metadata_t *md, const char *pallet, const char *call,
                                     const gn_pallet_t **p)
{
    if (p)
        *p = gn_metadata_pallet(md, pallet);
    return map_get(md->map, K_CALL, pallet, call);
}

const gn_variant_t *gn_metadata_event(const gn_metadata_t *md, const char *pallet,
                                      const char *event)
{
    return map_get(md->map, K_EVENT, pallet, event);
}

const gn_runtime_api_t *gn_metadata_api(const gn_metadata_t *md, const char *api)
{
    return map_get(md->map, K_API, api, NULL);
}

const gn_api_method_t *gn_metadata_api_method(const gn_metadata_t *md, const char *api,
                                              const char *method)
{
    return map_get(md->map, K_API_METHOD, api, method);
}

uint16_t gn_metadata_ss58_prefix(const gn_metadata_t *md)
{
    const gn_constant_t *c = gn_metadata_constant(md, "System", "SS58Prefix");
    if (c && c->value_len == 2)
        return (uint16_t)(c->value[0] | c->value[1] << 8);
    if (c && c->value_len == 1)
        return c->value[0];
    return 42;
}

const gn_variant_t *gn_type_variant_by_index(const gn_type_t *t, uint8_t index)
{
    if (t->kind != GN_TYPE_VARIANT || t->def.variant.by_index[index] < 0)
        return NULL;
    return &t->def.variant.variants[t->def.variant.by_index[index]];
}

const gn_variant_t *gn_type_variant_by_name(const gn_type_t *t, const char *name)
{
    if (t->kind != GN_TYPE_VARIANT)
        return NULL;
    for (uint32_t i = 0; i < t->def.variant.n; i++)
        if (strcmp(t->def.variant.variants[i].name, name) == 0)
            return &t->def.variant.variants[i];
    return NULL;
}

const char *gn_type_name(const gn_type_t *t)
{
    return t->n_path ? t->path[t->n_path - 1] : "";
}

static const char *prim_names[] = {"bool", "char", "str", "u8",  "u16", "u32",  "u64", "u128",
                                   "u256", "i8",   "i16", "i32", "i64", "i128", "i256"};

/* Appends to out at *o, never past cap - 1; depth-limited for cyclic types. */
static void describe(const gn_metadata_t *md, uint32_t id, char *out, size_t cap, size_t *o,
                     int depth)
{
#define PUT(...)                                                    \
    do {                                                            \
        int n_ = snprintf(out + *o, cap - *o, __VA_ARGS__);         \
        if (n_ > 0)                                                 \
            *o = *o + (size_t)n_ < cap ? *o + (size_t)n_ : cap - 1; \
    } while (0)
    const gn_type_t *t = gn_metadata_type(md, id);
    if (!t) {
        PUT("?");
        return;
    }
    if (depth > 8) {
        PUT("…");
        return;
    }
    switch (t->kind) {
    case GN_TYPE_PRIMITIVE: PUT("%s", prim_names[t->def.primitive]); return;
    case GN_TYPE_SEQUENCE:
        PUT("Vec<");
        describe(md, t->def.sequence.type, out, cap, o, depth + 1);
        PUT(">");
        return;
    case GN_TYPE_ARRAY:
        PUT("[");
        describe(md, t->def.array.type, out, cap, o, depth + 1);
        PUT("; %u]", t->def.array.len);
        return;
    case GN_TYPE_TUPLE:
        PUT("(");
        for (uint32_t i = 0; i < t->def.tuple.n; i++) {
            if (i)
                PUT(", ");
            describe(md, t->def.tuple.types[i], out, cap, o, depth + 1);
        }
        PUT(")");
        return;
    case GN_TYPE_COMPACT:
        PUT("Compact<");
        describe(md, t->def.compact.type, out, cap, o, depth + 1);
        PUT(">");
        return;
    case GN_TYPE_BITSEQ: PUT("BitVec"); return;
    default: break;
    }
    PUT("%s", t->n_path ? gn_type_name(t) : "<anonymous>");
    uint32_t shown = 0;
    for (uint32_t i = 0; i < t->n_params; i++) {
        if (!t->params[i].has_type)
            continue;
        PUT(shown++ ? ", " : "<");
        describe(md, t->params[i].type, out, cap, o, depth + 1);
    }
    if (shown)
        PUT(">");
#undef PUT
}

void gn_type_describe(const gn_metadata_t *md, uint32_t id, char *out, size_t cap)
{
    size_t o = 0;
    if (cap == 0)
        return;
    out[0] = '\0';
    describe(md, id, out, cap, &o, 0);
}
