/* SHA3-256 (FIPS 202), the hash of Bittensor's body_hash (wire spec §3.1). */
#ifndef GANGLION_SHA3_H
#define GANGLION_SHA3_H

#include <stddef.h>
#include <stdint.h>

#define GN_SHA3_256_LEN 32

typedef struct gn_sha3_256 {
    uint8_t state[200];
    size_t pos;
} gn_sha3_256_t;

void gn_sha3_256_init(gn_sha3_256_t *h);
void gn_sha3_256_update(gn_sha3_256_t *h, const uint8_t *in, size_t len);
void gn_sha3_256_final(gn_sha3_256_t *h, uint8_t out[32]);
void gn_sha3_256(const uint8_t *in, size_t len, uint8_t out[32]);

#endif
