/* The Keccak-f[1600] permutation (FIPS 202), shared by SHA3-256 and the
 * STROBE-128 duplex that Merlin transcripts run on. */
#ifndef GANGLION_KECCAK_H
#define GANGLION_KECCAK_H

#include <stdint.h>

/* Permute a 200-byte state held as bytes (lanes little endian). */
void gn_keccak_f1600(uint8_t state[200]);

#endif
