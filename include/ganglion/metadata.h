/* Runtime metadata V14 and V15 (frame-metadata), parsed once into a type
 * registry and pallet tables with O(1) lookups by name.
 *
 * Everything lives in one arena owned by gn_metadata_t, the input bytes
 * included (copied), so the caller may drop its buffer after parsing.
 * Names are NUL-terminated; docs are length-delimited views. */
#ifndef GANGLION_METADATA_H
#define GANGLION_METADATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/arena.h"
#include "ganglion/hashing.h"

typedef struct gn_str {
    const char *p;
    uint32_t n;
} gn_str_t;

typedef struct gn_docs {
    gn_str_t *lines;
    uint32_t n;
} gn_docs_t;

typedef enum {
    GN_TYPE_COMPOSITE = 0,
    GN_TYPE_VARIANT = 1,
    GN_TYPE_SEQUENCE = 2,
    GN_TYPE_ARRAY = 3,
    GN_TYPE_TUPLE = 4,
    GN_TYPE_PRIMITIVE = 5,
    GN_TYPE_COMPACT = 6,
    GN_TYPE_BITSEQ = 7,
} gn_type_kind_t;

typedef enum {
    GN_PRIM_BOOL = 0,
    GN_PRIM_CHAR,
    GN_PRIM_STR,
    GN_PRIM_U8,
    GN_PRIM_U16,
    GN_PRIM_U32,
    GN_PRIM_U64,
    GN_PRIM_U128,
    GN_PRIM_U256,
    GN_PRIM_I8,
    GN_PRIM_I16,
    GN_PRIM_I32,
    GN_PRIM_I64,
    GN_PRIM_I128,
    GN_PRIM_I256,
} gn_prim_t;

typedef struct gn_field {
    const char *name; /* NULL for unnamed (tuple-like) fields */
    uint32_t type;
    const char *type_name; /* NULL when absent */
    gn_docs_t docs;
} gn_field_t;

typedef struct gn_variant {
    const char *name;
    gn_field_t *fields;
    uint32_t n_fields;
    uint8_t index;
    gn_docs_t docs;
} gn_variant_t;

typedef struct gn_type_param {
    const char *name;
    uint32_t type;
    bool has_type;
} gn_type_param_t;

typedef struct gn_type {
    uint32_t id;
    const char **path;
    uint32_t n_path;
    gn_type_param_t *params;
    uint32_t n_params;
    gn_type_kind_t kind;
    union {
        struct {
            gn_field_t *fields;
            uint32_t n;
        } composite;
        struct {
            gn_variant_t *variants;
            uint32_t n;
            int16_t *by_index; /* 256 entries: variant position or -1 */
        } variant;
        struct {
            uint32_t type;
        } sequence;
        struct {
            uint32_t len;
            uint32_t type;
        } array;
        struct {
            uint32_t *types;
            uint32_t n;
        } tuple;
        gn_prim_t primitive;
        struct {
            uint32_t type;
        } compact;
        struct {
            uint32_t store;
            uint32_t order;
        } bitseq;
    } def;
    gn_docs_t docs;
} gn_type_t;

typedef enum { GN_STORAGE_OPTIONAL = 0, GN_STORAGE_DEFAULT = 1 } gn_storage_modifier_t;

typedef struct gn_storage_entry {
    const char *name;
    gn_storage_modifier_t modifier;
    bool is_map;
    gn_hasher_t *hashers; /* one per key for maps */
    uint32_t n_hashers;
    uint32_t key_type; /* maps: the key (a tuple when n_hashers > 1) */
    uint32_t value_type;
    const uint8_t *default_value;
    uint32_t default_len;
    gn_docs_t docs;
    const struct gn_pallet *pallet;
} gn_storage_entry_t;

typedef struct gn_constant {
    const char *name;
    uint32_t type;
    const uint8_t *value;
    uint32_t value_len;
    gn_docs_t docs;
} gn_constant_t;

typedef struct gn_pallet {
    const char *name;
    uint8_t index;
    bool has_storage;
    const char *storage_prefix;
    gn_storage_entry_t *storage;
    uint32_t n_storage;
    bool has_calls, has_events, has_errors;
    uint32_t calls_type, event_type, error_type;
    gn_constant_t *constants;
    uint32_t n_constants;
    gn_docs_t docs; /* V15 */
} gn_pallet_t;

typedef struct gn_signed_ext {
    const char *identifier;
    uint32_t type;            /* what it adds to the extrinsic ("extra") */
    uint32_t additional_type; /* what it adds to the signed payload */
} gn_signed_ext_t;

typedef struct gn_api_param {
    const char *name;
    uint32_t type;
} gn_api_param_t;

typedef struct gn_api_method {
    const char *name;
    gn_api_param_t *inputs;
    uint32_t n_inputs;
    uint32_t output;
    gn_docs_t docs;
} gn_api_method_t;

typedef struct gn_runtime_api {
    const char *name;
    gn_api_method_t *methods;
    uint32_t n_methods;
    gn_docs_t docs;
} gn_runtime_api_t;

typedef struct gn_custom_value {
    const char *name;
    uint32_t type;
    const uint8_t *value;
    uint32_t value_len;
} gn_custom_value_t;

typedef struct gn_meta_map gn_meta_map_t;

typedef struct gn_metadata {
    gn_arena_t arena;
    uint8_t version; /* 14 or 15 */
    gn_type_t *types;
    uint32_t n_types;
    gn_pallet_t *pallets;
    uint32_t n_pallets;
    gn_pallet_t *by_pallet_index[256];
    /* extrinsic */
    uint8_t extrinsic_version;
    uint32_t extrinsic_type; /* V14: the UncheckedExtrinsic type; V15: 0 */
    uint32_t address_type, call_type, signature_type, extra_type; /* V15; V14 from params */
    bool has_extrinsic_parts;
    gn_signed_ext_t *signed_exts;
    uint32_t n_signed_exts;
    uint32_t runtime_type;
    /* V15 */
    gn_runtime_api_t *apis;
    uint32_t n_apis;
    uint32_t call_enum_type, event_enum_type, error_enum_type;
    bool has_outer_enums;
    gn_custom_value_t *custom;
    uint32_t n_custom;
    gn_meta_map_t *map;
} gn_metadata_t;

/* Parse "meta" ‖ version ‖ RuntimeMetadataV14/V15. GN_EUNSUPPORTED names
 * other versions (the caller can print `*version_out`), GN_EINVAL for a bad
 * magic, GN_ETRUNC/GN_EBADTAG/... for malformed bytes, GN_ERANGE for a type
 * id that points outside the registry. `a` may be NULL (libc). */
int gn_metadata_parse(gn_metadata_t *md, const uint8_t *bytes, size_t len, const gn_allocator_t *a,
                      uint8_t *version_out);
void gn_metadata_free(gn_metadata_t *md);

static inline const gn_type_t *gn_metadata_type(const gn_metadata_t *md, uint32_t id)
{
    return id < md->n_types ? &md->types[id] : NULL;
}

/* Lookups by name (NULL when absent). */
const gn_pallet_t *gn_metadata_pallet(const gn_metadata_t *md, const char *pallet);
const gn_storage_entry_t *gn_metadata_storage(const gn_metadata_t *md, const char *pallet,
                                              const char *item);
const gn_constant_t *gn_metadata_constant(const gn_metadata_t *md, const char *pallet,
                                          const char *name);
/* A call of a pallet's call enum (with its pallet, for the call index). */
const gn_variant_t *gn_metadata_call(const gn_metadata_t *md, const char *pallet, const char *call,
                                     const gn_pallet_t **p);
const gn_variant_t *gn_metadata_event(const gn_metadata_t *md, const char *pallet,
                                      const char *event);
const gn_runtime_api_t *gn_metadata_api(const gn_metadata_t *md, const char *api);
const gn_api_method_t *gn_metadata_api_method(const gn_metadata_t *md, const char *api,
                                              const char *method);

/* The chain's SS58 prefix (the System.SS58Prefix constant), or 42. */
uint16_t gn_metadata_ss58_prefix(const gn_metadata_t *md);

/* The variant of a variant type with the given index, or NULL. */
const gn_variant_t *gn_type_variant_by_index(const gn_type_t *t, uint8_t index);
const gn_variant_t *gn_type_variant_by_name(const gn_type_t *t, const char *name);
/* The last path segment ("AccountId32"), or "" when the type has no path. */
const char *gn_type_name(const gn_type_t *t);
/* Human text for a type ("Vec<u16>", "Option<AccountId32>", "(u16, u64)",
 * "[u8; 32]", a path name with params) into out; truncated to cap. */
void gn_type_describe(const gn_metadata_t *md, uint32_t id, char *out, size_t cap);

#endif
