#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/decimal.h"
#include "ganglion/error.h"
#include "support/vectors.h"

static void round_trip(const char *dec, size_t n, bool is_signed)
{
    uint8_t le[64];
    char back[GN_DEC_MAX(64)];
    cr_assert_eq(gn_dec_to_le(dec, strlen(dec), is_signed, le, n), 0, "%s", dec);
    cr_assert_eq(gn_dec_from_le(le, n, is_signed, back, sizeof(back)), 0);
    cr_assert_str_eq(back, dec);
}

Test(decimal, limits_of_each_width)
{
    round_trip("0", 1, false);
    round_trip("255", 1, false);
    round_trip("-128", 1, true);
    round_trip("127", 1, true);
    round_trip("18446744073709551615", 8, false);
    round_trip("-9223372036854775808", 8, true);
    round_trip("340282366920938463463374607431768211455", 16, false);
    round_trip("-170141183460469231731687303715884105728", 16, true);
    round_trip("115792089237316195423570985008687907853269984665640564039457584007913129639935", 32,
               false);
    uint8_t le[32];
    cr_assert_eq(gn_dec_to_le("256", 3, false, le, 1), GN_ERANGE);
    cr_assert_eq(gn_dec_to_le("128", 3, true, le, 1), GN_ERANGE);
    cr_assert_eq(gn_dec_to_le("-129", 4, true, le, 1), GN_ERANGE);
    cr_assert_eq(gn_dec_to_le("-1", 2, false, le, 1), GN_ERANGE);
    cr_assert_eq(gn_dec_to_le("340282366920938463463374607431768211456", 39, false, le, 16),
                 GN_ERANGE);
    cr_assert_eq(gn_dec_to_le("", 0, false, le, 4), GN_EDECIMAL);
    cr_assert_eq(gn_dec_to_le("-", 1, true, le, 4), GN_EDECIMAL);
    cr_assert_eq(gn_dec_to_le("12a", 3, false, le, 4), GN_EDECIMAL);
    cr_assert_eq(gn_dec_to_le("+1", 2, false, le, 4), GN_EDECIMAL);
    cr_assert_eq(gn_dec_to_le(" 1", 2, false, le, 4), GN_EDECIMAL);
    /* a very long number of leading zeros is still just zero */
    char zeros[300];
    memset(zeros, '0', sizeof(zeros));
    cr_assert_eq(gn_dec_to_le(zeros, sizeof(zeros), false, le, 1), 0);
    cr_assert_eq(le[0], 0);
    char small[3];
    cr_assert_eq(gn_dec_from_le((const uint8_t *)"\xff", 1, false, small, sizeof(small)),
                 GN_ENOSPC);
}

Test(decimal, u128_agrees_with_native_arithmetic)
{
    uint64_t st = gn_test_seed();
    for (int i = 0; i < 5000; i++) {
        gn_u128_t v = (gn_u128_t)gn_test_rand(&st) << 64 | gn_test_rand(&st);
        v >>= gn_test_rand(&st) % 128;
        char s[48], ref[48];
        int k = 0;
        gn_u128_t x = v;
        do {
            ref[k++] = (char)('0' + (int)(x % 10));
            x /= 10;
        } while (x);
        for (int a = 0; a < k / 2; a++) {
            char c = ref[a];
            ref[a] = ref[k - 1 - a];
            ref[k - 1 - a] = c;
        }
        ref[k] = '\0';
        cr_assert_eq(gn_dec_from_u128(v, s, sizeof(s)), 0);
        cr_assert_str_eq(s, ref);
        gn_u128_t back;
        cr_assert_eq(gn_dec_to_u128(s, strlen(s), &back), 0);
        cr_assert(back == v);
    }
}
