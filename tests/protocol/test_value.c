#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/metadata.h"
#include "ganglion/value.h"
#include "support/json_loose.h"
#include "support/blobs.h"
#include "support/vectors.h"

static const char *s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* decode hex as type → JSON like `want`, and encode back to the same hex */
static void check_decode(const gn_metadata_t *md, uint32_t type, const char *hex, json_t *want,
                         const char *what)
{
    size_t n;
    uint8_t *bytes = gn_test_unhex(hex, &n);
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    gn_value_t v;
    int rc = gn_value_decode_all(md, type, bytes, n, &ar, &v);
    cr_assert_eq(rc, 0, "%s: decode: %s", what, gn_strerror(rc));
    gn_json_opts_t opts = {GN_JSON_SS58_PREFIX, gn_metadata_ss58_prefix(md)};
    json_t *got = gn_value_to_json(md, &v, &opts);
    cr_assert_not_null(got, "%s: to_json", what);
    char *gs = json_dumps(got, JSON_ENCODE_ANY | JSON_COMPACT);
    char *ws = json_dumps(want, JSON_ENCODE_ANY | JSON_COMPACT);
    cr_assert(gn_test_json_loose_equal(got, want), "%s:\n ours   %.600s\n theirs %.600s", what, gs,
              ws);
    free(gs);
    free(ws);
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    cr_assert_eq(gn_value_encode(md, &v, &w), 0, "%s: encode", what);
    gn_test_assert_hex(w.buf, w.len, hex, what);
    gn_scale_writer_free(&w);
    json_decref(got);
    gn_arena_free(&ar);
    free(bytes);
}

Test(value_vectors, constants_and_storage_defaults)
{
    for (size_t b = 0; b < GN_TEST_N_BLOBS; b++) {
        gn_metadata_t md;
        gn_test_load_blob(&md, gn_test_blobs[b]);
        json_t *v = gn_test_blob_vectors(gn_test_blobs[b]), *x;
        size_t k, count = 0;
        char what[256];
        json_array_foreach (json_object_get(v, "constants"), k, x) {
            snprintf(what, sizeof(what), "%s %s.%s", gn_test_blobs[b], s(x, "pallet"),
                     s(x, "name"));
            check_decode(&md, (uint32_t)json_integer_value(json_object_get(x, "typeId")),
                         s(x, "hex"), json_object_get(x, "value"), what);
            count++;
        }
        json_array_foreach (json_object_get(v, "storageDefaults"), k, x) {
            snprintf(what, sizeof(what), "%s %s.%s default", gn_test_blobs[b], s(x, "pallet"),
                     s(x, "item"));
            check_decode(&md, (uint32_t)json_integer_value(json_object_get(x, "typeId")),
                         s(x, "hex"), json_object_get(x, "value"), what);
            count++;
        }
        cr_assert(count > 0);
        cr_log_info("%s: %zu constants and storage defaults decoded, re-encoded, JSON equal",
                    gn_test_blobs[b], count);
        json_decref(v);
        gn_metadata_free(&md);
    }
}

Test(value_vectors, storage_values_both_ways)
{
    for (size_t b = 0; b < GN_TEST_N_BLOBS; b++) {
        gn_metadata_t md;
        gn_test_load_blob(&md, gn_test_blobs[b]);
        json_t *v = gn_test_blob_vectors(gn_test_blobs[b]), *x;
        size_t k;
        char what[256], err[256];
        json_array_foreach (json_object_get(v, "storageValues"), k, x) {
            uint32_t type = (uint32_t)json_integer_value(json_object_get(x, "typeId"));
            snprintf(what, sizeof(what), "%s %s.%s", gn_test_blobs[b], s(x, "pallet"),
                     s(x, "item"));
            check_decode(&md, type, s(x, "hex"), json_object_get(x, "decoded"), what);
            gn_scale_writer_t w;
            gn_scale_writer_init(&w, NULL);
            int rc =
                gn_value_encode_json(&md, type, json_object_get(x, "input"), &w, err, sizeof(err));
            cr_assert_eq(rc, 0, "%s: from JSON: %s", what, err);
            gn_test_assert_hex(w.buf, w.len, s(x, "hex"), what);
            gn_scale_writer_free(&w);
        }
        json_decref(v);
        gn_metadata_free(&md);
    }
}

Test(value_vectors, call_arguments_from_json)
{
    for (size_t b = 0; b < GN_TEST_N_BLOBS; b++) {
        gn_metadata_t md;
        gn_test_load_blob(&md, gn_test_blobs[b]);
        json_t *v = gn_test_blob_vectors(gn_test_blobs[b]), *x;
        size_t k;
        char err[256];
        json_array_foreach (json_object_get(v, "calls"), k, x) {
            const gn_pallet_t *p;
            const gn_variant_t *call = gn_metadata_call(&md, s(x, "pallet"), s(x, "call"), &p);
            cr_assert_not_null(call);
            gn_scale_writer_t w;
            gn_scale_writer_init(&w, NULL);
            gn_scale_write_u8(&w, p->index);
            gn_scale_write_u8(&w, call->index);
            json_t *args = json_object_get(x, "args"), *fields = json_object_get(x, "fields");
            for (uint32_t f = 0; f < call->n_fields; f++) {
                size_t before = w.len;
                json_t *arg = json_object_get(args, call->fields[f].name), *filled = NULL;
                if (!arg) {
                    /* polkadot-js filled a missing argument with its zero value; ganglion
                     * refuses the missing argument, then gets the value the vector used */
                    gn_scale_writer_t w0;
                    gn_scale_writer_init(&w0, NULL);
                    cr_assert_neq(gn_value_encode_json(&md, call->fields[f].type, NULL, &w0, err,
                                                       sizeof(err)),
                                  0);
                    gn_scale_writer_free(&w0);
                    size_t hn;
                    uint8_t *hb = gn_test_unhex(s(json_array_get(fields, f), "hex"), &hn);
                    gn_arena_t ar;
                    gn_arena_init(&ar, NULL, 0);
                    gn_value_t zero;
                    cr_assert_eq(gn_value_decode_all(&md, call->fields[f].type, hb, hn, &ar, &zero),
                                 0);
                    arg = filled = gn_value_to_json(&md, &zero, NULL);
                    gn_arena_free(&ar);
                    free(hb);
                }
                int rc = gn_value_encode_json(&md, call->fields[f].type, arg, &w, err, sizeof(err));
                json_decref(filled);
                cr_assert_eq(rc, 0, "%s.%s %s: %s", s(x, "pallet"), s(x, "call"),
                             call->fields[f].name, err);
                gn_test_assert_hex(w.buf + before, w.len - before,
                                   s(json_array_get(fields, f), "hex"), call->fields[f].name);
            }
            gn_test_assert_hex(w.buf, w.len, s(x, "callData"), s(x, "call"));
            gn_scale_writer_free(&w);
        }
        json_decref(v);
        gn_metadata_free(&md);
    }
}

static int encode_from(const gn_metadata_t *md, const char *pallet, const char *item,
                       const char *json, char *err, size_t cap)
{
    const gn_storage_entry_t *e = gn_metadata_storage(md, pallet, item);
    cr_assert_not_null(e);
    json_t *j = json_loads(json, JSON_DECODE_ANY, NULL);
    cr_assert_not_null(j, "%s", json);
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    int rc = gn_value_encode_json(md, e->value_type, j, &w, err, cap);
    gn_scale_writer_free(&w);
    json_decref(j);
    return rc;
}

Test(value, json_errors_name_the_field)
{
    gn_metadata_t md;
    gn_test_load_blob(&md, gn_test_blobs[0]);
    char err[256];
    cr_assert_eq(encode_from(&md, "SubtensorModule", "Weights", "[[1, 70000]]", err, sizeof(err)),
                 GN_ERANGE);
    cr_assert_str_eq(err, "[0][1]: integer out of range for u16");
    cr_assert_eq(encode_from(&md, "SubtensorModule", "Axons",
                             "{\"block\": 1, \"version\": 2, \"ip\": 3, \"port\": 4, "
                             "\"ip_type\": 4, \"protocol\": 4, \"placeholder1\": 0}",
                             err, sizeof(err)),
                 GN_EINVAL);
    cr_assert_str_eq(err, "value: missing field 'placeholder2'");
    cr_assert_eq(encode_from(&md, "SubtensorModule", "Axons",
                             "{\"block\": 1, \"version\": 2, \"ip\": \"x\", \"port\": 4, "
                             "\"ip_type\": 4, \"protocol\": 4, \"placeholder1\": 0, "
                             "\"placeholder2\": 0}",
                             err, sizeof(err)),
                 GN_EDECIMAL);
    cr_assert(strncmp(err, "ip: not an integer", 18) == 0, "%s", err);
    cr_assert_eq(encode_from(&md, "SubtensorModule", "Axons",
                             "{\"block\": 1, \"version\": 2, \"ip\": 3, \"port\": 4, "
                             "\"ipType\": 4, \"protocol\": 4, \"placeholder1\": 0, "
                             "\"placeholder2\": 0, \"extra\": 1}",
                             err, sizeof(err)),
                 GN_EINVAL);
    cr_assert_str_eq(err, "value: unknown field 'extra'");
    cr_assert_eq(encode_from(&md, "System", "Account", "{\"nonce\": -1}", err, sizeof(err)),
                 GN_ERANGE);
    cr_assert_eq(
        encode_from(&md, "TransactionPayment", "StorageVersion", "\"V9\"", err, sizeof(err)),
        GN_EINVAL);
    cr_assert_str_eq(err, "value: unknown variant 'V9'");
    cr_assert_eq(
        encode_from(&md, "TransactionPayment", "StorageVersion", "\"V2\"", err, sizeof(err)), 0);
    cr_assert_eq(encode_from(&md, "System", "Number", "1.5", err, sizeof(err)), GN_EINVAL);
    gn_metadata_free(&md);
}

Test(value, bad_bytes_are_clean_errors)
{
    gn_metadata_t md;
    gn_test_load_blob(&md, gn_test_blobs[0]);
    const gn_storage_entry_t *e = gn_metadata_storage(&md, "SubtensorModule", "Weights");
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    gn_value_t v;
    /* a length far beyond the input: refused before allocating */
    const uint8_t huge[] = {0x03, 0xff, 0xff, 0xff, 0x7f, 1, 2};
    cr_assert_eq(gn_value_decode_all(&md, e->value_type, huge, sizeof(huge), &ar, &v), GN_ETRUNC);
    cr_assert_lt(ar.used_total, 4096, "no allocation proportional to the claimed length");
    const uint8_t trailing[] = {0x00, 0x00};
    cr_assert_eq(gn_value_decode_all(&md, e->value_type, trailing, 2, &ar, &v), GN_ETRAILING);
    cr_assert_eq(gn_value_decode_all(&md, 999999, trailing, 2, &ar, &v), GN_ERANGE);
    gn_arena_free(&ar);
    gn_metadata_free(&md);
}

/* ---- round trip of every type ------------------------------------------ */

/* Random bytes that decode as `type` are found by encoding a generated value;
 * here the generator is the decoder itself run on random input, retried
 * until it accepts, then encode(decode(b)) must give b back. */
Test(value, every_type_round_trips, .timeout = 120)
{
    for (size_t b = 0; b < GN_TEST_N_BLOBS; b++) {
        gn_metadata_t md;
        gn_test_load_blob(&md, gn_test_blobs[b]);
        uint64_t st = gn_test_seed() ^ b;
        size_t decoded = 0;
        for (uint32_t id = 0; id < md.n_types; id++) {
            int ok = 0;
            for (int attempt = 0; attempt < 64 && !ok; attempt++) {
                uint8_t buf[256];
                size_t n = attempt < 8 ? (size_t)attempt * 4 : gn_test_rand(&st) % sizeof(buf);
                for (size_t i = 0; i < n; i++)
                    buf[i] = attempt % 2 ? 0 : (uint8_t)gn_test_rand(&st);
                gn_arena_t ar;
                gn_arena_init(&ar, NULL, 0);
                gn_value_t v;
                gn_scale_reader_t r;
                gn_scale_reader_init(&r, buf, n);
                if (gn_value_decode(&md, id, &r, &ar, &v) == 0) {
                    gn_scale_writer_t w;
                    gn_scale_writer_init(&w, NULL);
                    cr_assert_eq(gn_value_encode(&md, &v, &w), 0, "%s type %u", gn_test_blobs[b],
                                 id);
                    cr_assert(w.len == r.pos && (r.pos == 0 || memcmp(w.buf, buf, r.pos) == 0),
                              "%s type %u: re-encoding differs", gn_test_blobs[b], id);
                    /* and through JSON */
                    json_t *j = gn_value_to_json(&md, &v, NULL);
                    cr_assert_not_null(j);
                    gn_scale_writer_t w2;
                    gn_scale_writer_init(&w2, NULL);
                    char err[256];
                    int rc = gn_value_encode_json(&md, id, j, &w2, err, sizeof(err));
                    cr_assert_eq(rc, 0, "%s type %u: from its own JSON: %s", gn_test_blobs[b], id,
                                 err);
                    cr_assert(w2.len == w.len && (w.len == 0 || memcmp(w2.buf, w.buf, w.len) == 0),
                              "%s type %u: JSON round trip differs", gn_test_blobs[b], id);
                    gn_scale_writer_free(&w2);
                    json_decref(j);
                    gn_scale_writer_free(&w);
                    ok = 1;
                }
                gn_arena_free(&ar);
            }
            decoded += (size_t)ok;
        }
        cr_log_info("%s: %zu of %u types round-tripped from generated bytes", gn_test_blobs[b],
                    decoded, md.n_types);
        cr_assert_gt(decoded, md.n_types * 9 / 10, "most types must be exercised");
        gn_metadata_free(&md);
    }
}
