/* sr25519: Schnorr signatures over ristretto255 as schnorrkel defines them,
 * with the signing context "substrate" that Substrate and Bittensor use.
 * Built on libsodium's ristretto255 point and scalar functions and the
 * Merlin transcripts of merlin.h.
 *
 * Keys: a 32-byte mini secret expands (ExpansionMode::Ed25519) to a secret
 * scalar and a 32-byte nonce; the public key is scalar·B, compressed.
 * Two 64-byte secret forms exist (wire spec §8.2):
 *   private  scalar (canonical, mod l) ‖ nonce  — Bittensor keyfiles' privateKey
 *   ed25519  scalar·8 (mod 2^256)      ‖ nonce  — polkadot-js / @scure form
 *
 * Randomness is an argument (32 bytes), so this module stays pure: draw it
 * with randombytes_buf(). */
#ifndef GANGLION_SR25519_H
#define GANGLION_SR25519_H

#include <stddef.h>
#include <stdint.h>

#include "ganglion/merlin.h"

#define GN_SR25519_MINI_LEN       32
#define GN_SR25519_PUBLIC_LEN     32
#define GN_SR25519_SECRET_LEN     64
#define GN_SR25519_SIG_LEN        64
#define GN_SR25519_CHAIN_CODE_LEN 32

typedef struct gn_sr25519_keypair {
    uint8_t scalar[32]; /* secret, canonical little endian */
    uint8_t nonce[32];  /* secret */
    uint8_t pub[32];
} gn_sr25519_keypair_t;

/* Expand a mini secret. */
int gn_sr25519_from_mini(gn_sr25519_keypair_t *kp, const uint8_t mini[32]);
/* From the canonical 64-byte secret (GN_EBADKEY if the scalar is >= l). */
int gn_sr25519_from_private(gn_sr25519_keypair_t *kp, const uint8_t secret[64]);
/* From the ×8 form (GN_EBADKEY if its low 3 bits are not zero). */
int gn_sr25519_from_ed25519(gn_sr25519_keypair_t *kp, const uint8_t secret[64]);
void gn_sr25519_private_bytes(const gn_sr25519_keypair_t *kp, uint8_t out[64]);
void gn_sr25519_ed25519_bytes(const gn_sr25519_keypair_t *kp, uint8_t out[64]);
void gn_sr25519_wipe(gn_sr25519_keypair_t *kp);

/* Sign `msg` in context "substrate". `random` feeds the witness as
 * schnorrkel's RNG would: fresh random bytes for every signature. */
int gn_sr25519_sign(const gn_sr25519_keypair_t *kp, const uint8_t *msg, size_t len,
                    const uint8_t random[32], uint8_t sig[64]);

/* Signing with the witness made ahead of time, so that the costly half of
 * a signature (R = r·B) runs off the signing path, e.g. on idle threads.
 * r is uniformly random: BLAKE2b-512 of `random` keyed with the key's
 * nonce, reduced mod l (a weak RNG alone does not expose it). Unlike
 * gn_sr25519_sign's, the witness cannot depend on the message, so one
 * witness must sign exactly one message: gn_sr25519_sign_witness wipes it
 * and refuses a wiped one (GN_EINVAL). The signature is the same Schnorr
 * signature (gn_sr25519_verify, schnorrkel and @scure/sr25519 verify it).
 * The witness is as secret as the key: wipe unused ones
 * (sodium_memzero), never copy one. */
typedef struct gn_sr25519_witness {
    uint8_t r[32]; /* secret scalar; all zero once used */
    uint8_t R[32]; /* r·B, compressed */
} gn_sr25519_witness_t;

int gn_sr25519_witness(const gn_sr25519_keypair_t *kp, const uint8_t random[32],
                       gn_sr25519_witness_t *w);
int gn_sr25519_sign_witness(const gn_sr25519_keypair_t *kp, const uint8_t *msg, size_t len,
                            gn_sr25519_witness_t *w, uint8_t sig[64]);

/* The transcript every signature starts with (signing_context
 * "substrate"), the same for every key and message: made once and passed
 * to gn_sr25519_sign_witness_ctx (which copies it), it saves a Keccak
 * permutation per signature. */
void gn_sr25519_context(gn_merlin_t *ctx);
int gn_sr25519_sign_witness_ctx(const gn_merlin_t *ctx, const gn_sr25519_keypair_t *kp,
                                const uint8_t *msg, size_t len, gn_sr25519_witness_t *w,
                                uint8_t sig[64]);

/* 0 when valid; GN_EBADSIG for a signature that does not verify, is not
 * marked as schnorrkel's (bit 7 of byte 63), or has a non-canonical s;
 * GN_EBADKEY for a public key that is no ristretto255 encoding. */
int gn_sr25519_verify(const uint8_t pub[32], const uint8_t *msg, size_t len, const uint8_t sig[64]);

/* Hard derivation (`//junction`): the child's mini secret and chain code
 * from the parent's secret and the junction's chain code. */
int gn_sr25519_derive_hard(const gn_sr25519_keypair_t *parent, const uint8_t cc[32],
                           uint8_t child_mini[32], uint8_t child_cc[32]);
/* Soft derivation (`/junction`) of a secret key; `random` makes the child's
 * nonce as schnorrkel does (its nonce is random, its scalar is not). */
int gn_sr25519_derive_soft(const gn_sr25519_keypair_t *parent, const uint8_t cc[32],
                           const uint8_t random[32], gn_sr25519_keypair_t *child,
                           uint8_t child_cc[32]);
/* Soft derivation of a public key alone (same child public key). */
int gn_sr25519_derive_public(const uint8_t pub[32], const uint8_t cc[32], uint8_t child[32],
                             uint8_t child_cc[32]);

/* A junction's chain code (Substrate's rule): a decimal that fits u64 is
 * its 8 bytes LE; other text is SCALE-encoded (compact length ‖ bytes);
 * more than 32 bytes are replaced by their blake2b-256; zero padded. */
int gn_sr25519_chain_code(const char *junction, size_t len, uint8_t cc[32]);

#endif
