#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/suri.h"
#include "support/vectors.h"

Test(suri_vectors, derivation)
{
    json_t *root = gn_test_load_shared_json("vectors/derivation.json");
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i;
    cr_assert(json_array_size(vecs) > 0);
    json_array_foreach (vecs, i, v) {
        const char *suri = json_string_value(json_object_get(v, "suri"));
        uint8_t rnd[32] = {0}, mini[32], b64[64];
        bool has_mini = false;
        gn_sr25519_keypair_t kp;
        int rc = gn_suri_keypair(suri, strlen(suri), rnd, &kp, mini, &has_mini);
        cr_assert_eq(rc, 0, "%s: %s", suri, gn_strerror(rc));
        gn_test_assert_hex(kp.pub, 32, json_string_value(json_object_get(v, "publicKey")), suri);
        /* soft steps draw a random nonce: compare the scalar halves */
        gn_sr25519_private_bytes(&kp, b64);
        char *h = gn_test_hex(b64, 32);
        cr_assert_eq(strncmp(h, json_string_value(json_object_get(v, "privateKey")), 66), 0,
                     "%s: scalar", suri);
        free(h);
        gn_sr25519_ed25519_bytes(&kp, b64);
        h = gn_test_hex(b64, 32);
        cr_assert_eq(strncmp(h, json_string_value(json_object_get(v, "secretKey")), 66), 0,
                     "%s: secretKey", suri);
        free(h);
        json_t *m = json_object_get(v, "miniSecret");
        cr_assert_eq(has_mini, json_is_string(m), "%s: has a mini secret", suri);
        if (json_is_string(m))
            gn_test_assert_hex(mini, 32, json_string_value(m), suri);
        /* each step's chain code */
        gn_suri_t parsed;
        cr_assert_eq(gn_suri_parse(suri, strlen(suri), &parsed), 0);
        json_t *steps = json_object_get(v, "steps"), *s;
        size_t k;
        cr_assert_eq(parsed.n_junctions, json_array_size(steps), "%s", suri);
        json_array_foreach (steps, k, s) {
            const char *junction = json_string_value(json_object_get(s, "junction"));
            cr_assert_eq(parsed.junctions[k].hard, strncmp(junction, "//", 2) == 0);
            gn_test_assert_hex(parsed.junctions[k].chain_code, 32,
                               json_string_value(json_object_get(s, "chainCode")), junction);
        }
    }
    cr_log_info("derivation.json: %zu secret URIs", json_array_size(vecs));
    json_decref(root);
}

Test(suri, soft_public_derivation_matches_secret)
{
    uint8_t rnd[32] = {7};
    gn_sr25519_keypair_t parent, child;
    uint8_t cc[32], out_cc[32], out_cc2[32], pub[32];
    cr_assert_eq(gn_suri_keypair("//Alice", 7, rnd, &parent, NULL, NULL), 0);
    gn_sr25519_chain_code("soft", 4, cc);
    cr_assert_eq(gn_sr25519_derive_soft(&parent, cc, rnd, &child, out_cc), 0);
    cr_assert_eq(gn_sr25519_derive_public(parent.pub, cc, pub, out_cc2), 0);
    cr_assert(memcmp(pub, child.pub, 32) == 0);
    cr_assert(memcmp(out_cc, out_cc2, 32) == 0);
}

Test(suri, parse_errors)
{
    gn_suri_t s;
    gn_sr25519_keypair_t kp;
    uint8_t rnd[32] = {0};
    cr_assert_eq(gn_suri_parse("//", 2, &s), GN_ESURI);
    cr_assert_eq(gn_suri_parse("//a//", 5, &s), GN_ESURI);
    cr_assert_eq(gn_suri_parse("bad-phrase", 10, &s), GN_ESURI);
    cr_assert_eq(gn_suri_parse("//a///", 6, &s), 0, "empty password is allowed");
    cr_assert_eq(s.password_len, 0);
    cr_assert_eq(gn_suri_keypair("0x1234", 6, rnd, &kp, NULL, NULL), GN_EINVAL);
    cr_assert_eq(gn_suri_keypair("not a mnemonic", 14, rnd, &kp, NULL, NULL), GN_EMNEMONIC);
    cr_assert_eq(gn_suri_parse("//Alice///pw/with/slashes", 25, &s), 0);
    cr_assert_eq(s.n_junctions, 1);
    cr_assert_eq(s.password_len, 15);
}
