#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/hashing.h"
#include "support/vectors.h"

static void check(const char *label, const char *algo, const uint8_t *got, size_t n,
                  const char *want)
{
    char *h = gn_test_hex(got, n);
    cr_assert_str_eq(h, want, "%s of %s", algo, label);
    free(h);
}

Test(hashing_vectors, every_case)
{
    json_t *root = gn_test_load_shared_json("vectors/hashes.json");
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i, checks = 0;
    cr_assert(json_array_size(vecs) > 0, "hashes.json has no vectors");
    json_array_foreach (vecs, i, v) {
        const char *label = json_string_value(json_object_get(v, "label"));
        size_t n;
        uint8_t *in = gn_test_unhex(json_string_value(json_object_get(v, "input")), &n);
        uint8_t out[64];
        const char *k;
        json_t *want;
        json_object_foreach (v, k, want) {
            if (strcmp(k, "label") == 0 || strcmp(k, "input") == 0)
                continue;
            size_t len;
            if (strcmp(k, "twox64") == 0) {
                gn_twox64(in, n, out);
                len = 8;
            } else if (strcmp(k, "twox128") == 0) {
                gn_twox128(in, n, out);
                len = 16;
            } else if (strcmp(k, "twox256") == 0) {
                gn_twox256(in, n, out);
                len = 32;
            } else if (strcmp(k, "blake2b_128") == 0) {
                gn_blake2b_128(in, n, out);
                len = 16;
            } else if (strcmp(k, "blake2b_256") == 0) {
                gn_blake2b_256(in, n, out);
                len = 32;
            } else if (strcmp(k, "blake2b_512") == 0) {
                gn_blake2b_512(in, n, out);
                len = 64;
            } else {
                cr_assert_fail("hashes.json: unknown field %s: the test must learn it", k);
            }
            check(label, k, out, len, json_string_value(want));
            checks++;
        }
        free(in);
    }
    json_t *keyed = json_object_get(root, "keyedBlake2b");
    cr_assert(json_array_size(keyed) > 0);
    json_array_foreach (keyed, i, v) {
        size_t kn, n;
        uint8_t *key = gn_test_unhex(json_string_value(json_object_get(v, "key")), &kn);
        uint8_t *in = gn_test_unhex(json_string_value(json_object_get(v, "input")), &n);
        uint8_t out[32];
        cr_assert_eq(gn_blake2b(out, 32, in, n, key, kn), 0);
        check("keyed", "blake2b_256", out, 32,
              json_string_value(json_object_get(v, "blake2b_256")));
        checks++;
        free(key);
        free(in);
    }
    cr_log_info("hashes.json: %zu vectors, %zu keyed, %zu digests checked", json_array_size(vecs),
                json_array_size(keyed), checks);
    json_decref(root);
}

/* The storage hashers, checked against the vector digests they are made of. */
Test(hashing_vectors, storage_hashers_compose_the_vector_digests)
{
    json_t *root = gn_test_load_shared_json("vectors/hashes.json");
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i;
    json_array_foreach (vecs, i, v) {
        size_t n;
        uint8_t *in = gn_test_unhex(json_string_value(json_object_get(v, "input")), &n);
        static const struct {
            gn_hasher_t h;
            const char *field;
        } hs[] = {
            {GN_HASHER_BLAKE2_128, "blake2b_128"},
            {GN_HASHER_BLAKE2_256, "blake2b_256"},
            {GN_HASHER_BLAKE2_128_CONCAT, "blake2b_128"},
            {GN_HASHER_TWOX128, "twox128"},
            {GN_HASHER_TWOX256, "twox256"},
            {GN_HASHER_TWOX64_CONCAT, "twox64"},
            {GN_HASHER_IDENTITY, NULL},
        };
        for (size_t k = 0; k < sizeof(hs) / sizeof(hs[0]); k++) {
            size_t cap = gn_hasher_out_len(hs[k].h, n), got_len;
            uint8_t *out = malloc(cap + 1);
            cr_assert_eq(gn_hasher_apply(hs[k].h, in, n, out, cap, &got_len), 0);
            cr_assert_eq(got_len, cap);
            size_t prefix = 0;
            if (hs[k].field) {
                size_t wn;
                uint8_t *want =
                    gn_test_unhex(json_string_value(json_object_get(v, hs[k].field)), &wn);
                cr_assert(memcmp(out, want, wn) == 0, "%s", gn_hasher_name(hs[k].h));
                prefix = wn;
                free(want);
            }
            int pl = gn_hasher_prefix_len(hs[k].h);
            if (pl >= 0) {
                cr_assert_eq((size_t)pl, prefix);
                cr_assert_eq(got_len, prefix + n);
                cr_assert(n == 0 || memcmp(out + prefix, in, n) == 0);
            } else {
                cr_assert_eq(got_len, prefix);
            }
            if (cap > 0)
                cr_assert_eq(gn_hasher_apply(hs[k].h, in, n, out, cap - 1, &got_len), GN_ENOSPC);
            free(out);
        }
        free(in);
    }
    json_decref(root);
}

Test(hashing, names_and_bad_arguments)
{
    gn_hasher_t h;
    for (int i = 0; i < GN_HASHER_COUNT; i++) {
        cr_assert_eq(gn_hasher_from_name(gn_hasher_name((gn_hasher_t)i), &h), 0);
        cr_assert_eq(h, (gn_hasher_t)i);
    }
    cr_assert_eq(gn_hasher_from_name("twox64_concat", &h), 0);
    cr_assert_eq(h, GN_HASHER_TWOX64_CONCAT);
    cr_assert_eq(gn_hasher_from_name("md5", &h), GN_EINVAL);
    uint8_t out[65], key[65] = {0};
    cr_assert_eq(gn_blake2b(out, 0, NULL, 0, NULL, 0), GN_EINVAL);
    cr_assert_eq(gn_blake2b(out, 65, NULL, 0, NULL, 0), GN_EINVAL);
    cr_assert_eq(gn_blake2b(out, 32, NULL, 0, key, 65), GN_EINVAL);
    cr_assert_eq(gn_hasher_apply((gn_hasher_t)7, NULL, 0, out, 64, NULL), GN_EINVAL);
    /* twox128("System"), the well-known storage prefix of the System pallet */
    uint8_t t[16];
    gn_twox128((const uint8_t *)"System", 6, t);
    check("System", "twox128", t, 16, "0x26aa394eea5630e07c48ae0c9558cef7");
}
