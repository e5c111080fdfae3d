/* Calls and signed extrinsics (format v4), built from the metadata.
 *
 * Signed extensions are taken from the metadata in order. Each one's
 * "extra" (in the extrinsic) and "additional signed" (in the payload only)
 * are encoded through their declared types from values this module knows
 * by identifier: CheckSpecVersion, CheckTxVersion, CheckGenesis,
 * CheckMortality/CheckEra, CheckNonce, ChargeTransactionPayment,
 * ChargeAssetTxPayment (native asset), CheckMetadataHash (disabled unless a
 * hash is given); any other extension must have empty types (as
 * CheckNonZeroSender, CheckWeight and subtensor's own extensions do), else
 * GN_EUNSUPPORTED names it.
 *
 * The signing payload is call ‖ extra ‖ additional; when it is longer than
 * 256 bytes its blake2b-256 is what gets signed. */
#ifndef GANGLION_EXTRINSIC_H
#define GANGLION_EXTRINSIC_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/metadata.h"
#include "ganglion/scale.h"
#include "ganglion/sr25519.h"
#include "ganglion/value.h"

typedef struct gn_tx_params {
    uint32_t spec_version;
    uint32_t tx_version;
    uint8_t genesis_hash[32];
    uint64_t period;        /* 0: immortal; else rounded up to a power of two in 4..65536 */
    uint64_t block_number;  /* mortal: the era starts here */
    uint8_t block_hash[32]; /* mortal: the hash of block_number */
    uint64_t nonce;
    gn_u128_t tip;
    const uint8_t *metadata_hash; /* 32 bytes enables CheckMetadataHash; NULL disables */
} gn_tx_params_t;

/* Encode the call pallet.call(args) (pallet index ‖ call index ‖ fields). */
int gn_extrinsic_call_json(const gn_metadata_t *md, const char *pallet, const char *call,
                           const json_t *args, gn_scale_writer_t *w, char *err, size_t cap);

/* A mortal era for `period` starting at `block`: 2 bytes; period 0 gives the
 * immortal era (1 byte, 0x00). Returns the length written to out. */
size_t gn_extrinsic_era(uint64_t period, uint64_t block, uint8_t out[2]);

/* The extrinsic's extra bytes and the payload's additional-signed bytes. */
int gn_extrinsic_extensions(const gn_metadata_t *md, const gn_tx_params_t *p,
                            gn_scale_writer_t *extra, gn_scale_writer_t *additional, char *err,
                            size_t cap);

/* Sign call data and write the whole extrinsic (length-prefixed, as
 * author_submitExtrinsic takes it). `random`: 32 bytes for the signature
 * (randombytes_buf). The signing payload may be written to `payload` (may
 * be NULL) for inspection. */
int gn_extrinsic_sign(const gn_metadata_t *md, const gn_sr25519_keypair_t *kp, const uint8_t *call,
                      size_t call_len, const gn_tx_params_t *p, const uint8_t random[32],
                      gn_scale_writer_t *out, gn_scale_writer_t *payload, char *err, size_t cap);

/* A decoded extrinsic (values live in the arena; byte strings are views). */
typedef struct gn_extrinsic {
    uint8_t version;
    bool is_signed;
    gn_value_t address, signature;
    gn_value_t *extra; /* one per signed extension */
    uint32_t n_extra;
    const gn_pallet_t *pallet;
    const gn_variant_t *call;
    gn_value_t call_value; /* the RuntimeCall */
    const uint8_t *bytes;  /* the body (without its length prefix) */
    size_t len;
} gn_extrinsic_t;

/* Decode one length-prefixed extrinsic at the reader (as blocks hold them). */
int gn_extrinsic_decode(const gn_metadata_t *md, gn_scale_reader_t *r, gn_arena_t *ar,
                        gn_extrinsic_t *out);

#endif
