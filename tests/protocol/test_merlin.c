#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/merlin.h"
#include "support/vectors.h"

/* The merlin crate's own conformance example ("equivalence_simple"). */
Test(merlin, simple_transcript)
{
    gn_merlin_t t;
    uint8_t cb[32];
    gn_merlin_init(&t, "test protocol");
    gn_merlin_append(&t, "some label", (const uint8_t *)"some data", 9);
    gn_merlin_challenge(&t, "challenge", cb, 32);
    gn_test_assert_hex(cb, 32, "0xd5a21972d0d5fe320c0d263fac7fffb8145aa640af6e9bca177c03c7efcf0615",
                       "challenge");
}

/* 64 bytes from the transcript's witness RNG */
static void draw(const gn_merlin_t *t, const uint8_t witness[32], const uint8_t random[32],
                 uint8_t out[64])
{
    gn_merlin_rng_t rng;
    gn_merlin_rng_init(&rng, t);
    gn_merlin_rng_rekey(&rng, "w", witness, 32);
    gn_merlin_rng_finalize(&rng, random);
    gn_merlin_rng_fill(&rng, out, 64);
}

Test(merlin, rng_depends_on_witness_and_random)
{
    gn_merlin_t t;
    gn_merlin_init(&t, "x");
    uint8_t w1[32] = {1}, w2[32] = {2}, r1[32] = {0}, r2[32] = {9}, a[64], b[64], c[64], d[64];
    draw(&t, w1, r1, a);
    draw(&t, w1, r1, b);
    cr_assert(memcmp(a, b, 64) == 0, "deterministic given the same inputs");
    draw(&t, w2, r1, c);
    draw(&t, w1, r2, d);
    cr_assert(memcmp(a, c, 64) != 0 && memcmp(a, d, 64) != 0);
    /* long messages cross the STROBE rate boundary several times */
    uint8_t big[1000];
    memset(big, 0x5a, sizeof(big));
    gn_merlin_append(&t, "big", big, sizeof(big));
    gn_merlin_challenge(&t, "c", a, 64);
    cr_assert(!(a[0] == 0 && a[1] == 0 && a[2] == 0 && a[3] == 0));
}
