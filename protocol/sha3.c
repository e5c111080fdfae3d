#include "ganglion/sha3.h"
#include "ganglion/keccak.h"

#include <string.h>

#define RATE 136 /* 1600 - 2*256 bits */

void gn_sha3_256_init(gn_sha3_256_t *h)
{
    memset(h, 0, sizeof(*h));
}

void gn_sha3_256_update(gn_sha3_256_t *h, const uint8_t *in, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        h->state[h->pos++] ^= in[i];
        if (h->pos == RATE) {
            gn_keccak_f1600(h->state);
            h->pos = 0;
        }
    }
}

void gn_sha3_256_final(gn_sha3_256_t *h, uint8_t out[32])
{
    h->state[h->pos] ^= 0x06; /* SHA3 domain bits 01, then pad10*1 */
    h->state[RATE - 1] ^= 0x80;
    gn_keccak_f1600(h->state);
    memcpy(out, h->state, 32);
    memset(h, 0, sizeof(*h));
}

void gn_sha3_256(const uint8_t *in, size_t len, uint8_t out[32])
{
    gn_sha3_256_t h;
    gn_sha3_256_init(&h);
    gn_sha3_256_update(&h, in, len);
    gn_sha3_256_final(&h, out);
}
