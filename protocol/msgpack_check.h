/* Internal (protocol/ and actors/): a walk over msgpack bytes before
 * msgpack-c unpacks them.
 *
 * msgpack-c allocates a container's elements from its header (24 bytes
 * per object), so a 5-byte input announcing 2^32 - 1 elements would make
 * it ask for ~100 GB before it notices the bytes are missing. Every
 * msgpack object takes at least one byte, so an input that passes this
 * walk holds at most len objects: msgpack-c then allocates O(len). */
#ifndef GANGLION_MSGPACK_CHECK_H
#define GANGLION_MSGPACK_CHECK_H

#include <stddef.h>
#include <stdint.h>

/* The deepest max_depth the walk follows (larger values are clamped). */
#define GN_MSGPACK_CHECK_MAX_DEPTH 64

/* Exactly one msgpack value spanning p[0..len), its objects nested at most
 * max_depth levels below it (the value itself is level 0, a container's
 * elements one level below the container), and no container announcing
 * more elements than there are bytes left. Markers and lengths only: what
 * the bytes mean (UTF-8, ext types, key types) is the decoder's business.
 * 0; GN_ETRUNC: the bytes end inside the value, or a container announces
 * more than the rest can hold; GN_ETRAILING: bytes after the value;
 * GN_ERANGE: nested too deep; GN_EINVAL: the marker 0xc1 (never used),
 * or p NULL with len > 0. */
int gn_msgpack_check(const uint8_t *p, size_t len, unsigned max_depth);

#endif
