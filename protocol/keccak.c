/* Keccak-f[1600] (FIPS 202, section 3) with the 25 lanes in locals and every
 * round unrolled: theta's column parities, then rho, pi and chi fused one
 * output row at a time, then iota. Two rounds per loop pass swap the roles of
 * the two lane sets, so no lane is copied back.
 *
 * Lane (x, y) lives in the local a<x><y> (or e<x><y>), byte offset 8*(x+5y)
 * of the state. */
#include "ganglion/keccak.h"

static const uint64_t round_constants[24] = {
    0x0000000000000001ULL, 0x0000000000008082ULL, 0x800000000000808aULL, 0x8000000080008000ULL,
    0x000000000000808bULL, 0x0000000080000001ULL, 0x8000000080008081ULL, 0x8000000000008009ULL,
    0x000000000000008aULL, 0x0000000000000088ULL, 0x0000000080008009ULL, 0x000000008000000aULL,
    0x000000008000808bULL, 0x800000000000008bULL, 0x8000000000008089ULL, 0x8000000000008003ULL,
    0x8000000000008002ULL, 0x8000000000000080ULL, 0x000000000000800aULL, 0x800000008000000aULL,
    0x8000000080008081ULL, 0x8000000000008080ULL, 0x0000000080000001ULL, 0x8000000080008008ULL,
};

/* n is a constant at every use; (64 - n) & 63 keeps n == 0 defined. */
#define ROTL(v, n) ((v) << (n) | (v) >> ((64 - (n)) & 63))

/* One output row y of rho + pi + chi. Pi sends lane (x, y) to (y, 2x + 3y),
 * so output (x', y) reads input lane ((x' + 3y) mod 5, x'), whose theta
 * column term is D[(x' + 3y) mod 5]; the R arguments are that lane's rho
 * offsets. */
#define CHI_ROW(E, Y, L0, D0, R0, L1, D1, R1, L2, D2, R2, L3, D3, R3, L4, D4, R4) \
    do {                                                                          \
        uint64_t b0 = ROTL(L0 ^ D0, R0), b1 = ROTL(L1 ^ D1, R1);                  \
        uint64_t b2 = ROTL(L2 ^ D2, R2), b3 = ROTL(L3 ^ D3, R3);                  \
        uint64_t b4 = ROTL(L4 ^ D4, R4);                                          \
        E##0##Y = b0 ^ (~b1 & b2);                                                \
        E##1##Y = b1 ^ (~b2 & b3);                                                \
        E##2##Y = b2 ^ (~b3 & b4);                                                \
        E##3##Y = b3 ^ (~b4 & b0);                                                \
        E##4##Y = b4 ^ (~b0 & b1);                                                \
    } while (0)

/* One round from the lanes A into the lanes E. */
#define ROUND(A, E, RC)                                                                           \
    do {                                                                                          \
        uint64_t c0 = A##00 ^ A##01 ^ A##02 ^ A##03 ^ A##04;                                      \
        uint64_t c1 = A##10 ^ A##11 ^ A##12 ^ A##13 ^ A##14;                                      \
        uint64_t c2 = A##20 ^ A##21 ^ A##22 ^ A##23 ^ A##24;                                      \
        uint64_t c3 = A##30 ^ A##31 ^ A##32 ^ A##33 ^ A##34;                                      \
        uint64_t c4 = A##40 ^ A##41 ^ A##42 ^ A##43 ^ A##44;                                      \
        uint64_t d0 = c4 ^ ROTL(c1, 1), d1 = c0 ^ ROTL(c2, 1), d2 = c1 ^ ROTL(c3, 1);             \
        uint64_t d3 = c2 ^ ROTL(c4, 1), d4 = c3 ^ ROTL(c0, 1);                                    \
        CHI_ROW(E, 0, A##00, d0, 0, A##11, d1, 44, A##22, d2, 43, A##33, d3, 21, A##44, d4, 14);  \
        CHI_ROW(E, 1, A##30, d3, 28, A##41, d4, 20, A##02, d0, 3, A##13, d1, 45, A##24, d2, 61);  \
        CHI_ROW(E, 2, A##10, d1, 1, A##21, d2, 6, A##32, d3, 25, A##43, d4, 8, A##04, d0, 18);    \
        CHI_ROW(E, 3, A##40, d4, 27, A##01, d0, 36, A##12, d1, 10, A##23, d2, 15, A##34, d3, 56); \
        CHI_ROW(E, 4, A##20, d2, 62, A##31, d3, 55, A##42, d4, 39, A##03, d0, 41, A##14, d1, 2);  \
        E##00 ^= (RC);                                                                            \
    } while (0)

/* le.h's loops are not unrolled at -O2 (a loop of 8 per lane, both ways, cost
 * a quarter of the permutation); spelled out byte by byte, compilers merge
 * these into one load or store on little-endian machines and stay correct on
 * big-endian ones. */
static inline uint64_t load64(const uint8_t *p)
{
    return (uint64_t)p[0] | (uint64_t)p[1] << 8 | (uint64_t)p[2] << 16 | (uint64_t)p[3] << 24 |
           (uint64_t)p[4] << 32 | (uint64_t)p[5] << 40 | (uint64_t)p[6] << 48 |
           (uint64_t)p[7] << 56;
}

static inline void store64(uint8_t *p, uint64_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
    p[4] = (uint8_t)(v >> 32);
    p[5] = (uint8_t)(v >> 40);
    p[6] = (uint8_t)(v >> 48);
    p[7] = (uint8_t)(v >> 56);
}

#define LOAD(X, Y)  uint64_t a##X##Y = load64(state + 8 * ((X) + 5 * (Y))), e##X##Y
#define STORE(X, Y) store64(state + 8 * ((X) + 5 * (Y)), a##X##Y)

void gn_keccak_f1600(uint8_t state[200])
{
    LOAD(0, 0);
    LOAD(1, 0);
    LOAD(2, 0);
    LOAD(3, 0);
    LOAD(4, 0);
    LOAD(0, 1);
    LOAD(1, 1);
    LOAD(2, 1);
    LOAD(3, 1);
    LOAD(4, 1);
    LOAD(0, 2);
    LOAD(1, 2);
    LOAD(2, 2);
    LOAD(3, 2);
    LOAD(4, 2);
    LOAD(0, 3);
    LOAD(1, 3);
    LOAD(2, 3);
    LOAD(3, 3);
    LOAD(4, 3);
    LOAD(0, 4);
    LOAD(1, 4);
    LOAD(2, 4);
    LOAD(3, 4);
    LOAD(4, 4);
    for (int round = 0; round < 24; round += 2) {
        ROUND(a, e, round_constants[round]);
        ROUND(e, a, round_constants[round + 1]);
    }
    STORE(0, 0);
    STORE(1, 0);
    STORE(2, 0);
    STORE(3, 0);
    STORE(4, 0);
    STORE(0, 1);
    STORE(1, 1);
    STORE(2, 1);
    STORE(3, 1);
    STORE(4, 1);
    STORE(0, 2);
    STORE(1, 2);
    STORE(2, 2);
    STORE(3, 2);
    STORE(4, 2);
    STORE(0, 3);
    STORE(1, 3);
    STORE(2, 3);
    STORE(3, 3);
    STORE(4, 3);
    STORE(0, 4);
    STORE(1, 4);
    STORE(2, 4);
    STORE(3, 4);
    STORE(4, 4);
}
