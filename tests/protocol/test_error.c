#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"

Test(error, every_code_has_a_distinct_name_and_message)
{
    static const int codes[] = {
#define GN_CODE(name, val, msg) name,
        GN_ERRNO_MAP(GN_CODE)
#undef GN_CODE
    };
    size_t n = sizeof(codes) / sizeof(codes[0]);
    cr_assert(n >= 10);
    for (size_t i = 0; i < n; i++) {
        cr_assert_lt(codes[i], 0, "codes are negative");
        const char *m = gn_strerror(codes[i]);
        cr_assert(m && *m && strcmp(m, "unknown error") != 0);
        cr_assert_eq(strncmp(gn_errname(codes[i]), "GN_E", 4), 0);
        for (size_t k = 0; k < i; k++) {
            cr_assert_neq(codes[i], codes[k], "duplicate code value");
            cr_assert_str_neq(m, gn_strerror(codes[k]), "duplicate message");
        }
    }
    cr_assert_str_eq(gn_strerror(0), "success");
    cr_assert_str_eq(gn_strerror(-9999), "unknown error");
    cr_assert_str_eq(gn_errname(GN_ETRUNC), "GN_ETRUNC");
}
