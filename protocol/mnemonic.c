#include "ganglion/mnemonic.h"
#include "ganglion/error.h"

#include <sodium.h>
#include <string.h>

#include "bip39_english.h"
#include "le.h"

/* Binary search by explicit lengths: the input word may hold any bytes,
 * NUL included, and is never read as a C string. */
static int word_index(const char *w, size_t len)
{
    int lo = 0, hi = 2047;
    while (lo <= hi) {
        int mid = (lo + hi) / 2;
        const char *m = gn_bip39_english[mid];
        size_t ml = strlen(m);
        int c = memcmp(m, w, ml < len ? ml : len);
        if (c == 0)
            c = ml < len ? -1 : ml > len ? 1 : 0;
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

int gn_mnemonic_to_entropy(const char *phrase, size_t len, uint8_t entropy[32], size_t *n)
{
    /* 24 words × 11 bits = 264 bits: entropy (≤ 256) then checksum (≤ 8) */
    uint8_t bits[33] = {0};
    size_t words = 0, i = 0;
    while (i < len) {
        while (i < len && is_space(phrase[i]))
            i++;
        size_t start = i;
        while (i < len && !is_space(phrase[i]))
            i++;
        if (i == start)
            break;
        if (words == 24 || i - start > 8)
            return GN_EMNEMONIC;
        int idx = word_index(phrase + start, i - start);
        if (idx < 0)
            return GN_EMNEMONIC;
        for (int b = 0; b < 11; b++) {
            size_t bit = words * 11 + (size_t)b;
            if (idx >> (10 - b) & 1)
                bits[bit / 8] |= (uint8_t)(0x80 >> (bit % 8));
        }
        words++;
    }
    if (words < 12 || words % 3 != 0) {
        sodium_memzero(bits, sizeof(bits));
        return GN_EMNEMONIC;
    }
    size_t ent = words * 11 * 32 / 33 / 8, cs_bits = words * 11 / 33;
    uint8_t hash[32];
    crypto_hash_sha256(hash, bits, ent);
    /* the checksum bits follow the entropy and start at a byte boundary */
    unsigned mask = (0xff00u >> cs_bits) & 0xff;
    int ok = (bits[ent] & mask) == (hash[0] & mask);
    if (ok) {
        memcpy(entropy, bits, ent);
        *n = ent;
    }
    sodium_memzero(bits, sizeof(bits));
    sodium_memzero(hash, sizeof(hash));
    return ok ? 0 : GN_EMNEMONIC;
}

int gn_mnemonic_from_entropy(const uint8_t *entropy, size_t n, char *out, size_t cap)
{
    if (n < 16 || n > 32 || n % 4 != 0)
        return GN_EINVAL;
    uint8_t bits[33] = {0}, hash[32];
    memcpy(bits, entropy, n);
    crypto_hash_sha256(hash, entropy, n);
    bits[n] = hash[0]; /* only the first n/4 bits are used */
    size_t words = (n * 8 + n / 4) / 11, o = 0;
    int rc = 0;
    for (size_t w = 0; w < words; w++) {
        unsigned idx = 0;
        for (int b = 0; b < 11; b++) {
            size_t bit = w * 11 + (size_t)b;
            idx = idx << 1 | (bits[bit / 8] >> (7 - bit % 8) & 1);
        }
        const char *word = gn_bip39_english[idx];
        size_t wl = strlen(word);
        if (o + wl + 2 > cap) {
            rc = GN_ENOSPC;
            break;
        }
        if (w)
            out[o++] = ' ';
        memcpy(out + o, word, wl);
        o += wl;
    }
    if (rc == 0)
        out[o] = '\0';
    else if (cap)
        sodium_memzero(out, cap);
    sodium_memzero(bits, sizeof(bits));
    sodium_memzero(hash, sizeof(hash));
    return rc;
}

int gn_pbkdf2_sha512(const uint8_t *pw, size_t pwlen, const uint8_t *salt, size_t saltlen,
                     uint32_t rounds, uint8_t *out, size_t outlen)
{
    crypto_auth_hmacsha512_state base, st;
    uint8_t u[64], t[64], ctr[4];
    if (rounds == 0)
        return GN_EINVAL;
    crypto_auth_hmacsha512_init(&base, pw, pwlen);
    for (uint32_t block = 1; outlen > 0; block++) {
        ctr[0] = (uint8_t)(block >> 24);
        ctr[1] = (uint8_t)(block >> 16);
        ctr[2] = (uint8_t)(block >> 8);
        ctr[3] = (uint8_t)block;
        st = base;
        crypto_auth_hmacsha512_update(&st, salt, saltlen);
        crypto_auth_hmacsha512_update(&st, ctr, 4);
        crypto_auth_hmacsha512_final(&st, u);
        memcpy(t, u, 64);
        for (uint32_t r = 1; r < rounds; r++) {
            st = base;
            crypto_auth_hmacsha512_update(&st, u, 64);
            crypto_auth_hmacsha512_final(&st, u);
            for (int k = 0; k < 64; k++)
                t[k] ^= u[k];
        }
        size_t take = outlen < 64 ? outlen : 64;
        memcpy(out, t, take);
        out += take;
        outlen -= take;
    }
    sodium_memzero(&base, sizeof(base));
    sodium_memzero(&st, sizeof(st));
    sodium_memzero(u, sizeof(u));
    sodium_memzero(t, sizeof(t));
    return 0;
}

int gn_mnemonic_mini_secret(const uint8_t *entropy, size_t n, const char *passphrase, size_t plen,
                            uint8_t mini[32])
{
    if (n < 16 || n > 32 || n % 4 != 0 || (passphrase == NULL && plen))
        return GN_EINVAL;
    if (plen > 1024)
        return GN_ERANGE;
    uint8_t salt[8 + 1024], seed[64];
    memcpy(salt, "mnemonic", 8);
    if (plen)
        memcpy(salt + 8, passphrase, plen);
    int rc = gn_pbkdf2_sha512(entropy, n, salt, 8 + plen, 2048, seed, 64);
    if (rc == 0)
        memcpy(mini, seed, 32);
    sodium_memzero(salt, sizeof(salt));
    sodium_memzero(seed, sizeof(seed));
    return rc;
}

int gn_mnemonic_to_mini_secret(const char *phrase, size_t len, const char *passphrase, size_t plen,
                               uint8_t mini[32])
{
    uint8_t entropy[32];
    size_t n;
    int rc = gn_mnemonic_to_entropy(phrase, len, entropy, &n);
    if (rc == 0)
        rc = gn_mnemonic_mini_secret(entropy, n, passphrase, plen, mini);
    sodium_memzero(entropy, sizeof(entropy));
    return rc;
}
