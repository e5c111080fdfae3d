#include "ganglion/hashing.h"
#include "ganglion/error.h"

#include <sodium.h>
#include <string.h>
#include <strings.h>
#include <xxhash.h>

#include "le.h"

static void twox(const uint8_t *in, size_t len, uint8_t *out, unsigned words)
{
    for (unsigned seed = 0; seed < words; seed++)
        gn_le_store(out + 8 * seed, XXH64(in, len, seed), 8);
}

void gn_twox64(const uint8_t *in, size_t len, uint8_t out[8])
{
    twox(in, len, out, 1);
}
void gn_twox128(const uint8_t *in, size_t len, uint8_t out[16])
{
    twox(in, len, out, 2);
}
void gn_twox256(const uint8_t *in, size_t len, uint8_t out[32])
{
    twox(in, len, out, 4);
}

int gn_blake2b(uint8_t *out, size_t outlen, const uint8_t *in, size_t len, const uint8_t *key,
               size_t keylen)
{
    /* libsodium enforces only the maxima; shorter keys (even 1 byte) are
     * valid BLAKE2b keys and match the reference implementation. */
    if (outlen < 1 || outlen > crypto_generichash_BYTES_MAX ||
        keylen > crypto_generichash_KEYBYTES_MAX || (key == NULL && keylen))
        return GN_EINVAL;
    if (crypto_generichash(out, outlen, in, len, keylen ? key : NULL, keylen) != 0)
        return GN_EINVAL;
    return 0;
}

void gn_blake2b_128(const uint8_t *in, size_t len, uint8_t out[16])
{
    (void)gn_blake2b(out, 16, in, len, NULL, 0);
}

void gn_blake2b_256(const uint8_t *in, size_t len, uint8_t out[32])
{
    (void)gn_blake2b(out, 32, in, len, NULL, 0);
}

void gn_blake2b_512(const uint8_t *in, size_t len, uint8_t out[64])
{
    (void)gn_blake2b(out, 64, in, len, NULL, 0);
}

static const struct {
    const char *name;
    const char *snake;
    int hash_len; /* bytes of hash output */
    int concat;   /* input appended after the hash */
} hashers[GN_HASHER_COUNT] = {
    [GN_HASHER_BLAKE2_128] = {"Blake2_128", "blake2_128", 16, 0},
    [GN_HASHER_BLAKE2_256] = {"Blake2_256", "blake2_256", 32, 0},
    [GN_HASHER_BLAKE2_128_CONCAT] = {"Blake2_128Concat", "blake2_128_concat", 16, 1},
    [GN_HASHER_TWOX128] = {"Twox128", "twox128", 16, 0},
    [GN_HASHER_TWOX256] = {"Twox256", "twox256", 32, 0},
    [GN_HASHER_TWOX64_CONCAT] = {"Twox64Concat", "twox64_concat", 8, 1},
    [GN_HASHER_IDENTITY] = {"Identity", "identity", 0, 1},
};

static int valid(gn_hasher_t h)
{
    return (unsigned)h < GN_HASHER_COUNT;
}

size_t gn_hasher_out_len(gn_hasher_t h, size_t len)
{
    if (!valid(h))
        return 0;
    return (size_t)hashers[h].hash_len + (hashers[h].concat ? len : 0);
}

int gn_hasher_prefix_len(gn_hasher_t h)
{
    if (!valid(h) || !hashers[h].concat)
        return -1;
    return hashers[h].hash_len;
}

int gn_hasher_apply(gn_hasher_t h, const uint8_t *in, size_t len, uint8_t *out, size_t cap,
                    size_t *out_len)
{
    if (!valid(h) || (in == NULL && len))
        return GN_EINVAL;
    size_t need = gn_hasher_out_len(h, len);
    if (cap < need)
        return GN_ENOSPC;
    switch (h) {
    case GN_HASHER_BLAKE2_128:
    case GN_HASHER_BLAKE2_128_CONCAT: gn_blake2b_128(in, len, out); break;
    case GN_HASHER_BLAKE2_256: gn_blake2b_256(in, len, out); break;
    case GN_HASHER_TWOX128: gn_twox128(in, len, out); break;
    case GN_HASHER_TWOX256: gn_twox256(in, len, out); break;
    case GN_HASHER_TWOX64_CONCAT: gn_twox64(in, len, out); break;
    case GN_HASHER_IDENTITY: break;
    }
    if (hashers[h].concat && len)
        memcpy(out + hashers[h].hash_len, in, len);
    if (out_len)
        *out_len = need;
    return 0;
}

const char *gn_hasher_name(gn_hasher_t h)
{
    return valid(h) ? hashers[h].name : "?";
}

int gn_hasher_from_name(const char *name, gn_hasher_t *h)
{
    for (int i = 0; i < GN_HASHER_COUNT; i++) {
        if (strcmp(name, hashers[i].name) == 0 || strcasecmp(name, hashers[i].snake) == 0) {
            *h = (gn_hasher_t)i;
            return 0;
        }
    }
    return GN_EINVAL;
}
