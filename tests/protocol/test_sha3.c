#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/sha3.h"
#include "support/vectors.h"

static void check(const uint8_t *in, size_t len, const char *want)
{
    uint8_t out[32];
    gn_sha3_256(in, len, out);
    gn_test_assert_hex(out, 32, want, "sha3-256");
}

/* FIPS 202 / NIST CAVP examples */
Test(sha3, nist_examples)
{
    check(NULL, 0, "0xa7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    check((const uint8_t *)"abc", 3,
          "0x3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532");
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    check((const uint8_t *)m448, strlen(m448),
          "0x41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376");
    const char *m896 =
        "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklm"
        "nopqklmnopqrlmnopqrsmnopqrstnopqrstu";
    check((const uint8_t *)m896, strlen(m896),
          "0x916f6061fe879741ca6469b43971dfdb28b1a32dc36cb3254e812be27aad1d18");
}

Test(sha3, million_a_incremental)
{
    gn_sha3_256_t h;
    uint8_t chunk[1000], out[32];
    memset(chunk, 'a', sizeof(chunk));
    gn_sha3_256_init(&h);
    for (int i = 0; i < 1000; i++)
        gn_sha3_256_update(&h, chunk, sizeof(chunk));
    gn_sha3_256_final(&h, out);
    gn_test_assert_hex(out, 32,
                       "0x5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1",
                       "a million a");
}

/* The wire spec's body hash of a synapse with no hashed fields: H(""). */
Test(sha3, empty_body_hash_of_the_wire_spec)
{
    uint8_t out[32];
    gn_sha3_256((const uint8_t *)"", 0, out);
    char *hex = gn_test_hex(out, 32);
    cr_assert_str_eq(hex + 2, "a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a");
    free(hex);
}

Test(sha3, split_points_agree)
{
    uint8_t msg[600], one[32], two[32];
    for (size_t i = 0; i < sizeof(msg); i++)
        msg[i] = (uint8_t)(i * 7);
    for (size_t len = 0; len <= sizeof(msg); len += 17) {
        gn_sha3_256(msg, len, one);
        for (size_t cut = 0; cut <= len; cut += 31) {
            gn_sha3_256_t h;
            gn_sha3_256_init(&h);
            gn_sha3_256_update(&h, msg, cut);
            gn_sha3_256_update(&h, msg + cut, len - cut);
            gn_sha3_256_final(&h, two);
            cr_assert(memcmp(one, two, 32) == 0, "len %zu cut %zu", len, cut);
        }
    }
}
