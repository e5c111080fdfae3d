#include <criterion/criterion.h>
#include <string.h>

#include "ganglion/error.h"
#include "ganglion/extrinsic.h"
#include "ganglion/hex.h"
#include "support/blobs.h"
#include "support/vectors.h"

static const char *s(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static void hex32(json_t *o, const char *k, uint8_t out[32])
{
    cr_assert_eq(gn_hex_decode_exact(s(o, k), strlen(s(o, k)), out, 32), 0, "%s", k);
}

Test(extrinsic_vectors, signed_extrinsics_byte_for_byte)
{
    json_t *root = gn_test_load_shared_json("vectors/extrinsics.json");
    json_t *vecs = json_object_get(root, "vectors"), *v;
    size_t i;
    cr_assert(json_array_size(vecs) > 0);
    json_array_foreach (vecs, i, v) {
        const char *label = s(v, "label");
        gn_metadata_t md;
        gn_test_load_blob(&md, s(v, "metadata"));
        char err[256] = "";

        /* the signed extensions, in order */
        json_t *ids = json_object_get(v, "signedExtensions");
        cr_assert_eq(md.n_signed_exts, json_array_size(ids));
        for (uint32_t k = 0; k < md.n_signed_exts; k++)
            cr_assert_str_eq(md.signed_exts[k].identifier,
                             json_string_value(json_array_get(ids, k)));

        gn_scale_writer_t call;
        gn_scale_writer_init(&call, NULL);
        cr_assert_eq(gn_extrinsic_call_json(&md, s(v, "pallet"), s(v, "call"),
                                            json_object_get(v, "args"), &call, err, sizeof(err)),
                     0, "%s: %s", label, err);
        gn_test_assert_hex(call.buf, call.len, s(v, "callData"), label);

        gn_tx_params_t p = {0};
        json_t *era = json_object_get(v, "era");
        p.spec_version = (uint32_t)json_integer_value(json_object_get(v, "specVersion"));
        p.tx_version = (uint32_t)json_integer_value(json_object_get(v, "transactionVersion"));
        hex32(v, "genesisHash", p.genesis_hash);
        p.period = (uint64_t)json_integer_value(json_object_get(era, "period"));
        p.block_number = (uint64_t)json_integer_value(json_object_get(era, "blockNumber"));
        if (p.period)
            hex32(era, "blockHash", p.block_hash);
        p.nonce = (uint64_t)json_integer_value(json_object_get(v, "nonce"));
        p.tip = (gn_u128_t)json_integer_value(json_object_get(v, "tip"));

        uint8_t eb[2];
        size_t en = gn_extrinsic_era(p.period, p.block_number, eb);
        gn_test_assert_hex(eb, en, s(era, "hex"), "era");

        gn_scale_writer_t extra, add, payload, out;
        gn_scale_writer_init(&extra, NULL);
        gn_scale_writer_init(&add, NULL);
        gn_scale_writer_init(&payload, NULL);
        gn_scale_writer_init(&out, NULL);
        cr_assert_eq(gn_extrinsic_extensions(&md, &p, &extra, &add, err, sizeof(err)), 0, "%s",
                     err);
        gn_test_assert_hex(extra.buf, extra.len, s(v, "extra"), "extra");
        gn_test_assert_hex(add.buf, add.len, s(v, "additionalSigned"), "additionalSigned");

        size_t n;
        uint8_t *secret = gn_test_unhex(s(v, "signerSecret"), &n);
        uint8_t *rnd = gn_test_unhex(s(v, "random"), &n);
        gn_sr25519_keypair_t kp;
        gn_sr25519_from_mini(&kp, secret);
        gn_test_assert_hex(kp.pub, 32, s(v, "signer"), "signer");
        cr_assert_eq(gn_extrinsic_sign(&md, &kp, call.buf, call.len, &p, rnd, &out, &payload, err,
                                       sizeof(err)),
                     0, "%s", err);
        gn_test_assert_hex(payload.buf, payload.len, s(v, "signingPayload"), "signingPayload");
        /* the signature is reproduced exactly, given the vector's random bytes */
        gn_test_assert_hex(out.buf, out.len, s(v, "extrinsic"), label);

        /* and the extrinsic decodes back to its parts */
        gn_arena_t ar;
        gn_arena_init(&ar, NULL, 0);
        gn_extrinsic_t x;
        gn_scale_reader_t r;
        gn_scale_reader_init(&r, out.buf, out.len);
        cr_assert_eq(gn_extrinsic_decode(&md, &r, &ar, &x), 0, "%s", label);
        cr_assert_eq(gn_scale_reader_finish(&r), 0);
        cr_assert(x.is_signed && x.version == 4);
        cr_assert_str_eq(x.pallet->name, s(v, "pallet"));
        cr_assert_str_eq(x.call->name, s(v, "call"));
        cr_assert_eq(x.n_extra, md.n_signed_exts);
        gn_scale_writer_t re;
        gn_scale_writer_init(&re, NULL);
        cr_assert_eq(gn_value_encode(&md, &x.call_value, &re), 0);
        gn_test_assert_hex(re.buf, re.len, s(v, "callData"), "decoded call re-encodes");
        gn_scale_writer_free(&re);

        gn_arena_free(&ar);
        free(secret), free(rnd);
        gn_scale_writer_free(&call), gn_scale_writer_free(&extra), gn_scale_writer_free(&add);
        gn_scale_writer_free(&payload), gn_scale_writer_free(&out);
        gn_metadata_free(&md);
    }
    cr_log_info("extrinsics.json: %zu signed extrinsics reproduced byte for byte",
                json_array_size(vecs));
    json_decref(root);
}

Test(extrinsic, era_rules)
{
    uint8_t e[2];
    cr_assert_eq(gn_extrinsic_era(0, 123, e), 1);
    cr_assert_eq(e[0], 0);
    /* period rounds up to a power of two, at least 4 */
    cr_assert_eq(gn_extrinsic_era(64, 4898328, e), 2);
    cr_assert(e[0] == 0x85 && e[1] == 0x01);
    uint8_t f[2];
    gn_extrinsic_era(50, 4898328, f);
    cr_assert(f[0] == e[0] && f[1] == e[1], "50 rounds to 64");
    gn_extrinsic_era(1, 7, e);
    cr_assert_eq(e[0] & 0x0f, 1, "period 4: trailing zeros 2, minus 1");
    /* long periods quantise the phase */
    gn_extrinsic_era(65536, 123456789, e);
    cr_assert_eq(e[0] & 0x0f, 15);
}

Test(extrinsic, call_errors)
{
    gn_metadata_t md;
    gn_test_load_blob(&md, "subtensor-mainnet-spec219-v14.hex");
    gn_scale_writer_t w;
    gn_scale_writer_init(&w, NULL);
    char err[256];
    cr_assert_eq(gn_extrinsic_call_json(&md, "Nope", "x", NULL, &w, err, sizeof(err)), GN_ENOENT);
    cr_assert_str_eq(err, "no pallet Nope");
    cr_assert_eq(gn_extrinsic_call_json(&md, "System", "nope", NULL, &w, err, sizeof(err)),
                 GN_ENOENT);
    json_t *args = json_pack("{s:i}", "netuid", 1);
    cr_assert_eq(
        gn_extrinsic_call_json(&md, "SubtensorModule", "set_weights", args, &w, err, sizeof(err)),
        GN_EINVAL);
    cr_assert_str_eq(err, "set_weights: missing argument 'dests'");
    json_decref(args);
    args = json_pack("{s:i,s:[i],s:[i],s:i}", "netuid", 1, "dests", 0, "weights", 70000,
                     "version_key", 0);
    cr_assert_neq(
        gn_extrinsic_call_json(&md, "SubtensorModule", "set_weights", args, &w, err, sizeof(err)),
        0);
    cr_assert_str_eq(err, "set_weights argument 'weights': [0]: integer out of range for u16");
    json_decref(args);
    gn_scale_writer_free(&w);
    gn_metadata_free(&md);
}

Test(extrinsic, decode_rejects_garbage)
{
    gn_metadata_t md;
    gn_test_load_blob(&md, "subtensor-mainnet-spec219-v14.hex");
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 0);
    gn_extrinsic_t x;
    gn_scale_reader_t r;
    const uint8_t v5[] = {0x04, 0x05, 0x00, 0x00, 0x00};
    gn_scale_reader_init(&r, v5, sizeof(v5));
    cr_assert_eq(gn_extrinsic_decode(&md, &r, &ar, &x), GN_EUNSUPPORTED);
    cr_assert_eq(r.pos, 0);
    const uint8_t short_body[] = {0x10, 0x84, 0x00};
    gn_scale_reader_init(&r, short_body, sizeof(short_body));
    cr_assert_eq(gn_extrinsic_decode(&md, &r, &ar, &x), GN_ETRUNC);
    /* an unsigned System.remark decodes */
    const uint8_t remark[] = {0x14, 0x04, 0x00, 0x00, 0x04, 0xaa};
    gn_scale_reader_init(&r, remark, sizeof(remark));
    cr_assert_eq(gn_extrinsic_decode(&md, &r, &ar, &x), 0);
    cr_assert(!x.is_signed);
    cr_assert_str_eq(x.call->name, "remark");
    gn_arena_free(&ar);
    gn_metadata_free(&md);
}
