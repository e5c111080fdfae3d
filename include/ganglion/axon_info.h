/* On-chain axon addresses (spec §7): the ip integer ↔ text, and
 * version_as_int. Pure functions. */
#ifndef GANGLION_AXON_INFO_H
#define GANGLION_AXON_INFO_H

#include <stddef.h>
#include <stdint.h>

#include "ganglion/scale.h"

/* "203.0.113.7" → 3405803783, ip_type 4; an IPv6 text → its 128-bit
 * big-endian number, ip_type 6. GN_EINVAL for anything else. */
int gn_ip_from_text(const char *text, gn_u128_t *ip, uint8_t *ip_type);
/* The text of an address: by ip_type (4 or 6), or by magnitude when it is
 * neither (as the SDK's netaddr does); IPv6 in RFC 5952 form. */
int gn_ip_to_text(gn_u128_t ip, uint8_t ip_type, char *out, size_t cap);
/* "10.2.0" → 10002000 (pre-release suffixes dropped); GN_EINVAL for
 * text that is not X.Y.Z with parts below 1000. */
int gn_version_as_int(const char *version, uint32_t *out);

#endif
