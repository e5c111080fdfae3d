/* Strict hex encoding and decoding.
 *
 * Decoding accepts an optional "0x"/"0X" prefix and both letter cases; an odd
 * number of digits or any other character is an error. Nothing is written to
 * the output on error beyond the bytes already decoded. */
#ifndef GANGLION_HEX_H
#define GANGLION_HEX_H

#include <stddef.h>
#include <stdint.h>

/* Bytes that decoding `hex` (hexlen chars, prefix allowed) yields, or a
 * negative error if the length is odd. Characters are not checked here. */
int gn_hex_decoded_len(const char *hex, size_t hexlen, size_t *out_len);

/* Decode `hex` into `out` (capacity `cap`), writing the byte count to
 * *out_len. GN_EHEXLEN, GN_EHEXCHAR, GN_ENOSPC. */
int gn_hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t cap, size_t *out_len);

/* Decode exactly `n` bytes: any other decoded length is GN_EINVAL. */
int gn_hex_decode_exact(const char *hex, size_t hexlen, uint8_t *out, size_t n);

/* Encode `len` bytes as lowercase hex, with "0x" when `prefix` is non-zero,
 * NUL-terminated. `cap` must be at least 2*len + 1 (+2 with the prefix). */
int gn_hex_encode(const uint8_t *in, size_t len, int prefix, char *out, size_t cap);

/* Characters gn_hex_encode writes, without the terminating NUL. */
static inline size_t gn_hex_encoded_len(size_t len, int prefix)
{
    return 2 * len + (prefix ? 2 : 0);
}

#endif
