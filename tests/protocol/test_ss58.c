#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/base58.h"
#include "ganglion/error.h"
#include "ganglion/ss58.h"
#include "support/vectors.h"

Test(ss58_vectors, round_trips)
{
    json_t *root = gn_test_load_shared_json("vectors/ss58.json");
    json_t *rt = json_object_get(root, "roundTrips"), *v;
    size_t i;
    cr_assert(json_array_size(rt) > 0, "ss58.json has no round trips");
    json_array_foreach (rt, i, v) {
        size_t n;
        uint8_t *pk = gn_test_unhex(json_string_value(json_object_get(v, "publicKey")), &n);
        uint16_t fmt = (uint16_t)json_integer_value(json_object_get(v, "format"));
        const char *want = json_string_value(json_object_get(v, "address"));
        char addr[GN_SS58_ADDR_MAX];
        cr_assert_eq(gn_ss58_encode(pk, n, fmt, addr, sizeof(addr)), 0);
        cr_assert_str_eq(addr, want, "format %u", fmt);

        uint8_t back[33];
        size_t bn;
        uint16_t bf;
        cr_assert_eq(gn_ss58_decode(want, strlen(want), back, sizeof(back), &bn, &bf), 0, "%s",
                     want);
        cr_assert(bn == n && memcmp(back, pk, n) == 0 && bf == fmt, "%s", want);
        free(pk);
    }
    cr_log_info("ss58.json: %zu round trips", json_array_size(rt));
    json_decref(root);
}

static int expected_error(const char *err)
{
    if (strstr(err, "checksum"))
        return GN_ESS58CHECKSUM;
    if (strstr(err, "base58"))
        return GN_EBASE58;
    if (strstr(err, "reserved"))
        return GN_ESS58RESERVED;
    if (strstr(err, "length") || strstr(err, "short"))
        return GN_ESS58LEN;
    return 1;
}

Test(ss58_vectors, invalid_addresses)
{
    json_t *root = gn_test_load_shared_json("vectors/ss58.json");
    json_t *bad = json_object_get(root, "invalid"), *v;
    size_t i;
    cr_assert(json_array_size(bad) > 0);
    json_array_foreach (bad, i, v) {
        const char *addr = json_string_value(json_object_get(v, "address"));
        const char *err = json_string_value(json_object_get(v, "error"));
        cr_assert(json_is_false(json_object_get(v, "valid")));
        uint8_t out[33];
        size_t n;
        int rc = gn_ss58_decode(addr, strlen(addr), out, sizeof(out), &n, NULL);
        cr_assert_eq(rc, expected_error(err), "%s (%s): got %s", addr, err, gn_errname(rc));
    }
    cr_log_info("ss58.json: %zu invalid addresses rejected", json_array_size(bad));
    json_decref(root);
}

Test(ss58, every_format_and_payload_length_round_trips)
{
    static const size_t lens[] = {1, 2, 4, 8, 32, 33};
    uint64_t st = gn_test_seed();
    for (uint32_t fmt = 0; fmt <= GN_SS58_MAX_FORMAT; fmt += (fmt < 300 ? 1 : 97)) {
        for (size_t k = 0; k < 6; k++) {
            uint8_t p[33], back[33];
            for (size_t i = 0; i < lens[k]; i++)
                p[i] = (uint8_t)gn_test_rand(&st);
            char addr[GN_SS58_ADDR_MAX];
            int rc = gn_ss58_encode(p, lens[k], (uint16_t)fmt, addr, sizeof(addr));
            if (fmt == 46 || fmt == 47) {
                cr_assert_eq(rc, GN_ESS58RESERVED);
                continue;
            }
            cr_assert_eq(rc, 0, "format %u len %zu", fmt, lens[k]);
            size_t n;
            uint16_t f;
            cr_assert_eq(gn_ss58_decode(addr, strlen(addr), back, sizeof(back), &n, &f), 0, "%s",
                         addr);
            cr_assert(n == lens[k] && f == fmt && memcmp(p, back, n) == 0, "%s", addr);
        }
    }
}

Test(ss58, encode_and_decode_errors)
{
    uint8_t pk[33] = {0}, out[33];
    char addr[GN_SS58_ADDR_MAX];
    size_t n;
    cr_assert_eq(gn_ss58_encode(pk, 32, 16384, addr, sizeof(addr)), GN_ERANGE);
    cr_assert_eq(gn_ss58_encode(pk, 31, 42, addr, sizeof(addr)), GN_ESS58LEN);
    cr_assert_eq(gn_ss58_encode(pk, 0, 42, addr, sizeof(addr)), GN_ESS58LEN);
    cr_assert_eq(gn_ss58_encode(pk, 32, 42, addr, 10), GN_ENOSPC);
    cr_assert_eq(gn_ss58_decode("", 0, out, sizeof(out), &n, NULL), GN_ESS58LEN);
    cr_assert_eq(gn_ss58_decode("1", 1, out, sizeof(out), &n, NULL), GN_ESS58LEN);
    /* far too long: refused before any decoding work */
    char longstr[200];
    memset(longstr, 'z', sizeof(longstr));
    cr_assert_eq(gn_ss58_decode(longstr, sizeof(longstr), out, sizeof(out), &n, NULL), GN_ESS58LEN);
    /* a first byte >= 128 is no valid prefix */
    const char *alice = "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY";
    cr_assert_eq(gn_ss58_encode(pk, 32, 42, addr, sizeof(addr)), 0);
    uint8_t acc[32];
    uint16_t f;
    cr_assert_eq(gn_ss58_decode_account(alice, strlen(alice), acc, &f), 0);
    cr_assert_eq(f, 42);
    cr_assert_eq(acc[0], 0xd4);
    /* a 33-byte payload is not an account id */
    cr_assert_eq(gn_ss58_encode(pk, 33, 42, addr, sizeof(addr)), 0);
    cr_assert_eq(gn_ss58_decode_account(addr, strlen(addr), acc, NULL), GN_ESS58LEN);
    cr_assert_eq(gn_ss58_decode(alice, strlen(alice), out, 31, &n, NULL), GN_ENOSPC);
}

Test(ss58, high_prefix_byte_is_rejected)
{
    /* base58 of 0x80 followed by 34 bytes: prefix byte 0x80 is invalid */
    uint8_t raw[35] = {0x80};
    char s[80];
    cr_assert_eq(gn_base58_encode(raw, sizeof(raw), s, sizeof(s)), 0);
    uint8_t out[33];
    size_t n;
    cr_assert_eq(gn_ss58_decode(s, strlen(s), out, sizeof(out), &n, NULL), GN_ESS58PREFIX);
}
