#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/mnemonic.h"
#include "ganglion/sr25519.h"
#include "support/vectors.h"

/* bytes equal the vector's 0x-hex field `key` */
static void assert_field(const uint8_t *p, size_t n, json_t *v, const char *key)
{
    gn_test_assert_hex(p, n, json_string_value(json_object_get(v, key)), key);
}

Test(mnemonic_vectors, every_case)
{
    json_t *root = gn_test_load_shared_json("vectors/mnemonic.json");
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i;
    cr_assert(json_array_size(vecs) > 0);
    json_array_foreach (vecs, i, v) {
        const char *label = json_string_value(json_object_get(v, "label"));
        const char *words = json_string_value(json_object_get(v, "mnemonic"));
        const char *pw = json_string_value(json_object_get(v, "password"));
        uint8_t ent[32], mini[32], out64[64];
        size_t n;
        cr_assert_eq(gn_mnemonic_to_entropy(words, strlen(words), ent, &n), 0, "%s", label);
        assert_field(ent, n, v, "entropy");
        char back[GN_MNEMONIC_MAX];
        cr_assert_eq(gn_mnemonic_from_entropy(ent, n, back, sizeof(back)), 0);
        cr_assert_str_eq(back, words, "%s: entropy back to words", label);
        cr_assert_eq(gn_mnemonic_to_mini_secret(words, strlen(words), pw, strlen(pw), mini), 0);
        assert_field(mini, 32, v, "miniSecret");
        gn_sr25519_keypair_t kp;
        gn_sr25519_from_mini(&kp, mini);
        assert_field(kp.pub, 32, v, "publicKey");
        gn_sr25519_private_bytes(&kp, out64);
        assert_field(out64, 64, v, "privateKey");
        gn_sr25519_ed25519_bytes(&kp, out64);
        assert_field(out64, 64, v, "secretKey");
    }
    json_t *bad = json_object_get(root, "invalid");
    cr_assert(json_array_size(bad) > 0);
    json_array_foreach (bad, i, v) {
        const char *words = json_string_value(json_object_get(v, "mnemonic"));
        uint8_t ent[32];
        size_t n;
        cr_assert_eq(gn_mnemonic_to_entropy(words, strlen(words), ent, &n), GN_EMNEMONIC, "%s",
                     json_string_value(json_object_get(v, "label")));
    }
    cr_log_info("mnemonic.json: %zu valid, %zu invalid", json_array_size(vecs),
                json_array_size(bad));
    json_decref(root);
}

Test(mnemonic, every_length_round_trips)
{
    uint64_t st = gn_test_seed();
    for (size_t n = 16; n <= 32; n += 4) {
        for (int iter = 0; iter < 50; iter++) {
            uint8_t ent[32], back[32];
            for (size_t k = 0; k < n; k++)
                ent[k] = (uint8_t)gn_test_rand(&st);
            char words[GN_MNEMONIC_MAX];
            size_t m;
            cr_assert_eq(gn_mnemonic_from_entropy(ent, n, words, sizeof(words)), 0);
            cr_assert_eq(gn_mnemonic_to_entropy(words, strlen(words), back, &m), 0, "%s", words);
            cr_assert(m == n && memcmp(ent, back, n) == 0);
        }
    }
    uint8_t ent[32] = {0};
    char words[GN_MNEMONIC_MAX];
    cr_assert_eq(gn_mnemonic_from_entropy(ent, 17, words, sizeof(words)), GN_EINVAL);
    cr_assert_eq(gn_mnemonic_from_entropy(ent, 32, words, 20), GN_ENOSPC);
}

Test(mnemonic, whitespace_and_bad_input)
{
    const char *dev = "  bottom drive obey lake\tcurtain smoke basket hold race lonely fit walk\n";
    uint8_t ent[32];
    size_t n;
    cr_assert_eq(gn_mnemonic_to_entropy(dev, strlen(dev), ent, &n), 0);
    cr_assert_eq(n, 16);
    const char *upper = "Bottom drive obey lake curtain smoke basket hold race lonely fit walk";
    cr_assert_eq(gn_mnemonic_to_entropy(upper, strlen(upper), ent, &n), GN_EMNEMONIC);
    cr_assert_eq(gn_mnemonic_to_entropy("", 0, ent, &n), GN_EMNEMONIC);
    char many[600] = "";
    for (int i = 0; i < 27; i++)
        strcat(many, "abandon ");
    cr_assert_eq(gn_mnemonic_to_entropy(many, strlen(many), ent, &n), GN_EMNEMONIC);
    const char *longword = "abandonabandon abandon abandon abandon abandon abandon abandon "
                           "abandon abandon abandon abandon about";
    cr_assert_eq(gn_mnemonic_to_entropy(longword, strlen(longword), ent, &n), GN_EMNEMONIC);
    /* found by fuzz_keys: NULs after a valid word once matched it and read
     * past the end of the list's word */
    const char nul[] = "legal winner thank year\0\0\0\0 wave sausage worth useful legal "
                       "winner thank yellow";
    cr_assert_eq(gn_mnemonic_to_entropy(nul, sizeof(nul) - 1, ent, &n), GN_EMNEMONIC);
    const char prefix[] = "aban abandon abandon abandon abandon abandon abandon abandon abandon "
                          "abandon abandon about";
    cr_assert_eq(gn_mnemonic_to_entropy(prefix, sizeof(prefix) - 1, ent, &n), GN_EMNEMONIC);
}

/* RFC 7914 §11's PBKDF2-HMAC-SHA256 has no SHA-512 twin there; this is the
 * widely published PBKDF2-HMAC-SHA512("password", "salt", 1, 64) value. */
Test(mnemonic, pbkdf2_sha512_known_answer)
{
    uint8_t out[64];
    cr_assert_eq(
        gn_pbkdf2_sha512((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4, 1, out, 64),
        0);
    char *h = gn_test_hex(out, 64);
    cr_assert_str_eq(h,
                     "0x867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285"
                     "a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce");
    free(h);
    cr_assert_eq(
        gn_pbkdf2_sha512((const uint8_t *)"password", 8, (const uint8_t *)"salt", 4, 2, out, 64),
        0);
    h = gn_test_hex(out, 64);
    cr_assert_str_eq(h,
                     "0xe1d9c16aa681708a45f5c7c4e215ceb66e011a2e9f0040713f18aefdb866d53cf76cab2868"
                     "a39b9f7840edce4fef5a82be67335c77a6068e04112754f27ccf4e");
    free(h);
}
