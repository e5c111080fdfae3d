#include <criterion/criterion.h>
#include <sodium.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
#include "support/oracle.h"
#include "support/vectors.h"

static uint8_t *field(json_t *v, const char *name, size_t want_len)
{
    size_t n;
    uint8_t *b = gn_test_unhex(json_string_value(json_object_get(v, name)), &n);
    if (want_len)
        cr_assert_eq(n, want_len, "%s length", name);
    return b;
}

Test(sr25519_vectors, keypairs)
{
    json_t *root = gn_test_load_shared_json("vectors/sr25519_keypairs.json");
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i;
    cr_assert(json_array_size(vecs) > 0);
    json_array_foreach (vecs, i, v) {
        const char *label = json_string_value(json_object_get(v, "label"));
        uint8_t *mini = field(v, "miniSecret", 32);
        gn_sr25519_keypair_t kp, kp2, kp3;
        uint8_t out[64];
        cr_assert_eq(gn_sr25519_from_mini(&kp, mini), 0);
        gn_test_assert_hex(kp.pub, 32, json_string_value(json_object_get(v, "publicKey")), label);
        gn_sr25519_private_bytes(&kp, out);
        gn_test_assert_hex(out, 64, json_string_value(json_object_get(v, "privateKey")), label);
        gn_sr25519_ed25519_bytes(&kp, out);
        gn_test_assert_hex(out, 64, json_string_value(json_object_get(v, "secretKey")), label);
        /* both 64-byte forms load back to the same keypair */
        uint8_t *priv = field(v, "privateKey", 64), *sk = field(v, "secretKey", 64);
        cr_assert_eq(gn_sr25519_from_private(&kp2, priv), 0);
        cr_assert_eq(gn_sr25519_from_ed25519(&kp3, sk), 0);
        cr_assert(memcmp(&kp, &kp2, sizeof(kp)) == 0 && memcmp(&kp, &kp3, sizeof(kp)) == 0, "%s",
                  label);
        char addr[GN_SS58_ADDR_MAX];
        gn_ss58_encode(kp.pub, 32, 42, addr, sizeof(addr));
        cr_assert_str_eq(addr, json_string_value(json_object_get(v, "ss58")), "%s", label);
        free(mini);
        free(priv);
        free(sk);
    }
    cr_log_info("sr25519_keypairs.json: %zu keypairs", json_array_size(vecs));
    json_decref(root);
}

Test(sr25519_vectors, signatures_reproduced_and_verified)
{
    json_t *root = gn_test_load_shared_json("vectors/sr25519_signatures.json");
    json_t *valid = json_object_get(root, "valid"), *v;
    size_t i;
    cr_assert(json_array_size(valid) > 0);
    json_array_foreach (valid, i, v) {
        const char *label = json_string_value(json_object_get(v, "label"));
        uint8_t *priv = field(v, "privateKey", 64), *pub = field(v, "publicKey", 32);
        uint8_t *rnd = field(v, "random", 32), *want = field(v, "signature", 64);
        size_t mlen;
        uint8_t *msg = gn_test_unhex(json_string_value(json_object_get(v, "message")), &mlen);
        gn_sr25519_keypair_t kp;
        uint8_t sig[64];
        cr_assert_eq(gn_sr25519_from_private(&kp, priv), 0);
        cr_assert(memcmp(kp.pub, pub, 32) == 0, "%s", label);
        cr_assert_eq(gn_sr25519_sign(&kp, msg, mlen, rnd, sig), 0);
        gn_test_assert_hex(sig, 64, json_string_value(json_object_get(v, "signature")), label);
        cr_assert_eq(gn_sr25519_verify(pub, msg, mlen, want), 0, "%s", label);
        free(priv), free(pub), free(rnd), free(want), free(msg);
    }
    cr_log_info("sr25519_signatures.json: %zu valid signatures reproduced and verified",
                json_array_size(valid));
    json_decref(root);
}

Test(sr25519_vectors, tampered_signatures_rejected)
{
    json_t *root = gn_test_load_shared_json("vectors/sr25519_signatures.json");
    json_t *bad = json_object_get(root, "tampered"), *v;
    size_t i;
    cr_assert(json_array_size(bad) > 0);
    json_array_foreach (bad, i, v) {
        const char *label = json_string_value(json_object_get(v, "label"));
        cr_assert(json_is_false(json_object_get(v, "valid")));
        uint8_t *pub = field(v, "publicKey", 32), *sig = field(v, "signature", 64);
        size_t mlen;
        uint8_t *msg = gn_test_unhex(json_string_value(json_object_get(v, "message")), &mlen);
        int rc = gn_sr25519_verify(pub, msg, mlen, sig);
        cr_assert(rc == GN_EBADSIG || rc == GN_EBADKEY, "%s: got %s", label, gn_errname(rc));
        if (strstr(label, "public key not a valid"))
            cr_assert_eq(rc, GN_EBADKEY, "%s", label);
        free(pub), free(sig), free(msg);
    }
    cr_log_info("sr25519_signatures.json: %zu tampered signatures rejected", json_array_size(bad));
    json_decref(root);
}

Test(sr25519, random_sign_verify_and_tamper)
{
    uint64_t st = gn_test_seed();
    for (int iter = 0; iter < 200; iter++) {
        uint8_t mini[32], rnd[32], msg[300], sig[64];
        for (int k = 0; k < 32; k++) {
            mini[k] = (uint8_t)gn_test_rand(&st);
            rnd[k] = (uint8_t)gn_test_rand(&st);
        }
        size_t len = gn_test_rand(&st) % sizeof(msg);
        for (size_t k = 0; k < len; k++)
            msg[k] = (uint8_t)gn_test_rand(&st);
        gn_sr25519_keypair_t kp;
        gn_sr25519_from_mini(&kp, mini);
        cr_assert_eq(gn_sr25519_sign(&kp, msg, len, rnd, sig), 0);
        cr_assert_eq(gn_sr25519_verify(kp.pub, msg, len, sig), 0);
        uint8_t bad[64];
        memcpy(bad, sig, 64);
        bad[gn_test_rand(&st) % 64] ^= (uint8_t)(1u << (gn_test_rand(&st) % 8));
        cr_assert_neq(gn_sr25519_verify(kp.pub, msg, len, bad), 0);
        if (len > 0) {
            msg[gn_test_rand(&st) % len] ^= 1;
            cr_assert_eq(gn_sr25519_verify(kp.pub, msg, len, sig), GN_EBADSIG);
        }
    }
}

Test(sr25519, bad_secret_forms)
{
    uint8_t secret[64];
    gn_sr25519_keypair_t kp;
    memset(secret, 0xff, sizeof(secret));
    cr_assert_eq(gn_sr25519_from_private(&kp, secret), GN_EBADKEY, "scalar >= l");
    secret[0] = 0x01;
    cr_assert_eq(gn_sr25519_from_ed25519(&kp, secret), GN_EBADKEY, "not a multiple of 8");
}

Test(sr25519, chain_codes)
{
    uint8_t cc[32];
    cr_assert_eq(gn_sr25519_chain_code("Alice", 5, cc), 0);
    gn_test_assert_hex(cc, 32, "0x14416c6963650000000000000000000000000000000000000000000000000000",
                       "Alice");
    cr_assert_eq(gn_sr25519_chain_code("0", 1, cc), 0);
    gn_test_assert_hex(cc, 32, "0x0000000000000000000000000000000000000000000000000000000000000000",
                       "0");
    cr_assert_eq(gn_sr25519_chain_code("18446744073709551616", 20, cc), 0);
    cr_assert_eq(cc[0], 0x50, "2^64 is no u64: encoded as text (compact 20 = 0x50)");
    char longj[1000];
    memset(longj, 'j', sizeof(longj));
    cr_assert_eq(gn_sr25519_chain_code(longj, sizeof(longj), cc), 0);
}

/* ---- signing with a witness made ahead of time ---- */

Test(sr25519, witness_signatures_verify_and_a_witness_signs_once)
{
    uint64_t st = gn_test_seed() ^ 0x3177;
    for (int iter = 0; iter < 100; iter++) {
        uint8_t mini[32], rnd[32], msg[300], sig[64], sig2[64];
        for (int k = 0; k < 32; k++) {
            mini[k] = (uint8_t)gn_test_rand(&st);
            rnd[k] = (uint8_t)gn_test_rand(&st);
        }
        size_t len = gn_test_rand(&st) % sizeof(msg);
        for (size_t k = 0; k < len; k++)
            msg[k] = (uint8_t)gn_test_rand(&st);
        gn_sr25519_keypair_t kp;
        gn_sr25519_from_mini(&kp, mini);
        gn_sr25519_witness_t w, w2;
        cr_assert_eq(gn_sr25519_witness(&kp, rnd, &w), 0);
        cr_assert_eq(gn_sr25519_witness(&kp, rnd, &w2), 0);
        cr_assert(!memcmp(&w, &w2, sizeof(w)), "the witness is a function of key and randomness");
        uint8_t R[32], rb[32];
        memcpy(R, w.R, 32);
        crypto_scalarmult_ristretto255_base(rb, w.r);
        cr_assert(!memcmp(rb, R, 32), "R = r·B");
        cr_assert_eq(gn_sr25519_sign_witness(&kp, msg, len, &w, sig), 0);
        cr_assert(!memcmp(sig, R, 32), "the signature's R is the witness's");
        cr_assert_eq(gn_sr25519_verify(kp.pub, msg, len, sig), 0);
        cr_assert(sodium_is_zero((const uint8_t *)&w, sizeof(w)), "the witness is wiped");
        cr_assert_eq(gn_sr25519_sign_witness(&kp, msg, len, &w, sig2), GN_EINVAL,
                     "a used witness is refused");
        /* another key's nonce gives another r from the same randomness */
        gn_sr25519_keypair_t other;
        mini[0] ^= 1;
        gn_sr25519_from_mini(&other, mini);
        gn_sr25519_witness_t wo;
        cr_assert_eq(gn_sr25519_witness(&other, rnd, &wo), 0);
        cr_assert(memcmp(wo.r, w2.r, 32) != 0);
        sodium_memzero(&wo, sizeof(wo));
        /* tampering fails as with any signature */
        uint8_t bad[64];
        memcpy(bad, sig, 64);
        bad[gn_test_rand(&st) % 64] ^= (uint8_t)(1u << (gn_test_rand(&st) % 8));
        cr_assert_neq(gn_sr25519_verify(kp.pub, msg, len, bad), 0);
        if (len > 0) {
            msg[gn_test_rand(&st) % len] ^= 1;
            cr_assert_eq(gn_sr25519_verify(kp.pub, msg, len, sig), GN_EBADSIG);
        }
        /* the same message with two witnesses: two different signatures */
        cr_assert_eq(gn_sr25519_sign_witness(&kp, msg, len, &w2, sig2), 0);
        rnd[0] ^= 1;
        cr_assert_eq(gn_sr25519_witness(&kp, rnd, &w), 0);
        cr_assert_eq(gn_sr25519_sign_witness(&kp, msg, len, &w, sig), 0);
        cr_assert(memcmp(sig, sig2, 64) != 0);
        cr_assert_eq(gn_sr25519_verify(kp.pub, msg, len, sig), 0);
        cr_assert_eq(gn_sr25519_verify(kp.pub, msg, len, sig2), 0);
    }
    gn_sr25519_keypair_t kp;
    uint8_t mini[32] = {1}, sig[64];
    gn_sr25519_from_mini(&kp, mini);
    gn_sr25519_witness_t w;
    cr_assert_eq(gn_sr25519_witness(&kp, mini, &w), 0);
    cr_assert_eq(gn_sr25519_sign_witness(&kp, NULL, 3, &w, sig), GN_EINVAL);
    cr_assert_eq(gn_sr25519_sign_witness(&kp, NULL, 0, &w, sig), 0, "the empty message");
    cr_assert_eq(gn_sr25519_verify(kp.pub, (const uint8_t *)"", 0, sig), 0);
}

Test(sr25519, a_signing_context_made_once_gives_the_same_signatures)
{
    gn_merlin_t ctx;
    gn_sr25519_context(&ctx);
    uint64_t st = gn_test_seed() ^ 0x3179;
    for (int iter = 0; iter < 50; iter++) {
        uint8_t mini[32], rnd[32], msg[300], a[64], b[64];
        for (int k = 0; k < 32; k++) {
            mini[k] = (uint8_t)gn_test_rand(&st);
            rnd[k] = (uint8_t)gn_test_rand(&st);
        }
        size_t len = gn_test_rand(&st) % sizeof(msg);
        for (size_t k = 0; k < len; k++)
            msg[k] = (uint8_t)gn_test_rand(&st);
        gn_sr25519_keypair_t kp;
        gn_sr25519_from_mini(&kp, mini);
        gn_sr25519_witness_t w1, w2;
        cr_assert_eq(gn_sr25519_witness(&kp, rnd, &w1), 0);
        w2 = w1; /* a test's copy: the same witness signs both ways */
        cr_assert_eq(gn_sr25519_sign_witness(&kp, msg, len, &w1, a), 0);
        cr_assert_eq(gn_sr25519_sign_witness_ctx(&ctx, &kp, msg, len, &w2, b), 0);
        cr_assert(!memcmp(a, b, 64), "the same signature from the context made once");
        cr_assert_eq(gn_sr25519_verify(kp.pub, msg, len, b), 0);
        cr_assert(sodium_is_zero((const uint8_t *)&w2, sizeof(w2)));
    }
    gn_merlin_t again;
    gn_sr25519_context(&again);
    cr_assert(!memcmp(&again, &ctx, sizeof(ctx)), "the context is left as it was");
}

/* Witness signatures checked by the independent implementations (the
 * oracle: @scure/sr25519 and Rust schnorrkel as WASM), as
 * test_sr25519_oracle.c checks gn_sr25519_sign's. */
Test(sr25519, witness_signatures_verify_in_scure_and_schnorrkel, .timeout = 300)
{
    enum { N = 200, MAX_MSG = 1024 };
    static uint8_t msg[MAX_MSG];
    uint64_t st = gn_test_seed() ^ 0x3178;
    json_t *batch = json_array();
    for (int i = 0; i < N; i++) {
        uint8_t mini[32], rnd[32], sig[64];
        for (int k = 0; k < 32; k++)
            mini[k] = (uint8_t)gn_test_rand(&st);
        randombytes_buf(rnd, sizeof(rnd));
        size_t len = i == 0 ? 0 : gn_test_rand(&st) % (MAX_MSG + 1);
        for (size_t k = 0; k < len; k++)
            msg[k] = (uint8_t)gn_test_rand(&st);
        gn_sr25519_keypair_t kp;
        gn_sr25519_from_mini(&kp, mini);
        gn_sr25519_witness_t w;
        cr_assert_eq(gn_sr25519_witness(&kp, rnd, &w), 0);
        cr_assert_eq(gn_sr25519_sign_witness(&kp, msg, len, &w, sig), 0);
        if (i == N - 1)
            sig[40] ^= 4; /* one tampered signature: the oracle must say no */
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
    cr_assert_eq(json_array_size(res), N);
    cr_log_info("%d witness signatures checked by @scure/sr25519 and schnorrkel (wasm)", N);
    json_decref(res);
    json_decref(batch);
}
