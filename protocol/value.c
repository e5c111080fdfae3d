#include "ganglion/value.h"
#include "ganglion/decimal.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/ss58.h"
#include "ganglion/utf8.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* ---- type helpers ------------------------------------------------------ */

static int prim_width(gn_prim_t p, bool *is_signed)
{
    static const int widths[] = {
        [GN_PRIM_U8] = 1,    [GN_PRIM_U16] = 2,   [GN_PRIM_U32] = 4,   [GN_PRIM_U64] = 8,
        [GN_PRIM_U128] = 16, [GN_PRIM_U256] = 32, [GN_PRIM_I8] = 1,    [GN_PRIM_I16] = 2,
        [GN_PRIM_I32] = 4,   [GN_PRIM_I64] = 8,   [GN_PRIM_I128] = 16, [GN_PRIM_I256] = 32};
    *is_signed = p >= GN_PRIM_I8;
    if (p < GN_PRIM_U8 || p > GN_PRIM_I256)
        return 0;
    return widths[p];
}

static bool is_u8(const gn_metadata_t *md, uint32_t id)
{
    const gn_type_t *t = gn_metadata_type(md, id);
    return t && t->kind == GN_TYPE_PRIMITIVE && t->def.primitive == GN_PRIM_U8;
}

/* The unsigned width behind a Compact<T>: T itself or a newtype around it. */
static int compact_width(const gn_metadata_t *md, uint32_t id)
{
    for (int depth = 0; depth < 8; depth++) {
        const gn_type_t *t = gn_metadata_type(md, id);
        if (!t)
            return 0;
        if (t->kind == GN_TYPE_PRIMITIVE) {
            bool s;
            int w = prim_width(t->def.primitive, &s);
            return s || w > 16 ? 0 : w;
        }
        if (t->kind == GN_TYPE_COMPOSITE && t->def.composite.n == 1)
            id = t->def.composite.fields[0].type;
        else
            return 0;
    }
    return 0;
}

/* Bit sequence storage: bytes per store word, and Msb0 order. */
static int bitseq_store(const gn_metadata_t *md, const gn_type_t *t, bool *msb0)
{
    const gn_type_t *st = gn_metadata_type(md, t->def.bitseq.store);
    const gn_type_t *ot = gn_metadata_type(md, t->def.bitseq.order);
    bool s;
    if (!st || st->kind != GN_TYPE_PRIMITIVE || !ot)
        return 0;
    int w = prim_width(st->def.primitive, &s);
    *msb0 = strcmp(gn_type_name(ot), "Msb0") == 0;
    return s || w > 8 ? 0 : w;
}

static bool is_option(const gn_type_t *t)
{
    return t->kind == GN_TYPE_VARIANT && t->n_path == 1 && strcmp(t->path[0], "Option") == 0;
}

static bool is_account_id(const gn_type_t *t)
{
    return t->kind == GN_TYPE_COMPOSITE && t->def.composite.n == 1 &&
           strcmp(gn_type_name(t), "AccountId32") == 0;
}

/* primitive_types::U128/U256/U512: [u64; N] in Rust, one integer to
 * people (and to polkadot-js). Returns N, or 0 for any other type. */
static uint32_t uint_words(const gn_metadata_t *md, const gn_type_t *t)
{
    if (t->kind != GN_TYPE_COMPOSITE || t->def.composite.n != 1)
        return 0;
    const char *name = gn_type_name(t);
    if (strcmp(name, "U128") && strcmp(name, "U256") && strcmp(name, "U512"))
        return 0;
    const gn_type_t *a = gn_metadata_type(md, t->def.composite.fields[0].type);
    if (!a || a->kind != GN_TYPE_ARRAY || a->def.array.len > 8)
        return 0;
    const gn_type_t *e = gn_metadata_type(md, a->def.array.type);
    if (!e || e->kind != GN_TYPE_PRIMITIVE || e->def.primitive != GN_PRIM_U64)
        return 0;
    return a->def.array.len;
}

static bool all_unit(const gn_type_t *t)
{
    for (uint32_t i = 0; i < t->def.variant.n; i++)
        if (t->def.variant.variants[i].n_fields)
            return false;
    return true;
}

/* ---- decode ------------------------------------------------------------ */

static int decode(const gn_metadata_t *md, uint32_t type, gn_scale_reader_t *r, gn_arena_t *ar,
                  gn_value_t *out, int depth);

static int decode_items(const gn_metadata_t *md, const uint32_t *types, const gn_field_t *fields,
                        uint32_t n, gn_scale_reader_t *r, gn_arena_t *ar, gn_value_t **items,
                        int depth)
{
    *items = gn_arena_calloc(ar, n ? n : 1, sizeof(gn_value_t));
    if (!*items)
        return GN_ENOMEM;
    for (uint32_t i = 0; i < n; i++) {
        int rc = decode(md, fields ? fields[i].type : types[i], r, ar, &(*items)[i], depth + 1);
        if (rc < 0)
            return rc;
    }
    return 0;
}

static int decode(const gn_metadata_t *md, uint32_t type, gn_scale_reader_t *r, gn_arena_t *ar,
                  gn_value_t *out, int depth)
{
    const gn_type_t *t = gn_metadata_type(md, type);
    int rc;
    if (!t)
        return GN_ERANGE;
    if (depth > GN_VALUE_MAX_DEPTH)
        return GN_ERANGE;
    memset(out, 0, sizeof(*out));
    out->type = type;
    switch (t->kind) {
    case GN_TYPE_PRIMITIVE: {
        bool s;
        int w;
        switch (t->def.primitive) {
        case GN_PRIM_BOOL: out->kind = GN_VALUE_BOOL; return gn_scale_read_bool(r, &out->u.b);
        case GN_PRIM_CHAR:
            out->kind = GN_VALUE_CHAR;
            if ((rc = gn_scale_read_u32(r, &out->u.ch)) < 0)
                return rc;
            if (out->u.ch > 0x10ffff || (out->u.ch >= 0xd800 && out->u.ch < 0xe000))
                return GN_EUTF8;
            return 0;
        case GN_PRIM_STR: {
            const char *p;
            out->kind = GN_VALUE_STR;
            if ((rc = gn_scale_read_str(r, &p, &out->u.bytes.n)) < 0)
                return rc;
            out->u.bytes.p = (const uint8_t *)p;
            return 0;
        }
        default:
            w = prim_width(t->def.primitive, &s);
            if (!w)
                return GN_EUNSUPPORTED;
            const uint8_t *p;
            if ((rc = gn_scale_read_bytes(r, (size_t)w, &p)) < 0)
                return rc;
            out->kind = s ? GN_VALUE_INT : GN_VALUE_UINT;
            out->u.num.width = (uint8_t)w;
            memcpy(out->u.num.le, p, (size_t)w);
            return 0;
        }
    }
    case GN_TYPE_COMPOSITE:
        out->kind = GN_VALUE_COMPOSITE;
        out->u.seq.n = t->def.composite.n;
        return decode_items(md, NULL, t->def.composite.fields, t->def.composite.n, r, ar,
                            &out->u.seq.items, depth);
    case GN_TYPE_VARIANT: {
        uint8_t idx;
        if (gn_scale_remaining(r) < 1)
            return GN_ETRUNC;
        idx = r->p[r->pos];
        const gn_variant_t *v = gn_type_variant_by_index(t, idx);
        if (!v)
            return GN_EBADTAG;
        r->pos++;
        out->kind = GN_VALUE_VARIANT;
        out->u.var.variant = v;
        out->u.var.n = v->n_fields;
        return decode_items(md, NULL, v->fields, v->n_fields, r, ar, &out->u.var.fields, depth);
    }
    case GN_TYPE_SEQUENCE: {
        size_t n;
        if (is_u8(md, t->def.sequence.type)) {
            out->kind = GN_VALUE_BYTES;
            return gn_scale_read_vec_u8(r, &out->u.bytes.p, &out->u.bytes.n);
        }
        if ((rc = gn_scale_read_len(r, 1, &n)) < 0)
            return rc;
        out->kind = GN_VALUE_SEQUENCE;
        out->u.seq.n = (uint32_t)n;
        gn_value_t *items = gn_arena_calloc(ar, n ? n : 1, sizeof(gn_value_t));
        if (!items)
            return GN_ENOMEM;
        out->u.seq.items = items;
        for (size_t i = 0; i < n; i++)
            if ((rc = decode(md, t->def.sequence.type, r, ar, &items[i], depth + 1)) < 0)
                return rc;
        return 0;
    }
    case GN_TYPE_ARRAY: {
        uint32_t n = t->def.array.len;
        if (is_u8(md, t->def.array.type)) {
            out->kind = GN_VALUE_BYTES;
            out->u.bytes.n = n;
            return gn_scale_read_bytes(r, n, &out->u.bytes.p);
        }
        if (n > gn_scale_remaining(r) + 1024) /* items of at least one byte, or empty ones */
            return GN_ETRUNC;
        out->kind = GN_VALUE_SEQUENCE;
        out->u.seq.n = n;
        gn_value_t *items = gn_arena_calloc(ar, n ? n : 1, sizeof(gn_value_t));
        if (!items)
            return GN_ENOMEM;
        out->u.seq.items = items;
        for (uint32_t i = 0; i < n; i++)
            if ((rc = decode(md, t->def.array.type, r, ar, &items[i], depth + 1)) < 0)
                return rc;
        return 0;
    }
    case GN_TYPE_TUPLE:
        out->kind = GN_VALUE_SEQUENCE;
        out->u.seq.n = t->def.tuple.n;
        return decode_items(md, t->def.tuple.types, NULL, t->def.tuple.n, r, ar, &out->u.seq.items,
                            depth);
    case GN_TYPE_COMPACT: {
        int w = compact_width(md, t->def.compact.type);
        gn_u128_t x;
        if (!w)
            return GN_EUNSUPPORTED;
        if ((rc = gn_scale_read_compact(r, (unsigned)w * 8, &x)) < 0)
            return rc;
        out->kind = GN_VALUE_UINT;
        out->u.num.width = (uint8_t)w;
        for (int i = 0; i < w; i++)
            out->u.num.le[i] = (uint8_t)(x >> (8 * i));
        return 0;
    }
    case GN_TYPE_BITSEQ: {
        bool msb0;
        int w = bitseq_store(md, t, &msb0);
        uint64_t bits;
        if (!w)
            return GN_EUNSUPPORTED;
        if ((rc = gn_scale_read_compact_u64(r, &bits)) < 0)
            return rc;
        uint64_t wbits = (uint64_t)w * 8, words = bits / wbits + (bits % wbits != 0);
        if (words > gn_scale_remaining(r) / (size_t)w)
            return GN_ETRUNC;
        out->kind = GN_VALUE_BITS;
        out->u.bits.nbits = (size_t)bits;
        return gn_scale_read_bytes(r, (size_t)(words * (uint64_t)w), &out->u.bits.p);
    }
    }
    return GN_EUNSUPPORTED;
}

int gn_value_decode(const gn_metadata_t *md, uint32_t type, gn_scale_reader_t *r, gn_arena_t *ar,
                    gn_value_t *out)
{
    size_t start = r->pos;
    int rc = decode(md, type, r, ar, out, 0);
    if (rc < 0)
        r->pos = start;
    return rc;
}

int gn_value_decode_all(const gn_metadata_t *md, uint32_t type, const uint8_t *p, size_t n,
                        gn_arena_t *ar, gn_value_t *out)
{
    gn_scale_reader_t r;
    gn_scale_reader_init(&r, p, n);
    int rc = gn_value_decode(md, type, &r, ar, out);
    return rc < 0 ? rc : gn_scale_reader_finish(&r);
}

int gn_value_skip(const gn_metadata_t *md, uint32_t type, gn_scale_reader_t *r)
{
    gn_arena_t ar;
    gn_value_t v;
    gn_arena_init(&ar, NULL, 16 * 1024);
    int rc = gn_value_decode(md, type, r, &ar, &v);
    gn_arena_free(&ar);
    return rc;
}

/* ---- encode ------------------------------------------------------------ */

static int encode(const gn_metadata_t *md, uint32_t type, const gn_value_t *v, gn_scale_writer_t *w,
                  int depth)
{
    const gn_type_t *t = gn_metadata_type(md, type);
    int rc;
    if (!t || depth > GN_VALUE_MAX_DEPTH)
        return GN_ERANGE;
    switch (t->kind) {
    case GN_TYPE_PRIMITIVE: {
        bool s;
        int width;
        switch (t->def.primitive) {
        case GN_PRIM_BOOL:
            return v->kind == GN_VALUE_BOOL ? gn_scale_write_bool(w, v->u.b) : GN_EINVAL;
        case GN_PRIM_CHAR:
            return v->kind == GN_VALUE_CHAR ? gn_scale_write_u32(w, v->u.ch) : GN_EINVAL;
        case GN_PRIM_STR:
            return v->kind == GN_VALUE_STR
                       ? gn_scale_write_str(w, (const char *)v->u.bytes.p, v->u.bytes.n)
                       : GN_EINVAL;
        default:
            width = prim_width(t->def.primitive, &s);
            if (!width || v->kind != (s ? GN_VALUE_INT : GN_VALUE_UINT) || v->u.num.width != width)
                return GN_EINVAL;
            return gn_scale_write_bytes(w, v->u.num.le, (size_t)width);
        }
    }
    case GN_TYPE_COMPOSITE:
        if (v->kind != GN_VALUE_COMPOSITE || v->u.seq.n != t->def.composite.n)
            return GN_EINVAL;
        for (uint32_t i = 0; i < v->u.seq.n; i++)
            if ((rc = encode(md, t->def.composite.fields[i].type, &v->u.seq.items[i], w,
                             depth + 1)) < 0)
                return rc;
        return 0;
    case GN_TYPE_VARIANT: {
        const gn_variant_t *var = v->u.var.variant;
        if (v->kind != GN_VALUE_VARIANT || !var || gn_type_variant_by_index(t, var->index) != var ||
            v->u.var.n != var->n_fields)
            return GN_EINVAL;
        if ((rc = gn_scale_write_variant(w, var->index)) < 0)
            return rc;
        for (uint32_t i = 0; i < v->u.var.n; i++)
            if ((rc = encode(md, var->fields[i].type, &v->u.var.fields[i], w, depth + 1)) < 0)
                return rc;
        return 0;
    }
    case GN_TYPE_SEQUENCE:
        if (v->kind == GN_VALUE_BYTES && is_u8(md, t->def.sequence.type))
            return gn_scale_write_vec_u8(w, v->u.bytes.p, v->u.bytes.n);
        if (v->kind != GN_VALUE_SEQUENCE)
            return GN_EINVAL;
        if ((rc = gn_scale_write_compact(w, v->u.seq.n)) < 0)
            return rc;
        for (uint32_t i = 0; i < v->u.seq.n; i++)
            if ((rc = encode(md, t->def.sequence.type, &v->u.seq.items[i], w, depth + 1)) < 0)
                return rc;
        return 0;
    case GN_TYPE_ARRAY:
        if (v->kind == GN_VALUE_BYTES && is_u8(md, t->def.array.type))
            return v->u.bytes.n == t->def.array.len
                       ? gn_scale_write_bytes(w, v->u.bytes.p, v->u.bytes.n)
                       : GN_EINVAL;
        if (v->kind != GN_VALUE_SEQUENCE || v->u.seq.n != t->def.array.len)
            return GN_EINVAL;
        for (uint32_t i = 0; i < v->u.seq.n; i++)
            if ((rc = encode(md, t->def.array.type, &v->u.seq.items[i], w, depth + 1)) < 0)
                return rc;
        return 0;
    case GN_TYPE_TUPLE:
        if (v->kind != GN_VALUE_SEQUENCE || v->u.seq.n != t->def.tuple.n)
            return GN_EINVAL;
        for (uint32_t i = 0; i < v->u.seq.n; i++)
            if ((rc = encode(md, t->def.tuple.types[i], &v->u.seq.items[i], w, depth + 1)) < 0)
                return rc;
        return 0;
    case GN_TYPE_COMPACT: {
        if (v->kind != GN_VALUE_UINT || v->u.num.width > 16)
            return GN_EINVAL;
        gn_u128_t x = 0;
        for (int i = v->u.num.width - 1; i >= 0; i--)
            x = x << 8 | v->u.num.le[i];
        return gn_scale_write_compact(w, x);
    }
    case GN_TYPE_BITSEQ: {
        bool msb0;
        int sw = bitseq_store(md, t, &msb0);
        if (v->kind != GN_VALUE_BITS || !sw)
            return GN_EINVAL;
        size_t wbits = (size_t)sw * 8,
               words = v->u.bits.nbits / wbits + (v->u.bits.nbits % wbits != 0);
        if ((rc = gn_scale_write_compact(w, v->u.bits.nbits)) < 0)
            return rc;
        return gn_scale_write_bytes(w, v->u.bits.p, words * (size_t)sw);
    }
    }
    return GN_EUNSUPPORTED;
}

int gn_value_encode(const gn_metadata_t *md, const gn_value_t *v, gn_scale_writer_t *w)
{
    return encode(md, v->type, v, w, 0);
}

/* ---- to JSON ------------------------------------------------------------ */

#define MAX_SAFE 9007199254740991LL

static json_t *int_json(const uint8_t *le, unsigned width, bool is_signed)
{
    if (width <= 8) { /* the common case, without decimal arithmetic */
        uint64_t u = 0;
        for (unsigned i = width; i > 0; i--)
            u = u << 8 | le[i - 1];
        if (is_signed && width < 8 && (u >> (8 * width - 1)) & 1)
            u |= ~(uint64_t)0 << (8 * width); /* sign-extend */
        int64_t sv = (int64_t)u;
        if (!is_signed && u <= (uint64_t)MAX_SAFE)
            return json_integer((json_int_t)u);
        if (is_signed && sv <= MAX_SAFE && sv >= -MAX_SAFE)
            return json_integer((json_int_t)sv);
    }
    char dec[GN_DEC_MAX(64)];
    if (gn_dec_from_le(le, width, is_signed, dec, sizeof(dec)) < 0)
        return NULL;
    size_t n = strlen(dec);
    if (n <= 16 + (dec[0] == '-')) /* |v| < 10^16: may be safe */ {
        long long x = 0;
        for (size_t i = dec[0] == '-'; i < n; i++)
            x = x * 10 + (dec[i] - '0');
        if (x <= MAX_SAFE)
            return json_integer(dec[0] == '-' ? -x : x);
    }
    return json_string(dec);
}

static json_t *hex_json(const uint8_t *p, size_t n)
{
    size_t cap = gn_hex_encoded_len(n, 1) + 1;
    char stack[256], *s = cap <= sizeof(stack) ? stack : malloc(cap);
    if (!s)
        return NULL;
    gn_hex_encode(p, n, 1, s, cap);
    json_t *j = json_stringn(s, cap - 1);
    if (s != stack)
        free(s);
    return j;
}

static json_t *to_json(const gn_metadata_t *md, const gn_value_t *v, const gn_json_opts_t *o,
                       int depth);

/* Fields of a struct or variant: null, the single unnamed field, an object
 * of named fields, or an array. */
static json_t *fields_json(const gn_metadata_t *md, const gn_field_t *fields,
                           const gn_value_t *items, uint32_t n, const gn_json_opts_t *o, int depth)
{
    if (n == 0)
        return json_null();
    if (n == 1 && !fields[0].name)
        return to_json(md, &items[0], o, depth + 1);
    bool named = true;
    for (uint32_t i = 0; i < n; i++)
        named &= fields[i].name != NULL;
    json_t *j = named ? json_object() : json_array();
    if (!j)
        return NULL;
    for (uint32_t i = 0; i < n; i++) {
        json_t *x = to_json(md, &items[i], o, depth + 1);
        if (!x ||
            (named ? json_object_set_new(j, fields[i].name, x) : json_array_append_new(j, x))) {
            json_decref(j);
            return NULL;
        }
    }
    return j;
}

static json_t *to_json(const gn_metadata_t *md, const gn_value_t *v, const gn_json_opts_t *o,
                       int depth)
{
    const gn_type_t *t = gn_metadata_type(md, v->type);
    if (!t || depth > GN_VALUE_MAX_DEPTH)
        return NULL;
    switch (v->kind) {
    case GN_VALUE_BOOL: return json_boolean(v->u.b);
    case GN_VALUE_CHAR: {
        char buf[4];
        uint32_t c = v->u.ch;
        size_t n;
        if (c < 0x80)
            buf[0] = (char)c, n = 1;
        else if (c < 0x800)
            buf[0] = (char)(0xc0 | c >> 6), buf[1] = (char)(0x80 | (c & 0x3f)), n = 2;
        else if (c < 0x10000)
            buf[0] = (char)(0xe0 | c >> 12), buf[1] = (char)(0x80 | (c >> 6 & 0x3f)),
            buf[2] = (char)(0x80 | (c & 0x3f)), n = 3;
        else
            buf[0] = (char)(0xf0 | c >> 18), buf[1] = (char)(0x80 | (c >> 12 & 0x3f)),
            buf[2] = (char)(0x80 | (c >> 6 & 0x3f)), buf[3] = (char)(0x80 | (c & 0x3f)), n = 4;
        return json_stringn(buf, n);
    }
    case GN_VALUE_STR: return json_stringn((const char *)v->u.bytes.p, v->u.bytes.n);
    case GN_VALUE_UINT:
    case GN_VALUE_INT: return int_json(v->u.num.le, v->u.num.width, v->kind == GN_VALUE_INT);
    case GN_VALUE_BYTES:
        if ((o->flags & GN_JSON_BYTES_TEXT) && gn_utf8_valid(v->u.bytes.p, v->u.bytes.n))
            return json_stringn((const char *)v->u.bytes.p, v->u.bytes.n);
        return hex_json(v->u.bytes.p, v->u.bytes.n);
    case GN_VALUE_BITS: {
        size_t nbytes = 0;
        bool msb0;
        int sw = t->kind == GN_TYPE_BITSEQ ? bitseq_store(md, t, &msb0) : 1;
        if (sw) {
            size_t wbits = (size_t)sw * 8;
            nbytes = (v->u.bits.nbits / wbits + (v->u.bits.nbits % wbits != 0)) * (size_t)sw;
        }
        return hex_json(v->u.bits.p, nbytes);
    }
    case GN_VALUE_SEQUENCE: {
        if (v->u.seq.n == 0 && t->kind == GN_TYPE_TUPLE)
            return json_null();
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < v->u.seq.n; i++) {
            json_t *x = to_json(md, &v->u.seq.items[i], o, depth + 1);
            if (!x || json_array_append_new(a, x)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case GN_VALUE_COMPOSITE:
        if (is_account_id(t) && v->u.seq.n == 1 && v->u.seq.items[0].kind == GN_VALUE_BYTES &&
            v->u.seq.items[0].u.bytes.n == 32) {
            char addr[GN_SS58_ADDR_MAX];
            uint16_t prefix = (o->flags & GN_JSON_SS58_PREFIX) ? o->ss58_prefix : GN_SS58_BITTENSOR;
            if (gn_ss58_encode(v->u.seq.items[0].u.bytes.p, 32, prefix, addr, sizeof(addr)) == 0)
                return json_string(addr);
        }
        if (uint_words(md, t) && v->u.seq.n == 1 && v->u.seq.items[0].kind == GN_VALUE_SEQUENCE) {
            const gn_value_t *words = &v->u.seq.items[0];
            uint8_t le[64];
            for (uint32_t i = 0; i < words->u.seq.n && i < 8; i++)
                memcpy(le + 8 * i, words->u.seq.items[i].u.num.le, 8);
            return int_json(le, 8 * words->u.seq.n, false);
        }
        return fields_json(md, t->def.composite.fields, v->u.seq.items, v->u.seq.n, o, depth);
    case GN_VALUE_VARIANT: {
        const gn_variant_t *var = v->u.var.variant;
        if (is_option(t))
            return var->n_fields == 0 ? json_null()
                                      : to_json(md, &v->u.var.fields[0], o, depth + 1);
        if (all_unit(t))
            return json_string(var->name);
        json_t *payload = fields_json(md, var->fields, v->u.var.fields, v->u.var.n, o, depth);
        if (!payload)
            return NULL;
        json_t *obj = json_object();
        if (!obj || json_object_set_new(obj, var->name, payload)) {
            json_decref(obj);
            return NULL;
        }
        return obj;
    }
    }
    return NULL;
}

json_t *gn_value_to_json(const gn_metadata_t *md, const gn_value_t *v, const gn_json_opts_t *opts)
{
    gn_json_opts_t none = {0, 0};
    return to_json(md, v, opts ? opts : &none, 0);
}

/* ---- from JSON ------------------------------------------------------------ */

typedef struct {
    const gn_metadata_t *md;
    gn_arena_t *ar;
    char path[256];
    size_t plen;
    char *err;
    size_t cap;
} jctx_t;

static int jfail(jctx_t *c, int rc, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Record "<path>: <message>" and return rc. */
static int jfail(jctx_t *c, int rc, const char *fmt, ...)
{
    if (c->err && c->cap) {
        int n = snprintf(c->err, c->cap, "%s: ", c->plen ? c->path : "value");
        if (n > 0 && (size_t)n < c->cap) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(c->err + n, c->cap - (size_t)n, fmt, ap);
            va_end(ap);
        }
    }
    return rc;
}

/* Push ".name" or "[i]" on the path; returns the old length to pop to. */
static size_t push_name(jctx_t *c, const char *name)
{
    size_t old = c->plen;
    int n =
        snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "%s%s", c->plen ? "." : "", name);
    if (n > 0)
        c->plen = c->plen + (size_t)n < sizeof(c->path) ? c->plen + (size_t)n : sizeof(c->path) - 1;
    return old;
}

static size_t push_index(jctx_t *c, size_t i)
{
    size_t old = c->plen;
    int n = snprintf(c->path + c->plen, sizeof(c->path) - c->plen, "[%zu]", i);
    if (n > 0)
        c->plen = c->plen + (size_t)n < sizeof(c->path) ? c->plen + (size_t)n : sizeof(c->path) - 1;
    return old;
}

static void pop(jctx_t *c, size_t old)
{
    c->plen = old;
    c->path[old] = '\0';
}

/* Names equal, or equal ignoring case and '_' ("refTime" ~ "ref_time"). */
bool gn_value_name_matches(const char *a, const char *b)
{
    if (strcmp(a, b) == 0)
        return true;
    while (*a || *b) {
        if (*a == '_') {
            a++;
            continue;
        }
        if (*b == '_') {
            b++;
            continue;
        }
        if (tolower((unsigned char)*a) != tolower((unsigned char)*b))
            return false;
        a++, b++;
    }
    return true;
}

static const json_t *object_field(const json_t *obj, const char *name)
{
    const json_t *x = json_object_get(obj, name);
    if (x)
        return x;
    const char *k;
    json_t *val;
    json_object_foreach ((json_t *)obj, k, val) {
        if (gn_value_name_matches(k, name))
            return val;
    }
    return NULL;
}

static int from_json(jctx_t *c, uint32_t type, const json_t *j, gn_value_t *out, int depth);

static int json_bytes(jctx_t *c, const json_t *j, const uint8_t **p, size_t *n)
{
    if (json_is_array(j)) { /* [1, 2, 3] */
        size_t len = json_array_size(j);
        uint8_t *b = gn_arena_alloc(c->ar, len ? len : 1);
        if (!b)
            return GN_ENOMEM;
        for (size_t i = 0; i < len; i++) {
            json_t *x = json_array_get(j, i);
            if (!json_is_integer(x) || json_integer_value(x) < 0 || json_integer_value(x) > 255)
                return jfail(c, GN_EINVAL, "expected bytes (0x-hex, text or an array of 0..255)");
            b[i] = (uint8_t)json_integer_value(x);
        }
        *p = b;
        *n = len;
        return 0;
    }
    if (!json_is_string(j))
        return jfail(c, GN_EINVAL, "expected bytes (0x-hex, text or an array of 0..255)");
    const char *s = json_string_value(j);
    size_t len = json_string_length(j);
    uint8_t *b = gn_arena_alloc(c->ar, len ? len : 1);
    if (!b)
        return GN_ENOMEM;
    if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
        int rc = gn_hex_decode(s, len, b, len, n);
        if (rc < 0)
            return jfail(c, rc, "bad hex: %s", gn_strerror(rc));
    } else { /* text is its UTF-8 bytes */
        memcpy(b, s, len);
        *n = len;
    }
    *p = b;
    return 0;
}

static int json_int(jctx_t *c, const json_t *j, int width, bool is_signed, gn_value_t *out)
{
    char buf[32];
    const char *s;
    size_t len;
    if (json_is_integer(j)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(j));
        s = buf;
        len = strlen(buf);
    } else if (json_is_string(j)) {
        s = json_string_value(j);
        len = json_string_length(j);
    } else {
        return jfail(c, GN_EINVAL, "expected an integer (a number or a decimal string)");
    }
    int rc = gn_dec_to_le(s, len, is_signed, out->u.num.le, (size_t)width);
    if (rc == GN_ERANGE)
        return jfail(c, rc, "integer out of range for %c%d", is_signed ? 'i' : 'u', width * 8);
    if (rc < 0)
        return jfail(c, rc, "not an integer: %s", gn_strerror(rc));
    out->kind = is_signed ? GN_VALUE_INT : GN_VALUE_UINT;
    out->u.num.width = (uint8_t)width;
    return 0;
}

/* Fields from null/[...]/{...}; `fields` NULL means positional types. */
static int json_fields(jctx_t *c, const gn_field_t *fields, const uint32_t *types, uint32_t n,
                       const json_t *j, gn_value_t **items, int depth)
{
    *items = gn_arena_calloc(c->ar, n ? n : 1, sizeof(gn_value_t));
    if (!*items)
        return GN_ENOMEM;
    if (n == 0) {
        if (json_is_null(j) || (json_is_array(j) && !json_array_size(j)) ||
            (json_is_object(j) && !json_object_size(j)))
            return 0;
        return jfail(c, GN_EINVAL, "expected null (no fields)");
    }
    bool named = fields != NULL;
    for (uint32_t i = 0; named && i < n; i++)
        named = fields[i].name != NULL;
    if (named) {
        if (!json_is_object(j))
            return jfail(c, GN_EINVAL, "expected an object");
        size_t found = 0;
        for (uint32_t i = 0; i < n; i++) {
            const json_t *x = object_field(j, fields[i].name);
            if (!x)
                return jfail(c, GN_EINVAL, "missing field '%s'", fields[i].name);
            found++;
            size_t old = push_name(c, fields[i].name);
            int rc = from_json(c, fields[i].type, x, &(*items)[i], depth + 1);
            if (rc < 0)
                return rc;
            pop(c, old);
        }
        if (found != json_object_size(j)) {
            const char *k;
            json_t *val;
            json_object_foreach ((json_t *)j, k, val) {
                bool known = false;
                for (uint32_t i = 0; i < n && !known; i++)
                    known = gn_value_name_matches(k, fields[i].name);
                if (!known)
                    return jfail(c, GN_EINVAL, "unknown field '%s'", k);
            }
        }
        return 0;
    }
    if (n == 1 && fields) /* a newtype: its field's JSON */
        return from_json(c, fields[0].type, j, &(*items)[0], depth + 1);
    if (!json_is_array(j) || json_array_size(j) != n) {
        char want[32];
        snprintf(want, sizeof(want), "%u", n);
        return jfail(c, GN_EINVAL, "expected an array of %s items", want);
    }
    for (uint32_t i = 0; i < n; i++) {
        size_t old = push_index(c, i);
        int rc = from_json(c, fields ? fields[i].type : types[i], json_array_get(j, i),
                           &(*items)[i], depth + 1);
        if (rc < 0)
            return rc;
        pop(c, old);
    }
    return 0;
}

static const gn_variant_t *variant_named(const gn_type_t *t, const char *name)
{
    const gn_variant_t *v = gn_type_variant_by_name(t, name);
    for (uint32_t i = 0; !v && i < t->def.variant.n; i++)
        if (gn_value_name_matches(t->def.variant.variants[i].name, name))
            v = &t->def.variant.variants[i];
    return v;
}

static int from_json(jctx_t *c, uint32_t type, const json_t *j, gn_value_t *out, int depth)
{
    const gn_metadata_t *md = c->md;
    const gn_type_t *t = gn_metadata_type(md, type);
    int rc;
    if (!t)
        return jfail(c, GN_ERANGE, "unknown type id");
    if (depth > GN_VALUE_MAX_DEPTH)
        return jfail(c, GN_ERANGE, "nested too deeply");
    memset(out, 0, sizeof(*out));
    out->type = type;
    switch (t->kind) {
    case GN_TYPE_PRIMITIVE:
        switch (t->def.primitive) {
        case GN_PRIM_BOOL:
            if (!json_is_boolean(j))
                return jfail(c, GN_EINVAL, "expected true or false");
            out->kind = GN_VALUE_BOOL;
            out->u.b = json_is_true(j);
            return 0;
        case GN_PRIM_CHAR: {
            const uint8_t *s = (const uint8_t *)json_string_value(j);
            size_t n = json_string_length(j);
            uint32_t cp = 0;
            size_t need = !s || !n ? 0 : s[0] < 0x80 ? 1 : s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
            if (!need || n != need)
                return jfail(c, GN_EINVAL, "expected a one-character string");
            cp = need == 1 ? s[0] : (uint32_t)(s[0] & (0x7f >> need));
            for (size_t i = 1; i < need; i++)
                cp = cp << 6 | (s[i] & 0x3f);
            out->kind = GN_VALUE_CHAR;
            out->u.ch = cp;
            return 0;
        }
        case GN_PRIM_STR: {
            if (!json_is_string(j))
                return jfail(c, GN_EINVAL, "expected a string");
            char *s = gn_arena_strndup(c->ar, json_string_value(j), json_string_length(j));
            if (!s)
                return GN_ENOMEM;
            out->kind = GN_VALUE_STR;
            out->u.bytes.p = (const uint8_t *)s;
            out->u.bytes.n = json_string_length(j);
            return 0;
        }
        default: {
            bool s;
            int w = prim_width(t->def.primitive, &s);
            return w ? json_int(c, j, w, s, out) : GN_EUNSUPPORTED;
        }
        }
    case GN_TYPE_COMPOSITE:
        out->kind = GN_VALUE_COMPOSITE;
        out->u.seq.n = t->def.composite.n;
        if (is_account_id(t) && json_is_string(j)) {
            const char *s = json_string_value(j);
            uint8_t *acc = gn_arena_alloc(c->ar, 32);
            out->u.seq.items = gn_arena_calloc(c->ar, 1, sizeof(gn_value_t));
            if (!acc || !out->u.seq.items)
                return GN_ENOMEM;
            rc = strncmp(s, "0x", 2) == 0 ? gn_hex_decode_exact(s, strlen(s), acc, 32)
                                          : gn_ss58_decode_account(s, strlen(s), acc, NULL);
            if (rc < 0)
                return jfail(c, rc, "expected an SS58 address or 0x + 32 bytes (%s)",
                             gn_strerror(rc));
            gn_value_t *inner = &out->u.seq.items[0];
            inner->kind = GN_VALUE_BYTES;
            inner->type = t->def.composite.fields[0].type;
            inner->u.bytes.p = acc;
            inner->u.bytes.n = 32;
            return 0;
        }
        uint32_t nw = uint_words(md, t);
        if (nw && (json_is_integer(j) || json_is_string(j))) {
            gn_value_t one; /* the whole number, then split into u64 words */
            if ((rc = json_int(c, j, (int)(8 * nw), false, &one)) < 0)
                return rc;
            gn_value_t *arr = gn_arena_calloc(c->ar, 1, sizeof(gn_value_t));
            gn_value_t *words = gn_arena_calloc(c->ar, nw, sizeof(gn_value_t));
            if (!arr || !words)
                return GN_ENOMEM;
            arr->kind = GN_VALUE_SEQUENCE;
            arr->type = t->def.composite.fields[0].type;
            arr->u.seq.items = words;
            arr->u.seq.n = nw;
            uint32_t word_type = gn_metadata_type(md, arr->type)->def.array.type;
            for (uint32_t i = 0; i < nw; i++) {
                words[i].kind = GN_VALUE_UINT;
                words[i].type = word_type;
                words[i].u.num.width = 8;
                memcpy(words[i].u.num.le, one.u.num.le + 8 * i, 8);
            }
            out->u.seq.items = arr;
            return 0;
        }
        return json_fields(c, t->def.composite.fields, NULL, t->def.composite.n, j,
                           &out->u.seq.items, depth);
    case GN_TYPE_VARIANT: {
        const gn_variant_t *v = NULL;
        const json_t *payload = json_null();
        out->kind = GN_VALUE_VARIANT;
        if (is_option(t)) {
            v = gn_type_variant_by_name(t, json_is_null(j) ? "None" : "Some");
            payload = j;
        } else if (json_is_string(j)) {
            v = variant_named(t, json_string_value(j));
            /* MultiAddress takes a bare address as its Id, as polkadot-js
             * and the Python SDK do */
            const gn_variant_t *id = v ? NULL : gn_type_variant_by_name(t, "Id");
            if (id && id->n_fields == 1 && !strcmp(gn_type_name(t), "MultiAddress")) {
                v = id;
                payload = j;
            }
            if (!v)
                return jfail(c, GN_EINVAL, "unknown variant '%s'", json_string_value(j));
        } else if (json_is_object(j) && json_object_size(j) == 1) {
            const char *k = json_object_iter_key(json_object_iter((json_t *)j));
            v = variant_named(t, k);
            if (!v)
                return jfail(c, GN_EINVAL, "unknown variant '%s'", k);
            payload = json_object_iter_value(json_object_iter((json_t *)j));
        } else {
            return jfail(c, GN_EINVAL, "expected \"Variant\" or {\"Variant\": value}");
        }
        if (!v)
            return jfail(c, GN_EINVAL, "no such variant");
        out->u.var.variant = v;
        out->u.var.n = v->n_fields;
        size_t old = is_option(t) ? c->plen : push_name(c, v->name);
        rc = json_fields(c, v->fields, NULL, v->n_fields, payload, &out->u.var.fields, depth);
        if (rc == 0)
            pop(c, old);
        return rc;
    }
    case GN_TYPE_SEQUENCE:
    case GN_TYPE_ARRAY: {
        bool seq = t->kind == GN_TYPE_SEQUENCE;
        uint32_t elem = seq ? t->def.sequence.type : t->def.array.type;
        if (is_u8(md, elem)) {
            out->kind = GN_VALUE_BYTES;
            if ((rc = json_bytes(c, j, &out->u.bytes.p, &out->u.bytes.n)) < 0)
                return rc;
            if (!seq && out->u.bytes.n != t->def.array.len) {
                char want[32];
                snprintf(want, sizeof(want), "%u", t->def.array.len);
                return jfail(c, GN_EINVAL, "expected exactly %s bytes", want);
            }
            return 0;
        }
        if (!json_is_array(j))
            return jfail(c, GN_EINVAL, "expected an array");
        size_t n = json_array_size(j);
        if (!seq && n != t->def.array.len) {
            char want[32];
            snprintf(want, sizeof(want), "%u", t->def.array.len);
            return jfail(c, GN_EINVAL, "expected an array of %s items", want);
        }
        out->kind = GN_VALUE_SEQUENCE;
        out->u.seq.n = (uint32_t)n;
        out->u.seq.items = gn_arena_calloc(c->ar, n ? n : 1, sizeof(gn_value_t));
        if (!out->u.seq.items)
            return GN_ENOMEM;
        for (size_t i = 0; i < n; i++) {
            size_t old = push_index(c, i);
            if ((rc = from_json(c, elem, json_array_get(j, i), &out->u.seq.items[i], depth + 1)) <
                0)
                return rc;
            pop(c, old);
        }
        return 0;
    }
    case GN_TYPE_TUPLE:
        out->kind = GN_VALUE_SEQUENCE;
        out->u.seq.n = t->def.tuple.n;
        return json_fields(c, NULL, t->def.tuple.types, t->def.tuple.n, j, &out->u.seq.items,
                           depth);
    case GN_TYPE_COMPACT: {
        int w = compact_width(md, t->def.compact.type);
        if (!w)
            return GN_EUNSUPPORTED;
        return json_int(c, j, w, false, out);
    }
    case GN_TYPE_BITSEQ: {
        out->kind = GN_VALUE_BITS;
        if ((rc = json_bytes(c, j, &out->u.bits.p, &out->u.bits.nbits)) < 0)
            return rc;
        out->u.bits.nbits *= 8;
        return 0;
    }
    }
    return GN_EUNSUPPORTED;
}

int gn_value_from_json(const gn_metadata_t *md, uint32_t type, const json_t *j, gn_arena_t *ar,
                       gn_value_t *out, char *err, size_t cap)
{
    jctx_t c = {.md = md, .ar = ar, .err = err, .cap = cap};
    if (err && cap)
        err[0] = '\0';
    if (!j)
        return jfail(&c, GN_EINVAL, "missing value");
    return from_json(&c, type, j, out, 0);
}

int gn_value_encode_json(const gn_metadata_t *md, uint32_t type, const json_t *j,
                         gn_scale_writer_t *w, char *err, size_t cap)
{
    gn_arena_t ar;
    gn_value_t v;
    gn_arena_init(&ar, NULL, 8 * 1024);
    int rc = gn_value_from_json(md, type, j, &ar, &v, err, cap);
    if (rc == 0) {
        rc = gn_value_encode(md, &v, w);
        if (rc < 0 && err && cap)
            snprintf(err, cap, "value: %s", gn_strerror(rc));
    }
    gn_arena_free(&ar);
    return rc;
}
