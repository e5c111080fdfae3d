#include "ganglion/extrinsic.h"
#include "ganglion/decimal.h"
#include "ganglion/error.h"
#include "ganglion/hashing.h"
#include "ganglion/hex.h"

#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Write the message into err (when given) and return rc. */
static int fail(char *err, size_t cap, int rc, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return rc;
}

int gn_extrinsic_call_json(const gn_metadata_t *md, const char *pallet, const char *call,
                           const json_t *args, gn_scale_writer_t *w, char *err, size_t cap)
{
    const gn_pallet_t *p;
    const gn_variant_t *v = gn_metadata_call(md, pallet, call, &p);
    if (!p)
        return fail(err, cap, GN_ENOENT, "no pallet %s", pallet);
    if (!v)
        return fail(err, cap, GN_ENOENT, "pallet %s has no call %s", pallet, call);
    if (args && !json_is_object(args) && !json_is_null(args))
        return fail(err, cap, GN_EINVAL, "%s.%s: arguments must be a JSON object", pallet, call);
    gn_scale_write_u8(w, p->index);
    gn_scale_write_u8(w, v->index);
    size_t given = args && json_is_object(args) ? json_object_size(args) : 0, used = 0;
    for (uint32_t i = 0; i < v->n_fields; i++) {
        const char *name = v->fields[i].name ? v->fields[i].name : "";
        const json_t *a = args ? json_object_get(args, name) : NULL;
        if (!a)
            return fail(err, cap, GN_EINVAL, "%s: missing argument '%s'", call, name);
        used++;
        char sub[200];
        int rc = gn_value_encode_json(md, v->fields[i].type, a, w, sub, sizeof(sub));
        if (rc < 0) {
            if (err && cap)
                snprintf(err, cap, "%s argument '%s': %s", call, name, sub);
            return rc;
        }
    }
    if (used != given)
        return fail(err, cap, GN_EINVAL, "%s.%s: unknown argument(s) given", pallet, call);
    return gn_scale_writer_error(w);
}

size_t gn_extrinsic_era(uint64_t period, uint64_t block, uint8_t out[2])
{
    if (period == 0) {
        out[0] = 0;
        return 1;
    }
    uint64_t p = 4;
    while (p < period && p < 65536)
        p <<= 1;
    uint64_t phase = block % p, qf = p >> 12 ? p >> 12 : 1;
    uint64_t qphase = phase / qf * qf;
    unsigned tz = 0;
    while (!((p >> tz) & 1))
        tz++;
    unsigned low = tz - 1 < 1 ? 1 : tz - 1 > 15 ? 15 : tz - 1;
    uint16_t enc = (uint16_t)(low | (qphase / qf) << 4);
    out[0] = (uint8_t)enc;
    out[1] = (uint8_t)(enc >> 8);
    return 2;
}

/* A type that encodes to no bytes: () or structs/tuples of such. */
static bool empty_type(const gn_metadata_t *md, uint32_t id, int depth)
{
    const gn_type_t *t = gn_metadata_type(md, id);
    if (!t || depth > 8)
        return false;
    if (t->kind == GN_TYPE_TUPLE) {
        for (uint32_t i = 0; i < t->def.tuple.n; i++)
            if (!empty_type(md, t->def.tuple.types[i], depth + 1))
                return false;
        return true;
    }
    if (t->kind == GN_TYPE_COMPOSITE) {
        for (uint32_t i = 0; i < t->def.composite.n; i++)
            if (!empty_type(md, t->def.composite.fields[i].type, depth + 1))
                return false;
        return true;
    }
    if (t->kind == GN_TYPE_ARRAY)
        return t->def.array.len == 0;
    return false;
}

static json_t *hex32(const uint8_t *p)
{
    char s[67];
    gn_hex_encode(p, 32, 1, s, sizeof(s));
    return json_string(s);
}

static json_t *u128_json(gn_u128_t v)
{
    char s[48];
    gn_dec_from_u128(v, s, sizeof(s));
    return json_string(s);
}

/* The JSON values of a known extension; NULLs for unknown identifiers. */
static void ext_values(const char *id, const gn_tx_params_t *p, json_t **extra, json_t **add)
{
    *extra = *add = NULL;
    if (!strcmp(id, "CheckSpecVersion")) {
        *add = json_integer(p->spec_version);
    } else if (!strcmp(id, "CheckTxVersion")) {
        *add = json_integer(p->tx_version);
    } else if (!strcmp(id, "CheckGenesis")) {
        *add = hex32(p->genesis_hash);
    } else if (!strcmp(id, "CheckMortality") || !strcmp(id, "CheckEra")) {
        uint8_t era[2];
        if (gn_extrinsic_era(p->period, p->block_number, era) == 1) {
            *extra = json_string("Immortal");
            *add = hex32(p->genesis_hash);
        } else {
            char name[16];
            snprintf(name, sizeof(name), "Mortal%u", era[0]);
            *extra = json_pack("{s:i}", name, era[1]);
            *add = hex32(p->block_hash);
        }
    } else if (!strcmp(id, "CheckNonce")) {
        *extra = json_integer((json_int_t)p->nonce);
    } else if (!strcmp(id, "ChargeTransactionPayment")) {
        *extra = u128_json(p->tip);
    } else if (!strcmp(id, "ChargeAssetTxPayment")) {
        *extra = json_pack("{s:o,s:n}", "tip", u128_json(p->tip), "asset_id");
    } else if (!strcmp(id, "CheckMetadataHash")) {
        *extra = json_pack("{s:s}", "mode", p->metadata_hash ? "Enabled" : "Disabled");
        *add = p->metadata_hash ? hex32(p->metadata_hash) : json_null();
    }
}

int gn_extrinsic_extensions(const gn_metadata_t *md, const gn_tx_params_t *p,
                            gn_scale_writer_t *extra, gn_scale_writer_t *additional, char *err,
                            size_t cap)
{
    for (uint32_t i = 0; i < md->n_signed_exts; i++) {
        const gn_signed_ext_t *x = &md->signed_exts[i];
        json_t *e, *a;
        ext_values(x->identifier, p, &e, &a);
        int rc = 0;
        char sub[200] = "";
        const struct {
            json_t *v;
            uint32_t type;
            gn_scale_writer_t *w;
        } parts[2] = {{e, x->type, extra}, {a, x->additional_type, additional}};
        for (int k = 0; k < 2 && rc == 0; k++) {
            if (parts[k].v)
                rc = gn_value_encode_json(md, parts[k].type, parts[k].v, parts[k].w, sub,
                                          sizeof(sub));
            else if (!empty_type(md, parts[k].type, 0))
                rc = fail(err, cap, GN_EUNSUPPORTED,
                          "signed extension %s carries %s data ganglion does not know how to fill",
                          x->identifier, k ? "additional-signed" : "extra");
        }
        json_decref(e);
        json_decref(a);
        if (rc < 0) {
            if (sub[0] && err && cap)
                snprintf(err, cap, "signed extension %s: %s", x->identifier, sub);
            return rc;
        }
    }
    return 0;
}

int gn_extrinsic_sign(const gn_metadata_t *md, const gn_sr25519_keypair_t *kp, const uint8_t *call,
                      size_t call_len, const gn_tx_params_t *p, const uint8_t random[32],
                      gn_scale_writer_t *out, gn_scale_writer_t *payload, char *err, size_t cap)
{
    gn_scale_writer_t extra, add, pl, body;
    uint8_t sig[64], hash[32];
    int rc;
    if (!md->has_extrinsic_parts)
        return fail(err, cap, GN_EUNSUPPORTED,
                    "the metadata names no extrinsic address and signature types");
    gn_scale_writer_init(&extra, NULL);
    gn_scale_writer_init(&add, NULL);
    gn_scale_writer_init(&pl, NULL);
    gn_scale_writer_init(&body, NULL);
    if ((rc = gn_extrinsic_extensions(md, p, &extra, &add, err, cap)) < 0)
        goto done;
    gn_scale_write_bytes(&pl, call, call_len);
    gn_scale_write_bytes(&pl, extra.buf, extra.len);
    gn_scale_write_bytes(&pl, add.buf, add.len);
    if ((rc = gn_scale_writer_error(&pl)) < 0)
        goto done;
    if (payload)
        gn_scale_write_bytes(payload, pl.buf, pl.len);
    const uint8_t *to_sign = pl.buf;
    size_t sign_len = pl.len;
    if (pl.len > 256) {
        gn_blake2b_256(pl.buf, pl.len, hash);
        to_sign = hash;
        sign_len = 32;
    }
    if ((rc = gn_sr25519_sign(kp, to_sign, sign_len, random, sig)) < 0)
        goto done;

    /* 0x84: signed, version 4; then address, signature, extra, call */
    gn_scale_write_u8(&body, 0x80 | 4);
    char hex[131], sub[200] = "";
    gn_hex_encode(kp->pub, 32, 1, hex, sizeof(hex));
    json_t *addr = json_string(hex), *sj;
    const gn_type_t *at = gn_metadata_type(md, md->address_type);
    if (at && at->kind == GN_TYPE_VARIANT) /* MultiAddress */
        addr = json_pack("{s:o}", "Id", addr);
    rc = gn_value_encode_json(md, md->address_type, addr, &body, sub, sizeof(sub));
    json_decref(addr);
    if (rc == 0) {
        gn_hex_encode(sig, 64, 1, hex, sizeof(hex));
        sj = json_string(hex);
        const gn_type_t *st = gn_metadata_type(md, md->signature_type);
        if (st && st->kind == GN_TYPE_VARIANT) /* MultiSignature */
            sj = json_pack("{s:o}", "Sr25519", sj);
        rc = gn_value_encode_json(md, md->signature_type, sj, &body, sub, sizeof(sub));
        json_decref(sj);
    }
    if (rc < 0) {
        fail(err, cap, rc, "address/signature: %s", sub);
        goto done;
    }
    gn_scale_write_bytes(&body, extra.buf, extra.len);
    gn_scale_write_bytes(&body, call, call_len);
    if ((rc = gn_scale_writer_error(&body)) < 0)
        goto done;
    gn_scale_write_compact(out, body.len);
    gn_scale_write_bytes(out, body.buf, body.len);
    rc = gn_scale_writer_error(out);
done:
    sodium_memzero(sig, sizeof(sig));
    gn_scale_writer_free(&extra);
    gn_scale_writer_free(&add);
    gn_scale_writer_free(&pl);
    gn_scale_writer_free(&body);
    return rc;
}

int gn_extrinsic_decode(const gn_metadata_t *md, gn_scale_reader_t *r, gn_arena_t *ar,
                        gn_extrinsic_t *out)
{
    size_t start = r->pos;
    const uint8_t *body;
    size_t len;
    int rc;
    memset(out, 0, sizeof(*out));
    if ((rc = gn_scale_read_vec_u8(r, &body, &len)) < 0)
        return rc;
    gn_scale_reader_t b;
    gn_scale_reader_init(&b, body, len);
    uint8_t head;
    if ((rc = gn_scale_read_u8(&b, &head)) < 0)
        goto fail;
    out->version = head & 0x7f;
    out->is_signed = head & 0x80;
    out->bytes = body;
    out->len = len;
    if (out->version != 4) {
        rc = GN_EUNSUPPORTED;
        goto fail;
    }
    if (out->is_signed) {
        if (!md->has_extrinsic_parts) {
            rc = GN_EUNSUPPORTED;
            goto fail;
        }
        if ((rc = gn_value_decode(md, md->address_type, &b, ar, &out->address)) < 0 ||
            (rc = gn_value_decode(md, md->signature_type, &b, ar, &out->signature)) < 0)
            goto fail;
        out->n_extra = md->n_signed_exts;
        out->extra = gn_arena_calloc(ar, out->n_extra ? out->n_extra : 1, sizeof(gn_value_t));
        if (!out->extra) {
            rc = GN_ENOMEM;
            goto fail;
        }
        for (uint32_t i = 0; i < out->n_extra; i++)
            if ((rc = gn_value_decode(md, md->signed_exts[i].type, &b, ar, &out->extra[i])) < 0)
                goto fail;
    }
    if ((rc = gn_value_decode(md, md->call_type, &b, ar, &out->call_value)) < 0)
        goto fail;
    if ((rc = gn_scale_reader_finish(&b)) < 0)
        goto fail;
    /* RuntimeCall: the pallet's variant, holding the pallet's call enum */
    if (out->call_value.kind == GN_VALUE_VARIANT) {
        out->pallet = md->by_pallet_index[out->call_value.u.var.variant->index];
        if (out->call_value.u.var.n == 1 &&
            out->call_value.u.var.fields[0].kind == GN_VALUE_VARIANT)
            out->call = out->call_value.u.var.fields[0].u.var.variant;
    }
    return 0;
fail:
    r->pos = start;
    return rc;
}
