#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/sr25519.h"
#include "ganglion/ss58.h"
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
