#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/keccak.h"
#include "support/vectors.h"

/* A slow Keccak-f[1600] in FIPS 202's textbook form, independent of
 * protocol/keccak.c: the round constants come from the rc(t) LFSR
 * (Algorithm 5), the rho offsets from the (t+1)(t+2)/2 walk (Algorithm 2),
 * pi and chi from their index formulas. Lanes are indexed [x][y]. */
static int rc_bit(int t)
{
    if (t % 255 == 0)
        return 1;
    unsigned r = 0x80; /* R = 10000000, bit i of the spec is bit 7 - i here */
    for (int i = 1; i <= t % 255; i++) {
        unsigned r8 = r & 1; /* R[8] after prepending 0 */
        r >>= 1;
        if (r8) /* R[0], R[4], R[5], R[6] ^= R[8] */
            r ^= 0x80 | 0x08 | 0x04 | 0x02;
    }
    return (int)(r >> 7);
}

static uint64_t ref_rotl(uint64_t v, unsigned n)
{
    n %= 64;
    return n == 0 ? v : v << n | v >> (64 - n);
}

static void ref_permute(uint8_t state[200])
{
    uint64_t a[5][5], b[5][5], c[5], d[5];
    unsigned offset[5][5] = {{0}};
    for (int x = 1, y = 0, t = 0; t < 24; t++) {
        offset[x][y] = (unsigned)((t + 1) * (t + 2) / 2 % 64);
        int nx = y, ny = (2 * x + 3 * y) % 5;
        x = nx;
        y = ny;
    }
    for (int x = 0; x < 5; x++)
        for (int y = 0; y < 5; y++) {
            a[x][y] = 0;
            for (int k = 0; k < 8; k++)
                a[x][y] |= (uint64_t)state[8 * (x + 5 * y) + k] << (8 * k);
        }
    for (int ir = 0; ir < 24; ir++) {
        for (int x = 0; x < 5; x++)
            c[x] = a[x][0] ^ a[x][1] ^ a[x][2] ^ a[x][3] ^ a[x][4];
        for (int x = 0; x < 5; x++)
            d[x] = c[(x + 4) % 5] ^ ref_rotl(c[(x + 1) % 5], 1);
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                a[x][y] ^= d[x];
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                b[y][(2 * x + 3 * y) % 5] = ref_rotl(a[x][y], offset[x][y]);
        for (int x = 0; x < 5; x++)
            for (int y = 0; y < 5; y++)
                a[x][y] = b[x][y] ^ (~b[(x + 1) % 5][y] & b[(x + 2) % 5][y]);
        uint64_t rc = 0;
        for (int j = 0; j <= 6; j++)
            rc |= (uint64_t)rc_bit(j + 7 * ir) << ((1u << j) - 1);
        a[0][0] ^= rc;
    }
    for (int x = 0; x < 5; x++)
        for (int y = 0; y < 5; y++)
            for (int k = 0; k < 8; k++)
                state[8 * (x + 5 * y) + k] = (uint8_t)(a[x][y] >> (8 * k));
}

/* The Keccak team's published test of Keccak-f[1600] on the all-zero state:
 * the first lanes after one and after two permutations. */
Test(keccak, zero_state_known_answer)
{
    uint8_t s[200] = {0};
    gn_keccak_f1600(s);
    gn_test_assert_hex(s, 16, "0xe7dde140798f25f18a47c033f9ccd584", "f(0) lanes 0-1");
    gn_keccak_f1600(s);
    gn_test_assert_hex(s, 16, "0x3ccb6ef94d955c2d6db55770d02c336a", "f(f(0)) lanes 0-1");
}

Test(keccak, reference_agrees_with_zero_state_answer)
{
    uint8_t s[200] = {0}, fast[200] = {0};
    ref_permute(s);
    gn_keccak_f1600(fast);
    cr_assert_arr_eq(s, fast, 200, "reference and fast differ on the zero state");
    gn_test_assert_hex(s, 8, "0xe7dde140798f25f1", "reference f(0) lane 0");
}

Test(keccak, random_states_match_the_reference)
{
    uint64_t seed = gn_test_seed(), rng = seed;
    for (int n = 0; n < 1000; n++) {
        uint8_t want[200], got[200];
        for (int i = 0; i < 200; i += 8) {
            uint64_t v = gn_test_rand(&rng);
            memcpy(want + i, &v, 8);
        }
        memcpy(got, want, sizeof(got));
        ref_permute(want);
        gn_keccak_f1600(got);
        if (memcmp(want, got, sizeof(got)) != 0)
            cr_assert_fail("state %d differs from the reference (GANGLION_TEST_SEED=%llu)", n,
                           (unsigned long long)seed);
    }
}

/* Single-bit states exercise every lane's rotation and position alone. */
Test(keccak, single_bit_states_match_the_reference)
{
    for (int bit = 0; bit < 1600; bit++) {
        uint8_t want[200] = {0}, got[200] = {0};
        want[bit / 8] = got[bit / 8] = (uint8_t)(1u << (bit % 8));
        ref_permute(want);
        gn_keccak_f1600(got);
        cr_assert_arr_eq(want, got, 200, "bit %d differs from the reference", bit);
    }
}
