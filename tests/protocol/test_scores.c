/* Validator scores (protocol/scores.c): the moving average, following the
 * metagraph, normalisation, the weights record, and the msgpack state
 * (round trips, every truncation and bit flip of a valid encoding, hand-made
 * malformed maps, and a round trip through Python's msgpack). */
#include <criterion/criterion.h>
#include <math.h>
#include <msgpack.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ganglion/error.h"
#include "ganglion/scores.h"
#include "support/vectors.h"

#define PY "/usr/bin/python3" /* Debian's, with python3-msgpack */

static const char *const hotkeys[] = {
    "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY",
    "5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty",
    "5FLSigC9HGRKVhB9FiEo4Y3koPsNmBmLJbpXg2mp1hXcS59Y",
    "5DAAnrj7VHTznn2AWBemMuyBwZWs6FNFjdyVXUeYum3PTXFy",
    "5HGjWAeFDfFCWPsjFQdVV2Msvz2XtMktvgocEZcCj68kUMaw",
};

static void three(gn_scores_t *s)
{
    gn_scores_init(s, 7);
    size_t reset = 99;
    cr_assert_eq(gn_scores_sync(s, hotkeys, 3, &reset), 0);
    cr_assert_eq(reset, 0, "new uids are no resets");
}

/* ---- the moving average ---- */

Test(scores, update_blends_with_alpha)
{
    gn_scores_t s;
    three(&s);
    cr_assert_eq(s.netuid, 7);
    cr_assert_eq(s.n, 3);
    for (size_t i = 0; i < 3; i++) {
        cr_assert_eq(s.score[i], 0);
        cr_assert_str_eq(s.hotkey[i], hotkeys[i]);
    }
    const double alpha = 0.1;
    uint16_t uids[] = {0, 2};
    double r1[] = {1.0, 0.5};
    cr_assert_eq(gn_scores_update(&s, uids, r1, 2, alpha), 0);
    cr_assert_float_eq(s.score[0], alpha * 1.0, 1e-15);
    cr_assert_float_eq(s.score[2], alpha * 0.5, 1e-15);
    cr_assert_eq(s.score[1], 0, "a uid not queried keeps its score");
    double before0 = s.score[0], before2 = s.score[2];
    double r2[] = {0.25, 0.0};
    cr_assert_eq(gn_scores_update(&s, uids, r2, 2, alpha), 0);
    cr_assert_float_eq(s.score[0], alpha * 0.25 + (1 - alpha) * before0, 1e-15);
    cr_assert_float_eq(s.score[2], (1 - alpha) * before2, 1e-15);
    /* alpha 1: the reward replaces the score */
    double r3[] = {0.75, 0.125};
    cr_assert_eq(gn_scores_update(&s, uids, r3, 2, 1.0), 0);
    cr_assert_eq(s.score[0], 0.75);
    cr_assert_eq(s.score[2], 0.125);
    /* k 0 changes nothing */
    cr_assert_eq(gn_scores_update(&s, NULL, NULL, 0, 0.5), 0);
    cr_assert_eq(s.score[0], 0.75);
    gn_scores_free(&s);
}

Test(scores, update_clamps_and_zeroes_bad_rewards)
{
    gn_scores_t s;
    gn_scores_init(&s, 1);
    cr_assert_eq(gn_scores_sync(&s, hotkeys, 5, NULL), 0);
    uint16_t uids[] = {0, 1, 2, 3, 4};
    double high[] = {1.0, 1.0, 1.0, 1.0, 1.0};
    cr_assert_eq(gn_scores_update(&s, uids, high, 5, 1.0), 0);
    /* 2 counts as 1, and NaN, infinities and negatives as 0 */
    double bad[] = {2.0, NAN, INFINITY, -INFINITY, -3.0};
    cr_assert_eq(gn_scores_update(&s, uids, bad, 5, 0.5), 0);
    cr_assert_eq(s.score[0], 1.0, "a reward of 2 is 1: %g", s.score[0]);
    for (size_t i = 1; i < 5; i++)
        cr_assert_float_eq(s.score[i], 0.5, 1e-15, "bad reward %zu counted as %g", i, s.score[i]);
    /* many updates of 1 never step past 1 */
    uint16_t u0 = 0;
    double one = 1.0;
    for (int i = 0; i < 1000; i++)
        cr_assert_eq(gn_scores_update(&s, &u0, &one, 1, 0.3), 0);
    cr_assert(s.score[0] <= 1.0 && s.score[0] > 0.999);
    gn_scores_free(&s);
}

Test(scores, update_skips_unknown_uids_and_refuses_bad_alpha)
{
    gn_scores_t s;
    three(&s);
    uint16_t uids[] = {3, 65535, 1};
    double r[] = {1.0, 1.0, 0.5};
    cr_assert_eq(gn_scores_update(&s, uids, r, 3, 0.5), 0);
    cr_assert_float_eq(s.score[1], 0.25, 1e-15);
    cr_assert_eq(s.score[0] + s.score[2], 0);
    double bad_alpha[] = {0.0, -0.1, 1.0000001, NAN, INFINITY};
    for (size_t i = 0; i < 5; i++) {
        cr_assert_eq(gn_scores_update(&s, uids, r, 3, bad_alpha[i]), GN_EINVAL, "alpha %g",
                     bad_alpha[i]);
        cr_assert_float_eq(s.score[1], 0.25, 1e-15, "a refused update changed the score");
    }
    cr_assert_eq(gn_scores_update(&s, NULL, r, 1, 0.5), GN_EINVAL);
    gn_scores_free(&s);
}

/* ---- following the metagraph ---- */

Test(scores, sync_resets_only_a_changed_hotkey)
{
    gn_scores_t s;
    three(&s);
    uint16_t uids[] = {0, 1, 2};
    double r[] = {0.9, 0.6, 0.3};
    cr_assert_eq(gn_scores_update(&s, uids, r, 3, 1.0), 0);
    const char *next[] = {hotkeys[0], hotkeys[4], hotkeys[2]};
    size_t reset = 0;
    cr_assert_eq(gn_scores_sync(&s, next, 3, &reset), 0);
    cr_assert_eq(reset, 1);
    cr_assert_eq(s.score[0], 0.9);
    cr_assert_eq(s.score[1], 0, "uid 1 was taken by another hotkey: it restarts at 0");
    cr_assert_eq(s.score[2], 0.3);
    cr_assert_str_eq(s.hotkey[1], hotkeys[4]);
    /* the same hotkeys again: nothing resets */
    cr_assert_eq(gn_scores_sync(&s, next, 3, &reset), 0);
    cr_assert_eq(reset, 0);
    cr_assert_eq(s.score[0], 0.9);
    gn_scores_free(&s);
}

Test(scores, sync_grows_and_shrinks)
{
    gn_scores_t s;
    three(&s);
    uint16_t uids[] = {0, 1, 2};
    double r[] = {0.9, 0.6, 0.3};
    cr_assert_eq(gn_scores_update(&s, uids, r, 3, 1.0), 0);
    size_t reset = 9;
    cr_assert_eq(gn_scores_sync(&s, hotkeys, 5, &reset), 0);
    cr_assert_eq(s.n, 5);
    cr_assert_eq(reset, 0);
    cr_assert_eq(s.score[2], 0.3);
    cr_assert_eq(s.score[3], 0);
    cr_assert_eq(s.score[4], 0);
    cr_assert_str_eq(s.hotkey[4], hotkeys[4]);
    cr_assert_eq(gn_scores_sync(&s, hotkeys, 2, &reset), 0);
    cr_assert_eq(s.n, 2);
    cr_assert_eq(s.score[0], 0.9);
    cr_assert_eq(s.score[1], 0.6);
    /* a NULL hotkey is unknown (""), and differs from the one scored */
    const char *with_null[] = {hotkeys[0], NULL, hotkeys[2]};
    cr_assert_eq(gn_scores_sync(&s, with_null, 3, &reset), 0);
    cr_assert_eq(reset, 1);
    cr_assert_str_eq(s.hotkey[1], "");
    cr_assert_eq(s.score[1], 0);
    /* to nothing, and past the u16 uids */
    cr_assert_eq(gn_scores_sync(&s, NULL, 0, &reset), 0);
    cr_assert_eq(s.n, 0);
    cr_assert_eq(gn_scores_sync(&s, hotkeys, 65537, &reset), GN_EINVAL);
    cr_assert_eq(s.n, 0);
    gn_scores_free(&s);
}

/* ---- weights ---- */

Test(scores, normalize_sums_to_one_and_skips_zeros)
{
    gn_scores_t s;
    gn_scores_init(&s, 3);
    cr_assert_eq(gn_scores_sync(&s, hotkeys, 5, NULL), 0);
    uint16_t uids[5];
    double w[5];
    size_t k = 99;
    gn_scores_normalize(&s, uids, w, &k);
    cr_assert_eq(k, 0, "all zero: nothing to set");
    uint16_t q[] = {4, 1, 3};
    double r[] = {0.2, 0.6, 0.0};
    cr_assert_eq(gn_scores_update(&s, q, r, 3, 1.0), 0);
    gn_scores_normalize(&s, uids, w, &k);
    cr_assert_eq(k, 2);
    cr_assert_eq(uids[0], 1, "uid order");
    cr_assert_eq(uids[1], 4);
    cr_assert_float_eq(w[0] + w[1], 1.0, 1e-12);
    cr_assert_float_eq(w[0] / w[1], 0.6 / 0.2, 1e-9, "proportional to the scores");
    gn_scores_free(&s);
    gn_scores_init(&s, 3);
    gn_scores_normalize(&s, uids, w, &k);
    cr_assert_eq(k, 0, "no uids");
}

Test(scores, set_weights_clears_a_matching_pending_commit)
{
    gn_scores_t s;
    three(&s);
    uint16_t uids[] = {0, 2};
    double vals[] = {0.25, 0.75};
    uint16_t salt[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    cr_assert_eq(gn_scores_set_pending(&s, 120, uids, vals, 2, salt), 0);
    cr_assert(s.pending);
    cr_assert_eq(s.pending_reveal_block, 120);
    cr_assert_eq(s.n_pending, 2);
    cr_assert_eq(s.pending_salt[7], 8);
    /* other weights: the commit is still pending */
    double other[] = {0.5, 0.5};
    cr_assert_eq(gn_scores_set_weights(&s, 100, uids, other, 2), 0);
    cr_assert(s.pending, "weights unlike the commit cleared it");
    cr_assert_eq(s.weights_block, 100);
    cr_assert_eq(s.n_weights, 2);
    cr_assert_eq(s.weights_values[0], 0.5);
    /* the revealed ones clear it, and are copied */
    cr_assert_eq(gn_scores_set_weights(&s, 130, uids, vals, 2), 0);
    cr_assert(!s.pending);
    cr_assert_eq(s.n_pending, 0);
    cr_assert_null(s.pending_uids);
    cr_assert_eq(s.pending_reveal_block, 0);
    cr_assert_eq(s.weights_block, 130);
    vals[0] = 0.9;
    uids[0] = 1;
    cr_assert_eq(s.weights_values[0], 0.25, "the weights were not copied");
    cr_assert_eq(s.weights_uids[0], 0);
    /* fewer uids than the commit: not the same */
    cr_assert_eq(gn_scores_set_pending(&s, 200, uids, vals, 2, salt), 0);
    cr_assert_eq(gn_scores_set_weights(&s, 201, uids, vals, 1), 0);
    cr_assert(s.pending);
    gn_scores_free(&s);
}

/* ---- encoding ---- */

/* A state with every field set from the PRNG. */
static void random_state(gn_scores_t *s, uint64_t *rng, size_t n)
{
    gn_scores_init(s, (uint16_t)gn_test_rand(rng));
    const char **hk = calloc(n ? n : 1, sizeof(*hk));
    char(*own)[49] = calloc(n ? n : 1, sizeof(*own));
    for (size_t i = 0; i < n; i++) {
        size_t len = gn_test_rand(rng) % 49; /* "" to 48 characters */
        for (size_t j = 0; j < len; j++)
            own[i][j] = (char)('1' + gn_test_rand(rng) % 74);
        hk[i] = own[i];
    }
    cr_assert_eq(gn_scores_sync(s, hk, n, NULL), 0);
    free(hk);
    free(own);
    for (size_t i = 0; i < n; i++)
        s->score[i] = (double)(gn_test_rand(rng) >> 11) / 9007199254740992.0;
    s->step = gn_test_rand(rng);
    s->last_block = gn_test_rand(rng);
    size_t k = n ? gn_test_rand(rng) % (n + 1) : 0;
    uint16_t *u = calloc(k + 1, sizeof(*u));
    double *v = calloc(k + 1, sizeof(*v));
    for (size_t i = 0; i < k; i++) {
        u[i] = (uint16_t)gn_test_rand(rng);
        v[i] = (double)(gn_test_rand(rng) % 1000) / 1000.0;
    }
    cr_assert_eq(gn_scores_set_weights(s, gn_test_rand(rng), u, v, k), 0);
    uint16_t salt[8];
    for (size_t i = 0; i < 8; i++)
        salt[i] = (uint16_t)gn_test_rand(rng);
    if (gn_test_rand(rng) & 1)
        cr_assert_eq(gn_scores_set_pending(s, gn_test_rand(rng), u, v, k ? k - 1 : 0, salt), 0);
    free(u);
    free(v);
}

static void assert_same(const gn_scores_t *a, const gn_scores_t *b)
{
    cr_assert_eq(a->netuid, b->netuid);
    cr_assert_eq(a->n, b->n);
    for (size_t i = 0; i < a->n; i++) {
        cr_assert_eq(a->score[i], b->score[i], "score %zu", i);
        cr_assert_str_eq(a->hotkey[i], b->hotkey[i], "hotkey %zu", i);
    }
    cr_assert_eq(a->step, b->step);
    cr_assert_eq(a->last_block, b->last_block);
    cr_assert_eq(a->weights_block, b->weights_block);
    cr_assert_eq(a->n_weights, b->n_weights);
    for (size_t i = 0; i < a->n_weights; i++) {
        cr_assert_eq(a->weights_uids[i], b->weights_uids[i]);
        cr_assert_eq(a->weights_values[i], b->weights_values[i]);
    }
    cr_assert_eq(a->pending, b->pending);
    cr_assert_eq(a->pending_reveal_block, b->pending_reveal_block);
    cr_assert_eq(a->n_pending, b->n_pending);
    for (size_t i = 0; i < a->n_pending; i++) {
        cr_assert_eq(a->pending_uids[i], b->pending_uids[i]);
        cr_assert_eq(a->pending_values[i], b->pending_values[i]);
    }
    cr_assert_eq(memcmp(a->pending_salt, b->pending_salt, sizeof(a->pending_salt)), 0);
}

Test(scores, encode_decode_round_trip)
{
    uint64_t seed = gn_test_seed(), rng = seed;
    static const size_t sizes[] = {0, 1, 2, 17, 256, 4096};
    for (size_t t = 0; t < 40; t++) {
        gn_scores_t a, b;
        random_state(&a, &rng, sizes[t % 6]);
        uint8_t *buf = NULL, *again = NULL;
        size_t len = 0, len2 = 0;
        cr_assert_eq(gn_scores_encode(&a, &buf, &len), 0);
        gn_scores_init(&b, 0);
        cr_assert_eq(gn_scores_decode(buf, len, &b), 0, "seed %llu case %zu",
                     (unsigned long long)seed, t);
        assert_same(&a, &b);
        cr_assert_eq(gn_scores_encode(&b, &again, &len2), 0);
        cr_assert(len == len2 && !memcmp(buf, again, len), "the encoding is not stable");
        /* decoding over a state that holds arrays replaces (and frees) them */
        cr_assert_eq(gn_scores_decode(buf, len, &b), 0);
        assert_same(&a, &b);
        free(buf);
        free(again);
        gn_scores_free(&a);
        gn_scores_free(&b);
    }
}

Test(scores, encode_refuses_what_decode_would)
{
    gn_scores_t s;
    three(&s);
    uint8_t *buf = NULL;
    size_t len;
    s.score[1] = 1.5;
    cr_assert_eq(gn_scores_encode(&s, &buf, &len), GN_EINVAL);
    s.score[1] = NAN;
    cr_assert_eq(gn_scores_encode(&s, &buf, &len), GN_EINVAL);
    s.score[1] = 0.5;
    cr_assert_eq(gn_scores_encode(&s, &buf, &len), 0);
    free(buf);
    gn_scores_free(&s);
}

/* A decode that must fail leaves *s as it was: pointers and values. */
static void assert_fails(const uint8_t *p, size_t len, int want, const char *what)
{
    gn_scores_t s;
    three(&s);
    s.score[1] = 0.5;
    s.step = 42;
    double *score = s.score;
    int rc = gn_scores_decode(p, len, &s);
    cr_assert_eq(rc, want, "%s: %s, expected %s", what, gn_errname(rc), gn_errname(want));
    cr_assert(s.score == score && s.n == 3 && s.step == 42 && s.score[1] == 0.5 && s.netuid == 7 &&
                  !strcmp(s.hotkey[2], hotkeys[2]),
              "%s: a failed decode changed the state", what);
    gn_scores_free(&s);
}

static void valid_encoding(uint8_t **buf, size_t *len)
{
    uint64_t rng = gn_test_seed();
    gn_scores_t s;
    random_state(&s, &rng, 4);
    uint16_t u[] = {1, 3}, salt[8] = {9, 9, 9, 9, 9, 9, 9, 9};
    double v[] = {0.5, 0.5};
    cr_assert_eq(gn_scores_set_pending(&s, 77, u, v, 2, salt), 0);
    cr_assert_eq(gn_scores_encode(&s, buf, len), 0);
    gn_scores_free(&s);
}

Test(scores, decode_rejects_every_truncation)
{
    uint8_t *buf;
    size_t len;
    valid_encoding(&buf, &len);
    for (size_t n = 0; n < len; n++) {
        /* a copy of exactly n bytes, so ASan sees a read past it */
        uint8_t *cut = malloc(n ? n : 1);
        memcpy(cut, buf, n);
        char what[64];
        snprintf(what, sizeof(what), "the first %zu of %zu bytes", n, len);
        assert_fails(cut, n, GN_EPARSE, what);
        free(cut);
    }
    /* and a byte too many */
    uint8_t *more = malloc(len + 1);
    memcpy(more, buf, len);
    more[len] = 0xc0;
    assert_fails(more, len + 1, GN_EPARSE, "a trailing byte");
    free(more);
    free(buf);
}

Test(scores, decode_survives_every_bit_flip)
{
    uint8_t *buf;
    size_t len;
    valid_encoding(&buf, &len);
    uint8_t *m = malloc(len);
    size_t refused = 0, accepted = 0;
    for (size_t i = 0; i < len; i++)
        for (int bit = 0; bit < 8; bit++) {
            memcpy(m, buf, len);
            m[i] ^= (uint8_t)(1u << bit);
            gn_scores_t s;
            gn_scores_init(&s, 0);
            int rc = gn_scores_decode(m, len, &s);
            cr_assert(rc == 0 || rc == GN_EPARSE || rc == GN_EUNSUPPORTED, "byte %zu bit %d: %s", i,
                      bit, gn_errname(rc));
            if (rc == 0) {
                /* a flip inside a value: still a state that encodes */
                uint8_t *again = NULL;
                size_t l2;
                cr_assert_eq(gn_scores_encode(&s, &again, &l2), 0);
                free(again);
                accepted++;
            } else {
                cr_assert_eq(s.n, 0, "a failed decode changed the state");
                cr_assert_null(s.score);
                refused++;
            }
            gn_scores_free(&s);
        }
    cr_assert(refused > len, "most flips break the map (%zu refused)", refused);
    cr_assert(accepted > 0, "flips in the middle of a float stay valid");
    free(m);
    free(buf);
}

/* ---- hand-made maps ---- */

typedef enum {
    M_NONE,
    M_V2,
    M_V_STR,
    M_V_NEG,
    M_N_MORE,
    M_N_HUGE,
    M_SCORE_HIGH,
    M_SCORE_STR,
    M_SCORE_MAP,
    M_HOTKEY_LONG,
    M_HOTKEY_NUL,
    M_HOTKEY_BIN,
    M_WEIGHTS_UNEQUAL,
    M_UID_BIG,
    M_SALT_SHORT,
    M_PENDING_INT,
    M_STEP_NEG,
    M_NETUID_BIG,
    M_DROP_STEP,
    M_EXTRA_KEY,
    M_DUP_KEY,
} mut_t;

static void key(msgpack_packer *pk, const char *k)
{
    msgpack_pack_str(pk, strlen(k));
    msgpack_pack_str_body(pk, k, strlen(k));
}

static void str(msgpack_packer *pk, const char *v, size_t n)
{
    msgpack_pack_str(pk, n);
    msgpack_pack_str_body(pk, v, n);
}

/* The state of three() (scores 0, 0.5, 1), packed by hand with one
 * mutation. */
static msgpack_sbuffer hand(mut_t m)
{
    msgpack_sbuffer sb;
    msgpack_packer pk;
    msgpack_sbuffer_init(&sb);
    msgpack_packer_init(&pk, &sb, msgpack_sbuffer_write);
    msgpack_pack_map(&pk, 15 - (m == M_DROP_STEP) + (m == M_EXTRA_KEY || m == M_DUP_KEY));
    key(&pk, "v");
    if (m == M_V2)
        msgpack_pack_int(&pk, 2);
    else if (m == M_V_STR)
        str(&pk, "1", 1);
    else if (m == M_V_NEG)
        msgpack_pack_int(&pk, -1);
    else
        msgpack_pack_int(&pk, 1);
    key(&pk, "netuid");
    msgpack_pack_uint32(&pk, m == M_NETUID_BIG ? 65536 : 7);
    key(&pk, "n");
    msgpack_pack_uint32(&pk, m == M_N_MORE ? 4 : m == M_N_HUGE ? 65537 : 3);
    if (m != M_DROP_STEP) {
        key(&pk, "step");
        if (m == M_STEP_NEG)
            msgpack_pack_int(&pk, -5);
        else
            msgpack_pack_uint64(&pk, 5);
    }
    if (m == M_DUP_KEY) {
        key(&pk, "step");
        msgpack_pack_uint64(&pk, 6);
    }
    key(&pk, "last_block");
    msgpack_pack_uint64(&pk, 1000);
    key(&pk, "score");
    if (m == M_SCORE_MAP) {
        msgpack_pack_map(&pk, 0);
    } else {
        msgpack_pack_array(&pk, 3);
        msgpack_pack_double(&pk, 0);
        if (m == M_SCORE_STR)
            str(&pk, "0.5", 3);
        else
            msgpack_pack_double(&pk, m == M_SCORE_HIGH ? 1.0000001 : 0.5);
        msgpack_pack_double(&pk, 1);
    }
    key(&pk, "hotkey");
    msgpack_pack_array(&pk, 3);
    for (int i = 0; i < 3; i++) {
        if (i == 1 && m == M_HOTKEY_LONG)
            str(&pk, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQYx", 49);
        else if (i == 1 && m == M_HOTKEY_NUL)
            str(&pk, "5Grw\0x", 6);
        else if (i == 1 && m == M_HOTKEY_BIN) {
            msgpack_pack_bin(&pk, 4);
            msgpack_pack_bin_body(&pk, "5Grw", 4);
        } else
            str(&pk, hotkeys[i], strlen(hotkeys[i]));
    }
    key(&pk, "weights_block");
    msgpack_pack_uint64(&pk, 900);
    key(&pk, "weights_uids");
    msgpack_pack_array(&pk, 2);
    msgpack_pack_uint32(&pk, 1);
    msgpack_pack_uint32(&pk, m == M_UID_BIG ? 65536 : 2);
    key(&pk, "weights_values");
    msgpack_pack_array(&pk, m == M_WEIGHTS_UNEQUAL ? 1 : 2);
    msgpack_pack_double(&pk, 0.25);
    if (m != M_WEIGHTS_UNEQUAL)
        msgpack_pack_double(&pk, 0.75);
    key(&pk, "pending");
    if (m == M_PENDING_INT)
        msgpack_pack_int(&pk, 0);
    else
        msgpack_pack_false(&pk);
    key(&pk, "pending_reveal_block");
    msgpack_pack_uint64(&pk, 0);
    key(&pk, "pending_uids");
    msgpack_pack_array(&pk, 0);
    key(&pk, "pending_values");
    msgpack_pack_array(&pk, 0);
    if (m == M_EXTRA_KEY) {
        key(&pk, "comment");
        str(&pk, "hi", 2);
    }
    key(&pk, "pending_salt");
    msgpack_pack_array(&pk, m == M_SALT_SHORT ? 7 : 8);
    for (int i = 0; i < (m == M_SALT_SHORT ? 7 : 8); i++)
        msgpack_pack_uint16(&pk, (uint16_t)i);
    return sb;
}

Test(scores, decode_a_hand_made_map)
{
    msgpack_sbuffer sb = hand(M_NONE);
    gn_scores_t s;
    gn_scores_init(&s, 0);
    cr_assert_eq(gn_scores_decode((uint8_t *)sb.data, sb.size, &s), 0);
    cr_assert_eq(s.netuid, 7);
    cr_assert_eq(s.n, 3);
    cr_assert_eq(s.score[1], 0.5);
    cr_assert_eq(s.score[2], 1.0);
    cr_assert_str_eq(s.hotkey[2], hotkeys[2]);
    cr_assert_eq(s.step, 5);
    cr_assert_eq(s.last_block, 1000);
    cr_assert_eq(s.weights_block, 900);
    cr_assert_eq(s.n_weights, 2);
    cr_assert_eq(s.weights_uids[1], 2);
    cr_assert_eq(s.weights_values[1], 0.75);
    cr_assert(!s.pending);
    cr_assert_eq(s.pending_salt[7], 7);
    gn_scores_free(&s);
    msgpack_sbuffer_destroy(&sb);
}

Test(scores, decode_refuses_malformed_maps)
{
    static const struct {
        mut_t m;
        int want;
        const char *what;
    } cases[] = {
        {M_V2, GN_EUNSUPPORTED, "v 2"},
        {M_V_STR, GN_EPARSE, "v as a string"},
        {M_V_NEG, GN_EUNSUPPORTED, "v -1"},
        {M_N_MORE, GN_EPARSE, "n 4 with 3 scores"},
        {M_N_HUGE, GN_EPARSE, "n past 65536"},
        {M_SCORE_HIGH, GN_EPARSE, "a score above 1"},
        {M_SCORE_STR, GN_EPARSE, "a score as a string"},
        {M_SCORE_MAP, GN_EPARSE, "scores as a map"},
        {M_HOTKEY_LONG, GN_EPARSE, "a 49-character hotkey"},
        {M_HOTKEY_NUL, GN_EPARSE, "a hotkey with a NUL"},
        {M_HOTKEY_BIN, GN_EPARSE, "a hotkey as bin"},
        {M_WEIGHTS_UNEQUAL, GN_EPARSE, "2 weight uids, 1 value"},
        {M_UID_BIG, GN_EPARSE, "a uid of 65536"},
        {M_SALT_SHORT, GN_EPARSE, "a salt of 7"},
        {M_PENDING_INT, GN_EPARSE, "pending as an int"},
        {M_STEP_NEG, GN_EPARSE, "a negative step"},
        {M_NETUID_BIG, GN_EPARSE, "netuid 65536"},
        {M_DROP_STEP, GN_EPARSE, "no step"},
        {M_EXTRA_KEY, GN_EPARSE, "an unknown key"},
        {M_DUP_KEY, GN_EPARSE, "step twice"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
        msgpack_sbuffer sb = hand(cases[i].m);
        assert_fails((uint8_t *)sb.data, sb.size, cases[i].want, cases[i].what);
        msgpack_sbuffer_destroy(&sb);
    }
}

Test(scores, decode_refuses_huge_headers_and_other_roots)
{
    /* containers announcing far more elements than there are bytes */
    static const uint8_t arr32[] = {0xdd, 0xff, 0xff, 0xff, 0xff};
    static const uint8_t map32[] = {0xdf, 0x7f, 0xff, 0xff, 0xff, 0xa1, 'v', 0x01};
    static const uint8_t str32[] = {0xdb, 0xff, 0xff, 0xff, 0xf0, 'a'};
    static const uint8_t nested[] = {0x81, 0xa1, 'v', 0xdd, 0x10, 0x00, 0x00, 0x00};
    static const uint8_t arr[] = {0x93, 0x01, 0x02, 0x03};
    static const uint8_t never[] = {0xc1};
    static const uint8_t v_only[] = {0x81, 0xa1, 'v', 0x01};
    assert_fails(arr32, sizeof(arr32), GN_EPARSE, "array32 of 4 G elements");
    assert_fails(map32, sizeof(map32), GN_EPARSE, "map32 of 2 G pairs");
    assert_fails(str32, sizeof(str32), GN_EPARSE, "str32 of 4 GB");
    assert_fails(nested, sizeof(nested), GN_EPARSE, "a huge array inside");
    assert_fails(arr, sizeof(arr), GN_EPARSE, "an array at the root");
    assert_fails(never, sizeof(never), GN_EPARSE, "0xc1");
    assert_fails(v_only, sizeof(v_only), GN_EPARSE, "v and nothing else");
    assert_fails(NULL, 0, GN_EPARSE, "nothing");
    /* nested past msgpack-c's own stack (which it reports as no memory) */
    uint8_t deep[64] = {0x81, 0xa1, 'v'};
    memset(deep + 3, 0x91, 60);
    deep[63] = 0x01;
    assert_fails(deep, sizeof(deep), GN_EPARSE, "60 arrays deep");
}

/* Python's msgpack reads our state, changes two fields and writes it back in
 * its own way (key order, integer widths): we read that. */
Test(scores, python_msgpack_reads_and_writes_the_state)
{
    if (system(PY " -c 'import msgpack' >/dev/null 2>&1") != 0)
        cr_skip_test(PY " with msgpack is missing (apt-get install python3-msgpack)");
    gn_scores_t a;
    three(&a);
    a.score[2] = 0.625;
    a.step = 11;
    uint8_t *buf;
    size_t len;
    cr_assert_eq(gn_scores_encode(&a, &buf, &len), 0);
    char in[] = "/tmp/gn-scores-in-XXXXXX", out[] = "/tmp/gn-scores-out-XXXXXX";
    int fi = mkstemp(in), fo = mkstemp(out);
    cr_assert(fi >= 0 && fo >= 0);
    cr_assert_eq(write(fi, buf, len), (ssize_t)len);
    close(fi);
    close(fo);
    char cmd[512];
    snprintf(cmd, sizeof(cmd),
             PY " -c 'import msgpack,sys\n"
                "d=msgpack.unpackb(open(sys.argv[1],\"rb\").read())\n"
                "assert d[\"v\"]==1 and d[\"n\"]==3 and d[\"score\"][2]==0.625, d\n"
                "d[\"step\"]+=1; d[\"score\"][0]=0.125\n"
                "open(sys.argv[2],\"wb\").write(msgpack.packb(dict(reversed(list(d.items())))))' "
                "%s %s",
             in, out);
    cr_assert_eq(system(cmd), 0, "python could not read the state");
    FILE *f = fopen(out, "rb");
    uint8_t back[4096];
    size_t n = fread(back, 1, sizeof(back), f);
    fclose(f);
    unlink(in);
    unlink(out);
    gn_scores_t b;
    gn_scores_init(&b, 0);
    cr_assert_eq(gn_scores_decode(back, n, &b), 0);
    cr_assert_eq(b.step, 12);
    cr_assert_eq(b.score[0], 0.125);
    cr_assert_eq(b.score[2], 0.625);
    cr_assert_str_eq(b.hotkey[1], hotkeys[1]);
    free(buf);
    gn_scores_free(&a);
    gn_scores_free(&b);
}
