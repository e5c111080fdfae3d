#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/hex.h"
#include "ganglion/storage_key.h"
#include "support/vectors.h"

static const char *s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* "twox128(\"X\")" or "Hasher(0x…)": one part of a generic key */
static void generic_part(const char *what, gn_scale_writer_t *w)
{
    const char *open = strchr(what, '(');
    cr_assert_not_null(open, "%s", what);
    char name[64];
    snprintf(name, sizeof(name), "%.*s", (int)(open - what), what);
    const char *arg = open + 1;
    size_t alen = strlen(arg) - 1; /* drop ')' */
    uint8_t in[512];
    size_t n;
    if (arg[0] == '"') {
        n = alen - 2;
        memcpy(in, arg + 1, n);
    } else {
        cr_assert_eq(gn_hex_decode(arg, alen, in, sizeof(in), &n), 0, "%s", what);
    }
    gn_hasher_t h;
    cr_assert_eq(gn_hasher_from_name(name, &h), 0, "hasher %s", name);
    size_t len = gn_hasher_out_len(h, n);
    uint8_t *at = gn_scale_writer_extend(w, len);
    cr_assert_eq(gn_hasher_apply(h, in, n, at, len, NULL), 0);
}

Test(storage_key_vectors, generic_keys_from_their_parts)
{
    json_t *root = gn_test_load_shared_json("vectors/storage_keys.json");
    json_t *g = json_object_get(root, "generic"), *x;
    size_t i;
    cr_assert(json_array_size(g) > 0);
    json_array_foreach (g, i, x) {
        gn_scale_writer_t w;
        gn_scale_writer_init(&w, NULL);
        json_t *part;
        size_t k;
        json_array_foreach (json_object_get(x, "parts"), k, part) {
            size_t before = w.len;
            generic_part(s(part, "what"), &w);
            gn_test_assert_hex(w.buf + before, w.len - before, s(part, "hex"), s(part, "what"));
        }
        gn_test_assert_hex(w.buf, w.len, s(x, "key"), s(x, "item"));
        gn_scale_writer_free(&w);
    }
    json_decref(root);
}

Test(storage_key_vectors, keys_from_metadata_and_back)
{
    json_t *root = gn_test_load_shared_json("vectors/storage_keys.json");
    json_t *fm = json_object_get(root, "fromMetadata"), *x;
    size_t i, count = 0;
    cr_assert(json_array_size(fm) > 0);
    json_array_foreach (fm, i, x) {
        char rel[256];
        size_t n;
        snprintf(rel, sizeof(rel), "vectors/metadata/%s", s(x, "metadata"));
        uint8_t *bytes = gn_test_load_shared_hex(rel, &n);
        gn_metadata_t md;
        cr_assert_eq(gn_metadata_parse(&md, bytes, n, NULL, NULL), 0);
        free(bytes);
        const gn_storage_entry_t *e = gn_metadata_storage(&md, s(x, "pallet"), s(x, "item"));
        cr_assert_not_null(e, "%s.%s", s(x, "pallet"), s(x, "item"));
        json_t *keys = json_array(), *k;
        size_t j;
        json_array_foreach (json_object_get(x, "keys"), j, k) {
            gn_hasher_t h;
            cr_assert_eq(gn_hasher_from_name(s(k, "hasher"), &h), 0);
            cr_assert_eq(e->hashers[j], h, "%s hasher %zu", e->name, j);
            json_array_append(keys, json_object_get(k, "input"));
        }
        gn_scale_writer_t w;
        gn_scale_writer_init(&w, NULL);
        char err[256] = "";
        cr_assert_eq(gn_storage_key_json(&md, e, keys, &w, err, sizeof(err)), 0, "%s: %s", e->name,
                     err);
        gn_test_assert_hex(w.buf, w.len, s(x, "key"), e->name);
        /* a full key of transparent hashers decodes back to its keys */
        if (e->is_map && json_array_size(keys) == e->n_hashers) {
            gn_arena_t ar;
            gn_arena_init(&ar, NULL, 0);
            gn_value_t vals[8];
            cr_assert_eq(gn_storage_key_decode(&md, e, w.buf, w.len, &ar, vals), 0, "%s", e->name);
            for (uint32_t q = 0; q < e->n_hashers; q++) {
                if (gn_hasher_prefix_len(e->hashers[q]) < 0)
                    continue;
                gn_scale_writer_t kw;
                gn_scale_writer_init(&kw, NULL);
                cr_assert_eq(gn_value_encode(&md, &vals[q], &kw), 0);
                gn_test_assert_hex(kw.buf, kw.len,
                                   s(json_array_get(json_object_get(x, "keys"), q), "scale"),
                                   e->name);
                gn_scale_writer_free(&kw);
            }
            w.buf[w.len - 1] ^= 1; /* a changed key byte no longer matches its hash */
            if (gn_hasher_prefix_len(e->hashers[e->n_hashers - 1]) > 0)
                cr_assert_neq(gn_storage_key_decode(&md, e, w.buf, w.len, &ar, vals), 0);
            gn_arena_free(&ar);
        }
        gn_scale_writer_free(&w);
        json_decref(keys);
        gn_metadata_free(&md);
        count++;
    }
    cr_log_info("storage_keys.json: %zu keys from metadata", count);
    json_decref(root);
}

Test(storage_key, prefixes_and_errors)
{
    size_t n;
    uint8_t *bytes =
        gn_test_load_shared_hex("vectors/metadata/subtensor-mainnet-spec219-v14.hex", &n);
    gn_metadata_t md;
    cr_assert_eq(gn_metadata_parse(&md, bytes, n, NULL, NULL), 0);
    free(bytes);
    const gn_storage_entry_t *uids = gn_metadata_storage(&md, "SubtensorModule", "Uids");
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    char err[256];
    json_t *one = json_pack("[i]", 3);
    cr_assert_eq(gn_storage_key_json(&md, uids, one, &w, err, sizeof(err)), 0);
    cr_assert_eq(w.len, 32 + 2, "prefix for netuid 3: Identity(u16)");
    gn_scale_writer_reset(&w);
    cr_assert_eq(gn_storage_key_json(&md, uids, NULL, &w, err, sizeof(err)), 0);
    cr_assert_eq(w.len, 32);
    json_t *three = json_pack("[i,s,i]", 1, "5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNehXCPcNoHGKutQY", 2);
    cr_assert_eq(gn_storage_key_json(&md, uids, three, &w, err, sizeof(err)), GN_EINVAL);
    cr_assert_str_eq(err, "SubtensorModule.Uids takes 2 keys, 3 given");
    json_t *bad = json_pack("[i,s]", 1, "not an address");
    cr_assert_neq(gn_storage_key_json(&md, uids, bad, &w, err, sizeof(err)), 0);
    cr_assert(strncmp(err, "key 1: ", 7) == 0, "%s", err);
    json_t *notarr = json_pack("i", 1);
    cr_assert_eq(gn_storage_key_json(&md, uids, notarr, &w, err, sizeof(err)), GN_EINVAL);
    json_decref(one), json_decref(three), json_decref(bad), json_decref(notarr);
    gn_scale_writer_free(&w);
    gn_metadata_free(&md);
}
