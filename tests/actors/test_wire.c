#include <criterion/criterion.h>
#include <msgpack.h>
#include <string.h>
#include <uv.h>

#include "../../protocol/msgpack_check.h"
#include "ganglion/error.h"
#include "ganglion/wire.h"

static json_t *round_trip(const char *text)
{
    json_t *j = json_loads(text, JSON_DECODE_ANY, NULL);
    cr_assert_not_null(j, "%s", text);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    cr_assert_eq(gn_wire_from_json(j, &buf, &len, &cap), 0);
    json_t *back = NULL;
    cr_assert_eq(gn_wire_to_json(buf, len, &back), 0, "%s", text);
    cr_assert(json_equal(j, back), "%s", text);
    free(buf);
    json_decref(j);
    return back;
}

Test(wire, json_round_trips)
{
    const char *cases[] = {
        "null",
        "true",
        "false",
        "0",
        "-1",
        "9223372036854775807",
        "-9223372036854775808",
        "1.5",
        "\"\"",
        "\"h\\u00e9llo\"",
        "[]",
        "{}",
        "[1, [2, [3, {\"a\": null}]]]",
        "{\"name\": \"Dummy\", \"dummy_input\": 3, \"timeout\": 12.0, \"ok\": true}",
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        json_decref(round_trip(cases[i]));
}

Test(wire, msgpack_specifics)
{
    json_t *j;
    /* bin 8 of 2 bytes → hex string */
    const uint8_t bin[] = {0xc4, 0x02, 0xab, 0xcd};
    cr_assert_eq(gn_wire_to_json(bin, sizeof(bin), &j), 0);
    cr_assert_str_eq(json_string_value(j), "0xabcd");
    json_decref(j);
    /* uint64 max → decimal string */
    const uint8_t big[] = {0xcf, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    cr_assert_eq(gn_wire_to_json(big, sizeof(big), &j), 0);
    cr_assert_str_eq(json_string_value(j), "18446744073709551615");
    json_decref(j);
    /* {1: 2} → {"1": 2} */
    const uint8_t intkey[] = {0x81, 0x01, 0x02};
    cr_assert_eq(gn_wire_to_json(intkey, sizeof(intkey), &j), 0);
    cr_assert_eq(json_integer_value(json_object_get(j, "1")), 2);
    json_decref(j);
}

Test(wire, bad_input_is_refused)
{
    json_t *j = NULL;
    const uint8_t trunc[] = {0x92, 0x01};
    cr_assert_eq(gn_wire_to_json(trunc, sizeof(trunc), &j), GN_ETRUNC);
    const uint8_t trailing[] = {0x01, 0x02};
    cr_assert_eq(gn_wire_to_json(trailing, sizeof(trailing), &j), GN_ETRAILING);
    const uint8_t ext[] = {0xd4, 0x01, 0x00};
    cr_assert_eq(gn_wire_to_json(ext, sizeof(ext), &j), GN_EUNSUPPORTED);
    const uint8_t badutf8[] = {0xa1, 0xff};
    cr_assert_eq(gn_wire_to_json(badutf8, sizeof(badutf8), &j), GN_EUTF8);
    const uint8_t nulkey[] = {0x81, 0xa2, 'a', 0x00, 0x01};
    cr_assert_eq(gn_wire_to_json(nulkey, sizeof(nulkey), &j), GN_EINVAL);
    const uint8_t reserved[] = {0xc1};
    cr_assert_eq(gn_wire_to_json(reserved, sizeof(reserved), &j), GN_EINVAL);
    /* nesting beyond the limit */
    uint8_t deep[200];
    memset(deep, 0x91, sizeof(deep) - 1);
    deep[sizeof(deep) - 1] = 0xc0;
    cr_assert_lt(gn_wire_to_json(deep, sizeof(deep), &j), 0);
    cr_assert_null(j, "nothing returned on error");
    /* and nothing deeper than can be read back is written */
    json_t *nest = json_array();
    for (int i = 0; i < 40; i++)
        nest = json_pack("[o]", nest);
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    cr_assert_eq(gn_wire_from_json(nest, &buf, &len, &cap), GN_ERANGE);
    json_decref(nest);
    free(buf);
}

Test(wire, frames_on_a_stream)
{
    uint8_t *buf = NULL;
    size_t len = 0, cap = 0;
    json_t *a = json_pack("{s:s}", "synapse", "Dummy"), *b = json_pack("[i,i]", 1, 2);
    cr_assert_eq(gn_wire_frame(a, &buf, &len, &cap), 0);
    cr_assert_eq(gn_wire_frame(b, &buf, &len, &cap), 0);
    const uint8_t *payload;
    size_t plen, flen;
    /* every prefix short of the first frame is incomplete */
    size_t first = 0;
    cr_assert_eq(gn_wire_frame_peek(buf, len, 1 << 20, &payload, &plen, &first), 0);
    for (size_t n = 0; n < first; n++)
        cr_assert_eq(gn_wire_frame_peek(buf, n, 1 << 20, &payload, &plen, &flen), GN_ETRUNC);
    json_t *got;
    cr_assert_eq(gn_wire_to_json(payload, plen, &got), 0);
    cr_assert(json_equal(got, a));
    json_decref(got);
    cr_assert_eq(gn_wire_frame_peek(buf + first, len - first, 1 << 20, &payload, &plen, &flen), 0);
    cr_assert_eq(first + flen, len);
    cr_assert_eq(gn_wire_frame_peek(buf, len, 4, &payload, &plen, &flen), GN_ERANGE,
                 "a frame over the limit is refused before reading it");
    json_decref(a), json_decref(b);
    free(buf);
}

/* Frames from workers announce container sizes msgpack-c would allocate
 * before reading a single element: such frames are refused by the pre-walk,
 * at once, whatever they announce. */
Test(wire, huge_announced_containers_are_refused_quickly)
{
    static const struct {
        uint8_t b[9];
        size_t n;
    } cases[] = {
        {{0xdd, 0xff, 0xff, 0xff, 0xff}, 5},             /* array of 2^32 - 1 */
        {{0xdf, 0xff, 0xff, 0xff, 0xff}, 5},             /* map of 2^32 - 1 pairs */
        {{0xdd, 0x80, 0x00, 0x00, 0x00}, 5},             /* array of 2^31 */
        {{0xdc, 0xff, 0xff}, 3},                         /* array 16 of 65535 */
        {{0x91, 0x91, 0xdf, 0xff, 0xff, 0xff, 0xff}, 7}, /* nested */
        {{0x82, 0xa1, 'a', 0xdd, 0x00, 0x10, 0x00, 0x00}, 8},
    };
    uint64_t t0 = uv_hrtime();
    for (int round = 0; round < 200; round++)
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
            json_t *j = json_null(); /* not NULL: an error must clear it */
            cr_assert_eq(gn_wire_to_json(cases[i].b, cases[i].n, &j), GN_ETRUNC, "case %zu", i);
            cr_assert_null(j);
            cr_assert_eq(gn_msgpack_check(cases[i].b, cases[i].n, GN_WIRE_MAX_DEPTH), GN_ETRUNC);
        }
    /* 1,048,576 elements announced, 4,096 there: still refused */
    size_t n = 5 + 4096;
    uint8_t *b = malloc(n);
    cr_assert_not_null(b);
    memset(b, 0xc0, n);
    memcpy(b, (const uint8_t[]){0xdd, 0x00, 0x10, 0x00, 0x00}, 5);
    json_t *j = NULL;
    cr_assert_eq(gn_wire_to_json(b, n, &j), GN_ETRUNC);
    /* ... and accepted once the count is what is there */
    memcpy(b, (const uint8_t[]){0xdd, 0x00, 0x00, 0x10, 0x00}, 5);
    cr_assert_eq(gn_wire_to_json(b, n, &j), 0);
    cr_assert_eq(json_array_size(j), 4096);
    json_decref(j);
    free(b);
    double ms = (double)(uv_hrtime() - t0) / 1e6;
    cr_assert_lt(ms, 2000.0, "1,200 refusals took %.0f ms", ms);
    /* a frame carrying one: its payload is refused the same way */
    const uint8_t frame[] = {0x00, 0x00, 0x00, 0x05, 0xdd, 0xff, 0xff, 0xff, 0xff};
    const uint8_t *payload;
    size_t plen, flen;
    cr_assert_eq(gn_wire_frame_peek(frame, sizeof(frame), 1 << 20, &payload, &plen, &flen), 0);
    cr_assert_eq(gn_wire_to_json(payload, plen, &j), GN_ETRUNC);
}

/* msgpack nested n deep: n one-element arrays around a nil. */
static uint8_t *nested(size_t n, size_t *len)
{
    uint8_t *b = malloc(n + 1);
    cr_assert_not_null(b);
    memset(b, 0x91, n);
    b[n] = 0xc0;
    *len = n + 1;
    return b;
}

Test(wire, nesting_is_bounded)
{
    size_t len;
    json_t *j = NULL;
    /* GN_WIRE_MAX_DEPTH levels below the top: read, and written back */
    uint8_t *b = nested(GN_WIRE_MAX_DEPTH, &len);
    cr_assert_eq(gn_wire_to_json(b, len, &j), 0);
    uint8_t *out = NULL;
    size_t olen = 0, cap = 0;
    cr_assert_eq(gn_wire_from_json(j, &out, &olen, &cap), 0);
    cr_assert_eq(olen, len);
    cr_assert_eq(memcmp(out, b, len), 0);
    json_decref(j);
    free(out);
    free(b);
    /* one more: refused, as is far more */
    size_t depths[] = {GN_WIRE_MAX_DEPTH + 1, 200, 100000};
    for (size_t i = 0; i < 3; i++) {
        b = nested(depths[i], &len);
        j = NULL;
        cr_assert_eq(gn_wire_to_json(b, len, &j), GN_ERANGE, "depth %zu", depths[i]);
        cr_assert_null(j);
        free(b);
    }
    /* a deep map too: {"a": {"a": ...}} */
    uint8_t m[3 * 40 + 1];
    for (int i = 0; i < 40; i++)
        memcpy(m + 3 * i, (const uint8_t[]){0x81, 0xa1, 'a'}, 3);
    m[120] = 0x01;
    cr_assert_eq(gn_wire_to_json(m, sizeof(m), &j), GN_ERANGE);
    cr_assert_eq(gn_wire_to_json(m + 3 * (40 - GN_WIRE_MAX_DEPTH), 3 * GN_WIRE_MAX_DEPTH + 1, &j),
                 0);
    json_decref(j);
}

static size_t count_objects(const msgpack_object *o)
{
    size_t n = 1;
    if (o->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < o->via.array.size; i++)
            n += count_objects(&o->via.array.ptr[i]);
    else if (o->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < o->via.map.size; i++)
            n += count_objects(&o->via.map.ptr[i].key) + count_objects(&o->via.map.ptr[i].val);
    return n;
}

static size_t depth_of(const msgpack_object *o)
{
    size_t d = 0;
    if (o->type == MSGPACK_OBJECT_ARRAY)
        for (uint32_t i = 0; i < o->via.array.size; i++) {
            size_t x = 1 + depth_of(&o->via.array.ptr[i]);
            d = x > d ? x : d;
        }
    else if (o->type == MSGPACK_OBJECT_MAP)
        for (uint32_t i = 0; i < o->via.map.size; i++) {
            size_t k = 1 + depth_of(&o->via.map.ptr[i].key);
            size_t v = 1 + depth_of(&o->via.map.ptr[i].val);
            d = k > d ? k : d;
            d = v > d ? v : d;
        }
    return d;
}

/* The walk against msgpack-c itself on random short inputs (32-bit length
 * markers left out, so msgpack-c's own allocations stay small): the walk
 * accepts exactly what msgpack-c reads whole within the depth, and what it
 * accepts never holds more objects than bytes. */
Test(wire, the_walk_agrees_with_msgpack_c)
{
    static const uint8_t big[] = {0xc6, 0xc9, 0xdb, 0xdd, 0xdf};
    uint64_t x = 0x9e3779b97f4a7c15ull;
    size_t accepted = 0;
    for (int round = 0; round < 40000; round++) {
        uint8_t b[24];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = 1 + (size_t)(x % sizeof(b));
        for (size_t i = 0; i < len; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            b[i] = (uint8_t)(x >> 24);
            /* containers and small values most of the time */
            if ((x & 3) == 0)
                b[i] = (uint8_t)(0x90 | (b[i] & 3));
            else if ((x & 3) == 1)
                b[i] = (uint8_t)(0x80 | (b[i] & 1));
            for (size_t k = 0; k < sizeof(big); k++)
                if (b[i] == big[k])
                    b[i] = 0xc0;
        }
        unsigned max_depth = (unsigned)(x >> 40) % 6;
        int rc = gn_msgpack_check(b, len, max_depth);
        msgpack_zone zone;
        cr_assert(msgpack_zone_init(&zone, 256));
        msgpack_object o;
        size_t off = 0;
        msgpack_unpack_return r = msgpack_unpack((const char *)b, len, &off, &zone, &o);
        bool whole = r == MSGPACK_UNPACK_SUCCESS && off == len;
        if (r == MSGPACK_UNPACK_EXTRA_BYTES || (r == MSGPACK_UNPACK_SUCCESS && off < len))
            cr_assert_eq(rc, depth_of(&o) > max_depth ? GN_ERANGE : GN_ETRAILING, "round %d",
                         round);
        else if (whole && depth_of(&o) <= max_depth) {
            cr_assert_eq(rc, 0, "round %d: msgpack-c read it, the walk said %d", round, rc);
            cr_assert_leq(count_objects(&o), len);
            accepted++;
        } else
            cr_assert_lt(rc, 0, "round %d: the walk took what msgpack-c refused", round);
        msgpack_zone_destroy(&zone);
    }
    cr_assert_gt(accepted, 1000, "the inputs exercised acceptance (%zu)", accepted);
}
