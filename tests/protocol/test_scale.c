#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/scale.h"
#include "support/typed_scale.h"
#include "support/vectors.h"

/* Decode the whole buffer as `type`; returns the first error. */
static int decode_all(const ts_type_t *t, const uint8_t *p, size_t n, json_t **out)
{
    gn_scale_reader_t r;
    gn_scale_reader_init(&r, p, n);
    int rc = ts_decode(t, &r, out);
    if (rc == 0 && (rc = gn_scale_reader_finish(&r)) < 0) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

static char *encode_hex(const ts_type_t *t, const json_t *v, int *rc)
{
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    *rc = ts_encode(t, v, &w);
    char *hex = *rc == 0 ? gn_test_hex(w.buf, w.len) : NULL;
    gn_scale_writer_free(&w);
    return hex;
}

static ts_type_t *parse_or_fail(const char *type)
{
    char err[256] = "";
    ts_type_t *t = ts_parse(type, err, sizeof(err));
    cr_assert_not_null(t, "type %s: %s", type, err);
    return t;
}

Test(scale_vectors, every_valid_case)
{
    json_t *root = gn_test_load_shared_json("vectors/scale.json");
    json_t *vecs = json_object_get(root, "vectors");
    size_t i, count = 0;
    json_t *v;
    cr_assert(json_array_size(vecs) > 0, "scale.json has no vectors");
    json_array_foreach (vecs, i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        const char *hex = json_string_value(json_object_get(v, "hex"));
        ts_type_t *t = parse_or_fail(type);
        size_t n;
        uint8_t *bytes = gn_test_unhex(hex, &n);

        json_t *got = NULL;
        int rc = decode_all(t, bytes, n, &got);
        cr_assert_eq(rc, 0, "#%zu %s %s: decode failed: %s", i, type, hex, gn_strerror(rc));
        json_t *want = json_object_get(v, "decoded");
        char *gs = json_dumps(got, JSON_ENCODE_ANY), *ws = json_dumps(want, JSON_ENCODE_ANY);
        cr_assert(json_equal(got, want), "#%zu %s: decoded %s, want %s", i, type, gs, ws);
        free(gs);
        free(ws);

        /* encode both the oracle's input and its decoded form */
        const char *forms[] = {"decoded", "input"};
        for (int f = 0; f < 2; f++) {
            char *enc = encode_hex(t, json_object_get(v, forms[f]), &rc);
            cr_assert_eq(rc, 0, "#%zu %s: encode(%s) failed: %s", i, type, forms[f],
                         gn_strerror(rc));
            cr_assert_str_eq(enc, hex, "#%zu %s: encode(%s)", i, type, forms[f]);
            free(enc);
        }
        json_decref(got);
        free(bytes);
        ts_free(t);
        count++;
    }
    cr_assert_eq(count, json_array_size(vecs));
    cr_log_info("scale.json: %zu valid cases decoded and re-encoded", count);
    json_decref(root);
}

/* The error class each invalid case's "why" names. */
static int expected_error(const char *why)
{
    if (strstr(why, "enum index") || strstr(why, "tag must") || strstr(why, "bool must"))
        return GN_EBADTAG;
    if (strstr(why, "non-canonical"))
        return GN_ENONCANON;
    if (strstr(why, "trailing"))
        return GN_ETRAILING;
    if (strstr(why, "truncated"))
        return GN_ETRUNC;
    if (strstr(why, "out of range"))
        return GN_ERANGE;
    if (strstr(why, "UTF-8"))
        return GN_EUTF8;
    return 1; /* unknown class: fails below */
}

Test(scale_vectors, every_invalid_case)
{
    json_t *root = gn_test_load_shared_json("vectors/scale.json");
    json_t *bad = json_object_get(root, "invalid");
    size_t i;
    json_t *v;
    cr_assert(json_array_size(bad) > 0, "scale.json has no invalid cases");
    json_array_foreach (bad, i, v) {
        const char *type = json_string_value(json_object_get(v, "type"));
        const char *hex = json_string_value(json_object_get(v, "hex"));
        const char *why = json_string_value(json_object_get(v, "why"));
        cr_assert_str_eq(json_string_value(json_object_get(v, "expect")), "error");
        ts_type_t *t = parse_or_fail(type);
        size_t n;
        uint8_t *bytes = gn_test_unhex(hex, &n);
        json_t *got = NULL;
        int rc = decode_all(t, bytes, n, &got);
        cr_assert_eq(rc, expected_error(why), "#%zu %s %s (%s): got %s", i, type, hex, why,
                     gn_errname(rc));
        free(bytes);
        ts_free(t);
    }
    cr_log_info("scale.json: %zu invalid cases rejected", json_array_size(bad));
    json_decref(root);
}

/* ---- primitives -------------------------------------------------------- */

static int compact_hex(gn_u128_t v, char *out, size_t cap)
{
    uint8_t buf[17];
    gn_scale_writer_t w;
    gn_scale_writer_init_fixed(&w, buf, sizeof(buf));
    int rc = gn_scale_write_compact(&w, v);
    if (rc == 0) {
        char *h = gn_test_hex(buf, w.len);
        snprintf(out, cap, "%s", h);
        free(h);
        cr_assert_eq(w.len, gn_scale_compact_len(v));
    }
    return rc;
}

Test(scale, compact_mode_boundaries)
{
    static const struct {
        uint64_t v;
        const char *hex;
    } cases[] = {
        {0, "0x00"},
        {63, "0xfc"},
        {64, "0x0101"},
        {16383, "0xfdff"},
        {16384, "0x02000100"},
        {(1u << 30) - 1, "0xfeffffff"},
        {1u << 30, "0x0300000040"},
        {UINT64_MAX, "0x13ffffffffffffffff"},
    };
    char hex[64];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        cr_assert_eq(compact_hex(cases[i].v, hex, sizeof(hex)), 0);
        cr_assert_str_eq(hex, cases[i].hex);
    }
    cr_assert_eq(compact_hex(GN_U128_MAX, hex, sizeof(hex)), 0);
    cr_assert_str_eq(hex, "0x33ffffffffffffffffffffffffffffffff");
}

static int read_compact_hex(const char *hex, unsigned bits, gn_u128_t *v, size_t *pos)
{
    size_t n;
    uint8_t *b = gn_test_unhex(hex, &n);
    gn_scale_reader_t r;
    gn_scale_reader_init(&r, b, n);
    int rc = gn_scale_read_compact(&r, bits, v);
    *pos = r.pos;
    free(b);
    return rc;
}

Test(scale, compact_rejects_non_canonical_and_out_of_range)
{
    gn_u128_t v;
    size_t pos;
    cr_assert_eq(read_compact_hex("0x0100", 32, &v, &pos), GN_ENONCANON);
    cr_assert_eq(pos, 0, "a failed read must not move the reader");
    cr_assert_eq(read_compact_hex("0xfd00", 32, &v, &pos), GN_ENONCANON); /* 63 in mode 1 */
    cr_assert_eq(read_compact_hex("0xfeff0000", 32, &v, &pos), GN_ENONCANON);
    cr_assert_eq(read_compact_hex("0x03ffffff3f", 32, &v, &pos), GN_ENONCANON);
    cr_assert_eq(read_compact_hex("0x070000000001", 64, &v, &pos), 0);
    cr_assert_eq(read_compact_hex("0x07ffffffff00", 64, &v, &pos), GN_ENONCANON);
    cr_assert_eq(read_compact_hex("0x0300000000", 64, &v, &pos), GN_ENONCANON);
    cr_assert_eq(read_compact_hex("0x0104", 8, &v, &pos), GN_ERANGE);
    cr_assert_eq(read_compact_hex("0x070000000001", 32, &v, &pos), GN_ERANGE);
    /* 17 value bytes is more than u128 */
    cr_assert_eq(read_compact_hex("0x370000000000000000000000000000000001", 128, &v, &pos),
                 GN_ERANGE);
    cr_assert_eq(read_compact_hex("0x0b0000000001", 64, &v, &pos), GN_ETRUNC);
    cr_assert_eq(read_compact_hex("0x", 64, &v, &pos), GN_ETRUNC);
    cr_assert_eq(read_compact_hex("0x01", 64, &v, &pos), GN_ETRUNC);
    cr_assert_eq(read_compact_hex("0x020000", 64, &v, &pos), GN_ETRUNC);
    cr_assert_eq(read_compact_hex("0x00", 12, &v, &pos), GN_EINVAL);
}

Test(scale, length_prefix_checked_before_allocation)
{
    /* Compact(2^30) items claimed by a 5-byte buffer */
    const uint8_t huge[] = {0x03, 0x00, 0x00, 0x00, 0x40, 0xaa};
    gn_scale_reader_t r;
    size_t n = 12345;
    gn_scale_reader_init(&r, huge, sizeof(huge));
    cr_assert_eq(gn_scale_read_len(&r, 1, &n), GN_ETRUNC);
    cr_assert_eq(r.pos, 0);
    cr_assert_eq(n, 12345, "nothing written on error");
    /* 2 items of 8 bytes need 16 bytes, only 15 remain */
    uint8_t b[16] = {0x08};
    gn_scale_reader_init(&r, b, 16);
    cr_assert_eq(gn_scale_read_len(&r, 8, &n), GN_ETRUNC);
    gn_scale_reader_init(&r, b, 16);
    cr_assert_eq(gn_scale_read_len(&r, 7, &n), 0);
    cr_assert_eq(n, 2);
    /* a length over u32 is out of range */
    const uint8_t big[] = {0x07, 0, 0, 0, 0, 1};
    gn_scale_reader_init(&r, big, sizeof(big));
    cr_assert_eq(gn_scale_read_len(&r, 1, &n), GN_ERANGE);
    /* zero-size items count as one byte each */
    const uint8_t zst[] = {0x0c, 0, 0};
    gn_scale_reader_init(&r, zst, sizeof(zst));
    cr_assert_eq(gn_scale_read_len(&r, 0, &n), GN_ETRUNC);
}

Test(scale, str_requires_utf8_and_views_input)
{
    const uint8_t ok[] = {0x08, 'o', 'k'};
    const uint8_t bad[] = {0x08, 0xc3, 0x28};
    gn_scale_reader_t r;
    const char *s;
    size_t n;
    gn_scale_reader_init(&r, ok, sizeof(ok));
    cr_assert_eq(gn_scale_read_str(&r, &s, &n), 0);
    cr_assert_eq(n, 2);
    cr_assert_eq((const uint8_t *)s, ok + 1, "str is a view into the input");
    gn_scale_reader_init(&r, bad, sizeof(bad));
    cr_assert_eq(gn_scale_read_str(&r, &s, &n), GN_EUTF8);
    cr_assert_eq(r.pos, 0);
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    cr_assert_eq(gn_scale_write_str(&w, (const char *)bad + 1, 2), GN_EUTF8);
    cr_assert_eq(w.len, 0, "nothing written for invalid UTF-8");
    gn_scale_writer_free(&w);
}

Test(scale, tags_and_variants)
{
    const uint8_t b[] = {0x02};
    gn_scale_reader_t r;
    bool flag;
    int ob;
    uint8_t idx;
    gn_scale_reader_init(&r, b, 1);
    cr_assert_eq(gn_scale_read_bool(&r, &flag), GN_EBADTAG);
    cr_assert_eq(gn_scale_read_option(&r, &flag), GN_EBADTAG);
    cr_assert_eq(gn_scale_read_result(&r, &flag), GN_EBADTAG);
    cr_assert_eq(gn_scale_read_variant(&r, 2, &idx), GN_EBADTAG);
    cr_assert_eq(gn_scale_read_variant(&r, 3, &idx), 0);
    cr_assert_eq(idx, 2);
    gn_scale_reader_init(&r, b, 1);
    cr_assert_eq(gn_scale_read_option_bool(&r, &ob), 0);
    cr_assert_eq(ob, 0, "0x02 is Some(false)");
    const uint8_t three[] = {0x03};
    gn_scale_reader_init(&r, three, 1);
    cr_assert_eq(gn_scale_read_option_bool(&r, &ob), GN_EBADTAG);
    gn_scale_reader_init(&r, b, 0);
    cr_assert_eq(gn_scale_read_bool(&r, &flag), GN_ETRUNC);
}

Test(scale, fixed_writer_overflow_is_sticky)
{
    uint8_t buf[3];
    gn_scale_writer_t w;
    gn_scale_writer_init_fixed(&w, buf, sizeof(buf));
    cr_assert_eq(gn_scale_write_u16(&w, 0x0102), 0);
    cr_assert_eq(gn_scale_write_u16(&w, 0x0304), GN_ENOSPC);
    cr_assert_eq(gn_scale_write_u8(&w, 5), GN_ENOSPC, "error is sticky");
    cr_assert_eq(gn_scale_writer_error(&w), GN_ENOSPC);
    cr_assert_eq(w.len, 2);
    gn_scale_writer_reset(&w);
    cr_assert_eq(gn_scale_write_u8(&w, 5), 0);
}

static size_t alloc_calls;
static void *counting_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    alloc_calls++;
    if (n == 0) {
        free(p);
        return NULL;
    }
    return realloc(p, n);
}

Test(scale, writer_allocates_through_caller)
{
    gn_allocator_t a = {counting_realloc, NULL};
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, &a);
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(gn_scale_write_u64(&w, (uint64_t)i), 0);
    cr_assert_eq(w.len, 8000);
    size_t grows = alloc_calls;
    cr_assert(grows > 0 && grows < 20, "geometric growth, got %zu calls", grows);
    gn_scale_writer_free(&w);
    cr_assert_eq(alloc_calls, grows + 1, "free goes through the allocator");
}

/* ---- properties ------------------------------------------------------ */

/* A value biased to the edges: 0, 1, powers of two +-1, all-ones, random. */
static gn_u128_t edge_value(uint64_t *st, unsigned bits)
{
    gn_u128_t x;
    switch (gn_test_rand(st) % 5) {
    case 0: x = gn_test_rand(st) % 3; break;
    case 1:
        x = (gn_u128_t)1 << (gn_test_rand(st) % bits);
        x += (gn_u128_t)(gn_test_rand(st) % 3) - 1;
        break;
    case 2: x = GN_U128_MAX; break;
    default:
        x = (gn_u128_t)gn_test_rand(st) << 64 | gn_test_rand(st);
        x >>= gn_test_rand(st) % bits;
    }
    return bits == 128 ? x : x & (((gn_u128_t)1 << bits) - 1);
}

Test(scale_props, integers_and_compacts_round_trip)
{
    uint64_t seed = gn_test_seed(), st = seed;
    static const unsigned widths[] = {8, 16, 32, 64, 128};
    for (int iter = 0; iter < 20000; iter++) {
        unsigned bits = widths[gn_test_rand(&st) % 5];
        gn_u128_t v = edge_value(&st, bits);
        uint8_t buf[16 + 17]; /* widest fixed int + widest compact */
        gn_scale_writer_t w;
        gn_scale_writer_init_fixed(&w, buf, sizeof(buf));
        switch (bits) {
        case 8:
            gn_scale_write_u8(&w, (uint8_t)v);
            gn_scale_write_i8(&w, (int8_t)v);
            break;
        case 16:
            gn_scale_write_u16(&w, (uint16_t)v);
            gn_scale_write_i16(&w, (int16_t)v);
            break;
        case 32:
            gn_scale_write_u32(&w, (uint32_t)v);
            gn_scale_write_i32(&w, (int32_t)v);
            break;
        case 64:
            gn_scale_write_u64(&w, (uint64_t)v);
            gn_scale_write_i64(&w, (int64_t)v);
            break;
        default: gn_scale_write_u128(&w, v); break;
        }
        gn_scale_write_compact(&w, v);
        cr_assert_eq(gn_scale_writer_error(&w), 0);
        cr_assert_eq(w.len, (bits / 8) * (bits == 128 ? 1 : 2) + gn_scale_compact_len(v));

        gn_scale_reader_t r;
        gn_scale_reader_init(&r, buf, w.len);
        gn_u128_t back = 0, c = 0;
        int ok = 0;
        switch (bits) {
        case 8: {
            uint8_t a;
            int8_t b;
            ok = !gn_scale_read_u8(&r, &a) && !gn_scale_read_i8(&r, &b) && (uint8_t)b == a;
            back = a;
            break;
        }
        case 16: {
            uint16_t a;
            int16_t b;
            ok = !gn_scale_read_u16(&r, &a) && !gn_scale_read_i16(&r, &b) && (uint16_t)b == a;
            back = a;
            break;
        }
        case 32: {
            uint32_t a;
            int32_t b;
            ok = !gn_scale_read_u32(&r, &a) && !gn_scale_read_i32(&r, &b) && (uint32_t)b == a;
            back = a;
            break;
        }
        case 64: {
            uint64_t a;
            int64_t b;
            ok = !gn_scale_read_u64(&r, &a) && !gn_scale_read_i64(&r, &b) && (uint64_t)b == a;
            back = a;
            break;
        }
        default: ok = !gn_scale_read_u128(&r, &back); break;
        }
        cr_assert(ok, "seed %#llx iter %d: fixed-width read", (unsigned long long)seed, iter);
        cr_assert(back == v, "seed %#llx iter %d: value changed", (unsigned long long)seed, iter);
        cr_assert_eq(gn_scale_read_compact(&r, bits, &c), 0);
        cr_assert(c == v, "seed %#llx iter %d: compact changed", (unsigned long long)seed, iter);
        cr_assert_eq(gn_scale_reader_finish(&r), 0);
    }
}

/* Random valid UTF-8: code points from every encoding length, no surrogates. */
static size_t random_utf8(uint64_t *st, uint8_t *out, size_t max_chars)
{
    size_t n = 0, chars = gn_test_rand(st) % (max_chars + 1);
    for (size_t i = 0; i < chars; i++) {
        static const uint32_t top[] = {0x80, 0x800, 0x10000, 0x110000};
        uint32_t cp = (uint32_t)(gn_test_rand(st) % top[gn_test_rand(st) % 4]);
        if (cp >= 0xd800 && cp < 0xe000)
            cp = 0xfffd;
        if (cp < 0x80) {
            out[n++] = (uint8_t)cp;
        } else if (cp < 0x800) {
            out[n++] = (uint8_t)(0xc0 | cp >> 6);
            out[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else if (cp < 0x10000) {
            out[n++] = (uint8_t)(0xe0 | cp >> 12);
            out[n++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            out[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        } else {
            out[n++] = (uint8_t)(0xf0 | cp >> 18);
            out[n++] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
            out[n++] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
            out[n++] = (uint8_t)(0x80 | (cp & 0x3f));
        }
    }
    return n;
}

Test(scale_props, containers_round_trip)
{
    uint64_t seed = gn_test_seed() ^ 0x5ca1e, st = seed;
    uint8_t bytes[400], text[400];
    for (int iter = 0; iter < 5000; iter++) {
        size_t nb = gn_test_rand(&st) % 300;
        for (size_t i = 0; i < nb; i++)
            bytes[i] = (uint8_t)gn_test_rand(&st);
        size_t nt = random_utf8(&st, text, 90);
        size_t nbits = gn_test_rand(&st) % (8 * 40);
        bool some = gn_test_rand(&st) & 1, is_err = gn_test_rand(&st) & 1;
        int ob = (int)(gn_test_rand(&st) % 3) - 1;
        uint8_t variant = (uint8_t)gn_test_rand(&st);

        gn_scale_writer_t w;
        gn_scale_writer_init(&w, NULL);
        gn_scale_write_vec_u8(&w, bytes, nb);
        cr_assert_eq(gn_scale_write_str(&w, (const char *)text, nt), 0,
                     "seed %#llx: generated text is valid UTF-8", (unsigned long long)seed);
        gn_scale_write_bitvec(&w, bytes, nbits);
        gn_scale_write_option(&w, some);
        gn_scale_write_result(&w, is_err);
        gn_scale_write_option_bool(&w, ob);
        gn_scale_write_variant(&w, variant);
        gn_scale_write_bool(&w, some);
        cr_assert_eq(gn_scale_writer_error(&w), 0);

        gn_scale_reader_t r;
        gn_scale_reader_init(&r, w.buf, w.len);
        const uint8_t *pb, *pbits;
        const char *ps;
        size_t n1, n2, n3;
        bool s2, e2, b2;
        int ob2;
        uint8_t v2;
        cr_assert_eq(gn_scale_read_vec_u8(&r, &pb, &n1), 0);
        cr_assert(n1 == nb && memcmp(pb, bytes, nb) == 0);
        cr_assert_eq(gn_scale_read_str(&r, &ps, &n2), 0);
        cr_assert(n2 == nt && memcmp(ps, text, nt) == 0);
        cr_assert_eq(gn_scale_read_bitvec(&r, &pbits, &n3), 0);
        cr_assert(n3 == nbits && memcmp(pbits, bytes, (nbits + 7) / 8) == 0);
        cr_assert_eq(gn_scale_read_option(&r, &s2), 0);
        cr_assert_eq(gn_scale_read_result(&r, &e2), 0);
        cr_assert_eq(gn_scale_read_option_bool(&r, &ob2), 0);
        cr_assert_eq(gn_scale_read_variant(&r, 256, &v2), 0);
        cr_assert_eq(gn_scale_read_bool(&r, &b2), 0);
        cr_assert(s2 == some && e2 == is_err && ob2 == ob && v2 == variant && b2 == some,
                  "seed %#llx iter %d", (unsigned long long)seed, iter);
        cr_assert_eq(gn_scale_reader_finish(&r), 0);
        gn_scale_writer_free(&w);
    }
}

/* Random bytes through every reader: no crash, no read past the end (ASan),
 * and every read either succeeds inside the buffer or leaves the position
 * alone. Exact-size heap buffers so ASan sees any overread. */
Test(scale_props, random_bytes_never_crash)
{
    uint64_t seed = gn_test_seed() ^ 0xf022, st = seed;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = gn_test_rand(&st) % 48;
        uint8_t *buf = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)gn_test_rand(&st);
        gn_scale_reader_t r;
        gn_scale_reader_init(&r, buf, n);
        while (gn_scale_remaining(&r) > 0) {
            size_t before = r.pos, len;
            gn_u128_t u;
            const uint8_t *p;
            const char *s;
            bool b;
            int rc;
            switch (gn_test_rand(&st) % 8) {
            case 0: rc = gn_scale_read_compact(&r, 128, &u); break;
            case 1: rc = gn_scale_read_vec_u8(&r, &p, &len); break;
            case 2: rc = gn_scale_read_str(&r, &s, &len); break;
            case 3: rc = gn_scale_read_bitvec(&r, &p, &len); break;
            case 4: rc = gn_scale_read_u128(&r, &u); break;
            case 5: rc = gn_scale_read_bool(&r, &b); break;
            case 6: rc = gn_scale_read_len(&r, 4, &len); break;
            default: rc = gn_scale_read_compact(&r, 16, &u); break;
            }
            cr_assert(r.pos <= r.len);
            if (rc < 0) {
                cr_assert_eq(r.pos, before, "seed %#llx: failed read moved",
                             (unsigned long long)seed);
                break;
            }
        }
        free(buf);
    }
}

/* Random bytes decoded as each of the vector file's composite types. */
Test(scale_props, random_bytes_as_vector_types)
{
    json_t *root = gn_test_load_shared_json("vectors/scale.json");
    json_t *vecs = json_object_get(root, "vectors");
    size_t ntypes = json_array_size(vecs);
    cr_assert(ntypes > 0);
    ts_type_t **types = calloc(ntypes, sizeof(*types));
    for (size_t i = 0; i < ntypes; i++)
        types[i] =
            parse_or_fail(json_string_value(json_object_get(json_array_get(vecs, i), "type")));
    uint64_t st = gn_test_seed() ^ 0x7e5;
    size_t decoded_ok = 0;
    for (int iter = 0; iter < 20000; iter++) {
        size_t n = gn_test_rand(&st) % 48;
        uint8_t *buf = malloc(n ? n : 1);
        for (size_t i = 0; i < n; i++)
            buf[i] = (uint8_t)gn_test_rand(&st);
        json_t *out = NULL;
        if (decode_all(types[gn_test_rand(&st) % ntypes], buf, n, &out) == 0) {
            decoded_ok++;
            json_decref(out);
        }
        free(buf);
    }
    cr_log_info("random bytes: %zu of 20000 decoded as some vector type", decoded_ok);
    cr_assert(decoded_ok > 0, "the generator never produced a decodable input");
    for (size_t i = 0; i < ntypes; i++)
        ts_free(types[i]);
    free(types);
    json_decref(root);
}
