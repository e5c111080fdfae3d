#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/base58.h"
#include "ganglion/error.h"
#include "support/vectors.h"

/* Bitcoin's well-known base58 examples. */
Test(base58, known_encodings)
{
    static const struct {
        const char *hex, *b58;
    } cases[] = {
        {"0x", ""},
        {"0x00", "1"},
        {"0x0000", "11"},
        {"0x61", "2g"},
        {"0x626262", "a3gV"},
        {"0x636363", "aPEr"},
        {"0x73696d706c792061206c6f6e6720737472696e67", "2cFupjhnEsSn59qHXstmK2ffpLv2"},
        {"0x00eb15231dfceb60925886b67d065299925915aeb172c06647",
         "1NS17iag9jJgTHD1VXjvLCEnZuQ3rJDE9L"},
        {"0x516b6fcd0f", "ABnLTmg"},
        {"0x000000287fb4cd", "111233QC4"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n, m;
        uint8_t *in = gn_test_unhex(cases[i].hex, &n);
        char s[128];
        cr_assert_eq(gn_base58_encode(in, n, s, sizeof(s)), 0);
        cr_assert_str_eq(s, cases[i].b58);
        uint8_t back[64];
        cr_assert_eq(gn_base58_decode(s, strlen(s), back, sizeof(back), &m, NULL), 0);
        cr_assert(m == n && memcmp(back, in, n) == 0, "%s", cases[i].b58);
        free(in);
    }
}

Test(base58, errors)
{
    uint8_t out[4];
    size_t n, at = 99;
    cr_assert_eq(gn_base58_decode("abc0", 4, out, sizeof(out), &n, &at), GN_EBASE58);
    cr_assert_eq(at, 3);
    cr_assert_eq(gn_base58_decode("O", 1, out, sizeof(out), &n, NULL), GN_EBASE58);
    cr_assert_eq(gn_base58_decode("I", 1, out, sizeof(out), &n, NULL), GN_EBASE58);
    cr_assert_eq(gn_base58_decode("a\0b", 3, out, sizeof(out), &n, NULL), GN_EBASE58);
    cr_assert_eq(gn_base58_decode("zzzzzzzzz", 9, out, sizeof(out), &n, NULL), GN_ENOSPC);
    char s[3];
    const uint8_t big[] = {0xff, 0xff};
    cr_assert_eq(gn_base58_encode(big, 2, s, sizeof(s)), GN_ENOSPC);
}

Test(base58, random_round_trip)
{
    uint64_t st = gn_test_seed();
    for (int iter = 0; iter < 3000; iter++) {
        uint8_t in[64], back[64];
        size_t n = gn_test_rand(&st) % 64, m;
        for (size_t i = 0; i < n; i++)
            in[i] = gn_test_rand(&st) % 4 ? (uint8_t)gn_test_rand(&st) : 0;
        char s[100];
        cr_assert_eq(gn_base58_encode(in, n, s, sizeof(s)), 0);
        cr_assert_eq(gn_base58_decode(s, strlen(s), back, sizeof(back), &m, NULL), 0);
        cr_assert(m == n && memcmp(in, back, n) == 0);
    }
}
