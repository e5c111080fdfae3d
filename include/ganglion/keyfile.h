/* Bittensor keyfiles (wire spec §8.2, §8.4): the plain JSON form and the
 * "$NACL" encrypted form, on buffers (the wallet commands do the file I/O).
 *
 * JSON keys: accountId, publicKey (0x + 32 bytes), privateKey (0x + 64 bytes,
 * canonical schnorrkel form), secretPhrase, secretSeed (0x + 32-byte mini
 * secret), ss58Address. Readers accept any order, null values and unknown
 * keys; a secretSeed that is not hex is treated as absent (a btwallet quirk).
 *
 * $NACL = "$NACL" ‖ nonce(24) ‖ secretbox(MAC16 ‖ ciphertext), with the key
 * argon2i13(password, fixed salt, opslimit 8, memlimit 512 MiB). Deriving the
 * key takes 512 MiB and about a second: keep it off any event loop. */
#ifndef GANGLION_KEYFILE_H
#define GANGLION_KEYFILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/mnemonic.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"

typedef enum {
    GN_KEYFILE_PLAIN = 0,
    GN_KEYFILE_NACL,
    GN_KEYFILE_ANSIBLE, /* "$ANSIBLE_VAULT": legacy, refused */
    GN_KEYFILE_FERNET,  /* "gAAAAA": oldest legacy, refused */
} gn_keyfile_format_t;

#define GN_KF_PUBLIC  1u
#define GN_KF_PRIVATE 2u
#define GN_KF_SEED    4u
#define GN_KF_PHRASE  8u
#define GN_KF_SS58    16u

typedef struct gn_keyfile {
    unsigned has; /* GN_KF_* bits */
    uint8_t public_key[32];
    uint8_t private_key[64];
    uint8_t seed[32];
    char phrase[GN_MNEMONIC_MAX];
    char ss58[GN_SS58_ADDR_MAX];
} gn_keyfile_t;

#define GN_KEYFILE_NACL_OVERHEAD (5 + 24 + 16)
#define GN_KEYFILE_NONCE_LEN     24

gn_keyfile_format_t gn_keyfile_detect(const uint8_t *data, size_t len);
/* The format's name, for messages ("$NACL", "Ansible Vault", ...). */
const char *gn_keyfile_format_name(gn_keyfile_format_t f);

/* Parse plain keyfile JSON. GN_EKEYFILE for anything that is not a JSON
 * object of the expected shape or whose public key fields disagree. */
int gn_keyfile_parse(const uint8_t *json, size_t len, gn_keyfile_t *kf);

/* The keypair, from secretPhrase, else secretSeed, else privateKey;
 * GN_ENOENT when the file is public only; GN_EKEYFILE when the secret does
 * not match the stored public key. */
int gn_keyfile_keypair(const gn_keyfile_t *kf, gn_sr25519_keypair_t *kp);
/* The public key from publicKey/accountId or ss58Address. */
int gn_keyfile_public(const gn_keyfile_t *kf, uint8_t pub[32]);

/* Fill every field from a keypair; phrase and seed may be NULL. */
int gn_keyfile_from_keypair(gn_keyfile_t *kf, const gn_sr25519_keypair_t *kp, const char *phrase,
                            const uint8_t seed[32]);

/* Compact JSON of the keys present (public_only: accountId, publicKey,
 * ss58Address). *out is malloc'd: release with gn_keyfile_free_text(),
 * which wipes it first. */
int gn_keyfile_to_json(const gn_keyfile_t *kf, bool public_only, char **out, size_t *len);
void gn_keyfile_free_text(char *text, size_t len);
void gn_keyfile_wipe(gn_keyfile_t *kf);

/* The $NACL key of a password (argon2i; GN_ENOMEM when 512 MiB cannot be had). */
int gn_keyfile_derive_key(const char *password, size_t len, uint8_t key[32]);
/* Seal plain bytes into a $NACL file (cap >= len + GN_KEYFILE_NACL_OVERHEAD). */
int gn_keyfile_seal(const uint8_t *plain, size_t len, const uint8_t key[32],
                    const uint8_t nonce[24], uint8_t *out, size_t cap, size_t *out_len);
/* Open a $NACL file. GN_EPASSWORD when the key does not open it, GN_ELEGACY
 * for legacy encryption, GN_EKEYFILE for anything else. */
int gn_keyfile_open(const uint8_t *data, size_t len, const uint8_t key[32], uint8_t *out,
                    size_t cap, size_t *out_len);

#endif
