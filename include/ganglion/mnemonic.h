/* BIP39 English mnemonics and Substrate's mnemonic → mini secret rule.
 *
 * Substrate (substrate-bip39) does not use the standard BIP39 seed: the mini
 * secret is PBKDF2-HMAC-SHA512(password = the mnemonic's *entropy*,
 * salt = "mnemonic" ‖ passphrase, 2048 rounds)[0..32] (wire spec §8.3). */
#ifndef GANGLION_MNEMONIC_H
#define GANGLION_MNEMONIC_H

#include <stddef.h>
#include <stdint.h>

/* 24 words of at most 8 letters, 23 spaces and a NUL */
#define GN_MNEMONIC_MAX         240
#define GN_MNEMONIC_MAX_ENTROPY 32

/* Words (12, 15, 18, 21 or 24, separated by whitespace) → entropy (16..32
 * bytes). GN_EMNEMONIC for an unknown word, a wrong count or a bad checksum. */
int gn_mnemonic_to_entropy(const char *phrase, size_t len, uint8_t entropy[32], size_t *n);

/* Entropy (16, 20, 24, 28 or 32 bytes) → words joined by single spaces,
 * NUL-terminated. For a new mnemonic pass entropy from randombytes_buf(). */
int gn_mnemonic_from_entropy(const uint8_t *entropy, size_t n, char *out, size_t cap);

/* Substrate's mini secret of a mnemonic's entropy and passphrase. */
int gn_mnemonic_mini_secret(const uint8_t *entropy, size_t n, const char *passphrase, size_t plen,
                            uint8_t mini[32]);

/* Both steps: words (+ passphrase) → mini secret. */
int gn_mnemonic_to_mini_secret(const char *phrase, size_t len, const char *passphrase, size_t plen,
                               uint8_t mini[32]);

/* PBKDF2-HMAC-SHA512 (RFC 8018) on libsodium's HMAC; exposed for tests. */
int gn_pbkdf2_sha512(const uint8_t *pw, size_t pwlen, const uint8_t *salt, size_t saltlen,
                     uint32_t rounds, uint8_t *out, size_t outlen);

#endif
