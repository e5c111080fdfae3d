#include "ganglion/storage_key.h"
#include "ganglion/error.h"
#include "ganglion/hashing.h"

#include <stdio.h>
#include <string.h>

int gn_storage_key_type(const gn_metadata_t *md, const gn_storage_entry_t *e, uint32_t i,
                        uint32_t *type)
{
    if (!e->is_map || i >= e->n_hashers)
        return GN_EINVAL;
    if (e->n_hashers == 1) {
        *type = e->key_type;
        return 0;
    }
    const gn_type_t *t = gn_metadata_type(md, e->key_type);
    if (!t || t->kind != GN_TYPE_TUPLE || t->def.tuple.n != e->n_hashers)
        return GN_EINVAL;
    *type = t->def.tuple.types[i];
    return 0;
}

static int write_prefix(const gn_storage_entry_t *e, gn_scale_writer_t *w)
{
    uint8_t *at = gn_scale_writer_extend(w, 32);
    if (!at)
        return gn_scale_writer_error(w);
    gn_twox128((const uint8_t *)e->pallet->storage_prefix, strlen(e->pallet->storage_prefix), at);
    gn_twox128((const uint8_t *)e->name, strlen(e->name), at + 16);
    return 0;
}

/* Hash the SCALE bytes of one key onto the writer. */
static int write_hashed(gn_hasher_t h, const uint8_t *k, size_t n, gn_scale_writer_t *w)
{
    size_t len = gn_hasher_out_len(h, n);
    uint8_t *at = gn_scale_writer_extend(w, len);
    if (!at)
        return gn_scale_writer_error(w);
    return gn_hasher_apply(h, k, n, at, len, NULL);
}

int gn_storage_key(const gn_metadata_t *md, const gn_storage_entry_t *e, const gn_value_t *keys,
                   uint32_t n, gn_scale_writer_t *w)
{
    if (n > (e->is_map ? e->n_hashers : 0))
        return GN_EINVAL;
    int rc = write_prefix(e, w);
    gn_scale_writer_t kw;
    gn_scale_writer_init(&kw, NULL);
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        uint32_t type;
        gn_scale_writer_reset(&kw);
        if ((rc = gn_storage_key_type(md, e, i, &type)) < 0 || keys[i].type != type)
            rc = rc < 0 ? rc : GN_EINVAL;
        else if ((rc = gn_value_encode(md, &keys[i], &kw)) == 0)
            rc = write_hashed(e->hashers[i], kw.buf, kw.len, w);
    }
    gn_scale_writer_free(&kw);
    return rc;
}

int gn_storage_key_json(const gn_metadata_t *md, const gn_storage_entry_t *e, const json_t *keys,
                        gn_scale_writer_t *w, char *err, size_t cap)
{
    uint32_t nh = e->is_map ? e->n_hashers : 0;
    if (keys && !json_is_null(keys) && !json_is_array(keys)) {
        if (err && cap)
            snprintf(err, cap, "keys must be a JSON array");
        return GN_EINVAL;
    }
    size_t n = keys ? json_array_size(keys) : 0;
    if (n > nh) {
        if (err && cap)
            snprintf(err, cap, "%s.%s takes %u keys, %zu given", e->pallet->name, e->name, nh, n);
        return GN_EINVAL;
    }
    gn_arena_t ar;
    gn_arena_init(&ar, NULL, 4096);
    gn_value_t *vals = gn_arena_calloc(&ar, n ? n : 1, sizeof(gn_value_t));
    int rc = vals ? 0 : GN_ENOMEM;
    for (uint32_t i = 0; rc == 0 && i < n; i++) {
        uint32_t type;
        char sub[200] = "";
        if ((rc = gn_storage_key_type(md, e, i, &type)) < 0)
            break;
        rc = gn_value_from_json(md, type, json_array_get(keys, i), &ar, &vals[i], sub, sizeof(sub));
        if (rc < 0 && err && cap)
            snprintf(err, cap, "key %u: %s", i, sub);
    }
    if (rc == 0)
        rc = gn_storage_key(md, e, vals, (uint32_t)n, w);
    gn_arena_free(&ar);
    return rc;
}

int gn_storage_key_decode(const gn_metadata_t *md, const gn_storage_entry_t *e, const uint8_t *key,
                          size_t len, gn_arena_t *ar, gn_value_t *out)
{
    if (!e->is_map || len < 32)
        return GN_EINVAL;
    gn_scale_writer_t pw;
    uint8_t prefix[32];
    gn_scale_writer_init_fixed(&pw, prefix, sizeof(prefix));
    write_prefix(e, &pw);
    if (memcmp(prefix, key, 32) != 0)
        return GN_EINVAL; /* not a key of this entry */
    gn_scale_reader_t r;
    gn_scale_reader_init(&r, key + 32, len - 32);
    for (uint32_t i = 0; i < e->n_hashers; i++) {
        uint32_t type;
        int rc = gn_storage_key_type(md, e, i, &type);
        if (rc < 0)
            return rc;
        int pl = gn_hasher_prefix_len(e->hashers[i]);
        const uint8_t *h;
        if (pl < 0) { /* opaque: keep the hash itself */
            size_t hl = gn_hasher_out_len(e->hashers[i], 0);
            if ((rc = gn_scale_read_bytes(&r, hl, &h)) < 0)
                return rc;
            memset(&out[i], 0, sizeof(out[i]));
            out[i].kind = GN_VALUE_BYTES;
            out[i].type = UINT32_MAX;
            out[i].u.bytes.p = h;
            out[i].u.bytes.n = hl;
            continue;
        }
        if ((rc = gn_scale_read_bytes(&r, (size_t)pl, &h)) < 0)
            return rc;
        size_t start = r.pos;
        if ((rc = gn_value_decode(md, type, &r, ar, &out[i])) < 0)
            return rc;
        /* the hash in front must be the hash of what follows */
        if (pl > 0) {
            uint8_t hh[16];
            if (e->hashers[i] == GN_HASHER_TWOX64_CONCAT)
                gn_twox64(r.p + start, r.pos - start, hh);
            else
                gn_blake2b_128(r.p + start, r.pos - start, hh);
            if (memcmp(hh, h, (size_t)pl) != 0)
                return GN_EINVAL;
        }
    }
    return gn_scale_reader_finish(&r);
}
