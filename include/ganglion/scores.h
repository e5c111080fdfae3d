/* A validator's scores and step state: moving averages per uid, the hotkey
 * each score belongs to, and what was last set on chain. Pure: no I/O.
 *
 * The state persists as one msgpack map (gn_scores_encode/decode) that the
 * validator writes atomically into its state dir after every step, so a
 * restart resumes where it stopped. */
#ifndef GANGLION_SCORES_H
#define GANGLION_SCORES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define GN_SCORES_VERSION 1 /* the encoded map's "v" */

typedef struct gn_scores {
    uint16_t netuid;
    size_t n;            /* uids 0..n-1 */
    double *score;       /* n moving averages, each in [0, 1] */
    char (*hotkey)[49];  /* n SS58 hotkeys the scores belong to ("" unknown) */
    uint64_t step;       /* steps run so far */
    uint64_t last_block; /* the block of the last step */
    /* the last weights set (or committed) on chain */
    uint64_t weights_block; /* 0: never */
    size_t n_weights;
    uint16_t *weights_uids;
    double *weights_values; /* the normalised scores that were set (sum 1) */
    /* a hash commit waiting for its reveal (commit-reveal subnets) */
    bool pending;
    uint64_t pending_reveal_block; /* reveal from this block on */
    size_t n_pending;
    uint16_t *pending_uids;
    double *pending_values;
    uint16_t pending_salt[8];
} gn_scores_t;

/* Zeroed state for a subnet (no uids yet). */
void gn_scores_init(gn_scores_t *s, uint16_t netuid);
void gn_scores_free(gn_scores_t *s);

/* Follow the metagraph: n uids with their hotkeys (n_hotkeys may grow or
 * shrink the state). A uid whose hotkey differs from the one scored (a new
 * registration took the slot) restarts at 0; *reset (optional) counts them.
 * GN_ENOMEM. */
int gn_scores_sync(gn_scores_t *s, const char *const *hotkeys, size_t n, size_t *reset);

/* The moving average of the queried uids: score = alpha * reward +
 * (1 - alpha) * score (the template validator's update). Rewards are
 * clamped to [0, 1]; non-finite ones count as 0; uids >= n are skipped.
 * GN_EINVAL: alpha outside (0, 1]. */
int gn_scores_update(gn_scores_t *s, const uint16_t *uids, const double *rewards, size_t k,
                     double alpha);

/* The weights to set: every uid with a positive score and its score divided
 * by the sum (L1, as the template normalises), in uid order, into caller
 * arrays of s->n. *k = 0 when every score is 0. */
void gn_scores_normalize(const gn_scores_t *s, uint16_t *uids, double *weights, size_t *k);

/* Record weights set (copied) at `block`; clears a pending commit of the
 * same values. GN_ENOMEM. */
int gn_scores_set_weights(gn_scores_t *s, uint64_t block, const uint16_t *uids,
                          const double *values, size_t k);
/* Record a hash commit of k weights (copied) with its salt, to be revealed
 * from reveal_block on; replaces any pending one. GN_ENOMEM. */
int gn_scores_set_pending(gn_scores_t *s, uint64_t reveal_block, const uint16_t *uids,
                          const double *values, size_t k, const uint16_t salt[8]);

/* The state as msgpack (malloc'd) and back. Decode checks every field
 * (types, lengths agreeing with n, scores finite and in [0, 1], hotkeys at
 * most 48 characters) and is GN_EPARSE otherwise, leaving *s untouched;
 * GN_EUNSUPPORTED for another "v". On success the old contents of *s
 * (initialised with gn_scores_init or decoded before) are freed. */
int gn_scores_encode(const gn_scores_t *s, uint8_t **out, size_t *len);
int gn_scores_decode(const uint8_t *buf, size_t len, gn_scores_t *s);

#endif
