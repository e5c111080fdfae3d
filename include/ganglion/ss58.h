/* SS58 addresses: base58(prefix ‖ payload ‖ checksum), where the checksum is
 * the first bytes of blake2b-512("SS58PRE" ‖ prefix ‖ payload): 2 bytes for
 * 32/33-byte payloads (account ids, public keys), 1 byte for the short
 * payloads of 1, 2, 4 and 8 bytes (account indices).
 *
 * Network prefixes (formats) 0..63 take one byte; 64..16383 take two.
 * Formats 46 and 47 are reserved and refused both ways. Bittensor uses 42. */
#ifndef GANGLION_SS58_H
#define GANGLION_SS58_H

#include <stddef.h>
#include <stdint.h>

#define GN_SS58_BITTENSOR  42
#define GN_SS58_MAX_FORMAT 16383
/* Large enough for any address of any valid payload, with the NUL. */
#define GN_SS58_ADDR_MAX 64

/* GN_ERANGE (format > 16383), GN_ESS58RESERVED (46, 47), GN_ESS58LEN (payload
 * length not 1, 2, 4, 8, 32 or 33), GN_ENOSPC. */
int gn_ss58_encode(const uint8_t *payload, size_t len, uint16_t format, char *out, size_t cap);

/* GN_EBASE58 (bad character), GN_ESS58LEN (too short, too long or a length
 * that is no payload plus checksum), GN_ESS58PREFIX (a first byte >= 128),
 * GN_ESS58CHECKSUM, GN_ESS58RESERVED, GN_ENOSPC (payload > cap). */
int gn_ss58_decode(const char *addr, size_t addrlen, uint8_t *payload, size_t cap, size_t *len,
                   uint16_t *format);

/* Decode an address that must carry a 32-byte account id (GN_ESS58LEN
 * otherwise). `format` may be NULL. */
int gn_ss58_decode_account(const char *addr, size_t addrlen, uint8_t account[32], uint16_t *format);

#endif
