#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/utf8.h"

static bool valid(const char *s, size_t n)
{
    return gn_utf8_valid((const uint8_t *)s, n);
}

Test(utf8, accepts_every_length)
{
    cr_assert(valid("", 0));
    cr_assert(valid("plain ascii", 11));
    cr_assert(valid("h\xc3\xa9llo \xcf\x84 \xe2\x9c\x93", 14));
    cr_assert(valid("\xf0\x9f\x98\x80", 4)); /* U+1F600 */
    cr_assert(valid("\xf4\x8f\xbf\xbf", 4)); /* U+10FFFF */
    cr_assert(valid("\xed\x9f\xbf", 3));     /* U+D7FF */
    cr_assert(valid("a\0b", 3), "NUL is valid UTF-8");
}

Test(utf8, rejects_what_rust_rejects)
{
    cr_assert_not(valid("\xff", 1));
    cr_assert_not(valid("\x80", 1), "lone continuation");
    cr_assert_not(valid("\xc3", 1), "truncated");
    cr_assert_not(valid("\xc3\x28", 2));
    cr_assert_not(valid("\xc0\xaf", 2), "overlong 2-byte");
    cr_assert_not(valid("\xe0\x80\xaf", 3), "overlong 3-byte");
    cr_assert_not(valid("\xf0\x80\x80\xaf", 4), "overlong 4-byte");
    cr_assert_not(valid("\xed\xa0\x80", 3), "surrogate D800");
    cr_assert_not(valid("\xf4\x90\x80\x80", 4), "above U+10FFFF");
    cr_assert_not(valid("\xf5\x80\x80\x80", 4));
    cr_assert_not(valid("\xe2\x9c", 2), "truncated 3-byte");
    cr_assert_not(valid("\xe2\x28\x93", 3), "bad third byte position");
}
