/* Storage keys: twox128(pallet prefix) ‖ twox128(item) ‖ hasher(SCALE(key))
 * for each key of a map, with the hashers and key types the metadata
 * declares. Prefixes (fewer keys than the map has) address a whole
 * sub-tree for iteration; keys hashed transparently (Blake2_128Concat,
 * Twox64Concat, Identity) can be read back into values. */
#ifndef GANGLION_STORAGE_KEY_H
#define GANGLION_STORAGE_KEY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/metadata.h"
#include "ganglion/scale.h"
#include "ganglion/value.h"

/* The type of the i-th key of a map entry (its key_type, or the i-th
 * element of the key tuple when the map has several hashers). */
int gn_storage_key_type(const gn_metadata_t *md, const gn_storage_entry_t *e, uint32_t i,
                        uint32_t *type);

/* Append the key for `n` of the entry's keys (n may be fewer than the map
 * has: a prefix; 0 gives the entry's own 32-byte prefix). */
int gn_storage_key(const gn_metadata_t *md, const gn_storage_entry_t *e, const gn_value_t *keys,
                   uint32_t n, gn_scale_writer_t *w);
/* The same from a JSON array of keys (null or [] for the prefix); err says
 * which key is wrong. */
int gn_storage_key_json(const gn_metadata_t *md, const gn_storage_entry_t *e, const json_t *keys,
                        gn_scale_writer_t *w, char *err, size_t cap);

/* Read the keys back from a full storage key of this entry. Keys behind a
 * hasher that is not transparent come back as GN_VALUE_BYTES of the hash
 * (type id UINT32_MAX). `out` has room for e->n_hashers values. */
int gn_storage_key_decode(const gn_metadata_t *md, const gn_storage_entry_t *e, const uint8_t *key,
                          size_t len, gn_arena_t *ar, gn_value_t *out);

#endif
