#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/keyfile.h"
#include "support/vectors.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Every field of the vector's keyfile object is what we parse and derive. */
static void check_keyfile(const gn_keyfile_t *kf, json_t *want, const char *label)
{
    gn_sr25519_keypair_t kp;
    cr_assert_eq(gn_keyfile_keypair(kf, &kp), 0, "%s", label);
    char *h = gn_test_hex(kp.pub, 32);
    cr_assert_str_eq(h, str(want, "publicKey"), "%s", label);
    cr_assert_str_eq(h, str(want, "accountId"), "%s", label);
    free(h);
    uint8_t priv[64];
    gn_sr25519_private_bytes(&kp, priv);
    h = gn_test_hex(priv, 64);
    cr_assert_str_eq(h, str(want, "privateKey"), "%s", label);
    free(h);
    cr_assert_str_eq(kf->ss58, str(want, "ss58Address"), "%s", label);
    json_t *phrase = json_object_get(want, "secretPhrase");
    cr_assert_eq(!!(kf->has & GN_KF_PHRASE), json_is_string(phrase));
    if (json_is_string(phrase))
        cr_assert_str_eq(kf->phrase, json_string_value(phrase));
}

Test(keyfile_vectors, plain_json_both_layouts)
{
    json_t *root = gn_test_load_shared_json("vectors/keyfile.json");
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i;
    cr_assert(json_array_size(vecs) > 0);
    json_array_foreach (vecs, i, v) {
        const char *label = str(v, "label");
        json_t *want = json_object_get(v, "keyfile");
        gn_keyfile_t kf, kf2;
        /* the Python text layout, with nulls */
        const char *text = str(v, "keyfileText");
        cr_assert_eq(gn_keyfile_parse((const uint8_t *)text, strlen(text), &kf), 0, "%s", label);
        check_keyfile(&kf, want, label);
        /* our own compact output parses back to the same keys */
        char *out;
        size_t n;
        cr_assert_eq(gn_keyfile_to_json(&kf, false, &out, &n), 0);
        cr_assert_eq(gn_keyfile_parse((const uint8_t *)out, n, &kf2), 0);
        check_keyfile(&kf2, want, label);
        json_t *ours = json_loads(out, 0, NULL), *k2;
        const char *key;
        json_object_foreach (want, key, k2) {
            if (json_is_null(k2))
                cr_assert_null(json_object_get(ours, key), "%s: absent, not null", key);
            else
                cr_assert(json_equal(json_object_get(ours, key), k2), "%s: %s", label, key);
        }
        json_decref(ours);
        gn_keyfile_free_text(out, n);
        cr_assert_eq(gn_keyfile_to_json(&kf, true, &out, &n), 0);
        cr_assert_null(strstr(out, "privateKey"));
        cr_assert_null(strstr(out, "secret"));
        gn_keyfile_free_text(out, n);
    }
    json_decref(root);
}

/* argon2i with 512 MiB: the slow part, done once per vector. */
Test(keyfile_vectors, nacl_encryption, .timeout = 120)
{
    json_t *root = gn_test_load_shared_json("vectors/keyfile.json");
    size_t salt_n;
    uint8_t *salt = gn_test_unhex(str(root, "naclSalt"), &salt_n);
    cr_assert_eq(salt_n, 16);
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i;
    json_array_foreach (vecs, i, v) {
        const char *pw = str(v, "password");
        uint8_t key[32];
        cr_assert_eq(gn_keyfile_derive_key(pw, strlen(pw), key), 0);
        char *h = gn_test_hex(key, 32);
        cr_assert_str_eq(h, str(v, "argon2iKey"));
        free(h);
        size_t nn, en;
        uint8_t *nonce = gn_test_unhex(str(v, "nonce"), &nn);
        uint8_t *enc = gn_test_unhex(str(v, "encrypted"), &en);
        const char *text = str(v, "keyfileText");
        cr_assert_eq(gn_keyfile_detect(enc, en), GN_KEYFILE_NACL);
        uint8_t *sealed = malloc(strlen(text) + GN_KEYFILE_NACL_OVERHEAD);
        size_t sn;
        cr_assert_eq(gn_keyfile_seal((const uint8_t *)text, strlen(text), key, nonce, sealed,
                                     strlen(text) + GN_KEYFILE_NACL_OVERHEAD, &sn),
                     0);
        cr_assert(sn == en && memcmp(sealed, enc, en) == 0, "sealed bytes equal the vector");
        uint8_t *plain = malloc(en);
        size_t pn;
        cr_assert_eq(gn_keyfile_open(enc, en, key, plain, en, &pn), 0);
        cr_assert(pn == strlen(text) && memcmp(plain, text, pn) == 0);
        key[0] ^= 1;
        cr_assert_eq(gn_keyfile_open(enc, en, key, plain, en, &pn), GN_EPASSWORD);
        enc[en - 1] ^= 1;
        key[0] ^= 1;
        cr_assert_eq(gn_keyfile_open(enc, en, key, plain, en, &pn), GN_EPASSWORD,
                     "a flipped ciphertext bit fails the MAC");
        free(nonce), free(enc), free(sealed), free(plain);
    }
    free(salt);
    json_decref(root);
}

Test(keyfile, formats_and_bad_input)
{
    uint8_t key[32] = {0}, out[64];
    size_t n;
    const char *ansible = "$ANSIBLE_VAULT;1.1;AES256\n3030";
    const char *fernet = "gAAAAABh...";
    cr_assert_eq(gn_keyfile_detect((const uint8_t *)ansible, strlen(ansible)), GN_KEYFILE_ANSIBLE);
    cr_assert_eq(gn_keyfile_open((const uint8_t *)ansible, strlen(ansible), key, out, 64, &n),
                 GN_ELEGACY);
    cr_assert_eq(gn_keyfile_open((const uint8_t *)fernet, strlen(fernet), key, out, 64, &n),
                 GN_ELEGACY);
    cr_assert(strstr(gn_keyfile_format_name(GN_KEYFILE_ANSIBLE), "Ansible"));
    cr_assert_eq(gn_keyfile_open((const uint8_t *)"$NACL", 5, key, out, 64, &n), GN_EKEYFILE);
    cr_assert_eq(gn_keyfile_open((const uint8_t *)"{}", 2, key, out, 64, &n), GN_EKEYFILE);

    gn_keyfile_t kf;
    static const char *bad[] = {
        "",
        "[]",
        "{}",
        "{\"publicKey\": 5}",
        "{\"publicKey\": \"0x12\"}",
        "{\"accountId\": \"0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d\","
        " \"publicKey\": \"0x0000000000000000000000000000000000000000000000000000000000000000\"}",
        "{\"ss58Address\": \"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQZ\"}",
        "{\"secretPhrase\": 12}",
        "{\"publicKey\": \"0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d\"",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        cr_assert_eq(gn_keyfile_parse((const uint8_t *)bad[i], strlen(bad[i]), &kf), GN_EKEYFILE,
                     "%s", bad[i]);

    /* public only: no keypair, but a public key */
    const char *pub = "{\"ss58Address\": \"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\","
                      " \"extra\": [1, 2]}";
    gn_sr25519_keypair_t kp;
    uint8_t pk[32];
    cr_assert_eq(gn_keyfile_parse((const uint8_t *)pub, strlen(pub), &kf), 0);
    cr_assert_eq(gn_keyfile_keypair(&kf, &kp), GN_ENOENT);
    cr_assert_eq(gn_keyfile_public(&kf, pk), 0);
    cr_assert_eq(pk[0], 0xd4);

    /* a secret that does not match the stored public key */
    const char *mismatch =
        "{\"publicKey\": \"0xd43593c715fdd31c61141abd04a99fd6822c8558854ccde39a5684e7a56da27d\","
        " \"secretSeed\": \"0x0000000000000000000000000000000000000000000000000000000000000000\"}";
    cr_assert_eq(gn_keyfile_parse((const uint8_t *)mismatch, strlen(mismatch), &kf), 0);
    cr_assert_eq(gn_keyfile_keypair(&kf, &kp), GN_EKEYFILE);

    /* a non-hex secretSeed is absent (btwallet quirk) */
    const char *quirk = "{\"secretSeed\": \"0xnot hex at all\", \"ss58Address\": "
                        "\"5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY\"}";
    cr_assert_eq(gn_keyfile_parse((const uint8_t *)quirk, strlen(quirk), &kf), 0);
    cr_assert_eq(kf.has & GN_KF_SEED, 0);
}
