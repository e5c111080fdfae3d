#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/hex.h"

static int dec(const char *s, uint8_t *out, size_t cap, size_t *n)
{
    return gn_hex_decode(s, strlen(s), out, cap, n);
}

Test(hex, decode_accepts_prefix_and_both_cases)
{
    uint8_t b[8];
    size_t n;
    cr_assert_eq(dec("0xDeadBEEF", b, sizeof(b), &n), 0);
    cr_assert_eq(n, 4);
    cr_assert(memcmp(b, "\xde\xad\xbe\xef", 4) == 0);
    cr_assert_eq(dec("0Xff", b, sizeof(b), &n), 0);
    cr_assert(n == 1 && b[0] == 0xff);
    cr_assert_eq(dec("00ff", b, sizeof(b), &n), 0);
    cr_assert(n == 2 && b[0] == 0 && b[1] == 0xff);
    cr_assert_eq(dec("", b, sizeof(b), &n), 0);
    cr_assert_eq(n, 0);
    cr_assert_eq(dec("0x", b, sizeof(b), &n), 0);
    cr_assert_eq(n, 0);
}

Test(hex, decode_errors)
{
    uint8_t b[4];
    size_t n = 99;
    cr_assert_eq(dec("0xabc", b, sizeof(b), &n), GN_EHEXLEN);
    cr_assert_eq(dec("abc", b, sizeof(b), &n), GN_EHEXLEN);
    cr_assert_eq(dec("0xzz", b, sizeof(b), &n), GN_EHEXCHAR);
    cr_assert_eq(dec("0x0g", b, sizeof(b), &n), GN_EHEXCHAR);
    cr_assert_eq(dec("0x 1", b, sizeof(b), &n), GN_EHEXCHAR);
    cr_assert_eq(dec("x012", b, sizeof(b), &n), GN_EHEXCHAR);
    cr_assert_eq(dec("0x0x", b, sizeof(b), &n), GN_EHEXCHAR);
    cr_assert_eq(dec("0x0102030405", b, sizeof(b), &n), GN_ENOSPC);
    cr_assert_eq(n, 99, "nothing reported on error");
    cr_assert_eq(gn_hex_decode_exact("0x0102", 6, b, 3), GN_EINVAL);
    cr_assert_eq(gn_hex_decode_exact("0x010203", 8, b, 3), 0);
    /* an embedded NUL is a bad character, not the end of the string */
    cr_assert_eq(gn_hex_decode("0x00\0000", 6, b, sizeof(b), &n), GN_EHEXCHAR);
}

Test(hex, encode_round_trip_all_bytes)
{
    uint8_t all[256], back[256];
    char s[2 * 256 + 3];
    size_t n;
    for (int i = 0; i < 256; i++)
        all[i] = (uint8_t)i;
    cr_assert_eq(gn_hex_encode(all, 256, 1, s, sizeof(s)), 0);
    cr_assert_eq(strlen(s), gn_hex_encoded_len(256, 1));
    cr_assert_eq(strncmp(s, "0x000102", 8), 0);
    cr_assert_eq(dec(s, back, sizeof(back), &n), 0);
    cr_assert(n == 256 && memcmp(all, back, 256) == 0);
    cr_assert_eq(gn_hex_encode(all, 2, 0, s, 5), 0);
    cr_assert_str_eq(s, "0001");
    cr_assert_eq(gn_hex_encode(all, 2, 0, s, 4), GN_ENOSPC, "no room for the NUL");
    cr_assert_eq(gn_hex_encode(all, 2, 1, s, 6), GN_ENOSPC);
}
