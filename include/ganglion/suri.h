/* Secret URIs, as Substrate (and btwallet's create_from_uri) read them:
 *
 *   [phrase | 0x<32-byte hex seed>] ( //hard | /soft )* [///password]
 *
 * An absent phrase is Substrate's development phrase ("//Alice" is
 * DEV_PHRASE//Alice). The password is the mnemonic's BIP39 passphrase and is
 * ignored for hex seeds. Junctions become chain codes with
 * gn_sr25519_chain_code(). */
#ifndef GANGLION_SURI_H
#define GANGLION_SURI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/sr25519.h"

#define GN_SURI_DEV_PHRASE    "bottom drive obey lake curtain smoke basket hold race lonely fit walk"
#define GN_SURI_MAX_JUNCTIONS 64

typedef struct gn_suri_junction {
    uint8_t chain_code[32];
    bool hard;
} gn_suri_junction_t;

/* The pieces of a URI. `phrase` and `password` point into the input (the
 * phrase is the DEV_PHRASE constant when absent). */
typedef struct gn_suri {
    const char *phrase;
    size_t phrase_len;
    const char *password; /* NULL when there is no ///password */
    size_t password_len;
    gn_suri_junction_t junctions[GN_SURI_MAX_JUNCTIONS];
    size_t n_junctions;
} gn_suri_t;

/* GN_ESURI for text that is no secret URI. */
int gn_suri_parse(const char *uri, size_t len, gn_suri_t *out);

/* The keypair a URI names. `random` (32 bytes) feeds the nonce of soft
 * steps, as in schnorrkel. `mini` gets the mini secret and *has_mini is set
 * when every step is hard (the key then has a seed); either may be NULL.
 * GN_ESURI, GN_EMNEMONIC, GN_EINVAL (a hex seed that is not 32 bytes). */
int gn_suri_keypair(const char *uri, size_t len, const uint8_t random[32], gn_sr25519_keypair_t *kp,
                    uint8_t mini[32], bool *has_mini);

#endif
