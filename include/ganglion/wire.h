/* msgpack for what crosses a process boundary (external synapse workers,
 * persisted state): JSON values to and from msgpack (msgpack-c), and
 * length-prefixed frames for stream sockets.
 *
 * Mapping: null, bool, integers (int64/uint64), floats, strings, arrays
 * and maps (string keys) both ways; msgpack bin becomes a "0x…" hex string;
 * integer map keys become decimal strings; ext types are refused.
 * Frame: a 4-byte big-endian length, then that many bytes of msgpack. */
#ifndef GANGLION_WIRE_H
#define GANGLION_WIRE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* msgpack-c's unpacker stops at 32 levels (MSGPACK_EMBED_STACK_SIZE): we
 * write nothing deeper than we can read back. */
#define GN_WIRE_MAX_DEPTH    31
#define GN_WIRE_FRAME_HEADER 4

/* Append the msgpack of j to a growable buffer (*buf, *len, *cap; start
 * with NULL, 0, 0; free(*buf) when done). */
int gn_wire_from_json(const json_t *j, uint8_t **buf, size_t *len, size_t *cap);
/* Decode exactly one msgpack value (GN_ETRAILING for extra bytes). */
int gn_wire_to_json(const uint8_t *p, size_t n, json_t **out);

/* Append a frame holding the msgpack of j. */
int gn_wire_frame(const json_t *j, uint8_t **buf, size_t *len, size_t *cap);
/* Look at the front of a stream buffer: GN_ETRUNC while the frame is
 * incomplete, GN_ERANGE when it announces more than max bytes; else the
 * payload view and the bytes the frame takes. */
int gn_wire_frame_peek(const uint8_t *p, size_t n, size_t max, const uint8_t **payload,
                       size_t *payload_len, size_t *frame_len);

#endif
