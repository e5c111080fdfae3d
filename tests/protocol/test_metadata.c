#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/metadata.h"
#include "support/blobs.h"
#include "support/vectors.h"

static const char *s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}
static long long i(json_t *o, const char *k)
{
    return json_integer_value(json_object_get(o, k));
}

Test(metadata_vectors, tables_agree_with_polkadot_js)
{
    for (size_t b = 0; b < GN_TEST_N_BLOBS; b++) {
        gn_metadata_t md;
        gn_test_load_blob(&md, gn_test_blobs[b]);
        json_t *v = gn_test_blob_vectors(gn_test_blobs[b]), *x;
        size_t k;
        cr_assert_eq(md.version, i(v, "metadataVersion"), "%s", gn_test_blobs[b]);

        json_t *consts = json_object_get(v, "constants");
        cr_assert(json_array_size(consts) > 0);
        json_array_foreach (consts, k, x) {
            const gn_constant_t *c = gn_metadata_constant(&md, s(x, "pallet"), s(x, "name"));
            cr_assert_not_null(c, "%s: constant %s.%s", gn_test_blobs[b], s(x, "pallet"),
                               s(x, "name"));
            cr_assert_eq(c->type, i(x, "typeId"), "%s.%s", s(x, "pallet"), s(x, "name"));
            gn_test_assert_hex(c->value, c->value_len, s(x, "hex"), s(x, "name"));
        }
        json_t *defs = json_object_get(v, "storageDefaults");
        cr_assert(json_array_size(defs) > 0);
        json_array_foreach (defs, k, x) {
            const gn_storage_entry_t *e = gn_metadata_storage(&md, s(x, "pallet"), s(x, "item"));
            cr_assert_not_null(e, "%s: storage %s.%s", gn_test_blobs[b], s(x, "pallet"),
                               s(x, "item"));
            cr_assert_eq(e->value_type, i(x, "typeId"), "%s.%s", s(x, "pallet"), s(x, "item"));
            gn_test_assert_hex(e->default_value, e->default_len, s(x, "hex"), s(x, "item"));
        }
        json_t *exts = json_object_get(v, "signedExtensions");
        cr_assert_eq(md.n_signed_exts, json_array_size(exts), "%s", gn_test_blobs[b]);
        json_array_foreach (exts, k, x) {
            cr_assert_str_eq(md.signed_exts[k].identifier, s(x, "identifier"));
            cr_assert_eq(md.signed_exts[k].type, i(json_object_get(x, "extra"), "typeId"));
            cr_assert_eq(md.signed_exts[k].additional_type,
                         i(json_object_get(x, "additionalSigned"), "typeId"));
        }
        json_t *calls = json_object_get(v, "calls");
        json_array_foreach (calls, k, x) {
            const gn_pallet_t *p;
            const gn_variant_t *call = gn_metadata_call(&md, s(x, "pallet"), s(x, "call"), &p);
            cr_assert(call && p, "%s.%s", s(x, "pallet"), s(x, "call"));
            cr_assert_eq(p->index, i(x, "palletIndex"));
            cr_assert_eq(call->index, i(x, "callIndex"));
            cr_assert_eq(call->n_fields, json_array_size(json_object_get(x, "fields")));
        }
        json_t *ext = json_object_get(v, "extrinsic");
        cr_assert_eq(md.extrinsic_version, i(ext, "version"));
        cr_assert(md.has_extrinsic_parts, "%s: address/call/signature/extra types",
                  gn_test_blobs[b]);
        if (md.version == 14)
            cr_assert_eq(md.extrinsic_type, i(json_object_get(ext, "type"), "typeId"));
        else
            cr_assert_eq(md.call_type, i(json_object_get(ext, "callType"), "typeId"));
        json_t *apis = json_object_get(v, "runtimeApis");
        if (md.version >= 15) {
            cr_assert_eq(md.n_apis, json_array_size(apis));
            json_array_foreach (apis, k, x) {
                const gn_runtime_api_t *api = gn_metadata_api(&md, s(x, "name"));
                cr_assert_not_null(api, "%s", s(x, "name"));
                json_t *m;
                size_t j;
                cr_assert_eq(api->n_methods, json_array_size(json_object_get(x, "methods")));
                json_array_foreach (json_object_get(x, "methods"), j, m)
                    cr_assert_not_null(
                        gn_metadata_api_method(&md, s(x, "name"), json_string_value(m)));
            }
        }
        cr_log_info("%s: V%u, %u types, %u pallets, %zu constants, %zu storage defaults",
                    gn_test_blobs[b], md.version, md.n_types, md.n_pallets, json_array_size(consts),
                    json_array_size(defs));
        json_decref(v);
        gn_metadata_free(&md);
    }
}

Test(metadata, lookups_and_descriptions)
{
    gn_metadata_t md;
    gn_test_load_blob(&md, gn_test_blobs[0]);
    const gn_storage_entry_t *e = gn_metadata_storage(&md, "SubtensorModule", "Uids");
    cr_assert_not_null(e);
    cr_assert(e->is_map);
    cr_assert_eq(e->n_hashers, 2);
    cr_assert_eq(e->hashers[0], GN_HASHER_IDENTITY);
    cr_assert_eq(e->hashers[1], GN_HASHER_BLAKE2_128_CONCAT);
    cr_assert_str_eq(e->pallet->storage_prefix, "SubtensorModule");
    cr_assert_null(gn_metadata_storage(&md, "SubtensorModule", "NoSuchItem"));
    cr_assert_null(gn_metadata_pallet(&md, "NoSuchPallet"));
    const gn_pallet_t *p = gn_metadata_pallet(&md, "System");
    cr_assert_not_null(p);
    cr_assert_eq(md.by_pallet_index[p->index], p);
    char buf[128];
    const gn_storage_entry_t *axons = gn_metadata_storage(&md, "SubtensorModule", "Weights");
    gn_type_describe(&md, axons->value_type, buf, sizeof(buf));
    cr_assert_str_eq(buf, "Vec<(u16, u16)>");
    gn_type_describe(&md, md.signed_exts[5].type, buf, sizeof(buf));
    cr_assert(strstr(buf, "CheckNonce"), "%s", buf);
    gn_type_describe(&md, 0, buf, 4);
    cr_assert_eq(strlen(buf), 3, "truncated to the buffer");
    const gn_variant_t *ev = gn_metadata_event(&md, "Balances", "Transfer");
    cr_assert_not_null(ev);
    cr_assert_eq(ev->n_fields, 3);
    gn_metadata_free(&md);
}

Test(metadata, every_truncation_is_an_error)
{
    size_t n;
    uint8_t *bytes =
        gn_test_load_shared_hex("vectors/metadata/subtensor-mainnet-spec219-v14.hex", &n);
    gn_metadata_t md;
    /* a cut anywhere is a clean error, never a crash or a leak (ASan) */
    for (size_t cut = 0; cut < n; cut += (cut < 4096 ? 1 : 997)) {
        uint8_t *copy = malloc(cut ? cut : 1);
        memcpy(copy, bytes, cut);
        int rc = gn_metadata_parse(&md, copy, cut, NULL, NULL);
        cr_assert_lt(rc, 0, "cut at %zu parsed", cut);
        free(copy);
    }
    /* unknown versions are named */
    uint8_t v16[8] = {'m', 'e', 't', 'a', 16, 0, 0, 0}, version = 0;
    cr_assert_eq(gn_metadata_parse(&md, v16, sizeof(v16), NULL, &version), GN_EUNSUPPORTED);
    cr_assert_eq(version, 16);
    uint8_t bad[8] = {'m', 'e', 't', 'b', 14, 0, 0, 0};
    cr_assert_eq(gn_metadata_parse(&md, bad, sizeof(bad), NULL, NULL), GN_EINVAL);
    /* a trailing byte is refused */
    uint8_t *longer = malloc(n + 1);
    memcpy(longer, bytes, n);
    longer[n] = 0;
    cr_assert_eq(gn_metadata_parse(&md, longer, n + 1, NULL, NULL), GN_ETRAILING);
    free(longer);
    free(bytes);
}
