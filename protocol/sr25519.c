#include "ganglion/sr25519.h"
#include "ganglion/error.h"
#include "ganglion/hashing.h"
#include "ganglion/merlin.h"
#include "ganglion/scale.h"

#include <sodium.h>
#include <string.h>

#include "le.h"

/* l = 2^252 + 27742317777372353535851937790883648493, little endian */
static const uint8_t ell[32] = {0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7,
                                0xa2, 0xde, 0xf9, 0xde, 0x14, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
                                0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10};

/* s < l, in constant time (used on secret scalars too) */
static int scalar_is_canonical(const uint8_t s[32])
{
    unsigned borrow = 0;
    for (int i = 0; i < 32; i++)
        borrow = (unsigned)(s[i] - ell[i] - borrow) >> 8 & 1;
    return (int)borrow; /* s - l borrowed: s < l */
}

static void shift_right3(const uint8_t in[32], uint8_t out[32])
{
    for (int i = 0; i < 32; i++)
        out[i] = (uint8_t)(in[i] >> 3 | (i < 31 ? in[i + 1] << 5 : 0));
}

static void shift_left3(const uint8_t in[32], uint8_t out[32])
{
    for (int i = 31; i >= 0; i--)
        out[i] = (uint8_t)(in[i] << 3 | (i > 0 ? in[i - 1] >> 5 : 0));
}

/* scalar·B; scalar < 2^255. libsodium returns -1 for the identity, whose
 * encoding (all zeros) is still written, and is a valid result here. */
static void base_mul(uint8_t out[32], const uint8_t scalar[32])
{
    (void)crypto_scalarmult_ristretto255_base(out, scalar);
}

static int set_public(gn_sr25519_keypair_t *kp)
{
    base_mul(kp->pub, kp->scalar);
    return 0;
}

int gn_sr25519_from_mini(gn_sr25519_keypair_t *kp, const uint8_t mini[32])
{
    uint8_t h[64];
    crypto_hash_sha512(h, mini, 32);
    h[0] &= 248;
    h[31] &= 63;
    h[31] |= 64;
    /* the clamped key divided by the cofactor: below 2^252 < l, canonical */
    shift_right3(h, kp->scalar);
    memcpy(kp->nonce, h + 32, 32);
    sodium_memzero(h, sizeof(h));
    return set_public(kp);
}

int gn_sr25519_from_private(gn_sr25519_keypair_t *kp, const uint8_t secret[64])
{
    if (!scalar_is_canonical(secret))
        return GN_EBADKEY;
    memcpy(kp->scalar, secret, 32);
    memcpy(kp->nonce, secret + 32, 32);
    return set_public(kp);
}

int gn_sr25519_from_ed25519(gn_sr25519_keypair_t *kp, const uint8_t secret[64])
{
    uint8_t s[32];
    if (secret[0] & 7)
        return GN_EBADKEY;
    shift_right3(secret, s);
    if (!scalar_is_canonical(s)) {
        sodium_memzero(s, sizeof(s));
        return GN_EBADKEY;
    }
    memcpy(kp->scalar, s, 32);
    memcpy(kp->nonce, secret + 32, 32);
    sodium_memzero(s, sizeof(s));
    return set_public(kp);
}

void gn_sr25519_private_bytes(const gn_sr25519_keypair_t *kp, uint8_t out[64])
{
    memcpy(out, kp->scalar, 32);
    memcpy(out + 32, kp->nonce, 32);
}

void gn_sr25519_ed25519_bytes(const gn_sr25519_keypair_t *kp, uint8_t out[64])
{
    shift_left3(kp->scalar, out);
    memcpy(out + 32, kp->nonce, 32);
}

void gn_sr25519_wipe(gn_sr25519_keypair_t *kp)
{
    sodium_memzero(kp, sizeof(*kp));
}

void gn_sr25519_context(gn_merlin_t *ctx)
{
    gn_merlin_init(ctx, "SigningContext");
    gn_merlin_append(ctx, "", (const uint8_t *)"substrate", 9);
}

/* The rest of signing_context("substrate").bytes(msg) from the context,
 * up to sign:pk. */
static void sign_transcript_from(gn_merlin_t *t, const uint8_t pub[32], const uint8_t *msg,
                                 size_t len)
{
    gn_merlin_append(t, "sign-bytes", msg, len);
    gn_merlin_append(t, "proto-name", (const uint8_t *)"Schnorr-sig", 11);
    gn_merlin_append(t, "sign:pk", pub, 32);
}

/* Transcript of signing_context("substrate").bytes(msg), up to sign:pk. */
static void sign_transcript(gn_merlin_t *t, const uint8_t pub[32], const uint8_t *msg, size_t len)
{
    gn_sr25519_context(t);
    gn_merlin_append(t, "sign-bytes", msg, len);
    gn_merlin_append(t, "proto-name", (const uint8_t *)"Schnorr-sig", 11);
    gn_merlin_append(t, "sign:pk", pub, 32);
}

static void challenge_scalar(gn_merlin_t *t, const char *label, uint8_t out[32])
{
    uint8_t wide[64];
    gn_merlin_challenge(t, label, wide, 64);
    crypto_core_ristretto255_scalar_reduce(out, wide);
}

int gn_sr25519_sign(const gn_sr25519_keypair_t *kp, const uint8_t *msg, size_t len,
                    const uint8_t random[32], uint8_t sig[64])
{
    gn_merlin_t t;
    gn_merlin_rng_t rng;
    uint8_t wide[64], r[32], k[32], kx[32];
    if (msg == NULL && len)
        return GN_EINVAL;
    sign_transcript(&t, kp->pub, msg, len);

    gn_merlin_rng_init(&rng, &t);
    gn_merlin_rng_rekey(&rng, "signing", kp->nonce, 32);
    gn_merlin_rng_finalize(&rng, random);
    gn_merlin_rng_fill(&rng, wide, 64);
    crypto_core_ristretto255_scalar_reduce(r, wide);

    base_mul(sig, r); /* R */
    gn_merlin_append(&t, "sign:R", sig, 32);
    challenge_scalar(&t, "sign:c", k);
    crypto_core_ristretto255_scalar_mul(kx, k, kp->scalar);
    crypto_core_ristretto255_scalar_add(sig + 32, kx, r); /* s = k·x + r */
    sig[63] |= 0x80;

    sodium_memzero(&rng, sizeof(rng));
    sodium_memzero(&t, sizeof(t));
    sodium_memzero(wide, sizeof(wide));
    sodium_memzero(r, sizeof(r));
    sodium_memzero(kx, sizeof(kx));
    return 0;
}

int gn_sr25519_witness(const gn_sr25519_keypair_t *kp, const uint8_t random[32],
                       gn_sr25519_witness_t *w)
{
    static const char DOMAIN[] = "ganglion sr25519 witness";
    uint8_t wide[64];
    crypto_generichash_state h;
    if (crypto_generichash_init(&h, kp->nonce, 32, sizeof(wide)) != 0)
        return GN_EFATAL;
    crypto_generichash_update(&h, (const uint8_t *)DOMAIN, sizeof(DOMAIN) - 1);
    crypto_generichash_update(&h, random, 32);
    crypto_generichash_final(&h, wide, sizeof(wide));
    crypto_core_ristretto255_scalar_reduce(w->r, wide);
    sodium_memzero(&h, sizeof(h));
    sodium_memzero(wide, sizeof(wide));
    if (sodium_is_zero(w->r, 32)) /* 2^-252: a zero r would read as used */
        return GN_EFATAL;
    base_mul(w->R, w->r);
    return 0;
}

int gn_sr25519_sign_witness(const gn_sr25519_keypair_t *kp, const uint8_t *msg, size_t len,
                            gn_sr25519_witness_t *w, uint8_t sig[64])
{
    gn_merlin_t ctx;
    gn_sr25519_context(&ctx);
    return gn_sr25519_sign_witness_ctx(&ctx, kp, msg, len, w, sig);
}

int gn_sr25519_sign_witness_ctx(const gn_merlin_t *ctx, const gn_sr25519_keypair_t *kp,
                                const uint8_t *msg, size_t len, gn_sr25519_witness_t *w,
                                uint8_t sig[64])
{
    gn_merlin_t t = *ctx;
    uint8_t k[32], kx[32];
    if ((msg == NULL && len) || sodium_is_zero(w->r, 32))
        return GN_EINVAL;
    sign_transcript_from(&t, kp->pub, msg, len);
    memcpy(sig, w->R, 32);
    gn_merlin_append(&t, "sign:R", sig, 32);
    challenge_scalar(&t, "sign:c", k);
    crypto_core_ristretto255_scalar_mul(kx, k, kp->scalar);
    crypto_core_ristretto255_scalar_add(sig + 32, kx, w->r); /* s = k·x + r */
    sig[63] |= 0x80;
    sodium_memzero(w, sizeof(*w)); /* used: never again */
    sodium_memzero(&t, sizeof(t));
    sodium_memzero(kx, sizeof(kx));
    return 0;
}

int gn_sr25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len, const uint8_t sig[64])
{
    uint8_t s[32], k[32], sb[32], ka[32], rr[32];
    gn_merlin_t t;
    if (msg == NULL && len)
        return GN_EINVAL;
    if (!crypto_core_ristretto255_is_valid_point(pub) && !sodium_is_zero(pub, 32))
        return GN_EBADKEY;
    if (!(sig[63] & 0x80))
        return GN_EBADSIG; /* not marked as a schnorrkel signature */
    memcpy(s, sig + 32, 32);
    s[31] &= 0x7f;
    if (!scalar_is_canonical(s))
        return GN_EBADSIG;

    sign_transcript(&t, pub, msg, len);
    gn_merlin_append(&t, "sign:R", sig, 32);
    challenge_scalar(&t, "sign:c", k);

    /* R' = s·B − k·A, compared with R as encoded (R' is canonical) */
    base_mul(sb, s);
    if (crypto_scalarmult_ristretto255(ka, k, pub) != 0 && !sodium_is_zero(ka, 32))
        return GN_EBADKEY;
    if (crypto_core_ristretto255_sub(rr, sb, ka) != 0)
        return GN_EBADSIG;
    return sodium_memcmp(rr, sig, 32) == 0 ? 0 : GN_EBADSIG;
}

int gn_sr25519_derive_hard(const gn_sr25519_keypair_t *parent, const uint8_t cc[32],
                           uint8_t child_mini[32], uint8_t child_cc[32])
{
    gn_merlin_t t;
    gn_merlin_init(&t, "SchnorrRistrettoHDKD");
    gn_merlin_append(&t, "sign-bytes", NULL, 0);
    gn_merlin_append(&t, "chain-code", cc, 32);
    gn_merlin_append(&t, "secret-key", parent->scalar, 32);
    gn_merlin_challenge(&t, "HDKD-hard", child_mini, 32);
    gn_merlin_challenge(&t, "HDKD-chaincode", child_cc, 32);
    sodium_memzero(&t, sizeof(t));
    return 0;
}

/* The soft step's scalar and chain code, from the parent's public key. */
static void soft_scalar(gn_merlin_t *t, const uint8_t pub[32], const uint8_t cc[32],
                        uint8_t scalar[32], uint8_t child_cc[32])
{
    gn_merlin_init(t, "SchnorrRistrettoHDKD");
    gn_merlin_append(t, "sign-bytes", NULL, 0);
    gn_merlin_append(t, "chain-code", cc, 32);
    gn_merlin_append(t, "public-key", pub, 32);
    challenge_scalar(t, "HDKD-scalar", scalar);
    gn_merlin_challenge(t, "HDKD-chaincode", child_cc, 32);
}

int gn_sr25519_derive_soft(const gn_sr25519_keypair_t *parent, const uint8_t cc[32],
                           const uint8_t random[32], gn_sr25519_keypair_t *child,
                           uint8_t child_cc[32])
{
    gn_merlin_t t;
    gn_merlin_rng_t rng;
    uint8_t d[32], ccout[32];
    soft_scalar(&t, parent->pub, cc, d, ccout);

    /* nonce: witness bytes over the parent's nonce and secret, as schnorrkel */
    gn_sr25519_keypair_t out;
    gn_merlin_rng_init(&rng, &t);
    uint8_t secret[64];
    gn_sr25519_private_bytes(parent, secret);
    gn_merlin_rng_rekey(&rng, "HDKD-nonce", parent->nonce, 32);
    gn_merlin_rng_rekey(&rng, "HDKD-nonce", secret, 64);
    sodium_memzero(secret, sizeof(secret));
    gn_merlin_rng_finalize(&rng, random);
    gn_merlin_rng_fill(&rng, out.nonce, 32);

    crypto_core_ristretto255_scalar_add(out.scalar, parent->scalar, d);
    set_public(&out);
    *child = out;
    memcpy(child_cc, ccout, 32);
    sodium_memzero(&out, sizeof(out));
    sodium_memzero(&rng, sizeof(rng));
    sodium_memzero(&t, sizeof(t));
    return 0;
}

int gn_sr25519_derive_public(const uint8_t pub[32], const uint8_t cc[32], uint8_t child[32],
                             uint8_t child_cc[32])
{
    gn_merlin_t t;
    uint8_t d[32], db[32];
    if (!crypto_core_ristretto255_is_valid_point(pub))
        return GN_EBADKEY;
    soft_scalar(&t, pub, cc, d, child_cc);
    base_mul(db, d);
    if (crypto_core_ristretto255_add(child, pub, db) != 0)
        return GN_EBADKEY;
    return 0;
}

int gn_sr25519_chain_code(const char *junction, size_t len, uint8_t cc[32])
{
    memset(cc, 0, 32);
    /* a decimal u64 (digits only) is its little-endian bytes */
    int digits = len > 0 && len <= 20;
    uint64_t v = 0;
    for (size_t i = 0; digits && i < len; i++) {
        unsigned d = (unsigned char)junction[i] - '0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            digits = 0;
        else
            v = v * 10 + d;
    }
    if (digits) {
        gn_le_store(cc, v, 8);
        return 0;
    }
    uint8_t prefix[17];
    gn_scale_writer_t w;
    gn_scale_writer_init_fixed(&w, prefix, sizeof(prefix));
    gn_scale_write_compact(&w, len);
    if (w.len + len > 32) {
        crypto_generichash_state h;
        crypto_generichash_init(&h, NULL, 0, 32);
        crypto_generichash_update(&h, prefix, w.len);
        crypto_generichash_update(&h, (const uint8_t *)junction, len);
        crypto_generichash_final(&h, cc, 32);
    } else {
        memcpy(cc, prefix, w.len);
        memcpy(cc + w.len, junction, len);
    }
    return 0;
}
