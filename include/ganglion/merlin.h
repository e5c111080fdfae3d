/* STROBE-128 and Merlin transcripts, as schnorrkel uses them.
 *
 * A Merlin transcript is a STROBE-128 duplex (Keccak-f[1600], rate 166)
 * initialised with "Merlin v1.0". Messages are framed as
 * meta-AD(label) ‖ meta-AD(len as u32 LE) ‖ AD(message); challenges as
 * meta-AD(label) ‖ meta-AD(len) ‖ PRF. A witness RNG is a fork of the
 * transcript rekeyed with secret witness bytes and 32 external random bytes.
 * Only the operations schnorrkel needs are here. */
#ifndef GANGLION_MERLIN_H
#define GANGLION_MERLIN_H

#include <stddef.h>
#include <stdint.h>

typedef struct gn_strobe {
    uint8_t state[200];
    uint8_t pos;
    uint8_t pos_begin;
    uint8_t cur_flags;
} gn_strobe_t;

void gn_strobe_init(gn_strobe_t *s, const uint8_t *label, size_t len);
/* more = 1 continues the previous operation of the same kind */
void gn_strobe_meta_ad(gn_strobe_t *s, const uint8_t *data, size_t len, int more);
void gn_strobe_ad(gn_strobe_t *s, const uint8_t *data, size_t len, int more);
void gn_strobe_prf(gn_strobe_t *s, uint8_t *out, size_t len, int more);
void gn_strobe_key(gn_strobe_t *s, const uint8_t *data, size_t len, int more);

typedef struct gn_merlin {
    gn_strobe_t strobe;
} gn_merlin_t;

/* label and message lengths are at most UINT32_MAX (as Merlin requires) */
void gn_merlin_init(gn_merlin_t *t, const char *label);
void gn_merlin_append(gn_merlin_t *t, const char *label, const uint8_t *msg, size_t len);
void gn_merlin_append_u64(gn_merlin_t *t, const char *label, uint64_t x);
void gn_merlin_challenge(gn_merlin_t *t, const char *label, uint8_t *out, size_t len);

/* The witness RNG: a copy of the transcript rekeyed with each witness (under
 * `label`), then with 32 random bytes (label "rng"); gn_merlin_rng_fill draws
 * from it. */
typedef struct gn_merlin_rng {
    gn_strobe_t strobe;
} gn_merlin_rng_t;

void gn_merlin_rng_init(gn_merlin_rng_t *rng, const gn_merlin_t *t);
void gn_merlin_rng_rekey(gn_merlin_rng_t *rng, const char *label, const uint8_t *witness,
                         size_t len);
void gn_merlin_rng_finalize(gn_merlin_rng_t *rng, const uint8_t random[32]);
void gn_merlin_rng_fill(gn_merlin_rng_t *rng, uint8_t *out, size_t len);

/* Wipe any transcript or RNG state (it may hold secrets). */
void gn_merlin_wipe(void *p, size_t len);

#endif
