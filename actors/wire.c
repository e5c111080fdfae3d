/* msgpack <-> JSON and frames (include/ganglion/wire.h). */
#include "ganglion/wire.h"
#include "ganglion/error.h"
#include "ganglion/hex.h"

#include "../protocol/msgpack_check.h"

#include <msgpack.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    uint8_t **buf;
    size_t *len, *cap;
    int err;
} sink_t;

/* msgpack_packer's write callback: append to our buffer. */
static int sink_write(void *data, const char *p, size_t n)
{
    sink_t *s = data;
    if (*s->len + n > *s->cap) {
        size_t cap = *s->cap ? *s->cap : 256;
        while (cap < *s->len + n)
            cap *= 2;
        uint8_t *nb = realloc(*s->buf, cap);
        if (!nb) {
            s->err = GN_ENOMEM;
            return -1;
        }
        *s->buf = nb;
        *s->cap = cap;
    }
    memcpy(*s->buf + *s->len, p, n);
    *s->len += n;
    return 0;
}

static int pack(msgpack_packer *pk, const json_t *j, int depth)
{
    if (depth > GN_WIRE_MAX_DEPTH)
        return GN_ERANGE;
    switch (json_typeof(j)) {
    case JSON_NULL: return msgpack_pack_nil(pk) ? GN_ENOMEM : 0;
    case JSON_TRUE: return msgpack_pack_true(pk) ? GN_ENOMEM : 0;
    case JSON_FALSE: return msgpack_pack_false(pk) ? GN_ENOMEM : 0;
    case JSON_INTEGER: return msgpack_pack_int64(pk, json_integer_value(j)) ? GN_ENOMEM : 0;
    case JSON_REAL: return msgpack_pack_double(pk, json_real_value(j)) ? GN_ENOMEM : 0;
    case JSON_STRING: {
        size_t n = json_string_length(j);
        if (msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, json_string_value(j), n))
            return GN_ENOMEM;
        return 0;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *x;
        if (msgpack_pack_array(pk, json_array_size(j)))
            return GN_ENOMEM;
        json_array_foreach (j, i, x) {
            int rc = pack(pk, x, depth + 1);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    case JSON_OBJECT: {
        const char *k;
        json_t *x;
        if (msgpack_pack_map(pk, json_object_size(j)))
            return GN_ENOMEM;
        json_object_foreach ((json_t *)j, k, x) {
            size_t n = strlen(k);
            if (msgpack_pack_str(pk, n) || msgpack_pack_str_body(pk, k, n))
                return GN_ENOMEM;
            int rc = pack(pk, x, depth + 1);
            if (rc < 0)
                return rc;
        }
        return 0;
    }
    }
    return GN_EINVAL;
}

int gn_wire_from_json(const json_t *j, uint8_t **buf, size_t *len, size_t *cap)
{
    if (!j)
        return GN_EINVAL;
    sink_t s = {buf, len, cap, 0};
    msgpack_packer pk;
    msgpack_packer_init(&pk, &s, sink_write);
    size_t start = *len;
    int rc = pack(&pk, j, 0);
    if (rc < 0 || s.err) {
        *len = start;
        return s.err ? s.err : rc;
    }
    return 0;
}

static json_t *to_json(const msgpack_object *o, int depth, int *err)
{
    if (depth > GN_WIRE_MAX_DEPTH) {
        *err = GN_ERANGE;
        return NULL;
    }
    switch (o->type) {
    case MSGPACK_OBJECT_NIL: return json_null();
    case MSGPACK_OBJECT_BOOLEAN: return json_boolean(o->via.boolean);
    case MSGPACK_OBJECT_POSITIVE_INTEGER:
        if (o->via.u64 > (uint64_t)INT64_MAX) { /* beyond json_int_t: decimal text */
            char s[24];
            snprintf(s, sizeof(s), "%llu", (unsigned long long)o->via.u64);
            return json_string(s);
        }
        return json_integer((json_int_t)o->via.u64);
    case MSGPACK_OBJECT_NEGATIVE_INTEGER: return json_integer(o->via.i64);
    case MSGPACK_OBJECT_FLOAT32:
    case MSGPACK_OBJECT_FLOAT64: return json_real(o->via.f64);
    case MSGPACK_OBJECT_STR: {
        /* msgpack-c gives a NULL pointer for an empty string */
        json_t *s =
            o->via.str.size ? json_stringn(o->via.str.ptr, o->via.str.size) : json_string("");
        if (!s)
            *err = GN_EUTF8;
        return s;
    }
    case MSGPACK_OBJECT_BIN: {
        size_t cap = gn_hex_encoded_len(o->via.bin.size, 1) + 1;
        char *h = malloc(cap);
        if (!h) {
            *err = GN_ENOMEM;
            return NULL;
        }
        gn_hex_encode((const uint8_t *)o->via.bin.ptr, o->via.bin.size, 1, h, cap);
        json_t *s = json_string(h);
        free(h);
        return s;
    }
    case MSGPACK_OBJECT_ARRAY: {
        json_t *a = json_array();
        for (uint32_t i = 0; a && i < o->via.array.size; i++) {
            json_t *x = to_json(&o->via.array.ptr[i], depth + 1, err);
            if (!x || json_array_append_new(a, x)) {
                json_decref(a);
                return NULL;
            }
        }
        return a;
    }
    case MSGPACK_OBJECT_MAP: {
        json_t *m = json_object();
        for (uint32_t i = 0; m && i < o->via.map.size; i++) {
            const msgpack_object *k = &o->via.map.ptr[i].key;
            char num[24], *key = NULL;
            if (k->type == MSGPACK_OBJECT_STR) {
                /* a NUL inside is no JSON object key */
                if (!memchr(k->via.str.ptr, 0, k->via.str.size))
                    key = strndup(k->via.str.ptr, k->via.str.size);
                else
                    *err = GN_EINVAL;
            } else if (k->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
                snprintf(num, sizeof(num), "%llu", (unsigned long long)k->via.u64);
                key = strdup(num);
            } else if (k->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
                snprintf(num, sizeof(num), "%lld", (long long)k->via.i64);
                key = strdup(num);
            } else {
                *err = GN_EUNSUPPORTED;
            }
            json_t *x = key ? to_json(&o->via.map.ptr[i].val, depth + 1, err) : NULL;
            if (!x || json_object_set_new(m, key, x)) {
                if (!*err)
                    *err = GN_ENOMEM;
                free(key);
                json_decref(m);
                return NULL;
            }
            free(key);
        }
        return m;
    }
    default:
        *err = GN_EUNSUPPORTED; /* ext */
        return NULL;
    }
}

int gn_wire_to_json(const uint8_t *p, size_t n, json_t **out)
{
    if (!out || (!p && n))
        return GN_EINVAL;
    *out = NULL;
    /* the bytes come from other processes: walked first, so msgpack-c's
     * allocations stay within a small multiple of n (it sizes a container
     * from its header) and nesting within GN_WIRE_MAX_DEPTH */
    int rc = gn_msgpack_check(p, n, GN_WIRE_MAX_DEPTH);
    if (rc < 0)
        return rc;
    msgpack_zone zone;
    msgpack_object obj;
    size_t off = 0;
    if (!msgpack_zone_init(&zone, 2048))
        return GN_ENOMEM;
    msgpack_unpack_return r = msgpack_unpack((const char *)p, n, &off, &zone, &obj);
    if (r == MSGPACK_UNPACK_CONTINUE)
        rc = GN_ETRUNC;
    else if (r == MSGPACK_UNPACK_NOMEM_ERROR)
        rc = GN_ENOMEM;
    else if (r < 0)
        rc = GN_EINVAL;
    else if (off != n)
        rc = GN_ETRAILING;
    if (rc == 0) {
        int err = 0;
        *out = to_json(&obj, 0, &err);
        if (!*out)
            rc = err ? err : GN_ENOMEM;
    }
    msgpack_zone_destroy(&zone);
    return rc;
}

int gn_wire_frame(const json_t *j, uint8_t **buf, size_t *len, size_t *cap)
{
    size_t start = *len;
    static const uint8_t zero[4] = {0};
    sink_t s = {buf, len, cap, 0};
    if (sink_write(&s, (const char *)zero, 4) < 0)
        return s.err;
    int rc = gn_wire_from_json(j, buf, len, cap);
    if (rc < 0) {
        *len = start;
        return rc;
    }
    size_t n = *len - start - 4;
    if (n > UINT32_MAX) {
        *len = start;
        return GN_ERANGE;
    }
    (*buf)[start] = (uint8_t)(n >> 24);
    (*buf)[start + 1] = (uint8_t)(n >> 16);
    (*buf)[start + 2] = (uint8_t)(n >> 8);
    (*buf)[start + 3] = (uint8_t)n;
    return 0;
}

int gn_wire_frame_peek(const uint8_t *p, size_t n, size_t max, const uint8_t **payload,
                       size_t *payload_len, size_t *frame_len)
{
    if (n < 4)
        return GN_ETRUNC;
    size_t len = (size_t)p[0] << 24 | (size_t)p[1] << 16 | (size_t)p[2] << 8 | p[3];
    if (len > max)
        return GN_ERANGE;
    if (n - 4 < len)
        return GN_ETRUNC;
    *payload = p + 4;
    *payload_len = len;
    *frame_len = 4 + len;
    return 0;
}
