/* sr25519 cross-checked with the oracle in both directions: signatures made
 * by ganglion verify in @scure/sr25519 and in Rust schnorrkel (WASM), and
 * signatures made by both of those verify in ganglion. 200 random keys and
 * messages of 0..4096 bytes each way. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "ganglion/sr25519.h"
#include "support/oracle.h"
#include "support/vectors.h"

#define N       200
#define MAX_MSG 4096

static size_t random_message(uint64_t *st, uint8_t *msg, int i)
{
    /* the edges first, then random lengths */
    size_t len = i == 0 ? 0 : i == 1 ? MAX_MSG : gn_test_rand(st) % (MAX_MSG + 1);
    for (size_t k = 0; k < len; k++)
        msg[k] = (uint8_t)gn_test_rand(st);
    return len;
}

Test(sr25519_oracle, ganglion_signs_oracle_verifies, .timeout = 300)
{
    static uint8_t msg[MAX_MSG];
    uint64_t st = gn_test_seed() ^ 0x516e;
    json_t *batch = json_array();
    for (int i = 0; i < N; i++) {
        uint8_t mini[32], rnd[32], sig[64];
        for (int k = 0; k < 32; k++)
            mini[k] = (uint8_t)gn_test_rand(&st);
        randombytes_buf(rnd, sizeof(rnd));
        size_t len = random_message(&st, msg, i);
        gn_sr25519_keypair_t kp;
        gn_sr25519_from_mini(&kp, mini);
        gn_sr25519_sign(&kp, msg, len, rnd, sig);
        if (i == N - 1)
            sig[5] ^= 1; /* one tampered signature: the oracle must say no */
        char *pk = gn_test_hex(kp.pub, 32), *m = gn_test_hex(msg, len), *s = gn_test_hex(sig, 64);
        json_array_append_new(batch, gn_test_oracle_req("sr25519-verify", pk, m, s, NULL));
        free(pk), free(m), free(s);
    }
    json_t *res = gn_test_oracle(batch), *r;
    size_t i;
    json_array_foreach (res, i, r) {
        cr_assert_null(json_object_get(r, "error"), "#%zu: %s", i,
                       json_string_value(json_object_get(r, "error")));
        bool want = i != N - 1;
        cr_assert_eq(json_is_true(json_object_get(r, "scure")), want, "#%zu @scure/sr25519", i);
        cr_assert_eq(json_is_true(json_object_get(r, "wasm")), want, "#%zu Rust schnorrkel", i);
    }
    cr_log_info("%d ganglion signatures checked by @scure/sr25519 and schnorrkel (wasm)", N);
    json_decref(res);
    json_decref(batch);
}

Test(sr25519_oracle, oracle_signs_ganglion_verifies, .timeout = 300)
{
    static uint8_t msg[MAX_MSG];
    static size_t lens[N];
    static uint8_t *msgs[N];
    uint64_t st = gn_test_seed() ^ 0x0AC1e;
    json_t *batch = json_array();
    uint8_t minis[N][32];
    for (int i = 0; i < N; i++) {
        for (int k = 0; k < 32; k++)
            minis[i][k] = (uint8_t)gn_test_rand(&st);
        lens[i] = random_message(&st, msg, i);
        msgs[i] = malloc(lens[i] + 1);
        memcpy(msgs[i], msg, lens[i]);
        char *sk = gn_test_hex(minis[i], 32), *m = gn_test_hex(msg, lens[i]);
        json_array_append_new(batch, gn_test_oracle_req("sr25519-sign", sk, m, NULL));
        free(sk), free(m);
    }
    json_t *res = gn_test_oracle(batch), *r;
    size_t i;
    json_array_foreach (res, i, r) {
        cr_assert_null(json_object_get(r, "error"), "#%zu: %s", i,
                       json_string_value(json_object_get(r, "error")));
        gn_sr25519_keypair_t kp;
        gn_sr25519_from_mini(&kp, minis[i]);
        char *pk = gn_test_hex(kp.pub, 32);
        cr_assert_str_eq(pk, json_string_value(json_object_get(r, "publicKey")), "#%zu", i);
        free(pk);
        const char *forms[] = {"signature", "signatureWasm"};
        for (int f = 0; f < 2; f++) {
            uint8_t sig[64];
            size_t n;
            uint8_t *s = gn_test_unhex(json_string_value(json_object_get(r, forms[f])), &n);
            cr_assert_eq(n, 64);
            memcpy(sig, s, 64);
            free(s);
            cr_assert_eq(gn_sr25519_verify(kp.pub, msgs[i], lens[i], sig), 0, "#%zu %s", i,
                         forms[f]);
            if (lens[i] > 0) {
                msgs[i][0] ^= 1;
                cr_assert_neq(gn_sr25519_verify(kp.pub, msgs[i], lens[i], sig), 0);
                msgs[i][0] ^= 1;
            }
        }
        free(msgs[i]);
    }
    cr_log_info("%d signatures each from @scure/sr25519 and schnorrkel verified by ganglion", N);
    json_decref(res);
    json_decref(batch);
}
