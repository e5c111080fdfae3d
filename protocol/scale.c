#include "ganglion/scale.h"
#include "ganglion/error.h"
#include "ganglion/utf8.h"

#include <string.h>

#include "le.h"

/* ---- reader ---------------------------------------------------------- */

int gn_scale_reader_finish(const gn_scale_reader_t *r)
{
    return r->pos == r->len ? 0 : GN_ETRAILING;
}

/* A view of the next n bytes; advances only on success. */
static int take(gn_scale_reader_t *r, size_t n, const uint8_t **out)
{
    if (n > gn_scale_remaining(r))
        return GN_ETRUNC;
    *out = r->p + r->pos;
    r->pos += n;
    return 0;
}

static int read_le(gn_scale_reader_t *r, unsigned n, uint64_t *v)
{
    const uint8_t *p = NULL;
    int rc = take(r, n, &p);
    if (rc == 0)
        *v = gn_le_load(p, n);
    return rc;
}

#define GN_READ_UINT(name, type, n)                         \
    int gn_scale_read_##name(gn_scale_reader_t *r, type *v) \
    {                                                       \
        uint64_t x = 0;                                     \
        int rc = read_le(r, n, &x);                         \
        if (rc == 0)                                        \
            *v = (type)x;                                   \
        return rc;                                          \
    }

GN_READ_UINT(u8, uint8_t, 1)
GN_READ_UINT(u16, uint16_t, 2)
GN_READ_UINT(u32, uint32_t, 4)
GN_READ_UINT(u64, uint64_t, 8)
GN_READ_UINT(i8, int8_t, 1)
GN_READ_UINT(i16, int16_t, 2)
GN_READ_UINT(i32, int32_t, 4)
GN_READ_UINT(i64, int64_t, 8)

int gn_scale_read_u128(gn_scale_reader_t *r, gn_u128_t *v)
{
    const uint8_t *p = NULL;
    int rc = take(r, 16, &p);
    if (rc == 0)
        *v = (gn_u128_t)gn_le_load(p + 8, 8) << 64 | gn_le_load(p, 8);
    return rc;
}

int gn_scale_read_i128(gn_scale_reader_t *r, gn_i128_t *v)
{
    gn_u128_t u;
    int rc = gn_scale_read_u128(r, &u);
    if (rc == 0)
        *v = (gn_i128_t)u;
    return rc;
}

/* One tag byte that must be below `limit`; nothing consumed on error. */
static int read_tag(gn_scale_reader_t *r, unsigned limit, uint8_t *tag)
{
    if (gn_scale_remaining(r) < 1)
        return GN_ETRUNC;
    uint8_t t = r->p[r->pos];
    if (t >= limit)
        return GN_EBADTAG;
    r->pos++;
    *tag = t;
    return 0;
}

int gn_scale_read_bool(gn_scale_reader_t *r, bool *v)
{
    uint8_t t;
    int rc = read_tag(r, 2, &t);
    if (rc == 0)
        *v = t == 1;
    return rc;
}

int gn_scale_read_option(gn_scale_reader_t *r, bool *some)
{
    return gn_scale_read_bool(r, some);
}

int gn_scale_read_result(gn_scale_reader_t *r, bool *is_err)
{
    return gn_scale_read_bool(r, is_err);
}

int gn_scale_read_option_bool(gn_scale_reader_t *r, int *v)
{
    uint8_t t;
    int rc = read_tag(r, 3, &t);
    if (rc == 0)
        *v = t == 0 ? -1 : t == 1 ? 1 : 0;
    return rc;
}

int gn_scale_read_variant(gn_scale_reader_t *r, unsigned n_variants, uint8_t *index)
{
    return read_tag(r, n_variants > 256 ? 256 : n_variants, index);
}

int gn_scale_read_compact(gn_scale_reader_t *r, unsigned bits, gn_u128_t *v)
{
    if (bits != 8 && bits != 16 && bits != 32 && bits != 64 && bits != 128)
        return GN_EINVAL;
    size_t avail = gn_scale_remaining(r);
    if (avail < 1)
        return GN_ETRUNC;
    const uint8_t *p = r->p + r->pos;
    gn_u128_t x = 0;
    size_t used;
    switch (p[0] & 3) {
    case 0:
        x = p[0] >> 2;
        used = 1;
        break;
    case 1:
        if (avail < 2)
            return GN_ETRUNC;
        x = gn_le_load(p, 2) >> 2;
        if (x < 0x40)
            return GN_ENONCANON;
        used = 2;
        break;
    case 2:
        if (avail < 4)
            return GN_ETRUNC;
        x = gn_le_load(p, 4) >> 2;
        if (x < 0x4000)
            return GN_ENONCANON;
        used = 4;
        break;
    default: {
        size_t n = (size_t)(p[0] >> 2) + 4;
        if (n > 16)
            return GN_ERANGE; /* more than 128 bits */
        if (avail < 1 + n)
            return GN_ETRUNC;
        /* minimal: the top byte is non-zero and the value needs big mode */
        if (p[n] == 0)
            return GN_ENONCANON;
        x = 0;
        for (size_t i = n; i > 0; i--)
            x = x << 8 | p[i];
        if (x < 0x40000000)
            return GN_ENONCANON;
        used = 1 + n;
        break;
    }
    }
    if (bits < 128 && x >> bits != 0)
        return GN_ERANGE;
    r->pos += used;
    *v = x;
    return 0;
}

int gn_scale_read_compact_u32(gn_scale_reader_t *r, uint32_t *v)
{
    gn_u128_t x = 0;
    int rc = gn_scale_read_compact(r, 32, &x);
    if (rc == 0)
        *v = (uint32_t)x;
    return rc;
}

int gn_scale_read_compact_u64(gn_scale_reader_t *r, uint64_t *v)
{
    gn_u128_t x = 0;
    int rc = gn_scale_read_compact(r, 64, &x);
    if (rc == 0)
        *v = (uint64_t)x;
    return rc;
}

int gn_scale_read_len(gn_scale_reader_t *r, size_t min_item_size, size_t *n)
{
    size_t start = r->pos;
    uint64_t x = 0;
    /* Lengths are Compact<u32> in Substrate. */
    int rc = gn_scale_read_compact_u64(r, &x);
    if (rc < 0)
        return rc;
    if (x > UINT32_MAX) {
        r->pos = start;
        return GN_ERANGE;
    }
    size_t item = min_item_size ? min_item_size : 1;
    if (x > gn_scale_remaining(r) / item) {
        r->pos = start;
        return GN_ETRUNC;
    }
    *n = (size_t)x;
    return 0;
}

int gn_scale_read_bytes(gn_scale_reader_t *r, size_t n, const uint8_t **out)
{
    return take(r, n, out);
}

int gn_scale_read_vec_u8(gn_scale_reader_t *r, const uint8_t **out, size_t *n)
{
    size_t start = r->pos, len;
    int rc = gn_scale_read_len(r, 1, &len);
    if (rc == 0)
        rc = take(r, len, out);
    if (rc < 0) {
        r->pos = start;
        return rc;
    }
    *n = len;
    return 0;
}

int gn_scale_read_str(gn_scale_reader_t *r, const char **out, size_t *n)
{
    size_t start = r->pos, len;
    const uint8_t *p = NULL;
    int rc = gn_scale_read_vec_u8(r, &p, &len);
    if (rc < 0)
        return rc;
    if (!gn_utf8_valid(p, len)) {
        r->pos = start;
        return GN_EUTF8;
    }
    *out = (const char *)p;
    *n = len;
    return 0;
}

int gn_scale_read_bitvec(gn_scale_reader_t *r, const uint8_t **bytes, size_t *nbits)
{
    size_t start = r->pos;
    uint64_t bits = 0;
    int rc = gn_scale_read_compact_u64(r, &bits);
    if (rc < 0)
        return rc;
    /* bits/8 rounded up, computed without overflowing near UINT64_MAX */
    uint64_t nbytes = bits / 8 + (bits % 8 != 0);
    if (bits > UINT32_MAX || nbytes > gn_scale_remaining(r)) {
        r->pos = start;
        return bits > UINT32_MAX ? GN_ERANGE : GN_ETRUNC;
    }
    rc = take(r, (size_t)nbytes, bytes);
    *nbits = (size_t)bits;
    return rc;
}

/* ---- writer ---------------------------------------------------------- */

void gn_scale_writer_init(gn_scale_writer_t *w, const gn_allocator_t *a)
{
    memset(w, 0, sizeof(*w));
    w->alloc = a ? a : gn_allocator_libc();
}

void gn_scale_writer_init_fixed(gn_scale_writer_t *w, uint8_t *buf, size_t cap)
{
    memset(w, 0, sizeof(*w));
    w->buf = buf;
    w->cap = cap;
}

void gn_scale_writer_free(gn_scale_writer_t *w)
{
    if (w->alloc)
        gn_alloc_free(w->alloc, w->buf);
    w->buf = NULL;
    w->len = w->cap = 0;
}

void gn_scale_writer_reset(gn_scale_writer_t *w)
{
    w->len = 0;
    w->err = 0;
}

uint8_t *gn_scale_writer_extend(gn_scale_writer_t *w, size_t n)
{
    if (w->err)
        return NULL;
    if (n > w->cap - w->len) {
        if (!w->alloc || n > SIZE_MAX / 2 - w->len) {
            w->err = w->alloc ? GN_ENOMEM : GN_ENOSPC;
            return NULL;
        }
        size_t cap = w->cap ? w->cap : 64;
        while (cap - w->len < n)
            cap *= 2;
        uint8_t *nb = gn_alloc_resize(w->alloc, w->buf, cap);
        if (!nb) {
            w->err = GN_ENOMEM;
            return NULL;
        }
        w->buf = nb;
        w->cap = cap;
    }
    uint8_t *at = w->buf + w->len;
    w->len += n;
    return at;
}

int gn_scale_write_bytes(gn_scale_writer_t *w, const uint8_t *p, size_t n)
{
    if (n == 0)
        return w->err;
    uint8_t *at = gn_scale_writer_extend(w, n);
    if (!at)
        return w->err;
    memcpy(at, p, n);
    return 0;
}

static int write_le(gn_scale_writer_t *w, uint64_t v, unsigned n)
{
    uint8_t *at = gn_scale_writer_extend(w, n);
    if (!at)
        return w->err;
    gn_le_store(at, v, n);
    return 0;
}

int gn_scale_write_u8(gn_scale_writer_t *w, uint8_t v)
{
    return write_le(w, v, 1);
}
int gn_scale_write_u16(gn_scale_writer_t *w, uint16_t v)
{
    return write_le(w, v, 2);
}
int gn_scale_write_u32(gn_scale_writer_t *w, uint32_t v)
{
    return write_le(w, v, 4);
}
int gn_scale_write_u64(gn_scale_writer_t *w, uint64_t v)
{
    return write_le(w, v, 8);
}
int gn_scale_write_i8(gn_scale_writer_t *w, int8_t v)
{
    return write_le(w, (uint8_t)v, 1);
}
int gn_scale_write_i16(gn_scale_writer_t *w, int16_t v)
{
    return write_le(w, (uint16_t)v, 2);
}
int gn_scale_write_i32(gn_scale_writer_t *w, int32_t v)
{
    return write_le(w, (uint32_t)v, 4);
}
int gn_scale_write_i64(gn_scale_writer_t *w, int64_t v)
{
    return write_le(w, (uint64_t)v, 8);
}

int gn_scale_write_u128(gn_scale_writer_t *w, gn_u128_t v)
{
    uint8_t *at = gn_scale_writer_extend(w, 16);
    if (!at)
        return w->err;
    gn_le_store(at, (uint64_t)v, 8);
    gn_le_store(at + 8, (uint64_t)(v >> 64), 8);
    return 0;
}

int gn_scale_write_i128(gn_scale_writer_t *w, gn_i128_t v)
{
    return gn_scale_write_u128(w, (gn_u128_t)v);
}

int gn_scale_write_bool(gn_scale_writer_t *w, bool v)
{
    return write_le(w, v ? 1 : 0, 1);
}
int gn_scale_write_option(gn_scale_writer_t *w, bool some)
{
    return gn_scale_write_bool(w, some);
}
int gn_scale_write_result(gn_scale_writer_t *w, bool is_err)
{
    return gn_scale_write_bool(w, is_err);
}
int gn_scale_write_variant(gn_scale_writer_t *w, uint8_t index)
{
    return write_le(w, index, 1);
}

int gn_scale_write_option_bool(gn_scale_writer_t *w, int v)
{
    return write_le(w, v < 0 ? 0 : v ? 1 : 2, 1);
}

/* Bytes needed for v in big-integer mode (at least 4). */
static size_t big_mode_bytes(gn_u128_t v)
{
    size_t n = 4;
    while (n < 16 && (v >> (8 * n)) != 0)
        n++;
    return n;
}

size_t gn_scale_compact_len(gn_u128_t v)
{
    if (v < 0x40)
        return 1;
    if (v < 0x4000)
        return 2;
    if (v < 0x40000000)
        return 4;
    return 1 + big_mode_bytes(v);
}

int gn_scale_write_compact(gn_scale_writer_t *w, gn_u128_t v)
{
    if (v < 0x40)
        return write_le(w, (uint64_t)v << 2, 1);
    if (v < 0x4000)
        return write_le(w, (uint64_t)v << 2 | 1, 2);
    if (v < 0x40000000)
        return write_le(w, (uint64_t)v << 2 | 2, 4);
    size_t n = big_mode_bytes(v);
    uint8_t *at = gn_scale_writer_extend(w, 1 + n);
    if (!at)
        return w->err;
    at[0] = (uint8_t)((n - 4) << 2 | 3);
    for (size_t i = 0; i < n; i++)
        at[1 + i] = (uint8_t)(v >> (8 * i));
    return 0;
}

int gn_scale_write_vec_u8(gn_scale_writer_t *w, const uint8_t *p, size_t n)
{
    int rc = gn_scale_write_compact(w, n);
    return rc < 0 ? rc : gn_scale_write_bytes(w, p, n);
}

int gn_scale_write_str(gn_scale_writer_t *w, const char *s, size_t n)
{
    if (!gn_utf8_valid((const uint8_t *)s, n))
        return GN_EUTF8;
    return gn_scale_write_vec_u8(w, (const uint8_t *)s, n);
}

int gn_scale_write_bitvec(gn_scale_writer_t *w, const uint8_t *bytes, size_t nbits)
{
    int rc = gn_scale_write_compact(w, nbits);
    return rc < 0 ? rc : gn_scale_write_bytes(w, bytes, nbits / 8 + (nbits % 8 != 0));
}
