/* Base58 with the Bitcoin alphabet (the one SS58 uses). Quadratic in the
 * input length: meant for short strings such as addresses. */
#ifndef GANGLION_BASE58_H
#define GANGLION_BASE58_H

#include <stddef.h>
#include <stdint.h>

/* NUL-terminated text of `len` bytes; GN_ENOSPC if cap is too small (a safe
 * size is len * 138 / 100 + 2). */
int gn_base58_encode(const uint8_t *in, size_t len, char *out, size_t cap);

/* Decode `len` characters; GN_EBASE58 for a character outside the alphabet
 * (its offset in *bad_at when bad_at is not NULL), GN_ENOSPC if the value
 * needs more than cap bytes. */
int gn_base58_decode(const char *in, size_t len, uint8_t *out, size_t cap, size_t *out_len,
                     size_t *bad_at);

#endif
