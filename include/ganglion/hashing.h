/* Substrate hashes: twox (XXH64 via libxxhash) and BLAKE2b (libsodium), and
 * the storage hashers that build storage keys from them. */
#ifndef GANGLION_HASHING_H
#define GANGLION_HASHING_H

#include <stddef.h>
#include <stdint.h>

/* twoxN: XXH64 of the input with seeds 0..N/64-1, each written little
 * endian, concatenated. */
void gn_twox64(const uint8_t *in, size_t len, uint8_t out[8]);
void gn_twox128(const uint8_t *in, size_t len, uint8_t out[16]);
void gn_twox256(const uint8_t *in, size_t len, uint8_t out[32]);

/* Unkeyed or keyed BLAKE2b with an outlen-byte digest (1..64; the length is
 * a parameter of the hash, not a truncation). key may be NULL (keylen 0),
 * keylen at most 64. */
int gn_blake2b(uint8_t *out, size_t outlen, const uint8_t *in, size_t len, const uint8_t *key,
               size_t keylen);
void gn_blake2b_128(const uint8_t *in, size_t len, uint8_t out[16]);
void gn_blake2b_256(const uint8_t *in, size_t len, uint8_t out[32]);
void gn_blake2b_512(const uint8_t *in, size_t len, uint8_t out[64]);

/* The storage hashers of FRAME metadata, in metadata's enum order. */
typedef enum {
    GN_HASHER_BLAKE2_128 = 0,
    GN_HASHER_BLAKE2_256 = 1,
    GN_HASHER_BLAKE2_128_CONCAT = 2,
    GN_HASHER_TWOX128 = 3,
    GN_HASHER_TWOX256 = 4,
    GN_HASHER_TWOX64_CONCAT = 5,
    GN_HASHER_IDENTITY = 6,
} gn_hasher_t;

#define GN_HASHER_COUNT 7

/* Output length of `h` over an input of `len` bytes. */
size_t gn_hasher_out_len(gn_hasher_t h, size_t len);
/* Length of the hash part before the input (16 for Blake2_128Concat, 8 for
 * Twox64Concat, 0 for Identity); -1 for hashers that are not transparent. */
int gn_hasher_prefix_len(gn_hasher_t h);
/* Apply `h` to the input; GN_ENOSPC if cap < gn_hasher_out_len(). */
int gn_hasher_apply(gn_hasher_t h, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                    size_t *out_len);
/* Name as in metadata ("Blake2_128Concat") and the reverse lookup, which
 * also accepts snake_case ("blake2_128_concat"). */
const char *gn_hasher_name(gn_hasher_t h);
int gn_hasher_from_name(const char *name, gn_hasher_t *h);

#endif
