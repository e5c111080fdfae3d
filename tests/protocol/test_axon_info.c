/* On-chain axon addresses: the spec's examples (§7.3, §7.4). */
#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/axon_info.h"
#include "ganglion/error.h"

Test(axon_info, ipv4_and_ipv6_both_ways)
{
    gn_u128_t ip;
    uint8_t t;
    char s[64];
    cr_assert_eq(gn_ip_from_text("203.0.113.7", &ip, &t), 0);
    cr_assert_eq((uint64_t)ip, 3405803783u);
    cr_assert_eq(t, 4);
    cr_assert_eq(gn_ip_to_text(ip, 4, s, sizeof(s)), 0);
    cr_assert_str_eq(s, "203.0.113.7");
    cr_assert_eq(gn_ip_from_text("2001:db8::1", &ip, &t), 0);
    cr_assert_eq(t, 6);
    cr_assert_eq((uint64_t)(ip >> 96), 0x20010db8u);
    cr_assert_eq((uint64_t)ip, 1);
    cr_assert_eq(gn_ip_to_text(ip, 6, s, sizeof(s)), 0);
    cr_assert_str_eq(s, "2001:db8::1");
    /* RFC 5952: lower case, the longest zero run compressed, IPv4-mapped */
    cr_assert_eq(gn_ip_from_text("2001:0DB8:0000:0000:0001:0000:0000:0001", &ip, &t), 0);
    cr_assert_eq(gn_ip_to_text(ip, 6, s, sizeof(s)), 0);
    cr_assert_str_eq(s, "2001:db8::1:0:0:1");
    cr_assert_eq(gn_ip_to_text(((gn_u128_t)0xffff << 32) | 0x01020304u, 6, s, sizeof(s)), 0);
    cr_assert_str_eq(s, "::ffff:1.2.3.4");
    /* no ip_type: by magnitude, as the SDK's netaddr */
    cr_assert_eq(gn_ip_to_text(0x7f000002u, 0, s, sizeof(s)), 0);
    cr_assert_str_eq(s, "127.0.0.2");
    cr_assert_eq(gn_ip_to_text((gn_u128_t)1 << 32, 0, s, sizeof(s)), 0);
    cr_assert_str_eq(s, "::1:0:0");
    cr_assert_eq(gn_ip_to_text(0, 4, s, sizeof(s)), 0);
    cr_assert_str_eq(s, "0.0.0.0", "a neuron that never served");
    /* refused */
    cr_assert_eq(gn_ip_from_text("256.1.1.1", &ip, &t), GN_EINVAL);
    cr_assert_eq(gn_ip_from_text("example.com", &ip, &t), GN_EINVAL);
    cr_assert_eq(gn_ip_from_text("", &ip, &t), GN_EINVAL);
    cr_assert_eq(gn_ip_to_text((gn_u128_t)1 << 40, 4, s, sizeof(s)), GN_ERANGE);
    cr_assert_eq(gn_ip_to_text(3405803783u, 4, s, 8), GN_ENOSPC);
}

Test(axon_info, version_as_int)
{
    uint32_t v;
    cr_assert_eq(gn_version_as_int("10.2.0", &v), 0);
    cr_assert_eq(v, 10002000);
    cr_assert_eq(gn_version_as_int("9.12.2", &v), 0);
    cr_assert_eq(v, 9012002);
    cr_assert_eq(gn_version_as_int("7.2.0", &v), 0);
    cr_assert_eq(v, 7002000);
    cr_assert_eq(gn_version_as_int("10.2.0rc1", &v), 0);
    cr_assert_eq(v, 10002000);
    const char *bad[] = {"", "10", "10.2", "10.2.", "a.b.c", "1000.0.0", "1.2.1000", "-1.2.3"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(gn_version_as_int(bad[i], &v), GN_EINVAL, "'%s'", bad[i]);
}
