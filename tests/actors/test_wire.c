#include <criterion/criterion.h>
#include <string.h>

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
