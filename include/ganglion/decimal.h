/* Decimal text <-> little-endian integers of any width (u8 ... u256 and
 * beyond), two's complement for signed values. Used for JSON, where integers
 * above 2^53 travel as decimal strings, and for the CLI. */
#ifndef GANGLION_DECIMAL_H
#define GANGLION_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ganglion/scale.h"

/* Longest decimal text of an n-byte integer, with sign and NUL. */
#define GN_DEC_MAX(nbytes) ((nbytes)*241 / 100 + 3)

/* Write the n-byte little-endian integer `le` as decimal (NUL-terminated).
 * n is at most 64. GN_ENOSPC if `cap` is too small. */
int gn_dec_from_le(const uint8_t *le, size_t n, bool is_signed, char *out, size_t cap);

/* Parse decimal `s` (len chars: optional '-' when signed, then digits, no
 * spaces, no leading '+') into n little-endian bytes. GN_EDECIMAL for bad
 * text, GN_ERANGE if it does not fit. */
int gn_dec_to_le(const char *s, size_t len, bool is_signed, uint8_t *le, size_t n);

int gn_dec_from_u128(gn_u128_t v, char *out, size_t cap);
int gn_dec_to_u128(const char *s, size_t len, gn_u128_t *v);

#endif
