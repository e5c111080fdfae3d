#include "support/typed_scale.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "ganglion/decimal.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/ss58.h"

typedef enum {
    K_UINT,
    K_INT,
    K_BOOL,
    K_COMPACT,
    K_OPTION,
    K_OPTION_BOOL,
    K_RESULT,
    K_VEC,
    K_TEXT,
    K_BITVEC,
    K_TUPLE,
    K_ARRAY,
    K_MAP,
    K_ACCOUNT,
    K_NULL,
    K_ENUM,
    K_STRUCT,
} kind_t;

struct ts_type {
    kind_t k;
    unsigned bytes;  /* integer width; compact: bits/8 */
    size_t n;        /* number of sub types / names; array length */
    ts_type_t **sub; /* NULL entries for unit enum variants */
    char **names;    /* struct fields, enum variants */
};

static ts_type_t *mk(kind_t k)
{
    ts_type_t *t = calloc(1, sizeof(*t));
    t->k = k;
    return t;
}

static void add_sub(ts_type_t *t, ts_type_t *s, const char *name)
{
    t->sub = realloc(t->sub, (t->n + 1) * sizeof(*t->sub));
    t->names = realloc(t->names, (t->n + 1) * sizeof(*t->names));
    t->sub[t->n] = s;
    t->names[t->n] = name ? strdup(name) : NULL;
    t->n++;
}

void ts_free(ts_type_t *t)
{
    if (!t)
        return;
    size_t subs = t->k == K_ARRAY ? 1 : t->n;
    for (size_t i = 0; i < subs; i++) {
        ts_free(t->sub[i]);
        if (t->names)
            free(t->names[i]);
    }
    free(t->sub);
    free(t->names);
    free(t);
}

/* ---- type string parser ---------------------------------------------- */

typedef struct {
    const char *s;
    char *err;
    size_t cap;
} parser_t;

static ts_type_t *parse_json_type(const json_t *j, parser_t *p);
static ts_type_t *parse_expr(parser_t *p);

static void skip_ws(parser_t *p)
{
    while (*p->s == ' ')
        p->s++;
}

static int expect(parser_t *p, char c)
{
    skip_ws(p);
    if (*p->s != c) {
        snprintf(p->err, p->cap, "expected '%c' at '%s'", c, p->s);
        return -1;
    }
    p->s++;
    return 0;
}

static ts_type_t *fail(parser_t *p, ts_type_t *t, const char *what)
{
    if (what)
        snprintf(p->err, p->cap, "%s at '%s'", what, p->s);
    ts_free(t);
    return NULL;
}

static ts_type_t *parse_expr(parser_t *p)
{
    skip_ws(p);
    if (*p->s == '(') {
        p->s++;
        ts_type_t *t = mk(K_TUPLE);
        skip_ws(p);
        if (*p->s == ')') {
            p->s++;
            return t;
        }
        for (;;) {
            ts_type_t *e = parse_expr(p);
            if (!e)
                return fail(p, t, NULL);
            add_sub(t, e, NULL);
            skip_ws(p);
            if (*p->s == ',') {
                p->s++;
                continue;
            }
            if (expect(p, ')') < 0)
                return fail(p, t, NULL);
            return t;
        }
    }
    if (*p->s == '[') {
        p->s++;
        ts_type_t *e = parse_expr(p);
        if (!e || expect(p, ';') < 0)
            return fail(p, e, NULL);
        skip_ws(p);
        char *end;
        unsigned long n = strtoul(p->s, &end, 10);
        p->s = end;
        if (expect(p, ']') < 0)
            return fail(p, e, NULL);
        ts_type_t *t = mk(K_ARRAY);
        add_sub(t, e, NULL);
        t->n = n;
        return t;
    }
    char name[32];
    size_t len = 0;
    while (isalnum((unsigned char)*p->s) || *p->s == '_') {
        if (len + 1 >= sizeof(name))
            return fail(p, NULL, "name too long");
        name[len++] = *p->s++;
    }
    name[len] = '\0';
    static const struct {
        const char *name;
        kind_t k;
        unsigned bytes;
        int generic_args; /* number of <...> arguments */
    } names[] = {
        {"u8", K_UINT, 1, 0},
        {"u16", K_UINT, 2, 0},
        {"u32", K_UINT, 4, 0},
        {"u64", K_UINT, 8, 0},
        {"u128", K_UINT, 16, 0},
        {"u256", K_UINT, 32, 0},
        {"i8", K_INT, 1, 0},
        {"i16", K_INT, 2, 0},
        {"i32", K_INT, 4, 0},
        {"i64", K_INT, 8, 0},
        {"i128", K_INT, 16, 0},
        {"bool", K_BOOL, 0, 0},
        {"Text", K_TEXT, 0, 0},
        {"BitVec", K_BITVEC, 0, 0},
        {"AccountId32", K_ACCOUNT, 0, 0},
        {"OptionBool", K_OPTION_BOOL, 0, 0},
        {"Null", K_NULL, 0, 0},
        {"Compact", K_COMPACT, 0, 1},
        {"Option", K_OPTION, 0, 1},
        {"Vec", K_VEC, 0, 1},
        {"Result", K_RESULT, 0, 2},
        {"BTreeMap", K_MAP, 0, 2},
    };
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (strcmp(name, names[i].name) != 0)
            continue;
        ts_type_t *t = mk(names[i].k);
        t->bytes = names[i].bytes;
        if (names[i].generic_args == 0)
            return t;
        if (expect(p, '<') < 0)
            return fail(p, t, NULL);
        for (int a = 0; a < names[i].generic_args; a++) {
            if (a > 0 && expect(p, ',') < 0)
                return fail(p, t, NULL);
            ts_type_t *e = parse_expr(p);
            if (!e)
                return fail(p, t, NULL);
            add_sub(t, e, NULL);
        }
        if (expect(p, '>') < 0)
            return fail(p, t, NULL);
        if (t->k == K_COMPACT) {
            if (t->sub[0]->k != K_UINT || t->sub[0]->bytes > 16)
                return fail(p, t, "Compact of a non-integer");
            t->bytes = t->sub[0]->bytes;
        }
        return t;
    }
    snprintf(p->err, p->cap, "unknown type '%s'", name);
    return NULL;
}

static ts_type_t *parse_json_member(const json_t *v, parser_t *p)
{
    if (json_is_string(v)) {
        parser_t sub = {json_string_value(v), p->err, p->cap};
        ts_type_t *t = parse_expr(&sub);
        skip_ws(&sub);
        if (t && *sub.s)
            return fail(p, t, "trailing text in type");
        return t;
    }
    return parse_json_type(v, p);
}

static ts_type_t *parse_json_type(const json_t *j, parser_t *p)
{
    if (!json_is_object(j))
        return fail(p, NULL, "type JSON must be an object");
    const json_t *e = json_object_get(j, "_enum");
    const char *key;
    json_t *v;
    if (e) {
        ts_type_t *t = mk(K_ENUM);
        if (json_is_array(e)) {
            size_t i;
            json_array_foreach (e, i, v)
                add_sub(t, NULL, json_string_value(v));
            return t;
        }
        json_object_foreach ((json_t *)e, key, v) {
            ts_type_t *s = NULL;
            if (!(json_is_string(v) && strcmp(json_string_value(v), "Null") == 0)) {
                s = parse_json_member(v, p);
                if (!s)
                    return fail(p, t, NULL);
            }
            add_sub(t, s, key);
        }
        return t;
    }
    ts_type_t *t = mk(K_STRUCT);
    json_object_foreach ((json_t *)j, key, v) {
        ts_type_t *s = parse_json_member(v, p);
        if (!s)
            return fail(p, t, NULL);
        add_sub(t, s, key);
    }
    return t;
}

ts_type_t *ts_parse(const char *s, char *err, size_t cap)
{
    parser_t p = {s, err, cap};
    if (*s == '{') {
        json_error_t je;
        json_t *j = json_loads(s, 0, &je);
        if (!j) {
            snprintf(err, cap, "bad type JSON: %s", je.text);
            return NULL;
        }
        ts_type_t *t = parse_json_type(j, &p);
        json_decref(j);
        return t;
    }
    json_t *str = json_string(s);
    ts_type_t *t = parse_json_member(str, &p);
    json_decref(str);
    return t;
}

/* ---- decoding ---------------------------------------------------------- */

#define MAX_SAFE 9007199254740991LL /* 2^53 - 1: polkadot-js prints numbers up to it */

static json_t *int_json(const uint8_t *le, unsigned n, int is_signed)
{
    char dec[GN_DEC_MAX(32)];
    gn_dec_from_le(le, n, is_signed, dec, sizeof(dec));
    long long v;
    if (strlen(dec) <= 17 && (v = strtoll(dec, NULL, 10)) <= MAX_SAFE && v >= -MAX_SAFE)
        return json_integer(v);
    return json_string(dec);
}

static json_t *bytes_json(const uint8_t *p, size_t n)
{
    if (n == 0)
        return json_string(""); /* polkadot-js prints empty bytes as "" */
    char *s = malloc(gn_hex_encoded_len(n, 1) + 1);
    gn_hex_encode(p, n, 1, s, gn_hex_encoded_len(n, 1) + 1);
    json_t *j = json_string(s);
    free(s);
    return j;
}

static char *lower_camel(const char *name)
{
    char *s = strdup(name);
    s[0] = (char)tolower((unsigned char)s[0]);
    return s;
}

static int is_u8(const ts_type_t *t)
{
    return t && t->k == K_UINT && t->bytes == 1;
}

int ts_decode(const ts_type_t *t, gn_scale_reader_t *r, json_t **out)
{
    int rc;
    json_t *j = NULL;
    switch (t->k) {
    case K_UINT:
    case K_INT: {
        const uint8_t *p;
        if ((rc = gn_scale_read_bytes(r, t->bytes, &p)) < 0)
            return rc;
        *out = int_json(p, t->bytes, t->k == K_INT);
        return 0;
    }
    case K_BOOL: {
        bool b;
        if ((rc = gn_scale_read_bool(r, &b)) < 0)
            return rc;
        *out = json_boolean(b);
        return 0;
    }
    case K_COMPACT: {
        gn_u128_t v;
        if ((rc = gn_scale_read_compact(r, t->bytes * 8, &v)) < 0)
            return rc;
        uint8_t le[16];
        for (int i = 0; i < 16; i++)
            le[i] = (uint8_t)(v >> (8 * i));
        *out = int_json(le, 16, 0);
        return 0;
    }
    case K_OPTION: {
        bool some;
        if ((rc = gn_scale_read_option(r, &some)) < 0)
            return rc;
        if (!some) {
            *out = json_null();
            return 0;
        }
        return ts_decode(t->sub[0], r, out);
    }
    case K_OPTION_BOOL: {
        int v;
        if ((rc = gn_scale_read_option_bool(r, &v)) < 0)
            return rc;
        *out = v < 0 ? json_null() : json_boolean(v);
        return 0;
    }
    case K_RESULT: {
        bool is_err;
        json_t *inner;
        if ((rc = gn_scale_read_result(r, &is_err)) < 0 ||
            (rc = ts_decode(t->sub[is_err], r, &inner)) < 0)
            return rc;
        *out = json_pack("{s:o}", is_err ? "err" : "ok", inner);
        return 0;
    }
    case K_VEC:
    case K_ARRAY: {
        size_t n = t->n;
        const ts_type_t *e = t->sub[0];
        if (t->k == K_VEC && (rc = gn_scale_read_len(r, 1, &n)) < 0)
            return rc;
        if (is_u8(e)) {
            const uint8_t *p;
            if ((rc = gn_scale_read_bytes(r, n, &p)) < 0)
                return rc;
            *out = bytes_json(p, n);
            return 0;
        }
        j = json_array();
        for (size_t i = 0; i < n; i++) {
            json_t *v;
            if ((rc = ts_decode(e, r, &v)) < 0)
                goto fail;
            json_array_append_new(j, v);
        }
        *out = j;
        return 0;
    }
    case K_TEXT: {
        const char *s;
        size_t n;
        if ((rc = gn_scale_read_str(r, &s, &n)) < 0)
            return rc;
        *out = json_stringn(s, n);
        return 0;
    }
    case K_BITVEC: {
        const uint8_t *p;
        size_t bits;
        if ((rc = gn_scale_read_bitvec(r, &p, &bits)) < 0)
            return rc;
        *out = bytes_json(p, bits / 8 + (bits % 8 != 0));
        return 0;
    }
    case K_TUPLE:
        j = json_array();
        for (size_t i = 0; i < t->n; i++) {
            json_t *v;
            if ((rc = ts_decode(t->sub[i], r, &v)) < 0)
                goto fail;
            json_array_append_new(j, v);
        }
        *out = j;
        return 0;
    case K_MAP: {
        size_t n;
        if ((rc = gn_scale_read_len(r, 1, &n)) < 0)
            return rc;
        j = json_object();
        for (size_t i = 0; i < n; i++) {
            json_t *k, *v;
            if ((rc = ts_decode(t->sub[0], r, &k)) < 0)
                goto fail;
            char num[64];
            const char *ks = json_is_string(k) ? json_string_value(k) : num;
            if (json_is_integer(k))
                snprintf(num, sizeof(num), "%lld", (long long)json_integer_value(k));
            else if (!json_is_string(k)) {
                json_decref(k);
                rc = GN_EUNSUPPORTED;
                goto fail;
            }
            if ((rc = ts_decode(t->sub[1], r, &v)) < 0) {
                json_decref(k);
                goto fail;
            }
            json_object_set_new(j, ks, v);
            json_decref(k);
        }
        *out = j;
        return 0;
    }
    case K_ACCOUNT: {
        const uint8_t *p;
        char addr[GN_SS58_ADDR_MAX];
        if ((rc = gn_scale_read_bytes(r, 32, &p)) < 0 ||
            (rc = gn_ss58_encode(p, 32, GN_SS58_BITTENSOR, addr, sizeof(addr))) < 0)
            return rc;
        *out = json_string(addr);
        return 0;
    }
    case K_NULL: *out = json_null(); return 0;
    case K_ENUM: {
        uint8_t idx;
        if ((rc = gn_scale_read_variant(r, (unsigned)t->n, &idx)) < 0)
            return rc;
        int all_unit = 1;
        for (size_t i = 0; i < t->n; i++)
            all_unit &= t->sub[i] == NULL;
        if (all_unit) {
            *out = json_string(t->names[idx]);
            return 0;
        }
        json_t *v = json_null();
        if (t->sub[idx] && (rc = ts_decode(t->sub[idx], r, &v)) < 0)
            return rc;
        char *key = lower_camel(t->names[idx]);
        *out = json_pack("{s:o}", key, v);
        free(key);
        return 0;
    }
    case K_STRUCT:
        j = json_object();
        for (size_t i = 0; i < t->n; i++) {
            json_t *v;
            if ((rc = ts_decode(t->sub[i], r, &v)) < 0)
                goto fail;
            json_object_set_new(j, t->names[i], v);
        }
        *out = j;
        return 0;
    }
    return GN_EUNSUPPORTED;
fail:
    json_decref(j);
    return rc;
}

/* ---- encoding ---------------------------------------------------------- */

/* A JSON number or decimal string as n little-endian bytes. */
static int int_le(const json_t *v, unsigned n, int is_signed, uint8_t *le)
{
    char buf[32];
    const char *s;
    if (json_is_integer(v)) {
        snprintf(buf, sizeof(buf), "%lld", (long long)json_integer_value(v));
        s = buf;
    } else if (json_is_string(v)) {
        s = json_string_value(v);
    } else {
        return GN_EINVAL;
    }
    return gn_dec_to_le(s, strlen(s), is_signed, le, n);
}

static int hex_bytes(const json_t *v, uint8_t **out, size_t *n)
{
    if (!json_is_string(v))
        return GN_EINVAL;
    const char *s = json_string_value(v);
    size_t len = strlen(s);
    *out = malloc(len / 2 + 1);
    int rc = gn_hex_decode(s, len, *out, len / 2 + 1, n);
    if (rc < 0) {
        free(*out);
        *out = NULL;
    }
    return rc;
}

static int is_empty_input(const json_t *v)
{
    return json_is_null(v) || (json_is_string(v) && (strcmp(json_string_value(v), "0x") == 0 ||
                                                     json_string_value(v)[0] == '\0'));
}

/* The value of a one-key object whose key matches name ignoring the case of
 * the first letter (polkadot-js input "Ok", decoded "ok"). */
static const json_t *variant_value(const json_t *v, const char *name)
{
    const char *key;
    json_t *val;
    if (!json_is_object(v) || json_object_size(v) != 1)
        return NULL;
    json_object_foreach ((json_t *)v, key, val) {
        if (tolower((unsigned char)key[0]) == tolower((unsigned char)name[0]) &&
            strcmp(key + 1, name + 1) == 0)
            return val;
    }
    return NULL;
}

int ts_encode(const ts_type_t *t, const json_t *v, gn_scale_writer_t *w)
{
    int rc;
    switch (t->k) {
    case K_UINT:
    case K_INT: {
        uint8_t le[32];
        if ((rc = int_le(v, t->bytes, t->k == K_INT, le)) < 0)
            return rc;
        return gn_scale_write_bytes(w, le, t->bytes);
    }
    case K_BOOL:
        if (!json_is_boolean(v))
            return GN_EINVAL;
        return gn_scale_write_bool(w, json_is_true(v));
    case K_COMPACT: {
        uint8_t le[16];
        if ((rc = int_le(v, t->bytes, 0, le)) < 0)
            return rc;
        gn_u128_t x = 0;
        for (int i = (int)t->bytes - 1; i >= 0; i--)
            x = x << 8 | le[i];
        return gn_scale_write_compact(w, x);
    }
    case K_OPTION:
        /* polkadot-js input convention: null and empty bytes are None */
        if (is_empty_input(v))
            return gn_scale_write_option(w, false);
        if ((rc = gn_scale_write_option(w, true)) < 0)
            return rc;
        return ts_encode(t->sub[0], v, w);
    case K_OPTION_BOOL:
        if (json_is_null(v))
            return gn_scale_write_option_bool(w, -1);
        if (!json_is_boolean(v))
            return GN_EINVAL;
        return gn_scale_write_option_bool(w, json_is_true(v));
    case K_RESULT: {
        const json_t *ok = variant_value(v, "Ok"), *err = variant_value(v, "Err");
        if (!ok && !err)
            return GN_EINVAL;
        if ((rc = gn_scale_write_result(w, err != NULL)) < 0)
            return rc;
        return ts_encode(t->sub[err != NULL], ok ? ok : err, w);
    }
    case K_VEC:
    case K_ARRAY: {
        const ts_type_t *e = t->sub[0];
        if (is_u8(e)) {
            uint8_t *p;
            size_t n;
            if ((rc = hex_bytes(v, &p, &n)) < 0)
                return rc;
            if (t->k == K_ARRAY && n != t->n)
                rc = GN_EINVAL;
            else if (t->k == K_VEC)
                rc = gn_scale_write_vec_u8(w, p, n);
            else
                rc = gn_scale_write_bytes(w, p, n);
            free(p);
            return rc;
        }
        if (!json_is_array(v) || (t->k == K_ARRAY && json_array_size(v) != t->n))
            return GN_EINVAL;
        if (t->k == K_VEC && (rc = gn_scale_write_compact(w, json_array_size(v))) < 0)
            return rc;
        size_t i;
        json_t *x;
        json_array_foreach (v, i, x)
            if ((rc = ts_encode(e, x, w)) < 0)
                return rc;
        return 0;
    }
    case K_TEXT:
        if (!json_is_string(v))
            return GN_EINVAL;
        return gn_scale_write_str(w, json_string_value(v), json_string_length(v));
    case K_BITVEC: {
        uint8_t *p;
        size_t n;
        if ((rc = hex_bytes(v, &p, &n)) < 0)
            return rc;
        rc = gn_scale_write_bitvec(w, p, n * 8);
        free(p);
        return rc;
    }
    case K_TUPLE:
        if (t->n == 0)
            return json_is_null(v) || (json_is_array(v) && json_array_size(v) == 0) ? 0 : GN_EINVAL;
        if (!json_is_array(v) || json_array_size(v) != t->n)
            return GN_EINVAL;
        for (size_t i = 0; i < t->n; i++)
            if ((rc = ts_encode(t->sub[i], json_array_get(v, i), w)) < 0)
                return rc;
        return 0;
    case K_MAP: {
        /* keys are written in the JSON's order, which the vectors keep sorted */
        if (!json_is_object(v))
            return GN_EINVAL;
        if ((rc = gn_scale_write_compact(w, json_object_size(v))) < 0)
            return rc;
        const char *key;
        json_t *x;
        json_object_foreach ((json_t *)v, key, x) {
            json_t *k = json_string(key);
            rc = ts_encode(t->sub[0], k, w);
            json_decref(k);
            if (rc < 0 || (rc = ts_encode(t->sub[1], x, w)) < 0)
                return rc;
        }
        return 0;
    }
    case K_ACCOUNT: {
        if (!json_is_string(v))
            return GN_EINVAL;
        const char *s = json_string_value(v);
        uint8_t acc[32];
        rc = strncmp(s, "0x", 2) == 0 ? gn_hex_decode_exact(s, strlen(s), acc, 32)
                                      : gn_ss58_decode_account(s, strlen(s), acc, NULL);
        return rc < 0 ? rc : gn_scale_write_bytes(w, acc, 32);
    }
    case K_NULL: return json_is_null(v) ? 0 : GN_EINVAL;
    case K_ENUM:
        for (size_t i = 0; i < t->n; i++) {
            const json_t *val = variant_value(v, t->names[i]);
            int unit_match = json_is_string(v) && strcmp(json_string_value(v), t->names[i]) == 0;
            if (!val && !unit_match)
                continue;
            if ((rc = gn_scale_write_variant(w, (uint8_t)i)) < 0)
                return rc;
            if (!t->sub[i])
                return val && !json_is_null(val) ? GN_EINVAL : 0;
            return val ? ts_encode(t->sub[i], val, w) : GN_EINVAL;
        }
        return GN_EINVAL;
    case K_STRUCT:
        if (!json_is_object(v) || json_object_size(v) != t->n)
            return GN_EINVAL;
        for (size_t i = 0; i < t->n; i++) {
            const json_t *x = json_object_get(v, t->names[i]);
            if (!x || (rc = ts_encode(t->sub[i], x, w)) < 0)
                return x ? rc : GN_EINVAL;
        }
        return 0;
    }
    return GN_EUNSUPPORTED;
}
