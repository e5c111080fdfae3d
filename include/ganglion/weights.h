/* Validator weights as the chain takes them, the way the Python SDK makes
 * them (bittensor.utils.weight_utils), so a ganglion validator emits the
 * same u16 vector a Python one would for the same scores.
 *
 * - gn_weights_for_emit: scores (float32, as the SDK casts them) are
 *   max-upscaled (w / max), then round(w * 65535) with round-half-even
 *   (Python's round); zero results are dropped with their uids. All-zero
 *   scores give an empty vector ("nothing to set").
 * - gn_weights_commit_hash: commit-reveal's hash, blake2b-256 of
 *   pubkey ‖ netuid (u16) ‖ Vec<u16> uids ‖ Vec<u16> values ‖ Vec<u16> salt
 *   ‖ version_key (u64), all SCALE. */
#ifndef GANGLION_WEIGHTS_H
#define GANGLION_WEIGHTS_H

#include <stddef.h>
#include <stdint.h>

#define GN_WEIGHTS_U16_MAX 65535u

/* out_uids/out_vals have room for n; *out_n is how many were kept.
 * GN_EINVAL for a negative or non-finite score, GN_ERANGE for a uid above
 * 65535. */
int gn_weights_for_emit(const uint64_t *uids, const double *scores, size_t n, uint16_t *out_uids,
                        uint16_t *out_vals, size_t *out_n);

int gn_weights_commit_hash(const uint8_t pub[32], uint16_t netuid, const uint16_t *uids,
                           const uint16_t *vals, size_t n, const uint16_t *salt, size_t n_salt,
                           uint64_t version_key, uint8_t out[32]);

#endif
